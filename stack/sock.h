/*
 * sock.h - the socket layer's internal interfaces, shared by sock_core.c (descriptors, the stack
 * thread, readiness and waiting), socket.c (the calls), sock_opt.c (options and names) and
 * sock_poll.c (poll and epoll). Not a public header.
 */
#ifndef USTACK_SOCK_H
#define USTACK_SOCK_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "core.h"

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
	/* three options, here where they fill what was padding */
	uint8_t ttl;	     /* IP_TTL; 0: the stack's default */
	bool recvttl;	     /* IP_RECVTTL: recvmsg reports each datagram's TTL */
	bool recverr;	     /* IP_RECVERR (ping sockets): every ICMP error is reported, not only hard ones */
	int refs;	     /* under fd_lock: the table's and each call's */
	int waiters;	     /* threads sleeping on cv */
	struct us_stack *st;
	union {
		struct tcp_sock *tp;
		struct udp_sock *u;
		struct icmp_echo_sock *ping;
		struct us_epoll *ep;
	};
	struct us_file *wake_next;
	pthread_cond_t cv; /* waiters in blocking calls, with the stack lock */
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

/* Give f a descriptor (the table holds one reference); -EMFILE, -ENOMEM. */
int sock_fd_install(struct us_file *f);
/* The open file behind fd with a reference held, or NULL. */
struct us_file *sock_fd_get(int fd);
void sock_file_free(struct us_file *f);
/* Drop a reference; the last one frees the file. */
void sock_fd_put(struct us_file *f);
/* Take the file out of the table; its number can be reused. */
void sock_fd_remove(struct us_file *f);
/* errno = -err; returns -1. */
int sock_fail(int err);
/* The stack's socket part, made on first use (with the stack lock). */
struct sock_stack *sock_stack_get(struct us_stack *st);
/* The stack's next deadline: timers and devices. */
uint64_t sock_next_deadline(struct us_stack *st);
/* Milliseconds until deadline (stack clock), rounded up; -1 for never. */
int sock_ms_until(struct us_stack *st, uint64_t deadline);
/* End of a call: run the wakes, flush the devices, wake the stack thread if it sleeps too long. */
void sock_kick(struct us_stack *st);
/* What poll(2) would say about the file now. */
uint32_t sock_file_events(const struct us_file *f);
/* An epoll item onto / off its ready list. */
void sock_ep_ready_add(struct ep_item *it);
void sock_ep_ready_del(struct ep_item *it);
/* What an epoll item reports now: what it asked for, plus errors and hang-ups. */
uint32_t sock_ep_item_events(const struct ep_item *it);
/* now + a SO_RCVTIMEO/SO_SNDTIMEO value; never for 0. */
uint64_t sock_timeo_deadline(struct us_stack *st, uint64_t timeo_ns);
void sock_abs_monotonic(uint64_t rel_ns, struct timespec *ts);
/* Drive a stack without a thread for one step: sleep on its devices until a frame, its next
 * deadline or `deadline`, then run a round. With the stack lock, released while sleeping. */
void sock_drive(struct us_stack *st, uint64_t deadline);
/* Wait for f's readiness to change or for deadline (stack clock), with the stack lock held. 0: look
 * again; -EAGAIN: the deadline passed (or a virtual clock, which cannot be waited on); -EBADF: f was
 * closed meanwhile. */
int sock_wait(struct us_file *f, uint64_t deadline);
/* The file for fd with the stack lock taken and the clock read; NULL with errno EBADF. */
struct us_file *sock_file_lock(int fd);
void sock_file_unlock(struct us_file *f);
/* Kick, unlock and return: r >= 0 as is, r < 0 as -1 with errno. */
ssize_t sock_file_ret(struct us_file *f, ssize_t r);
bool sock_is_socket(const struct us_file *f);
/* A sockaddr_in from the caller, with Linux's checks for bind/connect/sendto. */
int sock_addr_in(const struct sockaddr *sa, socklen_t len, uint32_t *addr, uint16_t *port, bool unspec_ok);
/* Copy an address out: truncated to *len, *len set to the full size. */
int sock_addr_out(struct sockaddr *sa, socklen_t *len, uint32_t addr, uint16_t port);
struct us_file *sock_file_new(struct us_stack *st, uint8_t kind);
/* Let go of the file's endpoint and its epoll registrations (with the stack lock). */
void sock_file_release(struct us_file *f);
void sock_ep_item_unlink(struct ep_item *it);

#endif
