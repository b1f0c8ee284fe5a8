/*
 * test_socket_diff.c - the socket API of ustack against the Linux kernel's, row by row.
 *
 * Each row is a short sequence of socket calls written once against an ops table (struct ops) and
 * run twice in the same test: on the kernel's own sockets over loopback (127.0.0.1 only), and on
 * ustack (two stacks in this process joined by a pair device, each running in its own thread: the
 * client stack at 198.18.0.1/24, the server stack at 198.18.0.2/24). Every call's return value and
 * errno is recorded, normalised where the two worlds differ by nature (a descriptor becomes "fd", a
 * port "port" or "=want" when it is the one expected, an address "=want" when it is the expected
 * end's), and the two recordings must be equal. The Linux run is the specification: socket.h
 * promises Linux's errnos. Each row is its own Check test (forked), with fresh ustack stacks.
 *
 * Waits are bounded: sockets that block get SO_RCVTIMEO/SO_SNDTIMEO, poll has a timeout, and the
 * network is given a fixed short time to settle where a row needs an answer from the peer.
 *
 * USTACK_DIFF_VERBOSE=1 in the environment prints both recordings of every row.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"
#include "ustack/socket.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define LO_IP IP4(127, 0, 0, 1)
#define CLIENT_IP IP4(198, 18, 0, 1)
#define SERVER_IP IP4(198, 18, 0, 2)
/* RFC 5737 TEST-NET-3: local to neither side. */
#define NONLOCAL_IP IP4(203, 0, 113, 7)
#define HUGE_FD 1000000
#define IO_TIMEOUT_MS 3000 /* SO_RCVTIMEO/SO_SNDTIMEO of sockets that block */

/* The calls a row may make; the Linux table calls the kernel, the ustack table the us_* API. */
struct ops {
	const char *name;
	int (*socket_client)(int domain, int type, int protocol); /* on the client stack */
	int (*socket_server)(int domain, int type, int protocol); /* on the server stack */
	int (*bind)(int fd, const struct sockaddr *addr, socklen_t addrlen);
	int (*listen)(int fd, int backlog);
	int (*accept)(int fd, struct sockaddr *addr, socklen_t *addrlen);
	int (*connect)(int fd, const struct sockaddr *addr, socklen_t addrlen);
	ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
	ssize_t (*sendto)(int fd, const void *buf, size_t len, int flags, const struct sockaddr *dest,
			  socklen_t addrlen);
	ssize_t (*recvfrom)(int fd, void *buf, size_t len, int flags, struct sockaddr *src,
			    socklen_t *addrlen);
	ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
	ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
	int (*shutdown)(int fd, int how);
	int (*close)(int fd);
	int (*setsockopt)(int fd, int level, int optname, const void *optval, socklen_t optlen);
	int (*getsockopt)(int fd, int level, int optname, void *optval, socklen_t *optlen);
	int (*getsockname)(int fd, struct sockaddr *addr, socklen_t *addrlen);
	int (*getpeername)(int fd, struct sockaddr *addr, socklen_t *addrlen);
	int (*fcntl)(int fd, int cmd, int arg); /* the argument is always passed (0 when unused) */
	int (*poll)(struct pollfd *fds, nfds_t nfds, int timeout);
	/* Wait a little for the network: segments in flight arrive and are answered. */
	void (*settle)(void);
	uint32_t server_addr, client_addr; /* host order */
	uint32_t link_mtu;		   /* the MTU of the path between them */
};

/* One run of a row: the ops and what the calls returned. */
struct run {
	const struct ops *o;
	char log[8192];
	size_t len;
};

struct row {
	const char *name;
	void (*fn)(struct run *r);
};

/* ---- recording ---- */

static void note(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct run *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len + 2 >= sizeof(r->log))
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->log + r->len, sizeof(r->log) - r->len - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	r->len += (size_t)n;
	if (r->len > sizeof(r->log) - 2)
		r->len = sizeof(r->log) - 2;
	r->log[r->len++] = '\n';
	r->log[r->len] = '\0';
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "E?";
}

enum rec_kind {
	REC_NUM, /* the value as is */
	REC_FD,	 /* a descriptor: "fd" */
};

/* Record one call: "what = fd", "what = 12" or "what = -1 ECONNREFUSED". errno is read first
 * thing, so the call's own errno is the one recorded. Returns ret. */
static long rec(struct run *r, const char *what, long ret, enum rec_kind kind)
{
	int e = errno;

	if (ret == -1)
		note(r, "%s = -1 %s", what, errname(e));
	else if (kind == REC_FD && ret >= 0)
		note(r, "%s = fd", what);
	else
		note(r, "%s = %ld", what, ret);
	return ret;
}

/* Record a call only when it fails (set-up steps whose success is not the point of the row). */
static long quiet(struct run *r, const char *what, long ret)
{
	int e = errno;

	if (ret == -1)
		note(r, "%s = -1 %s", what, errname(e));
	return ret;
}

#define FD(what, call) ((int)rec(r, (what), (long)(call), REC_FD))
#define RC(what, call) rec(r, (what), (long)(call), REC_NUM)
#define QUIET(what, call) quiet(r, (what), (long)(call))
#define SA(p) ((struct sockaddr *)(p))

static void revents_str(short ev, char *buf, size_t size)
{
	static const struct {
		short bit;
		const char *name;
	} names[] = { { POLLIN, "IN" },	  { POLLPRI, "PRI" },	{ POLLOUT, "OUT" },
		      { POLLERR, "ERR" }, { POLLHUP, "HUP" },	{ POLLNVAL, "NVAL" },
		      { POLLRDHUP, "RDHUP" } };
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(ev & names[i].bit))
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "|" : "", names[i].name);
		if (len >= size)
			return;
	}
	if (len == 0)
		snprintf(buf, size, "0");
}

/* poll one descriptor for `events`, recorded with the revents by name. */
static int poll1(struct run *r, const char *what, int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	char ev[64];
	int n;

	n = r->o->poll(&p, 1, timeout_ms);
	if (n < 0) {
		rec(r, what, n, REC_NUM);
		return n;
	}
	revents_str(p.revents, ev, sizeof(ev));
	note(r, "%s = %d revents %s", what, n, ev);
	return n;
}

/* Record a socket address, normalised: the family, the address as "=want" when it is want_ip
 * (else "any" or "other"), the port as "0", "=want" when it is want_port, or "port". */
static void note_addr(struct run *r, const char *what, const struct sockaddr_in *a, socklen_t len,
		      uint32_t want_ip, uint16_t want_port)
{
	uint32_t ip = ntohl(a->sin_addr.s_addr);
	uint16_t port = ntohs(a->sin_port);

	note(r, "%s: len %u family %d addr %s port %s", what, (unsigned)len, a->sin_family,
	     ip == want_ip ? "=want" : ip == INADDR_ANY ? "any" : "other",
	     port == 0 ? "0" : port == want_port ? "=want" : "port");
}

static struct sockaddr_in sin4(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(ip);
	return a;
}

static void nap_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- helpers rows share ---- */

/* Close a descriptor at the end of a row; only a failure is recorded. */
static void drop(struct run *r, int fd)
{
	if (fd >= 0)
		QUIET("cleanup close", r->o->close(fd));
}

static int opt_int(struct run *r, const char *what, int fd, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);

	if (rec(r, what, r->o->getsockopt(fd, level, name, &v, &len), REC_NUM) == 0)
		note(r, "%s: len %u value %d", what, (unsigned)len, v);
	return v;
}

static long set_int(struct run *r, const char *what, int fd, int level, int name, int v)
{
	return rec(r, what, r->o->setsockopt(fd, level, name, &v, sizeof(v)), REC_NUM);
}

/* SO_ERROR, recorded by errno name. */
static void so_error(struct run *r, const char *what, int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (rec(r, what, r->o->getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len), REC_NUM) == 0)
		note(r, "%s: %s", what, v ? errname(v) : "0");
}

/* Bound every blocking call on fd (SO_RCVTIMEO and SO_SNDTIMEO; connect honours the latter). */
static void bounded(struct run *r, int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_MS / 1000, .tv_usec = (IO_TIMEOUT_MS % 1000) * 1000 };

	QUIET("bounded rcvtimeo", r->o->setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	QUIET("bounded sndtimeo", r->o->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
}

static uint16_t local_port(struct run *r, int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (QUIET("getsockname", r->o->getsockname(fd, SA(&a), &len)) != 0)
		return 0;
	if (a.sin_port == 0)
		note(r, "local port is 0");
	return ntohs(a.sin_port);
}

/* A socket on the server bound to its address (port 0: any) and, when backlog >= 0, listening.
 * *port gets the port. */
static int server_sock(struct run *r, int type, int backlog, uint16_t *port)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sin4(o->server_addr, 0);
	int fd = FD("server socket", o->socket_server(AF_INET, type, 0));

	RC("server bind", o->bind(fd, SA(&a), sizeof(a)));
	if (backlog >= 0)
		RC("listen", o->listen(fd, backlog));
	*port = local_port(r, fd);
	bounded(r, fd);
	return fd;
}

/* A TCP port on the server nobody listens on: a socket bound to it, not listening (a SYN to it is
 * answered with a RST, RFC 9293 §3.10.7.1). Close the returned socket at the end of the row. */
static int closed_tcp_port(struct run *r, uint16_t *port)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sin4(o->server_addr, 0);
	int fd = o->socket_server(AF_INET, SOCK_STREAM, 0);

	QUIET("closed-port socket", fd);
	QUIET("closed-port bind", o->bind(fd, SA(&a), sizeof(a)));
	*port = local_port(r, fd);
	return fd;
}

/* A UDP port on the server that was just free: bound, read, closed. */
static uint16_t closed_udp_port(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sin4(o->server_addr, 0);
	int fd = o->socket_server(AF_INET, SOCK_DGRAM, 0);
	uint16_t port;

	QUIET("closed-udp socket", fd);
	QUIET("closed-udp bind", o->bind(fd, SA(&a), sizeof(a)));
	port = local_port(r, fd);
	drop(r, fd);
	return port;
}

/* A TCP connection: *c on the client, *s accepted on the server, both with bounded blocking calls.
 * Returns the listener (still open) when keep_listener, else closes it and returns -1. */
static int tcp_conn_l(struct run *r, int *c, int *s, uint16_t *port, bool keep_listener)
{
	const struct ops *o = r->o;
	struct sockaddr_in a;
	int l = server_sock(r, SOCK_STREAM, 8, port);

	a = sin4(o->server_addr, *port);
	*c = FD("client socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	bounded(r, *c);
	RC("connect", o->connect(*c, SA(&a), sizeof(a)));
	*s = FD("accept", o->accept(l, NULL, NULL));
	bounded(r, *s);
	if (keep_listener)
		return l;
	drop(r, l);
	return -1;
}

static void tcp_conn(struct run *r, int *c, int *s)
{
	uint16_t port;

	tcp_conn_l(r, c, s, &port, false);
}

/* Two UDP sockets, both bound: *srv on the server, *cli on the client; the ports come back. */
static void udp_pair(struct run *r, int *cli, int *srv, uint16_t *srv_port, uint16_t *cli_port)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sin4(o->client_addr, 0);

	*srv = server_sock(r, SOCK_DGRAM, -1, srv_port);
	*cli = FD("client udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));
	RC("client bind", o->bind(*cli, SA(&a), sizeof(a)));
	*cli_port = local_port(r, *cli);
	bounded(r, *cli);
}

/* Bytes received compared with bytes expected, recorded as "same" or what differs. */
static void note_bytes(struct run *r, const char *what, const void *got, long n, const void *want,
		       long wlen)
{
	if (n == wlen && memcmp(got, want, (size_t)wlen) == 0)
		note(r, "%s: same bytes", what);
	else
		note(r, "%s: DIFFERENT bytes (%ld, wanted %ld)", what, n, wlen);
}

/* ================================ rows: socket() ================================ */

/* socket(2), tcp(7), udp(7): AF_INET stream and datagram sockets, protocol 0 or the matching one. */
static void row_socket_kinds(struct run *r)
{
	const struct ops *o = r->o;
	int a = FD("socket stream 0", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int b = FD("socket dgram 0", o->socket_client(AF_INET, SOCK_DGRAM, 0));
	int c = FD("socket stream tcp", o->socket_client(AF_INET, SOCK_STREAM, IPPROTO_TCP));
	int d = FD("socket dgram udp", o->socket_client(AF_INET, SOCK_DGRAM, IPPROTO_UDP));

	RC("close", o->close(a));
	RC("close", o->close(b));
	RC("close", o->close(c));
	RC("close", o->close(d));
}

/* socket(2) EAFNOSUPPORT: "The implementation does not support the specified address family." */
static void row_socket_bad_family(struct run *r)
{
	int fd = FD("socket family 255", r->o->socket_client(255, SOCK_STREAM, 0));

	drop(r, fd);
}

/* socket(2) EINVAL: "Unknown protocol, or protocol family not available" / invalid flags in type;
 * Linux: a type past SOCK_MAX is EINVAL (net/socket.c __sock_create). */
static void row_socket_bad_type(struct run *r)
{
	int fd = FD("socket type 42", r->o->socket_client(AF_INET, 42, 0));

	drop(r, fd);
}

/* socket(2) EPROTONOSUPPORT: "The protocol type or the specified protocol is not supported within
 * this domain": TCP is not a datagram protocol nor UDP a stream one. */
static void row_socket_type_protocol_mismatch(struct run *r)
{
	int a = FD("socket stream udp", r->o->socket_client(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	int b = FD("socket dgram tcp", r->o->socket_client(AF_INET, SOCK_DGRAM, IPPROTO_TCP));

	drop(r, a);
	drop(r, b);
}

/* socket(2): SOCK_NONBLOCK sets O_NONBLOCK on the new descriptor. */
static void row_socket_nonblock_flag(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("socket stream|nonblock", o->socket_client(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	int u = FD("socket dgram|nonblock", o->socket_client(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	long fl = RC("fcntl getfl", o->fcntl(fd, F_GETFL, 0));
	char buf[8];

	note(r, "nonblock %d", fl >= 0 && (fl & O_NONBLOCK) != 0);
	RC("udp recv", o->recv(u, buf, sizeof(buf), 0));
	drop(r, fd);
	drop(r, u);
}

/* ================================ rows: bind() ================================ */

/* bind(2) EINVAL: "The socket is already bound to an address." */
static void row_bind_twice(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sin4(o->server_addr, 0);
	int fd = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));

	RC("bind", o->bind(fd, SA(&a), sizeof(a)));
	RC("bind again", o->bind(fd, SA(&a), sizeof(a)));
	drop(r, fd);
}

/* bind(2) EADDRINUSE: "The given address is already in use." */
static void row_bind_port_in_use(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int a = server_sock(r, SOCK_STREAM, -1, &port);
	struct sockaddr_in sa = sin4(o->server_addr, port);
	int b = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));

	RC("bind same port", o->bind(b, SA(&sa), sizeof(sa)));
	drop(r, a);
	drop(r, b);
}

/* UDP has its own port space: the same port number on TCP and UDP at once (RFC 768, RFC 9293 §3.1:
 * a port belongs to a protocol). Two UDP sockets on one port: EADDRINUSE as TCP. */
static void row_bind_udp_port_in_use(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int t = server_sock(r, SOCK_STREAM, -1, &port);
	struct sockaddr_in sa = sin4(o->server_addr, port);
	int u1 = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));
	int u2 = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));

	RC("udp bind the tcp port", o->bind(u1, SA(&sa), sizeof(sa)));
	RC("udp bind it again", o->bind(u2, SA(&sa), sizeof(sa)));
	drop(r, t);
	drop(r, u1);
	drop(r, u2);
}

/* socket(7) SO_REUSEADDR on UDP: two sockets that both asked for it share the port (Linux
 * udp_lib_lport_inuse); one that did not ask is refused. */
static void row_bind_udp_reuseaddr(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in sa = sin4(o->server_addr, 0);
	int a = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));
	int b = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));
	int c = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));
	uint16_t port;

	set_int(r, "reuseaddr a", a, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(r, "reuseaddr b", b, SOL_SOCKET, SO_REUSEADDR, 1);
	RC("bind a", o->bind(a, SA(&sa), sizeof(sa)));
	port = local_port(r, a);
	sa = sin4(o->server_addr, port);
	RC("bind b same port", o->bind(b, SA(&sa), sizeof(sa)));
	RC("bind c (no reuseaddr) same port", o->bind(c, SA(&sa), sizeof(sa)));
	drop(r, a);
	drop(r, b);
	drop(r, c);
}

/* socket(7) SO_REUSEADDR: "a socket may bind, except when there is an active listening socket
 * bound to the address": both sockets asked for reuse, the first listens -> EADDRINUSE. */
static void row_bind_reuseaddr_listening(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in sa = sin4(o->server_addr, 0);
	int a = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	int b = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	uint16_t port;

	set_int(r, "reuseaddr a", a, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(r, "reuseaddr b", b, SOL_SOCKET, SO_REUSEADDR, 1);
	RC("bind a", o->bind(a, SA(&sa), sizeof(sa)));
	RC("listen a", o->listen(a, 4));
	port = local_port(r, a);
	sa = sin4(o->server_addr, port);
	RC("bind b same port", o->bind(b, SA(&sa), sizeof(sa)));
	drop(r, a);
	drop(r, b);
}

/* socket(7) SO_REUSEADDR with neither socket listening: the second bind succeeds; then only one of
 * them can listen (Linux: inet_csk_bind_conflict at listen time). */
static void row_bind_reuseaddr_neither_listening(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in sa = sin4(o->server_addr, 0);
	int a = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	int b = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	uint16_t port;

	set_int(r, "reuseaddr a", a, SOL_SOCKET, SO_REUSEADDR, 1);
	set_int(r, "reuseaddr b", b, SOL_SOCKET, SO_REUSEADDR, 1);
	RC("bind a", o->bind(a, SA(&sa), sizeof(sa)));
	port = local_port(r, a);
	sa = sin4(o->server_addr, port);
	RC("bind b same port", o->bind(b, SA(&sa), sizeof(sa)));
	RC("listen a", o->listen(a, 4));
	RC("listen b", o->listen(b, 4));
	drop(r, a);
	drop(r, b);
}

/* A server restart: its side of a connection closed first (RFC 9293 §3.6: the active closer goes
 * through TIME-WAIT, holding the port), the listener closed; a new listener on the same port.
 * With SO_REUSEADDR on both the old listener and the new socket, socket(7) lets it bind; the
 * connection's state (FIN-WAIT or TIME-WAIT) does not matter, so the row is deterministic. */
static void timewait_rebind(struct run *r, bool reuse_new)
{
	const struct ops *o = r->o;
	struct sockaddr_in sa = sin4(o->server_addr, 0);
	int l = FD("listener", o->socket_server(AF_INET, SOCK_STREAM, 0));
	int c, s, n;
	uint16_t port;

	set_int(r, "reuseaddr", l, SOL_SOCKET, SO_REUSEADDR, 1);
	RC("bind", o->bind(l, SA(&sa), sizeof(sa)));
	RC("listen", o->listen(l, 4));
	port = local_port(r, l);
	bounded(r, l);
	sa = sin4(o->server_addr, port);
	c = FD("client socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	bounded(r, c);
	RC("connect", o->connect(c, SA(&sa), sizeof(sa)));
	s = FD("accept", o->accept(l, NULL, NULL));
	RC("server closes first", o->close(s));
	RC("listener closed", o->close(l));
	o->settle();
	RC("client close", o->close(c));
	o->settle();
	n = FD("new socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	if (reuse_new)
		set_int(r, "reuseaddr", n, SOL_SOCKET, SO_REUSEADDR, 1);
	RC("bind the old port", o->bind(n, SA(&sa), sizeof(sa)));
	drop(r, n);
}

static void row_bind_timewait_reuseaddr(struct run *r)
{
	timewait_rebind(r, true);
}

static void row_bind_timewait_no_reuseaddr(struct run *r)
{
	timewait_rebind(r, false);
}

/* bind(2) EADDRNOTAVAIL: "A nonexistent interface was requested or the requested address was not
 * local." (ip(7): unless IP_FREEBIND or ip_nonlocal_bind.) */
static void row_bind_nonlocal(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sin4(NONLOCAL_IP, 0);
	int t = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));

	RC("bind tcp nonlocal", o->bind(t, SA(&a), sizeof(a)));
	RC("bind udp nonlocal", o->bind(u, SA(&a), sizeof(a)));
	drop(r, t);
	drop(r, u);
}

/* bind(2) EINVAL: "addrlen is wrong" (shorter than a sockaddr_in). */
static void row_bind_short_addrlen(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sin4(o->client_addr, 0);
	int t = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));

	RC("bind tcp len 15", o->bind(t, SA(&a), sizeof(a) - 1));
	RC("bind udp len 2", o->bind(u, SA(&a), 2));
	drop(r, t);
	drop(r, u);
}

/* ip(7): "sin_family is always set to AF_INET"; bind(2) EAFNOSUPPORT for another family. Linux
 * accepts AF_UNSPEC with INADDR_ANY for compatibility (net/ipv4/af_inet.c "Compatibility games"),
 * and refuses it with any other address. */
static void row_bind_family(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sin4(o->client_addr, 0);
	int t = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int u = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));

	a.sin_family = AF_INET6;
	RC("bind family inet6", o->bind(t, SA(&a), sizeof(a)));
	a.sin_family = AF_UNSPEC;
	RC("bind family unspec addr", o->bind(t, SA(&a), sizeof(a)));
	a = sin4(INADDR_ANY, 0);
	a.sin_family = AF_UNSPEC;
	RC("bind family unspec any", o->bind(u, SA(&a), sizeof(a)));
	drop(r, t);
	drop(r, u);
}

/* bind(2) EINVAL "already bound": a connected socket got its address (an ephemeral port) at
 * connect time (RFC 9293 §3.10.1 OPEN picks the local port). */
static void row_bind_after_connect(struct run *r)
{
	struct sockaddr_in a = sin4(r->o->client_addr, 0);
	int c, s;

	tcp_conn(r, &c, &s);
	RC("bind connected", r->o->bind(c, SA(&a), sizeof(a)));
	drop(r, c);
	drop(r, s);
}

/* ================================ rows: connect() ================================ */

/* connect(2) ECONNREFUSED: "No-one listening on the remote address." (RFC 9293 §3.10.7.3: a RST
 * in SYN-SENT that acknowledges the SYN -> "connection reset"). SO_ERROR is then 0: the error was
 * reported by connect itself. */
static void row_connect_refused(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int hold = closed_tcp_port(r, &port);
	struct sockaddr_in a = sin4(o->server_addr, port);
	int c = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));

	bounded(r, c);
	RC("connect closed port", o->connect(c, SA(&a), sizeof(a)));
	so_error(r, "so_error", c);
	RC("connect again", o->connect(c, SA(&a), sizeof(a)));
	drop(r, c);
	drop(r, hold);
}

/* connect(2) EINPROGRESS: "The socket is nonblocking and the connection cannot be completed
 * immediately. ... select(2) or poll(2) for completion by selecting the socket for writing ...
 * use getsockopt(2) to read the SO_ERROR option". Reading SO_ERROR clears it (socket(7)). */
static void row_connect_refused_nonblock(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int hold = closed_tcp_port(r, &port);
	struct sockaddr_in a = sin4(o->server_addr, port);
	int c = FD("socket", o->socket_client(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));

	RC("connect closed port", o->connect(c, SA(&a), sizeof(a)));
	poll1(r, "poll out", c, POLLOUT, 2000);
	so_error(r, "so_error", c);
	so_error(r, "so_error again", c);
	drop(r, c);
	drop(r, hold);
}

/* connect(2) EISCONN: "The socket is already connected." */
static void row_connect_twice(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int c, s, l = tcp_conn_l(r, &c, &s, &port, true);
	struct sockaddr_in a = sin4(o->server_addr, port);

	RC("connect again", o->connect(c, SA(&a), sizeof(a)));
	drop(r, c);
	drop(r, s);
	drop(r, l);
}

/* connect(2) EALREADY: "The socket is nonblocking and a previous connection attempt has not yet
 * been completed." The attempt is kept in SYN-SENT by a listener whose accept queue is full
 * (listen(2): backlog 0; Linux queues backlog + 1 and drops further SYNs without an answer). */
static void row_connect_nonblock_twice(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int l = server_sock(r, SOCK_STREAM, 0, &port);
	struct sockaddr_in a = sin4(o->server_addr, port);
	int c1 = FD("client 1", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int c2 = FD("client 2", o->socket_client(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));

	bounded(r, c1);
	RC("connect 1 (fills the queue)", o->connect(c1, SA(&a), sizeof(a)));
	o->settle();
	RC("connect 2", o->connect(c2, SA(&a), sizeof(a)));
	RC("connect 2 again", o->connect(c2, SA(&a), sizeof(a)));
	poll1(r, "poll 2 out (still connecting)", c2, POLLOUT, 0);
	drop(r, c2);
	drop(r, c1);
	drop(r, l);
}

/* Non-blocking connect, completion seen by poll, then connect again: Linux answers 0 once (the
 * socket becomes "connected" in the socket layer, net/ipv4/af_inet.c __inet_stream_connect), then
 * EISCONN. Programs use the second connect to learn the outcome. */
static void row_connect_nonblock_completes(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int l = server_sock(r, SOCK_STREAM, 4, &port);
	struct sockaddr_in a = sin4(o->server_addr, port);
	int c = FD("client", o->socket_client(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));

	RC("connect", o->connect(c, SA(&a), sizeof(a)));
	poll1(r, "poll out", c, POLLOUT, 2000);
	so_error(r, "so_error", c);
	RC("connect again", o->connect(c, SA(&a), sizeof(a)));
	RC("connect a third time", o->connect(c, SA(&a), sizeof(a)));
	drop(r, c);
	drop(r, l);
}

/* connect(2) on a listening socket: Linux answers EISCONN (a socket not in CLOSED cannot connect,
 * net/ipv4/af_inet.c __inet_stream_connect; RFC 9293 §3.10.1: OPEN on a LISTEN connection that is
 * active is an error). */
static void row_connect_listening(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port, other;
	int hold = closed_tcp_port(r, &other);
	int l = server_sock(r, SOCK_STREAM, 4, &port);
	struct sockaddr_in a = sin4(o->server_addr, other);

	RC("connect listener", o->connect(l, SA(&a), sizeof(a)));
	drop(r, l);
	drop(r, hold);
}

/* connect(2) EINVAL for a short addrlen; EAFNOSUPPORT: "The passed address didn't have the correct
 * address family in its sa_family field." */
static void row_connect_bad_address(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int hold = closed_tcp_port(r, &port);
	struct sockaddr_in a = sin4(o->server_addr, port);
	int c = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));

	RC("connect len 8", o->connect(c, SA(&a), 8));
	a.sin_family = AF_INET6;
	RC("connect family inet6", o->connect(c, SA(&a), sizeof(a)));
	drop(r, c);
	drop(r, hold);
}

/* ================================ rows: listen() / accept() ================================ */

/* listen(2) EOPNOTSUPP: "The socket is not of a type that supports the listen() operation." */
static void row_listen_udp(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sin4(o->server_addr, 0);
	int u = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));

	RC("listen unbound", o->listen(u, 4));
	RC("bind", o->bind(u, SA(&a), sizeof(a)));
	RC("listen bound", o->listen(u, 4));
	drop(r, u);
}

/* listen(2) twice: Linux allows it (only the backlog changes); listen on a connected socket is
 * EINVAL (net/ipv4/af_inet.c inet_listen: the socket must be unconnected, in CLOSED or LISTEN). */
static void row_listen_twice_and_connected(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int c, s, l = tcp_conn_l(r, &c, &s, &port, true);

	RC("listen again", o->listen(l, 16));
	RC("listen connected client", o->listen(c, 4));
	RC("listen accepted", o->listen(s, 4));
	drop(r, c);
	drop(r, s);
	drop(r, l);
}

/* listen(2): "If the backlog argument is greater than the value in /proc/sys/net/core/somaxconn,
 * then it is silently capped"; Linux takes a negative backlog as such a large one (an unsigned
 * comparison in __sys_listen), so the call succeeds and the listener accepts. */
static void row_listen_negative_backlog(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int l = server_sock(r, SOCK_STREAM, -1, &port);
	struct sockaddr_in a = sin4(o->server_addr, port);
	int c = FD("client", o->socket_client(AF_INET, SOCK_STREAM, 0)), s;

	RC("listen -1", o->listen(l, -1));
	bounded(r, c);
	RC("connect", o->connect(c, SA(&a), sizeof(a)));
	s = FD("accept", o->accept(l, NULL, NULL));
	drop(r, s);
	drop(r, c);
	drop(r, l);
}

/* A connection reset by its client while it waits in the accept queue is still handed out by
 * accept (Linux keeps it queued; accept(2) ECONNABORTED is the BSD alternative); its first recv
 * reports the reset. */
static void row_accept_reset_pending(struct run *r)
{
	const struct ops *o = r->o;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	uint16_t port;
	int l = server_sock(r, SOCK_STREAM, 4, &port);
	struct sockaddr_in a = sin4(o->server_addr, port);
	int c = FD("client", o->socket_client(AF_INET, SOCK_STREAM, 0)), s;
	char buf[8];

	bounded(r, c);
	RC("connect", o->connect(c, SA(&a), sizeof(a)));
	RC("client linger 0", o->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	poll1(r, "listener pending", l, POLLIN, 2000);
	RC("client close (RST)", o->close(c));
	o->settle();
	RC("fcntl setfl nonblock", o->fcntl(l, F_SETFL, O_NONBLOCK));
	s = FD("accept", o->accept(l, NULL, NULL));
	if (s >= 0) {
		RC("recv", o->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
		RC("recv again", o->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	}
	drop(r, s);
	drop(r, l);
}

/* listen(2) without bind: the socket gets an ephemeral port (Linux: inet_autobind). */
static void row_listen_unbound(struct run *r)
{
	const struct ops *o = r->o;
	int l = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	RC("listen", o->listen(l, 4));
	memset(&a, 0, sizeof(a));
	if (RC("getsockname", o->getsockname(l, SA(&a), &len)) == 0)
		note_addr(r, "name", &a, len, INADDR_ANY, 0);
	drop(r, l);
}

/* accept(2) EINVAL: "Socket is not listening for connections". */
static void row_accept_not_listening(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int fd = server_sock(r, SOCK_STREAM, -1, &port);
	int f = FD("fresh socket", o->socket_server(AF_INET, SOCK_STREAM, 0));

	RC("accept bound", o->accept(fd, NULL, NULL));
	RC("accept fresh", o->accept(f, NULL, NULL));
	drop(r, fd);
	drop(r, f);
}

/* accept(2) EOPNOTSUPP: "The referenced socket is not of type SOCK_STREAM." */
static void row_accept_udp(struct run *r)
{
	uint16_t port;
	int u = server_sock(r, SOCK_DGRAM, -1, &port);

	RC("accept udp", r->o->accept(u, NULL, NULL));
	drop(r, u);
}

/* accept(2) EAGAIN: "The socket is marked nonblocking and no connections are present". */
static void row_accept_nonblock_empty(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int l = server_sock(r, SOCK_STREAM, 4, &port);

	RC("fcntl setfl nonblock", o->fcntl(l, F_SETFL, O_NONBLOCK));
	RC("accept", o->accept(l, NULL, NULL));
	drop(r, l);
}

/* accept(2): "addr is filled in with the address of the peer socket"; the accepted socket's own
 * name is the listener's address and port. */
static void row_accept_fills_peer(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port, cport;
	int l = server_sock(r, SOCK_STREAM, 4, &port);
	struct sockaddr_in a = sin4(o->server_addr, port), p;
	socklen_t len = sizeof(p);
	int c = FD("client", o->socket_client(AF_INET, SOCK_STREAM, 0)), s;

	bounded(r, c);
	RC("connect", o->connect(c, SA(&a), sizeof(a)));
	cport = local_port(r, c);
	memset(&p, 0, sizeof(p));
	s = FD("accept", o->accept(l, SA(&p), &len));
	note_addr(r, "accepted peer", &p, len, o->client_addr, cport);
	len = sizeof(p);
	memset(&p, 0, sizeof(p));
	if (RC("accepted getsockname", o->getsockname(s, SA(&p), &len)) == 0)
		note_addr(r, "accepted name", &p, len, o->server_addr, port);
	drop(r, s);
	drop(r, c);
	drop(r, l);
}

/* socket(7) SO_ACCEPTCONN: "whether this socket has been marked to accept connections with
 * listen(2)". */
static void row_so_acceptconn(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sin4(o->server_addr, 0);
	int l = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));

	opt_int(r, "acceptconn fresh", l, SOL_SOCKET, SO_ACCEPTCONN);
	RC("bind", o->bind(l, SA(&a), sizeof(a)));
	RC("listen", o->listen(l, 4));
	opt_int(r, "acceptconn listening", l, SOL_SOCKET, SO_ACCEPTCONN);
	drop(r, l);
}

/* recv(2) ENOTCONN on a listening socket: it has no connection of its own. */
static void row_recv_on_listener(struct run *r)
{
	uint16_t port;
	int l = server_sock(r, SOCK_STREAM, 4, &port);
	char buf[8];

	RC("recv listener", r->o->recv(l, buf, sizeof(buf), MSG_DONTWAIT));
	RC("send listener", r->o->send(l, "x", 1, MSG_NOSIGNAL));
	drop(r, l);
}

/* ================================ rows: TCP data ================================ */

/* The basic exchange: bytes sent one way arrive in order, then the other way (RFC 9293 §3.10.2/4). */
static void row_tcp_roundtrip(struct run *r)
{
	const struct ops *o = r->o;
	char buf[64];
	int c, s;
	long n;

	tcp_conn(r, &c, &s);
	RC("client send", o->send(c, "hello", 5, MSG_NOSIGNAL));
	n = RC("server recv", o->recv(s, buf, sizeof(buf), 0));
	note_bytes(r, "server got", buf, n, "hello", 5);
	RC("server send", o->send(s, "world!", 6, MSG_NOSIGNAL));
	n = RC("client recv", o->recv(c, buf, sizeof(buf), 0));
	note_bytes(r, "client got", buf, n, "world!", 6);
	drop(r, c);
	drop(r, s);
}

/* recv(2) EAGAIN: "The socket is marked nonblocking and the receive operation would block" - by
 * O_NONBLOCK or, for one call, MSG_DONTWAIT. */
static void row_recv_nonblock_empty(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	tcp_conn(r, &c, &s);
	RC("recv dontwait", o->recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	RC("fcntl setfl nonblock", o->fcntl(s, F_SETFL, O_NONBLOCK));
	RC("recv nonblocking", o->recv(s, buf, sizeof(buf), 0));
	drop(r, c);
	drop(r, s);
}

/* recv(2) ENOTCONN: "The socket is associated with a connection-oriented protocol and has not been
 * connected". */
static void row_recv_unconnected(struct run *r)
{
	int fd = FD("socket", r->o->socket_client(AF_INET, SOCK_STREAM, 0));
	char buf[8];

	RC("recv", r->o->recv(fd, buf, sizeof(buf), 0));
	RC("recv dontwait", r->o->recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	drop(r, fd);
}

/* send(2) on an unconnected stream socket: Linux answers EPIPE (sk_stream_wait_connect), and
 * MSG_NOSIGNAL keeps SIGPIPE away. */
static void row_send_unconnected(struct run *r)
{
	int fd = FD("socket", r->o->socket_client(AF_INET, SOCK_STREAM, 0));

	RC("send", r->o->send(fd, "x", 1, MSG_NOSIGNAL));
	drop(r, fd);
}

/* Zero-length recv and send on a connection return 0 at once, data or not (recv(2): "the value 0
 * may also be returned if the requested number of bytes to receive from a stream socket was 0");
 * the data stays queued. */
static void row_tcp_zero_length(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	tcp_conn(r, &c, &s);
	RC("recv 0 bytes, nothing queued", o->recv(s, buf, 0, 0));
	RC("send 0 bytes", o->send(c, buf, 0, MSG_NOSIGNAL));
	RC("send", o->send(c, "ab", 2, MSG_NOSIGNAL));
	o->settle();
	RC("recv 0 bytes, data queued", o->recv(s, buf, 0, 0));
	RC("recv", o->recv(s, buf, sizeof(buf), 0));
	drop(r, c);
	drop(r, s);
}

/* shutdown(2) SHUT_RDWR: both directions; recv reads end of stream, send is EPIPE, the peer reads
 * end of stream; shutting down again is accepted (the connection is not CLOSED yet). */
static void row_shutdown_rdwr(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	tcp_conn(r, &c, &s);
	RC("shutdown rdwr", o->shutdown(c, SHUT_RDWR));
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	RC("send", o->send(c, "x", 1, MSG_NOSIGNAL));
	RC("peer recv", o->recv(s, buf, sizeof(buf), 0));
	RC("shutdown again", o->shutdown(c, SHUT_RDWR));
	drop(r, c);
	drop(r, s);
}

/* send(2) EPIPE: "The local end has been shut down on a connection oriented socket." The peer
 * still sees the bytes sent before, then end of stream (RFC 9293 §3.10.4 CLOSE, half-close). */
static void row_send_after_shutdown_wr(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;
	long n;

	tcp_conn(r, &c, &s);
	RC("send", o->send(c, "ab", 2, MSG_NOSIGNAL));
	RC("shutdown wr", o->shutdown(c, SHUT_WR));
	RC("send after shutdown", o->send(c, "x", 1, MSG_NOSIGNAL));
	n = RC("peer recv", o->recv(s, buf, sizeof(buf), 0));
	note_bytes(r, "peer got", buf, n, "ab", 2);
	RC("peer recv eof", o->recv(s, buf, sizeof(buf), 0));
	drop(r, c);
	drop(r, s);
}

/* Half-close (RFC 9293 §3.6): after the client's FIN the server reads end of stream, and can still
 * send; the client still receives. */
static void row_half_close(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;
	long n;

	tcp_conn(r, &c, &s);
	RC("client shutdown wr", o->shutdown(c, SHUT_WR));
	RC("server recv eof", o->recv(s, buf, sizeof(buf), 0));
	RC("server send", o->send(s, "late", 4, MSG_NOSIGNAL));
	n = RC("client recv", o->recv(c, buf, sizeof(buf), 0));
	note_bytes(r, "client got", buf, n, "late", 4);
	RC("server close", o->close(s));
	RC("client recv eof", o->recv(c, buf, sizeof(buf), 0));
	drop(r, c);
}

/* recv(2): "When a stream socket peer has performed an orderly shutdown, the return value will be
 * 0 (the traditional 'end-of-file' return)", every time. */
static void row_recv_after_peer_close(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	tcp_conn(r, &c, &s);
	RC("peer close", o->close(s));
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	RC("recv again", o->recv(c, buf, sizeof(buf), 0));
	poll1(r, "poll in", c, POLLIN | POLLOUT, 0);
	drop(r, c);
}

/* A peer that aborts (socket(7) SO_LINGER with a zero timeout: close sends a RST, RFC 9293 §3.10.4
 * ABORT) makes the next recv fail with ECONNRESET (RFC 9293 §3.10.7.4: "connection reset"); the
 * error is reported once, then recv reads end of stream. */
static void row_recv_after_peer_reset(struct run *r)
{
	const struct ops *o = r->o;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[8];
	int c, s;

	tcp_conn(r, &c, &s);
	RC("peer linger 0", o->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	RC("peer close", o->close(s));
	o->settle();
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	RC("recv again", o->recv(c, buf, sizeof(buf), 0));
	drop(r, c);
}

/* send after the peer reset the connection: the pending error first (ECONNRESET), then EPIPE for a
 * connection that is gone (send(2) EPIPE, ECONNRESET "Connection reset by peer"). */
static void row_send_after_peer_reset(struct run *r)
{
	const struct ops *o = r->o;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int c, s;

	tcp_conn(r, &c, &s);
	RC("peer linger 0", o->setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	RC("peer close", o->close(s));
	o->settle();
	RC("send", o->send(c, "x", 1, MSG_NOSIGNAL));
	RC("send again", o->send(c, "x", 1, MSG_NOSIGNAL));
	drop(r, c);
}

/* Writing to a peer that has closed: the first send is accepted (we are in CLOSE-WAIT, RFC 9293
 * §3.10.2), the closed peer answers the data with a RST (RFC 9293 §3.10.7.4 / RFC 1122 §4.2.2.13),
 * and the RST in CLOSE-WAIT makes Linux report EPIPE (net/ipv4/tcp_input.c tcp_reset) while recv
 * still reads the end of stream it had. */
static void row_send_after_peer_close(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	tcp_conn(r, &c, &s);
	RC("peer close", o->close(s));
	o->settle();
	RC("send", o->send(c, "x", 1, MSG_NOSIGNAL));
	o->settle();
	RC("send again", o->send(c, "x", 1, MSG_NOSIGNAL));
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	drop(r, c);
}

/* socket(7) SO_LINGER {1, 0}: close aborts with a RST; the option reads back as set. The peer's
 * poll reports the error and hang-up, and its recv ECONNRESET. */
static void row_so_linger_zero(struct run *r)
{
	const struct ops *o = r->o;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 }, got;
	socklen_t len = sizeof(got);
	char buf[8];
	int c, s;

	tcp_conn(r, &c, &s);
	memset(&got, 0x55, sizeof(got));
	if (RC("get linger default", o->getsockopt(c, SOL_SOCKET, SO_LINGER, &got, &len)) == 0)
		note(r, "linger default: len %u onoff %d linger %d", (unsigned)len, got.l_onoff,
		     got.l_linger);
	RC("set linger 0", o->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	len = sizeof(got);
	if (RC("get linger", o->getsockopt(c, SOL_SOCKET, SO_LINGER, &got, &len)) == 0)
		note(r, "linger: len %u onoff %d linger %d", (unsigned)len, got.l_onoff, got.l_linger);
	RC("close", o->close(c));
	/* wait for the RST (POLLERR/POLLHUP are always reported), then look at everything */
	poll1(r, "peer poll in", s, POLLIN, 2000);
	poll1(r, "peer poll", s, POLLIN | POLLOUT | POLLRDHUP, 0);
	RC("peer recv", o->recv(s, buf, sizeof(buf), 0));
	drop(r, s);
}

/* RFC 2525 §2.17 / RFC 1122 §4.2.2.13: closing with unread received data sends a RST, not a FIN;
 * the peer's recv reports ECONNRESET. */
static void row_close_with_unread_data(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	tcp_conn(r, &c, &s);
	RC("server send", o->send(s, "unread", 6, MSG_NOSIGNAL));
	o->settle();
	RC("client close", o->close(c));
	o->settle();
	RC("server recv", o->recv(s, buf, sizeof(buf), 0));
	drop(r, s);
}

/* shutdown(2) SHUT_RD: "further receptions will be disallowed": recv reads end of stream. */
static void row_shutdown_rd(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	tcp_conn(r, &c, &s);
	RC("shutdown rd", o->shutdown(c, SHUT_RD));
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	RC("send still works", o->send(c, "x", 1, MSG_NOSIGNAL));
	RC("peer recv", o->recv(s, buf, sizeof(buf), 0));
	drop(r, c);
	drop(r, s);
}

/* recv(2) MSG_PEEK: "returns data from the beginning of the receive queue without removing that
 * data from the queue. Thus, a subsequent receive call will return the same data." */
static void row_msg_peek(struct run *r)
{
	const struct ops *o = r->o;
	char buf[16], buf2[16];
	int c, s;
	long n;

	tcp_conn(r, &c, &s);
	RC("send", o->send(c, "peekaboo", 8, MSG_NOSIGNAL));
	o->settle();
	n = RC("recv peek", o->recv(s, buf, sizeof(buf), MSG_PEEK));
	note_bytes(r, "peeked", buf, n, "peekaboo", 8);
	n = RC("recv", o->recv(s, buf2, sizeof(buf2), 0));
	note_bytes(r, "read", buf2, n, "peekaboo", 8);
	RC("recv empty", o->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	drop(r, c);
	drop(r, s);
}

struct sender {
	const struct ops *o;
	int fd;
	long ret[3];
	int err[3];
};

static void *sender_main(void *arg)
{
	struct sender *sd = arg;
	char chunk[100];

	for (int i = 0; i < 3; i++) {
		memset(chunk, 'a' + i, sizeof(chunk));
		nap_ms(30);
		sd->ret[i] = sd->o->send(sd->fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
		sd->err[i] = errno;
	}
	return NULL;
}

/* recv(2) MSG_WAITALL: "requests that the operation block until the full request is satisfied":
 * three 100-byte pieces sent 30 ms apart by another thread arrive as one 300-byte read. */
static void row_msg_waitall(struct run *r)
{
	const struct ops *o = r->o;
	struct sender sd = { .o = o };
	char buf[300], want[300];
	pthread_t th;
	int c, s;
	long n;

	tcp_conn(r, &c, &s);
	sd.fd = c;
	for (int i = 0; i < 300; i++)
		want[i] = (char)('a' + i / 100);
	ck_assert_int_eq(pthread_create(&th, NULL, sender_main, &sd), 0);
	n = RC("recv waitall", o->recv(s, buf, sizeof(buf), MSG_WAITALL));
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	for (int i = 0; i < 3; i++) {
		errno = sd.err[i];
		RC("send piece", sd.ret[i]);
	}
	note_bytes(r, "read", buf, n, want, 300);
	drop(r, c);
	drop(r, s);
}

/* sendmsg(2)/recvmsg(2) gather and scatter: three iovecs out, two in; for a stream socket
 * msg_namelen comes back 0 and msg_flags 0. */
static void row_sendmsg_recvmsg_iov(struct run *r)
{
	const struct ops *o = r->o;
	char p1[] = "abc", p2[] = "defg", p3[] = "hijkl", in1[5], in2[10];
	struct iovec out[3] = { { p1, 3 }, { p2, 4 }, { p3, 5 } }, in[2] = { { in1, 5 }, { in2, 10 } };
	struct sockaddr_in name;
	struct msghdr m;
	char all[15];
	int c, s;
	long n;

	tcp_conn(r, &c, &s);
	memset(&m, 0, sizeof(m));
	m.msg_iov = out;
	m.msg_iovlen = 3;
	RC("sendmsg", o->sendmsg(c, &m, MSG_NOSIGNAL));
	o->settle();
	memset(&m, 0, sizeof(m));
	m.msg_name = &name;
	m.msg_namelen = sizeof(name);
	m.msg_iov = in;
	m.msg_iovlen = 2;
	m.msg_flags = 0x5a5a;
	n = RC("recvmsg", o->recvmsg(s, &m, 0));
	note(r, "recvmsg: namelen %u flags 0x%x", (unsigned)m.msg_namelen, (unsigned)m.msg_flags);
	memcpy(all, in1, 5);
	memcpy(all + 5, in2, 10);
	note_bytes(r, "scattered", all, n, "abcdefghijkl", 12);
	drop(r, c);
	drop(r, s);
}

/* ================================ rows: shutdown() and names ================================ */

/* shutdown(2) ENOTCONN: "The specified socket is not connected." */
static void row_shutdown_unconnected(struct run *r)
{
	int fd = FD("socket", r->o->socket_client(AF_INET, SOCK_STREAM, 0));

	RC("shutdown rdwr", r->o->shutdown(fd, SHUT_RDWR));
	RC("shutdown wr", r->o->shutdown(fd, SHUT_WR));
	drop(r, fd);
}

/* shutdown(2) EINVAL: "An invalid value was specified in how" - checked before the state. */
static void row_shutdown_bad_how(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int c, s;

	RC("shutdown unconnected how 3", o->shutdown(fd, 3));
	RC("shutdown unconnected how -1", o->shutdown(fd, -1));
	tcp_conn(r, &c, &s);
	RC("shutdown connected how 3", o->shutdown(c, 3));
	RC("shutdown connected how 42", o->shutdown(c, 42));
	drop(r, fd);
	drop(r, c);
	drop(r, s);
}

/* getpeername(2) ENOTCONN: "The socket is not connected." (TCP fresh, bound, listening; UDP.) */
static void row_getpeername_unconnected(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	uint16_t port;
	int t = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int l = server_sock(r, SOCK_STREAM, 4, &port);
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));

	RC("getpeername fresh", o->getpeername(t, SA(&a), &len));
	len = sizeof(a);
	RC("getpeername listening", o->getpeername(l, SA(&a), &len));
	len = sizeof(a);
	RC("getpeername udp", o->getpeername(u, SA(&a), &len));
	drop(r, t);
	drop(r, l);
	drop(r, u);
}

/* getsockname(2) of a fresh socket: the unspecified address and port 0; after bind to port 0 "a
 * free port is assigned" (ip(7)) and reported. */
static void row_getsockname(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sin4(o->server_addr, 0), got;
	socklen_t len = sizeof(got);
	int t = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	int u = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));

	memset(&got, 0x55, sizeof(got));
	if (RC("getsockname fresh", o->getsockname(t, SA(&got), &len)) == 0)
		note_addr(r, "fresh", &got, len, INADDR_ANY, 0);
	RC("bind port 0", o->bind(t, SA(&a), sizeof(a)));
	len = sizeof(got);
	if (RC("getsockname bound", o->getsockname(t, SA(&got), &len)) == 0)
		note_addr(r, "bound", &got, len, o->server_addr, 0);
	RC("udp bind port 0", o->bind(u, SA(&a), sizeof(a)));
	len = sizeof(got);
	if (RC("udp getsockname", o->getsockname(u, SA(&got), &len)) == 0)
		note_addr(r, "udp bound", &got, len, o->server_addr, 0);
	drop(r, t);
	drop(r, u);
}

/* getsockname(2): "The returned address is truncated if the buffer provided is too small; in this
 * case, addrlen will return a value greater than was supplied to the call." */
static void row_getsockname_short_buffer(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int t = server_sock(r, SOCK_STREAM, -1, &port);
	unsigned char buf[16];
	sa_family_t family;
	socklen_t len = 4;

	memset(buf, 0xee, sizeof(buf));
	RC("getsockname len 4", o->getsockname(t, (struct sockaddr *)buf, &len));
	memcpy(&family, buf, sizeof(family));
	note(r, "len %u, bytes past 4 untouched %d, family %d", (unsigned)len,
	     buf[4] == 0xee && buf[15] == 0xee, family);
	drop(r, t);
}

/* The names of a connection: each end's getsockname is the other's getpeername. */
static void row_names_connected(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a;
	socklen_t len;
	uint16_t port, cport;
	int c, s, l = tcp_conn_l(r, &c, &s, &port, true);

	cport = local_port(r, c);
	len = sizeof(a);
	if (RC("client getpeername", o->getpeername(c, SA(&a), &len)) == 0)
		note_addr(r, "client peer", &a, len, o->server_addr, port);
	len = sizeof(a);
	if (RC("client getsockname", o->getsockname(c, SA(&a), &len)) == 0)
		note_addr(r, "client name", &a, len, o->client_addr, cport);
	len = sizeof(a);
	if (RC("server getpeername", o->getpeername(s, SA(&a), &len)) == 0)
		note_addr(r, "server peer", &a, len, o->client_addr, cport);
	drop(r, c);
	drop(r, s);
	drop(r, l);
}

/* ================================ rows: bad descriptors ================================ */

/* EBADF for close(2): "fd isn't a valid open file descriptor": -1, one just closed, a huge one. */
static void row_ebadf_close(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));

	RC("close", o->close(fd));
	RC("close -1", o->close(-1));
	RC("close closed", o->close(fd));
	RC("close huge", o->close(HUGE_FD));
}

/* EBADF from every call given something that is not a descriptor (send(2), recv(2), bind(2),
 * getsockopt(2), ... "sockfd is not a valid open file descriptor"); poll(2) reports POLLNVAL. */
static void row_ebadf_calls(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sin4(o->client_addr, 0);
	socklen_t len = sizeof(a);
	char buf[8];
	int v, closed = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	socklen_t vl = sizeof(v);
	struct pollfd p = { .fd = closed, .events = POLLIN };
	char ev[64];

	RC("close", o->close(closed));
	RC("send -1", o->send(-1, "x", 1, MSG_NOSIGNAL));
	RC("recv closed", o->recv(closed, buf, sizeof(buf), MSG_DONTWAIT));
	RC("bind huge", o->bind(HUGE_FD, SA(&a), sizeof(a)));
	RC("getsockopt -1", o->getsockopt(-1, SOL_SOCKET, SO_TYPE, &v, &vl));
	RC("setsockopt closed", o->setsockopt(closed, SOL_SOCKET, SO_TYPE, &v, sizeof(v)));
	RC("listen closed", o->listen(closed, 1));
	RC("accept huge", o->accept(HUGE_FD, NULL, NULL));
	RC("connect closed", o->connect(closed, SA(&a), sizeof(a)));
	RC("shutdown -1", o->shutdown(-1, SHUT_RDWR));
	RC("getsockname closed", o->getsockname(closed, SA(&a), &len));
	RC("getpeername huge", o->getpeername(HUGE_FD, SA(&a), &len));
	RC("fcntl closed", o->fcntl(closed, F_GETFL, 0));
	RC("sendto huge", o->sendto(HUGE_FD, "x", 1, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	RC("poll closed", o->poll(&p, 1, 0));
	revents_str(p.revents, ev, sizeof(ev));
	note(r, "revents %s", ev);
}

/* ================================ rows: options ================================ */

/* getsockopt(2)/setsockopt(2) ENOPROTOOPT: "The option is unknown at the level indicated." */
static void row_sockopt_unknown(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int v = 1;
	socklen_t len = sizeof(v);

	RC("getsockopt sol_socket 12345", o->getsockopt(fd, SOL_SOCKET, 12345, &v, &len));
	len = sizeof(v);
	RC("getsockopt ipproto_tcp 12345", o->getsockopt(fd, IPPROTO_TCP, 12345, &v, &len));
	RC("setsockopt sol_socket 12345", o->setsockopt(fd, SOL_SOCKET, 12345, &v, sizeof(v)));
	RC("setsockopt ipproto_tcp 12345", o->setsockopt(fd, IPPROTO_TCP, 12345, &v, sizeof(v)));
	drop(r, fd);
}

/* setsockopt(2) EINVAL: "optlen invalid" - an int option given fewer than sizeof(int) bytes. */
static void row_setsockopt_short_optlen(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int v = 1;

	RC("reuseaddr optlen 2", o->setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, 2));
	RC("keepalive optlen 0", o->setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, 0));
	RC("nodelay optlen 3", o->setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, 3));
	drop(r, fd);
}

/* getsockopt(2) with a short optlen: Linux copies what fits and sets optlen to it (net/core/sock.c
 * sk_getsockopt, net/ipv4/tcp.c do_tcp_getsockopt); a negative one is EINVAL. */
static void row_getsockopt_short_optlen(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	unsigned char v[4];
	socklen_t len = 2;

	memset(v, 0xee, sizeof(v));
	if (RC("so_type optlen 2", o->getsockopt(fd, SOL_SOCKET, SO_TYPE, v, &len)) == 0)
		note(r, "so_type: len %u bytes %02x %02x %02x %02x", (unsigned)len, v[0], v[1], v[2], v[3]);
	len = 1;
	memset(v, 0xee, sizeof(v));
	if (RC("nodelay optlen 1", o->getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, v, &len)) == 0)
		note(r, "nodelay: len %u bytes %02x %02x", (unsigned)len, v[0], v[1]);
	len = (socklen_t)-1;
	RC("so_type optlen -1", o->getsockopt(fd, SOL_SOCKET, SO_TYPE, v, &len));
	drop(r, fd);
}

/* socket(7) SO_ERROR on a fresh socket: no pending error; SO_TYPE, SO_DOMAIN, SO_PROTOCOL. */
static void row_so_error_type(struct run *r)
{
	const struct ops *o = r->o;
	int t = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));

	so_error(r, "so_error tcp", t);
	so_error(r, "so_error udp", u);
	opt_int(r, "so_type tcp", t, SOL_SOCKET, SO_TYPE);
	opt_int(r, "so_type udp", u, SOL_SOCKET, SO_TYPE);
	opt_int(r, "so_domain", t, SOL_SOCKET, SO_DOMAIN);
	opt_int(r, "so_protocol tcp", t, SOL_SOCKET, SO_PROTOCOL);
	opt_int(r, "so_protocol udp", u, SOL_SOCKET, SO_PROTOCOL);
	drop(r, t);
	drop(r, u);
}

/* SO_RCVBUF/SO_SNDBUF set then get, compared as a relation: what a portable program may rely on
 * is that it gets at least what it asked for (POSIX leaves the value to the implementation). The
 * exact doubling is pinned separately below. */
static void row_so_bufs_at_least(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0)), v;

	set_int(r, "set rcvbuf 65536", fd, SOL_SOCKET, SO_RCVBUF, 65536);
	set_int(r, "set sndbuf 65536", fd, SOL_SOCKET, SO_SNDBUF, 65536);
	{
		socklen_t len = sizeof(v);

		v = 0;
		RC("get rcvbuf", o->getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len));
		note(r, "rcvbuf >= asked: %d", v >= 65536);
		len = sizeof(v);
		v = 0;
		RC("get sndbuf", o->getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len));
		note(r, "sndbuf >= asked: %d", v >= 65536);
	}
	drop(r, fd);
}

/* socket(7) SO_RCVBUF: "The kernel doubles this value (to allow space for bookkeeping overhead)
 * when it is set using setsockopt(2), and this doubled value is returned by getsockopt(2)." Same
 * for SO_SNDBUF. A program ported from Linux may print or compute with it. */
static void row_so_bufs_doubled(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0)), v;
	socklen_t len = sizeof(v);

	set_int(r, "set rcvbuf 32768", fd, SOL_SOCKET, SO_RCVBUF, 32768);
	set_int(r, "set sndbuf 40000", fd, SOL_SOCKET, SO_SNDBUF, 40000);
	v = 0;
	RC("get rcvbuf", o->getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len));
	note(r, "rcvbuf: %s", v == 65536 ? "doubled" : v == 32768 ? "as set" : "other");
	len = sizeof(v);
	v = 0;
	RC("get sndbuf", o->getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len));
	note(r, "sndbuf: %s", v == 80000 ? "doubled" : v == 40000 ? "as set" : "other");
	drop(r, fd);
}

/* tcp(7) TCP_NODELAY: off by default; reads back as 0/1 whatever non-zero value was set. */
static void row_tcp_nodelay(struct run *r)
{
	int fd = FD("socket", r->o->socket_client(AF_INET, SOCK_STREAM, 0));

	opt_int(r, "nodelay default", fd, IPPROTO_TCP, TCP_NODELAY);
	set_int(r, "set nodelay 5", fd, IPPROTO_TCP, TCP_NODELAY, 5);
	opt_int(r, "nodelay", fd, IPPROTO_TCP, TCP_NODELAY);
	set_int(r, "set nodelay 0", fd, IPPROTO_TCP, TCP_NODELAY, 0);
	opt_int(r, "nodelay", fd, IPPROTO_TCP, TCP_NODELAY);
	drop(r, fd);
}

/* tcp(7) TCP_MAXSEG: before the connection, the default of 536 (RFC 9293 §3.7.1 / RFC 1122
 * §4.2.2.6: the MSS assumed when none is known); on a connection, the MSS in use, compared as a
 * relation because each side's link differs: between 536 and MTU - 40 (RFC 9293 §3.7.1; RFC 879).
 * A tighter relation does not hold on Linux: over lo (MTU 65536) it reports 32741, the MSS bounded
 * to half the largest window the peer offered (net/ipv4/tcp_output.c tcp_bound_to_half_wnd). */
static void row_tcp_maxseg(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0)), c, s, mss;
	uint32_t top = (o->link_mtu > 65535 ? 65535 : o->link_mtu) - 40;
	socklen_t len = sizeof(mss);

	opt_int(r, "maxseg unconnected", fd, IPPROTO_TCP, TCP_MAXSEG);
	tcp_conn(r, &c, &s);
	mss = 0;
	RC("maxseg client", o->getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &mss, &len));
	note(r, "client mss in [536, mtu-40]: %d", mss >= 536 && (uint32_t)mss <= top);
	mss = 0;
	len = sizeof(mss);
	RC("maxseg server", o->getsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &mss, &len));
	note(r, "server mss in [536, mtu-40]: %d", mss >= 536 && (uint32_t)mss <= top);
	drop(r, fd);
	drop(r, c);
	drop(r, s);
}

/* socket(7) SO_KEEPALIVE, SO_REUSEADDR: boolean options, off by default, read back as set. */
static void row_bool_options(struct run *r)
{
	int fd = FD("socket", r->o->socket_client(AF_INET, SOCK_STREAM, 0));

	opt_int(r, "keepalive default", fd, SOL_SOCKET, SO_KEEPALIVE);
	set_int(r, "set keepalive", fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	opt_int(r, "keepalive", fd, SOL_SOCKET, SO_KEEPALIVE);
	opt_int(r, "reuseaddr default", fd, SOL_SOCKET, SO_REUSEADDR);
	set_int(r, "set reuseaddr 7", fd, SOL_SOCKET, SO_REUSEADDR, 7);
	opt_int(r, "reuseaddr", fd, SOL_SOCKET, SO_REUSEADDR);
	drop(r, fd);
}

/* socket(7) SO_RCVTIMEO: "If a blocking receive call times out ... -1 with errno set to EAGAIN";
 * the timeout reads back as set. */
static void row_so_rcvtimeo(struct run *r)
{
	const struct ops *o = r->o;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 }, got;
	socklen_t len = sizeof(got);
	struct timespec t0;
	char buf[8];
	long ms;
	int c, s;

	tcp_conn(r, &c, &s);
	RC("set rcvtimeo 200ms", o->setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	memset(&got, 0, sizeof(got));
	if (RC("get rcvtimeo", o->getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &got, &len)) == 0)
		note(r, "rcvtimeo: len %u %ld s %ld us", (unsigned)len, (long)got.tv_sec, (long)got.tv_usec);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	ms = elapsed_ms(&t0);
	note(r, "waited 150..1500 ms: %d", ms >= 150 && ms <= 1500);
	drop(r, c);
	drop(r, s);
}

/* socket(7) SO_SNDTIMEO reads back as set. */
static void row_so_sndtimeo(struct run *r)
{
	const struct ops *o = r->o;
	struct timeval tv = { .tv_sec = 1, .tv_usec = 500000 }, got;
	socklen_t len = sizeof(got);
	int fd = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));

	memset(&got, 0x55, sizeof(got));
	if (RC("get sndtimeo default", o->getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &got, &len)) == 0)
		note(r, "sndtimeo: len %u %ld s %ld us", (unsigned)len, (long)got.tv_sec, (long)got.tv_usec);
	RC("set sndtimeo 1.5 s", o->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	len = sizeof(got);
	if (RC("get sndtimeo", o->getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &got, &len)) == 0)
		note(r, "sndtimeo: len %u %ld s %ld us", (unsigned)len, (long)got.tv_sec, (long)got.tv_usec);
	tv.tv_usec = 1000000;
	RC("set sndtimeo usec 1000000", o->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	drop(r, fd);
}

static const char *tcp_state_name(int st)
{
	static const char *const names[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
					     "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK",
					     "LISTEN", "CLOSING" };

	return st >= 0 && st < (int)(sizeof(names) / sizeof(names[0])) ? names[st] : "?";
}

static void tcp_state(struct run *r, const char *what, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (rec(r, what, r->o->getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), REC_NUM) == 0)
		note(r, "%s: len %s state %s", what, len == sizeof(ti) ? "full" : "short",
		     tcp_state_name(ti.tcpi_state));
}

/* tcp(7) TCP_INFO: tcpi_state follows RFC 9293 §3.3.2's states (with Linux's numbering): CLOSED
 * for a fresh socket, LISTEN, ESTABLISHED on both ends, CLOSE-WAIT after the peer's FIN, and
 * FIN-WAIT-2 for the peer once its FIN is acknowledged. */
static void row_tcp_info_state(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int f = FD("fresh socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int c, s, l;

	tcp_state(r, "fresh", f);
	l = tcp_conn_l(r, &c, &s, &port, true);
	tcp_state(r, "listener", l);
	tcp_state(r, "client", c);
	tcp_state(r, "server", s);
	RC("server shutdown wr", o->shutdown(s, SHUT_WR));
	o->settle();
	tcp_state(r, "client after fin", c);
	tcp_state(r, "server after fin", s);
	drop(r, f);
	drop(r, c);
	drop(r, s);
	drop(r, l);
}

/* ================================ rows: UDP ================================ */

/* udp(7)/send(2) EDESTADDRREQ: "The socket is not connection-mode, and no peer address is set." */
static void row_udp_no_destination(struct run *r)
{
	const struct ops *o = r->o;
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));

	RC("send", o->send(u, "x", 1, MSG_NOSIGNAL));
	RC("sendto null", o->sendto(u, "x", 1, MSG_NOSIGNAL, NULL, 0));
	drop(r, u);
}

/* udp(7) EMSGSIZE: a datagram of more than 65,507 bytes of data does not fit an IPv4 datagram
 * (RFC 791: total length 65,535, less 20 + 8 bytes of headers); 65,507 bytes go through (in
 * fragments where the MTU is smaller, RFC 791 §2.3) and arrive whole. */
static void row_udp_max_size(struct run *r)
{
	const struct ops *o = r->o;
	static char big[65508], in[65600];
	uint16_t sport, cport;
	int u, s;
	struct sockaddr_in a;
	long n;

	udp_pair(r, &u, &s, &sport, &cport);
	a = sin4(o->server_addr, sport);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	RC("sendto 65508", o->sendto(u, big, 65508, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	RC("sendto 65507", o->sendto(u, big, 65507, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	n = RC("recv", o->recv(s, in, sizeof(in), 0));
	note_bytes(r, "received", in, n, big, 65507);
	drop(r, u);
	drop(r, s);
}

/* A connected UDP socket learns of a closed port from ICMP port unreachable (RFC 1122 §4.1.3.3:
 * UDP must pass ICMP errors up; udp(7): "ECONNREFUSED No receiver was associated with the
 * destination address" for connected sockets); the error is reported once. */
static void row_udp_connect_refused(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port = closed_udp_port(r);
	struct sockaddr_in a = sin4(o->server_addr, port);
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));
	char buf[8];

	RC("connect", o->connect(u, SA(&a), sizeof(a)));
	RC("send", o->send(u, "ping", 4, MSG_NOSIGNAL));
	o->settle();
	RC("recv", o->recv(u, buf, sizeof(buf), MSG_DONTWAIT));
	RC("recv again", o->recv(u, buf, sizeof(buf), MSG_DONTWAIT));
	drop(r, u);
}

/* The ICMP error on a connected UDP socket is also readable as SO_ERROR (socket(7): "Get and clear
 * the pending socket error"), after which recv has nothing to report. */
static void row_udp_refused_so_error(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port = closed_udp_port(r);
	struct sockaddr_in a = sin4(o->server_addr, port);
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));
	char buf[8];

	RC("connect", o->connect(u, SA(&a), sizeof(a)));
	RC("send", o->send(u, "ping", 4, MSG_NOSIGNAL));
	o->settle();
	poll1(r, "poll after icmp", u, POLLIN | POLLOUT, 0);
	so_error(r, "so_error", u);
	so_error(r, "so_error again", u);
	RC("recv", o->recv(u, buf, sizeof(buf), MSG_DONTWAIT));
	drop(r, u);
}

/* recvfrom(2): "src_addr ... is filled in with the source address"; addrlen is its size. */
static void row_udp_recvfrom_source(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t sport, cport;
	struct sockaddr_in a, from;
	socklen_t len = sizeof(from);
	char buf[16];
	int u, s;
	long n;

	udp_pair(r, &u, &s, &sport, &cport);
	a = sin4(o->server_addr, sport);
	RC("sendto", o->sendto(u, "datagram", 8, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	memset(&from, 0x55, sizeof(from));
	n = RC("recvfrom", o->recvfrom(s, buf, sizeof(buf), 0, SA(&from), &len));
	note_bytes(r, "received", buf, n, "datagram", 8);
	note_addr(r, "from", &from, len, o->client_addr, cport);
	RC("reply", o->sendto(s, "back", 4, MSG_NOSIGNAL, SA(&from), len));
	n = RC("client recv", o->recv(u, buf, sizeof(buf), 0));
	note_bytes(r, "reply received", buf, n, "back", 4);
	drop(r, u);
	drop(r, s);
}

/* udp(7)/recv(2): a datagram longer than the buffer is truncated and the rest discarded; with
 * MSG_TRUNC recv returns "the real length of the packet or datagram, even when it was longer than
 * the passed buffer"; recvmsg sets MSG_TRUNC in msg_flags. */
static void row_udp_truncation(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t sport, cport;
	struct sockaddr_in a;
	struct iovec iov;
	struct msghdr m;
	char buf[4];
	int u, s;
	long n;

	udp_pair(r, &u, &s, &sport, &cport);
	a = sin4(o->server_addr, sport);
	RC("sendto 10", o->sendto(u, "0123456789", 10, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	n = RC("recv 4", o->recv(s, buf, sizeof(buf), 0));
	note_bytes(r, "head", buf, n, "0123", 4);
	RC("rest discarded", o->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	RC("sendto 10", o->sendto(u, "abcdefghij", 10, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	RC("recv 4 msg_trunc", o->recv(s, buf, sizeof(buf), MSG_TRUNC));
	RC("sendto 10", o->sendto(u, "ABCDEFGHIJ", 10, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	RC("recvmsg 4", o->recvmsg(s, &m, 0));
	note(r, "msg_flags trunc %d ctrunc %d", (m.msg_flags & MSG_TRUNC) != 0,
	     (m.msg_flags & MSG_CTRUNC) != 0);
	drop(r, u);
	drop(r, s);
}

/* MSG_PEEK on a datagram socket leaves the datagram queued; a zero-length datagram is a datagram
 * (udp(7): recv returns 0 for it). */
static void row_udp_peek_and_empty(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t sport, cport;
	struct sockaddr_in a;
	char buf[16];
	int u, s;
	long n;

	udp_pair(r, &u, &s, &sport, &cport);
	a = sin4(o->server_addr, sport);
	RC("sendto", o->sendto(u, "peek", 4, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	RC("sendto empty", o->sendto(u, "", 0, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	n = RC("recv peek", o->recv(s, buf, sizeof(buf), MSG_PEEK));
	note_bytes(r, "peeked", buf, n, "peek", 4);
	n = RC("recv", o->recv(s, buf, sizeof(buf), 0));
	note_bytes(r, "read", buf, n, "peek", 4);
	RC("recv empty datagram", o->recv(s, buf, sizeof(buf), 0));
	RC("recv nothing left", o->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	drop(r, u);
	drop(r, s);
}

/* connect(2) on UDP: the peer is set (getpeername); "connectionless sockets may dissolve the
 * association by connecting to an address with the sa_family member of sockaddr set to
 * AF_UNSPEC". A connected UDP socket receives only from its peer (udp(7)). */
static void row_udp_connect_filter_and_unspec(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t sport, cport;
	struct sockaddr_in a, p, un;
	socklen_t len = sizeof(p);
	int u, s, other;
	char buf[8];

	udp_pair(r, &u, &s, &sport, &cport);
	a = sin4(o->client_addr, cport);
	RC("server connect to client", o->connect(s, SA(&a), sizeof(a)));
	if (RC("getpeername", o->getpeername(s, SA(&p), &len)) == 0)
		note_addr(r, "peer", &p, len, o->client_addr, cport);
	other = FD("other client", o->socket_client(AF_INET, SOCK_DGRAM, 0));
	a = sin4(o->server_addr, sport);
	RC("other sendto server", o->sendto(other, "no", 2, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	RC("client sendto server", o->sendto(u, "yes", 3, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	o->settle();
	RC("server recv (only the peer's)", o->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	RC("server recv nothing more", o->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	memset(&un, 0, sizeof(un));
	un.sin_family = AF_UNSPEC;
	RC("connect unspec", o->connect(s, SA(&un), sizeof(un)));
	len = sizeof(p);
	RC("getpeername after", o->getpeername(s, SA(&p), &len));
	drop(r, other);
	drop(r, u);
	drop(r, s);
}

/* ================================ rows: fcntl() and poll() ================================ */

/* fcntl(2) F_GETFL/F_SETFL: a socket is open for reading and writing; O_NONBLOCK set and cleared. */
static void note_flags(struct run *r, const char *what, long fl)
{
	if (fl < 0)
		return;
	note(r, "%s: %s%s%s", what,
	     (fl & O_ACCMODE) == O_RDWR ? "RDWR" : (fl & O_ACCMODE) == O_WRONLY ? "WRONLY" : "RDONLY",
	     (fl & O_NONBLOCK) ? "|NONBLOCK" : "", (fl & ~(long)(O_ACCMODE | O_NONBLOCK)) ? "|other" : "");
}

static void row_fcntl_flags(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));

	note_flags(r, "flags", RC("getfl", o->fcntl(fd, F_GETFL, 0)));
	RC("setfl nonblock", o->fcntl(fd, F_SETFL, O_NONBLOCK));
	note_flags(r, "flags", RC("getfl", o->fcntl(fd, F_GETFL, 0)));
	RC("setfl 0", o->fcntl(fd, F_SETFL, 0));
	note_flags(r, "flags", RC("getfl", o->fcntl(fd, F_GETFL, 0)));
	drop(r, fd);
}

/* fcntl(2) EINVAL: "The value specified in cmd is not recognized by this kernel." */
static void row_fcntl_bad_cmd(struct run *r)
{
	int fd = FD("socket", r->o->socket_client(AF_INET, SOCK_STREAM, 0));

	RC("fcntl 9999", r->o->fcntl(fd, 9999, 0));
	drop(r, fd);
}

/* poll(2) on fresh sockets: a TCP socket that is not connected is writable and hung up (Linux
 * tcp_poll: CLOSED -> POLLHUP), a UDP socket writable; a negative fd is ignored. */
static void row_poll_fresh(struct run *r)
{
	const struct ops *o = r->o;
	int t = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));
	struct pollfd p = { .fd = -1, .events = POLLIN | POLLOUT, .revents = POLLIN };
	char ev[64];

	poll1(r, "poll tcp", t, POLLIN | POLLOUT, 0);
	poll1(r, "poll udp", u, POLLIN | POLLOUT, 0);
	RC("poll fd -1", o->poll(&p, 1, 0));
	revents_str(p.revents, ev, sizeof(ev));
	note(r, "revents %s", ev);
	drop(r, t);
	drop(r, u);
}

/* poll(2) on a listening socket: POLLIN once a connection is ready to be accepted (accept(2)). */
static void row_poll_listener(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int l = server_sock(r, SOCK_STREAM, 4, &port);
	struct sockaddr_in a = sin4(o->server_addr, port);
	int c = FD("client", o->socket_client(AF_INET, SOCK_STREAM, 0)), s;

	poll1(r, "poll listener empty", l, POLLIN | POLLOUT, 0);
	bounded(r, c);
	RC("connect", o->connect(c, SA(&a), sizeof(a)));
	poll1(r, "poll listener pending", l, POLLIN | POLLOUT, 2000);
	s = FD("accept", o->accept(l, NULL, NULL));
	poll1(r, "poll listener drained", l, POLLIN, 0);
	drop(r, s);
	drop(r, c);
	drop(r, l);
}

/* poll(2) on a connection: writable at once; readable when data came; POLLIN|POLLRDHUP on the
 * peer's FIN (poll(2) POLLRDHUP: "Stream socket peer closed connection, or shut down writing"). */
static void row_poll_connected(struct run *r)
{
	const struct ops *o = r->o;
	int c, s;
	char buf[8];

	tcp_conn(r, &c, &s);
	poll1(r, "poll idle", c, POLLIN | POLLOUT | POLLRDHUP, 0);
	RC("peer send", o->send(s, "x", 1, MSG_NOSIGNAL));
	poll1(r, "poll data", c, POLLIN | POLLRDHUP, 2000);
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	RC("peer shutdown wr", o->shutdown(s, SHUT_WR));
	poll1(r, "wait fin", c, POLLRDHUP, 2000);
	poll1(r, "poll fin", c, POLLIN | POLLOUT | POLLRDHUP, 0);
	RC("shutdown wr", o->shutdown(c, SHUT_WR));
	o->settle();
	poll1(r, "poll both closed", c, POLLIN | POLLOUT | POLLRDHUP, 0);
	drop(r, c);
	drop(r, s);
}

static const struct row rows[] = {
	{ "socket_kinds", row_socket_kinds },
	{ "socket_bad_family", row_socket_bad_family },
	{ "socket_bad_type", row_socket_bad_type },
	{ "socket_type_protocol_mismatch", row_socket_type_protocol_mismatch },
	{ "socket_nonblock_flag", row_socket_nonblock_flag },
	{ "bind_twice", row_bind_twice },
	{ "bind_port_in_use", row_bind_port_in_use },
	{ "bind_udp_port_in_use", row_bind_udp_port_in_use },
	{ "bind_udp_reuseaddr", row_bind_udp_reuseaddr },
	{ "bind_reuseaddr_listening", row_bind_reuseaddr_listening },
	{ "bind_reuseaddr_neither_listening", row_bind_reuseaddr_neither_listening },
	{ "bind_timewait_reuseaddr", row_bind_timewait_reuseaddr },
	{ "bind_timewait_no_reuseaddr", row_bind_timewait_no_reuseaddr },
	{ "bind_nonlocal", row_bind_nonlocal },
	{ "bind_short_addrlen", row_bind_short_addrlen },
	{ "bind_family", row_bind_family },
	{ "bind_after_connect", row_bind_after_connect },
	{ "connect_refused", row_connect_refused },
	{ "connect_refused_nonblock", row_connect_refused_nonblock },
	{ "connect_twice", row_connect_twice },
	{ "connect_nonblock_twice", row_connect_nonblock_twice },
	{ "connect_nonblock_completes", row_connect_nonblock_completes },
	{ "connect_listening", row_connect_listening },
	{ "connect_bad_address", row_connect_bad_address },
	{ "listen_udp", row_listen_udp },
	{ "listen_twice_and_connected", row_listen_twice_and_connected },
	{ "listen_unbound", row_listen_unbound },
	{ "listen_negative_backlog", row_listen_negative_backlog },
	{ "accept_reset_pending", row_accept_reset_pending },
	{ "accept_not_listening", row_accept_not_listening },
	{ "accept_udp", row_accept_udp },
	{ "accept_nonblock_empty", row_accept_nonblock_empty },
	{ "accept_fills_peer", row_accept_fills_peer },
	{ "so_acceptconn", row_so_acceptconn },
	{ "recv_on_listener", row_recv_on_listener },
	{ "tcp_roundtrip", row_tcp_roundtrip },
	{ "recv_nonblock_empty", row_recv_nonblock_empty },
	{ "recv_unconnected", row_recv_unconnected },
	{ "send_unconnected", row_send_unconnected },
	{ "tcp_zero_length", row_tcp_zero_length },
	{ "shutdown_rdwr", row_shutdown_rdwr },
	{ "send_after_shutdown_wr", row_send_after_shutdown_wr },
	{ "half_close", row_half_close },
	{ "recv_after_peer_close", row_recv_after_peer_close },
	{ "recv_after_peer_reset", row_recv_after_peer_reset },
	{ "send_after_peer_reset", row_send_after_peer_reset },
	{ "send_after_peer_close", row_send_after_peer_close },
	{ "so_linger_zero", row_so_linger_zero },
	{ "close_with_unread_data", row_close_with_unread_data },
	{ "shutdown_rd", row_shutdown_rd },
	{ "msg_peek", row_msg_peek },
	{ "msg_waitall", row_msg_waitall },
	{ "sendmsg_recvmsg_iov", row_sendmsg_recvmsg_iov },
	{ "shutdown_unconnected", row_shutdown_unconnected },
	{ "shutdown_bad_how", row_shutdown_bad_how },
	{ "getpeername_unconnected", row_getpeername_unconnected },
	{ "getsockname", row_getsockname },
	{ "getsockname_short_buffer", row_getsockname_short_buffer },
	{ "names_connected", row_names_connected },
	{ "ebadf_close", row_ebadf_close },
	{ "ebadf_calls", row_ebadf_calls },
	{ "sockopt_unknown", row_sockopt_unknown },
	{ "setsockopt_short_optlen", row_setsockopt_short_optlen },
	{ "getsockopt_short_optlen", row_getsockopt_short_optlen },
	{ "so_error_type", row_so_error_type },
	{ "so_bufs_at_least", row_so_bufs_at_least },
	{ "so_bufs_doubled", row_so_bufs_doubled },
	{ "tcp_nodelay", row_tcp_nodelay },
	{ "tcp_maxseg", row_tcp_maxseg },
	{ "bool_options", row_bool_options },
	{ "so_rcvtimeo", row_so_rcvtimeo },
	{ "so_sndtimeo", row_so_sndtimeo },
	{ "tcp_info_state", row_tcp_info_state },
	{ "udp_no_destination", row_udp_no_destination },
	{ "udp_max_size", row_udp_max_size },
	{ "udp_connect_refused", row_udp_connect_refused },
	{ "udp_refused_so_error", row_udp_refused_so_error },
	{ "udp_recvfrom_source", row_udp_recvfrom_source },
	{ "udp_truncation", row_udp_truncation },
	{ "udp_peek_and_empty", row_udp_peek_and_empty },
	{ "udp_connect_filter_and_unspec", row_udp_connect_filter_and_unspec },
	{ "fcntl_flags", row_fcntl_flags },
	{ "fcntl_bad_cmd", row_fcntl_bad_cmd },
	{ "poll_fresh", row_poll_fresh },
	{ "poll_listener", row_poll_listener },
	{ "poll_connected", row_poll_connected },
};

#define N_ROWS ((int)(sizeof(rows) / sizeof(rows[0])))

/* ================================ the Linux side ================================ */

static int lx_socket(int domain, int type, int protocol)
{
	return socket(domain, type, protocol);
}

static int lx_bind(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	return bind(fd, addr, addrlen);
}

static int lx_listen(int fd, int backlog)
{
	return listen(fd, backlog);
}

static int lx_accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return accept(fd, addr, addrlen);
}

static int lx_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	return connect(fd, addr, addrlen);
}

static ssize_t lx_send(int fd, const void *buf, size_t len, int flags)
{
	return send(fd, buf, len, flags);
}

static ssize_t lx_recv(int fd, void *buf, size_t len, int flags)
{
	return recv(fd, buf, len, flags);
}

static ssize_t lx_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *dest,
			 socklen_t addrlen)
{
	return sendto(fd, buf, len, flags, dest, addrlen);
}

static ssize_t lx_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *src,
			   socklen_t *addrlen)
{
	return recvfrom(fd, buf, len, flags, src, addrlen);
}

static ssize_t lx_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return sendmsg(fd, msg, flags);
}

static ssize_t lx_recvmsg(int fd, struct msghdr *msg, int flags)
{
	return recvmsg(fd, msg, flags);
}

static int lx_shutdown(int fd, int how)
{
	return shutdown(fd, how);
}

static int lx_close(int fd)
{
	return close(fd);
}

static int lx_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
	return setsockopt(fd, level, optname, optval, optlen);
}

static int lx_getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)
{
	return getsockopt(fd, level, optname, optval, optlen);
}

static int lx_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return getsockname(fd, addr, addrlen);
}

static int lx_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return getpeername(fd, addr, addrlen);
}

static int lx_fcntl(int fd, int cmd, int arg)
{
	return fcntl(fd, cmd, arg);
}

static int lx_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	return poll(fds, nfds, timeout);
}

/* Loopback answers within microseconds; 20 ms is generous. */
static void lx_settle(void)
{
	nap_ms(20);
}

static struct ops linux_ops = {
	.name = "linux",
	.socket_client = lx_socket,
	.socket_server = lx_socket,
	.bind = lx_bind,
	.listen = lx_listen,
	.accept = lx_accept,
	.connect = lx_connect,
	.send = lx_send,
	.recv = lx_recv,
	.sendto = lx_sendto,
	.recvfrom = lx_recvfrom,
	.sendmsg = lx_sendmsg,
	.recvmsg = lx_recvmsg,
	.shutdown = lx_shutdown,
	.close = lx_close,
	.setsockopt = lx_setsockopt,
	.getsockopt = lx_getsockopt,
	.getsockname = lx_getsockname,
	.getpeername = lx_getpeername,
	.fcntl = lx_fcntl,
	.poll = lx_poll,
	.settle = lx_settle,
	.server_addr = LO_IP,
	.client_addr = LO_IP,
	.link_mtu = 65536, /* read from lo in main() */
};

/* The MTU of lo (SIOCGIFMTU, read only); 65536 when it cannot be read. */
static uint32_t lo_mtu(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	uint32_t mtu = 65536;

	if (fd < 0)
		return mtu;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		mtu = (uint32_t)ifr.ifr_mtu;
	close(fd);
	return mtu;
}

/* ================================ the ustack side ================================ */

static struct us_stack *st_client, *st_server;

static int us_socket_client(int domain, int type, int protocol)
{
	return us_socket_on(st_client, domain, type, protocol);
}

static int us_socket_server(int domain, int type, int protocol)
{
	return us_socket_on(st_server, domain, type, protocol);
}

static int us_fcntl3(int fd, int cmd, int arg)
{
	return us_fcntl(fd, cmd, arg);
}

/* Two stack threads over an in-memory wire: a round trip takes microseconds when the machine is
 * idle; 100 ms leaves room for a loaded one. */
static void us_settle(void)
{
	nap_ms(100);
}

static const struct ops ustack_ops = {
	.name = "ustack",
	.socket_client = us_socket_client,
	.socket_server = us_socket_server,
	.bind = us_bind,
	.listen = us_listen,
	.accept = us_accept,
	.connect = us_connect,
	.send = us_send,
	.recv = us_recv,
	.sendto = us_sendto,
	.recvfrom = us_recvfrom,
	.sendmsg = us_sendmsg,
	.recvmsg = us_recvmsg,
	.shutdown = us_shutdown,
	.close = us_close,
	.setsockopt = us_setsockopt,
	.getsockopt = us_getsockopt,
	.getsockname = us_getsockname,
	.getpeername = us_getpeername,
	.fcntl = us_fcntl3,
	.poll = us_poll,
	.settle = us_settle,
	.server_addr = SERVER_IP,
	.client_addr = CLIENT_IP,
	.link_mtu = 1500,
};

static const uint8_t client_mac[6] = { 2, 0, 0, 0, 0, 0xa }, server_mac[6] = { 2, 0, 0, 0, 0, 0xb };

/* The client and server stacks on a pair wire, each with its own clock-driven thread, permanent
 * neighbour entries for each other (the socket layer is under test here, not ARP). */
static void stacks_up(void)
{
	struct us_stack_config cfg = {
		.tcp_rto_initial_ns = 200 * US_NSEC_PER_MSEC,
		.tcp_rto_min_ns = 50 * US_NSEC_PER_MSEC,
		.tcp_rto_max_ns = 1 * US_NSEC_PER_SEC,
		.tcp_syn_retries = 3,
		.tcp_synack_retries = 3,
		.tcp_retries2 = 5,
		.tcp_msl_ns = 1 * US_NSEC_PER_SEC,
	};
	struct netdev_pair_config pc = { 0 };
	struct netdev *dc, *ds;

	cfg.seed = 1;
	st_client = us_stack_create(&cfg);
	cfg.seed = 2;
	st_server = us_stack_create(&cfg);
	ck_assert_ptr_nonnull(st_client);
	ck_assert_ptr_nonnull(st_server);
	pc.a = (struct netdev_config){ .pool = us_stack_pool(st_client), .clock = us_stack_clock(st_client),
				       .name = "cli0", .rx_ring_size = 1024, .tx_ring_size = 1024 };
	pc.b = (struct netdev_config){ .pool = us_stack_pool(st_server), .clock = us_stack_clock(st_server),
				       .name = "srv0", .rx_ring_size = 1024, .tx_ring_size = 1024 };
	memcpy(pc.a.mac, client_mac, 6);
	memcpy(pc.b.mac, server_mac, 6);
	ck_assert_int_eq(netdev_pair_create(&pc, &dc, &ds), 0);
	ck_assert_int_eq(us_stack_add_netdev(st_client, dc), 1);
	ck_assert_int_eq(us_stack_add_netdev(st_server, ds), 1);
	ck_assert_int_eq(us_addr_add(st_client, 1, CLIENT_IP, 24), 0);
	ck_assert_int_eq(us_addr_add(st_server, 1, SERVER_IP, 24), 0);
	ck_assert_int_eq(us_neigh_add(st_client, 1, SERVER_IP, server_mac), 0);
	ck_assert_int_eq(us_neigh_add(st_server, 1, CLIENT_IP, client_mac), 0);
	ck_assert_int_eq(us_stack_start(st_client), 0);
	ck_assert_int_eq(us_stack_start(st_server), 0);
}

static void stacks_down(void)
{
	us_stack_stop(st_client);
	us_stack_stop(st_server);
	ck_assert_uint_eq(us_stack_destroy(st_client), 0);
	ck_assert_uint_eq(us_stack_destroy(st_server), 0);
	st_client = st_server = NULL;
}

/* ================================ the test ================================ */

START_TEST(test_row)
{
	const struct row *row = &rows[_i];
	static struct run lx, us;
	bool verbose = getenv("USTACK_DIFF_VERBOSE") != NULL;

	memset(&lx, 0, sizeof(lx));
	memset(&us, 0, sizeof(us));
	lx.o = &linux_ops;
	us.o = &ustack_ops;
	row->fn(&lx);
	stacks_up();
	row->fn(&us);
	stacks_down();
	if (verbose || strcmp(lx.log, us.log) != 0)
		fprintf(stderr, "==== row %s%s\n---- %s:\n%s---- %s:\n%s", row->name,
			strcmp(lx.log, us.log) ? " DIFFERS" : "", lx.o->name, lx.log, us.o->name, us.log);
	ck_assert_msg(strcmp(lx.log, us.log) == 0,
		      "row %s: ustack differs from Linux (both recordings above)", row->name);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("socket_diff");
	TCase *tc = tcase_create("rows");

	signal(SIGPIPE, SIG_IGN); /* belt and braces: every send passes MSG_NOSIGNAL */
	linux_ops.link_mtu = lo_mtu();
	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, test_row, 0, N_ROWS);
	suite_add_tcase(s, tc);
	return test_run(s);
}
