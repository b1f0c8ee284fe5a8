/*
 * socket.c - the BSD socket API (include/ustack/socket.h) over the protocol endpoints.
 *
 * A descriptor names a struct us_file: the endpoint (tcp_sock, udp_sock, icmp_echo_sock) or an epoll
 * instance, its file-level options (non-blocking, timeouts, linger) and what waits on it. The
 * descriptor table is process-wide, as the kernel's is; everything else belongs to the file's stack.
 *
 * Locking: every call takes the descriptor table lock briefly to find the file (and hold a reference),
 * then the stack lock for the work. Endpoints call sock_wake() when their readiness may have changed
 * (data, room, state, error); the wake is queued and run at the end of the loop round or API call
 * (sock_run_wakes), which signals the file's waiters and puts it on the ready lists of the epoll
 * instances watching it.
 *
 * Blocking: with the stack's thread running (us_stack_start) a call sleeps on the file's condition
 * variable; otherwise it drives the stack itself (poll the devices, sleep in poll(2) until a frame or
 * the next deadline) until it can complete. After every call that may have queued frames or armed a
 * timer, the devices are flushed and the stack thread is woken if it sleeps past the new deadline.
 *
 * Errors are Linux's: each function below says which path of the kernel it follows where the answer
 * is not obvious (net/socket.c, net/ipv4/af_inet.c, tcp.c, udp.c, net/core/sock.c, eventpoll.c).
 */
#include "core.h"

#include <errno.h>
#include <limits.h>
#include <linux/tcp.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "checksum.h"
#include "tcp.h"
#include "ustack/proto.h"
#include "ustack/socket.h"
#include "wire/bytes.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

enum sock_kind { SK_TCP = 1, SK_UDP, SK_PING, SK_EPOLL };

/* Linux's struct socket state, for connect()'s answers */
enum sock_ss { SS_UNCONNECTED = 0, SS_CONNECTING, SS_CONNECTED };

/* Linux's limits for SO_SNDBUF / SO_RCVBUF (net.core.wmem_max, rmem_max; SOCK_MIN_*BUF) */
#define SOCK_BUF_MAX 212992
#define SOCK_MIN_SNDBUF 4608
#define SOCK_MIN_RCVBUF 2304

#define FD_FIRST 3
#define FD_PAGE_SHIFT 10
#define FD_PAGE_SIZE (1u << FD_PAGE_SHIFT)
#define FD_PAGES 4096 /* 4,194,304 descriptors */

struct us_epoll;
struct ep_item;

struct us_file {
	int fd;
	uint8_t kind;	     /* enum sock_kind */
	uint8_t ss;	     /* enum sock_ss (TCP) */
	bool nonblock;	     /* O_NONBLOCK */
	bool cloexec;	     /* FD_CLOEXEC, kept for F_GETFD */
	bool closed;	     /* us_close ran: waiters leave with EBADF */
	bool wake_queued;    /* on the stack's wake list */
	bool user_bound;     /* bind() chose the local address (kept across a reconnect) */
	bool shut_rd, shut_wr; /* shutdown() on a UDP socket */
	int refs;	     /* under fd_lock: the table's and each call's */
	struct us_stack *st;
	union {
		struct tcp_sock *tp;
		struct udp_sock *u;
		struct icmp_echo_sock *ping;
		struct us_epoll *ep;
	};
	struct us_file *wake_next;
	pthread_cond_t cv; /* waiters in blocking calls, with the stack lock */
	int waiters;
	struct ep_item *watchers; /* epoll items watching this file */
	/* options */
	uint64_t rcvtimeo_ns, sndtimeo_ns; /* 0: no limit */
	struct linger linger;
	bool reuseaddr, reuseport, keepalive, broadcast;
	int sndbuf, rcvbuf; /* as getsockopt reports them (Linux doubles what was set); 0: the stack's */
	int maxseg;	    /* TCP_MAXSEG asked for; 0: none */
	uint16_t ping_id;   /* SK_PING: the echo identifier (the "port") */
	uint32_t ping_peer; /* SK_PING: the connected address, 0: none */
};

struct ep_item {
	struct us_epoll *ep;
	struct us_file *f;
	int fd;
	uint32_t events; /* asked for, with EPOLLET / EPOLLONESHOT */
	epoll_data_t data;
	bool ready;	 /* on the ready list */
	bool disabled;	 /* EPOLLONESHOT fired; EPOLL_CTL_MOD re-arms */
	struct ep_item *rnext, *rprev; /* ready list */
	struct ep_item *wnext;	       /* the file's watchers */
	struct ep_item *next;	       /* the instance's items */
};

struct us_epoll {
	struct us_file *file;
	struct ep_item *items;
	struct ep_item *rhead, *rtail;
	int kfd;	/* us_epoll_kernel_fd's eventfd, -1 until asked for */
	bool kfd_set;	/* kfd has been written since the ready list was last empty */
};

/* The socket layer's part of a stack. */
struct sock_stack {
	struct us_file *wake_head;
	pthread_cond_t poll_cv; /* us_poll waiters */
	int poll_waiters;
	pthread_t thread;
	bool running, stopping;
	int wakefd;		/* eventfd: wakes the stack thread */
	int epfd;		/* kernel epoll over the device fds and wakefd */
	uint32_t devs_added;	/* interfaces whose fd is in epfd (bit ifindex - 1) */
	uint64_t sleep_until;	/* the thread sleeps until then (stack clock); 0 while awake */
};

static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct us_file **fd_pages[FD_PAGES];
static int *fd_free;
static size_t fd_free_n, fd_free_cap;
static int fd_next = FD_FIRST;
static struct us_stack *default_stack;

/* ---- the descriptor table ---- */

static struct us_file **fd_slot(int fd, bool create)
{
	uint32_t i = (uint32_t)fd >> FD_PAGE_SHIFT;

	if (fd < 0 || i >= FD_PAGES)
		return NULL;
	if (!fd_pages[i]) {
		if (!create)
			return NULL;
		fd_pages[i] = calloc(FD_PAGE_SIZE, sizeof(struct us_file *));
		if (!fd_pages[i])
			return NULL;
	}
	return &fd_pages[i][(uint32_t)fd & (FD_PAGE_SIZE - 1)];
}

/* Give f a descriptor; -EMFILE when the table is full, -ENOMEM. */
static int fd_install(struct us_file *f)
{
	struct us_file **slot;
	int fd;

	pthread_mutex_lock(&fd_lock);
	if (fd_free_n) {
		fd = fd_free[--fd_free_n];
	} else if (fd_next < (int)(FD_PAGES * FD_PAGE_SIZE)) {
		fd = fd_next++;
	} else {
		pthread_mutex_unlock(&fd_lock);
		return -EMFILE;
	}
	slot = fd_slot(fd, true);
	if (!slot) {
		if (fd == fd_next - 1)
			fd_next--;
		pthread_mutex_unlock(&fd_lock);
		return -ENOMEM;
	}
	*slot = f;
	f->fd = fd;
	f->refs = 1;
	pthread_mutex_unlock(&fd_lock);
	return fd;
}

/* The open file behind fd with a reference held, or NULL (EBADF). */
static struct us_file *fd_get(int fd)
{
	struct us_file **slot, *f = NULL;

	pthread_mutex_lock(&fd_lock);
	slot = fd_slot(fd, false);
	if (slot && *slot && !(*slot)->closed) {
		f = *slot;
		f->refs++;
	}
	pthread_mutex_unlock(&fd_lock);
	return f;
}

static void file_free(struct us_file *f)
{
	pthread_cond_destroy(&f->cv);
	free(f);
}

static void fd_put(struct us_file *f)
{
	bool last;

	pthread_mutex_lock(&fd_lock);
	last = --f->refs == 0;
	pthread_mutex_unlock(&fd_lock);
	if (last)
		file_free(f);
}

/* Take fd out of the table (the table's reference goes with it); the number can be reused. */
static void fd_remove(struct us_file *f)
{
	struct us_file **slot;
	bool last;

	pthread_mutex_lock(&fd_lock);
	slot = fd_slot(f->fd, false);
	if (slot && *slot == f) {
		*slot = NULL;
		if (fd_free_n == fd_free_cap) {
			size_t cap = fd_free_cap ? fd_free_cap * 2 : 256;
			int *n = realloc(fd_free, cap * sizeof(*n));
			if (n) {
				fd_free = n;
				fd_free_cap = cap;
			}
		}
		if (fd_free_n < fd_free_cap)
			fd_free[fd_free_n++] = f->fd;
	}
	last = --f->refs == 0;
	pthread_mutex_unlock(&fd_lock);
	if (last)
		file_free(f);
}

static int fail(int err)
{
	errno = -err;
	return -1;
}

/* ---- the per-stack part ---- */

static struct sock_stack *sock_stack_get(struct us_stack *st)
{
	struct sock_stack *ss = st->sock;
	pthread_condattr_t ca;

	if (ss)
		return ss;
	ss = calloc(1, sizeof(*ss));
	if (!ss)
		return NULL;
	ss->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ss->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ss->wakefd < 0 || ss->epfd < 0) {
		if (ss->wakefd >= 0)
			close(ss->wakefd);
		if (ss->epfd >= 0)
			close(ss->epfd);
		free(ss);
		return NULL;
	}
	epoll_ctl(ss->epfd, EPOLL_CTL_ADD, ss->wakefd,
		  &(struct epoll_event){ .events = EPOLLIN, .data.fd = ss->wakefd });
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ss->poll_cv, &ca);
	pthread_condattr_destroy(&ca);
	st->sock = ss;
	return ss;
}

/* Put every device's fd into the stack's kernel epoll (devices may be added at any time). */
static void sock_sync_devices(struct us_stack *st, struct sock_stack *ss)
{
	for (int i = 0; i < US_MAX_IFACES; i++) {
		struct netdev *dev = st->ifaces[i].dev;
		int fd;

		if (!dev || (ss->devs_added & (1u << i)))
			continue;
		fd = netdev_fd(dev);
		if (fd >= 0)
			epoll_ctl(ss->epfd, EPOLL_CTL_ADD, fd,
				  &(struct epoll_event){ .events = EPOLLIN, .data.fd = fd });
		ss->devs_added |= 1u << i;
	}
}

static uint64_t stack_next_deadline(struct us_stack *st)
{
	uint64_t next = timer_next_deadline(&st->timers);

	for (int i = 0; i < US_MAX_IFACES; i++) {
		struct netdev *dev = st->ifaces[i].dev;
		if (dev) {
			uint64_t t = netdev_next_deadline(dev);
			if (t < next)
				next = t;
		}
	}
	return next;
}

static int ms_until(struct us_stack *st, uint64_t deadline)
{
	uint64_t now = us_clock_now(st->clock), ms;

	if (deadline == US_TIME_NEVER)
		return -1;
	if (deadline <= now)
		return 0;
	ms = (deadline - now + US_NSEC_PER_MSEC - 1) / US_NSEC_PER_MSEC;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* The end of every call that may have sent or armed a timer: run the wakes, hand the frames to the
 * devices, and wake the stack thread if it sleeps past the earliest deadline. */
static void sock_kick(struct us_stack *st)
{
	struct sock_stack *ss = st->sock;

	sock_run_wakes(st);
	stack_flush_devices(st);
	if (ss->running && ss->sleep_until && stack_next_deadline(st) < ss->sleep_until) {
		uint64_t one = 1;
		ss->sleep_until = 0;
		if (write(ss->wakefd, &one, sizeof(one)) < 0) {
			/* the counter is saturated: the thread is awake anyway */
		}
	}
}

static void *stack_thread(void *arg)
{
	struct us_stack *st = arg;
	struct sock_stack *ss = st->sock;
	struct epoll_event ev[US_MAX_IFACES + 1];

	pthread_mutex_lock(&st->lock);
	while (!ss->stopping) {
		uint64_t next = stack_poll_locked(st);
		int ms, n;

		ss->sleep_until = next ? next : 1;
		ms = ms_until(st, next);
		pthread_mutex_unlock(&st->lock);
		n = ms == 0 ? 0 : epoll_wait(ss->epfd, ev, US_MAX_IFACES + 1, ms);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == ss->wakefd) {
				uint64_t v;
				if (read(ss->wakefd, &v, sizeof(v)) < 0) {
					/* EAGAIN: another reader took it */
				}
			}
		}
		pthread_mutex_lock(&st->lock);
		ss->sleep_until = 0;
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

int us_stack_start(struct us_stack *st)
{
	struct sock_stack *ss;
	int r = 0;

	if (!st)
		return -EINVAL;
	if (st->clock->kind != US_CLOCK_MONOTONIC)
		return -EINVAL; /* a thread cannot sleep on virtual time */
	pthread_mutex_lock(&st->lock);
	ss = sock_stack_get(st);
	if (!ss)
		r = -ENOMEM;
	else if (ss->running)
		r = -EALREADY;
	if (r == 0) {
		sock_sync_devices(st, ss);
		ss->stopping = false;
		r = -pthread_create(&ss->thread, NULL, stack_thread, st);
		if (r == 0)
			ss->running = true;
	}
	pthread_mutex_unlock(&st->lock);
	return r;
}

void us_stack_stop(struct us_stack *st)
{
	struct sock_stack *ss;
	uint64_t one = 1;

	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	ss = st->sock;
	if (!ss || !ss->running) {
		pthread_mutex_unlock(&st->lock);
		return;
	}
	ss->stopping = true;
	if (write(ss->wakefd, &one, sizeof(one)) < 0) {
		/* saturated: awake anyway */
	}
	pthread_mutex_unlock(&st->lock);
	pthread_join(ss->thread, NULL);
	pthread_mutex_lock(&st->lock);
	ss->running = false;
	ss->sleep_until = 0;
	pthread_mutex_unlock(&st->lock);
}

int us_stack_fd(struct us_stack *st)
{
	struct sock_stack *ss;
	int fd;

	pthread_mutex_lock(&st->lock);
	ss = sock_stack_get(st);
	if (ss)
		sock_sync_devices(st, ss);
	fd = ss ? ss->epfd : -ENOMEM;
	pthread_mutex_unlock(&st->lock);
	return fd;
}

int us_stack_timeout_ms(struct us_stack *st)
{
	int ms;

	pthread_mutex_lock(&st->lock);
	ms = ms_until(st, stack_next_deadline(st));
	pthread_mutex_unlock(&st->lock);
	return ms;
}

void us_stack_set_default(struct us_stack *st)
{
	pthread_mutex_lock(&fd_lock);
	default_stack = st;
	pthread_mutex_unlock(&fd_lock);
}

struct us_stack *us_stack_get_default(void)
{
	struct us_stack *st;

	pthread_mutex_lock(&fd_lock);
	st = default_stack;
	pthread_mutex_unlock(&fd_lock);
	return st;
}

/* ---- readiness ---- */

/* What poll(2) would say about f now (Linux's tcp_poll, datagram_poll). */
static uint32_t file_events(const struct us_file *f)
{
	uint32_t ev = 0;

	switch (f->kind) {
	case SK_TCP: {
		const struct tcp_sock *tp = f->tp;
		bool dead = tp->flags & TF_FREE;
		bool rcv_shut = dead || (tp->flags & (TF_PEER_FIN | TF_SHUT_RD));
		bool snd_shut = dead || (tp->flags & TF_FIN_QUEUED);

		if (tp->state == TCP_LISTEN)
			return tp->accept_head ? (POLLIN | POLLRDNORM) : 0;
		if ((rcv_shut && snd_shut) || tp->state == TCP_CLOSED)
			ev |= POLLHUP;
		if (rcv_shut)
			ev |= POLLIN | POLLRDNORM | POLLRDHUP;
		if (tp->state != TCP_SYN_SENT && tp->state != TCP_SYN_RECEIVED) {
			if (tp->rcv_q.bytes)
				ev |= POLLIN | POLLRDNORM;
			if (snd_shut)
				ev |= POLLOUT | POLLWRNORM;
			else if (tp->write_q.bytes < tp->sndbuf &&
				 tp->sndbuf - tp->write_q.bytes >= tp->write_q.bytes / 2)
				ev |= POLLOUT | POLLWRNORM; /* sk_stream_is_writeable */
		}
		if (tp->err)
			ev |= POLLERR;
		return ev;
	}
	case SK_UDP:
		if (f->u->err)
			ev |= POLLERR;
		if (!skb_queue_empty(&f->u->rx) || f->shut_rd)
			ev |= POLLIN | POLLRDNORM;
		if (f->shut_rd && f->shut_wr)
			ev |= POLLHUP;
		return ev | POLLOUT | POLLWRNORM | POLLWRBAND;
	case SK_PING:
		if (!skb_queue_empty(&f->ping->rx))
			ev |= POLLIN | POLLRDNORM;
		return ev | POLLOUT | POLLWRNORM | POLLWRBAND;
	case SK_EPOLL:
		return f->ep->rhead ? (POLLIN | POLLRDNORM) : 0;
	}
	return 0;
}

static void ep_ready_add(struct ep_item *it)
{
	struct us_epoll *ep = it->ep;

	if (it->ready)
		return;
	it->ready = true;
	it->rnext = NULL;
	it->rprev = ep->rtail;
	if (ep->rtail)
		ep->rtail->rnext = it;
	else
		ep->rhead = it;
	ep->rtail = it;
	if (ep->file->waiters)
		pthread_cond_broadcast(&ep->file->cv);
	if (ep->kfd >= 0 && !ep->kfd_set) {
		uint64_t one = 1;
		ep->kfd_set = true;
		if (write(ep->kfd, &one, sizeof(one)) < 0) {
			/* saturated: readable anyway */
		}
	}
}

static void ep_ready_del(struct ep_item *it)
{
	struct us_epoll *ep = it->ep;

	if (!it->ready)
		return;
	if (it->rprev)
		it->rprev->rnext = it->rnext;
	else
		ep->rhead = it->rnext;
	if (it->rnext)
		it->rnext->rprev = it->rprev;
	else
		ep->rtail = it->rprev;
	it->ready = false;
	it->rnext = it->rprev = NULL;
}

/* The events an item reports: what it asked for, plus errors and hang-ups always. */
static uint32_t ep_item_events(const struct ep_item *it)
{
	return file_events(it->f) & ((it->events & ~(uint32_t)(EPOLLET | EPOLLONESHOT)) | EPOLLERR | EPOLLHUP);
}

static void file_notify(struct us_file *f)
{
	if (f->waiters)
		pthread_cond_broadcast(&f->cv);
	for (struct ep_item *it = f->watchers; it; it = it->wnext)
		if (!it->disabled && ep_item_events(it))
			ep_ready_add(it);
}

void sock_wake(struct us_stack *st, void *owner)
{
	struct us_file *f = owner;

	if (f->wake_queued || !st->sock)
		return;
	f->wake_queued = true;
	f->wake_next = st->sock->wake_head;
	st->sock->wake_head = f;
}

void sock_run_wakes(struct us_stack *st)
{
	struct sock_stack *ss = st->sock;
	struct us_file *f;
	bool any = false;

	while ((f = ss->wake_head) != NULL) {
		ss->wake_head = f->wake_next;
		f->wake_queued = false;
		f->wake_next = NULL;
		file_notify(f);
		any = true;
	}
	if (any && ss->poll_waiters)
		pthread_cond_broadcast(&ss->poll_cv);
}

static void wake_list_remove(struct us_file *f)
{
	struct sock_stack *ss = f->st->sock;
	struct us_file **pp;

	if (!f->wake_queued || !ss)
		return;
	for (pp = &ss->wake_head; *pp && *pp != f; pp = &(*pp)->wake_next)
		;
	if (*pp)
		*pp = f->wake_next;
	f->wake_queued = false;
}

/* ---- waiting ---- */

static uint64_t timeo_deadline(struct us_stack *st, uint64_t timeo_ns)
{
	return timeo_ns ? us_clock_now(st->clock) + timeo_ns : US_TIME_NEVER;
}

static void abs_monotonic(uint64_t rel_ns, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	rel_ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(rel_ns / US_NSEC_PER_SEC);
	ts->tv_nsec = (long)(rel_ns % US_NSEC_PER_SEC);
}

/* Drive a stack that has no thread for one step: sleep in poll(2) on the devices until a frame, the
 * next deadline or `deadline`, then run a round. Called and returns with the stack lock held. */
static void sock_drive(struct us_stack *st, uint64_t deadline)
{
	struct pollfd pfd[US_MAX_IFACES];
	uint64_t next = stack_next_deadline(st);
	nfds_t n = 0;
	int ms;

	if (deadline < next)
		next = deadline;
	for (int i = 0; i < US_MAX_IFACES; i++) {
		int fd = st->ifaces[i].dev ? netdev_fd(st->ifaces[i].dev) : -1;
		if (fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	ms = ms_until(st, next);
	if (ms != 0) {
		pthread_mutex_unlock(&st->lock);
		poll(pfd, n, ms);
		pthread_mutex_lock(&st->lock);
	}
	stack_poll_locked(st);
}

/* Wait for f's readiness to change or for deadline (stack clock). With the stack lock held.
 * 0: look again; -EAGAIN: the deadline passed (or a virtual clock that cannot be waited on);
 * -EBADF: f was closed meanwhile. */
static int sock_wait(struct us_file *f, uint64_t deadline)
{
	struct us_stack *st = f->st;
	struct sock_stack *ss = st->sock;

	if (us_clock_now(st->clock) >= deadline)
		return -EAGAIN;
	if (ss && ss->running) {
		f->waiters++;
		if (deadline == US_TIME_NEVER) {
			pthread_cond_wait(&f->cv, &st->lock);
		} else {
			struct timespec ts;
			abs_monotonic(deadline - us_clock_now(st->clock), &ts);
			pthread_cond_timedwait(&f->cv, &st->lock, &ts);
		}
		f->waiters--;
	} else {
		if (st->clock->kind != US_CLOCK_MONOTONIC)
			return -EAGAIN;
		sock_drive(st, deadline);
	}
	if (f->closed)
		return -EBADF;
	return 0;
}

/* ---- lookups and entry ---- */

/* The file for fd, locked; NULL with errno EBADF. */
static struct us_file *file_lock(int fd)
{
	struct us_file *f = fd_get(fd);

	if (!f) {
		errno = EBADF;
		return NULL;
	}
	pthread_mutex_lock(&f->st->lock);
	f->st->now = us_clock_now(f->st->clock);
	return f;
}

static void file_unlock(struct us_file *f)
{
	struct us_stack *st = f->st;

	sock_kick(st);
	pthread_mutex_unlock(&st->lock);
	fd_put(f);
}

/* Unlock and return: r >= 0 as is, r < 0 as -1 with errno. */
static ssize_t file_ret(struct us_file *f, ssize_t r)
{
	file_unlock(f);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static bool is_sock(const struct us_file *f)
{
	return f->kind != SK_EPOLL;
}

/* A sockaddr_in from the caller: Linux's checks for bind/connect/sendto. */
static int addr_in(const struct sockaddr *sa, socklen_t len, uint32_t *addr, uint16_t *port,
		   bool unspec_ok)
{
	struct sockaddr_in sin;

	if (!sa)
		return -EFAULT;
	if (len < (socklen_t)sizeof(sin))
		return -EINVAL;
	memcpy(&sin, sa, sizeof(sin));
	if (sin.sin_family != AF_INET) {
		/* af_inet.c: AF_UNSPEC with INADDR_ANY is taken as AF_INET, for old programs */
		if (!(unspec_ok && sin.sin_family == AF_UNSPEC && sin.sin_addr.s_addr == htonl(INADDR_ANY)))
			return -EAFNOSUPPORT;
	}
	*addr = ntohl(sin.sin_addr.s_addr);
	*port = ntohs(sin.sin_port);
	return 0;
}

/* Copy an address out as getsockname/accept/recvfrom do: truncated to *len, *len set to the full
 * size. */
static int addr_out(struct sockaddr *sa, socklen_t *len, uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin;
	socklen_t n;

	if (!sa)
		return 0;
	if (!len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(addr);
	sin.sin_port = htons(port);
	n = *len < (socklen_t)sizeof(sin) ? *len : (socklen_t)sizeof(sin);
	memcpy(sa, &sin, n);
	*len = sizeof(sin);
	return 0;
}

/* ---- socket, bind, listen ---- */

static struct us_file *file_new(struct us_stack *st, uint8_t kind)
{
	struct us_file *f = calloc(1, sizeof(*f));
	pthread_condattr_t ca;

	if (!f)
		return NULL;
	f->st = st;
	f->kind = kind;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cv, &ca);
	pthread_condattr_destroy(&ca);
	return f;
}

int us_socket_on(struct us_stack *st, int domain, int type, int protocol)
{
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC), kind, fd;
	struct us_file *f;

	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (domain != AF_INET)
		return fail(-EAFNOSUPPORT);
	if (type == SOCK_STREAM) {
		if (protocol != 0 && protocol != IPPROTO_TCP)
			return fail(-EPROTONOSUPPORT);
		kind = SK_TCP;
	} else if (type == SOCK_DGRAM) {
		if (protocol == 0 || protocol == IPPROTO_UDP)
			kind = SK_UDP;
		else if (protocol == IPPROTO_ICMP)
			kind = SK_PING;
		else
			return fail(-EPROTONOSUPPORT);
	} else if (type == SOCK_RAW || type == SOCK_SEQPACKET) {
		return fail(-EPROTONOSUPPORT); /* no raw IP or SCTP in ustack */
	} else {
		return fail(-EINVAL);
	}
	if (!st)
		return fail(-ENETDOWN);
	f = file_new(st, (uint8_t)kind);
	if (!f)
		return fail(-ENOMEM);
	f->nonblock = flags & SOCK_NONBLOCK;
	f->cloexec = flags & SOCK_CLOEXEC;
	pthread_mutex_lock(&st->lock);
	if (!sock_stack_get(st)) {
		pthread_mutex_unlock(&st->lock);
		file_free(f);
		return fail(-ENOMEM);
	}
	if (kind == SK_TCP) {
		f->tp = tcp_sock_new(st);
		if (f->tp)
			f->tp->owner = f;
	} else if (kind == SK_UDP) {
		f->u = (struct udp_sock *)us_udp_open(st);
		if (f->u)
			f->u->owner = f;
	}
	/* a ping socket gets its endpoint (and identifier) at bind or first send */
	pthread_mutex_unlock(&st->lock);
	if ((kind == SK_TCP && !f->tp) || (kind == SK_UDP && !f->u)) {
		file_free(f);
		return fail(-ENOMEM);
	}
	fd = fd_install(f);
	if (fd < 0) {
		pthread_mutex_lock(&st->lock);
		if (kind == SK_TCP)
			us_tcp_close((struct us_tcp *)f->tp);
		else if (kind == SK_UDP)
			us_udp_close((struct us_udp *)f->u);
		pthread_mutex_unlock(&st->lock);
		file_free(f);
		return fail(fd);
	}
	return fd;
}

int us_socket(int domain, int type, int protocol)
{
	return us_socket_on(us_stack_get_default(), domain, type, protocol);
}

/* A ping socket's endpoint: identifier `id` (0: a free one, as the kernel's ping_get_port). */
static int ping_open(struct us_file *f, uint16_t id)
{
	struct us_ping *p = NULL;

	if (f->ping)
		return -EINVAL;
	if (id) {
		p = us_ping_open(f->st, id);
		if (!p)
			return -errno;
	} else {
		for (int i = 0; i < 65536 && !p; i++) {
			id = (uint16_t)us_rand64(f->st);
			if (id)
				p = us_ping_open(f->st, id);
		}
		if (!p)
			return -EADDRINUSE;
	}
	f->ping = (struct icmp_echo_sock *)p;
	f->ping->owner = f;
	f->ping_id = id;
	return 0;
}

int us_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct us_file *f = file_lock(fd);
	uint32_t addr;
	uint16_t port;
	int r;

	if (!f)
		return -1;
	if (!is_sock(f))
		return (int)file_ret(f, -ENOTSOCK);
	r = addr_in(sa, len, &addr, &port, true);
	if (r < 0)
		return (int)file_ret(f, r);
	if (addr && (ipv4_is_multicast(addr) || us_addr_is_broadcast(f->st, addr)) && f->kind == SK_TCP)
		return (int)file_ret(f, -EADDRNOTAVAIL);
	if (addr && !us_iface_by_addr(f->st, addr) && !(f->kind != SK_TCP && us_addr_is_broadcast(f->st, addr)))
		return (int)file_ret(f, -EADDRNOTAVAIL);
	switch (f->kind) {
	case SK_TCP:
		f->tp->reuseaddr = f->reuseaddr;
		r = us_tcp_bind((struct us_tcp *)f->tp, addr, port);
		break;
	case SK_UDP:
		r = us_udp_bind((struct us_udp *)f->u, addr, port);
		break;
	default:
		r = f->ping ? -EINVAL : ping_open(f, port);
		break;
	}
	if (r == 0)
		f->user_bound = true;
	return (int)file_ret(f, r);
}

int us_listen(int fd, int backlog)
{
	struct us_file *f = file_lock(fd);
	int r;

	if (!f)
		return -1;
	if (!is_sock(f))
		return (int)file_ret(f, -ENOTSOCK);
	if (f->kind != SK_TCP)
		return (int)file_ret(f, -EOPNOTSUPP);
	/* af_inet.c inet_listen: only an unconnected socket, or a listening one (new backlog) */
	if (f->ss != SS_UNCONNECTED || (f->tp->state != TCP_CLOSED && f->tp->state != TCP_LISTEN))
		return (int)file_ret(f, -EINVAL);
	if (backlog < 0 || backlog > 4096)
		backlog = 4096; /* (unsigned)backlog > somaxconn */
	f->tp->reuseaddr = f->reuseaddr;
	r = us_tcp_listen((struct us_tcp *)f->tp, backlog);
	return (int)file_ret(f, r);
}

/* ---- accept, connect ---- */

int us_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	struct us_file *f = file_lock(fd), *nf;
	struct tcp_sock *c = NULL;
	uint64_t deadline;
	int r, nfd;

	if (!f)
		return -1;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return (int)file_ret(f, -EINVAL);
	if (!is_sock(f))
		return (int)file_ret(f, -ENOTSOCK);
	if (f->kind != SK_TCP)
		return (int)file_ret(f, -EOPNOTSUPP);
	if (sa && !len)
		return (int)file_ret(f, -EFAULT);
	if (sa && (int)*len < 0)
		return (int)file_ret(f, -EINVAL);
	deadline = timeo_deadline(f->st, f->rcvtimeo_ns);
	for (;;) {
		if (f->tp->state != TCP_LISTEN)
			return (int)file_ret(f, -EINVAL);
		c = (struct tcp_sock *)us_tcp_accept((struct us_tcp *)f->tp, &r);
		if (c)
			break;
		if (r != -EAGAIN || f->nonblock)
			return (int)file_ret(f, r);
		r = sock_wait(f, deadline);
		if (r < 0)
			return (int)file_ret(f, r);
	}
	nf = file_new(f->st, SK_TCP);
	if (!nf) {
		us_tcp_abort((struct us_tcp *)c);
		return (int)file_ret(f, -ENOMEM);
	}
	nf->tp = c;
	c->owner = nf;
	nf->ss = SS_CONNECTED;
	nf->nonblock = flags & SOCK_NONBLOCK;
	nf->cloexec = flags & SOCK_CLOEXEC;
	/* what sk_clone copies from the listener */
	nf->rcvtimeo_ns = f->rcvtimeo_ns;
	nf->sndtimeo_ns = f->sndtimeo_ns;
	nf->linger = f->linger;
	nf->keepalive = f->keepalive;
	nf->sndbuf = f->sndbuf;
	nf->rcvbuf = f->rcvbuf;
	nf->reuseaddr = f->reuseaddr;
	nfd = fd_install(nf);
	if (nfd < 0) {
		c->owner = NULL;
		us_tcp_abort((struct us_tcp *)c);
		file_free(nf);
		return (int)file_ret(f, nfd);
	}
	addr_out(sa, len, c->raddr, c->rport);
	/* readiness that arrived before there was a file to wake */
	sock_wake(f->st, nf);
	file_unlock(f);
	return nfd;
}

int us_accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return us_accept4(fd, sa, len, 0);
}

/* A TCP socket whose connection is over gets a fresh endpoint for a new connect (Linux reuses the
 * sock; ours was torn down), keeping the options and a port the user bound. */
static int tcp_renew(struct us_file *f)
{
	struct tcp_sock *old = f->tp, *tp = tcp_sock_new(f->st);
	int r = 0;

	if (!tp)
		return -ENOMEM;
	tp->flags |= old->flags & (TF_NODELAY | TF_KEEPALIVE);
	tp->sndbuf = old->sndbuf;
	tp->rcvbuf = old->rcvbuf;
	tp->keepidle_ns = old->keepidle_ns;
	tp->keepintvl_ns = old->keepintvl_ns;
	tp->keepcnt = old->keepcnt;
	tp->reuseaddr = old->reuseaddr;
	tp->owner = f;
	old->owner = NULL;
	if (f->user_bound) {
		uint32_t addr = old->laddr;
		uint16_t port = old->lport;

		us_tcp_close((struct us_tcp *)old); /* frees it and its port */
		r = us_tcp_bind((struct us_tcp *)tp, addr, port);
	} else {
		us_tcp_close((struct us_tcp *)old);
	}
	f->tp = tp;
	return r;
}

static int tcp_connect(struct us_file *f, const struct sockaddr *sa, socklen_t len)
{
	uint32_t addr;
	uint16_t port;
	uint64_t deadline;
	int r, err;

	/* af_inet.c __inet_stream_connect */
	if (!sa)
		return -EFAULT;
	if (len < (socklen_t)sizeof(sa->sa_family))
		return -EINVAL;
	if (sa->sa_family == AF_UNSPEC) {
		/* a disconnect: abort what there is */
		if (f->tp->state != TCP_CLOSED && f->tp->state != TCP_LISTEN) {
			f->tp->owner = NULL;
			us_tcp_abort((struct us_tcp *)f->tp);
			f->tp = tcp_sock_new(f->st);
			if (!f->tp)
				return -ENOMEM;
			f->tp->owner = f;
			f->user_bound = false;
		}
		f->ss = SS_UNCONNECTED;
		return 0;
	}
	r = addr_in(sa, len, &addr, &port, false);
	if (r < 0)
		return r;
	switch (f->ss) {
	case SS_CONNECTED:
		return -EISCONN;
	case SS_CONNECTING:
		err = -EALREADY;
		break;
	default:
		if (f->tp->state != TCP_CLOSED)
			return -EISCONN;
		if ((f->tp->flags & TF_FREE) && (r = tcp_renew(f)) < 0)
			return r;
		r = us_tcp_connect((struct us_tcp *)f->tp, addr, port);
		if (r != -EINPROGRESS)
			return r == 0 ? -EINVAL : r;
		f->ss = SS_CONNECTING;
		err = -EINPROGRESS;
		break;
	}
	deadline = timeo_deadline(f->st, f->sndtimeo_ns);
	while (f->tp->state == TCP_SYN_SENT || f->tp->state == TCP_SYN_RECEIVED) {
		if (f->nonblock)
			return err;
		sock_kick(f->st);
		r = sock_wait(f, deadline);
		if (r == -EAGAIN)
			return -EINPROGRESS; /* SO_SNDTIMEO ran out */
		if (r < 0)
			return r;
	}
	if (f->tp->state == TCP_CLOSED) {
		/* refused, timed out, reset, or an ICMP error */
		r = us_tcp_error((struct us_tcp *)f->tp);
		f->ss = SS_UNCONNECTED;
		return r ? r : -ECONNABORTED;
	}
	f->ss = SS_CONNECTED;
	return 0;
}

int us_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct us_file *f = file_lock(fd);
	uint32_t addr;
	uint16_t port;
	int r;

	if (!f)
		return -1;
	switch (f->kind) {
	case SK_TCP:
		r = tcp_connect(f, sa, len);
		break;
	case SK_UDP:
		if (sa && len >= (socklen_t)sizeof(sa->sa_family) && sa->sa_family == AF_UNSPEC) {
			/* udp_disconnect */
			f->u->raddr = 0;
			f->u->rport = 0;
			r = 0;
			break;
		}
		r = addr_in(sa, len, &addr, &port, false);
		if (r == 0)
			r = us_udp_connect((struct us_udp *)f->u, addr, port);
		break;
	case SK_PING:
		/* ip4_datagram_connect: sends without an address go there */
		r = addr_in(sa, len, &addr, &port, false);
		if (r == 0 && !f->ping)
			r = ping_open(f, 0);
		if (r == 0)
			f->ping_peer = addr;
		break;
	default:
		r = -ENOTSOCK;
		break;
	}
	return (int)file_ret(f, r);
}

/* ---- send ---- */

/* iov bookkeeping for partial progress */
struct iov_cursor {
	struct iovec v[64];
	int n;
	size_t total;
};

static int iov_load(struct iov_cursor *c, const struct iovec *iov, int cnt)
{
	if (cnt < 0 || cnt > 64)
		return -EINVAL; /* UIO_MAXIOV is 1024; 64 is ours */
	c->n = cnt;
	c->total = 0;
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len && !iov[i].iov_base)
			return -EFAULT;
		if (iov[i].iov_len > SSIZE_MAX - c->total)
			return -EINVAL;
		c->v[i] = iov[i];
		c->total += iov[i].iov_len;
	}
	return 0;
}

static void iov_advance(struct iov_cursor *c, size_t n)
{
	int i = 0;

	while (n && i < c->n) {
		size_t k = n < c->v[i].iov_len ? n : c->v[i].iov_len;
		c->v[i].iov_base = (uint8_t *)c->v[i].iov_base + k;
		c->v[i].iov_len -= k;
		n -= k;
		if (c->v[i].iov_len == 0)
			i++;
	}
	memmove(c->v, c->v + i, (size_t)(c->n - i) * sizeof(c->v[0]));
	c->n -= i;
}

static ssize_t tcp_send_locked(struct us_file *f, struct iov_cursor *c, int flags)
{
	struct tcp_sock *tp = f->tp;
	bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
	uint64_t deadline = timeo_deadline(f->st, f->sndtimeo_ns);
	size_t want = c->total, done = 0;
	int r;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP; /* no urgent data in ustack */
	for (;;) {
		if (tp->state == TCP_CLOSED && !(tp->flags & TF_FREE) && !tp->err)
			return -EPIPE; /* never connected: sk_stream_wait_connect */
		r = want - done ? tcp_sendmsg(tp, c->v, c->n) : 0;
		if (r > 0) {
			done += (size_t)r;
			iov_advance(c, (size_t)r);
			if (done == want)
				return (ssize_t)done;
			continue;
		}
		if (r == 0 && want == 0) {
			if (tp->state == TCP_SYN_SENT || tp->state == TCP_SYN_RECEIVED) {
				if (nonblock)
					return -EAGAIN;
			} else {
				return 0;
			}
		} else if (r != -EAGAIN) {
			return done ? (ssize_t)done : r;
		}
		if (nonblock)
			return done ? (ssize_t)done : -EAGAIN;
		sock_kick(f->st);
		r = sock_wait(f, deadline);
		if (r < 0)
			return done ? (ssize_t)done : r;
		tp = f->tp;
	}
}

static ssize_t ping_send(struct us_file *f, const struct iov_cursor *c, uint32_t daddr)
{
	uint8_t *buf;
	size_t off = 0;
	int r;

	/* net/ipv4/ping.c: an echo request header from the user, the kernel sets id and checksum */
	if (c->total < ICMP_HDR_LEN)
		return -EINVAL;
	if (c->total > 0xffff)
		return -EMSGSIZE;
	if (!daddr)
		return -EDESTADDRREQ;
	buf = malloc(c->total);
	if (!buf)
		return -ENOMEM;
	for (int i = 0; i < c->n; i++) {
		memcpy(buf + off, c->v[i].iov_base, c->v[i].iov_len);
		off += c->v[i].iov_len;
	}
	if (buf[0] != ICMP_ECHO || buf[1] != 0) {
		free(buf);
		return -EINVAL;
	}
	r = f->ping ? 0 : ping_open(f, 0);
	if (r == 0)
		r = us_ping_send((struct us_ping *)f->ping, daddr, get_be16(buf + 6), buf + ICMP_HDR_LEN,
				 c->total - ICMP_HDR_LEN, 0);
	free(buf);
	return r < 0 ? r : (ssize_t)c->total;
}

static ssize_t sock_sendmsg(int fd, const struct iovec *iov, int iovcnt, int flags,
			    const struct sockaddr *dest, socklen_t destlen)
{
	struct us_file *f = file_lock(fd);
	struct iov_cursor c;
	uint32_t daddr = 0;
	uint16_t dport = 0;
	ssize_t r;

	if (!f)
		return -1;
	if (!is_sock(f))
		return file_ret(f, -ENOTSOCK);
	r = iov_load(&c, iov, iovcnt);
	if (r < 0)
		return file_ret(f, r);
	switch (f->kind) {
	case SK_TCP:
		/* a TCP socket ignores the address (tcp_sendmsg) */
		r = tcp_send_locked(f, &c, flags);
		break;
	case SK_UDP:
		if (dest) {
			/* udp_sendmsg: AF_UNSPEC is tolerated, a short address is EINVAL */
			if (destlen < (socklen_t)sizeof(struct sockaddr_in)) {
				r = -EINVAL;
				break;
			}
			r = addr_in(dest, destlen, &daddr, &dport, false);
			if (r == -EAFNOSUPPORT && dest->sa_family == AF_UNSPEC)
				r = 0;
			if (r < 0)
				break;
			if (dport == 0) {
				r = -EINVAL;
				break;
			}
			if (daddr == 0)
				daddr = 0x7f000001; /* Linux sends to INADDR_ANY as to loopback */
		}
		if (f->shut_wr) {
			r = -EPIPE;
			break;
		}
		if (us_addr_is_broadcast(f->st, daddr) && !f->broadcast) {
			r = -EACCES; /* SO_BROADCAST not set */
			break;
		}
		r = udp_sendmsg(f->u, c.v, c.n, c.total, daddr, dport);
		break;
	case SK_PING:
		if (dest) {
			r = addr_in(dest, destlen, &daddr, &dport, false);
			if (r < 0)
				break;
		}
		r = ping_send(f, &c, daddr ? daddr : f->ping_peer);
		break;
	}
	return file_ret(f, r);
}

ssize_t us_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (!msg) {
		struct us_file *f = fd_get(fd);
		if (!f)
			return fail(-EBADF);
		fd_put(f);
		return fail(-EFAULT);
	}
	return sock_sendmsg(fd, msg->msg_iov, (int)msg->msg_iovlen, flags, msg->msg_name,
			    msg->msg_name ? msg->msg_namelen : 0);
}

ssize_t us_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *dest,
		  socklen_t addrlen)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };

	return sock_sendmsg(fd, &iov, 1, flags, dest, dest ? addrlen : 0);
}

ssize_t us_send(int fd, const void *buf, size_t len, int flags)
{
	return us_sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t us_write(int fd, const void *buf, size_t len)
{
	return us_send(fd, buf, len, 0);
}

ssize_t us_writev(int fd, const struct iovec *iov, int iovcnt)
{
	return sock_sendmsg(fd, iov, iovcnt, 0, NULL, 0);
}

/* ---- receive ---- */

static ssize_t tcp_recv_locked(struct us_file *f, struct iov_cursor *c, int flags)
{
	bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
	bool peek = flags & MSG_PEEK;
	uint64_t deadline = timeo_deadline(f->st, f->rcvtimeo_ns);
	size_t want = c->total, done = 0;
	int r;

	if (flags & MSG_OOB)
		return -EINVAL; /* tcp_recv_urg: no urgent data */
	if (f->tp->state == TCP_LISTEN)
		return -ENOTCONN;
	if (want == 0)
		return 0;
	for (;;) {
		r = tcp_recvmsg(f->tp, c->v, c->n, peek);
		if (r > 0) {
			done += (size_t)r;
			if (peek || !(flags & MSG_WAITALL) || done == want)
				return (ssize_t)done;
			iov_advance(c, (size_t)r);
			continue;
		}
		if (r == 0)
			return (ssize_t)done; /* end of stream */
		if (r != -EAGAIN)
			return done ? (ssize_t)done : r;
		if (nonblock)
			return done ? (ssize_t)done : -EAGAIN;
		sock_kick(f->st);
		r = sock_wait(f, deadline);
		if (r < 0)
			return done ? (ssize_t)done : r;
	}
}

static ssize_t udp_recv_locked(struct us_file *f, struct iov_cursor *c, int flags, uint32_t *saddr,
			       uint16_t *sport, int *msg_flags)
{
	bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
	uint64_t deadline = timeo_deadline(f->st, f->rcvtimeo_ns);
	int r;

	for (;;) {
		if (f->shut_rd && skb_queue_empty(&f->u->rx))
			return 0;
		r = udp_recvmsg(f->u, c->v, c->n, flags & MSG_PEEK, saddr, sport);
		if (r >= 0) {
			if ((size_t)r > c->total) {
				*msg_flags |= MSG_TRUNC;
				return (flags & MSG_TRUNC) ? r : (ssize_t)c->total;
			}
			return r;
		}
		if (r != -EAGAIN || nonblock)
			return r;
		sock_kick(f->st);
		r = sock_wait(f, deadline);
		if (r < 0)
			return r;
	}
}

static ssize_t ping_recv_locked(struct us_file *f, struct iov_cursor *c, int flags, uint32_t *saddr,
				int *msg_flags)
{
	bool nonblock = f->nonblock || (flags & MSG_DONTWAIT);
	uint64_t deadline = timeo_deadline(f->st, f->rcvtimeo_ns);
	struct us_ping_reply rep;
	uint8_t *buf;
	size_t off = 0, n;
	int r;

	for (;;) {
		if (f->ping && !skb_queue_empty(&f->ping->rx))
			break;
		if (nonblock)
			return -EAGAIN;
		sock_kick(f->st);
		r = sock_wait(f, deadline);
		if (r < 0)
			return r;
	}
	buf = malloc(ICMP_HDR_LEN + 0x10000);
	if (!buf)
		return -ENOMEM;
	us_ping_recv((struct us_ping *)f->ping, &rep, buf + ICMP_HDR_LEN, 0x10000);
	if (rep.error) {
		free(buf);
		return rep.error; /* ping_err without IP_RECVERR: the error, once */
	}
	/* the reply as it came, from its ICMP header (ping_recvmsg) */
	buf[0] = ICMP_ECHOREPLY;
	buf[1] = 0;
	put_be16(buf + 2, 0);
	put_be16(buf + 4, f->ping_id);
	put_be16(buf + 6, rep.seq);
	n = ICMP_HDR_LEN + rep.len;
	put_be16(buf + 2, inet_csum(buf, n));
	*saddr = rep.from;
	for (int i = 0; i < c->n && off < n; i++) {
		size_t k = n - off < c->v[i].iov_len ? n - off : c->v[i].iov_len;
		memcpy(c->v[i].iov_base, buf + off, k);
		off += k;
	}
	free(buf);
	if (off < n) {
		*msg_flags |= MSG_TRUNC;
		return (flags & MSG_TRUNC) ? (ssize_t)n : (ssize_t)off;
	}
	return (ssize_t)n;
}

static ssize_t sock_recvmsg(int fd, const struct iovec *iov, int iovcnt, int flags,
			    struct sockaddr *src, socklen_t *srclen, int *msg_flags)
{
	struct us_file *f = file_lock(fd);
	struct iov_cursor c;
	uint32_t saddr = 0;
	uint16_t sport = 0;
	ssize_t r;

	if (!f)
		return -1;
	*msg_flags = 0;
	if (!is_sock(f))
		return file_ret(f, -ENOTSOCK);
	r = iov_load(&c, iov, iovcnt);
	if (r < 0)
		return file_ret(f, r);
	switch (f->kind) {
	case SK_TCP:
		r = tcp_recv_locked(f, &c, flags);
		if (r >= 0 && src && srclen)
			us_tcp_getpeername((struct us_tcp *)f->tp, &saddr, &sport);
		break;
	case SK_UDP:
		r = udp_recv_locked(f, &c, flags, &saddr, &sport, msg_flags);
		break;
	default:
		r = ping_recv_locked(f, &c, flags, &saddr, msg_flags);
		break;
	}
	if (r >= 0 && src && f->kind != SK_TCP) {
		int e = addr_out(src, srclen, saddr, sport);
		if (e < 0)
			r = e;
	} else if (r >= 0 && srclen && f->kind == SK_TCP) {
		*srclen = 0; /* a stream socket reports no address (tcp_recvmsg) */
	}
	return file_ret(f, r);
}

ssize_t us_recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t r;
	int mf;

	if (!msg) {
		struct us_file *f = fd_get(fd);
		if (!f)
			return fail(-EBADF);
		fd_put(f);
		return fail(-EFAULT);
	}
	r = sock_recvmsg(fd, msg->msg_iov, (int)msg->msg_iovlen, flags, msg->msg_name,
			 msg->msg_name ? &msg->msg_namelen : NULL, &mf);
	if (r >= 0) {
		msg->msg_flags = mf;
		msg->msg_controllen = 0; /* no ancillary data */
	}
	return r;
}

ssize_t us_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *src, socklen_t *addrlen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	int mf;

	if (src && !addrlen) {
		struct us_file *f = fd_get(fd);
		if (!f)
			return fail(-EBADF);
		fd_put(f);
		return fail(-EFAULT);
	}
	return sock_recvmsg(fd, &iov, 1, flags, src, src ? addrlen : NULL, &mf);
}

ssize_t us_recv(int fd, void *buf, size_t len, int flags)
{
	return us_recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t us_read(int fd, void *buf, size_t len)
{
	return us_recv(fd, buf, len, 0);
}

ssize_t us_readv(int fd, const struct iovec *iov, int iovcnt)
{
	int mf;

	return sock_recvmsg(fd, iov, iovcnt, 0, NULL, NULL, &mf);
}

/* ---- shutdown, close ---- */

int us_shutdown(int fd, int how)
{
	struct us_file *f = file_lock(fd);
	int r = 0;

	if (!f)
		return -1;
	if (!is_sock(f))
		return (int)file_ret(f, -ENOTSOCK);
	if (how < SHUT_RD || how > SHUT_RDWR)
		return (int)file_ret(f, -EINVAL);
	switch (f->kind) {
	case SK_TCP:
		if (f->tp->state == TCP_LISTEN) {
			/* inet_shutdown: SHUT_RD on a listener stops it (tcp_disconnect) */
			if (how != SHUT_WR) {
				struct tcp_sock *tp = tcp_sock_new(f->st);
				if (!tp) {
					r = -ENOMEM;
					break;
				}
				tp->owner = f;
				f->tp->owner = NULL;
				us_tcp_close((struct us_tcp *)f->tp);
				f->tp = tp;
				f->user_bound = false;
			}
			break;
		}
		if (f->tp->state == TCP_CLOSED)
			r = -ENOTCONN;
		else
			r = us_tcp_shutdown((struct us_tcp *)f->tp, how);
		if (f->tp->state == TCP_CLOSED && r == 0)
			f->ss = SS_UNCONNECTED;
		tcp_wake(f->tp);
		break;
	case SK_UDP:
		if (!f->u->raddr) {
			r = -ENOTCONN;
			break;
		}
		if (how != SHUT_WR)
			f->shut_rd = true;
		if (how != SHUT_RD)
			f->shut_wr = true;
		sock_wake(f->st, f);
		break;
	default:
		r = -ENOTCONN;
		break;
	}
	return (int)file_ret(f, r);
}

static void ep_item_unlink(struct ep_item *it);

/* Let go of f's endpoint and its epoll registrations. With the stack lock. */
static void file_release(struct us_file *f)
{
	f->closed = true;
	wake_list_remove(f);
	while (f->watchers)
		ep_item_unlink(f->watchers);
	switch (f->kind) {
	case SK_TCP:
		if (!f->tp)
			break;
		f->tp->owner = NULL;
		if (f->linger.l_onoff && f->linger.l_linger == 0)
			us_tcp_abort((struct us_tcp *)f->tp); /* SO_LINGER 0: RST (RFC 9293 §3.10.5) */
		else
			us_tcp_close((struct us_tcp *)f->tp);
		f->tp = NULL;
		break;
	case SK_UDP:
		f->u->owner = NULL;
		us_udp_close((struct us_udp *)f->u);
		f->u = NULL;
		break;
	case SK_PING:
		if (f->ping) {
			f->ping->owner = NULL;
			us_ping_close((struct us_ping *)f->ping);
			f->ping = NULL;
		}
		break;
	case SK_EPOLL: {
		struct us_epoll *ep = f->ep;
		while (ep->items)
			ep_item_unlink(ep->items);
		if (ep->kfd >= 0)
			close(ep->kfd);
		free(ep);
		f->ep = NULL;
		break;
	}
	}
	if (f->waiters)
		pthread_cond_broadcast(&f->cv);
}

int us_close(int fd)
{
	struct us_file *f = fd_get(fd);
	struct us_stack *st;

	if (!f)
		return fail(-EBADF);
	st = f->st;
	pthread_mutex_lock(&st->lock);
	if (f->closed) {
		/* another thread closed it first */
		pthread_mutex_unlock(&st->lock);
		fd_put(f);
		return fail(-EBADF);
	}
	st->now = us_clock_now(st->clock);
	file_release(f);
	fd_remove(f);
	sock_kick(st);
	pthread_mutex_unlock(&st->lock);
	fd_put(f);
	return 0;
}

/* ---- options ---- */

static int opt_int(const void *v, socklen_t len, int *out)
{
	if (!v)
		return -EFAULT;
	if (len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(out, v, sizeof(int));
	return 0;
}

static int opt_timeval(const void *v, socklen_t len, uint64_t *ns)
{
	struct timeval tv;

	if (!v)
		return -EFAULT;
	if (len < (socklen_t)sizeof(tv))
		return -EINVAL;
	memcpy(&tv, v, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0) {
		*ns = 0; /* sock_set_timeout: a negative time is no time-out... as "do not wait" */
		return 0;
	}
	*ns = (uint64_t)tv.tv_sec * US_NSEC_PER_SEC + (uint64_t)tv.tv_usec * 1000;
	return 0;
}

static void tcp_apply_bufs(struct us_file *f)
{
	/* the send buffer takes effect at once; the receive buffer only before the handshake, since the
	 * window scale is chosen then (Linux takes it and lets the window follow; ours keeps its
	 * first size) */
	us_tcp_set_bufs((struct us_tcp *)f->tp, f->sndbuf > 0 ? (uint32_t)f->sndbuf : 0, 0);
	if (f->rcvbuf > 0)
		us_tcp_set_bufs((struct us_tcp *)f->tp, 0, (uint32_t)f->rcvbuf);
}

static int sol_socket_set(struct us_file *f, int name, const void *v, socklen_t len)
{
	int val = 0, r;

	switch (name) {
	case SO_RCVTIMEO:
		return opt_timeval(v, len, &f->rcvtimeo_ns);
	case SO_SNDTIMEO:
		return opt_timeval(v, len, &f->sndtimeo_ns);
	case SO_LINGER:
		if (!v)
			return -EFAULT;
		if (len < (socklen_t)sizeof(struct linger))
			return -EINVAL;
		memcpy(&f->linger, v, sizeof(struct linger));
		f->linger.l_onoff = f->linger.l_onoff != 0;
		return 0;
	default:
		break;
	}
	r = opt_int(v, len, &val);
	if (r < 0)
		return r;
	switch (name) {
	case SO_REUSEADDR:
		f->reuseaddr = val != 0;
		if (f->kind == SK_TCP)
			f->tp->reuseaddr = f->reuseaddr;
		return 0;
	case SO_REUSEPORT:
		f->reuseport = val != 0; /* kept for getsockopt; ports are not shared between sockets */
		return 0;
	case SO_KEEPALIVE:
		f->keepalive = val != 0;
		if (f->kind == SK_TCP)
			us_tcp_set_keepalive((struct us_tcp *)f->tp, val != 0, 0, 0, 0);
		return 0;
	case SO_BROADCAST:
		f->broadcast = val != 0;
		return 0;
	case SO_SNDBUF:
	case SO_RCVBUF: {
		/* sock_setsockopt: capped at wmem_max/rmem_max, doubled for the kernel's overhead, and
		 * not below the minimum */
		uint32_t u = val < 0 ? 0 : (uint32_t)val;
		if (u > SOCK_BUF_MAX)
			u = SOCK_BUF_MAX;
		u *= 2;
		if (name == SO_SNDBUF) {
			f->sndbuf = (int)(u < SOCK_MIN_SNDBUF ? SOCK_MIN_SNDBUF : u);
		} else {
			f->rcvbuf = (int)(u < SOCK_MIN_RCVBUF ? SOCK_MIN_RCVBUF : u);
			if (f->kind == SK_UDP)
				us_udp_set_rcvbuf((struct us_udp *)f->u, (uint32_t)f->rcvbuf);
		}
		if (f->kind == SK_TCP)
			tcp_apply_bufs(f);
		return 0;
	}
	case SO_ERROR:
	case SO_TYPE:
	case SO_PROTOCOL:
	case SO_DOMAIN:
	case SO_ACCEPTCONN:
		return -ENOPROTOOPT;
	default:
		return -ENOPROTOOPT;
	}
}

static int tcp_set(struct us_file *f, int name, const void *v, socklen_t len)
{
	int val, r = opt_int(v, len, &val);

	if (r < 0)
		return r;
	switch (name) {
	case TCP_NODELAY:
		return us_tcp_set_nodelay((struct us_tcp *)f->tp, val != 0);
	case TCP_MAXSEG:
		/* do_tcp_setsockopt: TCP_MIN_MSS (88) .. MAX_TCP_WINDOW, 0 clears */
		if (val && (val < 88 || val > 32767))
			return -EINVAL;
		f->maxseg = val;
		if (val && f->tp->state < TCP_SYN_SENT && f->tp->state != TCP_LISTEN)
			f->tp->mss = (uint16_t)val;
		return 0;
	case TCP_KEEPIDLE:
		if (val < 1 || val > 32767)
			return -EINVAL;
		return us_tcp_set_keepalive((struct us_tcp *)f->tp, f->keepalive, (uint32_t)val, 0, 0);
	case TCP_KEEPINTVL:
		if (val < 1 || val > 32767)
			return -EINVAL;
		return us_tcp_set_keepalive((struct us_tcp *)f->tp, f->keepalive, 0, (uint32_t)val, 0);
	case TCP_KEEPCNT:
		if (val < 1 || val > 127)
			return -EINVAL;
		return us_tcp_set_keepalive((struct us_tcp *)f->tp, f->keepalive, 0, 0, (uint32_t)val);
	default:
		return -ENOPROTOOPT;
	}
}

int us_setsockopt(int fd, int level, int name, const void *v, socklen_t len)
{
	struct us_file *f = file_lock(fd);
	int r;

	if (!f)
		return -1;
	if (!is_sock(f))
		r = -ENOTSOCK;
	else if (level == SOL_SOCKET)
		r = sol_socket_set(f, name, v, len);
	else if (level == IPPROTO_TCP && f->kind == SK_TCP)
		r = tcp_set(f, name, v, len);
	else
		r = -ENOPROTOOPT;
	return (int)file_ret(f, r);
}

/* Copy an option value out: at most *len bytes (sock_getsockopt's min(len, size)). */
static int opt_out(void *v, socklen_t *len, const void *val, size_t size)
{
	size_t n;

	if (!len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	n = *len < size ? *len : size;
	if (n && !v)
		return -EFAULT;
	if (n)
		memcpy(v, val, n);
	*len = (socklen_t)n;
	return 0;
}

static int sock_error_take(struct us_file *f)
{
	int e = 0;

	if (f->kind == SK_TCP) {
		e = us_tcp_error((struct us_tcp *)f->tp);
	} else if (f->kind == SK_UDP) {
		e = f->u->err;
		f->u->err = 0;
	}
	return -e;
}

static int sol_socket_get(struct us_file *f, int name, void *v, socklen_t *len)
{
	int val;

	switch (name) {
	case SO_RCVTIMEO:
	case SO_SNDTIMEO: {
		uint64_t ns = name == SO_RCVTIMEO ? f->rcvtimeo_ns : f->sndtimeo_ns;
		struct timeval tv = { .tv_sec = (time_t)(ns / US_NSEC_PER_SEC),
				      .tv_usec = (suseconds_t)(ns % US_NSEC_PER_SEC / 1000) };
		return opt_out(v, len, &tv, sizeof(tv));
	}
	case SO_LINGER:
		return opt_out(v, len, &f->linger, sizeof(f->linger));
	case SO_REUSEADDR:
		val = f->reuseaddr;
		break;
	case SO_REUSEPORT:
		val = f->reuseport;
		break;
	case SO_KEEPALIVE:
		val = f->keepalive;
		break;
	case SO_BROADCAST:
		val = f->broadcast;
		break;
	case SO_ERROR:
		val = sock_error_take(f);
		break;
	case SO_TYPE:
		val = f->kind == SK_TCP ? SOCK_STREAM : SOCK_DGRAM;
		break;
	case SO_PROTOCOL:
		val = f->kind == SK_TCP ? IPPROTO_TCP : f->kind == SK_UDP ? IPPROTO_UDP : IPPROTO_ICMP;
		break;
	case SO_DOMAIN:
		val = AF_INET;
		break;
	case SO_ACCEPTCONN:
		val = f->kind == SK_TCP && f->tp->state == TCP_LISTEN;
		break;
	case SO_SNDBUF:
		val = f->sndbuf ? f->sndbuf
				: (int)(f->kind == SK_TCP ? f->tp->sndbuf : SOCK_BUF_MAX);
		break;
	case SO_RCVBUF:
		val = f->rcvbuf ? f->rcvbuf
				: (int)(f->kind == SK_TCP ? f->tp->rcvbuf
						       : f->kind == SK_UDP ? f->u->rcvbuf : SOCK_BUF_MAX);
		break;
	default:
		return -ENOPROTOOPT;
	}
	return opt_out(v, len, &val, sizeof(val));
}

/* Linux's TCP state numbers (include/net/tcp_states.h) */
static uint8_t linux_tcp_state(int s)
{
	static const uint8_t map[] = {
		[TCP_CLOSED] = 7,	[TCP_LISTEN] = 10,    [TCP_SYN_SENT] = 2,   [TCP_SYN_RECEIVED] = 3,
		[TCP_ESTABLISHED] = 1,	[TCP_FIN_WAIT_1] = 4, [TCP_FIN_WAIT_2] = 5, [TCP_CLOSE_WAIT] = 8,
		[TCP_CLOSING] = 11,	[TCP_LAST_ACK] = 9,   [TCP_TIME_WAIT] = 6,
	};
	return map[s];
}

static int tcp_get(struct us_file *f, int name, void *v, socklen_t *len)
{
	struct tcp_sock *tp = f->tp;
	int val;

	switch (name) {
	case TCP_NODELAY:
		val = (tp->flags & TF_NODELAY) != 0;
		break;
	case TCP_MAXSEG:
		/* do_tcp_getsockopt: the current MSS once connected, else what was asked or 536 */
		if (tp->state >= TCP_ESTABLISHED || tp->state == TCP_SYN_RECEIVED)
			val = tp->mss;
		else
			val = f->maxseg ? f->maxseg : 536;
		break;
	case TCP_KEEPIDLE:
		val = (int)(tp->keepidle_ns / US_NSEC_PER_SEC);
		break;
	case TCP_KEEPINTVL:
		val = (int)(tp->keepintvl_ns / US_NSEC_PER_SEC);
		break;
	case TCP_KEEPCNT:
		val = (int)tp->keepcnt;
		break;
	case TCP_INFO: {
		struct tcp_info ti;
		uint32_t mss = tp->mss ? tp->mss : 536;

		memset(&ti, 0, sizeof(ti));
		ti.tcpi_state = linux_tcp_state(tp->state);
		ti.tcpi_retransmits = tp->retries;
		ti.tcpi_backoff = tp->backoff;
		ti.tcpi_options = (uint8_t)((tp->ts_ok ? TCPI_OPT_TIMESTAMPS : 0) |
					    (tp->sack_ok ? TCPI_OPT_SACK : 0) |
					    (tp->wscale_ok ? TCPI_OPT_WSCALE : 0));
		ti.tcpi_snd_wscale = tp->snd_wscale & 0xf;
		ti.tcpi_rcv_wscale = tp->rcv_wscale & 0xf;
		ti.tcpi_rto = tp->rto_us;
		ti.tcpi_snd_mss = mss;
		ti.tcpi_rcv_mss = tp->rcv_mss;
		/* Linux counts these in segments */
		ti.tcpi_unacked = (tp->snd_max - tp->snd_una + mss - 1) / mss;
		ti.tcpi_last_data_recv = 0;
		ti.tcpi_rtt = tp->srtt_us;
		ti.tcpi_rttvar = tp->rttvar_us;
		ti.tcpi_snd_ssthresh = tp->ssthresh / mss;
		ti.tcpi_snd_cwnd = tp->cwnd / mss;
		ti.tcpi_advmss = tp->rcv_mss;
		ti.tcpi_rcv_space = tcp_rcv_window(tp);
		ti.tcpi_total_retrans = tp->total_retrans;
		return opt_out(v, len, &ti, sizeof(ti));
	}
	default:
		return -ENOPROTOOPT;
	}
	return opt_out(v, len, &val, sizeof(val));
}

int us_getsockopt(int fd, int level, int name, void *v, socklen_t *len)
{
	struct us_file *f = file_lock(fd);
	int r;

	if (!f)
		return -1;
	if (!is_sock(f))
		r = -ENOTSOCK;
	else if (!len)
		r = -EFAULT;
	else if ((int)*len < 0)
		r = -EINVAL;
	else if (level == SOL_SOCKET)
		r = sol_socket_get(f, name, v, len);
	else if (level == IPPROTO_TCP && f->kind == SK_TCP)
		r = tcp_get(f, name, v, len);
	else
		r = -ENOPROTOOPT;
	return (int)file_ret(f, r);
}

int us_getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct us_file *f = file_lock(fd);
	uint32_t addr = 0;
	uint16_t port = 0;
	int r;

	if (!f)
		return -1;
	if (!is_sock(f))
		return (int)file_ret(f, -ENOTSOCK);
	if (!sa || !len)
		return (int)file_ret(f, -EFAULT);
	if (f->kind == SK_TCP)
		us_tcp_getsockname((struct us_tcp *)f->tp, &addr, &port);
	else if (f->kind == SK_UDP)
		us_udp_getsockname((struct us_udp *)f->u, &addr, &port);
	else
		port = f->ping_id;
	r = addr_out(sa, len, addr, port);
	return (int)file_ret(f, r);
}

int us_getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct us_file *f = file_lock(fd);
	uint32_t addr = 0;
	uint16_t port = 0;
	int r = 0;

	if (!f)
		return -1;
	if (!is_sock(f))
		return (int)file_ret(f, -ENOTSOCK);
	if (!sa || !len)
		return (int)file_ret(f, -EFAULT);
	if (f->kind == SK_TCP) {
		/* inet_getname: connected (or connecting after SYN-SENT... Linux: not in CLOSE/SYN-SENT) */
		if (f->tp->state == TCP_CLOSED || f->tp->state == TCP_LISTEN ||
		    f->tp->state == TCP_SYN_SENT)
			r = -ENOTCONN;
		else
			us_tcp_getpeername((struct us_tcp *)f->tp, &addr, &port);
	} else if (f->kind == SK_UDP) {
		if (!f->u->raddr)
			r = -ENOTCONN;
		addr = f->u->raddr;
		port = f->u->rport;
	} else {
		r = -ENOTCONN;
	}
	if (r == 0)
		r = addr_out(sa, len, addr, port);
	return (int)file_ret(f, r);
}

int us_fcntl(int fd, int cmd, ...)
{
	struct us_file *f = file_lock(fd);
	va_list ap;
	int r = 0;

	if (!f)
		return -1;
	va_start(ap, cmd);
	switch (cmd) {
	case F_GETFL:
		r = O_RDWR | (f->nonblock ? O_NONBLOCK : 0);
		break;
	case F_SETFL:
		f->nonblock = (va_arg(ap, int) & O_NONBLOCK) != 0;
		break;
	case F_GETFD:
		r = f->cloexec ? FD_CLOEXEC : 0;
		break;
	case F_SETFD:
		f->cloexec = (va_arg(ap, int) & FD_CLOEXEC) != 0;
		break;
	default:
		r = -EINVAL;
		break;
	}
	va_end(ap);
	return (int)file_ret(f, r);
}

int us_ioctl(int fd, unsigned long request, ...)
{
	struct us_file *f = file_lock(fd);
	va_list ap;
	int *arg, r = 0;

	if (!f)
		return -1;
	va_start(ap, request);
	arg = va_arg(ap, int *);
	va_end(ap);
	if (!arg)
		return (int)file_ret(f, -EFAULT);
	switch (request) {
	case FIONBIO:
		f->nonblock = *arg != 0;
		break;
	case FIONREAD:
		if (f->kind == SK_TCP) {
			if (f->tp->state == TCP_LISTEN)
				r = -EINVAL;
			else
				*arg = (int)f->tp->rcv_q.bytes;
		} else if (f->kind == SK_UDP) {
			struct sk_buff *skb = skb_peek(&f->u->rx);
			*arg = skb ? (int)skb->len : 0; /* the next datagram (SIOCINQ) */
		} else if (f->kind == SK_PING) {
			*arg = f->ping && skb_peek(&f->ping->rx) ? (int)skb_peek(&f->ping->rx)->len : 0;
		} else {
			r = -ENOTTY;
		}
		break;
	default:
		r = -ENOTTY;
		break;
	}
	return (int)file_ret(f, r);
}

/* ---- poll ---- */

int us_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct us_file **files;
	struct us_stack *st = NULL;
	uint64_t deadline;
	int ready = 0, r = 0;

	if (nfds > 65536)
		return fail(-EINVAL);
	if (nfds && !fds)
		return fail(-EFAULT);
	files = calloc(nfds ? nfds : 1, sizeof(*files));
	if (!files)
		return fail(-ENOMEM);
	for (nfds_t i = 0; i < nfds; i++) {
		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue;
		files[i] = fd_get(fds[i].fd);
		if (files[i] && !st)
			st = files[i]->st;
		if (files[i] && files[i]->st != st) {
			r = -EINVAL; /* one stack per call */
			break;
		}
	}
	if (r == 0 && !st) {
		/* nothing but bad or negative descriptors */
		for (nfds_t i = 0; i < nfds; i++)
			if (fds[i].fd >= 0) {
				fds[i].revents = POLLNVAL;
				ready++;
			}
		if (!ready && timeout > 0) {
			struct timespec ts = { .tv_sec = timeout / 1000, .tv_nsec = (long)(timeout % 1000) * 1000000 };
			nanosleep(&ts, NULL);
		}
		free(files);
		return ready;
	}
	if (r == 0) {
		struct sock_stack *ss;

		pthread_mutex_lock(&st->lock);
		ss = st->sock;
		deadline = timeout < 0 ? US_TIME_NEVER
				       : us_clock_now(st->clock) + (uint64_t)timeout * US_NSEC_PER_MSEC;
		for (;;) {
			ready = 0;
			for (nfds_t i = 0; i < nfds; i++) {
				if (fds[i].fd < 0)
					continue;
				if (!files[i] || files[i]->closed) {
					fds[i].revents = POLLNVAL;
				} else {
					uint32_t ev = file_events(files[i]);
					fds[i].revents =
						(short)(ev & ((uint16_t)fds[i].events | POLLERR | POLLHUP));
				}
				if (fds[i].revents)
					ready++;
			}
			if (ready || us_clock_now(st->clock) >= deadline)
				break;
			if (ss && ss->running) {
				ss->poll_waiters++;
				if (deadline == US_TIME_NEVER) {
					pthread_cond_wait(&ss->poll_cv, &st->lock);
				} else {
					struct timespec ts;
					abs_monotonic(deadline - us_clock_now(st->clock), &ts);
					pthread_cond_timedwait(&ss->poll_cv, &st->lock, &ts);
				}
				ss->poll_waiters--;
			} else if (st->clock->kind == US_CLOCK_MONOTONIC) {
				sock_drive(st, deadline);
			} else {
				break;
			}
		}
		pthread_mutex_unlock(&st->lock);
	}
	for (nfds_t i = 0; i < nfds; i++)
		if (files[i])
			fd_put(files[i]);
	free(files);
	return r < 0 ? fail(r) : ready;
}

/* ---- epoll ---- */

int us_epoll_create1(int flags)
{
	struct us_stack *st = us_stack_get_default();
	struct us_file *f;
	int fd;

	if (flags & ~EPOLL_CLOEXEC)
		return fail(-EINVAL);
	if (!st)
		return fail(-ENETDOWN);
	f = file_new(st, SK_EPOLL);
	if (!f)
		return fail(-ENOMEM);
	f->ep = calloc(1, sizeof(*f->ep));
	if (!f->ep) {
		file_free(f);
		return fail(-ENOMEM);
	}
	f->ep->file = f;
	f->ep->kfd = -1;
	f->cloexec = flags & EPOLL_CLOEXEC;
	pthread_mutex_lock(&st->lock);
	if (!sock_stack_get(st)) {
		pthread_mutex_unlock(&st->lock);
		free(f->ep);
		file_free(f);
		return fail(-ENOMEM);
	}
	pthread_mutex_unlock(&st->lock);
	fd = fd_install(f);
	if (fd < 0) {
		free(f->ep);
		file_free(f);
		return fail(fd);
	}
	return fd;
}

int us_epoll_create(int size)
{
	if (size <= 0)
		return fail(-EINVAL);
	return us_epoll_create1(0);
}

static struct ep_item *ep_find(struct us_epoll *ep, const struct us_file *f)
{
	for (struct ep_item *it = f->watchers; it; it = it->wnext)
		if (it->ep == ep)
			return it;
	return NULL;
}

static void ep_item_unlink(struct ep_item *it)
{
	struct ep_item **pp;

	ep_ready_del(it);
	for (pp = &it->f->watchers; *pp && *pp != it; pp = &(*pp)->wnext)
		;
	if (*pp)
		*pp = it->wnext;
	for (pp = &it->ep->items; *pp && *pp != it; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = it->next;
	free(it);
}

int us_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	struct us_file *e = fd_get(epfd), *f;
	struct us_stack *st;
	struct ep_item *it;
	int r = 0;

	if (!e)
		return fail(-EBADF);
	f = fd_get(fd);
	if (!f) {
		fd_put(e);
		return fail(-EBADF);
	}
	/* eventpoll.c: checks in this order */
	if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && !event)
		r = -EFAULT;
	else if (e->kind != SK_EPOLL || f == e)
		r = -EINVAL;
	else if (f->kind == SK_EPOLL)
		r = -EINVAL; /* nested epoll instances are not supported */
	else if (f->st != e->st)
		r = -EINVAL; /* an instance watches one stack */
	else if (op == EPOLL_CTL_MOD && (event->events & EPOLLEXCLUSIVE))
		r = -EINVAL;
	if (r) {
		fd_put(f);
		fd_put(e);
		return fail(r);
	}
	st = e->st;
	pthread_mutex_lock(&st->lock);
	st->now = us_clock_now(st->clock);
	if (e->closed || f->closed) {
		r = -EBADF;
		goto out;
	}
	it = ep_find(e->ep, f);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it) {
			r = -EEXIST;
			break;
		}
		it = calloc(1, sizeof(*it));
		if (!it) {
			r = -ENOMEM;
			break;
		}
		it->ep = e->ep;
		it->f = f;
		it->fd = fd;
		it->events = event->events & ~(uint32_t)EPOLLEXCLUSIVE;
		it->data = event->data;
		it->wnext = f->watchers;
		f->watchers = it;
		it->next = e->ep->items;
		e->ep->items = it;
		if (ep_item_events(it))
			ep_ready_add(it);
		break;
	case EPOLL_CTL_MOD:
		if (!it) {
			r = -ENOENT;
			break;
		}
		it->events = event->events;
		it->data = event->data;
		it->disabled = false;
		if (ep_item_events(it))
			ep_ready_add(it);
		else
			ep_ready_del(it);
		break;
	case EPOLL_CTL_DEL:
		if (!it)
			r = -ENOENT;
		else
			ep_item_unlink(it);
		break;
	default:
		r = -EINVAL;
		break;
	}
out:
	pthread_mutex_unlock(&st->lock);
	fd_put(f);
	fd_put(e);
	return r < 0 ? fail(r) : 0;
}

/* Move what is ready to events[]: level-triggered items stay on the list while they are ready,
 * edge-triggered ones leave it until the next wake, one-shot ones are disabled. */
static int ep_collect(struct us_epoll *ep, struct epoll_event *events, int max)
{
	struct ep_item *keep_head = NULL, *keep_tail = NULL, *it;
	int n = 0;

	while (n < max && (it = ep->rhead) != NULL) {
		uint32_t ev = ep_item_events(it);

		ep_ready_del(it);
		if (!ev || it->disabled)
			continue;
		events[n].events = ev;
		events[n].data = it->data;
		n++;
		if (it->events & EPOLLONESHOT) {
			it->disabled = true;
		} else if (!(it->events & EPOLLET)) {
			it->rnext = NULL;
			if (keep_tail)
				keep_tail->rnext = it;
			else
				keep_head = it;
			keep_tail = it;
		}
	}
	/* the level-triggered ones go back at the tail, after those not yet reported */
	while ((it = keep_head) != NULL) {
		keep_head = it->rnext;
		ep_ready_add(it);
	}
	if (!ep->rhead && ep->kfd >= 0 && ep->kfd_set) {
		uint64_t v;
		ep->kfd_set = false;
		if (read(ep->kfd, &v, sizeof(v)) < 0) {
			/* already drained */
		}
	}
	return n;
}

int us_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	struct us_file *e = fd_get(epfd);
	struct us_stack *st;
	uint64_t deadline;
	int n = 0, r = 0;

	if (!e)
		return fail(-EBADF);
	if (maxevents <= 0 || e->kind != SK_EPOLL) {
		fd_put(e);
		return fail(-EINVAL);
	}
	if (!events) {
		fd_put(e);
		return fail(-EFAULT);
	}
	st = e->st;
	pthread_mutex_lock(&st->lock);
	st->now = us_clock_now(st->clock);
	deadline = timeout < 0 ? US_TIME_NEVER : st->now + (uint64_t)timeout * US_NSEC_PER_MSEC;
	for (;;) {
		if (e->closed) {
			r = -EBADF;
			break;
		}
		n = ep_collect(e->ep, events, maxevents);
		if (n || timeout == 0)
			break;
		r = sock_wait(e, deadline);
		if (r == -EAGAIN) {
			r = 0;
			break;
		}
		if (r < 0)
			break;
	}
	sock_kick(st);
	pthread_mutex_unlock(&st->lock);
	fd_put(e);
	return r < 0 ? fail(r) : n;
}

int us_epoll_kernel_fd(int epfd)
{
	struct us_file *e = fd_get(epfd);
	int fd;

	if (!e)
		return fail(-EBADF);
	if (e->kind != SK_EPOLL) {
		fd_put(e);
		return fail(-EINVAL);
	}
	pthread_mutex_lock(&e->st->lock);
	if (e->ep->kfd < 0) {
		e->ep->kfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (e->ep->kfd >= 0 && e->ep->rhead) {
			uint64_t one = 1;
			e->ep->kfd_set = true;
			if (write(e->ep->kfd, &one, sizeof(one)) < 0) {
				/* fresh eventfd: cannot fail */
			}
		}
	}
	fd = e->ep->kfd;
	pthread_mutex_unlock(&e->st->lock);
	fd_put(e);
	return fd < 0 ? fail(-EMFILE) : fd;
}

/* ---- teardown ---- */

void sock_stack_destroy(struct us_stack *st)
{
	struct sock_stack *ss = st->sock;
	int last;

	pthread_mutex_lock(&fd_lock);
	if (default_stack == st)
		default_stack = NULL;
	pthread_mutex_unlock(&fd_lock);
	if (!ss)
		return;
	us_stack_stop(st);
	/* descriptors still open on this stack are closed with it */
	pthread_mutex_lock(&fd_lock);
	last = fd_next;
	pthread_mutex_unlock(&fd_lock);
	pthread_mutex_lock(&st->lock);
	for (int fd = FD_FIRST; fd < last; fd++) {
		struct us_file *f = fd_get(fd);

		if (!f)
			continue;
		if (f->st == st && !f->closed) {
			file_release(f);
			fd_remove(f);
		}
		fd_put(f);
	}
	pthread_mutex_unlock(&st->lock);
	close(ss->wakefd);
	close(ss->epfd);
	pthread_cond_destroy(&ss->poll_cv);
	free(ss);
	st->sock = NULL;
}
