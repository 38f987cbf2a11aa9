/* lib/fs/fs.c — the LightFS layer over the KV engine (see fs.h). */
#include "fs/fs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t lfs_fs_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint8_t mode_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return DT_DIR;
	case S_IFLNK: return DT_LNK;
	case S_IFREG: return DT_REG;
	case S_IFIFO: return DT_FIFO;
	case S_IFCHR: return DT_CHR;
	case S_IFBLK: return DT_BLK;
	case S_IFSOCK: return DT_SOCK;
	default: return DT_UNKNOWN;
	}
}

static struct lfs_kv_batch *B(struct lfs_fs *fs)
{
	if (!fs->b)
		fs->b = lfs_kv_batch_new();
	return fs->b;
}

int lfs_fs_commit(struct lfs_fs *fs, int sync)
{
	int rc = 0;
	if (fs->b && lfs_kv_batch_count(fs->b)) {
		rc = lfs_kv_commit(fs->kv, fs->b, sync, NULL);
		lfs_kv_batch_clear(fs->b);
	} else if (sync) {
		rc = lfs_kv_sync(fs->kv, NULL);
	}
	return rc;
}

static int stage_super(struct lfs_fs *fs)
{
	uint8_t k[4], v[LFS_FS_SUPER_VLEN];
	size_t kl = lfs_fs_key_super(k), vl = lfs_fs_super_encode(&fs->sb, v);
	if (!B(fs))
		return -ENOMEM;
	return lfs_kv_batch_put(fs->b, k, kl, v, vl);
}

int lfs_fs_stage_inode(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in)
{
	uint8_t k[LFS_FS_INODE_KLEN];
	uint8_t *v = malloc(LFS_FS_INODE_VMAX);
	if (!v || !B(fs)) {
		free(v);
		return -ENOMEM;
	}
	in->generation++;
	size_t vl = lfs_fs_inode_encode(in, v);
	int rc = lfs_kv_batch_put(fs->b, k, lfs_fs_key_inode(k, ino), v, vl);
	free(v);
	return rc;
}

int lfs_fs_stage_page(struct lfs_fs *fs, uint64_t ino, uint64_t idx, const void *buf, size_t len)
{
	uint8_t k[LFS_FS_DATA_KLEN];
	if (!B(fs))
		return -ENOMEM;
	return lfs_kv_batch_put(fs->b, k, lfs_fs_key_data(k, ino, idx), buf, len);
}

static int stage_dentry(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
			uint64_t ino, uint8_t type)
{
	uint8_t k[LFS_FS_KEY_MAX], v[LFS_FS_DENTRY_VLEN];
	int kl = lfs_fs_key_dentry(k, dir, name, nlen);
	if (kl < 0)
		return kl;
	struct lfs_fs_dentry d = { .ino = ino, .type = type };
	lfs_fs_dentry_encode(&d, v);
	if (!B(fs))
		return -ENOMEM;
	return lfs_kv_batch_put(fs->b, k, (size_t)kl, v, sizeof v);
}

static int stage_dentry_del(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen)
{
	uint8_t k[LFS_FS_KEY_MAX];
	int kl = lfs_fs_key_dentry(k, dir, name, nlen);
	if (kl < 0)
		return kl;
	if (!B(fs))
		return -ENOMEM;
	return lfs_kv_batch_del(fs->b, k, (size_t)kl);
}

static int stage_data_drop(struct lfs_fs *fs, uint64_t ino, uint64_t from)
{
	uint8_t lo[LFS_FS_DATA_KLEN], hi[LFS_FS_DATA_KLEN];
	lfs_fs_key_data(lo, ino, from);
	lfs_fs_key_data_prefix(hi, ino + 1);
	if (!B(fs))
		return -ENOMEM;
	return lfs_kv_batch_del_range(fs->b, lo, sizeof lo, hi, 9);
}

static int stage_inode_del(struct lfs_fs *fs, uint64_t ino)
{
	uint8_t k[LFS_FS_INODE_KLEN];
	int rc = stage_data_drop(fs, ino, 0);
	if (rc < 0)
		return rc;
	return lfs_kv_batch_del(fs->b, k, lfs_fs_key_inode(k, ino));
}

int lfs_fs_mkfs(struct lfs_kv *kv, uint32_t page_size, int compress, int level,
		const char *label, struct lfs_err *err)
{
	struct lfs_fs fs = { .kv = kv };
	if (page_size == 0)
		page_size = 4096;
	if (page_size < LFS_FS_PAGE_MIN || page_size > LFS_FS_PAGE_MAX || (page_size & (page_size - 1)))
		return lfs_seterr(err, -EINVAL, "page size %u: must be a power of two in 512..65536",
				  page_size);
	if (label && strlen(label) > LFS_FS_LABEL_MAX)
		return lfs_seterr(err, -EINVAL, "label longer than %u bytes", LFS_FS_LABEL_MAX);
	uint64_t now = lfs_fs_now();
	fs.sb = (struct lfs_fs_super){ .version = LFS_FS_VERSION, .page_size = page_size,
		.compress = (uint32_t)compress, .level = level, .next_ino = LFS_FS_ROOT_INO + 1,
		.root_ino = LFS_FS_ROOT_INO, .ctime_ns = now };
	if (label)
		strcpy(fs.sb.label, label);
	struct lfs_fs_inode root = { .mode = S_IFDIR | 0755, .nlink = 2,
		.uid = (uint32_t)getuid(), .gid = (uint32_t)getgid(),
		.atime_ns = now, .mtime_ns = now, .ctime_ns = now, .btime_ns = now };
	int rc = stage_super(&fs);
	if (rc == 0)
		rc = lfs_fs_stage_inode(&fs, LFS_FS_ROOT_INO, &root);
	if (rc == 0)
		rc = lfs_kv_commit(kv, fs.b, 1, err);
	lfs_kv_batch_free(fs.b);
	return rc;
}

int lfs_fs_mount(struct lfs_kv *kv, int ro, struct lfs_fs **out, struct lfs_err *err)
{
	uint8_t k[4], v[LFS_FS_SUPER_VLEN + 16];
	size_t vl = 0;
	*out = NULL;
	int rc = lfs_kv_get_into(kv, k, lfs_fs_key_super(k), v, sizeof v, &vl, err);
	if (rc == -ENOENT)
		return lfs_seterr(err, LFS_E_BADMAGIC, "no lightfs superblock (not formatted?)");
	if (rc < 0)
		return rc;
	struct lfs_fs *fs = calloc(1, sizeof *fs);
	if (!fs)
		return -ENOMEM;
	rc = lfs_fs_super_decode(v, vl > sizeof v ? sizeof v + 1 : vl, &fs->sb);
	if (rc < 0) {
		free(fs);
		if (rc == LFS_E_VERSION)
			return lfs_seterr(err, rc, "superblock: unsupported format version");
		return lfs_seterr(err, rc, "superblock: %s", lfs_strerror(rc));
	}
	fs->kv = kv;
	fs->psz = fs->sb.page_size;
	fs->ro = ro;
	*out = fs;
	return 0;
}

void lfs_fs_free(struct lfs_fs *fs)
{
	if (!fs)
		return;
	lfs_kv_batch_free(fs->b);
	free(fs);
}

int lfs_fs_iget(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in)
{
	uint8_t k[LFS_FS_INODE_KLEN];
	uint8_t v[LFS_FS_INODE_VMAX];
	size_t vl = 0;
	int rc = lfs_kv_get_into(fs->kv, k, lfs_fs_key_inode(k, ino), v, sizeof v, &vl, NULL);
	if (rc < 0)
		return rc == -ENOENT ? -ENOENT : rc;
	if (vl > sizeof v)
		return LFS_E_CORRUPT;
	return lfs_fs_inode_decode(v, vl, in);
}

int lfs_fs_lookup(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
		  struct lfs_fs_dentry *d)
{
	uint8_t k[LFS_FS_KEY_MAX], v[LFS_FS_DENTRY_VLEN];
	size_t vl = 0;
	int kl = lfs_fs_key_dentry(k, dir, name, nlen);
	if (kl < 0)
		return kl;
	int rc = lfs_kv_get_into(fs->kv, k, (size_t)kl, v, sizeof v, &vl, NULL);
	if (rc < 0)
		return rc;
	return lfs_fs_dentry_decode(v, vl, d);
}

static void abort_batch(struct lfs_fs *fs)
{
	if (fs->b)
		lfs_kv_batch_clear(fs->b);
}

int lfs_fs_create(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
		  uint32_t mode, const char *target, uint64_t *ino_out)
{
	struct lfs_fs_dentry d;
	struct lfs_fs_inode din, in;
	if (fs->ro)
		return LFS_E_READONLY;
	int rc = lfs_fs_iget(fs, dir, &din);
	if (rc < 0)
		return rc;
	if (!S_ISDIR(din.mode))
		return -ENOTDIR;
	rc = lfs_fs_lookup(fs, dir, name, nlen, &d);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	uint64_t now = lfs_fs_now();
	memset(&in, 0, sizeof in);
	in.mode = mode;
	in.nlink = S_ISDIR(mode) ? 2 : 1;
	in.uid = (uint32_t)getuid();
	in.gid = (uint32_t)getgid();
	in.atime_ns = in.mtime_ns = in.ctime_ns = in.btime_ns = now;
	if (target) {
		size_t tl = strlen(target);
		if (tl > LFS_FS_SYMLINK_MAX)
			return -ENAMETOOLONG;
		memcpy(in.target, target, tl + 1);
		in.target_len = (uint16_t)tl;
		in.size = tl;
	}
	uint64_t ino = fs->sb.next_ino++;
	rc = stage_super(fs);
	if (rc == 0)
		rc = lfs_fs_stage_inode(fs, ino, &in);
	if (rc == 0)
		rc = stage_dentry(fs, dir, name, nlen, ino, mode_type(mode));
	if (rc == 0) {
		if (S_ISDIR(mode))
			din.nlink++;
		din.mtime_ns = din.ctime_ns = now;
		rc = lfs_fs_stage_inode(fs, dir, &din);
	}
	if (rc == 0)
		rc = lfs_fs_commit(fs, 0);
	if (rc < 0) {
		abort_batch(fs);
		fs->sb.next_ino--;
		return rc;
	}
	if (ino_out)
		*ino_out = ino;
	return 0;
}

int lfs_fs_link(struct lfs_fs *fs, uint64_t ino, uint64_t dir, const char *name, size_t nlen)
{
	struct lfs_fs_dentry d;
	struct lfs_fs_inode din, in;
	if (fs->ro)
		return LFS_E_READONLY;
	int rc = lfs_fs_iget(fs, dir, &din);
	if (rc < 0)
		return rc;
	if (!S_ISDIR(din.mode))
		return -ENOTDIR;
	rc = lfs_fs_lookup(fs, dir, name, nlen, &d);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	if ((rc = lfs_fs_iget(fs, ino, &in)) < 0)
		return rc;
	if (S_ISDIR(in.mode))
		return -EPERM;
	uint64_t now = lfs_fs_now();
	in.nlink++;
	in.ctime_ns = now;
	din.mtime_ns = din.ctime_ns = now;
	rc = lfs_fs_stage_inode(fs, ino, &in);
	if (rc == 0)
		rc = stage_dentry(fs, dir, name, nlen, ino, mode_type(in.mode));
	if (rc == 0)
		rc = lfs_fs_stage_inode(fs, dir, &din);
	if (rc == 0)
		rc = lfs_fs_commit(fs, 0);
	if (rc < 0)
		abort_batch(fs);
	return rc;
}

static int first_entry_cb(void *arg, uint64_t ino, uint8_t type, const char *name, size_t nlen)
{
	(void)arg; (void)ino; (void)type; (void)name; (void)nlen;
	return 1;
}

int lfs_fs_dir_empty(struct lfs_fs *fs, uint64_t dir)
{
	int rc = lfs_fs_readdir(fs, dir, first_entry_cb, NULL);
	return rc < 0 ? rc : rc == 0;
}

/* Stage the removal of one link of inode `ino` (in); frees it if last. */
static int stage_drop_link(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in,
			   int keep_open, uint64_t now)
{
	if (S_ISDIR(in->mode))
		in->nlink = 0;
	else if (in->nlink > 0)
		in->nlink--;
	in->ctime_ns = now;
	if (in->nlink == 0 && !keep_open)
		return stage_inode_del(fs, ino);
	return lfs_fs_stage_inode(fs, ino, in);
}

int lfs_fs_unlink(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
		  int want_dir, int keep_open, uint64_t *ino_out)
{
	struct lfs_fs_dentry d;
	struct lfs_fs_inode din, in;
	if (fs->ro)
		return LFS_E_READONLY;
	int rc = lfs_fs_lookup(fs, dir, name, nlen, &d);
	if (rc < 0)
		return rc;
	if ((rc = lfs_fs_iget(fs, d.ino, &in)) < 0)
		return rc;
	if ((rc = lfs_fs_iget(fs, dir, &din)) < 0)
		return rc;
	if (want_dir && !S_ISDIR(in.mode))
		return -ENOTDIR;
	if (!want_dir && S_ISDIR(in.mode))
		return -EISDIR;
	if (want_dir) {
		rc = lfs_fs_dir_empty(fs, d.ino);
		if (rc < 0)
			return rc;
		if (!rc)
			return -ENOTEMPTY;
		din.nlink--;
	}
	uint64_t now = lfs_fs_now();
	din.mtime_ns = din.ctime_ns = now;
	rc = stage_dentry_del(fs, dir, name, nlen);
	if (rc == 0)
		rc = stage_drop_link(fs, d.ino, &in, keep_open, now);
	if (rc == 0)
		rc = lfs_fs_stage_inode(fs, dir, &din);
	if (rc == 0)
		rc = lfs_fs_commit(fs, 0);
	if (rc < 0) {
		abort_batch(fs);
		return rc;
	}
	if (ino_out)
		*ino_out = d.ino;
	return 0;
}

int lfs_fs_release(struct lfs_fs *fs, uint64_t ino)
{
	struct lfs_fs_inode in;
	int rc = lfs_fs_iget(fs, ino, &in);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	if (in.nlink != 0)
		return 0;
	rc = stage_inode_del(fs, ino);
	if (rc == 0)
		rc = lfs_fs_commit(fs, 0);
	if (rc < 0)
		abort_batch(fs);
	return rc;
}

/* Is `anc` an ancestor of (or equal to) dir?  Walks ".." via a scan is not
 * possible (no parent pointers), so the vfs checks this with the paths. */

int lfs_fs_rename(struct lfs_fs *fs, uint64_t sdir, const char *sname, size_t slen,
		  uint64_t ddir, const char *dname, size_t dlen, unsigned flags,
		  uint64_t *replaced_ino)
{
	struct lfs_fs_dentry sd, dd;
	struct lfs_fs_inode sin, din_, sdi, ddi;
	if (fs->ro)
		return LFS_E_READONLY;
	if (replaced_ino)
		*replaced_ino = 0;
	int rc = lfs_fs_lookup(fs, sdir, sname, slen, &sd);
	if (rc < 0)
		return rc;
	if ((rc = lfs_fs_iget(fs, sd.ino, &sin)) < 0)
		return rc;
	int have_d = lfs_fs_lookup(fs, ddir, dname, dlen, &dd);
	if (have_d < 0 && have_d != -ENOENT)
		return have_d;
	have_d = have_d == 0;
	if ((flags & 2) && !have_d)
		return -ENOENT;
	if ((flags & 1) && have_d)
		return -EEXIST;
	if (have_d && dd.ino == sd.ino)
		return 0;
	uint64_t now = lfs_fs_now();
	if ((rc = lfs_fs_iget(fs, sdir, &sdi)) < 0)
		return rc;
	if ((rc = lfs_fs_iget(fs, ddir, &ddi)) < 0)
		return rc;
	if (!S_ISDIR(ddi.mode))
		return -ENOTDIR;
	int same = sdir == ddir;
	if (have_d && (rc = lfs_fs_iget(fs, dd.ino, &din_)) < 0)
		return rc;
	if (flags & 2) {   /* exchange */
		int sdir_is = S_ISDIR(sin.mode), ddir_is = S_ISDIR(din_.mode);
		rc = stage_dentry(fs, ddir, dname, dlen, sd.ino, sd.type);
		if (rc == 0)
			rc = stage_dentry(fs, sdir, sname, slen, dd.ino, dd.type);
		if (!same && sdir_is != ddir_is) {
			if (sdir_is) { ddi.nlink++; sdi.nlink--; }
			else { sdi.nlink++; ddi.nlink--; }
		}
		sin.ctime_ns = din_.ctime_ns = now;
		if (rc == 0) rc = lfs_fs_stage_inode(fs, sd.ino, &sin);
		if (rc == 0) rc = lfs_fs_stage_inode(fs, dd.ino, &din_);
	} else {
		if (have_d) {
			if (S_ISDIR(sin.mode) && !S_ISDIR(din_.mode))
				return -ENOTDIR;
			if (!S_ISDIR(sin.mode) && S_ISDIR(din_.mode))
				return -EISDIR;
			if (S_ISDIR(din_.mode)) {
				rc = lfs_fs_dir_empty(fs, dd.ino);
				if (rc < 0)
					return rc;
				if (!rc)
					return -ENOTEMPTY;
				ddi.nlink--;
			}
		}
		rc = stage_dentry_del(fs, sdir, sname, slen);
		if (rc == 0)
			rc = stage_dentry(fs, ddir, dname, dlen, sd.ino, sd.type);
		if (rc == 0 && have_d) {
			rc = stage_drop_link(fs, dd.ino, &din_, replaced_ino != NULL, now);
			if (replaced_ino)
				*replaced_ino = dd.ino;
		}
		if (S_ISDIR(sin.mode) && !same) {
			sdi.nlink--;
			ddi.nlink++;
		}
		sin.ctime_ns = now;
		if (rc == 0) rc = lfs_fs_stage_inode(fs, sd.ino, &sin);
	}
	sdi.mtime_ns = sdi.ctime_ns = now;
	ddi.mtime_ns = ddi.ctime_ns = now;
	if (same) {
		ddi.nlink = sdi.nlink + (ddi.nlink - sdi.nlink); /* same record */
		if (rc == 0) rc = lfs_fs_stage_inode(fs, ddir, &ddi);
	} else {
		if (rc == 0) rc = lfs_fs_stage_inode(fs, sdir, &sdi);
		if (rc == 0) rc = lfs_fs_stage_inode(fs, ddir, &ddi);
	}
	if (rc == 0)
		rc = lfs_fs_commit(fs, 0);
	if (rc < 0)
		abort_batch(fs);
	return rc;
}

int lfs_fs_read_page(struct lfs_fs *fs, uint64_t ino, uint64_t idx, void *buf)
{
	uint8_t k[LFS_FS_DATA_KLEN];
	size_t vl = 0;
	int rc = lfs_kv_get_into(fs->kv, k, lfs_fs_key_data(k, ino, idx), buf, fs->psz, &vl, NULL);
	if (rc == -ENOENT) {
		memset(buf, 0, fs->psz);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (vl > fs->psz)
		return LFS_E_CORRUPT;
	if (vl < fs->psz)
		memset((char *)buf + vl, 0, fs->psz - vl);
	return 1;
}

int lfs_fs_truncate(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in, uint64_t size)
{
	uint64_t psz = fs->psz;
	int rc = 0;
	if (size < in->size) {
		uint64_t keep = (size + psz - 1) / psz;
		rc = stage_data_drop(fs, ino, keep);
		if (rc == 0 && size % psz) {
			uint8_t *pg = malloc(psz);
			if (!pg)
				return -ENOMEM;
			/* the batch may hold a staged copy: commit first so get sees it */
			rc = lfs_fs_commit(fs, 0);
			if (rc == 0)
				rc = lfs_fs_read_page(fs, ino, size / psz, pg);
			if (rc == 1)
				rc = lfs_fs_stage_page(fs, ino, size / psz, pg, size % psz);
			free(pg);
		}
	}
	if (rc < 0)
		return rc;
	in->size = size;
	in->mtime_ns = in->ctime_ns = lfs_fs_now();
	return 0;
}

int64_t lfs_fs_next_data(struct lfs_fs *fs, uint64_t ino, uint64_t idx)
{
	uint8_t lo[LFS_FS_DATA_KLEN], hi[9];
	lfs_fs_key_data(lo, ino, idx);
	lfs_fs_key_data_prefix(hi, ino + 1);
	struct lfs_kv_iter *it = lfs_kv_iter_new(fs->kv, lo, sizeof lo, hi, sizeof hi);
	if (!it)
		return -ENOMEM;
	int64_t r = -ENXIO;
	if (lfs_kv_iter_valid(it)) {
		size_t kl;
		const uint8_t *k = lfs_kv_iter_key(it, &kl);
		if (kl == LFS_FS_DATA_KLEN)
			r = (int64_t)lfs_be64_get(k + 9);
	}
	lfs_kv_iter_free(it);
	return r;
}

uint64_t lfs_fs_count_pages(struct lfs_fs *fs, uint64_t ino)
{
	uint8_t p[9];
	uint64_t n = 0;
	struct lfs_kv_iter *it = lfs_kv_iter_prefix(fs->kv, p, lfs_fs_key_data_prefix(p, ino));
	for (; it && lfs_kv_iter_valid(it); lfs_kv_iter_next(it))
		n++;
	lfs_kv_iter_free(it);
	return n;
}

int lfs_fs_readdir(struct lfs_fs *fs, uint64_t dir,
		   int (*cb)(void *arg, uint64_t ino, uint8_t type, const char *name, size_t nlen),
		   void *arg)
{
	uint8_t p[9];
	struct lfs_kv_iter *it = lfs_kv_iter_prefix(fs->kv, p, lfs_fs_key_dentry_prefix(p, dir));
	int rc = 0;
	if (!it)
		return -ENOMEM;
	for (; lfs_kv_iter_valid(it); lfs_kv_iter_next(it)) {
		size_t kl, vl;
		const void *k = lfs_kv_iter_key(it, &kl);
		const void *v = lfs_kv_iter_value(it, &vl);
		struct lfs_fs_key key;
		struct lfs_fs_dentry d;
		if (!v) {
			rc = LFS_E_CORRUPT;
			break;
		}
		if (lfs_fs_key_decode(k, kl, &key) != LFS_FS_K_DENTRY ||
		    lfs_fs_dentry_decode(v, vl, &d) < 0) {
			rc = LFS_E_CORRUPT;
			break;
		}
		rc = cb(arg, d.ino, d.type, key.name, key.nlen);
		if (rc)
			break;
	}
	if (rc == 0)
		rc = lfs_kv_iter_error(it, NULL);
	lfs_kv_iter_free(it);
	return rc;
}
