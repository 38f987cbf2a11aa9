/*
 * bpf/lftrace.h — records shared by bpf/lftrace.bpf.c and the recorder
 * (cmd/trace_record.c).  Fixed-width types only; little-endian host layout.
 *
 * Every ring-buffer record starts with struct lft_hdr.  A syscall record is
 * struct lft_event (no path) or struct lft_event_paths (event + its paths,
 * packed; hdr.kind says which).  With --data, a write's payload precedes
 * its event as lft_data chunks of the same tid.
 */
#ifndef LFS_BPF_LFTRACE_H
#define LFS_BPF_LFTRACE_H

#define LFT_PATH_MAX   512           /* bytes per captured path (incl. NUL) */
#define LFT_DATA_CHUNK 4096          /* payload bytes per lft_data record */
#define LFT_DATA_CHUNKS_MAX 256      /* --data MAX ≤ 1 MiB per event */
#define LFT_IOV_MAX    16            /* iovecs summed for readv/writev */
#define LFT_NR_MAX     512           /* syscall numbers in the table */
#define LFT_TID_LIMIT  (1u << 22)    /* tids followed: PID_MAX_LIMIT */
#define LFT_F_MMAPABLE (1u << 10)    /* BPF_F_MMAPABLE (not in every kernel header) */

enum lft_kind {
	LFT_K_SYS = 1,       /* struct lft_event */
	LFT_K_SYS_PATH,      /* struct lft_event_paths, as long as its paths */
	LFT_K_FORK,          /* struct lft_event: a[0]=child tgid a[1]=child tid a[2]=thread */
	LFT_K_EXEC,          /* struct lft_event_path: p1=filename, p2=comm */
	LFT_K_EXIT,          /* struct lft_event: a[0]=exit_code a[1]=group dead
	                        a[2]=ended by 0 signal, 1 exit(), 2 exit_group();
	                        seq = the exit call's, seq + 1 = the task end's */
	LFT_K_DATA,          /* struct lft_data */
	LFT_K_SMALL,         /* struct lft_small (a syscall of class LFT_C_SMALL) */
	LFT_K_BATCH,         /* struct lft_batch: n struct lft_small of one CPU */
};

/* lft_small records are gathered per CPU and written to the ring LFT_BATCH
 * at a time (one reservation instead of one per event); see lftrace.bpf.c
 * for when a batch is flushed and how the recorder restores seq order. */
#define LFT_BATCH 64

/* Per syscall number (read-only array `systab`), filled by the recorder. */
enum lft_sysclass {
	LFT_C_OPEN    = 1 << 0,  /* success: stat the returned fd */
	LFT_C_DATA    = 1 << 1,  /* write payload: buf=a[1] (an iovec array with LFT_C_IOV), len=ret */
	LFT_C_IOV     = 1 << 2,  /* x[0] = sum of iov_len (a[1], a[2]) */
	LFT_C_HOW     = 1 << 3,  /* openat2: x[0..2] = struct open_how */
	LFT_C_OFFP1   = 1 << 4,  /* x[0] = *(loff_t *)a[2] (sendfile) */
	LFT_C_OFFP2   = 1 << 5,  /* x[0] = *a[1], x[1] = *a[3] (copy_file_range, splice) */
	LFT_C_CHILD0  = 1 << 6,  /* fork family: skip the child's return (ret 0) */
	LFT_C_CLONE3  = 1 << 7,  /* x[0] = clone_args.flags */
	LFT_C_MMAP    = 1 << 8,  /* only file mappings (fd a[4] >= 0, !MAP_ANONYMOUS) */
	LFT_C_EXEC    = 1 << 9,  /* successful exec reported by sched_process_exec */
	LFT_C_SMALL   = 1 << 10, /* no path, no extras, a[0] fits 32 bits and at most
	                            two more arguments matter (s1, s2): a struct
	                            lft_small record (one 64-byte ring slot) */
};

struct lft_sysinfo {
	__u16 sys;           /* enum lfs_tr_sys; 0 = not traced */
	__u8  p1, p2;        /* argument index of path 1 / 2, 0xff = none */
	__u32 cls;           /* enum lft_sysclass */
	__u8  s1, s2;        /* LFT_C_SMALL: argument index carried in x / y, 0xff = none */
	__u16 pad;
};

/* lft_event.eflags */
enum { LFT_F_STAT = 1, LFT_F_TRUNC1 = 2, LFT_F_TRUNC2 = 4, LFT_F_BAD1 = 8, LFT_F_BAD2 = 16,
       LFT_F_DATALOST = 32 };

struct lft_hdr {
	__u16 kind;          /* enum lft_kind */
	__u16 sys;           /* enum lfs_tr_sys */
	__u32 tid;
};

struct lft_event {
	struct lft_hdr h;
	__u32 pid;           /* tgid */
	__u32 eflags;        /* LFT_F_* */
	__u64 seq;           /* global sequence number */
	__u64 ts;            /* bpf_ktime_get_ns() at syscall exit */
	__s64 ret;
	__u64 a[6];          /* raw syscall arguments */
	__u64 x[3];          /* per-class extra values (see lft_sysclass) */
	__u64 size, ino;     /* LFT_F_STAT: opened file */
	__u32 dev, imode;
};

/* The common fd syscalls (read, write, pread64, lseek, close, ...): 56
 * bytes, with the ring's 8-byte record header one cache line.  a[0] is
 * a0, a[s1] is x, a[s2] is y (struct lft_sysinfo), the others were not
 * recorded; eflags is 0 (an event with flags goes as struct lft_event). */
struct lft_small {
	struct lft_hdr h;
	__u32 pid;           /* tgid */
	__u32 a0;            /* raw argument 0 (an fd) */
	__u64 seq;
	__u64 ts;
	__s64 ret;
	__u64 x, y;
};

struct lft_batch {
	struct lft_hdr h;    /* kind LFT_K_BATCH, sys 0, tid 0 */
	__u32 n;             /* events in ev */
	__u32 pad;
	struct lft_small ev[LFT_BATCH];
};

/* LFT_K_EXEC: the event, then two fixed path buffers */
struct lft_event_path {
	struct lft_event e;
	char p1[LFT_PATH_MAX];
	char p2[LFT_PATH_MAX];
};

/* LFT_K_SYS_PATH: the event, then path 1 and path 2 packed, each
 * NUL-terminated (empty when the call has none or it was unreadable); the
 * record ends after path 2.  Built in a per-CPU buffer and copied to the
 * ring at its length: a reservation of both full buffers cost ~0.3 µs more
 * per open than the copy (ring memory touched 1.1 KiB apart). */
struct lft_event_paths {
	struct lft_event e;
	char p[2 * LFT_PATH_MAX];
};

struct lft_data {
	struct lft_hdr h;
	__u32 len;           /* bytes used in d */
	__u32 off;           /* offset of this chunk in the written buffer */
	__u32 pad;
	__u8  d[LFT_DATA_CHUNK];
};

#endif
