/*
 * skb.c - packet buffers: the pool, allocation and release, clones and copies, moving the data
 * window, and queues.
 *
 * A pool hands out descriptors (struct sk_buff) and data buffers. Data buffers of up to
 * SKB_SMALL_BUF bytes (a full Ethernet frame plus headroom) come from a free list and return to it;
 * larger ones (GSO frames, 64 KB UDP datagrams) are allocated to size. Freed descriptors are cached
 * too, so the steady state of a busy stack does no malloc at all. Limits on descriptors and data bytes
 * make exhaustion a NULL return, never unbounded growth.
 */
#include "ustack/skb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"

/* Data buffers up to this size, shared info included, come from the pool's free list. */
#define SKB_SMALL_BUF 2048u
/* The largest buffer skb_alloc hands out. */
#define SKB_MAX_ALLOC (1u << 30)

struct skb_free_node {
	struct skb_free_node *next;
};

struct skb_pool {
	struct skb_pool_config cfg;
	struct skb_pool_stats st;
	struct skb_free_node *free_skbs; /* cached descriptors */
	uint32_t n_free_skbs;
	struct skb_free_node *free_bufs; /* cached small data buffers */
	uint32_t n_free_bufs;
};

static void skb_misuse(struct skb_pool *pool, const char *what)
{
	pool->st.misuse++;
	US_BUG(what);
	(void)what;
}

struct skb_pool *skb_pool_create(const struct skb_pool_config *cfg)
{
	struct skb_pool *pool = calloc(1, sizeof(*pool));

	if (!pool) {
		errno = ENOMEM;
		return NULL;
	}
	if (cfg)
		pool->cfg = *cfg;
	if (!pool->cfg.max_skbs)
		pool->cfg.max_skbs = 65536;
	if (!pool->cfg.max_data_bytes)
		pool->cfg.max_data_bytes = 256ull << 20;
	if (!pool->cfg.cache_max)
		pool->cfg.cache_max = 1024;
	return pool;
}

uint64_t skb_pool_destroy(struct skb_pool *pool)
{
	uint64_t left;

	if (!pool)
		return 0;
	while (pool->free_skbs) {
		struct skb_free_node *n = pool->free_skbs;
		pool->free_skbs = n->next;
		free(n);
	}
	while (pool->free_bufs) {
		struct skb_free_node *n = pool->free_bufs;
		pool->free_bufs = n->next;
		free(n);
	}
	left = pool->st.in_use;
	free(pool);
	return left;
}

void skb_pool_get_stats(const struct skb_pool *pool, struct skb_pool_stats *out)
{
	*out = pool->st;
}

uint64_t skb_pool_in_use(const struct skb_pool *pool)
{
	return pool->st.in_use;
}

/* Bytes a data buffer for `size` usable bytes occupies: the size rounded up so that the shared info
 * that follows is aligned, plus the shared info. */
static size_t skb_buf_bytes(uint32_t size)
{
	size_t usable = ((size_t)size + 7u) & ~(size_t)7u;

	return usable + sizeof(struct skb_shared_info);
}

static struct sk_buff *skb_desc_get(struct skb_pool *pool)
{
	struct sk_buff *skb;

	if (pool->st.in_use >= pool->cfg.max_skbs) {
		pool->st.alloc_failures++;
		return NULL;
	}
	if (pool->free_skbs) {
		skb = (struct sk_buff *)(void *)pool->free_skbs;
		pool->free_skbs = pool->free_skbs->next;
		pool->n_free_skbs--;
	} else {
		skb = malloc(sizeof(*skb));
		if (!skb) {
			pool->st.alloc_failures++;
			return NULL;
		}
	}
	memset(skb, 0, sizeof(*skb));
	skb->pool = pool;
	skb->mac_header = SKB_HDR_UNSET;
	skb->network_header = SKB_HDR_UNSET;
	skb->transport_header = SKB_HDR_UNSET;
	pool->st.allocated++;
	pool->st.in_use++;
	if (pool->st.in_use > pool->st.peak)
		pool->st.peak = pool->st.in_use;
	return skb;
}

static void skb_desc_put(struct skb_pool *pool, struct sk_buff *skb)
{
	pool->st.freed++;
	pool->st.in_use--;
	if (pool->n_free_skbs < pool->cfg.cache_max) {
		struct skb_free_node *n = (struct skb_free_node *)(void *)skb;
		n->next = pool->free_skbs;
		pool->free_skbs = n;
		pool->n_free_skbs++;
	} else {
		free(skb);
	}
}

/* A data buffer with `size` usable bytes and its shared info initialised; NULL when over the limit. */
static uint8_t *skb_buf_get(struct skb_pool *pool, uint32_t size)
{
	size_t bytes = skb_buf_bytes(size);
	uint8_t *buf;

	if (bytes <= SKB_SMALL_BUF)
		bytes = SKB_SMALL_BUF;
	if (pool->st.data_bytes + bytes > pool->cfg.max_data_bytes)
		return NULL;
	if (bytes == SKB_SMALL_BUF && pool->free_bufs) {
		buf = (uint8_t *)pool->free_bufs;
		pool->free_bufs = pool->free_bufs->next;
		pool->n_free_bufs--;
	} else {
		buf = malloc(bytes);
		if (!buf)
			return NULL;
	}
	pool->st.data_bytes += bytes;
	return buf;
}

static void skb_buf_put(struct skb_pool *pool, uint8_t *head, size_t bytes)
{
	if (bytes <= SKB_SMALL_BUF)
		bytes = SKB_SMALL_BUF;
	pool->st.data_bytes -= bytes;
	if (bytes == SKB_SMALL_BUF && pool->n_free_bufs < pool->cfg.cache_max) {
		struct skb_free_node *n = (struct skb_free_node *)(void *)head;
		n->next = pool->free_bufs;
		pool->free_bufs = n;
		pool->n_free_bufs++;
	} else {
		free(head);
	}
}

struct sk_buff *skb_alloc(struct skb_pool *pool, uint32_t size)
{
	struct sk_buff *skb;
	struct skb_shared_info *shi;
	uint8_t *buf;

	if (!pool)
		return NULL;
	if (size > SKB_MAX_ALLOC) {
		/* offsets and sizes are 32-bit; nothing the stack sends comes near this */
		pool->st.alloc_failures++;
		return NULL;
	}
	buf = skb_buf_get(pool, size);
	if (!buf) {
		pool->st.alloc_failures++;
		return NULL;
	}
	skb = skb_desc_get(pool);
	if (!skb) {
		skb_buf_put(pool, buf, skb_buf_bytes(size));
		return NULL;
	}
	skb->head = skb->data = skb->tail = buf;
	skb->end = buf + (skb_buf_bytes(size) - sizeof(struct skb_shared_info));
	shi = skb_shinfo(skb);
	memset(shi, 0, sizeof(*shi));
	shi->dataref = 1;
	return skb;
}

void skb_free(struct sk_buff *skb)
{
	struct skb_pool *pool;
	struct skb_shared_info *shi;

	if (!skb)
		return;
	pool = skb->pool;
	if (skb->queued_) {
		skb_misuse(pool, "skb_free of an skb still on a queue");
		return;
	}
	shi = skb_shinfo(skb);
	if (--shi->dataref == 0)
		skb_buf_put(pool, skb->head, (size_t)(skb->end - skb->head) + sizeof(*shi));
	skb_desc_put(pool, skb);
}

struct sk_buff *skb_clone(struct sk_buff *skb)
{
	struct sk_buff *n;

	if (!skb)
		return NULL;
	n = skb_desc_get(skb->pool);
	if (!n)
		return NULL;
	*n = *skb;
	n->next = n->prev = NULL;
	n->queued_ = 0;
	skb_shinfo(skb)->dataref++;
	return n;
}

struct sk_buff *skb_copy(const struct sk_buff *skb)
{
	struct sk_buff *n;
	uint32_t size;

	if (!skb)
		return NULL;
	size = skb_size(skb);
	n = skb_alloc(skb->pool, size);
	if (!n)
		return NULL;
	memcpy(n->head, skb->head, size);
	n->data = n->head + skb_headroom(skb);
	n->tail = n->data + skb->len;
	n->len = skb->len;
	n->dev = skb->dev;
	n->mac_header = skb->mac_header;
	n->network_header = skb->network_header;
	n->transport_header = skb->transport_header;
	n->protocol = skb->protocol;
	n->ip_summed = skb->ip_summed;
	n->csum_start = skb->csum_start;
	n->csum_offset = skb->csum_offset;
	n->tstamp_ns = skb->tstamp_ns;
	n->lat_next = skb->lat_next;
	n->lat_t0_ns = skb->lat_t0_ns;
	n->lat_last_ns = skb->lat_last_ns;
	memcpy(n->cb, skb->cb, sizeof(n->cb));
	skb_shinfo(n)->gso_size = skb_shinfo(skb)->gso_size;
	skb_shinfo(n)->gso_segs = skb_shinfo(skb)->gso_segs;
	skb_shinfo(n)->gso_type = skb_shinfo(skb)->gso_type;
	return n;
}

bool skb_cloned(const struct sk_buff *skb)
{
	return skb_shinfo(skb)->dataref > 1;
}

struct sk_buff *skb_unshare(struct sk_buff *skb)
{
	struct sk_buff *n;

	if (!skb || !skb_cloned(skb))
		return skb;
	n = skb_copy(skb);
	skb_free(skb);
	return n;
}

int skb_reserve(struct sk_buff *skb, uint32_t len)
{
	if (skb->len != 0 || len > skb_tailroom(skb)) {
		skb_misuse(skb->pool, "skb_reserve in a non-empty skb or past the end");
		return -EINVAL;
	}
	skb->data += len;
	skb->tail += len;
	return 0;
}

uint8_t *skb_put(struct sk_buff *skb, uint32_t len)
{
	uint8_t *old = skb->tail;

	if (len > skb_tailroom(skb)) {
		skb_misuse(skb->pool, "skb_put past the end");
		return NULL;
	}
	skb->tail += len;
	skb->len += len;
	return old;
}

int skb_put_data(struct sk_buff *skb, const void *src, uint32_t len)
{
	uint8_t *p = skb_put(skb, len);

	if (!p)
		return -EINVAL;
	if (len)
		memcpy(p, src, len);
	return 0;
}

uint8_t *skb_push(struct sk_buff *skb, uint32_t len)
{
	if (len > skb_headroom(skb)) {
		skb_misuse(skb->pool, "skb_push past the headroom");
		return NULL;
	}
	skb->data -= len;
	skb->len += len;
	return skb->data;
}

uint8_t *skb_pull(struct sk_buff *skb, uint32_t len)
{
	if (len > skb->len) {
		skb_misuse(skb->pool, "skb_pull past the tail");
		return NULL;
	}
	skb->data += len;
	skb->len -= len;
	return skb->data;
}

void skb_trim(struct sk_buff *skb, uint32_t len)
{
	if (len < skb->len) {
		skb->len = len;
		skb->tail = skb->data + len;
	}
}

/* ---- queues ---- */

void skb_queue_init(struct skb_queue *q)
{
	q->head = q->tail = NULL;
	q->len = 0;
	q->bytes = 0;
}

static int skb_queue_check_new(struct sk_buff *skb)
{
	if (skb->queued_) {
		skb_misuse(skb->pool, "skb already on a queue");
		return -EINVAL;
	}
	return 0;
}

static void skb_queue_account(struct skb_queue *q, struct sk_buff *skb)
{
	skb->queued_ = 1;
	q->len++;
	q->bytes += skb->len;
}

int skb_queue_insert_after(struct skb_queue *q, struct sk_buff *prev, struct sk_buff *skb)
{
	if (skb_queue_check_new(skb))
		return -EINVAL;
	skb->prev = prev;
	skb->next = prev ? prev->next : q->head;
	if (skb->next)
		skb->next->prev = skb;
	else
		q->tail = skb;
	if (prev)
		prev->next = skb;
	else
		q->head = skb;
	skb_queue_account(q, skb);
	return 0;
}

int skb_queue_tail(struct skb_queue *q, struct sk_buff *skb)
{
	return skb_queue_insert_after(q, q->tail, skb);
}

int skb_queue_head(struct skb_queue *q, struct sk_buff *skb)
{
	return skb_queue_insert_after(q, NULL, skb);
}

void skb_unlink(struct skb_queue *q, struct sk_buff *skb)
{
	if (!skb->queued_) {
		skb_misuse(skb->pool, "skb_unlink of an skb on no queue");
		return;
	}
	if (skb->prev)
		skb->prev->next = skb->next;
	else
		q->head = skb->next;
	if (skb->next)
		skb->next->prev = skb->prev;
	else
		q->tail = skb->prev;
	skb->next = skb->prev = NULL;
	skb->queued_ = 0;
	q->len--;
	q->bytes -= skb->len;
}

struct sk_buff *skb_dequeue(struct skb_queue *q)
{
	struct sk_buff *skb = q->head;

	if (skb)
		skb_unlink(q, skb);
	return skb;
}

struct sk_buff *skb_dequeue_tail(struct skb_queue *q)
{
	struct sk_buff *skb = q->tail;

	if (skb)
		skb_unlink(q, skb);
	return skb;
}

void skb_queue_splice(struct skb_queue *from, struct skb_queue *to)
{
	if (skb_queue_empty(from))
		return;
	if (to->tail) {
		to->tail->next = from->head;
		from->head->prev = to->tail;
	} else {
		to->head = from->head;
	}
	to->tail = from->tail;
	to->len += from->len;
	to->bytes += from->bytes;
	skb_queue_init(from);
}

void skb_queue_splice_head(struct skb_queue *from, struct skb_queue *to)
{
	if (skb_queue_empty(from))
		return;
	if (to->head) {
		from->tail->next = to->head;
		to->head->prev = from->tail;
	} else {
		to->tail = from->tail;
	}
	to->head = from->head;
	to->len += from->len;
	to->bytes += from->bytes;
	skb_queue_init(from);
}

uint32_t skb_queue_purge(struct skb_queue *q)
{
	uint32_t n = 0;
	struct sk_buff *skb;

	while ((skb = skb_dequeue(q)) != NULL) {
		skb_free(skb);
		n++;
	}
	return n;
}
