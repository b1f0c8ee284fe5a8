/*
 * tcp_cc.c - congestion control (RFC 5681) behind an ops table, and NewReno, the default.
 *
 * The window is kept in bytes. Slow start grows it by up to one MSS per ACK (RFC 5681 §3.1, with
 * RFC 3465's limit of one SMSS per ACK); congestion avoidance by about one MSS per window (the byte
 * counting of RFC 5681 §3.1, eq. 3). A loss found by three duplicate ACKs enters fast recovery
 * (§3.2); a retransmission timeout collapses the window to one segment (§3.1, eq. 4 and the loss
 * window).
 *
 * The algorithms are found by name (tcp_cc_find): the stack's default comes from its configuration
 * (tcp_congestion), a socket's own from TCP_CONGESTION. CUBIC is in tcp_cubic.c.
 */
#include "tcp.h"

#include <string.h>

/* The initial window: RFC 6928's ten segments, as Linux. */
#define TCP_INIT_CWND_SEGS 10

static void newreno_init(struct tcp_sock *tp)
{
	tp->cwnd = TCP_INIT_CWND_SEGS * (uint32_t)tp->mss;
	tp->ssthresh = UINT32_MAX; /* RFC 5681 §3.1: arbitrarily high */
	tp->cwnd_cnt = 0;
}

static void newreno_on_ack(struct tcp_sock *tp, uint32_t acked)
{
	if (tp->cwnd < tp->ssthresh) {
		/* slow start: cwnd += min(N, SMSS) */
		tp->cwnd += acked < tp->mss ? acked : tp->mss;
		return;
	}
	/* congestion avoidance: one SMSS per cwnd of bytes acknowledged */
	tp->cwnd_cnt += acked;
	if (tp->cwnd_cnt >= tp->cwnd) {
		tp->cwnd_cnt -= tp->cwnd;
		tp->cwnd += tp->mss;
	}
}

static uint32_t newreno_ssthresh(struct tcp_sock *tp)
{
	/* RFC 5681 eq. 4: max(FlightSize / 2, 2 * SMSS); §3.1: a segment the timer already resent
	 * holds ssthresh (else it falls to 2 SMSS as the collapsed flight is halved again) */
	uint32_t half = tcp_flight(tp) / 2;

	if (tp->retries > 1)
		return tp->ssthresh;
	return half > 2u * tp->mss ? half : 2u * tp->mss;
}

const struct tcp_cc_ops tcp_newreno = {
	.name = "newreno",
	.init = newreno_init,
	.on_ack = newreno_on_ack,
	.ssthresh = newreno_ssthresh,
};

void tcp_cc_ack(struct tcp_sock *tp, uint32_t acked)
{
	tp->cc->on_ack(tp, acked);
	/* never more than the send buffer can fill, nor beyond what fits in 32 bits */
	if (tp->cwnd > (1u << 30))
		tp->cwnd = 1u << 30;
	tcp_trace(tp, TCP_TRACE_ACK);
}

void tcp_cc_enter_recovery(struct tcp_sock *tp)
{
	/* RFC 5681 §3.2 steps 2-3: ssthresh, then cwnd = ssthresh + 3*SMSS for the three dup ACKs */
	tp->ssthresh = tp->cc->ssthresh(tp);
	tp->cwnd = tp->ssthresh + 3u * tp->mss;
	tp->recover = tp->snd_max;
	tp->flags |= TF_IN_RECOVERY;
	tcp_trace(tp, TCP_TRACE_FAST_RETRANS);
}

void tcp_cc_timeout(struct tcp_sock *tp)
{
	/* RFC 5681 §3.1: ssthresh as eq. 4, cwnd to the loss window of one segment */
	tp->ssthresh = tp->cc->ssthresh(tp);
	tp->cwnd = tp->mss;
	tp->cwnd_cnt = 0;
	tp->dupacks = 0;
	tp->flags &= (uint16_t)~TF_IN_RECOVERY;
	if (tp->cc->on_timeout)
		tp->cc->on_timeout(tp);
	tcp_trace(tp, TCP_TRACE_RTO);
}

void tcp_cc_reduce(struct tcp_sock *tp)
{
	/* RFC 8985 §7.4.2: the probe repaired a loss of the last window; the response is fast
	 * recovery's reduction (RFC 5681 §3.2 step 2, or the algorithm's own) without the recovery */
	tp->ssthresh = tp->cc->ssthresh(tp);
	tp->cwnd = tp->ssthresh;
	tp->cwnd_cnt = 0;
	tcp_trace(tp, TCP_TRACE_ACK);
}

static const struct tcp_cc_ops *const tcp_cc_list[] = { &tcp_newreno, &tcp_cubic };

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(tcp_cc_list) / sizeof(tcp_cc_list[0]); i++)
		if (strcmp(tcp_cc_list[i]->name, name) == 0)
			return tcp_cc_list[i];
	return NULL;
}

void tcp_cc_set(struct tcp_sock *tp, const struct tcp_cc_ops *ops)
{
	uint32_t cwnd = tp->cwnd, ssthresh = tp->ssthresh;

	if (tp->cc == ops)
		return;
	tp->cc = ops;
	/* before the handshake the window is set up when it completes (tcp_input.c calls init) */
	if (tp->state == TCP_CLOSED || tp->state == TCP_LISTEN || tp->state == TCP_SYN_SENT)
		return;
	/* later, the new algorithm starts from the window the old one reached, as Linux's
	 * tcp_reinit_congestion_control keeps cwnd and ssthresh */
	ops->init(tp);
	tp->cwnd = cwnd;
	tp->ssthresh = ssthresh;
}
