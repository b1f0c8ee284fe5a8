/*
 * eth.c - Ethernet: the receive demux (ethertype -> handler) and the output that puts the header on.
 *
 * A frame is for us when its destination is our MAC or the broadcast address; we join no multicast
 * groups yet, so multicast frames (IPv6 neighbour discovery, mDNS) are counted as not for us.
 */
#include "core.h"

#include <errno.h>
#include <string.h>

#include "latency.h"
#include "pkttrace.h"
#include "wire/eth.h"

struct eth_handler {
	uint16_t type;
	void (*rcv)(struct us_stack *st, struct sk_buff *skb);
};

static const struct eth_handler eth_handlers[] = {
	{ ETH_P_IP, ip_rcv },
	{ ETH_P_ARP, arp_rcv },
};

/* Consumes skb. */
void eth_rcv(struct us_stack *st, struct sk_buff *skb)
{
	const uint8_t *h = skb->data;
	uint32_t hlen = ETH_HDR_LEN;
	uint16_t type;

	lat_stamp(st, skb, US_LAT_RX_ETH);
	pkttrace_hook(st, skb->dev, skb, PKTTRACE_IN); /* before any check: malformed frames are shown too */
	ETH_INC(st, InFrames);
	if (skb->len < ETH_HDR_LEN) {
		ETH_INC(st, InRunts);
		goto drop;
	}
	if (!eth_is_broadcast(eth_dst(h)) && memcmp(eth_dst(h), skb->dev->mac, ETH_ADDR_LEN) != 0) {
		ETH_INC(st, InNotForUs);
		goto drop;
	}
	type = eth_type(h);
	skb_reset_mac_header(skb);
	if (type < 0x0600) {
		/* RFC 1122 §2.3.3 (SHOULD), RFC 1042: an IEEE 802.3 frame, the field a length; taken when
		 * it carries LLC/SNAP (AA AA 03, OUI 0) and the EtherType after it */
		uint32_t l = type;

		if (l < 8 || skb->len < ETH_HDR_LEN + l || h[14] != 0xaa || h[15] != 0xaa ||
		    h[16] != 0x03 || h[17] || h[18] || h[19]) {
			ETH_INC(st, InUnknownType);
			goto drop;
		}
		type = get_be16(h + 20);
		skb_trim(skb, ETH_HDR_LEN + l); /* what follows the length is padding */
		hlen = ETH_HDR_LEN + 8;
	}
	skb->protocol = type;
	skb_pull(skb, hlen);
	skb_reset_network_header(skb);
	for (size_t i = 0; i < sizeof(eth_handlers) / sizeof(eth_handlers[0]); i++) {
		if (eth_handlers[i].type == type) {
			eth_handlers[i].rcv(st, skb);
			return;
		}
	}
	ETH_INC(st, InUnknownType);
drop:
	skb_free(skb);
}

/* Put the Ethernet header on and queue the frame on the interface's device. Consumes skb. */
int eth_output(struct us_stack *st, struct us_iface *ifc, struct sk_buff *skb, const uint8_t *dst,
	       uint16_t type)
{
	uint8_t *h = skb_push(skb, ETH_HDR_LEN);

	lat_stamp(st, skb, US_LAT_TX_LINK);
	if (!h) {
		skb_free(skb);
		return -EINVAL;
	}
	eth_emit(h, dst, ifc->dev->mac, type);
	skb_reset_mac_header(skb);
	ETH_INC(st, OutFrames);
	pkttrace_hook(st, ifc->dev, skb, PKTTRACE_OUT);
	return netdev_xmit(ifc->dev, skb);
}
