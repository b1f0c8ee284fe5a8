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

/* sock_dump.c: what us_sockets_dump prints, with the stack lock held. */
void sock_dump_locked(struct us_stack *st, FILE *out);

#endif
