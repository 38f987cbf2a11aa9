/*
 * lib/replay/replay.h — replay a syscall trace through the lightfs engine.
 *
 *   trace file (lib/trace) → [replay] → vfs → pagecache → fs → txn → io → kv
 *
 * lfs_replay_run() mounts an image (in memory by default), rebuilds the
 * traced processes (one lfs_proc per traced process; threads share it; fork
 * inherits fds; exec closes O_CLOEXEC fds), creates the files that existed
 * before the trace from the sizes recorded at open (not counted), drops the
 * cache (cold unless opts.warm), then issues every in-scope syscall of the
 * trace in order against the engine and fills a struct lfs_replay_result:
 * per-syscall counts/bytes/errors/latency, every layer's counters, a
 * timeline over trace time, and optionally the --explain record of the
 * first N syscalls.  The renderers in report.c turn a result into text,
 * JSON (schema in lib/replay/REPORT.md) or a self-contained HTML report.
 *
 * Invariants
 *  - Nothing here prints or exits; renderers append to a struct lfs_sbuf.
 *  - A result is fully deterministic for a given trace and options except
 *    the members documented as "measured" (latency histograms, wall time,
 *    events/s), which the renderers can omit (no_latency).
 *  - A syscall that failed in the trace is replayed and must fail with the
 *    same errno; any other outcome (and any success that returns a different
 *    value) is a mismatch: counted per syscall, and the first
 *    LFS_REPLAY_MAX_MISMATCH are kept with their event number.
 */
#ifndef LFS_REPLAY_REPLAY_H
#define LFS_REPLAY_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "vfs/lightfs.h"

/* ---------------------------------------------------------------- buffer */

/* A growing string (git's strbuf): the renderers append to one. */
struct lfs_sbuf { char *buf; size_t len, cap; int oom; };
void lfs_sbuf_addf(struct lfs_sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void lfs_sbuf_add(struct lfs_sbuf *sb, const char *s, size_t n);
void lfs_sbuf_free(struct lfs_sbuf *sb);

/* ---------------------------------------------------------------- options */

enum lfs_replay_timing {
	LFS_TIMING_FAST = 0,       /* issue events back to back */
	LFS_TIMING_ORIGINAL,       /* sleep to reproduce the traced gaps */
	LFS_TIMING_SCALE,          /* gaps divided by opts.scale */
};

struct lfs_replay_opts {
	const char *image;         /* NULL: in-memory image (nothing on disk);
	                              else this file, made with mount.mkfs if absent */
	struct lfs_mount_opts mount; /* cache, readahead, dirty, queue, sched, mkfs */
	enum lfs_replay_timing timing;
	double   scale;            /* LFS_TIMING_SCALE: speed-up factor (> 0) */
	const char *root;          /* replay only paths under it, mapped to "/" */
	int      pid;              /* > 0: only this pid and its descendants */
	int      warm;             /* keep the set-up files cached */
	int      no_atomic;        /* image: no command-wide transaction (each
	                              traced fsync a durability point; a replay
	                              killed half-way leaves a half-replayed image) */
	int      verify;           /* check every read's bytes */
	uint32_t explain;          /* record the path of the first N syscalls */
	uint32_t intervals;        /* timeline samples over trace time, 0 = 100 */
	/* Optional: called every ~64k events (done, total); non-zero cancels. */
	int    (*progress)(void *arg, uint64_t done, uint64_t total);
	void    *progress_arg;
};

/* ---------------------------------------------------------------- result */

#define LFS_REPLAY_MAX_SYS      64  /* indexed by enum lfs_tr_sys */
#define LFS_REPLAY_MAX_MISMATCH 32

/* One row per syscall (index = enum lfs_tr_sys; rows with count 0 unused). */
struct lfs_replay_sys {
	char     name[24];
	uint64_t count;            /* events of this syscall replayed */
	uint64_t bytes;            /* bytes the replayed calls moved */
	uint64_t errors;           /* calls that failed in the trace */
	uint64_t mismatches;       /* replay result differed from the trace */
	struct lfs_hist lat;       /* measured: time in the engine */
};

struct lfs_replay_mismatch {
	uint64_t event;            /* 0-based event number in the trace */
	uint32_t pid;
	char     sys[24];
	int64_t  want, got;        /* traced return (-errno) vs replayed */
	char     what[160];        /* path or fd */
};

/* One timeline point, taken when trace time crosses an interval boundary.
 * Counters are cumulative since the measured phase began; cached/dirty are
 * the values at that instant. */
struct lfs_replay_sample {
	uint64_t t_ns;             /* trace time since the first event */
	uint64_t events;
	uint64_t lookups, hits, misses;
	uint64_t pages_cached, pages_dirty;
	uint64_t kv_gets, kv_puts, kv_dels, kv_scans;
	uint64_t kv_bytes_put, kv_bytes_got;
	uint64_t app_read, app_written;
};

/* --explain: one syscall and the steps it took through the layers. */
struct lfs_replay_explain {
	uint64_t event;
	uint32_t pid;
	char     call[200];        /* "read(3</a/b>, 4096 bytes) = 4096" */
	char     entry[96];        /* the kernel-style entry path of that syscall:
	                              "vfs_read → generic_file_read_iter → filemap_read" */
	size_t   nev;
	struct lfs_event *ev;      /* the engine's events, in order */
	int      truncated;        /* more than LFS_REPLAY_EXPLAIN_MAX_EV events */
};
#define LFS_REPLAY_EXPLAIN_MAX_EV 4096

struct lfs_replay_result {
	/* the trace */
	char     trace[256];       /* path as given */
	char     command[256];     /* traced command line */
	char     host[64];
	uint64_t trace_events;     /* events in the file */
	uint64_t lost_events;      /* reported lost by the recorder */
	int      trace_truncated;  /* the file ends before its END record (killed
	                              recorder, cut copy): only its prefix replayed */
	uint64_t duration_ns;      /* last - first event time */
	uint32_t processes;        /* distinct processes replayed */

	/* the options the run used (defaults resolved) */
	struct {
		char     image[256];   /* "" = in memory */
		uint64_t cache_bytes;
		uint32_t page_size, readahead_max, queue_depth, txn_max_pages;
		double   dirty_background_ratio, dirty_ratio;
		uint64_t dirty_expire_ns, writeback_interval_ns;
		int      sched, compress, timing, warm, verify;
		int      atomic;       /* image file, one transaction (not --no-atomic) */
		double   scale;
		char     root[256];
		int      pid;
	} opt;

	/* what replay did with the events */
	uint64_t replayed;         /* syscalls issued to the engine */
	uint64_t out_of_scope;     /* pipes, sockets, /proc, outside --root/--pid */
	uint64_t unsupported;      /* syscalls the engine has no equivalent for */
	uint64_t setup_files, setup_dirs, setup_bytes; /* pre-existing, not counted */

	struct lfs_replay_sys sys[LFS_REPLAY_MAX_SYS];
	int      nsys;
	uint64_t app_read, app_written;   /* bytes of replayed reads / writes */

	uint64_t errors_expected;  /* traced failures reproduced exactly */
	uint64_t mismatches;
	struct lfs_replay_mismatch mm[LFS_REPLAY_MAX_MISMATCH];
	int      nmm;

	/* --verify */
	uint64_t verify_reads, verify_bytes, verify_failures;
	char     verify_first[200];

	/* every layer, measured phase only (set-up subtracted) */
	struct lfs_stats st;

	/* derived */
	double   hit_ratio;        /* hits / lookups */
	double   ra_efficiency;    /* ra_used / ra_pages */
	double   pages_per_txn;
	double   write_amp;        /* image bytes written / app bytes written */
	double   read_amp;         /* image bytes read / app bytes read */

	/* measured */
	uint64_t wall_ns;
	double   events_per_sec;
	uint64_t cpu_user_ns;      /* CPU time of the replay pass, every thread of */
	uint64_t cpu_sys_ns;       /* the process (the KV channel's server too) */
	uint64_t cpu_replay_thread_ns; /* CPU time (user + system) of the replay
	                              thread alone: the pass's critical path */

	struct lfs_replay_sample *samples;
	size_t   nsamples;
	struct lfs_replay_explain *explain;
	size_t   nexplain;
};

/* Replay the trace file at path.  On success fills *res (free it with
 * lfs_replay_result_free) and returns 0; a replay with mismatches or verify
 * failures still returns 0 (the caller decides).  Errors: bad trace, image
 * cannot be made or mounted, engine failure outside the traced calls. */
int  lfs_replay_run(const char *path, const struct lfs_replay_opts *o,
		    struct lfs_replay_result *res, struct lfs_err *err);
void lfs_replay_result_free(struct lfs_replay_result *res);

/* Resolved defaults of o into res->opt (also done by lfs_replay_run). */
void lfs_replay_fill_opts(struct lfs_replay_result *res, const struct lfs_replay_opts *o);

/* The content of a write without recorded payload: n bytes of the pure
 * function pattern(ino, offset) (lib/replay/REPORT.md), as replay writes
 * them; _ref computes the same bytes one at a time (the definition, for
 * tests). */
void lfs_replay_pattern(uint8_t *buf, uint64_t ino, uint64_t off, size_t n);
void lfs_replay_pattern_ref(uint8_t *buf, uint64_t ino, uint64_t off, size_t n);
/* Which generator lfs_replay_pattern uses: 2 AVX2, 1 SSSE3, 0 portable
 * (chosen from the CPU on first use).  isa >= 0 forces one (tests; -1 if
 * the CPU lacks it); returns the one in use (-1 before first use). */
int  lfs_replay_pattern_isa(int isa);

/* ---------------------------------------------------------------- sweep */

struct lfs_sweep_point {
	uint64_t cache_bytes;
	double   hit_ratio, miss_ratio;
	uint64_t lookups, misses, readpage, ra_pages, kv_gets, image_bytes_read;
	uint64_t pages_written, txns;
	int      status;           /* 0, or the error of that replay */
};

/* Replay the trace once per cache size (from..to, doubling; or n points
 * spaced geometrically when n > 1) on up to `jobs` threads (0 = cores).
 * Each replay is independent (its own in-memory mount).  *pts is malloc'd. */
int lfs_replay_sweep(const char *path, const struct lfs_replay_opts *o,
		     uint64_t from, uint64_t to, int n, int jobs,
		     struct lfs_sweep_point **pts, size_t *npts, struct lfs_err *err);

/* ---------------------------------------------------------------- renderers */

enum lfs_render_flags {
	LFS_RENDER_NO_LATENCY = 1,   /* omit the measured members (deterministic) */
};

/* Human-readable report with the layer diagram. */
void lfs_replay_text(struct lfs_sbuf *sb, const struct lfs_replay_result *r, unsigned flags);
/* The layer diagram alone, with the counts on each arrow (NO_LATENCY: without
 * the measured queue depth reached). */
void lfs_replay_diagram(struct lfs_sbuf *sb, const struct lfs_replay_result *r, unsigned flags);
/* --explain lines for the recorded syscalls. */
void lfs_replay_explain_text(struct lfs_sbuf *sb, const struct lfs_replay_result *r);
/* JSON document, schema "lightfs-replay/1" (lib/replay/REPORT.md). */
void lfs_replay_json(struct lfs_sbuf *sb, const struct lfs_replay_result *r, unsigned flags);
/* Self-contained HTML (inline CSS + SVG, no script).  sweep may be NULL. */
void lfs_replay_html(struct lfs_sbuf *sb, const struct lfs_replay_result *r,
		     const struct lfs_sweep_point *sweep, size_t nsweep, unsigned flags);
/* Sweep table (text) and JSON. */
void lfs_sweep_text(struct lfs_sbuf *sb, const struct lfs_sweep_point *p, size_t n);
void lfs_sweep_json(struct lfs_sbuf *sb, const struct lfs_sweep_point *p, size_t n);

/* Quantile q of a log2 histogram, interpolated inside the bucket (ns). */
uint64_t lfs_replay_hist_q(const struct lfs_hist *h, double q);
/* "4.0 KiB", "12.5 MiB" */
const char *lfs_replay_human(char *buf, size_t cap, uint64_t bytes);

#endif
