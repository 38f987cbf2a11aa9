/* O_TMPFILE + lfs_flink: a file written unnamed and named when complete
 * (what `lightfs cp` uses so an interrupted copy never leaves a partial file
 * under its name).  Checks: the unnamed file is invisible, its data is
 * readable through the fd, lfs_flink names it with every byte (also after a
 * remount of an image file, with a cache small enough that writeback runs
 * during the writes), an unnamed file closed without a name is freed, and
 * the error cases. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vfs/lightfs.h"
#include "test_vfs_img.h"

TEST(unnamed_then_named)
{
	char img[64];
	snprintf(img, sizeof img, "tmpfile-%d.lfs", (int)getpid());
	unlink(img);
	struct lfs_err e = { 0 };
	CHECK_MSG(lfs_mkfs(img, NULL, &e) == 0, "%s", e.msg);
	struct lfs_mount_opts o = { .cache_bytes = 16 * 4096 };   /* writeback during the writes */
	struct lfs_mount *m;
	CHECK_MSG(lfs_mount(img, &o, &m, &e) == 0, "%s", e.msg);
	struct lfs_proc *p = lfs_proc_new(m);
	CHECK(lfs_mkdir(p, "/d", 0755) == 0);
	struct lfs_statfs s0, s1;
	CHECK(lfs_statfs(m, &s0) == 0);

	size_t n = 1000 * 1000 + 123;
	uint8_t *buf = malloc(n), *back = malloc(n);
	CHECK(buf && back);
	fill(buf, n, 1);
	int fd = lfs_open(p, "/d", O_TMPFILE | O_RDWR, 0640);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_write(p, fd, buf, n), (long long)n);
	CHECK_EQ(entries(p, "/d"), 0);                  /* invisible while unnamed */
	CHECK_EQ(lfs_pread(p, fd, back, n, 0), (long long)n);
	CHECK(memcmp(buf, back, n) == 0);
	CHECK_EQ(lfs_flink(p, fd, "/d/f"), 0);
	CHECK_EQ(lfs_flink(p, fd, "/d/f"), -EEXIST);
	CHECK_EQ(lfs_close(p, fd), 0);
	CHECK_EQ(entries(p, "/d"), 1);
	struct lfs_stat st;
	CHECK_EQ(lfs_stat(p, "/d/f", &st), 0);
	CHECK_EQ(st.size, n);
	CHECK_EQ(st.nlink, 1);
	CHECK_EQ(st.mode & 07777, 0640);

	/* closed without a name: gone, inode count back where it was + 1 */
	fd = lfs_open(p, "/d", O_TMPFILE | O_WRONLY, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_write(p, fd, buf, 50000), 50000);
	CHECK_EQ(lfs_close(p, fd), 0);
	CHECK_EQ(entries(p, "/d"), 1);
	CHECK(lfs_statfs(m, &s1) == 0);
	CHECK_EQ(s1.inodes, s0.inodes + 1);

	lfs_proc_free(p);
	CHECK_MSG(lfs_umount(m, &e) == 0, "%s", e.msg);

	/* remount: the named file has every byte */
	CHECK_MSG(lfs_mount(img, &o, &m, &e) == 0, "%s", e.msg);
	p = lfs_proc_new(m);
	fd = lfs_open(p, "/d/f", O_RDONLY, 0);
	CHECK(fd >= 0);
	memset(back, 0, n);
	CHECK_EQ(lfs_read(p, fd, back, n), (long long)n);
	CHECK(memcmp(buf, back, n) == 0);
	lfs_close(p, fd);
	CHECK(lfs_statfs(m, &s1) == 0);
	CHECK_EQ(s1.inodes, s0.inodes + 1);
	lfs_proc_free(p);
	CHECK_MSG(lfs_umount(m, &e) == 0, "%s", e.msg);
	free(buf);
	free(back);
	unlink(img);
}

TEST(errors)
{
	struct lfs_mount_opts o = { .in_memory = 1 };
	struct lfs_mount *m;
	struct lfs_err e = { 0 };
	CHECK_MSG(lfs_mount("mem", &o, &m, &e) == 0, "%s", e.msg);
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/f", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_open(p, "/f", O_TMPFILE | O_WRONLY, 0600), -ENOTDIR);
	CHECK_EQ(lfs_open(p, "/nope", O_TMPFILE | O_WRONLY, 0600), -ENOENT);
	CHECK_EQ(lfs_open(p, "/", O_TMPFILE | O_RDONLY, 0600), -EINVAL);
	int t = lfs_open(p, "/", O_TMPFILE | O_WRONLY, 0600);
	CHECK(t >= 0);
	CHECK_EQ(lfs_flink(p, t, "/f"), -EEXIST);
	CHECK_EQ(lfs_flink(p, t, "/nodir/x"), -ENOENT);
	CHECK_EQ(lfs_flink(p, 999, "/x"), -EBADF);
	/* a second name for a named file works as link(2) */
	CHECK_EQ(lfs_flink(p, fd, "/g"), 0);
	struct lfs_stat st;
	CHECK_EQ(lfs_stat(p, "/f", &st), 0);
	CHECK_EQ(st.nlink, 2);
	lfs_close(p, t);
	lfs_close(p, fd);
	lfs_proc_free(p);
	CHECK_MSG(lfs_umount(m, &e) == 0, "%s", e.msg);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, unnamed_then_named, errors);
}
