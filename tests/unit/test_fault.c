/*
 * test_fault.c - the fault wrapper: each fault alone at probability 1 does exactly what it says;
 * at fractional probabilities the rates are right; the same seed gives the same faults and another
 * seed other ones; holding is bounded; each direction can be harmed alone. The link: a fixed
 * latency and a rate deliver each frame at the exact virtual time they say, a full queue drops and
 * counts, and the faults still come first.
 */
#include <errno.h>
#include <string.h>

#include "test_util.h"

#define FRAME_LEN 64u

static struct netdev *low_a, *peer, *fdev;

/* pair low_a <-> peer, with the fault wrapper on low_a */
static void fault_open(const struct netdev_fault_config *fc)
{
	struct netdev_pair_config cfg = { .wire_capacity = 1u << 16 };

	cfg.a = (struct netdev_config){ .pool = t_pool, .clock = &t_clock, .rx_ring_size = 1u << 14,
					.tx_ring_size = 1u << 14 };
	cfg.b = cfg.a;
	ck_assert_int_eq(netdev_pair_create(&cfg, &low_a, &peer), 0);
	fdev = netdev_fault_wrap(low_a, fc);
	ck_assert_ptr_nonnull(fdev);
}

static void fault_close(void)
{
	netdev_close(fdev);
	netdev_close(peer);
	fdev = low_a = peer = NULL;
}

static struct sk_buff *id_frame(uint32_t id)
{
	struct sk_buff *skb = test_frame(t_pool, FRAME_LEN, (uint8_t)id);

	skb->data[ETH_HLEN] = (uint8_t)(id >> 24);
	skb->data[ETH_HLEN + 1] = (uint8_t)(id >> 16);
	skb->data[ETH_HLEN + 2] = (uint8_t)(id >> 8);
	skb->data[ETH_HLEN + 3] = (uint8_t)id;
	return skb;
}

static uint32_t frame_id(const struct sk_buff *skb)
{
	const uint8_t *p = skb->data + ETH_HLEN;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Send n frames towards the wrapper (rx) or out of it (tx), let every held frame go, and collect
 * what came out, in order: ids[], when keep the skbs themselves (else freed), and when at the
 * virtual time each came out (the clock moves in 1 ms steps while frames are held). */
static uint32_t run(int tx, uint32_t n, uint32_t *ids, struct sk_buff **keep, uint64_t *at)
{
	struct netdev *from = tx ? fdev : peer, *to = tx ? peer : fdev;
	struct sk_buff *got[NETDEV_MAX_BATCH];
	uint32_t out = 0, k;

	for (uint32_t i = 0; i < n; i++) {
		netdev_xmit(from, id_frame(i));
		if (i % 32 == 31)
			netdev_flush(from);
	}
	netdev_flush(from);
	for (int round = 0; round < 1000; round++) {
		netdev_poll(to, 1024);
		while ((k = netdev_rx_burst(to, got, NETDEV_MAX_BATCH)) > 0)
			for (uint32_t i = 0; i < k; i++) {
				ids[out] = frame_id(got[i]);
				if (at)
					at[out] = us_clock_now(&t_clock);
				if (keep)
					keep[out] = got[i];
				else
					skb_free(got[i]);
				out++;
			}
		if (netdev_next_deadline(fdev) == US_TIME_NEVER && netdev_next_deadline(to) == US_TIME_NEVER)
			break;
		us_clock_advance(&t_clock, US_NSEC_PER_MSEC);
		netdev_poll(fdev, 0); /* a poll with no budget still releases held tx frames */
	}
	return out;
}

static uint32_t ids[40000];

/* With nothing configured, frames pass in order, untouched, both ways. */
START_TEST(test_fault_transparent)
{
	struct netdev_fault_config fc = { .seed = 1 };
	struct netdev_fault_stats rx, tx;

	fault_open(&fc);
	ck_assert_uint_eq(run(0, 500, ids, NULL, NULL), 500);
	for (uint32_t i = 0; i < 500; i++)
		ck_assert_uint_eq(ids[i], i);
	ck_assert_uint_eq(run(1, 500, ids, NULL, NULL), 500);
	for (uint32_t i = 0; i < 500; i++)
		ck_assert_uint_eq(ids[i], i);
	ck_assert_int_eq(netdev_fault_get_stats(fdev, &rx, &tx), 0);
	ck_assert_uint_eq(rx.passed, 500);
	ck_assert_uint_eq(tx.passed, 500);
	ck_assert_uint_eq(rx.dropped + rx.corrupted + rx.duplicated + rx.reordered + rx.delayed, 0);
	fault_close();
}
END_TEST

/* drop = 1: nothing arrives, everything is counted. */
START_TEST(test_fault_drop_all)
{
	struct netdev_fault_config fc = { .seed = 2, .drop = 1.0 };
	struct netdev_fault_stats rx, tx;

	fault_open(&fc);
	ck_assert_uint_eq(run(0, 100, ids, NULL, NULL), 0);
	ck_assert_uint_eq(run(1, 100, ids, NULL, NULL), 0);
	netdev_fault_get_stats(fdev, &rx, &tx);
	ck_assert_uint_eq(rx.dropped, 100);
	ck_assert_uint_eq(tx.dropped, 100);
	ck_assert_uint_eq(rx.passed + tx.passed, 0);
	fault_close();
}
END_TEST

/* drop = 0.3 over 10,000 frames: the count is within 5 standard deviations of 3,000 (sd ~ 46), and
 * the frames that arrive keep their order. */
START_TEST(test_fault_drop_rate)
{
	struct netdev_fault_config fc = { .seed = 3, .drop = 0.3 };
	struct netdev_fault_stats rx;
	uint32_t n;

	fault_open(&fc);
	n = run(0, 10000, ids, NULL, NULL);
	netdev_fault_get_stats(fdev, &rx, NULL);
	ck_assert_uint_eq(n + rx.dropped, 10000);
	ck_assert_uint_ge(rx.dropped, 2770);
	ck_assert_uint_le(rx.dropped, 3230);
	for (uint32_t i = 1; i < n; i++)
		ck_assert_uint_lt(ids[i - 1], ids[i]);
	fault_close();
}
END_TEST

/* corrupt = 1: every frame arrives with exactly one bit flipped, never in the Ethernet header. */
START_TEST(test_fault_corrupt)
{
	struct netdev_fault_config fc = { .seed = 4, .corrupt = 1.0 };
	static struct sk_buff *keep[300];
	uint32_t n;

	fault_open(&fc);
	n = run(1, 300, ids, keep, NULL);
	ck_assert_uint_eq(n, 300);
	for (uint32_t i = 0; i < n; i++) {
		struct sk_buff *want = id_frame(i);
		int bits = 0;
		ck_assert_uint_eq(keep[i]->len, FRAME_LEN);
		ck_assert_mem_eq(keep[i]->data, want->data, ETH_HLEN);
		for (uint32_t k = 0; k < FRAME_LEN; k++)
			bits += __builtin_popcount((unsigned)(keep[i]->data[k] ^ want->data[k]));
		ck_assert_int_eq(bits, 1);
		skb_free(want);
		skb_free(keep[i]);
	}
	fault_close();
}
END_TEST

/* duplicate = 1: every frame arrives twice in a row, byte-identical. */
START_TEST(test_fault_duplicate)
{
	struct netdev_fault_config fc = { .seed = 5, .duplicate = 1.0 };
	static struct sk_buff *keep[400];
	struct netdev_fault_stats rx;

	fault_open(&fc);
	ck_assert_uint_eq(run(0, 200, ids, keep, NULL), 400);
	for (uint32_t i = 0; i < 200; i++) {
		ck_assert_uint_eq(ids[2 * i], i);
		ck_assert_uint_eq(ids[2 * i + 1], i);
		ck_assert_mem_eq(keep[2 * i]->data, keep[2 * i + 1]->data, FRAME_LEN);
		ck_assert_ptr_ne(keep[2 * i]->head, keep[2 * i + 1]->head);
		skb_free(keep[2 * i]);
		skb_free(keep[2 * i + 1]);
	}
	netdev_fault_get_stats(fdev, &rx, NULL);
	ck_assert_uint_eq(rx.duplicated, 200);
	ck_assert_uint_eq(rx.passed, 400);
	fault_close();
}
END_TEST

/* reorder = 0.2: every frame arrives exactly once, and each reordered frame arrives after a frame
 * sent later than it. */
START_TEST(test_fault_reorder)
{
	struct netdev_fault_config fc = { .seed = 6, .reorder = 0.2 };
	static uint8_t seen[2000];
	struct netdev_fault_stats rx;
	uint32_t n, inversions = 0;

	fault_open(&fc);
	n = run(0, 2000, ids, NULL, NULL);
	ck_assert_uint_eq(n, 2000);
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_uint_lt(ids[i], 2000);
		ck_assert_uint_eq(seen[ids[i]]++, 0);
		if (i && ids[i] < ids[i - 1])
			inversions++;
	}
	netdev_fault_get_stats(fdev, &rx, NULL);
	ck_assert_uint_ge(rx.reordered, 300);
	ck_assert_uint_le(rx.reordered, 500);
	ck_assert_uint_gt(inversions, 0);
	ck_assert_uint_le(inversions, rx.reordered);
	fault_close();
}
END_TEST

/* A reordered frame with no successor goes after reorder_max_ns on the clock. */
START_TEST(test_fault_reorder_timeout)
{
	struct netdev_fault_config fc = { .seed = 7, .reorder = 1.0, .reorder_max_ns = 3 * US_NSEC_PER_MSEC };
	uint64_t t0 = us_clock_now(&t_clock);
	struct sk_buff *got;

	fault_open(&fc);
	netdev_xmit(peer, id_frame(42));
	netdev_flush(peer);
	ck_assert_int_eq(netdev_poll(fdev, 8), 0);
	ck_assert_uint_eq(netdev_next_deadline(fdev), t0 + 3 * US_NSEC_PER_MSEC);
	us_clock_set(&t_clock, t0 + 3 * US_NSEC_PER_MSEC - 1);
	ck_assert_int_eq(netdev_poll(fdev, 8), 0);
	us_clock_set(&t_clock, t0 + 3 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(netdev_poll(fdev, 8), 1);
	ck_assert_uint_eq(netdev_rx_burst(fdev, &got, 1), 1);
	ck_assert_uint_eq(frame_id(got), 42);
	skb_free(got);
	ck_assert_uint_eq(netdev_next_deadline(fdev), US_TIME_NEVER);
	fault_close();
}
END_TEST

/* delay = 1: frames wait exactly delay_ns on the stack's clock, then go in their order. */
START_TEST(test_fault_delay)
{
	struct netdev_fault_config fc = { .seed = 8, .delay = 1.0, .delay_ns = 5 * US_NSEC_PER_MSEC };
	uint64_t t0 = us_clock_now(&t_clock);
	struct netdev_fault_stats tx;

	fault_open(&fc);
	for (uint32_t i = 0; i < 10; i++)
		netdev_xmit(fdev, id_frame(i));
	netdev_flush(fdev);
	ck_assert_int_eq(netdev_poll(peer, 64), 0);
	ck_assert_uint_eq(netdev_next_deadline(fdev), t0 + 5 * US_NSEC_PER_MSEC);
	us_clock_set(&t_clock, t0 + 5 * US_NSEC_PER_MSEC - 1);
	netdev_poll(fdev, 0);
	ck_assert_int_eq(netdev_poll(peer, 64), 0);
	us_clock_set(&t_clock, t0 + 5 * US_NSEC_PER_MSEC);
	netdev_poll(fdev, 0);
	ck_assert_int_eq(netdev_poll(peer, 64), 10);
	for (uint32_t i = 0; i < 10; i++) {
		struct sk_buff *got;
		ck_assert_uint_eq(netdev_rx_burst(peer, &got, 1), 1);
		ck_assert_uint_eq(frame_id(got), i);
		skb_free(got);
	}
	netdev_fault_get_stats(fdev, NULL, &tx);
	ck_assert_uint_eq(tx.delayed, 10);
	fault_close();
}
END_TEST

/* The hold queue is bounded: past max_held, frames pass unharmed and held_full counts them. Closing
 * the wrapper frees what it still holds. */
START_TEST(test_fault_hold_bounded)
{
	struct netdev_fault_config fc = { .seed = 9, .delay = 1.0, .max_held = 4 };
	struct netdev_fault_stats rx;

	fault_open(&fc);
	for (uint32_t i = 0; i < 10; i++)
		netdev_xmit(peer, id_frame(i));
	netdev_flush(peer);
	ck_assert_int_eq(netdev_poll(fdev, 64), 6);
	netdev_fault_get_stats(fdev, &rx, NULL);
	ck_assert_uint_eq(rx.delayed, 4);
	ck_assert_uint_eq(rx.held_full, 6);
	fault_close(); /* four frames still held */
}
END_TEST

/* Only the directions asked for are harmed. */
START_TEST(test_fault_one_direction)
{
	struct netdev_fault_config fc = { .seed = 10, .drop = 1.0, .tx = true };
	struct netdev_fault_stats rx, tx;

	fault_open(&fc);
	ck_assert_uint_eq(run(0, 50, ids, NULL, NULL), 50);
	ck_assert_uint_eq(run(1, 50, ids, NULL, NULL), 0);
	netdev_fault_get_stats(fdev, &rx, &tx);
	ck_assert_uint_eq(rx.dropped, 0);
	ck_assert_uint_eq(tx.dropped, 50);
	fault_close();
}
END_TEST

/* What came out of one run of a mixed configuration: each frame's bytes and when it came out. */
struct mixed_out {
	uint32_t n;
	uint32_t len[12000];
	uint64_t at[12000];
	uint8_t bytes[12000][FRAME_LEN];
};

/* Record every fault decision of a mixed configuration (drop, corrupt, duplicate, reorder, delay
 * at 5 % each) over 5,000 frames: the frames that came out, byte for byte (corruption included),
 * in their order, and their delivery times (delay and reorder). */
static void mixed_run(uint64_t seed, struct mixed_out *o)
{
	struct netdev_fault_config fc = { .seed = seed, .drop = 0.05, .corrupt = 0.05,
					  .duplicate = 0.05, .reorder = 0.05, .delay = 0.05 };
	static uint32_t mids[12000];
	static struct sk_buff *keep[12000];
	struct netdev_fault_stats rx;

	memset(o, 0, sizeof(*o));
	us_clock_init_virtual(&t_clock, 1000 * US_NSEC_PER_SEC);
	fault_open(&fc);
	o->n = run(0, 5000, mids, keep, o->at);
	ck_assert_uint_le(o->n, 12000);
	for (uint32_t i = 0; i < o->n; i++) {
		o->len[i] = keep[i]->len;
		ck_assert_uint_le(keep[i]->len, FRAME_LEN);
		memcpy(o->bytes[i], keep[i]->data, keep[i]->len);
		skb_free(keep[i]);
	}
	/* every kind of fault happened, so the comparison covers each */
	netdev_fault_get_stats(fdev, &rx, NULL);
	ck_assert_uint_gt(rx.dropped, 0);
	ck_assert_uint_gt(rx.corrupted, 0);
	ck_assert_uint_gt(rx.duplicated, 0);
	ck_assert_uint_gt(rx.reordered, 0);
	ck_assert_uint_gt(rx.delayed, 0);
	fault_close();
}

/* The same seed gives exactly the same faults: the same frames, byte for byte, in the same order at
 * the same virtual times. Another seed gives other ones. */
START_TEST(test_fault_deterministic)
{
	static struct mixed_out a, b, c;
	bool differs;

	mixed_run(1234, &a);
	mixed_run(1234, &b);
	mixed_run(4321, &c);
	ck_assert_uint_eq(a.n, b.n);
	ck_assert_mem_eq(a.len, b.len, a.n * sizeof(a.len[0]));
	ck_assert_mem_eq(a.at, b.at, a.n * sizeof(a.at[0]));
	ck_assert_mem_eq(a.bytes, b.bytes, a.n * sizeof(a.bytes[0]));
	differs = a.n != c.n || memcmp(a.at, c.at, a.n * sizeof(a.at[0])) != 0 ||
		  memcmp(a.bytes, c.bytes, a.n * sizeof(a.bytes[0])) != 0;
	ck_assert(differs);
	/* and each part differs on its own: the bytes (corruption) and the times (delay) */
	ck_assert(memcmp(a.bytes, c.bytes, (a.n < c.n ? a.n : c.n) * sizeof(a.bytes[0])) != 0);
	ck_assert(memcmp(a.at, c.at, (a.n < c.n ? a.n : c.n) * sizeof(a.at[0])) != 0);
}
END_TEST

/* Probabilities outside [0, 1] and missing arguments are refused with EINVAL. */
START_TEST(test_fault_bad_config)
{
	struct netdev_fault_config fc = { .drop = 1.5 };
	struct netdev_pair_config cfg = { 0 };
	struct netdev *a, *b, *f;

	cfg.a = (struct netdev_config){ .pool = t_pool, .clock = &t_clock };
	cfg.b = cfg.a;
	ck_assert_int_eq(netdev_pair_create(&cfg, &a, &b), 0);
	errno = 0;
	ck_assert_ptr_null(netdev_fault_wrap(a, &fc));
	ck_assert_int_eq(errno, EINVAL);
	fc.drop = -0.1;
	ck_assert_ptr_null(netdev_fault_wrap(a, &fc));
	fc.drop = 0;
	fc.delay = __builtin_nan("");
	ck_assert_ptr_null(netdev_fault_wrap(a, &fc));
	ck_assert_ptr_null(netdev_fault_wrap(a, NULL));
	ck_assert_ptr_null(netdev_fault_wrap(NULL, &fc));
	ck_assert_int_eq(netdev_fault_get_stats(a, NULL, NULL), -EINVAL);
	fc.delay = 0;
	/* wrappers stack: a fault wrapper over a fault wrapper */
	f = netdev_fault_wrap(a, &fc);
	ck_assert_ptr_nonnull(f);
	f = netdev_fault_wrap(f, &fc);
	ck_assert_ptr_nonnull(f);
	netdev_xmit(f, test_frame(t_pool, 60, 0));
	netdev_flush(f);
	ck_assert_int_eq(netdev_poll(b, 4), 1);
	netdev_close(f);
	netdev_close(b);
}
END_TEST

/* Step the clock from one of the wrapper's deadlines to the next (at most until `until`), and
 * note when each frame comes out of it, towards the peer (tx) or the stack (rx): at[id] = time.
 * Returns how many came out. */
static uint32_t link_arrivals(int tx, uint64_t *at, uint32_t max, uint64_t until)
{
	struct netdev *to = tx ? peer : fdev;
	struct sk_buff *got[NETDEV_MAX_BATCH];
	uint32_t out = 0, k;

	for (;;) {
		uint64_t next = netdev_next_deadline(fdev);

		netdev_poll(fdev, tx ? 0 : 1024);
		if (tx)
			netdev_poll(to, 1024);
		while ((k = netdev_rx_burst(to, got, NETDEV_MAX_BATCH)) > 0)
			for (uint32_t i = 0; i < k; i++) {
				uint32_t id = frame_id(got[i]);
				ck_assert_uint_lt(id, max);
				at[id] = us_clock_now(&t_clock);
				skb_free(got[i]);
				out++;
			}
		next = netdev_next_deadline(fdev);
		if (next == US_TIME_NEVER || next > until)
			break;
		ck_assert_uint_gt(next, us_clock_now(&t_clock)); /* a deadline is never in the past */
		us_clock_set(&t_clock, next);
	}
	return out;
}

/* Frames of id first..first+n-1, len bytes each, into the wrapper (rx: from the peer) at this
 * instant. */
static void link_send(int tx, uint32_t first, uint32_t n, uint32_t len)
{
	struct netdev *from = tx ? fdev : peer;

	for (uint32_t i = first; i < first + n; i++) {
		struct sk_buff *skb = test_frame(t_pool, len, (uint8_t)i);

		skb->data[ETH_HLEN] = 0;
		skb->data[ETH_HLEN + 1] = 0;
		skb->data[ETH_HLEN + 2] = (uint8_t)(i >> 8);
		skb->data[ETH_HLEN + 3] = (uint8_t)i;
		netdev_xmit(from, skb);
	}
	netdev_flush(from);
	if (!tx)
		netdev_poll(fdev, 1024); /* the wrapper takes them in now */
}

/* latency_ns alone: every frame, both ways, arrives exactly latency_ns after it was sent, in order,
 * and not a nanosecond before. */
START_TEST(test_fault_latency)
{
	struct netdev_fault_config fc = { .seed = 13, .latency_ns = 25 * US_NSEC_PER_MSEC };
	uint64_t at[20];
	struct netdev_fault_stats rx, tx;

	fault_open(&fc);
	for (int tx_dir = 0; tx_dir < 2; tx_dir++) {
		uint64_t start = us_clock_now(&t_clock);

		link_send(tx_dir, 0, 10, 100);
		ck_assert_uint_eq(netdev_next_deadline(fdev), start + 25 * US_NSEC_PER_MSEC);
		ck_assert_uint_eq(link_arrivals(tx_dir, at, 20, start + 25 * US_NSEC_PER_MSEC - 1), 0);
		ck_assert_uint_eq(link_arrivals(tx_dir, at, 20, US_TIME_NEVER), 10);
		for (int i = 0; i < 10; i++)
			ck_assert_uint_eq(at[i], start + 25 * US_NSEC_PER_MSEC);
		us_clock_set(&t_clock, start + 100 * US_NSEC_PER_MSEC);
	}
	/* frames sent at different times keep their own delay */
	{
		uint64_t start = us_clock_now(&t_clock);
		struct sk_buff *got;

		netdev_xmit(fdev, id_frame(1));
		netdev_flush(fdev);
		us_clock_set(&t_clock, start + 3 * US_NSEC_PER_MSEC);
		netdev_xmit(fdev, id_frame(2));
		netdev_flush(fdev);
		ck_assert_uint_eq(netdev_next_deadline(fdev), start + 25 * US_NSEC_PER_MSEC);
		us_clock_set(&t_clock, start + 25 * US_NSEC_PER_MSEC);
		netdev_poll(fdev, 0);
		ck_assert_int_eq(netdev_poll(peer, 8), 1);
		ck_assert_uint_eq(netdev_next_deadline(fdev), start + 28 * US_NSEC_PER_MSEC);
		us_clock_set(&t_clock, start + 28 * US_NSEC_PER_MSEC);
		netdev_poll(fdev, 0);
		ck_assert_int_eq(netdev_poll(peer, 8), 1);
		for (int i = 1; i <= 2; i++) {
			ck_assert_uint_eq(netdev_rx_burst(peer, &got, 1), 1);
			ck_assert_uint_eq(frame_id(got), (uint32_t)i);
			skb_free(got);
		}
	}
	ck_assert_int_eq(netdev_fault_get_stats(fdev, &rx, &tx), 0);
	ck_assert_uint_eq(rx.passed, 10);
	ck_assert_uint_eq(tx.passed, 12);
	ck_assert_uint_eq(rx.queue_dropped + tx.queue_dropped, 0);
	ck_assert_uint_eq(netdev_next_deadline(fdev), US_TIME_NEVER);
	fault_close();
}
END_TEST

/* rate_bps: a burst of N frames of L bytes leaves one every L * 8 / rate, the first once it has been
 * sent whole; with a latency, each arrives that much later. 1,250-byte frames at 10 Mbit/s: 1 ms
 * each. Both directions, each with its own link. */
START_TEST(test_fault_rate)
{
	struct netdev_fault_config fc = { .seed = 14, .rate_bps = 10000000, .latency_ns = 5 * US_NSEC_PER_MSEC };
	uint64_t at[50];

	fault_open(&fc);
	for (int tx_dir = 0; tx_dir < 2; tx_dir++) {
		uint64_t start = us_clock_now(&t_clock);

		link_send(tx_dir, 0, 50, 1250);
		ck_assert_uint_eq(netdev_next_deadline(fdev), start + US_NSEC_PER_MSEC);
		ck_assert_uint_eq(link_arrivals(tx_dir, at, 50, US_TIME_NEVER), 50);
		for (uint64_t i = 0; i < 50; i++)
			ck_assert_uint_eq(at[i], start + 5 * US_NSEC_PER_MSEC + (i + 1) * US_NSEC_PER_MSEC);
		us_clock_set(&t_clock, us_clock_now(&t_clock) + US_NSEC_PER_SEC);
	}
	/* a frame that finds the link idle again starts at once: the link does not bank idle time */
	{
		uint64_t start = us_clock_now(&t_clock);

		link_send(1, 0, 1, 1250);
		ck_assert_uint_eq(link_arrivals(1, at, 50, US_TIME_NEVER), 1);
		ck_assert_uint_eq(at[0], start + 6 * US_NSEC_PER_MSEC);
		us_clock_set(&t_clock, start + 300 * US_NSEC_PER_MSEC);
		link_send(1, 1, 2, 1250);
		ck_assert_uint_eq(link_arrivals(1, at, 50, US_TIME_NEVER), 2);
		ck_assert_uint_eq(at[1], start + 306 * US_NSEC_PER_MSEC);
		ck_assert_uint_eq(at[2], start + 307 * US_NSEC_PER_MSEC);
	}
	fault_close();
}
END_TEST

/* Times that do not divide evenly add up exactly: 100-byte frames at 3 Mbit/s take 266,666.67 ns
 * each, and frame k (from 1) leaves at floor(k * 800e9 / 3e6) ns, with no drift over 300 frames. */
START_TEST(test_fault_rate_exact)
{
	struct netdev_fault_config fc = { .seed = 15, .rate_bps = 3000000 };
	static uint64_t at[300];
	uint64_t start = us_clock_now(&t_clock);

	fault_open(&fc);
	link_send(1, 0, 300, 100);
	ck_assert_uint_eq(link_arrivals(1, at, 300, US_TIME_NEVER), 300);
	for (uint64_t k = 1; k <= 300; k++)
		ck_assert_uint_eq(at[k - 1] - start, k * 800 * US_NSEC_PER_SEC / 3000000);
	fault_close();
}
END_TEST

/* The queue is bounded: of a burst of 25 into queue_frames = 10, ten wait their turn and fifteen
 * are dropped and counted; once the queue has drained a little, frames are taken again. */
START_TEST(test_fault_rate_queue)
{
	struct netdev_fault_config fc = { .seed = 16, .rate_bps = 10000000, .queue_frames = 10 };
	struct netdev_fault_stats tx;
	uint64_t at[64], start = us_clock_now(&t_clock);

	fault_open(&fc);
	link_send(1, 0, 25, 1250);
	netdev_fault_get_stats(fdev, NULL, &tx);
	ck_assert_uint_eq(tx.queue_dropped, 15);
	/* 2.5 ms later two have left: room for two more, not three */
	ck_assert_uint_eq(link_arrivals(1, at, 64, start + 2500 * US_NSEC_PER_USEC), 2);
	us_clock_set(&t_clock, start + 2500 * US_NSEC_PER_USEC);
	link_send(1, 40, 3, 1250);
	netdev_fault_get_stats(fdev, NULL, &tx);
	ck_assert_uint_eq(tx.queue_dropped, 16);
	ck_assert_uint_eq(link_arrivals(1, at, 64, US_TIME_NEVER), 10);
	for (uint64_t i = 0; i < 10; i++)
		ck_assert_uint_eq(at[i], start + (i + 1) * US_NSEC_PER_MSEC);
	ck_assert_uint_eq(at[40], start + 11 * US_NSEC_PER_MSEC);
	ck_assert_uint_eq(at[41], start + 12 * US_NSEC_PER_MSEC);
	netdev_fault_get_stats(fdev, NULL, &tx);
	ck_assert_uint_eq(tx.passed, 12);
	ck_assert_uint_eq(tx.dropped, 0);
	/* closing with frames on the link frees them */
	link_send(1, 0, 5, 1250);
	fault_close();
}
END_TEST

/* The faults come before the link: a delayed frame waits delay_ns, then takes the link's latency;
 * a dropped one never reaches the queue. Only the harmed direction gets the link. */
START_TEST(test_fault_link_after_faults)
{
	struct netdev_fault_config fc = { .seed = 17, .delay = 1.0, .delay_ns = 4 * US_NSEC_PER_MSEC,
					  .latency_ns = 10 * US_NSEC_PER_MSEC, .rate_bps = 10000000, .tx = true };
	uint64_t at[8], start = us_clock_now(&t_clock);
	struct netdev_fault_stats rx, tx;

	fault_open(&fc);
	link_send(1, 0, 2, 1250);
	ck_assert_uint_eq(link_arrivals(1, at, 8, US_TIME_NEVER), 2);
	ck_assert_uint_eq(at[0], start + 4 * US_NSEC_PER_MSEC + 1 * US_NSEC_PER_MSEC + 10 * US_NSEC_PER_MSEC);
	ck_assert_uint_eq(at[1], start + 4 * US_NSEC_PER_MSEC + 2 * US_NSEC_PER_MSEC + 10 * US_NSEC_PER_MSEC);
	/* rx is not harmed: no delay, no latency */
	start = us_clock_now(&t_clock);
	link_send(0, 0, 3, 1250);
	ck_assert_uint_eq(link_arrivals(0, at, 8, US_TIME_NEVER), 3);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(at[i], start);
	netdev_fault_get_stats(fdev, &rx, &tx);
	ck_assert_uint_eq(tx.delayed, 2);
	ck_assert_uint_eq(rx.delayed, 0);
	fault_close();
}
END_TEST

/* A rate above NETDEV_FAULT_RATE_MAX is refused. */
START_TEST(test_fault_rate_bad_config)
{
	struct netdev_fault_config fc = { .rate_bps = NETDEV_FAULT_RATE_MAX + 1 };
	struct netdev_pair_config cfg = { 0 };
	struct netdev *a, *b;

	cfg.a = (struct netdev_config){ .pool = t_pool, .clock = &t_clock };
	cfg.b = cfg.a;
	ck_assert_int_eq(netdev_pair_create(&cfg, &a, &b), 0);
	errno = 0;
	ck_assert_ptr_null(netdev_fault_wrap(a, &fc));
	ck_assert_int_eq(errno, EINVAL);
	netdev_close(a);
	netdev_close(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fault");
	TCase *tc = test_tcase("fault");

	tcase_add_test(tc, test_fault_transparent);
	tcase_add_test(tc, test_fault_drop_all);
	tcase_add_test(tc, test_fault_drop_rate);
	tcase_add_test(tc, test_fault_corrupt);
	tcase_add_test(tc, test_fault_duplicate);
	tcase_add_test(tc, test_fault_reorder);
	tcase_add_test(tc, test_fault_reorder_timeout);
	tcase_add_test(tc, test_fault_delay);
	tcase_add_test(tc, test_fault_hold_bounded);
	tcase_add_test(tc, test_fault_one_direction);
	tcase_add_test(tc, test_fault_deterministic);
	tcase_add_test(tc, test_fault_bad_config);
	tcase_add_test(tc, test_fault_latency);
	tcase_add_test(tc, test_fault_rate);
	tcase_add_test(tc, test_fault_rate_exact);
	tcase_add_test(tc, test_fault_rate_queue);
	tcase_add_test(tc, test_fault_link_after_faults);
	tcase_add_test(tc, test_fault_rate_bad_config);
	suite_add_tcase(s, tc);
	return test_run(s);
}
