/*
 * lib/vfs/lightfs.h — the public C API of the lightfs engine.
 *
 *   cmd/ (cp, cat, shell, replay)
 *     → [vfs] → pagecache → fs → txn → io → kv → image file
 *
 * Everything a front-end needs is in this one header: mount an image (or an
 * in-memory one), per-process fd tables, POSIX-like file and namespace calls,
 * and a snapshot of every layer's counters.  Calls return >= 0 on success and
 * a negative code (-errno or LFS_E_*) on failure, like the kernel's syscalls.
 *
 * Threading: a mount is used by one thread at a time (the caller's); the io
 * layer runs its own KV server thread underneath.
 */
#ifndef LFS_VFS_LIGHTFS_H
#define LFS_VFS_LIGHTFS_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct lfs_mount;
struct lfs_proc;   /* a process: fd table + cwd (replay holds many) */

/* ---------------------------------------------------------------- mkfs / mount */

struct lfs_mkfs_opts {
	uint32_t page_size;        /* 0 = 4096; power of two, 512 .. 65536 */
	int      compress;         /* LFS_KV_COMPRESS_* (kv/kv.h) */
	int      level;            /* zstd level, 0 = default */
	const char *label;         /* NULL = "" */
	int      force;            /* overwrite an existing file */
};

enum lfs_sched { LFS_SCHED_NOOP = 0, LFS_SCHED_DEADLINE = 1 };

struct lfs_mount_opts {
	int      readonly;
	int      in_memory;        /* image path ignored; nothing touches disk */
	struct lfs_mkfs_opts mkfs; /* for in_memory: geometry of the fresh fs */
	uint64_t cache_bytes;      /* page cache limit, 0 = 64 MiB */
	uint32_t readahead_max;    /* bytes, 0 = 128 KiB; 1 page disables */
	double   dirty_background_ratio; /* fraction of cache, 0 = 0.10 */
	double   dirty_ratio;      /* fraction of cache, 0 = 0.20 */
	uint64_t dirty_expire_ns;  /* age-based flush, 0 = 30 s */
	uint64_t writeback_interval_ns; /* 0 = 5 s */
	uint32_t queue_depth;      /* io request slots, 0 = 64 */
	enum lfs_sched sched;
	uint32_t txn_max_pages;    /* 0 = 310, as LightFS */
	int      no_lock;          /* tests only */
	/* What the page cache sees of writeback completion follows the order
	 * of submission, not the KV server thread's speed, so every decision
	 * and counter is the same from run to run (replay; io.h done_lag). */
	int      deterministic;
	/* Clock for age-based writeback; NULL = CLOCK_MONOTONIC.  Replay passes
	 * the trace's clock so expiry follows trace time. */
	uint64_t (*clock)(void *arg);
	void    *clock_arg;
};

int  lfs_mkfs(const char *image, const struct lfs_mkfs_opts *o, struct lfs_err *err);
int  lfs_mount(const char *image, const struct lfs_mount_opts *o,
	       struct lfs_mount **out, struct lfs_err *err);
/* Flush everything, commit, close.  Returns the first error met. */
int  lfs_umount(struct lfs_mount *m, struct lfs_err *err);

/* ---------------------------------------------------------------- processes */

struct lfs_proc *lfs_proc_new(struct lfs_mount *m);           /* cwd = / */
struct lfs_proc *lfs_proc_fork(struct lfs_proc *parent);      /* shares open files */
void lfs_proc_free(struct lfs_proc *p);                       /* closes its fds */
int  lfs_chdir(struct lfs_proc *p, const char *path);
int  lfs_fchdir(struct lfs_proc *p, int fd);
/* Absolute path of the cwd into buf. */
int  lfs_getcwd(struct lfs_proc *p, char *buf, size_t cap);

/* ---------------------------------------------------------------- files */

/* flags: O_RDONLY/O_WRONLY/O_RDWR | O_CREAT | O_EXCL | O_TRUNC | O_APPEND |
 * O_DIRECT | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, or O_TMPFILE with path a
 * directory (an unnamed file, see lfs_flink).  Returns fd >= 0. */
int     lfs_open(struct lfs_proc *p, const char *path, int flags, mode_t mode);
int     lfs_openat(struct lfs_proc *p, int dirfd, const char *path, int flags, mode_t mode);
/* Open with a caller-chosen fd number (replay reproduces the traced fds). */
int     lfs_open_fd(struct lfs_proc *p, int want_fd, const char *path, int flags, mode_t mode);
int     lfs_close(struct lfs_proc *p, int fd);
ssize_t lfs_read(struct lfs_proc *p, int fd, void *buf, size_t n);
ssize_t lfs_write(struct lfs_proc *p, int fd, const void *buf, size_t n);
ssize_t lfs_pread(struct lfs_proc *p, int fd, void *buf, size_t n, off_t off);
ssize_t lfs_pwrite(struct lfs_proc *p, int fd, const void *buf, size_t n, off_t off);
off_t   lfs_lseek(struct lfs_proc *p, int fd, off_t off, int whence); /* incl. SEEK_DATA/HOLE */
int     lfs_fsync(struct lfs_proc *p, int fd);
int     lfs_fdatasync(struct lfs_proc *p, int fd);
int     lfs_ftruncate(struct lfs_proc *p, int fd, off_t len);
int     lfs_truncate(struct lfs_proc *p, const char *path, off_t len);
int     lfs_fallocate(struct lfs_proc *p, int fd, int mode, off_t off, off_t len);
/* posix_fadvise: POSIX_FADV_DONTNEED drops the clean cached pages lying
 * wholly inside [off, off+len) (len 0: to the end of the file), after
 * starting writeback of the file's dirty pages, as Linux does (a streaming
 * reader such as `lightfs cat` then recycles its few warm frames instead
 * of cycling through the whole cache).  SEQUENTIAL lets the file's
 * readahead window grow to twice the default, NORMAL sets it back (as
 * Linux); RANDOM, NOREUSE and WILLNEED are accepted and change nothing
 * here.  Returns 0, -EBADF or -EINVAL. */
int     lfs_fadvise(struct lfs_proc *p, int fd, off_t off, off_t len, int advice);
int     lfs_dup(struct lfs_proc *p, int fd);
int     lfs_dup2(struct lfs_proc *p, int fd, int newfd);
int     lfs_fcntl_setfl(struct lfs_proc *p, int fd, int flags);  /* O_APPEND, O_DIRECT */
int     lfs_fcntl_getfl(struct lfs_proc *p, int fd);

/* ---------------------------------------------------------------- namespace */

#define LFS_RENAME_NOREPLACE 1
#define LFS_RENAME_EXCHANGE  2

int lfs_mkdir(struct lfs_proc *p, const char *path, mode_t mode);
int lfs_rmdir(struct lfs_proc *p, const char *path);
int lfs_unlink(struct lfs_proc *p, const char *path);
int lfs_rename(struct lfs_proc *p, const char *from, const char *to, unsigned flags);
int lfs_symlink(struct lfs_proc *p, const char *target, const char *linkpath);
ssize_t lfs_readlink(struct lfs_proc *p, const char *path, char *buf, size_t cap);
int lfs_link(struct lfs_proc *p, const char *from, const char *to);
/* linkat(fd, "", AT_FDCWD, to, AT_EMPTY_PATH): give an open regular file a
 * name — with lfs_open(p, DIR, O_TMPFILE | O_WRONLY, mode) this creates a
 * file that appears complete or not at all: its pages are written back and
 * committed before the name (after a crash the name is absent or names the
 * whole file; an unnamed file left by a crash is an orphan fsck frees). */
int lfs_flink(struct lfs_proc *p, int fd, const char *to);
int lfs_chmod(struct lfs_proc *p, const char *path, mode_t mode);
int lfs_chown(struct lfs_proc *p, const char *path, uid_t uid, gid_t gid); /* no follow */
/* Times in ns since the epoch; UINT64_MAX leaves one unchanged.  No follow. */
int lfs_utimens(struct lfs_proc *p, const char *path, uint64_t atime_ns, uint64_t mtime_ns);
/* The same for an open file (futimens(2)): no path walk. */
int lfs_futimens(struct lfs_proc *p, int fd, uint64_t atime_ns, uint64_t mtime_ns);

struct lfs_stat {
	uint64_t ino;
	uint32_t mode;             /* S_IFMT bits + permissions */
	uint32_t nlink;
	uint32_t uid, gid;
	uint64_t size;
	uint64_t blocks;           /* 512-byte units actually stored */
	uint64_t atime_ns, mtime_ns, ctime_ns, btime_ns;
	uint32_t blksize;          /* page size */
};
int lfs_stat(struct lfs_proc *p, const char *path, struct lfs_stat *st);
int lfs_lstat(struct lfs_proc *p, const char *path, struct lfs_stat *st);
int lfs_fstat(struct lfs_proc *p, int fd, struct lfs_stat *st);
/* What an open file is, from the open file alone: inode number, mode as at
 * open (type and permission bits) and size as the cache sees it.  No KV
 * access (lfs_fstat reads the inode and counts the stored pages for
 * st_blocks, a KV scan): for a caller's own bookkeeping (replay), which
 * must not show up in the engine's counters.  NULL outputs are skipped. */
int lfs_fd_ident(struct lfs_proc *p, int fd, uint64_t *ino, uint32_t *mode, uint64_t *size);

struct lfs_dirent {
	uint64_t ino;
	uint8_t  type;             /* DT_REG, DT_DIR, DT_LNK, ... */
	char     name[256];
};
/* Calls cb for each entry of the directory in name order ("." and ".." not
 * included); stops early when cb returns non-zero and returns that value. */
int lfs_readdir(struct lfs_proc *p, const char *path,
		int (*cb)(void *arg, const struct lfs_dirent *de), void *arg);

struct lfs_statfs {
	uint32_t page_size;
	int      compress, level;
	char     label[64];
	uint64_t inodes, files, dirs, symlinks;
	uint64_t logical_bytes;    /* sum of file sizes */
	uint64_t stored_pages;     /* data pages present */
	uint64_t image_bytes, live_bytes, dead_bytes;
	uint64_t raw_value_bytes, stored_value_bytes;
	uint64_t kv_keys;
};
int lfs_statfs(struct lfs_mount *m, struct lfs_statfs *st);

/* Write back every dirty page and commit (sync(2) for this mount). */
int lfs_sync(struct lfs_mount *m);
/*
 * Command-wide transactions: everything done through the mount between
 * lfs_atomic_begin and the matching lfs_atomic_commit is one atomic unit —
 * after a crash (kill -9, power loss) the image holds all of it or none of
 * it.  The calls in between see their own effects at once as usual.
 * lfs_atomic_commit writes back every dirty page, commits the pending
 * metadata and the group, and syncs: it is the acknowledgement point (0 =
 * durable).  Inside a group lfs_fsync / lfs_sync write the data through but
 * make nothing durable on their own (the group's commit does); O_TMPFILE +
 * lfs_flink still orders data before the name.  A failed writeback or
 * commit inside the group (ENOSPC) leaves the handle refusing writes and
 * the group uncommitted: the image keeps its state from before the begin.
 * Begin/commit nest (only the outermost commit counts); lfs_umount commits
 * an open group.  While a group holds writes the KV memtable is not
 * checkpointed (memory grows by ~64 bytes + key per changed key) and
 * compaction waits (lfs_kv_compact on the lent handle: -EBUSY).
 */
int lfs_atomic_begin(struct lfs_mount *m);
int lfs_atomic_commit(struct lfs_mount *m);
int lfs_atomic_depth(struct lfs_mount *m);   /* 0 = none open */

/* Drop clean pages from the cache (echo 1 > drop_caches); dirty and
 * writeback pages stay. */
void lfs_drop_caches(struct lfs_mount *m);

/* The KV handle underneath (fsck, kv dump, compact, info use it).  Dirty
 * pages are written back first and the io channel drained, so the handle
 * may be used directly by the calling thread until its next lightfs call
 * on this mount (the channel's server thread owns it again then). */
struct lfs_kv *lfs_mount_kv(struct lfs_mount *m);

/* ---------------------------------------------------------------- stats */

/* Log2 latency histogram in ns: bucket i counts values in [2^i, 2^(i+1)). */
#define LFS_HIST_BUCKETS 48
struct lfs_hist { uint64_t count, sum_ns, max_ns, b[LFS_HIST_BUCKETS]; };
uint64_t lfs_hist_quantile(const struct lfs_hist *h, double q); /* ns */

struct lfs_stats {
	struct {                   /* page cache */
		uint64_t lookups, hits, misses;
		uint64_t readpage;          /* synchronous single-page reads */
		uint64_t readahead_calls;   /* readahead batches issued */
		uint64_t ra_pages;          /* pages read by readahead */
		uint64_t ra_used;           /* of those, pages later hit */
		uint64_t async_ra;          /* readaheads triggered by PG_readahead */
		uint64_t pages_dirtied, pages_written, pages_evicted;
		uint64_t writepages_calls, bg_writeback, hard_writeback, expire_writeback;
		uint64_t rmw_reads;         /* write_begin read-modify-write reads */
		uint64_t pages_cached, pages_dirty, bytes_cached; /* now */
		uint64_t peak_pages_cached, peak_pages_dirty;
		uint64_t active, inactive;  /* LRU list lengths now */
	} pc;
	struct {                   /* txn (txns: those holding data pages; a
				    * namespace op's batch counts in meta_ops) */
		uint64_t txns, pages, meta_ops, max_pages, fsync_waits;
	} txn;
	struct {                   /* io (cheeze channel) */
		uint64_t requests, merges, max_depth, reads, writes;
		struct lfs_hist lat;        /* submit → completion */
	} io;
	struct {                   /* kv (copied from lfs_kv_stats) */
		uint64_t gets, puts, dels, range_dels, scans, scan_items, batches, syncs;
		uint64_t bytes_put, bytes_got, file_bytes_written, file_bytes_read;
	} kv;
	struct {                   /* vfs */
		uint64_t reads, writes, bytes_read, bytes_written, opens, fsyncs;
	} vfs;
};
void lfs_mount_stats(struct lfs_mount *m, struct lfs_stats *st);

/* ---------------------------------------------------------------- explain hook */

/* One step a call took through the layers (replay --explain, shell `cache`). */
enum lfs_ev_kind {
	LFS_EV_PC_HIT,         /* ino, index */
	LFS_EV_PC_MISS,        /* ino, index */
	LFS_EV_READPAGE,       /* ino, index */
	LFS_EV_READAHEAD,      /* ino, index = start, count = pages, flag = async */
	LFS_EV_DIRTY,          /* ino, index */
	LFS_EV_RMW,            /* ino, index: write_begin read the page first */
	LFS_EV_WRITEBACK,      /* ino, index = first, count = pages, flag = reason */
	LFS_EV_EVICT,          /* ino, index */
	LFS_EV_TXN_COMMIT,     /* count = pages, value = meta ops */
	LFS_EV_IO_SUBMIT,      /* flag = 0 read / 1 write, count = merged items */
	LFS_EV_KV_GET,         /* bytes */
	LFS_EV_KV_PUT,         /* bytes */
	LFS_EV_KV_DEL,
	LFS_EV_KV_SCAN,
};
enum lfs_wb_reason { LFS_WB_BACKGROUND = 0, LFS_WB_HARD, LFS_WB_EXPIRE, LFS_WB_FSYNC,
		     LFS_WB_EVICT, LFS_WB_UMOUNT, LFS_WB_SYNC };
struct lfs_event {
	enum lfs_ev_kind kind;
	uint64_t ino, index, count, bytes, value;
	int flag;
};
/* hook == NULL turns it off.  Called synchronously on the caller's thread. */
void lfs_set_event_hook(struct lfs_mount *m,
			void (*hook)(void *arg, const struct lfs_event *ev), void *arg);

#endif
