/*
 * tests/unit/test_replay_synth.c — replay of small synthetic traces written
 * with the trace writer API, against expectations computed by hand.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "replay/replay.h"
#include "trace/trace.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)

/* ---------------------------------------------------------------- trace building */

struct tb {
	struct lfs_trace_writer *w;
	uint64_t t;
	int failed;
	char path[256];
};

static void tb_open(struct tb *b, const char *name)
{
	struct lfs_trace_header h;
	struct lfs_err err;
	memset(&h, 0, sizeof h);
	memset(b, 0, sizeof *b);
	snprintf(h.cmdline, sizeof h.cmdline, "synthetic %s", name);
	snprintf(h.host, sizeof h.host, "test");
	snprintf(b->path, sizeof b->path, "%s/%s.lft", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
	if (lfs_trace_create(&b->w, b->path, &h, NULL, &err) < 0)
		b->failed = 1;
}

static struct lfs_trace_event ev0(struct tb *b, int pid, unsigned sys, int64_t ret)
{
	struct lfs_trace_event e;
	lfs_trace_event_init(&e);
	b->t += 1000;            /* 1 µs apart unless set */
	e.ts_ns = b->t;
	e.pid = e.tid = pid;
	e.sys = (uint16_t)sys;
	e.ret = ret;
	return e;
}

static void put(struct tb *b, struct lfs_trace_event *e)
{
	struct lfs_err err;
	if (!b->failed && lfs_trace_write(b->w, e, &err) < 0)
		b->failed = 1;
}

static void t_open(struct tb *b, int pid, const char *path, uint64_t flags, int64_t ret, uint64_t size)
{
	struct lfs_trace_event e = ev0(b, pid, LFS_TR_OPENAT, ret);
	e.dirfd = LFS_TR_AT_FDCWD;
	e.path = e.path_abs = path;
	e.flags = flags;
	e.mode = 0644;
	if (ret >= 0) {
		e.eflags |= LFS_TREV_STAT;
		e.size = size;
		e.ftype = S_IFREG | 0644;
		e.ino = 1000 + (uint64_t)ret;
	}
	put(b, &e);
}

static void t_rw(struct tb *b, int pid, unsigned sys, int fd, uint64_t count, int64_t off, int64_t ret)
{
	struct lfs_trace_event e = ev0(b, pid, sys, ret);
	e.fd = fd;
	e.count = count;
	e.offset = off;
	put(b, &e);
}

static void t_fd(struct tb *b, int pid, unsigned sys, int fd, int64_t ret)
{
	struct lfs_trace_event e = ev0(b, pid, sys, ret);
	e.fd = fd;
	put(b, &e);
}

static void t_path(struct tb *b, int pid, unsigned sys, const char *path, int64_t ret)
{
	struct lfs_trace_event e = ev0(b, pid, sys, ret);
	e.dirfd = LFS_TR_AT_FDCWD;
	e.path = e.path_abs = path;
	e.mode = 0755;
	put(b, &e);
}

static int tb_close(struct tb *b)
{
	struct lfs_err err;
	if (b->failed)
		return -1;
	return lfs_trace_finish(b->w, NULL, &err);
}

static void opts_quiet(struct lfs_replay_opts *o)
{
	memset(o, 0, sizeof *o);
	/* no age-based writeback during these short traces */
	o->mount.dirty_expire_ns = 3600ull * 1000000000ull;
	o->mount.writeback_interval_ns = 3600ull * 1000000000ull;
}

/* replay the trace at path with o; a failure fails the test */
static void t_replay(const char *path, const struct lfs_replay_opts *o, struct lfs_replay_result *r)
{
	struct lfs_err err;
	int rc = lfs_replay_run(path, o, r, &err);
	CHECK_MSG(rc == 0, "%s", err.msg);
}

/* in a TEST: replay, and return from the test when that failed (r is then
 * not set); TB_REPLAY first closes the trace being built */
#define REPLAY_OK(path, o, r) do { \
	t_replay(path, o, r); \
	if (t_cur.failed) \
		return; \
} while (0)
#define TB_REPLAY(b, o, r) do { \
	CHECK(tb_close(b) == 0); \
	REPLAY_OK((b)->path, o, r); \
} while (0)

/* ---------------------------------------------------------------- tests */

/* A pre-existing file of n bytes read sequentially in chunks of `chunk`. */
static void seqread_trace(struct tb *b, const char *name, uint64_t n, uint64_t chunk)
{
	tb_open(b, name);
	t_open(b, 10, "/data/big", O_RDONLY, 3, n);
	for (uint64_t off = 0; off < n; off += chunk)
		t_rw(b, 10, LFS_TR_READ, 3, chunk, -1, (int64_t)(n - off < chunk ? n - off : chunk));
	t_rw(b, 10, LFS_TR_READ, 3, chunk, -1, 0);
	t_fd(b, 10, LFS_TR_CLOSE, 3, 0);
}

TEST(seqread_no_readahead)
{
	struct tb b;
	seqread_trace(&b, "seq_nora", 4 * MiB, 64 * KiB);
	CHECK(tb_close(&b) == 0);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	o.mount.readahead_max = 4096;     /* one page: readahead off */
	o.verify = 1;
	struct lfs_replay_result r;
	struct lfs_err err;
	int rc = lfs_replay_run(b.path, &o, &r, &err);
	CHECK_MSG(rc == 0, "%s", err.msg);
	CHECK_EQ(r.setup_files, 1);
	CHECK_EQ(r.setup_bytes, 4 * MiB);
	CHECK_EQ(r.app_read, 4 * MiB);
	CHECK_EQ(r.mismatches, 0);
	CHECK_EQ(r.verify_failures, 0);
	CHECK_EQ(r.verify_bytes, 4 * MiB);
	/* cold cache, no readahead: every one of the 1024 pages is one readpage */
	CHECK_EQ(r.st.pc.readpage, 1024);
	CHECK_EQ(r.st.pc.ra_pages, 0);
	CHECK_EQ(r.st.pc.readahead_calls, 0);
	CHECK_EQ(r.st.pc.misses, 1024);
	CHECK(r.st.kv.gets >= 1024);
	lfs_replay_result_free(&r);
}

TEST(seqread_readahead)
{
	struct tb b;
	seqread_trace(&b, "seq_ra", 4 * MiB, 128 * KiB);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	o.mount.readahead_max = 128 * KiB;
	o.verify = 1;
	struct lfs_replay_result r;
	TB_REPLAY(&b, &o, &r);
	CHECK_EQ(r.verify_failures, 0);
	CHECK_EQ(r.mismatches, 0);
	/* every page comes in exactly once, by readpage or by readahead, and
	 * readahead never reads past EOF: nothing is wasted */
	CHECK_EQ(r.st.pc.readpage + r.st.pc.ra_pages, 1024);
	CHECK_EQ(r.st.pc.ra_used, r.st.pc.ra_pages);
	CHECK(r.st.pc.ra_pages >= 1024 - 32);
	/* windows of at most 32 pages: at least 1024/32 batches */
	CHECK(r.st.pc.readahead_calls >= 31);
	CHECK_EQ(r.st.pc.pages_evicted, 0);
	lfs_replay_result_free(&r);
}

TEST(warm_cache)
{
	/* --warm keeps the set-up files cached: the same reads all hit */
	struct tb b;
	seqread_trace(&b, "warm", 1 * MiB, 64 * KiB);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	o.warm = 1;
	o.verify = 1;
	struct lfs_replay_result r;
	TB_REPLAY(&b, &o, &r);
	CHECK_EQ(r.verify_failures, 0);
	CHECK_EQ(r.st.pc.misses, 0);
	CHECK(r.st.pc.hits >= 256);
	CHECK_EQ(r.st.pc.readpage + r.st.pc.ra_pages, 0);
	lfs_replay_result_free(&r);
}

TEST(fsync_each_write_one_txn)
{
	struct tb b;
	tb_open(&b, "fsync");
	t_open(&b, 20, "/log", O_WRONLY | O_CREAT | O_TRUNC, 3, 0);
	for (int i = 0; i < 25; i++) {
		t_rw(&b, 20, LFS_TR_WRITE, 3, 4096, -1, 4096);
		t_fd(&b, 20, LFS_TR_FSYNC, 3, 0);
	}
	t_fd(&b, 20, LFS_TR_CLOSE, 3, 0);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	o.verify = 1;
	struct lfs_replay_result r;
	TB_REPLAY(&b, &o, &r);
	CHECK_EQ(r.mismatches, 0);
	/* each fsync commits the one dirty page (and the inode) in one txn; the
	 * final sync finds nothing dirty */
	CHECK_EQ(r.st.txn.txns, 25);
	CHECK_EQ(r.st.txn.pages, 25);
	CHECK_EQ(r.st.pc.pages_written, 25);
	CHECK_EQ(r.st.pc.pages_dirtied, 25);
	CHECK_EQ(r.st.vfs.fsyncs, 25);
	lfs_replay_result_free(&r);
}

TEST(dirty_threshold_writeback)
{
	/* cache 1 MiB = 256 pages; background 10 % = 25 pages, hard 20 % = 51.
	 * 2 MiB written in 4 KiB writes, no fsync, no expiry: writeback must
	 * start on the dirty thresholds, never leave more than the hard limit
	 * dirty, and everything is written once by the end. */
	struct tb b;
	tb_open(&b, "dirty");
	t_open(&b, 30, "/out", O_WRONLY | O_CREAT | O_TRUNC, 3, 0);
	for (int i = 0; i < 512; i++)
		t_rw(&b, 30, LFS_TR_WRITE, 3, 4096, -1, 4096);
	t_fd(&b, 30, LFS_TR_CLOSE, 3, 0);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	o.mount.cache_bytes = 1 * MiB;
	o.mount.dirty_background_ratio = 0.10;
	o.mount.dirty_ratio = 0.20;
	struct lfs_replay_result r;
	TB_REPLAY(&b, &o, &r);
	CHECK_EQ(r.st.pc.pages_dirtied, 512);
	CHECK_EQ(r.st.pc.pages_written, 512);
	CHECK(r.st.pc.bg_writeback + r.st.pc.hard_writeback >= 512 / 51);
	CHECK(r.st.pc.peak_pages_dirty <= 52);
	CHECK_EQ(r.st.pc.expire_writeback, 0);
	lfs_replay_result_free(&r);
}

TEST(errors_reproduced)
{
	struct tb b;
	tb_open(&b, "errors");
	t_path(&b, 40, LFS_TR_MKDIR, "/d", 0);
	t_path(&b, 40, LFS_TR_MKDIR, "/d", -EEXIST);
	t_open(&b, 40, "/d/missing", O_RDONLY, -ENOENT, 0);
	t_path(&b, 40, LFS_TR_UNLINK, "/d/missing", -ENOENT);
	t_open(&b, 40, "/d/f", O_WRONLY | O_CREAT | O_EXCL, 3, 0);
	t_open(&b, 40, "/d/f", O_WRONLY | O_CREAT | O_EXCL, -EEXIST, 0);
	t_path(&b, 40, LFS_TR_RMDIR, "/d", -ENOTEMPTY);
	t_rw(&b, 40, LFS_TR_READ, 3, 100, -1, -EBADF);        /* O_WRONLY fd */
	t_rw(&b, 40, LFS_TR_WRITE, 3, 100, -1, 100);
	/* a failure the engine will not reproduce: shown, not hidden */
	t_rw(&b, 40, LFS_TR_WRITE, 3, 100, -1, -ENOSPC);
	t_fd(&b, 40, LFS_TR_CLOSE, 3, 0);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	struct lfs_replay_result r;
	TB_REPLAY(&b, &o, &r);
	CHECK_EQ(r.errors_expected, 6);
	CHECK_EQ(r.mismatches, 1);
	CHECK_EQ(r.nmm, 1);
	CHECK_EQ(r.mm[0].want, -ENOSPC);
	CHECK_EQ(r.mm[0].got, 100);
	CHECK_EQ(r.mm[0].event, 9);
	CHECK(!strcmp(r.mm[0].sys, "write"));
	CHECK_EQ(r.setup_files, 0);
	lfs_replay_result_free(&r);
}

TEST(fd_semantics)
{
	/* dup shares the position, O_APPEND appends, fork inherits and shares,
	 * exec closes O_CLOEXEC fds; every read is verified */
	struct tb b;
	tb_open(&b, "fds");
	t_open(&b, 50, "/f", O_RDWR | O_CREAT | O_TRUNC, 3, 0);
	t_rw(&b, 50, LFS_TR_WRITE, 3, 1000, -1, 1000);
	t_fd(&b, 50, LFS_TR_DUP, 3, 4);
	t_rw(&b, 50, LFS_TR_WRITE, 4, 500, -1, 500);          /* at 1000: shared pos */
	struct lfs_trace_event e = ev0(&b, 50, LFS_TR_LSEEK, 1500);
	e.fd = 3;
	e.offset = 0;
	e.whence = SEEK_CUR;
	put(&b, &e);
	t_open(&b, 50, "/f", O_WRONLY | O_APPEND, 5, 1500);
	t_rw(&b, 50, LFS_TR_WRITE, 5, 100, -1, 100);          /* at 1500 */
	t_open(&b, 50, "/g", O_RDONLY | O_CREAT | O_CLOEXEC, 6, 0);
	e = ev0(&b, 50, LFS_TR_PROC_FORK, 0);
	e.child_pid = e.child_tid = 51;
	put(&b, &e);
	t_rw(&b, 51, LFS_TR_WRITE, 3, 200, -1, 200);          /* child: at 1500 → 1700 */
	e = ev0(&b, 51, LFS_TR_PROC_EXEC, 0);
	e.path = e.path_abs = "/bin/true";
	put(&b, &e);
	t_fd(&b, 51, LFS_TR_CLOSE, 6, -EBADF);                /* closed by exec */
	t_fd(&b, 51, LFS_TR_CLOSE, 3, 0);
	e = ev0(&b, 50, LFS_TR_LSEEK, 1700);                  /* parent sees child's pos */
	e.fd = 4;
	e.offset = 0;
	e.whence = SEEK_CUR;
	put(&b, &e);
	t_rw(&b, 50, LFS_TR_PREAD64, 3, 4096, 0, 1700);   /* the child overwrote 1500..1700 */
	t_fd(&b, 50, LFS_TR_CLOSE, 3, 0);
	t_fd(&b, 50, LFS_TR_CLOSE, 4, 0);
	t_fd(&b, 50, LFS_TR_CLOSE, 5, 0);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	o.verify = 1;
	struct lfs_replay_result r;
	TB_REPLAY(&b, &o, &r);
	CHECK_MSG(r.mismatches == 0, "first: %s %s want %lld got %lld", r.mm[0].sys, r.mm[0].what,
		  (long long)r.mm[0].want, (long long)r.mm[0].got);
	CHECK_EQ(r.verify_failures, 0);
	CHECK_EQ(r.verify_bytes, 1700);
	CHECK_EQ(r.processes, 2);
	CHECK_EQ(r.out_of_scope, 1);                          /* the close of fd 6 */
	CHECK_EQ(r.app_written, 1800);
	lfs_replay_result_free(&r);
}

/* The replayer's own bookkeeping (which inode an opened fd is, its size
 * for O_APPEND) does not reach the engine: opening and closing files the
 * trace only opens causes no KV scan (before: an lfs_fstat per open, whose
 * st_blocks is a scan of the file's pages, was counted as the workload's) */
TEST(bookkeeping_not_counted)
{
	struct tb b;
	tb_open(&b, "bookkeeping");
	char names[40][32];
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof names[i], "/d/f%d", i);
		t_open(&b, 60, names[i], O_RDONLY, 3, 8192);
		t_fd(&b, 60, LFS_TR_CLOSE, 3, 0);
	}
	t_open(&b, 60, "/d/f0", O_WRONLY | O_APPEND, 3, 8192);
	t_rw(&b, 60, LFS_TR_WRITE, 3, 100, -1, 100);
	t_fd(&b, 60, LFS_TR_CLOSE, 3, 0);
	t_open(&b, 60, "/d/f0", O_RDONLY, 3, 8292);
	t_rw(&b, 60, LFS_TR_READ, 3, 16384, -1, 8292);
	t_fd(&b, 60, LFS_TR_CLOSE, 3, 0);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	o.verify = 1;
	struct lfs_replay_result r;
	TB_REPLAY(&b, &o, &r);
	CHECK_EQ(r.setup_files, 40);
	CHECK_MSG(r.mismatches == 0, "first: %s %s want %lld got %lld", r.mm[0].sys, r.mm[0].what,
		  (long long)r.mm[0].want, (long long)r.mm[0].got);
	CHECK_EQ(r.verify_failures, 0);
	CHECK_EQ(r.verify_bytes, 8292);                      /* the append landed at 8192 */
	CHECK_EQ(r.st.kv.scans, 0);
	CHECK_EQ(r.st.vfs.opens, 42);
	lfs_replay_result_free(&r);
}

TEST(determinism_json)
{
	struct tb b;
	tb_open(&b, "determ");
	t_open(&b, 60, "/src/a", O_RDONLY, 3, 300 * KiB);
	t_open(&b, 60, "/dst/a", O_WRONLY | O_CREAT | O_TRUNC, 4, 0);
	for (int i = 0; i < 10; i++) {
		t_rw(&b, 60, LFS_TR_READ, 3, 30 * KiB, -1, 30 * KiB);
		t_rw(&b, 60, LFS_TR_WRITE, 4, 30 * KiB, -1, 30 * KiB);
	}
	t_fd(&b, 60, LFS_TR_FSYNC, 4, 0);
	t_path(&b, 60, LFS_TR_UNLINK, "/src/a", 0);
	t_fd(&b, 60, LFS_TR_CLOSE, 3, 0);
	t_fd(&b, 60, LFS_TR_CLOSE, 4, 0);
	CHECK(tb_close(&b) == 0);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	o.explain = 5;
	o.verify = 1;
	struct lfs_sbuf s1 = { 0 }, s2 = { 0 };
	for (int k = 0; k < 2; k++) {
		struct lfs_replay_result r;
		struct lfs_err err;
		int rc = lfs_replay_run(b.path, &o, &r, &err);
		CHECK_MSG(rc == 0, "%s", err.msg);
		lfs_replay_json(k ? &s2 : &s1, &r, LFS_RENDER_NO_LATENCY);
		CHECK_EQ(r.mismatches, 0);
		CHECK_EQ(r.verify_failures, 0);
		CHECK_EQ(r.nexplain, 5);
		lfs_replay_result_free(&r);
	}
	CHECK(s1.len > 1000);
	CHECK_MSG(s1.len == s2.len && !memcmp(s1.buf, s2.buf, s1.len), "JSON differs between runs");
	CHECK(strstr(s1.buf, "\"schema\": \"lightfs-replay/1\""));
	CHECK(!strstr(s1.buf, "latency"));
	lfs_sbuf_free(&s1);
	lfs_sbuf_free(&s2);
}

TEST(data_trace_verify)
{
	/* a --data trace: the real bytes are written and read back */
	struct tb b;
	tb_open(&b, "data");
	t_open(&b, 70, "/msg", O_RDWR | O_CREAT | O_TRUNC, 3, 0);
	struct lfs_trace_event e = ev0(&b, 70, LFS_TR_WRITE, 12);
	e.fd = 3;
	e.count = 12;
	e.data = (const uint8_t *)"hello world\n";
	e.data_len = 12;
	put(&b, &e);
	t_rw(&b, 70, LFS_TR_PREAD64, 3, 100, 0, 12);
	t_rw(&b, 70, LFS_TR_PREAD64, 3, 100, 6, 6);
	t_fd(&b, 70, LFS_TR_CLOSE, 3, 0);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	o.verify = 1;
	struct lfs_replay_result r;
	TB_REPLAY(&b, &o, &r);
	CHECK_EQ(r.mismatches, 0);
	CHECK_EQ(r.verify_reads, 2);
	CHECK_EQ(r.verify_bytes, 18);
	CHECK_EQ(r.verify_failures, 0);
	lfs_replay_result_free(&r);
}

TEST(root_and_pid_filters)
{
	struct tb b;
	tb_open(&b, "filters");
	t_open(&b, 80, "/home/u/proj/x", O_WRONLY | O_CREAT | O_TRUNC, 3, 0);
	t_rw(&b, 80, LFS_TR_WRITE, 3, 4096, -1, 4096);
	t_open(&b, 80, "/etc/passwd", O_RDONLY, 4, 2000);
	t_rw(&b, 80, LFS_TR_READ, 4, 4096, -1, 2000);
	t_open(&b, 81, "/home/u/proj/y", O_WRONLY | O_CREAT | O_TRUNC, 3, 0);
	t_open(&b, 80, "/proc/self/status", O_RDONLY, 5, 0);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	o.root = "/home/u/proj";
	o.pid = 80;
	struct lfs_replay_result r;
	TB_REPLAY(&b, &o, &r);
	CHECK_EQ(r.replayed, 2);            /* open x, write x */
	CHECK_EQ(r.out_of_scope, 4);
	CHECK_EQ(r.mismatches, 0);
	lfs_replay_result_free(&r);
	/* without filters everything but /proc is replayed; /etc/passwd is set up */
	opts_quiet(&o);
	REPLAY_OK(b.path, &o, &r);
	CHECK_EQ(r.replayed, 5);
	CHECK_EQ(r.out_of_scope, 1);
	CHECK_EQ(r.setup_files, 1);
	CHECK_EQ(r.setup_bytes, 2000);
	CHECK_EQ(r.processes, 2);
	lfs_replay_result_free(&r);
}

TEST(report_renderers)
{
	struct tb b;
	seqread_trace(&b, "render", 1 * MiB, 64 * KiB);
	CHECK(tb_close(&b) == 0);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	o.explain = 3;
	struct lfs_replay_result r;
	struct lfs_err err;
	CHECK(lfs_replay_run(b.path, &o, &r, &err) == 0);
	struct lfs_sbuf t = { 0 }, h = { 0 }, x = { 0 };
	lfs_replay_text(&t, &r, 0);
	lfs_replay_html(&h, &r, NULL, 0, 0);
	lfs_replay_explain_text(&x, &r);
	CHECK(strstr(t.buf, "generic_perform_write"));
	CHECK(strstr(t.buf, "request channel"));
	CHECK(strstr(t.buf, "db_put"));
	CHECK(strstr(h.buf, "<svg"));
	CHECK(!strstr(h.buf, "<script"));
	CHECK(!strstr(h.buf, "http://") || strstr(h.buf, "http://www.w3.org/2000/svg"));
	CHECK(strstr(x.buf, "#1 pid 10  read("));
	CHECK(strstr(x.buf, "miss"));
	CHECK(r.nsamples >= 2);
	lfs_sbuf_free(&t);
	lfs_sbuf_free(&h);
	lfs_sbuf_free(&x);
	lfs_replay_result_free(&r);
}

TEST(sweep_monotone)
{
	/* a file read twice: the second pass hits only if it fits the cache */
	struct tb b;
	tb_open(&b, "sweep");
	t_open(&b, 90, "/s", O_RDONLY, 3, 2 * MiB);
	for (int pass = 0; pass < 2; pass++)
		for (uint64_t off = 0; off < 2 * MiB; off += 64 * KiB)
			t_rw(&b, 90, LFS_TR_PREAD64, 3, 64 * KiB, (int64_t)off, 64 * KiB);
	t_fd(&b, 90, LFS_TR_CLOSE, 3, 0);
	CHECK(tb_close(&b) == 0);
	struct lfs_replay_opts o;
	opts_quiet(&o);
	struct lfs_sweep_point *p;
	size_t n;
	struct lfs_err err;
	int rc = lfs_replay_sweep(b.path, &o, 512 * KiB, 4 * MiB, 0, 2, &p, &n, &err);
	CHECK_MSG(rc == 0, "%s", err.msg);
	CHECK_EQ(n, 4);                     /* 512K 1M 2M 4M */
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(p[i].status, 0);
	CHECK(p[0].miss_ratio >= p[n - 1].miss_ratio);
	CHECK(p[3].misses < p[0].misses);   /* 4 MiB holds the file: second pass hits */
	free(p);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, seqread_no_readahead, seqread_readahead, warm_cache, fsync_each_write_one_txn,
			 dirty_threshold_writeback, errors_reproduced, fd_semantics, bookkeeping_not_counted,
			 determinism_json,
			 data_trace_verify, root_and_pid_filters, report_renderers, sweep_monotone);
}
