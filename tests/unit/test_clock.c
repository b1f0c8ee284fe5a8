/*
 * test_clock.c - the monotonic and virtual clocks.
 */
#include <errno.h>
#include <time.h>

#include "test_util.h"

/* The virtual clock stands still until moved, moves forward only, and refuses to overflow. */
START_TEST(test_clock_virtual)
{
	struct us_clock c;

	us_clock_init_virtual(&c, 5);
	ck_assert_uint_eq(us_clock_now(&c), 5);
	ck_assert_uint_eq(us_clock_now(&c), 5);
	ck_assert_int_eq(us_clock_advance(&c, 10), 0);
	ck_assert_uint_eq(us_clock_now(&c), 15);
	ck_assert_int_eq(us_clock_set(&c, 100), 0);
	ck_assert_uint_eq(us_clock_now(&c), 100);
	ck_assert_int_eq(us_clock_set(&c, 99), -EINVAL);
	ck_assert_uint_eq(us_clock_now(&c), 100);
	ck_assert_int_eq(us_clock_set(&c, 100), 0);
	ck_assert_int_eq(us_clock_advance(&c, UINT64_MAX), -EINVAL);
	ck_assert_uint_eq(us_clock_now(&c), 100);
}
END_TEST

/* The monotonic clock follows CLOCK_MONOTONIC, never goes back, and cannot be set. */
START_TEST(test_clock_monotonic)
{
	struct us_clock c;
	struct timespec ts;
	uint64_t a, b, k;

	us_clock_init_monotonic(&c);
	a = us_clock_now(&c);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	k = (uint64_t)ts.tv_sec * US_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	b = us_clock_now(&c);
	ck_assert_uint_le(a, k);
	ck_assert_uint_le(k, b);
	ck_assert_int_eq(us_clock_set(&c, b + 1000), -EINVAL);
	ck_assert_int_eq(us_clock_advance(&c, 1000), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = test_tcase("clock");

	tcase_add_test(tc, test_clock_virtual);
	tcase_add_test(tc, test_clock_monotonic);
	suite_add_tcase(s, tc);
	return test_run(s);
}
