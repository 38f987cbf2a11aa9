/*
 * lib/fs/fs.h — the LightFS layer: inodes, dentries and data pages as KV
 * records (schema in schema.h / FORMAT.md).
 *
 * Invariants: every namespace operation (create, link, unlink, rename) is
 * one KV batch, so it is atomic across a crash; the superblock's next inode
 * number is written in the batch that uses it; a hole is an absent data key;
 * truncate is a range delete.  Data pages arrive from the page cache's
 * writeback in txns (lfs_fs_wb_*), each holding the inode record whose
 * size covers them (never a size past pages not yet written).
 * Reads and writes go through the txn layer and the io channel; the kv
 * handle belongs to the channel's server thread while mounted.
 * Locking: none — a mount is used by one thread at a time (lightfs.h).
 */
#ifndef LFS_FS_FS_H
#define LFS_FS_FS_H

#include <stdint.h>

#include "common/err.h"
#include "fs/schema.h"
#include "kv/kv.h"
#include "txn/txn.h"

struct lfs_fs {
	struct lfs_kv *kv;        /* owned by the io server thread while mounted */
	struct lfs_fs_super sb;
	uint32_t psz;
	int ro;
	struct lfs_kv_batch *b;   /* mkfs only: the batch of the fresh fs */
	struct lfs_io *io;        /* the request channel over kv (started by mount) */
	struct lfs_txn_mgr *tm;   /* transactions over io */
	struct lfs_txn *t;        /* the open txn of the current operation */
	void *ic;                 /* inode cache (write-through, fs.c) */
	void *dc;                 /* dentry cache (write-through, fs.c) */
	void *cd;                 /* directories made by this mount, names they hold (fs.c) */
	uint32_t uid, gid;        /* getuid()/getgid() at mount: owner of new inodes */
	uint64_t ns_gen;          /* bumped by every dentry write (readdir fills dc) */
	int lent;                 /* kv lent out by lfs_fs_drain: caches are refilled */
	uint64_t dc_hits, dc_neg_hits, dc_misses;
};

/* Channel and txn geometry (lfs_fs_mount uses the defaults). */
struct lfs_fs_opts {
	uint32_t queue_depth;
	enum lfs_sched sched;
	uint32_t txn_max_pages;
	void (*hook)(void *arg, const struct lfs_event *ev);
	void *hook_arg;
	int deterministic;         /* writeback completion in submission order (io.h done_lag) */
};

uint64_t lfs_fs_now(void);
int  lfs_fs_mkfs(struct lfs_kv *kv, uint32_t page_size, int compress, int level,
		 const char *label, struct lfs_err *err);
int  lfs_fs_mount(struct lfs_kv *kv, int ro, struct lfs_fs **out, struct lfs_err *err);
int  lfs_fs_mount_opts(struct lfs_kv *kv, int ro, const struct lfs_fs_opts *o,
		       struct lfs_fs **out, struct lfs_err *err);
/* Stops the channel (every submitted request is served first); kv stays open. */
void lfs_fs_free(struct lfs_fs *fs);
struct lfs_txn_mgr *lfs_fs_txn(struct lfs_fs *fs);
/* Wait until the channel is idle: kv may then be used directly by this
 * thread until its next call into fs. */
void lfs_fs_drain(struct lfs_fs *fs);
/* Dentry cache counters (lookups answered positive / negative, misses). */
void lfs_fs_dcache_stats(struct lfs_fs *fs, uint64_t *hits, uint64_t *neg_hits, uint64_t *misses);
void lfs_fs_layer_stats(struct lfs_fs *fs, struct lfs_txn_stats *t, struct lfs_io_stats *io,
			struct lfs_kv_stats *kv);
uint32_t lfs_fs_wb_max_pages(struct lfs_fs *fs);
void lfs_fs_set_hook(struct lfs_fs *fs, void (*hook)(void *, const struct lfs_event *), void *arg);

/* Writeback txns (the page cache's writepages): pages are stable until the
 * commit completes; commits are async and complete in order. */
struct lfs_txn *lfs_fs_wb_begin(struct lfs_fs *fs);
/* crc: the page's CRC32C when the page cache knows it (PG_crc), else NULL */
int lfs_fs_wb_page(struct lfs_fs *fs, struct lfs_txn *t, uint64_t ino, uint64_t idx,
		   const void *buf, size_t len, const uint32_t *crc);
int lfs_fs_wb_inode(struct lfs_fs *fs, struct lfs_txn *t, uint64_t ino, struct lfs_fs_inode *in);
int lfs_fs_wb_commit(struct lfs_fs *fs, struct lfs_txn *t, int sync, uint64_t *seq);
int lfs_fs_wb_wait(struct lfs_fs *fs, uint64_t seq, int for_fsync);
uint64_t lfs_fs_wb_done(struct lfs_fs *fs);
uint64_t lfs_fs_wb_last(struct lfs_fs *fs);
/* Read n pages (any indexes) in one request: present[i] = 1 if stored. */
int lfs_fs_read_pages(struct lfs_fs *fs, uint64_t ino, const uint64_t *idx, size_t n,
		      void *const *bufs, int *present);

int lfs_fs_iget(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in);
int lfs_fs_lookup(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
		  struct lfs_fs_dentry *d);

/* Batch of the current operation: stage records, then commit. */
int lfs_fs_stage_inode(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in);
int lfs_fs_stage_page(struct lfs_fs *fs, uint64_t ino, uint64_t idx, const void *buf, size_t len);
int lfs_fs_commit(struct lfs_fs *fs, int sync);

/* Namespace ops (each one atomic batch). */
int lfs_fs_create(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
		  uint32_t mode, const char *target, uint64_t *ino_out);
int lfs_fs_link(struct lfs_fs *fs, uint64_t ino, uint64_t dir, const char *name, size_t nlen);
/* O_TMPFILE: a regular file with no name (nlink 0, an orphan from the
 * start, freed by lfs_fs_release unless lfs_fs_link names it first).  One
 * batch: the superblock (next inode) and the inode. */
int lfs_fs_create_unnamed(struct lfs_fs *fs, uint32_t mode, uint64_t *ino_out);
/* Drops the dentry; *freed set when the inode went away (nlink 0 and not
 * keep_open).  With keep_open the inode stays with nlink 0 (orphan) until
 * lfs_fs_release. */
int lfs_fs_unlink(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
		  int want_dir, int keep_open, uint64_t *ino_out);
int lfs_fs_release(struct lfs_fs *fs, uint64_t ino);   /* free an orphan */
int lfs_fs_rename(struct lfs_fs *fs, uint64_t sdir, const char *sname, size_t slen,
		  uint64_t ddir, const char *dname, size_t dlen, unsigned flags,
		  uint64_t *replaced_ino);
int lfs_fs_dir_empty(struct lfs_fs *fs, uint64_t dir);

/* Data. read_page fills buf (page size), zeros past the stored bytes;
 * returns 1 if the page exists, 0 for a hole. */
int lfs_fs_read_page(struct lfs_fs *fs, uint64_t ino, uint64_t idx, void *buf);
/* Set the size: drops pages past it, zeroes the tail of the last one. */
int lfs_fs_truncate(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in, uint64_t size);
/* First page index >= idx holding data (SEEK_DATA), or -ENXIO. */
int64_t lfs_fs_next_data(struct lfs_fs *fs, uint64_t ino, uint64_t idx);
uint64_t lfs_fs_count_pages(struct lfs_fs *fs, uint64_t ino);

int lfs_fs_readdir(struct lfs_fs *fs, uint64_t dir,
		   int (*cb)(void *arg, uint64_t ino, uint8_t type, const char *name, size_t nlen),
		   void *arg);

#endif
