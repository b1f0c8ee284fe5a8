/*
 * pair.c - two devices wired together in memory. A frame sent on one end is copied into a buffer
 * from the other end's pool (as a real wire serialises it) and waits on that direction's wire queue
 * until the other end polls. Each direction holds at most wire_capacity frames; a full wire drops
 * the frame (tx_dropped). The two ends may belong to two stacks in one process, each with its own
 * pool, as long as one thread drives both.
 */
#include "ustack/netdev.h"

#include <errno.h>
#include <stdlib.h>

struct pair_wire {
	struct skb_queue q[2]; /* q[i]: frames on their way to end i */
	struct netdev *end[2]; /* NULL once that end is closed */
	uint32_t capacity;
	int refs;
};

struct pair_end {
	struct pair_wire *wire;
	int side; /* 0 or 1 */
};

static int pair_poll(struct netdev *dev, uint32_t budget)
{
	struct pair_end *pe = dev->priv;
	struct skb_queue *q = &pe->wire->q[pe->side];
	uint32_t done = 0;
	struct sk_buff *skb;

	while (done < budget && (skb = skb_dequeue(q)) != NULL) {
		if (netdev_rx_deliver(dev, skb) == 0)
			done++;
	}
	return (int)done;
}

static void pair_xmit(struct netdev *dev, struct sk_buff **skbs, uint32_t n)
{
	struct pair_end *pe = dev->priv;
	struct pair_wire *w = pe->wire;
	int other = 1 - pe->side;
	struct netdev *peer = w->end[other];

	for (uint32_t i = 0; i < n; i++) {
		struct sk_buff *skb = skbs[i], *copy = NULL;

		if (skb->len > dev->mtu + ETH_HLEN + ETH_VLAN_HLEN) {
			dev->stats.tx_errors++;
		} else if (!peer || w->q[other].len >= w->capacity) {
			dev->stats.tx_dropped++;
		} else if (!(copy = skb_alloc(peer->pool, SKB_MAX_HEADER + skb->len))) {
			/* the receiver has no buffer: its loss, as a NIC's missed frame */
			peer->stats.rx_dropped++;
			dev->stats.tx_packets++;
			dev->stats.tx_bytes += skb->len;
		} else {
			skb_reserve(copy, SKB_MAX_HEADER);
			skb_put_data(copy, skb->data, skb->len);
			skb_queue_tail(&w->q[other], copy);
			dev->stats.tx_packets++;
			dev->stats.tx_bytes += skb->len;
		}
		skb_free(skb);
	}
}

static uint64_t pair_next_deadline(const struct netdev *dev)
{
	const struct pair_end *pe = dev->priv;

	/* frames already on the wire can be received right away */
	return skb_queue_empty(&pe->wire->q[pe->side]) ? US_TIME_NEVER : 0;
}

static void pair_close(struct netdev *dev)
{
	struct pair_end *pe = dev->priv;
	struct pair_wire *w = pe->wire;

	w->end[pe->side] = NULL;
	skb_queue_purge(&w->q[pe->side]); /* frames for this end die with it */
	if (--w->refs == 0)
		free(w);
}

static const struct netdev_ops pair_ops = {
	.kind = "pair",
	.poll = pair_poll,
	.xmit = pair_xmit,
	.next_deadline = pair_next_deadline,
	.close = pair_close,
};

int netdev_pair_create(const struct netdev_pair_config *cfg, struct netdev **a, struct netdev **b)
{
	struct pair_wire *w;
	struct netdev *dev[2];
	const struct netdev_config *side_cfg[2];

	if (!cfg || !a || !b)
		return -EINVAL;
	side_cfg[0] = &cfg->a;
	side_cfg[1] = &cfg->b;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->capacity = cfg->wire_capacity ? cfg->wire_capacity : 4096;
	skb_queue_init(&w->q[0]);
	skb_queue_init(&w->q[1]);
	for (int i = 0; i < 2; i++) {
		struct pair_end *pe;

		dev[i] = netdev_alloc(&pair_ops, side_cfg[i], sizeof(struct pair_end));
		if (!dev[i]) {
			int err = errno;
			if (i == 1)
				netdev_close(dev[0]); /* drops the wire's last reference */
			else
				free(w);
			return -err;
		}
		pe = dev[i]->priv;
		pe->wire = w;
		pe->side = i;
		w->end[i] = dev[i];
		w->refs++;
	}
	*a = dev[0];
	*b = dev[1];
	return 0;
}
