/*
 * sock_bench - one TCP benchmark program, built twice: against ustack (sock_bench_ustack, a stack on a
 * TAP device running in its own thread) and against the kernel (sock_bench_kernel, plain sockets).
 * Every socket call goes through S(), so the two ends of every pairing run the same code and only the
 * stack underneath differs. bench/sockets.sh runs the pairings and prints the table.
 *
 * Three workloads, a server and a client each; the server listens, prints "ready" and serves one
 * client, the client measures and prints one line starting "result" with key=value fields:
 *   bulk  --sink PORT / --source ADDR:PORT (--bytes N | --seconds S): the source sends in 64 KB writes,
 *         shuts its side and waits for the sink to close; rate over connect-to-close.
 *   rr    --rr-server PORT / --rr-client ADDR:PORT --seconds S: 1-byte request, 1-byte reply, over
 *         one connection with TCP_NODELAY; transactions per second and latency percentiles.
 *   cps   --cps-server PORT / --cps-client ADDR:PORT --seconds S: connect, 1-byte request, 1-byte
 *         reply, the client closes first (a normal close; it holds TIME-WAIT), the server closes on
 *         end of file; connections per second. A last connection carrying 'q' stops the server.
 * The ustack build also takes the examples' options (--tap, --addr, ...); as a client it waits until
 * the kernel side of the TAP device is up before connecting, and it prints the stack's counters on
 * stderr at exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef SB_USTACK
#include "common.h"
#define S(f) us_##f
#define SB_STACK "ustack"
#else
#define S(f) f
#define SB_STACK "kernel"
#endif

#define SB_CHUNK 65536	  /* bytes per send or recv call in bulk */
#define SB_IO_TIMEOUT 10  /* seconds: SO_RCVTIMEO / SO_SNDTIMEO on every connection */
#define SB_MAX_SECONDS 3600

static double sb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sb_parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[16], *end;
	const char *colon = strchr(s, ':');
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, &end, 10);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (*end || port < 1 || port > 65535 || inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	return 0;
}

static void sb_opts(int fd, bool nodelay)
{
	struct timeval tv = { .tv_sec = SB_IO_TIMEOUT };
	int one = 1;

	S(setsockopt)(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	S(setsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (nodelay)
		S(setsockopt)(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* A blocking connection to `to`, or -1 with errno. */
static int sb_connect(const struct sockaddr_in *to, bool nodelay)
{
	int fd = S(socket)(AF_INET, SOCK_STREAM, 0), saved;

	if (fd < 0)
		return -1;
	sb_opts(fd, nodelay);
	if (S(connect)(fd, (const struct sockaddr *)to, sizeof(*to)) == 0)
		return fd;
	saved = errno;
	S(close)(fd);
	errno = saved;
	return -1;
}

/* A listening socket on port, having printed "ready" for the script; -1 on failure. */
static int sb_listen(long port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = S(socket)(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || S(setsockopt)(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    S(bind)(fd, (const struct sockaddr *)&sin, sizeof(sin)) < 0 || S(listen)(fd, 128) < 0) {
		perror("sock_bench: listen");
		return -1;
	}
	printf("ready stack=%s port=%ld\n", SB_STACK, port);
	fflush(stdout);
	return fd;
}

/* The next connection on lfd within wait_s seconds, or -1. */
static int sb_accept(int lfd, double wait_s, bool nodelay)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int r, fd;

	do
		r = S(poll)(&p, 1, (int)(wait_s * 1000));
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		fprintf(stderr, "sock_bench: no connection within %.0f s\n", wait_s);
		return -1;
	}
	fd = S(accept)(lfd, NULL, NULL);
	if (fd < 0) {
		perror("sock_bench: accept");
		return -1;
	}
	sb_opts(fd, nodelay);
	return fd;
}

/* ---- bulk ---- */

static int sink(long port, double wait_s)
{
	int lfd = sb_listen(port), fd;
	uint64_t got = 0;
	char *buf = malloc(SB_CHUNK);
	ssize_t n;
	double t0;

	if (lfd < 0 || !buf || (fd = sb_accept(lfd, wait_s, false)) < 0)
		return 1;
	t0 = sb_now();
	while ((n = S(recv)(fd, buf, SB_CHUNK, 0)) > 0 || (n < 0 && errno == EINTR))
		got += n > 0 ? (uint64_t)n : 0;
	if (n < 0)
		perror("sock_bench: sink recv");
	printf("result mode=sink stack=%s bytes=%llu seconds=%.3f\n", SB_STACK, (unsigned long long)got,
	       sb_now() - t0);
	S(close)(fd);
	S(close)(lfd);
	free(buf);
	return n < 0;
}

static int source(const struct sockaddr_in *to, uint64_t bytes, double seconds)
{
	char *buf = calloc(1, SB_CHUNK), c;
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	uint64_t sent = 0;
	double t0, end, t1;
	int fd = sb_connect(to, false);
	ssize_t n = 0;

	if (fd < 0 || !buf) {
		perror("sock_bench: connect");
		free(buf);
		return 1;
	}
	t0 = sb_now();
	end = t0 + seconds;
	while (bytes ? sent < bytes : sb_now() < end) {
		size_t len = bytes && bytes - sent < SB_CHUNK ? (size_t)(bytes - sent) : SB_CHUNK;

		n = S(send)(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		sent += (uint64_t)n;
	}
	if (n < 0 || S(shutdown)(fd, SHUT_WR) < 0) {
		perror("sock_bench: source send");
		S(close)(fd);
		free(buf);
		return 1;
	}
	/* the sink closes once it has read everything: then all of it has arrived */
	while ((n = S(recv)(fd, &c, 1, 0)) > 0 || (n < 0 && errno == EINTR))
		;
	t1 = sb_now();
	memset(&ti, 0, sizeof(ti));
	S(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl);
	printf("result mode=bulk stack=%s bytes=%llu seconds=%.3f mbit_s=%.1f retrans=%u%s\n", SB_STACK,
	       (unsigned long long)sent, t1 - t0, (double)sent * 8 / (t1 - t0) / 1e6, ti.tcpi_total_retrans,
	       n < 0 ? " error=close-wait" : "");
	S(close)(fd);
	free(buf);
	return n < 0;
}

/* ---- request/response ---- */

static int rr_server(long port, double wait_s)
{
	int lfd = sb_listen(port), fd;
	uint64_t n = 0;
	ssize_t r;
	char c;

	if (lfd < 0 || (fd = sb_accept(lfd, wait_s, true)) < 0)
		return 1;
	while ((r = S(recv)(fd, &c, 1, 0)) == 1 && S(send)(fd, &c, 1, MSG_NOSIGNAL) == 1)
		n++;
	if (r < 0)
		perror("sock_bench: rr server");
	printf("result mode=rr-server stack=%s transactions=%llu\n", SB_STACK, (unsigned long long)n);
	S(close)(fd);
	S(close)(lfd);
	return r != 0;
}


static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int rr_client(const struct sockaddr_in *to, double seconds)
{
	size_t cap = 1 << 20, n = 0, slow = 0;
	double *lat = malloc(cap * sizeof(*lat)), t0, t, end;
	int fd = sb_connect(to, true), status = 0;
	char c = 'x';

	if (fd < 0 || !lat) {
		perror("sock_bench: connect");
		return 1;
	}
	t0 = t = sb_now();
	end = t0 + seconds;
	while (t < end) {
		double t1;

		if (S(send)(fd, &c, 1, MSG_NOSIGNAL) != 1 || S(recv)(fd, &c, 1, 0) != 1) {
			perror("sock_bench: rr client");
			status = 1;
			break;
		}
		t1 = sb_now();
		if (n == cap) {
			double *more = realloc(lat, 2 * cap * sizeof(*lat));
			if (!more)
				break;
			lat = more;
			cap *= 2;
		}
		slow += t1 - t > 0.010;
		lat[n++] = t1 - t;
		t = t1;
	}
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("result mode=rr stack=%s transactions=%zu seconds=%.3f tps=%.0f p50_us=%.1f p99_us=%.1f "
	       "max_us=%.0f over_10ms=%zu\n",
	       SB_STACK, n, t - t0, n ? (double)n / (t - t0) : 0, n ? lat[n / 2] * 1e6 : 0,
	       n ? lat[n * 99 / 100] * 1e6 : 0, n ? lat[n - 1] * 1e6 : 0, slow);
	S(close)(fd);
	free(lat);
	return status;
}

/* ---- connections per second ---- */

static int cps_server(long port, double wait_s)
{
	int lfd = sb_listen(port), status = 0;
	uint64_t n = 0, errors = 0;

	if (lfd < 0)
		return 1;
	for (;;) {
		int fd = sb_accept(lfd, wait_s, true);
		ssize_t r;
		char c = 0;

		if (fd < 0) {
			status = 1;
			break;
		}
		r = S(recv)(fd, &c, 1, 0);
		if (r == 1 && S(send)(fd, &c, 1, MSG_NOSIGNAL) == 1) {
			while ((r = S(recv)(fd, &c, 1, 0)) > 0)
				;
		} else {
			r = -1;
		}
		if (r < 0)
			errors++;
		n++;
		S(close)(fd);
		if (c == 'q')
			break;
	}
	printf("result mode=cps-server stack=%s connections=%llu errors=%llu\n", SB_STACK,
	       (unsigned long long)n, (unsigned long long)errors);
	S(close)(lfd);
	return status;
}

/* One connection: connect, a byte each way, close. 0 or an errno. */
static int cps_one(const struct sockaddr_in *to, char req)
{
	int fd = sb_connect(to, true), err = 0;
	char c = req;

	if (fd < 0)
		return errno;
	if (S(send)(fd, &c, 1, MSG_NOSIGNAL) != 1 || S(recv)(fd, &c, 1, 0) != 1)
		err = errno ? errno : EPROTO;
	S(close)(fd);
	return err;
}

static int cps_client(const struct sockaddr_in *to, double seconds)
{
	static uint32_t per_sec[SB_MAX_SECONDS];
	uint64_t n = 0, errors = 0;
	double t0 = sb_now(), t = t0, end = t0 + seconds, worst = 0;
	int first_err = 0, fails_in_row = 0, nsec = (int)seconds + (seconds > (int)seconds);

	while (t < end && fails_in_row < 1000) {
		int err = cps_one(to, 'x');
		double t1 = sb_now();

		if (err) {
			errors++;
			fails_in_row++;
			if (!first_err)
				first_err = err;
		} else {
			fails_in_row = 0;
			n++;
			per_sec[(int)(t1 - t0) < nsec ? (int)(t1 - t0) : nsec - 1]++; /* the last one late */
			if (t1 - t > worst)
				worst = t1 - t;
		}
		t = t1;
	}
	printf("result mode=cps stack=%s connections=%llu seconds=%.3f cps=%.0f max_ms=%.1f errors=%llu",
	       SB_STACK, (unsigned long long)n, t - t0, (double)n / (t - t0), worst * 1e3,
	       (unsigned long long)errors);
	if (first_err)
		printf(" first_error=%s", strerror(first_err));
	printf(" per_second=");
	for (int i = 0; i < nsec; i++)
		printf("%s%u", i ? "," : "", per_sec[i]);
	printf("\n");
	fflush(stdout);
	/* the last connection tells the server to stop */
	if (cps_one(to, 'q') != 0)
		fprintf(stderr, "sock_bench: stopping the server: %s\n", strerror(errno));
	/* the server's FIN comes after our close: stay long enough to acknowledge it, or the peer's
	 * LAST-ACK retransmits it into whatever runs next on the address (and gets a RST) */
	usleep(200000);
	return errors != 0;
}

#ifdef SB_USTACK
/* Wait until the kernel side of the TAP device is up (the script gives it its address first), so
 * that the first SYN is not lost; at most 10 s. */
static void wait_tap_up(const char *name)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0); /* a kernel socket: this asks the kernel */

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	for (int i = 0; i < 1000; i++) {
		if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP))
			break;
		usleep(10000);
	}
	close(fd);
}
#endif

static void usage(FILE *to)
{
	fprintf(to,
		"usage: sock_bench --sink PORT | --source ADDR:PORT (--bytes N | --seconds S)\n"
		"                  --rr-server PORT | --rr-client ADDR:PORT --seconds S\n"
		"                  --cps-server PORT | --cps-client ADDR:PORT --seconds S\n"
		"  --wait S     (servers) give up when no connection comes for S seconds (default 30)\n"
		"Prints \"ready ...\" when a server listens and one \"result mode=... key=value ...\" line.\n"
#ifdef SB_USTACK
		EX_COMMON_HELP
#endif
	);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sink", required_argument, NULL, 's' },     { "source", required_argument, NULL, 'S' },
		{ "rr-server", required_argument, NULL, 'r' }, { "rr-client", required_argument, NULL, 'R' },
		{ "cps-server", required_argument, NULL, 'c' }, { "cps-client", required_argument, NULL, 'C' },
		{ "bytes", required_argument, NULL, 'b' },    { "seconds", required_argument, NULL, 't' },
		{ "wait", required_argument, NULL, 'w' },
#ifdef SB_USTACK
		EX_COMMON_LONGOPTS,
#else
		{ "help", no_argument, NULL, 'h' },
#endif
		{ NULL, 0, NULL, 0 }
	};
	struct sockaddr_in to;
	const char *arg = NULL;
	unsigned long long bytes = 0;
	double seconds = 0, wait_s = 30;
	long port = 0;
	int mode = 0, c, status;
#ifdef SB_USTACK
	struct ex_opts o;
	struct us_stack *st;

	ex_opts_init(&o);
#endif
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
#ifdef SB_USTACK
		if (ex_opt(&o, c, optarg))
			continue;
#endif
		switch (c) {
		case 's': case 'S': case 'r': case 'R': case 'c': case 'C':
			if (mode) {
				usage(stderr);
				return 2;
			}
			mode = c;
			arg = optarg;
			break;
		case 'b': bytes = strtoull(optarg, NULL, 10); break;
		case 't': seconds = atof(optarg); break;
		case 'w': wait_s = atof(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!mode || optind != argc || wait_s <= 0 || seconds < 0 || seconds > SB_MAX_SECONDS - 1) {
		usage(stderr);
		return 2;
	}
	if (mode == 's' || mode == 'r' || mode == 'c') {
		port = strtol(arg, NULL, 10);
		if (port < 1 || port > 65535) {
			usage(stderr);
			return 2;
		}
	} else if (sb_parse_addr(arg, &to) != 0 || (mode == 'S' ? !bytes == !seconds : seconds <= 0)) {
		usage(stderr);
		return 2;
	}
#ifdef SB_USTACK
	st = ex_stack_start(&o, NULL);
	if (mode == 'S' || mode == 'R' || mode == 'C')
		wait_tap_up(o.tap);
#endif
	switch (mode) {
	case 's': status = sink(port, wait_s); break;
	case 'S': status = source(&to, bytes, seconds); break;
	case 'r': status = rr_server(port, wait_s); break;
	case 'R': status = rr_client(&to, seconds); break;
	case 'c': status = cps_server(port, wait_s); break;
	default: status = cps_client(&to, seconds); break;
	}
	fflush(stdout);
#ifdef SB_USTACK
	status = ex_stack_down(st, status);
#endif
	return status;
}
