/*
 * cmd/trace_import.c — `lightfs trace import [--from strace] LOG -o FILE`:
 * convert `strace -f -ttt -T -y -yy` output into a lightfs trace.
 */
#include "cli.h"
#include "trace/strace.h"
#include "trace/trace.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

struct imp {
	struct lfs_trace_writer *w;
	struct lfs_trace_paths *paths;
	struct lfs_err err;
	int first;
};

static int imp_emit(void *ctx, struct lfs_trace_event *ev)
{
	struct imp *im = ctx;
	lfs_trace_paths_apply(im->paths, ev);
	return lfs_trace_write(im->w, ev, &im->err);
}

int lfs_trace_import(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "cwd", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *out = NULL, *cwd = NULL;
	int opt;
	optind = 0;   /* 0: full getopt re-initialisation (GNU), as argv changed */
	while ((opt = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (strcmp(optarg, "strace"))
				return lfs_usage(c, "import: --from %s: only strace is supported", optarg);
			break;
		case 'o': out = optarg; break;
		case 'C': cwd = optarg; break;
		case 'h': lfs_print_cmd_help(stdout, c->cmd); return LFS_EXIT_OK;
		default: return lfs_usage(c, "import: unknown option");
		}
	}
	if (optind != argc - 1 || !out)
		return lfs_usage(c, "import: expected STRACE.LOG and -o FILE");
	const char *in = argv[optind];
	FILE *f = strcmp(in, "-") ? fopen(in, "r") : stdin;
	if (!f)
		return lfs_error(c, in, "%s", strerror(errno));
	struct lfs_trace_header h;
	memset(&h, 0, sizeof h);
	h.exit_status = -1;
	snprintf(h.source, sizeof h.source, "strace");
	snprintf(h.cmdline, sizeof h.cmdline, "(imported from %s)", in);
	if (cwd)
		snprintf(h.cwd, sizeof h.cwd, "%s", cwd);
	h.flags = LFS_TRH_IMPORTED;
	struct imp im;
	memset(&im, 0, sizeof im);
	struct lfs_strace *sp = NULL;
	int rc = LFS_EXIT_OK;
	if (lfs_strace_new(&sp) || lfs_trace_paths_new(&im.paths)) {
		rc = lfs_error(c, NULL, "out of memory");
		goto out;
	}
	if (lfs_trace_create(&im.w, out, &h, NULL, &im.err)) {
		rc = lfs_error_code(c, out, im.err.code, &im.err);
		goto out;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int32_t first_pid = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		int e = lfs_strace_line(sp, line, (size_t)n, imp_emit, &im);
		if (!first_pid && lfs_strace_calls(sp)) {
			/* nothing: the cwd of the first process is only known if given */
		}
		if (e) {
			rc = lfs_error_code(c, out, e, &im.err);
			break;
		}
		if (cwd && !first_pid) {
			/* the first tid in the log is the root process */
			const char *p = line;
			while (*p == ' ')
				p++;
			first_pid = atoi(p[0] == '[' ? p + 4 : p);
			if (first_pid > 0)
				lfs_trace_paths_set_cwd(im.paths, first_pid, cwd);
		}
	}
	free(line);
	if (rc == LFS_EXIT_OK) {
		int e = lfs_strace_end(sp, imp_emit, &im);
		if (e)
			rc = lfs_error_code(c, out, e, &im.err);
	}
	h.start_real_ns = lfs_strace_start_ns(sp);
	h.root_pid = first_pid;
	if (lfs_trace_finish(im.w, &h, &im.err) && rc == LFS_EXIT_OK)
		rc = lfs_error_code(c, out, im.err.code, &im.err);
	im.w = NULL;
	if (rc == LFS_EXIT_OK)
		fprintf(stderr, "lightfs: trace: imported %" PRIu64 " calls (%" PRIu64 " lines skipped) -> %s\n",
			lfs_strace_calls(sp), lfs_strace_skipped(sp), out);
out:
	if (f != stdin)
		fclose(f);
	lfs_strace_free(sp);
	lfs_trace_paths_free(im.paths);
	return rc;
}
