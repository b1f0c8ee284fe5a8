/*
 * test_util.c - fixtures shared by the Check suites.
 */
#include "test_util.h"

#include <string.h>

struct skb_pool *t_pool;
struct us_clock t_clock;

void test_setup(void)
{
	t_pool = skb_pool_create(NULL);
	ck_assert_ptr_nonnull(t_pool);
	us_clock_init_virtual(&t_clock, 1000 * US_NSEC_PER_SEC);
}

void test_teardown(void)
{
	struct skb_pool_stats st;

	skb_pool_get_stats(t_pool, &st);
	ck_assert_msg(st.in_use == 0, "%llu skbs still in use at teardown",
		      (unsigned long long)st.in_use);
	ck_assert_uint_eq(st.allocated, st.freed);
	ck_assert_uint_eq(st.data_bytes, 0);
	ck_assert_uint_eq(skb_pool_destroy(t_pool), 0);
	t_pool = NULL;
}

TCase *test_tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, test_setup, test_teardown);
	tcase_set_timeout(tc, 120);
	return tc;
}

int test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

struct sk_buff *test_frame(struct skb_pool *pool, uint32_t len, uint8_t seq)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 }, src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	struct sk_buff *skb = skb_alloc(pool, SKB_MAX_HEADER + len);
	uint8_t *p;

	if (!skb)
		return NULL;
	skb_reserve(skb, SKB_MAX_HEADER);
	p = skb_put(skb, len);
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seq + i);
	if (len >= ETH_HLEN) {
		memcpy(p, dst, 6);
		memcpy(p + 6, src, 6);
		p[12] = 0x88; /* IEEE 802 local experimental ethertype 0x88b5 */
		p[13] = 0xb5;
	}
	return skb;
}

int test_frame_is(const struct sk_buff *skb, uint32_t len, uint8_t seq)
{
	if (skb->len != len)
		return 0;
	for (uint32_t i = ETH_HLEN; i < len; i++)
		if (skb->data[i] != (uint8_t)(seq + i))
			return 0;
	return 1;
}
