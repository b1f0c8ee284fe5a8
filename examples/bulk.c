/*
 * bulk - TCP throughput over ustack's socket API, either end.
 *
 * Sink (--listen PORT): accept connections, many at once through us_epoll, read and discard, and
 * print a line per connection when it closes. Source (--connect ADDR:PORT --bytes N): send N bytes
 * in large writes, shut the sending side and wait for the sink to close, then print the rate.
 * Either way the last line on stdout reads "bulk: bytes=N seconds=S MBps=X" (MB being 10^6 bytes),
 * for scripts; for the sink it adds up every connection, from the first accept to the last close.
 * Before it, "bulk: tcpi_total_retrans=N": the segments the connection (the sink: all of them)
 * retransmitted, from TCP_INFO.
 *
 * Try it against the kernel (in a network namespace; the kernel side of the TAP device is 198.18.0.1):
 *   nc -l -p 5001 >/dev/null &
 *   bulk --tap tap0 --addr 198.18.0.2/24 --connect 198.18.0.1:5001 --bytes 100M
 *   bulk --tap tap0 --addr 198.18.0.2/24 --listen 5001 --once &
 *   head -c 100M /dev/zero | nc -N 198.18.0.2 5001
 */
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "common.h"

struct conn {
	int fd;
	struct sockaddr_in peer;
	uint64_t bytes;
	double start;
	struct conn *prev, *next;
};

static int listener_tag; /* its address marks the listener's events */

static void usage(FILE *to)
{
	fprintf(to, "usage: bulk --listen PORT [options]\n"
		    "       bulk --connect ADDR:PORT --bytes N [options]\n"
		    "TCP throughput: a sink that reads and discards, or a source that sends N bytes.\n"
		    "  --listen PORT     be the sink on PORT\n"
		    "  --once            (sink) stop after the first connection closes\n"
		    "  --out FILE        (sink) write what arrives to FILE (a file or a FIFO; with --once)\n"
		    "  --connect A:P     be the source, sending to A:P (numeric IPv4)\n"
		    "  --bytes N         (source) how much to send; K, M, G suffixes (powers of 1024)\n"
		    "  --buf SIZE        bytes per send or recv call (default 64K)\n"
		    "  --timeout SEC     (source) give up when nothing moves for SEC seconds (default 10)\n"
		    "  --seconds N       stop after N seconds (default: no limit)\n" EX_COMMON_HELP);
}

static void report(const char *who, uint64_t bytes, double secs)
{
	printf("bulk: %s%s%sbytes=%llu seconds=%.3f MBps=%.2f\n", who ? "conn=" : "", who ? who : "",
	       who ? " " : "",
	       (unsigned long long)bytes, secs, secs > 0 ? (double)bytes / secs / 1e6 : 0.0);
	fflush(stdout);
}

/* TCP_INFO's count of retransmitted segments. */
static unsigned retrans_of(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (us_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	return ti.tcpi_total_retrans;
}

/* The sink: every connection read to its end. Returns the exit status. */
static int sink(long port, bool once, size_t bufsz, double end, FILE *out)
{
	struct epoll_event evs[64], lev = { .events = EPOLLIN, .data.ptr = &listener_tag };
	struct conn *conns = NULL;
	uint64_t total = 0, retrans = 0;
	double first = 0, last = 0;
	uint8_t *buf = malloc(bufsz);
	int lfd = ex_listen(SOCK_STREAM, (uint16_t)port, 128), ep = us_epoll_create1(0), status = 0;
	bool done = false;

	if (!buf || lfd < 0 || ep < 0 || us_epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
		fprintf(stderr, "bulk: listen on %ld: %s\n", port, strerror(errno));
		status = 1;
		done = true;
	} else {
		fprintf(stderr, "bulk: sink on port %ld\n", port);
	}
	while (!done && !ex_stop && (end == 0 || ex_seconds() < end)) {
		int n = us_epoll_wait(ep, evs, 64, 200);

		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			char a[EX_ADDRSTRLEN];
			ssize_t r = 0;

			if (evs[i].data.ptr == &listener_tag) {
				struct sockaddr_in peer;
				socklen_t plen = sizeof(peer);
				int fd;

				while ((fd = us_accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK)) >= 0) {
					struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
					if (!(c = calloc(1, sizeof(*c)))) {
						us_close(fd);
						continue;
					}
					c->fd = fd;
					c->peer = peer;
					c->start = ex_seconds();
					if (first == 0)
						first = c->start;
					ev.data.ptr = c;
					us_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
					c->next = conns;
					if (conns)
						conns->prev = c;
					conns = c;
					fprintf(stderr, "bulk: %s connected\n", ex_format_sockaddr(&peer, a));
					plen = sizeof(peer);
				}
				continue;
			}
			/* a few reads, then the next connection: the event comes back while data is waiting */
			for (int k = 0; k < 16 && (r = us_recv(c->fd, buf, bufsz, 0)) > 0; k++) {
				if (out && fwrite(buf, 1, (size_t)r, out) != (size_t)r) {
					fprintf(stderr, "bulk: --out: %s\n", strerror(errno));
					status = 1;
					done = true;
				}
				c->bytes += (uint64_t)r;
				total += (uint64_t)r;
			}
			if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
				continue;
			if (r < 0) {
				fprintf(stderr, "bulk: %s: %s\n", ex_format_sockaddr(&c->peer, a), strerror(errno));
				status = 1;
			}
			last = ex_seconds();
			retrans += retrans_of(c->fd);
			report(ex_format_sockaddr(&c->peer, a), c->bytes, last - c->start);
			us_epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			us_close(c->fd);
			if (c->prev)
				c->prev->next = c->next;
			else
				conns = c->next;
			if (c->next)
				c->next->prev = c->prev;
			free(c);
			done = once;
		}
	}
	while (conns) {
		struct conn *c = conns;
		conns = c->next;
		us_close(c->fd);
		free(c);
	}
	if (lfd >= 0)
		us_close(lfd);
	if (ep >= 0)
		us_close(ep);
	free(buf);
	printf("bulk: tcpi_total_retrans=%llu\n", (unsigned long long)retrans);
	report(NULL, total, last > first ? last - first : 0);
	return status;
}

/* The sink has closed its side; a sink that half-closes before it has read everything (nc -N with
 * nothing to send) says nothing of what arrived, so wait, up to timeout_ms, until SIOCOUTQ says
 * every byte and our FIN are acknowledged, as a kernel sender's orphaned socket would go on
 * delivering after exit. 0 when they are, else 1 with a message. */
static int outq_drained(int fd, int timeout_ms)
{
	double until = ex_seconds() + timeout_ms / 1000.0;
	int q = -1;

	for (;;) {
		if (us_ioctl(fd, SIOCOUTQ, &q) != 0) {
			fprintf(stderr, "bulk: SIOCOUTQ: %s\n", strerror(errno));
			return 1;
		}
		if (q == 0)
			return 0;
		if (ex_seconds() >= until)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	fprintf(stderr, "bulk: the sink closed with %d bytes not acknowledged after %d ms\n", q, timeout_ms);
	return 1;
}

/* The source: N bytes, our FIN, the sink's close, and our bytes all acknowledged. Returns the exit
 * status. */
static int source(const struct sockaddr_in *to, uint64_t bytes, size_t bufsz, int timeout_ms, double end)
{
	uint8_t *buf = malloc(bufsz), extra[512];
	uint64_t sent = 0;
	double t0;
	char a[EX_ADDRSTRLEN];
	int fd, status = 1;

	if (!buf) {
		fprintf(stderr, "bulk: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < bufsz; i++)
		buf[i] = (uint8_t)i;
	fd = ex_tcp_connect(to, timeout_ms);
	if (fd < 0) {
		fprintf(stderr, "bulk: connect %s: %s\n", ex_format_sockaddr(to, a), strerror(errno));
		free(buf);
		return 1;
	}
	fprintf(stderr, "bulk: connected to %s, sending %llu bytes\n", ex_format_sockaddr(to, a),
		(unsigned long long)bytes);
	t0 = ex_seconds();
	while (sent < bytes) {
		size_t n = bytes - sent < bufsz ? (size_t)(bytes - sent) : bufsz;
		if (end && ex_seconds() >= end) {
			errno = ETIMEDOUT;
			break;
		}
		if (ex_send_all(fd, buf, n, timeout_ms) != 0)
			break;
		sent += n;
	}
	if (sent < bytes) {
		fprintf(stderr, "bulk: send after %llu bytes: %s\n", (unsigned long long)sent, strerror(errno));
	} else if (us_shutdown(fd, SHUT_WR) != 0) {
		fprintf(stderr, "bulk: shutdown: %s\n", strerror(errno));
	} else {
		/* the sink closes once it has read everything: then all of it has arrived */
		for (;;) {
			ssize_t r = us_recv(fd, extra, sizeof(extra), MSG_DONTWAIT);
			int w;
			if (r == 0) {
				status = outq_drained(fd, timeout_ms);
				break;
			}
			if (r > 0)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				fprintf(stderr, "bulk: waiting for the close: %s\n", strerror(errno));
				break;
			}
			w = ex_wait_fd(fd, POLLIN, timeout_ms);
			if (w <= 0) {
				fprintf(stderr, "bulk: waiting for the close: %s\n", w == 0 ? "timed out" : strerror(errno));
				break;
			}
		}
	}
	printf("bulk: tcpi_total_retrans=%u\n", retrans_of(fd));
	report(NULL, sent, ex_seconds() - t0);
	us_close(fd);
	free(buf);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "listen", required_argument, NULL, 'l' },
					      { "once", no_argument, NULL, '1' },
					      { "connect", required_argument, NULL, 'c' },
					      { "bytes", required_argument, NULL, 'b' },
					      { "buf", required_argument, NULL, 'B' },
					      { "timeout", required_argument, NULL, 't' },
					      { "seconds", required_argument, NULL, 's' },
					      { "out", required_argument, NULL, 'o' },
					      EX_COMMON_LONGOPTS,
					      { NULL, 0, NULL, 0 } };
	struct sockaddr_in to;
	struct ex_opts o;
	struct us_stack *st;
	const char *connect_to = NULL, *out_path = NULL;
	FILE *out = NULL;
	uint64_t bytes = 0, bufsz = 65536;
	long port = 0;
	double timeout = 10, seconds = 0, end;
	bool once = false, have_bytes = false;
	int c, status;

	ex_opts_init(&o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ex_opt(&o, c, optarg))
			continue;
		switch (c) {
		case 'l': port = ex_parse_port(optarg); break;
		case '1': once = true; break;
		case 'c': connect_to = optarg; break;
		case 'b': have_bytes = ex_parse_size(optarg, &bytes) == 0; break;
		case 'B':
			if (ex_parse_size(optarg, &bufsz) != 0)
				bufsz = 0;
			break;
		case 't': timeout = atof(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'o': out_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (port != 0) == (connect_to != NULL) || port < 0 || bufsz < 1 ||
	    bufsz > (16u << 20) || timeout <= 0 || timeout > 86400 ||
	    (connect_to && (!have_bytes || ex_parse_sockaddr(connect_to, 0, &to) != 0)) ||
	    (connect_to && out_path)) {
		usage(stderr);
		return 2;
	}
	if (out_path && !(out = fopen(out_path, "wb"))) {
		fprintf(stderr, "bulk: %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	st = ex_stack_start(&o, NULL);
	ex_signals();
	end = seconds > 0 ? ex_seconds() + seconds : 0;
	if (connect_to)
		status = source(&to, bytes, (size_t)bufsz, (int)(timeout * 1000), end);
	else
		status = sink(port, once, (size_t)bufsz, end, out);
	if (out && fclose(out) != 0 && status == 0) {
		fprintf(stderr, "bulk: --out: %s\n", strerror(errno));
		status = 1;
	}
	return ex_stack_down(st, status);
}
