/*
 * capture.c - a wrapper that tees both directions of any device into one pcap file, stamped with
 * the stack's clock, as tcpdump on the interface would show them.
 */
#include "ustack/netdev.h"

#include <errno.h>

#include "netdev_internal.h"
#include "pcap_file.h"

struct capture_dev {
	struct pcap_file *pf;
};

static int capture_poll(struct netdev *dev, uint32_t budget)
{
	struct capture_dev *c = dev->priv;
	struct sk_buff *batch[NETDEV_MAX_BATCH];
	uint32_t n, done = 0;
	int r = netdev_poll(dev->lower, budget);

	if (r < 0)
		return r;
	while ((n = netdev_rx_burst(dev->lower, batch, NETDEV_MAX_BATCH)) > 0) {
		for (uint32_t i = 0; i < n; i++) {
			pcap_file_write(c->pf, batch[i], batch[i]->tstamp_ns);
			if (netdev_rx_deliver(dev, batch[i]) == 0)
				done++;
		}
	}
	return (int)done;
}

static void capture_xmit(struct netdev *dev, struct sk_buff **skbs, uint32_t n)
{
	struct capture_dev *c = dev->priv;
	uint64_t now = us_clock_now(dev->clock);

	for (uint32_t i = 0; i < n; i++) {
		dev->stats.tx_packets++;
		dev->stats.tx_bytes += skbs[i]->len;
		pcap_file_write(c->pf, skbs[i], now);
		netdev_xmit(dev->lower, skbs[i]);
	}
	netdev_flush(dev->lower);
}

static int capture_fd(const struct netdev *dev)
{
	return netdev_fd(dev->lower);
}

static uint64_t capture_next_deadline(const struct netdev *dev)
{
	return netdev_next_deadline(dev->lower);
}

static void capture_close(struct netdev *dev)
{
	struct capture_dev *c = dev->priv;

	pcap_file_close(c->pf);
	netdev_close(dev->lower);
}

static const struct netdev_ops capture_ops = {
	.kind = "capture",
	.poll = capture_poll,
	.xmit = capture_xmit,
	.fd = capture_fd,
	.next_deadline = capture_next_deadline,
	.close = capture_close,
};

/* A wrapper device taking over lower's identity: name, MAC, MTU, features, pool and clock. */
struct netdev *netdev_wrap(const struct netdev_ops *ops, struct netdev *lower, size_t priv_size)
{
	struct netdev_config cfg = {
		.pool = lower->pool,
		.clock = lower->clock,
		.name = lower->name,
		.mtu = lower->mtu,
		.rx_ring_size = ring_capacity(lower->rx),
		.tx_ring_size = ring_capacity(lower->tx),
	};
	struct netdev *dev;

	for (int i = 0; i < ETH_ALEN; i++)
		cfg.mac[i] = lower->mac[i];
	dev = netdev_alloc(ops, &cfg, priv_size);
	if (!dev)
		return NULL;
	dev->features = lower->features;
	dev->lower = lower;
	return dev;
}

struct netdev *netdev_capture_wrap(struct netdev *lower, const char *path)
{
	struct netdev *dev;
	struct capture_dev *c;

	if (!lower || !path) {
		errno = EINVAL;
		return NULL;
	}
	dev = netdev_wrap(&capture_ops, lower, sizeof(struct capture_dev));
	if (!dev)
		return NULL;
	c = dev->priv;
	c->pf = pcap_file_create(path);
	if (!c->pf) {
		int e = errno;
		dev->lower = NULL; /* the caller keeps lower on failure */
		netdev_close(dev);
		errno = e;
		return NULL;
	}
	return dev;
}
