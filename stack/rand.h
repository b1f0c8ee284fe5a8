/*
 * rand.h - the seeded generator the stack and the fault device draw from: xoshiro256** seeded
 * through splitmix64 (Blackman and Vigna). Deterministic for a seed, so tests replay exactly.
 * Not for secrets: ISNs and SYN cookies add a keyed hash on top (RFC 6528).
 */
#ifndef USTACK_RAND_H
#define USTACK_RAND_H

#include <stdint.h>

struct us_rand {
	uint64_t s[4];
};

static inline uint64_t us_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void us_rand_seed(struct us_rand *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = us_splitmix64(&seed);
}

static inline uint64_t us_rand_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t us_rand_next(struct us_rand *r)
{
	uint64_t *s = r->s;
	uint64_t result = us_rand_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = us_rand_rotl(s[3], 45);
	return result;
}

/* A uniform double in [0, 1). */
static inline double us_rand_unit(struct us_rand *r)
{
	return (double)(us_rand_next(r) >> 11) * 0x1.0p-53;
}

#endif
