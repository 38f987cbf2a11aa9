/*
 * lib/kv/memval.c — size-class pool for the values of the in-memory image
 * (see memval.h).
 */
#include "kv/memval.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Under ASan the pool poisons what is not handed out (free blocks, class
 * slack, the unused chunk), so use after free and overflows of values are
 * still caught in the tests. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define MV_CHUNK   (4u << 20)           /* bytes mapped at a time */
#ifdef MADV_POPULATE_WRITE
#define MV_POPULATE_WRITE MADV_POPULATE_WRITE
#else
#define MV_POPULATE_WRITE 23                 /* Linux 5.14 */
#endif
#define MV_MAX     (64u << 10)          /* largest pooled block */
#define MV_CLASSES 48

struct chunk {
	struct chunk *next;
	void *map;                           /* what to munmap */
	size_t map_len;
};

struct lfs_memval {
	uint8_t *cur, *end;                  /* bump region of the newest chunk */
	void *freel[MV_CLASSES];             /* freed blocks, linked through their first word */
	struct chunk *chunks;
	size_t mapped;
};

/* Class of an n-byte block and its size: 16, 32 … 256, then 320, 384, 448,
 * 512, 640 … 65536 (four steps per power of two). */
static unsigned cls_of(size_t n, size_t *sz)
{
	if (n <= 256) {
		size_t c = n ? (n + 15) / 16 : 1;
		*sz = c * 16;
		return (unsigned)c - 1;
	}
	unsigned k = 63u - (unsigned)__builtin_clzll((unsigned long long)(n - 1)); /* 2^k < n <= 2^(k+1) */
	size_t step = (size_t)1 << (k - 2);
	size_t q = (n - 1 - ((size_t)1 << k)) / step;                               /* 0..3 */
	*sz = ((size_t)1 << k) + (q + 1) * step;
	return 16 + (k - 8) * 4 + (unsigned)q;
}

struct lfs_memval *lfs_memval_new(void)
{
	return calloc(1, sizeof(struct lfs_memval));
}

static int grow(struct lfs_memval *m)
{
	void *p = mmap(NULL, MV_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
#ifdef MADV_NOHUGEPAGE
	madvise(p, MV_CHUNK, MADV_NOHUGEPAGE);         /* advice only: fine if refused */
#endif
	/* populated now, one call per chunk, not one fault per page (a kernel
	 * without MADV_POPULATE_WRITE, 5.14, faults them in as they are used) */
	madvise(p, MV_CHUNK, MV_POPULATE_WRITE);
	/* the chunk's own record lives at its start */
	struct chunk *c = (struct chunk *)p;
	c->next = m->chunks;
	c->map = p;
	c->map_len = MV_CHUNK;
	m->chunks = c;
	m->mapped += MV_CHUNK;
	m->cur = (uint8_t *)p + ((sizeof *c + 15) & ~(size_t)15);
	m->end = (uint8_t *)p + MV_CHUNK;
	POISON(m->cur, (size_t)(m->end - m->cur));
	return 0;
}

void *lfs_memval_alloc(struct lfs_memval *m, size_t n)
{
	if (n > MV_MAX)
		return malloc(n);
	size_t sz;
	unsigned c = cls_of(n, &sz);
	void *p = m->freel[c];
	if (p) {
		UNPOISON(p, sizeof(void *));
		m->freel[c] = *(void **)p;
		POISON(p, sz);
		UNPOISON(p, n);
		return p;
	}
	if ((size_t)(m->end - m->cur) < sz && grow(m))   /* the tail of the old chunk */
		return NULL;                                 /* (< 64 KiB) stays unused */
	p = m->cur;
	m->cur += sz;
	UNPOISON(p, n);
	return p;
}

void lfs_memval_free(struct lfs_memval *m, void *p, size_t n)
{
	if (!p)
		return;
	if (n > MV_MAX) {
		free(p);
		return;
	}
	size_t sz;
	unsigned c = cls_of(n, &sz);
	UNPOISON(p, sizeof(void *));
	*(void **)p = m->freel[c];
	m->freel[c] = p;
	POISON(p, sz);
}

void lfs_memval_destroy(struct lfs_memval *m)
{
	if (!m)
		return;
	while (m->chunks) {
		struct chunk *c = m->chunks;
		UNPOISON(c, MV_CHUNK);
		m->chunks = c->next;
		munmap(c->map, c->map_len);
	}
	free(m);
}

size_t lfs_memval_mapped(const struct lfs_memval *m)
{
	return m ? m->mapped : 0;
}
