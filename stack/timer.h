/*
 * timer.h - the stack's single timer queue: a binary min-heap of deadlines on the stack clock, run
 * from the stack loop. Not a public header.
 *
 * A struct us_timer is embedded in its owner (a connection, the ARP table, ...) and belongs to one
 * queue at a time. The queue never allocates a timer and never frees one; it only holds pointers to
 * them, so an owner must cancel its timer before freeing it, unless the timer is idle. timer_run() is
 * the only place callbacks run; see timer.c for what a callback may do.
 */
#ifndef USTACK_TIMER_H
#define USTACK_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "ustack/clock.h"

/* Values of us_timer.idx that are not heap slots. */
#define TIMER_IDLE UINT32_MAX /* not armed */
#define TIMER_RUNNABLE (UINT32_MAX - 1) /* expired, on the run list, callback not yet called */

struct us_timer;

/* Called by timer_run() with the timer already idle and `now_ns` the time timer_run() was given. */
typedef void (*us_timer_fn)(struct us_timer *t, uint64_t now_ns);

struct us_timer {
	uint64_t expires_ns; /* deadline on the stack clock, nanoseconds */
	uint64_t seq; /* arming order, breaks ties: equal deadlines fire in arming order */
	uint32_t idx; /* heap slot, or TIMER_IDLE / TIMER_RUNNABLE */
	us_timer_fn fn;
	void *arg; /* for the callback's use */
	struct us_timer *next, *prev; /* on the run list while expired but not yet run */
};

struct timer_queue {
	struct us_timer **heap; /* min-heap on (expires_ns, seq); heap[i]->idx == i */
	uint32_t len, cap; /* timers in the heap, slots allocated */
	uint64_t next_seq; /* seq of the next arm */
	struct us_timer *run_head, *run_tail; /* expired, waiting for their callback in timer_run() */
	uint32_t max; /* most timers armed + runnable at once */
	uint32_t run_len; /* timers on the run list */
};

/* An empty queue holding at most `max_timers` timers (0: no limit, UINT32_MAX). Allocates nothing
 * yet; the heap grows by doubling as timers are armed. 0, or -EINVAL if q is NULL. */
int timer_queue_init(struct timer_queue *q, uint32_t max_timers);
/* Frees the heap. Timers still armed or runnable are forgotten: marked idle, their callbacks never
 * called. The queue takes no more timers until it is initialised again. */
void timer_queue_destroy(struct timer_queue *q);

/* An idle timer that will call fn(t, now) when it fires. */
void timer_init(struct us_timer *t, us_timer_fn fn, void *arg);
/* Arm an idle timer, or move an armed or runnable one, to fire at `expires_ns`; O(log n). Either way it
 * now counts as armed last among timers with the same deadline. 0, -ENOMEM if the heap could not grow,
 * -ENOSPC if the queue holds its maximum; on an error the timer stays as it was. -EINVAL for a timer
 * without a callback or armed on another queue (a debug build aborts instead). A deadline of
 * US_TIME_NEVER is armed like any other, and then timer_next_deadline() cannot tell the queue from an
 * empty one: to turn a timer off, cancel it. */
int timer_arm(struct timer_queue *q, struct us_timer *t, uint64_t expires_ns);
/* Disarm a timer, armed or runnable, so that it does not fire; O(log n). An idle timer is left alone. */
void timer_cancel(struct timer_queue *q, struct us_timer *t);
/* True if the timer is armed or runnable. */
bool timer_pending(const struct us_timer *t);
/* The earliest deadline in the queue: US_TIME_NEVER if it is empty, 0 if timers are waiting on the
 * run list (that is, when asked from a callback inside timer_run()). */
uint64_t timer_next_deadline(const struct timer_queue *q);
/* Timers armed or runnable. */
uint32_t timer_count(const struct timer_queue *q);
/* Fire every timer whose deadline is at or before `now_ns`, in deadline order, ties in arming order.
 * Returns how many callbacks ran. Not to be called from a callback. */
uint32_t timer_run(struct timer_queue *q, uint64_t now_ns);

#endif
