// SPDX-License-Identifier: GPL-2.0
/*
 * bpf/lftrace.bpf.c — file-syscall capture for `lightfs trace record`.
 *
 * Loading needs no parse of the kernel's 6 MB BTF by libbpf: the recorder
 * hands it a minimal CO-RE BTF generated at build time (bpftool gen
 * min_core_btf) when the running kernel is the one it was made from, the
 * process tracepoints are raw tracepoints, and the syscall-exit program,
 * a BTF tracepoint, gets its attach id from the recorder (lfs_tp_btf/).
 *
 * Follows a set of threads (the bitmap `pidbits`, one bit per tid, seeded
 * by the recorder with the target's tids through its mapping):
 * sched_process_fork adds every new task whose parent is traced,
 * sched_process_exit removes it.  At syscall exit a traced thread is
 * known by where its registers are (`slots`, no helper call); the bitmap
 * is asked only for threads not in a slot.  Syscalls are taken at sys_exit,
 * where x86-64 still holds the arguments in pt_regs, so one record carries
 * arguments and return value, no per-call state is kept between entry and
 * exit, and no program runs at syscall entry.  exit/exit_group, which never
 * return, are recognised at sched_process_exit (see lft_exit).
 *
 * Records go to one ring buffer.  Every syscall record takes a global
 * sequence number first; a failed reservation bumps the per-CPU `lost`
 * counter, so a gap in seq always has a count next to it.  The common fd
 * syscalls (class LFT_C_SMALL) are gathered in per-CPU batches of
 * LFT_BATCH (one ring record each); the recorder flushes the batches
 * every 20 ms and writes the events in seq order (see lft_flush).
 *
 * Cost per traced syscall here (6.18, a VM with retpolines and
 * return thunks, LFS_TRACE_DEBUG=stats on dd): ~60 ns for having the
 * tracepoint run a program at all (stats' own clock reads included),
 * ~55 ns for bpf_ktime_get_ns (a helper call, an indirect clocksource
 * read), ~15 ns for the rest of an lft_small event.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lftrace.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 data_max = 0;        /* --data=MAX, 0 = off */
const volatile __u64 wakeup_bytes = 1 << 20; /* force a wakeup past this backlog */
/* LFS_TRACE_FLOOR (benchmarks only): the syscall-exit program stops after
 * the traced-thread check and records no syscall, which measures what
 * having the tracepoint attached costs by itself (1); or (2, =clock) it
 * also reads the clock once, as every recorded event must: the floor of
 * any capture with a real time stamp per event */
const volatile __u32 floor_only = 0;

__u64 seq = 0;
__u64 clock_sink = 0;
__u32 nobatch = 0;    /* set by the recorder when it cannot run lft_flush */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} rb SEC(".maps");

/* traced threads: bit (tid & 63) of word tid >> 6 of the array `pidbits`
 * (tids < LFT_TID_LIMIT), mmapped and seeded by the recorder.  An array
 * lookup (inlined) where a hash map cost ~50 ns on every syscall of every
 * process; a map of its own, which the kernel creates zeroed, where as
 * global data (.bss) its 512 KiB were copied in at every load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, LFT_F_MMAPABLE);
	__uint(max_entries, LFT_TID_LIMIT / 64);
	__type(key, __u32);
	__type(value, __u64);
} pidbits SEC(".maps");

static __always_inline __u64 *tid_word(__u32 tid)
{
	__u32 w = tid >> 6;
	return bpf_map_lookup_elem(&pidbits, &w);
}

static __always_inline int traced(__u32 tid)
{
	__u64 *w = tid_word(tid);
	return w && ((*w >> (tid & 63)) & 1);
}

static __always_inline void trace_tid(__u32 tid, int on)
{
	__u64 *w = tid_word(tid);
	if (!w)
		return;
	if (on)
		__sync_fetch_and_or(w, 1ull << (tid & 63));
	else
		__sync_fetch_and_and(w, ~(1ull << (tid & 63)));
}

/* Traced threads by kernel stack: a thread's saved user registers (the
 * pt_regs the syscall-exit tracepoint gets) sit at the top of its own
 * kernel stack, so their address names the thread for as long as it
 * lives.  A slot, found by hashing that address, holds the address and
 * the thread's tid/tgid: a traced thread whose slot is its own is known
 * without a helper call (bpf_get_current_task_btf is a real call here,
 * ~25-45 ns with this kernel's return-thunk mitigations, on every syscall
 * of every process).  A thread gets its slot at its first traced syscall
 * exit (if free; else it keeps taking the bitmap path) and gives it back
 * at sched_process_exit, before its stack can be reused; exec, which may
 * change the tid (a thread exec'ing takes the leader's), refreshes it.
 * The bitmap `pidbits` stays what says a thread is traced. */
struct lft_slot {
	__u64 key;           /* pt_regs address, 0 = free */
	__u64 id;            /* tgid << 32 | tid */
};

#define LFT_SLOTS 4096

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LFT_SLOTS);
	__type(key, __u32);
	__type(value, struct lft_slot);
} slots SEC(".maps");

static __always_inline __u32 slot_index(__u64 key)
{
	/* stacks are THREAD_SIZE (16 KiB) apart: hash the bits above */
	return (__u32)(((key >> 14) * 0x9E3779B97F4A7C15ull) >> 52) & (LFT_SLOTS - 1);
}

/* Where p points, as a number: its distance from a fixed address (the
 * global `seq`).  The verifier allows no shift or mask of a pointer, but
 * a privileged program may subtract two pointers, which gives a scalar. */
static __always_inline __u64 ptr_bits(const void *p)
{
	__u64 d;
	asm volatile("%[d] = %[p]; %[d] -= %[b]" : [d] "=&r"(d) : [p] "r"(p), [b] "r"(&seq));
	return d;
}

/* The slot the current task holds, NULL if none (exit and exec run in
 * the task's own context). */
static __always_inline struct lft_slot *current_slot(void)
{
	__u64 key = ptr_bits((const void *)bpf_task_pt_regs(bpf_get_current_task_btf()));
	__u32 i = slot_index(key);
	struct lft_slot *s = bpf_map_lookup_elem(&slots, &i);
	return s && s->key == key ? s : NULL;
}

/* per syscall number, filled by the recorder before the load (read-only
 * data: no map update per entry at start-up, a plain load per event) */
const volatile struct lft_sysinfo systab[LFT_NR_MAX] = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

static __always_inline void count_lost(void)
{
	__u32 z = 0;
	__u64 *l = bpf_map_lookup_elem(&lost, &z);
	if (l)
		(*l)++;
}

static __always_inline void count_lost_n(__u32 n)
{
	__u32 z = 0;
	__u64 *l = bpf_map_lookup_elem(&lost, &z);
	if (l)
		*l += n;
}

/* Per-CPU batch of lft_small records.  `busy` is set while a program of
 * ours runs on this CPU between taking a sequence number and having its
 * record in the batch or committed in the ring; lft_flush, which the
 * recorder runs on every CPU (BPF_PROG_TEST_RUN, an IPI) every 20 ms,
 * leaves the batch alone then and says so.  A round in which no CPU was
 * busy therefore proves that every seq taken before it is in the ring (or
 * counted lost) — the recorder's watermark for reordering by seq. */
struct lft_cpu {
	__u32 busy;
	__u32 pad;
	struct lft_batch b;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lft_cpu);
} cpub SEC(".maps");

/* where a syscall record with paths is built (struct lft_event_paths) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lft_event_paths);
} pathbuf SEC(".maps");

/* Enter the busy section of this CPU; NULL when already inside one (a
 * program nested in another, or an unexpected preemption): then the caller
 * writes straight to the ring and the flush round sees `busy`. */
static __always_inline struct lft_cpu *cpu_enter(void)
{
	__u32 z = 0;
	if (nobatch)
		return NULL;
	struct lft_cpu *c = bpf_map_lookup_elem(&cpub, &z);
	if (!c || c->busy)
		return NULL;
	c->busy = 1;
	asm volatile("" ::: "memory");
	return c;
}

static __always_inline void cpu_leave(struct lft_cpu *c)
{
	if (!c)
		return;
	asm volatile("" ::: "memory");
	c->busy = 0;
}

/* Records are submitted without waking the recorder (it consumes every
 * 5 ms) unless the backlog passed wakeup_bytes (ring / 8). */
static __always_inline __u64 wake_flags(void)
{
	return bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
		BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* write this CPU's batch to the ring (its events are lost if it is full).
 * A global function: the verifier checks it once, not at each of its
 * call sites (shorter load, i.e. start-up). */
__noinline int batch_flush(struct lft_cpu *c)
{
	if (!c)
		return 0;
	__u32 n = c->b.n;
	if (n == 0)
		return 0;
	if (n > LFT_BATCH)
		n = LFT_BATCH;
	c->b.h.kind = LFT_K_BATCH;
	c->b.h.sys = 0;
	c->b.h.tid = 0;
	c->b.n = n;
	c->b.pad = 0;
	__u64 sz = __builtin_offsetof(struct lft_batch, ev) + (__u64)n * sizeof(struct lft_small);
	if (bpf_ringbuf_output(&rb, &c->b, sz, wake_flags()))
		count_lost_n(n);
	c->b.n = 0;
	return 0;
}

/* Run by the recorder on each CPU: 0 = flushed (or empty), 1 = busy. */
SEC("raw_tp")
int lft_flush(void *ctx)
{
	__u32 z = 0;
	struct lft_cpu *c = bpf_map_lookup_elem(&cpub, &z);
	(void)ctx;
	if (!c)
		return 0;
	if (c->busy)
		return 1;
	batch_flush(c);
	return 0;
}


static __always_inline void fill_hdr(struct lft_event *e, __u16 kind, __u16 sys, __u64 id)
{
	e->h.kind = kind;
	e->h.sys = sys;
	e->h.tid = (__u32)id;
	e->pid = id >> 32;
	e->eflags = 0;
	e->ts = bpf_ktime_get_ns();
	e->ret = 0;
}

/* ------------------------------------------------------------ processes */

SEC("raw_tp/sched_process_fork")
int BPF_PROG(lft_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptid = BPF_CORE_READ(parent, pid);
	if (!traced(ptid))
		return 0;
	__u32 ctid = BPF_CORE_READ(child, pid), ctgid = BPF_CORE_READ(child, tgid);
	trace_tid(ctid, 1);
	struct lft_cpu *c = cpu_enter();
	if (c)
		batch_flush(c);         /* this CPU's earlier events go first */
	__u64 s = __sync_fetch_and_add(&seq, 1);
	struct lft_event *e = bpf_ringbuf_reserve(&rb, sizeof *e, 0);
	if (!e) {
		count_lost();
		cpu_leave(c);
		return 0;
	}
	fill_hdr(e, LFT_K_FORK, 0, (__u64)BPF_CORE_READ(parent, tgid) << 32 | ptid);
	e->seq = s;
	e->a[0] = ctgid;
	e->a[1] = ctid;
	e->a[2] = ctgid == BPF_CORE_READ(parent, tgid);
	bpf_ringbuf_submit(e, wake_flags());
	cpu_leave(c);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(lft_exit, struct task_struct *p)
{
	__u32 tid = BPF_CORE_READ(p, pid);
	struct lft_slot *sl = current_slot();
	if (sl) {                        /* give it back before the stack can be reused */
		sl->id = 0;
		sl->key = 0;
	}
	if (!traced(tid))
		return 0;
	trace_tid(tid, 0);
	/* Which exit call ended the task, if any: a fatal signal leaves its
	 * number in the low 7 bits; exit_group sets SIGNAL_GROUP_EXIT (4) and
	 * sends SIGKILL to the other threads, so the caller is the one
	 * without a pending SIGKILL.  (Taking exit/exit_group at sys_enter
	 * would run a program on every syscall entry.)  Two sequence numbers:
	 * the exit call, then the task's end. */
	__u32 code = BPF_CORE_READ(p, exit_code);
	__u32 sflags = BPF_CORE_READ(p, signal, flags);
	__u64 pend = BPF_CORE_READ(p, pending.signal.sig[0]);
	__u64 how = 0;
	if (!(code & 0x7f))
		how = (sflags & 4) && !(pend & (1ull << (9 - 1))) ? 2 : ((sflags & 4) ? 0 : 1);
	struct lft_cpu *c = cpu_enter();
	if (c)
		batch_flush(c);         /* this CPU's earlier events go first */
	__u64 s = __sync_fetch_and_add(&seq, 2);
	struct lft_event *e = bpf_ringbuf_reserve(&rb, sizeof *e, 0);
	if (!e) {
		count_lost_n(2);
		cpu_leave(c);
		return 0;
	}
	fill_hdr(e, LFT_K_EXIT, 0, (__u64)BPF_CORE_READ(p, tgid) << 32 | tid);
	e->seq = s;
	e->a[0] = code;
	e->a[1] = BPF_CORE_READ(p, signal, live.counter) == 0;
	e->a[2] = how;                   /* 0 signal/killed, 1 exit(), 2 exit_group() */
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	cpu_leave(c);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(lft_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tid = BPF_CORE_READ(p, pid);
	struct lft_slot *sl = current_slot();
	if (!traced(tid)) {
		/* a thread that exec'd took its leader's tid, whose exit
		 * cleared it: still the traced thread its slot says */
		if (!sl)
			return 0;
		trace_tid(tid, 1);
	}
	if (sl)
		sl->id = (__u64)BPF_CORE_READ(p, tgid) << 32 | tid;
	struct lft_cpu *c = cpu_enter();
	if (c)
		batch_flush(c);         /* this CPU's earlier events go first */
	__u64 s = __sync_fetch_and_add(&seq, 1);
	struct lft_event_path *e = bpf_ringbuf_reserve(&rb, sizeof *e, 0);
	if (!e) {
		count_lost();
		cpu_leave(c);
		return 0;
	}
	fill_hdr(&e->e, LFT_K_EXEC, 0, (__u64)BPF_CORE_READ(p, tgid) << 32 | tid);
	e->e.seq = s;
	e->e.a[0] = (__u32)old_pid;
	const char *fn = BPF_CORE_READ(bprm, filename);
	if (bpf_probe_read_kernel_str(e->p1, sizeof e->p1, fn) < 0)
		e->p1[0] = 0;
	bpf_probe_read_kernel_str(e->p2, 16, __builtin_preserve_access_index(&p->comm));
	bpf_ringbuf_submit(e, wake_flags());
	cpu_leave(c);
	return 0;
}

/* ------------------------------------------------------------ syscalls */

/* The opened file behind fd of the current task.  stat_fd and iov_sum
 * are global functions: the verifier checks each once instead of on every
 * path that reaches it (the load, i.e. `trace record`'s start-up, is
 * mostly verification). */
struct lft_stat {
	__u64 size, ino;
	__u32 dev, imode;
};

__noinline int stat_fd(long fd, struct lft_stat *st)
{
	if (!st)
		return 0;
	/* (probe reads: direct BTF loads would save ~0.1 µs per open but
	 * cost ~1 ms of verification, the kernel looking each one's type up
	 * by name in its whole BTF) */
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct file **fds = BPF_CORE_READ(t, files, fdt, fd);
	struct file *f = NULL;
	if (bpf_probe_read_kernel(&f, sizeof f, &fds[fd]) || !f)
		return 0;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	if (!ino)
		return 0;
	/* i_mode, i_sb, i_ino and i_size lie within the inode's first 128
	 * bytes: one probe read for the four (offsets relocated at load) */
	__u64 ib[16];
	__u32 o_mode = bpf_core_field_offset(struct inode, i_mode);
	__u32 o_sb = bpf_core_field_offset(struct inode, i_sb);
	__u32 o_ino = bpf_core_field_offset(struct inode, i_ino);
	__u32 o_size = bpf_core_field_offset(struct inode, i_size);
	if (o_mode % 2 == 0 && o_mode + 2 <= sizeof ib && o_sb % 8 == 0 && o_sb + 8 <= sizeof ib &&
	    o_ino % 8 == 0 && o_ino + 8 <= sizeof ib && o_size % 8 == 0 && o_size + 8 <= sizeof ib) {
		if (bpf_probe_read_kernel(ib, sizeof ib, ino))
			return 0;
		st->imode = *(__u16 *)((char *)ib + o_mode);
		st->ino = ib[o_ino / 8];
		st->size = ib[o_size / 8];
		struct super_block *sb = (struct super_block *)ib[o_sb / 8];
		st->dev = BPF_CORE_READ(sb, s_dev);
		return 1;
	}
	st->ino = BPF_CORE_READ(ino, i_ino);
	st->size = BPF_CORE_READ(ino, i_size);
	st->dev = BPF_CORE_READ(ino, i_sb, s_dev);
	st->imode = BPF_CORE_READ(ino, i_mode);
	return 1;
}

/* sum of iov_len over the first cnt (at most LFT_IOV_MAX) entries of the
 * user iovec array at u */
__noinline __u64 iov_sum(__u64 u, __u64 cnt)
{
	struct iovec iv;
	__u64 sum = 0;
	for (int i = 0; i < LFT_IOV_MAX; i++) {
		if (i >= cnt)
			break;
		if (bpf_probe_read_user(&iv, sizeof iv, (const struct iovec *)u + i))
			break;
		sum += iv.iov_len;
	}
	return sum;
}

/* One user path string at u into dst (LFT_PATH_MAX bytes): its length with
 * the NUL; an unreadable one is empty (flag bad), a longer one cut (flag
 * trunc), each noted in *fl. */
static __always_inline long read_path(char *dst, __u64 u, __u32 bad, __u32 trunc, __u32 *fl)
{
	long n = bpf_probe_read_user_str(dst, LFT_PATH_MAX, (void *)u);
	if (n <= 0) {
		*fl |= bad;
		dst[0] = 0;
		return 1;
	}
	if (n >= LFT_PATH_MAX) {
		*fl |= trunc;
		return LFT_PATH_MAX;
	}
	return n;
}

/* Path 1 (user string at u1, if has & 1) and path 2 (u2, has & 2) into
 * ep->p, packed, each NUL-terminated (empty if absent or unreadable).
 * Returns their length with the NULs | LFT_F_* flags << 16; 0 if ep is
 * NULL.  Global, so verified once. */
__noinline __u32 read_paths(struct lft_event_paths *ep, __u64 u1, __u64 u2, __u32 has)
{
	if (!ep)
		return 0;
	__u32 fl = 0;
	long n1 = 1, n2 = 1;
	ep->p[0] = 0;
	if (has & 1)
		n1 = read_path(ep->p, u1, LFT_F_BAD1, LFT_F_TRUNC1, &fl);
	if (n1 < 1 || n1 > LFT_PATH_MAX)
		return 0;
	char *q2 = ep->p + n1;
	*q2 = 0;
	if (has & 2)
		n2 = read_path(q2, u2, LFT_F_BAD2, LFT_F_TRUNC2, &fl);
	if (n2 < 1 || n2 > LFT_PATH_MAX)
		return 0;
	return (__u32)(n1 + n2) | fl << 16;
}

static __always_inline void extras(struct lft_event *e, const volatile struct lft_sysinfo *si)
{
	__u32 cls = si->cls;
	if (cls & LFT_C_HOW) {
		bpf_probe_read_user(e->x, 3 * sizeof(__u64), (void *)e->a[2]);
	} else if (cls & LFT_C_OFFP1) {
		if (e->a[2])
			bpf_probe_read_user(&e->x[0], 8, (void *)e->a[2]);
	} else if (cls & LFT_C_OFFP2) {
		if (e->a[1])
			bpf_probe_read_user(&e->x[0], 8, (void *)e->a[1]);
		if (e->a[3])
			bpf_probe_read_user(&e->x[1], 8, (void *)e->a[3]);
	} else if (cls & LFT_C_CLONE3) {
		bpf_probe_read_user(&e->x[0], 8, (void *)e->a[0]);
	} else if (cls & LFT_C_IOV) {
		e->x[0] = iov_sum(e->a[1], e->a[2]);
	}
	if ((cls & LFT_C_OPEN) && e->ret >= 0) {
		struct lft_stat st = {};
		if (stat_fd(e->ret, &st)) {
			e->size = st.size;
			e->ino = st.ino;
			e->dev = st.dev;
			e->imode = st.imode;
			e->eflags |= LFT_F_STAT;
		}
	}
}

/* --data: copy up to data_max bytes of what was written, in chunks ahead of
 * the event, by a bpf_loop callback (one chunk per call; the verifier checks
 * the callback once instead of every iteration of an open-coded loop).  The
 * bytes are one buffer (write, pwrite64) or an iovec array walked in order
 * (writev, pwritev, pwritev2); a chunk never spans two iovecs, so chunks
 * may be short.  `off` is the offset in the written stream and the recorder
 * appends the chunks in order. */
struct iov_walk {
	__u64 id, iov, cnt, len;      /* iovec array, entries, bytes to copy */
	__u64 off;                    /* copied so far */
	__u64 base, left;             /* current iovec: next byte, bytes left */
	__u64 vi;                     /* next iovec to load */
	__u32 sys;
	__u32 lost;
};

/* The walk's state lives in a per-CPU map, not on the stack: values loaded
 * from a map are unknown to the verifier, so every call of the callback
 * looks the same and its check converges after one pass (kernels >= 6.7
 * simulate bpf_loop callbacks iteration by iteration otherwise). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct iov_walk);
} walkst SEC(".maps");

static long data_chunk(__u32 i, void *ctx)
{
	__u32 k = 0;
	struct iov_walk *w = bpf_map_lookup_elem(&walkst, &k);
	(void)i;
	(void)ctx;
	if (!w || w->off >= w->len)
		return 1;
	if (w->left == 0) {           /* load the next iovec */
		struct iovec iv;
		if (w->vi >= w->cnt || w->vi >= LFT_IOV_MAX ||
		    bpf_probe_read_user(&iv, sizeof iv, (const struct iovec *)w->iov + w->vi))
			return 1;
		w->vi++;
		w->base = (__u64)iv.iov_base;
		w->left = iv.iov_len;
		if (w->left == 0)
			return 0;      /* skip an empty iovec on the next call */
	}
	__u64 n = w->len - w->off;
	if (n > w->left)
		n = w->left;
	if (n > LFT_DATA_CHUNK)
		n = LFT_DATA_CHUNK;
	struct lft_data *d = bpf_ringbuf_reserve(&rb, sizeof *d, 0);
	if (!d) {
		w->lost = 1;
		return 1;
	}
	d->h.kind = LFT_K_DATA;
	d->h.sys = (__u16)w->sys;
	d->h.tid = (__u32)w->id;
	d->off = (__u32)w->off;
	d->pad = 0;
	if (bpf_probe_read_user(d->d, n, (const void *)w->base))
		n = 0;
	d->len = (__u32)n;
	bpf_ringbuf_submit(d, wake_flags());
	if (n == 0)
		return 1;
	w->off += n;
	w->base += n;
	w->left -= n;
	return 0;
}

static __always_inline int emit_data(__u64 id, __u32 sys, __u64 buf, __u64 len, int iov, __u64 cnt)
{
	__u32 k = 0;
	struct iov_walk *w = bpf_map_lookup_elem(&walkst, &k);
	if (!w)
		return 1;
	w->id = id;
	w->sys = sys;
	w->len = len > data_max ? data_max : len;
	w->off = 0;
	w->vi = 0;
	w->lost = 0;
	if (iov) {
		w->iov = buf;
		w->cnt = cnt;
		w->base = w->left = 0;
	} else {
		w->iov = w->cnt = 0;
		w->base = buf;
		w->left = w->len;
	}
	/* every chunk but those ending an iovec is full, and an empty iovec
	 * takes a call: LFT_DATA_CHUNKS_MAX + 2 * LFT_IOV_MAX calls always
	 * cover data_max */
	bpf_loop(LFT_DATA_CHUNKS_MAX + 2 * LFT_IOV_MAX, data_chunk, NULL, 0);
	return w->lost;
}

/* syscall argument i (x86-64 syscall ABI) */
static __always_inline __u64 sys_arg(const struct pt_regs *r, __u32 i)
{
	switch (i) {
	case 0: return r->di;
	case 1: return r->si;
	case 2: return r->dx;
	case 3: return r->r10;
	case 4: return r->r8;
	case 5: return r->r9;
	}
	return 0;
}

/* A syscall record other than lft_small, built in this CPU's `pathbuf`
 * (its header, ret and arguments set by the caller): the --data payload
 * chunks first, then the sequence number, time, extras and paths, then
 * the record at its length to the ring.  A global function: the verifier
 * checks it once, apart from the syscall-exit program's own paths (the
 * load, i.e. the start-up, is mostly verification). */
__noinline int full_record(struct lft_event_paths *ep, __u32 nr)
{
	if (!ep || nr >= LFT_NR_MAX)
		return 0;
	const volatile struct lft_sysinfo *si = &systab[nr];
	struct lft_event *e = &ep->e;
	__u32 cls = si->cls;
	__u64 id = (__u64)e->pid << 32 | e->h.tid;
	int datalost = 0;
	if (data_max && (cls & LFT_C_DATA) && e->ret > 0)
		datalost = emit_data(id, si->sys, e->a[1], e->ret, !!(cls & LFT_C_IOV), e->a[2]);
	__u8 p1 = si->p1, p2 = si->p2;
	if ((cls & LFT_C_EXEC) && e->ret == 0)
		p1 = p2 = 0xff;               /* old image gone: sched_process_exec has the path */
	e->seq = __sync_fetch_and_add(&seq, 1);
	e->ts = bpf_ktime_get_ns();
	e->h.kind = p1 < 6 || p2 < 6 ? LFT_K_SYS_PATH : LFT_K_SYS;
	e->eflags = datalost ? LFT_F_DATALOST : 0;
	e->x[0] = e->x[1] = e->x[2] = 0;
	e->size = e->ino = 0;
	e->dev = e->imode = 0;
	extras(e, si);
	__u64 len = sizeof(struct lft_event);
	if (p1 < 6 || p2 < 6) {
		/* the paths, packed after the event */
		__u32 rp = read_paths(ep, p1 < 6 ? e->a[p1 & 7] : 0, p2 < 6 ? e->a[p2 & 7] : 0,
				      (p1 < 6) | (p2 < 6) << 1);
		e->eflags |= rp >> 16;
		len += rp & 0xffff;
		if ((rp & 0xffff) < 2 || len > sizeof *ep) {
			count_lost();
			return 0;
		}
	}
	if (bpf_ringbuf_output(&rb, ep, len, wake_flags()))
		count_lost();
	return 0;
}

/* One syscall event, inside the CPU's busy section (c NULL: nested, no
 * batching).  lft_small events go to the CPU's batch; any other record
 * first flushes it, so per CPU the ring stays in seq order. */
static __always_inline void sys_record(struct lft_cpu *c, struct pt_regs *r, const volatile struct lft_sysinfo *si,
				       __u32 nr, __u64 id, long ret)
{
	__u32 cls = si->cls;
	if ((cls & LFT_C_SMALL) && !(data_max && (cls & LFT_C_DATA))) {
		struct lft_small *m;
		__u32 n = 0;
		if (c) {
			n = c->b.n;
			if (n >= LFT_BATCH) {
				batch_flush(c);
				n = 0;
			}
			m = &c->b.ev[n & (LFT_BATCH - 1)];
		} else {
			m = bpf_ringbuf_reserve(&rb, sizeof *m, 0);
			if (!m) {
				__sync_fetch_and_add(&seq, 1);
				count_lost();
				return;
			}
		}
		m->h.kind = LFT_K_SMALL;
		m->h.sys = si->sys;
		m->h.tid = (__u32)id;
		m->pid = id >> 32;
		m->a0 = (__u32)r->di;
		m->seq = __sync_fetch_and_add(&seq, 1);
		m->ts = bpf_ktime_get_ns();
		m->ret = ret;
		m->x = sys_arg(r, si->s1);
		m->y = sys_arg(r, si->s2);
		if (!c) {
			bpf_ringbuf_submit(m, BPF_RB_NO_WAKEUP);
			return;
		}
		c->b.n = n + 1;
		if (n + 1 >= LFT_BATCH)
			batch_flush(c);
		return;
	}
	if (c)
		batch_flush(c);
	__u32 z = 0;
	struct lft_event_paths *ep = bpf_map_lookup_elem(&pathbuf, &z);
	if (!ep) {
		__sync_fetch_and_add(&seq, 1);
		count_lost();
		return;
	}
	struct lft_event *e = &ep->e;
	e->h.kind = LFT_K_SYS;
	e->h.sys = si->sys;
	e->h.tid = (__u32)id;
	e->pid = id >> 32;
	e->ret = ret;
	e->a[0] = r->di;
	e->a[1] = r->si;
	e->a[2] = r->dx;
	e->a[3] = r->r10;
	e->a[4] = r->r8;
	e->a[5] = r->r9;
	full_record(ep, nr);
}

/* Everything after the registers: which syscall, then its record. */
static __always_inline int sys_exit_common(struct pt_regs *r, long ret, __u64 id)
{
	__u32 nr = (__u32)r->orig_ax;
	if (nr >= LFT_NR_MAX)
		return 0;
	const volatile struct lft_sysinfo *si = &systab[nr];
	if (!si->sys)
		return 0;
	__u32 cls = si->cls;
	if ((cls & LFT_C_CHILD0) && ret == 0)
		return 0;                     /* the child's side of fork */
	if ((cls & LFT_C_MMAP) && (((long)r->r8 < 0) || (r->r10 & 0x20 /* MAP_ANONYMOUS */)))
		return 0;                     /* only file mappings */

	struct lft_cpu *c = cpu_enter();
	sys_record(c, r, si, nr, id, ret);
	cpu_leave(c);
	return 0;
}

/* The syscall exit, as a BTF tracepoint: the registers are a typed
 * pointer, loaded directly.  The section is the recorder's own
 * (lfs_tp_btf/): it loads this program as tp_btf with the attach BTF id
 * found by a quick scan of the kernel's BTF, which spares the ~50 ms parse
 * libbpf would do for a "tp_btf/" section (see cmd/trace_btf.c). */
SEC("lfs_tp_btf/sys_exit")
int BPF_PROG(lft_sys_exit_btf, struct pt_regs *regs, long ret)
{
	__u64 key = ptr_bits(regs);
	__u32 i = slot_index(key);
	struct lft_slot *s = bpf_map_lookup_elem(&slots, &i);
	if (!s)
		return 0;
	__u64 id = s->id;
	if (s->key != key) {
		/* not (yet) in a slot: the task's tid in the bitmap */
		struct task_struct *t = bpf_get_current_task_btf();
		__u32 tid = t->pid;
		if (!traced(tid))
			return 0;
		id = (__u64)(__u32)t->tgid << 32 | tid;
		if (__sync_val_compare_and_swap(&s->key, 0, key) == 0)
			s->id = id;
	}
	if (floor_only) {
		if (floor_only == 2)
			clock_sink = bpf_ktime_get_ns();
		return 0;
	}
	return sys_exit_common(regs, ret, id);
}

/* The same as a raw tracepoint (the fallback when the above cannot be
 * loaded): the raw_tp argument is an untyped scalar, so the registers come
 * through bpf_task_pt_regs (task_pt_regs(current) is where the syscall
 * entry saved them; direct loads, cheaper than bpf_probe_read_kernel). */
SEC("raw_tp/sys_exit")
int BPF_PROG(lft_sys_exit, struct pt_regs *regs_raw, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (!traced((__u32)id) || floor_only)
		return 0;
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	(void)regs_raw;
	if (!r)
		return 0;
	return sys_exit_common(r, ret, id);
}
