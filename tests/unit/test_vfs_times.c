/* Times set on a file with dirty pages (lfs_futimens / lfs_utimens right
 * after writing, as `lightfs cp -p` does) are held by the vnode and stored
 * by the writeback of those pages, with the size.  Checks: stat shows them
 * at once; they survive close + remount (stored); a write after them sets a
 * fresh mtime (the later write wins) but keeps the atime set; a chmod after
 * them stores them too; fsync stores them; an O_DIRECT write after them
 * stores them (its own mtime later); a file without dirty pages takes the
 * direct path. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vfs/lightfs.h"

#define T1 981173106123456789ull   /* 2001-02-03 04:05:06.123456789 */
#define T2 1000000000000000007ull

static struct lfs_mount *mnt(const char *img)
{
	struct lfs_err e = { 0 };
	struct lfs_mount *m = NULL;
	return lfs_mount(img, NULL, &m, &e) < 0 ? NULL : m;
}

static int times_are(struct lfs_proc *p, const char *path, uint64_t at, uint64_t mt)
{
	struct lfs_stat st;
	if (lfs_lstat(p, path, &st) < 0)
		return 0;
	if (st.atime_ns != at || st.mtime_ns != mt) {
		fprintf(stderr, "%s: atime %llu mtime %llu\n", path, (unsigned long long)st.atime_ns,
			(unsigned long long)st.mtime_ns);
		return 0;
	}
	return 1;
}

TEST(held_times_are_stored)
{
	char img[64];
	snprintf(img, sizeof img, "times-%d.lfs", (int)getpid());
	unlink(img);
	struct lfs_err e = { 0 };
	CHECK_MSG(lfs_mkfs(img, NULL, &e) == 0, "%s", e.msg);
	struct lfs_mount *m = mnt(img);
	CHECK(m);
	struct lfs_proc *p = lfs_proc_new(m);
	char data[10000];
	memset(data, 'x', sizeof data);

	/* a: written, times set by fd, closed */
	int fd = lfs_open(p, "/a", O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_write(p, fd, data, sizeof data), (long long)sizeof data);
	CHECK(lfs_futimens(p, fd, T1, T2) == 0);
	CHECK(times_are(p, "/a", T1, T2));
	struct lfs_stat st;
	CHECK(lfs_fstat(p, fd, &st) == 0);
	CHECK_EQ(st.size, sizeof data);
	CHECK(lfs_close(p, fd) == 0);
	CHECK(times_are(p, "/a", T1, T2));

	/* b: times set, then written again: the write's mtime wins, atime kept */
	fd = lfs_open(p, "/b", O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_write(p, fd, data, 100), 100);
	CHECK(lfs_futimens(p, fd, T1, T2) == 0);
	CHECK_EQ(lfs_write(p, fd, data, 100), 100);
	CHECK(lfs_fstat(p, fd, &st) == 0);
	CHECK(st.atime_ns == T1 && st.mtime_ns > T2);
	uint64_t bm = st.mtime_ns;
	CHECK(lfs_close(p, fd) == 0);

	/* c: times set by path, then a chmod (which stores the inode) */
	fd = lfs_open(p, "/c", O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_write(p, fd, data, 5000), 5000);
	CHECK(lfs_utimens(p, "/c", T2, T1) == 0);
	CHECK(lfs_chmod(p, "/c", 0600) == 0);
	CHECK(times_are(p, "/c", T2, T1));
	CHECK(lfs_close(p, fd) == 0);

	/* d: times set, then fsync */
	fd = lfs_open(p, "/d", O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_write(p, fd, data, 1), 1);
	CHECK(lfs_futimens(p, fd, T1, T1) == 0);
	CHECK(lfs_fsync(p, fd) == 0);
	CHECK(times_are(p, "/d", T1, T1));
	/* no dirty pages now: the direct path */
	CHECK(lfs_futimens(p, fd, T2, T2) == 0);
	CHECK(times_are(p, "/d", T2, T2));
	CHECK(lfs_close(p, fd) == 0);

	/* e: times held, then an O_DIRECT write (stores the inode itself):
	 * the atime set is kept, the direct write's mtime is the later one */
	fd = lfs_open(p, "/e", O_RDWR | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_write(p, fd, data, 4096), 4096);
	CHECK(lfs_futimens(p, fd, T1, T1) == 0);
	CHECK(lfs_fcntl_setfl(p, fd, O_DIRECT) == 0);
	CHECK_EQ(lfs_pwrite(p, fd, data, 4096, 8192), 4096);
	CHECK(lfs_close(p, fd) == 0);
	CHECK(lfs_lstat(p, "/e", &st) == 0);
	CHECK(st.atime_ns == T1 && st.mtime_ns > T2 && st.size == 12288);
	uint64_t em = st.mtime_ns;

	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);

	/* all of it stored */
	m = mnt(img);
	CHECK(m);
	p = lfs_proc_new(m);
	CHECK(times_are(p, "/a", T1, T2));
	CHECK(lfs_lstat(p, "/a", &st) == 0);
	CHECK_EQ(st.size, sizeof data);
	CHECK(lfs_lstat(p, "/b", &st) == 0);
	CHECK(st.atime_ns == T1 && st.mtime_ns == bm && st.size == 200);
	CHECK(times_are(p, "/c", T2, T1));
	CHECK(lfs_lstat(p, "/c", &st) == 0);
	CHECK(st.size == 5000 && (st.mode & 07777) == 0600);
	CHECK(times_are(p, "/d", T2, T2));
	CHECK(times_are(p, "/e", T1, em));
	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);
	unlink(img);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, held_times_are_stored);
}
