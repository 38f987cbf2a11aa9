/*
 * lib/txn/txn.h — the transaction handler (LightFS's txn_hdlr).
 *
 *   vfs → pagecache → fs → [txn] → io → kv → image file
 *
 * A txn collects data pages and metadata records (inode, dentry, super)
 * and becomes one atomic KV batch when committed: after a crash either all
 * of it is in the image or none of it.  A txn holds at most max_pages data
 * pages (LightFS used 310); the caller asks lfs_txn_full() and starts the
 * next txn (writeback splits a long run of dirty pages that way).
 *
 * Commits are served in submission order by the io server, so "txn with
 * sequence s is durable" implies every earlier one is too; fsync waits for
 * the sequence of the txn holding its data (lfs_txn_wait).  Async commits
 * in flight are bounded (max_inflight): each holds its pages in writeback
 * (the batch itself holds references to them and the keys, not copies), and
 * 8 let a background writeback round (about 6 txns with a 64 MiB cache) go
 * without the writer waiting for the first of them.
 *
 * Reads (get, mget, scan) pass through to io unchanged: io orders them
 * after every commit submitted before them.
 */
#ifndef LFS_TXN_TXN_H
#define LFS_TXN_TXN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "io/io.h"

struct lfs_txn_mgr;
struct lfs_txn;

struct lfs_txn_opts {
	uint32_t max_pages;        /* 0 = 310 */
	uint32_t max_inflight;     /* async commits in flight, 0 = 8 */
	void (*hook)(void *arg, const struct lfs_event *ev);
	void *hook_arg;
};

struct lfs_txn_stats {
	uint64_t txns;             /* committed txns holding data pages */
	uint64_t pages;            /* data pages in them */
	uint64_t meta_ops;         /* metadata records (inode, dentry, super, deletes) in any txn */
	uint64_t max_pages;        /* most pages in one txn */
	uint64_t fsync_waits;      /* fsyncs that waited for the txn holding their data */
};

int  lfs_txn_mgr_new(struct lfs_io *io, const struct lfs_txn_opts *o, struct lfs_txn_mgr **out);
void lfs_txn_mgr_free(struct lfs_txn_mgr *tm);
struct lfs_io *lfs_txn_io(struct lfs_txn_mgr *tm);
uint32_t lfs_txn_max_pages(struct lfs_txn_mgr *tm);
void lfs_txn_set_hook(struct lfs_txn_mgr *tm, void (*hook)(void *, const struct lfs_event *),
		      void *arg);

struct lfs_txn *lfs_txn_begin(struct lfs_txn_mgr *tm);   /* NULL: out of memory */
/* val stays unchanged until the commit completes (stable page). */
int lfs_txn_put_page(struct lfs_txn *t, uint64_t ino, uint64_t idx, const void *key, size_t klen,
		     const void *val, size_t vlen);
/* The same with the value's CRC32C known (a page checksummed as it was
 * written: the commit need not read it for that). */
int lfs_txn_put_page_crc(struct lfs_txn *t, uint64_t ino, uint64_t idx, const void *key,
			 size_t klen, const void *val, size_t vlen, uint32_t vcrc);
int lfs_txn_put(struct lfs_txn *t, const void *key, size_t klen, const void *val, size_t vlen);
int lfs_txn_del(struct lfs_txn *t, const void *key, size_t klen);
int lfs_txn_del_range(struct lfs_txn *t, const void *lo, size_t lolen, const void *hi, size_t hilen);
int lfs_txn_full(const struct lfs_txn *t);
uint32_t lfs_txn_pages(const struct lfs_txn *t);
size_t lfs_txn_items(const struct lfs_txn *t);

#define LFS_TXN_SYNC  1            /* durable when complete */
#define LFS_TXN_ASYNC 2            /* return at once; wait with lfs_txn_wait(*seq) */
/* Commit and free t.  An empty txn commits nothing (with SYNC it syncs). */
int  lfs_txn_commit(struct lfs_txn *t, int flags, uint64_t *seq, struct lfs_err *err);
void lfs_txn_abort(struct lfs_txn *t);

/* Wait until the commit seq (and every earlier one) completed; fsync says so. */
int lfs_txn_wait(struct lfs_txn_mgr *tm, uint64_t seq, int for_fsync);
uint64_t lfs_txn_done(struct lfs_txn_mgr *tm);
uint64_t lfs_txn_last(struct lfs_txn_mgr *tm);
int lfs_txn_sync(struct lfs_txn_mgr *tm, struct lfs_err *err);

/* Reads, through the channel. */
int lfs_txn_get(struct lfs_txn_mgr *tm, const void *key, size_t klen, void *buf, size_t cap,
		size_t *vlen, struct lfs_err *err);
int lfs_txn_mget(struct lfs_txn_mgr *tm, size_t n, const void *const *keys, const size_t *klens,
		 void *const *vals, size_t cap, ssize_t *vlens, struct lfs_err *err);
int lfs_txn_scan(struct lfs_txn_mgr *tm, const void *lo, size_t lolen, const void *hi, size_t hilen,
		 int (*cb)(void *arg, const void *k, size_t kl, const void *v, size_t vl), void *arg,
		 struct lfs_err *err);

int lfs_txn_scan_keys(struct lfs_txn_mgr *tm, const void *lo, size_t lolen, const void *hi,
		      size_t hilen, int (*cb)(void *arg, const void *k, size_t kl, const void *v,
		      size_t vl), void *arg, struct lfs_err *err);

void lfs_txn_stats(struct lfs_txn_mgr *tm, struct lfs_txn_stats *st);

/* Command-wide transaction: every txn committed between group_begin and
 * the matching group_commit is one atomic unit after a crash (a KV group:
 * lfs_kv_group_begin).  Inside a group a txn's commit is visible at once
 * but durable only with the group's commit (LFS_TXN_SYNC there only writes;
 * group_commit with sync is the acknowledgement point).  Nest. */
int lfs_txn_group_begin(struct lfs_txn_mgr *tm);
int lfs_txn_group_commit(struct lfs_txn_mgr *tm, int sync);

#endif
