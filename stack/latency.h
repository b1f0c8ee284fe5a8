/*
 * latency.h - per-layer timing inside the stack (the public side is ustack/latency.h): the stamp
 * each stage calls, the histograms, and a clock hook for tests. Not a public header.
 *
 * An skb being timed carries the path's first stamp (lat_t0_ns), its latest (lat_last_ns) and the
 * stage it is expected at next (lat_next, an enum us_lat_stage; 0 means untimed, as no stamp ever
 * expects a first stage, US_LAT_RX_DEV being 0). A stamp at stage s records now - lat_last_ns in s's histogram when lat_next == s,
 * and untimes the skb otherwise (it skipped a stage: timing was off in between, or the skb changed
 * path, as a received one reused for a reply). So a stage's count never exceeds the one before it.
 */
#ifndef USTACK_LAT_INTERNAL_H
#define USTACK_LAT_INTERNAL_H

#include "core.h"
#include "ustack/latency.h"

/* Log-linear buckets: values below 16 ns one bucket each, then 16 per power of two up to 2^37 ns. */
#define LAT_SUB_BITS 4
#define LAT_SUB (1u << LAT_SUB_BITS)
#define LAT_MAX_EXP 37
#define LAT_BUCKETS (LAT_SUB + (LAT_MAX_EXP - LAT_SUB_BITS) * LAT_SUB)

struct latency_hist {
	uint64_t count;	  /* stamps at the stage (a first stage counts without samples) */
	uint64_t samples; /* values recorded in b[] */
	uint64_t max_ns;  /* the largest value recorded, exact */
	uint64_t b[LAT_BUCKETS];
};

void latency_hist_record(struct latency_hist *h, uint64_t ns);
/* The value at permille (500: the median, 990: p99) of the samples: the highest value of the
 * bucket holding that rank, but never above the maximum. 0 with no samples. */
uint64_t latency_hist_percentile(const struct latency_hist *h, unsigned permille);
/* A value's bucket, and the highest value that falls in a bucket. */
uint32_t latency_bucket(uint64_t ns);
uint64_t latency_bucket_high(uint32_t b);

/* The stamp behind lat_stamp. */
void latency_stamp(struct us_stack *st, struct sk_buff *skb, enum us_lat_stage s);
/* us_send entry (entry true): remember the time for the skbs this call queues; its return (entry
 * false): forget it. */
void latency_app_send(struct us_stack *st, bool entry);
/* A new skb of a socket's send queue (TCP) or a new datagram (UDP): the send path's first two
 * stamps, application send and queued. */
void latency_tx_start(struct us_stack *st, struct sk_buff *skb);
/* A device joins the stack: give it the hooks when timing is on. */
void latency_attach(struct us_stack *st, struct netdev *dev);
void latency_destroy(struct us_stack *st);
/* Tests: read time through now(arg) instead of the stack's clock (NULL: the stack's clock again).
 * Allocates the state like us_latency_enable; 0 or -ENOMEM. */
int latency_set_clock(struct us_stack *st, uint64_t (*now)(void *arg), void *arg);

static inline bool lat_enabled(const struct us_stack *st)
{
	return __builtin_expect(st->lat_on, 0);
}

/* Stage s reached: the hook every stage calls, one flag test when timing is off. */
static inline void lat_stamp(struct us_stack *st, struct sk_buff *skb, enum us_lat_stage s)
{
	if (lat_enabled(st))
		latency_stamp(st, skb, s);
}

/* us_send entry (entry true) and return. */
static inline void lat_app_send(struct us_stack *st, bool entry)
{
	if (lat_enabled(st))
		latency_app_send(st, entry);
}

/* A new skb on a TCP socket's send queue, or a new UDP datagram. */
static inline void lat_tx_start(struct us_stack *st, struct sk_buff *skb)
{
	if (lat_enabled(st))
		latency_tx_start(st, skb);
}

/* TCP sends a segment: the clone (or copy) that goes takes the stamps, and the queued original
 * loses them, so that a retransmission is not timed. */
static inline void lat_tx_segment(struct us_stack *st, struct sk_buff *out, struct sk_buff *queued)
{
	if (lat_enabled(st)) {
		latency_stamp(st, out, US_LAT_TX_L4);
		queued->lat_next = 0;
	}
}

#endif
