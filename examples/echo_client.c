/*
 * echo_client - a client for a TCP echo server (RFC 862) on ustack's socket API. It sends stdin, or
 * --count generated messages of --size bytes, one piece at a time; reads each piece back while it is
 * being sent, checks every byte against what was sent, and prints what came back to stdout. Then it
 * shuts its side and waits for the server to close. The exit status is 0 only if everything came
 * back, intact.
 *
 * Try it against echo_server on another stack, or a kernel echo server (ncat -l -k -e /bin/cat 7):
 *   echo 'hello, echo' | echo_client --tap tap1 --addr 198.18.1.2/24 --gw 198.18.1.1 198.18.0.2
 *   echo_client --tap tap1 --addr 198.18.1.2/24 --count 1000 --size 4000 --quiet 198.18.1.1:7
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define STDIN_CHUNK 65536

static void usage(FILE *to)
{
	fprintf(to, "usage: echo_client [options] ADDR[:PORT]\n"
		    "Send stdin (or generated messages) to a TCP echo server at ADDR (numeric IPv4, port\n"
		    "default 7), check that every byte comes back and print what does.\n"
		    "  --count N       send N generated messages instead of stdin\n"
		    "  --size S        bytes per generated message (default 100; K, M suffixes)\n"
		    "  --timeout SEC   give up when nothing moves for SEC seconds (default 10)\n"
		    "  --quiet         do not print what comes back\n" EX_COMMON_HELP);
}

/* Message i of the generated ones: a printable line of exactly len bytes. */
static void make_message(uint8_t *p, size_t len, long i)
{
	char head[48];
	int hlen = snprintf(head, sizeof(head), "message %ld: ", i);

	for (size_t j = 0; j < len; j++)
		p[j] = j < (size_t)hlen ? (uint8_t)head[j] : (uint8_t)('a' + (size_t)(i + (long)j) % 26);
	if (len > 0)
		p[len - 1] = '\n';
}

/* Send len bytes and read len bytes back, at the same time so that a piece larger than the buffers
 * on the way cannot deadlock; every byte received is compared with the one sent. 0 when all came
 * back equal, -1 after printing why not. */
static int roundtrip(int fd, const uint8_t *out, size_t len, uint8_t *in, int timeout_ms,
		     uint64_t *echoed, uint64_t base)
{
	size_t sent = 0, got = 0;

	while (got < len) {
		bool moved = false;
		ssize_t n;
		int r;

		if (sent < len) {
			n = us_send(fd, out + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0) {
				sent += (size_t)n;
				moved = true;
			} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				fprintf(stderr, "echo_client: send: %s\n", strerror(errno));
				return -1;
			}
		}
		n = us_recv(fd, in + got, len - got, MSG_DONTWAIT);
		if (n == 0) {
			fprintf(stderr, "echo_client: the server closed after %llu bytes\n",
				(unsigned long long)(base + got));
			return -1;
		}
		if (n > 0) {
			for (size_t k = 0; k < (size_t)n; k++) {
				if (in[got + k] != out[got + k]) {
					fprintf(stderr, "echo_client: byte %llu differs: sent 0x%02x, got 0x%02x\n",
						(unsigned long long)(base + got + k), out[got + k], in[got + k]);
					return -1;
				}
			}
			got += (size_t)n;
			*echoed += (uint64_t)n;
			moved = true;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			fprintf(stderr, "echo_client: recv: %s\n", strerror(errno));
			return -1;
		}
		if (moved)
			continue;
		r = ex_wait_fd(fd, (short)(POLLIN | (sent < len ? POLLOUT : 0)), timeout_ms);
		if (r <= 0) {
			fprintf(stderr, "echo_client: %s after %llu bytes echoed\n",
				r == 0 ? "timed out" : strerror(errno), (unsigned long long)(base + got));
			return -1;
		}
	}
	return 0;
}

/* After our FIN, the server should close too, without sending anything more. */
static int wait_close(int fd, int timeout_ms)
{
	uint8_t extra[512];

	for (;;) {
		ssize_t n = us_recv(fd, extra, sizeof(extra), MSG_DONTWAIT);
		int r;

		if (n == 0)
			return 0;
		if (n > 0) {
			fprintf(stderr, "echo_client: %zd bytes more than were sent\n", n);
			return -1;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			fprintf(stderr, "echo_client: waiting for the close: %s\n", strerror(errno));
			return 0; /* everything was echoed; how the server left does not change that */
		}
		r = ex_wait_fd(fd, POLLIN, timeout_ms);
		if (r <= 0) {
			fprintf(stderr, "echo_client: the server did not close: %s\n",
				r == 0 ? "timed out" : strerror(errno));
			return 0;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "count", required_argument, NULL, 'c' },
					      { "size", required_argument, NULL, 's' },
					      { "timeout", required_argument, NULL, 't' },
					      { "quiet", no_argument, NULL, 'q' },
					      EX_COMMON_LONGOPTS,
					      { NULL, 0, NULL, 0 } };
	struct sockaddr_in to;
	struct ex_opts o;
	struct us_stack *st;
	uint64_t size = 100, sent = 0, echoed = 0;
	uint8_t *out = NULL, *in = NULL;
	long count = -1;
	double timeout = 10, t0;
	char a[EX_ADDRSTRLEN];
	bool quiet = false;
	int c, fd, status = 0, timeout_ms;

	ex_opts_init(&o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ex_opt(&o, c, optarg))
			continue;
		switch (c) {
		case 'c': count = atol(optarg); break;
		case 's':
			if (ex_parse_size(optarg, &size) != 0)
				size = 0;
			break;
		case 't': timeout = atof(optarg); break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || ex_parse_sockaddr(argv[optind], 7, &to) != 0 ||
	    (count >= 0 && (count < 1 || size < 1 || size > (64u << 20))) || timeout <= 0 ||
	    timeout > 86400) {
		usage(stderr);
		return 2;
	}
	timeout_ms = (int)(timeout * 1000);
	if (count < 0)
		size = STDIN_CHUNK;
	out = malloc(size);
	in = malloc(size);
	if (!out || !in) {
		fprintf(stderr, "echo_client: out of memory\n");
		free(out);
		free(in);
		return 1;
	}
	st = ex_stack_start(&o, NULL);
	ex_signals();
	fd = ex_tcp_connect(&to, timeout_ms);
	if (fd < 0) {
		fprintf(stderr, "echo_client: connect %s: %s\n", ex_format_sockaddr(&to, a), strerror(errno));
		free(out);
		free(in);
		return ex_stack_down(st, 1);
	}
	fprintf(stderr, "echo_client: connected to %s\n", ex_format_sockaddr(&to, a));
	us_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	t0 = ex_seconds();
	for (long i = 0; status == 0 && (count < 0 || i < count); i++) {
		size_t len = (size_t)size;

		if (count < 0) {
			ssize_t n = read(0, out, len);
			if (n == 0)
				break;
			if (n < 0) {
				if (errno == EINTR && !ex_stop) {
					i--;
					continue;
				}
				fprintf(stderr, "echo_client: stdin: %s\n", strerror(errno));
				status = 1;
				break;
			}
			len = (size_t)n;
		} else {
			make_message(out, len, i);
		}
		if (roundtrip(fd, out, len, in, timeout_ms, &echoed, sent) != 0) {
			status = 1;
			break;
		}
		sent += len;
		if (!quiet) {
			fwrite(in, 1, len, stdout);
			fflush(stdout);
		}
	}
	if (status == 0 && ex_stop) {
		fprintf(stderr, "echo_client: interrupted\n");
		status = 1;
	}
	if (status == 0 && us_shutdown(fd, SHUT_WR) != 0) {
		fprintf(stderr, "echo_client: shutdown: %s\n", strerror(errno));
		status = 1;
	}
	if (status == 0 && wait_close(fd, timeout_ms) != 0)
		status = 1;
	us_close(fd);
	fprintf(stderr, "echo_client: %llu bytes sent, %llu echoed in %.3f s: %s\n",
		(unsigned long long)sent, (unsigned long long)echoed, ex_seconds() - t0,
		status == 0 ? "all equal" : "FAILED");
	free(out);
	free(in);
	return ex_stack_down(st, status);
}
