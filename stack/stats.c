/*
 * stats.c - reading and printing the counters (the lists live in include/ustack/stats.h).
 */
#include "core.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#define US_MIB_NAME(name) #name,
static const char *const eth_names[] = { US_ETH_MIB(US_MIB_NAME) };
static const char *const arp_names[] = { US_ARP_MIB(US_MIB_NAME) };
static const char *const ip_names[] = { US_IP_MIB(US_MIB_NAME) };
static const char *const icmp_names[] = { US_ICMP_MIB(US_MIB_NAME) };
static const char *const udp_names[] = { US_UDP_MIB(US_MIB_NAME) };
static const char *const tcp_names[] = { US_TCP_MIB(US_MIB_NAME) };
static const char *const tcpext_names[] = { US_TCPEXT_MIB(US_MIB_NAME) };
#undef US_MIB_NAME

struct mib_group {
	const char *group;
	const char *const *names;
	size_t n;
	size_t offset; /* of the array in struct us_stats */
};

static const struct mib_group groups[] = {
	{ "Eth", eth_names, US_ETH_MIB_MAX, offsetof(struct us_stats, eth) },
	{ "Arp", arp_names, US_ARP_MIB_MAX, offsetof(struct us_stats, arp) },
	{ "Ip", ip_names, US_IP_MIB_MAX, offsetof(struct us_stats, ip) },
	{ "Icmp", icmp_names, US_ICMP_MIB_MAX, offsetof(struct us_stats, icmp) },
	{ "Udp", udp_names, US_UDP_MIB_MAX, offsetof(struct us_stats, udp) },
	{ "Tcp", tcp_names, US_TCP_MIB_MAX, offsetof(struct us_stats, tcp) },
	{ "TcpExt", tcpext_names, US_TCPEXT_MIB_MAX, offsetof(struct us_stats, tcpext) },
};

static const uint64_t *group_values(const struct us_stats *s, const struct mib_group *g)
{
	return (const uint64_t *)(const void *)((const char *)s + g->offset);
}

const struct us_stats *us_stack_stats(const struct us_stack *st)
{
	return &st->stats;
}

int64_t us_stats_get(const struct us_stack *st, const char *group, const char *name)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		if (strcmp(groups[g].group, group) != 0)
			continue;
		for (size_t i = 0; i < groups[g].n; i++)
			if (strcmp(groups[g].names[i], name) == 0)
				return (int64_t)group_values(&st->stats, &groups[g])[i];
	}
	return -1;
}

/*
 * netstat -s's sentences (net-tools' statistics.c) for the counters it knows, so the dump reads as
 * Linux's does; a counter without one prints as "Name: N". opt: printed only when not zero, as
 * netstat does for its optional lines (all of TcpExt). icmp_in/icmp_out: a line of netstat's ICMP
 * input or output histogram.
 */
enum phrase_kind { PH_ALWAYS, PH_OPT, PH_ICMP_IN, PH_ICMP_OUT };

struct phrase {
	const char *group, *name;
	const char *before, *after; /* printed around the value */
	enum phrase_kind kind;
};

static const struct phrase phrases[] = {
	{ "Ip", "InReceives", "", " total packets received", PH_ALWAYS },
	{ "Ip", "InHdrErrors", "", " with invalid headers", PH_OPT },
	{ "Ip", "InAddrErrors", "", " with invalid addresses", PH_OPT },
	{ "Ip", "InUnknownProtos", "", " with unknown protocol", PH_OPT },
	{ "Ip", "InDiscards", "", " incoming packets discarded", PH_ALWAYS },
	{ "Ip", "InDelivers", "", " incoming packets delivered", PH_ALWAYS },
	{ "Ip", "OutRequests", "", " requests sent out", PH_ALWAYS },
	{ "Ip", "OutDiscards", "", " outgoing packets dropped", PH_OPT },
	{ "Ip", "OutNoRoutes", "", " dropped because of missing route", PH_OPT },
	{ "Ip", "ReasmTimeout", "", " fragments dropped after timeout", PH_OPT },
	{ "Ip", "ReasmReqds", "", " reassemblies required", PH_OPT },
	{ "Ip", "ReasmOKs", "", " packets reassembled ok", PH_OPT },
	{ "Ip", "ReasmFails", "", " packet reassemblies failed", PH_OPT },
	{ "Ip", "FragOKs", "", " outgoing packets fragmented ok", PH_OPT },
	{ "Ip", "FragFails", "", " outgoing packets failed fragmentation", PH_OPT },
	{ "Ip", "FragCreates", "", " fragments created", PH_OPT },
	{ "Icmp", "InMsgs", "", " ICMP messages received", PH_ALWAYS },
	{ "Icmp", "InErrors", "", " input ICMP message failed", PH_ALWAYS },
	{ "Icmp", "InDestUnreachs", "destination unreachable: ", "", PH_ICMP_IN },
	{ "Icmp", "InTimeExcds", "timeout in transit: ", "", PH_ICMP_IN },
	{ "Icmp", "InEchos", "echo requests: ", "", PH_ICMP_IN },
	{ "Icmp", "InEchoReps", "echo replies: ", "", PH_ICMP_IN },
	{ "Icmp", "OutMsgs", "", " ICMP messages sent", PH_ALWAYS },
	{ "Icmp", "OutErrors", "", " ICMP messages failed", PH_ALWAYS },
	{ "Icmp", "OutDestUnreachs", "destination unreachable: ", "", PH_ICMP_OUT },
	{ "Icmp", "OutTimeExcds", "time exceeded: ", "", PH_ICMP_OUT },
	{ "Icmp", "OutEchos", "echo requests: ", "", PH_ICMP_OUT },
	{ "Icmp", "OutEchoReps", "echo replies: ", "", PH_ICMP_OUT },
	{ "Tcp", "ActiveOpens", "", " active connection openings", PH_ALWAYS },
	{ "Tcp", "PassiveOpens", "", " passive connection openings", PH_ALWAYS },
	{ "Tcp", "AttemptFails", "", " failed connection attempts", PH_ALWAYS },
	{ "Tcp", "EstabResets", "", " connection resets received", PH_ALWAYS },
	{ "Tcp", "CurrEstab", "", " connections established", PH_ALWAYS },
	{ "Tcp", "InSegs", "", " segments received", PH_ALWAYS },
	{ "Tcp", "OutSegs", "", " segments sent out", PH_ALWAYS },
	{ "Tcp", "RetransSegs", "", " segments retransmitted", PH_ALWAYS },
	{ "Tcp", "InErrs", "", " bad segments received", PH_ALWAYS },
	{ "Tcp", "OutRsts", "", " resets sent", PH_ALWAYS },
	{ "Udp", "InDatagrams", "", " packets received", PH_ALWAYS },
	{ "Udp", "NoPorts", "", " packets to unknown port received", PH_ALWAYS },
	{ "Udp", "InErrors", "", " packet receive errors", PH_ALWAYS },
	{ "Udp", "OutDatagrams", "", " packets sent", PH_ALWAYS },
	{ "Udp", "RcvbufErrors", "", " receive buffer errors", PH_ALWAYS },
	{ "Udp", "SndbufErrors", "", " send buffer errors", PH_ALWAYS },
	{ "TcpExt", "SyncookiesSent", "", " SYN cookies sent", PH_OPT },
	{ "TcpExt", "SyncookiesRecv", "", " SYN cookies received", PH_OPT },
	{ "TcpExt", "SyncookiesFailed", "", " invalid SYN cookies received", PH_OPT },
	{ "TcpExt", "ListenOverflows", "", " times the listen queue of a socket overflowed", PH_OPT },
	{ "TcpExt", "ListenDrops", "", " SYNs to LISTEN sockets dropped", PH_OPT },
	{ "TcpExt", "TCPTimeouts", "", " other TCP timeouts", PH_OPT },
	{ "TcpExt", "TCPFastRetrans", "", " fast retransmits", PH_OPT },
	{ "TcpExt", "DelayedACKs", "", " delayed acks sent", PH_OPT },
	{ "TcpExt", "TCPPureAcks", "", " acknowledgments not containing data payload received", PH_OPT },
	{ "TcpExt", "TCPHPHits", "", " packet headers predicted", PH_OPT },
	{ "TcpExt", "TCPHPAcks", "", " predicted acknowledgments", PH_OPT },
	{ "TcpExt", "PAWSEstab", "", " packets rejected in established connections because of timestamp",
	  PH_OPT },
	{ "TcpExt", "TCPAbortOnData", "", " connections reset due to unexpected data", PH_OPT },
	{ "TcpExt", "TCPAbortOnClose", "", " connections reset due to early user close", PH_OPT },
	{ "TcpExt", "TCPAbortOnTimeout", "", " connections aborted due to timeout", PH_OPT },
	{ "TcpExt", "TCPAbortOnLinger", "", " connections aborted after user close in linger timeout",
	  PH_OPT },
	{ "TcpExt", "TW", "", " TCP sockets finished time wait in fast timer", PH_OPT },
	{ "TcpExt", "TCPSackRecovery", "", " times recovered from packet loss by selective acknowledgements",
	  PH_OPT },
	{ "TcpExt", "TCPDSACKRecv", "", " DSACKs received", PH_OPT },
	{ "TcpExt", "TCPDSACKOldSent", "", " DSACKs sent for old packets", PH_OPT },
	{ "TcpExt", "TCPDSACKOfoSent", "", " DSACKs sent for out of order packets", PH_OPT },
};

static const struct phrase *phrase_find(const char *group, const char *name)
{
	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (strcmp(phrases[i].group, group) == 0 && strcmp(phrases[i].name, name) == 0)
			return &phrases[i];
	return NULL;
}

static void dump_group_netstat(const struct mib_group *g, const uint64_t *v, FILE *out)
{
	/* TcpExt is /proc/net/netstat's: netstat -s prints only what is not zero there, and a counter
	 * it has no sentence for only when not zero; Eth and Arp are ours, printed whole */
	bool ext = strcmp(g->group, "TcpExt") == 0;
	bool linux_group = strcmp(g->group, "Eth") != 0 && strcmp(g->group, "Arp") != 0;
	enum phrase_kind in_hist = PH_ALWAYS; /* the histogram heading last printed, if any */

	fprintf(out, "%s:\n", g->group);
	for (size_t i = 0; i < g->n; i++) {
		const struct phrase *p = phrase_find(g->group, g->names[i]);

		if (!p) {
			if (!linux_group || v[i])
				fprintf(out, "    %s: %" PRIu64 "\n", g->names[i], v[i]);
			continue;
		}
		if ((p->kind != PH_ALWAYS || ext) && v[i] == 0)
			continue;
		if (p->kind == PH_ICMP_IN || p->kind == PH_ICMP_OUT) {
			if (in_hist != p->kind)
				fprintf(out, "    ICMP %s histogram:\n", p->kind == PH_ICMP_IN ? "input" : "output");
			in_hist = p->kind;
			fprintf(out, "        %s%" PRIu64 "%s\n", p->before, v[i], p->after);
			continue;
		}
		in_hist = PH_ALWAYS;
		fprintf(out, "    %s%" PRIu64 "%s\n", p->before, v[i], p->after);
	}
}

static void dump_devices(const struct us_stack *st, FILE *out, bool netstat)
{
	for (int i = 0; i < US_MAX_IFACES; i++) {
		const struct netdev *d = st->ifaces[i].dev;
		const struct netdev_stats *s;

		if (!d)
			continue;
		s = &d->stats;
		if (netstat) {
			/* as ip -s link prints a device */
			fprintf(out,
				"Dev %s:\n"
				"    RX: %" PRIu64 " packets %" PRIu64 " bytes %" PRIu64 " dropped %" PRIu64
				" errors %" PRIu64 " ring full\n"
				"    TX: %" PRIu64 " packets %" PRIu64 " bytes %" PRIu64 " dropped %" PRIu64
				" errors %" PRIu64 " ring full\n",
				d->name, s->rx_packets, s->rx_bytes, s->rx_dropped, s->rx_errors, s->rx_ring_full,
				s->tx_packets, s->tx_bytes, s->tx_dropped, s->tx_errors, s->tx_ring_full);
			continue;
		}
		fprintf(out,
			"Dev %s: rx_packets=%" PRIu64 " rx_bytes=%" PRIu64 " rx_dropped=%" PRIu64
			" rx_errors=%" PRIu64 " rx_ring_full=%" PRIu64 " tx_packets=%" PRIu64
			" tx_bytes=%" PRIu64 " tx_dropped=%" PRIu64 " tx_errors=%" PRIu64
			" tx_ring_full=%" PRIu64 " rx_vnet_errors=%" PRIu64 "\n",
			d->name, s->rx_packets, s->rx_bytes, s->rx_dropped, s->rx_errors, s->rx_ring_full,
			s->tx_packets, s->tx_bytes, s->tx_dropped, s->tx_errors, s->tx_ring_full,
			s->rx_vnet_errors);
	}
}

static void dump_pool(const struct us_stack *st, FILE *out, bool netstat)
{
	struct skb_pool_stats ps;

	skb_pool_get_stats(st->pool, &ps);
	fprintf(out,
		netstat ? "Skb:\n    %" PRIu64 " buffers allocated\n    %" PRIu64 " freed\n    %" PRIu64
			  " in use\n    %" PRIu64 " in use at the peak\n    %" PRIu64
			  " allocations failed\n    %" PRIu64 " misuses caught\n"
			: "Skb: allocated=%" PRIu64 " freed=%" PRIu64 " in_use=%" PRIu64 " peak=%" PRIu64
			  " alloc_failures=%" PRIu64 " misuse=%" PRIu64 "\n",
		ps.allocated, ps.freed, ps.in_use, ps.peak, ps.alloc_failures, ps.misuse);
}

void us_stats_dump(const struct us_stack *st, FILE *out)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		dump_group_netstat(&groups[g], group_values(&st->stats, &groups[g]), out);
	dump_devices(st, out, true);
	dump_pool(st, out, true);
}

void us_stats_dump_raw(const struct us_stack *st, FILE *out)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		const uint64_t *v = group_values(&st->stats, &groups[g]);
		fprintf(out, "%s:", groups[g].group);
		for (size_t i = 0; i < groups[g].n; i++)
			fprintf(out, " %s=%" PRIu64, groups[g].names[i], v[i]);
		fprintf(out, "\n");
	}
	dump_devices(st, out, false);
	dump_pool(st, out, false);
}

void us_stats_foreach(const struct us_stack *st,
		      void (*fn)(void *arg, const char *group, const char *name, uint64_t value), void *arg)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		const uint64_t *v = group_values(&st->stats, &groups[g]);
		for (size_t i = 0; i < groups[g].n; i++)
			fn(arg, groups[g].group, groups[g].names[i], v[i]);
	}
}

/*
 * The drop counters: each counts packets (or, for reassembly, datagrams) thrown away for one reason,
 * and every discard in the stack moves exactly one of them. A detail counter is moved together with
 * the reason it refines, because Linux moves both (a bad IP checksum is InCsumErrors and InHdrErrors,
 * ip_rcv_core; an overlap is ReasmOverlaps and ReasmFails, ip_frag_queue; a full accept queue is
 * ListenOverflows and ListenDrops, tcp_v4_syn_recv_sock).
 */
struct drop_counter {
	const char *group, *name;
	const char *reason; /* a detail counter: the reason counter (same group) it refines; else NULL */
};

static const struct drop_counter drop_counters[] = {
	{ "Eth", "InRunts", NULL },
	{ "Eth", "InNotForUs", NULL },
	{ "Eth", "InUnknownType", NULL },
	{ "Arp", "InErrors", NULL },
	{ "Arp", "InNotForUs", NULL },
	{ "Arp", "UnresolvedDiscards", NULL },
	{ "Ip", "InHdrErrors", NULL },
	{ "Ip", "InCsumErrors", "InHdrErrors" },
	{ "Ip", "InAddrErrors", NULL },
	{ "Ip", "InUnknownProtos", NULL },
	{ "Ip", "InDiscards", NULL },
	{ "Ip", "InTruncatedPkts", NULL },
	{ "Ip", "OutDiscards", NULL },
	{ "Ip", "OutNoRoutes", NULL },
	{ "Ip", "FragFails", NULL },
	{ "Ip", "ReasmFails", NULL },
	{ "Ip", "ReasmTimeout", "ReasmFails" },
	{ "Ip", "ReasmOverlaps", "ReasmFails" },
	{ "Icmp", "InErrors", NULL },
	{ "Icmp", "InCsumErrors", "InErrors" },
	{ "Icmp", "OutErrors", NULL },
	{ "Icmp", "OutRateLimitGlobal", NULL },
	{ "Udp", "InErrors", NULL },
	{ "Udp", "InCsumErrors", "InErrors" },
	{ "Udp", "NoPorts", NULL },
	{ "Udp", "RcvbufErrors", NULL },
	{ "Udp", "SndbufErrors", NULL },
	{ "Tcp", "InErrs", NULL },
	{ "Tcp", "InCsumErrors", "InErrs" },
	{ "TcpExt", "ListenDrops", NULL },
	{ "TcpExt", "ListenOverflows", "ListenDrops" },
	{ "TcpExt", "SyncookiesFailed", NULL },
	{ "TcpExt", "PAWSEstab", NULL },
	{ "TcpExt", "TCPOFODrop", NULL },
	{ "TcpExt", "TCPRcvQDrop", NULL },
	{ "TcpExt", "TCPChallengeACK", NULL },
	{ "TcpExt", "TCPACKSkippedChallenge", NULL },
	{ "TcpExt", "TCPRstDiscards", NULL },
};

enum us_stats_kind us_stats_kind(const char *group, const char *name, const char **reason)
{
	for (size_t i = 0; i < sizeof(drop_counters) / sizeof(drop_counters[0]); i++) {
		const struct drop_counter *d = &drop_counters[i];

		if (strcmp(d->group, group) != 0 || strcmp(d->name, name) != 0)
			continue;
		if (reason)
			*reason = d->reason;
		return d->reason ? US_STATS_DROP_DETAIL : US_STATS_DROP;
	}
	if (reason)
		*reason = NULL;
	return US_STATS_OTHER;
}
