/*
 * test_skb.c - the skb module: pool accounting and limits, allocation sizes, moving the data window,
 * header offsets, clones, copies and unshare, and exhaustion in the middle of an operation (queues:
 * test_skb_queue.c; misuse: test_skb_misuse.c).
 *
 * Every test runs under test_tcase(), whose teardown fails if an skb of t_pool is left in use or its
 * data bytes are not all returned, so each test is also a leak test. Tests that need limits build a
 * pool of their own and destroy it themselves.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "skb_helper.h"

/* A device for skb->dev; the skb code never looks inside it. */
static struct netdev t_dev;

/* Deliberately abandoned by test_pool_destroy_in_use. Kept reachable here so that LeakSanitizer sees a
 * live pointer rather than a leak. */
static struct sk_buff *volatile t_abandoned[2];

/* ---- pool ---- */

/* A NULL config gives a working, empty pool whose counters all start at zero. */
START_TEST(test_pool_create_default)
{
	struct skb_pool *pool = skb_pool_create(NULL);
	struct skb_pool_config zero = { 0 };
	struct sk_buff *skb;

	ck_assert_ptr_nonnull(pool);
	T_ASSERT_STATS(pool, 0, 0, 0, 0, 0, 0);
	skb = skb_alloc(pool, 100);
	ck_assert_ptr_nonnull(skb);
	ck_assert_ptr_eq(skb->pool, pool);
	skb_free(skb);
	T_ASSERT_STATS(pool, 1, 1, 0, 1, 0, 0);
	ck_assert_uint_eq(skb_pool_destroy(pool), 0);

	/* An all-zero config means "defaults" field by field, not "no room at all". */
	pool = skb_pool_create(&zero);
	ck_assert_ptr_nonnull(pool);
	skb = skb_alloc(pool, 100);
	ck_assert_ptr_nonnull(skb);
	skb_free(skb);
	ck_assert_uint_eq(skb_pool_destroy(pool), 0);
}
END_TEST

/* allocated/freed/in_use/peak/data_bytes follow allocs, clones and frees exactly. */
START_TEST(test_pool_counters)
{
	struct sk_buff *a, *b, *c, *d;
	uint64_t big;

	T_ASSERT_STATS(t_pool, 0, 0, 0, 0, 0, 0);
	a = skb_alloc(t_pool, 100);
	ck_assert_ptr_nonnull(a);
	T_ASSERT_STATS(t_pool, 1, 0, 1, 1, 0, T_SMALL_BUF);
	b = skb_alloc(t_pool, 200);
	ck_assert_ptr_nonnull(b);
	T_ASSERT_STATS(t_pool, 2, 0, 2, 2, 0, 2 * T_SMALL_BUF);
	skb_free(a);
	T_ASSERT_STATS(t_pool, 2, 1, 1, 2, 0, T_SMALL_BUF);
	c = skb_alloc(t_pool, 65536 + SKB_MAX_HEADER);
	ck_assert_ptr_nonnull(c);
	big = t_buf_bytes(c);
	ck_assert_uint_gt(big, T_SMALL_BUF);
	/* Peak stays at 2: in_use only came back to it. */
	T_ASSERT_STATS(t_pool, 3, 1, 2, 2, 0, T_SMALL_BUF + big);
	/* A clone is a descriptor (counted) over no new data (not counted). */
	d = skb_clone(c);
	ck_assert_ptr_nonnull(d);
	T_ASSERT_STATS(t_pool, 4, 1, 3, 3, 0, T_SMALL_BUF + big);
	skb_free(c);
	T_ASSERT_STATS(t_pool, 4, 2, 2, 3, 0, T_SMALL_BUF + big);
	skb_free(d);
	T_ASSERT_STATS(t_pool, 4, 3, 1, 3, 0, T_SMALL_BUF);
	skb_free(b);
	T_ASSERT_STATS(t_pool, 4, 4, 0, 3, 0, 0);
}
END_TEST

/* max_skbs: the next alloc and clone return NULL and count a failure; a free makes room again. */
START_TEST(test_pool_max_skbs)
{
	struct skb_pool_config cfg = { .max_skbs = 3 };
	struct skb_pool *pool = skb_pool_create(&cfg);
	struct sk_buff *skb[3], *extra;

	ck_assert_ptr_nonnull(pool);
	for (int i = 0; i < 3; i++) {
		skb[i] = skb_alloc(pool, 64);
		ck_assert_ptr_nonnull(skb[i]);
	}
	ck_assert_ptr_null(skb_alloc(pool, 64));
	/* The data buffer taken before the descriptor was refused went back. */
	T_ASSERT_STATS(pool, 3, 0, 3, 3, 1, 3 * T_SMALL_BUF);
	ck_assert_ptr_null(skb_alloc(pool, 0));
	ck_assert_ptr_null(skb_clone(skb[0]));
	T_ASSERT_STATS(pool, 3, 0, 3, 3, 3, 3 * T_SMALL_BUF);
	ck_assert(!skb_cloned(skb[0]));

	skb_free(skb[1]);
	extra = skb_alloc(pool, 64);
	ck_assert_ptr_nonnull(extra);
	T_ASSERT_STATS(pool, 4, 1, 3, 3, 3, 3 * T_SMALL_BUF);
	ck_assert_ptr_null(skb_alloc(pool, 64));

	skb_free(extra);
	skb_free(skb[0]);
	skb_free(skb[2]);
	T_ASSERT_STATS(pool, 4, 4, 0, 3, 4, 0);
	ck_assert_uint_eq(skb_pool_destroy(pool), 0);
}
END_TEST

/* max_data_bytes: an alloc that would pass it returns NULL and counts; a free makes room again. */
START_TEST(test_pool_max_data_bytes)
{
	/* Room for two small buffers and change, not for a third nor for any large one. */
	struct skb_pool_config cfg = { .max_data_bytes = 2 * T_SMALL_BUF + 100 };
	struct skb_pool *pool = skb_pool_create(&cfg);
	struct sk_buff *a, *b, *c;

	ck_assert_ptr_nonnull(pool);
	a = skb_alloc(pool, 10);
	b = skb_alloc(pool, 1000);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	T_ASSERT_STATS(pool, 2, 0, 2, 2, 0, 2 * T_SMALL_BUF);
	ck_assert_ptr_null(skb_alloc(pool, 0));
	T_ASSERT_STATS(pool, 2, 0, 2, 2, 1, 2 * T_SMALL_BUF);

	skb_free(a);
	ck_assert_ptr_null(skb_alloc(pool, 4096));
	T_ASSERT_STATS(pool, 2, 1, 1, 2, 2, T_SMALL_BUF);
	c = skb_alloc(pool, 10);
	ck_assert_ptr_nonnull(c);
	T_ASSERT_STATS(pool, 3, 1, 2, 2, 2, 2 * T_SMALL_BUF);

	skb_free(b);
	skb_free(c);
	T_ASSERT_STATS(pool, 3, 3, 0, 2, 2, 0);
	ck_assert_uint_eq(skb_pool_destroy(pool), 0);
}
END_TEST

/* The default data limit is 256 MiB: exactly that much fits, one more buffer or a 4 GiB one does not. */
START_TEST(test_pool_default_data_limit)
{
	const uint64_t limit = 256ull << 20;
	struct skb_pool *pool = skb_pool_create(NULL);
	struct sk_buff *skb;

	ck_assert_ptr_nonnull(pool);
	ck_assert_ptr_null(skb_alloc(pool, UINT32_MAX));
	T_ASSERT_STATS(pool, 0, 0, 0, 0, 1, 0);
	/* Only the shared info at the end is written, so the pages stay untouched. */
	skb = skb_alloc(pool, (uint32_t)(limit - sizeof(struct skb_shared_info)));
	ck_assert_ptr_nonnull(skb);
	ck_assert_uint_eq(t_buf_bytes(skb), limit);
	T_ASSERT_STATS(pool, 1, 0, 1, 1, 1, limit);
	ck_assert_ptr_null(skb_alloc(pool, 0));
	T_ASSERT_STATS(pool, 1, 0, 1, 1, 2, limit);
	skb_free(skb);
	T_ASSERT_STATS(pool, 1, 1, 0, 1, 2, 0);
	ck_assert_uint_eq(skb_pool_destroy(pool), 0);
}
END_TEST

/* A small cache_max keeps the accounting right when frees overflow the caches (LSan checks the rest). */
START_TEST(test_pool_cache_overflow)
{
	struct skb_pool_config cfg = { .cache_max = 1 };
	struct skb_pool *pool = skb_pool_create(&cfg);
	struct sk_buff *skb[8];

	ck_assert_ptr_nonnull(pool);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 8; i++) {
			skb[i] = skb_alloc(pool, i % 2 ? 5000 : 100);
			ck_assert_ptr_nonnull(skb[i]);
			ck_assert_uint_eq(skb_shinfo(skb[i])->dataref, 1);
		}
		ck_assert_uint_eq(skb_pool_in_use(pool), 8);
		for (int i = 0; i < 8; i++)
			skb_free(skb[i]);
		ck_assert_uint_eq(skb_pool_in_use(pool), 0);
		ck_assert_uint_eq(t_stats(pool).data_bytes, 0);
	}
	T_ASSERT_STATS(pool, 16, 16, 0, 8, 0, 0);
	ck_assert_uint_eq(skb_pool_destroy(pool), 0);
}
END_TEST

/* skb_pool_destroy(NULL) is 0, and so is destroying a pool whose skbs were all freed. */
START_TEST(test_pool_destroy_empty)
{
	struct skb_pool *pool = skb_pool_create(NULL);
	struct sk_buff *a, *b;

	ck_assert_uint_eq(skb_pool_destroy(NULL), 0);
	ck_assert_ptr_nonnull(pool);
	a = skb_alloc(pool, 10);
	b = skb_alloc(pool, 9000);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	skb_free(a);
	skb_free(b);
	ck_assert_uint_eq(skb_pool_destroy(pool), 0);
}
END_TEST

/* skb_pool_destroy returns how many descriptors (a clone counts) were still in use. */
START_TEST(test_pool_destroy_in_use)
{
	struct skb_pool *pool = skb_pool_create(NULL);

	ck_assert_ptr_nonnull(pool);
	t_abandoned[0] = skb_alloc(pool, 10);
	ck_assert_ptr_nonnull(t_abandoned[0]);
	t_abandoned[1] = skb_clone(t_abandoned[0]);
	ck_assert_ptr_nonnull(t_abandoned[1]);
	/* The two descriptors and their buffer are leaked on purpose, as the API says. */
	ck_assert_uint_eq(skb_pool_destroy(pool), 2);
}
END_TEST

/* skb_free(NULL) does nothing and counts nothing. */
START_TEST(test_free_null)
{
	skb_free(NULL);
	T_ASSERT_STATS(t_pool, 0, 0, 0, 0, 0, 0);
}
END_TEST

/* ---- allocation ---- */

/* A zero-size skb has no room at all, yet zero-length moves on it work. */
START_TEST(test_alloc_zero)
{
	struct sk_buff *skb = skb_alloc(t_pool, 0);

	ck_assert_ptr_nonnull(skb);
	ck_assert_uint_eq(skb_headroom(skb), 0);
	ck_assert_uint_eq(skb_tailroom(skb), 0);
	ck_assert_uint_eq(skb_size(skb), 0);
	ck_assert_uint_eq(skb->len, 0);
	ck_assert_ptr_eq(skb->data, skb->head);
	ck_assert_ptr_eq(skb->tail, skb->head);
	ck_assert_uint_eq(skb_shinfo(skb)->dataref, 1);
	ck_assert_ptr_eq(skb_put(skb, 0), skb->head);
	ck_assert_ptr_eq(skb_push(skb, 0), skb->head);
	ck_assert_ptr_eq(skb_pull(skb, 0), skb->head);
	ck_assert_int_eq(skb_reserve(skb, 0), 0);
	ck_assert_int_eq(skb_put_data(skb, "", 0), 0);
	skb_trim(skb, 0);
	ck_assert_uint_eq(skb->len, 0);
	T_ASSERT_SANE(skb);
	skb_free(skb);
	T_ASSERT_STATS(t_pool, 1, 1, 0, 1, 0, 0);
}
END_TEST

/* A new skb is blank: no queue, no device, no headers, zero cb and metadata, even when recycled. */
START_TEST(test_alloc_fields_blank)
{
	static const uint8_t zero_cb[SKB_CB_SIZE];
	struct sk_buff *skb;

	for (int round = 0; round < 2; round++) {
		skb = skb_alloc(t_pool, 100);
		ck_assert_ptr_nonnull(skb);
		ck_assert_ptr_null(skb->next);
		ck_assert_ptr_null(skb->prev);
		ck_assert_ptr_eq(skb->pool, t_pool);
		ck_assert_ptr_null(skb->dev);
		ck_assert_ptr_null(skb_mac_header(skb));
		ck_assert_ptr_null(skb_network_header(skb));
		ck_assert_ptr_null(skb_transport_header(skb));
		ck_assert_uint_eq(skb->protocol, 0);
		ck_assert_uint_eq(skb->ip_summed, SKB_CSUM_NONE);
		ck_assert_uint_eq(skb->csum_start, 0);
		ck_assert_uint_eq(skb->csum_offset, 0);
		ck_assert_uint_eq(skb->tstamp_ns, 0);
		ck_assert_mem_eq(skb->cb, zero_cb, SKB_CB_SIZE);
		ck_assert_uint_eq(skb_shinfo(skb)->dataref, 1);
		ck_assert_uint_eq(skb_shinfo(skb)->gso_size, 0);
		ck_assert_uint_eq(skb_shinfo(skb)->gso_segs, 0);
		ck_assert_uint_eq(skb_shinfo(skb)->gso_type, SKB_GSO_NONE);
		ck_assert(!skb_cloned(skb));

		/* Dirty everything: round two proves recycled descriptors and buffers are reset. */
		memset(skb->cb, 0x5a, SKB_CB_SIZE);
		skb->dev = &t_dev;
		skb->protocol = 0x0800;
		skb->ip_summed = SKB_CSUM_PARTIAL;
		skb->csum_start = 34;
		skb->csum_offset = 16;
		skb->tstamp_ns = 42;
		skb_reset_mac_header(skb);
		skb_reset_network_header(skb);
		skb_reset_transport_header(skb);
		skb_shinfo(skb)->gso_size = 1448;
		skb_shinfo(skb)->gso_segs = 3;
		skb_shinfo(skb)->gso_type = SKB_GSO_TCPV4;
		skb_free(skb);
	}
}
END_TEST

/* Every size gets at least that much tailroom, an aligned shared info, and the expected accounting. */
START_TEST(test_alloc_sizes)
{
	static const uint32_t sizes[] = {
		1, 2, 3, 7, 8, 9, 15, 16, 17, 64, 100, 1500, 1514, 2000, 2024, 2031, 2032, 2033,
		2048, 4096, 9000, 65535,
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct sk_buff *skb = skb_alloc(t_pool, sizes[i]);
		uint32_t room;

		ck_assert_ptr_nonnull(skb);
		room = skb_tailroom(skb);
		ck_assert_uint_ge(room, sizes[i]);
		ck_assert_uint_eq(skb_size(skb), room);
		ck_assert_uint_eq(skb_headroom(skb), 0);
		ck_assert_uint_eq((uintptr_t)skb_shinfo(skb) % _Alignof(struct skb_shared_info), 0);
		ck_assert_uint_eq(t_stats(t_pool).data_bytes, t_buf_bytes(skb));
		/* Filling all the room must not reach the shared info behind it. */
		memset(skb_put(skb, room), 0xff, room);
		ck_assert_uint_eq(skb_shinfo(skb)->dataref, 1);
		ck_assert_uint_eq(skb_shinfo(skb)->gso_size, 0);
		skb_free(skb);
		ck_assert_uint_eq(t_stats(t_pool).data_bytes, 0);
	}
}
END_TEST

/* A 64 KiB + headroom buffer, far past the small class, holds and returns every byte. */
START_TEST(test_alloc_large)
{
	const uint32_t len = 65536;
	struct sk_buff *skb = t_skb(t_pool, len, 7);

	ck_assert_uint_eq(skb_headroom(skb), SKB_MAX_HEADER);
	ck_assert_uint_eq(skb->len, len);
	ck_assert_uint_ge(skb_size(skb), len + SKB_MAX_HEADER);
	ck_assert(t_bytes_are(skb->data, len, 7));
	ck_assert_uint_eq(t_stats(t_pool).data_bytes,
			  (uint64_t)skb_size(skb) + sizeof(struct skb_shared_info));
	ck_assert_ptr_eq(skb_pull(skb, len), skb->tail);
	ck_assert_uint_eq(skb->len, 0);
	T_ASSERT_SANE(skb);
	skb_free(skb);
	ck_assert_uint_eq(t_stats(t_pool).data_bytes, 0);
}
END_TEST

/* ---- moving the window ---- */

/* reserve, put, put_data, push and pull move data/tail/len by exactly their argument. */
START_TEST(test_window_moves)
{
	static const uint8_t payload[6] = { 'p', 'a', 'y', 'l', 'o', 'd' };
	struct sk_buff *skb = skb_alloc(t_pool, 256);
	uint8_t *head, *p;

	ck_assert_ptr_nonnull(skb);
	head = skb->head;
	ck_assert_uint_eq(skb_size(skb), 256);
	ck_assert_int_eq(skb_reserve(skb, 64), 0);
	ck_assert_uint_eq(skb_headroom(skb), 64);
	ck_assert_uint_eq(skb_tailroom(skb), 192);
	ck_assert_uint_eq(skb->len, 0);
	ck_assert_ptr_eq(skb->data, head + 64);
	T_ASSERT_SANE(skb);

	p = skb_put(skb, 10);
	ck_assert_ptr_eq(p, head + 64);
	memset(p, 'h', 10);
	ck_assert_uint_eq(skb->len, 10);
	ck_assert_ptr_eq(skb->tail, head + 74);
	T_ASSERT_SANE(skb);

	ck_assert_int_eq(skb_put_data(skb, payload, sizeof(payload)), 0);
	ck_assert_uint_eq(skb->len, 16);
	ck_assert_mem_eq(head + 74, payload, sizeof(payload));
	T_ASSERT_SANE(skb);

	p = skb_push(skb, 8);
	ck_assert_ptr_eq(p, head + 56);
	ck_assert_ptr_eq(skb->data, p);
	ck_assert_uint_eq(skb->len, 24);
	ck_assert_uint_eq(skb_headroom(skb), 56);
	ck_assert_uint_eq(skb_tailroom(skb), 256 - 80);
	T_ASSERT_SANE(skb);

	p = skb_pull(skb, 8);
	ck_assert_ptr_eq(p, head + 64);
	ck_assert_uint_eq(skb->len, 16);
	p = skb_pull(skb, 10);
	ck_assert_ptr_eq(p, head + 74);
	ck_assert_uint_eq(skb->len, 6);
	ck_assert_mem_eq(skb->data, payload, sizeof(payload));
	ck_assert_ptr_eq(skb->head, head);
	ck_assert_uint_eq(skb_size(skb), 256);
	T_ASSERT_SANE(skb);
	skb_free(skb);
}
END_TEST

/* reserve adds up on an empty skb, and may take exactly all the tailroom. */
START_TEST(test_reserve_empty)
{
	struct sk_buff *skb = skb_alloc(t_pool, 64);

	ck_assert_ptr_nonnull(skb);
	ck_assert_int_eq(skb_reserve(skb, 16), 0);
	ck_assert_int_eq(skb_reserve(skb, 16), 0);
	ck_assert_uint_eq(skb_headroom(skb), 32);
	ck_assert_int_eq(skb_reserve(skb, skb_tailroom(skb)), 0);
	ck_assert_uint_eq(skb_tailroom(skb), 0);
	ck_assert_uint_eq(skb_headroom(skb), skb_size(skb));
	ck_assert_ptr_eq(skb->data, skb->end);
	ck_assert_uint_eq(skb->len, 0);
	T_ASSERT_SANE(skb);
	skb_free(skb);
}
END_TEST

/* Exactly-full moves succeed: put all the tailroom, pull all of len, push all the headroom. */
START_TEST(test_window_exactly_full)
{
	struct sk_buff *skb = skb_alloc(t_pool, 64);
	uint32_t size;

	ck_assert_ptr_nonnull(skb);
	size = skb_size(skb);
	ck_assert_ptr_eq(skb_put(skb, size), skb->head);
	ck_assert_uint_eq(skb_tailroom(skb), 0);
	ck_assert_uint_eq(skb->len, size);
	ck_assert_ptr_eq(skb->tail, skb->end);
	ck_assert_ptr_eq(skb_put(skb, 0), skb->end);

	ck_assert_ptr_eq(skb_pull(skb, size), skb->end);
	ck_assert_uint_eq(skb->len, 0);
	ck_assert_ptr_eq(skb->data, skb->tail);
	ck_assert_uint_eq(skb_headroom(skb), size);

	ck_assert_ptr_eq(skb_push(skb, size), skb->head);
	ck_assert_uint_eq(skb_headroom(skb), 0);
	ck_assert_uint_eq(skb->len, size);
	ck_assert_ptr_eq(skb_push(skb, 0), skb->head);
	T_ASSERT_SANE(skb);
	skb_free(skb);
}
END_TEST

/* put_data copies the bytes, may take exactly the remaining tailroom, and accepts zero bytes. */
START_TEST(test_put_data)
{
	uint8_t src[128];
	struct sk_buff *skb = skb_alloc(t_pool, 64);

	ck_assert_ptr_nonnull(skb);
	ck_assert_uint_le(skb_size(skb), sizeof(src));
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 3);
	ck_assert_int_eq(skb_put_data(skb, src, 0), 0);
	ck_assert_uint_eq(skb->len, 0);
	ck_assert_int_eq(skb_put_data(skb, src, 10), 0);
	ck_assert_uint_eq(skb->len, 10);
	ck_assert_int_eq(skb_put_data(skb, src + 10, skb_tailroom(skb)), 0);
	ck_assert_uint_eq(skb_tailroom(skb), 0);
	ck_assert_uint_eq(skb->len, skb_size(skb));
	ck_assert_mem_eq(skb->data, src, skb->len);
	T_ASSERT_SANE(skb);
	skb_free(skb);
}
END_TEST

/* trim cuts the tail only; trimming to len or beyond changes nothing, as in Linux. */
START_TEST(test_trim)
{
	struct sk_buff *skb = t_skb(t_pool, 100, 1);
	uint8_t *data = skb->data, *tail = skb->tail;
	uint32_t room = skb_tailroom(skb);

	skb_trim(skb, 200);
	ck_assert_uint_eq(skb->len, 100);
	ck_assert_ptr_eq(skb->tail, tail);
	skb_trim(skb, 100);
	ck_assert_uint_eq(skb->len, 100);
	ck_assert_ptr_eq(skb->tail, tail);

	skb_trim(skb, 60);
	ck_assert_uint_eq(skb->len, 60);
	ck_assert_ptr_eq(skb->data, data);
	ck_assert_ptr_eq(skb->tail, data + 60);
	ck_assert_uint_eq(skb_tailroom(skb), room + 40);
	ck_assert(t_bytes_are(skb->data, 60, 1));
	T_ASSERT_SANE(skb);

	skb_trim(skb, 0);
	ck_assert_uint_eq(skb->len, 0);
	ck_assert_ptr_eq(skb->tail, data);
	/* The room given back is usable again. */
	ck_assert_ptr_eq(skb_put(skb, 100), data);
	T_ASSERT_SANE(skb);
	skb_free(skb);
}
END_TEST

/* Header offsets: NULL until reset, then fixed relative to head whatever data does afterwards. */
START_TEST(test_header_offsets)
{
	struct sk_buff *skb = t_skb(t_pool, 100, 0);
	uint8_t *l4, *l3, *l2;

	ck_assert_ptr_null(skb_mac_header(skb));
	ck_assert_ptr_null(skb_network_header(skb));
	ck_assert_ptr_null(skb_transport_header(skb));

	/* Output order: each lower layer pushes its header in front of the one above. */
	skb_reset_transport_header(skb);
	l4 = skb->data;
	l3 = skb_push(skb, 20);
	skb_reset_network_header(skb);
	l2 = skb_push(skb, ETH_HLEN);
	skb_reset_mac_header(skb);
	ck_assert_ptr_eq(skb_transport_header(skb), l4);
	ck_assert_ptr_eq(skb_network_header(skb), l3);
	ck_assert_ptr_eq(skb_mac_header(skb), l2);
	ck_assert_uint_eq(skb->transport_header, SKB_MAX_HEADER);
	ck_assert_uint_eq(skb->network_header, SKB_MAX_HEADER - 20);
	ck_assert_uint_eq(skb->mac_header, SKB_MAX_HEADER - 20 - ETH_HLEN);

	/* Input order: pulling past the headers leaves their offsets where they were. */
	skb_pull(skb, ETH_HLEN + 20);
	ck_assert_ptr_eq(skb_mac_header(skb), l2);
	ck_assert_ptr_eq(skb_network_header(skb), l3);
	ck_assert_ptr_eq(skb_transport_header(skb), l4);

	/* Offset 0, at head itself, is a set header and not "unset". */
	skb_free(skb);
	skb = skb_alloc(t_pool, 64);
	ck_assert_ptr_nonnull(skb);
	skb_reset_mac_header(skb);
	ck_assert_uint_eq(skb->mac_header, 0);
	ck_assert_ptr_eq(skb_mac_header(skb), skb->head);
	ck_assert_ptr_null(skb_network_header(skb));
	skb_free(skb);
}
END_TEST

/* ---- clones ---- */

/* Stamp every field a clone or copy must carry over. */
static void t_decorate(struct sk_buff *skb)
{
	for (int i = 0; i < SKB_CB_SIZE; i++)
		skb->cb[i] = (uint8_t)(0xc0 + i);
	skb->dev = &t_dev;
	skb->protocol = 0x0800;
	skb->ip_summed = SKB_CSUM_PARTIAL;
	skb->csum_start = SKB_MAX_HEADER + 20;
	skb->csum_offset = 16;
	skb->tstamp_ns = 1234567890123ull;
	skb_reset_mac_header(skb);
	skb_pull(skb, ETH_HLEN);
	skb_reset_network_header(skb);
	skb_pull(skb, 20);
	skb_reset_transport_header(skb);
}

/* Assert that b carries a's metadata (everything but the window and the buffer). */
#define T_ASSERT_SAME_META(a, b)                                                 \
	do {                                                                     \
		ck_assert_mem_eq((a)->cb, (b)->cb, SKB_CB_SIZE);                 \
		ck_assert_ptr_eq((a)->dev, (b)->dev);                            \
		ck_assert_ptr_eq((a)->pool, (b)->pool);                          \
		ck_assert_uint_eq((a)->protocol, (b)->protocol);                 \
		ck_assert_uint_eq((a)->ip_summed, (b)->ip_summed);               \
		ck_assert_uint_eq((a)->csum_start, (b)->csum_start);             \
		ck_assert_uint_eq((a)->csum_offset, (b)->csum_offset);           \
		ck_assert_uint_eq((a)->tstamp_ns, (b)->tstamp_ns);               \
		ck_assert_uint_eq((a)->mac_header, (b)->mac_header);             \
		ck_assert_uint_eq((a)->network_header, (b)->network_header);     \
		ck_assert_uint_eq((a)->transport_header, (b)->transport_header); \
	} while (0)

/* A clone shares head and shared info (dataref 2), has the same window, and carries the metadata. */
START_TEST(test_clone_shares_data)
{
	struct sk_buff *a = t_skb(t_pool, 100, 3), *b;

	t_decorate(a);
	b = skb_clone(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(b, a);
	ck_assert_ptr_eq(b->head, a->head);
	ck_assert_ptr_eq(b->data, a->data);
	ck_assert_ptr_eq(b->tail, a->tail);
	ck_assert_ptr_eq(b->end, a->end);
	ck_assert_uint_eq(b->len, a->len);
	ck_assert_ptr_eq(skb_shinfo(b), skb_shinfo(a));
	ck_assert_uint_eq(skb_shinfo(a)->dataref, 2);
	ck_assert(skb_cloned(a));
	ck_assert(skb_cloned(b));
	ck_assert_ptr_null(b->next);
	ck_assert_ptr_null(b->prev);
	T_ASSERT_SAME_META(a, b);
	ck_assert_ptr_eq(skb_transport_header(b), skb_transport_header(a));
	T_ASSERT_STATS(t_pool, 2, 0, 2, 2, 0, T_SMALL_BUF);
	skb_free(b);
	skb_free(a);
}
END_TEST

/* pull, push and trim on a clone leave the original's window alone, and the other way round. */
START_TEST(test_clone_own_window)
{
	struct sk_buff *a = t_skb(t_pool, 100, 3), *b = skb_clone(a);
	uint8_t *data = a->data, *tail = a->tail;

	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_eq(skb_pull(b, ETH_HLEN), data + ETH_HLEN);
	ck_assert_ptr_eq(a->data, data);
	ck_assert_uint_eq(a->len, 100);
	ck_assert_ptr_eq(skb_push(b, ETH_HLEN + 8), data - 8);
	ck_assert_ptr_eq(a->data, data);
	skb_trim(b, 50);
	ck_assert_ptr_eq(a->tail, tail);
	ck_assert_uint_eq(a->len, 100);
	ck_assert_uint_eq(b->len, 50);

	skb_pull(a, 30);
	skb_trim(a, 10);
	ck_assert_ptr_eq(b->data, data - 8);
	ck_assert_uint_eq(b->len, 50);
	ck_assert_ptr_eq(b->tail, data + 42);
	ck_assert(t_bytes_are(b->data + 8, 42, 3));
	T_ASSERT_SANE(a);
	T_ASSERT_SANE(b);
	skb_free(a);
	skb_free(b);
}
END_TEST

/* Freeing the original first: the clone keeps the data, which goes only with the clone. */
START_TEST(test_clone_free_original_first)
{
	struct sk_buff *a = t_skb(t_pool, 100, 9), *b = skb_clone(a);

	ck_assert_ptr_nonnull(b);
	skb_free(a);
	T_ASSERT_STATS(t_pool, 2, 1, 1, 2, 0, T_SMALL_BUF);
	ck_assert_uint_eq(skb_shinfo(b)->dataref, 1);
	ck_assert(!skb_cloned(b));
	ck_assert(t_bytes_are(b->data, 100, 9));
	skb_free(b);
	T_ASSERT_STATS(t_pool, 2, 2, 0, 2, 0, 0);
}
END_TEST

/* Freeing the clone first: the original keeps the data, which goes only with the original. */
START_TEST(test_clone_free_clone_first)
{
	struct sk_buff *a = t_skb(t_pool, 100, 9), *b = skb_clone(a);

	ck_assert_ptr_nonnull(b);
	skb_free(b);
	T_ASSERT_STATS(t_pool, 2, 1, 1, 2, 0, T_SMALL_BUF);
	ck_assert_uint_eq(skb_shinfo(a)->dataref, 1);
	ck_assert(!skb_cloned(a));
	ck_assert(t_bytes_are(a->data, 100, 9));
	skb_free(a);
	T_ASSERT_STATS(t_pool, 2, 2, 0, 2, 0, 0);
}
END_TEST

/* A clone of a clone counts a third reference; the large buffer goes with the last of the three. */
START_TEST(test_clone_of_clone)
{
	struct sk_buff *a = t_skb(t_pool, 9000, 1), *b, *c;
	uint64_t bytes = t_buf_bytes(a);

	b = skb_clone(a);
	ck_assert_ptr_nonnull(b);
	skb_pull(b, 100);
	c = skb_clone(b);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_eq(c->data, b->data);
	ck_assert_uint_eq(skb_shinfo(a)->dataref, 3);
	skb_free(b);
	ck_assert_uint_eq(skb_shinfo(a)->dataref, 2);
	ck_assert(skb_cloned(c));
	skb_free(a);
	T_ASSERT_STATS(t_pool, 3, 2, 1, 3, 0, bytes);
	ck_assert(!skb_cloned(c));
	ck_assert(t_bytes_are(c->data, 8900, 101));
	skb_free(c);
	T_ASSERT_STATS(t_pool, 3, 3, 0, 3, 0, 0);
}
END_TEST

/* A clone of a queued skb is on no queue: no links, and freeing it leaves the original queued. */
START_TEST(test_clone_of_queued)
{
	struct skb_queue q;
	struct sk_buff *a = t_skb(t_pool, 10, 0), *b = t_skb(t_pool, 20, 0), *c = t_skb(t_pool, 30, 0);
	struct sk_buff *n;

	skb_queue_init(&q);
	ck_assert_int_eq(skb_queue_tail(&q, a), 0);
	ck_assert_int_eq(skb_queue_tail(&q, b), 0);
	ck_assert_int_eq(skb_queue_tail(&q, c), 0);
	/* b, in the middle, has both links set: the clone must not inherit them. */
	n = skb_clone(b);
	ck_assert_ptr_nonnull(n);
	ck_assert_ptr_null(n->next);
	ck_assert_ptr_null(n->prev);
	skb_free(n);
	ck_assert_uint_eq(skb_pool_in_use(t_pool), 3);
	T_ASSERT_QUEUE(&q, a, b, c);
	ck_assert_uint_eq(skb_queue_purge(&q), 3);
}
END_TEST

/* skb_clone(NULL) and skb_copy(NULL) return NULL and allocate nothing. */
START_TEST(test_clone_copy_null)
{
	ck_assert_ptr_null(skb_clone(NULL));
	ck_assert_ptr_null(skb_copy(NULL));
	T_ASSERT_STATS(t_pool, 0, 0, 0, 0, 0, 0);
}
END_TEST

/* ---- copies ---- */

/* A copy has its own buffer with the same size, headroom bytes, window, offsets, cb and GSO fields. */
START_TEST(test_copy_private)
{
	struct sk_buff *a = t_skb(t_pool, 100, 5), *c;
	uint8_t *l2;

	t_decorate(a);
	skb_shinfo(a)->gso_size = 1448;
	skb_shinfo(a)->gso_segs = 4;
	skb_shinfo(a)->gso_type = SKB_GSO_TCPV4 | SKB_GSO_TCP_ECN;
	c = skb_copy(a);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_ne(c->head, a->head);
	ck_assert_uint_eq(skb_size(c), skb_size(a));
	ck_assert_uint_eq(skb_headroom(c), skb_headroom(a));
	ck_assert_uint_eq(c->len, a->len);
	ck_assert_mem_eq(c->data, a->data, a->len);
	ck_assert_ptr_null(c->next);
	ck_assert_ptr_null(c->prev);
	T_ASSERT_SAME_META(a, c);
	/* The headers already pulled are still there, in front of data. */
	l2 = skb_mac_header(c);
	ck_assert_ptr_nonnull(l2);
	ck_assert_ptr_eq(l2, c->head + (skb_mac_header(a) - a->head));
	ck_assert(t_bytes_are(l2, ETH_HLEN + 20 + c->len, 5));
	ck_assert_uint_eq(skb_shinfo(c)->gso_size, 1448);
	ck_assert_uint_eq(skb_shinfo(c)->gso_segs, 4);
	ck_assert_uint_eq(skb_shinfo(c)->gso_type, SKB_GSO_TCPV4 | SKB_GSO_TCP_ECN);
	ck_assert_uint_eq(skb_shinfo(c)->dataref, 1);
	ck_assert_uint_eq(skb_shinfo(a)->dataref, 1);
	ck_assert(!skb_cloned(a));
	ck_assert(!skb_cloned(c));
	T_ASSERT_STATS(t_pool, 2, 0, 2, 2, 0, 2 * T_SMALL_BUF);

	/* Writing the copy, its window and its shared info leaves the original alone. */
	memset(c->data, 0, c->len);
	skb_pull(c, 10);
	skb_shinfo(c)->gso_size = 0;
	ck_assert(t_bytes_are(a->data, a->len, 5 + ETH_HLEN + 20));
	ck_assert_uint_eq(a->len, 100 - ETH_HLEN - 20);
	ck_assert_uint_eq(skb_shinfo(a)->gso_size, 1448);
	skb_free(a);
	skb_free(c);
}
END_TEST

/* A copy of a clone is private and takes the clone's window; the two clones stay shared. */
START_TEST(test_copy_of_clone)
{
	struct sk_buff *a = t_skb(t_pool, 100, 2), *b = skb_clone(a), *c;

	ck_assert_ptr_nonnull(b);
	skb_pull(b, 30);
	c = skb_copy(b);
	ck_assert_ptr_nonnull(c);
	ck_assert(!skb_cloned(c));
	ck_assert(skb_cloned(a));
	ck_assert_uint_eq(skb_shinfo(a)->dataref, 2);
	ck_assert_uint_eq(skb_headroom(c), SKB_MAX_HEADER + 30);
	ck_assert_uint_eq(c->len, 70);
	ck_assert(t_bytes_are(c->data, 70, 32));
	skb_free(a);
	skb_free(b);
	skb_free(c);
}
END_TEST

/* Copies of a zero-size skb and of a large one have their source's size and accounting. */
START_TEST(test_copy_sizes)
{
	struct sk_buff *z = skb_alloc(t_pool, 0), *big = t_skb(t_pool, 65536, 4), *zc, *bc;

	ck_assert_ptr_nonnull(z);
	zc = skb_copy(z);
	bc = skb_copy(big);
	ck_assert_ptr_nonnull(zc);
	ck_assert_ptr_nonnull(bc);
	ck_assert_uint_eq(skb_size(zc), 0);
	ck_assert_uint_eq(zc->len, 0);
	ck_assert_uint_eq(skb_size(bc), skb_size(big));
	ck_assert_uint_eq(skb_headroom(bc), SKB_MAX_HEADER);
	ck_assert(t_bytes_are(bc->data, 65536, 4));
	ck_assert_uint_eq(t_stats(t_pool).data_bytes, 2 * T_SMALL_BUF + 2 * t_buf_bytes(big));
	skb_free(z);
	skb_free(zc);
	skb_free(big);
	skb_free(bc);
}
END_TEST

/* ---- unshare ---- */

/* skb_unshare of an skb that is not cloned returns it as it is, allocating nothing. */
START_TEST(test_unshare_not_cloned)
{
	struct sk_buff *a = t_skb(t_pool, 100, 0);
	uint8_t *head = a->head;

	ck_assert_ptr_eq(skb_unshare(a), a);
	ck_assert_ptr_eq(a->head, head);
	T_ASSERT_STATS(t_pool, 1, 0, 1, 1, 0, T_SMALL_BUF);
	skb_free(a);
}
END_TEST

/* skb_unshare of a clone gives a private copy and drops the clone reference: neither is cloned then. */
START_TEST(test_unshare_cloned)
{
	struct sk_buff *a = t_skb(t_pool, 100, 6), *b = skb_clone(a), *u;

	ck_assert_ptr_nonnull(b);
	skb_pull(b, 20);
	b->tstamp_ns = 77;
	u = skb_unshare(b);
	ck_assert_ptr_nonnull(u);
	ck_assert_ptr_ne(u, a);
	ck_assert_ptr_ne(u->head, a->head);
	ck_assert(!skb_cloned(u));
	ck_assert(!skb_cloned(a));
	ck_assert_uint_eq(skb_shinfo(a)->dataref, 1);
	ck_assert_uint_eq(u->len, 80);
	ck_assert_uint_eq(u->tstamp_ns, 77);
	ck_assert(t_bytes_are(u->data, 80, 26));
	T_ASSERT_STATS(t_pool, 3, 1, 2, 3, 0, 2 * T_SMALL_BUF);
	/* u is private: writing it must not show through a. */
	memset(u->data, 0, u->len);
	ck_assert(t_bytes_are(a->data, 100, 6));
	skb_free(u);
	skb_free(a);
}
END_TEST

/* ---- exhaustion in the middle of an operation ---- */

/* A clone refused by max_skbs takes no data reference, so the buffer still goes with the original. */
START_TEST(test_clone_exhausted)
{
	struct skb_pool_config cfg = { .max_skbs = 1 };
	struct skb_pool *pool = skb_pool_create(&cfg);
	struct sk_buff *a;

	ck_assert_ptr_nonnull(pool);
	a = t_skb(pool, 100, 0);
	ck_assert_ptr_null(skb_clone(a));
	ck_assert_uint_eq(skb_shinfo(a)->dataref, 1);
	ck_assert(!skb_cloned(a));
	T_ASSERT_STATS(pool, 1, 0, 1, 1, 1, T_SMALL_BUF);
	skb_free(a);
	T_ASSERT_STATS(pool, 1, 1, 0, 1, 1, 0);
	ck_assert_uint_eq(skb_pool_destroy(pool), 0);
}
END_TEST

/* A copy refused for its descriptor returns the data buffer it had already taken. */
START_TEST(test_copy_exhausted_skbs)
{
	struct skb_pool_config cfg = { .max_skbs = 1 };
	struct skb_pool *pool = skb_pool_create(&cfg);
	struct sk_buff *a, *big;

	ck_assert_ptr_nonnull(pool);
	a = t_skb(pool, 100, 0);
	ck_assert_ptr_null(skb_copy(a));
	T_ASSERT_STATS(pool, 1, 0, 1, 1, 1, T_SMALL_BUF);
	skb_free(a);
	/* The same with a large buffer, which is not cached but freed. */
	big = t_skb(pool, 9000, 0);
	ck_assert_ptr_null(skb_copy(big));
	T_ASSERT_STATS(pool, 2, 1, 1, 1, 2, t_buf_bytes(big));
	skb_free(big);
	T_ASSERT_STATS(pool, 2, 2, 0, 1, 2, 0);
	ck_assert_uint_eq(skb_pool_destroy(pool), 0);
}
END_TEST

/* A copy refused by max_data_bytes takes no descriptor. */
START_TEST(test_copy_exhausted_bytes)
{
	struct skb_pool_config cfg = { .max_data_bytes = T_SMALL_BUF };
	struct skb_pool *pool = skb_pool_create(&cfg);
	struct sk_buff *a;

	ck_assert_ptr_nonnull(pool);
	a = t_skb(pool, 100, 0);
	ck_assert_ptr_null(skb_copy(a));
	T_ASSERT_STATS(pool, 1, 0, 1, 1, 1, T_SMALL_BUF);
	skb_free(a);
	T_ASSERT_STATS(pool, 1, 1, 0, 1, 1, 0);
	ck_assert_uint_eq(skb_pool_destroy(pool), 0);
}
END_TEST

/* skb_unshare that cannot copy frees the clone it got and returns NULL; the other keeps the data. */
START_TEST(test_unshare_exhausted)
{
	struct skb_pool_config cfg = { .max_skbs = 2 };
	struct skb_pool *pool = skb_pool_create(&cfg);
	struct sk_buff *a, *b;

	ck_assert_ptr_nonnull(pool);
	a = t_skb(pool, 100, 8);
	b = skb_clone(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(skb_unshare(b));
	T_ASSERT_STATS(pool, 2, 1, 1, 2, 1, T_SMALL_BUF);
	ck_assert(!skb_cloned(a));
	ck_assert(t_bytes_are(a->data, 100, 8));
	skb_free(a);
	T_ASSERT_STATS(pool, 2, 2, 0, 2, 1, 0);
	ck_assert_uint_eq(skb_pool_destroy(pool), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("skb");
	TCase *tc;

	tc = test_tcase("pool");
	tcase_add_test(tc, test_pool_create_default);
	tcase_add_test(tc, test_pool_counters);
	tcase_add_test(tc, test_pool_max_skbs);
	tcase_add_test(tc, test_pool_max_data_bytes);
	tcase_add_test(tc, test_pool_default_data_limit);
	tcase_add_test(tc, test_pool_cache_overflow);
	tcase_add_test(tc, test_pool_destroy_empty);
	tcase_add_test(tc, test_pool_destroy_in_use);
	tcase_add_test(tc, test_free_null);
	suite_add_tcase(s, tc);

	tc = test_tcase("alloc");
	tcase_add_test(tc, test_alloc_zero);
	tcase_add_test(tc, test_alloc_fields_blank);
	tcase_add_test(tc, test_alloc_sizes);
	tcase_add_test(tc, test_alloc_large);
	suite_add_tcase(s, tc);

	tc = test_tcase("window");
	tcase_add_test(tc, test_window_moves);
	tcase_add_test(tc, test_reserve_empty);
	tcase_add_test(tc, test_window_exactly_full);
	tcase_add_test(tc, test_put_data);
	tcase_add_test(tc, test_trim);
	tcase_add_test(tc, test_header_offsets);
	suite_add_tcase(s, tc);

	tc = test_tcase("clone");
	tcase_add_test(tc, test_clone_shares_data);
	tcase_add_test(tc, test_clone_own_window);
	tcase_add_test(tc, test_clone_free_original_first);
	tcase_add_test(tc, test_clone_free_clone_first);
	tcase_add_test(tc, test_clone_of_clone);
	tcase_add_test(tc, test_clone_of_queued);
	tcase_add_test(tc, test_clone_copy_null);
	suite_add_tcase(s, tc);

	tc = test_tcase("copy");
	tcase_add_test(tc, test_copy_private);
	tcase_add_test(tc, test_copy_of_clone);
	tcase_add_test(tc, test_copy_sizes);
	tcase_add_test(tc, test_unshare_not_cloned);
	tcase_add_test(tc, test_unshare_cloned);
	suite_add_tcase(s, tc);

	tc = test_tcase("exhaustion");
	tcase_add_test(tc, test_clone_exhausted);
	tcase_add_test(tc, test_copy_exhausted_skbs);
	tcase_add_test(tc, test_copy_exhausted_bytes);
	tcase_add_test(tc, test_unshare_exhausted);
	suite_add_tcase(s, tc);

	return test_run(s);
}
