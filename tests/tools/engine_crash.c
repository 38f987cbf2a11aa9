/*
 * tests/tools/engine_crash.c — a writer for the engine's kill -9 test
 * (tests/cli/engine_crash.sh) and the checker of what it left.
 *
 *   engine_crash write IMAGE SEED [N]
 *                                   mkfs IMAGE, then append to /log forever:
 *                                   the byte stream fixed by SEED, in writes
 *                                   of random size, fsync now and then;
 *                                   after each fsync returns, print the
 *                                   length it made durable (one line,
 *                                   flushed).  With N, SIGKILL itself right
 *                                   after the N-th acknowledgement (no
 *                                   window for an fsync that returned early).
 *   engine_crash check IMAGE SEED ACKED
 *                                   /log must be a prefix of the stream (no
 *                                   byte that was not written, nothing out
 *                                   of order), at least ACKED bytes long.
 * The writer goes through the page cache with a small cache (so background
 * writeback and reclaim run all the time) and small txns.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfs/lightfs.h"

static uint8_t stream_byte(uint64_t seed, uint64_t off)
{
	uint64_t x = (seed ^ (off >> 3)) * 0x9E3779B97F4A7C15ull;
	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	return (uint8_t)(x >> (8 * (off & 7)));
}

static struct lfs_mount *mnt(const char *img)
{
	struct lfs_mount_opts o = { .cache_bytes = 256 * 1024, .txn_max_pages = 16,
				    .dirty_background_ratio = 0.10, .dirty_ratio = 0.30 };
	struct lfs_mount *m;
	struct lfs_err e = { 0 };
	int rc = lfs_mount(img, &o, &m, &e);
	if (rc < 0) {
		fprintf(stderr, "engine_crash: mount: %s\n", lfs_errmsg(&e, rc));
		exit(1);
	}
	return m;
}

static int do_write(const char *img, uint64_t seed, long kill_after)
{
	struct lfs_mkfs_opts mo = { .force = 1 };
	struct lfs_err e = { 0 };
	int rc = lfs_mkfs(img, &mo, &e);
	if (rc < 0) {
		fprintf(stderr, "engine_crash: mkfs: %s\n", lfs_errmsg(&e, rc));
		return 1;
	}
	struct lfs_mount *m = mnt(img);
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/log", O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0 || lfs_fsync(p, fd) < 0) {
		fprintf(stderr, "engine_crash: /log: %s\n", lfs_strerror(fd));
		return 1;
	}
	printf("0\n");
	fflush(stdout);
	uint64_t off = 0, r = seed | 1;
	static uint8_t buf[70000];
	for (;;) {
		r ^= r << 13; r ^= r >> 7; r ^= r << 17;
		size_t n = 1 + (size_t)(r % (r & 1 ? 9000 : sizeof buf));
		for (size_t i = 0; i < n; i++)
			buf[i] = stream_byte(seed, off + i);
		ssize_t w = lfs_write(p, fd, buf, n);
		if (w != (ssize_t)n) {
			fprintf(stderr, "engine_crash: write: %s\n", lfs_strerror((int)w));
			return 1;
		}
		off += n;
		if (r % 5 == 0) {
			if ((rc = lfs_fsync(p, fd)) < 0) {
				fprintf(stderr, "engine_crash: fsync: %s\n", lfs_strerror(rc));
				return 1;
			}
			printf("%" PRIu64 "\n", off);
			fflush(stdout);
			if (kill_after > 0 && --kill_after == 0)
				raise(SIGKILL);
		}
	}
}

static int do_check(const char *img, uint64_t seed, uint64_t acked)
{
	struct lfs_mount *m = mnt(img);
	struct lfs_proc *p = lfs_proc_new(m);
	struct lfs_stat st;
	int rc = lfs_stat(p, "/log", &st);
	if (rc < 0) {
		printf("/log: %s (acked %" PRIu64 ")\n", lfs_strerror(rc), acked);
		return 1;
	}
	if (st.size < acked) {
		printf("/log has %" PRIu64 " bytes, %" PRIu64 " were acknowledged by fsync\n", st.size, acked);
		return 1;
	}
	int fd = lfs_open(p, "/log", O_RDONLY, 0);
	static uint8_t buf[1 << 16];
	uint64_t off = 0;
	ssize_t n;
	while ((n = lfs_read(p, fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != stream_byte(seed, off + (uint64_t)i)) {
				printf("byte %" PRIu64 " of %" PRIu64 " differs from the stream (acked %" PRIu64 ")\n",
				       off + (uint64_t)i, st.size, acked);
				return 1;
			}
		off += (uint64_t)n;
	}
	if (n < 0 || off != st.size) {
		printf("read %" PRIu64 " of %" PRIu64 " bytes: %s\n", off, st.size, lfs_strerror((int)n));
		return 1;
	}
	lfs_close(p, fd);
	lfs_proc_free(p);
	struct lfs_err e = { 0 };
	if ((rc = lfs_umount(m, &e)) < 0) {
		printf("umount: %s\n", lfs_errmsg(&e, rc));
		return 1;
	}
	printf("%" PRIu64 "\n", st.size);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "write"))
		return do_write(argv[2], strtoull(argv[3], NULL, 10), argc == 5 ? atol(argv[4]) : 0);
	if (argc == 5 && !strcmp(argv[1], "check"))
		return do_check(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
	fprintf(stderr, "usage: engine_crash write IMAGE SEED [N] | check IMAGE SEED ACKED\n");
	return 2;
}
