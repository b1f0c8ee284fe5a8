/*
 * test_tcp_trace.c - congestion-control traces (US_TCP_TRACE, tcp_trace_path) on virtual time.
 *
 * The recovery case sends 12 MB from a to b over a 20 Mbit/s link with 10 ms each way and a queue of
 * 40 frames (the fault wrapper's link), so slow start overflows the queue and fast retransmit
 * follows, and cuts the wire for a second halfway (a test-only gate device under the link), so the
 * retransmission timer expires. Its trace, trace_recovery.csv in the working directory, must have
 * time that never goes back, ssthresh at most half the window (plus the limited transmit's two
 * segments) and the window cut at the first fast retransmit, and a window of one MSS at every RTO.
 * CTest's plot_trace then draws that file (scripts/plot_trace.sh). The others: the stack-wide file
 * with two connections, a listener's trace inherited by its children, and the option's own rules.
 */
#include <errno.h>
#include <linux/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netdev_internal.h"
#include "scenario.h"
#include "ustack/proto.h"

#define SA(p) ((struct sockaddr *)(p))
#define MSS 1448

/* ---- a gate: a device wrapper that drops everything it sends while closed ---- */

struct gate {
	bool closed;
	uint64_t dropped;
};

static int gate_poll(struct netdev *dev, uint32_t budget)
{
	struct sk_buff *batch[NETDEV_MAX_BATCH];
	uint32_t n, done = 0;
	int r = netdev_poll(dev->lower, budget);

	if (r < 0)
		return r;
	while ((n = netdev_rx_burst(dev->lower, batch, NETDEV_MAX_BATCH)) > 0)
		for (uint32_t i = 0; i < n; i++)
			if (netdev_rx_deliver(dev, batch[i]) == 0)
				done++;
	return (int)done;
}

static void gate_xmit(struct netdev *dev, struct sk_buff **skbs, uint32_t n)
{
	struct gate *g = dev->priv;

	for (uint32_t i = 0; i < n; i++) {
		if (g->closed) {
			g->dropped++;
			skb_free(skbs[i]);
		} else {
			netdev_xmit(dev->lower, skbs[i]);
		}
	}
	netdev_flush(dev->lower);
}

static int gate_fd(const struct netdev *dev)
{
	return netdev_fd(dev->lower);
}

static uint64_t gate_next_deadline(const struct netdev *dev)
{
	return netdev_next_deadline(dev->lower);
}

static void gate_close(struct netdev *dev)
{
	netdev_close(dev->lower);
}

static const struct netdev_ops gate_ops = {
	.kind = "gate",
	.poll = gate_poll,
	.xmit = gate_xmit,
	.fd = gate_fd,
	.next_deadline = gate_next_deadline,
	.close = gate_close,
};

/* a's device: the pair end under a gate, under a fault wrapper when arg names one. */
static struct netdev *trace_wrap(struct netdev *dev, void *arg)
{
	dev = netdev_wrap(&gate_ops, dev, sizeof(struct gate));
	if (dev && arg)
		dev = netdev_fault_wrap(dev, arg);
	return dev;
}

/* Two stacks as two_up makes them (only a traces stack-wide), a's device through trace_wrap;
 * returns the gate. */
static struct gate *trace_up(struct two *t, const struct netdev_fault_config *fc,
			     const struct us_stack_config *cfg)
{
	struct us_stack_config ca = { 0 }, cb;
	struct two_opts o = { .cfg_a = &ca, .cfg_b = &cb, .wrap = trace_wrap,
			      .arg = (void *)(uintptr_t)fc };
	struct netdev *dev;

	if (cfg)
		ca = *cfg;
	cb = ca;
	cb.tcp_trace_path = NULL;
	two_up_opts(t, &o);
	dev = us_stack_netdev(t->a, 1);
	return (fc ? dev->lower : dev)->priv;
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(addr) };
	return s;
}

static uint8_t pat(uint64_t i)
{
	return (uint8_t)((i * 131 + (i >> 11)) & 0xff);
}

/* A listener on b at port, a connection to it from a: *cfd on a, *sfd on b, both non-blocking. */
static void sock_pair(struct two *t, uint16_t port, int *lfd, int *cfd, int *sfd, const char *trace)
{
	struct sockaddr_in any = sin_of(0, port), dst = sin_of(B_IP, port);

	*lfd = us_socket_on(t->b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(*lfd, 3);
	ck_assert_int_eq(us_bind(*lfd, SA(&any), sizeof(any)), 0);
	ck_assert_int_eq(us_listen(*lfd, 8), 0);
	*cfd = us_socket_on(t->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(*cfd, 3);
	if (trace)
		ck_assert_int_eq(us_setsockopt(*cfd, IPPROTO_TCP, US_TCP_TRACE, trace, (socklen_t)strlen(trace)), 0);
	ck_assert_int_eq(us_connect(*cfd, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(errno, EINPROGRESS);
	two_run(t, 100 * US_NSEC_PER_MSEC);
	*sfd = us_accept4(*lfd, NULL, NULL, SOCK_NONBLOCK);
	ck_assert_int_ge(*sfd, 3);
}

/* n bytes from cfd to sfd, byte for byte; the gate (if any) closed from cut_at to cut_at + cut_ns
 * of virtual time after the start. */
static void send_all(struct two *t, int cfd, int sfd, uint64_t n, struct gate *g, uint64_t cut_at,
		     uint64_t cut_ns)
{
	static uint8_t buf[65536];
	uint64_t sent = 0, got = 0, start = us_clock_now(&t->clock);

	while (got < n) {
		uint64_t el = us_clock_now(&t->clock) - start;

		if (g)
			g->closed = el >= cut_at && el < cut_at + cut_ns;
		while (sent < n) {
			size_t k = n - sent < sizeof(buf) ? (size_t)(n - sent) : sizeof(buf);
			ssize_t r;
			for (size_t i = 0; i < k; i++)
				buf[i] = pat(sent + i);
			r = us_send(cfd, buf, k, 0);
			if (r < 0) {
				ck_assert_int_eq(errno, EAGAIN);
				break;
			}
			sent += (uint64_t)r;
		}
		two_run(t, US_NSEC_PER_MSEC);
		for (;;) {
			ssize_t r = us_recv(sfd, buf, sizeof(buf), 0);
			if (r < 0) {
				ck_assert_int_eq(errno, EAGAIN);
				break;
			}
			ck_assert_int_gt(r, 0);
			for (ssize_t i = 0; i < r; i++)
				if (buf[i] != pat(got + (uint64_t)i))
					ck_abort_msg("byte %llu out of place", (unsigned long long)(got + (uint64_t)i));
			got += (uint64_t)r;
		}
		ck_assert_msg(el < 120 * US_NSEC_PER_SEC, "stalled at %llu of %llu bytes",
			      (unsigned long long)got, (unsigned long long)n);
	}
}

/* Both close; run through TIME-WAIT so every connection is freed (and its trace closed). */
static void close_all(struct two *t, int a, int b, int c)
{
	ck_assert_int_eq(us_close(a), 0);
	ck_assert_int_eq(us_close(b), 0);
	ck_assert_int_eq(us_close(c), 0);
	two_run(t, 200 * US_NSEC_PER_SEC);
}

/* ---- the CSV ---- */

#define HEADER "time_s,conn,event,state,cwnd,ssthresh,flight,srtt_us,rto_us,retrans,mss"

struct row {
	double t;
	unsigned conn;
	char event[24], state[16];
	unsigned long cwnd, ssthresh, flight, srtt, rto, retrans, mss;
};

/* Every row of a trace file, its header checked; *n set to the count. Free the result. */
static struct row *read_trace(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "r");
	char line[256];
	struct row *rows = NULL;
	size_t cap = 0;

	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), fp));
	ck_assert_str_eq(line, HEADER "\n");
	*n = 0;
	while (fgets(line, sizeof(line), fp)) {
		struct row r;
		int k = sscanf(line, "%lf,%u,%23[^,],%15[^,],%lu,%lu,%lu,%lu,%lu,%lu,%lu", &r.t, &r.conn, r.event,
			       r.state, &r.cwnd, &r.ssthresh, &r.flight, &r.srtt, &r.rto, &r.retrans, &r.mss);
		ck_assert_msg(k == 11, "bad row: %s", line);
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			rows = realloc(rows, cap * sizeof(*rows));
			ck_assert_ptr_nonnull(rows);
		}
		rows[(*n)++] = r;
	}
	fclose(fp);
	return rows;
}

static size_t count_event(const struct row *r, size_t n, const char *ev)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += strcmp(r[i].event, ev) == 0;
	return k;
}

/* Slow start into a queue of 40 frames, then a second with the wire cut: fast retransmit halves
 * the window, every RTO leaves one segment, and the trace says so. */
START_TEST(test_trace_recovery)
{
	const char *path = "trace_recovery.csv";
	struct netdev_fault_config fc = { .seed = 7,
					  .latency_ns = 10 * US_NSEC_PER_MSEC,
					  .rate_bps = 20000000,
					  .queue_frames = 40 };
	struct two t;
	struct gate *g;
	struct row *r;
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	char got[64];
	socklen_t gl = sizeof(got);
	size_t n, fr = 0;
	int lfd, cfd, sfd;

	unlink(path);
	g = trace_up(&t, &fc, NULL);
	sock_pair(&t, 5001, &lfd, &cfd, &sfd, path);
	ck_assert_int_eq(us_getsockopt(cfd, IPPROTO_TCP, US_TCP_TRACE, got, &gl), 0);
	ck_assert_str_eq(got, path);
	ck_assert_uint_eq(gl, strlen(path) + 1);
	send_all(&t, cfd, sfd, 12u << 20, g, 2 * US_NSEC_PER_SEC, US_NSEC_PER_SEC);
	ck_assert_uint_gt(g->dropped, 0);
	ck_assert_int_eq(us_getsockopt(cfd, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
	close_all(&t, cfd, sfd, lfd);
	two_down(&t);

	r = read_trace(path, &n);
	ck_assert_uint_gt(n, 100);
	ck_assert_str_eq(r[0].event, "state");
	ck_assert_str_eq(r[0].state, "ESTABLISHED");
	ck_assert_uint_eq(r[0].cwnd, 10 * MSS); /* RFC 6928's initial window */
	ck_assert(r[0].t == 0.0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(r[i].conn, 1);
		ck_assert_uint_eq(r[i].mss, MSS);
		if (i)
			ck_assert_msg(r[i].t >= r[i - 1].t, "row %zu: time goes back", i + 2);
		if (i && r[i].retrans < r[i - 1].retrans)
			ck_abort_msg("row %zu: retransmissions go back", i + 2);
		if (strcmp(r[i].event, "rto") == 0)
			ck_assert_msg(r[i].cwnd == MSS, "row %zu: cwnd %lu after an RTO", i + 2, r[i].cwnd);
		if (strcmp(r[i].event, "fast_retransmit") == 0 && fr++ == 0) {
			/* the first: from a window only slow start and congestion avoidance set, so the
			 * row before holds it; ssthresh = FlightSize / 2 (RFC 5681 eq. 4), flight being at
			 * most cwnd + 2 SMSS (limited transmit, RFC 3042) */
			ck_assert(i > 0);
			ck_assert_uint_eq(r[i - 1].ssthresh, 4294967295ul);
			ck_assert_msg(2 * r[i].ssthresh <= r[i - 1].cwnd + 2 * MSS, "row %zu: ssthresh %lu from cwnd %lu",
				      i + 2, r[i].ssthresh, r[i - 1].cwnd);
			ck_assert_uint_ge(r[i].ssthresh, 2 * MSS);
			ck_assert_uint_le(r[i].cwnd, r[i].ssthresh + 3 * MSS);
			ck_assert_uint_lt(r[i].cwnd, r[i - 1].cwnd);
		}
	}
	ck_assert_uint_gt(fr, 0);
	ck_assert_uint_gt(count_event(r, n, "rto"), 0);
	ck_assert_uint_gt(count_event(r, n, "ack"), 50);
	ck_assert_str_eq(r[n - 1].state, "CLOSED");
	/* the last row's count is TCP_INFO's */
	ck_assert_uint_eq(r[n - 1].retrans, ti.tcpi_total_retrans);
	ck_assert_uint_gt(ti.tcpi_total_retrans, 0);
	free(r);
}
END_TEST

/* tcp_trace_path: every connection of the stack into one file, told apart by the conn column;
 * a stack without it writes nothing. */
START_TEST(test_trace_stack_wide)
{
	const char *path = "trace_stack.csv";
	struct us_stack_config cfg = { .tcp_trace_path = path };
	struct two t;
	struct row *r;
	size_t n, per[3] = { 0 };
	int l1, c1, s1, l2, c2, s2;

	unlink(path);
	trace_up(&t, NULL, &cfg);
	sock_pair(&t, 5002, &l1, &c1, &s1, NULL);
	sock_pair(&t, 5003, &l2, &c2, &s2, NULL);
	send_all(&t, c1, s1, 1u << 20, NULL, 0, 0);
	send_all(&t, c2, s2, 1u << 20, NULL, 0, 0);
	close_all(&t, c1, s1, l1);
	close_all(&t, c2, s2, l2);
	two_down(&t);
	r = read_trace(path, &n);
	for (size_t i = 0; i < n; i++) {
		ck_assert(r[i].conn == 1 || r[i].conn == 2);
		per[r[i].conn]++;
	}
	ck_assert_uint_gt(per[1], 5);
	ck_assert_uint_gt(per[2], 5);
	ck_assert_str_eq(r[0].state, "ESTABLISHED");
	ck_assert_uint_eq(count_event(r, n, "rto"), 0);
	free(r);
}
END_TEST

/* A listener's trace: its connections go into its file; the listener itself writes nothing. */
START_TEST(test_trace_listener)
{
	const char *path = "trace_listener.csv";
	struct sockaddr_in any = sin_of(0, 5004), dst = sin_of(B_IP, 5004);
	struct two t;
	struct row *r;
	size_t n;
	int lfd, cfd, sfd;

	unlink(path);
	trace_up(&t, NULL, NULL);
	lfd = us_socket_on(t.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_setsockopt(lfd, IPPROTO_TCP, US_TCP_TRACE, path, (socklen_t)strlen(path) + 1), 0);
	ck_assert_int_eq(us_bind(lfd, SA(&any), sizeof(any)), 0);
	ck_assert_int_eq(us_listen(lfd, 8), 0);
	cfd = us_socket_on(t.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_connect(cfd, SA(&dst), sizeof(dst)), -1);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	sfd = us_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	ck_assert_int_ge(sfd, 3);
	send_all(&t, sfd, cfd, 512u << 10, NULL, 0, 0); /* b sends: its child's window moves */
	close_all(&t, cfd, sfd, lfd);
	two_down(&t);
	r = read_trace(path, &n);
	ck_assert_uint_gt(n, 5);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(r[i].conn, 1);
	ck_assert_str_eq(r[0].state, "ESTABLISHED");
	ck_assert_uint_gt(count_event(r, n, "ack"), 3);
	free(r);
}
END_TEST

/* The option's rules, and the lower API's FILE. */
START_TEST(test_trace_option)
{
	const char *path = "trace_option.csv";
	struct two t;
	char got[64], line[256];
	socklen_t gl = sizeof(got);
	int fd, lfd, cfd, sfd;
	FILE *fp;
	struct us_tcp *listener, *client;
	size_t rows = 0;

	unlink(path);
	trace_up(&t, NULL, NULL);
	fd = us_socket_on(t.a, AF_INET, SOCK_STREAM, 0);
	/* off: an empty path */
	ck_assert_int_eq(us_getsockopt(fd, IPPROTO_TCP, US_TCP_TRACE, got, &gl), 0);
	ck_assert_uint_eq(gl, 1);
	ck_assert_str_eq(got, "");
	ck_assert_int_eq(us_setsockopt(fd, IPPROTO_TCP, US_TCP_TRACE, "/nonexistent/dir/x.csv", 22), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(us_setsockopt(fd, IPPROTO_TCP, US_TCP_TRACE, NULL, 5), -1);
	ck_assert_int_eq(errno, EFAULT);
	/* set: the file exists with its header at once; the path ends at optlen */
	ck_assert_int_eq(us_setsockopt(fd, IPPROTO_TCP, US_TCP_TRACE, "trace_option.csvXYZ", 16), 0);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), fp));
	ck_assert_str_eq(line, HEADER "\n");
	fclose(fp);
	gl = 4; /* truncated as Linux truncates */
	ck_assert_int_eq(us_getsockopt(fd, IPPROTO_TCP, US_TCP_TRACE, got, &gl), 0);
	ck_assert_uint_eq(gl, 4);
	ck_assert_mem_eq(got, "trac", 4);
	/* off again */
	ck_assert_int_eq(us_setsockopt(fd, IPPROTO_TCP, US_TCP_TRACE, "", 0), 0);
	gl = sizeof(got);
	ck_assert_int_eq(us_getsockopt(fd, IPPROTO_TCP, US_TCP_TRACE, got, &gl), 0);
	ck_assert_str_eq(got, "");
	/* a UDP socket has no such option */
	ck_assert_int_eq(us_close(fd), 0);
	fd = us_socket_on(t.a, AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(us_setsockopt(fd, IPPROTO_TCP, US_TCP_TRACE, path, 5), -1);
	ck_assert_int_eq(errno, ENOPROTOOPT);
	ck_assert_int_eq(us_close(fd), 0);

	/* the lower API into a caller's FILE, which stays open */
	fp = tmpfile();
	ck_assert_ptr_nonnull(fp);
	listener = us_tcp_open(t.b);
	ck_assert_int_eq(us_tcp_bind(listener, 0, 5005), 0);
	ck_assert_int_eq(us_tcp_listen(listener, 8), 0);
	client = us_tcp_open(t.a);
	ck_assert_int_eq(us_tcp_set_trace(client, path, fp), -EINVAL);
	ck_assert_int_eq(us_tcp_set_trace(client, NULL, fp), 0);
	ck_assert_int_eq(us_tcp_connect(client, B_IP, 5005), -EINPROGRESS);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_tcp_state(client), 4 /* ESTABLISHED */);
	us_tcp_abort(client);
	us_tcp_close(listener);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	sock_pair(&t, 5006, &lfd, &cfd, &sfd, NULL); /* stacks still fine afterwards */
	close_all(&t, cfd, sfd, lfd);
	two_down(&t);
	rewind(fp);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), fp));
	ck_assert_str_eq(line, HEADER "\n");
	while (fgets(line, sizeof(line), fp))
		rows++;
	ck_assert_uint_eq(rows, 2); /* ESTABLISHED, then CLOSED by the abort */
	fclose(fp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_trace");
	TCase *tc = test_tcase("trace");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_trace_recovery);
	tcase_add_test(tc, test_trace_stack_wide);
	tcase_add_test(tc, test_trace_listener);
	tcase_add_test(tc, test_trace_option);
	suite_add_tcase(s, tc);
	return test_run(s);
}
