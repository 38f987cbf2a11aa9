/* The dentry cache (lib/fs/fs.c) is exact: positive and negative entries
 * follow every namespace operation.  A seeded random run of create, mkdir,
 * unlink, rmdir, link and rename (plain, NOREPLACE, EXCHANGE) over a small
 * set of names — so each name is looked up, cached (present or absent) and
 * then changed over and over — checks every result code against a model and,
 * after each step, lstat of every name (existence, type, inode) against the
 * model; then the same after a remount (an empty cache).  Also: more names
 * than the cache holds (collisions and eviction), names too long to cache,
 * and writes made directly to KV while the handle is lent out
 * (lfs_mount_kv) are seen at the next lookup.  A directory made by this
 * mount is "complete" (every entry of it cached): creating names in it asks
 * KV nothing, and it stops being complete when the handle is lent out.
 * readdir fills the cache, unless its callback changes the directory. */
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

#define NDIRS 4
#define NNAMES 6
#define NPATHS (NDIRS * NNAMES)

static const char *dirs[NDIRS] = { "", "/a", "/b", "/a/s" };
static char paths[NPATHS][200];

struct ent { int type; uint64_t ino; };   /* type 0: absent, 'f' file, 'd' dir */

static void make_paths(void)
{
	static const char *names[NNAMES] = { "x", "y", "z", "file.c", "dir",
		"a-name-longer-than-the-cache-keeps-which-is-sixty-four-bytes-long-yes" };
	for (int d = 0; d < NDIRS; d++)
		for (int n = 0; n < NNAMES; n++)
			snprintf(paths[d * NNAMES + n], sizeof paths[0], "%s/%s", dirs[d], names[n]);
}

static void check_all(struct lfs_proc *p, const struct ent *model, int step)
{
	for (int i = 0; i < NPATHS; i++) {
		struct lfs_stat st;
		int rc = lfs_lstat(p, paths[i], &st);
		if (!model[i].type) {
			CHECK_MSG(rc == -ENOENT, "step %d: %s should be absent, lstat %d", step, paths[i], rc);
			continue;
		}
		CHECK_MSG(rc == 0, "step %d: %s should exist, lstat %d", step, paths[i], rc);
		CHECK_MSG(st.ino == model[i].ino, "step %d: %s ino %llu, model %llu", step, paths[i],
			  (unsigned long long)st.ino, (unsigned long long)model[i].ino);
		CHECK_MSG((model[i].type == 'd') == S_ISDIR(st.mode), "step %d: %s type", step, paths[i]);
	}
}

static int nlinks(const struct ent *model, uint64_t ino)
{
	int n = 0;
	for (int i = 0; i < NPATHS; i++)
		n += model[i].type && model[i].ino == ino;
	return n;
}

static uint64_t ino_of(struct lfs_proc *p, const char *path)
{
	struct lfs_stat st;
	return lfs_lstat(p, path, &st) == 0 ? st.ino : 0;
}

TEST(random_namespace_ops)
{
	uint64_t seed = seed_from_env("dcache");
	char img[64];
	struct lfs_err e = { 0 };
	struct lfs_mount *m;
	struct lfs_proc *p;
	FRESH_MOUNT("dcache", img, m, p);
	make_paths();
	CHECK(lfs_mkdir(p, "/a", 0755) == 0);
	CHECK(lfs_mkdir(p, "/b", 0755) == 0);
	CHECK(lfs_mkdir(p, "/a/s", 0755) == 0);
	struct ent model[NPATHS];
	memset(model, 0, sizeof model);
	int steps = 1500;
	for (int step = 0; step < steps; step++) {
		int x = (int)(t_rand(&seed) % NPATHS), y = (int)(t_rand(&seed) % NPATHS);
		int op = (int)(t_rand(&seed) % 8), rc, want;
		struct ent *X = &model[x], *Y = &model[y];
		switch (op) {
		case 0: {                                   /* create */
			int fd = lfs_open(p, paths[x], O_CREAT | O_EXCL | O_WRONLY, 0644);
			if (X->type) {
				CHECK_MSG(fd == -EEXIST, "step %d: create %s: %d", step, paths[x], fd);
			} else {
				CHECK_MSG(fd >= 0, "step %d: create %s: %d", step, paths[x], fd);
				if (fd >= 0)
					lfs_close(p, fd);
				X->type = 'f';
				X->ino = ino_of(p, paths[x]);
			}
			break;
		}
		case 1:                                     /* mkdir */
			rc = lfs_mkdir(p, paths[x], 0755);
			CHECK_MSG(rc == (X->type ? -EEXIST : 0), "step %d: mkdir %s: %d", step, paths[x], rc);
			if (!X->type) {
				X->type = 'd';
				X->ino = ino_of(p, paths[x]);
			}
			break;
		case 2:                                     /* unlink */
			rc = lfs_unlink(p, paths[x]);
			want = !X->type ? -ENOENT : X->type == 'd' ? -EISDIR : 0;
			CHECK_MSG(rc == want, "step %d: unlink %s: %d, want %d", step, paths[x], rc, want);
			if (want == 0)
				X->type = 0;
			break;
		case 3:                                     /* rmdir */
			rc = lfs_rmdir(p, paths[x]);
			want = !X->type ? -ENOENT : X->type == 'f' ? -ENOTDIR : 0;
			CHECK_MSG(rc == want, "step %d: rmdir %s: %d, want %d", step, paths[x], rc, want);
			if (want == 0)
				X->type = 0;
			break;
		case 4:                                     /* link */
			rc = lfs_link(p, paths[x], paths[y]);
			want = !X->type ? -ENOENT : X->type == 'd' ? -EPERM : Y->type ? -EEXIST : 0;
			CHECK_MSG(rc == want, "step %d: link %s %s: %d, want %d", step, paths[x], paths[y],
				  rc, want);
			if (want == 0)
				*Y = *X;
			break;
		default: {                                  /* rename, 3 in 8 */
			unsigned fl = op == 5 ? 0 : op == 6 ? LFS_RENAME_NOREPLACE : LFS_RENAME_EXCHANGE;
			if (x == y)
				break;
			rc = lfs_rename(p, paths[x], paths[y], fl);
			if (!X->type)
				want = -ENOENT;
			else if (fl == LFS_RENAME_EXCHANGE)
				want = Y->type ? 0 : -ENOENT;
			else if (fl == LFS_RENAME_NOREPLACE)
				want = Y->type ? -EEXIST : 0;
			else if (!Y->type || Y->ino == X->ino)
				want = 0;
			else if (X->type == 'd' && Y->type == 'f')
				want = -ENOTDIR;
			else if (X->type == 'f' && Y->type == 'd')
				want = -EISDIR;
			else
				want = 0;       /* file over file, empty dir over empty dir */
			CHECK_MSG(rc == want, "step %d: rename(%u) %s %s: %d, want %d", step, fl, paths[x],
				  paths[y], rc, want);
			if (want == 0) {
				if (fl == LFS_RENAME_EXCHANGE) {
					struct ent t = *X;
					*X = *Y;
					*Y = t;
				} else if (Y->type && Y->ino == X->ino) {
					/* hard links of one inode: nothing changes */
				} else {
					*Y = *X;
					X->type = 0;
				}
			}
			break;
		}
		}
		check_all(p, model, step);
		if (t_cur.failed)
			return;
		/* every live inode has as many links as the model has names */
		if (X->type == 'f') {
			struct lfs_stat st;
			CHECK(lfs_lstat(p, paths[x], &st) == 0);
			CHECK_MSG((int)st.nlink == nlinks(model, X->ino), "step %d: nlink of %s", step,
				  paths[x]);
		}
	}
	lfs_proc_free(p);
	CHECK_MSG(lfs_umount(m, &e) == 0, "%s", e.msg);
	/* a fresh mount (empty cache) sees the same namespace */
	CHECK_MSG(lfs_mount(img, NULL, &m, &e) == 0, "%s", e.msg);
	p = lfs_proc_new(m);
	check_all(p, model, steps);
	if (t_cur.failed)
		return;
	UMOUNT_RM(img, m, p);
}

/* The simple cases spelled out: each op right after the names involved
 * were looked up (so cached, present or absent). */
TEST(each_op_over_cached_names)
{
	char img[64];
	struct lfs_mount *m;
	struct lfs_proc *p;
	FRESH_MOUNT("dcache-ops", img, m, p);
	struct lfs_stat st;
	CHECK_EQ(lfs_lstat(p, "/f", &st), -ENOENT);        /* negative entry */
	int fd = lfs_open(p, "/f", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	lfs_close(p, fd);
	CHECK_EQ(lfs_lstat(p, "/f", &st), 0);              /* create replaced it */
	uint64_t f = st.ino;
	CHECK_EQ(lfs_lstat(p, "/g", &st), -ENOENT);
	CHECK_EQ(lfs_rename(p, "/f", "/g", 0), 0);
	CHECK_EQ(lfs_lstat(p, "/f", &st), -ENOENT);        /* the source name is gone */
	CHECK_EQ(lfs_lstat(p, "/g", &st), 0);
	CHECK_EQ(st.ino, f);
	CHECK_EQ(lfs_link(p, "/g", "/f"), 0);
	CHECK_EQ(lfs_lstat(p, "/f", &st), 0);
	CHECK_EQ(st.ino, f);
	CHECK_EQ(lfs_unlink(p, "/g"), 0);
	CHECK_EQ(lfs_lstat(p, "/g", &st), -ENOENT);        /* the inode lives on as /f */
	CHECK_EQ(lfs_mkdir(p, "/d", 0755), 0);
	CHECK_EQ(lfs_lstat(p, "/d", &st), 0);
	uint64_t d = st.ino;
	CHECK_EQ(lfs_rename(p, "/f", "/d", LFS_RENAME_EXCHANGE), 0);
	CHECK_EQ(lfs_lstat(p, "/d", &st), 0);
	CHECK_EQ(st.ino, f);
	CHECK_EQ(lfs_lstat(p, "/f", &st), 0);
	CHECK_EQ(st.ino, d);
	CHECK_EQ(lfs_rename(p, "/d", "/f", LFS_RENAME_NOREPLACE), -EEXIST);
	CHECK_EQ(lfs_lstat(p, "/d", &st), 0);
	CHECK_EQ(st.ino, f);
	CHECK_EQ(lfs_rmdir(p, "/f"), 0);
	CHECK_EQ(lfs_lstat(p, "/f", &st), -ENOENT);
	CHECK_EQ(lfs_rename(p, "/d", "/f", LFS_RENAME_NOREPLACE), 0);
	CHECK_EQ(lfs_lstat(p, "/d", &st), -ENOENT);
	CHECK_EQ(lfs_lstat(p, "/f", &st), 0);
	CHECK_EQ(st.ino, f);
	UMOUNT_RM(img, m, p);
}

/* More names than the cache has slots: evictions and collisions between
 * positive and negative entries never give a wrong answer. */
TEST(more_names_than_slots)
{
	char img[64], path[64];
	struct lfs_mount *m;
	struct lfs_proc *p;
	FRESH_MOUNT("dcache-big", img, m, p);
	CHECK(lfs_mkdir(p, "/d", 0755) == 0);
	enum { N = 10000 };
	struct lfs_stat st;
	for (int i = 0; i < N; i += 2) {               /* even names exist */
		snprintf(path, sizeof path, "/d/n%d", i);
		CHECK(lfs_lstat(p, path, &st) == -ENOENT);  /* a negative entry first */
		int fd = lfs_open(p, path, O_CREAT | O_EXCL | O_WRONLY, 0644);
		CHECK(fd >= 0);
		lfs_close(p, fd);
	}
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N; i++) {
			snprintf(path, sizeof path, "/d/n%d", i);
			int rc = lfs_lstat(p, path, &st);
			CHECK_MSG(rc == (i % 2 ? -ENOENT : 0), "round %d: %s: %d", round, path, rc);
		}
	for (int i = 0; i < N; i += 4) {               /* drop every other one, rename odd ones in */
		snprintf(path, sizeof path, "/d/n%d", i);
		CHECK(lfs_unlink(p, path) == 0);
	}
	for (int i = 2; i < N; i += 4) {
		char to[64];
		snprintf(path, sizeof path, "/d/n%d", i);
		snprintf(to, sizeof to, "/d/n%d", i + 1);
		CHECK(lfs_rename(p, path, to, 0) == 0);
	}
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof path, "/d/n%d", i);
		int rc = lfs_lstat(p, path, &st);
		CHECK_MSG(rc == (i % 4 == 3 ? 0 : -ENOENT), "%s: %d", path, rc);
	}
	UMOUNT_RM(img, m, p);
}

static int put_dentry(struct lfs_kv *kv, uint64_t dir, const char *name, uint64_t ino, int del)
{
	uint8_t k[LFS_FS_KEY_MAX], v[LFS_FS_DENTRY_VLEN];
	int kl = lfs_fs_key_dentry(k, dir, name, strlen(name));
	if (kl < 0)
		return kl;
	struct lfs_kv_batch *b = lfs_kv_batch_new();
	if (!b)
		return -ENOMEM;
	int rc;
	if (del) {
		rc = lfs_kv_batch_del(b, k, (size_t)kl);
	} else {
		struct lfs_fs_dentry d = { .ino = ino, .type = 8 /* DT_REG */ };
		lfs_fs_dentry_encode(&d, v);
		rc = lfs_kv_batch_put(b, k, (size_t)kl, v, sizeof v);
	}
	if (rc == 0)
		rc = lfs_kv_commit(kv, b, 0, NULL);
	lfs_kv_batch_free(b);
	return rc;
}

/* The KV handle lent out (lfs_mount_kv, as fsck and compact borrow it):
 * what is written to it directly is what the next lookups see. */
TEST(direct_kv_writes_while_lent)
{
	char img[64];
	struct lfs_mount *m;
	struct lfs_proc *p;
	FRESH_MOUNT("dcache-lent", img, m, p);
	int fd = lfs_open(p, "/x", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	lfs_close(p, fd);
	struct lfs_stat st;
	CHECK(lfs_lstat(p, "/x", &st) == 0);          /* cached: present */
	CHECK(lfs_lstat(p, "/y", &st) == -ENOENT);    /* cached: absent */
	CHECK(lfs_lstat(p, "/x", &st) == 0);
	uint64_t ino = st.ino;
	struct lfs_kv *kv = lfs_mount_kv(m);
	CHECK(put_dentry(kv, LFS_FS_ROOT_INO, "x", 0, 1) == 0);     /* /x -> /y behind the cache's back */
	CHECK(put_dentry(kv, LFS_FS_ROOT_INO, "y", ino, 0) == 0);
	CHECK_EQ(lfs_lstat(p, "/x", &st), -ENOENT);
	CHECK_EQ(lfs_lstat(p, "/y", &st), 0);
	CHECK_EQ(st.ino, ino);
	UMOUNT_RM(img, m, p);
}

static uint64_t kv_reads(struct lfs_mount *m)
{
	struct lfs_stats s;
	lfs_mount_stats(m, &s);
	return s.io.reads;
}

/* Names created in a directory this mount made are known absent without a
 * KV query (no negative lookup per create); a name written behind the
 * cache's back while the handle is lent out is seen afterwards. */
TEST(new_directory_asks_kv_nothing)
{
	char img[64], path[64];
	struct lfs_mount *m;
	struct lfs_proc *p;
	FRESH_MOUNT("dcache-new", img, m, p);
	CHECK(lfs_mkdir(p, "/c", 0755) == 0);
	CHECK(lfs_mkdir(p, "/c/sub", 0755) == 0);
	struct lfs_stat st;
	uint64_t before = kv_reads(m);
	for (int i = 0; i < 200; i++) {
		snprintf(path, sizeof path, "/c/sub/f%d", i);
		int fd = lfs_open(p, path, O_CREAT | O_EXCL | O_WRONLY, 0644);
		CHECK(fd >= 0);
		lfs_close(p, fd);
	}
	CHECK(lfs_lstat(p, "/c/sub/absent", &st) == -ENOENT);
	CHECK(lfs_lstat(p, "/c/absent", &st) == -ENOENT);
	CHECK_EQ(kv_reads(m), before);
	for (int i = 0; i < 200; i++) {
		snprintf(path, sizeof path, "/c/sub/f%d", i);
		CHECK_MSG(lfs_lstat(p, path, &st) == 0, "%s", path);
	}
	CHECK_EQ(lfs_open(p, "/c/sub/f7", O_CREAT | O_EXCL | O_WRONLY, 0644), -EEXIST);
	/* lent out: a name put directly into /c/sub is found */
	CHECK(lfs_lstat(p, "/c/sub/f0", &st) == 0);
	uint64_t ino = st.ino;
	CHECK(lfs_lstat(p, "/c/sub", &st) == 0);
	struct lfs_kv *kv = lfs_mount_kv(m);
	CHECK(put_dentry(kv, st.ino, "behind", ino, 0) == 0);
	CHECK_EQ(lfs_lstat(p, "/c/sub/behind", &st), 0);
	CHECK_EQ(st.ino, ino);
	UMOUNT_RM(img, m, p);
}

struct unlink_cb { struct lfs_proc *p; int calls, unlinked; };

/* On the first entry, remove every odd-numbered name (most not read yet). */
static int unlink_odd_cb(void *arg, const struct lfs_dirent *de)
{
	struct unlink_cb *u = arg;
	(void)de;
	if (u->calls++ == 0)
		for (int i = 1; i < 300; i += 2) {
			char path[64];
			snprintf(path, sizeof path, "/d/f%03d", i);
			u->unlinked += lfs_unlink(u->p, path) == 0;
		}
	return 0;
}

TEST(readdir_fills_cache)
{
	char img[64], path[64];
	snprintf(img, sizeof img, "dcache-rd-%d.lfs", (int)getpid());
	unlink(img);
	struct lfs_err e = { 0 };
	CHECK_MSG(lfs_mkfs(img, NULL, &e) == 0, "%s", e.msg);
	for (int pass = 0; pass < 2; pass++) {
		struct lfs_mount *m;
		CHECK_MSG(lfs_mount(img, NULL, &m, &e) == 0, "%s", e.msg);
		struct lfs_proc *p = lfs_proc_new(m);
		struct lfs_stat st;
		if (pass == 0) {
			CHECK(lfs_mkdir(p, "/d", 0755) == 0);
			for (int i = 0; i < 300; i++) {
				snprintf(path, sizeof path, "/d/f%03d", i);
				int fd = lfs_open(p, path, O_CREAT | O_EXCL | O_WRONLY, 0644);
				CHECK(fd >= 0);
				lfs_close(p, fd);
			}
		} else {
			/* a fresh mount: readdir fills the cache, so an lstat asks
			 * KV for the inode and its page count, not the dentry (it
			 * was 3 requests per lstat before) */
			int n = 0;
			CHECK_EQ(lfs_readdir(p, "/d", count_cb, &n), 0);
			CHECK_EQ(n, 300);
			struct lfs_stats a, b;
			lfs_mount_stats(m, &a);
			for (int i = 0; i < 300; i++) {
				snprintf(path, sizeof path, "/d/f%03d", i);
				CHECK(lfs_lstat(p, path, &st) == 0);
			}
			lfs_mount_stats(m, &b);
			CHECK_MSG(b.io.reads - a.io.reads <= 2 * 300 + 20, "%llu reads for 300 lstats",
				  (unsigned long long)(b.io.reads - a.io.reads));
			/* a callback removing names not read yet: none of them
			 * comes back from the cache */
			struct unlink_cb u = { p, 0, 0 };
			CHECK_EQ(lfs_readdir(p, "/d", unlink_odd_cb, &u), 0);
			CHECK_EQ(u.unlinked, 150);
			for (int i = 0; i < 300; i++) {
				snprintf(path, sizeof path, "/d/f%03d", i);
				CHECK_MSG(lfs_lstat(p, path, &st) == (i % 2 ? -ENOENT : 0), "%s", path);
			}
		}
		lfs_proc_free(p);
		CHECK_MSG(lfs_umount(m, &e) == 0, "%s", e.msg);
	}
	unlink(img);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, each_op_over_cached_names, random_namespace_ops, more_names_than_slots,
			 direct_kv_writes_while_lent, new_directory_asks_kv_nothing, readdir_fills_cache);
}
