/*
 * ring.h - a single-producer single-consumer ring of pointers (skbs, in practice).
 *
 * The size is a power of two and every slot is usable. One thread enqueues and one thread dequeues,
 * lock-free: the producer publishes slots with a release store of its index and the consumer reads
 * them after an acquire load, so an skb handed through a ring is fully visible on the other side.
 *
 * Full and empty are not errors: enqueue takes as many pointers as there is room for and returns how
 * many it took (the caller still owns the rest); dequeue returns how many it gave (0 when empty).
 */
#ifndef USTACK_RING_H
#define USTACK_RING_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ring;

/* A ring of `size` slots; size must be a power of two between 2 and 2^30. NULL with errno EINVAL or
 * ENOMEM. */
struct ring *ring_create(uint32_t size);
/* Free the ring itself; pointers still in it are the caller's to drain first. NULL is a no-op. */
void ring_destroy(struct ring *r);

/* Producer side: enqueue up to n pointers in order; returns how many were enqueued (0..n). */
uint32_t ring_enqueue_burst(struct ring *r, void *const *objs, uint32_t n);
/* Producer side: enqueue one pointer; returns 1, or 0 when the ring is full. */
uint32_t ring_enqueue(struct ring *r, void *obj);
/* Consumer side: dequeue up to n pointers in order; returns how many were dequeued (0..n). */
uint32_t ring_dequeue_burst(struct ring *r, void **objs, uint32_t n);
/* Consumer side: the next pointer, or NULL when the ring is empty. */
void *ring_dequeue(struct ring *r);

/* Occupancy. Exact when called from the producer or consumer thread with the other idle; otherwise a
 * snapshot that may already be out of date. */
uint32_t ring_count(const struct ring *r);
uint32_t ring_free_count(const struct ring *r);
uint32_t ring_capacity(const struct ring *r);

#ifdef __cplusplus
}
#endif

#endif
