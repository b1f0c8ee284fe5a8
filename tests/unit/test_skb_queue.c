/*
 * test_skb_queue.c - struct skb_queue: both ends, insert and unlink, splice and purge, with the
 * queue's length, bytes and links checked after every step (skb_helper.h's T_ASSERT_QUEUE). Every
 * test runs under test_tcase(), whose teardown fails if an skb of t_pool is left in use.
 */
#include <string.h>

#include "skb_helper.h"

/* ---- queues ---- */

/* skb_queue_init empties whatever was there; every operation on an empty queue is harmless. */
START_TEST(test_queue_empty)
{
	struct skb_queue q, other;

	memset(&q, 0xa5, sizeof(q));
	skb_queue_init(&q);
	skb_queue_init(&other);
	ck_assert_ptr_null(q.head);
	ck_assert_ptr_null(q.tail);
	ck_assert_uint_eq(q.len, 0);
	ck_assert_uint_eq(q.bytes, 0);
	T_ASSERT_QUEUE_EMPTY(&q);
	ck_assert_ptr_null(skb_dequeue(&q));
	ck_assert_ptr_null(skb_dequeue_tail(&q));
	ck_assert_uint_eq(skb_queue_purge(&q), 0);
	skb_queue_splice(&other, &q);
	skb_queue_splice_head(&other, &q);
	T_ASSERT_QUEUE_EMPTY(&q);
	T_ASSERT_QUEUE_EMPTY(&other);
	T_ASSERT_STATS(t_pool, 0, 0, 0, 0, 0, 0);
}
END_TEST

/* One skb: every way in and every way out leaves head == tail == it, then an empty queue. */
START_TEST(test_queue_one)
{
	struct skb_queue q;
	struct sk_buff *a = t_skb(t_pool, 10, 0);

	skb_queue_init(&q);
	ck_assert_int_eq(skb_queue_tail(&q, a), 0);
	T_ASSERT_QUEUE(&q, a);
	ck_assert_ptr_null(a->next);
	ck_assert_ptr_eq(skb_dequeue(&q), a);
	T_ASSERT_QUEUE_EMPTY(&q);

	ck_assert_int_eq(skb_queue_head(&q, a), 0);
	T_ASSERT_QUEUE(&q, a);
	ck_assert_ptr_eq(skb_dequeue_tail(&q), a);
	T_ASSERT_QUEUE_EMPTY(&q);

	ck_assert_int_eq(skb_queue_insert_after(&q, NULL, a), 0);
	T_ASSERT_QUEUE(&q, a);
	skb_unlink(&q, a);
	T_ASSERT_QUEUE_EMPTY(&q);
	ck_assert_ptr_null(a->next);
	ck_assert_ptr_null(a->prev);
	/* Off the queue again, so freeing it is no misuse. */
	skb_free(a);
}
END_TEST

/* skb_queue_tail is FIFO; len and bytes are exact after every step, zero-length skbs included. */
START_TEST(test_queue_fifo)
{
	struct skb_queue q;
	struct sk_buff *a = t_skb(t_pool, 10, 0), *b = t_skb(t_pool, 0, 0), *c = t_skb(t_pool, 300, 0);

	skb_queue_init(&q);
	ck_assert_int_eq(skb_queue_tail(&q, a), 0);
	T_ASSERT_QUEUE(&q, a);
	ck_assert_int_eq(skb_queue_tail(&q, b), 0);
	T_ASSERT_QUEUE(&q, a, b);
	ck_assert_int_eq(skb_queue_tail(&q, c), 0);
	T_ASSERT_QUEUE(&q, a, b, c);
	ck_assert_uint_eq(q.bytes, 310);

	ck_assert_ptr_eq(skb_dequeue(&q), a);
	T_ASSERT_QUEUE(&q, b, c);
	ck_assert_ptr_null(a->next);
	ck_assert_ptr_null(a->prev);
	ck_assert_ptr_eq(skb_dequeue(&q), b);
	T_ASSERT_QUEUE(&q, c);
	ck_assert_ptr_eq(skb_dequeue(&q), c);
	T_ASSERT_QUEUE_EMPTY(&q);
	ck_assert_ptr_null(skb_dequeue(&q));
	skb_free(a);
	skb_free(b);
	skb_free(c);
}
END_TEST

/* skb_queue_head is LIFO. */
START_TEST(test_queue_lifo)
{
	struct skb_queue q;
	struct sk_buff *a = t_skb(t_pool, 1, 0), *b = t_skb(t_pool, 2, 0), *c = t_skb(t_pool, 3, 0);

	skb_queue_init(&q);
	ck_assert_int_eq(skb_queue_head(&q, a), 0);
	T_ASSERT_QUEUE(&q, a);
	ck_assert_int_eq(skb_queue_head(&q, b), 0);
	T_ASSERT_QUEUE(&q, b, a);
	ck_assert_int_eq(skb_queue_head(&q, c), 0);
	T_ASSERT_QUEUE(&q, c, b, a);
	ck_assert_ptr_eq(skb_dequeue(&q), c);
	ck_assert_ptr_eq(skb_dequeue(&q), b);
	ck_assert_ptr_eq(skb_dequeue(&q), a);
	T_ASSERT_QUEUE_EMPTY(&q);
	skb_free(a);
	skb_free(b);
	skb_free(c);
}
END_TEST

/* Dequeueing from both ends in turn takes the right skb each time. */
START_TEST(test_queue_both_ends)
{
	struct skb_queue q;
	struct sk_buff *s[4];

	skb_queue_init(&q);
	for (int i = 0; i < 4; i++) {
		s[i] = t_skb(t_pool, 10 * (uint32_t)(i + 1), 0);
		ck_assert_int_eq(skb_queue_tail(&q, s[i]), 0);
	}
	T_ASSERT_QUEUE(&q, s[0], s[1], s[2], s[3]);
	ck_assert_ptr_eq(skb_dequeue_tail(&q), s[3]);
	T_ASSERT_QUEUE(&q, s[0], s[1], s[2]);
	ck_assert_ptr_null(s[3]->next);
	ck_assert_ptr_null(s[3]->prev);
	ck_assert_ptr_eq(skb_dequeue(&q), s[0]);
	T_ASSERT_QUEUE(&q, s[1], s[2]);
	ck_assert_ptr_eq(skb_dequeue_tail(&q), s[2]);
	T_ASSERT_QUEUE(&q, s[1]);
	ck_assert_ptr_eq(skb_dequeue_tail(&q), s[1]);
	T_ASSERT_QUEUE_EMPTY(&q);
	ck_assert_ptr_null(skb_dequeue_tail(&q));
	for (int i = 0; i < 4; i++)
		skb_free(s[i]);
}
END_TEST

/* insert_after: NULL prev puts the skb at the head; after the tail it becomes the tail; in between. */
START_TEST(test_queue_insert_after)
{
	struct skb_queue q;
	struct sk_buff *a = t_skb(t_pool, 1, 0), *b = t_skb(t_pool, 2, 0), *c = t_skb(t_pool, 4, 0);
	struct sk_buff *d = t_skb(t_pool, 8, 0), *e = t_skb(t_pool, 16, 0);

	skb_queue_init(&q);
	ck_assert_int_eq(skb_queue_insert_after(&q, NULL, b), 0);
	T_ASSERT_QUEUE(&q, b);
	ck_assert_int_eq(skb_queue_insert_after(&q, NULL, a), 0);
	T_ASSERT_QUEUE(&q, a, b);
	ck_assert_int_eq(skb_queue_insert_after(&q, b, d), 0);
	T_ASSERT_QUEUE(&q, a, b, d);
	ck_assert_int_eq(skb_queue_insert_after(&q, b, c), 0);
	T_ASSERT_QUEUE(&q, a, b, c, d);
	ck_assert_int_eq(skb_queue_insert_after(&q, d, e), 0);
	T_ASSERT_QUEUE(&q, a, b, c, d, e);
	ck_assert_uint_eq(q.bytes, 31);
	ck_assert_uint_eq(skb_queue_purge(&q), 5);
}
END_TEST

/* unlink of the middle, the head and the tail keeps the links; an unlinked skb can go back on. */
START_TEST(test_queue_unlink)
{
	struct skb_queue q;
	struct sk_buff *s[5];

	skb_queue_init(&q);
	for (int i = 0; i < 5; i++) {
		s[i] = t_skb(t_pool, 1u << i, 0);
		ck_assert_int_eq(skb_queue_tail(&q, s[i]), 0);
	}
	skb_unlink(&q, s[2]);
	T_ASSERT_QUEUE(&q, s[0], s[1], s[3], s[4]);
	ck_assert_ptr_null(s[2]->next);
	ck_assert_ptr_null(s[2]->prev);
	skb_unlink(&q, s[0]);
	T_ASSERT_QUEUE(&q, s[1], s[3], s[4]);
	skb_unlink(&q, s[4]);
	T_ASSERT_QUEUE(&q, s[1], s[3]);
	ck_assert_ptr_null(s[4]->next);
	ck_assert_ptr_null(s[4]->prev);

	ck_assert_int_eq(skb_queue_tail(&q, s[2]), 0);
	T_ASSERT_QUEUE(&q, s[1], s[3], s[2]);
	skb_free(s[0]);
	skb_free(s[4]);
	ck_assert_uint_eq(skb_queue_purge(&q), 3);
	T_ASSERT_QUEUE_EMPTY(&q);
}
END_TEST

/* splice onto an empty queue moves everything in order and leaves `from` empty. */
START_TEST(test_queue_splice_onto_empty)
{
	struct skb_queue from, to;
	struct sk_buff *a = t_skb(t_pool, 1, 0), *b = t_skb(t_pool, 2, 0), *c = t_skb(t_pool, 4, 0);

	skb_queue_init(&from);
	skb_queue_init(&to);
	skb_queue_tail(&from, a);
	skb_queue_tail(&from, b);
	skb_queue_tail(&from, c);
	skb_queue_splice(&from, &to);
	T_ASSERT_QUEUE(&to, a, b, c);
	T_ASSERT_QUEUE_EMPTY(&from);
	ck_assert_uint_eq(from.bytes, 0);

	skb_queue_splice_head(&to, &from);
	T_ASSERT_QUEUE(&from, a, b, c);
	T_ASSERT_QUEUE_EMPTY(&to);
	ck_assert_uint_eq(skb_queue_purge(&from), 3);
}
END_TEST

/* splice appends `from` after the tail of `to`; splice_head puts it in front of the head. */
START_TEST(test_queue_splice_onto_nonempty)
{
	struct skb_queue from, to;
	struct sk_buff *a = t_skb(t_pool, 1, 0), *b = t_skb(t_pool, 2, 0), *c = t_skb(t_pool, 4, 0);
	struct sk_buff *d = t_skb(t_pool, 8, 0), *e = t_skb(t_pool, 16, 0);

	skb_queue_init(&from);
	skb_queue_init(&to);
	skb_queue_tail(&to, a);
	skb_queue_tail(&to, b);
	skb_queue_tail(&from, c);
	skb_queue_tail(&from, d);
	skb_queue_splice(&from, &to);
	T_ASSERT_QUEUE(&to, a, b, c, d);
	T_ASSERT_QUEUE_EMPTY(&from);

	skb_queue_tail(&from, e);
	skb_queue_splice_head(&from, &to);
	T_ASSERT_QUEUE(&to, e, a, b, c, d);
	T_ASSERT_QUEUE_EMPTY(&from);
	ck_assert_uint_eq(to.bytes, 31);

	/* The spliced skbs come off `to` like any other. */
	ck_assert_ptr_eq(skb_dequeue_tail(&to), d);
	ck_assert_ptr_eq(skb_dequeue(&to), e);
	T_ASSERT_QUEUE(&to, a, b, c);
	skb_free(d);
	skb_free(e);
	ck_assert_uint_eq(skb_queue_purge(&to), 3);
}
END_TEST

/* Splicing an empty queue, either way, leaves the target exactly as it was. */
START_TEST(test_queue_splice_empty)
{
	struct skb_queue from, to;
	struct sk_buff *a = t_skb(t_pool, 1, 0), *b = t_skb(t_pool, 2, 0);

	skb_queue_init(&from);
	skb_queue_init(&to);
	skb_queue_tail(&to, a);
	skb_queue_tail(&to, b);
	skb_queue_splice(&from, &to);
	T_ASSERT_QUEUE(&to, a, b);
	skb_queue_splice_head(&from, &to);
	T_ASSERT_QUEUE(&to, a, b);
	T_ASSERT_QUEUE_EMPTY(&from);
	ck_assert_uint_eq(skb_queue_purge(&to), 2);
}
END_TEST

/* purge frees every skb (clones too, their shared data once), counts them and empties the queue. */
START_TEST(test_queue_purge)
{
	struct skb_queue q;
	struct sk_buff *a = t_skb(t_pool, 100, 0), *b = t_skb(t_pool, 9000, 0), *c;

	c = skb_clone(a);
	ck_assert_ptr_nonnull(c);
	skb_queue_init(&q);
	skb_queue_tail(&q, a);
	skb_queue_tail(&q, b);
	skb_queue_tail(&q, c);
	ck_assert_uint_eq(skb_pool_in_use(t_pool), 3);
	ck_assert_uint_eq(skb_queue_purge(&q), 3);
	T_ASSERT_QUEUE_EMPTY(&q);
	T_ASSERT_STATS(t_pool, 3, 3, 0, 3, 0, 0);
	ck_assert_uint_eq(skb_queue_purge(&q), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("skb_queue");
	TCase *tc;

	tc = test_tcase("queue");
	tcase_add_test(tc, test_queue_empty);
	tcase_add_test(tc, test_queue_one);
	tcase_add_test(tc, test_queue_fifo);
	tcase_add_test(tc, test_queue_lifo);
	tcase_add_test(tc, test_queue_both_ends);
	tcase_add_test(tc, test_queue_insert_after);
	tcase_add_test(tc, test_queue_unlink);
	tcase_add_test(tc, test_queue_splice_onto_empty);
	tcase_add_test(tc, test_queue_splice_onto_nonempty);
	tcase_add_test(tc, test_queue_splice_empty);
	tcase_add_test(tc, test_queue_purge);
	suite_add_tcase(s, tc);

	return test_run(s);
}
