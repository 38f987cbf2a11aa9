/*
 * tests/fuzz/fuzz_kv_open.c — open arbitrary bytes as a KV image (read-only
 * and read-write), then read everything: must never crash, hang or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_kv.h"


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
			fuzz_kv_read_all(kv);
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
