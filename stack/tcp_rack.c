/*
 * tcp_rack.c - RACK-TLP loss detection (RFC 8985) for what we send: time, not counts of duplicate
 * ACKs, says when a segment is lost.
 *
 * RACK (§6): every write-queue segment keeps when it was last sent (tcp_skb_cb.sent_ns). Each
 * segment an ACK newly delivers - cumulatively (tcp_clean_acked) or by a SACK block
 * (tcp_sack_update) - goes through tcp_rack_advance: the least RTT seen (RACK.min_RTT), and the
 * latest sent of the delivered segments with its RTT (RACK.xmit_ts, RACK.end_seq, RACK.rtt). A
 * segment sent before that one and still not delivered RACK.rtt + RACK.reo_wnd after it was sent is
 * lost (rack_detect_loss); one that has not waited so long yet arms the reordering timer. So a
 * retransmission that is lost again is found as soon as something sent after it is delivered, and a
 * loss at a small window needs no three duplicates. The first loss starts fast recovery through the
 * congestion-control ops; tcp_sack.c's pipe and retransmissions then use RACK's marks.
 *
 * TLP (§7): when ACKs stop coming - the tail of a burst lost, or every ACK of it - a probe goes after
 * a probe timeout (PTO) of about two round trips, long before the RTO: new data if the peer's window
 * allows, else the last segment again. Its ACK makes RACK (or duplicate ACKs) find the loss; a lost
 * last segment that the probe alone repaired is still answered with a window reduction (§7.4).
 *
 * Both share one timer, TCP_T_LOSS (rack_flags' TCP_RACK_LOSS_PTO says which it is); the reordering
 * timer has precedence. The PTO is capped by the RTO
 * (§7.2): a probe due with the timeout goes instead of it, as Linux's does. RACK needs SACK; TLP works
 * without it. us_stack_config.tcp_recovery switches each (Linux's tcp_recovery and tcp_early_retrans).
 *
 * Simplifications, against the RFC:
 * - RACK.min_RTT is the least over the connection's life, not over a window of minutes (Linux's
 *   tcp_min_rtt_wlen): a path whose RTT grows keeps the smaller reordering window.
 * - A retransmitted segment's delivery is taken as RACK.rtt unless it came sooner than min_RTT
 *   (§6.2 step 2's second test; timestamps here tick in milliseconds, too coarse for the first).
 * - A probe does not wait for an RTT sample since the previous one (§7.3): probes are armed again
 *   only by sending or by an ACK of new data, and at most one is out.
 * - After a timeout the stack goes back to SND.UNA and sends everything again (tcp_output), so §6.3's
 *   marking on RTO has nothing to add; RACK still finds those resent segments lost again.
 * - The PTO has a floor of 2 ms (Linux adds two jiffies): timestamps tick in milliseconds, and a
 *   probe sooner than that would mostly race the ACK on a LAN. The reordering timer gets 2 ms more
 *   than RACK.rtt + reo_wnd (Linux's TCP_TIMEOUT_MIN too): on a path of a few microseconds
 *   min_RTT/4 is no time at all, and a segment held back behind its successor would be resent.
 * - The PTO adds WCDelAckT while less than two full-sized segments are out, not only one.
 * - A probe may be armed in fast recovery too (with RACK), which §7.2 rules out: RACK's reordering
 *   timer finds lost segments there, but when the ACK of everything sent is lost, nothing else
 *   would come but the RTO - and through TAP the kernel ACKs a whole burst with one ACK. The probe
 *   elicits the ACK again; it is armed only while no reordering timer runs.
 * - A probe of new data is two segments when there are two to send (§7.3 says one, of up to SMSS):
 *   a receiver ACKs every second full-sized segment at once but holds a lone in-order one for its
 *   delayed ACK (RFC 5681 §4.2, RFC 1122 §4.2.3.2; 40 ms from Linux). Through TAP the kernel ACKs a
 *   whole burst with one ACK, and when that ACK is lost, a one-segment probe cost 40 ms a time.
 */
#include "tcp.h"

#define TLP_WCDELACK_NS (200 * US_NSEC_PER_MSEC) /* §7.2 WCDelAckT, the RECOMMENDED 200 ms */
#define TLP_PTO_MIN_NS (2 * US_NSEC_PER_MSEC)
#define TLP_PTO_NO_RTT_NS US_NSEC_PER_SEC /* §7.2: no SRTT yet */
#define RACK_REO_PERSIST 16		  /* §6.2 step 4: DSACK-free recoveries before the reset */
#define RACK_DUP_THRESH 3
#define RACK_REO_SLACK_NS (2 * US_NSEC_PER_MSEC) /* added to the reordering timer, as Linux's
						   * TCP_TIMEOUT_MIN: see the file's comment */

bool tcp_rack_on(const struct tcp_sock *tp)
{
	return tp->sack_ok && (tp->st->cfg.tcp_recovery & US_TCP_RECOVERY_RACK);
}

bool tcp_tlp_on(const struct tcp_sock *tp)
{
	return tp->st->cfg.tcp_recovery & US_TCP_RECOVERY_TLP;
}

/* RACK_sent_after(t1, seq1, t2, seq2) (§6.2 step 2): sent later, or at the same time but higher */
static bool rack_sent_after(uint64_t t1, uint32_t seq1, uint64_t t2, uint32_t seq2)
{
	return t1 > t2 || (t1 == t2 && seq_gt(seq1, seq2));
}

uint64_t tcp_rack_stamp(struct tcp_sock *tp)
{
	struct tcp_rack *r = tcp_sack_rack(tp);
	uint64_t now = tp->st->now;

	if (!r)
		return now;
	if (now <= r->last_xmit_ns)
		now = r->last_xmit_ns + 1;
	r->last_xmit_ns = now;
	return now;
}

void tcp_rack_advance(struct tcp_sock *tp, const struct tcp_skb_cb *cb)
{
	struct tcp_rack *r;
	uint64_t now = tp->st->now, rtt = now > cb->sent_ns ? now - cb->sent_ns : 0;

	if (!cb->sent)
		return;
	/* step 1: RACK.min_RTT, from segments sent once (a retransmission's delivery is ambiguous) */
	if (!cb->retrans) {
		uint64_t us = rtt / 1000 ? rtt / 1000 : 1; /* 0 means "none yet" */

		if (!tp->rack_min_rtt_us || us < tp->rack_min_rtt_us)
			tp->rack_min_rtt_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	}
	if (!tcp_rack_on(tp) || !(r = tcp_sack_rack(tp)))
		return; /* nothing was SACKed lately: nothing to judge by */
	/* step 2 (RACK_update): a retransmission acknowledged sooner than the path can carry it was
	 * the original's delivery, which says nothing of when the retransmission left */
	if (cb->retrans && rtt < (uint64_t)tp->rack_min_rtt_us * 1000)
		return;
	r->rtt_ns = rtt;
	if (rack_sent_after(cb->sent_ns, cb->end_seq, r->xmit_ns, r->end_seq)) {
		r->xmit_ns = cb->sent_ns;
		r->end_seq = cb->end_seq;
	}
	/* step 3 (RACK_detect_reordering): delivered below what an earlier ACK delivered, and not a
	 * retransmission: the network reordered */
	if (seq_gt(cb->end_seq, r->fack_ack))
		r->fack_ack = cb->end_seq;
	if (seq_lt(cb->end_seq, r->fack) && !cb->retrans)
		r->reordering_seen = true;
}

void tcp_rack_dsack(struct tcp_sock *tp, uint32_t end)
{
	struct tcp_rack *r = tcp_sack_rack(tp);

	if (!r)
		return;
	r->dsack = true;
	r->dsack_end = end;
	if (tp->st->cfg.tcp_recovery & US_TCP_RECOVERY_STATIC_REO_WND)
		return;
	/* step 4: one widening per round trip that sees D-SACKs, kept for 16 recoveries */
	if (r->dsack_round_set && seq_geq(tp->snd_una, r->dsack_round))
		r->dsack_round_set = false;
	if (!r->dsack_round_set) {
		r->dsack_round = tp->snd_nxt;
		r->dsack_round_set = true;
		if (r->reo_wnd_mult < UINT8_MAX)
			r->reo_wnd_mult++;
		r->reo_wnd_persist = RACK_REO_PERSIST;
	}
}

/* §6.2 step 4, RACK_update_reo_wnd's result: none while no reordering was seen and recovery runs or
 * DupThresh segments are SACKed (as RFC 6675 would call it lost); else min_RTT/4 per D-SACK-widened
 * step, at most SRTT. */
static uint64_t rack_reo_wnd(const struct tcp_sock *tp, const struct tcp_rack *r)
{
	uint64_t w, srtt = (uint64_t)tp->srtt_us * 1000;

	if (!r->reordering_seen &&
	    (tcp_in_loss_recovery(tp) ||
	     tcp_sack_sacked_bytes(tp) > (RACK_DUP_THRESH - 1) * (uint32_t)tp->mss))
		return 0;
	w = (uint64_t)tp->rack_min_rtt_us * 1000 / 4 * r->reo_wnd_mult;
	return w < srtt ? w : srtt;
}

/* §6.2 step 5, RACK_detect_loss_and_arm_timer: mark lost each sent segment, not delivered, sent
 * before RACK's segment and not delivered RACK.rtt + reo_wnd after its sending; arm the reordering
 * timer for the latest of the others. Returns how many are marked lost (now or before). */
static uint32_t rack_detect_loss(struct tcp_sock *tp)
{
	struct tcp_rack *r = tcp_sack_rack(tp);
	uint64_t now = tp->st->now, reo, timeout = 0;
	uint32_t lost = 0;

	/* with nothing SACKed and nothing resent, whatever is outstanding went after what was
	 * delivered: no segment to judge */
	if (r && r->xmit_ns && (tcp_sack_sacked_bytes(tp) || tcp_in_loss_recovery(tp))) {
		reo = rack_reo_wnd(tp, r);
		for (struct sk_buff *skb = skb_peek(&tp->write_q); skb && skb != tp->send_head;
		     skb = skb->next) {
			struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
			uint64_t when;

			if (cb->sacked || !cb->sent)
				continue;
			if (cb->lost) {
				lost++;
				continue;
			}
			if (!rack_sent_after(r->xmit_ns, r->end_seq, cb->sent_ns, cb->end_seq))
				continue;
			when = cb->sent_ns + r->rtt_ns + reo;
			if (when <= now) {
				cb->lost = 1;
				lost++;
			} else if (when - now > timeout) {
				timeout = when - now;
			}
		}
	}
	if (timeout) {
		tp->rack_flags &= (uint8_t)~TCP_RACK_LOSS_PTO;
		tcp_timer_set(tp, TCP_T_LOSS, now + timeout + RACK_REO_SLACK_NS);
	} else if (!(tp->rack_flags & TCP_RACK_LOSS_PTO)) {
		tcp_timer_clear(tp, TCP_T_LOSS);
	}
	return lost;
}

/* The TLP episode is over (§7.4): a probe may go again. */
static void tlp_end(struct tcp_sock *tp)
{
	tp->rack_flags &= (uint8_t)~(TCP_RACK_TLP_OUT | TCP_RACK_TLP_RETRANS);
}

void tcp_rack_recovery(struct tcp_sock *tp)
{
	struct us_stack *st = tp->st;

	if (!rack_detect_loss(tp)) {
		tcp_tlp_arm(tp); /* unless the reordering timer runs */
		return;
	}
	if (!tcp_in_loss_recovery(tp)) {
		struct sk_buff *skb = skb_peek(&tp->write_q);

		/* a loss starts fast recovery (RFC 6675 §5 steps 4.1-4.2, cwnd = ssthresh), which is
		 * the congestion response to a probe's loss too (§7.4.1) */
		TCPX_INC(st, TCPFastRetrans);
		TCPX_INC(st, TCPSackRecovery);
		tcp_cc_enter_recovery(tp);
		tp->cwnd = tp->ssthresh;
		tcp_sack_reset_rxt(tp);
		tlp_end(tp);
		tcp_timer_clear(tp, TCP_T_LOSS);
		tp->rack_flags &= (uint8_t)~TCP_RACK_LOSS_PTO;
		/* step 4.3: the first lost segment goes at once, whatever pipe says */
		while (skb && skb != tp->send_head && !TCP_SKB_CB(skb)->lost)
			skb = skb->next;
		if (skb && skb != tp->send_head && tcp_retransmit_skb(tp, skb) == 0)
			tcp_sack_note_rxt(tp, TCP_SKB_CB(skb)->end_seq);
	}
	tcp_sack_retransmit(tp);
	tcp_tlp_arm(tp); /* with what is resent, a probe if every ACK of it is lost */
}

void tcp_rack_ack(struct tcp_sock *tp, uint32_t ack, bool dup)
{
	struct tcp_rack *r = tcp_sack_rack(tp);
	bool dsack = false;

	if (r) {
		bool recovering = tcp_in_loss_recovery(tp);

		if (seq_gt(r->fack_ack, r->fack))
			r->fack = r->fack_ack;
		/* step 4: the window narrows back after 16 recoveries without D-SACKs */
		if (r->recovering && !recovering && r->reo_wnd_persist && --r->reo_wnd_persist == 0)
			r->reo_wnd_mult = 1;
		r->recovering = recovering;
		dsack = r->dsack && r->dsack_end == tp->tlp_end_seq;
		r->dsack = false;
	}
	/* §7.4.2 TLP_process_ack: the episode ends with the first ACK at or past the probe */
	if (!(tp->rack_flags & TCP_RACK_TLP_OUT) || seq_lt(ack, tp->tlp_end_seq))
		return;
	if (!(tp->rack_flags & TCP_RACK_TLP_RETRANS) || dsack) {
		/* the probe was new data, or a D-SACK says the peer had the original: no loss */
		tlp_end(tp);
	} else if (seq_gt(ack, tp->tlp_end_seq)) {
		/* past the probe with no word of a duplicate: the probe repaired the one loss, which
		 * is still congestion */
		tlp_end(tp);
		if (!tcp_in_loss_recovery(tp)) {
			TCPX_INC(tp->st, TCPLossProbeRecovery);
			tcp_cc_reduce(tp);
		}
	} else if (dup) {
		/* a pure duplicate ACK of the probe: the original had arrived too */
		tlp_end(tp);
	}
}

/* Whether a probe may be armed or sent (§7.2): data is out, no probe is, and neither a recovery
 * after a timeout runs nor, outside fast recovery, is anything SACKed (RACK's reordering timer
 * covers that). Fast recovery with RACK allows one, unlike §7.2: see the file's comment. */
static bool tlp_allowed(const struct tcp_sock *tp)
{
	bool fast = (tp->flags & TF_IN_RECOVERY) && tcp_rack_on(tp);

	if (!tcp_tlp_on(tp) || tp->state < TCP_ESTABLISHED || !tcp_flight(tp) ||
	    (tp->rack_flags & TCP_RACK_TLP_OUT))
		return false;
	if (fast)
		return true;
	return !tcp_in_loss_recovery(tp) && !tcp_sack_sacked_bytes(tp);
}

void tcp_tlp_arm(struct tcp_sock *tp)
{
	uint64_t now = tp->st->now, pto, rto_at = tp->deadline[TCP_T_RETRANS];
	uint32_t flight = tcp_flight(tp);

	/* §7.2: after new data goes or an ACK acknowledges some */
	if (!tlp_allowed(tp)) {
		if (tp->rack_flags & TCP_RACK_LOSS_PTO) {
			tp->rack_flags &= (uint8_t)~TCP_RACK_LOSS_PTO;
			tcp_timer_clear(tp, TCP_T_LOSS);
		}
		return;
	}
	if (tp->deadline[TCP_T_LOSS] != US_TIME_NEVER && !(tp->rack_flags & TCP_RACK_LOSS_PTO))
		return; /* RACK's reordering timer runs: it goes first */
	/* TLP_calc_PTO: two round trips, and the peer's delayed ACK when one segment is out - here
	 * when less than two full-sized ones are, as a receiver ACKs every second at once but may
	 * hold one and a piece (RFC 5681 §4.2) */
	pto = tp->srtt_us ? 2 * (uint64_t)tp->srtt_us * 1000 : TLP_PTO_NO_RTT_NS;
	if (flight < 2u * tp->mss)
		pto += TLP_WCDELACK_NS;
	if (pto < TLP_PTO_MIN_NS)
		pto = TLP_PTO_MIN_NS;
	/* capped by the RTO: then the probe goes instead of the timeout (TCP_T_LOSS fires first at
	 * the same deadline), and the RTO waits anew behind it (§7.3) */
	if (rto_at != US_TIME_NEVER && now + pto > rto_at)
		pto = rto_at > now ? rto_at - now : 0;
	tp->rack_flags |= TCP_RACK_LOSS_PTO;
	tcp_timer_set(tp, TCP_T_LOSS, now + pto);
}

/* §7.3 TLP_send_probe: new data if the window allows, else the last segment sent again; then the
 * RTO, not another probe, is what waits for the answer. */
static void tlp_send_probe(struct tcp_sock *tp)
{
	struct sk_buff *last, *skb;

	if (!tlp_allowed(tp))
		return;
	if (tcp_send_new_probe(tp) == 0) {
		/* and a second new segment, if there is one: see the file's comment */
		tcp_send_new_probe(tp);
		tp->rack_flags &= (uint8_t)~TCP_RACK_TLP_RETRANS;
	} else {
		/* the highest segment sent; in fast recovery, the highest not SACKed */
		last = tp->send_head ? tp->send_head->prev : skb_peek_tail(&tp->write_q);
		for (skb = last; skb && TCP_SKB_CB(skb)->sacked; skb = skb->prev)
			;
		if (skb)
			last = skb;
		if (!last || !TCP_SKB_CB(last)->sent || tcp_retransmit_skb(tp, last) < 0)
			return;
		tp->rack_flags |= TCP_RACK_TLP_RETRANS;
	}
	tp->rack_flags |= TCP_RACK_TLP_OUT;
	tp->tlp_end_seq = tp->snd_nxt;
	TCPX_INC(tp->st, TCPLossProbes);
	tcp_rearm_rto(tp);
}

void tcp_rack_timer(struct tcp_sock *tp)
{
	if (tp->rack_flags & TCP_RACK_LOSS_PTO) {
		tp->rack_flags &= (uint8_t)~TCP_RACK_LOSS_PTO;
		tlp_send_probe(tp);
		return;
	}
	/* the reordering timer: the segments that waited their reo_wnd are lost now */
	if (tcp_sack_active(tp) && tp->snd_una != tp->snd_max) {
		tcp_rack_recovery(tp);
		tcp_output(tp);
	}
}

void tcp_rack_rto(struct tcp_sock *tp)
{
	tlp_end(tp);
	tp->rack_flags &= (uint8_t)~TCP_RACK_LOSS_PTO;
	tcp_timer_clear(tp, TCP_T_LOSS);
}
