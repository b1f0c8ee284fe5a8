/*
 * ipv4.c - IPv4 receive, local delivery and output (RFC 791, RFC 1122 §3.2.1).
 *
 * Receive (ip_rcv, Linux's ip_rcv + ip_rcv_finish): the length gate and header checks in the order
 * Linux makes them, each failure counted under Linux's name; Ethernet padding trimmed to the total
 * length; a datagram not addressed to us dropped (we are a host, not a router); fragments handed to
 * ip_defrag; whole datagrams delivered by protocol.
 *
 * Output (ip_output): route, header, fragmentation when the datagram is larger than the MTU (or
 * EMSGSIZE when DF is set), then the neighbour layer. A TCP GSO datagram (docs/offload.md) is
 * measured by the segments the device will cut from it, never fragmented, and goes only to a device
 * that segments; a partial checksum is completed here for a device that does not take one.
 */
#include "core.h"

#include <errno.h>
#include <string.h>

#include "checksum.h"
#include "latency.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

/* Consumes skb; skb->data is at the IP header. */
void ip_rcv(struct us_stack *st, struct sk_buff *skb)
{
	const uint8_t *h = skb->data;
	enum ipv4_bad bad;
	uint32_t daddr, saddr;

	lat_stamp(st, skb, US_LAT_RX_IP);
	IP_INC(st, InReceives);
	bad = ipv4_check(h, skb->len);
	if (bad == IPV4_BAD_TRUNCATED_HDR || bad == IPV4_BAD_VERSION || bad == IPV4_BAD_IHL) {
		IP_INC(st, InHdrErrors);
		goto drop;
	}
	/* RFC 1122 §3.2.1.2: a datagram with a bad header checksum MUST be silently discarded */
	if (inet_csum(h, ipv4_hlen(h)) != 0) {
		IP_INC(st, InCsumErrors);
		IP_INC(st, InHdrErrors);
		goto drop;
	}
	if (bad == IPV4_BAD_TRUNCATED) {
		IP_INC(st, InTruncatedPkts);
		goto drop;
	}
	if (bad != IPV4_OK) {
		IP_INC(st, InHdrErrors);
		goto drop;
	}
	skb_trim(skb, ipv4_tot_len(h)); /* Ethernet pads short frames */
	skb_reset_network_header(skb);

	saddr = ipv4_saddr(h);
	daddr = ipv4_daddr(h);
	/* RFC 1122 §3.2.1.3: a source that is a broadcast or multicast address is not a host, and a
	 * loopback address never appears outside one */
	if (ipv4_is_multicast(saddr) || ipv4_is_lbcast(saddr) || us_addr_is_broadcast(st, saddr) ||
	    ipv4_is_loopback(saddr) || (saddr == 0 && !us_addr_is_broadcast(st, daddr))) {
		/* 0.0.0.0 only as a host's "this host" before it has an address (RFC 1122 §3.2.1.3),
		 * which can only be sent to a broadcast address */
		IP_INC(st, InAddrErrors);
		goto drop;
	}
	if (!us_iface_by_addr(st, daddr) && !us_addr_is_broadcast(st, daddr)) {
		IP_INC(st, InAddrErrors);
		goto drop;
	}
	if (ipv4_is_fragment(h)) {
		/* what a device said of the transport checksum was said of a whole datagram */
		skb->ip_summed = SKB_CSUM_NONE;
		IP_INC(st, ReasmReqds);
		skb = ip_defrag(st, skb);
		if (!skb)
			return;
	}
	ip_local_deliver(st, skb);
	return;
drop:
	skb_free(skb);
}

/* Consumes skb; skb->data at the IP header of a whole datagram. */
void ip_local_deliver(struct us_stack *st, struct sk_buff *skb)
{
	const uint8_t *h = skb->data;
	uint32_t hl = ipv4_hlen(h);

	skb_pull(skb, hl);
	skb_reset_transport_header(skb);
	switch (ipv4_proto(h)) {
	case IP_PROTO_ICMP:
		IP_INC(st, InDelivers);
		icmp_rcv(st, skb);
		return;
	case IP_PROTO_UDP:
		IP_INC(st, InDelivers);
		udp_rcv(st, skb);
		return;
	case IP_PROTO_TCP:
		IP_INC(st, InDelivers);
		tcp_v4_rcv(st, skb);
		return;
	default:
		/* RFC 1122 §3.2.2.1: protocol unreachable for a transport we do not have */
		IP_INC(st, InUnknownProtos);
		skb_push(skb, hl);
		icmp_send_error(st, skb, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
		skb_free(skb);
		return;
	}
}

int ip_output(struct us_stack *st, struct sk_buff *skb, const struct ip_out *o)
{
	struct rt_result rt;
	uint32_t hlen = IPV4_HDR_MIN + (o->opts ? o->optlen : 0u), tot = skb->len + hlen, mtu;
	uint8_t *h, ttl;
	int r;

	lat_stamp(st, skb, US_LAT_TX_IP);
	r = route_lookup(st, o->daddr, &rt);
	if (r < 0) {
		IP_INC(st, OutNoRoutes);
		skb_free(skb);
		return r;
	}
	if (tot > IPV4_MAX_LEN) {
		IP_INC(st, OutDiscards);
		skb_free(skb);
		return -EMSGSIZE;
	}
	h = skb_push(skb, hlen);
	if (!h) {
		skb_free(skb);
		return -EINVAL;
	}
	/* RFC 1112 §6.1: multicast goes out with TTL 1 unless asked otherwise */
	ttl = o->ttl ? o->ttl : ipv4_is_multicast(o->daddr) ? 1 : st->cfg.default_ttl;
	ipv4_emit(h, (uint16_t)tot, st->ip_id++, o->df ? IP_DF : 0, ttl, o->proto,
		  o->saddr ? o->saddr : rt.saddr, o->daddr);
	h[1] = o->tos;
	if (hlen > IPV4_HDR_MIN) {
		h[0] = (uint8_t)(0x40 | hlen / 4);
		memcpy(h + IPV4_HDR_MIN, o->opts, hlen - IPV4_HDR_MIN);
	}
	put_be16(h + 10, inet_csum(h, hlen));
	skb_reset_network_header(skb);
	skb->protocol = 0x0800;
	IP_INC(st, OutRequests);
	mtu = o->ignore_pmtu ? rt.iface->dev->mtu : ip_pmtu_get(st, o->daddr, rt.iface->dev->mtu);
	if (skb_shinfo(skb)->gso_size) {
		/* what goes on the wire is hlen + TCP header + gso_size at most per segment */
		const uint8_t *th = skb_transport_header(skb);
		uint32_t seg = hlen + (th ? tcp_hlen(th) : 0) + skb_shinfo(skb)->gso_size;

		if (!(rt.iface->dev->features & NETDEV_F_TSO4) || !th || seg > mtu) {
			IP_INC(st, OutDiscards);
			skb_free(skb);
			return -EMSGSIZE;
		}
		return arp_output(st, rt.iface, rt.nexthop, skb);
	}
	if (skb->ip_summed == SKB_CSUM_PARTIAL && !(rt.iface->dev->features & NETDEV_F_HW_CSUM))
		csum_skb_finish(skb);
	if (tot > mtu) {
		if (o->df || hlen > IPV4_HDR_MIN) {
			/* RFC 1122 §3.3.3: a datagram that may not be fragmented is not sent (nor, here,
			 * one with options: which to copy into each fragment is not worked out) */
			IP_INC(st, FragFails);
			skb_free(skb);
			return -EMSGSIZE;
		}
		return ip_fragment(st, skb, mtu, rt.iface, rt.nexthop);
	}
	return arp_output(st, rt.iface, rt.nexthop, skb);
}

void ip_local_error(struct us_stack *st, const struct sk_buff *skb, int err)
{
	const uint8_t *h = skb->data;

	if (skb->len < IPV4_HDR_MIN || ipv4_frag_off(h) != 0 || skb->len < ipv4_hlen(h) + 8)
		return; /* only the first fragment names the port or the echo id */
	switch (ipv4_proto(h)) {
	case IP_PROTO_UDP:
		udp_err(st, h, skb->len, err);
		break;
	case IP_PROTO_ICMP:
		/* Linux sends itself a host unreachable (ipv4_link_failure): a soft error */
		icmp_local_error(st, h, skb->len, err, false, ipv4_daddr(h));
		break;
	case IP_PROTO_TCP:
		/* the same host unreachable reaches tcp_v4_err, which aborts a connection being opened:
		 * connect fails with EHOSTUNREACH after the ARP requests, not after every SYN retry */
		tcp_v4_err(st, h, skb->len, err);
		break;
	default:
		break;
	}
}

/* RFC 1191 §3: a plateau table for routers that send no next-hop MTU (RFC 1191 §7), and Linux's
 * floor of 552 bytes (ip_rt_min_pmtu) against forged tiny MTUs. */
#define PMTU_MIN 552
#define PMTU_EXPIRE_NS (600 * US_NSEC_PER_SEC)

void ip_pmtu_update(struct us_stack *st, uint32_t daddr, uint32_t mtu)
{
	struct pmtu_entry *e = NULL;

	if (mtu < PMTU_MIN)
		mtu = PMTU_MIN;
	for (int i = 0; i < US_PMTU_ENTRIES; i++) {
		if (st->pmtu[i].daddr == daddr || (!e && st->pmtu[i].expires_ns <= st->now))
			e = &st->pmtu[i];
		if (st->pmtu[i].daddr == daddr)
			break;
	}
	if (!e) {
		e = &st->pmtu[st->pmtu_next];
		st->pmtu_next = (st->pmtu_next + 1) % US_PMTU_ENTRIES;
	}
	/* a path MTU only shrinks until it expires (RFC 1191 §6.3) */
	if (e->daddr == daddr && e->expires_ns > st->now && e->mtu <= mtu)
		return;
	e->daddr = daddr;
	e->mtu = mtu;
	e->expires_ns = st->now + PMTU_EXPIRE_NS;
	st->pmtu_used = true;
}

uint32_t ip_pmtu_get(struct us_stack *st, uint32_t daddr, uint32_t dev_mtu)
{
	if (!st->pmtu_used)
		return dev_mtu; /* nothing learned: the common case costs one test */
	for (int i = 0; i < US_PMTU_ENTRIES; i++) {
		const struct pmtu_entry *e = &st->pmtu[i];
		if (e->daddr == daddr && e->expires_ns > st->now)
			return e->mtu < dev_mtu ? e->mtu : dev_mtu;
	}
	return dev_mtu;
}
