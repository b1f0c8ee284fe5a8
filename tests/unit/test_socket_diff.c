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
#include "socket_diff.h"

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

static int lx_ioctl(int fd, unsigned long request, int *arg)
{
	return ioctl(fd, request, arg);
}

static int lx_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	return poll(fds, nfds, timeout);
}

/* Loopback answers within microseconds; 20 ms is generous. */
static void lx_settle(void)
{
	sd_nap_ms(20);
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
	.ioctl = lx_ioctl,
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

static int us_ioctl3(int fd, unsigned long request, int *arg)
{
	return us_ioctl(fd, request, arg);
}

/* Two stack threads over an in-memory wire: a round trip takes microseconds when the machine is
 * idle; 100 ms leaves room for a loaded one. */
static void us_settle(void)
{
	sd_nap_ms(100);
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
	.ioctl = us_ioctl3,
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
	const struct row *row = _i < sd_n_rows_a ? &sd_rows_a[_i] : &sd_rows_b[_i - sd_n_rows_a];
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
	tcase_add_loop_test(tc, test_row, 0, sd_n_rows_a + sd_n_rows_b);
	suite_add_tcase(s, tc);
	return test_run(s);
}
