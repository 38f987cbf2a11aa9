/*
 * bpf/compat/vmlinux.h — minimal CO-RE kernel types for the bpf/ programs, used by
 * mk/bpf.mk when the build machine has no /sys/kernel/btf/vmlinux to dump.
 * Only the fields the programs read are declared; preserve_access_index
 * makes libbpf relocate every access against the running kernel's BTF, so
 * the layouts here need not match any kernel.
 */
#ifndef LFS_BPF_COMPAT_VMLINUX_H
#define LFS_BPF_COMPAT_VMLINUX_H

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef int pid_t;
typedef _Bool bool;
typedef long long loff_t;
typedef unsigned int dev_t;
typedef unsigned short umode_t;
typedef unsigned long size_t;

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

enum {
	BPF_RB_NO_WAKEUP = 1,
	BPF_RB_FORCE_WAKEUP = 2,
};

enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
	BPF_RB_CONS_POS = 2,
	BPF_RB_PROD_POS = 3,
};

#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)

struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax;
	unsigned long ip, cs, flags, sp, ss;
};

typedef struct { int counter; } atomic_t;
typedef struct { unsigned long sig[1]; } sigset_t;

struct sigpending {
	sigset_t signal;
};

struct signal_struct {
	atomic_t live;
	unsigned int flags;
};

struct super_block {
	dev_t s_dev;
};

struct inode {
	umode_t i_mode;
	unsigned long i_ino;
	loff_t i_size;
	struct super_block *i_sb;
};

struct file {
	struct inode *f_inode;
};

struct fdtable {
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct task_struct {
	pid_t pid;
	pid_t tgid;
	int exit_code;
	char comm[16];
	struct files_struct *files;
	struct signal_struct *signal;
	struct sigpending pending;
};

struct linux_binprm {
	const char *filename;
};

struct iovec {
	void *iov_base;
	size_t iov_len;
};

#pragma clang attribute pop

#endif
