/*
 * tests/unit/test_kv_memval.c — the value pool of the in-memory image:
 * blocks never overlap and keep their bytes while live, freed blocks are
 * reused by their class, sizes from 0 to past the pooled maximum, and the
 * pool's footprint follows the live bytes (not the bytes ever allocated).
 */
#include "harness.h"

#include "kv/memval.h"

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

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, memval_random_oracle, memval_reuse, memval_asan_poison);
}
