/*
 * tests/unit/test_fs_fsck.c — lib/fs/fsck: build an image through the fs
 * API, damage it with raw KV operations (or flipped bytes in the file),
 * and check that fsck names exactly the damage, that --repair fixes it,
 * that a second fsck is clean and that every undamaged file is byte-identical.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fs/fs.h"
#include "fs/fsck.h"
#include "fs/schema.h"
#include "kv/kv.h"

#define PSZ 4096u

static char g_img[256];

struct img {
	struct lfs_kv *kv;
	struct lfs_fs *fs;
};

/* the tree every test starts from */
struct tfile { const char *path; size_t len; uint8_t *data; uint64_t ino; };
static struct tfile files[] = {
	{ "/a", 10000, NULL, 0 },
	{ "/d/b", 5000, NULL, 0 },
	{ "/d/e/c", 3 * PSZ, NULL, 0 },
	{ "/d/e/f", 1, NULL, 0 },
	{ "/g", 0, NULL, 0 },
	{ "/h", 9000, NULL, 0 },
};
#define NFILES (sizeof files / sizeof files[0])
static uint64_t ino_d, ino_e, ino_l, ino_h2_dir;

static int img_open(struct img *im, int create)
{
	struct lfs_kv_opts o = { .mode = create ? LFS_KV_CREATE : LFS_KV_RDWR };
	memset(im, 0, sizeof *im);
	int rc = lfs_kv_open(g_img, &o, &im->kv, NULL);
	if (rc < 0)
		return rc;
	if (create && (rc = lfs_fs_mkfs(im->kv, PSZ, 0, 0, "fscktest", NULL)) < 0)
		return rc;
	return lfs_fs_mount(im->kv, 0, &im->fs, NULL);
}

static void img_close(struct img *im)
{
	if (im->fs) {
		lfs_fs_commit(im->fs, 1);
		lfs_fs_free(im->fs);
	}
	if (im->kv)
		lfs_kv_close(im->kv);
	memset(im, 0, sizeof *im);
}

static int write_file(struct lfs_fs *fs, uint64_t ino, const uint8_t *data, size_t n)
{
	int rc;
	for (size_t off = 0; off < n; off += PSZ) {
		size_t l = n - off < PSZ ? n - off : PSZ;
		if ((rc = lfs_fs_stage_page(fs, ino, off / PSZ, data + off, l)) < 0)
			return rc;
	}
	struct lfs_fs_inode in;
	if ((rc = lfs_fs_iget(fs, ino, &in)) < 0)
		return rc;
	in.size = n;
	if ((rc = lfs_fs_stage_inode(fs, ino, &in)) < 0)
		return rc;
	return lfs_fs_commit(fs, 1);
}

/* Resolve an absolute path (no symlinks). */
static int resolve(struct lfs_fs *fs, const char *path, uint64_t *ino)
{
	uint64_t cur = LFS_FS_ROOT_INO;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		struct lfs_fs_dentry d;
		int rc = lfs_fs_lookup(fs, cur, p, l, &d);
		if (rc < 0)
			return rc;
		cur = d.ino;
		p += l;
	}
	*ino = cur;
	return 0;
}

/* Read the whole file; 0 and *n, or < 0. */
static int read_all(struct lfs_fs *fs, uint64_t ino, uint8_t **out, size_t *n)
{
	struct lfs_fs_inode in;
	int rc = lfs_fs_iget(fs, ino, &in);
	if (rc < 0)
		return rc;
	uint8_t *buf = malloc(in.size + PSZ);
	if (!buf)
		return -ENOMEM;
	for (uint64_t off = 0; off < in.size; off += PSZ) {
		rc = lfs_fs_read_page(fs, ino, off / PSZ, buf + off);
		if (rc < 0) {
			free(buf);
			return rc;
		}
	}
	*out = buf;
	*n = in.size;
	return 0;
}

static int same_file(struct lfs_fs *fs, const char *path, const uint8_t *data, size_t len)
{
	uint64_t ino;
	uint8_t *buf = NULL;
	size_t n = 0;
	if (resolve(fs, path, &ino) < 0 || read_all(fs, ino, &buf, &n) < 0)
		return 0;
	int ok = n == len && (!len || !memcmp(buf, data, len));
	free(buf);
	return ok;
}

static void build(void)
{
	struct img im;
	unlink(g_img);
	if (img_open(&im, 1) < 0) {
		printf("build: cannot create %s\n", g_img);
		exit(1);
	}
	struct lfs_fs *fs = im.fs;
	lfs_fs_create(fs, 1, "d", 1, S_IFDIR | 0755, NULL, &ino_d);
	lfs_fs_create(fs, ino_d, "e", 1, S_IFDIR | 0755, NULL, &ino_e);
	lfs_fs_create(fs, 1, "empty", 5, S_IFDIR | 0755, NULL, &ino_h2_dir);
	for (size_t i = 0; i < NFILES; i++) {
		const char *slash = strrchr(files[i].path, '/');
		uint64_t dir = LFS_FS_ROOT_INO;
		if (slash != files[i].path) {
			char d[64];
			snprintf(d, sizeof d, "%.*s", (int)(slash - files[i].path), files[i].path);
			resolve(fs, d, &dir);
		}
		lfs_fs_create(fs, dir, slash + 1, strlen(slash + 1), S_IFREG | 0644, NULL, &files[i].ino);
		write_file(fs, files[i].ino, files[i].data, files[i].len);
	}
	lfs_fs_create(fs, 1, "l", 1, S_IFLNK | 0777, "d/b", &ino_l);
	lfs_fs_link(fs, files[0].ino, ino_d, "alink", 5);   /* /d/alink = /a */
	img_close(&im);
}

static int run_fsck(int repair, struct lfs_fsck_report *r)
{
	struct lfs_kv_opts o = { .mode = repair ? LFS_KV_RDWR : LFS_KV_RDONLY };
	struct lfs_kv *kv;
	int rc = lfs_kv_open(g_img, &o, &kv, NULL);
	if (rc < 0)
		return rc;
	struct lfs_fsck_opts fo = { .repair = repair };
	rc = lfs_fsck(kv, &fo, r, NULL);
	lfs_kv_close(kv);
	return rc;
}

static int count(const struct lfs_fsck_report *r, int kind)
{
	int n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += r->v[i].kind == kind;
	return n;
}

static const struct lfs_fsck_problem *first(const struct lfs_fsck_report *r, int kind)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].kind == kind)
			return &r->v[i];
	return NULL;
}

static void dump(const struct lfs_fsck_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		printf("  # %s: %s (%s)%s\n", lfs_fsck_kind_name(r->v[i].kind), r->v[i].msg, r->v[i].key,
		       r->v[i].fixed ? " [fixed]" : "");
}

/* fsck --repair ran without errors (r is kept for more checks) */
static void check_repaired(struct lfs_fsck_report *r)
{
	CHECK_EQ(run_fsck(1, r), 0);
	if (r->errors)
		dump(r);
	CHECK_EQ(r->errors, 0);
}

/* a read-only fsck finds nothing */
static void check_clean(void)
{
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	if (r.n)
		dump(&r);
	int n = (int)r.n;
	lfs_fsck_report_free(&r);
	CHECK_EQ(n, 0);
}

/* in a TEST: return from it when the check failed */
#define CHECK_REPAIRED(r) do { check_repaired(r); if (t_cur.failed) return; } while (0)
#define CHECK_CLEAN() do { check_clean(); if (t_cur.failed) return; } while (0)

/* Every file of the tree except those named in skip is intact at its path. */
static int tree_intact(const char *const *skip)
{
	struct img im;
	if (img_open(&im, 0) < 0)
		return 0;
	int ok = 1;
	for (size_t i = 0; i < NFILES; i++) {
		int sk = 0;
		for (const char *const *s = skip; s && *s; s++)
			sk |= !strcmp(*s, files[i].path);
		if (!sk && !same_file(im.fs, files[i].path, files[i].data, files[i].len)) {
			printf("  # %s differs or is missing\n", files[i].path);
			ok = 0;
		}
	}
	img_close(&im);
	return ok;
}

/* Raw KV damage helpers (a handle of their own, closed after). */
static struct lfs_kv *raw(void)
{
	struct lfs_kv_opts o = { .mode = LFS_KV_RDWR };
	struct lfs_kv *kv = NULL;
	lfs_kv_open(g_img, &o, &kv, NULL);
	return kv;
}

static void raw_dentry(uint64_t dir, const char *name, uint64_t ino, uint8_t type)
{
	struct lfs_kv *kv = raw();
	uint8_t k[LFS_FS_KEY_MAX], v[LFS_FS_DENTRY_VLEN];
	int kl = lfs_fs_key_dentry(k, dir, name, strlen(name));
	struct lfs_fs_dentry d = { .ino = ino, .type = type };
	lfs_fs_dentry_encode(&d, v);
	lfs_kv_put(kv, k, (size_t)kl, v, sizeof v, NULL);
	lfs_kv_close(kv);
}

static void raw_del_dentry(uint64_t dir, const char *name)
{
	struct lfs_kv *kv = raw();
	uint8_t k[LFS_FS_KEY_MAX];
	int kl = lfs_fs_key_dentry(k, dir, name, strlen(name));
	lfs_kv_del(kv, k, (size_t)kl, NULL);
	lfs_kv_close(kv);
}

static void raw_inode_edit(uint64_t ino, int nlink_delta, int64_t size)
{
	struct lfs_kv *kv = raw();
	uint8_t k[LFS_FS_INODE_KLEN], v[LFS_FS_INODE_VMAX];
	size_t vl;
	struct lfs_fs_inode in;
	lfs_kv_get_into(kv, k, lfs_fs_key_inode(k, ino), v, sizeof v, &vl, NULL);
	lfs_fs_inode_decode(v, vl, &in);
	in.nlink = (uint32_t)((int)in.nlink + nlink_delta);
	if (size >= 0)
		in.size = (uint64_t)size;
	vl = lfs_fs_inode_encode(&in, v);
	lfs_kv_put(kv, k, LFS_FS_INODE_KLEN, v, vl, NULL);
	lfs_kv_close(kv);
}

struct findop { const uint8_t *key; size_t klen; uint64_t off; };
static int find_cb(void *arg, const struct lfs_kv_rec *r)
{
	struct findop *f = arg;
	if (r->kind == LFS_KV_REC_PUT && r->klen == f->klen && !memcmp(r->key, f->key, f->klen))
		f->off = r->offset + 16 + r->klen;   /* the value's first byte */
	return 0;
}

/* Flip one byte inside the stored value of key (its latest PUT) in the file. */
static int flip_value(const uint8_t *key, size_t klen, size_t at)
{
	struct lfs_kv *kv = raw();
	struct findop f = { key, klen, 0 };
	if (!kv)
		return -1;
	lfs_kv_walk(kv, find_cb, &f, NULL);
	lfs_kv_close(kv);
	if (!f.off)
		return -1;
	int fd = open(g_img, O_RDWR);
	uint8_t b;
	if (fd < 0 || pread(fd, &b, 1, (off_t)(f.off + at)) != 1)
		return -1;
	b ^= 0x5a;
	int rc = pwrite(fd, &b, 1, (off_t)(f.off + at)) == 1 ? 0 : -1;
	close(fd);
	return rc;
}

/* ---------------------------------------------------------------- tests */

TEST(clean_image)
{
	build();
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	if (r.n)
		dump(&r);
	CHECK_EQ(r.n, 0);
	CHECK_EQ(r.errors, 0);
	CHECK_EQ(r.files, NFILES);
	CHECK_EQ(r.dirs, 4);
	CHECK_EQ(r.symlinks, 1);
	CHECK_EQ(r.page_size, PSZ);
	lfs_fsck_report_free(&r);
	CHECK(tree_intact(NULL));
}

TEST(dangling_dentry)
{
	build();
	raw_dentry(ino_d, "ghost", 999, DT_REG);
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(r.n, 1);
	CHECK_EQ(r.v[0].kind, LFS_FSCK_DANGLING);
	CHECK_EQ(r.v[0].parent, ino_d);
	CHECK(!strcmp(r.v[0].name, "ghost"));
	CHECK_EQ(r.v[0].ino, 999);
	CHECK_EQ(r.errors, 1);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(1, &r), 0);
	CHECK_EQ(r.fixed, 1);
	CHECK_EQ(r.errors, 0);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(r.n, 0);
	lfs_fsck_report_free(&r);
	CHECK(tree_intact(NULL));
}

TEST(wrong_nlink)
{
	build();
	raw_inode_edit(files[1].ino, +4, -1);   /* /d/b: 1 -> 5 */
	raw_inode_edit(ino_d, -1, -1);          /* /d: 3 -> 2 */
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	if (r.n != 2)
		dump(&r);
	CHECK_EQ(r.n, 2);
	CHECK_EQ(count(&r, LFS_FSCK_NLINK), 2);
	for (size_t i = 0; i < r.n; i++) {
		if (r.v[i].ino == files[1].ino) {
			CHECK_EQ(r.v[i].have, 5);
			CHECK_EQ(r.v[i].want, 1);
		} else {
			CHECK_EQ(r.v[i].ino, ino_d);
			CHECK_EQ(r.v[i].have, 2);
			CHECK_EQ(r.v[i].want, 3);
		}
	}
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(1, &r), 0);
	CHECK_EQ(r.fixed, 2);
	CHECK_EQ(r.errors, 0);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(r.n, 0);
	lfs_fsck_report_free(&r);
	CHECK(tree_intact(NULL));
}

TEST(orphan_to_lost_found)
{
	build();
	/* /d/e/c loses its only name: an orphan with data */
	raw_del_dentry(ino_e, "c");
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	if (r.n != 1)
		dump(&r);
	CHECK_EQ(r.n, 1);
	CHECK_EQ(r.v[0].kind, LFS_FSCK_UNREACHABLE);
	CHECK_EQ(r.v[0].ino, files[2].ino);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(1, &r), 0);
	CHECK_EQ(r.errors, 0);
	CHECK(r.fixed >= 1);
	lfs_fsck_report_free(&r);
	CHECK_CLEAN();
	const char *skip[] = { "/d/e/c", NULL };
	CHECK(tree_intact(skip));
	struct img im;
	CHECK_EQ(img_open(&im, 0), 0);
	char p[64];
	snprintf(p, sizeof p, "/lost+found/#%llu", (unsigned long long)files[2].ino);
	int same = same_file(im.fs, p, files[2].data, files[2].len);
	struct lfs_fs_inode root;
	lfs_fs_iget(im.fs, 1, &root);
	img_close(&im);
	CHECK(same);
	CHECK_EQ(root.nlink, 5);   /* d, empty, lost+found */
}

TEST(unlinked_open_orphan)
{
	build();
	struct img im;
	CHECK_EQ(img_open(&im, 0), 0);
	uint64_t ino = 0;
	CHECK_EQ(lfs_fs_unlink(im.fs, 1, "h", 1, 0, 1, &ino), 0);   /* open while unlinked */
	img_close(&im);   /* "crash": never released */
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(r.n, 1);
	CHECK_EQ(r.v[0].kind, LFS_FSCK_ORPHAN_OPEN);
	CHECK_EQ(r.v[0].ino, files[5].ino);
	CHECK_EQ(r.v[0].error, 0);
	CHECK_EQ(r.errors, 0);   /* a note, not an error */
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(1, &r), 0);
	CHECK_EQ(r.fixed, 1);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(r.n, 0);
	CHECK_EQ(r.files, NFILES - 1);
	CHECK_EQ(r.pages, 3 + 2 + 3 + 1);   /* /h's pages are gone */
	lfs_fsck_report_free(&r);
	const char *skip[] = { "/h", NULL };
	CHECK(tree_intact(skip));
}

TEST(page_past_eof)
{
	build();
	struct lfs_kv *kv = raw();
	uint8_t k[LFS_FS_DATA_KLEN], v[100];
	memset(v, 'z', sizeof v);
	lfs_kv_put(kv, k, lfs_fs_key_data(k, files[1].ino, 7), v, sizeof v, NULL);
	lfs_kv_put(kv, k, lfs_fs_key_data(k, ino_d, 0), v, sizeof v, NULL);   /* data of a dir */
	lfs_kv_put(kv, k, lfs_fs_key_data(k, 4242, 0), v, sizeof v, NULL);   /* no inode */
	lfs_kv_close(kv);
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	if (r.n != 3)
		dump(&r);
	CHECK_EQ(r.n, 3);
	CHECK_EQ(count(&r, LFS_FSCK_PAGE_EOF), 1);
	CHECK_EQ(count(&r, LFS_FSCK_PAGE_ORPHAN), 2);
	CHECK_EQ(first(&r, LFS_FSCK_PAGE_EOF)->ino, files[1].ino);
	CHECK_EQ(first(&r, LFS_FSCK_PAGE_EOF)->index, 7);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(1, &r), 0);
	CHECK_EQ(r.fixed, 3);
	CHECK_EQ(r.errors, 0);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(r.n, 0);
	lfs_fsck_report_free(&r);
	CHECK(tree_intact(NULL));
}

TEST(bad_checksum_page)
{
	build();
	uint8_t k[LFS_FS_DATA_KLEN];
	CHECK_EQ(flip_value(k, lfs_fs_key_data(k, files[5].ino, 1), 100), 0);   /* /h page 1 */
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	if (count(&r, LFS_FSCK_BAD_RECORD) != 1)
		dump(&r);
	CHECK_EQ(count(&r, LFS_FSCK_BAD_RECORD), 1);
	CHECK_EQ(first(&r, LFS_FSCK_BAD_RECORD)->ino, files[5].ino);
	CHECK_EQ(first(&r, LFS_FSCK_BAD_RECORD)->index, 1);
	CHECK_EQ(count(&r, LFS_FSCK_DAMAGED_FILE), 1);
	CHECK_EQ(count(&r, LFS_FSCK_LOG), 1);   /* the batch's payload CRC too */
	CHECK_EQ(r.n, 3);
	lfs_fsck_report_free(&r);
	CHECK_REPAIRED(&r);
	CHECK(r.compacted);
	lfs_fsck_report_free(&r);
	CHECK_CLEAN();
	const char *skip[] = { "/h", NULL };
	CHECK(tree_intact(skip));
	/* the damaged file went to lost+found, with a hole where the page was */
	struct img im;
	CHECK_EQ(img_open(&im, 0), 0);
	char p[64];
	uint64_t ino = 0;
	snprintf(p, sizeof p, "/lost+found/#%llu", (unsigned long long)files[5].ino);
	int found = resolve(im.fs, p, &ino) == 0 && ino == files[5].ino;
	int gone = resolve(im.fs, "/h", &ino) == -ENOENT;
	img_close(&im);
	CHECK(found);
	CHECK(gone);
}

TEST(bad_checksum_dir_inode)
{
	build();
	uint8_t k[LFS_FS_INODE_KLEN];
	CHECK_EQ(flip_value(k, lfs_fs_key_inode(k, ino_e), 30), 0);   /* /d/e's inode */
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(count(&r, LFS_FSCK_BAD_RECORD), 1);
	CHECK_EQ(first(&r, LFS_FSCK_BAD_RECORD)->ino, ino_e);
	lfs_fsck_report_free(&r);
	CHECK_REPAIRED(&r);
	lfs_fsck_report_free(&r);
	CHECK_CLEAN();
	CHECK(tree_intact(NULL));   /* the directory was rebuilt in place */
}

TEST(bad_checksum_dentry)
{
	build();
	uint8_t k[LFS_FS_KEY_MAX];
	int kl = lfs_fs_key_dentry(k, ino_d, "b", 1);
	CHECK_EQ(flip_value(k, (size_t)kl, 3), 0);
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(count(&r, LFS_FSCK_BAD_RECORD), 1);
	CHECK_EQ(first(&r, LFS_FSCK_BAD_RECORD)->parent, ino_d);
	CHECK(!strcmp(first(&r, LFS_FSCK_BAD_RECORD)->name, "b"));
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(1, &r), 0);
	CHECK_EQ(r.errors, 0);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(r.n, 0);
	lfs_fsck_report_free(&r);
	const char *skip[] = { "/d/b", NULL };
	CHECK(tree_intact(skip));
	struct img im;
	CHECK_EQ(img_open(&im, 0), 0);
	char p[64];
	snprintf(p, sizeof p, "/lost+found/#%llu", (unsigned long long)files[1].ino);
	int same = same_file(im.fs, p, files[1].data, files[1].len);
	img_close(&im);
	CHECK(same);   /* the file itself was undamaged: all its bytes recovered */
}

TEST(directory_cycle)
{
	build();
	/* /d leaves the root and becomes a child of its own child /d/e */
	raw_del_dentry(1, "d");
	raw_dentry(ino_e, "loop", ino_d, DT_DIR);
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	if (count(&r, LFS_FSCK_CYCLE) != 1)
		dump(&r);
	CHECK_EQ(count(&r, LFS_FSCK_CYCLE), 1);
	CHECK_EQ(first(&r, LFS_FSCK_CYCLE)->ino, ino_d);
	CHECK_EQ(first(&r, LFS_FSCK_CYCLE)->parent, ino_e);
	CHECK_EQ(count(&r, LFS_FSCK_NLINK), 1);   /* the root lost a subdirectory */
	CHECK_EQ(r.n, 2);
	lfs_fsck_report_free(&r);
	CHECK_REPAIRED(&r);
	lfs_fsck_report_free(&r);
	CHECK_CLEAN();
	/* the subtree hangs under lost+found, its files intact */
	struct img im;
	CHECK_EQ(img_open(&im, 0), 0);
	char p[96];
	snprintf(p, sizeof p, "/lost+found/#%llu/e/c", (unsigned long long)ino_d);
	int same = same_file(im.fs, p, files[2].data, files[2].len);
	img_close(&im);
	CHECK(same);
	const char *skip[] = { "/d/b", "/d/e/c", "/d/e/f", NULL };
	CHECK(tree_intact(skip));
}

TEST(misc_records)
{
	build();
	struct lfs_kv *kv = raw();
	lfs_kv_put(kv, "Zjunk", 5, "x", 1, NULL);                 /* not a schema key */
	lfs_kv_put(kv, "I\0\0\0", 4, "x", 1, NULL);                /* short inode key */
	lfs_kv_close(kv);
	raw_dentry(1, "l", ino_l, DT_REG);                         /* wrong type */
	raw_dentry(1, "d2", ino_d, DT_DIR);                        /* second name of a dir */
	raw_dentry(files[0].ino, "x", files[1].ino, DT_REG);       /* under a file */
	raw_inode_edit(ino_l, 0, 99);                              /* symlink size */
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	if (r.n != 6)
		dump(&r);
	CHECK_EQ(count(&r, LFS_FSCK_BAD_KEY), 2);
	CHECK_EQ(count(&r, LFS_FSCK_TYPE), 1);
	CHECK_EQ(count(&r, LFS_FSCK_DIR_LINKS), 1);
	CHECK_EQ(count(&r, LFS_FSCK_BAD_PARENT), 1);
	CHECK_EQ(count(&r, LFS_FSCK_SIZE), 1);
	CHECK_EQ(r.n, 6);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(1, &r), 0);
	CHECK_EQ(r.errors, 0);
	lfs_fsck_report_free(&r);
	CHECK_CLEAN();
	CHECK(tree_intact(NULL));
}

TEST(superblock_and_root)
{
	build();
	struct lfs_kv *kv = raw();
	lfs_kv_put(kv, "S", 1, "garbage", 7, NULL);
	uint8_t k[LFS_FS_INODE_KLEN];
	lfs_kv_del(kv, k, lfs_fs_key_inode(k, 1), NULL);
	lfs_kv_close(kv);
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(count(&r, LFS_FSCK_SUPER), 1);
	CHECK_EQ(count(&r, LFS_FSCK_ROOT), 1);
	lfs_fsck_report_free(&r);
	CHECK_REPAIRED(&r);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(0, &r), 0);
	if (r.n)
		dump(&r);
	CHECK_EQ(r.n, 0);
	CHECK_EQ(r.page_size, PSZ);   /* inferred from the pages */
	lfs_fsck_report_free(&r);
	CHECK(tree_intact(NULL));
	/* the allocator: behind the inodes in use */
	kv = raw();
	struct lfs_fs *fs;
	CHECK_EQ(lfs_fs_mount(kv, 0, &fs, NULL), 0);
	fs->sb.next_ino = 3;
	uint8_t sk[4], sv[LFS_FS_SUPER_VLEN];
	lfs_kv_put(kv, sk, lfs_fs_key_super(sk), sv, lfs_fs_super_encode(&fs->sb, sv), NULL);
	lfs_fs_free(fs);
	lfs_kv_close(kv);
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(r.n, 1);
	CHECK_EQ(r.v[0].kind, LFS_FSCK_NEXT_INO);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(1, &r), 0);
	CHECK_EQ(r.errors, 0);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(r.n, 0);
	lfs_fsck_report_free(&r);
}

/* A file already named lost+found: the orphan goes to lost+found.1. */
TEST(lost_found_name_taken)
{
	build();
	struct img im;
	CHECK_EQ(img_open(&im, 0), 0);
	uint64_t ino;
	CHECK_EQ(lfs_fs_create(im.fs, 1, "lost+found", 10, S_IFREG | 0644, NULL, &ino), 0);
	img_close(&im);
	raw_del_dentry(ino_e, "c");
	struct lfs_fsck_report r;
	CHECK_REPAIRED(&r);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(r.n, 0);
	lfs_fsck_report_free(&r);
	CHECK_EQ(img_open(&im, 0), 0);
	char p[64];
	snprintf(p, sizeof p, "/lost+found.1/#%llu", (unsigned long long)files[2].ino);
	int same = same_file(im.fs, p, files[2].data, files[2].len);
	img_close(&im);
	CHECK(same);
}

/* Regression (corruption campaign): with the superblock damaged too, the
 * repair's later passes stopped reading data, kept the damaged page and the
 * final compaction failed on it. */
TEST(superblock_and_page_damaged)
{
	build();
	uint8_t k[LFS_FS_DATA_KLEN], sk[4];
	CHECK_EQ(flip_value(k, lfs_fs_key_data(k, files[5].ino, 0), 10), 0);
	CHECK_EQ(flip_value(sk, lfs_fs_key_super(sk), 20), 0);
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(count(&r, LFS_FSCK_SUPER), 1);
	CHECK_EQ(count(&r, LFS_FSCK_BAD_RECORD), 1);
	lfs_fsck_report_free(&r);
	CHECK_REPAIRED(&r);
	lfs_fsck_report_free(&r);
	CHECK_EQ(run_fsck(0, &r), 0);
	if (r.n)
		dump(&r);
	CHECK_EQ(r.n, 0);
	CHECK_EQ(r.page_size, PSZ);
	lfs_fsck_report_free(&r);
	const char *skip[] = { "/h", NULL };
	CHECK(tree_intact(skip));
}

/* Regression (corruption campaign, seed 91166 case 40): a salvage marks an
 * empty file suspect (an oversized page far past its end: a batch of it was
 * damaged where its keys could not be told).  Repair detached it and left
 * lost+found to the orphan step, which then freed it as an empty orphan: the
 * undamaged file was gone.  It must land in lost+found, still empty. */
TEST(suspect_empty_file_to_lost_found)
{
	build();
	uint64_t g = files[4].ino;   /* /g, empty */
	struct lfs_kv *kv = raw();
	CHECK(kv != NULL);
	uint8_t k[LFS_FS_DATA_KLEN];
	static uint8_t big[LFS_FS_PAGE_MAX + 1];
	CHECK_EQ(lfs_kv_put(kv, k, lfs_fs_key_data(k, g, UINT64_MAX - 1), big, sizeof big, NULL), 0);
	lfs_kv_close(kv);
	struct lfs_fsck_report r;
	CHECK_EQ(run_fsck(0, &r), 0);
	CHECK_EQ(count(&r, LFS_FSCK_DAMAGED_FILE), 1);
	lfs_fsck_report_free(&r);
	CHECK_REPAIRED(&r);
	lfs_fsck_report_free(&r);
	CHECK_CLEAN();
	const char *skip[] = { "/g", NULL };
	CHECK(tree_intact(skip));
	struct img im;
	CHECK_EQ(img_open(&im, 0), 0);
	char p[64];
	uint64_t ino = 0;
	snprintf(p, sizeof p, "/lost+found/#%llu", (unsigned long long)g);
	int found = resolve(im.fs, p, &ino) == 0 && ino == g;
	int gone = resolve(im.fs, "/g", &ino) == -ENOENT;
	img_close(&im);
	CHECK(found);
	CHECK(gone);
}

/* Random raw damage: whatever it is, repair converges and a second check is clean. */
TEST(random_damage_converges)
{
	uint64_t seed = seed_from_env("random_damage_converges");
	srand((unsigned)seed);
	int rounds = 30;
	for (int round = 0; round < rounds; round++) {
		build();
		struct lfs_kv *kv = raw();
		/* collect the keys */
		uint8_t keys[64][LFS_FS_KEY_MAX];
		size_t kls[64], nk = 0;
		struct lfs_kv_iter *it = lfs_kv_iter_new(kv, NULL, 0, NULL, 0);
		for (; lfs_kv_iter_valid(it) && nk < 64; lfs_kv_iter_next(it)) {
			const void *kp = lfs_kv_iter_key(it, &kls[nk]);
			memcpy(keys[nk], kp, kls[nk]);
			nk++;
		}
		lfs_kv_iter_free(it);
		int ops = 1 + rand() % 4;
		for (int o = 0; o < ops; o++) {
			size_t i = (size_t)rand() % nk;
			uint8_t v[200];
			size_t vl = (size_t)rand() % sizeof v;
			switch (rand() % 4) {
			case 0: lfs_kv_del(kv, keys[i], kls[i], NULL); break;
			case 1:  /* garbage value */
				for (size_t j = 0; j < vl; j++)
					v[j] = (uint8_t)rand();
				lfs_kv_put(kv, keys[i], kls[i], v, vl, NULL);
				break;
			case 2: {  /* a dentry to a random existing inode */
				size_t j = (size_t)rand() % nk;
				if (keys[j][0] == 'I' && kls[j] == 9) {
					char name[16];
					snprintf(name, sizeof name, "r%d", rand() % 100);
					uint64_t dirs[] = { 1, ino_d, ino_e, files[0].ino };
					struct lfs_fs_dentry d = { .ino = lfs_be64_get(keys[j] + 1),
						.type = (uint8_t)(rand() % 2 ? DT_DIR : DT_REG) };
					uint8_t dk[LFS_FS_KEY_MAX], dv[LFS_FS_DENTRY_VLEN];
					int dkl = lfs_fs_key_dentry(dk, dirs[rand() % 4], name, strlen(name));
					lfs_fs_dentry_encode(&d, dv);
					lfs_kv_put(kv, dk, (size_t)dkl, dv, sizeof dv, NULL);
				}
				break;
			}
			default:  /* change a byte of a valid inode record (re-checksummed) */
				if (keys[i][0] == 'I') {
					uint8_t iv[LFS_FS_INODE_VMAX];
					size_t ivl;
					struct lfs_fs_inode in;
					if (lfs_kv_get_into(kv, keys[i], kls[i], iv, sizeof iv, &ivl, NULL) == 0 &&
					    lfs_fs_inode_decode(iv, ivl, &in) == 0) {
						in.nlink = (uint32_t)(rand() % 4);
						in.size = (uint64_t)(rand() % 20000);
						ivl = lfs_fs_inode_encode(&in, iv);
						lfs_kv_put(kv, keys[i], kls[i], iv, ivl, NULL);
					}
				}
			}
		}
		lfs_kv_close(kv);
		struct lfs_fsck_report r;
		CHECK_EQ(run_fsck(1, &r), 0);
		int left = r.errors;
		if (left) {
			printf("  # round %d: %d left after repair\n", round, left);
			dump(&r);
		}
		lfs_fsck_report_free(&r);
		CHECK_EQ(left, 0);
		CHECK_EQ(run_fsck(0, &r), 0);
		if (r.n) {
			printf("  # round %d: not clean after repair\n", round);
			dump(&r);
		}
		CHECK_EQ(r.n, 0);
		lfs_fsck_report_free(&r);
	}
}

int main(int argc, char **argv)
{
	snprintf(g_img, sizeof g_img, "%s/test_fs_fsck.%d.img", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid());
	uint32_t x = 12345;
	for (size_t i = 0; i < NFILES; i++) {
		files[i].data = malloc(files[i].len + 1);
		for (size_t j = 0; j < files[i].len; j++) {
			x = x * 1103515245u + 12345u;
			files[i].data[j] = (uint8_t)(x >> 16);
		}
	}
	int rc = RUN_TESTS(argc, argv, clean_image, dangling_dentry, wrong_nlink, orphan_to_lost_found,
			   unlinked_open_orphan, page_past_eof, bad_checksum_page, bad_checksum_dir_inode,
			   bad_checksum_dentry, directory_cycle, misc_records, superblock_and_root,
			   lost_found_name_taken, superblock_and_page_damaged, suspect_empty_file_to_lost_found,
			   random_damage_converges);
	for (size_t i = 0; i < NFILES; i++)
		free(files[i].data);
	unlink(g_img);
	char c[300];
	snprintf(c, sizeof c, "%s.compact~", g_img);
	unlink(c);
	return rc;
}
