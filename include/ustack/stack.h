/*
 * stack.h - a ustack instance: its devices, addresses, routes, neighbours, timers and counters, and
 * the loop that drives them.
 *
 * Everything a stack owns hangs off one struct us_stack, so several stacks live in one process (two
 * on a pair device is how scenario tests work). The protocol layers keep no global state. The socket
 * layer keeps two things process-wide, under one lock (stack/sock_core.c): the descriptor table, so
 * that a descriptor names one socket whatever stack it is on, as the kernel's fd table is per process
 * and not per network namespace; and the default stack that us_socket() creates sockets on (the
 * first stack created, or us_stack_set_default's), as socket(2) takes no stack argument. A stack
 * destroyed stops being the default, and its descriptors are closed. The core is single-threaded and
 * run-to-completion: us_stack_poll() receives a budgeted batch from each device, runs the timers that
 * are due, flushes the transmit rings, and returns the next deadline, so the caller can sleep until
 * then or until a device fd is readable (us_stack_wait does exactly that).
 *
 * IPv4 addresses in this API are uint32_t in host byte order (198.18.0.2 is 0xc6120002).
 */
#ifndef USTACK_STACK_H
#define USTACK_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "ustack/clock.h"
#include "ustack/netdev.h"
#include "ustack/skb.h"
#include "ustack/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

#define US_MAX_IFACES 8

struct us_stack;

struct us_stack_config {
	struct us_clock *clock;		 /* NULL: the stack's own monotonic clock */
	uint64_t seed;			 /* the stack's random generator (IP IDs, ports, ...); 0: from getrandom */
	struct skb_pool_config pool;	 /* zeroes: the pool's defaults */
	uint32_t rx_budget;		 /* frames per device per poll; 0: 64 */
	uint32_t arp_max_entries;	 /* neighbour cache size; 0: 1024 */
	uint32_t arp_max_queued;	 /* packets waiting for one neighbour; 0: 16 */
	uint64_t arp_reachable_ns;	 /* REACHABLE -> STALE; 0: 30 s */
	uint64_t arp_stale_ns;		 /* STALE entries removed after; 0: 60 s */
	uint64_t arp_retrans_ns;	 /* between requests while INCOMPLETE; 0: 1 s */
	uint32_t arp_max_probes;	 /* requests before FAILED; 0: 3 */
	uint64_t reasm_timeout_ns;	 /* reassembly time limit; 0: 30 s (RFC 1122 §3.3.2: 60-120 s
					  * recommended; 30 s as Linux) */
	uint64_t reasm_max_bytes;	 /* memory held by fragments, all datagrams; 0: 4 MiB */
	uint32_t icmp_rate_per_sec;	 /* ICMP error token bucket refill; 0: 1000 */
	uint32_t icmp_burst;		 /* bucket depth; 0: 50 */
	uint8_t default_ttl;		 /* 0: 64 */

	/* TCP (zero: the default in brackets) */
	uint64_t tcp_msl_ns;		 /* TIME-WAIT lasts 2 MSL [30 s: Linux's 60 s TIME-WAIT] */
	uint64_t tcp_rto_initial_ns;	 /* [1 s, RFC 6298 §2.1] */
	uint64_t tcp_rto_min_ns;	 /* [200 ms, Linux's TCP_RTO_MIN] */
	uint64_t tcp_rto_max_ns;	 /* [120 s] */
	uint64_t tcp_delack_ns;		 /* delayed ACK [40 ms, Linux's minimum; RFC 1122: < 0.5 s] */
	uint64_t tcp_fin_timeout_ns;	 /* an orphan's FIN-WAIT-2 [60 s] */
	uint32_t tcp_syn_retries;	 /* [6] */
	uint32_t tcp_synack_retries;	 /* [5] */
	uint32_t tcp_retries2;		 /* RTO expirations before giving up [15] */
	uint32_t tcp_rmem;		 /* receive buffer, bytes [262144] */
	uint32_t tcp_wmem;		 /* send buffer, bytes [262144] */
	uint32_t tcp_max_syn_backlog;	 /* half-open connections per listener [256] */
	uint32_t tcp_ehash_size;	 /* established hash buckets, power of two [65536] */
	const char *tcp_congestion;	 /* new connections' congestion control, "newreno" or "cubic"
					  * (RFC 9438; Linux's net.ipv4.tcp_congestion_control), read
					  * by us_stack_create only; unknown: EINVAL ["newreno"] */
	uint8_t tcp_isn_key[16];	 /* the RFC 6528 ISN secret [all zero: random]; a fixed key makes
					  * ISNs reproducible (pcap replay) */
	const char *tcp_trace_path;	 /* every connection's congestion-control trace, CSV, into this
					  * file (created or truncated; see US_TCP_TRACE in socket.h for
					  * the columns), from ESTABLISHED on; NULL: none [NULL] */
	bool tcp_no_timestamps;		 /* neither offer nor accept RFC 7323 timestamps (Linux's
					  * net.ipv4.tcp_timestamps = 0) [false] */
	bool tcp_no_window_scaling;	 /* ... window scaling (tcp_window_scaling = 0) [false] */
	bool tcp_no_sack;		 /* ... SACK-permitted (tcp_sack = 0) [false] */
	bool tcp_tw_reuse;		 /* a connect may take over a TIME-WAIT 4-tuple when timestamps
					  * protect it (Linux's net.ipv4.tcp_tw_reuse = 1) [false] */
	uint32_t tcp_syncookies;	 /* SYN cookies (RFC 4987 §3.6), as Linux's
					  * net.ipv4.tcp_syncookies: 1 when a listener's SYN queue
					  * is full, 2 for every SYN, US_TCP_SYNCOOKIES_OFF never
					  * (Linux's 0, which here means the default) [1] */
	uint32_t tcp_challenge_ack_limit; /* RFC 5961 §7: challenge ACKs per second, all
					  * connections together (Linux's
					  * net.ipv4.tcp_challenge_ack_limit);
					  * US_TCP_CHALLENGE_ACK_UNLIMITED: no limit [1000] */
	uint32_t tcp_recovery;		 /* loss detection of what we send, bits as Linux's
					  * net.ipv4.tcp_recovery: US_TCP_RECOVERY_RACK (RFC 8985
					  * RACK, with SACK), US_TCP_RECOVERY_STATIC_REO_WND (RACK's
					  * reordering window does not grow on D-SACKs), and
					  * US_TCP_RECOVERY_TLP (tail loss probes, Linux's
					  * tcp_early_retrans); 0 means the default, so to switch all
					  * off give US_TCP_RECOVERY_ONLY alone, or with the bits to
					  * keep [RACK | TLP] */
};

#define US_TCP_SYNCOOKIES_OFF 0xffffffffu	   /* tcp_syncookies: never send one */
#define US_TCP_CHALLENGE_ACK_UNLIMITED 0xffffffffu /* tcp_challenge_ack_limit: no limit */
#define US_TCP_RECOVERY_RACK 0x1u		   /* tcp_recovery: RACK loss detection */
#define US_TCP_RECOVERY_STATIC_REO_WND 0x2u	   /* ... a reordering window of min_RTT/4 always */
#define US_TCP_RECOVERY_TLP 0x100u		   /* ... tail loss probes */
#define US_TCP_RECOVERY_ONLY 0x80000000u	   /* ... exactly the bits given, none if no other */

/* A new stack; cfg may be NULL. NULL with errno on failure. */
struct us_stack *us_stack_create(const struct us_stack_config *cfg);
/* Close every device, free every socket, timer and buffer. Returns the skbs that were still in use
 * (0 unless something leaked). NULL is a no-op. */
uint64_t us_stack_destroy(struct us_stack *st);

/* Attach a device; the stack owns it from now on. Returns the interface index (>= 1) or -errno. */
int us_stack_add_netdev(struct us_stack *st, struct netdev *dev);
struct netdev *us_stack_netdev(const struct us_stack *st, int ifindex);
/* Give an interface its IPv4 address and prefix length; adds the connected route and announces the
 * address with a gratuitous ARP. One address per interface: a second replaces the first. */
int us_addr_add(struct us_stack *st, int ifindex, uint32_t addr, uint8_t prefix_len);
/* Routes: the longest prefix wins; prefix_len 0 is the default route. gw 0: directly connected; a
 * gateway must be on the interface's network (-ENETUNREACH otherwise, as Linux refuses it). */
int us_route_add(struct us_stack *st, uint32_t dst, uint8_t prefix_len, uint32_t gw, int ifindex);
int us_route_del(struct us_stack *st, uint32_t dst, uint8_t prefix_len);
/* Permanent neighbour entries, as `ip neigh add ... nud permanent` / `ip neigh del`. */
int us_neigh_add(struct us_stack *st, int ifindex, uint32_t addr, const uint8_t mac[6]);
int us_neigh_del(struct us_stack *st, int ifindex, uint32_t addr);
/* The neighbour cache state of addr: "INCOMPLETE", "REACHABLE", "STALE", "FAILED", "PERMANENT",
 * or NULL when there is no entry. With mac non-NULL, the cached address is copied out. */
const char *us_neigh_state(const struct us_stack *st, uint32_t addr, uint8_t mac[6]);

/* One round of the loop; returns the next deadline (stack clock, ns; US_TIME_NEVER if none). */
uint64_t us_stack_poll(struct us_stack *st);
/* Poll, then sleep in poll(2) on the device fds until the next deadline, a frame, or timeout_ms
 * (-1: no limit) - whichever is first. For programs that only drive the stack. */
void us_stack_wait(struct us_stack *st, int timeout_ms);
uint64_t us_stack_now(const struct us_stack *st);
struct skb_pool *us_stack_pool(const struct us_stack *st);
/* The stack's clock: devices attached to the stack should be created with it. */
struct us_clock *us_stack_clock(struct us_stack *st);

/* "a.b.c.d" or "a.b.c.d/len" -> address (host order) and prefix length (32 without /len). */
int us_parse_ipv4(const char *s, uint32_t *addr, uint8_t *prefix_len);
/* addr -> "a.b.c.d" in buf (at least 16 bytes); returns buf. */
char *us_format_ipv4(uint32_t addr, char *buf);

#ifdef __cplusplus
}
#endif

#endif
