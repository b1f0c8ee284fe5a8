/*
 * ring.c - the single-producer single-consumer pointer ring.
 *
 * Indices run freely in 32 bits and are masked on use, so head - tail is the occupancy even across
 * wrap-around and no slot is sacrificed to tell full from empty. Producer and consumer indices live
 * on separate cache lines, and each side keeps a cached copy of the other's index so that the shared
 * line is read only when the cached view says the ring is full (producer) or empty (consumer).
 */
#include "ustack/ring.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>

#define RING_CACHE_LINE 64

struct ring {
	alignas(RING_CACHE_LINE) _Atomic uint32_t head; /* next slot to fill; written by the producer */
	uint32_t cons_cached;				/* producer's last view of tail */
	alignas(RING_CACHE_LINE) _Atomic uint32_t tail; /* next slot to read; written by the consumer */
	uint32_t prod_cached;				/* consumer's last view of head */
	alignas(RING_CACHE_LINE) uint32_t size;
	uint32_t mask;
	void *slots[];
};

struct ring *ring_create(uint32_t size)
{
	struct ring *r;
	size_t bytes;

	if (size < 2 || size > (1u << 30) || (size & (size - 1)) != 0) {
		errno = EINVAL;
		return NULL;
	}
	bytes = sizeof(*r) + (size_t)size * sizeof(void *);
	bytes = (bytes + RING_CACHE_LINE - 1) & ~(size_t)(RING_CACHE_LINE - 1);
	r = aligned_alloc(RING_CACHE_LINE, bytes);
	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->cons_cached = 0;
	r->prod_cached = 0;
	r->size = size;
	r->mask = size - 1;
	return r;
}

void ring_destroy(struct ring *r)
{
	free(r);
}

uint32_t ring_enqueue_burst(struct ring *r, void *const *objs, uint32_t n)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t room = r->size - (head - r->cons_cached);
	uint32_t i;

	if (room < n) {
		r->cons_cached = atomic_load_explicit(&r->tail, memory_order_acquire);
		room = r->size - (head - r->cons_cached);
		if (room < n)
			n = room;
	}
	for (i = 0; i < n; i++)
		r->slots[(head + i) & r->mask] = objs[i];
	atomic_store_explicit(&r->head, head + n, memory_order_release);
	return n;
}

uint32_t ring_enqueue(struct ring *r, void *obj)
{
	return ring_enqueue_burst(r, &obj, 1);
}

uint32_t ring_dequeue_burst(struct ring *r, void **objs, uint32_t n)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t avail = r->prod_cached - tail;
	uint32_t i;

	if (avail < n) {
		r->prod_cached = atomic_load_explicit(&r->head, memory_order_acquire);
		avail = r->prod_cached - tail;
		if (avail < n)
			n = avail;
	}
	for (i = 0; i < n; i++)
		objs[i] = r->slots[(tail + i) & r->mask];
	atomic_store_explicit(&r->tail, tail + n, memory_order_release);
	return n;
}

void *ring_dequeue(struct ring *r)
{
	void *obj = NULL;

	ring_dequeue_burst(r, &obj, 1);
	return obj;
}

uint32_t ring_count(const struct ring *r)
{
	struct ring *rw = (struct ring *)r;
	/* tail first: it never passes head, so a head read afterwards is at least as far on */
	uint32_t tail = atomic_load_explicit(&rw->tail, memory_order_acquire);
	uint32_t head = atomic_load_explicit(&rw->head, memory_order_acquire);

	return head - tail;
}

uint32_t ring_free_count(const struct ring *r)
{
	return r->size - ring_count(r);
}

uint32_t ring_capacity(const struct ring *r)
{
	return r->size;
}
