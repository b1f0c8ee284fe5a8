/*
 * tcp_timer.c - a connection's timers: an array of deadlines (RACK-TLP's loss timer, retransmission,
 * persist, keepalive, delayed ACK, 2MSL) behind one entry in the stack's timer queue, armed at the
 * earliest of them, and what each does when it expires (the loss timer's work is in tcp_rack.c). The
 * RTO is computed as RFC 6298 says.
 */
#include "tcp.h"

#include <errno.h>

static void tcp_timer_fire(struct us_timer *t, uint64_t now);

void tcp_timer_init(struct tcp_sock *tp)
{
	for (int i = 0; i < TCP_T_MAX; i++)
		tp->deadline[i] = US_TIME_NEVER;
	timer_init(&tp->timer, tcp_timer_fire, tp);
}

/* Arm the connection's queue entry at its earliest deadline. */
static void tcp_timer_update(struct tcp_sock *tp)
{
	uint64_t next = US_TIME_NEVER;

	for (int i = 0; i < TCP_T_MAX; i++)
		if (tp->deadline[i] < next)
			next = tp->deadline[i];
	if (next == US_TIME_NEVER)
		timer_cancel(&tp->st->timers, &tp->timer);
	else if (!timer_pending(&tp->timer) || tp->timer.expires_ns != next)
		timer_arm(&tp->st->timers, &tp->timer, next);
}

void tcp_timer_set(struct tcp_sock *tp, enum tcp_timer_id id, uint64_t when)
{
	tp->deadline[id] = when;
	tcp_timer_update(tp);
}

void tcp_timer_clear(struct tcp_sock *tp, enum tcp_timer_id id)
{
	if (tp->deadline[id] == US_TIME_NEVER)
		return;
	tp->deadline[id] = US_TIME_NEVER;
	tcp_timer_update(tp);
}

void tcp_timers_stop(struct tcp_sock *tp)
{
	for (int i = 0; i < TCP_T_MAX; i++)
		tp->deadline[i] = US_TIME_NEVER;
	timer_cancel(&tp->st->timers, &tp->timer);
}

void tcp_rearm_rto(struct tcp_sock *tp)
{
	if (tp->snd_una == tp->snd_max)
		tcp_timer_clear(tp, TCP_T_RETRANS);
	else
		tcp_timer_set(tp, TCP_T_RETRANS, tp->st->now + (uint64_t)tp->rto_us * 1000);
}

/* RFC 6298 §2: SRTT, RTTVAR and RTO from a measurement R (microseconds). */
void tcp_rtt_sample(struct tcp_sock *tp, uint32_t r)
{
	const struct us_stack_config *c = &tp->st->cfg;
	uint64_t rto;

	if (r == 0)
		r = 1;
	if (tp->srtt_us == 0) {
		tp->srtt_us = r;
		tp->rttvar_us = r / 2;
	} else {
		uint32_t delta = tp->srtt_us > r ? tp->srtt_us - r : r - tp->srtt_us;
		tp->rttvar_us = (3 * tp->rttvar_us + delta) / 4; /* beta = 1/4 */
		tp->srtt_us = (7 * tp->srtt_us + r) / 8;	/* alpha = 1/8 */
	}
	/* RTO = SRTT + max(G, K*RTTVAR), K = 4; the clock granularity G is 1 microsecond here */
	rto = (uint64_t)tp->srtt_us + (4 * (uint64_t)tp->rttvar_us > 1 ? 4 * (uint64_t)tp->rttvar_us : 1);
	if (rto * 1000 < c->tcp_rto_min_ns)
		rto = c->tcp_rto_min_ns / 1000;
	if (rto * 1000 > c->tcp_rto_max_ns)
		rto = c->tcp_rto_max_ns / 1000;
	tp->rto_us = (uint32_t)rto;
	tp->backoff = 0;
}

/* Returns true when tp was freed. */
static bool tcp_retransmit_timer(struct tcp_sock *tp)
{
	struct us_stack *st = tp->st;
	const struct us_stack_config *c = &st->cfg;
	uint32_t limit;

	if (tp->snd_una == tp->snd_max)
		return false;
	if (tp->state == TCP_SYN_SENT)
		limit = c->tcp_syn_retries;
	else if (tp->state == TCP_SYN_RECEIVED)
		limit = c->tcp_synack_retries;
	else
		limit = c->tcp_retries2;
	if (tp->retries >= limit) {
		bool orphan = (tp->flags & TF_ORPHAN) || (tp->parent && !tp->on_accept_list);
		if (tp->state == TCP_SYN_SENT)
			TCP_INC(st, AttemptFails);
		else
			TCPX_INC(st, TCPAbortOnTimeout);
		tcp_done(tp, -ETIMEDOUT, TCP_SR_RTO);
		return orphan;
	}
	TCPX_INC(st, TCPTimeouts);
	if (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECEIVED)
		TCPX_INC(st, TCPSynRetrans);
	tp->retries++;
	/* RFC 6298 §5.5: back off the timer; §5.6/5.7 keep the doubled value until a new sample */
	tp->backoff++;
	tp->rto_us = tp->rto_us * 2 > c->tcp_rto_max_ns / 1000 ? (uint32_t)(c->tcp_rto_max_ns / 1000)
							       : tp->rto_us * 2;
	if (tp->state >= TCP_ESTABLISHED) {
		tcp_cc_timeout(tp);
		tcp_sack_reset(tp); /* RFC 2018 §8: the receiver may have reneged */
		tcp_rack_rto(tp);
		/* RFC 6582 §4: what was sent before the timeout does not start a fast retransmit; the
		 * duplicates that going back to SND.UNA provokes are not a new loss */
		tp->recover = tp->snd_max;
	}
	tcp_retransmit_head(tp);
	return false;
}

static bool tcp_persist_timer(struct tcp_sock *tp)
{
	uint64_t next;

	if (tp->snd_wnd != 0 || !tp->send_head) {
		tp->probes = 0;
		return false;
	}
	/* RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17: probe a zero window, backing off exponentially */
	TCPX_INC(tp->st, TCPWinProbe);
	tcp_send_probe(tp);
	if (tp->probes < 16)
		tp->probes++;
	next = ((uint64_t)tp->rto_us * 1000) << tp->probes;
	if (next > tp->st->cfg.tcp_rto_max_ns || next == 0)
		next = tp->st->cfg.tcp_rto_max_ns;
	tcp_timer_set(tp, TCP_T_PERSIST, tp->st->now + next);
	return false;
}

static bool tcp_keepalive_timer(struct tcp_sock *tp)
{
	struct us_stack *st = tp->st;
	uint64_t idle = st->now - tp->last_rx_ns;

	if (!(tp->flags & TF_KEEPALIVE) || tp->state < TCP_ESTABLISHED || tp->state == TCP_TIME_WAIT)
		return false;
	if (idle < tp->keepidle_s * US_NSEC_PER_SEC && tp->probes == 0) {
		tcp_timer_set(tp, TCP_T_KEEPALIVE, tp->last_rx_ns + tp->keepidle_s * US_NSEC_PER_SEC);
		return false;
	}
	if (tp->probes >= tp->keepcnt) {
		/* RFC 1122 §4.2.3.6: the peer is gone */
		bool orphan = tp->flags & TF_ORPHAN;
		TCPX_INC(st, TCPAbortOnTimeout);
		tcp_send_active_reset(tp);
		tcp_done(tp, -ETIMEDOUT, TCP_SR_KEEPALIVE);
		return orphan;
	}
	TCPX_INC(st, TCPKeepAlive);
	tcp_send_probe(tp);
	tp->probes++;
	tcp_timer_set(tp, TCP_T_KEEPALIVE, st->now + tp->keepintvl_s * US_NSEC_PER_SEC);
	return false;
}

static bool tcp_2msl_timer(struct tcp_sock *tp)
{
	bool orphan = (tp->flags & TF_ORPHAN) || (tp->parent && !tp->on_accept_list);

	/* TIME-WAIT is over (RFC 9293 §3.10.8), or an orphan waited too long in FIN-WAIT-2 */
	tcp_done(tp, 0, tp->state == TCP_TIME_WAIT ? TCP_SR_2MSL : TCP_SR_FIN_WAIT_2_TIMEOUT);
	return orphan;
}

static void tcp_timer_fire(struct us_timer *t, uint64_t now)
{
	struct tcp_sock *tp = t->arg;

	tp->st->now = now;
	for (int id = 0; id < TCP_T_MAX; id++) {
		bool freed = false;

		if (tp->deadline[id] > now)
			continue;
		tp->deadline[id] = US_TIME_NEVER;
		switch (id) {
		case TCP_T_RETRANS:
			freed = tcp_retransmit_timer(tp);
			break;
		case TCP_T_PERSIST:
			freed = tcp_persist_timer(tp);
			break;
		case TCP_T_KEEPALIVE:
			freed = tcp_keepalive_timer(tp);
			break;
		case TCP_T_DELACK:
			TCPX_INC(tp->st, DelayedACKs);
			tcp_send_ack(tp);
			break;
		case TCP_T_2MSL:
			freed = tcp_2msl_timer(tp);
			break;
		case TCP_T_LOSS:
			tcp_rack_timer(tp);
			break;
		default:
			break;
		}
		if (freed)
			return;
		if (tp->state == TCP_CLOSED)
			return; /* tcp_done stopped the timers; the user still holds the socket */
	}
	tcp_timer_update(tp);
}
