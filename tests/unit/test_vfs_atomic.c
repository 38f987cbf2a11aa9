/* lfs_atomic_begin / lfs_atomic_commit: everything between them is one
 * transaction.  A copy of the image file taken while the group is open
 * (after lfs_sync and lfs_fsync wrote its records through, with a page cache
 * small enough that writeback runs during the writes) is a crash image: it
 * must mount, fsck-read as the state before the begin, and never show a
 * file of the group.  After the commit every file is there, whole, also
 * after a remount.  Nesting, umount with an open group, and the read-only
 * refusal are checked too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "vfs/lightfs.h"
#include "test_vfs_img.h"

static int copy_file(const char *from, const char *to)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
	return system(cmd);
}

static int write_file(struct lfs_proc *p, const char *path, size_t n, unsigned seed)
{
	uint8_t *b = malloc(n ? n : 1);
	fill(b, n, seed);
	int fd = lfs_open(p, path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0) {
		free(b);
		return fd;
	}
	ssize_t w = lfs_write(p, fd, b, n);
	lfs_close(p, fd);
	free(b);
	return w == (ssize_t)n ? 0 : -EIO;
}

static int file_ok(struct lfs_proc *p, const char *path, size_t n, unsigned seed)
{
	uint8_t *b = malloc(n + 1), *want = malloc(n ? n : 1);
	fill(want, n, seed);
	int fd = lfs_open(p, path, O_RDONLY, 0);
	int ok = 0;
	if (fd >= 0) {
		ok = lfs_pread(p, fd, b, n + 1, 0) == (ssize_t)n && !memcmp(b, want, n);
		lfs_close(p, fd);
	}
	free(b);
	free(want);
	return ok;
}

TEST(group_all_or_nothing)
{
	char img[64], crash[80];
	snprintf(img, sizeof img, "atomic-%d.lfs", (int)getpid());
	snprintf(crash, sizeof crash, "%s.crash", img);
	unlink(img);
	struct lfs_err e = { 0 };
	CHECK_MSG(lfs_mkfs(img, NULL, &e) == 0, "%s", e.msg);
	struct lfs_mount_opts o = { .cache_bytes = 16 * 4096 };
	struct lfs_mount *m;
	CHECK_MSG(lfs_mount(img, &o, &m, &e) == 0, "%s", e.msg);
	struct lfs_proc *p = lfs_proc_new(m);
	/* before the group: committed on its own */
	CHECK(lfs_mkdir(p, "/old", 0755) == 0);
	CHECK(write_file(p, "/old/a", 5000, 1) == 0);
	CHECK(lfs_sync(m) == 0);

	CHECK_EQ(lfs_atomic_begin(m), 0);
	CHECK_EQ(lfs_atomic_depth(m), 1);
	CHECK(lfs_mkdir(p, "/new", 0755) == 0);
	for (int i = 0; i < 40; i++) {
		char path[64];
		snprintf(path, sizeof path, "/new/f%02d", i);
		CHECK(write_file(p, path, (size_t)i * 3001, (unsigned)i) == 0);
	}
	CHECK(lfs_unlink(p, "/old/a") == 0);
	CHECK(write_file(p, "/old/b", 70000, 9) == 0);
	int fd = lfs_open(p, "/old/b", O_RDWR, 0);
	CHECK(fd >= 0 && lfs_fsync(p, fd) == 0);       /* inside a group: written, not durable */
	lfs_close(p, fd);
	CHECK(lfs_sync(m) == 0);
	/* the group sees itself */
	CHECK_EQ(entries(p, "/new"), 40);
	CHECK(file_ok(p, "/new/f39", 39 * 3001, 39));
	/* a crash now */
	CHECK(copy_file(img, crash) == 0);
	CHECK_EQ(lfs_atomic_commit(m), 0);
	CHECK_EQ(lfs_atomic_depth(m), 0);
	CHECK(lfs_atomic_commit(m) == -EINVAL);
	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);

	/* the crash image: exactly the state before the begin */
	struct lfs_mount_opts ro = { .readonly = 1 };
	CHECK_MSG(lfs_mount(crash, &ro, &m, &e) == 0, "crash image: %s", e.msg);
	p = lfs_proc_new(m);
	struct lfs_stat st;
	CHECK_EQ(lfs_stat(p, "/new", &st), -ENOENT);
	CHECK(file_ok(p, "/old/a", 5000, 1));
	CHECK_EQ(lfs_stat(p, "/old/b", &st), -ENOENT);
	CHECK_EQ(lfs_atomic_begin(m), -EROFS);
	lfs_proc_free(p);
	lfs_umount(m, NULL);
	/* a writer mounting it cuts the group and goes on */
	struct lfs_mount_opts rw = { 0 };
	CHECK_MSG(lfs_mount(crash, &rw, &m, &e) == 0, "%s", e.msg);
	p = lfs_proc_new(m);
	CHECK(write_file(p, "/after", 10, 3) == 0);
	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);
	CHECK(lfs_mount(crash, &ro, &m, &e) == 0);
	p = lfs_proc_new(m);
	CHECK(file_ok(p, "/after", 10, 3));
	CHECK_EQ(lfs_stat(p, "/new", &st), -ENOENT);
	lfs_proc_free(p);
	lfs_umount(m, NULL);

	/* the committed image: all of it */
	CHECK(lfs_mount(img, &ro, &m, &e) == 0);
	p = lfs_proc_new(m);
	CHECK_EQ(entries(p, "/new"), 40);
	for (int i = 0; i < 40; i++) {
		char path[64];
		snprintf(path, sizeof path, "/new/f%02d", i);
		CHECK_MSG(file_ok(p, path, (size_t)i * 3001, (unsigned)i), "%s", path);
	}
	CHECK_EQ(lfs_stat(p, "/old/a", &st), -ENOENT);
	CHECK(file_ok(p, "/old/b", 70000, 9));
	lfs_proc_free(p);
	lfs_umount(m, NULL);
	unlink(img);
	unlink(crash);
}

TEST(group_nesting_and_umount)
{
	char img[64];
	snprintf(img, sizeof img, "atomic2-%d.lfs", (int)getpid());
	unlink(img);
	struct lfs_err e = { 0 };
	CHECK(lfs_mkfs(img, NULL, &e) == 0);
	struct lfs_mount_opts o = { 0 };
	struct lfs_mount *m;
	CHECK(lfs_mount(img, &o, &m, &e) == 0);
	struct lfs_proc *p = lfs_proc_new(m);
	CHECK_EQ(lfs_atomic_begin(m), 0);
	CHECK_EQ(lfs_atomic_begin(m), 0);
	CHECK(write_file(p, "/x", 100, 5) == 0);
	CHECK_EQ(lfs_atomic_commit(m), 0);             /* inner: nothing yet */
	CHECK_EQ(lfs_atomic_depth(m), 1);
	CHECK(write_file(p, "/y", 200, 6) == 0);
	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);                 /* commits the open group */
	struct lfs_mount_opts ro = { .readonly = 1 };
	CHECK(lfs_mount(img, &ro, &m, &e) == 0);
	p = lfs_proc_new(m);
	CHECK(file_ok(p, "/x", 100, 5));
	CHECK(file_ok(p, "/y", 200, 6));
	lfs_proc_free(p);
	lfs_umount(m, NULL);
	unlink(img);
}

/* lfs_futimens (what cp -p uses inside its transaction): the times set on
 * the open file after its last write win over the in-core mtime of those
 * writes, also after writeback and a remount. */
TEST(futimens_after_writes)
{
	char img[64];
	snprintf(img, sizeof img, "atomic3-%d.lfs", (int)getpid());
	unlink(img);
	struct lfs_err e = { 0 };
	CHECK(lfs_mkfs(img, NULL, &e) == 0);
	struct lfs_mount_opts o = { .cache_bytes = 16 * 4096 };
	struct lfs_mount *m;
	CHECK(lfs_mount(img, &o, &m, &e) == 0);
	struct lfs_proc *p = lfs_proc_new(m);
	CHECK_EQ(lfs_atomic_begin(m), 0);
	int fd = lfs_open(p, "/t", O_CREAT | O_WRONLY | O_EXCL, 0644);
	CHECK(fd >= 0);
	uint8_t b[30000];
	fill(b, sizeof b, 4);
	CHECK_EQ(lfs_write(p, fd, b, sizeof b), (long long)sizeof b);
	CHECK_EQ(lfs_futimens(p, fd, 1111000000001ull, 2222000000002ull), 0);
	CHECK_EQ(lfs_futimens(p, 999, 1, 1), -EBADF);
	lfs_close(p, fd);
	struct lfs_stat st;
	CHECK(lfs_stat(p, "/t", &st) == 0);
	CHECK_EQ(st.mtime_ns, 2222000000002ull);
	CHECK_EQ(st.atime_ns, 1111000000001ull);
	CHECK_EQ(lfs_atomic_commit(m), 0);
	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);
	struct lfs_mount_opts ro = { .readonly = 1 };
	CHECK(lfs_mount(img, &ro, &m, &e) == 0);
	p = lfs_proc_new(m);
	CHECK(lfs_stat(p, "/t", &st) == 0);
	CHECK_EQ(st.mtime_ns, 2222000000002ull);
	CHECK_EQ(st.size, sizeof b);
	CHECK(file_ok(p, "/t", sizeof b, 4));
	lfs_proc_free(p);
	lfs_umount(m, NULL);
	unlink(img);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, group_all_or_nothing, group_nesting_and_umount, futimens_after_writes);
}
