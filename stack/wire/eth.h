/*
 * eth.h - the Ethernet II header (IEEE 802.3 framing as used by IP, RFC 894): destination,
 * source, ethertype. Callers check skb->len >= ETH_HLEN first; the accessors then need no checks.
 */
#ifndef USTACK_WIRE_ETH_H
#define USTACK_WIRE_ETH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bytes.h"

#define ETH_HDR_LEN 14
#define ETH_ADDR_LEN 6
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86dd

static inline const uint8_t *eth_dst(const uint8_t *h)
{
	return h;
}
static inline const uint8_t *eth_src(const uint8_t *h)
{
	return h + 6;
}
static inline uint16_t eth_type(const uint8_t *h)
{
	return get_be16(h + 12);
}
static inline bool eth_is_broadcast(const uint8_t *a)
{
	return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}
static inline bool eth_is_multicast(const uint8_t *a)
{
	return (a[0] & 1) != 0; /* the group bit; broadcast included */
}
static inline void eth_emit(uint8_t *h, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(h, dst, ETH_ADDR_LEN);
	memcpy(h + 6, src, ETH_ADDR_LEN);
	put_be16(h + 12, type);
}

#endif
