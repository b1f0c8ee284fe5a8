/*
 * stats.c - reading and printing the counters (the lists live in include/ustack/stats.h).
 */
#include "core.h"

#include <inttypes.h>
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

void us_stats_dump(const struct us_stack *st, FILE *out)
{
	struct skb_pool_stats ps;

	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		const uint64_t *v = group_values(&st->stats, &groups[g]);
		fprintf(out, "%s:", groups[g].group);
		for (size_t i = 0; i < groups[g].n; i++)
			fprintf(out, " %s=%" PRIu64, groups[g].names[i], v[i]);
		fprintf(out, "\n");
	}
	for (int i = 0; i < US_MAX_IFACES; i++) {
		const struct netdev *d = st->ifaces[i].dev;
		if (!d)
			continue;
		fprintf(out,
			"Dev %s: rx_packets=%" PRIu64 " rx_bytes=%" PRIu64 " rx_dropped=%" PRIu64
			" rx_errors=%" PRIu64 " rx_ring_full=%" PRIu64 " tx_packets=%" PRIu64
			" tx_bytes=%" PRIu64 " tx_dropped=%" PRIu64 " tx_errors=%" PRIu64
			" tx_ring_full=%" PRIu64 "\n",
			d->name, d->stats.rx_packets, d->stats.rx_bytes, d->stats.rx_dropped,
			d->stats.rx_errors, d->stats.rx_ring_full, d->stats.tx_packets, d->stats.tx_bytes,
			d->stats.tx_dropped, d->stats.tx_errors, d->stats.tx_ring_full);
	}
	skb_pool_get_stats(st->pool, &ps);
	fprintf(out,
		"Skb: allocated=%" PRIu64 " freed=%" PRIu64 " in_use=%" PRIu64 " peak=%" PRIu64
		" alloc_failures=%" PRIu64 " misuse=%" PRIu64 "\n",
		ps.allocated, ps.freed, ps.in_use, ps.peak, ps.alloc_failures, ps.misuse);
}
