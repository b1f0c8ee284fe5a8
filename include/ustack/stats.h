/*
 * stats.h - the stack's counters, named as Linux names them in /proc/net/snmp (Ip, Icmp, Udp) and,
 * for what Linux has no line for, in the same style (Eth, Arp).
 *
 * (Tcp, TcpExt as /proc/net/snmp and /proc/net/netstat.)
 *
 * Each group is an X-macro list, so the enum, the names and the dump come from one place. Read a
 * counter with us_stats_get(st, "Ip", "InHdrErrors") or print them all with us_stats_dump().
 */
#ifndef USTACK_STATS_H
#define USTACK_STATS_H

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define US_ETH_MIB(X)                                                                            \
	X(InFrames)	 /* frames received from devices */                                        \
	X(InRunts)	 /* shorter than an Ethernet header */                                     \
	X(InNotForUs)	 /* unicast to another MAC, or multicast we did not join */                \
	X(InUnknownType) /* an ethertype with no handler */                                        \
	X(OutFrames)

#define US_ARP_MIB(X)                                                                            \
	X(InPackets)                                                                             \
	X(InErrors)	   /* too short, wrong hardware/protocol type or lengths, bad opcode */      \
	X(InRequests)                                                                            \
	X(InReplies)                                                                             \
	X(InNotForUs)	   /* requests for addresses that are not ours */                          \
	X(OutRequests)                                                                           \
	X(OutReplies)                                                                            \
	X(OutGratuitous)                                                                         \
	X(ResolveFailed)   /* entries that went FAILED after their retries */                      \
	X(UnresolvedDiscards) /* packets dropped waiting for resolution (queue full, FAILED) */     \
	X(TableFull)	   /* no entry could be made: the cache is at its limit */

/* Ip.InDiscards stays 0 in ustack. Linux counts there a valid datagram it drops on the way in for
 * want of resources: no private copy of a shared skb (ip_rcv_core's skb_share_check), or of a header
 * it is about to write (ip_rcv_options' skb_cow). Neither arises here: every frame is received into
 * a buffer of its own from the stack's pool (a device out of buffers drops the frame and counts it
 * as its rx_dropped), and no layer writes into a received datagram (an echo reply's options are
 * built in the reply). Resource drops further up count where Linux counts them: Ip.ReasmFails
 * (reassembly), Udp.RcvbufErrors, TcpExt.ListenDrops and the like. */
#define US_IP_MIB(X)                                                                             \
	X(InReceives)                                                                            \
	X(InHdrErrors)                                                                           \
	X(InAddrErrors)                                                                          \
	X(InUnknownProtos)                                                                       \
	X(InDiscards)                                                                            \
	X(InDelivers)                                                                            \
	X(OutRequests)                                                                           \
	X(OutDiscards)                                                                           \
	X(OutNoRoutes)                                                                           \
	X(ReasmTimeout)                                                                          \
	X(ReasmReqds)                                                                            \
	X(ReasmOKs)                                                                              \
	X(ReasmFails)                                                                            \
	X(FragOKs)                                                                               \
	X(FragFails)                                                                             \
	X(FragCreates)                                                                           \
	X(InTruncatedPkts)                                                                       \
	X(InCsumErrors)                                                                          \
	X(ReasmOverlaps)

#define US_ICMP_MIB(X)                                                                           \
	X(InMsgs)                                                                                \
	X(InErrors)                                                                              \
	X(InCsumErrors)                                                                          \
	X(InDestUnreachs)                                                                        \
	X(InTimeExcds)                                                                           \
	X(InEchos)                                                                               \
	X(InEchoReps)                                                                            \
	X(OutMsgs)                                                                               \
	X(OutErrors)                                                                             \
	X(OutRateLimitGlobal)                                                                    \
	X(OutDestUnreachs)                                                                       \
	X(OutTimeExcds)                                                                          \
	X(OutEchos)                                                                              \
	X(OutEchoReps)

#define US_UDP_MIB(X)                                                                            \
	X(InDatagrams)                                                                           \
	X(NoPorts)                                                                               \
	X(InErrors)                                                                              \
	X(OutDatagrams)                                                                          \
	X(RcvbufErrors)                                                                          \
	X(SndbufErrors)                                                                          \
	X(InCsumErrors)

#define US_TCP_MIB(X)                                                                            \
	X(ActiveOpens)                                                                           \
	X(PassiveOpens)                                                                          \
	X(AttemptFails)                                                                          \
	X(EstabResets)                                                                           \
	X(CurrEstab)                                                                             \
	X(InSegs)                                                                                \
	X(OutSegs)                                                                               \
	X(RetransSegs)                                                                           \
	X(InErrs)                                                                                \
	X(OutRsts)                                                                               \
	X(InCsumErrors)

#define US_TCPEXT_MIB(X)                                                                         \
	X(SyncookiesSent)  /* SYN-ACKs carrying a SYN cookie (RFC 4987 §3.6) */                  \
	X(SyncookiesRecv)  /* ACKs whose cookie was valid */                                     \
	X(SyncookiesFailed) /* ACKs to a listener checked for a cookie and refused */            \
	X(ListenOverflows)                                                                       \
	X(ListenDrops)                                                                           \
	X(TCPTimeouts)                                                                           \
	X(TCPSynRetrans)                                                                         \
	X(TCPFastRetrans)                                                                        \
	X(DelayedACKs)                                                                           \
	X(TCPPureAcks)                                                                           \
	X(TCPHPHits)                                                                             \
	X(TCPHPAcks)                                                                             \
	X(TCPOFOQueue)                                                                           \
	X(TCPOFODrop)                                                                            \
	X(TCPOFOMerge)                                                                           \
	X(TCPChallengeACK)                                                                       \
	X(TCPACKSkippedChallenge) /* challenge ACKs not sent: over the RFC 5961 §7 limit */      \
	X(PAWSEstab)                                                                             \
	X(TCPAbortOnData)                                                                        \
	X(TCPAbortOnClose)                                                                       \
	X(TCPAbortOnTimeout)                                                                     \
	X(TCPAbortOnLinger)                                                                      \
	X(TW)                                                                                    \
	X(TCPTimeWaitRecycled)                                                                   \
	X(TCPKeepAlive)                                                                          \
	X(TCPZeroWindowProbes)                                                                   \
	X(TCPRcvQDrop)                                                                           \
	X(TCPWinProbe)                                                                           \
	X(TCPDSACKRecv)                                                                          \
	X(TCPSackRecovery)                                                                       \
	X(TCPDSACKOldSent)                                                                       \
	X(TCPDSACKOfoSent)                                                                       \
	X(TCPRstDiscards) /* ustack's own: a RST to a closed port or a listener, discarded (RFC   \
			   * 9293 §3.10.7.1, §3.10.7.2); Linux counts these under no name */     \
	X(TCPLossProbes)	/* tail loss probes sent (RFC 8985 §7.3) */                      \
	X(TCPLossProbeRecovery) /* losses a probe repaired alone (§7.4.2) */

#define US_ETH_ENUM(name) ETH_MIB_##name,
#define US_ARP_ENUM(name) ARP_MIB_##name,
#define US_IP_ENUM(name) IP_MIB_##name,
#define US_ICMP_ENUM(name) ICMP_MIB_##name,
#define US_UDP_ENUM(name) UDP_MIB_##name,
#define US_TCP_ENUM(name) TCP_MIB_##name,
#define US_TCPEXT_ENUM(name) TCPEXT_MIB_##name,
enum us_eth_mib { US_ETH_MIB(US_ETH_ENUM) US_ETH_MIB_MAX };
enum us_arp_mib { US_ARP_MIB(US_ARP_ENUM) US_ARP_MIB_MAX };
enum us_ip_mib { US_IP_MIB(US_IP_ENUM) US_IP_MIB_MAX };
enum us_icmp_mib { US_ICMP_MIB(US_ICMP_ENUM) US_ICMP_MIB_MAX };
enum us_udp_mib { US_UDP_MIB(US_UDP_ENUM) US_UDP_MIB_MAX };
enum us_tcp_mib { US_TCP_MIB(US_TCP_ENUM) US_TCP_MIB_MAX };
enum us_tcpext_mib { US_TCPEXT_MIB(US_TCPEXT_ENUM) US_TCPEXT_MIB_MAX };
#undef US_ETH_ENUM
#undef US_ARP_ENUM
#undef US_IP_ENUM
#undef US_ICMP_ENUM
#undef US_UDP_ENUM
#undef US_TCP_ENUM
#undef US_TCPEXT_ENUM

struct us_stats {
	uint64_t eth[US_ETH_MIB_MAX];
	uint64_t arp[US_ARP_MIB_MAX];
	uint64_t ip[US_IP_MIB_MAX];
	uint64_t icmp[US_ICMP_MIB_MAX];
	uint64_t udp[US_UDP_MIB_MAX];
	uint64_t tcp[US_TCP_MIB_MAX];
	uint64_t tcpext[US_TCPEXT_MIB_MAX];
};

struct us_stack;

const struct us_stats *us_stack_stats(const struct us_stack *st);
/* One counter by group and name ("Ip", "InHdrErrors"); -1 when there is no such counter. */
int64_t us_stats_get(const struct us_stack *st, const char *group, const char *name);
/* All counters as `netstat -s` prints Linux's: a heading per group, then a line per counter in
 * netstat's own words where it has them ("    3 total packets received"), "    Name: N" where it has
 * none; optional lines and TcpExt only when not zero, as netstat does. Then the devices (as
 * `ip -s link`) and the skb pool. */
void us_stats_dump(const struct us_stack *st, FILE *out);
/* Every counter, one line per group for scripts: "Ip: InReceives=3 InHdrErrors=0 ...", then
 * "Dev NAME: rx_packets=..." per device and "Skb: allocated=...". */
void us_stats_dump_raw(const struct us_stack *st, FILE *out);
/* Call fn for every counter of every group, in the order the dumps print them. */
void us_stats_foreach(const struct us_stack *st,
		      void (*fn)(void *arg, const char *group, const char *name, uint64_t value), void *arg);

/* What a counter counts. Every discard in the stack moves exactly one DROP counter (its reason). A
 * DROP_DETAIL counter moves together with the reason it refines, because Linux moves both (Ip
 * InCsumErrors with InHdrErrors, Ip ReasmOverlaps with ReasmFails, TcpExt ListenOverflows with
 * ListenDrops): *reason (when not NULL) is set to that reason's name in the same group. */
enum us_stats_kind { US_STATS_OTHER, US_STATS_DROP, US_STATS_DROP_DETAIL };
enum us_stats_kind us_stats_kind(const char *group, const char *name, const char **reason);

/* The socket table as `ss -tuanieo` prints Linux's: a row per TCP, UDP and ping socket (Netid, State,
 * Recv-Q, Send-Q, Local Address:Port, Peer Address:Port, the pending timer as timer:(on,204ms,0), the
 * descriptor as fd:N) and, under each TCP socket but a TIME-WAIT one, its `ss -ti` line (ts sack
 * newreno wscale:7,7 rto:204 rtt:0.5/0.25 mss:1448 cwnd:10 bytes_acked:... segs_out:...
 * retrans:0/0 rcv_space:...). Takes the stack lock: call it from any thread. */
void us_sockets_dump(struct us_stack *st, FILE *out);

/* The control channel: a UNIX stream socket at path (a stale socket file there is replaced; any other
 * file is -EEXIST) that the stack's loop serves, threaded or driven. A client writes one line -
 * "stats", "sockets", "all" (also an empty line) or "help" - and reads the reply to EOF (ustack-stat
 * does this). Closed by us_stack_ctl_close or us_stack_destroy, which remove the file. 0 or -errno
 * (-EALREADY when open). */
int us_stack_ctl_open(struct us_stack *st, const char *path);
void us_stack_ctl_close(struct us_stack *st);
/* Async-signal-safe: the stack prints us_stats_dump and us_sockets_dump to its dump stream at its
 * next loop round (for a SIGUSR1 handler). */
void us_stack_request_dump(struct us_stack *st);
/* Print both dumps to the dump stream every interval_ns of the stack's clock (0: stop). 0 or -errno. */
int us_stack_set_dump_interval(struct us_stack *st, uint64_t interval_ns);
/* Where requested and periodic dumps go (NULL: stderr). The stack does not close it. 0 or -errno. */
int us_stack_set_dump_stream(struct us_stack *st, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
