/*
 * lib/trace/trace.h — the lightfs trace: decoded events, reader and writer.
 *
 * A trace is what `lightfs trace record` captured (eBPF) or `trace import`
 * converted (strace): a fixed 4 KiB header followed by a zstd stream of
 * compact records (delta times, varints, interned paths).  The byte layout
 * is documented in lib/trace/FORMAT.md.
 *
 * Invariants a consumer (replay, show, stat, export) can rely on:
 *  - Events come in capture order.  `seq` increases by one per event the
 *    kernel produced; a jump means events were lost, and a LFS_TR_LOST event
 *    is delivered at the gap with `count` = number lost.  header.lost is the
 *    total (also per CPU in header.lost_cpu[]).
 *  - Every field not meaningful for a syscall holds its "none" value:
 *    fd/fd2/dirfd/dirfd2 = LFS_TR_NOFD, offset/offset2 = -1, strings = NULL,
 *    data = NULL, numbers = 0.  The per-syscall field table is below.
 *  - Strings (path, path_abs, path2, path2_abs, comm) point into the reader's
 *    intern table and stay valid until lfs_trace_reader_close().  `data`
 *    is valid only until the next lfs_trace_next().
 *  - path is the argument as the program passed it; path_abs is it resolved
 *    against dirfd / the process cwd at capture time (lexically: "." and ".."
 *    collapsed, symlinks not followed).  A path the kernel could not read is
 *    NULL and sets LFS_TREV_BADPATH.
 *  - A read-side error never crashes or loops: a damaged or truncated file
 *    yields the events of its valid prefix, then lfs_trace_next() returns 0
 *    and lfs_trace_truncated() is true (or a negative LFS_E_CORRUPT).
 *
 * Per-syscall fields (ret is always the return value, negative errno on
 * failure; pid = thread-group id, tid = thread id):
 *
 *   open(path, flags, mode)            dirfd=AT_FDCWD path flags mode; ret=fd
 *   openat(dirfd, path, flags, mode)   dirfd path flags mode
 *   openat2(dirfd, path, how)          dirfd path flags=how.flags mode=how.mode
 *                                      arg=how.resolve
 *   creat(path, mode)                  dirfd=AT_FDCWD path mode
 *                                      flags=O_CREAT|O_WRONLY|O_TRUNC
 *       opens that succeed also carry LFS_TREV_STAT: size, ino, dev, ftype
 *       of the opened file at open time (size before O_TRUNC took effect is
 *       not visible; size is after open).
 *   close(fd)                          fd
 *   close_range(first, last, flags)    fd=first fd2=last flags
 *   read/write(fd, buf, count)         fd count
 *   pread64/pwrite64(fd, buf, count, off)   fd count offset
 *   readv/writev(fd, iov, iovcnt)      fd count=sum of iov_len arg=iovcnt
 *   preadv/pwritev(fd, iov, cnt, off)  fd count offset arg=iovcnt
 *   preadv2/pwritev2(.., off, flags)   fd count offset (-1 = file position)
 *                                      flags arg=iovcnt
 *   lseek(fd, offset, whence)          fd offset whence; ret=new position
 *   fsync/fdatasync(fd), syncfs(fd)    fd
 *   sync()                             -
 *   sync_file_range(fd, off, n, flags) fd offset count flags
 *   ftruncate(fd, length)              fd offset=length
 *   truncate(path, length)             dirfd=AT_FDCWD path offset=length
 *   fallocate(fd, mode, off, len)      fd mode offset count=len
 *   unlink(path)/rmdir(path)           dirfd=AT_FDCWD path
 *   unlinkat(dirfd, path, flags)       dirfd path flags
 *   mkdir(path, mode)                  dirfd=AT_FDCWD path mode
 *   mkdirat(dirfd, path, mode)         dirfd path mode
 *   rename(old, new)                   dirfd=dirfd2=AT_FDCWD path=old path2=new
 *   renameat(od, old, nd, new)         dirfd path dirfd2 path2
 *   renameat2(od, old, nd, new, fl)    dirfd path dirfd2 path2 flags
 *   link(old, new)                     as rename
 *   linkat(od, old, nd, new, flags)    dirfd path dirfd2 path2 flags
 *   symlink(target, linkpath)          path=target (path_abs=NULL: a target is
 *                                      text, not resolved) dirfd2=AT_FDCWD
 *                                      path2=linkpath
 *   symlinkat(target, nd, linkpath)    path=target dirfd2 path2
 *   dup(fd)                            fd; ret=new fd
 *   dup2/dup3(fd, newfd[, flags])      fd fd2=newfd flags
 *   fcntl(fd, cmd, arg)                fd cmd arg; flags=arg for F_SETFL;
 *                                      ret=new fd for F_DUPFD(_CLOEXEC)
 *   chdir(path)                        dirfd=AT_FDCWD path
 *   fchdir(fd)                         fd path_abs=the directory, if known
 *   sendfile(out, in, *off, count)     fd=in fd2=out offset=*off before the
 *                                      call (-1 = file position) count
 *   copy_file_range(in,*oi,out,*oo,n,fl) fd=in offset=*oi fd2=out offset2=*oo
 *   splice(in,*oi,out,*oo,n,fl)          count flags (-1 = file position)
 *   mmap(addr, len, prot, flags, fd, off)  only file mappings: fd arg=addr
 *                                      count=len mode=prot flags offset;
 *                                      ret=mapped address
 *   munmap(addr, len)                  arg=addr count=len (only ranges that
 *                                      overlap a recorded file mapping)
 *   fork/vfork/clone/clone3            flags=clone flags; ret=child pid
 *                                      (recorded in the parent only)
 *   execve(path, ...)                  dirfd=AT_FDCWD path; ret
 *   execveat(dirfd, path, .., flags)   dirfd path flags
 *   exit/exit_group(status)            exit_code=status (eBPF: its low 8 bits,
 *                                      recognised when the task ends, just
 *                                      before its PROC_EXIT)
 *
 * Pseudo-events (not syscalls):
 *   LFS_TR_PROC_FORK   a task was created (sched_process_fork): pid/tid of
 *                      the parent, child_pid/child_tid of the new task,
 *                      LFS_TREV_THREAD if it is a thread of the same process.
 *   LFS_TR_PROC_EXEC   a process image was replaced: path=path_abs=file,
 *                      comm = new task name.
 *   LFS_TR_PROC_EXIT   a task ended: exit_code = wait status (as waitpid);
 *                      LFS_TREV_GROUP when the whole process ended.
 *   LFS_TR_FD_SNAP     (-p attach) an fd that was open before the capture:
 *                      pid fd path=path_abs=target, flags=open flags,
 *                      offset=position, size ino dev ftype (LFS_TREV_STAT),
 *                      arg=mnt_id.
 *   LFS_TR_CWD_SNAP    cwd of pid when the capture started: path=path_abs.
 *   LFS_TR_LOST        events lost here: count = how many, fd = CPU or -1.
 */
#ifndef LFS_TRACE_TRACE_H
#define LFS_TRACE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define LFS_TRACE_MAGIC     "LFSTRACE"    /* 8 bytes at offset 0 */
#define LFS_TRACE_VERSION   1
#define LFS_TRACE_HDR_SIZE  4096          /* fixed header, then the zstd stream */
#define LFS_TRACE_MAX_CPUS  128           /* per-CPU lost counters kept */
#define LFS_TR_NOFD         (-1000000)    /* "no fd argument" */
#define LFS_TR_AT_FDCWD     (-100)        /* AT_FDCWD, as Linux */

/* Syscalls and pseudo-events.  Values are part of the file format: append
 * only, never renumber. */
enum lfs_tr_sys {
	LFS_TR_NONE = 0,
	LFS_TR_OPEN, LFS_TR_OPENAT, LFS_TR_OPENAT2, LFS_TR_CREAT,
	LFS_TR_CLOSE, LFS_TR_CLOSE_RANGE,
	LFS_TR_READ, LFS_TR_WRITE, LFS_TR_PREAD64, LFS_TR_PWRITE64,
	LFS_TR_READV, LFS_TR_WRITEV, LFS_TR_PREADV, LFS_TR_PWRITEV,
	LFS_TR_PREADV2, LFS_TR_PWRITEV2,
	LFS_TR_LSEEK,
	LFS_TR_FSYNC, LFS_TR_FDATASYNC, LFS_TR_SYNC_FILE_RANGE, LFS_TR_SYNC,
	LFS_TR_SYNCFS,
	LFS_TR_FTRUNCATE, LFS_TR_TRUNCATE, LFS_TR_FALLOCATE,
	LFS_TR_UNLINK, LFS_TR_UNLINKAT,
	LFS_TR_RENAME, LFS_TR_RENAMEAT, LFS_TR_RENAMEAT2,
	LFS_TR_MKDIR, LFS_TR_MKDIRAT, LFS_TR_RMDIR,
	LFS_TR_LINK, LFS_TR_LINKAT, LFS_TR_SYMLINK, LFS_TR_SYMLINKAT,
	LFS_TR_DUP, LFS_TR_DUP2, LFS_TR_DUP3, LFS_TR_FCNTL,
	LFS_TR_CHDIR, LFS_TR_FCHDIR,
	LFS_TR_SENDFILE, LFS_TR_COPY_FILE_RANGE, LFS_TR_SPLICE,
	LFS_TR_MMAP, LFS_TR_MUNMAP,
	LFS_TR_FORK, LFS_TR_VFORK, LFS_TR_CLONE, LFS_TR_CLONE3,
	LFS_TR_EXECVE, LFS_TR_EXECVEAT,
	LFS_TR_EXIT, LFS_TR_EXIT_GROUP,
	/* pseudo-events */
	LFS_TR_PROC_FORK = 100, LFS_TR_PROC_EXEC, LFS_TR_PROC_EXIT,
	LFS_TR_FD_SNAP, LFS_TR_CWD_SNAP, LFS_TR_LOST,
	LFS_TR_SYS_MAX
};

/* lfs_trace_event.eflags */
enum lfs_trev_flags {
	LFS_TREV_STAT      = 1 << 0, /* size/ino/dev/ftype are set */
	LFS_TREV_PATHTRUNC = 1 << 1, /* a path was longer than the capture limit */
	LFS_TREV_BADPATH   = 1 << 2, /* a path could not be read (ret is then
	                                usually -EFAULT) */
	LFS_TREV_DATATRUNC = 1 << 3, /* payload shorter than the bytes written
	                                (--data=MAX, or a vector write) */
	LFS_TREV_THREAD    = 1 << 4, /* PROC_FORK: new thread, same process */
	LFS_TREV_GROUP     = 1 << 5, /* PROC_EXIT: last thread, process ended */
	LFS_TREV_UNFINISHED= 1 << 6, /* import: the call never returned (ret=0) */
	LFS_TREV_NODUR     = 1 << 7, /* dur_ns unknown */
};

/* One decoded event.  See the table at the top for which fields a syscall
 * uses; everything else holds its none value (lfs_trace_event_init). */
struct lfs_trace_event {
	uint64_t seq;        /* kernel sequence number (gaps = lost events) */
	uint64_t ts_ns;      /* time since header.start_mono_ns: syscall exit
	                        for eBPF captures, entry for strace imports */
	uint64_t dur_ns;     /* time in the syscall if known, else 0 + NODUR */
	int32_t  pid;        /* process (thread group) id */
	int32_t  tid;        /* thread id */
	uint16_t sys;        /* enum lfs_tr_sys */
	uint16_t eflags;     /* enum lfs_trev_flags */
	int32_t  cmd;        /* fcntl cmd */
	int64_t  ret;        /* return value; -errno on failure */
	int32_t  fd;         /* fd argument; source fd for copies; LFS_TR_NOFD */
	int32_t  fd2;        /* second fd: newfd (dup2/3), destination of copies,
	                        last fd of close_range */
	int32_t  dirfd;      /* dirfd of path (LFS_TR_AT_FDCWD for cwd) */
	int32_t  dirfd2;     /* dirfd of path2 */
	uint64_t flags;      /* open/at/rename/dup3/clone/mmap/... flags */
	uint32_t mode;       /* create mode, fallocate mode, mmap prot */
	int32_t  whence;     /* lseek whence */
	int64_t  offset;     /* file offset / length; -1 = none or file position */
	int64_t  offset2;    /* destination offset of copies; -1 = none */
	uint64_t count;      /* bytes requested (sum of iovecs), lengths */
	uint64_t arg;        /* fcntl arg, mmap/munmap addr, iovcnt, resolve */
	const char *path;    /* first path as given */
	const char *path_abs;/* first path resolved (see invariants) */
	const char *path2;   /* second path as given (rename/link/symlink) */
	const char *path2_abs;
	/* opened file, with LFS_TREV_STAT */
	uint64_t size;       /* file size at open (after O_TRUNC) */
	uint64_t ino;        /* inode number */
	uint64_t dev;        /* device (kernel dev_t: major << 20 | minor) */
	uint32_t ftype;      /* inode mode bits (S_IFREG | 0644 ...) */
	/* processes */
	int32_t  child_pid;  /* PROC_FORK: new process id */
	int32_t  child_tid;  /* PROC_FORK: new thread id */
	int32_t  exit_code;  /* exit/exit_group status, PROC_EXIT wait status */
	const char *comm;    /* PROC_EXEC: task name after exec, else NULL */
	/* --data payload of write-type calls: the first data_len bytes the call
	 * wrote (data_len may be < ret with LFS_TREV_DATATRUNC) */
	const uint8_t *data;
	uint32_t data_len;
};

/* lfs_trace_header.flags */
enum lfs_trh_flags {
	LFS_TRH_COMPLETE = 1 << 0, /* the recorder finished cleanly */
	LFS_TRH_DATA     = 1 << 1, /* write payloads recorded (--data) */
	LFS_TRH_ATTACHED = 1 << 2, /* -p: fds opened before capture snapshotted */
	LFS_TRH_IMPORTED = 1 << 3, /* converted from strace output */
};

/* The header (4 KiB at offset 0; layout in FORMAT.md).  Counters are final
 * only when LFS_TRH_COMPLETE is set; a killed recorder leaves the values it
 * had at start (events = 0), and the reader counts what it delivers. */
struct lfs_trace_header {
	uint32_t version;        /* LFS_TRACE_VERSION */
	uint32_t flags;          /* enum lfs_trh_flags */
	uint64_t start_real_ns;  /* CLOCK_REALTIME at start (ns since epoch) */
	uint64_t start_mono_ns;  /* CLOCK_MONOTONIC at start (bpf_ktime base) */
	uint64_t duration_ns;    /* capture length */
	uint64_t events;         /* events written */
	uint64_t lost;           /* events lost, total */
	uint32_t ncpu;           /* entries used in lost_cpu[] */
	uint32_t data_max;       /* --data=MAX per event, 0 = no payloads */
	uint64_t ring_bytes;     /* ring buffer size used */
	int32_t  root_pid;       /* traced process (command or -p PID) */
	int32_t  exit_status;    /* wait status of the command, -1 unknown */
	uint64_t lost_cpu[LFS_TRACE_MAX_CPUS];
	char host[64];           /* uname nodename */
	char kernel[128];        /* uname release + version */
	char source[32];         /* "ebpf", "strace" */
	char cwd[512];           /* recorder cwd (paths of the command) */
	char cmdline[1024];      /* traced command, args separated by spaces */
};

/* ---------------------------------------------------------------- names */

/* "openat", "proc_fork", ...; "?" for unknown values. */
const char *lfs_trace_sys_name(unsigned sys);
/* Inverse of lfs_trace_sys_name (also accepts "pread" for pread64, ...);
 * returns LFS_TR_NONE if unknown. */
unsigned lfs_trace_sys_from_name(const char *name);
/* Classes used by stat, export and replay. */
int lfs_trace_sys_is_read(unsigned sys);   /* read, pread64, readv ... */
int lfs_trace_sys_is_write(unsigned sys);  /* write, pwrite64, writev ... */
int lfs_trace_sys_is_open(unsigned sys);   /* open, openat, openat2, creat */

/* Reset every field to its none value (see invariants). */
void lfs_trace_event_init(struct lfs_trace_event *ev);

/* ---------------------------------------------------------------- reader */

struct lfs_trace_reader;

/* Open a trace file.  Checks magic and version (LFS_E_BADMAGIC,
 * LFS_E_VERSION). */
int lfs_trace_open(struct lfs_trace_reader **rp, const char *path, struct lfs_err *err);
/* Same over a memory buffer (kept by the caller while the reader lives). */
int lfs_trace_open_mem(struct lfs_trace_reader **rp, const void *buf, size_t len,
		       struct lfs_err *err);
const struct lfs_trace_header *lfs_trace_header(const struct lfs_trace_reader *r);
/* Next event into *ev: 1 = an event, 0 = end of trace, < 0 error (the
 * events before it were valid).  Never returns an event twice. */
int lfs_trace_next(struct lfs_trace_reader *r, struct lfs_trace_event *ev, struct lfs_err *err);
/* After lfs_trace_next() returned 0: nonzero if the file ended before the
 * end-of-trace record (recorder killed, file cut). */
int lfs_trace_truncated(const struct lfs_trace_reader *r);
/* Events delivered so far, and lost events seen (gaps) so far. */
uint64_t lfs_trace_count(const struct lfs_trace_reader *r);
void lfs_trace_reader_close(struct lfs_trace_reader *r);

/* ---------------------------------------------------------------- writer */

struct lfs_trace_writer;

/* lfs_trace_create opts */
struct lfs_trace_wopts {
	int zstd_level;          /* 0 = default (3); negative = fast levels */
	int threaded;            /* compress in a second thread */
	uint32_t flush_every;    /* raw bytes between zstd flushes (truncation
	                            granularity); 0 = default 64 KiB */
};

/* Create (O_TRUNC) a trace at path and write the header h (version is set
 * by the writer).  opts may be NULL. */
int lfs_trace_create(struct lfs_trace_writer **wp, const char *path,
		     const struct lfs_trace_header *h, const struct lfs_trace_wopts *opts,
		     struct lfs_err *err);
/* Append one event.  Strings are copied (interned); data is copied.  seq
 * may be 0 for sources without sequence numbers (the writer then numbers
 * events itself).  Errors are sticky: later calls return the same code. */
int lfs_trace_write(struct lfs_trace_writer *w, const struct lfs_trace_event *ev,
		    struct lfs_err *err);
/* Make everything written so far durable in the file (a prefix readable
 * if the process dies right after). */
int lfs_trace_flush(struct lfs_trace_writer *w, struct lfs_err *err);
/* Write the end record, patch the header with final (flags |= COMPLETE;
 * events = number written) and close.  final may be NULL (keep the header
 * given at create).  Frees w even on error. */
int lfs_trace_finish(struct lfs_trace_writer *w, const struct lfs_trace_header *final,
		     struct lfs_err *err);
/* Bytes of the file so far (header + compressed stream), events so far. */
uint64_t lfs_trace_written_bytes(const struct lfs_trace_writer *w);
uint64_t lfs_trace_written_events(const struct lfs_trace_writer *w);

/* ---------------------------------------------------------------- paths */

/* Per-process cwd and fd → path tables that turn (dirfd, path) into an
 * absolute path, fed with the events in order (the recorder and the strace
 * importer both use it).  Threads share their process's tables; fork copies
 * them (clone with CLONE_FILES / CLONE_FS shares them). */
struct lfs_trace_paths;

int lfs_trace_paths_new(struct lfs_trace_paths **pp);
void lfs_trace_paths_free(struct lfs_trace_paths *p);
/* Set the cwd of pid (at start, or from a CWD_SNAP). */
int lfs_trace_paths_set_cwd(struct lfs_trace_paths *p, int32_t pid, const char *cwd);
/* Record that fd of pid refers to path (FD_SNAP). */
int lfs_trace_paths_set_fd(struct lfs_trace_paths *p, int32_t pid, int32_t fd, const char *path);
/* Fill ev->path_abs / path2_abs (into storage owned by p, valid until the
 * next call) from ev->path / dirfd, then update the tables with the
 * event's effect (open → fd, dup, close, chdir, fork ...).  fchdir gets
 * path_abs = the directory. */
int lfs_trace_paths_apply(struct lfs_trace_paths *p, struct lfs_trace_event *ev);
/* Path of fd in pid, or NULL. */
const char *lfs_trace_paths_fd(struct lfs_trace_paths *p, int32_t pid, int32_t fd);
/* Lexically resolve path against base into out (size n): "." and ".."
 * collapsed, "//" folded.  Returns length, or -ENAMETOOLONG. */
int lfs_trace_path_join(char *out, size_t n, const char *base, const char *path);

#endif
