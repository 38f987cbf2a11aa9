/*
 * lib/pagecache/pagecache.h — the generic page cache (mm/filemap.c,
 * mm/readahead.c, mm/page-writeback.c, mm/vmscan.c in miniature).
 *
 *   vfs → [pagecache] → fs → txn → io → kv → image file
 *
 * One struct lfs_pc per mount holds the global LRU (active + inactive
 * lists, bounded by cache_bytes), the dirty-inode list (b_dirty, oldest
 * first), the writeback FIFO and the counters.  One struct lfs_mapping
 * (address_space) per cached inode holds its pages in a hash keyed by page
 * index.  The filesystem plugs in through struct lfs_aops (the vfs's
 * lightfs_aops); everything else here is generic.
 *
 * Page states and invariants:
 *   PG_locked     set while a page is being filled or written into; never
 *                 evicted or written back while locked.
 *   PG_uptodate   data valid.
 *   PG_dirty      newer than the KV copy; on the mapping's dirty count and
 *                 the mapping on pc's dirty list.
 *   PG_writeback  handed to writepages, its txn not yet complete: the data
 *                 must not change (stable pages: write_begin waits) and the
 *                 page is not evicted (io reads it asynchronously).
 *   PG_readahead  the marker page: reading it starts async readahead.
 * A page is on exactly one LRU list (PG_active says which).  Writeback
 * completions arrive in submission order (txn.h), so the writeback FIFO is
 * reaped from its head.
 * Locking: none (a mount is used by one thread; the io thread never touches
 * pages except reading the data of PG_writeback pages).
 */
#ifndef LFS_PAGECACHE_PAGECACHE_H
#define LFS_PAGECACHE_PAGECACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vfs/lightfs.h"   /* struct lfs_event, enum lfs_wb_reason */

#define PG_uptodate   (1u << 0)
#define PG_dirty      (1u << 1)
#define PG_locked     (1u << 2)
#define PG_writeback  (1u << 3)
#define PG_readahead  (1u << 4)
#define PG_referenced (1u << 5)
#define PG_active     (1u << 6)
#define PG_ra_unused  (1u << 7)   /* brought in by readahead, not read yet */
#define PG_crc        (1u << 8)   /* crc is the CRC32C of the whole page (set by a
				   * write that copied the whole page in, checksummed
				   * in the same pass; any other change clears it) */

struct lfs_pc;
struct lfs_mapping;

struct lfs_page {
	uint64_t index;
	uint32_t flags;
	struct lfs_mapping *mapping;
	struct lfs_page *hnext;          /* mapping hash chain */
	struct lfs_page *lprev, *lnext;  /* LRU list */
	struct lfs_page *wnext;          /* writeback FIFO */
	struct lfs_page *dprev, *dnext;  /* the mapping's dirty pages */
	uint64_t wb_seq;                 /* txn sequence holding it (PG_writeback) */
	uint32_t crc;                    /* PG_crc: CRC32C of data (page size bytes) */
	uint8_t *data;                   /* page size bytes */
};

/* Per open file readahead state (struct file_ra_state). */
struct lfs_ra_state {
	uint64_t start;                  /* window start page */
	uint64_t size, async_size;       /* window pages, of which async (marker) */
	int64_t  prev_pos;               /* byte after the last read, -1 = none */
	uint64_t ra_max;                 /* max window, pages (0: the cache's);
					  * POSIX_FADV_SEQUENTIAL doubles it */
};

struct lfs_aops {
	int  (*readpage)(struct lfs_mapping *m, struct lfs_page *pg);
	/* Fill n locked, new pages (any indexes of m) in one request. */
	int  (*readahead)(struct lfs_mapping *m, struct lfs_page **pages, unsigned n);
	int  (*write_begin)(struct lfs_mapping *m, uint64_t pos, unsigned len, struct lfs_page **pagep);
	int  (*write_end)(struct lfs_mapping *m, uint64_t pos, unsigned len, unsigned copied,
			  struct lfs_page *pg);
	/* Commit pages (sorted by index, already PG_writeback) with the inode
	 * in txns; set each page's wb_seq.  sync: the last txn durable. */
	int  (*writepages)(struct lfs_mapping *m, struct lfs_page **pages, unsigned n, int reason,
			   int sync);
	void (*dirty)(struct lfs_mapping *m, struct lfs_page *pg);       /* set_page_dirty */
	void (*invalidate)(struct lfs_mapping *m, struct lfs_page *pg);  /* dropped by truncate */
	int  (*release)(struct lfs_mapping *m, struct lfs_page *pg);     /* may it be evicted? */
	int  (*wb_wait)(struct lfs_mapping *m, uint64_t seq);            /* wait for a txn */
	uint64_t (*wb_done)(struct lfs_mapping *m);                      /* completed seq */
};

struct lfs_mapping {
	struct lfs_pc *pc;
	const struct lfs_aops *a_ops;
	void *host;                      /* the vfs inode */
	uint64_t ino;
	uint64_t i_size;                 /* the host's size (EOF for reads) */
	struct lfs_page **slots;         /* hash of pages by index */
	uint32_t nslots;
	struct lfs_page *slots0[16];     /* its first slots, inline: a small file's
					    pages need no allocation (slots == slots0) */
	uint64_t nrpages, nrdirty, nrwb;
	struct lfs_page *dirty_pages;    /* PG_dirty pages, in dirtying order */
	uint64_t dirtied_when;           /* clock when it became dirty (b_dirty order) */
	struct lfs_mapping *dprev, *dnext;
	int on_dirty;
	int wb_err;                      /* a failed writeback (reported by fsync) */
};

struct lfs_pc_opts {
	uint32_t page_size;
	uint64_t cache_bytes;            /* 0 = 64 MiB */
	uint32_t readahead_max;          /* bytes, 0 = 128 KiB; <= 1 page: off */
	double   dirty_background_ratio; /* 0 = 0.10 */
	double   dirty_ratio;            /* 0 = 0.20 */
	uint64_t dirty_expire_ns;        /* 0 = 30 s */
	uint64_t writeback_interval_ns;  /* 0 = 5 s */
	uint64_t (*clock)(void *arg);    /* NULL = CLOCK_MONOTONIC */
	void    *clock_arg;
	int      no_page_crc;            /* 1: whole-page writes are not checksummed
					  * (the backend needs no CRC: an in-memory image) */
};

struct lfs_pc_stats {
	uint64_t lookups, hits, misses, readpage, readahead_calls, ra_pages, ra_used, async_ra;
	uint64_t pages_dirtied, pages_written, pages_evicted;
	uint64_t writepages_calls, bg_writeback, hard_writeback, expire_writeback, rmw_reads;
	uint64_t pages_cached, pages_dirty, bytes_cached, peak_pages_cached, peak_pages_dirty;
	uint64_t active, inactive;
	uint64_t pages_writeback;        /* now */
};

int  lfs_pc_new(const struct lfs_pc_opts *o, struct lfs_pc **out);
/* Every mapping must be gone (lfs_mapping_destroy) first. */
void lfs_pc_free(struct lfs_pc *pc);
void lfs_pc_set_hook(struct lfs_pc *pc, void (*hook)(void *, const struct lfs_event *), void *arg);
void lfs_pc_stats(struct lfs_pc *pc, struct lfs_pc_stats *st);
uint64_t lfs_pc_max_pages(struct lfs_pc *pc);
uint64_t lfs_pc_ra_pages(struct lfs_pc *pc);
/* POSIX_FADV_SEQUENTIAL (on) / NORMAL (off): as Linux's generic_fadvise,
 * the file's readahead window may grow to twice the default (never past
 * half the cache). */
void lfs_ra_sequential(struct lfs_pc *pc, struct lfs_ra_state *ra, int on);
uint64_t lfs_pc_bg_thresh(struct lfs_pc *pc);
uint64_t lfs_pc_hard_thresh(struct lfs_pc *pc);

void lfs_mapping_init(struct lfs_mapping *m, struct lfs_pc *pc, const struct lfs_aops *a_ops,
		      void *host, uint64_t ino, uint64_t i_size);
/* Drops every page (waits for writeback first; dirty data is discarded). */
void lfs_mapping_destroy(struct lfs_mapping *m);

void lfs_ra_init(struct lfs_ra_state *ra);

struct lfs_page *lfs_pc_find(struct lfs_mapping *m, uint64_t index);

/* ---- generic file paths (mm/filemap.c) */
ssize_t lfs_pc_filemap_read(struct lfs_mapping *m, struct lfs_ra_state *ra, void *buf, size_t n,
			    uint64_t pos);
ssize_t lfs_pc_perform_write(struct lfs_mapping *m, const void *buf, size_t n, uint64_t pos);

/* ---- helpers for the filesystem's aops */
/* grab_cache_page_write_begin + read-modify-write of a partly written
 * page that holds data (ceph_write_begin); waits for writeback.  A new
 * page past the end is zeroed outside [pos, pos + len) only: the caller
 * writes all len bytes before write_end. */
int  lfs_pc_write_begin(struct lfs_mapping *m, uint64_t pos, unsigned len, struct lfs_page **pagep);
/* generic_write_end: uptodate, dirty, unlock, i_size. */
int  lfs_pc_write_end(struct lfs_mapping *m, uint64_t pos, unsigned len, unsigned copied,
		      struct lfs_page *pg);
void lfs_pc_set_page_dirty(struct lfs_page *pg);

/* ---- writeback */
/* Write back the mapping's dirty pages (async unless wait); reason is an
 * enum lfs_wb_reason.  Returns pages submitted or < 0. */
int  lfs_pc_writeback(struct lfs_mapping *m, int reason, int sync, int wait);
/* fsync: write back with the last txn durable, wait for every page of m. */
int  lfs_pc_fsync(struct lfs_mapping *m);
/* Wait for every page of m in writeback. */
int  lfs_pc_wait_writeback(struct lfs_mapping *m);
/* sync(2): every dirty mapping, waited. */
int  lfs_pc_sync_all(struct lfs_pc *pc, int reason);
/* The periodic flusher (wb_workfn): age-based writeback on the mount clock. */
void lfs_pc_tick(struct lfs_pc *pc);
/* Reap completed writeback (wait = 1: all of it). */
void lfs_pc_reap(struct lfs_pc *pc, int wait);

/* ---- invalidation */
/* truncate_inode_pages: drop pages wholly at or past byte `from` (waits
 * for their writeback, dirty data discarded) and zero the cached tail of
 * the page holding `from`. */
void lfs_pc_truncate(struct lfs_mapping *m, uint64_t from);
/* O_DIRECT: write back and drop cached pages overlapping [pos, pos+len). */
int  lfs_pc_invalidate_range(struct lfs_mapping *m, uint64_t pos, uint64_t len);
/* invalidate_mapping_pages: drop the clean, unlocked pages (not in
 * writeback) with index in [first, last]. */
void lfs_pc_drop_clean_range(struct lfs_mapping *m, uint64_t first, uint64_t last);
/* drop_caches: evict every clean, unlocked page. */
void lfs_pc_drop_clean(struct lfs_pc *pc);

#endif
