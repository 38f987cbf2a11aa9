/*
 * tests/unit/test_kv_group.c — groups (command-wide transactions) of
 * lib/kv: lfs_kv_group_begin / lfs_kv_group_commit.
 *
 * A workload of "units" — a plain batch, or a group of several batches
 * (small ones coalesced, large ones written directly, repeated puts of one
 * key, lfs_kv_sync and synced batches inside the group) — runs over a
 * recording seam that keeps every pwrite and fsync in order.  The image is
 * then rebuilt as it would be on disk when cut at every write boundary, torn
 * inside a write, or with random unsynced writes lost, opened, and must
 * equal the state after some whole unit j with
 *   (last unit acknowledged durable within the kept writes) <= j <= (last unit begun)
 * — never a state in the middle of a group.  Read-your-writes inside a
 * group, deferred checkpoints, read-only opens of an unterminated group and
 * the version-1 upgrade are checked too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#include "harness.h"
#include "test_kv_model.h"
#include "test_kv_rec.h"
#include "common/crc32c.h"
#include "kv/kv.h"
#include "kv/kv_int.h"

struct workload {
	struct model *snap;   /* snap[u] = state after unit u (snap[0] empty) */
	size_t *ws;           /* events before unit u began */
	size_t *ack;          /* events when unit u was acknowledged durable (SIZE_MAX: never) */
	int nu;
	int groups, grouped_batches, rybad;
};

/* One random batch into b and the model m. */
static void random_batch(struct lfs_kv_batch *b, struct model *m, uint64_t *s, int tag, int compress)
{
	static uint8_t v[90000];
	int n = 1 + (int)(t_rand(s) % 10);
	for (int j = 0; j < n; j++) {
		char k[32];
		int kl = snprintf(k, sizeof k, "k%03d", (int)(t_rand(s) % 120));
		uint64_t q = t_rand(s) % 10;
		if (q < 7) {
			/* mostly small; now and then one for the direct-write path;
			 * 64-byte values repeat the same stored size (in-place rewrite) */
			size_t vl = t_rand(s) % 3 == 0 ? 64 :
				    (size_t)(t_rand(s) % (t_rand(s) % 5 ? 200 : t_rand(s) % 20 ? 3000 : 90000));
			for (size_t x = 0; x < vl; x++)
				v[x] = (uint8_t)(tag * 7 + j + (compress ? 0 : (int)x));
			lfs_kv_batch_put(b, k, (size_t)kl, v, vl);
			m_put(m, k, (size_t)kl, v, vl);
		} else if (q < 9) {
			lfs_kv_batch_del(b, k, (size_t)kl);
			m_del(m, k, (size_t)kl);
		} else {
			char k2[32];
			int k2l = snprintf(k2, sizeof k2, "k%03d", (int)(t_rand(s) % 120));
			if (strcmp(k, k2) < 0) {
				lfs_kv_batch_del_range(b, k, (size_t)kl, k2, (size_t)k2l);
				m_del_range(m, k, (size_t)kl, k2, (size_t)k2l);
			}
		}
	}
}

/* Does the handle read exactly m (read-your-writes inside a group)? */
static int reads_model(struct lfs_kv *kv, struct model *m)
{
	struct model got = { 0 };
	int rr = read_all(kv, &got);
	int ok = rr == 0 && m_equal(&got, m);
	if (!ok && getenv("DBG")) {
		printf("# rc %d got %zu want %zu\n", rr, got.n, m->n);
		for (size_t i = 0; i < got.n && i < m->n; i++)
			if (m_cmp(got.e[i].k, got.e[i].kl, m->e[i].k, m->e[i].kl) || got.e[i].vl != m->e[i].vl || memcmp(got.e[i].v, m->e[i].v, got.e[i].vl)) {
				printf("# first diff at %zu: %.*s vl %zu vs %.*s vl %zu\n", i, (int)got.e[i].kl, got.e[i].k, got.e[i].vl, (int)m->e[i].kl, m->e[i].k, m->e[i].vl);
				break;
			}
	}
	m_free(&got);
	return ok;
}

static void run_workload(const char *path, struct rec *r, struct workload *w, uint64_t *s, int nu,
			 int compress)
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
	w->nu = nu;
	w->snap = calloc((size_t)nu + 1, sizeof *w->snap);
	w->ws = calloc((size_t)nu + 1, sizeof *w->ws);
	w->ack = calloc((size_t)nu + 1, sizeof *w->ack);
	struct lfs_kv_batch *b = lfs_kv_batch_new();
	for (int u = 1; u <= nu; u++) {
		m_copy(&w->snap[u], &w->snap[u - 1]);
		w->ws[u] = r->n;
		w->ack[u] = SIZE_MAX;
		if (t_rand(s) % 4 == 0) {
			/* a plain batch, atomic on its own */
			lfs_kv_batch_clear(b);
			random_batch(b, &w->snap[u], s, u, compress);
			int sync = t_rand(s) % 3 == 0;
			if (lfs_kv_commit(kv, b, sync, &e))
				printf("# commit: %s\n", e.msg);
			if (sync)
				w->ack[u] = r->n;
			continue;
		}
		w->groups++;
		if (lfs_kv_group_begin(kv, &e))
			printf("# group begin: %s\n", e.msg);
		int nested = t_rand(s) % 4 == 0;
		if (nested)
			lfs_kv_group_begin(kv, &e);
		int nb = 1 + (int)(t_rand(s) % 8);
		for (int i = 0; i < nb; i++) {
			lfs_kv_batch_clear(b);
			random_batch(b, &w->snap[u], s, u * 16 + i, compress);
			/* an fsync inside the group: written, not yet committed */
			int sync = t_rand(s) % 6 == 0;
			if (lfs_kv_commit(kv, b, sync, &e))
				printf("# commit in group: %s\n", e.msg);
			if (t_rand(s) % 8 == 0)
				lfs_kv_sync(kv, &e);
			w->grouped_batches++;
			if (i == nb / 2 && !reads_model(kv, &w->snap[u]))
				w->rybad++;
		}
		if (nested)
			lfs_kv_group_commit(kv, 0, &e);
		int sync = t_rand(s) % 2;
		if (lfs_kv_group_commit(kv, sync, &e))
			printf("# group commit: %s\n", e.msg);
		if (sync)
			w->ack[u] = r->n;
	}
	lfs_kv_batch_free(b);
	lfs_kv_close(kv);
}

static void wl_free(struct workload *w)
{
	for (int i = 0; i <= w->nu; i++)
		m_free(&w->snap[i]);
	free(w->snap);
	free(w->ws);
	free(w->ack);
}

/* Open the image rebuilt at cut k (writes up to lo_k surely kept). */
static int check_cut(const char *img, struct workload *w, size_t k, size_t lo_k, int rdonly,
		     char *why, size_t wsz)
{
	int lo = 0, hi = 0;
	for (int u = 1; u <= w->nu; u++) {
		if (w->ack[u] <= lo_k)
			lo = u;
		if (w->ws[u] < k + 1)
			hi = u;
	}
	struct lfs_kv_opts o = { .mode = rdonly ? LFS_KV_RDONLY : LFS_KV_RDWR, .no_auto_compact = 1 };
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
	if (!rdonly && !rc) {
		/* the writer cut an unterminated group: new writes land after */
		rc = lfs_kv_put(kv, "zz", 2, "after", 5, &e);
		if (!rc)
			rc = lfs_kv_sync(kv, &e);
	}
	lfs_kv_close(kv);
	if (rc) {
		snprintf(why, wsz, "cut %zu: read/write error %d", k, rc);
		m_free(&m);
		return 0;
	}
	int ok = 0;
	for (int j = hi; j >= lo && !ok; j--)
		ok = m_equal(&m, &w->snap[j]);
	if (!ok)
		snprintf(why, wsz, "cut %zu: state (%zu keys) matches no whole unit in [%d, %d]", k, m.n, lo, hi);
	if (ok && !rdonly) {
		/* reopened: the same state plus the write made after the cut */
		struct model m2 = { 0 };
		m_put(&m, "zz", 2, "after", 5);
		o.mode = LFS_KV_RDONLY;
		if (lfs_kv_open(img, &o, &kv, &e) || read_all(kv, &m2) || !m_equal(&m, &m2)) {
			snprintf(why, wsz, "cut %zu: a write after recovery did not survive a reopen", k);
			ok = 0;
		}
		if (kv)
			lfs_kv_close(kv);
		m_free(&m2);
	}
	m_free(&m);
	return ok;
}

static void group_cuts(int compress)
{
	uint64_t seed = seed_from_env(compress ? "kv_group_cuts_zstd" : "kv_group_cuts");
	uint64_t s = seed | 1;
	char path[256], img[256], why[256];
	snprintf(path, sizeof path, "%s/kvgrp-%d.img", tmpdir(), (int)getpid());
	snprintf(img, sizeof img, "%s/kvgrpcut-%d.img", tmpdir(), (int)getpid());
	struct rec r = { 0 };
	struct workload w = { 0 };
	run_workload(path, &r, &w, &s, getenv("LFS_LONG") ? 300 : compress ? 30 : 50, compress);
	CHECK(w.nu > 0);
	CHECK_MSG(w.rybad == 0, "%d reads inside a group missed the group's own writes", w.rybad);
	printf("# %zu file events, %d groups of %d batches\n", r.n, w.groups, w.grouped_batches);
	int cuts = 0;
	for (size_t k = 0; k <= r.n; k++) {
		int rdonly = k % 3 == 1;   /* a reader ignores an unterminated group */
		build_image(img, &r, k, NULL, 0);
		CHECK_MSG(check_cut(img, &w, k, k, rdonly, why, sizeof why), "%s", why);
		cuts++;
		if (k < r.n && r.ev[k].data && r.ev[k].len > 1) {
			size_t t1 = r.ev[k].len / 2, t2 = 1 + (size_t)(t_rand(&s) % (r.ev[k].len - 1));
			build_image(img, &r, k, NULL, t1);
			CHECK_MSG(check_cut(img, &w, k, k, 0, why, sizeof why), "torn half: %s", why);
			build_image(img, &r, k, NULL, t2);
			CHECK_MSG(check_cut(img, &w, k, k, 0, why, sizeof why), "torn at %zu: %s", t2, why);
			cuts += 2;
		}
	}
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
		CHECK_MSG(check_cut(img, &w, k, last_sync, 0, why, sizeof why), "lost writes after %zu: %s",
			  last_sync, why);
		cuts++;
	}
	free(keep);
	printf("# %d crash images checked\n", cuts);
	rec_free(&r);
	wl_free(&w);
	unlink(path);
	unlink(img);
}

TEST(kv_group_cuts)
{
	group_cuts(0);
}

TEST(kv_group_cuts_zstd)
{
	group_cuts(1);
}

static uint64_t fsize_of(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Small batches of a group become few records; a rewritten key of the same
 * size leaves no dead copy; checkpoints wait for the commit. */
TEST(kv_group_coalesce)
{
	char path[256];
	snprintf(path, sizeof path, "%s/kvgco-%d.img", tmpdir(), (int)getpid());
	unlink(path);
	struct lfs_kv_opts o = { .mode = LFS_KV_CREATE, .no_auto_compact = 1, .memtable_bytes = 16 << 10 };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	struct lfs_kv_stats st0, st1;
	lfs_kv_stats(kv, &st0);
	CHECK(lfs_kv_group_begin(kv, &e) == 0);
	CHECK_EQ(lfs_kv_group_depth(kv), 1);
	uint8_t v[100];
	for (int i = 0; i < 2000; i++) {
		char k[16];
		int kl = snprintf(k, sizeof k, "f%05d", i);
		memset(v, i & 0xff, sizeof v);
		CHECK(lfs_kv_put(kv, k, (size_t)kl, v, sizeof v, &e) == 0);
		/* the "inode" rewritten three times, same size */
		for (int t = 0; t < 3; t++) {
			memset(v, (i + t) & 0xff, 40);
			CHECK(lfs_kv_put(kv, "inode", 5, v, 40, &e) == 0);
		}
	}
	lfs_kv_stats(kv, &st1);
	/* the 16 KiB memtable limit was passed many times: no checkpoint */
	CHECK_MSG(st1.syncs == st0.syncs, "a checkpoint ran inside the group (%llu syncs)",
		  (unsigned long long)(st1.syncs - st0.syncs));
	CHECK(st1.memtable_bytes > (16u << 10));
	CHECK(lfs_kv_group_commit(kv, 1, &e) == 0);
	CHECK_EQ(lfs_kv_group_depth(kv), 0);
	lfs_kv_stats(kv, &st1);
	CHECK_MSG(st1.memtable_bytes <= (16u << 10), "no checkpoint after the commit");
	/* 2000 * (16+6+100) + 6000 rewrites of 16+5+40 would be ~600 KB */
	uint64_t written = st1.file_bytes_written - st0.file_bytes_written;
	CHECK_MSG(written < 2000 * 130 + (64u << 10) + 2000 * 40, "%llu bytes written",
		  (unsigned long long)written);
	void *got;
	size_t gl;
	CHECK(lfs_kv_get(kv, "inode", 5, &got, &gl, &e) == 0);
	CHECK_EQ(gl, 40);
	CHECK_EQ(((uint8_t *)got)[0], (1999 + 2) & 0xff);
	free(got);
	CHECK(lfs_kv_close(kv) == 0);
	/* all of it after a reopen (replayed or checkpointed) */
	o.mode = LFS_KV_RDONLY;
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	CHECK(lfs_kv_get(kv, "inode", 5, &got, &gl, &e) == 0);
	CHECK_EQ(((uint8_t *)got)[0], (1999 + 2) & 0xff);
	free(got);
	CHECK(lfs_kv_get(kv, "f01234", 6, &got, &gl, &e) == 0);
	CHECK_EQ(gl, 100);
	CHECK_EQ(((uint8_t *)got)[99], 1234 & 0xff);
	free(got);
	lfs_kv_close(kv);
	/* explicit compaction is refused while a group holds writes */
	o.mode = LFS_KV_RDWR;
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	CHECK(lfs_kv_group_begin(kv, &e) == 0);
	CHECK(lfs_kv_compact(kv, NULL, NULL, &e) == 0);   /* nothing written yet: fine */
	CHECK(lfs_kv_put(kv, "x", 1, "y", 1, &e) == 0);
	CHECK_EQ(lfs_kv_compact(kv, NULL, NULL, &e), -EBUSY);
	CHECK(lfs_kv_group_commit(kv, 1, &e) == 0);
	CHECK(lfs_kv_group_commit(kv, 1, &e) == -EINVAL);
	CHECK(lfs_kv_compact(kv, NULL, NULL, &e) == 0);
	CHECK(lfs_kv_get(kv, "x", 1, &got, &gl, &e) == 0);
	free(got);
	lfs_kv_close(kv);
	unlink(path);
}

/* An unterminated group: a reader ignores it and leaves the file alone; the
 * next writer cuts it; close inside a group commits it. */
TEST(kv_group_unterminated)
{
	char path[256], copy[300];
	snprintf(path, sizeof path, "%s/kvgun-%d.img", tmpdir(), (int)getpid());
	snprintf(copy, sizeof copy, "%s.copy", path);
	unlink(path);
	struct lfs_kv_opts o = { .mode = LFS_KV_CREATE, .no_auto_compact = 1 };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	CHECK(lfs_kv_put(kv, "a", 1, "1", 1, &e) == 0);
	CHECK(lfs_kv_sync(kv, &e) == 0);
	uint64_t before = fsize_of(path);
	CHECK(lfs_kv_group_begin(kv, &e) == 0);
	CHECK(lfs_kv_put(kv, "b", 1, "2", 1, &e) == 0);
	CHECK(lfs_kv_del(kv, "a", 1, &e) == 0);
	CHECK(lfs_kv_sync(kv, &e) == 0);     /* written, but not committed */
	uint64_t during = fsize_of(path);
	CHECK(during > before);
	/* a copy of the file now = a crash inside the group */
	char cmd[700];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, copy);
	CHECK(system(cmd) == 0);
	CHECK(lfs_kv_close(kv) == 0);        /* commits */
	void *got;
	size_t gl;
	o.mode = LFS_KV_RDONLY;
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	CHECK(lfs_kv_get(kv, "b", 1, &got, &gl, &e) == 0);
	free(got);
	CHECK(lfs_kv_get(kv, "a", 1, &got, &gl, &e) == -ENOENT);
	lfs_kv_close(kv);
	/* the crash copy */
	CHECK(lfs_kv_open(copy, &o, &kv, &e) == 0);
	CHECK(lfs_kv_get(kv, "a", 1, &got, &gl, &e) == 0);
	free(got);
	CHECK(lfs_kv_get(kv, "b", 1, &got, &gl, &e) == -ENOENT);
	lfs_kv_close(kv);
	CHECK_EQ(fsize_of(copy), during);
	o.mode = LFS_KV_RDWR;
	CHECK(lfs_kv_open(copy, &o, &kv, &e) == 0);
	CHECK_EQ(fsize_of(copy), before);
	CHECK(lfs_kv_get(kv, "b", 1, &got, &gl, &e) == -ENOENT);
	lfs_kv_close(kv);
	unlink(path);
	unlink(copy);
}

/* A version-1 image (as written before groups existed) opens, reads, and
 * has both header slots rewritten as version 2 before its first group. */
TEST(kv_group_v1_upgrade)
{
	char path[256];
	snprintf(path, sizeof path, "%s/kvgv1-%d.img", tmpdir(), (int)getpid());
	unlink(path);
	struct lfs_kv_opts o = { .mode = LFS_KV_CREATE, .no_auto_compact = 1 };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	CHECK(lfs_kv_put(kv, "old", 3, "v1", 2, &e) == 0);
	CHECK(lfs_kv_close(kv) == 0);
	o.mode = LFS_KV_RDWR;
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);   /* second checkpoint: both slots used */
	CHECK(lfs_kv_put(kv, "old2", 4, "v1", 2, &e) == 0);
	CHECK(lfs_kv_close(kv) == 0);
	/* make both slots say version 1 */
	int fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	for (int i = 0; i < 2; i++) {
		struct kv_slot sl;
		off_t at = i ? KV_SLOT1 : KV_SLOT0;
		CHECK(pread(fd, &sl, sizeof sl, at) == (ssize_t)sizeof sl);
		CHECK(!memcmp(sl.magic, KV_MAGIC, 8));
		CHECK_EQ(sl.version, KV_VERSION);
		sl.version = 1;
		sl.crc = lfs_crc32c(0, &sl, offsetof(struct kv_slot, crc));
		CHECK(pwrite(fd, &sl, sizeof sl, at) == (ssize_t)sizeof sl);
	}
	close(fd);
	void *got;
	size_t gl;
	o.mode = LFS_KV_RDONLY;
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	CHECK(lfs_kv_get(kv, "old2", 4, &got, &gl, &e) == 0);
	free(got);
	lfs_kv_close(kv);
	o.mode = LFS_KV_RDWR;
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	CHECK(lfs_kv_group_begin(kv, &e) == 0);
	CHECK(lfs_kv_put(kv, "new", 3, "v2", 2, &e) == 0);
	CHECK(lfs_kv_group_commit(kv, 1, &e) == 0);
	fd = open(path, O_RDONLY);
	for (int i = 0; i < 2; i++) {
		struct kv_slot sl;
		CHECK(pread(fd, &sl, sizeof sl, i ? KV_SLOT1 : KV_SLOT0) == (ssize_t)sizeof sl);
		CHECK_MSG(sl.version == KV_VERSION, "slot %d still version %u", i, sl.version);
	}
	close(fd);
	lfs_kv_close(kv);
	o.mode = LFS_KV_RDONLY;
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	CHECK(lfs_kv_get(kv, "new", 3, &got, &gl, &e) == 0);
	free(got);
	CHECK(lfs_kv_get(kv, "old", 3, &got, &gl, &e) == 0);
	free(got);
	lfs_kv_close(kv);
	unlink(path);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, kv_group_cuts, kv_group_cuts_zstd, kv_group_coalesce,
			 kv_group_unterminated, kv_group_v1_upgrade);
}
