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

/* Bit-at-a-time reference, against every length and alignment the lane
 * code splits differently (the 3-lane rounds of 3 KiB and 768 bytes, the
 * hybrid blocks of 4000 bytes, the 8-byte tail, the byte tail).  Prints
 * its seed. */
static uint32_t crc_ref(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* lengths around the lane classes (768 / 3072 / 4000-byte blocks) */
static const size_t lane_lens[] = { 0, 1, 7, 8, 767, 768, 769, 1536, 2303, 3071, 3072, 3073, 3840,
				    3999, 4000, 4001, 4095, 4096, 4097, 6144, 7999, 8000, 8192, 12000,
				    3 * 8192 };

TEST(crc32c_lanes_vs_reference)
{
	uint64_t seed = seed_from_env("crc32c_lanes_vs_reference");
	static unsigned char buf[3 * 8192 + 64];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)t_rand(&seed);
	for (size_t a = 0; a < 8; a++)
		for (size_t i = 0; i < sizeof lane_lens / sizeof lane_lens[0]; i++) {
			uint32_t init = (uint32_t)t_rand(&seed);
			CHECK_EQ(lfs_crc32c(init, buf + a, lane_lens[i]), crc_ref(init, buf + a, lane_lens[i]));
		}
	for (int r = 0; r < 200; r++) {
		size_t a = t_rand(&seed) % 64, n = t_rand(&seed) % (sizeof buf - 64);
		CHECK_EQ(lfs_crc32c(0, buf + a, n), crc_ref(0, buf + a, n));
	}
}

/* lfs_crc32c_copy: the same CRC as the reference, and an exact copy
 * (nothing written outside it), over the lane classes and alignments. */
TEST(crc32c_copy_vs_reference)
{
	uint64_t seed = seed_from_env("crc32c_copy_vs_reference");
	static unsigned char buf[3 * 8192 + 64], dst[3 * 8192 + 128];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)t_rand(&seed);
	for (size_t a = 0; a < 8; a++)
		for (size_t i = 0; i < sizeof lane_lens / sizeof lane_lens[0]; i++) {
			uint32_t init = (uint32_t)t_rand(&seed);
			size_t da = (a * 5) % 8, n = lane_lens[i];
			memset(dst, 0xA5, sizeof dst);
			CHECK_EQ(lfs_crc32c_copy(init, dst + da, buf + a, n), crc_ref(init, buf + a, n));
			CHECK(memcmp(dst + da, buf + a, n) == 0);
			CHECK_EQ(dst[da + n], 0xA5);
			if (da)
				CHECK_EQ(dst[da - 1], 0xA5);
		}
}

/* lfs_crc32c_combine(crc(A), crc(B), |B|) == crc(A B), for random splits,
 * lengths repeating (its per-thread cache) and not. */
TEST(crc32c_combine_vs_reference)
{
	uint64_t seed = seed_from_env("crc32c_combine_vs_reference");
	static unsigned char buf[9000];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)t_rand(&seed);
	for (int r = 0; r < 300; r++) {
		size_t n = t_rand(&seed) % sizeof buf;
		size_t cut = r % 3 == 0 ? (n > 4129 ? n - 4129 : 0) : (n ? t_rand(&seed) % (n + 1) : 0);
		uint32_t a = lfs_crc32c(0, buf, cut), b = lfs_crc32c(0, buf + cut, n - cut);
		CHECK_EQ(lfs_crc32c_combine(a, b, n - cut), crc_ref(0, buf, n));
	}
	/* every short length (the carry-less path starts at 4 bytes), cached
	 * operators reused across lengths that share a cache slot */
	for (size_t n2 = 0; n2 < 600; n2 += n2 < 40 ? 1 : 37)
		for (size_t cut = 0; cut < 9; cut += 4) {
			uint32_t a = lfs_crc32c(0, buf, cut), b = lfs_crc32c(0, buf + cut, n2);
			CHECK_EQ(lfs_crc32c_combine(a, b, n2), crc_ref(0, buf, cut + n2));
		}
	CHECK_EQ(lfs_crc32c_combine(0x12345678u, 0, 0), 0x12345678u);
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

int main(int argc, char **argv) { return RUN_TESTS(argc, argv, crc32c_known_vectors, crc32c_incremental, crc32c_lanes_vs_reference,
						    crc32c_copy_vs_reference, crc32c_combine_vs_reference, err_messages); }
