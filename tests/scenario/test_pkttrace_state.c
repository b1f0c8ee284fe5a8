/*
 * test_pkttrace_state.c - the packet trace's TCP state lines: whole connections between two stacks
 * on a pair wire (a at 198.18.0.1 listening on port 80, b at 198.18.0.2 connecting from port 40000),
 * each stack tracing into its own open_memstream, and the state changes each wrote, with their
 * reasons, checked line by line against RFC 9293 §3.3.2's diagram: the handshake, a close from the
 * client, a close from the server, both at once (CLOSING), an abort and the reset it sends, a refused
 * connect, an orphan left in FIN-WAIT-2, data for a closed socket, a connection made from a SYN
 * cookie, a keepalive that gives up and a connect whose SYNs go unanswered. Then the switch itself, thrown from another thread while both stacks run in their own
 * threads and 4 MB go through them: every line whole, no write to a FILE after the switch let go of
 * it (ASan would see the freed FILE).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "ustack/proto.h"
#include "ustack/socket.h"

struct traced {
	FILE *fp;
	char *buf;
	size_t len, pos;
};

static struct two t;
static struct traced ta, tb;

static void traced_open(struct traced *x, struct us_stack *st)
{
	memset(x, 0, sizeof(*x));
	x->fp = open_memstream(&x->buf, &x->len);
	ck_assert_ptr_nonnull(x->fp);
	ck_assert_int_eq(us_pkttrace_set(st, x->fp, 0), 0);
}

static void traced_close(struct traced *x, struct us_stack *st)
{
	us_pkttrace_set(st, NULL, 0);
	fclose(x->fp);
	free(x->buf);
}

/* The state lines x got since the last call, without their time, are exactly want[0..n). */
static void expect_states(struct traced *x, const char *who, const char *const *want, int n)
{
	int i = 0;

	fflush(x->fp);
	while (x->pos < x->len) {
		char *line = x->buf + x->pos, *nl = memchr(line, '\n', x->len - x->pos);
		char *rest;

		ck_assert_ptr_nonnull(nl);
		*nl = '\0';
		x->pos = (size_t)(nl - x->buf) + 1;
		rest = strchr(line, ' ');
		ck_assert_ptr_nonnull(rest);
		if (strncmp(rest, " TCP ", 5) != 0)
			continue; /* a frame's line */
		ck_assert_msg(i < n, "%s: an extra state line \"%s\"", who, line);
		ck_assert_msg(strcmp(rest + 1, want[i]) == 0, "%s: \"%s\", expected \"%s\"", who, rest + 1,
			      want[i]);
		i++;
	}
	ck_assert_msg(i == n, "%s: %d state lines, %d expected", who, i, n);
}

#define EXPECT_A(...)                                                                   \
	do {                                                                            \
		const char *const w_[] = { __VA_ARGS__ };                               \
		expect_states(&ta, "a", w_, (int)(sizeof(w_) / sizeof(w_[0])));         \
	} while (0)
#define EXPECT_B(...)                                                                   \
	do {                                                                            \
		const char *const w_[] = { __VA_ARGS__ };                               \
		expect_states(&tb, "b", w_, (int)(sizeof(w_) / sizeof(w_[0])));         \
	} while (0)

#define SV "TCP 198.18.0.1:80 > 198.18.0.2:40000 " /* a's side of the connection */
#define CL "TCP 198.18.0.2:40000 > 198.18.0.1:80 " /* b's */

static void setup(void)
{
	test_setup();
	two_up(&t, NULL, NULL);
	traced_open(&ta, t.a);
	traced_open(&tb, t.b);
}

/* The two stacks again, with cfg. */
static void restart(const struct us_stack_config *cfg)
{
	traced_close(&ta, t.a);
	traced_close(&tb, t.b);
	two_down(&t);
	two_up(&t, NULL, cfg);
	traced_open(&ta, t.a);
	traced_open(&tb, t.b);
}

static void teardown(void)
{
	two_run(&t, 200 * US_NSEC_PER_SEC); /* whatever is left, ends */
	traced_close(&ta, t.a);
	traced_close(&tb, t.b);
	two_down(&t);
	test_teardown();
}

#define LISTEN_LINE "TCP 0.0.0.0:80 > 0.0.0.0:0 CLOSED -> LISTEN (user listen)"

/* a's listener on port 80. */
static struct us_tcp *listen_a(void)
{
	struct us_tcp *l = us_tcp_open(t.a);

	ck_assert_int_eq(us_tcp_bind(l, 0, 80), 0);
	ck_assert_int_eq(us_tcp_listen(l, 4), 0);
	return l;
}

/* b connects from port 40000 to a's listener l: *c b's side, *s a's accepted side. b's state lines
 * are checked here, a's (which depend on how a made its side) by the caller. */
static void connect_b(struct us_tcp *l, struct us_tcp **s, struct us_tcp **c)
{
	int err;

	*c = us_tcp_open(t.b);
	ck_assert_int_eq(us_tcp_bind(*c, 0, 40000), 0);
	ck_assert_int_eq(us_tcp_connect(*c, A_IP, 80), -EINPROGRESS);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	*s = us_tcp_accept(l, &err);
	ck_assert_ptr_nonnull(*s);
	EXPECT_B(CL "CLOSED -> SYN-SENT (user connect)",
		 CL "SYN-SENT -> ESTABLISHED (rcv SYN-ACK)");
}

/* An established connection: *l the listener, *s a's accepted side, *c b's. */
static void connect_pair(struct us_tcp **l, struct us_tcp **s, struct us_tcp **c)
{
	*l = listen_a();
	connect_b(*l, s, c);
	EXPECT_A(LISTEN_LINE,
		 SV "CLOSED -> SYN-RECEIVED (rcv SYN)",
		 SV "SYN-RECEIVED -> ESTABLISHED (rcv ACK of SYN)");
}

/* a closes its side first, and b's stack ACKs the FIN: a in FIN-WAIT-2, b in CLOSE-WAIT. */
static void a_closes(struct us_tcp *s)
{
	us_tcp_close(s);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	EXPECT_A(SV "ESTABLISHED -> FIN-WAIT-1 (user close)",
		 SV "FIN-WAIT-1 -> FIN-WAIT-2 (rcv ACK of FIN)");
	EXPECT_B(CL "ESTABLISHED -> CLOSE-WAIT (rcv FIN)");
}

/* b closes its side first: b in FIN-WAIT-2, a in CLOSE-WAIT. */
static void b_closes(struct us_tcp *c)
{
	us_tcp_close(c);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	EXPECT_B(CL "ESTABLISHED -> FIN-WAIT-1 (user close)",
		 CL "FIN-WAIT-1 -> FIN-WAIT-2 (rcv ACK of FIN)");
	EXPECT_A(SV "ESTABLISHED -> CLOSE-WAIT (rcv FIN)");
}

/* b aborts: its reset closes a's side too; then a's socket and listener are closed, with no more
 * state lines. */
static void b_aborts(struct us_tcp *l, struct us_tcp *s, struct us_tcp *c)
{
	us_tcp_abort(c);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	EXPECT_B(CL "ESTABLISHED -> CLOSED (abort)");
	EXPECT_A(SV "ESTABLISHED -> CLOSED (rcv RST)");
	us_tcp_close(s);
	us_tcp_close(l);
	EXPECT_A();
}

/* Some bytes each way: no state changes. */
static void exchange(struct us_tcp *s, struct us_tcp *c)
{
	char buf[64];

	ck_assert_int_eq(us_tcp_send(c, "GET /", 5), 5);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_tcp_recv(s, buf, sizeof(buf)), 5);
	ck_assert_int_eq(us_tcp_send(s, "200 OK", 6), 6);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_tcp_recv(c, buf, sizeof(buf)), 6);
	EXPECT_A();
	EXPECT_B();
}

START_TEST(test_client_closes_first)
{
	struct us_tcp *l, *s, *c;

	connect_pair(&l, &s, &c);
	exchange(s, c);
	b_closes(c);
	us_tcp_close(s);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	EXPECT_A(SV "CLOSE-WAIT -> LAST-ACK (user close)",
		 SV "LAST-ACK -> CLOSED (rcv ACK of FIN)");
	EXPECT_B(CL "FIN-WAIT-2 -> TIME-WAIT (rcv FIN)");
	two_run(&t, 61 * US_NSEC_PER_SEC); /* 2 MSL, MSL 30 s */
	EXPECT_B(CL "TIME-WAIT -> CLOSED (2MSL timeout)");
	us_tcp_close(l);
	EXPECT_A();
}
END_TEST

START_TEST(test_server_closes_first)
{
	struct us_tcp *l, *s, *c;
	char buf[8];

	connect_pair(&l, &s, &c);
	exchange(s, c);
	a_closes(s);
	ck_assert_int_eq(us_tcp_recv(c, buf, sizeof(buf)), 0); /* EOF */
	ck_assert_int_eq(us_tcp_shutdown(c, 1), 0);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	EXPECT_B(CL "CLOSE-WAIT -> LAST-ACK (user shutdown)",
		 CL "LAST-ACK -> CLOSED (rcv ACK of FIN)");
	EXPECT_A(SV "FIN-WAIT-2 -> TIME-WAIT (rcv FIN)");
	two_run(&t, 61 * US_NSEC_PER_SEC);
	EXPECT_A(SV "TIME-WAIT -> CLOSED (2MSL timeout)");
	us_tcp_close(c);
	us_tcp_close(l);
	EXPECT_A();
	EXPECT_B();
}
END_TEST

/* RFC 9293 §3.6 figure 13: both FINs cross, CLOSING on each side. */
START_TEST(test_simultaneous_close)
{
	struct us_tcp *l, *s, *c;

	connect_pair(&l, &s, &c);
	us_tcp_close(s);
	us_tcp_close(c);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	EXPECT_A(SV "ESTABLISHED -> FIN-WAIT-1 (user close)",
		 SV "FIN-WAIT-1 -> CLOSING (rcv FIN)",
		 SV "CLOSING -> TIME-WAIT (rcv ACK of FIN)");
	EXPECT_B(CL "ESTABLISHED -> FIN-WAIT-1 (user close)",
		 CL "FIN-WAIT-1 -> CLOSING (rcv FIN)",
		 CL "CLOSING -> TIME-WAIT (rcv ACK of FIN)");
	two_run(&t, 61 * US_NSEC_PER_SEC);
	EXPECT_A(SV "TIME-WAIT -> CLOSED (2MSL timeout)");
	EXPECT_B(CL "TIME-WAIT -> CLOSED (2MSL timeout)");
	us_tcp_close(l);
}
END_TEST

START_TEST(test_abort_and_reset)
{
	struct us_tcp *l, *s, *c;

	connect_pair(&l, &s, &c);
	exchange(s, c);
	b_aborts(l, s, c);
}
END_TEST

START_TEST(test_connect_refused)
{
	struct us_tcp *c = us_tcp_open(t.b);

	ck_assert_int_eq(us_tcp_bind(c, 0, 40000), 0);
	ck_assert_int_eq(us_tcp_connect(c, A_IP, 80), -EINPROGRESS);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	EXPECT_B(CL "CLOSED -> SYN-SENT (user connect)",
		 CL "SYN-SENT -> CLOSED (rcv RST)");
	EXPECT_A();
	us_tcp_close(c);
}
END_TEST

/* Closed with data unread: a reset (RFC 2525 §2.17), not a FIN. */
START_TEST(test_close_unread)
{
	struct us_tcp *l, *s, *c;

	connect_pair(&l, &s, &c);
	ck_assert_int_eq(us_tcp_send(c, "unread", 6), 6);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	us_tcp_close(s);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	EXPECT_A(SV "ESTABLISHED -> CLOSED (user close with unread data)");
	EXPECT_B(CL "ESTABLISHED -> CLOSED (rcv RST)");
	us_tcp_close(c);
	us_tcp_close(l);
}
END_TEST

/* A closed socket whose peer never sends its FIN leaves FIN-WAIT-2 after tcp_fin_timeout. */
START_TEST(test_fin_wait_2_timeout)
{
	struct us_tcp *l, *s, *c;

	connect_pair(&l, &s, &c);
	b_closes(c);
	two_run(&t, 61 * US_NSEC_PER_SEC);
	EXPECT_B(CL "FIN-WAIT-2 -> CLOSED (FIN-WAIT-2 timeout)");
	us_tcp_close(s);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	/* b's end is gone: the FIN is answered with a reset */
	EXPECT_A(SV "CLOSE-WAIT -> LAST-ACK (user close)",
		 SV "LAST-ACK -> CLOSED (rcv RST)");
	us_tcp_close(l);
}
END_TEST

/* Data for a socket its user has closed is answered with a reset (Linux's TCPAbortOnData). */
START_TEST(test_data_after_close)
{
	struct us_tcp *l, *s, *c;

	connect_pair(&l, &s, &c);
	a_closes(s);
	ck_assert_int_eq(us_tcp_send(c, "late", 4), 4);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	EXPECT_A(SV "FIN-WAIT-2 -> CLOSED (rcv data after close)");
	EXPECT_B(CL "CLOSE-WAIT -> CLOSED (rcv RST)");
	us_tcp_close(c);
	us_tcp_close(l);
}
END_TEST

/* A listener that answers every SYN with a cookie (RFC 4987 §3.6) makes its connection from the
 * ACK that returns it; the client sees an ordinary handshake. */
START_TEST(test_syn_cookie)
{
	struct us_stack_config cfg = { .tcp_syncookies = 2 };
	struct us_tcp *l, *s, *c;

	restart(&cfg);
	l = listen_a();
	connect_b(l, &s, &c);
	EXPECT_A(LISTEN_LINE,
		 SV "CLOSED -> SYN-RECEIVED (rcv ACK of SYN cookie)",
		 SV "SYN-RECEIVED -> ESTABLISHED (rcv ACK of SYN)");
	b_aborts(l, s, c);
}
END_TEST

/* A SYN for the 4-tuple of a TIME-WAIT connection beyond its sequence space (RFC 9293 §3.6.1; no
 * timestamps here, whose random offsets would decide it by RFC 6191 instead) takes it over. */
START_TEST(test_time_wait_reused)
{
	struct us_stack_config cfg = { .tcp_no_timestamps = true };
	struct us_tcp *l, *s, *c;

	restart(&cfg);
	connect_pair(&l, &s, &c);
	a_closes(s);
	us_tcp_close(c);
	two_run(&t, 2 * US_NSEC_PER_SEC);
	EXPECT_A(SV "FIN-WAIT-2 -> TIME-WAIT (rcv FIN)");
	EXPECT_B(CL "CLOSE-WAIT -> LAST-ACK (user close)",
		 CL "LAST-ACK -> CLOSED (rcv ACK of FIN)");
	connect_b(l, &s, &c);
	EXPECT_A(SV "TIME-WAIT -> CLOSED (TIME-WAIT reused)",
		 SV "CLOSED -> SYN-RECEIVED (rcv SYN)",
		 SV "SYN-RECEIVED -> ESTABLISHED (rcv ACK of SYN)");
	b_aborts(l, s, c);
}
END_TEST

/* The peer vanishes (a's stack is torn down without a word): keepalive gives up (RFC 1122
 * §4.2.3.6), and a connect toward it runs out of SYN retransmissions. */
START_TEST(test_timeouts)
{
	struct us_tcp *l, *s, *c, *c2;

	connect_pair(&l, &s, &c);
	ck_assert_int_eq(us_tcp_set_keepalive(c, 1, 10, 1, 3), 0);
	/* what a sends from now on goes to a MAC b does not have: b never hears of it */
	ck_assert_int_eq(us_neigh_add(t.a, 1, B_IP, (const uint8_t[6]){ 2, 0, 0, 0, 0, 0xee }), 0);
	us_tcp_abort(s);
	us_tcp_close(l);
	EXPECT_A(SV "ESTABLISHED -> CLOSED (abort)");
	two_run(&t, 30 * US_NSEC_PER_SEC);
	EXPECT_B(CL "ESTABLISHED -> CLOSED (keepalive timeout)");
	us_tcp_close(c);
	c2 = us_tcp_open(t.b);
	ck_assert_int_eq(us_tcp_bind(c2, 0, 40001), 0);
	ck_assert_int_eq(us_neigh_add(t.b, 1, A_IP, (const uint8_t[6]){ 2, 0, 0, 0, 0, 0xee }), 0);
	ck_assert_int_eq(us_tcp_connect(c2, A_IP, 80), -EINPROGRESS);
	two_run(&t, 200 * US_NSEC_PER_SEC);
	EXPECT_B("TCP 198.18.0.2:40001 > 198.18.0.1:80 CLOSED -> SYN-SENT (user connect)",
		 "TCP 198.18.0.2:40001 > 198.18.0.1:80 SYN-SENT -> CLOSED (RTO retries exhausted)");
	us_tcp_close(c2);
}
END_TEST

/* ---- the switch, from another thread, while the stacks run in theirs ---- */

#define BULK (4u << 20)

struct threaded {
	struct us_stack *a, *b;
	int lfd;
	atomic_int stop;
	uint64_t received;
	long switches;
};

static void *serve(void *arg)
{
	struct threaded *x = arg;
	static char buf[65536];
	int fd = us_accept(x->lfd, NULL, NULL);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	while ((n = us_recv(fd, buf, sizeof(buf), 0)) > 0)
		x->received += (uint64_t)n;
	us_close(fd);
	return NULL;
}

/* Switch both traces on, over, and off as fast as it can; each FILE is closed as soon as the switch
 * has let go of it. */
static void *switcher(void *arg)
{
	struct threaded *x = arg;

	while (!atomic_load(&x->stop)) {
		char *ba = NULL, *bb = NULL;
		size_t la = 0, lb = 0;
		FILE *fa = open_memstream(&ba, &la), *fb = open_memstream(&bb, &lb);

		ck_assert(fa && fb);
		ck_assert_int_eq(us_pkttrace_set(x->a, fa, 0), 0);
		ck_assert_int_eq(us_pkttrace_set(x->b, fb, US_PKTTRACE_LINK), 0);
		ck_assert_int_eq(us_pkttrace_set(x->b, fb, US_PKTTRACE_NO_STATE), 0);
		ck_assert_int_eq(us_pkttrace_set(x->a, NULL, 0), 0);
		ck_assert_int_eq(us_pkttrace_set(x->b, NULL, 0), 0);
		fclose(fa);
		fclose(fb);
		/* whole lines only: each begins with a time and ends with a newline */
		for (char *p = ba; p && *p; p = strchr(p, '\n') + 1) {
			ck_assert(*p >= '0' && *p <= '9');
			ck_assert_ptr_nonnull(strchr(p, '\n'));
		}
		for (char *p = bb; p && *p; p = strchr(p, '\n') + 1) {
			ck_assert(*p >= '0' && *p <= '9');
			ck_assert_ptr_nonnull(strchr(p, '\n'));
		}
		free(ba);
		free(bb);
		x->switches++;
	}
	return NULL;
}

START_TEST(test_switch_while_running)
{
	struct threaded x = { 0 };
	struct us_stack_config ca = { .seed = 21 }, cb = { .seed = 22 };
	struct netdev_pair_config pc = { .wire_capacity = 1u << 16 };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct netdev *da, *db;
	pthread_t srv, sw;
	static char buf[65536];
	uint64_t sent = 0;
	int fd;

	x.a = us_stack_create(&ca);
	x.b = us_stack_create(&cb);
	ck_assert(x.a && x.b);
	pc.a = (struct netdev_config){ .pool = us_stack_pool(x.a), .clock = us_stack_clock(x.a),
				       .name = "a0", .mac = { 2, 0, 0, 0, 0, 0xa } };
	pc.b = (struct netdev_config){ .pool = us_stack_pool(x.b), .clock = us_stack_clock(x.b),
				       .name = "b0", .mac = { 2, 0, 0, 0, 0, 0xb } };
	ck_assert_int_eq(netdev_pair_create(&pc, &da, &db), 0);
	ck_assert_int_eq(us_stack_add_netdev(x.a, da), 1);
	ck_assert_int_eq(us_stack_add_netdev(x.b, db), 1);
	ck_assert_int_eq(us_addr_add(x.a, 1, A_IP, 24), 0);
	ck_assert_int_eq(us_addr_add(x.b, 1, B_IP, 24), 0);
	ck_assert_int_eq(us_stack_start(x.a), 0);
	ck_assert_int_eq(us_stack_start(x.b), 0);
	x.lfd = us_socket_on(x.a, AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(x.lfd, 0);
	ck_assert_int_eq(us_bind(x.lfd, (const struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(us_listen(x.lfd, 4), 0);
	ck_assert_int_eq(pthread_create(&srv, NULL, serve, &x), 0);
	ck_assert_int_eq(pthread_create(&sw, NULL, switcher, &x), 0);
	fd = us_socket_on(x.b, AF_INET, SOCK_STREAM, 0);
	sin.sin_addr.s_addr = htonl(A_IP);
	ck_assert_int_eq(us_connect(fd, (const struct sockaddr *)&sin, sizeof(sin)), 0);
	memset(buf, 'x', sizeof(buf));
	while (sent < BULK) {
		ssize_t n = us_send(fd, buf, sizeof(buf), 0);

		ck_assert_int_gt(n, 0);
		sent += (uint64_t)n;
	}
	us_close(fd);
	ck_assert_int_eq(pthread_join(srv, NULL), 0);
	atomic_store(&x.stop, 1);
	ck_assert_int_eq(pthread_join(sw, NULL), 0);
	ck_assert_uint_eq(x.received, sent);
	ck_assert_int_gt(x.switches, 10);
	us_close(x.lfd);
	us_stack_stop(x.a);
	us_stack_stop(x.b);
	ck_assert_uint_eq(us_stack_destroy(x.a), 0);
	ck_assert_uint_eq(us_stack_destroy(x.b), 0);
}
END_TEST

static Suite *pkttrace_state_suite(void)
{
	Suite *s = suite_create("pkttrace_state");
	TCase *tc = tcase_create("states"), *tt = tcase_create("threads");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_client_closes_first);
	tcase_add_test(tc, test_server_closes_first);
	tcase_add_test(tc, test_simultaneous_close);
	tcase_add_test(tc, test_abort_and_reset);
	tcase_add_test(tc, test_connect_refused);
	tcase_add_test(tc, test_close_unread);
	tcase_add_test(tc, test_fin_wait_2_timeout);
	tcase_add_test(tc, test_data_after_close);
	tcase_add_test(tc, test_syn_cookie);
	tcase_add_test(tc, test_time_wait_reused);
	tcase_add_test(tc, test_timeouts);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tt, 120);
	tcase_add_checked_fixture(tt, test_setup, test_teardown);
	tcase_add_test(tt, test_switch_while_running);
	suite_add_tcase(s, tt);
	return s;
}

int main(void)
{
	return test_run(pkttrace_state_suite());
}
