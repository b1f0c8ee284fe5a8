/*
 * common.c - option handling and stack set-up shared by the examples.
 */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

volatile sig_atomic_t ex_stop;

static void ex_on_signal(int sig)
{
	(void)sig;
	ex_stop = 1;
}

void ex_signals(void)
{
	signal(SIGINT, ex_on_signal);
	signal(SIGTERM, ex_on_signal);
}

void ex_opts_init(struct ex_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->tap = "tap0";
	o->addr = "198.18.0.2/24";
}

int ex_opt(struct ex_opts *o, int c, const char *arg)
{
	switch (c) {
	case 0x100: o->tap = arg; return 1;
	case 0x101: o->addr = arg; return 1;
	case 0x102: o->gw = arg; return 1;
	case 0x103: o->pcap = arg; return 1;
	case 0x104: o->mac = arg; return 1;
	default: return 0;
	}
}

static void ex_die(const char *what, const char *detail)
{
	fprintf(stderr, "%s: %s\n", what, detail);
	exit(1);
}

struct us_stack *ex_stack_up(const struct ex_opts *o, uint32_t *addr_out)
{
	struct netdev_config nc = { .name = o->tap };
	struct us_stack *st = us_stack_create(NULL);
	struct netdev *dev;
	uint32_t addr, gw;
	uint8_t plen, gwlen;
	int ifindex, r;

	if (!st)
		ex_die("us_stack_create", strerror(errno));
	if (us_parse_ipv4(o->addr, &addr, &plen) != 0)
		ex_die("bad --addr", o->addr);
	if (o->mac && netdev_parse_mac(o->mac, nc.mac) != 0)
		ex_die("bad --mac", o->mac);
	nc.pool = us_stack_pool(st);
	nc.clock = us_stack_clock(st); /* the device stamps frames with the stack's time */
	dev = netdev_tap_open(&nc);
	if (!dev)
		ex_die(o->tap, strerror(errno));
	if (o->pcap) {
		struct netdev *cap = netdev_capture_wrap(dev, o->pcap);
		if (!cap)
			ex_die(o->pcap, strerror(errno));
		dev = cap;
	}
	ifindex = us_stack_add_netdev(st, dev);
	if (ifindex < 0)
		ex_die("us_stack_add_netdev", strerror(-ifindex));
	r = us_addr_add(st, ifindex, addr, plen);
	if (r < 0)
		ex_die("us_addr_add", strerror(-r));
	if (o->gw) {
		if (us_parse_ipv4(o->gw, &gw, &gwlen) != 0)
			ex_die("bad --gw", o->gw);
		r = us_route_add(st, 0, 0, gw, ifindex);
		if (r < 0)
			ex_die("us_route_add", strerror(-r));
	}
	if (addr_out)
		*addr_out = addr;
	return st;
}

int ex_stack_down(struct us_stack *st, int status)
{
	fprintf(stderr, "\n");
	us_stats_dump(st, stderr);
	if (us_stack_destroy(st) != 0) {
		fprintf(stderr, "skbs leaked\n");
		return 1;
	}
	return status;
}
