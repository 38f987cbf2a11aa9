/* O_DIRECT reads (what `lightfs cat` uses for large files): whole pages go
 * straight into the caller's buffer in batches of 64, partial pages through
 * the mount's page buffer.  A file with holes, pages still dirty in the
 * cache and a tail shorter than a page is read at many offsets and
 * lengths (batches split across 64 pages, reads from a mid-page offset,
 * past the end) and must equal the buffered read and the oracle. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vfs/lightfs.h"

#define PSZ 4096u
#define NPG 300u
#define FSZ ((size_t)NPG * PSZ - 1000)

TEST(direct_read_matches_buffered)
{
	uint64_t seed = seed_from_env("direct_read");
	srand((unsigned)seed);
	struct lfs_mount_opts o = { .in_memory = 1 };
	struct lfs_mount *m = NULL;
	CHECK(lfs_mount("direct-mem", &o, &m, NULL) == 0);
	struct lfs_proc *p = lfs_proc_new(m);
	uint8_t *want = calloc(1, FSZ), *got = malloc(FSZ + PSZ), *buf = malloc(FSZ + PSZ);
	CHECK(want && got && buf);
	int fd = lfs_open(p, "/f", O_RDWR | O_CREAT, 0644);
	CHECK(fd >= 0);
	/* data pages, holes (pages 70-139 never written) */
	for (size_t i = 0; i < FSZ; i++)
		if (i / PSZ < 70 || i / PSZ >= 140)
			want[i] = (uint8_t)rand();
	CHECK_EQ(lfs_pwrite(p, fd, want, 70 * PSZ, 0), (ssize_t)(70 * PSZ));
	CHECK_EQ(lfs_pwrite(p, fd, want + 140 * PSZ, FSZ - 140 * PSZ, 140 * PSZ),
		 (ssize_t)(FSZ - 140 * PSZ));
	CHECK(lfs_fsync(p, fd) == 0);
	/* some pages dirty again in the cache when the direct reads run */
	for (size_t i = 200 * PSZ + 17; i < 203 * PSZ; i++)
		want[i] = (uint8_t)(want[i] ^ 0x5a);
	CHECK_EQ(lfs_pwrite(p, fd, want + 200 * PSZ + 17, 3 * PSZ - 17, 200 * PSZ + 17),
		 (ssize_t)(3 * PSZ - 17));
	int dfd = lfs_open(p, "/f", O_RDONLY | O_DIRECT, 0);
	CHECK(dfd >= 0);
	/* the whole file in one read */
	CHECK_EQ(lfs_pread(p, dfd, got, FSZ + PSZ, 0), (ssize_t)FSZ);
	CHECK(!memcmp(got, want, FSZ));
	/* sequential reads of 128 KiB, as cat */
	size_t at = 0;
	for (;;) {
		ssize_t r = lfs_read(p, dfd, got + at, 128u << 10);
		CHECK(r >= 0);
		if (r == 0)
			break;
		at += (size_t)r;
	}
	CHECK_EQ(at, FSZ);
	CHECK(!memcmp(got, want, FSZ));
	/* random offsets and lengths (aligned and not) against the buffered read */
	for (int k = 0; k < 300; k++) {
		size_t off = (size_t)rand() % (FSZ + 100), len = (size_t)rand() % (90 * PSZ);
		if (k % 3 == 0)
			off -= off % PSZ;
		if (k % 4 == 0)
			len -= len % PSZ;
		ssize_t a = lfs_pread(p, dfd, got, len, (off_t)off);
		ssize_t b = lfs_pread(p, fd, buf, len, (off_t)off);
		size_t exp = off >= FSZ ? 0 : (len < FSZ - off ? len : FSZ - off);
		CHECK_EQ(a, (ssize_t)exp);
		CHECK_EQ(b, (ssize_t)exp);
		CHECK(!memcmp(got, buf, exp));
		CHECK(!memcmp(got, want + (off < FSZ ? off : 0), exp));
	}
	CHECK(lfs_close(p, dfd) == 0);
	CHECK(lfs_close(p, fd) == 0);
	free(want); free(got); free(buf);
	lfs_proc_free(p);
	CHECK(lfs_umount(m, NULL) == 0);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, direct_read_matches_buffered);
}
