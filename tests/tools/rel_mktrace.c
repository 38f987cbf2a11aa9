/*
 * tests/tools/rel_mktrace.c — hostile traces for tests/cli/rel_hostile_trace.sh
 * (issue 8).  Each KIND writes OUT crafted per lib/trace/FORMAT.md: some
 * break the encoding (bytes written by hand: header with a valid CRC32C and
 * a zstd stream of raw records), others are well-formed streams written
 * through the real writer (lib/trace) whose events carry absurd values.
 *
 *   rel_mktrace OUT KIND      rel_mktrace --list
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/crc32c.h"
#include "trace/trace.h"

/* ---------------------------------------------------------------- raw bytes */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t c = b->cap ? b->cap : 4096;
		while (c < b->len + n)
			c *= 2;
		b->p = realloc(b->p, c);
		if (!b->p) {
			perror("realloc");
			exit(1);
		}
		b->cap = c;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}
static void byte(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void var(struct buf *b, uint64_t v)
{
	while (v >= 0x80) {
		byte(b, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	byte(b, (uint8_t)v);
}
static uint64_t zz(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static void le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void le64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

/* A valid header (FORMAT.md), CRC recomputed after the caller's edits. */
static void header(uint8_t *h)
{
	memset(h, 0, 4096);
	memcpy(h, "LFSTRACE", 8);
	le32(h + 8, 1);
	le32(h + 12, 4096);
	le32(h + 16, 1);                     /* complete */
	le32(h + 76, 100);
	le32(h + 80, 0);
	strcpy((char *)h + 288, "ebpf");
	strcpy((char *)h + 320, "/");
	strcpy((char *)h + 832, "hostile");
}
static void seal(uint8_t *h) { le32(h + 4092, lfs_crc32c(0, h, 4092)); }

static void write_file(const char *out, const uint8_t *h, size_t hlen, const struct buf *body, int compress)
{
	FILE *f = fopen(out, "wb");
	if (!f) {
		perror(out);
		exit(1);
	}
	fwrite(h, 1, hlen, f);
	if (body && body->len) {
		if (compress) {
			size_t cap = ZSTD_compressBound(body->len);
			uint8_t *z = malloc(cap);
			size_t n = ZSTD_compress(z, cap, body->p, body->len, 1);
			if (!z || ZSTD_isError(n)) {
				fprintf(stderr, "zstd failed\n");
				exit(1);
			}
			fwrite(z, 1, n, f);
			free(z);
		} else {
			fwrite(body->p, 1, body->len, f);
		}
	}
	if (fclose(f)) {
		perror(out);
		exit(1);
	}
}

/* A few valid events: openat /f, write, close of pid 100 (raw encoding). */
static void valid_events(struct buf *b)
{
	byte(b, 0x01); var(b, 2); put(b, "/f", 2);            /* string 1 */
	/* openat (sys 2): pid, ret, fd? keep: mask pid|ret|flags|path|pabs */
	byte(b, 0x10 + LFS_TR_OPENAT);
	var(b, (1u << 2) | (1u << 4) | (1u << 7) | (1u << 9) | (1u << 16) | (1u << 17));
	var(b, zz(100));                                      /* pid */
	var(b, zz(3));                                        /* ret = count(0)+3 */
	var(b, zz(LFS_TR_AT_FDCWD - LFS_TR_NOFD));            /* dirfd */
	var(b, 0101);                                         /* O_WRONLY|O_CREAT */
	var(b, 1); var(b, 1);
	byte(b, 0x10 + LFS_TR_WRITE);                         /* write(3, 10) = 10 */
	var(b, (1u << 5) | (1u << 14));
	var(b, zz(3 - LFS_TR_NOFD));
	var(b, 10);
	byte(b, 0x10 + LFS_TR_CLOSE);                         /* close(3) = 0 */
	var(b, (1u << 5));
	var(b, zz(3 - LFS_TR_NOFD));
}

static int raw_kind(const char *out, const char *kind)
{
	uint8_t h[4096];
	struct buf b = { 0 };
	header(h);
	int compress = 1;
	size_t hlen = sizeof h;
	if (!strcmp(kind, "empty")) {
		hlen = 0;
	} else if (!strcmp(kind, "short-header")) {
		hlen = 100;
	} else if (!strcmp(kind, "bad-magic")) {
		memcpy(h, "LFSTRACX", 8);
	} else if (!strcmp(kind, "bad-version")) {
		le32(h + 8, 99);
	} else if (!strcmp(kind, "bad-hsize")) {
		le32(h + 12, 0xffffffffu);
	} else if (!strcmp(kind, "bad-crc")) {
		seal(h);
		h[900] ^= 1;
		valid_events(&b);
		write_file(out, h, hlen, &b, 1);
		free(b.p);
		return 0;
	} else if (!strcmp(kind, "absurd-header")) {
		/* every header counter at its maximum; the stream is valid */
		le32(h + 16, 0xffffffffu);
		le32(h + 20, 0xffffffffu);
		for (int o = 24; o <= 64; o += 8)
			le64(h + o, UINT64_MAX);
		le32(h + 72, 0xffffffffu);
		le32(h + 76, 0x7fffffff);
		for (int i = 0; i < 128; i++)
			le64(h + 1856 + 8 * i, UINT64_MAX);
		memset(h + 96, 'h', 64);          /* strings without their NUL */
		memset(h + 320, 'c', 512);
		memset(h + 832, 'x', 1024);
		valid_events(&b);
		byte(&b, 0x00); var(&b, UINT64_MAX); var(&b, UINT64_MAX);
	} else if (!strcmp(kind, "str-huge-len")) {
		valid_events(&b);
		byte(&b, 0x01); var(&b, (uint64_t)1 << 62);
		put(&b, "abc", 3);
	} else if (!strcmp(kind, "data-huge-len")) {
		valid_events(&b);
		byte(&b, 0x02); var(&b, (uint64_t)1 << 34);
		put(&b, "abc", 3);
	} else if (!strcmp(kind, "varint-overlong")) {
		valid_events(&b);
		byte(&b, 0x10 + LFS_TR_READ);
		for (int i = 0; i < 12; i++)
			byte(&b, 0xff);
		for (int i = 0; i < 500; i++)
			byte(&b, 0);
	} else if (!strcmp(kind, "mask-unknown")) {
		valid_events(&b);
		byte(&b, 0x10 + LFS_TR_READ); var(&b, (uint64_t)1 << 40);
		for (int i = 0; i < 500; i++)
			byte(&b, 0);
	} else if (!strcmp(kind, "strid-range")) {
		valid_events(&b);
		byte(&b, 0x10 + LFS_TR_OPENAT); var(&b, 1u << 16); var(&b, 4000000000u);
		for (int i = 0; i < 500; i++)
			byte(&b, 0);
	} else if (!strcmp(kind, "reserved-tag")) {
		valid_events(&b);
		byte(&b, 0x07);
		for (int i = 0; i < 500; i++)
			byte(&b, 0);
	} else if (!strcmp(kind, "garbage-body")) {
		uint64_t x = 0x9E3779B97F4A7C15ull;
		for (int i = 0; i < 100000; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			byte(&b, (uint8_t)x);
		}
		compress = 0;
	} else if (!strcmp(kind, "zstd-window")) {
		/* a zstd frame asking for a 2 GiB window (windowLog 31) */
		static const uint8_t fr[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x00, (31 - 10) << 3,
					      0x01, 0x00, 0x00, 'x' };
		put(&b, fr, sizeof fr);
		compress = 0;
	} else if (!strcmp(kind, "string-flood")) {
		/* 6000 strings of 60000 bytes (360 MB of strings, a few hundred
		 * KB of file): the reader's string budget must stop it */
		static uint8_t s[60000];
		memset(s, 'q', sizeof s);
		for (int i = 0; i < 6000; i++) {
			byte(&b, 0x01); var(&b, sizeof s);
			snprintf((char *)s, 16, "%d", i);
			put(&b, s, sizeof s);
		}
	} else if (!strcmp(kind, "event-flood")) {
		/* 2 million close(3) events in a ~2 KB file */
		valid_events(&b);
		for (int i = 0; i < 2000000; i++)
			byte(&b, 0x10 + LFS_TR_CLOSE), byte(&b, 0);
		byte(&b, 0x00); var(&b, 2000003); var(&b, 0);
	} else if (!strcmp(kind, "data-flood")) {
		/* DATA records of 16 MiB each (64 MiB) before the events */
		static uint8_t d[16 << 20];
		for (int i = 0; i < 400; i++) {
			byte(&b, 0x02); var(&b, sizeof d);
			put(&b, d, sizeof d);
			if (b.len > (64u << 20))    /* keep the tool's own memory small */
				break;
		}
		valid_events(&b);
		byte(&b, 0x00); var(&b, 3); var(&b, 0);
	} else {
		free(b.p);
		return -1;
	}
	seal(h);
	write_file(out, h, hlen, &b, compress);
	free(b.p);
	return 0;
}

/* ---------------------------------------------------------------- through the writer */

static struct lfs_trace_writer *W;
static uint64_t T;

static void ev_put(struct lfs_trace_event *e)
{
	struct lfs_err err = { 0 };
	e->ts_ns = T += 1000;
	if (lfs_trace_write(W, e, &err)) {
		fprintf(stderr, "rel_mktrace: %s\n", err.msg);
		exit(1);
	}
}
static struct lfs_trace_event *E(unsigned sys, int32_t pid)
{
	static struct lfs_trace_event e;
	lfs_trace_event_init(&e);
	e.sys = (uint16_t)sys;
	e.pid = e.tid = pid;
	return &e;
}
static void ev_open(int32_t pid, const char *path, uint64_t flags, int64_t fd)
{
	struct lfs_trace_event *e = E(LFS_TR_OPENAT, pid);
	e->dirfd = LFS_TR_AT_FDCWD;
	e->path = e->path_abs = path;
	e->flags = flags;
	e->mode = 0644;
	e->ret = fd;
	ev_put(e);
}
static void ev_fork(int32_t pid, int32_t child)
{
	struct lfs_trace_event *e = E(LFS_TR_PROC_FORK, pid);
	e->child_pid = e->child_tid = child;
	ev_put(e);
}
static void ev_exit(int32_t pid)
{
	struct lfs_trace_event *e = E(LFS_TR_PROC_EXIT, pid);
	e->eflags = LFS_TREV_GROUP;
	ev_put(e);
}
static void ev_path(unsigned sys, int32_t pid, const char *p, const char *p2, int64_t ret)
{
	struct lfs_trace_event *e = E(sys, pid);
	e->dirfd = LFS_TR_AT_FDCWD;
	e->path = e->path_abs = p;
	if (p2) {
		e->dirfd2 = LFS_TR_AT_FDCWD;
		e->path2 = e->path2_abs = p2;
	}
	e->mode = 0755;
	e->ret = ret;
	ev_put(e);
}
static void ev_fdop(unsigned sys, int32_t pid, int32_t fd, int64_t off, uint64_t count, int64_t ret)
{
	struct lfs_trace_event *e = E(sys, pid);
	e->fd = fd;
	e->offset = off;
	e->count = count;
	e->ret = ret;
	ev_put(e);
}

static int api_kind(const char *out, const char *kind)
{
	struct lfs_trace_header h;
	memset(&h, 0, sizeof h);
	h.root_pid = 100;
	h.exit_status = 0;
	strcpy(h.source, "ebpf");
	strcpy(h.cwd, "/");
	snprintf(h.cmdline, sizeof h.cmdline, "hostile %s", kind);
	struct lfs_err err = { 0 };
	int known = 1;
	if (lfs_trace_create(&W, out, &h, NULL, &err)) {
		fprintf(stderr, "rel_mktrace: %s\n", err.msg);
		return 1;
	}
	const int64_t BIG = INT64_MAX;
	if (!strcmp(kind, "huge-io")) {
		/* writes, reads, truncates and fallocates at absurd sizes/offsets */
		ev_open(100, "/f", 01102, 3);
		ev_fdop(LFS_TR_PWRITE64, 100, 3, BIG - 10, UINT64_MAX, 1 << 20);
		ev_fdop(LFS_TR_PWRITE64, 100, 3, (int64_t)1 << 50, (uint64_t)1 << 40, (int64_t)1 << 40);
		ev_fdop(LFS_TR_WRITE, 100, 3, -1, (uint64_t)1 << 62, (int64_t)1 << 62);
		ev_fdop(LFS_TR_PREAD64, 100, 3, BIG, UINT64_MAX, 0);
		ev_fdop(LFS_TR_READ, 100, 3, -1, (uint64_t)1 << 62, (int64_t)1 << 62);
		ev_fdop(LFS_TR_FTRUNCATE, 100, 3, BIG, 0, 0);
		ev_fdop(LFS_TR_FTRUNCATE, 100, 3, (int64_t)1 << 45, 0, 0);
		struct lfs_trace_event *e = E(LFS_TR_FALLOCATE, 100);
		e->fd = 3; e->offset = 0; e->count = (uint64_t)1 << 50; e->ret = 0;
		ev_put(e);
		e = E(LFS_TR_FALLOCATE, 100);
		e->fd = 3; e->offset = BIG - 5; e->count = UINT64_MAX; e->ret = 0;
		ev_put(e);
		e = E(LFS_TR_LSEEK, 100);
		e->fd = 3; e->offset = BIG; e->whence = 0; e->ret = BIG;
		ev_put(e);
		ev_fdop(LFS_TR_WRITE, 100, 3, -1, 4096, 4096);
		e = E(LFS_TR_COPY_FILE_RANGE, 100);
		e->fd = 3; e->fd2 = 3; e->offset = 0; e->offset2 = BIG - 1; e->count = UINT64_MAX; e->ret = 1 << 20;
		ev_put(e);
		ev_fdop(LFS_TR_CLOSE, 100, 3, -1, 0, 0);
	} else if (!strcmp(kind, "huge-fds")) {
		/* 4 processes, each with a file open at an fd near 2^20 (the
		 * VFS limit, Linux's default nr_open) and others beyond 2^31 */
		for (int p = 0; p < 4; p++) {
			int32_t pid = 1000 + p;
			ev_fork(100, pid);
			ev_open(pid, "/f", 0102, (1 << 20) - 1 - p);
			ev_open(pid, "/g", 0102, INT32_MAX);
			struct lfs_trace_event *e = E(LFS_TR_DUP2, pid);
			e->fd = (1 << 20) - 1 - p; e->fd2 = INT32_MAX - 1; e->ret = INT32_MAX - 1;
			ev_put(e);
			ev_fdop(LFS_TR_WRITE, pid, (1 << 20) - 1 - p, -1, 10, 10);
			ev_fdop(LFS_TR_WRITE, pid, -5, -1, 10, 10);
		}
		for (int p = 0; p < 4; p++)
			ev_exit(1000 + p);
	} else if (!strcmp(kind, "proc-cycle")) {
		/* a process forking itself, two processes forking each other,
		 * events of a pid never forked, exits of unknown and exited pids */
		ev_fork(100, 100);
		ev_fork(100, 200);
		ev_fork(200, 100);
		ev_open(300, "/f", 0102, 3);
		ev_fdop(LFS_TR_WRITE, 300, 3, -1, 5, 5);
		ev_exit(300);
		ev_exit(300);
		ev_exit(4242);
		ev_fdop(LFS_TR_WRITE, 300, 3, -1, 5, 5);
		ev_fork(200, 0);
		ev_fork(200, -1);
		ev_fork(-7, 201);
		ev_exit(200);
		ev_exit(100);
	} else if (!strcmp(kind, "ns-cycle")) {
		/* directory renamed into its own subtree, symlink loops, a
		 * directory replacing its parent, a hard link to a directory */
		ev_path(LFS_TR_MKDIR, 100, "/a", NULL, 0);
		ev_path(LFS_TR_MKDIR, 100, "/a/b", NULL, 0);
		ev_path(LFS_TR_RENAME, 100, "/a", "/a/b/c", 0);
		ev_path(LFS_TR_RENAME, 100, "/a/b", "/a", 0);
		ev_path(LFS_TR_SYMLINK, 100, "/y", "/x", 0);
		ev_path(LFS_TR_SYMLINK, 100, "/x", "/y", 0);
		ev_open(100, "/x", 0102, 3);
		ev_open(100, "/x/z/w", 0102, 4);
		ev_path(LFS_TR_LINK, 100, "/a", "/a/b/l", 0);
		ev_path(LFS_TR_RENAME, 100, "/", "/a/r", 0);
		ev_path(LFS_TR_RMDIR, 100, "/", NULL, 0);
		ev_path(LFS_TR_MKDIR, 100, "/a/b/../../a/b/./c", NULL, 0);
		ev_path(LFS_TR_RENAME, 100, "/a/b/../../a", "/a/./b/c/d", 0);
		ev_fdop(LFS_TR_WRITE, 100, 3, -1, 5, 5);
	} else if (!strcmp(kind, "deep-path")) {
		/* paths of 20000 components, and one of 65000 bytes */
		static char p[65536];
		size_t n = 0;
		for (int i = 0; i < 20000 && n + 3 < sizeof p; i++) {
			p[n++] = '/';
			p[n++] = 'd';
		}
		p[n] = 0;
		ev_path(LFS_TR_MKDIR, 100, p, NULL, 0);
		ev_open(100, p, 0102, 3);
		ev_fdop(LFS_TR_WRITE, 100, 3, -1, 5, 5);
		memset(p, 'n', 65000);
		p[0] = '/';
		p[65000] = 0;
		ev_open(100, p, 0102, 4);
		ev_path(LFS_TR_RENAME, 100, "/d", p, 0);
	} else if (!strcmp(kind, "many-procs")) {
		/* 20000 processes that never exit, each with an open file */
		char path[32];
		for (int p = 0; p < 20000; p++) {
			ev_fork(100, 1000 + p);
			snprintf(path, sizeof path, "/f%d", p % 100);
			ev_open(1000 + p, path, 0102, 3 + p % 1000);
		}
	} else {
		known = 0;
	}
	int rc = lfs_trace_finish(W, NULL, &err);
	if (rc) {
		fprintf(stderr, "rel_mktrace: %s\n", err.msg);
		return 1;
	}
	if (!known) {
		remove(out);
		return -1;
	}
	return 0;
}

static const char *kinds[] = {
	"empty", "short-header", "bad-magic", "bad-version", "bad-hsize", "bad-crc",
	"absurd-header", "str-huge-len", "data-huge-len", "varint-overlong",
	"mask-unknown", "strid-range", "reserved-tag", "garbage-body", "zstd-window",
	"string-flood", "event-flood", "data-flood",
	"huge-io", "huge-fds", "proc-cycle", "ns-cycle", "deep-path", "many-procs",
};

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
			puts(kinds[i]);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: rel_mktrace OUT KIND | --list\n");
		return 2;
	}
	int rc = raw_kind(argv[1], argv[2]);
	if (rc < 0)
		rc = api_kind(argv[1], argv[2]);
	if (rc < 0) {
		fprintf(stderr, "rel_mktrace: unknown kind %s\n", argv[2]);
		return 2;
	}
	return rc;
}
