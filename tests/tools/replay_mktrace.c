/*
 * tests/tools/replay_mktrace.c — write a synthetic trace from a small text
 * script, through the real trace writer API (lib/trace), for replay tests.
 *
 *   replay_mktrace OUT.lft < script
 *
 * One event per line; '#' starts a comment:
 *
 *   [@MS] PID SYSCALL key=value ... [= RET]
 *
 * @MS sets the event time in milliseconds (default: 1 ms after the last
 * event).  RET is a number or -ENAME (-ENOENT, -EEXIST, -EBADF, -ENOTEMPTY,
 * -EISDIR, -ENOTDIR, -EACCES, -EINVAL, -ENOSPC); default 0.  Keys:
 *   fd fd2 count offset offset2 whence mode cmd arg size child
 *   flags=O_RDWR|O_CREAT|O_TRUNC|O_APPEND|O_EXCL|O_DIRECTORY|O_CLOEXEC|N
 *   path=/abs path2=/abs  (path_abs = path: scripts use absolute paths)
 *   type=reg|dir|chr|fifo (sets the open stat: size, ino = a hash, ftype)
 *   thread=1 (proc_fork of a thread)  group=1 (proc_exit of the process)
 *   data=TEXT (write payload)
 * Header: a line `cmdline TEXT` sets the traced command.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trace/trace.h"

static int errno_of(const char *s)
{
	static const struct { const char *n; int v; } t[] = {
		{ "ENOENT", ENOENT }, { "EEXIST", EEXIST }, { "EBADF", EBADF },
		{ "ENOTEMPTY", ENOTEMPTY }, { "EISDIR", EISDIR }, { "ENOTDIR", ENOTDIR },
		{ "EACCES", EACCES }, { "EINVAL", EINVAL }, { "ENOSPC", ENOSPC },
		{ "EPERM", EPERM }, { "EXDEV", EXDEV },
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (!strcmp(s, t[i].n))
			return t[i].v;
	return 0;
}

static uint64_t flags_of(const char *s)
{
	static const struct { const char *n; uint64_t v; } t[] = {
		{ "O_RDONLY", O_RDONLY }, { "O_WRONLY", O_WRONLY }, { "O_RDWR", O_RDWR },
		{ "O_CREAT", O_CREAT }, { "O_TRUNC", O_TRUNC }, { "O_APPEND", O_APPEND },
		{ "O_EXCL", O_EXCL }, { "O_DIRECTORY", O_DIRECTORY }, { "O_CLOEXEC", O_CLOEXEC },
	};
	uint64_t f = 0;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", s);
	char *save = NULL;
	for (char *tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		int found = 0;
		for (size_t i = 0; i < sizeof t / sizeof *t; i++)
			if (!strcmp(tok, t[i].n)) {
				f |= t[i].v;
				found = 1;
			}
		if (!found)
			f |= strtoull(tok, NULL, 0);
	}
	return f;
}

static uint64_t hpath(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h & 0xffffffff;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: replay_mktrace OUT.lft < script\n");
		return 2;
	}
	struct lfs_trace_header h;
	memset(&h, 0, sizeof h);
	snprintf(h.host, sizeof h.host, "synthetic");
	snprintf(h.source, sizeof h.source, "synthetic");
	snprintf(h.cmdline, sizeof h.cmdline, "synthetic test trace");
	h.exit_status = -1;

	char line[8192];
	struct lfs_trace_event *evs = NULL;
	char **strs = NULL;
	size_t nev = 0, nstr = 0;
	uint64_t t = 0, seq = 0;
	int lineno = 0;
	while (fgets(line, sizeof line, stdin)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "cmdline ", 8)) {
			snprintf(h.cmdline, sizeof h.cmdline, "%.1000s", line + 8);
			continue;
		}
		char *tok = strtok(line, " \t");
		if (!tok)
			continue;
		struct lfs_trace_event ev;
		lfs_trace_event_init(&ev);
		if (tok[0] == '@') {
			t = (uint64_t)(strtod(tok + 1, NULL) * 1e6);
			tok = strtok(NULL, " \t");
		} else {
			t += 1000000;
		}
		if (!tok)
			goto bad;
		ev.ts_ns = t;
		ev.seq = ++seq;
		ev.pid = ev.tid = (int32_t)strtol(tok, NULL, 10);
		tok = strtok(NULL, " \t");
		if (!tok || !(ev.sys = (uint16_t)lfs_trace_sys_from_name(tok)))
			goto bad;
		ev.dirfd = LFS_TR_AT_FDCWD;
		int want_ret = 0;
		while ((tok = strtok(NULL, " \t"))) {
			if (!strcmp(tok, "=")) {
				want_ret = 1;
				continue;
			}
			if (want_ret) {
				if (tok[0] == '-' && tok[1] == 'E')
					ev.ret = -errno_of(tok + 1);
				else
					ev.ret = strtoll(tok, NULL, 0);
				continue;
			}
			char *eq = strchr(tok, '=');
			if (!eq)
				goto bad;
			*eq = 0;
			const char *k = tok, *v = eq + 1;
			if (!strcmp(k, "fd")) ev.fd = (int32_t)strtol(v, NULL, 0);
			else if (!strcmp(k, "fd2")) ev.fd2 = (int32_t)strtol(v, NULL, 0);
			else if (!strcmp(k, "count")) ev.count = strtoull(v, NULL, 0);
			else if (!strcmp(k, "offset")) ev.offset = strtoll(v, NULL, 0);
			else if (!strcmp(k, "offset2")) ev.offset2 = strtoll(v, NULL, 0);
			else if (!strcmp(k, "whence")) ev.whence = (int32_t)strtol(v, NULL, 0);
			else if (!strcmp(k, "mode")) ev.mode = (uint32_t)strtoul(v, NULL, 0);
			else if (!strcmp(k, "cmd")) ev.cmd = (int32_t)strtol(v, NULL, 0);
			else if (!strcmp(k, "arg")) ev.arg = strtoull(v, NULL, 0);
			else if (!strcmp(k, "flags")) ev.flags = flags_of(v);
			else if (!strcmp(k, "size")) ev.size = strtoull(v, NULL, 0);
			else if (!strcmp(k, "child")) ev.child_pid = ev.child_tid = (int32_t)strtol(v, NULL, 0);
			else if (!strcmp(k, "thread")) ev.eflags |= LFS_TREV_THREAD;
			else if (!strcmp(k, "group")) ev.eflags |= LFS_TREV_GROUP;
			else if (!strcmp(k, "type")) {
				ev.eflags |= LFS_TREV_STAT;
				ev.ftype = !strcmp(v, "dir") ? S_IFDIR | 0755 : !strcmp(v, "chr") ? S_IFCHR | 0666 :
					   !strcmp(v, "fifo") ? S_IFIFO | 0600 : S_IFREG | 0644;
			} else if (!strcmp(k, "path") || !strcmp(k, "path2") || !strcmp(k, "data")) {
				char *s = strdup(v);
				char **ns = realloc(strs, (nstr + 1) * sizeof *ns);
				if (!s || !ns)
					return 1;
				strs = ns;
				strs[nstr++] = s;
				if (k[4] == '2') {
					ev.path2 = ev.path2_abs = s;
					ev.dirfd2 = LFS_TR_AT_FDCWD;
				} else if (k[0] == 'p') {
					ev.path = ev.path_abs = s;
				} else {
					ev.data = (const uint8_t *)s;
					ev.data_len = (uint32_t)strlen(s);
				}
			} else {
				goto bad;
			}
		}
		if ((ev.eflags & LFS_TREV_STAT) && ev.path)
			ev.ino = hpath(ev.path);
		struct lfs_trace_event *ne = realloc(evs, (nev + 1) * sizeof *ne);
		if (!ne)
			return 1;
		evs = ne;
		evs[nev++] = ev;
		continue;
bad:
		fprintf(stderr, "replay_mktrace: line %d: cannot parse\n", lineno);
		return 2;
	}
	struct lfs_trace_writer *w;
	struct lfs_err err;
	int any_data = 0;
	for (size_t i = 0; i < nev; i++)
		any_data |= evs[i].data != NULL;
	if (any_data) {
		h.flags |= LFS_TRH_DATA;
		h.data_max = 1 << 20;
	}
	if (nev)
		h.duration_ns = evs[nev - 1].ts_ns;
	if (lfs_trace_create(&w, argv[1], &h, NULL, &err) < 0) {
		fprintf(stderr, "replay_mktrace: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < nev; i++)
		if (lfs_trace_write(w, &evs[i], &err) < 0) {
			fprintf(stderr, "replay_mktrace: %s\n", err.msg);
			return 1;
		}
	if (lfs_trace_finish(w, NULL, &err) < 0) {
		fprintf(stderr, "replay_mktrace: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < nstr; i++)
		free(strs[i]);
	free(strs);
	free(evs);
	return 0;
}
