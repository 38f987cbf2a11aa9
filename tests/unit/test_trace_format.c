/*
 * tests/unit/test_trace_format.c — trace writer/reader round trips, truncated
 * files, damaged headers, the path resolver.
 */
#include "harness.h"
#include "trace/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

static char tmpl[256];

static const char *tmp_path(const char *name)
{
	static char p[512];
	if (!tmpl[0]) {
		const char *d = getenv("TMPDIR");
		snprintf(tmpl, sizeof tmpl, "%s/lfs-trace-XXXXXX", d ? d : "/tmp");
		if (!mkdtemp(tmpl))
			abort();
	}
	snprintf(p, sizeof p, "%s/%s", tmpl, name);
	return p;
}

static const char *const paths[] = { "a", "/etc/passwd", "d/e/f.txt", "../x", "/tmp/long/path/name" };

/* A random but plausible event; strings point at static storage. */
static void rand_event(uint64_t *s, struct lfs_trace_event *ev, uint64_t *seq, uint64_t *ts,
		       uint8_t *data)
{
	lfs_trace_event_init(ev);
	*seq += 1 + (t_rand(s) % 50 == 0 ? t_rand(s) % 5 : 0);   /* occasional gaps */
	*ts += t_rand(s) % 100000;
	ev->seq = *seq;
	ev->ts_ns = *ts;
	ev->pid = 1000 + (int32_t)(t_rand(s) % 3);
	ev->tid = ev->pid + (t_rand(s) % 4 == 0 ? (int32_t)(t_rand(s) % 3) : 0);
	static const uint16_t syss[] = { LFS_TR_READ, LFS_TR_WRITE, LFS_TR_OPENAT, LFS_TR_CLOSE,
		LFS_TR_PREAD64, LFS_TR_LSEEK, LFS_TR_RENAMEAT2, LFS_TR_PROC_FORK, LFS_TR_EXIT_GROUP,
		LFS_TR_MMAP, LFS_TR_FCNTL };
	ev->sys = syss[t_rand(s) % (sizeof syss / sizeof syss[0])];
	int fd = (int)(t_rand(s) % 8);
	switch (ev->sys) {
	case LFS_TR_READ: case LFS_TR_WRITE:
		ev->fd = fd;
		ev->count = t_rand(s) % 3 ? 512 : t_rand(s) % 100000;
		ev->ret = t_rand(s) % 10 ? (int64_t)ev->count : -(int64_t)(t_rand(s) % 40);
		if (ev->sys == LFS_TR_WRITE && data && t_rand(s) % 3 == 0) {
			ev->data_len = (uint32_t)(t_rand(s) % 300);
			for (uint32_t i = 0; i < ev->data_len; i++)
				data[i] = (uint8_t)t_rand(s);
			ev->data = data;
		}
		break;
	case LFS_TR_PREAD64:
		ev->fd = fd; ev->count = 4096; ev->offset = (int64_t)(t_rand(s) % 1000000); ev->ret = 4096;
		break;
	case LFS_TR_LSEEK:
		ev->fd = fd; ev->offset = (int64_t)(t_rand(s) % 100) - 50; ev->whence = (int)(t_rand(s) % 3);
		ev->ret = (int64_t)(t_rand(s) % 1000);
		break;
	case LFS_TR_OPENAT:
		ev->dirfd = LFS_TR_AT_FDCWD;
		ev->path = paths[t_rand(s) % 5];
		ev->path_abs = paths[t_rand(s) % 5];
		ev->flags = t_rand(s) % 0x80000;
		ev->mode = 0644;
		ev->ret = fd;
		ev->eflags = LFS_TREV_STAT;
		ev->size = t_rand(s);
		ev->ino = t_rand(s) % 100000;
		ev->dev = 254u << 20;
		ev->ftype = 0100644;
		break;
	case LFS_TR_CLOSE:
		ev->fd = fd;
		break;
	case LFS_TR_RENAMEAT2:
		ev->dirfd = 3; ev->dirfd2 = LFS_TR_AT_FDCWD;
		ev->path = paths[t_rand(s) % 5]; ev->path2 = paths[t_rand(s) % 5];
		ev->path_abs = "/abs/one"; ev->path2_abs = "/abs/two"; ev->flags = 1;
		break;
	case LFS_TR_PROC_FORK:
		ev->child_pid = ev->pid + 7; ev->child_tid = ev->child_pid;
		ev->eflags = t_rand(s) % 2 ? LFS_TREV_THREAD : 0;
		break;
	case LFS_TR_EXIT_GROUP:
		ev->exit_code = (int32_t)(t_rand(s) % 256);
		break;
	case LFS_TR_MMAP:
		ev->fd = fd; ev->arg = t_rand(s); ev->count = 4096; ev->mode = 1; ev->flags = 2;
		ev->offset = 0; ev->ret = (int64_t)(t_rand(s) >> 1);
		break;
	case LFS_TR_FCNTL:
		ev->fd = fd; ev->cmd = 4; ev->arg = 1024; ev->flags = 1024; ev->ret = 0;
		break;
	}
	if (t_rand(s) % 7 == 0) {
		ev->dur_ns = t_rand(s) % 100000;
	} else {
		ev->eflags |= LFS_TREV_NODUR;
	}
}

static int streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int ev_equal(const struct lfs_trace_event *a, const struct lfs_trace_event *b)
{
	return a->seq == b->seq && a->ts_ns == b->ts_ns && a->dur_ns == b->dur_ns &&
	       a->pid == b->pid && a->tid == b->tid && a->sys == b->sys && a->eflags == b->eflags &&
	       a->cmd == b->cmd && a->ret == b->ret && a->fd == b->fd && a->fd2 == b->fd2 &&
	       a->dirfd == b->dirfd && a->dirfd2 == b->dirfd2 && a->flags == b->flags &&
	       a->mode == b->mode && a->whence == b->whence && a->offset == b->offset &&
	       a->offset2 == b->offset2 && a->count == b->count && a->arg == b->arg &&
	       streq(a->path, b->path) && streq(a->path_abs, b->path_abs) &&
	       streq(a->path2, b->path2) && streq(a->path2_abs, b->path2_abs) &&
	       a->size == b->size && a->ino == b->ino && a->dev == b->dev && a->ftype == b->ftype &&
	       a->child_pid == b->child_pid && a->child_tid == b->child_tid &&
	       a->exit_code == b->exit_code && streq(a->comm, b->comm) &&
	       a->data_len == b->data_len && (!a->data_len || !memcmp(a->data, b->data, a->data_len));
}

#define NEV 20000

static struct lfs_trace_event *evs;
static uint8_t (*datas)[300];

/* Write NEV random events to path; keep copies in evs. */
static int write_random(const char *path, uint64_t seed, int threaded, uint32_t flush_every)
{
	struct lfs_trace_header h;
	memset(&h, 0, sizeof h);
	snprintf(h.host, sizeof h.host, "testhost");
	snprintf(h.cmdline, sizeof h.cmdline, "unit test");
	snprintf(h.source, sizeof h.source, "ebpf");
	h.start_real_ns = 1700000000000000000ull;
	h.exit_status = -1;
	struct lfs_trace_wopts o = { .threaded = threaded, .flush_every = flush_every };
	struct lfs_trace_writer *w;
	struct lfs_err err = { 0 };
	if (lfs_trace_create(&w, path, &h, &o, &err))
		return -1;
	if (!evs) {
		evs = calloc(NEV, sizeof *evs);
		datas = calloc(NEV, sizeof *datas);
	}
	uint64_t s = seed, seq = 0, ts = 0;
	for (int i = 0; i < NEV; i++) {
		rand_event(&s, &evs[i], &seq, &ts, datas[i]);
		if (lfs_trace_write(w, &evs[i], &err))
			return -2;
	}
	h.lost = 3;
	h.lost_cpu[1] = 3;
	h.ncpu = 2;
	return lfs_trace_finish(w, &h, &err) ? -3 : 0;
}

TEST(roundtrip)
{
	uint64_t seed = seed_from_env("roundtrip");
	for (int threaded = 0; threaded < 2; threaded++) {
		const char *p = tmp_path("rt.trace");
		CHECK_EQ(write_random(p, seed, threaded, 0), 0);
		struct lfs_trace_reader *r;
		struct lfs_err err = { 0 };
		CHECK_EQ(lfs_trace_open(&r, p, &err), 0);
		const struct lfs_trace_header *h = lfs_trace_header(r);
		CHECK(h->flags & LFS_TRH_COMPLETE);
		CHECK_EQ(h->events, NEV);
		CHECK_EQ(h->lost, 3);
		CHECK_EQ(h->lost_cpu[1], 3);
		CHECK(!strcmp(h->host, "testhost"));
		struct lfs_trace_event ev;
		for (int i = 0; i < NEV; i++) {
			CHECK_EQ(lfs_trace_next(r, &ev, &err), 1);
			CHECK_MSG(ev_equal(&ev, &evs[i]), "event %d differs (sys %u)", i, evs[i].sys);
		}
		CHECK_EQ(lfs_trace_next(r, &ev, &err), 0);
		CHECK(!lfs_trace_truncated(r));
		lfs_trace_reader_close(r);
	}
}

TEST(compact)
{
	/* dd-like stream: read 512 / write 512 pairs must cost ≤ 4 bytes each */
	const char *p = tmp_path("dd.trace");
	struct lfs_trace_header h;
	memset(&h, 0, sizeof h);
	struct lfs_trace_writer *w;
	struct lfs_err err = { 0 };
	CHECK_EQ(lfs_trace_create(&w, p, &h, NULL, &err), 0);
	uint64_t s = 42, ts = 0;
	struct lfs_trace_event ev;
	for (int i = 0; i < 200000; i++) {
		lfs_trace_event_init(&ev);
		ev.pid = ev.tid = 4242;
		ev.sys = i & 1 ? LFS_TR_WRITE : LFS_TR_READ;
		ev.fd = i & 1;
		ev.count = 512;
		ev.ret = 512;
		ts += 700 + t_rand(&s) % 600;
		ev.ts_ns = ts;
		CHECK_EQ(lfs_trace_write(w, &ev, &err), 0);
	}
	CHECK_EQ(lfs_trace_finish(w, NULL, &err), 0);
	struct stat st;
	CHECK_EQ(stat(p, &st), 0);
	double per = (double)(st.st_size - LFS_TRACE_HDR_SIZE) / 200000.0;
	printf("# dd-like stream: %.2f bytes/event\n", per);
	CHECK_MSG(per <= 4.0, "%.2f bytes/event", per);
}

TEST(truncated)
{
	uint64_t seed = seed_from_env("truncated");
	const char *p = tmp_path("tr.trace");
	CHECK_EQ(write_random(p, seed, 0, 4096), 0);
	int fd = open(p, O_RDONLY);
	CHECK(fd >= 0);
	struct stat st;
	CHECK_EQ(fstat(fd, &st), 0);
	size_t len = (size_t)st.st_size;
	uint8_t *buf = malloc(len);
	CHECK_EQ(read(fd, buf, len), (long long)len);
	close(fd);
	uint64_t s = seed;
	uint64_t prev = 0;
	for (int k = 0; k < 40; k++) {
		size_t cut = LFS_TRACE_HDR_SIZE + (size_t)(t_rand(&s) % (len - LFS_TRACE_HDR_SIZE));
		if (k == 0)
			cut = LFS_TRACE_HDR_SIZE;
		struct lfs_trace_reader *r;
		struct lfs_err err = { 0 };
		CHECK_EQ(lfs_trace_open_mem(&r, buf, cut, &err), 0);
		struct lfs_trace_event ev;
		int rc, n = 0;
		while ((rc = lfs_trace_next(r, &ev, &err)) == 1) {
			CHECK_MSG(n < NEV && ev_equal(&ev, &evs[n]), "cut %zu: event %d differs", cut, n);
			n++;
		}
		CHECK_EQ(rc, 0);
		CHECK(lfs_trace_truncated(r));
		/* a cut far into the file keeps most events (flush every 4 KiB) */
		if (cut > len - 100)
			CHECK_MSG(n > NEV * 9 / 10, "cut %zu of %zu: only %d events", cut, len, n);
		prev += (uint64_t)n;
		lfs_trace_reader_close(r);
	}
	CHECK(prev > 0);
	/* header cut */
	struct lfs_trace_reader *r;
	struct lfs_err err = { 0 };
	CHECK_EQ(lfs_trace_open_mem(&r, buf, 100, &err), LFS_E_TRUNCATED);
	free(buf);
}

TEST(bad_header)
{
	const char *p = tmp_path("bh.trace");
	CHECK_EQ(write_random(p, 7, 0, 0), 0);
	int fd = open(p, O_RDWR);
	uint8_t b[LFS_TRACE_HDR_SIZE];
	CHECK_EQ(pread(fd, b, sizeof b, 0), (long long)sizeof b);
	close(fd);
	struct lfs_trace_reader *r;
	struct lfs_err err = { 0 };
	uint8_t c[LFS_TRACE_HDR_SIZE];
	memcpy(c, b, sizeof c);
	c[0] = 'X';
	CHECK_EQ(lfs_trace_open_mem(&r, c, sizeof c, &err), LFS_E_BADMAGIC);
	memcpy(c, b, sizeof c);
	c[8] = 9;      /* version */
	CHECK_EQ(lfs_trace_open_mem(&r, c, sizeof c, &err), LFS_E_VERSION);
	memcpy(c, b, sizeof c);
	c[200] ^= 1;   /* inside the checksummed area */
	CHECK_EQ(lfs_trace_open_mem(&r, c, sizeof c, &err), LFS_E_CORRUPT);
	CHECK_EQ(lfs_trace_open(&r, tmp_path("does-not-exist"), &err), -ENOENT);
}

TEST(path_join)
{
	char out[256];
	CHECK_EQ(lfs_trace_path_join(out, sizeof out, "/a/b", "c/../d/./e"), 8);
	CHECK(!strcmp(out, "/a/b/d/e"));
	lfs_trace_path_join(out, sizeof out, "/a/b", "/x//y/");
	CHECK(!strcmp(out, "/x/y"));
	lfs_trace_path_join(out, sizeof out, "/", "../../..");
	CHECK(!strcmp(out, "/"));
	lfs_trace_path_join(out, sizeof out, "/a", "..");
	CHECK(!strcmp(out, "/"));
	CHECK_EQ(lfs_trace_path_join(out, 4, "/abc", "defgh"), -ENAMETOOLONG);
}

TEST(paths_tables)
{
	struct lfs_trace_paths *p;
	CHECK_EQ(lfs_trace_paths_new(&p), 0);
	lfs_trace_paths_set_cwd(p, 10, "/home/u");
	struct lfs_trace_event ev;
	/* open relative to cwd → fd 3 */
	lfs_trace_event_init(&ev);
	ev.pid = ev.tid = 10; ev.sys = LFS_TR_OPENAT; ev.dirfd = LFS_TR_AT_FDCWD;
	ev.path = "dir"; ev.flags = O_DIRECTORY; ev.ret = 3;
	lfs_trace_paths_apply(p, &ev);
	CHECK(!strcmp(ev.path_abs, "/home/u/dir"));
	/* openat(3, "f") resolves against fd 3 */
	lfs_trace_event_init(&ev);
	ev.pid = ev.tid = 10; ev.sys = LFS_TR_OPENAT; ev.dirfd = 3; ev.path = "f"; ev.ret = 4;
	lfs_trace_paths_apply(p, &ev);
	CHECK(!strcmp(ev.path_abs, "/home/u/dir/f"));
	/* dup2(4, 9), fork copies, child fchdir(3) */
	lfs_trace_event_init(&ev);
	ev.pid = ev.tid = 10; ev.sys = LFS_TR_DUP2; ev.fd = 4; ev.fd2 = 9; ev.ret = 9;
	lfs_trace_paths_apply(p, &ev);
	CHECK(!strcmp(lfs_trace_paths_fd(p, 10, 9), "/home/u/dir/f"));
	lfs_trace_event_init(&ev);
	ev.pid = ev.tid = 10; ev.sys = LFS_TR_PROC_FORK; ev.child_pid = ev.child_tid = 11;
	lfs_trace_paths_apply(p, &ev);
	CHECK(!strcmp(lfs_trace_paths_fd(p, 11, 9), "/home/u/dir/f"));
	lfs_trace_event_init(&ev);
	ev.pid = ev.tid = 11; ev.sys = LFS_TR_FCHDIR; ev.fd = 3;
	lfs_trace_paths_apply(p, &ev);
	CHECK(!strcmp(ev.path_abs, "/home/u/dir"));
	lfs_trace_event_init(&ev);
	ev.pid = ev.tid = 11; ev.sys = LFS_TR_UNLINK; ev.dirfd = LFS_TR_AT_FDCWD; ev.path = "../x";
	lfs_trace_paths_apply(p, &ev);
	CHECK(!strcmp(ev.path_abs, "/home/u/x"));
	/* the parent's cwd did not change; close in the child only */
	lfs_trace_event_init(&ev);
	ev.pid = ev.tid = 11; ev.sys = LFS_TR_CLOSE; ev.fd = 9;
	lfs_trace_paths_apply(p, &ev);
	CHECK(lfs_trace_paths_fd(p, 11, 9) == NULL);
	CHECK(lfs_trace_paths_fd(p, 10, 9) != NULL);
	lfs_trace_event_init(&ev);
	ev.pid = ev.tid = 10; ev.sys = LFS_TR_MKDIR; ev.dirfd = LFS_TR_AT_FDCWD; ev.path = "n";
	lfs_trace_paths_apply(p, &ev);
	CHECK(!strcmp(ev.path_abs, "/home/u/n"));
	/* symlink targets are text, not resolved */
	lfs_trace_event_init(&ev);
	ev.pid = ev.tid = 10; ev.sys = LFS_TR_SYMLINK; ev.path = "t"; ev.path2 = "l";
	ev.dirfd2 = LFS_TR_AT_FDCWD;
	lfs_trace_paths_apply(p, &ev);
	CHECK(ev.path_abs == NULL);
	CHECK(!strcmp(ev.path2_abs, "/home/u/l"));
	lfs_trace_paths_free(p);
}

TEST(names)
{
	for (unsigned s = 1; s < LFS_TR_SYS_MAX; s++) {
		const char *n = lfs_trace_sys_name(s);
		if (!strcmp(n, "?"))
			continue;
		CHECK_MSG(lfs_trace_sys_from_name(n) == s, "%s", n);
	}
	CHECK_EQ(lfs_trace_sys_from_name("pread"), LFS_TR_PREAD64);
	CHECK_EQ(lfs_trace_sys_from_name("nosuch"), LFS_TR_NONE);
}

static void cleanup(void)
{
	free(evs);
	free(datas);
	if (tmpl[0]) {
		char cmd[600];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
		if (system(cmd))
			return;
	}
}

int main(int argc, char **argv)
{
	int rc = RUN_TESTS(argc, argv, roundtrip, compact, truncated, bad_header, path_join,
			   paths_tables, names);
	cleanup();
	return rc;
}
