/*
 * test_offload.c - the TAP offload path (docs/offload.md) without a TAP device: the virtio_net_hdr's
 * bytes, its checks against the frame (good headers taken, malformed ones refused and, through a
 * device, dropped and counted), and a stack on a pair device with vnet_hdr on both ends, the test
 * holding the wire: TCP sends GSO frames of up to 64 KB with partial checksums that complete to the
 * right value when the test finishes them as a NIC would, and takes a GSO frame from the peer whole.
 * The same transfer without the offloads keeps to MSS-sized frames with full checksums.
 */
#include <errno.h>
#include <string.h>

#include "stack_helper.h"
#include "test_util.h"
#include "wire/bytes.h"

#define MSS 1460u
#define LPORT 80
#define RPORT 40000
#define PEER_ISS 1000u

/* ---- the header alone ---- */

START_TEST(test_vnet_hdr_bytes)
{
	/* virtio spec §5.1.6: flags, gso_type, then hdr_len, gso_size, csum_start, csum_offset as
	 * little-endian 16-bit fields */
	static const uint8_t raw[NETDEV_VNET_HDR_LEN] = { 1, 1, 0x36, 0, 0xb4, 0x05, 0x22, 0, 0x10, 0 };
	struct netdev_vnet_hdr h;
	uint8_t out[NETDEV_VNET_HDR_LEN];

	netdev_vnet_hdr_parse(raw, &h);
	ck_assert_uint_eq(h.flags, NETDEV_VNET_F_NEEDS_CSUM);
	ck_assert_uint_eq(h.gso_type, NETDEV_VNET_GSO_TCPV4);
	ck_assert_uint_eq(h.hdr_len, 54);
	ck_assert_uint_eq(h.gso_size, 1460);
	ck_assert_uint_eq(h.csum_start, 34);
	ck_assert_uint_eq(h.csum_offset, 16);
	netdev_vnet_hdr_emit(out, &h);
	ck_assert_mem_eq(out, raw, sizeof(raw));
}
END_TEST

/* Ethernet + IPv4 (20 bytes, DF) + TCP (20 bytes) + plen payload bytes into f; the frame's length.
 * proto and ethertype as given, so that the checks can be shown other frames. */
static uint32_t vf_build(uint8_t *f, uint16_t type, uint8_t proto, uint32_t plen)
{
	uint32_t tot = 20 + 20 + plen;

	memset(f, 0, 14 + tot);
	memcpy(f, ST_MAC, 6);
	memcpy(f + 6, PEER_MAC, 6);
	put_be16(f + 12, type);
	f[14] = 0x45;
	put_be16(f + 16, (uint16_t)tot);
	put_be16(f + 20, 0x4000);
	f[22] = 64;
	f[23] = proto;
	put_be32(f + 26, PEER_IP);
	put_be32(f + 30, ST_IP);
	put_be16(f + 24, th_csum(f + 14, 20));
	f[34 + 12] = 5 << 4;
	for (uint32_t i = 0; i < plen; i++)
		f[54 + i] = (uint8_t)(i * 7 + 3);
	return 14 + tot;
}

static struct sk_buff *vf_skb(const uint8_t *f, uint32_t len)
{
	struct sk_buff *skb = skb_alloc(t_pool, SKB_MAX_HEADER + len);

	ck_assert_ptr_nonnull(skb);
	skb_reserve(skb, SKB_MAX_HEADER);
	skb_put_data(skb, f, len);
	return skb;
}

START_TEST(test_vnet_hdr_good)
{
	static uint8_t f[14 + 40 + 4 * MSS + 100];
	uint32_t len = vf_build(f, 0x0800, 6, 4 * MSS + 100);
	struct netdev_vnet_hdr gso = { .flags = NETDEV_VNET_F_NEEDS_CSUM, .gso_type = NETDEV_VNET_GSO_TCPV4,
				       .hdr_len = 54, .gso_size = MSS, .csum_start = 34, .csum_offset = 16 };
	struct netdev_vnet_hdr partial = { .flags = NETDEV_VNET_F_NEEDS_CSUM, .csum_start = 34,
					   .csum_offset = 16 };
	struct netdev_vnet_hdr valid = { .flags = NETDEV_VNET_F_DATA_VALID };
	struct netdev_vnet_hdr none = { 0 };
	struct sk_buff *skb = vf_skb(f, len);

	ck_assert_int_eq(netdev_vnet_hdr_apply(skb, &gso), 0);
	ck_assert_uint_eq(skb->ip_summed, SKB_CSUM_PARTIAL);
	ck_assert_uint_eq(skb->csum_start, SKB_MAX_HEADER + 34);
	ck_assert_uint_eq(skb->csum_offset, 16);
	ck_assert_uint_eq(skb_shinfo(skb)->gso_size, MSS);
	ck_assert_uint_eq(skb_shinfo(skb)->gso_type, SKB_GSO_TCPV4);
	ck_assert_uint_eq(skb_shinfo(skb)->gso_segs, 5); /* four full segments and 100 bytes */
	skb_free(skb);
	/* hdr_len is the kernel's linear part (skb_headlen), which may reach into the payload */
	gso.hdr_len = 200;
	skb = vf_skb(f, len);
	ck_assert_int_eq(netdev_vnet_hdr_apply(skb, &gso), 0);
	skb_free(skb);
	gso.gso_type |= NETDEV_VNET_GSO_ECN;
	skb = vf_skb(f, len);
	ck_assert_int_eq(netdev_vnet_hdr_apply(skb, &gso), 0);
	ck_assert_uint_eq(skb_shinfo(skb)->gso_type, SKB_GSO_TCPV4 | SKB_GSO_TCP_ECN);
	skb_free(skb);

	skb = vf_skb(f, len);
	ck_assert_int_eq(netdev_vnet_hdr_apply(skb, &partial), 0);
	ck_assert_uint_eq(skb->ip_summed, SKB_CSUM_PARTIAL);
	ck_assert_uint_eq(skb_shinfo(skb)->gso_size, 0);
	skb_free(skb);
	skb = vf_skb(f, len);
	ck_assert_int_eq(netdev_vnet_hdr_apply(skb, &valid), 0);
	ck_assert_uint_eq(skb->ip_summed, SKB_CSUM_UNNECESSARY);
	skb_free(skb);
	skb = vf_skb(f, len);
	ck_assert_int_eq(netdev_vnet_hdr_apply(skb, &none), 0);
	ck_assert_uint_eq(skb->ip_summed, SKB_CSUM_NONE);
	skb_free(skb);
}
END_TEST

START_TEST(test_vnet_hdr_malformed)
{
	static uint8_t tcp4[14 + 40 + 3000], arp[14 + 40 + 3000], udp4[14 + 40 + 3000];
	uint32_t len = vf_build(tcp4, 0x0800, 6, 3000);
	const struct netdev_vnet_hdr good = { .flags = NETDEV_VNET_F_NEEDS_CSUM,
					      .gso_type = NETDEV_VNET_GSO_TCPV4, .hdr_len = 54,
					      .gso_size = MSS, .csum_start = 34, .csum_offset = 16 };
	struct {
		const char *why;
		const uint8_t *frame;
		struct netdev_vnet_hdr h;
	} bad[] = {
		{ "unknown flag (RSC_INFO)", tcp4, { .flags = 4 } },
		{ "GSO UDP, not offered", tcp4, { .flags = 1, .gso_type = 3, .gso_size = MSS, .csum_start = 34,
						   .csum_offset = 6 } },
		{ "GSO TCPv6, not offered", tcp4, { .flags = 1, .gso_type = 4, .gso_size = MSS,
						     .csum_start = 34, .csum_offset = 16 } },
		{ "GSO type unknown", tcp4, { .gso_type = 9 } },
		{ "ECN bit without GSO", tcp4, { .gso_type = NETDEV_VNET_GSO_ECN } },
		{ "csum_start inside the Ethernet header", tcp4, { .flags = 1, .csum_start = 4 } },
		{ "csum_start past the frame", tcp4, { .flags = 1, .csum_start = (uint16_t)len } },
		{ "checksum field past the frame", tcp4, { .flags = 1, .csum_start = 34,
							   .csum_offset = (uint16_t)(len - 35) } },
		{ "GSO without a checksum to complete", tcp4, { .gso_type = 1, .gso_size = MSS } },
		{ "GSO with gso_size 0", tcp4, { .flags = 1, .gso_type = 1, .csum_start = 34, .csum_offset = 16 } },
		{ "GSO checksum not at the TCP header", tcp4, { .flags = 1, .gso_type = 1, .gso_size = MSS,
								 .csum_start = 38, .csum_offset = 16 } },
		{ "GSO checksum offset not TCP's", tcp4, { .flags = 1, .gso_type = 1, .gso_size = MSS,
							    .csum_start = 34, .csum_offset = 6 } },
		{ "GSO hdr_len past the frame", tcp4, { .flags = 1, .gso_type = 1, .gso_size = MSS,
							 .hdr_len = (uint16_t)(len + 1), .csum_start = 34,
							 .csum_offset = 16 } },
		{ "GSO TCPv4 on an ARP frame", arp, good },
		{ "GSO TCPv4 on a UDP datagram", udp4, good },
	};

	vf_build(arp, 0x0806, 6, 3000);
	vf_build(udp4, 0x0800, 17, 3000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sk_buff *skb = vf_skb(bad[i].frame, len);

		ck_assert_msg(netdev_vnet_hdr_apply(skb, &bad[i].h) == -EINVAL, "taken: %s", bad[i].why);
		/* refused headers leave the skb as it was */
		ck_assert_uint_eq(skb->ip_summed, SKB_CSUM_NONE);
		ck_assert_uint_eq(skb_shinfo(skb)->gso_size, 0);
		skb_free(skb);
	}
	{
		/* a TCP header cut short: 34 + 20 bytes not all there */
		struct sk_buff *skb = vf_skb(tcp4, 14 + 20 + 10);
		struct netdev_vnet_hdr h = good;

		h.hdr_len = 0;
		ck_assert_int_eq(netdev_vnet_hdr_apply(skb, &h), -EINVAL);
		skb_free(skb);
	}
}
END_TEST

/* ---- a stack on a pair with offloads ---- */

/* The next frame the stack sent, with its metadata; NULL when none. The caller frees it. */
static struct sk_buff *vf_next(struct th *t)
{
	struct sk_buff *skb;

	us_stack_poll(t->st);
	netdev_poll(t->wire, 1);
	return netdev_rx_burst(t->wire, &skb, 1) == 1 ? skb : NULL;
}

/* Finish a partial checksum as a NIC does (sum from csum_start on, the pseudo-header sum in the
 * field included), then check the segment's checksum from scratch with the pseudo-header of its
 * whole length (RFC 9293 §3.1): it must verify. */
static void vf_finish_and_check(struct sk_buff *skb)
{
	const uint8_t *ip = skb->data + 14;
	uint8_t *tcp = skb->data + 34;
	uint32_t tlen = skb->len - 34;
	static uint8_t pseudo[12 + 65536];

	if (skb->ip_summed == SKB_CSUM_PARTIAL) {
		uint8_t *start = skb->head + skb->csum_start;

		ck_assert_ptr_eq(start, tcp);
		ck_assert_uint_eq(skb->csum_offset, 16);
		put_be16(start + 16, th_csum(start, (uint32_t)(skb->tail - start)));
	}
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put_be16(pseudo + 10, (uint16_t)tlen);
	memcpy(pseudo + 12, tcp, tlen);
	ck_assert_uint_eq(th_csum(pseudo, 12 + tlen), 0);
	ck_assert_uint_eq(th_csum(ip, 20), 0);
}

/* A segment from the peer: 20-byte TCP header plus opts, plen payload bytes of the pattern at
 * offset poff; the checksum full, or (partial) only the pseudo-header sum, as the kernel leaves it
 * with TUN_F_CSUM. */
static uint32_t vf_seg(uint8_t *f, uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *opts,
		       uint32_t olen, uint32_t poff, uint32_t plen, bool partial)
{
	uint32_t thl = 20 + olen, tot = 20 + thl + plen;
	uint8_t *tcp = f + 34;
	static uint8_t pseudo[12 + 65536];

	memset(f, 0, 14 + tot);
	memcpy(f, ST_MAC, 6);
	memcpy(f + 6, PEER_MAC, 6);
	put_be16(f + 12, 0x0800);
	f[14] = 0x45;
	put_be16(f + 16, (uint16_t)tot);
	put_be16(f + 20, 0x4000);
	f[22] = 64;
	f[23] = 6;
	put_be32(f + 26, PEER_IP);
	put_be32(f + 30, ST_IP);
	put_be16(f + 24, th_csum(f + 14, 20));
	put_be16(tcp, RPORT);
	put_be16(tcp + 2, LPORT);
	put_be32(tcp + 4, seq);
	put_be32(tcp + 8, ack);
	tcp[12] = (uint8_t)((thl / 4) << 4);
	tcp[13] = flags;
	put_be16(tcp + 14, 65535);
	if (olen)
		memcpy(tcp + 20, opts, olen);
	for (uint32_t i = 0; i < plen; i++)
		tcp[thl + i] = (uint8_t)((poff + i) * 13 + 1);
	put_be32(pseudo, PEER_IP);
	put_be32(pseudo + 4, ST_IP);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put_be16(pseudo + 10, (uint16_t)(thl + plen));
	if (partial) {
		/* ~th_csum of the pseudo-header alone: its folded sum, uncomplemented */
		put_be16(tcp + 16, (uint16_t)~th_csum(pseudo, 12));
	} else {
		memcpy(pseudo + 12, tcp, thl + plen);
		put_be16(tcp + 16, th_csum(pseudo, 12 + thl + plen));
	}
	return 14 + tot;
}

/* Send a frame on the wire with the metadata a TAP device would give it. */
static void vf_send(struct th *t, const uint8_t *f, uint32_t len, bool partial, uint16_t gso_size,
		    uint16_t csum_offset)
{
	struct sk_buff *skb = vf_skb(f, len);

	if (partial) {
		skb->ip_summed = SKB_CSUM_PARTIAL;
		skb->csum_start = (uint16_t)(skb_headroom(skb) + 34);
		skb->csum_offset = csum_offset;
	}
	if (gso_size) {
		skb_shinfo(skb)->gso_size = gso_size;
		skb_shinfo(skb)->gso_type = SKB_GSO_TCPV4;
	}
	netdev_xmit(t->wire, skb);
	netdev_flush(t->wire);
	us_stack_poll(t->st);
}

/* Open a connection from the peer to a listener on LPORT (MSS 1460, window scale 7, no timestamps or
 * SACK); returns the accepted socket, *iss the stack's ISS. The SYN-ACK's checksum is checked. */
static struct us_tcp *vf_establish_opts(struct th *t, struct us_tcp **l, uint32_t *iss, bool offload,
					bool sack)
{
	static const uint8_t syn_opts[8] = { 2, 4, MSS >> 8, MSS & 0xff, 1, 3, 3, 7 };
	static const uint8_t syn_sack_opts[12] = { 2, 4, MSS >> 8, MSS & 0xff, 1, 1, 4, 2, 1, 3, 3, 7 };
	uint8_t f[128];
	struct sk_buff *skb;
	struct us_tcp *c;
	int err;

	*l = us_tcp_open(t->st);
	ck_assert_int_eq(us_tcp_bind(*l, 0, LPORT), 0);
	ck_assert_int_eq(us_tcp_listen(*l, 4), 0);
	vf_send(t, f, sack ? vf_seg(f, PEER_ISS, 0, 0x02, syn_sack_opts, 12, 0, 0, false)
			   : vf_seg(f, PEER_ISS, 0, 0x02, syn_opts, 8, 0, 0, false),
		false, 0, 0);
	skb = vf_next(t);
	ck_assert_ptr_nonnull(skb);
	ck_assert_uint_eq(skb->data[34 + 13], 0x12); /* SYN, ACK */
	ck_assert_uint_eq(skb->ip_summed, offload ? SKB_CSUM_PARTIAL : SKB_CSUM_NONE);
	vf_finish_and_check(skb);
	*iss = get_be32(skb->data + 34 + 4);
	skb_free(skb);
	vf_send(t, f, vf_seg(f, PEER_ISS + 1, *iss + 1, 0x10, NULL, 0, 0, 0, false), false, 0, 0);
	c = us_tcp_accept(*l, &err);
	ck_assert_ptr_nonnull(c);
	return c;
}

static struct us_tcp *vf_establish(struct th *t, struct us_tcp **l, uint32_t *iss, bool offload)
{
	return vf_establish_opts(t, l, iss, offload, false);
}

static uint8_t vf_out(uint32_t i)
{
	return (uint8_t)(i * 31 + 5);
}

/* The stack sends `total` bytes; the test ACKs each frame it gets, a millisecond apart, and checks
 * every frame. With offloads, frames of more than one segment are GSO frames of MSS-sized segments,
 * at most 64 KB, with a partial checksum; without, every frame fits the MTU with its checksum done. */
static void vf_transfer(bool offload)
{
	static uint8_t data[1500000], got[1500000];
	struct th t;
	struct us_tcp *l, *c;
	uint32_t iss, total = sizeof(data), sent = 0, rcvd = 0, gso_frames = 0, max_payload = 0;
	int64_t segs_seen = 1; /* the SYN-ACK */
	uint8_t f[128];

	th_setup_vnet(&t, true, offload);
	for (uint32_t i = 0; i < total; i++)
		data[i] = vf_out(i);
	c = vf_establish(&t, &l, &iss, offload);
	for (int round = 0; round < 2000 && rcvd < total; round++) {
		struct sk_buff *skb;
		int r;

		while (sent < total && (r = us_tcp_send(c, data + sent, total - sent)) > 0)
			sent += (uint32_t)r;
		while ((skb = vf_next(&t)) != NULL) {
			const uint8_t *ip = skb->data + 14, *tcp = skb->data + 34;
			uint32_t thl = (uint32_t)(tcp[12] >> 4) * 4, plen = skb->len - 34 - thl;
			uint32_t seq = get_be32(tcp + 4) - (iss + 1);
			uint16_t gsz = skb_shinfo(skb)->gso_size, segs = skb_shinfo(skb)->gso_segs;

			ck_assert_uint_eq(get_be16(ip + 2), skb->len - 14);
			ck_assert_uint_eq(get_be16(ip + 6) & 0x4000, 0x4000); /* DF: never fragmented */
			ck_assert_uint_eq(skb->ip_summed, offload ? SKB_CSUM_PARTIAL : SKB_CSUM_NONE);
			vf_finish_and_check(skb);
			if (gsz) {
				ck_assert(offload);
				ck_assert_uint_eq(gsz, MSS);
				ck_assert_uint_eq(skb_shinfo(skb)->gso_type, SKB_GSO_TCPV4);
				ck_assert_uint_gt(segs, 1);
				ck_assert_uint_eq(segs, (plen + MSS - 1) / MSS);
				ck_assert_uint_le(skb->len, 65536);
				gso_frames++;
				segs_seen += segs;
			} else {
				ck_assert_uint_le(plen, MSS);
				ck_assert_uint_le(skb->len, 1514);
				segs_seen++;
			}
			if (plen > max_payload)
				max_payload = plen;
			ck_assert_uint_eq(seq, rcvd); /* in order, nothing lost, nothing sent twice */
			ck_assert_uint_le(rcvd + plen, total);
			memcpy(got + rcvd, tcp + thl, plen);
			rcvd += plen;
			skb_free(skb);
			/* an ACK for each frame, as a receiver taking GSO frames whole sends them */
			vf_send(&t, f, vf_seg(f, PEER_ISS + 1, iss + 1 + rcvd, 0x10, NULL, 0, 0, 0, false),
				false, 0, 0);
		}
		th_advance(&t, 1000000);
	}
	ck_assert_uint_eq(rcvd, total);
	ck_assert_mem_eq(got, data, total);
	/* OutSegs counts the segments a GSO frame stands for, as Linux's tcp_skb_pcount */
	ck_assert_int_eq(th_stat(&t, "Tcp", "OutSegs"), segs_seen);
	ck_assert_int_eq(th_stat(&t, "Tcp", "RetransSegs"), 0);
	if (offload) {
		ck_assert_uint_gt(gso_frames, 0);
		/* slow start opens cwnd past 44 segments: frames reach the 64 KB limit */
		ck_assert_uint_eq(max_payload, (65536 - 14 - 20 - 60) / MSS * MSS);
	} else {
		ck_assert_uint_eq(max_payload, MSS);
	}
	us_tcp_close(c);
	us_tcp_close(l);
	th_teardown(&t);
}

START_TEST(test_gso_transmit)
{
	vf_transfer(true);
}
END_TEST

START_TEST(test_no_offload_mss_frames)
{
	vf_transfer(false);
}
END_TEST

/* A GSO frame lost on the wire, with SACK: the later frames are SACKed, and the lost segments are
 * resent one MSS-sized frame each (the write queue stays per segment), until every byte is there. */
START_TEST(test_gso_lost_frame_sack)
{
	static uint8_t data[600000], got[600000], have[600000];
	struct th t;
	struct us_tcp *l, *c;
	uint32_t iss, total = sizeof(data), sent = 0, ack = 0, dropped_segs = 0, high = 0;
	uint32_t resent_frames = 0;
	bool dropped = false;
	uint8_t f[128];

	th_setup_vnet(&t, true, true);
	memset(have, 0, sizeof(have));
	for (uint32_t i = 0; i < total; i++)
		data[i] = vf_out(i);
	c = vf_establish_opts(&t, &l, &iss, true, true);
	for (int round = 0; round < 3000 && ack < total; round++) {
		struct sk_buff *skb;
		int r;

		while (sent < total && (r = us_tcp_send(c, data + sent, total - sent)) > 0)
			sent += (uint32_t)r;
		while ((skb = vf_next(&t)) != NULL) {
			const uint8_t *tcp = skb->data + 34;
			uint32_t thl = (uint32_t)(tcp[12] >> 4) * 4, plen = skb->len - 34 - thl;
			uint32_t seq = get_be32(tcp + 4) - (iss + 1);
			uint16_t segs = skb_shinfo(skb)->gso_size ? skb_shinfo(skb)->gso_segs : 1;
			uint8_t opts[40];
			uint32_t nb = 0, olen = 0;

			vf_finish_and_check(skb);
			if (plen && seq < high) {
				/* a retransmission: one segment, not a GSO frame */
				ck_assert_uint_eq(skb_shinfo(skb)->gso_size, 0);
				ck_assert_uint_le(plen, MSS);
				resent_frames++;
			}
			if (plen && !dropped && segs > 1 && seq > 0) {
				dropped = true; /* lost on the wire */
				dropped_segs = segs;
				if (seq + plen > high)
					high = seq + plen;
				skb_free(skb);
				continue;
			}
			ck_assert_uint_le(seq + plen, total);
			memcpy(got + seq, tcp + thl, plen);
			memset(have + seq, 1, plen);
			if (seq + plen > high)
				high = seq + plen;
			skb_free(skb);
			while (ack < total && have[ack])
				ack++;
			/* SACK blocks (RFC 2018 §4): the one holding the latest segment first, then the
			 * others above the cumulative ACK, at most three */
			for (uint32_t b = ack; b < high && nb < 3;) {
				uint32_t e;

				while (b < high && !have[b])
					b++;
				if (b >= high)
					break;
				for (e = b; e < high && have[e]; e++)
					;
				opts[olen++] = 1;
				opts[olen++] = 1;
				opts[olen++] = 5;
				opts[olen++] = 10;
				put_be32(opts + olen, iss + 1 + b);
				put_be32(opts + olen + 4, iss + 1 + e);
				olen += 8;
				nb++;
				b = e;
			}
			vf_send(&t, f, vf_seg(f, PEER_ISS + 1, iss + 1 + ack, 0x10, opts, olen, 0, 0, false),
				false, 0, 0);
		}
		th_advance(&t, 1000000);
	}
	ck_assert(dropped);
	ck_assert_uint_eq(ack, total);
	ck_assert_mem_eq(got, data, total);
	ck_assert_uint_ge(resent_frames, dropped_segs);
	ck_assert_int_ge(th_stat(&t, "Tcp", "RetransSegs"), dropped_segs);
	us_tcp_close(c);
	us_tcp_close(l);
	th_teardown(&t);
}
END_TEST

START_TEST(test_gso_receive)
{
	static uint8_t f[14 + 40 + 20 * MSS], buf[20 * MSS + 10];
	struct th t;
	struct us_tcp *l, *c;
	struct sk_buff *skb;
	uint32_t iss, len, n = 20 * MSS;
	int64_t in_segs, csum_err;

	th_setup_vnet(&t, true, true);
	c = vf_establish(&t, &l, &iss, true);
	in_segs = th_stat(&t, "Tcp", "InSegs");
	csum_err = th_stat(&t, "Tcp", "InCsumErrors");

	/* a malformed header on the same frame: the device drops it and counts it; nothing arrives */
	len = vf_seg(f, PEER_ISS + 1, iss + 1, 0x18, NULL, 0, 0, n, true);
	vf_send(&t, f, len, true, MSS, 6);
	ck_assert_uint_eq(us_stack_netdev(t.st, t.ifindex)->stats.rx_vnet_errors, 1);
	ck_assert_int_eq(th_stat(&t, "Tcp", "InSegs"), in_segs);
	ck_assert_int_eq(us_tcp_recv(c, buf, sizeof(buf)), -EAGAIN);
	ck_assert_ptr_null(vf_next(&t));

	/* 20 segments as one GSO frame, its checksum left partial (the pseudo-header sum only, which
	 * would fail verification): taken whole, in order, and ACKed at once as 20 segments are */
	vf_send(&t, f, len, true, MSS, 16);
	ck_assert_int_eq(th_stat(&t, "Tcp", "InSegs"), in_segs + 1);
	ck_assert_int_eq(th_stat(&t, "Tcp", "InCsumErrors"), csum_err);
	ck_assert_int_eq(us_tcp_recv(c, buf, sizeof(buf)), (int)n);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_uint_eq(buf[i], (uint8_t)(i * 13 + 1));
	skb = vf_next(&t);
	ck_assert_ptr_nonnull(skb);
	ck_assert_uint_eq(skb->data[34 + 13] & 0x10, 0x10);
	ck_assert_uint_eq(get_be32(skb->data + 34 + 8), PEER_ISS + 1 + n);
	vf_finish_and_check(skb);
	skb_free(skb);

	/* the same bytes again without offload metadata and a full checksum still verify: a frame
	 * with a wrong full checksum and no metadata is dropped as before */
	len = vf_seg(f, PEER_ISS + 1 + n, iss + 1, 0x18, NULL, 0, n, MSS, false);
	f[len - 1] ^= 0x55;
	vf_send(&t, f, len, false, 0, 0);
	ck_assert_int_eq(th_stat(&t, "Tcp", "InCsumErrors"), csum_err + 1);
	ck_assert_int_eq(us_tcp_recv(c, buf, sizeof(buf)), -EAGAIN);

	us_tcp_close(c);
	us_tcp_close(l);
	th_teardown(&t);
}
END_TEST

/* The fault wrapper passes the offloads through; a frame it corrupts loses its checksum status, so
 * that a checksum catches the flip instead of the device's word vouching for the frame. */
START_TEST(test_fault_corrupt_forgets_csum)
{
	static uint8_t f[14 + 40 + 3 * MSS];
	struct netdev_pair_config pc = { 0 };
	struct netdev_fault_config fc = { .seed = 7, .rx = true };
	struct netdev *a, *b, *w;
	struct sk_buff *skb;
	uint32_t len = vf_build(f, 0x0800, 6, 3 * MSS), diff = 0;

	pc.a = (struct netdev_config){ .pool = t_pool, .clock = &t_clock, .vnet_hdr = true };
	pc.b = pc.a;
	for (int corrupt = 0; corrupt <= 1; corrupt++) {
		ck_assert_int_eq(netdev_pair_create(&pc, &a, &b), 0);
		fc.corrupt = corrupt;
		w = netdev_fault_wrap(a, &fc);
		ck_assert_ptr_nonnull(w);
		ck_assert_uint_eq(w->features, a->features);
		skb = vf_skb(f, len);
		skb->ip_summed = SKB_CSUM_PARTIAL;
		skb->csum_start = (uint16_t)(skb_headroom(skb) + 34);
		skb->csum_offset = 16;
		skb_shinfo(skb)->gso_size = MSS;
		skb_shinfo(skb)->gso_type = SKB_GSO_TCPV4;
		netdev_xmit(b, skb);
		netdev_flush(b);
		netdev_poll(w, 8);
		ck_assert_uint_eq(netdev_rx_burst(w, &skb, 1), 1);
		ck_assert_uint_eq(skb->len, len);
		ck_assert_uint_eq(skb_shinfo(skb)->gso_size, MSS);
		diff = 0;
		for (uint32_t i = 0; i < len; i++)
			diff += (uint32_t)__builtin_popcount(skb->data[i] ^ f[i]);
		ck_assert_uint_eq(diff, (uint32_t)corrupt);
		ck_assert_uint_eq(skb->ip_summed, corrupt ? SKB_CSUM_NONE : SKB_CSUM_PARTIAL);
		skb_free(skb);
		netdev_close(w);
		netdev_close(b);
	}
}
END_TEST

/* A connection that began on an offloading device whose route now leads to one without (here: the
 * same device with its features taken away): ip_output completes the partial checksum in software,
 * and refuses a GSO frame, which nothing would segment (IpOutDiscards); TCP then sends the same
 * segments at once one MSS-sized frame each, with its own checksums from then on. */
START_TEST(test_offload_route_without_features)
{
	static uint8_t data[3 * MSS], got[3 * MSS];
	struct th t;
	struct us_tcp *l, *c;
	struct sk_buff *skb;
	uint32_t iss, rcvd = 0;
	int64_t discards;
	uint8_t f[128];

	th_setup_vnet(&t, true, true);
	for (uint32_t i = 0; i < sizeof(data); i++)
		data[i] = vf_out(i);
	c = vf_establish(&t, &l, &iss, true);
	us_stack_netdev(t.st, t.ifindex)->features = NETDEV_F_VNET_HDR;
	ck_assert_int_eq(us_tcp_send(c, data, 100), 100);
	skb = vf_next(&t);
	ck_assert_ptr_nonnull(skb);
	ck_assert_uint_eq(skb->ip_summed, SKB_CSUM_NONE); /* completed before it left */
	vf_finish_and_check(skb);
	ck_assert_mem_eq(skb->data + 54, data, 100);
	skb_free(skb);
	vf_send(&t, f, vf_seg(f, PEER_ISS + 1, iss + 1 + 100, 0x10, NULL, 0, 0, 0, false), false, 0, 0);
	rcvd = 100;

	discards = th_stat(&t, "Ip", "OutDiscards");
	ck_assert_int_eq(us_tcp_send(c, data + 100, sizeof(data) - 100), (int)sizeof(data) - 100);
	ck_assert_int_eq(th_stat(&t, "Ip", "OutDiscards"), discards + 1);
	for (int round = 0; round < 20 && rcvd < sizeof(data); round++) {
		while ((skb = vf_next(&t)) != NULL) {
			const uint8_t *tcp = skb->data + 34;
			uint32_t thl = (uint32_t)(tcp[12] >> 4) * 4, plen = skb->len - 34 - thl;
			uint32_t seq = get_be32(tcp + 4) - (iss + 1);

			ck_assert_uint_eq(skb_shinfo(skb)->gso_size, 0);
			ck_assert_uint_eq(skb->ip_summed, SKB_CSUM_NONE);
			ck_assert_uint_le(plen, MSS);
			vf_finish_and_check(skb);
			if (seq == rcvd && plen) {
				memcpy(got + seq, tcp + thl, plen);
				rcvd += plen;
			}
			skb_free(skb);
			vf_send(&t, f, vf_seg(f, PEER_ISS + 1, iss + 1 + rcvd, 0x10, NULL, 0, 0, 0, false),
				false, 0, 0);
		}
		th_advance(&t, 1000000);
	}
	ck_assert_uint_eq(rcvd, sizeof(data));
	ck_assert_int_eq(th_stat(&t, "Tcp", "RetransSegs"), 0); /* sent once each: nothing waited for a timer */
	ck_assert_mem_eq(got + 100, data + 100, sizeof(data) - 100);
	us_tcp_close(c);
	us_tcp_close(l);
	th_teardown(&t);
}
END_TEST

/* A pair end with offloads and one without do not make a wire. */
START_TEST(test_pair_vnet_both_ends)
{
	struct netdev_pair_config pc = { 0 };
	struct netdev *a, *b;

	pc.a = (struct netdev_config){ .pool = t_pool, .clock = &t_clock, .vnet_hdr = true };
	pc.b = (struct netdev_config){ .pool = t_pool, .clock = &t_clock };
	ck_assert_int_eq(netdev_pair_create(&pc, &a, &b), -EINVAL);
	pc.b.vnet_hdr = true;
	ck_assert_int_eq(netdev_pair_create(&pc, &a, &b), 0);
	ck_assert_uint_eq(a->features, NETDEV_F_VNET_HDR | NETDEV_F_HW_CSUM | NETDEV_F_TSO4 |
					       NETDEV_F_RXCSUM);
	netdev_close(a);
	netdev_close(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("offload");
	TCase *tc = test_tcase("vnet_hdr");
	TCase *tt = test_tcase("tcp");

	tcase_add_test(tc, test_vnet_hdr_bytes);
	tcase_add_test(tc, test_vnet_hdr_good);
	tcase_add_test(tc, test_vnet_hdr_malformed);
	tcase_add_test(tc, test_pair_vnet_both_ends);
	tcase_add_test(tc, test_fault_corrupt_forgets_csum);
	suite_add_tcase(s, tc);
	tcase_add_test(tt, test_gso_transmit);
	tcase_add_test(tt, test_no_offload_mss_frames);
	tcase_add_test(tt, test_gso_receive);
	tcase_add_test(tt, test_gso_lost_frame_sack);
	tcase_add_test(tt, test_offload_route_without_features);
	suite_add_tcase(s, tt);
	return test_run(s);
}
