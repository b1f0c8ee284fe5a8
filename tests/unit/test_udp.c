/*
 * test_udp.c - UDP (RFC 768, RFC 1122 §4.1) through the endpoint API of ustack/proto.h: receive and
 * its checks, port unreachable, the checksum we send, binding, connected endpoints and the errors
 * ICMP reports to them, the receive buffer limit, and the send errors.
 *
 * A stack on one end of a pair device (stack_helper.h) with the peer a permanent neighbour; the
 * frames sent and the frames expected back are built here from RFC 768, RFC 791 and RFC 792.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "stack_helper.h"
#include "ustack/proto.h"
#include "ustack/socket.h"
#include "wire/bytes.h"

#define OTHER_IP 0xc6120007u  /* 198.18.0.7: another host on our link */
#define SUBNET_BC 0xc61200ffu /* 198.18.0.255 */
#define OFFLINK_IP 0x0a000001u /* 10.0.0.1: no route */

static struct th t;

/* The frame the stack should send: Ethernet (stack -> peer) + a 20-byte IPv4 header (TTL 64, DF
 * clear; the ID is taken from the frame received) + payload. */
static uint32_t out_frame(uint8_t *buf, uint8_t proto, uint32_t daddr, const uint8_t *payload,
			  uint32_t plen)
{
	uint8_t *ip = buf + th_eth(buf, PEER_MAC, ST_MAC, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	put_be16(ip + 2, (uint16_t)(20 + plen));
	put_be16(ip + 4, 0);
	put_be16(ip + 6, 0);
	ip[8] = 64;
	ip[9] = proto;
	put_be16(ip + 10, 0);
	put_be32(ip + 12, ST_IP);
	put_be32(ip + 16, daddr);
	memcpy(ip + 20, payload, plen);
	return 14 + 20 + plen;
}

/* A UDP datagram as the stack should send it from ST_IP:sport (checksum computed per RFC 768). */
static uint32_t udp_msg(uint8_t *u, uint16_t sport, uint32_t daddr, uint16_t dport, const void *data,
			uint32_t dlen)
{
	uint16_t c;

	put_be16(u, sport);
	put_be16(u + 2, dport);
	put_be16(u + 4, (uint16_t)(8 + dlen));
	put_be16(u + 6, 0);
	memcpy(u + 8, data, dlen);
	c = th_udp_sum(ST_IP, daddr, u, 8 + dlen);
	put_be16(u + 6, c ? c : 0xffff);
	return 8 + dlen;
}

/* An endpoint bound to any address and port. */
static struct us_udp *udp_bound(uint16_t port)
{
	struct us_udp *u = us_udp_open(t.st);

	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(us_udp_bind(u, 0, port), 0);
	return u;
}

/* RFC 768: a datagram to a bound port is delivered with its data, source address and port. */
START_TEST(test_receive)
{
	uint8_t f[256], buf[64];
	struct us_udp *u;
	uint32_t n, saddr = 0;
	uint16_t sport = 0;

	th_setup(&t, true);
	u = udp_bound(7000);
	n = th_udp(f, PEER_IP, ST_IP, 5555, 7000, (const uint8_t *)"hello world", 11);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_uint_eq(us_udp_rx_queued(u, NULL), 1);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), &saddr, &sport), 11);
	ck_assert_mem_eq(buf, "hello world", 11);
	ck_assert_uint_eq(saddr, PEER_IP);
	ck_assert_uint_eq(sport, 5555);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	ck_assert_int_eq(th_stat(&t, "Udp", "InDatagrams"), 1);
	ck_assert_int_eq(th_stat(&t, "Udp", "InErrors"), 0);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 768: an all-zero checksum means none was computed; the datagram is accepted. */
START_TEST(test_receive_zero_checksum)
{
	uint8_t f[256], buf[64];
	struct us_udp *u;
	uint32_t n;

	th_setup(&t, true);
	u = udp_bound(7000);
	n = th_udp(f, PEER_IP, ST_IP, 5555, 7000, (const uint8_t *)"no sum", 6);
	put_be16(f + 14 + 20 + 6, 0);
	th_send(&t, f, n);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), 6);
	ck_assert_mem_eq(buf, "no sum", 6);
	ck_assert_int_eq(th_stat(&t, "Udp", "InDatagrams"), 1);
	ck_assert_int_eq(th_stat(&t, "Udp", "InCsumErrors"), 0);
	th_expect_nothing(&t);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §4.1.3.4: a non-zero invalid checksum is silently discarded (InCsumErrors + InErrors). */
START_TEST(test_receive_bad_checksum)
{
	uint8_t f[256], buf[64];
	struct us_udp *u;
	uint32_t n;

	th_setup(&t, true);
	u = udp_bound(7000);
	n = th_udp(f, PEER_IP, ST_IP, 5555, 7000, (const uint8_t *)"corrupt", 7);
	f[n - 1] ^= 0x10;
	th_send(&t, f, n);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	ck_assert_int_eq(th_stat(&t, "Udp", "InCsumErrors"), 1);
	ck_assert_int_eq(th_stat(&t, "Udp", "InErrors"), 1);
	ck_assert_int_eq(th_stat(&t, "Udp", "InDatagrams"), 0);
	ck_assert_int_eq(th_stat(&t, "Udp", "NoPorts"), 0);
	th_expect_nothing(&t);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §4.1.3.1 / RFC 792: closed port -> port unreachable quoting IP header + 8 bytes. */
START_TEST(test_closed_port_unreachable)
{
	uint8_t f[256], icmp[64], want[256], data[20];
	uint32_t n, ilen, wn;

	th_setup(&t, true);
	for (int i = 0; i < 20; i++)
		data[i] = (uint8_t)(0x30 + i);
	n = th_udp(f, PEER_IP, ST_IP, 5555, 9, data, sizeof(data));
	th_send(&t, f, n);
	ilen = th_icmp_msg(icmp, 3, 3, 0, f + 14, 28);
	wn = out_frame(want, 1, PEER_IP, icmp, ilen);
	th_expect_frame(&t, want, wn);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Udp", "NoPorts"), 1);
	ck_assert_int_eq(th_stat(&t, "Udp", "InDatagrams"), 0);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutDestUnreachs"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 1);
	th_teardown(&t);
}
END_TEST

static const uint32_t bcast_dsts[] = { SUBNET_BC, 0xffffffffu };

/* RFC 1122 §4.1.3.1 / §3.2.2: no port unreachable for a datagram to a broadcast address. */
START_TEST(test_closed_port_broadcast_silent)
{
	uint8_t f[256];
	uint32_t n;

	th_setup(&t, true);
	n = th_udp(f, PEER_IP, bcast_dsts[_i], 5555, 9, (const uint8_t *)"anyone?", 7);
	memcpy(f, BCAST_MAC, 6);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Udp", "NoPorts"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 0);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.2.1.3: a datagram to the limited broadcast reaches an endpoint bound to any address. */
START_TEST(test_receive_broadcast)
{
	uint8_t f[256], buf[64];
	struct us_udp *u;
	uint32_t n;

	th_setup(&t, true);
	u = udp_bound(7000);
	n = th_udp(f, PEER_IP, 0xffffffffu, 5555, 7000, (const uint8_t *)"all", 3);
	memcpy(f, BCAST_MAC, 6);
	th_send(&t, f, n);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), 3);
	ck_assert_mem_eq(buf, "all", 3);
	ck_assert_int_eq(th_stat(&t, "Udp", "InDatagrams"), 1);
	th_expect_nothing(&t);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 768 (Length): a UDP length above the bytes received or below 8 is an error (InErrors). */
START_TEST(test_bad_length)
{
	static const uint16_t lens[] = { 8 + 5 + 1, 7 };
	uint8_t f[256], buf[64];
	struct us_udp *u;
	uint32_t n;

	th_setup(&t, true);
	u = udp_bound(7000);
	for (int i = 0; i < 2; i++) {
		n = th_udp(f, PEER_IP, ST_IP, 5555, 7000, (const uint8_t *)"short", 5);
		put_be16(f + 14 + 20 + 4, lens[i]);
		th_send(&t, f, n);
		ck_assert_int_eq(th_stat(&t, "Udp", "InErrors"), i + 1);
	}
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	ck_assert_int_eq(th_stat(&t, "Udp", "InDatagrams"), 0);
	ck_assert_int_eq(th_stat(&t, "Udp", "InCsumErrors"), 0);
	th_expect_nothing(&t);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 768 (Length): bytes past the UDP length are not UDP data (nor checksummed). */
START_TEST(test_length_shorter_than_ip_payload)
{
	uint8_t f[256], u8[64], buf[64];
	struct us_udp *u;
	uint32_t n, ulen;

	th_setup(&t, true);
	u = udp_bound(7000);
	put_be16(u8, 5555);
	put_be16(u8 + 2, 7000);
	put_be16(u8 + 4, 8 + 4);
	put_be16(u8 + 6, 0);
	memcpy(u8 + 8, "data", 4);
	ulen = 12;
	put_be16(u8 + 6, th_udp_sum(PEER_IP, ST_IP, u8, ulen));
	memcpy(u8 + ulen, "TRAILER!", 8);
	n = th_ipv4(f, PEER_IP, ST_IP, 17, 0x77, 0, 64, u8, ulen + 8);
	th_send(&t, f, n);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), 4);
	ck_assert_mem_eq(buf, "data", 4);
	ck_assert_int_eq(th_stat(&t, "Udp", "InErrors"), 0);
	th_expect_nothing(&t);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 768 (Checksum): sent datagrams carry the sum over pseudo header, header and data. */
START_TEST(test_send_checksum)
{
	uint8_t u8[64], want[256];
	struct us_udp *u;
	uint32_t ulen, wn;

	th_setup(&t, true);
	u = udp_bound(7000);
	ck_assert_int_eq(us_udp_sendto(u, "odd", 3, PEER_IP, 5555), 3);
	ulen = udp_msg(u8, 7000, PEER_IP, 5555, "odd", 3);
	wn = out_frame(want, 17, PEER_IP, u8, ulen);
	th_expect_frame(&t, want, wn);
	ck_assert_uint_eq(th_udp_sum(ST_IP, PEER_IP, want + 34, ulen), 0);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Udp", "OutDatagrams"), 1);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 768 / RFC 1122 §4.1.3.4: a computed checksum of zero is transmitted as all ones. */
START_TEST(test_send_checksum_zero_as_ones)
{
	uint8_t u8[16], out[256], data[2];
	struct us_udp *u;
	uint16_t c;

	th_setup(&t, true);
	u = udp_bound(7000);
	/* the sum with zero data bytes, then the word that brings the one's complement sum to 0xffff */
	memset(data, 0, sizeof(data));
	put_be16(u8, 7000);
	put_be16(u8 + 2, 5555);
	put_be16(u8 + 4, 10);
	put_be16(u8 + 6, 0);
	memcpy(u8 + 8, data, 2);
	c = th_udp_sum(ST_IP, PEER_IP, u8, 10); /* ~S */
	put_be16(data, c);
	memcpy(u8 + 8, data, 2);
	ck_assert_uint_eq(th_udp_sum(ST_IP, PEER_IP, u8, 10), 0); /* computed checksum is zero */
	ck_assert_int_eq(us_udp_sendto(u, data, 2, PEER_IP, 5555), 2);
	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), 14 + 20 + 10);
	ck_assert_uint_eq(get_be16(out + 34 + 6), 0xffff);
	ck_assert_mem_eq(out + 34 + 8, data, 2);
	ck_assert_uint_eq(th_udp_sum(ST_IP, PEER_IP, out + 34, 10), 0);
	th_expect_nothing(&t);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §4.1.3.5 / Linux bind(): port in use, not our address, and binding twice are refused. */
START_TEST(test_bind_errors)
{
	struct us_udp *a, *b;

	th_setup(&t, true);
	a = udp_bound(7000);
	b = us_udp_open(t.st);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(us_udp_bind(b, 0, 7000), -EADDRINUSE);
	ck_assert_int_eq(us_udp_bind(b, ST_IP, 7000), -EADDRINUSE);
	ck_assert_int_eq(us_udp_bind(b, OTHER_IP, 7001), -EADDRNOTAVAIL);
	ck_assert_int_eq(us_udp_bind(b, ST_IP, 7001), 0);
	ck_assert_int_eq(us_udp_bind(b, ST_IP, 7002), -EINVAL);
	ck_assert_int_eq(us_udp_bind(a, 0, 7003), -EINVAL);
	us_udp_close(a);
	us_udp_close(b);
	th_teardown(&t);
}
END_TEST

/* RFC 6056 §2.1: port 0 picks a distinct ephemeral port in Linux's range 32768-60999. */
START_TEST(test_bind_ephemeral)
{
	struct us_udp *u[8];
	uint16_t ports[8];

	th_setup(&t, true);
	for (int i = 0; i < 8; i++) {
		uint32_t addr = 1;

		u[i] = udp_bound(0);
		ck_assert_int_eq(us_udp_getsockname(u[i], &addr, &ports[i]), 0);
		ck_assert_uint_eq(addr, 0);
		ck_assert_uint_ge(ports[i], 32768);
		ck_assert_uint_le(ports[i], 60999);
		for (int j = 0; j < i; j++)
			ck_assert_uint_ne(ports[i], ports[j]);
	}
	for (int i = 0; i < 8; i++)
		us_udp_close(u[i]);
	th_teardown(&t);
}
END_TEST

static const uint8_t other_mac[6] = { 0x02, 0, 0, 0, 0, 0x07 };

/* The next frame is a port unreachable sent to daddr at link address mac. */
static void expect_port_unreachable(const uint8_t *mac, uint32_t daddr)
{
	uint8_t out[2048];

	ck_assert_int_eq(th_recv(&t, out, sizeof(out)), 14 + 20 + 8 + 28);
	ck_assert_mem_eq(out, mac, 6);
	ck_assert_uint_eq(get_be32(out + 14 + 16), daddr);
	ck_assert_uint_eq(out[14 + 9], 1);
	ck_assert_uint_eq(out[34], 3);
	ck_assert_uint_eq(out[35], 3);
}

/* RFC 768 / Linux connect(): only the peer's datagrams are received; daddr 0 sends to it. */
START_TEST(test_connected_filters_and_sends)
{
	uint8_t f[256], buf[64], u8[64], want[256];
	struct us_udp *u;
	uint16_t port;
	uint32_t n, ulen, wn;

	th_setup(&t, true);
	u = us_udp_open(t.st);
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(us_udp_connect(u, PEER_IP, 5555), 0);
	ck_assert_int_eq(us_udp_getsockname(u, NULL, &port), 0);
	ck_assert_uint_ge(port, 32768);
	ck_assert_int_eq(us_neigh_add(t.st, t.ifindex, OTHER_IP, other_mac), 0);
	/* another port of the peer, then another host with the peer's port */
	n = th_udp(f, PEER_IP, ST_IP, 5556, port, (const uint8_t *)"not-peer", 8);
	th_send(&t, f, n);
	expect_port_unreachable(PEER_MAC, PEER_IP);
	n = th_udp(f, OTHER_IP, ST_IP, 5555, port, (const uint8_t *)"not-peer", 8);
	th_send(&t, f, n);
	expect_port_unreachable(other_mac, OTHER_IP);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	ck_assert_int_eq(th_stat(&t, "Udp", "NoPorts"), 2);
	n = th_udp(f, PEER_IP, ST_IP, 5555, port, (const uint8_t *)"peer", 4);
	th_send(&t, f, n);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), 4);
	ck_assert_mem_eq(buf, "peer", 4);
	ck_assert_int_eq(us_udp_sendto(u, "back", 4, 0, 0), 4);
	ulen = udp_msg(u8, port, PEER_IP, 5555, "back", 4);
	wn = out_frame(want, 17, PEER_IP, u8, ulen);
	th_expect_frame(&t, want, wn);
	th_expect_nothing(&t);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* Send "probe" from u to PEER_IP:5555, read it off the wire and feed back a port unreachable from
 * the peer quoting its IP header and first 8 bytes (RFC 792). */
static void refuse_probe(struct us_udp *u, uint32_t daddr)
{
	uint8_t sent[256], icmp[64], f[256];
	uint32_t ilen, n;

	ck_assert_int_eq(us_udp_sendto(u, "probe", 5, daddr, daddr ? 5555 : 0), 5);
	ck_assert_int_eq(th_recv(&t, sent, sizeof(sent)), 14 + 20 + 8 + 5);
	ilen = th_icmp_msg(icmp, 3, 3, 0, sent + 14, 28);
	n = th_ipv4(f, PEER_IP, ST_IP, 1, 0x0e0e, 0, 64, icmp, ilen);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InDestUnreachs"), 1);
}

/* RFC 1122 §4.1.3.3: port unreachable -> ECONNREFUSED once on a connected endpoint. */
START_TEST(test_connected_port_unreachable)
{
	uint8_t buf[64];
	struct us_udp *u;

	th_setup(&t, true);
	u = us_udp_open(t.st);
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(us_udp_connect(u, PEER_IP, 5555), 0);
	refuse_probe(u, 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), -ECONNREFUSED);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §4.1.3.3, as Linux without IP_RECVERR: an unconnected endpoint is not told. */
START_TEST(test_unconnected_not_told)
{
	uint8_t buf[64];
	struct us_udp *u;

	th_setup(&t, true);
	u = udp_bound(7000);
	refuse_probe(u, PEER_IP);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	ck_assert_int_eq(us_udp_sendto(u, "again", 5, PEER_IP, 5555), 5);
	ck_assert_int_eq(th_drain(&t), 1);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §4.1 (queueing left to the host), as Linux: past the receive buffer -> RcvbufErrors. */
START_TEST(test_rcvbuf_limit)
{
	uint8_t f[256], data[40];
	struct us_udp *u;
	uint64_t bytes = 0;
	uint32_t n;

	th_setup(&t, true);
	u = udp_bound(7000);
	ck_assert_int_eq(us_udp_set_rcvbuf(u, 100), 0);
	memset(data, 0x5a, sizeof(data));
	for (int i = 0; i < 3; i++) {
		n = th_udp(f, PEER_IP, ST_IP, 5555, 7000, data, sizeof(data));
		th_send(&t, f, n);
	}
	ck_assert_uint_eq(us_udp_rx_queued(u, &bytes), 2);
	ck_assert_uint_eq(bytes, 80);
	ck_assert_int_eq(th_stat(&t, "Udp", "InDatagrams"), 2);
	ck_assert_int_eq(th_stat(&t, "Udp", "RcvbufErrors"), 1);
	ck_assert_int_eq(th_stat(&t, "Udp", "InErrors"), 1);
	th_expect_nothing(&t);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 768 / recv(MSG_TRUNC): a short buffer gets the start; the full length is returned. */
START_TEST(test_recv_short_buffer)
{
	uint8_t f[256], buf[16];
	struct us_udp *u;
	uint32_t n;

	th_setup(&t, true);
	u = udp_bound(7000);
	n = th_udp(f, PEER_IP, ST_IP, 5555, 7000, (const uint8_t *)"0123456789abcdefghij", 20);
	th_send(&t, f, n);
	memset(buf, '#', sizeof(buf));
	ck_assert_int_eq(us_udp_recvfrom(u, buf, 5, NULL, NULL), 20);
	ck_assert_mem_eq(buf, "01234#####", 10);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.3.1: no route to the destination -> ENETUNREACH (OutNoRoutes), nothing sent. */
START_TEST(test_send_no_route)
{
	struct us_udp *u;

	th_setup(&t, true);
	u = udp_bound(7000);
	ck_assert_int_eq(us_udp_sendto(u, "x", 1, OFFLINK_IP, 53), -ENETUNREACH);
	ck_assert_int_eq(th_stat(&t, "Ip", "OutNoRoutes"), 1);
	ck_assert_int_eq(th_stat(&t, "Udp", "OutDatagrams"), 0);
	th_expect_nothing(&t);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 768 / RFC 791: at most 65,507 data bytes (EMSGSIZE); no destination -> EDESTADDRREQ. */
START_TEST(test_send_errors)
{
	static uint8_t big[65508];
	struct us_udp *u;

	th_setup(&t, true);
	u = udp_bound(7000);
	ck_assert_int_eq(us_udp_sendto(u, big, sizeof(big), PEER_IP, 5555), -EMSGSIZE);
	ck_assert_int_eq(us_udp_sendto(u, "x", 1, 0, 0), -EDESTADDRREQ);
	ck_assert_int_eq(us_udp_sendto(u, "x", 1, 0, 5555), -EDESTADDRREQ);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Udp", "OutDatagrams"), 0);
	ck_assert_int_eq(th_stat(&t, "Ip", "OutRequests"), 0);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* Send len bytes from the socket to PEER_IP:9 and return what IP said: the frames sent (their
 * count), the first one's flags/offset field in *frag0 (0xffff when none). */
static int pmtu_send(int fd, size_t len, uint16_t *frag0, uint8_t *first, uint32_t first_size)
{
	static uint8_t data[2000];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(PEER_IP) };
	uint8_t out[2048];
	int n = 0, got;

	if (us_sendto(fd, data, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len)
		return -errno;
	us_stack_poll(t.st);
	*frag0 = 0xffff;
	while ((got = th_recv(&t, out, sizeof(out))) > 0) {
		if (n++ == 0) {
			*frag0 = get_be16(out + 14 + 6);
			memcpy(first, out, (uint32_t)got < first_size ? (uint32_t)got : first_size);
		}
	}
	return n;
}

static void set_pmtudisc(int fd, int mode)
{
	int got = -1;
	socklen_t len = sizeof(got);

	ck_assert_int_eq(us_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &mode, sizeof(mode)), 0);
	ck_assert_int_eq(us_getsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &got, &len), 0);
	ck_assert_int_eq(got, mode);
}

/* IP_MTU_DISCOVER on a UDP socket, as ip(7) and Linux's __ip_append_data/__ip_make_skb apply it, on
 * a 1,500-byte link (RFC 791 §2.3 DF; RFC 1191 §3, §4: a host doing path MTU discovery sets DF and
 * takes the MTU a fragmentation-needed message reports):
 *   DO     DF on every datagram; one larger than the path MTU fails with EMSGSIZE, nothing sent and
 *          (as Linux, which stops it before IP) no Ip counter moved;
 *   PROBE  DF, but the device's MTU, not the one learned;
 *   WANT   DF when the datagram fits the path MTU, else fragments without DF;
 *   DONT   never DF, fragments at the path MTU.
 * Values outside IP_PMTUDISC_DONT..IP_PMTUDISC_OMIT are EINVAL. The stack's default is DONT (DF
 * clear, as it always sent); Linux's is WANT. */
START_TEST(test_socket_mtu_discover)
{
	uint8_t first[64], icmp[64], fr[128];
	uint16_t frag0;
	int fd, bad, got = -1;
	socklen_t len = sizeof(got);
	uint32_t n;

	th_setup(&t, true);
	fd = us_socket_on(t.st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(us_getsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &got, &len), 0);
	ck_assert_int_eq(got, IP_PMTUDISC_DONT);
	bad = IP_PMTUDISC_OMIT + 1;
	ck_assert_int_eq(us_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &bad, sizeof(bad)), -1);
	ck_assert_int_eq(errno, EINVAL);
	bad = -1;
	ck_assert_int_eq(us_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &bad, sizeof(bad)), -1);
	ck_assert_int_eq(errno, EINVAL);

	/* DO on the link's MTU: 1,472 bytes make 1,500 (20 + 8 + 1,472) and go with DF; one more
	 * byte fails */
	set_pmtudisc(fd, IP_PMTUDISC_DO);
	ck_assert_int_eq(pmtu_send(fd, 1472, &frag0, first, sizeof(first)), 1);
	ck_assert_uint_eq(frag0, 0x4000);
	ck_assert_int_eq(pmtu_send(fd, 1473, &frag0, fr, sizeof(fr)), -EMSGSIZE);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragFails"), 0);
	ck_assert_int_eq(th_stat(&t, "Ip", "OutRequests"), 1);
	ck_assert_int_eq(th_stat(&t, "Udp", "OutDatagrams"), 1);

	/* a router says the next hop takes 1,280 (RFC 1191 §4, quoting the datagram's IP header and
	 * 8 bytes, RFC 792) */
	n = th_icmp_msg(icmp, 3, 4, 1280, first + 14, 28);
	th_send(&t, fr, th_ipv4(fr, PEER_IP, ST_IP, 1, 0x4321, 0, 64, icmp, n));
	ck_assert_int_eq(th_stat(&t, "Icmp", "InDestUnreachs"), 1);
	ck_assert_int_eq(pmtu_send(fd, 1253, &frag0, fr, sizeof(fr)), -EMSGSIZE);
	ck_assert_int_eq(pmtu_send(fd, 1252, &frag0, fr, sizeof(fr)), 1);
	ck_assert_uint_eq(frag0, 0x4000);

	/* PROBE: the device's 1,500, not the 1,280 learned */
	set_pmtudisc(fd, IP_PMTUDISC_PROBE);
	ck_assert_int_eq(pmtu_send(fd, 1472, &frag0, fr, sizeof(fr)), 1);
	ck_assert_uint_eq(frag0, 0x4000);
	ck_assert_int_eq(pmtu_send(fd, 1473, &frag0, fr, sizeof(fr)), -EMSGSIZE);

	/* WANT: DF when it fits 1,280, fragments without DF when it does not */
	set_pmtudisc(fd, IP_PMTUDISC_WANT);
	ck_assert_int_eq(pmtu_send(fd, 100, &frag0, fr, sizeof(fr)), 1);
	ck_assert_uint_eq(frag0, 0x4000);
	ck_assert_int_eq(pmtu_send(fd, 1300, &frag0, fr, sizeof(fr)), 2);
	ck_assert_uint_eq(frag0, 0x2000); /* MF, offset 0, no DF */

	/* DONT: no DF, fragments at 1,280 */
	set_pmtudisc(fd, IP_PMTUDISC_DONT);
	ck_assert_int_eq(pmtu_send(fd, 100, &frag0, fr, sizeof(fr)), 1);
	ck_assert_uint_eq(frag0, 0);
	ck_assert_int_eq(pmtu_send(fd, 1300, &frag0, fr, sizeof(fr)), 2);
	ck_assert_uint_eq(frag0, 0x2000);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragFails"), 0);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragOKs"), 2);

	/* a TCP socket does not take it here (TCP always sets DF) */
	got = IP_PMTUDISC_DO;
	bad = us_socket_on(t.st, AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(us_setsockopt(bad, IPPROTO_IP, IP_MTU_DISCOVER, &got, sizeof(got)), -1);
	ck_assert_int_eq(errno, ENOPROTOOPT);
	us_close(bad);
	us_close(fd);
	th_teardown(&t);
}
END_TEST

/* A connected UDP socket told that its datagram needs fragmenting (RFC 1191 §4: type 3, code 4,
 * the next-hop MTU): with IP_PMTUDISC_DO the next recv fails with EMSGSIZE, once, as Linux's
 * __udp4_lib_err (hard unless IP_PMTUDISC_DONT); with DONT (the stack's default) it is not told,
 * and its datagrams are fragmented to the MTU learned. */
START_TEST(test_socket_frag_needed_error)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9),
				  .sin_addr.s_addr = htonl(PEER_IP) };
	static uint8_t data[1472];
	uint8_t sent[1600], icmp[64], f[128], buf[16];
	int fd, mode = IP_PMTUDISC_DO;
	uint32_t n;

	th_setup(&t, true);
	fd = us_socket_on(t.st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	ck_assert_int_eq(us_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &mode, sizeof(mode)), 0);
	ck_assert_int_eq(us_send(fd, data, sizeof(data), 0), (int)sizeof(data));
	us_stack_poll(t.st);
	ck_assert_int_eq(th_recv(&t, sent, sizeof(sent)), 14 + 1500);
	n = th_icmp_msg(icmp, 3, 4, 1280, sent + 14, 28);
	th_send(&t, f, th_ipv4(f, PEER_IP, ST_IP, 1, 0x4322, 0, 64, icmp, n));
	ck_assert_int_eq(us_recv(fd, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(us_recv(fd, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EAGAIN);

	mode = IP_PMTUDISC_DONT;
	ck_assert_int_eq(us_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &mode, sizeof(mode)), 0);
	ck_assert_int_eq(us_send(fd, data, 1200, 0), 1200);
	us_stack_poll(t.st);
	ck_assert_int_eq(th_recv(&t, sent, sizeof(sent)), 14 + 1228);
	n = th_icmp_msg(icmp, 3, 4, 1000, sent + 14, 28);
	th_send(&t, f, th_ipv4(f, PEER_IP, ST_IP, 1, 0x4323, 0, 64, icmp, n));
	ck_assert_int_eq(us_recv(fd, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(us_send(fd, data, 1200, 0), 1200);
	us_stack_poll(t.st);
	ck_assert_int_eq(th_drain(&t), 2); /* fragmented to 1,000 */
	us_close(fd);
	th_teardown(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("udp");
	TCase *tc = test_tcase("udp");

	tcase_add_test(tc, test_receive);
	tcase_add_test(tc, test_receive_zero_checksum);
	tcase_add_test(tc, test_receive_bad_checksum);
	tcase_add_test(tc, test_closed_port_unreachable);
	tcase_add_loop_test(tc, test_closed_port_broadcast_silent, 0,
			    (int)(sizeof(bcast_dsts) / sizeof(bcast_dsts[0])));
	tcase_add_test(tc, test_receive_broadcast);
	tcase_add_test(tc, test_bad_length);
	tcase_add_test(tc, test_length_shorter_than_ip_payload);
	tcase_add_test(tc, test_send_checksum);
	tcase_add_test(tc, test_send_checksum_zero_as_ones);
	tcase_add_test(tc, test_bind_errors);
	tcase_add_test(tc, test_bind_ephemeral);
	tcase_add_test(tc, test_connected_filters_and_sends);
	tcase_add_test(tc, test_connected_port_unreachable);
	tcase_add_test(tc, test_unconnected_not_told);
	tcase_add_test(tc, test_rcvbuf_limit);
	tcase_add_test(tc, test_recv_short_buffer);
	tcase_add_test(tc, test_send_no_route);
	tcase_add_test(tc, test_send_errors);
	tcase_add_test(tc, test_socket_mtu_discover);
	tcase_add_test(tc, test_socket_frag_needed_error);
	suite_add_tcase(s, tc);
	return test_run(s);
}
