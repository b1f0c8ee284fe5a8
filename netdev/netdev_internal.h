/*
 * netdev_internal.h - helpers shared by the device backends. Internal.
 */
#ifndef USTACK_NETDEV_INTERNAL_H
#define USTACK_NETDEV_INTERNAL_H

#include "ustack/netdev.h"

/* A wrapper device over lower, taking over its name, MAC, MTU, features, pool, clock and ring sizes.
 * The wrapper's close op must close lower (when set). NULL with errno. */
struct netdev *netdev_wrap(const struct netdev_ops *ops, struct netdev *lower, size_t priv_size);

/* The largest GSO frame a device with TSO takes or hands over: 64 KB of IP datagram behind an
 * Ethernet header and one VLAN tag. */
#define NETDEV_GSO_FRAME_MAX (65536u + ETH_VLAN_HLEN)

/* The longest frame dev may transmit for skb: a GSO frame's on a device with TSO, else an MTU
 * behind an Ethernet header and one VLAN tag. */
static inline uint32_t netdev_frame_max(const struct netdev *dev, const struct sk_buff *skb)
{
	if ((dev->features & NETDEV_F_TSO4) && skb_shinfo(skb)->gso_size)
		return NETDEV_GSO_FRAME_MAX;
	return dev->mtu + ETH_HLEN + ETH_VLAN_HLEN;
}

#endif
