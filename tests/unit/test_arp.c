/*
 * test_arp.c - ARP (RFC 826) and the neighbour cache's state machine (the comment at the top of
 * arp.c), on virtual time.
 *
 * Each test starts from a stack in a known state (stack_helper's, or t_setup_cfg()'s when it needs a
 * non-default struct us_stack_config), puts ARP packets on the wire or sends UDP datagrams that need
 * resolving, moves the clock to exact instants, and checks the exact frames that came out, that
 * nothing else did, the cache state (us_neigh_state) and the Arp counters.
 *
 * Expected ARP packets are written out from RFC 826's layout (hrd 1, pro 0x0800, hln 6, pln 4, op,
 * sha, spa, tha, tpa); expected datagrams are built with th_udp() and given the IP identification
 * the stack chose (it comes from the stack's seeded generator).
 */
#include <errno.h>
#include <string.h>

#include "stack_helper.h"
#include "ustack/proto.h"
#include "wire/bytes.h"

#define SEC US_NSEC_PER_SEC
#define MS US_NSEC_PER_MSEC
#define NB_IP 0xc6120009u    /* 198.18.0.9: a neighbour the stack does not know yet */
#define OTHER_IP 0xc6120063u /* 198.18.0.99: neither ours nor anyone's in these tests */
#define SPORT 5555
#define DPORT 7

static const uint8_t NB_MAC[6] = { 0x02, 0, 0, 0, 0, 0x09 };
static const uint8_t NEW_MAC[6] = { 0x02, 0, 0, 0, 0, 0x77 };
static const uint8_t ZERO_MAC[6];

static struct th t;

static void setup(void)
{
	th_setup(&t, false);
}

static void teardown(void)
{
	th_teardown(&t);
}

/* th_setup() with the caller's configuration (clock and seed are filled in); the gratuitous ARP
 * us_addr_add() sends is left on the wire when keep_announce. */
static void t_setup_cfg(struct th *x, struct us_stack_config *sc, bool keep_announce)
{
	struct netdev_pair_config pc = { 0 };
	struct netdev *dev;

	memset(x, 0, sizeof(*x));
	us_clock_init_virtual(&x->clock, 1000 * SEC);
	sc->clock = &x->clock;
	sc->seed = 42;
	x->st = us_stack_create(sc);
	ck_assert_ptr_nonnull(x->st);
	pc.a = (struct netdev_config){ .pool = us_stack_pool(x->st), .clock = &x->clock, .name = "st0" };
	memcpy(pc.a.mac, ST_MAC, 6);
	pc.b = (struct netdev_config){ .pool = t_pool, .clock = &x->clock, .name = "wire" };
	memcpy(pc.b.mac, PEER_MAC, 6);
	ck_assert_int_eq(netdev_pair_create(&pc, &dev, &x->wire), 0);
	x->ifindex = us_stack_add_netdev(x->st, dev);
	ck_assert_int_eq(x->ifindex, 1);
	ck_assert_int_eq(us_addr_add(x->st, x->ifindex, ST_IP, 24), 0);
	us_stack_poll(x->st);
	if (!keep_announce)
		th_drain(x);
}

static int64_t arp(const char *name)
{
	return th_stat(&t, "Arp", name);
}

static void t_expect_nothing(void)
{
	uint8_t got[2048];

	ck_assert_int_eq(th_recv(&t, got, sizeof(got)), -1);
}

/* An Ethernet/IPv4 ARP packet written out field by field from RFC 826's layout. */
static uint32_t t_arp_pkt(uint8_t *f, const uint8_t *eth_dst, const uint8_t *eth_src, uint16_t op,
			  const uint8_t *sha, uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	memcpy(f, eth_dst, 6);
	memcpy(f + 6, eth_src, 6);
	f[12] = 0x08, f[13] = 0x06; /* ether_type$ADDRESS_RESOLUTION */
	f[14] = 0x00, f[15] = 0x01; /* ar$hrd: ares_hrd$Ethernet */
	f[16] = 0x08, f[17] = 0x00; /* ar$pro: IP */
	f[18] = 6;		    /* ar$hln */
	f[19] = 4;		    /* ar$pln */
	put_be16(f + 20, op);	    /* ar$op */
	memcpy(f + 22, sha, 6);	    /* ar$sha */
	put_be32(f + 28, spa);	    /* ar$spa */
	memcpy(f + 32, tha, 6);	    /* ar$tha */
	put_be32(f + 38, tpa);	    /* ar$tpa */
	return 42;
}

/* The next frame is exactly want (n bytes). */
static void t_expect_frame(const uint8_t *want, uint32_t n)
{
	uint8_t got[2048];

	ck_assert_int_eq(th_recv(&t, got, sizeof(got)), (int)n);
	ck_assert_mem_eq(got, want, n);
}

/* The next frame is our broadcast request for tpa (RFC 826 "Packet Generation": op REQUEST, our
 * addresses as sender, target hardware address unknown - zero), and nothing follows it. */
static void t_expect_request(uint32_t tpa)
{
	uint8_t want[64];

	t_expect_frame(want, t_arp_pkt(want, BCAST_MAC, ST_MAC, 1, ST_MAC, ST_IP, ZERO_MAC, tpa));
	t_expect_nothing();
}

/* The next frame is our reply to a request from <sha, spa> (RFC 826 "Packet Reception": sender
 * and target swapped, our addresses as sender, op REPLY, sent to the requester's hardware address). */
static void t_expect_reply(const uint8_t *sha, uint32_t spa)
{
	uint8_t want[64];

	t_expect_frame(want, t_arp_pkt(want, sha, ST_MAC, 2, ST_MAC, ST_IP, sha, spa));
}

/* The next frame is a UDP datagram from us (SPORT) to daddr:DPORT holding data, sent to dst. */
static void t_expect_udp(const uint8_t *dst, uint32_t daddr, const void *data, uint32_t dlen)
{
	uint8_t want[2048], got[2048];
	uint32_t n = th_udp(want, ST_IP, daddr, SPORT, DPORT, data, dlen);

	ck_assert_int_eq(th_recv(&t, got, sizeof(got)), (int)n);
	memcpy(want, dst, 6);
	memcpy(want + 6, ST_MAC, 6);
	memcpy(want + 14 + 4, got + 14 + 4, 2); /* identification: the stack's choice */
	put_be16(want + 14 + 10, 0);
	put_be16(want + 14 + 10, th_csum(want + 14, 20));
	ck_assert_mem_eq(got, want, n);
}

/* A UDP endpoint bound to SPORT. */
static struct us_udp *t_udp(void)
{
	struct us_udp *u = us_udp_open(t.st);

	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(us_udp_bind(u, 0, SPORT), 0);
	return u;
}

static void t_sendto(struct us_udp *u, uint32_t daddr, const char *s)
{
	ck_assert_int_eq(us_udp_sendto(u, s, strlen(s), daddr, DPORT), (int)strlen(s));
}

/* A frame from the wire: an ARP packet with the given fields, Ethernet source = sha. */
static void t_arp_in(const uint8_t *eth_dst, uint16_t op, const uint8_t *sha, uint32_t spa,
		     const uint8_t *tha, uint32_t tpa)
{
	uint8_t f[64];

	th_send(&t, f, t_arp_pkt(f, eth_dst, sha, op, sha, spa, tha, tpa));
}

static void t_state(uint32_t addr, const char *want, const uint8_t *mac)
{
	uint8_t got[6];
	const char *s = us_neigh_state(t.st, addr, got);

	if (!want) {
		ck_assert_ptr_null(s);
		return;
	}
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, want);
	if (mac)
		ck_assert_mem_eq(got, mac, 6);
}

/* ---- receiving (RFC 826 "Packet Reception") ---- */

/* RFC 826 Packet Reception: a request for our address is answered with one reply, every field as
 * the algorithm says, and the requester is added to the table (as STALE, arp.c's rule). */
START_TEST(test_arp_request_for_us)
{
	static const uint8_t reply[42] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* Ethernet dst: the requester */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* Ethernet src: us */
		0x08, 0x06,			    /* ARP */
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, /* hrd Ethernet, pro IP, hln 6, pln 4 */
		0x00, 0x02,			    /* op REPLY */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, /* sha: our MAC */
		0xc6, 0x12, 0x00, 0x02,		    /* spa: 198.18.0.2 */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, /* tha: the requester's MAC */
		0xc6, 0x12, 0x00, 0x01,		    /* tpa: 198.18.0.1 */
	};

	t_state(PEER_IP, NULL, NULL);
	t_arp_in(BCAST_MAC, 1, PEER_MAC, PEER_IP, ZERO_MAC, ST_IP);
	t_expect_frame(reply, sizeof(reply));
	t_expect_nothing();
	t_state(PEER_IP, "STALE", PEER_MAC);
	ck_assert_int_eq(arp("InPackets"), 1);
	ck_assert_int_eq(arp("InRequests"), 1);
	ck_assert_int_eq(arp("OutReplies"), 1);
	ck_assert_int_eq(arp("InErrors"), 0);
	ck_assert_int_eq(arp("InNotForUs"), 0);
	ck_assert_int_eq(arp("OutRequests"), 0);
	ck_assert_int_eq(th_stat(&t, "Eth", "OutFrames"), 2);
}
END_TEST

/* RFC 826 Packet Reception: "Send the packet to the (new) target hardware address" - the ARP sender
 * hardware address, not the frame's Ethernet source; a nonzero tha in the request is ignored; and
 * the padding of a minimum-size (60-byte) Ethernet frame is not part of the packet. */
START_TEST(test_arp_request_variants)
{
	static const uint8_t bridge[6] = { 0x02, 0, 0, 0, 0, 0x55 };
	uint8_t f[64];
	uint32_t n;

	n = t_arp_pkt(f, BCAST_MAC, bridge, 1, PEER_MAC, PEER_IP, NEW_MAC, ST_IP);
	th_send(&t, f, n);
	t_expect_reply(PEER_MAC, PEER_IP);
	t_expect_nothing();
	t_state(PEER_IP, "STALE", PEER_MAC);

	n = t_arp_pkt(f, ST_MAC, NB_MAC, 1, NB_MAC, NB_IP, ZERO_MAC, ST_IP);
	memset(f + n, 0, 60 - n);
	th_send(&t, f, 60);
	t_expect_reply(NB_MAC, NB_IP);
	t_expect_nothing();
	t_state(NB_IP, "STALE", NB_MAC);
	ck_assert_int_eq(arp("InRequests"), 2);
	ck_assert_int_eq(arp("OutReplies"), 2);
	ck_assert_int_eq(arp("InErrors"), 0);
}
END_TEST

/* RFC 826 Packet Reception: a learned requester can be sent to at once, without a request of our
 * own (the "bidirectional communication" assumption). */
START_TEST(test_arp_requester_usable)
{
	struct us_udp *u = t_udp();

	t_arp_in(BCAST_MAC, 1, PEER_MAC, PEER_IP, ZERO_MAC, ST_IP);
	t_expect_reply(PEER_MAC, PEER_IP);
	t_sendto(u, PEER_IP, "hi");
	t_expect_udp(PEER_MAC, PEER_IP, "hi", 2);
	t_expect_nothing();
	ck_assert_int_eq(arp("OutRequests"), 0);
	us_udp_close(u);
}
END_TEST

/* RFC 5227 §2.1.1: an ARP probe (sender protocol address 0) for our address is answered as RFC 826
 * says - that answer is how the prober sees the conflict - and 0.0.0.0 is never learned. */
START_TEST(test_arp_probe_for_us)
{
	t_arp_in(BCAST_MAC, 1, NB_MAC, 0, ZERO_MAC, ST_IP);
	t_expect_reply(NB_MAC, 0);
	t_expect_nothing();
	t_state(0, NULL, NULL);
	t_state(NB_IP, NULL, NULL);
	ck_assert_int_eq(arp("InRequests"), 1);
	ck_assert_int_eq(arp("OutReplies"), 1);
}
END_TEST

/* RFC 826 Packet Reception: a reply for us from a sender not in the table is added too ("add the
 * triplet" comes before the opcode is looked at) - REACHABLE, since it answers - and not answered. */
START_TEST(test_arp_unsolicited_reply_for_us)
{
	t_arp_in(ST_MAC, 2, NB_MAC, NB_IP, ST_MAC, ST_IP);
	t_expect_nothing();
	t_state(NB_IP, "REACHABLE", NB_MAC);
	ck_assert_int_eq(arp("InReplies"), 1);
	ck_assert_int_eq(arp("OutReplies"), 0);
	ck_assert_int_eq(arp("InNotForUs"), 0);
}
END_TEST

/* RFC 826 Packet Reception, "Am I the target protocol address?" No: nothing is sent, and the
 * sender is not added to the table. */
START_TEST(test_arp_request_not_for_us)
{
	t_arp_in(BCAST_MAC, 1, PEER_MAC, PEER_IP, ZERO_MAC, OTHER_IP);
	t_expect_nothing();
	t_state(PEER_IP, NULL, NULL);
	ck_assert_int_eq(arp("InPackets"), 1);
	ck_assert_int_eq(arp("InRequests"), 1);
	ck_assert_int_eq(arp("InNotForUs"), 1);
	ck_assert_int_eq(arp("OutReplies"), 0);
	/* a gratuitous ARP (RFC 5227 §2.3: spa = tpa = the sender's) from a stranger: the same */
	t_arp_in(BCAST_MAC, 1, NB_MAC, NB_IP, ZERO_MAC, NB_IP);
	t_expect_nothing();
	t_state(NB_IP, NULL, NULL);
	ck_assert_int_eq(arp("InNotForUs"), 2);
	/* a reply for someone else is not counted as a request not for us, and not learned */
	t_arp_in(BCAST_MAC, 2, NB_MAC, NB_IP, PEER_MAC, OTHER_IP);
	t_expect_nothing();
	t_state(NB_IP, NULL, NULL);
	ck_assert_int_eq(arp("InReplies"), 1);
	ck_assert_int_eq(arp("InNotForUs"), 2);
	ck_assert_int_eq(arp("InErrors"), 0);
}
END_TEST

/* RFC 826 Packet Reception, merge: when the sender is already in the table its hardware address is
 * updated whoever the packet is for ("the new hardware address supersedes the old one"), and
 * arp.c's rule makes it REACHABLE (confirmed by a packet from it). */
START_TEST(test_arp_merge_existing)
{
	struct us_udp *u = t_udp();

	t_arp_in(BCAST_MAC, 1, PEER_MAC, PEER_IP, ZERO_MAC, ST_IP);
	t_expect_reply(PEER_MAC, PEER_IP);
	t_state(PEER_IP, "STALE", PEER_MAC);
	/* PEER moved to a new card and asks about someone else */
	t_arp_in(BCAST_MAC, 1, NEW_MAC, PEER_IP, ZERO_MAC, OTHER_IP);
	t_expect_nothing();
	t_state(PEER_IP, "REACHABLE", NEW_MAC);
	ck_assert_int_eq(arp("InNotForUs"), 1);
	t_sendto(u, PEER_IP, "x");
	t_expect_udp(NEW_MAC, PEER_IP, "x", 1);
	t_expect_nothing();
	/* and announces itself back on the old card (gratuitous ARP) */
	t_arp_in(BCAST_MAC, 1, PEER_MAC, PEER_IP, ZERO_MAC, PEER_IP);
	t_expect_nothing();
	t_state(PEER_IP, "REACHABLE", PEER_MAC);
	/* a request for us from a known sender: updated and answered, one entry still */
	t_arp_in(BCAST_MAC, 1, NEW_MAC, PEER_IP, ZERO_MAC, ST_IP);
	t_expect_reply(NEW_MAC, PEER_IP);
	t_expect_nothing();
	t_state(PEER_IP, "REACHABLE", NEW_MAC);
	ck_assert_int_eq(arp("OutRequests"), 0);
	us_udp_close(u);
}
END_TEST

/* RFC 826 Packet Reception: hardware type Ethernet (1) and protocol IP (0x0800), with their lengths
 * 6 and 4 (the optional checks, made), a known opcode, a whole packet - anything else is an error:
 * dropped, counted, nothing sent, nothing learned. A group address as the sender is refused too
 * (arp.c: it would poison the cache). */
START_TEST(test_arp_malformed)
{
	static const struct {
		const char *what;
		uint32_t off, len; /* bytes of the frame to overwrite */
		uint8_t v[6];
	} cases[] = {
		{ "hrd 6 (IEEE 802)", 14, 2, { 0x00, 0x06 } },
		{ "hrd 0", 14, 2, { 0x00, 0x00 } },
		{ "pro IPv6", 16, 2, { 0x86, 0xdd } },
		{ "pro ARP", 16, 2, { 0x08, 0x06 } },
		{ "hln 8", 18, 1, { 8 } },
		{ "hln 0", 18, 1, { 0 } },
		{ "pln 16", 19, 1, { 16 } },
		{ "op 0", 20, 2, { 0x00, 0x00 } },
		{ "op 3 (RARP request)", 20, 2, { 0x00, 0x03 } },
		{ "op 0x0101", 20, 2, { 0x01, 0x01 } },
		{ "sha multicast", 22, 6, { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 } },
		{ "sha broadcast", 22, 6, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ "spa multicast", 28, 4, { 0xe0, 0x00, 0x00, 0x01 } },
		{ "spa limited broadcast", 28, 4, { 0xff, 0xff, 0xff, 0xff } },
	};
	uint8_t f[64];
	uint32_t n;
	int64_t i;

	for (i = 0; i < (int64_t)(sizeof(cases) / sizeof(cases[0])); i++) {
		n = t_arp_pkt(f, BCAST_MAC, PEER_MAC, 1, PEER_MAC, PEER_IP, ZERO_MAC, ST_IP);
		memcpy(f + cases[i].off, cases[i].v, cases[i].len);
		th_send(&t, f, n);
		ck_assert_msg(arp("InErrors") == i + 1, "%s: InErrors %lld", cases[i].what,
			      (long long)arp("InErrors"));
		t_expect_nothing();
	}
	/* too short: 27 bytes of ARP, and only the fixed part (8 bytes) */
	n = t_arp_pkt(f, BCAST_MAC, PEER_MAC, 1, PEER_MAC, PEER_IP, ZERO_MAC, ST_IP);
	th_send(&t, f, n - 1);
	ck_assert_int_eq(arp("InErrors"), i + 1);
	th_send(&t, f, 14 + 8);
	ck_assert_int_eq(arp("InErrors"), i + 2);
	th_send(&t, f, 14);
	ck_assert_int_eq(arp("InErrors"), i + 3);
	t_expect_nothing();
	ck_assert_int_eq(arp("InPackets"), i + 3);
	ck_assert_int_eq(arp("InRequests"), 0);
	ck_assert_int_eq(arp("InReplies"), 0);
	ck_assert_int_eq(arp("OutReplies"), 0);
	t_state(PEER_IP, NULL, NULL);
	t_state(0xe0000001u, NULL, NULL);
	t_state(0xffffffffu, NULL, NULL);
}
END_TEST

/* RFC 826: a packet refused by the checks is dropped before the merge step, so it does not change
 * an entry that exists. */
START_TEST(test_arp_malformed_no_merge)
{
	uint8_t f[64];
	uint32_t n;

	t_arp_in(BCAST_MAC, 1, PEER_MAC, PEER_IP, ZERO_MAC, ST_IP);
	t_expect_reply(PEER_MAC, PEER_IP);
	n = t_arp_pkt(f, BCAST_MAC, NEW_MAC, 2, NEW_MAC, PEER_IP, ST_MAC, ST_IP);
	f[19] = 6; /* pln */
	th_send(&t, f, n);
	n = t_arp_pkt(f, BCAST_MAC, NEW_MAC, 9, NEW_MAC, PEER_IP, ST_MAC, ST_IP);
	th_send(&t, f, n);
	t_expect_nothing();
	ck_assert_int_eq(arp("InErrors"), 2);
	t_state(PEER_IP, "STALE", PEER_MAC);
}
END_TEST

/* RFC 5227 §2.3 (ARP Announcement): us_addr_add broadcasts a request with sender and target
 * protocol address both ours and a zero target hardware address; it is not a resolution request. */
START_TEST(test_arp_gratuitous_on_addr_add)
{
	struct us_stack_config sc = { 0 };
	uint8_t want[64];

	t_setup_cfg(&t, &sc, true);
	t_expect_frame(want, t_arp_pkt(want, BCAST_MAC, ST_MAC, 1, ST_MAC, ST_IP, ZERO_MAC, ST_IP));
	t_expect_nothing();
	ck_assert_int_eq(arp("OutGratuitous"), 1);
	ck_assert_int_eq(arp("OutRequests"), 0);
	t_state(ST_IP, NULL, NULL); /* our own address is not a neighbour */
	/* a new address is announced in turn */
	ck_assert_int_eq(us_addr_add(t.st, t.ifindex, 0xc6120005u, 24), 0);
	t_expect_frame(want,
		       t_arp_pkt(want, BCAST_MAC, ST_MAC, 1, ST_MAC, 0xc6120005u, ZERO_MAC, 0xc6120005u));
	t_expect_nothing();
	ck_assert_int_eq(arp("OutGratuitous"), 2);
	/* and nothing more, however long we wait */
	th_advance(&t, 3600 * SEC);
	t_expect_nothing();
	th_teardown(&t);
}
END_TEST

/* ---- resolving (RFC 826 "Packet Generation", RFC 1122 §2.3.2) ---- */

/* RFC 1122 §2.3.2.1 (at most one request per second per destination) and arp.c's INCOMPLETE ->
 * FAILED: requests at 0, 1 and 2 s, FAILED at 3 s with the waiting packets dropped and counted and
 * a connected sender told EHOSTUNREACH; nothing sent after that. RFC 1122 §2.4: while unresolved,
 * sending is not an error. */
START_TEST(test_arp_resolve_fails)
{
	struct us_udp *c = us_udp_open(t.st), *b = t_udp();
	uint8_t buf[16];

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(us_udp_connect(c, NB_IP, DPORT), 0);
	ck_assert_int_eq(us_udp_sendto(c, "a", 1, 0, 0), 1);
	t_expect_request(NB_IP);
	t_state(NB_IP, "INCOMPLETE", NULL);
	ck_assert_int_eq(us_udp_sendto(c, "b", 1, 0, 0), 1); /* queued, no second request */
	t_sendto(b, NB_IP, "c");			      /* an unconnected sender */
	t_expect_nothing();
	ck_assert_int_eq(arp("OutRequests"), 1);

	th_advance(&t, SEC - 1);
	t_expect_nothing();
	th_advance(&t, 1);
	t_expect_request(NB_IP); /* 1 s */
	th_advance(&t, SEC - 1);
	t_expect_nothing();
	th_advance(&t, 1);
	t_expect_request(NB_IP); /* 2 s */
	ck_assert_int_eq(arp("OutRequests"), 3);
	th_advance(&t, SEC - 1);
	t_expect_nothing();
	t_state(NB_IP, "INCOMPLETE", NULL);
	ck_assert_int_eq(us_udp_recvfrom(c, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	ck_assert_int_eq(arp("ResolveFailed"), 0);
	th_advance(&t, 1); /* 3 s */
	t_expect_nothing();
	t_state(NB_IP, "FAILED", NULL);
	ck_assert_int_eq(arp("ResolveFailed"), 1);
	ck_assert_int_eq(arp("UnresolvedDiscards"), 3);
	ck_assert_int_eq(arp("OutRequests"), 3);
	ck_assert_int_eq(us_udp_recvfrom(c, buf, sizeof(buf), NULL, NULL), -EHOSTUNREACH);
	ck_assert_int_eq(us_udp_recvfrom(c, buf, sizeof(buf), NULL, NULL), -EAGAIN); /* once */
	ck_assert_int_eq(us_udp_recvfrom(b, buf, sizeof(buf), NULL, NULL), -EAGAIN);

	/* FAILED is kept for arp_stale_ns (60 s), silently */
	for (int s = 1; s < 60; s++) {
		th_advance(&t, SEC);
		t_expect_nothing();
	}
	t_state(NB_IP, "FAILED", NULL);
	th_advance(&t, SEC);
	t_state(NB_IP, NULL, NULL);
	th_advance(&t, 3600 * SEC);
	t_expect_nothing();
	ck_assert_int_eq(arp("OutRequests"), 3);
	ck_assert_int_eq(arp("ResolveFailed"), 1);
	ck_assert_int_eq(arp("UnresolvedDiscards"), 3);
	us_udp_close(c);
	us_udp_close(b);
}
END_TEST

/* arp.c's FAILED: new traffic to a failed neighbour starts resolution over from the first request. */
START_TEST(test_arp_failed_retries_on_traffic)
{
	struct us_udp *u = t_udp();

	t_sendto(u, NB_IP, "1");
	t_expect_request(NB_IP);
	th_advance(&t, SEC);
	t_expect_request(NB_IP);
	th_advance(&t, SEC);
	t_expect_request(NB_IP);
	th_advance(&t, SEC);
	t_state(NB_IP, "FAILED", NULL);
	th_advance(&t, 10 * SEC);
	t_sendto(u, NB_IP, "2");
	t_expect_request(NB_IP);
	t_state(NB_IP, "INCOMPLETE", NULL);
	th_advance(&t, SEC);
	t_expect_request(NB_IP);
	/* this time it answers */
	t_arp_in(ST_MAC, 2, NB_MAC, NB_IP, ST_MAC, ST_IP);
	t_expect_udp(NB_MAC, NB_IP, "2", 1);
	t_expect_nothing();
	t_state(NB_IP, "REACHABLE", NB_MAC);
	ck_assert_int_eq(arp("OutRequests"), 5);
	ck_assert_int_eq(arp("ResolveFailed"), 1);
	ck_assert_int_eq(arp("UnresolvedDiscards"), 1);
	us_udp_close(u);
}
END_TEST

/* RFC 826 Packet Reception + RFC 1122 §2.3.2.2: the reply makes the entry REACHABLE and the packets
 * that waited go out, in the order they were sent, to the learned address; no more requests. */
START_TEST(test_arp_reply_flushes_queue)
{
	struct us_udp *u = t_udp();

	t_sendto(u, NB_IP, "one");
	t_expect_request(NB_IP);
	t_sendto(u, NB_IP, "two");
	th_advance(&t, 500 * MS);
	t_sendto(u, NB_IP, "three");
	t_expect_nothing();
	t_arp_in(ST_MAC, 2, NB_MAC, NB_IP, ST_MAC, ST_IP);
	t_expect_udp(NB_MAC, NB_IP, "one", 3);
	t_expect_udp(NB_MAC, NB_IP, "two", 3);
	t_expect_udp(NB_MAC, NB_IP, "three", 5);
	t_expect_nothing();
	t_state(NB_IP, "REACHABLE", NB_MAC);
	ck_assert_int_eq(arp("InReplies"), 1);
	ck_assert_int_eq(arp("OutReplies"), 0);
	ck_assert_int_eq(arp("UnresolvedDiscards"), 0);
	/* the retransmit timer is gone: no request at 1 s or later */
	th_advance(&t, 5 * SEC);
	t_expect_nothing();
	ck_assert_int_eq(arp("OutRequests"), 1);
	/* and later datagrams go straight out */
	t_sendto(u, NB_IP, "four");
	t_expect_udp(NB_MAC, NB_IP, "four", 4);
	t_expect_nothing();
	us_udp_close(u);
}
END_TEST

/* RFC 826 merge: while we resolve NB, NB's own request for someone else (broadcast) already tells
 * us its address - the entry is updated and what waited is sent. */
START_TEST(test_arp_resolved_by_overheard_request)
{
	struct us_udp *u = t_udp();

	t_sendto(u, NB_IP, "q");
	t_expect_request(NB_IP);
	t_arp_in(BCAST_MAC, 1, NB_MAC, NB_IP, ZERO_MAC, OTHER_IP);
	t_expect_udp(NB_MAC, NB_IP, "q", 1);
	t_expect_nothing();
	t_state(NB_IP, "REACHABLE", NB_MAC);
	ck_assert_int_eq(arp("InNotForUs"), 1);
	th_advance(&t, 2 * SEC);
	t_expect_nothing();
	us_udp_close(u);
}
END_TEST

/* arp.c's timers: REACHABLE -> STALE after arp_reachable_ns (30 s); STALE still used for sending,
 * without a request; removed arp_stale_ns (60 s) later; RFC 1122 §2.3.2.1 (1): the timeout restarts
 * when the neighbour is heard from again. */
START_TEST(test_arp_reachable_stale_gone)
{
	struct us_udp *u = t_udp();

	t_sendto(u, NB_IP, "a");
	t_expect_request(NB_IP);
	t_arp_in(ST_MAC, 2, NB_MAC, NB_IP, ST_MAC, ST_IP);
	t_expect_udp(NB_MAC, NB_IP, "a", 1);
	t_state(NB_IP, "REACHABLE", NB_MAC);
	th_advance(&t, 30 * SEC - 1);
	t_state(NB_IP, "REACHABLE", NB_MAC);
	th_advance(&t, 1);
	t_state(NB_IP, "STALE", NB_MAC);
	t_expect_nothing();
	th_advance(&t, 10 * SEC);
	t_sendto(u, NB_IP, "b");
	t_expect_udp(NB_MAC, NB_IP, "b", 1);
	t_expect_nothing();
	t_state(NB_IP, "STALE", NB_MAC);
	th_advance(&t, 50 * SEC - 1);
	t_state(NB_IP, "STALE", NB_MAC);
	th_advance(&t, 1);
	t_state(NB_IP, NULL, NULL);
	t_expect_nothing();
	ck_assert_int_eq(arp("OutRequests"), 1);
	/* gone: the next datagram resolves again */
	t_sendto(u, NB_IP, "c");
	t_expect_request(NB_IP);
	t_arp_in(ST_MAC, 2, NB_MAC, NB_IP, ST_MAC, ST_IP);
	t_expect_udp(NB_MAC, NB_IP, "c", 1);
	/* heard from again while STALE: REACHABLE for another 30 s */
	th_advance(&t, 30 * SEC);
	t_state(NB_IP, "STALE", NB_MAC);
	th_advance(&t, 20 * SEC);
	t_arp_in(BCAST_MAC, 1, NB_MAC, NB_IP, ZERO_MAC, ST_IP);
	t_expect_reply(NB_MAC, NB_IP);
	t_state(NB_IP, "REACHABLE", NB_MAC);
	th_advance(&t, 30 * SEC - 1);
	t_state(NB_IP, "REACHABLE", NB_MAC);
	th_advance(&t, 1);
	t_state(NB_IP, "STALE", NB_MAC);
	th_advance(&t, 60 * SEC);
	t_state(NB_IP, NULL, NULL);
	t_expect_nothing();
	us_udp_close(u);
}
END_TEST

/* RFC 1122 §2.3.2.2 (save at least the latest packet) with arp.c's bound (arp_max_queued, 16): of
 * 20 datagrams sent while unresolved, the oldest 4 are dropped and counted, the last 16 go out in
 * order once resolved. */
START_TEST(test_arp_queue_bounded)
{
	struct us_udp *u = t_udp();
	char s[8];

	for (int i = 0; i < 20; i++) {
		snprintf(s, sizeof(s), "d%02d", i);
		t_sendto(u, NB_IP, s);
	}
	t_expect_request(NB_IP);
	ck_assert_int_eq(arp("UnresolvedDiscards"), 4);
	t_arp_in(ST_MAC, 2, NB_MAC, NB_IP, ST_MAC, ST_IP);
	for (int i = 4; i < 20; i++) {
		snprintf(s, sizeof(s), "d%02d", i);
		t_expect_udp(NB_MAC, NB_IP, s, 3);
	}
	t_expect_nothing();
	ck_assert_int_eq(arp("UnresolvedDiscards"), 4);
	ck_assert_int_eq(arp("OutRequests"), 1);
	us_udp_close(u);
}
END_TEST

/* ---- permanent entries ---- */

/* arp.c's PERMANENT (as `ip neigh add ... nud permanent`): used without any request, never
 * overwritten by what arrives, never expires; deleted only through the API. */
START_TEST(test_arp_permanent)
{
	struct us_udp *u = t_udp();

	ck_assert_int_eq(us_neigh_add(t.st, t.ifindex, PEER_IP, PEER_MAC), 0);
	t_state(PEER_IP, "PERMANENT", PEER_MAC);
	t_sendto(u, PEER_IP, "p1");
	t_expect_udp(PEER_MAC, PEER_IP, "p1", 2);
	t_expect_nothing();
	/* a reply, a request for us and a gratuitous ARP claiming PEER_IP from another MAC */
	t_arp_in(ST_MAC, 2, NEW_MAC, PEER_IP, ST_MAC, ST_IP);
	t_arp_in(BCAST_MAC, 1, NEW_MAC, PEER_IP, ZERO_MAC, PEER_IP);
	t_expect_nothing();
	t_arp_in(BCAST_MAC, 1, NEW_MAC, PEER_IP, ZERO_MAC, ST_IP);
	t_expect_reply(NEW_MAC, PEER_IP); /* the question is still answered */
	t_expect_nothing();
	t_state(PEER_IP, "PERMANENT", PEER_MAC);
	t_sendto(u, PEER_IP, "p2");
	t_expect_udp(PEER_MAC, PEER_IP, "p2", 2);
	/* hours pass */
	for (int h = 0; h < 5; h++)
		th_advance(&t, 3600 * SEC);
	th_advance(&t, 1000 * 3600 * SEC);
	t_expect_nothing();
	t_state(PEER_IP, "PERMANENT", PEER_MAC);
	ck_assert_int_eq(arp("OutRequests"), 0);
	/* replacing the address of a permanent entry through the API is allowed */
	ck_assert_int_eq(us_neigh_add(t.st, t.ifindex, PEER_IP, NEW_MAC), 0);
	t_state(PEER_IP, "PERMANENT", NEW_MAC);
	/* delete: gone, and the next datagram needs a request */
	ck_assert_int_eq(us_neigh_del(t.st, t.ifindex, PEER_IP), 0);
	t_state(PEER_IP, NULL, NULL);
	ck_assert_int_eq(us_neigh_del(t.st, t.ifindex, PEER_IP), -ENOENT);
	ck_assert_int_eq(us_neigh_del(t.st, t.ifindex, OTHER_IP), -ENOENT);
	t_sendto(u, PEER_IP, "p3");
	t_expect_request(PEER_IP);
	us_udp_close(u);
}
END_TEST

/* arp.c's PERMANENT over INCOMPLETE: us_neigh_add on an entry being resolved sends what waited, and
 * no more requests; bad arguments are refused. */
START_TEST(test_arp_permanent_over_incomplete)
{
	struct us_udp *u = t_udp();
	static const uint8_t mc[6] = { 0x01, 0, 0x5e, 0, 0, 1 };

	t_sendto(u, NB_IP, "w1");
	t_sendto(u, NB_IP, "w2");
	t_expect_request(NB_IP);
	ck_assert_int_eq(us_neigh_add(t.st, t.ifindex, NB_IP, NB_MAC), 0);
	t_expect_udp(NB_MAC, NB_IP, "w1", 2);
	t_expect_udp(NB_MAC, NB_IP, "w2", 2);
	t_expect_nothing();
	th_advance(&t, 10 * SEC);
	t_expect_nothing();
	t_state(NB_IP, "PERMANENT", NB_MAC);
	ck_assert_int_eq(arp("OutRequests"), 1);
	ck_assert_int_eq(arp("UnresolvedDiscards"), 0);

	ck_assert_int_eq(us_neigh_add(t.st, t.ifindex, PEER_IP, mc), -EINVAL);
	ck_assert_int_eq(us_neigh_add(t.st, t.ifindex, PEER_IP, BCAST_MAC), -EINVAL);
	ck_assert_int_eq(us_neigh_add(t.st, t.ifindex, 0, PEER_MAC), -EINVAL);
	ck_assert_int_eq(us_neigh_add(t.st, 2, PEER_IP, PEER_MAC), -EINVAL);
	ck_assert_int_eq(us_neigh_add(t.st, t.ifindex, PEER_IP, NULL), -EINVAL);
	ck_assert_int_eq(us_neigh_del(t.st, 2, NB_IP), -EINVAL);
	t_state(PEER_IP, NULL, NULL);
	us_udp_close(u);
}
END_TEST

/* ---- the cache's size limit ---- */

#define N1 0xc6120011u
#define N2 0xc6120012u
#define N3 0xc6120013u
#define N4 0xc6120014u
#define N5 0xc6120015u
static const uint8_t N1_MAC[6] = { 0x02, 0, 0, 0, 0, 0x11 };
static const uint8_t N5_MAC[6] = { 0x02, 0, 0, 0, 0, 0x15 };

/* STYLE "nothing grows without a bound": with every entry INCOMPLETE (nothing may be evicted) a new
 * neighbour gets no entry - its packet is dropped and counted, and TableFull counts - while a
 * request for us is still answered (RFC 826 needs no entry to reply). */
START_TEST(test_arp_table_full)
{
	struct us_stack_config sc = { .arp_max_entries = 2 };
	struct us_udp *u;

	t_setup_cfg(&t, &sc, false);
	u = t_udp();
	t_sendto(u, N1, "1");
	t_expect_request(N1);
	t_sendto(u, N2, "2");
	t_expect_request(N2);
	ck_assert_int_eq(us_udp_sendto(u, "3", 1, N3, DPORT), -ENOBUFS);
	t_expect_nothing();
	t_state(N3, NULL, NULL);
	ck_assert_int_eq(arp("TableFull"), 1);
	ck_assert_int_eq(arp("UnresolvedDiscards"), 1);
	ck_assert_int_eq(arp("OutRequests"), 2);

	t_arp_in(BCAST_MAC, 1, N5_MAC, N5, ZERO_MAC, ST_IP);
	t_expect_reply(N5_MAC, N5);
	t_expect_nothing();
	t_state(N5, NULL, NULL);
	ck_assert_int_eq(arp("TableFull"), 2);
	ck_assert_int_eq(us_neigh_add(t.st, t.ifindex, N5, N5_MAC), -ENOSPC);
	ck_assert_int_eq(arp("TableFull"), 3);
	t_state(N1, "INCOMPLETE", NULL);
	t_state(N2, "INCOMPLETE", NULL);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

/* arp.c's eviction: when the cache is full a new entry takes the place of a FAILED one first, then
 * a STALE one; INCOMPLETE and REACHABLE entries stay. */
START_TEST(test_arp_table_evicts)
{
	struct us_stack_config sc = { .arp_max_entries = 2 };
	struct us_udp *u;

	t_setup_cfg(&t, &sc, false);
	u = t_udp();
	t_arp_in(BCAST_MAC, 1, N1_MAC, N1, ZERO_MAC, ST_IP); /* N1: STALE */
	t_expect_reply(N1_MAC, N1);
	t_sendto(u, N2, "2"); /* N2: INCOMPLETE, FAILED at 3 s */
	t_expect_request(N2);
	for (int i = 1; i <= 3; i++) {
		th_advance(&t, SEC);
		if (i < 3)
			t_expect_request(N2);
	}
	t_expect_nothing();
	t_state(N1, "STALE", N1_MAC);
	t_state(N2, "FAILED", NULL);
	ck_assert_int_eq(arp("UnresolvedDiscards"), 1);

	t_sendto(u, N3, "3"); /* the FAILED one goes */
	t_expect_request(N3);
	t_state(N2, NULL, NULL);
	t_state(N1, "STALE", N1_MAC);
	t_state(N3, "INCOMPLETE", NULL);
	t_sendto(u, N4, "4"); /* then the STALE one */
	t_expect_request(N4);
	t_state(N1, NULL, NULL);
	t_state(N3, "INCOMPLETE", NULL);
	t_state(N4, "INCOMPLETE", NULL);
	ck_assert_int_eq(arp("TableFull"), 0);
	ck_assert_int_eq(arp("UnresolvedDiscards"), 1);

	/* N3 answers (REACHABLE), N4 is still INCOMPLETE: nothing to evict */
	t_arp_in(ST_MAC, 2, NEW_MAC, N3, ST_MAC, ST_IP);
	t_expect_udp(NEW_MAC, N3, "3", 1);
	ck_assert_int_eq(us_udp_sendto(u, "5", 1, N5, DPORT), -ENOBUFS);
	t_expect_nothing();
	ck_assert_int_eq(arp("TableFull"), 1);
	t_state(N3, "REACHABLE", NEW_MAC);
	t_state(N4, "INCOMPLETE", NULL);
	us_udp_close(u);
	th_teardown(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("arp");
	TCase *rx = test_tcase("receive");
	TCase *res = test_tcase("resolve");
	TCase *perm = test_tcase("permanent");
	TCase *cfg = test_tcase("config");

	tcase_add_checked_fixture(rx, setup, teardown);
	tcase_add_test(rx, test_arp_request_for_us);
	tcase_add_test(rx, test_arp_request_variants);
	tcase_add_test(rx, test_arp_requester_usable);
	tcase_add_test(rx, test_arp_probe_for_us);
	tcase_add_test(rx, test_arp_unsolicited_reply_for_us);
	tcase_add_test(rx, test_arp_request_not_for_us);
	tcase_add_test(rx, test_arp_merge_existing);
	tcase_add_test(rx, test_arp_malformed);
	tcase_add_test(rx, test_arp_malformed_no_merge);
	suite_add_tcase(s, rx);

	tcase_add_checked_fixture(res, setup, teardown);
	tcase_add_test(res, test_arp_resolve_fails);
	tcase_add_test(res, test_arp_failed_retries_on_traffic);
	tcase_add_test(res, test_arp_reply_flushes_queue);
	tcase_add_test(res, test_arp_resolved_by_overheard_request);
	tcase_add_test(res, test_arp_reachable_stale_gone);
	tcase_add_test(res, test_arp_queue_bounded);
	suite_add_tcase(s, res);

	tcase_add_checked_fixture(perm, setup, teardown);
	tcase_add_test(perm, test_arp_permanent);
	tcase_add_test(perm, test_arp_permanent_over_incomplete);
	suite_add_tcase(s, perm);

	/* these build their own stack (t_setup_cfg) and tear it down themselves */
	tcase_add_test(cfg, test_arp_gratuitous_on_addr_add);
	tcase_add_test(cfg, test_arp_table_full);
	tcase_add_test(cfg, test_arp_table_evicts);
	suite_add_tcase(s, cfg);
	return test_run(s);
}
