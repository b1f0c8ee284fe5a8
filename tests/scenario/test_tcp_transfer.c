/*
 * test_tcp_transfer.c - TCP between two stacks on a pair wire, on virtual time: the three-way
 * handshake, bulk data both ways byte for byte, every close sequence of RFC 9293 §3.6 down to
 * CLOSED, and the same transfers through a lossy, reordering, duplicating, corrupting wire.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scenario.h"
#include "ustack/proto.h"

enum { ST_CLOSED = 0, ST_LISTEN, ST_SYN_SENT, ST_SYN_RECEIVED, ST_ESTABLISHED, ST_FIN_WAIT_1,
       ST_FIN_WAIT_2, ST_CLOSE_WAIT, ST_CLOSING, ST_LAST_ACK, ST_TIME_WAIT };

/* Pattern bytes: byte i of stream s. */
static uint8_t pat(uint32_t s, uint64_t i)
{
	return (uint8_t)((i * 131 + s * 7 + (i >> 11)) & 0xff);
}

struct conn {
	struct us_tcp *listener, *server, *client;
};

/* a listens on 5000, b connects: both ESTABLISHED. */
static void connect_pair(struct two *t, struct conn *c)
{
	int err;

	c->listener = us_tcp_open(t->a);
	ck_assert_int_eq(us_tcp_bind(c->listener, 0, 5000), 0);
	ck_assert_int_eq(us_tcp_listen(c->listener, 8), 0);
	c->client = us_tcp_open(t->b);
	ck_assert_int_eq(us_tcp_connect(c->client, A_IP, 5000), -EINPROGRESS);
	ck_assert_int_eq(us_tcp_state(c->client), ST_SYN_SENT);
	two_run(t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_tcp_state(c->client), ST_ESTABLISHED);
	ck_assert(us_tcp_events(c->client) & US_TCP_EV_WRITABLE);
	ck_assert(us_tcp_events(c->listener) & US_TCP_EV_READABLE);
	c->server = us_tcp_accept(c->listener, &err);
	ck_assert_ptr_nonnull(c->server);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(us_tcp_state(c->server), ST_ESTABLISHED);
	ck_assert_ptr_null(us_tcp_accept(c->listener, &err));
	ck_assert_int_eq(err, -EAGAIN);
}

/* Move n bytes from `from` to `to` with the pattern of stream s, reading as it arrives; returns
 * the virtual time it took. Fails on any byte out of place. */
static uint64_t transfer(struct two *t, struct us_tcp *from, struct us_tcp *to, uint64_t n, uint32_t s,
			 uint64_t limit_ns)
{
	static uint8_t buf[65536];
	uint64_t sent = 0, got = 0, start = us_clock_now(&t->clock);

	while (got < n) {
		while (sent < n) {
			uint32_t k = n - sent < sizeof(buf) ? (uint32_t)(n - sent) : sizeof(buf);
			int r;
			for (uint32_t i = 0; i < k; i++)
				buf[i] = pat(s, sent + i);
			r = us_tcp_send(from, buf, k);
			if (r == -EAGAIN)
				break;
			ck_assert_int_gt(r, 0);
			sent += (uint64_t)r;
		}
		two_run(t, US_NSEC_PER_MSEC);
		for (;;) {
			int r = us_tcp_recv(to, buf, sizeof(buf));
			if (r == -EAGAIN)
				break;
			ck_assert_int_gt(r, 0);
			for (int i = 0; i < r; i++)
				if (buf[i] != pat(s, got + (uint64_t)i))
					ck_abort_msg("stream %u byte %llu: got %u, want %u", s,
						     (unsigned long long)(got + (uint64_t)i), buf[i],
						     pat(s, got + (uint64_t)i));
			got += (uint64_t)r;
		}
		ck_assert_msg(us_clock_now(&t->clock) - start < limit_ns,
			      "transfer stalled: %llu of %llu bytes after %llu ms", (unsigned long long)got,
			      (unsigned long long)n,
			      (unsigned long long)((us_clock_now(&t->clock) - start) / US_NSEC_PER_MSEC));
	}
	return us_clock_now(&t->clock) - start;
}

/* RFC 9293 §3.5 three-way handshake; options negotiated (MSS, window scale, timestamps,
 * SACK-permitted); then 4 MB each way, byte for byte; then a normal close from the client
 * (§3.6 case 1): client FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT, server CLOSE-WAIT -> LAST-ACK ->
 * CLOSED, and after 2 MSL the client is CLOSED too. */
START_TEST(test_tcp_bulk_and_close)
{
	struct two t;
	struct conn c;
	struct us_tcp_info ia, ib;
	uint8_t b1;

	two_up(&t, NULL, NULL);
	connect_pair(&t, &c);
	us_tcp_info(c.server, &ia);
	us_tcp_info(c.client, &ib);
	ck_assert_uint_eq(ia.snd_mss, 1448); /* 1500 - 40 - 12 for timestamps */
	ck_assert_uint_eq(ib.snd_mss, 1448);
	ck_assert(ia.ts_ok && ib.ts_ok && ia.sack_ok && ib.sack_ok);
	ck_assert_uint_eq(ia.snd_wscale, ib.rcv_wscale);
	ck_assert_int_eq(us_stats_get(t.a, "Tcp", "PassiveOpens"), 1);
	ck_assert_int_eq(us_stats_get(t.b, "Tcp", "ActiveOpens"), 1);
	ck_assert_int_eq(us_stats_get(t.a, "Tcp", "CurrEstab"), 1);

	transfer(&t, c.client, c.server, 4u << 20, 1, 60 * US_NSEC_PER_SEC);
	transfer(&t, c.server, c.client, 4u << 20, 2, 60 * US_NSEC_PER_SEC);
	ck_assert_int_eq(us_stats_get(t.a, "Tcp", "RetransSegs"), 0);
	/* on a clean wire nearly every segment takes the header-prediction fast path */
	ck_assert_int_gt(us_stats_get(t.a, "TcpExt", "TCPHPHits"), 2500);
	ck_assert_int_gt(us_stats_get(t.b, "TcpExt", "TCPHPAcks"), 1000);

	ck_assert_int_eq(us_tcp_shutdown(c.client, 1), 0);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_tcp_state(c.client), ST_FIN_WAIT_2);
	ck_assert_int_eq(us_tcp_state(c.server), ST_CLOSE_WAIT);
	ck_assert_int_eq(us_tcp_recv(c.server, &b1, 1), 0); /* end of stream */
	ck_assert_int_eq(us_tcp_send(c.client, "x", 1), -EPIPE);
	us_tcp_close(c.server);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_tcp_state(c.client), ST_TIME_WAIT);
	ck_assert_int_eq(us_tcp_recv(c.client, &b1, 1), 0);
	ck_assert_int_eq(us_stats_get(t.a, "Tcp", "CurrEstab"), 0);
	two_run(&t, 60 * US_NSEC_PER_SEC - 20 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_tcp_state(c.client), ST_TIME_WAIT);
	two_run(&t, 20 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_tcp_state(c.client), ST_CLOSED); /* 2 MSL = 60 s */
	us_tcp_close(c.client);
	us_tcp_close(c.listener);
	two_down(&t);
}
END_TEST

/* §3.6 case 2, simultaneous close: both FIN-WAIT-1 -> CLOSING -> TIME-WAIT. */
START_TEST(test_tcp_simultaneous_close)
{
	struct two t;
	struct conn c;

	two_up(&t, NULL, NULL);
	connect_pair(&t, &c);
	ck_assert_int_eq(us_tcp_shutdown(c.client, 1), 0);
	ck_assert_int_eq(us_tcp_shutdown(c.server, 1), 0);
	ck_assert_int_eq(us_tcp_state(c.client), ST_FIN_WAIT_1);
	ck_assert_int_eq(us_tcp_state(c.server), ST_FIN_WAIT_1);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_tcp_state(c.client), ST_TIME_WAIT);
	ck_assert_int_eq(us_tcp_state(c.server), ST_TIME_WAIT);
	us_tcp_close(c.client);
	us_tcp_close(c.server);
	us_tcp_close(c.listener);
	two_run(&t, 61 * US_NSEC_PER_SEC);
	two_down(&t);
}
END_TEST

/* §3.10.7.1: a SYN to a port nobody listens on is refused with a reset; the client sees
 * ECONNREFUSED. */
START_TEST(test_tcp_refused)
{
	struct two t;
	struct us_tcp *cl;

	two_up(&t, NULL, NULL);
	cl = us_tcp_open(t.b);
	ck_assert_int_eq(us_tcp_connect(cl, A_IP, 4444), -EINPROGRESS);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_tcp_state(cl), ST_CLOSED);
	ck_assert(us_tcp_events(cl) & US_TCP_EV_ERROR);
	ck_assert_int_eq(us_tcp_error(cl), -ECONNREFUSED);
	ck_assert_int_eq(us_stats_get(t.a, "Tcp", "OutRsts"), 1);
	ck_assert_int_eq(us_stats_get(t.b, "Tcp", "AttemptFails"), 1);
	us_tcp_close(cl);
	two_down(&t);
}
END_TEST

/* An abort sends a reset (§3.10.5): the peer's next receive says ECONNRESET. */
START_TEST(test_tcp_abort)
{
	struct two t;
	struct conn c;
	uint8_t b;

	two_up(&t, NULL, NULL);
	connect_pair(&t, &c);
	us_tcp_abort(c.server);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_tcp_state(c.client), ST_CLOSED);
	ck_assert_int_eq(us_tcp_recv(c.client, &b, 1), -ECONNRESET);
	ck_assert_int_eq(us_stats_get(t.b, "Tcp", "EstabResets"), 1);
	us_tcp_close(c.client);
	us_tcp_close(c.listener);
	two_down(&t);
}
END_TEST

/* Through a bad wire (2 % loss, 2 % reordered, 1 % duplicated, 0.1 % corrupted, both ways) 2 MB
 * each way still arrive byte for byte; corrupted segments are dropped by the checksum. */
START_TEST(test_tcp_faulty_wire)
{
	struct netdev_fault_config fc = { .seed = 11, .drop = 0.02, .reorder = 0.02, .duplicate = 0.01,
					  .corrupt = 0.001 };
	struct two t;
	struct conn c;

	two_up(&t, &fc, NULL);
	connect_pair(&t, &c);
	transfer(&t, c.client, c.server, 2u << 20, 3, 600 * US_NSEC_PER_SEC);
	transfer(&t, c.server, c.client, 2u << 20, 4, 600 * US_NSEC_PER_SEC);
	ck_assert_int_gt(us_stats_get(t.a, "Tcp", "RetransSegs") + us_stats_get(t.b, "Tcp", "RetransSegs"), 0);
	us_tcp_close(c.client);
	us_tcp_close(c.server);
	two_run(&t, 120 * US_NSEC_PER_SEC);
	us_tcp_close(c.listener);
	two_down(&t);
}
END_TEST

/* One 50 MB transfer b -> a at a random loss rate, with or without SACK; its virtual time and the
 * sender's retransmissions. */
static void lossy_transfer(double loss, bool sack, uint64_t *ns, int64_t *retrans, int64_t *rtos)
{
	struct netdev_fault_config fc = { .seed = 5, .drop = loss };
	struct us_stack_config cfg = { .tcp_no_sack = !sack, .tcp_rmem = 1u << 20, .tcp_wmem = 1u << 20 };
	struct two t;
	struct conn c;

	two_up(&t, &fc, &cfg);
	/* the handshake itself may lose a segment: give it the retransmissions it needs */
	c.listener = us_tcp_open(t.a);
	ck_assert_int_eq(us_tcp_bind(c.listener, 0, 5000), 0);
	ck_assert_int_eq(us_tcp_listen(c.listener, 8), 0);
	c.client = us_tcp_open(t.b);
	ck_assert_int_eq(us_tcp_connect(c.client, A_IP, 5000), -EINPROGRESS);
	c.server = NULL;
	for (int i = 0; i < 600 && !c.server; i++) {
		int err;
		two_run(&t, 100 * US_NSEC_PER_MSEC);
		c.server = us_tcp_accept(c.listener, &err);
	}
	ck_assert_ptr_nonnull(c.server);
	*ns = transfer(&t, c.client, c.server, 50u << 20, 9, 3600 * US_NSEC_PER_SEC);
	*retrans = us_stats_get(t.b, "Tcp", "RetransSegs");
	*rtos = us_stats_get(t.b, "TcpExt", "TCPTimeouts");
	if (sack)
		ck_assert_int_gt(us_stats_get(t.b, "TcpExt", "TCPSackRecovery"), 0);
	else
		ck_assert_int_eq(us_stats_get(t.b, "TcpExt", "TCPSackRecovery"), 0);
	us_tcp_abort(c.client);
	us_tcp_abort(c.server);
	us_tcp_close(c.listener);
	two_run(&t, US_NSEC_PER_SEC);
	two_down(&t);
}

/* RFC 6675 against RFC 6582: at 1 % and at 5 % random loss, the same 50 MB (every byte checked)
 * takes SACK-based recovery strictly fewer retransmissions and less time than NewReno without SACK,
 * which can mend only one hole per round trip. */
START_TEST(test_tcp_sack_beats_newreno)
{
	const double rates[] = { 0.01, 0.05 };

	for (int i = 0; i < 2; i++) {
		uint64_t t_sack, t_reno;
		int64_t r_sack, r_reno, o_sack, o_reno;

		lossy_transfer(rates[i], true, &t_sack, &r_sack, &o_sack);
		lossy_transfer(rates[i], false, &t_reno, &r_reno, &o_reno);
		printf("50 MB at %.0f%% loss: SACK %.1f s, %lld retransmissions, %lld timeouts; NewReno "
		       "%.1f s, %lld retransmissions, %lld timeouts\n",
		       rates[i] * 100, (double)t_sack / 1e9, (long long)r_sack, (long long)o_sack,
		       (double)t_reno / 1e9, (long long)r_reno, (long long)o_reno);
		ck_assert_uint_lt(t_sack, t_reno);
		ck_assert_int_lt(r_sack, r_reno);
	}
}
END_TEST

/* 1,000 connections at once: opened, each used for a request and an answer, closed from either
 * side; every one reaches CLOSED (through TIME-WAIT where RFC 9293 §3.6 puts it) and nothing is left
 * in any pool. */
START_TEST(test_tcp_thousand_connections)
{
	enum { N = 1000 };
	static struct us_tcp *cl[N], *sv[N];
	/* room for every half-open connection at once (the default of 256 would make the rest
	 * retry, as Linux's tcp_max_syn_backlog does) */
	struct us_stack_config cfg = { .tcp_max_syn_backlog = 2 * N };
	struct two t;
	struct us_tcp *l;
	uint8_t b[64];
	int err, accepted = 0;

	two_up(&t, NULL, &cfg);
	l = us_tcp_open(t.a);
	ck_assert_int_eq(us_tcp_bind(l, 0, 80), 0);
	ck_assert_int_eq(us_tcp_listen(l, N), 0);
	for (int i = 0; i < N; i++) {
		cl[i] = us_tcp_open(t.b);
		ck_assert_int_eq(us_tcp_connect(cl[i], A_IP, 80), -EINPROGRESS);
	}
	/* only 16 SYNs wait for the first ARP reply (arp_max_queued); the rest are sent again after
	 * the initial RTO of 1 s (RFC 6298 §2.1) */
	two_run(&t, 1500 * US_NSEC_PER_MSEC);
	while (accepted < N && (sv[accepted] = us_tcp_accept(l, &err)) != NULL)
		accepted++;
	ck_assert_int_eq(accepted, N);
	ck_assert_int_eq(us_stats_get(t.a, "Tcp", "CurrEstab"), N);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(us_tcp_send(cl[i], "ping", 4), 4);
	two_run(&t, 50 * US_NSEC_PER_MSEC);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(us_tcp_recv(sv[i], b, sizeof(b)), 4);
		ck_assert_int_eq(us_tcp_send(sv[i], "pong", 4), 4);
	}
	two_run(&t, 50 * US_NSEC_PER_MSEC);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(us_tcp_recv(cl[i], b, sizeof(b)), 4);
		ck_assert_mem_eq(b, "pong", 4);
		/* half close from the client side, half from the server side */
		us_tcp_close(i % 2 ? cl[i] : sv[i]);
	}
	two_run(&t, 50 * US_NSEC_PER_MSEC);
	for (int i = 0; i < N; i++) {
		struct us_tcp *other = i % 2 ? sv[i] : cl[i];
		ck_assert_int_eq(us_tcp_recv(other, b, sizeof(b)), 0);
		us_tcp_close(other);
	}
	two_run(&t, 50 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_stats_get(t.a, "Tcp", "CurrEstab"), 0);
	ck_assert_int_eq(us_stats_get(t.b, "Tcp", "CurrEstab"), 0);
	/* the closing side of each pair waits 2 MSL in TIME-WAIT, then everything is gone */
	two_run(&t, 61 * US_NSEC_PER_SEC);
	ck_assert_int_eq(us_stats_get(t.a, "TcpExt", "TW") + us_stats_get(t.b, "TcpExt", "TW"), N);
	us_tcp_close(l);
	two_down(&t);
}
END_TEST

/* 100 MB each way over a clean wire, then the same through the bad wire of test_tcp_faulty_wire,
 * byte for byte (RFC 9293 §3.8 reliability). */
START_TEST(test_tcp_100mb)
{
	struct netdev_fault_config fc = { .seed = 12, .drop = 0.02, .reorder = 0.02, .duplicate = 0.01,
					  .corrupt = 0.001 };
	struct two t;
	struct conn c;
	uint64_t clean, faulty;

	two_up(&t, NULL, NULL);
	connect_pair(&t, &c);
	clean = transfer(&t, c.client, c.server, 100u << 20, 5, 3600 * US_NSEC_PER_SEC);
	clean += transfer(&t, c.server, c.client, 100u << 20, 6, 3600 * US_NSEC_PER_SEC);
	us_tcp_close(c.client);
	us_tcp_close(c.server);
	us_tcp_close(c.listener);
	two_run(&t, 61 * US_NSEC_PER_SEC);
	two_down(&t);

	two_up(&t, &fc, NULL);
	connect_pair(&t, &c);
	faulty = transfer(&t, c.client, c.server, 100u << 20, 7, 36000 * US_NSEC_PER_SEC);
	faulty += transfer(&t, c.server, c.client, 100u << 20, 8, 36000 * US_NSEC_PER_SEC);
	printf("100 MB each way: %.1f s virtual on a clean wire, %.1f s through 2%% loss\n",
	       (double)clean / 1e9, (double)faulty / 1e9);
	us_tcp_close(c.client);
	us_tcp_close(c.server);
	us_tcp_close(c.listener);
	two_run(&t, 121 * US_NSEC_PER_SEC);
	two_down(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_transfer");
	TCase *tc = test_tcase("tcp_transfer");

	tcase_add_test(tc, test_tcp_bulk_and_close);
	tcase_add_test(tc, test_tcp_simultaneous_close);
	tcase_add_test(tc, test_tcp_refused);
	tcase_add_test(tc, test_tcp_abort);
	tcase_add_test(tc, test_tcp_faulty_wire);
	tcase_add_test(tc, test_tcp_thousand_connections);
	tcase_add_test(tc, test_tcp_100mb);
	tcase_add_test(tc, test_tcp_sack_beats_newreno);
	suite_add_tcase(s, tc);
	return test_run(s);
}
