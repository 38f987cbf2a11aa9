/*
 * tests/unit/harness.h — a tiny test harness (after redis's src/unit).
 *
 *   TEST(name) { ... CHECK(cond); CHECK_EQ(a, b); ... }
 *   int main(int argc, char **argv) { return RUN_TESTS(argc, argv, name1, name2); }
 *
 * Each test prints `PASS name`, `FAIL name: file:line: expr` or
 * `SKIP name: reason`; tests/run.sh counts those lines.  `./test_x NAME`
 * runs one test.  Seeded tests call seed_from_env() which prints the seed
 * (set LFS_SEED=N to replay a failure).
 */
#ifndef LFS_TEST_HARNESS_H
#define LFS_TEST_HARNESS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct t_state { const char *name; int failed; char skip[256]; };
static struct t_state t_cur;

#define TEST(n) static void test_##n(void)
#define CHECK(cond) do { if (!(cond)) { \
	printf("FAIL %s: %s:%d: %s\n", t_cur.name, __FILE__, __LINE__, #cond); \
	fflush(stdout); t_cur.failed = 1; return; } } while (0)
#define CHECK_MSG(cond, ...) do { if (!(cond)) { \
	printf("FAIL %s: %s:%d: %s: ", t_cur.name, __FILE__, __LINE__, #cond); \
	printf(__VA_ARGS__); printf("\n"); fflush(stdout); t_cur.failed = 1; return; } } while (0)
#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) { printf("FAIL %s: %s:%d: %s == %s (%lld != %lld)\n", t_cur.name, \
	__FILE__, __LINE__, #a, #b, _a, _b); fflush(stdout); t_cur.failed = 1; return; } } while (0)
#define SKIP(...) do { snprintf(t_cur.skip, sizeof t_cur.skip, __VA_ARGS__); return; } while (0)

typedef void (*t_fn)(void);
struct t_entry { const char *name; t_fn fn; };

static inline int t_run_all(int argc, char **argv, const struct t_entry *e, int n)
{
	int fails = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], e[i].name))
			continue;
		t_cur.name = e[i].name;
		t_cur.failed = 0;
		t_cur.skip[0] = 0;
		e[i].fn();
		if (t_cur.failed)
			fails++;
		else if (t_cur.skip[0])
			printf("SKIP %s: %s\n", e[i].name, t_cur.skip);
		else
			printf("PASS %s\n", e[i].name);
	}
	return fails ? 1 : 0;
}

#define T_ENTRY(n) { #n, test_##n },
#define T_MAP(...) T_MAP_(__VA_ARGS__)
/* RUN_TESTS(argc, argv, a, b, c): up to 40 names. */
#define T_E1(a) T_ENTRY(a)
#define T_FOR(m, ...) T_FOR_N(__VA_ARGS__, T_F40,T_F39,T_F38,T_F37,T_F36,T_F35,T_F34,T_F33,T_F32,T_F31,T_F30,T_F29,T_F28,T_F27,T_F26,T_F25,T_F24,T_F23,T_F22,T_F21,T_F20,T_F19,T_F18,T_F17,T_F16,T_F15,T_F14,T_F13,T_F12,T_F11,T_F10,T_F9,T_F8,T_F7,T_F6,T_F5,T_F4,T_F3,T_F2,T_F1)(m, __VA_ARGS__)
#define T_FOR_N(_1,_2,_3,_4,_5,_6,_7,_8,_9,_10,_11,_12,_13,_14,_15,_16,_17,_18,_19,_20,_21,_22,_23,_24,_25,_26,_27,_28,_29,_30,_31,_32,_33,_34,_35,_36,_37,_38,_39,_40,N,...) N
#define T_F1(m,a) m(a)
#define T_F2(m,a,...) m(a) T_F1(m,__VA_ARGS__)
#define T_F3(m,a,...) m(a) T_F2(m,__VA_ARGS__)
#define T_F4(m,a,...) m(a) T_F3(m,__VA_ARGS__)
#define T_F5(m,a,...) m(a) T_F4(m,__VA_ARGS__)
#define T_F6(m,a,...) m(a) T_F5(m,__VA_ARGS__)
#define T_F7(m,a,...) m(a) T_F6(m,__VA_ARGS__)
#define T_F8(m,a,...) m(a) T_F7(m,__VA_ARGS__)
#define T_F9(m,a,...) m(a) T_F8(m,__VA_ARGS__)
#define T_F10(m,a,...) m(a) T_F9(m,__VA_ARGS__)
#define T_F11(m,a,...) m(a) T_F10(m,__VA_ARGS__)
#define T_F12(m,a,...) m(a) T_F11(m,__VA_ARGS__)
#define T_F13(m,a,...) m(a) T_F12(m,__VA_ARGS__)
#define T_F14(m,a,...) m(a) T_F13(m,__VA_ARGS__)
#define T_F15(m,a,...) m(a) T_F14(m,__VA_ARGS__)
#define T_F16(m,a,...) m(a) T_F15(m,__VA_ARGS__)
#define T_F17(m,a,...) m(a) T_F16(m,__VA_ARGS__)
#define T_F18(m,a,...) m(a) T_F17(m,__VA_ARGS__)
#define T_F19(m,a,...) m(a) T_F18(m,__VA_ARGS__)
#define T_F20(m,a,...) m(a) T_F19(m,__VA_ARGS__)
#define T_F21(m,a,...) m(a) T_F20(m,__VA_ARGS__)
#define T_F22(m,a,...) m(a) T_F21(m,__VA_ARGS__)
#define T_F23(m,a,...) m(a) T_F22(m,__VA_ARGS__)
#define T_F24(m,a,...) m(a) T_F23(m,__VA_ARGS__)
#define T_F25(m,a,...) m(a) T_F24(m,__VA_ARGS__)
#define T_F26(m,a,...) m(a) T_F25(m,__VA_ARGS__)
#define T_F27(m,a,...) m(a) T_F26(m,__VA_ARGS__)
#define T_F28(m,a,...) m(a) T_F27(m,__VA_ARGS__)
#define T_F29(m,a,...) m(a) T_F28(m,__VA_ARGS__)
#define T_F30(m,a,...) m(a) T_F29(m,__VA_ARGS__)
#define T_F31(m,a,...) m(a) T_F30(m,__VA_ARGS__)
#define T_F32(m,a,...) m(a) T_F31(m,__VA_ARGS__)
#define T_F33(m,a,...) m(a) T_F32(m,__VA_ARGS__)
#define T_F34(m,a,...) m(a) T_F33(m,__VA_ARGS__)
#define T_F35(m,a,...) m(a) T_F34(m,__VA_ARGS__)
#define T_F36(m,a,...) m(a) T_F35(m,__VA_ARGS__)
#define T_F37(m,a,...) m(a) T_F36(m,__VA_ARGS__)
#define T_F38(m,a,...) m(a) T_F37(m,__VA_ARGS__)
#define T_F39(m,a,...) m(a) T_F38(m,__VA_ARGS__)
#define T_F40(m,a,...) m(a) T_F39(m,__VA_ARGS__)
#define RUN_TESTS(argc, argv, ...) __extension__({ \
	static const struct t_entry _t[] = { T_FOR(T_ENTRY, __VA_ARGS__) }; \
	t_run_all(argc, argv, _t, (int)(sizeof _t / sizeof _t[0])); })

/* Seed from $LFS_SEED or the clock; printed so a failure can be replayed. */
static inline uint64_t seed_from_env(const char *what)
{
	const char *s = getenv("LFS_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0)
			  : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
	printf("# %s: seed %" PRIu64 " (LFS_SEED=%" PRIu64 " to replay)\n", what, seed, seed);
	return seed;
}

/* xorshift64* — deterministic per seed. */
static inline uint64_t t_rand(uint64_t *s)
{
	*s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

#endif
