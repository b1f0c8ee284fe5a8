/*
 * test_latency.c - per-layer timing (ustack/latency.h, stack/latency.c): the histogram's buckets and
 * percentiles against known samples; then the receive and send paths, TCP and UDP, on two stacks over
 * a pair wire whose timing clock is a test clock advancing a fixed step on every read, so each stage's
 * time is an exact number of steps; what is counted when a read takes part of a segment or a send
 * makes several; and timing off: no stamps and not one clock read.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "latency.h"
#include "scenario.h"
#include "test_util.h"
#include "ustack/socket.h"

#define STEP_NS 250 /* the test clock's step per read */

/* ---- the histogram ---- */

static struct latency_hist hist;

static void hist_fill(const uint64_t *v, int n)
{
	memset(&hist, 0, sizeof(hist));
	for (int i = 0; i < n; i++)
		latency_hist_record(&hist, v[i]);
}

/* The buckets tile the line: each one's highest value maps back to it, the next value to the next
 * bucket, and a bucket is at most 1/16 of its values wide. */
START_TEST(test_hist_buckets)
{
	for (uint32_t b = 0; b + 1 < LAT_BUCKETS; b++) {
		uint64_t hi = latency_bucket_high(b), lo = b ? latency_bucket_high(b - 1) + 1 : 0;

		ck_assert_uint_eq(latency_bucket(hi), b);
		ck_assert_uint_eq(latency_bucket(hi + 1), b + 1);
		ck_assert_uint_eq(latency_bucket(lo), b);
		ck_assert_uint_le((hi - lo + 1) * 16, lo < 16 ? 16 : lo);
	}
	for (uint64_t v = 0; v < 16; v++)
		ck_assert_uint_eq(latency_bucket(v), v); /* exact below 16 ns */
	/* past 2^37 ns everything shares the last bucket */
	ck_assert_uint_eq(latency_bucket(UINT64_C(1) << 37), LAT_BUCKETS - 1);
	ck_assert_uint_eq(latency_bucket(UINT64_MAX), LAT_BUCKETS - 1);
	ck_assert_uint_eq(latency_bucket_high(LAT_BUCKETS - 1), (UINT64_C(1) << 37) - 1);
}
END_TEST

START_TEST(test_hist_percentiles)
{
	uint64_t v[1000], small[] = { 3, 3, 3, 9 }, one = 1000, huge[] = { 5, UINT64_C(1) << 40 };

	/* empty */
	memset(&hist, 0, sizeof(hist));
	ck_assert_uint_eq(latency_hist_percentile(&hist, 500), 0);
	ck_assert_uint_eq(latency_hist_percentile(&hist, 990), 0);
	ck_assert_uint_eq(hist.max_ns, 0);
	/* one sample: every percentile is it (the bucket's top is cut at the maximum) */
	hist_fill(&one, 1);
	ck_assert_uint_eq(latency_hist_percentile(&hist, 500), 1000);
	ck_assert_uint_eq(latency_hist_percentile(&hist, 990), 1000);
	ck_assert_uint_eq(latency_hist_percentile(&hist, 0), 1000);
	/* below 16 ns: exact */
	hist_fill(small, 4);
	ck_assert_uint_eq(latency_hist_percentile(&hist, 500), 3);
	ck_assert_uint_eq(latency_hist_percentile(&hist, 750), 3);
	ck_assert_uint_eq(latency_hist_percentile(&hist, 990), 9);
	ck_assert_uint_eq(hist.max_ns, 9);
	/* 1..1000 in a shuffled order: the 500th and 990th values are 500 and 990; the buckets holding
	 * them end at 511 (496..511) and 991 (960..991), within 1/16 */
	for (int i = 0; i < 1000; i++)
		v[i] = (uint64_t)((i * 7919) % 1000) + 1;
	hist_fill(v, 1000);
	ck_assert_uint_eq(hist.count, 1000);
	ck_assert_uint_eq(latency_hist_percentile(&hist, 500), 511);
	ck_assert_uint_eq(latency_hist_percentile(&hist, 990), 991);
	ck_assert_uint_le(latency_hist_percentile(&hist, 500) - 500, 500 / 16);
	ck_assert_uint_le(latency_hist_percentile(&hist, 990) - 990, 990 / 16);
	ck_assert_uint_eq(latency_hist_percentile(&hist, 1000), 1000);
	ck_assert_uint_eq(hist.max_ns, 1000);
	/* a huge value: the maximum stays exact; its percentile says "past 137 s" */
	hist_fill(huge, 2);
	ck_assert_uint_eq(latency_hist_percentile(&hist, 500), 5);
	ck_assert_uint_eq(latency_hist_percentile(&hist, 990), (UINT64_C(1) << 37) - 1);
	ck_assert_uint_eq(hist.max_ns, UINT64_C(1) << 40);
}
END_TEST

/* ---- two stacks, a stepping clock ---- */

struct step_clock {
	uint64_t ns;
	uint64_t reads;
};

static uint64_t step_now(void *arg)
{
	struct step_clock *c = arg;

	c->reads++;
	c->ns += STEP_NS;
	return c->ns;
}

static struct two t;
static struct step_clock ca, cb;

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(addr) };
	return s;
}
#define SA(x) ((struct sockaddr *)(x))

/* Both stacks up, their timing clocks the stepping ones (timing still off). */
static void lat_up(void)
{
	two_up(&t, NULL, NULL);
	ca = (struct step_clock){ .ns = 1000000 };
	cb = (struct step_clock){ .ns = 2000000 };
	ck_assert_int_eq(latency_set_clock(t.a, step_now, &ca), 0);
	ck_assert_int_eq(latency_set_clock(t.b, step_now, &cb), 0);
}

static void lat_on_both(void)
{
	ck_assert_int_eq(us_latency_enable(t.a, true), 0);
	ck_assert_int_eq(us_latency_enable(t.b, true), 0);
	ck_assert(us_latency_enabled(t.a));
}

/* A connection a -> b, established, with TCP_NODELAY on a's end so each send goes at once. */
static void tcp_pair(int *cfd, int *sfd, int *lfd)
{
	struct sockaddr_in dst = sin_of(B_IP, 7000), any = sin_of(0, 7000);
	int one = 1;

	*lfd = us_socket_on(t.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_bind(*lfd, SA(&any), sizeof(any)), 0);
	ck_assert_int_eq(us_listen(*lfd, 4), 0);
	*cfd = us_socket_on(t.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_setsockopt(*cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	ck_assert_int_eq(us_connect(*cfd, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(errno, EINPROGRESS);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	*sfd = us_accept4(*lfd, NULL, NULL, SOCK_NONBLOCK);
	ck_assert_int_ge(*sfd, 0);
}

static void tcp_close_all(int cfd, int sfd, int lfd)
{
	us_close(cfd);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	us_close(sfd);
	us_close(lfd);
	two_run(&t, 200 * US_NSEC_PER_SEC); /* through TIME-WAIT */
}

static struct us_latency_stats stage(struct us_stack *st, enum us_lat_stage s)
{
	struct us_latency_stats x;

	ck_assert_int_eq(us_latency_get(st, s, &x), 0);
	return x;
}

/* Every stage from..to of st counted n times, each time exactly steps steps after the stage before;
 * the total (to + 1) n times, whole steps after the first stamp. */
static void expect_path(struct us_stack *st, enum us_lat_stage first, enum us_lat_stage last,
			uint64_t n, uint64_t whole)
{
	struct us_latency_stats x = stage(st, first);

	ck_assert_uint_eq(x.count, n);
	ck_assert_uint_eq(x.max_ns, 0); /* a first stage only counts */
	for (int s = (int)first + 1; s <= (int)last; s++) {
		x = stage(st, (enum us_lat_stage)s);
		ck_assert_msg(x.count == n, "%s: count %llu, want %llu", us_latency_stage_name(s),
			      (unsigned long long)x.count, (unsigned long long)n);
		ck_assert_msg(x.p50_ns == STEP_NS && x.p99_ns == STEP_NS && x.max_ns == STEP_NS,
			      "%s: %llu/%llu/%llu ns, want %d", us_latency_stage_name(s),
			      (unsigned long long)x.p50_ns, (unsigned long long)x.p99_ns,
			      (unsigned long long)x.max_ns, STEP_NS);
	}
	x = stage(st, (enum us_lat_stage)(last + 1));
	ck_assert_uint_eq(x.count, n);
	ck_assert_uint_eq(x.p50_ns, whole * STEP_NS);
	ck_assert_uint_eq(x.max_ns, whole * STEP_NS);
}

/* TCP, one segment per send: on a's send path and b's receive path every stage is counted once per
 * segment, and - one clock read per stamp - each is one step after the stage before: us_send entry,
 * queued, tcp_transmit_skb, ip_output, eth_output, the flush at the end of the call; the device
 * read in b's poll, eth_rcv, ip_rcv, tcp_v4_rcv, the receive queue, then us_recv. */
START_TEST(test_tcp_paths)
{
	int cfd, sfd, lfd;
	char buf[256];

	lat_up();
	tcp_pair(&cfd, &sfd, &lfd);
	lat_on_both();
	for (int i = 0; i < 5; i++) {
		memset(buf, 'a' + i, 100);
		ck_assert_int_eq(us_send(cfd, buf, 100, 0), 100);
		two_run(&t, 100 * US_NSEC_PER_MSEC); /* delivered, and the delayed ACK back */
		ck_assert_int_eq(us_recv(sfd, buf, sizeof(buf), 0), 100);
		ck_assert_int_eq(buf[99], 'a' + i);
	}
	expect_path(t.a, US_LAT_TX_APP, US_LAT_TX_DEV, 5, 5);
	expect_path(t.b, US_LAT_RX_DEV, US_LAT_RX_APP, 5, 5);
	/* b sent only ACKs (not timed); a received only them: through TCP, never queued */
	ck_assert_uint_eq(stage(t.b, US_LAT_TX_APP).count, 0);
	ck_assert_uint_eq(stage(t.b, US_LAT_TX_DEV).count, 0);
	ck_assert_uint_ge(stage(t.a, US_LAT_RX_DEV).count, 5);
	ck_assert_uint_eq(stage(t.a, US_LAT_RX_L4).count, stage(t.a, US_LAT_RX_DEV).count);
	ck_assert_uint_eq(stage(t.a, US_LAT_RX_SOCKQ).count, 0);
	/* reset empties every stage */
	us_latency_reset(t.b);
	ck_assert_uint_eq(stage(t.b, US_LAT_RX_DEV).count, 0);
	ck_assert_uint_eq(stage(t.b, US_LAT_RX_TOTAL).max_ns, 0);
	tcp_close_all(cfd, sfd, lfd);
	two_down(&t);
}
END_TEST

/* One send of four segments' worth, read in pieces: every stage counts four segments on each path;
 * the application-read stage counts a segment when its last byte is read, not before. */
START_TEST(test_tcp_several_segments)
{
	static char out[3 * 1460 + 10], in[sizeof(out)];
	int cfd, sfd, lfd, got;

	lat_up();
	tcp_pair(&cfd, &sfd, &lfd);
	lat_on_both();
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 31);
	ck_assert_int_eq(us_send(cfd, out, sizeof(out), 0), (int)sizeof(out));
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	for (int s = US_LAT_TX_APP; s <= US_LAT_TX_TOTAL; s++)
		ck_assert_uint_eq(stage(t.a, s).count, 4);
	for (int s = US_LAT_RX_DEV; s <= US_LAT_RX_SOCKQ; s++)
		ck_assert_uint_eq(stage(t.b, s).count, 4);
	/* 100 bytes: part of the first segment, nothing read whole yet */
	ck_assert_int_eq(us_recv(sfd, in, 100, 0), 100);
	ck_assert_uint_eq(stage(t.b, US_LAT_RX_APP).count, 0);
	/* the rest of it and one more byte: one segment done */
	ck_assert_int_eq(us_recv(sfd, in + 100, 1460 - 100 + 1, 0), 1361);
	ck_assert_uint_eq(stage(t.b, US_LAT_RX_APP).count, 1);
	got = (int)us_recv(sfd, in + 1461, sizeof(in) - 1461, 0);
	ck_assert_int_eq(got, (int)sizeof(in) - 1461);
	ck_assert_mem_eq(in, out, sizeof(out));
	ck_assert_uint_eq(stage(t.b, US_LAT_RX_APP).count, 4);
	ck_assert_uint_eq(stage(t.b, US_LAT_RX_TOTAL).count, 4);
	/* the end-to-end time is at least each stage's, and the read of the last segment waited on
	 * the queue longest */
	ck_assert_uint_ge(stage(t.b, US_LAT_RX_TOTAL).max_ns, stage(t.b, US_LAT_RX_APP).max_ns);
	tcp_close_all(cfd, sfd, lfd);
	two_down(&t);
}
END_TEST

/* Through a wire that reorders and drops what a sends (the fault wrapper on a's device, so a's
 * device-write stamp is the wrapper's): every segment b takes in order or through the out-of-order
 * queue is counted once at the socket queue and once read; a segment is timed on its first
 * transmission only - each stage of a's send path counts the segments queued, whatever was resent -
 * and a retransmission that b receives is a frame like any other there. */
static void faulty_transfer(const struct netdev_fault_config *fc, uint32_t nseg)
{
	static char out[40 * 1448], in[sizeof(out)];
	struct sockaddr_in dst = sin_of(B_IP, 7001), any = sin_of(0, 7001);
	size_t len = (size_t)nseg * 1448, got = 0;
	struct us_latency_stats q;
	int cfd, sfd, lfd, one = 1;

	ck_assert_uint_le(len, sizeof(out));
	two_up(&t, fc, NULL);
	ca = (struct step_clock){ .ns = 1000000 };
	cb = (struct step_clock){ .ns = 2000000 };
	ck_assert_int_eq(latency_set_clock(t.a, step_now, &ca), 0);
	ck_assert_int_eq(latency_set_clock(t.b, step_now, &cb), 0);
	lfd = us_socket_on(t.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_bind(lfd, SA(&any), sizeof(any)), 0);
	ck_assert_int_eq(us_listen(lfd, 4), 0);
	cfd = us_socket_on(t.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	us_connect(cfd, SA(&dst), sizeof(dst));
	for (int i = 0; i < 50 && (sfd = us_accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0; i++)
		two_run(&t, 200 * US_NSEC_PER_MSEC); /* the handshake may lose a segment too */
	ck_assert_int_ge(sfd, 0);
	lat_on_both();
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(i * 13 + 1);
	ck_assert_int_eq(us_send(cfd, out, len, 0), (int)len);
	for (int i = 0; i < 600 && got < len; i++) {
		ssize_t r;

		two_run(&t, 100 * US_NSEC_PER_MSEC);
		while ((r = us_recv(sfd, in + got, sizeof(in) - got, 0)) > 0)
			got += (size_t)r;
	}
	ck_assert_uint_eq(got, len);
	ck_assert_mem_eq(in, out, len);
	q = stage(t.a, US_LAT_TX_QUEUED);
	ck_assert_uint_eq(q.count, nseg);
	for (int s = US_LAT_TX_APP; s <= US_LAT_TX_TOTAL; s++)
		ck_assert_msg(stage(t.a, s).count == nseg, "a: %s counted %llu, want %u",
			      us_latency_stage_name(s), (unsigned long long)stage(t.a, s).count, nseg);
	ck_assert_uint_eq(stage(t.b, US_LAT_RX_SOCKQ).count, nseg);
	ck_assert_uint_eq(stage(t.b, US_LAT_RX_APP).count, nseg);
	ck_assert_uint_eq(stage(t.b, US_LAT_RX_TOTAL).count, nseg);
	/* b read every frame that came, data or not, duplicates of what it had included */
	ck_assert_uint_eq(stage(t.b, US_LAT_RX_L4).count, stage(t.b, US_LAT_RX_DEV).count);
	ck_assert_uint_ge(stage(t.b, US_LAT_RX_L4).count, nseg);
	tcp_close_all(cfd, sfd, lfd);
}

START_TEST(test_tcp_reordered)
{
	struct netdev_fault_config fc = { .seed = 3, .reorder = 0.3, .tx = true };

	faulty_transfer(&fc, 20);
	ck_assert_int_gt(us_stats_get(t.b, "TcpExt", "TCPOFOQueue"), 0);
	/* reordering is not taken for loss: no recovery; only a tail held back past the probe
	 * timeout may be probed for (RFC 8985 §7.3), at most once a probe */
	ck_assert_int_eq(us_stats_get(t.a, "TcpExt", "TCPSackRecovery"), 0);
	ck_assert_int_le(us_stats_get(t.a, "Tcp", "RetransSegs"), us_stats_get(t.a, "TcpExt", "TCPLossProbes"));
	two_down(&t);
}
END_TEST

START_TEST(test_tcp_lossy)
{
	struct netdev_fault_config fc = { .seed = 5, .drop = 0.2, .tx = true };

	faulty_transfer(&fc, 30);
	ck_assert_int_gt(us_stats_get(t.a, "Tcp", "RetransSegs"), 0);
	two_down(&t);
}
END_TEST

/* UDP: a's datagrams through every send stage and b's through every receive stage, one step each
 * (udp_sendmsg's queued and output stamps are the datagram built and its header summed). */
START_TEST(test_udp_paths)
{
	struct sockaddr_in to = sin_of(B_IP, 9000), any = sin_of(0, 9000);
	int sa, sb;
	char buf[64];

	lat_up();
	sb = us_socket_on(t.b, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	sa = us_socket_on(t.a, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_bind(sb, SA(&any), sizeof(any)), 0);
	/* one datagram untimed first: ARP resolves b */
	ck_assert_int_eq(us_sendto(sa, "warm", 4, 0, SA(&to), sizeof(to)), 4);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_recv(sb, buf, sizeof(buf), 0), 4);
	lat_on_both();
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(us_sendto(sa, "datagram", 8, 0, SA(&to), sizeof(to)), 8);
		two_run(&t, 10 * US_NSEC_PER_MSEC);
		/* a peek takes nothing: not read yet */
		ck_assert_int_eq(us_recv(sb, buf, sizeof(buf), MSG_PEEK), 8);
		ck_assert_uint_eq(stage(t.b, US_LAT_RX_APP).count, (uint64_t)i);
		ck_assert_int_eq(us_recv(sb, buf, sizeof(buf), 0), 8);
	}
	expect_path(t.a, US_LAT_TX_APP, US_LAT_TX_DEV, 3, 5);
	expect_path(t.b, US_LAT_RX_DEV, US_LAT_RX_APP, 3, 5);
	us_close(sa);
	us_close(sb);
	two_down(&t);
}
END_TEST

/* Off (the default, and after switching off): traffic both ways leaves every stage empty and the
 * timing clock unread; on, one read marks the moment, and switching off again stops the reads. */
START_TEST(test_off_reads_nothing)
{
	struct sockaddr_in to = sin_of(B_IP, 9000), any = sin_of(0, 9000);
	int cfd, sfd, lfd, sa, sb;
	char buf[512] = { 0 };
	uint64_t reads;

	lat_up();
	ck_assert(!us_latency_enabled(t.a));
	tcp_pair(&cfd, &sfd, &lfd);
	sb = us_socket_on(t.b, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	sa = us_socket_on(t.a, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_bind(sb, SA(&any), sizeof(any)), 0);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(us_send(cfd, buf, sizeof(buf), 0), (int)sizeof(buf));
		ck_assert_int_eq(us_send(sfd, buf, 10, 0), 10);
		ck_assert_int_eq(us_sendto(sa, buf, 20, 0, SA(&to), sizeof(to)), 20);
		two_run(&t, 100 * US_NSEC_PER_MSEC);
		ck_assert_int_eq(us_recv(sfd, buf, sizeof(buf), 0), (int)sizeof(buf));
		ck_assert_int_eq(us_recv(cfd, buf, sizeof(buf), 0), 10);
		ck_assert_int_eq(us_recv(sb, buf, sizeof(buf), 0), 20);
	}
	ck_assert_uint_eq(ca.reads, 0);
	ck_assert_uint_eq(cb.reads, 0);
	for (int s = 0; s < US_LAT_NSTAGES; s++) {
		ck_assert_uint_eq(stage(t.a, s).count, 0);
		ck_assert_uint_eq(stage(t.b, s).count, 0);
	}
	/* on: switching reads the clock once; then a datagram is stamped */
	ck_assert_int_eq(us_latency_enable(t.a, true), 0);
	ck_assert_uint_eq(ca.reads, 1);
	ck_assert_int_eq(us_sendto(sa, buf, 20, 0, SA(&to), sizeof(to)), 20);
	ck_assert_uint_eq(ca.reads, 1 + 6);
	ck_assert_uint_eq(stage(t.a, US_LAT_TX_TOTAL).count, 1);
	/* off again: no more reads, nothing more counted */
	ck_assert_int_eq(us_latency_enable(t.a, false), 0);
	reads = ca.reads;
	ck_assert_int_eq(us_send(cfd, buf, 100, 0), 100);
	ck_assert_int_eq(us_sendto(sa, buf, 20, 0, SA(&to), sizeof(to)), 20);
	two_run(&t, 100 * US_NSEC_PER_MSEC);
	ck_assert_uint_eq(ca.reads, reads);
	ck_assert_uint_eq(cb.reads, 0);
	ck_assert_uint_eq(stage(t.a, US_LAT_TX_TOTAL).count, 1);
	ck_assert_uint_eq(stage(t.a, US_LAT_TX_APP).count, 1);
	us_close(sa);
	us_close(sb);
	tcp_close_all(cfd, sfd, lfd);
	two_down(&t);
}
END_TEST

/* The table: every stage by name, counts, and the times in microseconds with two decimals. */
START_TEST(test_dump)
{
	struct sockaddr_in to = sin_of(B_IP, 9000), any = sin_of(0, 9000);
	char *text = NULL, buf[16];
	size_t size = 0;
	FILE *f;
	int sa, sb;

	lat_up();
	sb = us_socket_on(t.b, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	sa = us_socket_on(t.a, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_bind(sb, SA(&any), sizeof(any)), 0);
	ck_assert_int_eq(us_sendto(sa, "warm", 4, 0, SA(&to), sizeof(to)), 4);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_recv(sb, buf, sizeof(buf), 0), 4);
	lat_on_both();
	ck_assert_int_eq(us_sendto(sa, "x", 1, 0, SA(&to), sizeof(to)), 1);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_recv(sb, buf, sizeof(buf), 0), 1);
	f = open_memstream(&text, &size);
	ck_assert_ptr_nonnull(f);
	us_latency_dump(t.b, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "Where latency lives (timing on"));
	ck_assert_ptr_nonnull(strstr(text, "  device read                                 1           -           -           -\n"));
	ck_assert_ptr_nonnull(strstr(text, "  eth_rcv         after device                1        0.25        0.25        0.25\n"));
	ck_assert_ptr_nonnull(strstr(text, "  app read        after queue                 1        0.25"));
	ck_assert_ptr_nonnull(strstr(text, "  device -> app   whole path                  1        1.25        1.25        1.25\n"));
	ck_assert_ptr_nonnull(strstr(text, "  device write    after eth                   0           -           -           -\n"));
	free(text);
	/* names and figures only for the stages there are */
	ck_assert_str_eq(us_latency_stage_name(US_LAT_RX_SOCKQ), "socket queue");
	ck_assert_ptr_null(us_latency_stage_name(US_LAT_NSTAGES));
	ck_assert_int_eq(us_latency_get(t.b, US_LAT_NSTAGES, &(struct us_latency_stats){ 0 }), -EINVAL);
	us_close(sa);
	us_close(sb);
	two_down(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("latency");
	TCase *tc = test_tcase("histogram");
	TCase *tp = test_tcase("paths");

	tcase_add_test(tc, test_hist_buckets);
	tcase_add_test(tc, test_hist_percentiles);
	tcase_add_test(tp, test_tcp_paths);
	tcase_add_test(tp, test_tcp_several_segments);
	tcase_add_test(tp, test_tcp_reordered);
	tcase_add_test(tp, test_tcp_lossy);
	tcase_add_test(tp, test_udp_paths);
	tcase_add_test(tp, test_off_reads_nothing);
	tcase_add_test(tp, test_dump);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tp);
	return test_run(s);
}
