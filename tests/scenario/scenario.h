/*
 * scenario.h - two stacks in one process on a pair wire (optionally through the fault wrapper), on
 * one virtual clock: a at 198.18.0.1 (MAC ..:0a), b at 198.18.0.2 (MAC ..:0b).
 */
#ifndef USTACK_SCENARIO_H
#define USTACK_SCENARIO_H

#include "test_util.h"

#define A_IP 0xc6120001u /* 198.18.0.1 */
#define B_IP 0xc6120002u /* 198.18.0.2 */

struct two {
	struct us_clock clock;
	struct us_stack *a, *b;
};

/* cfg may be NULL (defaults); it is used for both stacks, with their own seeds. */
void two_up(struct two *t, const struct netdev_fault_config *fault, const struct us_stack_config *cfg);
/* The same with more say: a's and b's configs apart (cfg_b NULL: as cfg_a), ring slots per device
 * ring (0: 1024), and wrap(dev, arg) putting wrappers (fault, test devices) around a's pair end
 * before it is attached; returns nothing, a's device is us_stack_netdev(t->a, 1). */
struct two_opts {
	const struct us_stack_config *cfg_a, *cfg_b;
	uint32_t ring;
	struct netdev *(*wrap)(struct netdev *dev, void *arg);
	void *arg;
};
void two_up_opts(struct two *t, const struct two_opts *o);
/* Destroy both; fails the test if either leaked skbs. */
void two_down(struct two *t);
/* Poll both stacks, jumping the clock from deadline to deadline, for for_ns of virtual time. */
void two_run(struct two *t, uint64_t for_ns);
/* Poll both until neither has anything to do right now (no clock movement); bounded. */
void two_settle(struct two *t);

#endif
