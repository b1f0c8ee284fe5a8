/*
 * test_tcp_rack.c - RACK-TLP (RFC 8985, stack/tcp_rack.c) on the sending side, against a scripted
 * peer: the stack at 198.18.0.2 on one end of a pair wire, the test the peer 198.18.0.1 building its
 * ACKs and SACK blocks with tcp_seg.h and reading what the stack sends.
 *
 * Each test: a connection ESTABLISHED through a real passive open where the peer offered MSS 1460
 * and SACK-permitted (no timestamps: the RTT comes from the handshake, 10 ms, so SRTT is 10 ms and
 * the RTO the 200 ms floor), segments out, the peer's ACKs at chosen virtual times, and the exact
 * segments expected from RFC 8985's rules, with the time they go and the counters after.
 */
#include <string.h>

#include "core.h"
#include "stack_helper.h"
#include "tcp.h"
#include "tcp_seg.h"
#include "ustack/proto.h"

#define MS (US_NSEC_PER_MSEC)
#define US (US_NSEC_PER_USEC)
#define SMSS 1460u
#define LPORT 80
#define RPORT 40000
#define PEER_ISN 5000000u
#define RTT (10 * MS) /* the handshake's round trip */

struct rt {
	struct th h;
	struct us_tcp *l, *c;
	struct tcp_sock *tp;
	uint32_t una;  /* the stack's first data sequence number */
	uint32_t rcv;  /* the peer's next sequence number */
	uint64_t t0;   /* the clock when the connection was ready */
};

static struct rt R;
static uint8_t data[64 * SMSS];

/* Segment i (from 1) of the stack's stream starts here. */
static uint32_t seg(uint32_t i)
{
	return R.una + (i - 1) * SMSS;
}

static void peer_seg(struct tcp_seg *s)
{
	uint8_t f[2048];

	s->sport = RPORT;
	s->dport = LPORT;
	th_send(&R.h, f, tcp_seg_frame(f, s));
}

/* The peer's ACK of everything below `ack`, with one SACK block from segment `from` up to segment
 * `to` (not included) when to > from. */
static void peer_sack(uint32_t ack, uint32_t from, uint32_t to)
{
	struct tcp_seg s = { .seq = R.rcv, .ack = ack, .flags = TCPF_ACK, .win = 65535 };

	if (to > from) {
		s.o.nsack = 1;
		s.o.sack[0][0] = seg(from);
		s.o.sack[0][1] = seg(to);
	}
	peer_seg(&s);
}

static void peer_ack(uint32_t ack)
{
	peer_sack(ack, 0, 0);
}

/* Clock to t0 + at (it only moves forward), timers firing on the way. */
static void at(uint64_t at_ns)
{
	uint64_t now = us_clock_now(&R.h.clock), when = R.t0 + at_ns;

	ck_assert_uint_ge(when, now);
	if (when > now)
		th_advance(&R.h, when - now);
}

static void expect_seg_at(uint32_t seq, uint32_t len, int line)
{
	struct tcp_pkt p;

	ck_assert_msg(tcp_pkt_next(&R.h, &p), "line %d: nothing sent, want seq %u len %u", line, seq, len);
	ck_assert_msg(p.seq == seq && p.len == len && (p.flags & TCPF_ACK),
		      "line %d: got seq %u len %u flags %#x, want seq %u len %u", line, p.seq, p.len,
		      p.flags, seq, len);
}

static void expect_none_at(int line)
{
	struct tcp_pkt p;

	if (tcp_pkt_next(&R.h, &p))
		ck_abort_msg("line %d: unexpected segment seq %u len %u flags %#x", line, p.seq, p.len, p.flags);
}

#define EXPECT_SEG(seq, len) expect_seg_at(seq, len, __LINE__)
#define NOTHING() expect_none_at(__LINE__)

/* ESTABLISHED, passive, the peer offering MSS 1460 and SACK-permitted when sackp; its third segment
 * RTT after the SYN-ACK. tcp_recovery as given (0: the default, RACK and TLP). */
static void rt_open(uint32_t recovery, bool sackp)
{
	struct tcp_seg syn = { .seq = PEER_ISN, .flags = TCPF_SYN, .win = 65535,
			       .o = { .mss = SMSS, .sackp = sackp } };
	struct tcp_seg ack = { .flags = TCPF_ACK, .win = 65535 };
	struct tcp_pkt sa;
	int err = 1;

	memset(&R, 0, sizeof(R));
	for (uint32_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + (i >> 9));
	th_setup(&R.h, true);
	if (recovery)
		R.h.st->cfg.tcp_recovery = recovery;
	R.l = us_tcp_open(R.h.st);
	ck_assert_int_eq(us_tcp_bind(R.l, 0, LPORT), 0);
	ck_assert_int_eq(us_tcp_listen(R.l, 4), 0);
	peer_seg(&syn);
	ck_assert(tcp_pkt_next(&R.h, &sa));
	ck_assert(sa.sackp == sackp);
	th_advance(&R.h, RTT);
	ack.seq = PEER_ISN + 1;
	ack.ack = sa.seq + 1;
	peer_seg(&ack);
	R.c = us_tcp_accept(R.l, &err);
	ck_assert_ptr_nonnull(R.c);
	R.tp = (struct tcp_sock *)R.c;
	ck_assert(R.tp->sack_ok == sackp);
	ck_assert_uint_eq(R.tp->srtt_us, 10000);
	ck_assert_uint_eq(R.tp->rto_us, 200000);
	R.una = sa.seq + 1;
	R.rcv = PEER_ISN + 1;
	R.t0 = us_clock_now(&R.h.clock);
	NOTHING();
}

static void rt_start(uint32_t recovery)
{
	rt_open(recovery, true);
}

static void rt_end(void)
{
	us_tcp_abort(R.c);
	us_tcp_close(R.l);
	th_drain(&R.h);
	ck_assert_uint_eq(R.h.st->tcp->count, 0);
	th_teardown(&R.h);
}

static void stack_send(uint32_t off, uint32_t n)
{
	ck_assert_int_eq(us_tcp_send(R.c, data + off, n), (int)n);
}

/* The stack is given n full segments to send; the first `sent` of them go at once, in order. */
static void send_segs_at(uint32_t n, uint32_t sent, int line)
{
	stack_send(0, n * SMSS);
	for (uint32_t i = 1; i <= sent; i++)
		expect_seg_at(seg(i), SMSS, line);
}

#define SEND_SEGS(n, sent) send_segs_at(n, sent, __LINE__)

/* A lost tail: four segments go at t0 and the peer ACKs 1-2 at t0 + 10 ms; 3 and 4 stay out (3
 * held for the peer's delayed ACK, RFC 1122 §4.2.3.2, or lost, 4 lost) and nothing goes. */
static void tail_of_two(void)
{
	SEND_SEGS(4, 4);
	NOTHING();
	at(RTT);
	peer_ack(seg(3));
	NOTHING();
}

/* Twelve segments to send, ten go at t0 (the initial window, RFC 6928). At t0 + 10 ms the peer
 * SACKs 2-4: segment 1 is lost and fast recovery resends it at once, alone (cwnd = ssthresh = 5
 * segments, pipe = 7). As the peer SACKs 5-7 and 8-10, pipe falls and the new segments 11 and 12
 * go (RFC 6675 rule 2). The retransmission of 1 is lost too, and at t0 + 20 ms the peer SACKs 11,
 * sent after it. */
static void lost_retransmission(void)
{
	SEND_SEGS(12, 10);
	NOTHING();
	at(RTT);
	peer_sack(seg(1), 2, 5);
	EXPECT_SEG(seg(1), SMSS);
	NOTHING();
	ck_assert(R.tp->flags & TF_IN_RECOVERY);
	ck_assert_uint_eq(R.tp->cwnd, 5 * SMSS);
	peer_sack(seg(1), 2, 8);
	EXPECT_SEG(seg(11), SMSS);
	NOTHING();
	peer_sack(seg(1), 2, 11);
	EXPECT_SEG(seg(12), SMSS);
	NOTHING();
	at(2 * RTT - 1);
	NOTHING();
	at(2 * RTT);
	peer_sack(seg(1), 2, 12);
}

/* Four segments at t0; the network delays segment 1, so the peer's first ACK (t0 + 10 ms) SACKs 2
 * only, and nothing goes. */
static void reordered_first(void)
{
	SEND_SEGS(4, 4);
	at(RTT);
	peer_sack(seg(1), 2, 3);
	NOTHING();
}

/* A lost retransmission, found without the RTO (lost_retransmission). When the peer SACKs 2-4,
 * segment 1 was sent before segment 4, which was delivered in RACK.rtt = 10 ms, and with DupThresh
 * segments SACKed and no reordering seen reo_wnd is 0 (§6.2 step 4), so 1 is lost (step 5). When
 * the peer SACKs 11 at t0 + 20 ms, sent after the retransmission of 1 and delivered in 10 ms, the
 * retransmission is lost (§6.2 step 5 - what RFC 6675 alone cannot see), so 1 goes a third time at
 * t0 + 20 ms, not at the RTO 200 ms after its second sending. */
START_TEST(test_rack_lost_retransmission)
{
	rt_start(0);
	lost_retransmission();
	EXPECT_SEG(seg(1), SMSS);
	NOTHING();
	/* the third copy arrives: everything is acknowledged and recovery ends */
	at(3 * RTT);
	peer_ack(seg(13));
	NOTHING();
	ck_assert(!(R.tp->flags & TF_IN_RECOVERY));
	ck_assert_int_eq(th_stat(&R.h, "Tcp", "RetransSegs"), 2);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPTimeouts"), 0);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPSackRecovery"), 1);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPLossProbes"), 0);
	rt_end();
}
END_TEST

/* The same with RACK off (RFC 6675 alone): the lost retransmission waits for the RTO, 200 ms after
 * the flight went (no ACK of new data restarted it, RFC 6298 §5.3): HighRxt is past segment 1, and
 * IsLost does not look at time. */
START_TEST(test_rack_off_lost_retransmission_waits_for_rto)
{
	rt_start(US_TCP_RECOVERY_ONLY);
	lost_retransmission();
	NOTHING();
	at(200 * MS - 1);
	NOTHING();
	at(200 * MS);
	EXPECT_SEG(seg(1), SMSS);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPTimeouts"), 1);
	rt_end();
}
END_TEST

/* A lost tail, repaired by a loss probe (§7): tail_of_two, the fourth segment lost, the ACK of the
 * third held. With two segments out the PTO is 2 * SRTT = 20 ms (§7.2), so at t0 + 30 ms - long
 * before the RTO at t0 + 210 ms - the probe goes: no new data to send, so the last segment, 4,
 * again (§7.3). The peer, now holding 3 and 4, ACKs both. That ACK reaches TLP.end_seq only; the
 * next one past it, with no D-SACK of the probe, says the probe repaired a loss, which gets fast
 * recovery's reduction (§7.4.2): ssthresh from the congestion control, cwnd down to it. */
START_TEST(test_tlp_repairs_tail_loss)
{
	uint32_t cwnd;

	rt_start(0);
	tail_of_two();
	at(RTT + 2 * RTT - 1);
	NOTHING();
	at(RTT + 2 * RTT);
	EXPECT_SEG(seg(4), SMSS);
	NOTHING();
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPLossProbes"), 1);
	ck_assert_int_eq(th_stat(&R.h, "Tcp", "RetransSegs"), 1);
	at(4 * RTT);
	peer_ack(seg(5));
	NOTHING();
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPLossProbeRecovery"), 0);
	cwnd = R.tp->cwnd;
	ck_assert_uint_eq(R.tp->ssthresh, UINT32_MAX); /* still slow start: no reduction yet */
	stack_send(4 * SMSS, SMSS);
	EXPECT_SEG(seg(5), SMSS);
	at(5 * RTT);
	peer_ack(seg(6));
	NOTHING();
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPLossProbeRecovery"), 1);
	ck_assert_uint_ne(R.tp->ssthresh, UINT32_MAX);
	ck_assert_uint_eq(R.tp->cwnd, R.tp->ssthresh);
	ck_assert_uint_lt(R.tp->cwnd, cwnd);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPTimeouts"), 0);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPSackRecovery"), 0);
	rt_end();
}
END_TEST

/* A probe of new data (§7.3): twelve segments to send, ten go at t0 (the initial window) and every
 * ACK of them is lost. At t0 + 2 * SRTT the probe goes: the first unsent segment, and the second
 * with it (a deviation from §7.3's one segment, so that a receiver that ACKs every second segment
 * answers at once; see tcp_rack.c), beyond cwnd; nothing is resent. The peer's ACK of all twelve
 * ends the episode without a reduction (§7.4.2: the probe was new data). */
START_TEST(test_tlp_new_data)
{
	rt_start(0);
	SEND_SEGS(12, 10);
	NOTHING();
	at(2 * RTT - 1);
	NOTHING();
	at(2 * RTT);
	EXPECT_SEG(seg(11), SMSS);
	EXPECT_SEG(seg(12), SMSS);
	NOTHING();
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPLossProbes"), 1);
	ck_assert_int_eq(th_stat(&R.h, "Tcp", "RetransSegs"), 0);
	at(3 * RTT);
	peer_ack(seg(13));
	NOTHING();
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPLossProbeRecovery"), 0);
	ck_assert_uint_eq(R.tp->ssthresh, UINT32_MAX);
	ck_assert(!(R.tp->rack_flags & TCP_RACK_TLP_OUT));
	rt_end();
}
END_TEST

/* In fast recovery the ACK of the retransmission is lost, and nothing else is out to bring one:
 * the probe goes at 2 * SRTT after the retransmission (armed in fast recovery too, unlike §7.2: see
 * tcp_rack.c), with the highest segment not SACKed - the retransmitted one - and the RTO is not
 * needed. */
START_TEST(test_tlp_in_recovery)
{
	rt_start(0);
	SEND_SEGS(10, 10);
	at(RTT);
	peer_sack(seg(1), 2, 11);
	EXPECT_SEG(seg(1), SMSS);
	NOTHING();
	ck_assert(R.tp->flags & TF_IN_RECOVERY);
	at(RTT + 2 * RTT - 1);
	NOTHING();
	at(RTT + 2 * RTT);
	EXPECT_SEG(seg(1), SMSS);
	NOTHING();
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPLossProbes"), 1);
	at(4 * RTT);
	peer_ack(seg(11));
	NOTHING();
	ck_assert(!(R.tp->flags & TF_IN_RECOVERY));
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPTimeouts"), 0);
	rt_end();
}
END_TEST

/* A probe that was not needed: the peer had the original, and its D-SACK of the probe (RFC 2883)
 * ends the episode with no reduction (§7.4.2). */
START_TEST(test_tlp_dsack_no_reduction)
{
	rt_start(0);
	tail_of_two();
	at(3 * RTT);
	EXPECT_SEG(seg(4), SMSS); /* the probe */
	peer_ack(seg(5)); /* 3 and 4 were there: the delayed ACK, late */
	peer_sack(seg(5), 4, 5); /* and the probe, a duplicate */
	NOTHING();
	stack_send(4 * SMSS, SMSS);
	EXPECT_SEG(seg(5), SMSS);
	at(4 * RTT);
	peer_ack(seg(6));
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPLossProbes"), 1);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPLossProbeRecovery"), 0);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPDSACKRecv"), 1);
	ck_assert_uint_eq(R.tp->ssthresh, UINT32_MAX);
	rt_end();
}
END_TEST

/* Reordering within the window is not a loss (reordered_first). One segment SACKed is fewer than
 * DupThresh, so reo_wnd = min_RTT / 4 = 2.5 ms (§6.2 step 4): segment 1 is not lost before t0 + 10
 * ms + 2.5 ms (step 5), and the reordering timer is armed for then (with tcp_rack.c's 2 ms of slack,
 * Linux's TCP_TIMEOUT_MIN). Segment 1 arrives at t0 + 11 ms: nothing is resent, and RACK has now
 * seen reordering (step 3: delivered below RACK.fack, never resent). */
START_TEST(test_rack_reordering_not_lost)
{
	rt_start(0);
	reordered_first();
	ck_assert_uint_eq(R.tp->rack_min_rtt_us, 10000);
	ck_assert(!(R.tp->rack_flags & TCP_RACK_LOSS_PTO));
	ck_assert_uint_eq(R.tp->deadline[TCP_T_LOSS], R.t0 + RTT + RTT / 4 + 2 * MS);
	at(RTT + MS);
	peer_ack(seg(3));
	NOTHING();
	ck_assert(tcp_sack_rack(R.tp) && tcp_sack_rack(R.tp)->reordering_seen);
	at(RTT + 10 * MS);
	NOTHING(); /* the reordering timer's time has passed: nothing */
	peer_ack(seg(5));
	NOTHING();
	ck_assert_int_eq(th_stat(&R.h, "Tcp", "RetransSegs"), 0);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPSackRecovery"), 0);
	rt_end();
}
END_TEST

/* The reordering timer (§6.2 step 5, RACK_detect_loss_and_arm_timer): as above, but segment 1 never
 * comes. At t0 + 12.5 ms it has waited RACK.rtt + reo_wnd, and the timer fires 2 ms later (the
 * slack): lost, so fast recovery starts and resends it then - with one duplicate ACK, where RFC
 * 5681 would wait for three. */
START_TEST(test_rack_reordering_timer)
{
	rt_start(0);
	reordered_first();
	at(RTT + RTT / 4 + 2 * MS - 1);
	NOTHING();
	at(RTT + RTT / 4 + 2 * MS);
	EXPECT_SEG(seg(1), SMSS);
	NOTHING();
	ck_assert(R.tp->flags & TF_IN_RECOVERY);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPSackRecovery"), 1);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPTimeouts"), 0);
	rt_end();
}
END_TEST

/* Without SACK there is no RACK, but TLP still probes (§7): a lost tail of two segments is probed
 * for at 2 * SRTT after the last ACK, with the last segment. */
START_TEST(test_tlp_without_sack)
{
	rt_open(0, false);
	ck_assert(!tcp_rack_on(R.tp));
	tail_of_two();
	at(3 * RTT - 1);
	NOTHING();
	at(3 * RTT);
	EXPECT_SEG(seg(4), SMSS);
	NOTHING();
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPLossProbes"), 1);
	rt_end();
}
END_TEST

/* us_stack_config.tcp_recovery: 0 is RACK and TLP; US_TCP_RECOVERY_ONLY alone neither (no probe
 * goes: the RTO resends the tail at 200 ms); an unknown bit is refused. */
START_TEST(test_recovery_config)
{
	struct us_stack_config cfg = { .tcp_recovery = 0x40 };
	struct us_clock clk;

	us_clock_init_virtual(&clk, US_NSEC_PER_SEC);
	cfg.clock = &clk;
	ck_assert_ptr_null(us_stack_create(&cfg));
	rt_start(0);
	ck_assert_uint_eq(R.h.st->cfg.tcp_recovery, US_TCP_RECOVERY_RACK | US_TCP_RECOVERY_TLP);
	ck_assert(tcp_rack_on(R.tp) && tcp_tlp_on(R.tp));
	rt_end();
	rt_start(US_TCP_RECOVERY_ONLY);
	ck_assert(!tcp_rack_on(R.tp) && !tcp_tlp_on(R.tp));
	tail_of_two();
	at(RTT + 200 * MS - 1);
	NOTHING();
	at(RTT + 200 * MS);
	EXPECT_SEG(seg(3), SMSS);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPLossProbes"), 0);
	ck_assert_int_eq(th_stat(&R.h, "TcpExt", "TCPTimeouts"), 1);
	rt_end();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_rack");
	TCase *tc = test_tcase("tcp_rack");

	tcase_add_test(tc, test_rack_lost_retransmission);
	tcase_add_test(tc, test_rack_off_lost_retransmission_waits_for_rto);
	tcase_add_test(tc, test_tlp_repairs_tail_loss);
	tcase_add_test(tc, test_tlp_new_data);
	tcase_add_test(tc, test_tlp_in_recovery);
	tcase_add_test(tc, test_tlp_dsack_no_reduction);
	tcase_add_test(tc, test_rack_reordering_not_lost);
	tcase_add_test(tc, test_rack_reordering_timer);
	tcase_add_test(tc, test_tlp_without_sack);
	tcase_add_test(tc, test_recovery_config);
	suite_add_tcase(s, tc);
	return test_run(s);
}
