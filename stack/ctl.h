/*
 * ctl.h - the stack's observability plumbing between the loop and sock_dump.c (the socket table) and
 * sock_ctl.c (the control channel, dump requests, periodic dumps). Not a public header.
 *
 * Everything here runs with the stack lock held: the public calls in include/ustack/stats.h take it,
 * the loop already holds it, so the control channel can print from inside the stack thread without
 * taking the lock twice.
 */
#ifndef USTACK_CTL_H
#define USTACK_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "core.h"

/* The data.fd the stack thread's kernel epoll reports for the control channel's own epoll fd (not a
 * descriptor number, so it never collides with a device's or the wake-up eventfd). */
#define STACK_CTL_EPOLL_TAG (-2)

/* sock_dump.c: what us_sockets_dump prints, with the stack lock held. */
void sock_dump_locked(struct us_stack *st, FILE *out);

/* sock_ctl.c */
/* Once per loop round, when st->ctl is set or a dump was requested: print a requested dump, serve
 * the control channel if the stack thread's epoll said it has events. */
void stack_ctl_round(struct us_stack *st);
/* The stack thread starts (true) or ends (false): the control channel moves into (out of) its kernel
 * epoll, and the driven stack's periodic check stops (resumes). */
void stack_ctl_thread(struct us_stack *st, bool running);
/* The stack thread's epoll reported STACK_CTL_EPOLL_TAG. */
void stack_ctl_ready(struct us_stack *st);
/* A dump the stack thread rendered with the lock held, taken before it unlocks and written after. */
struct stack_ctl_output {
	char *buf; /* NULL: nothing */
	size_t len;
	FILE *out;
};
void stack_ctl_take_output(struct us_stack *st, struct stack_ctl_output *o);
void stack_ctl_write_output(struct stack_ctl_output *o);
/* us_stack_destroy: close the channel (its socket file unlinked) and free what it holds. The stack
 * thread must be gone. */
void stack_ctl_destroy(struct us_stack *st);

#endif
