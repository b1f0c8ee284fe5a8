/*
 * skb_helper.h - what the skb suites share: skbs with known bytes, and assertions on the pool's
 * counters, an skb's invariants and a queue's contents.
 */
#ifndef USTACK_TEST_SKB_HELPER_H
#define USTACK_TEST_SKB_HELPER_H

#include "test_util.h"

/* stack/skb.c's small buffer class: a data buffer whose usable bytes plus shared info fit in this many
 * bytes comes from the pool's free list and is accounted in data_bytes at this size. */
#define T_SMALL_BUF 2048u

struct skb_pool_stats t_stats(const struct skb_pool *pool);
/* The data_bytes a pool accounts for skb's buffer: usable bytes and shared info, rounded to the small
 * class. */
uint64_t t_buf_bytes(const struct sk_buff *skb);
/* An skb from `pool` holding len bytes seed, seed + 1, ... behind SKB_MAX_HEADER of headroom. */
struct sk_buff *t_skb(struct skb_pool *pool, uint32_t len, uint8_t seed);
/* True when p holds len bytes seed, seed + 1, ... */
int t_bytes_are(const uint8_t *p, uint32_t len, uint8_t seed);
/* Assert that q holds exactly want[0..n), in order, linked both ways, with its len and bytes right. */
void t_assert_queue(int line, const struct skb_queue *q, struct sk_buff *const *want, uint32_t n);

/* The invariants of struct sk_buff: head <= data <= tail <= end, len == tail - data. */
#define T_ASSERT_SANE(skb)                                                            \
	do {                                                                          \
		ck_assert_ptr_eq((skb)->tail, (skb)->data + (skb)->len);              \
		ck_assert((skb)->head <= (skb)->data);                                \
		ck_assert((skb)->tail <= (skb)->end);                                 \
		ck_assert_uint_eq(skb_headroom(skb) + (skb)->len + skb_tailroom(skb), \
				  skb_size(skb));                                     \
	} while (0)

/* Every pool counter at once; a macro so that a failure names the caller's line. */
#define T_ASSERT_STATS(pool, alloc_, freed_, in_use_, peak_, fail_, data_) \
	do {                                                               \
		struct skb_pool_stats st_ = t_stats(pool);                 \
		ck_assert_uint_eq(st_.allocated, (alloc_));                \
		ck_assert_uint_eq(st_.freed, (freed_));                    \
		ck_assert_uint_eq(st_.in_use, (in_use_));                  \
		ck_assert_uint_eq(st_.peak, (peak_));                      \
		ck_assert_uint_eq(st_.alloc_failures, (fail_));            \
		ck_assert_uint_eq(st_.data_bytes, (data_));                \
		ck_assert_uint_eq(st_.misuse, 0);                          \
		ck_assert_uint_eq(skb_pool_in_use(pool), (in_use_));       \
	} while (0)


#define T_ASSERT_QUEUE(q, ...)                                                       \
	t_assert_queue(__LINE__, (q), (struct sk_buff *const[]){ __VA_ARGS__ },      \
		       (uint32_t)(sizeof((struct sk_buff *const[]){ __VA_ARGS__ }) / \
				  sizeof(struct sk_buff *)))
#define T_ASSERT_QUEUE_EMPTY(q) t_assert_queue(__LINE__, (q), NULL, 0)

#endif
