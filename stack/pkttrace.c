/*
 * pkttrace.c - the packet trace: every frame a device hands the stack (eth_rcv, before any check)
 * and every frame the stack hands a device (eth_output) decoded on one line, and every TCP state
 * change with its reason (tcp_set_state), into a FILE the user gave us_pkttrace_set().
 *
 * The decoder prints what `tcpdump -nn -S` prints for Ethernet, ARP, IPv4, ICMP, UDP and TCP, down to
 * its words for broken headers ("bad-hlen 12", "truncated-ip - 4 bytes missing!", " [|tcp]"), so a
 * trace reads like a capture and can be checked against tcpdump itself (tests/pcap/pkttrace_vs_tcpdump.py).
 * It follows tcpdump's own structure: each layer gets the bytes that are there (caplen) and the
 * length the layer below said it has (length), and stops with " [|proto]" where a field it needs is
 * not there. Where it prints less than tcpdump (application protocols, IPv6, VLAN, most LLC, a few
 * ICMP types and TCP options), docs/packet-trace.md lists it.
 *
 * Every read is checked against caplen: the decoder sees malformed frames (the fuzzer runs it on each
 * input). Lines are built in a fixed buffer and written with one fprintf, under the stack lock.
 */
#include "pkttrace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tcp.h"
#include "wire/bytes.h"

struct pt_out {
	char *buf;
	size_t size, len; /* len < size always; buf[len] is the NUL */
};

static void pt_printf(struct pt_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void pt_printf(struct pt_out *o, const char *fmt, ...)
{
	size_t room = o->size - o->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len = (size_t)n >= room ? o->size - 1 : o->len + (size_t)n;
}

/* tcpdump's nd_print_trunc: the layer needed bytes that are not there. */
static void pt_trunc(struct pt_out *o, const char *proto)
{
	pt_printf(o, " [|%s]", proto);
}

static void pt_fmt_addr(char *s, const uint8_t *a);

static void pt_ipaddr(struct pt_out *o, const uint8_t *a)
{
	char s[16];

	pt_fmt_addr(s, a);
	pt_printf(o, "%s", s);
}

/* A link-layer address of n bytes, tcpdump's linkaddr_string: hex bytes joined by colons. */
static void pt_linkaddr(struct pt_out *o, const uint8_t *a, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		pt_printf(o, i ? ":%02x" : "%02x", a[i]);
}

struct pt_name {
	uint32_t v;
	const char *name;
};

static const char *pt_lookup(const struct pt_name *t, uint32_t v)
{
	for (; t->name; t++)
		if (t->v == v)
			return t->name;
	return NULL;
}

/* tcpdump's ethertype_values, the part a userspace IPv4 stack meets (and meets in fuzzing) */
static const struct pt_name pt_ethertypes[] = {
	{ 0x0200, "PUP" },
	{ 0x0500, "Sprite" },
	{ 0x0600, "NS" },
	{ 0x0800, "IPv4" },
	{ 0x0806, "ARP" },
	{ 0x1000, "Trail" },
	{ 0x8035, "Reverse ARP" },
	{ 0x8100, "802.1Q" },
	{ 0x86dd, "IPv6" },
	{ 0x8847, "MPLS unicast" },
	{ 0x8848, "MPLS multicast" },
	{ 0x8863, "PPPoE D" },
	{ 0x8864, "PPPoE S" },
	{ 0x888e, "EAPOL" },
	{ 0x88a8, "802.1Q-QinQ" },
	{ 0x88cc, "LLDP" },
	{ 0x9000, "Loopback" },
	{ 0, NULL },
};

/* ---- ARP (RFC 826), tcpdump's arp_print ---- */

static const struct pt_name pt_arp_ops[] = {
	{ 1, "Request" },
	{ 2, "Reply" },
	{ 3, "Reverse Request" },
	{ 4, "Reverse Reply" },
	{ 8, "Inverse Request" },
	{ 9, "Inverse Reply" },
	{ 10, "NACK Reply" },
	{ 0, NULL },
};

static const struct pt_name pt_arp_hrd[] = {
	{ 1, "Ethernet" },
	{ 6, "TokenRing" },
	{ 7, "ArcNet" },
	{ 15, "FrameRelay" },
	{ 19, "ATM" },
	{ 24, "IEEE1394" },
	{ 32, "InfiniBand" },
	{ 0, NULL },
};

static void pt_arp(struct pt_out *o, const uint8_t *p, uint32_t caplen, uint32_t length,
		   unsigned flags)
{
	uint16_t hrd, pro, op;
	uint32_t hln, pln;
	const uint8_t *sha, *spa, *tha, *tpa;
	const char *s;
	bool zero = true;

	if (caplen < 8) {
		pt_trunc(o, "arp");
		return;
	}
	hrd = get_be16(p);
	pro = get_be16(p + 2);
	hln = p[4];
	pln = p[5];
	op = get_be16(p + 6);
	if (caplen < 8 + 2 * hln + 2 * pln) {
		pt_trunc(o, "arp");
		return;
	}
	sha = p + 8;
	spa = sha + hln;
	tha = spa + pln;
	tpa = tha + hln;
	if (!(flags & US_PKTTRACE_LINK))
		pt_printf(o, "ARP, ");
	if ((pro != 0x0800 && pro != 0x1000) || pln != 4 || hln == 0) {
		/* addresses we cannot print: the types and lengths instead */
		s = pt_lookup(pt_arp_hrd, hrd);
		if (s)
			pt_printf(o, "%s (len %u), ", s, hln);
		else
			pt_printf(o, "Unknown Hardware (%u) (len %u), ", hrd, hln);
		s = pt_lookup(pt_ethertypes, pro);
		if (s)
			pt_printf(o, "%s (len %u)", s, pln);
		else
			pt_printf(o, "Unknown Protocol (0x%04x) (len %u)", pro, pln);
		goto out;
	}
	s = pt_lookup(pt_arp_ops, op);
	if (s)
		pt_printf(o, "%s ", s);
	else
		pt_printf(o, "Unknown (%u) ", op);
	switch (op) {
	case 1:
		pt_printf(o, "who-has ");
		pt_ipaddr(o, tpa);
		for (uint32_t i = 0; i < hln; i++)
			zero = zero && tha[i] == 0;
		if (!zero) {
			pt_printf(o, " (");
			pt_linkaddr(o, tha, hln);
			pt_printf(o, ")");
		}
		pt_printf(o, " tell ");
		pt_ipaddr(o, spa);
		break;
	case 2:
		pt_ipaddr(o, spa);
		pt_printf(o, " is-at ");
		pt_linkaddr(o, sha, hln);
		break;
	case 3:
	case 8:
		pt_printf(o, "who-is ");
		pt_linkaddr(o, tha, hln);
		pt_printf(o, " tell ");
		pt_linkaddr(o, sha, hln);
		break;
	case 4:
		pt_linkaddr(o, tha, hln);
		pt_printf(o, " at ");
		pt_ipaddr(o, tpa);
		break;
	case 9:
		pt_linkaddr(o, sha, hln);
		pt_printf(o, " at ");
		pt_ipaddr(o, spa);
		break;
	default:
		return; /* tcpdump dumps the bytes in hex; one line has no room for them */
	}
out:
	pt_printf(o, ", length %u", length);
}

/* ---- ICMP (RFC 792), tcpdump's icmp_print without -v ---- */

static const char *const pt_unreach[16] = {
	"net %s unreachable",
	"host %s unreachable",
	NULL, /* protocol: its own words */
	NULL, /* port */
	NULL, /* fragmentation needed */
	"%s unreachable - source route failed",
	"net %s unreachable - unknown",
	"host %s unreachable - unknown",
	"%s unreachable - source host isolated",
	"net %s unreachable - admin prohibited",
	"host %s unreachable - admin prohibited",
	"net %s unreachable - tos prohibited",
	"host %s unreachable - tos prohibited",
	"host %s unreachable - admin prohibited filter",
	"host %s unreachable - host precedence violation",
	"host %s unreachable - precedence cutoff",
};

static const char *const pt_redirect[4] = {
	"redirect %s to net %s",
	"redirect %s to host %s",
	"redirect-tos %s to net %s",
	"redirect-tos %s to host %s",
};

static const struct pt_name pt_icmp_types[] = {
	{ 0, "echo reply" },
	{ 4, "source quench" },
	{ 8, "echo request" },
	{ 10, "router solicitation" },
	{ 13, "time stamp request" },
	{ 14, "time stamp reply" },
	{ 15, "information request" },
	{ 16, "information reply" },
	{ 17, "address mask request" },
	{ 0, NULL },
};

/* A dotted quad from wire bytes, as the stack formats an address (us_format_ipv4). */
static void pt_fmt_addr(char *s, const uint8_t *a)
{
	us_format_ipv4(get_be32(a), s);
}

/* The words for one ICMP message into str; false when a field they need is not there. The quoted
 * datagram of an error starts at byte 8 (its destination address at 24). */
static bool pt_icmp_words(char *str, size_t size, const uint8_t *p, uint32_t caplen)
{
	uint8_t type = p[0], code = p[1];
	char dst[16], gw[16];
	const char *s;

	switch (type) {
	case 0:
	case 8:
		if (caplen < 8)
			return false;
		snprintf(str, size, "echo %s, id %u, seq %u", type == 8 ? "request" : "reply",
			 get_be16(p + 4), get_be16(p + 6));
		return true;
	case 3:
		if (code == 3) {
			/* the quoted header's length first, then the port after it, as tcpdump reads */
			uint32_t hl;
			uint16_t dport;

			if (caplen < 9)
				return false;
			hl = (uint32_t)(p[8] & 0x0f) * 4;
			if (caplen < 8 + hl + 4 || caplen < 28)
				return false;
			dport = get_be16(p + 8 + hl + 2);
			pt_fmt_addr(dst, p + 24);
			if (p[17] == 6)
				snprintf(str, size, "%s tcp port %u unreachable", dst, dport);
			else if (p[17] == 17)
				snprintf(str, size, "%s udp port %u unreachable", dst, dport);
			else
				snprintf(str, size, "%s protocol %u port %u unreachable", dst, p[17], dport);
			return true;
		}
		if (caplen < 28)
			return false;
		pt_fmt_addr(dst, p + 24);
		if (code == 2) {
			snprintf(str, size, "%s protocol %u unreachable", dst, p[17]);
		} else if (code == 4) {
			uint16_t mtu = get_be16(p + 6); /* RFC 1191 next-hop MTU */

			if (mtu)
				snprintf(str, size, "%s unreachable - need to frag (mtu %u)", dst, mtu);
			else
				snprintf(str, size, "%s unreachable - need to frag", dst);
		} else if (code < 16) {
			snprintf(str, size, pt_unreach[code], dst);
		} else {
			snprintf(str, size, "%s unreachable - #%u", dst, code);
		}
		return true;
	case 5:
		if (caplen < 28)
			return false;
		pt_fmt_addr(dst, p + 24);
		pt_fmt_addr(gw, p + 4);
		if (code < 4)
			snprintf(str, size, pt_redirect[code], dst, gw);
		else
			snprintf(str, size, "redirect-#%u %s to %s", code, dst, gw);
		return true;
	case 11:
		if (caplen < 28)
			return false;
		if (code == 0)
			snprintf(str, size, "time exceeded in-transit");
		else if (code == 1)
			snprintf(str, size, "ip reassembly time exceeded");
		else
			snprintf(str, size, "time exceeded-#%u", code);
		return true;
	case 12:
		if (code) {
			snprintf(str, size, "parameter problem - code %u", code);
			return true;
		}
		if (caplen < 5)
			return false;
		snprintf(str, size, "parameter problem - octet %u", p[4]);
		return true;
	case 13:
		if (caplen < 8)
			return false;
		snprintf(str, size, "time stamp query id %u seq %u", get_be16(p + 4), get_be16(p + 6));
		return true;
	case 18:
		if (caplen < 12)
			return false;
		snprintf(str, size, "address mask is 0x%08x", get_be32(p + 8));
		return true;
	default:
		s = pt_lookup(pt_icmp_types, type);
		if (s)
			snprintf(str, size, "%s", s);
		else
			snprintf(str, size, "type-#%u", type);
		return true;
	}
}

static void pt_icmp(struct pt_out *o, const uint8_t *p, uint32_t caplen, uint32_t length)
{
	char str[128];

	if (caplen < 2 || !pt_icmp_words(str, sizeof(str), p, caplen)) {
		pt_trunc(o, "icmp");
		return;
	}
	pt_printf(o, "ICMP %s, length %u", str, length);
}

/* The addresses and ports as tcpdump puts them, "A.sport > B.dport: ". Without room for the ports:
 * "A > B" then cut and the truncation mark (tcpdump's own spacing differs, udp ": ", tcp ":"), and
 * false. */
static bool pt_ports(struct pt_out *o, const uint8_t *p, uint32_t caplen, const uint8_t *ip,
		     const char *cut, const char *proto)
{
	pt_ipaddr(o, ip + 12);
	if (caplen < 4) {
		pt_printf(o, " > ");
		pt_ipaddr(o, ip + 16);
		pt_printf(o, "%s", cut);
		pt_trunc(o, proto);
		return false;
	}
	pt_printf(o, ".%u > ", get_be16(p));
	pt_ipaddr(o, ip + 16);
	pt_printf(o, ".%u: ", get_be16(p + 2));
	return true;
}

/* ---- UDP (RFC 768), tcpdump's udp_print without -v ---- */

static void pt_udp(struct pt_out *o, const uint8_t *p, uint32_t caplen, uint32_t length,
		   const uint8_t *ip, bool fragmented)
{
	uint32_t ulen;

	if (!pt_ports(o, p, caplen, ip, ": ", "udp"))
		return;
	if (length < 8) {
		pt_printf(o, "truncated-udp %u", length);
		return;
	}
	if (caplen < 6) {
		pt_trunc(o, "udp");
		return;
	}
	ulen = get_be16(p + 4);
	if (ulen < 8) {
		pt_printf(o, "truncated-udplength %u", ulen); /* sic: tcpdump's words */
		return;
	}
	if (caplen < 8) {
		pt_trunc(o, "udp");
		return;
	}
	ulen -= 8;
	length -= 8;
	if (ulen < length)
		length = ulen;
	if (ulen > length && !fragmented)
		pt_printf(o, "UDP, bad length %u > %u", ulen, length);
	else
		pt_printf(o, "UDP, length %u", ulen);
}

/* ---- TCP (RFC 9293), tcpdump's tcp_print with -S, without -v ---- */

static const struct pt_name pt_tcp_opts[] = {
	{ 0, "eol" },
	{ 1, "nop" },
	{ 2, "mss" },
	{ 3, "wscale" },
	{ 4, "sackOK" },
	{ 5, "sack" },
	{ 6, "echo" },
	{ 7, "echoreply" },
	{ 8, "TS" },
	{ 11, "cc" },
	{ 12, "ccnew" },
	{ 13, "" },
	{ 19, "md5" },
	{ 20, "scps" },
	{ 28, "uto" },
	{ 29, "tcp-ao" },
	{ 30, "mptcp" },
	{ 34, "tfo" },
	{ 254, "exp" },
	{ 0, NULL },
};

/* The options of a header whose length passed the checks: tcpdump's loop, which reports an option
 * whose length differs from its kind's ("[len N]") and goes on from where the kind's fields end.
 * p: the first option byte; hlen: option bytes by the header; caplen: bytes there from p. False
 * when the list was bad or cut, which ends the line (tcpdump prints no segment length then). */
static bool pt_tcp_options(struct pt_out *o, const uint8_t *p, uint32_t hlen, uint32_t caplen)
{
	uint32_t i = 0; /* read position in p */
	char ch = '\0';

	pt_printf(o, ", options [");
	while (hlen > 0) {
		uint32_t opt, len, datalen = 0;
		const char *name;

		if (ch)
			pt_printf(o, "%c", ch);
		if (i >= caplen)
			goto cut;
		opt = p[i++];
		if (opt == 0 || opt == 1) {
			len = 1;
		} else {
			if (i >= caplen)
				goto cut;
			len = p[i++];
			if (len < 2 || len > hlen)
				goto bad;
			hlen--;
		}
		hlen--;
		name = pt_lookup(pt_tcp_opts, opt);
		if (name)
			pt_printf(o, "%s", name);
		else
			pt_printf(o, "unknown-%u", opt);
/* tcpdump's LENCHECK: l bytes of the option's fields within the header, and there (when they are
 * not, tcpdump's own "[|tcp]>"; a kind or length byte missing is "[|tcp]" alone) */
#define PT_LENCHECK(l)                  \
	do {                            \
		if ((l) > hlen)         \
			goto bad;       \
		if (i + (l) > caplen)   \
			goto trunc;     \
	} while (0)
		switch (opt) {
		case 0:
		case 1:
		case 4:
			break;
		case 2:
			datalen = 2;
			PT_LENCHECK(datalen);
			pt_printf(o, " %u", get_be16(p + i));
			break;
		case 3:
			datalen = 1;
			PT_LENCHECK(datalen);
			pt_printf(o, " %u", p[i]);
			break;
		case 5:
			datalen = len - 2;
			if (datalen % 8 != 0) {
				pt_printf(o, " invalid sack");
			} else {
				pt_printf(o, " %u ", datalen / 8);
				for (uint32_t k = 0; k < datalen; k += 8) {
					PT_LENCHECK(k + 8);
					pt_printf(o, "{%u:%u}", get_be32(p + i + k), get_be32(p + i + k + 4));
				}
			}
			break;
		case 6:
		case 7:
		case 11:
		case 12:
		case 13:
			datalen = 4;
			PT_LENCHECK(datalen);
			pt_printf(o, " %u", get_be32(p + i));
			break;
		case 8:
			datalen = 8;
			PT_LENCHECK(datalen);
			pt_printf(o, " val %u ecr %u", get_be32(p + i), get_be32(p + i + 4));
			break;
		case 19:
			datalen = 16;
			PT_LENCHECK(datalen);
			pt_printf(o, " ");
			for (uint32_t k = 0; k < datalen; k++)
				pt_printf(o, "%02x", p[i + k]);
			break;
		case 20:
			datalen = 2;
			PT_LENCHECK(datalen);
			pt_printf(o, " cap %02x id %u", p[i], p[i + 1]);
			break;
		case 28: {
			uint32_t uto;

			datalen = 2;
			PT_LENCHECK(datalen);
			uto = get_be16(p + i);
			pt_printf(o, " 0x%x", uto);
			uto = (uto & 1) ? (uto >> 1) * 60 : uto >> 1;
			pt_printf(o, " %u", uto);
			break;
		}
		default:
			datalen = len - 2;
			if (datalen)
				pt_printf(o, " 0x");
			for (uint32_t k = 0; k < datalen; k++) {
				PT_LENCHECK(k + 1);
				pt_printf(o, "%02x", p[i + k]);
			}
			break;
		}
#undef PT_LENCHECK
		i += datalen;
		hlen -= datalen;
		datalen += (opt == 0 || opt == 1) ? 1 : 2; /* the kind and length octets */
		if (datalen != len)
			pt_printf(o, "[len %u]", len);
		ch = ',';
		if (opt == 0)
			break;
	}
	pt_printf(o, "]");
	return true;
bad:
	pt_printf(o, "[bad opt]");
	if (ch)
		pt_printf(o, "]");
	return false;
trunc:
	pt_trunc(o, "tcp");
	if (ch)
		pt_printf(o, ">"); /* sic */
	return false;
cut:
	pt_trunc(o, "tcp");
	return false;
}

static void pt_tcp(struct pt_out *o, const uint8_t *p, uint32_t caplen, uint32_t length,
		   const uint8_t *ip)
{
	static const char fl[8] = { 'F', 'S', 'R', 'P', '.', 'U', 'E', 'W' };
	char flags[10];
	uint32_t hlen, seq, n = 0;
	uint8_t f;

	if (!pt_ports(o, p, caplen, ip, ":", "tcp"))
		return;
	if (caplen < 20) {
		pt_trunc(o, "tcp");
		return;
	}
	hlen = (uint32_t)(p[12] >> 4) * 4;
	if (hlen < 20) {
		pt_printf(o, " tcp %u [bad hdr length %u - too short, < 20]", length - hlen, hlen);
		return;
	}
	f = p[13];
	for (int b = 0; b < 8; b++)
		if (f & (1u << b))
			flags[n++] = fl[b];
	flags[n] = '\0';
	pt_printf(o, "Flags [%s]", n ? flags : "none");
	if (hlen > length) {
		pt_printf(o, " [bad hdr length %u - too long, > %u]", hlen, length);
		return;
	}
	length -= hlen;
	seq = get_be32(p + 4);
	if (length > 0)
		pt_printf(o, ", seq %u:%u", seq, seq + length);
	else if (f & (TCPF_SYN | TCPF_FIN | TCPF_RST))
		pt_printf(o, ", seq %u", seq);
	if (f & TCPF_ACK)
		pt_printf(o, ", ack %u", get_be32(p + 8));
	pt_printf(o, ", win %u", get_be16(p + 14));
	if (f & TCPF_URG)
		pt_printf(o, ", urg %u", get_be16(p + 18));
	if (hlen > 20 && !pt_tcp_options(o, p + 20, hlen - 20, caplen - 20))
		return;
	pt_printf(o, ", length %u", length);
}

/* ---- IPv4 (RFC 791), tcpdump's ip_print without -v ---- */

static void pt_ip(struct pt_out *o, const uint8_t *p, uint32_t caplen, uint32_t length,
		  unsigned flags)
{
	uint32_t hlen, tot, off;
	uint8_t v, proto;

	if (caplen < 1) {
		pt_trunc(o, "ip");
		return;
	}
	v = p[0] >> 4;
	if (v != 4) {
		if (v == 6)
			pt_printf(o, "IP6, wrong link-layer encapsulation (invalid)");
		else
			pt_printf(o, "IP%u (invalid)", v);
		return;
	}
	if (!(flags & US_PKTTRACE_LINK))
		pt_printf(o, "IP ");
	if (caplen < 20) {
		pt_trunc(o, "ip");
		return;
	}
	if (length < 20) {
		pt_printf(o, "truncated-ip %u", length);
		return;
	}
	hlen = (uint32_t)(p[0] & 0x0f) * 4;
	if (hlen < 20) {
		pt_printf(o, "bad-hlen %u", hlen);
		return;
	}
	tot = get_be16(p + 2);
	if (length < tot)
		pt_printf(o, "truncated-ip - %u bytes missing! ", tot - length);
	if (tot < hlen) {
		pt_printf(o, "bad-len %u", tot);
		return;
	}
	/* the datagram ends where its total length says: Ethernet padding is not payload */
	if (caplen > tot)
		caplen = tot;
	off = get_be16(p + 6);
	proto = p[9];
	if (off & 0x1fff) {
		/* not the first fragment: no transport header to show */
		pt_ipaddr(o, p + 12);
		pt_printf(o, " > ");
		pt_ipaddr(o, p + 16);
		pt_printf(o, ": ip-proto-%u", proto);
		return;
	}
	if (proto != 6 && proto != 17 && proto != 132 && proto != 33) {
		pt_ipaddr(o, p + 12);
		pt_printf(o, " > ");
		pt_ipaddr(o, p + 16);
		pt_printf(o, ": ");
	}
	if (caplen < hlen) {
		pt_printf(o, " [remaining caplen(%u) < header length(%u)]", caplen, hlen);
		pt_trunc(o, "ip");
		return;
	}
	switch (proto) {
	case 1:
		pt_icmp(o, p + hlen, caplen - hlen, tot - hlen);
		break;
	case 6:
		pt_tcp(o, p + hlen, caplen - hlen, tot - hlen, p);
		break;
	case 17:
		pt_udp(o, p + hlen, caplen - hlen, tot - hlen, p, (off & 0x2000) != 0);
		break;
	default:
		pt_printf(o, " ip-proto-%u %u", proto, tot - hlen);
		break;
	}
}

/* ---- Ethernet ---- */

/* The -e header: "src > dst, ethertype NAME (0xTYPE), length N: ", N the frame's length, or for
 * IEEE 802.3 what its length field says as far as the frame goes. */
static void pt_ether_hdr(struct pt_out *o, const uint8_t *h, uint32_t length)
{
	uint16_t type = get_be16(h + 12);
	const char *name = pt_lookup(pt_ethertypes, type);

	pt_linkaddr(o, h + 6, 6);
	pt_printf(o, " > ");
	pt_linkaddr(o, h, 6);
	if (type <= 1500)
		pt_printf(o, ", 802.3, length %u: ", type < length - 14 ? type : length - 14);
	else
		pt_printf(o, ", ethertype %s (0x%04x), length %u: ", name ? name : "Unknown", type, length);
}

/* A payload of the given ethertype; false when it is not one we decode. */
static bool pt_ethertype(struct pt_out *o, uint16_t type, const uint8_t *p, uint32_t caplen,
			 uint32_t length, unsigned flags)
{
	switch (type) {
	case 0x0800:
		pt_ip(o, p, caplen, length, flags);
		return true;
	case 0x0806:
		pt_arp(o, p, caplen, length, flags);
		return true;
	default:
		return false;
	}
}

/* IEEE 802.3 with an LLC header; RFC 1042's SNAP (AA AA 03, OUI 0) carries an ethertype. h: the
 * Ethernet header. */
static void pt_llc(struct pt_out *o, const uint8_t *h, const uint8_t *p, uint32_t caplen,
		   uint32_t length, unsigned flags)
{
	uint16_t type;

	if (caplen < 3) {
		pt_trunc(o, "llc");
		return;
	}
	if (p[0] != 0xaa || p[1] != 0xaa || p[2] != 0x03) {
		pt_printf(o, "LLC, dsap 0x%02x, ssap 0x%02x, ctrl 0x%02x, length %u", p[0], p[1], p[2],
			  length);
		return;
	}
	if (flags & US_PKTTRACE_LINK)
		pt_printf(o, "LLC, dsap SNAP (0xaa) Individual, ssap SNAP (0xaa) Command, ctrl 0x03: ");
	if (caplen < 8) {
		pt_trunc(o, "snap");
		return;
	}
	type = get_be16(p + 6);
	if (flags & US_PKTTRACE_LINK) {
		const char *name = pt_lookup(pt_ethertypes, type);

		if (p[3] | p[4] | p[5])
			pt_printf(o, "oui Unknown (0x%02x%02x%02x), pid Unknown (0x%04x), length %u: ",
				  p[3], p[4], p[5], type, length - 8);
		else
			pt_printf(o, "oui Ethernet (0x000000), ethertype %s (0x%04x), length %u: ",
				  name ? name : "Unknown", type, length - 8);
	}
	if ((p[3] | p[4] | p[5]) == 0 && pt_ethertype(o, type, p + 8, caplen - 8, length - 8, flags))
		return;
	if (flags & US_PKTTRACE_LINK)
		return;
	/* what tcpdump says of a SNAP frame it cannot decode */
	pt_linkaddr(o, h + 6, 6);
	pt_printf(o, " > ");
	pt_linkaddr(o, h, 6);
	if (p[3] | p[4] | p[5])
		pt_printf(o, " SNAP, oui Unknown (0x%02x%02x%02x), pid Unknown (0x%04x), length %u", p[3],
			  p[4], p[5], type, length - 8);
	else
		pt_printf(o, " SNAP, ethertype Unknown (0x%04x), length %u", type, length - 8);
}

size_t pkttrace_decode(char *buf, size_t size, const uint8_t *f, uint32_t len, unsigned flags)
{
	struct pt_out o = { .buf = buf, .size = size, .len = 0 };
	uint16_t type;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (len < 14) {
		pt_trunc(&o, "ether");
		return o.len;
	}
	if (flags & US_PKTTRACE_LINK)
		pt_ether_hdr(&o, f, len);
	type = get_be16(f + 12);
	if (type <= 1500) {
		/* the field is a length: what follows it is padding */
		uint32_t n = len - 14 > type ? type : len - 14;

		pt_llc(&o, f, f + 14, n, n, flags);
	} else if (!pt_ethertype(&o, type, f + 14, len - 14, len - 14, flags) &&
		   !(flags & US_PKTTRACE_LINK)) {
		/* tcpdump shows the link header of what it cannot decode (then the bytes in hex) */
		pt_ether_hdr(&o, f, len);
	}
	/* a layer that ends in ": " or " " had nothing to add (tcpdump's hex dump would follow) */
	while (o.len > 0 && (buf[o.len - 1] == ' ' || (buf[o.len - 1] == ':' && o.len > 1 &&
						       buf[o.len - 2] != ' ')))
		buf[--o.len] = '\0';
	return o.len;
}

/* ---- the trace ---- */

/* Time since the stack was created, "seconds.microseconds". */
static void pt_time(const struct us_stack *st, char *s, size_t size)
{
	uint64_t t = (st->now - st->created_ns) / 1000;

	snprintf(s, size, "%llu.%06llu", (unsigned long long)(t / 1000000),
		 (unsigned long long)(t % 1000000));
}

void pkttrace_frame(struct us_stack *st, const struct netdev *dev, const struct sk_buff *skb,
		    enum pkttrace_dir dir)
{
	char line[PKTTRACE_LINE_MAX], t[32];

	pkttrace_decode(line, sizeof(line), skb->data, skb->len, st->pkttrace_flags);
	pt_time(st, t, sizeof(t));
	fprintf(st->pkttrace, "%s %-3s %s %s\n", t, dir == PKTTRACE_IN ? "In" : "Out",
		dev ? dev->name : "?", line);
}

void pkttrace_tcp_state(const struct tcp_sock *tp, int old, const char *reason)
{
	struct us_stack *st = tp->st;
	char t[32], l[16], r[16];

	if (st->pkttrace_flags & US_PKTTRACE_NO_STATE)
		return;
	pt_time(st, t, sizeof(t));
	fprintf(st->pkttrace, "%s TCP %s:%u > %s:%u %s -> %s (%s)\n", t, us_format_ipv4(tp->laddr, l),
		tp->lport, us_format_ipv4(tp->raddr, r), tp->rport, tcp_state_name(old),
		tcp_state_name(tp->state), reason);
}

void pkttrace_set_locked(struct us_stack *st, FILE *out, unsigned flags)
{
	if (st->pkttrace && st->pkttrace != out)
		fflush(st->pkttrace);
	st->pkttrace = out;
	st->pkttrace_flags = flags;
}

int us_pkttrace_set(struct us_stack *st, FILE *out, unsigned flags)
{
	if (!st || (flags & ~(unsigned)(US_PKTTRACE_LINK | US_PKTTRACE_NO_STATE)))
		return -EINVAL;
	pthread_mutex_lock(&st->lock);
	pkttrace_set_locked(st, out, flags);
	pthread_mutex_unlock(&st->lock);
	return 0;
}
