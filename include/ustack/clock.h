/*
 * clock.h - the stack's notion of time.
 *
 * All protocol code and every device reads time only through a struct us_clock, in nanoseconds.
 * The monotonic clock reads CLOCK_MONOTONIC; the virtual clock stands still until a test or a pcap
 * replay moves it, so that timer behaviour is exact and tests never sleep.
 */
#ifndef USTACK_CLOCK_H
#define USTACK_CLOCK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define US_NSEC_PER_USEC UINT64_C(1000)
#define US_NSEC_PER_MSEC UINT64_C(1000000)
#define US_NSEC_PER_SEC UINT64_C(1000000000)
/* "Never": a deadline that does not come. */
#define US_TIME_NEVER UINT64_MAX

enum us_clock_kind {
	US_CLOCK_MONOTONIC = 0,
	US_CLOCK_VIRTUAL = 1,
};

struct us_clock {
	enum us_clock_kind kind;
	uint64_t virtual_ns; /* the virtual clock's time, nanoseconds */
};

void us_clock_init_monotonic(struct us_clock *c);
void us_clock_init_virtual(struct us_clock *c, uint64_t start_ns);
/* The current time in nanoseconds. */
uint64_t us_clock_now(const struct us_clock *c);
/* Move a virtual clock to `ns` (forward only) or forward by `delta_ns`. -EINVAL on a monotonic clock
 * or for a time in the past. */
int us_clock_set(struct us_clock *c, uint64_t ns);
int us_clock_advance(struct us_clock *c, uint64_t delta_ns);

#ifdef __cplusplus
}
#endif

#endif
