/*
 * alloc_count.h - heap bytes by side, for a program that links alloc_count.c with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc,--wrap=free: set alloc_side before each call into
 * one stack, and read alloc_counts[side] for what that side holds now.
 */
#ifndef USTACK_ALLOC_COUNT_H
#define USTACK_ALLOC_COUNT_H

#include <stdint.h>

#define ALLOC_SIDES 4

struct alloc_count {
	int64_t bytes;	     /* asked for, in blocks still held */
	int64_t chunk_bytes; /* what glibc's malloc spends on them (header, rounding) */
	int64_t blocks;	     /* blocks still held */
	uint64_t mallocs;    /* blocks allocated, all told */
};

/* 0: setup and anything else; the program names the rest (e.g. 1 server, 2 client). */
extern int alloc_side;
extern struct alloc_count alloc_counts[ALLOC_SIDES];

#endif
