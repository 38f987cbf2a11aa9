/*
 * lib/kv/memval.h — where the in-memory image (LFS_KV_MEMORY) keeps its
 * values.
 *
 * The in-memory image holds a copy of every live value (kv.c, apply_payload)
 * and frees it when the key is overwritten, deleted or the image closed.
 * One malloc per value made replaying a write-heavy trace spend a third of
 * its time in malloc: the KV server thread allocates from its own glibc
 * arena, which grows its heap one mprotect at a time, and every fresh 4 KiB
 * page is a page fault.  This allocator takes memory in 4 MiB chunks of
 * ordinary pages populated when mapped (MADV_POPULATE_WRITE: one call per
 * chunk instead of a fault per page; huge pages, tried before, cost
 * 0.06-0.49 s of system time for the same 111 MiB from run to run on a
 * shared machine, compacting memory, against 0.09-0.14 s) and hands out
 * blocks of 48 size classes (16-byte
 * steps to 256 bytes, then four steps per power of two: at most 25% slack)
 * with a free list per class, so a freed block is reused by the next value
 * of its class.  Values above 64 KiB go to malloc.
 *
 * Fresh memory is most of what a large in-memory image costs (the kernel
 * faulting and clearing 111 MiB took as long as the rest of a tar-xf
 * replay), so from the second chunk on a prefill thread maps and populates
 * the next MV_AHEAD (2) chunks while the current one fills: huge pages
 * there (56 of them populate 111 MiB in ~10 ms against ~50 ms for 4 KiB
 * pages), falling back to 4 KiB pages for good once one chunk took over
 * 20 ms (the kernel compacting memory).  The pool's user never waits for
 * it: with no chunk ready it maps one itself, as before.  Only memory use
 * changes (up to 8 MiB mapped ahead); what the image holds, and every
 * counter, does not.
 *
 * Invariants
 *  - lfs_memval_free(m, p, n) must be given the n that allocated p.
 *  - Chunks are returned to the system only by lfs_memval_destroy; the
 *    memory held is the peak of live bytes per class (plus the slack), as
 *    with malloc's arenas.
 *  - Not thread-safe: the KV handle it belongs to is used by one thread at
 *    a time (kv.h).  The prefill thread shares only its ready list (under
 *    its mutex); a mapping taken from it belongs to the taker.
 */
#ifndef LFS_KV_MEMVAL_H
#define LFS_KV_MEMVAL_H

#include <stddef.h>

struct lfs_memval;

struct lfs_memval *lfs_memval_new(void);
/* n bytes (n == 0 is allowed), 16-byte aligned; NULL when out of memory. */
void *lfs_memval_alloc(struct lfs_memval *m, size_t n);
void  lfs_memval_free(struct lfs_memval *m, void *p, size_t n);
/* Unmap every chunk (blocks of > 64 KiB must have been freed one by one). */
void  lfs_memval_destroy(struct lfs_memval *m);
/* Bytes mapped for chunks (what the pool holds from the system; chunks
 * the prefill thread holds ready are not counted). */
size_t lfs_memval_mapped(const struct lfs_memval *m);
/* Chunks taken from the prefill thread so far (tests, benchmarks). */
size_t lfs_memval_prefilled(const struct lfs_memval *m);

/* Prefill: a thread keeping `ahead` (1..8) anonymous mappings of len bytes
 * mapped and populated ahead of need (align = 2 MiB: huge pages, see
 * above; 0: 4 KiB pages).  Also used by the page cache's frame pool.
 * lfs_prefill_take returns one (the caller owns it: munmap(p, len)), or
 * NULL when none is ready or f is NULL — it never waits.  lfs_prefill_free
 * stops the thread and unmaps the mappings not taken.  NULL from _new
 * (out of memory, no thread): callers map their own. */
struct lfs_prefill;
struct lfs_prefill *lfs_prefill_new(size_t len, unsigned ahead, size_t align);
/* An anonymous mapping of len bytes of ordinary pages, populated (one
 * MADV_POPULATE_WRITE), as the prefill thread makes them; NULL when out of
 * memory.  The caller unmaps it. */
void  *lfs_map_populated(size_t len);
void  *lfs_prefill_take(struct lfs_prefill *f);
size_t lfs_prefill_taken(struct lfs_prefill *f);
void   lfs_prefill_free(struct lfs_prefill *f);

#endif
