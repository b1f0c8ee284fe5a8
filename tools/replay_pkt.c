/*
 * replay_pkt.c - the replay tool's own parser of the frames it reads and records: Ethernet, ARP,
 * IPv4, ICMP, UDP and TCP with its options, and the checksums and one-line summaries of them.
 *
 * The frames come from captures anyone may hand the tool, so each layer has one length gate before
 * any of its fields is read: the header's minimum size, its own length field within what arrived,
 * and the next layer given exactly the bytes that belong to it (Ethernet padding is cut off by the
 * IPv4 total length, UDP's by the UDP length). A layer that fails its gate is not marked parsed and
 * its bytes count as payload; nothing reads past the frame.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "replay.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806

static void parse_tcp_options(struct rp_pkt *k)
{
	uint32_t off = k->l4 + 20, end = k->l4 + k->thl;

	/* FreeBSD's tcp_dooptions: remaining >= 2, 2 <= len <= remaining, known kinds exactly sized */
	while (off < end && k->nopt < RP_MAX_TCPOPT) {
		uint8_t kind = k->p[off], olen;
		uint32_t remaining = end - off;
		bool ok;

		if (kind == RP_TCPOPT_EOL || kind == RP_TCPOPT_NOP) {
			k->opt[k->nopt++] = (struct rp_tcpopt){ .kind = kind, .len = 1, .off = off };
			if (kind == RP_TCPOPT_EOL)
				return;
			off++;
			continue;
		}
		if (remaining < 2 || k->p[off + 1] < 2 || k->p[off + 1] > remaining) {
			k->opt_bad = true;
			return;
		}
		olen = k->p[off + 1];
		switch (kind) {
		case RP_TCPOPT_MSS: ok = olen == 4; break;
		case RP_TCPOPT_WS: ok = olen == 3; break;
		case RP_TCPOPT_SACKOK: ok = olen == 2; break;
		case RP_TCPOPT_TS: ok = olen == 10; break;
		case RP_TCPOPT_SACK: ok = olen >= 10 && (olen - 2) % 8 == 0; break;
		default: ok = true; break;
		}
		if (!ok) {
			k->opt_bad = true;
			return;
		}
		if (kind == RP_TCPOPT_TS && k->ts < 0)
			k->ts = k->nopt;
		k->opt[k->nopt++] = (struct rp_tcpopt){ .kind = kind, .len = olen, .off = off };
		off += olen;
	}
}

/* The transport of an unfragmented datagram: k->l4 and k->l4_len are set and within the frame. */
static void parse_transport(struct rp_pkt *k)
{
	const uint8_t *t = k->p + k->l4;

	switch (k->proto) {
	case IPPROTO_ICMP:
		if (k->l4_len < 8) {
			k->err = "ICMP header truncated";
			return;
		}
		k->layers |= RP_ICMP;
		k->thl = 8;
		break;
	case IPPROTO_UDP: {
		uint16_t ulen;

		if (k->l4_len < 8) {
			k->err = "UDP header truncated";
			return;
		}
		ulen = rp_get16(t + 4);
		if (ulen < 8 || ulen > k->l4_len) {
			k->err = "UDP length out of range";
			return;
		}
		k->layers |= RP_UDP;
		k->thl = 8;
		k->l4_len = ulen;
		break;
	}
	case IPPROTO_TCP: {
		uint32_t doff;

		if (k->l4_len < 20) {
			k->err = "TCP header truncated";
			return;
		}
		doff = (uint32_t)(t[12] >> 4) * 4;
		if (doff < 20 || doff > k->l4_len) {
			k->err = "TCP data offset out of range";
			return;
		}
		k->layers |= RP_TCP;
		k->thl = doff;
		parse_tcp_options(k);
		break;
	}
	default:
		return;
	}
	k->pay = k->l4 + k->thl;
	k->pay_len = k->l4_len - k->thl;
}

static void parse_ipv4(struct rp_pkt *k)
{
	const uint8_t *ip = k->p + 14;
	uint32_t avail = k->len - 14, ihl, tot;

	if (avail < 20) {
		k->err = "IPv4 header truncated";
		return;
	}
	ihl = (uint32_t)(ip[0] & 15) * 4;
	tot = rp_get16(ip + 2);
	if (ip[0] >> 4 != 4) {
		k->err = "IP version is not 4";
		return;
	}
	if (ihl < 20 || ihl > avail) {
		k->err = "IPv4 header length out of range";
		return;
	}
	if (tot < ihl || tot > avail) {
		k->err = "IPv4 total length out of range";
		return;
	}
	k->layers |= RP_IP;
	k->l3 = 14;
	k->l3_len = tot;
	k->ihl = ihl;
	k->proto = ip[9];
	k->frag = (rp_get16(ip + 6) & 0x3fff) != 0;
	k->l4 = 14 + ihl;
	k->l4_len = tot - ihl;
	k->pay = k->l4;
	k->pay_len = k->l4_len;
	if (!k->frag)
		parse_transport(k);
}

void rp_parse(struct rp_pkt *k, const uint8_t *p, uint32_t len)
{
	memset(k, 0, sizeof(*k));
	k->p = p;
	k->len = len;
	k->ts = -1;
	k->pay_len = len;
	if (len < 14) {
		k->err = "runt frame";
		return;
	}
	k->layers = RP_ETH;
	k->ethertype = rp_get16(p + 12);
	k->pay = 14;
	k->pay_len = len - 14;
	if (k->ethertype == ETHERTYPE_ARP) {
		if (len - 14 < 28) {
			k->err = "ARP packet truncated";
			return;
		}
		/* the fixed layout below holds only for Ethernet/IPv4 ARP */
		if (rp_get16(p + 14) != 1 || rp_get16(p + 16) != ETHERTYPE_IPV4 || p[18] != 6 || p[19] != 4) {
			k->err = "ARP for another hardware or protocol type";
			return;
		}
		k->layers |= RP_ARP;
		k->l3 = 14;
		k->l3_len = 28;
		k->pay = 42;
		k->pay_len = 0; /* what follows is Ethernet padding */
	} else if (k->ethertype == ETHERTYPE_IPV4) {
		parse_ipv4(k);
	}
}

/* ---- checksums ---- */

uint32_t rp_csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2) {
		sum += rp_get16(p + i);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	if (i < len) {
		sum += (uint32_t)p[i] << 8;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

uint16_t rp_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t rp_ip_csum_want(const struct rp_pkt *k)
{
	const uint8_t *ip = k->p + k->l3;
	uint32_t sum = rp_csum_add(0, ip, 10);

	sum = rp_csum_add(sum, ip + 12, k->ihl - 12);
	return (uint16_t)~rp_csum_fold(sum);
}

bool rp_ip_csum_ok(const struct rp_pkt *k)
{
	if (!(k->layers & RP_IP))
		return true;
	return rp_csum_fold(rp_csum_add(0, k->p + k->l3, k->ihl)) == 0xffff;
}

/* Offset of the checksum field within the transport header. */
static uint32_t l4_csum_off(const struct rp_pkt *k)
{
	if (k->layers & RP_TCP)
		return 16;
	if (k->layers & RP_UDP)
		return 6;
	return 2;
}

uint16_t rp_l4_csum_want(const struct rp_pkt *k)
{
	const uint8_t *t = k->p + k->l4;
	uint32_t co = l4_csum_off(k), sum = 0;
	uint16_t c;

	if (!(k->layers & RP_ICMP)) {
		/* RFC 793 / RFC 768 pseudo-header */
		sum = rp_csum_add(sum, k->p + k->l3 + 12, 8);
		sum += k->proto;
		sum += k->l4_len;
	}
	sum = rp_csum_add(sum, t, co);
	sum = rp_csum_add(sum, t + co + 2, k->l4_len - co - 2);
	c = (uint16_t)~rp_csum_fold(sum);
	if ((k->layers & RP_UDP) && c == 0)
		c = 0xffff; /* RFC 768: a computed 0 is sent as all ones */
	return c;
}

bool rp_l4_csum_ok(const struct rp_pkt *k)
{
	uint16_t have;

	if (!(k->layers & (RP_ICMP | RP_UDP | RP_TCP)))
		return true;
	have = rp_get16(k->p + k->l4 + l4_csum_off(k));
	if ((k->layers & RP_UDP) && have == 0)
		return true; /* RFC 768: no checksum */
	return have == rp_l4_csum_want(k);
}

/* ---- summaries ---- */

const char *rp_ipv4_str(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

void rp_tcp_flags_str(uint8_t flags, char *buf)
{
	/* Scapy's order and letters, as the expected captures are written in Scapy */
	static const char letters[] = "FSRPAUEC";
	int n = 0;

	for (int i = 0; i < 8; i++)
		if (flags & (1u << i))
			buf[n++] = letters[i];
	buf[n] = '\0';
}

static void append(char *buf, size_t n, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t n, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*used >= n)
		return;
	va_start(ap, fmt);
	r = vsnprintf(buf + *used, n - *used, fmt, ap);
	va_end(ap);
	if (r > 0)
		*used = *used + (size_t)r < n ? *used + (size_t)r : n;
}

void rp_tcp_options_str(const struct rp_pkt *k, char *buf, size_t n)
{
	size_t used = 0;

	append(buf, n, &used, "[");
	for (int i = 0; i < k->nopt; i++) {
		const struct rp_tcpopt *o = &k->opt[i];
		const uint8_t *v = k->p + o->off + 2;

		if (i)
			append(buf, n, &used, ", ");
		switch (o->kind) {
		case RP_TCPOPT_EOL: append(buf, n, &used, "EOL"); break;
		case RP_TCPOPT_NOP: append(buf, n, &used, "NOP"); break;
		case RP_TCPOPT_MSS: append(buf, n, &used, "MSS %u", rp_get16(v)); break;
		case RP_TCPOPT_WS: append(buf, n, &used, "WScale %u", v[0]); break;
		case RP_TCPOPT_SACKOK: append(buf, n, &used, "SAckOK"); break;
		case RP_TCPOPT_TS: append(buf, n, &used, "TS %u %u", rp_get32(v), rp_get32(v + 4)); break;
		case RP_TCPOPT_SACK:
			append(buf, n, &used, "SAck");
			for (uint32_t j = 0; j + 8 <= (uint32_t)o->len - 2; j += 8)
				append(buf, n, &used, " %u-%u", rp_get32(v + j), rp_get32(v + j + 4));
			break;
		default:
			append(buf, n, &used, "kind %u len %u", o->kind, o->len);
			break;
		}
	}
	if (k->opt_bad)
		append(buf, n, &used, "%sbad option", k->nopt ? ", " : "");
	append(buf, n, &used, "]");
}

static const char *icmp_type_name(uint8_t type)
{
	switch (type) {
	case 0: return "echo-reply";
	case 3: return "dest-unreach";
	case 4: return "source-quench";
	case 5: return "redirect";
	case 8: return "echo-request";
	case 11: return "time-exceeded";
	case 12: return "parameter-problem";
	case 13: return "timestamp-request";
	case 14: return "timestamp-reply";
	default: return NULL;
	}
}

static void summary_ip(const struct rp_pkt *k, char *buf, size_t n, size_t *used)
{
	const uint8_t *ip = k->p + k->l3, *t = k->p + k->l4;
	char s[16], d[16];

	rp_ipv4_str(rp_get32(ip + 12), s);
	rp_ipv4_str(rp_get32(ip + 16), d);
	if (k->frag) {
		uint16_t fo = rp_get16(ip + 6);
		append(buf, n, used, "IPv4 %s > %s proto %u fragment id 0x%04x offset %u len %u%s", s, d,
		       k->proto, rp_get16(ip + 4), (fo & 0x1fff) * 8u, k->l4_len, (fo & 0x2000) ? " MF" : "");
	} else if (k->layers & RP_TCP) {
		char fl[9];
		rp_tcp_flags_str(t[13], fl);
		append(buf, n, used, "TCP %s:%u > %s:%u [%s] seq %u", s, rp_get16(t), d, rp_get16(t + 2), fl,
		       rp_get32(t + 4));
		if (t[13] & RP_TCPF_ACK)
			append(buf, n, used, " ack %u", rp_get32(t + 8));
		if (k->pay_len)
			append(buf, n, used, " len %u", k->pay_len);
	} else if (k->layers & RP_UDP) {
		append(buf, n, used, "UDP %s:%u > %s:%u len %u", s, rp_get16(t), d, rp_get16(t + 2), k->pay_len);
	} else if (k->layers & RP_ICMP) {
		const char *name = icmp_type_name(t[0]);
		append(buf, n, used, "ICMP %s > %s ", s, d);
		if (name)
			append(buf, n, used, "%s", name);
		else
			append(buf, n, used, "type %u", t[0]);
		if (t[0] == 0 || t[0] == 8)
			append(buf, n, used, " id 0x%04x seq %u len %u", rp_get16(t + 4), rp_get16(t + 6), k->pay_len);
		else if (t[1])
			append(buf, n, used, " code %u", t[1]);
	} else {
		append(buf, n, used, "IPv4 %s > %s proto %u len %u", s, d, k->proto, k->l4_len);
	}
}

void rp_summary(const struct rp_pkt *k, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	if (!(k->layers & RP_ETH)) {
		append(buf, n, &used, "runt frame of %u bytes", k->len);
		return;
	}
	if (k->layers & RP_ARP) {
		const uint8_t *a = k->p + k->l3;
		char s[16], t[16];
		uint16_t op = rp_get16(a + 6);
		rp_ipv4_str(rp_get32(a + 14), s);
		rp_ipv4_str(rp_get32(a + 24), t);
		if (op == 1)
			append(buf, n, &used, "ARP who-has %s tell %s", t, s);
		else if (op == 2)
			append(buf, n, &used, "ARP %s is-at %02x:%02x:%02x:%02x:%02x:%02x", s, a[8], a[9], a[10],
			       a[11], a[12], a[13]);
		else
			append(buf, n, &used, "ARP op %u %s > %s", op, s, t);
	} else if (k->layers & RP_IP) {
		summary_ip(k, buf, n, &used);
	} else {
		append(buf, n, &used, "Ethernet type 0x%04x len %u", k->ethertype, k->len);
	}
	if (k->err)
		append(buf, n, &used, " (malformed: %s)", k->err);
}
