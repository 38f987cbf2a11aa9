/*
 * tests/unit/test_kv_model.c — model-based randomized tests of lib/kv:
 * random puts / dels / range-dels / batches / scans / reopens / compactions
 * against a reference map; any difference fails.  LFS_SEED replays a run,
 * LFS_LONG=1 runs longer.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"
#include "test_kv_model.h"
#include "kv/kv.h"

static int long_run(void)
{
	return getenv("LFS_LONG") != NULL;
}

static void rand_key(uint64_t *s, uint8_t *k, size_t *kl, int space)
{
	uint64_t r = t_rand(s);
	int kind = (int)(r % 16);
	if (kind == 0) {                       /* odd lengths and bytes */
		*kl = (size_t)(t_rand(s) % 40);
		for (size_t i = 0; i < *kl; i++)
			k[i] = (uint8_t)(t_rand(s) % 4 == 0 ? 0xff : t_rand(s) % 4);
	} else if (kind == 1) {                /* long keys */
		*kl = 300 + (size_t)(t_rand(s) % 700);
		memset(k, 'L', *kl);
		snprintf((char *)k, 16, "L%05d", (int)(t_rand(s) % (unsigned)space));
	} else {
		*kl = (size_t)snprintf((char *)k, 32, "%c%05d", "abc"[t_rand(s) % 3], (int)(t_rand(s) % (unsigned)space));
	}
}

static size_t rand_val(uint64_t *s, uint8_t *v)
{
	uint64_t r = t_rand(s) % 100;
	size_t n = r < 5 ? 0 : r < 80 ? (size_t)(t_rand(s) % 200) : r < 97 ? (size_t)(t_rand(s) % 9000)
		   : 70000 + (size_t)(t_rand(s) % 70000);
	int compressible = t_rand(s) % 2;
	uint64_t x = t_rand(s);
	for (size_t i = 0; i < n; i++)
		v[i] = compressible ? (uint8_t)('a' + (i / 7 + x) % 5) : (uint8_t)t_rand(s);
	return n;
}

/* Compare a scan of [lo, hi) (or prefix) with the model. */
static int check_scan(struct lfs_kv *kv, struct model *m, const uint8_t *lo, size_t ll, const uint8_t *hi,
		      size_t hl, const uint8_t *prefix, size_t pl, char *why, size_t wsz)
{
	struct lfs_kv_iter *it = prefix ? lfs_kv_iter_prefix(kv, prefix, pl) : lfs_kv_iter_new(kv, lo, ll, hi, hl);
	size_t i;
	if (prefix) {
		i = m_lower(m, prefix, pl);
	} else {
		i = lo ? m_lower(m, lo, ll) : 0;
	}
	for (; lfs_kv_iter_valid(it); lfs_kv_iter_next(it), i++) {
		size_t kl, vl;
		const void *k = lfs_kv_iter_key(it, &kl);
		if (i >= m->n || (hi && m_cmp(m->e[i].k, m->e[i].kl, hi, hl) >= 0)
		    || (prefix && (m->e[i].kl < pl || memcmp(m->e[i].k, prefix, pl)))) {
			snprintf(why, wsz, "scan: extra key of length %zu", kl);
			lfs_kv_iter_free(it);
			return 0;
		}
		if (m_cmp(k, kl, m->e[i].k, m->e[i].kl)) {
			snprintf(why, wsz, "scan: key %zu differs", i);
			lfs_kv_iter_free(it);
			return 0;
		}
		if (lfs_kv_iter_value_len(it) != m->e[i].vl) {
			snprintf(why, wsz, "scan: value length of key %zu differs", i);
			lfs_kv_iter_free(it);
			return 0;
		}
		if (t_rand(&(uint64_t){ i + 7 }) % 2 == 0) {
			const void *v = lfs_kv_iter_value(it, &vl);
			if (!v || vl != m->e[i].vl || (vl && memcmp(v, m->e[i].v, vl))) {
				snprintf(why, wsz, "scan: value of key %zu differs", i);
				lfs_kv_iter_free(it);
				return 0;
			}
		}
	}
	int err = lfs_kv_iter_error(it, NULL);
	lfs_kv_iter_free(it);
	if (err) {
		snprintf(why, wsz, "scan: error %d", err);
		return 0;
	}
	int more = i < m->n && !(hi && m_cmp(m->e[i].k, m->e[i].kl, hi, hl) >= 0)
		   && !(prefix && (m->e[i].kl < pl || memcmp(m->e[i].k, prefix, pl)));
	if (more) {
		snprintf(why, wsz, "scan: missing key %zu", i);
		return 0;
	}
	return 1;
}

static int check_all(struct lfs_kv *kv, struct model *m, char *why, size_t wsz)
{
	for (size_t i = 0; i < m->n; i++) {
		void *v;
		size_t vl;
		struct lfs_err e = { 0 };
		int rc = lfs_kv_get(kv, m->e[i].k, m->e[i].kl, &v, &vl, &e);
		if (rc) {
			snprintf(why, wsz, "get key %zu: %d %s", i, rc, e.msg);
			return 0;
		}
		int same = vl == m->e[i].vl && (!vl || !memcmp(v, m->e[i].v, vl));
		free(v);
		if (!same) {
			snprintf(why, wsz, "get key %zu: value differs", i);
			return 0;
		}
	}
	struct lfs_kv_stats st;
	lfs_kv_stats(kv, &st);
	if (st.live_keys != m->n) {
		snprintf(why, wsz, "live_keys %llu != %zu", (unsigned long long)st.live_keys, m->n);
		return 0;
	}
	return check_scan(kv, m, NULL, 0, NULL, 0, NULL, 0, why, wsz);
}

static int count_blocks_cb(void *arg, const struct lfs_kv_rec *r)
{
	if (r->kind == LFS_KV_REC_BLOCK)
		(*(uint64_t *)arg)++;
	return 0;
}

/* The value totals a handle keeps as it goes must equal what a fresh open
 * computes from the index (garbage accounting of values in blocks). */
struct acct { uint64_t live_keys, live_bytes, raw, stored; };
static struct acct acct_of(struct lfs_kv *kv)
{
	struct lfs_kv_stats st;
	lfs_kv_stats(kv, &st);
	return (struct acct){ st.live_keys, st.live_bytes, st.raw_value_bytes, st.stored_value_bytes };
}

static void run_model_blocks(const char *what, enum lfs_kv_mode mode, int compress, size_t memtable, int ops,
			     size_t block_bytes);
static void run_model(const char *what, enum lfs_kv_mode mode, int compress, size_t memtable, int ops)
{
	run_model_blocks(what, mode, compress, memtable, ops, 0);
}

static void run_model_blocks(const char *what, enum lfs_kv_mode mode, int compress, size_t memtable, int ops,
			     size_t block_bytes)
{
	uint64_t seed = seed_from_env(what);
	uint64_t s = seed | 1;
	char path[256], why[512];
	snprintf(path, sizeof path, "%s/kvmodel-%d.img", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	unlink(path);
	struct lfs_kv_opts o = { .mode = mode == LFS_KV_MEMORY ? LFS_KV_MEMORY : LFS_KV_CREATE,
				 .compress = compress ? LFS_KV_COMPRESS_ZSTD : LFS_KV_COMPRESS_NONE,
				 .memtable_bytes = memtable, .block_bytes = block_bytes };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	struct model m = { 0 };
	int rc = lfs_kv_open(path, &o, &kv, &e);
	CHECK_MSG(rc == 0, "open: %s", e.msg);
	o.mode = mode == LFS_KV_MEMORY ? LFS_KV_MEMORY : LFS_KV_RDWR;
	uint8_t *k = malloc(2048), *v = malloc(200000), *k2 = malloc(2048);
	struct lfs_kv_batch *b = lfs_kv_batch_new();
	int space = 300 + (int)(t_rand(&s) % 3000);
	int in_grp = 0, groups = 0;   /* inside lfs_kv_group_begin/commit (a command-wide transaction) */
	for (int op = 0; op < ops; op++) {
		size_t kl, vl, k2l;
		uint64_t r = t_rand(&s) % 1000;
		if (r < 450) {
			rand_key(&s, k, &kl, space);
			vl = rand_val(&s, v);
			rc = lfs_kv_put(kv, k, kl, v, vl, &e);
			CHECK_MSG(rc == 0, "op %d put: %s", op, e.msg);
			m_put(&m, k, kl, v, vl);
		} else if (r < 600) {
			rand_key(&s, k, &kl, space);
			rc = lfs_kv_del(kv, k, kl, &e);
			CHECK_MSG(rc == 0, "op %d del: %s", op, e.msg);
			m_del(&m, k, kl);
		} else if (r < 620) {
			rand_key(&s, k, &kl, space);
			rand_key(&s, k2, &k2l, space);
			if (m_cmp(k, kl, k2, k2l) > 0) {
				uint8_t *t = k; k = k2; k2 = t;
				size_t tl = kl; kl = k2l; k2l = tl;
			}
			int open_hi = t_rand(&s) % 8 == 0;
			rc = lfs_kv_del_range(kv, k, kl, open_hi ? NULL : k2, k2l, &e);
			CHECK_MSG(rc == 0, "op %d del_range: %s", op, e.msg);
			m_del_range(&m, k, kl, open_hi ? NULL : k2, k2l);
		} else if (r < 700) {
			int n = 1 + (int)(t_rand(&s) % 40);
			lfs_kv_batch_clear(b);
			struct model m2 = { 0 };
			m_copy(&m2, &m);
			for (int i = 0; i < n; i++) {
				uint64_t q = t_rand(&s) % 10;
				rand_key(&s, k, &kl, space);
				if (q < 6) {
					vl = rand_val(&s, v) % 5000;
					CHECK(lfs_kv_batch_put(b, k, kl, v, vl) == 0);
					m_put(&m2, k, kl, v, vl);
				} else if (q < 9) {
					CHECK(lfs_kv_batch_del(b, k, kl) == 0);
					m_del(&m2, k, kl);
				} else {
					rand_key(&s, k2, &k2l, space);
					if (m_cmp(k, kl, k2, k2l) <= 0) {
						CHECK(lfs_kv_batch_del_range(b, k, kl, k2, k2l) == 0);
						m_del_range(&m2, k, kl, k2, k2l);
					}
				}
			}
			rc = lfs_kv_commit(kv, b, (int)(t_rand(&s) % 4 == 0), &e);
			CHECK_MSG(rc == 0, "op %d commit: %s", op, e.msg);
			m_copy(&m, &m2);
			m_free(&m2);
		} else if (r < 850) {
			rand_key(&s, k, &kl, space);
			void *got;
			size_t gl;
			rc = lfs_kv_get(kv, k, kl, &got, &gl, &e);
			struct m_ent *me = m_get(&m, k, kl);
			if (!me) {
				CHECK_MSG(rc == -ENOENT, "op %d get of absent key returned %d", op, rc);
			} else {
				CHECK_MSG(rc == 0, "op %d get: %d %s", op, rc, e.msg);
				CHECK_MSG(gl == me->vl && (!gl || !memcmp(got, me->v, gl)), "op %d get: value differs", op);
				free(got);
				/* get_into with a short buffer */
				uint8_t small[16];
				size_t full = 0;
				rc = lfs_kv_get_into(kv, k, kl, small, sizeof small, &full, &e);
				CHECK_MSG(rc == 0 && full == me->vl, "op %d get_into", op);
				CHECK(!memcmp(small, me->v, me->vl < 16 ? me->vl : 16));
			}
		} else if (r < 900) {
			rand_key(&s, k, &kl, space);
			if (t_rand(&s) % 2) {
				size_t pl = kl > 3 ? 1 + (size_t)(t_rand(&s) % 3) : kl;
				CHECK_MSG(check_scan(kv, &m, NULL, 0, NULL, 0, k, pl, why, sizeof why), "op %d prefix: %s", op, why);
			} else {
				rand_key(&s, k2, &k2l, space);
				CHECK_MSG(check_scan(kv, &m, k, kl, k2, k2l, NULL, 0, why, sizeof why), "op %d range: %s", op, why);
			}
		} else if (r < 930) {
			/* scan while writing: every key seen must be one the model had or has */
			struct lfs_kv_iter *it = lfs_kv_iter_new(kv, NULL, 0, NULL, 0);
			int steps = 0;
			uint8_t last[2048];
			size_t lastl = 0;
			int have = 0;
			for (; lfs_kv_iter_valid(it) && steps < 50; lfs_kv_iter_next(it), steps++) {
				size_t cl;
				const void *ck = lfs_kv_iter_key(it, &cl);
				CHECK_MSG(!have || m_cmp(last, lastl, ck, cl) < 0, "op %d: iterator not ascending", op);
				memcpy(last, ck, cl);
				lastl = cl;
				have = 1;
				if (steps % 10 == 3) {
					rand_key(&s, k, &kl, space);
					vl = rand_val(&s, v) % 3000;
					CHECK(lfs_kv_put(kv, k, kl, v, vl, &e) == 0);
					m_put(&m, k, kl, v, vl);
				}
			}
			lfs_kv_iter_free(it);
		} else if (r < 940) {
			CHECK_MSG(lfs_kv_sync(kv, &e) == 0, "sync: %s", e.msg);
		} else if (r < 950) {
			if (!in_grp) {
				CHECK_MSG(lfs_kv_group_begin(kv, &e) == 0, "op %d group begin: %s", op, e.msg);
				groups++;
			} else {
				CHECK_MSG(lfs_kv_group_commit(kv, (int)(t_rand(&s) % 2), &e) == 0, "op %d group commit: %s", op,
					  e.msg);
			}
			in_grp = !in_grp;
		} else if (r < 980) {
			CHECK_MSG(check_all(kv, &m, why, sizeof why), "op %d before reopen: %s", op, why);
			if (in_grp) {
				CHECK_MSG(lfs_kv_group_commit(kv, 0, &e) == 0, "op %d group commit: %s", op, e.msg);
				in_grp = 0;
				CHECK_MSG(check_all(kv, &m, why, sizeof why), "op %d after group commit: %s", op, why);
			}
			if (mode != LFS_KV_MEMORY) {
				struct acct a0 = acct_of(kv);
				CHECK(lfs_kv_close(kv) == 0);
				rc = lfs_kv_open(path, &o, &kv, &e);
				CHECK_MSG(rc == 0, "op %d reopen: %s", op, e.msg);
				CHECK_MSG(check_all(kv, &m, why, sizeof why), "op %d after reopen: %s", op, why);
				struct acct a1 = acct_of(kv);
				CHECK_MSG(!memcmp(&a0, &a1, sizeof a0),
					  "op %d: accounting differs after reopen: live %llu/%llu bytes, raw %llu/%llu, stored %llu/%llu",
					  op, (unsigned long long)a0.live_bytes, (unsigned long long)a1.live_bytes,
					  (unsigned long long)a0.raw, (unsigned long long)a1.raw, (unsigned long long)a0.stored,
					  (unsigned long long)a1.stored);
			}
		} else {
			uint64_t before, after;
			if (in_grp) {
				CHECK_MSG(lfs_kv_group_commit(kv, 0, &e) == 0, "op %d group commit: %s", op, e.msg);
				in_grp = 0;
			}
			rc = lfs_kv_compact(kv, &before, &after, &e);
			CHECK_MSG(rc == 0, "op %d compact: %s", op, e.msg);
			CHECK_MSG(check_all(kv, &m, why, sizeof why), "op %d after compact: %s", op, why);
			if (mode != LFS_KV_MEMORY) {
				/* right after a compaction only the index and record headers are dead */
				struct lfs_kv_stats st;
				lfs_kv_stats(kv, &st);
				uint64_t idx = 64;
				for (size_t i = 0; i < m.n; i++)
					idx += (24 + m.e[i].kl + 7) & ~(size_t)7;
				/* + a record header (and padding) per value at most, + rounding of block shares */
				CHECK_MSG(st.dead_bytes <= idx + 49 * (m.n + 1),
					  "op %d: %llu dead bytes right after compaction (%llu in the file, %zu keys)", op,
					  (unsigned long long)st.dead_bytes, (unsigned long long)st.file_bytes, m.n);
			}
		}
	}
	if (in_grp)
		CHECK_MSG(lfs_kv_group_commit(kv, 0, &e) == 0, "end: group commit: %s", e.msg);
	printf("# %d groups\n", groups);
	CHECK_MSG(check_all(kv, &m, why, sizeof why), "end: %s", why);
	CHECK_MSG(lfs_kv_verify(kv, NULL, NULL, &e) == 0, "verify found problems");
	if (compress) {
		uint64_t blocks = 0;
		CHECK(lfs_kv_walk(kv, count_blocks_cb, &blocks, &e) == 0);
		printf("# %llu compressed blocks in the log\n", (unsigned long long)blocks);
		CHECK_MSG(blocks > 0, "a zstd image without blocks");
	}
	CHECK(lfs_kv_close(kv) == 0);
	if (mode != LFS_KV_MEMORY) {
		o.mode = LFS_KV_RDONLY;
		rc = lfs_kv_open(path, &o, &kv, &e);
		CHECK_MSG(rc == 0, "final reopen: %s", e.msg);
		CHECK_MSG(check_all(kv, &m, why, sizeof why), "final: %s", why);
		CHECK(lfs_kv_close(kv) == 0);
	}
	lfs_kv_batch_free(b);
	free(k);
	free(k2);
	free(v);
	m_free(&m);
	unlink(path);
}

TEST(kv_model_file)
{
	run_model("kv_model_file", LFS_KV_CREATE, 0, 0, long_run() ? 200000 : 4000);
}

TEST(kv_model_small_memtable)
{
	/* tiny memtable: checkpoints all the time */
	run_model("kv_model_small_memtable", LFS_KV_CREATE, 0, 64 << 10, long_run() ? 100000 : 2500);
}

TEST(kv_model_zstd)
{
	run_model("kv_model_zstd", LFS_KV_CREATE, 1, 256 << 10, long_run() ? 100000 : 2500);
}

/* Small blocks: batches and compactions make many blocks, values are
 * overwritten and deleted inside them, incompressible runs fall back to
 * values stored one by one. */
TEST(kv_model_zstd_blocks)
{
	uint64_t s = seed_from_env("kv_model_zstd_blocks_size") | 1;
	size_t bb = 4096 + (size_t)(t_rand(&s) % 60000);
	printf("# block size %zu\n", bb);
	run_model_blocks("kv_model_zstd_blocks", LFS_KV_CREATE, 1, 128 << 10, long_run() ? 100000 : 3000, bb);
}

TEST(kv_model_memory)
{
	run_model("kv_model_memory", LFS_KV_MEMORY, 0, 128 << 10, long_run() ? 200000 : 4000);
}

TEST(kv_lock)
{
	char path[256];
	snprintf(path, sizeof path, "%s/kvlock-%d.img", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	unlink(path);
	struct lfs_kv_opts o = { .mode = LFS_KV_CREATE };
	struct lfs_kv *kv, *kv2;
	struct lfs_err e = { 0 };
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	pid_t child = fork();
	if (child == 0) {
		struct lfs_kv *k3;
		struct lfs_kv_opts o2 = { .mode = LFS_KV_RDWR };
		int rc = lfs_kv_open(path, &o2, &k3, &e);
		char want[64];
		snprintf(want, sizeof want, "image is in use by pid %d", (int)getppid());
		_exit(rc == LFS_E_LOCKED && strstr(e.msg, want) ? 0 : 1);
	}
	int status;
	waitpid(child, &status, 0);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "second writer was not refused with the pid");
	CHECK_EQ(lfs_kv_lock_owner(path), getpid());
	CHECK(lfs_kv_close(kv) == 0);
	CHECK_EQ(lfs_kv_lock_owner(path), 0);
	/* many readers */
	o.mode = LFS_KV_RDONLY;
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	CHECK(lfs_kv_open(path, &o, &kv2, &e) == 0);
	CHECK_EQ(lfs_kv_put(kv, "a", 1, "b", 1, &e), LFS_E_READONLY);
	lfs_kv_close(kv);
	lfs_kv_close(kv2);
	/* errors */
	o.mode = LFS_KV_RDWR;
	CHECK_EQ(lfs_kv_open("/nonexistent/x.img", &o, &kv, &e), -ENOENT);
	FILE *f = fopen(path, "w");
	fputs("this is not an image, just some text that is long enough ..........", f);
	for (int i = 0; i < 100; i++)
		fputs("................................................................", f);
	fclose(f);
	CHECK_EQ(lfs_kv_open(path, &o, &kv, &e), LFS_E_BADMAGIC);
	unlink(path);
}

TEST(kv_limits)
{
	struct lfs_kv_opts o = { .mode = LFS_KV_MEMORY };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	CHECK(lfs_kv_open(NULL, &o, &kv, &e) == 0);
	uint8_t *big = calloc(1, LFS_KV_MAX_VALUE + 1);
	CHECK_EQ(lfs_kv_put(kv, big, LFS_KV_MAX_KEY + 1, "x", 1, &e), LFS_E_TOOBIG);
	CHECK_EQ(lfs_kv_put(kv, "k", 1, big, LFS_KV_MAX_VALUE + 1, &e), LFS_E_TOOBIG);
	CHECK_EQ(lfs_kv_put(kv, big, LFS_KV_MAX_KEY, big, 1 << 20, &e), 0);
	void *v;
	size_t vl;
	CHECK_EQ(lfs_kv_get(kv, big, LFS_KV_MAX_KEY, &v, &vl, &e), 0);
	CHECK_EQ(vl, 1 << 20);
	free(v);
	free(big);
	lfs_kv_close(kv);
}

/* Overwrites past the garbage ratio compact the image on their own. */
TEST(kv_auto_compact)
{
	char path[256];
	snprintf(path, sizeof path, "%s/kvauto-%d.img", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	unlink(path);
	struct lfs_kv_opts o = { .mode = LFS_KV_CREATE };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	uint8_t v[4096];
	struct lfs_kv_batch *b = lfs_kv_batch_new();
	uint64_t maxfile = 0;
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 1500; i++) {
			char k[16];
			int kl = snprintf(k, sizeof k, "p%05d", i);
			memset(v, 'a' + round, sizeof v);
			memcpy(v, &i, sizeof i);
			CHECK(lfs_kv_batch_put(b, k, (size_t)kl, v, sizeof v) == 0);
			if (lfs_kv_batch_count(b) == 100) {
				CHECK(lfs_kv_commit(kv, b, 0, &e) == 0);
				lfs_kv_batch_clear(b);
			}
		}
		struct lfs_kv_stats st;
		lfs_kv_stats(kv, &st);
		if (st.file_bytes > maxfile)
			maxfile = st.file_bytes;
	}
	struct lfs_kv_stats st;
	lfs_kv_stats(kv, &st);
	printf("# live %llu bytes, file %llu bytes (max %llu), %llu compactions\n", (unsigned long long)st.live_bytes,
	       (unsigned long long)st.file_bytes, (unsigned long long)maxfile, (unsigned long long)st.compactions);
	CHECK(st.compactions >= 1);
	CHECK(maxfile < 4 * st.live_bytes + (8u << 20));
	CHECK(lfs_kv_close(kv) == 0);
	o.mode = LFS_KV_RDONLY;
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	for (int i = 0; i < 1500; i++) {
		char k[16];
		int kl = snprintf(k, sizeof k, "p%05d", i);
		size_t vl;
		CHECK(lfs_kv_get_into(kv, k, (size_t)kl, v, sizeof v, &vl, &e) == 0);
		CHECK(vl == sizeof v && v[100] == 'a' + 4 && !memcmp(v, &i, sizeof i));
	}
	lfs_kv_close(kv);
	lfs_kv_batch_free(b);
	unlink(path);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, kv_model_file, kv_model_small_memtable, kv_model_zstd, kv_model_zstd_blocks,
			 kv_model_memory,
			 kv_lock, kv_limits, kv_auto_compact);
}
