/*
 * cmd/cp.c — `lightfs cp`, `put` and `get`: copies host → image, image →
 * host and image → image through the engine's public API (vfs/lightfs.h).
 *
 *   cp [-r] [-p] [-v] [-n] [-f] [-L] [--progress] SRC... DST
 *   put [-r] [-p] [-v] [-n] [-f] [-L] HOST... [DST]     (always host → image)
 *   get [-r] [-p] [-v] [-n] [-f] [-L] SRC... [HOST]     (always image → host)
 *
 * One code path for every direction: a source side and a destination side,
 * each either the host (directory fds, openat) or a mounted image (paths on
 * an lfs_proc).  Each image named on the command line is mounted once for
 * the whole command (or borrowed from the shell session).
 *
 * What is kept: regular files (holes found with SEEK_DATA/SEEK_HOLE stay
 * holes, in both directions), directories (-r), symlinks (stored as they
 * are, never followed unless -L), hard links within one copy (the second
 * name becomes a link to the first copy), and with -p the mode, the owner
 * (when root) and the times.
 *
 * Safe extraction (why it holds): below the destination the user named,
 * every name comes from the source and is checked (not empty, not "." or
 * "..", no '/', at most 255 bytes) before it is used; every directory is
 * entered with openat(O_DIRECTORY|O_NOFOLLOW) relative to its parent's fd
 * and every file is created with O_NOFOLLOW, so neither a name nor a symlink
 * the copy itself created (or one already in the destination) can lead a
 * write outside the destination.  Symlinks are created verbatim (as tar and
 * cp do; creating one writes nothing outside) and never followed.  Hard
 * links are made only to files this copy created, re-reached from the
 * destination's fd the same way.  A directory of an image reached twice
 * (a hand-made loop) is refused.  A refused entry is named on stderr and
 * the command exits 1.
 */
#include "cli.h"
#include "image.h"
#include "cp_pre.h"
#include "cp_flush.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* I/O size per read/write: 256 KiB stays in the CPU's L2 cache between
 * the read and the copy into the image's cache (1 MiB did not: ~5% more
 * CPU copying a 512 MiB file) */
#define CP_BUF      (256u << 10)
#define CP_MAXIMG   16
/* an image file copied out is read by the reader thread from this size up */
#define CP_PRE_IMG_MIN (4u << 20)
#define CP_MAXTOPS  256

/* ---------------------------------------------------------------- small helpers */

struct xst {                       /* a stat of either side */
	uint32_t mode, uid, gid, nlink;
	uint64_t size, blocks, dev, ino;
	uint64_t atime_ns, mtime_ns;
};

static void xst_host(struct xst *x, const struct stat *st)
{
	x->mode = st->st_mode;
	x->uid = st->st_uid;
	x->gid = st->st_gid;
	x->nlink = (uint32_t)st->st_nlink;
	x->size = (uint64_t)st->st_size;
	x->blocks = (uint64_t)st->st_blocks;
	x->dev = st->st_dev;
	x->ino = st->st_ino;
	x->atime_ns = (uint64_t)st->st_atim.tv_sec * 1000000000u + (uint64_t)st->st_atim.tv_nsec;
	x->mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
}

static void xst_img(struct xst *x, const struct lfs_stat *st, uint64_t dev)
{
	x->mode = st->mode;
	x->uid = st->uid;
	x->gid = st->gid;
	x->nlink = st->nlink;
	x->size = st->size;
	x->blocks = st->blocks;
	x->dev = dev;
	x->ino = st->ino;
	x->atime_ns = st->atime_ns;
	x->mtime_ns = st->mtime_ns;
}

static struct timespec ns_ts(uint64_t ns)
{
	struct timespec t = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
	return t;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A name from a source directory may be used below the destination only if
 * it names exactly one entry of that directory. */
static int safe_name(const char *n)
{
	size_t l = strlen(n);
	if (l == 0 || l > 255 || strchr(n, '/'))
		return 0;
	return strcmp(n, ".") && strcmp(n, "..");
}

/* Path buffer with push/pop of components. */
struct pbuf {
	char s[2 * PATH_MAX];
	size_t len;
};

static void pb_set(struct pbuf *p, const char *s)
{
	snprintf(p->s, sizeof p->s, "%s", s);
	p->len = strlen(p->s);
}

static int pb_push(struct pbuf *p, const char *name, size_t *saved)
{
	size_t nl = strlen(name);
	*saved = p->len;
	int slash = p->len > 0 && p->s[p->len - 1] != '/';
	if (p->len + slash + nl + 1 > sizeof p->s)
		return -ENAMETOOLONG;
	if (slash)
		p->s[p->len++] = '/';
	memcpy(p->s + p->len, name, nl + 1);
	p->len += nl;
	return 0;
}

static void pb_pop(struct pbuf *p, size_t saved)
{
	p->len = saved;
	p->s[saved] = 0;
}

/* (dev, ino) → value map, open addressing (hard links, directories seen). */
struct imap_ent { uint64_t dev, ino; char *val; int used; };
struct imap { struct imap_ent *e; size_t cap, n; };

static size_t imap_slot(const struct imap *m, uint64_t dev, uint64_t ino)
{
	uint64_t h = (ino * 0x9E3779B97F4A7C15ull) ^ (dev * 0xC2B2AE3D27D4EB4Full);
	size_t i = (size_t)(h >> 17) & (m->cap - 1);
	while (m->e[i].used && (m->e[i].dev != dev || m->e[i].ino != ino))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static struct imap_ent *imap_get(const struct imap *m, uint64_t dev, uint64_t ino)
{
	if (!m->cap)
		return NULL;
	struct imap_ent *e = &m->e[imap_slot(m, dev, ino)];
	return e->used ? e : NULL;
}

static struct imap_ent *imap_add(struct imap *m, uint64_t dev, uint64_t ino)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 256;
		struct imap_ent *ne = calloc(nc, sizeof *ne);
		if (!ne)
			return NULL;
		struct imap old = *m;
		m->e = ne;
		m->cap = nc;
		for (size_t i = 0; i < old.cap; i++)
			if (old.e[i].used)
				m->e[imap_slot(m, old.e[i].dev, old.e[i].ino)] = old.e[i];
		free(old.e);
	}
	struct imap_ent *e = &m->e[imap_slot(m, dev, ino)];
	if (!e->used) {
		e->used = 1;
		e->dev = dev;
		e->ino = ino;
		e->val = NULL;
		m->n++;
	}
	return e;
}

static void imap_free(struct imap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->e[i].val);
	free(m->e);
	memset(m, 0, sizeof *m);
}


/* ---------------------------------------------------------------- the copy */

struct opts {
	int recursive, preserve, verbose, noclobber, force, deref;
	int progress;              /* 1 --progress, -1 --no-progress, 0 auto */
};

struct side {
	struct lfs_img *im;        /* NULL: host (or stdio) */
	int stdio;
	uint64_t dev;              /* image sides: a device number for (dev, ino) keys */
	struct pbuf path;          /* image: the path in the image; host: for messages */
};

struct cpx {
	struct lfs_ctx *c;
	struct opts o;
	int rc;                    /* exit status so far */
	int stop;                  /* give up (interrupted, image write failed) */
	char *buf;
	struct lfs_img imgs[CP_MAXIMG];
	int nimg;
	struct side s, d;          /* current source / destination */
	size_t d_rel;              /* host destination: offset of the part relative to d_top */
	int d_top;                 /* host destination: index into tops */
	int d_slash;               /* DST ended in '/': the top entry must be a directory */
	int d_imgdir;              /* image destination: an fd of the directory entries are
				    * made in (names created relative to it), or -1 */
	int tops[CP_MAXTOPS];      /* host destination: fd each copy's names hang from */
	int ntops;
	struct imap links;         /* source (dev, ino) → first copy (hard links) */
	struct imap dirs;          /* source directories entered (loop check) */
	struct imap made;          /* image → same image: directories this copy made */
	struct pre *pre;           /* host source: its reader thread (cp_pre.h), or NULL */
	struct cp_flush *flush;    /* image destination: its flusher (cp_flush.h), or NULL */
	mode_t umask;
	int root;
	uint32_t uid, gid;         /* getuid()/getgid(): the owner of files the engine creates */
	/* progress */
	int bar;                   /* 1 when stderr is a terminal and the bar is wanted */
	int shown;
	double t0, last;
	uint64_t tot_bytes, tot_files, done_bytes, done_files;
};

static const char *side_name(struct cpx *x, struct side *s, char *buf, size_t cap)
{
	if (s->stdio)
		return s == &x->s ? "(stdin)" : "(stdout)";
	if (s->im)
		snprintf(buf, cap, "%.4095s:%.4095s", s->im->image, s->path.s);
	else
		snprintf(buf, cap, "%s", s->path.s);
	/* control characters (newlines in names) shown escaped */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return buf;
}

static void bar_clear(struct cpx *x);

static int fail(struct cpx *x, struct side *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct cpx *x, struct side *s, int code, const char *fmt, ...)
{
	char nb[2 * PATH_MAX + 64], msg[512];
	bar_clear(x);
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
	} else {
		snprintf(msg, sizeof msg, "%s", lfs_strerror(code));
	}
	lfs_error(x->c, s ? side_name(x, s, nb, sizeof nb) : NULL, "%s", msg);
	int ex = lfs_exit_for(code < 0 ? code : -EIO);
	if (ex > x->rc)
		x->rc = ex;
	if (code == -ENOSPC || code == -EDQUOT || code == LFS_E_CANCELED || code == -ENOMEM ||
	    code == -EROFS)
		x->stop = 1;       /* no point going on */
	return code < 0 ? code : -EIO;
}

/* ---------------------------------------------------------------- progress */

static void human(char *b, size_t cap, double v)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(b, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void bar_draw(struct cpx *x, int force)
{
	if (!x->bar)
		return;
	double t = now_s();
	if (!force && t - x->last < 0.2)
		return;
	if (!x->shown && x->o.progress != 1 && t - x->t0 < 1.0)
		return;            /* short copies show nothing */
	x->last = t;
	x->shown = 1;
	double el = t - x->t0, rate = el > 0 ? (double)x->done_bytes / el : 0;
	char done[32], tot[32], rb[32], eta[32] = "--:--";
	human(done, sizeof done, (double)x->done_bytes);
	human(tot, sizeof tot, (double)x->tot_bytes);
	human(rb, sizeof rb, rate);
	int pct = x->tot_bytes ? (int)(100.0 * (double)x->done_bytes / (double)x->tot_bytes) : 100;
	if (pct > 100)
		pct = 100;
	if (rate > 0 && x->tot_bytes > x->done_bytes) {
		uint64_t s = (uint64_t)((double)(x->tot_bytes - x->done_bytes) / rate);
		snprintf(eta, sizeof eta, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
	} else if (x->tot_bytes <= x->done_bytes) {
		snprintf(eta, sizeof eta, "0:00");
	}
	char bar[21];
	int fill = pct / 5;
	for (int i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[20] = 0;
	fprintf(stderr, "\r[%s] %3d%% %s / %s  %" PRIu64 "/%" PRIu64 " files  %s/s  ETA %s\033[K",
		bar, pct, done, tot, x->done_files, x->tot_files, rb, eta);
	fflush(stderr);
}

static void bar_clear(struct cpx *x)
{
	if (x->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		x->shown = 0;
		x->last = now_s();
	}
}

/* ---------------------------------------------------------------- file I/O on either side */

/* unnamed: opened O_TMPFILE in the image; lfs_flink gives it its name
 * once the data is in, so a crash never leaves a partial copy named */
struct xf { struct lfs_img *im; int fd; int unnamed; int created; };

static ssize_t xf_read(struct xf *f, void *b, size_t n)
{
	if (f->im)
		return lfs_read(f->im->proc, f->fd, b, n);
	ssize_t r;
	do
		r = read(f->fd, b, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static ssize_t xf_pread(struct xf *f, void *b, size_t n, uint64_t off)
{
	if (f->im)
		return lfs_pread(f->im->proc, f->fd, b, n, (off_t)off);
	ssize_t r;
	do
		r = pread(f->fd, b, n, (off_t)off);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/* Write all n bytes at off (off == UINT64_MAX: at the current position). */
static int xf_write(struct xf *f, const void *b, size_t n, uint64_t off)
{
	const char *p = b;
	while (n) {
		ssize_t w;
		if (f->im) {
			w = off == UINT64_MAX ? lfs_write(f->im->proc, f->fd, p, n)
					      : lfs_pwrite(f->im->proc, f->fd, p, n, (off_t)off);
		} else {
			w = off == UINT64_MAX ? write(f->fd, p, n) : pwrite(f->fd, p, n, (off_t)off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				w = -errno;
		}
		if (w < 0)
			return (int)w;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
		if (off != UINT64_MAX)
			off += (uint64_t)w;
	}
	return 0;
}

static int64_t xf_seek(struct xf *f, uint64_t off, int whence)
{
	if (f->im)
		return lfs_lseek(f->im->proc, f->fd, (off_t)off, whence);
	off_t r = lseek(f->fd, (off_t)off, whence);
	return r < 0 ? -errno : r;
}

static int xf_truncate(struct xf *f, uint64_t len)
{
	if (f->im)
		return lfs_ftruncate(f->im->proc, f->fd, (off_t)len);
	return ftruncate(f->fd, (off_t)len) ? -errno : 0;
}

static int xf_close(struct xf *f)
{
	if (f->fd < 0)
		return 0;
	int rc = f->im ? lfs_close(f->im->proc, f->fd) : (close(f->fd) ? -errno : 0);
	f->fd = -1;
	return rc;
}

static int interrupted(struct cpx *x)
{
	if (x->c->interrupted && *x->c->interrupted) {
		if (!x->stop)
			fail(x, NULL, LFS_E_CANCELED, "interrupted");
		x->stop = 1;
		return 1;
	}
	return x->stop;
}

/* Copy the bytes of src (size bytes, sparse when its blocks say so) to dst,
 * which is empty.  Returns 0, or < 0 with *on_dst saying which side failed. */
static int copy_bytes(struct cpx *x, struct xf *src, struct xf *dst, const struct xst *st,
		      int stream, int *on_dst)
{
	int rc;
	*on_dst = 0;
	/* a file with fewer bytes stored than its size has holes: copy only the
	 * data extents and set the size at the end */
	int sparse = !stream && !x->d.stdio && S_ISREG(st->mode) && st->size > 0 &&
		     st->blocks * 512 < st->size;
	if (sparse) {
		uint64_t off = 0;
		while (off < st->size) {
			int64_t d = xf_seek(src, off, SEEK_DATA);
			if (d == -ENXIO)
				break;
			if (d < 0) {
				sparse = 0;    /* no SEEK_DATA here: fall back to a plain copy */
				break;
			}
			int64_t h = xf_seek(src, (uint64_t)d, SEEK_HOLE);
			if (h < 0)
				h = (int64_t)st->size;
			for (uint64_t p = (uint64_t)d; p < (uint64_t)h;) {
				if (interrupted(x))
					return LFS_E_CANCELED;
				size_t want = (uint64_t)h - p < CP_BUF ? (size_t)((uint64_t)h - p) : CP_BUF;
				ssize_t r = xf_pread(src, x->buf, want, p);
				if (r < 0)
					return (int)r;
				if (r == 0) {
					h = (int64_t)p;    /* shrank meanwhile */
					break;
				}
				rc = xf_write(dst, x->buf, (size_t)r, p);
				if (rc < 0) {
					*on_dst = 1;
					return rc;
				}
				p += (uint64_t)r;
				x->done_bytes += (uint64_t)r;
				bar_draw(x, 0);
			}
			off = (uint64_t)h;
		}
		if (sparse) {
			rc = xf_truncate(dst, st->size);
			if (rc < 0)
				*on_dst = 1;
			return rc;
		}
		if (xf_seek(src, 0, SEEK_SET) < 0)
			return -EIO;
	}
	/* plain: read until EOF (the size may change; a stream has none) */
	uint64_t total = 0;
	for (;;) {
		if (interrupted(x))
			return LFS_E_CANCELED;
		ssize_t r = xf_read(src, x->buf, CP_BUF);
		if (r < 0)
			return (int)r;
		if (r == 0)
			break;
		rc = xf_write(dst, x->buf, (size_t)r, UINT64_MAX);
		if (rc < 0) {
			*on_dst = 1;
			return rc;
		}
		total += (uint64_t)r;
		x->done_bytes += (uint64_t)r;
		bar_draw(x, 0);
		/* a short read that reached the known size is the end: saves a read */
		if (!stream && (size_t)r < CP_BUF && total == st->size)
			break;
	}
	return 0;
}

/* ---------------------------------------------------------------- source side */

struct node {
	int fd;                    /* open (regular file or directory), or -1 */
	struct xst st;
	int dfd;                   /* host: the directory fd the name is relative to */
	const char *name;          /* host: the name */
	/* from the reader thread (x->pre): */
	int pre_open;              /* its END / LEAVE not taken yet */
	uint32_t depth;            /* its records' depth */
	int link_err;              /* a symlink: readlink failed */
	char *target;              /* a symlink's target */
};

/* Open the source entry (host: name relative to dfd; image: x->s.path).
 * dtype: a hint from readdir (DT_UNKNOWN for none). */
static int src_open(struct cpx *x, int dfd, const char *name, unsigned char dtype, struct node *n)
{
	n->fd = -1;
	n->dfd = dfd;
	n->name = name;
	n->pre_open = 0;
	n->target = NULL;
	if (x->pre) {
		/* the reader thread opened and read it already: its ENTRY is
		 * next in the stream (the walk goes in the same order) */
		const struct pre_rec *r = pre_peek(x->pre);
		if (!r || r->kind != PRE_ENTRY || strcmp(pre_name(r), name)) {
			x->stop = 1;       /* cannot happen: the stream is out of step */
			return fail(x, &x->s, -EIO, "reader thread out of step with the copy");
		}
		int err = r->err;
		n->depth = r->depth;
		if (err && !(r->flags & PRE_F_LINK)) {
			pre_pop(x->pre);
			return fail(x, &x->s, err, NULL);
		}
		xst_host(&n->st, &r->st);
		if (x->s.im)
			n->st.dev = x->s.dev;  /* the image's (dev, ino) keys */
		n->pre_open = (r->flags & (PRE_F_DATA | PRE_F_DIR)) != 0;
		if (r->flags & PRE_F_LINK) {
			n->link_err = err;
			if (!err && !(n->target = strdup(pre_target(r)))) {
				pre_pop(x->pre);
				return fail(x, NULL, -ENOMEM, NULL);
			}
		}
		pre_pop(x->pre);
		return 0;
	}
	if (x->s.stdio) {
		struct stat st;
		if (fstat(0, &st))
			return fail(x, &x->s, -errno, NULL);
		xst_host(&n->st, &st);
		n->st.mode = S_IFREG | 0644;   /* a stream becomes a regular file */
		n->fd = 0;
		return 0;
	}
	if (x->s.im) {
		struct lfs_proc *p = x->s.im->proc;
		struct lfs_stat ls;
		/* below the top, name is one entry of the open directory dfd:
		 * looked up there (one lookup, not the whole path walked again) */
		int fl = O_RDONLY | (x->o.deref ? 0 : O_NOFOLLOW);
		int fd = dfd >= 0 ? lfs_openat(p, dfd, name, fl, 0) : lfs_open(p, x->s.path.s, fl, 0);
		int rc;
		if (fd >= 0) {
			rc = lfs_fstat(p, fd, &ls);
			if (rc < 0) {
				lfs_close(p, fd);
				return fail(x, &x->s, rc, NULL);
			}
			n->fd = fd;
		} else if (fd == -ELOOP && !x->o.deref) {
			rc = lfs_lstat(p, x->s.path.s, &ls);
			if (rc < 0)
				return fail(x, &x->s, rc, NULL);
		} else {
			return fail(x, &x->s, fd, NULL);
		}
		xst_img(&n->st, &ls, x->s.dev);
		if (!S_ISREG(ls.mode) && !S_ISDIR(ls.mode) && n->fd >= 0) {
			lfs_close(p, n->fd);
			n->fd = -1;
		}
		return 0;
	}
	struct stat st;
	int rc = pre_host_open(dfd, name, dtype, x->o.deref, &st, &n->fd);
	if (rc < 0)
		return fail(x, &x->s, rc, NULL);
	xst_host(&n->st, &st);
	return 0;
}

static void src_close(struct cpx *x, struct node *n)
{
	free(n->target);
	n->target = NULL;
	if (n->fd < 0 || x->s.stdio)
		return;
	if (x->s.im) {
		/* a file copied out is not read again: its frames go back to
		 * the cache's free list, so the copy recycles a few warm frames
		 * instead of populating the whole cache */
		if (S_ISREG(n->st.mode))
			lfs_fadvise(x->s.im->proc, n->fd, 0, 0, POSIX_FADV_DONTNEED);
		lfs_close(x->s.im->proc, n->fd);
	}
	else
		close(n->fd);
	n->fd = -1;
}

struct rd_arg { struct names *nm; int err; };

static int img_rd_cb(void *arg, const struct lfs_dirent *de)
{
	struct rd_arg *a = arg;
	int rc = names_add(a->nm, de->type, de->name);
	if (rc < 0) {
		a->err = rc;
		return 1;
	}
	return 0;
}

static int src_list(struct cpx *x, struct node *n, struct names *nm)
{
	if (x->s.im) {
		struct rd_arg a = { nm, 0 };
		int rc = lfs_readdir(x->s.im->proc, x->s.path.s, img_rd_cb, &a);
		if (a.err)
			rc = a.err;
		if (rc == LFS_E_CORRUPT)
			/* the engine refuses entries it cannot trust ("", ".", "..",
			 * names with '/', bad records): nothing of them is used */
			return fail(x, &x->s, rc, "directory holds an invalid entry (unsafe name "
				    "or damaged record); its contents are not copied");
		return rc < 0 ? fail(x, &x->s, rc, NULL) : 0;
	}
	int rc = names_list_dir(n->fd, nm);
	return rc < 0 ? fail(x, &x->s, rc, NULL) : 0;
}

static int src_readlink(struct cpx *x, struct node *n, char *buf, size_t cap)
{
	ssize_t l;
	if (x->pre) {
		if (n->link_err == -ENAMETOOLONG)
			return fail(x, &x->s, -ENAMETOOLONG, "symlink target too long");
		if (n->link_err)
			return fail(x, &x->s, n->link_err, NULL);
		l = (ssize_t)strlen(n->target);
		if ((size_t)l >= cap - 1)
			return fail(x, &x->s, -ENAMETOOLONG, "symlink target too long");
		memcpy(buf, n->target, (size_t)l + 1);
		return 0;
	}
	if (x->s.im) {
		l = lfs_readlink(x->s.im->proc, x->s.path.s, buf, cap - 1);
	} else {
		l = readlinkat(n->dfd, n->name, buf, cap - 1);
		if (l < 0)
			l = -errno;
	}
	if (l < 0)
		return fail(x, &x->s, (int)l, NULL);
	if ((size_t)l >= cap - 1)
		return fail(x, &x->s, -ENAMETOOLONG, "symlink target too long");
	buf[l] = 0;
	return 0;
}

/* The bytes of a source file read by the reader thread (its DATA records,
 * each at its offset, up to its END) to dst, which is empty.  Returns 0,
 * or < 0 with *on_dst saying which side failed (2: reported here). */
static int copy_pre(struct cpx *x, struct node *n, struct xf *dst, int *on_dst)
{
	*on_dst = 0;
	for (;;) {
		if (interrupted(x))
			return LFS_E_CANCELED;
		const struct pre_rec *r = pre_peek(x->pre);
		if (!r || r->depth != n->depth || (r->kind != PRE_DATA && r->kind != PRE_END)) {
			x->stop = 1;
			return -EIO;   /* cannot happen: the stream is out of step */
		}
		if (r->kind == PRE_END) {
			int rc = r->err;
			uint64_t size = r->off;
			int trunc = r->flags & PRE_F_SPARSE;
			pre_pop(x->pre);
			n->pre_open = 0;
			if (rc == 0 && trunc && (rc = xf_truncate(dst, size)) < 0)
				*on_dst = 1;
			return rc;
		}
		int rc = xf_write(dst, pre_bytes(r), r->dlen, r->off);
		/* taken whatever the write did: a flag left set would fail the
		 * next file copied */
		int shrank = (r->flags & PRE_F_MAP) && pre_fault_take();
		if (rc < 0) {
			*on_dst = 1;
			return rc;
		}
		if (shrank) {
			/* the source shrank while mapped: zeros were written */
			pre_skip_to(x->pre, n->depth);
			n->pre_open = 0;
			*on_dst = 2;     /* reported here */
			return fail(x, &x->s, -EIO, "read: the file shrank while it was copied");
		}
		x->done_bytes += r->dlen;
		cp_flush_note(x->flush, r->dlen);
		pre_pop(x->pre);
		bar_draw(x, 0);
	}
}

/* ---------------------------------------------------------------- destination side */

/* Does the destination entry exist?  Fills st (no follow).  0 yes, -ENOENT, < 0. */
static int dst_lstat(struct cpx *x, int ddfd, const char *dname, struct xst *st)
{
	if (x->d.im) {
		struct lfs_stat ls;
		int rc = lfs_lstat(x->d.im->proc, x->d.path.s, &ls);
		if (rc == 0)
			xst_img(st, &ls, x->d.dev);
		return rc;
	}
	struct stat hs;
	if (fstatat(ddfd, dname, &hs, AT_SYMLINK_NOFOLLOW))
		return -errno;
	xst_host(st, &hs);
	return 0;
}

static int dst_unlink(struct cpx *x, int ddfd, const char *dname)
{
	if (x->d.im)
		return lfs_unlink(x->d.im->proc, x->d.path.s);
	return unlinkat(ddfd, dname, 0) ? -errno : 0;
}

static void verbose(struct cpx *x, const char *what)
{
	if (!x->o.verbose)
		return;
	char a[2 * PATH_MAX + 64], b[2 * PATH_MAX + 64];
	bar_clear(x);
	FILE *f = x->d.stdio ? stderr : stdout;
	fprintf(f, "'%s' -> '%s'%s%s\n", side_name(x, &x->s, a, sizeof a),
		side_name(x, &x->d, b, sizeof b), what ? " " : "", what ? what : "");
}

/* Apply -p attributes to the destination entry (by name; times of regular
 * files are set by the caller through the fd when it can). */
static int dst_attrs(struct cpx *x, int ddfd, const char *dname, const struct xst *st,
		     int set_mode, int set_times, const struct lfs_stat *cur)
{
	int rc = 0;
	int lnk = S_ISLNK(st->mode);
	if (x->d.im) {
		struct lfs_proc *p = x->d.im->proc;
		/* cur: the entry as created, when known (a chown that changes
		 * nothing is a path walk and a commit saved) */
		int own = x->root && (!cur || cur->uid != st->uid || cur->gid != st->gid);
		if (own && (rc = lfs_chown(p, x->d.path.s, st->uid, st->gid)) < 0)
			return fail(x, &x->d, rc, "cannot set owner: %s", lfs_strerror(rc));
		if (set_mode && !lnk && (rc = lfs_chmod(p, x->d.path.s, st->mode & 07777)) < 0)
			return fail(x, &x->d, rc, "cannot set mode: %s", lfs_strerror(rc));
		if (set_times && (rc = lfs_utimens(p, x->d.path.s, st->atime_ns, st->mtime_ns)) < 0)
			return fail(x, &x->d, rc, "cannot set times: %s", lfs_strerror(rc));
		return 0;
	}
	if (x->root && fchownat(ddfd, dname, st->uid, st->gid, AT_SYMLINK_NOFOLLOW))
		return fail(x, &x->d, -errno, "cannot set owner: %s", strerror(errno));
	if (set_mode && !lnk && fchmodat(ddfd, dname, st->mode & 07777, 0))
		return fail(x, &x->d, -errno, "cannot set mode: %s", strerror(errno));
	if (set_times) {
		struct timespec ts[2] = { ns_ts(st->atime_ns), ns_ts(st->mtime_ns) };
		if (utimensat(ddfd, dname, ts, AT_SYMLINK_NOFOLLOW))
			return fail(x, &x->d, -errno, "cannot set times: %s", strerror(errno));
	}
	return 0;
}

/* Make the hard link for a file whose first name was already copied to
 * e->val.  Returns 1 when done, 0 to copy the data instead, < 0 failed. */
static int dst_hardlink(struct cpx *x, int ddfd, const char *dname, const char *first)
{
	int rc;
	if (x->d.im) {
		rc = lfs_link(x->d.im->proc, first, x->d.path.s);
		if (rc == -EEXIST && !x->o.noclobber) {
			struct xst ds;
			if (dst_lstat(x, ddfd, dname, &ds) == 0 && !S_ISDIR(ds.mode) &&
			    dst_unlink(x, ddfd, dname) == 0)
				rc = lfs_link(x->d.im->proc, first, x->d.path.s);
		}
		if (rc == -EEXIST && x->o.noclobber)
			return 1;
		return rc < 0 ? fail(x, &x->d, rc, "cannot make hard link to %s: %s", first,
				     lfs_strerror(rc)) : 1;
	}
	/* first = "<top index>/<path relative to that fd>": walk it again
	 * without following anything */
	char *end;
	long top = strtol(first, &end, 10);
	const char *rel = end + 1;
	int cur = x->tops[top], own = 0;
	char comp[256];
	for (;;) {
		const char *sl = strchr(rel, '/');
		if (!sl)
			break;
		size_t l = (size_t)(sl - rel);
		if (l >= sizeof comp) {
			rc = -ENAMETOOLONG;
			goto out;
		}
		memcpy(comp, rel, l);
		comp[l] = 0;
		int nfd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			rc = -errno;
			goto out;
		}
		if (own)
			close(cur);
		cur = nfd;
		own = 1;
		rel = sl + 1;
	}
	rc = linkat(cur, rel, ddfd, dname, 0) ? -errno : 0;
	if (rc == -EEXIST && !x->o.noclobber) {
		struct xst ds;
		if (dst_lstat(x, ddfd, dname, &ds) == 0 && !S_ISDIR(ds.mode) &&
		    dst_unlink(x, ddfd, dname) == 0)
			rc = linkat(cur, rel, ddfd, dname, 0) ? -errno : 0;
	}
	if (rc == -EEXIST && x->o.noclobber)
		rc = 1;
out:
	if (own)
		close(cur);
	if (rc < 0)
		return fail(x, &x->d, rc, "cannot make hard link: %s", lfs_strerror(rc));
	return 1;
}

/* Open the destination file for writing, empty.  Returns 1 opened (f->fd),
 * 0 skipped (-n), < 0 failed (reported). */
static int dst_create(struct cpx *x, int ddfd, const char *dname, mode_t mode, struct xf *f,
		      const struct xst *sst)
{
	f->im = x->d.im;
	f->fd = -1;
	f->unnamed = 0;
	f->created = 0;
	if (x->d.stdio) {
		f->fd = 1;
		return 1;
	}
	if (x->d_slash)
		return fail(x, &x->d, -ENOTDIR, NULL);
	if (x->d.im && !lfs_atomic_depth(x->d.im->mnt)) {
		/* a new file in the image: written unnamed in its directory and
		 * named when complete (lfs_flink); an existing one is handled
		 * below (overwritten in place, or replaced with -f).  Inside the
		 * command's transaction (always, for a writing mount: see
		 * lfs_img_open) a crash leaves none of the copy, so the file is
		 * created under its name at once (two path walks and commits
		 * fewer per file, and its pages are written back in batches) */
		struct lfs_stat ls;
		int rc = lfs_lstat(x->d.im->proc, x->d.path.s, &ls);
		if (rc == -ENOENT) {
			const char *path = x->d.path.s, *slash = strrchr(path, '/');
			char dir[PATH_MAX];
			if (!slash)
				snprintf(dir, sizeof dir, ".");
			else if (slash == path)
				snprintf(dir, sizeof dir, "/");
			else
				snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
			int fd = lfs_open(x->d.im->proc, dir, O_TMPFILE | O_WRONLY, mode);
			if (fd < 0)
				return fail(x, &x->d, fd, NULL);
			f->fd = fd;
			f->unnamed = 1;
			f->created = 1;
			return 1;
		}
	}
	for (int attempt = 0;; attempt++) {
		int fd;
		if (x->d.im)
			fd = x->d_imgdir >= 0
				? lfs_openat(x->d.im->proc, x->d_imgdir, dname,
					     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode)
				: lfs_open(x->d.im->proc, x->d.path.s,
					   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
		else
			fd = openat(ddfd, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (!x->d.im && fd < 0)
			fd = -errno;
		if (fd >= 0) {
			f->fd = fd;
			f->created = 1;
			return 1;
		}
		if (fd != -EEXIST)
			return fail(x, &x->d, fd, NULL);
		if (x->o.noclobber) {
			verbose(x, "(not replaced: exists)");
			return 0;
		}
		struct xst ds;
		int rc = dst_lstat(x, ddfd, dname, &ds);
		if (rc < 0)
			return fail(x, &x->d, rc, NULL);
		if (S_ISDIR(ds.mode))
			return fail(x, &x->d, -EISDIR, "cannot overwrite a directory with a file");
		if (x->d.im && x->s.im == x->d.im && ds.ino == sst->ino)
			return fail(x, &x->d, -EINVAL, "source and destination are the same file");
		if (!x->d.im && !x->s.im && !x->s.stdio && ds.dev == sst->dev && ds.ino == sst->ino)
			return fail(x, &x->d, -EINVAL, "source and destination are the same file");
		if (S_ISREG(ds.mode) && attempt == 0) {
			/* overwrite in place, never through a symlink */
			if (x->d.im)
				fd = lfs_open(x->d.im->proc, x->d.path.s, O_WRONLY | O_TRUNC | O_NOFOLLOW, 0);
			else {
				fd = openat(ddfd, dname, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
				if (fd < 0)
					fd = -errno;
			}
			if (fd >= 0) {
				f->fd = fd;
				return 1;
			}
			if (!x->o.force)
				return fail(x, &x->d, fd, "cannot overwrite: %s (-f removes it first)",
					    lfs_strerror(fd));
		} else if (!x->o.force) {
			return fail(x, &x->d, -EEXIST, "exists and is %s; not written through "
				    "(-f replaces it)", S_ISLNK(ds.mode) ? "a symlink" : "not a regular file");
		}
		if (attempt > 0)
			return fail(x, &x->d, -EEXIST, NULL);
		rc = dst_unlink(x, ddfd, dname);
		if (rc < 0)
			return fail(x, &x->d, rc, "cannot remove: %s", lfs_strerror(rc));
	}
}

static int copy_file(struct cpx *x, struct node *n, int ddfd, const char *dname)
{
	struct xst *st = &n->st;
	/* a second name of an inode already copied becomes a hard link */
	int hl = !x->s.stdio && !x->d.stdio && st->nlink > 1;
	if (hl) {
		struct imap_ent *e = imap_get(&x->links, st->dev, st->ino);
		if (e && e->val) {
			int rc = dst_hardlink(x, ddfd, dname, e->val);
			if (rc > 0)
				verbose(x, "(hard link)");
			if (rc != 0)
				return rc < 0 ? rc : 0;
		}
	}
	mode_t mode = x->o.preserve ? (st->mode & 07777) : (st->mode & 0777 & ~x->umask);
	struct xf out;
	int rc = dst_create(x, ddfd, dname, mode, &out, st);
	if (rc <= 0)
		return rc;
	struct xf in = { x->s.im, n->fd, 0, 0 };
	int on_dst = 0;
	rc = x->pre ? copy_pre(x, n, &out, &on_dst) : copy_bytes(x, &in, &out, st, x->s.stdio, &on_dst);
	if (rc < 0) {
		if (rc != LFS_E_CANCELED && on_dst != 2)
			fail(x, on_dst ? &x->d : &x->s, rc, "%s%s", on_dst ? "write: " : "read: ",
			     lfs_strerror(rc));
		if (!x->d.stdio) {
			int unnamed = out.unnamed;
			xf_close(&out);
			/* never leave a partial copy looking complete (an
			 * unnamed one goes away with its last close) */
			if (!unnamed)
				dst_unlink(x, ddfd, dname);
		}
		return rc;
	}
	if (x->o.preserve && !x->d.stdio && !x->d.im) {
		/* times through the fd, after the last write */
		struct timespec ts[2] = { ns_ts(st->atime_ns), ns_ts(st->mtime_ns) };
		if (x->root && fchown(out.fd, st->uid, st->gid))
			fail(x, &x->d, -errno, "cannot set owner: %s", strerror(errno));
		if (fchmod(out.fd, st->mode & 07777))
			fail(x, &x->d, -errno, "cannot set mode: %s", strerror(errno));
		if (futimens(out.fd, ts))
			fail(x, &x->d, -errno, "cannot set times: %s", strerror(errno));
	}
	/* the owner the copy has now: a file this copy created in the image
	 * belongs to the caller's ids (the engine's rule for new inodes), so
	 * only a file overwritten in place needs asking (lfs_fstat also counts
	 * the file's pages for st_blocks: a key scan per file) */
	struct lfs_stat cur, *curp = NULL;
	if (x->o.preserve && x->d.im && x->root) {
		if (out.created) {
			memset(&cur, 0, sizeof cur);
			cur.uid = x->uid;
			cur.gid = x->gid;
			curp = &cur;
		} else if (lfs_fstat(x->d.im->proc, out.fd, &cur) == 0) {
			curp = &cur;
		}
	}
	if (out.unnamed) {
		rc = lfs_flink(x->d.im->proc, out.fd, x->d.path.s);
		if (rc < 0) {
			xf_close(&out);
			return fail(x, &x->d, rc, "cannot name the copy: %s", lfs_strerror(rc));
		}
	}
	int times_set = 0;
	if (x->o.preserve && x->d.im && out.fd >= 0) {
		/* times through the fd, after the last write (no path walk) */
		rc = lfs_futimens(x->d.im->proc, out.fd, st->atime_ns, st->mtime_ns);
		if (rc < 0) {
			xf_close(&out);
			return fail(x, &x->d, rc, "cannot set times: %s", lfs_strerror(rc));
		}
		times_set = 1;
	}
	if (x->d.im && out.fd >= 0 && !out.unnamed)
		/* the copy is complete: its pages go to KV now, while they are
		 * still in the CPU cache (with the times just set, in the one
		 * inode record that writeback stores), and its frames are
		 * reused by the next file instead of the cache filling up */
		lfs_fadvise(x->d.im->proc, out.fd, 0, 0, POSIX_FADV_DONTNEED);
	if (!x->d.stdio) {
		rc = xf_close(&out);
		if (rc < 0)
			return fail(x, &x->d, rc, "close: %s", lfs_strerror(rc));
	}
	if (x->o.preserve && x->d.im) {
		/* created with the exact mode; owner (if it differs) and times by path */
		rc = dst_attrs(x, ddfd, dname, st, 0, !times_set, curp);
		if (rc < 0)
			return rc;
	}
	if (hl) {
		struct imap_ent *e = imap_add(&x->links, st->dev, st->ino);
		if (!e)
			return fail(x, NULL, -ENOMEM, NULL);
		free(e->val);
		if (x->d.im)
			e->val = strdup(x->d.path.s);
		else {
			const char *rel = x->d.path.s + x->d_rel;
			while (*rel == '/')
				rel++;
			if (asprintf(&e->val, "%d/%s", x->d_top, rel) < 0)
				e->val = NULL;
		}
	}
	verbose(x, NULL);
	return 0;
}

static int copy_symlink(struct cpx *x, struct node *n, int ddfd, const char *dname)
{
	char target[PATH_MAX + 1];
	int rc = src_readlink(x, n, target, sizeof target);
	if (rc < 0)
		return rc;
	if (x->d.stdio)
		return fail(x, &x->s, -EINVAL, "is a symlink; cannot write it to stdout (-L follows it)");
	if (x->d_slash)
		return fail(x, &x->d, -ENOTDIR, NULL);
	for (int attempt = 0;; attempt++) {
		if (x->d.im)
			rc = lfs_symlink(x->d.im->proc, target, x->d.path.s);
		else
			rc = symlinkat(target, ddfd, dname) ? -errno : 0;
		if (rc != -EEXIST || attempt)
			break;
		if (x->o.noclobber) {
			verbose(x, "(not replaced: exists)");
			return 0;
		}
		struct xst ds;
		if ((rc = dst_lstat(x, ddfd, dname, &ds)) < 0)
			break;
		if (S_ISDIR(ds.mode))
			return fail(x, &x->d, -EISDIR, "cannot overwrite a directory with a symlink");
		/* a symlink replaces the entry (as tar does): nothing is followed */
		if ((rc = dst_unlink(x, ddfd, dname)) < 0)
			break;
	}
	if (rc < 0)
		return fail(x, &x->d, rc, NULL);
	/* the symlink was just made: it belongs to the caller's ids */
	struct lfs_stat cur = { .uid = x->uid, .gid = x->gid };
	if (x->o.preserve && (rc = dst_attrs(x, ddfd, dname, &n->st, 0, 1, &cur)) < 0)
		return rc;
	verbose(x, NULL);
	return 0;
}

static int copy_node(struct cpx *x, int sdfd, const char *sname, unsigned char dtype,
		     int ddfd, const char *dname, int top);

/* Make (or reuse) the destination directory; returns its host fd (host
 * side), 0 (image side), or < 0. */
static int dst_mkdir(struct cpx *x, int ddfd, const char *dname, const struct xst *st, int top,
		     int *made)
{
	mode_t mode = (x->o.preserve ? st->mode : (st->mode & ~x->umask)) & 07777;
	*made = 0;
	if (x->d.stdio)
		return fail(x, &x->s, -EISDIR, "is a directory; cannot write it to stdout");
	if (x->d.im) {
		struct lfs_proc *p = x->d.im->proc;
		/* owner-writable while it is filled; the mode is set at the end */
		int rc = lfs_mkdir(p, x->d.path.s, mode | 0700);
		if (rc == 0)
			*made = 1;
		if (rc == -EEXIST) {
			struct lfs_stat ls;
			rc = top ? lfs_stat(p, x->d.path.s, &ls) : lfs_lstat(p, x->d.path.s, &ls);
			if (rc == 0 && !S_ISDIR(ls.mode) && x->o.force && !top) {
				/* -f: the entry in the way goes, the directory is made */
				rc = lfs_unlink(p, x->d.path.s);
				if (rc == 0 && (rc = lfs_mkdir(p, x->d.path.s, mode | 0700)) == 0)
					*made = 1;
			} else if (rc == 0 && !S_ISDIR(ls.mode)) {
				return fail(x, &x->d, -EEXIST, "exists and is not a directory (-f replaces it)");
			}
		}
		if (rc < 0)
			return fail(x, &x->d, rc, NULL);
		if (x->s.im == x->d.im) {
			/* remember the directories made here: copying one into itself
			 * would never end */
			struct lfs_stat ls;
			if (lfs_stat(p, x->d.path.s, &ls) == 0 && !imap_add(&x->made, x->d.dev, ls.ino))
				return fail(x, NULL, -ENOMEM, NULL);
		}
		return 0;
	}
	if (mkdirat(ddfd, dname, mode | 0700) == 0)
		*made = 1;
	else if (errno != EEXIST)
		return fail(x, &x->d, -errno, NULL);
	/* below the top, never through a symlink */
	int fd = openat(ddfd, dname, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (top ? 0 : O_NOFOLLOW));
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR) && x->o.force && !top) {
		/* -f: the symlink or file in the way goes, the directory is made */
		if (unlinkat(ddfd, dname, 0))
			return fail(x, &x->d, -errno, "cannot remove: %s", strerror(errno));
		if (mkdirat(ddfd, dname, mode | 0700))
			return fail(x, &x->d, -errno, NULL);
		*made = 1;
		fd = openat(ddfd, dname, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP || e == ENOTDIR) {
			struct xst ds;
			int lnk = dst_lstat(x, ddfd, dname, &ds) == 0 && S_ISLNK(ds.mode);
			return fail(x, &x->d, -EEXIST, "exists and is %s; refusing to write into it "
				    "(-f replaces it)", lnk ? "a symlink" : "not a directory");
		}
		return fail(x, &x->d, -e, NULL);
	}
	return fd;
}

/* Copy one entry NAME of the source directory n into the destination
 * directory (dfd / x->d.path).  Returns -1 when the entry was refused
 * before it was opened (its name), else 0. */
/* An unsafe name is never used as a path: report it escaped.  Out of line,
 * so that its buffer is not on the stack of every level of a deep copy. */
static __attribute__((noinline)) void fail_unsafe_name(struct cpx *x, const char *name)
{
	char esc[1100];
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)name; *p && o < sizeof esc - 5; p++)
		o += (size_t)snprintf(esc + o, sizeof esc - o, (*p < 0x20 || *p == 0x7f) ? "\\x%02x" : "%c", *p);
	fail(x, &x->s, LFS_E_UNSAFE, "unsafe entry name \"%s\" (empty, \".\", \"..\" or "
	     "containing '/'); refused", esc);
}

static int copy_child(struct cpx *x, struct node *n, int dfd, const char *name, unsigned char type)
{
	size_t ss, ds;
	if (!safe_name(name)) {
		fail_unsafe_name(x, name);
		return -1;
	}
	if (pb_push(&x->s.path, name, &ss) < 0) {
		fail(x, &x->s, -ENAMETOOLONG, NULL);
		return -1;
	}
	if (pb_push(&x->d.path, name, &ds) < 0) {
		pb_pop(&x->s.path, ss);
		fail(x, &x->d, -ENAMETOOLONG, NULL);
		return -1;
	}
	copy_node(x, n->fd, name, type, dfd, name, 0);
	pb_pop(&x->s.path, ss);
	pb_pop(&x->d.path, ds);
	return 0;
}

static int copy_dir(struct cpx *x, struct node *n, int ddfd, const char *dname, int top)
{
	struct xst *st = &n->st;
	if (!x->o.recursive) {
		fail(x, &x->s, -EISDIR, "is a directory (not copied; use -r)");
		return -EISDIR;
	}
	/* a directory of an image met twice is a hand-made loop; on the host
	 * (with -L) a directory being copied met again below itself */
	struct imap_ent *seen = imap_get(&x->dirs, st->dev, st->ino);
	if (seen && seen->val)
		return fail(x, &x->s, LFS_E_UNSAFE, x->s.im ? "directory reached twice (loop in the image); refused"
				: "directory loop (symlink to an ancestor); refused");
	if (x->s.im && x->s.im == x->d.im && imap_get(&x->made, st->dev, st->ino))
		return fail(x, &x->s, -EINVAL, "cannot copy a directory into itself");
	int made;
	int dfd = dst_mkdir(x, ddfd, dname, st, top, &made);
	x->d_slash = 0;
	if (dfd < 0)
		return dfd;
	struct imap_ent *e = imap_add(&x->dirs, st->dev, st->ino);
	if (!e) {
		if (!x->d.im)
			close(dfd);
		return fail(x, NULL, -ENOMEM, NULL);
	}
	e->val = strdup("");       /* on the stack */
	if (made)
		verbose(x, NULL);
	x->done_files++;
	/* image destination: files are created relative to the directory's fd
	 * (one name looked up, not the whole path walked again per file);
	 * without it (open failed) by path, as before */
	int saved_imgdir = x->d_imgdir;
	x->d_imgdir = -1;
	if (x->d.im)
		x->d_imgdir = lfs_open(x->d.im->proc, x->d.path.s,
				       O_RDONLY | O_DIRECTORY | (top ? 0 : O_NOFOLLOW), 0);
	struct names nm = { 0 };
	int rc = 0;
	if (x->pre) {
		/* the entries come from the reader thread, up to the
		 * directory's LEAVE (which says whether listing it failed) */
		for (;;) {
			if (interrupted(x))
				break;
			const struct pre_rec *r = pre_peek(x->pre);
			if (!r || !((r->kind == PRE_ENTRY && r->depth == n->depth + 1) ||
				    (r->kind == PRE_LEAVE && r->depth == n->depth))) {
				x->stop = 1;   /* cannot happen: the stream is out of step */
				rc = fail(x, &x->s, -EIO, "reader thread out of step with the copy");
				break;
			}
			if (r->kind == PRE_LEAVE) {
				int err = r->err;
				pre_pop(x->pre);
				n->pre_open = 0;
				if (err == LFS_E_CORRUPT && x->s.im)
					rc = fail(x, &x->s, err, "directory holds an invalid entry (unsafe "
						  "name or damaged record); its contents are not copied");
				else if (err)
					rc = fail(x, &x->s, err, NULL);
				break;
			}
			char name[NAME_MAX + 1];
			if (r->namelen > NAME_MAX) {
				pre_skip_entry(x->pre);
				fail(x, &x->s, -ENAMETOOLONG, NULL);
				continue;
			}
			memcpy(name, pre_name(r), (size_t)r->namelen + 1);
			if (copy_child(x, n, dfd, name, DT_UNKNOWN) < 0)
				pre_skip_entry(x->pre);
		}
	} else {
		rc = src_list(x, n, &nm);
		for (size_t off = 0; rc == 0 && off < nm.len && !interrupted(x);) {
			unsigned char type = (unsigned char)nm.buf[off];
			const char *name = nm.buf + off + 1;
			off += strlen(name) + 2;
			copy_child(x, n, dfd, name, type);
		}
	}
	free(nm.buf);
	if (x->d_imgdir >= 0)
		lfs_close(x->d.im->proc, x->d_imgdir);
	x->d_imgdir = saved_imgdir;
	/* off the stack: an image's directory stays "seen" (met again = a loop
	 * made by hand), a host directory may be met again through -L */
	e = imap_get(&x->dirs, st->dev, st->ino);
	free(e->val);
	e->val = x->s.im ? strdup("-") : NULL;
	/* mode (made owner-writable) and times last, once the contents are in */
	if (x->o.preserve || made) {
		if (x->d.im) {
			/* a directory made here belongs to the caller's ids */
			struct lfs_stat cur = { .uid = x->uid, .gid = x->gid };
			rc = dst_attrs(x, ddfd, dname, st, 1, x->o.preserve, made ? &cur : NULL);
		}
		else {
			mode_t mode = (x->o.preserve ? st->mode : (st->mode & ~x->umask)) & 07777;
			if (x->o.preserve)
				rc = dst_attrs(x, ddfd, dname, st, 1, 1, NULL);
			else if (fchmod(dfd, mode))
				rc = fail(x, &x->d, -errno, "cannot set mode: %s", strerror(errno));
		}
	}
	if (!x->d.im)
		close(dfd);
	return rc;
}

/* Copy one entry: host source = (sdfd, sname), image source = x->s.path;
 * host destination = (ddfd, dname), image destination = x->d.path. */
static int copy_node(struct cpx *x, int sdfd, const char *sname, unsigned char dtype,
		     int ddfd, const char *dname, int top)
{
	struct node n;
	int rc = src_open(x, sdfd, sname, dtype, &n);
	if (rc < 0)
		return rc;
	if (S_ISDIR(n.st.mode)) {
		rc = copy_dir(x, &n, ddfd, dname, top);
	} else if (S_ISREG(n.st.mode)) {
		rc = copy_file(x, &n, ddfd, dname);
		x->done_files++;
	} else if (S_ISLNK(n.st.mode)) {
		rc = copy_symlink(x, &n, ddfd, dname);
		x->done_files++;
	} else {
		rc = fail(x, &x->s, -EINVAL, "not copied: %s (only regular files, directories and "
			  "symlinks are)", S_ISFIFO(n.st.mode) ? "a fifo" : S_ISSOCK(n.st.mode) ?
			  "a socket" : "a device file");
	}
	bar_draw(x, 0);
	/* what of it the copy did not take (a directory refused, a file
	 * made a hard link or not replaced, a failed write) is skipped */
	if (x->pre && n.pre_open && !x->stop)
		pre_skip_to(x->pre, n.depth);
	src_close(x, &n);
	return rc;
}

/* ---------------------------------------------------------------- totals for the bar */

static void scan_host(struct cpx *x, int dfd, const char *name, int depth)
{
	struct stat st;
	if (depth > 64 || fstatat(dfd, name, &st, x->o.deref ? 0 : AT_SYMLINK_NOFOLLOW))
		return;
	x->tot_files++;
	if (S_ISREG(st.st_mode))
		x->tot_bytes += (uint64_t)st.st_size;
	if (!S_ISDIR(st.st_mode) || !x->o.recursive)
		return;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (x->o.deref ? 0 : O_NOFOLLOW));
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			scan_host(x, dirfd(d), de->d_name, depth + 1);
	closedir(d);
}

static void scan_img(struct cpx *x, struct lfs_proc *p, struct pbuf *pb, int depth)
{
	struct lfs_stat st;
	if (depth > 64 || (x->o.deref ? lfs_stat(p, pb->s, &st) : lfs_lstat(p, pb->s, &st)) < 0)
		return;
	x->tot_files++;
	if (S_ISREG(st.mode))
		x->tot_bytes += st.size;
	if (!S_ISDIR(st.mode) || !x->o.recursive)
		return;
	struct names nm = { 0 };
	struct rd_arg a = { &nm, 0 };
	lfs_readdir(p, pb->s, img_rd_cb, &a);
	for (size_t off = 0; off < nm.len;) {
		const char *name = nm.buf + off + 1;
		off += strlen(name) + 2;
		size_t sv;
		if (safe_name(name) && pb_push(pb, name, &sv) == 0) {
			scan_img(x, p, pb, depth + 1);
			pb_pop(pb, sv);
		}
	}
	free(nm.buf);
}

/* ---------------------------------------------------------------- command line */

static struct lfs_img *img_get(struct cpx *x, const char *image, int write)
{
	char rp[PATH_MAX];
	const char *key = realpath(image, rp) ? rp : image;
	for (int i = 0; i < x->nimg; i++) {
		char rq[PATH_MAX];
		const char *k2 = realpath(x->imgs[i].image, rq) ? rq : x->imgs[i].image;
		if (!strcmp(k2, key))
			return &x->imgs[i];
	}
	if (x->nimg >= CP_MAXIMG) {
		lfs_error(x->c, image, "too many images in one command");
		x->rc = LFS_EXIT_FAIL;
		return NULL;
	}
	struct lfs_img *im = &x->imgs[x->nimg];
	int rc = lfs_img_open(x->c, image, write, im);
	if (rc) {
		if (rc > x->rc)
			x->rc = rc;
		return NULL;
	}
	x->nimg++;
	return im;
}

/* The last component of a path ("" for "/", "." for "a/."): where a copy
 * into a directory goes. */
static void base_of(const char *path, char *out, size_t cap)
{
	if (!strcmp(lfs_path_base(path, out, cap), "/"))
		out[0] = 0;
}

enum cp_mode { MODE_CP, MODE_PUT, MODE_GET };

static int copy_host_dst(struct cpx *x, const struct lfs_ipath *dp, int sdfd, const char *sname,
			 const char *dparent, const char *dname);

/* Copy one source argument to the destination. */
static int copy_arg(struct cpx *x, const struct lfs_ipath *sp, const struct lfs_ipath *dp,
		    struct lfs_img *sim, struct lfs_img *dim, int dst_is_dir)
{
	char base[PATH_MAX];
	memset(&x->s, 0, sizeof x->s);
	memset(&x->d, 0, sizeof x->d);
	x->d_imgdir = -1;
	x->s.im = sim;
	x->s.stdio = sp->kind == LFS_IPATH_STDIO;
	x->s.dev = sim ? (1ull << 63) | (uint64_t)(sim - x->imgs) : 0;
	x->d.im = dim;
	x->d.stdio = dp->kind == LFS_IPATH_STDIO;
	x->d.dev = dim ? (1ull << 63) | (uint64_t)(dim - x->imgs) : 0;
	pb_set(&x->s.path, sp->path);
	base_of(sp->path, base, sizeof base);
	if (x->s.stdio)
		snprintf(base, sizeof base, "stdin");
	/* "/", "dir/." and "dir/..": the contents go into the destination */
	int contents = !*base || !strcmp(base, ".") || !strcmp(base, "..");
	int sdfd = AT_FDCWD;
	const char *sname = sp->path;

	if (x->d.stdio)
		return copy_node(x, sdfd, sname, DT_UNKNOWN, -1, "-", 1);
	size_t dl = strlen(dp->path);
	x->d_slash = !dst_is_dir && dl > 1 && dp->path[dl - 1] == '/';

	/* destination: the entry to create */
	char dparent[2 * PATH_MAX], dname[PATH_MAX];
	if (dst_is_dir && !contents) {
		snprintf(dparent, sizeof dparent, "%s", dp->path);
		snprintf(dname, sizeof dname, "%s", base);
		pb_set(&x->d.path, dp->path);
		size_t sv;
		if (pb_push(&x->d.path, base, &sv) < 0)
			return fail(x, &x->d, -ENAMETOOLONG, NULL);
	} else {
		/* the destination itself (new name, or the directory to fill) */
		pb_set(&x->d.path, dp->path);
		while (x->d.path.len > 1 && x->d.path.s[x->d.path.len - 1] == '/')
			x->d.path.s[--x->d.path.len] = 0;
		base_of(dp->path, dname, sizeof dname);
		size_t l = strlen(dp->path);
		while (l > 1 && dp->path[l - 1] == '/')
			l--;
		size_t s = l;
		while (s > 0 && dp->path[s - 1] != '/')
			s--;
		if (s == 0)
			snprintf(dparent, sizeof dparent, ".");
		else
			snprintf(dparent, sizeof dparent, "%.*s", (int)(s > 1 ? s - 1 : 1), dp->path);
		if (!*dname)
			snprintf(dname, sizeof dname, ".");   /* "/" itself */
	}
	if (dim) {
		/* a host source: its reader thread opens and reads ahead while
		 * this one builds the image (without a thread: read here) */
		if (!sim && !x->s.stdio)
			x->pre = pre_start(sdfd, sname, x->o.recursive, x->o.deref, CP_BUF);
		if (!x->flush && !dim->from_session)
			x->flush = cp_flush_start(dim->image);
		int rc = copy_node(x, sdfd, sname, DT_UNKNOWN, -1, dname, 1);
		pre_stop(x->pre);
		x->pre = NULL;
		return rc;
	}
	/* an image source copied out: its reader thread reads the image
	 * through its own mount while this one creates the host files (not
	 * for the shell's own mount: its uncommitted changes are only there) */
	struct lfs_stat ls;
	if (sim && !sim->from_session &&
	    (x->o.deref ? lfs_stat : lfs_lstat)(sim->proc, sname, &ls) == 0 &&
	    ((S_ISDIR(ls.mode) && x->o.recursive) || (S_ISREG(ls.mode) && ls.size >= CP_PRE_IMG_MIN)))
		/* (a second mount costs ~4 ms: for a tree or a large file only) */
		x->pre = pre_start_img(sim->image, sname, x->o.recursive, x->o.deref, CP_BUF);
	int rc = copy_host_dst(x, dp, sdfd, sname, dparent, dname);
	pre_stop(x->pre);
	x->pre = NULL;
	return rc;
}

/* The rest of copy_arg for a host destination. */
static int copy_host_dst(struct cpx *x, const struct lfs_ipath *dp, int sdfd, const char *sname,
			 const char *dparent, const char *dname)
{
	/* host destination: names hang from the parent directory's fd (the
	 * user's own path, followed as given) */
	int pfd = open(dparent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		struct side t = { 0 };
		pb_set(&t.path, dparent);
		return fail(x, &t, -errno, NULL);
	}
	if (x->ntops >= CP_MAXTOPS) {
		close(pfd);
		return fail(x, NULL, -EMFILE, "too many destinations");
	}
	x->d_top = x->ntops;
	x->tops[x->ntops++] = pfd;
	/* the relative part starts at the destination name */
	x->d_rel = x->d.path.len - strlen(dname);
	if (!strcmp(dname, ".") || !strcmp(dname, "/")) {
		/* names hang from the destination directory itself */
		x->d_rel = x->d.path.len;
		close(pfd);
		pfd = open(dp->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0)
			return fail(x, &x->d, -errno, NULL);
		x->tops[x->d_top] = pfd;
		return copy_node(x, sdfd, sname, DT_UNKNOWN, pfd, ".", 1);
	}
	return copy_node(x, sdfd, sname, DT_UNKNOWN, pfd, dname, 1);
}

static int cp_main(struct lfs_ctx *c, int argc, char **argv, enum cp_mode mode)
{
	static const struct option lo[] = {
		{ "recursive", no_argument, NULL, 'r' },
		{ "preserve", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "no-clobber", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "dereference", no_argument, NULL, 'L' },
		{ "progress", no_argument, NULL, 'P' },
		{ "no-progress", no_argument, NULL, 'Q' },
		{ 0 },
	};
	struct cpx *x = calloc(1, sizeof *x);
	if (!x)
		return lfs_error(c, NULL, "out of memory");
	x->c = c;
	int o;
	opterr = 0;                /* our own message, in the lightfs: CMD: form */
	while ((o = getopt_long(argc, argv, ":rRpvnfL", lo, NULL)) != -1) {
		switch (o) {
		case 'r': case 'R': x->o.recursive = 1; break;
		case 'p': x->o.preserve = 1; break;
		case 'v': x->o.verbose = 1; break;
		case 'n': x->o.noclobber = 1; x->o.force = 0; break;
		case 'f': x->o.force = 1; x->o.noclobber = 0; break;
		case 'L': x->o.deref = 1; break;
		case 'P': x->o.progress = 1; break;
		case 'Q': x->o.progress = -1; break;
		default:
			free(x);
			return lfs_bad_opt(c, argv, o);
		}
	}
	int nargs = argc - optind;
	char **args = argv + optind;
	int need = mode == MODE_CP ? 2 : 1;
	if (nargs < need) {
		free(x);
		return lfs_usage(c, nargs ? "missing destination" : "missing source");
	}
	if (mode != MODE_CP)
		x->o.recursive = 1;    /* put / get copy directories whole */
	int nsrc = mode != MODE_CP && nargs == 1 ? 1 : nargs - 1;
	struct lfs_ipath *ip = calloc((size_t)nsrc + 1, sizeof *ip);
	if (!ip) {
		free(x);
		return lfs_error(c, NULL, "out of memory");
	}
	int rc = 0;
	/* classify: put's sources are host paths, get's destination is one */
	for (int i = 0; i < nsrc && !rc; i++) {
		if (mode == MODE_PUT) {
			ip[i].kind = !strcmp(args[i], "-") ? LFS_IPATH_STDIO : LFS_IPATH_HOST;
			snprintf(ip[i].path, sizeof ip[i].path, "%s", args[i]);
		} else {
			rc = lfs_ipath_parse(c, args[i], &ip[i]);
		}
	}
	struct lfs_ipath *dp = &ip[nsrc];
	if (!rc) {
		if (mode == MODE_CP || nargs > nsrc) {
			const char *d = args[nargs - 1];
			if (mode == MODE_GET) {
				dp->kind = !strcmp(d, "-") ? LFS_IPATH_STDIO : LFS_IPATH_HOST;
				snprintf(dp->path, sizeof dp->path, "%s", d);
			} else {
				rc = lfs_ipath_parse(c, d, dp);
			}
		} else if (mode == MODE_GET) {
			dp->kind = LFS_IPATH_HOST;
			snprintf(dp->path, sizeof dp->path, ".");
		} else {
			/* put HOST: into the current directory of the image */
			rc = lfs_ipath_parse(c, ".", dp);
		}
	}
	if (rc)
		goto out;
	/* direction checks */
	if (mode == MODE_PUT && dp->kind != LFS_IPATH_IMAGE) {
		rc = lfs_usage(c, "%s: not an image path (write IMAGE:/path, use -i IMAGE, "
			       "or run inside 'lightfs shell')", dp->path);
		goto out;
	}
	for (int i = 0; i < nsrc; i++) {
		if (mode == MODE_GET && ip[i].kind != LFS_IPATH_IMAGE) {
			rc = lfs_usage(c, "%s: not an image path (write IMAGE:/path, use -i IMAGE, "
				       "or run inside 'lightfs shell')", ip[i].path);
			goto out;
		}
		if (ip[i].kind != LFS_IPATH_IMAGE && dp->kind != LFS_IPATH_IMAGE) {
			rc = lfs_usage(c, "%s -> %s: neither is in an image (use cp(1) for host copies)",
				       ip[i].path, dp->path);
			goto out;
		}
		if (ip[i].kind == LFS_IPATH_STDIO && dp->kind == LFS_IPATH_STDIO) {
			rc = lfs_usage(c, "-: stdin to stdout is not a copy into or out of an image");
			goto out;
		}
	}
	x->umask = umask(0);
	umask(x->umask);
	x->root = geteuid() == 0;
	x->uid = (uint32_t)getuid();
	x->gid = (uint32_t)getgid();
	x->buf = malloc(CP_BUF);
	if (!x->buf) {
		rc = lfs_error(c, NULL, "out of memory");
		goto out;
	}
	/* mount each image once: the destination's for writing first */
	struct lfs_img *dim = NULL;
	if (dp->kind == LFS_IPATH_IMAGE && !(dim = img_get(x, dp->image, 1))) {
		rc = x->rc;
		goto out;
	}
	struct lfs_img **sim = calloc((size_t)nsrc, sizeof *sim);
	if (!sim) {
		rc = lfs_error(c, NULL, "out of memory");
		goto out_close;
	}
	for (int i = 0; i < nsrc; i++)
		if (ip[i].kind == LFS_IPATH_IMAGE && !(sim[i] = img_get(x, ip[i].image, 0))) {
			rc = x->rc;
			free(sim);
			goto out_close;
		}
	/* is the destination an existing directory? */
	int dst_is_dir = 0, dst_exists = 0;
	size_t dl = strlen(dp->path);
	int dslash = dl > 1 && dp->path[dl - 1] == '/';
	if (dp->kind == LFS_IPATH_IMAGE) {
		struct lfs_stat ls;
		int r = lfs_stat(dim->proc, dp->path, &ls);
		dst_exists = r == 0;
		dst_is_dir = r == 0 && S_ISDIR(ls.mode);
	} else if (dp->kind == LFS_IPATH_HOST) {
		struct stat st;
		dst_exists = stat(dp->path, &st) == 0;
		dst_is_dir = dst_exists && S_ISDIR(st.st_mode);
	}
	if (dp->kind != LFS_IPATH_STDIO && !dst_is_dir && (nsrc > 1 || (dslash && dst_exists))) {
		char nb[2 * PATH_MAX + 8];
		if (dp->kind == LFS_IPATH_IMAGE)
			snprintf(nb, sizeof nb, "%s:%s", dp->image, dp->path);
		else
			snprintf(nb, sizeof nb, "%s", dp->path);
		rc = lfs_error(c, nb, dst_exists ? "not a directory" :
			       "no such directory (the destination of several sources must exist)");
		free(sim);
		goto out_close;
	}
	/* progress bar: only on a terminal, totals counted first */
	x->bar = x->o.progress >= 0 && isatty(2) && !(dp->kind == LFS_IPATH_STDIO && isatty(1));
	if (x->bar) {
		for (int i = 0; i < nsrc; i++) {
			if (ip[i].kind == LFS_IPATH_HOST)
				scan_host(x, AT_FDCWD, ip[i].path, 0);
			else if (ip[i].kind == LFS_IPATH_IMAGE) {
				struct pbuf pb;
				pb_set(&pb, ip[i].path);
				scan_img(x, sim[i]->proc, &pb, 0);
			}
		}
	}
	x->t0 = x->last = now_s();
	for (int i = 0; i < nsrc && !interrupted(x); i++) {
		imap_free(&x->dirs);
		copy_arg(x, &ip[i], dp, sim[i], dim, dst_is_dir);
	}
	if (x->bar && (x->shown || x->o.progress == 1)) {
		bar_draw(x, 1);
		if (x->o.progress == 1 && x->shown) {
			fputc('\n', stderr);      /* --progress: the totals stay */
			x->shown = 0;
		}
		bar_clear(x);
	}
	free(sim);
out_close:
	cp_flush_stop(x->flush);
	x->flush = NULL;
	/* commit and unmount: a failure here loses the copy, so it is reported */
	for (int i = 0; i < x->nimg; i++) {
		int wr = x->imgs[i].write && !x->imgs[i].from_session;
		char name[PATH_MAX];
		snprintf(name, sizeof name, "%s", x->imgs[i].image);
		int r = lfs_img_close(c, &x->imgs[i]);
		if (r && wr && x->imgs[i].commit_failed)
			/* data is written back at the end: say what the error means */
			lfs_error(c, name, "nothing was copied (writing it back failed; the "
				  "image keeps its state from before this command)");
		if (r > x->rc)
			x->rc = r;
	}
	rc = rc ? rc : x->rc;
out:
	for (int i = 0; i < x->ntops; i++)
		close(x->tops[i]);
	imap_free(&x->links);
	imap_free(&x->dirs);
	imap_free(&x->made);
	free(x->buf);
	free(ip);
	free(x);
	return rc;
}

static int cmd_cp_fn(struct lfs_ctx *c, int argc, char **argv) { return cp_main(c, argc, argv, MODE_CP); }
static int cmd_put_fn(struct lfs_ctx *c, int argc, char **argv) { return cp_main(c, argc, argv, MODE_PUT); }
static int cmd_get_fn(struct lfs_ctx *c, int argc, char **argv) { return cp_main(c, argc, argv, MODE_GET); }

#define CP_OPTS_HELP \
	"  -r, -R, --recursive  copy directories and everything below them\n" \
	"  -p, --preserve       keep mode, times and (as root) owner\n" \
	"  -v, --verbose        print 'SRC' -> 'DST' for each entry\n" \
	"  -n, --no-clobber     leave existing destination entries alone\n" \
	"  -f, --force          replace an existing destination entry that cannot be\n" \
	"                       written in place (a symlink, a read-only file)\n" \
	"  -L, --dereference    follow symlinks in the source (default: copy them as\n" \
	"                       symlinks)\n" \
	"  --progress           show the progress bar at once (on a terminal)\n" \
	"  --no-progress        never show it\n"

#define CP_SAFE_HELP \
	"Copying out of an image never writes outside the destination: names from\n" \
	"the image are checked (no \"\", \".\", \"..\" or '/'), directories are entered\n" \
	"and files created without following symlinks (an existing symlink in the\n" \
	"destination is not written through; -f replaces it), symlinks are created\n" \
	"as stored and never followed, hard links only join files of this copy, and\n" \
	"a directory reached twice is refused.  Refused entries are named on stderr\n" \
	"and the exit status is 1.\n"

const struct lfs_cmd cmd_cp = {
	.name = "cp",
	.fn = cmd_cp_fn,
	.synopsis = "cp [-r] [-p] [-v] [-n] [-f] [-L] [--progress] SRC... DST",
	.summary = "copy files and trees into, out of and within images",
	.help =
	"Copies host -> image, image -> host and image -> image.  SRC and DST are\n"
	"host paths or IMAGE:/path (with -i IMAGE, or in the shell, plain paths are\n"
	"in the image); `-` is stdin as SRC, stdout as DST.  With several SRCs, or\n"
	"when DST is an existing directory, each SRC goes into DST under its own\n"
	"name; `DIR/.` (or an image's `/`) copies the contents of DIR.\n"
	"Kept: regular files (holes stay holes, both ways), directories (-r),\n"
	"symlinks (stored, never followed unless -L), hard links within one copy,\n"
	"empty files and any name.  An existing destination file is overwritten in\n"
	"place (never through a symlink).  A progress bar (bytes, files, rate,\n"
	"ETA) appears on a terminal for copies longer than a second, never in a pipe.\n"
	CP_OPTS_HELP "\n" CP_SAFE_HELP
	"Each image is mounted once for the command; a copy into an image is one\n"
	"transaction, committed and synced when the copy ends: killed or cut by a\n"
	"power loss, it leaves none of the copy.  A failed entry (missing source,\n"
	"a directory where a file is wanted) is named on stderr, its partial copy\n"
	"removed, the others kept, and the exit status is 1; a full disk fails the\n"
	"whole copy (the image keeps its state from before it).\n"
	"Examples:\n"
	"  lightfs cp -rp /usr/include img.lfs:/inc\n"
	"  lightfs cp -r img.lfs:/inc /tmp/out\n"
	"  lightfs cp img.lfs:/etc/passwd -\n",
	.options = "-r -R -p -v -n -f -L --recursive --preserve --verbose --no-clobber --force "
		   "--dereference --progress --no-progress",
};

const struct lfs_cmd cmd_put = {
	.name = "put",
	.fn = cmd_put_fn,
	.synopsis = "put [-p] [-v] [-n] [-f] [-L] HOST... [DST]",
	.summary = "copy host files or trees into the image (shell-friendly cp)",
	.help =
	"`cp` with the direction fixed: every HOST is a host path (`-` is stdin)\n"
	"and DST is in the image -- an IMAGE:/path, or with -i IMAGE or inside the\n"
	"shell a plain path (relative to the shell's directory).  Without DST,\n"
	"into the image's current directory.  Directories are copied whole.\n"
	CP_OPTS_HELP,
	.options = "-r -R -p -v -n -f -L --recursive --preserve --verbose --no-clobber --force "
		   "--dereference --progress --no-progress",
};

const struct lfs_cmd cmd_get = {
	.name = "get",
	.fn = cmd_get_fn,
	.synopsis = "get [-p] [-v] [-n] [-f] [-L] SRC... [HOST]",
	.summary = "copy files or trees out of the image (shell-friendly cp)",
	.help =
	"`cp` with the direction fixed: every SRC is in the image (IMAGE:/path, or\n"
	"with -i IMAGE or inside the shell a plain path) and HOST is a host path\n"
	"(`-` is stdout); without HOST, into the current host directory.\n"
	"Directories are copied whole.\n"
	CP_OPTS_HELP "\n" CP_SAFE_HELP,
	.options = "-r -R -p -v -n -f -L --recursive --preserve --verbose --no-clobber --force "
		   "--dereference --progress --no-progress",
};
