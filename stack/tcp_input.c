/*
 * tcp_input.c - segment arrival, written in the order of RFC 9293 §3.10.7 so that it can be read
 * beside the RFC:
 *
 *   tcp_v4_rcv          checksum, options, lookup (established, then listener)
 *   tcp_rcv_closed      §3.10.7.1 no connection: a reset
 *   tcp_rcv_listen      §3.10.7.2 LISTEN: a SYN makes a SYN-RECEIVED child
 *   tcp_rcv_synsent     §3.10.7.3 SYN-SENT
 *   tcp_rcv_state_process  §3.10.7.4 the other states, step by step: check the sequence number
 *                       (with PAWS, RFC 7323), RST, (security), SYN, ACK, (URG), text, FIN
 *
 * Input never transmits on its own account: it sets TF_ACK_NOW or arms the delayed ACK, and
 * tcp_output() runs once at the end.
 */
#include "tcp.h"

#include <errno.h>
#include <string.h>

#include "checksum.h"
#include "latency.h"
#include "wire/ipv4.h"

/* RFC 7323 §5.5: TS.Recent older than 24 days is too old for PAWS */
#define PAWS_24DAYS_NS (24ull * 86400 * US_NSEC_PER_SEC)

static void tcp_drop(struct sk_buff *skb)
{
	skb_free(skb);
}

/* Negotiate what a SYN's options allow (RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC 2018 §2). */
static void tcp_syn_options(struct tcp_sock *tp, const struct tcp_opts *o, uint16_t route_mss)
{
	uint16_t peer = o->mss_ok && o->mss ? o->mss : 536;

	tp->rcv_mss = route_mss;
	tp->mss = peer < route_mss ? peer : route_mss;
	if (tcp_route_offload(tp->st, tp->raddr))
		tp->flags |= TF_OFFLOAD;
	tp->sack_ok = o->sack_ok && !tp->st->cfg.tcp_no_sack;
	tp->ts_ok = o->ts_ok && !tp->st->cfg.tcp_no_timestamps;
	if (tp->ts_ok) {
		tp->ts_recent = o->tsval;
		tp->ts_recent_ns = tp->st->now;
		tp->mss -= 12; /* every segment carries NOP NOP TS */
	}
	if (o->wscale_ok && !tp->st->cfg.tcp_no_window_scaling) {
		tp->wscale_ok = true;
		tp->snd_wscale = o->wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o->wscale;
	} else {
		tp->wscale_ok = false;
		tp->snd_wscale = 0;
		tp->rcv_wscale = 0;
	}
}

/* The scale that lets the receive buffer be advertised in 16 bits. */
uint8_t tcp_choose_wscale(uint32_t rcvbuf)
{
	uint8_t s = 0;

	while (s < TCP_MAX_WSCALE && (65535u << s) < rcvbuf)
		s++;
	return s;
}

/* RFC 6298 §5.7: when a SYN or SYN-ACK had to be sent again and no RTT was measured, the RTO is
 * re-initialized to 3 s as data transmission begins (Linux's TCP_TIMEOUT_FALLBACK). */
static void tcp_rto_after_handshake(struct tcp_sock *tp)
{
	if (tp->total_retrans && !tp->srtt_us) {
		tp->rto_us = 3000000;
		tp->backoff = 0;
	}
}

/* A listener's child, for a SYN (tcp_rcv_listen) or for the ACK that returns a SYN cookie
 * (tcp_syncookie_check): what it inherits from the listener, the peer's ISN and options, our ISS.
 * SYN-RECEIVED, hashed, on the SYN list; sending its SYN-ACK is the caller's affair. */
struct tcp_sock *tcp_child_new(struct tcp_sock *l, const struct sk_buff *skb, uint32_t irs,
			       const struct tcp_opts *o, uint32_t iss)
{
	struct us_stack *st = l->st;
	const uint8_t *ih = skb_network_header(skb), *th = skb_transport_header(skb);
	struct tcp_sock *c = tcp_sock_new(st);

	if (!c)
		return NULL;
	c->laddr = ipv4_daddr(ih);
	c->lport = tcp_dport(th);
	c->raddr = ipv4_saddr(ih);
	c->rport = tcp_sport(th);
	c->ts_offset = tcp_ts_offset(st, c->laddr, c->raddr);
	c->flags |= TF_PASSIVE | (l->flags & (TF_NODELAY | TF_KEEPALIVE));
	c->sndbuf = l->sndbuf;
	c->rcvbuf = l->rcvbuf;
	c->keepidle_s = l->keepidle_s;
	c->keepintvl_s = l->keepintvl_s;
	c->keepcnt = l->keepcnt;
	c->reuseaddr = l->reuseaddr;
	tcp_bind_hash(c); /* the child holds the port too (Linux's __inet_inherit_port) */
	c->irs = irs;
	c->rcv_nxt = irs + 1;
	c->rcv_adv = c->rcv_nxt;
	c->rcv_wscale = tcp_choose_wscale(c->rcvbuf);
	tcp_syn_options(c, o, tcp_route_mss(st, c->raddr));
	c->iss = iss;
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->recover = c->iss; /* RFC 6582 §3.2 step 1 */
	c->snd_wnd = TCP_SKB_CB(skb)->window; /* a SYN's window is never scaled */
	c->snd_wl1 = irs;
	c->max_snd_wnd = c->snd_wnd;
	c->last_rx_ns = st->now;
	c->segs_in = 1; /* the segment that made it, as Linux's tcp_create_openreq_child counts */
	c->cc->init(c);
	tcp_set_state(c, TCP_SYN_RECEIVED,
		      (TCP_SKB_CB(skb)->flags & TCPF_SYN) ? TCP_SR_RCV_SYN : TCP_SR_RCV_COOKIE_ACK);
	tcp_hash(c);
	tcp_child_add(l, c);
	TCP_INC(st, PassiveOpens);
	return c;
}

static void tcp_rcv_state_process(struct tcp_sock *tp, struct sk_buff *skb);

/* §3.10.7.2 LISTEN. Consumes skb. */
static void tcp_rcv_listen(struct tcp_sock *l, struct sk_buff *skb)
{
	struct us_stack *st = l->st;
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	const uint8_t *ih = skb_network_header(skb), *th = skb_transport_header(skb);
	struct tcp_sock *c;
	bool reset;

	if (cb->flags & TCPF_RST) {
		TCPX_INC(st, TCPRstDiscards);
		goto drop; /* "An incoming RST segment could not be valid ... ignore it" */
	}
	if (cb->flags & TCPF_ACK) {
		/* RFC 4987 §3.6: the third segment of a handshake whose SYN-ACK carried a SYN cookie
		 * makes the child, which takes it as SYN-RECEIVED takes the ACK of its SYN-ACK */
		c = tcp_syncookie_check(l, skb, &reset);
		if (c) {
			tcp_rcv_state_process(c, skb);
			return;
		}
		if (reset)
			tcp_send_reset(st, skb); /* "<SEQ=SEG.ACK><CTL=RST>" */
		goto drop;
	}
	/* §3.10.7.2 third: a SYN is answered; "any other control or text" comes with it is to be
	 * processed in SYN-RECEIVED, where without an ACK it is dropped: so a SYN+FIN gets a SYN-ACK and
	 * its FIN is forgotten (Linux and FreeBSD drop SYN+FIN outright, against port scans; we follow
	 * the RFC) */
	if (!(cb->flags & TCPF_SYN))
		goto drop;
	if (l->accept_len >= l->backlog + 1) {
		/* Linux: a full accept queue drops the SYN, cookies or not; the peer retries */
		TCPX_INC(st, ListenOverflows);
		TCPX_INC(st, ListenDrops);
		goto drop;
	}
	if (tcp_syncookie_wanted(l)) {
		/* RFC 4987 §3.6: no room in the SYN queue (or cookies always): answer, keep nothing */
		tcp_syncookie_send(l, skb);
		goto drop;
	}
	if (l->syn_len >= st->cfg.tcp_max_syn_backlog) {
		/* Linux without cookies: a full SYN queue drops the SYN; the peer retries */
		TCPX_INC(st, ListenDrops);
		goto drop;
	}
	c = tcp_child_new(l, skb, cb->seq, cb->opts,
			  tcp_isn(st, ipv4_daddr(ih), tcp_dport(th), ipv4_saddr(ih), tcp_sport(th)));
	if (!c) {
		TCPX_INC(st, ListenDrops);
		goto drop;
	}
	tcp_send_syn(c); /* SYN,ACK: the state adds the ACK */
drop:
	tcp_drop(skb);
}

/* §3.10.7.3 SYN-SENT. Consumes skb. */
static void tcp_rcv_synsent(struct tcp_sock *tp, struct sk_buff *skb)
{
	struct us_stack *st = tp->st;
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	bool ack_ok = false;

	if (cb->flags & TCPF_ACK) {
		/* "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit is set)" */
		if (seq_leq(cb->ack_seq, tp->iss) || seq_gt(cb->ack_seq, tp->snd_max)) {
			tcp_send_reset(st, skb);
			goto drop;
		}
		ack_ok = seq_leq(tp->snd_una, cb->ack_seq) && seq_leq(cb->ack_seq, tp->snd_max);
	}
	if (cb->flags & TCPF_RST) {
		/* accepted only if it acknowledges our SYN */
		if (ack_ok) {
			TCP_INC(st, AttemptFails);
			tcp_done(tp, -ECONNREFUSED, TCP_SR_RCV_RST);
		}
		goto drop;
	}
	if (!(cb->flags & TCPF_SYN))
		goto drop;
	tp->irs = cb->seq;
	tp->rcv_nxt = cb->seq + 1;
	tp->rcv_adv = tp->rcv_nxt;
	tcp_syn_options(tp, cb->opts, tp->rcv_mss);
	tp->last_rx_ns = st->now;
	tp->cc->init(tp);
	if (ack_ok && seq_gt(cb->ack_seq, tp->iss)) {
		struct sk_buff *syn = skb_peek(&tp->write_q);

		/* our SYN is acknowledged: ESTABLISHED */
		if (syn && !TCP_SKB_CB(syn)->retrans && !tp->ts_ok)
			tcp_rtt_sample(tp, (uint32_t)((st->now - TCP_SKB_CB(syn)->sent_ns) / 1000));
		else if (tp->ts_ok && cb->opts->tsecr)
			tcp_rtt_sample(tp, (tcp_now_ts(tp) - cb->opts->tsecr) * 1000u);
		tcp_rto_after_handshake(tp);
		tp->bytes_acked += cb->ack_seq - tp->snd_una; /* our SYN */
		tp->snd_una = cb->ack_seq;
		if (syn && (TCP_SKB_CB(syn)->flags & TCPF_SYN)) {
			if (tp->send_head == syn)
				tp->send_head = syn->next;
			skb_unlink(&tp->write_q, syn);
			skb_free(syn);
		}
		if (seq_lt(tp->snd_nxt, tp->snd_una))
			tp->snd_nxt = tp->snd_una;
		tp->snd_wnd = cb->window; /* unscaled in a SYN */
		tp->snd_wl1 = cb->seq;
		tp->snd_wl2 = cb->ack_seq;
		tp->max_snd_wnd = tp->snd_wnd;
		tp->retries = 0;
		tcp_timer_clear(tp, TCP_T_RETRANS);
		tcp_set_state(tp, TCP_ESTABLISHED, TCP_SR_RCV_SYN_ACK);
		if (tp->flags & TF_KEEPALIVE)
			tcp_timer_set(tp, TCP_T_KEEPALIVE, st->now + tp->keepidle_s * US_NSEC_PER_SEC);
		tp->flags |= TF_ACK_NOW;
		tcp_output(tp);
		goto drop; /* text in a SYN-ACK is rare; the peer resends it */
	}
	/* simultaneous open (RFC 9293 §3.5, figure 7): SYN-RECEIVED, resend our SYN with an ACK */
	tp->snd_wnd = cb->window;
	tp->snd_wl1 = cb->seq;
	tp->max_snd_wnd = tp->snd_wnd;
	tcp_set_state(tp, TCP_SYN_RECEIVED, TCP_SR_RCV_SYN);
	tp->send_head = skb_peek(&tp->write_q);
	tp->snd_nxt = tp->iss;
	tcp_output(tp);
drop:
	tcp_drop(skb);
}

/* RFC 9293 §3.10.7.4 first: is the segment acceptable? (the four cases of the table) */
static bool tcp_sequence_ok(const struct tcp_sock *tp, uint32_t seq, uint32_t len)
{
	uint32_t wnd = seq_gt(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
	uint32_t end = tp->rcv_nxt + wnd;

	if (tp->state == TCP_SYN_RECEIVED && wnd == 0)
		wnd = tcp_rcv_window(tp), end = tp->rcv_nxt + wnd; /* nothing advertised yet but the SYN-ACK's */
	if (len == 0) {
		if (wnd == 0)
			return seq == tp->rcv_nxt;
		return seq_leq(tp->rcv_nxt, seq) && seq_lt(seq, end);
	}
	if (wnd == 0)
		return false;
	return (seq_leq(tp->rcv_nxt, seq) && seq_lt(seq, end)) ||
	       (seq_leq(tp->rcv_nxt, seq + len - 1) && seq_lt(seq + len - 1, end));
}

/* Remove what SEG.ACK acknowledges from the write queue; returns the payload bytes freed. */
static uint32_t tcp_clean_acked(struct tcp_sock *tp, uint32_t ack)
{
	struct sk_buff *skb;
	uint32_t freed = 0, sacked = 0;

	while ((skb = skb_peek(&tp->write_q)) != NULL) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		if (seq_leq(cb->end_seq, ack)) {
			if (tp->send_head == skb)
				tp->send_head = skb->next;
			if (cb->sacked)
				sacked += skb->len;
			else
				tcp_rack_advance(tp, cb); /* RFC 8985 §6.2: delivered now */
			freed += skb->len;
			skb_unlink(&tp->write_q, skb);
			skb_free(skb);
			continue;
		}
		if (seq_gt(ack, cb->seq) && skb->len) {
			/* partly acknowledged: drop the acknowledged front */
			uint32_t n = ack - cb->seq;
			if (n > skb->len)
				n = skb->len;
			skb_pull(skb, n);
			tp->write_q.bytes -= n;
			cb->seq += n;
			freed += n;
			if (cb->sacked)
				sacked += n;
		}
		break;
	}
	if (freed)
		tcp_wake(tp); /* room in the send buffer */
	if (tp->sack)
		tcp_sack_acked(tp, sacked, ack);
	return freed;
}

/* SEG.ACK acknowledges new data: free it, take an RTT sample, grow the window (or move through
 * recovery), restart the retransmission timer (the fifth step's "SND.UNA < SEG.ACK =< SND.NXT"). */
static void tcp_ack_new(struct tcp_sock *tp, uint32_t ack, const struct tcp_opts *o)
{
	struct us_stack *st = tp->st;
	uint32_t acked = ack - tp->snd_una;

	tcp_clean_acked(tp, ack);
	/* RTT: from the echoed timestamp (RFC 7323 §4.1), else the timed segment (Karn) */
	if (tp->ts_ok && o && o->ts_ok && o->tsecr)
		tcp_rtt_sample(tp, (tcp_now_ts(tp) - o->tsecr) * 1000u);
	else if ((tp->flags & TF_RTT_TIMING) && seq_gt(ack, tp->rtt_seq)) {
		tp->flags &= (uint16_t)~TF_RTT_TIMING;
		tcp_rtt_sample(tp, (uint32_t)((st->now - tp->rtt_start_ns) / 1000));
	}
	tp->bytes_acked += acked;
	tp->snd_una = ack;
	if (seq_lt(tp->snd_nxt, ack))
		tp->snd_nxt = ack;
	tp->retries = 0;
	if (tp->flags & TF_IN_RECOVERY) {
		if (seq_geq(ack, tp->recover)) {
			/* RFC 6582 §3.2 step 3, full ACK: deflate to min(ssthresh, max(FlightSize,
			 * SMSS) + SMSS) - never one segment alone, which a receiver holds for its
			 * delayed ACK (40 ms from Linux) before the window can open again */
			uint32_t fl = (tcp_flight(tp) > tp->mss ? tcp_flight(tp) : tp->mss) + tp->mss;
			tp->cwnd = tp->ssthresh < fl ? tp->ssthresh : fl;
			tp->flags &= (uint16_t)~TF_IN_RECOVERY;
			tcp_sack_acked(tp, 0, ack); /* the scoreboard may go now */
		} else if (tcp_sack_active(tp)) {
			/* RFC 6675: a partial ACK; the next lost segments go in tcp_ack's
			 * tcp_sack_retransmit, within cwnd - pipe */
		} else {
			/* partial ACK: resend the next hole, deflate by what was acked */
			struct sk_buff *head = skb_peek(&tp->write_q);
			tp->cwnd = tp->cwnd > acked ? tp->cwnd - acked : tp->mss;
			if (acked >= tp->mss)
				tp->cwnd += tp->mss;
			/* RFC 6582 §3.2 step 4: resend the first unacknowledged segment only */
			if (head && TCP_SKB_CB(head)->sent)
				tcp_retransmit_skb(tp, head);
		}
	} else {
		tcp_cc_ack(tp, acked);
	}
	tp->dupacks = 0;
	tcp_timer_clear(tp, TCP_T_RETRANS);
	tcp_rearm_rto(tp); /* RFC 6298 §5.2, 5.3 */
	tcp_tlp_arm(tp);   /* RFC 8985 §7.2 */
}

/* RFC 6675 §5: enter loss recovery on the third duplicate ACK or when the scoreboard says the first
 * unacknowledged segment is lost, retransmitting it at once (§5 step 4.3) with cwnd = ssthresh; then,
 * on every ACK during recovery, send what cwnd - pipe allows (NextSeg). */
static void tcp_sack_recovery(struct tcp_sock *tp)
{
	struct us_stack *st = tp->st;

	if (tcp_rack_on(tp)) {
		tcp_rack_recovery(tp); /* RFC 8985: RACK's marks instead of IsLost and DupThresh */
		return;
	}
	if (!(tp->flags & TF_IN_RECOVERY)) {
		struct sk_buff *head = skb_peek(&tp->write_q);

		if (!seq_gt(tp->snd_una, tp->recover - 1) ||
		    (tp->dupacks < 3 && !tcp_sack_head_lost(tp)) || !head || !TCP_SKB_CB(head)->sent)
			return;
		TCPX_INC(st, TCPFastRetrans);
		TCPX_INC(st, TCPSackRecovery);
		tcp_cc_enter_recovery(tp);
		tp->cwnd = tp->ssthresh; /* RFC 6675 §5 step 4.2: no inflation by the duplicates */
		tcp_sack_reset_rxt(tp);
		if (tcp_retransmit_skb(tp, head) == 0)
			tcp_sack_note_rxt(tp, TCP_SKB_CB(head)->end_seq);
	}
	tcp_sack_retransmit(tp);
}

/* Fifth step: the ACK field. Returns false when the segment is to be dropped (tp may be gone:
 * *gone says so). */
static bool tcp_ack(struct tcp_sock *tp, struct sk_buff *skb, bool *gone)
{
	struct us_stack *st = tp->st;
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	const struct tcp_opts *o = cb->opts;
	uint32_t ack = cb->ack_seq, wnd = (uint32_t)cb->window << tp->snd_wscale;
	bool fin_acked, estab_now = false, sacked_new = false, advanced;

	if (tp->state == TCP_SYN_RECEIVED) {
		if (!(seq_lt(tp->snd_una, ack) && seq_leq(ack, tp->snd_max))) {
			tcp_send_reset(st, skb); /* "<SEQ=SEG.ACK><CTL=RST>" */
			return false;
		}
		if (!tcp_child_established(tp))
			return false; /* the accept queue is full: the peer will resend */
		{
			/* RFC 6298 §2.2, §3 (Karn): the SYN-ACK gives the first RTT sample unless it was
			 * sent again (as Linux's tcp_synack_rtt_meas); with timestamps the echoed TSval
			 * gives it in tcp_ack_new */
			struct sk_buff *syn = skb_peek(&tp->write_q);
			if (!tp->ts_ok && syn && (TCP_SKB_CB(syn)->flags & TCPF_SYN) && !TCP_SKB_CB(syn)->retrans)
				tcp_rtt_sample(tp, (uint32_t)((st->now - TCP_SKB_CB(syn)->sent_ns) / 1000));
		}
		tcp_set_state(tp, TCP_ESTABLISHED, TCP_SR_RCV_ACK_OF_SYN);
		estab_now = true;
		tp->snd_wnd = wnd;
		tp->snd_wl1 = cb->seq;
		tp->snd_wl2 = ack;
		if (tp->flags & TF_KEEPALIVE)
			tcp_timer_set(tp, TCP_T_KEEPALIVE, st->now + tp->keepidle_s * US_NSEC_PER_SEC);
	}
	/* "If the ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK, drop the
	 * segment"; RFC 5961 §5.2 also refuses one before SND.UNA - MAX.SND.WND: a challenge ACK,
	 * within the §7 limit */
	if (seq_gt(ack, tp->snd_max) || seq_lt(ack, tp->snd_una - tp->max_snd_wnd)) {
		tcp_challenge_ack(tp);
		return false;
	}
	if (o && o->nsack)
		sacked_new = tcp_sack_update(tp, o);
	advanced = seq_gt(ack, tp->snd_una);
	if (advanced) {
		tcp_ack_new(tp, ack, o);
		if (estab_now)
			tcp_rto_after_handshake(tp); /* after the timestamp's sample, if any */
	} else if (ack == tp->snd_una && skb->len == 0 && !(cb->flags & (TCPF_SYN | TCPF_FIN)) &&
		   wnd == tp->snd_wnd && tp->snd_max != tp->snd_una) {
		/* RFC 5681 §2 duplicate ACK */
		tp->dupacks++;
		if (tcp_sack_active(tp)) {
			/* RFC 6675: recovery is entered and driven below, from the scoreboard */
		} else if (tp->dupacks == 3 && !(tp->flags & TF_IN_RECOVERY) &&
		    seq_gt(tp->snd_una, tp->recover - 1)) {
			struct sk_buff *head = skb_peek(&tp->write_q);
			TCPX_INC(st, TCPFastRetrans);
			tcp_cc_enter_recovery(tp);
			/* RFC 5681 §3.2 step 3: retransmit the lost segment, only it; going through
			 * tcp_output from SND.UNA would resend the whole flight the window allows */
			if (head && TCP_SKB_CB(head)->sent)
				tcp_retransmit_skb(tp, head);
		} else if (tp->dupacks > 3 && (tp->flags & TF_IN_RECOVERY)) {
			tp->cwnd += tp->mss; /* RFC 5681 §3.2 step 4: inflate */
		}
	}
	if (tcp_sack_active(tp) && tp->snd_max != tp->snd_una)
		tcp_sack_recovery(tp);
	tcp_rack_ack(tp, ack, !advanced && !skb->len && !sacked_new);
	/* "If SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK), set SND.WND <- SEG.WND" */
	if (seq_lt(tp->snd_wl1, cb->seq) || (tp->snd_wl1 == cb->seq && seq_leq(tp->snd_wl2, ack))) {
		tp->snd_wnd = wnd;
		tp->snd_wl1 = cb->seq;
		tp->snd_wl2 = ack;
		if (wnd > tp->max_snd_wnd)
			tp->max_snd_wnd = wnd;
		if (wnd) {
			tp->probes = 0;
			tcp_timer_clear(tp, TCP_T_PERSIST);
		}
	}
	fin_acked = (tp->flags & TF_FIN_QUEUED) && skb_queue_empty(&tp->write_q) &&
		    tp->snd_una == tp->snd_max;
	switch (tp->state) {
	case TCP_FIN_WAIT_1:
		if (fin_acked) {
			tcp_set_state(tp, TCP_FIN_WAIT_2, TCP_SR_RCV_ACK_OF_FIN);
			if (tp->flags & TF_ORPHAN)
				tcp_timer_set(tp, TCP_T_2MSL, st->now + st->cfg.tcp_fin_timeout_ns);
		}
		break;
	case TCP_CLOSING:
		if (fin_acked) {
			tcp_set_state(tp, TCP_TIME_WAIT, TCP_SR_RCV_ACK_OF_FIN);
			tcp_timers_stop(tp);
			tcp_timer_set(tp, TCP_T_2MSL, st->now + 2 * st->cfg.tcp_msl_ns);
		}
		break;
	case TCP_LAST_ACK:
		if (fin_acked) {
			*gone = (tp->flags & TF_ORPHAN) || tp->parent;
			tcp_done(tp, 0, TCP_SR_RCV_ACK_OF_FIN);
			return false;
		}
		break;
	default:
		break;
	}
	return true;
}

/* The right edge up to which data is taken: what was advertised, which never shrinks (RFC 9293
 * §3.8.6.2.2) and so may run a little past the free buffer when window scaling rounded it up (less
 * than 2^wscale per ACK, RFC 7323 appendix F), or the free buffer if that reaches further. A sender
 * that stays inside what we offered is never dropped. */
static uint32_t tcp_rcv_edge(const struct tcp_sock *tp)
{
	uint32_t free_end = tp->rcv_nxt + tcp_rcv_window(tp);

	return seq_gt(tp->rcv_adv, free_end) ? tp->rcv_adv : free_end;
}

/* Memory is the hard limit: the buffer plus a slack for that rounding, so an application that
 * never reads cannot make the window creep without end. */
#define TCP_RCV_SLACK (64u * 1024)
static bool tcp_rcv_mem_ok(const struct tcp_sock *tp, uint32_t len)
{
	return tp->rcv_q.bytes + tp->ofo_q.bytes + len <= (uint64_t)tp->rcvbuf + TCP_RCV_SLACK;
}

/* Out-of-order data: keep it sorted and without overlaps, within the receive buffer. Consumes skb. */
static void tcp_ofo_queue(struct tcp_sock *tp, struct sk_buff *skb)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	struct sk_buff *prev = skb_peek_tail(&tp->ofo_q), *next;

	if (!tcp_rcv_mem_ok(tp, skb->len)) {
		TCPX_INC(tp->st, TCPOFODrop);
		skb_free(skb);
		return;
	}
	while (prev && seq_gt(TCP_SKB_CB(prev)->seq, cb->seq))
		prev = prev->prev;
	if (prev && seq_geq(TCP_SKB_CB(prev)->end_seq, cb->end_seq)) {
		TCPX_INC(tp->st, TCPOFOMerge); /* all of it is already here */
		tcp_sack_dup_arrived(tp, cb->seq, cb->end_seq, true);
		skb_free(skb);
		return;
	}
	if (prev && seq_gt(TCP_SKB_CB(prev)->end_seq, cb->seq)) {
		uint32_t n = TCP_SKB_CB(prev)->end_seq - cb->seq;
		skb_pull(skb, n);
		cb->seq += n;
	}
	/* later segments this one covers entirely go; one it overlaps is trimmed at its front */
	next = prev ? prev->next : skb_peek(&tp->ofo_q);
	while (next && seq_leq(TCP_SKB_CB(next)->end_seq, cb->end_seq)) {
		struct sk_buff *n2 = next->next;
		TCPX_INC(tp->st, TCPOFOMerge);
		skb_unlink(&tp->ofo_q, next);
		skb_free(next);
		next = n2;
	}
	if (next && seq_lt(TCP_SKB_CB(next)->seq, cb->end_seq)) {
		uint32_t n = cb->end_seq - TCP_SKB_CB(next)->seq;
		skb_trim(skb, skb->len - n);
		cb->end_seq -= n;
		cb->flags &= (uint8_t)~TCPF_FIN;
	}
	TCPX_INC(tp->st, TCPOFOQueue);
	skb_queue_insert_after(&tp->ofo_q, prev, skb);
}

static void tcp_fin(struct tcp_sock *tp);

/* Take into the receive queue what the out-of-order queue now continues. */
static void tcp_ofo_drain(struct tcp_sock *tp)
{
	struct sk_buff *skb;

	while ((skb = skb_peek(&tp->ofo_q)) != NULL && seq_leq(TCP_SKB_CB(skb)->seq, tp->rcv_nxt)) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
		/* read before the skb may be freed below: its cb goes with it */
		bool fin = cb->flags & TCPF_FIN;
		uint32_t data_end = cb->end_seq - (fin ? 1 : 0);

		skb_unlink(&tp->ofo_q, skb);
		if (seq_gt(data_end, tp->rcv_nxt)) {
			uint32_t n = tp->rcv_nxt - cb->seq;
			skb_pull(skb, n);
			tp->bytes_received += data_end - tp->rcv_nxt;
			tp->rcv_nxt = data_end;
			lat_stamp(tp->st, skb, US_LAT_RX_SOCKQ);
			skb_queue_tail(&tp->rcv_q, skb);
			tcp_wake(tp);
		} else {
			skb_free(skb);
		}
		/* RFC 9293 §3.10.7.4 eighth step: the FIN once all before it is in */
		if (fin && tp->rcv_nxt == data_end)
			tcp_fin(tp);
	}
}

/* RFC 1122 §4.2.3.2: an ACK for at least every second full-sized segment, else a delayed one. A GSO
 * frame from the device stands for len / MSS segments: two or more are ACKed at once. */
static void tcp_schedule_ack(struct tcp_sock *tp, uint32_t len)
{
	if (len >= tp->mss)
		tp->delack_segs += len / tp->mss;
	if (tp->delack_segs >= 2)
		tp->flags |= TF_ACK_NOW;
	else if (tp->deadline[TCP_T_DELACK] == US_TIME_NEVER)
		tcp_timer_set(tp, TCP_T_DELACK, tp->st->now + tp->st->cfg.tcp_delack_ns);
}

/* Seventh step: the segment text. Consumes skb. */
static void tcp_data_queue(struct tcp_sock *tp, struct sk_buff *skb)
{
	struct us_stack *st = tp->st;
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint32_t seq = cb->seq, wnd_end = tcp_rcv_edge(tp);
	bool had_ofo = !skb_queue_empty(&tp->ofo_q);

	if (skb->len == 0) {
		skb_free(skb);
		return;
	}
	if (seq_leq(seq + skb->len, tp->rcv_nxt)) {
		/* all old: the peer did not see our ACK (RFC 9293 §3.10.7.4: acknowledge it), and with
		 * SACK it learns which duplicate it sent (RFC 2883 D-SACK) */
		tcp_sack_dup_arrived(tp, seq, seq + skb->len, false);
		tp->flags |= TF_ACK_NOW;
		skb_free(skb);
		return;
	}
	/* keep only what fits the window */
	if (seq_gt(seq + skb->len, wnd_end)) {
		uint32_t over = seq + skb->len - wnd_end;
		if (over >= skb->len) {
			TCPX_INC(st, TCPRcvQDrop);
			tp->flags |= TF_ACK_NOW;
			skb_free(skb);
			return;
		}
		skb_trim(skb, skb->len - over);
		cb->end_seq = seq + skb->len;
		cb->flags &= (uint8_t)~TCPF_FIN;
	}
	if (!tcp_rcv_mem_ok(tp, skb->len)) {
		/* within the window, but past what memory allows (see tcp_rcv_edge) */
		TCPX_INC(st, TCPRcvQDrop);
		tp->flags |= TF_ACK_NOW;
		skb_free(skb);
		return;
	}
	if (seq_gt(seq, tp->rcv_nxt)) {
		/* a hole before it: keep it aside and say at once what we still miss (and, with SACK,
		 * what we have: RFC 2018) */
		tcp_sack_ofo_arrived(tp, seq);
		tcp_ofo_queue(tp, skb);
		tp->flags |= TF_ACK_NOW;
		return;
	}
	if (seq_lt(seq, tp->rcv_nxt)) {
		uint32_t n = tp->rcv_nxt - seq;
		skb_pull(skb, n);
		cb->seq += n;
	}
	tp->rcv_nxt += skb->len;
	tp->bytes_received += skb->len;
	lat_stamp(st, skb, US_LAT_RX_SOCKQ);
	skb_queue_tail(&tp->rcv_q, skb);
	tcp_wake(tp);
	if (had_ofo) {
		tcp_ofo_drain(tp);
		tp->flags |= TF_ACK_NOW; /* RFC 5681 §4.2: ACK at once when filling a hole */
		return;
	}
	tcp_schedule_ack(tp, skb->len);
}

/* Eighth step: the FIN, once everything before it has arrived. */
static void tcp_fin(struct tcp_sock *tp)
{
	struct us_stack *st = tp->st;
	bool fin_acked = (tp->flags & TF_FIN_QUEUED) && skb_queue_empty(&tp->write_q) &&
			 tp->snd_una == tp->snd_max;

	tp->rcv_nxt++;
	tp->bytes_received++; /* Linux's tcp_rcv_nxt_update counts the FIN too */
	tp->flags |= TF_PEER_FIN | TF_ACK_NOW;
	switch (tp->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		tcp_set_state(tp, TCP_CLOSE_WAIT, TCP_SR_RCV_FIN);
		break;
	case TCP_FIN_WAIT_1:
		if (!fin_acked) {
			tcp_set_state(tp, TCP_CLOSING, TCP_SR_RCV_FIN);
			break;
		}
		/* our FIN was acknowledged too */
		/* fall through */
	case TCP_FIN_WAIT_2:
	case TCP_TIME_WAIT:
		tcp_set_state(tp, TCP_TIME_WAIT, TCP_SR_RCV_FIN);
		tcp_timers_stop(tp);
		tcp_timer_set(tp, TCP_T_2MSL, st->now + 2 * st->cfg.tcp_msl_ns);
		break;
	default:
		break;
	}
}

/* Header prediction (Van Jacobson's, as Linux's tcp_rcv_established): in ESTABLISHED, the next
 * in-order segment carrying an ACK that moves SND.UNA forward, or data at RCV.NXT, with an open window
 * and no option but timestamps, is handled in a few steps. Everything else - and
 * anything these checks are unsure of - takes the full RFC 9293 §3.10.7.4 path. Returns true when it
 * consumed skb; it changes nothing when it returns false. */
static bool tcp_fast_path(struct tcp_sock *tp, struct sk_buff *skb)
{
	struct us_stack *st = tp->st;
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	const struct tcp_opts *o = cb->opts;
	uint32_t ack = cb->ack_seq, wnd = (uint32_t)cb->window << tp->snd_wscale;

	if (tp->state != TCP_ESTABLISHED || cb->seq != tp->rcv_nxt ||
	    (cb->flags & (TCPF_SYN | TCPF_FIN | TCPF_RST | TCPF_URG | TCPF_ACK)) != TCPF_ACK ||
	    wnd == 0 || (tp->snd_wnd == 0 && tp->send_head) ||
	    (tp->flags & (TF_IN_RECOVERY | TF_ORPHAN)) || tp->dupacks ||
	    seq_lt(ack, tp->snd_una) || seq_gt(ack, tp->snd_max) ||
	    o->mss_ok || o->wscale_ok || o->sack_ok || o->nsack || o->ts_ok != tp->ts_ok ||
	    (tp->ts_ok && (int32_t)(o->tsval - tp->ts_recent) < 0))
		return false;
	if (skb->len == 0 ? ack == tp->snd_una
			  : !skb_queue_empty(&tp->ofo_q) || skb->len > tcp_rcv_window(tp))
		return false; /* a duplicate ACK, or data that needs the slow path's care */
	tp->last_rx_ns = st->now;
	if (tp->ts_ok && seq_leq(tp->rcv_nxt, tp->last_ack_sent)) {
		/* RFC 7323 §4.3: TSval is not older (checked above) and SEG.SEQ = RCV.NXT =<
		 * Last.ACK.sent: with an ACK still owed, the earlier TSval stays the one to echo */
		tp->ts_recent = o->tsval;
		tp->ts_recent_ns = st->now;
	}
	/* SEG.SEQ = RCV.NXT is never behind SND.WL1, and SEG.ACK >= SND.UNA >= SND.WL2: the fifth
	 * step's window update applies */
	tp->snd_wnd = wnd;
	tp->snd_wl1 = cb->seq;
	tp->snd_wl2 = ack;
	if (wnd > tp->max_snd_wnd)
		tp->max_snd_wnd = wnd;
	if (seq_gt(ack, tp->snd_una)) {
		tcp_ack_new(tp, ack, o);
		tcp_rack_ack(tp, ack, false);
	}
	if (skb->len == 0) {
		TCPX_INC(st, TCPHPAcks);
		skb_free(skb);
	} else {
		uint32_t len = skb->len;
		TCPX_INC(st, TCPHPHits);
		tp->rcv_nxt += len;
		tp->bytes_received += len;
		lat_stamp(st, skb, US_LAT_RX_SOCKQ);
		skb_queue_tail(&tp->rcv_q, skb);
		tcp_wake(tp);
		tcp_schedule_ack(tp, len);
	}
	if ((tp->flags & TF_ACK_NOW) || tp->send_head)
		tcp_output(tp);
	return true;
}

/* §3.10.7.4: SYN-RECEIVED and the synchronized states. Consumes skb. */
static void tcp_rcv_state_process(struct tcp_sock *tp, struct sk_buff *skb)
{
	struct us_stack *st = tp->st;
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	const struct tcp_opts *o = cb->opts;
	uint32_t seg_len = cb->end_seq - cb->seq;
	bool gone = false;

	if (tcp_fast_path(tp, skb))
		return;
	tp->last_rx_ns = st->now;
	/* first: check the sequence number, PAWS first (RFC 7323 §5.3) */
	if (tp->ts_ok && o->ts_ok && !(cb->flags & TCPF_RST) &&
	    (int32_t)(o->tsval - tp->ts_recent) < 0 && st->now - tp->ts_recent_ns < PAWS_24DAYS_NS) {
		TCPX_INC(st, PAWSEstab);
		tp->flags |= TF_ACK_NOW;
		goto drop_ack;
	}
	if (tp->state == TCP_SYN_RECEIVED && !(tp->flags & TF_PASSIVE) &&
	    (cb->flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK) && cb->seq == tp->irs &&
	    cb->ack_seq == tp->snd_nxt) {
		/* simultaneous open (RFC 9293 §3.5 figure 7, line 6): the peer's SYN-ACK crossed ours;
		 * its SYN is the one already taken, its ACK completes the handshake (Linux does the same
		 * in tcp_validate_incoming) */
		cb->seq++;
		cb->flags &= (uint8_t)~TCPF_SYN;
		seg_len--;
	}
	if (!tcp_sequence_ok(tp, cb->seq, seg_len)) {
		if (tp->state == TCP_SYN_RECEIVED && (cb->flags & TCPF_SYN) && cb->seq == tp->irs) {
			/* the peer did not get our SYN-ACK: send it again */
			tp->send_head = skb_peek(&tp->write_q);
			tp->snd_nxt = tp->iss;
			goto drop_ack;
		}
		if (tp->state == TCP_TIME_WAIT && (cb->flags & TCPF_FIN))
			/* the peer did not get the ACK of its FIN: acknowledge again, wait again */
			tcp_timer_set(tp, TCP_T_2MSL, st->now + 2 * st->cfg.tcp_msl_ns);
		if (skb->len && seq_leq(cb->seq + skb->len, tp->rcv_nxt))
			/* old data again: with SACK, report the duplicate (RFC 2883 D-SACK) */
			tcp_sack_dup_arrived(tp, cb->seq, cb->seq + skb->len, false);
		if (!(cb->flags & TCPF_RST))
			tp->flags |= TF_ACK_NOW;
		goto drop_ack;
	}
	/* RFC 7323 §4.3: remember the timestamp to echo */
	if (tp->ts_ok && o->ts_ok && seq_leq(cb->seq, tp->last_ack_sent) &&
	    (int32_t)(o->tsval - tp->ts_recent) >= 0) {
		tp->ts_recent = o->tsval;
		tp->ts_recent_ns = st->now;
	}
	/* second: the RST bit (RFC 9293 §3.10.7.4, with RFC 5961 §3.2) */
	if (cb->flags & TCPF_RST) {
		if (cb->seq != tp->rcv_nxt) {
			tcp_challenge_ack(tp);
			goto drop_ack;
		}
		switch (tp->state) {
		case TCP_SYN_RECEIVED:
			/* passive: back to LISTEN (the child goes); active: refused */
			tcp_done(tp, (tp->flags & TF_PASSIVE) ? 0 : -ECONNREFUSED, TCP_SR_RCV_RST);
			break;
		case TCP_CLOSE_WAIT:
			/* the peer had finished: what the user learns is that its writes went
			 * nowhere (EPIPE, as Linux's tcp_reset) */
			TCP_INC(st, EstabResets);
			tcp_done(tp, -EPIPE, TCP_SR_RCV_RST);
			break;
		case TCP_ESTABLISHED:
			TCP_INC(st, EstabResets);
			/* fall through */
		case TCP_FIN_WAIT_1:
		case TCP_FIN_WAIT_2:
			tcp_done(tp, -ECONNRESET, TCP_SR_RCV_RST);
			break;
		default:
			tcp_done(tp, 0, TCP_SR_RCV_RST);
			break;
		}
		skb_free(skb);
		return;
	}
	/* fourth: the SYN bit (RFC 9293 §3.10.7.4, RFC 5961 §4): a challenge ACK */
	if (cb->flags & TCPF_SYN) {
		if (tp->state == TCP_SYN_RECEIVED && (tp->flags & TF_PASSIVE)) {
			tcp_done(tp, 0, TCP_SR_RCV_SYN);
			skb_free(skb);
			return;
		}
		tcp_challenge_ack(tp);
		goto drop_ack;
	}
	/* fifth: the ACK field */
	if (!(cb->flags & TCPF_ACK))
		goto drop_ack;
	if (!tcp_ack(tp, skb, &gone)) {
		if (gone) {
			skb_free(skb);
			return;
		}
		goto drop_ack;
	}
	if (tp->state == TCP_CLOSED) {
		skb_free(skb);
		return;
	}
	if (skb->len == 0 && !(cb->flags & TCPF_FIN))
		TCPX_INC(st, TCPPureAcks);
	/* seventh: the segment text */
	if (skb->len) {
		if (tp->state != TCP_ESTABLISHED && tp->state != TCP_FIN_WAIT_1 &&
		    tp->state != TCP_FIN_WAIT_2)
			goto drop_ack; /* after the peer's FIN there is no more text */
		if ((tp->flags & TF_ORPHAN) && seq_gt(cb->seq + skb->len, tp->rcv_nxt)) {
			/* Linux: new data for a socket the user has closed is answered with a reset */
			TCPX_INC(st, TCPAbortOnData);
			tcp_send_active_reset(tp);
			tcp_done(tp, 0, TCP_SR_RCV_DATA_CLOSED);
			skb_free(skb);
			return;
		}
		{
			uint8_t fin = cb->flags & TCPF_FIN;
			uint32_t fin_seq = cb->end_seq - 1;
			tcp_data_queue(tp, skb); /* consumes it */
			/* eighth: a FIN right after in-order data */
			if (fin && fin_seq == tp->rcv_nxt)
				tcp_fin(tp);
		}
		tcp_output(tp);
		return;
	}
	/* eighth: the FIN bit */
	if ((cb->flags & TCPF_FIN) && cb->seq == tp->rcv_nxt)
		tcp_fin(tp);
drop_ack:
	skb_free(skb);
	if (tp->state != TCP_CLOSED)
		tcp_output(tp);
}

/* TIME-WAIT may give way to a new connection (RFC 9293 §3.6.1, RFC 6191 with timestamps): a SYN
 * beyond what the old connection used. Returns true when tp was freed and the SYN should go to a
 * listener. */
static bool tcp_timewait_reuse(struct tcp_sock *tp, const struct tcp_skb_cb *cb)
{
	/* only once the user has let go of the old connection */
	if (tp->state != TCP_TIME_WAIT || !(tp->flags & TF_ORPHAN) ||
	    (cb->flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) != TCPF_SYN)
		return false;
	if (tp->ts_ok && cb->opts->ts_ok) {
		if ((int32_t)(cb->opts->tsval - tp->ts_recent) <= 0)
			return false;
	} else if (!seq_gt(cb->seq, tp->rcv_nxt)) {
		return false;
	}
	TCPX_INC(tp->st, TCPTimeWaitRecycled);
	tcp_done(tp, 0, TCP_SR_TW_REUSE);
	return true;
}

/* Consumes skb: data at the TCP header, network header set. */
void tcp_v4_rcv(struct us_stack *st, struct sk_buff *skb)
{
	const uint8_t *ih = skb_network_header(skb), *th = skb->data;
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	struct tcp_opts opts;
	struct tcp_sock *tp;
	uint32_t hlen, saddr = ipv4_saddr(ih), daddr = ipv4_daddr(ih);

	lat_stamp(st, skb, US_LAT_RX_L4);
	TCP_INC(st, InSegs);
	if (tcp_check(th, skb->len) != 0) {
		TCP_INC(st, InErrs);
		goto drop;
	}
	/* a device that verified the checksum, or a trusted peer that left it to be completed
	 * (SKB_CSUM_PARTIAL from a TAP device with IFF_VNET_HDR, as Linux takes CHECKSUM_PARTIAL) */
	if (skb->ip_summed == SKB_CSUM_NONE &&
	    csum_fold(csum_partial(th, skb->len, csum_pseudo(saddr, daddr, IP_PROTO_TCP, skb->len)))) {
		TCP_INC(st, InCsumErrors);
		TCP_INC(st, InErrs);
		goto drop;
	}
	if (us_addr_is_broadcast(st, daddr) || ipv4_is_multicast(daddr))
		goto drop; /* TCP is unicast */
	hlen = tcp_hlen(th);
	if (tcp_parse_options(th + TCP_HDR_MIN, hlen - TCP_HDR_MIN, &opts) != 0) {
		TCP_INC(st, InErrs);
		goto drop;
	}
	skb_reset_transport_header(skb);
	cb->seq = tcp_seq(th);
	cb->ack_seq = tcp_ack_seq(th);
	cb->flags = tcp_flags(th);
	cb->window = tcp_window(th);
	cb->end_seq = cb->seq + (skb->len - hlen) + ((cb->flags & TCPF_SYN) ? 1 : 0) +
		      ((cb->flags & TCPF_FIN) ? 1 : 0);
	cb->opts = &opts;
	skb_pull(skb, hlen);

	tp = tcp_lookup_established(st, daddr, tcp_dport(th), saddr, tcp_sport(th));
	if (tp && tcp_timewait_reuse(tp, cb))
		tp = NULL;
	if (!tp)
		tp = tcp_lookup_listener(st, daddr, tcp_dport(th));
	if (!tp) {
		/* §3.10.7.1: CLOSED; "An incoming segment containing a RST is discarded" */
		if (cb->flags & TCPF_RST)
			TCPX_INC(st, TCPRstDiscards);
		tcp_send_reset(st, skb);
		goto drop;
	}
	if (tp->state != TCP_LISTEN)
		tp->segs_in++; /* a listener counts none: its children do (Linux's tcp_segs_in) */
	switch (tp->state) {
	case TCP_LISTEN:
		tcp_rcv_listen(tp, skb);
		return;
	case TCP_SYN_SENT:
		tcp_rcv_synsent(tp, skb);
		return;
	default:
		tcp_rcv_state_process(tp, skb);
		return;
	}
drop:
	skb_free(skb);
}
