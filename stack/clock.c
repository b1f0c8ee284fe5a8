/*
 * clock.c - the monotonic and virtual clocks behind struct us_clock.
 */
#include "ustack/clock.h"

#include <errno.h>
#include <time.h>

void us_clock_init_monotonic(struct us_clock *c)
{
	c->kind = US_CLOCK_MONOTONIC;
	c->virtual_ns = 0;
}

void us_clock_init_virtual(struct us_clock *c, uint64_t start_ns)
{
	c->kind = US_CLOCK_VIRTUAL;
	c->virtual_ns = start_ns;
}

uint64_t us_clock_now(const struct us_clock *c)
{
	struct timespec ts;

	if (c->kind == US_CLOCK_VIRTUAL)
		return c->virtual_ns;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * US_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int us_clock_set(struct us_clock *c, uint64_t ns)
{
	if (c->kind != US_CLOCK_VIRTUAL || ns < c->virtual_ns)
		return -EINVAL;
	c->virtual_ns = ns;
	return 0;
}

int us_clock_advance(struct us_clock *c, uint64_t delta_ns)
{
	if (c->kind != US_CLOCK_VIRTUAL || delta_ns > UINT64_MAX - c->virtual_ns)
		return -EINVAL;
	c->virtual_ns += delta_ns;
	return 0;
}
