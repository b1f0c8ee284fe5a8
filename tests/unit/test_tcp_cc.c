/*
 * test_tcp_cc.c - congestion control (stack/tcp_cc.c, stack/tcp_cubic.c): CUBIC against RFC 9438's
 * equations - K (eq. 2), W_cubic (eq. 1) after a loss, the per-ACK growth toward W_cubic(t + RTT)
 * (§4.4, §4.5), the Reno-friendly region (§4.3), multiplicative decrease (§4.6), fast convergence
 * (§4.7), the timeout (§4.8) - with the expected values computed here from the RFC's formulas in
 * floating point; NewReno's behaviour as it was (RFC 5681, RFC 6582); choosing an algorithm by the
 * stack's configuration and by TCP_CONGESTION.
 *
 * A connection here is a control block put straight into ESTABLISHED with a 1,000-byte MSS; an ACK
 * is simulated as the window-limited sender sees it (a full window in flight, then SND.UNA moves),
 * and the clock is the stack's. The socket option is checked on two stacks really connected.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <math.h>
#include <string.h>

#include "core.h"
#include "scenario.h"
#include "tcp.h"
#include "tcp_cubic.h"
#include "test_util.h"
#include "ustack/proto.h"
#include "ustack/socket.h"

#define MSS 1000u
#define MS (US_NSEC_PER_MSEC)
#define SEC (US_NSEC_PER_SEC)
#define T_BASE (1000 * SEC) /* the virtual clock's start */

/* RFC 9438 §5.1's constants, and §4.3's alpha_cubic */
static const double C = 0.4, BETA = 0.7;
#define ALPHA (3 * (1 - BETA) / (1 + BETA))

static struct us_clock clk;
static struct us_stack *st;
static struct tcp_sock *tp;

static void cc_up(const char *name)
{
	struct us_stack_config cfg = { .seed = 7, .tcp_congestion = name };

	us_clock_init_virtual(&clk, T_BASE);
	cfg.clock = &clk;
	st = us_stack_create(&cfg);
	ck_assert_ptr_nonnull(st);
	tp = (struct tcp_sock *)us_tcp_open(st);
	ck_assert_ptr_nonnull(tp);
	tp->state = TCP_ESTABLISHED; /* no tcp_set_state: nothing but the window is looked at */
	tp->mss = MSS;
	tp->cc->init(tp);
	tp->snd_una = tp->snd_nxt = tp->snd_max = 1000000;
}

static void cc_down(void)
{
	tp->state = TCP_CLOSED;
	us_tcp_close((struct us_tcp *)tp);
	ck_assert_uint_eq(st->tcp->count, 0);
	ck_assert_uint_eq(us_stack_destroy(st), 0);
}

/* The stack's clock at T_BASE + ms. */
static void at_ms(double ms)
{
	st->now = T_BASE + (uint64_t)(ms * 1e6);
}

/* An ACK of `bytes` with a full window in flight before it (the sender is limited by cwnd). */
static void ack(uint32_t bytes)
{
	tp->snd_nxt = tp->snd_max = tp->snd_una + tp->cwnd;
	tp->snd_una += bytes;
	tcp_cc_ack(tp, bytes);
}

/* Three duplicate ACKs with a full window in flight, then a full ACK that ends recovery with cwnd
 * = ssthresh (RFC 6582 §3.2 step 3). */
static void loss(void)
{
	tp->snd_nxt = tp->snd_max = tp->snd_una + tp->cwnd;
	tcp_cc_enter_recovery(tp);
	ck_assert(tp->flags & TF_IN_RECOVERY);
	ck_assert_uint_eq(tp->cwnd, tp->ssthresh + 3 * MSS);
	tp->snd_una = tp->snd_max;
	tp->cwnd = tp->ssthresh;
	tp->flags &= (uint16_t)~TF_IN_RECOVERY;
}

/* RFC 9438 eq. 2, milliseconds: K = cubic_root((W_max - cwnd_epoch) / C), windows in segments. */
static double rfc_k_ms(double w_max_seg, double cwnd_epoch_seg)
{
	return cbrt((w_max_seg - cwnd_epoch_seg) / C) * 1000;
}

/* RFC 9438 eq. 1 in bytes at t ms: (C * (t - K)^3 + W_max) segments. */
static double rfc_w(double w_max_bytes, double k_ms, double t_ms)
{
	double d = (t_ms - k_ms) / 1000;

	return (C * d * d * d + w_max_bytes / MSS) * MSS;
}

/* Eq. 2 over a range of windows and MSS, both signs: within a millisecond of the RFC's K. */
START_TEST(test_cubic_k)
{
	static const struct {
		uint32_t w_max, cwnd_epoch;
		uint16_t mss;
	} c[] = {
		{ 100000, 70000, 1000 },	   /* cbrt(75) = 4.217 s */
		{ 10000, 7000, 1000 },		   /* cbrt(7.5) = 1.957 s */
		{ 1448000, 1013600, 1448 },	   /* 1,000 segments: cbrt(750) = 9.086 s */
		{ 76500, 63000, 1000 },		   /* fast convergence's: cbrt(33.75) = 3.232 s */
		{ 70000, 100000, 1000 },	   /* above W_max: -4.217 s */
		{ 50000, 50000, 1000 },		   /* 0 */
		{ 1u << 30, 0, 536 },		   /* the largest window: 171 s */
		{ UINT32_MAX, 0, 1 },		   /* the largest product (2^32 one-byte segments) */
		{ 1001, 1000, 1000 },		   /* a thousandth of a segment: 0.136 s */
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		double want = rfc_k_ms((double)c[i].w_max / c[i].mss, (double)c[i].cwnd_epoch / c[i].mss);
		int32_t k = tcp_cubic_k_ms(c[i].w_max, c[i].cwnd_epoch, c[i].mss);

		ck_assert_msg(fabs(k - want) <= 1.0, "case %zu: K %d ms, RFC %.3f ms", i, k, want);
	}
}
END_TEST

/* Eq. 1 at chosen times, concave and convex, with the implementation's K: within a byte; and
 * W_cubic(0) is cwnd_epoch, as K is defined to make it. */
START_TEST(test_cubic_w)
{
	struct tcp_cubic ca = { .w_max = 100000 };
	static const int64_t t[] = { 0, 100, 500, 1000, 2000, 3000, 4217, 5000, 6000, 8000, 20000, 60000 };

	ca.k_ms = tcp_cubic_k_ms(ca.w_max, 70000, MSS);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double want = rfc_w(ca.w_max, ca.k_ms, (double)t[i]);
		uint64_t w = tcp_cubic_w(&ca, MSS, t[i]);

		ck_assert_msg(fabs((double)w - want) <= 1.0, "t %lld ms: W %llu, RFC %.1f", (long long)t[i],
			      (unsigned long long)w, want);
	}
	ck_assert_uint_le(llabs((long long)tcp_cubic_w(&ca, MSS, 0) - 70000), 20);
	ck_assert_uint_eq(tcp_cubic_w(&ca, MSS, ca.k_ms), 100000); /* the plateau at t = K */
	/* far out the window saturates instead of overflowing; below zero it is zero */
	ck_assert_uint_gt(tcp_cubic_w(&ca, MSS, 1ll << 40), UINT32_MAX);
	ca.w_max = 1000;
	ck_assert_uint_eq(tcp_cubic_w(&ca, MSS, -(1ll << 40)), 0);
}
END_TEST

/* Bytes acknowledged, one at a time after a first lump, until cwnd grows: it grows by exactly one
 * MSS, after n bytes with n within tol of want. */
static void expect_growth_after(double want, double tol)
{
	uint32_t before = tp->cwnd, n = want > tol + 2 ? (uint32_t)(want - tol - 1) : 0;

	if (n) {
		ack(n);
		ck_assert_msg(tp->cwnd == before, "grew after %u bytes, expected about %.0f", n, want);
	}
	while (tp->cwnd == before) {
		ack(1);
		n++;
		ck_assert_msg(n <= want + tol, "no growth after %u bytes, expected about %.0f", n, want);
	}
	ck_assert_uint_eq(tp->cwnd, before + MSS);
	ck_assert_msg(fabs(n - want) <= tol, "grew after %u bytes, expected %.1f", n, want);
}

/* After a loss at cwnd = 100 segments: ssthresh and cwnd 70 (§4.6), W_max 100, and the epoch that
 * starts with the first ACK of congestion avoidance has K = cbrt(30 / 0.4) s (eq. 2). Then at
 * chosen times t, with cwnd on the curve, each ACK adds (target - cwnd) / cwnd segments per segment
 * (§4.4 concave, §4.5 convex), target = W_cubic(t + RTT): one MSS per cwnd * MSS / (target - cwnd)
 * bytes acknowledged. */
START_TEST(test_cubic_after_loss)
{
	static const double t_ms[] = { 200, 1000, 2000, 3000, 3500, 5000, 6500, 8000 };
	struct tcp_cubic *ca;
	uint32_t epoch_ms;

	cc_up("cubic");
	ca = tcp_cubic_state(tp);
	tp->srtt_us = 100000; /* RTT 100 ms */
	tp->cwnd = tp->ssthresh = 100 * MSS;
	at_ms(0);
	ack(MSS); /* an epoch in avoidance before the loss */
	loss();
	ck_assert_uint_eq(tp->ssthresh, 70 * MSS); /* cwnd * beta_cubic */
	ck_assert_uint_eq(tp->cwnd, 70 * MSS);
	ck_assert_uint_eq(ca->w_max, 100 * MSS);
	ck_assert_uint_eq(ca->cwnd_prior, 100 * MSS);
	at_ms(2000);
	ack(MSS); /* congestion avoidance begins: t_epoch */
	epoch_ms = ca->epoch_ms;
	ck_assert_uint_eq(epoch_ms, (uint32_t)((T_BASE + 2000 * MS) / MS));
	ck_assert_msg(fabs(ca->k_ms - rfc_k_ms(100, 70)) <= 1.0, "K %d ms", ca->k_ms);
	ck_assert_uint_eq(ca->w_est, 70 * MSS); /* §4.3: W_est = cwnd_epoch */

	for (size_t i = 0; i < sizeof(t_ms) / sizeof(t_ms[0]); i++) {
		double w = rfc_w(ca->w_max, ca->k_ms, t_ms[i]);
		double target = rfc_w(ca->w_max, ca->k_ms, t_ms[i] + 100);
		double c;

		at_ms(2000 + t_ms[i]);
		tp->cwnd = (uint32_t)w;
		tp->cwnd_cnt = 0;
		c = tp->cwnd;
		ck_assert_double_gt(w, ca->w_est); /* not in the Reno-friendly region */
		if (target > 1.5 * c)
			target = 1.5 * c;
		/* the integer W_cubic is within two bytes of the RFC's: so is target - cwnd */
		expect_growth_after(c * MSS / (target - c), c * MSS / (target - c) * 2 / (target - c) + 2);
	}
	ck_assert_uint_eq(ca->epoch_ms, epoch_ms); /* one epoch throughout */
	/* far below the curve the target is held to 1.5 cwnd (§4.2): one MSS per 2 MSS acked */
	at_ms(2000 + 9000);
	tp->cwnd = tp->ssthresh = 10 * MSS;
	tp->cwnd_cnt = 0;
	expect_growth_after(2 * MSS, 0);
	cc_down();
}
END_TEST

/* The Reno-friendly region (§4.3): with the clock standing still at the epoch's start, W_cubic stays
 * at cwnd_epoch, and cwnd follows W_est = W_est + alpha_cubic * segments_acked / cwnd instead;
 * alpha_cubic turns to 1 once W_est reaches cwnd_prior. The RFC's recurrence, run here per ACK in
 * floating point, and the implementation's (whole segments) stay within a segment of each other. */
START_TEST(test_cubic_reno_friendly)
{
	struct tcp_cubic *ca;
	double w_est, cwnd;
	int switched_at = -1;

	cc_up("cubic");
	ca = tcp_cubic_state(tp);
	tp->srtt_us = 0;
	tp->cwnd = tp->ssthresh = 100 * MSS;
	at_ms(0);
	ack(MSS);
	loss();
	at_ms(1000);
	ack(MSS); /* the epoch: W_est = 70 segments */
	w_est = 70;
	cwnd = 70;
	for (int i = 0; i < 8000; i++) {
		double alpha = w_est >= ca->cwnd_prior / (double)MSS ? 1.0 : ALPHA;

		if (alpha == 1.0 && switched_at < 0)
			switched_at = i;
		ack(MSS);
		w_est += alpha * 1 / cwnd;
		if (w_est > cwnd)
			cwnd = w_est;
		ck_assert_msg(fabs(tp->cwnd / (double)MSS - cwnd) <= 1.0, "ACK %d: cwnd %u, RFC %.2f segments", i,
			      tp->cwnd, cwnd);
	}
	/* from 70 to 100 segments at alpha 9/17 takes (100^2 - 70^2) / 2 / alpha ACKs, then alpha 1 */
	ck_assert_int_gt(switched_at, 4700);
	ck_assert_int_lt(switched_at, 4950);
	ck_assert_double_gt(cwnd, 125);
	/* the cubic alone would not have moved: W_cubic(0) = cwnd_epoch */
	ck_assert_uint_le(tcp_cubic_w(ca, MSS, 0), 70 * MSS + 20);
	cc_down();
}
END_TEST

/* Fast convergence (§4.7): a loss at a window below the last W_max sets W_max = cwnd * (1 +
 * beta_cubic) / 2, and K follows from it; a loss above W_max sets W_max = cwnd. */
START_TEST(test_cubic_fast_convergence)
{
	struct tcp_cubic *ca;

	cc_up("cubic");
	ca = tcp_cubic_state(tp);
	tp->cwnd = tp->ssthresh = 100 * MSS;
	at_ms(0);
	ack(MSS);
	loss();
	ck_assert_uint_eq(ca->w_max, 100 * MSS);
	at_ms(1000);
	ack(MSS);
	tp->cwnd = 90 * MSS; /* the next loss comes below W_max */
	loss();
	ck_assert_uint_eq(ca->w_max, (uint32_t)(90 * MSS * (1 + BETA) / 2)); /* 76.5 segments */
	ck_assert_uint_eq(ca->cwnd_prior, 90 * MSS);
	ck_assert_uint_eq(tp->ssthresh, 63 * MSS);
	at_ms(2000);
	ack(MSS);
	ck_assert_msg(fabs(ca->k_ms - rfc_k_ms(76.5, 63)) <= 1.0, "K %d ms", ca->k_ms);
	tp->cwnd = 120 * MSS; /* and one above it */
	loss();
	ck_assert_uint_eq(ca->w_max, 120 * MSS);
	ck_assert_uint_eq(tp->ssthresh, 84 * MSS);
	/* a small window keeps two segments (§4.6) */
	at_ms(3000);
	ack(MSS);
	tp->cwnd = tp->ssthresh = 2 * MSS;
	loss();
	ck_assert_uint_eq(tp->ssthresh, 2 * MSS);
	cc_down();
}
END_TEST

/* A timeout (§4.8): ssthresh = cwnd * beta_cubic and cwnd one segment, as Reno; ssthresh is held
 * when the timer expires again for the same segment (RFC 5681 §3.1). After slow start, the first
 * epoch has K = 0 and W_max = cwnd_epoch, W_est = cwnd_epoch: the window grows convex from where it
 * is. */
START_TEST(test_cubic_timeout)
{
	struct tcp_cubic *ca;
	uint32_t epoch_cwnd;

	cc_up("cubic");
	ca = tcp_cubic_state(tp);
	tp->srtt_us = 100000;
	tp->cwnd = tp->ssthresh = 100 * MSS;
	at_ms(0);
	ack(MSS);
	tp->retries = 1;
	tcp_cc_timeout(tp);
	ck_assert_uint_eq(tp->ssthresh, 70 * MSS);
	ck_assert_uint_eq(tp->cwnd, MSS);
	ck_assert_uint_eq(ca->w_max, 0);
	tp->retries = 2;
	tcp_cc_timeout(tp);
	ck_assert_uint_eq(tp->ssthresh, 70 * MSS);
	tp->retries = 0;
	/* slow start back to ssthresh: one MSS per ACK */
	at_ms(1000);
	for (int i = 0; tp->cwnd < tp->ssthresh; i++) {
		ck_assert_uint_eq(tp->cwnd, (uint32_t)(1 + i) * MSS);
		ack(MSS);
	}
	epoch_cwnd = tp->cwnd;
	ck_assert_uint_eq(epoch_cwnd, 70 * MSS);
	at_ms(2000);
	ack(MSS);
	ck_assert_int_eq(ca->k_ms, 0);
	ck_assert_uint_eq(ca->w_max, epoch_cwnd);
	ck_assert_uint_eq(ca->w_est, epoch_cwnd);
	/* W_cubic(t) = cwnd_epoch + C t^3 */
	ck_assert_uint_eq(tcp_cubic_w(ca, MSS, 2000), epoch_cwnd + (uint32_t)(C * 8 * MSS));
	cc_down();
}
END_TEST

/* A window the sender does not fill does not grow (§4.6 with cwnd for flight_size, §5.8), in slow
 * start or avoidance; the epoch starts again once it is filled. */
START_TEST(test_cubic_app_limited)
{
	struct tcp_cubic *ca;

	cc_up("cubic");
	ca = tcp_cubic_state(tp);
	tp->srtt_us = 100000;
	/* slow start with 3 of 10 segments in flight */
	tp->snd_nxt = tp->snd_max = tp->snd_una + 3 * MSS;
	tp->snd_una += MSS;
	tcp_cc_ack(tp, MSS);
	ck_assert_uint_eq(tp->cwnd, 10 * MSS);
	/* avoidance */
	tp->cwnd = tp->ssthresh = 100 * MSS;
	at_ms(0);
	ack(MSS);
	loss();
	at_ms(1000);
	ack(MSS);
	ck_assert_uint_ne(ca->w_est, 0);
	at_ms(5000);
	tp->snd_nxt = tp->snd_max = tp->snd_una + 20 * MSS;
	tp->snd_una += 2 * MSS;
	tcp_cc_ack(tp, 2 * MSS);
	ck_assert_uint_eq(tp->cwnd, 70 * MSS);
	ck_assert_uint_eq(ca->w_est, 0);
	at_ms(6000);
	ack(MSS);
	ck_assert_uint_eq(ca->epoch_ms, (uint32_t)((T_BASE + 6000 * MS) / MS));
	/* restarted from the window it stands at, on the same curve (W_max kept): the four seconds
	 * it did not grow in do not count */
	ck_assert_uint_eq(ca->w_max, 100 * MSS);
	ck_assert_msg(fabs(ca->k_ms - rfc_k_ms(100, 70)) <= 1.0, "K %d ms", ca->k_ms);
	cc_down();
}
END_TEST

/* NewReno as it was: RFC 5681 slow start (min(N, SMSS) per ACK) and congestion avoidance (one SMSS
 * per cwnd of bytes), fast retransmit with ssthresh = max(FlightSize / 2, 2 SMSS) and cwnd =
 * ssthresh + 3 SMSS (§3.2), the timeout's loss window of one segment (§3.1) - ssthresh from the
 * flight each time. */
START_TEST(test_newreno_unchanged)
{
	cc_up(NULL);
	ck_assert_ptr_eq(tp->cc, &tcp_newreno);
	ck_assert_ptr_null(tcp_newreno.on_timeout);
	ck_assert_uint_eq(tp->cwnd, 10 * MSS);
	ck_assert_uint_eq(tp->ssthresh, UINT32_MAX);
	ack(500);
	ck_assert_uint_eq(tp->cwnd, 10 * MSS + 500);
	ack(3000);
	ck_assert_uint_eq(tp->cwnd, 11 * MSS + 500);
	/* avoidance, whether or not the window is full */
	tp->cwnd = tp->ssthresh = 10 * MSS;
	tp->cwnd_cnt = 0;
	for (int i = 0; i < 9; i++)
		ack(MSS);
	ck_assert_uint_eq(tp->cwnd, 10 * MSS);
	tp->snd_nxt = tp->snd_una; /* nothing in flight */
	tp->snd_una += MSS;
	tp->snd_nxt = tp->snd_una;
	tcp_cc_ack(tp, MSS);
	ck_assert_uint_eq(tp->cwnd, 11 * MSS);
	ck_assert_uint_eq(tp->cwnd_cnt, 0);
	/* fast retransmit */
	tp->snd_nxt = tp->snd_max = tp->snd_una + 20 * MSS;
	tcp_cc_enter_recovery(tp);
	ck_assert_uint_eq(tp->ssthresh, 10 * MSS);
	ck_assert_uint_eq(tp->cwnd, 13 * MSS);
	ck_assert_uint_eq(tp->recover, tp->snd_max);
	ck_assert(tp->flags & TF_IN_RECOVERY);
	tp->flags &= (uint16_t)~TF_IN_RECOVERY;
	tp->snd_nxt = tp->snd_max = tp->snd_una + MSS;
	tcp_cc_enter_recovery(tp);
	ck_assert_uint_eq(tp->ssthresh, 2 * MSS);
	/* a timeout: the flight's half, the window one segment */
	tp->snd_nxt = tp->snd_max = tp->snd_una + 30 * MSS;
	tp->cwnd_cnt = 123;
	tp->dupacks = 2;
	tp->retries = 1;
	tcp_cc_timeout(tp);
	ck_assert_uint_eq(tp->ssthresh, 15 * MSS);
	ck_assert_uint_eq(tp->cwnd, MSS);
	ck_assert_uint_eq(tp->cwnd_cnt, 0);
	ck_assert_uint_eq(tp->dupacks, 0);
	ck_assert(!(tp->flags & TF_IN_RECOVERY));
	/* RFC 5681 §3.1: a second expiry for a segment the timer already resent holds ssthresh (else
	 * the collapsed flight would halve it to 2 SMSS) */
	tp->snd_nxt = tp->snd_una + MSS;
	tp->retries = 2;
	tcp_cc_timeout(tp);
	ck_assert_uint_eq(tp->ssthresh, 15 * MSS);
	ck_assert_uint_eq(tp->cwnd, MSS);
	cc_down();
}
END_TEST

/* The algorithms by name; the stack's default from its configuration (EINVAL for an unknown one);
 * a change mid-connection keeps the window and starts the new algorithm's own state afresh. */
START_TEST(test_cc_choose)
{
	struct us_stack_config cfg = { .seed = 1, .tcp_congestion = "vegas" };
	struct tcp_cubic *ca;

	ck_assert_ptr_eq(tcp_cc_find("newreno"), &tcp_newreno);
	ck_assert_ptr_eq(tcp_cc_find("cubic"), &tcp_cubic);
	ck_assert_ptr_null(tcp_cc_find("CUBIC"));
	ck_assert_ptr_null(tcp_cc_find("reno"));
	ck_assert_ptr_null(tcp_cc_find(""));
	ck_assert_ptr_null(tcp_cc_find(NULL));
	us_clock_init_virtual(&clk, T_BASE);
	cfg.clock = &clk;
	errno = 0;
	ck_assert_ptr_null(us_stack_create(&cfg));
	ck_assert_int_eq(errno, EINVAL);

	cc_up("cubic");
	ck_assert_ptr_eq(tp->cc, &tcp_cubic);
	ck_assert_str_eq(st->cfg.tcp_congestion, "cubic");
	ca = tcp_cubic_state(tp);
	tp->cwnd = tp->ssthresh = 100 * MSS;
	ack(MSS);
	loss();
	ck_assert_uint_ne(ca->w_max, 0);
	tcp_cc_set(tp, &tcp_newreno);
	ck_assert_uint_eq(tp->cwnd, 70 * MSS);
	ck_assert_uint_eq(tp->ssthresh, 70 * MSS);
	tcp_cc_set(tp, &tcp_cubic);
	ck_assert_ptr_eq(tp->cc, &tcp_cubic);
	ck_assert_uint_eq(tp->cwnd, 70 * MSS);
	ck_assert_uint_eq(tp->ssthresh, 70 * MSS);
	ck_assert_uint_eq(ca->w_max, 0);
	ck_assert_uint_eq(ca->w_est, 0);
	/* before the handshake only the choice is made: the window comes at the handshake */
	tp->state = TCP_CLOSED;
	tp->cwnd = 0;
	tcp_cc_set(tp, &tcp_newreno);
	ck_assert_ptr_eq(tp->cc, &tcp_newreno);
	ck_assert_uint_eq(tp->cwnd, 0);
	cc_down();
}
END_TEST

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	s.sin_addr.s_addr = htonl(addr);
	return s;
}
#define SA(x) ((struct sockaddr *)(x))

static void expect_cc(int fd, const char *name)
{
	char buf[32];
	socklen_t len = sizeof(buf);

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(us_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, buf, &len), 0);
	ck_assert_int_eq(len, 16); /* Linux's TCP_CA_NAME_MAX, the name NUL-padded */
	ck_assert_str_eq(buf, name);
	for (size_t i = strlen(name); i < 16; i++)
		ck_assert_int_eq(buf[i], 0);
	ck_assert_int_eq(buf[16], 'x');
}

/* TCP_CONGESTION as Linux has it: set by name (up to 15 bytes, ended by a NUL or optlen; ENOENT
 * for an unknown one, EINVAL for an empty optlen), read back NUL-padded and cut to optlen. A
 * listener's choice goes to the connections it accepts; a connection may change later. */
START_TEST(test_cc_sockopt)
{
	struct two t;
	struct sockaddr_in any = sin_of(0, 80), dst = sin_of(B_IP, 80);
	char buf[8];
	socklen_t len;
	int lfd, cfd, sfd, ufd;

	two_up(&t, NULL, NULL);
	lfd = us_socket_on(t.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	expect_cc(lfd, "newreno");
	ck_assert_int_eq(us_setsockopt(lfd, IPPROTO_TCP, TCP_CONGESTION, "cubic", 5), 0);
	expect_cc(lfd, "cubic");
	len = 3;
	ck_assert_int_eq(us_getsockopt(lfd, IPPROTO_TCP, TCP_CONGESTION, buf, &len), 0);
	ck_assert_int_eq(len, 3);
	ck_assert_mem_eq(buf, "cub", 3);
	ck_assert_int_eq(us_setsockopt(lfd, IPPROTO_TCP, TCP_CONGESTION, "vegas", 6), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(us_setsockopt(lfd, IPPROTO_TCP, TCP_CONGESTION, "cubic", 4), -1); /* "cubi" */
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(us_setsockopt(lfd, IPPROTO_TCP, TCP_CONGESTION, "cubic", 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(us_setsockopt(lfd, IPPROTO_TCP, TCP_CONGESTION, NULL, 5), -1);
	ck_assert_int_eq(errno, EFAULT);
	ck_assert_int_eq(us_setsockopt(lfd, IPPROTO_TCP, TCP_CONGESTION, "newreno\0junk", 12), 0);
	expect_cc(lfd, "newreno");
	ck_assert_int_eq(us_setsockopt(lfd, IPPROTO_TCP, TCP_CONGESTION, "cubic", 6), 0);
	ufd = us_socket_on(t.b, AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(us_setsockopt(ufd, IPPROTO_TCP, TCP_CONGESTION, "cubic", 6), -1);
	ck_assert_int_eq(errno, ENOPROTOOPT);
	us_close(ufd);

	ck_assert_int_eq(us_bind(lfd, SA(&any), sizeof(any)), 0);
	ck_assert_int_eq(us_listen(lfd, 4), 0);
	cfd = us_socket_on(t.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_connect(cfd, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(errno, EINPROGRESS);
	two_run(&t, 10 * MS);
	sfd = us_accept(lfd, NULL, NULL);
	ck_assert_int_ge(sfd, 3);
	expect_cc(sfd, "cubic");
	expect_cc(cfd, "newreno");
	ck_assert_int_eq(us_setsockopt(cfd, IPPROTO_TCP, TCP_CONGESTION, "cubic", 6), 0);
	expect_cc(cfd, "cubic");
	ck_assert_int_eq(us_send(cfd, "hello", 5, 0), 5);
	two_run(&t, 10 * MS);
	ck_assert_int_eq(us_recv(sfd, buf, sizeof(buf), 0), 5);
	us_close(cfd);
	us_close(sfd);
	us_close(lfd);
	two_run(&t, 100 * SEC); /* through TIME-WAIT */
	two_down(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tcp_cc");
	TCase *tc = test_tcase("tcp_cc");

	tcase_add_test(tc, test_cubic_k);
	tcase_add_test(tc, test_cubic_w);
	tcase_add_test(tc, test_cubic_after_loss);
	tcase_add_test(tc, test_cubic_reno_friendly);
	tcase_add_test(tc, test_cubic_fast_convergence);
	tcase_add_test(tc, test_cubic_timeout);
	tcase_add_test(tc, test_cubic_app_limited);
	tcase_add_test(tc, test_newreno_unchanged);
	tcase_add_test(tc, test_cc_choose);
	tcase_add_test(tc, test_cc_sockopt);
	suite_add_tcase(s, tc);
	return test_run(s);
}
