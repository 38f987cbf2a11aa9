/*
 * cmd/replay.c — `lightfs replay [options] TRACE`: run a captured workload
 * through lightfs's page cache → txn → request channel → KV pipeline and
 * show what each layer did (text, --json, --report FILE.html, --explain N,
 * --sweep cache-size=A..B).  The work is in lib/replay; this file parses
 * options and prints.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay/replay.h"

/* "64M", "4K", "1G", "4096" → bytes. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	uint64_t mul = 1;
	switch (toupper((unsigned char)*end)) {
	case 0: break;
	case 'K': mul = 1ull << 10; end++; break;
	case 'M': mul = 1ull << 20; end++; break;
	case 'G': mul = 1ull << 30; end++; break;
	case 'T': mul = 1ull << 40; end++; break;
	case 'B': break;
	default: return -1;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	*out = (uint64_t)(v * (double)mul);
	return 0;
}

/* "30s", "500ms", "100us", "2000ns"; a bare number is milliseconds. */
static int parse_dur(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	double mul = 1e6;
	if (!strcmp(end, "s"))
		mul = 1e9;
	else if (!strcmp(end, "ms") || !*end)
		mul = 1e6;
	else if (!strcmp(end, "us") || !strcmp(end, "µs"))
		mul = 1e3;
	else if (!strcmp(end, "ns"))
		mul = 1;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60e9;
	else
		return -1;
	*out = (uint64_t)(v * mul);
	return 0;
}

/* "20", "20%" → 0.20 (percent of the cache, as vm.dirty_ratio); "0.2" → 0.2. */
static int parse_ratio(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	if (*end == '%') {
		end++;
		v /= 100;
	} else if (v >= 1) {
		v /= 100;
	}
	if (*end || v <= 0 || v > 1)
		return -1;
	*out = v;
	return 0;
}

static int parse_uint(const char *s, long long max, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int write_file(const char *path, const struct lfs_sbuf *sb)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	size_t n = sb->len ? fwrite(sb->buf, 1, sb->len, f) : 0;
	int rc = (n != sb->len || ferror(f)) ? -EIO : 0;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	return rc;
}

struct progress { int on; uint64_t last; };

static int show_progress(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;
	if (!p->on || !total)
		return 0;
	int pct = (int)(done * 100 / total);
	fprintf(stderr, "\rreplay: %3d%% (%" PRIu64 " / %" PRIu64 " events)", pct, done, total);
	p->last = done;
	return 0;
}

enum {
	O_IMAGE = 256, O_CACHE, O_PAGE, O_RA, O_DBG, O_DRATIO, O_DEXPIRE, O_WBI, O_QD, O_SCHED,
	O_COMPRESS, O_TIMING, O_ROOT, O_PID, O_WARM, O_JSON, O_REPORT, O_EXPLAIN, O_VERIFY,
	O_SWEEP, O_INTERVALS, O_NOLAT, O_TXN, O_JOBS, O_NOATOMIC,
};

static int cmd_replay_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "image", required_argument, NULL, O_IMAGE },
		{ "cache-size", required_argument, NULL, O_CACHE },
		{ "page-size", required_argument, NULL, O_PAGE },
		{ "readahead", required_argument, NULL, O_RA },
		{ "dirty-background", required_argument, NULL, O_DBG },
		{ "dirty-ratio", required_argument, NULL, O_DRATIO },
		{ "dirty-expire", required_argument, NULL, O_DEXPIRE },
		{ "writeback-interval", required_argument, NULL, O_WBI },
		{ "queue-depth", required_argument, NULL, O_QD },
		{ "sched", required_argument, NULL, O_SCHED },
		{ "compress", required_argument, NULL, O_COMPRESS },
		{ "timing", required_argument, NULL, O_TIMING },
		{ "root", required_argument, NULL, O_ROOT },
		{ "pid", required_argument, NULL, O_PID },
		{ "warm", no_argument, NULL, O_WARM },
		{ "json", no_argument, NULL, O_JSON },
		{ "report", required_argument, NULL, O_REPORT },
		{ "explain", required_argument, NULL, O_EXPLAIN },
		{ "verify", no_argument, NULL, O_VERIFY },
		{ "sweep", required_argument, NULL, O_SWEEP },
		{ "intervals", required_argument, NULL, O_INTERVALS },
		{ "no-latency", no_argument, NULL, O_NOLAT },
		{ "txn-max-pages", required_argument, NULL, O_TXN },
		{ "jobs", required_argument, NULL, O_JOBS },
		{ "no-atomic", no_argument, NULL, O_NOATOMIC },
		{ 0 },
	};
	struct lfs_replay_opts o = { 0 };
	const char *report = NULL, *sweep = NULL;
	int json = 0, jobs = 0;
	unsigned flags = 0;
	uint64_t u;
	long long ll;
	double d;
	int opt;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		const char *a = optarg;
		switch (opt) {
		case O_IMAGE: o.image = a; break;
		case O_CACHE:
			if (parse_size(a, &u) || u < 4096)
				return lfs_usage(c, "--cache-size %s: want a size of at least 4K (64M, 1G)", a);
			o.mount.cache_bytes = u;
			break;
		case O_PAGE:
			if (parse_size(a, &u) || u < 512 || u > 65536 || (u & (u - 1)))
				return lfs_usage(c, "--page-size %s: want a power of two from 512 to 64K", a);
			o.mount.mkfs.page_size = (uint32_t)u;
			break;
		case O_RA:
			if (parse_size(a, &u) || u > (1u << 30))
				return lfs_usage(c, "--readahead %s: want a size (128K; 0 or 1 page disables)", a);
			o.mount.readahead_max = u ? (uint32_t)u : 1;
			break;
		case O_DBG:
			if (parse_ratio(a, &d))
				return lfs_usage(c, "--dirty-background %s: want a percent of the cache (10)", a);
			o.mount.dirty_background_ratio = d;
			break;
		case O_DRATIO:
			if (parse_ratio(a, &d))
				return lfs_usage(c, "--dirty-ratio %s: want a percent of the cache (20)", a);
			o.mount.dirty_ratio = d;
			break;
		case O_DEXPIRE:
			if (parse_dur(a, &u) || !u)
				return lfs_usage(c, "--dirty-expire %s: want a duration (30s, 500ms)", a);
			o.mount.dirty_expire_ns = u;
			break;
		case O_WBI:
			if (parse_dur(a, &u) || !u)
				return lfs_usage(c, "--writeback-interval %s: want a duration (5s, 500ms)", a);
			o.mount.writeback_interval_ns = u;
			break;
		case O_QD:
			if (parse_uint(a, 65536, &ll) || ll < 1)
				return lfs_usage(c, "--queue-depth %s: want 1 to 65536", a);
			o.mount.queue_depth = (uint32_t)ll;
			break;
		case O_TXN:
			if (parse_uint(a, 1 << 20, &ll) || ll < 1)
				return lfs_usage(c, "--txn-max-pages %s: want a positive number", a);
			o.mount.txn_max_pages = (uint32_t)ll;
			break;
		case O_SCHED:
			if (!strcmp(a, "noop"))
				o.mount.sched = LFS_SCHED_NOOP;
			else if (!strcmp(a, "deadline"))
				o.mount.sched = LFS_SCHED_DEADLINE;
			else
				return lfs_usage(c, "--sched %s: want noop or deadline", a);
			break;
		case O_COMPRESS:
			if (!strcmp(a, "none")) {
				o.mount.mkfs.compress = 0;
			} else if (!strncmp(a, "zstd", 4) && (a[4] == 0 || a[4] == ':')) {
				o.mount.mkfs.compress = 1;
				if (a[4] == ':') {
					if (parse_uint(a + 5, 22, &ll) || ll < 1)
						return lfs_usage(c, "--compress %s: zstd level is 1 to 22", a);
					o.mount.mkfs.level = (int)ll;
				}
			} else {
				return lfs_usage(c, "--compress %s: want zstd[:LEVEL] or none", a);
			}
			break;
		case O_TIMING:
			if (!strcmp(a, "fast")) {
				o.timing = LFS_TIMING_FAST;
			} else if (!strcmp(a, "original")) {
				o.timing = LFS_TIMING_ORIGINAL;
			} else {
				char *end;
				d = strtod(a, &end);
				if (end == a || *end || !(d > 0) || d > 1e6)
					return lfs_usage(c, "--timing %s: want fast, original or a speed-up factor (2, 0.5)", a);
				o.timing = LFS_TIMING_SCALE;
				o.scale = d;
			}
			break;
		case O_ROOT:
			if (a[0] != '/')
				return lfs_usage(c, "--root %s: want an absolute path prefix", a);
			o.root = a;
			break;
		case O_PID:
			if (parse_uint(a, 1 << 30, &ll) || ll < 1)
				return lfs_usage(c, "--pid %s: want a process id", a);
			o.pid = (int)ll;
			break;
		case O_WARM: o.warm = 1; break;
		case O_NOATOMIC: o.no_atomic = 1; break;
		case O_JSON: json = 1; break;
		case O_REPORT: report = a; break;
		case O_EXPLAIN:
			if (parse_uint(a, 1000000, &ll))
				return lfs_usage(c, "--explain %s: want a number of syscalls (up to 1000000)", a);
			o.explain = (uint32_t)ll;
			break;
		case O_VERIFY: o.verify = 1; break;
		case O_SWEEP: sweep = a; break;
		case O_INTERVALS:
			if (parse_uint(a, 100000, &ll) || ll < 1)
				return lfs_usage(c, "--intervals %s: want 1 to 100000", a);
			o.intervals = (uint32_t)ll;
			break;
		case O_NOLAT: flags |= LFS_RENDER_NO_LATENCY; break;
		case O_JOBS:
			if (parse_uint(a, 64, &ll) || ll < 1)
				return lfs_usage(c, "--jobs %s: want 1 to 64", a);
			jobs = (int)ll;
			break;
		default:
			return lfs_usage(c, "bad option");
		}
	}
	if (optind != argc - 1)
		return lfs_usage(c, optind >= argc ? "missing TRACE" : "one TRACE only");
	const char *trace = argv[optind];
	if (o.image && sweep)
		return lfs_usage(c, "--sweep replays on in-memory images; drop --image");

	struct progress prog = { .on = isatty(2) && !json };
	o.progress = show_progress;
	o.progress_arg = &prog;
	struct lfs_err err = { 0 };
	int rc;

	if (sweep) {
		uint64_t from, to;
		int n = 0;
		char buf[128];
		if (strncmp(sweep, "cache-size=", 11) || strlen(sweep) >= sizeof buf)
			return lfs_usage(c, "--sweep %s: want cache-size=A..B[:N]", sweep);
		snprintf(buf, sizeof buf, "%s", sweep + 11);
		char *dots = strstr(buf, "..");
		if (!dots)
			return lfs_usage(c, "--sweep %s: want cache-size=A..B[:N]", sweep);
		*dots = 0;
		char *colon = strchr(dots + 2, ':');
		if (colon) {
			*colon = 0;
			if (parse_uint(colon + 1, 64, &ll) || ll < 2)
				return lfs_usage(c, "--sweep %s: N is 2 to 64 points", sweep);
			n = (int)ll;
		}
		if (parse_size(buf, &from) || parse_size(dots + 2, &to) || from < 4096 || to < from)
			return lfs_usage(c, "--sweep %s: want cache-size=A..B with 4K <= A <= B", sweep);
		struct lfs_sweep_point *pts;
		size_t np;
		o.progress = NULL;
		rc = lfs_replay_sweep(trace, &o, from, to, n, jobs, &pts, &np, &err);
		if (rc < 0)
			return lfs_error_code(c, err.msg[0] ? NULL : trace, rc, &err);
		struct lfs_sbuf sb = { 0 };
		if (json) {
			lfs_sweep_json(&sb, pts, np);
		} else {
			lfs_sbuf_addf(&sb, "lightfs replay --sweep: %s (%zu cache sizes, in parallel)\n\n",
				      trace, np);
			lfs_sweep_text(&sb, pts, np);
		}
		if (sb.buf)
			fputs(sb.buf, stdout);
		lfs_sbuf_free(&sb);
		if (report) {
			struct lfs_replay_result *res = calloc(1, sizeof *res);
			if (!res) {
				free(pts);
				return lfs_error(c, NULL, "out of memory");
			}
			rc = lfs_replay_run(trace, &o, res, &err);
			if (rc < 0) {
				free(pts);
				free(res);
				return lfs_error_code(c, err.msg[0] ? NULL : trace, rc, &err);
			}
			lfs_replay_html(&sb, res, pts, np, flags);
			rc = write_file(report, &sb);
			lfs_sbuf_free(&sb);
			lfs_replay_result_free(res);
			free(res);
			if (rc < 0) {
				free(pts);
				return lfs_error(c, report, "%s", strerror(-rc));
			}
			if (!json)
				printf("\nreport written to %s\n", report);
		}
		free(pts);
		return LFS_EXIT_OK;
	}

	struct lfs_replay_result *res = calloc(1, sizeof *res);
	if (!res)
		return lfs_error(c, NULL, "out of memory");
	rc = lfs_replay_run(trace, &o, res, &err);
	if (prog.on && prog.last)
		fprintf(stderr, "\r%60s\r", "");
	if (rc < 0) {
		free(res);
		return lfs_error_code(c, err.msg[0] ? NULL : trace, rc, &err);
	}
	if (res->trace_truncated)
		fprintf(stderr, "lightfs: replay: %s: trace is truncated (recorder killed or file cut); "
			"replayed the %" PRIu64 " events before the cut\n", trace, res->trace_events);
	struct lfs_sbuf sb = { 0 };
	if (json) {
		lfs_replay_json(&sb, res, flags);
	} else {
		if (res->nexplain) {
			lfs_sbuf_addf(&sb, "explain: the first %zu syscalls through the layers\n\n",
				      res->nexplain);
			lfs_replay_explain_text(&sb, res);
			lfs_sbuf_addf(&sb, "\n");
		}
		lfs_replay_text(&sb, res, flags);
	}
	if (sb.buf)
		fputs(sb.buf, stdout);
	lfs_sbuf_free(&sb);
	int status = LFS_EXIT_OK;
	if (report) {
		lfs_replay_html(&sb, res, NULL, 0, flags);
		rc = write_file(report, &sb);
		lfs_sbuf_free(&sb);
		if (rc < 0)
			status = lfs_error(c, report, "%s", strerror(-rc));
		else if (!json)
			printf("\nreport written to %s\n", report);
	}
	if (o.verify && (res->verify_failures || res->mismatches)) {
		lfs_error(c, trace, "--verify: %" PRIu64 " read(s) returned wrong bytes, %" PRIu64
			  " result mismatch(es)", res->verify_failures, res->mismatches);
		status = LFS_EXIT_FAIL;
	}
	lfs_replay_result_free(res);
	free(res);
	return status;
}

const struct lfs_cmd cmd_replay = {
	.name = "replay",
	.fn = cmd_replay_fn,
	.synopsis = "replay [options] TRACE",
	.summary = "replay a trace through the page cache → KV pipeline and report each layer",
	.help =
	"Runs the syscalls of TRACE (from `lightfs trace record` or `trace import`)\n"
	"through lightfs's own page cache, writeback, transactions, request channel\n"
	"and KV engine, and reports what each layer did.  Per-process fd tables,\n"
	"file positions, dup, O_APPEND, fork and exec (O_CLOEXEC) are rebuilt from\n"
	"the trace.  Files that existed before the capture are created first from\n"
	"the sizes recorded at open and are not counted; the cache then starts cold.\n"
	"A syscall that failed in the trace must fail the same way; every other\n"
	"difference is counted and listed as a mismatch.  Write content is a\n"
	"deterministic pattern of (inode, offset) unless the trace has --data.\n"
	"\n"
	"Engine:\n"
	"  --image IMG              replay into an image file (made if missing);\n"
	"                           default: an in-memory image, nothing on disk.  The\n"
	"                           replay is one transaction (a replay killed half-way\n"
	"                           leaves the image as it was); the traced fsyncs write\n"
	"                           their data through but the commit at the end is the\n"
	"                           one durability point\n"
	"  --no-atomic              with --image: no transaction around the replay, each\n"
	"                           traced fsync makes the image durable as it did (kv\n"
	"                           syncs), and a replay killed half-way leaves its part\n"
	"  --cache-size SIZE        page cache limit (default 64M)\n"
	"  --page-size SIZE         page size of the fresh image (default 4K)\n"
	"  --readahead MAX          readahead window limit (default 128K; 0 disables)\n"
	"  --dirty-background PCT   background writeback threshold, % of cache (10)\n"
	"  --dirty-ratio PCT        writers throttle and flush above it, % of cache (20)\n"
	"  --dirty-expire DUR       age at which dirty pages are written (30s)\n"
	"  --writeback-interval DUR periodic flusher wake-up (5s); DUR: 500ms, 5s, bare = ms\n"
	"  --queue-depth N          request channel slots (64)\n"
	"  --sched noop|deadline    request scheduler (noop)\n"
	"  --txn-max-pages N        pages per transaction (310, as LightFS)\n"
	"  --compress zstd[:L]|none value compression of the fresh image (none)\n"
	"Replay:\n"
	"  --timing fast|original|SCALE  back to back (default), the traced gaps, or\n"
	"                           the gaps divided by SCALE; the engine's clock is\n"
	"                           always trace time, so dirty expiry follows the trace\n"
	"  --root PREFIX            replay only paths under PREFIX, mapped to the image\n"
	"                           root (default: all paths but /proc, /sys, /dev)\n"
	"  --pid P                  replay only process P and its descendants\n"
	"  --warm                   keep the pre-existing files cached\n"
	"  --verify                 check every read's bytes; exit 1 on a wrong byte or a\n"
	"                           result mismatch\n"
	"Output:\n"
	"  --json                   the report as JSON (schema lightfs-replay/1,\n"
	"                           lib/replay/REPORT.md)\n"
	"  --no-latency             leave out wall-clock measurements, so the output is\n"
	"                           identical for identical runs\n"
	"  --explain N              the path of each of the first N syscalls through the layers\n"
	"  --report FILE.html       one self-contained HTML file: tables, the layer diagram,\n"
	"                           charts over trace time (no script, no network)\n"
	"  --intervals N            timeline samples over trace time (100)\n"
	"  --sweep cache-size=A..B[:N]  replay at cache sizes A, 2A, ... B (or N points),\n"
	"                           in parallel (--jobs N, default: the cores), and print the\n"
	"                           miss-ratio curve\n"
	"\n"
	"Examples:\n"
	"  lightfs replay traces/tar-xf.lft\n"
	"  lightfs replay --cache-size 8M --readahead 32K --report out.html traces/sqlite.lft\n"
	"  lightfs replay --explain 20 traces/git-commit.lft\n"
	"  lightfs replay --sweep cache-size=1M..64M traces/gcc.lft\n",
	.options = "--image --cache-size --page-size --readahead --dirty-background --dirty-ratio "
		   "--dirty-expire --writeback-interval --queue-depth --sched --txn-max-pages --compress "
		   "--timing --root --pid --warm --verify --json --no-latency --explain --report "
		   "--intervals --sweep --jobs --no-atomic",
};
