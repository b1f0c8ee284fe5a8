/*
 * stack_helper.c - the stack-under-test fixture and frame builders (see stack_helper.h).
 */
#include "stack_helper.h"

#include <string.h>

#include "wire/bytes.h"

const uint8_t ST_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
const uint8_t PEER_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
const uint8_t BCAST_MAC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void th_setup(struct th *t, bool peer_known)
{
	th_setup_vnet(t, peer_known, false);
}

void th_setup_vnet(struct th *t, bool peer_known, bool vnet_hdr)
{
	struct us_stack_config sc = { .seed = 42 };
	struct netdev_pair_config pc = { 0 };
	struct netdev *dev;

	memset(t, 0, sizeof(*t));
	us_clock_init_virtual(&t->clock, 1000 * US_NSEC_PER_SEC);
	sc.clock = &t->clock;
	t->st = us_stack_create(&sc);
	ck_assert_ptr_nonnull(t->st);
	pc.a = (struct netdev_config){ .pool = us_stack_pool(t->st), .clock = &t->clock, .name = "st0",
				       .vnet_hdr = vnet_hdr };
	memcpy(pc.a.mac, ST_MAC, 6);
	pc.b = (struct netdev_config){ .pool = t_pool, .clock = &t->clock, .name = "wire",
				       .vnet_hdr = vnet_hdr };
	memcpy(pc.b.mac, PEER_MAC, 6);
	ck_assert_int_eq(netdev_pair_create(&pc, &dev, &t->wire), 0);
	t->ifindex = us_stack_add_netdev(t->st, dev);
	ck_assert_int_eq(t->ifindex, 1);
	ck_assert_int_eq(us_addr_add(t->st, t->ifindex, ST_IP, 24), 0);
	us_stack_poll(t->st);
	th_drain(t); /* the gratuitous ARP */
	if (peer_known)
		ck_assert_int_eq(us_neigh_add(t->st, t->ifindex, PEER_IP, PEER_MAC), 0);
}

void th_teardown(struct th *t)
{
	th_drain(t);
	netdev_close(t->wire);
	ck_assert_uint_eq(us_stack_destroy(t->st), 0);
}

void th_send(struct th *t, const uint8_t *frame, uint32_t len)
{
	struct sk_buff *skb = skb_alloc(t_pool, SKB_MAX_HEADER + len);

	ck_assert_ptr_nonnull(skb);
	skb_reserve(skb, SKB_MAX_HEADER);
	skb_put_data(skb, frame, len);
	netdev_xmit(t->wire, skb);
	netdev_flush(t->wire);
	us_stack_poll(t->st);
}

void th_advance(struct th *t, uint64_t ns)
{
	us_clock_advance(&t->clock, ns);
	us_stack_poll(t->st);
}

int th_recv(struct th *t, uint8_t *buf, uint32_t size)
{
	struct sk_buff *skb;
	int n;

	us_stack_poll(t->st);
	netdev_poll(t->wire, 1);
	if (netdev_rx_burst(t->wire, &skb, 1) != 1)
		return -1;
	n = (int)skb->len;
	memcpy(buf, skb->data, skb->len < size ? skb->len : size);
	skb_free(skb);
	return n;
}

int th_drain(struct th *t)
{
	uint8_t buf[2048];
	int n = 0;

	while (th_recv(t, buf, sizeof(buf)) >= 0)
		n++;
	return n;
}

int64_t th_stat(struct th *t, const char *group, const char *name)
{
	int64_t v = us_stats_get(t->st, group, name);

	ck_assert_msg(v >= 0, "no counter %s %s", group, name);
	return v;
}

uint16_t th_csum(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t th_eth(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	put_be16(buf + 12, type);
	return 14;
}

uint32_t th_ipv4(uint8_t *buf, uint32_t saddr, uint32_t daddr, uint8_t proto, uint16_t id,
		 uint16_t frag, uint8_t ttl, const uint8_t *payload, uint32_t plen)
{
	uint8_t *ip = buf + th_eth(buf, ST_MAC, PEER_MAC, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	put_be16(ip + 2, (uint16_t)(20 + plen));
	put_be16(ip + 4, id);
	put_be16(ip + 6, frag);
	ip[8] = ttl;
	ip[9] = proto;
	put_be16(ip + 10, 0);
	put_be32(ip + 12, saddr);
	put_be32(ip + 16, daddr);
	put_be16(ip + 10, th_csum(ip, 20));
	if (plen)
		memcpy(ip + 20, payload, plen);
	return 14 + 20 + plen;
}

uint32_t th_echo(uint8_t *buf, uint32_t saddr, uint32_t daddr, uint16_t id, uint16_t seq,
		 const uint8_t *data, uint32_t dlen)
{
	uint8_t icmp[2048];

	ck_assert_uint_le(dlen + 8, sizeof(icmp));
	icmp[0] = 8;
	icmp[1] = 0;
	put_be16(icmp + 2, 0);
	put_be16(icmp + 4, id);
	put_be16(icmp + 6, seq);
	if (dlen)
		memcpy(icmp + 8, data, dlen);
	put_be16(icmp + 2, th_csum(icmp, 8 + dlen));
	return th_ipv4(buf, saddr, daddr, 1, 0x1234, 0, 64, icmp, 8 + dlen);
}

uint16_t th_udp_sum(uint32_t saddr, uint32_t daddr, const uint8_t *u, uint32_t ulen)
{
	static uint8_t p[12 + 65536];

	put_be32(p, saddr);
	put_be32(p + 4, daddr);
	p[8] = 0;
	p[9] = 17;
	put_be16(p + 10, (uint16_t)ulen);
	memcpy(p + 12, u, ulen);
	return th_csum(p, 12 + ulen);
}

uint32_t th_udp(uint8_t *buf, uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
		const uint8_t *data, uint32_t dlen)
{
	uint8_t u[2048];
	uint16_t c;

	ck_assert_uint_le(dlen + 8, sizeof(u));
	put_be16(u, sport);
	put_be16(u + 2, dport);
	put_be16(u + 4, (uint16_t)(8 + dlen));
	put_be16(u + 6, 0);
	if (dlen)
		memcpy(u + 8, data, dlen);
	c = th_udp_sum(saddr, daddr, u, 8 + dlen); /* RFC 768: over the pseudo header too */
	put_be16(u + 6, c ? c : 0xffff);
	return th_ipv4(buf, saddr, daddr, 17, 0x4321, 0, 64, u, 8 + dlen);
}

uint32_t th_arp(uint8_t *buf, const uint8_t *dst, uint16_t op, const uint8_t *sha, uint32_t spa,
		const uint8_t *tha, uint32_t tpa)
{
	uint8_t *a = buf + th_eth(buf, dst, sha, 0x0806);
	static const uint8_t zero[6];

	put_be16(a, 1);
	put_be16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put_be16(a + 6, op);
	memcpy(a + 8, sha, 6);
	put_be32(a + 14, spa);
	memcpy(a + 18, tha ? tha : zero, 6);
	put_be32(a + 24, tpa);
	return 14 + 28;
}

uint32_t th_icmp_msg(uint8_t *m, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *data,
		     uint32_t dlen)
{
	m[0] = type;
	m[1] = code;
	put_be16(m + 2, 0);
	put_be32(m + 4, rest);
	if (dlen)
		memcpy(m + 8, data, dlen);
	put_be16(m + 2, th_csum(m, 8 + dlen));
	return 8 + dlen;
}

void th_expect_frame(struct th *t, uint8_t *want, uint32_t wlen)
{
	uint8_t out[2048];
	int got = th_recv(t, out, sizeof(out));

	ck_assert_int_eq(got, (int)wlen);
	memcpy(want + 14 + 4, out + 14 + 4, 2);
	put_be16(want + 14 + 10, 0);
	put_be16(want + 14 + 10, th_csum(want + 14, 20));
	ck_assert_mem_eq(out, want, wlen);
}

void th_expect_nothing(struct th *t)
{
	uint8_t out[2048];

	ck_assert_int_eq(th_recv(t, out, sizeof(out)), -1);
}
