/*
 * socket_diff.h - the differential socket test's harness (socket_diff.c) and its rows
 * (socket_diff_rows_a.c, socket_diff_rows_b.c); test_socket_diff.c runs them on Linux and ustack.
 */
#ifndef USTACK_TEST_SOCKET_DIFF_H
#define USTACK_TEST_SOCKET_DIFF_H

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"
#include "ustack/socket.h"

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define LO_IP IP4(127, 0, 0, 1)
#define CLIENT_IP IP4(198, 18, 0, 1)
#define SERVER_IP IP4(198, 18, 0, 2)
/* RFC 5737 TEST-NET-3: local to neither side. */
#define NONLOCAL_IP IP4(203, 0, 113, 7)
#define HUGE_FD 1000000
#define IO_TIMEOUT_MS 3000 /* SO_RCVTIMEO/SO_SNDTIMEO of sockets that block */

/* The calls a row may make; the Linux table calls the kernel, the ustack table the us_* API. */
struct ops {
	const char *name;
	int (*socket_client)(int domain, int type, int protocol); /* on the client stack */
	int (*socket_server)(int domain, int type, int protocol); /* on the server stack */
	int (*bind)(int fd, const struct sockaddr *addr, socklen_t addrlen);
	int (*listen)(int fd, int backlog);
	int (*accept)(int fd, struct sockaddr *addr, socklen_t *addrlen);
	int (*connect)(int fd, const struct sockaddr *addr, socklen_t addrlen);
	ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
	ssize_t (*sendto)(int fd, const void *buf, size_t len, int flags, const struct sockaddr *dest,
			  socklen_t addrlen);
	ssize_t (*recvfrom)(int fd, void *buf, size_t len, int flags, struct sockaddr *src,
			    socklen_t *addrlen);
	ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
	ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
	int (*shutdown)(int fd, int how);
	int (*close)(int fd);
	int (*setsockopt)(int fd, int level, int optname, const void *optval, socklen_t optlen);
	int (*getsockopt)(int fd, int level, int optname, void *optval, socklen_t *optlen);
	int (*getsockname)(int fd, struct sockaddr *addr, socklen_t *addrlen);
	int (*getpeername)(int fd, struct sockaddr *addr, socklen_t *addrlen);
	int (*fcntl)(int fd, int cmd, int arg); /* the argument is always passed (0 when unused) */
	int (*ioctl)(int fd, unsigned long request, int *arg);
	int (*poll)(struct pollfd *fds, nfds_t nfds, int timeout);
	/* Wait a little for the network: segments in flight arrive and are answered. */
	void (*settle)(void);
	uint32_t server_addr, client_addr; /* host order */
	uint32_t link_mtu;		   /* the MTU of the path between them */
};

/* One run of a row: the ops and what the calls returned. */
struct run {
	const struct ops *o;
	char log[8192];
	size_t len;
};

struct row {
	const char *name;
	void (*fn)(struct run *r);
};

enum rec_kind {
	REC_NUM, /* the value as is */
	REC_FD,	 /* a descriptor: "fd" */
};

void sd_note(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record one call: "what = fd", "what = 12" or "what = -1 ECONNREFUSED". errno is read first
 * thing, so the call's own errno is the one recorded. Returns ret. */
long sd_rec(struct run *r, const char *what, long ret, enum rec_kind kind);
/* Record a call only when it fails (set-up steps whose success is not the point of the row). */
long sd_quiet(struct run *r, const char *what, long ret);
/* poll one descriptor for `events`, recorded with the revents by name. */
int sd_poll1(struct run *r, const char *what, int fd, short events, int timeout_ms);
/* Record a socket address, normalised: the family, the address as "=want" when it is want_ip
 * (else "any" or "other"), the port as "0", "=want" when it is want_port, or "port". */
void sd_note_addr(struct run *r, const char *what, const struct sockaddr_in *a, socklen_t len, uint32_t want_ip, uint16_t want_port);
struct sockaddr_in sd_sin4(uint32_t ip, uint16_t port);
void sd_nap_ms(long ms);
long sd_elapsed_ms(const struct timespec *t0);
/* Close a descriptor at the end of a row; only a failure is recorded. */
void sd_drop(struct run *r, int fd);
int sd_opt_int(struct run *r, const char *what, int fd, int level, int name);
long sd_set_int(struct run *r, const char *what, int fd, int level, int name, int v);
/* SO_ERROR, recorded by errno name. */
void sd_so_error(struct run *r, const char *what, int fd);
/* Bound every blocking call on fd (SO_RCVTIMEO and SO_SNDTIMEO; connect honours the latter). */
void sd_bounded(struct run *r, int fd);
uint16_t sd_local_port(struct run *r, int fd);
/* A socket on the server bound to its address (port 0: any) and, when backlog >= 0, listening.
 * *port gets the port. */
int sd_server_sock(struct run *r, int type, int backlog, uint16_t *port);
/* A TCP port on the server nobody listens on: a socket bound to it, not listening (a SYN to it is
 * answered with a RST, RFC 9293 §3.10.7.1). Close the returned socket at the end of the row. */
int sd_closed_tcp_port(struct run *r, uint16_t *port);
/* A UDP port on the server that was just free: bound, read, closed. */
uint16_t sd_closed_udp_port(struct run *r);
/* A TCP connection: *c on the client, *s accepted on the server, both with bounded blocking calls.
 * Returns the listener (still open) when keep_listener, else closes it and returns -1. */
int sd_tcp_conn_l(struct run *r, int *c, int *s, uint16_t *port, bool keep_listener);
void sd_tcp_conn(struct run *r, int *c, int *s);
/* Two UDP sockets, both bound: *srv on the server, *cli on the client; the ports come back. */
void sd_udp_pair(struct run *r, int *cli, int *srv, uint16_t *srv_port, uint16_t *cli_port);
/* Bytes received compared with bytes expected, recorded as "same" or what differs. */
void sd_note_bytes(struct run *r, const char *what, const void *got, long n, const void *want, long wlen);

#define FD(what, call) ((int)sd_rec(r, (what), (long)(call), REC_FD))
#define RC(what, call) sd_rec(r, (what), (long)(call), REC_NUM)
#define QUIET(what, call) sd_quiet(r, (what), (long)(call))
#define SA(p) ((struct sockaddr *)(p))

/* poll revents by name, into buf. */
void sd_revents_str(short ev, char *buf, size_t size);

/* The rows, in two halves. */
extern const struct row sd_rows_a[], sd_rows_b[];
extern const int sd_n_rows_a, sd_n_rows_b;

#endif
