/*
 * tests/reliability/powerloss.c — LD_PRELOAD power-loss simulator.
 *
 * Built as build/rel/tests/libpowerloss.so (mk/check.mk).  Preloaded into a
 * lightfs process, it watches every file whose absolute path starts with
 * $LFS_PL_MATCH (the image, and the temporary files compaction writes next
 * to it) and keeps an undo log of every write / pwrite / writev / pwritev /
 * ftruncate on them since the file's last fsync / fdatasync.  The first
 * $LFS_PL_CRASH_AT - 1 mutating operations (writes, truncates, syncs,
 * renames) run normally; at operation number $LFS_PL_CRASH_AT the power
 * "fails":
 *
 *   LFS_PL_MODE=drop    every write not followed by fsync is undone (the
 *                       disk holds exactly what was synced);
 *   LFS_PL_MODE=tear    the unsynced writes before the failing one reach
 *                       the disk in order, the failing write is torn at a
 *                       random 512-byte boundary (in-order writeback);
 *   LFS_PL_MODE=sectors each 512-byte sector of each unsynced write
 *                       independently reaches the disk or not (a disk with
 *                       a volatile, reordering write cache).
 *
 * The process then kills itself with SIGKILL, so the file left behind is
 * what a machine would find after the power came back.  A rename is treated
 * as durable when it returns (journaled metadata), but the renamed file's
 * unsynced data is still undone.  LFS_PL_SEED seeds the choices,
 * LFS_PL_COUNT_FILE (when set) receives the number of mutating operations
 * seen at a normal exit, so a driver can pick crash points in range.
 * LFS_PL_LOG names a file that receives one line describing the crash.
 *
 * Limits (said, not hidden): writes through a writable shared mmap of a
 * watched file cannot be intercepted; such an mmap makes the library abort
 * the process with a message, so a test never passes by accident.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAXFD 4096
#define SECTOR 512

struct undo {                  /* one mutating op on a file, undoable */
	struct undo *next;     /* older op */
	int      is_trunc;
	off_t    off;          /* write offset */
	size_t   len;          /* bytes written */
	off_t    old_size;     /* file size before the op */
	unsigned char *old;    /* previous bytes in [off, off+len) ∩ old size */
	size_t   old_len;
};

struct wfile {                 /* a watched path */
	struct wfile *next;
	char    *path;
	struct undo *log;      /* newest first */
	int      refs;         /* open fds */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct wfile *files;
static struct wfile *fdmap[MAXFD];
static char *match;
static size_t matchlen;
static long crash_at;
static long nops;
static int mode;               /* 0 drop, 1 tear, 2 sectors */
static uint64_t rng = 88172645463325252ull;
static int inited;

static uint64_t rnd(void)
{
	rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
	return rng;
}

/* Raw syscalls: never recurse into our own wrappers. */
static ssize_t r_pread(int fd, void *b, size_t n, off_t off) { return syscall(SYS_pread64, fd, b, n, off); }
static ssize_t r_pwrite(int fd, const void *b, size_t n, off_t off) { return syscall(SYS_pwrite64, fd, b, n, off); }
static int r_open(const char *p, int fl, mode_t m) { return (int)syscall(SYS_openat, AT_FDCWD, p, fl, m); }
static int r_close(int fd) { return (int)syscall(SYS_close, fd); }
static int r_ftruncate(int fd, off_t l) { return (int)syscall(SYS_ftruncate, fd, l); }

static void die(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > 0 && write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1) < 0) { /* nothing */ }
	abort();
}

static void init(void)
{
	if (inited)
		return;
	inited = 1;
	const char *m = getenv("LFS_PL_MATCH");
	if (m && *m) {
		match = strdup(m);
		matchlen = strlen(match);
	}
	const char *c = getenv("LFS_PL_CRASH_AT");
	crash_at = c ? atol(c) : 0;
	const char *md = getenv("LFS_PL_MODE");
	mode = !md ? 0 : !strcmp(md, "tear") ? 1 : !strcmp(md, "sectors") ? 2 : 0;
	const char *s = getenv("LFS_PL_SEED");
	if (s)
		rng ^= strtoull(s, NULL, 0) * 0x9E3779B97F4A7C15ull;
	if (!rng)
		rng = 1;
	for (int i = 0; i < 8; i++)
		rnd();
}

static char *abspath(int dirfd, const char *p)
{
	char buf[PATH_MAX * 2];
	if (!p)
		return NULL;
	if (p[0] == '/')
		return strdup(p);
	if (dirfd == AT_FDCWD) {
		if (!getcwd(buf, PATH_MAX))
			return NULL;
	} else {
		char lnk[64];
		snprintf(lnk, sizeof lnk, "/proc/self/fd/%d", dirfd);
		ssize_t n = readlink(lnk, buf, PATH_MAX - 1);
		if (n < 0)
			return NULL;
		buf[n] = 0;
	}
	size_t l = strlen(buf);
	snprintf(buf + l, sizeof buf - l, "/%s", p);
	return strdup(buf);
}

static int watched(const char *abs)
{
	return match && abs && !strncmp(abs, match, matchlen);
}

static struct wfile *find_file(const char *abs, int create)
{
	for (struct wfile *f = files; f; f = f->next)
		if (!strcmp(f->path, abs))
			return f;
	if (!create)
		return NULL;
	struct wfile *f = calloc(1, sizeof *f);
	if (!f)
		die("powerloss: out of memory\n");
	f->path = strdup(abs);
	f->next = files;
	files = f;
	return f;
}

static void free_log(struct undo *u)
{
	while (u) {
		struct undo *n = u->next;
		free(u->old);
		free(u);
		u = n;
	}
}

static off_t fsize(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	return st.st_size;
}

/* Record the undo of writing len bytes at off of fd (before the write). */
static void log_write(struct wfile *f, int fd, off_t off, size_t len)
{
	struct undo *u = calloc(1, sizeof *u);
	if (!u)
		die("powerloss: out of memory\n");
	u->off = off;
	u->len = len;
	u->old_size = fsize(fd);
	if (off < u->old_size) {
		size_t have = (size_t)(u->old_size - off);
		u->old_len = have < len ? have : len;
		u->old = malloc(u->old_len ? u->old_len : 1);
		if (!u->old)
			die("powerloss: out of memory\n");
		ssize_t r = r_pread(fd, u->old, u->old_len, off);
		if (r != (ssize_t)u->old_len)
			die("powerloss: cannot read old bytes of %s\n", f->path);
	}
	u->next = f->log;
	f->log = u;
}

static void log_trunc(struct wfile *f, int fd, off_t len)
{
	struct undo *u = calloc(1, sizeof *u);
	if (!u)
		die("powerloss: out of memory\n");
	u->is_trunc = 1;
	u->old_size = fsize(fd);
	if (len < u->old_size) {   /* shrinking: keep the cut bytes */
		u->off = len;
		u->old_len = (size_t)(u->old_size - len);
		u->old = malloc(u->old_len);
		if (!u->old)
			die("powerloss: out of memory\n");
		if (r_pread(fd, u->old, u->old_len, len) != (ssize_t)u->old_len)
			die("powerloss: cannot read old bytes of %s\n", f->path);
	}
	u->next = f->log;
	f->log = u;
}

/* Undo op u on fd; keep_sector(i) says whether sector i of a write survives. */
static void undo_one(int fd, struct undo *u, int partial)
{
	if (u->is_trunc) {
		if (partial && (rnd() & 1))
			return;        /* the truncate reached the disk */
		r_ftruncate(fd, u->old_size);
		if (u->old_len)
			r_pwrite(fd, u->old, u->old_len, u->off);
		return;
	}
	if (!partial) {
		if (u->old_len)
			r_pwrite(fd, u->old, u->old_len, u->off);
		r_ftruncate(fd, u->old_size);
		return;
	}
	/* Sector-wise: each sector of the write independently kept or undone.
	 * Sectors beyond the old size that are undone become zeros (a hole),
	 * and the size may stay extended: what a disk shows after losing them. */
	off_t first = u->off / SECTOR, last = (off_t)(u->off + (off_t)u->len - 1) / SECTOR;
	int undone_tail = 0;
	for (off_t s = first; s <= last; s++) {
		if (rnd() & 1) {
			undone_tail = 0;
			continue;      /* this sector reached the disk */
		}
		off_t lo = s * SECTOR > u->off ? s * SECTOR : u->off;
		off_t hi = (s + 1) * SECTOR < u->off + (off_t)u->len ? (s + 1) * SECTOR : u->off + (off_t)u->len;
		unsigned char z[SECTOR];
		memset(z, 0, sizeof z);
		for (off_t p = lo; p < hi; p++) {
			off_t i = p - u->off;
			unsigned char b = (size_t)i < u->old_len ? u->old[i] : 0;
			r_pwrite(fd, &b, 1, p);
		}
		undone_tail = 1;
	}
	if (undone_tail && (rnd() & 1))
		r_ftruncate(fd, u->old_size > (off_t)u->off ? u->old_size : u->off);
}

static void crash(const char *why, int fd_torn, const void *buf, size_t n, off_t off)
{
	/* Power fails: decide what of each watched file's unsynced tail survives. */
	char line[PATH_MAX + 256];
	const char *logp = getenv("LFS_PL_LOG");
	int lfd = logp ? r_open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
	for (struct wfile *f = files; f; f = f->next) {
		int fd = r_open(f->path, O_RDWR, 0);
		int nundo = 0;
		for (struct undo *u = f->log; u; u = u->next)
			nundo++;
		if (fd < 0) {
			free_log(f->log);
			f->log = NULL;
			continue;
		}
		if (mode == 1) {
			/* in order: everything before the failing op reached the disk */
		} else {
			for (struct undo *u = f->log; u; u = u->next)
				undo_one(fd, u, mode == 2);
		}
		if (lfd >= 0) {
			int l = snprintf(line, sizeof line, "powerloss: op %ld (%s) mode %d: %s: %d unsynced ops %s\n",
					 nops, why, mode, f->path, nundo, mode == 1 ? "kept" : "undone/sector-kept");
			if (syscall(SYS_write, lfd, line, (size_t)l) < 0) { /* best effort */ }
		}
		r_close(fd);
	}
	if (mode == 1 && fd_torn >= 0 && buf && n > SECTOR) {
		size_t keep = (size_t)(rnd() % (n / SECTOR)) * SECTOR;
		if (keep)
			r_pwrite(fd_torn, buf, keep, off);
		if (lfd >= 0) {
			int l = snprintf(line, sizeof line, "powerloss: torn write of %zu bytes at %lld: kept %zu\n",
					 n, (long long)off, keep);
			if (syscall(SYS_write, lfd, line, (size_t)l) < 0) { /* best effort */ }
		}
	}
	if (lfd >= 0)
		r_close(lfd);
	kill(getpid(), SIGKILL);
	_exit(137);
}

/* Count one mutating op; crash before performing it when it is the chosen one. */
static void tick(const char *why, int fd, const void *buf, size_t n, off_t off)
{
	nops++;
	if (crash_at > 0 && nops >= crash_at)
		crash(why, fd, buf, n, off);
}

static struct wfile *wf(int fd)
{
	return fd >= 0 && fd < MAXFD ? fdmap[fd] : NULL;
}

static void track_open(int fd, int dirfd, const char *path, int flags)
{
	if (fd < 0 || fd >= MAXFD)
		return;
	pthread_mutex_lock(&mu);
	init();
	if (match) {
		char *abs = abspath(dirfd, path);
		if (watched(abs)) {
			struct wfile *f = find_file(abs, 1);
			f->refs++;
			fdmap[fd] = f;
		} else {
			fdmap[fd] = NULL;
		}
		free(abs);
	}
	pthread_mutex_unlock(&mu);
	(void)flags;
}

/* O_TRUNC of an existing watched file: undoable like a truncate to 0. */
static void pre_open_trunc(int dirfd, const char *path, int flags)
{
	if (!(flags & O_TRUNC))
		return;
	pthread_mutex_lock(&mu);
	init();
	char *abs = abspath(dirfd, path);
	if (watched(abs)) {
		int fd = r_open(abs, O_RDONLY, 0);
		if (fd >= 0) {
			struct wfile *f = find_file(abs, 1);
			tick("open O_TRUNC", -1, NULL, 0, 0);
			log_trunc(f, fd, 0);
			r_close(fd);
		}
	}
	free(abs);
	pthread_mutex_unlock(&mu);
}

static int do_openat(int dirfd, const char *path, int flags, mode_t m)
{
	pre_open_trunc(dirfd, path, flags);
	int fd = (int)syscall(SYS_openat, dirfd, path, flags, m);
	if (fd >= 0)
		track_open(fd, dirfd, path, flags);
	return fd;
}

int open(const char *path, int flags, ...)
{
	mode_t m = 0;
	if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); m = va_arg(ap, mode_t); va_end(ap); }
	return do_openat(AT_FDCWD, path, flags, m);
}
int open64(const char *path, int flags, ...)
{
	mode_t m = 0;
	if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); m = va_arg(ap, mode_t); va_end(ap); }
	return do_openat(AT_FDCWD, path, flags, m);
}
int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t m = 0;
	if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); m = va_arg(ap, mode_t); va_end(ap); }
	return do_openat(dirfd, path, flags, m);
}
int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t m = 0;
	if (flags & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); m = va_arg(ap, mode_t); va_end(ap); }
	return do_openat(dirfd, path, flags, m);
}
int __open_2(const char *path, int flags) { return do_openat(AT_FDCWD, path, flags, 0); }
int __open64_2(const char *path, int flags) { return do_openat(AT_FDCWD, path, flags, 0); }
int __openat_2(int d, const char *path, int flags) { return do_openat(d, path, flags, 0); }
int __openat64_2(int d, const char *path, int flags) { return do_openat(d, path, flags, 0); }
int creat(const char *path, mode_t m) { return do_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, m); }
int creat64(const char *path, mode_t m) { return do_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, m); }

int close(int fd)
{
	pthread_mutex_lock(&mu);
	struct wfile *f = wf(fd);
	if (f) {
		f->refs--;
		fdmap[fd] = NULL;
	}
	pthread_mutex_unlock(&mu);
	return (int)syscall(SYS_close, fd);
}

int dup(int fd)
{
	int r = (int)syscall(SYS_dup, fd);
	pthread_mutex_lock(&mu);
	if (r >= 0 && r < MAXFD && wf(fd)) { fdmap[r] = wf(fd); fdmap[r]->refs++; }
	pthread_mutex_unlock(&mu);
	return r;
}

static ssize_t do_pwrite(int fd, const void *buf, size_t n, off_t off, int use_pos)
{
	pthread_mutex_lock(&mu);
	struct wfile *f = wf(fd);
	if (f) {
		if (use_pos) {
			int fl = fcntl(fd, F_GETFL);
			off = (fl >= 0 && (fl & O_APPEND)) ? fsize(fd) : lseek(fd, 0, SEEK_CUR);
		}
		tick("write", fd, buf, n, off);
		log_write(f, fd, off, n);
	}
	pthread_mutex_unlock(&mu);
	/* the write itself runs unlocked: another thread may read meanwhile */
	if (use_pos)
		return syscall(SYS_write, fd, buf, n);
	return r_pwrite(fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n) { return do_pwrite(fd, buf, n, 0, 1); }
ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) { return do_pwrite(fd, buf, n, off, 0); }
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) { return do_pwrite(fd, buf, n, off, 0); }

static ssize_t do_pwritev(int fd, const struct iovec *iov, int cnt, off_t off, int use_pos)
{
	pthread_mutex_lock(&mu);
	struct wfile *f = wf(fd);
	pthread_mutex_unlock(&mu);
	if (!f) {
		if (use_pos)
			return syscall(SYS_writev, fd, iov, cnt);
		return syscall(SYS_pwritev, fd, iov, cnt, (long)off, (long)0);
	}
	/* Watched: gather into one buffer so the op is logged and torn as one. */
	size_t tot = 0;
	for (int i = 0; i < cnt; i++)
		tot += iov[i].iov_len;
	unsigned char *b = malloc(tot ? tot : 1);
	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	size_t o = 0;
	for (int i = 0; i < cnt; i++) {
		memcpy(b + o, iov[i].iov_base, iov[i].iov_len);
		o += iov[i].iov_len;
	}
	ssize_t r = do_pwrite(fd, b, tot, off, use_pos);
	free(b);
	return r;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) { return do_pwritev(fd, iov, cnt, 0, 1); }
ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) { return do_pwritev(fd, iov, cnt, off, 0); }
ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off) { return do_pwritev(fd, iov, cnt, off, 0); }
ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int fl)
{
	(void)fl;
	return do_pwritev(fd, iov, cnt, off, off == -1);
}
ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int fl)
{
	(void)fl;
	return do_pwritev(fd, iov, cnt, off, off == -1);
}

static int do_sync(int fd, int nr)
{
	pthread_mutex_lock(&mu);
	struct wfile *f = wf(fd);
	if (f)
		tick("fsync", -1, NULL, 0, 0);
	pthread_mutex_unlock(&mu);
	int r = (int)syscall(nr, fd);
	if (r == 0 && f) {
		pthread_mutex_lock(&mu);
		/* Only what was logged before the sync started is durable; ops
		 * logged concurrently stay.  Simplification: the whole log is
		 * cleared (the engine serialises its I/O on one thread). */
		free_log(f->log);
		f->log = NULL;
		pthread_mutex_unlock(&mu);
	}
	return r;
}

int fsync(int fd) { return do_sync(fd, SYS_fsync); }
int fdatasync(int fd) { return do_sync(fd, SYS_fdatasync); }

int sync_file_range(int fd, off64_t off, off64_t n, unsigned int fl)
{
	/* Not a durability point (no metadata, no cache flush): only counted. */
	return (int)syscall(SYS_sync_file_range, fd, off, n, fl);
}

static int do_ftruncate(int fd, off_t len)
{
	pthread_mutex_lock(&mu);
	struct wfile *f = wf(fd);
	if (f) {
		tick("ftruncate", -1, NULL, 0, 0);
		log_trunc(f, fd, len);
	}
	pthread_mutex_unlock(&mu);
	return r_ftruncate(fd, len);
}
int ftruncate(int fd, off_t len) { return do_ftruncate(fd, len); }
int ftruncate64(int fd, off_t len) { return do_ftruncate(fd, len); }

static int do_rename(int od, const char *from, int nd, const char *to, unsigned fl)
{
	pthread_mutex_lock(&mu);
	init();
	char *a = abspath(od, from), *b = abspath(nd, to);
	int w = watched(a) || watched(b);
	if (w)
		tick("rename", -1, NULL, 0, 0);
	pthread_mutex_unlock(&mu);
	int r = (int)syscall(SYS_renameat2, od, from, nd, to, fl);
	if (r == 0 && w) {
		pthread_mutex_lock(&mu);
		struct wfile *fb = find_file(b, 0), *fa = find_file(a, 0);
		if (fb && fb != fa) {      /* the old target is gone: its log too */
			free_log(fb->log);
			fb->log = NULL;
			free(fb->path);
			fb->path = strdup("/nonexistent/replaced-by-rename");
		}
		if (fa) {
			free(fa->path);
			fa->path = strdup(b);
		}
		pthread_mutex_unlock(&mu);
	}
	free(a);
	free(b);
	return r;
}
int rename(const char *a, const char *b) { return do_rename(AT_FDCWD, a, AT_FDCWD, b, 0); }
int renameat(int od, const char *a, int nd, const char *b) { return do_rename(od, a, nd, b, 0); }
int renameat2(int od, const char *a, int nd, const char *b, unsigned fl) { return do_rename(od, a, nd, b, fl); }

int unlink(const char *p)
{
	pthread_mutex_lock(&mu);
	init();
	char *a = abspath(AT_FDCWD, p);
	struct wfile *f = watched(a) ? find_file(a, 0) : NULL;
	if (f) {
		free_log(f->log);
		f->log = NULL;
		free(f->path);
		f->path = strdup("/nonexistent/unlinked");
	}
	free(a);
	pthread_mutex_unlock(&mu);
	return (int)syscall(SYS_unlinkat, AT_FDCWD, p, 0);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	pthread_mutex_lock(&mu);
	struct wfile *f = wf(fd);
	pthread_mutex_unlock(&mu);
	if (f && (prot & PROT_WRITE) && (flags & MAP_SHARED))
		die("powerloss: writable shared mmap of %s cannot be simulated\n", f->path);
	static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
	if (!real_mmap)
		*(void **)&real_mmap = dlsym(RTLD_NEXT, "mmap");
	return real_mmap(addr, len, prot, flags, fd, off);
}
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

__attribute__((destructor)) static void pl_fini(void)
{
	const char *cf = getenv("LFS_PL_COUNT_FILE");
	if (!cf)
		return;
	int fd = r_open(cf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return;
	char b[32];
	int n = snprintf(b, sizeof b, "%ld\n", nops);
	if (syscall(SYS_write, fd, b, (size_t)n) < 0) { /* best effort */ }
	r_close(fd);
}
