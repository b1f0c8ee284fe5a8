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
/* All counters, a line per group as /proc/net/snmp prints them ("Ip: InReceives 3 InHdrErrors 0 ..."
 * would be two lines there; here it is "Ip: InReceives=3 InHdrErrors=0 ..."), then the devices and
 * the skb pool. */
void us_stats_dump(const struct us_stack *st, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
