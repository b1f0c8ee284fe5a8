/*
 * tcp_sack.c - Selective acknowledgment: the blocks we send (RFC 2018, with D-SACK of RFC 2883) and
 * the scoreboard and loss recovery of what we sent (RFC 6675).
 *
 * Receiving: the out-of-order queue is the truth; the SACK option of an ACK lists its contiguous runs,
 * the one the latest segment went into first (RFC 2018 §4), then the others from the highest. A
 * duplicate segment is reported once as a D-SACK block ahead of them (RFC 2883 §4).
 *
 * Sending: each write-queue skb that a SACK block covers whole is marked sacked and its bytes counted.
 * From that, IsLost (RFC 6675 §4: more than (DupThresh - 1) * SMSS bytes SACKed above a hole), pipe
 * (the bytes still in flight: not SACKed and not lost, plus what was retransmitted) and NextSeg
 * (rule 1: the first lost segment not yet retransmitted; rule 3: the first unSACKed one below the
 * highest SACKed byte) drive recovery, while tcp_output sends new data (rule 2) into cwnd - pipe.
 *
 * With RACK on (tcp_rack.c, RFC 8985) the loss marks are RACK's instead of IsLost: a segment is lost
 * when RACK says so, pipe leaves out what is SACKed or lost, and recovery resends the segments
 * marked lost - again if a retransmission is itself found lost - in fast recovery and after a
 * timeout alike.
 *
 * The state lives in a small block allocated when a connection first meets reordering or loss and
 * freed once there is nothing left to remember, so idle connections carry only a NULL pointer.
 */
#include "tcp.h"

#include <stdlib.h>
#include <string.h>

#include "wire/bytes.h"

#define DUP_THRESH 3

struct tcp_sack_state {
	/* receiving */
	uint32_t recent;	      /* the sequence of the latest out-of-order segment */
	uint32_t dsack_start, dsack_end; /* a duplicate to report once */
	bool dsack;
	/* sending */
	uint32_t sacked_bytes; /* SACKed bytes on the write queue */
	uint32_t high_rxt;     /* RFC 6675 HighRxt: the highest sequence retransmitted in recovery */
	uint32_t high_sacked;  /* the end of the highest SACKed segment */
	struct tcp_rack rack;  /* RACK-TLP (tcp_rack.c) */
};

static struct tcp_sack_state *sack_get(struct tcp_sock *tp)
{
	if (!tp->sack) {
		tp->sack = calloc(1, sizeof(*tp->sack));
		if (tp->sack) {
			struct tcp_rack *r = &tp->sack->rack;

			tp->sack->high_rxt = tp->sack->high_sacked = tp->snd_una;
			r->end_seq = r->fack = r->fack_ack = tp->snd_una;
			r->reo_wnd_mult = 1;
			r->last_xmit_ns = tp->st->now; /* whatever went before now was earlier */
		}
	}
	return tp->sack;
}

struct tcp_rack *tcp_sack_rack(struct tcp_sock *tp)
{
	return tp->sack ? &tp->sack->rack : NULL;
}

uint32_t tcp_sack_sacked_bytes(const struct tcp_sock *tp)
{
	return tp->sack ? tp->sack->sacked_bytes : 0;
}

void tcp_sack_free(struct tcp_sock *tp)
{
	free(tp->sack);
	tp->sack = NULL;
}

/* Nothing left to remember: let the block go. RACK's memory of reordering (RFC 8985 §6.2 steps 3-4)
 * and a recovery after a timeout keep it. */
static void sack_maybe_free(struct tcp_sock *tp)
{
	struct tcp_sack_state *s = tp->sack;

	if (s && !s->dsack && !s->sacked_bytes && skb_queue_empty(&tp->ofo_q) &&
	    !tcp_in_loss_recovery(tp) && !s->rack.reordering_seen && s->rack.reo_wnd_mult <= 1 &&
	    !s->rack.dsack_round_set)
		tcp_sack_free(tp);
}

/* ---- receiving ---- */

void tcp_sack_ofo_arrived(struct tcp_sock *tp, uint32_t seq)
{
	struct tcp_sack_state *s;

	if (!tp->sack_ok || !(s = sack_get(tp)))
		return;
	s->recent = seq;
}

void tcp_sack_dup_arrived(struct tcp_sock *tp, uint32_t seq, uint32_t end, bool ofo)
{
	struct tcp_sack_state *s;

	if (!tp->sack_ok || !(s = sack_get(tp)))
		return;
	s->dsack = true;
	s->dsack_start = seq;
	s->dsack_end = end;
	if (ofo)
		TCPX_INC(tp->st, TCPDSACKOfoSent);
	else
		TCPX_INC(tp->st, TCPDSACKOldSent);
}

/* The contiguous runs of the out-of-order queue, at most max, the one holding `recent` first. */
static uint32_t sack_runs(const struct tcp_sock *tp, uint32_t recent, uint32_t (*b)[2], uint32_t max)
{
	uint32_t runs[16][2], n = 0, out = 0, first = UINT32_MAX;

	for (struct sk_buff *skb = skb_peek(&tp->ofo_q); skb; skb = skb->next) {
		const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		if (n && runs[n - 1][1] == cb->seq) {
			runs[n - 1][1] = cb->end_seq;
		} else if (n < 16) {
			runs[n][0] = cb->seq;
			runs[n][1] = cb->end_seq;
			n++;
		} else {
			break; /* more than 16 holes: the rest wait until these fill */
		}
		if (seq_leq(cb->seq, recent) && seq_lt(recent, cb->end_seq))
			first = n - 1;
	}
	if (first != UINT32_MAX && out < max) {
		b[out][0] = runs[first][0];
		b[out][1] = runs[first][1];
		out++;
	}
	for (uint32_t i = n; i-- > 0 && out < max;) {
		if (i == first)
			continue;
		b[out][0] = runs[i][0];
		b[out][1] = runs[i][1];
		out++;
	}
	return out;
}

uint32_t tcp_sack_option(struct tcp_sock *tp, uint8_t *o, uint32_t room)
{
	struct tcp_sack_state *s = tp->sack;
	uint32_t blocks[4][2], n = 0, max;

	if (!tp->sack_ok || !s || room < 12)
		return 0;
	max = (room - 4) / 8; /* NOP NOP kind len, then 8 bytes a block */
	if (max > 4)
		max = 4;
	if (s->dsack) {
		/* RFC 2883 §4: the duplicate first, once */
		blocks[n][0] = s->dsack_start;
		blocks[n][1] = s->dsack_end;
		n++;
		s->dsack = false;
	}
	n += sack_runs(tp, s->recent, blocks + n, max - n);
	if (n == 0) {
		sack_maybe_free(tp);
		return 0;
	}
	o[0] = TCPOPT_NOP;
	o[1] = TCPOPT_NOP;
	o[2] = TCPOPT_SACK;
	o[3] = (uint8_t)(2 + 8 * n);
	for (uint32_t i = 0; i < n; i++) {
		put_be32(o + 4 + 8 * i, blocks[i][0]);
		put_be32(o + 8 + 8 * i, blocks[i][1]);
	}
	return 4 + 8 * n;
}

/* ---- sending: the scoreboard ---- */

bool tcp_sack_update(struct tcp_sock *tp, const struct tcp_opts *o)
{
	struct tcp_sack_state *s;
	bool news = false;

	if (!tp->sack_ok || !o || !o->nsack)
		return false;
	if (!(s = sack_get(tp)))
		return false;
	/* RFC 2883 §4: a first block below SND.UNA, or within the second, reports a duplicate */
	if (seq_lt(o->sack[0].start, o->sack[0].end) &&
	    (seq_leq(o->sack[0].end, tp->snd_una) ||
	     (o->nsack > 1 && seq_geq(o->sack[0].start, o->sack[1].start) &&
	      seq_leq(o->sack[0].end, o->sack[1].end)))) {
		TCPX_INC(tp->st, TCPDSACKRecv);
		tcp_rack_dsack(tp, o->sack[0].end);
	}
	for (uint32_t k = 0; k < o->nsack; k++) {
		uint32_t start = o->sack[k].start, end = o->sack[k].end;

		/* only blocks about data in flight count; a D-SACK (below SND.UNA) or nonsense is
		 * ignored (RFC 2883 §4; RFC 2018 §8) */
		if (!seq_lt(start, end) || seq_leq(start, tp->snd_una) || seq_gt(end, tp->snd_max))
			continue;
		for (struct sk_buff *skb = skb_peek(&tp->write_q); skb && skb != tp->send_head;
		     skb = skb->next) {
			struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

			if (seq_geq(cb->seq, end))
				break;
			if (cb->sacked || !skb->len || seq_lt(cb->seq, start) || seq_gt(cb->end_seq, end))
				continue;
			cb->sacked = 1;
			cb->lost = 0;
			s->sacked_bytes += skb->len;
			if (seq_gt(cb->end_seq, s->high_sacked))
				s->high_sacked = cb->end_seq;
			tcp_rack_advance(tp, cb);
			news = true;
		}
	}
	return news;
}

void tcp_sack_acked(struct tcp_sock *tp, uint32_t bytes, uint32_t ack)
{
	struct tcp_sack_state *s = tp->sack;

	if (!s)
		return;
	s->sacked_bytes = s->sacked_bytes > bytes ? s->sacked_bytes - bytes : 0;
	if (seq_lt(s->high_rxt, ack))
		s->high_rxt = ack;
	if (seq_lt(s->high_sacked, ack))
		s->high_sacked = ack;
	sack_maybe_free(tp);
}

void tcp_sack_reset_rxt(struct tcp_sock *tp)
{
	if (tp->sack)
		tp->sack->high_rxt = tp->snd_una;
}

void tcp_sack_note_rxt(struct tcp_sock *tp, uint32_t end)
{
	if (tp->sack && seq_gt(end, tp->sack->high_rxt))
		tp->sack->high_rxt = end;
}

void tcp_sack_reset(struct tcp_sock *tp)
{
	struct tcp_sack_state *s = tp->sack;

	if (!s)
		return;
	for (struct sk_buff *skb = skb_peek(&tp->write_q); skb; skb = skb->next) {
		TCP_SKB_CB(skb)->sacked = 0;
		TCP_SKB_CB(skb)->lost = 0; /* going back to SND.UNA resends it anyway */
	}
	s->sacked_bytes = 0;
	s->high_rxt = tp->snd_una;
	s->high_sacked = tp->snd_una;
	sack_maybe_free(tp);
}

/* RFC 6675 IsLost for the segment skb, given the SACKed bytes above it. */
static bool sack_lost(const struct tcp_sock *tp, uint32_t sacked_above)
{
	return sacked_above > (DUP_THRESH - 1) * (uint32_t)tp->mss;
}

bool tcp_sack_head_lost(const struct tcp_sock *tp)
{
	const struct sk_buff *head = skb_peek(&tp->write_q);

	if (!tcp_sack_active(tp) || !head || TCP_SKB_CB(head)->sacked || !TCP_SKB_CB(head)->sent)
		return false;
	return sack_lost(tp, tp->sack->sacked_bytes);
}

uint32_t tcp_sack_pipe(const struct tcp_sock *tp)
{
	const struct tcp_sack_state *s = tp->sack;
	uint32_t pipe = 0, above;

	if (!s)
		return tcp_flight(tp);
	if (tcp_rack_on(tp)) {
		/* RFC 8985 with RFC 6675's pipe: what is neither SACKed nor marked lost; a segment
		 * resent after its loss mark counts once, for the retransmission */
		for (const struct sk_buff *skb = skb_peek(&tp->write_q); skb && skb != tp->send_head;
		     skb = skb->next)
			if (!TCP_SKB_CB(skb)->sacked && !TCP_SKB_CB(skb)->lost)
				pipe += skb->len;
		return pipe;
	}
	above = s->sacked_bytes;
	/* RFC 6675 SetPipe: for each unSACKed segment sent, one count unless lost, one more if it was
	 * retransmitted in this recovery */
	for (const struct sk_buff *skb = skb_peek(&tp->write_q); skb && skb != tp->send_head;
	     skb = skb->next) {
		const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		if (cb->sacked) {
			above -= skb->len;
			continue;
		}
		if (!sack_lost(tp, above))
			pipe += skb->len;
		if (cb->retrans && seq_lt(cb->seq, s->high_rxt))
			pipe += skb->len;
	}
	/* the SYN or FIN occupy a sequence number each */
	return pipe;
}

/* RFC 8985 with RFC 6675 §5: resend the segments RACK marked lost, lowest first, while cwnd - pipe
 * allows; in fast recovery, and in the recovery after a timeout (a resent segment found lost again). */
static void rack_retransmit(struct tcp_sock *tp)
{
	struct tcp_sack_state *s = tp->sack;
	uint32_t pipe = tcp_sack_pipe(tp);

	for (struct sk_buff *skb = skb_peek(&tp->write_q); skb && skb != tp->send_head;
	     skb = skb->next) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		if (!cb->lost || cb->sacked)
			continue;
		if (pipe + tp->mss > tp->cwnd)
			break;
		if (tcp_retransmit_skb(tp, skb) < 0)
			break;
		if (seq_gt(cb->end_seq, s->high_rxt))
			s->high_rxt = cb->end_seq;
		pipe += skb->len;
	}
}

void tcp_sack_retransmit(struct tcp_sock *tp)
{
	struct tcp_sack_state *s = tp->sack;
	uint32_t pipe, above;

	if (!tcp_sack_active(tp))
		return;
	if (tcp_rack_on(tp)) {
		if (tcp_in_loss_recovery(tp))
			rack_retransmit(tp);
		return;
	}
	if (!(tp->flags & TF_IN_RECOVERY))
		return;
	pipe = tcp_sack_pipe(tp);
	above = s->sacked_bytes;
	for (struct sk_buff *skb = skb_peek(&tp->write_q); skb && skb != tp->send_head;
	     skb = skb->next) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
		bool lost;

		if (cb->sacked) {
			above -= skb->len;
			continue;
		}
		if (!skb->len || seq_lt(cb->seq, s->high_rxt))
			continue;
		if (pipe + tp->mss > tp->cwnd)
			break;
		lost = sack_lost(tp, above);
		/* rule 1: lost; rule 3: below the highest SACKed byte (only once rule 2 has no new
		 * data to send: tcp_output runs after us) */
		if (!lost && !(seq_lt(cb->seq, s->high_sacked) && !tp->send_head))
			break;
		if (tcp_retransmit_skb(tp, skb) < 0)
			break;
		s->high_rxt = cb->end_seq;
		pipe += skb->len;
	}
}
