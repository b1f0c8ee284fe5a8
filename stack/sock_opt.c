/*
 * sock_opt.c - setsockopt, getsockopt, getsockname, getpeername, with Linux's values, limits and
 * errors (net/core/sock.c sock_setsockopt/sock_getsockopt, net/ipv4/tcp.c do_tcp_setsockopt).
 */
#include "sock.h"

#include <errno.h>
#include <limits.h>
#include <linux/tcp.h>
#include <string.h>

#include "tcp.h"
#include "ustack/proto.h"
#include "ustack/socket.h"

/* ---- options ---- */

static int opt_int(const void *v, socklen_t len, int *out)
{
	if (!v)
		return -EFAULT;
	if (len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(out, v, sizeof(int));
	return 0;
}

static int opt_timeval(const void *v, socklen_t len, uint64_t *ns)
{
	struct timeval tv;

	if (!v)
		return -EFAULT;
	if (len < (socklen_t)sizeof(tv))
		return -EINVAL;
	memcpy(&tv, v, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0) {
		*ns = 0; /* sock_set_timeout: a negative time is no time-out... as "do not wait" */
		return 0;
	}
	*ns = (uint64_t)tv.tv_sec * US_NSEC_PER_SEC + (uint64_t)tv.tv_usec * 1000;
	return 0;
}

static void tcp_apply_bufs(struct us_file *f)
{
	/* the send buffer takes effect at once; the receive buffer only before the handshake, since the
	 * window scale is chosen then (Linux takes it and lets the window follow; ours keeps its
	 * first size) */
	us_tcp_set_bufs((struct us_tcp *)f->tp, f->sndbuf > 0 ? (uint32_t)f->sndbuf : 0, 0);
	if (f->rcvbuf > 0)
		us_tcp_set_bufs((struct us_tcp *)f->tp, 0, (uint32_t)f->rcvbuf);
}

static int sol_socket_set(struct us_file *f, int name, const void *v, socklen_t len)
{
	int val = 0, r;

	switch (name) {
	case SO_RCVTIMEO:
		return opt_timeval(v, len, &f->rcvtimeo_ns);
	case SO_SNDTIMEO:
		return opt_timeval(v, len, &f->sndtimeo_ns);
	case SO_LINGER:
		if (!v)
			return -EFAULT;
		if (len < (socklen_t)sizeof(struct linger))
			return -EINVAL;
		memcpy(&f->linger, v, sizeof(struct linger));
		f->linger.l_onoff = f->linger.l_onoff != 0;
		return 0;
	default:
		break;
	}
	r = opt_int(v, len, &val);
	if (r < 0)
		return r;
	switch (name) {
	case SO_REUSEADDR:
		f->reuseaddr = val != 0;
		if (f->kind == SK_TCP)
			f->tp->reuseaddr = f->reuseaddr;
		return 0;
	case SO_REUSEPORT:
		f->reuseport = val != 0; /* kept for getsockopt; ports are not shared between sockets */
		return 0;
	case SO_KEEPALIVE:
		f->keepalive = val != 0;
		if (f->kind == SK_TCP)
			us_tcp_set_keepalive((struct us_tcp *)f->tp, val != 0, 0, 0, 0);
		return 0;
	case SO_BROADCAST:
		f->broadcast = val != 0;
		return 0;
	case SO_SNDBUF:
	case SO_RCVBUF: {
		/* sock_setsockopt: capped at wmem_max/rmem_max, doubled for the kernel's overhead, and
		 * not below the minimum */
		uint32_t u = val < 0 ? 0 : (uint32_t)val;
		if (u > SOCK_BUF_MAX)
			u = SOCK_BUF_MAX;
		u *= 2;
		if (name == SO_SNDBUF) {
			f->sndbuf = (int)(u < SOCK_MIN_SNDBUF ? SOCK_MIN_SNDBUF : u);
		} else {
			f->rcvbuf = (int)(u < SOCK_MIN_RCVBUF ? SOCK_MIN_RCVBUF : u);
			if (f->kind == SK_UDP)
				us_udp_set_rcvbuf((struct us_udp *)f->u, (uint32_t)f->rcvbuf);
		}
		if (f->kind == SK_TCP)
			tcp_apply_bufs(f);
		return 0;
	}
	case SO_ERROR:
	case SO_TYPE:
	case SO_PROTOCOL:
	case SO_DOMAIN:
	case SO_ACCEPTCONN:
		return -ENOPROTOOPT;
	default:
		return -ENOPROTOOPT;
	}
}

/* Linux's TCP_CA_NAME_MAX: the longest congestion control name, with its NUL */
#define SOCK_CC_NAME_MAX 16

/* TCP_CONGESTION (do_tcp_setsockopt): a name of up to 15 bytes, ended by a NUL or optlen. */
static int tcp_set_congestion(struct us_file *f, const void *v, socklen_t len)
{
	char name[SOCK_CC_NAME_MAX];
	const struct tcp_cc_ops *ops;
	size_t n = (size_t)len < sizeof(name) - 1 ? (size_t)len : sizeof(name) - 1;

	if ((int)len < 1)
		return -EINVAL;
	if (!v)
		return -EFAULT;
	memcpy(name, v, n);
	name[n] = '\0';
	ops = tcp_cc_find(name);
	if (!ops)
		return -ENOENT;
	tcp_cc_set(f->tp, ops);
	return 0;
}

static int tcp_set(struct us_file *f, int name, const void *v, socklen_t len)
{
	int val, r;

	if (name == TCP_CONGESTION)
		return tcp_set_congestion(f, v, len);
	r = opt_int(v, len, &val);
	if (r < 0)
		return r;
	switch (name) {
	case TCP_NODELAY:
		return us_tcp_set_nodelay((struct us_tcp *)f->tp, val != 0);
	case TCP_MAXSEG:
		/* do_tcp_setsockopt: TCP_MIN_MSS (88) .. MAX_TCP_WINDOW, 0 clears */
		if (val && (val < 88 || val > 32767))
			return -EINVAL;
		f->maxseg = val;
		if (val && f->tp->state < TCP_SYN_SENT && f->tp->state != TCP_LISTEN)
			f->tp->mss = (uint16_t)val;
		return 0;
	case TCP_KEEPIDLE:
		if (val < 1 || val > 32767)
			return -EINVAL;
		return us_tcp_set_keepalive((struct us_tcp *)f->tp, f->keepalive, (uint32_t)val, 0, 0);
	case TCP_KEEPINTVL:
		if (val < 1 || val > 32767)
			return -EINVAL;
		return us_tcp_set_keepalive((struct us_tcp *)f->tp, f->keepalive, 0, (uint32_t)val, 0);
	case TCP_KEEPCNT:
		if (val < 1 || val > 127)
			return -EINVAL;
		return us_tcp_set_keepalive((struct us_tcp *)f->tp, f->keepalive, 0, 0, (uint32_t)val);
	default:
		return -ENOPROTOOPT;
	}
}

/* IPPROTO_IP (ip(7), Linux's do_ip_setsockopt): an int, or a single byte. */
static int ip_set(struct us_file *f, int name, const void *v, socklen_t len)
{
	int val = 0;

	if (!v)
		return -EFAULT;
	if (len >= (socklen_t)sizeof(int))
		memcpy(&val, v, sizeof(int));
	else if (len >= 1)
		val = *(const unsigned char *)v;
	switch (name) {
	case IP_TTL:
		if (len < 1)
			return -EINVAL;
		if (val == -1)
			val = 0; /* back to the default */
		else if (val < 1 || val > 255)
			return -EINVAL;
		f->ttl = (uint8_t)val;
		if (f->kind == SK_TCP)
			f->tp->ttl = f->ttl;
		else if (f->kind == SK_UDP)
			f->u->ttl = f->ttl;
		return 0;
	case IP_RECVTTL:
		f->recvttl = val != 0;
		return 0;
	case IP_RECVERR:
		/* ip(7); ping sockets only here, and without the error queue (MSG_ERRQUEUE): what it
		 * changes is which errors a recv reports, as in Linux's ping_err */
		if (f->kind != SK_PING)
			return -ENOPROTOOPT;
		f->recverr = val != 0;
		if (f->ping)
			f->ping->all_errors = f->recverr;
		return 0;
	case IP_MTU_DISCOVER:
		/* ip(7); only UDP sockets take it here: TCP sets DF on every segment anyway */
		if (f->kind != SK_UDP)
			return -ENOPROTOOPT;
		if (val < IP_PMTUDISC_DONT || val > IP_PMTUDISC_OMIT)
			return -EINVAL;
		f->u->pmtudisc = (uint8_t)val;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* US_TCP_TRACE: a path of up to optlen bytes, ended by a NUL or optlen (as SO_BINDTODEVICE takes a
 * name); empty stops the trace. */
static int tcp_set_trace(struct us_file *f, const void *v, socklen_t len)
{
	char path[PATH_MAX];
	size_t n = (size_t)len < sizeof(path) ? (size_t)len : sizeof(path);

	if ((int)len < 0)
		return -EINVAL;
	if (n && !v)
		return -EFAULT;
	memcpy(path, v, n);
	if (!memchr(path, '\0', n)) {
		if (n == sizeof(path))
			return -ENAMETOOLONG;
		path[n] = '\0';
	}
	return tcp_trace_set(f->tp, path[0] ? path : NULL, NULL);
}

int us_setsockopt(int fd, int level, int name, const void *v, socklen_t len)
{
	struct us_file *f = sock_file_lock(fd);
	int r;

	if (!f)
		return -1;
	if (!sock_is_socket(f))
		r = -ENOTSOCK;
	else if (level == SOL_SOCKET)
		r = sol_socket_set(f, name, v, len);
	else if (level == IPPROTO_TCP && f->kind == SK_TCP && name == US_TCP_TRACE)
		r = tcp_set_trace(f, v, len);
	else if (level == IPPROTO_TCP && f->kind == SK_TCP)
		r = tcp_set(f, name, v, len);
	else if (level == IPPROTO_IP)
		r = ip_set(f, name, v, len);
	else
		r = -ENOPROTOOPT;
	return (int)sock_file_ret(f, r);
}

/* Copy an option value out: at most *len bytes (sock_getsockopt's min(len, size)). */
static int opt_out(void *v, socklen_t *len, const void *val, size_t size)
{
	size_t n;

	if (!len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	n = *len < size ? *len : size;
	if (n && !v)
		return -EFAULT;
	if (n)
		memcpy(v, val, n);
	*len = (socklen_t)n;
	return 0;
}

static int sock_error_take(struct us_file *f)
{
	int e = 0;

	if (f->kind == SK_TCP) {
		e = us_tcp_error((struct us_tcp *)f->tp);
	} else if (f->kind == SK_UDP) {
		e = f->u->err;
		f->u->err = 0;
	}
	return -e;
}

static int sol_socket_get(struct us_file *f, int name, void *v, socklen_t *len)
{
	int val;

	switch (name) {
	case SO_RCVTIMEO:
	case SO_SNDTIMEO: {
		uint64_t ns = name == SO_RCVTIMEO ? f->rcvtimeo_ns : f->sndtimeo_ns;
		struct timeval tv = { .tv_sec = (time_t)(ns / US_NSEC_PER_SEC),
				      .tv_usec = (suseconds_t)(ns % US_NSEC_PER_SEC / 1000) };
		return opt_out(v, len, &tv, sizeof(tv));
	}
	case SO_LINGER:
		return opt_out(v, len, &f->linger, sizeof(f->linger));
	case SO_REUSEADDR:
		val = f->reuseaddr;
		break;
	case SO_REUSEPORT:
		val = f->reuseport;
		break;
	case SO_KEEPALIVE:
		val = f->keepalive;
		break;
	case SO_BROADCAST:
		val = f->broadcast;
		break;
	case SO_ERROR:
		val = sock_error_take(f);
		break;
	case SO_TYPE:
		val = f->kind == SK_TCP ? SOCK_STREAM : SOCK_DGRAM;
		break;
	case SO_PROTOCOL:
		val = f->kind == SK_TCP ? IPPROTO_TCP : f->kind == SK_UDP ? IPPROTO_UDP : IPPROTO_ICMP;
		break;
	case SO_DOMAIN:
		val = AF_INET;
		break;
	case SO_ACCEPTCONN:
		val = f->kind == SK_TCP && f->tp->state == TCP_LISTEN;
		break;
	case SO_SNDBUF:
		val = f->sndbuf ? f->sndbuf
				: (int)(f->kind == SK_TCP ? f->tp->sndbuf : SOCK_BUF_MAX);
		break;
	case SO_RCVBUF:
		val = f->rcvbuf ? f->rcvbuf
				: (int)(f->kind == SK_TCP ? f->tp->rcvbuf
						       : f->kind == SK_UDP ? f->u->rcvbuf : SOCK_BUF_MAX);
		break;
	default:
		return -ENOPROTOOPT;
	}
	return opt_out(v, len, &val, sizeof(val));
}

/* Linux's TCP state numbers (include/net/tcp_states.h) */
static uint8_t linux_tcp_state(int s)
{
	static const uint8_t map[] = {
		[TCP_CLOSED] = 7,	[TCP_LISTEN] = 10,    [TCP_SYN_SENT] = 2,   [TCP_SYN_RECEIVED] = 3,
		[TCP_ESTABLISHED] = 1,	[TCP_FIN_WAIT_1] = 4, [TCP_FIN_WAIT_2] = 5, [TCP_CLOSE_WAIT] = 8,
		[TCP_CLOSING] = 11,	[TCP_LAST_ACK] = 9,   [TCP_TIME_WAIT] = 6,
	};
	return map[s];
}

static int tcp_get(struct us_file *f, int name, void *v, socklen_t *len)
{
	struct tcp_sock *tp = f->tp;
	int val;

	switch (name) {
	case TCP_NODELAY:
		val = (tp->flags & TF_NODELAY) != 0;
		break;
	case TCP_MAXSEG:
		/* do_tcp_getsockopt: the current MSS once connected, else what was asked or 536 */
		if (tp->state >= TCP_ESTABLISHED || tp->state == TCP_SYN_RECEIVED)
			val = tp->mss;
		else
			val = f->maxseg ? f->maxseg : 536;
		break;
	case TCP_KEEPIDLE:
		val = (int)tp->keepidle_s;
		break;
	case TCP_KEEPINTVL:
		val = (int)tp->keepintvl_s;
		break;
	case TCP_KEEPCNT:
		val = (int)tp->keepcnt;
		break;
	case TCP_CONGESTION: {
		/* Linux copies min(optlen, TCP_CA_NAME_MAX) bytes of the NUL-padded name */
		char cc[SOCK_CC_NAME_MAX] = { 0 };

		strncpy(cc, tp->cc->name, sizeof(cc) - 1);
		return opt_out(v, len, cc, sizeof(cc));
	}
	case TCP_INFO: {
		struct tcp_info ti;
		uint32_t mss = tp->mss ? tp->mss : 536;

		memset(&ti, 0, sizeof(ti));
		ti.tcpi_state = linux_tcp_state(tp->state);
		ti.tcpi_retransmits = tp->retries;
		ti.tcpi_backoff = tp->backoff;
		ti.tcpi_options = (uint8_t)((tp->ts_ok ? TCPI_OPT_TIMESTAMPS : 0) |
					    (tp->sack_ok ? TCPI_OPT_SACK : 0) |
					    (tp->wscale_ok ? TCPI_OPT_WSCALE : 0));
		ti.tcpi_snd_wscale = tp->snd_wscale & 0xf;
		ti.tcpi_rcv_wscale = tp->rcv_wscale & 0xf;
		ti.tcpi_rto = tp->rto_us;
		ti.tcpi_snd_mss = mss;
		ti.tcpi_rcv_mss = tp->rcv_mss;
		/* Linux counts these in segments */
		ti.tcpi_unacked = (tp->snd_max - tp->snd_una + mss - 1) / mss;
		ti.tcpi_last_data_recv = 0;
		ti.tcpi_rtt = tp->srtt_us;
		ti.tcpi_rttvar = tp->rttvar_us;
		ti.tcpi_snd_ssthresh = tp->ssthresh / mss;
		ti.tcpi_snd_cwnd = tp->cwnd / mss;
		ti.tcpi_advmss = tp->rcv_mss;
		ti.tcpi_rcv_space = tcp_rcv_window(tp);
		ti.tcpi_total_retrans = tp->total_retrans;
		ti.tcpi_bytes_acked = tp->bytes_acked;
		ti.tcpi_bytes_received = tp->bytes_received;
		ti.tcpi_segs_out = tp->segs_out;
		ti.tcpi_segs_in = tp->segs_in;
		return opt_out(v, len, &ti, sizeof(ti));
	}
	default:
		return -ENOPROTOOPT;
	}
	return opt_out(v, len, &val, sizeof(val));
}

static int ip_get(struct us_file *f, int name, void *v, socklen_t *len)
{
	int val;

	switch (name) {
	case IP_TTL:
		val = f->ttl ? f->ttl : f->st->cfg.default_ttl;
		break;
	case IP_RECVTTL:
		val = f->recvttl;
		break;
	case IP_MTU_DISCOVER:
		if (f->kind != SK_UDP)
			return -ENOPROTOOPT;
		val = f->u->pmtudisc;
		break;
	case IP_RECVERR:
		if (f->kind != SK_PING)
			return -ENOPROTOOPT;
		val = f->recverr;
		break;
	default:
		return -ENOPROTOOPT;
	}
	return opt_out(v, len, &val, sizeof(val));
}

int us_getsockopt(int fd, int level, int name, void *v, socklen_t *len)
{
	struct us_file *f = sock_file_lock(fd);
	int r;

	if (!f)
		return -1;
	if (!sock_is_socket(f))
		r = -ENOTSOCK;
	else if (!len)
		r = -EFAULT;
	else if ((int)*len < 0)
		r = -EINVAL;
	else if (level == SOL_SOCKET)
		r = sol_socket_get(f, name, v, len);
	else if (level == IPPROTO_TCP && f->kind == SK_TCP && name == US_TCP_TRACE)
		r = opt_out(v, len, tcp_trace_path(f->tp), strlen(tcp_trace_path(f->tp)) + 1);
	else if (level == IPPROTO_TCP && f->kind == SK_TCP)
		r = tcp_get(f, name, v, len);
	else if (level == IPPROTO_IP)
		r = ip_get(f, name, v, len);
	else
		r = -ENOPROTOOPT;
	return (int)sock_file_ret(f, r);
}

int us_getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct us_file *f = sock_file_lock(fd);
	uint32_t addr = 0;
	uint16_t port = 0;
	int r;

	if (!f)
		return -1;
	if (!sock_is_socket(f))
		return (int)sock_file_ret(f, -ENOTSOCK);
	if (!sa || !len)
		return (int)sock_file_ret(f, -EFAULT);
	if (f->kind == SK_TCP)
		us_tcp_getsockname((struct us_tcp *)f->tp, &addr, &port);
	else if (f->kind == SK_UDP)
		us_udp_getsockname((struct us_udp *)f->u, &addr, &port);
	else
		port = f->ping_id;
	r = sock_addr_out(sa, len, addr, port);
	return (int)sock_file_ret(f, r);
}

int us_getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct us_file *f = sock_file_lock(fd);
	uint32_t addr = 0;
	uint16_t port = 0;
	int r = 0;

	if (!f)
		return -1;
	if (!sock_is_socket(f))
		return (int)sock_file_ret(f, -ENOTSOCK);
	if (!sa || !len)
		return (int)sock_file_ret(f, -EFAULT);
	if (f->kind == SK_TCP) {
		/* inet_getname: connected (or connecting after SYN-SENT... Linux: not in CLOSE/SYN-SENT) */
		if (f->tp->state == TCP_CLOSED || f->tp->state == TCP_LISTEN ||
		    f->tp->state == TCP_SYN_SENT)
			r = -ENOTCONN;
		else
			us_tcp_getpeername((struct us_tcp *)f->tp, &addr, &port);
	} else if (f->kind == SK_UDP) {
		if (!f->u->raddr)
			r = -ENOTCONN;
		addr = f->u->raddr;
		port = f->u->rport;
	} else {
		r = -ENOTCONN;
	}
	if (r == 0)
		r = sock_addr_out(sa, len, addr, port);
	return (int)sock_file_ret(f, r);
}
