/*
 * tests/tools/kv_writer.c — a KV writer to be killed with SIGKILL.
 *   kv_writer write IMAGE   commit batches forever: batch i puts keys
 *                           "b<i>-<j>" (j < 1 + i % 50) and deletes batch i-3's
 *                           keys; batches with i % 3 == 0 are synced, and
 *                           after each synced commit "i" is printed.
 *   kv_writer check IMAGE ACKED
 *                           the image must hold exactly the state after some
 *                           batch j >= ACKED: every batch <= j whole, none
 *                           after; prints "j" and exits 0, else 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv.h"

static int nkeys(long i)
{
	return 1 + (int)(i % 50);
}

static void val(char *v, size_t n, long i, int j)
{
	for (size_t x = 0; x < n; x++)
		v[x] = (char)('a' + (i * 7 + j + (long)x) % 26);
}

static size_t vlen(long i, int j)
{
	return (size_t)((i * 131 + j * 17) % 3000);
}

int main(int argc, char **argv)
{
	struct lfs_err e = { 0 };
	struct lfs_kv *kv;
	char k[64], v[4096];
	if (argc == 3 && !strcmp(argv[1], "write")) {
		struct lfs_kv_opts o = { .mode = LFS_KV_CREATE, .memtable_bytes = 256 << 10 };
		if (lfs_kv_open(argv[2], &o, &kv, &e)) {
			fprintf(stderr, "kv_writer: %s\n", e.msg);
			return 1;
		}
		struct lfs_kv_batch *b = lfs_kv_batch_new();
		for (long i = 1;; i++) {
			lfs_kv_batch_clear(b);
			for (int j = 0; j < nkeys(i); j++) {
				int kl = snprintf(k, sizeof k, "b%08ld-%02d", i, j);
				val(v, vlen(i, j), i, j);
				lfs_kv_batch_put(b, k, (size_t)kl, v, vlen(i, j));
			}
			if (i > 3) {
				char lo[32], hi[32];
				snprintf(lo, sizeof lo, "b%08ld-", i - 3);
				snprintf(hi, sizeof hi, "b%08ld.", i - 3);
				lfs_kv_batch_del_range(b, lo, strlen(lo), hi, strlen(hi));
			}
			if (lfs_kv_commit(kv, b, i % 3 == 0, &e)) {
				fprintf(stderr, "kv_writer: commit: %s\n", e.msg);
				return 1;
			}
			if (i % 3 == 0) {
				printf("%ld\n", i);
				fflush(stdout);
			}
			if (i % 200 == 0) {
				uint64_t a, bb;
				if (lfs_kv_compact(kv, &a, &bb, &e)) {
					fprintf(stderr, "kv_writer: compact: %s\n", e.msg);
					return 1;
				}
			}
		}
	}
	if (argc != 4 || strcmp(argv[1], "check")) {
		fprintf(stderr, "usage: kv_writer write IMAGE | check IMAGE ACKED\n");
		return 2;
	}
	long acked = atol(argv[3]);
	struct lfs_kv_opts o = { .mode = LFS_KV_RDWR };
	if (lfs_kv_open(argv[2], &o, &kv, &e)) {
		fprintf(stderr, "kv_writer: open: %s\n", e.msg);
		return 1;
	}
	/* the last batch present */
	long last = 0;
	struct lfs_kv_iter *it = lfs_kv_iter_new(kv, NULL, 0, NULL, 0);
	for (; lfs_kv_iter_valid(it); lfs_kv_iter_next(it)) {
		size_t kl;
		const char *key = lfs_kv_iter_key(it, &kl);
		long i = atol(key + 1);
		if (i > last)
			last = i;
	}
	if (lfs_kv_iter_error(it, &e)) {
		fprintf(stderr, "kv_writer: scan: %s\n", e.msg);
		return 1;
	}
	lfs_kv_iter_free(it);
	if (last < acked) {
		fprintf(stderr, "kv_writer: batch %ld was acknowledged durable but the image ends at %ld\n", acked, last);
		return 1;
	}
	/* exactly batches last-2 .. last, each whole, with the right values */
	long count = 0;
	for (long i = last - 2 > 1 ? last - 2 : 1; i <= last; i++) {
		for (int j = 0; j < nkeys(i); j++) {
			int kl = snprintf(k, sizeof k, "b%08ld-%02d", i, j);
			void *got;
			size_t gl;
			memset(&e, 0, sizeof e);
			int rc = lfs_kv_get(kv, k, (size_t)kl, &got, &gl, &e);
			if (rc) {
				fprintf(stderr, "kv_writer: batch %ld (last %ld) key %s: %d %s\n", i, last, k, rc, e.msg);
				return 1;
			}
			val(v, vlen(i, j), i, j);
			if (gl != vlen(i, j) || memcmp(got, v, gl)) {
				fprintf(stderr, "kv_writer: key %s: wrong value\n", k);
				return 1;
			}
			free(got);
			count++;
		}
	}
	struct lfs_kv_stats st;
	lfs_kv_stats(kv, &st);
	if ((long)st.live_keys != count) {
		fprintf(stderr, "kv_writer: %llu keys, want %ld (partial or stale batch)\n",
			(unsigned long long)st.live_keys, count);
		return 1;
	}
	printf("%ld\n", last);
	return lfs_kv_close(kv) ? 1 : 0;
}
