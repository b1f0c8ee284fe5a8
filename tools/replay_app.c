/*
 * replay_app.c - the applications ustack-replay runs on the stack, through the socket API on a
 * driven stack: every socket is non-blocking, and rp_app_service() does what can be done at the
 * current virtual instant (accept, read, write, close), so the replay loop calls it after each
 * us_stack_poll() until nothing moves.
 *
 * TCP listeners act on each accepted connection: discard (read and drop; close at the peer's FIN),
 * echo (send back what arrives; close at the peer's FIN once all is sent), send=N (send N bytes,
 * byte i = i mod 251, then close; what arrives is read and dropped), close (close at once). Active
 * opens read and drop, send their N bytes once established, and close at the peer's FIN. UDP sockets
 * echo each datagram to its sender, or drop it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define RP_MAX_CONNS 4096
#define RP_ECHO_BUF 65536 /* bytes read but not yet sent back, per echo connection */

struct rp_conn {
	int fd; /* -1 once closed */
	enum rp_action act;
	bool connecting; /* an active open not yet established */
	bool active;
	bool eof;	 /* the peer's FIN has been read */
	uint64_t to_send, sent;
	uint8_t *pend;	 /* echo: bytes read, not yet sent */
	size_t pend_len;
};

struct rp_listener {
	int fd;
	enum rp_action act;
	uint64_t n; /* send=N */
};

struct rp_udpsock {
	int fd;
	enum rp_action act;
};

struct rp_app {
	struct us_stack *st;
	struct rp_listener *ls;
	size_t n_ls;
	struct rp_udpsock *us;
	size_t n_us;
	struct rp_conn *conns;
	size_t n_conns, cap_conns;
};

struct rp_app *rp_app_new(struct us_stack *st)
{
	struct rp_app *app = calloc(1, sizeof(*app));

	if (app)
		app->st = st;
	return app;
}

static void conn_close(struct rp_conn *c)
{
	if (c->fd >= 0)
		us_close(c->fd);
	c->fd = -1;
	free(c->pend);
	c->pend = NULL;
}

void rp_app_free(struct rp_app *app)
{
	if (!app)
		return;
	for (size_t i = 0; i < app->n_conns; i++)
		conn_close(&app->conns[i]);
	for (size_t i = 0; i < app->n_ls; i++)
		us_close(app->ls[i].fd);
	for (size_t i = 0; i < app->n_us; i++)
		us_close(app->us[i].fd);
	free(app->conns);
	free(app->ls);
	free(app->us);
	free(app);
}

static int bound_socket(struct rp_app *app, int type, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = us_socket_on(app->st, AF_INET, type | SOCK_NONBLOCK, 0), e;

	if (fd < 0)
		return -errno;
	if (us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		e = errno;
		us_close(fd);
		return -e;
	}
	return fd;
}

int rp_app_listen(struct rp_app *app, uint16_t port, enum rp_action act, uint64_t n)
{
	struct rp_listener *v;
	int fd, e;

	v = realloc(app->ls, (app->n_ls + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	app->ls = v;
	fd = bound_socket(app, SOCK_STREAM, port);
	if (fd < 0)
		return fd;
	if (us_listen(fd, 128) != 0) {
		e = errno;
		us_close(fd);
		return -e;
	}
	app->ls[app->n_ls++] = (struct rp_listener){ .fd = fd, .act = act, .n = n };
	return 0;
}

int rp_app_udp(struct rp_app *app, uint16_t port, enum rp_action act)
{
	struct rp_udpsock *v;
	int fd;

	v = realloc(app->us, (app->n_us + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	app->us = v;
	fd = bound_socket(app, SOCK_DGRAM, port);
	if (fd < 0)
		return fd;
	app->us[app->n_us++] = (struct rp_udpsock){ .fd = fd, .act = act };
	return 0;
}

/* A new connection slot, reusing closed ones; NULL at the limit. */
static struct rp_conn *conn_new(struct rp_app *app)
{
	for (size_t i = 0; i < app->n_conns; i++)
		if (app->conns[i].fd < 0)
			return &app->conns[i];
	if (app->n_conns == app->cap_conns) {
		size_t cap = app->cap_conns ? app->cap_conns * 2 : 16;
		struct rp_conn *v;
		if (cap > RP_MAX_CONNS || !(v = realloc(app->conns, cap * sizeof(*v))))
			return NULL;
		app->conns = v;
		app->cap_conns = cap;
	}
	app->conns[app->n_conns] = (struct rp_conn){ .fd = -1 };
	return &app->conns[app->n_conns++];
}

/* A connection's start: an echo connection gets its buffer. */
static int conn_init(struct rp_conn *c, int fd, enum rp_action act, uint64_t n)
{
	*c = (struct rp_conn){ .fd = fd, .act = act, .to_send = n };
	if (act == RP_ACT_ECHO && !(c->pend = malloc(RP_ECHO_BUF))) {
		us_close(fd);
		c->fd = -1;
		return -ENOMEM;
	}
	return 0;
}

int rp_app_connect(struct rp_app *app, uint32_t addr, uint16_t port, uint16_t lport, uint64_t n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr) };
	struct rp_conn *c = conn_new(app);
	int fd, e;

	if (!c)
		return -EMFILE;
	fd = lport ? bound_socket(app, SOCK_STREAM, lport)
		   : us_socket_on(app->st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return lport ? fd : -errno;
	if (us_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 && errno != EINPROGRESS) {
		e = errno;
		us_close(fd);
		return -e;
	}
	conn_init(c, fd, RP_ACT_DISCARD, n);
	c->active = true;
	c->connecting = true;
	return 0;
}

/* Send what is left of the N bytes (byte i = i mod 251). False when the connection failed. */
static bool conn_send_pattern(struct rp_conn *c, bool *moved)
{
	uint8_t buf[4096];

	while (c->sent < c->to_send) {
		size_t n = c->to_send - c->sent < sizeof(buf) ? (size_t)(c->to_send - c->sent) : sizeof(buf);
		ssize_t r;

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)((c->sent + i) % 251);
		r = us_send(c->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		c->sent += (uint64_t)r;
		*moved = true;
	}
	return true;
}

/* Echo: send what was read and not yet sent. False when the connection failed. */
static bool conn_send_pending(struct rp_conn *c, bool *moved)
{
	while (c->pend_len) {
		ssize_t r = us_send(c->fd, c->pend, c->pend_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		memmove(c->pend, c->pend + r, c->pend_len - (size_t)r);
		c->pend_len -= (size_t)r;
		*moved = true;
	}
	return true;
}

/* Read what has arrived: dropped, or kept for echo. False when the connection failed. */
static bool conn_read(struct rp_conn *c, bool *moved)
{
	uint8_t buf[4096];

	while (!c->eof) {
		uint8_t *to = buf;
		size_t room = sizeof(buf);
		ssize_t r;

		if (c->act == RP_ACT_ECHO) {
			to = c->pend + c->pend_len;
			room = RP_ECHO_BUF - c->pend_len;
			if (!room)
				return true;
		}
		r = us_recv(c->fd, to, room, MSG_DONTWAIT);
		if (r < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		*moved = true;
		if (r == 0)
			c->eof = true;
		else if (c->act == RP_ACT_ECHO)
			c->pend_len += (size_t)r;
	}
	return true;
}

static bool conn_service(struct rp_conn *c)
{
	bool moved = false;

	if (c->connecting) {
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		int err = 0;
		socklen_t len = sizeof(err);

		if (us_poll(&p, 1, 0) <= 0)
			return false;
		c->connecting = false;
		if (us_getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err) {
			conn_close(c);
			return true;
		}
		moved = true;
	}
	/* an echo buffer that was full is read into again on the next round: the caller repeats
	 * while anything moves */
	if (!conn_send_pattern(c, &moved) || !conn_read(c, &moved) ||
	    (c->act == RP_ACT_ECHO && !conn_send_pending(c, &moved))) {
		conn_close(c); /* reset, or refused: nothing more to do on it */
		return true;
	}
	if (c->sent == c->to_send && c->pend_len == 0 &&
	    (c->eof || (c->act == RP_ACT_SEND && !c->active))) {
		conn_close(c);
		moved = true;
	}
	return moved;
}

static bool accept_all(struct rp_app *app, struct rp_listener *l)
{
	bool moved = false;

	for (;;) {
		struct rp_conn *c = conn_new(app);
		int fd;

		if (!c)
			return moved; /* at the limit: leave them in the accept queue */
		fd = us_accept4(l->fd, NULL, NULL, SOCK_NONBLOCK);
		if (fd < 0) {
			c->fd = -1;
			return moved;
		}
		moved = true;
		if (l->act == RP_ACT_CLOSE) {
			us_close(fd);
			c->fd = -1;
			continue;
		}
		conn_init(c, fd, l->act, l->act == RP_ACT_SEND ? l->n : 0);
	}
}

static bool udp_service(struct rp_udpsock *u)
{
	uint8_t buf[65536];
	bool moved = false;

	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = us_recvfrom(u->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

		if (n < 0)
			return moved;
		moved = true;
		if (u->act == RP_ACT_ECHO)
			us_sendto(u->fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&from, fl);
	}
}

bool rp_app_service(struct rp_app *app)
{
	bool moved = false;

	for (size_t i = 0; i < app->n_ls; i++)
		moved |= accept_all(app, &app->ls[i]);
	for (size_t i = 0; i < app->n_conns; i++)
		if (app->conns[i].fd >= 0)
			moved |= conn_service(&app->conns[i]);
	for (size_t i = 0; i < app->n_us; i++)
		moved |= udp_service(&app->us[i]);
	return moved;
}
