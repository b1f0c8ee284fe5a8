/*
 * proto.h - the protocol-level API under the socket layer: UDP endpoints and ICMP echo.
 *
 * These are the calls the BSD socket layer is built on; programs may use them directly with a stack
 * they drive through us_stack_poll(). Every call returns 0 or a count on success and a negative
 * errno on failure (-EAGAIN when there is nothing to receive, as for a non-blocking socket).
 * Addresses and ports are in host byte order.
 */
#ifndef USTACK_PROTO_H
#define USTACK_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ustack/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- UDP (RFC 768) ---- */

struct us_udp;

/* A new unbound UDP endpoint; NULL with errno ENOMEM. */
struct us_udp *us_udp_open(struct us_stack *st);
/* Bind to a local address (0: any) and port (0: an ephemeral port, RFC 6056). -EADDRINUSE,
 * -EADDRNOTAVAIL (not one of our addresses), -EINVAL (already bound). */
int us_udp_bind(struct us_udp *u, uint32_t addr, uint16_t port);
/* Fix the peer: sendto with daddr 0 goes there, and only its datagrams are received. Binds an
 * ephemeral port first if unbound. */
int us_udp_connect(struct us_udp *u, uint32_t addr, uint16_t port);
/* Send one datagram of len bytes (at most 65,507; larger: -EMSGSIZE); daddr 0 means the connected
 * peer (-EDESTADDRREQ if none). Returns len or -errno (-ENETUNREACH without a route, -ENOBUFS). */
int us_udp_sendto(struct us_udp *u, const void *buf, size_t len, uint32_t daddr, uint16_t dport);
/* Take the next datagram: copies at most len bytes and returns the datagram's full length (as
 * recv with MSG_TRUNC reports it); saddr/sport may be NULL. -EAGAIN when none is queued; a pending
 * error (ECONNREFUSED from a port unreachable, EHOSTUNREACH from failed ARP) is returned once. */
int us_udp_recvfrom(struct us_udp *u, void *buf, size_t len, uint32_t *saddr, uint16_t *sport);
int us_udp_getsockname(const struct us_udp *u, uint32_t *addr, uint16_t *port);
/* Datagrams and bytes waiting to be received. */
uint32_t us_udp_rx_queued(const struct us_udp *u, uint64_t *bytes);
/* Receive buffer limit in bytes (default 212,992 as Linux's rmem_default). */
int us_udp_set_rcvbuf(struct us_udp *u, uint32_t bytes);
void us_udp_close(struct us_udp *u);

/* ---- ICMP echo (RFC 792) ---- */

struct us_ping;

struct us_ping_reply {
	uint32_t from;	   /* who answered (or who sent the error) */
	uint16_t seq;
	uint8_t ttl;	   /* of the reply's IP header */
	int error;	   /* 0 for an echo reply, else -EHOSTUNREACH, -ENETUNREACH, ... from an error */
	uint64_t rx_ns;	   /* receive time on the stack clock */
	uint32_t len;	   /* payload bytes */
};

/* An echo endpoint with identifier id: it receives the replies (and errors) for that id. */
struct us_ping *us_ping_open(struct us_stack *st, uint16_t id);
/* Send an echo request with len payload bytes (ttl 0: default). */
int us_ping_send(struct us_ping *p, uint32_t daddr, uint16_t seq, const void *payload, size_t len,
		 uint8_t ttl);
/* Take the next reply; copies at most len payload bytes. -EAGAIN when none. */
int us_ping_recv(struct us_ping *p, struct us_ping_reply *r, void *payload, size_t len);
void us_ping_close(struct us_ping *p);

/* ---- TCP (RFC 9293) ---- */

struct us_tcp;

/* Events, as poll(2) reports them. */
#define US_TCP_EV_READABLE 0x01 /* data, EOF, a connection to accept, or an error to read */
#define US_TCP_EV_WRITABLE 0x04 /* room in the send buffer on a connected socket */
#define US_TCP_EV_ERROR 0x08	/* a pending error */
#define US_TCP_EV_HUP 0x10	/* both directions closed, or reset */

struct us_tcp_info {
	int state;	       /* TCP_ESTABLISHED = 4 ... as RFC 9293's order: see us_tcp_state_name */
	uint32_t rto_us, srtt_us, rttvar_us;
	uint32_t snd_cwnd, snd_ssthresh; /* bytes */
	uint32_t snd_mss, rcv_mss;
	uint32_t retransmits, total_retrans;
	uint32_t unacked;      /* bytes sent, not yet acknowledged */
	uint32_t snd_wnd, rcv_wnd;
	uint8_t snd_wscale, rcv_wscale;
	uint8_t ts_ok, sack_ok;
	uint64_t bytes_queued_rcv, bytes_queued_snd;
};

/* A new TCP endpoint; NULL with errno ENOMEM. */
struct us_tcp *us_tcp_open(struct us_stack *st);
/* Bind to addr (0: any) and port (0: ephemeral). -EADDRINUSE, -EADDRNOTAVAIL, -EINVAL. */
int us_tcp_bind(struct us_tcp *t, uint32_t addr, uint16_t port);
/* Passive open with a queue of `backlog` established connections waiting for us_tcp_accept. */
int us_tcp_listen(struct us_tcp *t, int backlog);
/* The next established connection, or NULL with *err = -EAGAIN (or -EINVAL: not listening). */
struct us_tcp *us_tcp_accept(struct us_tcp *t, int *err);
/* Active open: sends the SYN and returns -EINPROGRESS; the connection is ready when writable, and
 * us_tcp_error then says whether it failed (-ECONNREFUSED, -ETIMEDOUT, ...). */
int us_tcp_connect(struct us_tcp *t, uint32_t addr, uint16_t port);
/* Queue up to len bytes; returns how many were taken, -EAGAIN when the send buffer is full,
 * -EPIPE after shutdown or when the connection is gone, -ENOTCONN before it is. */
int us_tcp_send(struct us_tcp *t, const void *buf, size_t len);
/* Take up to len bytes: returns the count, 0 at end of stream, -EAGAIN when nothing is there, or a
 * pending error (-ECONNRESET, -ETIMEDOUT) once. */
int us_tcp_recv(struct us_tcp *t, void *buf, size_t len);
/* SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2 as in BSD sockets. */
int us_tcp_shutdown(struct us_tcp *t, int how);
/* Let go: the connection closes gracefully in the background (FIN after queued data), or is reset
 * when unread data remains (RFC 9293 §3.10.4, as Linux does). */
void us_tcp_close(struct us_tcp *t);
/* Reset the connection now and let go (RFC 9293 §3.10.5 ABORT). */
void us_tcp_abort(struct us_tcp *t);
uint32_t us_tcp_events(const struct us_tcp *t);
/* Take the pending error (SO_ERROR): 0 or a negative errno. */
int us_tcp_error(struct us_tcp *t);
int us_tcp_state(const struct us_tcp *t);
const char *us_tcp_state_name(int state);
int us_tcp_set_nodelay(struct us_tcp *t, int on);
int us_tcp_set_keepalive(struct us_tcp *t, int on, uint32_t idle_s, uint32_t intvl_s, uint32_t cnt);
int us_tcp_set_bufs(struct us_tcp *t, uint32_t sndbuf, uint32_t rcvbuf);
int us_tcp_info(const struct us_tcp *t, struct us_tcp_info *info);
/* The congestion-control trace (US_TCP_TRACE in socket.h): into path (created or truncated), or
 * into fp, which stays the caller's (flushed when the connection is freed, never closed); both
 * NULL: stop. 0 or -errno. */
int us_tcp_set_trace(struct us_tcp *t, const char *path, FILE *fp);
int us_tcp_getsockname(const struct us_tcp *t, uint32_t *addr, uint16_t *port);
int us_tcp_getpeername(const struct us_tcp *t, uint32_t *addr, uint16_t *port);

#ifdef __cplusplus
}
#endif

#endif
