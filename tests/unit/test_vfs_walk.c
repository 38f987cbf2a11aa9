/* Path walk (lib/vfs/vfs.c walk): results through directories, "." and
 * "..", symlinks in the middle and at the end (absolute, relative, to a
 * file, dangling, loops), a file in the middle (ENOTDIR, also before "."
 * or ".." as Linux), trailing slashes, renamed and replaced directories;
 * the same after a remount (cold caches); and a directory entry whose inode
 * record is gone (a damaged image) is an error below it, never a success.
 * The namei cache (the last walk's directory) follows renames, rmdir and
 * KV changes made while the handle was lent.  Also lfs_fd_ident (what an
 * open file is, without KV). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "test_vfs_img.h"
#include "fs/schema.h"
#include "kv/kv.h"
#include "vfs/lightfs.h"

static uint64_t ino_of(struct lfs_proc *p, const char *path, int follow)
{
	struct lfs_stat st;
	int rc = follow ? lfs_stat(p, path, &st) : lfs_lstat(p, path, &st);
	return rc == 0 ? st.ino : 0;
}

static int stat_rc(struct lfs_proc *p, const char *path)
{
	struct lfs_stat st;
	return lfs_stat(p, path, &st);
}

/* the tree: /a/b/c/f (file), /a/b/d/, /a/ln -> b (relative), /abs -> /a/b/c,
 * /a/fl -> /a/b/c/f, /dang -> /nowhere, /loop1 -> loop2 -> loop1 */
static void build(struct lfs_proc *p)
{
	CHECK_EQ(lfs_mkdir(p, "/a", 0755), 0);
	CHECK_EQ(lfs_mkdir(p, "/a/b", 0755), 0);
	CHECK_EQ(lfs_mkdir(p, "/a/b/c", 0755), 0);
	CHECK_EQ(lfs_mkdir(p, "/a/b/d", 0755), 0);
	int fd = lfs_open(p, "/a/b/c/f", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_write(p, fd, "hello", 5), 5);
	CHECK_EQ(lfs_close(p, fd), 0);
	CHECK_EQ(lfs_symlink(p, "b", "/a/ln"), 0);
	CHECK_EQ(lfs_symlink(p, "/a/b/c", "/abs"), 0);
	CHECK_EQ(lfs_symlink(p, "/a/b/c/f", "/a/fl"), 0);
	CHECK_EQ(lfs_symlink(p, "/nowhere", "/dang"), 0);
	CHECK_EQ(lfs_symlink(p, "loop2", "/loop1"), 0);
	CHECK_EQ(lfs_symlink(p, "loop1", "/loop2"), 0);
}

static void check_paths(struct lfs_proc *p)
{
	uint64_t f = ino_of(p, "/a/b/c/f", 0), c = ino_of(p, "/a/b/c", 0), b = ino_of(p, "/a/b", 0);
	CHECK(f && c && b);
	CHECK_EQ(ino_of(p, "/a/./b/c/../c/f", 0), f);
	CHECK_EQ(ino_of(p, "//a//b///c/f", 0), f);
	CHECK_EQ(ino_of(p, "/a/b/d/../c/f", 0), f);
	CHECK_EQ(ino_of(p, "/a/b/c/", 0), c);
	CHECK_EQ(ino_of(p, "/a/b/c/.", 0), c);
	CHECK_EQ(ino_of(p, "/a/b/c/..", 0), b);
	CHECK_EQ(ino_of(p, "/..", 0), LFS_FS_ROOT_INO);
	CHECK_EQ(ino_of(p, "/a/ln/c/f", 0), f);          /* relative symlink in the middle */
	CHECK_EQ(ino_of(p, "/abs/f", 0), f);             /* absolute symlink in the middle */
	CHECK_EQ(ino_of(p, "/abs/../d/../c/f", 0), f);   /* .. after a symlink: its target's parent */
	CHECK_EQ(ino_of(p, "/a/ln", 1), b);
	CHECK(ino_of(p, "/a/ln", 0) != b);               /* lstat: the link itself */
	CHECK_EQ(ino_of(p, "/a/fl", 1), f);
	CHECK_EQ(stat_rc(p, "/a/fl/x"), -ENOTDIR);       /* symlink to a file in the middle */
	CHECK_EQ(stat_rc(p, "/a/b/c/f/x"), -ENOTDIR);    /* a file in the middle */
	CHECK_EQ(stat_rc(p, "/a/b/c/f/"), -ENOTDIR);     /* trailing slash on a file */
	CHECK_EQ(stat_rc(p, "/a/b/c/f/.."), -ENOTDIR);   /* (as Linux; before: the walk gave /a/b/c) */
	CHECK_EQ(stat_rc(p, "/a/b/c/f/."), -ENOTDIR);
	CHECK_EQ(stat_rc(p, "/a/fl/.."), -ENOTDIR);
	CHECK_EQ(stat_rc(p, "/a/b/x/f"), -ENOENT);       /* a missing directory in the middle */
	CHECK_EQ(stat_rc(p, "/dang/x"), -ENOENT);
	CHECK_EQ(stat_rc(p, "/loop1/x"), -ELOOP);
	/* create through a symlinked directory and a dotted path */
	int fd = lfs_open(p, "/a/ln/d/../d/new", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_close(p, fd), 0);
	CHECK(ino_of(p, "/a/b/d/new", 0) != 0);
	CHECK_EQ(lfs_unlink(p, "/a/b/d/new"), 0);
	CHECK_EQ(lfs_open(p, "/a/b/c/f/new", O_CREAT | O_WRONLY, 0644), -ENOTDIR);
	CHECK_EQ(lfs_mkdir(p, "/a/fl/new", 0755), -ENOTDIR);
	/* a renamed directory: old paths gone, new ones resolve */
	CHECK_EQ(lfs_rename(p, "/a/b/c", "/a/b/e", 0), 0);
	CHECK_EQ(stat_rc(p, "/a/b/c/f"), -ENOENT);
	CHECK_EQ(ino_of(p, "/a/b/e/f", 0), f);
	CHECK_EQ(stat_rc(p, "/abs/f"), -ENOENT);
	CHECK_EQ(lfs_rename(p, "/a/b/e", "/a/b/c", 0), 0);
	CHECK_EQ(ino_of(p, "/abs/f", 0), f);
	/* a directory replaced by a file of the same name */
	/* symlink targets around the inode cache's limit for a cached target
	 * (47 bytes) and far past it: the walk and readlink see each whole */
	static const size_t tls[] = { 1, 46, 47, 48, 49, 200, 1000 };
	for (size_t i = 0; i < sizeof tls / sizeof tls[0]; i++) {
		char t[1100], lp[64], rl[1100], via[1200];
		size_t n = 0;
		while (n + 5 < tls[i]) {                 /* "/a/b" followed by "/." runs */
			memcpy(t + n, n ? "/." : "/a/b", n ? 2 : 4);
			n += n ? 2 : 4;
		}
		while (n < tls[i])
			t[n++] = '/';
		t[n] = 0;
		snprintf(lp, sizeof lp, "/ln%zu", tls[i]);
		CHECK_EQ(lfs_symlink(p, t, lp), 0);
		for (int k = 0; k < 2; k++) {            /* the second time from the cache */
			ssize_t rn = lfs_readlink(p, lp, rl, sizeof rl);
			CHECK_EQ(rn, (long long)n);
			CHECK(!memcmp(rl, t, n));
			if (n >= 4) {
				snprintf(via, sizeof via, "%s/c/f", lp);
				CHECK_EQ(ino_of(p, via, 1), f);
			}
		}
		CHECK_EQ(lfs_unlink(p, lp), 0);
	}
	CHECK_EQ(lfs_rmdir(p, "/a/b/d"), 0);
	fd = lfs_open(p, "/a/b/d", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_close(p, fd), 0);
	CHECK_EQ(stat_rc(p, "/a/b/d/x"), -ENOTDIR);
	CHECK_EQ(lfs_unlink(p, "/a/b/d"), 0);
	CHECK_EQ(lfs_mkdir(p, "/a/b/d", 0755), 0);
}

TEST(walks)
{
	char img[64];
	struct lfs_err e = { 0 };
	struct lfs_mount *m;
	struct lfs_proc *p;
	FRESH_MOUNT("walk", img, m, p);
	build(p);
	if (t_cur.failed)
		return;
	check_paths(p);
	lfs_proc_free(p);
	CHECK_MSG(lfs_umount(m, &e) == 0, "%s", e.msg);
	if (t_cur.failed)
		return;
	CHECK_MSG(lfs_mount(img, NULL, &m, &e) == 0, "%s", e.msg);   /* cold caches */
	p = lfs_proc_new(m);
	check_paths(p);
	UMOUNT_RM(img, m, p);
}

/* A directory entry whose inode record is missing: walking through it is
 * not a success (every directory on the way is checked by its inode). */
TEST(dir_entry_without_inode)
{
	char img[64];
	struct lfs_mount *m;
	struct lfs_proc *p;
	FRESH_MOUNT("walk-dang", img, m, p);
	CHECK_EQ(lfs_mkdir(p, "/d", 0755), 0);
	CHECK_EQ(lfs_mkdir(p, "/d/e", 0755), 0);
	int fd = lfs_open(p, "/d/e/f", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_close(p, fd), 0);
	CHECK_EQ(lfs_sync(m), 0);
	uint64_t e_ino = ino_of(p, "/d/e", 0);
	CHECK(e_ino != 0);
	struct lfs_kv *kv = lfs_mount_kv(m);          /* lent: caches are dropped */
	uint8_t k[LFS_FS_KEY_MAX];
	size_t kl = lfs_fs_key_inode(k, e_ino);
	CHECK_EQ(lfs_kv_del(kv, k, kl, NULL), 0);
	struct lfs_stat st;
	CHECK(lfs_stat(p, "/d/e/f", &st) < 0);
	CHECK(lfs_stat(p, "/d/e", &st) < 0);
	CHECK(lfs_open(p, "/d/e/g", O_CREAT | O_WRONLY, 0644) < 0);
	CHECK(lfs_mkdir(p, "/d/e/h", 0755) < 0);
	CHECK_EQ(lfs_stat(p, "/d", &st), 0);
	UMOUNT_RM(img, m, p);
}

/* lfs_fd_ident: what lfs_fstat says of an open file (ino, type, size as
 * the cache sees it), without asking KV */
TEST(fd_ident)
{
	char img[64];
	struct lfs_mount *m;
	struct lfs_proc *p;
	FRESH_MOUNT("walk-ident", img, m, p);
	CHECK_EQ(lfs_mkdir(p, "/d", 0755), 0);
	int fd = lfs_open(p, "/d/f", O_CREAT | O_RDWR | O_APPEND, 0640);
	CHECK(fd >= 0);
	char buf[10000];
	memset(buf, 'x', sizeof buf);
	CHECK_EQ(lfs_write(p, fd, buf, sizeof buf), (long long)sizeof buf);   /* dirty, not in KV */
	struct lfs_stat st;
	uint64_t ino = 0, size = 0;
	uint32_t mode = 0;
	struct lfs_stats a, b;
	lfs_mount_stats(m, &a);
	CHECK_EQ(lfs_fd_ident(p, fd, &ino, &mode, &size), 0);
	lfs_mount_stats(m, &b);
	CHECK_EQ(b.kv.gets + b.kv.scans, a.kv.gets + a.kv.scans);
	CHECK_EQ(lfs_fstat(p, fd, &st), 0);
	CHECK_EQ(ino, st.ino);
	CHECK_EQ(mode, st.mode);
	CHECK(S_ISREG(mode));
	CHECK_EQ(size, 10000);
	CHECK_EQ(size, st.size);
	CHECK_EQ(lfs_fd_ident(p, fd, NULL, NULL, NULL), 0);
	CHECK_EQ(lfs_close(p, fd), 0);
	CHECK_EQ(lfs_fd_ident(p, fd, &ino, &mode, &size), -EBADF);
	fd = lfs_open(p, "/d", O_RDONLY | O_DIRECTORY, 0);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_fd_ident(p, fd, &ino, &mode, NULL), 0);
	CHECK(S_ISDIR(mode));
	CHECK_EQ(lfs_stat(p, "/d", &st), 0);
	CHECK_EQ(ino, st.ino);
	CHECK_EQ(lfs_close(p, fd), 0);
	UMOUNT_RM(img, m, p);
}

static int put_dentry(struct lfs_kv *kv, uint64_t dir, const char *name, uint64_t ino, int dt)
{
	uint8_t k[LFS_FS_KEY_MAX], v[LFS_FS_DENTRY_VLEN];
	int kl = lfs_fs_key_dentry(k, dir, name, strlen(name));
	if (kl < 0)
		return kl;
	struct lfs_fs_dentry d = { .ino = ino, .type = (uint8_t)dt };
	lfs_fs_dentry_encode(&d, v);
	return lfs_kv_put(kv, k, (size_t)kl, v, sizeof v, NULL);
}

/* The namei cache (the directory of the last walk, by its path) follows
 * every change of what a path of directories leads to: a renamed
 * directory or ancestor, a removed one replaced by a file, an exchange, a
 * dentry changed directly in KV while the handle was lent; a path through
 * a symlink or with dots is resolved in full. */
TEST(namei_cache)
{
	char img[64];
	struct lfs_mount *m;
	struct lfs_proc *p;
	FRESH_MOUNT("walk-nc", img, m, p);
	CHECK_EQ(lfs_mkdir(p, "/p", 0755), 0);
	CHECK_EQ(lfs_mkdir(p, "/p/q", 0755), 0);
	CHECK_EQ(lfs_mkdir(p, "/p/e", 0755), 0);
	int fd = lfs_open(p, "/p/q/f1", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_close(p, fd), 0);
	uint64_t f1 = ino_of(p, "/p/q/f1", 0);
	CHECK(f1 != 0);
	/* (the changes below name their paths with "/./", which the cache
	 * does not keep, so the directory remembered is still the one the
	 * change affects) */
	/* renamed directory */
	CHECK_EQ(stat_rc(p, "/p/q/f2"), -ENOENT);          /* /p/q remembered */
	CHECK_EQ(lfs_rename(p, "/p/./q", "/p/./r", 0), 0);
	CHECK_EQ(stat_rc(p, "/p/q/f1"), -ENOENT);
	CHECK_EQ(ino_of(p, "/p/r/f1", 0), f1);
	/* renamed ancestor */
	CHECK_EQ(lfs_rename(p, "/./p", "/./P", 0), 0);
	CHECK_EQ(stat_rc(p, "/p/r/f1"), -ENOENT);
	CHECK_EQ(ino_of(p, "/P/r/f1", 0), f1);
	CHECK_EQ(lfs_rename(p, "/./P", "/./p", 0), 0);
	CHECK_EQ(ino_of(p, "/p/r/f1", 0), f1);
	/* removed directory replaced by a file */
	CHECK_EQ(stat_rc(p, "/p/e/x"), -ENOENT);           /* /p/e remembered */
	CHECK_EQ(lfs_rmdir(p, "/p/./e"), 0);
	CHECK_EQ(stat_rc(p, "/p/e/x"), -ENOENT);
	fd = lfs_open(p, "/p/./e", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(lfs_close(p, fd), 0);
	CHECK_EQ(stat_rc(p, "/p/e/x"), -ENOTDIR);
	CHECK_EQ(lfs_open(p, "/p/e/x", O_CREAT | O_WRONLY, 0644), -ENOTDIR);
	/* exchange of a directory and a file */
	CHECK_EQ(ino_of(p, "/p/r/f1", 0), f1);             /* /p/r remembered */
	CHECK_EQ(lfs_rename(p, "/p/./r", "/p/./e", LFS_RENAME_EXCHANGE), 0);
	CHECK_EQ(stat_rc(p, "/p/r/f1"), -ENOTDIR);
	CHECK_EQ(ino_of(p, "/p/e/f1", 0), f1);
	/* symlink and dots in the prefix: resolved in full each time */
	CHECK_EQ(lfs_symlink(p, "/p/e", "/lnk"), 0);
	CHECK_EQ(ino_of(p, "/lnk/f1", 0), f1);
	CHECK_EQ(ino_of(p, "/p/./e/f1", 0), f1);
	CHECK_EQ(ino_of(p, "/p//e/f1", 0), f1);
	CHECK_EQ(lfs_unlink(p, "/lnk"), 0);
	CHECK_EQ(lfs_symlink(p, "/p", "/lnk"), 0);
	CHECK_EQ(stat_rc(p, "/lnk/f1"), -ENOENT);
	CHECK_EQ(ino_of(p, "/lnk/e/f1", 0), f1);
	/* a name created after the directory was remembered */
	CHECK_EQ(stat_rc(p, "/p/e/new"), -ENOENT);
	CHECK_EQ(lfs_mkdir(p, "/p/e/new", 0755), 0);
	CHECK(ino_of(p, "/p/e/new", 0) != 0);
	CHECK_EQ(stat_rc(p, "/p/e/new/x"), -ENOENT);
	/* a dentry changed in KV while the handle is lent: /p/e -> the file
	 * /p/r's inode */
	uint64_t p_ino = ino_of(p, "/p", 0), r_ino = ino_of(p, "/p/r", 0);
	CHECK(p_ino && r_ino);
	CHECK_EQ(ino_of(p, "/p/e/f1", 0), f1);             /* /p/e remembered */
	struct lfs_kv *kv = lfs_mount_kv(m);
	CHECK_EQ(put_dentry(kv, p_ino, "e", r_ino, 8 /* DT_REG */), 0);
	CHECK_EQ(stat_rc(p, "/p/e/f1"), -ENOTDIR);
	UMOUNT_RM(img, m, p);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, walks, dir_entry_without_inode, fd_ident, namei_cache);
}
