/*
 * tap.c - the TAP device: frames the Linux kernel sends on a TAP interface are read from
 * /dev/net/tun, and frames the stack sends are written to it, one read() or write() per frame.
 *
 * The interface is opened IFF_TAP|IFF_NO_PI and non-blocking. Offloads are switched off explicitly
 * with TUNSETOFFLOAD 0: the flags outlive the fd that set them, and a device left with TSO on hands
 * over 64 KB frames with partial checksums. (IFF_VNET_HDR with TSO/GSO is the planned fast path;
 * the features field and the skb's GSO metadata are where it will live.)
 */
#include "ustack/netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct tap_dev {
	int fd;
	struct sk_buff *spare; /* a receive buffer kept from a read that found nothing */
};

static int tap_poll(struct netdev *dev, uint32_t budget)
{
	struct tap_dev *t = dev->priv;
	/* room for one VLAN tag and one byte more, to tell an oversized frame from a full one */
	uint32_t room = dev->mtu + ETH_HLEN + ETH_VLAN_HLEN + 1;
	uint32_t done = 0;

	while (done < budget) {
		struct sk_buff *skb = t->spare;
		ssize_t n;

		t->spare = NULL;
		if (!skb) {
			skb = skb_alloc(dev->pool, SKB_MAX_HEADER + room);
			if (skb)
				skb_reserve(skb, SKB_MAX_HEADER);
		}

		if (!skb) {
			/* no buffer: read the frame into nothing, as a NIC out of descriptors drops it */
			uint8_t sink[64];
			n = read(t->fd, sink, sizeof(sink));
			if (n < 0)
				break;
			dev->stats.rx_dropped++;
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
		ssize_t w;

		if (skb->len > dev->mtu + ETH_HLEN + ETH_VLAN_HLEN || skb->len < ETH_HLEN) {
			dev->stats.tx_errors++;
			skb_free(skb);
			continue;
		}
		do {
			w = write(t->fd, skb->data, skb->len);
		} while (w < 0 && errno == EINTR);
		if (w == (ssize_t)skb->len) {
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
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", cfg->name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0UL) < 0)
		goto fail;
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
