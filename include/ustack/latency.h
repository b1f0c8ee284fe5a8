/*
 * latency.h - where a packet's time goes, layer by layer.
 *
 * Off by default. Switched on (us_latency_enable), every received frame is stamped as it passes
 * each stage of the receive path, and every segment or datagram an application sends as it passes
 * each stage of the send path; each stamp records, in that stage's histogram, the time since the
 * stamp before it. The first stage of each path only counts (it has no stamp before it); the last
 * row of each path is the whole way, first stamp to last.
 *
 *   receive: device read (the backend hands the frame to the stack) -> eth_rcv -> ip_rcv ->
 *            tcp_v4_rcv / udp_rcv -> socket queue (on the receive queue the application reads) ->
 *            application read (us_recv / us_recvfrom copied out its last byte)
 *   send:    application send (us_send entry) -> queued (the bytes are in an skb of the socket:
 *            tcp_sendmsg / udp_sendmsg) -> transport output (tcp_output sends the segment / UDP
 *            hands the datagram on) -> ip_output -> eth_output -> device write (the backend took
 *            the frame: after the batch it came in was flushed)
 *
 * What is counted: a stage counts each packet that reaches it with every stage before it stamped,
 * so counts fall along a path where packets end: an ARP frame after Ethernet, a pure ACK after TCP,
 * an out-of-order segment that a later one covers in TCP, a fragmented datagram at IP (fragments
 * are new skbs). A TCP read may take several segments or part of one: the application-read stage is
 * recorded once per segment, when its last byte is read. The send path counts skbs (segments,
 * datagrams), not calls: one large us_send is many "app send"s with one stamp. A segment is timed on its first
 * transmission only (retransmissions are copies of an untimed skb), and the part of a segment split
 * to fit the window that goes later is not timed. Bytes appended to a queued segment that was not
 * sent yet ride on its stamps: the stamps tell the oldest byte's story.
 *
 * The clock is the stack's (CLOCK_MONOTONIC unless the stack was given a virtual clock). Histograms
 * are log-linear (16 sub-buckets per power of two: a percentile is exact below 16 ns and within
 * 1/16 of the value above, never above the maximum, which is exact), from 1 ns to 2^37 ns (137 s;
 * longer times fall in the last bucket). Memory is fixed, allocated when timing is first switched on
 * and freed with the stack. With timing off each stage costs one test of a flag, and no clock read.
 *
 * Every function takes the stack lock.
 */
#ifndef USTACK_LATENCY_H
#define USTACK_LATENCY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct us_stack;

/* The stages, in path order; each one's time is from the stage before it. */
enum us_lat_stage {
	US_LAT_RX_DEV = 0, /* device read: the first stamp, counted only */
	US_LAT_RX_ETH,	   /* eth_rcv, after the device read (the batch's other frames, the ring) */
	US_LAT_RX_IP,	   /* ip_rcv, after eth_rcv */
	US_LAT_RX_L4,	   /* tcp_v4_rcv / udp_rcv, after ip_rcv */
	US_LAT_RX_SOCKQ,   /* on the socket's receive queue, after tcp/udp (incl. out-of-order wait) */
	US_LAT_RX_APP,	   /* read by the application, after the socket queue */
	US_LAT_RX_TOTAL,   /* device read -> application read */
	US_LAT_TX_APP,	   /* us_send entry: the first stamp, counted only */
	US_LAT_TX_QUEUED,  /* in an skb of the socket, after us_send entry (incl. waiting for room) */
	US_LAT_TX_L4,	   /* sent by TCP / UDP, after queued (window, cwnd, Nagle) */
	US_LAT_TX_IP,	   /* ip_output, after the transport */
	US_LAT_TX_LINK,	   /* eth_output, after ip_output (route, ARP resolution) */
	US_LAT_TX_DEV,	   /* the device backend took it, after eth_output (TX ring, batch flush) */
	US_LAT_TX_TOTAL,   /* us_send entry -> device write */
	US_LAT_NSTAGES
};

struct us_latency_stats {
	uint64_t count;	 /* packets that reached the stage */
	uint64_t p50_ns; /* median time from the stage before; 0 for a first stage or no samples */
	uint64_t p99_ns;
	uint64_t max_ns;
};

/* Switch timing on or off. The histograms are allocated the first time (-ENOMEM) and kept while
 * off; packets in flight when it is switched on are not timed. 0 or -errno. */
int us_latency_enable(struct us_stack *st, bool on);
bool us_latency_enabled(struct us_stack *st);
/* Empty every histogram. */
void us_latency_reset(struct us_stack *st);
/* One stage's figures; -EINVAL for an unknown stage. All zero while timing was never on. */
int us_latency_get(struct us_stack *st, enum us_lat_stage stage, struct us_latency_stats *out);
/* A stage's name as the table prints it ("eth_rcv", ...), or NULL. */
const char *us_latency_stage_name(enum us_lat_stage stage);
/* Print "where latency lives": per stage its count, p50, p99 and max in microseconds. */
void us_latency_dump(struct us_stack *st, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
