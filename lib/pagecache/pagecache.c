/*
 * lib/pagecache/pagecache.c — generic page cache (see pagecache.h).
 *
 * Modelled kernel behaviour (Linux 5.15):
 *  - filemap_read / filemap_get_pages: look the page up, on a miss run
 *    synchronous readahead (page_cache_sync_ra), else read the one page
 *    (readpage); a page carrying PG_readahead starts asynchronous readahead
 *    (page_cache_async_ra); mark_page_accessed on each page read, except a
 *    re-read of the page holding the last byte read before (as Linux 6.x
 *    compares with last_pos - 1; 5.15 used the end position).
 *  - mm/readahead.c ondemand_readahead: initial window get_init_ra_size
 *    (x4 / x2 of the request rounded up to a power of two, up to the max),
 *    ramp-up get_next_ra_size (x4 below max/16, x2 up to max/2, then max),
 *    the first window merged with the next one, the marker at
 *    size - async_size, a hit on the marker or a sequential miss at the
 *    window end moves the window on, a read from index 0 or a sequential
 *    miss (index - prev <= 1) starts afresh, an oversize request starts
 *    afresh with the max, context readahead from the pages cached just
 *    before the index (try_context_readahead), and a small random read is
 *    read as is (do_page_cache_ra(req_size, 0)).  The window is clamped to
 *    EOF as page_cache_ra_unbounded does; pages already cached split the
 *    batch.  Not modelled: bdi io_pages (oversize reads cap at the max),
 *    large folios, FMODE_RANDOM.
 *  - mm/swap.c mark_page_accessed: first access sets PG_referenced, a
 *    second one on the inactive list activates the page.  mm/vmscan.c:
 *    new pages enter the inactive list; reclaim takes the inactive tail,
 *    refills inactive from the active tail while inactive < active;
 *    locked and writeback pages are rotated; a dirty page at the tail
 *    gets its inode written back (pageout) and is rotated.
 *  - mm/page-writeback.c balance_dirty_pages (per page written):
 *    dirty > background threshold starts background writeback of the
 *    oldest dirty inodes; dirty + writeback > hard threshold throttles the
 *    writer: everything dirty goes to writeback and the writer waits for
 *    the oldest txns until dirty + writeback is under the threshold again
 *    (Linux pauses the writer in proportion rather than waiting for a
 *    count; not waiting for all of it keeps the io side busy meanwhile).  wb_check_old_data_flush: every
 *    writeback_interval the inodes dirtied more than dirty_expire ago are
 *    written (on the mount's clock).  write_cache_pages gathers an inode's
 *    dirty pages in index order, so contiguous runs reach the txn and io
 *    layers together.
 */
#include "pagecache/pagecache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "common/crc32c.h"
#include "kv/memval.h"        /* lfs_prefill: the frame pool's slabs mapped ahead */

/* A slab of the frame pool: n page structs and their frames (one populated
 * anonymous mapping). */
struct frame_chunk {
	struct frame_chunk *next;
	struct lfs_page *pages;
	uint8_t *frames;
	size_t n;
};

struct lfs_pc {
	struct lfs_pc_opts o;
	uint32_t psz;
	uint64_t max_pages, bg_thresh, hard_thresh, ra_pages;
	uint64_t nrpages, nrdirty, nrwb;
	struct lfs_page *act_head, *act_tail, *inact_head, *inact_tail;
	uint64_t nactive, ninactive;
	struct lfs_mapping *dirty_head, *dirty_tail;   /* oldest first */
	struct lfs_page *wb_head, *wb_tail;            /* writeback FIFO */
	struct lfs_page *freelist;                     /* free pages (with frames) */
	uint64_t nfree;
	struct frame_chunk *chunks;                    /* the frame pool */
	uint64_t nalloc;                               /* pages in the pool */
	struct lfs_prefill *pf;                        /* full slabs mapped ahead */
	uint64_t last_tick;
	int ticked;
	struct lfs_pc_stats st;
	void (*hook)(void *arg, const struct lfs_event *ev);
	void *hook_arg;
};

static void emit(struct lfs_pc *pc, enum lfs_ev_kind k, uint64_t ino, uint64_t idx,
		 uint64_t count, uint64_t bytes, int flag)
{
	if (!pc->hook)
		return;
	struct lfs_event ev = { .kind = k, .ino = ino, .index = idx, .count = count,
				.bytes = bytes, .flag = flag };
	pc->hook(pc->hook_arg, &ev);
}

static uint64_t mono(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now(struct lfs_pc *pc) { return pc->o.clock(pc->o.clock_arg); }

int lfs_pc_new(const struct lfs_pc_opts *o, struct lfs_pc **out)
{
	struct lfs_pc *pc = calloc(1, sizeof *pc);
	*out = NULL;
	if (!pc)
		return -ENOMEM;
	pc->o = *o;
	pc->psz = o->page_size ? o->page_size : 4096;
	if (!pc->o.cache_bytes)
		pc->o.cache_bytes = 64ull << 20;
	if (!pc->o.readahead_max)
		pc->o.readahead_max = 128u << 10;
	if (pc->o.dirty_background_ratio <= 0)
		pc->o.dirty_background_ratio = 0.10;
	if (pc->o.dirty_ratio <= 0)
		pc->o.dirty_ratio = 0.20;
	if (!pc->o.dirty_expire_ns)
		pc->o.dirty_expire_ns = 30ull * 1000000000ull;
	if (!pc->o.writeback_interval_ns)
		pc->o.writeback_interval_ns = 5ull * 1000000000ull;
	if (!pc->o.clock)
		pc->o.clock = mono;
	pc->max_pages = pc->o.cache_bytes / pc->psz;
	if (pc->max_pages < 2)
		pc->max_pages = 2;
	pc->bg_thresh = (uint64_t)((double)pc->max_pages * pc->o.dirty_background_ratio);
	pc->hard_thresh = (uint64_t)((double)pc->max_pages * pc->o.dirty_ratio);
	if (pc->hard_thresh < 1)
		pc->hard_thresh = 1;
	if (pc->bg_thresh >= pc->hard_thresh)
		pc->bg_thresh = pc->hard_thresh > 1 ? pc->hard_thresh - 1 : 0;
	/* the window never exceeds half the cache (it would evict itself) */
	pc->ra_pages = pc->o.readahead_max / pc->psz;
	if (pc->ra_pages > pc->max_pages / 2)
		pc->ra_pages = pc->max_pages / 2;
	*out = pc;
	return 0;
}

void lfs_pc_set_hook(struct lfs_pc *pc, void (*hook)(void *, const struct lfs_event *), void *arg)
{
	pc->hook = hook;
	pc->hook_arg = arg;
}

uint64_t lfs_pc_max_pages(struct lfs_pc *pc) { return pc->max_pages; }
uint64_t lfs_pc_ra_pages(struct lfs_pc *pc) { return pc->ra_pages > 1 ? pc->ra_pages : 0; }

void lfs_ra_sequential(struct lfs_pc *pc, struct lfs_ra_state *ra, int on)
{
	uint64_t max = pc->ra_pages * 2;
	if (max > pc->max_pages / 2)
		max = pc->max_pages / 2;
	ra->ra_max = on && pc->ra_pages > 1 ? max : 0;
}
uint64_t lfs_pc_bg_thresh(struct lfs_pc *pc) { return pc->bg_thresh; }
uint64_t lfs_pc_hard_thresh(struct lfs_pc *pc) { return pc->hard_thresh; }

void lfs_pc_stats(struct lfs_pc *pc, struct lfs_pc_stats *st)
{
	*st = pc->st;
	st->pages_cached = pc->nrpages;
	st->pages_dirty = pc->nrdirty;
	st->pages_writeback = pc->nrwb;
	st->bytes_cached = pc->nrpages * pc->psz;
	st->active = pc->nactive;
	st->inactive = pc->ninactive;
}

void lfs_ra_init(struct lfs_ra_state *ra)
{
	memset(ra, 0, sizeof *ra);
	ra->prev_pos = -1;
}

/* ---------------------------------------------------------------- LRU */

static void lru_del(struct lfs_pc *pc, struct lfs_page *pg)
{
	int act = !!(pg->flags & PG_active);
	struct lfs_page **head = act ? &pc->act_head : &pc->inact_head;
	struct lfs_page **tail = act ? &pc->act_tail : &pc->inact_tail;
	if (pg->lprev) pg->lprev->lnext = pg->lnext; else *head = pg->lnext;
	if (pg->lnext) pg->lnext->lprev = pg->lprev; else *tail = pg->lprev;
	pg->lprev = pg->lnext = NULL;
	if (act) pc->nactive--; else pc->ninactive--;
}

static void lru_add_head(struct lfs_pc *pc, struct lfs_page *pg, int active)
{
	struct lfs_page **head = active ? &pc->act_head : &pc->inact_head;
	struct lfs_page **tail = active ? &pc->act_tail : &pc->inact_tail;
	if (active) { pg->flags |= PG_active; pc->nactive++; }
	else { pg->flags &= ~PG_active; pc->ninactive++; }
	pg->lprev = NULL;
	pg->lnext = *head;
	if (*head) (*head)->lprev = pg; else *tail = pg;
	*head = pg;
}

static void mark_page_accessed(struct lfs_pc *pc, struct lfs_page *pg)
{
	if (!(pg->flags & PG_referenced)) {
		pg->flags |= PG_referenced;
	} else if (!(pg->flags & PG_active)) {
		lru_del(pc, pg);
		lru_add_head(pc, pg, 1);
		pg->flags &= ~PG_referenced;
	}
}

/* ---------------------------------------------------------------- mapping hash */

void lfs_mapping_init(struct lfs_mapping *m, struct lfs_pc *pc, const struct lfs_aops *a_ops,
		      void *host, uint64_t ino, uint64_t i_size)
{
	memset(m, 0, sizeof *m);
	m->pc = pc;
	m->a_ops = a_ops;
	m->host = host;
	m->ino = ino;
	m->i_size = i_size;
}

static uint32_t hslot(const struct lfs_mapping *m, uint64_t idx)
{
	/* Fibonacci hashing: the top log2(nslots) bits of idx * 2^64/phi
	 * (consecutive indices land in distinct slots; the middle bits used
	 * before filled under half the slots, and a lookup walked chains of
	 * cache-cold pages) */
	uint64_t h = idx * 0x9E3779B97F4A7C15ull;
	return (uint32_t)(h >> (64 - __builtin_ctz(m->nslots)));
}

struct lfs_page *lfs_pc_find(struct lfs_mapping *m, uint64_t index)
{
	if (!m->nslots)
		return NULL;
	for (struct lfs_page *p = m->slots[hslot(m, index)]; p; p = p->hnext)
		if (p->index == index)
			return p;
	return NULL;
}

static int hash_grow(struct lfs_mapping *m)
{
	uint32_t n = m->nslots ? m->nslots * 2 : 16;
	struct lfs_page **ns;
	if (n == 16) {                     /* the inline slots (most files are small:
					      a calloc per file was 2% of a tar-xf replay) */
		ns = m->slots0;
		memset(ns, 0, sizeof m->slots0);
	} else if (!(ns = calloc(n, sizeof *ns))) {
		return -ENOMEM;
	}
	struct lfs_page **old = m->slots;
	uint32_t on = m->nslots;
	m->slots = ns;
	m->nslots = n;
	for (uint32_t i = 0; i < on; i++)
		for (struct lfs_page *p = old[i], *nx; p; p = nx) {
			nx = p->hnext;
			uint32_t s = hslot(m, p->index);
			p->hnext = ns[s];
			ns[s] = p;
		}
	if (old != m->slots0)
		free(old);
	return 0;
}

static void hash_del(struct lfs_mapping *m, struct lfs_page *pg)
{
	for (struct lfs_page **pp = &m->slots[hslot(m, pg->index)]; *pp; pp = &(*pp)->hnext)
		if (*pp == pg) {
			*pp = pg->hnext;
			return;
		}
}

/* ---------------------------------------------------------------- dirty list */

static void dirty_list_add(struct lfs_pc *pc, struct lfs_mapping *m)
{
	if (m->on_dirty)
		return;
	m->on_dirty = 1;
	m->dirtied_when = now(pc);
	m->dnext = NULL;
	m->dprev = pc->dirty_tail;
	if (pc->dirty_tail) pc->dirty_tail->dnext = m; else pc->dirty_head = m;
	pc->dirty_tail = m;
}

static void dirty_list_del(struct lfs_pc *pc, struct lfs_mapping *m)
{
	if (!m->on_dirty)
		return;
	if (m->dprev) m->dprev->dnext = m->dnext; else pc->dirty_head = m->dnext;
	if (m->dnext) m->dnext->dprev = m->dprev; else pc->dirty_tail = m->dprev;
	m->dprev = m->dnext = NULL;
	m->on_dirty = 0;
}

/* The mapping's list of dirty pages (circular: head->dprev is the tail). */
static void dpage_add(struct lfs_mapping *m, struct lfs_page *pg)
{
	struct lfs_page *h = m->dirty_pages;
	if (!h) {
		pg->dnext = pg->dprev = pg;
		m->dirty_pages = pg;
		return;
	}
	pg->dnext = h;
	pg->dprev = h->dprev;
	h->dprev->dnext = pg;
	h->dprev = pg;
}

static void dpage_del(struct lfs_mapping *m, struct lfs_page *pg)
{
	if (pg->dnext == pg) {
		m->dirty_pages = NULL;
	} else {
		pg->dprev->dnext = pg->dnext;
		pg->dnext->dprev = pg->dprev;
		if (m->dirty_pages == pg)
			m->dirty_pages = pg->dnext;
	}
	pg->dnext = pg->dprev = NULL;
}

/* ---------------------------------------------------------------- page life */

/* Page frames come from a pool grown in slabs (geometrically, up to 256
 * pages a slab) and never handed back page by page: the pool is as large
 * as the cache has been (its size bound), a stream through a full cache
 * recycles warm frames, and a new slab is one populated mapping instead of
 * a malloc, a page fault and a clear_page per frame.  The pool is given
 * back when the cache is empty (drop_clean, lfs_pc_free). */
/* Frames start half a page into the mapping: a copy between a frame and
 * a caller's buffer at (or 16 bytes past, as malloc's) a page boundary
 * would otherwise have its loads alias its own recent stores modulo 4 KiB
 * (4K aliasing: memcpy of cached pages ran at a third of its speed). */
#define FRAME_SKEW 2048u
#define POOL_SLAB  256u                /* pages in a full slab */

static int pool_grow(struct lfs_pc *pc)
{
	size_t n = pc->nalloc < 16 ? 16 : (size_t)pc->nalloc;
	if (n > POOL_SLAB)
		n = POOL_SLAB;
	if (n > pc->max_pages + 64)
		n = (size_t)pc->max_pages + 64;
	struct frame_chunk *c = calloc(1, sizeof *c);
	struct lfs_page *pages = calloc(n, sizeof *pages);
	void *fr = MAP_FAILED;
	/* A pool that keeps growing by full slabs (a large cache filling up)
	 * has its next two slabs mapped and populated by a prefill thread
	 * while this one fills (fresh memory was a third of a write stream's
	 * time in the writer); stopped once the pool reached the cache's size. */
	if (n == POOL_SLAB && !pc->pf && pc->nalloc + 4 * POOL_SLAB <= pc->max_pages + 64)
		pc->pf = lfs_prefill_new(POOL_SLAB * pc->psz + FRAME_SKEW, 2, 0);
	if (n == POOL_SLAB && c && pages) {
		void *p = lfs_prefill_take(pc->pf);
		if (p)
			fr = p;
		else if (pc->pf)
			n = POOL_SLAB / 4;   /* none ready yet: a quarter slab here, the
						next one is likely ready by then */
	}
	if (c && pages && fr == MAP_FAILED)
		fr = mmap(NULL, n * pc->psz + FRAME_SKEW, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (fr == MAP_FAILED) {
		free(c);
		free(pages);
		return -ENOMEM;
	}
	c->pages = pages;
	c->frames = fr;
	c->n = n;
	c->next = pc->chunks;
	pc->chunks = c;
	for (size_t i = n; i-- > 0;) {
		pages[i].data = c->frames + FRAME_SKEW + i * pc->psz;
		pages[i].hnext = pc->freelist;
		pc->freelist = &pages[i];
	}
	pc->nfree += n;
	pc->nalloc += n;
	if (pc->pf && pc->nalloc >= pc->max_pages) {
		/* the pool reached the cache's size: no more slabs (the ones
		 * mapped ahead and not taken, up to two, are unmapped: made on
		 * the other core, where the last two slabs used to be mapped
		 * by the caller) */
		lfs_prefill_free(pc->pf);
		pc->pf = NULL;
	}
	return 0;
}

static void pool_free(struct lfs_pc *pc)
{
	lfs_prefill_free(pc->pf);
	pc->pf = NULL;
	while (pc->chunks) {
		struct frame_chunk *c = pc->chunks;
		pc->chunks = c->next;
		munmap(c->frames, c->n * pc->psz + FRAME_SKEW);
		free(c->pages);
		free(c);
	}
	pc->freelist = NULL;
	pc->nfree = pc->nalloc = 0;
}

static void page_free(struct lfs_pc *pc, struct lfs_page *pg)
{
	pg->hnext = pc->freelist;
	pc->freelist = pg;
	pc->nfree++;
}

/* Remove a page that is not dirty, locked or in writeback. */
static void page_remove(struct lfs_pc *pc, struct lfs_page *pg)
{
	struct lfs_mapping *m = pg->mapping;
	hash_del(m, pg);
	lru_del(pc, pg);
	m->nrpages--;
	pc->nrpages--;
	page_free(pc, pg);
}

static void shrink(struct lfs_pc *pc, uint64_t want);

/* New page at index, locked, on the inactive list (add_to_page_cache_lru). */
static struct lfs_page *page_new(struct lfs_mapping *m, uint64_t index)
{
	struct lfs_pc *pc = m->pc;
	if (pc->nrpages >= pc->max_pages)
		shrink(pc, pc->nrpages + 1 - pc->max_pages);
	if ((m->nrpages + 1) * 2 > m->nslots && hash_grow(m) < 0)
		return NULL;
	if (!pc->freelist && pool_grow(pc) < 0)
		return NULL;
	struct lfs_page *pg = pc->freelist;
	pc->freelist = pg->hnext;
	pc->nfree--;
	uint8_t *d = pg->data;
	memset(pg, 0, sizeof *pg);
	pg->data = d;
	pg->index = index;
	pg->mapping = m;
	pg->flags = PG_locked;
	uint32_t s = hslot(m, index);
	pg->hnext = m->slots[s];
	m->slots[s] = pg;
	lru_add_head(pc, pg, 0);
	m->nrpages++;
	pc->nrpages++;
	if (pc->nrpages > pc->st.peak_pages_cached)
		pc->st.peak_pages_cached = pc->nrpages;
	return pg;
}

/* ---------------------------------------------------------------- writeback */

static void end_writeback(struct lfs_pc *pc, struct lfs_page *pg)
{
	pg->flags &= ~PG_writeback;
	pg->mapping->nrwb--;
	pc->nrwb--;
}

void lfs_pc_reap(struct lfs_pc *pc, int wait)
{
	uint64_t done = 0;
	int fresh = 0;
	while (pc->wb_head) {
		struct lfs_page *pg = pc->wb_head;
		struct lfs_mapping *m = pg->mapping;
		if (pg->wb_seq > done) {
			if (!fresh) {
				done = m->a_ops->wb_done(m);
				fresh = 1;
				continue;
			}
			if (!wait)
				return;
			int rc = m->a_ops->wb_wait(m, pc->wb_tail->wb_seq);
			if (rc < 0 && !m->wb_err)
				m->wb_err = rc;
			fresh = 0;
			continue;
		}
		pc->wb_head = pg->wnext;
		if (!pc->wb_head)
			pc->wb_tail = NULL;
		pg->wnext = NULL;
		end_writeback(pc, pg);
	}
}

/* Wait until pg's txn completed and reap up to it. */
static void wait_on_page_writeback(struct lfs_pc *pc, struct lfs_page *pg)
{
	if (!(pg->flags & PG_writeback))
		return;
	struct lfs_mapping *m = pg->mapping;
	int rc = m->a_ops->wb_wait(m, pg->wb_seq);
	if (rc < 0 && !m->wb_err)
		m->wb_err = rc;
	lfs_pc_reap(pc, 0);
}

static int cmp_index(const void *a, const void *b)
{
	const struct lfs_page *x = *(struct lfs_page *const *)a, *y = *(struct lfs_page *const *)b;
	return x->index < y->index ? -1 : x->index > y->index;
}

int lfs_pc_writeback(struct lfs_mapping *m, int reason, int sync, int wait)
{
	struct lfs_pc *pc = m->pc;
	if (!m->nrdirty) {
		if (wait)
			return lfs_pc_wait_writeback(m);
		return 0;
	}
	struct lfs_page **pages = malloc(m->nrdirty * sizeof *pages);
	if (!pages)
		return -ENOMEM;
	unsigned n = 0;
	struct lfs_page *h = m->dirty_pages, *d = h;
	if (d)
		do {
			if (!(d->flags & (PG_locked | PG_writeback)) && n < m->nrdirty)
				pages[n++] = d;
			d = d->dnext;
		} while (d != h);
	/* already in order for a sequential writer: skip the sort then */
	int sorted = 1;
	for (unsigned i = 1; i < n && sorted; i++)
		sorted = pages[i - 1]->index < pages[i]->index;
	if (n == 0) {
		free(pages);
		return 0;
	}
	if (!sorted)
		qsort(pages, n, sizeof *pages, cmp_index);
	for (unsigned i = 0; i < n; i++) {
		struct lfs_page *p = pages[i];
		p->flags = (p->flags & ~PG_dirty) | PG_writeback;
		dpage_del(m, p);
		m->nrdirty--;
		pc->nrdirty--;
		m->nrwb++;
		pc->nrwb++;
	}
	if (pc->hook) {
		unsigned a = 0;
		for (unsigned i = 1; i <= n; i++)
			if (i == n || pages[i]->index != pages[i - 1]->index + 1) {
				emit(pc, LFS_EV_WRITEBACK, m->ino, pages[a]->index, i - a,
				     (uint64_t)(i - a) * pc->psz, reason);
				a = i;
			}
	}
	pc->st.writepages_calls++;
	pc->st.pages_written += n;
	int rc = m->a_ops->writepages(m, pages, n, reason, sync);
	if (rc < 0) {
		/* nothing of a failed txn reached the image: the pages stay dirty */
		for (unsigned i = 0; i < n; i++) {
			struct lfs_page *p = pages[i];
			if (!(p->flags & PG_writeback) || p->wb_seq)
				continue;
			p->flags = (p->flags & ~PG_writeback) | PG_dirty;
			dpage_add(m, p);
			m->nrwb--;
			pc->nrwb--;
			m->nrdirty++;
			pc->nrdirty++;
		}
		if (!m->wb_err)
			m->wb_err = rc;
	}
	/* queue the pages handed to txns on the FIFO (their seqs ascend) */
	for (unsigned i = 0; i < n; i++) {
		struct lfs_page *p = pages[i];
		if (!(p->flags & PG_writeback))
			continue;
		if (p->wb_seq == 0) {          /* nothing to write (inode gone) */
			end_writeback(pc, p);
			continue;
		}
		p->wnext = NULL;
		if (pc->wb_tail) pc->wb_tail->wnext = p; else pc->wb_head = p;
		pc->wb_tail = p;
	}
	free(pages);
	if (m->nrdirty == 0)
		dirty_list_del(pc, m);
	if (wait) {
		int r = lfs_pc_wait_writeback(m);
		if (rc == 0)
			rc = r;
	}
	return rc < 0 ? rc : (int)n;
}

int lfs_pc_wait_writeback(struct lfs_mapping *m)
{
	struct lfs_pc *pc = m->pc;
	uint64_t last = 0;
	for (struct lfs_page *p = pc->wb_head; p; p = p->wnext)
		if (p->mapping == m)
			last = p->wb_seq;
	if (last) {
		int rc = m->a_ops->wb_wait(m, last);
		if (rc < 0 && !m->wb_err)
			m->wb_err = rc;
	}
	lfs_pc_reap(pc, 0);
	int e = m->wb_err;
	m->wb_err = 0;
	return e;
}

int lfs_pc_fsync(struct lfs_mapping *m)
{
	int rc = lfs_pc_writeback(m, LFS_WB_FSYNC, 1, 1);
	return rc < 0 ? rc : 0;
}

int lfs_pc_sync_all(struct lfs_pc *pc, int reason)
{
	int rc = 0;
	/* each dirty mapping once (a failed one stays dirty, its error kept) */
	struct lfs_mapping *m = pc->dirty_head;
	while (m) {
		struct lfs_mapping *nx = m->dnext;
		int r = lfs_pc_writeback(m, reason, 0, 0);
		if (r < 0 && rc == 0)
			rc = r;
		m = nx;
	}
	lfs_pc_reap(pc, 1);
	return rc;
}

/* Background / hard writeback of the oldest dirty inodes. */
static void writeback_oldest(struct lfs_pc *pc, int reason, uint64_t target)
{
	struct lfs_mapping *m = pc->dirty_head;
	while (m && pc->nrdirty > target) {
		struct lfs_mapping *nx = m->dnext;
		lfs_pc_writeback(m, reason, 0, 0);
		m = nx;
	}
}

/* balance_dirty_pages, after each page written */
static void balance_dirty_pages(struct lfs_pc *pc)
{
	if (pc->nrwb)
		lfs_pc_reap(pc, 0);
	if (pc->nrdirty + pc->nrwb > pc->hard_thresh) {
		pc->st.hard_writeback++;
		writeback_oldest(pc, LFS_WB_HARD, 0);
		/* the writer is throttled until dirty + writeback is back under
		 * the threshold: it waits for the oldest txns, one at a time (as
		 * balance_dirty_pages pauses in proportion), not for all of them
		 * (that drained the pipeline: the io thread idled while the
		 * writer refilled it) */
		while (pc->wb_head && pc->nrdirty + pc->nrwb > pc->hard_thresh) {
			struct lfs_page *pg = pc->wb_head;
			struct lfs_mapping *m = pg->mapping;
			int rc = m->a_ops->wb_wait(m, pg->wb_seq);
			if (rc < 0 && !m->wb_err)
				m->wb_err = rc;
			lfs_pc_reap(pc, 0);
		}
	} else if (pc->nrdirty > pc->bg_thresh) {
		pc->st.bg_writeback++;
		writeback_oldest(pc, LFS_WB_BACKGROUND, pc->bg_thresh / 2);
	}
}

void lfs_pc_tick(struct lfs_pc *pc)
{
	uint64_t t = now(pc);
	if (!pc->ticked) {
		pc->ticked = 1;
		pc->last_tick = t;
		return;
	}
	if (t - pc->last_tick < pc->o.writeback_interval_ns)
		return;
	pc->last_tick = t;
	int any = 0;
	struct lfs_mapping *m = pc->dirty_head;
	while (m) {
		struct lfs_mapping *nx = m->dnext;
		if (m->dirtied_when + pc->o.dirty_expire_ns <= t) {
			lfs_pc_writeback(m, LFS_WB_EXPIRE, 0, 0);
			any = 1;
		} else {
			break;                      /* the list is oldest first */
		}
		m = nx;
	}
	if (any)
		pc->st.expire_writeback++;
}

/* ---------------------------------------------------------------- reclaim */

static void evict(struct lfs_pc *pc, struct lfs_page *pg)
{
	struct lfs_mapping *m = pg->mapping;
	emit(pc, LFS_EV_EVICT, m->ino, pg->index, 1, pc->psz, 0);
	pc->st.pages_evicted++;
	page_remove(pc, pg);
}

static void shrink(struct lfs_pc *pc, uint64_t want)
{
	for (int round = 0; want > 0 && round < 4; round++) {
		if (pc->nrwb)
			lfs_pc_reap(pc, 0);
		/* shrink_active_list: keep inactive >= active */
		while (pc->act_tail && pc->ninactive < pc->nactive) {
			struct lfs_page *p = pc->act_tail;
			lru_del(pc, p);
			p->flags &= ~PG_referenced;
			lru_add_head(pc, p, 0);
		}
		uint64_t scan = pc->ninactive + pc->nactive;
		while (want > 0 && scan-- > 0) {
			struct lfs_page *p = pc->inact_tail;
			if (!p) {
				p = pc->act_tail;        /* inactive empty: take from active */
				if (!p)
					break;
				lru_del(pc, p);
				lru_add_head(pc, p, 0);
				continue;
			}
			struct lfs_mapping *m = p->mapping;
			if (p->flags & (PG_locked | PG_writeback)) {
				lru_del(pc, p);
				lru_add_head(pc, p, 0);
				continue;
			}
			if (p->flags & PG_dirty) {
				/* pageout: the whole inode goes to writeback */
				lru_del(pc, p);
				lru_add_head(pc, p, 0);
				lfs_pc_writeback(m, LFS_WB_EVICT, 0, 0);
				continue;
			}
			if (m->a_ops->release && !m->a_ops->release(m, p)) {
				lru_del(pc, p);
				lru_add_head(pc, p, 1);
				continue;
			}
			evict(pc, p);
			want--;
		}
		if (want > 0 && pc->nrwb)
			lfs_pc_reap(pc, 1);              /* wait for writeback, retry */
		else if (want > 0)
			break;                           /* all locked: run over the limit */
	}
}

void lfs_pc_drop_clean(struct lfs_pc *pc)
{
	lfs_pc_reap(pc, 0);
	for (int l = 0; l < 2; l++) {
		struct lfs_page *p = l ? pc->act_head : pc->inact_head;
		while (p) {
			struct lfs_page *nx = p->lnext;
			if (!(p->flags & (PG_dirty | PG_locked | PG_writeback)))
				page_remove(pc, p);
			p = nx;
		}
	}
	if (pc->nrpages == 0)
		pool_free(pc);
}

/* ---------------------------------------------------------------- invalidation */

static void drop_page(struct lfs_pc *pc, struct lfs_page *pg)
{
	struct lfs_mapping *m = pg->mapping;
	wait_on_page_writeback(pc, pg);
	if (pg->flags & PG_writeback) {       /* failed wait: take it off the FIFO */
		for (struct lfs_page **pp = &pc->wb_head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->wnext)
			if (*pp == pg) {
				*pp = pg->wnext;
				if (pc->wb_tail == pg)
					pc->wb_tail = prev;
				break;
			}
		end_writeback(pc, pg);
	}
	if (pg->flags & PG_dirty) {
		pg->flags &= ~PG_dirty;
		dpage_del(m, pg);
		m->nrdirty--;
		pc->nrdirty--;
	}
	if (m->a_ops->invalidate)
		m->a_ops->invalidate(m, pg);
	page_remove(pc, pg);
	if (m->nrdirty == 0)
		dirty_list_del(pc, m);
}

void lfs_pc_drop_clean_range(struct lfs_mapping *m, uint64_t first, uint64_t last)
{
	struct lfs_pc *pc = m->pc;
	if (!m->nrpages || first > last)
		return;
	lfs_pc_reap(pc, 0);
	if (last - first < m->nrpages) {
		for (uint64_t i = first;; i++) {
			struct lfs_page *p = lfs_pc_find(m, i);
			if (p && !(p->flags & (PG_dirty | PG_locked | PG_writeback)))
				page_remove(pc, p);
			if (i == last)
				break;
		}
		return;
	}
	for (uint32_t s = 0; s < m->nslots; s++) {
		struct lfs_page *p = m->slots[s];
		while (p) {
			struct lfs_page *nx = p->hnext;
			if (p->index >= first && p->index <= last &&
			    !(p->flags & (PG_dirty | PG_locked | PG_writeback)))
				page_remove(pc, p);
			p = nx;
		}
	}
}

void lfs_pc_truncate(struct lfs_mapping *m, uint64_t from)
{
	struct lfs_pc *pc = m->pc;
	uint64_t first = (from + pc->psz - 1) / pc->psz;
	for (uint32_t s = 0; s < m->nslots; s++) {
		struct lfs_page *p = m->slots[s];
		while (p) {
			struct lfs_page *nx = p->hnext;
			if (p->index >= first)
				drop_page(pc, p);
			p = nx;
		}
	}
	if (from % pc->psz) {
		struct lfs_page *p = lfs_pc_find(m, from / pc->psz);
		if (p) {
			wait_on_page_writeback(pc, p);
			size_t o = (size_t)(from % pc->psz);
			memset(p->data + o, 0, pc->psz - o);
			p->flags &= ~PG_crc;
		}
	}
}

int lfs_pc_invalidate_range(struct lfs_mapping *m, uint64_t pos, uint64_t len)
{
	struct lfs_pc *pc = m->pc;
	if (!m->nrpages || len == 0)
		return 0;
	uint64_t first = pos / pc->psz, last = (pos + len - 1) / pc->psz;
	int dirty = 0;
	for (uint64_t i = first; i <= last && !dirty; i++) {
		struct lfs_page *p = lfs_pc_find(m, i);
		dirty = p && (p->flags & (PG_dirty | PG_writeback));
		if (last - first > m->nrpages)
			break;
	}
	int rc = 0;
	if (dirty || last - first > m->nrpages)
		rc = lfs_pc_writeback(m, LFS_WB_SYNC, 0, 1);
	if (rc < 0)
		return rc;
	for (uint32_t s = 0; s < m->nslots; s++) {
		struct lfs_page *p = m->slots[s];
		while (p) {
			struct lfs_page *nx = p->hnext;
			if (p->index >= first && p->index <= last && !(p->flags & PG_locked))
				drop_page(pc, p);
			p = nx;
		}
	}
	return 0;
}

void lfs_mapping_destroy(struct lfs_mapping *m)
{
	lfs_pc_truncate(m, 0);
	dirty_list_del(m->pc, m);
	if (m->slots != m->slots0)
		free(m->slots);
	m->slots = NULL;
	m->nslots = 0;
}

void lfs_pc_free(struct lfs_pc *pc)
{
	if (!pc)
		return;
	lfs_pc_drop_clean(pc);
	pool_free(pc);
	free(pc);
}

/* ---------------------------------------------------------------- readahead */

static void read_pages(struct lfs_mapping *m, struct lfs_page **batch, unsigned n, int async)
{
	struct lfs_pc *pc = m->pc;
	if (!n)
		return;
	for (unsigned i = 0; i < n; i++)
		batch[i]->flags &= ~PG_crc;
	int rc = m->a_ops->readahead(m, batch, n);
	pc->st.readahead_calls++;
	pc->st.ra_pages += n;
	if (async)
		pc->st.async_ra++;
	emit(pc, LFS_EV_READAHEAD, m->ino, batch[0]->index, n, (uint64_t)n * pc->psz, async);
	for (unsigned i = 0; i < n; i++) {
		if (rc >= 0)
			batch[i]->flags |= PG_uptodate | PG_ra_unused;
		batch[i]->flags &= ~PG_locked;
	}
}

/* page_cache_ra_unbounded / do_page_cache_ra */
static void do_page_cache_ra(struct lfs_mapping *m, uint64_t index, uint64_t nr,
			     uint64_t lookahead, int async)
{
	struct lfs_pc *pc = m->pc;
	if (!m->i_size)
		return;
	uint64_t end_index = (m->i_size - 1) / pc->psz;
	if (index > end_index)
		return;
	if (nr > end_index - index + 1)
		nr = end_index - index + 1;
	struct lfs_page **batch = malloc(nr * sizeof *batch);
	if (!batch)
		return;
	unsigned n = 0;
	for (uint64_t i = 0; i < nr; i++) {
		struct lfs_page *p = lfs_pc_find(m, index + i);
		if (p) {
			read_pages(m, batch, n, async);   /* a cached page splits the batch */
			n = 0;
			continue;
		}
		p = page_new(m, index + i);
		if (!p)
			break;
		if (lookahead && i == nr - lookahead)
			p->flags |= PG_readahead;
		batch[n++] = p;
	}
	read_pages(m, batch, n, async);
	free(batch);
}

static uint64_t get_init_ra_size(uint64_t size, uint64_t max)
{
	uint64_t newsize = 1;
	while (newsize < size)
		newsize <<= 1;                      /* roundup_pow_of_two */
	if (newsize <= max / 32)
		newsize = newsize * 4;
	else if (newsize <= max / 4)
		newsize = newsize * 2;
	else
		newsize = max;
	return newsize;
}

static uint64_t get_next_ra_size(const struct lfs_ra_state *ra, uint64_t max)
{
	uint64_t cur = ra->size;
	if (cur < max / 16)
		return 4 * cur;
	if (cur <= max / 2)
		return 2 * cur;
	return max;
}

/* count_history_pages: cached pages just before index */
static uint64_t count_history_pages(struct lfs_mapping *m, uint64_t index, uint64_t max)
{
	uint64_t n = 0;
	while (n < max && n < index && lfs_pc_find(m, index - 1 - n))
		n++;
	return n;
}

static void ondemand_readahead(struct lfs_mapping *m, struct lfs_ra_state *ra, int hit_marker,
			       uint64_t index, uint64_t req_size)
{
	struct lfs_pc *pc = m->pc;
	uint64_t max = ra->ra_max ? ra->ra_max : pc->ra_pages;
	if (!index)
		goto initial;
	/* sequential: at the marker or just past the window — ramp up */
	if (index == ra->start + ra->size - ra->async_size || index == ra->start + ra->size) {
		ra->start += ra->size;
		ra->size = get_next_ra_size(ra, max);
		ra->async_size = ra->size;
		goto readit;
	}
	if (hit_marker) {
		/* interleaved streams: restart from the next missing page */
		uint64_t start = index + 1;
		while (start - index <= max && lfs_pc_find(m, start))
			start++;
		if (start - index > max)
			return;
		ra->start = start;
		ra->size = start - index + req_size;
		ra->size = get_next_ra_size(ra, max);
		ra->async_size = ra->size;
		goto readit;
	}
	if (req_size > max)
		goto initial;                       /* oversize read */
	uint64_t prev_index = ra->prev_pos < 0 ? UINT64_MAX : (uint64_t)ra->prev_pos / pc->psz;
	if (index - prev_index <= 1)
		goto initial;                       /* sequential cache miss */
	{
		/* try_context_readahead */
		uint64_t size = count_history_pages(m, index, max);
		if (size > req_size) {
			if (size >= index)
				size *= 2;
			ra->start = index;
			ra->size = size + req_size < max ? size + req_size : max;
			ra->async_size = 1;
			goto readit;
		}
	}
	/* standalone small random read: read as is */
	do_page_cache_ra(m, index, req_size, 0, 0);
	return;
initial:
	ra->start = index;
	ra->size = get_init_ra_size(req_size, max);
	ra->async_size = ra->size > req_size ? ra->size - req_size : ra->size;
readit:
	/* the first async window is read together with the current one */
	if (!hit_marker && index == ra->start && ra->size == ra->async_size) {
		uint64_t add = get_next_ra_size(ra, max);
		if (ra->size + add <= max) {
			ra->async_size = add;
			ra->size += add;
		} else {
			ra->size = max;
			ra->async_size = max >> 1;
		}
	}
	do_page_cache_ra(m, ra->start, ra->size, ra->async_size, hit_marker);
}

/* ---------------------------------------------------------------- read */

static int readpage_sync(struct lfs_mapping *m, struct lfs_page *pg)
{
	struct lfs_pc *pc = m->pc;
	pg->flags = (pg->flags & ~PG_crc) | PG_locked;
	int rc = m->a_ops->readpage(m, pg);
	pc->st.readpage++;
	emit(pc, LFS_EV_READPAGE, m->ino, pg->index, 1, pc->psz, 0);
	if (rc >= 0)
		pg->flags |= PG_uptodate;
	pg->flags &= ~PG_locked;
	return rc < 0 ? rc : 0;
}

ssize_t lfs_pc_filemap_read(struct lfs_mapping *m, struct lfs_ra_state *ra, void *buf, size_t n,
			    uint64_t pos)
{
	struct lfs_pc *pc = m->pc;
	uint32_t psz = pc->psz;
	if (pos >= m->i_size || n == 0)
		return 0;
	if (n > m->i_size - pos)
		n = (size_t)(m->i_size - pos);
	size_t done = 0;
	uint64_t last_index = (pos + n + psz - 1) / psz;
	int first = 1;
	/* the page holding the last byte read before (Linux 6.x last_pos - 1) */
	int64_t prev_page = ra->prev_pos <= 0 ? -1 : (ra->prev_pos - 1) / psz;
	while (done < n) {
		uint64_t p = pos + done, index = p / psz;
		size_t off = (size_t)(p % psz), take = psz - off;
		if (take > n - done)
			take = n - done;
		pc->st.lookups++;
		struct lfs_page *pg = lfs_pc_find(m, index);
		if (pg && (pg->flags & PG_uptodate)) {
			pc->st.hits++;
			emit(pc, LFS_EV_PC_HIT, m->ino, index, 1, 0, 0);
		} else {
			pc->st.misses++;
			emit(pc, LFS_EV_PC_MISS, m->ino, index, 1, 0, 0);
			if (!pg && pc->ra_pages > 1) {   /* page_cache_sync_readahead */
				ondemand_readahead(m, ra, 0, index, last_index - index);
				pg = lfs_pc_find(m, index);
			}
			if (!pg) {
				pg = page_new(m, index);
				if (!pg)
					return done ? (ssize_t)done : -ENOMEM;
				pg->flags &= ~PG_locked;
			}
			if (!(pg->flags & PG_uptodate)) {
				int rc = readpage_sync(m, pg);
				if (rc < 0)
					return done ? (ssize_t)done : rc;
			}
		}
		if ((pg->flags & PG_readahead) && pc->ra_pages > 1) {   /* page_cache_async_ra */
			pg->flags &= ~PG_readahead;
			/* hold the page (get_page): readahead may reclaim */
			uint32_t held = pg->flags & PG_locked;
			pg->flags |= PG_locked;
			ondemand_readahead(m, ra, 1, index, last_index - index);
			pg->flags = (pg->flags & ~PG_locked) | held;
		}
		if (pg->flags & PG_ra_unused) {
			pg->flags &= ~PG_ra_unused;
			pc->st.ra_used++;
		}
		if (!first || (int64_t)index != prev_page)
			mark_page_accessed(pc, pg);
		first = 0;
		memcpy((char *)buf + done, pg->data + off, take);
		done += take;
		ra->prev_pos = (int64_t)(pos + done);
	}
	return (ssize_t)done;
}

/* ---------------------------------------------------------------- write */

void lfs_pc_set_page_dirty(struct lfs_page *pg)
{
	struct lfs_mapping *m = pg->mapping;
	struct lfs_pc *pc = m->pc;
	if (m->a_ops->dirty)
		m->a_ops->dirty(m, pg);
	if (pg->flags & PG_dirty)
		return;
	pg->flags |= PG_dirty;
	dpage_add(m, pg);
	m->nrdirty++;
	pc->nrdirty++;
	pc->st.pages_dirtied++;
	if (pc->nrdirty > pc->st.peak_pages_dirty)
		pc->st.peak_pages_dirty = pc->nrdirty;
	dirty_list_add(pc, m);
	emit(pc, LFS_EV_DIRTY, m->ino, pg->index, 1, pc->psz, 0);
}

int lfs_pc_write_begin(struct lfs_mapping *m, uint64_t pos, unsigned len, struct lfs_page **pagep)
{
	struct lfs_pc *pc = m->pc;
	uint64_t index = pos / pc->psz;
	size_t off = (size_t)(pos % pc->psz);
	struct lfs_page *pg = lfs_pc_find(m, index);
	if (!pg) {
		pg = page_new(m, index);
		if (!pg)
			return -ENOMEM;
	}
	pg->flags |= PG_locked;
	wait_on_page_writeback(pc, pg);             /* stable pages */
	pg->flags &= ~PG_crc;                       /* the write changes it */
	if (!(pg->flags & PG_uptodate) && !(off == 0 && len == pc->psz)) {
		if (index * pc->psz < m->i_size) {
			/* the page holds data: read it before the partial write */
			int rc = m->a_ops->readpage(m, pg);
			pc->st.rmw_reads++;
			emit(pc, LFS_EV_RMW, m->ino, index, 1, pc->psz, 0);
			if (rc < 0) {
				pg->flags &= ~PG_locked;
				return rc;
			}
		} else {
			/* past the end: only what the write will not cover is
			 * zeroed (zero_user_segments of block_write_begin) */
			size_t end = off + len < pc->psz ? off + len : pc->psz;
			memset(pg->data, 0, off);
			memset(pg->data + end, 0, pc->psz - end);
		}
		pg->flags |= PG_uptodate;
	}
	*pagep = pg;
	return 0;
}

int lfs_pc_write_end(struct lfs_mapping *m, uint64_t pos, unsigned len, unsigned copied,
		     struct lfs_page *pg)
{
	if (!(pg->flags & PG_uptodate) && copied == len)
		pg->flags |= PG_uptodate;
	lfs_pc_set_page_dirty(pg);
	pg->flags &= ~PG_locked;
	if (pos + copied > m->i_size)
		m->i_size = pos + copied;
	return (int)copied;
}

ssize_t lfs_pc_perform_write(struct lfs_mapping *m, const void *buf, size_t n, uint64_t pos)
{
	struct lfs_pc *pc = m->pc;
	size_t done = 0;
	while (done < n) {
		uint64_t p = pos + done;
		size_t off = (size_t)(p % pc->psz);
		unsigned bytes = (unsigned)(pc->psz - off);
		if (bytes > n - done)
			bytes = (unsigned)(n - done);
		struct lfs_page *pg;
		int rc = m->a_ops->write_begin(m, p, bytes, &pg);
		if (rc < 0)
			return done ? (ssize_t)done : rc;
		memcpy(pg->data + off, (const char *)buf + done, bytes);
		if (bytes == pc->psz && !pc->o.no_page_crc) {
			/* a whole page: checksummed while it is hot in the cache, so
			 * writeback need not read it again (memcpy + crc32c over the
			 * frame costs about the memcpy alone; a fused crc-copy was
			 * 2x slower into cold frames: no rep-movsb store path) */
			pg->crc = lfs_crc32c(0, pg->data, bytes);
			pg->flags |= PG_crc;
		}
		rc = m->a_ops->write_end(m, p, bytes, bytes, pg);
		if (rc < 0)
			return done ? (ssize_t)done : rc;
		done += bytes;
		balance_dirty_pages(pc);
	}
	return (ssize_t)done;
}
