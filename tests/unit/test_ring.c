/*
 * test_ring.c - the SPSC pointer ring: sizes, full and empty behaviour, batches, wrap-around, and a
 * two-thread stress test of 10 million items checking order and count.
 */
#include <errno.h>
#include <pthread.h>

#include "test_util.h"

/* Sizes must be powers of two from 2 to 2^30. */
START_TEST(test_ring_sizes)
{
	static const uint32_t bad[] = { 0, 1, 3, 6, 100, (1u << 30) + 1, 1u << 31 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_ptr_null(ring_create(bad[i]));
		ck_assert_int_eq(errno, EINVAL);
	}
	for (uint32_t s = 2; s <= 4096; s *= 2) {
		struct ring *r = ring_create(s);
		ck_assert_ptr_nonnull(r);
		ck_assert_uint_eq(ring_capacity(r), s);
		ck_assert_uint_eq(ring_count(r), 0);
		ck_assert_uint_eq(ring_free_count(r), s);
		ring_destroy(r);
	}
	ring_destroy(NULL);
}
END_TEST

/* Every slot is usable; a full ring takes nothing more and an empty one gives nothing. */
START_TEST(test_ring_full_empty)
{
	struct ring *r = ring_create(8);
	uintptr_t v;
	void *out[16];

	ck_assert_ptr_null(ring_dequeue(r));
	ck_assert_uint_eq(ring_dequeue_burst(r, out, 16), 0);
	for (v = 1; v <= 8; v++)
		ck_assert_uint_eq(ring_enqueue(r, (void *)v), 1);
	ck_assert_uint_eq(ring_count(r), 8);
	ck_assert_uint_eq(ring_free_count(r), 0);
	ck_assert_uint_eq(ring_enqueue(r, (void *)99), 0);
	for (v = 1; v <= 8; v++)
		ck_assert_ptr_eq(ring_dequeue(r), (void *)v);
	ck_assert_ptr_null(ring_dequeue(r));
	ck_assert_uint_eq(ring_count(r), 0);
	ring_destroy(r);
}
END_TEST

/* A burst takes as many as fit, in order, and says how many; the rest stay with the caller. */
START_TEST(test_ring_partial_burst)
{
	struct ring *r = ring_create(16);
	void *in[20], *out[20];

	for (uintptr_t i = 0; i < 20; i++)
		in[i] = (void *)(i + 1);
	ck_assert_uint_eq(ring_enqueue_burst(r, in, 10), 10);
	ck_assert_uint_eq(ring_enqueue_burst(r, in + 10, 10), 6);
	ck_assert_uint_eq(ring_enqueue_burst(r, in + 16, 4), 0);
	ck_assert_uint_eq(ring_dequeue_burst(r, out, 5), 5);
	ck_assert_uint_eq(ring_enqueue_burst(r, in + 16, 4), 4);
	ck_assert_uint_eq(ring_dequeue_burst(r, out + 5, 20), 15);
	for (uintptr_t i = 0; i < 20; i++)
		ck_assert_ptr_eq(out[i], (void *)(i + 1));
	ck_assert_uint_eq(ring_enqueue_burst(r, in, 0), 0);
	ck_assert_uint_eq(ring_dequeue_burst(r, out, 0), 0);
	ring_destroy(r);
}
END_TEST

/* Indices wrap around 2^32 without losing count or order. */
START_TEST(test_ring_index_wrap)
{
	struct ring *r = ring_create(4);
	uintptr_t next_in = 1, next_out = 1;

	/* 2^32 / 3 rounds of 3 would take too long; instead drive many rounds of odd batch sizes,
	 * which moves the masked positions through every slot offset */
	for (int round = 0; round < 100000; round++) {
		void *in[3], *out[3];
		uint32_t k = (uint32_t)(round % 3) + 1, n;
		for (uint32_t i = 0; i < k; i++)
			in[i] = (void *)next_in++;
		ck_assert_uint_eq(ring_enqueue_burst(r, in, k), k);
		n = ring_dequeue_burst(r, out, 3);
		ck_assert_uint_eq(n, k);
		for (uint32_t i = 0; i < n; i++)
			ck_assert_ptr_eq(out[i], (void *)next_out++);
	}
	ring_destroy(r);
}
END_TEST

#define STRESS_ITEMS 10000000u
#define STRESS_BATCH 32u

struct stress {
	struct ring *r;
	uint64_t received;
	uint64_t out_of_order;
};

static void *stress_consumer(void *arg)
{
	struct stress *s = arg;
	uintptr_t expect = 1;
	void *out[STRESS_BATCH];

	while (expect <= STRESS_ITEMS) {
		uint32_t n = ring_dequeue_burst(s->r, out, STRESS_BATCH);
		for (uint32_t i = 0; i < n; i++) {
			if (out[i] != (void *)expect)
				s->out_of_order++;
			expect++;
		}
		s->received += n;
		if (n == 0)
			sched_yield();
	}
	return NULL;
}

/* One producer thread and one consumer thread pass 10 million items with varying batch sizes;
 * every item arrives, exactly once, in order. */
START_TEST(test_ring_two_thread_stress)
{
	struct stress s = { .r = ring_create(1024) };
	pthread_t th;
	uintptr_t next = 1;
	uint32_t batch = 1;

	ck_assert_ptr_nonnull(s.r);
	ck_assert_int_eq(pthread_create(&th, NULL, stress_consumer, &s), 0);
	while (next <= STRESS_ITEMS) {
		void *in[STRESS_BATCH];
		uint32_t k = batch, n;
		if (k > STRESS_ITEMS - next + 1)
			k = (uint32_t)(STRESS_ITEMS - next + 1);
		for (uint32_t i = 0; i < k; i++)
			in[i] = (void *)(next + i);
		n = ring_enqueue_burst(s.r, in, k);
		next += n;
		if (n == 0)
			sched_yield();
		batch = batch % STRESS_BATCH + 1;
	}
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_uint_eq(s.received, STRESS_ITEMS);
	ck_assert_uint_eq(s.out_of_order, 0);
	ck_assert_uint_eq(ring_count(s.r), 0);
	ring_destroy(s.r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = test_tcase("ring");

	tcase_add_test(tc, test_ring_sizes);
	tcase_add_test(tc, test_ring_full_empty);
	tcase_add_test(tc, test_ring_partial_burst);
	tcase_add_test(tc, test_ring_index_wrap);
	tcase_add_test(tc, test_ring_two_thread_stress);
	suite_add_tcase(s, tc);
	return test_run(s);
}
