/*
 * timer.c - the stack's timer queue: a binary min-heap of armed timers ordered by (expires_ns, seq),
 * and a run list of timers that have expired but whose callbacks have not yet been called.
 *
 * A timer is in one of three states, kept in t->idx: idle (TIMER_IDLE), armed (its slot in the heap,
 * which every heap move keeps in sync), or runnable (TIMER_RUNNABLE, on the run list). Arming takes the
 * next q->next_seq, so of two timers with the same deadline the one armed (or re-armed) first fires
 * first. Arm, re-arm and cancel are O(log n); removing a timer from the middle of the heap moves the
 * last one into its slot and sifts that one up or down, whichever it needs.
 *
 * timer_run(q, now) works in two passes:
 *  1. Every timer with expires_ns <= now leaves the heap for the tail of the run list, in
 *     (expires_ns, seq) order. A clock that jumped far ahead thus fires everything that expired, in
 *     deadline order, in one call.
 *  2. Timers are popped from the head of the run list one at a time; each is marked idle BEFORE
 *     fn(t, now) is called, and the queue does not touch t after fn returns, so a callback may re-arm
 *     its own timer or free the owner it is embedded in.
 * A callback may arm, re-arm or cancel any timer, including itself and timers still on the run list.
 * Cancelling a runnable timer unlinks it from the run list and it does not fire. Arming a runnable
 * timer unlinks it and puts it in the heap with its new deadline. A timer armed during timer_run()
 * goes into the heap even when its deadline is <= now, so it fires at the next call and not in this
 * one: a callback that re-arms itself at `now` fires once per call instead of looping forever.
 *
 * The queue allocates nothing but the heap array, which starts at TIMER_HEAP_MIN slots and doubles,
 * up to the queue's maximum. Nothing here reads the clock; the caller passes the time in.
 */
#include "timer.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "debug.h"

/* Slots in the heap's first allocation. */
#define TIMER_HEAP_MIN 16u
/* Heap slots must stay below the markers, so no queue holds more timers than this, whatever its max. */
#define TIMER_LIMIT TIMER_RUNNABLE

int timer_queue_init(struct timer_queue *q, uint32_t max_timers)
{
	if (!q)
		return -EINVAL;
	memset(q, 0, sizeof(*q));
	q->max = max_timers ? max_timers : UINT32_MAX;
	return 0;
}

void timer_queue_destroy(struct timer_queue *q)
{
	struct us_timer *t, *next;

	if (!q)
		return;
	for (uint32_t i = 0; i < q->len; i++)
		q->heap[i]->idx = TIMER_IDLE;
	for (t = q->run_head; t; t = next) {
		next = t->next;
		t->idx = TIMER_IDLE;
		t->next = t->prev = NULL;
	}
	free(q->heap);
	/* max 0 here means "full": a destroyed queue refuses timers until it is initialised again. */
	memset(q, 0, sizeof(*q));
}

void timer_init(struct us_timer *t, us_timer_fn fn, void *arg)
{
	t->expires_ns = US_TIME_NEVER;
	t->seq = 0;
	t->idx = TIMER_IDLE;
	t->fn = fn;
	t->arg = arg;
	t->next = t->prev = NULL;
}

bool timer_pending(const struct us_timer *t)
{
	return t->idx != TIMER_IDLE;
}

uint32_t timer_count(const struct timer_queue *q)
{
	return q->len + q->run_len;
}

uint64_t timer_next_deadline(const struct timer_queue *q)
{
	if (q->run_head)
		return 0;
	return q->len ? q->heap[0]->expires_ns : US_TIME_NEVER;
}

/* ---- the heap ---- */

/* Does a fire before b? Earlier deadline first, then earlier arming. */
static bool timer_before(const struct us_timer *a, const struct us_timer *b)
{
	if (a->expires_ns != b->expires_ns)
		return a->expires_ns < b->expires_ns;
	return a->seq < b->seq;
}

static void heap_place(struct timer_queue *q, uint32_t i, struct us_timer *t)
{
	q->heap[i] = t;
	t->idx = i;
}

/* Move the timer in slot i towards the root until its parent fires before it. */
static void heap_sift_up(struct timer_queue *q, uint32_t i)
{
	struct us_timer *t = q->heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!timer_before(t, q->heap[parent]))
			break;
		heap_place(q, i, q->heap[parent]);
		i = parent;
	}
	heap_place(q, i, t);
}

/* Move the timer in slot i towards the leaves until it fires before both children. */
static void heap_sift_down(struct timer_queue *q, uint32_t i)
{
	struct us_timer *t = q->heap[i];

	for (;;) {
		/* 64-bit: 2i + 1 overflows 32 bits for slots past 2^31. */
		uint64_t c = 2 * (uint64_t)i + 1;

		if (c >= q->len)
			break;
		if (c + 1 < q->len && timer_before(q->heap[c + 1], q->heap[c]))
			c++;
		if (!timer_before(q->heap[c], t))
			break;
		heap_place(q, i, q->heap[c]);
		i = (uint32_t)c;
	}
	heap_place(q, i, t);
}

/* Restore the heap order around slot i after its timer changed or was replaced. */
static void heap_fix(struct timer_queue *q, uint32_t i)
{
	if (i > 0 && timer_before(q->heap[i], q->heap[(i - 1) / 2]))
		heap_sift_up(q, i);
	else
		heap_sift_down(q, i);
}

static void heap_remove(struct timer_queue *q, struct us_timer *t)
{
	uint32_t i = t->idx;
	struct us_timer *last = q->heap[--q->len];

	if (last != t) {
		heap_place(q, i, last);
		heap_fix(q, i);
	}
	t->idx = TIMER_IDLE;
}

/* Room for one more timer in the heap. The callers have checked the queue's limit, so len < max and
 * the grown array never needs more than max slots. */
static int heap_reserve(struct timer_queue *q)
{
	uint64_t cap;
	struct us_timer **heap;

	if (q->len < q->cap)
		return 0;
	cap = q->cap ? 2 * (uint64_t)q->cap : TIMER_HEAP_MIN;
	if (cap > q->max)
		cap = q->max;
	if (cap > TIMER_LIMIT)
		cap = TIMER_LIMIT;
	if (cap > SIZE_MAX / sizeof(*heap))
		return -ENOMEM;
	heap = realloc(q->heap, (size_t)cap * sizeof(*heap));
	if (!heap)
		return -ENOMEM;
	q->heap = heap;
	q->cap = (uint32_t)cap;
	return 0;
}

/* ---- the run list ---- */

static void run_append(struct timer_queue *q, struct us_timer *t)
{
	t->idx = TIMER_RUNNABLE;
	t->next = NULL;
	t->prev = q->run_tail;
	if (q->run_tail)
		q->run_tail->next = t;
	else
		q->run_head = t;
	q->run_tail = t;
	q->run_len++;
}

static void run_unlink(struct timer_queue *q, struct us_timer *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		q->run_head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		q->run_tail = t->prev;
	t->next = t->prev = NULL;
	t->idx = TIMER_IDLE;
	q->run_len--;
}

/* A timer without a callback, or one whose slot says it is in a heap other than q's (armed on another
 * queue, or copied while armed). A runnable timer's list cannot be checked cheaply. */
static bool timer_misused(const struct timer_queue *q, const struct us_timer *t)
{
	if (!t->fn)
		return true;
	if (t->idx < TIMER_RUNNABLE && (t->idx >= q->len || q->heap[t->idx] != t))
		return true;
	return false;
}

int timer_arm(struct timer_queue *q, struct us_timer *t, uint64_t expires_ns)
{
	int err;

	if (timer_misused(q, t)) {
		US_BUG("timer without a callback or armed on another queue");
		return -EINVAL;
	}
	if (t->idx == TIMER_IDLE) {
		if (timer_count(q) >= q->max || timer_count(q) >= TIMER_LIMIT)
			return -ENOSPC;
		err = heap_reserve(q);
		if (err)
			return err;
		t->expires_ns = expires_ns;
		t->seq = q->next_seq++;
		q->heap[q->len++] = t;
		heap_sift_up(q, q->len - 1);
		return 0;
	}
	if (t->idx == TIMER_RUNNABLE) {
		/* Grow first: on -ENOMEM the timer is still runnable and will fire as it would have. */
		err = heap_reserve(q);
		if (err)
			return err;
		run_unlink(q, t);
		t->expires_ns = expires_ns;
		t->seq = q->next_seq++;
		q->heap[q->len++] = t;
		heap_sift_up(q, q->len - 1);
		return 0;
	}
	/* Already in the heap: its key changes in place. The new seq is the largest, so it can only move
	 * down for an equal or later deadline, up for an earlier one. */
	t->expires_ns = expires_ns;
	t->seq = q->next_seq++;
	heap_fix(q, t->idx);
	return 0;
}

void timer_cancel(struct timer_queue *q, struct us_timer *t)
{
	if (t->idx == TIMER_IDLE)
		return;
	if (t->idx == TIMER_RUNNABLE) {
		run_unlink(q, t);
		return;
	}
	if (timer_misused(q, t)) {
		US_BUG("timer armed on another queue");
		return;
	}
	heap_remove(q, t);
}

uint32_t timer_run(struct timer_queue *q, uint64_t now_ns)
{
	struct us_timer *t;
	uint32_t ran = 0;

	/* Pass 1: take everything that is due now, before any callback can arm something new, so that what
	 * callbacks arm waits for the next call however early its deadline. */
	while (q->len && q->heap[0]->expires_ns <= now_ns) {
		t = q->heap[0];
		heap_remove(q, t);
		run_append(q, t);
	}
	/* Pass 2: callbacks may change the run list under us, so always take its current head. */
	while ((t = q->run_head)) {
		run_unlink(q, t);
		t->fn(t, now_ns);
		ran++;
	}
	return ran;
}
