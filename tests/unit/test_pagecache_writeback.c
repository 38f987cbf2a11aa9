/* The generic page cache over a test backing store whose writeback
 * completions the test controls (the real engine completes them on its io
 * thread, too fast to observe throttling deterministically): the hard
 * dirty threshold throttles the writer until writeback completed, reclaim
 * writes a dirty inode back before evicting its pages, stable pages
 * (write_begin waits for writeback), truncate waits for writeback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "common/crc32c.h"
#include "pagecache/pagecache.h"

#define PSZ 4096u
#define NSTORE 1024

/* the backing store: page data by index, writeback sequence numbers */
static uint8_t store[NSTORE][PSZ];
static uint64_t next_seq, done_seq, waits, writepages_calls;
static int evict_release_checks;
static uint64_t crc_pages, crc_bad;    /* PG_crc pages written back, of them wrong */

static int t_readpage(struct lfs_mapping *m, struct lfs_page *pg)
{
	(void)m;
	memcpy(pg->data, store[pg->index], PSZ);
	return 0;
}

static int t_readahead(struct lfs_mapping *m, struct lfs_page **pages, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		t_readpage(m, pages[i]);
	return 0;
}

static int t_write_begin(struct lfs_mapping *m, uint64_t pos, unsigned len, struct lfs_page **pp)
{
	return lfs_pc_write_begin(m, pos, len, pp);
}

static int t_write_end(struct lfs_mapping *m, uint64_t pos, unsigned len, unsigned copied,
		       struct lfs_page *pg)
{
	return lfs_pc_write_end(m, pos, len, copied, pg);
}

/* one "txn" per call; the data reaches the store at once, completion only
 * when the test (or a waiter) says so */
static int t_writepages(struct lfs_mapping *m, struct lfs_page **pages, unsigned n, int reason,
			int sync)
{
	(void)m; (void)reason; (void)sync;
	uint64_t seq = ++next_seq;
	writepages_calls++;
	for (unsigned i = 0; i < n; i++) {
		memcpy(store[pages[i]->index], pages[i]->data, PSZ);
		pages[i]->wb_seq = seq;
		if (pages[i]->flags & PG_crc) {
			crc_pages++;
			crc_bad += pages[i]->crc != lfs_crc32c(0, pages[i]->data, PSZ);
		}
	}
	return 0;
}

static int t_release(struct lfs_mapping *m, struct lfs_page *pg)
{
	(void)m;
	evict_release_checks++;
	return !(pg->flags & (PG_dirty | PG_writeback));
}

static int t_wb_wait(struct lfs_mapping *m, uint64_t seq)
{
	(void)m;
	waits++;
	if (done_seq < seq)
		done_seq = seq;
	return 0;
}

static uint64_t t_wb_done(struct lfs_mapping *m) { (void)m; return done_seq; }

static const struct lfs_aops t_aops = {
	.readpage = t_readpage, .readahead = t_readahead, .write_begin = t_write_begin,
	.write_end = t_write_end, .writepages = t_writepages, .release = t_release,
	.wb_wait = t_wb_wait, .wb_done = t_wb_done,
};

static void reset(void)
{
	memset(store, 0, sizeof store);
	next_seq = done_seq = waits = writepages_calls = crc_pages = crc_bad = 0;
	evict_release_checks = 0;
}

/* 100-page cache: background 10 pages, hard 20.  11 pages written: one
 * background round (11 pages in writeback, not completed).  10 more: 10
 * dirty + 11 in writeback > 20 → the writer is throttled: everything dirty
 * goes to writeback and it waits for the oldest txns until dirty +
 * writeback is back under the threshold (here the first txn: 10 pages stay
 * in writeback, the io side keeps working while the writer goes on). */
TEST(hard_threshold_throttles)
{
	reset();
	struct lfs_pc_opts o = { .page_size = PSZ, .cache_bytes = 100 * PSZ,
				 .dirty_background_ratio = 0.10, .dirty_ratio = 0.20 };
	struct lfs_pc *pc;
	CHECK(lfs_pc_new(&o, &pc) == 0);
	struct lfs_mapping m;
	lfs_mapping_init(&m, pc, &t_aops, NULL, 1, 0);
	uint8_t buf[PSZ];
	memset(buf, 0xab, sizeof buf);
	for (int i = 0; i < 11; i++)
		CHECK_EQ(lfs_pc_perform_write(&m, buf, PSZ, (uint64_t)i * PSZ), PSZ);
	struct lfs_pc_stats s;
	lfs_pc_stats(pc, &s);
	CHECK_EQ(s.bg_writeback, 1);
	CHECK_EQ(s.hard_writeback, 0);
	CHECK_EQ(s.pages_writeback, 11);
	CHECK_EQ(s.pages_dirty, 0);
	CHECK_EQ(waits, 0);
	for (int i = 11; i < 20; i++)
		CHECK_EQ(lfs_pc_perform_write(&m, buf, PSZ, (uint64_t)i * PSZ), PSZ);
	lfs_pc_stats(pc, &s);
	CHECK_EQ(s.hard_writeback, 0);            /* 9 + 11 = 20: not over yet */
	CHECK_EQ(lfs_pc_perform_write(&m, buf, PSZ, 20 * PSZ), PSZ);
	lfs_pc_stats(pc, &s);
	CHECK_EQ(s.hard_writeback, 1);
	CHECK_EQ(s.pages_writeback, 10);          /* it waited for the first txn only */
	CHECK_EQ(done_seq, 1);
	CHECK_EQ(s.pages_dirty, 0);
	CHECK_EQ(s.pages_written, 21);
	CHECK(waits >= 1);
	CHECK_EQ(store[20][0], 0xab);
	lfs_mapping_destroy(&m);
	lfs_pc_free(pc);
}

/* Reclaim meets a dirty page at the inactive tail: the inode goes to
 * writeback (pageout) first, and the page is evicted only once clean. */
TEST(reclaim_writes_dirty_first)
{
	reset();
	/* thresholds high enough that only reclaim writes back */
	struct lfs_pc_opts o = { .page_size = PSZ, .cache_bytes = 4 * PSZ,
				 .dirty_background_ratio = 0.99, .dirty_ratio = 1.0, .readahead_max = PSZ };
	struct lfs_pc *pc;
	CHECK(lfs_pc_new(&o, &pc) == 0);
	struct lfs_mapping m;
	lfs_mapping_init(&m, pc, &t_aops, NULL, 1, 0);
	uint8_t buf[PSZ];
	for (int i = 0; i < 3; i++) {
		memset(buf, 0x10 + i, sizeof buf);
		CHECK_EQ(lfs_pc_perform_write(&m, buf, PSZ, (uint64_t)i * PSZ), PSZ);
	}
	CHECK_EQ(writepages_calls, 0);
	/* reading 4 other pages into the 4-page cache: reclaim meets the dirty
	 * pages at the inactive tail and must write them before evicting */
	m.i_size = 20 * PSZ;
	uint8_t rb[PSZ];
	struct lfs_ra_state ra;
	lfs_ra_init(&ra);
	for (int i = 10; i < 14; i++) {
		store[i][0] = (uint8_t)i;
		CHECK_EQ(lfs_pc_filemap_read(&m, &ra, rb, PSZ, (uint64_t)i * PSZ), PSZ);
		CHECK_EQ(rb[0], i);
	}
	struct lfs_pc_stats s;
	lfs_pc_stats(pc, &s);
	CHECK_EQ(writepages_calls, 1);
	CHECK_EQ(s.pages_written, 3);
	CHECK_EQ(s.pages_evicted, 3);
	CHECK(s.pages_cached <= 4);
	for (int i = 0; i < 3; i++)
		CHECK_EQ(store[i][0], 0x10 + i);      /* written before eviction */
	/* reading an evicted page gets the written data back */
	CHECK_EQ(lfs_pc_filemap_read(&m, &ra, rb, PSZ, 0), PSZ);
	CHECK_EQ(rb[0], 0x10);
	lfs_mapping_destroy(&m);
	lfs_pc_free(pc);
}

/* write_begin on a page in writeback waits for its txn (stable pages);
 * truncate does too before dropping pages. */
TEST(stable_pages_and_truncate_wait)
{
	reset();
	struct lfs_pc_opts o = { .page_size = PSZ, .cache_bytes = 64 * PSZ };
	struct lfs_pc *pc;
	CHECK(lfs_pc_new(&o, &pc) == 0);
	struct lfs_mapping m;
	lfs_mapping_init(&m, pc, &t_aops, NULL, 1, 0);
	uint8_t buf[PSZ];
	memset(buf, 1, sizeof buf);
	CHECK_EQ(lfs_pc_perform_write(&m, buf, PSZ, 0), PSZ);
	CHECK_EQ(lfs_pc_perform_write(&m, buf, PSZ, PSZ), PSZ);
	CHECK_EQ(lfs_pc_writeback(&m, LFS_WB_SYNC, 0, 0), 2);
	struct lfs_pc_stats s;
	lfs_pc_stats(pc, &s);
	CHECK_EQ(s.pages_writeback, 2);
	CHECK_EQ(waits, 0);
	CHECK_EQ(lfs_pc_perform_write(&m, buf, 10, 5), 10);   /* page 0 is in writeback */
	CHECK_EQ(waits, 1);
	lfs_pc_stats(pc, &s);
	CHECK_EQ(s.pages_writeback, 0);
	CHECK_EQ(s.pages_dirty, 1);
	CHECK_EQ(lfs_pc_writeback(&m, LFS_WB_SYNC, 0, 0), 1);
	lfs_pc_truncate(&m, 0);
	CHECK_EQ(waits, 2);
	lfs_pc_stats(pc, &s);
	CHECK_EQ(s.pages_cached, 0);
	lfs_mapping_destroy(&m);
	lfs_pc_free(pc);
}

/* PG_crc: a page carries its CRC32C only while that is the CRC of its
 * data.  Seeded random whole-page, partial and unaligned writes, truncates
 * (zeroing a cached tail), reads through a small cache (eviction, re-read
 * pages) and writebacks: every page handed to writepages with PG_crc has
 * the CRC of its bytes, and whole-page writes do set it. */
TEST(page_crc_follows_data)
{
	reset();
	uint64_t s = seed_from_env("page_crc_follows_data");
	struct lfs_pc_opts o = { .page_size = PSZ, .cache_bytes = 24 * PSZ };
	struct lfs_pc *pc;
	CHECK(lfs_pc_new(&o, &pc) == 0);
	struct lfs_mapping m;
	lfs_mapping_init(&m, pc, &t_aops, NULL, 1, 0);
	static uint8_t buf[4 * PSZ];
	struct lfs_ra_state ra;
	lfs_ra_init(&ra);
	for (int it = 0; it < 3000; it++) {
		uint64_t q = t_rand(&s) % 10, page = t_rand(&s) % 64;
		for (size_t x = 0; x < sizeof buf; x++)
			buf[x] = (uint8_t)(it + x * 13);
		if (q < 4) {                       /* whole pages */
			size_t n = (1 + t_rand(&s) % 4) * PSZ;
			CHECK_EQ(lfs_pc_perform_write(&m, buf, n, page * PSZ), (long long)n);
		} else if (q < 7) {                /* partial, maybe across a boundary */
			size_t off = t_rand(&s) % PSZ, n = 1 + t_rand(&s) % (2 * PSZ);
			CHECK_EQ(lfs_pc_perform_write(&m, buf, n, page * PSZ + off), (long long)n);
		} else if (q < 8) {
			uint64_t to = t_rand(&s) % (64 * PSZ);
			if (to < m.i_size) {
				lfs_pc_truncate(&m, to);
				m.i_size = to;
			}
		} else if (q < 9) {
			uint8_t rb[PSZ];
			lfs_pc_filemap_read(&m, &ra, rb, PSZ, page * PSZ);
		} else {
			lfs_pc_writeback(&m, LFS_WB_SYNC, 0, t_rand(&s) % 2);
		}
	}
	lfs_pc_sync_all(pc, LFS_WB_SYNC);
	CHECK(crc_pages > 0);
	CHECK_EQ(crc_bad, 0);
	lfs_mapping_destroy(&m);
	lfs_pc_free(pc);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, hard_threshold_throttles, reclaim_writes_dirty_first,
			 stable_pages_and_truncate_wait, page_crc_follows_data);
}
