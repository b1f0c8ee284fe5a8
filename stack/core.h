/*
 * core.h - struct us_stack and the internal interfaces between the layers. Not a public header.
 *
 * Layers call downwards only: udp/icmp -> ipv4 (+ ip_frag) -> arp/eth -> netdev. Upward delivery is a
 * function call per protocol (ip_local_deliver -> icmp_rcv / udp_rcv). Every *_rcv function consumes
 * the skb it is given.
 */
#ifndef USTACK_CORE_H
#define USTACK_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rand.h"
#include "timer.h"
#include "ustack/stack.h"

#define US_MAX_ROUTES 64
#define US_PMTU_ENTRIES 32

struct us_iface {
	struct netdev *dev; /* NULL: slot unused */
	int ifindex;
	uint32_t addr; /* host order; valid when has_addr */
	uint32_t bcast; /* the directed broadcast address; 0 for /31 and /32 */
	uint8_t prefix_len;
	bool has_addr;
};

struct route {
	uint32_t dst, mask; /* host order */
	uint8_t prefix_len;
	uint32_t gw; /* 0: on-link */
	int ifindex;
};

struct route_table {
	struct route r[US_MAX_ROUTES]; /* sorted by prefix length, longest first */
	int n;
};

/* Result of a route lookup: where to send and from which address. */
struct rt_result {
	struct us_iface *iface;
	uint32_t nexthop; /* the destination itself or the gateway */
	uint32_t saddr;	  /* the interface's address */
};

/* A path MTU learned from ICMP fragmentation needed (RFC 1191), for one destination. */
struct pmtu_entry {
	uint32_t daddr;
	uint32_t mtu;
	uint64_t expires_ns; /* RFC 1191 §6.3: forget after 10 minutes */
};

struct arp_entry;
struct ipq;
struct tcp_table;
struct udp_sock;
struct icmp_echo_sock;

/* A UDP endpoint (udp.c; the socket layer reads it too). */
struct udp_sock {
	struct udp_sock *hnext;
	struct us_stack *st;
	void *owner;	 /* the socket layer's handle, woken on arrivals and errors; NULL: none */
	uint32_t laddr;	 /* 0: any */
	uint16_t lport;	 /* 0: not bound */
	uint32_t raddr;	 /* connected peer, 0: none */
	uint16_t rport;
	int err;	 /* pending error (negative errno), 0: none */
	uint32_t rcvbuf; /* bytes */
	bool reuseaddr;	 /* SO_REUSEADDR: the port may be shared with others that set it */
	uint8_t ttl;	 /* IP_TTL for what it sends; 0: the stack's default */
	uint8_t pmtudisc; /* IP_MTU_DISCOVER (IP_PMTUDISC_*): DF and the MTU for what it sends */
	struct skb_queue rx; /* datagrams: data at the payload, network header at the IP header */
};

/* what recvfrom reports, in a queued datagram's cb */
struct udp_cb {
	uint32_t saddr;
	uint16_t sport;
	uint8_t ttl; /* of the datagram's IP header, for IP_RECVTTL */
};

/* An ICMP echo endpoint (icmp.c; the socket layer's ping sockets read it too). */
struct icmp_echo_sock {
	struct icmp_echo_sock *next;
	struct us_stack *st;
	void *owner; /* the socket layer's handle; NULL: none */
	uint16_t id;
	/* Which ICMP errors are queued, as Linux's ping_err decides: every one when all_errors (the
	 * us_ping API; a ping socket with IP_RECVERR), else only hard ones while connected. */
	bool all_errors;
	bool connected;
	struct skb_queue rx; /* replies and errors; data at the echo payload */
};

/* What us_ping_recv reports, kept in the queued skb's cb. */
struct ping_cb {
	int error;
	uint32_t from;
	uint16_t seq;
	uint8_t ttl;
};

struct arp_table {
	struct arp_entry **buckets;
	uint32_t nbuckets; /* power of two */
	uint32_t count;
};

struct frag_table {
	struct ipq **buckets;
	uint32_t nbuckets;
	struct ipq *lru_head, *lru_tail; /* oldest first, for eviction under memory pressure */
	uint64_t mem;			 /* bytes held in fragments */
	uint32_t count;
};

struct udp_table {
	struct udp_sock **buckets; /* by local port */
	uint32_t nbuckets;
	uint32_t count;
};

struct sock_stack;
struct stack_ctl;
struct latency_state;

struct us_stack {
	/* The stack lock: the socket API and the loop (us_stack_poll, the stack thread) hold it while
	 * they touch anything below. The proto.h API does not take it: it is for a stack driven by
	 * one thread. */
	pthread_mutex_t lock;
	struct sock_stack *sock; /* the socket layer's part (socket.c); NULL until first used */
	struct us_clock own_clock;
	struct us_clock *clock;
	uint64_t now; /* the clock read once per poll round (and at API entry) */
	struct us_stack_config cfg;
	struct skb_pool *pool;
	struct us_rand rand;
	struct us_iface ifaces[US_MAX_IFACES];
	struct route_table routes;
	struct timer_queue timers;
	struct arp_table arp;
	struct frag_table frags;
	struct udp_table udp;
	struct icmp_echo_sock *echo_socks;
	struct tcp_table *tcp;
	uint16_t ip_id;		     /* next IPv4 identification */
	struct pmtu_entry pmtu[US_PMTU_ENTRIES];
	uint32_t pmtu_next;	     /* slot to reuse when every entry is live */
	bool pmtu_used;		     /* an entry was ever made */
	uint64_t icmp_tokens_milli;  /* error token bucket, thousandths of a token */
	uint64_t icmp_tokens_ns;     /* last refill time */
	struct us_stats stats;
	struct stack_ctl *ctl;	     /* control channel and periodic dumps (sock_ctl.c); NULL: none */
	atomic_bool dump_request;    /* us_stack_request_dump (from a signal handler): dump next round */
	struct latency_state *lat; /* per-layer timing (latency.c); NULL until first switched on */
	bool lat_on;	       /* timing is on: the one flag every stage tests */
	/* the packet trace (pkttrace.c): NULL when off, the one test on the rx and tx paths */
	FILE *pkttrace;
	unsigned pkttrace_flags;  /* US_PKTTRACE_* */
	uint64_t created_ns;	  /* the clock when the stack was made: the trace's time zero */
};

#define ETH_INC(st, f) ((st)->stats.eth[ETH_MIB_##f]++)
#define ARP_INC(st, f) ((st)->stats.arp[ARP_MIB_##f]++)
#define IP_INC(st, f) ((st)->stats.ip[IP_MIB_##f]++)
#define ICMP_INC(st, f) ((st)->stats.icmp[ICMP_MIB_##f]++)
#define UDP_INC(st, f) ((st)->stats.udp[UDP_MIB_##f]++)
#define TCP_INC(st, f) ((st)->stats.tcp[TCP_MIB_##f]++)
#define TCP_DEC(st, f) ((st)->stats.tcp[TCP_MIB_##f]--)
#define TCPX_INC(st, f) ((st)->stats.tcpext[TCPEXT_MIB_##f]++)

static inline uint64_t us_now(struct us_stack *st)
{
	return st->now;
}

/* stack.c */
/* One round of the loop with the stack lock held (us_stack_poll takes it). */
uint64_t stack_poll_locked(struct us_stack *st);
/* Hand what the devices' transmit rings hold to their backends. */
void stack_flush_devices(struct us_stack *st);
struct us_iface *us_iface_get(struct us_stack *st, int ifindex);
/* The interface whose address is addr, or NULL. */
struct us_iface *us_iface_by_addr(struct us_stack *st, uint32_t addr);
/* True for the limited broadcast and any interface's directed broadcast. */
bool us_addr_is_broadcast(const struct us_stack *st, uint32_t addr);
uint64_t us_rand64(struct us_stack *st);

/* route.c */
int route_lookup(struct us_stack *st, uint32_t daddr, struct rt_result *out);
int route_table_add(struct route_table *t, uint32_t dst, uint8_t prefix_len, uint32_t gw, int ifindex);
int route_table_del(struct route_table *t, uint32_t dst, uint8_t prefix_len);

/* eth.c: receive one frame (consumes); send an IP/ARP payload to a known MAC (consumes). */
void eth_rcv(struct us_stack *st, struct sk_buff *skb);
int eth_output(struct us_stack *st, struct us_iface *ifc, struct sk_buff *skb, const uint8_t *dst,
	       uint16_t type);

/* arp.c */
int arp_init(struct us_stack *st);
void arp_destroy(struct us_stack *st);
void arp_rcv(struct us_stack *st, struct sk_buff *skb);
/* Send an IPv4 packet (skb->data at the IP header) to nexthop on ifc: at once when the neighbour is
 * known, else queued while it is resolved. Consumes skb. 0, or -EHOSTUNREACH / -ENOBUFS. */
int arp_output(struct us_stack *st, struct us_iface *ifc, uint32_t nexthop, struct sk_buff *skb);
void arp_announce(struct us_stack *st, struct us_iface *ifc);
int arp_neigh_add(struct us_stack *st, int ifindex, uint32_t addr, const uint8_t mac[6]);
int arp_neigh_del(struct us_stack *st, int ifindex, uint32_t addr);
const char *arp_neigh_state(const struct us_stack *st, uint32_t addr, uint8_t mac[6]);

/* ipv4.c */
void ip_rcv(struct us_stack *st, struct sk_buff *skb);
/* Deliver a whole (reassembled) datagram to its protocol; skb->data at the IP header. */
void ip_local_deliver(struct us_stack *st, struct sk_buff *skb);

/* Output parameters for ip_output. */
struct ip_out {
	uint32_t saddr; /* 0: the route's interface address */
	uint32_t daddr;
	uint8_t proto;
	uint8_t ttl; /* 0: default */
	uint8_t tos;
	bool df;
	bool ignore_pmtu; /* fragment at the device's MTU, not a path MTU learned (IP_PMTUDISC_PROBE) */
	const uint8_t *opts; /* IP options, a multiple of 4 bytes (at most 40); NULL: none */
	uint8_t optlen;
};
/* Send a transport segment (skb->data at the transport header, SKB_MAX_HEADER headroom): route, add
 * the IP header, fragment when larger than the MTU (unless DF: -EMSGSIZE), resolve and transmit.
 * Consumes skb on every path. */
int ip_output(struct us_stack *st, struct sk_buff *skb, const struct ip_out *o);
/* Path MTU (RFC 1191): record what a fragmentation-needed message said about daddr; read the MTU to
 * use towards daddr on a device of dev_mtu. */
void ip_pmtu_update(struct us_stack *st, uint32_t daddr, uint32_t mtu);
uint32_t ip_pmtu_get(struct us_stack *st, uint32_t daddr, uint32_t dev_mtu);
/* Tell the local sender of an IPv4 packet that it could not be delivered (EHOSTUNREACH when ARP
 * failed). skb->data at the IP header; read only. */
void ip_local_error(struct us_stack *st, const struct sk_buff *skb, int err);

/* ip_frag.c */
int ip_frag_init(struct us_stack *st);
void ip_frag_destroy(struct us_stack *st);
/* Take a fragment (skb->data at the IP header, validated); consumes it. Returns the reassembled
 * datagram when this fragment completed one, else NULL. */
struct sk_buff *ip_defrag(struct us_stack *st, struct sk_buff *skb);
/* Split a datagram (skb->data at a complete IP header without options) into fragments of at most
 * mtu bytes and hand each to arp_output. Consumes skb. */
int ip_fragment(struct us_stack *st, struct sk_buff *skb, uint32_t mtu, struct us_iface *ifc,
		uint32_t nexthop);

/* icmp.c */
void icmp_rcv(struct us_stack *st, struct sk_buff *skb);
/* Send an ICMP error about the datagram in skb (data at its IP header; read only), within the rules
 * of RFC 1122 §3.2.2 and the rate limit. info: the 32-bit "unused"/MTU field. */
void icmp_send_error(struct us_stack *st, const struct sk_buff *skb, uint8_t type, uint8_t code,
		     uint32_t info);
void icmp_destroy(struct us_stack *st);
/* An error about an ICMP message we sent (quoted: its IP header and at least 8 bytes) from `from`;
 * hard as Linux's icmp_err_convert says. */
void icmp_local_error(struct us_stack *st, const uint8_t *quoted, uint32_t len, int err, bool hard,
		      uint32_t from);

/* udp.c */
int udp_init(struct us_stack *st);
void udp_destroy(struct us_stack *st);
void udp_rcv(struct us_stack *st, struct sk_buff *skb);
/* An ICMP error quoting a UDP datagram we sent (quoted: its IP header and at least 8 bytes). */
void udp_err(struct us_stack *st, const uint8_t *quoted, uint32_t len, int err);
/* Send one datagram gathered from iov (len bytes in all); daddr 0: the connected peer. Returns len
 * or -errno, as us_udp_sendto. */
struct iovec;
int udp_sendmsg(struct udp_sock *u, const struct iovec *iov, int iovcnt, size_t len, uint32_t daddr,
		uint16_t dport);
/* Take (or with peek, copy) the next datagram into iov; returns its full length or -errno, as
 * us_udp_recvfrom. */
int udp_recvmsg(struct udp_sock *u, const struct iovec *iov, int iovcnt, bool peek, uint32_t *saddr,
		uint16_t *sport, uint8_t *ttl);

/* socket.c: a protocol endpoint's readiness may have changed. owner is the socket layer's handle,
 * stored in the endpoint; the wake is queued and run at the end of the round or API call. */
void sock_wake(struct us_stack *st, void *owner);
/* Run the queued wakes: epoll ready lists, waiters. */
void sock_run_wakes(struct us_stack *st);
/* The stack is going away: stop its thread, close its descriptors. */
void sock_stack_destroy(struct us_stack *st);

/* tcp.c, tcp_input.c */
int tcp_init(struct us_stack *st);
void tcp_destroy(struct us_stack *st);
void tcp_v4_rcv(struct us_stack *st, struct sk_buff *skb);
/* An ICMP error quoting a TCP segment we sent (or a neighbour that never answered, ip_local_error):
 * as Linux's tcp_v4_err, hard or soft alike. */
void tcp_v4_err(struct us_stack *st, const uint8_t *quoted, uint32_t len, int err);

#endif
