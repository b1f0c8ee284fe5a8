/*
 * tcp_seg.h - the TCP tests' peer: segments built from the peer (198.18.0.1) to the stack (Ethernet,
 * IPv4, TCP with options and the RFC 9293 §3.1 checksum), and the stack's segments parsed and
 * checked. Shared by test_tcp.c and test_tcp_syncookie.c.
 */
#ifndef USTACK_TEST_TCP_SEG_H
#define USTACK_TEST_TCP_SEG_H

#include <stdbool.h>
#include <stdint.h>

#include "stack_helper.h"

struct tcp_topts {
	uint16_t mss; /* 0: no MSS option */
	bool sackp;
	bool ts;
	uint32_t tsval, tsecr;
	bool wsok;
	uint8_t ws;
	uint8_t nsack;	      /* SACK blocks (RFC 2018 §3), after the others */
	uint32_t sack[4][2];
};

struct tcp_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	struct tcp_topts o;
	const uint8_t *data;
	uint32_t len;
};

struct tcp_pkt {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	bool mss_ok, sackp, ts, wsok;
	uint16_t mss;
	uint32_t tsval, tsecr;
	uint8_t ws;
	uint8_t nsack;
	uint32_t sack[4][2];
	uint8_t data[1600];
	uint32_t len;
};

/* Options in the order Linux uses; padded with EOL to a multiple of 4 (RFC 9293 §3.1). */
uint32_t tcp_seg_opts(uint8_t *p, const struct tcp_topts *o);
/* Ethernet + IPv4 + TCP from the peer to the stack. */
uint32_t tcp_seg_frame(uint8_t *buf, const struct tcp_seg *s);
/* The next frame the stack sent, parsed and checked (addresses, checksums); false when none. */
bool tcp_pkt_next(struct th *h, struct tcp_pkt *p);

#endif
