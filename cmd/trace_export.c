/*
 * cmd/trace_export.c — `lightfs trace export --format fio-iolog`: turn the
 * reads, writes and syncs of a trace into a fio iolog v3, so fio users can
 * replay it with `fio --read_iolog=FILE`.
 *
 * iolog v3 lines: "fio version 3 iolog", then `TIME_MS FILE add|open|close`
 * and `TIME_MS FILE read|write|sync|datasync OFFSET LENGTH`.  Offsets of
 * read()/write() come from per-(process, fd) positions rebuilt from the
 * trace: open sets 0 (O_APPEND writes go to the tracked end of file), lseek
 * and the returned byte counts move them, dup shares them, fork copies.
 */
#include "cli.h"
#include "trace/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct ofile {                /* an open file description */
	int refs;
	char *name;
	int64_t pos;
	int append;
	struct xfile *xf;
};

struct xfile {                /* a file name seen in the log */
	char *name;
	int64_t size;
	int added;
	int opens;
	struct xfile *next;
};

struct efd {
	int32_t pid, fd;
	struct ofile *of;
	struct efd *next;
};

struct exp {
	FILE *out;
	struct efd *fds[1024];
	struct xfile *files[1024];
	uint64_t lines;
};

static unsigned hsh(int32_t pid, int32_t fd) { return ((unsigned)pid * 31u + (unsigned)fd) % 1024; }

static unsigned shash(const char *s)
{
	unsigned h = 5381;
	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % 1024;
}

static struct xfile *xfile_get(struct exp *x, const char *name, uint64_t ts_ms)
{
	unsigned h = shash(name);
	for (struct xfile *f = x->files[h]; f; f = f->next)
		if (!strcmp(f->name, name))
			return f;
	struct xfile *f = calloc(1, sizeof *f);
	if (!f || !(f->name = strdup(name))) {
		free(f);
		return NULL;
	}
	f->next = x->files[h];
	x->files[h] = f;
	fprintf(x->out, "%" PRIu64 " %s add\n", ts_ms, name);
	f->added = 1;
	return f;
}

static struct efd **efd_slot(struct exp *x, int32_t pid, int32_t fd)
{
	struct efd **pp = &x->fds[hsh(pid, fd)];
	while (*pp && ((*pp)->pid != pid || (*pp)->fd != fd))
		pp = &(*pp)->next;
	return pp;
}

static void of_put(struct exp *x, struct ofile *of, uint64_t ts)
{
	if (--of->refs > 0)
		return;
	if (of->xf && --of->xf->opens == 0)
		fprintf(x->out, "%" PRIu64 " %s close\n", ts, of->name);
	free(of->name);
	free(of);
}

static void efd_close(struct exp *x, int32_t pid, int32_t fd, uint64_t ts)
{
	struct efd **pp = efd_slot(x, pid, fd), *e = *pp;
	if (!e)
		return;
	*pp = e->next;
	of_put(x, e->of, ts);
	free(e);
}

static void efd_set(struct exp *x, int32_t pid, int32_t fd, struct ofile *of, uint64_t ts)
{
	efd_close(x, pid, fd, ts);
	struct efd *e = calloc(1, sizeof *e);
	if (!e)
		return;
	e->pid = pid;
	e->fd = fd;
	e->of = of;
	of->refs++;
	struct efd **pp = &x->fds[hsh(pid, fd)];
	e->next = *pp;
	*pp = e;
}

static struct ofile *efd_get(struct exp *x, int32_t pid, int32_t fd)
{
	struct efd *e = *efd_slot(x, pid, fd);
	return e ? e->of : NULL;
}

static void io_line(struct exp *x, uint64_t ts, struct ofile *of, const char *op, int64_t off, int64_t len)
{
	if (!of->xf || len <= 0 || off < 0)
		return;
	fprintf(x->out, "%" PRIu64 " %s %s %" PRId64 " %" PRId64 "\n", ts, of->name, op, off, len);
	if (!strcmp(op, "write") && off + len > of->xf->size)
		of->xf->size = off + len;
	x->lines++;
}

static void export_event(struct exp *x, const struct lfs_trace_event *ev)
{
	uint64_t ts = ev->ts_ns / 1000000;
	struct ofile *of;
	int ok = ev->ret >= 0;
	switch (ev->sys) {
	case LFS_TR_OPEN: case LFS_TR_OPENAT: case LFS_TR_OPENAT2: case LFS_TR_CREAT:
	case LFS_TR_FD_SNAP: {
		const char *name = ev->path_abs ? ev->path_abs : ev->path;
		int32_t fd = ev->sys == LFS_TR_FD_SNAP ? ev->fd : (int32_t)ev->ret;
		if (!ok || !name)
			break;
		int regular = !(ev->eflags & LFS_TREV_STAT) || (ev->ftype & 0170000) == 0100000;
		of = calloc(1, sizeof *of);
		if (!of || !(of->name = strdup(name))) {
			free(of);
			break;
		}
		of->append = (ev->flags & O_APPEND) != 0;
		of->pos = ev->sys == LFS_TR_FD_SNAP && ev->offset > 0 ? ev->offset : 0;
		if (regular && (of->xf = xfile_get(x, name, ts))) {
			if (ev->eflags & LFS_TREV_STAT && (int64_t)ev->size > of->xf->size)
				of->xf->size = (int64_t)ev->size;
			if (ev->flags & O_TRUNC)
				of->xf->size = 0;
			if (of->xf->opens++ == 0)
				fprintf(x->out, "%" PRIu64 " %s open\n", ts, name);
		}
		efd_set(x, ev->pid, fd, of, ts);
		break;
	}
	case LFS_TR_CLOSE:
		efd_close(x, ev->pid, ev->fd, ts);
		break;
	case LFS_TR_DUP: case LFS_TR_DUP2: case LFS_TR_DUP3: case LFS_TR_FCNTL: {
		if (!ok || (ev->sys == LFS_TR_FCNTL && ev->cmd != F_DUPFD && ev->cmd != F_DUPFD_CLOEXEC))
			break;
		if ((of = efd_get(x, ev->pid, ev->fd))) {
			of->refs++;          /* hold it while the target slot is replaced */
			efd_set(x, ev->pid, ev->sys == LFS_TR_DUP2 || ev->sys == LFS_TR_DUP3 ? ev->fd2 :
				(int32_t)ev->ret, of, ts);
			of_put(x, of, ts);
		}
		break;
	}
	case LFS_TR_PROC_FORK:
		if (ev->eflags & LFS_TREV_THREAD)
			break;
		for (int b = 0; b < 1024; b++)
			for (struct efd *e = x->fds[b]; e; e = e->next)
				if (e->pid == ev->pid && !*efd_slot(x, ev->child_pid, e->fd))
					efd_set(x, ev->child_pid, e->fd, e->of, ts);
		break;
	case LFS_TR_PROC_EXIT:
		if (!(ev->eflags & LFS_TREV_GROUP))
			break;
		for (int b = 0; b < 1024; b++) {
			struct efd *e = x->fds[b];
			while (e) {
				struct efd *n = e->next;
				if (e->pid == ev->pid)
					efd_close(x, e->pid, e->fd, ts);
				e = n;
			}
		}
		break;
	case LFS_TR_LSEEK:
		if (ok && (of = efd_get(x, ev->pid, ev->fd)))
			of->pos = ev->ret;
		break;
	case LFS_TR_READ: case LFS_TR_READV:
	case LFS_TR_WRITE: case LFS_TR_WRITEV:
		if (ev->ret > 0 && (of = efd_get(x, ev->pid, ev->fd))) {
			int w = lfs_trace_sys_is_write(ev->sys);
			if (w && of->append && of->xf)
				of->pos = of->xf->size;
			io_line(x, ts, of, w ? "write" : "read", of->pos, ev->ret);
			of->pos += ev->ret;
		}
		break;
	case LFS_TR_PREAD64: case LFS_TR_PREADV: case LFS_TR_PREADV2:
	case LFS_TR_PWRITE64: case LFS_TR_PWRITEV: case LFS_TR_PWRITEV2:
		if (ev->ret > 0 && (of = efd_get(x, ev->pid, ev->fd))) {
			int w = lfs_trace_sys_is_write(ev->sys);
			int64_t off = ev->offset;
			if (off < 0) {       /* preadv2/pwritev2 with -1: file position */
				off = of->pos;
				of->pos += ev->ret;
			}
			io_line(x, ts, of, w ? "write" : "read", off, ev->ret);
		}
		break;
	case LFS_TR_FSYNC: case LFS_TR_FDATASYNC:
		if (ok && (of = efd_get(x, ev->pid, ev->fd)) && of->xf) {
			fprintf(x->out, "%" PRIu64 " %s %s\n", ts, of->name,
				ev->sys == LFS_TR_FSYNC ? "sync" : "datasync");
			x->lines++;
		}
		break;
	case LFS_TR_FTRUNCATE:
		if (ok && (of = efd_get(x, ev->pid, ev->fd)) && of->xf)
			of->xf->size = ev->offset;
		break;
	}
}

int lfs_trace_export(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *fmt = NULL, *outp = NULL;
	int opt;
	optind = 0;   /* 0: full getopt re-initialisation (GNU), as argv changed */
	while ((opt = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f': fmt = optarg; break;
		case 'o': outp = optarg; break;
		case 'h': lfs_print_cmd_help(stdout, c->cmd); return LFS_EXIT_OK;
		default: return lfs_usage(c, "export: unknown option");
		}
	}
	if (!fmt || strcmp(fmt, "fio-iolog"))
		return lfs_usage(c, "export: --format fio-iolog is required (the only format)");
	if (optind != argc - 1)
		return lfs_usage(c, "export: expected one trace FILE");
	const char *path = argv[optind];
	struct lfs_err err = { 0 };
	struct lfs_trace_reader *r;
	int rc = lfs_trace_open(&r, path, &err);
	if (rc)
		return lfs_error_code(c, path, rc, &err);
	struct exp *x = calloc(1, sizeof *x);
	if (!x) {
		lfs_trace_reader_close(r);
		return lfs_error(c, NULL, "out of memory");
	}
	x->out = outp ? fopen(outp, "w") : stdout;
	if (!x->out) {
		rc = lfs_error(c, outp, "%s", strerror(errno));
		free(x);
		lfs_trace_reader_close(r);
		return rc;
	}
	fprintf(x->out, "fio version 3 iolog\n");
	struct lfs_trace_event ev;
	uint64_t last_ts = 0;
	while ((rc = lfs_trace_next(r, &ev, &err)) > 0) {
		export_event(x, &ev);
		last_ts = ev.ts_ns / 1000000;
	}
	/* close what is still open */
	for (int b = 0; b < 1024; b++)
		while (x->fds[b])
			efd_close(x, x->fds[b]->pid, x->fds[b]->fd, last_ts);
	for (int b = 0; b < 1024; b++)
		while (x->files[b]) {
			struct xfile *f = x->files[b];
			x->files[b] = f->next;
			free(f->name);
			free(f);
		}
	int werr = ferror(x->out);
	if (outp && fclose(x->out))
		werr = 1;
	free(x);
	if (rc < 0)
		rc = lfs_error_code(c, path, rc, &err);
	else if (werr)
		rc = lfs_error(c, outp ? outp : "stdout", "write error");
	else {
		if (lfs_trace_truncated(r))
			fprintf(stderr, "lightfs: trace: %s: trace is truncated; exported the %" PRIu64
				" events before the cut\n", path, lfs_trace_count(r));
		rc = LFS_EXIT_OK;
	}
	lfs_trace_reader_close(r);
	return rc;
}
