/*
 * test_ip_frag.c - IPv4 fragmentation and reassembly (RFC 791 §2.3 and §3.2, RFC 815, RFC 1122
 * §3.3.2): datagrams put together from fragments in any order, duplicates, overlaps, the reassembly
 * timeout and its ICMP, malformed fragments, the memory cap, and fragmentation on output.
 *
 * A stack on one end of a pair device (stack_helper.h) with the peer a permanent neighbour. The wire
 * carries at most 1500 bytes of IP per frame, so a 3,000-byte echo request goes in as 3 fragments
 * and its reply comes back as 3; the test splits and reassembles by RFC 791 itself.
 */
#include <errno.h>
#include <string.h>

#include "core.h"
#include "stack_helper.h"
#include "ustack/proto.h"
#include "wire/bytes.h"

#define ECHO_DATA 3000
#define ECHO_LEN (8 + ECHO_DATA) /* the ICMP message: 1480 + 1480 + 48 */
#define ECHO_ID 0x4444
#define ECHO_SEQ 0x0001
#define FRAG_DGRAM_ID 0x2222 /* the IP ID of the fragmented request */

static struct th t;

/* The three fragments of the request: payload offset and length (RFC 791: all but the last a
 * multiple of 8 bytes). */
static const struct {
	uint32_t off, len;
} req_frags[3] = { { 0, 1480 }, { 1480, 1480 }, { 2960, 48 } };

/* The echo request (type 8) or the reply it must get (type 0), whole. */
static void echo_msg(uint8_t *m, uint8_t type)
{
	uint8_t data[ECHO_DATA];

	for (uint32_t i = 0; i < ECHO_DATA; i++)
		data[i] = (uint8_t)(i * 31 + 7);
	th_icmp_msg(m, type, 0, (uint32_t)ECHO_ID << 16 | ECHO_SEQ, data, ECHO_DATA);
}

/* A fragment from the peer: Ethernet + IPv4 header with the given ID, offset (bytes, a multiple of 8)
 * and MF, + len bytes of the datagram's payload starting at off. */
static uint32_t frag_frame(uint8_t *buf, uint16_t id, uint8_t proto, const uint8_t *dgram, uint32_t off,
			   uint32_t len, bool mf)
{
	return th_ipv4(buf, PEER_IP, ST_IP, proto, id, (uint16_t)((mf ? 0x2000 : 0) | off / 8), 64,
		       dgram + off, len);
}

/* Send fragment i (0..2) of the echo request, with IP ID id. */
static void send_req_frag(int i, uint16_t id)
{
	uint8_t req[ECHO_LEN], f[1600];
	uint32_t n;

	echo_msg(req, 8);
	n = frag_frame(f, id, 1, req, req_frags[i].off, req_frags[i].len, i < 2);
	th_send(&t, f, n);
}

/* Read the frames of one datagram the stack sent and put its payload together, checking each frame:
 * Ethernet to the peer, a 20-byte header with a correct checksum, at most 1500 bytes of IP (the MTU),
 * TTL 64, DF clear, the same ID and protocol throughout, offsets contiguous in 8-byte units, MF on
 * all but the last, every payload but the last a multiple of 8 (RFC 791 §3.2). Returns the number of
 * frames; *len is the datagram's payload length. */
static int collect_frags(uint8_t proto, uint8_t *payload, uint32_t *len)
{
	uint8_t out[2048];
	uint32_t next = 0;
	uint16_t id = 0;
	int nfrag = 0;

	for (;;) {
		int got = th_recv(&t, out, sizeof(out));
		const uint8_t *ip = out + 14;
		uint32_t tot, plen, off;
		uint16_t frag;

		ck_assert_msg(got > 14 + 20, "fragment %d missing", nfrag);
		ck_assert_mem_eq(out, PEER_MAC, 6);
		ck_assert_mem_eq(out + 6, ST_MAC, 6);
		ck_assert_uint_eq(get_be16(out + 12), 0x0800);
		ck_assert_uint_eq(ip[0], 0x45);
		tot = get_be16(ip + 2);
		ck_assert_int_eq(got, (int)(14 + tot));
		ck_assert_uint_le(tot, 1500);
		if (nfrag == 0)
			id = get_be16(ip + 4);
		ck_assert_uint_eq(get_be16(ip + 4), id);
		frag = get_be16(ip + 6);
		ck_assert_uint_eq(frag & 0xc000, 0); /* reserved bit and DF clear */
		off = (uint32_t)(frag & 0x1fff) * 8;
		ck_assert_uint_eq(off, next);
		ck_assert_uint_eq(ip[8], 64);
		ck_assert_uint_eq(ip[9], proto);
		ck_assert_uint_eq(th_csum(ip, 20), 0);
		ck_assert_uint_eq(get_be32(ip + 12), ST_IP);
		ck_assert_uint_eq(get_be32(ip + 16), PEER_IP);
		plen = tot - 20;
		memcpy(payload + off, ip + 20, plen);
		next += plen;
		nfrag++;
		if (!(frag & 0x2000))
			break;
		ck_assert_uint_eq(plen % 8, 0);
	}
	*len = next;
	return nfrag;
}

/* The echo reply to the 3,000-byte request comes back (fragmented: 1480 + 1480 + 48) byte-exact, and
 * nothing else is sent. */
static void expect_echo_reply(void)
{
	static uint8_t got[65536];
	uint8_t want[ECHO_LEN];
	uint32_t len;

	echo_msg(want, 0);
	ck_assert_int_eq(collect_frags(1, got, &len), 3);
	ck_assert_uint_eq(len, ECHO_LEN);
	ck_assert_mem_eq(got, want, ECHO_LEN);
	th_expect_nothing(&t);
}

/* A UDP datagram of ulen bytes from the peer's port 5555 to our 7000, data bytes already in place:
 * header and checksum filled in (RFC 768). */
static void udp_from_peer(uint8_t *dgram, uint32_t ulen)
{
	uint16_t c;

	put_be16(dgram, 5555);
	put_be16(dgram + 2, 7000);
	put_be16(dgram + 4, (uint16_t)ulen);
	put_be16(dgram + 6, 0);
	c = th_udp_sum(PEER_IP, ST_IP, dgram, ulen);
	put_be16(dgram + 6, c ? c : 0xffff);
}

/* Send bytes [from, len) of a UDP datagram as fragments of 1480 bytes with IP ID id, MF on all
 * but the one that ends it; returns how many. */
static uint32_t send_udp_frags(const uint8_t *dgram, uint32_t from, uint32_t len, uint16_t id)
{
	uint8_t f[1600];
	uint32_t nfrag = 0;

	for (uint32_t off = from; off < len; off += 1480) {
		uint32_t n = len - off < 1480 ? len - off : 1480;

		th_send(&t, f, frag_frame(f, id, 17, dgram, off, n, off + n < len));
		nfrag++;
	}
	return nfrag;
}

static const int orders[][3] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 0, 2 } };

/* RFC 791 §3.2 / RFC 815: fragments in any order make one datagram, echoed byte-exact. */
START_TEST(test_reassemble_any_order)
{
	th_setup(&t, true);
	for (int k = 0; k < 3; k++) {
		send_req_frag(orders[_i][k], FRAG_DGRAM_ID);
		if (k < 2)
			th_expect_nothing(&t);
	}
	expect_echo_reply();
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmReqds"), 3);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmOKs"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 0);
	ck_assert_int_eq(th_stat(&t, "Ip", "InDelivers"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InEchos"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragOKs"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragCreates"), 3);
	ck_assert_uint_eq(t.st->frags.count, 0);
	ck_assert_uint_eq(t.st->frags.mem, 0);
	th_teardown(&t);
}
END_TEST

/* RFC 791 §3.2 (reassembly): an exact duplicate fragment changes nothing; the datagram completes. */
START_TEST(test_duplicate_ignored)
{
	static const int seq[] = { 0, 2, 0, 2, 1 };

	th_setup(&t, true);
	for (int k = 0; k < 5; k++) {
		send_req_frag(seq[k], FRAG_DGRAM_ID);
		if (k < 4)
			th_expect_nothing(&t);
	}
	expect_echo_reply();
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmReqds"), 5);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmOKs"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 0);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmOverlaps"), 0);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InEchos"), 1);
	th_teardown(&t);
}
END_TEST

/* RFC 791 §3.2, as Linux / RFC 5722: an overlap kills the datagram and swallows the rest. */
START_TEST(test_overlap_kills_datagram)
{
	uint8_t req[ECHO_LEN], f[1600];
	uint32_t n;

	th_setup(&t, true);
	echo_msg(req, 8);
	send_req_frag(0, FRAG_DGRAM_ID);
	n = frag_frame(f, FRAG_DGRAM_ID, 1, req, 1400, 80, true); /* bytes 1400..1479 again */
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmOverlaps"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 1);
	ck_assert_uint_eq(t.st->frags.mem, 0);
	for (int i = 0; i < 3; i++)
		send_req_frag(i, FRAG_DGRAM_ID);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmOKs"), 0);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "InMsgs"), 0);
	th_advance(&t, 30 * US_NSEC_PER_SEC);
	th_expect_nothing(&t);
	ck_assert_uint_eq(t.st->frags.count, 0);
	/* the timer has ended it: the same datagram again is a new one */
	for (int i = 0; i < 3; i++)
		send_req_frag(i, FRAG_DGRAM_ID);
	expect_echo_reply();
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmOKs"), 1);
	th_teardown(&t);
}
END_TEST

/* RFC 792 / RFC 1122 §3.3.2: timeout with fragment zero -> time exceeded code 1. */
START_TEST(test_timeout_first_fragment_time_exceeded)
{
	uint8_t req[ECHO_LEN], f[1600], icmp[64], out[2048], want[128];
	uint8_t *ip = want + 14;
	uint32_t ilen, n;
	int got;

	th_setup(&t, true);
	echo_msg(req, 8);
	n = frag_frame(f, FRAG_DGRAM_ID, 1, req, 0, 1480, true);
	th_send(&t, f, n);
	th_advance(&t, 30 * US_NSEC_PER_SEC - 1);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmTimeout"), 0);
	th_advance(&t, 1);
	ilen = th_icmp_msg(icmp, 11, 1, 0, f + 14, 20 + 8);
	got = th_recv(&t, out, sizeof(out));
	ck_assert_int_eq(got, 14 + 20 + (int)ilen);
	th_eth(want, PEER_MAC, ST_MAC, 0x0800);
	ip[0] = 0x45;
	ip[1] = 0;
	put_be16(ip + 2, (uint16_t)(20 + ilen));
	memcpy(ip + 4, out + 14 + 4, 2); /* the ID is the stack's */
	put_be16(ip + 6, 0);
	ip[8] = 64;
	ip[9] = 1;
	put_be16(ip + 10, 0);
	put_be32(ip + 12, ST_IP);
	put_be32(ip + 16, PEER_IP);
	put_be16(ip + 10, th_csum(ip, 20));
	memcpy(ip + 20, icmp, ilen);
	ck_assert_mem_eq(out, want, (size_t)got);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmTimeout"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutTimeExcds"), 1);
	ck_assert_uint_eq(t.st->frags.count, 0);
	ck_assert_uint_eq(t.st->frags.mem, 0);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.3.2: timeout without fragment zero sends no time exceeded. */
START_TEST(test_timeout_without_first_fragment_silent)
{
	th_setup(&t, true);
	send_req_frag(1, FRAG_DGRAM_ID);
	send_req_frag(2, FRAG_DGRAM_ID);
	th_advance(&t, 30 * US_NSEC_PER_SEC);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmTimeout"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 1);
	ck_assert_int_eq(th_stat(&t, "Icmp", "OutMsgs"), 0);
	ck_assert_uint_eq(t.st->frags.count, 0);
	th_teardown(&t);
}
END_TEST

/* RFC 791 §3.2: all fragments but the last carry a multiple of 8 bytes; else dropped. */
START_TEST(test_non_last_not_multiple_of_8)
{
	uint8_t req[ECHO_LEN], f[1600];
	uint32_t n;

	th_setup(&t, true);
	echo_msg(req, 8);
	n = frag_frame(f, FRAG_DGRAM_ID, 1, req, 0, 1476, true);
	th_send(&t, f, n);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmReqds"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 1);
	ck_assert_uint_eq(t.st->frags.count, 0);
	th_teardown(&t);
}
END_TEST

/* RFC 791 §3.1: a fragment ending past a 65,535-byte datagram is dropped (ReasmFails). */
START_TEST(test_fragment_past_65535)
{
	uint8_t data[65536], f[128];
	uint32_t n;

	th_setup(&t, true);
	memset(data, 0x11, sizeof(data));
	/* offset 65,512 (8189 units) + 3 bytes + a 20-byte header = 65,535: the largest datagram */
	n = frag_frame(f, 0x3001, 253, data, 65512, 3, false);
	th_send(&t, f, n);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 0);
	ck_assert_uint_eq(t.st->frags.count, 1);
	/* one byte more */
	n = frag_frame(f, 0x3002, 253, data, 65512, 4, false);
	th_send(&t, f, n);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 1);
	ck_assert_uint_eq(t.st->frags.count, 1);
	/* the largest offset the field holds */
	n = frag_frame(f, 0x3003, 253, data, 65528, 8, true);
	th_send(&t, f, n);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 2);
	ck_assert_uint_eq(t.st->frags.count, 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmReqds"), 3);
	th_expect_nothing(&t);
	th_teardown(&t);
}
END_TEST

/* th_setup with a non-default configuration (the same stack, device and neighbour otherwise). */
static void setup_with(const struct us_stack_config *cfg)
{
	struct us_stack_config sc = *cfg;
	struct netdev_pair_config pc = { 0 };
	struct netdev *dev;

	memset(&t, 0, sizeof(t));
	us_clock_init_virtual(&t.clock, 1000 * US_NSEC_PER_SEC);
	sc.seed = 42;
	sc.clock = &t.clock;
	t.st = us_stack_create(&sc);
	ck_assert_ptr_nonnull(t.st);
	pc.a = (struct netdev_config){ .pool = us_stack_pool(t.st), .clock = &t.clock, .name = "st0" };
	memcpy(pc.a.mac, ST_MAC, 6);
	pc.b = (struct netdev_config){ .pool = t_pool, .clock = &t.clock, .name = "wire" };
	memcpy(pc.b.mac, PEER_MAC, 6);
	ck_assert_int_eq(netdev_pair_create(&pc, &dev, &t.wire), 0);
	t.ifindex = us_stack_add_netdev(t.st, dev);
	ck_assert_int_eq(t.ifindex, 1);
	ck_assert_int_eq(us_addr_add(t.st, t.ifindex, ST_IP, 24), 0);
	us_stack_poll(t.st);
	th_drain(&t);
	ck_assert_int_eq(us_neigh_add(t.st, t.ifindex, PEER_IP, PEER_MAC), 0);
}

/* RFC 1122 §3.3.2 (finite reassembly resources): memory stays within reasm_max_bytes. */
START_TEST(test_memory_cap)
{
	struct us_stack_config cfg = { .reasm_max_bytes = 64 * 1024 };
	const int flood = 100;

	setup_with(&cfg);
	for (int i = 0; i < flood; i++) {
		send_req_frag(0, (uint16_t)(0x1000 + i));
		ck_assert_uint_le(t.st->frags.mem, 64 * 1024);
	}
	th_expect_nothing(&t);
	ck_assert_uint_gt(t.st->frags.count, 0);
	ck_assert_uint_lt(t.st->frags.count, flood);
	/* every datagram begun is either still held or was evicted and counted */
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails") + (int64_t)t.st->frags.count, flood);
	/* more for the oldest datagram still held (eviction is oldest first) stays within the cap too */
	send_req_frag(1, (uint16_t)(0x1000 + flood - (int)t.st->frags.count));
	ck_assert_uint_le(t.st->frags.mem, 64 * 1024);
	for (int i = 0; i < 3; i++) {
		send_req_frag(i, FRAG_DGRAM_ID);
		ck_assert_uint_le(t.st->frags.mem, 64 * 1024);
	}
	expect_echo_reply();
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmOKs"), 1);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.3.2: a datagram fails once - evicting a dead queue is not a second failure. */
START_TEST(test_memory_cap_dead_queue_counted_once)
{
	struct us_stack_config cfg = { .reasm_max_bytes = 64 * 1024 };
	uint8_t req[ECHO_LEN], f[1600];
	const int flood = 100;
	uint32_t n;

	setup_with(&cfg);
	echo_msg(req, 8);
	send_req_frag(0, 0x0fff);
	n = frag_frame(f, 0x0fff, 1, req, 1400, 80, true);
	th_send(&t, f, n);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 1);
	ck_assert_uint_eq(t.st->frags.count, 1); /* dead, holding nothing, the oldest */
	for (int i = 0; i < flood; i++)
		send_req_frag(0, (uint16_t)(0x1000 + i));
	th_expect_nothing(&t);
	/* the oldest queues went first, the dead one among them */
	ck_assert_uint_lt(t.st->frags.count, flood);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 1 + flood - (int64_t)t.st->frags.count);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.3.2: at most 1024 datagrams in reassembly; evicting one counts ReasmFails. */
START_TEST(test_queue_limit_counted)
{
	uint8_t data[8] = { 0 }, f[128];
	uint32_t n;

	th_setup(&t, true);
	for (int i = 0; i < 1025; i++) {
		n = frag_frame(f, (uint16_t)(0x8000 + i), 253, data, 0, 8, true);
		th_send(&t, f, n);
	}
	ck_assert_uint_eq(t.st->frags.count, 1024);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 1);
	th_expect_nothing(&t);
	th_teardown(&t);
}
END_TEST

/* RFC 1122 §3.3.2 (EMTU_R): 65,507 bytes of UDP in 45 fragments arrive whole. */
START_TEST(test_reassemble_largest_udp)
{
	static uint8_t dgram[65515], buf[65536];
	struct us_udp *u;

	th_setup(&t, true);
	u = us_udp_open(t.st);
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(us_udp_bind(u, 0, 7000), 0);
	for (uint32_t i = 8; i < sizeof(dgram); i++)
		dgram[i] = (uint8_t)(i * 13 + (i >> 9));
	udp_from_peer(dgram, sizeof(dgram));
	ck_assert_uint_eq(send_udp_frags(dgram, 0, sizeof(dgram), 0x5a5a), 45);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), 65507);
	ck_assert_mem_eq(buf, dgram + 8, 65507);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmOKs"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmReqds"), 45);
	ck_assert_int_eq(th_stat(&t, "Udp", "InDatagrams"), 1);
	th_expect_nothing(&t);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* Send len bytes by UDP from port 7000 to the peer's 5555, put the fragments back together and check
 * the datagram: the UDP header, the data, a checksum over the whole (RFC 768), and the counters
 * (FragOKs 1, FragCreates = frames). Returns the number of fragments. */
static int send_fragmented(uint32_t len)
{
	static uint8_t data[65507], got[65536];
	struct us_udp *u = us_udp_open(t.st);
	uint32_t glen;
	int nfrag;

	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(us_udp_bind(u, 0, 7000), 0);
	for (uint32_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	ck_assert_int_eq(us_udp_sendto(u, data, len, PEER_IP, 5555), (int)len);
	nfrag = collect_frags(17, got, &glen);
	ck_assert_uint_eq(glen, 8 + len);
	ck_assert_uint_eq(get_be16(got), 7000);
	ck_assert_uint_eq(get_be16(got + 2), 5555);
	ck_assert_uint_eq(get_be16(got + 4), 8 + len);
	ck_assert_uint_ne(get_be16(got + 6), 0);
	ck_assert_uint_eq(th_udp_sum(ST_IP, PEER_IP, got, glen), 0);
	ck_assert_mem_eq(got + 8, data, len);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "OutRequests"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragOKs"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragCreates"), nfrag);
	ck_assert_int_eq(th_stat(&t, "Udp", "OutDatagrams"), 1);
	us_udp_close(u);
	return nfrag;
}

/* RFC 791 §2.3, §3.2: 8,008 bytes of UDP leave as 5 x 1480 + 608 in 8-byte units, MF, one ID. */
START_TEST(test_fragment_output)
{
	th_setup(&t, true);
	ck_assert_int_eq(send_fragmented(8000), 6);
	th_teardown(&t);
}
END_TEST

/* RFC 768 / RFC 791: 65,507 data bytes leave as 45 fragments; 65,508 is EMSGSIZE. */
START_TEST(test_fragment_output_largest)
{
	static uint8_t big[65508];
	struct us_udp *u;

	th_setup(&t, true);
	ck_assert_int_eq(send_fragmented(65507), 45);
	u = us_udp_open(t.st);
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(us_udp_sendto(u, big, sizeof(big), PEER_IP, 5555), -EMSGSIZE);
	th_expect_nothing(&t);
	ck_assert_int_eq(th_stat(&t, "Ip", "FragOKs"), 1);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* RFC 791 §3.1: a datagram whose first header makes it > 65,535 bytes fails (ReasmFails). */
START_TEST(test_reassembled_oversize_dropped)
{
	static uint8_t dgram[65515];
	uint8_t f[1600], buf[64];
	struct us_udp *u;

	th_setup(&t, true);
	u = us_udp_open(t.st);
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(us_udp_bind(u, 0, 7000), 0);
	memset(dgram, 0x3c, sizeof(dgram));
	udp_from_peer(dgram, sizeof(dgram));
	/* each fragment fits with its own 20-byte header (the last ends at 65,515), but the first has
	 * IHL 15 (40 bytes of NOPs) and 1440 bytes: the datagram would be 60 + 65,515 = 65,575 */
	frag_frame(f, 0x6b6b, 17, dgram, 0, 1440, true);
	memmove(f + 14 + 60, f + 14 + 20, 1440);
	memset(f + 14 + 20, 1, 40);
	f[14] = 0x4f;
	put_be16(f + 14 + 2, 60 + 1440);
	put_be16(f + 14 + 10, 0);
	put_be16(f + 14 + 10, th_csum(f + 14, 60));
	th_send(&t, f, 14 + 60 + 1440);
	send_udp_frags(dgram, 1440, sizeof(dgram), 0x6b6b);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmFails"), 1);
	ck_assert_int_eq(th_stat(&t, "Ip", "ReasmOKs"), 0);
	ck_assert_int_eq(us_udp_recvfrom(u, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	ck_assert_int_eq(th_stat(&t, "Udp", "InDatagrams"), 0);
	ck_assert_uint_eq(t.st->frags.count, 0);
	th_expect_nothing(&t);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ip_frag");
	TCase *tc = test_tcase("ip_frag");

	tcase_add_loop_test(tc, test_reassemble_any_order, 0, (int)(sizeof(orders) / sizeof(orders[0])));
	tcase_add_test(tc, test_duplicate_ignored);
	tcase_add_test(tc, test_overlap_kills_datagram);
	tcase_add_test(tc, test_timeout_first_fragment_time_exceeded);
	tcase_add_test(tc, test_timeout_without_first_fragment_silent);
	tcase_add_test(tc, test_non_last_not_multiple_of_8);
	tcase_add_test(tc, test_fragment_past_65535);
	tcase_add_test(tc, test_memory_cap);
	tcase_add_test(tc, test_memory_cap_dead_queue_counted_once);
	tcase_add_test(tc, test_queue_limit_counted);
	tcase_add_test(tc, test_reassemble_largest_udp);
	tcase_add_test(tc, test_reassembled_oversize_dropped);
	tcase_add_test(tc, test_fragment_output);
	tcase_add_test(tc, test_fragment_output_largest);
	suite_add_tcase(s, tc);
	return test_run(s);
}
