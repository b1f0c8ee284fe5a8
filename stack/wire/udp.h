/*
 * udp.h - the UDP header (RFC 768): source port, destination port, length, checksum.
 */
#ifndef USTACK_WIRE_UDP_H
#define USTACK_WIRE_UDP_H

#include <stdint.h>

#include "bytes.h"

#define UDP_HDR_LEN 8
/* 65535 - 20 (IPv4 header) - 8 (UDP header) */
#define UDP_MAX_PAYLOAD 65507

static inline uint16_t udp_sport(const uint8_t *h) { return get_be16(h); }
static inline uint16_t udp_dport(const uint8_t *h) { return get_be16(h + 2); }
static inline uint16_t udp_len(const uint8_t *h) { return get_be16(h + 4); }
static inline uint16_t udp_csum(const uint8_t *h) { return get_be16(h + 6); }

static inline void udp_emit(uint8_t *h, uint16_t sport, uint16_t dport, uint16_t len)
{
	put_be16(h, sport);
	put_be16(h + 2, dport);
	put_be16(h + 4, len);
	put_be16(h + 6, 0);
}

#endif
