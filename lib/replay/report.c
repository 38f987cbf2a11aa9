/*
 * lib/replay/report.c — turn a struct lfs_replay_result into text (with the
 * seed's layer diagram), JSON (schema lightfs-replay/1, REPORT.md), the
 * --explain listing, and one self-contained HTML file (inline CSS and SVG,
 * no script, no network).  Everything appends to a struct lfs_sbuf.
 */
#include "replay/replay.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

const char *lfs_replay_human(char *buf, size_t cap, uint64_t b)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, cap, "%" PRIu64 " B", b);
	else
		snprintf(buf, cap, "%.1f %s", v, u[i]);
	return buf;
}

uint64_t lfs_replay_hist_q(const struct lfs_hist *h, double q)
{
	uint64_t total = 0;
	for (int i = 0; i < LFS_HIST_BUCKETS; i++)
		total += h->b[i];
	if (!total)
		return 0;
	double rank = q * (double)total;
	uint64_t seen = 0;
	for (int i = 0; i < LFS_HIST_BUCKETS; i++) {
		if (!h->b[i])
			continue;
		if ((double)(seen + h->b[i]) >= rank) {
			double lo = i ? (double)(1ull << i) : 0, hi = (double)(1ull << (i + 1));
			double frac = (rank - (double)seen) / (double)h->b[i];
			if (frac < 0)
				frac = 0;
			uint64_t v = (uint64_t)(lo + frac * (hi - lo));
			if (h->max_ns && v > h->max_ns)
				v = h->max_ns;
			return v;
		}
		seen += h->b[i];
	}
	return h->max_ns;
}

static const char *dur(char *buf, size_t cap, uint64_t ns)
{
	if (ns < 10000)
		snprintf(buf, cap, "%" PRIu64 " ns", ns);
	else if (ns < 10000000)
		snprintf(buf, cap, "%.1f µs", (double)ns / 1e3);
	else if (ns < 1000000000ull)
		snprintf(buf, cap, "%.1f ms", (double)ns / 1e6);
	else
		snprintf(buf, cap, "%.2f s", (double)ns / 1e9);
	return buf;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static const char *sched_name(int s)
{
	return s == LFS_SCHED_DEADLINE ? "deadline" : "noop";
}

static const char *timing_name(int t)
{
	return t == LFS_TIMING_ORIGINAL ? "original" : t == LFS_TIMING_SCALE ? "scale" : "fast";
}

/* Display width of UTF-8 text (box-drawing characters are one column). */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

/* One diagram row: left column padded to `col`, then the right column. */
static void row2(struct lfs_sbuf *sb, int col, const char *l, const char *r)
{
	lfs_sbuf_addf(sb, "  %s", l);
	if (r && *r) {
		size_t w = width(l);
		for (size_t i = w; i < (size_t)col; i++)
			lfs_sbuf_add(sb, " ", 1);
		if (w >= (size_t)col)
			lfs_sbuf_add(sb, " ", 1);
		lfs_sbuf_addf(sb, "%s", r);
	}
	lfs_sbuf_add(sb, "\n", 1);
}

/* ---------------------------------------------------------------- diagram */

void lfs_replay_diagram(struct lfs_sbuf *sb, const struct lfs_replay_result *r, unsigned flags)
{
	const struct lfs_stats *s = &r->st;
	char a[400], b[400], h1[32], h2[32], h3[32];
	const int C = 50;

	snprintf(a, sizeof a, "write(2)  ×%" PRIu64 "  %s", s->vfs.writes,
		 lfs_replay_human(h1, sizeof h1, s->vfs.bytes_written));
	snprintf(b, sizeof b, "read(2)  ×%" PRIu64 "  %s", s->vfs.reads,
		 lfs_replay_human(h2, sizeof h2, s->vfs.bytes_read));
	row2(sb, C, a, b);
	row2(sb, C, "  │", "  │");
	snprintf(a, sizeof a, "  ▼ %" PRIu64 " calls", s->vfs.writes);
	snprintf(b, sizeof b, "  ▼ %" PRIu64 " calls", s->vfs.reads);
	row2(sb, C, a, b);
	row2(sb, C, "generic_file_write_iter", "generic_file_read_iter");
	row2(sb, C, " → generic_perform_write", " → filemap_read (find_get_page)");
	snprintf(a, sizeof a, "  │ %" PRIu64 " pages copied in (rmw reads %" PRIu64 ")",
		 s->pc.pages_dirtied, s->pc.rmw_reads);
	snprintf(b, sizeof b, "  │ %" PRIu64 " lookups: %" PRIu64 " hit, %" PRIu64 " miss (%.1f%%)",
		 s->pc.lookups, s->pc.hits, s->pc.misses, 100.0 * r->hit_ratio);
	row2(sb, C, a, b);
	snprintf(b, sizeof b, "  ▼ %" PRIu64 " misses", s->pc.misses);
	row2(sb, C, "  ▼", b);
	row2(sb, C, "lightfs_write_begin / lightfs_write_end", "lightfs_readpage / readahead");
	snprintf(a, sizeof a, "  │ %" PRIu64 " pages dirtied (PG_dirty)", s->pc.pages_dirtied);
	snprintf(b, sizeof b, "  │ readpage ×%" PRIu64 ", readahead ×%" PRIu64 " (%" PRIu64 " async)",
		 s->pc.readpage, s->pc.readahead_calls, s->pc.async_ra);
	row2(sb, C, a, b);
	snprintf(a, sizeof a, "  │ writepages ×%" PRIu64 ": bg %" PRIu64 ", hard %" PRIu64 ", expire %" PRIu64,
		 s->pc.writepages_calls, s->pc.bg_writeback, s->pc.hard_writeback, s->pc.expire_writeback);
	snprintf(b, sizeof b, "  │ %" PRIu64 " pages read ahead, %" PRIu64 " used (%.1f%%)",
		 s->pc.ra_pages, s->pc.ra_used, 100.0 * r->ra_efficiency);
	row2(sb, C, a, b);
	snprintf(a, sizeof a, "  ▼ %" PRIu64 " pages written back, %" PRIu64 " evicted",
		 s->pc.pages_written, s->pc.pages_evicted);
	snprintf(b, sizeof b, "  │ %" PRIu64 " page reads", s->pc.readpage + s->pc.ra_pages);
	row2(sb, C, a, b);
	snprintf(a, sizeof a, "lightfs_cache_insert_data → txn handler");
	row2(sb, C, a, "  │ lightfs_cache_get_data");
	snprintf(a, sizeof a, "  │ %" PRIu64 " txns, %" PRIu64 " pages (%.1f/txn, max %" PRIu64 "), %" PRIu64 " meta ops",
		 s->txn.txns, s->txn.pages, r->pages_per_txn, s->txn.max_pages, s->txn.meta_ops);
	row2(sb, C, a, "  │");
	snprintf(a, sizeof a, "  ▼ lightfs_io_transfer (%" PRIu64 " writes)", s->io.writes);
	snprintf(b, sizeof b, "  ▼ lightfs_io_get (%" PRIu64 " reads)", s->io.reads);
	row2(sb, C, a, b);
	snprintf(a, sizeof a, "request channel (cheeze_io → send_req → shm ring, %s)",
		 sched_name(r->opt.sched));
	row2(sb, C, a, NULL);
	if (flags & LFS_RENDER_NO_LATENCY)   /* the depth reached is measured (thread timing) */
		snprintf(a, sizeof a, "  │ %" PRIu64 " requests, %" PRIu64 " merges, depth %u",
			 s->io.requests, s->io.merges, r->opt.queue_depth);
	else
		snprintf(a, sizeof a, "  │ %" PRIu64 " requests, %" PRIu64 " merges, max depth %" PRIu64 " of %u",
			 s->io.requests, s->io.merges, s->io.max_depth, r->opt.queue_depth);
	row2(sb, C, a, NULL);
	snprintf(a, sizeof a, "  ▼ shm_kthread → recv_req");
	row2(sb, C, a, NULL);
	snprintf(a, sizeof a, "db_put ×%" PRIu64 " (%s), db_del ×%" PRIu64,
		 s->kv.puts, lfs_replay_human(h1, sizeof h1, s->kv.bytes_put), s->kv.dels + s->kv.range_dels);
	snprintf(b, sizeof b, "db_get ×%" PRIu64 " (%s), scan ×%" PRIu64,
		 s->kv.gets, lfs_replay_human(h2, sizeof h2, s->kv.bytes_got), s->kv.scans);
	row2(sb, C, a, b);
	snprintf(a, sizeof a, "  │ %" PRIu64 " batches, %" PRIu64 " syncs", s->kv.batches, s->kv.syncs);
	row2(sb, C, a, "  │");
	snprintf(a, sizeof a, "  ▼ %s written", lfs_replay_human(h1, sizeof h1, s->kv.file_bytes_written));
	snprintf(b, sizeof b, "  ▼ %s read", lfs_replay_human(h2, sizeof h2, s->kv.file_bytes_read));
	row2(sb, C, a, b);
	snprintf(a, sizeof a, "image file (%.300s)", r->opt.image[0] ? r->opt.image : "in memory");
	snprintf(b, sizeof b, "write amp %.2f, read amp %.2f (%s app written)", r->write_amp,
		 r->read_amp, lfs_replay_human(h3, sizeof h3, r->app_written));
	row2(sb, C, a, b);
}

/* ---------------------------------------------------------------- text */

void lfs_replay_text(struct lfs_sbuf *sb, const struct lfs_replay_result *r, unsigned flags)
{
	const struct lfs_stats *s = &r->st;
	char h1[32], h2[32], h3[32], d1[32], d2[32];

	lfs_sbuf_addf(sb, "lightfs replay: %s\n", r->trace);
	lfs_sbuf_addf(sb, "  trace      %s%.90s%s%s, %" PRIu64 " events (%" PRIu64 " lost), %.3f s, %u processes\n",
		      r->command[0] ? "`" : "", r->command[0] ? r->command : "(no command)",
		      strlen(r->command) > 90 ? "…" : "",
		      r->command[0] ? "`" : "", r->trace_events, r->lost_events,
		      (double)r->duration_ns / 1e9, r->processes);
	lfs_sbuf_addf(sb, "  engine     %s%s, cache %s, page %s, readahead %s, dirty %.0f%%/%.0f%%, "
		      "expire %s, writeback every %s\n",
		      r->opt.image[0] ? r->opt.image : "in-memory image",
		      !r->opt.image[0] ? "" : r->opt.atomic ? " (one transaction)" : " (no transaction)",
		      lfs_replay_human(h1, sizeof h1, r->opt.cache_bytes),
		      lfs_replay_human(h2, sizeof h2, r->opt.page_size),
		      lfs_replay_human(h3, sizeof h3, r->opt.readahead_max),
		      100 * r->opt.dirty_background_ratio, 100 * r->opt.dirty_ratio,
		      dur(d1, sizeof d1, r->opt.dirty_expire_ns),
		      dur(d2, sizeof d2, r->opt.writeback_interval_ns));
	lfs_sbuf_addf(sb, "             queue depth %u, %s, txn ≤ %u pages, compress %s, timing %s%s%s\n",
		      r->opt.queue_depth, sched_name(r->opt.sched), r->opt.txn_max_pages,
		      r->opt.compress ? "zstd" : "none", timing_name(r->opt.timing),
		      r->opt.warm ? ", warm cache" : ", cold cache",
		      r->opt.verify ? ", verify" : "");
	if (r->opt.root[0] || r->opt.pid)
		lfs_sbuf_addf(sb, "  filter     root %s, %s%.0d\n", r->opt.root[0] ? r->opt.root : "/",
			      r->opt.pid ? "pid " : "all processes", r->opt.pid);
	lfs_sbuf_addf(sb, "  replayed   %" PRIu64 " syscalls; %" PRIu64 " out of scope, %" PRIu64
		      " unsupported; set-up %" PRIu64 " files, %" PRIu64 " dirs, %s (not counted)\n",
		      r->replayed, r->out_of_scope, r->unsupported, r->setup_files, r->setup_dirs,
		      lfs_replay_human(h1, sizeof h1, r->setup_bytes));
	lfs_sbuf_addf(sb, "  errors     %" PRIu64 " traced failures reproduced, %" PRIu64 " mismatches\n",
		      r->errors_expected, r->mismatches);
	for (int i = 0; i < r->nmm; i++) {
		const struct lfs_replay_mismatch *m = &r->mm[i];
		lfs_sbuf_addf(sb, "    MISMATCH event %" PRIu64 " pid %u %s(%s): trace %" PRId64
			      ", replay %" PRId64 "\n", m->event, m->pid, m->sys, m->what, m->want, m->got);
	}
	if (r->mismatches > (uint64_t)r->nmm)
		lfs_sbuf_addf(sb, "    ... %" PRIu64 " more\n", r->mismatches - (uint64_t)r->nmm);
	if (r->opt.verify) {
		lfs_sbuf_addf(sb, "  verify     %" PRIu64 " reads, %s checked, %" PRIu64 " failures\n",
			      r->verify_reads, lfs_replay_human(h1, sizeof h1, r->verify_bytes),
			      r->verify_failures);
		if (r->verify_failures)
			lfs_sbuf_addf(sb, "    first: %s\n", r->verify_first);
	}

	lfs_sbuf_addf(sb, "\n  %-16s %10s %12s %8s %8s", "syscall", "count", "bytes", "errors", "mismatch");
	if (!(flags & LFS_RENDER_NO_LATENCY))
		lfs_sbuf_addf(sb, " %10s %10s", "p50", "p99");
	lfs_sbuf_add(sb, "\n", 1);
	for (int i = 0; i < r->nsys; i++) {
		const struct lfs_replay_sys *y = &r->sys[i];
		if (!y->count)
			continue;
		lfs_sbuf_addf(sb, "  %-16s %10" PRIu64 " %12s %8" PRIu64 " %8" PRIu64, y->name, y->count,
			      y->bytes ? lfs_replay_human(h1, sizeof h1, y->bytes) : "-", y->errors,
			      y->mismatches);
		if (!(flags & LFS_RENDER_NO_LATENCY))
			lfs_sbuf_addf(sb, " %10s %10s", dur(d1, sizeof d1, lfs_replay_hist_q(&y->lat, 0.5)),
				      dur(d2, sizeof d2, lfs_replay_hist_q(&y->lat, 0.99)));
		lfs_sbuf_add(sb, "\n", 1);
	}

	lfs_sbuf_addf(sb, "\n  page cache  lookups %" PRIu64 ", hits %" PRIu64 ", misses %" PRIu64
		      ", hit ratio %.1f%%\n", s->pc.lookups, s->pc.hits, s->pc.misses, 100 * r->hit_ratio);
	lfs_sbuf_addf(sb, "              readpage %" PRIu64 ", readahead %" PRIu64 " batches (%" PRIu64
		      " async): %" PRIu64 " pages issued, %" PRIu64 " used (efficiency %.1f%%)\n",
		      s->pc.readpage, s->pc.readahead_calls, s->pc.async_ra, s->pc.ra_pages, s->pc.ra_used,
		      100 * r->ra_efficiency);
	lfs_sbuf_addf(sb, "              pages dirtied %" PRIu64 ", written back %" PRIu64 ", evicted %" PRIu64
		      ", rmw reads %" PRIu64 "\n", s->pc.pages_dirtied, s->pc.pages_written,
		      s->pc.pages_evicted, s->pc.rmw_reads);
	lfs_sbuf_addf(sb, "              writepages %" PRIu64 " (background %" PRIu64 ", hard %" PRIu64
		      ", expire %" PRIu64 "), peak %" PRIu64 " pages cached, %" PRIu64 " dirty\n",
		      s->pc.writepages_calls, s->pc.bg_writeback, s->pc.hard_writeback,
		      s->pc.expire_writeback, s->pc.peak_pages_cached, s->pc.peak_pages_dirty);
	lfs_sbuf_addf(sb, "  txn         %" PRIu64 " txns, %" PRIu64 " pages, %.1f pages/txn (max %" PRIu64
		      "), %" PRIu64 " meta ops, %" PRIu64 " fsync waits\n", s->txn.txns, s->txn.pages,
		      r->pages_per_txn, s->txn.max_pages, s->txn.meta_ops, s->txn.fsync_waits);
	lfs_sbuf_addf(sb, "  requests    %" PRIu64 " (%" PRIu64 " reads, %" PRIu64 " writes), %" PRIu64
		      " merges", s->io.requests, s->io.reads, s->io.writes, s->io.merges);
	if (!(flags & LFS_RENDER_NO_LATENCY))
		lfs_sbuf_addf(sb, ", max queue depth %" PRIu64 ", latency p50 %s p99 %s",
			      s->io.max_depth, dur(d1, sizeof d1, lfs_replay_hist_q(&s->io.lat, 0.5)),
			      dur(d2, sizeof d2, lfs_replay_hist_q(&s->io.lat, 0.99)));
	lfs_sbuf_add(sb, "\n", 1);
	lfs_sbuf_addf(sb, "  kv          gets %" PRIu64 ", puts %" PRIu64 ", dels %" PRIu64 " (+%" PRIu64
		      " range), scans %" PRIu64 " (%" PRIu64 " items), batches %" PRIu64 ", syncs %" PRIu64 "\n",
		      s->kv.gets, s->kv.puts, s->kv.dels, s->kv.range_dels, s->kv.scans, s->kv.scan_items,
		      s->kv.batches, s->kv.syncs);
	lfs_sbuf_addf(sb, "              bytes put %s, got %s; image written %s, read %s\n",
		      lfs_replay_human(h1, sizeof h1, s->kv.bytes_put),
		      lfs_replay_human(h2, sizeof h2, s->kv.bytes_got),
		      lfs_replay_human(h3, sizeof h3, s->kv.file_bytes_written),
		      lfs_replay_human(d1, sizeof d1, s->kv.file_bytes_read));
	const char *what = r->opt.image[0] ? "image" : "KV bytes";
	lfs_sbuf_addf(sb, "  amplification  write %.2f (%s written / %s app written), "
		      "read %.2f (%s read / %s app read)%s\n", r->write_amp, what,
		      lfs_replay_human(h1, sizeof h1, r->app_written), r->read_amp, what,
		      lfs_replay_human(h2, sizeof h2, r->app_read),
		      r->opt.image[0] ? "" : ", in-memory image");
	if (!(flags & LFS_RENDER_NO_LATENCY))
		lfs_sbuf_addf(sb, "  speed       %.0f events/s (%s wall)\n", r->events_per_sec,
			      dur(d1, sizeof d1, r->wall_ns));
	lfs_sbuf_addf(sb, "\n  the path through the layers (seed 000: write → generic_perform_write → "
		      "write_begin/write_end → txn → request channel → KV):\n\n");
	lfs_replay_diagram(sb, r, flags);
}

/* ---------------------------------------------------------------- explain */

static const char *ev_name(enum lfs_ev_kind k)
{
	switch (k) {
	case LFS_EV_PC_HIT: return "hit";
	case LFS_EV_PC_MISS: return "miss";
	case LFS_EV_READPAGE: return "readpage";
	case LFS_EV_READAHEAD: return "readahead";
	case LFS_EV_DIRTY: return "dirty";
	case LFS_EV_RMW: return "rmw-read";
	case LFS_EV_WRITEBACK: return "writeback";
	case LFS_EV_EVICT: return "evict";
	case LFS_EV_TXN_COMMIT: return "txn-commit";
	case LFS_EV_IO_SUBMIT: return "io-submit";
	case LFS_EV_KV_GET: return "kv-get";
	case LFS_EV_KV_PUT: return "kv-put";
	case LFS_EV_KV_DEL: return "kv-del";
	case LFS_EV_KV_SCAN: return "kv-scan";
	}
	return "?";
}

/* Layer of an event: 0 page cache, 1 aops (readpage/write_begin), 2 writeback,
 * 3 txn, 4 request channel, 5 kv. */
static int ev_layer(enum lfs_ev_kind k)
{
	switch (k) {
	case LFS_EV_PC_HIT: case LFS_EV_PC_MISS: case LFS_EV_EVICT: return 0;
	case LFS_EV_READPAGE: case LFS_EV_READAHEAD: case LFS_EV_DIRTY: case LFS_EV_RMW: return 1;
	case LFS_EV_WRITEBACK: return 2;
	case LFS_EV_TXN_COMMIT: return 3;
	case LFS_EV_IO_SUBMIT: return 4;
	default: return 5;
	}
}


static const char *wb_reason(int f)
{
	static const char *n[] = { "background", "hard limit", "expired", "fsync", "evict",
				   "umount", "sync" };
	return f >= 0 && f < 7 ? n[f] : "?";
}

/* Can event e extend the run that started at s and ended at p? */
static int ev_joins(const struct lfs_event *s, const struct lfs_event *p, const struct lfs_event *e)
{
	if (e->kind != s->kind || e->flag != s->flag)
		return 0;
	switch (e->kind) {
	case LFS_EV_PC_HIT: case LFS_EV_PC_MISS: case LFS_EV_READPAGE: case LFS_EV_DIRTY:
	case LFS_EV_RMW: case LFS_EV_EVICT:
		return e->ino == s->ino && e->index == p->index + 1;
	case LFS_EV_KV_GET: case LFS_EV_KV_PUT: case LFS_EV_KV_DEL: case LFS_EV_KV_SCAN:
		return 1;
	default:
		return 0;
	}
}

static void explain_one(struct lfs_sbuf *sb, const struct lfs_replay_explain *x)
{
	char h[32];
	lfs_sbuf_addf(sb, "#%" PRIu64 " pid %u  %s\n", x->event, x->pid, x->call);
	if (x->entry[0])
		lfs_sbuf_addf(sb, "    %s\n", x->entry);
	if (!x->nev) {
		lfs_sbuf_addf(sb, "      (no page cache or KV activity)\n");
		return;
	}
	size_t i = 0;
	while (i < x->nev) {
		const struct lfs_event *s = &x->ev[i];
		size_t j = i + 1;
		uint64_t bytes = s->bytes;
		while (j < x->nev && ev_joins(s, &x->ev[j - 1], &x->ev[j])) {
			bytes += x->ev[j].bytes;
			j++;
		}
		size_t n = j - i;
		const struct lfs_event *e = &x->ev[j - 1];
		int L = ev_layer(s->kind);
		lfs_sbuf_addf(sb, "      %*s└→ ", 2 * L, "");
		switch (s->kind) {
		case LFS_EV_PC_HIT: case LFS_EV_PC_MISS:
			lfs_sbuf_addf(sb, "find_get_page: %s ino %" PRIu64, s->kind == LFS_EV_PC_HIT ?
				      "hit" : "miss", s->ino);
			break;
		case LFS_EV_READPAGE:
			lfs_sbuf_addf(sb, "lightfs_readpage → lightfs_cache_get_data: ino %" PRIu64, s->ino);
			break;
		case LFS_EV_DIRTY:
			lfs_sbuf_addf(sb, "lightfs_write_end: PG_dirty ino %" PRIu64, s->ino);
			break;
		case LFS_EV_RMW:
			lfs_sbuf_addf(sb, "lightfs_write_begin: read-modify-write ino %" PRIu64, s->ino);
			break;
		case LFS_EV_EVICT:
			lfs_sbuf_addf(sb, "LRU evict: ino %" PRIu64, s->ino);
			break;
		case LFS_EV_READAHEAD:
			lfs_sbuf_addf(sb, "%s → lightfs_readahead: ino %" PRIu64 " pages %" PRIu64 "..%" PRIu64
				      " (%" PRIu64 ")\n", s->flag ? "page_cache_async_ra (PG_readahead hit)" :
				      "page_cache_sync_ra", s->ino, s->index,
				      s->index + (s->count ? s->count - 1 : 0), s->count);
			break;
		case LFS_EV_WRITEBACK:
			lfs_sbuf_addf(sb, "writepages (%s): ino %" PRIu64 " pages %" PRIu64 "..%" PRIu64
				      " (%" PRIu64 ") → lightfs_cache_insert_data\n", wb_reason(s->flag), s->ino,
				      s->index, s->index + (s->count ? s->count - 1 : 0), s->count);
			break;
		case LFS_EV_TXN_COMMIT:
			lfs_sbuf_addf(sb, "txn_hdlr commit: %" PRIu64 " pages + %" PRIu64 " meta ops → "
				      "lightfs_io_transfer\n", s->count, s->value);
			break;
		case LFS_EV_IO_SUBMIT:
			lfs_sbuf_addf(sb, "cheeze_io → send_req: %s request, %" PRIu64 " item%s\n",
				      s->flag ? "write" : "read", s->count, s->count == 1 ? "" : "s");
			break;
		case LFS_EV_KV_GET: case LFS_EV_KV_PUT: case LFS_EV_KV_DEL: case LFS_EV_KV_SCAN: {
			static const char *db[] = { "db_get", "db_put", "db_del", "db_scan" };
			lfs_sbuf_addf(sb, "shm_kthread → %s ×%zu", db[s->kind - LFS_EV_KV_GET], n);
			if (bytes)
				lfs_sbuf_addf(sb, " (%s)", lfs_replay_human(h, sizeof h, bytes));
			lfs_sbuf_add(sb, "\n", 1);
			break;
		}
		}
		switch (s->kind) {
		case LFS_EV_PC_HIT: case LFS_EV_PC_MISS: case LFS_EV_READPAGE: case LFS_EV_DIRTY:
		case LFS_EV_RMW: case LFS_EV_EVICT:
			if (n == 1)
				lfs_sbuf_addf(sb, " page %" PRIu64 "\n", s->index);
			else
				lfs_sbuf_addf(sb, " pages %" PRIu64 "..%" PRIu64 " (%zu)\n", s->index, e->index, n);
			break;
		default:
			break;
		}
		i = j;
	}
	if (x->truncated)
		lfs_sbuf_addf(sb, "    ... (more than %d events, rest not recorded)\n",
			      LFS_REPLAY_EXPLAIN_MAX_EV);
}

void lfs_replay_explain_text(struct lfs_sbuf *sb, const struct lfs_replay_result *r)
{
	for (size_t i = 0; i < r->nexplain; i++)
		explain_one(sb, &r->explain[i]);
}

/* ---------------------------------------------------------------- JSON */

static void jstr(struct lfs_sbuf *sb, const char *s)
{
	lfs_sbuf_add(sb, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			lfs_sbuf_addf(sb, "\\%c", c);
		else if (c == '\n')
			lfs_sbuf_add(sb, "\\n", 2);
		else if (c == '\t')
			lfs_sbuf_add(sb, "\\t", 2);
		else if (c < 0x20)
			lfs_sbuf_addf(sb, "\\u%04x", c);
		else
			lfs_sbuf_add(sb, (const char *)&c, 1);
	}
	lfs_sbuf_add(sb, "\"", 1);
}

static void jnum(struct lfs_sbuf *sb, double v)
{
	if (!isfinite(v))
		v = 0;
	lfs_sbuf_addf(sb, "%.6f", v);
}

#define JU(name, v) lfs_sbuf_addf(sb, "\"%s\": %" PRIu64, name, (uint64_t)(v))

static void jlat(struct lfs_sbuf *sb, const struct lfs_hist *h)
{
	lfs_sbuf_addf(sb, "{\"count\": %" PRIu64 ", \"p50_ns\": %" PRIu64 ", \"p99_ns\": %" PRIu64
		      ", \"max_ns\": %" PRIu64 ", \"mean_ns\": %" PRIu64 "}", h->count,
		      lfs_replay_hist_q(h, 0.5), lfs_replay_hist_q(h, 0.99), h->max_ns,
		      h->count ? h->sum_ns / h->count : 0);
}

void lfs_replay_json(struct lfs_sbuf *sb, const struct lfs_replay_result *r, unsigned flags)
{
	const struct lfs_stats *s = &r->st;
	int lat = !(flags & LFS_RENDER_NO_LATENCY);

	lfs_sbuf_addf(sb, "{\n  \"schema\": \"lightfs-replay/1\",\n  \"trace\": {\"path\": ");
	jstr(sb, r->trace);
	lfs_sbuf_addf(sb, ", \"command\": ");
	jstr(sb, r->command);
	lfs_sbuf_addf(sb, ", \"host\": ");
	jstr(sb, r->host);
	lfs_sbuf_addf(sb, ", \"events\": %" PRIu64 ", \"lost_events\": %" PRIu64 ", \"duration_ns\": %"
		      PRIu64 ", \"processes\": %u},\n", r->trace_events, r->lost_events, r->duration_ns,
		      r->processes);

	lfs_sbuf_addf(sb, "  \"options\": {\"image\": ");
	jstr(sb, r->opt.image);
	lfs_sbuf_addf(sb, ", \"cache_bytes\": %" PRIu64 ", \"page_size\": %u, \"readahead_max\": %u, "
		      "\"dirty_background_ratio\": ", r->opt.cache_bytes, r->opt.page_size,
		      r->opt.readahead_max);
	jnum(sb, r->opt.dirty_background_ratio);
	lfs_sbuf_addf(sb, ", \"dirty_ratio\": ");
	jnum(sb, r->opt.dirty_ratio);
	lfs_sbuf_addf(sb, ", \"dirty_expire_ns\": %" PRIu64 ", \"writeback_interval_ns\": %" PRIu64
		      ", \"queue_depth\": %u, \"sched\": \"%s\", \"txn_max_pages\": %u, \"compress\": \"%s\", "
		      "\"timing\": \"%s\", \"scale\": ", r->opt.dirty_expire_ns, r->opt.writeback_interval_ns,
		      r->opt.queue_depth, sched_name(r->opt.sched), r->opt.txn_max_pages,
		      r->opt.compress ? "zstd" : "none", timing_name(r->opt.timing));
	jnum(sb, r->opt.scale);
	lfs_sbuf_addf(sb, ", \"root\": ");
	jstr(sb, r->opt.root);
	lfs_sbuf_addf(sb, ", \"pid\": %d, \"warm\": %s, \"verify\": %s, \"atomic\": %s},\n", r->opt.pid,
		      r->opt.warm ? "true" : "false", r->opt.verify ? "true" : "false",
		      r->opt.atomic ? "true" : "false");

	lfs_sbuf_addf(sb, "  \"replay\": {\"replayed\": %" PRIu64 ", \"out_of_scope\": %" PRIu64
		      ", \"unsupported\": %" PRIu64 ", \"setup_files\": %" PRIu64 ", \"setup_dirs\": %"
		      PRIu64 ", \"setup_bytes\": %" PRIu64 ", \"app_bytes_read\": %" PRIu64
		      ", \"app_bytes_written\": %" PRIu64 "},\n", r->replayed, r->out_of_scope,
		      r->unsupported, r->setup_files, r->setup_dirs, r->setup_bytes, r->app_read,
		      r->app_written);

	lfs_sbuf_addf(sb, "  \"syscalls\": [");
	int first = 1;
	for (int i = 0; i < r->nsys; i++) {
		const struct lfs_replay_sys *y = &r->sys[i];
		if (!y->count)
			continue;
		lfs_sbuf_addf(sb, "%s\n    {\"name\": \"%s\", \"count\": %" PRIu64 ", \"bytes\": %" PRIu64
			      ", \"errors\": %" PRIu64 ", \"mismatches\": %" PRIu64, first ? "" : ",",
			      y->name, y->count, y->bytes, y->errors, y->mismatches);
		if (lat) {
			lfs_sbuf_addf(sb, ", \"latency\": ");
			jlat(sb, &y->lat);
		}
		lfs_sbuf_addf(sb, "}");
		first = 0;
	}
	lfs_sbuf_addf(sb, "\n  ],\n");

	lfs_sbuf_addf(sb, "  \"errors\": {\"expected\": %" PRIu64 ", \"mismatches\": %" PRIu64
		      ", \"first\": [", r->errors_expected, r->mismatches);
	for (int i = 0; i < r->nmm; i++) {
		const struct lfs_replay_mismatch *m = &r->mm[i];
		lfs_sbuf_addf(sb, "%s\n    {\"event\": %" PRIu64 ", \"pid\": %u, \"syscall\": \"%s\", "
			      "\"want\": %" PRId64 ", \"got\": %" PRId64 ", \"what\": ", i ? "," : "",
			      m->event, m->pid, m->sys, m->want, m->got);
		jstr(sb, m->what);
		lfs_sbuf_addf(sb, "}");
	}
	lfs_sbuf_addf(sb, "]},\n");

	lfs_sbuf_addf(sb, "  \"verify\": {\"enabled\": %s, \"reads\": %" PRIu64 ", \"bytes\": %" PRIu64
		      ", \"failures\": %" PRIu64 ", \"first\": ", r->opt.verify ? "true" : "false",
		      r->verify_reads, r->verify_bytes, r->verify_failures);
	jstr(sb, r->verify_first);
	lfs_sbuf_addf(sb, "},\n");

	lfs_sbuf_addf(sb, "  \"pagecache\": {");
	JU("lookups", s->pc.lookups); lfs_sbuf_addf(sb, ", ");
	JU("hits", s->pc.hits); lfs_sbuf_addf(sb, ", ");
	JU("misses", s->pc.misses); lfs_sbuf_addf(sb, ", \"hit_ratio\": ");
	jnum(sb, r->hit_ratio); lfs_sbuf_addf(sb, ", ");
	JU("readpage", s->pc.readpage); lfs_sbuf_addf(sb, ", ");
	JU("readahead_calls", s->pc.readahead_calls); lfs_sbuf_addf(sb, ", ");
	JU("readahead_pages", s->pc.ra_pages); lfs_sbuf_addf(sb, ", ");
	JU("readahead_used", s->pc.ra_used); lfs_sbuf_addf(sb, ", \"readahead_efficiency\": ");
	jnum(sb, r->ra_efficiency); lfs_sbuf_addf(sb, ", ");
	JU("async_readahead", s->pc.async_ra); lfs_sbuf_addf(sb, ", ");
	JU("pages_dirtied", s->pc.pages_dirtied); lfs_sbuf_addf(sb, ", ");
	JU("pages_written", s->pc.pages_written); lfs_sbuf_addf(sb, ", ");
	JU("pages_evicted", s->pc.pages_evicted); lfs_sbuf_addf(sb, ", ");
	JU("writepages_calls", s->pc.writepages_calls); lfs_sbuf_addf(sb, ", ");
	JU("background_writeback", s->pc.bg_writeback); lfs_sbuf_addf(sb, ", ");
	JU("hard_writeback", s->pc.hard_writeback); lfs_sbuf_addf(sb, ", ");
	JU("expire_writeback", s->pc.expire_writeback); lfs_sbuf_addf(sb, ", ");
	JU("rmw_reads", s->pc.rmw_reads); lfs_sbuf_addf(sb, ", ");
	JU("pages_cached", s->pc.pages_cached); lfs_sbuf_addf(sb, ", ");
	JU("pages_dirty", s->pc.pages_dirty); lfs_sbuf_addf(sb, ", ");
	JU("peak_pages_cached", s->pc.peak_pages_cached); lfs_sbuf_addf(sb, ", ");
	JU("peak_pages_dirty", s->pc.peak_pages_dirty);
	lfs_sbuf_addf(sb, "},\n");

	lfs_sbuf_addf(sb, "  \"txn\": {");
	JU("txns", s->txn.txns); lfs_sbuf_addf(sb, ", ");
	JU("pages", s->txn.pages); lfs_sbuf_addf(sb, ", \"pages_per_txn\": ");
	jnum(sb, r->pages_per_txn); lfs_sbuf_addf(sb, ", ");
	JU("max_pages", s->txn.max_pages); lfs_sbuf_addf(sb, ", ");
	JU("meta_ops", s->txn.meta_ops); lfs_sbuf_addf(sb, ", ");
	JU("fsync_waits", s->txn.fsync_waits);
	lfs_sbuf_addf(sb, "},\n");

	lfs_sbuf_addf(sb, "  \"io\": {");
	JU("requests", s->io.requests); lfs_sbuf_addf(sb, ", ");
	JU("merges", s->io.merges); lfs_sbuf_addf(sb, ", ");
	if (lat) {   /* measured: how far the KV server thread lagged */
		JU("max_depth", s->io.max_depth); lfs_sbuf_addf(sb, ", ");
	}
	JU("reads", s->io.reads); lfs_sbuf_addf(sb, ", ");
	JU("writes", s->io.writes);
	if (lat) {
		lfs_sbuf_addf(sb, ", \"latency\": ");
		jlat(sb, &s->io.lat);
	}
	lfs_sbuf_addf(sb, "},\n");

	lfs_sbuf_addf(sb, "  \"kv\": {");
	JU("gets", s->kv.gets); lfs_sbuf_addf(sb, ", ");
	JU("puts", s->kv.puts); lfs_sbuf_addf(sb, ", ");
	JU("dels", s->kv.dels); lfs_sbuf_addf(sb, ", ");
	JU("range_dels", s->kv.range_dels); lfs_sbuf_addf(sb, ", ");
	JU("scans", s->kv.scans); lfs_sbuf_addf(sb, ", ");
	JU("scan_items", s->kv.scan_items); lfs_sbuf_addf(sb, ", ");
	JU("batches", s->kv.batches); lfs_sbuf_addf(sb, ", ");
	JU("syncs", s->kv.syncs); lfs_sbuf_addf(sb, ", ");
	JU("bytes_put", s->kv.bytes_put); lfs_sbuf_addf(sb, ", ");
	JU("bytes_got", s->kv.bytes_got); lfs_sbuf_addf(sb, ", ");
	JU("image_bytes_written", s->kv.file_bytes_written); lfs_sbuf_addf(sb, ", ");
	JU("image_bytes_read", s->kv.file_bytes_read);
	lfs_sbuf_addf(sb, "},\n");

	lfs_sbuf_addf(sb, "  \"vfs\": {");
	JU("reads", s->vfs.reads); lfs_sbuf_addf(sb, ", ");
	JU("writes", s->vfs.writes); lfs_sbuf_addf(sb, ", ");
	JU("bytes_read", s->vfs.bytes_read); lfs_sbuf_addf(sb, ", ");
	JU("bytes_written", s->vfs.bytes_written); lfs_sbuf_addf(sb, ", ");
	JU("opens", s->vfs.opens); lfs_sbuf_addf(sb, ", ");
	JU("fsyncs", s->vfs.fsyncs);
	lfs_sbuf_addf(sb, "},\n");

	lfs_sbuf_addf(sb, "  \"amplification\": {\"write\": ");
	jnum(sb, r->write_amp);
	lfs_sbuf_addf(sb, ", \"read\": ");
	jnum(sb, r->read_amp);
	lfs_sbuf_addf(sb, "},\n");

	lfs_sbuf_addf(sb, "  \"timeline\": [");
	for (size_t i = 0; i < r->nsamples; i++) {
		const struct lfs_replay_sample *p = &r->samples[i];
		lfs_sbuf_addf(sb, "%s\n    {\"t_ns\": %" PRIu64 ", \"events\": %" PRIu64 ", \"lookups\": %"
			      PRIu64 ", \"hits\": %" PRIu64 ", \"misses\": %" PRIu64 ", \"pages_cached\": %"
			      PRIu64 ", \"pages_dirty\": %" PRIu64 ", \"kv_gets\": %" PRIu64 ", \"kv_puts\": %"
			      PRIu64 ", \"kv_dels\": %" PRIu64 ", \"kv_scans\": %" PRIu64 ", \"kv_bytes_put\": %"
			      PRIu64 ", \"kv_bytes_got\": %" PRIu64 ", \"app_read\": %" PRIu64
			      ", \"app_written\": %" PRIu64 "}", i ? "," : "", p->t_ns, p->events, p->lookups,
			      p->hits, p->misses, p->pages_cached, p->pages_dirty, p->kv_gets, p->kv_puts,
			      p->kv_dels, p->kv_scans, p->kv_bytes_put, p->kv_bytes_got, p->app_read,
			      p->app_written);
	}
	lfs_sbuf_addf(sb, "\n  ],\n");

	lfs_sbuf_addf(sb, "  \"explain\": [");
	for (size_t i = 0; i < r->nexplain; i++) {
		const struct lfs_replay_explain *x = &r->explain[i];
		lfs_sbuf_addf(sb, "%s\n    {\"event\": %" PRIu64 ", \"pid\": %u, \"call\": ", i ? "," : "",
			      x->event, x->pid);
		jstr(sb, x->call);
		lfs_sbuf_addf(sb, ", \"truncated\": %s, \"steps\": [", x->truncated ? "true" : "false");
		for (size_t j = 0; j < x->nev; j++) {
			const struct lfs_event *e = &x->ev[j];
			lfs_sbuf_addf(sb, "%s{\"kind\": \"%s\", \"ino\": %" PRIu64 ", \"index\": %" PRIu64
				      ", \"count\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"value\": %" PRIu64
				      ", \"flag\": %d}", j ? ", " : "", ev_name(e->kind), e->ino, e->index,
				      e->count, e->bytes, e->value, e->flag);
		}
		lfs_sbuf_addf(sb, "]}");
	}
	lfs_sbuf_addf(sb, "\n  ]");
	if (lat)
		lfs_sbuf_addf(sb, ",\n  \"wall\": {\"ns\": %" PRIu64 ", \"events_per_sec\": %.0f}",
			      r->wall_ns, r->events_per_sec);
	lfs_sbuf_addf(sb, "\n}\n");
}

/* ---------------------------------------------------------------- sweep */

void lfs_sweep_text(struct lfs_sbuf *sb, const struct lfs_sweep_point *p, size_t n)
{
	char h[32];
	lfs_sbuf_addf(sb, "  %12s %9s %9s %10s %10s %10s %10s %10s\n", "cache", "hit", "miss",
		      "lookups", "misses", "readpage", "ra_pages", "kv_gets");
	for (size_t i = 0; i < n; i++) {
		if (p[i].status) {
			lfs_sbuf_addf(sb, "  %12s  failed: %s\n",
				      lfs_replay_human(h, sizeof h, p[i].cache_bytes), lfs_strerror(p[i].status));
			continue;
		}
		lfs_sbuf_addf(sb, "  %12s %8.2f%% %8.2f%% %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64
			      " %10" PRIu64 "\n", lfs_replay_human(h, sizeof h, p[i].cache_bytes),
			      100 * p[i].hit_ratio, 100 * p[i].miss_ratio, p[i].lookups, p[i].misses,
			      p[i].readpage, p[i].ra_pages, p[i].kv_gets);
	}
	/* the miss-ratio curve in text: one bar per size */
	lfs_sbuf_addf(sb, "\n  miss-ratio curve\n");
	for (size_t i = 0; i < n; i++) {
		int bar = (int)(p[i].miss_ratio * 50 + 0.5);
		lfs_sbuf_addf(sb, "  %12s │", lfs_replay_human(h, sizeof h, p[i].cache_bytes));
		for (int k = 0; k < bar; k++)
			lfs_sbuf_addf(sb, "█");
		lfs_sbuf_addf(sb, " %.2f%%\n", 100 * p[i].miss_ratio);
	}
}

void lfs_sweep_json(struct lfs_sbuf *sb, const struct lfs_sweep_point *p, size_t n)
{
	lfs_sbuf_addf(sb, "{\n  \"schema\": \"lightfs-replay-sweep/1\",\n  \"points\": [");
	for (size_t i = 0; i < n; i++) {
		lfs_sbuf_addf(sb, "%s\n    {\"cache_bytes\": %" PRIu64 ", \"status\": %d, \"hit_ratio\": ",
			      i ? "," : "", p[i].cache_bytes, p[i].status);
		jnum(sb, p[i].hit_ratio);
		lfs_sbuf_addf(sb, ", \"miss_ratio\": ");
		jnum(sb, p[i].miss_ratio);
		lfs_sbuf_addf(sb, ", \"lookups\": %" PRIu64 ", \"misses\": %" PRIu64 ", \"readpage\": %" PRIu64
			      ", \"readahead_pages\": %" PRIu64 ", \"kv_gets\": %" PRIu64
			      ", \"image_bytes_read\": %" PRIu64 ", \"pages_written\": %" PRIu64
			      ", \"txns\": %" PRIu64 "}", p[i].lookups, p[i].misses, p[i].readpage,
			      p[i].ra_pages, p[i].kv_gets, p[i].image_bytes_read, p[i].pages_written,
			      p[i].txns);
	}
	lfs_sbuf_addf(sb, "\n  ]\n}\n");
}

/* ---------------------------------------------------------------- HTML */

static void hesc(struct lfs_sbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': lfs_sbuf_addf(sb, "&lt;"); break;
		case '>': lfs_sbuf_addf(sb, "&gt;"); break;
		case '&': lfs_sbuf_addf(sb, "&amp;"); break;
		case '"': lfs_sbuf_addf(sb, "&quot;"); break;
		default: lfs_sbuf_add(sb, s, 1);
		}
	}
}

struct series { const char *name, *color; const double *v; };

static double nice_max(double m)
{
	if (m <= 0)
		return 1;
	double p = pow(10, floor(log10(m)));
	double f = m / p;
	double n = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
	return n * p;
}

/* A line chart: x[] (n points, any unit), ns series over a shared y axis. */
static void svg_chart(struct lfs_sbuf *sb, const char *title, const char *xlabel, const char *ylabel,
		      const double *x, size_t n, const struct series *ser, int ns, int logx,
		      double ymax_fixed)
{
	const double W = 760, H = 250, L = 70, R = 20, T = 40, B = 40;
	double x0 = n ? x[0] : 0, x1 = n ? x[n - 1] : 1;
	if (logx && n) {
		x0 = log2(x0 > 0 ? x0 : 1);
		x1 = log2(x1 > 0 ? x1 : 1);
	}
	if (x1 <= x0)
		x1 = x0 + 1;
	double ym = 0;
	for (int k = 0; k < ns; k++)
		for (size_t i = 0; i < n; i++)
			if (ser[k].v[i] > ym)
				ym = ser[k].v[i];
	ym = ymax_fixed > 0 ? ymax_fixed : nice_max(ym);
	lfs_sbuf_addf(sb, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		      "viewBox=\"0 0 %.0f %.0f\" role=\"img\"><title>", W, H, W, H);
	hesc(sb, title);
	lfs_sbuf_addf(sb, "</title><rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>", W, H);
	lfs_sbuf_addf(sb, "<text x=\"%.0f\" y=\"18\" font-size=\"14\" font-weight=\"bold\" font-family=\"sans-serif\">", L);
	hesc(sb, title);
	lfs_sbuf_addf(sb, "</text>");
	for (int g = 0; g <= 4; g++) {
		double yv = ym * g / 4, py = H - B - (H - T - B) * g / 4;
		lfs_sbuf_addf(sb, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>"
			      "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" font-family=\"sans-serif\">%.4g</text>", L, py, W - R, py,
			      L - 6, py + 4, yv);
	}
	if (logx) {                          /* a label at each measured size */
		size_t step = n > 8 ? (n + 7) / 8 : 1;
		for (size_t i = 0; i < n; i += step) {
			char h[32];
			double px = L + (W - L - R) * (log2(x[i] > 0 ? x[i] : 1) - x0) / (x1 - x0);
			lfs_sbuf_addf(sb, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"11\" "
				      "font-family=\"sans-serif\">%s</text>", px, H - B + 16,
				      lfs_replay_human(h, sizeof h, (uint64_t)x[i]));
		}
	}
	for (int g = 0; g <= 4 && !logx; g++) {
		double xv = x0 + (x1 - x0) * g / 4, px = L + (W - L - R) * g / 4;
		lfs_sbuf_addf(sb, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"11\" "
			      "font-family=\"sans-serif\">%.3g</text>", px, H - B + 16, xv);
	}
	lfs_sbuf_addf(sb, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"11\" font-family=\"sans-serif\">", (W + L) / 2, H - 6);
	hesc(sb, xlabel);
	lfs_sbuf_addf(sb, "</text><text x=\"14\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"11\" font-family=\"sans-serif\" transform=\"rotate(-90 14 %.0f)\">",
		      (H) / 2, (H) / 2);
	hesc(sb, ylabel);
	lfs_sbuf_addf(sb, "</text><line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#555\"/>",
		      L, H - B, W - R, H - B);
	for (int k = 0; k < ns; k++) {
		lfs_sbuf_addf(sb, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" points=\"",
			      ser[k].color);
		for (size_t i = 0; i < n; i++) {
			double xv = logx ? log2(x[i] > 0 ? x[i] : 1) : x[i];
			double px = L + (W - L - R) * (xv - x0) / (x1 - x0);
			double v = ser[k].v[i] > ym ? ym : ser[k].v[i];
			double py = H - B - (H - T - B) * v / ym;
			lfs_sbuf_addf(sb, "%.1f,%.1f ", px, py);
		}
		lfs_sbuf_addf(sb, "\"/>");
		if (n == 1 || logx) {
			for (size_t i = 0; i < n; i++) {
				double xv = logx ? log2(x[i] > 0 ? x[i] : 1) : x[i];
				double px = L + (W - L - R) * (xv - x0) / (x1 - x0);
				double v = ser[k].v[i] > ym ? ym : ser[k].v[i];
				lfs_sbuf_addf(sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", px,
					      H - B - (H - T - B) * v / ym, ser[k].color);
			}
		}
		lfs_sbuf_addf(sb, "<rect x=\"%.0f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
			      "<text x=\"%.0f\" y=\"%d\" font-size=\"11\" font-family=\"sans-serif\">", W - R - 200, 8 + 14 * k, ser[k].color,
			      W - R - 185, 17 + 14 * k);
		hesc(sb, ser[k].name);
		lfs_sbuf_addf(sb, "</text>");
	}
	lfs_sbuf_addf(sb, "</svg></figure>\n");
}

static void html_timeline(struct lfs_sbuf *sb, const struct lfs_replay_result *r)
{
	size_t n = r->nsamples;
	if (!n) {
		lfs_sbuf_addf(sb, "<p>No timeline samples (empty trace).</p>\n");
		return;
	}
	double *buf = calloc(n * 10, sizeof(double));
	if (!buf)
		return;
	double *x = buf, *hr = buf + n, *hrc = buf + 2 * n, *dirty = buf + 3 * n, *cached = buf + 4 * n,
	       *gets = buf + 5 * n, *puts = buf + 6 * n, *dels = buf + 7 * n, *bput = buf + 8 * n,
	       *bgot = buf + 9 * n;
	double mib = 1024.0 * 1024.0;
	for (size_t i = 0; i < n; i++) {
		const struct lfs_replay_sample *p = &r->samples[i], *q = i ? &r->samples[i - 1] : NULL;
		uint64_t dl = p->lookups - (q ? q->lookups : 0), dh = p->hits - (q ? q->hits : 0);
		x[i] = (double)p->t_ns / 1e9;
		hr[i] = dl ? 100.0 * (double)dh / (double)dl : (i ? hr[i - 1] : 0);
		hrc[i] = 100.0 * ratio(p->hits, p->lookups);
		dirty[i] = (double)p->pages_dirty;
		cached[i] = (double)p->pages_cached * r->opt.page_size / mib;
		gets[i] = (double)(p->kv_gets - (q ? q->kv_gets : 0));
		puts[i] = (double)(p->kv_puts - (q ? q->kv_puts : 0));
		dels[i] = (double)(p->kv_dels - (q ? q->kv_dels : 0));
		bput[i] = (double)(p->kv_bytes_put - (q ? q->kv_bytes_put : 0)) / mib;
		bgot[i] = (double)(p->kv_bytes_got - (q ? q->kv_bytes_got : 0)) / mib;
	}
	struct series s1[] = { { "hit ratio in interval", "#1f77b4", hr },
			       { "cumulative", "#ff7f0e", hrc } };
	svg_chart(sb, "Page cache hit ratio", "trace time (s)", "%", x, n, s1, 2, 0, 100);
	struct series s2[] = { { "dirty pages", "#d62728", dirty } };
	svg_chart(sb, "Dirty pages", "trace time (s)", "pages", x, n, s2, 1, 0, 0);
	struct series s3[] = { { "cache in use (MiB)", "#2ca02c", cached } };
	svg_chart(sb, "Page cache in use", "trace time (s)", "MiB", x, n, s3, 1, 0,
		  (double)r->opt.cache_bytes / mib);
	struct series s4[] = { { "gets", "#1f77b4", gets }, { "puts", "#d62728", puts },
			       { "dels", "#9467bd", dels } };
	svg_chart(sb, "KV operations per interval", "trace time (s)", "ops", x, n, s4, 3, 0, 0);
	struct series s5[] = { { "bytes put (MiB)", "#d62728", bput }, { "bytes got (MiB)", "#1f77b4", bgot } };
	svg_chart(sb, "KV bytes per interval", "trace time (s)", "MiB", x, n, s5, 2, 0, 0);
	free(buf);
}

void lfs_replay_html(struct lfs_sbuf *sb, const struct lfs_replay_result *r,
		     const struct lfs_sweep_point *sweep, size_t nsweep, unsigned flags)
{
	struct lfs_sbuf t = { 0 };
	lfs_sbuf_addf(sb, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		      "<title>lightfs replay: ");
	hesc(sb, r->trace);
	lfs_sbuf_addf(sb, "</title>\n<style>\n"
		      "body{font-family:sans-serif;margin:2em;max-width:1000px;color:#222}\n"
		      "pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:13px;line-height:1.25}\n"
		      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
		      "text-align:right}th{background:#eee}td:first-child,th:first-child{text-align:left}\n"
		      "figure{margin:1em 0}svg text{font-family:sans-serif;font-size:11px}\n"
		      ".t{font-size:14px;font-weight:bold}.yl{text-anchor:end}.xl{text-anchor:middle}"
		      ".yt{text-anchor:middle}.g{stroke:#e3e3e3}.ax{stroke:#555}.bad{color:#b00}\n"
		      "</style></head><body>\n<h1>lightfs replay</h1>\n<p>Trace <code>");
	hesc(sb, r->trace);
	lfs_sbuf_addf(sb, "</code>");
	if (r->command[0]) {
		lfs_sbuf_addf(sb, " of <code>");
		hesc(sb, r->command);
		lfs_sbuf_addf(sb, "</code>");
	}
	lfs_sbuf_addf(sb, ": %" PRIu64 " events over %.3f s, %u processes; %" PRIu64
		      " syscalls replayed, %" PRIu64 " mismatches.</p>\n", r->trace_events,
		      (double)r->duration_ns / 1e9, r->processes, r->replayed, r->mismatches);

	lfs_sbuf_addf(sb, "<h2>Summary</h2>\n<pre>");
	lfs_replay_text(&t, r, flags);
	if (t.buf)
		hesc(sb, t.buf);
	lfs_sbuf_addf(sb, "</pre>\n");

	lfs_sbuf_addf(sb, "<h2>Syscalls</h2>\n<table><tr><th>syscall</th><th>count</th><th>bytes</th>"
		      "<th>errors</th><th>mismatches</th>%s</tr>\n",
		      flags & LFS_RENDER_NO_LATENCY ? "" : "<th>p50 ns</th><th>p99 ns</th>");
	for (int i = 0; i < r->nsys; i++) {
		const struct lfs_replay_sys *y = &r->sys[i];
		if (!y->count)
			continue;
		lfs_sbuf_addf(sb, "<tr><td>%s</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
			      "</td><td%s>%" PRIu64 "</td>", y->name, y->count, y->bytes, y->errors,
			      y->mismatches ? " class=\"bad\"" : "", y->mismatches);
		if (!(flags & LFS_RENDER_NO_LATENCY))
			lfs_sbuf_addf(sb, "<td>%" PRIu64 "</td><td>%" PRIu64 "</td>",
				      lfs_replay_hist_q(&y->lat, 0.5), lfs_replay_hist_q(&y->lat, 0.99));
		lfs_sbuf_addf(sb, "</tr>\n");
	}
	lfs_sbuf_addf(sb, "</table>\n");

	lfs_sbuf_addf(sb, "<h2>Layer diagram</h2>\n<pre>");
	t.len = 0;
	if (t.buf)
		t.buf[0] = 0;
	lfs_replay_diagram(&t, r, flags);
	if (t.buf)
		hesc(sb, t.buf);
	lfs_sbuf_addf(sb, "</pre>\n<h2>Over trace time</h2>\n");
	html_timeline(sb, r);

	if (sweep && nsweep) {
		double *buf = calloc(nsweep * 2, sizeof(double));
		if (buf) {
			for (size_t i = 0; i < nsweep; i++) {
				buf[i] = (double)sweep[i].cache_bytes;
				buf[nsweep + i] = 100 * sweep[i].miss_ratio;
			}
			struct series s[] = { { "miss ratio", "#d62728", buf + nsweep } };
			lfs_sbuf_addf(sb, "<h2>Miss-ratio curve</h2>\n");
			svg_chart(sb, "Miss ratio by cache size", "cache size", "% misses", buf, nsweep, s, 1,
				  1, 0);
			free(buf);
		}
		t.len = 0;
		if (t.buf)
			t.buf[0] = 0;
		lfs_sweep_text(&t, sweep, nsweep);
		lfs_sbuf_addf(sb, "<pre>");
		if (t.buf)
			hesc(sb, t.buf);
		lfs_sbuf_addf(sb, "</pre>\n");
	}

	if (r->nexplain) {
		lfs_sbuf_addf(sb, "<h2>Explain: the first %zu syscalls</h2>\n<pre>", r->nexplain);
		t.len = 0;
		if (t.buf)
			t.buf[0] = 0;
		lfs_replay_explain_text(&t, r);
		if (t.buf)
			hesc(sb, t.buf);
		lfs_sbuf_addf(sb, "</pre>\n");
	}
	lfs_sbuf_addf(sb, "<p><small>Generated by lightfs %s. Self-contained: no script, no network."
		      "</small></p>\n</body></html>\n",
#ifdef LFS_VERSION
		      LFS_VERSION
#else
		      ""
#endif
		);
	lfs_sbuf_free(&t);
}
