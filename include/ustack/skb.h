/*
 * skb.h - packet buffers, their pool and their queues.
 *
 * A struct sk_buff describes a window [data, tail) into a data buffer [head, end), as Linux's does:
 *
 *     head <= data <= tail <= end
 *     |headroom| len  |tailroom|
 *
 * Each layer pulls its header on the way up and pushes its header on the way down, so payload bytes
 * are never copied between layers. Output allocates once with headroom for every lower header.
 *
 * The data buffer ends in a struct skb_shared_info (Linux's name), which holds the data reference
 * count and the metadata that clones share: GSO segment size and type for TSO/GSO through
 * IFF_VNET_HDR. A clone (skb_clone) is a second descriptor over the same data; clones must treat the
 * data as read-only (skb_cloned() tells, skb_unshare() makes a private copy).
 *
 * Every skb comes from a struct skb_pool, which counts allocations, frees, buffers in use and the peak,
 * and refuses to grow past its limits (skb_alloc returns NULL, counted as an alloc failure).
 *
 * Threading: a pool and the skbs allocated from it belong to one thread at a time (the stack's).
 * Handing an skb to another thread goes through a struct ring (ring.h), which orders the memory.
 *
 * Misuse - pushing past the headroom, putting past the end, pulling past the tail, reserving in a
 * buffer that already holds data, freeing an skb that is still on a queue - is caught: a debug build
 * (USTACK_DEBUG, CMAKE_BUILD_TYPE=Debug) aborts with a message; a release build returns NULL (or
 * -EINVAL), leaves the skb unchanged and counts the event in the pool's `misuse` counter.
 */
#ifndef USTACK_SKB_H
#define USTACK_SKB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct netdev;
struct skb_pool;

/* Size of the per-layer control block (TCP keeps seq/end_seq/flags there, as TCP_SKB_CB in Linux). */
#define SKB_CB_SIZE 48

/* Header offsets are relative to skb->head; this value means "not set". */
#define SKB_HDR_UNSET 0xffffu

/* Headroom that output paths reserve for every lower header (Ethernet + IPv4 with options + TCP with
 * options, rounded up), and that receive paths reserve in front of a frame. */
#define SKB_MAX_HEADER 128

/* skb->ip_summed, as in Linux: what is known about the transport checksum. */
enum skb_csum {
	SKB_CSUM_NONE = 0,	  /* nothing known: verify (rx) or compute (tx) in software */
	SKB_CSUM_UNNECESSARY = 1, /* rx: the device verified it */
	SKB_CSUM_PARTIAL = 3,	  /* tx: the device fills it in from csum_start/csum_offset */
};

/* skb_shinfo(skb)->gso_type bits (virtio-net's VIRTIO_NET_HDR_GSO_* values map onto these). */
enum skb_gso_type {
	SKB_GSO_NONE = 0,
	SKB_GSO_TCPV4 = 1u << 0,
	SKB_GSO_UDP = 1u << 1,
	SKB_GSO_TCP_ECN = 1u << 2,
};

/* Kept at the end of the data buffer and shared by all clones of it. */
struct skb_shared_info {
	uint32_t dataref;  /* descriptors that point at this buffer */
	uint16_t gso_size; /* payload bytes per segment when segmented; 0: not a GSO frame */
	uint16_t gso_segs; /* segments the frame stands for, 0 when unknown */
	uint8_t gso_type;  /* enum skb_gso_type bits */
	uint8_t pad_[7];
};

struct sk_buff {
	struct sk_buff *next; /* queue links: NULL when on no queue */
	struct sk_buff *prev;
	struct skb_pool *pool; /* where this descriptor and its data return */
	struct netdev *dev;    /* receiving device (rx) or device to send on (tx) */

	uint8_t *head; /* start of the data buffer */
	uint8_t *data; /* start of the bytes that belong to the current layer */
	uint8_t *tail; /* one past the last byte */
	uint8_t *end;  /* end of the usable buffer; struct skb_shared_info follows */
	uint32_t len;  /* tail - data, bytes */

	uint16_t mac_header;	   /* offsets from head, SKB_HDR_UNSET when unknown */
	uint16_t network_header;
	uint16_t transport_header;
	uint16_t protocol;	   /* ethertype, host order (ETH_P_IP, ...), 0 when unknown */

	uint8_t ip_summed;	   /* enum skb_csum */
	uint8_t queued_;	   /* internal: nonzero while on a struct skb_queue */
	uint16_t csum_start;	   /* tx offload: offset from head where checksumming starts */
	uint16_t csum_offset;	   /* tx offload: where the result goes, from csum_start */
	uint8_t lat_next;	   /* per-layer timing (latency.h): the stage expected next; 0: untimed */
	uint8_t pad_;
	uint64_t tstamp_ns; /* receive time on the stack's clock, nanoseconds; 0 when unset */
	uint64_t lat_t0_ns;   /* per-layer timing: the path's first stamp, nanoseconds */
	uint64_t lat_last_ns; /* per-layer timing: the latest stamp, nanoseconds */

	_Alignas(8) uint8_t cb[SKB_CB_SIZE]; /* the current layer's private area */
};

/* ---- pool ---- */

struct skb_pool_config {
	uint32_t max_skbs;	 /* descriptors in use at most (clones count); 0: default 65536 */
	uint64_t max_data_bytes; /* data buffer bytes in use at most; 0: default 256 MiB */
	uint32_t cache_max;	 /* freed small buffers kept for reuse; 0: default 1024 */
};

struct skb_pool_stats {
	uint64_t allocated;	 /* descriptors handed out (skb_alloc, skb_clone, skb_copy) */
	uint64_t freed;		 /* descriptors returned */
	uint64_t in_use;	 /* allocated - freed */
	uint64_t peak;		 /* highest in_use seen */
	uint64_t alloc_failures; /* allocations refused: a limit reached or memory exhausted */
	uint64_t misuse;	 /* push/put/pull/reserve/free misuse caught (release builds) */
	uint64_t data_bytes;	 /* data buffer bytes in use */
};

/* Create a pool; cfg may be NULL for the defaults. Returns NULL with errno ENOMEM or EINVAL. */
struct skb_pool *skb_pool_create(const struct skb_pool_config *cfg);
/* Destroy a pool and its cached buffers. Every skb must have been freed first (in_use == 0); a
 * pool destroyed with skbs in use leaks them deliberately rather than leave them dangling. Returns
 * the number of skbs that were still in use. skb_pool_destroy(NULL) is a no-op returning 0. */
uint64_t skb_pool_destroy(struct skb_pool *pool);
void skb_pool_get_stats(const struct skb_pool *pool, struct skb_pool_stats *out);
uint64_t skb_pool_in_use(const struct skb_pool *pool);

/* ---- allocation ---- */

/* A new skb with at least `size` bytes of room (rounded up to a multiple of 8), data == tail == head
 * (no headroom until skb_reserve). Returns NULL when a pool limit is reached, size exceeds 1 GiB, or
 * memory is exhausted (counted as alloc_failures). */
struct sk_buff *skb_alloc(struct skb_pool *pool, uint32_t size);
/* Release an skb: its descriptor always, its data when no clone still refers to it. skb_free(NULL) is
 * a no-op. An skb still on a queue is misuse (not freed; unlink it first). */
void skb_free(struct sk_buff *skb);
/* A second descriptor over the same data (dataref + 1), with its own data/tail/len, header offsets,
 * device, timestamp and cb copied. Pulls and pushes on either do not move the other. NULL on failure. */
struct sk_buff *skb_clone(struct sk_buff *skb);
/* A private copy: a new data buffer of the same size holding the same headroom, bytes and header
 * offsets, metadata and cb. NULL on failure. */
struct sk_buff *skb_copy(const struct sk_buff *skb);
/* True when the data buffer is shared with a clone, so it must not be written. */
bool skb_cloned(const struct sk_buff *skb);
/* If skb is cloned, replace it by a private copy (the clone reference is dropped); return the skb to
 * use from now on. On allocation failure the original is freed and NULL is returned. */
struct sk_buff *skb_unshare(struct sk_buff *skb);

static inline struct skb_shared_info *skb_shinfo(const struct sk_buff *skb)
{
	return (struct skb_shared_info *)(void *)skb->end;
}

/* ---- moving the window ---- */

static inline uint32_t skb_headroom(const struct sk_buff *skb)
{
	return (uint32_t)(skb->data - skb->head);
}
static inline uint32_t skb_tailroom(const struct sk_buff *skb)
{
	return (uint32_t)(skb->end - skb->tail);
}
/* Size of the data buffer (headroom + len + tailroom). */
static inline uint32_t skb_size(const struct sk_buff *skb)
{
	return (uint32_t)(skb->end - skb->head);
}

/* Make `len` bytes of headroom in an empty skb (data == tail). Returns 0, or -EINVAL (misuse) when the
 * skb already holds data or len exceeds the tailroom. */
int skb_reserve(struct sk_buff *skb, uint32_t len);
/* Extend the data at the tail by len bytes; returns a pointer to the first new byte, or NULL (misuse)
 * when len exceeds the tailroom. */
uint8_t *skb_put(struct sk_buff *skb, uint32_t len);
/* Extend the data at the front by len bytes (a lower layer's header); returns the new data pointer,
 * or NULL (misuse) when len exceeds the headroom. */
uint8_t *skb_push(struct sk_buff *skb, uint32_t len);
/* Remove len bytes from the front (an upper layer taking over); returns the new data pointer, or NULL
 * (misuse) when len exceeds skb->len. */
uint8_t *skb_pull(struct sk_buff *skb, uint32_t len);
/* Cut the data to len bytes (Ethernet padding, for one). A len at or above skb->len changes nothing,
 * as in Linux. */
void skb_trim(struct sk_buff *skb, uint32_t len);
/* Copy `len` bytes to the tail; returns 0 or -EINVAL when they do not fit (misuse). */
int skb_put_data(struct sk_buff *skb, const void *src, uint32_t len);

/* Header offsets: set from the current data pointer, read back as pointers. */
static inline void skb_reset_mac_header(struct sk_buff *skb)
{
	skb->mac_header = (uint16_t)(skb->data - skb->head);
}
static inline void skb_reset_network_header(struct sk_buff *skb)
{
	skb->network_header = (uint16_t)(skb->data - skb->head);
}
static inline void skb_reset_transport_header(struct sk_buff *skb)
{
	skb->transport_header = (uint16_t)(skb->data - skb->head);
}
static inline uint8_t *skb_mac_header(const struct sk_buff *skb)
{
	return skb->mac_header == SKB_HDR_UNSET ? NULL : skb->head + skb->mac_header;
}
static inline uint8_t *skb_network_header(const struct sk_buff *skb)
{
	return skb->network_header == SKB_HDR_UNSET ? NULL : skb->head + skb->network_header;
}
static inline uint8_t *skb_transport_header(const struct sk_buff *skb)
{
	return skb->transport_header == SKB_HDR_UNSET ? NULL : skb->head + skb->transport_header;
}

/* ---- queues ---- */

/* A doubly linked list of skbs with its length and byte count (the sum of skb->len at enqueue time;
 * do not change the length of a queued skb). An skb is on at most one queue at a time. */
struct skb_queue {
	struct sk_buff *head;
	struct sk_buff *tail;
	uint32_t len;	/* skbs */
	uint64_t bytes; /* sum of their len */
};

void skb_queue_init(struct skb_queue *q);
static inline bool skb_queue_empty(const struct skb_queue *q)
{
	return q->head == NULL;
}
static inline struct sk_buff *skb_peek(const struct skb_queue *q)
{
	return q->head;
}
static inline struct sk_buff *skb_peek_tail(const struct skb_queue *q)
{
	return q->tail;
}
/* Enqueue at the tail (FIFO order) or at the head. The queue takes the skb; an skb that is already
 * on a queue is misuse and is not added (-EINVAL). */
int skb_queue_tail(struct skb_queue *q, struct sk_buff *skb);
int skb_queue_head(struct skb_queue *q, struct sk_buff *skb);
/* Insert skb right after `prev`, which is on q (prev NULL: at the head). For ordered queues. */
int skb_queue_insert_after(struct skb_queue *q, struct sk_buff *prev, struct sk_buff *skb);
/* Take from the head or from the tail; NULL when empty. The caller owns the result. */
struct sk_buff *skb_dequeue(struct skb_queue *q);
struct sk_buff *skb_dequeue_tail(struct skb_queue *q);
/* Take a given skb off q (it must be on q; one on no queue is misuse and left alone). */
void skb_unlink(struct skb_queue *q, struct sk_buff *skb);
/* Move every skb of `from` to the tail (splice) or the head (splice_head) of `to`, in order; `from`
 * is left empty. O(1). */
void skb_queue_splice(struct skb_queue *from, struct skb_queue *to);
void skb_queue_splice_head(struct skb_queue *from, struct skb_queue *to);
/* Free every skb on q; q is left empty. Returns how many were freed. */
uint32_t skb_queue_purge(struct skb_queue *q);

#ifdef __cplusplus
}
#endif

#endif
