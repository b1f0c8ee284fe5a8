/*
 * common.c - option handling and stack set-up shared by the examples, and the small helpers the
 * socket examples share: parsing "A.B.C.D:PORT", waiting on one descriptor without missing SIGINT,
 * connecting with a timeout, sending a whole buffer.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t ex_stop;
static struct us_stack *ex_started; /* the stack ex_stack_start runs in a thread */
static struct netdev *ex_fault;	     /* the fault wrapper ex_stack_up put on the device, or NULL */
static struct us_stack *volatile ex_usr1_stack; /* what SIGUSR1 dumps; NULL once it is going away */
static bool ex_latency;		     /* --latency: print the table at exit */

static void ex_on_signal(int sig)
{
	(void)sig;
	ex_stop = 1;
}

/* SIGUSR1: async-signal-safe, as us_stack_request_dump is; the stack's loop prints */
static void ex_on_usr1(int sig)
{
	struct us_stack *st = ex_usr1_stack;

	(void)sig;
	if (st)
		us_stack_request_dump(st);
}

void ex_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ex_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a read of stdin returns EINTR and the loop sees ex_stop */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void ex_opts_init(struct ex_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->tap = "tap0";
	o->addr = "198.18.0.2/24";
	o->fault_seed = 1;
}

/* A probability for --loss, --dup, --reorder, --corrupt; exits on a bad one. */
static double ex_parse_prob(const char *name, const char *arg)
{
	char *end;
	double p;

	errno = 0;
	p = strtod(arg, &end);
	if (errno || end == arg || *end || !(p >= 0.0 && p <= 1.0)) {
		fprintf(stderr, "bad --%s: %s (a probability, 0 to 1)\n", name, arg);
		exit(2);
	}
	return p;
}

int ex_opt(struct ex_opts *o, int c, const char *arg)
{
	switch (c) {
	case 0x100: o->tap = arg; return 1;
	case 0x101: o->addr = arg; return 1;
	case 0x102: o->gw = arg; return 1;
	case 0x103: o->pcap = arg; return 1;
	case 0x104: o->mac = arg; return 1;
	case 0x107: o->tw_reuse = true; return 1;
	case 0x108: o->loss = ex_parse_prob("loss", arg); return 1;
	case 0x109: o->dup = ex_parse_prob("dup", arg); return 1;
	case 0x10a: o->reorder = ex_parse_prob("reorder", arg); return 1;
	case 0x10b: o->corrupt = ex_parse_prob("corrupt", arg); return 1;
	case 0x10d: o->latency = true; return 1;
	case 0x10f: o->ctl = arg; return 1;
	case 0x10e: {
		char *end;

		errno = 0;
		o->stats_every = strtod(arg, &end);
		if (errno || end == arg || *end || !(o->stats_every > 0 && o->stats_every < 1e7)) {
			fprintf(stderr, "bad --stats-every: %s (seconds)\n", arg);
			exit(2);
		}
		return 1;
	}
	case 0x130: o->pkttrace = true; return 1;
	case 0x131: o->vnet_hdr = true; return 1;
	case 0x10c: {
		char *end;

		errno = 0;
		o->fault_seed = strtoull(arg, &end, 0);
		if (errno || end == arg || *end || *arg == '-') {
			fprintf(stderr, "bad --fault-seed: %s\n", arg);
			exit(2);
		}
		return 1;
	}
	case 0x105:
	case 0x106: {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || v < 1 || v > 1000000) {
			fprintf(stderr, "bad --%s: %s\n", c == 0x105 ? "tcp-retries" : "rto-max-ms", arg);
			exit(2);
		}
		if (c == 0x105)
			o->tcp_retries = (uint32_t)v;
		else
			o->rto_max_ms = v;
		return 1;
	}
	default: return 0;
	}
}

static void ex_die(const char *what, const char *detail)
{
	fprintf(stderr, "%s: %s\n", what, detail);
	exit(1);
}

struct us_stack *ex_stack_up(const struct ex_opts *o, uint32_t *addr_out)
{
	struct netdev_config nc = { .name = o->tap, .vnet_hdr = o->vnet_hdr };
	struct us_stack_config cfg = { .tcp_retries2 = o->tcp_retries,
				       .tcp_rto_max_ns = o->rto_max_ms * 1000000,
				       .tcp_tw_reuse = o->tw_reuse };
	struct us_stack *st = us_stack_create(&cfg);
	struct netdev *dev;
	uint32_t addr, gw;
	uint8_t plen, gwlen;
	int ifindex, r;

	if (!st)
		ex_die("us_stack_create", strerror(errno));
	if (o->pkttrace)
		us_pkttrace_set(st, stderr, 0); /* docs/packet-trace.md */
	if (us_parse_ipv4(o->addr, &addr, &plen) != 0)
		ex_die("bad --addr", o->addr);
	if (o->mac && netdev_parse_mac(o->mac, nc.mac) != 0)
		ex_die("bad --mac", o->mac);
	nc.pool = us_stack_pool(st);
	nc.clock = us_stack_clock(st); /* the device stamps frames with the stack's time */
	dev = netdev_tap_open(&nc);
	if (!dev)
		ex_die(o->tap, strerror(errno));
	if (o->pcap) {
		struct netdev *cap = netdev_capture_wrap(dev, o->pcap);
		if (!cap)
			ex_die(o->pcap, strerror(errno));
		dev = cap;
	}
	if (o->loss > 0 || o->dup > 0 || o->reorder > 0 || o->corrupt > 0) {
		/* above the capture, which so records the wire: frames the stack sent before they were
		 * harmed would not be there, frames that reached it are there as they arrived */
		struct netdev_fault_config fc = { .seed = o->fault_seed, .drop = o->loss, .duplicate = o->dup,
						  .reorder = o->reorder, .corrupt = o->corrupt };
		struct netdev *f = netdev_fault_wrap(dev, &fc);
		if (!f)
			ex_die("fault wrapper", strerror(errno));
		dev = ex_fault = f;
	}
	ifindex = us_stack_add_netdev(st, dev);
	if (ifindex < 0)
		ex_die("us_stack_add_netdev", strerror(-ifindex));
	r = us_addr_add(st, ifindex, addr, plen);
	if (r < 0)
		ex_die("us_addr_add", strerror(-r));
	if (o->gw) {
		if (us_parse_ipv4(o->gw, &gw, &gwlen) != 0)
			ex_die("bad --gw", o->gw);
		r = us_route_add(st, 0, 0, gw, ifindex);
		if (r < 0)
			ex_die("us_route_add", strerror(-r));
	}
	if (o->latency) {
		r = us_latency_enable(st, true);
		if (r < 0)
			ex_die("us_latency_enable", strerror(-r));
		ex_latency = true;
	}
	if (addr_out)
		*addr_out = addr;
	return st;
}

struct us_stack *ex_stack_start(const struct ex_opts *o, uint32_t *addr_out)
{
	struct us_stack *st = ex_stack_up(o, addr_out);
	sigset_t block, old;
	int r;

	us_stack_set_default(st);
	/* The stack's thread inherits the signal mask: SIGINT and SIGTERM are left to this thread. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r = us_stack_start(st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		ex_die("us_stack_start", strerror(-r));
	ex_started = st;
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = ex_on_usr1;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART; /* a dump request interrupts nobody's read */
		ex_usr1_stack = st;
		sigaction(SIGUSR1, &sa, NULL);
	}
	if (o->ctl && (r = us_stack_ctl_open(st, o->ctl)) < 0)
		ex_die(o->ctl, strerror(-r));
	if (o->stats_every > 0 &&
	    (r = us_stack_set_dump_interval(st, (uint64_t)(o->stats_every * 1e9))) < 0)
		ex_die("--stats-every", strerror(-r));
	return st;
}

int ex_stack_down(struct us_stack *st, int status)
{
	if (st == ex_usr1_stack) {
		signal(SIGUSR1, SIG_IGN);
		ex_usr1_stack = NULL;
	}
	if (st == ex_started) {
		us_stack_stop(st);
		ex_started = NULL;
	}
	fprintf(stderr, "\n");
	us_stats_dump_raw(st, stderr);
	if (ex_fault) {
		struct netdev_fault_stats rx, tx;

		if (netdev_fault_get_stats(ex_fault, &rx, &tx) == 0)
			fprintf(stderr,
				"Fault: rx_dropped=%llu rx_duplicated=%llu rx_reordered=%llu rx_corrupted=%llu "
				"tx_dropped=%llu tx_duplicated=%llu tx_reordered=%llu tx_corrupted=%llu\n",
				(unsigned long long)rx.dropped, (unsigned long long)rx.duplicated,
				(unsigned long long)rx.reordered, (unsigned long long)rx.corrupted,
				(unsigned long long)tx.dropped, (unsigned long long)tx.duplicated,
				(unsigned long long)tx.reordered, (unsigned long long)tx.corrupted);
		ex_fault = NULL;
	}
	if (ex_latency) {
		us_latency_dump(st, stderr);
		ex_latency = false;
	}
	if (us_stack_destroy(st) != 0) {
		fprintf(stderr, "skbs leaked\n");
		return 1;
	}
	return status;
}

long ex_parse_port(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535)
		return -1;
	return v;
}

int ex_parse_sockaddr(const char *s, uint16_t default_port, struct sockaddr_in *sin)
{
	char host[16];
	const char *colon = strchr(s, ':');
	size_t hlen = colon ? (size_t)(colon - s) : strlen(s);
	long port = default_port;
	uint32_t addr;

	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (strchr(host, '/') || us_parse_ipv4(host, &addr, NULL) != 0)
		return -1;
	if (colon && (port = ex_parse_port(colon + 1)) < 0)
		return -1;
	if (port < 1)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
	sin->sin_port = htons((uint16_t)port);
	return 0;
}

char *ex_format_sockaddr(const struct sockaddr_in *sin, char *buf)
{
	char a[16];

	snprintf(buf, EX_ADDRSTRLEN, "%s:%u", us_format_ipv4(ntohl(sin->sin_addr.s_addr), a),
		 (unsigned)ntohs(sin->sin_port));
	return buf;
}

int ex_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return -1;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

double ex_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ex_wait_fd(int fd, short events, int timeout_ms)
{
	double end = ex_seconds() + (timeout_ms < 0 ? 0 : timeout_ms / 1e3);

	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int slice = 100, n;

		if (ex_stop) {
			errno = EINTR;
			return -1;
		}
		if (timeout_ms >= 0) {
			double left_ms = (end - ex_seconds()) * 1e3;
			if (left_ms < slice)
				slice = left_ms > 0 ? (int)left_ms + 1 : 0;
		}
		n = us_poll(&p, 1, slice);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0)
			return p.revents;
		if (timeout_ms >= 0 && ex_seconds() >= end)
			return 0;
	}
}

int ex_tcp_connect(const struct sockaddr_in *to, int timeout_ms)
{
	int fd = us_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0, r, saved;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return -1;
	if (us_connect(fd, (const struct sockaddr *)to, sizeof(*to)) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	r = ex_wait_fd(fd, POLLOUT, timeout_ms);
	if (r < 0)
		goto fail;
	if (r == 0) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (us_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		goto fail;
	if (err) {
		errno = err;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	us_close(fd);
	errno = saved;
	return -1;
}

int ex_listen(int type, uint16_t port, int backlog)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = us_socket(AF_INET, type | SOCK_NONBLOCK, 0), one = 1, saved;

	if (fd < 0)
		return -1;
	if (us_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    us_bind(fd, (const struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (type == SOCK_STREAM && us_listen(fd, backlog) < 0)) {
		saved = errno;
		us_close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int ex_send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = us_send(fd, p, len, MSG_NOSIGNAL);
		int r;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		r = ex_wait_fd(fd, POLLOUT, timeout_ms);
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}
