/*
 * test_tcp_ports.c - local ports for connect (RFC 6056; Linux's __inet_hash_connect): a port chosen
 * at connect is shared by connections to different peers, since only the 4-tuple must be unique;
 * the ephemeral range toward one peer runs out with EADDRNOTAVAIL; and with tcp_tw_reuse a connect
 * may take over a TIME-WAIT 4-tuple when timestamps protect it (RFC 6191's reasoning, Linux's
 * tcp_twsk_unique), starting beyond the old connection's sequence space.
 */
#include <errno.h>
#include <stdlib.h>

#include "scenario.h"
#include "tcp.h"
#include "ustack/proto.h"

#define EPHEMERAL (60999 - 32768 + 1) /* Linux's ip_local_port_range, as the stack's */

struct fill {
	struct us_tcp **cl, **sv, *l80, *l81;
	int n;
};

/* Every ephemeral port toward a:80, established. */
static void fill_ports(struct two *t, struct fill *f)
{
	int err, accepted = 0;

	f->cl = calloc(EPHEMERAL, sizeof(*f->cl));
	f->sv = calloc(EPHEMERAL, sizeof(*f->sv));
	ck_assert_ptr_nonnull(f->cl);
	ck_assert_ptr_nonnull(f->sv);
	f->l80 = us_tcp_open(t->a);
	f->l81 = us_tcp_open(t->a);
	ck_assert_int_eq(us_tcp_bind(f->l80, 0, 80), 0);
	ck_assert_int_eq(us_tcp_bind(f->l81, 0, 81), 0);
	ck_assert_int_eq(us_tcp_listen(f->l80, 4096), 0);
	ck_assert_int_eq(us_tcp_listen(f->l81, 16), 0);
	for (int i = 0; i < EPHEMERAL; i++) {
		f->cl[i] = us_tcp_open(t->b);
		ck_assert_int_eq(us_tcp_connect(f->cl[i], A_IP, 80), -EINPROGRESS);
		if (i % 2048 == 2047 || i == EPHEMERAL - 1) {
			two_run(t, 10 * US_NSEC_PER_MSEC);
			while ((f->sv[accepted] = us_tcp_accept(f->l80, &err)) != NULL)
				accepted++;
		}
	}
	for (int round = 0; round < 40 && accepted < EPHEMERAL; round++) {
		two_run(t, 500 * US_NSEC_PER_MSEC);
		while (accepted < EPHEMERAL && (f->sv[accepted] = us_tcp_accept(f->l80, &err)) != NULL)
			accepted++;
	}
	ck_assert_int_eq(accepted, EPHEMERAL);
	f->n = EPHEMERAL;
}

static void fill_free(struct fill *f)
{
	for (int i = 0; i < f->n; i++) {
		us_tcp_abort(f->cl[i]);
		us_tcp_abort(f->sv[i]);
	}
	us_tcp_close(f->l80);
	us_tcp_close(f->l81);
	free(f->cl);
	free(f->sv);
}

/* 28,232 connections to a:80 hold every ephemeral port; one more to a:80 has no port left
 * (EADDRNOTAVAIL, as Linux), but a connection to a:81 still gets one: ports are per 4-tuple. */
START_TEST(test_connect_ports_per_peer)
{
	struct us_stack_config cfg = { .tcp_max_syn_backlog = 4096 };
	struct two t;
	struct fill f;
	struct us_tcp *x, *y;

	two_up(&t, NULL, &cfg);
	fill_ports(&t, &f);
	x = us_tcp_open(t.b);
	ck_assert_int_eq(us_tcp_connect(x, A_IP, 80), -EADDRNOTAVAIL);
	y = us_tcp_open(t.b);
	ck_assert_int_eq(us_tcp_connect(y, A_IP, 81), -EINPROGRESS);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_tcp_state(y), TCP_ESTABLISHED);
	us_tcp_abort(x);
	us_tcp_abort(y);
	fill_free(&f);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	two_down(&t);
}
END_TEST

/* Every port toward a:80 in TIME-WAIT (b closed first). Without tcp_tw_reuse a new connection must
 * wait out the 60 s; with it, once a second has passed since the last timestamp, the connect takes
 * over a TIME-WAIT 4-tuple, counts TCPTimeWaitRecycled, and starts beyond the old sequence space. */
static void tw_case(bool reuse)
{
	struct us_stack_config cfg = { .tcp_max_syn_backlog = 4096, .tcp_tw_reuse = reuse };
	struct two t;
	struct fill f;
	struct us_tcp *x;
	int r;

	two_up(&t, NULL, &cfg);
	fill_ports(&t, &f);
	for (int i = 0; i < f.n; i++)
		us_tcp_close(f.cl[i]); /* b closes first: b's side ends in TIME-WAIT */
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	for (int i = 0; i < f.n; i++)
		us_tcp_close(f.sv[i]);
	two_run(&t, 2 * US_NSEC_PER_SEC);
	x = us_tcp_open(t.b);
	r = us_tcp_connect(x, A_IP, 80);
	if (!reuse) {
		ck_assert_int_eq(r, -EADDRNOTAVAIL);
	} else {
		struct tcp_sock *tp = (struct tcp_sock *)x;

		ck_assert_int_eq(r, -EINPROGRESS);
		ck_assert_int_eq(t.b->stats.tcpext[TCPEXT_MIB_TCPTimeWaitRecycled], 1);
		ck_assert(tp->tw_iss_floor_set);
		ck_assert(seq_geq(tp->iss, tp->tw_iss_floor));
		two_run(&t, 10 * US_NSEC_PER_MSEC);
		ck_assert_int_eq(us_tcp_state(x), TCP_ESTABLISHED);
	}
	us_tcp_abort(x);
	free(f.cl);
	free(f.sv);
	us_tcp_close(f.l80);
	us_tcp_close(f.l81);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	two_down(&t);
}

/* A closed first, so a's side of b:40000 -> a:80 waits in TIME-WAIT; b connects again from the same
 * port a second later. b's TSvals toward a go on from the last connection's (RFC 7323 §5.4: the
 * offset is the address pair's), so a takes the SYN as a new incarnation (RFC 6191 §2) at once:
 * no ACK of the old connection answered by a RST (the RFC 1337 hazard), no SYN retransmission. Run
 * for several ports, since a random offset per connection got this right half the time. */
START_TEST(test_timewait_tsval_goes_on)
{
	struct two t;
	struct us_tcp *l, *c, *s;
	int err;

	two_up(&t, NULL, NULL);
	l = us_tcp_open(t.a);
	ck_assert_int_eq(us_tcp_bind(l, 0, 80), 0);
	ck_assert_int_eq(us_tcp_listen(l, 16), 0);
	for (uint16_t port = 40000; port < 40008; port++) {
		for (int round = 0; round < 2; round++) {
			uint64_t rsts = t.b->stats.tcp[TCP_MIB_OutRsts];
			uint64_t synre = t.b->stats.tcpext[TCPEXT_MIB_TCPSynRetrans];

			c = us_tcp_open(t.b);
			ck_assert_int_eq(us_tcp_bind(c, 0, port), 0);
			ck_assert_int_eq(us_tcp_connect(c, A_IP, 80), -EINPROGRESS);
			two_run(&t, 5 * US_NSEC_PER_MSEC);
			ck_assert_int_eq(us_tcp_state(c), TCP_ESTABLISHED);
			ck_assert_uint_eq(t.b->stats.tcp[TCP_MIB_OutRsts], rsts);
			ck_assert_uint_eq(t.b->stats.tcpext[TCPEXT_MIB_TCPSynRetrans], synre);
			s = us_tcp_accept(l, &err);
			ck_assert_ptr_nonnull(s);
			us_tcp_close(s); /* a first: a's side ends in TIME-WAIT */
			two_run(&t, 5 * US_NSEC_PER_MSEC);
			us_tcp_close(c);
			two_run(&t, US_NSEC_PER_SEC);
		}
	}
	/* every second connection found its 4-tuple in TIME-WAIT at a and took it over */
	ck_assert_uint_eq(t.a->stats.tcpext[TCPEXT_MIB_TCPTimeWaitRecycled], 8);
	us_tcp_close(l);
	two_run(&t, 61 * US_NSEC_PER_SEC);
	two_down(&t);
}
END_TEST

START_TEST(test_timewait_no_reuse)
{
	tw_case(false);
}
END_TEST

START_TEST(test_timewait_reuse)
{
	tw_case(true);
}
END_TEST

static Suite *ports_suite(void)
{
	Suite *s = suite_create("tcp_ports");
	TCase *tc = tcase_create("ports");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_connect_ports_per_peer);
	tcase_add_test(tc, test_timewait_no_reuse);
	tcase_add_test(tc, test_timewait_reuse);
	tcase_add_test(tc, test_timewait_tsval_goes_on);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run(ports_suite());
}
