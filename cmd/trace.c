/*
 * cmd/trace.c — `lightfs trace record|show|stat|import|export`: the noun's
 * dispatcher and help, plus show and stat.  record is cmd/trace_record.c,
 * import/export cmd/trace_import.c.
 */
#include "cli.h"
#include "trace/trace.h"
#include "common/grow.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int lfs_trace_record(struct lfs_ctx *c, int argc, char **argv);
int lfs_trace_import(struct lfs_ctx *c, int argc, char **argv);
int lfs_trace_export(struct lfs_ctx *c, int argc, char **argv);
void lfs_trace_fmt_event(FILE *f, const struct lfs_trace_header *h,
			 const struct lfs_trace_event *ev, int plain_strace);

/* ------------------------------------------------------------ formatting */

struct flagname { uint64_t v; const char *n; };

static void put_flags(FILE *f, uint64_t fl, const struct flagname *t, size_t nt)
{
	int any = 0;
	for (size_t i = 0; i < nt; i++) {
		if (t[i].v && (fl & t[i].v) == t[i].v) {
			fprintf(f, "%s%s", any ? "|" : "", t[i].n);
			fl &= ~t[i].v;
			any = 1;
		}
	}
	if (fl || !any)
		fprintf(f, "%s%#" PRIx64, any ? "|" : "", fl);
}

static void put_oflags(FILE *f, uint64_t fl)
{
	static const struct flagname t[] = {
		{ O_CREAT, "O_CREAT" }, { O_EXCL, "O_EXCL" }, { O_NOCTTY, "O_NOCTTY" },
		{ O_TRUNC, "O_TRUNC" }, { O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" },
		{ O_DSYNC, "O_DSYNC" }, { O_DIRECT, "O_DIRECT" }, { O_LARGEFILE, "O_LARGEFILE" },
		{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" }, { O_NOATIME, "O_NOATIME" },
		{ O_CLOEXEC, "O_CLOEXEC" }, { O_PATH, "O_PATH" }, { __O_TMPFILE, "O_TMPFILE" },
		{ O_SYNC & ~O_DSYNC, "O_SYNC" },
	};
	const char *acc = (fl & O_ACCMODE) == O_WRONLY ? "O_WRONLY" :
			  (fl & O_ACCMODE) == O_RDWR ? "O_RDWR" : "O_RDONLY";
	fputs(acc, f);
	fl &= ~(uint64_t)O_ACCMODE;
	if (fl) {
		fputc('|', f);
		put_flags(f, fl, t, sizeof t / sizeof t[0]);
	}
}

static void put_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("NULL", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch < 32 || ch >= 127)
			fprintf(f, "\\%o", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void put_dirfd(FILE *f, int32_t d)
{
	if (d == LFS_TR_AT_FDCWD)
		fputs("AT_FDCWD", f);
	else
		fprintf(f, "%d", d);
}

/* path argument; with !plain the resolved path in <...> as strace -y does
 * for fds */
static void put_path(FILE *f, const char *p, const char *abs, int plain)
{
	put_str(f, p);
	if (!plain && abs && p && strcmp(p, abs))
		fprintf(f, " <%s>", abs);
}

static void put_off(FILE *f, int64_t off)
{
	if (off < 0)
		fputs("NULL", f);
	else
		fprintf(f, "[%" PRId64 "]", off);
}

void lfs_trace_fmt_event(FILE *f, const struct lfs_trace_header *h,
			 const struct lfs_trace_event *ev, int plain)
{
	uint64_t t = h->start_real_ns + ev->ts_ns;
	fprintf(f, "%-6d %" PRIu64 ".%06" PRIu64 " ", ev->tid, t / UINT64_C(1000000000), t % UINT64_C(1000000000) / 1000);
	const char *name = lfs_trace_sys_name(ev->sys);
	int pseudo = ev->sys >= LFS_TR_PROC_FORK;
	if (pseudo)
		fprintf(f, "+++ %s", name);
	else
		fprintf(f, "%s(", name);
	switch (ev->sys) {
	case LFS_TR_OPEN: case LFS_TR_CREAT: case LFS_TR_OPENAT: case LFS_TR_OPENAT2:
		if (ev->sys == LFS_TR_OPENAT || ev->sys == LFS_TR_OPENAT2) {
			put_dirfd(f, ev->dirfd);
			fputs(", ", f);
		}
		put_path(f, ev->path, ev->path_abs, plain);
		if (ev->sys == LFS_TR_CREAT) {
			fprintf(f, ", %#o", ev->mode);
			break;
		}
		fputs(", ", f);
		if (ev->sys == LFS_TR_OPENAT2)
			fputs("{flags=", f);
		put_oflags(f, ev->flags);
		if (ev->sys == LFS_TR_OPENAT2)
			fprintf(f, ", mode=%#o, resolve=%#" PRIx64 "}, 24", ev->mode, ev->arg);
		else if (ev->flags & (O_CREAT | __O_TMPFILE))
			fprintf(f, ", %#o", ev->mode);
		break;
	case LFS_TR_CLOSE: case LFS_TR_FSYNC: case LFS_TR_FDATASYNC: case LFS_TR_SYNCFS:
	case LFS_TR_DUP: case LFS_TR_FCHDIR:
		fprintf(f, "%d", ev->fd);
		break;
	case LFS_TR_CLOSE_RANGE:
		fprintf(f, "%d, %d, %" PRIu64, ev->fd, ev->fd2, ev->flags);
		break;
	case LFS_TR_READ: case LFS_TR_WRITE:
		fprintf(f, "%d, \"\"..., %" PRIu64, ev->fd, ev->count);
		break;
	case LFS_TR_PREAD64: case LFS_TR_PWRITE64:
		fprintf(f, "%d, \"\"..., %" PRIu64 ", %" PRId64, ev->fd, ev->count, ev->offset);
		break;
	case LFS_TR_READV: case LFS_TR_WRITEV:
		fprintf(f, "%d, [{iov_base=\"\"..., iov_len=%" PRIu64 "}], %" PRIu64, ev->fd, ev->count, ev->arg);
		break;
	case LFS_TR_PREADV: case LFS_TR_PWRITEV: case LFS_TR_PREADV2: case LFS_TR_PWRITEV2:
		fprintf(f, "%d, [{iov_base=\"\"..., iov_len=%" PRIu64 "}], %" PRIu64 ", %" PRId64,
			ev->fd, ev->count, ev->arg, ev->offset);
		if (ev->sys == LFS_TR_PREADV2 || ev->sys == LFS_TR_PWRITEV2)
			fprintf(f, ", %" PRIu64, ev->flags);
		break;
	case LFS_TR_LSEEK:
		fprintf(f, "%d, %" PRId64 ", %s", ev->fd, ev->offset,
			ev->whence == 0 ? "SEEK_SET" : ev->whence == 1 ? "SEEK_CUR" :
			ev->whence == 2 ? "SEEK_END" : ev->whence == 3 ? "SEEK_DATA" :
			ev->whence == 4 ? "SEEK_HOLE" : "?");
		break;
	case LFS_TR_SYNC_FILE_RANGE:
		fprintf(f, "%d, %" PRId64 ", %" PRIu64 ", %" PRIu64, ev->fd, ev->offset, ev->count, ev->flags);
		break;
	case LFS_TR_FTRUNCATE:
		fprintf(f, "%d, %" PRId64, ev->fd, ev->offset);
		break;
	case LFS_TR_TRUNCATE:
		put_path(f, ev->path, ev->path_abs, plain);
		fprintf(f, ", %" PRId64, ev->offset);
		break;
	case LFS_TR_FALLOCATE:
		fprintf(f, "%d, %u, %" PRId64 ", %" PRIu64, ev->fd, ev->mode, ev->offset, ev->count);
		break;
	case LFS_TR_UNLINK: case LFS_TR_RMDIR: case LFS_TR_CHDIR:
		put_path(f, ev->path, ev->path_abs, plain);
		break;
	case LFS_TR_MKDIR:
		put_path(f, ev->path, ev->path_abs, plain);
		fprintf(f, ", %#o", ev->mode);
		break;
	case LFS_TR_UNLINKAT: case LFS_TR_MKDIRAT:
		put_dirfd(f, ev->dirfd);
		fputs(", ", f);
		put_path(f, ev->path, ev->path_abs, plain);
		if (ev->sys == LFS_TR_MKDIRAT)
			fprintf(f, ", %#o", ev->mode);
		else
			fprintf(f, ", %s", ev->flags & 0x200 ? "AT_REMOVEDIR" : "0");
		break;
	case LFS_TR_RENAME: case LFS_TR_LINK: case LFS_TR_SYMLINK:
		put_path(f, ev->path, ev->path_abs, plain);
		fputs(", ", f);
		put_path(f, ev->path2, ev->path2_abs, plain);
		break;
	case LFS_TR_RENAMEAT: case LFS_TR_RENAMEAT2: case LFS_TR_LINKAT:
		put_dirfd(f, ev->dirfd);
		fputs(", ", f);
		put_path(f, ev->path, ev->path_abs, plain);
		fputs(", ", f);
		put_dirfd(f, ev->dirfd2);
		fputs(", ", f);
		put_path(f, ev->path2, ev->path2_abs, plain);
		if (ev->sys != LFS_TR_RENAMEAT)
			fprintf(f, ", %" PRIu64, ev->flags);
		break;
	case LFS_TR_SYMLINKAT:
		put_path(f, ev->path, NULL, plain);
		fputs(", ", f);
		put_dirfd(f, ev->dirfd2);
		fputs(", ", f);
		put_path(f, ev->path2, ev->path2_abs, plain);
		break;
	case LFS_TR_DUP2:
		fprintf(f, "%d, %d", ev->fd, ev->fd2);
		break;
	case LFS_TR_DUP3:
		fprintf(f, "%d, %d, %s", ev->fd, ev->fd2, ev->flags & O_CLOEXEC ? "O_CLOEXEC" : "0");
		break;
	case LFS_TR_FCNTL: {
		static const char *const cmds[] = { "F_DUPFD", "F_GETFD", "F_SETFD", "F_GETFL", "F_SETFL" };
		if (ev->cmd >= 0 && ev->cmd < 5)
			fprintf(f, "%d, %s", ev->fd, cmds[ev->cmd]);
		else if (ev->cmd == F_DUPFD_CLOEXEC)
			fprintf(f, "%d, F_DUPFD_CLOEXEC", ev->fd);
		else
			fprintf(f, "%d, %d", ev->fd, ev->cmd);
		if (ev->cmd == F_SETFL) {
			fputs(", ", f);
			put_oflags(f, ev->flags);
		} else if (ev->cmd != F_GETFD && ev->cmd != F_GETFL) {
			fprintf(f, ", %" PRIu64, ev->arg);
		}
		break;
	}
	case LFS_TR_SENDFILE:
		fprintf(f, "%d, %d, ", ev->fd2, ev->fd);
		put_off(f, ev->offset);
		fprintf(f, ", %" PRIu64, ev->count);
		break;
	case LFS_TR_COPY_FILE_RANGE: case LFS_TR_SPLICE:
		fprintf(f, "%d, ", ev->fd);
		put_off(f, ev->offset);
		fprintf(f, ", %d, ", ev->fd2);
		put_off(f, ev->offset2);
		fprintf(f, ", %" PRIu64 ", %" PRIu64, ev->count, ev->flags);
		break;
	case LFS_TR_MMAP:
		fprintf(f, "%#" PRIx64 ", %" PRIu64 ", %u, %#" PRIx64 ", %d, %#" PRIx64,
			ev->arg, ev->count, ev->mode, ev->flags, ev->fd, (uint64_t)ev->offset);
		break;
	case LFS_TR_MUNMAP:
		fprintf(f, "%#" PRIx64 ", %" PRIu64, ev->arg, ev->count);
		break;
	case LFS_TR_CLONE: case LFS_TR_CLONE3:
		fprintf(f, "flags=%#" PRIx64, ev->flags);
		break;
	case LFS_TR_EXECVE: case LFS_TR_EXECVEAT:
		if (ev->sys == LFS_TR_EXECVEAT) {
			put_dirfd(f, ev->dirfd);
			fputs(", ", f);
		}
		put_path(f, ev->path, ev->path_abs, plain);
		fputs(", [...], [...]", f);
		break;
	case LFS_TR_EXIT: case LFS_TR_EXIT_GROUP:
		fprintf(f, "%d", ev->exit_code);
		break;
	case LFS_TR_PROC_FORK:
		fprintf(f, " %s %d/%d", ev->eflags & LFS_TREV_THREAD ? "thread" : "process",
			ev->child_pid, ev->child_tid);
		break;
	case LFS_TR_PROC_EXEC:
		fputc(' ', f);
		put_str(f, ev->path_abs ? ev->path_abs : ev->path);
		if (ev->comm)
			fprintf(f, " comm=%s", ev->comm);
		break;
	case LFS_TR_PROC_EXIT:
		fprintf(f, " pid %d status %#x%s", ev->pid, (unsigned)ev->exit_code,
			ev->eflags & LFS_TREV_GROUP ? " (process)" : "");
		break;
	case LFS_TR_FD_SNAP:
		fprintf(f, " fd %d ", ev->fd);
		put_str(f, ev->path);
		fprintf(f, " pos %" PRId64 " flags %#" PRIo64, ev->offset, ev->flags);
		if (ev->eflags & LFS_TREV_STAT)
			fprintf(f, " size %" PRIu64 " ino %" PRIu64, ev->size, ev->ino);
		break;
	case LFS_TR_CWD_SNAP:
		fputc(' ', f);
		put_str(f, ev->path);
		break;
	case LFS_TR_LOST:
		fprintf(f, " %" PRIu64 " events lost", ev->count);
		break;
	}
	if (pseudo) {
		fputs(" +++\n", f);
		return;
	}
	if (ev->sys == LFS_TR_EXIT || ev->sys == LFS_TR_EXIT_GROUP) {
		fputs(") = ?\n", f);
		return;
	}
	if (ev->eflags & LFS_TREV_UNFINISHED) {
		fputs(") = ? <unfinished>\n", f);
		return;
	}
	if (ev->ret < 0 && ev->ret >= -4095) {
		const char *en = strerrorname_np((int)-ev->ret);
		fprintf(f, ") = -1 %s (%s)", en ? en : "E?", strerror((int)-ev->ret));
	} else if (ev->sys == LFS_TR_MMAP) {
		fprintf(f, ") = %#" PRIx64, (uint64_t)ev->ret);
	} else {
		fprintf(f, ") = %" PRId64, ev->ret);
	}
	if (!plain && (ev->eflags & LFS_TREV_STAT))
		fprintf(f, " <size=%" PRIu64 " ino=%" PRIu64 " dev=%" PRIu64 ":%" PRIu64 ">",
			ev->size, ev->ino, ev->dev >> 20, ev->dev & 0xfffff);
	if (!(ev->eflags & LFS_TREV_NODUR) && ev->dur_ns)
		fprintf(f, " <%" PRIu64 ".%06" PRIu64 ">", ev->dur_ns / UINT64_C(1000000000),
			ev->dur_ns % UINT64_C(1000000000) / 1000);
	fputc('\n', f);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 32)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void fmt_json(FILE *f, const struct lfs_trace_event *ev)
{
	fprintf(f, "{\"seq\":%" PRIu64 ",\"ts_ns\":%" PRIu64 ",\"pid\":%d,\"tid\":%d,\"syscall\":\"%s\",\"ret\":%" PRId64,
		ev->seq, ev->ts_ns, ev->pid, ev->tid, lfs_trace_sys_name(ev->sys), ev->ret);
	if (ev->dur_ns)
		fprintf(f, ",\"dur_ns\":%" PRIu64, ev->dur_ns);
	if (ev->fd != LFS_TR_NOFD) fprintf(f, ",\"fd\":%d", ev->fd);
	if (ev->fd2 != LFS_TR_NOFD) fprintf(f, ",\"fd2\":%d", ev->fd2);
	if (ev->dirfd != LFS_TR_NOFD) fprintf(f, ",\"dirfd\":%d", ev->dirfd);
	if (ev->dirfd2 != LFS_TR_NOFD) fprintf(f, ",\"dirfd2\":%d", ev->dirfd2);
	if (ev->flags) fprintf(f, ",\"flags\":%" PRIu64, ev->flags);
	if (ev->mode) fprintf(f, ",\"mode\":%u", ev->mode);
	if (ev->cmd || ev->sys == LFS_TR_FCNTL) fprintf(f, ",\"cmd\":%d", ev->cmd);
	if (ev->sys == LFS_TR_LSEEK) fprintf(f, ",\"whence\":%d", ev->whence);
	if (ev->offset != -1) fprintf(f, ",\"offset\":%" PRId64, ev->offset);
	if (ev->offset2 != -1) fprintf(f, ",\"offset2\":%" PRId64, ev->offset2);
	if (ev->count) fprintf(f, ",\"count\":%" PRIu64, ev->count);
	if (ev->arg) fprintf(f, ",\"arg\":%" PRIu64, ev->arg);
	const char *names[] = { "path", "path_abs", "path2", "path2_abs", "comm" };
	const char *vals[] = { ev->path, ev->path_abs, ev->path2, ev->path2_abs, ev->comm };
	for (int i = 0; i < 5; i++) {
		if (!vals[i])
			continue;
		fprintf(f, ",\"%s\":", names[i]);
		json_str(f, vals[i]);
	}
	if (ev->eflags & LFS_TREV_STAT)
		fprintf(f, ",\"size\":%" PRIu64 ",\"ino\":%" PRIu64 ",\"dev\":%" PRIu64 ",\"ftype\":%u",
			ev->size, ev->ino, ev->dev, ev->ftype);
	if (ev->child_pid || ev->child_tid)
		fprintf(f, ",\"child_pid\":%d,\"child_tid\":%d", ev->child_pid, ev->child_tid);
	if (ev->exit_code || ev->sys == LFS_TR_EXIT_GROUP || ev->sys == LFS_TR_EXIT || ev->sys == LFS_TR_PROC_EXIT)
		fprintf(f, ",\"exit_code\":%d", ev->exit_code);
	if (ev->eflags) fprintf(f, ",\"eflags\":%u", ev->eflags);
	if (ev->data_len) {
		/* the payload as a JSON string (bytes ≥ 0x80 as \u00XX, i.e. latin-1) */
		fprintf(f, ",\"data_len\":%u,\"data\":\"", ev->data_len);
		for (uint32_t i = 0; i < ev->data_len; i++) {
			uint8_t ch = ev->data[i];
			if (ch == '"' || ch == '\\')
				fprintf(f, "\\%c", ch);
			else if (ch < 32 || ch >= 127)
				fprintf(f, "\\u%04x", ch);
			else
				fputc(ch, f);
		}
		fputc('"', f);
	}
	fputs("}\n", f);
}

/* ------------------------------------------------------------ show */

static int sys_selected(const char *list, unsigned sys)
{
	if (!list)
		return 1;
	const char *name = lfs_trace_sys_name(sys);
	size_t nl = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == nl && !strncmp(p, name, l))
			return 1;
		/* classes */
		if ((l == 4 && !strncmp(p, "read", 4) && lfs_trace_sys_is_read(sys)) ||
		    (l == 5 && !strncmp(p, "write", 5) && lfs_trace_sys_is_write(sys)) ||
		    (l == 4 && !strncmp(p, "open", 4) && lfs_trace_sys_is_open(sys)))
			return 1;
		p += l + (e ? 1 : 0);
	}
	return 0;
}

static int open_trace(struct lfs_ctx *c, const char *path, struct lfs_trace_reader **r)
{
	struct lfs_err err = { 0 };
	int rc = lfs_trace_open(r, path, &err);
	if (rc)
		return lfs_error_code(c, path, rc, &err);
	return 0;
}

/* End of a read loop: report a truncated file or an error. */
static int end_trace(struct lfs_ctx *c, const char *path, struct lfs_trace_reader *r, int rc,
		     const struct lfs_err *err)
{
	if (rc < 0)
		return lfs_error_code(c, path, rc, err);
	if (lfs_trace_truncated(r))
		fprintf(stderr, "lightfs: trace: %s: trace is truncated (recorder killed?); "
			"showing the %" PRIu64 " events before the cut\n", path, lfs_trace_count(r));
	return LFS_EXIT_OK;
}

static int trace_show(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "pid", required_argument, NULL, 'p' },
		{ "syscall", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int fmt = 0, opt;                /* 0 text, 1 json, 2 strace */
	long pid = 0;
	const char *sys = NULL;
	optind = 0;   /* 0: full getopt re-initialisation (GNU), as argv changed */
	while ((opt = getopt_long(argc, argv, "f:p:s:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (!strcmp(optarg, "text")) fmt = 0;
			else if (!strcmp(optarg, "json")) fmt = 1;
			else if (!strcmp(optarg, "strace")) fmt = 2;
			else return lfs_usage(c, "show: --format %s: expected text, json or strace", optarg);
			break;
		case 'p': pid = strtol(optarg, NULL, 10); break;
		case 's': sys = optarg; break;
		case 'h': lfs_print_cmd_help(stdout, c->cmd); return LFS_EXIT_OK;
		default: return lfs_usage(c, "show: unknown option");
		}
	}
	if (optind != argc - 1)
		return lfs_usage(c, "show: expected one trace FILE");
	const char *path = argv[optind];
	struct lfs_trace_reader *r;
	int rc = open_trace(c, path, &r);
	if (rc)
		return rc;
	const struct lfs_trace_header *h = lfs_trace_header(r);
	struct lfs_trace_event ev;
	struct lfs_err err = { 0 };
	while ((rc = lfs_trace_next(r, &ev, &err)) > 0) {
		if (pid && ev.pid != pid && ev.tid != pid)
			continue;
		if (!sys_selected(sys, ev.sys))
			continue;
		if (fmt == 2 && ev.sys >= LFS_TR_PROC_FORK && ev.sys != LFS_TR_PROC_EXIT)
			continue;
		if (fmt == 2 && ev.sys == LFS_TR_PROC_EXIT) {
			if (ev.eflags & LFS_TREV_GROUP || ev.pid != ev.tid) {
				int st = ev.exit_code;
				if ((st & 0x7f) == 0)
					printf("%-6d +++ exited with %d +++\n", ev.tid, (st >> 8) & 0xff);
				else
					printf("%-6d +++ killed by %s +++\n", ev.tid, sigabbrev_np(st & 0x7f) ?
					       sigabbrev_np(st & 0x7f) : "?");
			}
			continue;
		}
		if (fmt == 1)
			fmt_json(stdout, &ev);
		else
			lfs_trace_fmt_event(stdout, h, &ev, fmt == 2);
	}
	rc = end_trace(c, path, r, rc, &err);
	lfs_trace_reader_close(r);
	return rc;
}

/* ------------------------------------------------------------ stat */

struct sysstat { uint64_t n, err, bytes; };
struct procstat { int32_t pid; uint64_t n, rbytes, wbytes; };

static int trace_stat(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int json = 0, opt;
	optind = 0;   /* 0: full getopt re-initialisation (GNU), as argv changed */
	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'h': lfs_print_cmd_help(stdout, c->cmd); return LFS_EXIT_OK;
		default: return lfs_usage(c, "stat: unknown option");
		}
	}
	if (optind != argc - 1)
		return lfs_usage(c, "stat: expected one trace FILE");
	const char *path = argv[optind];
	struct lfs_trace_reader *r;
	int rc = open_trace(c, path, &r);
	if (rc)
		return rc;
	const struct lfs_trace_header *h = lfs_trace_header(r);
	struct sysstat ss[LFS_TR_SYS_MAX];
	memset(ss, 0, sizeof ss);
	struct procstat *ps = NULL;
	size_t nps = 0, cps = 0, pcap = 0, *pidx = NULL;
	/* files touched: distinct resolved paths (string pointers are interned,
	 * so pointer identity is string identity) */
	const char **files = NULL;
	size_t nf = 0, cf = 0, fcap_mask = 0;
	uint64_t total = 0, last_ts = 0, lost = 0, rbytes = 0, wbytes = 0;
	struct lfs_trace_event ev;
	struct lfs_err err = { 0 };
	while ((rc = lfs_trace_next(r, &ev, &err)) > 0) {
		total++;
		if (ev.ts_ns > last_ts)
			last_ts = ev.ts_ns;
		if (ev.sys == LFS_TR_LOST)
			lost += ev.count;
		if (ev.sys < LFS_TR_SYS_MAX) {
			struct sysstat *s = &ss[ev.sys];
			s->n++;
			if (ev.sys < LFS_TR_PROC_FORK && ev.ret < 0 && ev.ret >= -4095)
				s->err++;
			if ((lfs_trace_sys_is_read(ev.sys) || lfs_trace_sys_is_write(ev.sys) ||
			     ev.sys == LFS_TR_SENDFILE || ev.sys == LFS_TR_COPY_FILE_RANGE ||
			     ev.sys == LFS_TR_SPLICE) && ev.ret > 0)
				s->bytes += (uint64_t)ev.ret;
		}
		/* pid → ps index + 1, open addressing (a trace may hold
		 * hundreds of thousands of processes: no linear search) */
		if ((nps + 1) * 2 > pcap) {
			size_t npc = pcap ? pcap * 2 : 64;
			size_t *nx = calloc(npc, sizeof *nx);
			if (!nx) { rc = -ENOMEM; break; }
			for (size_t j = 0; j < nps; j++) {
				size_t hh = ((uint32_t)ps[j].pid * 2654435761u) & (npc - 1);
				while (nx[hh])
					hh = (hh + 1) & (npc - 1);
				nx[hh] = j + 1;
			}
			free(pidx);
			pidx = nx;
			pcap = npc;
		}
		size_t ph = ((uint32_t)ev.pid * 2654435761u) & (pcap - 1);
		while (pidx[ph] && ps[pidx[ph] - 1].pid != ev.pid)
			ph = (ph + 1) & (pcap - 1);
		size_t i = pidx[ph] ? pidx[ph] - 1 : nps;
		if (i == nps) {
			if (lfs_grow(&ps, &cps, nps + 1, sizeof *ps, 16) < 0) {
				rc = -ENOMEM;
				break;
			}
			ps[nps++] = (struct procstat){ .pid = ev.pid };
			pidx[ph] = nps;
		}
		ps[i].n++;
		if (ev.ret > 0 && lfs_trace_sys_is_read(ev.sys))
			ps[i].rbytes += (uint64_t)ev.ret, rbytes += (uint64_t)ev.ret;
		if (ev.ret > 0 && lfs_trace_sys_is_write(ev.sys))
			ps[i].wbytes += (uint64_t)ev.ret, wbytes += (uint64_t)ev.ret;
		const char *fs[2] = { ev.path_abs, ev.path2_abs };
		for (int k = 0; k < 2; k++) {
			if (!fs[k] || ev.sys == LFS_TR_CWD_SNAP || ev.sys == LFS_TR_PROC_EXEC)
				continue;
			if (nf * 2 >= cf) {
				size_t ncf = cf ? cf * 2 : 1024;
				const char **nfv = calloc(ncf, sizeof *nfv);
				if (!nfv) { rc = -ENOMEM; break; }
				for (size_t j = 0; j < cf; j++) {
					if (!files[j])
						continue;
					size_t hsh = ((uintptr_t)files[j] >> 4) & (ncf - 1);
					while (nfv[hsh])
						hsh = (hsh + 1) & (ncf - 1);
					nfv[hsh] = files[j];
				}
				free(files);
				files = nfv;
				cf = ncf;
				fcap_mask = ncf - 1;
			}
			size_t hsh = ((uintptr_t)fs[k] >> 4) & fcap_mask;
			while (files[hsh] && files[hsh] != fs[k])
				hsh = (hsh + 1) & fcap_mask;
			if (!files[hsh]) {
				files[hsh] = fs[k];
				nf++;
			}
		}
		if (rc < 0)
			break;
	}
	int trunc = lfs_trace_truncated(r);
	if (rc < 0) {
		rc = lfs_error_code(c, path, rc, &err);
		goto out;
	}
	if (h->flags & LFS_TRH_COMPLETE)
		lost = h->lost;
	uint64_t dur = h->duration_ns ? h->duration_ns : last_ts;
	if (json) {
		printf("{\"file\":");
		json_str(stdout, path);
		printf(",\"source\":\"%s\",\"complete\":%s,\"truncated\":%s,\"events\":%" PRIu64
		       ",\"lost\":%" PRIu64 ",\"duration_ns\":%" PRIu64 ",\"bytes_read\":%" PRIu64
		       ",\"bytes_written\":%" PRIu64 ",\"files\":%zu,\"exit_status\":%d,\"command\":",
		       h->source, h->flags & LFS_TRH_COMPLETE ? "true" : "false", trunc ? "true" : "false",
		       total, lost, dur, rbytes, wbytes, nf, h->exit_status);
		json_str(stdout, h->cmdline);
		printf(",\"syscalls\":{");
		int first = 1;
		for (unsigned s = 1; s < LFS_TR_SYS_MAX; s++) {
			if (!ss[s].n)
				continue;
			printf("%s\"%s\":{\"count\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"bytes\":%" PRIu64 "}",
			       first ? "" : ",", lfs_trace_sys_name(s), ss[s].n, ss[s].err, ss[s].bytes);
			first = 0;
		}
		printf("},\"processes\":[");
		for (size_t i = 0; i < nps; i++)
			printf("%s{\"pid\":%d,\"events\":%" PRIu64 ",\"bytes_read\":%" PRIu64
			       ",\"bytes_written\":%" PRIu64 "}", i ? "," : "", ps[i].pid, ps[i].n,
			       ps[i].rbytes, ps[i].wbytes);
		printf("]}\n");
	} else {
		printf("trace:     %s (%s%s%s)\n", path, h->source,
		       h->flags & LFS_TRH_COMPLETE ? ", complete" : ", incomplete",
		       trunc ? ", truncated" : "");
		printf("command:   %s\n", h->cmdline);
		printf("host:      %s, kernel %s\n", h->host, h->kernel);
		printf("duration:  %.3f s\n", dur / 1e9);
		printf("events:    %" PRIu64 "\n", total);
		printf("lost:      %" PRIu64 "%s\n", lost, lost ? "  (events missing: trace is incomplete)" : "");
		printf("processes: %zu\n", nps);
		printf("files:     %zu touched\n", nf);
		printf("bytes:     %" PRIu64 " read, %" PRIu64 " written\n", rbytes, wbytes);
		if (h->exit_status >= 0)
			printf("exit:      %d\n", (h->exit_status & 0x7f) ? 128 + (h->exit_status & 0x7f)
			       : (h->exit_status >> 8) & 0xff);
		printf("\n%-18s %10s %8s %14s\n", "syscall", "calls", "errors", "bytes");
		for (unsigned s = 1; s < LFS_TR_SYS_MAX; s++)
			if (ss[s].n)
				printf("%-18s %10" PRIu64 " %8" PRIu64 " %14" PRIu64 "\n",
				       lfs_trace_sys_name(s), ss[s].n, ss[s].err, ss[s].bytes);
		printf("\n%-8s %10s %14s %14s\n", "pid", "events", "read", "written");
		for (size_t i = 0; i < nps; i++)
			printf("%-8d %10" PRIu64 " %14" PRIu64 " %14" PRIu64 "\n", ps[i].pid, ps[i].n,
			       ps[i].rbytes, ps[i].wbytes);
	}
	rc = LFS_EXIT_OK;
out:
	free(ps);
	free(pidx);
	free(files);
	lfs_trace_reader_close(r);
	return rc;
}

/* ------------------------------------------------------------ dispatch */

static const struct {
	const char *name;
	int (*fn)(struct lfs_ctx *, int, char **);
} subs[] = {
	{ "record", lfs_trace_record },
	{ "show", trace_show },
	{ "stat", trace_stat },
	{ "import", lfs_trace_import },
	{ "export", lfs_trace_export },
};

static int cmd_trace_fn(struct lfs_ctx *c, int argc, char **argv)
{
	if (argc < 2)
		return lfs_usage(c, "expected record, show, stat, import or export");
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(c, argc - 1, argv + 1);
	return lfs_usage(c, "%s: unknown subcommand (record, show, stat, import, export)", argv[1]);
}

const struct lfs_cmd cmd_trace = {
	.name = "trace",
	.fn = cmd_trace_fn,
	.synopsis = "trace record [-o FILE] [--data[=MAX]] [--buffer SIZE] [-d SECONDS] (-p PID | -- CMD ARGS...)\n"
		    "       trace show [--format text|json|strace] [--pid P] [--syscall S,...] FILE\n"
		    "       trace stat [--json] FILE\n"
		    "       trace import [--from strace] [--cwd DIR] STRACE.LOG -o FILE\n"
		    "       trace export --format fio-iolog [-o OUT] FILE",
	.summary = "capture file syscalls with eBPF; show, summarize, import, export traces",
	.help =
	"record  Run CMD (as the invoking user under sudo), or attach to the running\n"
	"        process tree of -p PID, and capture its file syscalls and those of\n"
	"        every descendant with eBPF until it exits (or -d SECONDS, or Ctrl-C).\n"
	"        The command is held until the probe is attached, so its first\n"
	"        syscall is captured; record returns its exit status.  With -p, the\n"
	"        fds already open (path, position, flags, size) are recorded first.\n"
	"          -o FILE        trace file (default lightfs.trace)\n"
	"          --data[=MAX]   also record write payloads, up to MAX bytes per call\n"
	"                         (default 64K, at most 1M)\n"
	"          --buffer SIZE  ring buffer size (default 8M, 32M with --data);\n"
	"                         lost events are counted per CPU and reported,\n"
	"                         never silent\n"
	"          -d SECONDS     stop after SECONDS\n"
	"          -q             no summary line\n"
	"show    Print events one per line: text (strace -f -ttt -y style, with\n"
	"        resolved paths and file size/inode at open), json (JSON lines),\n"
	"        or strace (plain strace syntax, re-importable).\n"
	"          --pid P        only process/thread P\n"
	"          --syscall S,.. only these syscalls (names, or read/write/open classes)\n"
	"stat    Per-syscall counts, errors and bytes, per-process totals, files\n"
	"        touched, duration and lost events (--json for a JSON object).\n"
	"import  Convert `strace -f -ttt -T -y -yy -o LOG CMD` output, including\n"
	"        <unfinished ...> / <... resumed> pairs, into a trace file.  Paths\n"
	"        resolve through the -y annotations; --cwd DIR gives the first\n"
	"        process's working directory when the log has none.\n"
	"export  Write a fio iolog v3 (fio --read_iolog=OUT) of the reads and writes.\n"
	"\n"
	"The trace format (versioned header, zstd stream of compact events) is\n"
	"documented in lib/trace/FORMAT.md; a trace cut short by a killed recorder\n"
	"still reads up to the cut.\n",
	.options = "-o --data --buffer -d -p -q --format --pid --syscall --json --from --cwd",
};
