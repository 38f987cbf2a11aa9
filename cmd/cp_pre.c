/*
 * cmd/cp_pre.c — the reader thread of `lightfs cp` for host sources (see
 * cp_pre.h for the record stream).
 *
 * The ring: one byte buffer, records written back to back by the reader
 * (the producer) and taken in order by cp (the consumer); a record that
 * does not fit before the end of the buffer is preceded by a WRAP record
 * filling the rest.  head (bytes published) and tail (bytes released) only
 * grow; each side keeps its own position and publishes it atomically.
 *
 * Waking: a side that finds nothing to do (the consumer no record, the
 * producer no room) sets its wait flag and sleeps on the mutex's condition.
 * The other side wakes it only once there is a batch to do (PRE_BATCH
 * records or PRE_BATCH_BYTES published; a quarter of the ring released),
 * or when it is about to sleep itself, or at the end: on a shared 2-core
 * machine a wakeup per record would cost more than the reading saves.
 * Flag and position are both sequentially consistent (a store of one then
 * a load of the other on each side), so a wakeup is never lost.
 */
#include "cp_pre.h"
#include "vfs/lightfs.h"
#include "common/grow.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PRE_RING        (8u << 20)
#define PRE_BATCH       16
#define PRE_BATCH_BYTES (512u << 10)
#define HDR             offsetof(struct pre_rec, data)
#define ALIGN8(n)       (((n) + 7) & ~(size_t)7)
/* deepest directory walked: below it cp's own paths (2 * PATH_MAX, each
 * level at least 2 bytes) are too long anyway and it refuses the entries;
 * this also bounds the reader's stack (a few hundred bytes a level) */
#define PRE_DEPTH_MAX   (PATH_MAX + 1)
/* mapped DATA (PRE_F_MAP): files from PRE_MAP_MIN bytes, PRE_MAP_CHUNK a
 * record; a record takes 1/PRE_MAP_RING of its bytes of ring room, which
 * bounds what is mapped ahead (64 MiB for the 8 MiB ring) */
#define PRE_MAP_MIN     (1u << 20)
#define PRE_MAP_CHUNK   (4u << 20)
#define PRE_MAP_RING    8
#define PRE_MAP_SLOTS   64

struct anc { dev_t dev; ino_t ino; };

struct pre {
	char *ring;
	size_t cap;
	_Atomic uint64_t head, tail;
	_Atomic int cons_wait, prod_wait, done, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv_cons, cv_prod;
	pthread_t th;
	/* consumer's own */
	uint64_t c_pos, c_head;
	/* producer's own */
	uint64_t p_pos, p_tail;
	unsigned p_batch;
	uint64_t p_batch_from;
	/* the walk */
	int dfd;
	char *name;
	int recursive, deref;
	size_t chunk;
	struct anc *anc;
	size_t nanc, canc;
	char link[PATH_MAX + 1];   /* a symlink's target (not on the walk's stack) */
	/* an image source: the reader's own read-only mount of it */
	struct lfs_mount *mnt;
	struct lfs_proc *proc;
	char path[2 * PATH_MAX];   /* the entry's path in the image */
	size_t plen;
	uint64_t *seen;            /* directory inodes walked (a set; 0 = free) */
	size_t nseen, cseen;
};

/* ---------------------------------------------------------------- host side */

int pre_host_open(int dfd, const char *name, unsigned char dtype, int deref,
		  struct stat *st, int *fdp)
{
	int nofollow = deref ? 0 : O_NOFOLLOW;
	*fdp = -1;
	if (dtype == DT_REG || dtype == DT_DIR) {
		int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | nofollow);
		if (fd >= 0) {
			if (fstat(fd, st)) {
				int e = errno;
				close(fd);
				return -e;
			}
			if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode))
				*fdp = fd;
			else
				close(fd);
			return 0;
		}
		if (errno != ELOOP)
			return -errno;
	}
	if (fstatat(dfd, name, st, deref ? 0 : AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
		int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | nofollow);
		if (fd < 0)
			return -errno;
		*fdp = fd;
	}
	return 0;
}

/* ---------------------------------------------------------------- producer */

static void wake_cons(struct pre *p)
{
	pthread_mutex_lock(&p->mu);
	pthread_cond_signal(&p->cv_cons);
	pthread_mutex_unlock(&p->mu);
}

/* Publish what was written; wake a waiting consumer once a batch is there
 * (or always when flush). */
static void publish(struct pre *p, int flush)
{
	atomic_store(&p->head, p->p_pos);
	p->p_batch++;
	if (atomic_load(&p->cons_wait) &&
	    (flush || p->p_batch >= PRE_BATCH || p->p_pos - p->p_batch_from >= PRE_BATCH_BYTES)) {
		p->p_batch = 0;
		p->p_batch_from = p->p_pos;
		wake_cons(p);
	}
}

/* Room for a record of n bytes (8-aligned), contiguous; NULL when stopped. */
static struct pre_rec *reserve(struct pre *p, size_t n)
{
	if (atomic_load_explicit(&p->stop, memory_order_relaxed))
		return NULL;
	size_t pos = (size_t)(p->p_pos % p->cap), need = n;
	if (p->cap - pos < n)
		need += p->cap - pos;          /* the WRAP filling the rest */
	while (p->cap - (size_t)(p->p_pos - p->p_tail) < need) {
		p->p_tail = atomic_load(&p->tail);
		if (p->cap - (size_t)(p->p_pos - p->p_tail) >= need)
			break;
		if (atomic_load(&p->stop))
			return NULL;
		/* the consumer works through what is there first */
		if (atomic_load(&p->cons_wait)) {
			p->p_batch_from = p->p_pos;
			p->p_batch = 0;
			wake_cons(p);
		}
		pthread_mutex_lock(&p->mu);
		atomic_store(&p->prod_wait, 1);
		p->p_tail = atomic_load(&p->tail);
		if (p->cap - (size_t)(p->p_pos - p->p_tail) < need && !atomic_load(&p->stop))
			pthread_cond_wait(&p->cv_prod, &p->mu);
		atomic_store(&p->prod_wait, 0);
		pthread_mutex_unlock(&p->mu);
	}
	if (p->cap - pos < n) {
		struct pre_rec *w = (struct pre_rec *)(p->ring + pos);
		w->len = (uint32_t)(p->cap - pos);
		w->kind = PRE_WRAP;
		p->p_pos += p->cap - pos;
		pos = 0;
	}
	struct pre_rec *r = (struct pre_rec *)(p->ring + pos);
	memset(r, 0, HDR);
	return r;
}

static int commit(struct pre *p, struct pre_rec *r, size_t n, int flush)
{
	r->len = (uint32_t)ALIGN8(n);
	p->p_pos += r->len;
	publish(p, flush);
	return 0;
}

static int emit(struct pre *p, enum pre_kind kind, uint32_t depth, int err, uint64_t off,
		unsigned flags)
{
	struct pre_rec *r = reserve(p, ALIGN8(HDR));
	if (!r)
		return -1;
	r->kind = (uint8_t)kind;
	r->flags = (uint8_t)flags;
	r->depth = depth;
	r->err = err;
	r->off = off;
	return commit(p, r, HDR, 0);
}

static int emit_entry(struct pre *p, uint32_t depth, const char *name, int err,
		      const struct stat *st, unsigned flags, const char *target, size_t tlen)
{
	size_t nl = strlen(name);
	if (nl > UINT16_MAX)
		nl = UINT16_MAX;           /* cannot come from a directory (NAME_MAX) */
	size_t n = HDR + nl + 1 + (target ? tlen + 1 : 0);
	struct pre_rec *r = reserve(p, ALIGN8(n));
	if (!r)
		return -1;
	r->kind = PRE_ENTRY;
	r->flags = (uint8_t)flags;
	r->namelen = (uint16_t)nl;
	r->depth = depth;
	r->err = err;
	if (st)
		r->st = *st;
	memcpy(r->data, name, nl);
	r->data[nl] = 0;
	if (target) {
		memcpy(r->data + nl + 1, target, tlen);
		r->data[nl + 1 + tlen] = 0;
		r->dlen = (uint32_t)tlen;
	}
	return commit(p, r, n, 0);
}

/* The ENTRY of a symlink whose target was read into p->link: l is what the
 * read returned (its length, or -errno); a target that filled the buffer
 * may have been cut, so it is refused as too long. */
static int emit_link(struct pre *p, uint32_t depth, const char *name, const struct stat *st, ssize_t l)
{
	int lerr = l < 0 ? (int)l : (size_t)l >= sizeof p->link - 1 ? -ENAMETOOLONG : 0;
	return emit_entry(p, depth, name, lerr, st, PRE_F_LINK, p->link, lerr ? 0 : (size_t)l);
}

/* The source file's read, pread and lseek, on the host or in the image. */
static ssize_t src_read(struct pre *p, int fd, void *buf, size_t n, uint64_t off, int positional)
{
	if (p->proc)
		return positional ? lfs_pread(p->proc, fd, buf, n, (off_t)off) : lfs_read(p->proc, fd, buf, n);
	ssize_t got;
	do
		got = positional ? pread(fd, buf, n, (off_t)off) : read(fd, buf, n);
	while (got < 0 && errno == EINTR);
	return got < 0 ? -errno : got;
}

static int64_t src_seek(struct pre *p, int fd, uint64_t off, int whence)
{
	if (p->proc)
		return lfs_lseek(p->proc, fd, (off_t)off, whence);
	off_t r = lseek(fd, (off_t)off, whence);
	return r < 0 ? -errno : r;
}

/* One read into a DATA record at off (pread when sparse, else read at the
 * file position): returns the bytes read (0 at EOF, nothing emitted),
 * -errno, or -ECANCELED when stopped. */
static ssize_t data_rec(struct pre *p, int fd, size_t want, uint64_t off, int positional,
			uint32_t depth)
{
	struct pre_rec *r = reserve(p, ALIGN8(HDR + want));
	if (!r)
		return -ECANCELED;
	ssize_t got = src_read(p, fd, r->data, want, off, positional);
	if (got < 0)
		return got == -ECANCELED ? -EIO : got;
	if (got == 0)
		return 0;              /* reserved, not committed: reused by the next record */
	r->kind = PRE_DATA;
	r->depth = depth;
	r->dlen = (uint32_t)got;
	r->off = off;
	commit(p, r, HDR + (size_t)got, 0);
	return got;
}

/* ---------------------------------------------------------------- mapped data */

/* The mappings live in records (the SIGBUS handler looks them up here). */
static _Atomic uintptr_t map_lo[PRE_MAP_SLOTS], map_hi[PRE_MAP_SLOTS];
static _Atomic int map_fault;
static pthread_once_t map_once = PTHREAD_ONCE_INIT;
static int map_ready;
static struct sigaction map_old;   /* the SIGBUS action before ours */

/* Only async-signal-safe calls here (mmap, sigaction, raise). */
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	/* a fault of the kernel's (si_code > 0), not one sent by kill (whose
	 * si_addr is not an address) */
	uintptr_t a = si && si->si_code > 0 ? (uintptr_t)si->si_addr : 0;
	for (int i = 0; a && i < PRE_MAP_SLOTS; i++) {
		uintptr_t lo = atomic_load(&map_lo[i]), hi = atomic_load(&map_hi[i]);
		if (lo && a >= lo && a < hi) {
			/* past the end of a file that shrank: zeros from here on */
			uintptr_t pg = a & ~(uintptr_t)4095;
			if (mmap((void *)pg, hi - pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				 -1, 0) != MAP_FAILED) {
				atomic_store(&map_fault, 1);
				errno = saved;
				return;
			}
			break;
		}
	}
	/* not ours: the action there was before (the default, or ASan's
	 * report), taken when the access faults again on return, or at
	 * once for a SIGBUS sent from outside (pending until we return) */
	sigaction(sig, &map_old, NULL);
	if (!a)
		raise(sig);
	errno = saved;
}

static void map_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	map_ready = sysconf(_SC_PAGESIZE) == 4096 && sigaction(SIGBUS, &sa, &map_old) == 0;
}

int pre_fault_take(void)
{
	return atomic_exchange(&map_fault, 0);
}

static void map_drop(const struct pre_rec *r)
{
	const char *m = pre_bytes(r);
	for (int i = 0; i < PRE_MAP_SLOTS; i++)
		if (atomic_load(&map_lo[i]) == (uintptr_t)m) {
			atomic_store(&map_hi[i], 0);
			atomic_store(&map_lo[i], 0);
			break;
		}
	munmap((void *)m, r->dlen);
}

/* Pass [off, off + len) of fd as a mapped DATA record: 1 done, 0 not
 * possible (read it instead), -ECANCELED when stopped. */
static int map_rec(struct pre *p, int fd, size_t len, uint64_t off, uint32_t depth)
{
	int slot = -1;
	for (int i = 0; i < PRE_MAP_SLOTS && slot < 0; i++)
		if (!atomic_load(&map_lo[i]))
			slot = i;
	if (slot < 0)
		return 0;
	size_t n = HDR + sizeof(char *) + len / PRE_MAP_RING;
	struct pre_rec *r = reserve(p, ALIGN8(n));
	if (!r)
		return -ECANCELED;
	char *m = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, (off_t)off);
	if (m == MAP_FAILED)
		return 0;              /* reserved, not committed */
	atomic_store(&map_hi[slot], (uintptr_t)m + len);
	atomic_store(&map_lo[slot], (uintptr_t)m);
	r->kind = PRE_DATA;
	r->flags = PRE_F_MAP;
	r->depth = depth;
	r->dlen = (uint32_t)len;
	r->off = off;
	memcpy(r->data, &m, sizeof m);
	commit(p, r, n, 0);
	return 1;
}

/* The bytes of a regular file, as cp's copy loop reads them: a file with
 * fewer bytes stored than its size has holes, and only its data extents
 * are read (SEEK_DATA/SEEK_HOLE); else read until EOF (a short read that
 * reaches the known size is the end). */
static int stream(struct pre *p, int fd, const struct stat *st, uint32_t depth)
{
	uint64_t size = (uint64_t)st->st_size;
	int sparse = S_ISREG(st->st_mode) && size > 0 && (uint64_t)st->st_blocks * 512 < size;
	if (sparse) {
		uint64_t off = 0;
		while (off < size) {
			int64_t d = src_seek(p, fd, off, SEEK_DATA);
			if (d == -ENXIO)
				break;
			if (d < 0) {
				sparse = 0;    /* no SEEK_DATA here: a plain copy */
				break;
			}
			int64_t h = src_seek(p, fd, (uint64_t)d, SEEK_HOLE);
			if (h < 0)
				h = (int64_t)size;
			for (uint64_t q = (uint64_t)d; q < (uint64_t)h;) {
				size_t want = (uint64_t)h - q < p->chunk ? (size_t)((uint64_t)h - q) : p->chunk;
				ssize_t got = data_rec(p, fd, want, q, 1, depth);
				if (got == -ECANCELED)
					return -1;
				if (got < 0)
					return emit(p, PRE_END, depth, (int)got, 0, 0);
				if (got == 0) {
					h = (int64_t)q;  /* shrank meanwhile */
					break;
				}
				q += (uint64_t)got;
			}
			off = (uint64_t)h;
		}
		if (sparse)
			return emit(p, PRE_END, depth, 0, size, PRE_F_SPARSE);
		if (src_seek(p, fd, 0, SEEK_SET) < 0)
			return emit(p, PRE_END, depth, -EIO, 0, 0);
	}
	uint64_t total = 0;
	if (!p->proc && !sparse && S_ISREG(st->st_mode) && size >= PRE_MAP_MIN &&
	    (pthread_once(&map_once, map_init), map_ready)) {
		/* its pages mapped, up to the size it had; then read on from
		 * there (it may have grown) */
		while (total < size) {
			size_t len = size - total < PRE_MAP_CHUNK ? (size_t)(size - total) : PRE_MAP_CHUNK;
			int m = map_rec(p, fd, len, total, depth);
			if (m == -ECANCELED)
				return -1;
			if (m == 0)
				break;
			total += len;
		}
		if (total && lseek(fd, (off_t)total, SEEK_SET) < 0)
			return emit(p, PRE_END, depth, -errno, 0, 0);
	}
	for (;;) {
		size_t want = p->chunk;
		if (size >= total && size - total < p->chunk)
			want = (size_t)(size - total) + 1;   /* EOF seen without a second read */
		ssize_t got = data_rec(p, fd, want, total, 0, depth);
		if (got == -ECANCELED)
			return -1;
		if (got < 0)
			return emit(p, PRE_END, depth, (int)got, 0, 0);
		if (got == 0)
			break;
		total += (uint64_t)got;
		if ((size_t)got < want && total == size)
			break;
	}
	return emit(p, PRE_END, depth, 0, 0, 0);
}

int names_add(struct names *nm, unsigned char type, const char *name)
{
	size_t l = strlen(name) + 2;
	if (lfs_grow(&nm->buf, &nm->cap, nm->len + l, 1, 4096) < 0)
		return -ENOMEM;
	nm->buf[nm->len] = (char)type;
	memcpy(nm->buf + nm->len + 1, name, l - 1);
	nm->len += l;
	nm->n++;
	return 0;
}

int names_list_dir(int fd, struct names *nm)
{
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		return -e;
	}
	struct dirent *de;
	int rc = 0;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((rc = names_add(nm, de->d_type, de->d_name)) < 0)
			break;
		errno = 0;
	}
	if (!rc && errno)
		rc = -errno;
	closedir(d);
	return rc;
}

static int anc_has(const struct pre *p, const struct stat *st)
{
	for (size_t i = 0; i < p->nanc; i++)
		if (p->anc[i].dev == st->st_dev && p->anc[i].ino == st->st_ino)
			return 1;
	return 0;
}

/* Walk one entry: its records, then (a directory) its entries'.  Returns
 * -1 when stopped. */
static int walk(struct pre *p, int dfd, const char *name, unsigned char dtype, uint32_t depth)
{
	if (atomic_load(&p->stop))
		return -1;
	struct stat st;
	int fd;
	int err = pre_host_open(dfd, name, dtype, p->deref, &st, &fd);
	if (err)
		return emit_entry(p, depth, name, err, NULL, 0, NULL, 0);
	if (S_ISLNK(st.st_mode)) {
		ssize_t l = readlinkat(dfd, name, p->link, sizeof p->link - 1);
		return emit_link(p, depth, name, &st, l < 0 ? -errno : l);
	}
	if (S_ISREG(st.st_mode)) {
		int rc = emit_entry(p, depth, name, 0, &st, PRE_F_DATA, NULL, 0);
		if (rc == 0)
			rc = stream(p, fd, &st, depth);
		close(fd);
		return rc;
	}
	if (!S_ISDIR(st.st_mode))
		return emit_entry(p, depth, name, 0, &st, 0, NULL, 0);
	/* a directory: listed (with -r, unless it is its own ancestor through
	 * -L: cp refuses that), then its entries, then LEAVE */
	struct names nm = { 0 };
	int lerr = 0, rc;
	int walk_it = p->recursive && !(p->deref && anc_has(p, &st));
	if (walk_it && depth >= PRE_DEPTH_MAX)
		lerr = -ENAMETOOLONG;
	else if (walk_it)
		lerr = names_list_dir(fd, &nm);
	rc = emit_entry(p, depth, name, 0, &st, PRE_F_DIR, NULL, 0);
	if (rc == 0 && walk_it && !lerr) {
		if (p->nanc == p->canc) {
			size_t nc = p->canc ? p->canc * 2 : 16;
			struct anc *na = realloc(p->anc, nc * sizeof *na);
			if (!na)
				lerr = -ENOMEM;
			else {
				p->anc = na;
				p->canc = nc;
			}
		}
		if (!lerr) {
			p->anc[p->nanc++] = (struct anc){ st.st_dev, st.st_ino };
			for (size_t off = 0; rc == 0 && off < nm.len;) {
				unsigned char type = (unsigned char)nm.buf[off];
				const char *n = nm.buf + off + 1;
				off += strlen(n) + 2;
				rc = walk(p, fd, n, type, depth + 1);
			}
			p->nanc--;
		}
	}
	free(nm.buf);
	close(fd);
	if (rc == 0)
		rc = emit(p, PRE_LEAVE, depth, lerr, 0, 0);
	return rc;
}

/* ---------------------------------------------------------------- an image source */

static int seen_add(struct pre *p, uint64_t ino)
{
	if ((p->nseen + 1) * 2 > p->cseen) {
		size_t nc = p->cseen ? p->cseen * 2 : 256;
		uint64_t *ns = calloc(nc, sizeof *ns);
		if (!ns)
			return -ENOMEM;
		for (size_t i = 0; i < p->cseen; i++)
			if (p->seen[i]) {
				size_t j = (size_t)(p->seen[i] * 0x9E3779B97F4A7C15ull >> 17) & (nc - 1);
				while (ns[j])
					j = (j + 1) & (nc - 1);
				ns[j] = p->seen[i];
			}
		free(p->seen);
		p->seen = ns;
		p->cseen = nc;
	}
	size_t j = (size_t)(ino * 0x9E3779B97F4A7C15ull >> 17) & (p->cseen - 1);
	while (p->seen[j] && p->seen[j] != ino)
		j = (j + 1) & (p->cseen - 1);
	if (p->seen[j])
		return 1;              /* met before */
	p->seen[j] = ino;
	p->nseen++;
	return 0;
}

static void img_stat(struct stat *st, const struct lfs_stat *ls)
{
	memset(st, 0, sizeof *st);
	st->st_mode = ls->mode;
	st->st_uid = ls->uid;
	st->st_gid = ls->gid;
	st->st_nlink = ls->nlink;
	st->st_size = (off_t)ls->size;
	st->st_blocks = (blkcnt_t)ls->blocks;
	st->st_ino = ls->ino;
	st->st_atim.tv_sec = (time_t)(ls->atime_ns / 1000000000u);
	st->st_atim.tv_nsec = (long)(ls->atime_ns % 1000000000u);
	st->st_mtim.tv_sec = (time_t)(ls->mtime_ns / 1000000000u);
	st->st_mtim.tv_nsec = (long)(ls->mtime_ns % 1000000000u);
}

/* A name cp will refuse before using it (cp.c's safe_name). */
static int img_safe_name(const char *n)
{
	size_t l = strlen(n);
	return l > 0 && l <= 255 && !strchr(n, '/') && strcmp(n, ".") && strcmp(n, "..");
}

static int img_name_cb(void *arg, const struct lfs_dirent *de)
{
	return names_add(arg, de->type, de->name);
}

/* Walk one entry of the image (p->path; NAME in the open directory dfd,
 * or the top when dfd < 0), as cp's image source side reads it: opened
 * without following a symlink (unless -L), a symlink's target read, a
 * regular file's data (then its frames dropped), a directory listed whole
 * (a directory met twice is a loop cp refuses: not walked again). */
static int walk_img(struct pre *p, int dfd, const char *name, uint32_t depth)
{
	if (atomic_load(&p->stop))
		return -1;
	struct lfs_proc *pr = p->proc;
	struct lfs_stat ls;
	struct stat st;
	int fl = O_RDONLY | (p->deref ? 0 : O_NOFOLLOW);
	int fd = dfd >= 0 ? lfs_openat(pr, dfd, name, fl, 0) : lfs_open(pr, p->path, fl, 0);
	int err = 0;
	if (fd >= 0) {
		if ((err = lfs_fstat(pr, fd, &ls)) < 0) {
			lfs_close(pr, fd);
			fd = -1;
		}
	} else if (fd == -ELOOP && !p->deref) {
		err = lfs_lstat(pr, p->path, &ls);
	} else {
		err = fd;
	}
	if (err < 0)
		return emit_entry(p, depth, name, err, NULL, 0, NULL, 0);
	img_stat(&st, &ls);
	if (S_ISLNK(st.st_mode) || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) || fd < 0) {
		if (fd >= 0)
			lfs_close(pr, fd);
		if (!S_ISLNK(st.st_mode))
			return emit_entry(p, depth, name, 0, &st, 0, NULL, 0);
		return emit_link(p, depth, name, &st, lfs_readlink(pr, p->path, p->link, sizeof p->link - 1));
	}
	if (S_ISREG(st.st_mode)) {
		int rc = emit_entry(p, depth, name, 0, &st, PRE_F_DATA, NULL, 0);
		if (rc == 0)
			rc = stream(p, fd, &st, depth);
		/* not read again: its frames go back to the cache's free list */
		lfs_fadvise(pr, fd, 0, 0, POSIX_FADV_DONTNEED);
		lfs_close(pr, fd);
		return rc;
	}
	struct names nm = { 0 };
	int lerr = 0, rc, again = 0;
	if (p->recursive) {
		again = seen_add(p, ls.ino);
		if (again < 0)
			lerr = again;
		else if (!again) {
			int r = lfs_readdir(pr, p->path, img_name_cb, &nm);
			lerr = r < 0 ? r : 0;
		}
	}
	rc = emit_entry(p, depth, name, 0, &st, PRE_F_DIR, NULL, 0);
	for (size_t off = 0; rc == 0 && p->recursive && !again && !lerr && off < nm.len;) {
		const char *n = nm.buf + off + 1;
		off += strlen(n) + 2;
		size_t l = strlen(n), saved = p->plen;
		int slash = p->plen > 0 && p->path[p->plen - 1] != '/';
		if (!img_safe_name(n) || p->plen + slash + l + 1 > sizeof p->path) {
			/* cp refuses it by its name or length: never opened */
			rc = emit_entry(p, depth + 1, n, img_safe_name(n) ? -ENAMETOOLONG : -EINVAL,
					NULL, 0, NULL, 0);
			continue;
		}
		if (slash)
			p->path[p->plen++] = '/';
		memcpy(p->path + p->plen, n, l + 1);
		p->plen += l;
		rc = walk_img(p, fd, n, depth + 1);
		p->plen = saved;
		p->path[saved] = 0;
	}
	free(nm.buf);
	lfs_close(pr, fd);
	if (rc == 0)
		rc = emit(p, PRE_LEAVE, depth, lerr, 0, 0);
	return rc;
}

static void *reader(void *arg)
{
	struct pre *p = arg;
	if (p->proc)
		walk_img(p, -1, p->name, 0);
	else
		walk(p, p->dfd, p->name, DT_UNKNOWN, 0);
	atomic_store(&p->done, 1);
	publish(p, 1);
	return NULL;
}

/* ---------------------------------------------------------------- consumer */

static struct pre *start(struct pre *p, int dfd, const char *name, int recursive, int deref,
			 size_t chunk);

struct pre *pre_start(int dfd, const char *name, int recursive, int deref, size_t chunk)
{
	struct pre *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	return start(p, dfd, name, recursive, deref, chunk);
}

struct pre *pre_start_img(const char *image, const char *path, int recursive, int deref,
			  size_t chunk)
{
	struct pre *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	/* the reader's own mount: the engine serves one thread per mount.
	 * Read-only, sharing the image with the command's own read mount. */
	struct lfs_mount_opts mo = { .readonly = 1, .cache_bytes = 16u << 20 };
	if (strlen(path) >= sizeof p->path || lfs_mount(image, &mo, &p->mnt, NULL) < 0) {
		free(p);
		return NULL;
	}
	if (!(p->proc = lfs_proc_new(p->mnt))) {
		lfs_umount(p->mnt, NULL);
		free(p);
		return NULL;
	}
	snprintf(p->path, sizeof p->path, "%s", path);
	p->plen = strlen(p->path);
	return start(p, -1, path, recursive, deref, chunk);
}

static void unmount(struct pre *p)
{
	if (p->proc)
		lfs_proc_free(p->proc);
	if (p->mnt)
		lfs_umount(p->mnt, NULL);
}

static struct pre *start(struct pre *p, int dfd, const char *name, int recursive, int deref,
			 size_t chunk)
{
	p->cap = PRE_RING;
	(void)pre_fault_take();    /* none of an earlier reader's left */
	/* the largest record (a chunk of data) must fit a few times over */
	if (chunk > p->cap / 4)
		chunk = p->cap / 4;
	p->chunk = chunk;
	p->ring = malloc(p->cap);
	p->name = strdup(name);
	p->dfd = dfd;
	p->recursive = recursive;
	p->deref = deref;
	if (!p->ring || !p->name || pthread_mutex_init(&p->mu, NULL)) {
		unmount(p);
		free(p->ring);
		free(p->name);
		free(p);
		return NULL;
	}
	pthread_cond_init(&p->cv_cons, NULL);
	pthread_cond_init(&p->cv_prod, NULL);
	if (pthread_create(&p->th, NULL, reader, p)) {
		pthread_cond_destroy(&p->cv_cons);
		pthread_cond_destroy(&p->cv_prod);
		pthread_mutex_destroy(&p->mu);
		unmount(p);
		free(p->ring);
		free(p->name);
		free(p);
		return NULL;
	}
	return p;
}

const struct pre_rec *pre_peek(struct pre *p)
{
	for (;;) {
		if (p->c_pos == p->c_head) {
			p->c_head = atomic_load(&p->head);
			if (p->c_pos == p->c_head) {
				if (atomic_load(&p->done)) {
					p->c_head = atomic_load(&p->head);
					if (p->c_pos == p->c_head)
						return NULL;
					continue;
				}
				/* give the reader all the room there is, then wait */
				atomic_store(&p->tail, p->c_pos);
				if (atomic_load(&p->prod_wait)) {
					pthread_mutex_lock(&p->mu);
					pthread_cond_signal(&p->cv_prod);
					pthread_mutex_unlock(&p->mu);
				}
				pthread_mutex_lock(&p->mu);
				atomic_store(&p->cons_wait, 1);
				p->c_head = atomic_load(&p->head);
				if (p->c_pos == p->c_head && !atomic_load(&p->done))
					pthread_cond_wait(&p->cv_cons, &p->mu);
				atomic_store(&p->cons_wait, 0);
				pthread_mutex_unlock(&p->mu);
				continue;
			}
		}
		struct pre_rec *r = (struct pre_rec *)(p->ring + p->c_pos % p->cap);
		if (r->kind == PRE_WRAP) {
			p->c_pos += r->len;
			continue;
		}
		return r;
	}
}

void pre_pop(struct pre *p)
{
	const struct pre_rec *r = (const struct pre_rec *)(p->ring + p->c_pos % p->cap);
	if (r->kind == PRE_DATA && (r->flags & PRE_F_MAP))
		map_drop(r);
	p->c_pos += r->len;
	uint64_t t = atomic_load_explicit(&p->tail, memory_order_relaxed);
	/* release room in steps of 1/16 of the ring; wake the reader once a
	 * quarter of the ring is free */
	if (p->c_pos - t >= p->cap / 16) {
		atomic_store(&p->tail, p->c_pos);
		if (atomic_load(&p->prod_wait) &&
		    p->cap - (size_t)(atomic_load(&p->head) - p->c_pos) >= p->cap / 4) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->cv_prod);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

void pre_skip_to(struct pre *p, uint32_t depth)
{
	const struct pre_rec *r;
	while ((r = pre_peek(p))) {
		int last = (r->kind == PRE_END || r->kind == PRE_LEAVE) && r->depth == depth;
		pre_pop(p);
		if (last)
			break;
	}
}

void pre_skip_entry(struct pre *p)
{
	const struct pre_rec *r = pre_peek(p);
	if (!r || r->kind != PRE_ENTRY)
		return;
	uint32_t depth = r->depth;
	int more = !r->err && (r->flags & (PRE_F_DATA | PRE_F_DIR));
	pre_pop(p);
	if (more)
		pre_skip_to(p, depth);
}

void pre_stop(struct pre *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, 1);
	pthread_mutex_lock(&p->mu);
	pthread_cond_signal(&p->cv_prod);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	/* the mappings of records not taken */
	for (uint64_t pos = p->c_pos; pos < p->p_pos;) {
		const struct pre_rec *r = (const struct pre_rec *)(p->ring + pos % p->cap);
		if (r->kind == PRE_DATA && (r->flags & PRE_F_MAP))
			map_drop(r);
		pos += r->len;
	}
	unmount(p);
	free(p->seen);
	free(p->anc);
	pthread_cond_destroy(&p->cv_cons);
	pthread_cond_destroy(&p->cv_prod);
	pthread_mutex_destroy(&p->mu);
	free(p->ring);
	free(p->name);
	free(p);
}
