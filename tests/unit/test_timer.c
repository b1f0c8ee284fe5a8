/*
 * test_timer.c - the timer queue: arming, cancelling and counting, the earliest deadline, firing order
 * (ties in arming order), a 100,000-timer run with cancels and re-arms midway, callbacks that arm and
 * cancel timers (their own, and others still waiting to run), clock jumps, the size limit, tearing down
 * a queue with timers armed, and misuse.
 *
 * Every callback checks that its timer is idle when it is called and logs which timer fired and when.
 * t_check_heap() walks the heap and the run list and checks every invariant the queue relies on.
 *
 * Misuse tests follow test_skb.c: one body, which a debug build must die in (SIGABRT) and a release
 * build must pass.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "timer.h"

#define T_MS US_NSEC_PER_MSEC
#define T_SEC US_NSEC_PER_SEC
#define T_LOG_MAX 64

struct t_ctx;

/* A timer embedded in its owner, as a connection would embed one. */
struct t_tm {
	struct us_timer t;
	int id;
	struct t_ctx *ctx;
};

/* What one test's callbacks share: the queue, a log of firings, and the timers they act on. */
struct t_ctx {
	struct timer_queue q;
	uint32_t n; /* callbacks logged */
	int ids[T_LOG_MAX];
	uint64_t at[T_LOG_MAX]; /* `now` each callback was given */
	struct t_tm *tm; /* the test's timers, by id */
	struct t_tm *freed; /* a malloc'd timer that a callback cancels and frees */
};

/* A fixed-seed generator, so that every run arms the same timers. */
static uint64_t t_xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static bool t_before(const struct us_timer *a, const struct us_timer *b)
{
	return a->expires_ns < b->expires_ns || (a->expires_ns == b->expires_ns && a->seq < b->seq);
}

/* The heap is ordered, every slot index is in sync, and the run list is linked both ways, marked
 * runnable, and as long as the queue says. */
static void t_check_heap(const struct timer_queue *q)
{
	const struct us_timer *t, *prev = NULL;
	uint32_t n = 0;

	ck_assert_uint_le(q->len, q->cap);
	for (uint32_t i = 0; i < q->len; i++) {
		ck_assert_uint_eq(q->heap[i]->idx, i);
		if (i > 0)
			ck_assert(!t_before(q->heap[i], q->heap[(i - 1) / 2]));
	}
	for (t = q->run_head; t; prev = t, t = t->next, n++) {
		ck_assert_uint_eq(t->idx, TIMER_RUNNABLE);
		ck_assert_ptr_eq(t->prev, prev);
	}
	ck_assert_ptr_eq(q->run_tail, prev);
	ck_assert_uint_eq(q->run_len, n);
	ck_assert_uint_eq(timer_count(q), q->len + n);
}

static void t_log(struct t_tm *m, uint64_t now)
{
	struct t_ctx *c = m->ctx;

	ck_assert(!timer_pending(&m->t));
	ck_assert_uint_eq(m->t.idx, TIMER_IDLE);
	ck_assert_uint_le(m->t.expires_ns, now);
	ck_assert_uint_lt(c->n, T_LOG_MAX);
	c->ids[c->n] = m->id;
	c->at[c->n] = now;
	c->n++;
}

/* The plain callback: log and nothing else. */
static void t_fire(struct us_timer *t, uint64_t now)
{
	t_log(t->arg, now);
}

static void t_tm_init(struct t_ctx *c, struct t_tm *m, int id, us_timer_fn fn)
{
	m->id = id;
	m->ctx = c;
	timer_init(&m->t, fn, m);
}

/* Timers 0 .. n-1 of tm[], each with callback fn, logging into c. */
static void t_ctx_init(struct t_ctx *c, struct t_tm *tm, int n, uint32_t max, us_timer_fn fn)
{
	memset(c, 0, sizeof(*c));
	ck_assert_int_eq(timer_queue_init(&c->q, max), 0);
	c->tm = tm;
	for (int i = 0; i < n; i++)
		t_tm_init(c, &tm[i], i, fn);
}

static void t_assert_log(const struct t_ctx *c, const int *ids, uint32_t n)
{
	ck_assert_uint_eq(c->n, n);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_msg(c->ids[i] == ids[i], "firing %u: timer %d, expected %d", i, c->ids[i], ids[i]);
}

/* Arming makes a timer pending and counted, cancelling undoes it, re-arming does not count twice. */
START_TEST(test_timer_basics)
{
	struct t_ctx c;
	struct t_tm tm[3];

	ck_assert_int_eq(timer_queue_init(NULL, 0), -EINVAL);
	t_ctx_init(&c, tm, 3, 0, t_fire);
	ck_assert_uint_eq(c.q.max, UINT32_MAX);
	ck_assert_uint_eq(timer_count(&c.q), 0);
	ck_assert(!timer_pending(&tm[0].t));
	ck_assert_uint_eq(tm[0].t.idx, TIMER_IDLE);
	ck_assert_ptr_eq(tm[0].t.arg, &tm[0]);
	ck_assert(tm[0].t.fn == t_fire);

	ck_assert_int_eq(timer_arm(&c.q, &tm[0].t, 100), 0);
	ck_assert(timer_pending(&tm[0].t));
	ck_assert_uint_eq(tm[0].t.expires_ns, 100);
	ck_assert_uint_eq(timer_count(&c.q), 1);
	ck_assert_int_eq(timer_arm(&c.q, &tm[1].t, 200), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[2].t, 50), 0);
	ck_assert_uint_eq(timer_count(&c.q), 3);
	ck_assert_int_eq(timer_arm(&c.q, &tm[0].t, 300), 0);
	ck_assert_uint_eq(tm[0].t.expires_ns, 300);
	ck_assert_uint_eq(timer_count(&c.q), 3);
	t_check_heap(&c.q);

	timer_cancel(&c.q, &tm[1].t);
	ck_assert(!timer_pending(&tm[1].t));
	ck_assert_uint_eq(timer_count(&c.q), 2);
	t_check_heap(&c.q);
	timer_cancel(&c.q, &tm[2].t);
	timer_cancel(&c.q, &tm[0].t);
	ck_assert_uint_eq(timer_count(&c.q), 0);
	ck_assert(!timer_pending(&tm[0].t));
	ck_assert_uint_eq(timer_run(&c.q, UINT64_MAX), 0);
	ck_assert_uint_eq(c.n, 0);
	timer_queue_destroy(&c.q);
}
END_TEST

/* The earliest deadline follows arms, re-arms (earlier and later), cancels and firings. */
START_TEST(test_timer_next_deadline)
{
	struct t_ctx c;
	struct t_tm tm[3];

	t_ctx_init(&c, tm, 3, 0, t_fire);
	ck_assert_uint_eq(timer_next_deadline(&c.q), US_TIME_NEVER);
	ck_assert_int_eq(timer_arm(&c.q, &tm[0].t, 500), 0);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 500);
	ck_assert_int_eq(timer_arm(&c.q, &tm[1].t, 300), 0);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 300);
	ck_assert_int_eq(timer_arm(&c.q, &tm[2].t, 400), 0);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 300);
	timer_cancel(&c.q, &tm[1].t);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 400);
	ck_assert_int_eq(timer_arm(&c.q, &tm[0].t, 100), 0);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 100);
	ck_assert_int_eq(timer_arm(&c.q, &tm[0].t, 1000), 0);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 400);
	t_check_heap(&c.q);

	ck_assert_uint_eq(timer_run(&c.q, 399), 0);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 400);
	ck_assert_uint_eq(timer_run(&c.q, 400), 1);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 1000);
	ck_assert_uint_eq(timer_run(&c.q, 5000), 1);
	ck_assert_uint_eq(timer_next_deadline(&c.q), US_TIME_NEVER);
	timer_queue_destroy(&c.q);
}
END_TEST

/* Timers fire in deadline order, only once due, each at the first timer_run() that reaches it. */
START_TEST(test_timer_order)
{
	static const uint64_t when[] = { 50, 10, 40, 30, 20, 60, 5, 45 };
	static const int first[] = { 6, 1, 4 }, rest[] = { 6, 1, 4, 3, 2, 7, 0, 5 };
	struct t_ctx c;
	struct t_tm tm[8];

	t_ctx_init(&c, tm, 8, 0, t_fire);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(timer_arm(&c.q, &tm[i].t, when[i]), 0);
	t_check_heap(&c.q);
	ck_assert_uint_eq(timer_run(&c.q, 4), 0);
	ck_assert_uint_eq(timer_run(&c.q, 25), 3);
	t_assert_log(&c, first, 3);
	ck_assert_uint_eq(timer_count(&c.q), 5);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 30);
	ck_assert_uint_eq(timer_run(&c.q, 25), 0);
	t_check_heap(&c.q);
	ck_assert_uint_eq(timer_run(&c.q, 1000), 5);
	t_assert_log(&c, rest, 8);
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_uint_eq(c.at[i], 25);
	for (uint32_t i = 3; i < 8; i++)
		ck_assert_uint_eq(c.at[i], 1000);
	ck_assert_uint_eq(timer_count(&c.q), 0);
	timer_queue_destroy(&c.q);
}
END_TEST

/* Equal deadlines fire in arming order, and a re-armed timer counts as armed when it was re-armed. */
START_TEST(test_timer_ties)
{
	static const int want[] = { 4, 2, 0, 3, 1, 5 };
	struct t_ctx c;
	struct t_tm tm[6];

	t_ctx_init(&c, tm, 6, 0, t_fire);
	ck_assert_int_eq(timer_arm(&c.q, &tm[0].t, 100), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[1].t, 100), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[2].t, 100), 0);
	/* Same deadline again: 0 goes behind 2. */
	ck_assert_int_eq(timer_arm(&c.q, &tm[0].t, 100), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[3].t, 100), 0);
	/* From a later deadline down to the tie: behind everything armed before. */
	ck_assert_int_eq(timer_arm(&c.q, &tm[5].t, 900), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[1].t, 100), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[4].t, 50), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[5].t, 100), 0);
	t_check_heap(&c.q);
	ck_assert_uint_eq(timer_run(&c.q, 100), 6);
	t_assert_log(&c, want, 6);
	timer_queue_destroy(&c.q);
}
END_TEST

/* ---- 100,000 timers ---- */

#define T_MANY 100000u

struct t_many;

struct t_rec {
	struct us_timer t;
	struct t_many *m;
	uint64_t want; /* the deadline it must fire at */
	uint32_t fired;
	bool cancelled;
};

struct t_many {
	struct timer_queue q;
	struct t_rec *r;
	uint64_t prev_now; /* `now` of the previous timer_run() */
	uint64_t last_expires, last_seq; /* the previous firing */
	uint32_t fired;
};

static void t_many_fire(struct us_timer *t, uint64_t now)
{
	struct t_rec *r = t->arg;
	struct t_many *m = r->m;

	ck_assert(!timer_pending(t));
	ck_assert(!r->cancelled);
	ck_assert_uint_eq(r->fired, 0);
	ck_assert_uint_eq(t->expires_ns, r->want);
	ck_assert_uint_le(t->expires_ns, now);
	/* Not due at the previous call, so it fired at the first call that reached it. */
	ck_assert_uint_gt(t->expires_ns, m->prev_now);
	if (m->fired) {
		ck_assert_uint_ge(t->expires_ns, m->last_expires);
		if (t->expires_ns == m->last_expires)
			ck_assert_uint_gt(t->seq, m->last_seq);
	}
	m->last_expires = t->expires_ns;
	m->last_seq = t->seq;
	r->fired++;
	m->fired++;
}

/* 100,000 pseudo-random deadlines (many equal, 1 ms apart), fired by many timer_run() calls on an
 * advancing clock; a tenth of the way in, a third of those pending are cancelled and a third re-armed
 * to a new deadline, earlier or later. Each fires exactly once, at its last deadline, in order; the
 * cancelled ones never. */
START_TEST(test_timer_many)
{
	struct t_many *m = calloc(1, sizeof(*m));
	uint64_t seed = 0x9e3779b97f4a7c15ull, t0 = us_clock_now(&t_clock), now;
	uint32_t ran = 0, calls = 0, cancelled = 0, rearmed = 0, fired_before = 0;
	bool midway = false;

	ck_assert_ptr_nonnull(m);
	m->r = calloc(T_MANY, sizeof(*m->r));
	ck_assert_ptr_nonnull(m->r);
	ck_assert_int_eq(timer_queue_init(&m->q, 0), 0);
	for (uint32_t i = 0; i < T_MANY; i++) {
		struct t_rec *r = &m->r[i];

		r->m = m;
		r->want = t0 + (t_xorshift(&seed) % 10000) * T_MS;
		timer_init(&r->t, t_many_fire, r);
		ck_assert_int_eq(timer_arm(&m->q, &r->t, r->want), 0);
	}
	ck_assert_uint_eq(timer_count(&m->q), T_MANY);
	t_check_heap(&m->q);
	m->prev_now = t0 - 1;

	while (timer_count(&m->q) > 0) {
		ck_assert_int_eq(us_clock_advance(&t_clock, 1 + t_xorshift(&seed) % (3 * T_MS)), 0);
		now = us_clock_now(&t_clock);
		ran += timer_run(&m->q, now);
		m->prev_now = now;
		calls++;
		if (calls % 512 == 0)
			t_check_heap(&m->q);
		if (!midway && now >= t0 + 1 * T_SEC) {
			midway = true;
			fired_before = m->fired;
			for (uint32_t i = 0; i < T_MANY; i++) {
				struct t_rec *r = &m->r[i];

				if (!timer_pending(&r->t))
					continue;
				switch (t_xorshift(&seed) % 3) {
				case 0:
					timer_cancel(&m->q, &r->t);
					r->cancelled = true;
					cancelled++;
					break;
				case 1:
					r->want = now + (1 + t_xorshift(&seed) % 10000) * T_MS;
					ck_assert_int_eq(timer_arm(&m->q, &r->t, r->want), 0);
					rearmed++;
					break;
				}
			}
			t_check_heap(&m->q);
		}
	}
	ck_assert(midway);
	ck_assert_uint_gt(calls, 3000);
	ck_assert_uint_gt(fired_before, T_MANY / 20);
	ck_assert_uint_gt(cancelled, T_MANY / 4);
	ck_assert_uint_gt(rearmed, T_MANY / 4);
	ck_assert_uint_eq(ran, m->fired);
	ck_assert_uint_eq(m->fired, T_MANY - cancelled);
	for (uint32_t i = 0; i < T_MANY; i++)
		ck_assert_uint_eq(m->r[i].fired, m->r[i].cancelled ? 0 : 1);
	ck_assert_uint_eq(timer_next_deadline(&m->q), US_TIME_NEVER);
	timer_queue_destroy(&m->q);
	free(m->r);
	free(m);
}
END_TEST

/* ---- callbacks that act on timers ---- */

enum { T_A, T_B, T_C, T_D, T_E, T_F, T_G, T_H, T_N };

/* A cancels C (still on the run list) and frees it, moves D from the run list to the heap at a deadline
 * already past, cancels F in the heap, and arms the idle G at `now`. B re-arms itself. E cancels itself
 * (idle by then: a no-op) and moves B, now in the heap. H frees the owner it is embedded in. */
static void t_script_fire(struct us_timer *t, uint64_t now)
{
	struct t_tm *m = t->arg;
	struct t_ctx *c = m->ctx;
	struct t_tm *tm = c->tm;

	t_log(m, now);
	switch (m->id) {
	case T_A:
		ck_assert_uint_eq(c->freed->t.idx, TIMER_RUNNABLE);
		timer_cancel(&c->q, &c->freed->t);
		ck_assert(!timer_pending(&c->freed->t));
		free(c->freed);
		c->freed = NULL;
		ck_assert_uint_eq(tm[T_D].t.idx, TIMER_RUNNABLE);
		ck_assert_int_eq(timer_arm(&c->q, &tm[T_D].t, now - 1), 0);
		ck_assert_uint_lt(tm[T_D].t.idx, TIMER_RUNNABLE);
		timer_cancel(&c->q, &tm[T_F].t);
		ck_assert(!timer_pending(&tm[T_F].t));
		ck_assert_int_eq(timer_arm(&c->q, &tm[T_G].t, now), 0);
		/* B, E and H still wait on the run list; D and G are in the heap. */
		ck_assert_uint_eq(timer_next_deadline(&c->q), 0);
		ck_assert_uint_eq(timer_count(&c->q), 5);
		t_check_heap(&c->q);
		break;
	case T_B:
		if (c->n == 2) /* the first time only */
			ck_assert_int_eq(timer_arm(&c->q, t, now + 10), 0);
		break;
	case T_E:
		timer_cancel(&c->q, t);
		ck_assert_int_eq(timer_arm(&c->q, &tm[T_B].t, now + 20), 0);
		break;
	case T_H:
		free(m);
		break;
	}
}

/* Callbacks re-arm and cancel their own timer and others, in the heap or still on the run list; what
 * they cancel never fires, what they arm waits for the next call, and what they free is not touched. */
START_TEST(test_timer_callbacks)
{
	static const int first[] = { T_A, T_B, T_E, T_H }, all[] = { T_A, T_B, T_E, T_H, T_D, T_G, T_B };
	struct t_ctx c;
	struct t_tm tm[T_N];
	struct t_tm *h = malloc(sizeof(*h));

	ck_assert_ptr_nonnull(h);
	t_ctx_init(&c, tm, T_N, 0, t_script_fire);
	c.freed = malloc(sizeof(*c.freed));
	ck_assert_ptr_nonnull(c.freed);
	t_tm_init(&c, c.freed, T_C, t_script_fire);
	t_tm_init(&c, h, T_H, t_script_fire);
	ck_assert_int_eq(timer_arm(&c.q, &tm[T_A].t, 10), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[T_B].t, 20), 0);
	ck_assert_int_eq(timer_arm(&c.q, &c.freed->t, 30), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[T_D].t, 40), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[T_E].t, 50), 0);
	ck_assert_int_eq(timer_arm(&c.q, &h->t, 55), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[T_F].t, 100), 0);

	ck_assert_uint_eq(timer_run(&c.q, 60), 4);
	t_assert_log(&c, first, 4);
	ck_assert_ptr_null(c.freed);
	ck_assert_uint_eq(timer_count(&c.q), 3);
	ck_assert_uint_eq(tm[T_B].t.expires_ns, 80);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 59);
	t_check_heap(&c.q);

	ck_assert_uint_eq(timer_run(&c.q, 100), 3);
	t_assert_log(&c, all, 7);
	ck_assert_uint_eq(timer_count(&c.q), 0);
	ck_assert(!timer_pending(&tm[T_F].t));
	timer_queue_destroy(&c.q);
}
END_TEST

static void t_rearm_now(struct us_timer *t, uint64_t now)
{
	struct t_tm *m = t->arg;

	t_log(m, now);
	ck_assert_int_eq(timer_arm(&m->ctx->q, t, now), 0);
	ck_assert(timer_pending(t));
}

/* A callback that re-arms itself at `now` fires once per timer_run() call, not in a loop. */
START_TEST(test_timer_rearm_now)
{
	static const int want[] = { 0, 1, 0, 1, 0, 1, 0, 1, 2, 0, 1 };
	struct t_ctx c;
	struct t_tm tm[3];

	t_ctx_init(&c, tm, 3, 0, t_rearm_now);
	tm[2].t.fn = t_fire;
	ck_assert_int_eq(timer_arm(&c.q, &tm[0].t, 10), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[1].t, 10), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[2].t, 15), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(timer_run(&c.q, 10), 2);
		ck_assert_uint_eq(timer_next_deadline(&c.q), 10);
	}
	/* Re-armed at 10, before 2's deadline of 15: they fire first. */
	ck_assert_uint_eq(timer_run(&c.q, 20), 3);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 20);
	ck_assert_uint_eq(timer_run(&c.q, 20), 2);
	t_assert_log(&c, want, 11);
	ck_assert_uint_eq(c.at[10], 20);
	ck_assert_uint_eq(timer_count(&c.q), 2);
	timer_queue_destroy(&c.q);
	ck_assert(!timer_pending(&tm[0].t));
	ck_assert(!timer_pending(&tm[1].t));
}
END_TEST

/* A clock that jumps 10^6 seconds fires everything now due, in deadline order, in one call; a timer
 * past the jump stays armed. */
START_TEST(test_timer_clock_jump)
{
	const uint32_t n = 10000;
	const uint64_t jump = 1000000 * T_SEC;
	struct t_many *m = calloc(1, sizeof(*m));
	uint64_t seed = 42, t0 = us_clock_now(&t_clock), now;

	ck_assert_ptr_nonnull(m);
	m->r = calloc(n + 2, sizeof(*m->r));
	ck_assert_ptr_nonnull(m->r);
	ck_assert_int_eq(timer_queue_init(&m->q, 0), 0);
	for (uint32_t i = 0; i < n + 2; i++) {
		struct t_rec *r = &m->r[i];

		r->m = m;
		if (i == n)
			r->want = t0 + jump; /* exactly at the new time: due */
		else if (i == n + 1)
			r->want = t0 + jump + 1; /* just after it */
		else
			r->want = t0 + 1 + t_xorshift(&seed) % jump;
		timer_init(&r->t, t_many_fire, r);
		ck_assert_int_eq(timer_arm(&m->q, &r->t, r->want), 0);
	}
	m->prev_now = t0;
	ck_assert_uint_eq(timer_run(&m->q, t0), 0);
	ck_assert_int_eq(us_clock_advance(&t_clock, jump), 0);
	now = us_clock_now(&t_clock);
	ck_assert_uint_eq(timer_run(&m->q, now), n + 1);
	ck_assert_uint_eq(m->fired, n + 1);
	ck_assert_uint_eq(m->last_expires, t0 + jump);
	ck_assert_uint_eq(timer_count(&m->q), 1);
	ck_assert(timer_pending(&m->r[n + 1].t));
	ck_assert_uint_eq(timer_next_deadline(&m->q), t0 + jump + 1);
	timer_queue_destroy(&m->q);
	free(m->r);
	free(m);
}
END_TEST

/* ---- limits ---- */

/* A full queue refuses a new timer with -ENOSPC and leaves it idle, but still re-arms its own; the heap
 * never grows past the limit. */
START_TEST(test_timer_max)
{
	struct t_ctx c;
	struct t_tm tm[21];

	t_ctx_init(&c, tm, 21, 3, t_fire);
	ck_assert_int_eq(timer_arm(&c.q, &tm[0].t, 10), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[1].t, 20), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[2].t, 30), 0);
	ck_assert_uint_le(c.q.cap, 3);
	ck_assert_int_eq(timer_arm(&c.q, &tm[3].t, 5), -ENOSPC);
	ck_assert(!timer_pending(&tm[3].t));
	ck_assert_uint_eq(tm[3].t.expires_ns, US_TIME_NEVER);
	ck_assert_uint_eq(timer_count(&c.q), 3);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 10);
	ck_assert_int_eq(timer_arm(&c.q, &tm[1].t, 1), 0);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 1);
	timer_cancel(&c.q, &tm[0].t);
	ck_assert_int_eq(timer_arm(&c.q, &tm[3].t, 5), 0);
	ck_assert_uint_eq(timer_count(&c.q), 3);
	t_check_heap(&c.q);
	ck_assert_uint_eq(timer_run(&c.q, 100), 3);
	timer_queue_destroy(&c.q);

	/* Past the first allocation: doubling stops at the limit. */
	t_ctx_init(&c, tm, 21, 20, t_fire);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(timer_arm(&c.q, &tm[i].t, 1000 - (uint64_t)i), 0);
	ck_assert_uint_eq(c.q.cap, 20);
	ck_assert_int_eq(timer_arm(&c.q, &tm[20].t, 1), -ENOSPC);
	t_check_heap(&c.q);
	ck_assert_uint_eq(timer_run(&c.q, 1000), 20);
	ck_assert_int_eq(c.ids[0], 19);
	ck_assert_int_eq(c.ids[19], 0);
	timer_queue_destroy(&c.q);
}
END_TEST

/* Timer 0 of a queue with room for two: B (1) is runnable and counts, so C (2) fits and D (3) does not;
 * moving B back into the heap needs no room. */
static void t_fill_fire(struct us_timer *t, uint64_t now)
{
	struct t_tm *m = t->arg;
	struct t_ctx *c = m->ctx;

	t_log(m, now);
	if (m->id != 0)
		return;
	ck_assert_uint_eq(timer_count(&c->q), 1);
	ck_assert_int_eq(timer_arm(&c->q, &c->tm[2].t, 100), 0);
	ck_assert_int_eq(timer_arm(&c->q, &c->tm[3].t, 100), -ENOSPC);
	ck_assert(!timer_pending(&c->tm[3].t));
	ck_assert_int_eq(timer_arm(&c->q, &c->tm[1].t, 50), 0);
	ck_assert_uint_eq(timer_count(&c->q), 2);
}

/* Runnable timers count towards the limit while callbacks run. */
START_TEST(test_timer_max_runnable)
{
	static const int want[] = { 0, 1, 2 };
	struct t_ctx c;
	struct t_tm tm[4];

	t_ctx_init(&c, tm, 4, 2, t_fill_fire);
	ck_assert_int_eq(timer_arm(&c.q, &tm[0].t, 10), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[1].t, 20), 0);
	ck_assert_uint_eq(timer_run(&c.q, 30), 1);
	ck_assert_uint_eq(timer_count(&c.q), 2);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 50);
	ck_assert_uint_eq(timer_run(&c.q, 100), 2);
	t_assert_log(&c, want, 3);
	timer_queue_destroy(&c.q);
}
END_TEST

/* Cancelling an idle timer (never armed, already cancelled, or already fired) changes nothing. */
START_TEST(test_timer_cancel_idle)
{
	struct t_ctx c;
	struct t_tm tm[4];

	t_ctx_init(&c, tm, 4, 0, t_fire);
	ck_assert_int_eq(timer_arm(&c.q, &tm[1].t, 10), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[2].t, 20), 0);
	ck_assert_int_eq(timer_arm(&c.q, &tm[3].t, 30), 0);
	timer_cancel(&c.q, &tm[0].t);
	ck_assert(!timer_pending(&tm[0].t));
	ck_assert_uint_eq(timer_count(&c.q), 3);
	timer_cancel(&c.q, &tm[2].t);
	timer_cancel(&c.q, &tm[2].t);
	ck_assert_uint_eq(timer_count(&c.q), 2);
	ck_assert_uint_eq(timer_run(&c.q, 10), 1);
	timer_cancel(&c.q, &tm[1].t);
	ck_assert_uint_eq(timer_count(&c.q), 1);
	ck_assert_uint_eq(timer_next_deadline(&c.q), 30);
	t_check_heap(&c.q);
	ck_assert_uint_eq(timer_run(&c.q, 30), 1);
	ck_assert_uint_eq(c.n, 2);
	ck_assert_int_eq(c.ids[1], 3);
	timer_queue_destroy(&c.q);
}
END_TEST

/* Destroying a queue with 1,000 timers armed frees its heap (LeakSanitizer checks) and leaves every
 * timer idle, free to be armed on another queue; a destroyed queue takes no timers. */
START_TEST(test_timer_destroy_armed)
{
	struct t_ctx c, c2;
	struct t_tm *tm = calloc(1000, sizeof(*tm));

	ck_assert_ptr_nonnull(tm);
	t_ctx_init(&c, tm, 1000, 0, t_fire);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(timer_arm(&c.q, &tm[i].t, (uint64_t)i * 7 % 1000), 0);
	ck_assert_uint_ge(c.q.cap, 1000);
	timer_queue_destroy(&c.q);
	ck_assert_ptr_null(c.q.heap);
	ck_assert_uint_eq(timer_count(&c.q), 0);
	ck_assert_uint_eq(timer_next_deadline(&c.q), US_TIME_NEVER);
	for (int i = 0; i < 1000; i++)
		ck_assert(!timer_pending(&tm[i].t));
	ck_assert_int_eq(timer_arm(&c.q, &tm[0].t, 1), -ENOSPC);

	ck_assert_int_eq(timer_queue_init(&c2.q, 0), 0);
	ck_assert_int_eq(timer_arm(&c2.q, &tm[5].t, 1), 0);
	ck_assert_int_eq(timer_arm(&c2.q, &tm[6].t, 2), 0);
	timer_queue_destroy(&c2.q);
	ck_assert(!timer_pending(&tm[5].t));
	timer_queue_destroy(NULL);
	free(tm);
}
END_TEST

/* ---- misuse: SIGABRT in a debug build, -EINVAL or nothing in a release build ---- */

/* Arming a timer that has no callback. */
START_TEST(test_timer_misuse_no_fn)
{
	struct timer_queue q;
	struct us_timer t;

	ck_assert_int_eq(timer_queue_init(&q, 0), 0);
	timer_init(&t, NULL, NULL);
	ck_assert_int_eq(timer_arm(&q, &t, 10), -EINVAL);
	ck_assert(!timer_pending(&t));
	ck_assert_uint_eq(timer_count(&q), 0);
	timer_queue_destroy(&q);
}
END_TEST

/* Arming, on another queue, a timer armed on the first one. */
START_TEST(test_timer_misuse_other_queue)
{
	struct timer_queue q1, q2;
	struct us_timer a, b;

	ck_assert_int_eq(timer_queue_init(&q1, 0), 0);
	ck_assert_int_eq(timer_queue_init(&q2, 0), 0);
	timer_init(&a, t_fire, NULL);
	timer_init(&b, t_fire, NULL);
	ck_assert_int_eq(timer_arm(&q1, &a, 10), 0);
	ck_assert_int_eq(timer_arm(&q1, &b, 20), 0);
	ck_assert_int_eq(timer_arm(&q2, &b, 5), -EINVAL);
	ck_assert_uint_eq(b.expires_ns, 20);
	ck_assert_uint_eq(timer_count(&q2), 0);
	ck_assert_uint_eq(timer_next_deadline(&q1), 10);
	t_check_heap(&q1);
	timer_queue_destroy(&q1);
	timer_queue_destroy(&q2);
}
END_TEST

/* Cancelling, through another queue, a timer armed on the first one. */
START_TEST(test_timer_misuse_cancel_other_queue)
{
	struct timer_queue q1, q2;
	struct us_timer a;

	ck_assert_int_eq(timer_queue_init(&q1, 0), 0);
	ck_assert_int_eq(timer_queue_init(&q2, 0), 0);
	timer_init(&a, t_fire, NULL);
	ck_assert_int_eq(timer_arm(&q1, &a, 10), 0);
	timer_cancel(&q2, &a);
	ck_assert(timer_pending(&a));
	ck_assert_uint_eq(timer_count(&q1), 1);
	t_check_heap(&q1);
	timer_queue_destroy(&q1);
	timer_queue_destroy(&q2);
}
END_TEST

#ifdef USTACK_DEBUG
#define t_add_misuse_test(tc, fn) tcase_add_test_raise_signal((tc), fn, SIGABRT)
#else
#define t_add_misuse_test(tc, fn) tcase_add_test((tc), fn)
#endif

int main(void)
{
	Suite *s = suite_create("timer");
	TCase *tc;

	tc = test_tcase("queue");
	tcase_add_test(tc, test_timer_basics);
	tcase_add_test(tc, test_timer_next_deadline);
	tcase_add_test(tc, test_timer_cancel_idle);
	tcase_add_test(tc, test_timer_max);
	tcase_add_test(tc, test_timer_max_runnable);
	tcase_add_test(tc, test_timer_destroy_armed);
	suite_add_tcase(s, tc);

	tc = test_tcase("firing");
	tcase_add_test(tc, test_timer_order);
	tcase_add_test(tc, test_timer_ties);
	tcase_add_test(tc, test_timer_callbacks);
	tcase_add_test(tc, test_timer_rearm_now);
	tcase_add_test(tc, test_timer_clock_jump);
	tcase_add_test(tc, test_timer_many);
	suite_add_tcase(s, tc);

	tc = test_tcase("misuse");
	t_add_misuse_test(tc, test_timer_misuse_no_fn);
	t_add_misuse_test(tc, test_timer_misuse_other_queue);
	t_add_misuse_test(tc, test_timer_misuse_cancel_other_queue);
	suite_add_tcase(s, tc);
	return test_run(s);
}
