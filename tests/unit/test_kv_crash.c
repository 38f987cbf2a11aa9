/*
 * tests/unit/test_kv_crash.c — crash and corruption tests of lib/kv through
 * the lfs_kv_file_ops seam.
 *
 * A workload of random batches (some synced) runs with a recording seam that
 * keeps every pwrite and fsync in order.  Then, for every write boundary and
 * for random byte offsets inside writes (torn writes), and for random subsets
 * of the unsynced writes (lost pages), the image as it would be on disk is
 * rebuilt, opened, and must equal the state after some batch j with
 *   (last batch synced within the kept writes) <= j <= (last batch begun).
 * Bit-flip tests: the engine reports corruption and never returns wrong data.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "harness.h"
#include "test_kv_model.h"
#include "test_kv_rec.h"
#include "kv/kv.h"

struct workload {
	struct model *snap;   /* snap[i] = state after batch i (snap[0] empty) */
	size_t *ws;           /* events before batch i began (i >= 1) */
	size_t *we;           /* events when batch i returned */
	int *synced;
	int nb;
};

static void run_workload(const char *path, struct rec *r, struct workload *w, uint64_t *s, int nb, int compress)
{
	struct lfs_kv_file_ops fops = { r_pread, r_pwrite, r_fsync, r_ftruncate, r };
	struct lfs_kv_opts o = { .mode = LFS_KV_CREATE, .fops = &fops, .memtable_bytes = 32 << 10,
				 .no_auto_compact = 1, .compress = compress ? LFS_KV_COMPRESS_ZSTD : 0 };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	unlink(path);
	if (lfs_kv_open(path, &o, &kv, &e)) {
		printf("# open: %s\n", e.msg);
		return;
	}
	w->nb = nb;
	w->snap = calloc((size_t)nb + 1, sizeof *w->snap);
	w->ws = calloc((size_t)nb + 1, sizeof *w->ws);
	w->we = calloc((size_t)nb + 1, sizeof *w->we);
	w->synced = calloc((size_t)nb + 1, sizeof *w->synced);
	struct lfs_kv_batch *b = lfs_kv_batch_new();
	static uint8_t v[80000];
	for (int i = 1; i <= nb; i++) {
		m_copy(&w->snap[i], &w->snap[i - 1]);
		lfs_kv_batch_clear(b);
		int n = 1 + (int)(t_rand(s) % 12);
		for (int j = 0; j < n; j++) {
			char k[32];
			int kl = snprintf(k, sizeof k, "k%03d", (int)(t_rand(s) % 150));
			uint64_t q = t_rand(s) % 10;
			if (q < 7) {
				/* now and then a value big enough for the direct-write path */
				size_t vl = (size_t)(t_rand(s) % (t_rand(s) % 4 ? 100 : t_rand(s) % 30 ? 3000 : 80000));
				for (size_t x = 0; x < vl; x++)
					v[x] = (uint8_t)(i * 7 + j + (compress ? 0 : (int)x));
				lfs_kv_batch_put(b, k, (size_t)kl, v, vl);
				m_put(&w->snap[i], k, (size_t)kl, v, vl);
			} else if (q < 9) {
				lfs_kv_batch_del(b, k, (size_t)kl);
				m_del(&w->snap[i], k, (size_t)kl);
			} else {
				char k2[32];
				int k2l = snprintf(k2, sizeof k2, "k%03d", (int)(t_rand(s) % 150));
				if (strcmp(k, k2) < 0) {
					lfs_kv_batch_del_range(b, k, (size_t)kl, k2, (size_t)k2l);
					m_del_range(&w->snap[i], k, (size_t)kl, k2, (size_t)k2l);
				}
			}
		}
		w->ws[i] = r->n;
		w->synced[i] = t_rand(s) % 3 == 0;
		if (lfs_kv_commit(kv, b, w->synced[i], &e))
			printf("# commit: %s\n", e.msg);
		w->we[i] = r->n;
	}
	lfs_kv_batch_free(b);
	lfs_kv_close(kv);
}

static void wl_free(struct workload *w)
{
	for (int i = 0; i <= w->nb; i++)
		m_free(&w->snap[i]);
	free(w->snap);
	free(w->ws);
	free(w->we);
	free(w->synced);
}

/* Open the rebuilt image at cut k and check it against the snapshots. */
static int check_cut(const char *img, struct workload *w, size_t k, size_t lo_k, char *why, size_t wsz)
{
	int lo = 0, hi = 0;
	for (int i = 1; i <= w->nb; i++) {
		if (w->synced[i] && w->we[i] <= lo_k)
			lo = i;
		if (w->ws[i] < k + 1)
			hi = i;
	}
	struct lfs_kv_opts o = { .mode = LFS_KV_RDWR, .no_auto_compact = 1 };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	int rc = lfs_kv_open(img, &o, &kv, &e);
	if (rc) {
		if (lo == 0 && k < 3)   /* the header itself was not written yet */
			return 1;
		snprintf(why, wsz, "cut %zu: open failed: %s", k, e.msg);
		return 0;
	}
	struct model m = { 0 };
	rc = read_all(kv, &m);
	lfs_kv_close(kv);
	if (rc) {
		snprintf(why, wsz, "cut %zu: read error %d", k, rc);
		m_free(&m);
		return 0;
	}
	for (int j = hi; j >= lo; j--) {
		if (m_equal(&m, &w->snap[j])) {
			m_free(&m);
			return 1;
		}
	}
	snprintf(why, wsz, "cut %zu: state (%zu keys) matches no batch in [%d, %d]", k, m.n, lo, hi);
	m_free(&m);
	return 0;
}

static int count_blocks(void *arg, const struct lfs_kv_rec *r)
{
	if (r->kind == LFS_KV_REC_BLOCK)
		(*(uint64_t *)arg)++;
	return 0;
}

static void crash_cuts(int compress)
{
	uint64_t seed = seed_from_env(compress ? "kv_crash_cuts_zstd" : "kv_crash_cuts");
	uint64_t s = seed | 1;
	char path[256], img[256], why[256];
	snprintf(path, sizeof path, "%s/kvcrash-%d.img", tmpdir(), (int)getpid());
	snprintf(img, sizeof img, "%s/kvcut-%d.img", tmpdir(), (int)getpid());
	struct rec r = { 0 };
	struct workload w = { 0 };
	run_workload(path, &r, &w, &s, getenv("LFS_LONG") ? 600 : compress ? 60 : 110, compress);
	CHECK(w.nb > 0);
	printf("# %zu file events\n", r.n);
	if (compress) {
		/* the cuts land inside compressed blocks too */
		struct lfs_kv_opts ro = { .mode = LFS_KV_RDONLY };
		struct lfs_kv *kv;
		struct lfs_err e = { 0 };
		uint64_t blocks = 0;
		CHECK(lfs_kv_open(path, &ro, &kv, &e) == 0);
		CHECK(lfs_kv_walk(kv, count_blocks, &blocks, &e) == 0);
		lfs_kv_close(kv);
		printf("# %llu compressed blocks\n", (unsigned long long)blocks);
		CHECK(blocks >= 5);
	}
	int cuts = 0;
	for (size_t k = 0; k <= r.n; k++) {
		/* cut exactly at the boundary */
		build_image(img, &r, k, NULL, 0);
		CHECK_MSG(check_cut(img, &w, k, k, why, sizeof why), "%s", why);
		cuts++;
		if (k < r.n && r.ev[k].data && r.ev[k].len > 1) {
			/* torn: half of the write, and a random byte offset */
			size_t t1 = r.ev[k].len / 2, t2 = 1 + (size_t)(t_rand(&s) % (r.ev[k].len - 1));
			build_image(img, &r, k, NULL, t1);
			CHECK_MSG(check_cut(img, &w, k, k, why, sizeof why), "torn half: %s", why);
			build_image(img, &r, k, NULL, t2);
			CHECK_MSG(check_cut(img, &w, k, k, why, sizeof why), "torn at %zu: %s", t2, why);
			cuts += 2;
		}
	}
	/* lost pages: keep everything up to a sync, drop random later writes */
	uint8_t *keep = malloc(r.n + 1);
	for (int t = 0; t < 60; t++) {
		size_t k = (size_t)(t_rand(&s) % (r.n + 1));
		size_t last_sync = 0;
		for (size_t i = 0; i < k; i++)
			if (!r.ev[i].data)
				last_sync = i;
		for (size_t i = 0; i < r.n; i++)
			keep[i] = i <= last_sync ? 1 : (uint8_t)(t_rand(&s) % 2);
		build_image(img, &r, k, keep, 0);
		CHECK_MSG(check_cut(img, &w, k, last_sync, why, sizeof why), "lost writes after %zu: %s", last_sync, why);
		cuts++;
	}
	free(keep);
	printf("# %d crash images checked\n", cuts);
	rec_free(&r);
	wl_free(&w);
	unlink(path);
	unlink(img);
}

TEST(kv_crash_cuts)
{
	crash_cuts(0);
}

TEST(kv_crash_cuts_zstd)
{
	crash_cuts(1);
}

/* A failing write in the middle of compaction leaves the image intact. */
TEST(kv_crash_compact)
{
	uint64_t seed = seed_from_env("kv_crash_compact");
	uint64_t s = seed | 1;
	char path[256], why[256];
	snprintf(path, sizeof path, "%s/kvcc-%d.img", tmpdir(), (int)getpid());
	for (int round = 0; round < 12; round++) {
		struct rec r = { 0 };
		struct workload w = { 0 };
		run_workload(path, &r, &w, &s, 60, 0);
		rec_free(&r);
		struct lfs_kv_file_ops fops = { r_pread, r_pwrite, r_fsync, r_ftruncate, &r };
		struct lfs_kv_opts o = { .mode = LFS_KV_RDWR, .fops = &fops, .no_auto_compact = 1 };
		struct lfs_kv *kv;
		struct lfs_err e = { 0 };
		CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
		r.fail_at = r.writes + 1 + (int)(t_rand(&s) % 4);
		int rc = lfs_kv_compact(kv, NULL, NULL, &e);
		lfs_kv_close(kv);
		rec_free(&r);
		/* whatever happened, the image holds the last state */
		w.synced[w.nb] = 1;
		w.we[w.nb] = 0;
		CHECK_MSG(check_cut(path, &w, 1u << 30, 1u << 30, why, sizeof why), "compaction failure (rc %d): %s", rc, why);
		wl_free(&w);
	}
	char tmp[300];
	snprintf(tmp, sizeof tmp, "%s.compact~", path);
	struct stat st;
	CHECK_MSG(stat(tmp, &st) != 0, "compaction left %s behind", tmp);
	unlink(path);
}

/* Bit flips: open fails with a clear code, or every read is right or an
 * error.  Data may only go missing when the flip hit the unsynced tail. */
TEST(kv_corrupt_bitflip)
{
	uint64_t seed = seed_from_env("kv_corrupt_bitflip");
	uint64_t s = seed | 1;
	char path[256], img[256];
	snprintf(path, sizeof path, "%s/kvbf-%d.img", tmpdir(), (int)getpid());
	snprintf(img, sizeof img, "%s/kvbf2-%d.img", tmpdir(), (int)getpid());
	struct model m = { 0 };
	struct lfs_kv_opts o = { .mode = LFS_KV_CREATE, .no_auto_compact = 1 };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	unlink(path);
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	uint8_t v[600];
	for (int i = 0; i < 300; i++) {
		char k[16];
		int kl = snprintf(k, sizeof k, "key%04d", i);
		size_t vl = 1 + (size_t)(t_rand(&s) % sizeof v);
		for (size_t x = 0; x < vl; x++)
			v[x] = (uint8_t)t_rand(&s);
		CHECK(lfs_kv_put(kv, k, (size_t)kl, v, vl, &e) == 0);
		m_put(&m, k, (size_t)kl, v, vl);
		if (i == 200)
			CHECK(lfs_kv_close(kv) == 0 && lfs_kv_open(path, &o, &kv, &e) == 0);
	}
	CHECK(lfs_kv_sync(kv, &e) == 0);
	struct stat st;
	CHECK(stat(path, &st) == 0);
	size_t fsize = (size_t)st.st_size;
	uint8_t *orig = malloc(fsize);
	int fd = open(path, O_RDONLY);
	CHECK(pread(fd, orig, fsize, 0) == (ssize_t)fsize);
	close(fd);
	lfs_kv_close(kv);
	int opened = 0, refused = 0, errors = 0, missing = 0;
	uint8_t *copy = malloc(fsize);
	for (int t = 0; t < 400; t++) {
		memcpy(copy, orig, fsize);
		size_t off = (size_t)(t_rand(&s) % fsize);
		copy[off] ^= (uint8_t)(1u << (t_rand(&s) % 8));
		fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);
		CHECK(write(fd, copy, fsize) == (ssize_t)fsize);
		close(fd);
		struct lfs_kv_opts ro = { .mode = LFS_KV_RDONLY };
		memset(&e, 0, sizeof e);
		int rc = lfs_kv_open(img, &ro, &kv, &e);
		if (rc) {
			CHECK_MSG(rc == LFS_E_CORRUPT || rc == LFS_E_BADMAGIC || rc == LFS_E_VERSION,
				  "flip at %zu: open returned %d", off, rc);
			refused++;
			continue;
		}
		opened++;
		for (size_t i = 0; i < m.n; i++) {
			void *got;
			size_t gl;
			memset(&e, 0, sizeof e);
			rc = lfs_kv_get(kv, m.e[i].k, m.e[i].kl, &got, &gl, &e);
			if (rc == LFS_E_CORRUPT) {
				CHECK_MSG(strstr(e.msg, "key") && strstr(e.msg, "offset"), "message lacks key/offset: %s", e.msg);
				errors++;
				continue;
			}
			if (rc == -ENOENT) {
				/* everything was synced: nothing may vanish silently */
				CHECK_MSG(0, "flip at %zu of %zu: key %zu vanished", off, fsize, i);
				missing++;
				continue;
			}
			CHECK_MSG(rc == 0, "flip at %zu: get returned %d", off, rc);
			CHECK_MSG(gl == m.e[i].vl && !memcmp(got, m.e[i].v, gl), "flip at %zu: WRONG DATA for key %zu", off, i);
			free(got);
		}
		int pr = lfs_kv_verify(kv, NULL, NULL, &e);
		CHECK(pr >= 0);
		lfs_kv_close(kv);
	}
	printf("# 400 flips: %d opened, %d refused, %d corrupt reads reported, %d tail keys lost\n", opened, refused,
	       errors, missing);
	CHECK(errors + refused > 0);
	free(copy);
	free(orig);
	m_free(&m);
	unlink(path);
	unlink(img);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, kv_crash_cuts, kv_crash_cuts_zstd, kv_crash_compact, kv_corrupt_bitflip);
}
