/* Shared by the VFS unit tests: a fresh image file named after the test
 * and the pid, made and mounted, with one process on it; counting a
 * directory's entries; deterministic file contents. */
#ifndef TEST_VFS_IMG_H
#define TEST_VFS_IMG_H
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include "harness.h"
#include "vfs/lightfs.h"

static inline void t_fresh_mount(const char *tag, char *img, size_t cap, struct lfs_mount **m,
			  struct lfs_proc **p)
{
	struct lfs_err e = { 0 };
	*m = NULL;
	*p = NULL;
	snprintf(img, cap, "%s-%d.lfs", tag, (int)getpid());
	unlink(img);
	CHECK_MSG(lfs_mkfs(img, NULL, &e) == 0, "%s", e.msg);
	CHECK_MSG(lfs_mount(img, NULL, m, &e) == 0, "%s", e.msg);
	*p = lfs_proc_new(*m);
	CHECK(*p != NULL);
}

/* in a TEST: IMG is a char array; returns from the test when it fails */
#define FRESH_MOUNT(tag, img, m, p) do { \
	t_fresh_mount(tag, img, sizeof img, &(m), &(p)); \
	if (t_cur.failed) \
		return; \
} while (0)

static inline void t_umount_rm(const char *img, struct lfs_mount *m, struct lfs_proc *p)
{
	struct lfs_err e = { 0 };
	lfs_proc_free(p);
	CHECK_MSG(lfs_umount(m, &e) == 0, "%s", e.msg);
	unlink(img);
}

/* the end of a test made with FRESH_MOUNT: the process, the mount, the file */
#define UMOUNT_RM(img, m, p) t_umount_rm(img, m, p)

static inline int count_cb(void *arg, const struct lfs_dirent *de)
{
	(void)de;
	(*(int *)arg)++;
	return 0;
}

/* the number of entries lfs_readdir lists in dir, -1 when it fails */
static inline int entries(struct lfs_proc *p, const char *dir)
{
	int n = 0;
	return lfs_readdir(p, dir, count_cb, &n) < 0 ? -1 : n;
}

/* n bytes of content that depends on seed */
static inline void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((i * 131u + seed * 7u) >> 3);
}

#endif
