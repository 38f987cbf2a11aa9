#include "common/crc32c.h"

#include <pthread.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Slicing-by-8 table fallback plus the SSE4.2 crc32 instruction when present. */
static uint32_t tab[8][256];
static int have_sse42;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The crc32 instruction has a latency of 3 cycles and a throughput of 1:
 * crc_hw runs three independent lanes over three adjacent blocks and joins
 * them by "shifting" a lane's CRC over the bytes of the blocks after it (a
 * linear map over GF(2), applied with four byte tables), as in Mark
 * Adler's crc32c.c.  LANE_LONG suits 4 KiB pages (one round of 3 KiB). */
#define LANE_LONG  1024
#define LANE_SHORT 256
static uint32_t lane_long[4][256], lane_short[4][256];

/* Hybrid blocks (CPUs with VPCLMULQDQ): the crc32 instruction uses one
 * execution port, carry-less multiplication others, so a 4000-byte block
 * runs both at once: its first 2560 bytes are folded with VPCLMULQDQ (four
 * 32-byte accumulators, each 16-byte lane replaced by lo64 * K(1024+32) ^
 * hi64 * K(1024-32) xor the bytes 128 on, K(e) = x^e mod P bit-reflected
 * and shifted left by one, as in Intel's "Fast CRC Computation for Generic
 * Polynomials Using PCLMULQDQ"; folded to 16 bytes with K(128 +- 32) and
 * reduced with two crc32 instructions, the initial CRC xored into the
 * first four bytes), while three crc32 lanes run over the last 3 x 480
 * bytes from zero; the lanes are joined by the 480-zero-byte shift.  About
 * 1.5x the crc32 lanes alone on 4 KiB pages here. */
#define HY_ITERS 20
#define HY_A     (128 * HY_ITERS)          /* 2560 bytes folded */
#define HY_L     (24 * HY_ITERS)           /* 480 bytes per crc32 lane */
#define HY_BLOCK (HY_A + 3 * HY_L)         /* 4000 */
static int have_hybrid;
static uint64_t k_f8lo, k_f8hi, k_f1lo, k_f1hi;
static uint32_t lane_hy[4][256];

/* x^e mod P (P the CRC32C polynomial, normal form), bit-reflected,
 * shifted left by one. */
static uint64_t fold_const(unsigned e)
{
	uint64_t r = 1;
	for (unsigned i = 0; i < e; i++) {
		r <<= 1;
		if (r & (1ull << 32))
			r ^= (1ull << 32) | 0x1EDC6F41u;
	}
	uint64_t rev = 0;
	for (int b = 0; b < 32; b++)
		if (r & (1ull << b))
			rev |= 1ull << (31 - b);
	return rev << 1;
}

static uint32_t gf2_times(const uint32_t *mat, uint32_t vec)
{
	uint32_t sum = 0;
	for (; vec; vec >>= 1, mat++)
		if (vec & 1)
			sum ^= *mat;
	return sum;
}

static void gf2_square(uint32_t *sq, const uint32_t *mat)
{
	for (int n = 0; n < 32; n++)
		sq[n] = gf2_times(mat, mat[n]);
}

/* Tables applying LEN (a power of two, >= 2) zero bytes to a CRC state. */
static void zeros_tables(uint32_t t[4][256], size_t len)
{
	uint32_t odd[32], even[32], *op;
	odd[0] = 0x82F63B78u;                     /* one zero bit */
	for (int n = 1; n < 32; n++)
		odd[n] = 1u << (n - 1);
	gf2_square(even, odd);                    /* two zero bits */
	gf2_square(odd, even);                    /* four */
	for (;;) {
		gf2_square(even, odd);            /* one zero byte, then 4, 16, ... */
		len >>= 1;
		if (len == 0) { op = even; break; }
		gf2_square(odd, even);            /* two zero bytes, then 8, ... */
		len >>= 1;
		if (len == 0) { op = odd; break; }
	}
	for (uint32_t n = 0; n < 256; n++) {
		t[0][n] = gf2_times(op, n);
		t[1][n] = gf2_times(op, n << 8);
		t[2][n] = gf2_times(op, n << 16);
		t[3][n] = gf2_times(op, n << 24);
	}
}

/* Tables applying any LEN zero bytes (the operator for one byte raised to
 * LEN by squaring). */
static void zeros_tables_n(uint32_t t[4][256], size_t len)
{
	uint32_t op[32], sq[32], tmp[32], odd[32], even[32];
	for (int n = 0; n < 32; n++)
		op[n] = 1u << n;                  /* identity */
	odd[0] = 0x82F63B78u;                     /* one zero bit */
	for (int n = 1; n < 32; n++)
		odd[n] = 1u << (n - 1);
	gf2_square(even, odd);
	gf2_square(odd, even);
	gf2_square(sq, odd);                      /* one zero byte */
	while (len) {
		if (len & 1) {
			for (int n = 0; n < 32; n++)
				tmp[n] = gf2_times(sq, op[n]);
			memcpy(op, tmp, sizeof op);
		}
		len >>= 1;
		if (len) {
			gf2_square(tmp, sq);
			memcpy(sq, tmp, sizeof sq);
		}
	}
	for (uint32_t n = 0; n < 256; n++) {
		t[0][n] = gf2_times(op, n);
		t[1][n] = gf2_times(op, n << 8);
		t[2][n] = gf2_times(op, n << 16);
		t[3][n] = gf2_times(op, n << 24);
	}
}

static inline uint32_t zeros_apply(uint32_t t[4][256], uint32_t crc)
{
	return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^
	       t[3][crc >> 24];
}

static void init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
		tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	have_sse42 = __builtin_cpu_supports("sse4.2");
	if (have_sse42) {
		zeros_tables(lane_long, LANE_LONG);
		zeros_tables(lane_short, LANE_SHORT);
		if (__builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx2") &&
		    __builtin_cpu_supports("pclmul")) {
			k_f8lo = fold_const(8 * 128 + 32);
			k_f8hi = fold_const(8 * 128 - 32);
			k_f1lo = fold_const(128 + 32);
			k_f1hi = fold_const(128 - 32);
			zeros_tables_n(lane_hy, HY_L);
			have_hybrid = 1;
		}
	}
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static inline __attribute__((always_inline)) uint64_t
lanes3_any(uint64_t c0, unsigned char *d, const unsigned char *p, size_t blk, uint32_t t[4][256],
	   const int copy)
{
	uint64_t c1 = 0, c2 = 0;
	for (size_t i = 0; i < blk; i += 8) {
		uint64_t v0, v1, v2;
		memcpy(&v0, p + i, 8);
		memcpy(&v1, p + blk + i, 8);
		memcpy(&v2, p + 2 * blk + i, 8);
		if (copy) {
			memcpy(d + i, &v0, 8);
			memcpy(d + blk + i, &v1, 8);
			memcpy(d + 2 * blk + i, &v2, 8);
		}
		c0 = __builtin_ia32_crc32di(c0, v0);
		c1 = __builtin_ia32_crc32di(c1, v1);
		c2 = __builtin_ia32_crc32di(c2, v2);
	}
	c0 = zeros_apply(t, (uint32_t)c0) ^ (uint32_t)c1;
	return zeros_apply(t, (uint32_t)c0) ^ (uint32_t)c2;
}

__attribute__((target("sse4.2")))
static uint64_t lanes3(uint64_t c0, const unsigned char *p, size_t blk, uint32_t t[4][256])
{
	return lanes3_any(c0, NULL, p, blk, t, 0);
}

/* lanes3 copying the three blocks to d as it reads them. */
__attribute__((target("sse4.2")))
static uint64_t lanes3_copy(uint64_t c0, unsigned char *d, const unsigned char *p, size_t blk,
			    uint32_t t[4][256])
{
	return lanes3_any(c0, d, p, blk, t, 1);
}

__attribute__((target("sse4.2")))
static uint32_t crc_hw_copy(uint32_t crc, unsigned char *d, const unsigned char *p, size_t n)
{
	uint64_t c = crc;
	for (; n >= 3 * LANE_LONG; p += 3 * LANE_LONG, d += 3 * LANE_LONG, n -= 3 * LANE_LONG)
		c = lanes3_copy(c, d, p, LANE_LONG, lane_long);
	for (; n >= 3 * LANE_SHORT; p += 3 * LANE_SHORT, d += 3 * LANE_SHORT, n -= 3 * LANE_SHORT)
		c = lanes3_copy(c, d, p, LANE_SHORT, lane_short);
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		memcpy(d, &v, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		d += 8;
		n -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (n--) {
		*d++ = *p;
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	}
	return c32;
}

__attribute__((target("vpclmulqdq,avx2,pclmul,sse4.2")))
static inline __m256i fold32(__m256i x, __m256i k)
{
	return _mm256_xor_si256(_mm256_clmulepi64_epi128(x, k, 0x00), _mm256_clmulepi64_epi128(x, k, 0x11));
}

__attribute__((target("pclmul,sse4.2")))
static inline __m128i fold16(__m128i x, __m128i k)
{
	return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

/* One HY_BLOCK at p (copied to d when d is set): the raw CRC register in
 * and out. */
__attribute__((target("vpclmulqdq,avx2,pclmul,sse4.2"), always_inline))
static inline uint32_t hy_block(uint32_t crc, unsigned char *d, const unsigned char *p)
{
	const unsigned char *b = p + HY_A, *q = p + 128;
	__m256i y0 = _mm256_loadu_si256((const __m256i *)p), y1 = _mm256_loadu_si256((const __m256i *)(p + 32));
	__m256i y2 = _mm256_loadu_si256((const __m256i *)(p + 64)), y3 = _mm256_loadu_si256((const __m256i *)(p + 96));
	if (d) {
		_mm256_storeu_si256((__m256i *)d, y0);
		_mm256_storeu_si256((__m256i *)(d + 32), y1);
		_mm256_storeu_si256((__m256i *)(d + 64), y2);
		_mm256_storeu_si256((__m256i *)(d + 96), y3);
	}
	y0 = _mm256_xor_si256(y0, _mm256_zextsi128_si256(_mm_cvtsi32_si128((int)crc)));
	const __m256i k8 = _mm256_set_epi64x((long long)k_f8hi, (long long)k_f8lo, (long long)k_f8hi,
					     (long long)k_f8lo);
	uint64_t c0 = 0, c1 = 0, c2 = 0;
	for (int i = 0; i < HY_ITERS; i++) {
		if (i + 1 < HY_ITERS) {
			__m256i v0 = _mm256_loadu_si256((const __m256i *)q);
			__m256i v1 = _mm256_loadu_si256((const __m256i *)(q + 32));
			__m256i v2 = _mm256_loadu_si256((const __m256i *)(q + 64));
			__m256i v3 = _mm256_loadu_si256((const __m256i *)(q + 96));
			if (d) {
				unsigned char *dq = d + (q - p);
				_mm256_storeu_si256((__m256i *)dq, v0);
				_mm256_storeu_si256((__m256i *)(dq + 32), v1);
				_mm256_storeu_si256((__m256i *)(dq + 64), v2);
				_mm256_storeu_si256((__m256i *)(dq + 96), v3);
			}
			y0 = _mm256_xor_si256(fold32(y0, k8), v0);
			y1 = _mm256_xor_si256(fold32(y1, k8), v1);
			y2 = _mm256_xor_si256(fold32(y2, k8), v2);
			y3 = _mm256_xor_si256(fold32(y3, k8), v3);
			q += 128;
		}
		for (int j = 0; j < 3; j++) {
			size_t o = (size_t)(i * 3 + j) * 8;
			uint64_t v0, v1, v2;
			memcpy(&v0, b + o, 8);
			memcpy(&v1, b + HY_L + o, 8);
			memcpy(&v2, b + 2 * HY_L + o, 8);
			if (d) {
				memcpy(d + HY_A + o, &v0, 8);
				memcpy(d + HY_A + HY_L + o, &v1, 8);
				memcpy(d + HY_A + 2 * HY_L + o, &v2, 8);
			}
			c0 = __builtin_ia32_crc32di(c0, v0);
			c1 = __builtin_ia32_crc32di(c1, v1);
			c2 = __builtin_ia32_crc32di(c2, v2);
		}
	}
	const __m128i k1 = _mm_set_epi64x((long long)k_f1hi, (long long)k_f1lo);
	__m128i a = _mm_xor_si128(fold16(_mm256_castsi256_si128(y0), k1), _mm256_extracti128_si256(y0, 1));
	a = _mm_xor_si128(fold16(a, k1), _mm256_castsi256_si128(y1));
	a = _mm_xor_si128(fold16(a, k1), _mm256_extracti128_si256(y1, 1));
	a = _mm_xor_si128(fold16(a, k1), _mm256_castsi256_si128(y2));
	a = _mm_xor_si128(fold16(a, k1), _mm256_extracti128_si256(y2, 1));
	a = _mm_xor_si128(fold16(a, k1), _mm256_castsi256_si128(y3));
	a = _mm_xor_si128(fold16(a, k1), _mm256_extracti128_si256(y3, 1));
	uint64_t c = __builtin_ia32_crc32di(0, (uint64_t)_mm_cvtsi128_si64(a));
	c = __builtin_ia32_crc32di(c, (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(a, a)));
	uint32_t r = zeros_apply(lane_hy, (uint32_t)c) ^ (uint32_t)c0;
	r = zeros_apply(lane_hy, r) ^ (uint32_t)c1;
	return zeros_apply(lane_hy, r) ^ (uint32_t)c2;
}

__attribute__((target("vpclmulqdq,avx2,pclmul,sse4.2")))
static uint32_t hy_blocks(uint32_t crc, const unsigned char *p, size_t nblk)
{
	for (; nblk; nblk--, p += HY_BLOCK)
		crc = hy_block(crc, NULL, p);
	return crc;
}

__attribute__((target("vpclmulqdq,avx2,pclmul,sse4.2")))
static uint32_t hy_blocks_copy(uint32_t crc, unsigned char *d, const unsigned char *p, size_t nblk)
{
	for (; nblk; nblk--, p += HY_BLOCK, d += HY_BLOCK)
		crc = hy_block(crc, d, p);
	return crc;
}

__attribute__((target("sse4.2")))
static uint32_t crc_hw(uint32_t crc, const unsigned char *p, size_t n)
{
	uint64_t c = crc;
	for (; n >= 3 * LANE_LONG; p += 3 * LANE_LONG, n -= 3 * LANE_LONG)
		c = lanes3(c, p, LANE_LONG, lane_long);
	for (; n >= 3 * LANE_SHORT; p += 3 * LANE_SHORT, n -= 3 * LANE_SHORT)
		c = lanes3(c, p, LANE_SHORT, lane_short);
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		n -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (n--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return c32;
}
#endif

static uint32_t crc_sw(uint32_t crc, const unsigned char *p, size_t n)
{
	while (n >= 8) {
		uint32_t lo, hi;
		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		lo ^= crc;
		crc = tab[7][lo & 0xff] ^ tab[6][(lo >> 8) & 0xff] ^ tab[5][(lo >> 16) & 0xff] ^
		      tab[4][lo >> 24] ^ tab[3][hi & 0xff] ^ tab[2][(hi >> 8) & 0xff] ^
		      tab[1][(hi >> 16) & 0xff] ^ tab[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
	return crc;
}

uint32_t lfs_crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&once, init);
	crc = ~crc;
#if defined(__x86_64__)
	if (have_hybrid && len >= HY_BLOCK) {
		size_t nb = len / HY_BLOCK;
		crc = hy_blocks(crc, buf, nb);
		return ~crc_hw(crc, (const unsigned char *)buf + nb * HY_BLOCK, len - nb * HY_BLOCK);
	}
	if (have_sse42)
		return ~crc_hw(crc, buf, len);
#endif
	return ~crc_sw(crc, buf, len);
}

uint32_t lfs_crc32c_copy(uint32_t crc, void *dst, const void *src, size_t len)
{
	pthread_once(&once, init);
	crc = ~crc;
#if defined(__x86_64__)
	if (have_hybrid && len >= HY_BLOCK) {
		size_t nb = len / HY_BLOCK;
		crc = hy_blocks_copy(crc, dst, src, nb);
		return ~crc_hw_copy(crc, (unsigned char *)dst + nb * HY_BLOCK,
				    (const unsigned char *)src + nb * HY_BLOCK, len - nb * HY_BLOCK);
	}
	if (have_sse42)
		return ~crc_hw_copy(crc, dst, src, len);
#endif
	if (len)
		memcpy(dst, src, len);
	return ~crc_sw(crc, src, len);
}

/* ---- combine (zlib's crc32_combine_gen / multmodp / x2nmodp) */
static uint32_t x2n_table[32];
#if defined(__x86_64__)
static int have_clmul;       /* pclmul + sse4.2: lfs_crc32c_combine multiplies in one step */
#endif
static uint32_t x8k_table[40];  /* x^(8 (2^k - 4)) modulo P, k >= 2 (carry-less operators) */
static pthread_once_t x2n_once = PTHREAD_ONCE_INIT;

/* a * b modulo P, polynomials in the reflected representation. */
static uint32_t multmodp(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;
	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = b & 1 ? (b >> 1) ^ 0x82F63B78u : b >> 1;
	}
	return p;
}

static uint32_t x2nmodp(uint64_t n, unsigned k);

static void x2n_init(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	have_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.2");
#endif
	uint32_t p = 1u << 30;                  /* x^1 */
	x2n_table[0] = p;
	for (int n = 1; n < 32; n++)
		x2n_table[n] = p = multmodp(p, p);
	for (int k = 2; k < 40; k++)
		x8k_table[k] = x2nmodp((1ull << k) - 4, 3);
}

/* x^(n * 2^k) modulo P. */
static uint32_t x2nmodp(uint64_t n, unsigned k)
{
	uint32_t p = 1u << 31;                  /* x^0 */
	while (n) {
		if (n & 1)
			p = multmodp(x2n_table[k & 31], p);
		n >>= 1;
		k++;
	}
	return p;
}

#if defined(__x86_64__)
/* a * b * x^32 modulo P: the carry-less product (63 bits, shifted left by
 * one into the reflected 64-bit frame) reduced by the crc32 instruction,
 * which multiplies its 64 data bits by x^32.  With a = op * x^-32, that is
 * op * b: a combine is one multiplication instead of multmodp's 32 steps. */
__attribute__((target("pclmul,sse4.2")))
static uint32_t mul_x32_hw(uint32_t a, uint32_t b)
{
	__m128i p = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)a), _mm_cvtsi32_si128((int)b), 0);
	return (uint32_t)_mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(p) << 1);
}

/* x^(8 n) modulo P with carry-less steps: the low two bits of n give the
 * start (x^0, x^8, x^16 or x^24), each higher bit k one multiplication by
 * x^(8 2^k) (x8k_table holds it times x^-32, which mul_x32_hw adds back). */
__attribute__((target("pclmul,sse4.2")))
static uint32_t x8nmodp_hw(uint64_t n)   /* n < 2^38 */
{
	uint32_t p = 1u << (31 - 8 * (n & 3));
	n >>= 2;
	for (unsigned k = 2; n; n >>= 1, k++)
		if (n & 1)
			p = mul_x32_hw(x8k_table[k], p);
	return p;
}
#endif

uint32_t lfs_crc32c_combine(uint32_t crc1, uint32_t crc2, size_t len2)
{
	/* the operators of the lengths seen by this thread, direct-mapped by
	 * length (a batch combines a few lengths over and over: pages, inode
	 * records, dentries of each name length); with carry-less
	 * multiplication an entry holds x^(8 len - 32), else x^(8 len) */
	enum { OPS = 256 };
	static _Thread_local struct { size_t len; uint32_t op; } ops[OPS];
	static _Thread_local int ops_init;
	pthread_once(&x2n_once, x2n_init);
	if (!ops_init) {
		for (int i = 0; i < OPS; i++)
			ops[i].len = (size_t)-1;
		ops_init = 1;
	}
	if (len2 == 0)
		return crc1 ^ crc2;
#if defined(__x86_64__)
	int hw = have_clmul && len2 >= 4 && (uint64_t)len2 < (1ull << 38);
#else
	int hw = 0;
#endif
	unsigned slot = (unsigned)(len2 % OPS);
	uint32_t op;
	if (ops[slot].len == len2) {
		op = ops[slot].op;
	} else {
#if defined(__x86_64__)
		op = hw ? x8nmodp_hw(len2 - 4) : x2nmodp(len2, 3);
#else
		op = x2nmodp(len2, 3);
#endif
		ops[slot].len = len2;
		ops[slot].op = op;
	}
#if defined(__x86_64__)
	if (hw)
		return mul_x32_hw(op, crc1) ^ crc2;
#endif
	return multmodp(op, crc1) ^ crc2;
}
