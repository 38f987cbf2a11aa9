/*
 * tests/tools/trace_child.c — a program with a known sequence of file
 * syscalls, for the trace tests (tests/cli/trace_child.sh).
 *
 *   trace_child DIR
 *
 * Runs, inside DIR, a fixed sequence (opens, reads, writes, O_APPEND, dup*,
 * fcntl, renames, links, fork, a thread, sendfile, mmap ...) between two
 * marker calls (openat of "/.lfs-trace-begin" and "/.lfs-trace-end", both
 * failing with ENOENT), using raw syscall() so libc cannot add or rewrite
 * calls.  Then prints what it did, one line per call:
 *   ROLE SYSCALL key=value ...
 * ROLE is M (main thread), C (forked child) or T (second thread).  The test
 * compares these with the recorded events (every listed key must match).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static char out[1 << 16];
static size_t outlen;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void expect(const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&mu);
	va_start(ap, fmt);
	outlen += (size_t)vsnprintf(out + outlen, sizeof out - outlen, fmt, ap);
	va_end(ap);
	if (outlen < sizeof out - 1)
		out[outlen++] = '\n';
	pthread_mutex_unlock(&mu);
}

static long sc(long nr, long a, long b, long c, long d, long e, long f)
{
	long r = syscall(nr, a, b, c, d, e, f);
	return r < 0 ? -errno : r;
}
#define S0(n) sc(n, 0, 0, 0, 0, 0, 0)
#define S1(n, a) sc(n, (long)(a), 0, 0, 0, 0, 0)
#define S2(n, a, b) sc(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define S3(n, a, b, c) sc(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define S4(n, a, b, c, d) sc(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define S5(n, a, b, c, d, e) sc(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define S6(n, a, b, c, d, e, f) sc(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

static long thread_tid;

static void *thread_main(void *arg)
{
	(void)arg;
	thread_tid = syscall(SYS_gettid);
	long fd = S4(SYS_openat, AT_FDCWD, "thread.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	expect("T openat dirfd=-100 path=thread.txt flags=%d mode=420 ret=%ld", O_CREAT | O_WRONLY | O_TRUNC, fd);
	long r = S3(SYS_write, fd, "from thread\n", 12);
	expect("T write fd=%ld count=12 ret=%ld", fd, r);
	r = S1(SYS_close, fd);
	expect("T close fd=%ld ret=%ld", fd, r);
	expect("T exit exit_code=0");
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: trace_child DIR\n");
		return 2;
	}
	if (chdir(argv[1])) {
		perror(argv[1]);
		return 1;
	}
	long r, fd, fd2;
	char buf[64];
	char *cwd = get_current_dir_name();
	S4(SYS_openat, AT_FDCWD, "/.lfs-trace-begin", O_RDONLY, 0);

	/* create, write, pwrite, lseek, ftruncate, syncs */
	int fl = O_CREAT | O_RDWR | O_TRUNC;
	fd = S4(SYS_openat, AT_FDCWD, "a.txt", fl, 0644);
	expect("M openat dirfd=-100 path=a.txt flags=%d mode=420 ret=%ld", fl, fd);
	r = S3(SYS_write, fd, "hello world\n", 12);
	expect("M write fd=%ld count=12 ret=%ld", fd, r);
	r = S4(SYS_pwrite64, fd, "HE", 2, 0);
	expect("M pwrite64 fd=%ld count=2 offset=0 ret=%ld", fd, r);
	r = S3(SYS_lseek, fd, 0, SEEK_SET);
	expect("M lseek fd=%ld offset=0 whence=0 ret=%ld", fd, r);
	r = S3(SYS_read, fd, buf, 5);
	expect("M read fd=%ld count=5 ret=%ld", fd, r);
	r = S4(SYS_pread64, fd, buf, 4, 6);
	expect("M pread64 fd=%ld count=4 offset=6 ret=%ld", fd, r);
	r = S2(SYS_ftruncate, fd, 10);
	expect("M ftruncate fd=%ld offset=10 ret=%ld", fd, r);
	r = S1(SYS_fsync, fd);
	expect("M fsync fd=%ld ret=%ld", fd, r);
	r = S1(SYS_fdatasync, fd);
	expect("M fdatasync fd=%ld ret=%ld", fd, r);

	/* dup family and fcntl */
	fd2 = S1(SYS_dup, fd);
	expect("M dup fd=%ld ret=%ld", fd, fd2);
	r = S2(SYS_dup2, fd, 10);
	expect("M dup2 fd=%ld fd2=10 ret=%ld", fd, r);
	r = S3(SYS_dup3, fd, 11, O_CLOEXEC);
	expect("M dup3 fd=%ld fd2=11 flags=%d ret=%ld", fd, O_CLOEXEC, r);
	r = S3(SYS_fcntl, fd, F_DUPFD, 20);
	expect("M fcntl fd=%ld cmd=%d ret=%ld", fd, F_DUPFD, r);
	r = S3(SYS_fcntl, fd, F_SETFL, O_APPEND);
	expect("M fcntl fd=%ld cmd=%d flags=%d ret=%ld", fd, F_SETFL, O_APPEND, r);
	r = S3(SYS_write, 10, "tail\n", 5);
	expect("M write fd=10 count=5 ret=%ld", r);
	long cl[] = { fd2, 10, 11, 20 };
	for (int i = 0; i < 4; i++) {
		r = S1(SYS_close, cl[i]);
		expect("M close fd=%ld ret=%ld", cl[i], r);
	}
	r = S1(SYS_close, fd);
	expect("M close fd=%ld ret=%ld", fd, r);

	/* O_APPEND log, vectored I/O */
	fl = O_CREAT | O_WRONLY | O_APPEND;
	fd = S4(SYS_openat, AT_FDCWD, "log", fl, 0600);
	expect("M openat dirfd=-100 path=log flags=%d mode=384 ret=%ld", fl, fd);
	for (int i = 0; i < 3; i++) {
		r = S3(SYS_write, fd, "line\n", 5);
		expect("M write fd=%ld count=5 ret=%ld", fd, r);
	}
	struct iovec iov[2] = { { "ab", 2 }, { "cde", 3 } };
	r = S3(SYS_writev, fd, iov, 2);
	expect("M writev fd=%ld count=5 ret=%ld", fd, r);
	r = S1(SYS_close, fd);
	expect("M close fd=%ld ret=%ld", fd, r);
	fd = S4(SYS_openat, AT_FDCWD, "log", O_RDONLY, 0);
	expect("M openat dirfd=-100 path=log ret=%ld", fd);
	char b1[4], b2[8];
	struct iovec riov[2] = { { b1, 4 }, { b2, 8 } };
	r = S3(SYS_readv, fd, riov, 2);
	expect("M readv fd=%ld count=12 ret=%ld", fd, r);
	r = S4(SYS_preadv, fd, riov, 2, 3);
	expect("M preadv fd=%ld count=12 offset=3 ret=%ld", fd, r);
	r = S1(SYS_close, fd);
	expect("M close fd=%ld ret=%ld", fd, r);

	/* namespace */
	r = S3(SYS_mkdirat, AT_FDCWD, "d", 0755);
	expect("M mkdirat dirfd=-100 path=d mode=493 ret=%ld", r);
	r = S2(SYS_mkdir, "d/e", 0700);
	expect("M mkdir path=d/e mode=448 ret=%ld", r);
	r = S2(SYS_rename, "a.txt", "d/b.txt");
	expect("M rename path=a.txt path2=d/b.txt ret=%ld", r);
	long dfd = S4(SYS_openat, AT_FDCWD, "d", O_RDONLY | O_DIRECTORY, 0);
	expect("M openat dirfd=-100 path=d flags=%d ret=%ld", O_RDONLY | O_DIRECTORY, dfd);
	r = S4(SYS_renameat, dfd, "b.txt", AT_FDCWD, "c.txt");
	expect("M renameat dirfd=%ld path=b.txt path_abs=%s/d/b.txt dirfd2=-100 path2=c.txt ret=%ld",
	       dfd, cwd, r);
	r = S5(SYS_renameat2, AT_FDCWD, "c.txt", AT_FDCWD, "log", RENAME_NOREPLACE);
	expect("M renameat2 dirfd=-100 path=c.txt dirfd2=-100 path2=log flags=%d ret=%ld", RENAME_NOREPLACE, r);
	r = S2(SYS_link, "c.txt", "c2.txt");
	expect("M link path=c.txt path2=c2.txt ret=%ld", r);
	r = S5(SYS_linkat, AT_FDCWD, "c.txt", dfd, "c3.txt", 0);
	expect("M linkat dirfd=-100 path=c.txt dirfd2=%ld path2=c3.txt ret=%ld", dfd, r);
	r = S2(SYS_symlink, "c.txt", "s");
	expect("M symlink path=c.txt path2=s ret=%ld", r);
	r = S3(SYS_symlinkat, "../c.txt", dfd, "s2");
	expect("M symlinkat path=../c.txt dirfd2=%ld path2=s2 ret=%ld", dfd, r);
	r = S1(SYS_unlink, "c2.txt");
	expect("M unlink path=c2.txt ret=%ld", r);
	r = S3(SYS_unlinkat, dfd, "s2", 0);
	expect("M unlinkat dirfd=%ld path=s2 ret=%ld", dfd, r);
	r = S3(SYS_unlinkat, dfd, "c3.txt", 0);
	expect("M unlinkat dirfd=%ld path=c3.txt ret=%ld", dfd, r);
	r = S2(SYS_truncate, "c.txt", 4);
	expect("M truncate path=c.txt offset=4 ret=%ld", r);
	r = S1(SYS_rmdir, "d/e");
	expect("M rmdir path=d/e ret=%ld", r);
	r = S1(SYS_unlink, "missing");
	expect("M unlink path=missing ret=%ld", r);
	r = S1(SYS_fchdir, dfd);
	expect("M fchdir fd=%ld ret=%ld", dfd, r);
	r = S1(SYS_chdir, "..");
	expect("M chdir path=.. ret=%ld", r);
	r = S1(SYS_close, dfd);
	expect("M close fd=%ld ret=%ld", dfd, r);

	/* copies, fallocate, sync_file_range, mmap of a file */
	long in = S4(SYS_openat, AT_FDCWD, "c.txt", O_RDONLY, 0);
	expect("M openat dirfd=-100 path=c.txt ret=%ld", in);
	long o = S4(SYS_openat, AT_FDCWD, "copy.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
	expect("M openat dirfd=-100 path=copy.txt flags=%d mode=420 ret=%ld", O_CREAT | O_RDWR | O_TRUNC, o);
	long long off = 1;
	r = S4(SYS_sendfile, o, in, &off, 3);
	expect("M sendfile fd=%ld fd2=%ld offset=1 count=3 ret=%ld", in, o, r);
	long long oi = 0, oo = 10;
	r = S6(SYS_copy_file_range, in, &oi, o, &oo, 4, 0);
	expect("M copy_file_range fd=%ld offset=0 fd2=%ld offset2=10 count=4 ret=%ld", in, o, r);
	r = S4(SYS_fallocate, o, 0, 0, 8192);
	expect("M fallocate fd=%ld offset=0 count=8192 ret=%ld", o, r);
	r = S4(SYS_sync_file_range, o, 0, 4096, SYNC_FILE_RANGE_WRITE);
	expect("M sync_file_range fd=%ld offset=0 count=4096 flags=%d ret=%ld", o, SYNC_FILE_RANGE_WRITE, r);
	void *m = (void *)S6(SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED, o, 0);
	expect("M mmap fd=%ld count=4096 flags=%d offset=0 ret=%ld", o, MAP_SHARED, (long)m);
	r = S2(SYS_munmap, m, 4096);
	expect("M munmap count=4096 ret=%ld", r);
	void *anon = (void *)S6(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	S2(SYS_munmap, anon, 4096);           /* anonymous: not a file op, not recorded */
	r = S1(SYS_close, in);
	expect("M close fd=%ld ret=%ld", in, r);
	r = S1(SYS_close, o);
	expect("M close fd=%ld ret=%ld", o, r);

	/* a process: inherits nothing open; writes its own file */
	pid_t pid = (pid_t)S5(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0) {
		long cfd = S4(SYS_openat, AT_FDCWD, "child.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
		S3(SYS_write, cfd, "child\n", 6);
		S1(SYS_close, cfd);
		S1(SYS_exit_group, 3);
	}
	expect("M clone flags=%d ret=%ld", SIGCHLD, (long)pid);
	int st;
	waitpid(pid, &st, 0);
	expect("C openat dirfd=-100 path=child.txt flags=%d mode=420 ret=3", O_CREAT | O_WRONLY | O_TRUNC);
	expect("C write fd=3 count=6 ret=6");
	expect("C close fd=3 ret=0");
	expect("C exit_group exit_code=3");

	/* a thread (glibc clone3); its own calls are listed by the thread */
	pthread_t th;
	pthread_create(&th, NULL, thread_main, NULL);
	pthread_join(th, NULL);
	expect("M clone3 ret=%ld", thread_tid);

	S4(SYS_openat, AT_FDCWD, "/.lfs-trace-end", O_RDONLY, 0);
	fwrite(out, 1, outlen, stdout);
	free(cwd);
	return 0;
}
