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

#ifdef __cplusplus
}
#endif

#endif
