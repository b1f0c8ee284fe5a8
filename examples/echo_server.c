/*
 * echo_server - a TCP echo server (RFC 862) on ustack's socket API: whatever a client sends comes
 * back to it, byte for byte, to many clients at once. One thread and one us_epoll instance watch the
 * listener and every connection (non-blocking sockets, level-triggered). A connection whose echo
 * cannot be sent yet is not read until it can, so a client that sends without reading is held back
 * by TCP flow control instead of making the server buffer without bound.
 *
 * Try it (in a network namespace; the kernel side of the TAP device gets 198.18.0.1/24):
 *   echo_server --tap tap0 --addr 198.18.0.2/24 &
 *   ip addr add 198.18.0.1/24 dev tap0; ip link set tap0 up
 *   nc 198.18.0.2 7
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define ECHO_BUF 16384

struct conn {
	int fd;
	struct sockaddr_in peer;
	uint8_t buf[ECHO_BUF];
	size_t off, len;  /* buf[off, len) is received and not yet echoed */
	bool eof;	  /* the client has shut its side */
	uint32_t events;  /* what the epoll instance watches for */
	uint64_t echoed;  /* bytes */
	struct conn *prev, *next;
};

static struct conn *conns;
static long nconns;
static int listener_tag; /* its address marks the listener's events */

static void usage(FILE *to)
{
	fprintf(to, "usage: echo_server [options]\n"
		    "TCP echo (RFC 862): every byte a client sends is sent back to it.\n"
		    "  --port N         TCP port (default 7)\n"
		    "  --max-clients N  connections at once; more are accepted and closed (default 1024)\n"
		    "  --seconds N      stop after N seconds (default: until SIGINT/SIGTERM)\n"
		    "  --quiet          no line per connection\n" EX_COMMON_HELP);
}

static void conn_close(int ep, struct conn *c, const char *why, bool quiet)
{
	char a[EX_ADDRSTRLEN];

	if (!quiet)
		fprintf(stderr, "echo_server: %s closed, %llu bytes echoed%s%s\n",
			ex_format_sockaddr(&c->peer, a), (unsigned long long)c->echoed, why ? ": " : "",
			why ? why : "");
	us_epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	us_close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	nconns--;
	free(c);
}

static void accept_all(int ep, int lfd, long max_clients, bool quiet)
{
	for (;;) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		char a[EX_ADDRSTRLEN];
		struct epoll_event ev;
		struct conn *c;
		int one = 1;
		int fd = us_accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fprintf(stderr, "echo_server: accept: %s\n", strerror(errno));
			return;
		}
		c = nconns < max_clients ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			fprintf(stderr, "echo_server: %s refused: %ld clients\n",
				ex_format_sockaddr(&peer, a), nconns);
			us_close(fd);
			continue;
		}
		/* echo each piece as it comes: Nagle would hold a short tail back until the client's
		 * delayed ACK */
		us_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->peer = peer;
		c->events = EPOLLIN | EPOLLRDHUP;
		ev.events = c->events;
		ev.data.ptr = c;
		if (us_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			fprintf(stderr, "echo_server: epoll_ctl: %s\n", strerror(errno));
			us_close(fd);
			free(c);
			continue;
		}
		c->next = conns;
		if (conns)
			conns->prev = c;
		conns = c;
		nconns++;
		if (!quiet)
			fprintf(stderr, "echo_server: %s connected (%ld clients)\n",
				ex_format_sockaddr(&peer, a), nconns);
	}
}

/* Read when the buffer is empty, send what is buffered, and close once the client has shut its side
 * and everything is echoed. */
static void conn_event(int ep, struct conn *c, uint32_t events, bool quiet)
{
	uint32_t want;

	if (events & EPOLLERR) {
		int err = 0;
		socklen_t len = sizeof(err);
		us_getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		conn_close(ep, c, strerror(err ? err : EIO), quiet);
		return;
	}
	if (c->len == 0 && !c->eof && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
		ssize_t n = us_recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (n > 0) {
			c->off = 0;
			c->len = (size_t)n;
		} else if (n == 0) {
			c->eof = true;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_close(ep, c, strerror(errno), quiet);
			return;
		}
	}
	if (c->off < c->len) {
		ssize_t n = us_send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (n > 0) {
			c->off += (size_t)n;
			c->echoed += (uint64_t)n;
			if (c->off == c->len)
				c->off = c->len = 0;
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_close(ep, c, strerror(errno), quiet);
			return;
		}
	}
	if (c->eof && c->len == 0) {
		conn_close(ep, c, NULL, quiet);
		return;
	}
	want = c->len ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
	if (want != c->events) {
		struct epoll_event ev = { .events = want, .data.ptr = c };
		c->events = want;
		us_epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "port", required_argument, NULL, 'p' },
					      { "max-clients", required_argument, NULL, 'm' },
					      { "seconds", required_argument, NULL, 's' },
					      { "quiet", no_argument, NULL, 'q' },
					      EX_COMMON_LONGOPTS,
					      { NULL, 0, NULL, 0 } };
	struct epoll_event evs[64], lev;
	struct ex_opts o;
	struct us_stack *st;
	long port = 7, max_clients = 1024;
	double seconds = 0, end;
	bool quiet = false;
	int c, lfd, ep;

	ex_opts_init(&o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ex_opt(&o, c, optarg))
			continue;
		switch (c) {
		case 'p': port = ex_parse_port(optarg); break;
		case 'm': max_clients = atol(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (port < 0 || max_clients < 1 || optind != argc) {
		usage(stderr);
		return 2;
	}
	st = ex_stack_start(&o, NULL);
	ex_signals();
	lfd = ex_listen(SOCK_STREAM, (uint16_t)port, 128);
	ep = us_epoll_create1(0);
	if (lfd < 0 || ep < 0) {
		fprintf(stderr, "echo_server: %s: %s\n", lfd < 0 ? "listen" : "epoll_create", strerror(errno));
		if (lfd >= 0)
			us_close(lfd);
		return ex_stack_down(st, 1);
	}
	lev.events = EPOLLIN;
	lev.data.ptr = &listener_tag;
	us_epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	fprintf(stderr, "echo_server: %s on %s, TCP port %ld\n", o.addr, o.tap, port);
	end = seconds > 0 ? ex_seconds() + seconds : 0;
	while (!ex_stop && (end == 0 || ex_seconds() < end)) {
		int n = us_epoll_wait(ep, evs, 64, 200);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "echo_server: epoll_wait: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &listener_tag)
				accept_all(ep, lfd, max_clients, quiet);
			else
				conn_event(ep, evs[i].data.ptr, evs[i].events, quiet);
		}
	}
	while (conns)
		conn_close(ep, conns, "server stopping", quiet);
	us_close(lfd);
	us_close(ep);
	return ex_stack_down(st, 0);
}
