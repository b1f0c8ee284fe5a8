/*
 * tcp_cubic.c - CUBIC congestion control (RFC 9438) behind struct tcp_cc_ops.
 *
 * Slow start is NewReno's (RFC 9438 §4.10). After a loss, congestion avoidance follows the cubic
 * W_cubic(t) = C*(t-K)^3 + W_max (§4.2) from the start of the avoidance epoch: concave below W_max
 * (§4.4), convex above it (§4.5), and never slower than the window Reno would have (W_est, the
 * Reno-friendly region, §4.3). On a loss ssthresh = cwnd * beta_cubic (§4.6), with fast convergence
 * lowering W_max when the window is still below the last one (§4.7); a timeout collapses the window
 * as Reno does but sets ssthresh the same way, and the first epoch after it starts with K = 0 (§4.8).
 *
 * All in integers, in bytes and milliseconds on the stack's clock: C = 0.4 segments/s^3 is 2/5,
 * beta_cubic = 0.7 is 7/10, alpha_cubic = 3(1-beta)/(1+beta) is 9/17, and K is an integer cube root.
 * The state (struct tcp_cubic, tcp_cubic.h) lives in tcp_sock.cc_priv.
 */
#include "tcp_cubic.h"

#include <string.h>

#define CUBIC_BETA_NUM 7 /* beta_cubic = 7/10 */
#define CUBIC_BETA_DEN 10
#define CUBIC_ALPHA_NUM 9 /* alpha_cubic = 3 * (1 - 0.7) / (1 + 0.7) = 9/17 */
#define CUBIC_ALPHA_DEN 17
/* 1 / C in segments per s^3, times 10^9 for milliseconds: K^3 = (W_max - cwnd_epoch) / C */
#define CUBIC_INV_C_MS3 2500000000ull
/* |t - K| beyond this (17 minutes) is taken as this: the window is far past any limit by then */
#define CUBIC_MAX_OFFSET_MS (1u << 20)
/* an epoch older than this restarts where it stands, so that t fits 32 bits */
#define CUBIC_MAX_EPOCH_MS (1u << 30)

static uint32_t cubic_now_ms(const struct tcp_sock *tp)
{
	return (uint32_t)(tp->st->now / US_NSEC_PER_MSEC);
}

/* The integer cube root of x, rounded down (digit by digit, three bits at a time). */
static uint32_t cubic_cbrt(uint64_t x)
{
	uint64_t y = 0;

	for (int s = 63; s >= 0; s -= 3) {
		uint64_t b;

		y <<= 1;
		b = 3 * y * (y + 1) + 1;
		if ((x >> s) >= b) {
			x -= b << s;
			y++;
		}
	}
	return (uint32_t)y;
}

/* RFC 9438 eq. 2 in milliseconds: K = cubic_root((W_max - cwnd_epoch) / C), of either sign. */
int32_t tcp_cubic_k_ms(uint32_t w_max, uint32_t cwnd_epoch, uint16_t mss)
{
	uint32_t d = w_max > cwnd_epoch ? w_max - cwnd_epoch : cwnd_epoch - w_max;
	/* d < 2^32 bytes and mss >= 1: at most 2.5e9 * 2^32 < 2^64 */
	int32_t k = (int32_t)cubic_cbrt(CUBIC_INV_C_MS3 * d / mss);

	return w_max >= cwnd_epoch ? k : -k;
}

/* RFC 9438 eq. 1 in bytes, t in milliseconds since t_epoch: W_max + C * (t - K)^3 segments. */
uint64_t tcp_cubic_w(const struct tcp_cubic *ca, uint16_t mss, int64_t t_ms)
{
	int64_t d = t_ms - ca->k_ms;
	uint64_t a = (uint64_t)(d < 0 ? -d : d), delta;

	if (a > CUBIC_MAX_OFFSET_MS)
		a = CUBIC_MAX_OFFSET_MS;
	/* C * a^3 / 10^9 segments = a^3 / 2.5e9: first in thousandths of a segment (a^3 < 2^61) */
	delta = a * a * a / (CUBIC_INV_C_MS3 / 1000) * mss / 1000;
	if (d >= 0)
		return (uint64_t)ca->w_max + delta;
	return delta >= ca->w_max ? 0 : ca->w_max - delta;
}

/* A congestion avoidance epoch starts at this ACK (§4.2): t_epoch, cwnd_epoch, K, and W_est. */
static void cubic_epoch_start(struct tcp_sock *tp, struct tcp_cubic *ca, uint32_t now_ms)
{
	ca->epoch_ms = now_ms;
	if (ca->w_max == 0) {
		/* §4.8 after a timeout (and before any loss): K = 0, W_max = cwnd_epoch */
		ca->w_max = tp->cwnd;
		ca->k_ms = 0;
	} else {
		ca->k_ms = tcp_cubic_k_ms(ca->w_max, tp->cwnd, tp->mss);
	}
	ca->w_est = tp->cwnd; /* §4.3: W_est = cwnd_epoch */
	ca->w_est_cnt = 0;
	tp->cwnd_cnt = 0;
}

/* §4.3: W_est += alpha_cubic * segments_acked / cwnd, one segment at a time; alpha_cubic becomes 1
 * once W_est has reached cwnd_prior. */
static void cubic_reno_friendly(struct tcp_sock *tp, struct tcp_cubic *ca, uint32_t acked)
{
	uint64_t per_seg = ca->w_est >= ca->cwnd_prior
				   ? tp->cwnd
				   : (uint64_t)tp->cwnd * CUBIC_ALPHA_DEN / CUBIC_ALPHA_NUM;
	uint64_t cnt = (uint64_t)ca->w_est_cnt + acked;

	if (cnt >= per_seg) {
		uint64_t n = cnt / per_seg;
		uint64_t w = ca->w_est + n * tp->mss;

		ca->w_est = w > (1u << 30) ? 1u << 30 : (uint32_t)w;
		cnt -= n * per_seg;
	}
	ca->w_est_cnt = (uint32_t)cnt; /* < per_seg < 2^31 */
}

/* §4.4, §4.5: cwnd grows by (target - cwnd) / cwnd per segment acknowledged - one MSS for every
 * cwnd * MSS / (target - cwnd) bytes - with target W_cubic(t + RTT) held within [cwnd, 1.5 cwnd]. */
static void cubic_grow(struct tcp_sock *tp, const struct tcp_cubic *ca, int64_t t_ms, uint32_t acked)
{
	uint64_t target = tcp_cubic_w(ca, tp->mss, t_ms + tp->srtt_us / 1000);
	uint64_t per_mss, cnt;

	if (target > tp->cwnd + (uint64_t)tp->cwnd / 2)
		target = tp->cwnd + (uint64_t)tp->cwnd / 2;
	if (target <= tp->cwnd)
		return; /* target = cwnd: no growth */
	per_mss = (uint64_t)tp->cwnd * tp->mss / (target - tp->cwnd);
	if (per_mss == 0)
		per_mss = 1;
	cnt = (uint64_t)tp->cwnd_cnt + acked;
	if (cnt >= per_mss) {
		uint64_t n = cnt / per_mss;
		tp->cwnd += (uint32_t)(n * tp->mss); /* n <= acked / (2 MSS): the 1.5 cwnd bound */
		cnt -= n * per_mss;
	}
	tp->cwnd_cnt = cnt > UINT32_MAX ? UINT32_MAX : (uint32_t)cnt;
}

static void cubic_init(struct tcp_sock *tp)
{
	tcp_newreno.init(tp); /* the initial window and slow start are NewReno's */
	memset(tp->cc_priv, 0, sizeof(tp->cc_priv));
}

static void cubic_on_ack(struct tcp_sock *tp, uint32_t acked)
{
	struct tcp_cubic *ca = tcp_cubic_state(tp);
	/* the bytes that were in flight before this ACK */
	uint64_t flight = (uint64_t)tcp_flight(tp) + acked;
	uint32_t now_ms = cubic_now_ms(tp), t;

	if (tp->cwnd < tp->ssthresh) {
		/* slow start (§4.10, RFC 5681 §3.1), while the window is in use (Linux's
		 * tcp_is_cwnd_limited): ssthresh comes from cwnd, which must not run ahead of the
		 * flight (§4.6) */
		if (2 * flight > tp->cwnd)
			tp->cwnd += acked < tp->mss ? acked : tp->mss;
		return;
	}
	if (flight + tp->mss <= tp->cwnd) {
		/* not limited by the window (the application, or the peer's window): no growth
		 * (§4.6, §5.8), and the time spent so does not count - the epoch restarts from the
		 * window it stands at, on the same curve, when the window is full again */
		ca->w_est = 0;
		return;
	}
	if (ca->w_est == 0)
		cubic_epoch_start(tp, ca, now_ms);
	t = now_ms - ca->epoch_ms;
	if (t > CUBIC_MAX_EPOCH_MS) {
		cubic_epoch_start(tp, ca, now_ms);
		t = 0;
	}
	cubic_reno_friendly(tp, ca, acked);
	if (tcp_cubic_w(ca, tp->mss, t) < ca->w_est) {
		/* §4.3: the Reno-friendly region, cwnd = W_est */
		if (ca->w_est > tp->cwnd)
			tp->cwnd = ca->w_est;
		return;
	}
	cubic_grow(tp, ca, t, acked);
}

/* §4.6 multiplicative decrease with §4.7 fast convergence, for fast retransmit and timeout alike. */
static uint32_t cubic_ssthresh(struct tcp_sock *tp)
{
	struct tcp_cubic *ca = tcp_cubic_state(tp);
	uint32_t cwnd = tp->cwnd;
	uint64_t ss;

	if (tp->retries > 1)
		return tp->ssthresh; /* RFC 5681 §3.1: a segment the timer already resent holds ssthresh */
	/* §4.7: a window that stopped below the last W_max releases bandwidth for new flows */
	if (cwnd < ca->w_max)
		ca->w_max = (uint32_t)((uint64_t)cwnd * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) /
				       (2 * CUBIC_BETA_DEN));
	else
		ca->w_max = cwnd;
	ca->cwnd_prior = cwnd;
	ca->w_est = 0; /* the epoch ends; the next one starts when avoidance does */
	/* ssthresh = cwnd * beta_cubic (the RFC allows cwnd for flight_size when cwnd does not run
	 * ahead of the flight: see cubic_on_ack), and at least 2 segments */
	ss = (uint64_t)cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN;
	return ss > 2u * tp->mss ? (uint32_t)ss : 2u * tp->mss;
}

static void cubic_on_timeout(struct tcp_sock *tp)
{
	/* §4.8: the first epoch after a timeout has K = 0 and W_max = cwnd_epoch */
	tcp_cubic_state(tp)->w_max = 0;
}

const struct tcp_cc_ops tcp_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.ssthresh = cubic_ssthresh,
	.on_timeout = cubic_on_timeout,
};
