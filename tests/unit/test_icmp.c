/*
 * test_icmp.c - ICMP (RFC 792, RFC 1122 §3.2.2): echo replies, messages refused, the datagrams that
 * never get an error, the error rate limit, the echo API (us_ping_*) with its replies and errors, and
 * time exceeded as the ping and UDP senders are told of it.
 *
 * A stack on one end of a pair device (stack_helper.h) with the peer a permanent neighbour; the
 * frames sent and the frames expected back are built here from RFC 791 and RFC 792.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "stack_helper.h"
#include "ustack/proto.h"
#include "ustack/socket.h"
#include "wire/bytes.h"

#define ROUTER_IP 0xc6120009u /* 198.18.0.9: a router on our link that reports errors */
#define SUBNET_BC 0xc61200ffu /* 198.18.0.255 */

static struct th t;

/* The frame the stack should send: Ethernet (stack -> peer) + a 20-byte IPv4 header, TTL ttl, TOS 0,
 * DF clear, with the given ID, + payload. */
static uint32_t out_frame(uint8_t *buf, uint16_t id, uint8_t ttl, uint8_t proto, uint32_t saddr,
			  uint32_t daddr, const uint8_t *payload, uint32_t plen)
{
	uint8_t *ip = buf + th_eth(buf, PEER_MAC, ST_MAC, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	put_be16(ip + 2, (uint16_t)(20 + plen));
	put_be16(ip + 4, id);
	put_be16(ip + 6, 0);
	ip[8] = ttl;
	ip[9] = proto;
	put_be16(ip + 10, 0);
	put_be32(ip + 12, saddr);
	put_be32(ip + 16, daddr);
	put_be16(ip + 10, th_csum(ip, 20));
	memcpy(ip + 20, payload, plen);
	return 14 + 20 + plen;
}

/* RFC 792 (Echo) / RFC 1122 §3.2.2.6: type 0, same id, seq and data, checksum, addresses swapped. */
START_TEST(test_echo_reply)
{
	uint8_t f[256], data[57], icmp[128], want[256];
	uint32_t n, ilen, wn;

	th_setup(&t, true);
	for (uint32_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	n = th_echo(f, PEER_IP, ST_IP, 0xbeef, 0x0102, data, sizeof(data)); /* odd length */
	th_send(&t, f, n);
	ilen = th_icmp_msg(icmp, 0, 0, 0xbeef0102, data, sizeof(data));
	wn = out_frame(want, 0, 64, 1, ST_IP, PEER_IP, icmp, ilen);
	th_expect_frame(&t, want, wn);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InMsgs"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InEchos"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutEchoReps"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InErrors"), 0);
	th_teardown(&t);
}
END_TEST

/* RFC 792: a message failing its checksum is dropped (Linux: InCsumErrors + InErrors). */
START_TEST(test_bad_checksum_dropped)
{
	uint8_t f[256];
	uint32_t n;

	th_setup(&t, true);
	n = th_echo(f, PEER_IP, ST_IP, 1, 1, (const uint8_t *)"checksum", 8);
	f[n - 1] ^= 0x40; /* a data byte: the IP header stays valid */
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InMsgs"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InCsumErrors"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InErrors"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InEchos"), 0);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 0);
	th_teardown(&t);
}
END_TEST

/* RFC 792: every ICMP message has the 8-byte header; 4 bytes are an input error (InErrors). */
START_TEST(test_shorter_than_header)
{
	uint8_t f[128], m[4] = { 8, 0, 0, 0 };
	uint32_t n;

	th_setup(&t, true);
	put_be16(m + 2, th_csum(m, 4));
	n = th_ipv4(f, PEER_IP, ST_IP, 1, 0x77, 0, 64, m, sizeof(m));
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "InDelivers"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InMsgs"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InErrors"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InCsumErrors"), 0);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InEchos"), 0);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.2.2: an ICMP message of unknown type MUST be silently discarded. */
START_TEST(test_unknown_type_discarded)
{
	uint8_t f[256], icmp[32];
	uint32_t n, ilen;

	th_setup(&t, true);
	ilen = th_icmp_msg(icmp, 42, 0, 0x01020304, (const uint8_t *)"what", 4);
	n = th_ipv4(f, PEER_IP, ST_IP, 1, 0x42, 0, 64, icmp, ilen);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InMsgs"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InErrors"), 0);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 0);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.2.2.6: an echo request to a broadcast address MAY be discarded; Linux does. */
START_TEST(test_echo_to_broadcast_unanswered)
{
	uint8_t f[256];
	uint32_t n;

	th_setup(&t, true);
	n = th_echo(f, PEER_IP, SUBNET_BC, 2, 2, (const uint8_t *)"smurf", 5);
	memcpy(f, BCAST_MAC, 6);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InEchos"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutEchoReps"), 0);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 0);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.2.2: an ICMP error received (dest unreachable, unknown protocol) gets no answer. */
START_TEST(test_error_received_not_answered)
{
	uint8_t f[256], inner[64], quoted[28], icmp[64];
	uint32_t n, ilen;

	th_setup(&t, true);
	/* what we might have sent: IP header + 8 bytes of an unknown protocol */
	th_ipv4(inner, ST_IP, PEER_IP, 253, 0x0042, 0, 64, (const uint8_t *)"12345678", 8);
	memcpy(quoted, inner + 14, 28);
	ilen = th_icmp_msg(icmp, 3, 2, 0, quoted, sizeof(quoted));
	n = th_ipv4(f, PEER_IP, ST_IP, 1, 0x99, 0, 64, icmp, ilen);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InDestUnreachs"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 0);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.2.2: no error about an ICMP error (its timed-out first fragment: no time exceeded). */
START_TEST(test_no_error_about_error)
{
	uint8_t f[256], inner[64], icmp[1600];
	uint32_t n;

	th_setup(&t, true);
	th_ipv4(inner, ST_IP, PEER_IP, 17, 0x0043, 0, 64, (const uint8_t *)"12345678", 8);
	th_icmp_msg(icmp, 3, 3, 0, inner + 14, 28);
	/* the first 16 bytes of a longer message, MF set */
	n = th_ipv4(f, PEER_IP, ST_IP, 1, 0x13, 0x2000, 64, icmp, 16);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	th_advance(&t, 30 * US_NSEC_PER_SEC);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmTimeout"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 0);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.2.2: no ICMP error about a datagram to an IP broadcast address. */
START_TEST(test_no_error_for_ip_broadcast)
{
	uint8_t f[256];
	uint32_t n;

	th_setup(&t, true);
	n = th_ipv4(f, PEER_IP, SUBNET_BC, 253, 0x10, 0, 64, (const uint8_t *)"unknown-proto", 13);
	memcpy(f, BCAST_MAC, 6);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "InUnknownProtos"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 0);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.2.2: no ICMP error about a datagram sent as a link-layer broadcast. */
START_TEST(test_no_error_for_link_broadcast)
{
	uint8_t f[256];
	uint32_t n;

	th_setup(&t, true);
	n = th_ipv4(f, PEER_IP, ST_IP, 253, 0x11, 0, 64, (const uint8_t *)"unknown-proto", 13);
	memcpy(f, BCAST_MAC, 6);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "InUnknownProtos"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 0);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.2.2 / §3.3.2: no ICMP error about a non-initial fragment, even on timeout. */
START_TEST(test_no_error_for_non_first_fragment)
{
	uint8_t f[256];
	uint32_t n;

	th_setup(&t, true);
	n = th_ipv4(f, PEER_IP, ST_IP, 253, 0x12, 8 / 8, 64, (const uint8_t *)"tail", 4);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	th_advance(&t, 31 * US_NSEC_PER_SEC);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "InUnknownProtos"), 0);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmTimeout"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 0);
	th_teardown(&t);
}
END_TEST

static const uint32_t not_a_host[] = { 0x00000000u, 0xf0000001u };

/* RFC 1122 §3.2.2: no ICMP error when the source is not a single host (0.0.0.0, class E). */
START_TEST(test_no_error_for_non_host_source)
{
	uint8_t f[256];
	uint32_t n;

	th_setup(&t, true);
	n = th_udp(f, not_a_host[_i], ST_IP, 5555, 9, (const uint8_t *)"who?", 4);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	if (not_a_host[_i] == 0) /* RFC 1122 §3.2.1.3: 0.0.0.0 to a unicast address is dropped by IP */
		ck_assert_int_eq(th_stat(&t, "Ip", "InAddrErrors"), 1);
	else
		ck_assert_int_eq(th_stat(&t, "Udp", "NoPorts"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 0);
	th_teardown(&t);
}
END_TEST

/* RFC 1191 §3: fragmentation needed with a next-hop MTU lowers the path MTU to that destination, so
 * the next datagram is fragmented to fit, and the datagram's sender is not told (the error is soft,
 * as Linux treats it). */
START_TEST(test_frag_needed_sets_path_mtu)
{
	static uint8_t data[1400];
	uint8_t sent[2048], icmp[128], f[256];
	struct us_udp *u;
	uint32_t ilen, n;
	int len;

	th_setup(&t, true);
	u = us_udp_open(t.st);
	ck_assert_int_eq(us_udp_connect(u, PEER_IP, 9), 0);
	ck_assert_int_eq(us_udp_sendto(u, data, 1000, 0, 0), 1000);
	len = th_recv(&t, sent, sizeof(sent));
	ck_assert_int_eq(len, 14 + 20 + 8 + 1000);
	/* a router says the next hop takes 1000 bytes, quoting our datagram's header + 8 bytes */
	icmp[0] = 3;
	icmp[1] = 4;
	icmp[2] = icmp[3] = 0;
	icmp[4] = icmp[5] = 0;
	icmp[6] = 1000 >> 8;
	icmp[7] = 1000 & 0xff;
	memcpy(icmp + 8, sent + 14, 28);
	ilen = 8 + 28;
	icmp[2] = (uint8_t)(th_csum(icmp, ilen) >> 8);
	icmp[3] = (uint8_t)th_csum(icmp, ilen);
	n = th_ipv4(f, PEER_IP, ST_IP, 1, 77, 0, 64, icmp, ilen);
	th_send(&t, f, n);
	ck_assert_int_eq(us_udp_recvfrom(u, NULL, 0, NULL, NULL), -EAGAIN); /* soft: not reported */
	ck_assert_int_eq(us_udp_sendto(u, data, 1400, 0, 0), 1400);
	/* 1428 bytes of IP in fragments of at most 1000: 976 (a multiple of 8) + the rest */
	len = th_recv(&t, sent, sizeof(sent));
	ck_assert_int_eq(len, 14 + 20 + 976);
	ck_assert_uint_eq(sent[14 + 6] & 0x20, 0x20); /* MF */
	len = th_recv(&t, sent, sizeof(sent));
	ck_assert_int_eq(len, 14 + 20 + 1408 - 976);
	ck_assert_int_eq(th_recv(&t, sent, sizeof(sent)), -1);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.2.2 / RFC 792: an error quoting less than header + 8 bytes is an InErrors. */
START_TEST(test_error_quote_too_short)
{
	uint8_t sent[256], icmp[64], f[256];
	struct us_ping_reply r;
	struct us_ping *p;
	uint32_t ilen, n;

	th_setup(&t, true);
	p = us_ping_open(t.st, 0x7701);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(us_ping_send(p, PEER_IP, 9, "0123456789", 10, 0), 0);
	ck_assert_int_eq(th_recv(&t, sent, sizeof(sent)), 14 + 20 + 18);
	ilen = th_icmp_msg(icmp, 3, 1, 0, sent + 14, 20 + 4);
	n = th_ipv4(f, ROUTER_IP, ST_IP, 1, 0x0c0d, 0, 64, icmp, ilen);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(us_ping_recv(p, &r, NULL, 0), -EAGAIN);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InDestUnreachs"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InErrors"), 1);
	us_ping_close(p);
	th_teardown(&t);
}
END_TEST

/* Send n UDP datagrams to a closed port, at the current instant; return the port unreachables that
 * came back (each checked to be type 3 code 3). */
static int closed_port_burst(int n)
{
	uint8_t f[256], out[2048];
	int got = 0;

	for (int i = 0; i < n; i++) {
		uint32_t len = th_udp(f, PEER_IP, ST_IP, 40000, 9, (const uint8_t *)"x", 1);
		th_send(&t, f, len);
	}
	while (th_recv(&t, out, sizeof(out)) >= 0) {
		ck_assert_uint_eq(out[14 + 9], 1);
		ck_assert_uint_eq(out[14 + 20], 3);
		ck_assert_uint_eq(out[14 + 21], 3);
		got++;
	}
	return got;
}

/* RFC 1122 §3.2.2 (rate limiting, as Linux): burst 50, then 1 per ms (OutRateLimitGlobal). */
START_TEST(test_error_rate_limit)
{
	th_setup(&t, true);
	ck_assert_int_eq(closed_port_burst(60), 50);
	ck_assert_int_eq(th_stat(&t, "Udp", "NoPorts"), 60);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutRateLimitGlobal"), 10);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutDestUnreachs"), 50);
	th_advance(&t, 10 * US_NSEC_PER_MSEC);
	ck_assert_int_eq(closed_port_burst(12), 10);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutRateLimitGlobal"), 12);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutDestUnreachs"), 60);
	th_teardown(&t);
}
END_TEST

/* RFC 792 (Echo): a request carries our identifier, the sequence number and payload, TTL 64 or asked. */
START_TEST(test_ping_send)
{
	uint8_t icmp[64], want[128];
	struct us_ping *p;
	uint32_t ilen, wn;

	th_setup(&t, true);
	p = us_ping_open(t.st, 0x7701);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(us_ping_send(p, PEER_IP, 5, "0123456789", 10, 0), 0);
	ilen = th_icmp_msg(icmp, 8, 0, 0x77010005, (const uint8_t *)"0123456789", 10);
	wn = out_frame(want, 0, 64, 1, ST_IP, PEER_IP, icmp, ilen);
	th_expect_frame(&t, want, wn);
	ck_assert_int_eq(us_ping_send(p, PEER_IP, 6, "", 0, 3), 0);
	ilen = th_icmp_msg(icmp, 8, 0, 0x77010006, NULL, 0);
	wn = out_frame(want, 0, 3, 1, ST_IP, PEER_IP, icmp, ilen);
	th_expect_frame(&t, want, wn);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutEchos"), 2);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 2);
	us_ping_close(p);
	th_teardown(&t);
}
END_TEST

/* RFC 792 (Echo): a reply with our identifier is delivered with from, seq, ttl and payload. */
START_TEST(test_ping_reply_delivered)
{
	uint8_t icmp[64], f[256], buf[32];
	struct us_ping_reply r;
	struct us_ping *p;
	uint32_t ilen, n;

	th_setup(&t, true);
	p = us_ping_open(t.st, 0x7701);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(us_ping_send(p, PEER_IP, 5, "0123456789", 10, 0), 0);
	ck_assert_int_eq(th_drain(&t), 1);
	ilen = th_icmp_msg(icmp, 0, 0, 0x77010005, (const uint8_t *)"0123456789", 10);
	n = th_ipv4(f, PEER_IP, ST_IP, 1, 0x0a0a, 0, 57, icmp, ilen);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(us_ping_recv(p, &r, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(r.from, PEER_IP);
	ck_assert_uint_eq(r.seq, 5);
	ck_assert_uint_eq(r.ttl, 57);
	ck_assert_int_eq(r.error, 0);
	ck_assert_uint_eq(r.len, 10);
	ck_assert_uint_eq(r.rx_ns, us_clock_now(&t.clock));
	ck_assert_mem_eq(buf, "0123456789", 10);
	ck_assert_uint_eq(buf[10], 0);
	ck_assert_int_eq(us_ping_recv(p, &r, buf, sizeof(buf)), -EAGAIN);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InEchoReps"), 1);
	us_ping_close(p);
	th_teardown(&t);
}
END_TEST

/* RFC 792 (Echo): a reply with another identifier is not ours. */
START_TEST(test_ping_reply_other_id)
{
	uint8_t icmp[64], f[256];
	struct us_ping_reply r;
	struct us_ping *p;
	uint32_t ilen, n;

	th_setup(&t, true);
	p = us_ping_open(t.st, 0x7701);
	ck_assert_ptr_nonnull(p);
	ilen = th_icmp_msg(icmp, 0, 0, 0x77020005, (const uint8_t *)"0123456789", 10);
	n = th_ipv4(f, PEER_IP, ST_IP, 1, 0x0a0b, 0, 64, icmp, ilen);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(us_ping_recv(p, &r, NULL, 0), -EAGAIN);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InEchoReps"), 1);
	us_ping_close(p);
	th_teardown(&t);
}
END_TEST

static const struct {
	uint8_t code;
	int err;
} unreach_codes[] = {
	{ 0, -ENETUNREACH },  /* net unreachable */
	{ 1, -EHOSTUNREACH }, /* host unreachable */
};

/* RFC 792 / RFC 1122 §3.2.2.1: a dest unreachable quoting our request reaches the endpoint. */
START_TEST(test_ping_dest_unreachable)
{
	uint8_t sent[256], icmp[64], f[256];
	struct us_ping_reply r;
	struct us_ping *p;
	uint32_t ilen, n;

	th_setup(&t, true);
	p = us_ping_open(t.st, 0x7701);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(us_ping_send(p, PEER_IP, 9, "0123456789", 10, 0), 0);
	ck_assert_int_eq(th_recv(&t, sent, sizeof(sent)), 14 + 20 + 18);
	ilen = th_icmp_msg(icmp, 3, unreach_codes[_i].code, 0, sent + 14, 28);
	n = th_ipv4(f, ROUTER_IP, ST_IP, 1, 0x0c0c, 0, 64, icmp, ilen);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(us_ping_recv(p, &r, NULL, 0), 0);
	ck_assert_int_eq(r.error, unreach_codes[_i].err);
	ck_assert_uint_eq(r.from, ROUTER_IP);
	ck_assert_uint_eq(r.seq, 9);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_int_eq(us_ping_recv(p, &r, NULL, 0), -EAGAIN);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InDestUnreachs"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InErrors"), 0);
	us_ping_close(p);
	th_teardown(&t);
}
END_TEST

/* A router's time exceeded in transit (RFC 792: type 11, code 0, unused 0; the datagram's IP
 * header and its first 8 bytes) about the datagram in the frame sent[], TTL 64 from ROUTER_IP. */
static void send_time_exceeded(const uint8_t *sent)
{
	uint8_t icmp[64], f[256];
	uint32_t ilen = th_icmp_msg(icmp, 11, 0, 0, sent + 14, 28);

	th_send(&t, f, th_ipv4(f, ROUTER_IP, ST_IP, 1, 0x0d0d, 0, 64, icmp, ilen));
}

/* RFC 792 / RFC 1122 §3.2.2.4: a time exceeded quoting our echo request is passed up: the us_ping
 * API reports every error (as a ping socket with IP_RECVERR, which iputils ping sets): EHOSTUNREACH
 * from the router, for that sequence number (Linux's ping_err). Icmp.InTimeExcds counts it; it is
 * not answered (RFC 1122 §3.2.2: no error about an error) and is no input error. */
START_TEST(test_ping_time_exceeded)
{
	uint8_t sent[256];
	struct us_ping_reply r;
	struct us_ping *p;

	th_setup(&t, true);
	p = us_ping_open(t.st, 0x7701);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(us_ping_send(p, PEER_IP, 11, "0123456789", 10, 1), 0);
	ck_assert_int_eq(th_recv(&t, sent, sizeof(sent)), 14 + 20 + 18);
	ck_assert_uint_eq(sent[14 + 8], 1); /* the TTL asked for */
	send_time_exceeded(sent);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InTimeExcds"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InMsgs"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InErrors"), 0);
	ck_assert_int_eq(us_ping_recv(p, &r, NULL, 0), 0);
	ck_assert_int_eq(r.error, -EHOSTUNREACH);
	ck_assert_uint_eq(r.from, ROUTER_IP);
	ck_assert_uint_eq(r.seq, 11);
	ck_assert_int_eq(us_ping_recv(p, &r, NULL, 0), -EAGAIN);
	us_ping_close(p);
	th_teardown(&t);
}
END_TEST

/* A time exceeded quoting a UDP datagram we sent on a connected endpoint: a soft error
 * (Linux's __udp4_lib_err: EHOSTUNREACH, not fatal), and without IP_RECVERR a soft error is not
 * reported (RFC 1122 §4.1.3.3 leaves it to the host), unlike port unreachable (hard: ECONNREFUSED,
 * test_udp). InTimeExcds counts it; the endpoint sends on as before. */
START_TEST(test_udp_time_exceeded)
{
	uint8_t sent[256], buf[16];
	struct us_udp *u;

	th_setup(&t, true);
	u = us_udp_open(t.st);
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(us_udp_connect(u, PEER_IP, 33434), 0); /* traceroute's first port */
	ck_assert_int_eq(us_udp_sendto(u, "probe", 5, 0, 0), 5);
	ck_assert_int_eq(th_recv(&t, sent, sizeof(sent)), 14 + 20 + 8 + 5);
	send_time_exceeded(sent);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InTimeExcds"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InErrors"), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	ck_assert_int_eq(us_udp_sendto(u, "probe", 5, 0, 0), 5);
	ck_assert_int_eq(th_drain(&t), 1);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* Send an echo request (seq) from a ping socket to PEER_IP and read its frame into sent. */
static void ping_socket_send(int fd, uint16_t seq, uint8_t *sent, uint32_t size)
{
	uint8_t req[8 + 4] = { 8, 0, 0, 0, 0, 0, (uint8_t)(seq >> 8), (uint8_t)seq, 'u', 's', 't', 'k' };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(PEER_IP) };

	ck_assert_int_eq(us_sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to)), 12);
	us_stack_poll(t.st);
	ck_assert_int_eq(th_recv(&t, sent, size), 14 + 20 + 12);
}

/* What a ping socket's recv says about ICMP errors, as Linux's ping_err: without IP_RECVERR a soft
 * error (time exceeded) is not reported, and a hard one (host administratively prohibited, RFC 1812
 * code 10: icmp_err_convert's EHOSTUNREACH, fatal) only on a connected socket; with IP_RECVERR every
 * error is reported once: recv fails with EHOSTUNREACH, then has nothing. */
START_TEST(test_ping_socket_errors)
{
	uint8_t sent[256], icmp[64], f[256], buf[64];
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(PEER_IP) };
	int fd, one = 1, got = -1;
	socklen_t len = sizeof(got);
	uint32_t ilen;

	th_setup(&t, true);
	fd = us_socket_on(t.st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_ICMP);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(us_getsockopt(fd, IPPROTO_IP, IP_RECVERR, &got, &len), 0);
	ck_assert_int_eq(got, 0);

	/* unconnected, no IP_RECVERR: neither a soft nor a hard error is reported */
	ping_socket_send(fd, 1, sent, sizeof(sent));
	send_time_exceeded(sent);
	ilen = th_icmp_msg(icmp, 3, 10, 0, sent + 14, 28);
	th_send(&t, f, th_ipv4(f, ROUTER_IP, ST_IP, 1, 0x0e0e, 0, 64, icmp, ilen));
	ck_assert_int_eq(us_recv(fd, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EAGAIN);

	/* connected: the hard error is reported, the soft one still not */
	ck_assert_int_eq(us_connect(fd, (struct sockaddr *)&peer, sizeof(peer)), 0);
	ping_socket_send(fd, 2, sent, sizeof(sent));
	send_time_exceeded(sent);
	ck_assert_int_eq(us_recv(fd, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	th_send(&t, f, th_ipv4(f, ROUTER_IP, ST_IP, 1, 0x0e0f, 0, 64, icmp, th_icmp_msg(icmp, 3, 10, 0, sent + 14, 28)));
	ck_assert_int_eq(us_recv(fd, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EHOSTUNREACH);
	ck_assert_int_eq(us_recv(fd, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EAGAIN);

	/* IP_RECVERR: the time exceeded is reported, once */
	ck_assert_int_eq(us_setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)), 0);
	ping_socket_send(fd, 3, sent, sizeof(sent));
	send_time_exceeded(sent);
	ck_assert_int_eq(us_recv(fd, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EHOSTUNREACH);
	ck_assert_int_eq(us_recv(fd, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InTimeExcds"), 3);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InDestUnreachs"), 2);
	us_close(fd);
	th_teardown(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("icmp");
	TCase *tc = test_tcase("icmp");

	tcase_add_test(tc, test_echo_reply);
	tcase_add_test(tc, test_bad_checksum_dropped);
	tcase_add_test(tc, test_shorter_than_header);
	tcase_add_test(tc, test_unknown_type_discarded);
	tcase_add_test(tc, test_echo_to_broadcast_unanswered);
	tcase_add_test(tc, test_error_received_not_answered);
	tcase_add_test(tc, test_no_error_about_error);
	tcase_add_test(tc, test_no_error_for_ip_broadcast);
	tcase_add_test(tc, test_no_error_for_link_broadcast);
	tcase_add_test(tc, test_no_error_for_non_first_fragment);
	tcase_add_test(tc, test_frag_needed_sets_path_mtu);
	tcase_add_loop_test(tc, test_no_error_for_non_host_source, 0,
			    (int)(sizeof(not_a_host) / sizeof(not_a_host[0])));
	tcase_add_test(tc, test_error_quote_too_short);
	tcase_add_test(tc, test_error_rate_limit);
	tcase_add_test(tc, test_ping_send);
	tcase_add_test(tc, test_ping_reply_delivered);
	tcase_add_test(tc, test_ping_reply_other_id);
	tcase_add_loop_test(tc, test_ping_dest_unreachable, 0,
			    (int)(sizeof(unreach_codes) / sizeof(unreach_codes[0])));
	tcase_add_test(tc, test_ping_time_exceeded);
	tcase_add_test(tc, test_udp_time_exceeded);
	tcase_add_test(tc, test_ping_socket_errors);
	suite_add_tcase(s, tc);
	return test_run(s);
}
