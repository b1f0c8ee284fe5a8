/*
 * sock_ctl.c - watching a running stack from outside: the control channel (a UNIX stream socket that
 * answers `stats` (`stats raw`), `sockets`, `all` and `help` from the table ctl_cmds, for
 * ustack-stat), dumps asked for from a signal handler (us_stack_request_dump), and dumps every N
 * seconds on the stack's timer queue.
 *
 * All of it runs in the stack's loop with the stack lock held, so what it prints is one consistent
 * picture, and no client can hold the loop up:
 *  - every control-channel socket is non-blocking; a reply is rendered into memory at once (at most
 *    CTL_REPLY_MAX bytes; past that it is cut with a line saying so) and written as the client takes
 *    it; at most CTL_MAX_CLIENTS clients at once (more are told "error: busy" and closed), and a
 *    client that has not sent its command and taken its whole reply within CTL_CLIENT_TIMEOUT_NS is
 *    dropped;
 *  - in a threaded stack (us_stack_start) the channel's own epoll fd sits in the stack thread's kernel
 *    epoll, so a client is served in the round right after it connects or writes, and an idle channel
 *    costs nothing;
 *  - a driven stack (us_stack_poll, no thread) has no epoll of ours that it sleeps on, and looking at
 *    the channel every round would be a system call per round; instead a timer on the stack's queue
 *    looks every CTL_CHECK_NS (one epoll_wait with no timeout, ten a second), which also makes
 *    us_stack_timeout_ms() wake a loop that sleeps on us_stack_fd(). A reply comes within 100 ms.
 *
 * us_stack_request_dump is async-signal-safe: it sets an atomic flag and writes the stack's eventfd;
 * the next round prints. Dumps go to the dump stream (stderr unless us_stack_set_dump_stream says
 * otherwise), rendered first and written in one piece; the stack thread writes them after it has let
 * go of the stack lock (stack_ctl_take_output), so a terminal held by ^S or a pipe nobody reads stalls
 * that thread but never a socket call. A driven stack writes in the round, within its caller's call.
 */
#include "ctl.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock.h"
#include "ustack/stats.h"

#define CTL_MAX_CLIENTS 8
#define CTL_LINE_MAX 256			   /* a command line, newline included */
#define CTL_REPLY_MAX (16u << 20)		   /* bytes of one reply */
#define CTL_CLIENT_TIMEOUT_NS (5 * US_NSEC_PER_SEC) /* from accept to the last byte of the reply */
#define CTL_CHECK_NS (100 * US_NSEC_PER_MSEC)	   /* a driven stack's look at the channel */

struct ctl_client {
	int fd; /* -1: slot free */
	uint64_t deadline_ns;
	char line[CTL_LINE_MAX];
	size_t line_len;
	char *out; /* the reply being written; NULL while the command is read */
	size_t out_len, out_off;
};

struct stack_ctl {
	int lfd;	 /* the listening socket, -1: closed */
	int epfd;	 /* epoll over lfd and the clients */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;	 /* the socket file we made, to unlink only that one */
	ino_t ino;
	bool threaded;	 /* the stack thread runs: epfd is in its epoll */
	bool ready;	 /* the stack thread's epoll reported epfd */
	struct ctl_client clients[CTL_MAX_CLIENTS];
	struct us_timer check; /* driven stacks' look at the channel; the clients' deadlines */
	FILE *dump_out;	       /* NULL: stderr */
	char *pending;	       /* a dump rendered in the stack thread, to write once it unlocks */
	size_t pending_len;
	uint64_t dump_every_ns; /* 0: no periodic dump */
	struct us_timer dump_timer;
};

/* ---- commands ---- */

static void cmd_stats(struct us_stack *st, const char *args, FILE *out)
{
	if (strcmp(args, "raw") == 0)
		us_stats_dump_raw(st, out); /* a line per group, NAME=VALUE: for scripts */
	else if (!*args)
		us_stats_dump(st, out);
	else
		fprintf(out, "error: stats takes nothing or raw, not '%s'\n", args);
}

static void cmd_sockets(struct us_stack *st, const char *args, FILE *out)
{
	(void)args;
	sock_dump_locked(st, out);
}

static void cmd_all(struct us_stack *st, const char *args, FILE *out)
{
	(void)args;
	us_stats_dump(st, out);
	fprintf(out, "\n");
	sock_dump_locked(st, out);
}

static void cmd_help(struct us_stack *st, const char *args, FILE *out);

/* The commands, one line each; a handler runs with the stack lock held and prints its reply (an error
 * as a line starting "error: "). args: what followed the name on the line, spaces trimmed. */
static const struct ctl_cmd {
	const char *name;
	const char *help;
	void (*run)(struct us_stack *st, const char *args, FILE *out);
} ctl_cmds[] = {
	{ "stats", "the counters as netstat -s prints them; stats raw: NAME=VALUE lines", cmd_stats },
	{ "sockets", "the socket table, as us_sockets_dump prints it", cmd_sockets },
	{ "all", "stats, then sockets (an empty line means this)", cmd_all },
	{ "help", "this list", cmd_help },
};

static void cmd_help(struct us_stack *st, const char *args, FILE *out)
{
	(void)st;
	(void)args;
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		fprintf(out, "%-10s %s\n", ctl_cmds[i].name, ctl_cmds[i].help);
}

/* Run one command line (newline stripped) into out. */
static void ctl_run(struct us_stack *st, char *line, FILE *out)
{
	char *name = line, *args;
	size_t n;

	while (*name == ' ' || *name == '\t')
		name++;
	n = strlen(name);
	while (n && (name[n - 1] == ' ' || name[n - 1] == '\t' || name[n - 1] == '\r'))
		name[--n] = '\0';
	if (!*name)
		name = "all";
	args = name + strcspn(name, " \t");
	if (*args) {
		*args++ = '\0';
		args += strspn(args, " \t");
	}
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		if (strcmp(ctl_cmds[i].name, name) == 0) {
			ctl_cmds[i].run(st, args, out);
			return;
		}
	}
	fprintf(out, "error: unknown command '%s' (try help)\n", name);
}

/* ---- the dump stream ---- */

/* Render into memory, then write in one piece: a dump is one block even when another thread writes
 * to the same stream. */
static void ctl_dump_to_stream(struct us_stack *st, const char *why)
{
	FILE *out = st->ctl && st->ctl->dump_out ? st->ctl->dump_out : stderr;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return;
	fprintf(m, "ustack dump (%s) at %.3f s\n", why, (double)st->now / 1e9);
	cmd_all(st, "", m);
	fclose(m);
	if (st->ctl && st->ctl->threaded) {
		struct stack_ctl *c = st->ctl;
		char *more = c->pending ? realloc(c->pending, c->pending_len + len) : NULL;

		/* a dump already waits only if this round was not the thread's (us_stack_poll from
		 * another thread): append, or keep the first when memory is short */
		if (!c->pending) {
			c->pending = buf;
			c->pending_len = len;
			return;
		}
		if (more) {
			memcpy(more + c->pending_len, buf, len);
			c->pending = more;
			c->pending_len += len;
		}
		free(buf);
		return;
	}
	fwrite(buf, 1, len, out);
	fflush(out);
	free(buf);
}

void stack_ctl_take_output(struct us_stack *st, struct stack_ctl_output *o)
{
	struct stack_ctl *c = st->ctl;

	o->buf = NULL;
	o->len = 0;
	if (!c || !c->pending)
		return;
	o->buf = c->pending;
	o->len = c->pending_len;
	o->out = c->dump_out ? c->dump_out : stderr;
	c->pending = NULL;
	c->pending_len = 0;
}

void stack_ctl_write_output(struct stack_ctl_output *o)
{
	if (!o->buf)
		return;
	fwrite(o->buf, 1, o->len, o->out);
	fflush(o->out);
	free(o->buf);
	o->buf = NULL;
}

static void ctl_dump_timer(struct us_timer *t, uint64_t now)
{
	struct us_stack *st = t->arg;

	ctl_dump_to_stream(st, "periodic");
	if (st->ctl->dump_every_ns)
		timer_arm(&st->timers, &st->ctl->dump_timer, now + st->ctl->dump_every_ns);
}

/* ---- the channel ---- */

static void ctl_check_timer(struct us_timer *t, uint64_t now);

static struct stack_ctl *ctl_get(struct us_stack *st)
{
	struct stack_ctl *c = st->ctl;

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->lfd = c->epfd = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	c->threaded = st->sock && st->sock->running && !st->sock->stopping;
	timer_init(&c->check, ctl_check_timer, st);
	timer_init(&c->dump_timer, ctl_dump_timer, st);
	st->ctl = c;
	return c;
}

/* Wake the stack thread, if it runs, to look again at its deadlines and fds. */
static void ctl_wake(struct us_stack *st)
{
	uint64_t one = 1;

	if (st->sock && st->sock->running && write(st->sock->wakefd, &one, sizeof(one)) < 0) {
		/* saturated: awake anyway */
	}
}

/* The check timer: every CTL_CHECK_NS for a driven stack; for a threaded one only at the earliest
 * client deadline. */
static void ctl_rearm(struct us_stack *st)
{
	struct stack_ctl *c = st->ctl;
	uint64_t next = US_TIME_NEVER;

	if (c->lfd < 0) {
		timer_cancel(&st->timers, &c->check);
		return;
	}
	if (!c->threaded)
		next = st->now + CTL_CHECK_NS;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && c->clients[i].deadline_ns < next)
			next = c->clients[i].deadline_ns;
	if (next == US_TIME_NEVER)
		timer_cancel(&st->timers, &c->check);
	else if (!timer_pending(&c->check) || c->check.expires_ns != next)
		timer_arm(&st->timers, &c->check, next);
}

static void ctl_client_close(struct stack_ctl *c, struct ctl_client *cl)
{
	char junk[4096];

	/* what the client wrote past its line goes unread; a UNIX socket closed with unread input
	 * resets its peer (ECONNRESET), which could cost the client its reply: read it away first,
	 * a bounded amount */
	for (int i = 0; i < 16 && read(cl->fd, junk, sizeof(junk)) > 0; i++)
		;
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	free(cl->out);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

/* Write what the client will take now; closed (EOF) once all is out or on an error. */
static void ctl_client_write(struct stack_ctl *c, struct ctl_client *cl)
{
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* EPOLLOUT brings us back */
		if (n <= 0)
			break;
		cl->out_off += (size_t)n;
	}
	ctl_client_close(c, cl);
}

/* The command line is in: render the reply and start writing it. */
static void ctl_client_reply(struct us_stack *st, struct stack_ctl *c, struct ctl_client *cl)
{
	FILE *m = open_memstream(&cl->out, &cl->out_len);
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = (uint64_t)(cl - c->clients) + 1 };
	static const char cut[] = "\n[reply cut at 16 MiB]\n";

	if (!m) {
		ctl_client_close(c, cl);
		return;
	}
	cl->line[cl->line_len] = '\0';
	cl->line[strcspn(cl->line, "\n")] = '\0';
	ctl_run(st, cl->line, m);
	fclose(m);
	if (cl->out_len > CTL_REPLY_MAX) {
		memcpy(cl->out + CTL_REPLY_MAX - sizeof(cut) + 1, cut, sizeof(cut) - 1);
		cl->out_len = CTL_REPLY_MAX;
	}
	epoll_ctl(c->epfd, EPOLL_CTL_MOD, cl->fd, &ev);
	ctl_client_write(c, cl);
}

/* Read the command line: up to a newline, the end of the client's writing, or CTL_LINE_MAX - 1
 * bytes (then whatever it is, it is taken as the line, and an unknown command it will be). */
static void ctl_client_read(struct us_stack *st, struct stack_ctl *c, struct ctl_client *cl)
{
	for (;;) {
		size_t room = sizeof(cl->line) - 1 - cl->line_len;
		ssize_t n = read(cl->fd, cl->line + cl->line_len, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			ctl_client_close(c, cl);
			return;
		}
		cl->line_len += (size_t)n;
		if (n == 0 || memchr(cl->line, '\n', cl->line_len) || cl->line_len == sizeof(cl->line) - 1) {
			ctl_client_reply(st, c, cl);
			return;
		}
	}
}

static void ctl_accept(struct us_stack *st, struct stack_ctl *c)
{
	for (int k = 0; k < CTL_MAX_CLIENTS; k++) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i;
		struct epoll_event ev = { .events = EPOLLIN };

		if (fd < 0)
			return;
		for (i = 0; i < CTL_MAX_CLIENTS && c->clients[i].fd >= 0; i++)
			;
		if (i == CTL_MAX_CLIENTS) {
			static const char busy[] = "error: busy, try again\n";
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* it learns from the EOF */
			}
			close(fd);
			continue;
		}
		ev.data.u64 = (uint64_t)i + 1;
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			continue;
		}
		c->clients[i].fd = fd;
		c->clients[i].deadline_ns = st->now + CTL_CLIENT_TIMEOUT_NS;
		ctl_client_read(st, c, &c->clients[i]); /* its line may be here already */
	}
}

/* Everything the channel has to do now: new clients, command lines, replies, clients too slow. */
static void ctl_serve(struct us_stack *st)
{
	struct stack_ctl *c = st->ctl;
	struct epoll_event ev[CTL_MAX_CLIENTS + 1];
	int n;

	if (c->lfd < 0)
		return;
	n = epoll_wait(c->epfd, ev, CTL_MAX_CLIENTS + 1, 0);
	for (int k = 0; k < n; k++) {
		struct ctl_client *cl;

		if (ev[k].data.u64 == 0) {
			ctl_accept(st, c);
			continue;
		}
		cl = &c->clients[ev[k].data.u64 - 1];
		if (cl->fd < 0)
			continue;
		if (cl->out)
			ctl_client_write(c, cl);
		else
			ctl_client_read(st, c, cl);
	}
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && c->clients[i].deadline_ns <= st->now)
			ctl_client_close(c, &c->clients[i]);
	ctl_rearm(st);
}

static void ctl_check_timer(struct us_timer *t, uint64_t now)
{
	struct us_stack *st = t->arg;

	(void)now;
	ctl_serve(st);
}

void stack_ctl_round(struct us_stack *st)
{
	struct stack_ctl *c = st->ctl;

	if (atomic_exchange_explicit(&st->dump_request, false, memory_order_acq_rel)) {
		uint64_t v;

		/* a driven stack has nobody else reading its eventfd */
		if (st->sock && !st->sock->running && read(st->sock->wakefd, &v, sizeof(v)) < 0) {
			/* EAGAIN: nothing there */
		}
		ctl_get(st); /* where the stack thread keeps the dump until it unlocks (NULL: written now) */
		c = st->ctl;
		ctl_dump_to_stream(st, "requested");
	}
	if (c && c->ready) {
		c->ready = false;
		ctl_serve(st);
	}
}

void stack_ctl_ready(struct us_stack *st)
{
	if (st->ctl)
		st->ctl->ready = true;
}

void stack_ctl_thread(struct us_stack *st, bool running)
{
	struct stack_ctl *c = st->ctl;
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = STACK_CTL_EPOLL_TAG };

	if (!c)
		return;
	if (c->lfd >= 0 && running != c->threaded)
		epoll_ctl(st->sock->epfd, running ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, c->epfd, &ev);
	c->threaded = running;
	st->now = us_clock_now(st->clock);
	ctl_rearm(st);
	if (running)
		c->ready = true; /* whatever came while nobody watched */
}

/* Close the channel: clients, the socket, its file (if it is still ours). With the stack lock. */
static void ctl_close_locked(struct us_stack *st)
{
	struct stack_ctl *c = st->ctl;
	struct stat sb;

	if (!c || c->lfd < 0)
		return;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0)
			ctl_client_close(c, &c->clients[i]);
	if (c->threaded && st->sock)
		epoll_ctl(st->sock->epfd, EPOLL_CTL_DEL, c->epfd, NULL);
	close(c->lfd);
	close(c->epfd);
	c->lfd = c->epfd = -1;
	c->ready = false;
	if (lstat(c->path, &sb) == 0 && S_ISSOCK(sb.st_mode) && sb.st_dev == c->dev && sb.st_ino == c->ino)
		unlink(c->path);
	timer_cancel(&st->timers, &c->check);
}

int us_stack_ctl_open(struct us_stack *st, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	struct stack_ctl *c;
	struct stat sb;
	int lfd = -1, epfd = -1, r;

	if (!st || !path || !*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	pthread_mutex_lock(&st->lock);
	c = ctl_get(st);
	if (!c || !sock_stack_get(st)) {
		r = -ENOMEM;
		goto out;
	}
	if (c->lfd >= 0) {
		r = -EALREADY;
		goto out;
	}
	/* a socket file left by a stack that died is in the way; anything else is not ours to remove */
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			r = -EEXIST;
			goto out;
		}
		unlink(path);
	}
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lfd < 0 || epfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, CTL_MAX_CLIENTS) < 0 || lstat(path, &sb) < 0 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		r = -errno;
		if (lfd >= 0)
			close(lfd);
		if (epfd >= 0)
			close(epfd);
		goto out;
	}
	c->lfd = lfd;
	c->epfd = epfd;
	c->dev = sb.st_dev;
	c->ino = sb.st_ino;
	strcpy(c->path, path);
	c->threaded = false;
	/* into the stack thread's epoll if it runs (and is not on its way out: then it has left its loop
	 * or will, and its stack_ctl_thread(false) finds nothing to take out); the driven check otherwise */
	stack_ctl_thread(st, st->sock->running && !st->sock->stopping);
	ctl_wake(st);
	r = 0;
out:
	pthread_mutex_unlock(&st->lock);
	return r;
}

void us_stack_ctl_close(struct us_stack *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	ctl_close_locked(st);
	pthread_mutex_unlock(&st->lock);
}

void us_stack_request_dump(struct us_stack *st)
{
	uint64_t one = 1;

	/* async-signal-safe: an atomic store and write(2) */
	atomic_store_explicit(&st->dump_request, true, memory_order_release);
	if (st->sock && write(st->sock->wakefd, &one, sizeof(one)) < 0) {
		/* saturated: the thread is awake anyway */
	}
}

int us_stack_set_dump_interval(struct us_stack *st, uint64_t interval_ns)
{
	struct stack_ctl *c;

	if (!st)
		return -EINVAL;
	pthread_mutex_lock(&st->lock);
	c = ctl_get(st);
	if (!c) {
		pthread_mutex_unlock(&st->lock);
		return -ENOMEM;
	}
	c->dump_every_ns = interval_ns;
	if (interval_ns)
		timer_arm(&st->timers, &c->dump_timer, us_clock_now(st->clock) + interval_ns);
	else
		timer_cancel(&st->timers, &c->dump_timer);
	ctl_wake(st);
	pthread_mutex_unlock(&st->lock);
	return 0;
}

int us_stack_set_dump_stream(struct us_stack *st, FILE *out)
{
	struct stack_ctl *c;

	if (!st)
		return -EINVAL;
	pthread_mutex_lock(&st->lock);
	c = ctl_get(st);
	if (c)
		c->dump_out = out;
	pthread_mutex_unlock(&st->lock);
	return c ? 0 : -ENOMEM;
}

void stack_ctl_destroy(struct us_stack *st)
{
	struct stack_ctl *c = st->ctl;

	if (!c)
		return;
	c->threaded = false; /* the thread is gone, and its epoll with the socket layer */
	ctl_close_locked(st);
	timer_cancel(&st->timers, &c->dump_timer);
	free(c->pending); /* the thread wrote what it rendered before it left: nothing */
	free(c);
	st->ctl = NULL;
}
