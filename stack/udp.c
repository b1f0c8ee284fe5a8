/*
 * udp.c - UDP (RFC 768, RFC 1122 §4.1): endpoints in a hash table by local port, receive with
 * checksum verification and port unreachable for closed ports, and send with the checksum computed.
 *
 * Lookup prefers the most specific endpoint: a connected one whose peer matches, then one bound to
 * the destination address, then one bound to any address. Errors reported by ICMP reach connected
 * endpoints only, as on Linux without IP_RECVERR; they are returned once by the next receive or send.
 */
#include "core.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "checksum.h"
#include "latency.h"
#include "ustack/proto.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define UDP_BUCKETS 1024
#define UDP_RCVBUF_DEFAULT 212992 /* Linux's net.core.rmem_default */
/* RFC 6056 ephemeral range: Linux's net.ipv4.ip_local_port_range default */
#define UDP_EPHEMERAL_LO 32768
#define UDP_EPHEMERAL_HI 60999


static inline struct udp_cb *udp_cb(struct sk_buff *skb)
{
	_Static_assert(sizeof(struct udp_cb) <= SKB_CB_SIZE, "udp_cb fits in skb->cb");
	return (struct udp_cb *)(void *)skb->cb;
}

int udp_init(struct us_stack *st)
{
	st->udp.nbuckets = UDP_BUCKETS;
	st->udp.buckets = calloc(UDP_BUCKETS, sizeof(*st->udp.buckets));
	return st->udp.buckets ? 0 : -ENOMEM;
}

static struct udp_sock **udp_bucket(struct us_stack *st, uint16_t port)
{
	return &st->udp.buckets[port & (st->udp.nbuckets - 1)];
}

static void udp_unhash(struct udp_sock *u)
{
	struct udp_sock **pp = udp_bucket(u->st, u->lport);

	while (*pp && *pp != u)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = u->hnext;
		u->st->udp.count--;
	}
}

/* Endpoints hashed but not reachable from the API any more are freed here (stack teardown). */
void udp_destroy(struct us_stack *st)
{
	if (!st->udp.buckets)
		return;
	for (uint32_t i = 0; i < st->udp.nbuckets; i++)
		while (st->udp.buckets[i])
			us_udp_close((struct us_udp *)st->udp.buckets[i]);
	free(st->udp.buckets);
	st->udp.buckets = NULL;
}

/* Best endpoint for a datagram daddr:dport from saddr:sport, or NULL. */
static struct udp_sock *udp_lookup(struct us_stack *st, uint32_t daddr, uint16_t dport,
				   uint32_t saddr, uint16_t sport)
{
	struct udp_sock *best = NULL;
	int best_score = -1;

	for (struct udp_sock *u = *udp_bucket(st, dport); u; u = u->hnext) {
		int score = 0;

		if (u->lport != dport)
			continue;
		if (u->laddr) {
			if (u->laddr != daddr)
				continue;
			score += 2;
		}
		if (u->raddr) {
			if (u->raddr != saddr || u->rport != sport)
				continue;
			score += 4;
		}
		if (score > best_score) {
			best = u;
			best_score = score;
		}
	}
	return best;
}

/* Consumes skb; data at the UDP header. */
void udp_rcv(struct us_stack *st, struct sk_buff *skb)
{
	const uint8_t *h = skb->data, *ih = skb_network_header(skb);
	uint32_t saddr = ipv4_saddr(ih), daddr = ipv4_daddr(ih);
	struct udp_sock *u;
	uint16_t ulen;

	lat_stamp(st, skb, US_LAT_RX_L4);
	if (skb->len < UDP_HDR_LEN) {
		UDP_INC(st, InErrors);
		goto drop;
	}
	ulen = udp_len(h);
	if (ulen < UDP_HDR_LEN || ulen > skb->len) {
		UDP_INC(st, InErrors);
		goto drop;
	}
	skb_trim(skb, ulen);
	/* RFC 768: a zero checksum means none was computed; a device may have verified it, or a
	 * trusted peer left it partial (TAP with IFF_VNET_HDR: the kernel's UDP offloads it too) */
	if (udp_csum(h) != 0 && skb->ip_summed == SKB_CSUM_NONE &&
	    csum_fold(csum_partial(h, ulen, csum_pseudo(saddr, daddr, IP_PROTO_UDP, ulen))) != 0) {
		UDP_INC(st, InCsumErrors);
		UDP_INC(st, InErrors);
		goto drop;
	}
	u = udp_lookup(st, daddr, udp_dport(h), saddr, udp_sport(h));
	if (!u) {
		UDP_INC(st, NoPorts);
		/* RFC 1122 §4.1.3.1: port unreachable, unless the datagram was a broadcast (icmp_send_error
		 * checks that) */
		icmp_send_error(st, skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
		goto drop;
	}
	if (u->rx.bytes + ulen - UDP_HDR_LEN > u->rcvbuf) {
		UDP_INC(st, RcvbufErrors);
		UDP_INC(st, InErrors);
		goto drop;
	}
	udp_cb(skb)->saddr = saddr;
	udp_cb(skb)->sport = udp_sport(h);
	udp_cb(skb)->ttl = ipv4_ttl(skb_network_header(skb));
	skb_pull(skb, UDP_HDR_LEN);
	lat_stamp(st, skb, US_LAT_RX_SOCKQ);
	skb_queue_tail(&u->rx, skb);
	if (u->owner)
		sock_wake(st, u->owner);
	UDP_INC(st, InDatagrams);
	return;
drop:
	skb_free(skb);
}

void udp_err(struct us_stack *st, const uint8_t *quoted, uint32_t len, int err)
{
	const uint8_t *uh = quoted + ipv4_hlen(quoted);
	struct udp_sock *u;

	if (len < ipv4_hlen(quoted) + UDP_HDR_LEN)
		return;
	u = udp_lookup(st, ipv4_saddr(quoted), udp_sport(uh), ipv4_daddr(quoted), udp_dport(uh));
	if (u && u->raddr == ipv4_daddr(quoted) && u->rport == udp_dport(uh)) {
		if (err == -EMSGSIZE && u->pmtudisc == IP_PMTUDISC_DONT)
			return; /* the path MTU is learned (icmp.c); a sender that fragments is not told */
		u->err = err;
		if (u->owner)
			sock_wake(st, u->owner);
	}
}

/* ---- the endpoint API ---- */

struct us_udp *us_udp_open(struct us_stack *st)
{
	struct udp_sock *u = calloc(1, sizeof(*u));

	if (!u) {
		errno = ENOMEM;
		return NULL;
	}
	u->st = st;
	u->rcvbuf = UDP_RCVBUF_DEFAULT;
	skb_queue_init(&u->rx);
	return (struct us_udp *)u;
}

/* Linux's udp_lib_lport_inuse: a port is shared only when both endpoints set SO_REUSEADDR (the
 * newest then receives unicast datagrams: it is first in its chain). */
static bool udp_port_taken(struct us_stack *st, uint32_t addr, uint16_t port, bool reuse)
{
	for (struct udp_sock *u = *udp_bucket(st, port); u; u = u->hnext)
		if (u->lport == port && (u->laddr == 0 || addr == 0 || u->laddr == addr) &&
		    !(reuse && u->reuseaddr))
			return true;
	return false;
}

static void udp_hash(struct udp_sock *u)
{
	struct udp_sock **pp = udp_bucket(u->st, u->lport);

	u->hnext = *pp;
	*pp = u;
	u->st->udp.count++;
}

int us_udp_bind(struct us_udp *handle, uint32_t addr, uint16_t port)
{
	struct udp_sock *u = (struct udp_sock *)handle;
	struct us_stack *st = u->st;

	if (u->lport)
		return -EINVAL;
	if (addr && !us_iface_by_addr(st, addr))
		return -EADDRNOTAVAIL;
	if (port == 0) {
		/* RFC 6056 §3.3.1 (algorithm 1): a random start, then the next free port */
		uint32_t n = UDP_EPHEMERAL_HI - UDP_EPHEMERAL_LO + 1;
		uint32_t start = (uint32_t)(us_rand64(st) % n), i;

		for (i = 0; i < n; i++) {
			uint16_t p = (uint16_t)(UDP_EPHEMERAL_LO + (start + i) % n);
			if (!udp_port_taken(st, addr, p, false)) {
				port = p;
				break;
			}
		}
		if (i == n)
			return -EAGAIN; /* what Linux says when the range is exhausted */
	} else if (udp_port_taken(st, addr, port, u->reuseaddr)) {
		return -EADDRINUSE;
	}
	u->laddr = addr;
	u->lport = port;
	udp_hash(u);
	return 0;
}

int us_udp_connect(struct us_udp *handle, uint32_t addr, uint16_t port)
{
	struct udp_sock *u = (struct udp_sock *)handle;
	int r;

	if (addr == 0 || port == 0)
		return -EINVAL;
	if (!u->lport && (r = us_udp_bind(handle, 0, 0)) < 0)
		return r;
	u->raddr = addr;
	u->rport = port;
	u->err = 0;
	return 0;
}

static int udp_take_error(struct udp_sock *u)
{
	int e = u->err;

	u->err = 0;
	return e;
}

/* IP_MTU_DISCOVER as Linux's __ip_append_data and __ip_make_skb apply it to a datagram of tot bytes
 * (IP header included) on a device of dev_mtu: which MTU it must fit (the path MTU learned from
 * fragmentation-needed messages, RFC 1191, or with PROBE, INTERFACE and OMIT the device's), whether
 * it may be fragmented (DONT, WANT, OMIT) or fails with EMSGSIZE when larger (DO, PROBE, INTERFACE),
 * and whether DF is set: always with DO and PROBE, with WANT when it fits (RFC 1191 §3: a host doing
 * path MTU discovery sets DF), never with the others. */
static int udp_pmtudisc(const struct udp_sock *u, struct ip_out *o, uint32_t dev_mtu, uint32_t tot)
{
	uint32_t mtu;

	o->ignore_pmtu = u->pmtudisc >= IP_PMTUDISC_PROBE;
	mtu = o->ignore_pmtu ? dev_mtu : ip_pmtu_get(u->st, o->daddr, dev_mtu);
	if (tot > mtu && u->pmtudisc != IP_PMTUDISC_DONT && u->pmtudisc != IP_PMTUDISC_WANT &&
	    u->pmtudisc != IP_PMTUDISC_OMIT)
		return -EMSGSIZE; /* Linux counts nothing for it: it never reaches IP */
	o->df = u->pmtudisc == IP_PMTUDISC_DO || u->pmtudisc == IP_PMTUDISC_PROBE ||
		(u->pmtudisc == IP_PMTUDISC_WANT && tot <= mtu);
	return 0;
}

int udp_sendmsg(struct udp_sock *u, const struct iovec *iov, int iovcnt, size_t len, uint32_t daddr,
		uint16_t dport)
{
	struct us_udp *handle = (struct us_udp *)u;
	struct us_stack *st = u->st;
	struct ip_out o = { .proto = IP_PROTO_UDP, .ttl = u->ttl };
	struct rt_result rt;
	struct sk_buff *skb;
	uint16_t ulen, csum;
	uint8_t *h;
	int r;

	if (len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (daddr == 0) {
		if (!u->raddr)
			return -EDESTADDRREQ;
		daddr = u->raddr;
		dport = u->rport;
	} else if (dport == 0) {
		return -EINVAL;
	}
	if (u->raddr && u->err)
		return udp_take_error(u);
	if (!u->lport && (r = us_udp_bind(handle, 0, 0)) < 0)
		return r;
	st->now = us_clock_now(st->clock);
	r = route_lookup(st, daddr, &rt);
	if (r < 0) {
		IP_INC(st, OutNoRoutes);
		return r;
	}
	o.saddr = u->laddr ? u->laddr : rt.saddr;
	o.daddr = daddr;
	ulen = (uint16_t)(UDP_HDR_LEN + len);
	r = udp_pmtudisc(u, &o, rt.iface->dev->mtu, IPV4_HDR_MIN + ulen);
	if (r < 0)
		return r;
	skb = skb_alloc(st->pool, SKB_MAX_HEADER + ulen);
	if (!skb) {
		UDP_INC(st, SndbufErrors);
		return -ENOBUFS;
	}
	skb_reserve(skb, SKB_MAX_HEADER);
	h = skb_put(skb, ulen);
	udp_emit(h, u->lport, dport, ulen);
	for (int i = 0, off = UDP_HDR_LEN; i < iovcnt; i++) {
		if (iov[i].iov_len)
			memcpy(h + off, iov[i].iov_base, iov[i].iov_len);
		off += (int)iov[i].iov_len;
	}
	lat_tx_start(st, skb);
	csum = csum_fold(csum_partial(h, ulen, csum_pseudo(o.saddr, daddr, IP_PROTO_UDP, ulen)));
	put_be16(h + 6, csum ? csum : 0xffff); /* RFC 768: a computed zero is sent as all ones */
	skb_reset_transport_header(skb);
	lat_stamp(st, skb, US_LAT_TX_L4);
	r = ip_output(st, skb, &o);
	if (r < 0)
		return r;
	UDP_INC(st, OutDatagrams);
	return (int)len;
}

int us_udp_sendto(struct us_udp *handle, const void *buf, size_t len, uint32_t daddr, uint16_t dport)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };

	return udp_sendmsg((struct udp_sock *)handle, &iov, 1, len, daddr, dport);
}

int udp_recvmsg(struct udp_sock *u, const struct iovec *iov, int iovcnt, bool peek, uint32_t *saddr,
		uint16_t *sport, uint8_t *ttl)
{
	struct sk_buff *skb;
	uint32_t off = 0;
	int n;

	if (u->err)
		return udp_take_error(u);
	skb = skb_peek(&u->rx);
	if (!skb)
		return -EAGAIN;
	for (int i = 0; i < iovcnt && off < skb->len; i++) {
		uint32_t c = skb->len - off;

		if (iov[i].iov_len < c)
			c = (uint32_t)iov[i].iov_len;
		if (c)
			memcpy(iov[i].iov_base, skb->data + off, c);
		off += c;
	}
	if (saddr)
		*saddr = udp_cb(skb)->saddr;
	if (sport)
		*sport = udp_cb(skb)->sport;
	if (ttl)
		*ttl = udp_cb(skb)->ttl;
	n = (int)skb->len;
	if (!peek) {
		lat_stamp(u->st, skb, US_LAT_RX_APP);
		skb_unlink(&u->rx, skb);
		skb_free(skb);
	}
	return n;
}

int us_udp_recvfrom(struct us_udp *handle, void *buf, size_t len, uint32_t *saddr, uint16_t *sport)
{
	struct iovec iov = { .iov_base = buf, .iov_len = buf ? len : 0 };

	return udp_recvmsg((struct udp_sock *)handle, &iov, 1, false, saddr, sport, NULL);
}

int us_udp_getsockname(const struct us_udp *handle, uint32_t *addr, uint16_t *port)
{
	const struct udp_sock *u = (const struct udp_sock *)handle;

	if (addr)
		*addr = u->laddr;
	if (port)
		*port = u->lport;
	return 0;
}

uint32_t us_udp_rx_queued(const struct us_udp *handle, uint64_t *bytes)
{
	const struct udp_sock *u = (const struct udp_sock *)handle;

	if (bytes)
		*bytes = u->rx.bytes;
	return u->rx.len;
}

int us_udp_set_rcvbuf(struct us_udp *handle, uint32_t bytes)
{
	((struct udp_sock *)handle)->rcvbuf = bytes;
	return 0;
}

void us_udp_close(struct us_udp *handle)
{
	struct udp_sock *u = (struct udp_sock *)handle;

	if (!u)
		return;
	if (u->lport)
		udp_unhash(u);
	skb_queue_purge(&u->rx);
	free(u);
}
