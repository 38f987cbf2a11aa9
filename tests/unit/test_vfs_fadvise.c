/* lfs_fadvise(POSIX_FADV_DONTNEED) through the public API: the clean pages
 * wholly inside the range leave the cache (a partial page at either end
 * stays), dirty pages are written back first and their data survives, the
 * dropped pages read back intact from KV, bad arguments are refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vfs/lightfs.h"

static uint64_t cached(struct lfs_mount *m)
{
	struct lfs_stats st;
	lfs_mount_stats(m, &st);
	return st.pc.pages_cached;
}

static void fill(uint8_t *b, size_t n, uint32_t page)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(page * 31 + i * 7);
}

/* Read all of /f back and compare with what fill() wrote. */
static int verify(struct lfs_proc *p, int fd, uint32_t npages)
{
	uint8_t got[4096], want[4096];
	for (uint32_t i = 0; i < npages; i++) {
		fill(want, sizeof want, i);
		if (lfs_pread(p, fd, got, sizeof got, (off_t)i * 4096) != (ssize_t)sizeof got)
			return 0;
		if (memcmp(got, want, sizeof got))
			return 0;
	}
	return 1;
}

TEST(fadvise_dontneed_drops_clean_pages)
{
	struct lfs_mount_opts o = { .in_memory = 1, .cache_bytes = 4u << 20 };
	struct lfs_mount *m;
	struct lfs_err e = { 0 };
	CHECK(lfs_mount("mem", &o, &m, &e) == 0);
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/f", O_RDWR | O_CREAT, 0644);
	CHECK(fd >= 0);
	uint8_t b[4096];
	for (uint32_t i = 0; i < 64; i++) {
		fill(b, sizeof b, i);
		CHECK_EQ(lfs_write(p, fd, b, sizeof b), (ssize_t)sizeof b);
	}
	CHECK_EQ(lfs_fsync(p, fd), 0);
	uint64_t before = cached(m);
	CHECK(before >= 64);
	/* [4096 + 100, 8 pages): pages 2..8 wholly inside, 1 and 9 partial */
	CHECK_EQ(lfs_fadvise(p, fd, 4096 + 100, 8 * 4096, POSIX_FADV_DONTNEED), 0);
	CHECK_EQ(cached(m), before - 7);
	/* the rest of the file, to its end (len 0) */
	CHECK_EQ(lfs_fadvise(p, fd, 10 * 4096, 0, POSIX_FADV_DONTNEED), 0);
	CHECK_EQ(cached(m), before - 7 - 54);
	CHECK(verify(p, fd, 64));
	/* other advice changes nothing; bad ones are refused */
	uint64_t now = cached(m);
	CHECK_EQ(lfs_fadvise(p, fd, 0, 0, POSIX_FADV_SEQUENTIAL), 0);
	CHECK_EQ(lfs_fadvise(p, fd, 0, 0, POSIX_FADV_WILLNEED), 0);
	CHECK_EQ(cached(m), now);
	CHECK_EQ(lfs_fadvise(p, fd, -1, 0, POSIX_FADV_DONTNEED), -EINVAL);
	CHECK_EQ(lfs_fadvise(p, fd, 0, -5, POSIX_FADV_DONTNEED), -EINVAL);
	CHECK_EQ(lfs_fadvise(p, fd, 0, 0, 12345), -EINVAL);
	CHECK_EQ(lfs_fadvise(p, 999, 0, 0, POSIX_FADV_DONTNEED), -EBADF);
	lfs_close(p, fd);
	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);
}

TEST(fadvise_dontneed_keeps_dirty_data)
{
	struct lfs_mount_opts o = { .in_memory = 1, .cache_bytes = 4u << 20 };
	struct lfs_mount *m;
	struct lfs_err e = { 0 };
	CHECK(lfs_mount("mem", &o, &m, &e) == 0);
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/f", O_RDWR | O_CREAT, 0644);
	uint8_t b[4096];
	for (uint32_t i = 0; i < 32; i++) {
		fill(b, sizeof b, i);
		CHECK_EQ(lfs_write(p, fd, b, sizeof b), (ssize_t)sizeof b);
	}
	/* dirty, never synced: written back (async), nothing lost */
	CHECK_EQ(lfs_fadvise(p, fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	CHECK_EQ(lfs_fadvise(p, fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	CHECK(verify(p, fd, 32));
	struct lfs_stats st;
	lfs_mount_stats(m, &st);
	CHECK_EQ(st.pc.pages_dirty, 0);
	/* a directory has no pages to drop */
	CHECK_EQ(lfs_mkdir(p, "/d", 0755), 0);
	int dfd = lfs_open(p, "/d", O_RDONLY, 0);
	CHECK(dfd >= 0);
	CHECK_EQ(lfs_fadvise(p, dfd, 0, 0, POSIX_FADV_DONTNEED), 0);
	lfs_close(p, dfd);
	lfs_close(p, fd);
	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);
}

/* Read /f (npages) from a cold cache in 128 KiB calls; readahead calls. */
static uint64_t ra_calls(int advice, uint32_t npages, uint64_t *ra_pages)
{
	struct lfs_mount_opts o = { .in_memory = 1, .cache_bytes = 16u << 20,
				    .readahead_max = 128u << 10 };
	struct lfs_mount *m;
	struct lfs_err e = { 0 };
	if (lfs_mount("mem", &o, &m, &e) < 0)
		return 0;
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/f", O_RDWR | O_CREAT, 0644);
	static uint8_t b[128u << 10];
	for (uint32_t i = 0; i < npages; i++) {
		fill(b, 4096, i);
		lfs_write(p, fd, b, 4096);
	}
	lfs_close(p, fd);
	lfs_sync(m);
	lfs_drop_caches(m);
	fd = lfs_open(p, "/f", O_RDONLY, 0);
	lfs_fadvise(p, fd, 0, 0, advice);
	struct lfs_stats a, z;
	lfs_mount_stats(m, &a);
	uint64_t got = 0;
	ssize_t r;
	while ((r = lfs_read(p, fd, b, sizeof b)) > 0)
		got += (uint64_t)r;
	lfs_mount_stats(m, &z);
	lfs_close(p, fd);
	lfs_proc_free(p);
	lfs_umount(m, &e);
	*ra_pages = z.pc.ra_pages - a.pc.ra_pages;
	return got == (uint64_t)npages * 4096 ? z.pc.readahead_calls - a.pc.readahead_calls : 0;
}

/* SEQUENTIAL lets the window grow to twice the default (as Linux): the
 * same 4 MiB come in about half as many readahead batches; NORMAL is the
 * default. */
TEST(fadvise_sequential_doubles_readahead)
{
	uint64_t pn = 0, ps = 0;
	uint64_t normal = ra_calls(POSIX_FADV_NORMAL, 1024, &pn);
	uint64_t seq = ra_calls(POSIX_FADV_SEQUENTIAL, 1024, &ps);
	printf("# readahead calls: normal %llu, sequential %llu\n", (unsigned long long)normal,
	       (unsigned long long)seq);
	CHECK_EQ(normal, 32);                   /* 128 KiB windows (test_vfs_cache) */
	CHECK_EQ(pn, 1024);
	CHECK_EQ(ps, 1024);
	CHECK(seq >= 16 && seq <= 18);          /* 256 KiB windows after the ramp-up */
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, fadvise_dontneed_drops_clean_pages, fadvise_dontneed_keeps_dirty_data,
			 fadvise_sequential_doubles_readahead);
}
