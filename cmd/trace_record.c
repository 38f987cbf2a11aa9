/*
 * cmd/trace_record.c — `lightfs trace record`: load bpf/lftrace.bpf.c, follow
 * a command (started stopped until the program is attached) or a running
 * process tree (-p), and write the events to a trace file.
 *
 * libbpf-tools shape: open → set rodata → load → attach → poll → cleanup.
 * The ring buffer is drained with BPF_RB_NO_WAKEUP records and a short
 * poll timeout (the BPF side forces a wakeup past 1 MiB of backlog), so a
 * syscall-heavy target does not pay for a wakeup per event; compression
 * runs in the writer's second thread.
 */
#include "cli.h"
#include "trace/trace.h"
#include "common/grow.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../bpf/lftrace.h"
#include "trace_btf.h"
#include "lftrace.skel.h"
#include "lftrace.btf.h"
#include "lftrace.ids.h"

/* default ring: 1 MiB already loses nothing on dd or tar xf here; a
 * bigger ring costs start-up (allocated, zeroed and mapped twice) */
#define DEFAULT_RING (8u << 20)
#define DEFAULT_RING_DATA (32u << 20)   /* --data: 4 KiB payload chunks */

static volatile sig_atomic_t rec_stop;

static void on_signal(int sig)
{
	(void)sig;
	rec_stop = 1;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ syscall table */

struct sysdef {
	long nr;
	uint16_t sys;
	uint8_t p1, p2;
	uint32_t cls;
	uint8_t s1, s2;       /* LFT_C_SMALL: the arguments besides a[0] */
};

#define N 0xff
static const struct sysdef sysdefs[] = {
#ifdef SYS_open
	{ SYS_open, LFS_TR_OPEN, 0, N, LFT_C_OPEN, N, N },
#endif
	{ SYS_openat, LFS_TR_OPENAT, 1, N, LFT_C_OPEN, N, N },
#ifdef SYS_openat2
	{ SYS_openat2, LFS_TR_OPENAT2, 1, N, LFT_C_OPEN | LFT_C_HOW, N, N },
#endif
#ifdef SYS_creat
	{ SYS_creat, LFS_TR_CREAT, 0, N, LFT_C_OPEN, N, N },
#endif
	{ SYS_close, LFS_TR_CLOSE, N, N, LFT_C_SMALL, N, N },
#ifdef SYS_close_range
	{ SYS_close_range, LFS_TR_CLOSE_RANGE, N, N, LFT_C_SMALL, 1, 2 },
#endif
	{ SYS_read, LFS_TR_READ, N, N, LFT_C_SMALL, 2, N },
	{ SYS_write, LFS_TR_WRITE, N, N, LFT_C_DATA | LFT_C_SMALL, 2, N },
	{ SYS_pread64, LFS_TR_PREAD64, N, N, LFT_C_SMALL, 2, 3 },
	{ SYS_pwrite64, LFS_TR_PWRITE64, N, N, LFT_C_DATA | LFT_C_SMALL, 2, 3 },
	{ SYS_readv, LFS_TR_READV, N, N, LFT_C_IOV, N, N },
	{ SYS_writev, LFS_TR_WRITEV, N, N, LFT_C_IOV | LFT_C_DATA, N, N },
	{ SYS_preadv, LFS_TR_PREADV, N, N, LFT_C_IOV, N, N },
	{ SYS_pwritev, LFS_TR_PWRITEV, N, N, LFT_C_IOV | LFT_C_DATA, N, N },
	{ SYS_preadv2, LFS_TR_PREADV2, N, N, LFT_C_IOV, N, N },
	{ SYS_pwritev2, LFS_TR_PWRITEV2, N, N, LFT_C_IOV | LFT_C_DATA, N, N },
	{ SYS_lseek, LFS_TR_LSEEK, N, N, LFT_C_SMALL, 1, 2 },
	{ SYS_fsync, LFS_TR_FSYNC, N, N, LFT_C_SMALL, N, N },
	{ SYS_fdatasync, LFS_TR_FDATASYNC, N, N, LFT_C_SMALL, N, N },
	{ SYS_sync_file_range, LFS_TR_SYNC_FILE_RANGE, N, N, 0, N, N },
	{ SYS_sync, LFS_TR_SYNC, N, N, LFT_C_SMALL, N, N },
	{ SYS_syncfs, LFS_TR_SYNCFS, N, N, LFT_C_SMALL, N, N },
	{ SYS_ftruncate, LFS_TR_FTRUNCATE, N, N, LFT_C_SMALL, 1, N },
	{ SYS_truncate, LFS_TR_TRUNCATE, 0, N, 0, N, N },
	{ SYS_fallocate, LFS_TR_FALLOCATE, N, N, 0, N, N },
#ifdef SYS_unlink
	{ SYS_unlink, LFS_TR_UNLINK, 0, N, 0, N, N },
#endif
	{ SYS_unlinkat, LFS_TR_UNLINKAT, 1, N, 0, N, N },
#ifdef SYS_rename
	{ SYS_rename, LFS_TR_RENAME, 0, 1, 0, N, N },
#endif
	{ SYS_renameat, LFS_TR_RENAMEAT, 1, 3, 0, N, N },
	{ SYS_renameat2, LFS_TR_RENAMEAT2, 1, 3, 0, N, N },
#ifdef SYS_mkdir
	{ SYS_mkdir, LFS_TR_MKDIR, 0, N, 0, N, N },
#endif
	{ SYS_mkdirat, LFS_TR_MKDIRAT, 1, N, 0, N, N },
#ifdef SYS_rmdir
	{ SYS_rmdir, LFS_TR_RMDIR, 0, N, 0, N, N },
#endif
#ifdef SYS_link
	{ SYS_link, LFS_TR_LINK, 0, 1, 0, N, N },
#endif
	{ SYS_linkat, LFS_TR_LINKAT, 1, 3, 0, N, N },
#ifdef SYS_symlink
	{ SYS_symlink, LFS_TR_SYMLINK, 0, 1, 0, N, N },
#endif
	{ SYS_symlinkat, LFS_TR_SYMLINKAT, 0, 2, 0, N, N },
	{ SYS_dup, LFS_TR_DUP, N, N, LFT_C_SMALL, N, N },
#ifdef SYS_dup2
	{ SYS_dup2, LFS_TR_DUP2, N, N, LFT_C_SMALL, 1, N },
#endif
	{ SYS_dup3, LFS_TR_DUP3, N, N, LFT_C_SMALL, 1, 2 },
	{ SYS_fcntl, LFS_TR_FCNTL, N, N, LFT_C_SMALL, 1, 2 },
	{ SYS_chdir, LFS_TR_CHDIR, 0, N, 0, N, N },
	{ SYS_fchdir, LFS_TR_FCHDIR, N, N, LFT_C_SMALL, N, N },
	{ SYS_sendfile, LFS_TR_SENDFILE, N, N, LFT_C_OFFP1, N, N },
	{ SYS_copy_file_range, LFS_TR_COPY_FILE_RANGE, N, N, LFT_C_OFFP2, N, N },
	{ SYS_splice, LFS_TR_SPLICE, N, N, LFT_C_OFFP2, N, N },
	{ SYS_mmap, LFS_TR_MMAP, N, N, LFT_C_MMAP, N, N },
	{ SYS_munmap, LFS_TR_MUNMAP, N, N, 0, N, N },
#ifdef SYS_fork
	{ SYS_fork, LFS_TR_FORK, N, N, LFT_C_CHILD0, N, N },
#endif
#ifdef SYS_vfork
	{ SYS_vfork, LFS_TR_VFORK, N, N, LFT_C_CHILD0, N, N },
#endif
	{ SYS_clone, LFS_TR_CLONE, N, N, LFT_C_CHILD0, N, N },
#ifdef SYS_clone3
	{ SYS_clone3, LFS_TR_CLONE3, N, N, LFT_C_CHILD0 | LFT_C_CLONE3, N, N },
#endif
	{ SYS_execve, LFS_TR_EXECVE, 0, N, LFT_C_EXEC, N, N },
	{ SYS_execveat, LFS_TR_EXECVEAT, 1, N, LFT_C_EXEC, N, N },
	{ SYS_exit, LFS_TR_EXIT, N, N, 0, N, N },
	{ SYS_exit_group, LFS_TR_EXIT_GROUP, N, N, 0, N, N },
};
#undef N

/* ------------------------------------------------------------ recorder state */

struct pend {                 /* --data payload being assembled for a tid */
	uint32_t tid;
	uint8_t *buf;
	size_t len, cap;
};

struct held {                 /* a record waiting for the ones before it */
	uint64_t seq;
	void *rec;                /* copy of the ring record */
	size_t size;
	uint8_t *data;            /* its --data payload (writes), owned */
	size_t dlen;
};

struct fmap {                 /* a recorded file mapping (for munmap filtering) */
	int32_t pid;
	uint64_t addr, len;
};

struct rec {
	struct lfs_trace_writer *w;
	struct lfs_trace_paths *paths;
	uint64_t mono0;
	uint32_t data_max;
	struct pend pend[64];
	struct fmap *maps;
	size_t nmaps, capmaps;
	struct { int32_t pid; char path[LFT_PATH_MAX]; } exec[64]; /* last exec per pid */
	unsigned exec_next;
	int32_t root_pid;
	int root_exited;
	char p1[LFT_PATH_MAX], p2[LFT_PATH_MAX];
	uint8_t small_arg[128][2]; /* per enum lfs_tr_sys: lft_small's x / y argument */
	struct lft_event wide;   /* an lft_small widened: zero but for what it sets */
	struct lfs_trace_event fast; /* small_fast's event (eflags NODUR) */
	/* seq order: records arrive in ring order, which per-CPU batching
	 * breaks across CPUs; they are written in seq order (see arrive) */
	uint64_t next_seq;       /* kernel seq of the next event to write */
	struct held *held;       /* min-heap on seq of records that came early */
	size_t nheld, capheld;
	uint64_t nheld_total;    /* records that waited in it (LFS_TRACE_DEBUG) */
	const uint8_t *cur_data; /* --data payload of the record being written */
	size_t cur_dlen;
	int go_fd;               /* the held child's pipe: its read() is ours */
	int seen_root;           /* an event of the root came already */
	int err;
	struct lfs_err lerr;
};

static struct pend *pend_for(struct rec *r, uint32_t tid, int create)
{
	struct pend *free_slot = NULL;
	for (int i = 0; i < 64; i++) {
		if (r->pend[i].tid == tid && (r->pend[i].len || create))
			return &r->pend[i];
		if (!r->pend[i].len && !free_slot)
			free_slot = &r->pend[i];
	}
	if (!create)
		return NULL;
	if (!free_slot)
		free_slot = &r->pend[tid % 64];   /* overwrite: payload dropped */
	free_slot->tid = tid;
	free_slot->len = 0;
	return free_slot;
}

static void fmap_add(struct rec *r, int32_t pid, uint64_t addr, uint64_t len)
{
	if (lfs_grow(&r->maps, &r->capmaps, r->nmaps + 1, sizeof *r->maps, 64) < 0)
		return;
	r->maps[r->nmaps++] = (struct fmap){ pid, addr, len };
}

/* Does munmap(addr, len) of pid touch a file mapping?  Drops covered ones. */
static int fmap_unmap(struct rec *r, int32_t pid, uint64_t addr, uint64_t len)
{
	int hit = 0;
	for (size_t i = 0; i < r->nmaps; i++) {
		struct fmap *m = &r->maps[i];
		if (m->pid != pid || addr >= m->addr + m->len || addr + len <= m->addr)
			continue;
		hit = 1;
		if (addr <= m->addr && addr + len >= m->addr + m->len)
			r->maps[i--] = r->maps[--r->nmaps];
	}
	return hit;
}

static const char *exec_path(struct rec *r, int32_t pid)
{
	for (int i = 0; i < 64; i++)
		if (r->exec[i].pid == pid)
			return r->exec[i].path;
	return NULL;
}

static void put_event(struct rec *r, struct lfs_trace_event *ev)
{
	if (r->err)
		return;
	lfs_trace_paths_apply(r->paths, ev);
	r->err = lfs_trace_write(r->w, ev, &r->lerr);
}

static int64_t adv_off(uint64_t ptr, uint64_t val, int64_t ret)
{
	if (!ptr)
		return -1;
	return (int64_t)val - (ret > 0 ? ret : 0);
}

/* The fields every kernel record carries, into ev: its sequence number
 * (the trace's count from 1) and its time since the capture's start. */
static void ev_head(const struct rec *r, struct lfs_trace_event *ev, const struct lft_hdr *h,
		    uint32_t pid, uint64_t seq, uint64_t ts, int64_t ret)
{
	ev->seq = seq + 1;
	ev->ts_ns = ts > r->mono0 ? ts - r->mono0 : 0;
	ev->pid = (int32_t)pid;
	ev->tid = (int32_t)h->tid;
	ev->sys = h->sys;
	ev->ret = ret;
}

/* Decode one kernel syscall record into a trace event. */
static int decode_sys(struct rec *r, const struct lft_event *e, const char *p1, const char *p2,
		      struct lfs_trace_event *ev)
{
	const __u64 *a = e->a;
	lfs_trace_event_init(ev);
	ev_head(r, ev, &e->h, e->pid, e->seq, e->ts, e->ret);
	ev->eflags = LFS_TREV_NODUR;
	if (p1 && (e->eflags & LFT_F_BAD1))
		p1 = NULL, ev->eflags |= LFS_TREV_BADPATH;
	if (p2 && (e->eflags & LFT_F_BAD2))
		p2 = NULL, ev->eflags |= LFS_TREV_BADPATH;
	if (e->eflags & (LFT_F_TRUNC1 | LFT_F_TRUNC2))
		ev->eflags |= LFS_TREV_PATHTRUNC;
	if (e->eflags & LFT_F_STAT) {
		ev->eflags |= LFS_TREV_STAT;
		ev->size = e->size;
		ev->ino = e->ino;
		ev->dev = e->dev;
		ev->ftype = e->imode;
	}
	int fd0 = (int32_t)a[0];
	switch (ev->sys) {
	case LFS_TR_OPEN: ev->dirfd = LFS_TR_AT_FDCWD; ev->path = p1; ev->flags = (uint32_t)a[1]; ev->mode = (uint32_t)a[2]; break;
	case LFS_TR_OPENAT: ev->dirfd = fd0; ev->path = p1; ev->flags = (uint32_t)a[2]; ev->mode = (uint32_t)a[3]; break;
	case LFS_TR_OPENAT2: ev->dirfd = fd0; ev->path = p1; ev->flags = e->x[0]; ev->mode = (uint32_t)e->x[1]; ev->arg = e->x[2]; break;
	case LFS_TR_CREAT: ev->dirfd = LFS_TR_AT_FDCWD; ev->path = p1; ev->mode = (uint32_t)a[1];
		ev->flags = O_CREAT | O_WRONLY | O_TRUNC; break;
	case LFS_TR_CLOSE: ev->fd = fd0; break;
	case LFS_TR_CLOSE_RANGE: ev->fd = fd0; ev->fd2 = (int32_t)a[1]; ev->flags = a[2]; break;
	case LFS_TR_READ: case LFS_TR_WRITE: ev->fd = fd0; ev->count = a[2]; break;
	case LFS_TR_PREAD64: case LFS_TR_PWRITE64: ev->fd = fd0; ev->count = a[2]; ev->offset = (int64_t)a[3]; break;
	case LFS_TR_READV: case LFS_TR_WRITEV: ev->fd = fd0; ev->count = e->x[0]; ev->arg = a[2]; break;
	case LFS_TR_PREADV: case LFS_TR_PWRITEV: ev->fd = fd0; ev->count = e->x[0]; ev->arg = a[2]; ev->offset = (int64_t)a[3]; break;
	case LFS_TR_PREADV2: case LFS_TR_PWRITEV2: ev->fd = fd0; ev->count = e->x[0]; ev->arg = a[2];
		ev->offset = (int64_t)a[3]; ev->flags = a[5]; break;
	case LFS_TR_LSEEK: ev->fd = fd0; ev->offset = (int64_t)a[1]; ev->whence = (int32_t)a[2]; break;
	case LFS_TR_FSYNC: case LFS_TR_FDATASYNC: case LFS_TR_SYNCFS: case LFS_TR_FCHDIR: case LFS_TR_DUP:
		ev->fd = fd0; break;
	case LFS_TR_SYNC_FILE_RANGE: ev->fd = fd0; ev->offset = (int64_t)a[1]; ev->count = a[2]; ev->flags = a[3]; break;
	case LFS_TR_FTRUNCATE: ev->fd = fd0; ev->offset = (int64_t)a[1]; break;
	case LFS_TR_TRUNCATE: ev->dirfd = LFS_TR_AT_FDCWD; ev->path = p1; ev->offset = (int64_t)a[1]; break;
	case LFS_TR_FALLOCATE: ev->fd = fd0; ev->mode = (uint32_t)a[1]; ev->offset = (int64_t)a[2]; ev->count = a[3]; break;
	case LFS_TR_UNLINK: case LFS_TR_RMDIR: case LFS_TR_CHDIR:
		ev->dirfd = LFS_TR_AT_FDCWD; ev->path = p1; break;
	case LFS_TR_MKDIR: ev->dirfd = LFS_TR_AT_FDCWD; ev->path = p1; ev->mode = (uint32_t)a[1]; break;
	case LFS_TR_UNLINKAT: ev->dirfd = fd0; ev->path = p1; ev->flags = a[2]; break;
	case LFS_TR_MKDIRAT: ev->dirfd = fd0; ev->path = p1; ev->mode = (uint32_t)a[2]; break;
	case LFS_TR_RENAME: case LFS_TR_LINK:
		ev->dirfd = ev->dirfd2 = LFS_TR_AT_FDCWD; ev->path = p1; ev->path2 = p2; break;
	case LFS_TR_RENAMEAT: case LFS_TR_RENAMEAT2: case LFS_TR_LINKAT:
		ev->dirfd = fd0; ev->path = p1; ev->dirfd2 = (int32_t)a[2]; ev->path2 = p2;
		if (ev->sys != LFS_TR_RENAMEAT)
			ev->flags = a[4];
		break;
	case LFS_TR_SYMLINK: ev->path = p1; ev->dirfd2 = LFS_TR_AT_FDCWD; ev->path2 = p2; break;
	case LFS_TR_SYMLINKAT: ev->path = p1; ev->dirfd2 = (int32_t)a[1]; ev->path2 = p2; break;
	case LFS_TR_DUP2: ev->fd = fd0; ev->fd2 = (int32_t)a[1]; break;
	case LFS_TR_DUP3: ev->fd = fd0; ev->fd2 = (int32_t)a[1]; ev->flags = a[2]; break;
	case LFS_TR_FCNTL: ev->fd = fd0; ev->cmd = (int32_t)a[1]; ev->arg = a[2];
		if (ev->cmd == F_SETFL)
			ev->flags = a[2];
		break;
	case LFS_TR_SENDFILE: ev->fd = (int32_t)a[1]; ev->fd2 = fd0;
		ev->offset = adv_off(a[2], e->x[0], ev->ret); ev->count = a[3]; break;
	case LFS_TR_COPY_FILE_RANGE: case LFS_TR_SPLICE:
		ev->fd = fd0; ev->offset = adv_off(a[1], e->x[0], ev->ret);
		ev->fd2 = (int32_t)a[2]; ev->offset2 = adv_off(a[3], e->x[1], ev->ret);
		ev->count = a[4]; ev->flags = a[5]; break;
	case LFS_TR_MMAP:
		ev->fd = (int32_t)a[4]; ev->arg = a[0]; ev->count = a[1]; ev->mode = (uint32_t)a[2];
		ev->flags = a[3]; ev->offset = (int64_t)a[5];
		if (ev->ret >= 0 || ev->ret < -4095)
			fmap_add(r, ev->pid, (uint64_t)ev->ret, a[1]);
		break;
	case LFS_TR_MUNMAP:
		ev->arg = a[0]; ev->count = a[1];
		if (!fmap_unmap(r, ev->pid, a[0], a[1]))
			return 0;
		break;
	case LFS_TR_CLONE: ev->flags = a[0]; break;
	case LFS_TR_CLONE3: ev->flags = e->x[0]; break;
	case LFS_TR_FORK: case LFS_TR_VFORK: break;
	case LFS_TR_EXECVE:
		ev->dirfd = LFS_TR_AT_FDCWD;
		ev->path = ev->ret == 0 ? exec_path(r, ev->pid) : p1;
		break;
	case LFS_TR_EXECVEAT:
		ev->dirfd = fd0; ev->flags = a[4];
		ev->path = ev->ret == 0 ? exec_path(r, ev->pid) : p1;
		break;
	case LFS_TR_EXIT: case LFS_TR_EXIT_GROUP: ev->exit_code = (int32_t)a[0]; break;
	}
	return 1;
}

/* Write one record (in seq order; the --data payload in r->cur_data). */
/* The plain fd calls (read, write, pread64, pwrite64, lseek, fsync,
 * fdatasync, ftruncate) as lft_small records: the trace event is set up
 * straight from the record in a standing event (r->fast, every field it
 * does not set at its lfs_trace_event_init value) and written; no
 * widening to struct lft_event, no clearing, and no path tracking (these
 * calls change no fd table or cwd, lfs_trace_paths_apply does nothing for
 * them).  Returns 0 for any other call or a write with --data: the full
 * path takes it.  Same event as decode_sys makes (trace_child checks
 * each of these calls field by field). */
static int small_fast(struct rec *r, const struct lft_small *m)
{
	struct lfs_trace_event *ev = &r->fast;
	uint8_t s1 = r->small_arg[m->h.sys][0], s2 = r->small_arg[m->h.sys][1];
	uint64_t x = s1 < 6 ? m->x : 0, y = s2 < 6 ? m->y : 0;
	switch (m->h.sys) {
	case LFS_TR_WRITE: case LFS_TR_PWRITE64:
		if (r->data_max)
			return 0;
		/* fall through */
	case LFS_TR_READ: case LFS_TR_PREAD64:
		ev->count = x;
		ev->offset = m->h.sys == LFS_TR_PREAD64 || m->h.sys == LFS_TR_PWRITE64 ? (int64_t)y : -1;
		ev->whence = 0;
		break;
	case LFS_TR_LSEEK:
		ev->count = 0;
		ev->offset = (int64_t)x;
		ev->whence = (int32_t)y;
		break;
	case LFS_TR_FTRUNCATE:
		ev->count = 0;
		ev->offset = (int64_t)x;
		ev->whence = 0;
		break;
	case LFS_TR_FSYNC: case LFS_TR_FDATASYNC:
		ev->count = 0;
		ev->offset = -1;
		ev->whence = 0;
		break;
	default:
		return 0;
	}
	ev_head(r, ev, &m->h, m->pid, m->seq, m->ts, m->ret);
	ev->fd = (int32_t)m->a0;
	if (!r->err)
		r->err = lfs_trace_write(r->w, ev, &r->lerr);
	return 1;
}

static int process_record(struct rec *r, const void *data, size_t size)
{
	const struct lft_hdr *h = data;
	struct lfs_trace_event ev;
	if (size < sizeof *h || r->err)
		return 0;
	switch (h->kind) {
	case LFT_K_DATA: {
		const struct lft_data *d = data;
		if (size < sizeof *d || d->len > LFT_DATA_CHUNK)
			return 0;
		struct pend *p = pend_for(r, d->h.tid, d->off == 0);
		if (!p || p->len != d->off)
			return 0;
		if (lfs_grow(&p->buf, &p->cap, p->len + d->len, 1, 65536) < 0)
			return 0;
		memcpy(p->buf + p->len, d->d, d->len);
		p->len += d->len;
		return 0;
	}
	case LFT_K_SMALL: {
		/* widened to the full record: a[0], a[s1], a[s2] (in r->wide,
		 * which stays zero otherwise: no clearing of 200 bytes per event) */
		const struct lft_small *m = data;
		if (size < sizeof *m || h->sys >= sizeof r->small_arg / sizeof r->small_arg[0])
			return 0;
		if (r->seen_root && small_fast(r, m))
			return 0;
		struct lft_event *e = &r->wide;
		e->h = m->h;
		e->h.kind = LFT_K_SYS;
		e->pid = m->pid;
		e->seq = m->seq;
		e->ts = m->ts;
		e->ret = m->ret;
		e->a[0] = m->a0;
		uint8_t s1 = r->small_arg[h->sys][0], s2 = r->small_arg[h->sys][1];
		if (s1 < 6)
			e->a[s1] = m->x;
		if (s2 < 6)
			e->a[s2] = m->y;
		process_record(r, e, sizeof *e);
		e->a[0] = 0;
		if (s1 < 6)
			e->a[s1] = 0;
		if (s2 < 6)
			e->a[s2] = 0;
		return 0;
	}
	case LFT_K_SYS:
	case LFT_K_SYS_PATH: {
		const struct lft_event *e = data;
		const char *p1 = NULL, *p2 = NULL;
		if (size < sizeof *e)
			return 0;
		if (h->kind == LFT_K_SYS_PATH) {
			/* two packed NUL-terminated paths after the event (struct
			 * lft_event_paths); the ring is mapped read-only: copy */
			const char *q = (const char *)data + sizeof *e;
			size_t room = size - sizeof *e;
			size_t l1 = strnlen(q, room < LFT_PATH_MAX ? room : LFT_PATH_MAX - 1);
			memcpy(r->p1, q, l1);
			r->p1[l1] = 0;
			size_t l2 = 0;
			if (l1 + 1 < room) {
				room -= l1 + 1;
				l2 = strnlen(q + l1 + 1, room < LFT_PATH_MAX ? room : LFT_PATH_MAX - 1);
				memcpy(r->p2, q + l1 + 1, l2);
			}
			r->p2[l2] = 0;
			p1 = r->p1;
			p2 = r->p2;
		}
		if (!decode_sys(r, e, p1, p2, &ev))
			return 0;
		if (ev.pid == r->root_pid && !r->seen_root) {
			r->seen_root = 1;
			/* the release read() of spawn_stopped, not the command's */
			if (ev.sys == LFS_TR_READ && ev.fd == r->go_fd && r->go_fd > 0)
				return 0;
		}
		if (lfs_trace_sys_is_write(ev.sys) && r->data_max) {
			if (r->cur_dlen) {
				ev.data = r->cur_data;
				ev.data_len = (uint32_t)r->cur_dlen;
			}
			if (ev.ret > 0 && ev.data_len < (uint64_t)ev.ret)
				ev.eflags |= LFS_TREV_DATATRUNC;
		}
		put_event(r, &ev);
		return 0;
	}
	case LFT_K_FORK: {
		const struct lft_event *e = data;
		lfs_trace_event_init(&ev);
		ev_head(r, &ev, &e->h, e->pid, e->seq, e->ts, 0);
		ev.sys = LFS_TR_PROC_FORK;
		ev.child_pid = (int32_t)e->a[0];
		ev.child_tid = (int32_t)e->a[1];
		if (e->a[2])
			ev.eflags |= LFS_TREV_THREAD;
		put_event(r, &ev);
		return 0;
	}
	case LFT_K_EXIT: {
		const struct lft_event *e = data;
		if (e->a[2] == 1 || e->a[2] == 2) {
			/* the exit call itself (taken here, it never returns) */
			lfs_trace_event_init(&ev);
			ev_head(r, &ev, &e->h, e->pid, e->seq, e->ts, 0);
			ev.sys = e->a[2] == 2 ? LFS_TR_EXIT_GROUP : LFS_TR_EXIT;
			ev.exit_code = (int32_t)((e->a[0] >> 8) & 0xff);
			ev.eflags = LFS_TREV_NODUR;
			put_event(r, &ev);
		}
		lfs_trace_event_init(&ev);
		ev_head(r, &ev, &e->h, e->pid, e->seq + 1, e->ts, 0);
		ev.sys = LFS_TR_PROC_EXIT;
		ev.exit_code = (int32_t)e->a[0];
		if (e->a[1])
			ev.eflags |= LFS_TREV_GROUP;
		if (e->a[1] && ev.pid == r->root_pid)
			r->root_exited = 1;
		put_event(r, &ev);
		return 0;
	}
	case LFT_K_EXEC: {
		const struct lft_event_path *ep = data;
		if (size < sizeof *ep)
			return 0;
		size_t l1 = strnlen(ep->p1, LFT_PATH_MAX - 1), l2 = strnlen(ep->p2, 15);
		memcpy(r->p1, ep->p1, l1);
		r->p1[l1] = 0;
		memcpy(r->p2, ep->p2, l2);
		r->p2[l2] = 0;
		unsigned i = r->exec_next++ % 64;
		for (unsigned j = 0; j < 64; j++)
			if (r->exec[j].pid == (int32_t)ep->e.pid)
				i = j;
		r->exec[i].pid = (int32_t)ep->e.pid;
		memcpy(r->exec[i].path, r->p1, l1 + 1);
		lfs_trace_event_init(&ev);
		ev_head(r, &ev, &ep->e.h, ep->e.pid, ep->e.seq, ep->e.ts, 0);
		ev.sys = LFS_TR_PROC_EXEC;
		ev.dirfd = LFS_TR_AT_FDCWD;
		ev.path = r->p1;
		ev.comm = r->p2;
		put_event(r, &ev);
		return 0;
	}
	}
	return 0;
}

/* ------------------------------------------------------------ seq order */

/* Every record but payload chunks carries the kernel's sequence number at
 * the same offset (struct lft_small and struct lft_event agree); an exit
 * record takes two (the exit call, then the task's end). */
static uint64_t rec_seq(const void *rec)
{
	return ((const struct lft_event *)rec)->seq;
}

static uint64_t rec_span(const void *rec)
{
	return ((const struct lft_hdr *)rec)->kind == LFT_K_EXIT ? 2 : 1;
}

static void held_swap(struct held *a, struct held *b)
{
	struct held t = *a;
	*a = *b;
	*b = t;
}

static int held_push(struct rec *r, const void *rec, size_t size, const uint8_t *data, size_t dlen)
{
	if (lfs_grow(&r->held, &r->capheld, r->nheld + 1, sizeof *r->held, 256) < 0)
		return -ENOMEM;
	struct held x = { rec_seq(rec), malloc(size), size, NULL, dlen };
	if (dlen)
		x.data = malloc(dlen);
	if (!x.rec || (dlen && !x.data)) {
		free(x.rec);
		free(x.data);
		return -ENOMEM;
	}
	memcpy(x.rec, rec, size);
	if (dlen)
		memcpy(x.data, data, dlen);
	size_t i = r->nheld++;
	r->nheld_total++;
	r->held[i] = x;
	while (i > 0 && r->held[(i - 1) / 2].seq > r->held[i].seq) {
		held_swap(&r->held[(i - 1) / 2], &r->held[i]);
		i = (i - 1) / 2;
	}
	return 0;
}

/* write and drop the heap's top */
static void held_pop_write(struct rec *r)
{
	struct held x = r->held[0];
	r->held[0] = r->held[--r->nheld];
	for (size_t i = 0;;) {
		size_t m = i, a = 2 * i + 1, b = a + 1;
		if (a < r->nheld && r->held[a].seq < r->held[m].seq)
			m = a;
		if (b < r->nheld && r->held[b].seq < r->held[m].seq)
			m = b;
		if (m == i)
			break;
		held_swap(&r->held[i], &r->held[m]);
		i = m;
	}
	r->cur_data = x.data;
	r->cur_dlen = x.dlen;
	process_record(r, x.rec, x.size);
	r->cur_data = NULL;
	r->cur_dlen = 0;
	uint64_t end = x.seq + rec_span(x.rec);
	if (end > r->next_seq)
		r->next_seq = end;
	free(x.rec);
	free(x.data);
}

/* write the held records that are next in line */
static void held_drain(struct rec *r)
{
	while (r->nheld && r->held[0].seq <= r->next_seq)
		held_pop_write(r);
}

/* Every seq below `upto` is now in hand or was lost (a clean flush round,
 * see lft_flush): write the held records below it; the gaps are the lost
 * events, which the lost counters report. */
static void held_watermark(struct rec *r, uint64_t upto)
{
	while (r->nheld && r->held[0].seq < upto)
		held_pop_write(r);
	if (upto > r->next_seq)
		r->next_seq = upto;
	held_drain(r);
}

/* A record with a seq, in ring order: written now if it is the next one,
 * else held until the ones before it come (or are known lost).  A write's
 * payload chunks come just before it in the ring, so they are bound to it
 * here, in ring order. */
static void arrive(struct rec *r, const void *rec, size_t size)
{
	const struct lft_hdr *h = rec;
	struct pend *p = NULL;
	if (r->data_max && (h->kind == LFT_K_SYS || h->kind == LFT_K_SMALL) && lfs_trace_sys_is_write(h->sys))
		p = pend_for(r, h->tid, 0);
	const uint8_t *data = p && p->len ? p->buf : NULL;
	size_t dlen = p ? p->len : 0;
	uint64_t s = rec_seq(rec);
	if (s <= r->next_seq) {
		/* (s < next_seq: later than a watermark said it could be;
		 * written anyway, out of order) */
		r->cur_data = data;
		r->cur_dlen = dlen;
		process_record(r, rec, size);
		r->cur_data = NULL;
		r->cur_dlen = 0;
		if (s + rec_span(rec) > r->next_seq)
			r->next_seq = s + rec_span(rec);
		held_drain(r);
	} else if (held_push(r, rec, size, data, dlen) && !r->err) {
		r->err = -ENOMEM;
		r->lerr.code = -ENOMEM;
	}
	if (p)
		p->len = 0;
}

/* libbpf ring callback: records in ring order */
static int on_record(void *ctx, void *data, size_t size)
{
	struct rec *r = ctx;
	const struct lft_hdr *h = data;
	if (size < sizeof *h || r->err)
		return 0;
	switch (h->kind) {
	case LFT_K_DATA:
		return process_record(r, data, size);
	case LFT_K_BATCH: {
		const struct lft_batch *b = data;
		if (size < offsetof(struct lft_batch, ev) || b->n > LFT_BATCH ||
		    size < offsetof(struct lft_batch, ev) + b->n * sizeof b->ev[0])
			return 0;
		for (uint32_t i = 0; i < b->n; i++)
			arrive(r, &b->ev[i], sizeof b->ev[i]);
		return 0;
	}
	case LFT_K_SMALL:
		if (size < sizeof(struct lft_small))
			return 0;
		arrive(r, data, size);
		return 0;
	case LFT_K_SYS: case LFT_K_SYS_PATH: case LFT_K_FORK: case LFT_K_EXIT: case LFT_K_EXEC:
		if (size < sizeof(struct lft_event))
			return 0;
		arrive(r, data, size);
		return 0;
	}
	return 0;
}

/* ------------------------------------------------------------ -p snapshot */

/* The BPF side's bitmap of traced tids (map `pidbits`), mapped here. */
static uint64_t *pidbits;
#define PIDBITS_BYTES ((size_t)LFT_TID_LIMIT / 8)

/* Mark tid traced in it. */
static void trace_tid(struct lftrace_bpf *skel, uint32_t tid)
{
	(void)skel;
	if (pidbits && tid < LFT_TID_LIMIT)
		__atomic_fetch_or(&pidbits[tid >> 6], 1ull << (tid & 63), __ATOMIC_SEQ_CST);
}

static int add_tids(struct lftrace_bpf *skel, int32_t pid)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/task", pid);
	DIR *d = opendir(p);
	if (!d)
		return -errno;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		trace_tid(skel, (uint32_t)atoi(de->d_name));
	}
	closedir(d);
	return 0;
}

/* pid and its descendants, via /proc/PID/task/TID/children. */
static int collect_tree(int32_t pid, int32_t **out, size_t *n, size_t *cap)
{
	if (lfs_grow(out, cap, *n + 1, sizeof **out, 32) < 0)
		return -ENOMEM;
	(*out)[(*n)++] = pid;
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/task", pid);
	DIR *d = opendir(p);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		char cp[400];
		snprintf(cp, sizeof cp, "/proc/%d/task/%.255s/children", pid, de->d_name);
		FILE *f = fopen(cp, "r");
		if (!f)
			continue;
		int c;
		while (fscanf(f, "%d", &c) == 1)
			if (*n < 100000)
				collect_tree(c, out, n, cap);
		fclose(f);
	}
	closedir(d);
	return 0;
}

static void snapshot_proc(struct rec *r, int32_t pid)
{
	struct lfs_trace_event ev;
	char p[96], target[PATH_MAX];
	uint64_t ts = now_ns(CLOCK_MONOTONIC) - r->mono0;
	snprintf(p, sizeof p, "/proc/%d/cwd", pid);
	ssize_t n = readlink(p, target, sizeof target - 1);
	if (n >= 0) {
		target[n] = 0;
		lfs_trace_event_init(&ev);
		ev.sys = LFS_TR_CWD_SNAP;
		ev.pid = ev.tid = pid;
		ev.ts_ns = ts;
		ev.path = target;
		put_event(r, &ev);
	}
	snprintf(p, sizeof p, "/proc/%d/fd", pid);
	DIR *d = opendir(p);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		int fd = atoi(de->d_name);
		snprintf(p, sizeof p, "/proc/%d/fd/%d", pid, fd);
		n = readlink(p, target, sizeof target - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		lfs_trace_event_init(&ev);
		ev.sys = LFS_TR_FD_SNAP;
		ev.pid = ev.tid = pid;
		ev.ts_ns = ts;
		ev.fd = fd;
		ev.path = target;
		struct stat st;
		if (stat(p, &st) == 0) {
			ev.eflags |= LFS_TREV_STAT;
			ev.size = (uint64_t)st.st_size;
			ev.ino = st.st_ino;
			/* kernel-internal dev_t encoding, as the BPF side reports */
			ev.dev = ((uint64_t)major(st.st_dev) << 20) | minor(st.st_dev);
			ev.ftype = st.st_mode;
		}
		char ip[96], line[256];
		snprintf(ip, sizeof ip, "/proc/%d/fdinfo/%d", pid, fd);
		FILE *f = fopen(ip, "r");
		if (f) {
			while (fgets(line, sizeof line, f)) {
				unsigned long long v;
				if (sscanf(line, "pos: %llu", &v) == 1)
					ev.offset = (int64_t)v;
				else if (sscanf(line, "flags: %llo", &v) == 1)
					ev.flags = v;
				else if (sscanf(line, "mnt_id: %llu", &v) == 1)
					ev.arg = v;
			}
			fclose(f);
		}
		put_event(r, &ev);
	}
	closedir(d);
}

/* ------------------------------------------------------------ options */

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("LFS_BPF_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	if (level == LIBBPF_DEBUG)
		return 0;
	return getenv("LFS_BPF_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

/* Start argv stopped: it blocks on a pipe until we release it, after the
 * BPF program is attached, so its very first syscall (execve) is traced. */
static pid_t spawn_stopped(char **argv, int *release_fd, int *errpipe_rd, int *go_fd)
{
	int go[2], ep[2];
	if (pipe2(go, O_CLOEXEC) || pipe2(ep, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(go[1]);
		close(ep[0]);
		signal(SIGPIPE, SIG_DFL);
		const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
		if (geteuid() == 0 && su && sg && atoi(su) > 0) {
			if (setgroups(0, NULL) || setgid((gid_t)atoi(sg)) || setuid((uid_t)atoi(su))) {
				int e = errno;
				(void)!write(ep[1], &e, sizeof e);
				_exit(126);
			}
		}
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(126);
		execvp(argv[0], argv);
		int e = errno;
		(void)!write(ep[1], &e, sizeof e);
		_exit(e == ENOENT ? 127 : 126);
	}
	*go_fd = go[0];
	close(go[0]);
	close(ep[1]);
	*release_fd = go[1];
	*errpipe_rd = ep[0];
	return pid;
}

static void read_lost(struct lftrace_bpf *skel, struct lfs_trace_header *h)
{
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return;
	uint64_t *vals = calloc((size_t)ncpu, sizeof *vals);
	uint32_t z = 0;
	if (vals && bpf_map_lookup_elem(bpf_map__fd(skel->maps.lost), &z, vals) == 0) {
		h->lost = 0;
		for (int i = 0; i < ncpu; i++) {
			if (i < LFS_TRACE_MAX_CPUS)
				h->lost_cpu[i] = vals[i];
			h->lost += vals[i];
		}
		h->ncpu = (uint32_t)(ncpu < LFS_TRACE_MAX_CPUS ? ncpu : LFS_TRACE_MAX_CPUS);
	}
	free(vals);
}

static void fill_header(struct lfs_trace_header *h, int argc, char **argv)
{
	struct utsname u;
	memset(h, 0, sizeof *h);
	h->exit_status = -1;
	if (uname(&u) == 0) {
		size_t l = strnlen(u.nodename, sizeof h->host - 1);
		memcpy(h->host, u.nodename, l);
		h->host[l] = 0;
		l = strnlen(u.release, sizeof h->kernel - 1);
		memcpy(h->kernel, u.release, l);
		h->kernel[l] = 0;
	}
	snprintf(h->source, sizeof h->source, "ebpf");
	if (!getcwd(h->cwd, sizeof h->cwd))
		h->cwd[0] = 0;
	size_t o = 0;
	for (int i = 0; i < argc && o + 2 < sizeof h->cmdline; i++)
		o += (size_t)snprintf(h->cmdline + o, sizeof h->cmdline - o, "%s%s", i ? " " : "", argv[i]);
	if (o >= sizeof h->cmdline)
		h->cmdline[sizeof h->cmdline - 1] = 0;
}

/* The ring's consumer and producer positions (page 0 and page 1 of the
 * map), read-only, to tell whether everything reserved was consumed. */
struct ringpos {
	const volatile unsigned long *cons, *prod;
	size_t pg;
	unsigned long max_backlog;   /* most bytes found waiting at a drain */
};

static int ringpos_map(struct ringpos *rp, int fd)
{
	rp->pg = (size_t)sysconf(_SC_PAGESIZE);
	void *c = mmap(NULL, rp->pg, PROT_READ, MAP_SHARED, fd, 0);
	if (c == MAP_FAILED)
		return -errno;
	void *p = mmap(NULL, rp->pg, PROT_READ, MAP_SHARED, fd, (off_t)rp->pg);
	if (p == MAP_FAILED) {
		munmap(c, rp->pg);
		return -errno;
	}
	rp->cons = c;
	rp->prod = p;
	return 0;
}

static void ringpos_unmap(struct ringpos *rp)
{
	if (rp->cons)
		munmap((void *)rp->cons, rp->pg);
	if (rp->prod)
		munmap((void *)rp->prod, rp->pg);
}

/* Run lft_flush on every CPU: 1 if no CPU was inside a program of ours. */
static int flush_cpus(int prog_fd, int ncpu)
{
	int clean = 1;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		for (int tries = 0;; tries++) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = (__u32)cpu);
			if (bpf_prog_test_run_opts(prog_fd, &o)) {
				if (errno != ENXIO)     /* ENXIO: CPU offline */
					clean = 0;
				break;
			}
			if (o.retval == 0)
				break;
			if (tries == 2) {
				clean = 0;
				break;
			}
		}
	}
	return clean;
}

/* With `round`: flush the CPUs' batches, consume the ring, and when that
 * round proves every seq below the one read before it arrived (no CPU
 * busy, nothing reserved before the round left unconsumed), write the
 * held records up to it.  Returns 1 then, 0 if the round was not
 * conclusive, < 0 on a ring error.  Without: only consume the ring (0). */
static int drain(struct rec *r, struct ring_buffer *rb, struct lftrace_bpf *skel, struct ringpos *rp,
		 int ncpu, int batching, int round)
{
	if (!round) {
		int n = ring_buffer__consume(rb);
		return n < 0 && n != -EINTR ? n : 0;
	}
	uint64_t s = __atomic_load_n(&skel->bss->seq, __ATOMIC_ACQUIRE);
	int clean = batching ? flush_cpus(bpf_program__fd(skel->progs.lft_flush), ncpu) : 1;
	unsigned long p = __atomic_load_n(rp->prod, __ATOMIC_ACQUIRE);
	unsigned long c0 = __atomic_load_n(rp->cons, __ATOMIC_ACQUIRE);
	if (p - c0 > rp->max_backlog)
		rp->max_backlog = p - c0;
	int n = ring_buffer__consume(rb);
	if (n < 0 && n != -EINTR)
		return n;
	if (!clean || __atomic_load_n(rp->cons, __ATOMIC_ACQUIRE) < p)
		return 0;
	held_watermark(r, s);
	return 1;
}

/* The lfs_tp_btf/ section: a BTF tracepoint whose attach id we found
 * (cmd/trace_btf.c), so libbpf need not parse the kernel BTF.  Opened as a
 * raw tracepoint (which keeps libbpf from loading vmlinux BTF), turned
 * into tp_btf just before the kernel load. */
static int tpbtf_id;

static int tpbtf_prepare(struct bpf_program *prog, struct bpf_prog_load_opts *o, long cookie)
{
	(void)cookie;
	if (tpbtf_id <= 0)
		return -ENOENT;
	int e = bpf_program__set_type(prog, BPF_PROG_TYPE_TRACING);
	if (!e)
		e = bpf_program__set_expected_attach_type(prog, BPF_TRACE_RAW_TP);
	if (e)
		return e;
	o->expected_attach_type = BPF_TRACE_RAW_TP;
	o->attach_btf_id = (__u32)tpbtf_id;
	o->attach_btf_obj_fd = 0;
	return 0;
}

/* Is link a raw tracepoint link on tracepoint tp?  (An attach id that
 * named another tracepoint would show here.) */
static int link_on(struct bpf_link *link, const char *tp)
{
	char name[64] = "";
	struct bpf_link_info li;
	__u32 len = sizeof li;
	memset(&li, 0, sizeof li);
	li.raw_tracepoint.tp_name = (__u64)(uintptr_t)name;
	li.raw_tracepoint.tp_name_len = sizeof name;
	if (bpf_obj_get_info_by_fd(bpf_link__fd(link), &li, &len))
		return 0;
	name[sizeof name - 1] = 0;
	return li.type == BPF_LINK_TYPE_RAW_TRACEPOINT && !strcmp(name, tp);
}

static int tpbtf_attach(const struct bpf_program *prog, long cookie, struct bpf_link **link)
{
	(void)cookie;
	*link = bpf_program__attach_trace(prog);
	return *link ? 0 : -errno;
}

/* Set up beside the program load (the kernel's verification is most of
 * the start-up, and the target is not running yet, so the other core is
 * free): the ring's consumer mappings (~1 ms: the kernel maps all of its
 * pages) and, when the output file does not exist yet, the trace file
 * with its compressor (~0.7 ms), under a temporary name that becomes its
 * own once the programs are in (so a failed load leaves nothing behind).
 * An existing output (a file, a device, a link) is opened as before, after
 * the load: replacing it by a rename would change what it is. */
struct prep {
	uint32_t ring;                    /* ring size in bytes */
	int rbfd;                         /* the ring map, made by prep_run */
	int map_errno;                    /* its bpf_map_create failed */
	int map_done;                     /* rbfd / map_errno set */
	pthread_mutex_t mu;               /* map_done, signalled on cv */
	pthread_cond_t cv;
	struct rec *r;
	char path[PATH_MAX];              /* the trace file's temporary name, "" = none */
	const struct lfs_trace_header *hdr;
	struct ring_buffer *rb;           /* results */
	struct ringpos rp;
	int ring_err, file_err;           /* -errno */
	struct lfs_err lerr;
};

static void *prep_run(void *arg)
{
	struct prep *p = arg;
	/* the ring first: the main thread waits for it after opening the
	 * object (the kernel allocating and zeroing the ring's pages, ~1.3 ms,
	 * runs beside libbpf parsing the object, ~1.2 ms) */
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "rb", 0, 0, p->ring, NULL);
	int e = errno;
	pthread_mutex_lock(&p->mu);
	p->rbfd = fd;
	p->map_errno = fd < 0 ? e : 0;
	p->map_done = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (fd < 0)
		return NULL;
	p->rb = ring_buffer__new(p->rbfd, on_record, p->r, NULL);
	if (!p->rb)
		p->ring_err = -errno;
	else
		p->ring_err = ringpos_map(&p->rp, p->rbfd);
	/* zstd level 1: ~10% less recorder CPU than 3 (it shares the cores
	 * with the target) for ~5% more bytes (dd: 1.05 instead of 1.0 per event) */
	struct lfs_trace_wopts wo = { .threaded = 1, .zstd_level = 1 };
	if (p->path[0] && lfs_trace_create(&p->r->w, p->path, p->hdr, &wo, &p->lerr)) {
		p->file_err = p->lerr.code ? p->lerr.code : -EIO;
		p->r->w = NULL;
	}
	return NULL;
}

int lfs_trace_record(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "data", optional_argument, NULL, 'D' },
		{ "buffer", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *out = "lightfs.trace";
	uint64_t data_max = 0, ring = 0;
	double duration = 0;
	int32_t attach_pid = 0;
	int quiet = 0, opt;
	optind = 0;   /* 0: full getopt re-initialisation (GNU), as argv changed */
	while ((opt = getopt_long(argc, argv, "+o:b:d:p:qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'D':
			data_max = 64 * 1024;
			if (optarg && (parse_size(optarg, &data_max) || data_max == 0 ||
				       data_max > (uint64_t)LFT_DATA_CHUNK * LFT_DATA_CHUNKS_MAX))
				return lfs_usage(c, "--data=%s: expected a size from 1 to 1M", optarg);
			break;
		case 'b':
			if (parse_size(optarg, &ring) || ring < 4096 || ring > (1ull << 30))
				return lfs_usage(c, "--buffer %s: expected a size from 4K to 1G", optarg);
			break;
		case 'd': {
			char *end;
			duration = strtod(optarg, &end);
			if (*end || duration <= 0)
				return lfs_usage(c, "-d %s: expected a positive number of seconds", optarg);
			break;
		}
		case 'p': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v <= 0 || v > INT32_MAX)
				return lfs_usage(c, "-p %s: expected a process id", optarg);
			attach_pid = (int32_t)v;
			break;
		}
		case 'q': quiet = 1; break;
		case 'h': lfs_print_cmd_help(stdout, c->cmd); return LFS_EXIT_OK;
		default: return lfs_usage(c, "record: unknown option");
		}
	}
	char **cmdv = argv + optind;
	int cmdc = argc - optind;
	if (!attach_pid && cmdc == 0)
		return lfs_usage(c, "record: give -p PID or -- COMMAND [ARGS...]");
	if (attach_pid && cmdc)
		return lfs_usage(c, "record: -p and a command are exclusive");
	if (attach_pid && kill(attach_pid, 0) && errno == ESRCH)
		return lfs_error(c, NULL, "-p %d: no such process", attach_pid);
	if (ring == 0)
		ring = data_max ? DEFAULT_RING_DATA : DEFAULT_RING;
	/* ring size: a power of two and a multiple of the page size */
	uint64_t rs = 4096;
	while (rs < ring)
		rs <<= 1;
	ring = rs;

	struct rec r;
	memset(&r, 0, sizeof r);
	lfs_trace_event_init(&r.fast);
	r.fast.eflags = LFS_TREV_NODUR;
	r.go_fd = -1;
	r.data_max = (uint32_t)data_max;
	struct lfs_trace_header hdr;
	if (attach_pid) {
		char p[64], buf[1024];
		snprintf(p, sizeof p, "/proc/%d/cmdline", attach_pid);
		FILE *f = fopen(p, "r");
		size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = 0;
		for (size_t i = 0; i + 1 < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		char *one[] = { buf };
		fill_header(&hdr, 1, one);
		hdr.flags |= LFS_TRH_ATTACHED;
	} else {
		fill_header(&hdr, cmdc, cmdv);
	}
	hdr.ring_bytes = ring;
	hdr.data_max = r.data_max;
	if (r.data_max)
		hdr.flags |= LFS_TRH_DATA;

	int rc = LFS_EXIT_FAIL, release_fd = -1, errpipe = -1, status = 0, have_status = 0;
	pid_t child = -1;
	struct lftrace_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct ringpos rp = { 0 };
	int ncpu = 0, batching = 1;
	int rbfd = -1, have_prep = 0, tmp_live = 0;
	static struct prep prep;
	pthread_t prep_th;
	memset(&prep, 0, sizeof prep);
	struct lfs_err err = { 0 };

	libbpf_set_print(libbpf_quiet);
	const char *floor = getenv("LFS_TRACE_FLOOR");
	if (floor)
		fprintf(stderr, "lightfs: trace: LFS_TRACE_FLOOR is set: no syscall is recorded "
			"(measures the attached tracepoint alone%s)\n",
			!strcmp(floor, "clock") ? " and one clock read per syscall" : "");
	if (!attach_pid) {
		child = spawn_stopped(cmdv, &release_fd, &errpipe, &r.go_fd);
		if (child < 0)
			return lfs_error(c, cmdv[0], "cannot start: %s", strerror(errno));
	}
	int dbg = getenv("LFS_TRACE_DEBUG") != NULL, lerr = 0;
	/* LFS_TRACE_DEBUG=stats: the kernel times every program run (while
	 * this fd is open), printed per program at the end */
	int stats_fd = dbg && !strcmp(getenv("LFS_TRACE_DEBUG"), "stats") ? bpf_enable_stats(BPF_STATS_RUN_TIME) : -1;
	int vdbg = dbg && !strcmp(getenv("LFS_TRACE_DEBUG"), "verifier");
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
#define PHASE(what) do { if (dbg) fprintf(stderr, "lightfs: trace: %-8s %.1f ms\n", what, \
	(now_ns(CLOCK_MONOTONIC) - t0) / 1e6); } while (0)
	/* the minimal CO-RE BTF made at build time, if this is its kernel */
	char btfpath[64] = "";
	int btf_fd = -1;
	struct utsname un;
	if (sizeof lftrace_btf > 1 && uname(&un) == 0 && !strcmp(un.release, lftrace_btf_kernel) &&
	    !getenv("LFS_TRACE_FULL_BTF")) {
		btf_fd = memfd_create("lftrace-btf", MFD_CLOEXEC);
		if (btf_fd >= 0 && write(btf_fd, lftrace_btf, sizeof lftrace_btf) == (ssize_t)sizeof lftrace_btf)
			snprintf(btfpath, sizeof btfpath, "/proc/self/fd/%d", btf_fd);
	}
	/* The syscall-exit program as a BTF tracepoint, with the attach id
	 * made at build time for this kernel release or else found in the
	 * kernel's BTF; as a raw tracepoint if neither loads and attaches to
	 * sys_exit.  (Attached here, before any tid is traced: a program on
	 * a wrong tracepoint would have returned at once.) */
	LIBBPF_OPTS(libbpf_prog_handler_opts, ho, .prog_prepare_load_fn = tpbtf_prepare,
		    .prog_attach_fn = tpbtf_attach);
	int handler = libbpf_register_prog_handler("lfs_tp_btf/", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, &ho);
	enum { ID_NONE, ID_BUILD, ID_SCAN } id_src = ID_NONE;
	tpbtf_id = 0;
	if (handler > 0 && !getenv("LFS_TRACE_RAW_TP")) {
		/* (LFS_TRACE_BTF_ID stands in for the build-time id: tests) */
		int bid = getenv("LFS_TRACE_BTF_ID") ? atoi(getenv("LFS_TRACE_BTF_ID")) : lftrace_id_btf_trace_sys_exit;
		if (bid > 0 && uname(&un) == 0 && !strcmp(un.release, lftrace_ids_kernel)) {
			tpbtf_id = bid;
			id_src = ID_BUILD;
		} else {
			tpbtf_id = lfs_btf_find_id("/sys/kernel/btf/vmlinux", LFS_BTF_KIND_TYPEDEF, "btf_trace_sys_exit");
			id_src = tpbtf_id > 0 ? ID_SCAN : ID_NONE;
		}
	}
	PHASE("btf id");
	/* the syscall table, set in the program's read-only data before each load */
	static struct lft_sysinfo systab[LFT_NR_MAX];
	memset(systab, 0, sizeof systab);
	for (size_t i = 0; i < sizeof sysdefs / sizeof sysdefs[0]; i++) {
		uint32_t nr = (uint32_t)sysdefs[i].nr;
		int small = !!(sysdefs[i].cls & LFT_C_SMALL);
		struct lft_sysinfo si = { sysdefs[i].sys, sysdefs[i].p1, sysdefs[i].p2, sysdefs[i].cls,
					  small ? sysdefs[i].s1 : 0xff, small ? sysdefs[i].s2 : 0xff, 0 };
		if (nr < LFT_NR_MAX)
			systab[nr] = si;
		if (sysdefs[i].sys < sizeof r.small_arg / sizeof r.small_arg[0]) {
			r.small_arg[sysdefs[i].sys][0] = si.s1;
			r.small_arg[sysdefs[i].sys][1] = si.s2;
		}
	}
	/* The ring, its consumer side and the trace file are made on a second
	 * thread (prep_run) while this one opens and loads the object: the
	 * ring map before the load (the object reuses it). */
	if (lfs_trace_paths_new(&r.paths)) {
		rc = lfs_error(c, NULL, "out of memory");
		goto cleanup;
	}
	r.mono0 = now_ns(CLOCK_MONOTONIC);
	hdr.start_mono_ns = r.mono0;
	hdr.start_real_ns = now_ns(CLOCK_REALTIME);
	hdr.root_pid = attach_pid ? attach_pid : child;
	r.root_pid = hdr.root_pid;
	prep.ring = (uint32_t)ring;
	prep.rbfd = -1;
	prep.map_done = 0;
	pthread_mutex_init(&prep.mu, NULL);
	pthread_cond_init(&prep.cv, NULL);
	prep.r = &r;
	prep.hdr = &hdr;
	struct stat ost;
	if (lstat(out, &ost) && errno == ENOENT &&
	    (size_t)snprintf(prep.path, sizeof prep.path, "%s.tmp%d", out, (int)getpid()) < sizeof prep.path)
		tmp_live = 1;
	else
		prep.path[0] = 0;
	if (pthread_create(&prep_th, NULL, prep_run, &prep) == 0)
		have_prep = 1;
	else
		prep_run(&prep);
	for (int attempt = 0; attempt < 4; attempt++) {
		LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btfpath[0] ? btfpath : NULL);
		skel = lftrace_bpf__open_opts(&oo);
		if (!skel)
			break;
		PHASE("open");
		if (rbfd < 0) {
			pthread_mutex_lock(&prep.mu);
			while (!prep.map_done)
				pthread_cond_wait(&prep.cv, &prep.mu);
			pthread_mutex_unlock(&prep.mu);
			rbfd = prep.rbfd;
			if (rbfd < 0)
				break;           /* reported after the join */
		}
		skel->rodata->data_max = r.data_max;
		skel->rodata->wakeup_bytes = ring / 8;
		skel->rodata->floor_only = !floor ? 0 : !strcmp(floor, "clock") ? 2 : 1;
		memcpy((void *)skel->rodata->systab, systab, sizeof systab);
		bpf_map__reuse_fd(skel->maps.rb, rbfd);
		bpf_program__set_autoload(skel->progs.lft_sys_exit_btf, tpbtf_id > 0);
		bpf_program__set_autoload(skel->progs.lft_sys_exit, tpbtf_id <= 0);
		/* LFS_TRACE_DEBUG=verifier: the kernel's verification stats of
		 * each program (its time and instructions processed: the load is
		 * most of the start-up) */
		static char vlog[8][256];
		int nprog = 0;
		struct bpf_program *pp;
		if (vdbg)
			bpf_object__for_each_program(pp, skel->obj) {
				if (nprog < 8 && bpf_program__autoload(pp)) {
					bpf_program__set_log_buf(pp, vlog[nprog], sizeof vlog[nprog]);
					bpf_program__set_log_level(pp, 4);
				}
				nprog++;
			}
		lerr = lftrace_bpf__load(skel);
		nprog = 0;
		if (vdbg)
			bpf_object__for_each_program(pp, skel->obj) {
				if (nprog < 8 && bpf_program__autoload(pp)) {
					for (char *q = vlog[nprog]; *q; q++)
						if (*q == '\n')
							*q = ' ';
					fprintf(stderr, "lightfs: trace: %-16s %s\n", bpf_program__name(pp), vlog[nprog]);
				}
				nprog++;
			}
		PHASE(btfpath[0] ? "load/min" : "load/full");
		if (!lerr && tpbtf_id > 0) {
			struct bpf_link *l = bpf_program__attach(skel->progs.lft_sys_exit_btf);
			if (l && link_on(l, "sys_exit")) {
				skel->links.lft_sys_exit_btf = l;
				break;
			}
			bpf_link__destroy(l);
			lerr = -ENOENT;
		}
		if (!lerr || (tpbtf_id <= 0 && !btfpath[0]))
			break;                   /* loaded, or no fallback left */
		lftrace_bpf__destroy(skel);
		skel = NULL;
		if (id_src == ID_BUILD) {        /* same release, another build: look it up */
			tpbtf_id = lfs_btf_find_id("/sys/kernel/btf/vmlinux", LFS_BTF_KIND_TYPEDEF, "btf_trace_sys_exit");
			id_src = tpbtf_id > 0 ? ID_SCAN : ID_NONE;
		} else if (tpbtf_id > 0) {
			tpbtf_id = 0;            /* the raw tracepoint */
			id_src = ID_NONE;
		} else {
			btfpath[0] = 0;          /* the embedded BTF did not fit after all: use the kernel's */
		}
	}
	if (dbg && skel)
		fprintf(stderr, "lightfs: trace: syscall exit as %s\n", tpbtf_id <= 0 ? "raw_tp" :
			id_src == ID_BUILD ? "tp_btf (build-time id)" : "tp_btf (id from the kernel BTF)");
	if (btf_fd >= 0)
		close(btf_fd);
	if (have_prep)
		pthread_join(prep_th, NULL);
	have_prep = 0;
	rb = prep.rb;
	rp = prep.rp;
	rbfd = prep.rbfd;
	if (rbfd < 0) {
		lftrace_bpf__destroy(skel);
		skel = NULL;
		rc = lfs_error(c, NULL, "cannot load the BPF program: cannot create its ring buffer: %s%s",
			       strerror(prep.map_errno), geteuid() ? " (run as root, e.g. with sudo)" : "");
		goto cleanup;
	}
	if (!skel) {
		rc = lfs_error(c, NULL, "cannot open the BPF program: %s", strerror(errno));
		goto cleanup;
	}
	if (lerr) {
		rc = lfs_error(c, NULL, "cannot load the BPF program: %s%s", strerror(-lerr),
			       geteuid() ? " (run as root, e.g. with sudo)" : " (LFS_BPF_DEBUG=1 shows the verifier log)");
		goto cleanup;
	}
	if (prep.ring_err) {
		rc = lfs_error(c, NULL, "cannot set up the ring buffer: %s", strerror(-prep.ring_err));
		goto cleanup;
	}
	if (prep.file_err) {
		rc = lfs_error(c, out, "cannot create: %s", strerror(-prep.file_err));
		goto cleanup;
	}
	if (tmp_live) {
		if (rename(prep.path, out)) {
			rc = lfs_error(c, out, "cannot create: %s", strerror(errno));
			goto cleanup;
		}
		tmp_live = 0;
	} else {
		struct lfs_trace_wopts wo = { .threaded = 1, .zstd_level = 1 };
		if (lfs_trace_create(&r.w, out, &hdr, &wo, &err)) {
			rc = lfs_error_code(c, out, err.code ? err.code : -EIO, &err);
			goto cleanup;
		}
	}
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	if (geteuid() == 0 && su && sg && atoi(su) > 0)
		(void)!chown(out, (uid_t)atoi(su), (gid_t)atoi(sg));
	pidbits = mmap(NULL, PIDBITS_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(skel->maps.pidbits), 0);
	if (pidbits == MAP_FAILED) {
		pidbits = NULL;
		rc = lfs_error(c, NULL, "cannot map the traced-thread bitmap: %s", strerror(errno));
		goto cleanup;
	}
	/* per-CPU batching needs lft_flush to run on each CPU (test run with
	 * BPF_F_TEST_RUN_ON_CPU); without it (or with LFS_TRACE_NOBATCH set)
	 * every record goes to the ring */
	ncpu = libbpf_num_possible_cpus();
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = 0);
		if (ncpu <= 0 || getenv("LFS_TRACE_NOBATCH") ||
		    bpf_prog_test_run_opts(bpf_program__fd(skel->progs.lft_flush), &o)) {
			batching = 0;
			skel->bss->nobatch = 1;
		}
	}
	PHASE("ring");
	if ((lerr = lftrace_bpf__attach(skel))) {
		rc = lfs_error(c, NULL, "cannot attach the BPF program: %s", strerror(-lerr));
		goto cleanup;
	}

	/* targets */
	if (attach_pid) {
		int32_t *tree = NULL;
		size_t nt = 0, ct = 0;
		collect_tree(attach_pid, &tree, &nt, &ct);
		for (size_t i = 0; i < nt; i++)
			add_tids(skel, tree[i]);
		for (size_t i = 0; i < nt; i++)
			snapshot_proc(&r, tree[i]);
		free(tree);
	} else {
		trace_tid(skel, (uint32_t)child);
		lfs_trace_paths_set_cwd(r.paths, child, hdr.cwd);
		struct lfs_trace_event ev;
		lfs_trace_event_init(&ev);
		ev.sys = LFS_TR_CWD_SNAP;
		ev.pid = ev.tid = child;
		ev.path = hdr.cwd;
		put_event(&r, &ev);
	}

	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	sigemptyset(&sa.sa_mask);
	rec_stop = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (!attach_pid) {
		char go = 1;
		if (write(release_fd, &go, 1) != 1) {
			rc = lfs_error(c, cmdv[0], "cannot start: %s", strerror(errno));
			goto restore;
		}
		close(release_fd);
		release_fd = -1;
	}

	PHASE("attached");
	uint64_t t_end = duration > 0 ? r.mono0 + (uint64_t)(duration * 1e9) : 0;
	uint64_t last_flush = r.mono0, last_round = r.mono0, lost_seen = 0;
	int interrupted = 0;
	int pidfd = (int)syscall(SYS_pidfd_open, attach_pid ? attach_pid : child, 0);
	for (;;) {
		/* wait for ring data (forced wakeups only past a backlog) or for
		 * the target to exit (pidfd), at most 5 ms: the ring is consumed
		 * every 5 ms, so that little is left to do when the target ends
		 * (the traced command's wall time includes that tail); the CPUs'
		 * batches are flushed (an IPI to each CPU) every 20 ms */
		struct pollfd pfd[2] = { { ring_buffer__epoll_fd(rb), POLLIN, 0 }, { pidfd, POLLIN, 0 } };
		if (poll(pfd, pidfd >= 0 ? 2 : 1, 5) < 0 && errno != EINTR)
			break;
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		int round = !batching || now - last_round >= 20000000ull;
		if (round)
			last_round = now;
		if (drain(&r, rb, skel, &rp, ncpu, batching, round) < 0)
			break;
		if (r.err)
			break;
		if (!attach_pid && !have_status) {
			pid_t w = waitpid(child, &status, WNOHANG);
			if (w == child)
				have_status = 1;
		}
		if (have_status || (attach_pid && kill(attach_pid, 0) && errno == ESRCH))
			break;
		if (rec_stop) {
			interrupted = 1;
			break;
		}
		if (t_end && now >= t_end)
			break;
		if (now - last_flush > 1000000000ull) {
			/* keep a readable prefix on disk and report losses as they happen */
			struct lfs_trace_header tmp = hdr;
			read_lost(skel, &tmp);
			if (tmp.lost > lost_seen) {
				struct lfs_trace_event ev;
				lfs_trace_event_init(&ev);
				ev.sys = LFS_TR_LOST;
				ev.ts_ns = now - r.mono0;
				ev.count = tmp.lost - lost_seen;
				ev.ret = (int64_t)ev.count;
				ev.pid = ev.tid = r.root_pid;
				put_event(&r, &ev);
				lost_seen = tmp.lost;
			}
			if (!r.err)
				r.err = lfs_trace_flush(r.w, &r.lerr);
			last_flush = now;
		}
	}
	PHASE("ended");
	if (dbg) {
		/* the recorder's own CPU (all its threads; not the command's):
		 * what it takes from a core the command may need */
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		fprintf(stderr, "lightfs: trace: ring %u KiB, at most %lu KiB waiting at a drain; %llu records "
			"held for seq order; recorder CPU user %.3f s sys %.3f s, %ld involuntary context switches\n",
			(unsigned)(ring >> 10), rp.max_backlog >> 10, (unsigned long long)r.nheld_total,
			ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
			ru.ru_nivcsw);
	}
	if (stats_fd >= 0) {
		struct bpf_program *p;
		bpf_object__for_each_program(p, skel->obj) {
			struct bpf_prog_info pi;
			__u32 len = sizeof pi;
			memset(&pi, 0, sizeof pi);
			if (bpf_program__fd(p) >= 0 && !bpf_obj_get_info_by_fd(bpf_program__fd(p), &pi, &len) && pi.run_cnt)
				fprintf(stderr, "lightfs: trace: %-16s %10llu runs %7.1f ns/run\n", bpf_program__name(p),
					(unsigned long long)pi.run_cnt, (double)pi.run_time_ns / (double)pi.run_cnt);
		}
		close(stats_fd);
	}
	if (pidfd >= 0)
		close(pidfd);
	lftrace_bpf__detach(skel);
	PHASE("detached");
	/* The programs are off; the CPUs' batches still hold the last events.
	 * A program still finishing on some CPU makes a round inconclusive:
	 * retry, then write whatever is held. */
	for (int i = 0; i < 200 && !r.err; i++) {
		int d = drain(&r, rb, skel, &rp, ncpu, batching, 1);
		if (d != 0)
			break;
		usleep(1000);
	}
	held_watermark(&r, UINT64_MAX);

	read_lost(skel, &hdr);
	if (hdr.lost > lost_seen) {
		struct lfs_trace_event ev;
		lfs_trace_event_init(&ev);
		ev.sys = LFS_TR_LOST;
		ev.ts_ns = now_ns(CLOCK_MONOTONIC) - r.mono0;
		ev.count = hdr.lost - lost_seen;
		ev.ret = (int64_t)ev.count;
		ev.pid = ev.tid = r.root_pid;
		put_event(&r, &ev);
	}
	hdr.duration_ns = now_ns(CLOCK_MONOTONIC) - r.mono0;
	if (!attach_pid && !have_status && !interrupted) {
		/* -d elapsed: the command keeps running untraced; wait for it */
		if (waitpid(child, &status, 0) == child)
			have_status = 1;
	}
	hdr.exit_status = have_status ? status : -1;
	if (r.err) {
		rc = lfs_error_code(c, out, r.err, &r.lerr);
		lfs_trace_finish(r.w, &hdr, NULL);
		r.w = NULL;
		goto restore;
	}
	uint64_t nev = lfs_trace_written_events(r.w);
	if (lfs_trace_finish(r.w, &hdr, &err)) {
		r.w = NULL;
		rc = lfs_error_code(c, out, err.code, &err);
		goto restore;
	}
	r.w = NULL;
	if (!quiet) {
		struct stat st;
		uint64_t bytes = stat(out, &st) == 0 ? (uint64_t)st.st_size : 0;
		fprintf(stderr, "lightfs: trace: %llu events, %llu lost, %.2f s, %llu bytes (%.2f bytes/event) -> %s\n",
			(unsigned long long)nev, (unsigned long long)hdr.lost, hdr.duration_ns / 1e9,
			(unsigned long long)bytes, nev ? (double)(bytes - LFS_TRACE_HDR_SIZE) / (double)nev : 0.0, out);
		if (hdr.lost)
			fprintf(stderr, "lightfs: trace: warning: %llu events lost; use a larger --buffer\n",
				(unsigned long long)hdr.lost);
	}
	if (interrupted)
		rc = 130;
	else if (attach_pid)
		rc = LFS_EXIT_OK;
	else if (have_status) {
		int e = 0;
		if (errpipe >= 0 && read(errpipe, &e, sizeof e) == (ssize_t)sizeof e)
			lfs_error(c, cmdv[0], "cannot run: %s", strerror(e));
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	} else {
		rc = LFS_EXIT_OK;
	}
restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
cleanup:
	if (have_prep) {
		pthread_join(prep_th, NULL);
		rb = prep.rb;
		rp = prep.rp;
		rbfd = prep.rbfd;
	}
	if (r.w)
		lfs_trace_finish(r.w, &hdr, NULL);
	if (tmp_live)
		unlink(prep.path);       /* nothing recorded: an existing trace stays */
	ring_buffer__free(rb);
	PHASE("finished");
	lftrace_bpf__destroy(skel);
	if (handler > 0)
		libbpf_unregister_prog_handler(handler);
	PHASE("destroyed");
	lfs_trace_paths_free(r.paths);
	for (int i = 0; i < 64; i++)
		free(r.pend[i].buf);
	for (size_t i = 0; i < r.nheld; i++) {
		free(r.held[i].rec);
		free(r.held[i].data);
	}
	free(r.held);
	ringpos_unmap(&rp);
	if (rbfd >= 0)
		close(rbfd);
	if (pidbits)
		munmap(pidbits, PIDBITS_BYTES);
	pidbits = NULL;
	free(r.maps);
	if (release_fd >= 0)
		close(release_fd);       /* the stopped child reads EOF and exits */
	if (errpipe >= 0)
		close(errpipe);
	if (child > 0 && !have_status && rc != 130 && rc != LFS_EXIT_OK)
		waitpid(child, NULL, 0);
	return rc;
}
