/*
 * arp.h - the ARP packet for IPv4 over Ethernet (RFC 826): hardware type 1, protocol type 0x0800,
 * address lengths 6 and 4, opcode, then sender and target hardware and protocol addresses.
 * Callers check the length (ARP_PKT_LEN) first.
 */
#ifndef USTACK_WIRE_ARP_H
#define USTACK_WIRE_ARP_H

#include <stdint.h>
#include <string.h>

#include "bytes.h"

#define ARP_PKT_LEN 28
#define ARP_HRD_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

static inline uint16_t arp_hrd(const uint8_t *a) { return get_be16(a); }
static inline uint16_t arp_pro(const uint8_t *a) { return get_be16(a + 2); }
static inline uint8_t arp_hln(const uint8_t *a) { return a[4]; }
static inline uint8_t arp_pln(const uint8_t *a) { return a[5]; }
static inline uint16_t arp_op(const uint8_t *a) { return get_be16(a + 6); }
static inline const uint8_t *arp_sha(const uint8_t *a) { return a + 8; }
static inline uint32_t arp_spa(const uint8_t *a) { return get_be32(a + 14); }
static inline const uint8_t *arp_tha(const uint8_t *a) { return a + 18; }
static inline uint32_t arp_tpa(const uint8_t *a) { return get_be32(a + 24); }

/* Write an Ethernet/IPv4 ARP packet; tha may be NULL for all zeroes. */
static inline void arp_emit(uint8_t *a, uint16_t op, const uint8_t *sha, uint32_t spa,
			    const uint8_t *tha, uint32_t tpa)
{
	put_be16(a, ARP_HRD_ETHER);
	put_be16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put_be16(a + 6, op);
	memcpy(a + 8, sha, 6);
	put_be32(a + 14, spa);
	if (tha)
		memcpy(a + 18, tha, 6);
	else
		memset(a + 18, 0, 6);
	put_be32(a + 24, tpa);
}

#endif
