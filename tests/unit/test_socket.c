/*
 * test_socket.c - the BSD socket API as programs use it: blocking calls with the stacks in their own
 * threads, non-blocking calls on stacks driven in virtual time, poll, epoll (level, edge, one-shot),
 * options with an effect on the wire (SO_LINGER 0, SO_RCVTIMEO), UDP and ping sockets, and the kernel
 * fds that fold ustack into an application's own loop. Errno parity with Linux call by call is
 * test_socket_diff's; this file checks that the calls do what they are for.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "scenario.h"
#include "tcp.h"
#include "test_util.h"
#include "ustack/socket.h"
#include "wire/bytes.h"

/* ---- two stacks on a pair wire, real time, each in its own thread ---- */

struct live {
	struct us_stack *a, *b;
};

static struct live L;

static void live_up(bool start_a, const struct us_stack_config *cfg_in)
{
	struct us_stack_config ca = { 0 }, cb;
	struct netdev_pair_config pc = { .wire_capacity = 1u << 16 };
	struct netdev *da, *db;

	if (cfg_in)
		ca = *cfg_in;
	cb = ca;
	ca.seed = 11;
	cb.seed = 12;
	L.a = us_stack_create(&ca);
	L.b = us_stack_create(&cb);
	ck_assert_ptr_nonnull(L.a);
	ck_assert_ptr_nonnull(L.b);
	pc.a = (struct netdev_config){ .pool = us_stack_pool(L.a), .clock = us_stack_clock(L.a),
				       .name = "a0", .mac = { 2, 0, 0, 0, 0, 0xa } };
	pc.b = (struct netdev_config){ .pool = us_stack_pool(L.b), .clock = us_stack_clock(L.b),
				       .name = "b0", .mac = { 2, 0, 0, 0, 0, 0xb } };
	ck_assert_int_eq(netdev_pair_create(&pc, &da, &db), 0);
	ck_assert_int_eq(us_stack_add_netdev(L.a, da), 1);
	ck_assert_int_eq(us_stack_add_netdev(L.b, db), 1);
	ck_assert_int_eq(us_addr_add(L.a, 1, A_IP, 24), 0);
	ck_assert_int_eq(us_addr_add(L.b, 1, B_IP, 24), 0);
	if (start_a)
		ck_assert_int_eq(us_stack_start(L.a), 0);
	ck_assert_int_eq(us_stack_start(L.b), 0);
	ck_assert_int_eq(us_stack_start(L.b), -EALREADY);
}

static void live_down(void)
{
	us_stack_stop(L.a);
	us_stack_stop(L.b);
	ck_assert_uint_eq(us_stack_destroy(L.a), 0);
	ck_assert_uint_eq(us_stack_destroy(L.b), 0);
	L.a = L.b = NULL;
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(port) };

	s.sin_addr.s_addr = htonl(addr);
	return s;
}

#define SA(x) ((struct sockaddr *)(x))

/* A listener on b at port, blocking unless flags say otherwise. */
static int listen_on_b(uint16_t port, int flags)
{
	struct sockaddr_in s = sin_of(0, port);
	int one = 1, fd = us_socket_on(L.b, AF_INET, SOCK_STREAM | flags, 0);

	ck_assert_int_ge(fd, 3);
	ck_assert_int_eq(us_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	ck_assert_int_eq(us_bind(fd, SA(&s), sizeof(s)), 0);
	ck_assert_int_eq(us_listen(fd, 16), 0);
	return fd;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- blocking echo ---- */

#define ECHO_BYTES (4u << 20)

static void *echo_server(void *arg)
{
	int lfd = *(int *)arg, c;
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	static uint8_t buf[65536];
	ssize_t n;

	c = us_accept(lfd, SA(&peer), &plen);
	if (c < 0)
		return (void *)(intptr_t)-errno;
	if (plen != sizeof(peer) || ntohl(peer.sin_addr.s_addr) != A_IP)
		return (void *)(intptr_t)-1000;
	while ((n = us_recv(c, buf, sizeof(buf), 0)) > 0)
		if (us_send(c, buf, (size_t)n, MSG_NOSIGNAL) != n)
			return (void *)(intptr_t)-1001;
	us_close(c);
	return (void *)(intptr_t)(n == 0 ? 0 : -errno);
}

static void *echo_reader(void *arg)
{
	int fd = *(int *)arg;
	static uint8_t got[ECHO_BYTES];
	size_t have = 0;
	ssize_t n;

	/* MSG_WAITALL: one call for all of it */
	n = us_recv(fd, got, sizeof(got), MSG_WAITALL);
	if (n != (ssize_t)sizeof(got))
		return (void *)(intptr_t)-1;
	for (; have < sizeof(got); have++)
		if (got[have] != (uint8_t)(have * 7 + have / 4096))
			return (void *)(intptr_t)-2;
	return NULL;
}

/* Blocking connect, accept, send and recv from four threads, 4 MiB echoed byte for byte. */
START_TEST(test_blocking_echo)
{
	static uint8_t out[ECHO_BYTES];
	struct sockaddr_in dst = sin_of(B_IP, 7), me, peer;
	socklen_t len = sizeof(me);
	pthread_t srv, rd;
	void *rs, *rr;
	int lfd, fd;
	size_t sent = 0;

	live_up(true, NULL);
	lfd = listen_on_b(7, 0);
	ck_assert_int_eq(pthread_create(&srv, NULL, echo_server, &lfd), 0);
	fd = us_socket_on(L.a, AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(us_connect(fd, SA(&dst), sizeof(dst)), 0);
	ck_assert_int_eq(us_getsockname(fd, SA(&me), &len), 0);
	ck_assert_uint_eq(ntohl(me.sin_addr.s_addr), A_IP);
	ck_assert_uint_ne(ntohs(me.sin_port), 0);
	len = sizeof(peer);
	ck_assert_int_eq(us_getpeername(fd, SA(&peer), &len), 0);
	ck_assert_uint_eq(ntohs(peer.sin_port), 7);
	/* a second connect on a connected socket */
	ck_assert_int_eq(us_connect(fd, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(errno, EISCONN);
	ck_assert_int_eq(pthread_create(&rd, NULL, echo_reader, &fd), 0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + i / 4096);
	while (sent < sizeof(out)) {
		size_t chunk = sizeof(out) - sent < 100000 ? sizeof(out) - sent : 100000;
		ssize_t n = us_send(fd, out + sent, chunk, 0);
		ck_assert_int_gt(n, 0);
		sent += (size_t)n;
	}
	pthread_join(rd, &rr);
	ck_assert_ptr_null(rr);
	ck_assert_int_eq(us_shutdown(fd, SHUT_WR), 0);
	/* the server sees EOF, closes; we see EOF */
	{
		char c;
		ck_assert_int_eq(us_recv(fd, &c, 1, 0), 0);
	}
	pthread_join(srv, &rs);
	ck_assert_int_eq((int)(intptr_t)rs, 0);
	ck_assert_int_eq(us_close(fd), 0);
	ck_assert_int_eq(us_close(lfd), 0);
	ck_assert_int_eq(us_close(lfd), -1);
	ck_assert_int_eq(errno, EBADF);
	live_down();
}
END_TEST

/* A port nobody listens on: the blocking connect fails with ECONNREFUSED; the non-blocking one says
 * EINPROGRESS, becomes writable with POLLERR, and SO_ERROR says ECONNREFUSED once (RFC 9293
 * §3.10.7.3: a RST in SYN-SENT; connect(2)). */
START_TEST(test_connect_refused)
{
	struct sockaddr_in dst = sin_of(B_IP, 9999);
	struct pollfd p;
	int fd, err = -1;
	socklen_t len = sizeof(err);

	live_up(true, NULL);
	fd = us_socket_on(L.a, AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(us_connect(fd, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	/* the socket can try again, as on Linux */
	ck_assert_int_eq(us_connect(fd, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_int_eq(us_close(fd), 0);

	fd = us_socket_on(L.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_connect(fd, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(errno, EINPROGRESS);
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	ck_assert_int_eq(us_poll(&p, 1, 5000), 1);
	ck_assert(p.revents & POLLOUT);
	ck_assert(p.revents & POLLERR);
	ck_assert(p.revents & POLLHUP);
	ck_assert_int_eq(us_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, ECONNREFUSED);
	ck_assert_int_eq(us_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(us_close(fd), 0);
	live_down();
}
END_TEST

/* SO_RCVTIMEO bounds a blocking recv and accept: EAGAIN after no less than the time set. */
START_TEST(test_rcvtimeo)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 150000 }, got;
	socklen_t len = sizeof(got);
	int lfd;
	uint64_t t0;

	live_up(true, NULL);
	lfd = listen_on_b(80, 0);
	ck_assert_int_eq(us_setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	ck_assert_int_eq(us_getsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &got, &len), 0);
	ck_assert_int_eq(got.tv_usec, 150000);
	t0 = mono_ms();
	ck_assert_int_eq(us_accept(lfd, NULL, NULL), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_uint_ge(mono_ms() - t0, 149);
	tv.tv_usec = 1000000;
	ck_assert_int_eq(us_setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), -1);
	ck_assert_int_eq(errno, EDOM);
	ck_assert_int_eq(us_close(lfd), 0);
	live_down();
}
END_TEST

/* Connect a to b:port, accept on b; both blocking. */
static void pair_connect(uint16_t port, int *cfd, int *sfd, int *lfd_out)
{
	struct sockaddr_in dst = sin_of(B_IP, port);
	int lfd = listen_on_b(port, 0);

	*cfd = us_socket_on(L.a, AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(us_connect(*cfd, SA(&dst), sizeof(dst)), 0);
	*sfd = us_accept(lfd, NULL, NULL);
	ck_assert_int_ge(*sfd, 3);
	if (lfd_out)
		*lfd_out = lfd;
	else
		us_close(lfd);
}

/* Level-triggered epoll reports readable data on every wait; edge-triggered once per arrival;
 * one-shot once until re-armed with EPOLL_CTL_MOD (epoll(7)). The instance's kernel fd is readable
 * while events are ready. */
START_TEST(test_epoll_modes)
{
	struct epoll_event ev, out[4];
	struct pollfd kp;
	int cfd, sfd, ep, n;
	char buf[16];

	live_up(true, NULL);
	pair_connect(8080, &cfd, &sfd, NULL);
	us_stack_set_default(L.b);
	ep = us_epoll_create1(0);
	ck_assert_int_ge(ep, 3);
	kp = (struct pollfd){ .fd = us_epoll_kernel_fd(ep), .events = POLLIN };
	ck_assert_int_ge(kp.fd, 0);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 42 };
	ck_assert_int_eq(us_epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev), 0);
	ck_assert_int_eq(us_epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(us_epoll_wait(ep, out, 4, 0), 0);
	ck_assert_int_eq(poll(&kp, 1, 0), 0);

	ck_assert_int_eq(us_send(cfd, "hello", 5, 0), 5);
	n = us_epoll_wait(ep, out, 4, 2000);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(out[0].data.u64, 42);
	ck_assert_uint_eq(out[0].events, EPOLLIN);
	ck_assert_int_eq(poll(&kp, 1, 0), 1);
	/* level-triggered: still readable, still reported */
	ck_assert_int_eq(us_epoll_wait(ep, out, 4, 0), 1);
	ck_assert_int_eq(us_recv(sfd, buf, sizeof(buf), 0), 5);
	ck_assert_int_eq(us_epoll_wait(ep, out, 4, 0), 0);
	ck_assert_int_eq(poll(&kp, 1, 0), 0);

	/* edge-triggered: once per arrival */
	ev.events = EPOLLIN | EPOLLET;
	ck_assert_int_eq(us_epoll_ctl(ep, EPOLL_CTL_MOD, sfd, &ev), 0);
	ck_assert_int_eq(us_send(cfd, "a", 1, 0), 1);
	ck_assert_int_eq(us_epoll_wait(ep, out, 4, 2000), 1);
	ck_assert_int_eq(us_epoll_wait(ep, out, 4, 0), 0);
	ck_assert_int_eq(us_send(cfd, "b", 1, 0), 1);
	ck_assert_int_eq(us_epoll_wait(ep, out, 4, 2000), 1);
	ck_assert_int_eq(us_recv(sfd, buf, sizeof(buf), 0), 2);

	/* one-shot: reported once, then silent until EPOLL_CTL_MOD */
	ev.events = EPOLLIN | EPOLLONESHOT;
	ck_assert_int_eq(us_epoll_ctl(ep, EPOLL_CTL_MOD, sfd, &ev), 0);
	ck_assert_int_eq(us_send(cfd, "c", 1, 0), 1);
	ck_assert_int_eq(us_epoll_wait(ep, out, 4, 2000), 1);
	ck_assert_int_eq(us_send(cfd, "d", 1, 0), 1);
	ck_assert_int_eq(us_epoll_wait(ep, out, 4, 200), 0);
	ck_assert_int_eq(us_epoll_ctl(ep, EPOLL_CTL_MOD, sfd, &ev), 0);
	ck_assert_int_eq(us_epoll_wait(ep, out, 4, 0), 1);

	/* the peer's FIN: EPOLLRDHUP and EPOLLIN */
	ev.events = EPOLLIN | EPOLLRDHUP;
	ck_assert_int_eq(us_epoll_ctl(ep, EPOLL_CTL_MOD, sfd, &ev), 0);
	ck_assert_int_eq(us_recv(sfd, buf, sizeof(buf), 0), 2);
	ck_assert_int_eq(us_shutdown(cfd, SHUT_WR), 0);
	ck_assert_int_eq(us_epoll_wait(ep, out, 4, 2000), 1);
	ck_assert_uint_eq(out[0].events, EPOLLIN | EPOLLRDHUP);
	ck_assert_int_eq(us_epoll_ctl(ep, EPOLL_CTL_DEL, sfd, NULL), 0);
	ck_assert_int_eq(us_epoll_ctl(ep, EPOLL_CTL_DEL, sfd, NULL), -1);
	ck_assert_int_eq(errno, ENOENT);
	us_close(sfd);
	us_close(cfd);
	us_close(ep);
	live_down();
}
END_TEST

/* SO_LINGER {1, 0}: close sends a RST (RFC 9293 §3.10.5 ABORT), and the peer's recv says ECONNRESET,
 * then end of stream; its send says EPIPE. */
START_TEST(test_linger_zero_resets)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 }, got;
	socklen_t len = sizeof(got);
	int cfd, sfd;
	char c;

	live_up(true, NULL);
	pair_connect(5000, &cfd, &sfd, NULL);
	ck_assert_int_eq(us_setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	ck_assert_int_eq(us_getsockopt(cfd, SOL_SOCKET, SO_LINGER, &got, &len), 0);
	ck_assert_int_eq(got.l_onoff, 1);
	ck_assert_int_eq(got.l_linger, 0);
	ck_assert_int_eq(us_close(cfd), 0);
	ck_assert_int_eq(us_recv(sfd, &c, 1, 0), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	ck_assert_int_eq(us_recv(sfd, &c, 1, 0), 0);
	ck_assert_int_eq(us_send(sfd, "x", 1, MSG_NOSIGNAL), -1);
	ck_assert_int_eq(errno, EPIPE);
	us_close(sfd);
	live_down();
}
END_TEST

/* SO_LINGER {1, N}: close blocks until the FIN is acknowledged, or N seconds when nobody answers,
 * and returns 0 either way (socket(7)). */
START_TEST(test_linger_waits)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 1 };
	int cfd, sfd;
	uint64_t t0;

	live_up(true, NULL);
	pair_connect(5002, &cfd, &sfd, NULL);
	ck_assert_int_eq(us_setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	ck_assert_int_eq(us_send(cfd, "bye", 3, 0), 3);
	t0 = mono_ms();
	ck_assert_int_eq(us_close(cfd), 0);
	ck_assert_uint_lt(mono_ms() - t0, 900); /* b's thread acknowledged at once */
	pair_connect(5003, &cfd, &sfd, NULL);
	ck_assert_int_eq(us_setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	us_stack_stop(L.b); /* b goes silent */
	ck_assert_int_eq(us_send(cfd, "lost", 4, 0), 4);
	t0 = mono_ms();
	ck_assert_int_eq(us_close(cfd), 0);
	ck_assert_uint_ge(mono_ms() - t0, 999);
	live_down();
}
END_TEST

/* TCP_INFO in Linux's layout: state, MSS, and an RTT measured on the handshake. */
START_TEST(test_tcp_info)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int cfd, sfd, one = 1, v;

	live_up(true, NULL);
	pair_connect(5001, &cfd, &sfd, NULL);
	ck_assert_int_eq(us_getsockopt(cfd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	ck_assert_uint_eq(len, sizeof(ti));
	ck_assert_uint_eq(ti.tcpi_state, 1); /* TCP_ESTABLISHED in Linux's numbering */
	ck_assert_uint_eq(ti.tcpi_snd_mss, 1448);
	ck_assert_uint_ge(ti.tcpi_rto, 200000);
	ck_assert_uint_eq(ti.tcpi_snd_cwnd, 10);
	ck_assert_uint_eq(ti.tcpi_total_retrans, 0);
	ck_assert(ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	ck_assert_int_eq(us_setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	len = sizeof(v);
	ck_assert_int_eq(us_getsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(us_getsockopt(cfd, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
	ck_assert_int_eq(v, 1448);
	us_close(sfd);
	us_close(cfd);
	live_down();
}
END_TEST

/* UDP: sendto/recvfrom with the source address; a short buffer truncates (MSG_TRUNC in msg_flags,
 * and the full length with the MSG_TRUNC flag, udp(7)); a connected socket learns ECONNREFUSED from
 * a port unreachable (RFC 1122 §4.1.3.3). */
START_TEST(test_udp)
{
	struct sockaddr_in b_addr = sin_of(B_IP, 5353), from, dead = sin_of(B_IP, 5354);
	socklen_t len = sizeof(from);
	int sa, sb;
	char buf[64];
	struct iovec iov[2] = { { buf, 3 }, { buf + 3, 4 } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	live_up(true, NULL);
	sb = us_socket_on(L.b, AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(us_bind(sb, SA(&b_addr), sizeof(b_addr)), 0);
	sa = us_socket_on(L.a, AF_INET, SOCK_DGRAM, 0);
	ck_assert_int_eq(us_sendto(sa, "datagram-1", 10, 0, SA(&b_addr), sizeof(b_addr)), 10);
	ck_assert_int_eq(us_recvfrom(sb, buf, sizeof(buf), 0, SA(&from), &len), 10);
	ck_assert_mem_eq(buf, "datagram-1", 10);
	ck_assert_uint_eq(ntohl(from.sin_addr.s_addr), A_IP);
	ck_assert_int_eq(us_sendto(sa, "datagram-2", 10, 0, SA(&b_addr), sizeof(b_addr)), 10);
	ck_assert_int_eq(us_recvmsg(sb, &mh, 0), 7);
	ck_assert(mh.msg_flags & MSG_TRUNC);
	ck_assert_mem_eq(buf, "datagra", 7);
	ck_assert_int_eq(us_sendto(sa, "datagram-3", 10, 0, SA(&b_addr), sizeof(b_addr)), 10);
	ck_assert_int_eq(us_recv(sb, buf, 4, MSG_TRUNC), 10);
	ck_assert_int_eq(us_recv(sb, buf, 4, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);

	/* IP_TTL on the sender, IP_RECVTTL on the receiver: the TTL comes as ancillary data (ip(7)) */
	{
		int ttl = 7, one = 1, got = 0;
		socklen_t ol = sizeof(got);
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(int))];
		} ctl;
		struct iovec v = { buf, sizeof(buf) };
		struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
		struct cmsghdr *cm;

		ck_assert_int_eq(us_getsockopt(sa, IPPROTO_IP, IP_TTL, &got, &ol), 0);
		ck_assert_int_eq(got, 64);
		ck_assert_int_eq(us_setsockopt(sa, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)), 0);
		ttl = 256;
		ck_assert_int_eq(us_setsockopt(sa, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)), -1);
		ck_assert_int_eq(errno, EINVAL);
		ck_assert_int_eq(us_setsockopt(sb, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one)), 0);
		ck_assert_int_eq(us_sendto(sa, "ttl", 3, 0, SA(&b_addr), sizeof(b_addr)), 3);
		ck_assert_int_eq(us_recvmsg(sb, &m, 0), 3);
		cm = CMSG_FIRSTHDR(&m);
		ck_assert_ptr_nonnull(cm);
		ck_assert_int_eq(cm->cmsg_level, IPPROTO_IP);
		ck_assert_int_eq(cm->cmsg_type, IP_TTL);
		memcpy(&got, CMSG_DATA(cm), sizeof(got));
		ck_assert_int_eq(got, 7);
	}
	ck_assert_int_eq(us_connect(sa, SA(&dead), sizeof(dead)), 0);
	ck_assert_int_eq(us_send(sa, "x", 1, 0), 1);
	ck_assert_int_eq(us_recv(sa, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
	us_close(sa);
	us_close(sb);
	live_down();
}
END_TEST

/* A ping socket (SOCK_DGRAM, IPPROTO_ICMP, as Linux's): the user writes the echo request header,
 * the reply comes back from its ICMP header with the same sequence number (RFC 792). */
START_TEST(test_ping_socket)
{
	struct sockaddr_in dst = sin_of(B_IP, 0), from;
	socklen_t len = sizeof(from);
	uint8_t req[8 + 32] = { 8, 0 }, rep[64];
	int fd;

	live_up(true, NULL);
	fd = us_socket_on(L.a, AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	ck_assert_int_ge(fd, 3);
	put_be16(req + 6, 77);
	memset(req + 8, 0xab, 32);
	ck_assert_int_eq(us_sendto(fd, req, sizeof(req), 0, SA(&dst), sizeof(dst)), (int)sizeof(req));
	ck_assert_int_eq(us_recvfrom(fd, rep, sizeof(rep), 0, SA(&from), &len), (int)sizeof(req));
	ck_assert_uint_eq(rep[0], 0); /* echo reply */
	ck_assert_uint_eq(get_be16(rep + 6), 77);
	ck_assert_mem_eq(rep + 8, req + 8, 32);
	ck_assert_uint_eq(ntohl(from.sin_addr.s_addr), B_IP);
	req[0] = 13; /* not an echo request */
	ck_assert_int_eq(us_sendto(fd, req, sizeof(req), 0, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(errno, EINVAL);
	us_close(fd);
	live_down();
}
END_TEST

/* A blocking call on a stack that has no thread drives the stack itself: a is never started. */
START_TEST(test_blocking_drives_unstarted_stack)
{
	struct sockaddr_in dst = sin_of(B_IP, 7777);
	int lfd, fd, sfd;
	char buf[8];

	live_up(false, NULL);
	lfd = listen_on_b(7777, 0);
	fd = us_socket_on(L.a, AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(us_connect(fd, SA(&dst), sizeof(dst)), 0);
	sfd = us_accept(lfd, NULL, NULL);
	ck_assert_int_ge(sfd, 3);
	ck_assert_int_eq(us_send(sfd, "ping", 4, 0), 4);
	ck_assert_int_eq(us_recv(fd, buf, sizeof(buf), 0), 4);
	ck_assert_mem_eq(buf, "ping", 4);
	us_close(sfd);
	us_close(fd);
	us_close(lfd);
	live_down();
}
END_TEST

/* ---- driven in virtual time ---- */

/* Non-blocking sockets on stacks the test drives (two_run): the whole life of a connection in
 * exact virtual time. Nothing sleeps. */
START_TEST(test_driven_nonblocking)
{
	struct two t;
	struct sockaddr_in dst = sin_of(B_IP, 22), any = sin_of(0, 22);
	struct pollfd p[2];
	int lfd, cfd, sfd, err;
	socklen_t len = sizeof(err);
	char buf[32];

	two_up(&t, NULL, NULL);
	lfd = us_socket_on(t.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_bind(lfd, SA(&any), sizeof(any)), 0);
	ck_assert_int_eq(us_listen(lfd, 4), 0);
	ck_assert_int_eq(us_accept(lfd, NULL, NULL), -1);
	ck_assert_int_eq(errno, EAGAIN);
	cfd = us_socket_on(t.a, AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(us_fcntl(cfd, F_SETFL, us_fcntl(cfd, F_GETFL) | O_NONBLOCK), 0);
	ck_assert(us_fcntl(cfd, F_GETFL) & O_NONBLOCK);
	ck_assert_int_eq(us_connect(cfd, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(errno, EINPROGRESS);
	ck_assert_int_eq(us_connect(cfd, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(errno, EALREADY);
	/* nothing is ready before the stacks run, and a virtual clock is never waited on */
	p[0] = (struct pollfd){ .fd = cfd, .events = POLLOUT };
	ck_assert_int_eq(us_poll(p, 1, 1000), 0);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_poll(p, 1, 0), 1);
	ck_assert_int_eq(p[0].revents, POLLOUT);
	ck_assert_int_eq(us_getsockopt(cfd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	ck_assert_int_eq(err, 0);
	/* connect again after completion: 0 once (the socket learns it is connected), then EISCONN */
	ck_assert_int_eq(us_connect(cfd, SA(&dst), sizeof(dst)), 0);
	ck_assert_int_eq(us_connect(cfd, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(errno, EISCONN);
	sfd = us_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	ck_assert_int_ge(sfd, 3);
	ck_assert_int_eq(us_recv(sfd, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(us_send(cfd, "abcdef", 6, 0), 6);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_recv(sfd, buf, 3, MSG_PEEK), 3);
	ck_assert_int_eq(us_recv(sfd, buf, sizeof(buf), 0), 6);
	ck_assert_mem_eq(buf, "abcdef", 6);
	ck_assert_int_eq(us_close(cfd), 0);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	p[1] = (struct pollfd){ .fd = sfd, .events = POLLIN | POLLRDHUP };
	ck_assert_int_eq(us_poll(&p[1], 1, 0), 1);
	ck_assert_int_eq(p[1].revents, POLLIN | POLLRDHUP);
	ck_assert_int_eq(us_recv(sfd, buf, sizeof(buf), 0), 0);
	us_close(sfd);
	us_close(lfd);
	two_run(&t, 200 * US_NSEC_PER_SEC); /* through TIME-WAIT */
	two_down(&t);
}
END_TEST

/* ioctl SIOCOUTQ (TIOCOUTQ): the bytes not yet acknowledged, as Linux's tcp_ioctl counts them
 * (write_seq - snd_una: data, and the FIN once the sending side is shut); EINVAL on a listener. A
 * sender that must know its peer has everything (examples/bulk) waits for it to reach 0. */
START_TEST(test_ioctl_outq)
{
	struct two t;
	struct sockaddr_in dst = sin_of(B_IP, 23), any = sin_of(0, 23);
	int lfd, cfd, sfd, q = -1;
	char buf[64];

	two_up(&t, NULL, NULL);
	lfd = us_socket_on(t.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_bind(lfd, SA(&any), sizeof(any)), 0);
	ck_assert_int_eq(us_listen(lfd, 4), 0);
	ck_assert_int_eq(us_ioctl(lfd, SIOCOUTQ, &q), -1);
	ck_assert_int_eq(errno, EINVAL);
	cfd = us_socket_on(t.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_connect(cfd, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(us_ioctl(cfd, SIOCOUTQ, &q), 0);
	ck_assert_int_eq(q, 0); /* SYN-SENT: 0, as Linux */
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	sfd = us_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	ck_assert_int_ge(sfd, 3);
	ck_assert_int_eq(us_send(cfd, "0123456789", 10, 0), 10);
	ck_assert_int_eq(us_ioctl(cfd, SIOCOUTQ, &q), 0);
	ck_assert_int_eq(q, 10);
	ck_assert_int_eq(us_shutdown(cfd, SHUT_WR), 0);
	ck_assert_int_eq(us_ioctl(cfd, TIOCOUTQ, &q), 0); /* the same request under its tty name */
	ck_assert_int_eq(q, 11);			    /* and the FIN */
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_ioctl(cfd, SIOCOUTQ, &q), 0);
	ck_assert_int_eq(q, 0); /* everything acknowledged, unread or not */
	ck_assert_int_eq(us_recv(sfd, buf, sizeof(buf), 0), 10);
	us_close(sfd);
	us_close(cfd);
	us_close(lfd);
	two_run(&t, 200 * US_NSEC_PER_SEC);
	two_down(&t);
}
END_TEST

/* The peer vanishes (b's address is gone, nothing answers): with a short RTO and few retries, the
 * send side gives up with ETIMEDOUT (RFC 9293 §3.8.3, R2), delivered by recv and SO_ERROR. */
START_TEST(test_driven_timeout)
{
	struct us_stack_config cfg = { .tcp_rto_min_ns = 10 * US_NSEC_PER_MSEC,
				       .tcp_rto_initial_ns = 10 * US_NSEC_PER_MSEC,
				       .tcp_rto_max_ns = 100 * US_NSEC_PER_MSEC, .tcp_retries2 = 3 };
	struct two t;
	struct sockaddr_in dst = sin_of(B_IP, 23), any = sin_of(0, 23);
	int lfd, cfd, sfd;
	char buf[4];

	two_up(&t, NULL, &cfg);
	lfd = us_socket_on(t.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_bind(lfd, SA(&any), sizeof(any)), 0);
	ck_assert_int_eq(us_listen(lfd, 4), 0);
	cfd = us_socket_on(t.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_connect(cfd, SA(&dst), sizeof(dst)), -1);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	sfd = us_accept(lfd, NULL, NULL);
	ck_assert_int_ge(sfd, 3);
	/* b vanishes without a word: destroyed with its sockets open (their descriptors go with it),
	 * so a's data is never acknowledged */
	ck_assert_int_eq(us_send(cfd, "lost", 4, 0), 4);
	ck_assert_uint_eq(us_stack_destroy(t.b), 0);
	ck_assert_int_eq(us_close(sfd), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(us_close(lfd), -1);
	t.b = NULL;
	for (int i = 0; i < 200 && us_recv(cfd, buf, sizeof(buf), 0) == -1 && errno == EAGAIN; i++) {
		us_clock_advance(&t.clock, 10 * US_NSEC_PER_MSEC);
		us_stack_poll(t.a);
	}
	ck_assert_int_eq(errno, ETIMEDOUT);
	us_close(cfd);
	ck_assert_uint_eq(us_stack_destroy(t.a), 0);
}
END_TEST

/* The stack's TCP knobs: with timestamps and SACK turned off on one side (Linux's tcp_timestamps=0,
 * tcp_sack=0) the connection has neither (RFC 7323 §3.2, RFC 2018 §2: an option is used only when
 * both SYNs carry it); a fixed RFC 6528 key gives the same ISN for the same 4-tuple and time. */
START_TEST(test_driven_tcp_knobs)
{
	struct us_stack_config cfg = { .tcp_no_timestamps = true, .tcp_no_sack = true };
	struct two t;
	struct sockaddr_in dst = sin_of(B_IP, 24), any = sin_of(0, 24);
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int lfd, cfd;

	memset(cfg.tcp_isn_key, 0x5a, sizeof(cfg.tcp_isn_key));
	two_up(&t, NULL, &cfg);
	ck_assert_uint_eq(tcp_isn(t.a, A_IP, 1000, B_IP, 2000), tcp_isn(t.b, A_IP, 1000, B_IP, 2000));
	lfd = us_socket_on(t.b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_bind(lfd, SA(&any), sizeof(any)), 0);
	ck_assert_int_eq(us_listen(lfd, 4), 0);
	cfd = us_socket_on(t.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_connect(cfd, SA(&dst), sizeof(dst)), -1);
	two_run(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(us_getsockopt(cfd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	ck_assert_uint_eq(ti.tcpi_state, 1);
	ck_assert_uint_eq(ti.tcpi_options & (TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK), 0);
	ck_assert(ti.tcpi_options & TCPI_OPT_WSCALE);
	ck_assert_uint_eq(ti.tcpi_snd_mss, 1460); /* no 12 bytes of timestamps in each segment */
	us_close(cfd);
	us_close(lfd);
	two_run(&t, 200 * US_NSEC_PER_SEC);
	two_down(&t);
}
END_TEST

/* us_stack_fd: a driven stack's kernel fd is readable when a frame waits for it. */
START_TEST(test_stack_fd)
{
	struct sockaddr_in dst = sin_of(B_IP, 4000);
	struct pollfd kp;
	int fd;

	live_up(false, NULL);
	kp = (struct pollfd){ .fd = us_stack_fd(L.a), .events = POLLIN };
	ck_assert_int_ge(kp.fd, 0);
	/* b's gratuitous ARP may still arrive; once a has taken everything, the fd is quiet */
	for (int i = 0; i < 100; i++) {
		us_stack_poll(L.a);
		if (poll(&kp, 1, 20) == 0)
			break;
	}
	ck_assert_int_eq(poll(&kp, 1, 0), 0);
	fd = us_socket_on(L.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_connect(fd, SA(&dst), sizeof(dst)), -1);
	ck_assert_int_eq(errno, EINPROGRESS);
	/* b answers (ARP, then RST): a's fd wakes */
	ck_assert_int_eq(poll(&kp, 1, 2000), 1);
	for (int i = 0; i < 100; i++) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		us_stack_poll(L.a);
		if (us_poll(&p, 1, 0) == 1)
			break;
		poll(&kp, 1, us_stack_timeout_ms(L.a) < 0 ? 50 : us_stack_timeout_ms(L.a));
	}
	{
		int err;
		socklen_t len = sizeof(err);
		ck_assert_int_eq(us_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
		ck_assert_int_eq(err, ECONNREFUSED);
	}
	us_close(fd);
	live_down();
}
END_TEST

static Suite *socket_suite(void)
{
	Suite *s = suite_create("socket");
	TCase *tc = tcase_create("threaded");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_blocking_echo);
	tcase_add_test(tc, test_connect_refused);
	tcase_add_test(tc, test_rcvtimeo);
	tcase_add_test(tc, test_epoll_modes);
	tcase_add_test(tc, test_linger_zero_resets);
	tcase_add_test(tc, test_linger_waits);
	tcase_add_test(tc, test_tcp_info);
	tcase_add_test(tc, test_udp);
	tcase_add_test(tc, test_ping_socket);
	tcase_add_test(tc, test_blocking_drives_unstarted_stack);
	tcase_add_test(tc, test_stack_fd);
	suite_add_tcase(s, tc);
	tc = tcase_create("driven");
	tcase_add_test(tc, test_driven_nonblocking);
	tcase_add_test(tc, test_ioctl_outq);
	tcase_add_test(tc, test_driven_timeout);
	tcase_add_test(tc, test_driven_tcp_knobs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return test_run(socket_suite());
}
