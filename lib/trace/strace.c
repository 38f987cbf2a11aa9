/*
 * lib/trace/strace.c — strace text → trace events (see strace.h).
 *
 * A call line is `[PID] [TIME] NAME(ARGS) = RET [<ANNOT>] [<DUR>]`.  ARGS
 * are split at top-level commas (outside "strings", [], {}, () and the
 * <...> annotations of -y/-yy); each syscall then picks its arguments by
 * position, as the kernel does.  Everything is bounded: a line is at most
 * LINE_MAX_ bytes, an argument list at most MAX_ARGS entries.
 */
#include "trace/strace.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_  65536
#define MAX_ARGS   16
#define NPEND      256
#define NTGID      4096

struct pending {
	int32_t tid;
	uint64_t ts;
	char *text;          /* "NAME(ARGS" of the unfinished half */
};

struct tgid_ent { int32_t tid, tgid; };

struct lfs_strace {
	uint64_t start_ns, calls, skipped;
	struct pending pend[NPEND];
	struct tgid_ent tg[NTGID];
	char buf[LINE_MAX_ * 2 + 64];
	char s1[4096], s2[4096], a1[4096], a2[4096], annot_ret[4096], dir1[4096], dir2[4096];
};

int lfs_strace_new(struct lfs_strace **sp)
{
	*sp = calloc(1, sizeof **sp);
	return *sp ? 0 : -ENOMEM;
}

void lfs_strace_free(struct lfs_strace *s)
{
	if (!s)
		return;
	for (int i = 0; i < NPEND; i++)
		free(s->pend[i].text);
	free(s);
}

uint64_t lfs_strace_start_ns(const struct lfs_strace *s) { return s->start_ns; }
uint64_t lfs_strace_calls(const struct lfs_strace *s) { return s->calls; }
uint64_t lfs_strace_skipped(const struct lfs_strace *s) { return s->skipped; }

static int32_t tgid_of(struct lfs_strace *s, int32_t tid)
{
	struct tgid_ent *e = &s->tg[(uint32_t)tid % NTGID];
	return e->tid == tid ? e->tgid : tid;
}

static void tgid_set(struct lfs_strace *s, int32_t tid, int32_t tgid)
{
	struct tgid_ent *e = &s->tg[(uint32_t)tid % NTGID];
	e->tid = tid;
	e->tgid = tgid;
}

/* ------------------------------------------------------------ lexing */

/* End of the value starting at p (a top-level comma or the closing paren
 * at depth 0), honouring quotes, brackets and <annotations>. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;
	while (p < end) {
		char c = *p;
		if (c == '"') {
			p++;
			while (p < end && *p != '"') {
				if (*p == '\\' && p + 1 < end)
					p++;
				p++;
			}
			if (p < end)
				p++;
			continue;
		}
		if (c == '<') {             /* -y annotation: balanced <...> */
			int ad = 0;
			while (p < end) {
				if (*p == '<')
					ad++;
				else if (*p == '>' && --ad == 0)
					break;
				p++;
			}
			if (p < end)
				p++;
			continue;
		}
		if (c == '(' || c == '[' || c == '{')
			depth++;
		else if (c == ')' || c == ']' || c == '}') {
			if (depth == 0)
				return p;
			depth--;
		} else if (c == ',' && depth == 0)
			return p;
		p++;
	}
	return p;
}

/* Split "a, b, c)" into args; returns count, *close at the ')' (or end). */
static int split_args(const char *p, const char *end, const char **av, size_t *al, const char **close)
{
	int n = 0;
	while (p < end && *p == ' ')
		p++;
	if (p < end && *p == ')') {
		*close = p;
		return 0;
	}
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		const char *e = skip_value(p, end);
		if (n < MAX_ARGS) {
			av[n] = p;
			al[n] = (size_t)(e - p);
			n++;
		}
		if (e >= end || *e == ')') {
			*close = e;
			return n;
		}
		p = e + 1;
	}
	*close = end;
	return n;
}

/* C-escaped "string" (maybe followed by ...) into out; 0 or -1. */
static int parse_cstr(const char *p, size_t len, char *out, size_t n)
{
	const char *end = p + len;
	if (p >= end || *p != '"')
		return -1;
	p++;
	size_t o = 0;
	while (p < end && *p != '"') {
		char c = *p++;
		if (c == '\\' && p < end) {
			char e = *p++;
			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'v': c = '\v'; break;
			case 'f': c = '\f'; break;
			case 'x': {
				int v = 0, k = 0;
				while (k < 2 && p < end && isxdigit((unsigned char)*p)) {
					v = v * 16 + (isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10));
					p++;
					k++;
				}
				c = (char)v;
				break;
			}
			default:
				if (e >= '0' && e <= '7') {
					int v = e - '0', k = 1;
					while (k < 3 && p < end && *p >= '0' && *p <= '7') {
						v = v * 8 + (*p++ - '0');
						k++;
					}
					c = (char)v;
				} else {
					c = e;
				}
			}
		}
		if (o + 1 < n)
			out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

/* The <...> annotation inside [p, p+len) (the first one), into out. */
static int parse_annot(const char *p, size_t len, char *out, size_t n)
{
	const char *end = p + len, *a = memchr(p, '<', len);
	if (!a)
		return -1;
	a++;
	int depth = 1;
	const char *e = a;
	while (e < end) {
		if (*e == '<')
			depth++;
		else if (*e == '>' && --depth == 0)
			break;
		e++;
	}
	/* -yy appends <char 136:0> / <TCP:[...]> inside; keep the path part */
	const char *inner = memchr(a, '<', (size_t)(e - a));
	if (inner)
		e = inner;
	size_t l = (size_t)(e - a);
	if (l >= n)
		l = n - 1;
	memcpy(out, a, l);
	out[l] = 0;
	return 0;
}

struct sym { const char *n; long long v; };
static const struct sym syms[] = {
	{ "O_RDONLY", O_RDONLY }, { "O_WRONLY", O_WRONLY }, { "O_RDWR", O_RDWR },
	{ "O_CREAT", O_CREAT }, { "O_EXCL", O_EXCL }, { "O_NOCTTY", O_NOCTTY },
	{ "O_TRUNC", O_TRUNC }, { "O_APPEND", O_APPEND }, { "O_NONBLOCK", O_NONBLOCK },
	{ "O_DSYNC", O_DSYNC }, { "O_SYNC", O_SYNC }, { "O_DIRECT", O_DIRECT },
	{ "O_LARGEFILE", O_LARGEFILE }, { "O_DIRECTORY", O_DIRECTORY },
	{ "O_NOFOLLOW", O_NOFOLLOW }, { "O_NOATIME", O_NOATIME }, { "O_CLOEXEC", O_CLOEXEC },
	{ "O_PATH", O_PATH }, { "O_TMPFILE", O_TMPFILE }, { "O_NDELAY", O_NDELAY },
	{ "AT_FDCWD", -100 }, { "AT_REMOVEDIR", 0x200 }, { "AT_SYMLINK_FOLLOW", 0x400 },
	{ "AT_SYMLINK_NOFOLLOW", 0x100 }, { "AT_EMPTY_PATH", 0x1000 },
	{ "SEEK_SET", 0 }, { "SEEK_CUR", 1 }, { "SEEK_END", 2 }, { "SEEK_DATA", 3 },
	{ "SEEK_HOLE", 4 },
	{ "F_DUPFD", 0 }, { "F_GETFD", 1 }, { "F_SETFD", 2 }, { "F_GETFL", 3 },
	{ "F_SETFL", 4 }, { "F_GETLK", 5 }, { "F_SETLK", 6 }, { "F_SETLKW", 7 },
	{ "F_DUPFD_CLOEXEC", 1030 }, { "FD_CLOEXEC", 1 },
	{ "RENAME_NOREPLACE", 1 }, { "RENAME_EXCHANGE", 2 }, { "RENAME_WHITEOUT", 4 },
	{ "CLONE_VM", 0x100 }, { "CLONE_FS", 0x200 }, { "CLONE_FILES", 0x400 },
	{ "CLONE_SIGHAND", 0x800 }, { "CLONE_PIDFD", 0x1000 }, { "CLONE_PTRACE", 0x2000 },
	{ "CLONE_VFORK", 0x4000 }, { "CLONE_PARENT", 0x8000 }, { "CLONE_THREAD", 0x10000 },
	{ "CLONE_NEWNS", 0x20000 }, { "CLONE_SYSVSEM", 0x40000 }, { "CLONE_SETTLS", 0x80000 },
	{ "CLONE_PARENT_SETTID", 0x100000 }, { "CLONE_CHILD_CLEARTID", 0x200000 },
	{ "CLONE_DETACHED", 0x400000 }, { "CLONE_UNTRACED", 0x800000 },
	{ "CLONE_CHILD_SETTID", 0x1000000 }, { "CLONE_IO", 0x80000000LL },
	{ "SIGCHLD", 17 },
	{ "PROT_NONE", 0 }, { "PROT_READ", 1 }, { "PROT_WRITE", 2 }, { "PROT_EXEC", 4 },
	{ "MAP_SHARED", 1 }, { "MAP_PRIVATE", 2 }, { "MAP_FIXED", 0x10 },
	{ "MAP_ANONYMOUS", 0x20 }, { "MAP_DENYWRITE", 0x800 }, { "MAP_POPULATE", 0x8000 },
	{ "MAP_NORESERVE", 0x4000 }, { "MAP_STACK", 0x20000 },
	{ "FALLOC_FL_KEEP_SIZE", 1 }, { "FALLOC_FL_PUNCH_HOLE", 2 },
	{ "FALLOC_FL_ZERO_RANGE", 0x10 }, { "FALLOC_FL_COLLAPSE_RANGE", 8 },
	{ "SYNC_FILE_RANGE_WAIT_BEFORE", 1 }, { "SYNC_FILE_RANGE_WRITE", 2 },
	{ "SYNC_FILE_RANGE_WAIT_AFTER", 4 }, { "CLOSE_RANGE_UNSHARE", 2 },
	{ "CLOSE_RANGE_CLOEXEC", 4 }, { "NULL", 0 }, { "RWF_HIPRI", 1 }, { "RWF_DSYNC", 2 },
	{ "RWF_SYNC", 4 }, { "RWF_NOWAIT", 8 }, { "RWF_APPEND", 16 },
};

/* Number, symbol, or SYM|SYM|0x..; "[N]" / "[N => M]" → N.  Stops at the
 * first character that cannot belong to it. */
static long long parse_num(const char *p, size_t len)
{
	const char *end = p + len;
	while (p < end && (*p == ' ' || *p == '['))
		p++;
	long long v = 0;
	while (p < end) {
		if (*p == '-' || isdigit((unsigned char)*p)) {
			char tmp[32];
			size_t l = 0;
			while (p + l < end && l < sizeof tmp - 1 && (isalnum((unsigned char)p[l]) || p[l] == '-'))
				l++;
			memcpy(tmp, p, l);
			tmp[l] = 0;
			v |= strtoll(tmp, NULL, 0);
			p += l;
		} else if (isalpha((unsigned char)*p) || *p == '_') {
			size_t l = 0;
			while (p + l < end && (isalnum((unsigned char)p[l]) || p[l] == '_'))
				l++;
			for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
				if (strlen(syms[i].n) == l && !memcmp(syms[i].n, p, l)) {
					if (syms[i].v == -100)
						v = -100;
					else
						v |= syms[i].v;
					break;
				}
			p += l;
		} else {
			break;
		}
		if (p < end && *p == '|')
			p++;
		else
			break;
	}
	return v;
}

/* Value of "key=" inside an argument (clone flags=, iov_len= sums). */
static long long find_key(const char *p, size_t len, const char *key, int sum)
{
	long long v = 0;
	size_t kl = strlen(key);
	for (size_t i = 0; i + kl <= len; i++) {
		if (memcmp(p + i, key, kl))
			continue;
		const char *q = p + i + kl;
		const char *e = skip_value(q, p + len);
		long long x = parse_num(q, (size_t)(e - q));
		if (!sum)
			return x;
		v += x;
		i += kl;
	}
	return v;
}

static int errno_from_name(const char *p, size_t l)
{
	for (int e = 1; e < 200; e++) {
		const char *n = strerrorname_np(e);
		if (n && strlen(n) == l && !memcmp(n, p, l))
			return e;
	}
	return EIO;
}

/* ------------------------------------------------------------ mapping */

static void set_dir(struct lfs_strace *s, int32_t *dirfd, const char *p, size_t l, char *dir)
{
	*dirfd = (int32_t)parse_num(p, l);
	dir[0] = 0;
	parse_annot(p, l, dir, 4096);
}

static const char *get_path(const char *p, size_t l, char *buf)
{
	return parse_cstr(p, l, buf, 4096) == 0 ? buf : NULL;
}

/* path_abs from a dir annotation: only when the path is relative */
static const char *abs_from(char *out, const char *dir, const char *path)
{
	if (!path)
		return NULL;
	if (path[0] != '/' && !dir[0])
		return NULL;
	return lfs_trace_path_join(out, 4096, path[0] == '/' ? NULL : dir, path) >= 0 ? out : NULL;
}

static int emit_call(struct lfs_strace *s, int32_t tid, uint64_t ts, const char *text, size_t tl,
		     int unfinished, lfs_strace_emit_fn emit, void *ctx)
{
	const char *end = text + tl;
	const char *paren = memchr(text, '(', tl);
	if (!paren || paren == text || paren - text > 40) {
		s->skipped++;
		return 0;
	}
	char name[48];
	size_t nl = (size_t)(paren - text);
	memcpy(name, text, nl);
	name[nl] = 0;
	unsigned sys = lfs_trace_sys_from_name(name);
	if (sys == LFS_TR_NONE || sys >= LFS_TR_PROC_FORK) {
		s->skipped++;
		return 0;
	}
	const char *av[MAX_ARGS];
	size_t al[MAX_ARGS];
	const char *close = end;
	int na = split_args(paren + 1, end, av, al, &close);
	for (int i = na; i < MAX_ARGS; i++) {
		av[i] = "";
		al[i] = 0;
	}
	struct lfs_trace_event ev;
	lfs_trace_event_init(&ev);
	ev.sys = (uint16_t)sys;
	ev.tid = tid;
	ev.pid = tgid_of(s, tid);
	ev.ts_ns = ts - s->start_ns;
	ev.eflags = LFS_TREV_NODUR;
	/* result: ") = RET[<annot>] [<dur>]" */
	s->annot_ret[0] = 0;
	int have_ret = 0;
	if (!unfinished && close < end) {
		const char *q = close + 1;
		while (q < end && *q == ' ')
			q++;
		if (q < end && *q == '=') {
			q++;
			while (q < end && *q == ' ')
				q++;
			if (q < end && *q == '?') {
				ev.eflags |= LFS_TREV_UNFINISHED;
			} else if (q < end && (*q == '-' || isdigit((unsigned char)*q))) {
				char *ne;
				char tmp[40];
				size_t l = 0;
				while (q + l < end && l < sizeof tmp - 1 && (isalnum((unsigned char)q[l]) || q[l] == '-'))
					l++;
				memcpy(tmp, q, l);
				tmp[l] = 0;
				ev.ret = (int64_t)strtoull(tmp, &ne, 0);
				if (tmp[0] == '-')
					ev.ret = strtoll(tmp, &ne, 0);
				q += l;
				have_ret = 1;
				if (q < end && *q == '<') {
					parse_annot(q, (size_t)(end - q), s->annot_ret, sizeof s->annot_ret);
					q = skip_value(q, end);
				}
				while (q < end && *q == ' ')
					q++;
				if (ev.ret == -1 && q < end && isupper((unsigned char)*q)) {
					size_t el = 0;
					while (q + el < end && (isupper((unsigned char)q[el]) || isdigit((unsigned char)q[el])))
						el++;
					ev.ret = -errno_from_name(q, el);
					q += el;
				}
				const char *d = NULL;
				for (const char *r = end; r > q; r--)
					if (r[-1] == '<') {
						d = r;
						break;
					}
				if (d && d < end && isdigit((unsigned char)*d)) {
					char tmpd[32];
					size_t dl = 0;
					while (d + dl < end && dl < sizeof tmpd - 1 && (isdigit((unsigned char)d[dl]) || d[dl] == '.'))
						dl++;
					memcpy(tmpd, d, dl);
					tmpd[dl] = 0;
					double sec = strtod(tmpd, NULL);
					if (sec >= 0 && sec < 1e9) {
						ev.dur_ns = (uint64_t)(sec * 1e9 + 0.5);
						ev.eflags &= ~LFS_TREV_NODUR;
					}
				}
			}
		}
	}
	if (unfinished || (!have_ret && !(ev.eflags & LFS_TREV_UNFINISHED)))
		ev.eflags |= LFS_TREV_UNFINISHED;
	if (sys != LFS_TR_EXIT && sys != LFS_TR_EXIT_GROUP && !have_ret)
		ev.eflags |= LFS_TREV_UNFINISHED;

	const char *p1 = NULL, *p2 = NULL;
	char *d1 = s->dir1, *d2 = s->dir2;
	d1[0] = d2[0] = 0;
#define A(i) av[i], al[i]
#define NUM(i) parse_num(A(i))
	switch (sys) {
	case LFS_TR_OPEN: ev.dirfd = LFS_TR_AT_FDCWD; p1 = get_path(A(0), s->s1);
		ev.flags = (uint64_t)NUM(1); ev.mode = (uint32_t)NUM(2); break;
	case LFS_TR_OPENAT: set_dir(s, &ev.dirfd, A(0), d1); p1 = get_path(A(1), s->s1);
		ev.flags = (uint64_t)NUM(2); ev.mode = (uint32_t)NUM(3); break;
	case LFS_TR_OPENAT2: set_dir(s, &ev.dirfd, A(0), d1); p1 = get_path(A(1), s->s1);
		ev.flags = (uint64_t)find_key(A(2), "flags=", 0); ev.mode = (uint32_t)find_key(A(2), "mode=", 0);
		ev.arg = (uint64_t)find_key(A(2), "resolve=", 0); break;
	case LFS_TR_CREAT: ev.dirfd = LFS_TR_AT_FDCWD; p1 = get_path(A(0), s->s1);
		ev.mode = (uint32_t)NUM(1); ev.flags = O_CREAT | O_WRONLY | O_TRUNC; break;
	case LFS_TR_CLOSE: case LFS_TR_FSYNC: case LFS_TR_FDATASYNC: case LFS_TR_SYNCFS:
	case LFS_TR_DUP: case LFS_TR_FCHDIR:
		ev.fd = (int32_t)NUM(0); break;
	case LFS_TR_CLOSE_RANGE: ev.fd = (int32_t)NUM(0); ev.fd2 = (int32_t)NUM(1); ev.flags = (uint64_t)NUM(2); break;
	case LFS_TR_READ: case LFS_TR_WRITE: ev.fd = (int32_t)NUM(0); ev.count = (uint64_t)NUM(2); break;
	case LFS_TR_PREAD64: case LFS_TR_PWRITE64: ev.fd = (int32_t)NUM(0); ev.count = (uint64_t)NUM(2);
		ev.offset = NUM(3); break;
	case LFS_TR_READV: case LFS_TR_WRITEV: case LFS_TR_PREADV: case LFS_TR_PWRITEV:
	case LFS_TR_PREADV2: case LFS_TR_PWRITEV2:
		ev.fd = (int32_t)NUM(0); ev.count = (uint64_t)find_key(A(1), "iov_len=", 1);
		ev.arg = (uint64_t)NUM(2);
		if (sys != LFS_TR_READV && sys != LFS_TR_WRITEV)
			ev.offset = NUM(3);
		if (sys == LFS_TR_PREADV2 || sys == LFS_TR_PWRITEV2)
			ev.flags = (uint64_t)NUM(4);
		break;
	case LFS_TR_LSEEK: ev.fd = (int32_t)NUM(0); ev.offset = NUM(1); ev.whence = (int32_t)NUM(2); break;
	case LFS_TR_SYNC_FILE_RANGE: ev.fd = (int32_t)NUM(0); ev.offset = NUM(1); ev.count = (uint64_t)NUM(2);
		ev.flags = (uint64_t)NUM(3); break;
	case LFS_TR_FTRUNCATE: ev.fd = (int32_t)NUM(0); ev.offset = NUM(1); break;
	case LFS_TR_TRUNCATE: ev.dirfd = LFS_TR_AT_FDCWD; p1 = get_path(A(0), s->s1); ev.offset = NUM(1); break;
	case LFS_TR_FALLOCATE: ev.fd = (int32_t)NUM(0); ev.mode = (uint32_t)NUM(1); ev.offset = NUM(2);
		ev.count = (uint64_t)NUM(3); break;
	case LFS_TR_UNLINK: case LFS_TR_RMDIR: case LFS_TR_CHDIR:
		ev.dirfd = LFS_TR_AT_FDCWD; p1 = get_path(A(0), s->s1); break;
	case LFS_TR_MKDIR: ev.dirfd = LFS_TR_AT_FDCWD; p1 = get_path(A(0), s->s1); ev.mode = (uint32_t)NUM(1); break;
	case LFS_TR_UNLINKAT: set_dir(s, &ev.dirfd, A(0), d1); p1 = get_path(A(1), s->s1); ev.flags = (uint64_t)NUM(2); break;
	case LFS_TR_MKDIRAT: set_dir(s, &ev.dirfd, A(0), d1); p1 = get_path(A(1), s->s1); ev.mode = (uint32_t)NUM(2); break;
	case LFS_TR_RENAME: case LFS_TR_LINK:
		ev.dirfd = ev.dirfd2 = LFS_TR_AT_FDCWD; p1 = get_path(A(0), s->s1); p2 = get_path(A(1), s->s2); break;
	case LFS_TR_RENAMEAT: case LFS_TR_RENAMEAT2: case LFS_TR_LINKAT:
		set_dir(s, &ev.dirfd, A(0), d1); p1 = get_path(A(1), s->s1);
		set_dir(s, &ev.dirfd2, A(2), d2); p2 = get_path(A(3), s->s2);
		if (sys != LFS_TR_RENAMEAT)
			ev.flags = (uint64_t)NUM(4);
		break;
	case LFS_TR_SYMLINK: p1 = get_path(A(0), s->s1); ev.dirfd2 = LFS_TR_AT_FDCWD; p2 = get_path(A(1), s->s2); break;
	case LFS_TR_SYMLINKAT: p1 = get_path(A(0), s->s1); set_dir(s, &ev.dirfd2, A(1), d2);
		p2 = get_path(A(2), s->s2); break;
	case LFS_TR_DUP2: ev.fd = (int32_t)NUM(0); ev.fd2 = (int32_t)NUM(1); break;
	case LFS_TR_DUP3: ev.fd = (int32_t)NUM(0); ev.fd2 = (int32_t)NUM(1); ev.flags = (uint64_t)NUM(2); break;
	case LFS_TR_FCNTL: ev.fd = (int32_t)NUM(0); ev.cmd = (int32_t)NUM(1); ev.arg = (uint64_t)NUM(2);
		if (ev.cmd == F_SETFL)
			ev.flags = ev.arg;
		break;
	case LFS_TR_SENDFILE: ev.fd2 = (int32_t)NUM(0); ev.fd = (int32_t)NUM(1);
		ev.offset = al[2] && av[2][0] == '[' ? NUM(2) : -1; ev.count = (uint64_t)NUM(3); break;
	case LFS_TR_COPY_FILE_RANGE: case LFS_TR_SPLICE:
		ev.fd = (int32_t)NUM(0); ev.offset = al[1] && av[1][0] == '[' ? NUM(1) : -1;
		ev.fd2 = (int32_t)NUM(2); ev.offset2 = al[3] && av[3][0] == '[' ? NUM(3) : -1;
		ev.count = (uint64_t)NUM(4); ev.flags = (uint64_t)NUM(5); break;
	case LFS_TR_MMAP:
		ev.arg = (uint64_t)NUM(0); ev.count = (uint64_t)NUM(1); ev.mode = (uint32_t)NUM(2);
		ev.flags = (uint64_t)NUM(3); ev.fd = (int32_t)NUM(4); ev.offset = NUM(5);
		if (ev.fd < 0 || (ev.flags & 0x20))
			return 0;        /* anonymous mapping: not a file operation */
		break;
	case LFS_TR_MUNMAP: ev.arg = (uint64_t)NUM(0); ev.count = (uint64_t)NUM(1); break;
	case LFS_TR_CLONE: ev.flags = (uint64_t)find_key(text, tl, "flags=", 0); break;
	case LFS_TR_CLONE3: ev.flags = (uint64_t)find_key(A(0), "flags=", 0); break;
	case LFS_TR_FORK: case LFS_TR_VFORK: break;
	case LFS_TR_EXECVE: ev.dirfd = LFS_TR_AT_FDCWD; p1 = get_path(A(0), s->s1); break;
	case LFS_TR_EXECVEAT: set_dir(s, &ev.dirfd, A(0), d1); p1 = get_path(A(1), s->s1);
		ev.flags = (uint64_t)NUM(4); break;
	case LFS_TR_EXIT: case LFS_TR_EXIT_GROUP: ev.exit_code = (int32_t)NUM(0);
		ev.eflags &= ~LFS_TREV_UNFINISHED; break;
	}
#undef A
#undef NUM
	/* the fork family only counts in the parent (as the eBPF capture) */
	if ((sys == LFS_TR_FORK || sys == LFS_TR_VFORK || sys == LFS_TR_CLONE || sys == LFS_TR_CLONE3) &&
	    have_ret && ev.ret == 0)
		return 0;
	if ((sys == LFS_TR_CLONE || sys == LFS_TR_CLONE3) && ev.ret > 0 && (ev.flags & 0x10000))
		tgid_set(s, (int32_t)ev.ret, ev.pid);
	ev.path = p1;
	ev.path2 = p2;
	/* lexical resolution, as the eBPF recorder does; the kernel's name of
	 * the opened file (-y on the result, symlinks resolved) only when the
	 * directory is unknown */
	if (sys != LFS_TR_SYMLINK && sys != LFS_TR_SYMLINKAT)
		ev.path_abs = abs_from(s->a1, d1, p1);
	if (!ev.path_abs && lfs_trace_sys_is_open(sys) && s->annot_ret[0] == '/' && ev.ret >= 0)
		ev.path_abs = s->annot_ret;
	if (p2)
		ev.path2_abs = abs_from(s->a2, d2, p2);
	s->calls++;
	return emit(ctx, &ev);
}

static struct pending *pend_find(struct lfs_strace *s, int32_t tid)
{
	for (int i = 0; i < NPEND; i++)
		if (s->pend[i].text && s->pend[i].tid == tid)
			return &s->pend[i];
	return NULL;
}

int lfs_strace_line(struct lfs_strace *s, const char *line, size_t len, lfs_strace_emit_fn emit, void *ctx)
{
	if (len > LINE_MAX_)
		len = LINE_MAX_;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	const char *p = line, *end = line + len;
	int32_t tid = 0;
	while (p < end && *p == ' ')
		p++;
	if (end - p > 5 && !memcmp(p, "[pid", 4)) {
		p += 4;
		while (p < end && *p == ' ')
			p++;
		while (p < end && isdigit((unsigned char)*p))
			tid = tid * 10 + (*p++ - '0'), tid %= 100000000;
		if (p < end && *p == ']')
			p++;
	} else {
		const char *q = p;
		int32_t v = 0;
		while (q < end && isdigit((unsigned char)*q))
			v = v * 10 + (*q++ - '0'), v %= 100000000;
		/* a bare integer followed by spaces then a timestamp is a pid */
		if (q > p && q < end && *q == ' ') {
			const char *r = q;
			while (r < end && *r == ' ')
				r++;
			if (r < end && (isdigit((unsigned char)*r) || isalpha((unsigned char)*r) || *r == '<' || *r == '+' || *r == '-')) {
				tid = v;
				p = r;
			}
		}
	}
	while (p < end && *p == ' ')
		p++;
	if (tid <= 0)
		tid = 1;
	/* timestamp */
	uint64_t ts = 0;
	if (p < end && isdigit((unsigned char)*p)) {
		uint64_t sec = 0, frac = 0;
		int fd = 0;
		while (p < end && isdigit((unsigned char)*p) && sec < 100000000000ull)
			sec = sec * 10 + (uint64_t)(*p++ - '0');
		if (p < end && *p == '.') {
			p++;
			while (p < end && isdigit((unsigned char)*p)) {
				if (fd < 9)
					frac = frac * 10 + (uint64_t)(*p - '0'), fd++;
				p++;
			}
		}
		while (fd < 9)
			frac *= 10, fd++;
		ts = sec * 1000000000ull + frac;
		while (p < end && *p == ' ')
			p++;
	}
	if (!s->start_ns && ts)
		s->start_ns = ts;
	if (ts < s->start_ns)
		ts = s->start_ns;
	size_t rest = (size_t)(end - p);
	if (rest >= 3 && !memcmp(p, "+++", 3)) {
		const char *ex = memmem(p, rest, "exited with ", 12);
		const char *kb = memmem(p, rest, "killed by ", 10);
		if (!ex && !kb)
			return 0;
		struct lfs_trace_event ev;
		lfs_trace_event_init(&ev);
		ev.sys = LFS_TR_PROC_EXIT;
		ev.tid = tid;
		ev.pid = tgid_of(s, tid);
		ev.ts_ns = ts - s->start_ns;
		if (ev.pid == ev.tid)
			ev.eflags |= LFS_TREV_GROUP;
		if (ex) {
			int v = 0;
			for (const char *q = ex + 12; q < end && isdigit((unsigned char)*q); q++)
				v = (v * 10 + (*q - '0')) & 0xffff;
			ev.exit_code = (v & 0xff) << 8;
		}
		else
			ev.exit_code = 9;   /* signal name → number is not kept; SIGKILL-like */
		return emit(ctx, &ev);
	}
	if (rest >= 4 && !memcmp(p, "<...", 4)) {
		/* "<... NAME resumed>REST" */
		const char *r = memmem(p, rest, "resumed>", 8);
		struct pending *pd = pend_find(s, tid);
		if (!r || !pd) {
			s->skipped++;
			return 0;
		}
		r += 8;
		size_t l1 = strlen(pd->text), l2 = (size_t)(end - r);
		if (l1 + l2 >= sizeof s->buf)
			l2 = sizeof s->buf - l1 - 1;
		memcpy(s->buf, pd->text, l1);
		memcpy(s->buf + l1, r, l2);
		s->buf[l1 + l2] = 0;
		uint64_t t0 = pd->ts;
		free(pd->text);
		pd->text = NULL;
		return emit_call(s, tid, t0, s->buf, l1 + l2, 0, emit, ctx);
	}
	const char *u = rest >= 16 ? memmem(p, rest, "<unfinished ...>", 16) : NULL;
	if (u) {
		struct pending *pd = pend_find(s, tid);
		if (!pd) {
			for (int i = 0; i < NPEND && !pd; i++)
				if (!s->pend[i].text)
					pd = &s->pend[i];
			if (!pd)
				pd = &s->pend[(uint32_t)tid % NPEND];
		}
		free(pd->text);
		size_t l = (size_t)(u - p);
		while (l && p[l - 1] == ' ')
			l--;
		pd->text = malloc(l + 1);
		if (!pd->text)
			return -ENOMEM;
		memcpy(pd->text, p, l);
		pd->text[l] = 0;
		pd->tid = tid;
		pd->ts = ts;
		return 0;
	}
	if (rest == 0 || (!isalpha((unsigned char)*p) && *p != '_')) {
		s->skipped++;
		return 0;
	}
	return emit_call(s, tid, ts, p, rest, 0, emit, ctx);
}

int lfs_strace_end(struct lfs_strace *s, lfs_strace_emit_fn emit, void *ctx)
{
	for (int i = 0; i < NPEND; i++) {
		struct pending *pd = &s->pend[i];
		if (!pd->text)
			continue;
		size_t l = strlen(pd->text);
		if (l >= sizeof s->buf)
			l = sizeof s->buf - 1;
		memcpy(s->buf, pd->text, l);
		s->buf[l] = 0;
		free(pd->text);
		pd->text = NULL;
		int rc = emit_call(s, pd->tid, pd->ts, s->buf, l, 1, emit, ctx);
		if (rc)
			return rc;
	}
	return 0;
}
