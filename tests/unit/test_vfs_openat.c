/* lfs_openat with a plain name is resolved from the directory fd's inode
 * (one lookup, not a walk of the fd's path from the root; what `lightfs cp`
 * uses to create each file).  Checks: create / open existing / O_EXCL /
 * O_NOFOLLOW on a symlink / a followed symlink (relative, with ".."), the
 * path the new fd carries (a later openat below it), a directory renamed
 * after it was opened (openat(2) follows the inode), one removed (ENOENT),
 * a non-directory fd (ENOTDIR), and names that take the full walk ("a/b",
 * ".", ".."). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vfs/lightfs.h"

static struct lfs_mount *mnt(void)
{
	struct lfs_mount_opts o = { .in_memory = 1 };
	struct lfs_err e = { 0 };
	struct lfs_mount *m = NULL;
	if (lfs_mount("openat-mem", &o, &m, &e) < 0)
		return NULL;
	return m;
}

static long long fsize(struct lfs_proc *p, const char *path)
{
	struct lfs_stat st;
	return lfs_lstat(p, path, &st) < 0 ? -1 : (long long)st.size;
}

TEST(names_relative_to_dir_fd)
{
	struct lfs_mount *m = mnt();
	CHECK(m);
	struct lfs_proc *p = lfs_proc_new(m);
	CHECK(lfs_mkdir(p, "/a", 0755) == 0);
	CHECK(lfs_mkdir(p, "/a/b", 0755) == 0);
	CHECK(lfs_mkdir(p, "/t", 0755) == 0);
	int d = lfs_open(p, "/a/b", O_RDONLY | O_DIRECTORY, 0);
	CHECK(d >= 0);

	/* create, then O_EXCL refuses, plain open finds it */
	int fd = lfs_openat(p, d, "f", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0640);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_write(p, fd, "hello", 5), 5);
	CHECK(lfs_close(p, fd) == 0);
	CHECK_EQ(fsize(p, "/a/b/f"), 5);
	CHECK_EQ(lfs_openat(p, d, "f", O_WRONLY | O_CREAT | O_EXCL, 0640), -EEXIST);
	fd = lfs_openat(p, d, "f", O_RDONLY, 0);
	CHECK(fd >= 0);
	char b[8] = { 0 };
	CHECK_EQ(lfs_read(p, fd, b, sizeof b), 5);
	CHECK(!memcmp(b, "hello", 5));
	CHECK(lfs_close(p, fd) == 0);
	CHECK_EQ(lfs_openat(p, d, "nope", O_RDONLY, 0), -ENOENT);

	/* symlinks: not followed with O_NOFOLLOW; followed (relative, "..") */
	CHECK(lfs_symlink(p, "../../t/x", "/a/b/l") == 0);
	CHECK_EQ(lfs_openat(p, d, "l", O_WRONLY | O_CREAT | O_NOFOLLOW, 0600), -ELOOP);
	fd = lfs_openat(p, d, "l", O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_write(p, fd, "xyz", 3), 3);
	CHECK(lfs_close(p, fd) == 0);
	CHECK_EQ(fsize(p, "/t/x"), 3);

	/* a directory opened through openat carries its path: names below it */
	int d2 = lfs_openat(p, d, ".", O_RDONLY | O_DIRECTORY, 0);
	CHECK(d2 >= 0);
	CHECK(lfs_mkdir(p, "/a/b/c", 0755) == 0);
	int d3 = lfs_openat(p, d, "c", O_RDONLY | O_DIRECTORY, 0);
	CHECK(d3 >= 0);
	fd = lfs_openat(p, d3, "g", O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	CHECK(lfs_close(p, fd) == 0);
	CHECK_EQ(fsize(p, "/a/b/c/g"), 0);
	/* names that walk: a path, "..", "." */
	fd = lfs_openat(p, d, "c/g", O_RDONLY, 0);
	CHECK(fd >= 0);
	CHECK(lfs_close(p, fd) == 0);
	CHECK_EQ(lfs_openat(p, d3, "..", O_WRONLY, 0), -EISDIR);
	fd = lfs_openat(p, d3, "..", O_RDONLY | O_DIRECTORY, 0);
	CHECK(fd >= 0);
	CHECK(lfs_close(p, fd) == 0);
	CHECK(lfs_close(p, d2) == 0);

	/* a file fd is no directory */
	fd = lfs_open(p, "/a/b/f", O_RDONLY, 0);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_openat(p, fd, "z", O_WRONLY | O_CREAT, 0600), -ENOTDIR);
	CHECK(lfs_close(p, fd) == 0);

	/* renamed after it was opened: the name lands in the directory itself */
	CHECK(lfs_rename(p, "/a/b/c", "/t/c2", 0) == 0);
	fd = lfs_openat(p, d3, "h", O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	CHECK(lfs_close(p, fd) == 0);
	CHECK_EQ(fsize(p, "/t/c2/h"), 0);
	CHECK_EQ(fsize(p, "/a/b/c/h"), -1);
	/* removed after it was opened: nothing is created in it */
	CHECK(lfs_unlink(p, "/t/c2/g") == 0);
	CHECK(lfs_unlink(p, "/t/c2/h") == 0);
	CHECK(lfs_rmdir(p, "/t/c2") == 0);
	CHECK_EQ(lfs_openat(p, d3, "k", O_WRONLY | O_CREAT | O_EXCL, 0600), -ENOENT);
	CHECK(lfs_close(p, d3) == 0);
	CHECK(lfs_close(p, d) == 0);
	lfs_proc_free(p);
	struct lfs_err e = { 0 };
	CHECK(lfs_umount(m, &e) == 0);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, names_relative_to_dir_fd);
}
