/*
 * test_tcp_idle.c - what an idle connection costs: no buffer, no timer, a fixed-size control block,
 * and nothing for the loop to do however many there are (the design goal of a million idle
 * connections in under 1 GB with no per-connection work per round).
 */
#include <errno.h>
#include <stdio.h>

#include "scenario.h"
#include "tcp.h"
#include "ustack/proto.h"

/* 10,000 established connections, idle: once the ARP entries have aged out, the stack's timer queue
 * is empty, a poll round has no deadline, and neither pool holds a buffer; the control block stays
 * within 576 bytes (a million of them: under 0.6 GB, plus the hash table). The bound was 512 until
 * congestion control got a per-connection area for its algorithm's state (tcp_sock.cc_priv, 24
 * bytes for CUBIC's W_max, K, t_epoch, W_est and cwnd_prior, RFC 9438) when the block had no room
 * left in it. */
START_TEST(test_tcp_idle_connections_cost_nothing)
{
	enum { N = 10000 };
	static struct us_tcp *cl[N], *sv[N];
	struct us_stack_config cfg = { .tcp_max_syn_backlog = 2 * N };
	struct two t;
	struct us_tcp *l;
	int err, accepted = 0;

	ck_assert_uint_le(sizeof(struct tcp_sock), 576);
	two_up(&t, NULL, &cfg);
	l = us_tcp_open(t.a);
	ck_assert_int_eq(us_tcp_bind(l, 0, 80), 0);
	ck_assert_int_eq(us_tcp_listen(l, N), 0);
	for (int i = 0; i < N; i++) {
		cl[i] = us_tcp_open(t.b);
		ck_assert_int_eq(us_tcp_connect(cl[i], A_IP, 80), -EINPROGRESS);
	}
	/* the accept queue holds at most 4,097 (the backlog is capped at 4,096 as Linux's somaxconn):
	 * accept as they come; the rest wait in SYN-RECEIVED and resend their SYN-ACKs */
	for (int round = 0; round < 40 && accepted < N; round++) {
		two_run(&t, 500 * US_NSEC_PER_MSEC);
		while (accepted < N && (sv[accepted] = us_tcp_accept(l, &err)) != NULL)
			accepted++;
	}
	ck_assert_int_eq(accepted, N);
	/* the neighbour entries expire (30 s REACHABLE, 60 s STALE); the connections stay */
	two_run(&t, 100 * US_NSEC_PER_SEC);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(us_tcp_state(cl[i]), 4);
		ck_assert_int_eq(us_tcp_state(sv[i]), 4);
	}
	ck_assert_uint_eq(timer_count(&t.a->timers), 0);
	ck_assert_uint_eq(timer_count(&t.b->timers), 0);
	ck_assert_uint_eq(us_stack_poll(t.a), US_TIME_NEVER);
	ck_assert_uint_eq(us_stack_poll(t.b), US_TIME_NEVER);
	ck_assert_uint_eq(skb_pool_in_use(us_stack_pool(t.a)), 0);
	ck_assert_uint_eq(skb_pool_in_use(us_stack_pool(t.b)), 0);
	ck_assert_uint_eq(t.a->tcp->count, N + 1); /* and the listener */
	printf("idle connection: %zu bytes of control block, no buffer, no timer\n", sizeof(struct tcp_sock));
	for (int i = 0; i < N; i++) {
		us_tcp_abort(cl[i]);
		us_tcp_abort(sv[i]);
	}
	us_tcp_close(l);
	two_run(&t, US_NSEC_PER_SEC);
	two_down(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_idle");
	TCase *tc = test_tcase("tcp_idle");

	tcase_add_test(tc, test_tcp_idle_connections_cost_nothing);
	suite_add_tcase(s, tc);
	return test_run(s);
}
