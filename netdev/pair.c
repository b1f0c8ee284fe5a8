/*
 * pair.c - two devices wired together in memory. A frame sent on one end is copied onto the wire
 * (as a real wire serialises it) and waits there until the other end polls, which copies it into a
 * buffer from its own pool. Each direction holds at most wire_capacity frames; a full wire drops the
 * frame (tx_dropped). The ends may belong to two stacks in one process, driven by one thread or
 * each by its own (us_stack_start): the wire has its own lock, each end touches only its own pool,
 * and an end's fd (an eventfd, made when first asked for) becomes readable when frames arrive.
 *
 * With vnet_hdr on both ends the wire carries each frame's offload metadata as a TAP device with
 * IFF_VNET_HDR does (a virtio_net_hdr, vnet.c), and the ends advertise the same offloads: frames up
 * to 64 KB with partial checksums and TCPv4 GSO, so that the stack's offload paths can be tested.
 */
#include "netdev_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct pair_frame {
	struct pair_frame *next;
	uint32_t len;
	uint8_t vnet[NETDEV_VNET_HDR_LEN]; /* the offload metadata, when the ends carry it */
	uint8_t data[];
};

/* The largest GSO frame an end with vnet_hdr sends, as TAP's (64 KB and a VLAN tag). */

struct pair_queue {
	struct pair_frame *head, *tail;
	uint32_t len;
};

struct pair_wire {
	pthread_mutex_t lock;	 /* the queues, end[] and refs */
	struct pair_queue q[2];	 /* q[i]: frames on their way to end i */
	struct netdev *end[2];	 /* NULL once that end is closed */
	atomic_int efd[2];	 /* end i's wake-up eventfd, -1 until asked for */
	uint32_t capacity;
	int refs;
};

struct pair_end {
	struct pair_wire *wire;
	int side; /* 0 or 1 */
};

static void pair_queue_purge(struct pair_queue *q)
{
	while (q->head) {
		struct pair_frame *f = q->head;
		q->head = f->next;
		free(f);
	}
	q->tail = NULL;
	q->len = 0;
}

static int pair_poll(struct netdev *dev, uint32_t budget)
{
	struct pair_end *pe = dev->priv;
	struct pair_wire *w = pe->wire;
	struct pair_queue *q = &w->q[pe->side];
	int efd = atomic_load(&w->efd[pe->side]);
	struct pair_frame *f, *batch = NULL, *last = NULL;
	uint32_t done = 0, n = 0;

	/* drain the wake-up before looking: a frame queued after this read signals again */
	if (efd >= 0) {
		uint64_t v;
		if (read(efd, &v, sizeof(v)) < 0) {
			/* EAGAIN: no wake-up pending */
		}
	}
	pthread_mutex_lock(&w->lock);
	for (f = q->head; f && n < budget; f = f->next) {
		last = f;
		n++;
	}
	if (last) {
		batch = q->head;
		q->head = last->next;
		last->next = NULL;
		if (!q->head)
			q->tail = NULL;
		q->len -= n;
	}
	pthread_mutex_unlock(&w->lock);
	while ((f = batch) != NULL) {
		struct sk_buff *skb = skb_alloc(dev->pool, SKB_MAX_HEADER + f->len);

		batch = f->next;
		if (!skb) {
			/* the receiver has no buffer: its loss, as a NIC's missed frame */
			dev->stats.rx_dropped++;
		} else {
			skb_reserve(skb, SKB_MAX_HEADER);
			skb_put_data(skb, f->data, f->len);
			if (dev->features & NETDEV_F_VNET_HDR) {
				struct netdev_vnet_hdr h;

				netdev_vnet_hdr_parse(f->vnet, &h);
				if (netdev_vnet_hdr_apply(skb, &h) < 0) {
					dev->stats.rx_vnet_errors++;
					skb_free(skb);
					free(f);
					continue;
				}
			}
			if (netdev_rx_deliver(dev, skb) == 0)
				done++;
		}
		free(f);
	}
	return (int)done;
}

static void pair_xmit(struct netdev *dev, struct sk_buff **skbs, uint32_t n)
{
	struct pair_end *pe = dev->priv;
	struct pair_wire *w = pe->wire;
	int other = 1 - pe->side;
	bool signal = false;

	for (uint32_t i = 0; i < n; i++) {
		struct sk_buff *skb = skbs[i];
		struct pair_frame *f = NULL;

		uint32_t max = netdev_frame_max(dev, skb);
		if (skb->len > max) {
			dev->stats.tx_errors++;
			skb_free(skb);
			continue;
		}
		f = malloc(sizeof(*f) + skb->len);
		if (f) {
			struct netdev_vnet_hdr h;

			f->next = NULL;
			f->len = skb->len;
			memcpy(f->data, skb->data, skb->len);
			/* a sender without offloads has no metadata to give: a blank header, which a
			 * peer that reads headers (pair_poll, NETDEV_F_VNET_HDR) takes as none */
			if (dev->features & NETDEV_F_VNET_HDR) {
				netdev_vnet_hdr_from_skb(skb, &h);
				netdev_vnet_hdr_emit(f->vnet, &h);
			} else {
				memset(f->vnet, 0, sizeof(f->vnet));
			}
		}
		pthread_mutex_lock(&w->lock);
		if (!f || !w->end[other] || w->q[other].len >= w->capacity) {
			dev->stats.tx_dropped++;
			free(f);
		} else {
			struct pair_queue *q = &w->q[other];
			if (q->tail)
				q->tail->next = f;
			else
				q->head = f;
			q->tail = f;
			if (q->len++ == 0)
				signal = true;
			dev->stats.tx_packets++;
			dev->stats.tx_bytes += skb->len;
		}
		pthread_mutex_unlock(&w->lock);
		skb_free(skb);
	}
	if (signal) {
		int efd = atomic_load(&w->efd[other]);
		uint64_t one = 1;

		if (efd >= 0 && write(efd, &one, sizeof(one)) < 0) {
			/* the counter is already huge: the peer is awake anyway */
		}
	}
}

static int pair_fd(const struct netdev *dev)
{
	const struct pair_end *pe = dev->priv;
	struct pair_wire *w = pe->wire;
	int efd = atomic_load(&w->efd[pe->side]);

	if (efd < 0) {
		int expected = -1;

		efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (efd < 0)
			return -1;
		if (!atomic_compare_exchange_strong(&w->efd[pe->side], &expected, efd)) {
			close(efd);
			return expected;
		}
		/* frames that came before the fd existed still need a poll */
		pthread_mutex_lock(&w->lock);
		if (w->q[pe->side].len) {
			uint64_t one = 1;
			if (write(efd, &one, sizeof(one)) < 0) {
				/* cannot fail on a fresh eventfd */
			}
		}
		pthread_mutex_unlock(&w->lock);
	}
	return efd;
}

static uint64_t pair_next_deadline(const struct netdev *dev)
{
	const struct pair_end *pe = dev->priv;
	struct pair_wire *w = pe->wire;
	uint32_t len;

	pthread_mutex_lock(&w->lock);
	len = w->q[pe->side].len;
	pthread_mutex_unlock(&w->lock);
	/* frames already on the wire can be received right away */
	return len ? 0 : US_TIME_NEVER;
}

static void pair_close(struct netdev *dev)
{
	struct pair_end *pe = dev->priv;
	struct pair_wire *w = pe->wire;
	int efd = atomic_exchange(&w->efd[pe->side], -1);
	bool last;

	if (efd >= 0)
		close(efd);
	pthread_mutex_lock(&w->lock);
	w->end[pe->side] = NULL;
	pair_queue_purge(&w->q[pe->side]); /* frames for this end die with it */
	last = --w->refs == 0;
	pthread_mutex_unlock(&w->lock);
	if (last) {
		pthread_mutex_destroy(&w->lock);
		free(w);
	}
}

static const struct netdev_ops pair_ops = {
	.kind = "pair",
	.poll = pair_poll,
	.xmit = pair_xmit,
	.fd = pair_fd,
	.next_deadline = pair_next_deadline,
	.close = pair_close,
};

int netdev_pair_create(const struct netdev_pair_config *cfg, struct netdev **a, struct netdev **b)
{
	struct pair_wire *w;
	struct netdev *dev[2];
	const struct netdev_config *side_cfg[2];

	if (!cfg || !a || !b || cfg->a.vnet_hdr != cfg->b.vnet_hdr)
		return -EINVAL;
	side_cfg[0] = &cfg->a;
	side_cfg[1] = &cfg->b;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->capacity = cfg->wire_capacity ? cfg->wire_capacity : 4096;
	pthread_mutex_init(&w->lock, NULL);
	atomic_init(&w->efd[0], -1);
	atomic_init(&w->efd[1], -1);
	for (int i = 0; i < 2; i++) {
		struct pair_end *pe;

		dev[i] = netdev_alloc(&pair_ops, side_cfg[i], sizeof(struct pair_end));
		if (!dev[i]) {
			int err = errno;
			if (i == 1)
				netdev_close(dev[0]); /* drops the wire's last reference */
			else {
				pthread_mutex_destroy(&w->lock);
				free(w);
			}
			return -err;
		}
		pe = dev[i]->priv;
		pe->wire = w;
		pe->side = i;
		if (side_cfg[i]->vnet_hdr)
			dev[i]->features = NETDEV_F_VNET_HDR | NETDEV_F_HW_CSUM | NETDEV_F_TSO4 |
					   NETDEV_F_RXCSUM;
		w->end[i] = dev[i];
		w->refs++;
	}
	*a = dev[0];
	*b = dev[1];
	return 0;
}
