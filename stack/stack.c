/*
 * stack.c - the stack object and its loop.
 *
 * us_stack_poll() is one round, as NAPI does it: read the clock once, take up to rx_budget frames
 * from each device and hand each to eth_rcv(), run the timers that are due, flush every device's
 * transmit ring, and return the earliest deadline (timers and devices). Nothing in a round scans all
 * connections or all neighbours: work is found through the timer queue.
 */
#include "core.h"
#include "ctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "latency.h"
#include "ustack/socket.h"
#include "wire/ipv4.h"

struct us_stack *us_stack_create(const struct us_stack_config *cfg)
{
	struct us_stack *st = calloc(1, sizeof(*st));
	uint64_t seed;
	int err = 0;

	if (!st) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&st->lock, NULL);
	if (cfg)
		st->cfg = *cfg;
	if (!st->cfg.rx_budget)
		st->cfg.rx_budget = 64;
	if (!st->cfg.default_ttl)
		st->cfg.default_ttl = 64;
	if (st->cfg.clock) {
		st->clock = st->cfg.clock;
	} else {
		us_clock_init_monotonic(&st->own_clock);
		st->clock = &st->own_clock;
	}
	st->now = us_clock_now(st->clock);
	st->created_ns = st->now;
	seed = st->cfg.seed;
	if (!seed && getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		seed = st->now ^ (uint64_t)(uintptr_t)st;
	us_rand_seed(&st->rand, seed);
	st->ip_id = (uint16_t)us_rand64(st);
	st->pool = skb_pool_create(&st->cfg.pool);
	if (!st->pool || timer_queue_init(&st->timers, 0) != 0 || arp_init(st) != 0 ||
	    ip_frag_init(st) != 0 || udp_init(st) != 0 || (err = tcp_init(st)) != 0) {
		us_stack_destroy(st);
		errno = err == -EINVAL ? EINVAL : ENOMEM; /* a configuration TCP refuses, or memory */
		return NULL;
	}
	/* the first stack is the one us_socket() uses until told otherwise */
	if (!us_stack_get_default())
		us_stack_set_default(st);
	return st;
}

uint64_t us_stack_destroy(struct us_stack *st)
{
	uint64_t left;

	if (!st)
		return 0;
	sock_stack_destroy(st);
	stack_ctl_destroy(st); /* after the thread has stopped, before the timers go */
	tcp_destroy(st);
	udp_destroy(st);
	icmp_destroy(st);
	ip_frag_destroy(st);
	arp_destroy(st);
	for (int i = 0; i < US_MAX_IFACES; i++)
		netdev_close(st->ifaces[i].dev);
	timer_queue_destroy(&st->timers);
	latency_destroy(st);
	left = skb_pool_destroy(st->pool);
	pthread_mutex_destroy(&st->lock);
	free(st);
	return left;
}

int us_stack_add_netdev(struct us_stack *st, struct netdev *dev)
{
	if (!st || !dev)
		return -EINVAL;
	for (int i = 0; i < US_MAX_IFACES; i++) {
		if (!st->ifaces[i].dev) {
			st->ifaces[i].dev = dev;
			st->ifaces[i].ifindex = i + 1;
			dev->ifindex = i + 1;
			latency_attach(st, dev);
			return i + 1;
		}
	}
	return -ENOSPC;
}

struct us_iface *us_iface_get(struct us_stack *st, int ifindex)
{
	if (ifindex < 1 || ifindex > US_MAX_IFACES || !st->ifaces[ifindex - 1].dev)
		return NULL;
	return &st->ifaces[ifindex - 1];
}

struct netdev *us_stack_netdev(const struct us_stack *st, int ifindex)
{
	if (ifindex < 1 || ifindex > US_MAX_IFACES)
		return NULL;
	return st->ifaces[ifindex - 1].dev;
}

struct us_iface *us_iface_by_addr(struct us_stack *st, uint32_t addr)
{
	for (int i = 0; i < US_MAX_IFACES; i++) {
		struct us_iface *ifc = &st->ifaces[i];
		if (ifc->dev && ifc->has_addr && ifc->addr == addr)
			return ifc;
	}
	return NULL;
}

static uint32_t prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : ~(uint32_t)0 << (32 - len);
}

bool us_addr_is_broadcast(const struct us_stack *st, uint32_t addr)
{
	if (addr == 0xffffffffu)
		return true;
	for (int i = 0; i < US_MAX_IFACES; i++)
		if (st->ifaces[i].bcast == addr && addr != 0)
			return true;
	return false;
}

int us_addr_add(struct us_stack *st, int ifindex, uint32_t addr, uint8_t prefix_len)
{
	struct us_iface *ifc = us_iface_get(st, ifindex);
	uint32_t mask;
	int r;

	if (!ifc || prefix_len > 32 || ipv4_is_zeronet(addr) || ipv4_is_multicast(addr) ||
	    ipv4_is_lbcast(addr) || ipv4_is_loopback(addr))
		return -EINVAL;
	mask = prefix_mask(prefix_len);
	if (ifc->has_addr)
		route_table_del(&st->routes, ifc->addr & prefix_mask(ifc->prefix_len), ifc->prefix_len);
	ifc->addr = addr;
	ifc->prefix_len = prefix_len;
	ifc->has_addr = true;
	/* RFC 919/922 directed broadcast; a /31 (RFC 3021) or /32 has none */
	ifc->bcast = prefix_len < 31 ? (addr & mask) | ~mask : 0;
	r = route_table_add(&st->routes, addr & mask, prefix_len, 0, ifindex);
	if (r < 0 && r != -EEXIST)
		return r;
	st->now = us_clock_now(st->clock);
	arp_announce(st, ifc);
	return 0;
}

int us_route_add(struct us_stack *st, uint32_t dst, uint8_t prefix_len, uint32_t gw, int ifindex)
{
	struct us_iface *ifc = us_iface_get(st, ifindex);

	if (!ifc || prefix_len > 32)
		return -EINVAL;
	/* a gateway must be on the interface's own network, as Linux insists ("Nexthop has invalid
	 * gateway"): otherwise the stack would ARP for an address no one on the link owns */
	if (gw && (!ifc->has_addr ||
		   (gw & prefix_mask(ifc->prefix_len)) != (ifc->addr & prefix_mask(ifc->prefix_len))))
		return -ENETUNREACH;
	return route_table_add(&st->routes, dst & prefix_mask(prefix_len), prefix_len, gw, ifindex);
}

int us_route_del(struct us_stack *st, uint32_t dst, uint8_t prefix_len)
{
	if (prefix_len > 32)
		return -EINVAL;
	return route_table_del(&st->routes, dst & prefix_mask(prefix_len), prefix_len);
}

int us_neigh_add(struct us_stack *st, int ifindex, uint32_t addr, const uint8_t mac[6])
{
	if (!us_iface_get(st, ifindex) || !mac)
		return -EINVAL;
	st->now = us_clock_now(st->clock);
	return arp_neigh_add(st, ifindex, addr, mac);
}

int us_neigh_del(struct us_stack *st, int ifindex, uint32_t addr)
{
	if (!us_iface_get(st, ifindex))
		return -EINVAL;
	return arp_neigh_del(st, ifindex, addr);
}

const char *us_neigh_state(const struct us_stack *st, uint32_t addr, uint8_t mac[6])
{
	return arp_neigh_state(st, addr, mac);
}

uint64_t us_rand64(struct us_stack *st)
{
	return us_rand_next(&st->rand);
}

uint64_t us_stack_now(const struct us_stack *st)
{
	return us_clock_now(st->clock);
}

struct skb_pool *us_stack_pool(const struct us_stack *st)
{
	return st->pool;
}

struct us_clock *us_stack_clock(struct us_stack *st)
{
	return st->clock;
}

uint64_t stack_poll_locked(struct us_stack *st)
{
	struct sk_buff *batch[NETDEV_MAX_BATCH];
	uint64_t next, t;
	uint32_t n;

	st->now = us_clock_now(st->clock);
	for (int i = 0; i < US_MAX_IFACES; i++) {
		struct netdev *dev = st->ifaces[i].dev;
		uint32_t budget = st->cfg.rx_budget;

		if (!dev)
			continue;
		netdev_poll(dev, budget);
		while ((n = netdev_rx_burst(dev, batch, NETDEV_MAX_BATCH)) > 0)
			for (uint32_t k = 0; k < n; k++)
				eth_rcv(st, batch[k]);
	}
	timer_run(&st->timers, st->now);
	/* observability: a requested dump, the control channel (a relaxed load when neither is in use) */
	if (st->ctl || atomic_load_explicit(&st->dump_request, memory_order_relaxed))
		stack_ctl_round(st);
	next = timer_next_deadline(&st->timers);
	for (int i = 0; i < US_MAX_IFACES; i++) {
		struct netdev *dev = st->ifaces[i].dev;

		if (!dev)
			continue;
		netdev_flush(dev);
		t = netdev_next_deadline(dev);
		if (t < next)
			next = t;
	}
	if (st->sock)
		sock_run_wakes(st);
	return next;
}

uint64_t us_stack_poll(struct us_stack *st)
{
	uint64_t next;

	pthread_mutex_lock(&st->lock);
	next = stack_poll_locked(st);
	pthread_mutex_unlock(&st->lock);
	return next;
}

void stack_flush_devices(struct us_stack *st)
{
	for (int i = 0; i < US_MAX_IFACES; i++)
		if (st->ifaces[i].dev)
			netdev_flush(st->ifaces[i].dev);
}

void us_stack_wait(struct us_stack *st, int timeout_ms)
{
	struct pollfd pfd[US_MAX_IFACES];
	uint64_t next = us_stack_poll(st), now = us_clock_now(st->clock);
	int nfds = 0, ms;

	for (int i = 0; i < US_MAX_IFACES; i++) {
		int fd = st->ifaces[i].dev ? netdev_fd(st->ifaces[i].dev) : -1;
		if (fd >= 0)
			pfd[nfds++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	if (next <= now)
		ms = 0;
	else if (next == US_TIME_NEVER)
		ms = timeout_ms;
	else {
		uint64_t wait = (next - now + US_NSEC_PER_MSEC - 1) / US_NSEC_PER_MSEC;
		ms = wait > INT32_MAX ? INT32_MAX : (int)wait;
		if (timeout_ms >= 0 && timeout_ms < ms)
			ms = timeout_ms;
	}
	if (ms != 0 && st->clock->kind == US_CLOCK_MONOTONIC)
		poll(pfd, (nfds_t)nfds, ms);
}

int us_parse_ipv4(const char *s, uint32_t *addr, uint8_t *prefix_len)
{
	char buf[32];
	const char *slash;
	struct in_addr in;
	uint8_t len = 32;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(s, '/');
	if (slash) {
		char *end;
		long l;
		/* only decimal digits: strtol alone would take "/ 8", "/+8" and "/-0" */
		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		l = strtol(slash + 1, &end, 10);
		if (*end || l > 32)
			return -EINVAL;
		len = (uint8_t)l;
		buf[slash - s] = '\0';
	}
	if (inet_pton(AF_INET, buf, &in) != 1)
		return -EINVAL;
	*addr = ntohl(in.s_addr);
	if (prefix_len)
		*prefix_len = len;
	else if (slash)
		return -EINVAL;
	return 0;
}

char *us_format_ipv4(uint32_t addr, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
	return buf;
}
