/*
 * icmp.h - the ICMP header (RFC 792): type, code, checksum, then four bytes whose meaning depends on
 * the type (identifier and sequence for echo, next-hop MTU for fragmentation needed, unused).
 */
#ifndef USTACK_WIRE_ICMP_H
#define USTACK_WIRE_ICMP_H

#include <stdbool.h>
#include <stdint.h>

#include "bytes.h"

#define ICMP_HDR_LEN 8
#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define ICMP_TIMESTAMP 13
#define ICMP_TIMESTAMPREPLY 14

/* Destination unreachable codes */
#define ICMP_NET_UNREACH 0
#define ICMP_HOST_UNREACH 1
#define ICMP_PROT_UNREACH 2
#define ICMP_PORT_UNREACH 3
#define ICMP_FRAG_NEEDED 4
/* Time exceeded codes */
#define ICMP_EXC_TTL 0
#define ICMP_EXC_FRAGTIME 1

static inline uint8_t icmp_type(const uint8_t *h) { return h[0]; }
static inline uint8_t icmp_code(const uint8_t *h) { return h[1]; }
static inline uint16_t icmp_echo_id(const uint8_t *h) { return get_be16(h + 4); }
static inline uint16_t icmp_echo_seq(const uint8_t *h) { return get_be16(h + 6); }
static inline uint16_t icmp_frag_mtu(const uint8_t *h) { return get_be16(h + 6); }

/* RFC 1122 §3.2.2: error messages are the ones never answered with another error. */
static inline bool icmp_is_error(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

#endif
