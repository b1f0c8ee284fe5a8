/*
 * test_route.c - the routing table through the public API (us_route_add/us_route_del, and the
 * connected route us_addr_add puts in), observed from the wire: a UDP datagram to an address that
 * needs resolving makes the stack broadcast an ARP request, and that request names the next hop the
 * route chose - the gateway, or the destination itself for an on-link route. Also the address
 * parsing and formatting helpers.
 *
 * The stack is 198.18.0.2/24 (stack_helper.h); gateways live on that link.
 */
#include <errno.h>
#include <string.h>

#include "stack_helper.h"
#include "ustack/proto.h"
#include "wire/bytes.h"

#define GW_A 0xc6120064u /* 198.18.0.100 */
#define GW_B 0xc61200c8u /* 198.18.0.200 */
#define GW_C 0xc6120096u /* 198.18.0.150 */
#define NET_10_1 0x0a010000u
#define IP_10_1_2_3 0x0a010203u
#define IP_8_8_8_8 0x08080808u
#define SPORT 5555
#define DPORT 9

static const uint8_t MAC_A[6] = { 0x02, 0xaa, 0, 0, 0, 0x64 };

static struct th t;
static struct us_udp *u;

static void setup(void)
{
	th_setup(&t, false);
	u = us_udp_open(t.st);
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(us_udp_bind(u, 0, SPORT), 0);
}

static void teardown(void)
{
	us_udp_close(u);
	th_teardown(&t);
}

/* The next frame must be RFC 826's request for tpa from us (spa) - broadcast, tha zero - and
 * nothing may follow it. */
static void t_expect_request_from(uint32_t spa, uint32_t tpa)
{
	uint8_t want[64], got[128];
	uint32_t n = th_arp(want, BCAST_MAC, 1, ST_MAC, spa, NULL, tpa);

	ck_assert_int_eq(th_recv(&t, got, sizeof(got)), (int)n);
	ck_assert_mem_eq(got, want, n);
	ck_assert_int_eq(th_recv(&t, got, sizeof(got)), -1);
}

static void t_expect_request(uint32_t tpa)
{
	t_expect_request_from(ST_IP, tpa);
}

static void t_expect_nothing(void)
{
	uint8_t got[128];

	ck_assert_int_eq(th_recv(&t, got, sizeof(got)), -1);
}

static void t_send(uint32_t daddr)
{
	ck_assert_int_eq(us_udp_sendto(u, "x", 1, daddr, DPORT), 1);
}

/* The frame got must be our one-byte datagram "x" to daddr, sent to the Ethernet address dst; the IP
 * identification is taken from the frame (it comes from the stack's generator). */
static void t_expect_datagram(const uint8_t *got, int len, const uint8_t *dst, uint32_t daddr)
{
	uint8_t want[128];
	uint32_t n = th_udp(want, ST_IP, daddr, SPORT, DPORT, (const uint8_t *)"x", 1);

	memcpy(want, dst, 6);
	memcpy(want + 6, ST_MAC, 6);
	memcpy(want + 14 + 4, got + 14 + 4, 2); /* identification */
	put_be16(want + 14 + 10, 0);
	put_be16(want + 14 + 10, th_csum(want + 14, 20));
	ck_assert_int_eq(len, (int)n);
	ck_assert_mem_eq(got, want, n);
}

/* RFC 1122 §3.3.1.1-2 with longest prefix match: on-link destinations are resolved themselves,
 * others through the gateway of the most specific route, the default route last. */
START_TEST(test_route_longest_prefix)
{
	ck_assert_int_eq(us_route_add(t.st, 0, 0, GW_B, t.ifindex), 0); /* added first on purpose */
	ck_assert_int_eq(us_route_add(t.st, NET_10_1, 16, GW_A, t.ifindex), 0);

	t_send(0xc6120032u); /* 198.18.0.50: the connected /24 */
	t_expect_request(0xc6120032u);
	t_send(IP_10_1_2_3); /* the /16 */
	t_expect_request(GW_A);
	t_send(IP_8_8_8_8); /* only the default */
	t_expect_request(GW_B);
	ck_assert_ptr_null(us_neigh_state(t.st, IP_10_1_2_3, NULL));
	ck_assert_ptr_null(us_neigh_state(t.st, IP_8_8_8_8, NULL));
	ck_assert_str_eq(us_neigh_state(t.st, GW_A, NULL), "INCOMPLETE");
	ck_assert_str_eq(us_neigh_state(t.st, GW_B, NULL), "INCOMPLETE");

	/* another destination behind a gateway already being resolved: queued, no second request
	 * (RFC 1122 §2.3.2.1: at most one request per second per destination) */
	t_send(0x0a020001u);
	t_expect_nothing();

	/* a more specific route added later still wins */
	ck_assert_int_eq(us_route_add(t.st, 0x0a010200u, 24, GW_C, t.ifindex), 0);
	t_send(IP_10_1_2_3);
	t_expect_request(GW_C);
	t_send(0x0a010301u); /* 10.1.3.1: still the /16 */
	t_expect_nothing();
	/* a host route without a gateway: the destination itself is the next hop */
	ck_assert_int_eq(us_route_add(t.st, IP_10_1_2_3, 32, 0, t.ifindex), 0);
	t_send(IP_10_1_2_3);
	t_expect_request(IP_10_1_2_3);
	t_send(0x0a010204u); /* 10.1.2.4: the /24 */
	t_expect_nothing();
	ck_assert_int_eq(th_stat(&t, "Arp", "OutRequests"), 5);
	ck_assert_int_eq(th_stat(&t, "Udp", "OutDatagrams"), 8);
	ck_assert_int_eq(th_stat(&t, "Ip", "OutNoRoutes"), 0);
}
END_TEST

/* RFC 1122 §3.3.1.2: a datagram through a gateway goes to the gateway's link address but keeps its
 * final destination in the IP header. */
START_TEST(test_route_via_gateway_frame)
{
	uint8_t f[128], got[128];
	int n;

	ck_assert_int_eq(us_route_add(t.st, NET_10_1, 16, GW_A, t.ifindex), 0);
	t_send(IP_10_1_2_3);
	t_expect_request(GW_A);
	th_send(&t, f, th_arp(f, ST_MAC, 2, MAC_A, GW_A, ST_MAC, ST_IP));
	n = th_recv(&t, got, sizeof(got));
	t_expect_datagram(got, n, MAC_A, IP_10_1_2_3);
	t_expect_nothing();
	/* the next one goes at once */
	t_send(0x0a01ff01u);
	n = th_recv(&t, got, sizeof(got));
	t_expect_datagram(got, n, MAC_A, 0x0a01ff01u);
	t_expect_nothing();
}
END_TEST

/* RFC 1122 §3.3.1: without a route there is nowhere to send - ENETUNREACH, counted, nothing sent
 * and no neighbour entry made. */
START_TEST(test_route_no_route)
{
	ck_assert_int_eq(us_udp_sendto(u, "x", 1, IP_8_8_8_8, DPORT), -ENETUNREACH);
	ck_assert_int_eq(th_stat(&t, "Ip", "OutNoRoutes"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "OutRequests"), 0);
	ck_assert_int_eq(th_stat(&t, "Udp", "OutDatagrams"), 0);
	ck_assert_int_eq(th_stat(&t, "Arp", "OutRequests"), 0);
	t_expect_nothing();

	ck_assert_int_eq(us_route_add(t.st, 0, 0, GW_B, t.ifindex), 0);
	t_send(IP_8_8_8_8);
	t_expect_request(GW_B);
	ck_assert_int_eq(us_route_del(t.st, 0, 0), 0);
	ck_assert_int_eq(us_udp_sendto(u, "x", 1, 0x01020304u, DPORT), -ENETUNREACH);
	ck_assert_int_eq(th_stat(&t, "Ip", "OutNoRoutes"), 2);
	ck_assert_int_eq(th_stat(&t, "Udp", "OutDatagrams"), 1);
	t_expect_nothing();
}
END_TEST

/* Design rule (route.c): one route per prefix - the same prefix again is EEXIST, whatever its
 * gateway; the prefix is masked first, so host bits do not make it different. */
START_TEST(test_route_add_errors)
{
	ck_assert_int_eq(us_route_add(t.st, 0x0a000000u, 8, GW_A, t.ifindex), 0);
	ck_assert_int_eq(us_route_add(t.st, 0x0a000000u, 8, GW_A, t.ifindex), -EEXIST);
	ck_assert_int_eq(us_route_add(t.st, 0x0a000000u, 8, GW_B, t.ifindex), -EEXIST);
	ck_assert_int_eq(us_route_add(t.st, 0x0affffffu, 8, GW_B, t.ifindex), -EEXIST);
	ck_assert_int_eq(us_route_add(t.st, 0x0a000000u, 9, GW_B, t.ifindex), 0);
	/* the connected route us_addr_add made */
	ck_assert_int_eq(us_route_add(t.st, 0xc6120000u, 24, 0, t.ifindex), -EEXIST);
	ck_assert_int_eq(us_route_add(t.st, 0x0a000000u, 33, GW_A, t.ifindex), -EINVAL);
	ck_assert_int_eq(us_route_add(t.st, 0x0b000000u, 8, GW_A, 0), -EINVAL);
	ck_assert_int_eq(us_route_add(t.st, 0x0b000000u, 8, GW_A, 2), -EINVAL);
	ck_assert_int_eq(us_route_add(t.st, 0x0b000000u, 8, GW_A, US_MAX_IFACES + 1), -EINVAL);
	/* the /9 took 10.0.0.0-10.127.255.255; 10.200.0.1 is the /8's */
	t_send(0x0a000001u);
	t_expect_request(GW_B);
	t_send(0x0ac80001u);
	t_expect_request(GW_A);
}
END_TEST

/* Design rule (route.c): deleting names the prefix exactly; an absent one is ESRCH. After a delete
 * the next longest match takes over. */
START_TEST(test_route_del)
{
	ck_assert_int_eq(us_route_del(t.st, NET_10_1, 16), -ESRCH);
	ck_assert_int_eq(us_route_add(t.st, 0, 0, GW_B, t.ifindex), 0);
	ck_assert_int_eq(us_route_add(t.st, NET_10_1, 16, GW_A, t.ifindex), 0);
	ck_assert_int_eq(us_route_del(t.st, NET_10_1, 24), -ESRCH);
	ck_assert_int_eq(us_route_del(t.st, NET_10_1, 15), -ESRCH);
	ck_assert_int_eq(us_route_del(t.st, NET_10_1, 33), -EINVAL);
	ck_assert_int_eq(us_route_del(t.st, IP_10_1_2_3, 16), 0); /* host bits masked */
	ck_assert_int_eq(us_route_del(t.st, NET_10_1, 16), -ESRCH);
	t_send(IP_10_1_2_3);
	t_expect_request(GW_B);
	/* the connected route can go too: then the link's own addresses need a route */
	ck_assert_int_eq(us_route_del(t.st, 0xc6120000u, 24), 0);
	ck_assert_int_eq(us_route_del(t.st, 0, 0), 0);
	ck_assert_int_eq(us_udp_sendto(u, "x", 1, 0xc6120032u, DPORT), -ENETUNREACH);
	ck_assert_int_eq(th_stat(&t, "Ip", "OutNoRoutes"), 1);
	t_expect_nothing();
}
END_TEST

/* Design rule (stack.h, us_addr_add): one address per interface; a new one replaces the old
 * connected route with its own, announces itself, and is the source of what follows. */
START_TEST(test_route_addr_replace)
{
	uint8_t want[64], got[128];
	uint32_t n;

	ck_assert_int_eq(us_addr_add(t.st, t.ifindex, 0x0a090002u, 16), 0);
	/* the gratuitous ARP for the new address */
	n = th_arp(want, BCAST_MAC, 1, ST_MAC, 0x0a090002u, NULL, 0x0a090002u);
	ck_assert_int_eq(th_recv(&t, got, sizeof(got)), (int)n);
	ck_assert_mem_eq(got, want, n);
	t_expect_nothing();
	ck_assert_int_eq(us_udp_sendto(u, "x", 1, 0xc6120032u, DPORT), -ENETUNREACH);
	t_send(0x0a09ff01u);
	t_expect_request_from(0x0a090002u, 0x0a09ff01u);
	ck_assert_int_eq(us_route_del(t.st, 0xc6120000u, 24), -ESRCH);
	ck_assert_int_eq(us_route_del(t.st, 0x0a090000u, 16), 0);

	/* RFC 1122 §3.2.1.3: not addresses a host may have */
	ck_assert_int_eq(us_addr_add(t.st, t.ifindex, 0x00000001u, 8), -EINVAL);   /* 0.0.0.1 */
	ck_assert_int_eq(us_addr_add(t.st, t.ifindex, 0x7f000001u, 8), -EINVAL);   /* loopback */
	ck_assert_int_eq(us_addr_add(t.st, t.ifindex, 0xe0000001u, 24), -EINVAL);  /* multicast */
	ck_assert_int_eq(us_addr_add(t.st, t.ifindex, 0xffffffffu, 32), -EINVAL);  /* broadcast */
	ck_assert_int_eq(us_addr_add(t.st, t.ifindex, 0x0a090002u, 33), -EINVAL);
	ck_assert_int_eq(us_addr_add(t.st, 2, 0x0a090002u, 16), -EINVAL);
	t_expect_nothing();
}
END_TEST

/* RFC 1122 §3.3.6: broadcasts go to the link broadcast address without ARP - the limited broadcast
 * without any route, the subnet's directed broadcast through the connected route. */
START_TEST(test_route_broadcast)
{
	uint8_t got[128];
	int n;

	ck_assert_int_eq(us_route_del(t.st, 0xc6120000u, 24), 0);
	t_send(0xffffffffu);
	n = th_recv(&t, got, sizeof(got));
	t_expect_datagram(got, n, BCAST_MAC, 0xffffffffu);
	t_expect_nothing();
	ck_assert_int_eq(us_route_add(t.st, 0xc6120000u, 24, 0, t.ifindex), 0);
	t_send(0xc61200ffu);
	n = th_recv(&t, got, sizeof(got));
	t_expect_datagram(got, n, BCAST_MAC, 0xc61200ffu);
	t_expect_nothing();
	ck_assert_int_eq(th_stat(&t, "Arp", "OutRequests"), 0);
}
END_TEST

/* RFC 1112 §6.2: a datagram to a host group is sent locally to the group address, never to a
 * gateway, and §6.4 maps the group to 01:00:5e plus its low 23 bits. */
START_TEST(test_route_multicast_not_via_gateway)
{
	static const uint8_t mc[6] = { 0x01, 0x00, 0x5e, 0x7f, 0x00, 0xfb }; /* 239.255.0.251 */
	uint8_t got[128];
	int n;

	ck_assert_int_eq(us_route_add(t.st, 0, 0, GW_B, t.ifindex), 0);
	t_send(0xefff00fbu);
	/* only where it goes is checked here: the TTL of a multicast datagram is ipv4.c's (RFC 1112
	 * §6.1 wants 1 by default) */
	n = th_recv(&t, got, sizeof(got));
	ck_assert_int_eq(n, 14 + 20 + 8 + 1);
	ck_assert_mem_eq(got, mc, 6);
	ck_assert_mem_eq(got + 6, ST_MAC, 6);
	ck_assert_uint_eq(get_be16(got + 12), 0x0800);
	ck_assert_uint_eq(get_be32(got + 14 + 12), ST_IP);
	ck_assert_uint_eq(get_be32(got + 14 + 16), 0xefff00fbu);
	t_expect_nothing();
	ck_assert_int_eq(th_stat(&t, "Arp", "OutRequests"), 0);
	ck_assert_ptr_null(us_neigh_state(t.st, GW_B, NULL));
}
END_TEST

/* RFC 4632 §3.1 prefix notation (stack.h, us_parse_ipv4): a dotted quad with an optional decimal
 * /len of 0..32; no /len means a host (32); anything else is EINVAL and writes nothing. */
START_TEST(test_route_parse_ipv4)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4",
		"1.2.3.4/", "1.2.3.4/33", "1.2.3.4/-1", "1.2.3.4/8x", "1.2.3.4/ 8", "1.2.3.4/+8",
		"1.2.3.4//8", "/8", "1.2.3.4/8/8", "1.2.3.4/100000000000000000000",
		"255.255.255.255/32 and more text",
	};
	uint32_t a = 0;
	uint8_t len = 0;

	ck_assert_int_eq(us_parse_ipv4("198.18.0.2", &a, &len), 0);
	ck_assert_uint_eq(a, 0xc6120002u);
	ck_assert_uint_eq(len, 32);
	ck_assert_int_eq(us_parse_ipv4("10.1.0.0/16", &a, &len), 0);
	ck_assert_uint_eq(a, 0x0a010000u);
	ck_assert_uint_eq(len, 16);
	ck_assert_int_eq(us_parse_ipv4("0.0.0.0/0", &a, &len), 0);
	ck_assert_uint_eq(a, 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(us_parse_ipv4("255.255.255.255/32", &a, &len), 0);
	ck_assert_uint_eq(a, 0xffffffffu);
	ck_assert_uint_eq(len, 32);
	ck_assert_int_eq(us_parse_ipv4("10.1.2.3/24", &a, &len), 0); /* host bits kept */
	ck_assert_uint_eq(a, 0x0a010203u);
	ck_assert_uint_eq(len, 24);
	/* a plain address where no prefix is wanted; a prefix there is an error */
	ck_assert_int_eq(us_parse_ipv4("1.2.3.4", &a, NULL), 0);
	ck_assert_uint_eq(a, 0x01020304u);
	ck_assert_int_eq(us_parse_ipv4("1.2.3.4/8", &a, NULL), -EINVAL);
	ck_assert_int_eq(us_parse_ipv4(NULL, &a, &len), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = 0x5a5a5a5au;
		len = 99;
		ck_assert_msg(us_parse_ipv4(bad[i], &a, &len) == -EINVAL, "accepted \"%s\"", bad[i]);
		ck_assert_msg(a == 0x5a5a5a5au && len == 99, "\"%s\" wrote its outputs", bad[i]);
	}
}
END_TEST

/* Design rule (stack.h, us_format_ipv4): host order in, dotted quad out, into the caller's buffer. */
START_TEST(test_route_format_ipv4)
{
	char buf[16];

	ck_assert_ptr_eq(us_format_ipv4(0xc6120002u, buf), buf);
	ck_assert_str_eq(buf, "198.18.0.2");
	ck_assert_str_eq(us_format_ipv4(0, buf), "0.0.0.0");
	ck_assert_str_eq(us_format_ipv4(0xffffffffu, buf), "255.255.255.255"); /* 15 chars + NUL */
	ck_assert_str_eq(us_format_ipv4(0x0a000001u, buf), "10.0.0.1");
	/* round trip */
	for (uint32_t i = 0, a = 1; i < 1000; i++, a += 0x0104a8c5u) {
		uint32_t back = 0;
		ck_assert_int_eq(us_parse_ipv4(us_format_ipv4(a, buf), &back, NULL), 0);
		ck_assert_uint_eq(back, a);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("route");
	TCase *tc = test_tcase("lpm");
	TCase *tp = test_tcase("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_route_longest_prefix);
	tcase_add_test(tc, test_route_via_gateway_frame);
	tcase_add_test(tc, test_route_no_route);
	tcase_add_test(tc, test_route_add_errors);
	tcase_add_test(tc, test_route_del);
	tcase_add_test(tc, test_route_addr_replace);
	tcase_add_test(tc, test_route_broadcast);
	tcase_add_test(tc, test_route_multicast_not_via_gateway);
	suite_add_tcase(s, tc);
	tcase_add_test(tp, test_route_parse_ipv4);
	tcase_add_test(tp, test_route_format_ipv4);
	suite_add_tcase(s, tp);
	return test_run(s);
}
