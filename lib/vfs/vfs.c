/*
 * lib/vfs/vfs.c — mount handles, per-process fd tables, path walk and the
 * file / namespace calls of lightfs.h over the LightFS layer (lib/fs).
 *
 * Invariants: a struct file is shared by dup'ed fds and forked processes
 * (refs); an inode open by any file is pinned in the mount's vnode list, and
 * an unlinked open inode stays (nlink 0, its data intact) until the last close
 * frees it.  The inode record in KV is authoritative: every call that changes
 * it reads it, changes it and stages it in the call's batch.
 * Lock order: none (one thread per mount, lightfs.h).
 *
 * File data goes through the page cache: read → lightfs_file_ops.read →
 * filemap_read, write → generic_perform_write, both over the mapping
 * (address_space) of the inode's vnode with lightfs_aops below.  A vnode
 * (the in-core inode) lives while the inode is open or has cached pages;
 * its mapping's i_size and the vnode's mtime are ahead of the KV record
 * until writeback stores them with the pages.  An inode that loses its last
 * link while a vnode holds it stays an orphan until the vnode goes.
 * O_DIRECT bypasses the cache: overlapping cached pages are written back
 * and dropped first, then the data goes to / comes from KV directly.
 */
#include "vfs/lightfs.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "kv/kv.h"
#include "pagecache/pagecache.h"

#define MAX_SYMLINKS 40

struct lfs_mount;

struct vnode {
	uint64_t ino;
	int opens;
	struct vnode *next;        /* hash chain */
	struct lfs_mount *m;
	struct lfs_mapping map;    /* address_space: pages, i_size */
	uint64_t mtime_ns;         /* in-core mtime/ctime, ahead of KV when set */
	int mtime_dirty;
	/* times set (utimens) while the file had dirty pages: held here and
	 * stored by the writeback of those pages, in the same record as the
	 * size (one inode record and commit fewer per file `cp -p` writes);
	 * applied before mtime_dirty (a later write wins) */
	int times_set;
	uint64_t set_atime_ns, set_mtime_ns, set_ctime_ns;
};

/* The held times over an inode about to be stored or shown. */
static void vn_apply_times(const struct vnode *vn, struct lfs_fs_inode *in)
{
	if (!vn->times_set)
		return;
	in->atime_ns = vn->set_atime_ns;
	in->mtime_ns = vn->set_mtime_ns;
	if (vn->set_ctime_ns > in->ctime_ns)
		in->ctime_ns = vn->set_ctime_ns;
}

struct file;
/* struct file_operations of a regular file */
struct lfs_file_ops {
	ssize_t (*read)(struct file *f, void *buf, size_t n, uint64_t pos);
	ssize_t (*write)(struct file *f, const void *buf, size_t n, uint64_t pos);
	int     (*fsync)(struct file *f, int datasync);
};

struct file {
	struct vnode *vn;
	uint64_t ino;
	off_t pos;
	int flags;
	int refs;
	uint32_t mode;
	char *path;                /* absolute path at open (openat/fchdir) */
	struct lfs_ra_state ra;    /* file_ra_state */
	const struct lfs_file_ops *f_op;
};

#define VN_BUCKETS 1024        /* initial; doubled to keep one vnode a bucket at most */
#define VN_GC_MIN  256

struct lfs_mount {
	struct lfs_kv *kv;
	struct lfs_fs *fs;
	struct lfs_pc *pc;
	int ro;
	uint32_t psz;
	uint32_t txn_max_pages;
	struct vnode **vtab;       /* hash of vnodes by ino: vbuckets (a power of two) chains */
	size_t vbuckets;
	uint64_t nvnodes, vn_gc_at;
	uint8_t *pgbuf;
	struct lfs_stats st;
	void (*hook)(void *arg, const struct lfs_event *ev);
	void *hook_arg;
	int atomic;                /* lfs_atomic_begin depth */
	/* namei cache: the directory holding the last name walked, by the
	 * path that led to it (only a chain of plain directory names: no ".",
	 * "..", symlink or doubled slash), so walking another name in the same
	 * directory is one lookup instead of two KV reads per ancestor.  Valid
	 * while nc_gen == ns_gen; ns_gen moves whenever an existing
	 * directory's path can change or go (rename, rmdir) and when the KV
	 * handle is lent out (lfs_mount_kv).  Creating names never changes
	 * what an existing path of directories resolves to. */
	uint64_t ns_gen, nc_gen;
	uint64_t nc_ino;
	size_t nc_len;             /* 0 with nc_ino set: "/" */
	char nc_path[PATH_MAX];
};

static const struct lfs_aops lightfs_aops;
static const struct lfs_file_ops lightfs_file_ops;

struct lfs_proc {
	struct lfs_mount *m;
	struct file **fd;
	int nfd;
	uint64_t cwd;
	char cwdpath[PATH_MAX];
};

/* ---------------------------------------------------------------- helpers */

static void vn_unhash(struct lfs_mount *m, struct vnode *vn)
{
	for (struct vnode **pp = &m->vtab[vn->ino & (m->vbuckets - 1)]; *pp; pp = &(*pp)->next)
		if (*pp == vn) {
			*pp = vn->next;
			m->nvnodes--;
			return;
		}
}

static void vn_free(struct lfs_mount *m, struct vnode *vn)
{
	vn_unhash(m, vn);
	lfs_mapping_destroy(&vn->map);
	free(vn);
}

/* Free closed vnodes without pages (iput of unused inodes).  Run when the
 * number of vnodes has doubled since the last run (at least VN_GC_MIN): a
 * pass over every vnode each time as many were added, so O(1) a vnode
 * made (before: every 256 vnodes made, a pass over all of them, which a
 * cache holding pages of thousands of files made quadratic). */
static void vn_gc(struct lfs_mount *m)
{
	for (size_t b = 0; b < m->vbuckets; b++)
		for (struct vnode *v = m->vtab[b], *nx; v; v = nx) {
			nx = v->next;
			if (v->opens == 0 && v->map.nrpages == 0)
				vn_free(m, v);
		}
	m->vn_gc_at = m->nvnodes * 2 > VN_GC_MIN ? m->nvnodes * 2 : VN_GC_MIN;
}

/* Double the hash (fine if there is no memory: chains get longer). */
static void vn_grow(struct lfs_mount *m)
{
	size_t nb = m->vbuckets * 2;
	struct vnode **t = calloc(nb, sizeof *t);
	if (!t)
		return;
	for (size_t b = 0; b < m->vbuckets; b++)
		for (struct vnode *v = m->vtab[b], *nx; v; v = nx) {
			nx = v->next;
			v->next = t[v->ino & (nb - 1)];
			t[v->ino & (nb - 1)] = v;
		}
	free(m->vtab);
	m->vtab = t;
	m->vbuckets = nb;
}

/* The vnode of ino; create makes one with i_size = size. */
static struct vnode *vn_get2(struct lfs_mount *m, uint64_t ino, int create, uint64_t size)
{
	for (struct vnode *v = m->vtab[ino & (m->vbuckets - 1)]; v; v = v->next)
		if (v->ino == ino)
			return v;
	if (!create)
		return NULL;
	if (m->nvnodes >= m->vn_gc_at)
		vn_gc(m);
	if (m->nvnodes >= m->vbuckets)
		vn_grow(m);
	struct vnode *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	v->ino = ino;
	v->m = m;
	lfs_mapping_init(&v->map, m->pc, &lightfs_aops, v, ino, size);
	v->next = m->vtab[ino & (m->vbuckets - 1)];
	m->vtab[ino & (m->vbuckets - 1)] = v;
	m->nvnodes++;
	return v;
}

static struct vnode *vn_get(struct lfs_mount *m, uint64_t ino, int create)
{
	return vn_get2(m, ino, create, 0);
}

/* A vnode nobody has open: free it (and the inode, if it lost its last
 * link) unless clean pages keep it cached. */
static int vn_reap(struct lfs_mount *m, struct vnode *vn)
{
	int rc = 0;
	if (vn->opens > 0)
		return 0;
	struct lfs_fs_inode in;
	int r = m->ro ? 0 : lfs_fs_iget(m->fs, vn->ino, &in);
	if (!m->ro && (r == -ENOENT || (r == 0 && in.nlink == 0))) {
		uint64_t ino = vn->ino;
		vn_free(m, vn);              /* its dirty pages die with it */
		rc = r == 0 ? lfs_fs_release(m->fs, ino) : 0;
		return rc;
	}
	if (vn->map.nrpages == 0)
		vn_free(m, vn);
	return rc;
}

static int vn_put(struct lfs_mount *m, struct vnode *vn)
{
	if (--vn->opens > 0)
		return 0;
	return vn_reap(m, vn);
}

/* Held by a vnode (open, or with cached pages): unlinking keeps it as an
 * orphan until the vnode goes. */
static int is_open(struct lfs_mount *m, uint64_t ino)
{
	return vn_get(m, ino, 0) != NULL;
}

static void reap_ino(struct lfs_mount *m, uint64_t ino)
{
	struct vnode *v = ino ? vn_get(m, ino, 0) : NULL;
	if (v)
		vn_reap(m, v);
}

/* Size and times as the cache sees them (ahead of KV). */
static uint64_t cur_size(struct lfs_mount *m, uint64_t ino, uint64_t kv_size)
{
	struct vnode *v = vn_get(m, ino, 0);
	return v ? v->map.i_size : kv_size;
}

/* ---------------------------------------------------------------- path walk */

struct walk {
	uint64_t parent;           /* directory holding the last component */
	uint64_t ino;              /* 0: last component does not exist */
	char name[256];            /* last component ("" for /) */
	struct lfs_fs_inode in;    /* of ino when it exists */
	int trailing_slash;
	char canon[PATH_MAX];      /* canonical absolute path of ino (or of parent/name) */
};

static int walk_in(struct lfs_proc *p, const struct file *dir, const char *name, int follow,
		   struct walk *w, int *rc);

/* 0 when inode ino is a directory, -ENOTDIR when it is not, or iget's error */
static int walk_isdir(struct lfs_fs *fs, uint64_t ino)
{
	struct lfs_fs_inode din;
	int rc = lfs_fs_iget(fs, ino, &din);
	if (rc < 0)
		return rc;
	return S_ISDIR(din.mode) ? 0 : -ENOTDIR;
}

static int walk(struct lfs_proc *p, const char *base, const char *path, int follow,
		struct walk *w)
{
	struct lfs_mount *m = p->m;
	struct lfs_fs *fs = m->fs;
	if (!path)
		return -EFAULT;
	if (!*path)
		return -ENOENT;
	enum { cap = 2 * PATH_MAX + 8 };
	char buf[cap], tmp[cap];
	uint64_t stack[PATH_MAX / 2];
	size_t nameoff[PATH_MAX / 2];
	char names[PATH_MAX];
	size_t namelen = 0;
	int depth = 0, loops = 0, rc = 0;
	/* stack[depth] was checked to be a directory (by its inode) since the
	 * walk last moved down or restarted at a symlink */
	int cur_dir = 0;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (path[0] == '/')
		snprintf(buf, cap, "%s", path);
	else
		snprintf(buf, cap, "%s/%s", base ? base : p->cwdpath, path);
	/* not memset(w): in.target and canon are 8 KiB, NUL-terminated strings */
	w->parent = w->ino = 0;
	w->name[0] = 0;
	w->trailing_slash = 0;
	w->canon[0] = 0;
	memset(&w->in, 0, offsetof(struct lfs_fs_inode, target) + 1);
	size_t L = strlen(buf);
	w->trailing_slash = L > 1 && buf[L - 1] == '/';
	/* the namei cache: buf = PREFIX/NAME with NAME a plain name */
	const char *ls = strrchr(buf, '/');
	size_t plen = (size_t)(ls - buf);
	const char *lname = ls + 1;
	int plain = *lname && strcmp(lname, ".") && strcmp(lname, "..");
	if (plain && m->nc_ino && m->nc_gen == m->ns_gen && plen == m->nc_len &&
	    !memcmp(buf, m->nc_path, plen)) {
		struct file dir = { .ino = m->nc_ino, .path = plen ? m->nc_path : "/" };
		if (walk_in(p, &dir, lname, follow, w, &rc))
			return rc;
		rc = 0;                    /* a symlink to follow: the full walk */
	}
	stack[0] = LFS_FS_ROOT_INO;
	nameoff[0] = 0;
	names[0] = 0;
	char *s = buf;
	for (;;) {
		while (*s == '/')
			s++;
		if (!*s) {     /* ended on a directory */
			uint64_t cur = stack[depth];
			w->ino = cur;
			w->parent = depth ? stack[depth - 1] : cur;
			snprintf(w->name, sizeof w->name, "%s", depth ? names + nameoff[depth] : "");
			rc = lfs_fs_iget(fs, cur, &w->in);
			break;
		}
		char *e = s;
		while (*e && *e != '/')
			e++;
		size_t cl = (size_t)(e - s);
		char *r = e;
		while (*r == '/')
			r++;
		int last = !*r;
		if (cl > LFS_FS_NAME_MAX) {
			rc = -ENAMETOOLONG;
			break;
		}
		uint64_t cur = stack[depth];
		int dot = cl == 1 && s[0] == '.', dotdot = cl == 2 && s[0] == '.' && s[1] == '.';
		if ((dot || dotdot) && !cur_dir) {
			/* "f/." and "f/.." are ENOTDIR when f is not a directory */
			if ((rc = walk_isdir(fs, cur)) < 0)
				break;
			cur_dir = 1;
		}
		if (dot) {
			s = e;
			continue;
		}
		if (dotdot) {
			if (depth > 0) {
				namelen = nameoff[depth] - 1;
				depth--;
			}
			/* (cur_dir stays 1: stack[depth] was looked up in, so checked) */
			s = e;
			continue;
		}
		if (!cur_dir && (rc = walk_isdir(fs, cur)) < 0)
			break;
		cur_dir = 0;
		struct lfs_fs_dentry d;
		rc = lfs_fs_lookup(fs, cur, s, cl, &d);
		if (rc == -ENOENT && last) {
			w->parent = cur;
			w->ino = 0;
			memcpy(w->name, s, cl);
			w->name[cl] = 0;
			rc = 0;
			depth++;
			if (depth >= (int)(sizeof stack / sizeof stack[0])) {
				rc = -ENAMETOOLONG;
				break;
			}
			nameoff[depth] = namelen + 1;
			break;
		}
		if (rc < 0)
			break;
		struct lfs_fs_inode cin;
		rc = lfs_fs_iget(fs, d.ino, &cin);
		if (rc < 0)
			break;
		if (S_ISLNK(cin.mode) && (!last || follow || w->trailing_slash)) {
			if (++loops > MAX_SYMLINKS) {
				rc = -ELOOP;
				break;
			}
			int n = snprintf(tmp, cap, "%s/%s", cin.target, r);
			if (n < 0 || (size_t)n >= PATH_MAX) {
				rc = -ENAMETOOLONG;
				break;
			}
			if (cin.target[0] == '/') {
				depth = 0;
				namelen = 0;
			}
			memcpy(buf, tmp, (size_t)n + 1);
			s = buf;
			continue;
		}
		if (depth + 2 >= (int)(sizeof stack / sizeof stack[0]) || namelen + cl + 2 >= sizeof names) {
			rc = -ENAMETOOLONG;
			break;
		}
		depth++;
		stack[depth] = d.ino;
		nameoff[depth] = namelen + 1;
		names[namelen] = '/';
		memcpy(names + namelen + 1, s, cl);
		namelen += cl + 1;
		names[namelen] = 0;
		if (last) {
			w->parent = stack[depth - 1];
			w->ino = d.ino;
			memcpy(&w->in, &cin, offsetof(struct lfs_fs_inode, target) +
			       (cin.target_len > LFS_FS_SYMLINK_MAX ? LFS_FS_SYMLINK_MAX : cin.target_len));
			w->in.target[w->in.target_len > LFS_FS_SYMLINK_MAX ? LFS_FS_SYMLINK_MAX :
				     w->in.target_len] = 0;
			memcpy(w->name, s, cl);
			w->name[cl] = 0;
			if (w->trailing_slash && !S_ISDIR(cin.mode))
				rc = -ENOTDIR;
			break;
		}
		s = e;
	}
	if (rc == 0) {
		/* canonical path: names up to depth (+ missing last name) */
		size_t upto = namelen;     /* names holds the path of stack[depth] */
		if (upto == 0)
			snprintf(w->canon, sizeof w->canon, "/");
		else
			snprintf(w->canon, sizeof w->canon, "%.*s", (int)upto, names);
		if (w->ino == 0) {
			size_t cl = strlen(w->canon);
			snprintf(w->canon + cl, sizeof w->canon - cl, "%s%s",
				 cl > 1 ? "/" : "", w->name);
		}
		/* remember the directory if buf's prefix is its canonical path
		 * (plain names only: no symlink followed, no dots, no "//") */
		const char *cs = strrchr(w->canon, '/');
		if (plain && loops == 0 && cs && (size_t)(cs - w->canon) == plen &&
		    !memcmp(w->canon, buf, plen) && !strcmp(cs + 1, lname) && w->parent) {
			memcpy(m->nc_path, buf, plen);
			m->nc_path[plen] = 0;
			m->nc_len = plen;
			m->nc_ino = w->parent;
			m->nc_gen = m->ns_gen;
		}
	}
	return rc;
}

/* openat with one plain name (no '/', not "." or ".."): resolved from the
 * directory fd's inode (as openat(2) does), not by walking the fd's path
 * from the root again — one lookup instead of one per ancestor (a copy
 * creating many files in one directory).  Returns 1 when w is filled (or
 * rc < 0 is the answer), 0 when the caller must walk (a symlink to follow). */
static int walk_in(struct lfs_proc *p, const struct file *dir, const char *name, int follow,
		   struct walk *w, int *rc)
{
	struct lfs_fs *fs = p->m->fs;
	size_t cl = strlen(name);
	*rc = 0;
	if (cl == 0 || cl > LFS_FS_NAME_MAX || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return 0;
	size_t bl = strlen(dir->path);
	if (bl + 1 + cl >= sizeof w->canon)
		return 0;
	struct lfs_fs_inode din;
	*rc = lfs_fs_iget(fs, dir->ino, &din);
	if (*rc < 0)
		return 1;
	if (!S_ISDIR(din.mode)) {
		*rc = -ENOTDIR;
		return 1;
	}
	if (din.nlink == 0) {      /* removed since it was opened */
		*rc = -ENOENT;
		return 1;
	}
	w->parent = dir->ino;
	w->ino = 0;
	w->trailing_slash = 0;
	memcpy(w->name, name, cl + 1);
	snprintf(w->canon, sizeof w->canon, "%s%s%s", dir->path, bl > 1 ? "/" : "", name);
	memset(&w->in, 0, offsetof(struct lfs_fs_inode, target) + 1);
	struct lfs_fs_dentry d;
	*rc = lfs_fs_lookup(fs, dir->ino, name, cl, &d);
	if (*rc == -ENOENT) {
		*rc = 0;
		return 1;
	}
	if (*rc < 0)
		return 1;
	struct lfs_fs_inode cin;
	*rc = lfs_fs_iget(fs, d.ino, &cin);
	if (*rc < 0)
		return 1;
	if (S_ISLNK(cin.mode) && follow)
		return 0;
	w->ino = d.ino;
	size_t tl = cin.target_len > LFS_FS_SYMLINK_MAX ? LFS_FS_SYMLINK_MAX : cin.target_len;
	memcpy(&w->in, &cin, offsetof(struct lfs_fs_inode, target) + tl);
	w->in.target[tl] = 0;
	return 1;
}

/* ---------------------------------------------------------------- mkfs / mount */

int lfs_mkfs(const char *image, const struct lfs_mkfs_opts *o, struct lfs_err *err)
{
	struct lfs_mkfs_opts def = { 0 };
	if (!o)
		o = &def;
	if (!o->force && access(image, F_OK) == 0)
		return lfs_seterr(err, -EEXIST, "%s: exists (use --force to overwrite)", image);
	if (o->force)
		unlink(image);
	struct lfs_kv_opts ko = { .mode = LFS_KV_CREATE, .compress = (enum lfs_kv_compress)o->compress,
				  .level = o->level };
	struct lfs_kv *kv;
	int rc = lfs_kv_open(image, &ko, &kv, err);
	if (rc < 0)
		return rc;
	rc = lfs_fs_mkfs(kv, o->page_size, o->compress, o->level, o->label, err);
	int rc2 = lfs_kv_close(kv);
	if (rc < 0) {
		unlink(image);
		return rc;
	}
	return rc2 < 0 ? lfs_seterr(err, rc2, "close: %s", lfs_strerror(rc2)) : 0;
}

int lfs_mount(const char *image, const struct lfs_mount_opts *o,
	      struct lfs_mount **out, struct lfs_err *err)
{
	struct lfs_mount_opts def = { 0 };
	if (!o)
		o = &def;
	*out = NULL;
	struct lfs_kv_opts ko = { .no_lock = o->no_lock };
	ko.mode = o->in_memory ? LFS_KV_MEMORY : o->readonly ? LFS_KV_RDONLY : LFS_KV_RDWR;
	if (o->in_memory)
		ko.compress = (enum lfs_kv_compress)o->mkfs.compress;
	struct lfs_kv *kv;
	int rc = lfs_kv_open(image, &ko, &kv, err);
	if (rc < 0)
		return rc;
	if (o->in_memory) {
		rc = lfs_fs_mkfs(kv, o->mkfs.page_size, o->mkfs.compress, o->mkfs.level,
				 o->mkfs.label, err);
		if (rc < 0) {
			lfs_kv_close(kv);
			return rc;
		}
	}
	struct lfs_mount *m = calloc(1, sizeof *m);
	if (!m) {
		lfs_kv_close(kv);
		return -ENOMEM;
	}
	struct lfs_fs_opts fo = { .queue_depth = o->queue_depth, .sched = o->sched,
				  .txn_max_pages = o->txn_max_pages, .deterministic = o->deterministic };
	rc = lfs_fs_mount_opts(kv, o->readonly && !o->in_memory, &fo, &m->fs, err);
	if (rc < 0) {
		lfs_kv_close(kv);
		free(m);
		return rc;
	}
	m->kv = kv;
	m->ro = o->readonly && !o->in_memory;
	m->psz = m->fs->psz;
	m->txn_max_pages = o->txn_max_pages ? o->txn_max_pages : 310;
	struct lfs_pc_opts po = { .page_size = m->psz, .cache_bytes = o->cache_bytes,
		.readahead_max = o->readahead_max, .dirty_background_ratio = o->dirty_background_ratio,
		.dirty_ratio = o->dirty_ratio, .dirty_expire_ns = o->dirty_expire_ns,
		.writeback_interval_ns = o->writeback_interval_ns, .clock = o->clock,
		.clock_arg = o->clock_arg,
		.no_page_crc = o->in_memory };   /* the in-memory image keeps no CRCs */
	m->pgbuf = malloc(m->psz);
	m->vbuckets = VN_BUCKETS;
	m->vn_gc_at = VN_GC_MIN;
	m->vtab = calloc(m->vbuckets, sizeof *m->vtab);
	rc = m->pgbuf && m->vtab ? lfs_pc_new(&po, &m->pc) : -ENOMEM;
	if (rc < 0) {
		free(m->vtab);
		free(m->pgbuf);
		lfs_fs_free(m->fs);
		lfs_kv_close(kv);
		free(m);
		return lfs_seterr(err, rc, "mount: %s", lfs_strerror(rc));
	}
	*out = m;
	return 0;
}

int lfs_umount(struct lfs_mount *m, struct lfs_err *err)
{
	if (!m)
		return 0;
	int rc = 0;
	/* orphans (unlinked, still open) go without writing their pages */
	for (size_t b = 0; b < m->vbuckets; b++)
		for (struct vnode *v = m->vtab[b], *nx; v; v = nx) {
			nx = v->next;
			struct lfs_fs_inode in;
			if (!m->ro && lfs_fs_iget(m->fs, v->ino, &in) == 0 && in.nlink == 0)
				lfs_pc_truncate(&v->map, 0);
		}
	if (!m->ro) {
		int r = lfs_pc_sync_all(m->pc, LFS_WB_UMOUNT);
		if (r < 0 && rc == 0)
			rc = r;
		/* a failed writeback nobody fsync'ed yet */
		for (size_t b = 0; b < m->vbuckets && rc == 0; b++)
			for (struct vnode *v = m->vtab[b]; v && rc == 0; v = v->next)
				if (v->map.wb_err)
					rc = v->map.wb_err;
	}
	/* the KV server may still be storing pages of a failed writeback
	 * (ENOSPC): wait for it before the pages are freed */
	lfs_fs_drain(m->fs);
	for (size_t b = 0; b < m->vbuckets; b++)
		while (m->vtab[b]) {
			struct vnode *v = m->vtab[b];
			uint64_t ino = v->ino;
			vn_free(m, v);
			if (!m->ro) {
				int r = lfs_fs_release(m->fs, ino);
				if (r < 0 && rc == 0)
					rc = r;
			}
		}
	if (!m->ro) {
		int r = lfs_fs_commit(m->fs, 1);
		if (r < 0 && rc == 0)
			rc = r;
		if (m->atomic) {
			/* umount commits an open group */
			m->atomic = 1;
			r = lfs_atomic_commit(m);
			if (r < 0 && rc == 0)
				rc = r;
		}
	}
	lfs_fs_free(m->fs);
	lfs_pc_free(m->pc);
	int r = lfs_kv_close(m->kv);
	if (r < 0 && rc == 0)
		rc = r;
	free(m->pgbuf);
	free(m->vtab);
	free(m);
	if (rc < 0)
		lfs_seterr(err, rc, "umount: %s", lfs_strerror(rc));
	return rc;
}

struct lfs_kv *lfs_mount_kv(struct lfs_mount *m)
{
	/* everything written so far reaches KV; the channel goes idle so the
	 * caller may use the handle directly until its next lightfs call */
	lfs_sync(m);
	lfs_fs_drain(m->fs);
	m->ns_gen++;               /* the caller may change anything (fsck --repair) */
	return m->kv;
}

int lfs_atomic_begin(struct lfs_mount *m)
{
	if (m->ro)
		return -EROFS;
	int rc = lfs_txn_group_begin(lfs_fs_txn(m->fs));
	if (rc == 0)
		m->atomic++;
	return rc;
}

int lfs_atomic_depth(struct lfs_mount *m) { return m->atomic; }

int lfs_atomic_commit(struct lfs_mount *m)
{
	if (!m->atomic)
		return -EINVAL;
	struct lfs_txn_mgr *tm = lfs_fs_txn(m->fs);
	if (m->atomic > 1) {
		m->atomic--;
		return lfs_txn_group_commit(tm, 0);
	}
	/* every dirty page and pending record into the group, then the
	 * group's COMMIT and one sync */
	int rc = lfs_pc_sync_all(m->pc, LFS_WB_SYNC);
	int r = lfs_fs_commit(m->fs, 0);
	if (r < 0 && rc >= 0)
		rc = r;
	m->atomic = 0;
	r = lfs_txn_group_commit(tm, 1);
	if (r < 0 && rc >= 0)
		rc = r;
	return rc < 0 ? rc : 0;
}

int lfs_sync(struct lfs_mount *m)
{
	if (m->ro)
		return 0;
	int rc = lfs_pc_sync_all(m->pc, LFS_WB_SYNC);
	int r = lfs_fs_commit(m->fs, 1);
	return rc < 0 ? rc : r;
}

void lfs_drop_caches(struct lfs_mount *m)
{
	lfs_pc_drop_clean(m->pc);
	vn_gc(m);
}

void lfs_set_event_hook(struct lfs_mount *m,
			void (*hook)(void *arg, const struct lfs_event *ev), void *arg)
{
	m->hook = hook;
	m->hook_arg = arg;
	lfs_pc_set_hook(m->pc, hook, arg);
	lfs_fs_set_hook(m->fs, hook, arg);
}

void lfs_mount_stats(struct lfs_mount *m, struct lfs_stats *st)
{
	struct lfs_kv_stats k;
	struct lfs_txn_stats t;
	struct lfs_io_stats io;
	struct lfs_pc_stats pc;
	*st = m->st;
	lfs_fs_layer_stats(m->fs, &t, &io, &k);
	lfs_pc_stats(m->pc, &pc);
#define PC(f) st->pc.f = pc.f
	PC(lookups); PC(hits); PC(misses); PC(readpage); PC(readahead_calls); PC(ra_pages);
	PC(ra_used); PC(async_ra); PC(pages_dirtied); PC(pages_written); PC(pages_evicted);
	PC(writepages_calls); PC(bg_writeback); PC(hard_writeback); PC(expire_writeback);
	PC(rmw_reads); PC(pages_cached); PC(pages_dirty); PC(bytes_cached);
	PC(peak_pages_cached); PC(peak_pages_dirty); PC(active); PC(inactive);
#undef PC
	st->txn.txns = t.txns;
	st->txn.pages = t.pages;
	st->txn.meta_ops = t.meta_ops;
	st->txn.max_pages = t.max_pages;
	st->txn.fsync_waits = t.fsync_waits;
	st->io.requests = io.requests;
	st->io.merges = io.merges;
	st->io.max_depth = io.max_depth;
	st->io.reads = io.reads;
	st->io.writes = io.writes;
	st->io.lat = io.lat;
	st->kv.gets = k.gets;
	st->kv.puts = k.puts;
	st->kv.dels = k.dels;
	st->kv.range_dels = k.range_dels;
	st->kv.scans = k.scans;
	st->kv.scan_items = k.scan_items;
	st->kv.batches = k.batches;
	st->kv.syncs = k.syncs;
	st->kv.bytes_put = k.bytes_put;
	st->kv.bytes_got = k.bytes_got;
	st->kv.file_bytes_written = k.file_bytes_written;
	st->kv.file_bytes_read = k.file_bytes_read;
}

/* ---------------------------------------------------------------- processes */

struct lfs_proc *lfs_proc_new(struct lfs_mount *m)
{
	struct lfs_proc *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->m = m;
	p->cwd = LFS_FS_ROOT_INO;
	strcpy(p->cwdpath, "/");
	return p;
}

struct lfs_proc *lfs_proc_fork(struct lfs_proc *parent)
{
	struct lfs_proc *p = lfs_proc_new(parent->m);
	if (!p)
		return NULL;
	p->cwd = parent->cwd;
	memcpy(p->cwdpath, parent->cwdpath, sizeof p->cwdpath);
	if (parent->nfd) {
		p->fd = calloc((size_t)parent->nfd, sizeof *p->fd);
		if (!p->fd) {
			free(p);
			return NULL;
		}
		p->nfd = parent->nfd;
		for (int i = 0; i < p->nfd; i++) {
			p->fd[i] = parent->fd[i];
			if (p->fd[i])
				p->fd[i]->refs++;
		}
	}
	return p;
}

static int file_put(struct lfs_mount *m, struct file *f)
{
	if (--f->refs > 0)
		return 0;
	int rc = vn_put(m, f->vn);
	free(f->path);
	free(f);
	return rc;
}

void lfs_proc_free(struct lfs_proc *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nfd; i++)
		if (p->fd[i])
			file_put(p->m, p->fd[i]);
	free(p->fd);
	free(p);
}

static struct file *getf(struct lfs_proc *p, int fd)
{
	if (fd < 0 || fd >= p->nfd)
		return NULL;
	return p->fd[fd];
}

static int fd_install(struct lfs_proc *p, int want, struct file *f)
{
	int fd = want;
	if (fd < 0) {
		for (fd = 0; fd < p->nfd && p->fd[fd]; fd++)
			;
	}
	if (fd >= 1 << 20)
		return -EMFILE;
	if (fd >= p->nfd) {
		int n = p->nfd ? p->nfd : 16;
		while (n <= fd)
			n *= 2;
		struct file **nf = realloc(p->fd, (size_t)n * sizeof *nf);
		if (!nf)
			return -ENOMEM;
		memset(nf + p->nfd, 0, (size_t)(n - p->nfd) * sizeof *nf);
		p->fd = nf;
		p->nfd = n;
	}
	if (p->fd[fd])
		file_put(p->m, p->fd[fd]);
	p->fd[fd] = f;
	return fd;
}

int lfs_chdir(struct lfs_proc *p, const char *path)
{
	struct walk w;
	int rc = walk(p, NULL, path, 1, &w);
	if (rc < 0)
		return rc;
	if (!w.ino)
		return -ENOENT;
	if (!S_ISDIR(w.in.mode))
		return -ENOTDIR;
	p->cwd = w.ino;
	snprintf(p->cwdpath, sizeof p->cwdpath, "%s", w.canon);
	return 0;
}

int lfs_fchdir(struct lfs_proc *p, int fd)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	if (!S_ISDIR(f->mode))
		return -ENOTDIR;
	return lfs_chdir(p, f->path);
}

int lfs_getcwd(struct lfs_proc *p, char *buf, size_t cap)
{
	size_t l = strlen(p->cwdpath);
	if (l + 1 > cap)
		return -ERANGE;
	memcpy(buf, p->cwdpath, l + 1);
	return (int)l;
}

/* ---------------------------------------------------------------- files */

static const char *dirfd_base(struct lfs_proc *p, int dirfd, const char *path, int *rc)
{
	*rc = 0;
	if (dirfd == AT_FDCWD || (path && path[0] == '/'))
		return NULL;
	struct file *f = getf(p, dirfd);
	if (!f) {
		*rc = -EBADF;
		return NULL;
	}
	if (!S_ISDIR(f->mode)) {
		*rc = -ENOTDIR;
		return NULL;
	}
	return f->path;
}

/* The cached pages are written back first (KV then holds the whole file),
 * the KV side is truncated in one txn, then the cache follows
 * (truncate_inode_pages) and i_size. */
static int do_truncate(struct lfs_mount *m, uint64_t ino, uint64_t len)
{
	struct lfs_fs_inode in;
	int rc = lfs_fs_iget(m->fs, ino, &in);
	if (rc < 0)
		return rc;
	if (S_ISDIR(in.mode))
		return -EISDIR;
	if (!S_ISREG(in.mode))
		return -EINVAL;
	struct vnode *vn = vn_get(m, ino, 0);
	if (vn) {
		rc = lfs_pc_writeback(&vn->map, LFS_WB_SYNC, 0, 1);
		if (rc < 0)
			return rc;
		if ((rc = lfs_fs_iget(m->fs, ino, &in)) < 0)
			return rc;
	}
	rc = lfs_fs_truncate(m->fs, ino, &in, len);
	if (rc == 0)
		rc = lfs_fs_stage_inode(m->fs, ino, &in);
	if (rc == 0)
		rc = lfs_fs_commit(m->fs, 0);
	if (rc == 0 && vn) {
		lfs_pc_truncate(&vn->map, len);
		vn->map.i_size = len;
		vn->mtime_dirty = 0;
	}
	return rc;
}

static int open_common(struct lfs_proc *p, const struct file *dir, int want_fd, const char *path,
		       int flags, mode_t mode)
{
	struct lfs_mount *m = p->m;
	struct walk w;
	int acc = flags & O_ACCMODE;
	int rc, follow = !(flags & O_NOFOLLOW);
	if (!dir || !walk_in(p, dir, path, follow, &w, &rc))
		rc = walk(p, dir ? dir->path : NULL, path, follow, &w);
	if (rc < 0)
		return rc;
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		/* an unnamed file in directory `path` (Linux O_TMPFILE): an
		 * orphan until lfs_flink names it, freed at its last close */
		if (!w.ino)
			return -ENOENT;
		if (!S_ISDIR(w.in.mode))
			return -ENOTDIR;
		if (acc == O_RDONLY)
			return -EINVAL;
		if (m->ro)
			return -EROFS;
		rc = lfs_fs_create_unnamed(m->fs, S_IFREG | (mode & 07777), &w.ino);
		if (rc < 0)
			return rc;
		rc = lfs_fs_iget(m->fs, w.ino, &w.in);
		if (rc < 0)
			return rc;
		flags &= ~(O_TMPFILE | O_TRUNC);
	} else if (w.ino == 0) {
		if (!(flags & O_CREAT))
			return -ENOENT;
		if (w.trailing_slash)
			return -EISDIR;
		if (m->ro)
			return -EROFS;
		rc = lfs_fs_create(m->fs, w.parent, w.name, strlen(w.name),
				   S_IFREG | (mode & 07777), NULL, &w.ino);
		if (rc < 0)
			return rc;
		rc = lfs_fs_iget(m->fs, w.ino, &w.in);
		if (rc < 0)
			return rc;
	} else {
		if ((flags & O_CREAT) && (flags & O_EXCL))
			return -EEXIST;
		if (S_ISLNK(w.in.mode))
			return -ELOOP;
		if ((flags & O_DIRECTORY) && !S_ISDIR(w.in.mode))
			return -ENOTDIR;
		if (S_ISDIR(w.in.mode) && (acc != O_RDONLY || (flags & O_CREAT)))
			return -EISDIR;
		if (m->ro && (acc != O_RDONLY || (flags & O_TRUNC)))
			return -EROFS;
		if ((flags & O_TRUNC) && acc != O_RDONLY && S_ISREG(w.in.mode) &&
		    cur_size(m, w.ino, w.in.size)) {
			rc = do_truncate(m, w.ino, 0);
			if (rc < 0)
				return rc;
			w.in.size = 0;
		}
	}
	struct file *f = calloc(1, sizeof *f);
	struct vnode *vn = vn_get2(m, w.ino, 1, w.in.size);
	if (!f || !vn || !(f->path = strdup(w.canon))) {
		free(f);
		return -ENOMEM;
	}
	vn->opens++;
	f->vn = vn;
	f->ino = w.ino;
	f->flags = flags & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	f->refs = 1;
	f->mode = w.in.mode;
	f->f_op = &lightfs_file_ops;
	lfs_ra_init(&f->ra);
	rc = fd_install(p, want_fd, f);
	if (rc < 0)
		file_put(m, f);
	else
		m->st.vfs.opens++;
	return rc;
}

int lfs_open(struct lfs_proc *p, const char *path, int flags, mode_t mode)
{
	return open_common(p, NULL, -1, path, flags, mode);
}

int lfs_openat(struct lfs_proc *p, int dirfd, const char *path, int flags, mode_t mode)
{
	int rc;
	if (!path)
		return -EFAULT;
	if (!dirfd_base(p, dirfd, path, &rc) && rc < 0)
		return rc;
	const struct file *dir = dirfd == AT_FDCWD || path[0] == '/' ? NULL : getf(p, dirfd);
	return open_common(p, dir, -1, path, flags, mode);
}

int lfs_open_fd(struct lfs_proc *p, int want_fd, const char *path, int flags, mode_t mode)
{
	if (want_fd < 0)
		return -EBADF;
	return open_common(p, NULL, want_fd, path, flags, mode);
}

int lfs_close(struct lfs_proc *p, int fd)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	p->fd[fd] = NULL;
	return file_put(p->m, f);
}

/* ---------------------------------------------------------------- data paths */

static void vn_touch(struct vnode *vn)
{
	vn->mtime_ns = lfs_fs_now();
	vn->mtime_dirty = 1;
}

/* O_DIRECT read: dirty cached pages in the range are written back first,
 * then the pages come from KV without entering the cache: whole pages
 * straight into buf, DIRECT_BATCH a request (one image read, checksums
 * checked there), a partial page through the mount's page buffer. */
#define DIRECT_BATCH 64
static ssize_t direct_read(struct lfs_mount *m, struct vnode *vn, void *buf, size_t n, uint64_t off)
{
	uint32_t psz = m->psz;
	int rc = lfs_pc_invalidate_range(&vn->map, off, n);
	if (rc < 0)
		return rc;
	size_t done = 0;
	while (done < n) {
		uint64_t pos = off + done, idx = pos / psz;
		size_t po = (size_t)(pos % psz), take = psz - po;
		if (po == 0 && n - done >= psz) {
			size_t k = (n - done) / psz;
			if (k > DIRECT_BATCH)
				k = DIRECT_BATCH;
			uint64_t ix[DIRECT_BATCH];
			void *bufs[DIRECT_BATCH];
			int present[DIRECT_BATCH];
			for (size_t i = 0; i < k; i++) {
				ix[i] = idx + i;
				bufs[i] = (char *)buf + done + i * psz;
			}
			rc = lfs_fs_read_pages(m->fs, vn->ino, ix, k, bufs, present);
			if (rc < 0)
				return done ? (ssize_t)done : rc;
			done += k * psz;
			continue;
		}
		if (take > n - done)
			take = n - done;
		rc = lfs_fs_read_page(m->fs, vn->ino, idx, m->pgbuf);
		if (rc < 0)
			return done ? (ssize_t)done : rc;
		memcpy((char *)buf + done, m->pgbuf + po, take);
		done += take;
	}
	return (ssize_t)done;
}

/* O_DIRECT write: cached pages of the range are written back and dropped,
 * then the data goes to KV in txns of at most txn_max_pages pages, each
 * with the inode record (partial pages read-modify-write from KV). */
static ssize_t direct_write(struct lfs_mount *m, struct vnode *vn, const void *buf, size_t n,
			    uint64_t off)
{
	struct lfs_fs *fs = m->fs;
	uint32_t psz = m->psz;
	int rc = lfs_pc_invalidate_range(&vn->map, off, n);
	if (rc < 0)
		return rc;
	struct lfs_fs_inode in;
	if ((rc = lfs_fs_iget(fs, vn->ino, &in)) < 0)
		return rc;
	/* held times go in the records this write stores (its mtime after) */
	vn_apply_times(vn, &in);
	uint64_t old = vn->map.i_size, nsz = off + n > old ? off + n : old;
	size_t done = 0;
	uint32_t staged = 0;
	while (done < n) {
		uint64_t pos = off + done, idx = pos / psz;
		size_t po = (size_t)(pos % psz), take = psz - po;
		if (take > n - done)
			take = n - done;
		uint64_t pend = nsz - idx * psz;
		size_t len = pend < psz ? (size_t)pend : psz;
		if (po == 0 && take == len) {
			rc = lfs_fs_stage_page(fs, vn->ino, idx, (const char *)buf + done, len);
		} else {
			if (idx * psz < old) {
				rc = lfs_fs_read_page(fs, vn->ino, idx, m->pgbuf);
				if (rc < 0)
					break;
			} else {
				memset(m->pgbuf, 0, psz);
			}
			memcpy(m->pgbuf + po, (const char *)buf + done, take);
			rc = lfs_fs_stage_page(fs, vn->ino, idx, m->pgbuf, len);
		}
		if (rc < 0)
			break;
		done += take;
		if (++staged >= m->txn_max_pages || done == n) {
			uint64_t end = off + done;
			in.size = end > old ? end : old;
			in.mtime_ns = in.ctime_ns = lfs_fs_now();
			rc = lfs_fs_stage_inode(fs, vn->ino, &in);
			if (rc == 0)
				rc = lfs_fs_commit(fs, 0);
			if (rc < 0)
				break;
			if (in.size > vn->map.i_size)
				vn->map.i_size = in.size;
			staged = 0;
		}
	}
	if (rc < 0) {
		lfs_fs_commit(fs, 0);
		if (done == 0 || staged)
			return rc;
	}
	vn->mtime_dirty = 0;
	vn->times_set = 0;         /* stored with this write's records */
	return (ssize_t)done;
}

static ssize_t lightfs_file_read(struct file *f, void *buf, size_t n, uint64_t pos)
{
	struct vnode *vn = f->vn;
	struct lfs_mount *m = vn->m;
	if (pos >= vn->map.i_size || n == 0)
		return 0;
	if (n > vn->map.i_size - pos)
		n = (size_t)(vn->map.i_size - pos);
	if (f->flags & O_DIRECT)
		return direct_read(m, vn, buf, n, pos);
	return lfs_pc_filemap_read(&vn->map, &f->ra, buf, n, pos);
}

static ssize_t lightfs_file_write(struct file *f, const void *buf, size_t n, uint64_t pos)
{
	struct vnode *vn = f->vn;
	struct lfs_mount *m = vn->m;
	if (f->flags & O_DIRECT)
		return direct_write(m, vn, buf, n, pos);
	ssize_t r = lfs_pc_perform_write(&vn->map, buf, n, pos);
	if (r > 0)
		vn_touch(vn);
	return r;
}

static int lightfs_fsync(struct file *f, int datasync)
{
	struct vnode *vn = f->vn;
	struct lfs_mount *m = vn->m;
	(void)datasync;
	if (m->ro)
		return 0;
	/* dirty pages go in txns, the last committed durable (its sync covers
	 * every earlier commit); fsync waits for the txn holding its data */
	int n = lfs_pc_writeback(&vn->map, LFS_WB_FSYNC, 1, 0);
	if (n < 0)
		return n;
	int rc = 0;
	if (n > 0) {
		rc = lfs_fs_wb_wait(m->fs, lfs_fs_wb_last(m->fs), 1);
	} else {
		rc = lfs_pc_wait_writeback(&vn->map);
		if (rc == 0 && (vn->mtime_dirty || vn->times_set)) {
			/* in-core times with no page to carry them: one metadata txn */
			struct lfs_fs_inode in;
			if ((rc = lfs_fs_iget(m->fs, vn->ino, &in)) == 0) {
				vn_apply_times(vn, &in);
				if (vn->mtime_dirty)
					in.mtime_ns = in.ctime_ns = vn->mtime_ns;
				in.size = vn->map.i_size;
				rc = lfs_fs_stage_inode(m->fs, vn->ino, &in);
			}
			vn->mtime_dirty = 0;
			vn->times_set = 0;
		}
		int c = lfs_fs_commit(m->fs, 1);
		if (rc == 0)
			rc = c;
	}
	int e = lfs_pc_wait_writeback(&vn->map);
	return rc < 0 ? rc : e;
}

static const struct lfs_file_ops lightfs_file_ops = {
	.read  = lightfs_file_read,
	.write = lightfs_file_write,
	.fsync = lightfs_fsync,
};

static ssize_t do_read(struct lfs_mount *m, struct file *f, void *buf, size_t n, uint64_t off)
{
	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (S_ISDIR(f->mode))
		return -EISDIR;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	lfs_pc_tick(m->pc);
	ssize_t r = f->f_op->read(f, buf, n, off);
	if (r >= 0) {
		m->st.vfs.reads++;
		m->st.vfs.bytes_read += (uint64_t)r;
	}
	return r;
}

static ssize_t do_write(struct lfs_mount *m, struct file *f, const void *buf, size_t n,
			uint64_t off, int append)
{
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (m->ro)
		return -EROFS;
	if (S_ISDIR(f->mode))
		return -EISDIR;
	if (append)
		off = f->vn->map.i_size;
	if (n == 0)
		return 0;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	if (off + n < off || off + n > (UINT64_MAX >> 2))
		return -EFBIG;
	lfs_pc_tick(m->pc);
	ssize_t r = f->f_op->write(f, buf, n, off);
	if (r > 0) {
		m->st.vfs.writes++;
		m->st.vfs.bytes_written += (uint64_t)r;
		if (append)
			f->pos = (off_t)(off + (uint64_t)r);
	}
	return r;
}

/* ---------------------------------------------------------------- lightfs_aops */

static int lightfs_readpage(struct lfs_mapping *map, struct lfs_page *pg)
{
	struct vnode *vn = map->host;
	int rc = lfs_fs_read_page(vn->m->fs, vn->ino, pg->index, pg->data);
	return rc < 0 ? rc : 0;
}

static int lightfs_readahead(struct lfs_mapping *map, struct lfs_page **pages, unsigned n)
{
	struct vnode *vn = map->host;
	uint64_t *idx = malloc(n * sizeof *idx);
	void **bufs = malloc(n * sizeof *bufs);
	int *present = malloc(n * sizeof *present);
	int rc = -ENOMEM;
	if (idx && bufs && present) {
		for (unsigned i = 0; i < n; i++) {
			idx[i] = pages[i]->index;
			bufs[i] = pages[i]->data;
		}
		rc = lfs_fs_read_pages(vn->m->fs, vn->ino, idx, n, bufs, present);
	}
	free(idx);
	free(bufs);
	free(present);
	return rc < 0 ? rc : 0;
}

static int lightfs_write_begin(struct lfs_mapping *map, uint64_t pos, unsigned len,
			       struct lfs_page **pagep)
{
	return lfs_pc_write_begin(map, pos, len, pagep);
}

static int lightfs_write_end(struct lfs_mapping *map, uint64_t pos, unsigned len, unsigned copied,
			     struct lfs_page *pg)
{
	return lfs_pc_write_end(map, pos, len, copied, pg);
}

/* Pages (sorted, PG_writeback) go to KV in txns of at most txn_max_pages,
 * each with the inode record.  The size stored with a txn never covers a
 * page not yet in it or an earlier one, so a crash shows a prefix. */
static int lightfs_writepages(struct lfs_mapping *map, struct lfs_page **pages, unsigned n,
			      int reason, int sync)
{
	struct vnode *vn = map->host;
	struct lfs_fs *fs = vn->m->fs;
	uint32_t psz = vn->m->psz, maxp = lfs_fs_wb_max_pages(fs);
	struct lfs_fs_inode in;
	(void)reason;
	int rc = lfs_fs_iget(fs, vn->ino, &in);
	if (rc == -ENOENT) {                   /* the inode is gone: nothing to store */
		for (unsigned i = 0; i < n; i++)
			pages[i]->wb_seq = 0;
		return 0;
	}
	if (rc < 0)
		return rc;
	uint64_t disk = in.size;
	unsigned i = 0;
	while (i < n) {
		struct lfs_txn *t = lfs_fs_wb_begin(fs);
		if (!t)
			return -ENOMEM;
		unsigned j = i, k = 0;
		for (; j < n && k < maxp; j++) {
			struct lfs_page *p = pages[j];
			uint64_t start = p->index * psz;
			p->wb_seq = 0;
			if (start >= map->i_size)
				continue;                  /* past EOF: nothing to store */
			uint64_t len = map->i_size - start < psz ? map->i_size - start : psz;
			rc = lfs_fs_wb_page(fs, t, vn->ino, p->index, p->data, (size_t)len,
					    (p->flags & PG_crc) && len == psz ? &p->crc : NULL);
			if (rc < 0)
				break;
			k++;
		}
		int last = j == n;
		uint64_t end = (pages[j - 1]->index + 1) * psz;
		uint64_t size = last ? map->i_size : (end < map->i_size ? end : map->i_size);
		if (size < disk && !last)
			size = disk;
		in.size = size;
		vn_apply_times(vn, &in);
		if (last)
			vn->times_set = 0;
		if (vn->mtime_dirty) {
			in.mtime_ns = in.ctime_ns = vn->mtime_ns;
			if (last)
				vn->mtime_dirty = 0;
		}
		if (rc == 0)
			rc = lfs_fs_wb_inode(fs, t, vn->ino, &in);
		uint64_t seq = 0;
		if (rc < 0) {
			lfs_fs_wb_commit(fs, t, 0, &seq);   /* fails, aborting the txn */
			return rc;
		}
		rc = lfs_fs_wb_commit(fs, t, sync && last, &seq);
		if (rc < 0)
			return rc;
		for (unsigned x = i; x < j; x++)
			if (pages[x]->index * psz < map->i_size)
				pages[x]->wb_seq = seq;
		disk = size;
		i = j;
	}
	return 0;
}

static void lightfs_dirty(struct lfs_mapping *map, struct lfs_page *pg)
{
	(void)map;
	(void)pg;
}

static void lightfs_invalidate(struct lfs_mapping *map, struct lfs_page *pg)
{
	(void)map;
	(void)pg;
}

static int lightfs_release(struct lfs_mapping *map, struct lfs_page *pg)
{
	(void)map;
	return !(pg->flags & (PG_dirty | PG_writeback));
}

static int lightfs_wb_wait(struct lfs_mapping *map, uint64_t seq)
{
	struct vnode *vn = map->host;
	return lfs_fs_wb_wait(vn->m->fs, seq, 0);
}

static uint64_t lightfs_wb_done(struct lfs_mapping *map)
{
	struct vnode *vn = map->host;
	return lfs_fs_wb_done(vn->m->fs);
}

static const struct lfs_aops lightfs_aops = {
	.readpage    = lightfs_readpage,
	.readahead   = lightfs_readahead,
	.write_begin = lightfs_write_begin,
	.write_end   = lightfs_write_end,
	.writepages  = lightfs_writepages,
	.dirty       = lightfs_dirty,
	.invalidate  = lightfs_invalidate,
	.release     = lightfs_release,
	.wb_wait     = lightfs_wb_wait,
	.wb_done     = lightfs_wb_done,
};

ssize_t lfs_read(struct lfs_proc *p, int fd, void *buf, size_t n)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	ssize_t r = do_read(p->m, f, buf, n, (uint64_t)f->pos);
	if (r > 0)
		f->pos += r;
	return r;
}

ssize_t lfs_write(struct lfs_proc *p, int fd, const void *buf, size_t n)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	int app = !!(f->flags & O_APPEND);
	ssize_t r = do_write(p->m, f, buf, n, (uint64_t)f->pos, app);
	if (r > 0 && !app)
		f->pos += r;
	return r;
}

ssize_t lfs_pread(struct lfs_proc *p, int fd, void *buf, size_t n, off_t off)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	if (off < 0)
		return -EINVAL;
	return do_read(p->m, f, buf, n, (uint64_t)off);
}

ssize_t lfs_pwrite(struct lfs_proc *p, int fd, const void *buf, size_t n, off_t off)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	if (off < 0)
		return -EINVAL;
	/* Linux: pwrite on an O_APPEND fd appends */
	off_t save = f->pos;
	ssize_t r = do_write(p->m, f, buf, n, (uint64_t)off, !!(f->flags & O_APPEND));
	f->pos = save;
	return r;
}

off_t lfs_lseek(struct lfs_proc *p, int fd, off_t off, int whence)
{
	struct file *f = getf(p, fd);
	struct lfs_fs_inode in;
	if (!f)
		return -EBADF;
	int rc = lfs_fs_iget(p->m->fs, f->ino, &in);
	if (rc < 0)
		return rc;
	in.size = cur_size(p->m, f->ino, in.size);
	if ((whence == SEEK_DATA || whence == SEEK_HOLE) && f->vn && !p->m->ro) {
		/* holes are absent keys: the cached pages go to KV first */
		rc = lfs_pc_writeback(&f->vn->map, LFS_WB_SYNC, 0, 1);
		if (rc < 0)
			return rc;
	}
	off_t np;
	uint32_t psz = p->m->psz;
	switch (whence) {
	case SEEK_SET: np = off; break;
	case SEEK_CUR: np = f->pos + off; break;
	case SEEK_END: np = (off_t)in.size + off; break;
	case SEEK_DATA: case SEEK_HOLE: {
		if (off < 0 || (uint64_t)off >= in.size)
			return -ENXIO;
		uint64_t idx = (uint64_t)off / psz;
		if (whence == SEEK_DATA) {
			int64_t d = lfs_fs_next_data(p->m->fs, f->ino, idx);
			if (d < 0 || (uint64_t)d * psz >= in.size)
				return -ENXIO;
			np = (uint64_t)d == idx ? off : (off_t)((uint64_t)d * psz);
		} else {
			uint64_t i = idx;
			for (;;) {
				int64_t d = lfs_fs_next_data(p->m->fs, f->ino, i);
				if (d < 0 || (uint64_t)d != i)
					break;
				i++;
			}
			uint64_t h = i * psz;
			if (h < (uint64_t)off)
				h = (uint64_t)off;
			np = (off_t)(h > in.size ? in.size : h);
		}
		break;
	}
	default: return -EINVAL;
	}
	if (np < 0)
		return -EINVAL;
	f->pos = np;
	return np;
}

int lfs_fsync(struct lfs_proc *p, int fd)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	p->m->st.vfs.fsyncs++;
	if (!f->vn || !S_ISREG(f->mode))
		return p->m->ro ? 0 : lfs_fs_commit(p->m->fs, 1);
	return f->f_op->fsync(f, 0);
}

int lfs_fdatasync(struct lfs_proc *p, int fd) { return lfs_fsync(p, fd); }


int lfs_ftruncate(struct lfs_proc *p, int fd, off_t len)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	if (len < 0)
		return -EINVAL;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EINVAL;
	if (p->m->ro)
		return -EROFS;
	return do_truncate(p->m, f->ino, (uint64_t)len);
}

int lfs_truncate(struct lfs_proc *p, const char *path, off_t len)
{
	struct walk w;
	if (len < 0)
		return -EINVAL;
	int rc = walk(p, NULL, path, 1, &w);
	if (rc < 0)
		return rc;
	if (!w.ino)
		return -ENOENT;
	if (p->m->ro)
		return -EROFS;
	return do_truncate(p->m, w.ino, (uint64_t)len);
}

int lfs_fallocate(struct lfs_proc *p, int fd, int mode, off_t off, off_t len)
{
	struct file *f = getf(p, fd);
	struct lfs_fs_inode in;
	if (!f)
		return -EBADF;
	if (mode != 0)
		return -EOPNOTSUPP;
	if (off < 0 || len <= 0)
		return -EINVAL;
	int rc = lfs_fs_iget(p->m->fs, f->ino, &in);
	if (rc < 0)
		return rc;
	in.size = cur_size(p->m, f->ino, in.size);
	if ((uint64_t)(off + len) > in.size)
		return do_truncate(p->m, f->ino, (uint64_t)(off + len));
	return 0;
}

int lfs_fadvise(struct lfs_proc *p, int fd, off_t off, off_t len, int advice)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	if (off < 0 || len < 0)
		return -EINVAL;
	switch (advice) {
	case POSIX_FADV_NORMAL: case POSIX_FADV_SEQUENTIAL:
		lfs_ra_sequential(p->m->pc, &f->ra, advice == POSIX_FADV_SEQUENTIAL);
		return 0;
	case POSIX_FADV_RANDOM: case POSIX_FADV_NOREUSE: case POSIX_FADV_WILLNEED:
		return 0;
	case POSIX_FADV_DONTNEED:
		break;
	default:
		return -EINVAL;
	}
	struct vnode *vn = f->vn;
	if (!vn || !S_ISREG(f->mode) || !vn->map.nrpages)
		return 0;                     /* nothing cached */
	uint32_t psz = p->m->psz;
	/* generic_fadvise: write back (async), then drop the clean pages
	 * wholly inside the range (a partial page at either end stays) */
	if (vn->map.nrdirty && !p->m->ro)
		lfs_pc_writeback(&vn->map, LFS_WB_BACKGROUND, 0, 0);
	uint64_t first = ((uint64_t)off + psz - 1) / psz, last;
	if (len == 0 || (uint64_t)off + (uint64_t)len < (uint64_t)off) {
		last = UINT64_MAX;
	} else {
		uint64_t end = (uint64_t)off + (uint64_t)len;   /* exclusive */
		if (end / psz == 0)
			return 0;
		last = end / psz - 1;
	}
	lfs_pc_drop_clean_range(&vn->map, first, last);
	return 0;
}

int lfs_dup(struct lfs_proc *p, int fd)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	f->refs++;
	int rc = fd_install(p, -1, f);
	if (rc < 0)
		f->refs--;
	return rc;
}

int lfs_dup2(struct lfs_proc *p, int fd, int newfd)
{
	struct file *f = getf(p, fd);
	if (!f || newfd < 0)
		return -EBADF;
	if (fd == newfd)
		return newfd;
	f->refs++;
	int rc = fd_install(p, newfd, f);
	if (rc < 0)
		f->refs--;
	return rc;
}

int lfs_fcntl_setfl(struct lfs_proc *p, int fd, int flags)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	int keep = O_APPEND | O_DIRECT | O_NONBLOCK;
	f->flags = (f->flags & ~keep) | (flags & keep);
	return 0;
}

int lfs_fcntl_getfl(struct lfs_proc *p, int fd)
{
	struct file *f = getf(p, fd);
	return f ? f->flags : -EBADF;
}

/* ---------------------------------------------------------------- namespace */

static int create_node(struct lfs_proc *p, const char *path, uint32_t mode, const char *target)
{
	struct walk w;
	int rc = walk(p, NULL, path, 0, &w);
	if (rc < 0)
		return rc;
	if (w.ino)
		return -EEXIST;
	if (w.trailing_slash && !S_ISDIR(mode))
		return -ENOENT;
	if (p->m->ro)
		return -EROFS;
	return lfs_fs_create(p->m->fs, w.parent, w.name, strlen(w.name), mode, target, NULL);
}

int lfs_mkdir(struct lfs_proc *p, const char *path, mode_t mode)
{
	return create_node(p, path, S_IFDIR | (mode & 07777), NULL);
}

int lfs_symlink(struct lfs_proc *p, const char *target, const char *linkpath)
{
	if (!target || !*target)
		return -ENOENT;
	if (strlen(target) > LFS_FS_SYMLINK_MAX)
		return -ENAMETOOLONG;
	return create_node(p, linkpath, S_IFLNK | 0777, target);
}

int lfs_rmdir(struct lfs_proc *p, const char *path)
{
	struct walk w;
	int rc = walk(p, NULL, path, 0, &w);
	if (rc < 0)
		return rc;
	if (!w.ino)
		return -ENOENT;
	if (w.ino == LFS_FS_ROOT_INO)
		return -EBUSY;
	if (!strcmp(w.name, "."))
		return -EINVAL;
	if (p->m->ro)
		return -EROFS;
	p->m->ns_gen++;            /* a directory goes: its path leads nowhere */
	return lfs_fs_unlink(p->m->fs, w.parent, w.name, strlen(w.name), 1, 0, NULL);
}

int lfs_unlink(struct lfs_proc *p, const char *path)
{
	struct walk w;
	int rc = walk(p, NULL, path, 0, &w);
	if (rc < 0)
		return rc;
	if (!w.ino)
		return -ENOENT;
	if (S_ISDIR(w.in.mode))
		return -EISDIR;
	if (p->m->ro)
		return -EROFS;
	rc = lfs_fs_unlink(p->m->fs, w.parent, w.name, strlen(w.name), 0,
			   is_open(p->m, w.ino), NULL);
	if (rc == 0)
		reap_ino(p->m, w.ino);
	return rc;
}

int lfs_rename(struct lfs_proc *p, const char *from, const char *to, unsigned flags)
{
	struct walk a, b;
	if (flags & ~(unsigned)(LFS_RENAME_NOREPLACE | LFS_RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & LFS_RENAME_NOREPLACE) && (flags & LFS_RENAME_EXCHANGE))
		return -EINVAL;
	int rc = walk(p, NULL, from, 0, &a);
	if (rc < 0)
		return rc;
	if (!a.ino)
		return -ENOENT;
	rc = walk(p, NULL, to, 0, &b);
	if (rc < 0)
		return rc;
	if (a.ino == LFS_FS_ROOT_INO || b.ino == LFS_FS_ROOT_INO || !a.name[0] || !b.name[0])
		return -EBUSY;
	if (p->m->ro)
		return -EROFS;
	/* moving a directory below itself */
	size_t al = strlen(a.canon);
	if (S_ISDIR(a.in.mode) && !strncmp(b.canon, a.canon, al) && b.canon[al] == '/')
		return -EINVAL;
	if (b.ino && S_ISDIR(b.in.mode) && (flags & LFS_RENAME_EXCHANGE)) {
		size_t bl = strlen(b.canon);
		if (!strncmp(a.canon, b.canon, bl) && a.canon[bl] == '/')
			return -EINVAL;
	}
	uint64_t rep = 0;
	int keep = b.ino && is_open(p->m, b.ino);
	p->m->ns_gen++;            /* paths through a moved directory change */
	rc = lfs_fs_rename(p->m->fs, a.parent, a.name, strlen(a.name), b.parent, b.name,
			   strlen(b.name), flags, keep ? &rep : NULL);
	if (rc == 0 && rep)
		reap_ino(p->m, rep);
	return rc;
}

ssize_t lfs_readlink(struct lfs_proc *p, const char *path, char *buf, size_t cap)
{
	struct walk w;
	int rc = walk(p, NULL, path, 0, &w);
	if (rc < 0)
		return rc;
	if (!w.ino)
		return -ENOENT;
	if (!S_ISLNK(w.in.mode))
		return -EINVAL;
	size_t n = w.in.target_len < cap ? w.in.target_len : cap;
	memcpy(buf, w.in.target, n);
	return (ssize_t)n;
}

/* linkat(fd, "", AT_FDCWD, to, AT_EMPTY_PATH): name an open regular file,
 * also one opened with O_TMPFILE or unlinked while open.  Its dirty pages
 * are written back and committed first (not synced), so the new name is
 * committed after the data: the log is replayed in order, so after a crash
 * the name is either absent or names the complete file. */
int lfs_flink(struct lfs_proc *p, int fd, const char *to)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	if (!f->vn || !S_ISREG(f->mode))
		return -EPERM;
	struct walk b;
	int rc = walk(p, NULL, to, 0, &b);
	if (rc < 0)
		return rc;
	if (b.ino)
		return -EEXIST;
	if (b.trailing_slash)
		return -ENOENT;
	if (p->m->ro)
		return -EROFS;
	rc = lfs_pc_writeback(&f->vn->map, LFS_WB_SYNC, 0, 1);
	if (rc < 0)
		return rc;
	return lfs_fs_link(p->m->fs, f->ino, b.parent, b.name, strlen(b.name));
}

int lfs_link(struct lfs_proc *p, const char *from, const char *to)
{
	struct walk a, b;
	int rc = walk(p, NULL, from, 0, &a);
	if (rc < 0)
		return rc;
	if (!a.ino)
		return -ENOENT;
	if (S_ISDIR(a.in.mode))
		return -EPERM;
	rc = walk(p, NULL, to, 0, &b);
	if (rc < 0)
		return rc;
	if (b.ino)
		return -EEXIST;
	if (p->m->ro)
		return -EROFS;
	return lfs_fs_link(p->m->fs, a.ino, b.parent, b.name, strlen(b.name));
}

static int setattr_ino(struct lfs_proc *p, uint64_t ino, struct lfs_fs_inode *in, int what,
		       uint32_t mode, uint32_t uid, uint32_t gid, uint64_t at, uint64_t mt);

static int setattr(struct lfs_proc *p, const char *path, int follow, int what,
		   uint32_t mode, uint32_t uid, uint32_t gid, uint64_t at, uint64_t mt)
{
	struct walk w;
	int rc = walk(p, NULL, path, follow, &w);
	if (rc < 0)
		return rc;
	if (!w.ino)
		return -ENOENT;
	return setattr_ino(p, w.ino, &w.in, what, mode, uid, gid, at, mt);
}

/* futimens(2): the times of an open file, without a path walk. */
int lfs_futimens(struct lfs_proc *p, int fd, uint64_t atime_ns, uint64_t mtime_ns)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	struct lfs_fs_inode in;
	int rc = lfs_fs_iget(p->m->fs, f->ino, &in);
	if (rc < 0)
		return rc;
	return setattr_ino(p, f->ino, &in, 2, 0, 0, 0, atime_ns, mtime_ns);
}

static int setattr_ino(struct lfs_proc *p, uint64_t ino, struct lfs_fs_inode *in, int what,
		       uint32_t mode, uint32_t uid, uint32_t gid, uint64_t at, uint64_t mt)
{
	int rc;
	if (p->m->ro)
		return -EROFS;
	uint64_t now = lfs_fs_now();
	struct vnode *vn = vn_get(p->m, ino, 0);
	if (vn)
		vn_apply_times(vn, in);   /* held times first: this record carries them */
	if (what == 0)
		in->mode = (in->mode & S_IFMT) | (mode & 07777);
	else if (what == 1) {
		if (uid != (uint32_t)-1) in->uid = uid;
		if (gid != (uint32_t)-1) in->gid = gid;
	} else {
		if (at != UINT64_MAX) in->atime_ns = at;
		if (mt != UINT64_MAX) in->mtime_ns = mt;
		/* the time set here supersedes the in-core mtime of earlier
		 * writes, which writeback would otherwise store over it */
		if (vn && mt != UINT64_MAX)
			vn->mtime_dirty = 0;
		if (vn && S_ISREG(in->mode) && vn->map.nrdirty > 0) {
			/* pages to write back: their writeback stores the inode
			 * (size, times) anyway, so the times ride along */
			vn->set_atime_ns = in->atime_ns;
			vn->set_mtime_ns = in->mtime_ns;
			vn->set_ctime_ns = now;
			vn->times_set = 1;
			return 0;
		}
	}
	in->ctime_ns = now;
	if (vn)
		vn->times_set = 0;
	rc = lfs_fs_stage_inode(p->m->fs, ino, in);
	if (rc == 0)
		rc = lfs_fs_commit(p->m->fs, 0);
	return rc;
}

int lfs_chmod(struct lfs_proc *p, const char *path, mode_t mode)
{
	return setattr(p, path, 1, 0, mode, 0, 0, 0, 0);
}

int lfs_chown(struct lfs_proc *p, const char *path, uid_t uid, gid_t gid)
{
	return setattr(p, path, 0, 1, 0, uid, gid, 0, 0);
}

int lfs_utimens(struct lfs_proc *p, const char *path, uint64_t atime_ns, uint64_t mtime_ns)
{
	return setattr(p, path, 0, 2, 0, 0, 0, atime_ns, mtime_ns);
}

static void fill_stat(struct lfs_mount *m, uint64_t ino, const struct lfs_fs_inode *in,
		      struct lfs_stat *st)
{
	memset(st, 0, sizeof *st);
	st->ino = ino;
	st->mode = in->mode;
	st->nlink = in->nlink;
	st->uid = in->uid;
	st->gid = in->gid;
	st->size = in->size;
	st->atime_ns = in->atime_ns;
	st->mtime_ns = in->mtime_ns;
	st->ctime_ns = in->ctime_ns;
	st->btime_ns = in->btime_ns;
	st->blksize = m->psz;
	struct vnode *vn = vn_get(m, ino, 0);
	uint64_t dirty = 0;
	if (vn && S_ISREG(in->mode)) {
		st->size = vn->map.i_size;
		if (vn->times_set) {
			st->atime_ns = vn->set_atime_ns;
			st->mtime_ns = vn->set_mtime_ns;
			if (vn->set_ctime_ns > st->ctime_ns)
				st->ctime_ns = vn->set_ctime_ns;
		}
		if (vn->mtime_dirty)
			st->mtime_ns = st->ctime_ns = vn->mtime_ns;
		dirty = vn->map.nrdirty;    /* pages not in KV yet (an estimate) */
	}
	if (S_ISREG(in->mode)) {
		uint64_t pages = lfs_fs_count_pages(m->fs, ino) + dirty;
		uint64_t maxp = (st->size + m->psz - 1) / m->psz;
		st->blocks = (pages < maxp ? pages : maxp) * (m->psz / 512);
	}
}

static int stat_common(struct lfs_proc *p, const char *path, int follow, struct lfs_stat *st)
{
	struct walk w;
	int rc = walk(p, NULL, path, follow, &w);
	if (rc < 0)
		return rc;
	if (!w.ino)
		return -ENOENT;
	fill_stat(p->m, w.ino, &w.in, st);
	return 0;
}

int lfs_stat(struct lfs_proc *p, const char *path, struct lfs_stat *st)
{
	return stat_common(p, path, 1, st);
}

int lfs_lstat(struct lfs_proc *p, const char *path, struct lfs_stat *st)
{
	return stat_common(p, path, 0, st);
}

int lfs_fstat(struct lfs_proc *p, int fd, struct lfs_stat *st)
{
	struct file *f = getf(p, fd);
	struct lfs_fs_inode in;
	if (!f)
		return -EBADF;
	int rc = lfs_fs_iget(p->m->fs, f->ino, &in);
	if (rc < 0)
		return rc;
	fill_stat(p->m, f->ino, &in, st);
	return 0;
}

int lfs_fd_ident(struct lfs_proc *p, int fd, uint64_t *ino, uint32_t *mode, uint64_t *size)
{
	struct file *f = getf(p, fd);
	if (!f)
		return -EBADF;
	if (ino)
		*ino = f->ino;
	if (mode)
		*mode = f->mode;
	if (size)
		*size = f->vn ? f->vn->map.i_size : 0;
	return 0;
}

struct rd_ctx {
	int (*cb)(void *arg, const struct lfs_dirent *de);
	void *arg;
};

static int rd_cb(void *arg, uint64_t ino, uint8_t type, const char *name, size_t nlen)
{
	struct rd_ctx *c = arg;
	struct lfs_dirent de;
	de.ino = ino;
	de.type = type;
	memcpy(de.name, name, nlen);
	de.name[nlen] = 0;
	return c->cb(c->arg, &de);
}

int lfs_readdir(struct lfs_proc *p, const char *path,
		int (*cb)(void *arg, const struct lfs_dirent *de), void *arg)
{
	struct walk w;
	int rc = walk(p, NULL, path, 1, &w);
	if (rc < 0)
		return rc;
	if (!w.ino)
		return -ENOENT;
	if (!S_ISDIR(w.in.mode))
		return -ENOTDIR;
	struct rd_ctx c = { cb, arg };
	return lfs_fs_readdir(p->m->fs, w.ino, rd_cb, &c);
}

int lfs_statfs(struct lfs_mount *m, struct lfs_statfs *st)
{
	struct lfs_kv_stats k;
	lfs_mount_kv(m);           /* cached data reaches KV; the channel is idle */
	memset(st, 0, sizeof *st);
	st->page_size = m->psz;
	st->compress = (int)m->fs->sb.compress;
	st->level = m->fs->sb.level;
	snprintf(st->label, sizeof st->label, "%s", m->fs->sb.label);
	uint8_t pre[1] = { LFS_FS_K_INODE };
	struct lfs_kv_iter *it = lfs_kv_iter_prefix(m->kv, pre, 1);
	for (; it && lfs_kv_iter_valid(it); lfs_kv_iter_next(it)) {
		size_t vl;
		const void *v = lfs_kv_iter_value(it, &vl);
		struct lfs_fs_inode in;
		if (!v || lfs_fs_inode_decode(v, vl, &in) < 0)
			continue;
		st->inodes++;
		if (S_ISDIR(in.mode)) st->dirs++;
		else if (S_ISLNK(in.mode)) st->symlinks++;
		else if (S_ISREG(in.mode)) { st->files++; st->logical_bytes += in.size; }
	}
	lfs_kv_iter_free(it);
	pre[0] = LFS_FS_K_DATA;
	it = lfs_kv_iter_prefix(m->kv, pre, 1);
	for (; it && lfs_kv_iter_valid(it); lfs_kv_iter_next(it))
		st->stored_pages++;
	lfs_kv_iter_free(it);
	lfs_kv_stats(m->kv, &k);
	st->image_bytes = k.file_bytes;
	st->live_bytes = k.live_bytes;
	st->dead_bytes = k.dead_bytes;
	st->raw_value_bytes = k.raw_value_bytes;
	st->stored_value_bytes = k.stored_value_bytes;
	st->kv_keys = k.live_keys;
	return 0;
}
