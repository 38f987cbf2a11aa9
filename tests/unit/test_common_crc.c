#include "harness.h"
#include "common/crc32c.h"
#include "common/err.h"

#include <errno.h>

TEST(crc32c_known_vectors)
{
	/* RFC 3720 B.4 test vectors */
	unsigned char z[32] = { 0 }, f[32], inc[32];
	memset(f, 0xff, sizeof f);
	for (int i = 0; i < 32; i++)
		inc[i] = (unsigned char)i;
	CHECK_EQ(lfs_crc32c(0, z, 32), 0x8a9136aa);
	CHECK_EQ(lfs_crc32c(0, f, 32), 0x62a8ab43);
	CHECK_EQ(lfs_crc32c(0, inc, 32), 0x46dd794e);
	CHECK_EQ(lfs_crc32c(0, "123456789", 9), 0xe3069283);
}

TEST(crc32c_incremental)
{
	const char *s = "the quick brown fox jumps over the lazy dog";
	size_t n = strlen(s);
	for (size_t cut = 0; cut <= n; cut++)
		CHECK_EQ(lfs_crc32c(lfs_crc32c(0, s, cut), s + cut, n - cut), lfs_crc32c(0, s, n));
}

TEST(err_messages)
{
	struct lfs_err e = { 0 };
	CHECK(!strcmp(lfs_strerror(-ENOENT), "No such file or directory"));
	CHECK(!strcmp(lfs_strerror(LFS_E_CORRUPT), "image is corrupt"));
	CHECK_EQ(lfs_seterr(&e, LFS_E_LOCKED, "image is in use by pid %d", 42), LFS_E_LOCKED);
	CHECK(!strcmp(lfs_errmsg(&e, LFS_E_LOCKED), "image is in use by pid 42"));
	lfs_seterr(&e, -EIO, "second");
	CHECK(!strcmp(e.msg, "image is in use by pid 42")); /* first cause kept */
}

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, crc32c_known_vectors, crc32c_incremental, err_messages); }
