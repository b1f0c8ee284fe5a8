/*
 * sock_dump.c - the socket table, printed as `ss -tuanieo` prints Linux's (us_sockets_dump).
 *
 * One row per socket - TCP listeners first (from the listener hash, as inet_diag dumps them), then
 * every TCP connection from SYN-SENT to TIME-WAIT (the established hash, where SYN-RECEIVED children
 * live too), then UDP sockets and ping sockets - with ss's columns: Netid, State, Recv-Q, Send-Q,
 * Local Address:Port, Peer Address:Port, then the pending timer as `ss -o` shows it and the socket's
 * descriptor (what `ss -e` shows as ino). Under each TCP socket but a TIME-WAIT one, as `ss -i`, a line
 * of its TCP_INFO: options, congestion control, window scales, RTO and RTT in milliseconds, MSS,
 * cwnd and ssthresh in segments, the per-connection byte and segment counters, retransmissions.
 *
 * A dump walks whole tables (the established hash has 65,536 buckets by default): it is for a human or
 * a tool asking now and then, never per packet or per round. It only reads, with the stack lock held.
 */
#include "ctl.h"

#include <inttypes.h>
#include <string.h>

#include "sock.h"
#include "tcp.h"
#include "ustack/stats.h"

/* ss's names for the states (sstate_name[] in iproute2's misc/ss.c) */
static const char *const ss_state_names[] = {
	[TCP_CLOSED] = "UNCONN",	 [TCP_LISTEN] = "LISTEN",
	[TCP_SYN_SENT] = "SYN-SENT",	 [TCP_SYN_RECEIVED] = "SYN-RECV",
	[TCP_ESTABLISHED] = "ESTAB",	 [TCP_FIN_WAIT_1] = "FIN-WAIT-1",
	[TCP_FIN_WAIT_2] = "FIN-WAIT-2", [TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[TCP_CLOSING] = "CLOSING",	 [TCP_LAST_ACK] = "LAST-ACK",
	[TCP_TIME_WAIT] = "TIME-WAIT",
};

/* "a.b.c.d:port", or "a.b.c.d:*" for port 0 (a listener's or an unconnected socket's peer) */
static const char *fmt_endpoint(char *buf, size_t n, uint32_t addr, uint16_t port)
{
	char a[16];

	us_format_ipv4(addr, a);
	if (port)
		snprintf(buf, n, "%s:%u", a, (unsigned)port);
	else
		snprintf(buf, n, "%s:*", a);
	return buf;
}

static void print_row(FILE *out, const char *netid, const char *state, uint64_t recvq, uint64_t sendq,
		      uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	char l[32], r[32];

	fprintf(out, "%-5s %-10s %-7" PRIu64 " %-7" PRIu64 " %-21s %-21s", netid, state, recvq, sendq,
		fmt_endpoint(l, sizeof(l), laddr, lport), fmt_endpoint(r, sizeof(r), raddr, rport));
}

/* A time as ss's print_ms_timer writes it: "204ms", "1.500ms", "59sec", "2min5sec", "12min". */
static void print_ms_timer(FILE *out, uint64_t ms)
{
	uint64_t secs = ms / 1000, minutes = secs / 60, msecs = ms % 1000;

	secs %= 60;
	if (minutes) {
		msecs = 0;
		fprintf(out, "%" PRIu64 "min", minutes);
		if (minutes > 9)
			secs = 0;
	}
	if (secs) {
		if (secs > 9)
			msecs = 0;
		fprintf(out, "%" PRIu64 "%s", secs, msecs ? "." : "sec");
	}
	if (msecs)
		fprintf(out, "%03" PRIu64 "ms", msecs);
	if (!minutes && !secs && !msecs)
		fprintf(out, "0ms");
}

/* The one timer ss -o shows, chosen as Linux's inet_diag chooses: the retransmission timer ("on",
 * with the RTO expirations so far; also RACK-TLP's loss timer, whichever comes first), else the
 * zero-window probe ("persist", probes sent), else the
 * socket timer that carries keepalive and an orphan's FIN-WAIT-2 limit ("keepalive", probes);
 * TIME-WAIT's is "timewait". Linux has no row for a pending delayed ACK; ustack shows it as
 * "delack" when nothing else is armed. */
static void print_tcp_timer(FILE *out, const struct tcp_sock *tp, uint64_t now)
{
	const uint64_t *d = tp->deadline;
	const char *name;
	uint64_t when;
	unsigned count = 0;

	if (tp->state == TCP_TIME_WAIT && d[TCP_T_2MSL] != US_TIME_NEVER) {
		name = "timewait";
		when = d[TCP_T_2MSL];
	} else if (d[TCP_T_RETRANS] != US_TIME_NEVER || d[TCP_T_LOSS] != US_TIME_NEVER) {
		/* RACK's reordering timer and TLP's probe timeout show as "on" too, at whichever of
		 * them and the RTO comes first, as Linux's ss shows ICSK_TIME_LOSS_PROBE and
		 * ICSK_TIME_REO_TIMEOUT */
		name = "on";
		when = d[TCP_T_RETRANS] < d[TCP_T_LOSS] ? d[TCP_T_RETRANS] : d[TCP_T_LOSS];
		count = tp->retries;
	} else if (d[TCP_T_PERSIST] != US_TIME_NEVER) {
		name = "persist";
		when = d[TCP_T_PERSIST];
		count = tp->probes;
	} else if (d[TCP_T_KEEPALIVE] != US_TIME_NEVER || d[TCP_T_2MSL] != US_TIME_NEVER) {
		name = "keepalive";
		when = d[TCP_T_KEEPALIVE] < d[TCP_T_2MSL] ? d[TCP_T_KEEPALIVE] : d[TCP_T_2MSL];
		count = tp->probes;
	} else if (d[TCP_T_DELACK] != US_TIME_NEVER) {
		name = "delack";
		when = d[TCP_T_DELACK];
	} else {
		return;
	}
	fprintf(out, " timer:(%s,", name);
	print_ms_timer(out, when > now ? (when - now) / US_NSEC_PER_MSEC : 0);
	fprintf(out, ",%u)", count);
}

/* The descriptor of the socket that owns an endpoint, as `ss -e` shows an inode. */
static void print_owner(FILE *out, const void *owner)
{
	const struct us_file *f = owner;

	if (f)
		fprintf(out, " fd:%d", f->fd);
}

/* Segments of the write queue sent again and not yet acknowledged (Linux's retrans_out). */
static uint32_t tcp_retrans_out(const struct tcp_sock *tp)
{
	uint32_t n = 0;

	for (const struct sk_buff *skb = tp->write_q.head; skb; skb = skb->next)
		if (TCP_SKB_CB(skb)->retrans)
			n++;
	return n;
}

/* Payload bytes on the write queue not yet sent (ss's notsent). */
static uint64_t tcp_notsent(const struct tcp_sock *tp)
{
	uint64_t n = 0;

	for (const struct sk_buff *skb = tp->send_head; skb; skb = skb->next)
		n += skb->len;
	return n;
}

/* The `ss -i` line, in ss's order, from the same fields TCP_INFO reports. */
static void print_tcp_info(FILE *out, const struct tcp_sock *tp, uint64_t now)
{
	uint32_t mss = tp->mss ? tp->mss : 536;

	fprintf(out, "\t");
	if (tp->ts_ok)
		fprintf(out, " ts");
	if (tp->sack_ok)
		fprintf(out, " sack");
	fprintf(out, " %s", tp->cc->name);
	if (tp->wscale_ok)
		fprintf(out, " wscale:%u,%u", tp->snd_wscale, tp->rcv_wscale);
	fprintf(out, " rto:%g", tp->rto_us / 1000.0);
	if (tp->backoff)
		fprintf(out, " backoff:%u", tp->backoff);
	if (tp->srtt_us)
		fprintf(out, " rtt:%g/%g", tp->srtt_us / 1000.0, tp->rttvar_us / 1000.0);
	fprintf(out, " mss:%" PRIu32, mss);
	/* as ss, what is not set yet (a listener's window, the initial "infinite" threshold) is left out */
	if (tp->rcv_mss)
		fprintf(out, " advmss:%u", tp->rcv_mss);
	if (tp->cwnd)
		fprintf(out, " cwnd:%" PRIu32, tp->cwnd / mss);
	if (tp->ssthresh && tp->ssthresh / mss < 0xffff)
		fprintf(out, " ssthresh:%" PRIu32, tp->ssthresh / mss);
	fprintf(out,
		" bytes_acked:%" PRIu64 " bytes_received:%" PRIu64 " segs_out:%" PRIu32
		" segs_in:%" PRIu32,
		tp->bytes_acked, tp->bytes_received, tp->segs_out, tp->segs_in);
	if (tp->state != TCP_LISTEN && tp->last_rx_ns && now >= tp->last_rx_ns)
		fprintf(out, " lastack:%" PRIu64, (now - tp->last_rx_ns) / US_NSEC_PER_MSEC);
	fprintf(out, " unacked:%" PRIu32 " retrans:%" PRIu32 "/%" PRIu32 " rcv_space:%" PRIu32,
		(tp->snd_max - tp->snd_una + mss - 1) / mss, tcp_retrans_out(tp), tp->total_retrans,
		tcp_rcv_window(tp));
	if (tp->send_head)
		fprintf(out, " notsent:%" PRIu64, tcp_notsent(tp));
	if (tp->state >= TCP_ESTABLISHED)
		fprintf(out, " snd_wnd:%" PRIu32, tp->snd_wnd);
	fprintf(out, "\n");
}

static void print_tcp(FILE *out, const struct tcp_sock *tp, uint64_t now)
{
	uint64_t recvq, sendq;

	if (tp->state == TCP_LISTEN) {
		/* as ss: the accept queue's length and the backlog */
		recvq = tp->accept_len;
		sendq = tp->backlog;
	} else {
		/* bytes received and not read; bytes not yet acknowledged, sent or not */
		recvq = tp->rcv_q.bytes;
		sendq = tp->write_q.bytes;
	}
	print_row(out, "tcp", ss_state_names[tp->state], recvq, sendq, tp->laddr, tp->lport, tp->raddr,
		  tp->state == TCP_LISTEN ? 0 : tp->rport);
	print_tcp_timer(out, tp, now);
	print_owner(out, tp->owner);
	if (tp->parent)
		fprintf(out, " listener:%u", (unsigned)tp->parent->lport);
	fprintf(out, "\n");
	if (tp->state != TCP_TIME_WAIT) /* ss has no TCP_INFO for a TIME-WAIT socket either */
		print_tcp_info(out, tp, now);
}

void sock_dump_locked(struct us_stack *st, FILE *out)
{
	struct tcp_table *t = st->tcp;
	uint64_t now = us_clock_now(st->clock);

	fprintf(out, "%-5s %-10s %-7s %-7s %-21s %-21s %s\n", "Netid", "State", "Recv-Q", "Send-Q",
		"Local Address:Port", "Peer Address:Port", "Process");
	if (t) {
		for (uint32_t i = 0; i <= t->lhash_mask; i++)
			for (const struct tcp_sock *tp = t->lhash[i]; tp; tp = tp->hnext)
				print_tcp(out, tp, now);
		for (uint32_t i = 0; i <= t->ehash_mask; i++)
			for (const struct tcp_sock *tp = t->ehash[i]; tp; tp = tp->hnext)
				print_tcp(out, tp, now);
	}
	for (uint32_t i = 0; i < st->udp.nbuckets; i++) {
		for (const struct udp_sock *u = st->udp.buckets[i]; u; u = u->hnext) {
			const char *state = u->raddr ? "ESTAB" : "UNCONN";

			print_row(out, "udp", state, u->rx.bytes, 0, u->laddr, u->lport, u->raddr,
				  u->raddr ? u->rport : 0);
			print_owner(out, u->owner);
			fprintf(out, "\n");
		}
	}
	for (const struct icmp_echo_sock *p = st->echo_socks; p; p = p->next) {
		/* Linux's ping sockets: the echo identifier stands where a port would */
		const struct us_file *f = p->owner;
		uint32_t peer = f ? f->ping_peer : 0;

		print_row(out, "icmp", peer ? "ESTAB" : "UNCONN", p->rx.bytes, 0, 0, p->id, peer, 0);
		print_owner(out, p->owner);
		fprintf(out, "\n");
	}
}

void us_sockets_dump(struct us_stack *st, FILE *out)
{
	pthread_mutex_lock(&st->lock);
	sock_dump_locked(st, out);
	pthread_mutex_unlock(&st->lock);
}
