/*
 * scenario.c - the two-stack fixture (see scenario.h).
 */
#include "scenario.h"

void two_up_opts(struct two *t, const struct two_opts *o)
{
	struct us_stack_config ca = { 0 }, cb = { 0 };
	struct netdev_pair_config pc = { .wire_capacity = 1u << 16 };
	uint32_t ring = o->ring ? o->ring : 1024;
	struct netdev *da, *db;

	if (o->cfg_a)
		ca = *o->cfg_a;
	cb = o->cfg_b ? *o->cfg_b : ca;
	ca.seed = 1;
	cb.seed = 2;
	us_clock_init_virtual(&t->clock, 5000 * US_NSEC_PER_SEC);
	ca.clock = cb.clock = &t->clock;
	t->a = us_stack_create(&ca);
	t->b = us_stack_create(&cb);
	ck_assert_ptr_nonnull(t->a);
	ck_assert_ptr_nonnull(t->b);
	pc.a = (struct netdev_config){ .pool = us_stack_pool(t->a), .clock = &t->clock, .name = "a0",
				       .mac = { 2, 0, 0, 0, 0, 0xa }, .rx_ring_size = ring, .tx_ring_size = ring };
	pc.b = (struct netdev_config){ .pool = us_stack_pool(t->b), .clock = &t->clock, .name = "b0",
				       .mac = { 2, 0, 0, 0, 0, 0xb }, .rx_ring_size = ring, .tx_ring_size = ring };
	ck_assert_int_eq(netdev_pair_create(&pc, &da, &db), 0);
	if (o->wrap) {
		da = o->wrap(da, o->arg);
		ck_assert_ptr_nonnull(da);
	}
	ck_assert_int_eq(us_stack_add_netdev(t->a, da), 1);
	ck_assert_int_eq(us_stack_add_netdev(t->b, db), 1);
	ck_assert_int_eq(us_addr_add(t->a, 1, A_IP, 24), 0);
	ck_assert_int_eq(us_addr_add(t->b, 1, B_IP, 24), 0);
}

static struct netdev *wrap_fault(struct netdev *dev, void *arg)
{
	return netdev_fault_wrap(dev, arg);
}

void two_up(struct two *t, const struct netdev_fault_config *fault, const struct us_stack_config *cfg)
{
	struct two_opts o = { .cfg_a = cfg, .wrap = fault ? wrap_fault : NULL,
			      .arg = (void *)(uintptr_t)fault };

	two_up_opts(t, &o);
}

void two_down(struct two *t)
{
	ck_assert_uint_eq(us_stack_destroy(t->a), 0);
	ck_assert_uint_eq(us_stack_destroy(t->b), 0);
}

/* The next moment either stack has work: timers, or frames waiting on either device. */
static uint64_t two_next(struct two *t)
{
	uint64_t na = us_stack_poll(t->a), nb = us_stack_poll(t->b);
	uint64_t wa = netdev_next_deadline(us_stack_netdev(t->a, 1));
	uint64_t wb = netdev_next_deadline(us_stack_netdev(t->b, 1));
	uint64_t next = na < nb ? na : nb;

	if (wa < next)
		next = wa;
	if (wb < next)
		next = wb;
	return next;
}

void two_run(struct two *t, uint64_t for_ns)
{
	uint64_t until = us_clock_now(&t->clock) + for_ns;

	for (long guard = 0; guard < 10000000; guard++) {
		uint64_t next = two_next(t), now = us_clock_now(&t->clock);

		if (next <= now)
			continue;
		if (next > until)
			break;
		us_clock_set(&t->clock, next);
	}
	if (us_clock_now(&t->clock) < until)
		us_clock_set(&t->clock, until);
	two_next(t);
}

void two_settle(struct two *t)
{
	for (int guard = 0; guard < 100000; guard++)
		if (two_next(t) > us_clock_now(&t->clock))
			return;
}
