/*
 * lib/fs/fs.h — the LightFS layer: inodes, dentries and data pages as KV
 * records (schema in schema.h / FORMAT.md).
 *
 * Invariants: every namespace operation (create, link, unlink, rename) is
 * one KV batch, so it is atomic across a crash; the superblock's next inode
 * number is written in the batch that uses it; a hole is an absent data key;
 * truncate is a range delete.  Data writes of one call go in one batch with
 * the inode record that gives them their size.
 * Locking: none — a mount is used by one thread at a time (lightfs.h).
 */
#ifndef LFS_FS_FS_H
#define LFS_FS_FS_H

#include <stdint.h>

#include "common/err.h"
#include "fs/schema.h"
#include "kv/kv.h"

struct lfs_fs {
	struct lfs_kv *kv;
	struct lfs_fs_super sb;
	uint32_t psz;
	int ro;
	struct lfs_kv_batch *b;   /* the open batch (data writes accumulate) */
};

uint64_t lfs_fs_now(void);
int  lfs_fs_mkfs(struct lfs_kv *kv, uint32_t page_size, int compress, int level,
		 const char *label, struct lfs_err *err);
int  lfs_fs_mount(struct lfs_kv *kv, int ro, struct lfs_fs **out, struct lfs_err *err);
void lfs_fs_free(struct lfs_fs *fs);

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
