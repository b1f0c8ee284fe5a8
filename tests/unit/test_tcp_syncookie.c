/*
 * test_tcp_syncookie.c - TCP against attackers who cannot see its segments: SYN cookies (RFC 4987
 * §3.6, stack/tcp_syncookie.c) and the RFC 5961 checks with their challenge-ACK limit (§3.2, §4,
 * §5.2, §7). The stack under test sits at 198.18.0.2 on one end of a pair wire; the test is the
 * peer 198.18.0.1 (and the attacker, who may use any port), building segments here and parsing
 * what the stack sends with its own parser.
 *
 * Each test: a listener or a connection in a known state, segments in at known virtual times, the
 * exact segments expected out and nothing else, the counters and the connections after. Every test
 * ends by letting go of what it holds and checks that no connection and no skb is left.
 */
#include <errno.h>
#include <string.h>

#include "core.h"
#include "stack_helper.h"
#include "tcp_seg.h"
#include "tcp.h"
#include "ustack/proto.h"
#include "wire/bytes.h"

#define SEC (US_NSEC_PER_SEC)
#define LPORT 80	  /* the stack's listening port */
#define RPORT 40000	  /* the peer's port */
#define PEER_ISN 1000000u /* the peer's initial sequence number */

/* ---- segments (tcp_seg.h) ---- */

/* A segment from the peer to the stack's LPORT: sport 0 means RPORT, win 0 means 65535. */
static void peer_seg(struct th *h, const struct tcp_seg *s)
{
	struct tcp_seg c = *s;
	uint8_t f[2048];

	if (!c.sport)
		c.sport = RPORT;
	c.dport = LPORT;
	if (!c.win)
		c.win = 65535;
	th_send(h, f, tcp_seg_frame(f, &c));
}

/* A segment without options from RPORT. */
static void peer_send(struct th *h, uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *data,
		      uint32_t len)
{
	struct tcp_seg s = { .seq = seq, .ack = ack, .flags = flags, .data = data, .len = len };

	peer_seg(h, &s);
}

static void expect_at(struct th *h, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
		      uint32_t len, struct tcp_pkt *out, int line)
{
	struct tcp_pkt p;

	ck_assert_msg(tcp_pkt_next(h, &p), "line %d: no segment sent", line);
	ck_assert_msg(p.sport == LPORT && p.dport == dport, "line %d: ports %u > %u", line, p.sport,
		      p.dport);
	ck_assert_msg((p.flags & ~TCPF_PSH) == flags && p.seq == seq &&
			      (!(flags & TCPF_ACK) || p.ack == ack) && p.len == len,
		      "line %d: got flags %#x seq %u ack %u len %u; want flags %#x seq %u ack %u len %u",
		      line, p.flags, p.seq, p.ack, p.len, flags, seq, ack, len);
	if (out)
		*out = p;
}

static void expect_none_at(struct th *h, int line)
{
	struct tcp_pkt p;

	if (tcp_pkt_next(h, &p))
		ck_abort_msg("line %d: unexpected segment flags %#x seq %u ack %u len %u", line, p.flags,
			     p.seq, p.ack, p.len);
}

#define EXPECT(h, dp, fl, sq, ak, ln) expect_at(h, dp, fl, sq, ak, ln, NULL, __LINE__)
#define EXPECT_P(h, dp, fl, sq, ak, ln, p) expect_at(h, dp, fl, sq, ak, ln, p, __LINE__)
#define NOTHING(h) expect_none_at(h, __LINE__)

/* ---- fixtures ---- */

/* start(): tcp_syncookies and tcp_max_syn_backlog as given, 0 leaving the default. */

static struct th H;
static struct us_tcp *L; /* the listener on LPORT */

static void start(uint32_t syncookies, uint32_t max_syn_backlog)
{
	th_setup(&H, true);
	if (syncookies)
		H.st->cfg.tcp_syncookies = syncookies;
	if (max_syn_backlog)
		H.st->cfg.tcp_max_syn_backlog = max_syn_backlog;
	L = us_tcp_open(H.st);
	ck_assert_ptr_nonnull(L);
	ck_assert_int_eq(us_tcp_bind(L, 0, LPORT), 0);
	ck_assert_int_eq(us_tcp_listen(L, 8), 0);
}

/* Abort what is held (children of the listener go with it), and check nothing is left. */
static void end(struct us_tcp **held, int n)
{
	for (int i = 0; i < n; i++)
		us_tcp_abort(held[i]);
	us_tcp_close(L);
	th_drain(&H);
	ck_assert_uint_eq(H.st->tcp->count, 0);
	th_teardown(&H);
}

static int64_t ext(const char *name)
{
	return th_stat(&H, "TcpExt", name);
}

/* A SYN from sport with options o; returns the SYN-ACK (checked: SYN,ACK acknowledging it). */
static struct tcp_pkt syn_from(uint16_t sport, uint32_t isn, const struct tcp_topts *o)
{
	struct tcp_seg s = { .sport = sport, .seq = isn, .flags = TCPF_SYN, .o = *o };
	struct tcp_pkt sa;

	peer_seg(&H, &s);
	ck_assert(tcp_pkt_next(&H, &sa));
	ck_assert_uint_eq(sa.dport, sport);
	ck_assert_uint_eq(sa.flags, TCPF_SYN | TCPF_ACK);
	ck_assert_uint_eq(sa.ack, isn + 1);
	ck_assert(sa.mss_ok);
	NOTHING(&H);
	return sa;
}

static struct us_tcp *accept_one(void)
{
	int err = 1;
	struct us_tcp *c = us_tcp_accept(L, &err);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(us_tcp_state(c), TCP_ESTABLISHED);
	return c;
}

/* ---- SYN cookies (RFC 4987 §3.6) ---- */

/* tcp_syncookies = 1 (the default): SYNs make SYN-RECEIVED children while the SYN queue has room;
 * once it holds tcp_max_syn_backlog, a SYN gets a SYN-ACK whose ISN is a cookie and nothing is kept.
 * The ACK that returns the cookie makes the connection, ESTABLISHED at once; the stack answers it
 * with nothing (as the third segment of any handshake). */
START_TEST(test_cookie_when_syn_queue_full)
{
	struct tcp_topts o = { .mss = 1460 };
	struct us_tcp *c;
	struct tcp_pkt sa;

	start(0, 2);
	ck_assert_uint_eq(H.st->cfg.tcp_syncookies, 1); /* the default */
	syn_from(40001, 1000, &o);
	syn_from(40002, 2000, &o);
	ck_assert_int_eq(ext("SyncookiesSent"), 0);
	ck_assert_uint_eq(H.st->tcp->count, 3);
	sa = syn_from(RPORT, PEER_ISN, &o);
	ck_assert_int_eq(ext("SyncookiesSent"), 1);
	ck_assert_uint_eq(H.st->tcp->count, 3); /* no state for it */
	ck_assert_int_eq(ext("ListenDrops"), 0);

	peer_send(&H, TCPF_ACK, PEER_ISN + 1, sa.seq + 1, NULL, 0);
	NOTHING(&H);
	ck_assert_int_eq(ext("SyncookiesRecv"), 1);
	ck_assert_int_eq(ext("SyncookiesFailed"), 0);
	ck_assert_uint_eq(H.st->tcp->count, 4);
	c = accept_one();
	ck_assert_int_eq(th_stat(&H, "Tcp", "PassiveOpens"), 3);
	ck_assert_int_eq(th_stat(&H, "Tcp", "CurrEstab"), 1);
	/* the two SYN-RECEIVED children still wait */
	ck_assert_uint_eq(((struct tcp_sock *)L)->syn_len, 2);

	/* it moves data: the stack's first byte is ISS + 1 = the cookie + 1 */
	ck_assert_int_eq(us_tcp_send(c, "hello", 5), 5);
	EXPECT(&H, RPORT, TCPF_ACK, sa.seq + 1, PEER_ISN + 1, 5);
	NOTHING(&H);
	end(&c, 1);
}
END_TEST

/* tcp_syncookies = 2: every SYN gets a cookie, even with the SYN queue empty; US_TCP_SYNCOOKIES_OFF:
 * none, and a SYN the full SYN queue has no room for is dropped (ListenDrops) for the peer to
 * retry. Other values are refused. */
START_TEST(test_cookie_always_and_off)
{
	struct us_stack_config bad = { .tcp_syncookies = 3 };
	struct tcp_topts o = { .mss = 1460 };
	struct us_tcp *c;
	struct tcp_pkt sa;

	start(2, 0);
	sa = syn_from(RPORT, PEER_ISN, &o);
	ck_assert_int_eq(ext("SyncookiesSent"), 1);
	ck_assert_uint_eq(H.st->tcp->count, 1);
	ck_assert_uint_eq(((struct tcp_sock *)L)->syn_len, 0);
	peer_send(&H, TCPF_ACK, PEER_ISN + 1, sa.seq + 1, NULL, 0);
	NOTHING(&H);
	c = accept_one();
	ck_assert_int_eq(ext("SyncookiesRecv"), 1);
	end(&c, 1);

	start(US_TCP_SYNCOOKIES_OFF, 1);
	syn_from(40001, 1000, &o);
	peer_send(&H, TCPF_SYN, PEER_ISN, 0, NULL, 0);
	NOTHING(&H);
	ck_assert_int_eq(ext("ListenDrops"), 1);
	ck_assert_int_eq(ext("SyncookiesSent"), 0);
	ck_assert_uint_eq(H.st->tcp->count, 2);
	end(NULL, 0);

	/* anything else is refused */
	bad.clock = &t_clock;
	ck_assert_ptr_null(us_stack_create(&bad));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* A SYN that offers MSS 1400, SACK-permitted, timestamps and window scale 7 gets a cookie SYN-ACK
 * offering all of them; the cookie keeps the MSS as 1300 (the table's largest not above 1400), and
 * our TSval's low six bits keep the peer's window scale (7) and SACK-permitted (0x10). The final ACK
 * (with 100 bytes) restores them: send MSS 1300 - 12 for the timestamps, SACK, the peer's scale 7 and
 * ours as the SYN-ACK said; the stack's timestamps go on from the SYN-ACK's TSval, and the 100 bytes
 * are read and acknowledged. */
START_TEST(test_cookie_restores_options)
{
	struct tcp_topts o = { .mss = 1400, .sackp = true, .ts = true, .tsval = 5000, .wsok = true,
			   .ws = 7 };
	struct tcp_seg ack = { .seq = PEER_ISN + 1, .flags = TCPF_ACK | TCPF_PSH, .win = 1000,
			   .o = { .ts = true, .tsval = 5001 } };
	uint8_t data[100], buf[200];
	struct us_tcp_info info;
	struct us_tcp *c;
	struct tcp_pkt sa, p;

	memset(data, 'x', sizeof(data));
	start(2, 0);
	sa = syn_from(RPORT, PEER_ISN, &o);
	ck_assert_uint_eq(sa.mss, 1460);
	ck_assert(sa.sackp && sa.ts && sa.wsok);
	ck_assert_uint_eq(sa.tsecr, 5000);
	ck_assert_uint_eq(sa.tsval & 0x3f, 0x10 | 7);
	ck_assert_uint_eq(sa.ws, 3); /* 262144-byte buffer: 65535 << 3 covers it */
	ck_assert_uint_eq(sa.win, 65535);

	th_advance(&H, 50 * US_NSEC_PER_MSEC);
	ack.ack = sa.seq + 1;
	ack.o.tsecr = sa.tsval;
	ack.data = data;
	ack.len = sizeof(data);
	peer_seg(&H, &ack);
	c = accept_one();
	ck_assert_int_eq(us_tcp_info(c, &info), 0);
	ck_assert(info.ts_ok && info.sack_ok);
	ck_assert_uint_eq(info.snd_mss, 1300 - 12);
	ck_assert_uint_eq(info.snd_wscale, 7);
	ck_assert_uint_eq(info.rcv_wscale, 3);
	ck_assert_uint_eq(info.snd_wnd, 1000u << 7);
	/* the RTT from the echoed TSval: 50 ms, and at most 63 ms more for the bits it carried */
	ck_assert_uint_ge(info.srtt_us, 50000);
	ck_assert_uint_lt(info.srtt_us, 50000 + 64000);
	/* reading opens the window from the SYN-ACK's 65535 to the whole buffer: an update at once */
	ck_assert_int_eq(us_tcp_recv(c, buf, sizeof(buf)), 100);
	EXPECT_P(&H, RPORT, TCPF_ACK, sa.seq + 1, PEER_ISN + 101, 0, &p);
	ck_assert(p.ts);
	ck_assert_uint_eq(p.tsecr, 5001);
	ck_assert_uint_ge(p.tsval - sa.tsval, 50);
	ck_assert_uint_lt(p.tsval - sa.tsval, 50 + 64);
	ck_assert_uint_eq(p.win, 262144 >> 3);
	NOTHING(&H);
	end(&c, 1);
}
END_TEST

/* Without timestamps there is nowhere to keep window scale and SACK-permitted: the cookie SYN-ACK
 * offers only its MSS, and the connection has neither; MSS values between the table's round down
 * (1000 -> 536), and no MSS option means 536 (RFC 9293 §3.7.1). */
START_TEST(test_cookie_without_timestamps)
{
	struct tcp_topts o = { .mss = 1460, .sackp = true, .wsok = true, .ws = 7 };
	struct tcp_topts o1000 = { .mss = 1000 }, none = { 0 };
	struct us_tcp_info info;
	struct us_tcp *c[3];
	struct tcp_pkt sa;

	start(2, 0);
	sa = syn_from(RPORT, PEER_ISN, &o);
	ck_assert(!sa.sackp && !sa.ts && !sa.wsok);
	peer_send(&H, TCPF_ACK, PEER_ISN + 1, sa.seq + 1, NULL, 0);
	c[0] = accept_one();
	us_tcp_info(c[0], &info);
	ck_assert(!info.ts_ok && !info.sack_ok);
	ck_assert_uint_eq(info.snd_mss, 1460);
	ck_assert_uint_eq(info.snd_wscale, 0);
	ck_assert_uint_eq(info.rcv_wscale, 0);

	sa = syn_from(40001, 7000, &o1000);
	peer_seg(&H, &(struct tcp_seg){ .sport = 40001, .seq = 7001, .ack = sa.seq + 1, .flags = TCPF_ACK });
	c[1] = accept_one();
	us_tcp_info(c[1], &info);
	ck_assert_uint_eq(info.snd_mss, 536);

	sa = syn_from(40002, 8000, &none);
	peer_seg(&H, &(struct tcp_seg){ .sport = 40002, .seq = 8001, .ack = sa.seq + 1, .flags = TCPF_ACK });
	c[2] = accept_one();
	us_tcp_info(c[2], &info);
	ck_assert_uint_eq(info.snd_mss, 536);
	NOTHING(&H);
	ck_assert_int_eq(ext("SyncookiesRecv"), 3);
	end(c, 3);
}
END_TEST

/* A forged ACK whose acknowledgment number is not a cookie for its 4-tuple and sequence number
 * gets RFC 9293 §3.10.7.2's <SEQ=SEG.ACK><CTL=RST> and makes nothing (SyncookiesFailed); so does the
 * right cookie from another port or with another sequence number. While no cookie went out lately,
 * an ACK to a listener is not checked at all (Linux's tcp_synq_no_recent_overflow). */
START_TEST(test_cookie_forged_ack)
{
	struct tcp_topts o = { .mss = 1460 };
	struct tcp_pkt sa;

	start(2, 0);
	peer_send(&H, TCPF_ACK, PEER_ISN + 1, 123456789, NULL, 0);
	EXPECT(&H, RPORT, TCPF_RST, 123456789, 0, 0);
	NOTHING(&H);
	ck_assert_int_eq(ext("SyncookiesFailed"), 0);

	sa = syn_from(RPORT, PEER_ISN, &o);
	peer_send(&H, TCPF_ACK, PEER_ISN + 1, sa.seq + 1 + 12345, NULL, 0);
	EXPECT(&H, RPORT, TCPF_RST, sa.seq + 1 + 12345, 0, 0);
	peer_send(&H, TCPF_ACK, PEER_ISN + 2, sa.seq + 1, NULL, 0);
	EXPECT(&H, RPORT, TCPF_RST, sa.seq + 1, 0, 0);
	peer_seg(&H, &(struct tcp_seg){ .sport = 40001, .seq = PEER_ISN + 1, .ack = sa.seq + 1,
				    .flags = TCPF_ACK });
	EXPECT(&H, 40001, TCPF_RST, sa.seq + 1, 0, 0);
	/* with data, or a FIN: the same */
	peer_send(&H, TCPF_ACK | TCPF_FIN, PEER_ISN + 1, sa.seq + 2, (const uint8_t *)"evil", 4);
	EXPECT(&H, RPORT, TCPF_RST, sa.seq + 2, 0, 0);
	NOTHING(&H);
	ck_assert_int_eq(ext("SyncookiesFailed"), 4);
	ck_assert_int_eq(ext("SyncookiesRecv"), 0);
	ck_assert_uint_eq(H.st->tcp->count, 1);
	end(NULL, 0);
}
END_TEST

/* The cookie's counter ticks every minute and a cookie is good for the current counter and the one
 * before: one returned 61 s later (one step) makes the connection; one returned when the counter has
 * moved two steps is refused with a reset. The virtual clock starts at 1000 s: counter 16. */
START_TEST(test_cookie_age)
{
	struct tcp_topts o = { .mss = 1460 };
	struct us_tcp *c;
	struct tcp_pkt sa, sb;

	start(2, 0);
	sa = syn_from(RPORT, PEER_ISN, &o);
	th_advance(&H, 61 * SEC); /* 1061 s: counter 17 */
	peer_send(&H, TCPF_ACK, PEER_ISN + 1, sa.seq + 1, NULL, 0);
	NOTHING(&H);
	c = accept_one();

	sb = syn_from(40001, 7000, &o); /* at 1061 s: counter 17 */
	th_advance(&H, 60 * SEC);	/* 1121 s: counter 18, one step */
	syn_from(40002, 9000, &o);
	th_advance(&H, 59 * SEC); /* 1180 s: counter 19, two steps */
	peer_seg(&H, &(struct tcp_seg){ .sport = 40001, .seq = 7001, .ack = sb.seq + 1, .flags = TCPF_ACK });
	EXPECT(&H, 40001, TCPF_RST, sb.seq + 1, 0, 0);
	NOTHING(&H);
	ck_assert_int_eq(ext("SyncookiesRecv"), 1);
	ck_assert_int_eq(ext("SyncookiesFailed"), 1);
	ck_assert_uint_eq(H.st->tcp->count, 2);
	end(&c, 1);
}
END_TEST

/* A valid cookie while the accept queue is full: the ACK is dropped without a reply (as the ACK of a
 * SYN-RECEIVED child would be) and the peer's retransmission completes it once accept() made room. */
START_TEST(test_cookie_accept_queue_full)
{
	struct tcp_topts o = { .mss = 1460 };
	struct us_tcp *c[2];
	struct tcp_pkt sa, sb;

	start(2, 0);
	ck_assert_int_eq(us_tcp_listen(L, 0), 0); /* backlog 0: one connection waits at most */
	sa = syn_from(40001, 1000, &o);
	sb = syn_from(40002, 2000, &o);
	peer_seg(&H, &(struct tcp_seg){ .sport = 40001, .seq = 1001, .ack = sa.seq + 1, .flags = TCPF_ACK });
	peer_seg(&H, &(struct tcp_seg){ .sport = 40002, .seq = 2001, .ack = sb.seq + 1, .flags = TCPF_ACK });
	NOTHING(&H);
	ck_assert_int_eq(ext("ListenOverflows"), 1);
	ck_assert_uint_eq(H.st->tcp->count, 2);
	c[0] = accept_one();
	peer_seg(&H, &(struct tcp_seg){ .sport = 40002, .seq = 2001, .ack = sb.seq + 1, .flags = TCPF_ACK });
	NOTHING(&H);
	c[1] = accept_one();
	ck_assert_int_eq(ext("SyncookiesRecv"), 3);
	end(c, 2);
}
END_TEST

/* ---- RFC 5961 ---- */

/* ESTABLISHED through a normal passive open without options; returns the connection, with the
 * stack's ISS in *iss. */
static struct us_tcp *established(uint32_t *iss)
{
	struct tcp_topts o = { .mss = 1460 };
	struct tcp_pkt sa = syn_from(RPORT, PEER_ISN, &o);

	peer_send(&H, TCPF_ACK, PEER_ISN + 1, sa.seq + 1, NULL, 0);
	NOTHING(&H);
	*iss = sa.seq;
	return accept_one();
}

/* RFC 5961 §7: with tcp_challenge_ack_limit 3, four RSTs in the window but not at RCV.NXT (§3.2)
 * within a second get three challenge ACKs; the fourth, and a SYN (§4), which shares the budget, are
 * counted as skipped (TCPACKSkippedChallenge). A second after the first, the budget is whole again.
 * The connection stays through all of it. */
START_TEST(test_challenge_ack_limit)
{
	uint32_t iss, rcv = PEER_ISN + 1;
	struct us_tcp *c;

	start(0, 0);
	ck_assert_uint_eq(H.st->cfg.tcp_challenge_ack_limit, 1000); /* the default */
	H.st->cfg.tcp_challenge_ack_limit = 3;
	c = established(&iss);
	for (int i = 0; i < 3; i++) {
		peer_send(&H, TCPF_RST, rcv + 100 + (uint32_t)i, 0, NULL, 0);
		EXPECT(&H, RPORT, TCPF_ACK, iss + 1, rcv, 0);
		th_advance(&H, 100 * US_NSEC_PER_MSEC);
	}
	peer_send(&H, TCPF_RST, rcv + 200, 0, NULL, 0);
	peer_send(&H, TCPF_SYN, rcv + 300, 0, NULL, 0);
	NOTHING(&H);
	ck_assert_int_eq(ext("TCPChallengeACK"), 3);
	ck_assert_int_eq(ext("TCPACKSkippedChallenge"), 2);
	th_advance(&H, 700 * US_NSEC_PER_MSEC); /* 1 s after the first */
	peer_send(&H, TCPF_RST, rcv + 400, 0, NULL, 0);
	EXPECT(&H, RPORT, TCPF_ACK, iss + 1, rcv, 0);
	NOTHING(&H);
	ck_assert_int_eq(ext("TCPChallengeACK"), 4);
	ck_assert_int_eq(us_tcp_state(c), TCP_ESTABLISHED);

	/* no limit: every one answered */
	H.st->cfg.tcp_challenge_ack_limit = US_TCP_CHALLENGE_ACK_UNLIMITED;
	for (int i = 0; i < 2000; i++) {
		peer_send(&H, TCPF_RST, rcv + 500, 0, NULL, 0);
		EXPECT(&H, RPORT, TCPF_ACK, iss + 1, rcv, 0);
	}
	ck_assert_int_eq(ext("TCPChallengeACK"), 2004);
	ck_assert_int_eq(ext("TCPACKSkippedChallenge"), 2);
	ck_assert_int_eq(us_tcp_state(c), TCP_ESTABLISHED);
	end(&c, 1);
}
END_TEST

/* RFC 5961 §5.2: SEG.ACK is acceptable only within SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT.
 * Data at RCV.NXT with an ACK for bytes not yet sent, or older than the largest window the peer
 * offered (65535 here), is dropped with a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; at the
 * edge it is taken. */
START_TEST(test_ack_acceptable_range)
{
	uint8_t buf[64];
	uint32_t iss, rcv = PEER_ISN + 1, una, nxt;
	struct us_tcp *c;

	start(0, 0);
	c = established(&iss);
	una = iss + 1;
	ck_assert_int_eq(us_tcp_send(c, "0123456789", 10), 10);
	EXPECT(&H, RPORT, TCPF_ACK, una, rcv, 10);
	nxt = una + 10;

	peer_send(&H, TCPF_ACK, rcv, nxt + 1, (const uint8_t *)"evil", 4); /* not yet sent */
	EXPECT(&H, RPORT, TCPF_ACK, nxt, rcv, 0);
	peer_send(&H, TCPF_ACK, rcv, una - 65536, (const uint8_t *)"evil", 4); /* too old */
	EXPECT(&H, RPORT, TCPF_ACK, nxt, rcv, 0);
	peer_send(&H, TCPF_ACK, rcv, una + 0x80000000u, (const uint8_t *)"evil", 4); /* far off */
	EXPECT(&H, RPORT, TCPF_ACK, nxt, rcv, 0);
	NOTHING(&H);
	ck_assert_int_eq(us_tcp_recv(c, buf, sizeof(buf)), -EAGAIN);
	ck_assert_int_eq(ext("TCPChallengeACK"), 3);

	peer_send(&H, TCPF_ACK, rcv, una - 65535, (const uint8_t *)"good", 4); /* the edge */
	ck_assert_int_eq(us_tcp_recv(c, buf, sizeof(buf)), 4);
	ck_assert(memcmp(buf, "good", 4) == 0);
	ck_assert_int_eq(ext("TCPChallengeACK"), 3);
	peer_send(&H, TCPF_ACK, rcv + 4, nxt, NULL, 0);
	th_advance(&H, SEC);
	th_drain(&H);
	ck_assert_int_eq(us_tcp_state(c), TCP_ESTABLISHED);
	end(&c, 1);
}
END_TEST

static Suite *tcp_syncookie_suite(void)
{
	Suite *s = suite_create("tcp_syncookie");
	TCase *tc;

	tc = test_tcase("syncookie");
	tcase_add_test(tc, test_cookie_when_syn_queue_full);
	tcase_add_test(tc, test_cookie_always_and_off);
	tcase_add_test(tc, test_cookie_restores_options);
	tcase_add_test(tc, test_cookie_without_timestamps);
	tcase_add_test(tc, test_cookie_forged_ack);
	tcase_add_test(tc, test_cookie_age);
	tcase_add_test(tc, test_cookie_accept_queue_full);
	suite_add_tcase(s, tc);

	tc = test_tcase("rfc5961");
	tcase_add_test(tc, test_challenge_ack_limit);
	tcase_add_test(tc, test_ack_acceptable_range);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run(tcp_syncookie_suite());
}
