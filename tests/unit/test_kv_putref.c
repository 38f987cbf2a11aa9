/*
 * tests/unit/test_kv_putref.c — batches with by-reference values
 * (lfs_kv_batch_put_ref, the cache pages writeback hands over): a large one
 * on an uncompressed image file is written with pwritev straight from the
 * values, anything else is made contiguous first.  Against a model, on a
 * plain image (in and out of a group), a zstd image and the in-memory one:
 * some values with their CRC given (lfs_kv_batch_put_ref_crc), some not;
 * every value reads back after its commit even though the caller scribbles
 * over the referenced buffers right after it (nothing is kept by
 * reference), the image verifies (every record's CRC) and replays to the
 * same contents after a reopen.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "harness.h"
#include "test_kv_model.h"
#include "common/crc32c.h"
#include "kv/kv.h"

#define NPAGES 48
#define PSZ 4096

/* The model's contents equal the image's, in order. */
static int same_contents(struct lfs_kv *kv, struct model *m, char *why, size_t wl)
{
	struct lfs_kv_iter *it = lfs_kv_iter_new(kv, NULL, 0, NULL, 0);
	size_t i = 0;
	int ok = 1;
	for (; ok && lfs_kv_iter_valid(it); lfs_kv_iter_next(it), i++) {
		size_t kl, vl;
		const void *k = lfs_kv_iter_key(it, &kl);
		const void *v = lfs_kv_iter_value(it, &vl);
		if (i >= m->n) {
			snprintf(why, wl, "extra key %.*s", (int)kl, (const char *)k);
			ok = 0;
		} else if (m_cmp(k, kl, m->e[i].k, m->e[i].kl) != 0) {
			snprintf(why, wl, "key %zu: %.*s, model %.*s", i, (int)kl, (const char *)k,
				 (int)m->e[i].kl, (const char *)m->e[i].k);
			ok = 0;
		} else if (!v || vl != m->e[i].vl || memcmp(v, m->e[i].v, vl) != 0) {
			snprintf(why, wl, "value of %.*s (%zu bytes, model %zu)", (int)kl,
				 (const char *)k, vl, m->e[i].vl);
			ok = 0;
		}
	}
	if (ok && lfs_kv_iter_error(it, NULL) != 0) {
		snprintf(why, wl, "iterator error");
		ok = 0;
	}
	if (ok && i != m->n) {
		snprintf(why, wl, "%zu keys, model %zu", i, m->n);
		ok = 0;
	}
	lfs_kv_iter_free(it);
	return ok;
}

static void bad_rec(void *arg, uint64_t off, const char *msg)
{
	(void)off;
	(void)msg;
	(*(int *)arg)++;
}

/* mode: 0 plain file, 1 plain file in a group, 2 zstd file, 3 memory */
static void run(int mode, const char *what)
{
	uint64_t s = seed_from_env(what);
	char path[] = "/tmp/lfs_putref_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	struct lfs_kv_opts o = { .mode = mode == 3 ? LFS_KV_MEMORY : LFS_KV_CREATE, .no_lock = 1,
				 .compress = mode == 2 ? LFS_KV_COMPRESS_ZSTD : LFS_KV_COMPRESS_NONE,
				 .memtable_bytes = 64u << 10 };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	CHECK_EQ(lfs_kv_open(path, &o, &kv, &e), 0);
	struct lfs_kv_batch *b = lfs_kv_batch_new();
	CHECK(b);
	static uint8_t pages[NPAGES][PSZ];
	static uint8_t small[3000];
	struct model m = { 0 };
	char why[256];
	if (mode == 1)
		CHECK_EQ(lfs_kv_group_begin(kv, &e), 0);
	for (int round = 0; round < 60; round++) {
		/* a run of page puts (by reference), now and then more than the
		 * 64 KiB of the pwritev path, mixed with plain puts and deletes */
		int np = (int)(t_rand(&s) % (t_rand(&s) % 3 ? NPAGES : 6));
		uint64_t ino = 1 + t_rand(&s) % 3, first = t_rand(&s) % 64;
		for (int p = 0; p < np; p++) {
			char k[40];
			int kl = snprintf(k, sizeof k, "D%02" PRIu64 ":%06" PRIu64, ino, first + (uint64_t)p);
			size_t vl = t_rand(&s) % 8 ? PSZ : 1 + t_rand(&s) % PSZ;
			for (size_t x = 0; x < vl; x++)
				pages[p][x] = (uint8_t)(round * 31 + p * 7 + (int)(x >> 3));
			if (t_rand(&s) % 2)          /* the CRC known, as a page cache's PG_crc */
				CHECK_EQ(lfs_kv_batch_put_ref_crc(b, k, (size_t)kl, pages[p], vl,
								  lfs_crc32c(0, pages[p], vl)), 0);
			else
				CHECK_EQ(lfs_kv_batch_put_ref(b, k, (size_t)kl, pages[p], vl), 0);
			m_put(&m, k, (size_t)kl, pages[p], vl);
			if (t_rand(&s) % 9 == 0) {     /* an inode record between pages */
				int il = snprintf(k, sizeof k, "I%02" PRIu64, ino);
				size_t sl = t_rand(&s) % sizeof small;
				memset(small, round + p, sl);
				CHECK_EQ(lfs_kv_batch_put(b, k, (size_t)il, small, sl), 0);
				m_put(&m, k, (size_t)il, small, sl);
			}
		}
		if (t_rand(&s) % 4 == 0) {
			char k[40];
			int kl = snprintf(k, sizeof k, "D%02" PRIu64 ":%06" PRIu64, ino, t_rand(&s) % 70);
			CHECK_EQ(lfs_kv_batch_del(b, k, (size_t)kl), 0);
			m_del(&m, k, (size_t)kl);
		}
		if (t_rand(&s) % 6 == 0) {
			char lo[40], hi[40];
			uint64_t a = t_rand(&s) % 70;
			int ll = snprintf(lo, sizeof lo, "D%02" PRIu64 ":%06" PRIu64, ino, a);
			int hl = snprintf(hi, sizeof hi, "D%02" PRIu64 ":%06" PRIu64, ino, a + t_rand(&s) % 5);
			CHECK_EQ(lfs_kv_batch_del_range(b, lo, (size_t)ll, hi, (size_t)hl), 0);
			m_del_range(&m, lo, (size_t)ll, hi, (size_t)hl);
		}
		int sync = t_rand(&s) % 5 == 0;
		CHECK_EQ(lfs_kv_commit(kv, b, sync, &e), 0);
		lfs_kv_batch_clear(b);
		memset(pages, 0xEE, sizeof pages);      /* nothing may be kept by reference */
		CHECK_MSG(same_contents(kv, &m, why, sizeof why), "round %d: %s", round, why);
	}
	if (mode == 1)
		CHECK_EQ(lfs_kv_group_commit(kv, 1, &e), 0);
	CHECK_EQ(lfs_kv_sync(kv, &e), 0);
	if (mode != 3) {
		int bad = 0;
		CHECK_EQ(lfs_kv_verify(kv, bad_rec, &bad, &e), 0);
		CHECK_EQ(bad, 0);
		CHECK_EQ(lfs_kv_close(kv), 0);
		struct lfs_kv_opts ro = { .mode = LFS_KV_RDWR, .no_lock = 1 };
		CHECK_EQ(lfs_kv_open(path, &ro, &kv, &e), 0);
		CHECK_MSG(same_contents(kv, &m, why, sizeof why), "after reopen: %s", why);
		unlink(path);
	}
	lfs_kv_close(kv);
	lfs_kv_batch_free(b);
	m_free(&m);
}

TEST(putref_plain) { run(0, "putref_plain"); }
TEST(putref_group) { run(1, "putref_group"); }
TEST(putref_zstd) { run(2, "putref_zstd"); }
TEST(putref_memory) { run(3, "putref_memory"); }

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, putref_plain, putref_group, putref_zstd, putref_memory);
}
