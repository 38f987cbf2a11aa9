/*
 * tests/unit/test_kv_memval.c — the value pool of the in-memory image:
 * blocks never overlap and keep their bytes while live, freed blocks are
 * reused by their class, sizes from 0 to past the pooled maximum, and the
 * pool's footprint follows the live bytes (not the bytes ever allocated).
 */
#include "harness.h"

#include "kv/kv.h"
#include "kv/memval.h"

#include <errno.h>
#include <sys/mman.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#define NSLOT 4096

struct slot { uint8_t *p; size_t n; uint8_t fill; };

static size_t rand_size(uint64_t *s)
{
	switch (t_rand(s) % 6) {
	case 0:  return t_rand(s) % 17;                /* 0 .. 16 */
	case 1:  return t_rand(s) % 300;               /* the 16-byte steps */
	case 2:  return 4096;                          /* a page */
	case 3:  return 256 + t_rand(s) % 8000;        /* the quarter steps */
	case 4:  return 60000 + t_rand(s) % 10000;     /* around the pooled max */
	default: return t_rand(s) % 70000;
	}
}

TEST(memval_random_oracle)
{
	uint64_t s = seed_from_env("memval_random_oracle");
	struct lfs_memval *m = lfs_memval_new();
	CHECK(m);
	static struct slot sl[NSLOT];
	memset(sl, 0, sizeof sl);
	for (int it = 0; it < 60000; it++) {
		struct slot *x = &sl[t_rand(&s) % NSLOT];
		if (x->p) {                      /* check it kept its bytes, free it */
			for (size_t i = 0; i < x->n; i++)
				CHECK_MSG(x->p[i] == x->fill, "iteration %d: byte %zu of %zu changed", it, i, x->n);
			lfs_memval_free(m, x->p, x->n);
			x->p = NULL;
			continue;
		}
		x->n = rand_size(&s);
		x->fill = (uint8_t)(1 + t_rand(&s) % 255);
		x->p = lfs_memval_alloc(m, x->n);
		CHECK(x->p);
		CHECK(((uintptr_t)x->p & 15) == 0);
		memset(x->p, x->fill, x->n);
	}
	for (int i = 0; i < NSLOT; i++) {
		if (!sl[i].p)
			continue;
		for (size_t j = 0; j < sl[i].n; j++)
			CHECK(sl[i].p[j] == sl[i].fill);
		lfs_memval_free(m, sl[i].p, sl[i].n);
	}
	lfs_memval_destroy(m);
}

/* Allocating and freeing the same sizes over and over holds the memory of
 * one round, not of every round. */
TEST(memval_reuse)
{
	struct lfs_memval *m = lfs_memval_new();
	CHECK(m);
	static void *p[2000];
	size_t first = 0;
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 2000; i++) {
			p[i] = lfs_memval_alloc(m, (size_t)(i % 7) * 700 + 1);
			CHECK(p[i]);
		}
		for (int i = 0; i < 2000; i++)
			lfs_memval_free(m, p[i], (size_t)(i % 7) * 700 + 1);
		if (round == 0)
			first = lfs_memval_mapped(m);
	}
	CHECK(first > 0);
	CHECK_EQ(lfs_memval_mapped(m), first);
	void *a = lfs_memval_alloc(m, 4096), *b;
	lfs_memval_free(m, a, 4096);
	b = lfs_memval_alloc(m, 4000);               /* same class: the same block */
	CHECK(a == b);
	lfs_memval_free(m, b, 4000);
	lfs_memval_free(m, NULL, 10);                /* like free(NULL) */
	lfs_memval_destroy(m);
	lfs_memval_destroy(NULL);
}

/* Under ASan a freed value and the slack past a value are poisoned. */
TEST(memval_asan_poison)
{
#if defined(__SANITIZE_ADDRESS__)
	struct lfs_memval *m = lfs_memval_new();
	CHECK(m);
	uint8_t *p = lfs_memval_alloc(m, 100);          /* class 112 */
	CHECK(p);
	CHECK(!__asan_address_is_poisoned(p + 99));
	CHECK(__asan_address_is_poisoned(p + 100));
	lfs_memval_free(m, p, 100);
	CHECK(__asan_address_is_poisoned(p));
	CHECK(__asan_address_is_poisoned(p + 50));
	uint8_t *q = lfs_memval_alloc(m, 97);           /* reused */
	CHECK(q == p);
	CHECK(!__asan_address_is_poisoned(q + 96));
	CHECK(__asan_address_is_poisoned(q + 97));
	lfs_memval_free(m, q, 97);
	lfs_memval_destroy(m);
#else
	SKIP("not an ASan build");
#endif
}

/* A pool past its first chunk gets its next chunks from the prefill
 * thread (huge pages or not): 48 MiB of page-sized values keep their bytes
 * across a dozen chunks, and the pool counts only the chunks it took. */
TEST(memval_large_prefilled)
{
	uint64_t s = seed_from_env("memval_large_prefilled");
	struct lfs_memval *m = lfs_memval_new();
	CHECK(m);
	enum { N = 12288 };                          /* 48 MiB of 4 KiB values */
	static uint8_t *p[N];
	uint64_t base = t_rand(&s);
	for (int i = 0; i < N; i++) {
		p[i] = lfs_memval_alloc(m, 4096);
		CHECK(p[i]);
		memset(p[i], (int)((base + (uint64_t)i) & 0xff), 4096);
		if (i % 1024 == 0) {                 /* give the prefill thread turns */
			struct timespec ts = { 0, 200000 };
			nanosleep(&ts, NULL);
		}
	}
	for (int i = 0; i < N; i++) {
		uint8_t want = (uint8_t)((base + (uint64_t)i) & 0xff);
		CHECK_MSG(p[i][0] == want && p[i][4095] == want, "value %d changed", i);
	}
	size_t mapped = lfs_memval_mapped(m);
	CHECK(mapped >= (size_t)N * 4096);
	CHECK(mapped <= (size_t)N * 4096 + (8u << 20));
	printf("# %zu of %zu chunks from the prefill thread\n", lfs_memval_prefilled(m),
	       mapped >> 22);
	CHECK(lfs_memval_prefilled(m) <= mapped >> 22);
	for (int i = 0; i < N; i++)
		lfs_memval_free(m, p[i], 4096);
	lfs_memval_destroy(m);
}

/* The prefill thread itself: mappings come populated (zeroed, writable),
 * at most `ahead` wait, take never blocks, and free unmaps what is left. */
TEST(prefill_thread)
{
	CHECK(lfs_prefill_take(NULL) == NULL);
	lfs_prefill_free(NULL);
	for (int align = 0; align < 2; align++) {
		size_t len = align ? (4u << 20) : (1u << 20) + 2048;
		struct lfs_prefill *f = lfs_prefill_new(len, 2, align ? (2u << 20) : 0);
		CHECK(f);
		int got = 0;
		for (int tries = 0; tries < 5000 && got < 5; tries++) {
			uint8_t *q = lfs_prefill_take(f);
			if (!q) {
				struct timespec ts = { 0, 1000000 };
				nanosleep(&ts, NULL);
				continue;
			}
			if (align)
				CHECK(((uintptr_t)q & ((2u << 20) - 1)) == 0);
			CHECK(q[0] == 0 && q[len / 2] == 0 && q[len - 1] == 0);
			memset(q, 0xa5, len);
			CHECK(munmap(q, len) == 0);
			got++;
		}
		CHECK_EQ(got, 5);
		CHECK_EQ(lfs_prefill_taken(f), 5);
		/* let it fill up again, then free with mappings not taken */
		struct timespec ts = { 0, 20000000 };
		nanosleep(&ts, NULL);
		lfs_prefill_free(f);
	}
}

/* The in-memory image's memtable places a key next to a finger (the node
 * last found or inserted with the same first byte) when it falls between
 * that node and its successor (kv.c, mt_upsert).  Runs up and down, gaps
 * filled later, updates of a finger's successor, interleaved key kinds and
 * keys that are prefixes of others, against an oracle: every key reads back
 * and a full scan is in order with nothing missing or extra. */
#define FG_N 1500
static const char fg_cls[] = "BDIS";

static size_t fg_key(uint8_t *k, int c, unsigned num, int ext)
{
	k[0] = (uint8_t)fg_cls[c];
	for (int i = 0; i < 8; i++)
		k[1 + i] = (uint8_t)((uint64_t)num >> (56 - 8 * i));
	if (ext)
		k[9] = (uint8_t)ext;
	return ext ? 10 : 9;
}

TEST(kv_memtable_fingers)
{
	uint64_t s = seed_from_env("kv_memtable_fingers");
	struct lfs_kv_opts o = { .mode = LFS_KV_MEMORY };
	struct lfs_kv *kv;
	struct lfs_err err = { 0 };
	CHECK_EQ(lfs_kv_open(NULL, &o, &kv, &err), 0);
	static uint32_t ver[4][FG_N][2];   /* 0: absent, else the value written */
	memset(ver, 0, sizeof ver);
	uint32_t next = 1;
	uint8_t k[16];
	for (int round = 0; round < 400; round++) {
		int c = (int)(t_rand(&s) % 4), ext = (int)(t_rand(&s) % 3 == 0);
		unsigned start = (unsigned)(t_rand(&s) % FG_N), len = 1 + (unsigned)(t_rand(&s) % 40);
		int mode = (int)(t_rand(&s) % 4);
		for (unsigned j = 0; j < len; j++) {
			unsigned num;
			switch (mode) {
			case 0:  num = start + j; break;                       /* a run up */
			case 1:  num = start >= j ? start - j : 0; break;      /* down */
			case 2:  num = start + 2 * j; break;                   /* every other */
			default: num = (unsigned)(t_rand(&s) % FG_N); break;   /* anywhere */
			}
			if (num >= FG_N)
				break;
			if (t_rand(&s) % 4 == 0)   /* interleave another kind */
				c = (int)(t_rand(&s) % 4);
			size_t kl = fg_key(k, c, num, ext);
			uint32_t v = next++;
			if (t_rand(&s) % 10 == 0) {
				CHECK_EQ(lfs_kv_del(kv, k, kl, &err), 0);
				v = 0;
			} else {
				CHECK_EQ(lfs_kv_put(kv, k, kl, &v, sizeof v, &err), 0);
			}
			ver[c][num][ext] = v;
		}
	}
	size_t want = 0;
	for (int c = 0; c < 4; c++)
		for (unsigned n = 0; n < FG_N; n++)
			for (int e = 0; e < 2; e++) {
				size_t kl = fg_key(k, c, n, e);
				uint32_t got = 0;
				size_t vl = 0;
				int rc = lfs_kv_get_into(kv, k, kl, &got, sizeof got, &vl, &err);
				if (ver[c][n][e]) {
					want++;
					CHECK_EQ(rc, 0);
					CHECK_EQ(got, ver[c][n][e]);
				} else {
					CHECK_EQ(rc, -ENOENT);
				}
			}
	/* a scan in key order: class, number, then the 10-byte key after the
	 * 9-byte one it extends */
	size_t seen = 0;
	int pc = -1;
	unsigned pn = 0;
	int pe = 0;
	struct lfs_kv_iter *it;
	for (it = lfs_kv_iter_new(kv, NULL, 0, NULL, 0); lfs_kv_iter_valid(it); lfs_kv_iter_next(it)) {
		size_t kl;
		const uint8_t *kk = lfs_kv_iter_key(it, &kl);
		CHECK(kl == 9 || kl == 10);
		int c = (int)(strchr(fg_cls, kk[0]) - fg_cls);
		unsigned n = 0;
		for (int i = 0; i < 8; i++)
			n = (n << 8) | kk[1 + i];
		int e = kl == 10;
		CHECK(n < FG_N);
		CHECK(ver[c][n][e] != 0);
		CHECK(pc < c || (pc == c && (pn < n || (pn == n && pe < e))));
		pc = c; pn = n; pe = e;
		seen++;
	}
	CHECK_EQ(lfs_kv_iter_error(it, &err), 0);
	lfs_kv_iter_free(it);
	CHECK_EQ(seen, want);
	lfs_kv_close(kv);
}

/* The in-memory image's memtable in several arena chunks (mapped, from the
 * second on by a prefill thread): 40,000 keys of two interleaved files'
 * pages, with and without checkpoints between them (a small memtable
 * limit), all read back. */
static void memtable_chunks(size_t limit)
{
	struct lfs_kv_opts o = { .mode = LFS_KV_MEMORY, .memtable_bytes = limit };
	struct lfs_kv *kv;
	struct lfs_err err = { 0 };
	CHECK_EQ(lfs_kv_open(NULL, &o, &kv, &err), 0);
	uint8_t k[17];
	for (uint64_t i = 0; i < 40000; i++) {
		uint64_t ino = 2 + (i & 1), idx = i >> 1;
		k[0] = 'B';
		for (int j = 0; j < 8; j++) {
			k[1 + j] = (uint8_t)(ino >> (56 - 8 * j));
			k[9 + j] = (uint8_t)(idx >> (56 - 8 * j));
		}
		CHECK_EQ(lfs_kv_put(kv, k, sizeof k, &i, sizeof i, &err), 0);
	}
	struct lfs_kv_stats st;
	lfs_kv_stats(kv, &st);
	CHECK_EQ(st.live_keys, 40000);
	if (!limit)
		CHECK(st.memtable_bytes >= (2u << 20));   /* more than one chunk */
	for (uint64_t i = 0; i < 40000; i += 7) {
		uint64_t ino = 2 + (i & 1), idx = i >> 1, got = 0;
		size_t vl = 0;
		k[0] = 'B';
		for (int j = 0; j < 8; j++) {
			k[1 + j] = (uint8_t)(ino >> (56 - 8 * j));
			k[9 + j] = (uint8_t)(idx >> (56 - 8 * j));
		}
		CHECK_EQ(lfs_kv_get_into(kv, k, sizeof k, &got, sizeof got, &vl, &err), 0);
		CHECK_EQ(got, i);
	}
	lfs_kv_close(kv);
}

TEST(kv_memtable_chunks)
{
	memtable_chunks(0);
	memtable_chunks(1u << 20);   /* checkpoints: chunks unmapped and taken again */
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, memval_random_oracle, memval_reuse, memval_asan_poison,
			 memval_large_prefilled, prefill_thread, kv_memtable_fingers,
			 kv_memtable_chunks);
}
