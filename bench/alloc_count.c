/*
 * alloc_count.c - who holds which heap bytes, for a program with two stacks in one process. Linked
 * with -Wl,--wrap= for malloc, calloc, realloc, aligned_alloc and free (alloc_count.h), every such
 * call in ustack's code and the program's own comes here. Each block carries a 16-byte tag with its
 * size and the side current when it was allocated (alloc_side, set by the program around each call
 * into one stack), so a block freed by the other stack (the pair wire's frames: allocated by the
 * sender, freed by the receiver) comes off the side that made it. The counts are of bytes asked
 * for, the same under any allocator (glibc's or a sanitizer's); chunk_bytes adds what glibc's
 * malloc spends on each block (an 8-byte header, 16-byte rounding, 32 bytes at least), tag aside.
 *
 * Blocks libc allocated itself (strdup, open_memstream) are freed uncounted; telling them apart
 * reads the 16 bytes before them, which a sanitizer would flag, so the programs using this do not
 * trace connections into files or serve the control channel.
 */
#include "alloc_count.h"

#include <stdint.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_aligned_alloc(size_t align, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_aligned_alloc(size_t align, size_t n);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

#define TAG 16
#define TAG_MAGIC 0x75737461u /* "usta" */

struct tag {
	uint64_t size;
	uint16_t side;
	uint16_t off; /* from the block's start to the pointer handed out */
	uint32_t magic;
};

int alloc_side;
struct alloc_count alloc_counts[ALLOC_SIDES];

static uint64_t chunk(uint64_t n)
{
	uint64_t c = (n + 8 + 15) & ~(uint64_t)15;

	return c < 32 ? 32 : c;
}

static void count(const struct tag *t, int sign)
{
	struct alloc_count *c = &alloc_counts[t->side];

	if (sign > 0) {
		c->bytes += t->size;
		c->chunk_bytes += chunk(t->size);
		c->blocks++;
		c->mallocs++;
	} else {
		c->bytes -= t->size;
		c->chunk_bytes -= chunk(t->size);
		c->blocks--;
	}
}

static void *tagged(void *raw, size_t off, size_t n)
{
	struct tag *t;

	if (!raw)
		return NULL;
	t = (struct tag *)(void *)((char *)raw + off - TAG);
	t->size = n;
	t->side = (uint16_t)((unsigned)alloc_side < ALLOC_SIDES ? alloc_side : 0);
	t->off = (uint16_t)off;
	t->magic = TAG_MAGIC;
	count(t, 1);
	return (char *)raw + off;
}

void *__wrap_malloc(size_t n)
{
	if (n > SIZE_MAX - TAG)
		return NULL;
	return tagged(__real_malloc(n + TAG), TAG, n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	if (m && n > (SIZE_MAX - TAG) / m)
		return NULL;
	return tagged(__real_calloc(1, n * m + TAG), TAG, n * m);
}

/* netdev/ring.c's rings: the tag sits in one alignment unit before the block */
void *__wrap_aligned_alloc(size_t align, size_t n)
{
	if (align < TAG || align > 4096 || n > SIZE_MAX - align)
		return NULL;
	return tagged(__real_aligned_alloc(align, n + align), align, n);
}

/* p's tag, or NULL when libc allocated p (see above): the 16 bytes before p are then the
 * allocator's own, which a sanitizer does not want read */
__attribute__((no_sanitize_address)) static struct tag *tag_of(void *p)
{
	struct tag *t = (struct tag *)(void *)((char *)p - TAG);

	return t->magic == TAG_MAGIC ? t : NULL;
}

void __wrap_free(void *p)
{
	struct tag *t;

	if (!p)
		return;
	t = tag_of(p);
	if (!t) {
		__real_free(p);
		return;
	}
	count(t, -1);
	t->magic = 0;
	__real_free((char *)p - t->off);
}

void *__wrap_realloc(void *p, size_t n)
{
	void *q;

	if (!p)
		return __wrap_malloc(n);
	if (!tag_of(p))
		return __real_realloc(p, n);
	if (n == 0) {
		__wrap_free(p);
		return NULL;
	}
	q = __wrap_malloc(n);
	if (q) {
		size_t old = (size_t)tag_of(p)->size;
		memcpy(q, p, old < n ? old : n);
		__wrap_free(p);
	}
	return q;
}
