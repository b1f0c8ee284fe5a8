/*
 * netdev.c - what every device shares: creation with rings, the RX hand-over to the stack, the TX
 * ring and its batched flush to the backend, and closing.
 */
#include "ustack/netdev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define NETDEV_RING_DEFAULT 256

struct netdev *netdev_alloc(const struct netdev_ops *ops, const struct netdev_config *cfg,
			    size_t priv_size)
{
	static const uint8_t zero_mac[ETH_ALEN];
	struct netdev *dev;

	if (!ops || !cfg || !cfg->pool || !cfg->clock) {
		errno = EINVAL;
		return NULL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		goto nomem;
	if (priv_size) {
		dev->priv = calloc(1, priv_size);
		if (!dev->priv)
			goto nomem;
	}
	dev->rx = ring_create(cfg->rx_ring_size ? cfg->rx_ring_size : NETDEV_RING_DEFAULT);
	dev->tx = ring_create(cfg->tx_ring_size ? cfg->tx_ring_size : NETDEV_RING_DEFAULT);
	if (!dev->rx || !dev->tx) {
		int err = errno;
		ring_destroy(dev->rx);
		ring_destroy(dev->tx);
		free(dev->priv);
		free(dev);
		errno = err;
		return NULL;
	}
	dev->ops = ops;
	dev->pool = cfg->pool;
	dev->clock = cfg->clock;
	dev->mtu = cfg->mtu ? cfg->mtu : ETH_DATA_LEN;
	snprintf(dev->name, sizeof(dev->name), "%s", cfg->name ? cfg->name : ops->kind);
	if (memcmp(cfg->mac, zero_mac, ETH_ALEN) != 0)
		memcpy(dev->mac, cfg->mac, ETH_ALEN);
	else
		netdev_random_mac(dev->mac);
	return dev;
nomem:
	if (dev)
		free(dev->priv);
	free(dev);
	errno = ENOMEM;
	return NULL;
}

void netdev_random_mac(uint8_t mac[ETH_ALEN])
{
	if (getrandom(mac, ETH_ALEN, 0) != ETH_ALEN) {
		uint64_t x = (uint64_t)(uintptr_t)mac ^ 0x9e3779b97f4a7c15ull;
		memcpy(mac, &x, ETH_ALEN);
	}
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
}

int netdev_parse_mac(const char *s, uint8_t mac[ETH_ALEN])
{
	unsigned v[ETH_ALEN];
	char extra;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			 &extra) != ETH_ALEN)
		return -EINVAL;
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int netdev_rx_deliver(struct netdev *dev, struct sk_buff *skb)
{
	skb->dev = dev;
	if (!skb->tstamp_ns)
		skb->tstamp_ns = us_clock_now(dev->clock);
	if (__builtin_expect(dev->timing != NULL, 0))
		dev->timing->rx(dev->timing, skb); /* the device-read stamp */
	if (!ring_enqueue(dev->rx, skb)) {
		dev->stats.rx_ring_full++;
		skb_free(skb);
		return -ENOBUFS;
	}
	dev->stats.rx_packets++;
	dev->stats.rx_bytes += skb->len;
	return 0;
}

int netdev_poll(struct netdev *dev, uint32_t budget)
{
	uint32_t room = ring_free_count(dev->rx);

	/* even with no budget the backend is called: wrappers release held frames from poll */
	if (budget > room)
		budget = room;
	return dev->ops->poll(dev, budget);
}

uint32_t netdev_rx_burst(struct netdev *dev, struct sk_buff **skbs, uint32_t n)
{
	return ring_dequeue_burst(dev->rx, (void **)skbs, n);
}

int netdev_xmit(struct netdev *dev, struct sk_buff *skb)
{
	if (ring_enqueue(dev->tx, skb))
		return 0;
	netdev_flush(dev);
	if (ring_enqueue(dev->tx, skb))
		return 0;
	dev->stats.tx_ring_full++;
	skb_free(skb);
	return -ENOBUFS;
}

uint32_t netdev_flush(struct netdev *dev)
{
	struct sk_buff *batch[NETDEV_MAX_BATCH];
	uint32_t total = 0, n;

	while ((n = ring_dequeue_burst(dev->tx, (void **)batch, NETDEV_MAX_BATCH)) > 0) {
		if (__builtin_expect(dev->timing != NULL, 0))
			dev->timing->xmit(dev->timing, dev, batch, n); /* xmit, then the device-write stamp */
		else
			dev->ops->xmit(dev, batch, n);
		total += n;
	}
	return total;
}

int netdev_fd(const struct netdev *dev)
{
	return dev->ops->fd ? dev->ops->fd(dev) : -1;
}

uint64_t netdev_next_deadline(const struct netdev *dev)
{
	return dev->ops->next_deadline ? dev->ops->next_deadline(dev) : US_TIME_NEVER;
}

static void netdev_drain(struct ring *r)
{
	void *obj;

	while ((obj = ring_dequeue(r)) != NULL)
		skb_free(obj);
}

void netdev_close(struct netdev *dev)
{
	if (!dev)
		return;
	netdev_drain(dev->rx);
	netdev_drain(dev->tx);
	if (dev->ops->close)
		dev->ops->close(dev);
	ring_destroy(dev->rx);
	ring_destroy(dev->tx);
	free(dev->priv);
	free(dev);
}
