/* The page cache through the public API: readahead windows of the
 * kernel's on-demand algorithm (exact counts, worked out below from
 * mm/readahead.c), LRU eviction order (active/inactive), dirty thresholds,
 * txn splitting, drop_caches. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vfs/lightfs.h"

#define KiB 1024u
#define MiB (1024u * 1024u)

struct evlog { int n; uint64_t idx[4096]; enum lfs_ev_kind kind; };

static void hook(void *arg, const struct lfs_event *ev)
{
	struct evlog *l = arg;
	if (ev->kind == l->kind && l->n < 4096)
		l->idx[l->n++] = ev->index;
}

/* An in-memory mount holding /f of npages pages (page i filled with i),
 * written back and dropped from the cache. */
static struct lfs_mount *setup(struct lfs_mount_opts *o, uint32_t npages, struct lfs_proc **pp)
{
	struct lfs_mount *m;
	struct lfs_err e = { 0 };
	o->in_memory = 1;
	if (lfs_mount("mem", o, &m, &e) < 0)
		return NULL;
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/f", O_RDWR | O_CREAT, 0644);
	uint8_t buf[4096];
	for (uint32_t i = 0; i < npages; i++) {
		memset(buf, (int)(i & 0xff), sizeof buf);
		if (lfs_write(p, fd, buf, sizeof buf) != (ssize_t)sizeof buf)
			return NULL;
	}
	lfs_close(p, fd);
	if (lfs_sync(m) < 0)
		return NULL;
	lfs_drop_caches(m);
	*pp = p;
	return m;
}

static void done(struct lfs_mount *m, struct lfs_proc *p)
{
	struct lfs_err e = { 0 };
	lfs_proc_free(p);
	lfs_umount(m, &e);
}

/* Read the file from `from` to its end in chunks of `chunk` bytes,
 * checking every byte; returns the stats delta. */
static int seqread(struct lfs_mount *m, struct lfs_proc *p, size_t chunk, struct lfs_stats *d)
{
	struct lfs_stats a;
	lfs_mount_stats(m, &a);
	int fd = lfs_open(p, "/f", O_RDONLY, 0);
	uint8_t *buf = malloc(chunk);
	uint64_t off = 0;
	ssize_t r;
	int bad = 0;
	while ((r = lfs_read(p, fd, buf, chunk)) > 0) {
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != (uint8_t)((off + (uint64_t)i) / 4096))
				bad = 1;
		off += (uint64_t)r;
	}
	lfs_close(p, fd);
	free(buf);
	lfs_mount_stats(m, d);
#define D(f) d->pc.f -= a.pc.f
	D(lookups); D(hits); D(misses); D(readpage); D(readahead_calls); D(ra_pages); D(ra_used);
	D(async_ra); D(pages_evicted);
#undef D
	return bad ? -1 : (int)(off / 4096);
}

/* 4 KiB reads of 256 pages, max window 32 pages.  Read 1 (index 0, one
 * page): initial window get_init_ra_size(1, 32) = 4 (1 <= 32/32: x4),
 * async_size 3 → pages [0,4), marker on page 1.  Page 1 hits the marker:
 * start 4, size get_next_ra_size(4) = 8 (4 <= 16: x2), [4,12) marker 4;
 * then [12,28) (16), [28,60) (32, 16 <= 16: x2), then 32 each: [60,92),
 * [92,124), [124,156), [156,188), [188,220), [220,252), and [252,284)
 * clamped at EOF to 4 pages.  11 batches (10 async), 256 pages, no
 * readpage, one miss (page 0), every page used. */
TEST(readahead_rampup_4k_reads)
{
	struct lfs_mount_opts o = { .readahead_max = 128 * KiB };
	struct lfs_proc *p;
	struct lfs_mount *m = setup(&o, 256, &p);
	CHECK(m);
	struct evlog l = { .kind = LFS_EV_READAHEAD };
	lfs_set_event_hook(m, hook, &l);
	struct lfs_stats d;
	CHECK_EQ(seqread(m, p, 4096, &d), 256);
	CHECK_EQ(d.pc.readahead_calls, 11);
	CHECK_EQ(d.pc.async_ra, 10);
	CHECK_EQ(d.pc.ra_pages, 256);
	CHECK_EQ(d.pc.readpage, 0);
	CHECK_EQ(d.pc.misses, 1);
	CHECK_EQ(d.pc.hits, 255);
	CHECK_EQ(d.pc.ra_used, 256);
	uint64_t want[11] = { 0, 4, 12, 28, 60, 92, 124, 156, 188, 220, 252 };
	CHECK_EQ(l.n, 11);
	for (int i = 0; i < 11; i++)
		CHECK_EQ(l.idx[i], want[i]);
	lfs_set_event_hook(m, NULL, NULL);
	done(m, p);
}

/* 128 KiB reads (32 pages) of 1024 pages: initial size is the max (32),
 * async 32-32 → 32 (size == async), and the first window is merged with
 * the next: size stays 32 (32 + 32 > max), async_size 16 → [0,32) marker
 * 16; page 16 moves the window to [32,64) (marker 32), and so on: 32
 * batches of 32 pages, 31 of them async. */
TEST(readahead_full_window_128k_reads)
{
	struct lfs_mount_opts o = { .readahead_max = 128 * KiB };
	struct lfs_proc *p;
	struct lfs_mount *m = setup(&o, 1024, &p);
	CHECK(m);
	struct lfs_stats d;
	CHECK_EQ(seqread(m, p, 128 * KiB, &d), 1024);
	CHECK_EQ(d.pc.readahead_calls, 32);
	CHECK_EQ(d.pc.async_ra, 31);
	CHECK_EQ(d.pc.ra_pages, 1024);
	CHECK_EQ(d.pc.readpage, 0);
	CHECK_EQ(d.pc.misses, 1);
	done(m, p);
}

/* readahead_max of one page turns readahead off: one readpage per page. */
TEST(readahead_off)
{
	struct lfs_mount_opts o = { .readahead_max = 4096 };
	struct lfs_proc *p;
	struct lfs_mount *m = setup(&o, 64, &p);
	CHECK(m);
	struct lfs_stats d;
	CHECK_EQ(seqread(m, p, 4096, &d), 64);
	CHECK_EQ(d.pc.readahead_calls, 0);
	CHECK_EQ(d.pc.readpage, 64);
	CHECK_EQ(d.pc.misses, 64);
	done(m, p);
}

/* Random reads are read as is (one page each, no window); a read right
 * after one starts a fresh initial window (4 pages for a 1-page read). */
TEST(readahead_random_then_sequential)
{
	struct lfs_mount_opts o = { .readahead_max = 128 * KiB };
	struct lfs_proc *p;
	struct lfs_mount *m = setup(&o, 256, &p);
	CHECK(m);
	struct lfs_stats a, b;
	lfs_mount_stats(m, &a);
	int fd = lfs_open(p, "/f", O_RDONLY, 0);
	uint8_t buf[4096];
	uint64_t pages[3] = { 100, 50, 200 };
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(lfs_pread(p, fd, buf, 4096, (off_t)(pages[i] * 4096)), 4096);
		CHECK_EQ(buf[0], (uint8_t)pages[i]);
	}
	lfs_mount_stats(m, &b);
	CHECK_EQ(b.pc.readahead_calls - a.pc.readahead_calls, 3);
	CHECK_EQ(b.pc.ra_pages - a.pc.ra_pages, 3);
	/* page 201 follows the read of page 200: sequential miss → initial */
	CHECK_EQ(lfs_pread(p, fd, buf, 4096, 201 * 4096), 4096);
	lfs_mount_stats(m, &a);
	CHECK_EQ(a.pc.readahead_calls - b.pc.readahead_calls, 1);
	CHECK_EQ(a.pc.ra_pages - b.pc.ra_pages, 4);
	lfs_close(p, fd);
	done(m, p);
}

/* Cache of 8 pages, readahead off.  Pages 0..7 read once each (PG_referenced,
 * inactive); 0 and 1 read again (activated).  Reading 8..15 then evicts the
 * inactive tail in order: 2,3,4,5,6,7,8,9 — never the active 0 and 1. */
TEST(lru_eviction_order)
{
	struct lfs_mount_opts o = { .readahead_max = 4096, .cache_bytes = 8 * 4096 };
	struct lfs_proc *p;
	struct lfs_mount *m = setup(&o, 16, &p);
	CHECK(m);
	struct evlog l = { .kind = LFS_EV_EVICT };
	lfs_set_event_hook(m, hook, &l);
	int fd = lfs_open(p, "/f", O_RDONLY, 0);
	uint8_t buf[4096];
	for (int i = 0; i < 8; i++)
		CHECK_EQ(lfs_pread(p, fd, buf, 4096, i * 4096), 4096);
	CHECK_EQ(l.n, 0);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(lfs_pread(p, fd, buf, 4096, i * 4096), 4096);
	struct lfs_stats s;
	lfs_mount_stats(m, &s);
	CHECK_EQ(s.pc.active, 2);
	CHECK_EQ(s.pc.inactive, 6);
	for (int i = 8; i < 16; i++) {
		CHECK_EQ(lfs_pread(p, fd, buf, 4096, i * 4096), 4096);
		CHECK_EQ(buf[0], i);
	}
	uint64_t want[8] = { 2, 3, 4, 5, 6, 7, 8, 9 };
	CHECK_EQ(l.n, 8);
	for (int i = 0; i < 8; i++)
		CHECK_EQ(l.idx[i], want[i]);
	lfs_mount_stats(m, &s);
	uint64_t hits = s.pc.hits;
	CHECK_EQ(lfs_pread(p, fd, buf, 4096, 0), 4096);   /* still cached */
	lfs_mount_stats(m, &s);
	CHECK_EQ(s.pc.hits, hits + 1);
	CHECK(s.pc.pages_cached <= 8);
	lfs_close(p, fd);
	lfs_set_event_hook(m, NULL, NULL);
	done(m, p);
}

/* Cache 256 pages: background threshold 10 % = 25 pages, hard 50 % = 128.
 * 100 one-page writes: background writeback starts whenever a 26th page is
 * dirty (after pages 26, 52 and 78), so 3 rounds, never more than 26
 * dirty; fsync writes the last 22 and waits. */
TEST(dirty_background_threshold)
{
	struct lfs_mount_opts o = { .in_memory = 1, .cache_bytes = 256 * 4096,
				    .dirty_background_ratio = 0.10, .dirty_ratio = 0.50,
				    .dirty_expire_ns = 3600ull * 1000000000ull };
	struct lfs_mount *m;
	struct lfs_err e = { 0 };
	CHECK(lfs_mount("mem", &o, &m, &e) == 0);
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/w", O_RDWR | O_CREAT, 0644);
	uint8_t buf[4096];
	memset(buf, 7, sizeof buf);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(lfs_write(p, fd, buf, sizeof buf), 4096);
	struct lfs_stats s;
	lfs_mount_stats(m, &s);
	CHECK_EQ(s.pc.bg_writeback, 3);
	CHECK_EQ(s.pc.hard_writeback, 0);
	CHECK_EQ(s.pc.peak_pages_dirty, 26);
	CHECK_EQ(s.pc.pages_dirty, 22);
	CHECK_EQ(s.pc.pages_written, 78);
	CHECK_EQ(lfs_fsync(p, fd), 0);
	lfs_mount_stats(m, &s);
	CHECK_EQ(s.pc.pages_dirty, 0);
	CHECK_EQ(s.pc.pages_written, 100);
	CHECK_EQ(s.txn.pages, 100);
	lfs_close(p, fd);
	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);
}

static uint64_t fake_now;
static uint64_t fake_clock(void *arg) { (void)arg; return fake_now; }

/* Age-based writeback on the mount's clock: nothing before dirty_expire,
 * the inode after it (checked every writeback_interval). */
TEST(dirty_expire_on_mount_clock)
{
	fake_now = 1000;
	struct lfs_mount_opts o = { .in_memory = 1, .dirty_expire_ns = 30 * 1000000000ull,
				    .writeback_interval_ns = 5 * 1000000000ull, .clock = fake_clock };
	struct lfs_mount *m;
	struct lfs_err e = { 0 };
	CHECK(lfs_mount("mem", &o, &m, &e) == 0);
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/w", O_RDWR | O_CREAT, 0644);
	uint8_t buf[4096] = { 1 };
	CHECK_EQ(lfs_write(p, fd, buf, sizeof buf), 4096);
	fake_now += 20 * 1000000000ull;
	CHECK_EQ(lfs_write(p, fd, buf, sizeof buf), 4096);
	struct lfs_stats s;
	lfs_mount_stats(m, &s);
	CHECK_EQ(s.pc.expire_writeback, 0);
	CHECK_EQ(s.pc.pages_dirty, 2);
	fake_now += 11 * 1000000000ull;            /* 31 s after the first dirtying */
	CHECK_EQ(lfs_pread(p, fd, buf, 1, 0), 1);  /* any call runs the flusher */
	lfs_mount_stats(m, &s);
	CHECK_EQ(s.pc.expire_writeback, 1);
	CHECK_EQ(s.pc.pages_dirty, 0);
	CHECK_EQ(s.pc.pages_written, 2);
	lfs_close(p, fd);
	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);
}

/* Writeback splits 1000 dirty pages into txns of at most txn_max_pages. */
TEST(txn_split_at_max_pages)
{
	uint32_t caps[2] = { 0, 100 }, want_txns[2] = { 4, 10 }, want_max[2] = { 310, 100 };
	for (int c = 0; c < 2; c++) {
		struct lfs_mount_opts o = { .in_memory = 1, .txn_max_pages = caps[c] };
		struct lfs_mount *m;
		struct lfs_err e = { 0 };
		CHECK(lfs_mount("mem", &o, &m, &e) == 0);
		struct lfs_proc *p = lfs_proc_new(m);
		int fd = lfs_open(p, "/w", O_RDWR | O_CREAT, 0644);
		uint8_t *buf = calloc(1000, 4096);
		CHECK_EQ(lfs_write(p, fd, buf, 1000 * 4096), 1000 * 4096);
		free(buf);
		CHECK_EQ(lfs_fsync(p, fd), 0);
		struct lfs_stats s;
		lfs_mount_stats(m, &s);
		CHECK_EQ(s.txn.txns, want_txns[c]);
		CHECK_EQ(s.txn.pages, 1000);
		CHECK_EQ(s.txn.max_pages, want_max[c]);
		CHECK_EQ(s.txn.fsync_waits, 1);
		/* contiguous pages of one inode merge: far fewer requests than pages */
		CHECK(s.io.merges >= 1000 - 2 * want_txns[c]);
		lfs_close(p, fd);
		lfs_proc_free(p);
		CHECK(lfs_umount(m, &e) == 0);
	}
}

/* drop_caches drops clean pages only; the next read misses. */
TEST(drop_caches_clean_only)
{
	struct lfs_mount_opts o = { .in_memory = 1 };
	struct lfs_mount *m;
	struct lfs_err e = { 0 };
	CHECK(lfs_mount("mem", &o, &m, &e) == 0);
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/w", O_RDWR | O_CREAT, 0644);
	uint8_t buf[8192];
	memset(buf, 3, sizeof buf);
	CHECK_EQ(lfs_write(p, fd, buf, 4096), 4096);
	CHECK_EQ(lfs_fsync(p, fd), 0);
	CHECK_EQ(lfs_pwrite(p, fd, buf, 4096, 4096), 4096);   /* page 1 dirty */
	lfs_drop_caches(m);
	struct lfs_stats s;
	lfs_mount_stats(m, &s);
	CHECK_EQ(s.pc.pages_cached, 1);
	CHECK_EQ(s.pc.pages_dirty, 1);
	memset(buf, 0, sizeof buf);
	CHECK_EQ(lfs_pread(p, fd, buf, 8192, 0), 8192);
	CHECK_EQ(buf[0], 3);
	CHECK_EQ(buf[8191], 3);
	lfs_close(p, fd);
	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);
}

/* utimens after buffered writes: the set mtime survives writeback and
 * remount (cp -p relies on it). */
TEST(utimens_after_dirty_write)
{
	char img[] = "/tmp/lfs_utimens.XXXXXX";
	int tfd = mkstemp(img);
	CHECK(tfd >= 0);
	close(tfd);
	struct lfs_mkfs_opts mo = { .force = 1 };
	struct lfs_err e = { 0 };
	CHECK(lfs_mkfs(img, &mo, &e) == 0);
	struct lfs_mount_opts o = { 0 };
	struct lfs_mount *m;
	CHECK(lfs_mount(img, &o, &m, &e) == 0);
	struct lfs_proc *p = lfs_proc_new(m);
	int fd = lfs_open(p, "/f", O_WRONLY | O_CREAT, 0644);
	uint8_t buf[5000] = { 1 };
	CHECK_EQ(lfs_write(p, fd, buf, sizeof buf), 5000);
	lfs_close(p, fd);
	uint64_t when = 1234567890123456789ull;
	CHECK_EQ(lfs_utimens(p, "/f", UINT64_MAX, when), 0);
	struct lfs_stat st;
	CHECK_EQ(lfs_stat(p, "/f", &st), 0);
	CHECK_EQ(st.mtime_ns, when);
	CHECK_EQ(st.size, 5000);
	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);
	CHECK(lfs_mount(img, &o, &m, &e) == 0);
	p = lfs_proc_new(m);
	CHECK_EQ(lfs_stat(p, "/f", &st), 0);
	CHECK_EQ(st.mtime_ns, when);
	CHECK_EQ(st.size, 5000);
	lfs_proc_free(p);
	CHECK(lfs_umount(m, &e) == 0);
	unlink(img);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, readahead_rampup_4k_reads, readahead_full_window_128k_reads,
			 readahead_off, readahead_random_then_sequential, lru_eviction_order,
			 dirty_background_threshold, dirty_expire_on_mount_clock,
			 txn_split_at_max_pages, drop_caches_clean_only, utimens_after_dirty_write);
}
