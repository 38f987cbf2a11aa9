/* Transactions over the channel: all or nothing (an aborted or failed txn
 * leaves no item behind), full() at max_pages, async commits waited by
 * sequence, stats (txns count only those holding pages). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "txn/txn.h"

static struct lfs_kv *kv;
static struct lfs_io *io;
static struct lfs_txn_mgr *tm;

static int up(uint32_t max_pages)
{
	struct lfs_kv_opts o = { .mode = LFS_KV_MEMORY };
	if (lfs_kv_open("mem", &o, &kv, NULL) < 0 || lfs_io_start(kv, NULL, &io, NULL) < 0)
		return -1;
	struct lfs_txn_opts to = { .max_pages = max_pages };
	return lfs_txn_mgr_new(io, &to, &tm);
}

static void down(void)
{
	lfs_txn_mgr_free(tm);
	lfs_io_stop(io);
	lfs_kv_close(kv);
}

static int present(const char *k)
{
	size_t vl;
	char b[64];
	return lfs_txn_get(tm, k, strlen(k), b, sizeof b, &vl, NULL) == 0;
}

TEST(abort_leaves_nothing)
{
	CHECK(up(0) == 0);
	struct lfs_txn *t = lfs_txn_begin(tm);
	lfs_txn_put(t, "a", 1, "1", 1);
	lfs_txn_put_page(t, 1, 0, "p0", 2, "data", 4);
	lfs_txn_abort(t);
	CHECK(!present("a"));
	CHECK(!present("p0"));
	t = lfs_txn_begin(tm);
	lfs_txn_put(t, "a", 1, "1", 1);
	lfs_txn_put_page(t, 1, 0, "p0", 2, "data", 4);
	lfs_txn_del(t, "zz", 2);
	CHECK_EQ(lfs_txn_commit(t, 0, NULL, NULL), 0);
	CHECK(present("a"));
	CHECK(present("p0"));
	struct lfs_txn_stats st;
	lfs_txn_stats(tm, &st);
	CHECK_EQ(st.txns, 1);
	CHECK_EQ(st.pages, 1);
	CHECK_EQ(st.meta_ops, 2);
	/* a metadata-only txn counts in meta_ops, not in txns */
	t = lfs_txn_begin(tm);
	lfs_txn_put(t, "b", 1, "2", 1);
	CHECK_EQ(lfs_txn_commit(t, LFS_TXN_SYNC, NULL, NULL), 0);
	lfs_txn_stats(tm, &st);
	CHECK_EQ(st.txns, 1);
	CHECK_EQ(st.meta_ops, 3);
	down();
}

/* An item that cannot go in (key over the KV limit) fails the whole txn:
 * none of its other items appear. */
TEST(failed_item_fails_txn)
{
	CHECK(up(0) == 0);
	static char big[LFS_KV_MAX_KEY + 10];
	memset(big, 'k', sizeof big);
	struct lfs_txn *t = lfs_txn_begin(tm);
	lfs_txn_put(t, "x", 1, "1", 1);
	int rc = lfs_txn_put(t, big, sizeof big, "v", 1);
	CHECK(rc < 0);
	CHECK(lfs_txn_commit(t, 0, NULL, NULL) < 0);
	CHECK(!present("x"));
	down();
}

TEST(full_at_max_pages_and_async_order)
{
	CHECK(up(3) == 0);
	uint64_t seqs[5];
	for (int i = 0; i < 5; i++) {
		struct lfs_txn *t = lfs_txn_begin(tm);
		char k[16];
		for (int j = 0; j < 3; j++) {
			CHECK(!lfs_txn_full(t));
			snprintf(k, sizeof k, "t%dp%d", i, j);
			lfs_txn_put_page(t, 1, (uint64_t)(i * 3 + j), k, strlen(k), "d", 1);
		}
		CHECK(lfs_txn_full(t));
		CHECK_EQ(lfs_txn_commit(t, LFS_TXN_ASYNC, &seqs[i], NULL), 0);
		if (i)
			CHECK(seqs[i] > seqs[i - 1]);
	}
	CHECK_EQ(lfs_txn_wait(tm, seqs[4], 1), 0);
	CHECK(lfs_txn_done(tm) >= seqs[4]);
	CHECK(present("t4p2"));
	CHECK(present("t0p0"));
	struct lfs_txn_stats st;
	lfs_txn_stats(tm, &st);
	CHECK_EQ(st.txns, 5);
	CHECK_EQ(st.pages, 15);
	CHECK_EQ(st.max_pages, 3);
	CHECK_EQ(st.fsync_waits, 1);
	down();
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, abort_leaves_nothing, failed_item_fails_txn,
			 full_at_max_pages_and_async_order);
}
