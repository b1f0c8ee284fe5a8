/*
 * test_util.h - what every Check suite shares: a pool and a virtual clock per test, a teardown that
 * fails the test if any skb is left in use (so every test is a leak test), and a main() helper.
 */
#ifndef USTACK_TEST_UTIL_H
#define USTACK_TEST_UTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "ustack/ustack.h"

/* Set by test_setup(), checked and destroyed by test_teardown(). */
extern struct skb_pool *t_pool;
extern struct us_clock t_clock;

void test_setup(void);
void test_teardown(void);
/* A TCase with test_setup/test_teardown as checked fixtures. */
TCase *test_tcase(const char *name);
/* Run a suite, print its summary, and return the process exit status. */
int test_run(Suite *s);
/* A frame of `len` bytes: dst, src, ethertype, then bytes seq, seq+1, ... Returns a new skb with
 * SKB_MAX_HEADER of headroom. */
struct sk_buff *test_frame(struct skb_pool *pool, uint32_t len, uint8_t seq);
/* True when the skb holds exactly what test_frame(len, seq) built. */
int test_frame_is(const struct sk_buff *skb, uint32_t len, uint8_t seq);

#endif
