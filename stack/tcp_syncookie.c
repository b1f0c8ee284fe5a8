/*
 * tcp_syncookie.c - what TCP does against attackers who cannot see its segments: SYN cookies (RFC
 * 4987 §3.6) when a listener's SYN queue is full, and the limit on RFC 5961's challenge ACKs.
 *
 * A SYN cookie is the ISN of a SYN-ACK sent without keeping any state (Bernstein's design, laid
 * out as Linux's). With H SipHash-2-4 under the stack's cookie key, of the 4-tuple, the SYN's
 * sequence number and a counter, count a counter of minutes, and mss an index into a table of four
 * MSS values,
 *
 *   ISN = H(4-tuple, SEG.SEQ, 0) + (count << 24) + ((H(4-tuple, SEG.SEQ, count) + mss) mod 2^24)
 *
 * The ACK that completes the handshake comes to the listener, as no connection has its 4-tuple:
 * taking H(4-tuple, SEG.SEQ - 1, 0) from SEG.ACK - 1 leaves count in the top byte, which must be
 * the current counter or the one before (a cookie lives one to two minutes), and the second hash
 * for that counter must then leave an index of the table: a guess is right with odds of 2 * 4 in
 * 2^32. (Linux adds SEG.SEQ to the sum rather than hashing it; hashed, a cookie is good only for
 * the sequence number it answered.) The MSS is all the ISN carries: window scale and
 * SACK-permitted ride in the low six bits of our TSval when the SYN had timestamps, coming back in
 * the ACK's TSecr; without timestamps a cookie SYN-ACK offers neither (as Linux's do).
 *
 *   tcp_syncookie_send   the SYN-ACK, for a SYN the SYN queue has no room for
 *   tcp_syncookie_check  an ACK to a listener: a valid cookie makes the child, as if the SYN had
 *                        made it and its SYN-ACK had been acknowledged
 *   tcp_challenge_ack    RFC 5961 §7: challenge ACKs per second, for the whole stack
 */
#include "tcp.h"

#include <string.h>

#include "checksum.h"
#include "siphash.h"
#include "wire/ipv4.h"

#define COOKIE_PERIOD_NS (60 * US_NSEC_PER_SEC) /* the counter's tick (Linux: a minute) */
#define COOKIE_BITS 24				 /* below the counter's byte: the keyed part */
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)
#define COOKIE_MAX_AGE 2 /* counters a cookie is good for: the current one and the one before */
/* ACKs to listeners are checked for cookies this long after the last one went out (Linux's
 * TCP_SYNCOOKIE_VALID, per listener there, per stack here); otherwise an ACK for no connection is
 * only what §3.10.7.2 says: a reset. */
#define COOKIE_CHECK_NS (COOKIE_MAX_AGE * COOKIE_PERIOD_NS)

/* The MSS values a cookie can say (Linux's msstab): the peer's MSS is rounded down to one. */
static const uint16_t tcp_cookie_mss[] = { 536, 1300, 1440, 1460 };

/* The low bits of a cookie SYN-ACK's TSval (Linux's layout, bit 5 being ECN there): */
#define COOKIE_TS_BITS 6
#define COOKIE_TS_WSCALE 0x0f /* the peer's window scale; 0xf: no window scaling */
#define COOKIE_TS_SACK 0x10   /* SACK-permitted */

/* Labels for the cookie's keyed hashes. */
enum { COOKIE_H_TUPLE, COOKIE_H_COUNT };

struct cookie_tuple {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
};

void tcp_syncookie_init(struct us_stack *st)
{
	struct tcp_table *t = st->tcp;

	/* The key is drawn from the ISN secret (random from the stack's seeded generator, or
	 * configured) through SipHash as a PRF with two fixed inputs, so it takes nothing more from
	 * the generator, and a fixed ISN key makes cookies reproducible too (pcap replay). */
	for (uint32_t i = 0; i < 2; i++) {
		uint32_t in[2] = { 0x636f6f6b, i }; /* "cook" */
		uint64_t h = siphash24(t->isn_key, in, sizeof(in));

		memcpy(t->cookie_key + 8 * i, &h, 8);
	}
}

static void cookie_tuple_of(const struct sk_buff *skb, struct cookie_tuple *k)
{
	const uint8_t *ih = skb_network_header(skb), *th = skb_transport_header(skb);

	k->laddr = ipv4_daddr(ih);
	k->raddr = ipv4_saddr(ih);
	k->lport = tcp_dport(th);
	k->rport = tcp_sport(th);
}

static uint32_t cookie_hash(const struct tcp_table *t, const struct cookie_tuple *k, uint32_t sseq,
			    uint32_t count, uint32_t label)
{
	uint32_t w[6] = { k->laddr, k->raddr, (uint32_t)k->lport << 16 | k->rport, sseq, count, label };

	return (uint32_t)siphash24(t->cookie_key, w, sizeof(w));
}

static uint32_t cookie_count(const struct us_stack *st)
{
	return (uint32_t)(st->now / COOKIE_PERIOD_NS);
}

/* The ISN for the SYN of sequence number sseq with MSS index mss. */
static uint32_t cookie_make(const struct us_stack *st, const struct cookie_tuple *k, uint32_t sseq,
			    uint32_t mss)
{
	uint32_t count = cookie_count(st);

	return cookie_hash(st->tcp, k, sseq, 0, COOKIE_H_TUPLE) + (count << COOKIE_BITS) +
	       ((cookie_hash(st->tcp, k, sseq, count, COOKIE_H_COUNT) + mss) & COOKIE_MASK);
}

/* The MSS index cookie (our ISN) holds for the SYN of sequence number sseq, or -1 when it is not
 * one of ours or is too old. */
static int cookie_check(const struct us_stack *st, const struct cookie_tuple *k, uint32_t cookie,
			uint32_t sseq)
{
	uint32_t count = cookie_count(st), diff, mss;

	cookie -= cookie_hash(st->tcp, k, sseq, 0, COOKIE_H_TUPLE);
	/* what is left: (count << 24) + ((H(count) + mss) mod 2^24) */
	diff = (count - (cookie >> COOKIE_BITS)) & (0xffffffffu >> COOKIE_BITS);
	if (diff >= COOKIE_MAX_AGE)
		return -1;
	mss = (cookie - cookie_hash(st->tcp, k, sseq, count - diff, COOKIE_H_COUNT)) & COOKIE_MASK;
	return mss < sizeof(tcp_cookie_mss) / sizeof(tcp_cookie_mss[0]) ? (int)mss : -1;
}

/* Our timestamp clock's offset for a cookie connection: the address pair's, as for every other
 * connection (tcp_ts_offset), so the child goes on from the TSval its SYN-ACK sent. */
static uint32_t cookie_ts_offset(struct us_stack *st, const struct cookie_tuple *k)
{
	return tcp_ts_offset(st, k->laddr, k->raddr);
}

/* The (unscaled) window a SYN-ACK offers, as tcp_select_window gives it for a new child. */
static uint32_t cookie_window(const struct tcp_sock *l)
{
	return l->rcvbuf < 65535 ? l->rcvbuf : 65535;
}

bool tcp_syncookie_wanted(const struct tcp_sock *l)
{
	const struct us_stack_config *c = &l->st->cfg;

	return c->tcp_syncookies == 2 ||
	       (c->tcp_syncookies == 1 && l->syn_len >= c->tcp_max_syn_backlog);
}

/* RFC 4987 §3.6: answer the SYN in `in` (data at its payload, headers set; read only) to listener l
 * with a SYN-ACK whose ISN is a cookie, laid out as tcp_output's SYN-ACKs are, and keep nothing but
 * the time until which ACKs are checked for cookies. */
void tcp_syncookie_send(struct tcp_sock *l, const struct sk_buff *in)
{
	struct us_stack *st = l->st;
	const struct us_stack_config *cfg = &st->cfg;
	const struct tcp_skb_cb *icb = TCP_SKB_CB(in);
	const struct tcp_opts *o = icb->opts;
	struct cookie_tuple k;
	struct ip_out ipo = { .proto = IP_PROTO_TCP, .df = true };
	uint16_t peer_mss = o->mss_ok && o->mss ? o->mss : 536;
	bool ts = o->ts_ok && !cfg->tcp_no_timestamps;
	/* without timestamps there is nowhere to keep these: not offered */
	bool sack = ts && o->sack_ok && !cfg->tcp_no_sack;
	bool ws = ts && o->wscale_ok && !cfg->tcp_no_window_scaling;
	uint32_t mss = sizeof(tcp_cookie_mss) / sizeof(tcp_cookie_mss[0]) - 1, isn, n = 0, hlen;
	uint8_t opt[40], *h;
	struct sk_buff *skb;

	cookie_tuple_of(in, &k);
	while (mss > 0 && peer_mss < tcp_cookie_mss[mss])
		mss--;
	isn = cookie_make(st, &k, icb->seq, mss);

	opt[n++] = TCPOPT_MSS;
	opt[n++] = TCPOLEN_MSS;
	put_be16(opt + n, tcp_route_mss(st, k.raddr));
	n += 2;
	if (sack) {
		opt[n++] = TCPOPT_SACK_PERM;
		opt[n++] = TCPOLEN_SACK_PERM;
	} else if (ts) {
		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_NOP;
	}
	if (ts) {
		uint32_t now = (uint32_t)(st->now / US_NSEC_PER_MSEC) + cookie_ts_offset(st, &k);
		uint32_t bits = (ws ? (o->wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->wscale)
				    : COOKIE_TS_WSCALE) |
				(sack ? COOKIE_TS_SACK : 0);
		uint32_t tsval = (now & ~((1u << COOKIE_TS_BITS) - 1)) | bits;

		/* never ahead of the clock the child will keep: RTT samples stay positive */
		if (seq_gt(tsval, now))
			tsval -= 1u << COOKIE_TS_BITS;
		opt[n++] = TCPOPT_TIMESTAMP;
		opt[n++] = TCPOLEN_TIMESTAMP;
		put_be32(opt + n, tsval);
		put_be32(opt + n + 4, o->tsval);
		n += 8;
	}
	if (ws) {
		opt[n++] = TCPOPT_NOP;
		opt[n++] = TCPOPT_WINDOW;
		opt[n++] = TCPOLEN_WINDOW;
		opt[n++] = tcp_choose_wscale(l->rcvbuf);
	}
	hlen = TCP_HDR_MIN + n;

	skb = skb_alloc(st->pool, SKB_MAX_HEADER);
	if (!skb)
		return;
	skb_reserve(skb, SKB_MAX_HEADER);
	h = skb_push(skb, hlen);
	if (!h) {
		skb_free(skb);
		return;
	}
	memset(h, 0, TCP_HDR_MIN);
	put_be16(h, k.lport);
	put_be16(h + 2, k.rport);
	put_be32(h + 4, isn);
	put_be32(h + 8, icb->seq + 1);
	h[12] = (uint8_t)((hlen / 4) << 4);
	h[13] = TCPF_SYN | TCPF_ACK;
	put_be16(h + 14, (uint16_t)cookie_window(l)); /* RFC 7323 §2.2: a SYN's window is not scaled */
	memcpy(h + TCP_HDR_MIN, opt, n);
	ipo.saddr = k.laddr;
	ipo.daddr = k.raddr;
	put_be16(h + 16, csum_fold(csum_partial(h, hlen,
						csum_pseudo(k.laddr, k.raddr, IP_PROTO_TCP, hlen))));
	skb_reset_transport_header(skb);
	st->tcp->cookie_until_ns = st->now + COOKIE_CHECK_NS;
	TCPX_INC(st, SyncookiesSent);
	TCP_INC(st, OutSegs);
	ip_output(st, skb, &ipo);
}

/* An ACK (skb: data at the payload, headers set; read only) reached listener l for no connection:
 * if it returns a valid cookie, make the child as tcp_rcv_listen would have for the SYN, with what
 * the cookie kept (the MSS from the table; window scale, SACK-permitted and timestamps from the
 * TSecr), and what its SYN-ACK sent (ISS = SEG.ACK - 1, acknowledged by this ACK; our TSval clock;
 * the window). */
struct tcp_sock *tcp_syncookie_check(struct tcp_sock *l, const struct sk_buff *skb, bool *reset)
{
	struct us_stack *st = l->st;
	const struct us_stack_config *cfg = &st->cfg;
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	const struct tcp_opts *o = cb->opts;
	struct tcp_opts syn = { .mss_ok = true };
	struct cookie_tuple k;
	struct tcp_sock *c;
	int mss;

	*reset = true;
	/* an ACK without SYN or RST, while cookies went out lately (Linux checks no others: a flood of
	 * forged ACKs at a listener that sent none has no cookie to guess) */
	if ((cb->flags & (TCPF_SYN | TCPF_RST | TCPF_ACK)) != TCPF_ACK ||
	    (cfg->tcp_syncookies != 1 && cfg->tcp_syncookies != 2) ||
	    st->now >= st->tcp->cookie_until_ns)
		return NULL;
	cookie_tuple_of(skb, &k);
	mss = cookie_check(st, &k, cb->ack_seq - 1, cb->seq - 1);
	if (mss < 0) {
		TCPX_INC(st, SyncookiesFailed);
		return NULL;
	}
	TCPX_INC(st, SyncookiesRecv);
	*reset = false;
	if (l->accept_len >= l->backlog + 1) {
		/* as for the ACK of a SYN-RECEIVED child: no room, dropped; the peer resends */
		TCPX_INC(st, ListenOverflows);
		TCPX_INC(st, ListenDrops);
		return NULL;
	}
	syn.mss = tcp_cookie_mss[mss];
	if (o->ts_ok && !cfg->tcp_no_timestamps) {
		syn.ts_ok = true;
		syn.tsval = o->tsval;
		syn.sack_ok = (o->tsecr & COOKIE_TS_SACK) != 0;
		if ((o->tsecr & COOKIE_TS_WSCALE) != COOKIE_TS_WSCALE) {
			syn.wscale_ok = true;
			syn.wscale = (uint8_t)(o->tsecr & COOKIE_TS_WSCALE);
		}
	}
	c = tcp_child_new(l, skb, cb->seq - 1, &syn, cb->ack_seq - 1);
	if (!c) {
		TCPX_INC(st, ListenDrops);
		return NULL;
	}
	c->ts_offset = cookie_ts_offset(st, &k);
	c->snd_nxt = c->snd_max = c->iss + 1; /* the SYN-ACK went out */
	c->rcv_adv = c->rcv_nxt + cookie_window(l);
	c->last_ack_sent = c->rcv_nxt;
	return c;
}

/* RFC 5961 §7 (ACK throttling), as Linux's tcp_challenge_ack_limit: at most the configured number
 * of challenge ACKs in a second, counted from the first of them, for all connections together. A
 * deterministic budget shared by all connections tells an off-path attacker who can count his own
 * challenge ACKs how many others went out (CVE-2016-5696; Linux randomizes the budget and now
 * defaults to no limit): a limit well above what the connections see is the safe setting. */
void tcp_challenge_ack(struct tcp_sock *tp)
{
	struct us_stack *st = tp->st;
	struct tcp_table *t = st->tcp;
	uint32_t limit = st->cfg.tcp_challenge_ack_limit;

	if (limit != US_TCP_CHALLENGE_ACK_UNLIMITED) {
		if (st->now - t->challenge_start_ns >= US_NSEC_PER_SEC) {
			t->challenge_start_ns = st->now;
			t->challenge_count = 0;
		}
		if (t->challenge_count >= limit) {
			TCPX_INC(st, TCPACKSkippedChallenge);
			return;
		}
		t->challenge_count++;
	}
	TCPX_INC(st, TCPChallengeACK);
	tp->flags |= TF_ACK_NOW;
}
