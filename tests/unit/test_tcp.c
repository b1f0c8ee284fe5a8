/*
 * test_tcp.c - TCP's segment arrival and sending (stack/tcp*.c) checked against RFC 9293, RFC 1122,
 * RFC 5681, RFC 6298 and RFC 5961. The stack under test sits at 198.18.0.2 on one end of a pair
 * wire; the test is the peer 198.18.0.1, building its segments here (Ethernet, IPv4, TCP with
 * options and the RFC 9293 §3.1 checksum) and parsing what the stack sends with its own parser.
 *
 * Each test: a connection in a known state (reached by really driving the handshake), one segment
 * in at a known virtual time, the exact segments expected out and nothing else, the state after.
 * Expected segments are written from the RFCs. Every test ends by aborting what it holds and checks
 * that no connection and no skb is left.
 */
#include <errno.h>
#include <string.h>

#include "core.h"
#include "stack_helper.h"
#include "tcp_seg.h"
#include "tcp.h"
#include "ustack/proto.h"
#include "wire/bytes.h"

#define MS (US_NSEC_PER_MSEC)
#define SEC (US_NSEC_PER_SEC)

#define LPORT 80	  /* the stack's listening port */
#define RPORT 40000	  /* the peer's port */
#define PEER_ISN 1000000u /* the peer's initial sequence number */

/* ---- the fixture: one stack, the peer's view of one connection ---- */

struct tt {
	struct th h;
	struct us_tcp *l, *c; /* the listener and the connection the test holds (or NULL) */
	uint16_t lport;	      /* the stack's port */
	uint32_t iss;	      /* the stack's ISS, read from its SYN or SYN-ACK */
	uint32_t snd;	      /* the stack's SND.NXT as the peer knows it */
	uint32_t rcv;	      /* the peer's next sequence number: the stack's RCV.NXT */
	uint16_t win;	      /* the window the peer advertises */
};

static struct tt T;
static uint8_t pattern[16384];

static void tt_start(struct tt *t)
{
	memset(t, 0, sizeof(*t));
	th_setup(&t->h, true);
	t->lport = LPORT;
	t->win = 65535;
	for (uint32_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + (i >> 8));
}

/* Let go of everything (abort), read what that sent, and check that no connection is left. */
static void tt_end(struct tt *t)
{
	if (t->c)
		us_tcp_abort(t->c);
	if (t->l)
		us_tcp_close(t->l);
	th_drain(&t->h);
	ck_assert_uint_eq(t->h.st->tcp->count, 0);
	th_teardown(&t->h);
}

static void peer_seg(struct tt *t, const struct tcp_seg *s)
{
	uint8_t f[2048];
	struct tcp_seg c = *s;

	if (!c.sport)
		c.sport = RPORT;
	if (!c.dport)
		c.dport = t->lport;
	th_send(&t->h, f, tcp_seg_frame(f, &c));
}

/* A segment without options in the connection, window t->win. */
static void peer_send(struct tt *t, uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *data,
		      uint32_t len)
{
	struct tcp_seg s = { .seq = seq, .ack = ack, .flags = flags, .win = t->win, .data = data, .len = len };

	peer_seg(t, &s);
}

/* The connection's state as the stack's tables have it; TCP_CLOSED once it is gone. */
static int conn_state(struct tt *t)
{
	struct tcp_sock *tp = tcp_lookup_established(t->h.st, ST_IP, t->lport, PEER_IP, RPORT);

	return tp ? tp->state : TCP_CLOSED;
}

static void expect_at(struct tt *t, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len,
		      struct tcp_pkt *out, int line)
{
	struct tcp_pkt p;

	ck_assert_msg(tcp_pkt_next(&t->h, &p), "line %d: no segment sent", line);
	ck_assert_msg(p.sport == t->lport && p.dport == RPORT, "line %d: ports %u > %u", line, p.sport,
		      p.dport);
	/* PSH is the sender's choice (RFC 9293 §3.9.1.2); everything else must match */
	ck_assert_msg((p.flags & ~TCPF_PSH) == flags && p.seq == seq &&
			      (!(flags & TCPF_ACK) || p.ack == ack) && p.len == len,
		      "line %d: got flags %#x seq %u ack %u len %u; want flags %#x seq %u ack %u len %u",
		      line, p.flags, p.seq, p.ack, p.len, flags, seq, ack, len);
	if (out)
		*out = p;
}

static void expect_none_at(struct tt *t, int line)
{
	struct tcp_pkt p;

	if (tcp_pkt_next(&t->h, &p))
		ck_abort_msg("line %d: unexpected segment flags %#x seq %u ack %u len %u", line, p.flags,
			     p.seq, p.ack, p.len);
}

#define EXPECT(t, fl, sq, ak, ln) expect_at(t, fl, sq, ak, ln, NULL, __LINE__)
#define EXPECT_P(t, fl, sq, ak, ln, p) expect_at(t, fl, sq, ak, ln, p, __LINE__)
#define NOTHING(t) expect_none_at(t, __LINE__)
/* an ACK carrying the stack's SND.NXT and RCV.NXT and no data */
#define EXPECT_ACK(t) EXPECT(t, TCPF_ACK, (t)->snd, (t)->rcv, 0)

/* The peer's SYN with options o reaches a listener on LPORT; the SYN-ACK is read into synack. */
static void tt_syn(struct tt *t, const struct tcp_topts *o, struct tcp_pkt *synack)
{
	struct tcp_seg s = { .seq = PEER_ISN, .flags = TCPF_SYN, .win = t->win, .o = *o };

	t->l = us_tcp_open(t->h.st);
	ck_assert_ptr_nonnull(t->l);
	ck_assert_int_eq(us_tcp_bind(t->l, 0, LPORT), 0);
	ck_assert_int_eq(us_tcp_listen(t->l, 4), 0);
	peer_seg(t, &s);
	ck_assert(tcp_pkt_next(&t->h, synack));
	t->iss = synack->seq;
	t->snd = t->iss + 1;
	t->rcv = PEER_ISN + 1;
	NOTHING(t);
}

/* The third segment of the handshake, then accept: ESTABLISHED. */
static void tt_accept(struct tt *t, const struct tcp_topts *o)
{
	struct tcp_seg s = { .seq = t->rcv, .ack = t->snd, .flags = TCPF_ACK, .win = t->win };
	int err = 1;

	if (o)
		s.o = *o;
	peer_seg(t, &s);
	NOTHING(t);
	t->c = us_tcp_accept(t->l, &err);
	ck_assert_ptr_nonnull(t->c);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(us_tcp_state(t->c), TCP_ESTABLISHED);
}

/* ESTABLISHED through a passive open where the peer offered only MSS 1460: no timestamps, no
 * window scaling, no SACK, so every later segment is a bare 20-byte header (RFC 9293 §3.5). The
 * peer's ACK comes rtt after the SYN-ACK: the stack's first RTT sample (RFC 6298 §2.2). */
static void tt_established_after(struct tt *t, uint64_t rtt)
{
	struct tcp_topts o = { .mss = 1460 };
	struct tcp_pkt sa;

	tt_syn(t, &o, &sa);
	if (rtt)
		th_advance(&t->h, rtt);
	tt_accept(t, NULL);
}

/* The same with the ACK at the same instant: a first sample of ~0, so the RTO is the 200 ms floor. */
static void tt_established(struct tt *t)
{
	tt_established_after(t, 0);
}

/* The stack's data: n bytes of the pattern from offset off, sent with us_tcp_send. */
static void stack_send(struct tt *t, uint32_t off, uint32_t n)
{
	ck_assert_int_eq(us_tcp_send(t->c, pattern + off, n), (int)n);
}

/* ---- handshakes (RFC 9293 §3.5) ---- */

/* RFC 9293 §3.5 figure 6 and §3.10.7.2: a SYN to a listener gets one SYN-ACK, ACK = ISN + 1, with
 * MSS = MTU - 40 (§3.7.1), SACK-permitted (RFC 2018 §2), timestamps echoing the SYN's TSval (RFC
 * 7323 §3.2) and window scale (RFC 7323 §2.2), as the SYN offered all of them; the third segment
 * makes the connection ESTABLISHED and accept() returns it. */
/* listen(2)'s backlog is capped at somaxconn (4096, Linux's default) and a negative one is 0, on
 * the first listen and on one that changes a listener's backlog alike (Linux: inet_listen). */
START_TEST(test_listen_backlog_cap)
{
	struct th h;
	struct us_tcp *l;

	th_setup(&h, true);
	l = us_tcp_open(h.st);
	ck_assert_int_eq(us_tcp_bind(l, 0, LPORT), 0);
	ck_assert_int_eq(us_tcp_listen(l, 100000), 0);
	ck_assert_uint_eq(((struct tcp_sock *)l)->backlog, 4096);
	ck_assert_int_eq(us_tcp_listen(l, 1 << 20), 0);
	ck_assert_uint_eq(((struct tcp_sock *)l)->backlog, 4096);
	ck_assert_int_eq(us_tcp_listen(l, 7), 0);
	ck_assert_uint_eq(((struct tcp_sock *)l)->backlog, 7);
	ck_assert_int_eq(us_tcp_listen(l, -5), 0);
	ck_assert_uint_eq(((struct tcp_sock *)l)->backlog, 0);
	us_tcp_close(l);
	th_teardown(&h);
}
END_TEST

START_TEST(test_passive_open)
{
	struct tcp_topts o = { .mss = 1460, .sackp = true, .ts = true, .tsval = 12345, .wsok = true, .ws = 7 };
	struct tcp_topts ack = { .ts = true, .tsval = 12346 };
	struct us_tcp_info info;
	struct tcp_pkt sa;
	int err;

	tt_start(&T);
	tt_syn(&T, &o, &sa);
	ck_assert_uint_eq(sa.flags, TCPF_SYN | TCPF_ACK);
	ck_assert_uint_eq(sa.ack, PEER_ISN + 1);
	ck_assert_uint_eq(sa.len, 0);
	ck_assert(sa.mss_ok);
	ck_assert_uint_eq(sa.mss, 1500 - 40);
	ck_assert(sa.sackp);
	ck_assert(sa.ts);
	ck_assert_uint_eq(sa.tsecr, 12345);
	ck_assert(sa.wsok);
	ck_assert_uint_le(sa.ws, 14);
	ck_assert_uint_gt(sa.win, 0);
	ck_assert_int_eq(conn_state(&T), TCP_SYN_RECEIVED);
	ck_assert_ptr_null(us_tcp_accept(T.l, &err));
	ck_assert_int_eq(err, -EAGAIN);

	ack.tsecr = sa.tsval;
	tt_accept(&T, &ack);
	ck_assert_int_eq(us_tcp_info(T.c, &info), 0);
	ck_assert(info.ts_ok && info.sack_ok);
	ck_assert_uint_eq(info.snd_wscale, 7);
	ck_assert_uint_eq(info.rcv_wscale, sa.ws);
	/* RFC 7323 §3.2 / RFC 6691: the timestamp option's 12 bytes come out of each segment's MSS */
	ck_assert_uint_eq(info.snd_mss, 1460 - 12);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "PassiveOpens"), 1);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "CurrEstab"), 1);
	tt_end(&T);
}
END_TEST

/* RFC 9293 §3.7.1: a SYN without options gets a SYN-ACK with our MSS and nothing the peer did not
 * offer (RFC 7323 §2.2, §3.2; RFC 2018 §2), and the send MSS is the default 536: data leaves in
 * 536-byte segments. */
START_TEST(test_passive_open_no_options)
{
	struct tcp_topts none = { 0 };
	struct tcp_pkt sa;

	tt_start(&T);
	tt_syn(&T, &none, &sa);
	ck_assert_uint_eq(sa.flags, TCPF_SYN | TCPF_ACK);
	ck_assert_uint_eq(sa.ack, PEER_ISN + 1);
	ck_assert(sa.mss_ok);
	ck_assert_uint_eq(sa.mss, 1460);
	ck_assert(!sa.sackp && !sa.ts && !sa.wsok);
	tt_accept(&T, NULL);

	stack_send(&T, 0, 2 * 536);
	EXPECT(&T, TCPF_ACK, T.snd, T.rcv, 536);
	EXPECT(&T, TCPF_ACK, T.snd + 536, T.rcv, 536);
	NOTHING(&T);
	peer_send(&T, TCPF_ACK, T.rcv, T.snd + 2 * 536, NULL, 0);
	T.snd += 2 * 536;
	NOTHING(&T);
	tt_end(&T);
}
END_TEST

/* Active open to the peer: our SYN and its options; returns the SYN. */
static void tt_connect(struct tt *t, struct tcp_pkt *syn)
{
	uint32_t a;

	t->c = us_tcp_open(t->h.st);
	ck_assert_ptr_nonnull(t->c);
	ck_assert_int_eq(us_tcp_connect(t->c, PEER_IP, RPORT), -EINPROGRESS);
	ck_assert_int_eq(us_tcp_state(t->c), TCP_SYN_SENT);
	ck_assert_int_eq(us_tcp_getsockname(t->c, &a, &t->lport), 0);
	ck_assert_uint_eq(a, ST_IP);
	/* the peer's port is RPORT; the stack's is ephemeral: swap the fixture's view */
	ck_assert(tcp_pkt_next(&t->h, syn));
	ck_assert_uint_eq(syn->dport, RPORT);
	ck_assert_uint_eq(syn->sport, t->lport);
	t->iss = syn->seq;
	t->snd = t->iss + 1;
	t->rcv = PEER_ISN + 1;
	NOTHING(t);
}

/* In active-open tests the peer's port (RPORT) is the destination of the stack's SYN; the peer sends
 * from RPORT to the stack's ephemeral port, which is what peer_seg does with t->lport. */

/* RFC 9293 §3.5 figure 7 and §3.10.7.3: the SYN carries MSS, SACK-permitted, timestamps with a zero
 * TSecr and window scale; a SYN-ACK acknowledging it gets an ACK and the connection is ESTABLISHED. */
START_TEST(test_active_open)
{
	struct tcp_pkt syn, ack;
	struct tcp_seg sa = { .seq = PEER_ISN, .flags = TCPF_SYN | TCPF_ACK, .win = 65535,
			  .o = { .mss = 1460, .sackp = true, .ts = true, .tsval = 777, .wsok = true, .ws = 7 } };

	tt_start(&T);
	tt_connect(&T, &syn);
	ck_assert_uint_eq(syn.flags, TCPF_SYN);
	ck_assert_uint_eq(syn.len, 0);
	ck_assert(syn.mss_ok);
	ck_assert_uint_eq(syn.mss, 1460);
	ck_assert(syn.sackp);
	ck_assert(syn.ts);
	ck_assert_uint_eq(syn.tsecr, 0);
	ck_assert(syn.wsok);
	ck_assert_uint_le(syn.ws, 14);

	sa.ack = T.snd;
	sa.o.tsecr = syn.tsval;
	peer_seg(&T, &sa);
	EXPECT_P(&T, TCPF_ACK, T.snd, T.rcv, 0, &ack);
	ck_assert(ack.ts);
	ck_assert_uint_eq(ack.tsecr, 777);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_ESTABLISHED);
	ck_assert(us_tcp_events(T.c) & US_TCP_EV_WRITABLE);
	ck_assert_int_eq(us_tcp_error(T.c), 0);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "ActiveOpens"), 1);
	tt_end(&T);
}
END_TEST

/* RFC 9293 §3.10.7.3: in SYN-SENT an RST counts only if its ACK acknowledges the SYN (SND.UNA <
 * SEG.ACK =< SND.NXT); one with an unacceptable ACK, or with no ACK, is dropped without a reply.
 * One that does acknowledge it closes the connection: "connection refused". */
START_TEST(test_synsent_rst)
{
	struct tcp_pkt syn;

	tt_start(&T);
	tt_connect(&T, &syn);
	peer_send(&T, TCPF_RST | TCPF_ACK, 0, T.iss, NULL, 0); /* SEG.ACK =< ISS */
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_SYN_SENT);
	peer_send(&T, TCPF_RST | TCPF_ACK, 0, T.iss + 2, NULL, 0); /* SEG.ACK > SND.NXT */
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_SYN_SENT);
	peer_send(&T, TCPF_RST, 0, 0, NULL, 0); /* no ACK */
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_SYN_SENT);

	peer_send(&T, TCPF_RST | TCPF_ACK, 0, T.iss + 1, NULL, 0);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_CLOSED);
	ck_assert_int_eq(us_tcp_error(T.c), -ECONNREFUSED);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "AttemptFails"), 1);
	tt_end(&T);
}
END_TEST

/* RFC 9293 §3.10.7.3: a SYN-ACK whose ACK is unacceptable (=< ISS or > SND.NXT) is answered with
 * <SEQ=SEG.ACK><CTL=RST> and the connection stays in SYN-SENT. */
START_TEST(test_synsent_bad_ack)
{
	struct tcp_pkt syn;

	tt_start(&T);
	tt_connect(&T, &syn);
	peer_send(&T, TCPF_SYN | TCPF_ACK, PEER_ISN, T.iss + 5, NULL, 0);
	EXPECT(&T, TCPF_RST, T.iss + 5, 0, 0);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_SYN_SENT);
	peer_send(&T, TCPF_SYN | TCPF_ACK, PEER_ISN, T.iss, NULL, 0);
	EXPECT(&T, TCPF_RST, T.iss, 0, 0);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_SYN_SENT);
	tt_end(&T);
}
END_TEST

/* RFC 6298 §5.5 and §2.1 (initial RTO 1 s), RFC 9293 §3.8.1: an unanswered SYN is sent again after
 * 1 s, then 2 s, 4 s, ... doubling; after tcp_syn_retries (6) retransmissions and one more RTO the
 * connect fails with ETIMEDOUT. */
START_TEST(test_syn_retransmit)
{
	struct tcp_pkt syn, again;
	uint64_t rto = 1 * SEC;

	tt_start(&T);
	tt_connect(&T, &syn);
	for (int i = 0; i < 6; i++) {
		th_advance(&T.h, rto - 1);
		NOTHING(&T);
		th_advance(&T.h, 1);
		EXPECT_P(&T, TCPF_SYN, T.iss, 0, 0, &again);
		ck_assert(again.mss_ok && again.mss == syn.mss);
		NOTHING(&T);
		rto *= 2;
	}
	ck_assert_int_eq(th_stat(&T.h, "TcpExt", "TCPSynRetrans"), 6);
	th_advance(&T.h, rto - 1);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_SYN_SENT);
	th_advance(&T.h, 1);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_CLOSED);
	ck_assert_int_eq(us_tcp_error(T.c), -ETIMEDOUT);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "AttemptFails"), 1);
	tt_end(&T);
}
END_TEST

/* The ARP request for an on-link address nobody answers (198.18.0.7), as the stack sends it: RFC
 * 826, broadcast, from us, target hardware address zero. */
static void expect_arp_request(struct tt *t)
{
	uint8_t f[128];
	int n = th_recv(&t->h, f, sizeof(f));

	ck_assert_int_ge(n, 14 + 28);
	ck_assert_mem_eq(f, BCAST_MAC, 6);
	ck_assert_uint_eq(get_be16(f + 12), 0x0806);
	ck_assert_uint_eq(get_be16(f + 14 + 6), 1); /* request */
	ck_assert_uint_eq(get_be32(f + 14 + 14), ST_IP);
	ck_assert_uint_eq(get_be32(f + 14 + 24), 0xc6120007u);
}

/* A connect to an on-link address that never answers ARP fails with EHOSTUNREACH when the
 * resolution fails (three requests a second apart, then FAILED: RFC 1122 §2.3.2.1 asks for a
 * bound on them), as on Linux (the neighbour failure becomes a host unreachable to the sender,
 * and tcp_v4_err aborts a connection in SYN-SENT): at 3 s, not after the six SYN retries of
 * test_syn_retransmit (ETIMEDOUT at 127 s). No SYN reaches the wire, and the SYNs that waited for
 * the address are freed. */
START_TEST(test_connect_arp_failure)
{
	tt_start(&T);
	T.c = us_tcp_open(T.h.st);
	ck_assert_ptr_nonnull(T.c);
	ck_assert_int_eq(us_tcp_connect(T.c, 0xc6120007u, RPORT), -EINPROGRESS);
	us_stack_poll(T.h.st);
	expect_arp_request(&T);
	NOTHING(&T);
	for (int i = 1; i < 3; i++) {
		th_advance(&T.h, 1 * SEC - 1);
		NOTHING(&T);
		th_advance(&T.h, 1);
		expect_arp_request(&T); /* the SYN sent again at 1 s waits with the first */
		NOTHING(&T);
		ck_assert_int_eq(us_tcp_state(T.c), TCP_SYN_SENT);
	}
	th_advance(&T.h, 1 * SEC - 1);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_SYN_SENT);
	ck_assert_int_eq(us_tcp_error(T.c), 0);
	th_advance(&T.h, 1); /* 3 s after the first request */
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_CLOSED);
	ck_assert_int_eq(us_tcp_error(T.c), -EHOSTUNREACH);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "AttemptFails"), 1);
	ck_assert_int_eq(th_stat(&T.h, "Arp", "ResolveFailed"), 1);
	ck_assert_int_ge(th_stat(&T.h, "Arp", "UnresolvedDiscards"), 2);
	ck_assert_uint_eq(skb_pool_in_use(us_stack_pool(T.h.st)), 0); /* no SYN left anywhere */
	tt_end(&T);
}
END_TEST

/* RFC 9293 §3.10.7.1, a segment for no connection: with an ACK the reset is <SEQ=SEG.ACK><CTL=RST>;
 * without, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SEG.LEN counting SYN and FIN; an RST gets
 * nothing. */
START_TEST(test_closed_port)
{
	tt_start(&T);
	T.lport = 81;
	peer_send(&T, TCPF_ACK, 1234, 5555, pattern, 10);
	EXPECT(&T, TCPF_RST, 5555, 0, 0);
	NOTHING(&T);
	peer_send(&T, TCPF_SYN, 1000, 0, NULL, 0);
	EXPECT(&T, TCPF_RST | TCPF_ACK, 0, 1001, 0);
	NOTHING(&T);
	peer_send(&T, TCPF_FIN, 2000, 0, pattern, 10);
	EXPECT(&T, TCPF_RST | TCPF_ACK, 0, 2011, 0);
	NOTHING(&T);
	peer_send(&T, TCPF_RST, 3000, 0, NULL, 0);
	NOTHING(&T);
	peer_send(&T, TCPF_RST | TCPF_ACK, 3000, 77, NULL, 0);
	NOTHING(&T);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "OutRsts"), 3);
	tt_end(&T);
}
END_TEST

/* ---- ESTABLISHED: RFC 9293 §3.10.7.4 ---- */

/* First check: a segment outside the receive window (beyond it, or wholly before RCV.NXT) is
 * answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and dropped. */
START_TEST(test_unacceptable_segment)
{
	uint8_t buf[64];

	tt_start(&T);
	tt_established(&T);
	peer_send(&T, TCPF_ACK, T.rcv + 100000, T.snd, pattern, 10);
	EXPECT_ACK(&T);
	NOTHING(&T);
	peer_send(&T, TCPF_ACK, T.rcv - 20, T.snd, pattern, 10);
	EXPECT_ACK(&T);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_ESTABLISHED);
	ck_assert_int_eq(us_tcp_recv(T.c, buf, sizeof(buf)), -EAGAIN);
	tt_end(&T);
}
END_TEST

/* Second check (RFC 9293 §3.10.7.4, RFC 5961 §3.2): an RST exactly at RCV.NXT resets the
 * connection: CLOSED, and the user's receive reports "connection reset". */
START_TEST(test_rst_at_rcv_nxt)
{
	uint8_t buf[64];

	tt_start(&T);
	tt_established(&T);
	peer_send(&T, TCPF_RST, T.rcv, 0, NULL, 0);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_CLOSED);
	ck_assert_int_eq(us_tcp_recv(T.c, buf, sizeof(buf)), -ECONNRESET);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "EstabResets"), 1);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "CurrEstab"), 0);
	tt_end(&T);
}
END_TEST

/* RFC 9293 §3.10.7.4 / RFC 5961 §3.2: an RST in the window but not at RCV.NXT gets a challenge
 * ACK and the connection stays; one outside the window is dropped silently. */
START_TEST(test_rst_in_window)
{
	tt_start(&T);
	tt_established(&T);
	peer_send(&T, TCPF_RST, T.rcv + 1000, 0, NULL, 0);
	EXPECT_ACK(&T);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_ESTABLISHED);
	ck_assert_int_eq(th_stat(&T.h, "TcpExt", "TCPChallengeACK"), 1);
	peer_send(&T, TCPF_RST, T.rcv + 1000000, 0, NULL, 0);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_ESTABLISHED);
	tt_end(&T);
}
END_TEST

/* RFC 9293 §3.10.7.4 fourth check / RFC 5961 §4.2: a SYN in a synchronized state gets a challenge
 * ACK, whatever its sequence number, and the connection stays. */
START_TEST(test_syn_in_established)
{
	tt_start(&T);
	tt_established(&T);
	peer_send(&T, TCPF_SYN, T.rcv, 0, NULL, 0);
	EXPECT_ACK(&T);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_ESTABLISHED);
	peer_send(&T, TCPF_SYN, T.rcv + 5000000, 0, NULL, 0);
	EXPECT_ACK(&T);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_ESTABLISHED);
	tt_end(&T);
}
END_TEST

/* ---- receiving data ---- */

/* RFC 1122 §4.2.3.2: one full-sized segment is acknowledged after the delay (40 ms here, under
 * the 0.5 s limit), exactly once. */
START_TEST(test_delayed_ack_one)
{
	uint8_t buf[2048];

	tt_start(&T);
	tt_established(&T);
	peer_send(&T, TCPF_ACK, T.rcv, T.snd, pattern, 1460);
	T.rcv += 1460;
	NOTHING(&T);
	th_advance(&T.h, 40 * MS - 1);
	NOTHING(&T);
	th_advance(&T.h, 1);
	EXPECT_ACK(&T);
	NOTHING(&T);
	th_advance(&T.h, 1 * SEC);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_recv(T.c, buf, sizeof(buf)), 1460);
	ck_assert(memcmp(buf, pattern, 1460) == 0);
	/* RFC 1122 §4.2.3.3: reading moves no edge here (the window offered is already the 65,535
	 * an unscaled field can say), so no window update */
	NOTHING(&T);
	tt_end(&T);
}
END_TEST

/* RFC 1122 §4.2.3.2: "there SHOULD be an ACK for at least every second full-sized segment": the
 * second one is acknowledged at once, and nothing is left owed. */
START_TEST(test_delayed_ack_two)
{
	tt_start(&T);
	tt_established(&T);
	peer_send(&T, TCPF_ACK, T.rcv, T.snd, pattern, 1460);
	NOTHING(&T);
	peer_send(&T, TCPF_ACK, T.rcv + 1460, T.snd, pattern + 1460, 1460);
	T.rcv += 2 * 1460;
	EXPECT_ACK(&T);
	NOTHING(&T);
	th_advance(&T.h, 1 * SEC);
	NOTHING(&T);
	tt_end(&T);
}
END_TEST

/* RFC 5681 §4.2 (and RFC 1122 §4.2.2.21): an out-of-order segment brings an immediate duplicate
 * ACK for RCV.NXT; the segment filling the hole an immediate ACK covering both; the user reads the
 * bytes in order (RFC 9293 §3.10.7.4 seventh step). */
START_TEST(test_out_of_order)
{
	uint8_t buf[4096];

	tt_start(&T);
	tt_established(&T);
	peer_send(&T, TCPF_ACK, T.rcv + 1460, T.snd, pattern + 1460, 1460);
	EXPECT_ACK(&T);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_recv(T.c, buf, sizeof(buf)), -EAGAIN);
	peer_send(&T, TCPF_ACK, T.rcv, T.snd, pattern, 1460);
	T.rcv += 2 * 1460;
	EXPECT_ACK(&T);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_recv(T.c, buf, sizeof(buf)), 2 * 1460);
	ck_assert(memcmp(buf, pattern, 2 * 1460) == 0);
	ck_assert_int_eq(th_stat(&T.h, "TcpExt", "TCPOFOQueue"), 1);
	tt_end(&T);
}
END_TEST

/* RFC 9293 §3.10.7.4, seventh and eighth steps: a FIN that came out of order counts once the
 * text before it is in, here when a retransmission covering both segments' data fills the hole:
 * one ACK for everything and the FIN, CLOSE-WAIT, the bytes then end of stream. */
START_TEST(test_out_of_order_fin)
{
	uint8_t buf[4096];

	tt_start(&T);
	tt_established(&T);
	peer_send(&T, TCPF_FIN | TCPF_ACK, T.rcv + 500, T.snd, pattern + 500, 500);
	EXPECT_ACK(&T);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_ESTABLISHED);
	peer_send(&T, TCPF_ACK, T.rcv, T.snd, pattern, 1000);
	T.rcv += 1000 + 1;
	EXPECT_ACK(&T);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_CLOSE_WAIT);
	ck_assert_int_eq(us_tcp_recv(T.c, buf, sizeof(buf)), 1000);
	ck_assert(memcmp(buf, pattern, 1000) == 0);
	ck_assert_int_eq(us_tcp_recv(T.c, buf, sizeof(buf)), 0);
	tt_end(&T);
}
END_TEST

/* ---- closing (RFC 9293 §3.6) ---- */

/* The peer closes first (§3.6 figure 12's passive side): its FIN is acknowledged, CLOSE-WAIT, the
 * user reads end of stream; our close sends FIN (LAST-ACK); its ACK ends the connection. */
START_TEST(test_passive_close)
{
	uint8_t buf[64];

	tt_start(&T);
	tt_established(&T);
	peer_send(&T, TCPF_FIN | TCPF_ACK, T.rcv, T.snd, NULL, 0);
	T.rcv++;
	EXPECT_ACK(&T);
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_state(T.c), TCP_CLOSE_WAIT);
	ck_assert_int_eq(us_tcp_recv(T.c, buf, sizeof(buf)), 0);

	us_tcp_close(T.c);
	T.c = NULL;
	EXPECT(&T, TCPF_FIN | TCPF_ACK, T.snd, T.rcv, 0);
	NOTHING(&T);
	ck_assert_int_eq(conn_state(&T), TCP_LAST_ACK);
	peer_send(&T, TCPF_ACK, T.rcv, T.snd + 1, NULL, 0);
	NOTHING(&T);
	ck_assert_int_eq(conn_state(&T), TCP_CLOSED);
	ck_assert_uint_eq(T.h.st->tcp->count, 1); /* the listener only */
	tt_end(&T);
}
END_TEST

/* Our close first (§3.6 figure 12's active side) to TIME-WAIT; returns with the peer's FIN
 * acknowledged at the current time. */
static void tt_to_time_wait(struct tt *t)
{
	us_tcp_close(t->c);
	t->c = NULL;
	EXPECT(t, TCPF_FIN | TCPF_ACK, t->snd, t->rcv, 0);
	NOTHING(t);
	t->snd++;
	ck_assert_int_eq(conn_state(t), TCP_FIN_WAIT_1);
	peer_send(t, TCPF_ACK, t->rcv, t->snd, NULL, 0);
	NOTHING(t);
	ck_assert_int_eq(conn_state(t), TCP_FIN_WAIT_2);
	peer_send(t, TCPF_FIN | TCPF_ACK, t->rcv, t->snd, NULL, 0);
	t->rcv++;
	EXPECT_ACK(t);
	NOTHING(t);
	ck_assert_int_eq(conn_state(t), TCP_TIME_WAIT);
}

/* RFC 9293 §3.6 and §3.10.7.4 (FIN-WAIT-1, FIN-WAIT-2), §3.10.8: TIME-WAIT lasts 2 MSL = 60 s,
 * not a nanosecond less. */
START_TEST(test_active_close_time_wait)
{
	tt_start(&T);
	tt_established(&T);
	tt_to_time_wait(&T);
	th_advance(&T.h, 60 * SEC - 1);
	ck_assert_int_eq(conn_state(&T), TCP_TIME_WAIT);
	th_advance(&T.h, 1);
	ck_assert_int_eq(conn_state(&T), TCP_CLOSED);
	NOTHING(&T);
	tt_end(&T);
}
END_TEST

/* RFC 9293 §3.10.7.4, TIME-WAIT: "The only thing that can arrive in this state is a retransmission
 * of the remote FIN. Acknowledge it, and restart the 2 MSL timeout." */
START_TEST(test_time_wait_fin_again)
{
	tt_start(&T);
	tt_established(&T);
	tt_to_time_wait(&T);
	th_advance(&T.h, 30 * SEC);
	peer_send(&T, TCPF_FIN | TCPF_ACK, T.rcv - 1, T.snd, NULL, 0);
	EXPECT_ACK(&T);
	NOTHING(&T);
	th_advance(&T.h, 60 * SEC - 1);
	ck_assert_int_eq(conn_state(&T), TCP_TIME_WAIT);
	th_advance(&T.h, 1);
	ck_assert_int_eq(conn_state(&T), TCP_CLOSED);
	NOTHING(&T);
	tt_end(&T);
}
END_TEST

/* ---- sending ---- */

/* RFC 6298: the handshake's 100 ms sample gives SRTT 100 ms, RTTVAR 50 ms, RTO = 100 + 4 * 50 =
 * 300 ms (§2.2); unacknowledged data is resent after it (§5.4), then after twice it (§5.5); an ACK
 * of the retransmitted data gives no sample (Karn, §3) so the backed-off RTO stays; new data timed
 * and acknowledged after 100 ms gives SRTT 100 ms, RTTVAR 3/4 * 50 = 37.5 ms, RTO 250 ms (§2.3),
 * with the backoff gone. */
START_TEST(test_retransmission_timeout)
{
	struct us_tcp_info info;

	tt_start(&T);
	/* RFC 6298's timer alone: a tail loss probe would go just before it (RFC 8985 §7.2, in
	 * test_tcp_rack) */
	T.h.st->cfg.tcp_recovery = US_TCP_RECOVERY_ONLY | US_TCP_RECOVERY_RACK;
	tt_established_after(&T, 100 * MS);
	ck_assert_int_eq(us_tcp_info(T.c, &info), 0);
	ck_assert_uint_eq(info.srtt_us, 100000);
	ck_assert_uint_eq(info.rttvar_us, 50000);
	ck_assert_uint_eq(info.rto_us, 300000);
	stack_send(&T, 0, 100);
	EXPECT(&T, TCPF_ACK, T.snd, T.rcv, 100);
	NOTHING(&T);
	th_advance(&T.h, 300 * MS - 1);
	NOTHING(&T);
	th_advance(&T.h, 1);
	EXPECT(&T, TCPF_ACK, T.snd, T.rcv, 100);
	NOTHING(&T);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "RetransSegs"), 1);
	ck_assert_int_eq(th_stat(&T.h, "TcpExt", "TCPTimeouts"), 1);
	th_advance(&T.h, 600 * MS - 1);
	NOTHING(&T);
	th_advance(&T.h, 1);
	EXPECT(&T, TCPF_ACK, T.snd, T.rcv, 100);
	NOTHING(&T);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "RetransSegs"), 2);
	ck_assert_int_eq(th_stat(&T.h, "TcpExt", "TCPTimeouts"), 2);

	peer_send(&T, TCPF_ACK, T.rcv, T.snd + 100, NULL, 0);
	T.snd += 100;
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_info(T.c, &info), 0);
	ck_assert_uint_eq(info.rto_us, 1200000);

	stack_send(&T, 100, 200);
	EXPECT(&T, TCPF_ACK, T.snd, T.rcv, 200);
	th_advance(&T.h, 100 * MS);
	peer_send(&T, TCPF_ACK, T.rcv, T.snd + 200, NULL, 0);
	T.snd += 200;
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_info(T.c, &info), 0);
	ck_assert_uint_eq(info.srtt_us, 100000);
	ck_assert_uint_eq(info.rttvar_us, 37500);
	ck_assert_uint_eq(info.rto_us, 250000);

	stack_send(&T, 300, 300);
	EXPECT(&T, TCPF_ACK, T.snd, T.rcv, 300);
	th_advance(&T.h, 250 * MS - 1);
	NOTHING(&T);
	th_advance(&T.h, 1);
	EXPECT(&T, TCPF_ACK, T.snd, T.rcv, 300);
	NOTHING(&T);
	th_advance(&T.h, 500 * MS - 1);
	NOTHING(&T);
	th_advance(&T.h, 1);
	EXPECT(&T, TCPF_ACK, T.snd, T.rcv, 300);
	NOTHING(&T);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "RetransSegs"), 4);
	ck_assert_int_eq(th_stat(&T.h, "TcpExt", "TCPTimeouts"), 4);
	tt_end(&T);
}
END_TEST

/* RFC 9293 §3.7.4 (Nagle, RFC 1122 §4.2.3.4): while data is unacknowledged a small segment waits
 * for the ACK; with TCP_NODELAY it goes at once. */
START_TEST(test_nagle)
{
	tt_start(&T);
	tt_established(&T);
	stack_send(&T, 0, 100);
	EXPECT(&T, TCPF_ACK, T.snd, T.rcv, 100);
	NOTHING(&T);
	stack_send(&T, 100, 50);
	NOTHING(&T);
	peer_send(&T, TCPF_ACK, T.rcv, T.snd + 100, NULL, 0);
	T.snd += 100;
	EXPECT(&T, TCPF_ACK, T.snd, T.rcv, 50);
	NOTHING(&T);

	ck_assert_int_eq(us_tcp_set_nodelay(T.c, 1), 0);
	stack_send(&T, 150, 30);
	EXPECT(&T, TCPF_ACK, T.snd + 50, T.rcv, 30);
	NOTHING(&T);
	peer_send(&T, TCPF_ACK, T.rcv, T.snd + 80, NULL, 0);
	T.snd += 80;
	NOTHING(&T);
	tt_end(&T);
}
END_TEST

/* A zero-window probe (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17): either one octet of new data at
 * SND.NXT, or Linux's empty segment at SND.UNA - 1; both make the peer answer with its window. */
static void expect_probe_at(struct tt *t, int line)
{
	struct tcp_pkt p;

	ck_assert_msg(tcp_pkt_next(&t->h, &p), "line %d: no probe", line);
	ck_assert_msg((p.flags & ~TCPF_PSH) == TCPF_ACK && p.ack == t->rcv &&
			      ((p.len == 1 && p.seq == t->snd && p.data[0] == pattern[0]) ||
			       (p.len == 0 && p.seq == t->snd - 1)),
		      "line %d: not a window probe: flags %#x seq %u ack %u len %u", line, p.flags, p.seq,
		      p.ack, p.len);
}

/* RFC 9293 §3.8.6.1: with a zero send window nothing is sent; the window is probed after the RTO
 * (SHLD-29) and then at exponentially growing intervals (SHLD-30); a window update lets the data
 * go. */
START_TEST(test_zero_window)
{
	uint64_t gap = 200 * MS; /* the RTO after the handshake's ~0 sample: the 200 ms floor */

	tt_start(&T);
	T.win = 0;
	tt_established(&T);
	stack_send(&T, 0, 100);
	NOTHING(&T);
	for (int i = 0; i < 3; i++) {
		th_advance(&T.h, gap - 1);
		NOTHING(&T);
		th_advance(&T.h, 1);
		expect_probe_at(&T, __LINE__);
		NOTHING(&T);
		gap *= 2;
	}
	T.win = 65535;
	peer_send(&T, TCPF_ACK, T.rcv, T.snd, NULL, 0);
	EXPECT(&T, TCPF_ACK, T.snd, T.rcv, 100);
	NOTHING(&T);
	peer_send(&T, TCPF_ACK, T.rcv, T.snd + 100, NULL, 0);
	T.snd += 100;
	th_advance(&T.h, 10 * SEC);
	NOTHING(&T);
	tt_end(&T);
}
END_TEST

/* RFC 9293 §3.8.6.2.2 and RFC 7323 §2.4 / appendix F: with window scaling the advertised right edge
 * is rounded and never moves back, so it may run a little past the free buffer. Data the peer sends
 * inside the window it was offered is taken, every byte, while the application reads nothing: the
 * edge never retreats, nothing is dropped, and the buffer never holds more than its size plus the
 * rounding's slack. */
START_TEST(test_scaled_window_edge)
{
	struct tcp_pkt syn, a;
	struct tcp_seg sa = { .seq = PEER_ISN, .flags = TCPF_SYN | TCPF_ACK, .win = 65535,
			  .o = { .mss = 1460, .wsok = true, .ws = 7 } };
	struct tcp_sock *tp;
	uint32_t edge, last_edge = 0, sent = 0;
	int rounds = 0;

	tt_start(&T);
	tt_connect(&T, &syn);
	ck_assert_uint_eq(syn.ws, 7);
	sa.ack = T.snd;
	peer_seg(&T, &sa);
	EXPECT_P(&T, TCPF_ACK, T.snd, T.rcv, 0, &a);
	tp = (struct tcp_sock *)T.c;
	edge = T.rcv + ((uint32_t)a.win << 7);
	/* 1448-byte segments (not a multiple of 128), each inside the edge last advertised */
	while (rounds++ < 1000) {
		uint32_t room = edge - T.rcv, len = room < 1448 ? room : 1448;

		if (len == 0)
			break;
		peer_send(&T, TCPF_ACK, T.rcv, T.snd, pattern + (sent % 8192), len);
		sent += len;
		T.rcv += len;
		th_advance(&T.h, 50 * MS); /* the delayed ACK */
		EXPECT_P(&T, TCPF_ACK, T.snd, T.rcv, 0, &a);
		NOTHING(&T);
		edge = T.rcv + ((uint32_t)a.win << 7);
		ck_assert_msg(seq_geq(edge, last_edge), "the right edge moved back: %u after %u", edge,
			      last_edge);
		last_edge = edge;
	}
	ck_assert_int_eq(th_stat(&T.h, "TcpExt", "TCPRcvQDrop"), 0);
	ck_assert_uint_ge(sent, tp->rcvbuf);
	ck_assert_uint_le(tp->rcv_q.bytes, tp->rcvbuf + 64u * 1024);
	ck_assert_uint_eq(tp->rcv_q.bytes, sent);
	tt_end(&T);
}
END_TEST

/* ESTABLISHED through a passive open where the peer offered MSS 1460 and SACK-permitted only. */
static void tt_established_sack(struct tt *t)
{
	struct tcp_topts o = { .mss = 1460, .sackp = true };
	struct tcp_pkt sa;

	tt_syn(t, &o, &sa);
	ck_assert(sa.sackp);
	tt_accept(t, NULL);
}

/* RFC 2018 §4 and RFC 2883 §4, the receiver: an out-of-order segment's ACK carries a SACK block for
 * it; with two runs held, the run the latest segment joined comes first; once the hole fills, no
 * block; a duplicate of old data is reported once as a D-SACK block below the ACK. */
START_TEST(test_sack_receiver)
{
	struct tcp_pkt a;
	uint32_t r;

	tt_start(&T);
	tt_established_sack(&T);
	r = T.rcv;
	peer_send(&T, TCPF_ACK, r + 1460, T.snd, pattern + 1460, 1460);
	EXPECT_P(&T, TCPF_ACK, T.snd, r, 0, &a);
	ck_assert_uint_eq(a.nsack, 1);
	ck_assert_uint_eq(a.sack[0][0], r + 1460);
	ck_assert_uint_eq(a.sack[0][1], r + 2920);
	peer_send(&T, TCPF_ACK, r + 4380, T.snd, pattern + 4380, 1460);
	EXPECT_P(&T, TCPF_ACK, T.snd, r, 0, &a);
	ck_assert_uint_eq(a.nsack, 2);
	ck_assert_uint_eq(a.sack[0][0], r + 4380); /* the latest first */
	ck_assert_uint_eq(a.sack[1][0], r + 1460);
	peer_send(&T, TCPF_ACK, r + 2920, T.snd, pattern + 2920, 1460);
	EXPECT_P(&T, TCPF_ACK, T.snd, r, 0, &a);
	ck_assert_uint_eq(a.nsack, 1);
	ck_assert_uint_eq(a.sack[0][0], r + 1460);
	ck_assert_uint_eq(a.sack[0][1], r + 5840);
	peer_send(&T, TCPF_ACK, r, T.snd, pattern, 1460);
	T.rcv = r + 5840;
	EXPECT_P(&T, TCPF_ACK, T.snd, T.rcv, 0, &a);
	ck_assert_uint_eq(a.nsack, 0);
	NOTHING(&T);
	/* the first segment again: old data, a D-SACK block below the ACK */
	peer_send(&T, TCPF_ACK, r, T.snd, pattern, 1460);
	EXPECT_P(&T, TCPF_ACK, T.snd, T.rcv, 0, &a);
	ck_assert_uint_eq(a.nsack, 1);
	ck_assert_uint_eq(a.sack[0][0], r);
	ck_assert_uint_eq(a.sack[0][1], r + 1460);
	ck_assert_int_eq(th_stat(&T.h, "TcpExt", "TCPDSACKOldSent"), 1);
	NOTHING(&T);
	tt_end(&T);
}
END_TEST

/* RFC 6675 §4-5, the sender: ten segments out, the peer SACKs the 2nd to 4th (more than
 * (DupThresh - 1) * SMSS above the first hole): IsLost says the first is lost, so it is resent at
 * once, on the first duplicate ACK, and only it (cwnd = ssthresh = half the flight, pipe full). */
START_TEST(test_sack_sender_recovery)
{
	struct tcp_seg s = { .flags = TCPF_ACK, .win = 65535 };
	struct tcp_pkt p;
	uint32_t una;

	tt_start(&T);
	tt_established_sack(&T);
	una = T.snd;
	stack_send(&T, 0, 10 * 1460);
	for (int i = 0; i < 10; i++) {
		EXPECT_P(&T, TCPF_ACK, una + (uint32_t)i * 1460, T.rcv, 1460, &p);
	}
	NOTHING(&T);
	T.snd = una + 10 * 1460;
	s.seq = T.rcv;
	s.ack = una;
	s.o.nsack = 1;
	s.o.sack[0][0] = una + 1460;
	s.o.sack[0][1] = una + 4 * 1460;
	peer_seg(&T, &s);
	EXPECT(&T, TCPF_ACK, una, T.rcv, 1460);
	NOTHING(&T);
	ck_assert_int_eq(th_stat(&T.h, "TcpExt", "TCPSackRecovery"), 1);
	ck_assert_int_eq(th_stat(&T.h, "TcpExt", "TCPFastRetrans"), 1);
	/* everything acknowledged: recovery ends, nothing more is sent */
	s.ack = una + 10 * 1460;
	s.o.nsack = 0;
	peer_seg(&T, &s);
	NOTHING(&T);
	ck_assert(!(((struct tcp_sock *)T.c)->flags & TF_IN_RECOVERY));
	ck_assert_ptr_null(((struct tcp_sock *)T.c)->sack);
	tt_end(&T);
}
END_TEST

/* RFC 5681 §3.2: the third duplicate ACK resends the first unacknowledged segment at once, and only
 * it; its ACK gives no RTT sample (Karn). */
START_TEST(test_fast_retransmit)
{
	struct us_tcp_info info;
	uint32_t srtt;

	tt_start(&T);
	tt_established(&T);
	ck_assert_int_eq(us_tcp_info(T.c, &info), 0);
	srtt = info.srtt_us;
	stack_send(&T, 0, 4 * 1460);
	for (uint32_t i = 0; i < 4; i++)
		EXPECT(&T, TCPF_ACK, T.snd + i * 1460, T.rcv, 1460);
	NOTHING(&T);
	for (int i = 0; i < 2; i++) {
		peer_send(&T, TCPF_ACK, T.rcv, T.snd, NULL, 0);
		NOTHING(&T);
	}
	ck_assert_int_eq(th_stat(&T.h, "TcpExt", "TCPFastRetrans"), 0);
	peer_send(&T, TCPF_ACK, T.rcv, T.snd, NULL, 0);
	EXPECT(&T, TCPF_ACK, T.snd, T.rcv, 1460);
	NOTHING(&T);
	ck_assert_int_eq(th_stat(&T.h, "TcpExt", "TCPFastRetrans"), 1);
	ck_assert_int_eq(th_stat(&T.h, "Tcp", "RetransSegs"), 1);
	/* Karn (RFC 6298 §3): the ACK covering the resent segment gives no RTT sample */
	th_advance(&T.h, 50 * MS);
	peer_send(&T, TCPF_ACK, T.rcv, T.snd + 4 * 1460, NULL, 0);
	T.snd += 4 * 1460;
	NOTHING(&T);
	ck_assert_int_eq(us_tcp_info(T.c, &info), 0);
	ck_assert_uint_eq(info.srtt_us, srtt); /* the handshake's sample, untouched */
	tt_end(&T);
}
END_TEST

static Suite *tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc;

	tc = test_tcase("open");
	tcase_add_test(tc, test_listen_backlog_cap);
	tcase_add_test(tc, test_passive_open);
	tcase_add_test(tc, test_passive_open_no_options);
	tcase_add_test(tc, test_active_open);
	tcase_add_test(tc, test_synsent_rst);
	tcase_add_test(tc, test_synsent_bad_ack);
	tcase_add_test(tc, test_syn_retransmit);
	tcase_add_test(tc, test_connect_arp_failure);
	tcase_add_test(tc, test_closed_port);
	suite_add_tcase(s, tc);

	tc = test_tcase("established");
	tcase_add_test(tc, test_unacceptable_segment);
	tcase_add_test(tc, test_rst_at_rcv_nxt);
	tcase_add_test(tc, test_rst_in_window);
	tcase_add_test(tc, test_syn_in_established);
	suite_add_tcase(s, tc);

	tc = test_tcase("receive");
	tcase_add_test(tc, test_delayed_ack_one);
	tcase_add_test(tc, test_delayed_ack_two);
	tcase_add_test(tc, test_out_of_order);
	tcase_add_test(tc, test_out_of_order_fin);
	suite_add_tcase(s, tc);

	tc = test_tcase("close");
	tcase_add_test(tc, test_passive_close);
	tcase_add_test(tc, test_active_close_time_wait);
	tcase_add_test(tc, test_time_wait_fin_again);
	suite_add_tcase(s, tc);

	tc = test_tcase("send");
	tcase_add_test(tc, test_retransmission_timeout);
	tcase_add_test(tc, test_nagle);
	tcase_add_test(tc, test_zero_window);
	tcase_add_test(tc, test_scaled_window_edge);
	tcase_add_test(tc, test_sack_receiver);
	tcase_add_test(tc, test_sack_sender_recovery);
	tcase_add_test(tc, test_fast_retransmit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run(tcp_suite());
}
