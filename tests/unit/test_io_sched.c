/* The cheeze channel over an in-memory KV: request merging (adjacent page
 * puts of one inode in one request, nothing else), reads never passing a
 * queued commit (noop and deadline), a full queue, async commits completing
 * in order, scans in chunks, the latency histogram. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "io/io.h"

static struct lfs_kv *memkv(void)
{
	struct lfs_kv_opts o = { .mode = LFS_KV_MEMORY };
	struct lfs_kv *kv = NULL;
	struct lfs_err e = { 0 };
	if (lfs_kv_open("mem", &o, &kv, &e) < 0)
		return NULL;
	return kv;
}

static size_t dkey(uint8_t *k, uint64_t ino, uint64_t idx)
{
	k[0] = 'B';
	for (int i = 0; i < 8; i++) {
		k[1 + i] = (uint8_t)(ino >> (56 - 8 * i));
		k[9 + i] = (uint8_t)(idx >> (56 - 8 * i));
	}
	return 17;
}

static int merging(enum lfs_sched sched)
{
	struct lfs_kv *kv = memkv();
	struct lfs_io *io;
	struct lfs_io_opts o = { .queue_depth = 64, .sched = sched };
	if (!kv || lfs_io_start(kv, &o, &io, NULL) < 0)
		return -1;
	/* a page put's value is read at the commit: one buffer per page */
	static uint8_t pages[10][512];
	uint8_t k[17], *page = pages[9];
	uint64_t t = lfs_io_txn_begin(io);
	lfs_io_plug(io);
	/* ino 5 pages 0..9: one request, 9 merges */
	for (uint64_t i = 0; i < 10; i++) {
		memset(pages[i], (int)i, sizeof pages[i]);
		lfs_io_put_page(io, t, 5, i, k, dkey(k, 5, i), pages[i], sizeof pages[i]);
	}
	lfs_io_put_page(io, t, 5, 20, k, dkey(k, 5, 20), page, sizeof pages[9]);  /* gap: new */
	lfs_io_put_page(io, t, 6, 21, k, dkey(k, 6, 21), page, sizeof pages[9]);  /* other ino: new */
	lfs_io_put(io, t, "meta", 4, "v", 1);                                  /* not a page */
	lfs_io_put_page(io, t, 6, 22, k, dkey(k, 6, 22), page, sizeof pages[9]);  /* after meta: new */
	int rc = lfs_io_txn_commit(io, t, 0, NULL);
	struct lfs_io_stats st;
	lfs_io_stats(io, &st);
	int bad = 0;
	if (rc != 0 || st.merges != 9 || st.requests != 6 || st.commits != 1 || st.writes != 14) {
		printf("# sched %d: rc %d merges %llu requests %llu commits %llu writes %llu\n", sched, rc,
		       (unsigned long long)st.merges, (unsigned long long)st.requests,
		       (unsigned long long)st.commits, (unsigned long long)st.writes);
		bad = 1;
	}
	size_t vl = 0;
	uint8_t got[512];
	if (lfs_io_get(io, k, dkey(k, 5, 7), got, sizeof got, &vl, NULL) != 0 || vl != 512 || got[0] != 7)
		bad = 1;
	lfs_io_stats(io, &st);
	if (st.lat.count != st.requests || lfs_hist_quantile(&st.lat, 0.5) == 0)
		bad = 1;
	lfs_io_stop(io);
	lfs_kv_close(kv);
	return bad;
}

TEST(merge_noop) { CHECK_EQ(merging(LFS_SCHED_NOOP), 0); }
TEST(merge_deadline) { CHECK_EQ(merging(LFS_SCHED_DEADLINE), 0); }

/* Reads issued after an async commit see it, whatever the scheduler: a
 * read may pass queued items of an open txn, never a commit. */
static int read_after_commit(enum lfs_sched sched)
{
	struct lfs_kv *kv = memkv();
	struct lfs_io *io;
	struct lfs_io_opts o = { .queue_depth = 8, .sched = sched };
	if (!kv || lfs_io_start(kv, &o, &io, NULL) < 0)
		return -1;
	int bad = 0;
	for (int round = 0; round < 200 && !bad; round++) {
		char key[16], val[16], got[16];
		snprintf(key, sizeof key, "k%d", round % 7);
		snprintf(val, sizeof val, "v%d", round);
		uint64_t t = lfs_io_txn_begin(io), open = lfs_io_txn_begin(io), seq;
		lfs_io_put(io, t, key, strlen(key), val, strlen(val) + 1);
		lfs_io_put(io, open, key, strlen(key), "uncommitted", 12);   /* never visible */
		lfs_io_txn_commit_async(io, t, 0, &seq);
		size_t vl = 0;
		if (lfs_io_get(io, key, strlen(key), got, sizeof got, &vl, NULL) != 0 || strcmp(got, val))
			bad = 1;
		lfs_io_txn_abort(io, open);
		if (lfs_io_wait_seq(io, seq) != 0 || lfs_io_done_seq(io) < seq)
			bad = 1;
	}
	lfs_io_stop(io);
	lfs_kv_close(kv);
	return bad;
}

TEST(read_sees_commit_noop) { CHECK_EQ(read_after_commit(LFS_SCHED_NOOP), 0); }
TEST(read_sees_commit_deadline) { CHECK_EQ(read_after_commit(LFS_SCHED_DEADLINE), 0); }

/* A queue of 2 slots: 500 scattered puts (no merging) still all land. */
TEST(full_queue_blocks_then_drains)
{
	struct lfs_kv *kv = memkv();
	struct lfs_io *io;
	struct lfs_io_opts o = { .queue_depth = 2 };
	CHECK(kv && lfs_io_start(kv, &o, &io, NULL) == 0);
	uint8_t k[17], v[8] = { 9 };
	uint64_t t = lfs_io_txn_begin(io);
	lfs_io_plug(io);
	for (uint64_t i = 0; i < 500; i++)
		CHECK_EQ(lfs_io_put_page(io, t, 1, i * 2, k, dkey(k, 1, i * 2), v, sizeof v), 0);
	CHECK_EQ(lfs_io_txn_commit(io, t, 0, NULL), 0);
	struct lfs_io_stats st;
	lfs_io_stats(io, &st);
	CHECK_EQ(st.merges, 0);
	CHECK_EQ(st.requests, 501);
	CHECK(st.max_depth <= 2);
	int n = 0;
	uint8_t lo[9] = { 'B' }, hi[1] = { 'C' };
	for (uint64_t i = 0; i < 500; i++) {
		size_t vl;
		uint8_t got[8];
		if (lfs_io_get(io, k, dkey(k, 1, i * 2), got, sizeof got, &vl, NULL) == 0)
			n++;
	}
	CHECK_EQ(n, 500);
	(void)lo; (void)hi;
	lfs_io_stop(io);
	lfs_kv_close(kv);
}

struct cnt { int n; uint64_t last; int order_bad; };
static int count_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct cnt *c = arg;
	uint64_t idx = 0;
	for (int i = 0; i < 8; i++)
		idx = (idx << 8) | ((const uint8_t *)k)[9 + i];
	if (c->n && idx <= c->last)
		c->order_bad = 1;
	c->last = idx;
	c->n++;
	(void)kl; (void)v; (void)vl;
	return 0;
}

static int keys_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct cnt *c = arg;
	if (v || vl != 4096)
		c->order_bad = 1;
	return count_cb(arg, k, kl, v, vl);
}

/* A scan larger than one reply (64 KiB) continues where it stopped. */
TEST(scan_in_chunks)
{
	struct lfs_kv *kv = memkv();
	struct lfs_io *io;
	CHECK(kv && lfs_io_start(kv, NULL, &io, NULL) == 0);
	uint8_t k[17];
	static uint8_t page[4096];
	uint64_t t = lfs_io_txn_begin(io);
	for (uint64_t i = 0; i < 100; i++)
		lfs_io_put_page(io, t, 3, i, k, dkey(k, 3, i), page, sizeof page);
	CHECK_EQ(lfs_io_txn_commit(io, t, 0, NULL), 0);
	uint8_t lo[17], hi[17];
	dkey(lo, 3, 0);
	dkey(hi, 4, 0);
	struct cnt c = { 0 };
	CHECK_EQ(lfs_io_scan(io, lo, 17, hi, 17, count_cb, &c, NULL), 0);
	CHECK_EQ(c.n, 100);
	CHECK_EQ(c.order_bad, 0);
	/* keys only: no value bytes travel, their lengths do */
	struct cnt ck = { 0 };
	CHECK_EQ(lfs_io_scan_keys(io, lo, 17, hi, 17, keys_cb, &ck, NULL), 0);
	CHECK_EQ(ck.n, 100);
	CHECK_EQ(ck.order_bad, 0);
	lfs_io_stop(io);
	lfs_kv_close(kv);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, merge_noop, merge_deadline, read_sees_commit_noop,
			 read_sees_commit_deadline, full_queue_blocks_then_drains, scan_in_chunks);
}
