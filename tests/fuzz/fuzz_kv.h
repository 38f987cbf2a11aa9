/*
 * tests/fuzz/fuzz_kv.h — what the KV harnesses (fuzz_kv_open, fuzz_kv_block)
 * share: file ops without fsync (nothing here needs to be durable; runs are
 * faster) and a pass that reads every key, through the iterator and by get.
 */
#ifndef LFS_FUZZ_KV_H
#define LFS_FUZZ_KV_H

#include <stdlib.h>
#include <unistd.h>

#include "kv/kv.h"

static ssize_t f_pread(void *c, int fd, void *b, size_t n, off_t off) { (void)c; return pread(fd, b, n, off); }
static ssize_t f_pwrite(void *c, int fd, const void *b, size_t n, off_t off) { (void)c; return pwrite(fd, b, n, off); }
static int f_fsync(void *c, int fd) { (void)c; (void)fd; return 0; }
static int f_ftruncate(void *c, int fd, off_t len) { (void)c; return ftruncate(fd, len) ? -1 : 0; }
static const struct lfs_kv_file_ops nosync = { f_pread, f_pwrite, f_fsync, f_ftruncate, NULL };

/* Every key the iterator yields, its value through the iterator and by get. */
static inline void fuzz_kv_read_all(struct lfs_kv *kv)
{
	struct lfs_kv_iter *it;
	for (it = lfs_kv_iter_new(kv, NULL, 0, NULL, 0); lfs_kv_iter_valid(it); lfs_kv_iter_next(it)) {
		size_t kl, vl;
		const void *k = lfs_kv_iter_key(it, &kl);
		if (!lfs_kv_iter_value(it, &vl))
			break;
		void *v;
		if (lfs_kv_get(kv, k, kl, &v, &vl, NULL) == 0)
			free(v);
	}
	lfs_kv_iter_free(it);
}

#endif
