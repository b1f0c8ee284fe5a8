/*
 * ipv4.h - the IPv4 header (RFC 791 §3.1). Addresses are handled in host order (uint32_t) once read.
 * The receive path validates with ipv4_check() before reading any other field.
 */
#ifndef USTACK_WIRE_IPV4_H
#define USTACK_WIRE_IPV4_H

#include <stdbool.h>
#include <stdint.h>

#include "bytes.h"

#define IPV4_HDR_MIN 20
#define IPV4_HDR_MAX 60
#define IPV4_MAX_LEN 65535
#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFMASK 0x1fff

#define IPOPT_END 0
#define IPOPT_NOP 1

static inline uint8_t ipv4_version(const uint8_t *h) { return h[0] >> 4; }
static inline uint32_t ipv4_hlen(const uint8_t *h) { return (uint32_t)(h[0] & 0x0f) * 4; }
static inline uint8_t ipv4_tos(const uint8_t *h) { return h[1]; }
static inline uint16_t ipv4_tot_len(const uint8_t *h) { return get_be16(h + 2); }
static inline uint16_t ipv4_id(const uint8_t *h) { return get_be16(h + 4); }
static inline uint16_t ipv4_frag(const uint8_t *h) { return get_be16(h + 6); }
/* Fragment offset in bytes. */
static inline uint32_t ipv4_frag_off(const uint8_t *h) { return (uint32_t)(get_be16(h + 6) & IP_OFFMASK) * 8; }
static inline bool ipv4_more_frags(const uint8_t *h) { return (get_be16(h + 6) & IP_MF) != 0; }
static inline bool ipv4_is_fragment(const uint8_t *h) { return (get_be16(h + 6) & (IP_MF | IP_OFFMASK)) != 0; }
static inline uint8_t ipv4_ttl(const uint8_t *h) { return h[8]; }
static inline uint8_t ipv4_proto(const uint8_t *h) { return h[9]; }
static inline uint32_t ipv4_saddr(const uint8_t *h) { return get_be32(h + 12); }
static inline uint32_t ipv4_daddr(const uint8_t *h) { return get_be32(h + 16); }

static inline bool ipv4_is_multicast(uint32_t a) { return (a & 0xf0000000u) == 0xe0000000u; }
static inline bool ipv4_is_lbcast(uint32_t a) { return a == 0xffffffffu; }
static inline bool ipv4_is_zeronet(uint32_t a) { return (a & 0xff000000u) == 0; }
static inline bool ipv4_is_loopback(uint32_t a) { return (a & 0xff000000u) == 0x7f000000u; }

/* Why a header was refused, for the counters. */
enum ipv4_bad {
	IPV4_OK = 0,
	IPV4_BAD_TRUNCATED_HDR, /* fewer bytes than a header (20, or IHL*4) */
	IPV4_BAD_VERSION,
	IPV4_BAD_IHL,		/* IHL < 5 */
	IPV4_BAD_TOT_LEN,	/* total length < IHL*4 */
	IPV4_BAD_TRUNCATED,	/* total length beyond the bytes that arrived */
	IPV4_BAD_OPTIONS,	/* an option's length is wrong */
};

/* The length gate: version, IHL, total length against the `len` bytes that arrived, and the options'
 * structure (one loop: END stops, NOP is one byte, every other option has a length of at least 2
 * that fits). The checksum is checked separately. */
static inline enum ipv4_bad ipv4_check(const uint8_t *h, uint32_t len)
{
	uint32_t hl, i;

	if (len < IPV4_HDR_MIN)
		return IPV4_BAD_TRUNCATED_HDR;
	if (ipv4_version(h) != 4)
		return IPV4_BAD_VERSION;
	hl = ipv4_hlen(h);
	if (hl < IPV4_HDR_MIN)
		return IPV4_BAD_IHL;
	if (len < hl)
		return IPV4_BAD_TRUNCATED_HDR;
	if (ipv4_tot_len(h) < hl)
		return IPV4_BAD_TOT_LEN;
	if (ipv4_tot_len(h) > len)
		return IPV4_BAD_TRUNCATED;
	for (i = IPV4_HDR_MIN; i < hl;) {
		uint32_t remaining = hl - i, olen;

		if (h[i] == IPOPT_END)
			break;
		if (h[i] == IPOPT_NOP) {
			i++;
			continue;
		}
		if (remaining < 2)
			return IPV4_BAD_OPTIONS;
		olen = h[i + 1];
		if (olen < 2 || olen > remaining)
			return IPV4_BAD_OPTIONS;
		i += olen;
	}
	return IPV4_OK;
}

/* Write a 20-byte header without options; the checksum is computed by the caller. */
static inline void ipv4_emit(uint8_t *h, uint16_t tot_len, uint16_t id, uint16_t frag, uint8_t ttl,
			     uint8_t proto, uint32_t saddr, uint32_t daddr)
{
	h[0] = 0x45;
	h[1] = 0;
	put_be16(h + 2, tot_len);
	put_be16(h + 4, id);
	put_be16(h + 6, frag);
	h[8] = ttl;
	h[9] = proto;
	put_be16(h + 10, 0);
	put_be32(h + 12, saddr);
	put_be32(h + 16, daddr);
}

#endif
