/*
 * pkttrace.h - the packet trace's hooks (pkttrace.c; the public switch is us_pkttrace_set in
 * ustack/trace.h). Not a public header.
 *
 * A hook costs one pointer test while the trace is off. The decoder is a pure function of the frame's
 * bytes, so tests and tools can run it without a stack.
 */
#ifndef USTACK_PKTTRACE_H
#define USTACK_PKTTRACE_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "ustack/trace.h"

#define PKTTRACE_LINE_MAX 512 /* a decoded line is cut here (never reached by a valid frame) */

enum pkttrace_dir {
	PKTTRACE_IN,
	PKTTRACE_OUT,
};

/* Decode the len bytes of an Ethernet frame (no FCS) as tcpdump -nn -S prints it, with -e's link
 * header when flags has US_PKTTRACE_LINK: no timestamp, no newline. Reads nothing outside
 * frame[0..len). Writes at most size - 1 characters and a NUL into buf (size > 0); returns the
 * length written. */
size_t pkttrace_decode(char *buf, size_t size, const uint8_t *frame, uint32_t len, unsigned flags);

/* Write the line of one frame (skb->data at the Ethernet header; read only), received from or sent
 * to dev, to st's trace. */
void pkttrace_frame(struct us_stack *st, const struct netdev *dev, const struct sk_buff *skb,
		    enum pkttrace_dir dir);

static inline void pkttrace_hook(struct us_stack *st, const struct netdev *dev,
				 const struct sk_buff *skb, enum pkttrace_dir dir)
{
	if (st->pkttrace)
		pkttrace_frame(st, dev, skb, dir);
}

/* A TCP state change from old to tp's state, for reason (tcp_set_state's part). */
struct tcp_sock;
void pkttrace_tcp_state(const struct tcp_sock *tp, int old, const char *reason);

#endif
