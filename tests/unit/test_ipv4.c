/*
 * test_ipv4.c - IPv4 receive validation and output (RFC 791 §3.1, RFC 1122 §3.2.1): each malformed
 * header is dropped under Linux's counter and nothing is sent; options, Ethernet padding, addressing,
 * protocol unreachable; the header the stack writes.
 *
 * A stack on one end of a pair device (stack_helper.h) with the peer a permanent neighbour; frames
 * are built here from the RFC's header layout, and so are the frames expected back.
 */
#include <errno.h>
#include <string.h>

#include "core.h"
#include "stack_helper.h"
#include "ustack/proto.h"
#include "wire/bytes.h"

#define OTHER_IP 0xc6120003u  /* 198.18.0.3: on our subnet, not us */
#define SUBNET_BC 0xc61200ffu /* 198.18.0.255 */

static struct th t;

#define MIB_NAME(n) #n,
static const char *const ip_mib_names[] = { US_IP_MIB(MIB_NAME) };

/* Ethernet (peer -> stack) + an IPv4 header carrying olen bytes of options (a multiple of 4) +
 * payload; ID 0x1234, TTL 64, DF clear, total length and checksum right. */
static uint32_t ip_frame(uint8_t *buf, uint32_t saddr, uint32_t daddr, uint8_t proto, const uint8_t *opts,
			 uint32_t olen, const uint8_t *payload, uint32_t plen)
{
	uint8_t *ip = buf + th_eth(buf, ST_MAC, PEER_MAC, 0x0800);
	uint32_t hl = 20 + olen;

	ip[0] = (uint8_t)(0x40 | hl / 4);
	ip[1] = 0;
	put_be16(ip + 2, (uint16_t)(hl + plen));
	put_be16(ip + 4, 0x1234);
	put_be16(ip + 6, 0);
	ip[8] = 64;
	ip[9] = proto;
	put_be16(ip + 10, 0);
	put_be32(ip + 12, saddr);
	put_be32(ip + 16, daddr);
	if (olen)
		memcpy(ip + 20, opts, olen);
	if (plen)
		memcpy(ip + hl, payload, plen);
	put_be16(ip + 10, th_csum(ip, hl));
	return 14 + hl + plen;
}

/* Recompute the header checksum of the IPv4 header in an Ethernet frame over hl bytes. */
static void ip_fix_csum(uint8_t *frame, uint32_t hl)
{
	put_be16(frame + 14 + 10, 0);
	put_be16(frame + 14 + 10, th_csum(frame + 14, hl));
}

/* The frame the stack should send: Ethernet (stack -> peer) + a 20-byte IPv4 header, TTL 64, TOS 0,
 * with the given ID and flags/offset, + payload. */
static uint32_t out_frame(uint8_t *buf, uint16_t id, uint16_t frag, uint8_t proto, uint32_t saddr,
			  uint32_t daddr, const uint8_t *payload, uint32_t plen)
{
	uint8_t *ip = buf + th_eth(buf, PEER_MAC, ST_MAC, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	put_be16(ip + 2, (uint16_t)(20 + plen));
	put_be16(ip + 4, id);
	put_be16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	put_be16(ip + 10, 0);
	put_be32(ip + 12, saddr);
	put_be32(ip + 16, daddr);
	put_be16(ip + 10, th_csum(ip, 20));
	memcpy(ip + 20, payload, plen);
	return 14 + 20 + plen;
}

static uint16_t frame_ip_id(const uint8_t *f)
{
	return get_be16(f + 14 + 4);
}

/* An Ethernet + IPv4 + ICMP echo request from the peer with 8 data bytes. */
static uint32_t echo_frame(uint8_t *buf)
{
	static const uint8_t data[8] = { 'u', 's', 't', 'a', 'c', 'k', 0, 1 };

	return th_echo(buf, PEER_IP, ST_IP, 0x0101, 1, data, sizeof(data));
}

/* Since `before`, InReceives and each Ip counter named in `moved` (NULL-terminated) went up by
 * exactly one and no other Ip counter changed. */
static void ip_moved(const struct us_stats *before, const char *const *moved)
{
	const struct us_stats *now = us_stack_stats(t.st);

	for (int i = 0; i < US_IP_MIB_MAX; i++) {
		uint64_t want = before->ip[i];

		if (i == IP_MIB_InReceives)
			want++;
		for (const char *const *m = moved; *m; m++)
			if (strcmp(*m, ip_mib_names[i]) == 0)
				want++;
		ck_assert_msg(now->ip[i] == want, "Ip %s is %llu, want %llu", ip_mib_names[i],
			      (unsigned long long)now->ip[i], (unsigned long long)want);
	}
}

/* Send one frame that must be dropped at IP: the named counters move by one each, nothing is
 * delivered and nothing is sent. */
static void expect_ip_drop(const uint8_t *f, uint32_t len, const char *c1, const char *c2)
{
	const char *moved[3] = { c1, c2, NULL };
	struct us_stats before = *us_stack_stats(t.st);
	uint8_t out[2048];

	th_send(&t, f, len);
	ip_moved(&before, moved);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InMsgs"), 0);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
}

/* RFC 791 §3.1 / RFC 1122 §3.2.1.1: Version is 4; another is a header error (InHdrErrors). */
START_TEST(test_rcv_version_not_4)
{
	uint8_t f[128];
	uint32_t n;

	th_setup(&t, true);
	n = echo_frame(f);
	f[14] = 0x65;
	ip_fix_csum(f, 20);
	expect_ip_drop(f, n, "InHdrErrors", NULL);
	th_teardown(&t);
}
END_TEST

/* RFC 791 §3.1: IHL is at least 5 words; less is a header error (InHdrErrors). */
START_TEST(test_rcv_ihl_below_5)
{
	uint8_t f[128];
	uint32_t n;

	th_setup(&t, true);
	n = echo_frame(f);
	f[14] = 0x44;
	ip_fix_csum(f, 20);
	expect_ip_drop(f, n, "InHdrErrors", NULL);
	th_teardown(&t);
}
END_TEST

/* RFC 791 §3.1: 19 bytes of IP cannot hold the 20-byte header (InHdrErrors). */
START_TEST(test_rcv_shorter_than_header)
{
	uint8_t f[128];

	th_setup(&t, true);
	echo_frame(f);
	expect_ip_drop(f, 14 + 19, "InHdrErrors", NULL);
	th_teardown(&t);
}
END_TEST

/* RFC 791 §3.1: IHL 15 (60 bytes) with 36 bytes received is a header error (InHdrErrors). */
START_TEST(test_rcv_ihl_beyond_bytes)
{
	uint8_t f[128];
	uint32_t n;

	th_setup(&t, true);
	n = echo_frame(f); /* 20 + 16 bytes of IP */
	f[14] = 0x4f;
	expect_ip_drop(f, n, "InHdrErrors", NULL);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.2.1.2: a bad header checksum is discarded (Linux: InCsumErrors + InHdrErrors). */
START_TEST(test_rcv_bad_header_checksum)
{
	uint8_t f[128];
	uint32_t n;

	th_setup(&t, true);
	n = echo_frame(f);
	f[14 + 10] ^= 0x01;
	expect_ip_drop(f, n, "InCsumErrors", "InHdrErrors");
	th_teardown(&t);
}
END_TEST

/* RFC 791 §3.1: Total Length beyond the bytes received is a truncation (InTruncatedPkts). */
START_TEST(test_rcv_total_length_beyond_frame)
{
	uint8_t f[128];
	uint32_t n;

	th_setup(&t, true);
	n = echo_frame(f);
	put_be16(f + 14 + 2, (uint16_t)(n - 14 + 1));
	ip_fix_csum(f, 20);
	expect_ip_drop(f, n, "InTruncatedPkts", NULL);
	th_teardown(&t);
}
END_TEST

/* RFC 791 §3.1: Total Length counts the header, so it is at least IHL*4 (InHdrErrors). */
START_TEST(test_rcv_total_length_below_header)
{
	uint8_t f[128];
	uint32_t n;

	th_setup(&t, true);
	n = echo_frame(f);
	put_be16(f + 14 + 2, 19);
	ip_fix_csum(f, 20);
	expect_ip_drop(f, n, "InHdrErrors", NULL);
	th_teardown(&t);
}
END_TEST

/* Malformed option areas (IHL 6): length 0, length 1, a length past the header, and a kind with no
 * room left for its length byte. */
static const uint8_t bad_opts[][4] = {
	{ 0x94, 0x00, 0, 0 },
	{ 0x94, 0x01, 0, 0 },
	{ 0x94, 0x08, 0, 0 },
	{ 1, 1, 1, 0x94 }, /* three NOPs */
};

/* RFC 791 §3.1 (Options): a length below 2 or past the header is a header error (InHdrErrors). */
START_TEST(test_rcv_bad_option)
{
	uint8_t f[128], icmp[16];
	uint32_t ilen, n;

	th_setup(&t, true);
	ilen = th_icmp_msg(icmp, 8, 0, 0x01010001, (const uint8_t *)"abcd", 4);
	n = ip_frame(f, PEER_IP, ST_IP, 1, bad_opts[_i], 4, icmp, ilen);
	expect_ip_drop(f, n, "InHdrErrors", NULL);
	th_teardown(&t);
}
END_TEST

/* RFC 791 §3.1 (Options) / RFC 1122 §3.2.1.8: NOP + a 4-byte option + END is accepted. */
START_TEST(test_rcv_good_options)
{
	static const uint8_t opts[8] = { 1, 0x94, 0x04, 0, 0, 0, 0, 0 };
	uint8_t f[128], out[256], want[128], icmp[16], reply[16];
	uint32_t ilen, n, wn;
	int got;

	th_setup(&t, true);
	ilen = th_icmp_msg(icmp, 8, 0, 0x0202000a, (const uint8_t *)"opts", 4);
	n = ip_frame(f, PEER_IP, ST_IP, 1, opts, sizeof(opts), icmp, ilen);
	ck_assert_uint_eq(f[14], 0x47);
	th_send(&t, f, n);
	ck_assert_int_eq(th_stat(&t, "Ip", "InDelivers"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "InHdrErrors"), 0);
	th_icmp_msg(reply, 0, 0, 0x0202000a, (const uint8_t *)"opts", 4);
	got = th_recv(&t, out, sizeof(out));
	ck_assert_int_ge(got, 14 + 20 + 12);
	wn = out_frame(want, frame_ip_id(out), 0, 1, ST_IP, PEER_IP, reply, ilen);
	ck_assert_int_eq(got, (int)wn);
	ck_assert_mem_eq(out, want, wn);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
	th_teardown(&t);
}
END_TEST

/* RFC 894 / RFC 791 §3.1: Ethernet padding past Total Length is not part of the datagram. */
START_TEST(test_rcv_ethernet_padding_ignored)
{
	uint8_t f[128], out[256], want[128], reply[16];
	uint32_t n, wn;
	int got;

	th_setup(&t, true);
	n = th_echo(f, PEER_IP, ST_IP, 0x0303, 9, (const uint8_t *)"pad!", 4);
	ck_assert_uint_eq(n, 14 + 20 + 8 + 4);
	memset(f + n, 0xa5, 60 - n);
	th_send(&t, f, 60);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InErrors"), 0);
	got = th_recv(&t, out, sizeof(out));
	ck_assert_int_ge(got, 14 + 32);
	ck_assert_uint_eq(get_be16(out + 14 + 2), 32);
	th_icmp_msg(reply, 0, 0, 0x03030009, (const uint8_t *)"pad!", 4);
	wn = out_frame(want, frame_ip_id(out), 0, 1, ST_IP, PEER_IP, reply, 12);
	ck_assert_mem_eq(out, want, wn);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.2.1.3: a datagram not destined for the host is discarded (InAddrErrors). */
START_TEST(test_rcv_not_our_address)
{
	uint8_t f[128];
	uint32_t n;

	th_setup(&t, true);
	n = th_echo(f, PEER_IP, OTHER_IP, 1, 1, (const uint8_t *)"x", 1);
	expect_ip_drop(f, n, "InAddrErrors", NULL);
	th_teardown(&t);
}
END_TEST

static const uint32_t bad_sources[] = { 0xffffffffu, SUBNET_BC, 0xe0000001u /* 224.0.0.1 */,
					0x7f000001u /* 127.0.0.1 */ };

/* RFC 1122 §3.2.1.3: a broadcast, multicast or loopback source is discarded (InAddrErrors). */
START_TEST(test_rcv_source_broadcast_or_multicast)
{
	uint8_t f[128];
	uint32_t n;

	th_setup(&t, true);
	n = th_echo(f, bad_sources[_i], ST_IP, 1, 1, (const uint8_t *)"x", 1);
	expect_ip_drop(f, n, "InAddrErrors", NULL);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.2.2.1 / RFC 792: unknown protocol -> protocol unreachable quoting header + 8 bytes. */
START_TEST(test_rcv_unknown_protocol)
{
	uint8_t f[128], out[256], want[128], payload[12], quoted[28], icmp[64];
	const char *moved[] = { "InUnknownProtos", "OutRequests", NULL };
	struct us_stats before;
	uint32_t n, ilen, wn;
	int got;

	th_setup(&t, true);
	for (int i = 0; i < 12; i++)
		payload[i] = (uint8_t)(0xc0 + i);
	n = th_ipv4(f, PEER_IP, ST_IP, 253, 0x5151, 0, 64, payload, sizeof(payload));
	before = *us_stack_stats(t.st);
	th_send(&t, f, n);
	ip_moved(&before, moved);
	memcpy(quoted, f + 14, 28);
	ilen = th_icmp_msg(icmp, 3, 2, 0, quoted, sizeof(quoted));
	got = th_recv(&t, out, sizeof(out));
	ck_assert_int_ge(got, 14 + 20);
	wn = out_frame(want, frame_ip_id(out), 0, 1, ST_IP, PEER_IP, icmp, ilen);
	ck_assert_int_eq(got, (int)wn);
	ck_assert_mem_eq(out, want, wn);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutDestUnreachs"), 1);
	th_teardown(&t);
}
END_TEST

/* RFC 791 §3.1 / RFC 1122 §3.2.1.5: version 4, IHL 5, TTL 64, checksum, DF clear, ID +1 each. */
START_TEST(test_output_header)
{
	uint8_t out[256];
	uint16_t id0 = 0;
	struct us_udp *u;
	int got;

	th_setup(&t, true);
	u = us_udp_open(t.st);
	ck_assert_ptr_nonnull(u);
	for (int i = 0; i < 3; i++) {
		uint8_t *ip = out + 14;

		ck_assert_int_eq(us_udp_sendto(u, "hdr", 3, PEER_IP, 4000), 3);
		got = th_recv(&t, out, sizeof(out));
		ck_assert_int_eq(got, 14 + 20 + 8 + 3);
		ck_assert_mem_eq(out, PEER_MAC, 6);
		ck_assert_mem_eq(out + 6, ST_MAC, 6);
		ck_assert_uint_eq(get_be16(out + 12), 0x0800);
		ck_assert_uint_eq(ip[0], 0x45);
		ck_assert_uint_eq(ip[1], 0);
		ck_assert_uint_eq(get_be16(ip + 2), 20 + 8 + 3);
		if (i == 0)
			id0 = get_be16(ip + 4);
		ck_assert_uint_eq(get_be16(ip + 4), (uint16_t)(id0 + i));
		ck_assert_uint_eq(get_be16(ip + 6), 0); /* DF, MF and offset all clear */
		ck_assert_uint_eq(ip[8], 64);
		ck_assert_uint_eq(ip[9], 17);
		ck_assert_uint_eq(th_csum(ip, 20), 0);
		ck_assert_uint_eq(get_be32(ip + 12), ST_IP);
		ck_assert_uint_eq(get_be32(ip + 16), PEER_IP);
	}
	ck_assert_int_eq(th_stat(&t, "Ip", "OutRequests"), 3);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), -1);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 791 §2.3 and §3.1: a datagram marked "don't fragment" is not fragmented; RFC 1122 §3.3.3: a
 * datagram larger than the MTU that may not be fragmented is not sent, and the sender is told
 * (EMSGSIZE, Linux's ip_fragment: Ip.FragFails). 1,481 bytes of payload make a 1,501-byte datagram
 * on a 1,500-byte link: not sent. Without DF the same datagram goes out in two fragments
 * (FragOKs, FragCreates 2); with DF and one byte less it goes out whole with DF set. */
static int send_raw_ip(uint32_t plen, bool df)
{
	struct ip_out o = { .daddr = PEER_IP, .proto = 253, .df = df }; /* RFC 3692: for experiments */
	struct sk_buff *skb = skb_alloc(us_stack_pool(t.st), SKB_MAX_HEADER + plen);

	ck_assert_ptr_nonnull(skb);
	skb_reserve(skb, SKB_MAX_HEADER);
	memset(skb_put(skb, plen), 0xa5, plen);
	return ip_output(t.st, skb, &o);
}

START_TEST(test_output_df_too_big)
{
	uint8_t out[2048];
	int got;

	th_setup(&t, true);
	ck_assert_int_eq(send_raw_ip(1481, true), -EMSGSIZE);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragFails"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragOKs"), 0);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragCreates"), 0);
	us_stack_poll(t.st);
	th_expect_nothing(&t);
	ck_assert_uint_eq(skb_pool_in_use(us_stack_pool(t.st)), 0); /* the datagram was freed */

	ck_assert_int_eq(send_raw_ip(1480, true), 0);
	us_stack_poll(t.st);
	got = th_recv(&t, out, sizeof(out));
	ck_assert_int_eq(got, 14 + 1500);
	ck_assert_uint_eq(get_be16(out + 14 + 6), 0x4000); /* DF, no MF, offset 0 */
	th_expect_nothing(&t);

	ck_assert_int_eq(send_raw_ip(1481, false), 0);
	us_stack_poll(t.st);
	ck_assert_int_eq(th_drain(&t), 2);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragOKs"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragCreates"), 2);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragFails"), 1);
	th_teardown(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ipv4");
	TCase *tc = test_tcase("ipv4");

	tcase_add_test(tc, test_rcv_version_not_4);
	tcase_add_test(tc, test_rcv_ihl_below_5);
	tcase_add_test(tc, test_rcv_shorter_than_header);
	tcase_add_test(tc, test_rcv_ihl_beyond_bytes);
	tcase_add_test(tc, test_rcv_bad_header_checksum);
	tcase_add_test(tc, test_rcv_total_length_beyond_frame);
	tcase_add_test(tc, test_rcv_total_length_below_header);
	tcase_add_loop_test(tc, test_rcv_bad_option, 0, (int)(sizeof(bad_opts) / sizeof(bad_opts[0])));
	tcase_add_test(tc, test_rcv_good_options);
	tcase_add_test(tc, test_rcv_ethernet_padding_ignored);
	tcase_add_test(tc, test_rcv_not_our_address);
	tcase_add_loop_test(tc, test_rcv_source_broadcast_or_multicast, 0,
			    (int)(sizeof(bad_sources) / sizeof(bad_sources[0])));
	tcase_add_test(tc, test_rcv_unknown_protocol);
	tcase_add_test(tc, test_output_header);
	tcase_add_test(tc, test_output_df_too_big);
	suite_add_tcase(s, tc);
	return test_run(s);
}
