/*
 * test_tcp_attack.c - two stacks on virtual time under attack by a third party that cannot see
 * their segments: blind injection into a connection moving data (RFC 5961 §3, §4, §5: forged RSTs,
 * SYNs, ACKs and data, each answered with a challenge ACK or nothing while the connection and its
 * bytes stay as they were), and a SYN flood of 100,000 spoofed SYNs at a listener that legitimate
 * clients still reach through SYN cookies (RFC 4987 §3.6) in bounded memory.
 *
 * The attacker's segments are built here and handed straight to a stack's device receive ring
 * (netdev_rx_deliver), as if they came off the wire.
 */
#include <errno.h>
#include <string.h>

#include "rand.h"
#include "scenario.h"
#include "stack_helper.h"
#include "tcp.h"
#include "ustack/proto.h"
#include "wire/bytes.h"

#define SEC US_NSEC_PER_SEC
#define MS US_NSEC_PER_MSEC

static const uint8_t MAC_A[6] = { 2, 0, 0, 0, 0, 0xa }, MAC_B[6] = { 2, 0, 0, 0, 0, 0xb };

/* ---- the attacker's segments ---- */

struct forged {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	bool ts;		  /* a timestamps option */
	uint32_t tsval, tsecr;
	bool syn_opts;		  /* MSS 1460, SACK-permitted, window scale 7 (with ts: as Linux) */
	const uint8_t *data;
	uint32_t len;
};

/* Build f as an Ethernet frame to stack `to` (its MAC) and put it on to's receive ring; the stack
 * takes it at its next poll. */
static void inject(struct us_stack *to, const struct forged *f)
{
	uint8_t tcp[1600], pseudo[12 + 1600], *p;
	uint32_t o = 20, tlen;
	struct netdev *dev = us_stack_netdev(to, 1);
	struct sk_buff *skb;

	if (f->syn_opts) {
		tcp[o++] = 2;
		tcp[o++] = 4;
		put_be16(tcp + o, 1460);
		o += 2;
		tcp[o++] = 4;
		tcp[o++] = 2;
	}
	if (f->ts) {
		if (!f->syn_opts) {
			tcp[o++] = 1;
			tcp[o++] = 1;
		}
		tcp[o++] = 8;
		tcp[o++] = 10;
		put_be32(tcp + o, f->tsval);
		put_be32(tcp + o + 4, f->tsecr);
		o += 8;
	}
	if (f->syn_opts) {
		tcp[o++] = 1;
		tcp[o++] = 3;
		tcp[o++] = 3;
		tcp[o++] = 7;
	}
	while (o & 3)
		tcp[o++] = 0;
	tlen = o + f->len;
	ck_assert_uint_le(tlen, sizeof(tcp));
	put_be16(tcp, f->sport);
	put_be16(tcp + 2, f->dport);
	put_be32(tcp + 4, f->seq);
	put_be32(tcp + 8, f->ack);
	tcp[12] = (uint8_t)((o / 4) << 4);
	tcp[13] = f->flags;
	put_be16(tcp + 14, f->win);
	put_be32(tcp + 16, 0);
	if (f->len)
		memcpy(tcp + o, f->data, f->len);
	put_be32(pseudo, f->saddr);
	put_be32(pseudo + 4, f->daddr);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put_be16(pseudo + 10, (uint16_t)tlen);
	memcpy(pseudo + 12, tcp, tlen);
	put_be16(tcp + 16, th_csum(pseudo, 12 + tlen)); /* RFC 9293 §3.1 */

	skb = skb_alloc(us_stack_pool(to), SKB_MAX_HEADER + 14 + 20 + tlen);
	ck_assert_ptr_nonnull(skb);
	skb_reserve(skb, SKB_MAX_HEADER);
	p = skb_put(skb, 14 + 20 + tlen);
	memcpy(p, dev->mac, 6);
	memcpy(p + 6, memcmp(dev->mac, MAC_A, 6) == 0 ? MAC_B : MAC_A, 6);
	put_be16(p + 12, 0x0800);
	p += 14;
	p[0] = 0x45;
	p[1] = 0;
	put_be16(p + 2, (uint16_t)(20 + tlen));
	put_be16(p + 4, 0x6666);
	put_be16(p + 6, 0x4000);
	p[8] = 64;
	p[9] = 6;
	put_be16(p + 10, 0);
	put_be32(p + 12, f->saddr);
	put_be32(p + 16, f->daddr);
	put_be16(p + 10, th_csum(p, 20));
	memcpy(p + 20, tcp, tlen);
	ck_assert_int_eq(netdev_rx_deliver(dev, skb), 0);
}

/* ---- blind injection into an established connection (RFC 5961) ---- */

static uint8_t pat(uint32_t s, uint64_t i)
{
	return (uint8_t)((i * 131 + s * 7 + (i >> 11)) & 0xff);
}

/* One direction of the transfer: bytes sent and bytes read (and checked). */
struct flow {
	struct us_tcp *from, *to;
	uint32_t s;
	uint64_t n, sent, got;
};

static void flow_step(struct flow *f)
{
	static uint8_t buf[32768];

	while (f->sent < f->n) {
		uint32_t k = f->n - f->sent < sizeof(buf) ? (uint32_t)(f->n - f->sent) : sizeof(buf);
		int r;

		for (uint32_t i = 0; i < k; i++)
			buf[i] = pat(f->s, f->sent + i);
		r = us_tcp_send(f->from, buf, k);
		if (r == -EAGAIN)
			break;
		ck_assert_int_gt(r, 0);
		f->sent += (uint64_t)r;
	}
	for (;;) {
		int r = us_tcp_recv(f->to, buf, sizeof(buf));

		if (r == -EAGAIN)
			break;
		ck_assert_int_gt(r, 0);
		for (int i = 0; i < r; i++)
			if (buf[i] != pat(f->s, f->got + (uint64_t)i))
				ck_abort_msg("stream %u byte %llu: got %#x, want %#x", f->s,
					     (unsigned long long)(f->got + (uint64_t)i), buf[i],
					     pat(f->s, f->got + (uint64_t)i));
		f->got += (uint64_t)r;
	}
}

/* What the attacker sends, each at the victim's own sequence numbers (a worst case: it knows them,
 * as an attacker who guessed right would), and what RFC 5961 says the victim does. */
enum blind_case {
	RST_IN_WINDOW,	   /* §3.2: in the window, not at RCV.NXT: a challenge ACK */
	RST_BEYOND_WINDOW, /* RFC 9293 §3.10.7.4 first check: an RST outside the window: nothing */
	SYN_IN_WINDOW,	   /* §4.2: a challenge ACK */
	ACK_FUTURE,	   /* §5.2: SEG.ACK > SND.NXT: a challenge ACK, dropped */
	ACK_PAST,	   /* §5.2: SEG.ACK < SND.UNA - MAX.SND.WND: a challenge ACK, dropped */
	DATA_ACK_FUTURE,   /* data at RCV.NXT with an ACK past SND.NXT: dropped, challenge ACK */
	DATA_ACK_PAST,	   /* data at RCV.NXT with an ACK far behind: dropped, challenge ACK */
	BLIND_CASES,
};

static const char *const blind_names[] = { "RST in window", "RST beyond window", "SYN in window",
					   "ACK in the future", "ACK in the past",
					   "data, ACK in the future", "data, ACK in the past" };

/* Forge case c against victim v (a stack holding connection tp) and check its answer: the
 * challenge-ACK count moves by one or not at all, no reset goes out, the connection stays. False
 * (nothing sent) while the window still open is too small to aim into; the caller tries later. */
static bool blind_hit(struct us_stack *v, struct tcp_sock *tp, enum blind_case c)
{
	static uint8_t junk[1000];
	uint32_t wnd = tp->rcv_adv - tp->rcv_nxt;
	struct forged f = { .saddr = tp->raddr, .daddr = tp->laddr, .sport = tp->rport,
			    .dport = tp->lport, .seq = tp->rcv_nxt, .ack = tp->snd_una,
			    .flags = TCPF_ACK, .win = 65535, .ts = tp->ts_ok, .tsval = tp->ts_recent };
	int64_t ch = us_stats_get(v, "TcpExt", "TCPChallengeACK");
	int64_t rsts = us_stats_get(v, "Tcp", "OutRsts");
	bool challenge = c != RST_BEYOND_WINDOW;

	memset(junk, 0xee, sizeof(junk));
	if (wnd < 1024)
		return false;
	switch (c) {
	case RST_IN_WINDOW:
		f.flags = TCPF_RST;
		f.seq = tp->rcv_nxt + wnd / 2;
		f.ack = 0;
		break;
	case RST_BEYOND_WINDOW:
		f.flags = TCPF_RST;
		f.seq = tp->rcv_nxt + wnd + 100000;
		f.ack = 0;
		break;
	case SYN_IN_WINDOW:
		f.flags = TCPF_SYN;
		f.seq = tp->rcv_nxt + wnd / 4;
		f.ack = 0;
		break;
	case ACK_FUTURE:
		f.ack = tp->snd_max + (1u << 30);
		break;
	case ACK_PAST:
		f.ack = tp->snd_una - (1u << 30);
		break;
	case DATA_ACK_FUTURE:
		f.ack = tp->snd_max + 1000;
		f.data = junk;
		f.len = sizeof(junk);
		break;
	case DATA_ACK_PAST:
		f.ack = tp->snd_una - tp->max_snd_wnd - 1;
		f.data = junk;
		f.len = sizeof(junk);
		break;
	default:
		ck_abort();
	}
	inject(v, &f);
	us_stack_poll(v);
	ck_assert_msg(us_stats_get(v, "TcpExt", "TCPChallengeACK") == ch + (challenge ? 1 : 0),
		      "%s: challenge ACKs %lld -> %lld", blind_names[c], (long long)ch,
		      (long long)us_stats_get(v, "TcpExt", "TCPChallengeACK"));
	ck_assert_int_eq(us_stats_get(v, "Tcp", "OutRsts"), rsts);
	ck_assert_int_eq(tp->state, TCP_ESTABLISHED);
	return true;
}

/* RFC 5961 §3, §4, §5 on a connection moving 8 MB each way: every case of blind_case forged into
 * both ends, each at least four times while data is in flight (one a millisecond). Each gets a
 * challenge ACK or nothing (the counters say which, at once); no reset goes out, both ends stay
 * ESTABLISHED, no byte of the attacker's reaches a reader, both streams arrive byte for byte, and
 * after a clean close both ends are gone. */
START_TEST(test_blind_injection)
{
	struct two t;
	struct us_tcp *l, *sv, *cl;
	struct flow ab, ba;
	int err, hits = 0;

	two_up(&t, NULL, NULL);
	l = us_tcp_open(t.a);
	ck_assert_int_eq(us_tcp_bind(l, 0, 5000), 0);
	ck_assert_int_eq(us_tcp_listen(l, 8), 0);
	cl = us_tcp_open(t.b);
	ck_assert_int_eq(us_tcp_connect(cl, A_IP, 5000), -EINPROGRESS);
	two_run(&t, 10 * MS);
	sv = us_tcp_accept(l, &err);
	ck_assert_ptr_nonnull(sv);
	ck_assert_int_eq(us_tcp_state(cl), TCP_ESTABLISHED);

	ab = (struct flow){ .from = sv, .to = cl, .s = 1, .n = 8u << 20 };
	ba = (struct flow){ .from = cl, .to = sv, .s = 2, .n = 8u << 20 };
	for (int step = 0; ab.got < ab.n || ba.got < ba.n; step++) {
		flow_step(&ab);
		flow_step(&ba);
		/* now, with data just sent and the windows just read open */
		if (ab.got < ab.n && ba.got < ba.n) {
			enum blind_case c = (enum blind_case)(hits % BLIND_CASES);
			struct tcp_sock *va = (struct tcp_sock *)sv, *vb = (struct tcp_sock *)cl;

			if (va->rcv_adv - va->rcv_nxt >= 1024 && vb->rcv_adv - vb->rcv_nxt >= 1024) {
				ck_assert(blind_hit(t.a, va, c));
				ck_assert(blind_hit(t.b, vb, c));
				hits++;
			}
		}
		two_run(&t, MS);
		ck_assert_int_lt(step, 100000);
	}
	printf("blind injection: %d forged segments into each end during 8 MB each way; TCPChallengeACK "
	       "a %lld, b %lld; EstabResets a %lld, b %lld\n",
	       hits, (long long)us_stats_get(t.a, "TcpExt", "TCPChallengeACK"),
	       (long long)us_stats_get(t.b, "TcpExt", "TCPChallengeACK"),
	       (long long)us_stats_get(t.a, "Tcp", "EstabResets"),
	       (long long)us_stats_get(t.b, "Tcp", "EstabResets"));
	ck_assert_int_ge(hits, 4 * BLIND_CASES);
	ck_assert_int_eq(ab.got, ab.n);
	ck_assert_int_eq(ba.got, ba.n);
	ck_assert_int_eq(us_tcp_state(sv), TCP_ESTABLISHED);
	ck_assert_int_eq(us_tcp_state(cl), TCP_ESTABLISHED);
	for (int i = 0; i < 2; i++) {
		struct us_stack *s = i ? t.b : t.a;

		ck_assert_int_eq(us_stats_get(s, "Tcp", "EstabResets"), 0);
		ck_assert_int_eq(us_stats_get(s, "TcpExt", "TCPACKSkippedChallenge"), 0);
		ck_assert_int_eq(us_stats_get(s, "TcpExt", "TCPChallengeACK"),
				 hits - (hits + BLIND_CASES - 1 - RST_BEYOND_WINDOW) / BLIND_CASES);
	}

	ck_assert_int_eq(us_tcp_shutdown(cl, 1), 0);
	ck_assert_int_eq(us_tcp_shutdown(sv, 1), 0);
	two_run(&t, 100 * MS);
	us_tcp_close(cl);
	us_tcp_close(sv);
	us_tcp_close(l);
	two_run(&t, 2 * 30 * SEC + SEC); /* TIME-WAIT */
	ck_assert_uint_eq(t.a->tcp->count, 0);
	ck_assert_uint_eq(t.b->tcp->count, 0);
	two_down(&t);
}
END_TEST

/* ---- SYN flood (RFC 4987) ---- */

#define FLOOD_SYNS 100000
#define FLOOD_PER_MS 10	 /* 10,000 SYNs a second of virtual time: the flood lasts 10 s */
#define LEGIT 200	 /* clients on b, one every 50 ms during the flood */
#define SPOOF_LO 16	 /* spoofed sources: 198.18.0.16 - 198.18.0.250, neighbours that ... */
#define SPOOF_N 235
static const uint8_t MAC_NOBODY[6] = { 2, 0, 0, 0, 0, 0xee }; /* ... no stack answers to */

/* One spoofed SYN from a random address of the peer's subnet and a random port, with the options
 * Linux sends. */
static void spoofed_syn(struct two *t, struct us_rand *r)
{
	uint64_t x = us_rand_next(r);
	struct forged f = { .saddr = (A_IP & ~0xffu) + SPOOF_LO + (uint32_t)(x % SPOOF_N),
			    .daddr = A_IP, .sport = (uint16_t)(1024 + (x >> 16) % 64000), .dport = 80,
			    .seq = (uint32_t)(x >> 32), .flags = TCPF_SYN, .win = 64240, .ts = true,
			    .tsval = (uint32_t)x, .syn_opts = true };

	inject(t->a, &f);
}

struct flood_peak {
	uint32_t conns, synq;
	uint64_t skbs, bytes; /* a's skb pool: buffers in use at the peak; data bytes (sampled) */
};

static void flood_sample(struct two *t, struct tcp_sock *l, struct flood_peak *pk)
{
	struct skb_pool_stats ps;

	skb_pool_get_stats(us_stack_pool(t->a), &ps);
	if (t->a->tcp->count > pk->conns)
		pk->conns = t->a->tcp->count;
	if (l->syn_len > pk->synq)
		pk->synq = l->syn_len;
	pk->skbs = ps.peak; /* the pool's own high-water mark, between samples too */
	if (ps.data_bytes > pk->bytes)
		pk->bytes = ps.data_bytes;
}

/* 100,000 spoofed SYNs (random sources in 198.18.0.0/24, random ports, 10,000 a second) at a:80
 * while 200 clients on b connect to it, one every 50 ms. a has permanent neighbour entries for the
 * spoofed addresses, at a MAC nobody answers to: no ARP, and b drops the SYN-ACKs as not its own.
 * The SYN queue fills with spoofed half-open connections within the first 256 SYNs and stays full
 * (they retry their SYN-ACKs for a minute), so from then on every SYN is answered with a cookie.
 * Every legitimate connection completes, through a cookie, and carries 1000 bytes each way.
 *
 * The memory bound, whatever the number of SYNs: a holds at most 1 listener + 256
 * (tcp_max_syn_backlog) half-open + 200 accepted connections (a->tcp->count, sampled every
 * millisecond; 457 measured), the SYN queue never exceeds 256, and a's skb pool never has more than
 * 512 buffers in use (its high-water mark: the half-open connections' SYN-ACKs, one each, plus a
 * millisecond's frames; 267 measured) nor 1 MiB of buffer memory (sampled; 512 KiB measured). A
 * cookie costs a SYN-ACK in flight and nothing after. */
START_TEST(test_syn_flood)
{
	struct two t;
	struct us_rand r;
	struct us_tcp *l, *cl[LEGIT], *sv[LEGIT];
	struct flood_peak pk = { 0 };
	struct tcp_sock *lt;
	uint8_t buf[1000], msg[1000];
	int ncl = 0, nsv = 0, err;

	two_up(&t, NULL, NULL);
	us_rand_seed(&r, 7);
	for (uint32_t i = 0; i < SPOOF_N; i++)
		ck_assert_int_eq(us_neigh_add(t.a, 1, (A_IP & ~0xffu) + SPOOF_LO + i, MAC_NOBODY), 0);
	l = us_tcp_open(t.a);
	ck_assert_int_eq(us_tcp_bind(l, 0, 80), 0);
	ck_assert_int_eq(us_tcp_listen(l, 128), 0);
	lt = (struct tcp_sock *)l;
	memset(msg, 'm', sizeof(msg));

	for (int ms = 0; ms < FLOOD_SYNS / FLOOD_PER_MS; ms++) {
		for (int i = 0; i < FLOOD_PER_MS; i++)
			spoofed_syn(&t, &r);
		if (ms % 50 == 25 && ncl < LEGIT) {
			cl[ncl] = us_tcp_open(t.b);
			ck_assert_int_eq(us_tcp_connect(cl[ncl], A_IP, 80), -EINPROGRESS);
			ncl++;
		}
		two_run(&t, MS);
		while (nsv < LEGIT && (sv[nsv] = us_tcp_accept(l, &err)) != NULL)
			nsv++;
		flood_sample(&t, lt, &pk);
	}
	ck_assert_int_eq(ncl, LEGIT);
	for (int i = 0; i < 100 && nsv < LEGIT; i++) {
		two_run(&t, 10 * MS);
		while (nsv < LEGIT && (sv[nsv] = us_tcp_accept(l, &err)) != NULL)
			nsv++;
		flood_sample(&t, lt, &pk);
	}
	ck_assert_int_eq(nsv, LEGIT);
	for (int i = 0; i < LEGIT; i++) {
		ck_assert_int_eq(us_tcp_state(cl[i]), TCP_ESTABLISHED);
		ck_assert_int_eq(us_tcp_state(sv[i]), TCP_ESTABLISHED);
		ck_assert_int_eq(us_tcp_send(cl[i], msg, sizeof(msg)), (int)sizeof(msg));
		ck_assert_int_eq(us_tcp_send(sv[i], msg, sizeof(msg)), (int)sizeof(msg));
	}
	two_run(&t, 100 * MS);
	for (int i = 0; i < LEGIT; i++) {
		ck_assert_int_eq(us_tcp_recv(sv[i], buf, sizeof(buf)), (int)sizeof(buf));
		ck_assert_int_eq(us_tcp_recv(cl[i], buf, sizeof(buf)), (int)sizeof(buf));
		ck_assert(memcmp(buf, msg, sizeof(msg)) == 0);
	}

	printf("SYN flood: %d spoofed SYNs, %d/%d clients connected; a: SyncookiesSent %lld, "
	       "SyncookiesRecv %lld, SyncookiesFailed %lld, ListenDrops %lld; peak: %u connections, "
	       "SYN queue %u, %llu skbs, %llu bytes\n",
	       FLOOD_SYNS, nsv, LEGIT, (long long)us_stats_get(t.a, "TcpExt", "SyncookiesSent"),
	       (long long)us_stats_get(t.a, "TcpExt", "SyncookiesRecv"),
	       (long long)us_stats_get(t.a, "TcpExt", "SyncookiesFailed"),
	       (long long)us_stats_get(t.a, "TcpExt", "ListenDrops"), pk.conns, pk.synq,
	       (unsigned long long)pk.skbs, (unsigned long long)pk.bytes);
	ck_assert_uint_le(pk.synq, 256);
	ck_assert_uint_le(pk.conns, 1 + 256 + LEGIT);
	ck_assert_uint_le(pk.skbs, 2 * 256);
	ck_assert_uint_le(pk.bytes, 1u << 20);
	/* all but the first SYNs were answered with cookies, and the clients' ACKs returned them */
	ck_assert_int_ge(us_stats_get(t.a, "TcpExt", "SyncookiesSent"), FLOOD_SYNS - 256);
	ck_assert_int_ge(us_stats_get(t.a, "TcpExt", "SyncookiesRecv"), LEGIT - 10);
	ck_assert_int_eq(us_stats_get(t.a, "TcpExt", "SyncookiesFailed"), 0);
	ck_assert_int_eq(us_stats_get(t.a, "TcpExt", "ListenDrops"), 0);
	ck_assert_int_le(us_stats_get(t.a, "Arp", "OutRequests"), 1); /* b's address, once */

	for (int i = 0; i < LEGIT; i++) {
		us_tcp_abort(cl[i]);
		us_tcp_abort(sv[i]);
	}
	us_tcp_close(l);
	two_run(&t, 100 * MS);
	ck_assert_uint_eq(t.a->tcp->count, 0);
	ck_assert_uint_eq(t.b->tcp->count, 0);
	two_down(&t);
}
END_TEST

/* The same flood without cookies (US_TCP_SYNCOOKIES_OFF), shorter: the SYN queue is full of spoofed
 * half-open connections after 128 ms, every other SYN is dropped (ListenDrops), and a legitimate
 * client's SYN at 1 s and its retransmissions 1 s and 3 s later all are: at 5 s it is still in
 * SYN-SENT. What the cookies in test_syn_flood are for. */
START_TEST(test_syn_flood_without_cookies)
{
	struct us_stack_config cfg = { .tcp_syncookies = US_TCP_SYNCOOKIES_OFF };
	struct two t;
	struct us_rand r;
	struct us_tcp *l, *c;

	two_up(&t, NULL, &cfg);
	us_rand_seed(&r, 8);
	for (uint32_t i = 0; i < SPOOF_N; i++)
		ck_assert_int_eq(us_neigh_add(t.a, 1, (A_IP & ~0xffu) + SPOOF_LO + i, MAC_NOBODY), 0);
	l = us_tcp_open(t.a);
	ck_assert_int_eq(us_tcp_bind(l, 0, 80), 0);
	ck_assert_int_eq(us_tcp_listen(l, 128), 0);
	c = us_tcp_open(t.b);
	for (int ms = 0; ms < 5000; ms++) {
		for (int i = 0; i < 2; i++)
			spoofed_syn(&t, &r);
		if (ms == 1000)
			ck_assert_int_eq(us_tcp_connect(c, A_IP, 80), -EINPROGRESS);
		two_run(&t, MS);
	}
	ck_assert_int_eq(us_tcp_state(c), TCP_SYN_SENT);
	ck_assert_int_eq(us_stats_get(t.a, "TcpExt", "SyncookiesSent"), 0);
	ck_assert_int_ge(us_stats_get(t.a, "TcpExt", "ListenDrops"), 10000 - 256 + 3);
	ck_assert_uint_eq(((struct tcp_sock *)l)->syn_len, 256);
	us_tcp_abort(c);
	us_tcp_close(l);
	two_run(&t, 100 * MS);
	ck_assert_uint_eq(t.a->tcp->count, 0);
	two_down(&t);
}
END_TEST

static Suite *tcp_attack_suite(void)
{
	Suite *s = suite_create("tcp_attack");
	TCase *tc = test_tcase("attack");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_blind_injection);
	tcase_add_test(tc, test_syn_flood);
	tcase_add_test(tc, test_syn_flood_without_cookies);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run(tcp_attack_suite());
}
