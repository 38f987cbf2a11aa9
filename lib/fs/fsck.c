/* lib/fs/fsck.c — check and repair a LightFS image over its raw KV records (see fsck.h). */
#include "fs/fsck.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "common/crc32c.h"
#include "common/grow.h"
#include "fs/schema.h"
#include "kv/kv_int.h"   /* salvage reads the log format directly */

/* ---------------------------------------------------------------- scan state */

struct fino {
	uint64_t ino;
	int      bad;              /* record unreadable / undecodable */
	uint32_t mode, nlink;
	uint64_t size;
	uint16_t tl;
	uint32_t links;            /* valid dentries naming it */
	uint32_t subdirs;          /* kept dentries under it naming directories */
	uint64_t npages, maxidx, lastlen;
	int      bad_data;         /* a page is unreadable or oversized */
	int      reached;
	int      has_entries;      /* some dentry (any state) lies under it */
	size_t   kept;             /* dirs: index of the dentry that names it, or SIZE_MAX */
	int      color;            /* cycle walk */
};

struct fdent {
	uint64_t parent, child;
	uint8_t  type;
	int      bad;              /* record unreadable */
	int      valid;            /* parent is a directory and child exists */
	int      kept;             /* counts as the link of a directory */
	size_t   noff;             /* name in the pool */
	uint16_t nlen;
};

struct fpage {
	uint64_t ino, idx;
	uint32_t len;
	int      bad;
};

struct badkey { size_t off, len; };

struct scan {
	struct lfs_kv *kv;
	struct fino *ino; size_t nino, cino;
	struct fdent *d; size_t nd, cd;
	struct fpage *pg; size_t npg, cpg;
	struct badkey *bk; size_t nbk, cbk;
	uint8_t *pool; size_t npool, cpool;
	int have_sb, sb_bad;
	struct lfs_fs_super sb;
	uint32_t psz;
	uint64_t records;
	/* problems of this pass */
	struct lfs_fsck_problem *pr; size_t npr, cpr;
	int log_errors;
};

static int pool_add(struct scan *s, const void *b, size_t n, size_t *off)
{
	if (lfs_grow(&s->pool, &s->cpool, s->npool + n + 1, 1, 64) < 0)
		return -ENOMEM;
	memcpy(s->pool + s->npool, b, n);
	s->pool[s->npool + n] = 0;
	*off = s->npool;
	s->npool += n + 1;
	return 0;
}

static void scan_free(struct scan *s)
{
	free(s->ino); free(s->d); free(s->pg); free(s->bk); free(s->pool); free(s->pr);
	memset(s, 0, sizeof *s);
}

static const char *kind_names[LFS_FSCK_KIND_MAX] = {
	[LFS_FSCK_LOG] = "log-record",
	[LFS_FSCK_BAD_KEY] = "bad-key",
	[LFS_FSCK_BAD_RECORD] = "bad-record",
	[LFS_FSCK_SUPER] = "superblock",
	[LFS_FSCK_NEXT_INO] = "next-inode",
	[LFS_FSCK_ROOT] = "root",
	[LFS_FSCK_DANGLING] = "dangling-dentry",
	[LFS_FSCK_BAD_PARENT] = "bad-parent",
	[LFS_FSCK_TYPE] = "dentry-type",
	[LFS_FSCK_DIR_LINKS] = "dir-links",
	[LFS_FSCK_CYCLE] = "cycle",
	[LFS_FSCK_UNREACHABLE] = "unreachable",
	[LFS_FSCK_ORPHAN_OPEN] = "orphan-open",
	[LFS_FSCK_NLINK] = "nlink",
	[LFS_FSCK_SIZE] = "size",
	[LFS_FSCK_PAGE_EOF] = "page-past-eof",
	[LFS_FSCK_PAGE_ORPHAN] = "page-orphan",
	[LFS_FSCK_DAMAGED_FILE] = "damaged-file",
};

const char *lfs_fsck_kind_name(int kind)
{
	if (kind <= 0 || kind >= LFS_FSCK_KIND_MAX || !kind_names[kind])
		return "unknown";
	return kind_names[kind];
}

static struct lfs_fsck_problem *problem(struct scan *s, int kind, uint64_t ino, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static struct lfs_fsck_problem *problem(struct scan *s, int kind, uint64_t ino, const char *fmt, ...)
{
	static struct lfs_fsck_problem dummy;
	if (lfs_grow(&s->pr, &s->cpr, s->npr + 1, sizeof *s->pr, 64) < 0)
		return memset(&dummy, 0, sizeof dummy);
	struct lfs_fsck_problem *p = &s->pr[s->npr++];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->ino = ino;
	p->error = kind != LFS_FSCK_ORPHAN_OPEN;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof p->msg, fmt, ap);
	va_end(ap);
	return p;
}

static void set_key(struct lfs_fsck_problem *p, const void *k, size_t kl)
{
	lfs_fs_key_describe(k, kl, p->key, sizeof p->key);
}

static void set_name(struct lfs_fsck_problem *p, const char *name, size_t nlen)
{
	if (nlen >= sizeof p->name)
		nlen = sizeof p->name - 1;
	memcpy(p->name, name, nlen);
	p->name[nlen] = 0;
}

static struct fino *find_ino(struct scan *s, uint64_t ino)
{
	size_t lo = 0, hi = s->nino;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->ino[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nino && s->ino[lo].ino == ino ? &s->ino[lo] : NULL;
}

/* First dentry index with parent >= p (dentries are in key order). */
static size_t dent_lower(struct scan *s, uint64_t p)
{
	size_t lo = 0, hi = s->nd;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->d[mid].parent < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---------------------------------------------------------------- log walk */

static uint64_t intact_record_after(const char *path, uint64_t off);

struct walkctx {
	struct scan *s;
	const char *path;
	uint64_t bad_off;
	const char *bad_msg;
	int pending;               /* a bad record not yet followed by a good one */
};

static int walk_cb(void *arg, const struct lfs_kv_rec *r)
{
	struct walkctx *w = arg;
	if (r->kind == LFS_KV_REC_BAD) {
		if (w->pending) {
			int durable = !w->path || intact_record_after(w->path, w->bad_off);
			struct lfs_fsck_problem *p = problem(w->s, LFS_FSCK_LOG, 0,
				"log record at offset %llu: %s%s", (unsigned long long)w->bad_off, w->bad_msg,
				durable ? "" : " (never synced: cut by a crash; a writer drops it)");
			p->index = w->bad_off;
			p->error = durable;
			w->s->log_errors++;
		}
		w->bad_off = r->offset;
		w->bad_msg = r->msg ? r->msg : "damaged";
		w->pending = 1;
		return 0;
	}
	if (w->pending) {
		/* damage followed by intact records: not a torn tail, unless none
		 * of them says the damaged bytes were durable (power loss with
		 * writes reordered: the engine cuts such a tail at open) */
		int durable = !w->path || intact_record_after(w->path, w->bad_off);
		struct lfs_fsck_problem *p = problem(w->s, LFS_FSCK_LOG, 0,
			"log record at offset %llu: %s%s", (unsigned long long)w->bad_off, w->bad_msg,
			durable ? "" : " (never synced: cut by a crash; a writer drops it)");
		p->index = w->bad_off;
		p->error = durable;
		w->s->log_errors++;
		w->pending = 0;
	}
	return 0;
}

/* ---------------------------------------------------------------- scan */

static int scan_key(struct scan *s, const uint8_t *k, size_t kl, const void *v, size_t vl, int vbad,
		    const char *verr)
{
	struct lfs_fs_key key;
	int kind = lfs_fs_key_decode(k, kl, &key);
	s->records++;
	if (kind < 0) {
		if (lfs_grow(&s->bk, &s->cbk, s->nbk + 1, sizeof *s->bk, 64) < 0)
			return -ENOMEM;
		struct badkey *b = &s->bk[s->nbk++];
		b->len = kl;
		if (pool_add(s, k, kl, &b->off) < 0)
			return -ENOMEM;
		struct lfs_fsck_problem *p = problem(s, LFS_FSCK_BAD_KEY, 0, "key is not a lightfs key");
		set_key(p, k, kl);
		return 0;
	}
	switch (kind) {
	case LFS_FS_K_SUPER: {
		s->have_sb = 1;
		int rc = vbad ? LFS_E_CORRUPT : lfs_fs_super_decode(v, vl, &s->sb);
		if (rc < 0) {
			s->sb_bad = 1;
			problem(s, LFS_FSCK_SUPER, 0, "superblock: %s",
				vbad ? verr : lfs_strerror(rc));
		}
		break;
	}
	case LFS_FS_K_INODE: {
		if (lfs_grow(&s->ino, &s->cino, s->nino + 1, sizeof *s->ino, 64) < 0)
			return -ENOMEM;
		struct fino *f = &s->ino[s->nino++];
		memset(f, 0, sizeof *f);
		f->ino = key.ino;
		f->kept = SIZE_MAX;
		struct lfs_fs_inode in;
		int rc = vbad ? LFS_E_CORRUPT : lfs_fs_inode_decode(v, vl, &in);
		if (rc == 0 && lfs_fs_mode_dt(in.mode) == DT_UNKNOWN)
			rc = LFS_E_CORRUPT;
		if (rc == 0 && !S_ISLNK(in.mode) && in.target_len)
			rc = LFS_E_CORRUPT;
		if (rc < 0) {
			f->bad = 1;
			struct lfs_fsck_problem *p = problem(s, LFS_FSCK_BAD_RECORD, key.ino,
				"inode %llu: record unreadable: %s", (unsigned long long)key.ino,
				vbad ? verr : lfs_strerror(rc));
			set_key(p, k, kl);
			break;
		}
		f->mode = in.mode;
		f->nlink = in.nlink;
		f->size = in.size;
		f->tl = in.target_len;
		break;
	}
	case LFS_FS_K_DENTRY: {
		if (lfs_grow(&s->d, &s->cd, s->nd + 1, sizeof *s->d, 64) < 0)
			return -ENOMEM;
		struct fdent *d = &s->d[s->nd++];
		memset(d, 0, sizeof *d);
		d->parent = key.ino;
		d->nlen = (uint16_t)key.nlen;
		if (pool_add(s, key.name, key.nlen, &d->noff) < 0)
			return -ENOMEM;
		struct lfs_fs_dentry de;
		int rc = vbad ? LFS_E_CORRUPT : lfs_fs_dentry_decode(v, vl, &de);
		if (rc < 0) {
			d->bad = 1;
			struct lfs_fsck_problem *p = problem(s, LFS_FSCK_BAD_RECORD, 0,
				"dentry %llu/%.*s: record unreadable: %s", (unsigned long long)key.ino,
				(int)key.nlen, key.name, vbad ? verr : lfs_strerror(rc));
			p->parent = key.ino;
			set_name(p, key.name, key.nlen);
			set_key(p, k, kl);
			break;
		}
		d->child = de.ino;
		d->type = de.type;
		break;
	}
	case LFS_FS_K_DATA: {
		if (lfs_grow(&s->pg, &s->cpg, s->npg + 1, sizeof *s->pg, 64) < 0)
			return -ENOMEM;
		struct fpage *g = &s->pg[s->npg++];
		g->ino = key.ino;
		g->idx = key.index;
		g->len = vl > UINT32_MAX ? UINT32_MAX : (uint32_t)vl;
		g->bad = vbad;
		if (vbad) {
			struct lfs_fsck_problem *p = problem(s, LFS_FSCK_BAD_RECORD, key.ino,
				"data %llu page %llu: unreadable: %s", (unsigned long long)key.ino,
				(unsigned long long)key.index, verr);
			p->index = key.index;
			set_key(p, k, kl);
		}
		break;
	}
	}
	return 0;
}

static int do_scan(struct scan *s, int read_data, struct lfs_err *err)
{
	uint8_t k[LFS_KV_MAX_KEY + 1];
	size_t kl = 0;
	int have_last = 0;
	for (;;) {
		struct lfs_kv_iter *it;
		if (have_last) {
			k[kl] = 0;   /* smallest key after the last one */
			it = lfs_kv_iter_new(s->kv, k, kl + 1, NULL, 0);
		} else {
			it = lfs_kv_iter_new(s->kv, NULL, 0, NULL, 0);
		}
		if (!it)
			return lfs_seterr(err, -ENOMEM, "out of memory");
		int restart = 0;
		for (; lfs_kv_iter_valid(it); lfs_kv_iter_next(it)) {
			const void *kp = lfs_kv_iter_key(it, &kl);
			if (kl > LFS_KV_MAX_KEY)
				kl = LFS_KV_MAX_KEY;
			memcpy(k, kp, kl);
			have_last = 1;
			int is_data = kl == LFS_FS_DATA_KLEN && k[0] == LFS_FS_K_DATA;
			const void *v = NULL;
			size_t vl = 0;
			if (is_data && !read_data) {
				vl = lfs_kv_iter_value_len(it);
			} else {
				v = lfs_kv_iter_value(it, &vl);
				if (!v) {
					struct lfs_err e;
					memset(&e, 0, sizeof e);
					int rc = lfs_kv_iter_error(it, &e);
					if (rc == -ENOMEM) {
						lfs_kv_iter_free(it);
						return lfs_seterr(err, rc, "out of memory");
					}
					rc = scan_key(s, k, kl, NULL, lfs_kv_iter_value_len(it), 1,
						      e.msg[0] ? e.msg : lfs_strerror(rc));
					if (rc < 0) {
						lfs_kv_iter_free(it);
						return lfs_seterr(err, rc, "out of memory");
					}
					restart = 1;
					break;
				}
			}
			int rc = scan_key(s, k, kl, v, vl, 0, NULL);
			if (rc < 0) {
				lfs_kv_iter_free(it);
				return lfs_seterr(err, rc, "out of memory");
			}
		}
		if (!restart) {
			struct lfs_err e;
			memset(&e, 0, sizeof e);
			int rc = lfs_kv_iter_error(it, &e);
			lfs_kv_iter_free(it);
			if (rc < 0)
				return lfs_seterr(err, rc, "scan: %s", lfs_errmsg(&e, rc));
			return 0;
		}
		lfs_kv_iter_free(it);
		if (kl >= LFS_KV_MAX_KEY)
			return 0;   /* nothing can follow a maximal key of 0xff.. — stop */
	}
}

/* Page size to assume when the superblock is lost: the one every page fits. */
static uint32_t infer_psz(struct scan *s)
{
	uint32_t full = 0, maxlen = 0;
	for (size_t i = 0; i < s->npg; i++) {
		struct fpage *g = &s->pg[i];
		if (g->bad)
			continue;
		if (g->len > maxlen)
			maxlen = g->len;
		if (g->len > LFS_FS_PAGE_MAX)
			continue;   /* no page at all (a salvage mark) */
		struct fino *f = find_ino(s, g->ino);
		/* a page followed by a later page of the same file is full */
		if (i + 1 < s->npg && s->pg[i + 1].ino == g->ino && f && !f->bad && g->len > full)
			full = g->len;
	}
	uint32_t want = full > maxlen ? full : maxlen;
	uint32_t p = LFS_FS_PAGE_MIN;
	while (p < want && p < LFS_FS_PAGE_MAX)
		p <<= 1;
	if (!full && !maxlen)
		return 4096;
	if (!full && p < 4096)
		p = 4096;   /* one short page each: the default geometry is the best guess */
	return p;
}

/* ---------------------------------------------------------------- analysis */

static const char *dname(struct scan *s, const struct fdent *d) { return (const char *)s->pool + d->noff; }

static struct lfs_fsck_problem *dproblem(struct scan *s, int kind, const struct fdent *d, const char *fmt,
					 const char *what)
{
	struct lfs_fsck_problem *p = problem(s, kind, d->child, fmt, (unsigned long long)d->parent,
					     (int)d->nlen, dname(s, d), (unsigned long long)d->child, what);
	p->parent = d->parent;
	set_name(p, dname(s, d), d->nlen);
	uint8_t k[LFS_FS_KEY_MAX];
	int kl = lfs_fs_key_dentry(k, d->parent, dname(s, d), d->nlen);
	if (kl > 0)
		set_key(p, k, (size_t)kl);
	return p;
}

static int file_has_data(const struct fino *f)
{
	if (S_ISDIR(f->mode))
		return f->has_entries;
	if (S_ISLNK(f->mode))
		return 1;
	return f->size > 0 || f->npages > 0;
}

static void analyze(struct scan *s)
{
	s->psz = s->have_sb && !s->sb_bad ? s->sb.page_size : infer_psz(s);
	if (!s->have_sb)
		problem(s, LFS_FSCK_SUPER, 0, "superblock missing");

	/* pages: counts per inode */
	for (size_t i = 0; i < s->npg; i++) {
		struct fpage *g = &s->pg[i];
		struct fino *f = find_ino(s, g->ino);
		if (!f)
			continue;
		f->npages++;
		if (g->idx >= f->maxidx) {
			f->maxidx = g->idx;
			f->lastlen = g->len;
		}
		if (g->bad || g->len > s->psz)
			f->bad_data = 1;
	}
	for (size_t i = 0; i < s->nd; i++) {
		struct fino *p = find_ino(s, s->d[i].parent);
		if (p)
			p->has_entries = 1;
	}

	/* root */
	struct fino *root = find_ino(s, LFS_FS_ROOT_INO);
	if (!root)
		problem(s, LFS_FSCK_ROOT, LFS_FS_ROOT_INO, "root inode 1 missing");
	else if (!root->bad && !S_ISDIR(root->mode))
		problem(s, LFS_FSCK_ROOT, LFS_FS_ROOT_INO, "root inode 1 is not a directory (mode %o)",
			root->mode);

	/* dentries */
	for (size_t i = 0; i < s->nd; i++) {
		struct fdent *d = &s->d[i];
		if (d->bad)
			continue;
		struct fino *p = find_ino(s, d->parent), *c = find_ino(s, d->child);
		if (p && p->bad)
			continue;   /* the parent's record is rebuilt first */
		if (!p || !S_ISDIR(p->mode)) {
			dproblem(s, LFS_FSCK_BAD_PARENT, d, "dentry %llu/%.*s -> inode %llu: %s",
				 p ? "parent is not a directory" : "parent inode missing");
			continue;
		}
		if (c && c->bad)
			continue;
		if (!c) {
			dproblem(s, LFS_FSCK_DANGLING, d, "dentry %llu/%.*s -> inode %llu: %s",
				 "inode missing");
			continue;
		}
		d->valid = 1;
		if (lfs_fs_mode_dt(c->mode) != d->type) {
			struct lfs_fsck_problem *pr = dproblem(s, LFS_FSCK_TYPE, d,
				"dentry %llu/%.*s -> inode %llu: %s", "type differs from the inode's");
			pr->have = d->type;
			pr->want = lfs_fs_mode_dt(c->mode);
		}
		if (S_ISDIR(c->mode)) {
			if (c->ino == LFS_FS_ROOT_INO || c->kept != SIZE_MAX) {
				dproblem(s, LFS_FSCK_DIR_LINKS, d, "dentry %llu/%.*s -> inode %llu: %s",
					 c->ino == LFS_FS_ROOT_INO ? "names the root directory"
					 : "second name of a directory");
				d->valid = 0;
				continue;
			}
			c->kept = i;
			d->kept = 1;
			p->subdirs++;
		}
		c->links++;
	}

	/* reachability from the root */
	if (root && !root->bad && S_ISDIR(root->mode)) {
		uint64_t *q = malloc((s->nino + 1) * sizeof *q);
		size_t qh = 0, qt = 0;
		if (q) {
			root->reached = 1;
			q[qt++] = root->ino;
			while (qh < qt) {
				uint64_t dir = q[qh++];
				for (size_t i = dent_lower(s, dir); i < s->nd && s->d[i].parent == dir; i++) {
					struct fdent *d = &s->d[i];
					if (!d->valid)
						continue;
					struct fino *c = find_ino(s, d->child);
					if (!c || c->reached)
						continue;
					if (S_ISDIR(c->mode) && !d->kept)
						continue;
					c->reached = 1;
					if (S_ISDIR(c->mode) && qt <= s->nino)
						q[qt++] = c->ino;
				}
			}
			free(q);
		}
	}

	/* cycles: unreached directories whose parent chain loops */
	for (size_t i = 0; i < s->nino; i++) {
		struct fino *f = &s->ino[i];
		if (f->bad || f->reached || !S_ISDIR(f->mode) || f->kept == SIZE_MAX || f->color)
			continue;
		struct fino *x = f;
		while (x && !x->color && x->kept != SIZE_MAX && !x->reached) {
			x->color = 1;
			x = find_ino(s, s->d[x->kept].parent);
		}
		if (x && x->color == 1) {
			/* x is on the loop: find its smallest inode */
			struct fino *m = x, *y = find_ino(s, s->d[x->kept].parent);
			while (y && y != x) {
				if (y->ino < m->ino)
					m = y;
				y = find_ino(s, s->d[y->kept].parent);
			}
			struct fdent *d = &s->d[m->kept];
			struct lfs_fsck_problem *p = dproblem(s, LFS_FSCK_CYCLE, d,
				"dentry %llu/%.*s -> inode %llu: %s", "directory cycle, unreachable from the root");
			p->ino = m->ino;
		}
		for (x = f; x && x->color == 1; x = x->kept != SIZE_MAX ? find_ino(s, s->d[x->kept].parent) : NULL)
			x->color = 2;
	}

	/* orphans, link counts, sizes */
	uint64_t maxino = 0;
	for (size_t i = 0; i < s->nino; i++) {
		struct fino *f = &s->ino[i];
		if (f->ino > maxino)
			maxino = f->ino;
		if (f->bad)
			continue;
		if (f->bad_data && S_ISREG(f->mode) && f->links) {
			problem(s, LFS_FSCK_DAMAGED_FILE, f->ino,
				"inode %llu: file data damaged (unreadable or oversized page)",
				(unsigned long long)f->ino);
		}
		int isroot = f->ino == LFS_FS_ROOT_INO;
		if (!f->links && !isroot) {
			if (f->nlink == 0 && (!S_ISDIR(f->mode) || !f->has_entries))
				problem(s, LFS_FSCK_ORPHAN_OPEN, f->ino,
					"inode %llu: unlinked while open (freed)", (unsigned long long)f->ino);
			else
				problem(s, LFS_FSCK_UNREACHABLE, f->ino,
					"inode %llu: no directory entry names it (%s)", (unsigned long long)f->ino,
					file_has_data(f) ? "has data" : "empty");
			continue;
		}
		if (!f->reached && !isroot)
			continue;   /* under a cycle: counted again once relinked */
		uint64_t want = S_ISDIR(f->mode) ? 2u + f->subdirs : f->links;
		if (f->nlink != want) {
			struct lfs_fsck_problem *p = problem(s, LFS_FSCK_NLINK, f->ino,
				"inode %llu: link count %u, should be %llu", (unsigned long long)f->ino,
				f->nlink, (unsigned long long)want);
			p->have = f->nlink;
			p->want = want;
		}
		if ((S_ISLNK(f->mode) && f->size != f->tl) || (S_ISDIR(f->mode) && f->size != 0)) {
			uint64_t w = S_ISLNK(f->mode) ? f->tl : 0;
			struct lfs_fsck_problem *p = problem(s, LFS_FSCK_SIZE, f->ino,
				"inode %llu: size %llu, should be %llu", (unsigned long long)f->ino,
				(unsigned long long)f->size, (unsigned long long)w);
			p->have = f->size;
			p->want = w;
		}
	}

	/* pages (consecutive pages of one inode with the same problem: one entry) */
	size_t lastp = SIZE_MAX;
	for (size_t i = 0; i < s->npg; i++) {
		struct fpage *g = &s->pg[i];
		struct fino *f = find_ino(s, g->ino);
		if (g->bad)
			continue;
		if (f && f->bad)
			continue;
		if (f && !f->links && f->ino != LFS_FS_ROOT_INO)
			continue;   /* freed or relinked with its inode */
		int kind = !f || !S_ISREG(f->mode) ? LFS_FSCK_PAGE_ORPHAN : g->len > s->psz ? LFS_FSCK_BAD_RECORD
			   : g->idx >= (f->size + s->psz - 1) / s->psz ? LFS_FSCK_PAGE_EOF : 0;
		if (!kind)
			continue;
		if (kind != LFS_FSCK_BAD_RECORD && lastp != SIZE_MAX && lastp + 1 == s->npr &&
		    s->pr[lastp].kind == kind && s->pr[lastp].ino == g->ino) {
			struct lfs_fsck_problem *q = &s->pr[lastp];
			q->have++;
			snprintf(q->msg, sizeof q->msg, "data %llu pages %llu..%llu (%llu pages): %s",
				 (unsigned long long)g->ino, (unsigned long long)q->index,
				 (unsigned long long)g->idx, (unsigned long long)q->have,
				 kind == LFS_FSCK_PAGE_EOF ? "past end of file" :
				 f ? "inode is not a regular file" : "inode missing");
			continue;
		}
		struct lfs_fsck_problem *p = NULL;
		if (!f || !S_ISREG(f->mode)) {
			p = problem(s, LFS_FSCK_PAGE_ORPHAN, g->ino, "data %llu page %llu: %s",
				    (unsigned long long)g->ino, (unsigned long long)g->idx,
				    f ? "inode is not a regular file" : "inode missing");
		} else if (g->len > s->psz) {
			p = problem(s, LFS_FSCK_BAD_RECORD, g->ino, "data %llu page %llu: %u bytes, page size %u",
				    (unsigned long long)g->ino, (unsigned long long)g->idx, g->len, s->psz);
		} else if (g->idx >= (f->size + s->psz - 1) / s->psz) {
			p = problem(s, LFS_FSCK_PAGE_EOF, g->ino, "data %llu page %llu: past end of file (size %llu)",
				    (unsigned long long)g->ino, (unsigned long long)g->idx,
				    (unsigned long long)f->size);
		}
		if (p) {
			uint8_t k[LFS_FS_DATA_KLEN];
			p->index = g->idx;
			p->have = 1;   /* pages */
			set_key(p, k, lfs_fs_key_data(k, g->ino, g->idx));
			lastp = s->npr - 1;
		}
	}

	/* allocator */
	if (s->have_sb && !s->sb_bad && maxino >= s->sb.next_ino) {
		struct lfs_fsck_problem *p = problem(s, LFS_FSCK_NEXT_INO, 0,
			"superblock: next inode %llu, but inode %llu is in use",
			(unsigned long long)s->sb.next_ino, (unsigned long long)maxino);
		p->have = s->sb.next_ino;
		p->want = maxino + 1;
	}
}

/* ---------------------------------------------------------------- repair */

static int count_kind(struct scan *s, int kind)
{
	int n = 0;
	for (size_t i = 0; i < s->npr; i++)
		n += s->pr[i].kind == kind;
	return n;
}

static uint64_t max_ino(struct scan *s)
{
	return s->nino ? s->ino[s->nino - 1].ino : LFS_FS_ROOT_INO;
}

static int put_inode(struct lfs_kv_batch *b, uint64_t ino, const struct lfs_fs_inode *in)
{
	uint8_t k[LFS_FS_INODE_KLEN];
	uint8_t *v = malloc(LFS_FS_INODE_VMAX);
	if (!v)
		return -ENOMEM;
	size_t vl = lfs_fs_inode_encode(in, v);
	int rc = lfs_kv_batch_put(b, k, lfs_fs_key_inode(k, ino), v, vl);
	free(v);
	return rc;
}

static int put_dentry(struct lfs_kv_batch *b, uint64_t dir, const char *name, size_t nlen,
		      uint64_t ino, uint8_t type)
{
	uint8_t k[LFS_FS_KEY_MAX], v[LFS_FS_DENTRY_VLEN];
	int kl = lfs_fs_key_dentry(k, dir, name, nlen);
	if (kl < 0)
		return kl;
	struct lfs_fs_dentry d = { .ino = ino, .type = type };
	lfs_fs_dentry_encode(&d, v);
	return lfs_kv_batch_put(b, k, (size_t)kl, v, sizeof v);
}

static int del_dentry(struct lfs_kv_batch *b, struct scan *s, const struct fdent *d)
{
	uint8_t k[LFS_FS_KEY_MAX];
	int kl = lfs_fs_key_dentry(k, d->parent, dname(s, d), d->nlen);
	if (kl < 0)
		return kl;
	return lfs_kv_batch_del(b, k, (size_t)kl);
}

static int del_pages_from(struct lfs_kv_batch *b, uint64_t ino, uint64_t from)
{
	uint8_t lo[LFS_FS_DATA_KLEN], hi[LFS_FS_DATA_KLEN];
	lfs_fs_key_data(lo, ino, from);
	if (ino == UINT64_MAX)
		return lfs_kv_batch_del_range(b, lo, sizeof lo, "C", 1);
	lfs_fs_key_data_prefix(hi, ino + 1);
	return lfs_kv_batch_del_range(b, lo, sizeof lo, hi, 9);
}

static int put_super(struct lfs_kv_batch *b, const struct lfs_fs_super *sb)
{
	uint8_t k[4], v[LFS_FS_SUPER_VLEN];
	return lfs_kv_batch_put(b, k, lfs_fs_key_super(k), v, lfs_fs_super_encode(sb, v));
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fresh_inode(struct lfs_fs_inode *in, uint32_t mode, uint32_t nlink)
{
	memset(in, 0, sizeof *in);
	uint64_t t = now_ns();
	in->mode = mode;
	in->nlink = nlink;
	in->uid = (uint32_t)getuid();
	in->gid = (uint32_t)getgid();
	in->atime_ns = in->mtime_ns = in->ctime_ns = in->btime_ns = t;
}

/* Read an inode record (for rewriting one field). */
static int get_inode(struct scan *s, uint64_t ino, struct lfs_fs_inode *in)
{
	uint8_t k[LFS_FS_INODE_KLEN];
	uint8_t *v = malloc(LFS_FS_INODE_VMAX);
	size_t vl = 0;
	if (!v)
		return -ENOMEM;
	int rc = lfs_kv_get_into(s->kv, k, lfs_fs_key_inode(k, ino), v, LFS_FS_INODE_VMAX, &vl, NULL);
	if (rc == 0)
		rc = vl > LFS_FS_INODE_VMAX ? LFS_E_CORRUPT : lfs_fs_inode_decode(v, vl, in);
	free(v);
	return rc;
}

/* Detach a file: drop every dentry naming it (it goes to lost+found next). */
static int detach(struct lfs_kv_batch *b, struct scan *s, uint64_t ino)
{
	int n = 0;
	for (size_t i = 0; i < s->nd; i++) {
		if (!s->d[i].bad && s->d[i].child == ino) {
			int rc = del_dentry(b, s, &s->d[i]);
			if (rc < 0)
				return rc;
			n++;
		}
	}
	return n;
}

static int step_super(struct scan *s, struct lfs_kv_batch *b)
{
	struct lfs_fs_super sb;
	struct lfs_kv_stats st;
	lfs_kv_stats(s->kv, &st);
	memset(&sb, 0, sizeof sb);
	sb.version = LFS_FS_VERSION;
	sb.page_size = s->psz;
	sb.compress = st.compress == LFS_KV_COMPRESS_ZSTD;
	sb.level = st.level;
	sb.root_ino = LFS_FS_ROOT_INO;
	sb.next_ino = max_ino(s) + 1;
	if (sb.next_ino <= LFS_FS_ROOT_INO)
		sb.next_ino = LFS_FS_ROOT_INO + 1;
	sb.ctime_ns = now_ns();
	int rc = put_super(b, &sb);
	return rc < 0 ? rc : 1;
}

static int lf_name_taken(struct scan *s, uint64_t lf, const char *name);
static int64_t lost_found(struct scan *s, struct lfs_kv_batch *b, uint32_t add_subdirs,
			  uint64_t *next_ino, int *created);

/* Does lost+found directory lf name ino as name? */
static int lf_name_is(struct scan *s, uint64_t lf, const char *name, uint64_t ino)
{
	size_t nl = strlen(name);
	for (size_t i = dent_lower(s, lf); i < s->nd && s->d[i].parent == lf; i++)
		if (s->d[i].nlen == nl && !memcmp(dname(s, &s->d[i]), name, nl))
			return !s->d[i].bad && s->d[i].child == ino;
	return 0;
}

/* Link file f as lost+found/#INO in batch b (lost+found found or created
 * once per step: *lf 0 = not yet, -1 = unusable, then the orphan step
 * links it).  0 or -ENOMEM. */
static int lf_link_now(struct scan *s, struct lfs_kv_batch *b, const struct fino *f, int64_t *lf,
		       uint64_t *next, int *created)
{
	struct fino *root = find_ino(s, LFS_FS_ROOT_INO);
	if (*lf == 0) {
		*lf = -1;
		if (root && !root->bad) {
			int64_t r = lost_found(s, b, 0, next, created);
			if (r == -ENOMEM)
				return -ENOMEM;
			if (r > 0)
				*lf = r;
		}
	}
	if (*lf < 0)
		return 0;
	char name[64];
	snprintf(name, sizeof name, "#%llu", (unsigned long long)f->ino);
	/* (a name it already has there was just dropped by detach: reused) */
	for (int j = 1; !*created && lf_name_taken(s, (uint64_t)*lf, name) && !lf_name_is(s, (uint64_t)*lf, name, f->ino) &&
			j < 1000; j++)
		snprintf(name, sizeof name, "#%llu.%d", (unsigned long long)f->ino, j);
	int rc = put_dentry(b, (uint64_t)*lf, name, strlen(name), f->ino, lfs_fs_mode_dt(f->mode));
	return rc < 0 ? rc : 0;
}

static int step_records(struct scan *s, struct lfs_kv_batch *b)
{
	int n = 0, rc;
	int64_t lf = 0;
	int lf_created = 0;
	uint64_t next = s->sb.next_ino > max_ino(s) ? s->sb.next_ino : max_ino(s) + 1;
	for (size_t i = 0; i < s->nbk; i++) {
		if ((rc = lfs_kv_batch_del(b, s->pool + s->bk[i].off, s->bk[i].len)) < 0)
			return rc;
		n++;
	}
	for (size_t i = 0; i < s->nd; i++) {
		if (!s->d[i].bad)
			continue;
		if ((rc = del_dentry(b, s, &s->d[i])) < 0)
			return rc;
		n++;
	}
	for (size_t i = 0; i < s->nino; i++) {
		struct fino *f = &s->ino[i];
		struct lfs_fs_inode in;
		if (f->bad) {
			if (f->has_entries || f->ino == LFS_FS_ROOT_INO) {
				/* a directory: rebuild it, its entries and its name stay */
				fresh_inode(&in, S_IFDIR | 0755, 2);
				if ((rc = put_inode(b, f->ino, &in)) < 0)
					return rc;
				for (size_t j = 0; j < s->nd; j++)
					if (!s->d[j].bad && s->d[j].child == f->ino && s->d[j].type != DT_DIR &&
					    (rc = del_dentry(b, s, &s->d[j])) < 0)
						return rc;
			} else if (f->npages) {
				/* a file whose metadata is lost: its pages go to lost+found */
				fresh_inode(&in, S_IFREG | 0600, 1);
				in.size = f->maxidx * (uint64_t)s->psz + (f->lastlen > s->psz ? s->psz : f->lastlen);
				if ((rc = put_inode(b, f->ino, &in)) < 0 || (rc = detach(b, s, f->ino)) < 0)
					return rc;
			} else {
				uint8_t k[LFS_FS_INODE_KLEN];
				if ((rc = lfs_kv_batch_del(b, k, lfs_fs_key_inode(k, f->ino))) < 0)
					return rc;
			}
			n++;
		} else if (f->bad_data && S_ISREG(f->mode)) {
			if ((rc = detach(b, s, f->ino)) < 0)
				return rc;
			/* linked into lost+found in this same batch: left to the
			 * orphan step, a damaged file with no data left (an empty
			 * file a salvage marked suspect, or one whose only pages
			 * were bad) would be freed as an empty orphan */
			if ((rc = lf_link_now(s, b, f, &lf, &next, &lf_created)) < 0)
				return rc;
			if (f->links && f->nlink == 0) {
				/* keep it an orphan with data, not an unlinked-open one */
				if ((rc = get_inode(s, f->ino, &in)) < 0)
					return rc;
				in.nlink = 1;
				if ((rc = put_inode(b, f->ino, &in)) < 0)
					return rc;
			}
			n++;
		}
	}
	for (size_t i = 0; i < s->npg; i++) {
		struct fpage *g = &s->pg[i];
		if (!g->bad && g->len <= s->psz)
			continue;
		uint8_t k[LFS_FS_DATA_KLEN];
		if ((rc = lfs_kv_batch_del(b, k, lfs_fs_key_data(k, g->ino, g->idx))) < 0)
			return rc;
		n++;
	}
	if (lf_created) {
		struct lfs_fs_super sb = s->sb;
		sb.next_ino = next;
		if ((rc = put_super(b, &sb)) < 0)
			return rc;
	}
	return n;
}

static int step_root(struct scan *s, struct lfs_kv_batch *b)
{
	struct lfs_fs_inode in;
	fresh_inode(&in, S_IFDIR | 0755, 2);
	int rc = put_inode(b, LFS_FS_ROOT_INO, &in);
	return rc < 0 ? rc : 1;
}

static int step_dentries(struct scan *s, struct lfs_kv_batch *b)
{
	int n = 0, rc;
	for (size_t i = 0; i < s->npr; i++) {
		struct lfs_fsck_problem *p = &s->pr[i];
		if (p->kind != LFS_FSCK_DANGLING && p->kind != LFS_FSCK_BAD_PARENT &&
		    p->kind != LFS_FSCK_TYPE && p->kind != LFS_FSCK_DIR_LINKS)
			continue;
		size_t nl = strlen(p->name);
		if (p->kind == LFS_FSCK_TYPE)
			rc = put_dentry(b, p->parent, p->name, nl, p->ino, (uint8_t)p->want);
		else {
			uint8_t k[LFS_FS_KEY_MAX];
			int kl = lfs_fs_key_dentry(k, p->parent, p->name, nl);
			rc = kl < 0 ? kl : lfs_kv_batch_del(b, k, (size_t)kl);
		}
		if (rc < 0)
			return rc;
		n++;
	}
	return n;
}

/* lost+found: find it or stage its creation.  Returns its inode or < 0. */
static int64_t lost_found(struct scan *s, struct lfs_kv_batch *b, uint32_t add_subdirs,
			  uint64_t *next_ino, int *created)
{
	char lf[32];
	size_t lfl = 0;
	*created = 0;
	/* "lost+found", or "lost+found.N" when that name is something else */
	for (int n = 0;; n++) {
		if (n == 10)
			return LFS_E_CORRUPT;
		snprintf(lf, sizeof lf, n ? "%s.%d" : "%s", LFS_FSCK_LOST_FOUND, n);
		lfl = strlen(lf);
		int taken = 0;
		for (size_t i = dent_lower(s, LFS_FS_ROOT_INO); i < s->nd && s->d[i].parent == LFS_FS_ROOT_INO; i++) {
			struct fdent *d = &s->d[i];
			if (d->nlen == lfl && !memcmp(dname(s, d), lf, lfl)) {
				struct fino *f = find_ino(s, d->child);
				if (d->valid && f && S_ISDIR(f->mode) && f->reached)
					return (int64_t)f->ino;
				taken = 1;
			}
		}
		if (!taken)
			break;
	}
	struct lfs_fs_inode in, root;
	int rc = get_inode(s, LFS_FS_ROOT_INO, &root);
	if (rc < 0)
		return rc;
	uint64_t ino = *next_ino;
	(*next_ino)++;
	fresh_inode(&in, S_IFDIR | 0700, 2 + add_subdirs);
	root.nlink++;
	root.ctime_ns = root.mtime_ns = in.ctime_ns;
	root.generation++;
	if ((rc = put_inode(b, ino, &in)) < 0 || (rc = put_inode(b, LFS_FS_ROOT_INO, &root)) < 0 ||
	    (rc = put_dentry(b, LFS_FS_ROOT_INO, lf, lfl, ino, DT_DIR)) < 0)
		return rc;
	*created = 1;
	return (int64_t)ino;
}

static int lf_name_taken(struct scan *s, uint64_t lf, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = dent_lower(s, lf); i < s->nd && s->d[i].parent == lf; i++)
		if (s->d[i].nlen == nl && !memcmp(dname(s, &s->d[i]), name, nl))
			return 1;
	return 0;
}

static int step_orphans(struct scan *s, struct lfs_kv_batch *b)
{
	int n = 0, rc;
	uint32_t dirs_in = 0;
	int need_lf = 0;
	for (size_t i = 0; i < s->npr; i++) {
		struct lfs_fsck_problem *p = &s->pr[i];
		struct fino *f = find_ino(s, p->ino);
		if (p->kind == LFS_FSCK_CYCLE || (p->kind == LFS_FSCK_UNREACHABLE && f && file_has_data(f))) {
			need_lf = 1;
			if (f && S_ISDIR(f->mode))
				dirs_in++;
		}
	}
	uint64_t next = s->sb.next_ino > max_ino(s) ? s->sb.next_ino : max_ino(s) + 1;
	int64_t lf = 0;
	int created = 0;
	if (need_lf) {
		lf = lost_found(s, b, dirs_in, &next, &created);
		if (lf < 0)
			need_lf = 0;   /* no usable lost+found: relinking is left undone */
	}
	for (size_t i = 0; i < s->npr; i++) {
		struct lfs_fsck_problem *p = &s->pr[i];
		struct fino *f = find_ino(s, p->ino);
		if (!f || (p->kind != LFS_FSCK_CYCLE && p->kind != LFS_FSCK_UNREACHABLE &&
			   p->kind != LFS_FSCK_ORPHAN_OPEN))
			continue;
		int relink = p->kind == LFS_FSCK_CYCLE || (p->kind == LFS_FSCK_UNREACHABLE && file_has_data(f));
		if (!relink) {
			uint8_t k[LFS_FS_INODE_KLEN];
			if ((rc = del_pages_from(b, f->ino, 0)) < 0 ||
			    (rc = lfs_kv_batch_del(b, k, lfs_fs_key_inode(k, f->ino))) < 0)
				return rc;
			n++;
			continue;
		}
		if (!need_lf)
			continue;
		if (p->kind == LFS_FSCK_CYCLE) {
			uint8_t k[LFS_FS_KEY_MAX];
			int kl = lfs_fs_key_dentry(k, p->parent, p->name, strlen(p->name));
			if (kl < 0 || (rc = lfs_kv_batch_del(b, k, (size_t)kl)) < 0)
				return kl < 0 ? kl : rc;
		}
		char name[64];
		snprintf(name, sizeof name, "#%llu", (unsigned long long)f->ino);
		for (int j = 1; !created && lf_name_taken(s, (uint64_t)lf, name) && j < 1000; j++)
			snprintf(name, sizeof name, "#%llu.%d", (unsigned long long)f->ino, j);
		if ((rc = put_dentry(b, (uint64_t)lf, name, strlen(name), f->ino, lfs_fs_mode_dt(f->mode))) < 0)
			return rc;
		n++;
	}
	if (created) {
		struct lfs_fs_super sb = s->sb;
		sb.next_ino = next;
		if ((rc = put_super(b, &sb)) < 0)
			return rc;
	}
	return n;
}

static int step_pages(struct scan *s, struct lfs_kv_batch *b)
{
	int n = 0, rc;
	uint64_t last = 0;
	int have_last = 0;
	for (size_t i = 0; i < s->npr; i++) {
		struct lfs_fsck_problem *p = &s->pr[i];
		if (p->kind != LFS_FSCK_PAGE_EOF && p->kind != LFS_FSCK_PAGE_ORPHAN)
			continue;
		if (have_last && last == p->ino)
			continue;   /* one range per inode */
		uint64_t from = 0;
		if (p->kind == LFS_FSCK_PAGE_EOF) {
			struct fino *f = find_ino(s, p->ino);
			from = f ? (f->size + s->psz - 1) / s->psz : 0;
		}
		if ((rc = del_pages_from(b, p->ino, from)) < 0)
			return rc;
		last = p->ino;
		have_last = 1;
		n++;
	}
	return n;
}

static int step_inodes(struct scan *s, struct lfs_kv_batch *b)
{
	int n = 0, rc;
	for (size_t i = 0; i < s->npr; i++) {
		struct lfs_fsck_problem *p = &s->pr[i];
		if (p->kind != LFS_FSCK_NLINK && p->kind != LFS_FSCK_SIZE)
			continue;
		struct lfs_fs_inode in;
		if ((rc = get_inode(s, p->ino, &in)) < 0)
			return rc;
		/* apply every fix of this inode in one record (they are adjacent) */
		for (size_t j = i; j < s->npr && s->pr[j].ino == p->ino; j++) {
			struct lfs_fsck_problem *q = &s->pr[j];
			if (q->kind == LFS_FSCK_NLINK)
				in.nlink = (uint32_t)q->want;
			else if (q->kind == LFS_FSCK_SIZE)
				in.size = q->want;
			else
				continue;
			if (j > i)
				q->kind = -q->kind;   /* handled: hidden from later iterations */
		}
		in.generation++;
		if ((rc = put_inode(b, p->ino, &in)) < 0)
			return rc;
		n++;
	}
	for (size_t i = 0; i < s->npr; i++)
		if (s->pr[i].kind < 0)
			s->pr[i].kind = -s->pr[i].kind;
	return n;
}

static int step_next_ino(struct scan *s, struct lfs_kv_batch *b)
{
	struct lfs_fs_super sb = s->sb;
	sb.next_ino = max_ino(s) + 1;
	int rc = put_super(b, &sb);
	return rc < 0 ? rc : 1;
}

/* Run the first applicable repair step.  Returns operations staged (0 =
 * nothing this pass could fix), or < 0. */
static int repair_step(struct scan *s, struct lfs_kv_batch *b, int *compact)
{
	*compact = 0;
	if (s->sb_bad || !s->have_sb)
		return step_super(s, b);
	if (count_kind(s, LFS_FSCK_BAD_KEY) || count_kind(s, LFS_FSCK_BAD_RECORD) ||
	    count_kind(s, LFS_FSCK_DAMAGED_FILE))
		return step_records(s, b);
	if (count_kind(s, LFS_FSCK_ROOT))
		return step_root(s, b);
	if (count_kind(s, LFS_FSCK_DANGLING) || count_kind(s, LFS_FSCK_BAD_PARENT) ||
	    count_kind(s, LFS_FSCK_TYPE) || count_kind(s, LFS_FSCK_DIR_LINKS))
		return step_dentries(s, b);
	if (count_kind(s, LFS_FSCK_CYCLE) || count_kind(s, LFS_FSCK_UNREACHABLE) ||
	    count_kind(s, LFS_FSCK_ORPHAN_OPEN)) {
		int n = step_orphans(s, b);
		if (n != 0)
			return n;
	}
	if (count_kind(s, LFS_FSCK_PAGE_EOF) || count_kind(s, LFS_FSCK_PAGE_ORPHAN))
		return step_pages(s, b);
	if (count_kind(s, LFS_FSCK_NLINK) || count_kind(s, LFS_FSCK_SIZE))
		return step_inodes(s, b);
	if (count_kind(s, LFS_FSCK_NEXT_INO))
		return step_next_ino(s, b);
	if (s->log_errors) {
		*compact = 1;
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- driver */

static int same_problem(const struct lfs_fsck_problem *a, const struct lfs_fsck_problem *b)
{
	return a->kind == b->kind && a->ino == b->ino && a->parent == b->parent &&
	       a->index == b->index && !strcmp(a->name, b->name) && !strcmp(a->key, b->key);
}

/* A set of problems by identity (open addressing over indexes into v). */
struct pset { size_t *slot; size_t cap, n; };

static uint64_t problem_hash(const struct lfs_fsck_problem *p)
{
	uint64_t h = 1469598103934665603ull;
	const uint64_t f[4] = { (uint64_t)p->kind, p->ino, p->parent, p->index };
	for (int i = 0; i < 4; i++)
		h = (h ^ f[i]) * 1099511628211ull;
	for (const char *c = p->name; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ull;
	for (const char *c = p->key; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ull;
	return h ^ (h >> 29);
}

/* Index of an equal problem in v, or SIZE_MAX; with add, inserts idx. */
static size_t pset_find(struct pset *ps, const struct lfs_fsck_problem *v, const struct lfs_fsck_problem *p)
{
	if (!ps->cap)
		return SIZE_MAX;
	for (size_t i = problem_hash(p) & (ps->cap - 1);; i = (i + 1) & (ps->cap - 1)) {
		if (ps->slot[i] == SIZE_MAX)
			return SIZE_MAX;
		if (same_problem(&v[ps->slot[i]], p))
			return ps->slot[i];
	}
}

static int pset_add(struct pset *ps, const struct lfs_fsck_problem *v, size_t idx)
{
	if ((ps->n + 1) * 2 > ps->cap) {
		size_t nc = ps->cap ? ps->cap * 2 : 64;
		size_t *ns = malloc(nc * sizeof *ns);
		if (!ns)
			return -ENOMEM;
		for (size_t i = 0; i < nc; i++)
			ns[i] = SIZE_MAX;
		for (size_t i = 0; i < ps->cap; i++) {
			if (ps->slot[i] == SIZE_MAX)
				continue;
			size_t j = problem_hash(&v[ps->slot[i]]) & (nc - 1);
			while (ns[j] != SIZE_MAX)
				j = (j + 1) & (nc - 1);
			ns[j] = ps->slot[i];
		}
		free(ps->slot);
		ps->slot = ns;
		ps->cap = nc;
	}
	size_t j = problem_hash(&v[idx]) & (ps->cap - 1);
	while (ps->slot[j] != SIZE_MAX)
		j = (j + 1) & (ps->cap - 1);
	ps->slot[j] = idx;
	ps->n++;
	return 0;
}

static int merge(struct lfs_fsck_report *r, struct pset *ps, const struct scan *s)
{
	for (size_t i = 0; i < s->npr; i++) {
		size_t j = pset_find(ps, r->v, &s->pr[i]);
		if (j != SIZE_MAX) {
			r->v[j].have = s->pr[i].have;   /* page runs may have grown */
			snprintf(r->v[j].msg, sizeof r->v[j].msg, "%s", s->pr[i].msg);
			continue;
		}
		if (lfs_grow(&r->v, &r->cap, r->n + 1, sizeof *r->v, 64) < 0)
			return -ENOMEM;
		r->v[r->n++] = s->pr[i];
		if (pset_add(ps, r->v, r->n - 1) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Offset of the first intact record header (magic and header CRC) after
 * off in the image file that says every byte before off was durable when it
 * was written (its synced offset lies past off), or 0.  As the KV engine's
 * own rule: without one, the damage is an unsynced tail cut by a crash. */
static uint64_t intact_record_after(const char *path, uint64_t off)
{
	int fd = open(path, O_RDONLY);
	struct stat sb;
	uint64_t found = 0;
	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) == 0 && (uint64_t)sb.st_size > off + sizeof(struct kv_rhdr)) {
		uint64_t size = (uint64_t)sb.st_size;
		const uint8_t *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			uint64_t pos = (off + KV_REC_ALIGN) & ~(uint64_t)(KV_REC_ALIGN - 1);
			for (; pos + sizeof(struct kv_rhdr) <= size; pos += KV_REC_ALIGN) {
				struct kv_rhdr h;
				memcpy(&h, map + pos, sizeof h);
				if (h.magic == KV_REC_MAGIC && h.hcrc == lfs_crc32c(0, &h, offsetof(struct kv_rhdr, hcrc)) &&
				    h.len <= size - pos - sizeof h && h.synced > off) {
					found = pos;
					break;
				}
			}
			munmap((void *)map, size);
		}
	}
	close(fd);
	return found;
}

static int one_pass(struct lfs_kv *kv, const struct lfs_fsck_opts *o, int read_data, struct scan *s,
		    struct lfs_err *err)
{
	memset(s, 0, sizeof *s);
	s->kv = kv;
	if (!o->no_log) {
		struct walkctx w = { .s = s, .path = o->path };
		int rc = lfs_kv_walk(kv, walk_cb, &w, err);
		if (rc < 0)
			return rc;
		/* a damaged record at the very end may be the torn tail of an
		 * interrupted write (a writer cuts it at open): a note, not an
		 * error; repair drops it with a compaction all the same */
		if (w.pending) {
			uint64_t after = o->path ? intact_record_after(o->path, w.bad_off) : 0;
			struct lfs_fsck_problem *p;
			if (after)
				p = problem(s, LFS_FSCK_LOG, 0, "log record at offset %llu: %s (an intact "
					    "record follows at %llu: damage, not a torn tail)",
					    (unsigned long long)w.bad_off, w.bad_msg, (unsigned long long)after);
			else
				p = problem(s, LFS_FSCK_LOG, 0,
					    "log record at offset %llu: %s (end of the log: torn tail or damage)",
					    (unsigned long long)w.bad_off, w.bad_msg);
			p->index = w.bad_off;
			p->error = after != 0;
			s->log_errors++;
		}
	}
	/* data pages are read (checksums) until a pass found none damaged or
	 * the damaged ones were removed; later passes only need keys and lengths */
	int rc = do_scan(s, read_data, err);
	if (rc < 0)
		return rc;
	analyze(s);
	return 0;
}

int lfs_fsck(struct lfs_kv *kv, const struct lfs_fsck_opts *opts, struct lfs_fsck_report *rep,
	     struct lfs_err *err)
{
	struct lfs_fsck_opts def = { 0 };
	const struct lfs_fsck_opts *o = opts ? opts : &def;
	int maxp = o->max_passes > 0 ? o->max_passes : 32;
	struct scan s;
	int rc = 0;
	memset(rep, 0, sizeof *rep);
	struct lfs_kv_batch *b = o->repair ? lfs_kv_batch_new() : NULL;
	if (o->repair && !b)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	int need_data = 1;
	struct pset ps = { 0 };
	for (int pass = 0;; pass++) {
		rc = one_pass(kv, o, need_data, &s, err);
		rep->passes++;
		if (rc < 0)
			break;
		if ((rc = merge(rep, &ps, &s)) < 0) {
			lfs_seterr(err, rc, "out of memory");
			break;
		}
		if (!o->repair || !s.npr || pass + 1 >= maxp)
			break;
		int compact = 0, bad_pages = 0;
		for (size_t i = 0; i < s.npg; i++)
			bad_pages |= s.pg[i].bad;
		lfs_kv_batch_clear(b);
		int records_step = !(s.sb_bad || !s.have_sb);
		int n = repair_step(&s, b, &compact);
		/* step_records deletes every damaged page this pass found */
		if (need_data && (!bad_pages || (records_step && n > 0 && !compact &&
		    (count_kind(&s, LFS_FSCK_BAD_KEY) || count_kind(&s, LFS_FSCK_BAD_RECORD) ||
		     count_kind(&s, LFS_FSCK_DAMAGED_FILE)))))
			need_data = 0;
		if (n < 0) {
			rc = lfs_seterr(err, n, "repair: %s", lfs_strerror(n));
			break;
		}
		if (n == 0)
			break;
		if (compact) {
			rc = lfs_kv_compact(kv, NULL, NULL, err);
			if (rc < 0)
				break;
			rep->compacted = 1;
		} else {
			rc = lfs_kv_commit(kv, b, 1, err);
			if (rc < 0)
				break;
		}
		rep->repair_steps++;
		scan_free(&s);
	}
	if (rc == 0) {
		/* what is left: the last pass's problems */
		for (size_t j = 0; j < s.npr; j++) {
			size_t i = pset_find(&ps, rep->v, &s.pr[j]);
			if (i != SIZE_MAX)
				rep->v[i].fixed = -1;   /* still there */
		}
		for (size_t i = 0; i < rep->n; i++) {
			struct lfs_fsck_problem *p = &rep->v[i];
			int left = p->fixed == -1;
			p->fixed = o->repair && !left;
			if (p->fixed)
				rep->fixed++;
			else if (p->error)
				rep->errors++;
		}
		for (size_t i = 0; i < s.nino; i++) {
			struct fino *f = &s.ino[i];
			rep->inodes++;
			if (f->bad)
				continue;
			if (S_ISDIR(f->mode))
				rep->dirs++;
			else if (S_ISREG(f->mode))
				rep->files++;
			else if (S_ISLNK(f->mode))
				rep->symlinks++;
			else
				rep->others++;
		}
		rep->dentries = s.nd;
		rep->pages = s.npg;
		rep->records = s.records;
		rep->page_size = s.psz;
	}
	scan_free(&s);
	free(ps.slot);
	lfs_kv_batch_free(b);
	return rc;
}

void lfs_fsck_report_free(struct lfs_fsck_report *rep)
{
	if (!rep)
		return;
	free(rep->v);
	memset(rep, 0, sizeof *rep);
}

/* ---------------------------------------------------------------- salvage */

/*
 * The KV store itself cannot be opened (both header slots or both index
 * checkpoints damaged, or damage before a synced record).  The log still
 * holds every committed batch, each operation with its own checksum, so the
 * state is rebuilt into a fresh file: the newest intact INDEX record (its
 * values read and checked where they lie), then every record after it in
 * file order (or the whole log when no index is intact).  This reads the
 * on-disk format of lib/kv (kv_int.h, FORMAT.md) directly.
 *
 * A value that cannot be recovered is never left stale or silently absent:
 * its key gets a value the fs decoders reject (an inode / dentry / super
 * record of one byte, a data page longer than any page size), so the fsck
 * that follows treats it as a broken record (a file with a lost page goes
 * to lost+found).  When damage inside a batch cannot be attributed to keys,
 * every file the batch's intact operations touch is marked so, too.
 */
struct salv {
	const uint8_t *map;
	uint64_t fsize;
	struct lfs_kv_batch *b;
	ZSTD_DCtx *dctx;
	uint8_t *raw;
	size_t rawcap;
	uint8_t *blk;              /* decompressed BLOCK operation (zstd images) */
	size_t blkcap, blklen;
	uint64_t blkoff;           /* its file offset (salv_index), 0 = none */
	uint8_t *bigpage;          /* LFS_FS_PAGE_MAX + 1 zero bytes */
	uint64_t *inos;            /* files touched by the current batch */
	size_t ninos, cinos;
	uint64_t *taint;           /* suspect files */
	size_t ntaint, ctaint;
	uint64_t idx_offs[2];      /* index checkpoints the header slots name */
	uint64_t idx_cnt[2], idx_replay[2];   /* their entries, the end of their record */
	int nidx;
	struct sgrp { uint64_t pos; uint32_t len, nops; uint8_t intact, headerless, maybe; } *grp;
	size_t ngrp, cgrp;         /* records of a group whose COMMIT is not met yet */
	int grp_damage;            /* since the pending group began: 2 damaged bytes met,
	                              1 and an intact record after them (so not a torn tail) */
	struct lfs_fsck_salvage st;
};

#define SALV_TAINT_INDEX (UINT64_MAX - 1)

static int salv_mark(struct salv *v, const uint8_t *key, size_t klen)
{
	struct lfs_fs_key k;
	int kind = lfs_fs_key_decode(key, klen, &k);
	if (kind < 0 || kind == LFS_FS_K_SUPER)
		return 0;   /* an older superblock is right but for the allocator, which fsck fixes */
	v->st.lost_values++;
	if (kind == LFS_FS_K_DATA)
		return lfs_kv_batch_put(v->b, key, klen, v->bigpage, LFS_FS_PAGE_MAX + 1);
	return lfs_kv_batch_put(v->b, key, klen, "", 1);
}

/* Files whose content may miss an update: kept in memory while replaying
 * (a later rewrite from page 0 or a delete clears them), marked at the end. */
static int salv_taint(struct salv *v, uint64_t ino)
{
	for (size_t i = 0; i < v->ntaint; i++)
		if (v->taint[i] == ino)
			return 0;
	if (lfs_grow(&v->taint, &v->ctaint, v->ntaint + 1, sizeof *v->taint, 64) < 0)
		return -ENOMEM;
	v->taint[v->ntaint++] = ino;
	return 0;
}

static void salv_untaint(struct salv *v, uint64_t ino)
{
	for (size_t i = 0; i < v->ntaint; i++)
		if (v->taint[i] == ino) {
			v->taint[i] = v->taint[--v->ntaint];
			return;
		}
}

/* An intact delete: a file rewritten from its first page or deleted is no
 * longer suspect. */
static void salv_deleted(struct salv *v, const struct kv_ophdr *o, const uint8_t *key)
{
	struct lfs_fs_key k;
	if (!v->ntaint || lfs_fs_key_decode(key, o->klen, &k) < 0)
		return;
	if (o->type == KV_OP_DEL && k.kind == LFS_FS_K_INODE)
		salv_untaint(v, k.ino);
	if (o->type == KV_OP_DELRANGE && k.kind == LFS_FS_K_DATA && k.index == 0) {
		uint8_t hi[LFS_FS_DATA_KLEN];
		size_t hl = lfs_fs_key_data_prefix(hi, k.ino + 1);
		const uint8_t *h = key + o->klen;
		size_t m = o->slen < hl ? o->slen : hl;
		if (!(o->flags & KV_OPF_HASHI) || memcmp(h, hi, m) > 0 || (memcmp(h, hi, m) == 0 && o->slen >= hl))
			salv_untaint(v, k.ino);
	}
}

static int salv_put_taints(struct salv *v, struct lfs_kv *nkv, struct lfs_err *err)
{
	int rc;
	lfs_kv_batch_clear(v->b);
	for (size_t i = 0; i < v->ntaint; i++) {
		uint8_t k[LFS_FS_DATA_KLEN];
		v->st.tainted_files++;
		if ((rc = lfs_kv_batch_put(v->b, k, lfs_fs_key_data(k, v->taint[i], SALV_TAINT_INDEX),
					   v->bigpage, LFS_FS_PAGE_MAX + 1)) < 0)
			return lfs_seterr(err, rc, "out of memory");
	}
	if (nkv && lfs_kv_batch_count(v->b) && (rc = lfs_kv_commit(nkv, v->b, 0, err)) < 0)
		return rc;
	lfs_kv_batch_clear(v->b);
	return 0;
}

static void salv_note_ino(struct salv *v, const uint8_t *key, size_t klen)
{
	struct lfs_fs_key k;
	int kind = lfs_fs_key_decode(key, klen, &k);
	/* inodes and pages name a file; a dentry names its directory */
	if ((kind == LFS_FS_K_INODE || kind == LFS_FS_K_DATA || kind == LFS_FS_K_DENTRY) &&
	    lfs_grow(&v->inos, &v->cinos, v->ninos + 1, sizeof *v->inos, 64) == 0)
		v->inos[v->ninos++] = k.ino;
}

/* Records lost from file offset `from` on (gap of them by sequence number):
 * only an index checkpoint (and the SYNC record written just before it),
 * which the rebuild does not need? */
static int salv_gap_benign(struct salv *v, uint64_t from, uint64_t gap)
{
	for (int i = 0; i < v->nidx; i++) {
		uint64_t k = v->idx_offs[i];
		if (!k)
			continue;
		if ((from == k && gap <= 1) || (from + sizeof(struct kv_rhdr) == k && gap <= 2))
			return 1;
	}
	return 0;
}

/* An operation at p (room bytes available): 1 = sane header, *total its size. */
static int op_sane(const uint8_t *p, size_t room, struct kv_ophdr *o, size_t *total)
{
	if (room < sizeof *o)
		return 0;
	memcpy(o, p, sizeof *o);
	if (o->type == KV_OP_BLOCK) {
		if (o->klen || o->flags || !o->vlen || o->vlen > KV_BLOCK_MAX_RAW || room - sizeof *o < o->slen)
			return 0;
		*total = sizeof *o + o->slen;
		return 1;
	}
	if (o->type < KV_OP_PUT || o->type > KV_OP_DELRANGE || o->klen == 0 || o->klen > LFS_KV_MAX_KEY ||
	    (o->flags & ~(KV_OPF_ZSTD | KV_OPF_HASHI)) || room - sizeof *o < (size_t)o->klen + o->slen)
		return 0;
	if (o->type == KV_OP_PUT && (o->vlen > LFS_KV_MAX_VALUE || (!(o->flags & KV_OPF_ZSTD) && o->slen != o->vlen)))
		return 0;
	*total = sizeof *o + o->klen + o->slen;
	return 1;
}

static int op_crc_ok(const uint8_t *p, const struct kv_ophdr *o)
{
	uint32_t crc = lfs_crc32c(0, p, offsetof(struct kv_ophdr, crc));
	crc = lfs_crc32c(crc, p + sizeof *o, (size_t)o->klen + o->slen);
	return crc == o->crc;
}

/* Stage one intact operation.  Returns 0, LFS_E_CORRUPT (bad zstd) or -ENOMEM. */
static int salv_apply(struct salv *v, const uint8_t *p, const struct kv_ophdr *o)
{
	const uint8_t *key = p + sizeof *o, *val = key + o->klen;
	switch (o->type) {
	case KV_OP_PUT:
		if (o->flags & KV_OPF_ZSTD) {
			if (!v->dctx && !(v->dctx = ZSTD_createDCtx()))
				return -ENOMEM;
			if (lfs_grow(&v->raw, &v->rawcap, (size_t)o->vlen + 1, 1, 4096) < 0)
				return -ENOMEM;
			size_t r = ZSTD_decompressDCtx(v->dctx, v->raw, o->vlen, val, o->slen);
			if (ZSTD_isError(r) || r != o->vlen)
				return LFS_E_CORRUPT;
			return lfs_kv_batch_put(v->b, key, o->klen, v->raw, o->vlen);
		}
		return lfs_kv_batch_put(v->b, key, o->klen, val, o->slen);
	case KV_OP_DEL:
		return lfs_kv_batch_del(v->b, key, o->klen);
	default:
		return lfs_kv_batch_del_range(v->b, key, o->klen, (o->flags & KV_OPF_HASHI) ? val : NULL,
					      (o->flags & KV_OPF_HASHI) ? o->slen : 0);
	}
}

/* A zstd context and v->blk of at least len bytes for a block's raw
 * operations (v->blkoff reset): 0 or -ENOMEM. */
static int salv_blk_room(struct salv *v, size_t len)
{
	if (!v->dctx && !(v->dctx = ZSTD_createDCtx()))
		return -ENOMEM;
	if (lfs_grow(&v->blk, &v->blkcap, len, 1, 4096) < 0)
		return -ENOMEM;
	v->blkoff = 0;
	return 0;
}

/* Decompress the intact BLOCK operation at p into v->blk: 0, 1 when its
 * frame is bad, -ENOMEM. */
static int salv_block_raw(struct salv *v, const uint8_t *p, const struct kv_ophdr *o)
{
	if (salv_blk_room(v, o->vlen))
		return -ENOMEM;
	size_t r = ZSTD_decompressDCtx(v->dctx, v->blk, o->vlen, p + sizeof *o, o->slen);
	if (ZSTD_isError(r) || r != o->vlen)
		return 1;
	v->blklen = o->vlen;
	return 0;
}

/* The operation at position pos of v->blk: 1 and *o when well formed (an
 * operation inside a block has no CRC of its own: the block's covers it). */
static int salv_block_op(struct salv *v, size_t pos, struct kv_ophdr *o)
{
	if (pos > v->blklen || v->blklen - pos < sizeof *o)
		return 0;
	memcpy(o, v->blk + pos, sizeof *o);
	if (o->type < KV_OP_PUT || o->type > KV_OP_DELRANGE || o->klen == 0 || o->klen > LFS_KV_MAX_KEY ||
	    v->blklen - pos - sizeof *o < (size_t)o->klen + o->slen)
		return 0;
	if (o->type == KV_OP_PUT && (o->flags || o->slen != o->vlen))
		return 0;
	return 1;
}

/* An intact BLOCK: its operations staged like a batch's.  0, 1 when some of
 * it cannot be read (its keys are unknown), -ENOMEM. */
static void salv_note_ino(struct salv *v, const uint8_t *key, size_t klen);
static int salv_block(struct salv *v, const uint8_t *p, const struct kv_ophdr *o)
{
	int rc = salv_block_raw(v, p, o);
	if (rc)
		return rc;
	for (size_t pos = 0; pos < v->blklen;) {
		struct kv_ophdr io;
		if (!salv_block_op(v, pos, &io))
			return 1;
		const uint8_t *q = v->blk + pos;
		salv_deleted(v, &io, q + sizeof io);
		rc = salv_apply(v, q, &io);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0 && (rc = salv_mark(v, q + sizeof io, io.klen)) < 0)
			return rc;
		salv_note_ino(v, q + sizeof io, io.klen);
		pos += sizeof io + io.klen + io.slen;
	}
	return 0;
}

/* A BLOCK operation whose bytes are damaged (its CRC or its frame): none of
 * its operations can be trusted, and which keys they changed is unknown.
 * The frame is decoded as far as it goes, only to learn the files of the
 * operations before the damage (they are noted, to be marked suspect).
 * -ENOMEM or 0. */
static int salv_block_names(struct salv *v, const uint8_t *p, const struct kv_ophdr *o)
{
	if (salv_blk_room(v, o->vlen))
		return -ENOMEM;
	ZSTD_DCtx_reset(v->dctx, ZSTD_reset_session_only);
	/* fed in pieces, since a call that fails reports none of its output:
	 * 512 bytes at a time, then again up to the failing piece and that one
	 * byte by byte (a zstd block is decoded once its last byte is in) */
	const uint8_t *src = p + sizeof *o;
	size_t done = 0, ok = 0;
	ZSTD_outBuffer out = { v->blk, o->vlen, 0 };
	for (int pass = 0; pass < 2; pass++) {
		size_t step = 512;
		ZSTD_DCtx_reset(v->dctx, ZSTD_reset_session_only);
		out.pos = done = 0;
		while (done < o->slen && out.pos < out.size) {
			if (pass && done >= ok)
				step = 1;
			else if (pass)
				step = ok - done;
			ZSTD_inBuffer in = { src + done, o->slen - done < step ? o->slen - done : step, 0 };
			size_t r = ZSTD_decompressStream(v->dctx, &out, &in);
			if (ZSTD_isError(r) || r == 0)
				break;
			done += in.pos;
		}
		if (done >= o->slen || out.pos >= out.size)
			break;
		ok = done;
	}
	ZSTD_DCtx_reset(v->dctx, ZSTD_reset_session_only);
	v->blklen = out.pos;
	for (size_t pos = 0; pos < v->blklen;) {
		struct kv_ophdr io;
		if (!salv_block_op(v, pos, &io))
			break;
		salv_note_ino(v, v->blk + pos + sizeof io, io.klen);
		pos += sizeof io + io.klen + io.slen;
	}
	v->blklen = 0;
	return 0;
}

static int salv_has_ino(struct salv *v, uint64_t ino)
{
	for (size_t i = 0; i < v->ninos; i++)
		if (v->inos[i] == ino)
			return 1;
	return 0;
}

/* A BATCH payload: intact operations applied, damaged ones marked.  A lost
 * delete only lets old records come back, which fsck then finds (an orphan,
 * a page past the end, an extra name); a lost put is marked broken; damage
 * whose file is not certain (unknown bytes, or a damaged key naming no file
 * of this batch) marks every file of the batch. */
static int salv_batch(struct salv *v, const uint8_t *p, size_t len, int intact)
{
	size_t pos = 0;
	int unknown = 0, lost = 0, rc;
	uint64_t dmg[16];
	size_t ndmg = 0;
	v->ninos = 0;
	while (pos < len) {
		struct kv_ophdr o;
		size_t tot;
		int sane = op_sane(p + pos, len - pos, &o, &tot);
		if (sane && o.type == KV_OP_BLOCK && op_crc_ok(p + pos, &o)) {
			if ((rc = salv_block(v, p + pos, &o)) < 0)
				return rc;
			unknown |= rc;
			lost |= rc;
			pos += tot;
			continue;
		}
		if (sane && o.type == KV_OP_BLOCK && !intact) {
			/* a damaged block: its operations are lost, and (but for
			 * those its frame still gives before the damage) their
			 * keys unknown: the batch's files are suspect and the
			 * loss is reported (files it changed may show older
			 * contents) */
			if ((rc = salv_block_names(v, p + pos, &o)) < 0)
				return rc;
			unknown = lost = 1;
			pos += tot;
			continue;
		}
		if (sane && op_crc_ok(p + pos, &o)) {
			salv_deleted(v, &o, p + pos + sizeof o);
			rc = salv_apply(v, p + pos, &o);
			if (rc == -ENOMEM)
				return rc;
			if (rc < 0) {
				if ((rc = salv_mark(v, p + pos + sizeof o, o.klen)) < 0)
					return rc;
			}
			salv_note_ino(v, p + pos + sizeof o, o.klen);
			pos += tot;
			continue;
		}
		if (intact)
			return LFS_E_CORRUPT;   /* checksummed payload, yet malformed: skip it whole */
		struct lfs_fs_key k;
		if (sane && lfs_fs_key_decode(p + pos + sizeof o, o.klen, &k) >= 0) {
			/* header and key look right, the bytes do not: that key's value is lost */
			if (o.type == KV_OP_PUT) {
				if ((rc = salv_mark(v, p + pos + sizeof o, o.klen)) < 0)
					return rc;
				if (k.kind == LFS_FS_K_SUPER)
					;
				else if (ndmg < sizeof dmg / sizeof dmg[0])
					dmg[ndmg++] = k.ino;
				else
					unknown = 1;
			}
			pos += tot;
			continue;
		}
		/* unknown bytes: find the next intact operation */
		unknown = 1;
		size_t q = pos + 1;
		for (; q < len; q++) {
			if (op_sane(p + q, len - q, &o, &tot) && op_crc_ok(p + q, &o))
				break;
		}
		pos = q;
	}
	for (size_t i = 0; i < ndmg; i++)
		if (!salv_has_ino(v, dmg[i]))
			unknown = 1;   /* maybe a damaged inode number: whose was it? */
	if (lost || (unknown && !v->ninos))
		v->st.lost_records++;   /* operations lost whose files are not (all) known */
	if (unknown)
		for (size_t i = 0; i < v->ninos; i++)
			if ((rc = salv_taint(v, v->inos[i])) < 0)
				return rc;
	return 0;
}

static int salv_hdr(struct salv *v, uint64_t pos, struct kv_rhdr *h);

/* The record at pos has a damaged header: if intact operations follow it,
 * stage them as the batch they were (files marked when its end is not
 * where the next record starts).  0 and *end, or LFS_E_CORRUPT. */
static int salv_headerless(struct salv *v, uint64_t pos, uint64_t *end)
{
	uint64_t q = pos + sizeof(struct kv_rhdr);
	struct kv_ophdr o;
	size_t tot;
	int n = 0, rc;
	lfs_kv_batch_clear(v->b);
	v->ninos = 0;
	int unknown = 0, lost = 0;
	while (q < v->fsize) {
		if (!op_sane(v->map + q, v->fsize - q, &o, &tot) ||
		    (!op_crc_ok(v->map + q, &o) && o.type != KV_OP_BLOCK)) {
			/* damaged operations (the header's damage reached into the
			 * payload): the next intact one, before the next record */
			uint64_t r = q + 1;
			struct kv_rhdr nh;
			for (; r < v->fsize; r++) {
				if (!(r & (KV_REC_ALIGN - 1)) && salv_hdr(v, r, &nh) == 1)
					break;
				if (op_sane(v->map + r, v->fsize - r, &o, &tot) && op_crc_ok(v->map + r, &o))
					break;
			}
			if (r >= v->fsize || !op_sane(v->map + r, v->fsize - r, &o, &tot) || !op_crc_ok(v->map + r, &o))
				break;
			unknown = 1;
			q = r;
			continue;
		}
		if (!op_crc_ok(v->map + q, &o)) {
			/* a damaged block (see salv_batch) */
			if ((rc = salv_block_names(v, v->map + q, &o)) < 0)
				return rc;
			unknown = lost = 1;
			q += tot;
			n++;
			continue;
		}
		if (o.type == KV_OP_BLOCK) {
			if ((rc = salv_block(v, v->map + q, &o)) < 0)
				return rc;
			unknown |= rc;
			q += tot;
			n++;
			continue;
		}
		salv_deleted(v, &o, v->map + q + sizeof o);
		rc = salv_apply(v, v->map + q, &o);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0 && (rc = salv_mark(v, v->map + q + sizeof o, o.klen)) < 0)
			return rc;
		salv_note_ino(v, v->map + q + sizeof o, o.klen);
		q += tot;
		n++;
	}
	if (!n) {
		lfs_kv_batch_clear(v->b);
		return LFS_E_CORRUPT;
	}
	uint64_t next = pos + ((q - pos + KV_REC_ALIGN - 1) & ~(uint64_t)(KV_REC_ALIGN - 1));
	struct kv_rhdr h;
	if (lost)
		v->st.lost_records++;
	if (unknown || (next + sizeof h <= v->fsize && !salv_hdr(v, next, &h))) {
		/* operations of this record may be missing: its files are suspect */
		for (size_t i = 0; i < v->ninos; i++)
			if ((rc = salv_taint(v, v->inos[i])) < 0)
				return rc;
	}
	*end = next;
	return 0;
}

static int hdr_ok(const struct salv *v, uint64_t pos, const struct kv_rhdr *h)
{
	return h->magic == KV_REC_MAGIC && h->hcrc == lfs_crc32c(0, h, offsetof(struct kv_rhdr, hcrc)) &&
	       h->len <= v->fsize - pos - sizeof *h &&
	       (h->type == KV_REC_BATCH || h->type == KV_REC_INDEX || h->type == KV_REC_SYNC ||
		h->type == KV_REC_COMMIT);
}

/* The record header at pos: 1 intact, 2 one flipped bit corrected (the
 * header CRC pins a single-bit error down: CRC32C's Hamming distance over
 * 36 bytes is well above 3, so no other one-bit change checks out), 0 not
 * a header.  Tried only where the magic is at most one bit off. */
static int salv_hdr(struct salv *v, uint64_t pos, struct kv_rhdr *h)
{
	if (pos + sizeof *h > v->fsize)
		return 0;
	memcpy(h, v->map + pos, sizeof *h);
	if (hdr_ok(v, pos, h))
		return 1;
	uint32_t mx = h->magic ^ KV_REC_MAGIC;
	if (mx & (mx - 1))
		return 0;
	uint8_t *b = (uint8_t *)h;
	if (mx) {   /* the flip is in the magic */
		h->magic = KV_REC_MAGIC;
		return hdr_ok(v, pos, h) ? 2 : 0;
	}
	uint32_t c = lfs_crc32c(0, h, offsetof(struct kv_rhdr, hcrc)) ^ h->hcrc;
	if (c && !(c & (c - 1))) {   /* the flip is in the stored CRC */
		h->hcrc ^= c;
		return hdr_ok(v, pos, h) ? 2 : 0;
	}
	for (size_t i = 4; i < offsetof(struct kv_rhdr, hcrc); i++)
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			if (hdr_ok(v, pos, h))
				return 2;
			b[i] ^= (uint8_t)(1u << bit);
		}
	return 0;
}

/* Does the damaged record at pos look like the pending group's COMMIT: an
 * 8-byte payload naming one of the group's batches (the first, or the
 * second when the first was a headerless record that was a plain batch),
 * then an intact record header or the end of the file? */
static int salv_commit_like(struct salv *v, uint64_t pos)
{
	uint64_t end = pos + sizeof(struct kv_rhdr) + 8, first;
	struct kv_rhdr h;
	if (end > v->fsize)
		return 0;
	memcpy(&first, v->map + pos + sizeof h, sizeof first);
	if (first != v->grp[0].pos && !(v->ngrp > 1 && v->grp[0].maybe && first == v->grp[1].pos))
		return 0;
	return end == v->fsize || salv_hdr(v, end, &h) == 1;
}

static uint64_t rec_end(uint64_t pos, const struct kv_rhdr *h)
{
	return pos + ((sizeof *h + h->len + KV_REC_ALIGN - 1) & ~(uint64_t)(KV_REC_ALIGN - 1));
}

/* Load the values an INDEX record names, each checked where it lies. */
static int salv_index(struct salv *v, struct lfs_kv *nkv, const uint8_t *p, size_t len, uint32_t count,
		      struct lfs_err *err)
{
	size_t pos = 0;
	int rc;
	for (uint32_t i = 0; i < count; i++) {
		struct kv_ient e;
		if (len - pos < sizeof e)
			break;
		memcpy(&e, p + pos, sizeof e);
		if (e.klen > LFS_KV_MAX_KEY || len - pos - sizeof e < e.klen)
			break;
		const uint8_t *key = p + pos + sizeof e;
		struct kv_ophdr o;
		size_t tot;
		int ok;
		if (e.flags & KV_OPF_BLOCK) {
			/* the value lies inside a BLOCK operation */
			ok = e.off >= KV_LOG_START && e.off < v->fsize;
			if (ok && v->blkoff != e.off) {
				ok = op_sane(v->map + e.off, v->fsize - e.off, &o, &tot) && o.type == KV_OP_BLOCK &&
				     op_crc_ok(v->map + e.off, &o);
				if (ok && (rc = salv_block_raw(v, v->map + e.off, &o)) < 0)
					return lfs_seterr(err, rc, "out of memory");
				ok = ok && rc == 0;
				if (ok)
					v->blkoff = e.off;
			}
			ok = ok && salv_block_op(v, e.pos, &o) && o.type == KV_OP_PUT && o.klen == e.klen &&
			     !memcmp(v->blk + e.pos + sizeof o, key, e.klen);
			if (ok && (rc = lfs_kv_batch_put(v->b, key, e.klen, v->blk + e.pos + sizeof o + o.klen, o.vlen)) < 0)
				return lfs_seterr(err, rc, "out of memory");
		} else {
			ok = e.off >= KV_LOG_START && e.off < v->fsize &&
			     op_sane(v->map + e.off, v->fsize - e.off, &o, &tot) && o.type == KV_OP_PUT &&
			     o.klen == e.klen && o.slen == e.slen && !memcmp(v->map + e.off + sizeof o, key, e.klen) &&
			     op_crc_ok(v->map + e.off, &o);
			if (ok) {
				rc = salv_apply(v, v->map + e.off, &o);
				if (rc == -ENOMEM)
					return lfs_seterr(err, rc, "out of memory");
				if (rc < 0)
					ok = 0;
			}
		}
		if (!ok && (rc = salv_mark(v, key, e.klen)) < 0)
			return lfs_seterr(err, rc, "out of memory");
		v->st.ops++;
		pos += (sizeof e + e.klen + KV_REC_ALIGN - 1) & ~(size_t)(KV_REC_ALIGN - 1);
		if (lfs_kv_batch_bytes(v->b) > (8u << 20)) {
			if ((rc = lfs_kv_commit(nkv, v->b, 0, err)) < 0)
				return rc;
			lfs_kv_batch_clear(v->b);
		}
	}
	if (lfs_kv_batch_count(v->b) && (rc = lfs_kv_commit(nkv, v->b, 0, err)) < 0)
		return rc;
	lfs_kv_batch_clear(v->b);
	return 0;
}

/* Entries of an INDEX payload at p (room bytes): the length of exactly
 * count well-formed entries in strictly ascending key order, each naming an
 * operation before the index at idx_off; 0 when they are not that. */
static size_t idx_entries_len(const uint8_t *p, size_t room, uint64_t count, uint64_t idx_off)
{
	size_t pos = 0;
	const uint8_t *prev = NULL;
	size_t prevl = 0;
	for (uint64_t i = 0; i < count; i++) {
		struct kv_ient e;
		if (room - pos < sizeof e)
			return 0;
		memcpy(&e, p + pos, sizeof e);
		if (!e.klen || e.klen > LFS_KV_MAX_KEY || e.rsv || (e.flags & ~(KV_OPF_ZSTD | KV_OPF_BLOCK)) ||
		    (e.flags & KV_OPF_ZSTD && e.flags & KV_OPF_BLOCK) || e.off < KV_LOG_START || e.off >= idx_off ||
		    room - pos - sizeof e < e.klen)
			return 0;
		const uint8_t *k = p + pos + sizeof e;
		if (prev) {
			size_t m = prevl < e.klen ? prevl : e.klen;
			int c = memcmp(prev, k, m);
			if (c > 0 || (c == 0 && prevl >= e.klen))
				return 0;
		}
		prev = k;
		prevl = e.klen;
		size_t step = (sizeof e + e.klen + KV_REC_ALIGN - 1) & ~(size_t)(KV_REC_ALIGN - 1);
		if (step > room - pos)
			step = room - pos;
		pos += step;
	}
	return pos;
}

/* The index a header slot names at off, whose record header is damaged
 * (the slot is intact: its entry count and the end of the record are
 * known): its entries, when its payload is exactly count well-formed
 * sorted entries (plain or, in a zstd image, one zstd frame of them).  A
 * value an entry names is still checked where it lies (salv_index), so a
 * damaged entry can only cost its own value.  1 and *raw (malloc'd), *len,
 * or 0. */
static int salv_index_headerless(struct salv *v, uint64_t off, uint64_t count, uint64_t replay, uint8_t **raw,
				 size_t *len)
{
	uint64_t start = off + sizeof(struct kv_rhdr);
	if (!count || off < KV_LOG_START || start + 8 > v->fsize || count > v->fsize / sizeof(struct kv_ient))
		return 0;
	size_t room = (size_t)(replay > start && replay <= v->fsize ? replay - start : v->fsize - start);
	const uint8_t *p = v->map + start;
	uint32_t rl, rsv;
	memcpy(&rl, p, 4);
	memcpy(&rsv, p + 4, 4);
	if (room > 8 && !rsv && rl && rl <= count * (sizeof(struct kv_ient) + LFS_KV_MAX_KEY + 8)) {
		/* compressed: [raw length][0][zstd frame] */
		size_t fl = ZSTD_findFrameCompressedSize(p + 8, room - 8);
		uint8_t *b = !ZSTD_isError(fl) ? malloc(rl) : NULL;
		if (b && (v->dctx || (v->dctx = ZSTD_createDCtx()))) {
			size_t r = ZSTD_decompressDCtx(v->dctx, b, rl, p + 8, fl);
			if (!ZSTD_isError(r) && r == rl && idx_entries_len(b, rl, count, off) == rl) {
				*raw = b;
				*len = rl;
				return 1;
			}
		}
		free(b);
	}
	size_t l = idx_entries_len(p, room, count, off);
	if (!l || !(*raw = malloc(l)))
		return 0;
	memcpy(*raw, p, l);
	*len = l;
	return 1;
}

/* Groups: a GROUP batch (or a damaged record between a group's batches) is
 * remembered, and staged only when the group's COMMIT record is met; a group
 * followed by a plain batch or an index, or open where the log ends, never
 * committed and is dropped, so a repair never makes half a command visible.
 *
 * A record whose header is damaged outside a group ("maybe") may be a plain
 * batch or a group's first batch (the GROUP flag is in the header): it waits
 * like a group batch.  A COMMIT after it applies it with the group (a plain
 * batch before a group, or the group's first: either way it counts); a plain
 * batch or an index after it (a writer cuts an unterminated group before it
 * writes anything else, so no group is open there) says it was plain: it is
 * applied.  Where the log ends it stays undecided: dropped, as a group must be,
 * and its files marked suspect, as a lost plain batch must make them. */
static int salv_grp_push(struct salv *v, uint64_t pos, uint32_t len, uint32_t nops, int intact, int headerless,
			 int maybe)
{
	if (lfs_grow(&v->grp, &v->cgrp, v->ngrp + 1, sizeof *v->grp, 64) < 0)
		return -ENOMEM;
	if (!v->ngrp)
		v->grp_damage = 0;
	v->grp[v->ngrp++] = (struct sgrp){ pos, len, nops, (uint8_t)intact, (uint8_t)headerless, (uint8_t)maybe };
	return 0;
}

static int salv_grp_all_maybe(const struct salv *v)
{
	for (size_t i = 0; i < v->ngrp; i++)
		if (!v->grp[i].maybe)
			return 0;
	return v->ngrp > 0;
}

/* Drop the pending group.  With taint, every file its records touch is
 * marked suspect: damage says its COMMIT may have been there (a group
 * followed by other records, or damaged bytes after it), or a record of it
 * may have been a plain batch. */
static int salv_grp_apply(struct salv *v, struct lfs_kv *nkv, struct lfs_err *err);

static int salv_grp_drop(struct salv *v, struct lfs_kv *nkv, struct lfs_err *err, int taint)
{
	int rc = 0;
	/* an index checkpoint a header slot names lies after the group: the
	 * group was committed (no checkpoint is written while a group holds
	 * writes, and a writer cuts an unterminated group off, overwriting
	 * it), its COMMIT and maybe its last batches are what damage took */
	int committed = 0;
	for (int i = 0; i < v->nidx && v->ngrp; i++)
		committed |= v->idx_offs[i] > v->grp[0].pos;
	if (committed)
		taint = 1;
	else
		v->st.uncommitted += v->ngrp;
	if (taint && v->ngrp) {
		/* staged into the scratch batch only to learn the files: the
		 * statistics and suspect list of that staging are put back */
		struct lfs_fsck_salvage st0 = v->st;
		uint64_t *t0 = v->ntaint ? malloc(v->ntaint * sizeof *t0) : NULL;
		size_t nt0 = v->ntaint, nf = 0, cf = 0;
		uint64_t *files = NULL;
		if (v->ntaint && !t0)
			return lfs_seterr(err, -ENOMEM, "out of memory");
		if (t0)
			memcpy(t0, v->taint, nt0 * sizeof *t0);
		for (size_t i = 0; i < v->ngrp && rc >= 0; i++) {
			const struct sgrp *g = &v->grp[i];
			uint64_t end;
			lfs_kv_batch_clear(v->b);
			v->ninos = 0;
			int r = g->headerless ? salv_headerless(v, g->pos, &end)
					      : salv_batch(v, v->map + g->pos + sizeof(struct kv_rhdr), g->len, g->intact);
			if (r == -ENOMEM)
				rc = r;
			for (size_t j = 0; j < v->ninos && rc >= 0; j++) {
				if (lfs_grow(&files, &cf, nf + 1, sizeof *files, 64) < 0)
					rc = -ENOMEM;
				else
					files[nf++] = v->inos[j];
			}
		}
		lfs_kv_batch_clear(v->b);
		v->st = st0;
		if (t0)
			memcpy(v->taint, t0, nt0 * sizeof *t0);
		v->ntaint = nt0;
		free(t0);
		if (committed && rc >= 0) {
			/* applied, its files suspect (operations of it may be
			 * gone with its end) and the loss reported */
			v->st.lost_records++;
			if ((rc = salv_grp_apply(v, nkv, err)) < 0) {
				free(files);
				return rc;
			}
		}
		for (size_t j = 0; j < nf && rc >= 0; j++)
			rc = salv_taint(v, files[j]);
		free(files);
		if (rc < 0)
			rc = lfs_seterr(err, rc, "out of memory");
	}
	v->ngrp = 0;
	v->grp_damage = 0;
	return rc;
}

static int salv_grp_apply(struct salv *v, struct lfs_kv *nkv, struct lfs_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < v->ngrp && rc >= 0; i++) {
		const struct sgrp *g = &v->grp[i];
		uint64_t end;
		lfs_kv_batch_clear(v->b);
		rc = g->headerless ? salv_headerless(v, g->pos, &end)
				   : salv_batch(v, v->map + g->pos + sizeof(struct kv_rhdr), g->len, g->intact);
		if (rc == -ENOMEM)
			return lfs_seterr(err, rc, "out of memory");
		if (rc < 0) {
			rc = 0;   /* a malformed batch: skipped whole, as outside groups */
			continue;
		}
		v->st.records++;
		v->st.ops += g->nops;
		if (nkv && lfs_kv_batch_count(v->b) && (rc = lfs_kv_commit(nkv, v->b, 0, err)) < 0)
			return rc;
	}
	lfs_kv_batch_clear(v->b);
	v->ngrp = 0;
	return rc < 0 ? rc : 0;
}

int lfs_fsck_salvage(const char *path, int dry_run, struct lfs_fsck_salvage *out, struct lfs_err *err)
{
	struct salv v;
	int rc = 0;
	memset(&v, 0, sizeof v);
	if (out)
		memset(out, 0, sizeof *out);
	int fd = open(path, dry_run ? O_RDONLY : O_RDWR);
	if (fd < 0)
		return lfs_seterr(err, -errno, "%s", strerror(errno));
	if (flock(fd, (dry_run ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		pid_t pid = lfs_kv_lock_owner(path);
		close(fd);
		return lfs_seterr(err, LFS_E_LOCKED, "image is in use by pid %d", (int)pid);
	}
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		rc = lfs_seterr(err, -errno, "%s", strerror(errno));
		close(fd);
		return rc;
	}
	v.fsize = (uint64_t)sb.st_size;
	if (v.fsize < KV_LOG_START + sizeof(struct kv_rhdr)) {
		close(fd);
		return lfs_seterr(err, LFS_E_BADMAGIC, "too short for a lightfs image");
	}
	v.map = mmap(NULL, v.fsize, PROT_READ, MAP_PRIVATE, fd, 0);
	if (v.map == MAP_FAILED) {
		rc = lfs_seterr(err, -errno, "mmap: %s", strerror(errno));
		close(fd);
		return rc;
	}
	/* compression of new values: from a valid header slot, else none; the
	 * newest valid slot's next sequence number tells how far the log went */
	struct kv_slot slot;
	enum lfs_kv_compress comp = LFS_KV_COMPRESS_NONE;
	int level = 0, have_slot = 0;
	uint64_t slot_gen = 0, slot_next_seq = 0;
	for (int i = 0; i < 2; i++) {
		memcpy(&slot, v.map + (i ? KV_SLOT1 : KV_SLOT0), sizeof slot);
		int ok = !memcmp(slot.magic, KV_MAGIC, 8) &&
			 slot.crc == lfs_crc32c(0, &slot, offsetof(struct kv_slot, crc));
		if (ok) {
			v.idx_cnt[v.nidx] = slot.index_count;
			v.idx_replay[v.nidx] = slot.replay_off;
			v.idx_offs[v.nidx++] = slot.index_off;
		}
		if (ok && slot.compress <= LFS_KV_COMPRESS_ZSTD && (!have_slot || slot.gen > slot_gen)) {
			comp = (enum lfs_kv_compress)slot.compress;
			level = slot.level;
			slot_gen = slot.gen;
			slot_next_seq = slot.next_seq;
			have_slot = 1;
		}
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.salvage~", path);
	struct lfs_kv *nkv = NULL;
	v.b = lfs_kv_batch_new();
	v.bigpage = calloc(1, LFS_FS_PAGE_MAX + 1);
	if (!v.b || !v.bigpage) {
		rc = lfs_seterr(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* 1. the newest intact index */
	uint64_t pos = KV_LOG_START, idx_pos = 0, idx_seq = 0, records = 0;
	struct kv_rhdr h;
	while (pos + sizeof h <= v.fsize) {
		if (!salv_hdr(&v, pos, &h)) {
			pos += KV_REC_ALIGN;
			continue;
		}
		if (lfs_crc32c(0, v.map + pos + sizeof h, h.len) == h.pcrc) {
			records++;
			if (h.type == KV_REC_INDEX && (!idx_pos || h.seq > idx_seq)) {
				idx_pos = pos;
				idx_seq = h.seq;
			}
		}
		pos = rec_end(pos, &h);
	}
	if (!records) {
		rc = lfs_seterr(err, LFS_E_BADMAGIC, "no intact log record: not a lightfs image");
		goto out;
	}
	if (!dry_run) {
		unlink(tmp);
		struct lfs_kv_opts ko = { .mode = LFS_KV_CREATE, .compress = comp, .level = level,
					  .no_auto_compact = 1 };
		if ((rc = lfs_kv_open(tmp, &ko, &nkv, err)) < 0)
			goto out;
	}
	pos = KV_LOG_START;
	/* a newer index a header slot names whose record header is damaged,
	 * its entries intact: the rebuild starts from it, where its record
	 * ends (the slot says where) */
	uint8_t *hraw = NULL;
	size_t hlen = 0;
	int hslot = -1;
	for (int i = 0; i < v.nidx; i++) {
		uint64_t o = v.idx_offs[i];
		uint8_t *r = NULL;
		size_t l = 0;
		if (o <= idx_pos || (hslot >= 0 && o <= v.idx_offs[hslot]) || o >= v.fsize ||
		    salv_hdr(&v, o, &h) || v.idx_replay[i] <= o || v.idx_replay[i] > v.fsize)
			continue;
		if (salv_index_headerless(&v, o, v.idx_cnt[i], v.idx_replay[i], &r, &l)) {
			free(hraw);
			hraw = r;
			hlen = l;
			hslot = i;
		}
	}
	if (hslot >= 0) {
		v.st.from_index = 1;
		v.st.damaged++;
		rc = nkv ? salv_index(&v, nkv, hraw, hlen, (uint32_t)v.idx_cnt[hslot], err) : 0;
		free(hraw);
		if (rc < 0)
			goto out;
		pos = v.idx_replay[hslot];
		idx_pos = 0;   /* its sequence number is not known: no gap check before the next record */
	} else if (idx_pos) {
		salv_hdr(&v, idx_pos, &h);
		v.st.from_index = 1;
		const uint8_t *ip = v.map + idx_pos + sizeof h;
		size_t il = h.len;
		uint8_t *iraw = NULL;
		uint32_t rl;
		if (h.flags & KV_RF_ZSTD) {
			/* a compressed index: [raw length u32][0 u32][zstd frame] */
			il = 0;
			if (h.len >= 8 && (memcpy(&rl, ip, 4), rl <= (uint64_t)h.nops * (sizeof(struct kv_ient) + LFS_KV_MAX_KEY + 8)) &&
			    (v.dctx || (v.dctx = ZSTD_createDCtx())) && (iraw = malloc(rl ? rl : 1))) {
				size_t r = ZSTD_decompressDCtx(v.dctx, iraw, rl, ip + 8, h.len - 8);
				if (!ZSTD_isError(r) && r == rl)
					il = rl;
			}
			ip = iraw;
		}
		if (nkv && ip && (rc = salv_index(&v, nkv, ip, il, h.nops, err)) < 0) {
			free(iraw);
			goto out;
		}
		free(iraw);
		pos = rec_end(idx_pos, &h);
	}
	/* 2. every record after it, in file order */
	uint64_t last_seq = idx_pos ? idx_seq : 0, gap_from = pos;
	int in_damage = 0;
	while (pos + sizeof h <= v.fsize) {
		int hk = salv_hdr(&v, pos, &h);
		if (hk == 2)
			v.st.damaged++;   /* a header with one bit flipped, corrected */
		if (!hk || (last_seq && h.seq <= last_seq)) {
			if (!in_damage && v.ngrp && salv_commit_like(&v, pos)) {
				/* a COMMIT whose header is damaged: its payload names
				 * the pending group's first batch and a record (or the
				 * end) follows where it ends */
				v.st.damaged++;
				if ((rc = salv_grp_apply(&v, nkv, err)) < 0)
					goto out;
				if (last_seq)
					last_seq++;
				pos += sizeof h + 8;
				gap_from = pos;
				continue;
			}
			if (!in_damage) {
				v.st.damaged++;
				/* a damaged record header over intact operations: take
				 * them, as the batch they were.  Whether it was a
				 * group's (its flag is in the header) is not known yet:
				 * it waits like a group batch (see salv_grp_push) and
				 * only its end is wanted now */
				uint64_t end = 0;
				struct lfs_fsck_salvage st0 = v.st;
				uint64_t *t0 = v.ntaint ? malloc(v.ntaint * sizeof *t0) : NULL;
				size_t nt0 = v.ntaint;
				if (v.ntaint && !t0) {
					rc = lfs_seterr(err, -ENOMEM, "out of memory");
					goto out;
				}
				if (t0)
					memcpy(t0, v.taint, nt0 * sizeof *t0);
				int r = salv_headerless(&v, pos, &end);
				v.st = st0;
				if (t0)
					memcpy(v.taint, t0, nt0 * sizeof *t0);
				v.ntaint = nt0;
				free(t0);
				lfs_kv_batch_clear(v.b);
				if (r < 0 && r != LFS_E_CORRUPT) {
					rc = lfs_seterr(err, r, "out of memory");
					goto out;
				}
				if (r == 0) {
					/* in an open group (its records are contiguous): one
					 * of its batches; else maybe a plain batch */
					int maybe = !v.ngrp || salv_grp_all_maybe(&v);
					if (v.ngrp)
						v.grp_damage = v.grp_damage ? v.grp_damage : 2;
					if ((r = salv_grp_push(&v, pos, 0, 0, 0, 1, maybe)) < 0) {
						rc = lfs_seterr(err, r, "out of memory");
						goto out;
					}
					if (last_seq)
						last_seq++;   /* the record it was */
					gap_from = end;
					pos = end;
					continue;
				}
			}
			in_damage = 1;
			if (v.ngrp)
				v.grp_damage = v.grp_damage ? v.grp_damage : 2;
			v.st.skipped_bytes += KV_REC_ALIGN;
			pos += KV_REC_ALIGN;
			continue;
		}
		in_damage = 0;
		if (v.grp_damage == 2)
			v.grp_damage = 1;   /* damage inside the group, not at the log's torn end */
		if (last_seq && h.seq > last_seq + 1 && !salv_gap_benign(&v, gap_from, h.seq - last_seq - 1))
			v.st.lost_records += h.seq - last_seq - 1;   /* whole records gone */
		uint64_t next = rec_end(pos, &h);
		int intact = lfs_crc32c(0, v.map + pos + sizeof h, h.len) == h.pcrc;
		if (!intact)
			v.st.damaged++;
		last_seq = h.seq;
		gap_from = next;
		if (h.type == KV_REC_BATCH && (h.flags & KV_RF_GROUP)) {
			/* a batch of a command-wide group: nothing of it counts
			 * before the group's COMMIT (as in lfs_kv_open) */
			int r = salv_grp_push(&v, pos, h.len, h.nops, intact, 0, 0);
			if (r < 0) {
				rc = lfs_seterr(err, r, "out of memory");
				goto out;
			}
		} else if (h.type == KV_REC_COMMIT) {
			if ((rc = salv_grp_apply(&v, nkv, err)) < 0)
				goto out;
		} else if (h.type != KV_REC_SYNC && salv_grp_all_maybe(&v)) {
			/* records with damaged headers, then a plain one: no group
			 * was open, they were plain batches */
			if ((rc = salv_grp_apply(&v, nkv, err)) < 0)
				goto out;
		} else if (h.type != KV_REC_SYNC && v.ngrp) {
			/* a group without its COMMIT, then other records: a writer
			 * cuts an unterminated group off before it writes on, so
			 * damage took its COMMIT (or its end) */
			if ((rc = salv_grp_drop(&v, nkv, err, 1)) < 0)
				goto out;
		}
		if (h.type == KV_REC_BATCH && !(h.flags & KV_RF_GROUP)) {
			lfs_kv_batch_clear(v.b);
			int r = salv_batch(&v, v.map + pos + sizeof h, h.len, intact);
			if (r == -ENOMEM) {
				rc = lfs_seterr(err, r, "out of memory");
				goto out;
			}
			if (r == 0) {
				v.st.records++;
				v.st.ops += h.nops;
				if (nkv && lfs_kv_batch_count(v.b) && (rc = lfs_kv_commit(nkv, v.b, 0, err)) < 0)
					goto out;
			}
		}
		pos = next;
	}
	if (have_slot && last_seq && slot_next_seq > last_seq + 1 &&
	    !salv_gap_benign(&v, gap_from, slot_next_seq - last_seq - 1))
		v.st.lost_records += slot_next_seq - last_seq - 1;   /* the end of the log is gone */
	/* a group still open where the log ends did not happen; when damage
	 * followed by an intact record met it (its COMMIT?) or a record of it
	 * may have been a plain batch, its files are suspect (damage only at
	 * the very end is a torn write, as lfs_kv_open takes it) */
	if ((rc = salv_grp_drop(&v, nkv, err, v.grp_damage == 1 || (v.ngrp && v.grp[0].maybe))) < 0)
		goto out;
	if ((rc = salv_put_taints(&v, nkv, err)) < 0)
		goto out;
	if (nkv) {
		rc = lfs_kv_close(nkv);
		nkv = NULL;
		if (rc < 0) {
			lfs_seterr(err, rc, "%s: %s", tmp, lfs_strerror(rc));
			goto out;
		}
		if (rename(tmp, path) < 0) {
			rc = lfs_seterr(err, -errno, "rename %s: %s", tmp, strerror(errno));
			goto out;
		}
		char dir[4096];
		snprintf(dir, sizeof dir, "%s", path);
		char *slash = strrchr(dir, '/');
		if (slash)
			*(slash == dir ? slash + 1 : slash) = 0;
		int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	if (nkv) {
		lfs_kv_close(nkv);
		unlink(tmp);
	} else if (rc < 0 && !dry_run) {
		unlink(tmp);
	}
	free(v.raw);
	free(v.blk);
	free(v.bigpage);
	free(v.inos);
	free(v.taint);
	free(v.grp);
	ZSTD_freeDCtx(v.dctx);
	lfs_kv_batch_free(v.b);
	munmap((void *)v.map, v.fsize);
	close(fd);
	if (out)
		*out = v.st;
	return rc;
}
