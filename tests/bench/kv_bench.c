/*
 * tests/bench/kv_bench.c — db_bench-style comparison of lib/kv with LMDB and
 * SQLite, same workloads in the same process:
 *   fillseq fillrandom overwrite readrandom readseq
 * 16-byte keys, values of 100 bytes and of 4 KiB, writes in batches of 1,000
 * with one sync per batch.  Prints ops/s and the ratio lightfs / peer.
 *
 *   kv_bench [-n N100] [-N N4K] [-d DIR] [-e lightfs,lmdb,sqlite] [-p MIB]
 */
#include <errno.h>
#include <lmdb.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kv/kv.h"

#define BATCH 1000
#define KEYLEN 16

enum { W_FILLSEQ, W_FILLRANDOM, W_OVERWRITE, W_READRANDOM, W_READSEQ, NW };
static const char *wname[NW] = { "fillseq", "fillrandom", "overwrite", "readrandom", "readseq" };
enum { E_LFS, E_LMDB, E_SQLITE, NE };
static const char *ename[NE] = { "lightfs", "lmdb", "sqlite" };

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rs;
static uint64_t rnd(void)
{
	rs ^= rs >> 12; rs ^= rs << 25; rs ^= rs >> 27;
	return rs * 2685821657736338717ull;
}

static void mkkey(char *k, uint64_t i)
{
	char t[32];
	snprintf(t, sizeof t, "%016llu", (unsigned long long)i);
	memcpy(k, t, KEYLEN);
}

static void mkval(uint8_t *v, size_t n, uint64_t seed)
{
	/* half-compressible, like db_bench */
	for (size_t i = 0; i < n; i++)
		v[i] = i < n / 2 ? (uint8_t)(seed * 31 + i * 7) : (uint8_t)'x';
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "kv_bench: %s: %s\n", what, why);
	exit(1);
}

/* ---------------------------------------------------------------- engines */
struct eng {
	int e;
	char path[512];
	struct lfs_kv *kv;
	MDB_env *env;
	MDB_dbi dbi;
	sqlite3 *db;
	sqlite3_stmt *ins, *get, *scan;
};

static void rmrf(const char *p)
{
	char cmd[2400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s-wal' '%s-shm' '%s.compact~'", p, p, p, p);
	if (system(cmd)) {
	}
}

static void eng_open(struct eng *g, int fresh)
{
	if (fresh)
		rmrf(g->path);
	if (g->e == E_LFS) {
		struct lfs_kv_opts o = { .mode = LFS_KV_CREATE };
		struct lfs_err err = { 0 };
		if (lfs_kv_open(g->path, &o, &g->kv, &err))
			die(g->path, err.msg);
	} else if (g->e == E_LMDB) {
		mkdir(g->path, 0755);
		mdb_env_create(&g->env);
		mdb_env_set_mapsize(g->env, (size_t)32 << 30);
		int rc = mdb_env_open(g->env, g->path, MDB_NORDAHEAD, 0644);
		if (rc)
			die(g->path, mdb_strerror(rc));
		MDB_txn *t;
		mdb_txn_begin(g->env, NULL, 0, &t);
		mdb_dbi_open(t, NULL, 0, &g->dbi);
		mdb_txn_commit(t);
	} else {
		if (sqlite3_open(g->path, &g->db))
			die(g->path, sqlite3_errmsg(g->db));
		sqlite3_exec(g->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;"
			     "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID;", 0, 0, 0);
		sqlite3_prepare_v2(g->db, "INSERT OR REPLACE INTO kv(k, v) VALUES (?, ?)", -1, &g->ins, 0);
		sqlite3_prepare_v2(g->db, "SELECT v FROM kv WHERE k = ?", -1, &g->get, 0);
		sqlite3_prepare_v2(g->db, "SELECT k, v FROM kv ORDER BY k", -1, &g->scan, 0);
	}
}

static void eng_close(struct eng *g)
{
	if (g->e == E_LFS) {
		if (lfs_kv_close(g->kv))
			die(g->path, "close failed");
	} else if (g->e == E_LMDB) {
		mdb_env_close(g->env);
	} else {
		sqlite3_finalize(g->ins);
		sqlite3_finalize(g->get);
		sqlite3_finalize(g->scan);
		sqlite3_close(g->db);
	}
}

/* Write n keys (order from keyof) in synced batches of BATCH. */
static void eng_fill(struct eng *g, uint64_t n, size_t vlen, int mode, uint8_t *val)
{
	char k[KEYLEN];
	struct lfs_kv_batch *b = g->e == E_LFS ? lfs_kv_batch_new() : NULL;
	struct lfs_err err = { 0 };
	for (uint64_t i = 0; i < n;) {
		uint64_t end = i + BATCH < n ? i + BATCH : n;
		MDB_txn *t = NULL;
		if (g->e == E_LMDB)
			mdb_txn_begin(g->env, NULL, 0, &t);
		else if (g->e == E_SQLITE)
			sqlite3_exec(g->db, "BEGIN", 0, 0, 0);
		for (; i < end; i++) {
			uint64_t ki = mode == W_FILLSEQ ? i : rnd() % n;
			mkkey(k, ki);
			val[0] = (uint8_t)i;
			if (g->e == E_LFS) {
				lfs_kv_batch_put(b, k, KEYLEN, val, vlen);
			} else if (g->e == E_LMDB) {
				MDB_val mk = { KEYLEN, k }, mv = { vlen, val };
				int rc = mdb_put(t, g->dbi, &mk, &mv, 0);
				if (rc)
					die("mdb_put", mdb_strerror(rc));
			} else {
				sqlite3_bind_blob(g->ins, 1, k, KEYLEN, SQLITE_STATIC);
				sqlite3_bind_blob(g->ins, 2, val, (int)vlen, SQLITE_STATIC);
				if (sqlite3_step(g->ins) != SQLITE_DONE)
					die("sqlite insert", sqlite3_errmsg(g->db));
				sqlite3_reset(g->ins);
			}
		}
		if (g->e == E_LFS) {
			if (lfs_kv_commit(g->kv, b, 1, &err))
				die("commit", err.msg);
			lfs_kv_batch_clear(b);
		} else if (g->e == E_LMDB) {
			int rc = mdb_txn_commit(t);
			if (rc)
				die("mdb commit", mdb_strerror(rc));
		} else {
			sqlite3_exec(g->db, "COMMIT", 0, 0, 0);
		}
	}
	lfs_kv_batch_free(b);
}

static uint64_t eng_readrandom(struct eng *g, uint64_t n, uint64_t ops, uint8_t *buf, size_t cap)
{
	char k[KEYLEN];
	uint64_t found = 0;
	MDB_txn *t = NULL;
	if (g->e == E_LMDB)
		mdb_txn_begin(g->env, NULL, MDB_RDONLY, &t);
	for (uint64_t i = 0; i < ops; i++) {
		mkkey(k, rnd() % n);
		if (g->e == E_LFS) {
			size_t vl;
			if (lfs_kv_get_into(g->kv, k, KEYLEN, buf, cap, &vl, NULL) == 0)
				found++;
		} else if (g->e == E_LMDB) {
			MDB_val mk = { KEYLEN, k }, mv;
			if (mdb_get(t, g->dbi, &mk, &mv) == 0) {
				memcpy(buf, mv.mv_data, mv.mv_size < cap ? mv.mv_size : cap);
				found++;
			}
		} else {
			sqlite3_bind_blob(g->get, 1, k, KEYLEN, SQLITE_STATIC);
			if (sqlite3_step(g->get) == SQLITE_ROW) {
				int l = sqlite3_column_bytes(g->get, 0);
				memcpy(buf, sqlite3_column_blob(g->get, 0), (size_t)l < cap ? (size_t)l : cap);
				found++;
			}
			sqlite3_reset(g->get);
		}
	}
	if (t)
		mdb_txn_abort(t);
	return found;
}

static uint64_t eng_readseq(struct eng *g, uint8_t *buf, size_t cap)
{
	uint64_t n = 0;
	if (g->e == E_LFS) {
		struct lfs_kv_iter *it;
		for (it = lfs_kv_iter_new(g->kv, NULL, 0, NULL, 0); lfs_kv_iter_valid(it); lfs_kv_iter_next(it)) {
			size_t vl;
			const void *v = lfs_kv_iter_value(it, &vl);
			if (!v)
				break;
			memcpy(buf, v, vl < cap ? vl : cap);
			n++;
		}
		lfs_kv_iter_free(it);
	} else if (g->e == E_LMDB) {
		MDB_txn *t;
		MDB_cursor *c;
		MDB_val mk, mv;
		mdb_txn_begin(g->env, NULL, MDB_RDONLY, &t);
		mdb_cursor_open(t, g->dbi, &c);
		while (mdb_cursor_get(c, &mk, &mv, MDB_NEXT) == 0) {
			memcpy(buf, mv.mv_data, mv.mv_size < cap ? mv.mv_size : cap);
			n++;
		}
		mdb_cursor_close(c);
		mdb_txn_abort(t);
	} else {
		while (sqlite3_step(g->scan) == SQLITE_ROW) {
			int l = sqlite3_column_bytes(g->scan, 1);
			memcpy(buf, sqlite3_column_blob(g->scan, 1), (size_t)l < cap ? (size_t)l : cap);
			n++;
		}
		sqlite3_reset(g->scan);
	}
	return n;
}

static double res[2][NE][NW];

static void run_size(int si, size_t vlen, uint64_t n, const char *dir, const int *want)
{
	uint8_t *val = malloc(vlen), *buf = malloc(vlen + 64);
	mkval(val, vlen, 1);
	for (int e = 0; e < NE; e++) {
		if (!want[e])
			continue;
		struct eng g = { .e = e };
		snprintf(g.path, sizeof g.path, "%s/bench.%s", dir, ename[e]);
		double t;
		/* fillseq */
		eng_open(&g, 1);
		t = now();
		eng_fill(&g, n, vlen, W_FILLSEQ, val);
		res[si][e][W_FILLSEQ] = (double)n / (now() - t);
		eng_close(&g);
		/* fillrandom */
		rs = 0x9e3779b97f4a7c15ull;
		eng_open(&g, 1);
		t = now();
		eng_fill(&g, n, vlen, W_FILLRANDOM, val);
		res[si][e][W_FILLRANDOM] = (double)n / (now() - t);
		eng_close(&g);
		/* overwrite: fill every key first (untimed), then random overwrites */
		eng_open(&g, 1);
		eng_fill(&g, n, vlen, W_FILLSEQ, val);
		rs = 0x1234567ull;
		t = now();
		eng_fill(&g, n, vlen, W_OVERWRITE, val);
		res[si][e][W_OVERWRITE] = (double)n / (now() - t);
		eng_close(&g);
		/* reads on the reopened image (fits in the page cache) */
		eng_open(&g, 0);
		rs = 0x777ull;
		eng_readrandom(&g, n, n / 4, buf, vlen + 64);   /* warm */
		rs = 0x999ull;
		t = now();
		uint64_t f = eng_readrandom(&g, n, n, buf, vlen + 64);
		res[si][e][W_READRANDOM] = (double)n / (now() - t);
		if (f != n)
			fprintf(stderr, "kv_bench: %s readrandom found %llu of %llu\n", ename[e],
				(unsigned long long)f, (unsigned long long)n);
		t = now();
		uint64_t c = eng_readseq(&g, buf, vlen + 64);
		res[si][e][W_READSEQ] = (double)c / (now() - t);
		if (c != n)
			fprintf(stderr, "kv_bench: %s readseq saw %llu of %llu\n", ename[e], (unsigned long long)c,
				(unsigned long long)n);
		eng_close(&g);
		rmrf(g.path);
		fprintf(stderr, "  %s %zu-byte values done\n", ename[e], vlen);
	}
	printf("\n%zu-byte values, %llu keys, batches of %d with one sync each (ops/s):\n", vlen,
	       (unsigned long long)n, BATCH);
	printf("%-11s %12s %12s %12s %9s %9s\n", "workload", "lightfs", "lmdb", "sqlite", "vs lmdb", "vs sqlite");
	for (int w = 0; w < NW; w++) {
		printf("%-11s", wname[w]);
		for (int e = 0; e < NE; e++)
			printf(" %12.0f", res[si][e][w]);
		for (int e = 1; e < NE; e++)
			if (res[si][e][w] > 0 && res[si][E_LFS][w] > 0)
				printf(" %8.2fx", res[si][E_LFS][w] / res[si][e][w]);
			else
				printf(" %9s", "-");
		printf("\n");
	}
	free(val);
	free(buf);
}

/* The filesystem's use: GiB of 4 KiB pages in synced batches, against
 * write() + fdatasync() of a host file with the same batch size. */
static void run_pages(const char *dir, uint64_t mib)
{
	char path[600];
	uint64_t pages = mib * 256, per = 1000;
	double t;
	uint8_t *pg = malloc(4096);
	mkval(pg, 4096, 3);
	snprintf(path, sizeof path, "%s/pages.host", dir);
	rmrf(path);
	FILE *f = fopen(path, "w");
	int fd = fileno(f);
	uint8_t *chunk = malloc(per * 4096);
	for (uint64_t x = 0; x < per; x++)
		memcpy(chunk + x * 4096, pg, 4096);
	t = now();
	for (uint64_t i = 0; i < pages; i += per) {
		uint64_t n = pages - i < per ? pages - i : per;
		if (write(fd, chunk, n * 4096) != (ssize_t)(n * 4096))
			die(path, "write");
		if (fdatasync(fd))
			die(path, "fdatasync");
	}
	double th1 = now() - t;
	fclose(f);
	rmrf(path);
	free(chunk);
	snprintf(path, sizeof path, "%s/pages.lightfs", dir);
	rmrf(path);
	struct lfs_kv_opts o = { .mode = LFS_KV_CREATE };
	struct lfs_kv *kv;
	struct lfs_err err = { 0 };
	if (lfs_kv_open(path, &o, &kv, &err))
		die(path, err.msg);
	struct lfs_kv_batch *b = lfs_kv_batch_new();
	t = now();
	for (uint64_t i = 0; i < pages; i++) {
		uint8_t k[16] = { 'p' };
		uint64_t be = __builtin_bswap64(i);
		memcpy(k + 8, &be, 8);
		pg[0] = (uint8_t)i;
		lfs_kv_batch_put(b, k, sizeof k, pg, 4096);
		if (lfs_kv_batch_count(b) == per || i + 1 == pages) {
			if (lfs_kv_commit(kv, b, 1, &err))
				die("commit", err.msg);
			lfs_kv_batch_clear(b);
		}
	}
	if (lfs_kv_close(kv))
		die(path, "close");
	double tl = now() - t;
	lfs_kv_batch_free(b);
	rmrf(path);
	snprintf(path, sizeof path, "%s/pages.host", dir);
	rmrf(path);
	f = fopen(path, "w");
	fd = fileno(f);
	chunk = malloc(per * 4096);
	for (uint64_t x = 0; x < per; x++)
		memcpy(chunk + x * 4096, pg, 4096);
	t = now();
	for (uint64_t i = 0; i < pages; i += per) {
		uint64_t n = pages - i < per ? pages - i : per;
		if (write(fd, chunk, n * 4096) != (ssize_t)(n * 4096))
			die(path, "write");
		if (fdatasync(fd))
			die(path, "fdatasync");
	}
	double th2 = now() - t;
	fclose(f);
	rmrf(path);
	double th = (th1 + th2) / 2;
	printf("\n%llu MiB of 4 KiB pages, batches of %llu with one sync each:\n", (unsigned long long)mib,
	       (unsigned long long)per);
	printf("  lightfs kv %8.1f MiB/s   host write+fdatasync %8.1f MiB/s (before %.1f, after %.1f)   ratio %.2fx (target >= 0.8x)\n",
	       (double)mib / tl, (double)mib / th, (double)mib / th1, (double)mib / th2, th / tl);
	free(chunk);
	free(pg);
}

int main(int argc, char **argv)
{
	uint64_t n100 = 500000, n4k = 50000, pmib = 1024;
	const char *dir = ".";
	int want[NE] = { 1, 1, 1 };
	int opt;
	while ((opt = getopt(argc, argv, "n:N:d:e:p:")) != -1) {
		switch (opt) {
		case 'p': pmib = strtoull(optarg, NULL, 0); break;
		case 'n': n100 = strtoull(optarg, NULL, 0); break;
		case 'N': n4k = strtoull(optarg, NULL, 0); break;
		case 'd': dir = optarg; break;
		case 'e':
			want[0] = !!strstr(optarg, "lightfs");
			want[1] = !!strstr(optarg, "lmdb");
			want[2] = !!strstr(optarg, "sqlite");
			break;
		default:
			fprintf(stderr, "usage: kv_bench [-n N100] [-N N4K] [-d DIR] [-e ENGINES]\n");
			return 2;
		}
	}
	if (n100)
		run_size(0, 100, n100, dir, want);
	if (n4k)
		run_size(1, 4096, n4k, dir, want);
	if (pmib)
		run_pages(dir, pmib);
	/* targets */
	printf("\ntargets: fillrandom, overwrite >= 1.5x lmdb; readrandom >= 0.7x lmdb; all ahead of sqlite\n");
	int miss = 0;
	for (int si = 0; si < 2; si++) {
		if (!(si ? n4k : n100) || !want[0])
			continue;
		double *l = res[si][E_LFS], *m = res[si][E_LMDB], *q = res[si][E_SQLITE];
		const char *sz = si ? "4k" : "100";
		if (want[1]) {
			if (l[W_FILLRANDOM] < 1.5 * m[W_FILLRANDOM]) { printf("  MISS %s fillrandom vs lmdb\n", sz); miss++; }
			if (l[W_OVERWRITE] < 1.5 * m[W_OVERWRITE]) { printf("  MISS %s overwrite vs lmdb\n", sz); miss++; }
			if (l[W_READRANDOM] < 0.7 * m[W_READRANDOM]) { printf("  MISS %s readrandom vs lmdb\n", sz); miss++; }
		}
		if (want[2])
			for (int w = 0; w < NW; w++)
				if (l[w] < q[w]) { printf("  MISS %s %s vs sqlite\n", sz, wname[w]); miss++; }
	}
	printf(miss ? "%d targets missed\n" : "all targets met\n", miss);
	return 0;
}
