/*
 * lib/kv/memval.c — size-class pool for the values of the in-memory image
 * (see memval.h).
 */
#include "kv/memval.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

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
#define MV_AHEAD   2                    /* chunks the prefill keeps ready */
#define MV_HUGE    (2u << 20)
#define PF_MAX_AHEAD 8

struct chunk {
	struct chunk *next;
	void *map;                           /* what to munmap */
	size_t map_len;
};

/* ---------------------------------------------------------------- prefill */

struct lfs_prefill {
	size_t len, align;
	unsigned ahead;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;                   /* the thread waits for room or stop */
	void *ready[PF_MAX_AHEAD];           /* populated mappings, oldest first */
	unsigned nready;
	int stop;
	size_t taken;
};

/* Map len bytes and populate them.  align (the prefill thread, for the
 * value pool): 2 MiB aligned with MADV_HUGEPAGE, each page touched — a
 * fault takes only the VMA's lock, where MADV_POPULATE_WRITE holds
 * mmap_lock for the whole call, and a compaction stall inside it blocked
 * the other thread's mmap.  Else ordinary pages, one MADV_POPULATE_WRITE
 * (a kernel without it, 5.14, faults them in as they are used). */
static void *map_populated(size_t len, size_t align)
{
	size_t mlen = len + align;
	uint8_t *p = mmap(NULL, mlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uint8_t *c = p;
	if (align) {                         /* trim to an aligned len */
		c = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
		if (c > p)
			munmap(p, (size_t)(c - p));
		if (p + mlen > c + len)
			munmap(c + len, (size_t)(p + mlen - (c + len)));
#ifdef MADV_HUGEPAGE
		madvise(c, len, MADV_HUGEPAGE);          /* advice only: fine if refused */
#endif
		for (size_t o = 0; o < len; o += 4096)
			((volatile uint8_t *)c)[o] = 0;
	} else {
#ifdef MADV_NOHUGEPAGE
		madvise(c, len, MADV_NOHUGEPAGE);
#endif
		madvise(c, len, MV_POPULATE_WRITE);
	}
	return c;
}

void *lfs_map_populated(size_t len)
{
	return map_populated(len, 0);
}

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void *prefill_main(void *arg)
{
	struct lfs_prefill *f = arg;
	size_t align = f->align;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->stop && f->nready == f->ahead)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop)
			break;
		pthread_mutex_unlock(&f->mu);
		uint64_t t0 = mono_ns();
		void *c = map_populated(f->len, align);
		/* 4 MiB of huge pages normally take ~0.4 ms; 20 ms means the
		 * kernel compacted memory for them: ordinary pages from then on */
		if (align && mono_ns() - t0 > 20000000ull)
			align = 0;
		pthread_mutex_lock(&f->mu);
		if (!c)
			break;                       /* out of memory: the user maps its own */
		f->ready[f->nready++] = c;
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

struct lfs_prefill *lfs_prefill_new(size_t len, unsigned ahead, size_t align)
{
	struct lfs_prefill *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->len = len;
	f->align = align;
	f->ahead = ahead < 1 ? 1 : ahead > PF_MAX_AHEAD ? PF_MAX_AHEAD : ahead;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (pthread_create(&f->th, NULL, prefill_main, f)) {
		pthread_cond_destroy(&f->cv);
		pthread_mutex_destroy(&f->mu);
		free(f);
		return NULL;
	}
	return f;
}

void *lfs_prefill_take(struct lfs_prefill *f)
{
	void *c = NULL;
	if (!f)
		return NULL;
	pthread_mutex_lock(&f->mu);
	if (f->nready) {
		c = f->ready[0];
		for (unsigned i = 1; i < f->nready; i++)
			f->ready[i - 1] = f->ready[i];
		f->nready--;
		f->taken++;
		pthread_cond_signal(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	return c;
}

size_t lfs_prefill_taken(struct lfs_prefill *f)
{
	if (!f)
		return 0;
	pthread_mutex_lock(&f->mu);
	size_t n = f->taken;
	pthread_mutex_unlock(&f->mu);
	return n;
}

void lfs_prefill_free(struct lfs_prefill *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	for (unsigned i = 0; i < f->nready; i++)
		munmap(f->ready[i], f->len);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* ---------------------------------------------------------------- pool */

struct lfs_memval {
	uint8_t *cur, *end;                  /* bump region of the newest chunk */
	void *freel[MV_CLASSES];             /* freed blocks, linked through their first word */
	struct chunk *chunks;
	size_t mapped;
	size_t nchunks;                      /* chunks taken so far */
	struct lfs_prefill *f;               /* NULL until the second chunk */
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
	/* a second chunk: a large image, whose next chunks the prefill thread
	 * maps while this one fills (none ready: map one here, never wait) */
	if (m->nchunks == 1 && !m->f)
		m->f = lfs_prefill_new(MV_CHUNK, MV_AHEAD, MV_HUGE);
	void *p = lfs_prefill_take(m->f);
	if (!p && !(p = map_populated(MV_CHUNK, 0)))
		return -1;
	/* the chunk's own record lives at its start */
	struct chunk *c = p;
	c->map = p;
	c->map_len = MV_CHUNK;
	c->next = m->chunks;
	m->chunks = c;
	m->nchunks++;
	m->mapped += MV_CHUNK;
	m->cur = (uint8_t *)c + ((sizeof *c + 15) & ~(size_t)15);
	m->end = (uint8_t *)c + MV_CHUNK;
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
	lfs_prefill_free(m->f);
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

size_t lfs_memval_prefilled(const struct lfs_memval *m)
{
	return m ? lfs_prefill_taken(m->f) : 0;
}
