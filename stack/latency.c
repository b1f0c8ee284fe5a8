/*
 * latency.c - per-layer timing: the stamps, one log-linear histogram per stage, and the "where
 * latency lives" table (ustack/latency.h says what each stage is and what is counted).
 *
 * The stages call lat_stamp() (latency.h), which tests st->lat_on and only then comes here; the
 * device read and the device write are stamped through the hooks the stack gives its devices
 * (struct netdev_timing), so netdev.c needs nothing of the stack. Everything runs under the stack
 * lock: the loop and the socket API hold it whenever they touch the stack.
 *
 * A histogram is HdrHistogram's idea cut down: below 16 ns a bucket per nanosecond, then each power
 * of two in 16 equal sub-buckets, so recording is a count-leading-zeros and an increment, and a
 * percentile is within 1/16 of the truth. 544 buckets of 8 bytes per stage, 14 stages: 61 KiB,
 * allocated when timing is first switched on.
 */
#include "latency.h"

#include <errno.h>
#include <stdlib.h>

struct latency_state {
	struct netdev_timing hook; /* first: the devices' hooks get back here by a cast */
	struct us_stack *st;
	uint64_t (*now)(void *arg); /* a test's clock; NULL: the stack's */
	void *now_arg;
	uint64_t enabled_ns; /* when timing was last switched on: older stamps are stale */
	uint64_t app_ns;     /* us_send entry of the call in progress; 0: none */
	struct latency_hist h[US_LAT_NSTAGES];
};

static const char *const lat_names[US_LAT_NSTAGES] = {
	[US_LAT_RX_DEV] = "device read",   [US_LAT_RX_ETH] = "eth_rcv",
	[US_LAT_RX_IP] = "ip_rcv",	   [US_LAT_RX_L4] = "tcp/udp rcv",
	[US_LAT_RX_SOCKQ] = "socket queue", [US_LAT_RX_APP] = "app read",
	[US_LAT_RX_TOTAL] = "device -> app", [US_LAT_TX_APP] = "app send",
	[US_LAT_TX_QUEUED] = "queued",	   [US_LAT_TX_L4] = "tcp/udp output",
	[US_LAT_TX_IP] = "ip_output",	   [US_LAT_TX_LINK] = "eth_output",
	[US_LAT_TX_DEV] = "device write",   [US_LAT_TX_TOTAL] = "app -> device",
};

/* ---- histograms ---- */

uint32_t latency_bucket(uint64_t ns)
{
	uint32_t k;

	if (ns < LAT_SUB)
		return (uint32_t)ns;
	k = 63u - (uint32_t)__builtin_clzll(ns); /* ns in [2^k, 2^(k+1)), k >= LAT_SUB_BITS */
	if (k >= LAT_MAX_EXP)
		return LAT_BUCKETS - 1;
	return LAT_SUB + (k - LAT_SUB_BITS) * LAT_SUB +
	       (uint32_t)((ns >> (k - LAT_SUB_BITS)) & (LAT_SUB - 1));
}

uint64_t latency_bucket_high(uint32_t b)
{
	uint32_t shift, sub;

	if (b < LAT_SUB)
		return b;
	shift = (b - LAT_SUB) / LAT_SUB;
	sub = (b - LAT_SUB) % LAT_SUB;
	return ((uint64_t)(LAT_SUB + sub + 1) << shift) - 1;
}

void latency_hist_record(struct latency_hist *h, uint64_t ns)
{
	h->count++;
	h->samples++;
	h->b[latency_bucket(ns)]++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

uint64_t latency_hist_percentile(const struct latency_hist *h, unsigned permille)
{
	/* the rank of the value wanted, 1-based: ceil(samples * permille / 1000), at least 1 */
	uint64_t rank = (h->samples * permille + 999) / 1000, seen = 0;

	if (!h->samples)
		return 0;
	if (rank == 0)
		rank = 1;
	for (uint32_t b = 0; b < LAT_BUCKETS; b++) {
		seen += h->b[b];
		if (seen >= rank) {
			uint64_t v = latency_bucket_high(b);
			return v < h->max_ns ? v : h->max_ns;
		}
	}
	return h->max_ns;
}

/* ---- stamps ---- */

/* The timing clock: the stack's (a vDSO clock_gettime on CLOCK_MONOTONIC), or a test's. */
static uint64_t lat_now(struct latency_state *l)
{
	return l->now ? l->now(l->now_arg) : us_clock_now(l->st->clock);
}

void latency_stamp(struct us_stack *st, struct sk_buff *skb, enum us_lat_stage s)
{
	struct latency_state *l = st->lat;
	uint64_t now;

	/* skipped a stage, or stamped before timing was last switched on: untimed from here */
	if (skb->lat_next != s || skb->lat_t0_ns < l->enabled_ns) {
		skb->lat_next = 0;
		return;
	}
	now = lat_now(l);
	latency_hist_record(&l->h[s], now - skb->lat_last_ns);
	skb->lat_last_ns = now;
	skb->lat_next = (uint8_t)(s + 1);
	if (s == US_LAT_RX_APP) {
		latency_hist_record(&l->h[US_LAT_RX_TOTAL], now - skb->lat_t0_ns);
		skb->lat_next = 0;
	}
}

void latency_app_send(struct us_stack *st, bool entry)
{
	st->lat->app_ns = entry ? lat_now(st->lat) : 0;
}

void latency_tx_start(struct us_stack *st, struct sk_buff *skb)
{
	struct latency_state *l = st->lat;
	uint64_t now = lat_now(l);
	/* the proto.h API has no socket call around it: there the send starts here */
	uint64_t app = l->app_ns && l->app_ns <= now ? l->app_ns : now;

	l->h[US_LAT_TX_APP].count++;
	latency_hist_record(&l->h[US_LAT_TX_QUEUED], now - app);
	skb->lat_t0_ns = app;
	skb->lat_last_ns = now;
	skb->lat_next = US_LAT_TX_L4;
}

/* netdev_rx_deliver: the device-read stamp, the first of the receive path. */
static void lat_dev_rx(struct netdev_timing *t, struct sk_buff *skb)
{
	struct latency_state *l = (struct latency_state *)(void *)t;
	uint64_t now = lat_now(l);

	l->h[US_LAT_RX_DEV].count++;
	skb->lat_t0_ns = skb->lat_last_ns = now;
	skb->lat_next = US_LAT_RX_ETH;
}

/* netdev_flush: the backend takes the batch (and frees its skbs), then one clock read stamps every
 * timed frame of it, so the stamps are kept aside first. */
static void lat_dev_xmit(struct netdev_timing *t, struct netdev *dev, struct sk_buff **skbs,
			 uint32_t n)
{
	struct latency_state *l = (struct latency_state *)(void *)t;
	uint64_t t0[NETDEV_MAX_BATCH], last[NETDEV_MAX_BATCH], now;
	uint32_t k = 0;

	for (uint32_t i = 0; i < n && k < NETDEV_MAX_BATCH; i++) {
		struct sk_buff *skb = skbs[i];

		if (skb->lat_next == US_LAT_TX_DEV && skb->lat_t0_ns >= l->enabled_ns) {
			t0[k] = skb->lat_t0_ns;
			last[k++] = skb->lat_last_ns;
		}
	}
	dev->ops->xmit(dev, skbs, n);
	if (!k)
		return;
	now = lat_now(l);
	for (uint32_t i = 0; i < k; i++) {
		latency_hist_record(&l->h[US_LAT_TX_DEV], now - last[i]);
		latency_hist_record(&l->h[US_LAT_TX_TOTAL], now - t0[i]);
	}
}

/* ---- switching, reading, printing ---- */

static int lat_alloc(struct us_stack *st)
{
	struct latency_state *l;

	if (st->lat)
		return 0;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->hook.rx = lat_dev_rx;
	l->hook.xmit = lat_dev_xmit;
	l->st = st;
	st->lat = l;
	return 0;
}

void latency_attach(struct us_stack *st, struct netdev *dev)
{
	dev->timing = st->lat_on ? &st->lat->hook : NULL;
}

int us_latency_enable(struct us_stack *st, bool on)
{
	int r = 0;

	pthread_mutex_lock(&st->lock);
	if (on && !st->lat_on) {
		r = lat_alloc(st);
		if (r == 0) {
			st->lat->enabled_ns = lat_now(st->lat);
			st->lat->app_ns = 0;
			st->lat_on = true;
		}
	} else if (!on) {
		st->lat_on = false;
	}
	for (int i = 0; r == 0 && i < US_MAX_IFACES; i++)
		if (st->ifaces[i].dev)
			latency_attach(st, st->ifaces[i].dev);
	pthread_mutex_unlock(&st->lock);
	return r;
}

bool us_latency_enabled(struct us_stack *st)
{
	bool on;

	pthread_mutex_lock(&st->lock);
	on = st->lat_on;
	pthread_mutex_unlock(&st->lock);
	return on;
}

void us_latency_reset(struct us_stack *st)
{
	pthread_mutex_lock(&st->lock);
	if (st->lat)
		for (int s = 0; s < US_LAT_NSTAGES; s++)
			st->lat->h[s] = (struct latency_hist){ 0 };
	pthread_mutex_unlock(&st->lock);
}

static void lat_get(const struct us_stack *st, int s, struct us_latency_stats *out)
{
	const struct latency_hist *h;

	*out = (struct us_latency_stats){ 0 };
	if (!st->lat)
		return;
	h = &st->lat->h[s];
	out->count = h->count;
	out->p50_ns = latency_hist_percentile(h, 500);
	out->p99_ns = latency_hist_percentile(h, 990);
	out->max_ns = h->max_ns;
}

int us_latency_get(struct us_stack *st, enum us_lat_stage stage, struct us_latency_stats *out)
{
	if ((unsigned)stage >= US_LAT_NSTAGES || !out)
		return -EINVAL;
	pthread_mutex_lock(&st->lock);
	lat_get(st, (int)stage, out);
	pthread_mutex_unlock(&st->lock);
	return 0;
}

const char *us_latency_stage_name(enum us_lat_stage stage)
{
	return (unsigned)stage < US_LAT_NSTAGES ? lat_names[stage] : NULL;
}

static void lat_row(FILE *out, const char *name, const char *after, const struct us_latency_stats *s,
		    bool first)
{
	fprintf(out, "  %-15s %-16s %12llu", name, after, (unsigned long long)s->count);
	if (first || !s->count)
		fprintf(out, " %11s %11s %11s\n", "-", "-", "-");
	else
		fprintf(out, " %11.2f %11.2f %11.2f\n", s->p50_ns / 1e3, s->p99_ns / 1e3,
			s->max_ns / 1e3);
}

void us_latency_dump(struct us_stack *st, FILE *out)
{
	static const char *const after[US_LAT_NSTAGES] = {
		[US_LAT_RX_ETH] = "after device",  [US_LAT_RX_IP] = "after eth",
		[US_LAT_RX_L4] = "after ip",	    [US_LAT_RX_SOCKQ] = "after tcp/udp",
		[US_LAT_RX_APP] = "after queue",    [US_LAT_RX_TOTAL] = "whole path",
		[US_LAT_TX_QUEUED] = "after app",   [US_LAT_TX_L4] = "after queued",
		[US_LAT_TX_IP] = "after tcp/udp",   [US_LAT_TX_LINK] = "after ip",
		[US_LAT_TX_DEV] = "after eth",	    [US_LAT_TX_TOTAL] = "whole path",
	};
	struct us_latency_stats s[US_LAT_NSTAGES];
	bool on;

	pthread_mutex_lock(&st->lock);
	on = st->lat_on;
	for (int i = 0; i < US_LAT_NSTAGES; i++)
		lat_get(st, i, &s[i]);
	pthread_mutex_unlock(&st->lock);

	fprintf(out, "Where latency lives (timing %s; microseconds from the stage before):\n",
		on ? "on" : "off");
	fprintf(out, "  %-15s %-16s %12s %11s %11s %11s\n", "receive", "", "count", "p50", "p99", "max");
	for (int i = US_LAT_RX_DEV; i <= US_LAT_RX_TOTAL; i++)
		lat_row(out, lat_names[i], after[i] ? after[i] : "", &s[i], i == US_LAT_RX_DEV);
	fprintf(out, "  send\n");
	for (int i = US_LAT_TX_APP; i <= US_LAT_TX_TOTAL; i++)
		lat_row(out, lat_names[i], after[i] ? after[i] : "", &s[i], i == US_LAT_TX_APP);
}

int latency_set_clock(struct us_stack *st, uint64_t (*now)(void *arg), void *arg)
{
	int r;

	pthread_mutex_lock(&st->lock);
	r = lat_alloc(st);
	if (r == 0) {
		st->lat->now = now;
		st->lat->now_arg = arg;
	}
	pthread_mutex_unlock(&st->lock);
	return r;
}

void latency_destroy(struct us_stack *st)
{
	free(st->lat);
	st->lat = NULL;
	st->lat_on = false;
}
