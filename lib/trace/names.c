/*
 * lib/trace/names.c — syscall names and classes of enum lfs_tr_sys.
 */
#include "trace/trace.h"

#include <string.h>

static const char *const sys_names[LFS_TR_SYS_MAX] = {
	[LFS_TR_NONE] = "none",
	[LFS_TR_OPEN] = "open", [LFS_TR_OPENAT] = "openat", [LFS_TR_OPENAT2] = "openat2",
	[LFS_TR_CREAT] = "creat", [LFS_TR_CLOSE] = "close", [LFS_TR_CLOSE_RANGE] = "close_range",
	[LFS_TR_READ] = "read", [LFS_TR_WRITE] = "write", [LFS_TR_PREAD64] = "pread64",
	[LFS_TR_PWRITE64] = "pwrite64", [LFS_TR_READV] = "readv", [LFS_TR_WRITEV] = "writev",
	[LFS_TR_PREADV] = "preadv", [LFS_TR_PWRITEV] = "pwritev", [LFS_TR_PREADV2] = "preadv2",
	[LFS_TR_PWRITEV2] = "pwritev2", [LFS_TR_LSEEK] = "lseek", [LFS_TR_FSYNC] = "fsync",
	[LFS_TR_FDATASYNC] = "fdatasync", [LFS_TR_SYNC_FILE_RANGE] = "sync_file_range",
	[LFS_TR_SYNC] = "sync", [LFS_TR_SYNCFS] = "syncfs", [LFS_TR_FTRUNCATE] = "ftruncate",
	[LFS_TR_TRUNCATE] = "truncate", [LFS_TR_FALLOCATE] = "fallocate",
	[LFS_TR_UNLINK] = "unlink", [LFS_TR_UNLINKAT] = "unlinkat", [LFS_TR_RENAME] = "rename",
	[LFS_TR_RENAMEAT] = "renameat", [LFS_TR_RENAMEAT2] = "renameat2",
	[LFS_TR_MKDIR] = "mkdir", [LFS_TR_MKDIRAT] = "mkdirat", [LFS_TR_RMDIR] = "rmdir",
	[LFS_TR_LINK] = "link", [LFS_TR_LINKAT] = "linkat", [LFS_TR_SYMLINK] = "symlink",
	[LFS_TR_SYMLINKAT] = "symlinkat", [LFS_TR_DUP] = "dup", [LFS_TR_DUP2] = "dup2",
	[LFS_TR_DUP3] = "dup3", [LFS_TR_FCNTL] = "fcntl", [LFS_TR_CHDIR] = "chdir",
	[LFS_TR_FCHDIR] = "fchdir", [LFS_TR_SENDFILE] = "sendfile",
	[LFS_TR_COPY_FILE_RANGE] = "copy_file_range", [LFS_TR_SPLICE] = "splice",
	[LFS_TR_MMAP] = "mmap", [LFS_TR_MUNMAP] = "munmap", [LFS_TR_FORK] = "fork",
	[LFS_TR_VFORK] = "vfork", [LFS_TR_CLONE] = "clone", [LFS_TR_CLONE3] = "clone3",
	[LFS_TR_EXECVE] = "execve", [LFS_TR_EXECVEAT] = "execveat", [LFS_TR_EXIT] = "exit",
	[LFS_TR_EXIT_GROUP] = "exit_group",
	[LFS_TR_PROC_FORK] = "proc_fork", [LFS_TR_PROC_EXEC] = "proc_exec",
	[LFS_TR_PROC_EXIT] = "proc_exit", [LFS_TR_FD_SNAP] = "fd_snap",
	[LFS_TR_CWD_SNAP] = "cwd_snap", [LFS_TR_LOST] = "lost",
};

const char *lfs_trace_sys_name(unsigned sys)
{
	if (sys < LFS_TR_SYS_MAX && sys_names[sys])
		return sys_names[sys];
	return "?";
}

unsigned lfs_trace_sys_from_name(const char *name)
{
	static const struct { const char *alias; unsigned sys; } aliases[] = {
		{ "pread", LFS_TR_PREAD64 }, { "pwrite", LFS_TR_PWRITE64 },
		{ "_llseek", LFS_TR_LSEEK }, { "llseek", LFS_TR_LSEEK },
		{ "mmap2", LFS_TR_MMAP }, { "fcntl64", LFS_TR_FCNTL },
		{ "sendfile64", LFS_TR_SENDFILE }, { "ftruncate64", LFS_TR_FTRUNCATE },
		{ "truncate64", LFS_TR_TRUNCATE }, { "_exit", LFS_TR_EXIT },
	};
	if (!name)
		return LFS_TR_NONE;
	for (unsigned i = 1; i < LFS_TR_SYS_MAX; i++)
		if (sys_names[i] && !strcmp(sys_names[i], name))
			return i;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (!strcmp(aliases[i].alias, name))
			return aliases[i].sys;
	return LFS_TR_NONE;
}

int lfs_trace_sys_is_read(unsigned sys)
{
	switch (sys) {
	case LFS_TR_READ: case LFS_TR_PREAD64: case LFS_TR_READV: case LFS_TR_PREADV:
	case LFS_TR_PREADV2:
		return 1;
	}
	return 0;
}

int lfs_trace_sys_is_write(unsigned sys)
{
	switch (sys) {
	case LFS_TR_WRITE: case LFS_TR_PWRITE64: case LFS_TR_WRITEV: case LFS_TR_PWRITEV:
	case LFS_TR_PWRITEV2:
		return 1;
	}
	return 0;
}

int lfs_trace_sys_is_open(unsigned sys)
{
	return sys == LFS_TR_OPEN || sys == LFS_TR_OPENAT || sys == LFS_TR_OPENAT2 ||
	       sys == LFS_TR_CREAT;
}

void lfs_trace_event_init(struct lfs_trace_event *ev)
{
	/* The size hidden from the compiler: a constant 200-odd-byte memset
	 * becomes `rep stos`, whose start-up cost made this a tenth of the
	 * trace recorder's CPU time per event; the library memset uses
	 * vector stores. */
	size_t n = sizeof *ev;
	__asm__("" : "+r"(n));
	memset(ev, 0, n);
	ev->fd = ev->fd2 = ev->dirfd = ev->dirfd2 = LFS_TR_NOFD;
	ev->offset = ev->offset2 = -1;
}
