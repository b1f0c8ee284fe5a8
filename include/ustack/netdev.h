/*
 * netdev.h - network devices: one small ops table, an RX and a TX ring each, and five kinds.
 *
 *   TAP      a Linux TAP device (IFF_TAP|IFF_NO_PI, non-blocking); the kernel is on the other side
 *   pcap     replays a pcap file's frames on their timestamps; records what is sent to another file
 *   pair     two devices wired together in memory: what one transmits, the other receives
 *   capture  wraps any device and tees both directions to a pcap file
 *   fault    wraps any device and drops, duplicates, reorders, corrupts and delays frames, seeded,
 *            and can make it a link of a given rate and latency
 *
 * The flow, NAPI-style: netdev_poll(dev, budget) moves up to `budget` received frames from the backend
 * into the device's RX ring; the stack takes them with netdev_rx_burst(). On the way out,
 * netdev_xmit() queues a frame on the TX ring and netdev_flush() hands the ring to the backend in
 * batches, once per round. Every function that takes an skb consumes it: it is sent, queued, or freed
 * and counted.
 *
 * Frames in and out are whole Ethernet frames without the FCS. Wrappers take ownership of the device
 * they wrap and close it when they are closed; they look like any other device, so they stack.
 *
 * Offloads (docs/offload.md): a TAP device opened with netdev_config.vnet_hdr exchanges every frame
 * with a virtio_net_hdr in front (IFF_VNET_HDR) and advertises NETDEV_F_VNET_HDR | NETDEV_F_HW_CSUM |
 * NETDEV_F_TSO4 | NETDEV_F_RXCSUM: frames of up to 64 KB carrying TCPv4 segments and partial checksums
 * go both ways, described per skb by skb->ip_summed, csum_start/csum_offset and skb_shinfo()->gso_*.
 * A pair device can do the same for tests. Wrappers (capture, fault) advertise the features of the
 * device they wrap: the capture records GSO frames whole, with their partial checksums (as tcpdump
 * on a TSO device shows them), and the fault wrapper harms a GSO frame whole; a frame it corrupts
 * loses its checksum status (ip_summed back to SKB_CSUM_NONE), so that a checksum still catches it.
 */
#ifndef USTACK_NETDEV_H
#define USTACK_NETDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "ustack/clock.h"
#include "ustack/ring.h"
#include "ustack/skb.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NETDEV_NAME_MAX 16 /* as IFNAMSIZ, with the terminating NUL */
#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_ZLEN 60	/* shortest frame without FCS */
#define ETH_VLAN_HLEN 4
#define ETH_DATA_LEN 1500
#define NETDEV_MAX_BATCH 64 /* frames handed to a backend's xmit at once */

/* Device feature bits. */
enum netdev_features {
	NETDEV_F_VNET_HDR = 1u << 0, /* frames carry a virtio_net_hdr (TAP IFF_VNET_HDR) */
	NETDEV_F_HW_CSUM = 1u << 1,  /* device fills in transport checksums (SKB_CSUM_PARTIAL) */
	NETDEV_F_TSO4 = 1u << 2,     /* device segments TCPv4 GSO frames */
	NETDEV_F_RXCSUM = 1u << 3,   /* device marks verified checksums */
};

struct netdev_stats {
	uint64_t rx_packets, rx_bytes; /* frames put on the RX ring */
	uint64_t rx_dropped;	       /* no skb to read into (pool exhausted) */
	uint64_t rx_errors;	       /* backend read errors, oversized or undersized frames */
	uint64_t rx_ring_full;	       /* frames dropped because the RX ring was full */
	uint64_t tx_packets, tx_bytes; /* frames the backend accepted */
	uint64_t tx_dropped;	       /* frames the backend could not take (busy, wire gone) */
	uint64_t tx_errors;	       /* backend write errors, frames too large for the device */
	uint64_t tx_ring_full;	       /* frames dropped because the TX ring stayed full */
	uint64_t rx_vnet_errors;       /* frames whose virtio_net_hdr did not fit the frame, dropped */
};

struct netdev;

/* Per-layer timing (ustack/latency.h): the stack that owns a device points dev->timing here while
 * timing is on. rx stamps a frame as the backend delivers it; xmit hands a batch to the backend's
 * xmit op and stamps the frames it took. */
struct netdev_timing {
	void (*rx)(struct netdev_timing *t, struct sk_buff *skb);
	void (*xmit)(struct netdev_timing *t, struct netdev *dev, struct sk_buff **skbs, uint32_t n);
};

struct netdev_ops {
	const char *kind; /* "tap", "pcap", "pair", "capture", "fault" */
	/* Move up to `budget` frames from the backend to the RX ring (netdev_rx_deliver). Returns the
	 * number delivered, or a negative errno for a device that is gone. */
	int (*poll)(struct netdev *dev, uint32_t budget);
	/* Send n frames. Consumes every skb: sent, or freed and counted. */
	void (*xmit)(struct netdev *dev, struct sk_buff **skbs, uint32_t n);
	/* A kernel fd that becomes readable when frames arrive, or -1. Optional. */
	int (*fd)(const struct netdev *dev);
	/* The next time (stack clock, ns) at which poll has work even without new input, or
	 * US_TIME_NEVER. Optional. */
	uint64_t (*next_deadline)(const struct netdev *dev);
	/* Release the backend (and close a wrapped device); netdev_close frees priv. Optional. */
	void (*close)(struct netdev *dev);
};

struct netdev {
	const struct netdev_ops *ops;
	char name[NETDEV_NAME_MAX];
	uint8_t mac[ETH_ALEN]; /* the stack's own address on this link */
	uint32_t mtu;	       /* bytes of IP datagram per frame */
	uint32_t features;     /* enum netdev_features bits */
	struct skb_pool *pool; /* receive buffers come from here */
	struct us_clock *clock;
	struct ring *rx; /* received frames, backend -> stack */
	struct ring *tx; /* frames to send, stack -> backend */
	struct netdev_stats stats;
	struct netdev *lower; /* the wrapped device, for wrappers */
	int ifindex;	      /* set by the stack that owns the device; 0 before */
	void *priv;	      /* the backend's state */
	struct netdev_timing *timing; /* set by the owning stack while timing is on; NULL: off */
};

/* What every device is created with. */
struct netdev_config {
	struct skb_pool *pool;	/* required */
	struct us_clock *clock; /* required */
	const char *name;	/* optional; the TAP interface name for TAP */
	uint8_t mac[ETH_ALEN];	/* the stack's MAC; all zero: a random locally administered one */
	uint32_t mtu;		/* 0: 1500 (TAP: the interface's MTU) */
	uint32_t rx_ring_size;	/* power of two; 0: 256 */
	uint32_t tx_ring_size;	/* power of two; 0: 256 */
	bool vnet_hdr;		/* TAP: IFF_VNET_HDR with checksum and TCPv4 segmentation offload;
				 * pair: frames carry their offload metadata (both ends must agree) */
};

/* ---- the generic device API ---- */

int netdev_poll(struct netdev *dev, uint32_t budget);
/* Take up to n received frames off the RX ring; the caller owns them. */
uint32_t netdev_rx_burst(struct netdev *dev, struct sk_buff **skbs, uint32_t n);
/* Queue a frame for sending (consumes skb). When the TX ring is full it is flushed first; if it is
 * still full the frame is dropped, counted in tx_ring_full, and -ENOBUFS returned. */
int netdev_xmit(struct netdev *dev, struct sk_buff *skb);
/* Hand everything on the TX ring to the backend; returns how many frames were handed. */
uint32_t netdev_flush(struct netdev *dev);
int netdev_fd(const struct netdev *dev);
uint64_t netdev_next_deadline(const struct netdev *dev);
/* Free queued frames, close the backend (and any wrapped device) and free dev. NULL is a no-op. */
void netdev_close(struct netdev *dev);

/* For backends: put a received frame on the RX ring (consumes skb), counting it or the ring-full
 * drop. Sets skb->dev and, if unset, the receive timestamp. Returns 0 or -ENOBUFS. */
int netdev_rx_deliver(struct netdev *dev, struct sk_buff *skb);
/* For backends: a new device with its rings, name and MAC from cfg and priv_size zeroed bytes of
 * private state. NULL with errno set. */
struct netdev *netdev_alloc(const struct netdev_ops *ops, const struct netdev_config *cfg,
			    size_t priv_size);
/* A locally administered unicast MAC, random. */
void netdev_random_mac(uint8_t mac[ETH_ALEN]);
/* "aa:bb:cc:dd:ee:ff" -> mac; 0 or -EINVAL. */
int netdev_parse_mac(const char *s, uint8_t mac[ETH_ALEN]);

/* ---- the virtio-net header (IFF_VNET_HDR) ---- */

/* The 10-byte struct virtio_net_hdr of the virtio spec (§5.1.6), without the mergeable-buffers count:
 * TUNSETVNETHDRSZ is set to this size. Little-endian on the wire (TUNSETVNETLE). */
#define NETDEV_VNET_HDR_LEN 10
#define NETDEV_VNET_F_NEEDS_CSUM 1 /* csum_start/csum_offset: the checksum is to be completed */
#define NETDEV_VNET_F_DATA_VALID 2 /* the checksum was verified */
#define NETDEV_VNET_GSO_NONE 0
#define NETDEV_VNET_GSO_TCPV4 1
#define NETDEV_VNET_GSO_ECN 0x80

struct netdev_vnet_hdr { /* host order */
	uint8_t flags;	      /* NETDEV_VNET_F_* */
	uint8_t gso_type;     /* NETDEV_VNET_GSO_* */
	uint16_t hdr_len;     /* bytes of headers (Ethernet, IP, TCP) before the payload, for GSO */
	uint16_t gso_size;    /* payload bytes per segment */
	uint16_t csum_start;  /* from the frame's first byte */
	uint16_t csum_offset; /* from csum_start to the checksum field */
};

/* Read and write the header's 10 bytes. */
void netdev_vnet_hdr_parse(const uint8_t *p, struct netdev_vnet_hdr *h);
void netdev_vnet_hdr_emit(uint8_t *p, const struct netdev_vnet_hdr *h);
/* Check h against the Ethernet frame in skb (data at the Ethernet header) and put what it says on
 * skb: NEEDS_CSUM -> ip_summed SKB_CSUM_PARTIAL with csum_start/csum_offset (the peer is trusted, as
 * Linux's tun trusts it: the transport checksum is not verified); DATA_VALID -> SKB_CSUM_UNNECESSARY;
 * GSO_TCPV4 -> skb_shinfo gso_size/gso_type/gso_segs. Only what this stack negotiated is taken: an
 * unknown flag or GSO type, a checksum or header length past the frame, or a TCPv4 GSO frame that is
 * not an IPv4 TCP segment with its checksum to complete is -EINVAL, skb unchanged. */
int netdev_vnet_hdr_apply(struct sk_buff *skb, const struct netdev_vnet_hdr *h);
/* The header for sending skb (data at the Ethernet header): its partial checksum and GSO fields. */
void netdev_vnet_hdr_from_skb(const struct sk_buff *skb, struct netdev_vnet_hdr *h);

/* ---- TAP ---- */

/* Attach to the TAP device cfg->name, creating it if it does not exist (IFF_TAP|IFF_NO_PI,
 * non-blocking). Offloads are always set explicitly, as a TAP device keeps the flags of an earlier
 * user: none (TUNSETOFFLOAD 0), or with cfg->vnet_hdr IFF_VNET_HDR, a 10-byte header and
 * TUN_F_CSUM | TUN_F_TSO4. The MTU is read from the interface unless cfg->mtu is set. NULL with errno. */
struct netdev *netdev_tap_open(const struct netdev_config *cfg);
/* The kernel side's MAC address of a TAP device (what the kernel puts in frames it sends). */
int netdev_tap_kernel_mac(const struct netdev *dev, uint8_t mac[ETH_ALEN]);

/* ---- pcap ---- */

enum netdev_pcap_timing {
	NETDEV_PCAP_ASAP = 0,  /* replay frames as fast as polled, in order */
	NETDEV_PCAP_TIMED = 1, /* a frame is received when the clock reaches its time: the clock's time
				* at open plus the frame's offset from the file's first frame */
};

struct netdev_pcap_config {
	struct netdev_config base;
	const char *in_path;  /* frames to receive; NULL: none */
	const char *out_path; /* where transmitted frames are written; NULL: discarded (counted) */
	enum netdev_pcap_timing timing;
};

struct netdev *netdev_pcap_open(const struct netdev_pcap_config *cfg);
/* The stack-clock time at which the next input frame is due: 0 and *ns set, or -ENOENT after the
 * last frame. */
int netdev_pcap_next_time(const struct netdev *dev, uint64_t *ns);
/* True once every input frame has been delivered (or there was no input). */
bool netdev_pcap_eof(const struct netdev *dev);

/* ---- pair ---- */

struct netdev_pair_config {
	struct netdev_config a, b; /* each end's pool, clock, MAC, MTU, rings */
	uint32_t wire_capacity;	   /* frames in flight per direction at most; 0: 4096 */
};

/* Two devices wired together: a frame sent on one is copied into a buffer from the other's pool and
 * received there. Closing one end leaves the other sending into nothing (counted as tx_dropped).
 * 0 or a negative errno. */
int netdev_pair_create(const struct netdev_pair_config *cfg, struct netdev **a, struct netdev **b);

/* ---- capture wrapper ---- */

/* Wrap `lower`: every frame received and sent is also written to the pcap file `path` with the stack
 * clock's time. On success the wrapper owns lower; on failure (NULL, errno set) the caller keeps it. */
struct netdev *netdev_capture_wrap(struct netdev *lower, const char *path);

/* ---- fault wrapper ---- */

/* Probabilities are per frame, each in [0, 1], applied in each direction independently, in this
 * order: drop; corrupt (one bit flipped past the Ethernet header); duplicate (a copy follows the
 * frame); reorder (held back until the next frame in that direction has passed, or reorder_max_ns);
 * delay (held for delay_ns). The same seed and the same frames give exactly the same faults.
 *
 * Then the link, on the stack's clock, in each harmed direction apart: with rate_bps, a frame of L bytes
 * leaves L * 8 / rate_bps seconds after the one before it has left (or after it came, if the link
 * was idle), waiting in a queue of at most queue_frames (a frame that finds it full is dropped and
 * counted in queue_dropped); then it travels latency_ns, and arrives. So a lone frame arrives
 * L * 8 / rate_bps + latency_ns after it was sent, and a burst at one frame per L * 8 / rate_bps. */
struct netdev_fault_config {
	uint64_t seed;
	double drop, corrupt, duplicate, reorder, delay;
	uint64_t delay_ns;	 /* how long a delayed frame is held; 0: 10 ms */
	uint64_t reorder_max_ns; /* longest a reordered frame waits for a successor; 0: 10 ms */
	uint32_t max_held;	 /* frames held per direction at most (then passed unharmed); 0: 1024 */
	bool rx, tx;		 /* which directions to harm; both false means both */
	uint64_t latency_ns;	 /* every frame's one-way delay; 0: none */
	uint64_t rate_bps;	 /* the link's rate, bits per second, at most 10^10; 0: unlimited */
	uint32_t queue_frames;	 /* frames waiting for the rate at most; 0: 1000 */
};

struct netdev_fault_stats {
	uint64_t passed;     /* frames that went through (including duplicates and held ones) */
	uint64_t dropped;
	uint64_t corrupted;
	uint64_t duplicated;
	uint64_t reordered;
	uint64_t delayed;
	uint64_t held_full; /* frames that should have been held but the hold queue was full */
	uint64_t queue_dropped; /* frames dropped by the link: its queue (queue_frames) was full, or
				 * NETDEV_FAULT_WIRE_MAX frames were already on their way */
};

#define NETDEV_FAULT_RATE_MAX 10000000000ull /* rate_bps at most: 10 Gbit/s */
#define NETDEV_FAULT_WIRE_MAX 65536u	     /* frames in flight (latency_ns) per direction at most */

struct netdev *netdev_fault_wrap(struct netdev *lower, const struct netdev_fault_config *cfg);
/* Counters of a fault wrapper per direction; -EINVAL when dev is not one. */
int netdev_fault_get_stats(const struct netdev *dev, struct netdev_fault_stats *rx,
			   struct netdev_fault_stats *tx);

#ifdef __cplusplus
}
#endif

#endif
