/*
 * tap.c - the TAP device: frames the Linux kernel sends on a TAP interface are read from
 * /dev/net/tun, and frames the stack sends are written to it, one read() or write() per frame.
 *
 * The interface is opened IFF_TAP|IFF_NO_PI and non-blocking. Offloads are always set explicitly,
 * since the flags outlive the fd that set them and a device left with TSO on hands over 64 KB frames
 * with partial checksums: TUNSETOFFLOAD 0 by default. With netdev_config.vnet_hdr (docs/offload.md)
 * the device is opened IFF_VNET_HDR with a 10-byte header (TUNSETVNETHDRSZ; no mergeable buffers,
 * which only virtio rings use) and TUN_F_CSUM | TUN_F_TSO4: each read returns the header and a frame
 * of up to 64 KB, each write takes the header (vnet.c) and a frame, gathered with writev.
 */
#include "netdev_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* The largest frame a TSO4 TAP device hands over: the kernel's GSO limit for it (GSO_LEGACY_MAX_SIZE,
 * 65536 bytes from the Ethernet header on) and a VLAN tag. */

struct tap_dev {
	int fd;
	bool vnet; /* IFF_VNET_HDR: every frame has a struct virtio_net_hdr in front */
	struct sk_buff *spare; /* a receive buffer kept from a read that found nothing */
};

/* A receive buffer of room bytes after the headroom: the one kept from the last poll, or a new one.
 * NULL when the pool has none: then the next frame is read into nothing, as a NIC out of
 * descriptors drops it, and counted (*n is what that read returned; < 0: no frame was waiting). */
static struct sk_buff *tap_rx_buffer(struct netdev *dev, uint32_t room, ssize_t *n)
{
	struct tap_dev *t = dev->priv;
	struct sk_buff *skb = t->spare;
	uint8_t sink[64];

	t->spare = NULL;
	if (!skb) {
		skb = skb_alloc(dev->pool, SKB_MAX_HEADER + room);
		if (skb)
			skb_reserve(skb, SKB_MAX_HEADER);
	}
	if (skb)
		return skb;
	*n = read(t->fd, sink, sizeof(sink));
	if (*n >= 0)
		dev->stats.rx_dropped++;
	return NULL;
}

/* Read frames with their virtio_net_hdr into a buffer that holds the largest GSO frame. A frame of
 * ordinary size is copied into a buffer of its own (at most an MTU's worth of bytes), so that the
 * large buffer is used again and a queue of small segments does not hold 64 KB each; a GSO frame
 * goes up in it, and the next read takes a new one. */
static int tap_poll_vnet(struct netdev *dev, uint32_t budget)
{
	struct tap_dev *t = dev->priv;
	uint32_t room = NETDEV_GSO_FRAME_MAX + 1, small = dev->mtu + ETH_HLEN + ETH_VLAN_HLEN;
	uint32_t done = 0;

	while (done < budget) {
		struct sk_buff *skb, *out;
		uint8_t vh[NETDEV_VNET_HDR_LEN];
		struct netdev_vnet_hdr h;
		struct iovec iov[2];
		ssize_t n;
		uint32_t flen;

		skb = tap_rx_buffer(dev, room, &n);
		if (!skb) {
			if (n < 0)
				break;
			continue;
		}
		iov[0] = (struct iovec){ .iov_base = vh, .iov_len = sizeof(vh) };
		iov[1] = (struct iovec){ .iov_base = skb->data, .iov_len = room };
		n = readv(t->fd, iov, 2);
		if (n < 0) {
			int e = errno;
			t->spare = skb;
			if (e == EAGAIN || e == EINTR)
				break;
			dev->stats.rx_errors++;
			return -e;
		}
		if ((uint32_t)n < sizeof(vh) + ETH_HLEN || (uint32_t)n - sizeof(vh) == room) {
			dev->stats.rx_errors++;
			t->spare = skb;
			continue;
		}
		flen = (uint32_t)n - sizeof(vh);
		skb_put(skb, flen);
		out = skb;
		if (flen <= small) {
			out = skb_alloc(dev->pool, SKB_MAX_HEADER + flen);
			if (!out) {
				dev->stats.rx_dropped++;
				skb_trim(skb, 0);
				t->spare = skb;
				continue;
			}
			skb_reserve(out, SKB_MAX_HEADER);
			skb_put_data(out, skb->data, flen);
			skb_trim(skb, 0);
			t->spare = skb;
		}
		netdev_vnet_hdr_parse(vh, &h);
		if (netdev_vnet_hdr_apply(out, &h) < 0) {
			/* never trusted blindly: a header that does not fit its frame drops it */
			dev->stats.rx_vnet_errors++;
			if (out == skb) {
				skb_trim(skb, 0);
				t->spare = skb;
			} else {
				skb_free(out);
			}
			continue;
		}
		if (netdev_rx_deliver(dev, out) == 0)
			done++;
	}
	return (int)done;
}

static int tap_poll(struct netdev *dev, uint32_t budget)
{
	struct tap_dev *t = dev->priv;
	/* room for one VLAN tag and one byte more, to tell an oversized frame from a full one */
	uint32_t room = dev->mtu + ETH_HLEN + ETH_VLAN_HLEN + 1;
	uint32_t done = 0;

	if (t->vnet)
		return tap_poll_vnet(dev, budget);
	while (done < budget) {
		struct sk_buff *skb;
		ssize_t n;

		skb = tap_rx_buffer(dev, room, &n);
		if (!skb) {
			if (n < 0)
				break;
			continue;
		}
		n = read(t->fd, skb->data, room);
		if (n < 0) {
			int e = errno;
			if (e == EAGAIN || e == EINTR) {
				t->spare = skb; /* no frame: keep the buffer for the next poll */
				break;
			}
			skb_free(skb);
			dev->stats.rx_errors++;
			return -e;
		}
		if ((uint32_t)n < ETH_HLEN || (uint32_t)n == room) {
			dev->stats.rx_errors++;
			t->spare = skb;
			continue;
		}
		skb_put(skb, (uint32_t)n);
		if (netdev_rx_deliver(dev, skb) == 0)
			done++;
	}
	return (int)done;
}

static void tap_xmit(struct netdev *dev, struct sk_buff **skbs, uint32_t n)
{
	struct tap_dev *t = dev->priv;

	for (uint32_t i = 0; i < n; i++) {
		struct sk_buff *skb = skbs[i];
		uint32_t max = netdev_frame_max(dev, skb);
		uint8_t vh[NETDEV_VNET_HDR_LEN];
		ssize_t w, want = (ssize_t)skb->len;

		if (skb->len > max || skb->len < ETH_HLEN) {
			dev->stats.tx_errors++;
			skb_free(skb);
			continue;
		}
		if (t->vnet) {
			struct netdev_vnet_hdr h;
			struct iovec iov[2] = { { .iov_base = vh, .iov_len = sizeof(vh) },
						{ .iov_base = skb->data, .iov_len = skb->len } };

			netdev_vnet_hdr_from_skb(skb, &h);
			netdev_vnet_hdr_emit(vh, &h);
			want += (ssize_t)sizeof(vh);
			do {
				w = writev(t->fd, iov, 2);
			} while (w < 0 && errno == EINTR);
		} else {
			do {
				w = write(t->fd, skb->data, skb->len);
			} while (w < 0 && errno == EINTR);
		}
		if (w == want) {
			dev->stats.tx_packets++;
			dev->stats.tx_bytes += skb->len;
		} else if (w < 0 && (errno == EAGAIN || errno == EIO)) {
			/* EAGAIN: the kernel's queue is full; EIO: the interface is down. Both lose the
			 * frame, as a full or dead link would. */
			dev->stats.tx_dropped++;
		} else {
			dev->stats.tx_errors++;
		}
		skb_free(skb);
	}
}

static int tap_fd(const struct netdev *dev)
{
	return ((const struct tap_dev *)dev->priv)->fd;
}

static void tap_close(struct netdev *dev)
{
	struct tap_dev *t = dev->priv;

	skb_free(t->spare);
	if (t->fd >= 0)
		close(t->fd);
}

static const struct netdev_ops tap_ops = {
	.kind = "tap",
	.poll = tap_poll,
	.xmit = tap_xmit,
	.fd = tap_fd,
	.close = tap_close,
};

/* An ioctl on the interface through a throwaway socket (MTU, hardware address). */
static int tap_ifreq(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r;

	if (s < 0)
		return -errno;
	r = ioctl(s, req, ifr) < 0 ? -errno : 0;
	close(s);
	return r;
}

struct netdev *netdev_tap_open(const struct netdev_config *cfg)
{
	struct netdev_config c;
	struct ifreq ifr;
	struct netdev *dev;
	struct tap_dev *t;
	int fd, e;

	if (!cfg || !cfg->name || strlen(cfg->name) >= IFNAMSIZ) {
		errno = EINVAL;
		return NULL;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | (cfg->vnet_hdr ? IFF_VNET_HDR : 0));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", cfg->name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	if (cfg->vnet_hdr) {
		int hsz = NETDEV_VNET_HDR_LEN, le = 1;

		/* the header's fields are little-endian (vnet.c); on a little-endian host that is the
		 * default, and a kernel without TUNSETVNETLE is one */
		if (ioctl(fd, TUNSETVNETHDRSZ, &hsz) < 0 ||
		    (ioctl(fd, TUNSETVNETLE, &le) < 0 && errno != EINVAL) ||
		    ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) < 0)
			goto fail;
	} else if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
		goto fail;
	}
	c = *cfg;
	c.name = ifr.ifr_name;
	if (!c.mtu) {
		struct ifreq q;
		memset(&q, 0, sizeof(q));
		snprintf(q.ifr_name, IFNAMSIZ, "%s", ifr.ifr_name);
		c.mtu = tap_ifreq(SIOCGIFMTU, &q) == 0 && q.ifr_mtu > 0 ? (uint32_t)q.ifr_mtu
									    : ETH_DATA_LEN;
	}
	dev = netdev_alloc(&tap_ops, &c, sizeof(struct tap_dev));
	if (!dev)
		goto fail;
	t = dev->priv;
	t->fd = fd;
	t->vnet = cfg->vnet_hdr;
	if (t->vnet)
		dev->features = NETDEV_F_VNET_HDR | NETDEV_F_HW_CSUM | NETDEV_F_TSO4 | NETDEV_F_RXCSUM;
	return dev;
fail:
	e = errno;
	close(fd);
	errno = e;
	return NULL;
}

int netdev_tap_kernel_mac(const struct netdev *dev, uint8_t mac[ETH_ALEN])
{
	struct ifreq q;
	int r;

	if (!dev || dev->ops != &tap_ops)
		return -EINVAL;
	memset(&q, 0, sizeof(q));
	snprintf(q.ifr_name, IFNAMSIZ, "%s", dev->name);
	r = tap_ifreq(SIOCGIFHWADDR, &q);
	if (r == 0)
		memcpy(mac, q.ifr_hwaddr.sa_data, ETH_ALEN);
	return r;
}
