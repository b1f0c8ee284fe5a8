/*
 * fault.c - a wrapper that makes a bad network out of a good device, deterministically.
 *
 * Each direction has its own seeded generator (xoshiro256**), its own counters and its own hold
 * queue, ordered by release time, for frames that are reordered or delayed. A frame meets the faults
 * in a fixed order - drop, corrupt, duplicate, reorder, delay - and one random number is drawn for
 * each, whatever happened before, so the same seed and the same frames give the same faults.
 *
 * The wrapper passes the device's offloads through (netdev_wrap): a GSO frame (docs/offload.md) is
 * dropped, duplicated, reordered or delayed whole, and a corrupted frame loses its checksum status.
 *
 * A reordered frame waits until the next frame in its direction has passed (then follows it), or
 * until reorder_max_ns if none comes. A delayed frame waits delay_ns on the stack's clock. Held
 * frames are released from poll and xmit, and next_deadline tells the stack loop when to come back.
 *
 * What passes the faults goes over the link: with a rate, into a bounded FIFO where each frame is
 * given the time it will have left (the link busy with the frames before it for L * 8 / rate each);
 * then, with a latency, onto the wire for latency_ns; then out. Departure and arrival times only
 * grow, so both queues stay in order, and they too are released from poll and xmit.
 */
#include "ustack/netdev.h"

#include <errno.h>
#include <string.h>

#include "netdev_internal.h"
#include "rand.h"

enum { FAULT_RX = 0, FAULT_TX = 1 };

struct fault_cb {
	uint64_t release_ns; /* when a held frame goes, at the latest */
	uint8_t after_next;  /* reordered: goes right after the next frame passes */
};

struct fault_dir {
	struct us_rand rng;
	bool enabled;
	struct skb_queue held; /* ordered by release_ns */
	struct skb_queue rate_q; /* waiting for the rate; release_ns: when it has left */
	struct skb_queue wire;	 /* on their way; release_ns: when they arrive */
	uint64_t busy_until_ns;	 /* when the last frame given to the rate will have left */
	uint64_t busy_rem;	 /* busy_until_ns's fraction of a nanosecond, in 1/rate_bps */
	struct netdev_fault_stats st;
};

struct fault_dev {
	struct netdev_fault_config cfg;
	struct fault_dir dir[2];
};

static inline struct fault_cb *fault_cb(struct sk_buff *skb)
{
	_Static_assert(sizeof(struct fault_cb) <= SKB_CB_SIZE, "fault_cb fits in skb->cb");
	return (struct fault_cb *)(void *)skb->cb;
}

/* One draw, true with probability p. */
static bool fault_chance(struct fault_dir *d, double p)
{
	return us_rand_unit(&d->rng) < p;
}

/* A frame leaves the wrapper: up to the stack (rx) or down to the wrapped device (tx). */
static void fault_out(struct netdev *dev, int dir, struct sk_buff *skb)
{
	struct fault_dev *f = dev->priv;

	f->dir[dir].st.passed++;
	if (dir == FAULT_RX) {
		netdev_rx_deliver(dev, skb);
	} else {
		dev->stats.tx_packets++;
		dev->stats.tx_bytes += skb->len;
		netdev_xmit(dev->lower, skb);
	}
}

/* The link's time to send len bytes at rate_bps, in nanoseconds, carrying the fraction in *rem
 * (1/rate_bps ns units) so that a run of frames adds up exactly. rate_bps <= 10^10 keeps every
 * product below 2^64. */
static uint64_t fault_tx_ns(uint64_t rate_bps, uint32_t len, uint64_t *rem)
{
	uint64_t bits = (uint64_t)len * 8;
	uint64_t ns = bits / rate_bps * US_NSEC_PER_SEC;
	uint64_t part = bits % rate_bps * US_NSEC_PER_SEC + *rem;

	*rem = part % rate_bps;
	return ns + part / rate_bps;
}

/* Frames whose time has come move on: from the rate's queue onto the wire (or out, with no
 * latency), and from the wire out. */
static void fault_link_release(struct netdev *dev, int dir, uint64_t now)
{
	struct fault_dev *f = dev->priv;
	struct fault_dir *d = &f->dir[dir];
	struct sk_buff *h;

	while ((h = skb_peek(&d->rate_q)) != NULL && fault_cb(h)->release_ns <= now) {
		skb_unlink(&d->rate_q, h);
		if (!f->cfg.latency_ns) {
			fault_out(dev, dir, h);
		} else if (d->wire.len >= NETDEV_FAULT_WIRE_MAX) {
			d->st.queue_dropped++;
			skb_free(h);
		} else {
			fault_cb(h)->release_ns += f->cfg.latency_ns;
			skb_queue_tail(&d->wire, h);
		}
	}
	while ((h = skb_peek(&d->wire)) != NULL && fault_cb(h)->release_ns <= now) {
		skb_unlink(&d->wire, h);
		fault_out(dev, dir, h);
	}
}

/* A frame past the faults takes the link: the rate's queue, the wire, or straight out. */
static void fault_emit(struct netdev *dev, int dir, struct sk_buff *skb)
{
	struct fault_dev *f = dev->priv;
	struct fault_dir *d = &f->dir[dir];
	uint64_t now = us_clock_now(dev->clock);

	if (!d->enabled || (!f->cfg.rate_bps && !f->cfg.latency_ns)) {
		fault_out(dev, dir, skb);
		return;
	}
	fault_link_release(dev, dir, now); /* what has left no longer counts against the queue */
	if (f->cfg.rate_bps) {
		uint64_t start = d->busy_until_ns;

		if (d->rate_q.len >= f->cfg.queue_frames) {
			d->st.queue_dropped++;
			skb_free(skb);
			return;
		}
		if (start <= now) {
			start = now; /* the link was idle */
			d->busy_rem = 0;
		}
		d->busy_until_ns = start + fault_tx_ns(f->cfg.rate_bps, skb->len, &d->busy_rem);
		fault_cb(skb)->release_ns = d->busy_until_ns;
		skb_queue_tail(&d->rate_q, skb);
		fault_link_release(dev, dir, now); /* a zero-time frame on an idle link goes at once */
		return;
	}
	if (d->wire.len >= NETDEV_FAULT_WIRE_MAX) {
		d->st.queue_dropped++;
		skb_free(skb);
		return;
	}
	fault_cb(skb)->release_ns = now + f->cfg.latency_ns;
	skb_queue_tail(&d->wire, skb);
}

/* A frame goes through; reordered frames waiting for a successor follow it. */
static void fault_pass(struct netdev *dev, int dir, struct sk_buff *skb)
{
	struct fault_dir *d = &((struct fault_dev *)dev->priv)->dir[dir];
	struct sk_buff *h, *next;

	fault_emit(dev, dir, skb);
	for (h = skb_peek(&d->held); h; h = next) {
		next = h->next;
		if (fault_cb(h)->after_next) {
			skb_unlink(&d->held, h);
			fault_emit(dev, dir, h);
		}
	}
}

/* Hold a frame until release_ns; returns false when the hold queue is full. */
static bool fault_hold(struct fault_dev *f, int dir, struct sk_buff *skb, uint64_t release_ns,
		       bool after_next)
{
	struct fault_dir *d = &f->dir[dir];
	struct sk_buff *prev;

	if (d->held.len >= f->cfg.max_held) {
		d->st.held_full++;
		return false;
	}
	fault_cb(skb)->release_ns = release_ns;
	fault_cb(skb)->after_next = after_next;
	for (prev = skb_peek_tail(&d->held); prev && fault_cb(prev)->release_ns > release_ns;
	     prev = prev->prev)
		;
	skb_queue_insert_after(&d->held, prev, skb);
	return true;
}

static void fault_corrupt(struct fault_dir *d, struct sk_buff *skb)
{
	uint64_t r = us_rand_next(&d->rng);
	uint32_t lo = skb->len > ETH_HLEN ? ETH_HLEN : 0;
	uint32_t off;

	if (skb->len == 0)
		return;
	off = lo + (uint32_t)((r >> 3) % (skb->len - lo));
	skb->data[off] ^= (uint8_t)(1u << (r & 7));
	/* what a device said of the transport checksum (verified, or partial for the other end to
	 * complete: TAP with IFF_VNET_HDR) was said of the frame before the flip: forget it, so that
	 * a checksum catches the corruption - the receiving stack's, or for a partial one the
	 * kernel's, which finds only the pseudo-header sum (a GSO frame without NEEDS_CSUM is refused
	 * by the kernel outright) - rather than a device vouching for it */
	skb->ip_summed = SKB_CSUM_NONE;
}

static void fault_frame(struct netdev *dev, int dir, struct sk_buff *skb, uint64_t now)
{
	struct fault_dev *f = dev->priv;
	struct fault_dir *d = &f->dir[dir];
	struct sk_buff *dup = NULL;
	bool drop, corrupt, duplicate, reorder, delay;

	if (!d->enabled) {
		fault_pass(dev, dir, skb);
		return;
	}
	drop = fault_chance(d, f->cfg.drop);
	corrupt = fault_chance(d, f->cfg.corrupt);
	duplicate = fault_chance(d, f->cfg.duplicate);
	reorder = fault_chance(d, f->cfg.reorder);
	delay = fault_chance(d, f->cfg.delay);
	if (drop) {
		d->st.dropped++;
		skb_free(skb);
		return;
	}
	if (corrupt) {
		skb = skb_unshare(skb);
		if (!skb)
			return;
		fault_corrupt(d, skb);
		d->st.corrupted++;
	}
	if (duplicate) {
		dup = skb_copy(skb);
		if (dup)
			d->st.duplicated++;
	}
	if (reorder && fault_hold(f, dir, skb, now + f->cfg.reorder_max_ns, true))
		d->st.reordered++;
	else if (delay && fault_hold(f, dir, skb, now + f->cfg.delay_ns, false))
		d->st.delayed++;
	else
		fault_pass(dev, dir, skb);
	if (dup)
		fault_pass(dev, dir, dup);
}

/* Let held frames whose time has come go, in release order. */
static void fault_release(struct netdev *dev, int dir, uint64_t now)
{
	struct fault_dir *d = &((struct fault_dev *)dev->priv)->dir[dir];
	struct sk_buff *h;

	while ((h = skb_peek(&d->held)) != NULL && fault_cb(h)->release_ns <= now) {
		skb_unlink(&d->held, h);
		fault_emit(dev, dir, h);
	}
	fault_link_release(dev, dir, now);
}

static int fault_poll(struct netdev *dev, uint32_t budget)
{
	struct sk_buff *batch[NETDEV_MAX_BATCH];
	uint64_t now = us_clock_now(dev->clock);
	uint64_t before = dev->stats.rx_packets;
	uint32_t n;
	int r = netdev_poll(dev->lower, budget);

	if (r < 0)
		return r;
	while ((n = netdev_rx_burst(dev->lower, batch, NETDEV_MAX_BATCH)) > 0)
		for (uint32_t i = 0; i < n; i++)
			fault_frame(dev, FAULT_RX, batch[i], now);
	fault_release(dev, FAULT_RX, now);
	fault_release(dev, FAULT_TX, now);
	netdev_flush(dev->lower);
	return (int)(dev->stats.rx_packets - before);
}

static void fault_xmit(struct netdev *dev, struct sk_buff **skbs, uint32_t n)
{
	uint64_t now = us_clock_now(dev->clock);

	for (uint32_t i = 0; i < n; i++)
		fault_frame(dev, FAULT_TX, skbs[i], now);
	fault_release(dev, FAULT_TX, now);
	netdev_flush(dev->lower);
}

static int fault_fd(const struct netdev *dev)
{
	return netdev_fd(dev->lower);
}

static uint64_t fault_next_deadline(const struct netdev *dev)
{
	const struct fault_dev *f = dev->priv;
	uint64_t t = netdev_next_deadline(dev->lower);

	for (int i = 0; i < 2; i++) {
		const struct skb_queue *q[3] = { &f->dir[i].held, &f->dir[i].rate_q, &f->dir[i].wire };

		for (int k = 0; k < 3; k++) {
			const struct sk_buff *h = skb_peek(q[k]);
			if (h) {
				uint64_t r = ((const struct fault_cb *)(const void *)h->cb)->release_ns;
				if (r < t)
					t = r;
			}
		}
	}
	return t;
}

static void fault_close(struct netdev *dev)
{
	struct fault_dev *f = dev->priv;

	for (int i = 0; i < 2; i++) {
		skb_queue_purge(&f->dir[i].held);
		skb_queue_purge(&f->dir[i].rate_q);
		skb_queue_purge(&f->dir[i].wire);
	}
	netdev_close(dev->lower);
}

static const struct netdev_ops fault_ops = {
	.kind = "fault",
	.poll = fault_poll,
	.xmit = fault_xmit,
	.fd = fault_fd,
	.next_deadline = fault_next_deadline,
	.close = fault_close,
};

static bool fault_prob_ok(double p)
{
	return p >= 0.0 && p <= 1.0; /* false for NaN too */
}

struct netdev *netdev_fault_wrap(struct netdev *lower, const struct netdev_fault_config *cfg)
{
	struct netdev *dev;
	struct fault_dev *f;

	if (!lower || !cfg || !fault_prob_ok(cfg->drop) || !fault_prob_ok(cfg->corrupt) ||
	    !fault_prob_ok(cfg->duplicate) || !fault_prob_ok(cfg->reorder) ||
	    !fault_prob_ok(cfg->delay) || cfg->rate_bps > NETDEV_FAULT_RATE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	dev = netdev_wrap(&fault_ops, lower, sizeof(struct fault_dev));
	if (!dev)
		return NULL;
	f = dev->priv;
	f->cfg = *cfg;
	if (!f->cfg.delay_ns)
		f->cfg.delay_ns = 10 * US_NSEC_PER_MSEC;
	if (!f->cfg.reorder_max_ns)
		f->cfg.reorder_max_ns = 10 * US_NSEC_PER_MSEC;
	if (!f->cfg.max_held)
		f->cfg.max_held = 1024;
	if (!f->cfg.queue_frames)
		f->cfg.queue_frames = 1000;
	for (int i = 0; i < 2; i++) {
		/* one stream per direction: "rx", "tx" */
		us_rand_seed(&f->dir[i].rng, cfg->seed ^ (i == FAULT_RX ? 0x7278ull : 0x7478ull));
		skb_queue_init(&f->dir[i].held);
		skb_queue_init(&f->dir[i].rate_q);
		skb_queue_init(&f->dir[i].wire);
	}
	f->dir[FAULT_RX].enabled = cfg->rx || !cfg->tx;
	f->dir[FAULT_TX].enabled = cfg->tx || !cfg->rx;
	return dev;
}

int netdev_fault_get_stats(const struct netdev *dev, struct netdev_fault_stats *rx,
			   struct netdev_fault_stats *tx)
{
	const struct fault_dev *f;

	if (!dev || dev->ops != &fault_ops)
		return -EINVAL;
	f = dev->priv;
	if (rx)
		*rx = f->dir[FAULT_RX].st;
	if (tx)
		*tx = f->dir[FAULT_TX].st;
	return 0;
}
