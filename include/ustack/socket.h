/*
 * socket.h - the BSD socket API of ustack.
 *
 * Every call is the BSD/POSIX call of the same name with a `us_` prefix, taking the same arguments
 * and the system's own types and constants (struct sockaddr_in, socklen_t, struct msghdr, struct
 * pollfd, struct epoll_event, struct tcp_info, SOL_SOCKET, SO_*, TCP_*, MSG_*, POLL*, EPOLL*,
 * O_NONBLOCK). Calls return -1 and set errno where Linux does, with Linux's errno. Porting a program
 * is a prefix change; docs/api.md has the guide.
 *
 * Descriptors are ustack's own, not kernel file descriptors: pass them to us_* calls only. They are
 * small integers from 3 up, process-wide, and the one piece of process-wide state in ustack, as the
 * kernel's descriptor table is. A descriptor belongs to the stack it was made on: us_socket() uses the
 * default stack (the first one created, or the one given to us_stack_set_default); us_socket_on()
 * names the stack.
 *
 * Two ways to run:
 *  - Threaded: us_stack_start() runs the stack's loop in a background thread, and blocking calls
 *    (accept, connect, recv, send, poll, epoll_wait) sleep until they can complete, from any thread.
 *  - Driven: the application calls us_stack_poll() itself and uses non-blocking sockets
 *    (SOCK_NONBLOCK, O_NONBLOCK or MSG_DONTWAIT). A blocking call made on a stack that is not started
 *    drives the stack itself while it waits, so a single-threaded program can block too.
 * To fold ustack into an application's own epoll/poll loop, wait on us_stack_fd() (driven mode:
 * readable when the stack has frames to process) or us_epoll_kernel_fd() (readable while a ustack epoll
 * instance has ready events).
 *
 * TCP-level options (TCP_NODELAY, TCP_INFO, ...) come from <netinet/tcp.h> or <linux/tcp.h>, which a
 * program includes itself, as with BSD sockets.
 *
 * Supported: AF_INET with SOCK_STREAM (TCP) and SOCK_DGRAM (UDP; and IPPROTO_ICMP for echo, as Linux's
 * ping sockets). SIGPIPE is never raised: a send on a closed connection returns EPIPE.
 */
#ifndef USTACK_SOCKET_H
#define USTACK_SOCKET_H

#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "ustack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the stack behind the descriptors ---- */

/* The stack us_socket() and us_epoll_create() use. */
void us_stack_set_default(struct us_stack *st);
struct us_stack *us_stack_get_default(void);
/* Run the stack's loop in a background thread; blocking calls then sleep instead of driving it.
 * -EALREADY if running. */
int us_stack_start(struct us_stack *st);
/* Stop the thread (waits for it); the stack can be driven by hand again or destroyed. */
void us_stack_stop(struct us_stack *st);
/* A kernel fd that is readable when the stack has work (frames arrived, a wake-up); for a driven
 * stack in an application's own epoll/poll loop. Call us_stack_poll() when it is readable or when
 * us_stack_timeout_ms() has passed. Owned by the stack. */
int us_stack_fd(struct us_stack *st);
/* Milliseconds until the stack's next deadline (-1: none), for the timeout of that loop. */
int us_stack_timeout_ms(struct us_stack *st);

/* ---- ustack's own options ---- */

/* IPPROTO_TCP, US_TCP_TRACE: trace the connection's congestion control as CSV into a file. The value
 * is a path (optlen bytes, ended by a NUL or by optlen, as SO_BINDTODEVICE takes a name); the file is
 * created or truncated at once and the header line written. An empty value stops the trace.
 * getsockopt returns the path, NUL-terminated ("" when the socket is not traced). Set on a listener,
 * its accepted connections are traced into the same file; us_stack_config.tcp_trace_path traces
 * every connection of a stack into one. Errors: those of fopen(3) (ENOENT, EACCES, ...),
 * ENAMETOOLONG. The columns:
 *   time_s    seconds since the file's first row (microseconds), on the stack's clock
 *   conn      the connection, numbered from 1 in the order of their first rows
 *   event     ack (an ACK moved cwnd or ssthresh), fast_retransmit (three duplicate ACKs), rto (the
 *             retransmission timer expired), retransmit (a segment sent again), state (a change of
 *             state from ESTABLISHED on)
 *   state     RFC 9293's name: ESTABLISHED, FIN-WAIT-1, ...
 *   cwnd, ssthresh, flight   bytes (ssthresh 4294967295: none yet, before the first loss)
 *   srtt_us, rto_us          microseconds
 *   retrans   segments retransmitted so far (tcpi_total_retrans)
 *   mss       the send MSS, bytes
 * scripts/plot_trace.sh draws one. An untraced connection pays one flag test per event. */
#define US_TCP_TRACE 0x7573

/* ---- sockets ---- */

int us_socket(int domain, int type, int protocol);
int us_socket_on(struct us_stack *st, int domain, int type, int protocol);
int us_bind(int fd, const struct sockaddr *addr, socklen_t addrlen);
int us_listen(int fd, int backlog);
int us_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);
int us_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
int us_connect(int fd, const struct sockaddr *addr, socklen_t addrlen);
ssize_t us_send(int fd, const void *buf, size_t len, int flags);
ssize_t us_recv(int fd, void *buf, size_t len, int flags);
ssize_t us_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *dest,
		  socklen_t addrlen);
ssize_t us_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *src,
		    socklen_t *addrlen);
ssize_t us_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t us_recvmsg(int fd, struct msghdr *msg, int flags);
/* read(2)/write(2)/readv/writev on a socket: recv/send with no flags. */
ssize_t us_read(int fd, void *buf, size_t len);
ssize_t us_write(int fd, const void *buf, size_t len);
ssize_t us_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t us_writev(int fd, const struct iovec *iov, int iovcnt);
int us_shutdown(int fd, int how);
int us_close(int fd);
int us_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen);
int us_getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen);
int us_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen);
int us_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen);
/* F_GETFL / F_SETFL (O_NONBLOCK), F_GETFD / F_SETFD (accepted, no effect). */
int us_fcntl(int fd, int cmd, ...);
/* FIONREAD (bytes readable), FIONBIO. */
int us_ioctl(int fd, unsigned long request, ...);
/* poll(2) over ustack descriptors of one stack. */
int us_poll(struct pollfd *fds, nfds_t nfds, int timeout);

/* ---- epoll ---- */

/* EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLERR, EPOLLHUP; EPOLLET, EPOLLONESHOT. An epoll instance watches
 * descriptors of one stack. */
int us_epoll_create(int size);
int us_epoll_create1(int flags);
int us_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
int us_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout);
/* A kernel eventfd that is readable while the instance has ready events (its counter is reset when
 * us_epoll_wait empties the ready list). Owned by the instance. */
int us_epoll_kernel_fd(int epfd);

#ifdef __cplusplus
}
#endif

#endif
