/*
 * sock_core.c - the socket layer's core: the descriptor table, each stack's socket part and its
 * thread, readiness, waiting.
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
 */
#include "sock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ctl.h"
#include "tcp.h"
#include "ustack/proto.h"
#include "ustack/socket.h"
#include "wire/ipv4.h"

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
int sock_fd_install(struct us_file *f)
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
struct us_file *sock_fd_get(int fd)
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

void sock_file_free(struct us_file *f)
{
	pthread_cond_destroy(&f->cv);
	free(f);
}

void sock_fd_put(struct us_file *f)
{
	bool last;

	pthread_mutex_lock(&fd_lock);
	last = --f->refs == 0;
	pthread_mutex_unlock(&fd_lock);
	if (last)
		sock_file_free(f);
}

/* Take fd out of the table (the table's reference goes with it); the number can be reused. */
void sock_fd_remove(struct us_file *f)
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
		sock_file_free(f);
}

int sock_fail(int err)
{
	errno = -err;
	return -1;
}

/* ---- the per-stack part ---- */

struct sock_stack *sock_stack_get(struct us_stack *st)
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

uint64_t sock_next_deadline(struct us_stack *st)
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

int sock_ms_until(struct us_stack *st, uint64_t deadline)
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
void sock_kick(struct us_stack *st)
{
	struct sock_stack *ss = st->sock;

	sock_run_wakes(st);
	stack_flush_devices(st);
	if (ss->running && ss->sleep_until && sock_next_deadline(st) < ss->sleep_until) {
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
	struct epoll_event ev[US_MAX_IFACES + 2];
	struct stack_ctl_output dump;

	pthread_mutex_lock(&st->lock);
	stack_ctl_thread(st, true); /* the control channel into this thread's epoll */
	while (!ss->stopping) {
		uint64_t next = stack_poll_locked(st);
		bool ctl = false;
		int ms, n;

		ss->sleep_until = next ? next : 1;
		ms = sock_ms_until(st, next);
		stack_ctl_take_output(st, &dump);
		pthread_mutex_unlock(&st->lock);
		stack_ctl_write_output(&dump); /* a dump to stderr, written without the lock */
		n = ms == 0 ? 0 : epoll_wait(ss->epfd, ev, US_MAX_IFACES + 2, ms);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.fd == ss->wakefd) {
				uint64_t v;
				if (read(ss->wakefd, &v, sizeof(v)) < 0) {
					/* EAGAIN: another reader took it */
				}
			} else if (ev[i].data.fd == STACK_CTL_EPOLL_TAG) {
				ctl = true;
			}
		}
		pthread_mutex_lock(&st->lock);
		ss->sleep_until = 0;
		if (ctl)
			stack_ctl_ready(st); /* served in the round that follows */
	}
	stack_ctl_thread(st, false);
	stack_ctl_take_output(st, &dump);
	pthread_mutex_unlock(&st->lock);
	stack_ctl_write_output(&dump);
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
	ms = sock_ms_until(st, sock_next_deadline(st));
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
uint32_t sock_file_events(const struct us_file *f)
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

void sock_ep_ready_add(struct ep_item *it)
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

void sock_ep_ready_del(struct ep_item *it)
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
uint32_t sock_ep_item_events(const struct ep_item *it)
{
	return sock_file_events(it->f) & ((it->events & ~(uint32_t)(EPOLLET | EPOLLONESHOT)) | EPOLLERR | EPOLLHUP);
}

static void file_notify(struct us_file *f)
{
	if (f->waiters)
		pthread_cond_broadcast(&f->cv);
	for (struct ep_item *it = f->watchers; it; it = it->wnext)
		if (!it->disabled && sock_ep_item_events(it))
			sock_ep_ready_add(it);
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

uint64_t sock_timeo_deadline(struct us_stack *st, uint64_t timeo_ns)
{
	return timeo_ns ? us_clock_now(st->clock) + timeo_ns : US_TIME_NEVER;
}

void sock_abs_monotonic(uint64_t rel_ns, struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	rel_ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(rel_ns / US_NSEC_PER_SEC);
	ts->tv_nsec = (long)(rel_ns % US_NSEC_PER_SEC);
}

/* Drive a stack that has no thread for one step: sleep in poll(2) on the devices until a frame, the
 * next deadline or `deadline`, then run a round. Called and returns with the stack lock held. */
void sock_drive(struct us_stack *st, uint64_t deadline)
{
	struct pollfd pfd[US_MAX_IFACES];
	uint64_t next = sock_next_deadline(st);
	nfds_t n = 0;
	int ms;

	if (deadline < next)
		next = deadline;
	for (int i = 0; i < US_MAX_IFACES; i++) {
		int fd = st->ifaces[i].dev ? netdev_fd(st->ifaces[i].dev) : -1;
		if (fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	ms = sock_ms_until(st, next);
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
int sock_wait(struct us_file *f, uint64_t deadline)
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
			sock_abs_monotonic(deadline - us_clock_now(st->clock), &ts);
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
struct us_file *sock_file_lock(int fd)
{
	struct us_file *f = sock_fd_get(fd);

	if (!f) {
		errno = EBADF;
		return NULL;
	}
	pthread_mutex_lock(&f->st->lock);
	f->st->now = us_clock_now(f->st->clock);
	return f;
}

void sock_file_unlock(struct us_file *f)
{
	struct us_stack *st = f->st;

	sock_kick(st);
	pthread_mutex_unlock(&st->lock);
	sock_fd_put(f);
}

/* Unlock and return: r >= 0 as is, r < 0 as -1 with errno. */
ssize_t sock_file_ret(struct us_file *f, ssize_t r)
{
	sock_file_unlock(f);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

bool sock_is_socket(const struct us_file *f)
{
	return f->kind != SK_EPOLL;
}

/* A sockaddr_in from the caller: Linux's checks for bind/connect/sendto. */
int sock_addr_in(const struct sockaddr *sa, socklen_t len, uint32_t *addr, uint16_t *port,
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
int sock_addr_out(struct sockaddr *sa, socklen_t *len, uint32_t addr, uint16_t port)
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

struct us_file *sock_file_new(struct us_stack *st, uint8_t kind)
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

/* Let go of f's endpoint and its epoll registrations. With the stack lock. */
void sock_file_release(struct us_file *f)
{
	f->closed = true;
	wake_list_remove(f);
	while (f->watchers)
		sock_ep_item_unlink(f->watchers);
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
			sock_ep_item_unlink(ep->items);
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

void sock_ep_item_unlink(struct ep_item *it)
{
	struct ep_item **pp;

	sock_ep_ready_del(it);
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
		struct us_file *f = sock_fd_get(fd);

		if (!f)
			continue;
		if (f->st == st && !f->closed) {
			sock_file_release(f);
			sock_fd_remove(f);
		}
		sock_fd_put(f);
	}
	pthread_mutex_unlock(&st->lock);
	close(ss->wakefd);
	close(ss->epfd);
	pthread_cond_destroy(&ss->poll_cv);
	free(ss);
	st->sock = NULL;
}
