/*
 * tcp.h - the TCP header (RFC 9293 §3.1) and its options: MSS (RFC 9293 §3.2, RFC 6691), window
 * scale and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018).
 *
 * The receive path checks that the segment holds a 20-byte header and that the data offset is at
 * least 5 and within the segment (tcp_check) before reading any field; tcp_parse_options then walks
 * the options in one loop: END stops, NOP is one byte, every other option needs a length byte with
 * 2 <= length <= what remains, and known kinds must have their exact length.
 */
#ifndef USTACK_WIRE_TCP_H
#define USTACK_WIRE_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "bytes.h"

#define TCP_HDR_MIN 20
#define TCP_HDR_MAX 60

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20
#define TCPF_ECE 0x40
#define TCPF_CWR 0x80

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WINDOW 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8

#define TCPOLEN_MSS 4
#define TCPOLEN_WINDOW 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TIMESTAMP 10
#define TCP_MAX_SACK 4
#define TCP_MAX_WSCALE 14 /* RFC 7323 §2.3 */

static inline uint16_t tcp_sport(const uint8_t *h) { return get_be16(h); }
static inline uint16_t tcp_dport(const uint8_t *h) { return get_be16(h + 2); }
static inline uint32_t tcp_seq(const uint8_t *h) { return get_be32(h + 4); }
static inline uint32_t tcp_ack_seq(const uint8_t *h) { return get_be32(h + 8); }
/* Header length in bytes (data offset * 4). */
static inline uint32_t tcp_hlen(const uint8_t *h) { return (uint32_t)(h[12] >> 4) * 4; }
static inline uint8_t tcp_flags(const uint8_t *h) { return h[13]; }
static inline uint16_t tcp_window(const uint8_t *h) { return get_be16(h + 14); }
static inline uint16_t tcp_csum(const uint8_t *h) { return get_be16(h + 16); }
static inline uint16_t tcp_urg_ptr(const uint8_t *h) { return get_be16(h + 18); }

/* The length gate: 0 when the segment of len bytes holds a whole header with its options, else -1. */
static inline int tcp_check(const uint8_t *h, uint32_t len)
{
	if (len < TCP_HDR_MIN)
		return -1;
	if (tcp_hlen(h) < TCP_HDR_MIN || tcp_hlen(h) > len)
		return -1;
	return 0;
}

struct tcp_sack_block {
	uint32_t start, end; /* left and right edge, sequence numbers */
};

/* What a segment's options said. */
struct tcp_opts {
	bool mss_ok, wscale_ok, sack_ok, ts_ok;
	uint16_t mss;
	uint8_t wscale;	 /* as sent; the receiver clamps it to 14 */
	uint32_t tsval, tsecr;
	uint8_t nsack;	 /* SACK blocks */
	struct tcp_sack_block sack[TCP_MAX_SACK];
};

/* Parse len bytes of options. Returns 0, or -1 for a malformed option list (a length byte missing,
 * below 2 or beyond the header, or a known kind with the wrong length), in which case the caller
 * drops the segment. */
static inline int tcp_parse_options(const uint8_t *p, uint32_t len, struct tcp_opts *o)
{
	uint32_t i = 0;

	*o = (struct tcp_opts){ 0 };
	while (i < len) {
		uint32_t remaining = len - i, olen;
		uint8_t kind = p[i];

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (remaining < 2)
			return -1;
		olen = p[i + 1];
		if (olen < 2 || olen > remaining)
			return -1;
		switch (kind) {
		case TCPOPT_MSS:
			if (olen != TCPOLEN_MSS)
				return -1;
			o->mss_ok = true;
			o->mss = get_be16(p + i + 2);
			break;
		case TCPOPT_WINDOW:
			if (olen != TCPOLEN_WINDOW)
				return -1;
			o->wscale_ok = true;
			o->wscale = p[i + 2];
			break;
		case TCPOPT_SACK_PERM:
			if (olen != TCPOLEN_SACK_PERM)
				return -1;
			o->sack_ok = true;
			break;
		case TCPOPT_TIMESTAMP:
			if (olen != TCPOLEN_TIMESTAMP)
				return -1;
			o->ts_ok = true;
			o->tsval = get_be32(p + i + 2);
			o->tsecr = get_be32(p + i + 6);
			break;
		case TCPOPT_SACK:
			/* RFC 2018 §3: 2 + 8n bytes, n from 1 to 4 */
			if (olen < 10 || (olen - 2) % 8 != 0 || (olen - 2) / 8 > TCP_MAX_SACK)
				return -1;
			o->nsack = (uint8_t)((olen - 2) / 8);
			for (uint32_t k = 0; k < o->nsack; k++) {
				o->sack[k].start = get_be32(p + i + 2 + 8 * k);
				o->sack[k].end = get_be32(p + i + 6 + 8 * k);
			}
			break;
		default:
			break; /* unknown kinds are skipped (RFC 9293 §3.1, RFC 1122 §4.2.2.5) */
		}
		i += olen;
	}
	return 0;
}

#endif
