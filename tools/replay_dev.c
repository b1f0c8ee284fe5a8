/*
 * replay_dev.c - the stack's device in a replay.
 *
 * In: the input capture's frames are received when the stack's clock reaches their time (the first
 * frame's time is t0_ns; a frame stamped earlier than the one before is due at once). Every frame is
 * handed to the stack as captured, runts included, so the Ethernet layer sees and counts what a TAP
 * device would give it; only frames longer than the MTU allows are dropped here (rx_errors), as a
 * device would.
 *
 * Out (stack -> pcap): every frame the stack sends is recorded for the comparison, with its time from
 * the first input frame, then written to OUT by the pcap device. A SYN or SYN-ACK the stack sends
 * teaches the device that connection's (4-tuple's) initial sequence number and first TSval; the
 * recorded frame gets a second copy with the stack's sequence numbers and TSvals made relative to
 * them (SYN seq 0, first TSval 0), which is what the expected capture holds.
 *
 * In (pcap -> stack), with relative numbers on: in each TCP segment the peer sends on a connection
 * whose ISN is known, the numbers that live in the stack's sequence space are made absolute again:
 * the ACK number, the SACK block edges (both ISN-relative), and the TS echo (relative to the first
 * TSval). So is the sequence number of a TCP header quoted in an ICMP error about a segment the stack
 * sent. The checksum is updated by RFC 1624's incremental rule, so a segment whose checksum was
 * wrong in the capture stays exactly as wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define RP_MAX_FLOWS 16384

struct rp_flow {
	uint32_t laddr, raddr; /* the stack's address and the peer's (host order) */
	uint16_t lport, rport;
	uint32_t isn; /* the stack's initial sequence number */
	uint32_t ts0; /* the stack's first TSval */
	bool has_ts;
};

struct rp_dev {
	struct netdev *lower;
	const struct rp_frames *in;
	size_t next_in; /* the next input frame to receive */
	uint64_t t0_ns;
	bool relative, verbose, muted, flows_full;
	struct rp_frames *out;
	struct rp_flow *flows;
	size_t n_flows, cap_flows;
};

static struct rp_flow *flow_find(struct rp_dev *rd, uint32_t laddr, uint16_t lport, uint32_t raddr,
				 uint16_t rport)
{
	/* newest first: the connection a segment belongs to is usually a recent one */
	for (size_t i = rd->n_flows; i-- > 0;) {
		struct rp_flow *f = &rd->flows[i];
		if (f->laddr == laddr && f->raddr == raddr && f->lport == lport && f->rport == rport)
			return f;
	}
	return NULL;
}

static struct rp_flow *flow_add(struct rp_dev *rd)
{
	if (rd->n_flows == rd->cap_flows) {
		size_t cap = rd->cap_flows ? rd->cap_flows * 2 : 16;
		struct rp_flow *v;
		if (cap > RP_MAX_FLOWS || !(v = realloc(rd->flows, cap * sizeof(*v)))) {
			if (!rd->flows_full)
				fprintf(stderr, "ustack-replay: more than %zu TCP connections: later ones are "
						"not made relative\n", rd->cap_flows);
			rd->flows_full = true;
			return NULL;
		}
		rd->flows = v;
		rd->cap_flows = cap;
	}
	return &rd->flows[rd->n_flows++];
}

/*
 * Write v over the 32-bit field at base + off and keep the checksum at csum as it was relative to
 * the data (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')). Words are aligned at base; the caller makes
 * sure the field, rounded out to whole words, lies within the checksummed bytes.
 */
static void put32_csum(uint8_t *base, uint32_t off, uint32_t v, uint8_t *csum)
{
	uint32_t s = off & ~1u, e = (off + 5) & ~1u, m, m2, sum;

	m = rp_csum_fold(rp_csum_add(0, base + s, e - s));
	rp_put32(base + off, v);
	m2 = rp_csum_fold(rp_csum_add(0, base + s, e - s));
	sum = (uint16_t)~rp_get16(csum) + (uint16_t)~m + m2;
	rp_put16(csum, (uint16_t)~rp_csum_fold(sum));
}

/* A segment from the peer: its numbers in the stack's sequence space become absolute. */
static void rewrite_tcp_in(struct rp_dev *rd, uint8_t *p, const struct rp_pkt *k)
{
	uint8_t *ip = p + k->l3, *t = p + k->l4;
	struct rp_flow *f;

	if (!(t[13] & RP_TCPF_ACK))
		return; /* no acknowledgment field to speak of, and TSecr is not valid (RFC 7323 §3.2) */
	f = flow_find(rd, rp_get32(ip + 16), rp_get16(t + 2), rp_get32(ip + 12), rp_get16(t));
	if (!f)
		return;
	put32_csum(t, 8, rp_get32(t + 8) + f->isn, t + 16);
	for (int i = 0; i < k->nopt; i++) {
		const struct rp_tcpopt *o = &k->opt[i];
		uint32_t off = o->off - k->l4;

		if (o->kind == RP_TCPOPT_TS && i == k->ts && f->has_ts)
			put32_csum(t, off + 6, rp_get32(p + o->off + 6) + f->ts0, t + 16);
		if (o->kind == RP_TCPOPT_SACK)
			for (uint32_t j = 2; j + 4 <= o->len; j += 4)
				put32_csum(t, off + j, rp_get32(p + o->off + j) + f->isn, t + 16);
	}
}

/* An ICMP error from the peer quoting a TCP segment the stack sent: its sequence number too. */
static void rewrite_icmp_in(struct rp_dev *rd, uint8_t *p, const struct rp_pkt *k)
{
	uint8_t *icmp = p + k->l4, *q = p + k->pay;
	uint32_t qihl;
	struct rp_flow *f;

	if (icmp[0] != 3 && icmp[0] != 4 && icmp[0] != 5 && icmp[0] != 11 && icmp[0] != 12)
		return;
	if (k->pay_len < 20 || q[0] >> 4 != 4)
		return;
	qihl = (uint32_t)(q[0] & 15) * 4;
	if (qihl < 20 || q[9] != IPPROTO_TCP || k->pay_len < qihl + 8 || (rp_get16(q + 6) & 0x1fff))
		return;
	f = flow_find(rd, rp_get32(q + 12), rp_get16(q + qihl), rp_get32(q + 16), rp_get16(q + qihl + 2));
	if (f)
		put32_csum(icmp, 8 + qihl + 4, rp_get32(q + qihl + 4) + f->isn, icmp + 2);
}

static void print_frame(const char *dir, uint64_t n, int64_t t_ns, const uint8_t *p, uint32_t len)
{
	struct rp_pkt k;
	char s[512];

	rp_parse(&k, p, len);
	rp_summary(&k, s, sizeof(s));
	fprintf(stderr, "%s #%-4llu t=%.6fs  %s\n", dir, (unsigned long long)n, (double)t_ns / 1e9, s);
}

static uint64_t in_due(const struct rp_dev *rd, size_t i)
{
	int64_t t = rd->in->v[i].t_ns;

	return rd->t0_ns + (t > 0 ? (uint64_t)t : 0);
}

/* Receive the input frames that are due, up to budget. */
static int rp_dev_poll(struct netdev *dev, uint32_t budget)
{
	struct rp_dev *rd = dev->priv;
	uint64_t now = us_clock_now(dev->clock);
	/* an Ethernet frame for this MTU, with room for one VLAN tag */
	uint32_t max_frame = dev->mtu + ETH_HLEN + ETH_VLAN_HLEN;
	int done = 0;

	while ((uint32_t)done < budget && rd->next_in < rd->in->n && in_due(rd, rd->next_in) <= now) {
		const struct rp_frame *fr = &rd->in->v[rd->next_in++];
		struct sk_buff *skb;
		struct rp_pkt k;

		if (rd->verbose)
			print_frame("in ", fr->index, fr->t_ns, fr->data, fr->len);
		if (fr->len > max_frame) {
			dev->stats.rx_errors++;
			continue;
		}
		skb = skb_alloc(dev->pool, SKB_MAX_HEADER + fr->len);
		if (!skb) {
			dev->stats.rx_dropped++;
			continue;
		}
		skb_reserve(skb, SKB_MAX_HEADER);
		skb_put_data(skb, fr->data, fr->len);
		skb->tstamp_ns = in_due(rd, (size_t)(fr - rd->in->v));
		if (rd->relative) {
			rp_parse(&k, skb->data, skb->len);
			if (k.layers & RP_TCP)
				rewrite_tcp_in(rd, skb->data, &k);
			else if (k.layers & RP_ICMP)
				rewrite_icmp_in(rd, skb->data, &k);
		}
		if (netdev_rx_deliver(dev, skb) == 0)
			done++;
	}
	return done;
}

/* A frame the stack sends: learn from a SYN, and make the recorded copy's numbers relative. */
static void learn_and_normalize(struct rp_dev *rd, struct rp_frame *fr)
{
	struct rp_pkt k;
	const uint8_t *ip, *t;
	struct rp_flow *f;
	uint8_t *n;

	rp_parse(&k, fr->data, fr->len);
	if (!(k.layers & RP_TCP))
		return;
	ip = fr->data + k.l3;
	t = fr->data + k.l4;
	f = flow_find(rd, rp_get32(ip + 12), rp_get16(t), rp_get32(ip + 16), rp_get16(t + 2));
	if ((t[13] & RP_TCPF_SYN) && (!f || f->isn != rp_get32(t + 4))) {
		/* the connection's first SYN or SYN-ACK, or a new incarnation of the 4-tuple */
		if (!f && !(f = flow_add(rd)))
			return;
		*f = (struct rp_flow){ .laddr = rp_get32(ip + 12), .raddr = rp_get32(ip + 16),
				       .lport = rp_get16(t), .rport = rp_get16(t + 2), .isn = rp_get32(t + 4) };
		if (k.ts >= 0) {
			f->has_ts = true;
			f->ts0 = rp_get32(fr->data + k.opt[k.ts].off + 2);
		}
	}
	if (!f)
		return;
	n = malloc(fr->len);
	if (!n)
		return; /* compared with absolute numbers then; the diff will show it */
	memcpy(n, fr->data, fr->len);
	rp_put32(n + k.l4 + 4, rp_get32(t + 4) - f->isn);
	if (f->has_ts && k.ts >= 0) {
		uint32_t o = k.opt[k.ts].off + 2;
		rp_put32(n + o, rp_get32(fr->data + o) - f->ts0);
	}
	fr->norm = n;
	fr->rel = true;
}

static void rp_dev_xmit(struct netdev *dev, struct sk_buff **skbs, uint32_t n)
{
	struct rp_dev *rd = dev->priv;
	uint64_t now = us_clock_now(dev->clock);

	for (uint32_t i = 0; i < n; i++) {
		struct sk_buff *skb = skbs[i];
		struct rp_frame *fr;

		if (rd->muted) {
			skb_free(skb);
			continue;
		}
		if (rp_frames_push(rd->out, skb->data, skb->len, (int64_t)(now - rd->t0_ns)) != 0) {
			fprintf(stderr, "ustack-replay: out of memory recording a frame\n");
			skb_free(skb);
			dev->stats.tx_errors++;
			continue;
		}
		fr = &rd->out->v[rd->out->n - 1];
		if (rd->relative)
			learn_and_normalize(rd, fr);
		if (rd->verbose)
			print_frame("out", fr->index, fr->t_ns, fr->norm ? fr->norm : fr->data, fr->len);
		dev->stats.tx_packets++;
		dev->stats.tx_bytes += skb->len;
		netdev_xmit(rd->lower, skb);
	}
	netdev_flush(rd->lower);
}

static uint64_t rp_dev_next_deadline(const struct netdev *dev)
{
	const struct rp_dev *rd = dev->priv;

	return rd->next_in < rd->in->n ? in_due(rd, rd->next_in) : US_TIME_NEVER;
}

static void rp_dev_close(struct netdev *dev)
{
	struct rp_dev *rd = dev->priv;

	netdev_close(rd->lower);
	free(rd->flows);
}

static const struct netdev_ops rp_dev_ops = {
	.kind = "replay",
	.poll = rp_dev_poll,
	.xmit = rp_dev_xmit,
	.next_deadline = rp_dev_next_deadline,
	.close = rp_dev_close,
};

struct netdev *rp_dev_open(const struct rp_dev_config *cfg, const struct netdev_config *base)
{
	struct netdev *dev = netdev_alloc(&rp_dev_ops, base, sizeof(struct rp_dev));
	struct rp_dev *rd;

	if (!dev)
		return NULL;
	rd = dev->priv;
	rd->lower = cfg->lower;
	rd->in = cfg->in;
	rd->t0_ns = cfg->t0_ns;
	rd->relative = cfg->relative;
	rd->verbose = cfg->verbose;
	rd->out = cfg->out;
	memcpy(dev->mac, cfg->lower->mac, ETH_ALEN);
	dev->mtu = cfg->lower->mtu;
	dev->lower = cfg->lower;
	return dev;
}

void rp_dev_mute(struct netdev *dev)
{
	((struct rp_dev *)dev->priv)->muted = true;
}

/* ---- recorded frames ---- */

int rp_frames_push(struct rp_frames *fs, const uint8_t *data, uint32_t len, int64_t t_ns)
{
	struct rp_frame *fr;

	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? fs->cap * 2 : 64;
		struct rp_frame *v = realloc(fs->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		fs->v = v;
		fs->cap = cap;
	}
	fr = &fs->v[fs->n];
	*fr = (struct rp_frame){ .len = len, .t_ns = t_ns, .index = (uint32_t)fs->n + 1 };
	fr->data = malloc(len ? len : 1);
	if (!fr->data)
		return -ENOMEM;
	memcpy(fr->data, data, len);
	fs->n++;
	return 0;
}

void rp_frames_free(struct rp_frames *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->v[i].data);
		free(fs->v[i].norm);
	}
	free(fs->v);
	*fs = (struct rp_frames){ 0 };
}
