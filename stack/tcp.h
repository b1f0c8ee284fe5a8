/*
 * tcp.h - TCP's internal interfaces: the control block, the per-segment control block, and the
 * functions the TCP files share (tcp.c lifecycle and tables, tcp_input.c segment arrival,
 * tcp_output.c sending, tcp_timer.c deadlines, tcp_cc.c congestion control). Not a public header.
 *
 * Names are RFC 9293's (snd_una, snd_nxt, rcv_nxt, iss, irs, ...). Sequence numbers are compared only
 * through seq_lt/seq_leq/seq_gt/seq_geq.
 */
#ifndef USTACK_TCP_H
#define USTACK_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core.h"
#include "wire/tcp.h"

/* RFC 9293 §3.3.2's states, ordered so that "synchronized" is a comparison. */
enum tcp_state {
	TCP_CLOSED = 0,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED, /* from here on: synchronized */
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }
static inline uint32_t seq_min(uint32_t a, uint32_t b) { return seq_lt(a, b) ? a : b; }

/* The connection's timers: each a deadline, US_TIME_NEVER when off; the stack's queue holds one
 * timer per connection, armed at the earliest (FreeBSD's t_timers[]). */
enum tcp_timer_id {
	TCP_T_LOSS,	 /* RFC 8985: RACK's reordering timer or TLP's probe timeout (tcp_rack.c);
			  * first, so that a probe due with the RTO goes instead of it */
	TCP_T_RETRANS,	 /* retransmission (RFC 6298), also SYN and SYN-ACK */
	TCP_T_PERSIST,	 /* zero-window probe */
	TCP_T_KEEPALIVE, /* idle probe (RFC 1122 §4.2.3.6) */
	TCP_T_DELACK,	 /* delayed ACK (RFC 1122 §4.2.3.2) */
	TCP_T_2MSL,	 /* TIME-WAIT, and the FIN-WAIT-2 limit of an orphan */
	TCP_T_MAX,
};

/* Flags in tcp_sock.flags */
#define TF_ACK_NOW 0x0001     /* send an ACK at the end of this input */
#define TF_NODELAY 0x0002     /* Nagle off (TCP_NODELAY) */
#define TF_FIN_QUEUED 0x0004  /* the user closed the sending side: a FIN is on the write queue */
#define TF_SHUT_RD 0x0008     /* the user will read no more */
#define TF_ORPHAN 0x0010      /* the user closed the socket: it is freed when it reaches CLOSED */
#define TF_KEEPALIVE 0x0020   /* SO_KEEPALIVE */
#define TF_PASSIVE 0x0040     /* opened from a listener */
#define TF_IN_RECOVERY 0x0080 /* fast recovery (RFC 5681 §3.2) */
#define TF_RTT_TIMING 0x0100  /* a segment is being timed (no timestamps) */
#define TF_PEER_FIN 0x0200    /* the peer's FIN was received (EOF after the queued data) */
#define TF_ACCEPTED 0x0400    /* taken by accept() */
#define TF_FREE 0x0800        /* torn down; freed once the socket layer lets go */
#define TF_AUTOBIND 0x1000    /* the local port was chosen at connect (shared across peers) */
#define TF_OFFLOAD 0x2000     /* the route's device takes partial checksums and TCPv4 GSO frames
			       * (NETDEV_F_HW_CSUM | NETDEV_F_TSO4; docs/offload.md) */
#define TF_TRACE 0x8000       /* traced: tcp_trace.c has its CSV (no room for a pointer here) */

struct tcp_sock;

/* Congestion control behind an ops table (Linux's tcp_congestion_ops). */
struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tcp_sock *tp);
	/* bytes newly acknowledged, outside recovery */
	void (*on_ack)(struct tcp_sock *tp, uint32_t acked);
	/* the new slow start threshold on loss (fast retransmit or timeout) */
	uint32_t (*ssthresh)(struct tcp_sock *tp);
	/* optional: after a retransmission timeout has collapsed the window to one segment */
	void (*on_timeout)(struct tcp_sock *tp);
};

extern const struct tcp_cc_ops tcp_newreno;
extern const struct tcp_cc_ops tcp_cubic;

/* Room for an algorithm's own per-connection state in tcp_sock.cc_priv (Linux's icsk_ca_priv). */
#define TCP_CC_PRIV_SIZE 24

struct tcp_sock {
	struct us_stack *st;
	void *owner;		 /* the socket layer's handle, woken on readiness changes; NULL: none */
	struct tcp_sock *hnext;	 /* established/listen hash chain */
	struct tcp_sock *bnext;	 /* bound-port chain: sockets that hold their local port, accepted */
	struct tcp_sock **bpprev; /* children too (as Linux's __inet_inherit_port); O(1) unlink */
	bool hashed, bound;
	uint8_t state;		 /* enum tcp_state */
	uint8_t snd_wscale;	 /* shift the peer applies to its window (what it sent) */
	uint8_t rcv_wscale;	 /* shift we apply to ours */
	uint8_t retries;	 /* consecutive RTO expirations */
	uint8_t backoff;	 /* RTO doublings */
	uint8_t probes;		 /* unanswered keepalive or zero-window probes */
	uint16_t flags;		 /* TF_* */
	bool ts_ok, sack_ok, wscale_ok;
	bool reuseaddr;		 /* SO_REUSEADDR */
	uint8_t ttl;		 /* IP_TTL; 0: the stack's default */
	bool tw_iss_floor_set;	 /* a TIME-WAIT connection was taken over: start beyond it */

	uint32_t laddr, raddr; /* host order; laddr 0 on a wildcard listener */
	uint16_t lport, rport;

	/* RFC 9293 §3.3.1 send sequence variables */
	uint32_t iss, snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
	uint32_t snd_max;     /* highest sequence sent + 1 (snd_nxt goes back on RTO) */
	uint32_t max_snd_wnd; /* largest window the peer offered */
	/* receive sequence variables */
	uint32_t irs, rcv_nxt, rcv_wnd;
	uint32_t rcv_adv; /* right edge of the window we advertised */

	uint16_t mss;	   /* send MSS: payload bytes per segment, options excluded */
	uint16_t rcv_mss;  /* the MSS we advertised */
	uint32_t ts_recent; /* RFC 7323 TS.Recent */
	uint32_t ts_offset; /* added to our clock's milliseconds, random per connection */
	uint64_t ts_recent_ns;

	/* RTT and RTO (RFC 6298), microseconds */
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t rtt_seq;     /* Karn: the sequence being timed when no timestamps */
	uint64_t rtt_start_ns;

	/* congestion control (RFC 5681), bytes */
	const struct tcp_cc_ops *cc;
	uint32_t cwnd, ssthresh;
	uint32_t dupacks;
	uint32_t recover; /* RFC 6582 "recover": snd_max when recovery began */
	uint32_t cwnd_cnt; /* congestion avoidance byte counter */
	uint32_t tw_iss_floor; /* the least ISS after a TIME-WAIT takeover */
	uint64_t cc_priv[TCP_CC_PRIV_SIZE / 8]; /* the algorithm's own state (tcp_cubic.c) */

	/* queues */
	struct skb_queue write_q;   /* sent-unacked then unsent; SYN and FIN are zero-length skbs */
	struct sk_buff *send_head;  /* first unsent on write_q, NULL when all sent */
	struct skb_queue rcv_q;	    /* in order, for the user; data at the unread bytes */
	struct skb_queue ofo_q;	    /* out of order, sorted, not overlapping */
	uint32_t sndbuf, rcvbuf;    /* bytes */
	uint32_t delack_segs;	    /* full segments received since our last ACK */
	uint32_t last_ack_sent;	    /* RFC 7323 Last.ACK.sent: RCV.NXT in our latest ACK */

	/* timers */
	uint64_t deadline[TCP_T_MAX];
	struct us_timer timer;
	uint32_t keepidle_s, keepintvl_s; /* TCP_KEEPIDLE, TCP_KEEPINTVL, seconds (as they are set) */
	struct tcp_sack_state *sack; /* SACK's receive blocks and send scoreboard (tcp_sack.c); NULL
				      * until the connection first meets reordering or loss */
	uint64_t last_rx_ns; /* for keepalive */

	int err;     /* pending error for the user (negative errno), 0: none */
	uint32_t total_retrans;
	/* per-connection counters, as Linux keeps them for TCP_INFO (RFC 4898's tcpEStats*) */
	uint32_t segs_out;	 /* every segment sent, retransmissions and pure ACKs included */
	uint32_t segs_in;	 /* every segment received for this connection (the SYN included) */
	uint64_t bytes_acked;	 /* SND.UNA's advance: data, and the SYN and FIN (1 each) */
	uint64_t bytes_received; /* RCV.NXT's advance past the SYN: data, and the FIN (1) */

	/* listeners */
	struct tcp_sock *parent;	       /* the listener of an embryonic or unaccepted child */
	struct tcp_sock *accept_head, *accept_tail; /* established children, oldest first */
	struct tcp_sock *syn_head, *syn_tail;	    /* SYN-RECEIVED children */
	struct tcp_sock *child_next;		    /* on the parent's syn or accept list */
	bool on_accept_list;
	uint8_t keepcnt;			    /* TCP_KEEPCNT (at most 127, as Linux) */
	uint8_t rack_flags;			    /* TCP_RACK_* (tcp_rack.c) */
	uint32_t accept_len, syn_len, backlog;

	/* RACK-TLP (RFC 8985, tcp_rack.c); the rest of RACK's state is in *sack */
	uint32_t rack_min_rtt_us; /* RACK.min_RTT: the least RTT of a segment sent once; 0: none */
	uint32_t tlp_end_seq;	  /* TLP.end_seq: SND.NXT after the probe, while TCP_RACK_TLP_OUT */
};

/* tcp_sock.rack_flags */
#define TCP_RACK_TLP_OUT 0x01	 /* a loss probe is outstanding: TLP.end_seq is set (§7.3) */
#define TCP_RACK_TLP_RETRANS 0x02 /* TLP.is_retrans: that probe resent old data */
#define TCP_RACK_LOSS_PTO 0x04	 /* TCP_T_LOSS is the probe timeout, not the reordering timer */

/* Per-segment facts in skb->cb, for received segments and for the write queue (TCP_SKB_CB). */
struct tcp_skb_cb {
	uint32_t seq, end_seq; /* end_seq = seq + data + SYN + FIN */
	uint32_t ack_seq;
	uint16_t window;
	uint8_t flags;	      /* TCPF_* */
	uint8_t sent;	      /* write queue: transmitted at least once */
	uint8_t retrans;      /* write queue: retransmitted */
	uint8_t sacked;	      /* write queue: covered by a SACK block (RFC 2018), not yet by SND.UNA */
	uint8_t lost;	      /* write queue: RACK (RFC 8985 §6.2 step 5) found it lost; cleared when
			       * it is sent again */
	uint64_t sent_ns;     /* write queue: last transmission */
	struct tcp_opts *opts; /* received: the parsed options (valid during input only) */
};

static inline struct tcp_skb_cb *TCP_SKB_CB(const struct sk_buff *skb)
{
	_Static_assert(sizeof(struct tcp_skb_cb) <= SKB_CB_SIZE, "tcp_skb_cb fits in skb->cb");
	return (struct tcp_skb_cb *)(void *)skb->cb;
}

/* The stack's TCP tables. */
struct tcp_table {
	struct tcp_sock **ehash; /* by 4-tuple: SYN-SENT onwards */
	uint32_t ehash_mask;
	struct tcp_sock **lhash; /* listeners, by local port */
	struct tcp_sock **bhash; /* sockets owning a local port (bind, connect), by port */
	uint32_t lhash_mask;
	uint32_t count;		 /* sockets allocated */
	uint8_t isn_key[16];	 /* RFC 6528 secret */
	uint8_t hash_key[16];	 /* hash-table seed */
	uint8_t cookie_key[16];	 /* SYN cookie secret (tcp_syncookie.c) */
	uint64_t cookie_until_ns; /* ACKs to listeners are checked for SYN cookies until then (one
				   * was sent lately; Linux's tcp_synq_no_recent_overflow); 0: never */
	uint64_t challenge_start_ns; /* RFC 5961 §7: the current one-second window began */
	uint32_t challenge_count;    /* challenge ACKs sent in it */
	const struct tcp_cc_ops *cc_default; /* new connections' congestion control */
	struct tcp_trace_table *trace; /* tcp_trace.c's connections and files; NULL: none yet */
};

/* Readiness may have changed (data, room, state, error): tell the socket layer, if one owns tp. */
static inline void tcp_wake(struct tcp_sock *tp)
{
	if (tp->owner)
		sock_wake(tp->st, tp->owner);
}

/* Why a connection changed state: every tcp_set_state (and tcp_done) names one, and the packet trace
 * prints its words (tcp_state_reason_name). */
enum tcp_state_reason {
	TCP_SR_USER_CONNECT,	  /* "user connect" */
	TCP_SR_USER_LISTEN,	  /* "user listen" */
	TCP_SR_USER_CLOSE,	  /* "user close" */
	TCP_SR_USER_SHUTDOWN,	  /* "user shutdown": shutdown(SHUT_WR) */
	TCP_SR_USER_ABORT,	  /* "abort" */
	TCP_SR_CLOSE_UNREAD,	  /* "user close with unread data": a reset (RFC 2525 §2.17) */
	TCP_SR_CONNECT_FAILED,	  /* "connect failed": the SYN could not be sent */
	TCP_SR_RCV_SYN,		  /* "rcv SYN" */
	TCP_SR_RCV_COOKIE_ACK,	  /* "rcv ACK of SYN cookie" (RFC 4987 §3.6) */
	TCP_SR_RCV_SYN_ACK,	  /* "rcv SYN-ACK" */
	TCP_SR_RCV_ACK_OF_SYN,	  /* "rcv ACK of SYN" */
	TCP_SR_RCV_FIN,		  /* "rcv FIN" */
	TCP_SR_RCV_ACK_OF_FIN,	  /* "rcv ACK of FIN" */
	TCP_SR_RCV_RST,		  /* "rcv RST" */
	TCP_SR_RCV_DATA_CLOSED,	  /* "rcv data after close": answered with a reset, as Linux */
	TCP_SR_ICMP_ERROR,	  /* "ICMP error" (RFC 1122 §4.2.3.9) */
	TCP_SR_RTO,		  /* "RTO retries exhausted" */
	TCP_SR_KEEPALIVE,	  /* "keepalive timeout" */
	TCP_SR_2MSL,		  /* "2MSL timeout" */
	TCP_SR_FIN_WAIT_2_TIMEOUT, /* "FIN-WAIT-2 timeout": an orphan waited too long */
	TCP_SR_TW_REUSE,	  /* "TIME-WAIT reused": a new connection took the 4-tuple */
	TCP_SR_MAX,
};

/* tcp.c (tcp_init, tcp_destroy, tcp_v4_rcv and tcp_v4_err are in core.h) */
struct tcp_sock *tcp_sock_new(struct us_stack *st);
void tcp_set_state(struct tcp_sock *tp, enum tcp_state state, enum tcp_state_reason why);
const char *tcp_state_reason_name(enum tcp_state_reason why);
/* Connection gone (CLOSED, for why): unhash, drop its queues and timers, report err to the user
 * (0: none); freed now if the user has let go, else when it does. */
void tcp_done(struct tcp_sock *tp, int err, enum tcp_state_reason why);
struct tcp_sock *tcp_lookup_established(struct us_stack *st, uint32_t laddr, uint16_t lport,
					uint32_t raddr, uint16_t rport);
struct tcp_sock *tcp_lookup_listener(struct us_stack *st, uint32_t laddr, uint16_t lport);
void tcp_hash(struct tcp_sock *tp);
/* Hold tp's local port in the bound-port table (bind, connect, and accepted children). */
void tcp_bind_hash(struct tcp_sock *tp);
/* A listener's children: put a new one on the SYN list, move it to the accept list. */
void tcp_child_add(struct tcp_sock *l, struct tcp_sock *c);
bool tcp_child_established(struct tcp_sock *c);
void tcp_unhash(struct tcp_sock *tp);
uint32_t tcp_isn(struct us_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);
/* Our timestamp clock's offset towards raddr from laddr (RFC 7323 §5.4): one per address pair. */
uint32_t tcp_ts_offset(struct us_stack *st, uint32_t laddr, uint32_t raddr);
const char *tcp_state_name(int state);
/* The user's send and receive, gathered and scattered (us_tcp_send/us_tcp_recv's results). */
struct iovec;
int tcp_sendmsg(struct tcp_sock *tp, const struct iovec *iov, int iovcnt);
int tcp_recvmsg(struct tcp_sock *tp, const struct iovec *iov, int iovcnt, bool peek);

/* tcp_output.c */
/* Send what the windows allow, then an ACK if one is owed. */
void tcp_output(struct tcp_sock *tp);
void tcp_send_ack(struct tcp_sock *tp);
/* Queue SYN (active open) or SYN-ACK (passive) on the write queue and send it. */
int tcp_send_syn(struct tcp_sock *tp);
/* Queue a FIN after the data (FIN-WAIT-1 or LAST-ACK, for why). */
void tcp_send_fin(struct tcp_sock *tp, enum tcp_state_reason why);
/* A RST for a connection (abort). */
void tcp_send_active_reset(struct tcp_sock *tp);
/* A RST answering a segment with no connection (RFC 9293 §3.10.7.1); skb at the TCP payload. */
void tcp_send_reset(struct us_stack *st, const struct sk_buff *skb);
/* A probe that elicits an ACK (zero window, keepalive): sequence snd_una - 1, no data. */
void tcp_send_probe(struct tcp_sock *tp);
/* Go back to snd_una and resend (RTO) or resend the first unacked segment (fast retransmit). */
void tcp_retransmit_head(struct tcp_sock *tp);
/* Resend one already-sent write-queue segment, and nothing else. */
int tcp_retransmit_skb(struct tcp_sock *tp, struct sk_buff *skb);
/* Send the first unsent segment (data, at most one MSS) if the peer's window has room for it,
 * whatever cwnd says: TLP's probe of new data (RFC 8985 §7.3). 0 when sent, else -EAGAIN or -ENOBUFS. */
int tcp_send_new_probe(struct tcp_sock *tp);
uint32_t tcp_rcv_window(const struct tcp_sock *tp);
uint32_t tcp_flight(const struct tcp_sock *tp);
uint32_t tcp_now_ts(const struct tcp_sock *tp);
/* The MSS to advertise and to use on this route. */
uint16_t tcp_route_mss(struct us_stack *st, uint32_t raddr);
/* Whether the route to raddr goes through a device that takes partial checksums and segments TCPv4
 * GSO frames (TF_OFFLOAD). */
bool tcp_route_offload(struct us_stack *st, uint32_t raddr);

/* tcp_timer.c */
void tcp_timer_init(struct tcp_sock *tp);
void tcp_timer_set(struct tcp_sock *tp, enum tcp_timer_id id, uint64_t when);
void tcp_timer_clear(struct tcp_sock *tp, enum tcp_timer_id id);
void tcp_timers_stop(struct tcp_sock *tp);
void tcp_rearm_rto(struct tcp_sock *tp);
void tcp_rtt_sample(struct tcp_sock *tp, uint32_t rtt_us);

/* tcp_input.c */
/* A child of listener l for the peer that sent skb (its SYN, or the ACK returning a SYN cookie): the
 * peer's ISN irs with SYN options o, our ISS iss. SYN-RECEIVED, hashed, on l's SYN list, nothing
 * sent; NULL when out of memory. skb: read only. */
struct tcp_sock *tcp_child_new(struct tcp_sock *l, const struct sk_buff *skb, uint32_t irs,
			       const struct tcp_opts *o, uint32_t iss);
/* The window scale that lets a receive buffer of rcvbuf bytes be advertised in 16 bits. */
uint8_t tcp_choose_wscale(uint32_t rcvbuf);

/* tcp_syncookie.c: against blind attackers, SYN cookies (RFC 4987 §3.6) and the challenge-ACK
 * limit (RFC 5961 §7) */
void tcp_syncookie_init(struct us_stack *st);
/* Whether listener l answers a SYN with a cookie: the SYN queue is full, or cookies always. */
bool tcp_syncookie_wanted(const struct tcp_sock *l);
/* A SYN-ACK whose ISN is a cookie, answering the SYN in skb (read only); no state kept. */
void tcp_syncookie_send(struct tcp_sock *l, const struct sk_buff *skb);
/* An ACK to listener l: the child its valid cookie makes (SYN-RECEIVED, its SYN-ACK sent), or NULL,
 * with *reset telling whether RFC 9293 §3.10.7.2's reset is the answer. skb: read only. */
struct tcp_sock *tcp_syncookie_check(struct tcp_sock *l, const struct sk_buff *skb, bool *reset);
/* RFC 5961: owe tp's peer a challenge ACK (TF_ACK_NOW), if the stack's budget for this second
 * allows; counted as sent or skipped. */
void tcp_challenge_ack(struct tcp_sock *tp);

/* tcp_sack.c: SACK (RFC 2018), D-SACK (RFC 2883), SACK-based loss recovery (RFC 6675) */
struct tcp_sack_block;
struct tcp_opts;
void tcp_sack_free(struct tcp_sock *tp);
/* Receiving: an out-of-order segment [seq, end) was queued; a duplicate [seq, end) arrived. */
void tcp_sack_ofo_arrived(struct tcp_sock *tp, uint32_t seq);
void tcp_sack_dup_arrived(struct tcp_sock *tp, uint32_t seq, uint32_t end, bool ofo);
/* The SACK option for our next ACK: its length (0: none), written to o. */
uint32_t tcp_sack_option(struct tcp_sock *tp, uint8_t *o, uint32_t room);
/* Sending: take the SACK blocks of an ACK into the scoreboard; true when something new was SACKed. */
bool tcp_sack_update(struct tcp_sock *tp, const struct tcp_opts *o);
/* SACKed bytes left the scoreboard: SEG.ACK (the new SND.UNA) covered them. */
void tcp_sack_acked(struct tcp_sock *tp, uint32_t bytes, uint32_t ack);
/* Recovery's HighRxt: back to SND.UNA as it begins; moved past each retransmission. */
void tcp_sack_reset_rxt(struct tcp_sock *tp);
void tcp_sack_note_rxt(struct tcp_sock *tp, uint32_t end);
/* RFC 6675 IsLost(SND.UNA): enough SACKed above the first hole to call it lost. */
bool tcp_sack_head_lost(const struct tcp_sock *tp);
/* RFC 6675 pipe: the bytes still in the network. */
uint32_t tcp_sack_pipe(const struct tcp_sock *tp);
/* Loss recovery's transmissions (RFC 6675 §5, NextSeg rules 1 and 3; with RACK on, the segments
 * RACK marked lost, also in the recovery after a timeout): retransmit lost segments while cwnd - pipe
 * allows. */
void tcp_sack_retransmit(struct tcp_sock *tp);
/* An RTO: forget the scoreboard (RFC 2018 §8). */
void tcp_sack_reset(struct tcp_sock *tp);
static inline bool tcp_sack_active(const struct tcp_sock *tp)
{
	return tp->sack_ok && tp->sack;
}
/* RACK's state (RFC 8985 §6.1) in the SACK block, NULL without one; the SACKed bytes it holds. */
struct tcp_rack;
struct tcp_rack *tcp_sack_rack(struct tcp_sock *tp);
uint32_t tcp_sack_sacked_bytes(const struct tcp_sock *tp);

/* tcp_rack.c: RACK-TLP loss detection (RFC 8985) for what we send */
struct tcp_rack {
	uint64_t xmit_ns;	 /* RACK.xmit_ts: when the latest sent of the delivered segments went */
	uint64_t rtt_ns;	 /* RACK.rtt: that segment's RTT */
	uint64_t last_xmit_ns;	 /* the latest transmission's stamp (tcp_rack_stamp) */
	uint32_t end_seq;	 /* RACK.end_seq: its end */
	uint32_t fack;		 /* RACK.fack: the highest end delivered, as of the previous ACK */
	uint32_t fack_ack;	 /* ... and as of this one (folded into fack when the ACK is done) */
	uint32_t dsack_round;	 /* RACK.dsack_round: SND.NXT when a D-SACK last widened the window */
	uint32_t dsack_end;	 /* the end of the D-SACK block in the ACK being processed */
	uint8_t reo_wnd_mult;	 /* RACK.reo_wnd_mult: the window in quarters of min_RTT, 1.. */
	uint8_t reo_wnd_persist; /* RACK.reo_wnd_persist: recoveries until the window narrows again */
	bool dsack_round_set;	 /* dsack_round holds a value (RFC 8985: not None) */
	bool dsack;		 /* the ACK being processed carries a D-SACK block (RFC 2883) */
	bool reordering_seen;	 /* RACK.reordering_seen */
	bool recovering;	 /* in fast or RTO recovery at the previous ACK: to see one end */
};
/* RACK is on: SACK was negotiated and the stack's tcp_recovery has it; TLP is on. */
bool tcp_rack_on(const struct tcp_sock *tp);
bool tcp_tlp_on(const struct tcp_sock *tp);
/* In fast recovery, or in RTO recovery (after a timeout, until SND.UNA passes "recover"). */
static inline bool tcp_in_loss_recovery(const struct tcp_sock *tp)
{
	return (tp->flags & TF_IN_RECOVERY) || seq_lt(tp->snd_una, tp->recover);
}
/* The transmit time for a segment going out now: the clock, but past the connection's previous
 * stamp while RACK keeps state, so that segments sent in one poll round keep their order (RACK
 * orders by time, then sequence; a retransmission sent after higher new data must not look older). */
uint64_t tcp_rack_stamp(struct tcp_sock *tp);
/* A sent write-queue segment was newly delivered, cumulatively or by a SACK block (RFC 8985 §6.2
 * steps 1-3: RACK.min_RTT, RACK_update, RACK_detect_reordering). Read only. */
void tcp_rack_advance(struct tcp_sock *tp, const struct tcp_skb_cb *cb);
/* A D-SACK block [.., end) arrived (RFC 8985 §6.2 step 4's reordering window adaptation). */
void tcp_rack_dsack(struct tcp_sock *tp, uint32_t end);
/* Per ACK with SACK (and from the reordering timer): detect losses (§6.2 steps 4-5), enter fast
 * recovery on the first, retransmit what is lost as cwnd - pipe allows. */
void tcp_rack_recovery(struct tcp_sock *tp);
/* An ACK was taken in full (dup: a pure duplicate: no data, SND.UNA still, nothing newly SACKed):
 * the end of RACK's per-ACK bookkeeping and TLP's loss detection (§7.4). */
void tcp_rack_ack(struct tcp_sock *tp, uint32_t ack, bool dup);
/* Arm the probe timeout (§7.2) if a probe is called for, else disarm it. */
void tcp_tlp_arm(struct tcp_sock *tp);
/* TCP_T_LOSS expired: the reordering timer (§6.2 step 5) or the probe timeout (§7.3). */
void tcp_rack_timer(struct tcp_sock *tp);
/* A retransmission timeout: the probe and the reordering timer are over. */
void tcp_rack_rto(struct tcp_sock *tp);

/* tcp_cc.c */
void tcp_cc_ack(struct tcp_sock *tp, uint32_t acked);
void tcp_cc_enter_recovery(struct tcp_sock *tp);
void tcp_cc_timeout(struct tcp_sock *tp);
/* A loss repaired outside recovery (RFC 8985 §7.4.2: a loss probe plugged it): ssthresh as on a
 * fast retransmit, cwnd down to it, no recovery. */
void tcp_cc_reduce(struct tcp_sock *tp);
/* The algorithm of that name ("newreno", "cubic"), or NULL. */
const struct tcp_cc_ops *tcp_cc_find(const char *name);
/* Give tp another algorithm; a connection past the handshake keeps its window and restarts the
 * algorithm's own state. */
void tcp_cc_set(struct tcp_sock *tp, const struct tcp_cc_ops *ops);

/* tcp_trace.c: congestion-control traces, CSV (US_TCP_TRACE, tcp_trace_path) */
enum tcp_trace_event {
	TCP_TRACE_ACK,		/* an ACK that moved cwnd or ssthresh */
	TCP_TRACE_FAST_RETRANS, /* three duplicate ACKs: fast retransmit, recovery begins */
	TCP_TRACE_RTO,		/* the retransmission timer expired */
	TCP_TRACE_RETRANS,	/* a segment was sent again */
	TCP_TRACE_STATE,	/* the connection changed state */
};
struct tcp_trace_table;
/* Open the stack's file (cfg.tcp_trace_path), if any; 0 or -errno. Close it when the stack goes. */
int tcp_trace_init(struct us_stack *st);
void tcp_trace_destroy(struct us_stack *st);
/* Trace tp into path (created or truncated) or into the caller's fp (never closed here); both
 * NULL: stop. 0 or -errno. */
int tcp_trace_set(struct tcp_sock *tp, const char *path, FILE *fp);
/* The path tp is traced into; "" when it is not, or into a caller's FILE. */
const char *tcp_trace_path(const struct tcp_sock *tp);
void tcp_trace_detach(struct tcp_sock *tp);
void tcp_trace_sample(struct tcp_sock *tp, enum tcp_trace_event ev);
/* tcp_set_state's part: join the listener's or the stack's file at ESTABLISHED, write the row. */
void tcp_trace_state(struct tcp_sock *tp);
/* A hook: one flag test when the connection is not traced. */
static inline void tcp_trace(struct tcp_sock *tp, enum tcp_trace_event ev)
{
	if (tp->flags & TF_TRACE)
		tcp_trace_sample(tp, ev);
}

#endif
