/*
 * skb_helper.c - see skb_helper.h.
 */
#include "skb_helper.h"

struct skb_pool_stats t_stats(const struct skb_pool *pool)
{
	struct skb_pool_stats st;

	skb_pool_get_stats(pool, &st);
	return st;
}

/* The data_bytes a pool accounts for skb's buffer: usable bytes and shared info, rounded to the small
 * class. */
uint64_t t_buf_bytes(const struct sk_buff *skb)
{
	uint64_t b = (uint64_t)skb_size(skb) + sizeof(struct skb_shared_info);

	return b < T_SMALL_BUF ? T_SMALL_BUF : b;
}

/* An skb from `pool` holding len bytes seed, seed + 1, ... behind SKB_MAX_HEADER of headroom. */
struct sk_buff *t_skb(struct skb_pool *pool, uint32_t len, uint8_t seed)
{
	struct sk_buff *skb = skb_alloc(pool, SKB_MAX_HEADER + len);
	uint8_t *p;

	ck_assert_ptr_nonnull(skb);
	ck_assert_int_eq(skb_reserve(skb, SKB_MAX_HEADER), 0);
	p = skb_put(skb, len);
	ck_assert_ptr_nonnull(p);
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i);
	return skb;
}

/* True when p holds len bytes seed, seed + 1, ... */
int t_bytes_are(const uint8_t *p, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(seed + i))
			return 0;
	return 1;
}

/* Assert that q holds exactly want[0..n), in order, linked both ways, with its len and bytes right. */
void t_assert_queue(int line, const struct skb_queue *q, struct sk_buff *const *want, uint32_t n)
{
	const struct sk_buff *prev = NULL, *skb = q->head;
	uint64_t bytes = 0;

	ck_assert_msg(q->len == n, "line %d: queue len %u, want %u", line, q->len, n);
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_msg(skb == want[i], "line %d: entry %u is %p, want %p", line, i,
			      (const void *)skb, (const void *)want[i]);
		ck_assert_msg(skb->prev == prev, "line %d: entry %u has a wrong prev link", line, i);
		bytes += skb->len;
		prev = skb;
		skb = skb->next;
	}
	ck_assert_msg(skb == NULL, "line %d: more than %u entries", line, n);
	ck_assert_msg(q->tail == prev, "line %d: tail is not the last entry", line);
	ck_assert_msg(q->bytes == bytes, "line %d: queue bytes %llu, want %llu", line,
		      (unsigned long long)q->bytes, (unsigned long long)bytes);
	ck_assert_msg(skb_queue_empty(q) == (n == 0), "line %d: skb_queue_empty wrong", line);
	ck_assert_msg(skb_peek(q) == (n ? want[0] : NULL), "line %d: skb_peek wrong", line);
	ck_assert_msg(skb_peek_tail(q) == (n ? want[n - 1] : NULL), "line %d: skb_peek_tail wrong",
		      line);
}
