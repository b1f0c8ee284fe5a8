/*
 * test_eth.c - the Ethernet receive demux (eth.c): which frames are for us, which ethertypes have a
 * handler, and the counters for everything else. Each test puts frames on the wire of a stack in a
 * known state and checks what came back (usually nothing) and the Eth counters after.
 *
 * eth.c's rule: a frame is for us when its destination is our MAC or the broadcast address; no
 * multicast group is joined, so every other group address is "not for us".
 */
#include <errno.h>
#include <string.h>

#include "stack_helper.h"
#include "ustack/proto.h"
#include "wire/bytes.h"

static struct th t;

static void setup(void)
{
	th_setup(&t, false);
}

static void teardown(void)
{
	th_teardown(&t);
}

/* An Ethernet header and plen bytes of a counting pattern. */
static uint32_t t_frame(uint8_t *buf, const uint8_t *dst, uint16_t type, uint32_t plen)
{
	uint32_t n = th_eth(buf, dst, PEER_MAC, type);

	for (uint32_t i = 0; i < plen; i++)
		buf[n + i] = (uint8_t)i;
	return n + plen;
}

static void t_counters(int64_t in, int64_t runts, int64_t notforus, int64_t unknown, int64_t out)
{
	ck_assert_int_eq(th_stat(&t, "Eth", "InFrames"), in);
	ck_assert_int_eq(th_stat(&t, "Eth", "InRunts"), runts);
	ck_assert_int_eq(th_stat(&t, "Eth", "InNotForUs"), notforus);
	ck_assert_int_eq(th_stat(&t, "Eth", "InUnknownType"), unknown);
	ck_assert_int_eq(th_stat(&t, "Eth", "OutFrames"), out);
}

/* STYLE Tests (fixtures checked): after setup only the gratuitous ARP went out, nothing came in. */
START_TEST(test_eth_fixture_state)
{
	uint8_t out[128];

	t_counters(0, 0, 0, 0, 1);
	ck_assert_int_eq(th_stat(&t, "Arp", "OutGratuitous"), 1);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
}
END_TEST

/* Design rule (eth.c): an ethertype with no handler is dropped and counted, nothing is sent. */
START_TEST(test_eth_unknown_type)
{
	uint8_t f[128], out[128];

	th_send(&t, f, t_frame(f, ST_MAC, 0x88b5, 46)); /* IEEE local experimental */
	t_counters(1, 0, 0, 1, 1);
	th_send(&t, f, t_frame(f, ST_MAC, 0x86dd, 46)); /* IPv6: not spoken here */
	t_counters(2, 0, 0, 2, 1);
	/* RFC 1122 §2.3.3: a value <= 1500 is an IEEE 802.3 length, not an Ether-Type; no RFC 1042
	 * receive path, so it is an unknown type too */
	th_send(&t, f, t_frame(f, ST_MAC, 46, 46));
	t_counters(3, 0, 0, 3, 1);
	/* a bare 14-byte header is not a runt */
	th_send(&t, f, t_frame(f, ST_MAC, 0x88b5, 0));
	t_counters(4, 0, 0, 4, 1);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
	ck_assert_int_eq(th_stat(&t, "Arp", "InPackets"), 0);
	ck_assert_int_eq(th_stat(&t, "Ip", "InReceives"), 0);
}
END_TEST

/* Design rule (eth.c, one length gate per layer): shorter than the 14-byte header is a runt. */
START_TEST(test_eth_runts)
{
	uint8_t f[128] = { 0 }, out[128];
	uint32_t n = t_frame(f, ST_MAC, 0x0806, 0);

	th_send(&t, f, n - 1); /* 13 bytes */
	t_counters(1, 1, 0, 0, 1);
	th_send(&t, f, 1);
	t_counters(2, 2, 0, 0, 1);
	th_send(&t, f, 0);
	t_counters(3, 3, 0, 0, 1);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
	ck_assert_int_eq(th_stat(&t, "Arp", "InPackets"), 0);
}
END_TEST

/* Design rule (eth.c): a frame for another station's unicast MAC is not ours, whatever it holds. */
START_TEST(test_eth_other_unicast)
{
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x03 };
	static const uint8_t other_oui[6] = { 0x06, 0, 0, 0, 0, 0x02 }; /* differs in the first byte */
	uint8_t f[128], out[128];

	/* an ARP request for our own address, sent to the wrong MAC */
	th_send(&t, f, th_arp(f, other, 1, PEER_MAC, PEER_IP, NULL, ST_IP));
	t_counters(1, 0, 1, 0, 1);
	th_send(&t, f, th_arp(f, other_oui, 1, PEER_MAC, PEER_IP, NULL, ST_IP));
	t_counters(2, 0, 2, 0, 1);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
	ck_assert_int_eq(th_stat(&t, "Arp", "InPackets"), 0);
	ck_assert_ptr_null(us_neigh_state(t.st, PEER_IP, NULL));
}
END_TEST

/* Design rule (eth.c) / IEEE 802.3 group bit: multicast frames are not for us (no group joined),
 * and "all ones but one bit" is a group address, not the broadcast address. */
START_TEST(test_eth_multicast)
{
	static const uint8_t mc_v4[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }; /* 224.0.0.1 */
	static const uint8_t mc_v6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t almost[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
	uint8_t f[128], out[128];
	uint32_t n;

	n = th_echo(f, PEER_IP, 0xe0000001u, 1, 1, NULL, 0);
	memcpy(f, mc_v4, 6);
	th_send(&t, f, n);
	t_counters(1, 0, 1, 0, 1);
	th_send(&t, f, t_frame(f, mc_v6, 0x86dd, 46));
	t_counters(2, 0, 2, 0, 1);
	th_send(&t, f, th_arp(f, almost, 1, PEER_MAC, PEER_IP, NULL, ST_IP));
	t_counters(3, 0, 3, 0, 1);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
	ck_assert_int_eq(th_stat(&t, "Ip", "InReceives"), 0);
	ck_assert_int_eq(th_stat(&t, "Arp", "InPackets"), 0);
}
END_TEST

/* RFC 826: requests are broadcast, so a broadcast ARP frame reaches ARP and is answered. */
START_TEST(test_eth_broadcast_arp)
{
	uint8_t f[128], out[128];

	th_send(&t, f, th_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, NULL, ST_IP));
	t_counters(1, 0, 0, 0, 2);
	ck_assert_int_eq(th_stat(&t, "Arp", "InPackets"), 1);
	ck_assert_int_eq(th_stat(&t, "Arp", "OutReplies"), 1);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), 42);
	ck_assert_mem_eq(out, PEER_MAC, 6);
	ck_assert_mem_eq(out + 6, ST_MAC, 6);
	ck_assert_uint_eq(get_be16(out + 12), 0x0806);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
}
END_TEST

/* RFC 894: type 0x0800 to our MAC goes to IP with the 14-byte header taken off, no more, no less. */
START_TEST(test_eth_ipv4_to_us)
{
	struct us_udp *u = us_udp_open(t.st);
	uint8_t f[128], out[128], data[5] = { 'h', 'e', 'l', 'l', 'o' }, got[16];
	uint32_t saddr = 0, n;
	uint16_t sport = 0;

	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(us_udp_bind(u, 0, 7000), 0);
	th_send(&t, f, th_udp(f, PEER_IP, ST_IP, 4000, 7000, data, sizeof(data)));
	t_counters(1, 0, 0, 0, 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "InReceives"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "InHdrErrors"), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, got, sizeof(got), &saddr, &sport), 5);
	ck_assert_mem_eq(got, data, 5);
	ck_assert_uint_eq(saddr, PEER_IP);
	ck_assert_uint_eq(sport, 4000);
	/* the same datagram broadcast at the link layer is for us as well */
	n = th_udp(f, PEER_IP, ST_IP, 4000, 7000, data, sizeof(data));
	th_send(&t, f, n);
	memcpy(f, BCAST_MAC, 6);
	th_send(&t, f, n);
	ck_assert_int_eq(th_stat(&t, "Ip", "InReceives"), 3);
	ck_assert_int_eq(th_stat(&t, "Eth", "InFrames"), 3);
	ck_assert_int_eq(us_udp_recvfrom(u, got, sizeof(got), NULL, NULL), 5);
	ck_assert_int_eq(us_udp_recvfrom(u, got, sizeof(got), NULL, NULL), 5);
	ck_assert_int_eq(us_udp_recvfrom(u, got, sizeof(got), NULL, NULL), -EAGAIN);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
	us_udp_close(u);
}
END_TEST

/* Design rule (stats.h): InFrames counts every frame received, whatever happens to it next, and
 * each drop reason counts exactly its own frames. */
START_TEST(test_eth_counts_all)
{
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x09 };
	static const uint8_t mc[6] = { 0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa };
	uint8_t f[128] = { 0 }, out[128];

	th_send(&t, f, 5);					       /* runt */
	th_send(&t, f, t_frame(f, other, 0x0800, 46));		       /* not for us */
	th_send(&t, f, t_frame(f, mc, 0x0800, 46));		       /* not for us */
	th_send(&t, f, t_frame(f, ST_MAC, 0x88cc, 46));		       /* LLDP: unknown */
	th_send(&t, f, th_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, NULL, 0xc6120063u)); /* to ARP */
	th_send(&t, f, th_arp(f, ST_MAC, 2, PEER_MAC, PEER_IP, ST_MAC, ST_IP));	/* to ARP */
	t_counters(6, 1, 2, 1, 1);
	ck_assert_int_eq(th_stat(&t, "Arp", "InPackets"), 2);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("eth");
	TCase *tc = test_tcase("demux");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_eth_fixture_state);
	tcase_add_test(tc, test_eth_unknown_type);
	tcase_add_test(tc, test_eth_runts);
	tcase_add_test(tc, test_eth_other_unicast);
	tcase_add_test(tc, test_eth_multicast);
	tcase_add_test(tc, test_eth_broadcast_arp);
	tcase_add_test(tc, test_eth_ipv4_to_us);
	tcase_add_test(tc, test_eth_counts_all);
	suite_add_tcase(s, tc);
	return test_run(s);
}
