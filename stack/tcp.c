/*
 * tcp.c - TCP connections: their tables, their creation and end, initial sequence numbers and
 * ephemeral ports, the one place states change, and the user calls (open, bind, listen, accept,
 * connect, send, receive, shutdown, close, abort) that the socket layer builds on.
 *
 * Connections are found through three hash tables: established (everything with a peer, SYN-SENT to
 * TIME-WAIT, keyed by the 4-tuple under a secret seed), listeners by port, and the sockets that own
 * a local port. Nothing walks all connections: a connection's timers live in the stack's timer queue.
 */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "latency.h"
#include "pkttrace.h"
#include "siphash.h"
#include "wire/ipv4.h"
#include "ustack/proto.h"

#define TCP_LHASH_SIZE 256
#define TCP_BHASH_SIZE 65536 /* one chain per port */
#define TCP_EPHEMERAL_LO 32768
#define TCP_EPHEMERAL_HI 60999

static const char *const tcp_state_names[] = {
	"CLOSED",     "LISTEN",	    "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	"FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",	"LAST-ACK",	"TIME-WAIT",
};

const char *tcp_state_name(int state)
{
	return state >= 0 && state <= TCP_TIME_WAIT ? tcp_state_names[state] : "?";
}

static const char *const tcp_state_reasons[TCP_SR_MAX] = {
	[TCP_SR_USER_CONNECT] = "user connect",
	[TCP_SR_USER_LISTEN] = "user listen",
	[TCP_SR_USER_CLOSE] = "user close",
	[TCP_SR_USER_SHUTDOWN] = "user shutdown",
	[TCP_SR_USER_ABORT] = "abort",
	[TCP_SR_CLOSE_UNREAD] = "user close with unread data",
	[TCP_SR_CONNECT_FAILED] = "connect failed",
	[TCP_SR_RCV_SYN] = "rcv SYN",
	[TCP_SR_RCV_COOKIE_ACK] = "rcv ACK of SYN cookie",
	[TCP_SR_RCV_SYN_ACK] = "rcv SYN-ACK",
	[TCP_SR_RCV_ACK_OF_SYN] = "rcv ACK of SYN",
	[TCP_SR_RCV_FIN] = "rcv FIN",
	[TCP_SR_RCV_ACK_OF_FIN] = "rcv ACK of FIN",
	[TCP_SR_RCV_RST] = "rcv RST",
	[TCP_SR_RCV_DATA_CLOSED] = "rcv data after close",
	[TCP_SR_ICMP_ERROR] = "ICMP error",
	[TCP_SR_RTO] = "RTO retries exhausted",
	[TCP_SR_KEEPALIVE] = "keepalive timeout",
	[TCP_SR_2MSL] = "2MSL timeout",
	[TCP_SR_FIN_WAIT_2_TIMEOUT] = "FIN-WAIT-2 timeout",
	[TCP_SR_TW_REUSE] = "TIME-WAIT reused",
};

const char *tcp_state_reason_name(enum tcp_state_reason why)
{
	return (unsigned)why < TCP_SR_MAX ? tcp_state_reasons[why] : "?";
}

int tcp_init(struct us_stack *st)
{
	struct us_stack_config *c = &st->cfg;
	const struct tcp_cc_ops *cc = tcp_cc_find(c->tcp_congestion ? c->tcp_congestion : "newreno");
	struct tcp_table *t;
	uint32_t n;

	if (!cc)
		return -EINVAL;
	c->tcp_congestion = cc->name; /* the caller's string need not outlive the call */
	if (!c->tcp_msl_ns)
		c->tcp_msl_ns = 30 * US_NSEC_PER_SEC;
	if (!c->tcp_rto_initial_ns)
		c->tcp_rto_initial_ns = US_NSEC_PER_SEC;
	if (!c->tcp_rto_min_ns)
		c->tcp_rto_min_ns = 200 * US_NSEC_PER_MSEC;
	if (!c->tcp_rto_max_ns)
		c->tcp_rto_max_ns = 120 * US_NSEC_PER_SEC;
	if (!c->tcp_delack_ns)
		c->tcp_delack_ns = 40 * US_NSEC_PER_MSEC;
	if (!c->tcp_fin_timeout_ns)
		c->tcp_fin_timeout_ns = 60 * US_NSEC_PER_SEC;
	if (!c->tcp_syn_retries)
		c->tcp_syn_retries = 6;
	if (!c->tcp_synack_retries)
		c->tcp_synack_retries = 5;
	if (!c->tcp_retries2)
		c->tcp_retries2 = 15;
	if (!c->tcp_rmem)
		c->tcp_rmem = 262144;
	if (!c->tcp_wmem)
		c->tcp_wmem = 262144;
	if (!c->tcp_max_syn_backlog)
		c->tcp_max_syn_backlog = 256;
	if (!c->tcp_syncookies)
		c->tcp_syncookies = 1;
	else if (c->tcp_syncookies > 2 && c->tcp_syncookies != US_TCP_SYNCOOKIES_OFF)
		return -EINVAL;
	if (!c->tcp_challenge_ack_limit)
		c->tcp_challenge_ack_limit = 1000;
	if (!c->tcp_recovery)
		c->tcp_recovery = US_TCP_RECOVERY_RACK | US_TCP_RECOVERY_TLP;
	else if (c->tcp_recovery & ~(US_TCP_RECOVERY_RACK | US_TCP_RECOVERY_STATIC_REO_WND |
				     US_TCP_RECOVERY_TLP | US_TCP_RECOVERY_ONLY))
		return -EINVAL;
	n = c->tcp_ehash_size ? c->tcp_ehash_size : 65536;
	if (n & (n - 1))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ehash = calloc(n, sizeof(*t->ehash));
	t->lhash = calloc(TCP_LHASH_SIZE, sizeof(*t->lhash));
	t->bhash = calloc(TCP_BHASH_SIZE, sizeof(*t->bhash));
	if (!t->ehash || !t->lhash || !t->bhash) {
		free(t->ehash);
		free(t->lhash);
		free(t->bhash);
		free(t);
		return -ENOMEM;
	}
	t->ehash_mask = n - 1;
	t->lhash_mask = TCP_LHASH_SIZE - 1;
	t->cc_default = cc;
	for (int i = 0; i < 16; i += 8) {
		uint64_t a = us_rand64(st), b = us_rand64(st);
		memcpy(t->isn_key + i, &a, 8);
		memcpy(t->hash_key + i, &b, 8);
	}
	for (int i = 0; i < 16; i++)
		if (c->tcp_isn_key[i]) {
			memcpy(t->isn_key, c->tcp_isn_key, 16);
			break;
		}
	st->tcp = t;
	tcp_syncookie_init(st);
	return tcp_trace_init(st);
}

static void tcp_free(struct tcp_sock *tp);

void tcp_destroy(struct us_stack *st)
{
	struct tcp_table *t = st->tcp;

	if (!t)
		return;
	/* free every socket: hashed ones through the tables, bound-only ones through bhash */
	for (uint32_t i = 0; i <= t->ehash_mask; i++)
		while (t->ehash[i])
			tcp_free(t->ehash[i]);
	for (uint32_t i = 0; i <= t->lhash_mask; i++)
		while (t->lhash[i])
			tcp_free(t->lhash[i]);
	for (uint32_t i = 0; i < TCP_BHASH_SIZE; i++)
		while (t->bhash[i])
			tcp_free(t->bhash[i]);
	tcp_trace_destroy(st);
	free(t->ehash);
	free(t->lhash);
	free(t->bhash);
	free(t);
	st->tcp = NULL;
}

static uint32_t tcp_ehashfn(const struct tcp_table *t, uint32_t laddr, uint16_t lport,
			    uint32_t raddr, uint16_t rport)
{
	uint32_t k[3] = { laddr, raddr, (uint32_t)lport << 16 | rport };

	return (uint32_t)siphash24(t->hash_key, k, sizeof(k)) & t->ehash_mask;
}

struct tcp_sock *tcp_lookup_established(struct us_stack *st, uint32_t laddr, uint16_t lport,
					uint32_t raddr, uint16_t rport)
{
	struct tcp_table *t = st->tcp;
	struct tcp_sock *tp = t->ehash[tcp_ehashfn(t, laddr, lport, raddr, rport)];

	while (tp && !(tp->lport == lport && tp->rport == rport && tp->laddr == laddr &&
		       tp->raddr == raddr))
		tp = tp->hnext;
	return tp;
}

struct tcp_sock *tcp_lookup_listener(struct us_stack *st, uint32_t laddr, uint16_t lport)
{
	struct tcp_sock *tp, *wild = NULL;

	/* the exact address before the wildcard */
	for (tp = st->tcp->lhash[lport & st->tcp->lhash_mask]; tp; tp = tp->hnext) {
		if (tp->lport != lport)
			continue;
		if (tp->laddr == laddr)
			return tp;
		if (tp->laddr == 0 && !wild)
			wild = tp;
	}
	return wild;
}

static struct tcp_sock **tcp_hash_bucket(struct tcp_sock *tp)
{
	struct tcp_table *t = tp->st->tcp;

	if (tp->state == TCP_LISTEN)
		return &t->lhash[tp->lport & t->lhash_mask];
	return &t->ehash[tcp_ehashfn(t, tp->laddr, tp->lport, tp->raddr, tp->rport)];
}

void tcp_hash(struct tcp_sock *tp)
{
	struct tcp_sock **b = tcp_hash_bucket(tp);

	tp->hnext = *b;
	*b = tp;
	tp->hashed = true;
}

void tcp_unhash(struct tcp_sock *tp)
{
	struct tcp_sock **pp;

	if (!tp->hashed)
		return;
	for (pp = tcp_hash_bucket(tp); *pp && *pp != tp; pp = &(*pp)->hnext)
		;
	if (*pp)
		*pp = tp->hnext;
	tp->hnext = NULL;
	tp->hashed = false;
}

void tcp_bind_hash(struct tcp_sock *tp)
{
	struct tcp_sock **b = &tp->st->tcp->bhash[tp->lport];

	tp->bnext = *b;
	if (*b)
		(*b)->bpprev = &tp->bnext;
	tp->bpprev = b;
	*b = tp;
	tp->bound = true;
}

static void tcp_bind_unhash(struct tcp_sock *tp)
{
	if (!tp->bound)
		return;
	*tp->bpprev = tp->bnext;
	if (tp->bnext)
		tp->bnext->bpprev = tp->bpprev;
	tp->bnext = NULL;
	tp->bpprev = NULL;
	tp->bound = false;
}

uint32_t tcp_isn(struct us_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	/* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a timer
	 * ticking every 4 microseconds */
	uint32_t k[3] = { laddr, raddr, (uint32_t)lport << 16 | rport };
	uint32_t m = (uint32_t)(st->now / 4000);

	return m + (uint32_t)siphash24(st->tcp->isn_key, k, sizeof(k));
}

uint32_t tcp_ts_offset(struct us_stack *st, uint32_t laddr, uint32_t raddr)
{
	/* RFC 7323 §5.4 (and Appendix G): a random offset per connection hides the clock, but the
	 * peer's PAWS and TIME-WAIT reuse (RFC 6191) want TSvals to go on growing from one
	 * connection to the next between the same hosts; keyed by the address pair, as Linux's
	 * secure_tcp_ts_off, it does both. The third word keeps it apart from the ISN's hash. */
	uint32_t k[3] = { laddr, raddr, 0x74736f66 };

	return (uint32_t)siphash24(st->tcp->isn_key, k, sizeof(k));
}

struct tcp_sock *tcp_sock_new(struct us_stack *st)
{
	struct tcp_sock *tp = calloc(1, sizeof(*tp));

	if (!tp)
		return NULL;
	tp->st = st;
	tp->state = TCP_CLOSED;
	tp->cc = st->tcp->cc_default;
	tp->mss = 536; /* RFC 9293 §3.7.1: the default when the peer sends no MSS option */
	tp->rto_us = (uint32_t)(st->cfg.tcp_rto_initial_ns / 1000);
	tp->sndbuf = st->cfg.tcp_wmem;
	tp->rcvbuf = st->cfg.tcp_rmem;
	tp->keepidle_s = 7200; /* RFC 1122 §4.2.3.6: no less than two hours */
	tp->keepintvl_s = 75;
	tp->keepcnt = 9;
	tp->ts_offset = (uint32_t)us_rand64(st); /* tcp_ts_offset once the addresses are known */
	skb_queue_init(&tp->write_q);
	skb_queue_init(&tp->rcv_q);
	skb_queue_init(&tp->ofo_q);
	tcp_timer_init(tp);
	st->tcp->count++;
	return tp;
}

/* Release everything; the socket is gone. */
static void tcp_child_unlink(struct tcp_sock *c);

static void tcp_free(struct tcp_sock *tp)
{
	if (tp->parent)
		tcp_child_unlink(tp);
	while (tp->accept_head)
		tcp_free(tp->accept_head);
	while (tp->syn_head)
		tcp_free(tp->syn_head);
	tcp_unhash(tp);
	tcp_bind_unhash(tp);
	tcp_timers_stop(tp);
	skb_queue_purge(&tp->write_q);
	skb_queue_purge(&tp->rcv_q);
	skb_queue_purge(&tp->ofo_q);
	tcp_sack_free(tp);
	if (tp->state == TCP_ESTABLISHED || tp->state == TCP_CLOSE_WAIT)
		TCP_DEC(tp->st, CurrEstab);
	if (tp->flags & TF_TRACE)
		tcp_trace_detach(tp);
	tp->st->tcp->count--;
	free(tp);
}

void tcp_set_state(struct tcp_sock *tp, enum tcp_state state, enum tcp_state_reason why)
{
	struct us_stack *st = tp->st;
	uint8_t old = tp->state;
	bool was_estab = tp->state == TCP_ESTABLISHED || tp->state == TCP_CLOSE_WAIT;
	bool is_estab = state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT;

	/* Linux's CurrEstab counts ESTABLISHED and CLOSE-WAIT */
	if (is_estab && !was_estab)
		TCP_INC(st, CurrEstab);
	else if (was_estab && !is_estab)
		TCP_DEC(st, CurrEstab);
	if (state == TCP_TIME_WAIT)
		TCPX_INC(st, TW);
	tp->state = (uint8_t)state;
	if (st->tcp->trace)
		tcp_trace_state(tp); /* a row, and a listener's or the stack's trace joined */
	if (st->pkttrace)
		pkttrace_tcp_state(tp, old, tcp_state_reason_name(why));
	tcp_wake(tp);
}

void tcp_child_add(struct tcp_sock *l, struct tcp_sock *c)
{
	/* the child takes the listener's congestion control (Linux's inet_csk_clone_lock); it was
	 * given the stack's default and its window when the SYN arrived */
	tcp_cc_set(c, l->cc);
	c->parent = l;
	c->child_next = NULL;
	c->on_accept_list = false;
	if (l->syn_tail)
		l->syn_tail->child_next = c;
	else
		l->syn_head = c;
	l->syn_tail = c;
	l->syn_len++;
}

/* Take a child off whichever of its listener's lists it is on. */
static void tcp_child_unlink(struct tcp_sock *c)
{
	struct tcp_sock *l = c->parent, **head, **tail, **pp, *prev = NULL;

	if (c->on_accept_list) {
		head = &l->accept_head;
		tail = &l->accept_tail;
	} else {
		head = &l->syn_head;
		tail = &l->syn_tail;
	}
	for (pp = head; *pp && *pp != c; pp = &(*pp)->child_next)
		prev = *pp;
	if (*pp) {
		*pp = c->child_next;
		if (*tail == c)
			*tail = prev;
		if (c->on_accept_list)
			l->accept_len--;
		else
			l->syn_len--;
	}
	c->child_next = NULL;
	c->parent = NULL;
	c->on_accept_list = false;
}

bool tcp_child_established(struct tcp_sock *c)
{
	struct tcp_sock *l = c->parent;

	if (!l)
		return true;
	if (l->accept_len >= l->backlog + 1) {
		/* Linux: the final ACK is dropped while the accept queue is full; the peer resends */
		TCPX_INC(c->st, ListenOverflows);
		TCPX_INC(c->st, ListenDrops);
		return false;
	}
	tcp_child_unlink(c);
	c->parent = l;
	c->on_accept_list = true;
	if (l->accept_tail)
		l->accept_tail->child_next = c;
	else
		l->accept_head = c;
	l->accept_tail = c;
	l->accept_len++;
	tcp_wake(l);
	return true;
}

void tcp_done(struct tcp_sock *tp, int err, enum tcp_state_reason why)
{
	struct tcp_sock *l = tp->parent;

	if (err && !tp->err)
		tp->err = err;
	tcp_set_state(tp, TCP_CLOSED, why);
	tcp_unhash(tp);
	tcp_timers_stop(tp);
	skb_queue_purge(&tp->write_q);
	tp->send_head = NULL;
	skb_queue_purge(&tp->ofo_q);
	if (l && !tp->on_accept_list) {
		/* an embryonic child: nobody holds it */
		tcp_free(tp);
		return;
	}
	if (l) {
		/* an established child not yet accepted stays queued: accept() returns it, and the
		 * user reads the error (Linux keeps it on the accept queue too) */
		tp->flags |= TF_FREE;
		return;
	}
	if (tp->flags & TF_ORPHAN)
		tcp_free(tp);
	else
		tp->flags |= TF_FREE;
}

/* ---- the user calls ---- */

#define TP(t) ((struct tcp_sock *)(t))

struct us_tcp *us_tcp_open(struct us_stack *st)
{
	struct tcp_sock *tp = tcp_sock_new(st);

	if (!tp)
		errno = ENOMEM;
	return (struct us_tcp *)tp;
}

/* Linux's inet_csk_bind_conflict: a port is shared only when both sockets asked for SO_REUSEADDR
 * and the holder is not listening. */
static bool tcp_port_taken(struct us_stack *st, uint32_t addr, uint16_t port, bool reuse)
{
	for (struct tcp_sock *tp = st->tcp->bhash[port]; tp; tp = tp->bnext)
		if (tp->lport == port && (tp->laddr == 0 || addr == 0 || tp->laddr == addr) &&
		    !(reuse && tp->reuseaddr && tp->state != TCP_LISTEN))
			return true;
	return false;
}

int us_tcp_bind(struct us_tcp *t, uint32_t addr, uint16_t port)
{
	struct tcp_sock *tp = TP(t);
	struct us_stack *st = tp->st;

	if (tp->bound || tp->state != TCP_CLOSED || (tp->flags & TF_FREE))
		return -EINVAL;
	if (addr && !us_iface_by_addr(st, addr))
		return -EADDRNOTAVAIL;
	if (port == 0) {
		/* RFC 6056 §3.3.1 */
		uint32_t n = TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1;
		uint32_t start = (uint32_t)(us_rand64(st) % n), i;

		for (i = 0; i < n; i++) {
			uint16_t p = (uint16_t)(TCP_EPHEMERAL_LO + (start + i) % n);
			if (!tcp_port_taken(st, addr, p, false)) {
				port = p;
				break;
			}
		}
		if (i == n)
			return -EADDRINUSE;
	} else if (tcp_port_taken(st, addr, port, tp->reuseaddr)) {
		return -EADDRINUSE;
	}
	tp->laddr = addr;
	tp->lport = port;
	tcp_bind_hash(tp);
	return 0;
}

int us_tcp_listen(struct us_tcp *t, int backlog)
{
	struct tcp_sock *tp = TP(t);
	/* Linux caps the backlog at somaxconn (4096) and treats a negative one as 0, on a listen
	 * that changes a listener's backlog too */
	uint32_t capped = backlog < 0 ? 0 : backlog > 4096 ? 4096 : (uint32_t)backlog;
	int r;

	if (tp->state == TCP_LISTEN) {
		tp->backlog = capped;
		return 0;
	}
	if (tp->state != TCP_CLOSED || (tp->flags & TF_FREE))
		return -EINVAL;
	if (!tp->bound && (r = us_tcp_bind(t, 0, 0)) < 0)
		return r;
	/* SO_REUSEADDR shares a port between bound sockets, never between listeners (Linux's
	 * inet_csk_listen_start checks again) */
	for (struct tcp_sock *o = tp->st->tcp->bhash[tp->lport]; o;
	     o = o->bnext)
		if (o != tp && o->lport == tp->lport && o->state == TCP_LISTEN &&
		    (o->laddr == 0 || tp->laddr == 0 || o->laddr == tp->laddr))
			return -EADDRINUSE;
	tp->backlog = capped;
	tcp_set_state(tp, TCP_LISTEN, TCP_SR_USER_LISTEN);
	tcp_hash(tp);
	return 0;
}

struct us_tcp *us_tcp_accept(struct us_tcp *t, int *err)
{
	struct tcp_sock *l = TP(t), *c;

	if (l->state != TCP_LISTEN) {
		*err = -EINVAL;
		return NULL;
	}
	c = l->accept_head;
	if (!c) {
		*err = -EAGAIN;
		return NULL;
	}
	tcp_child_unlink(c);
	c->flags |= TF_ACCEPTED;
	*err = 0;
	return (struct us_tcp *)c;
}

/* Whether a connection to raddr:rport from laddr:port may take over the TIME-WAIT socket tw (Linux's
 * tcp_twsk_unique with tcp_tw_reuse, after RFC 6191): timestamps were in use and a second has passed
 * since the last one seen, so the peer's PAWS tells old duplicates from the new connection. */
static bool tcp_tw_reusable(const struct tcp_sock *tw)
{
	return tw->st->cfg.tcp_tw_reuse && tw->state == TCP_TIME_WAIT && (tw->flags & TF_ORPHAN) &&
	       tw->ts_ok && tw->st->now - tw->ts_recent_ns >= US_NSEC_PER_SEC;
}

/* Choose the local port of an unbound socket at connect (Linux's __inet_hash_connect, RFC 6056
 * §3.3.1): from a random offset, the first port that no bound or listening socket holds and that
 * makes the 4-tuple unique. Ports chosen this way are shared by connections to different peers. */
static int tcp_connect_port(struct tcp_sock *tp, uint32_t laddr, uint32_t raddr, uint16_t rport)
{
	struct us_stack *st = tp->st;
	uint32_t n = TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1;
	uint32_t start = (uint32_t)(us_rand64(st) % n);

	for (uint32_t i = 0; i < n; i++) {
		uint16_t p = (uint16_t)(TCP_EPHEMERAL_LO + (start + i) % n);
		struct tcp_sock *o, *tw = NULL;
		bool ok = true;

		for (o = st->tcp->bhash[p]; o && ok; o = o->bnext)
			if (o->lport == p && !(o->flags & TF_AUTOBIND) &&
			    (o->laddr == 0 || o->laddr == laddr))
				ok = false;
		if (!ok)
			continue;
		o = tcp_lookup_established(st, laddr, p, raddr, rport);
		if (o) {
			if (!tcp_tw_reusable(o))
				continue;
			tw = o;
		}
		if (tw) {
			/* the new connection starts beyond the old one's sequence space */
			tp->tw_iss_floor = tw->snd_nxt + 65535 + 2;
			tp->tw_iss_floor_set = true;
			TCPX_INC(st, TCPTimeWaitRecycled);
			tcp_done(tw, 0, TCP_SR_TW_REUSE);
		}
		tp->laddr = laddr;
		tp->lport = p;
		tp->flags |= TF_AUTOBIND;
		tcp_bind_hash(tp);
		return 0;
	}
	return -EADDRNOTAVAIL; /* what Linux says when no port is left for a connect */
}

int us_tcp_connect(struct us_tcp *t, uint32_t addr, uint16_t port)
{
	struct tcp_sock *tp = TP(t);
	struct us_stack *st = tp->st;
	struct rt_result rt;
	int r;

	switch (tp->state) {
	case TCP_SYN_SENT:
		return -EALREADY;
	case TCP_CLOSED:
		break;
	case TCP_LISTEN:
		return -EINVAL;
	default:
		return -EISCONN;
	}
	if (tp->flags & TF_FREE)
		return -EINVAL; /* a socket whose connection ended cannot be reused, as on Linux */
	if (addr == 0 || port == 0 || ipv4_is_multicast(addr) || us_addr_is_broadcast(st, addr))
		return addr == 0 ? -ECONNREFUSED : -ENETUNREACH;
	st->now = us_clock_now(st->clock);
	r = route_lookup(st, addr, &rt);
	if (r < 0)
		return r;
	if (!tp->bound) {
		r = tcp_connect_port(tp, rt.saddr, addr, port);
		if (r < 0)
			return r;
	} else if (!tp->laddr) {
		/* the source address is the route's; take the port over to the specific address */
		tcp_bind_unhash(tp);
		tp->laddr = rt.saddr;
		tcp_bind_hash(tp);
	}
	tp->raddr = addr;
	tp->rport = port;
	if (!(tp->flags & TF_AUTOBIND) && tcp_lookup_established(st, tp->laddr, tp->lport, addr, port))
		return -EADDRNOTAVAIL;
	tp->iss = tcp_isn(st, tp->laddr, tp->lport, addr, port);
	tp->ts_offset = tcp_ts_offset(st, tp->laddr, addr);
	if (tp->tw_iss_floor_set && seq_lt(tp->iss, tp->tw_iss_floor))
		tp->iss = tp->tw_iss_floor;
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
	tp->recover = tp->iss; /* RFC 6582 §3.2 step 1 */
	tp->rcv_mss = tcp_route_mss(st, addr);
	tp->rcv_wscale = 7;
	tcp_set_state(tp, TCP_SYN_SENT, TCP_SR_USER_CONNECT);
	tcp_hash(tp);
	TCP_INC(st, ActiveOpens);
	r = tcp_send_syn(tp);
	if (r < 0 && r != -ENOBUFS) {
		tcp_done(tp, r, TCP_SR_CONNECT_FAILED);
		return r;
	}
	return -EINPROGRESS;
}

int tcp_sendmsg(struct tcp_sock *tp, const struct iovec *iov, int iovcnt)
{
	struct us_stack *st = tp->st;
	size_t done = 0, len = 0, off = 0;
	int vi = 0;
	uint64_t queued;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;

	if (tp->err && tp->state == TCP_CLOSED) {
		int e = tp->err;
		tp->err = 0;
		return e;
	}
	switch (tp->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		break;
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		return -EAGAIN;
	case TCP_CLOSED:
	case TCP_LISTEN:
		return (tp->flags & TF_FREE) ? -EPIPE : -ENOTCONN;
	default:
		return -EPIPE;
	}
	if (tp->flags & TF_FIN_QUEUED)
		return -EPIPE;
	st->now = us_clock_now(st->clock);
	queued = tp->write_q.bytes;
	while (done < len && queued < tp->sndbuf) {
		struct sk_buff *tail = skb_peek_tail(&tp->write_q);
		uint32_t room, n;

		/* fill the last unsent segment up to the MSS, else start a new one */
		if (tail && !TCP_SKB_CB(tail)->sent && !(TCP_SKB_CB(tail)->flags & (TCPF_SYN | TCPF_FIN)) &&
		    tail->len < tp->mss) {
			room = tp->mss - tail->len;
		} else {
			tail = skb_alloc(st->pool, SKB_MAX_HEADER + tp->mss);
			if (!tail)
				break;
			skb_reserve(tail, SKB_MAX_HEADER);
			TCP_SKB_CB(tail)->seq = TCP_SKB_CB(tail)->end_seq =
				skb_peek_tail(&tp->write_q) ? TCP_SKB_CB(skb_peek_tail(&tp->write_q))->end_seq
							    : tp->snd_nxt;
			TCP_SKB_CB(tail)->flags = TCPF_ACK;
			TCP_SKB_CB(tail)->sent = 0;
			TCP_SKB_CB(tail)->retrans = 0;
			skb_queue_tail(&tp->write_q, tail);
			lat_tx_start(st, tail);
			if (!tp->send_head)
				tp->send_head = tail;
			room = tp->mss;
		}
		n = (uint32_t)(len - done < room ? len - done : room);
		/* the queue counts bytes at enqueue; account for the growth by hand */
		for (uint32_t c = 0; c < n;) {
			size_t avail;
			uint32_t k;

			while (off == iov[vi].iov_len) {
				vi++;
				off = 0;
			}
			avail = iov[vi].iov_len - off;
			k = (uint32_t)(n - c < avail ? n - c : avail);
			skb_put_data(tail, (const uint8_t *)iov[vi].iov_base + off, k);
			off += k;
			c += k;
		}
		tp->write_q.bytes += n;
		TCP_SKB_CB(tail)->end_seq += n;
		done += n;
		queued += n;
	}
	if (done == 0)
		return -EAGAIN;
	tcp_output(tp);
	return (int)done;
}

int us_tcp_send(struct us_tcp *t, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };

	return tcp_sendmsg(TP(t), &iov, 1);
}

int tcp_recvmsg(struct tcp_sock *tp, const struct iovec *iov, int iovcnt, bool peek)
{
	size_t done = 0, len = 0, off = 0;
	int vi = 0;
	struct sk_buff *skb, *next;

	if (tp->state == TCP_LISTEN)
		return -ENOTCONN;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	for (skb = skb_peek(&tp->rcv_q); done < len && skb; skb = next) {
		uint32_t n = (uint32_t)(len - done < skb->len ? len - done : skb->len);

		next = skb->next;
		for (uint32_t c = 0; c < n;) {
			size_t room;
			uint32_t k;

			while (off == iov[vi].iov_len) {
				vi++;
				off = 0;
			}
			room = iov[vi].iov_len - off;
			k = (uint32_t)(n - c < room ? n - c : room);
			memcpy((uint8_t *)iov[vi].iov_base + off, skb->data + c, k);
			off += k;
			c += k;
		}
		done += n;
		if (peek)
			continue;
		if (n == skb->len) {
			lat_stamp(tp->st, skb, US_LAT_RX_APP); /* its last byte is read */
			skb_unlink(&tp->rcv_q, skb); /* takes its bytes off the queue's count */
			skb_free(skb);
			next = skb_peek(&tp->rcv_q);
		} else {
			skb_pull(skb, n);
			tp->rcv_q.bytes -= n;
		}
	}
	if (done && peek)
		return (int)done;
	if (done) {
		/* A window update of its own only when this read at least doubled the window still
		 * offered (Linux's __tcp_cleanup_rbuf); smaller openings ride on the next ACK, which
		 * the delayed-ACK rules send (RFC 9293 §3.8.6.2.2: updates combine with delayed ACKs),
		 * and never by less than min(RCV.BUFF / 2, MSS) (RFC 1122 §4.2.3.3, receiver SWS). */
		uint32_t after = tcp_rcv_window(tp), max = 65535u << tp->rcv_wscale;
		uint32_t offered = seq_gt(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
		uint32_t step = tp->rcvbuf / 2 < tp->rcv_mss ? tp->rcvbuf / 2 : tp->rcv_mss;

		if (after > max)
			after = max;
		if (tp->state >= TCP_ESTABLISHED && after > offered && after - offered >= step &&
		    after >= 2 * (uint64_t)offered) {
			tp->st->now = us_clock_now(tp->st->clock);
			tcp_send_ack(tp);
		}
		return (int)done;
	}
	if (len == 0)
		return 0;
	if (tp->err) {
		int e = tp->err;
		tp->err = 0;
		return e;
	}
	if ((tp->flags & TF_PEER_FIN) || (tp->flags & TF_SHUT_RD) || tp->state == TCP_CLOSED)
		return (tp->state == TCP_CLOSED && !(tp->flags & (TF_FREE | TF_PEER_FIN))) ? -ENOTCONN : 0;
	return -EAGAIN;
}

int us_tcp_recv(struct us_tcp *t, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return tcp_recvmsg(TP(t), &iov, 1, false);
}

int us_tcp_shutdown(struct us_tcp *t, int how)
{
	struct tcp_sock *tp = TP(t);

	if (how < 0 || how > 2)
		return -EINVAL;
	if (tp->state < TCP_SYN_RECEIVED && tp->state != TCP_SYN_SENT)
		return -ENOTCONN;
	if (how != 1)
		tp->flags |= TF_SHUT_RD;
	if (how != 0) {
		tp->st->now = us_clock_now(tp->st->clock);
		if (tp->state == TCP_SYN_SENT) {
			tcp_done(tp, 0, TCP_SR_USER_SHUTDOWN);
			return 0;
		}
		tcp_send_fin(tp, TCP_SR_USER_SHUTDOWN);
	}
	return 0;
}

void us_tcp_close(struct us_tcp *t)
{
	struct tcp_sock *tp = TP(t);
	struct us_stack *st;

	if (!tp)
		return;
	st = tp->st;
	st->now = us_clock_now(st->clock);
	tp->flags |= TF_ORPHAN;
	if (tp->flags & TF_FREE) {
		tcp_free(tp);
		return;
	}
	switch (tp->state) {
	case TCP_CLOSED:
		tcp_free(tp);
		return;
	case TCP_LISTEN:
		/* children never accepted are reset (Linux's inet_csk_listen_stop); half-open ones
		 * are forgotten */
		while (tp->accept_head) {
			struct tcp_sock *c = tp->accept_head;
			if (!(c->flags & TF_FREE))
				tcp_send_active_reset(c);
			tcp_free(c);
		}
		tcp_free(tp);
		return;
	case TCP_SYN_SENT:
		tcp_done(tp, 0, TCP_SR_USER_CLOSE);
		return;
	default:
		break;
	}
	if (tp->rcv_q.bytes) {
		/* RFC 2525 §2.17, Linux: unread data means the peer must learn it was lost */
		TCPX_INC(st, TCPAbortOnClose);
		tcp_send_active_reset(tp);
		tcp_done(tp, 0, TCP_SR_CLOSE_UNREAD);
		return;
	}
	tcp_send_fin(tp, TCP_SR_USER_CLOSE);
}

void us_tcp_abort(struct us_tcp *t)
{
	struct tcp_sock *tp = TP(t);

	if (!tp)
		return;
	tp->st->now = us_clock_now(tp->st->clock);
	tp->flags |= TF_ORPHAN;
	if (tp->state >= TCP_SYN_RECEIVED && !(tp->flags & TF_FREE))
		tcp_send_active_reset(tp);
	if (tp->state == TCP_LISTEN || tp->state == TCP_CLOSED || (tp->flags & TF_FREE)) {
		us_tcp_close(t);
		return;
	}
	tcp_done(tp, 0, TCP_SR_USER_ABORT);
}

uint32_t us_tcp_events(const struct us_tcp *t)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)t;
	uint32_t ev = 0;

	if (tp->state == TCP_LISTEN)
		return tp->accept_head ? US_TCP_EV_READABLE : 0;
	if (tp->rcv_q.len || (tp->flags & (TF_PEER_FIN | TF_SHUT_RD)) || tp->err ||
	    (tp->flags & TF_FREE))
		ev |= US_TCP_EV_READABLE;
	if ((tp->state == TCP_ESTABLISHED || tp->state == TCP_CLOSE_WAIT) &&
	    !(tp->flags & TF_FIN_QUEUED) && tp->write_q.bytes < tp->sndbuf)
		ev |= US_TCP_EV_WRITABLE;
	if (tp->err)
		ev |= US_TCP_EV_ERROR | US_TCP_EV_WRITABLE;
	if ((tp->flags & TF_FREE) || (tp->state == TCP_CLOSED && tp->bound && tp->raddr))
		ev |= US_TCP_EV_HUP | US_TCP_EV_WRITABLE;
	return ev;
}

int us_tcp_error(struct us_tcp *t)
{
	struct tcp_sock *tp = TP(t);
	int e = tp->err;

	tp->err = 0;
	return e;
}

int us_tcp_state(const struct us_tcp *t)
{
	return ((const struct tcp_sock *)t)->state;
}

const char *us_tcp_state_name(int state)
{
	return tcp_state_name(state);
}

int us_tcp_set_nodelay(struct us_tcp *t, int on)
{
	struct tcp_sock *tp = TP(t);

	if (on) {
		tp->flags |= TF_NODELAY;
		if (tp->state >= TCP_ESTABLISHED)
			tcp_output(tp); /* as Linux: setting TCP_NODELAY pushes what waits */
	} else {
		tp->flags &= (uint16_t)~TF_NODELAY;
	}
	return 0;
}

int us_tcp_set_keepalive(struct us_tcp *t, int on, uint32_t idle_s, uint32_t intvl_s, uint32_t cnt)
{
	struct tcp_sock *tp = TP(t);

	if (idle_s)
		tp->keepidle_s = idle_s;
	if (intvl_s)
		tp->keepintvl_s = intvl_s;
	if (cnt)
		tp->keepcnt = (uint8_t)(cnt > 255 ? 255 : cnt);
	if (on) {
		tp->flags |= TF_KEEPALIVE;
		if (tp->state >= TCP_ESTABLISHED && tp->state != TCP_TIME_WAIT)
			tcp_timer_set(tp, TCP_T_KEEPALIVE, tp->st->now + tp->keepidle_s * US_NSEC_PER_SEC);
	} else {
		tp->flags &= (uint16_t)~TF_KEEPALIVE;
		tcp_timer_clear(tp, TCP_T_KEEPALIVE);
	}
	return 0;
}

int us_tcp_set_bufs(struct us_tcp *t, uint32_t sndbuf, uint32_t rcvbuf)
{
	struct tcp_sock *tp = TP(t);

	if (sndbuf)
		tp->sndbuf = sndbuf;
	if (rcvbuf) {
		if (tp->state != TCP_CLOSED && tp->state != TCP_LISTEN)
			return -EINVAL; /* the window scale is chosen at the handshake */
		tp->rcvbuf = rcvbuf;
	}
	return 0;
}

int us_tcp_info(const struct us_tcp *t, struct us_tcp_info *i)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)t;

	memset(i, 0, sizeof(*i));
	i->state = tp->state;
	i->rto_us = tp->rto_us;
	i->srtt_us = tp->srtt_us;
	i->rttvar_us = tp->rttvar_us;
	i->snd_cwnd = tp->cwnd;
	i->snd_ssthresh = tp->ssthresh;
	i->snd_mss = tp->mss;
	i->rcv_mss = tp->rcv_mss;
	i->retransmits = tp->retries;
	i->total_retrans = tp->total_retrans;
	i->unacked = tp->snd_max - tp->snd_una;
	i->snd_wnd = tp->snd_wnd;
	i->rcv_wnd = tcp_rcv_window(tp);
	i->snd_wscale = tp->snd_wscale;
	i->rcv_wscale = tp->rcv_wscale;
	i->ts_ok = tp->ts_ok;
	i->sack_ok = tp->sack_ok;
	i->bytes_queued_rcv = tp->rcv_q.bytes;
	i->bytes_queued_snd = tp->write_q.bytes;
	return 0;
}

int us_tcp_getsockname(const struct us_tcp *t, uint32_t *addr, uint16_t *port)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)t;

	if (addr)
		*addr = tp->laddr;
	if (port)
		*port = tp->lport;
	return 0;
}

int us_tcp_getpeername(const struct us_tcp *t, uint32_t *addr, uint16_t *port)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)t;

	if (tp->state < TCP_SYN_RECEIVED && tp->state != TCP_SYN_SENT)
		return -ENOTCONN;
	if (addr)
		*addr = tp->raddr;
	if (port)
		*port = tp->rport;
	return 0;
}

void tcp_v4_err(struct us_stack *st, const uint8_t *q, uint32_t len, int err)
{
	const uint8_t *th = q + ipv4_hlen(q);
	struct tcp_sock *tp;
	uint32_t seq;

	if (len < ipv4_hlen(q) + 8 || !st->tcp)
		return;
	tp = tcp_lookup_established(st, ipv4_saddr(q), tcp_sport(th), ipv4_daddr(q), tcp_dport(th));
	if (!tp)
		return;
	seq = tcp_seq(th);
	/* RFC 5927 §4.1: believe only errors about data in flight */
	if (seq_lt(seq, tp->snd_una) || seq_geq(seq, tp->snd_max))
		return;
	if (err == -EMSGSIZE) {
		/* RFC 1191: the path MTU fell; resend in smaller segments */
		uint16_t mss = tcp_route_mss(st, tp->raddr) - (tp->ts_ok ? 12 : 0);
		if (mss < tp->mss) {
			tp->mss = mss;
			tcp_retransmit_head(tp);
		}
		return;
	}
	/* RFC 1122 §4.2.3.9 would abort only on a hard error; Linux's tcp_v4_err aborts a connection
	 * in SYN-SENT on any error it believes (net or host unreachable, time exceeded too), and we do
	 * as Linux: connect() fails at once with the error. In the other states the errors are not
	 * reported (Linux keeps a soft one for a later timeout; we keep none). */
	if (tp->state == TCP_SYN_SENT) {
		TCP_INC(st, AttemptFails);
		tcp_done(tp, err, TCP_SR_ICMP_ERROR);
	}
}
