/*
 * tests/unit/test_replay_pattern.c — the content replay writes without a
 * recorded payload: the word-at-a-time generators (AVX2, SSSE3, portable)
 * produce exactly the bytes of the byte-at-a-time definition, for every
 * alignment and length class, and the definition itself (REPORT.md) is
 * pinned.
 */
#include "harness.h"

#include "replay/replay.h"

/* the definition in lib/replay/REPORT.md, computed independently (a few
 * lines of Python): pattern(1, 0..23) and pattern(77, 12345..12384) */
#define PINNED  "romddufwltanrofhhodcrmst"
#define PINNED2 "afuwuirddsuuacwlhcwhetslfsmiumnsoushoeft"

static int same_all(uint64_t ino, uint64_t off, size_t n, uint8_t *a, uint8_t *b)
{
	memset(a, 0, n + 64);
	memset(b, 0, n + 64);
	lfs_replay_pattern(a, ino, off, n);
	lfs_replay_pattern_ref(b, ino, off, n);
	return !memcmp(a, b, n + 64);          /* and nothing written past n */
}

static void check_isa(int isa, uint64_t seed)
{
	if (lfs_replay_pattern_isa(isa) != isa)
		SKIP("this CPU has no generator %d", isa);
	static uint8_t a[70000], b[70000];
	for (uint64_t off = 0; off < 40; off++)
		for (size_t n = 0; n < 80; n++)
			CHECK_MSG(same_all(7, off, n, a, b), "isa %d off %" PRIu64 " n %zu", isa, off, n);
	uint64_t s = seed;
	for (int i = 0; i < 500; i++) {
		uint64_t ino = t_rand(&s) % 100000, off = t_rand(&s) >> (t_rand(&s) % 64);
		if (off > UINT64_MAX - 70000)
			off -= 70000;
		size_t n = (size_t)(t_rand(&s) % 65600);
		CHECK_MSG(same_all(ino, off, n, a, b), "isa %d ino %" PRIu64 " off %" PRIu64 " n %zu",
			  isa, ino, off, n);
	}
}

TEST(pattern_portable) { check_isa(0, seed_from_env("pattern_portable")); }
TEST(pattern_ssse3)    { check_isa(1, seed_from_env("pattern_ssse3")); }
TEST(pattern_avx2)     { check_isa(2, seed_from_env("pattern_avx2")); }

/* The definition: letters of "etaoinshrdlucmfw", never 0, deterministic. */
TEST(pattern_pinned)
{
	uint8_t a[24], b[24];
	lfs_replay_pattern_ref(a, 1, 0, sizeof a);
	lfs_replay_pattern_ref(b, 1, 0, sizeof b);
	CHECK(!memcmp(a, b, sizeof a));
	for (size_t i = 0; i < sizeof a; i++)
		CHECK(a[i] && strchr("etaoinshrdlucmfw", a[i]));
	CHECK_MSG(!memcmp(a, PINNED, sizeof a), "got %.24s", (const char *)a);
	lfs_replay_pattern_ref(b, 2, 0, sizeof b);
	CHECK(memcmp(a, b, sizeof a));        /* another inode, other bytes */
	uint8_t c[40];
	lfs_replay_pattern_ref(c, 77, 12345, sizeof c);
	CHECK_MSG(!memcmp(c, PINNED2, sizeof c), "got %.40s", (const char *)c);
	lfs_replay_pattern(c, 77, 12345, sizeof c);
	CHECK(!memcmp(c, PINNED2, sizeof c));
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, pattern_portable, pattern_ssse3, pattern_avx2, pattern_pinned);
}
