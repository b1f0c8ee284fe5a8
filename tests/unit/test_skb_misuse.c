/*
 * test_skb_misuse.c - misuse of the skb API (include/ustack/skb.h): pushing, putting, pulling and
 * reserving past the buffer, freeing or queueing an skb that is on a queue, unlinking one that is
 * on none.
 *
 * Misuse tests have one body for both kinds of build: the misuse call comes last but for the checks of
 * what a release build must do (return NULL or -EINVAL, leave the skb as it was, count one `misuse`).
 * A debug build (USTACK_DEBUG) aborts in that call, so main() registers the same bodies there as tests
 * that must die of SIGABRT; Check runs each test in a child process, so the abort takes only the child.
 * Every test runs under test_tcase(), whose teardown fails if an skb of t_pool is left in use.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "skb_helper.h"

/* What a misused call must leave alone in a release build. */
struct t_window {
	uint8_t *data;
	uint8_t *tail;
	uint32_t len;
	struct sk_buff *next;
	struct sk_buff *prev;
};

static struct t_window t_window_of(const struct sk_buff *skb)
{
	struct t_window w = {
		.data = skb->data,
		.tail = skb->tail,
		.len = skb->len,
		.next = skb->next,
		.prev = skb->prev,
	};

	return w;
}

/* Release-build misuse: the skb unchanged, exactly one misuse counted and nothing else. */
#define T_ASSERT_MISUSED_ONCE(skb, w)                             \
	do {                                                      \
		struct skb_pool_stats st_ = t_stats((skb)->pool); \
		ck_assert_ptr_eq((skb)->data, (w).data);          \
		ck_assert_ptr_eq((skb)->tail, (w).tail);          \
		ck_assert_uint_eq((skb)->len, (w).len);           \
		ck_assert_ptr_eq((skb)->next, (w).next);          \
		ck_assert_ptr_eq((skb)->prev, (w).prev);          \
		ck_assert_uint_eq(st_.misuse, 1);                 \
		ck_assert_uint_eq(st_.alloc_failures, 0);         \
	} while (0)

/* ---- misuse: SIGABRT in a debug build, an error return and a `misuse` count in a release build ---- */

/* skb_push of one byte more than the headroom. */
START_TEST(test_misuse_push_past_headroom)
{
	struct sk_buff *skb = skb_alloc(t_pool, 64);
	struct t_window w;

	ck_assert_ptr_nonnull(skb);
	ck_assert_int_eq(skb_reserve(skb, 16), 0);
	ck_assert_ptr_nonnull(skb_put(skb, 8));
	w = t_window_of(skb);
	ck_assert_ptr_null(skb_push(skb, 17));
	T_ASSERT_MISUSED_ONCE(skb, w);
	skb_free(skb);
}
END_TEST

/* skb_push(1) once all the headroom was pushed. */
START_TEST(test_misuse_push_when_full)
{
	struct sk_buff *skb = t_skb(t_pool, 10, 0);
	struct t_window w;

	ck_assert_ptr_eq(skb_push(skb, SKB_MAX_HEADER), skb->head);
	w = t_window_of(skb);
	ck_assert_ptr_null(skb_push(skb, 1));
	T_ASSERT_MISUSED_ONCE(skb, w);
	skb_free(skb);
}
END_TEST

/* skb_put of one byte more than the tailroom. */
START_TEST(test_misuse_put_past_end)
{
	struct sk_buff *skb = t_skb(t_pool, 10, 0);
	struct t_window w = t_window_of(skb);

	ck_assert_ptr_null(skb_put(skb, skb_tailroom(skb) + 1));
	T_ASSERT_MISUSED_ONCE(skb, w);
	skb_free(skb);
}
END_TEST

/* skb_put(1) once all the tailroom was put. */
START_TEST(test_misuse_put_when_full)
{
	struct sk_buff *skb = skb_alloc(t_pool, 64);
	struct t_window w;

	ck_assert_ptr_nonnull(skb);
	ck_assert_ptr_nonnull(skb_put(skb, skb_tailroom(skb)));
	w = t_window_of(skb);
	ck_assert_ptr_null(skb_put(skb, 1));
	T_ASSERT_MISUSED_ONCE(skb, w);
	skb_free(skb);
}
END_TEST

/* skb_put(1) on a zero-size skb. */
START_TEST(test_misuse_put_zero_size)
{
	struct sk_buff *skb = skb_alloc(t_pool, 0);
	struct t_window w;

	ck_assert_ptr_nonnull(skb);
	w = t_window_of(skb);
	ck_assert_ptr_null(skb_put(skb, 1));
	T_ASSERT_MISUSED_ONCE(skb, w);
	skb_free(skb);
}
END_TEST

/* skb_put_data of more than the tailroom: -EINVAL, nothing written at the tail. */
START_TEST(test_misuse_put_data_past_end)
{
	uint8_t src[80];
	struct sk_buff *skb = skb_alloc(t_pool, 64);
	struct t_window w;

	ck_assert_ptr_nonnull(skb);
	memset(src, 0xee, sizeof(src));
	ck_assert_int_eq(skb_put_data(skb, src, 4), 0);
	skb->tail[0] = 0x11;
	w = t_window_of(skb);
	ck_assert_int_eq(skb_put_data(skb, src, skb_tailroom(skb) + 1), -EINVAL);
	T_ASSERT_MISUSED_ONCE(skb, w);
	ck_assert_uint_eq(skb->tail[0], 0x11);
	skb_free(skb);
}
END_TEST

/* skb_pull of one byte more than len. */
START_TEST(test_misuse_pull_past_tail)
{
	struct sk_buff *skb = t_skb(t_pool, 10, 0);
	struct t_window w = t_window_of(skb);

	ck_assert_ptr_null(skb_pull(skb, 11));
	T_ASSERT_MISUSED_ONCE(skb, w);
	skb_free(skb);
}
END_TEST

/* skb_pull(1) once all of len was pulled. */
START_TEST(test_misuse_pull_when_empty)
{
	struct sk_buff *skb = t_skb(t_pool, 10, 0);
	struct t_window w;

	ck_assert_ptr_eq(skb_pull(skb, 10), skb->tail);
	ck_assert_uint_eq(skb->len, 0);
	w = t_window_of(skb);
	ck_assert_ptr_null(skb_pull(skb, 1));
	T_ASSERT_MISUSED_ONCE(skb, w);
	skb_free(skb);
}
END_TEST

/* skb_reserve in an skb that already holds data. */
START_TEST(test_misuse_reserve_non_empty)
{
	struct sk_buff *skb = skb_alloc(t_pool, 64);
	struct t_window w;

	ck_assert_ptr_nonnull(skb);
	ck_assert_ptr_nonnull(skb_put(skb, 1));
	w = t_window_of(skb);
	ck_assert_int_eq(skb_reserve(skb, 8), -EINVAL);
	T_ASSERT_MISUSED_ONCE(skb, w);
	skb_free(skb);
}
END_TEST

/* skb_reserve of more than the tailroom. */
START_TEST(test_misuse_reserve_past_end)
{
	struct sk_buff *skb = skb_alloc(t_pool, 64);
	struct t_window w;

	ck_assert_ptr_nonnull(skb);
	w = t_window_of(skb);
	ck_assert_int_eq(skb_reserve(skb, skb_tailroom(skb) + 1), -EINVAL);
	T_ASSERT_MISUSED_ONCE(skb, w);
	skb_free(skb);
}
END_TEST

/* skb_free of an skb still on a queue: not freed, the queue intact. */
START_TEST(test_misuse_free_queued)
{
	struct skb_queue q;
	struct sk_buff *a = t_skb(t_pool, 10, 0), *b = t_skb(t_pool, 20, 0);
	struct t_window w;

	skb_queue_init(&q);
	skb_queue_tail(&q, a);
	skb_queue_tail(&q, b);
	w = t_window_of(a);
	skb_free(a);
	T_ASSERT_MISUSED_ONCE(a, w);
	ck_assert_uint_eq(skb_pool_in_use(t_pool), 2);
	ck_assert_uint_eq(t_stats(t_pool).freed, 0);
	T_ASSERT_QUEUE(&q, a, b);
	ck_assert_uint_eq(skb_queue_purge(&q), 2);
}
END_TEST

/* skb_queue_tail of an skb already on a queue: -EINVAL, both queues intact. */
START_TEST(test_misuse_queue_tail_queued)
{
	struct skb_queue q1, q2;
	struct sk_buff *a = t_skb(t_pool, 10, 0), *b = t_skb(t_pool, 20, 0);
	struct t_window w;

	skb_queue_init(&q1);
	skb_queue_init(&q2);
	skb_queue_tail(&q1, a);
	skb_queue_tail(&q1, b);
	w = t_window_of(a);
	ck_assert_int_eq(skb_queue_tail(&q2, a), -EINVAL);
	T_ASSERT_MISUSED_ONCE(a, w);
	T_ASSERT_QUEUE(&q1, a, b);
	T_ASSERT_QUEUE_EMPTY(&q2);
	ck_assert_uint_eq(skb_queue_purge(&q1), 2);
}
END_TEST

/* skb_queue_head of an skb already on the same queue: -EINVAL, the queue intact. */
START_TEST(test_misuse_queue_head_queued)
{
	struct skb_queue q;
	struct sk_buff *a = t_skb(t_pool, 10, 0), *b = t_skb(t_pool, 20, 0);
	struct t_window w;

	skb_queue_init(&q);
	skb_queue_tail(&q, a);
	skb_queue_tail(&q, b);
	w = t_window_of(b);
	ck_assert_int_eq(skb_queue_head(&q, b), -EINVAL);
	T_ASSERT_MISUSED_ONCE(b, w);
	T_ASSERT_QUEUE(&q, a, b);
	ck_assert_uint_eq(skb_queue_purge(&q), 2);
}
END_TEST

/* skb_queue_insert_after of an skb already on the queue: -EINVAL, the queue intact. */
START_TEST(test_misuse_insert_after_queued)
{
	struct skb_queue q;
	struct sk_buff *a = t_skb(t_pool, 10, 0), *b = t_skb(t_pool, 20, 0), *c = t_skb(t_pool, 30, 0);
	struct t_window w;

	skb_queue_init(&q);
	skb_queue_tail(&q, a);
	skb_queue_tail(&q, b);
	skb_queue_tail(&q, c);
	w = t_window_of(a);
	ck_assert_int_eq(skb_queue_insert_after(&q, b, a), -EINVAL);
	T_ASSERT_MISUSED_ONCE(a, w);
	T_ASSERT_QUEUE(&q, a, b, c);
	ck_assert_uint_eq(skb_queue_purge(&q), 3);
}
END_TEST

/* skb_unlink of an skb on no queue (here: unlinked once already, the double unlink a list walk
 * gets wrong): left alone, the queue intact (its length, bytes, head and tail). */
START_TEST(test_misuse_unlink_unqueued)
{
	struct skb_queue q;
	struct sk_buff *a = t_skb(t_pool, 10, 0), *b = t_skb(t_pool, 20, 0);
	struct t_window w;

	skb_queue_init(&q);
	skb_queue_tail(&q, a);
	skb_queue_tail(&q, b);
	skb_unlink(&q, a);
	T_ASSERT_QUEUE(&q, b);
	w = t_window_of(a);
	skb_unlink(&q, a);
	T_ASSERT_MISUSED_ONCE(a, w);
	ck_assert_ptr_null(a->next);
	ck_assert_ptr_null(a->prev);
	T_ASSERT_QUEUE(&q, b);
	skb_free(a);
	ck_assert_uint_eq(skb_queue_purge(&q), 1);
}
END_TEST

/* A debug build must die in the misuse call; a release build must go on and pass the checks after it. */
#ifdef USTACK_DEBUG
#define t_add_misuse_test(tc, fn) tcase_add_test_raise_signal((tc), fn, SIGABRT)
#else
#define t_add_misuse_test(tc, fn) tcase_add_test((tc), fn)
#endif

int main(void)
{
	Suite *s = suite_create("skb_misuse");
	TCase *tc;

	tc = test_tcase("misuse");
	t_add_misuse_test(tc, test_misuse_push_past_headroom);
	t_add_misuse_test(tc, test_misuse_push_when_full);
	t_add_misuse_test(tc, test_misuse_put_past_end);
	t_add_misuse_test(tc, test_misuse_put_when_full);
	t_add_misuse_test(tc, test_misuse_put_zero_size);
	t_add_misuse_test(tc, test_misuse_put_data_past_end);
	t_add_misuse_test(tc, test_misuse_pull_past_tail);
	t_add_misuse_test(tc, test_misuse_pull_when_empty);
	t_add_misuse_test(tc, test_misuse_reserve_non_empty);
	t_add_misuse_test(tc, test_misuse_reserve_past_end);
	t_add_misuse_test(tc, test_misuse_free_queued);
	t_add_misuse_test(tc, test_misuse_queue_tail_queued);
	t_add_misuse_test(tc, test_misuse_queue_head_queued);
	t_add_misuse_test(tc, test_misuse_insert_after_queued);
	t_add_misuse_test(tc, test_misuse_unlink_unqueued);
	suite_add_tcase(s, tc);

	return test_run(s);
}
