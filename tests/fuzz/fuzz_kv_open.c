/*
 * tests/fuzz/fuzz_kv_open.c — open arbitrary bytes as a KV image (read-only
 * and read-write), then read everything: must never crash, hang or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv/kv.h"

static ssize_t f_pread(void *c, int fd, void *b, size_t n, off_t off) { ssize_t r = pread(fd, b, n, off); return r; }
static ssize_t f_pwrite(void *c, int fd, const void *b, size_t n, off_t off) { return pwrite(fd, b, n, off); }
static int f_fsync(void *c, int fd) { return 0; }   /* nothing to make durable here: faster runs */
static int f_ftruncate(void *c, int fd, off_t len) { return ftruncate(fd, len) ? -1 : 0; }
static const struct lfs_kv_file_ops nosync = { f_pread, f_pwrite, f_fsync, f_ftruncate, NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/fuzz_kv_%d.img", (int)getpid());
	for (int mode = 0; mode < 2; mode++) {
		FILE *f = fopen(path, "wb");
		if (!f)
			return 0;
		if (size)
			fwrite(data, 1, size, f);
		fclose(f);
		struct lfs_kv_opts o = { .mode = mode ? LFS_KV_RDWR : LFS_KV_RDONLY, .no_lock = 1,
					 .no_auto_compact = 1, .fops = mode ? &nosync : NULL };
		struct lfs_kv *kv;
		struct lfs_err e = { 0 };
		if (lfs_kv_open(path, &o, &kv, &e) == 0) {
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
			lfs_kv_verify(kv, NULL, NULL, NULL);
			if (mode) {
				lfs_kv_put(kv, "fuzz", 4, "x", 1, NULL);
				lfs_kv_compact(kv, NULL, NULL, NULL);
			}
			lfs_kv_close(kv);
		}
	}
	unlink(path);
	return 0;
}
