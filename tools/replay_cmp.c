/*
 * replay_cmp.c - compares the frames the stack sent with an expected capture, field by field per
 * layer, and prints a readable diff: one line per differing field, "missing" and "extra" frames.
 *
 * The sent frames are compared in their relative form (replay_dev.c) and their checksums are checked
 * on the bytes as sent: a wrong checksum is always a mismatch. A checksum is compared by value only
 * when every field it covers is compared too; when one is ignored or was made relative, both sides
 * only have to be valid.
 *
 * Ethernet padding is not compared: each layer is compared over the bytes its length says are its.
 */
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

static const char *const field_names[RP_F_MAX] = {
	[RP_F_ETH_SRC] = "eth.src",	  [RP_F_ETH_DST] = "eth.dst",	  [RP_F_IP_ID] = "ip.id",
	[RP_F_IP_TTL] = "ip.ttl",	  [RP_F_IP_CSUM] = "ip.checksum", [RP_F_IP_FLAGS] = "ip.flags",
	[RP_F_TCP_SEQ] = "tcp.seq",	  [RP_F_TCP_ACK] = "tcp.ack",	  [RP_F_TCP_WINDOW] = "tcp.window",
	[RP_F_TCP_TSVAL] = "tcp.tsval",	  [RP_F_TCP_TSECR] = "tcp.tsecr", [RP_F_TCP_OPTIONS] = "tcp.options",
	[RP_F_TCP_CSUM] = "tcp.checksum", [RP_F_UDP_CSUM] = "udp.checksum", [RP_F_ICMP_CSUM] = "icmp.checksum",
	[RP_F_PAYLOAD] = "payload",	  [RP_F_TIME] = "time",
};

int rp_field_by_name(const char *name)
{
	for (int i = 0; i < RP_F_MAX; i++)
		if (strcmp(name, field_names[i]) == 0)
			return i;
	return -1;
}

const char *rp_field_name(enum rp_field f)
{
	return f < RP_F_MAX ? field_names[f] : "?";
}

#define RP_MAX_TS_SEC INT64_C(9000000000)

int rp_read_pcap(const char *path, int64_t t0_ns, struct rp_frames *fs)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *bytes;
	pcap_t *pc;
	int r;

	pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!pc) {
		fprintf(stderr, "ustack-replay: %s: %s\n", path, err);
		return -1;
	}
	if (pcap_datalink(pc) != DLT_EN10MB) {
		fprintf(stderr, "ustack-replay: %s: not an Ethernet capture\n", path);
		pcap_close(pc);
		return -1;
	}
	while ((r = pcap_next_ex(pc, &h, &bytes)) == 1) {
		int64_t ts;

		/* nanoseconds must fit in 63 bits, with room for the differences taken later: up to the
		 * year 2255 (a pcapng timestamp can say anything) */
		if (h->ts.tv_sec < 0 || h->ts.tv_sec > RP_MAX_TS_SEC || h->ts.tv_usec < 0 ||
		    h->ts.tv_usec >= 1000000000) {
			fprintf(stderr, "ustack-replay: %s: frame %zu has a timestamp out of range\n", path, fs->n + 1);
			pcap_close(pc);
			return -1;
		}
		/* the file is opened with nanosecond precision, so tv_usec holds nanoseconds */
		ts = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec;
		if (rp_frames_push(fs, bytes, h->caplen, ts - t0_ns) != 0) {
			fprintf(stderr, "ustack-replay: %s: out of memory\n", path);
			pcap_close(pc);
			return -1;
		}
	}
	if (r == -1) {
		fprintf(stderr, "ustack-replay: %s: %s\n", path, pcap_geterr(pc));
		pcap_close(pc);
		return -1;
	}
	pcap_close(pc);
	return 0;
}

/* ---- the diff ---- */

struct cmp {
	const struct rp_cmp_config *cfg;
	unsigned mismatches;
	unsigned frame; /* 1-based position in the comparison */
	int64_t t_ns;	/* the sent frame's time */
	const struct rp_pkt *e, *g, *graw; /* expected, sent (relative), sent (as on the wire) */
};

static void diff(struct cmp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void diff(struct cmp *c, const char *fmt, ...)
{
	va_list ap;

	if (c->mismatches++ >= c->cfg->max_lines) {
		if (c->mismatches == c->cfg->max_lines + 1)
			fprintf(stderr, "... (further differences not shown)\n");
		return;
	}
	fprintf(stderr, "frame %u (t=%.3fs): ", c->frame, (double)c->t_ns / 1e9);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool ign(const struct cmp *c, enum rp_field f)
{
	return c->cfg->ignore[f];
}

/* A numeric field at the same offset on both sides. */
static void cmp_uint(struct cmp *c, const char *name, uint32_t e, uint32_t g)
{
	if (e != g)
		diff(c, "%s: expected %u, got %u", name, e, g);
}

static void cmp_hex(struct cmp *c, const char *name, uint32_t e, uint32_t g)
{
	if (e != g)
		diff(c, "%s: expected 0x%04x, got 0x%04x", name, e, g);
}

static void cmp_mac(struct cmp *c, const char *name, const uint8_t *e, const uint8_t *g)
{
	if (memcmp(e, g, 6) != 0)
		diff(c, "%s: expected %02x:%02x:%02x:%02x:%02x:%02x, got %02x:%02x:%02x:%02x:%02x:%02x", name,
		     e[0], e[1], e[2], e[3], e[4], e[5], g[0], g[1], g[2], g[3], g[4], g[5]);
}

static void cmp_addr(struct cmp *c, const char *name, const uint8_t *e, const uint8_t *g)
{
	char a[16], b[16];

	if (memcmp(e, g, 4) != 0)
		diff(c, "%s: expected %s, got %s", name, rp_ipv4_str(rp_get32(e), a), rp_ipv4_str(rp_get32(g), b));
}

static void cmp_bytes(struct cmp *c, const char *name, const uint8_t *e, uint32_t el, const uint8_t *g,
		      uint32_t gl)
{
	uint32_t n = el < gl ? el : gl, i;

	for (i = 0; i < n && e[i] == g[i]; i++)
		;
	if (el == gl && i == n)
		return;
	if (i < n)
		diff(c, "%s: expected %u bytes, got %u, first difference at byte %u: expected 0x%02x, got 0x%02x",
		     name, el, gl, i, e[i], g[i]);
	else
		diff(c, "%s: expected %u bytes, got %u (the first %u are the same)", name, el, gl, n);
}

static void cmp_payload(struct cmp *c)
{
	if (!ign(c, RP_F_PAYLOAD))
		cmp_bytes(c, "payload", c->e->p + c->e->pay, c->e->pay_len, c->g->p + c->g->pay, c->g->pay_len);
}

/*
 * A checksum: the sent one must be right; then equal to the expected one, or, when by_value is false
 * (a covered field is ignored or relative), the expected one must be right for its own bytes.
 */
static void cmp_csum(struct cmp *c, const char *name, uint32_t off, bool g_ok, uint16_t g_want,
		     bool e_ok, uint16_t e_want, bool by_value)
{
	uint16_t ev = rp_get16(c->e->p + off), gv = rp_get16(c->graw->p + off);

	if (!g_ok)
		diff(c, "%s: got 0x%04x, which is wrong (should be 0x%04x)", name, gv, g_want);
	else if (by_value)
		cmp_hex(c, name, ev, gv);
	else if (!e_ok)
		diff(c, "%s: expected 0x%04x, which is not right for the expected frame (0x%04x)", name, ev, e_want);
}

static void flags_str(uint16_t fo, char *buf)
{
	int n = 0;

	if (fo & 0x8000)
		n += sprintf(buf + n, "%sevil", n ? "+" : "");
	if (fo & 0x4000)
		n += sprintf(buf + n, "%sDF", n ? "+" : "");
	if (fo & 0x2000)
		n += sprintf(buf + n, "%sMF", n ? "+" : "");
	if (!n)
		sprintf(buf, "none");
}

static void cmp_arp(struct cmp *c)
{
	const uint8_t *e = c->e->p + c->e->l3, *g = c->g->p + c->g->l3;

	cmp_uint(c, "arp.op", rp_get16(e + 6), rp_get16(g + 6));
	cmp_mac(c, "arp.hwsrc", e + 8, g + 8);
	cmp_addr(c, "arp.psrc", e + 14, g + 14);
	cmp_mac(c, "arp.hwdst", e + 18, g + 18);
	cmp_addr(c, "arp.pdst", e + 24, g + 24);
}

static void cmp_icmp(struct cmp *c)
{
	const struct rp_pkt *e = c->e, *g = c->g;
	const uint8_t *et = e->p + e->l4, *gt = g->p + g->l4;

	unsigned before = c->mismatches;

	cmp_uint(c, "icmp.type", et[0], gt[0]);
	cmp_uint(c, "icmp.code", et[1], gt[1]);
	if (et[0] == gt[0] && (et[0] == 0 || et[0] == 8)) {
		cmp_hex(c, "icmp.id", rp_get16(et + 4), rp_get16(gt + 4));
		cmp_uint(c, "icmp.seq", rp_get16(et + 6), rp_get16(gt + 6));
	} else if (rp_get32(et + 4) != rp_get32(gt + 4)) {
		diff(c, "icmp.rest: expected 0x%08x, got 0x%08x", rp_get32(et + 4), rp_get32(gt + 4));
	}
	cmp_payload(c);
	cmp_csum(c, "icmp.checksum", g->l4 + 2, rp_l4_csum_ok(c->graw), rp_l4_csum_want(c->graw), rp_l4_csum_ok(e),
		 rp_l4_csum_want(e), !ign(c, RP_F_ICMP_CSUM) && !ign(c, RP_F_PAYLOAD) && c->mismatches == before);
}

static void cmp_udp(struct cmp *c)
{
	const struct rp_pkt *e = c->e, *g = c->g;
	const uint8_t *et = e->p + e->l4, *gt = g->p + g->l4;

	unsigned before = c->mismatches;

	cmp_uint(c, "udp.sport", rp_get16(et), rp_get16(gt));
	cmp_uint(c, "udp.dport", rp_get16(et + 2), rp_get16(gt + 2));
	if (!ign(c, RP_F_PAYLOAD))
		cmp_uint(c, "udp.len", rp_get16(et + 4), rp_get16(gt + 4));
	cmp_payload(c);
	cmp_csum(c, "udp.checksum", g->l4 + 6, rp_l4_csum_ok(c->graw), rp_l4_csum_want(c->graw), rp_l4_csum_ok(e),
		 rp_l4_csum_want(e), !ign(c, RP_F_UDP_CSUM) && !ign(c, RP_F_PAYLOAD) && c->mismatches == before);
}

static void cmp_tcp_options(struct cmp *c)
{
	const struct rp_pkt *e = c->e, *g = c->g;
	bool same = e->nopt == g->nopt && e->opt_bad == g->opt_bad;

	for (int i = 0; same && i < e->nopt; i++)
		same = e->opt[i].kind == g->opt[i].kind && e->opt[i].len == g->opt[i].len;
	if (!same) {
		char es[512], gs[512];
		rp_tcp_options_str(e, es, sizeof(es));
		rp_tcp_options_str(g, gs, sizeof(gs));
		diff(c, "tcp.options: expected %s, got %s", es, gs);
		return;
	}
	for (int i = 0; i < e->nopt; i++) {
		const uint8_t *ev = e->p + e->opt[i].off + 2, *gv = g->p + g->opt[i].off + 2;
		char name[32];

		switch (e->opt[i].kind) {
		case RP_TCPOPT_EOL:
		case RP_TCPOPT_NOP:
		case RP_TCPOPT_SACKOK:
			break;
		case RP_TCPOPT_MSS:
			cmp_uint(c, "tcp.mss", rp_get16(ev), rp_get16(gv));
			break;
		case RP_TCPOPT_WS:
			cmp_uint(c, "tcp.wscale", ev[0], gv[0]);
			break;
		case RP_TCPOPT_TS:
			if (!ign(c, RP_F_TCP_TSVAL))
				cmp_uint(c, "tcp.tsval", rp_get32(ev), rp_get32(gv));
			if (!ign(c, RP_F_TCP_TSECR))
				cmp_uint(c, "tcp.tsecr", rp_get32(ev + 4), rp_get32(gv + 4));
			break;
		case RP_TCPOPT_SACK:
			for (uint32_t j = 0; j + 8 <= (uint32_t)e->opt[i].len - 2; j += 8) {
				if (memcmp(ev + j, gv + j, 8) != 0)
					diff(c, "tcp.sack block %u: expected %u-%u, got %u-%u", j / 8 + 1, rp_get32(ev + j),
					     rp_get32(ev + j + 4), rp_get32(gv + j), rp_get32(gv + j + 4));
			}
			break;
		default:
			snprintf(name, sizeof(name), "tcp.option %u", e->opt[i].kind);
			cmp_bytes(c, name, ev, e->opt[i].len - 2u, gv, g->opt[i].len - 2u);
			break;
		}
	}
	if (e->thl != g->thl)
		cmp_uint(c, "tcp.dataofs", e->thl / 4, g->thl / 4);
}

static void cmp_tcp(struct cmp *c, bool rel)
{
	const struct rp_pkt *e = c->e, *g = c->g;
	const uint8_t *et = e->p + e->l4, *gt = g->p + g->l4;
	unsigned before = c->mismatches;
	bool by_value;

	cmp_uint(c, "tcp.sport", rp_get16(et), rp_get16(gt));
	cmp_uint(c, "tcp.dport", rp_get16(et + 2), rp_get16(gt + 2));
	if (!ign(c, RP_F_TCP_SEQ))
		cmp_uint(c, "tcp.seq", rp_get32(et + 4), rp_get32(gt + 4));
	if (!ign(c, RP_F_TCP_ACK))
		cmp_uint(c, "tcp.ack", rp_get32(et + 8), rp_get32(gt + 8));
	if (et[13] != gt[13] || (et[12] & 15) != (gt[12] & 15)) {
		char ef[9], gf[9];
		rp_tcp_flags_str(et[13], ef);
		rp_tcp_flags_str(gt[13], gf);
		diff(c, "tcp.flags: expected %s%s, got %s%s", ef[0] ? ef : "none", (et[12] & 15) ? " (+reserved)" : "",
		     gf[0] ? gf : "none", (gt[12] & 15) ? " (+reserved)" : "");
	}
	if (!ign(c, RP_F_TCP_WINDOW))
		cmp_uint(c, "tcp.window", rp_get16(et + 14), rp_get16(gt + 14));
	cmp_uint(c, "tcp.urgptr", rp_get16(et + 18), rp_get16(gt + 18));
	if (!ign(c, RP_F_TCP_OPTIONS))
		cmp_tcp_options(c);
	cmp_payload(c);
	by_value = !rel && !ign(c, RP_F_TCP_CSUM) && !ign(c, RP_F_TCP_SEQ) && !ign(c, RP_F_TCP_ACK) &&
		   !ign(c, RP_F_TCP_WINDOW) && !ign(c, RP_F_TCP_TSVAL) && !ign(c, RP_F_TCP_TSECR) &&
		   !ign(c, RP_F_TCP_OPTIONS) && !ign(c, RP_F_PAYLOAD) && c->mismatches == before;
	cmp_csum(c, "tcp.checksum", g->l4 + 16, rp_l4_csum_ok(c->graw), rp_l4_csum_want(c->graw), rp_l4_csum_ok(e),
		 rp_l4_csum_want(e), by_value);
}

static void cmp_ipv4(struct cmp *c, bool rel)
{
	const struct rp_pkt *e = c->e, *g = c->g;
	const uint8_t *ei = e->p + e->l3, *gi = g->p + g->l3;
	uint16_t efo = rp_get16(ei + 6), gfo = rp_get16(gi + 6);
	unsigned before = c->mismatches;
	bool by_value;

	cmp_uint(c, "ip.ihl", ei[0] & 15, gi[0] & 15);
	if (ei[1] != gi[1])
		diff(c, "ip.tos: expected 0x%02x, got 0x%02x", ei[1], gi[1]);
	if (!ign(c, RP_F_PAYLOAD) && !ign(c, RP_F_TCP_OPTIONS))
		cmp_uint(c, "ip.len", rp_get16(ei + 2), rp_get16(gi + 2));
	if (!ign(c, RP_F_IP_ID))
		cmp_hex(c, "ip.id", rp_get16(ei + 4), rp_get16(gi + 4));
	if (!ign(c, RP_F_IP_FLAGS) && (efo & 0xe000) != (gfo & 0xe000)) {
		char ef[16], gf[16];
		flags_str(efo, ef);
		flags_str(gfo, gf);
		diff(c, "ip.flags: expected %s, got %s", ef, gf);
	}
	cmp_uint(c, "ip.frag", (efo & 0x1fff) * 8u, (gfo & 0x1fff) * 8u);
	if (!ign(c, RP_F_IP_TTL))
		cmp_uint(c, "ip.ttl", ei[8], gi[8]);
	cmp_addr(c, "ip.src", ei + 12, gi + 12);
	cmp_addr(c, "ip.dst", ei + 16, gi + 16);
	if (e->ihl > 20 || g->ihl > 20)
		cmp_bytes(c, "ip.options", ei + 20, e->ihl - 20, gi + 20, g->ihl - 20);
	by_value = !ign(c, RP_F_IP_CSUM) && !ign(c, RP_F_IP_ID) && !ign(c, RP_F_IP_TTL) && !ign(c, RP_F_IP_FLAGS) &&
		   !ign(c, RP_F_PAYLOAD) && !ign(c, RP_F_TCP_OPTIONS) && ei[9] == gi[9] && c->mismatches == before;
	cmp_csum(c, "ip.checksum", g->l3 + 10, rp_ip_csum_ok(c->graw), rp_ip_csum_want(c->graw), rp_ip_csum_ok(e),
		 rp_ip_csum_want(e), by_value);
	if (ei[9] != gi[9]) {
		cmp_uint(c, "ip.proto", ei[9], gi[9]);
		return; /* what follows would not be comparable */
	}
	if (e->frag != g->frag) {
		cmp_payload(c); /* ip.flags or ip.frag said it already */
		return;
	}
	if ((e->layers & ~(RP_ETH | RP_IP)) != (g->layers & ~(RP_ETH | RP_IP))) {
		diff(c, "ip.proto %u: expected %s, got %s", e->proto, e->err ? e->err : "a well-formed header",
		     g->err ? g->err : "a well-formed header");
		cmp_payload(c);
		return;
	}
	if (e->layers & RP_TCP)
		cmp_tcp(c, rel);
	else if (e->layers & RP_UDP)
		cmp_udp(c);
	else if (e->layers & RP_ICMP)
		cmp_icmp(c);
	else
		cmp_payload(c);
}

/* One expected frame against one sent frame. */
static void cmp_frame(struct cmp *c, const struct rp_frame *ef, const struct rp_frame *gf)
{
	struct rp_pkt e, g, graw;

	rp_parse(&e, ef->data, ef->len);
	rp_parse(&g, gf->norm ? gf->norm : gf->data, gf->len);
	rp_parse(&graw, gf->data, gf->len);
	c->e = &e;
	c->g = &g;
	c->graw = &graw;
	c->t_ns = gf->t_ns;
	if (!ign(c, RP_F_TIME)) {
		int64_t d = gf->t_ns - ef->t_ns;
		if ((double)(d < 0 ? -d : d) > c->cfg->tolerance_ms * 1e6)
			diff(c, "time: expected %.6fs, got %.6fs", (double)ef->t_ns / 1e9, (double)gf->t_ns / 1e9);
	}
	if (!(e.layers & RP_ETH) || !(g.layers & RP_ETH)) {
		cmp_bytes(c, "frame", e.p, e.len, g.p, g.len);
		return;
	}
	if (!ign(c, RP_F_ETH_DST))
		cmp_mac(c, "eth.dst", e.p, g.p);
	if (!ign(c, RP_F_ETH_SRC))
		cmp_mac(c, "eth.src", e.p + 6, g.p + 6);
	if (e.ethertype != g.ethertype) {
		cmp_hex(c, "eth.type", e.ethertype, g.ethertype);
		return;
	}
	if ((e.layers & (RP_ARP | RP_IP)) != (g.layers & (RP_ARP | RP_IP))) {
		diff(c, "%s: expected %s, got %s", e.ethertype == 0x0806 ? "arp" : "ip",
		     e.err ? e.err : "a well-formed header", g.err ? g.err : "a well-formed header");
		cmp_payload(c);
	} else if (e.layers & RP_ARP) {
		cmp_arp(c);
	} else if (e.layers & RP_IP) {
		cmp_ipv4(c, gf->rel);
	} else {
		cmp_payload(c);
	}
}

/* RFC 5227 §3: the announcement the stack sends when its address is configured. */
static bool is_announcement(const struct rp_frame *f, uint32_t addr)
{
	struct rp_pkt k;

	rp_parse(&k, f->data, f->len);
	return (k.layers & RP_ARP) && rp_get16(f->data + 20) == 1 && rp_get32(f->data + 28) == addr &&
	       rp_get32(f->data + 38) == addr;
}

static void describe(const struct rp_frame *f, char *buf, size_t n)
{
	struct rp_pkt k;

	rp_parse(&k, f->norm ? f->norm : f->data, f->len);
	rp_summary(&k, buf, n);
}

unsigned rp_compare(const struct rp_cmp_config *cfg, const struct rp_frames *got, const struct rp_frames *exp)
{
	struct cmp c = { .cfg = cfg };
	size_t gi = 0, ei = 0;
	char s[512];

	/* The stack announces its address before the first input frame; an expected capture that does
	 * not start with the announcement is not asked to hold it. */
	if (got->n && is_announcement(&got->v[0], cfg->stack_addr) && got->v[0].t_ns <= 0 &&
	    !(exp->n && is_announcement(&exp->v[0], cfg->stack_addr)))
		gi = 1;
	while (gi < got->n || ei < exp->n) {
		c.frame++;
		if (gi < got->n && ei < exp->n) {
			cmp_frame(&c, &exp->v[ei++], &got->v[gi++]);
		} else if (ei < exp->n) {
			describe(&exp->v[ei++], s, sizeof(s));
			if (c.mismatches++ < cfg->max_lines)
				fprintf(stderr, "frame %u: missing (expected %s)\n", c.frame, s);
		} else {
			describe(&got->v[gi], s, sizeof(s));
			if (c.mismatches++ < cfg->max_lines)
				fprintf(stderr, "frame %u (t=%.3fs): extra (got %s)\n", c.frame,
					(double)got->v[gi].t_ns / 1e9, s);
			gi++;
		}
	}
	return c.mismatches;
}
