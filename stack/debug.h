/*
 * debug.h - internal checks. US_BUG(what) reports an API misuse: a debug build (USTACK_DEBUG) prints
 * the reason and aborts, so the bug is found where it happens; a release build carries on and the
 * caller returns an error and counts the event. Not a public header.
 */
#ifndef USTACK_DEBUG_H
#define USTACK_DEBUG_H

#include <stdio.h>
#include <stdlib.h>

#ifdef USTACK_DEBUG
#define US_DEBUG_ENABLED 1
#define US_BUG(what)                                                                           \
	do {                                                                                   \
		fprintf(stderr, "ustack: %s:%d: %s: %s\n", __FILE__, __LINE__, __func__, what); \
		abort();                                                                       \
	} while (0)
#else
#define US_DEBUG_ENABLED 0
#define US_BUG(what) ((void)0)
#endif

#endif
