/*
 * trace.h - the packet trace: one line per frame a device hands the stack and per frame the stack
 * hands a device, decoded the way `tcpdump -nn -S` prints it, and one line per TCP state change
 * with its reason. Switched on and off at run time; docs/packet-trace.md shows what it prints.
 *
 *   0.000000 In  tap0 ARP, Request who-has 198.18.0.2 tell 198.18.0.1, length 28
 *   0.000017 Out tap0 ARP, Reply 198.18.0.2 is-at 02:00:00:00:00:02, length 28
 *   0.000101 In  tap0 IP 198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 123, win 64240, ...
 *   0.000112 TCP 198.18.0.2:80 > 198.18.0.1:40000 LISTEN -> SYN-RECEIVED (rcv SYN)
 *
 * The time is the stack's clock in seconds since the stack was created; frames received are shown
 * before any check (a malformed frame is shown too, as far as it goes), frames sent as they go to the
 * device. Sequence numbers are absolute (tcpdump's -S).
 */
#ifndef USTACK_TRACE_H
#define USTACK_TRACE_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct us_stack;

/* us_pkttrace_set flags */
#define US_PKTTRACE_LINK 0x1 /* print the Ethernet header too, as tcpdump -e */
#define US_PKTTRACE_NO_STATE 0x2 /* frames only: no TCP state-change lines */

/* Trace st's frames and TCP state changes into out (NULL: stop). out stays the caller's: it is never
 * closed, and must stay open until the trace is switched off or the stack destroyed. Lines are written
 * by the thread running the stack, under the stack lock, so any thread may call this while the stack
 * runs; once it returns, the previous FILE is flushed and written no more, and may be closed. 0, or
 * -EINVAL for a NULL stack or unknown flags. */
int us_pkttrace_set(struct us_stack *st, FILE *out, unsigned flags);

#ifdef __cplusplus
}
#endif

#endif
