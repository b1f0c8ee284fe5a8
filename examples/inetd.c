/*
 * inetd - the classic small services on one ustack, over TCP and UDP, as inetd's built-ins served
 * them: echo on port 7 (RFC 862), discard on 9 (RFC 863) and chargen on 19 (RFC 864).
 *
 * TCP echo sends back what it reads; discard reads and drops; chargen sends the RFC 864 pattern (lines
 * of 72 of the 95 printable ASCII characters, each line starting one character further on, then CR
 * LF) until the client closes, or until --chargen-bytes have gone out and the server closes. UDP echo
 * answers every datagram with itself, discard with nothing, chargen with a datagram of a random
 * length from 0 to 512 bytes of the pattern, starting at the next line.
 *
 * One thread and one us_epoll instance watch the six sockets and every connection, level-triggered.
 *
 * Try it (in a network namespace; the kernel side of the TAP device gets 198.18.0.1/24):
 *   inetd --tap tap0 --addr 198.18.0.2/24 &
 *   ip addr add 198.18.0.1/24 dev tap0; ip link set tap0 up
 *   nc 198.18.0.2 19 | head -5;  echo hi | nc -u -w1 198.18.0.2 7;  echo x | nc -u -w1 198.18.0.2 19
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define CONN_BUF 16384	     /* per connection: echo data or chargen text waiting to go out */
#define CHARGEN_LINE 72	     /* printable characters per line */
#define CHARGEN_UDP_MAX 512  /* RFC 864: "between 0 and 512" characters */

enum service { SVC_ECHO, SVC_DISCARD, SVC_CHARGEN };
enum kind { KIND_LISTENER, KIND_UDP, KIND_CONN };

static const char *const svc_name[] = { "echo", "discard", "chargen" };
static const uint16_t svc_port[] = { 7, 9, 19 };

/* What an epoll event points at: a listener, a UDP socket or a connection (which starts with one). */
struct item {
	enum kind kind;
	enum service svc;
	int fd;
	uint64_t chargen_pos; /* UDP chargen: offset of the next line in the pattern */
};

struct conn {
	struct item it;
	struct sockaddr_in peer;
	uint8_t buf[CONN_BUF];
	size_t off, len;     /* buf[off, len) is still to send */
	bool eof;	     /* the client has shut its side */
	uint32_t events;     /* what the epoll instance watches for */
	uint64_t chargen_pos; /* next byte of the pattern */
	uint64_t in, out;    /* bytes */
	struct conn *prev, *next;
};

struct server {
	int ep;
	uint64_t chargen_bytes; /* 0: until the client closes */
	long max_conns;
	bool quiet;
	uint64_t rng;		/* xorshift64 state for UDP chargen lengths */
	struct conn *conns;
	long nconns;
};

static void usage(FILE *to)
{
	fprintf(to, "usage: inetd [options]\n"
		    "echo (7), discard (9) and chargen (19), over TCP and UDP.\n"
		    "  --chargen-bytes N  TCP chargen sends N bytes, then closes (default: until the\n"
		    "                     client closes; K, M, G suffixes)\n"
		    "  --max-conns N      TCP connections at once (default 1024)\n"
		    "  --seconds N        stop after N seconds (default: until SIGINT/SIGTERM)\n"
		    "  --quiet            no line per connection\n" EX_COMMON_HELP);
}

/* RFC 864's pattern from offset pos: line k holds the printable characters k, k+1, ... k+71 (mod
 * 95, counting from the space), then CR LF. */
static void chargen_fill(uint64_t pos, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++, pos++) {
		uint64_t line = pos / (CHARGEN_LINE + 2), col = pos % (CHARGEN_LINE + 2);
		p[i] = col < CHARGEN_LINE ? (uint8_t)(' ' + (line + col) % 95) : col == CHARGEN_LINE ? '\r' : '\n';
	}
}

static uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void conn_close(struct server *s, struct conn *c, const char *why)
{
	char a[EX_ADDRSTRLEN];

	if (!s->quiet)
		fprintf(stderr, "inetd: tcp/%s %s closed, %llu bytes in, %llu out%s%s\n", svc_name[c->it.svc],
			ex_format_sockaddr(&c->peer, a), (unsigned long long)c->in,
			(unsigned long long)c->out, why ? ": " : "", why ? why : "");
	us_epoll_ctl(s->ep, EPOLL_CTL_DEL, c->it.fd, NULL);
	us_close(c->it.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	free(c);
}

static void conn_watch(struct server *s, struct conn *c, uint32_t want)
{
	if (want != c->events) {
		struct epoll_event ev = { .events = want, .data.ptr = c };
		c->events = want;
		us_epoll_ctl(s->ep, EPOLL_CTL_MOD, c->it.fd, &ev);
	}
}

static void accept_all(struct server *s, const struct item *l)
{
	for (;;) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		char a[EX_ADDRSTRLEN];
		struct epoll_event ev;
		struct conn *c;
		int fd = us_accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fprintf(stderr, "inetd: accept: %s\n", strerror(errno));
			return;
		}
		c = s->nconns < s->max_conns ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			us_close(fd);
			continue;
		}
		c->it.kind = KIND_CONN;
		c->it.svc = l->svc;
		c->it.fd = fd;
		c->peer = peer;
		c->events = EPOLLIN | EPOLLRDHUP | (l->svc == SVC_CHARGEN ? EPOLLOUT : 0);
		ev.events = c->events;
		ev.data.ptr = c;
		if (us_epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			us_close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		if (!s->quiet)
			fprintf(stderr, "inetd: tcp/%s %s connected\n", svc_name[l->svc],
				ex_format_sockaddr(&peer, a));
	}
}

/* Send what is buffered. 0, or -1 when the connection failed (and was closed). */
static int conn_flush(struct server *s, struct conn *c)
{
	ssize_t n;

	if (c->off == c->len)
		return 0;
	n = us_send(c->it.fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		conn_close(s, c, strerror(errno));
		return -1;
	}
	c->off += (size_t)n;
	c->out += (uint64_t)n;
	if (c->off == c->len)
		c->off = c->len = 0;
	return 0;
}

/*
 * Echo: read only while nothing waits to be echoed. Discard: read and drop. Chargen: read and drop
 * (to see the close), and keep the buffer full of pattern while the socket takes it.
 */
static void conn_event(struct server *s, struct conn *c, uint32_t events)
{
	uint8_t scratch[4096];

	if (events & EPOLLERR) {
		int err = 0;
		socklen_t len = sizeof(err);
		us_getsockopt(c->it.fd, SOL_SOCKET, SO_ERROR, &err, &len);
		conn_close(s, c, strerror(err ? err : EIO));
		return;
	}
	if (!c->eof && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) && (c->it.svc != SVC_ECHO || c->len == 0)) {
		bool echo = c->it.svc == SVC_ECHO;
		ssize_t n = echo ? us_recv(c->it.fd, c->buf, sizeof(c->buf), 0)
				 : us_recv(c->it.fd, scratch, sizeof(scratch), 0);
		if (n > 0) {
			c->in += (uint64_t)n;
			if (echo) {
				c->off = 0;
				c->len = (size_t)n;
			}
		} else if (n == 0) {
			c->eof = true;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			conn_close(s, c, strerror(errno));
			return;
		}
	}
	if (c->it.svc == SVC_CHARGEN && c->len == 0 && !c->eof) {
		uint64_t room = sizeof(c->buf);
		if (s->chargen_bytes && s->chargen_bytes - c->chargen_pos < room)
			room = s->chargen_bytes - c->chargen_pos;
		chargen_fill(c->chargen_pos, c->buf, (size_t)room);
		c->chargen_pos += room;
		c->off = 0;
		c->len = (size_t)room;
	}
	if (conn_flush(s, c) != 0)
		return;
	if (c->eof && (c->len == 0 || c->it.svc != SVC_ECHO)) {
		conn_close(s, c, NULL); /* echo finishes what it owes; chargen owes nothing */
		return;
	}
	if (c->it.svc == SVC_CHARGEN && s->chargen_bytes && c->chargen_pos == s->chargen_bytes && c->len == 0) {
		/* all sent: read what the client sent, so the close is a FIN and not a reset */
		while (us_recv(c->it.fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0)
			;
		conn_close(s, c, NULL);
		return;
	}
	if (c->it.svc == SVC_ECHO)
		conn_watch(s, c, c->len ? EPOLLOUT : EPOLLIN | EPOLLRDHUP);
}

/* A few datagrams from a UDP socket, each answered as its service says. */
static void udp_event(struct server *s, struct item *u)
{
	static uint8_t buf[65536];

	for (int i = 0; i < 64; i++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = us_recvfrom(u->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		size_t reply;

		if (n < 0)
			return; /* EAGAIN, or an ICMP error for an earlier answer: nothing to do */
		switch (u->svc) {
		case SVC_ECHO:
			reply = (size_t)n;
			break;
		case SVC_CHARGEN:
			reply = (size_t)(xorshift64(&s->rng) % (CHARGEN_UDP_MAX + 1));
			chargen_fill(u->chargen_pos, buf, reply);
			u->chargen_pos += CHARGEN_LINE + 2; /* the next datagram starts at the next line */
			break;
		default:
			continue;
		}
		us_sendto(u->fd, buf, reply, 0, (struct sockaddr *)&from, flen);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "chargen-bytes", required_argument, NULL, 'c' },
					      { "max-conns", required_argument, NULL, 'm' },
					      { "seconds", required_argument, NULL, 's' },
					      { "quiet", no_argument, NULL, 'q' },
					      EX_COMMON_LONGOPTS,
					      { NULL, 0, NULL, 0 } };
	struct server s = { .max_conns = 1024 };
	struct item socks[6];
	struct epoll_event evs[64];
	struct ex_opts o;
	struct us_stack *st;
	double seconds = 0, end;
	int c, nsocks = 0, status = 0;

	ex_opts_init(&o);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ex_opt(&o, c, optarg))
			continue;
		switch (c) {
		case 'c':
			if (ex_parse_size(optarg, &s.chargen_bytes) != 0 || s.chargen_bytes == 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'm': s.max_conns = atol(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'q': s.quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (s.max_conns < 1 || optind != argc) {
		usage(stderr);
		return 2;
	}
	st = ex_stack_start(&o, NULL);
	ex_signals();
	s.rng = (uint64_t)(ex_seconds() * 1e9) ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	s.ep = us_epoll_create1(0);
	if (s.ep < 0) {
		fprintf(stderr, "inetd: epoll_create: %s\n", strerror(errno));
		return ex_stack_down(st, 1);
	}
	for (int i = 0; i < 6 && status == 0; i++) {
		struct item *it = &socks[nsocks];
		struct epoll_event ev = { .events = EPOLLIN };
		enum service svc = (enum service)(i % 3);
		int type = i < 3 ? SOCK_STREAM : SOCK_DGRAM;

		memset(it, 0, sizeof(*it));
		it->kind = type == SOCK_STREAM ? KIND_LISTENER : KIND_UDP;
		it->svc = svc;
		it->fd = ex_listen(type, svc_port[svc], 128);
		ev.data.ptr = it;
		if (it->fd < 0 || us_epoll_ctl(s.ep, EPOLL_CTL_ADD, it->fd, &ev) < 0) {
			fprintf(stderr, "inetd: %s/%s: %s\n", i < 3 ? "tcp" : "udp", svc_name[svc], strerror(errno));
			if (it->fd >= 0)
				us_close(it->fd);
			status = 1;
			break;
		}
		nsocks++;
	}
	if (status == 0)
		fprintf(stderr, "inetd: %s on %s: echo 7, discard 9, chargen 19, TCP and UDP\n", o.addr, o.tap);
	end = seconds > 0 ? ex_seconds() + seconds : 0;
	while (status == 0 && !ex_stop && (end == 0 || ex_seconds() < end)) {
		int n = us_epoll_wait(s.ep, evs, 64, 200);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "inetd: epoll_wait: %s\n", strerror(errno));
			status = 1;
		}
		for (int i = 0; i < n; i++) {
			struct item *it = evs[i].data.ptr;

			switch (it->kind) {
			case KIND_LISTENER: accept_all(&s, it); break;
			case KIND_UDP: udp_event(&s, it); break;
			case KIND_CONN: conn_event(&s, (struct conn *)it, evs[i].events); break;
			}
		}
	}
	while (s.conns)
		conn_close(&s, s.conns, "server stopping");
	for (int i = 0; i < nsocks; i++)
		us_close(socks[i].fd);
	us_close(s.ep);
	return ex_stack_down(st, status);
}
