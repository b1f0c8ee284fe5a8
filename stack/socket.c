/*
 * socket.c - the socket calls: socket, bind, listen, accept, connect, send and receive (TCP, UDP and
 * ping sockets), shutdown, close, fcntl, ioctl.
 *
 * Errors are Linux's: where the answer is not obvious, a comment names the kernel function whose
 * path is followed (net/socket.c, net/ipv4/af_inet.c, tcp.c, udp.c, ping.c).
 */
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "checksum.h"
#include "latency.h"
#include "tcp.h"
#include "ustack/proto.h"
#include "ustack/socket.h"
#include "wire/bytes.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

int us_socket_on(struct us_stack *st, int domain, int type, int protocol)
{
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC), kind, fd;
	struct us_file *f;

	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (domain != AF_INET)
		return sock_fail(-EAFNOSUPPORT);
	if (type == SOCK_STREAM) {
		if (protocol != 0 && protocol != IPPROTO_TCP)
			return sock_fail(-EPROTONOSUPPORT);
		kind = SK_TCP;
	} else if (type == SOCK_DGRAM) {
		if (protocol == 0 || protocol == IPPROTO_UDP)
			kind = SK_UDP;
		else if (protocol == IPPROTO_ICMP)
			kind = SK_PING;
		else
			return sock_fail(-EPROTONOSUPPORT);
	} else if (type == SOCK_RAW || type == SOCK_SEQPACKET) {
		return sock_fail(-EPROTONOSUPPORT); /* no raw IP or SCTP in ustack */
	} else {
		return sock_fail(-EINVAL);
	}
	if (!st)
		return sock_fail(-ENETDOWN);
	f = sock_file_new(st, (uint8_t)kind);
	if (!f)
		return sock_fail(-ENOMEM);
	f->nonblock = flags & SOCK_NONBLOCK;
	f->cloexec = flags & SOCK_CLOEXEC;
	pthread_mutex_lock(&st->lock);
	if (!sock_stack_get(st)) {
		pthread_mutex_unlock(&st->lock);
		sock_file_free(f);
		return sock_fail(-ENOMEM);
	}
	if (kind == SK_TCP) {
		f->tp = tcp_sock_new(st);
		if (f->tp)
			f->tp->owner = f;
	} else if (kind == SK_UDP) {
		f->u = (struct udp_sock *)us_udp_open(st);
		if (f->u)
			f->u->owner = f;
	}
	/* a ping socket gets its endpoint (and identifier) at bind or first send */
	pthread_mutex_unlock(&st->lock);
	if ((kind == SK_TCP && !f->tp) || (kind == SK_UDP && !f->u)) {
		sock_file_free(f);
		return sock_fail(-ENOMEM);
	}
	fd = sock_fd_install(f);
	if (fd < 0) {
		pthread_mutex_lock(&st->lock);
		if (kind == SK_TCP)
			us_tcp_close((struct us_tcp *)f->tp);
		else if (kind == SK_UDP)
			us_udp_close((struct us_udp *)f->u);
		pthread_mutex_unlock(&st->lock);
		sock_file_free(f);
		return sock_fail(fd);
	}
	return fd;
}

int us_socket(int domain, int type, int protocol)
{
	return us_socket_on(us_stack_get_default(), domain, type, protocol);
}

/* A ping socket's endpoint: identifier `id` (0: a free one, as the kernel's ping_get_port). */
static int ping_open(struct us_file *f, uint16_t id)
{
	struct us_ping *p = NULL;

	if (f->ping)
		return -EINVAL;
	if (id) {
		p = us_ping_open(f->st, id);
		if (!p)
			return -errno;
	} else {
		for (int i = 0; i < 65536 && !p; i++) {
			id = (uint16_t)us_rand64(f->st);
			if (id)
				p = us_ping_open(f->st, id);
		}
		if (!p)
			return -EADDRINUSE;
	}
	f->ping = (struct icmp_echo_sock *)p;
	f->ping->owner = f;
	f->ping->all_errors = f->recverr;
	f->ping->connected = f->ping_peer != 0;
	f->ping_id = id;
	return 0;
}

int us_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct us_file *f = sock_file_lock(fd);
	uint32_t addr;
	uint16_t port;
	int r;

	if (!f)
		return -1;
	if (!sock_is_socket(f))
		return (int)sock_file_ret(f, -ENOTSOCK);
	r = sock_addr_in(sa, len, &addr, &port, true);
	if (r < 0)
		return (int)sock_file_ret(f, r);
	if (addr && (ipv4_is_multicast(addr) || us_addr_is_broadcast(f->st, addr)) && f->kind == SK_TCP)
		return (int)sock_file_ret(f, -EADDRNOTAVAIL);
	if (addr && !us_iface_by_addr(f->st, addr) && !(f->kind != SK_TCP && us_addr_is_broadcast(f->st, addr)))
		return (int)sock_file_ret(f, -EADDRNOTAVAIL);
	switch (f->kind) {
	case SK_TCP:
		f->tp->reuseaddr = f->reuseaddr;
		r = us_tcp_bind((struct us_tcp *)f->tp, addr, port);
		break;
	case SK_UDP:
		f->u->reuseaddr = f->reuseaddr;
		r = us_udp_bind((struct us_udp *)f->u, addr, port);
		break;
	default:
		r = f->ping ? -EINVAL : ping_open(f, port);
		break;
	}
	if (r == 0)
		f->user_bound = true;
	return (int)sock_file_ret(f, r);
}

int us_listen(int fd, int backlog)
{
	struct us_file *f = sock_file_lock(fd);
	int r;

	if (!f)
		return -1;
	if (!sock_is_socket(f))
		return (int)sock_file_ret(f, -ENOTSOCK);
	if (f->kind != SK_TCP)
		return (int)sock_file_ret(f, -EOPNOTSUPP);
	/* af_inet.c inet_listen: only an unconnected socket, or a listening one (new backlog) */
	if (f->ss != SS_UNCONNECTED || (f->tp->state != TCP_CLOSED && f->tp->state != TCP_LISTEN))
		return (int)sock_file_ret(f, -EINVAL);
	if (backlog < 0 || backlog > 4096)
		backlog = 4096; /* (unsigned)backlog > somaxconn */
	f->tp->reuseaddr = f->reuseaddr;
	r = us_tcp_listen((struct us_tcp *)f->tp, backlog);
	return (int)sock_file_ret(f, r);
}

/* ---- accept, connect ---- */

int us_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	struct us_file *f = sock_file_lock(fd), *nf;
	struct tcp_sock *c = NULL;
	uint64_t deadline;
	int r, nfd;

	if (!f)
		return -1;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return (int)sock_file_ret(f, -EINVAL);
	if (!sock_is_socket(f))
		return (int)sock_file_ret(f, -ENOTSOCK);
	if (f->kind != SK_TCP)
		return (int)sock_file_ret(f, -EOPNOTSUPP);
	if (sa && !len)
		return (int)sock_file_ret(f, -EFAULT);
	if (sa && (int)*len < 0)
		return (int)sock_file_ret(f, -EINVAL);
	deadline = sock_timeo_deadline(f->st, f->rcvtimeo_ns);
	for (;;) {
		if (f->tp->state != TCP_LISTEN)
			return (int)sock_file_ret(f, -EINVAL);
		c = (struct tcp_sock *)us_tcp_accept((struct us_tcp *)f->tp, &r);
		if (c)
			break;
		if (r != -EAGAIN || f->nonblock)
			return (int)sock_file_ret(f, r);
		r = sock_wait(f, deadline);
		if (r < 0)
			return (int)sock_file_ret(f, r);
	}
	nf = sock_file_new(f->st, SK_TCP);
	if (!nf) {
		us_tcp_abort((struct us_tcp *)c);
		return (int)sock_file_ret(f, -ENOMEM);
	}
	nf->tp = c;
	c->owner = nf;
	nf->ss = SS_CONNECTED;
	nf->nonblock = flags & SOCK_NONBLOCK;
	nf->cloexec = flags & SOCK_CLOEXEC;
	/* what sk_clone copies from the listener */
	nf->rcvtimeo_ns = f->rcvtimeo_ns;
	nf->sndtimeo_ns = f->sndtimeo_ns;
	nf->linger = f->linger;
	nf->keepalive = f->keepalive;
	nf->sndbuf = f->sndbuf;
	nf->rcvbuf = f->rcvbuf;
	nf->reuseaddr = f->reuseaddr;
	nfd = sock_fd_install(nf);
	if (nfd < 0) {
		c->owner = NULL;
		us_tcp_abort((struct us_tcp *)c);
		sock_file_free(nf);
		return (int)sock_file_ret(f, nfd);
	}
	sock_addr_out(sa, len, c->raddr, c->rport);
	/* readiness that arrived before there was a file to wake */
	sock_wake(f->st, nf);
	sock_file_unlock(f);
	return nfd;
}

int us_accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return us_accept4(fd, sa, len, 0);
}

/* A TCP socket whose connection is over gets a fresh endpoint for a new connect (Linux reuses the
 * sock; ours was torn down), keeping the options and a port the user bound. */
static int tcp_renew(struct us_file *f)
{
	struct tcp_sock *old = f->tp, *tp = tcp_sock_new(f->st);
	int r = 0;

	if (!tp)
		return -ENOMEM;
	tp->flags |= old->flags & (TF_NODELAY | TF_KEEPALIVE);
	tp->sndbuf = old->sndbuf;
	tp->rcvbuf = old->rcvbuf;
	tp->keepidle_s = old->keepidle_s;
	tp->keepintvl_s = old->keepintvl_s;
	tp->keepcnt = old->keepcnt;
	tp->reuseaddr = old->reuseaddr;
	tp->owner = f;
	old->owner = NULL;
	if (f->user_bound) {
		uint32_t addr = old->laddr;
		uint16_t port = old->lport;

		us_tcp_close((struct us_tcp *)old); /* frees it and its port */
		r = us_tcp_bind((struct us_tcp *)tp, addr, port);
	} else {
		us_tcp_close((struct us_tcp *)old);
	}
	f->tp = tp;
	return r;
}

static int tcp_connect(struct us_file *f, const struct sockaddr *sa, socklen_t len)
{
	uint32_t addr;
	uint16_t port;
	uint64_t deadline;
	int r, err;

	/* af_inet.c __inet_stream_connect */
	if (!sa)
		return -EFAULT;
	if (len < (socklen_t)sizeof(sa->sa_family))
		return -EINVAL;
	if (sa->sa_family == AF_UNSPEC) {
		/* a disconnect: abort what there is */
		if (f->tp->state != TCP_CLOSED && f->tp->state != TCP_LISTEN) {
			f->tp->owner = NULL;
			us_tcp_abort((struct us_tcp *)f->tp);
			f->tp = tcp_sock_new(f->st);
			if (!f->tp)
				return -ENOMEM;
			f->tp->owner = f;
			f->user_bound = false;
		}
		f->ss = SS_UNCONNECTED;
		return 0;
	}
	r = sock_addr_in(sa, len, &addr, &port, false);
	if (r < 0)
		return r;
	switch (f->ss) {
	case SS_CONNECTED:
		return -EISCONN;
	case SS_CONNECTING:
		err = -EALREADY;
		break;
	default:
		if (f->tp->state != TCP_CLOSED)
			return -EISCONN;
		if ((f->tp->flags & TF_FREE) && (r = tcp_renew(f)) < 0)
			return r;
		r = us_tcp_connect((struct us_tcp *)f->tp, addr, port);
		if (r != -EINPROGRESS)
			return r == 0 ? -EINVAL : r;
		f->ss = SS_CONNECTING;
		err = -EINPROGRESS;
		break;
	}
	deadline = sock_timeo_deadline(f->st, f->sndtimeo_ns);
	while (f->tp->state == TCP_SYN_SENT || f->tp->state == TCP_SYN_RECEIVED) {
		if (f->nonblock)
			return err;
		sock_kick(f->st);
		r = sock_wait(f, deadline);
		if (r == -EAGAIN)
			return -EINPROGRESS; /* SO_SNDTIMEO ran out */
		if (r < 0)
			return r;
	}
	if (f->tp->state == TCP_CLOSED) {
		/* refused, timed out, reset, or an ICMP error */
		r = us_tcp_error((struct us_tcp *)f->tp);
		f->ss = SS_UNCONNECTED;
		return r ? r : -ECONNABORTED;
	}
	f->ss = SS_CONNECTED;
	return 0;
}

int us_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct us_file *f = sock_file_lock(fd);
	uint32_t addr;
	uint16_t port;
	int r;

	if (!f)
		return -1;
	switch (f->kind) {
	case SK_TCP:
		r = tcp_connect(f, sa, len);
		break;
	case SK_UDP:
		if (sa && len >= (socklen_t)sizeof(sa->sa_family) && sa->sa_family == AF_UNSPEC) {
			/* udp_disconnect */
			f->u->raddr = 0;
			f->u->rport = 0;
			r = 0;
			break;
		}
		r = sock_addr_in(sa, len, &addr, &port, false);
		if (r == 0)
			r = us_udp_connect((struct us_udp *)f->u, addr, port);
		break;
	case SK_PING:
		/* ip4_datagram_connect: sends without an address go there */
		r = sock_addr_in(sa, len, &addr, &port, false);
		if (r == 0 && !f->ping)
			r = ping_open(f, 0);
		if (r == 0) {
			f->ping_peer = addr;
			f->ping->connected = true;
		}
		break;
	default:
		r = -ENOTSOCK;
		break;
	}
	return (int)sock_file_ret(f, r);
}

/* ---- send ---- */

/* iov bookkeeping for partial progress */
struct iov_cursor {
	struct iovec v[1024]; /* UIO_MAXIOV */
	int n;
	size_t total;
};

static int iov_load(struct iov_cursor *c, const struct iovec *iov, int cnt)
{
	if (cnt < 0 || cnt > 1024)
		return -EMSGSIZE; /* more than UIO_MAXIOV (net/socket.c: EMSGSIZE) */
	c->n = cnt;
	c->total = 0;
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len && !iov[i].iov_base)
			return -EFAULT;
		if (iov[i].iov_len > SSIZE_MAX - c->total)
			return -EINVAL;
		c->v[i] = iov[i];
		c->total += iov[i].iov_len;
	}
	return 0;
}

static void iov_advance(struct iov_cursor *c, size_t n)
{
	int i = 0;

	while (n && i < c->n) {
		size_t k = n < c->v[i].iov_len ? n : c->v[i].iov_len;
		c->v[i].iov_base = (uint8_t *)c->v[i].iov_base + k;
		c->v[i].iov_len -= k;
		n -= k;
		if (c->v[i].iov_len == 0)
			i++;
	}
	memmove(c->v, c->v + i, (size_t)(c->n - i) * sizeof(c->v[0]));
	c->n -= i;
}

static ssize_t tcp_send_locked(struct us_file *f, struct iov_cursor *c, int flags)
{
	struct tcp_sock *tp = f->tp;
	bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
	uint64_t deadline = sock_timeo_deadline(f->st, f->sndtimeo_ns);
	size_t want = c->total, done = 0;
	int r;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP; /* no urgent data in ustack */
	for (;;) {
		if ((tp->state == TCP_CLOSED && !(tp->flags & TF_FREE) && !tp->err) ||
		    tp->state == TCP_LISTEN)
			return -EPIPE; /* never connected, or listening: sk_stream_wait_connect */
		r = want - done ? tcp_sendmsg(tp, c->v, c->n) : 0;
		if (r > 0) {
			done += (size_t)r;
			iov_advance(c, (size_t)r);
			if (done == want)
				return (ssize_t)done;
			continue;
		}
		if (r == 0 && want == 0) {
			if (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECEIVED) {
				if (nonblock)
					return -EAGAIN;
			} else {
				return 0;
			}
		} else if (r != -EAGAIN) {
			return done ? (ssize_t)done : r;
		}
		if (nonblock)
			return done ? (ssize_t)done : -EAGAIN;
		sock_kick(f->st);
		r = sock_wait(f, deadline);
		if (r < 0)
			return done ? (ssize_t)done : r;
		tp = f->tp;
	}
}

static ssize_t ping_send(struct us_file *f, const struct iov_cursor *c, uint32_t daddr)
{
	uint8_t *buf;
	size_t off = 0;
	int r;

	/* net/ipv4/ping.c: an echo request header from the user, the kernel sets id and checksum */
	if (c->total < ICMP_HDR_LEN)
		return -EINVAL;
	if (c->total > 0xffff)
		return -EMSGSIZE;
	if (!daddr)
		return -EDESTADDRREQ;
	buf = malloc(c->total);
	if (!buf)
		return -ENOMEM;
	for (int i = 0; i < c->n; i++) {
		memcpy(buf + off, c->v[i].iov_base, c->v[i].iov_len);
		off += c->v[i].iov_len;
	}
	if (buf[0] != ICMP_ECHO || buf[1] != 0) {
		free(buf);
		return -EINVAL;
	}
	r = f->ping ? 0 : ping_open(f, 0);
	if (r == 0)
		r = us_ping_send((struct us_ping *)f->ping, daddr, get_be16(buf + 6), buf + ICMP_HDR_LEN,
				 c->total - ICMP_HDR_LEN, f->ttl);
	free(buf);
	return r < 0 ? r : (ssize_t)c->total;
}

static ssize_t sock_sendmsg(int fd, const struct iovec *iov, int iovcnt, int flags,
			    const struct sockaddr *dest, socklen_t destlen)
{
	struct us_file *f = sock_file_lock(fd);
	struct iov_cursor c;
	uint32_t daddr = 0;
	uint16_t dport = 0;
	ssize_t r;

	if (!f)
		return -1;
	if (!sock_is_socket(f))
		return sock_file_ret(f, -ENOTSOCK);
	r = iov_load(&c, iov, iovcnt);
	if (r < 0)
		return sock_file_ret(f, r);
	lat_app_send(f->st, true);
	switch (f->kind) {
	case SK_TCP:
		/* a TCP socket ignores the address (tcp_sendmsg) */
		r = tcp_send_locked(f, &c, flags);
		break;
	case SK_UDP:
		if (dest) {
			/* udp_sendmsg: AF_UNSPEC is tolerated, a short address is EINVAL */
			if (destlen < (socklen_t)sizeof(struct sockaddr_in)) {
				r = -EINVAL;
				break;
			}
			r = sock_addr_in(dest, destlen, &daddr, &dport, false);
			if (r == -EAFNOSUPPORT && dest->sa_family == AF_UNSPEC)
				r = 0;
			if (r < 0)
				break;
			if (dport == 0) {
				r = -EINVAL;
				break;
			}
			if (daddr == 0)
				daddr = 0x7f000001; /* Linux sends to INADDR_ANY as to loopback */
		}
		if (f->shut_wr) {
			r = -EPIPE;
			break;
		}
		if (us_addr_is_broadcast(f->st, daddr) && !f->broadcast) {
			r = -EACCES; /* SO_BROADCAST not set */
			break;
		}
		r = udp_sendmsg(f->u, c.v, c.n, c.total, daddr, dport);
		break;
	case SK_PING:
		if (dest) {
			r = sock_addr_in(dest, destlen, &daddr, &dport, false);
			if (r < 0)
				break;
		}
		r = ping_send(f, &c, daddr ? daddr : f->ping_peer);
		break;
	}
	lat_app_send(f->st, false);
	return sock_file_ret(f, r);
}

ssize_t us_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (!msg) {
		struct us_file *f = sock_fd_get(fd);
		if (!f)
			return sock_fail(-EBADF);
		sock_fd_put(f);
		return sock_fail(-EFAULT);
	}
	return sock_sendmsg(fd, msg->msg_iov, (int)msg->msg_iovlen, flags, msg->msg_name,
			    msg->msg_name ? msg->msg_namelen : 0);
}

ssize_t us_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *dest,
		  socklen_t addrlen)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };

	return sock_sendmsg(fd, &iov, 1, flags, dest, dest ? addrlen : 0);
}

ssize_t us_send(int fd, const void *buf, size_t len, int flags)
{
	return us_sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t us_write(int fd, const void *buf, size_t len)
{
	return us_send(fd, buf, len, 0);
}

ssize_t us_writev(int fd, const struct iovec *iov, int iovcnt)
{
	return sock_sendmsg(fd, iov, iovcnt, 0, NULL, 0);
}

/* ---- receive ---- */

static ssize_t tcp_recv_locked(struct us_file *f, struct iov_cursor *c, int flags)
{
	bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
	bool peek = flags & MSG_PEEK;
	uint64_t deadline = sock_timeo_deadline(f->st, f->rcvtimeo_ns);
	size_t want = c->total, done = 0;
	int r;

	if (flags & MSG_OOB)
		return -EINVAL; /* tcp_recv_urg: no urgent data */
	if (f->tp->state == TCP_LISTEN)
		return -ENOTCONN;
	if (want == 0)
		return 0;
	for (;;) {
		r = tcp_recvmsg(f->tp, c->v, c->n, peek);
		if (r > 0) {
			done += (size_t)r;
			if (peek || !(flags & MSG_WAITALL) || done == want)
				return (ssize_t)done;
			iov_advance(c, (size_t)r);
			continue;
		}
		if (r == 0)
			return (ssize_t)done; /* end of stream */
		if (r != -EAGAIN)
			return done ? (ssize_t)done : r;
		if (nonblock)
			return done ? (ssize_t)done : -EAGAIN;
		sock_kick(f->st);
		r = sock_wait(f, deadline);
		if (r < 0)
			return done ? (ssize_t)done : r;
	}
}

static ssize_t udp_recv_locked(struct us_file *f, struct iov_cursor *c, int flags, uint32_t *saddr,
			       uint16_t *sport, uint8_t *ttl, int *msg_flags)
{
	bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
	uint64_t deadline = sock_timeo_deadline(f->st, f->rcvtimeo_ns);
	int r;

	for (;;) {
		if (f->shut_rd && skb_queue_empty(&f->u->rx))
			return 0;
		r = udp_recvmsg(f->u, c->v, c->n, flags & MSG_PEEK, saddr, sport, ttl);
		if (r >= 0) {
			if ((size_t)r > c->total) {
				*msg_flags |= MSG_TRUNC;
				return (flags & MSG_TRUNC) ? r : (ssize_t)c->total;
			}
			return r;
		}
		if (r != -EAGAIN || nonblock)
			return r;
		sock_kick(f->st);
		r = sock_wait(f, deadline);
		if (r < 0)
			return r;
	}
}

static ssize_t ping_recv_locked(struct us_file *f, struct iov_cursor *c, int flags, uint32_t *saddr,
				uint8_t *ttl, int *msg_flags)
{
	bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
	uint64_t deadline = sock_timeo_deadline(f->st, f->rcvtimeo_ns);
	struct us_ping_reply rep;
	uint8_t *buf;
	size_t off = 0, n;
	int r;

	for (;;) {
		if (f->ping && !skb_queue_empty(&f->ping->rx))
			break;
		if (nonblock)
			return -EAGAIN;
		sock_kick(f->st);
		r = sock_wait(f, deadline);
		if (r < 0)
			return r;
	}
	buf = malloc(ICMP_HDR_LEN + 0x10000);
	if (!buf)
		return -ENOMEM;
	us_ping_recv((struct us_ping *)f->ping, &rep, buf + ICMP_HDR_LEN, 0x10000);
	if (rep.error) {
		free(buf);
		return rep.error; /* ping_err's sk_err: the error, once */
	}
	/* the reply as it came, from its ICMP header (ping_recvmsg) */
	buf[0] = ICMP_ECHOREPLY;
	buf[1] = 0;
	put_be16(buf + 2, 0);
	put_be16(buf + 4, f->ping_id);
	put_be16(buf + 6, rep.seq);
	n = ICMP_HDR_LEN + rep.len;
	put_be16(buf + 2, inet_csum(buf, n));
	*saddr = rep.from;
	*ttl = rep.ttl;
	for (int i = 0; i < c->n && off < n; i++) {
		size_t k = n - off < c->v[i].iov_len ? n - off : c->v[i].iov_len;
		memcpy(c->v[i].iov_base, buf + off, k);
		off += k;
	}
	free(buf);
	if (off < n) {
		*msg_flags |= MSG_TRUNC;
		return (flags & MSG_TRUNC) ? (ssize_t)n : (ssize_t)off;
	}
	return (ssize_t)n;
}

/* The receive path of every recv call; *ttl is set (else -1) when the socket asked for IP_RECVTTL
 * and the datagram has one. */
static ssize_t sock_recvmsg(int fd, const struct iovec *iov, int iovcnt, int flags,
			    struct sockaddr *src, socklen_t *srclen, int *msg_flags, int *ttl_out)
{
	struct us_file *f = sock_file_lock(fd);
	struct iov_cursor c;
	uint32_t saddr = 0;
	uint16_t sport = 0;
	uint8_t ttl = 0;
	ssize_t r;

	if (!f)
		return -1;
	*msg_flags = 0;
	*ttl_out = -1;
	if (!sock_is_socket(f))
		return sock_file_ret(f, -ENOTSOCK);
	r = iov_load(&c, iov, iovcnt);
	if (r < 0)
		return sock_file_ret(f, r);
	switch (f->kind) {
	case SK_TCP:
		r = tcp_recv_locked(f, &c, flags);
		if (r >= 0 && src && srclen)
			us_tcp_getpeername((struct us_tcp *)f->tp, &saddr, &sport);
		break;
	case SK_UDP:
		r = udp_recv_locked(f, &c, flags, &saddr, &sport, &ttl, msg_flags);
		break;
	default:
		r = ping_recv_locked(f, &c, flags, &saddr, &ttl, msg_flags);
		break;
	}
	if (r >= 0 && src && f->kind != SK_TCP) {
		int e = sock_addr_out(src, srclen, saddr, sport);
		if (e < 0)
			r = e;
	} else if (r >= 0 && srclen && f->kind == SK_TCP) {
		*srclen = 0; /* a stream socket reports no address (tcp_recvmsg) */
	}
	if (r >= 0 && f->recvttl && f->kind != SK_TCP && ttl)
		*ttl_out = ttl;
	return sock_file_ret(f, r);
}

ssize_t us_recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t r;
	int mf, ttl;

	if (!msg) {
		struct us_file *f = sock_fd_get(fd);
		if (!f)
			return sock_fail(-EBADF);
		sock_fd_put(f);
		return sock_fail(-EFAULT);
	}
	r = sock_recvmsg(fd, msg->msg_iov, (int)msg->msg_iovlen, flags, msg->msg_name,
			 msg->msg_name ? &msg->msg_namelen : NULL, &mf, &ttl);
	if (r >= 0) {
		/* ancillary data: IP_TTL when IP_RECVTTL asked for it (ip(7)) */
		if (ttl >= 0 && msg->msg_control && msg->msg_controllen >= CMSG_SPACE(sizeof(int))) {
			struct cmsghdr *cm = CMSG_FIRSTHDR(msg);

			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_TTL;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &ttl, sizeof(int));
			msg->msg_controllen = CMSG_SPACE(sizeof(int));
		} else {
			if (ttl >= 0)
				mf |= MSG_CTRUNC;
			msg->msg_controllen = 0;
		}
		msg->msg_flags = mf;
	}
	return r;
}

ssize_t us_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *src, socklen_t *addrlen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	int mf, ttl;

	if (src && !addrlen) {
		struct us_file *f = sock_fd_get(fd);
		if (!f)
			return sock_fail(-EBADF);
		sock_fd_put(f);
		return sock_fail(-EFAULT);
	}
	return sock_recvmsg(fd, &iov, 1, flags, src, src ? addrlen : NULL, &mf, &ttl);
}

ssize_t us_recv(int fd, void *buf, size_t len, int flags)
{
	return us_recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t us_read(int fd, void *buf, size_t len)
{
	return us_recv(fd, buf, len, 0);
}

ssize_t us_readv(int fd, const struct iovec *iov, int iovcnt)
{
	int mf, ttl;

	return sock_recvmsg(fd, iov, iovcnt, 0, NULL, NULL, &mf, &ttl);
}

/* ---- shutdown, close ---- */

int us_shutdown(int fd, int how)
{
	struct us_file *f = sock_file_lock(fd);
	int r = 0;

	if (!f)
		return -1;
	if (!sock_is_socket(f))
		return (int)sock_file_ret(f, -ENOTSOCK);
	if (how < SHUT_RD || how > SHUT_RDWR)
		return (int)sock_file_ret(f, -EINVAL);
	switch (f->kind) {
	case SK_TCP:
		if (f->tp->state == TCP_LISTEN) {
			/* inet_shutdown: SHUT_RD on a listener stops it (tcp_disconnect) */
			if (how != SHUT_WR) {
				struct tcp_sock *tp = tcp_sock_new(f->st);
				if (!tp) {
					r = -ENOMEM;
					break;
				}
				tp->owner = f;
				f->tp->owner = NULL;
				us_tcp_close((struct us_tcp *)f->tp);
				f->tp = tp;
				f->user_bound = false;
			}
			break;
		}
		if (f->tp->state == TCP_CLOSED)
			r = -ENOTCONN;
		else
			r = us_tcp_shutdown((struct us_tcp *)f->tp, how);
		if (f->tp->state == TCP_CLOSED && r == 0)
			f->ss = SS_UNCONNECTED;
		tcp_wake(f->tp);
		break;
	case SK_UDP:
		if (!f->u->raddr) {
			r = -ENOTCONN;
			break;
		}
		if (how != SHUT_WR)
			f->shut_rd = true;
		if (how != SHUT_RD)
			f->shut_wr = true;
		sock_wake(f->st, f);
		break;
	default:
		r = -ENOTCONN;
		break;
	}
	return (int)sock_file_ret(f, r);
}

/* SO_LINGER {1, N}: a blocking close waits up to N seconds for the data and the FIN to be
 * acknowledged (socket(7); Linux's tcp_close -> sk_stream_wait_close), then returns 0 either way.
 * Unread data still means a reset at once, and linger 0 a reset (sock_file_release). */
static void tcp_linger_wait(struct us_file *f)
{
	struct tcp_sock *tp = f->tp;
	uint64_t deadline;

	if (f->kind != SK_TCP || !f->linger.l_onoff || f->linger.l_linger <= 0 || f->nonblock ||
	    tp->rcv_q.bytes || (tp->flags & TF_FREE) ||
	    (tp->state != TCP_ESTABLISHED && tp->state != TCP_CLOSE_WAIT))
		return;
	deadline = f->st->now + (uint64_t)f->linger.l_linger * US_NSEC_PER_SEC;
	us_tcp_shutdown((struct us_tcp *)tp, SHUT_WR);
	while (f->tp->state == TCP_FIN_WAIT_1 || f->tp->state == TCP_CLOSING ||
	       f->tp->state == TCP_LAST_ACK) {
		sock_kick(f->st);
		if (sock_wait(f, deadline) < 0)
			break;
	}
}

int us_close(int fd)
{
	struct us_file *f = sock_fd_get(fd);
	struct us_stack *st;

	if (!f)
		return sock_fail(-EBADF);
	st = f->st;
	pthread_mutex_lock(&st->lock);
	if (f->closed) {
		/* another thread closed it first */
		pthread_mutex_unlock(&st->lock);
		sock_fd_put(f);
		return sock_fail(-EBADF);
	}
	st->now = us_clock_now(st->clock);
	sock_fd_remove(f); /* from here on, other threads see EBADF */
	tcp_linger_wait(f);
	sock_file_release(f);
	sock_kick(st);
	pthread_mutex_unlock(&st->lock);
	sock_fd_put(f);
	return 0;
}

int us_fcntl(int fd, int cmd, ...)
{
	struct us_file *f = sock_file_lock(fd);
	va_list ap;
	int r = 0;

	if (!f)
		return -1;
	va_start(ap, cmd);
	switch (cmd) {
	case F_GETFL:
		r = O_RDWR | (f->nonblock ? O_NONBLOCK : 0);
		break;
	case F_SETFL:
		f->nonblock = (va_arg(ap, int) & O_NONBLOCK) != 0;
		break;
	case F_GETFD:
		r = f->cloexec ? FD_CLOEXEC : 0;
		break;
	case F_SETFD:
		f->cloexec = (va_arg(ap, int) & FD_CLOEXEC) != 0;
		break;
	default:
		r = -EINVAL;
		break;
	}
	va_end(ap);
	return (int)sock_file_ret(f, r);
}

int us_ioctl(int fd, unsigned long request, ...)
{
	struct us_file *f = sock_file_lock(fd);
	va_list ap;
	int *arg, r = 0;

	if (!f)
		return -1;
	va_start(ap, request);
	arg = va_arg(ap, int *);
	va_end(ap);
	if (!arg)
		return (int)sock_file_ret(f, -EFAULT);
	switch (request) {
	case FIONBIO:
		f->nonblock = *arg != 0;
		break;
	case FIONREAD:
		if (f->kind == SK_TCP) {
			if (f->tp->state == TCP_LISTEN)
				r = -EINVAL;
			else
				*arg = (int)f->tp->rcv_q.bytes;
		} else if (f->kind == SK_UDP) {
			struct sk_buff *skb = skb_peek(&f->u->rx);
			*arg = skb ? (int)skb->len : 0; /* the next datagram (SIOCINQ) */
		} else if (f->kind == SK_PING) {
			*arg = f->ping && skb_peek(&f->ping->rx) ? (int)skb_peek(&f->ping->rx)->len : 0;
		} else {
			r = -ENOTTY;
		}
		break;
	case SIOCOUTQ:
		/* Linux's tcp_ioctl: bytes not yet acknowledged, write_seq - snd_una, so a FIN sent
		 * or queued counts one; 0 while the handshake runs; a listener has no send queue */
		if (f->kind == SK_TCP) {
			const struct tcp_sock *tp = f->tp;
			const struct sk_buff *last = skb_peek_tail(&tp->write_q);

			if (tp->state == TCP_LISTEN)
				r = -EINVAL;
			else if (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECEIVED)
				*arg = 0;
			else
				*arg = (int)tp->write_q.bytes +
				       (last && (TCP_SKB_CB(last)->flags & TCPF_FIN) ? 1 : 0);
		} else if (f->kind == SK_UDP || f->kind == SK_PING) {
			*arg = 0; /* a datagram leaves at once: nothing waits in a send buffer */
		} else {
			r = -ENOTTY;
		}
		break;
	default:
		r = -ENOTTY;
		break;
	}
	return (int)sock_file_ret(f, r);
}
