#include "harness.h"
#include "common/grow.h"

#include <errno.h>
#include <stdint.h>

TEST(grow_doubles_from_min_and_keeps_contents)
{
	int *v = NULL;
	size_t cap = 0, n = 0;
	for (int i = 0; i < 1000; i++) {
		CHECK_EQ(lfs_grow(&v, &cap, n + 1, sizeof *v, 16), 0);
		CHECK(cap >= n + 1);
		v[n++] = i;
	}
	CHECK_EQ(cap, 1024);                 /* 16, 32, ... 1024 */
	for (int i = 0; i < 1000; i++)
		CHECK_EQ(v[i], i);
	free(v);
}

TEST(grow_to_a_large_need_at_once)
{
	char *b = NULL;
	size_t cap = 0;
	CHECK_EQ(lfs_grow(&b, &cap, 5000, 1, 4096), 0);
	CHECK_EQ(cap, 8192);
	CHECK_EQ(lfs_grow(&b, &cap, 8192, 1, 4096), 0);   /* fits: nothing to do */
	CHECK_EQ(cap, 8192);
	memset(b, 7, cap);
	free(b);
}

TEST(grow_refuses_overflow_and_leaves_the_array)
{
	uint64_t *v = NULL;
	size_t cap = 0;
	CHECK_EQ(lfs_grow(&v, &cap, 4, sizeof *v, 4), 0);
	uint64_t *old = v;
	v[0] = 42;
	CHECK_EQ(lfs_grow(&v, &cap, SIZE_MAX / 4, sizeof *v, 4), -ENOMEM);
	CHECK_EQ(lfs_grow(&v, &cap, SIZE_MAX, sizeof *v, 4), -ENOMEM);
	CHECK(v == old);
	CHECK_EQ(cap, 4);
	CHECK_EQ(v[0], 42);
	free(v);
}

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, grow_doubles_from_min_and_keeps_contents, grow_to_a_large_need_at_once,
						    grow_refuses_overflow_and_leaves_the_array); }
