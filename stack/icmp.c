/*
 * icmp.c - ICMP (RFC 792, RFC 1122 §3.2.2): echo replies, the echo API behind examples/ping,
 * errors received (handed to the protocol that sent the quoted datagram) and errors sent.
 *
 * Sending an error follows RFC 1122 §3.2.2: never about an ICMP error, a datagram to a broadcast or
 * multicast address (IP or link layer), a fragment other than the first, or one whose source is not
 * a single host; and never faster than a token bucket allows (icmp_rate_per_sec, icmp_burst, as
 * Linux's icmp_msgs_per_sec and icmp_msgs_burst). The error quotes the IP header and the first 8
 * bytes of the datagram (RFC 792).
 */
#include "core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "ustack/proto.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define PING_MAX_QUEUED 256

static inline struct ping_cb *ping_cb(struct sk_buff *skb)
{
	_Static_assert(sizeof(struct ping_cb) <= SKB_CB_SIZE, "ping_cb fits in skb->cb");
	return (struct ping_cb *)(void *)skb->cb;
}

static struct icmp_echo_sock *echo_sock_find(struct us_stack *st, uint16_t id)
{
	struct icmp_echo_sock *p = st->echo_socks;

	while (p && p->id != id)
		p = p->next;
	return p;
}

static void echo_sock_queue(struct icmp_echo_sock *p, struct sk_buff *skb)
{
	if (p->rx.len >= PING_MAX_QUEUED)
		skb_free(skb_dequeue(&p->rx));
	skb_queue_tail(&p->rx, skb);
	if (p->owner)
		sock_wake(p->st, p->owner);
}

/* The options of an echo reply (RFC 1122 §3.2.2.6): a Record Route or Timestamp option in the
 * request is returned, updated with this host (RFC 791: our address at the pointer, the pointer moved
 * on; a timestamp in milliseconds with the high-order bit set, since the stack keeps no time of day),
 * without truncation. Other options are not returned. The request's options passed the length gate.
 * Returns the length written to out, padded with EOL to a multiple of 4. */
static uint8_t icmp_reply_options(struct us_stack *st, const uint8_t *ih, uint32_t me, uint8_t out[40])
{
	uint32_t hl = ipv4_hlen(ih), i = IPV4_HDR_MIN, n = 0;
	uint32_t ts = (uint32_t)((us_now(st) / US_NSEC_PER_MSEC) % 86400000u) | 0x80000000u;

	while (i < hl && ih[i] != 0) {
		uint8_t t = ih[i], l, ptr;

		if (t == 1) {
			i++;
			continue;
		}
		l = ih[i + 1];
		if ((t == 7 || t == 68) && n + l <= 40) {
			uint8_t *o = out + n;

			memcpy(o, ih + i, l);
			ptr = o[2];
			if (t == 7 && ptr >= 4 && ptr + 3u <= l) {
				put_be32(o + ptr - 1, me);
				o[2] = (uint8_t)(ptr + 4);
			} else if (t == 68 && ptr >= 5) {
				uint8_t flg = o[3] & 0x0f, oflw = o[3] >> 4;

				if (flg == 0 && ptr + 3u <= l) {
					put_be32(o + ptr - 1, ts);
					o[2] = (uint8_t)(ptr + 4);
				} else if (flg == 1 && ptr + 7u <= l) {
					put_be32(o + ptr - 1, me);
					put_be32(o + ptr + 3, ts);
					o[2] = (uint8_t)(ptr + 8);
				} else if (flg == 3 && ptr + 7u <= l) {
					if (get_be32(o + ptr - 1) == me) {
						put_be32(o + ptr + 3, ts);
						o[2] = (uint8_t)(ptr + 8);
					}
				} else if (oflw < 15) {
					o[3] = (uint8_t)((oflw + 1) << 4 | flg); /* no room: count the overflow */
				}
			}
			n += l;
		}
		i += l;
	}
	while (n & 3)
		out[n++] = 0;
	return (uint8_t)n;
}

/* Answer an echo request (skb->data at the ICMP header) with the same identifier, sequence number
 * and data (RFC 1122 §3.2.2.6: returned entirely and unmodified). */
static void icmp_echo_reply(struct us_stack *st, const struct sk_buff *req)
{
	const uint8_t *ih = skb_network_header(req);
	struct sk_buff *skb;
	struct ip_out o = { .saddr = ipv4_daddr(ih), .daddr = ipv4_saddr(ih), .proto = IP_PROTO_ICMP };
	uint8_t *p, opts[40];

	/* Linux's icmp_echo_ignore_broadcasts: no answer to a broadcast ping (a smurf amplifier) */
	if (us_addr_is_broadcast(st, ipv4_daddr(ih)))
		return;
	skb = skb_alloc(st->pool, SKB_MAX_HEADER + req->len);
	if (!skb) {
		ICMP_INC(st, OutErrors);
		return;
	}
	skb_reserve(skb, SKB_MAX_HEADER);
	p = skb_put(skb, req->len);
	memcpy(p, req->data, req->len);
	p[0] = ICMP_ECHOREPLY;
	put_be16(p + 2, 0);
	put_be16(p + 2, inet_csum(p, req->len));
	ICMP_INC(st, OutMsgs);
	ICMP_INC(st, OutEchoReps);
	if (ipv4_hlen(ih) > IPV4_HDR_MIN) {
		o.optlen = icmp_reply_options(st, ih, ipv4_daddr(ih), opts);
		o.opts = o.optlen ? opts : NULL;
	}
	ip_output(st, skb, &o);
}

static void icmp_echo_reply_rcv(struct us_stack *st, struct sk_buff *skb)
{
	const uint8_t *ih = skb_network_header(skb);
	struct icmp_echo_sock *p = echo_sock_find(st, icmp_echo_id(skb->data));

	if (!p) {
		skb_free(skb);
		return;
	}
	ping_cb(skb)->error = 0;
	ping_cb(skb)->from = ipv4_saddr(ih);
	ping_cb(skb)->ttl = ipv4_ttl(ih);
	ping_cb(skb)->seq = icmp_echo_seq(skb->data);
	skb_pull(skb, ICMP_HDR_LEN);
	echo_sock_queue(p, skb);
}

/* Linux's icmp_err_convert table: the errno for each destination unreachable code, and whether the
 * error is "hard". Hard errors reach a connected UDP endpoint (RFC 1122 §4.1.3.3 leaves the choice to
 * the implementation; Linux reports only these without IP_RECVERR); echo endpoints see them all. */
static const struct {
	int err;
	bool hard;
} icmp_unreach[16] = {
	[ICMP_NET_UNREACH] = { ENETUNREACH, false },  [ICMP_HOST_UNREACH] = { EHOSTUNREACH, false },
	[ICMP_PROT_UNREACH] = { ENOPROTOOPT, true },  [ICMP_PORT_UNREACH] = { ECONNREFUSED, true },
	[ICMP_FRAG_NEEDED] = { EMSGSIZE, false },     [5] = { EOPNOTSUPP, false },
	[6] = { ENETUNREACH, true },		      [7] = { EHOSTDOWN, true },
	[8] = { ENONET, true },			      [9] = { ENETUNREACH, true },
	[10] = { EHOSTUNREACH, true },		      [11] = { ENETUNREACH, false },
	[12] = { EHOSTUNREACH, false },		      [13] = { EHOSTUNREACH, true },
	[14] = { EHOSTUNREACH, true },		      [15] = { EHOSTUNREACH, true },
};

/* An error about a datagram we sent: check the quoted header and pass it to its protocol. */
static void icmp_error_rcv(struct us_stack *st, struct sk_buff *skb, int err, bool hard)
{
	const uint8_t *h = skb->data, *q = skb->data + ICMP_HDR_LEN;
	uint32_t qlen = skb->len - ICMP_HDR_LEN;

	/* RFC 1122 §3.2.2: the quoted header and at least 8 bytes of what followed it */
	if (skb->len < ICMP_HDR_LEN + IPV4_HDR_MIN || ipv4_version(q) != 4 ||
	    ipv4_hlen(q) < IPV4_HDR_MIN || qlen < ipv4_hlen(q) + 8) {
		ICMP_INC(st, InErrors);
		return;
	}
	if (!us_iface_by_addr(st, ipv4_saddr(q)))
		return; /* not about something we sent */
	if (icmp_type(h) == ICMP_DEST_UNREACH && icmp_code(h) == ICMP_FRAG_NEEDED)
		ip_pmtu_update(st, ipv4_daddr(q), icmp_frag_mtu(h));
	if (ipv4_frag_off(q) != 0)
		return; /* only the first fragment carries the ports or the echo id */
	switch (ipv4_proto(q)) {
	case IP_PROTO_UDP:
		/* fragmentation needed too: Linux's __udp4_lib_err makes it a hard EMSGSIZE unless
		 * the socket set IP_PMTUDISC_DONT (udp_err knows) */
		if (hard || err == -EMSGSIZE)
			udp_err(st, q, qlen, err);
		break;
	case IP_PROTO_ICMP:
		icmp_local_error(st, q, qlen, err, hard, ipv4_saddr(skb_network_header(skb)));
		break;
	case IP_PROTO_TCP:
		tcp_v4_err(st, q, qlen, err);
		break;
	default:
		break;
	}
}

/* Consumes skb; skb->data at the ICMP header, the IP header at skb_network_header(). */
void icmp_rcv(struct us_stack *st, struct sk_buff *skb)
{
	const uint8_t *h = skb->data;

	ICMP_INC(st, InMsgs);
	if (skb->len < ICMP_HDR_LEN) {
		ICMP_INC(st, InErrors);
		goto drop;
	}
	if (inet_csum(h, skb->len) != 0) {
		ICMP_INC(st, InCsumErrors);
		ICMP_INC(st, InErrors);
		goto drop;
	}
	switch (icmp_type(h)) {
	case ICMP_ECHO:
		ICMP_INC(st, InEchos);
		icmp_echo_reply(st, skb);
		break;
	case ICMP_ECHOREPLY:
		ICMP_INC(st, InEchoReps);
		icmp_echo_reply_rcv(st, skb);
		return;
	case ICMP_DEST_UNREACH:
		ICMP_INC(st, InDestUnreachs);
		if (icmp_code(h) < 16)
			icmp_error_rcv(st, skb, -icmp_unreach[icmp_code(h)].err,
				       icmp_unreach[icmp_code(h)].hard);
		else
			icmp_error_rcv(st, skb, -EHOSTUNREACH, false);
		break;
	case ICMP_TIME_EXCEEDED:
		/* RFC 1122 §3.2.2.4: passed to the transport; a soft error (EHOSTUNREACH, not fatal) in
		 * Linux's ping_err, __udp4_lib_err and tcp_v4_err */
		ICMP_INC(st, InTimeExcds);
		icmp_error_rcv(st, skb, -EHOSTUNREACH, false);
		break;
	default:
		break;
	}
drop:
	skb_free(skb);
}

/* The token bucket of ICMP errors: true when one may be sent now. */
static bool icmp_rate_allow(struct us_stack *st)
{
	uint64_t rate = st->cfg.icmp_rate_per_sec ? st->cfg.icmp_rate_per_sec : 1000;
	uint64_t cap = (uint64_t)(st->cfg.icmp_burst ? st->cfg.icmp_burst : 50) * 1000;

	if (st->icmp_tokens_ns == 0) {
		st->icmp_tokens_milli = cap;
	} else if (st->now > st->icmp_tokens_ns) {
		uint64_t dt = st->now - st->icmp_tokens_ns;
		/* thousandths of a token: rate tokens/s is rate thousandths per ms */
		uint64_t add = dt / US_NSEC_PER_MSEC * rate + (dt % US_NSEC_PER_MSEC) * rate / US_NSEC_PER_MSEC;
		st->icmp_tokens_milli = st->icmp_tokens_milli + add > cap ? cap : st->icmp_tokens_milli + add;
	}
	st->icmp_tokens_ns = st->now ? st->now : 1;
	if (st->icmp_tokens_milli < 1000)
		return false;
	st->icmp_tokens_milli -= 1000;
	return true;
}

void icmp_send_error(struct us_stack *st, const struct sk_buff *skb, uint8_t type, uint8_t code,
		     uint32_t info)
{
	const uint8_t *h = skb_network_header(skb), *mac = skb_mac_header(skb);
	uint32_t avail, hl, qlen, saddr, daddr;
	struct ip_out o = { .proto = IP_PROTO_ICMP };
	struct sk_buff *out;
	uint8_t *p;

	if (!h || h < skb->head || h >= skb->tail)
		return;
	avail = (uint32_t)(skb->tail - h);
	if (avail < IPV4_HDR_MIN || ipv4_hlen(h) > avail)
		return;
	hl = ipv4_hlen(h);
	saddr = ipv4_saddr(h);
	daddr = ipv4_daddr(h);
	/* RFC 1122 §3.2.2: the datagrams that never get an error */
	if (ipv4_proto(h) == IP_PROTO_ICMP && (avail <= hl || icmp_is_error(h[hl]) || h[hl] > ICMP_TIMESTAMPREPLY))
		return;
	if (us_addr_is_broadcast(st, daddr) || ipv4_is_multicast(daddr))
		return;
	if (mac && eth_is_multicast(eth_dst(mac)))
		return;
	if (ipv4_frag_off(h) != 0)
		return;
	if (ipv4_is_zeronet(saddr) || ipv4_is_lbcast(saddr) || ipv4_is_multicast(saddr) ||
	    ipv4_is_loopback(saddr) || (saddr & 0xf0000000u) == 0xf0000000u ||
	    us_addr_is_broadcast(st, saddr))
		return;
	if (!icmp_rate_allow(st)) {
		ICMP_INC(st, OutRateLimitGlobal);
		return;
	}
	qlen = hl + 8 < avail ? hl + 8 : avail;
	out = skb_alloc(st->pool, SKB_MAX_HEADER + ICMP_HDR_LEN + qlen);
	if (!out) {
		ICMP_INC(st, OutErrors);
		return;
	}
	skb_reserve(out, SKB_MAX_HEADER);
	p = skb_put(out, ICMP_HDR_LEN + qlen);
	p[0] = type;
	p[1] = code;
	put_be16(p + 2, 0);
	put_be32(p + 4, info);
	memcpy(p + ICMP_HDR_LEN, h, qlen);
	put_be16(p + 2, inet_csum(p, ICMP_HDR_LEN + qlen));
	ICMP_INC(st, OutMsgs);
	if (type == ICMP_DEST_UNREACH)
		ICMP_INC(st, OutDestUnreachs);
	else if (type == ICMP_TIME_EXCEEDED)
		ICMP_INC(st, OutTimeExcds);
	o.saddr = us_iface_by_addr(st, daddr) ? daddr : 0;
	o.daddr = saddr;
	ip_output(st, out, &o);
}

void icmp_local_error(struct us_stack *st, const uint8_t *quoted, uint32_t len, int err, bool hard,
		      uint32_t from)
{
	const uint8_t *ih = quoted + ipv4_hlen(quoted);
	struct icmp_echo_sock *p;
	struct sk_buff *skb;

	if (len < ipv4_hlen(quoted) + ICMP_HDR_LEN || icmp_type(ih) != ICMP_ECHO)
		return;
	p = echo_sock_find(st, icmp_echo_id(ih));
	if (!p)
		return;
	/* Linux's ping_err: without IP_RECVERR only a hard error on a connected socket is reported */
	if (!p->all_errors && !(hard && p->connected))
		return;
	skb = skb_alloc(st->pool, 0);
	if (!skb)
		return;
	ping_cb(skb)->error = err;
	ping_cb(skb)->from = from;
	ping_cb(skb)->seq = icmp_echo_seq(ih);
	ping_cb(skb)->ttl = 0;
	skb->tstamp_ns = st->now;
	echo_sock_queue(p, skb);
}

void icmp_destroy(struct us_stack *st)
{
	while (st->echo_socks)
		us_ping_close((struct us_ping *)st->echo_socks);
}

/* ---- the echo API ---- */

struct us_ping *us_ping_open(struct us_stack *st, uint16_t id)
{
	struct icmp_echo_sock *p;

	if (echo_sock_find(st, id)) {
		errno = EADDRINUSE;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->st = st;
	p->id = id;
	p->all_errors = true;
	skb_queue_init(&p->rx);
	p->next = st->echo_socks;
	st->echo_socks = p;
	return (struct us_ping *)p;
}

int us_ping_send(struct us_ping *ping, uint32_t daddr, uint16_t seq, const void *payload, size_t len,
		 uint8_t ttl)
{
	struct icmp_echo_sock *p = (struct icmp_echo_sock *)ping;
	struct us_stack *st = p->st;
	struct ip_out o = { .daddr = daddr, .proto = IP_PROTO_ICMP, .ttl = ttl };
	struct sk_buff *skb;
	uint8_t *h;

	if (len > IPV4_MAX_LEN - IPV4_HDR_MIN - ICMP_HDR_LEN)
		return -EMSGSIZE;
	st->now = us_clock_now(st->clock);
	skb = skb_alloc(st->pool, SKB_MAX_HEADER + ICMP_HDR_LEN + (uint32_t)len);
	if (!skb)
		return -ENOBUFS;
	skb_reserve(skb, SKB_MAX_HEADER);
	h = skb_put(skb, ICMP_HDR_LEN + (uint32_t)len);
	h[0] = ICMP_ECHO;
	h[1] = 0;
	put_be16(h + 2, 0);
	put_be16(h + 4, p->id);
	put_be16(h + 6, seq);
	if (len)
		memcpy(h + ICMP_HDR_LEN, payload, len);
	put_be16(h + 2, inet_csum(h, ICMP_HDR_LEN + len));
	ICMP_INC(st, OutMsgs);
	ICMP_INC(st, OutEchos);
	return ip_output(st, skb, &o);
}

int us_ping_recv(struct us_ping *ping, struct us_ping_reply *r, void *payload, size_t len)
{
	struct icmp_echo_sock *p = (struct icmp_echo_sock *)ping;
	struct sk_buff *skb = skb_dequeue(&p->rx);

	if (!skb)
		return -EAGAIN;
	r->from = ping_cb(skb)->from;
	r->seq = ping_cb(skb)->seq;
	r->ttl = ping_cb(skb)->ttl;
	r->error = ping_cb(skb)->error;
	r->rx_ns = skb->tstamp_ns;
	r->len = skb->len;
	if (payload && len)
		memcpy(payload, skb->data, len < skb->len ? len : skb->len);
	skb_free(skb);
	return 0;
}

void us_ping_close(struct us_ping *ping)
{
	struct icmp_echo_sock *p = (struct icmp_echo_sock *)ping, **pp;

	if (!p)
		return;
	for (pp = &p->st->echo_socks; *pp && *pp != p; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = p->next;
	skb_queue_purge(&p->rx);
	free(p);
}
