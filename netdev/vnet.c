/*
 * vnet.c - the virtio-net header that IFF_VNET_HDR puts in front of every frame on a TAP device:
 * reading and writing its bytes, checking what the kernel says about a frame against the frame
 * itself before any of it is believed, and filling it in from an skb being sent.
 *
 * What the header carries maps onto the skb as Linux's virtio_net_hdr_to_skb() maps it: a partial
 * checksum (NEEDS_CSUM) becomes SKB_CSUM_PARTIAL with csum_start/csum_offset, a verified one
 * (DATA_VALID) SKB_CSUM_UNNECESSARY, a TCPv4 GSO frame gso_size/gso_type/gso_segs in the shared info.
 */
#include "ustack/netdev.h"

#include <errno.h>
#include <string.h>

static uint16_t vnet_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void vnet_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void netdev_vnet_hdr_parse(const uint8_t *p, struct netdev_vnet_hdr *h)
{
	h->flags = p[0];
	h->gso_type = p[1];
	h->hdr_len = vnet_le16(p + 2);
	h->gso_size = vnet_le16(p + 4);
	h->csum_start = vnet_le16(p + 6);
	h->csum_offset = vnet_le16(p + 8);
}

void netdev_vnet_hdr_emit(uint8_t *p, const struct netdev_vnet_hdr *h)
{
	p[0] = h->flags;
	p[1] = h->gso_type;
	vnet_put_le16(p + 2, h->hdr_len);
	vnet_put_le16(p + 4, h->gso_size);
	vnet_put_le16(p + 6, h->csum_start);
	vnet_put_le16(p + 8, h->csum_offset);
}

#define VNET_ETH_P_IP 0x0800
#define VNET_IPPROTO_TCP 6
#define VNET_TCP_CSUM_OFF 16

int netdev_vnet_hdr_apply(struct sk_buff *skb, const struct netdev_vnet_hdr *h)
{
	const uint8_t *f = skb->data;
	uint32_t len = skb->len, ihl, thl, payload;
	uint8_t gso = h->gso_type & (uint8_t)~NETDEV_VNET_GSO_ECN;

	if (h->flags & ~(NETDEV_VNET_F_NEEDS_CSUM | NETDEV_VNET_F_DATA_VALID))
		return -EINVAL; /* RSC_INFO and the like: not negotiated */
	if ((h->flags & NETDEV_VNET_F_NEEDS_CSUM) &&
	    (h->csum_start < ETH_HLEN || (uint32_t)h->csum_start + h->csum_offset + 2 > len))
		return -EINVAL;
	if (gso == NETDEV_VNET_GSO_NONE) {
		if (h->gso_type & NETDEV_VNET_GSO_ECN)
			return -EINVAL;
	} else if (gso == NETDEV_VNET_GSO_TCPV4) {
		/* a TCPv4 segment over Ethernet (TUN_F_TSO4 is all we offered), its checksum to be
		 * completed at the TCP header, the headers within the frame: what Linux's
		 * virtio_net_hdr_to_skb and tcp4_gso_segment insist on */
		if (!(h->flags & NETDEV_VNET_F_NEEDS_CSUM) || h->gso_size == 0 || len < ETH_HLEN + 20 ||
		    (f[12] << 8 | f[13]) != VNET_ETH_P_IP || (f[ETH_HLEN] >> 4) != 4 ||
		    f[ETH_HLEN + 9] != VNET_IPPROTO_TCP)
			return -EINVAL;
		ihl = (uint32_t)(f[ETH_HLEN] & 0x0f) * 4;
		if (ihl < 20 || h->csum_start != ETH_HLEN + ihl || h->csum_offset != VNET_TCP_CSUM_OFF ||
		    ETH_HLEN + ihl + 20 > len)
			return -EINVAL;
		thl = (uint32_t)(f[ETH_HLEN + ihl + 12] >> 4) * 4;
		if (thl < 20 || ETH_HLEN + ihl + thl > len || h->hdr_len > len)
			return -EINVAL;
		payload = len - ETH_HLEN - ihl - thl;
		skb_shinfo(skb)->gso_size = h->gso_size;
		skb_shinfo(skb)->gso_type = (uint8_t)(SKB_GSO_TCPV4 |
						      ((h->gso_type & NETDEV_VNET_GSO_ECN) ? SKB_GSO_TCP_ECN : 0));
		skb_shinfo(skb)->gso_segs = (uint16_t)((payload + h->gso_size - 1) / h->gso_size);
	} else {
		return -EINVAL; /* UDP, TCPv6, USO: not offered */
	}
	if (h->flags & NETDEV_VNET_F_NEEDS_CSUM) {
		skb->ip_summed = SKB_CSUM_PARTIAL;
		skb->csum_start = (uint16_t)(skb_headroom(skb) + h->csum_start);
		skb->csum_offset = h->csum_offset;
	} else if (h->flags & NETDEV_VNET_F_DATA_VALID) {
		skb->ip_summed = SKB_CSUM_UNNECESSARY;
	}
	return 0;
}

void netdev_vnet_hdr_from_skb(const struct sk_buff *skb, struct netdev_vnet_hdr *h)
{
	const struct skb_shared_info *sh = skb_shinfo(skb);

	memset(h, 0, sizeof(*h));
	if (skb->ip_summed == SKB_CSUM_PARTIAL) {
		h->flags = NETDEV_VNET_F_NEEDS_CSUM;
		h->csum_start = (uint16_t)(skb->csum_start - skb_headroom(skb));
		h->csum_offset = skb->csum_offset;
	}
	if (sh->gso_size && (sh->gso_type & SKB_GSO_TCPV4)) {
		const uint8_t *th = skb->data + h->csum_start;

		h->gso_type = (uint8_t)(NETDEV_VNET_GSO_TCPV4 |
					((sh->gso_type & SKB_GSO_TCP_ECN) ? NETDEV_VNET_GSO_ECN : 0));
		h->gso_size = sh->gso_size;
		h->hdr_len = (uint16_t)(h->csum_start + (th[12] >> 4) * 4);
	}
}
