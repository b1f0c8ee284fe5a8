/*
 * sock_poll.c - poll and epoll over ustack descriptors. An epoll instance keeps its items on the
 * watched files' lists; a wake puts an item on the instance's ready list (sock_core.c), and
 * us_epoll_wait reports from it: level-triggered items stay while ready, edge-triggered ones leave
 * until the next wake, one-shot ones are disabled until EPOLL_CTL_MOD (eventpoll.c's semantics).
 */
#include "sock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ustack/socket.h"

/* ---- poll ---- */

int us_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct us_file **files;
	struct us_stack *st = NULL;
	uint64_t deadline;
	int ready = 0, r = 0;

	if (nfds > 65536)
		return sock_fail(-EINVAL);
	if (nfds && !fds)
		return sock_fail(-EFAULT);
	files = calloc(nfds ? nfds : 1, sizeof(*files));
	if (!files)
		return sock_fail(-ENOMEM);
	for (nfds_t i = 0; i < nfds; i++) {
		fds[i].revents = 0;
		if (fds[i].fd < 0)
			continue;
		files[i] = sock_fd_get(fds[i].fd);
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
					uint32_t ev = sock_file_events(files[i]);
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
					sock_abs_monotonic(deadline - us_clock_now(st->clock), &ts);
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
			sock_fd_put(files[i]);
	free(files);
	return r < 0 ? sock_fail(r) : ready;
}

/* ---- epoll ---- */

int us_epoll_create1(int flags)
{
	struct us_stack *st = us_stack_get_default();
	struct us_file *f;
	int fd;

	if (flags & ~EPOLL_CLOEXEC)
		return sock_fail(-EINVAL);
	if (!st)
		return sock_fail(-ENETDOWN);
	f = sock_file_new(st, SK_EPOLL);
	if (!f)
		return sock_fail(-ENOMEM);
	f->ep = calloc(1, sizeof(*f->ep));
	if (!f->ep) {
		sock_file_free(f);
		return sock_fail(-ENOMEM);
	}
	f->ep->file = f;
	f->ep->kfd = -1;
	f->cloexec = flags & EPOLL_CLOEXEC;
	pthread_mutex_lock(&st->lock);
	if (!sock_stack_get(st)) {
		pthread_mutex_unlock(&st->lock);
		free(f->ep);
		sock_file_free(f);
		return sock_fail(-ENOMEM);
	}
	pthread_mutex_unlock(&st->lock);
	fd = sock_fd_install(f);
	if (fd < 0) {
		free(f->ep);
		sock_file_free(f);
		return sock_fail(fd);
	}
	return fd;
}

int us_epoll_create(int size)
{
	if (size <= 0)
		return sock_fail(-EINVAL);
	return us_epoll_create1(0);
}

static struct ep_item *ep_find(struct us_epoll *ep, const struct us_file *f)
{
	for (struct ep_item *it = f->watchers; it; it = it->wnext)
		if (it->ep == ep)
			return it;
	return NULL;
}

int us_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	struct us_file *e = sock_fd_get(epfd), *f;
	struct us_stack *st;
	struct ep_item *it;
	int r = 0;

	if (!e)
		return sock_fail(-EBADF);
	f = sock_fd_get(fd);
	if (!f) {
		sock_fd_put(e);
		return sock_fail(-EBADF);
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
		sock_fd_put(f);
		sock_fd_put(e);
		return sock_fail(r);
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
		if (sock_ep_item_events(it))
			sock_ep_ready_add(it);
		break;
	case EPOLL_CTL_MOD:
		if (!it) {
			r = -ENOENT;
			break;
		}
		it->events = event->events;
		it->data = event->data;
		it->disabled = false;
		if (sock_ep_item_events(it))
			sock_ep_ready_add(it);
		else
			sock_ep_ready_del(it);
		break;
	case EPOLL_CTL_DEL:
		if (!it)
			r = -ENOENT;
		else
			sock_ep_item_unlink(it);
		break;
	default:
		r = -EINVAL;
		break;
	}
out:
	pthread_mutex_unlock(&st->lock);
	sock_fd_put(f);
	sock_fd_put(e);
	return r < 0 ? sock_fail(r) : 0;
}

/* Move what is ready to events[]: level-triggered items stay on the list while they are ready,
 * edge-triggered ones leave it until the next wake, one-shot ones are disabled. */
static int ep_collect(struct us_epoll *ep, struct epoll_event *events, int max)
{
	struct ep_item *keep_head = NULL, *keep_tail = NULL, *it;
	int n = 0;

	while (n < max && (it = ep->rhead) != NULL) {
		uint32_t ev = sock_ep_item_events(it);

		sock_ep_ready_del(it);
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
		sock_ep_ready_add(it);
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
	struct us_file *e = sock_fd_get(epfd);
	struct us_stack *st;
	uint64_t deadline;
	int n = 0, r = 0;

	if (!e)
		return sock_fail(-EBADF);
	if (maxevents <= 0 || e->kind != SK_EPOLL) {
		sock_fd_put(e);
		return sock_fail(-EINVAL);
	}
	if (!events) {
		sock_fd_put(e);
		return sock_fail(-EFAULT);
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
	sock_fd_put(e);
	return r < 0 ? sock_fail(r) : n;
}

int us_epoll_kernel_fd(int epfd)
{
	struct us_file *e = sock_fd_get(epfd);
	int fd;

	if (!e)
		return sock_fail(-EBADF);
	if (e->kind != SK_EPOLL) {
		sock_fd_put(e);
		return sock_fail(-EINVAL);
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
	sock_fd_put(e);
	return fd < 0 ? sock_fail(-EMFILE) : fd;
}
