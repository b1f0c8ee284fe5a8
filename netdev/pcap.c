/*
 * pcap.c - the pcap device: frames read from a pcap file are received, frames sent are written to
 * another. With NETDEV_PCAP_TIMED a frame is received only once the stack's clock has reached its
 * time (the clock at open plus the frame's offset from the first frame), so a replay on a virtual
 * clock reproduces the capture's timing exactly.
 *
 * The device keeps the next input frame read ahead, so it can say when that frame is due
 * (netdev_pcap_next_time, and next_deadline for the stack loop).
 */
#include "ustack/netdev.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pcap_file.h"

struct pcap_dev {
	pcap_t *in;
	struct pcap_file *out;
	enum netdev_pcap_timing timing;
	uint64_t base_ns;  /* clock time the first frame maps to */
	uint64_t first_ns; /* the file's first timestamp */
	bool have_first;
	bool eof;
	/* the read-ahead frame, valid while !eof */
	struct pcap_pkthdr *hdr;
	const u_char *bytes;
};

static uint64_t pcap_dev_ts(const struct pcap_pkthdr *h)
{
	/* the file is opened with nanosecond precision, so tv_usec holds nanoseconds */
	return (uint64_t)h->ts.tv_sec * US_NSEC_PER_SEC + (uint64_t)h->ts.tv_usec;
}

static void pcap_dev_read_ahead(struct pcap_dev *p)
{
	if (!p->in || p->eof)
		return;
	if (pcap_next_ex(p->in, &p->hdr, &p->bytes) != 1) {
		p->eof = true;
		return;
	}
	if (!p->have_first) {
		p->first_ns = pcap_dev_ts(p->hdr);
		p->have_first = true;
	}
}

static uint64_t pcap_dev_due(const struct pcap_dev *p)
{
	uint64_t ts = pcap_dev_ts(p->hdr);

	/* a capture's timestamps can go backwards; such a frame is due at once */
	return ts > p->first_ns ? p->base_ns + (ts - p->first_ns) : p->base_ns;
}

static int pcap_dev_poll(struct netdev *dev, uint32_t budget)
{
	struct pcap_dev *p = dev->priv;
	uint64_t now = us_clock_now(dev->clock);
	uint32_t done = 0;
	/* an Ethernet frame for this MTU, with room for one VLAN tag */
	uint32_t max_frame = dev->mtu + ETH_HLEN + ETH_VLAN_HLEN;

	while (done < budget && !p->eof) {
		struct sk_buff *skb;
		uint64_t due = pcap_dev_due(p);
		uint32_t caplen = p->hdr->caplen;

		if (p->timing == NETDEV_PCAP_TIMED && due > now)
			break;
		if (caplen < ETH_HLEN || caplen > max_frame || caplen != p->hdr->len) {
			/* runt, oversized, or truncated by the capture's snap length */
			dev->stats.rx_errors++;
		} else if (!(skb = skb_alloc(dev->pool, SKB_MAX_HEADER + caplen))) {
			dev->stats.rx_dropped++;
		} else {
			skb_reserve(skb, SKB_MAX_HEADER);
			skb_put_data(skb, p->bytes, caplen);
			skb->tstamp_ns = p->timing == NETDEV_PCAP_TIMED ? due : now;
			if (netdev_rx_deliver(dev, skb) == 0)
				done++;
		}
		pcap_dev_read_ahead(p);
	}
	return (int)done;
}

static void pcap_dev_xmit(struct netdev *dev, struct sk_buff **skbs, uint32_t n)
{
	struct pcap_dev *p = dev->priv;
	uint64_t now = us_clock_now(dev->clock);

	for (uint32_t i = 0; i < n; i++) {
		struct sk_buff *skb = skbs[i];

		if (!p->out) {
			dev->stats.tx_dropped++;
		} else if (pcap_file_write(p->out, skb, now) == 0) {
			dev->stats.tx_packets++;
			dev->stats.tx_bytes += skb->len;
		} else {
			dev->stats.tx_errors++;
		}
		skb_free(skb);
	}
}

static uint64_t pcap_dev_next_deadline(const struct netdev *dev)
{
	const struct pcap_dev *p = dev->priv;

	if (p->eof)
		return US_TIME_NEVER;
	return p->timing == NETDEV_PCAP_TIMED ? pcap_dev_due(p) : 0;
}

static void pcap_dev_close(struct netdev *dev)
{
	struct pcap_dev *p = dev->priv;

	if (p->in)
		pcap_close(p->in);
	pcap_file_close(p->out);
}

static const struct netdev_ops pcap_dev_ops = {
	.kind = "pcap",
	.poll = pcap_dev_poll,
	.xmit = pcap_dev_xmit,
	.next_deadline = pcap_dev_next_deadline,
	.close = pcap_dev_close,
};

struct netdev *netdev_pcap_open(const struct netdev_pcap_config *cfg)
{
	char err[PCAP_ERRBUF_SIZE];
	struct netdev *dev;
	struct pcap_dev *p;

	if (!cfg) {
		errno = EINVAL;
		return NULL;
	}
	dev = netdev_alloc(&pcap_dev_ops, &cfg->base, sizeof(struct pcap_dev));
	if (!dev)
		return NULL;
	p = dev->priv;
	p->timing = cfg->timing;
	p->base_ns = us_clock_now(dev->clock);
	p->eof = true;
	if (cfg->in_path) {
		p->in = pcap_open_offline_with_tstamp_precision(cfg->in_path, PCAP_TSTAMP_PRECISION_NANO,
								 err);
		if (!p->in) {
			/* a file that is not there, or one that is not a pcap */
			int e = access(cfg->in_path, R_OK) != 0 ? errno : EINVAL;
			netdev_close(dev);
			errno = e;
			return NULL;
		}
		if (pcap_datalink(p->in) != DLT_EN10MB) {
			netdev_close(dev);
			errno = EPROTONOSUPPORT;
			return NULL;
		}
		p->eof = false;
		pcap_dev_read_ahead(p);
	}
	if (cfg->out_path) {
		p->out = pcap_file_create(cfg->out_path);
		if (!p->out) {
			int e = errno;
			netdev_close(dev);
			errno = e;
			return NULL;
		}
	}
	return dev;
}

static bool netdev_is_pcap(const struct netdev *dev)
{
	return dev && dev->ops == &pcap_dev_ops;
}

int netdev_pcap_next_time(const struct netdev *dev, uint64_t *ns)
{
	const struct pcap_dev *p;

	if (!netdev_is_pcap(dev))
		return -EINVAL;
	p = dev->priv;
	if (p->eof)
		return -ENOENT;
	*ns = pcap_dev_due(p);
	return 0;
}

bool netdev_pcap_eof(const struct netdev *dev)
{
	return !netdev_is_pcap(dev) || ((const struct pcap_dev *)dev->priv)->eof;
}
