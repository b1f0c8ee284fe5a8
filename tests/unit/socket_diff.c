/*
 * socket_diff.c - the differential test's recording and the helpers its rows share (socket_diff.h).
 */
#include "socket_diff.h"

/* ---- recording ---- */

void sd_note(struct run *r, const char *fmt, ...)
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


/* Record one call: "what = fd", "what = 12" or "what = -1 ECONNREFUSED". errno is read first
 * thing, so the call's own errno is the one recorded. Returns ret. */
long sd_rec(struct run *r, const char *what, long ret, enum rec_kind kind)
{
	int e = errno;

	if (ret == -1)
		sd_note(r, "%s = -1 %s", what, errname(e));
	else if (kind == REC_FD && ret >= 0)
		sd_note(r, "%s = fd", what);
	else
		sd_note(r, "%s = %ld", what, ret);
	return ret;
}

/* Record a call only when it fails (set-up steps whose success is not the point of the row). */
long sd_quiet(struct run *r, const char *what, long ret)
{
	int e = errno;

	if (ret == -1)
		sd_note(r, "%s = -1 %s", what, errname(e));
	return ret;
}


void sd_revents_str(short ev, char *buf, size_t size)
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
int sd_poll1(struct run *r, const char *what, int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	char ev[64];
	int n;

	n = r->o->poll(&p, 1, timeout_ms);
	if (n < 0) {
		sd_rec(r, what, n, REC_NUM);
		return n;
	}
	sd_revents_str(p.revents, ev, sizeof(ev));
	sd_note(r, "%s = %d revents %s", what, n, ev);
	return n;
}

/* Record a socket address, normalised: the family, the address as "=want" when it is want_ip
 * (else "any" or "other"), the port as "0", "=want" when it is want_port, or "port". */
void sd_note_addr(struct run *r, const char *what, const struct sockaddr_in *a, socklen_t len,
		      uint32_t want_ip, uint16_t want_port)
{
	uint32_t ip = ntohl(a->sin_addr.s_addr);
	uint16_t port = ntohs(a->sin_port);

	sd_note(r, "%s: len %u family %d addr %s port %s", what, (unsigned)len, a->sin_family,
	     ip == want_ip ? "=want" : ip == INADDR_ANY ? "any" : "other",
	     port == 0 ? "0" : port == want_port ? "=want" : "port");
}

struct sockaddr_in sd_sin4(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(ip);
	return a;
}

void sd_nap_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

long sd_elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- helpers rows share ---- */

/* Close a descriptor at the end of a row; only a failure is recorded. */
void sd_drop(struct run *r, int fd)
{
	if (fd >= 0)
		QUIET("cleanup close", r->o->close(fd));
}

int sd_opt_int(struct run *r, const char *what, int fd, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);

	if (sd_rec(r, what, r->o->getsockopt(fd, level, name, &v, &len), REC_NUM) == 0)
		sd_note(r, "%s: len %u value %d", what, (unsigned)len, v);
	return v;
}

long sd_set_int(struct run *r, const char *what, int fd, int level, int name, int v)
{
	return sd_rec(r, what, r->o->setsockopt(fd, level, name, &v, sizeof(v)), REC_NUM);
}

/* SO_ERROR, recorded by errno name. */
void sd_so_error(struct run *r, const char *what, int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (sd_rec(r, what, r->o->getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &len), REC_NUM) == 0)
		sd_note(r, "%s: %s", what, v ? errname(v) : "0");
}

/* Bound every blocking call on fd (SO_RCVTIMEO and SO_SNDTIMEO; connect honours the latter). */
void sd_bounded(struct run *r, int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_MS / 1000, .tv_usec = (IO_TIMEOUT_MS % 1000) * 1000 };

	QUIET("bounded rcvtimeo", r->o->setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	QUIET("bounded sndtimeo", r->o->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
}

uint16_t sd_local_port(struct run *r, int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (QUIET("getsockname", r->o->getsockname(fd, SA(&a), &len)) != 0)
		return 0;
	if (a.sin_port == 0)
		sd_note(r, "local port is 0");
	return ntohs(a.sin_port);
}

/* A socket on the server bound to its address (port 0: any) and, when backlog >= 0, listening.
 * *port gets the port. */
int sd_server_sock(struct run *r, int type, int backlog, uint16_t *port)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sd_sin4(o->server_addr, 0);
	int fd = FD("server socket", o->socket_server(AF_INET, type, 0));

	RC("server bind", o->bind(fd, SA(&a), sizeof(a)));
	if (backlog >= 0)
		RC("listen", o->listen(fd, backlog));
	*port = sd_local_port(r, fd);
	sd_bounded(r, fd);
	return fd;
}

/* A TCP port on the server nobody listens on: a socket bound to it, not listening (a SYN to it is
 * answered with a RST, RFC 9293 §3.10.7.1). Close the returned socket at the end of the row. */
int sd_closed_tcp_port(struct run *r, uint16_t *port)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sd_sin4(o->server_addr, 0);
	int fd = o->socket_server(AF_INET, SOCK_STREAM, 0);

	QUIET("closed-port socket", fd);
	QUIET("closed-port bind", o->bind(fd, SA(&a), sizeof(a)));
	*port = sd_local_port(r, fd);
	return fd;
}

/* A UDP port on the server that was just free: bound, read, closed. */
uint16_t sd_closed_udp_port(struct run *r)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sd_sin4(o->server_addr, 0);
	int fd = o->socket_server(AF_INET, SOCK_DGRAM, 0);
	uint16_t port;

	QUIET("closed-udp socket", fd);
	QUIET("closed-udp bind", o->bind(fd, SA(&a), sizeof(a)));
	port = sd_local_port(r, fd);
	sd_drop(r, fd);
	return port;
}

/* A TCP connection: *c on the client, *s accepted on the server, both with bounded blocking calls.
 * Returns the listener (still open) when keep_listener, else closes it and returns -1. */
int sd_tcp_conn_l(struct run *r, int *c, int *s, uint16_t *port, bool keep_listener)
{
	const struct ops *o = r->o;
	struct sockaddr_in a;
	int l = sd_server_sock(r, SOCK_STREAM, 8, port);

	a = sd_sin4(o->server_addr, *port);
	*c = FD("client socket", o->socket_client(AF_INET, SOCK_STREAM, 0));
	sd_bounded(r, *c);
	RC("connect", o->connect(*c, SA(&a), sizeof(a)));
	*s = FD("accept", o->accept(l, NULL, NULL));
	sd_bounded(r, *s);
	if (keep_listener)
		return l;
	sd_drop(r, l);
	return -1;
}

void sd_tcp_conn(struct run *r, int *c, int *s)
{
	uint16_t port;

	sd_tcp_conn_l(r, c, s, &port, false);
}

/* Two UDP sockets, both bound: *srv on the server, *cli on the client; the ports come back. */
void sd_udp_pair(struct run *r, int *cli, int *srv, uint16_t *srv_port, uint16_t *cli_port)
{
	const struct ops *o = r->o;
	struct sockaddr_in a = sd_sin4(o->client_addr, 0);

	*srv = sd_server_sock(r, SOCK_DGRAM, -1, srv_port);
	*cli = FD("client udp socket", o->socket_client(AF_INET, SOCK_DGRAM, 0));
	RC("client bind", o->bind(*cli, SA(&a), sizeof(a)));
	*cli_port = sd_local_port(r, *cli);
	sd_bounded(r, *cli);
}

/* Bytes received compared with bytes expected, recorded as "same" or what differs. */
void sd_note_bytes(struct run *r, const char *what, const void *got, long n, const void *want,
		       long wlen)
{
	if (n == wlen && memcmp(got, want, (size_t)wlen) == 0)
		sd_note(r, "%s: same bytes", what);
	else
		sd_note(r, "%s: DIFFERENT bytes (%ld, wanted %ld)", what, n, wlen);
}

/* ================================ rows: socket() ================================ */

/* socket(2), tcp(7), udp(7): AF_INET stream and datagram sockets, protocol 0 or the matching one. */
