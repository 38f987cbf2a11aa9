/*
 * tests/unit/test_replay_tread.c — the replay pass's trace reader run ahead
 * on a thread (lib/replay/tread.c) yields exactly what lfs_trace_next
 * yields: every field, the --data bytes (batches cut by count and by bytes),
 * the end of a truncated trace and its truncated flag, and it can be closed
 * half-way without a leak or a hang.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay/tread.h"
#include "trace/trace.h"

#define NEV 3000

static void tmp_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/tread-%d-%s.lft", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid(), name);
}

/* NEV events: paths from a small set, every third a write with --data of
 * 0 .. 300 KiB (so byte limits cut batches), deterministic from seed. */
static int write_trace(const char *path, uint64_t seed)
{
	struct lfs_trace_header h;
	struct lfs_err err;
	struct lfs_trace_writer *w;
	memset(&h, 0, sizeof h);
	snprintf(h.cmdline, sizeof h.cmdline, "tread test");
	snprintf(h.host, sizeof h.host, "test");
	struct lfs_trace_wopts wo = { .flush_every = 16u << 10 };
	if (lfs_trace_create(&w, path, &h, &wo, &err) < 0)
		return -1;
	static uint8_t data[300 << 10];
	uint64_t s = seed;
	for (int i = 0; i < NEV; i++) {
		struct lfs_trace_event e;
		lfs_trace_event_init(&e);
		e.ts_ns = 1000u * (uint64_t)i;
		e.pid = e.tid = 10 + i % 3;
		char p[64];
		snprintf(p, sizeof p, "/d/f%u", (unsigned)(t_rand(&s) % 50));
		if (i % 3 == 0) {
			size_t n = t_rand(&s) % 5 == 0 ? t_rand(&s) % sizeof data : t_rand(&s) % 5000;
			for (size_t j = 0; j < n; j++)
				data[j] = (uint8_t)(i + j * 7);
			e.sys = LFS_TR_WRITE;
			e.fd = 3;
			e.count = n;
			e.ret = (int64_t)n;
			e.data = data;
			e.data_len = (uint32_t)n;
		} else {
			e.sys = LFS_TR_OPENAT;
			e.dirfd = LFS_TR_AT_FDCWD;
			e.path = e.path_abs = p;
			e.flags = O_RDONLY;
			e.ret = 3;
		}
		if (lfs_trace_write(w, &e, &err) < 0) {
			lfs_trace_finish(w, NULL, &err);
			return -1;
		}
	}
	return lfs_trace_finish(w, NULL, &err);
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Reads path with both readers in lockstep; *out: the events compared. */
static void compare(const char *path, int stop_after, long *out)
{
	*out = -1;
	struct lfs_trace_reader *r;
	struct rp_tread *t;
	struct lfs_err e1 = { 0 }, e2 = { 0 };
	CHECK_EQ(lfs_trace_open(&r, path, &e1), 0);
	CHECK_EQ(rp_tread_open(&t, path, &e2), 0);
	long n = 0;
	for (;;) {
		struct lfs_trace_event a, b;
		int ra = lfs_trace_next(r, &a, &e1);
		int rb = rp_tread_next(t, &b, &e2);
		CHECK_EQ(ra, rb);
		if (ra <= 0) {
			if (ra < 0)
				CHECK_EQ(e1.code, e2.code);
			else
				CHECK_EQ(lfs_trace_truncated(r), rp_tread_truncated(t));
			CHECK_EQ(rp_tread_next(t, &b, &e2), ra);   /* stays at the end */
			break;
		}
		CHECK_EQ(a.seq, b.seq);
		CHECK_EQ(a.ts_ns, b.ts_ns);
		CHECK_EQ(a.pid, b.pid);
		CHECK_EQ(a.sys, b.sys);
		CHECK_EQ(a.ret, b.ret);
		CHECK_EQ(a.count, b.count);
		CHECK(same_str(a.path, b.path));
		CHECK(same_str(a.path_abs, b.path_abs));
		CHECK_EQ(a.data_len, b.data_len);
		if (a.data_len)
			CHECK(b.data && !memcmp(a.data, b.data, a.data_len));
		n++;
		if (stop_after && n == stop_after)
			break;
	}
	lfs_trace_reader_close(r);
	rp_tread_close(t);
	*out = n;
}

TEST(tread_same_events)
{
	uint64_t seed = seed_from_env("tread_same_events");
	char path[256];
	tmp_path(path, sizeof path, "same");
	CHECK_EQ(write_trace(path, seed), 0);
	long n;
	compare(path, 0, &n);
	CHECK_EQ(n, NEV);
	/* closed half-way (the decoder may be blocked on a full ring) */
	compare(path, 1, &n);
	CHECK_EQ(n, 1);
	compare(path, 700, &n);
	CHECK_EQ(n, 700);
	unlink(path);
}

TEST(tread_truncated)
{
	uint64_t seed = seed_from_env("tread_truncated");
	char path[256], cut[256];
	tmp_path(path, sizeof path, "full");
	tmp_path(cut, sizeof cut, "cut");
	CHECK_EQ(write_trace(path, seed), 0);
	FILE *f = fopen(path, "rb");
	CHECK(f);
	static uint8_t buf[64u << 20];
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	CHECK(len > 4096);
	/* cut at a few places: the events before the cut, then the same end */
	size_t cuts[3] = { len / 3, len / 2 + 17, len - 5 };
	for (int i = 0; i < 3; i++) {
		f = fopen(cut, "wb");
		CHECK(f);
		CHECK_EQ(fwrite(buf, 1, cuts[i], f), cuts[i]);
		fclose(f);
		long n;
		compare(cut, 0, &n);
		CHECK(n >= 0 && n <= NEV);
		if (i == 0)
			CHECK(n < NEV);
	}
	unlink(cut);
	unlink(path);
}

TEST(tread_missing_file)
{
	struct rp_tread *t;
	struct lfs_err err = { 0 };
	CHECK(rp_tread_open(&t, "/nonexistent/dir/x.lft", &err) < 0);
	CHECK(t == NULL);
	CHECK(err.msg[0]);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, tread_same_events, tread_truncated, tread_missing_file);
}
