/*
 * arp.c - the neighbour cache and ARP (RFC 826) for IPv4 over Ethernet.
 *
 * Entries live in a hash table keyed by address, at most arp_max_entries of them, each with one
 * timer on the stack's queue that does what the state needs next:
 *
 *   INCOMPLETE  a request went out; the timer sends the next one every arp_retrans_ns, and after
 *               arp_max_probes requests without a reply the entry goes FAILED: its waiting packets are
 *               dropped (counted) and their local senders told EHOSTUNREACH.
 *   REACHABLE   confirmed by an ARP packet from the neighbour; after arp_reachable_ns -> STALE.
 *   STALE       still used for sending; removed arp_stale_ns later unless confirmed again.
 *   FAILED      kept for display until arp_stale_ns; new traffic to it starts resolution over.
 *   PERMANENT   added through the API; never expires, never overwritten by what arrives.
 *
 * Receiving follows RFC 826's "Packet Reception" algorithm: check the hardware and protocol types,
 * update the sender's entry if we have one (the merge flag), and if the target is one of our
 * addresses add the sender if we did not, then answer a request.
 */
#include "core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/ipv4.h"

enum arp_state {
	ARP_INCOMPLETE,
	ARP_REACHABLE,
	ARP_STALE,
	ARP_FAILED,
	ARP_PERMANENT,
};

static const char *const arp_state_names[] = { "INCOMPLETE", "REACHABLE", "STALE", "FAILED",
					       "PERMANENT" };

struct arp_entry {
	struct arp_entry *hnext;
	struct us_stack *st;
	uint32_t addr; /* host order */
	int ifindex;
	uint8_t mac[ETH_ADDR_LEN];
	uint8_t state;	       /* enum arp_state */
	uint8_t probes;	       /* requests sent while INCOMPLETE */
	struct us_timer timer; /* the state's next step */
	struct skb_queue pending; /* IPv4 packets waiting for the address */
};

static const uint8_t eth_bcast[ETH_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint32_t arp_hash(const struct arp_table *t, uint32_t addr)
{
	return (uint32_t)((addr * 0x9e3779b1u) >> 7) & (t->nbuckets - 1);
}

int arp_init(struct us_stack *st)
{
	struct arp_table *t = &st->arp;
	uint32_t n = 16;

	if (!st->cfg.arp_max_entries)
		st->cfg.arp_max_entries = 1024;
	if (!st->cfg.arp_max_queued)
		st->cfg.arp_max_queued = 16;
	if (!st->cfg.arp_reachable_ns)
		st->cfg.arp_reachable_ns = 30 * US_NSEC_PER_SEC;
	if (!st->cfg.arp_stale_ns)
		st->cfg.arp_stale_ns = 60 * US_NSEC_PER_SEC;
	if (!st->cfg.arp_retrans_ns)
		st->cfg.arp_retrans_ns = US_NSEC_PER_SEC;
	if (!st->cfg.arp_max_probes)
		st->cfg.arp_max_probes = 3;
	while (n < st->cfg.arp_max_entries && n < (1u << 20))
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->nbuckets = n;
	return 0;
}

static void arp_entry_free(struct us_stack *st, struct arp_entry *e)
{
	timer_cancel(&st->timers, &e->timer);
	st->stats.arp[ARP_MIB_UnresolvedDiscards] += skb_queue_purge(&e->pending);
	free(e);
}

void arp_destroy(struct us_stack *st)
{
	struct arp_table *t = &st->arp;

	if (!t->buckets)
		return;
	for (uint32_t i = 0; i < t->nbuckets; i++) {
		struct arp_entry *e = t->buckets[i], *next;
		for (; e; e = next) {
			next = e->hnext;
			arp_entry_free(st, e);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	t->count = 0;
}

static struct arp_entry *arp_lookup(const struct us_stack *st, uint32_t addr)
{
	struct arp_entry *e = st->arp.buckets[arp_hash(&st->arp, addr)];

	while (e && e->addr != addr)
		e = e->hnext;
	return e;
}

static void arp_unlink(struct us_stack *st, struct arp_entry *e)
{
	struct arp_entry **pp = &st->arp.buckets[arp_hash(&st->arp, e->addr)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	st->arp.count--;
}

static void arp_timer(struct us_timer *t, uint64_t now);

/* Make room when the cache is full by removing one FAILED or STALE entry. Only runs when the cache
 * is at its limit, and then looks at most at every entry once. */
static bool arp_evict_one(struct us_stack *st)
{
	struct arp_table *t = &st->arp;

	for (int want = ARP_FAILED; want >= ARP_STALE; want--) {
		for (uint32_t i = 0; i < t->nbuckets; i++) {
			for (struct arp_entry *e = t->buckets[i]; e; e = e->hnext) {
				if (e->state == want) {
					arp_unlink(st, e);
					arp_entry_free(st, e);
					return true;
				}
			}
		}
	}
	return false;
}

static struct arp_entry *arp_create(struct us_stack *st, int ifindex, uint32_t addr)
{
	struct arp_table *t = &st->arp;
	struct arp_entry *e;
	uint32_t h;

	if (t->count >= st->cfg.arp_max_entries && !arp_evict_one(st)) {
		ARP_INC(st, TableFull);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		ARP_INC(st, TableFull);
		return NULL;
	}
	e->st = st;
	e->addr = addr;
	e->ifindex = ifindex;
	e->state = ARP_INCOMPLETE;
	skb_queue_init(&e->pending);
	timer_init(&e->timer, arp_timer, e);
	h = arp_hash(t, addr);
	e->hnext = t->buckets[h];
	t->buckets[h] = e;
	t->count++;
	return e;
}

/* Send an ARP packet out of ifc. */
static void arp_send(struct us_stack *st, struct us_iface *ifc, uint16_t op, const uint8_t *eth_dst,
		     uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	struct sk_buff *skb = skb_alloc(st->pool, SKB_MAX_HEADER + ARP_PKT_LEN);

	if (!skb)
		return;
	skb_reserve(skb, SKB_MAX_HEADER);
	arp_emit(skb_put(skb, ARP_PKT_LEN), op, ifc->dev->mac, spa, tha, tpa);
	eth_output(st, ifc, skb, eth_dst, ETH_P_ARP);
}

static void arp_solicit(struct us_stack *st, struct arp_entry *e)
{
	struct us_iface *ifc = us_iface_get(st, e->ifindex);

	if (!ifc || !ifc->has_addr)
		return;
	e->probes++;
	ARP_INC(st, OutRequests);
	arp_send(st, ifc, ARP_OP_REQUEST, eth_bcast, ifc->addr, NULL, e->addr);
}

/* Send what waited for this neighbour, in order. */
static void arp_flush_pending(struct us_stack *st, struct arp_entry *e)
{
	struct us_iface *ifc = us_iface_get(st, e->ifindex);
	struct sk_buff *skb;

	while ((skb = skb_dequeue(&e->pending)) != NULL) {
		if (ifc)
			eth_output(st, ifc, skb, e->mac, ETH_P_IP);
		else
			skb_free(skb);
	}
}

static void arp_set_state(struct us_stack *st, struct arp_entry *e, enum arp_state s)
{
	e->state = (uint8_t)s;
	switch (s) {
	case ARP_INCOMPLETE:
		timer_arm(&st->timers, &e->timer, st->now + st->cfg.arp_retrans_ns);
		break;
	case ARP_REACHABLE:
		timer_arm(&st->timers, &e->timer, st->now + st->cfg.arp_reachable_ns);
		break;
	case ARP_STALE:
	case ARP_FAILED:
		timer_arm(&st->timers, &e->timer, st->now + st->cfg.arp_stale_ns);
		break;
	case ARP_PERMANENT:
		timer_cancel(&st->timers, &e->timer);
		break;
	}
}

static void arp_fail(struct us_stack *st, struct arp_entry *e)
{
	struct sk_buff *skb;

	ARP_INC(st, ResolveFailed);
	arp_set_state(st, e, ARP_FAILED);
	while ((skb = skb_dequeue(&e->pending)) != NULL) {
		ARP_INC(st, UnresolvedDiscards);
		ip_local_error(st, skb, -EHOSTUNREACH);
		skb_free(skb);
	}
}

static void arp_timer(struct us_timer *t, uint64_t now)
{
	struct arp_entry *e = t->arg;
	struct us_stack *st = e->st;

	(void)now;
	switch (e->state) {
	case ARP_INCOMPLETE:
		if (e->probes < st->cfg.arp_max_probes) {
			arp_solicit(st, e);
			arp_set_state(st, e, ARP_INCOMPLETE);
		} else {
			arp_fail(st, e);
		}
		break;
	case ARP_REACHABLE:
		arp_set_state(st, e, ARP_STALE);
		break;
	case ARP_STALE:
	case ARP_FAILED:
		arp_unlink(st, e);
		arp_entry_free(st, e);
		break;
	default:
		break;
	}
}

/* RFC 1112 §6.4: an IPv4 multicast group's Ethernet address is 01:00:5e + its low 23 bits. */
static void arp_mc_map(uint32_t addr, uint8_t mac[ETH_ADDR_LEN])
{
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (uint8_t)((addr >> 16) & 0x7f);
	mac[4] = (uint8_t)(addr >> 8);
	mac[5] = (uint8_t)addr;
}

int arp_output(struct us_stack *st, struct us_iface *ifc, uint32_t nexthop, struct sk_buff *skb)
{
	struct arp_entry *e;

	if (us_addr_is_broadcast(st, nexthop))
		return eth_output(st, ifc, skb, eth_bcast, ETH_P_IP);
	if (ipv4_is_multicast(nexthop)) {
		uint8_t mac[ETH_ADDR_LEN];
		arp_mc_map(nexthop, mac);
		return eth_output(st, ifc, skb, mac, ETH_P_IP);
	}
	e = arp_lookup(st, nexthop);
	if (e && e->ifindex != ifc->ifindex && e->state != ARP_PERMANENT) {
		/* the neighbour moved to another link: start over there */
		arp_unlink(st, e);
		arp_entry_free(st, e);
		e = NULL;
	}
	if (e && (e->state == ARP_REACHABLE || e->state == ARP_STALE || e->state == ARP_PERMANENT))
		return eth_output(st, ifc, skb, e->mac, ETH_P_IP);
	if (!e) {
		e = arp_create(st, ifc->ifindex, nexthop);
		if (!e) {
			ARP_INC(st, UnresolvedDiscards);
			skb_free(skb);
			return -ENOBUFS;
		}
	}
	if (e->state == ARP_FAILED || (e->state == ARP_INCOMPLETE && e->probes == 0)) {
		/* new traffic to a failed neighbour tries again from the start */
		e->probes = 0;
		arp_solicit(st, e);
		arp_set_state(st, e, ARP_INCOMPLETE);
	}
	if (e->pending.len >= st->cfg.arp_max_queued) {
		/* Linux's unres_qlen: the oldest waiting packet makes room */
		ARP_INC(st, UnresolvedDiscards);
		skb_free(skb_dequeue(&e->pending));
	}
	skb_queue_tail(&e->pending, skb);
	return 0;
}

/* Consumes skb. */
void arp_rcv(struct us_stack *st, struct sk_buff *skb)
{
	struct us_iface *ifc = us_iface_get(st, skb->dev->ifindex);
	const uint8_t *a = skb->data;
	struct arp_entry *e;
	uint32_t spa, tpa;
	uint16_t op;
	bool merge = false;

	ARP_INC(st, InPackets);
	/* RFC 826: Ethernet hardware, IPv4 protocol, their address lengths, a known opcode */
	if (skb->len < ARP_PKT_LEN || arp_hrd(a) != ARP_HRD_ETHER || arp_pro(a) != ETH_P_IP ||
	    arp_hln(a) != ETH_ADDR_LEN || arp_pln(a) != 4) {
		ARP_INC(st, InErrors);
		goto drop;
	}
	op = arp_op(a);
	spa = arp_spa(a);
	tpa = arp_tpa(a);
	if ((op != ARP_OP_REQUEST && op != ARP_OP_REPLY) || eth_is_multicast(arp_sha(a)) ||
	    ipv4_is_multicast(spa) || ipv4_is_lbcast(spa)) {
		/* a group address as the sender would poison the cache */
		ARP_INC(st, InErrors);
		goto drop;
	}
	if (!ifc || !ifc->has_addr)
		goto drop;
	if (op == ARP_OP_REQUEST)
		ARP_INC(st, InRequests);
	else
		ARP_INC(st, InReplies);

	/* RFC 826: "If the pair <protocol type, sender protocol address> is already in my
	 * translation table, update the sender hardware address field of the entry" */
	e = spa ? arp_lookup(st, spa) : NULL;
	if (e) {
		merge = true;
		if (e->state != ARP_PERMANENT) {
			bool was_waiting = e->state == ARP_INCOMPLETE;
			memcpy(e->mac, arp_sha(a), ETH_ADDR_LEN);
			e->ifindex = ifc->ifindex;
			arp_set_state(st, e, ARP_REACHABLE);
			if (was_waiting)
				arp_flush_pending(st, e);
		}
	}
	/* "Am I the target protocol address?" */
	if (tpa != ifc->addr) {
		if (op == ARP_OP_REQUEST)
			ARP_INC(st, InNotForUs);
		goto drop;
	}
	/* "If the merge flag is false, add the triplet" - as STALE, as Linux does for a request
	 * nobody asked for: usable at once, confirmed by the next exchange. */
	if (!merge && spa && spa != ifc->addr) {
		e = arp_create(st, ifc->ifindex, spa);
		if (e) {
			memcpy(e->mac, arp_sha(a), ETH_ADDR_LEN);
			arp_set_state(st, e, op == ARP_OP_REPLY ? ARP_REACHABLE : ARP_STALE);
		}
	}
	if (op == ARP_OP_REQUEST) {
		ARP_INC(st, OutReplies);
		arp_send(st, ifc, ARP_OP_REPLY, arp_sha(a), ifc->addr, arp_sha(a), spa);
	}
drop:
	skb_free(skb);
}

void arp_announce(struct us_stack *st, struct us_iface *ifc)
{
	/* gratuitous ARP (RFC 5227 §3 announcement): a request for our own address */
	ARP_INC(st, OutGratuitous);
	arp_send(st, ifc, ARP_OP_REQUEST, eth_bcast, ifc->addr, NULL, ifc->addr);
}

int arp_neigh_add(struct us_stack *st, int ifindex, uint32_t addr, const uint8_t mac[6])
{
	struct arp_entry *e = arp_lookup(st, addr);

	if (eth_is_multicast(mac) || addr == 0)
		return -EINVAL;
	if (!e) {
		e = arp_create(st, ifindex, addr);
		if (!e)
			return -ENOSPC;
	}
	memcpy(e->mac, mac, ETH_ADDR_LEN);
	e->ifindex = ifindex;
	arp_set_state(st, e, ARP_PERMANENT);
	arp_flush_pending(st, e);
	return 0;
}

int arp_neigh_del(struct us_stack *st, int ifindex, uint32_t addr)
{
	struct arp_entry *e = arp_lookup(st, addr);

	if (!e || e->ifindex != ifindex)
		return -ENOENT;
	arp_unlink(st, e);
	arp_entry_free(st, e);
	return 0;
}

const char *arp_neigh_state(const struct us_stack *st, uint32_t addr, uint8_t mac[6])
{
	const struct arp_entry *e = arp_lookup(st, addr);

	if (!e)
		return NULL;
	if (mac)
		memcpy(mac, e->mac, ETH_ADDR_LEN);
	return arp_state_names[e->state];
}
