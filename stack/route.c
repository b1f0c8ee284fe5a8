/*
 * route.c - the IPv4 routing table: longest prefix match over a small table kept sorted by prefix
 * length, so the first match is the answer. A route without a gateway is on-link (the destination
 * itself is the next hop).
 */
#include "core.h"

#include <errno.h>
#include <string.h>

#include "wire/ipv4.h"

static uint32_t mask_of(uint8_t len)
{
	return len == 0 ? 0 : ~(uint32_t)0 << (32 - len);
}

int route_table_add(struct route_table *t, uint32_t dst, uint8_t prefix_len, uint32_t gw, int ifindex)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->r[i].dst == dst && t->r[i].prefix_len == prefix_len)
			return -EEXIST;
	if (t->n == US_MAX_ROUTES)
		return -ENOSPC;
	/* keep longest prefixes first; among equals, the older route first */
	for (i = t->n; i > 0 && t->r[i - 1].prefix_len < prefix_len; i--)
		t->r[i] = t->r[i - 1];
	t->r[i] = (struct route){ .dst = dst, .mask = mask_of(prefix_len), .prefix_len = prefix_len,
				  .gw = gw, .ifindex = ifindex };
	t->n++;
	return 0;
}

int route_table_del(struct route_table *t, uint32_t dst, uint8_t prefix_len)
{
	for (int i = 0; i < t->n; i++) {
		if (t->r[i].dst == dst && t->r[i].prefix_len == prefix_len) {
			memmove(&t->r[i], &t->r[i + 1], (size_t)(t->n - i - 1) * sizeof(t->r[0]));
			t->n--;
			return 0;
		}
	}
	return -ESRCH;
}

int route_lookup(struct us_stack *st, uint32_t daddr, struct rt_result *out)
{
	struct route_table *t = &st->routes;

	if (ipv4_is_lbcast(daddr)) {
		/* the limited broadcast goes out of the first interface with an address */
		for (int i = 0; i < US_MAX_IFACES; i++) {
			struct us_iface *ifc = &st->ifaces[i];
			if (ifc->dev && ifc->has_addr) {
				*out = (struct rt_result){ ifc, daddr, ifc->addr };
				return 0;
			}
		}
		return -ENETUNREACH;
	}
	for (int i = 0; i < t->n; i++) {
		const struct route *r = &t->r[i];
		struct us_iface *ifc;

		if ((daddr & r->mask) != r->dst)
			continue;
		ifc = us_iface_get(st, r->ifindex);
		if (!ifc || !ifc->has_addr)
			continue;
		out->iface = ifc;
		/* RFC 1112 §6.2: a host group is sent locally to the group address, not to a gateway */
		out->nexthop = r->gw && !ipv4_is_multicast(daddr) ? r->gw : daddr;
		out->saddr = ifc->addr;
		return 0;
	}
	return -ENETUNREACH;
}
