/*
 * socket_diff_rows_b.c - rows of the differential socket test (socket_diff.h); each names the man page or RFC
 * behind what it checks.
 */
#include "socket_diff.h"

/* shutdown(2) SHUT_RD: "further receptions will be disallowed": recv reads end of stream. */
static void row_shutdown_rd(struct run *r)
{
	const struct ops *o = r->o;
	char buf[8];
	int c, s;

	sd_tcp_conn(r, &c, &s);
	RC("shutdown rd", o->shutdown(c, SHUT_RD));
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	RC("send still works", o->send(c, "x", 1, MSG_NOSIGNAL));
	RC("peer recv", o->recv(s, buf, sizeof(buf), 0));
	sd_drop(r, c);
	sd_drop(r, s);
}

/* recv(2) MSG_PEEK: "returns data from the beginning of the receive queue without removing that
 * data from the queue. Thus, a subsequent receive call will return the same data." */
static void row_msg_peek(struct run *r)
{
	const struct ops *o = r->o;
	char buf[16], buf2[16];
	int c, s;
	long n;

	sd_tcp_conn(r, &c, &s);
	RC("send", o->send(c, "peekaboo", 8, MSG_NOSIGNAL));
	o->settle();
	n = RC("recv peek", o->recv(s, buf, sizeof(buf), MSG_PEEK));
	sd_note_bytes(r, "peeked", buf, n, "peekaboo", 8);
	n = RC("recv", o->recv(s, buf2, sizeof(buf2), 0));
	sd_note_bytes(r, "read", buf2, n, "peekaboo", 8);
	RC("recv empty", o->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	sd_drop(r, c);
	sd_drop(r, s);
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
		sd_nap_ms(30);
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

	sd_tcp_conn(r, &c, &s);
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
	sd_note_bytes(r, "read", buf, n, want, 300);
	sd_drop(r, c);
	sd_drop(r, s);
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

	sd_tcp_conn(r, &c, &s);
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
	sd_note(r, "recvmsg: namelen %u flags 0x%x", (unsigned)m.msg_namelen, (unsigned)m.msg_flags);
	memcpy(all, in1, 5);
	memcpy(all + 5, in2, 10);
	sd_note_bytes(r, "scattered", all, n, "abcdefghijkl", 12);
	sd_drop(r, c);
	sd_drop(r, s);
}

/* ================================ rows: shutdown() and names ================================ */

/* shutdown(2) ENOTCONN: "The specified socket is not connected." */
static void row_shutdown_unconnected(struct run *r)
{
	int fd = FD("socket", r->o->socket_client(AF_INET, SOCK_STREAM, 0));

	RC("shutdown rdwr", r->o->shutdown(fd, SHUT_RDWR));
	RC("shutdown wr", r->o->shutdown(fd, SHUT_WR));
	sd_drop(r, fd);
}

/* shutdown(2) EINVAL: "An invalid value was specified in how" - checked before the state. */
static void row_shutdown_bad_how(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int c, s;

	RC("shutdown unconnected how 3", o->shutdown(fd, 3));
	RC("shutdown unconnected how -1", o->shutdown(fd, -1));
	sd_tcp_conn(r, &c, &s);
	RC("shutdown connected how 3", o->shutdown(c, 3));
	RC("shutdown connected how 42", o->shutdown(c, 42));
	sd_drop(r, fd);
	sd_drop(r, c);
	sd_drop(r, s);
}

/* getpeername(2) ENOTCONN: "The socket is not connected." (TCP fresh, bound, listening; UDP.) */
static void row_getpeername_unconnected(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	uint16_t port;
	int t = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int l = sd_server_sock(r, SOCK_STREAM, 4, &port);
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));

	RC("getpeername fresh", o->getpeername(t, SA(&a), &len));
	len = sizeof(a);
	RC("getpeername listening", o->getpeername(l, SA(&a), &len));
	len = sizeof(a);
	RC("getpeername udp", o->getpeername(u, SA(&a), &len));
	sd_drop(r, t);
	sd_drop(r, l);
	sd_drop(r, u);
}

/* getsockname(2) of a fresh socket: the unspecified address and port 0; after bind to port 0 "a
 * free port is assigned" (ip(7)) and reported. */
static void row_getsockname(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sd_sin4(o->server_addr, 0), got;
	socklen_t len = sizeof(got);
	int t = FD("socket", o->socket_server(AF_INET, SOCK_STREAM, 0));
	int u = FD("udp socket", o->socket_server(AF_INET, SOCK_DGRAM, 0));

	memset(&got, 0x55, sizeof(got));
	if (RC("getsockname fresh", o->getsockname(t, SA(&got), &len)) == 0)
		sd_note_addr(r, "fresh", &got, len, INADDR_ANY, 0);
	RC("bind port 0", o->bind(t, SA(&a), sizeof(a)));
	len = sizeof(got);
	if (RC("getsockname bound", o->getsockname(t, SA(&got), &len)) == 0)
		sd_note_addr(r, "bound", &got, len, o->server_addr, 0);
	RC("udp bind port 0", o->bind(u, SA(&a), sizeof(a)));
	len = sizeof(got);
	if (RC("udp getsockname", o->getsockname(u, SA(&got), &len)) == 0)
		sd_note_addr(r, "udp bound", &got, len, o->server_addr, 0);
	sd_drop(r, t);
	sd_drop(r, u);
}

/* getsockname(2): "The returned address is truncated if the buffer provided is too small; in this
 * case, addrlen will return a value greater than was supplied to the call." */
static void row_getsockname_short_buffer(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int t = sd_server_sock(r, SOCK_STREAM, -1, &port);
	unsigned char buf[16];
	sa_family_t family;
	socklen_t len = 4;

	memset(buf, 0xee, sizeof(buf));
	RC("getsockname len 4", o->getsockname(t, (struct sockaddr *)buf, &len));
	memcpy(&family, buf, sizeof(family));
	sd_note(r, "len %u, bytes past 4 untouched %d, family %d", (unsigned)len,
	     buf[4] == 0xee && buf[15] == 0xee, family);
	sd_drop(r, t);
}

/* The names of a connection: each end's getsockname is the other's getpeername. */
static void row_names_connected(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a;
	socklen_t len;
	uint16_t port, cport;
	int c, s, l = sd_tcp_conn_l(r, &c, &s, &port, true);

	cport = sd_local_port(r, c);
	len = sizeof(a);
	if (RC("client getpeername", o->getpeername(c, SA(&a), &len)) == 0)
		sd_note_addr(r, "client peer", &a, len, o->server_addr, port);
	len = sizeof(a);
	if (RC("client getsockname", o->getsockname(c, SA(&a), &len)) == 0)
		sd_note_addr(r, "client name", &a, len, o->client_addr, cport);
	len = sizeof(a);
	if (RC("server getpeername", o->getpeername(s, SA(&a), &len)) == 0)
		sd_note_addr(r, "server peer", &a, len, o->client_addr, cport);
	sd_drop(r, c);
	sd_drop(r, s);
	sd_drop(r, l);
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
	struct sockaddr_in a = sd_sin4(o->client_addr, 0);
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
	sd_revents_str(p.revents, ev, sizeof(ev));
	sd_note(r, "revents %s", ev);
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
	sd_drop(r, fd);
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
	sd_drop(r, fd);
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
		sd_note(r, "so_type: len %u bytes %02x %02x %02x %02x", (unsigned)len, v[0], v[1], v[2], v[3]);
	len = 1;
	memset(v, 0xee, sizeof(v));
	if (RC("nodelay optlen 1", o->getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, v, &len)) == 0)
		sd_note(r, "nodelay: len %u bytes %02x %02x", (unsigned)len, v[0], v[1]);
	len = (socklen_t)-1;
	RC("so_type optlen -1", o->getsockopt(fd, SOL_SOCKET, SO_TYPE, v, &len));
	sd_drop(r, fd);
}

/* socket(7) SO_ERROR on a fresh socket: no pending error; SO_TYPE, SO_DOMAIN, SO_PROTOCOL. */
static void row_so_error_type(struct run *r)
{
	const struct ops *o = r->o;
	int t = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));

	sd_so_error(r, "so_error tcp", t);
	sd_so_error(r, "so_error udp", u);
	sd_opt_int(r, "so_type tcp", t, SOL_SOCKET, SO_TYPE);
	sd_opt_int(r, "so_type udp", u, SOL_SOCKET, SO_TYPE);
	sd_opt_int(r, "so_domain", t, SOL_SOCKET, SO_DOMAIN);
	sd_opt_int(r, "so_protocol tcp", t, SOL_SOCKET, SO_PROTOCOL);
	sd_opt_int(r, "so_protocol udp", u, SOL_SOCKET, SO_PROTOCOL);
	sd_drop(r, t);
	sd_drop(r, u);
}

/* SO_RCVBUF/SO_SNDBUF set then get, compared as a relation: what a portable program may rely on
 * is that it gets at least what it asked for (POSIX leaves the value to the implementation). The
 * exact doubling is pinned separately below. */
static void row_so_bufs_at_least(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0)), v;

	sd_set_int(r, "set rcvbuf 65536", fd, SOL_SOCKET, SO_RCVBUF, 65536);
	sd_set_int(r, "set sndbuf 65536", fd, SOL_SOCKET, SO_SNDBUF, 65536);
	{
		socklen_t len = sizeof(v);

		v = 0;
		RC("get rcvbuf", o->getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len));
		sd_note(r, "rcvbuf >= asked: %d", v >= 65536);
		len = sizeof(v);
		v = 0;
		RC("get sndbuf", o->getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len));
		sd_note(r, "sndbuf >= asked: %d", v >= 65536);
	}
	sd_drop(r, fd);
}

/* socket(7) SO_RCVBUF: "The kernel doubles this value (to allow space for bookkeeping overhead)
 * when it is set using setsockopt(2), and this doubled value is returned by getsockopt(2)." Same
 * for SO_SNDBUF. A program ported from Linux may print or compute with it. */
static void row_so_bufs_doubled(struct run *r)
{
	const struct ops *o = r->o;
	int fd = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0)), v;
	socklen_t len = sizeof(v);

	sd_set_int(r, "set rcvbuf 32768", fd, SOL_SOCKET, SO_RCVBUF, 32768);
	sd_set_int(r, "set sndbuf 40000", fd, SOL_SOCKET, SO_SNDBUF, 40000);
	v = 0;
	RC("get rcvbuf", o->getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len));
	sd_note(r, "rcvbuf: %s", v == 65536 ? "doubled" : v == 32768 ? "as set" : "other");
	len = sizeof(v);
	v = 0;
	RC("get sndbuf", o->getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len));
	sd_note(r, "sndbuf: %s", v == 80000 ? "doubled" : v == 40000 ? "as set" : "other");
	sd_drop(r, fd);
}

/* tcp(7) TCP_NODELAY: off by default; reads back as 0/1 whatever non-zero value was set. */
static void row_tcp_nodelay(struct run *r)
{
	int fd = FD("socket", r->o->socket_client(AF_INET, SOCK_STREAM, 0));

	sd_opt_int(r, "nodelay default", fd, IPPROTO_TCP, TCP_NODELAY);
	sd_set_int(r, "set nodelay 5", fd, IPPROTO_TCP, TCP_NODELAY, 5);
	sd_opt_int(r, "nodelay", fd, IPPROTO_TCP, TCP_NODELAY);
	sd_set_int(r, "set nodelay 0", fd, IPPROTO_TCP, TCP_NODELAY, 0);
	sd_opt_int(r, "nodelay", fd, IPPROTO_TCP, TCP_NODELAY);
	sd_drop(r, fd);
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

	sd_opt_int(r, "maxseg unconnected", fd, IPPROTO_TCP, TCP_MAXSEG);
	sd_tcp_conn(r, &c, &s);
	mss = 0;
	RC("maxseg client", o->getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &mss, &len));
	sd_note(r, "client mss in [536, mtu-40]: %d", mss >= 536 && (uint32_t)mss <= top);
	mss = 0;
	len = sizeof(mss);
	RC("maxseg server", o->getsockopt(s, IPPROTO_TCP, TCP_MAXSEG, &mss, &len));
	sd_note(r, "server mss in [536, mtu-40]: %d", mss >= 536 && (uint32_t)mss <= top);
	sd_drop(r, fd);
	sd_drop(r, c);
	sd_drop(r, s);
}

/* socket(7) SO_KEEPALIVE, SO_REUSEADDR: boolean options, off by default, read back as set. */
static void row_bool_options(struct run *r)
{
	int fd = FD("socket", r->o->socket_client(AF_INET, SOCK_STREAM, 0));

	sd_opt_int(r, "keepalive default", fd, SOL_SOCKET, SO_KEEPALIVE);
	sd_set_int(r, "set keepalive", fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	sd_opt_int(r, "keepalive", fd, SOL_SOCKET, SO_KEEPALIVE);
	sd_opt_int(r, "reuseaddr default", fd, SOL_SOCKET, SO_REUSEADDR);
	sd_set_int(r, "set reuseaddr 7", fd, SOL_SOCKET, SO_REUSEADDR, 7);
	sd_opt_int(r, "reuseaddr", fd, SOL_SOCKET, SO_REUSEADDR);
	sd_drop(r, fd);
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

	sd_tcp_conn(r, &c, &s);
	RC("set rcvtimeo 200ms", o->setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	memset(&got, 0, sizeof(got));
	if (RC("get rcvtimeo", o->getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &got, &len)) == 0)
		sd_note(r, "rcvtimeo: len %u %ld s %ld us", (unsigned)len, (long)got.tv_sec, (long)got.tv_usec);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	ms = sd_elapsed_ms(&t0);
	sd_note(r, "waited 150..1500 ms: %d", ms >= 150 && ms <= 1500);
	sd_drop(r, c);
	sd_drop(r, s);
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
		sd_note(r, "sndtimeo: len %u %ld s %ld us", (unsigned)len, (long)got.tv_sec, (long)got.tv_usec);
	RC("set sndtimeo 1.5 s", o->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	len = sizeof(got);
	if (RC("get sndtimeo", o->getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &got, &len)) == 0)
		sd_note(r, "sndtimeo: len %u %ld s %ld us", (unsigned)len, (long)got.tv_sec, (long)got.tv_usec);
	tv.tv_usec = 1000000;
	RC("set sndtimeo usec 1000000", o->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	sd_drop(r, fd);
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
	if (sd_rec(r, what, r->o->getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), REC_NUM) == 0)
		sd_note(r, "%s: len %s state %s", what, len == sizeof(ti) ? "full" : "short",
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
	l = sd_tcp_conn_l(r, &c, &s, &port, true);
	tcp_state(r, "listener", l);
	tcp_state(r, "client", c);
	tcp_state(r, "server", s);
	RC("server shutdown wr", o->shutdown(s, SHUT_WR));
	o->settle();
	tcp_state(r, "client after fin", c);
	tcp_state(r, "server after fin", s);
	sd_drop(r, f);
	sd_drop(r, c);
	sd_drop(r, s);
	sd_drop(r, l);
}

/* ================================ rows: UDP ================================ */

/* udp(7)/send(2) EDESTADDRREQ: "The socket is not connection-mode, and no peer address is set." */
static void row_udp_no_destination(struct run *r)
{
	const struct ops *o = r->o;
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));

	RC("send", o->send(u, "x", 1, MSG_NOSIGNAL));
	RC("sendto null", o->sendto(u, "x", 1, MSG_NOSIGNAL, NULL, 0));
	sd_drop(r, u);
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

	sd_udp_pair(r, &u, &s, &sport, &cport);
	a = sd_sin4(o->server_addr, sport);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	RC("sendto 65508", o->sendto(u, big, 65508, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	RC("sendto 65507", o->sendto(u, big, 65507, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	n = RC("recv", o->recv(s, in, sizeof(in), 0));
	sd_note_bytes(r, "received", in, n, big, 65507);
	sd_drop(r, u);
	sd_drop(r, s);
}

/* ip(7) IP_MTU_DISCOVER on a UDP socket: IP_PMTUDISC_DONT..IP_PMTUDISC_OMIT are taken and read
 * back, others are EINVAL; with IP_PMTUDISC_DO (DF, RFC 791 §2.3; RFC 1191 §3) a datagram that
 * exactly fills the path MTU goes and arrives, one a byte larger fails with EMSGSIZE (RFC 1122
 * §3.3.3: not fragmented, not sent). The MTU is each side's link's (lo's on Linux, where the limit
 * of 65,507 data bytes comes first); the default is not compared: the stack's is DONT, Linux's WANT. */
static void row_udp_mtu_discover(struct run *r)
{
	const struct ops *o = r->o;
	static char big[65508], in[65600];
	uint32_t top = (o->link_mtu > 65535 ? 65535 : o->link_mtu) - 28;
	uint16_t sport, cport;
	struct sockaddr_in a;
	int u, s;
	long n;

	sd_udp_pair(r, &u, &s, &sport, &cport);
	a = sd_sin4(o->server_addr, sport);
	for (int v = IP_PMTUDISC_DONT; v <= IP_PMTUDISC_OMIT; v++) {
		char what[32];

		snprintf(what, sizeof(what), "set %d", v);
		sd_set_int(r, what, u, IPPROTO_IP, IP_MTU_DISCOVER, v);
		snprintf(what, sizeof(what), "get after %d", v);
		sd_opt_int(r, what, u, IPPROTO_IP, IP_MTU_DISCOVER);
	}
	sd_set_int(r, "set 6", u, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT + 1);
	sd_set_int(r, "set -1", u, IPPROTO_IP, IP_MTU_DISCOVER, -1);
	sd_set_int(r, "set do", u, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 13);
	RC("sendto mtu+1", o->sendto(u, big, top + 1, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	n = o->sendto(u, big, top, MSG_NOSIGNAL, SA(&a), sizeof(a));
	sd_note(r, "sendto mtu: all sent %d", n == (long)top);
	n = o->recv(s, in, sizeof(in), 0);
	sd_note_bytes(r, "received", in, n, big, top);
	sd_drop(r, u);
	sd_drop(r, s);
}

/* A connected UDP socket learns of a closed port from ICMP port unreachable (RFC 1122 §4.1.3.3:
 * UDP must pass ICMP errors up; udp(7): "ECONNREFUSED No receiver was associated with the
 * destination address" for connected sockets); the error is reported once. */
static void row_udp_connect_refused(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port = sd_closed_udp_port(r);
	struct sockaddr_in a = sd_sin4(o->server_addr, port);
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));
	char buf[8];

	RC("connect", o->connect(u, SA(&a), sizeof(a)));
	RC("send", o->send(u, "ping", 4, MSG_NOSIGNAL));
	o->settle();
	RC("recv", o->recv(u, buf, sizeof(buf), MSG_DONTWAIT));
	RC("recv again", o->recv(u, buf, sizeof(buf), MSG_DONTWAIT));
	sd_drop(r, u);
}

/* The ICMP error on a connected UDP socket is also readable as SO_ERROR (socket(7): "Get and clear
 * the pending socket error"), after which recv has nothing to report. */
static void row_udp_refused_so_error(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port = sd_closed_udp_port(r);
	struct sockaddr_in a = sd_sin4(o->server_addr, port);
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));
	char buf[8];

	RC("connect", o->connect(u, SA(&a), sizeof(a)));
	RC("send", o->send(u, "ping", 4, MSG_NOSIGNAL));
	o->settle();
	sd_poll1(r, "poll after icmp", u, POLLIN | POLLOUT, 0);
	sd_so_error(r, "so_error", u);
	sd_so_error(r, "so_error again", u);
	RC("recv", o->recv(u, buf, sizeof(buf), MSG_DONTWAIT));
	sd_drop(r, u);
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

	sd_udp_pair(r, &u, &s, &sport, &cport);
	a = sd_sin4(o->server_addr, sport);
	RC("sendto", o->sendto(u, "datagram", 8, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	memset(&from, 0x55, sizeof(from));
	n = RC("recvfrom", o->recvfrom(s, buf, sizeof(buf), 0, SA(&from), &len));
	sd_note_bytes(r, "received", buf, n, "datagram", 8);
	sd_note_addr(r, "from", &from, len, o->client_addr, cport);
	RC("reply", o->sendto(s, "back", 4, MSG_NOSIGNAL, SA(&from), len));
	n = RC("client recv", o->recv(u, buf, sizeof(buf), 0));
	sd_note_bytes(r, "reply received", buf, n, "back", 4);
	sd_drop(r, u);
	sd_drop(r, s);
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

	sd_udp_pair(r, &u, &s, &sport, &cport);
	a = sd_sin4(o->server_addr, sport);
	RC("sendto 10", o->sendto(u, "0123456789", 10, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	n = RC("recv 4", o->recv(s, buf, sizeof(buf), 0));
	sd_note_bytes(r, "head", buf, n, "0123", 4);
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
	sd_note(r, "msg_flags trunc %d ctrunc %d", (m.msg_flags & MSG_TRUNC) != 0,
	     (m.msg_flags & MSG_CTRUNC) != 0);
	sd_drop(r, u);
	sd_drop(r, s);
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

	sd_udp_pair(r, &u, &s, &sport, &cport);
	a = sd_sin4(o->server_addr, sport);
	RC("sendto", o->sendto(u, "peek", 4, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	RC("sendto empty", o->sendto(u, "", 0, MSG_NOSIGNAL, SA(&a), sizeof(a)));
	n = RC("recv peek", o->recv(s, buf, sizeof(buf), MSG_PEEK));
	sd_note_bytes(r, "peeked", buf, n, "peek", 4);
	n = RC("recv", o->recv(s, buf, sizeof(buf), 0));
	sd_note_bytes(r, "read", buf, n, "peek", 4);
	RC("recv empty datagram", o->recv(s, buf, sizeof(buf), 0));
	RC("recv nothing left", o->recv(s, buf, sizeof(buf), MSG_DONTWAIT));
	sd_drop(r, u);
	sd_drop(r, s);
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

	sd_udp_pair(r, &u, &s, &sport, &cport);
	a = sd_sin4(o->client_addr, cport);
	RC("server connect to client", o->connect(s, SA(&a), sizeof(a)));
	if (RC("getpeername", o->getpeername(s, SA(&p), &len)) == 0)
		sd_note_addr(r, "peer", &p, len, o->client_addr, cport);
	other = FD("other client", o->socket_client(AF_INET, SOCK_DGRAM, 0));
	a = sd_sin4(o->server_addr, sport);
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
	sd_drop(r, other);
	sd_drop(r, u);
	sd_drop(r, s);
}

/* ================================ rows: fcntl() and poll() ================================ */

/* fcntl(2) F_GETFL/F_SETFL: a socket is open for reading and writing; O_NONBLOCK set and cleared. */
static void note_flags(struct run *r, const char *what, long fl)
{
	if (fl < 0)
		return;
	sd_note(r, "%s: %s%s%s", what,
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
	sd_drop(r, fd);
}

/* fcntl(2) EINVAL: "The value specified in cmd is not recognized by this kernel." */
static void row_fcntl_bad_cmd(struct run *r)
{
	int fd = FD("socket", r->o->socket_client(AF_INET, SOCK_STREAM, 0));

	RC("fcntl 9999", r->o->fcntl(fd, 9999, 0));
	sd_drop(r, fd);
}

/* ioctl FIONREAD and SIOCOUTQ (Linux's tcp_ioctl, udp_ioctl): a fresh socket has 0 queued either
 * way, a listener refuses both with EINVAL; on a connection, FIONREAD is the unread bytes and
 * SIOCOUTQ the unacknowledged ones, 0 once the peer's ACK came. (Not the FIN's: Linux's receiver
 * delays the ACK of a FIN, in pingpong mode after tcp_fin, where ustack's answers at once; the
 * FIN's count is test_socket's test_ioctl_outq.) */
static void row_ioctl_queues(struct run *r)
{
	const struct ops *o = r->o;
	int t = FD("socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	int u = FD("udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));
	int l = FD("listener", o->socket_server(AF_INET, SOCK_STREAM, 0));
	struct sockaddr_in a = sd_sin4(o->server_addr, 0);
	int c, s, v;

	v = -1;
	RC("fresh SIOCOUTQ", o->ioctl(t, SIOCOUTQ, &v));
	sd_note(r, "value %d", v);
	v = -1;
	RC("fresh FIONREAD", o->ioctl(t, FIONREAD, &v));
	sd_note(r, "value %d", v);
	v = -1;
	RC("udp SIOCOUTQ", o->ioctl(u, SIOCOUTQ, &v));
	sd_note(r, "value %d", v);
	RC("bind", o->bind(l, SA(&a), sizeof(a)));
	RC("listen", o->listen(l, 4));
	RC("listener SIOCOUTQ", o->ioctl(l, SIOCOUTQ, &v));
	RC("listener FIONREAD", o->ioctl(l, FIONREAD, &v));
	sd_tcp_conn(r, &c, &s);
	RC("send 100", o->send(c, "0123456789012345678901234567890123456789012345678901234567890123456789"
				  "012345678901234567890123456789", 100, MSG_NOSIGNAL));
	o->settle();
	v = -1;
	RC("sender SIOCOUTQ", o->ioctl(c, SIOCOUTQ, &v));
	sd_note(r, "value %d", v);
	v = -1;
	RC("receiver FIONREAD", o->ioctl(s, FIONREAD, &v));
	sd_note(r, "value %d", v);
	sd_drop(r, c);
	sd_drop(r, s);
	sd_drop(r, l);
	sd_drop(r, t);
	sd_drop(r, u);
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

	sd_poll1(r, "poll tcp", t, POLLIN | POLLOUT, 0);
	sd_poll1(r, "poll udp", u, POLLIN | POLLOUT, 0);
	RC("poll fd -1", o->poll(&p, 1, 0));
	sd_revents_str(p.revents, ev, sizeof(ev));
	sd_note(r, "revents %s", ev);
	sd_drop(r, t);
	sd_drop(r, u);
}

/* poll(2) on a listening socket: POLLIN once a connection is ready to be accepted (accept(2)). */
static void row_poll_listener(struct run *r)
{
	const struct ops *o = r->o;
	uint16_t port;
	int l = sd_server_sock(r, SOCK_STREAM, 4, &port);
	struct sockaddr_in a = sd_sin4(o->server_addr, port);
	int c = FD("client", o->socket_client(AF_INET, SOCK_STREAM, 0)), s;

	sd_poll1(r, "poll listener empty", l, POLLIN | POLLOUT, 0);
	sd_bounded(r, c);
	RC("connect", o->connect(c, SA(&a), sizeof(a)));
	sd_poll1(r, "poll listener pending", l, POLLIN | POLLOUT, 2000);
	s = FD("accept", o->accept(l, NULL, NULL));
	sd_poll1(r, "poll listener drained", l, POLLIN, 0);
	sd_drop(r, s);
	sd_drop(r, c);
	sd_drop(r, l);
}

/* poll(2) on a connection: writable at once; readable when data came; POLLIN|POLLRDHUP on the
 * peer's FIN (poll(2) POLLRDHUP: "Stream socket peer closed connection, or shut down writing"). */
static void row_poll_connected(struct run *r)
{
	const struct ops *o = r->o;
	int c, s;
	char buf[8];

	sd_tcp_conn(r, &c, &s);
	sd_poll1(r, "poll idle", c, POLLIN | POLLOUT | POLLRDHUP, 0);
	RC("peer send", o->send(s, "x", 1, MSG_NOSIGNAL));
	sd_poll1(r, "poll data", c, POLLIN | POLLRDHUP, 2000);
	RC("recv", o->recv(c, buf, sizeof(buf), 0));
	RC("peer shutdown wr", o->shutdown(s, SHUT_WR));
	sd_poll1(r, "wait fin", c, POLLRDHUP, 2000);
	sd_poll1(r, "poll fin", c, POLLIN | POLLOUT | POLLRDHUP, 0);
	RC("shutdown wr", o->shutdown(c, SHUT_WR));
	o->settle();
	sd_poll1(r, "poll both closed", c, POLLIN | POLLOUT | POLLRDHUP, 0);
	sd_drop(r, c);
	sd_drop(r, s);
}

const struct row sd_rows_b[] = {
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
	{ "udp_mtu_discover", row_udp_mtu_discover },
	{ "udp_connect_refused", row_udp_connect_refused },
	{ "udp_refused_so_error", row_udp_refused_so_error },
	{ "udp_recvfrom_source", row_udp_recvfrom_source },
	{ "udp_truncation", row_udp_truncation },
	{ "udp_peek_and_empty", row_udp_peek_and_empty },
	{ "udp_connect_filter_and_unspec", row_udp_connect_filter_and_unspec },
	{ "fcntl_flags", row_fcntl_flags },
	{ "fcntl_bad_cmd", row_fcntl_bad_cmd },
	{ "ioctl_queues", row_ioctl_queues },
	{ "poll_fresh", row_poll_fresh },
	{ "poll_listener", row_poll_listener },
	{ "poll_connected", row_poll_connected },
};
const int sd_n_rows_b = (int)(sizeof(sd_rows_b) / sizeof(sd_rows_b[0]));
