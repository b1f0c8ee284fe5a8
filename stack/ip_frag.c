/*
 * ip_frag.c - IPv4 fragmentation on output and reassembly on input (RFC 791 §3.2, RFC 815).
 *
 * Reassembly keeps one queue per (source, destination, identification, protocol), its fragments
 * sorted by offset. A fragment that partly overlaps another kills the datagram (as Linux has done
 * since 2018; overlapping fragments are an attack, RFC 5722 says the same for IPv6): the queue is
 * emptied and stays "dead", swallowing the rest of the datagram until its timer runs out, so the
 * datagram is never delivered. An exact duplicate is just dropped. When the last fragment is in and
 * the bytes add up to the total, the datagram is copied once into a fresh buffer and delivered.
 *
 * Each queue has a timer of reasm_timeout_ns; on expiry, if the first fragment had arrived, the
 * sender gets an ICMP time exceeded (fragment reassembly time exceeded, RFC 792, RFC 1122 §3.3.2).
 * Memory held by all queues is capped at reasm_max_bytes: the oldest queues are evicted to make room.
 */
#include "core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define FRAG_MAX_QUEUES 1024

struct ipq {
	struct ipq *hnext;
	struct ipq *lru_prev, *lru_next;
	struct us_stack *st;
	uint32_t saddr, daddr;
	uint16_t id;
	uint8_t proto;
	bool dead;	   /* overlap seen: swallow the rest until the timer */
	bool have_last;
	uint32_t total;	   /* payload bytes of the whole datagram, once the last fragment is in */
	uint32_t received; /* payload bytes held */
	uint64_t mem;	   /* bytes of buffers held */
	struct skb_queue frags; /* sorted by offset; data at the IP header */
	struct us_timer timer;
};

/* per-fragment facts kept in skb->cb while queued */
struct frag_cb {
	uint32_t off, end; /* payload byte range */
};

static inline struct frag_cb *frag_cb(struct sk_buff *skb)
{
	_Static_assert(sizeof(struct frag_cb) <= SKB_CB_SIZE, "frag_cb fits in skb->cb");
	return (struct frag_cb *)(void *)skb->cb;
}

static uint64_t frag_truesize(const struct sk_buff *skb)
{
	return skb_size(skb) + sizeof(struct sk_buff);
}

int ip_frag_init(struct us_stack *st)
{
	struct frag_table *t = &st->frags;

	if (!st->cfg.reasm_timeout_ns)
		st->cfg.reasm_timeout_ns = 30 * US_NSEC_PER_SEC;
	if (!st->cfg.reasm_max_bytes)
		st->cfg.reasm_max_bytes = 4u << 20;
	t->nbuckets = 256;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return t->buckets ? 0 : -ENOMEM;
}

static uint32_t frag_hash(const struct frag_table *t, uint32_t s, uint32_t d, uint16_t id, uint8_t p)
{
	uint32_t h = s * 0x9e3779b1u ^ d * 0x85ebca6bu ^ ((uint32_t)id << 8 | p) * 0xc2b2ae35u;

	return (h ^ (h >> 16)) & (t->nbuckets - 1);
}

static void ipq_kill_frags(struct us_stack *st, struct ipq *q)
{
	skb_queue_purge(&q->frags);
	st->frags.mem -= q->mem;
	q->mem = 0;
	q->received = 0;
}

static void ipq_free(struct us_stack *st, struct ipq *q)
{
	struct frag_table *t = &st->frags;
	struct ipq **pp = &t->buckets[frag_hash(t, q->saddr, q->daddr, q->id, q->proto)];

	while (*pp != q)
		pp = &(*pp)->hnext;
	*pp = q->hnext;
	if (q->lru_prev)
		q->lru_prev->lru_next = q->lru_next;
	else
		t->lru_head = q->lru_next;
	if (q->lru_next)
		q->lru_next->lru_prev = q->lru_prev;
	else
		t->lru_tail = q->lru_prev;
	t->count--;
	timer_cancel(&st->timers, &q->timer);
	ipq_kill_frags(st, q);
	free(q);
}

void ip_frag_destroy(struct us_stack *st)
{
	struct frag_table *t = &st->frags;

	while (t->lru_head)
		ipq_free(st, t->lru_head);
	free(t->buckets);
	t->buckets = NULL;
}

/* Drop a whole queue to make room. A live datagram fails here; a dead one was counted when it died. */
static void ipq_evict(struct us_stack *st, struct ipq *q)
{
	if (!q->dead)
		IP_INC(st, ReasmFails);
	ipq_free(st, q);
}

static void ipq_expire(struct us_timer *tm, uint64_t now)
{
	struct ipq *q = tm->arg;
	struct us_stack *st = q->st;
	struct sk_buff *first = skb_peek(&q->frags);

	(void)now;
	if (!q->dead) {
		IP_INC(st, ReasmTimeout);
		IP_INC(st, ReasmFails);
		/* RFC 792 / RFC 1122 §3.3.2: time exceeded, but only if fragment zero is here */
		if (first && frag_cb(first)->off == 0)
			icmp_send_error(st, first, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0);
	}
	ipq_free(st, q);
}

static struct ipq *ipq_find(struct us_stack *st, const uint8_t *h, bool create)
{
	struct frag_table *t = &st->frags;
	uint32_t s = ipv4_saddr(h), d = ipv4_daddr(h);
	uint16_t id = ipv4_id(h);
	uint8_t p = ipv4_proto(h);
	uint32_t b = frag_hash(t, s, d, id, p);
	struct ipq *q;

	for (q = t->buckets[b]; q; q = q->hnext)
		if (q->saddr == s && q->daddr == d && q->id == id && q->proto == p)
			return q;
	if (!create)
		return NULL;
	if (t->count >= FRAG_MAX_QUEUES)
		ipq_evict(st, t->lru_head); /* the oldest makes room */
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->st = st;
	q->saddr = s;
	q->daddr = d;
	q->id = id;
	q->proto = p;
	skb_queue_init(&q->frags);
	timer_init(&q->timer, ipq_expire, q);
	timer_arm(&st->timers, &q->timer, st->now + st->cfg.reasm_timeout_ns);
	q->hnext = t->buckets[b];
	t->buckets[b] = q;
	q->lru_prev = t->lru_tail;
	if (t->lru_tail)
		t->lru_tail->lru_next = q;
	else
		t->lru_head = q;
	t->lru_tail = q;
	t->count++;
	return q;
}

/* Build the whole datagram: the first fragment's header, then every payload in place. NULL when it
 * would be too long or there is no buffer. */
static struct sk_buff *ipq_assemble(struct us_stack *st, struct ipq *q)
{
	struct sk_buff *first = skb_peek(&q->frags), *skb, *f;
	uint32_t hl = ipv4_hlen(first->data);
	uint8_t *h;

	/* RFC 791 §3.1: each fragment was checked with its own header; the datagram gets the first
	 * one's, which may be longer (options), and must still fit in 65,535 bytes (Linux: "Oversized
	 * IP packet") */
	if (hl + q->total > IPV4_MAX_LEN)
		return NULL;
	skb = skb_alloc(st->pool, SKB_MAX_HEADER + hl + q->total);
	if (!skb)
		return NULL;
	skb_reserve(skb, SKB_MAX_HEADER);
	h = skb_put(skb, hl + q->total);
	memcpy(h, first->data, hl);
	for (f = first; f; f = f->next)
		memcpy(h + hl + frag_cb(f)->off, f->data + ipv4_hlen(f->data),
		       frag_cb(f)->end - frag_cb(f)->off);
	put_be16(h + 2, (uint16_t)(hl + q->total));
	put_be16(h + 6, 0);
	put_be16(h + 10, 0);
	put_be16(h + 10, inet_csum(h, hl));
	skb->dev = first->dev;
	skb->tstamp_ns = first->tstamp_ns;
	skb_reset_network_header(skb);
	return skb;
}

/* A fragment that cannot belong to a well-formed datagram. */
static void ipq_kill(struct us_stack *st, struct ipq *q)
{
	IP_INC(st, ReasmFails);
	ipq_kill_frags(st, q);
	q->dead = true;
}

struct sk_buff *ip_defrag(struct us_stack *st, struct sk_buff *skb)
{
	const uint8_t *h = skb->data;
	uint32_t hl = ipv4_hlen(h), off = ipv4_frag_off(h);
	uint32_t len = ipv4_tot_len(h) - hl, end = off + len;
	bool mf = ipv4_more_frags(h);
	struct sk_buff *prev, *f, *whole;
	struct ipq *q;

	/* RFC 791: every fragment but the last carries a multiple of 8 bytes, and the datagram
	 * cannot outgrow 65,535 bytes */
	if (len == 0 || (mf && (len & 7)) || hl + end > IPV4_MAX_LEN) {
		IP_INC(st, ReasmFails);
		skb_free(skb);
		return NULL;
	}
	q = ipq_find(st, h, true);
	if (!q) {
		IP_INC(st, ReasmFails);
		skb_free(skb);
		return NULL;
	}
	if (q->dead)
		goto drop;
	if (!mf) {
		if ((q->have_last && end != q->total) ||
		    (skb_peek_tail(&q->frags) && frag_cb(skb_peek_tail(&q->frags))->end > end)) {
			ipq_kill(st, q);
			goto drop;
		}
		q->have_last = true;
		q->total = end;
	} else if (q->have_last && end > q->total) {
		ipq_kill(st, q);
		goto drop;
	}
	/* find the place: prev is the last fragment starting before this one */
	prev = NULL;
	for (f = skb_peek(&q->frags); f && frag_cb(f)->off < off; f = f->next)
		prev = f;
	if (f && frag_cb(f)->off == off && frag_cb(f)->end == end)
		goto drop; /* an exact duplicate */
	if ((prev && frag_cb(prev)->end > off) || (f && frag_cb(f)->off < end)) {
		IP_INC(st, ReasmOverlaps);
		ipq_kill(st, q);
		goto drop;
	}
	while (st->frags.mem + frag_truesize(skb) > st->cfg.reasm_max_bytes && st->frags.lru_head &&
	       st->frags.lru_head != q)
		ipq_evict(st, st->frags.lru_head);
	if (st->frags.mem + frag_truesize(skb) > st->cfg.reasm_max_bytes) {
		ipq_kill(st, q);
		goto drop;
	}
	frag_cb(skb)->off = off;
	frag_cb(skb)->end = end;
	skb_queue_insert_after(&q->frags, prev, skb);
	q->received += len;
	q->mem += frag_truesize(skb);
	st->frags.mem += frag_truesize(skb);
	if (!q->have_last || q->received != q->total)
		return NULL;
	whole = ipq_assemble(st, q);
	if (whole)
		IP_INC(st, ReasmOKs);
	else
		IP_INC(st, ReasmFails);
	ipq_free(st, q);
	return whole;
drop:
	skb_free(skb);
	return NULL;
}

int ip_fragment(struct us_stack *st, struct sk_buff *skb, uint32_t mtu, struct us_iface *ifc,
		uint32_t nexthop)
{
	const uint8_t *h = skb->data;
	uint32_t hl = ipv4_hlen(h), payload = skb->len - hl;
	uint32_t chunk = (mtu - hl) & ~7u;
	uint16_t frag0 = ipv4_frag(h);

	if (mtu < hl + 8) {
		IP_INC(st, FragFails);
		skb_free(skb);
		return -EMSGSIZE;
	}
	for (uint32_t off = 0; off < payload; off += chunk) {
		uint32_t n = payload - off < chunk ? payload - off : chunk;
		bool last = off + n == payload;
		struct sk_buff *f = skb_alloc(st->pool, SKB_MAX_HEADER + hl + n);
		uint8_t *fh;

		if (!f) {
			IP_INC(st, FragFails);
			skb_free(skb);
			return -ENOBUFS;
		}
		skb_reserve(f, SKB_MAX_HEADER);
		fh = skb_put(f, hl + n);
		memcpy(fh, h, hl);
		memcpy(fh + hl, h + hl + off, n);
		put_be16(fh + 2, (uint16_t)(hl + n));
		put_be16(fh + 6, (uint16_t)((frag0 & ~IP_OFFMASK & ~IP_MF) | (off >> 3) | (last ? 0 : IP_MF)));
		put_be16(fh + 10, 0);
		put_be16(fh + 10, inet_csum(fh, hl));
		skb_reset_network_header(f);
		IP_INC(st, FragCreates);
		arp_output(st, ifc, nexthop, f);
	}
	IP_INC(st, FragOKs);
	skb_free(skb);
	return 0;
}
