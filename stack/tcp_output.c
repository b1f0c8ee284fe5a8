/*
 * tcp_output.c - sending: segments from the write queue as the peer's window and the congestion
 * window allow, with Nagle and sender-side silly window avoidance; the header and its options; the
 * window we advertise; ACKs, resets and probes.
 *
 * The write queue holds every byte from SND.UNA on, each skb one segment's payload (SYN and FIN are
 * zero-length skbs that occupy a sequence number). A segment's first transmission is a clone whose
 * headers go in the shared headroom; a retransmission is a copy, so a clone still waiting in a device
 * queue is never written under.
 *
 * Offloads (docs/offload.md): on a route whose device takes partial checksums and TCPv4 GSO
 * (TF_OFFLOAD), a segment leaves with only the pseudo-header sum in its checksum field for the device
 * to complete, and consecutive new full-sized segments that may all go now leave together as one GSO
 * frame of up to 64 KB, built at transmit time by copying their payloads into one buffer. The write
 * queue keeps its one-segment skbs, so SACK's scoreboard, RACK's transmit times and retransmissions
 * stay per segment as they were.
 */
#include "tcp.h"

#include <errno.h>
#include <string.h>

#include "checksum.h"
#include "latency.h"
#include "wire/ipv4.h"

uint32_t tcp_now_ts(const struct tcp_sock *tp)
{
	/* RFC 7323 §5.4: a clock of about a millisecond, with a random offset per connection */
	return (uint32_t)(tp->st->now / US_NSEC_PER_MSEC) + tp->ts_offset;
}

uint16_t tcp_route_mss(struct us_stack *st, uint32_t raddr)
{
	struct rt_result rt;
	uint32_t mtu;

	if (route_lookup(st, raddr, &rt) < 0)
		return 536;
	mtu = ip_pmtu_get(st, raddr, rt.iface->dev->mtu);
	return mtu > 40 + 536 ? (uint16_t)(mtu > 65535 ? 65535 - 40 : mtu - 40) : 536;
}

bool tcp_route_offload(struct us_stack *st, uint32_t raddr)
{
	const uint32_t need = NETDEV_F_HW_CSUM | NETDEV_F_TSO4;
	struct rt_result rt;

	return route_lookup(st, raddr, &rt) == 0 && (rt.iface->dev->features & need) == need;
}

uint32_t tcp_rcv_window(const struct tcp_sock *tp)
{
	uint64_t used = tp->rcv_q.bytes + tp->ofo_q.bytes;

	return used >= tp->rcvbuf ? 0 : (uint32_t)(tp->rcvbuf - used);
}

uint32_t tcp_flight(const struct tcp_sock *tp)
{
	return tp->snd_nxt - tp->snd_una;
}

/* The window to advertise now, unscaled: never shrinking the right edge already offered (RFC 9293
 * §3.8.6.2.2), and moving it only by at least min(buffer/2, MSS) (receiver SWS avoidance, RFC 1122
 * §4.2.3.3). */
static uint32_t tcp_select_window(struct tcp_sock *tp)
{
	uint32_t wnd = tcp_rcv_window(tp);
	uint32_t offered = seq_gt(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
	uint32_t step = tp->rcvbuf / 2 < tp->rcv_mss ? tp->rcvbuf / 2 : tp->rcv_mss;
	uint32_t max = 65535u << tp->rcv_wscale;

	if (wnd < offered)
		wnd = offered;
	else if (wnd - offered < step && offered)
		wnd = offered;
	if (wnd > max)
		wnd = max;
	if (tp->rcv_wscale) {
		/* what the scaled field can say: rounded down, but never below the edge offered */
		uint32_t gran = 1u << tp->rcv_wscale, down = wnd & ~(gran - 1);
		wnd = down >= offered ? down : (offered + gran - 1) & ~(gran - 1);
	}
	return wnd;
}

/* Write the options for a segment with these flags and payload bytes; returns their length (a
 * multiple of 4). */
static uint32_t tcp_options(struct tcp_sock *tp, uint8_t flags, uint32_t payload, uint8_t *o)
{
	uint32_t n = 0;

	if (flags & TCPF_SYN) {
		/* MSS (RFC 9293 §3.7.1), then as Linux lays them out: SACK-permitted + timestamps,
		 * NOP + window scale */
		o[n++] = TCPOPT_MSS;
		o[n++] = TCPOLEN_MSS;
		put_be16(o + n, tp->rcv_mss);
		n += 2;
		const struct us_stack_config *c = &tp->st->cfg;
		bool sack = tp->sack_ok || (tp->state == TCP_SYN_SENT && !c->tcp_no_sack);
		bool ts = tp->ts_ok || (tp->state == TCP_SYN_SENT && !c->tcp_no_timestamps);

		if (sack && ts) {
			o[n++] = TCPOPT_SACK_PERM;
			o[n++] = TCPOLEN_SACK_PERM;
		} else if (sack) {
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_SACK_PERM;
			o[n++] = TCPOLEN_SACK_PERM;
		} else if (ts) {
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_NOP;
		}
		if (ts) {
			o[n++] = TCPOPT_TIMESTAMP;
			o[n++] = TCPOLEN_TIMESTAMP;
			put_be32(o + n, tcp_now_ts(tp));
			put_be32(o + n + 4, (flags & TCPF_ACK) ? tp->ts_recent : 0);
			n += 8;
		}
		if (tp->wscale_ok || (tp->state == TCP_SYN_SENT && !c->tcp_no_window_scaling)) {
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_WINDOW;
			o[n++] = TCPOLEN_WINDOW;
			o[n++] = tp->rcv_wscale;
		}
		/* every layout above is a multiple of 4 already; stay safe if one changes */
		while (n & 3)
			o[n++] = TCPOPT_NOP;
		return n;
	}
	if (tp->ts_ok) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_TIMESTAMP;
		o[n++] = TCPOLEN_TIMESTAMP;
		put_be32(o + n, tcp_now_ts(tp));
		put_be32(o + n + 4, tp->ts_recent);
		n += 8;
	}
	if ((flags & TCPF_ACK) && tp->sack && !(flags & TCPF_RST)) {
		/* SACK blocks (RFC 2018 §3) in the room the MSS leaves: a full segment carries none */
		uint32_t room = 40 - n, fit = tp->mss > payload ? tp->mss - payload : 0;
		n += tcp_sack_option(tp, o + n, room < fit ? room : fit);
	}
	return n;
}

/* Put the TCP header on skb (data at the payload) and hand it to IP. Consumes skb. */
static int tcp_emit(struct tcp_sock *tp, struct sk_buff *skb, uint32_t seq, uint8_t flags)
{
	struct us_stack *st = tp->st;
	struct ip_out o = { .saddr = tp->laddr, .daddr = tp->raddr, .proto = IP_PROTO_TCP, .df = true,
			    .ttl = tp->ttl };
	uint8_t opts[40];
	uint32_t olen = tcp_options(tp, flags, skb->len, opts), hlen = TCP_HDR_MIN + olen, wnd;
	uint8_t *h = skb_push(skb, hlen);

	if (!h) {
		skb_free(skb);
		return -EINVAL;
	}
	if (flags & TCPF_RST) {
		wnd = 0;
	} else {
		wnd = tcp_select_window(tp);
		if (flags & TCPF_SYN)
			wnd = wnd > 65535 ? 65535 : wnd; /* RFC 7323 §2.2: a SYN's window is not scaled */
		if (flags & TCPF_ACK)
			tp->rcv_adv = tp->rcv_nxt + wnd; /* the right edge we now offer */
	}
	put_be16(h, tp->lport);
	put_be16(h + 2, tp->rport);
	put_be32(h + 4, seq);
	put_be32(h + 8, (flags & TCPF_ACK) ? tp->rcv_nxt : 0);
	h[12] = (uint8_t)((hlen / 4) << 4);
	h[13] = flags;
	put_be16(h + 14, (uint16_t)((flags & TCPF_SYN) ? wnd : wnd >> tp->rcv_wscale));
	put_be16(h + 16, 0);
	put_be16(h + 18, 0);
	memcpy(h + TCP_HDR_MIN, opts, olen);
	skb_reset_transport_header(skb);
	if (tp->flags & TF_OFFLOAD) {
		/* CHECKSUM_PARTIAL: the pseudo-header sum (the length of this whole frame: a GSO
		 * device adjusts it per segment, as Linux's tcp_gso_segment does), uncomplemented; the
		 * device sums from the TCP header on and writes the result */
		put_be16(h + 16, (uint16_t)~csum_fold(csum_pseudo(tp->laddr, tp->raddr, IP_PROTO_TCP,
								  skb->len)));
		skb->ip_summed = SKB_CSUM_PARTIAL;
		skb->csum_start = skb->transport_header;
		skb->csum_offset = 16;
	} else {
		put_be16(h + 16, csum_fold(csum_partial(skb->data, skb->len,
							csum_pseudo(tp->laddr, tp->raddr, IP_PROTO_TCP,
								    skb->len))));
	}
	if (flags & TCPF_ACK) {
		/* any segment carrying an ACK settles what was owed */
		tp->last_ack_sent = tp->rcv_nxt;
		tp->flags &= (uint16_t)~TF_ACK_NOW;
		tp->delack_segs = 0;
		tcp_timer_clear(tp, TCP_T_DELACK);
	}
	{
		/* a GSO frame is gso_segs segments on the wire (Linux's tcp_skb_pcount); one that IP
		 * refuses (-EMSGSIZE) is sent again segment by segment, and counted then */
		uint32_t segs = skb_shinfo(skb)->gso_size ? skb_shinfo(skb)->gso_segs : 1;
		bool gso = skb_shinfo(skb)->gso_size != 0;
		int r;

		if (flags & TCPF_RST)
			TCP_INC(st, OutRsts);
		r = ip_output(st, skb, &o);
		if (!(gso && r == -EMSGSIZE)) {
			st->stats.tcp[TCP_MIB_OutSegs] += segs;
			tp->segs_out += segs;
		}
		return r;
	}
}

/* A segment with no payload. */
static int tcp_emit_ctl(struct tcp_sock *tp, uint32_t seq, uint8_t flags)
{
	struct sk_buff *skb = skb_alloc(tp->st->pool, SKB_MAX_HEADER);

	if (!skb)
		return -ENOBUFS;
	skb_reserve(skb, SKB_MAX_HEADER);
	return tcp_emit(tp, skb, seq, flags);
}

/* Send one write-queue skb: a clone the first time, a copy after. */
static int tcp_transmit_skb(struct tcp_sock *tp, struct sk_buff *skb)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	struct sk_buff *n = cb->sent ? skb_copy(skb) : skb_clone(skb);
	uint8_t flags = cb->flags;

	if (!n)
		return -ENOBUFS;
	lat_tx_segment(tp->st, n, skb);
	if (tp->state != TCP_SYN_SENT)
		flags |= TCPF_ACK;
	/* RFC 9293 §3.9.1.2 (MUST-61), RFC 1122 §4.2.2.2: with no PUSH flag on SEND, the last buffered
	 * segment carries PSH: no data queued after this one (a FIN may follow) */
	if (skb->len && (!skb->next || (!skb->next->len && !skb->next->next)))
		flags |= TCPF_PSH;
	if (cb->sent) {
		cb->retrans = 1;
		TCP_INC(tp->st, RetransSegs);
		tp->total_retrans++;
		/* Karn (RFC 6298 §3): an ACK after a retransmission is ambiguous; stop timing */
		tp->flags &= (uint16_t)~TF_RTT_TIMING;
	} else if (!tp->ts_ok && !(tp->flags & TF_RTT_TIMING) && !(cb->flags & TCPF_SYN)) {
		/* time this segment (Karn's rule: never a retransmitted one) */
		tp->flags |= TF_RTT_TIMING;
		tp->rtt_seq = cb->seq;
		tp->rtt_start_ns = tp->st->now;
	}
	cb->sent = 1;
	cb->sent_ns = tcp_rack_stamp(tp);
	cb->lost = 0; /* RFC 8985: out again, it waits for RACK's judgement afresh */
	if (cb->flags & TCPF_SYN)
		/* Karn also for the SYN: no sample from a retransmitted one */
		tp->flags &= (uint16_t)~TF_RTT_TIMING;
	return tcp_emit(tp, n, cb->seq, flags);
}

/* The largest GSO frame's payload: the frame with Ethernet, IPv4 and the largest TCP header within
 * the 64 KB a TAP device takes (and so within IPv4's 65,535-byte total length). */
#define TCP_GSO_MAX_PAYLOAD (65536u - 14u - 20u - 60u)

/* Send n consecutive unsent write-queue skbs from first on, bytes of payload in all, as one GSO frame:
 * their payloads copied into one buffer behind one header, gso_size the MSS. Once IP has taken the
 * frame each skb is marked sent as tcp_transmit_skb marks it, with its own transmit time for RACK;
 * when IP refuses it (-EMSGSIZE: the route's device does not segment, or the path MTU fell below a
 * segment) they stay unsent. */
static int tcp_transmit_gso(struct tcp_sock *tp, struct sk_buff *first, uint32_t n, uint32_t bytes)
{
	struct sk_buff *out = skb_alloc(tp->st->pool, SKB_MAX_HEADER + bytes), *skb = first, *last = first;
	uint8_t flags = TCPF_ACK;
	uint32_t seq = TCP_SKB_CB(first)->seq;
	int r;

	if (!out)
		return -ENOBUFS;
	skb_reserve(out, SKB_MAX_HEADER);
	/* per-layer timing follows the first segment's bytes, as a clone of it would carry them */
	out->lat_next = first->lat_next;
	out->lat_t0_ns = first->lat_t0_ns;
	out->lat_last_ns = first->lat_last_ns;
	lat_tx_segment(tp->st, out, first);
	for (uint32_t i = 0; i < n; i++, skb = skb->next) {
		skb_put_data(out, skb->data, skb->len);
		last = skb;
	}
	/* PSH as tcp_transmit_skb sets it, on the frame whose last segment ends the queued data (a
	 * device puts it on that last segment alone) */
	if (!last->next || (!last->next->len && !last->next->next))
		flags |= TCPF_PSH;
	skb_shinfo(out)->gso_size = tp->mss;
	skb_shinfo(out)->gso_type = SKB_GSO_TCPV4;
	skb_shinfo(out)->gso_segs = (uint16_t)n;
	r = tcp_emit(tp, out, seq, flags);
	if (r == -EMSGSIZE)
		return r;
	skb = first;
	for (uint32_t i = 0; i < n; i++, skb = skb->next) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		if (i)
			skb->lat_next = 0; /* out now, untimed: the frame is timed by its first */
		if (!tp->ts_ok && !(tp->flags & TF_RTT_TIMING)) {
			tp->flags |= TF_RTT_TIMING;
			tp->rtt_seq = cb->seq;
			tp->rtt_start_ns = tp->st->now;
		}
		cb->sent = 1;
		cb->sent_ns = tcp_rack_stamp(tp);
		cb->lost = 0;
	}
	return r;
}

/* How many write-queue skbs from skb on (which may go now: it passed tcp_output's checks) can leave
 * with it in one GSO frame within `can` bytes of window and congestion window: unsent data skbs, all
 * but the last of a full MSS, the last smaller only where Nagle would send it anyway; *bytes their
 * payload. 1 when offloads are off or nothing can join. */
static uint32_t tcp_gso_count(const struct tcp_sock *tp, const struct sk_buff *skb, uint32_t can,
			      uint32_t *bytes)
{
	uint32_t n = 1, total = skb->len, max = TCP_GSO_MAX_PAYLOAD / tp->mss * tp->mss;

	*bytes = total;
	if (!(tp->flags & TF_OFFLOAD) || skb->len != tp->mss || TCP_SKB_CB(skb)->sent ||
	    (TCP_SKB_CB(skb)->flags & (TCPF_SYN | TCPF_FIN)))
		return 1;
	for (const struct sk_buff *nx = skb->next; nx && skb->len == tp->mss; skb = nx, nx = nx->next) {
		const struct tcp_skb_cb *cb = TCP_SKB_CB(nx);

		if (!nx->len || cb->sent || (cb->flags & (TCPF_SYN | TCPF_FIN)) || total + nx->len > can ||
		    total + nx->len > max)
			break;
		/* Nagle (RFC 9293 §3.7.4), as tcp_output applies it: with data in flight a small
		 * segment waits unless more follows it */
		if (nx->len < tp->mss && !(tp->flags & TF_NODELAY) && !nx->next)
			break;
		total += nx->len;
		n++;
	}
	*bytes = total;
	return n;
}

/* Resend one segment already sent (fast retransmit, RFC 5681 §3.2 step 3; a NewReno partial ACK,
 * RFC 6582 §3.2 step 4) without moving SND.NXT: only that segment goes, not the rest of the flight. */
int tcp_retransmit_skb(struct tcp_sock *tp, struct sk_buff *skb)
{
	return tcp_transmit_skb(tp, skb);
}

/* Split an unsent skb so that its first part holds len bytes. */
static int tcp_fragment(struct tcp_sock *tp, struct sk_buff *skb, uint32_t len)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint32_t rest = skb->len - len;
	struct sk_buff *n = skb_alloc(tp->st->pool, SKB_MAX_HEADER + tp->mss);

	if (!n)
		return -ENOBUFS;
	skb_reserve(n, SKB_MAX_HEADER);
	skb_put_data(n, skb->data + len, rest);
	*TCP_SKB_CB(n) = *cb;
	TCP_SKB_CB(n)->seq = cb->seq + len;
	cb->end_seq = cb->seq + len;
	skb_trim(skb, len);
	/* the queue's byte count does not change: the bytes moved from one skb to the next */
	tp->write_q.bytes -= rest;
	skb_queue_insert_after(&tp->write_q, skb, n);
	return 0;
}

void tcp_output(struct tcp_sock *tp)
{
	struct sk_buff *skb;
	bool sent = false;

	if (tp->state == TCP_CLOSED || tp->state == TCP_LISTEN)
		return;
	while ((skb = tp->send_head) != NULL) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
		struct sk_buff *last = skb;
		uint32_t wnd_end = tp->snd_una + tp->snd_wnd, gso_n = 1, gso_bytes = 0;
		uint32_t flight = tcp_flight(tp);
		uint32_t cwnd_room = tp->cwnd > flight ? tp->cwnd - flight : 0;

		if ((tp->flags & TF_IN_RECOVERY) && tcp_sack_active(tp)) {
			/* RFC 6675 §5 rule 2: new data into cwnd - pipe */
			uint32_t pipe = tcp_sack_pipe(tp);
			cwnd_room = tp->cwnd > pipe ? tp->cwnd - pipe : 0;
		} else if (!(tp->flags & TF_IN_RECOVERY) && tp->dupacks && tp->dupacks < 3) {
			/* RFC 3042 limited transmit: one new segment for each of the first two duplicate
			 * ACKs, outstanding data up to cwnd + 2 * SMSS */
			uint32_t lim = tp->cwnd + tp->dupacks * (uint32_t)tp->mss;
			cwnd_room = lim > flight ? lim - flight : 0;
		}

		if (cb->flags & TCPF_SYN) {
			/* the SYN waits for nothing */
		} else if (tp->state < TCP_ESTABLISHED) {
			break;
		} else if (skb->len > 0) {
			uint32_t fit = seq_gt(wnd_end, cb->seq) ? wnd_end - cb->seq : 0;
			uint32_t can = fit < cwnd_room ? fit : cwnd_room;

			if (flight == 0 && cwnd_room == 0)
				can = fit; /* nothing in flight: at least one segment may go */
			if (can < skb->len) {
				/* RFC 1122 §4.2.3.4: send part of a segment only when it is at least half
				 * the largest window the peer offered, or nothing is outstanding */
				if (cb->sent || can == 0 ||
				    (can < tp->max_snd_wnd / 2 && can < tp->mss && flight != 0) ||
				    tcp_fragment(tp, skb, can) < 0)
					break;
			}
			/* Nagle (RFC 9293 §3.7.4): a small segment waits while data is unacknowledged,
			 * unless it is followed by more or by a FIN */
			if (skb->len < tp->mss && !(tp->flags & TF_NODELAY) && flight != 0 && !cb->sent &&
			    !skb->next)
				break;
			gso_n = tcp_gso_count(tp, skb, can, &gso_bytes);
		} else if (cb->flags & TCPF_FIN) {
			/* the FIN occupies a sequence number but no window */
		}
		if (gso_n > 1) {
			int r = tcp_transmit_gso(tp, skb, gso_n, gso_bytes);

			if (r == -EMSGSIZE) {
				/* IP would not take a GSO frame on this route any more: one segment at a
				 * time, with checksums done here, from now on */
				tp->flags &= (uint16_t)~TF_OFFLOAD;
				gso_n = 1;
			} else if (r < 0) {
				break;
			} else {
				while (--gso_n)
					last = last->next;
			}
		}
		if (gso_n == 1 && tcp_transmit_skb(tp, skb) < 0)
			break;
		sent = true;
		if (seq_gt(TCP_SKB_CB(last)->end_seq, tp->snd_nxt))
			tp->snd_nxt = TCP_SKB_CB(last)->end_seq;
		if (seq_gt(tp->snd_nxt, tp->snd_max))
			tp->snd_max = tp->snd_nxt;
		tp->send_head = last->next;
		if (tp->deadline[TCP_T_RETRANS] == US_TIME_NEVER)
			tcp_rearm_rto(tp);
	}
	if (sent)
		tcp_tlp_arm(tp); /* RFC 8985 §7.2: after sending, a probe timeout */
	if (!sent && (tp->flags & TF_ACK_NOW))
		tcp_send_ack(tp);
	/* RFC 9293 §3.8.6.1: a zero window with data waiting and nothing in flight is probed */
	if (tp->send_head && tp->snd_wnd == 0 && tcp_flight(tp) == 0 &&
	    tp->deadline[TCP_T_PERSIST] == US_TIME_NEVER && tp->state >= TCP_ESTABLISHED)
		tcp_timer_set(tp, TCP_T_PERSIST, tp->st->now + (uint64_t)tp->rto_us * 1000);
}

int tcp_send_new_probe(struct tcp_sock *tp)
{
	struct sk_buff *skb = tp->send_head;
	struct tcp_skb_cb *cb;

	if (!skb || !skb->len || tp->state < TCP_ESTABLISHED || TCP_SKB_CB(skb)->sent)
		return -EAGAIN;
	if (skb->len > tp->mss && tcp_fragment(tp, skb, tp->mss) < 0)
		return -ENOBUFS;
	cb = TCP_SKB_CB(skb);
	if (seq_gt(cb->seq + skb->len, tp->snd_una + tp->snd_wnd))
		return -EAGAIN;
	if (tcp_transmit_skb(tp, skb) < 0)
		return -ENOBUFS;
	tp->snd_nxt = cb->end_seq;
	if (seq_gt(tp->snd_nxt, tp->snd_max))
		tp->snd_max = tp->snd_nxt;
	tp->send_head = skb->next;
	return 0;
}

void tcp_send_ack(struct tcp_sock *tp)
{
	if (tp->state == TCP_CLOSED || tp->state == TCP_LISTEN || tp->state == TCP_SYN_SENT)
		return;
	tcp_emit_ctl(tp, tp->snd_nxt, TCPF_ACK);
}

int tcp_send_syn(struct tcp_sock *tp)
{
	struct sk_buff *skb = skb_alloc(tp->st->pool, SKB_MAX_HEADER);
	struct tcp_skb_cb *cb;

	if (!skb)
		return -ENOBUFS;
	skb_reserve(skb, SKB_MAX_HEADER);
	cb = TCP_SKB_CB(skb);
	memset(cb, 0, sizeof(*cb));
	cb->seq = tp->iss;
	cb->end_seq = tp->iss + 1;
	cb->flags = TCPF_SYN;
	skb_queue_tail(&tp->write_q, skb);
	tp->send_head = skb;
	tp->snd_nxt = tp->iss;
	tcp_output(tp);
	return 0;
}

void tcp_send_fin(struct tcp_sock *tp, enum tcp_state_reason why)
{
	struct sk_buff *skb, *tail;
	struct tcp_skb_cb *cb;

	if (tp->flags & TF_FIN_QUEUED)
		return;
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_RECEIVED:
		tcp_set_state(tp, TCP_FIN_WAIT_1, why);
		break;
	case TCP_CLOSE_WAIT:
		tcp_set_state(tp, TCP_LAST_ACK, why);
		break;
	default:
		return;
	}
	tp->flags |= TF_FIN_QUEUED;
	skb = skb_alloc(tp->st->pool, SKB_MAX_HEADER);
	if (!skb)
		return; /* the state moved; a FIN is not sent and the retransmit timer will end it */
	skb_reserve(skb, SKB_MAX_HEADER);
	cb = TCP_SKB_CB(skb);
	memset(cb, 0, sizeof(*cb));
	tail = skb_peek_tail(&tp->write_q);
	cb->seq = tail ? TCP_SKB_CB(tail)->end_seq : tp->snd_nxt;
	cb->end_seq = cb->seq + 1;
	cb->flags = TCPF_FIN | TCPF_ACK;
	skb_queue_tail(&tp->write_q, skb);
	if (!tp->send_head)
		tp->send_head = skb;
	tcp_output(tp);
}

void tcp_send_active_reset(struct tcp_sock *tp)
{
	/* RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST>, with an ACK as Linux sends it */
	if (tp->state == TCP_CLOSED || tp->state == TCP_LISTEN || tp->state == TCP_SYN_SENT)
		return;
	tcp_emit_ctl(tp, tp->snd_nxt, TCPF_RST | TCPF_ACK);
}

void tcp_send_probe(struct tcp_sock *tp)
{
	/* an old sequence number makes the peer answer with an ACK and its window (RFC 9293
	 * §3.8.6.1, RFC 1122 §4.2.3.6) */
	tcp_emit_ctl(tp, tp->snd_una - 1, TCPF_ACK);
}

void tcp_retransmit_head(struct tcp_sock *tp)
{
	/* go back to the oldest unacknowledged segment (RFC 6298 §5.4: retransmit the earliest) */
	tp->send_head = skb_peek(&tp->write_q);
	tp->snd_nxt = tp->snd_una;
	tp->flags &= (uint16_t)~TF_RTT_TIMING;
	tcp_timer_clear(tp, TCP_T_RETRANS);
	tcp_output(tp);
	if (tp->deadline[TCP_T_RETRANS] == US_TIME_NEVER)
		tcp_rearm_rto(tp);
}

/* Answer a segment that belongs to no connection (RFC 9293 §3.10.7.1). skb: data at the payload,
 * transport and network headers set; read only. */
void tcp_send_reset(struct us_stack *st, const struct sk_buff *in)
{
	const uint8_t *ih = skb_network_header(in), *th = skb_transport_header(in);
	struct tcp_skb_cb *icb = TCP_SKB_CB(in);
	struct ip_out o = { .proto = IP_PROTO_TCP, .df = true };
	struct sk_buff *skb;
	uint8_t *h;
	uint32_t seq, ack = 0;
	uint8_t flags;

	if (icb->flags & TCPF_RST)
		return; /* never a reset in answer to a reset */
	if (icb->flags & TCPF_ACK) {
		seq = icb->ack_seq; /* <SEQ=SEG.ACK><CTL=RST> */
		flags = TCPF_RST;
	} else {
		seq = 0; /* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
		ack = icb->end_seq;
		flags = TCPF_RST | TCPF_ACK;
	}
	skb = skb_alloc(st->pool, SKB_MAX_HEADER);
	if (!skb)
		return;
	skb_reserve(skb, SKB_MAX_HEADER);
	h = skb_push(skb, TCP_HDR_MIN);
	memset(h, 0, TCP_HDR_MIN);
	put_be16(h, tcp_dport(th));
	put_be16(h + 2, tcp_sport(th));
	put_be32(h + 4, seq);
	put_be32(h + 8, ack);
	h[12] = (TCP_HDR_MIN / 4) << 4;
	h[13] = flags;
	o.saddr = ipv4_daddr(ih);
	o.daddr = ipv4_saddr(ih);
	put_be16(h + 16, csum_fold(csum_partial(h, TCP_HDR_MIN,
						csum_pseudo(o.saddr, o.daddr, IP_PROTO_TCP, TCP_HDR_MIN))));
	TCP_INC(st, OutSegs);
	TCP_INC(st, OutRsts);
	ip_output(st, skb, &o);
}
