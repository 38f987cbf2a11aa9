/*
 * tests/tools/kv_scale.c — scale test helper for lib/kv.
 *   kv_scale fill IMAGE N ROUND   write N keys (16 bytes) x 100-byte values
 *                                 (values depend on ROUND), close
 *   kv_scale open IMAGE N ROUND   open, print "open_ms=.. rss_kb=.. keys=.." and
 *                                 spot-check 1000 values of ROUND, close
 * The release build (build/rel/tests/tools/kv_scale, mk/kv.mk) is what
 * tests/cli/kv_scale.sh runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv/kv.h"

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

static void val(unsigned char *v, unsigned long i, int round)
{
	for (int j = 0; j < 100; j++)
		v[j] = (unsigned char)(i * 31 + (unsigned long)j * 7 + (unsigned long)round * 131);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: kv_scale fill|open IMAGE N ROUND\n");
		return 2;
	}
	unsigned long n = strtoul(argv[3], NULL, 0);
	int round = atoi(argv[4]);
	struct lfs_err e = { 0 };
	struct lfs_kv *kv;
	char k[24];
	unsigned char v[100];
	if (!strcmp(argv[1], "fill")) {
		struct lfs_kv_opts o = { .mode = LFS_KV_CREATE };
		if (lfs_kv_open(argv[2], &o, &kv, &e)) {
			fprintf(stderr, "kv_scale: %s\n", e.msg);
			return 1;
		}
		struct lfs_kv_batch *b = lfs_kv_batch_new();
		for (unsigned long i = 0; i < n; i++) {
			/* a different order each round */
			unsigned long x = (i * 2654435761ul + (unsigned long)round * 97) % n;
			snprintf(k, sizeof k, "%016lu", x);
			val(v, x, round);
			lfs_kv_batch_put(b, k, 16, v, 100);
			if (lfs_kv_batch_count(b) == 10000 || i + 1 == n) {
				if (lfs_kv_commit(kv, b, 0, &e)) {
					fprintf(stderr, "kv_scale: commit: %s\n", e.msg);
					return 1;
				}
				lfs_kv_batch_clear(b);
			}
		}
		lfs_kv_batch_free(b);
		struct lfs_kv_stats st;
		lfs_kv_stats(kv, &st);
		printf("file_bytes=%llu live_bytes=%llu compactions=%llu\n", (unsigned long long)st.file_bytes,
		       (unsigned long long)st.live_bytes, (unsigned long long)st.compactions);
		return lfs_kv_close(kv) ? 1 : 0;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct lfs_kv_opts o = { .mode = LFS_KV_RDONLY };
	if (lfs_kv_open(argv[2], &o, &kv, &e)) {
		fprintf(stderr, "kv_scale: %s\n", e.msg);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long rss = rss_kb();
	struct lfs_kv_stats st;
	lfs_kv_stats(kv, &st);
	int bad = 0;
	for (unsigned long i = 0; i < 1000 && n; i++) {
		unsigned long x = (i * 7919) % n;
		unsigned char got[128];
		size_t vl = 0;
		snprintf(k, sizeof k, "%016lu", x);
		val(v, x, round);
		if (lfs_kv_get_into(kv, k, 16, got, sizeof got, &vl, &e) || vl != 100 || memcmp(got, v, 100))
			bad++;
	}
	printf("open_ms=%.1f rss_kb=%ld keys=%llu file_bytes=%llu bad=%d\n",
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6, rss,
	       (unsigned long long)st.live_keys, (unsigned long long)st.file_bytes, bad);
	lfs_kv_close(kv);
	return bad || st.live_keys != n;
}
