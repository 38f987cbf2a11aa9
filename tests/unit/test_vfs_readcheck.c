/* A value damaged on disk never reaches a caller, whichever way it is
 * read: readahead (a run of pages checked in one multi-get), a single
 * pread, a partial write that needs the page's other bytes.  An image file
 * is written, one byte of one page's value flipped on disk, and the page
 * read each way: each fails with LFS_E_CORRUPT, every byte handed out
 * before it is right, and the other pages read back intact. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vfs/lightfs.h"

#define PAGES 64
#define BAD   10

static void fill(uint8_t *b, size_t n, uint32_t page)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(page * 31 + i * 7 + (i >> 8));
}

static const char *tmpdir(void)
{
	return getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
}

static struct lfs_mount *mnt(const char *img)
{
	struct lfs_mount_opts o = { .cache_bytes = 4u << 20 };
	struct lfs_mount *m = NULL;
	struct lfs_err e = { 0 };
	if (lfs_mount(img, &o, &m, &e) < 0)
		printf("# mount: %s\n", e.msg);
	return m;
}

/* Write /f (PAGES pages) into a fresh image, then flip one byte in the
 * middle of page BAD's value in the file.  1 done. */
static int make_damaged(const char *img)
{
	struct lfs_mkfs_opts mo = { .force = 1 };
	struct lfs_err e = { 0 };
	if (lfs_mkfs(img, &mo, &e) < 0)
		return 0;
	struct lfs_mount *m = mnt(img);
	if (!m)
		return 0;
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/f", O_RDWR | O_CREAT, 0644);
	uint8_t b[4096];
	for (uint32_t i = 0; i < PAGES; i++) {
		fill(b, sizeof b, i);
		if (lfs_write(p, fd, b, sizeof b) != (ssize_t)sizeof b)
			return 0;
	}
	if (lfs_fsync(p, fd) < 0)
		return 0;
	lfs_close(p, fd);
	lfs_proc_free(p);
	if (lfs_umount(m, &e) < 0)
		return 0;
	/* find page BAD's bytes in the image and damage one */
	FILE *f = fopen(img, "r+b");
	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	uint8_t *all = malloc((size_t)len);
	fseek(f, 0, SEEK_SET);
	int ok = all && fread(all, 1, (size_t)len, f) == (size_t)len;
	fill(b, sizeof b, BAD);
	uint8_t *at = ok ? memmem(all, (size_t)len, b, sizeof b) : NULL;
	if (at) {
		long off = (long)(at - all) + 2000;
		uint8_t x = (uint8_t)(all[off] ^ 0x40);
		fseek(f, off, SEEK_SET);
		ok = fwrite(&x, 1, 1, f) == 1;
	}
	free(all);
	fclose(f);
	return ok && at;
}

TEST(readahead_damaged_page_never_returned)
{
	char img[256];
	snprintf(img, sizeof img, "%s/readcheck-%d.lfs", tmpdir(), (int)getpid());
	CHECK(make_damaged(img));
	struct lfs_mount *m = mnt(img);
	CHECK(m != NULL);
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/f", O_RDONLY, 0);
	CHECK(fd >= 0);
	/* sequential: readahead brings the damaged page in with its neighbours */
	static uint8_t buf[PAGES * 4096];
	uint8_t want[4096];
	size_t got = 0;
	ssize_t r = 0;
	while (got < sizeof buf && (r = lfs_read(p, fd, buf + got, 3 * 4096)) > 0)
		got += (size_t)r;
	CHECK_EQ(r, LFS_E_CORRUPT);
	CHECK_EQ(got, (size_t)BAD * 4096);
	for (uint32_t i = 0; i < BAD; i++) {
		fill(want, sizeof want, i);
		CHECK(memcmp(buf + (size_t)i * 4096, want, sizeof want) == 0);
	}
	struct lfs_stats st;
	lfs_mount_stats(m, &st);
	CHECK(st.pc.readahead_calls > 0);
	/* the pages after it read back intact */
	for (uint32_t i = BAD + 1; i < PAGES; i++) {
		fill(want, sizeof want, i);
		CHECK_EQ(lfs_pread(p, fd, buf, 4096, (off_t)i * 4096), 4096);
		CHECK(memcmp(buf, want, sizeof want) == 0);
	}
	/* a part of the damaged page, again and alone */
	CHECK_EQ(lfs_pread(p, fd, buf, 100, (off_t)BAD * 4096 + 1990), LFS_E_CORRUPT);
	lfs_close(p, fd);
	lfs_proc_free(p);
	struct lfs_err e = { 0 };
	CHECK(lfs_umount(m, &e) == 0);
	unlink(img);
}

TEST(partial_write_over_damaged_page_fails)
{
	char img[256];
	snprintf(img, sizeof img, "%s/readcheck2-%d.lfs", tmpdir(), (int)getpid());
	CHECK(make_damaged(img));
	struct lfs_mount *m = mnt(img);
	CHECK(m != NULL);
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/f", O_RDWR, 0);
	CHECK(fd >= 0);
	/* read up to the page before: readahead brings the damaged one in */
	static uint8_t buf[BAD * 4096];
	CHECK_EQ(lfs_pread(p, fd, buf, sizeof buf, 0), (ssize_t)sizeof buf);
	/* a partial write needs the page's other bytes: refused, not re-checksummed */
	CHECK_EQ(lfs_pwrite(p, fd, "xyz", 3, (off_t)BAD * 4096 + 50), LFS_E_CORRUPT);
	/* a whole-page write replaces every byte: fine, and it reads back */
	uint8_t page[4096];
	fill(page, sizeof page, 99);
	CHECK_EQ(lfs_pwrite(p, fd, page, sizeof page, (off_t)BAD * 4096), 4096);
	CHECK_EQ(lfs_pread(p, fd, buf, 4096, (off_t)BAD * 4096), 4096);
	CHECK(memcmp(buf, page, sizeof page) == 0);
	lfs_close(p, fd);
	lfs_proc_free(p);
	struct lfs_err e = { 0 };
	CHECK(lfs_umount(m, &e) == 0);
	unlink(img);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, readahead_damaged_page_never_returned,
			 partial_write_over_damaged_page_fails);
}
