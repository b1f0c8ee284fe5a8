/*
 * tcp_seg.c - the TCP tests' peer (see tcp_seg.h).
 */
#include "tcp_seg.h"

#include <string.h>

#include "wire/bytes.h"

/* Options in the order Linux uses; padded with EOL to a multiple of 4 (RFC 9293 §3.1). */
uint32_t tcp_seg_opts(uint8_t *p, const struct tcp_topts *o)
{
	uint32_t n = 0;

	if (o->mss) {
		p[n++] = 2;
		p[n++] = 4;
		put_be16(p + n, o->mss);
		n += 2;
	}
	if (o->sackp) {
		p[n++] = 4;
		p[n++] = 2;
	}
	if (o->ts) {
		if (!o->sackp) {
			p[n++] = 1;
			p[n++] = 1;
		}
		p[n++] = 8;
		p[n++] = 10;
		put_be32(p + n, o->tsval);
		put_be32(p + n + 4, o->tsecr);
		n += 8;
	}
	if (o->wsok) {
		p[n++] = 1;
		p[n++] = 3;
		p[n++] = 3;
		p[n++] = o->ws;
	}
	if (o->nsack) {
		p[n++] = 1;
		p[n++] = 1;
		p[n++] = 5;
		p[n++] = (uint8_t)(2 + 8 * o->nsack);
		for (int k = 0; k < o->nsack; k++) {
			put_be32(p + n, o->sack[k][0]);
			put_be32(p + n + 4, o->sack[k][1]);
			n += 8;
		}
	}
	while (n & 3)
		p[n++] = 0;
	return n;
}

/* Ethernet + IPv4 + TCP from the peer to the stack. */
uint32_t tcp_seg_frame(uint8_t *buf, const struct tcp_seg *s)
{
	uint8_t tcp[1600], pseudo[12 + 1600];
	uint32_t olen = tcp_seg_opts(tcp + 20, &s->o), hlen = 20 + olen, tlen = hlen + s->len;

	ck_assert_uint_le(tlen, sizeof(tcp));
	put_be16(tcp, s->sport);
	put_be16(tcp + 2, s->dport);
	put_be32(tcp + 4, s->seq);
	put_be32(tcp + 8, s->ack);
	tcp[12] = (uint8_t)((hlen / 4) << 4);
	tcp[13] = s->flags;
	put_be16(tcp + 14, s->win);
	put_be16(tcp + 16, 0);
	put_be16(tcp + 18, 0);
	if (s->len)
		memcpy(tcp + hlen, s->data, s->len);
	/* RFC 9293 §3.1: the checksum also covers a pseudo-header of source and destination
	 * address, a zero byte, the protocol (6) and the TCP length */
	put_be32(pseudo, PEER_IP);
	put_be32(pseudo + 4, ST_IP);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put_be16(pseudo + 10, (uint16_t)tlen);
	memcpy(pseudo + 12, tcp, tlen);
	put_be16(tcp + 16, th_csum(pseudo, 12 + tlen));
	return th_ipv4(buf, PEER_IP, ST_IP, 6, 0x1111, 0x4000, 64, tcp, tlen);
}

/* The next frame the stack sent, parsed and checked (addresses, checksums); false when none. */
bool tcp_pkt_next(struct th *h, struct tcp_pkt *p)
{
	uint8_t f[2048], pseudo[12 + 1600];
	const uint8_t *ip = f + 14, *tcp = f + 34;
	uint32_t tot, tlen, hlen;
	int n = th_recv(h, f, sizeof(f));

	if (n < 0)
		return false;
	memset(p, 0, sizeof(*p));
	ck_assert_int_ge(n, 14 + 20 + 20);
	ck_assert(memcmp(f, PEER_MAC, 6) == 0 && memcmp(f + 6, ST_MAC, 6) == 0);
	ck_assert_uint_eq(get_be16(f + 12), 0x0800);
	ck_assert_uint_eq(ip[0], 0x45);
	ck_assert_uint_eq(th_csum(ip, 20), 0);
	ck_assert_uint_eq(ip[9], 6);
	ck_assert_uint_eq(get_be32(ip + 12), ST_IP);
	ck_assert_uint_eq(get_be32(ip + 16), PEER_IP);
	tot = get_be16(ip + 2);
	ck_assert_uint_le(14 + tot, (uint32_t)n);
	tlen = tot - 20;
	hlen = (uint32_t)(tcp[12] >> 4) * 4;
	ck_assert_uint_ge(hlen, 20);
	ck_assert_uint_le(hlen, tlen);
	ck_assert_uint_le(tlen, sizeof(pseudo) - 12);
	/* RFC 9293 §3.1: the checksum over the pseudo-header and segment comes out as zero */
	put_be32(pseudo, ST_IP);
	put_be32(pseudo + 4, PEER_IP);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put_be16(pseudo + 10, (uint16_t)tlen);
	memcpy(pseudo + 12, tcp, tlen);
	ck_assert_msg(th_csum(pseudo, 12 + tlen) == 0, "bad TCP checksum");
	p->sport = get_be16(tcp);
	p->dport = get_be16(tcp + 2);
	p->seq = get_be32(tcp + 4);
	p->ack = get_be32(tcp + 8);
	p->flags = tcp[13];
	p->win = get_be16(tcp + 14);
	for (uint32_t i = 20; i < hlen;) {
		uint8_t kind = tcp[i], olen;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		ck_assert_uint_lt(i + 1, hlen);
		olen = tcp[i + 1];
		ck_assert_uint_ge(olen, 2);
		ck_assert_uint_le(i + olen, hlen);
		if (kind == 2) {
			ck_assert_uint_eq(olen, 4);
			p->mss_ok = true;
			p->mss = get_be16(tcp + i + 2);
		} else if (kind == 3) {
			ck_assert_uint_eq(olen, 3);
			p->wsok = true;
			p->ws = tcp[i + 2];
		} else if (kind == 4) {
			ck_assert_uint_eq(olen, 2);
			p->sackp = true;
		} else if (kind == 5) {
			ck_assert_uint_eq((olen - 2) % 8, 0);
			p->nsack = (uint8_t)((olen - 2) / 8);
			ck_assert_uint_le(p->nsack, 4);
			for (int k = 0; k < p->nsack; k++) {
				p->sack[k][0] = get_be32(tcp + i + 2 + 8 * k);
				p->sack[k][1] = get_be32(tcp + i + 6 + 8 * k);
			}
		} else if (kind == 8) {
			ck_assert_uint_eq(olen, 10);
			p->ts = true;
			p->tsval = get_be32(tcp + i + 2);
			p->tsecr = get_be32(tcp + i + 6);
		}
		i += olen;
	}
	p->len = tlen - hlen;
	memcpy(p->data, tcp + hlen, p->len);
	return true;
}
