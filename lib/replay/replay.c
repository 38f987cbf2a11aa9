/*
 * lib/replay/replay.c — drive the lightfs engine with a recorded trace.
 *
 * Two passes over the trace:
 *
 *  1. prescan: follows the namespace the trace implies (which paths exist,
 *     which the trace creates or removes) to find what existed before the
 *     capture: a path whose first reference says "it exists" (a successful
 *     open without O_CREAT, an unlink, EEXIST, ...) is pre-existing, with
 *     the size recorded at open; its parent directories too.  It also finds
 *     the processes in scope (--pid and descendants) and the trace's time
 *     span (for the timeline).
 *
 *  2. replay: mount, create the pre-existing files (content from the
 *     pattern below), sync, drop the cache unless --warm, take the baseline
 *     counters, then issue every in-scope syscall with the traced fd
 *     numbers (lfs_open_fd), compare each return value with the trace, and
 *     sample the counters when trace time crosses an interval boundary.
 *     The final sync (what the kernel's flusher would eventually do) is part
 *     of the measured phase.
 *
 * Content: a write without recorded payload writes pattern(ino, offset), a
 * pure function of the engine inode and the file offset (letters from a
 * 16-symbol alphabet: never 0, so holes are told apart, and about 2:1
 * compressible like text).  --verify keeps, per inode, the extents written
 * (pattern, real --data bytes, or unknown after a copy) and checks every
 * read byte against them; bytes outside every extent must read as 0.
 *
 * In scope: paths under --root (mapped to "/"; default: every path except
 * /proc, /sys and /dev), regular files and directories, fds opened by a
 * replayed open/dup.  Everything else (pipes, sockets, ttys, fds opened
 * before the capture without a snapshot) is counted as out of scope.
 */
#include "replay/replay.h"
#include "replay/tread.h"
#include "common/grow.h"
#include "common/tsc.h"
#include "trace/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>



#ifndef CLONE_THREAD
#define CLONE_THREAD 0x00010000
#endif
#ifndef AT_REMOVEDIR
#define AT_REMOVEDIR 0x200
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC 4
#endif
#define RP_F_DUPFD         0
#define RP_F_SETFD         2
#define RP_F_SETFL         4
#define RP_F_DUPFD_CLOEXEC 1030
#define RP_FALLOC_PUNCH    0x02
#define RP_FALLOC_ZERO     0x10
#define RP_MAX_IO          (64u << 20)

/* user and system CPU time of the process, ns */
static void cpu_ns(uint64_t *user, uint64_t *sys)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user = (uint64_t)ru.ru_utime.tv_sec * 1000000000ull + (uint64_t)ru.ru_utime.tv_usec * 1000ull;
	*sys = (uint64_t)ru.ru_stime.tv_sec * 1000000000ull + (uint64_t)ru.ru_stime.tv_usec * 1000ull;
}

/* CPU time of the calling thread (user + system), ns */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- content */

static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static const char alpha16[16] = "etaoinshrdlucmfw";

/* pattern(ino, off): the file is cut in 16-byte blocks; block b is the 16
 * nibbles of w = mix64(ino * 0x100000001b3 ^ b) mapped through alpha16,
 * byte j < 8 from the low nibble of byte j of w, byte j >= 8 from the high
 * nibble of byte j - 8.  One mix per 16 bytes, and the 16-entry lookup is
 * one byte shuffle (pshufb) where the CPU has one.  The reference, byte at
 * a time, is lfs_replay_pattern_ref(). */
static inline void pattern_block_sw(uint8_t *out, uint64_t w)
{
	for (unsigned k = 0; k < 8; k++) {
		out[k] = (uint8_t)alpha16[(w >> (k * 8)) & 15];
		out[k + 8] = (uint8_t)alpha16[(w >> (k * 8 + 4)) & 15];
	}
}

#if defined(__x86_64__)
#include <immintrin.h>

/* mix64 of the four 64-bit lanes (AVX2 has no 64-bit multiply: each is
 * three 32x32->64 multiplies) */
__attribute__((target("avx2")))
static inline __m256i mul64c(__m256i a, __m256i c_lo, __m256i c_hi)
{
	__m256i lo = _mm256_mul_epu32(a, c_lo);
	__m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), c_lo),
					 _mm256_mul_epu32(a, c_hi));
	return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

__attribute__((target("avx2")))
static inline __m256i mix64x4(__m256i x)
{
	const __m256i k0 = _mm256_set1_epi64x((long long)0x9e3779b97f4a7c15ull);
	const __m256i m1l = _mm256_set1_epi64x(0x1ce4e5b9ll), m1h = _mm256_set1_epi64x(0xbf58476dll);
	const __m256i m2l = _mm256_set1_epi64x(0x133111ebll), m2h = _mm256_set1_epi64x(0x94d049bbll);
	x = _mm256_add_epi64(x, k0);
	x = mul64c(_mm256_xor_si256(x, _mm256_srli_epi64(x, 30)), m1l, m1h);
	x = mul64c(_mm256_xor_si256(x, _mm256_srli_epi64(x, 27)), m2l, m2h);
	return _mm256_xor_si256(x, _mm256_srli_epi64(x, 31));
}

/* Four blocks from the mixed words w = [w0 w1 | w2 w3]: block i is the low
 * nibbles of w_i's bytes, then the high ones, through the alphabet. */
__attribute__((target("avx2")))
static inline void store4(uint8_t *out, __m256i w, __m256i tab, __m256i low)
{
	__m256i l = _mm256_and_si256(w, low), h = _mm256_and_si256(_mm256_srli_epi64(w, 4), low);
	__m256i a = _mm256_unpacklo_epi64(l, h);            /* [L0 H0 | L2 H2] */
	__m256i b = _mm256_unpackhi_epi64(l, h);            /* [L1 H1 | L3 H3] */
	__m256i v = _mm256_permute2x128_si256(a, b, 0x20);  /* [L0 H0 | L1 H1] */
	__m256i u = _mm256_permute2x128_si256(a, b, 0x31);  /* [L2 H2 | L3 H3] */
	_mm256_storeu_si256((__m256i *)out, _mm256_shuffle_epi8(tab, v));
	_mm256_storeu_si256((__m256i *)(out + 32), _mm256_shuffle_epi8(tab, u));
}

/* 128 bytes (8 blocks) per round: the mixes four lanes at a time. */
__attribute__((target("avx2")))
static size_t pattern_avx2(uint8_t *buf, uint64_t seed, uint64_t b0, size_t nb)
{
	const __m256i tab = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)alpha16));
	const __m256i low = _mm256_set1_epi8(15);
	const __m256i sd = _mm256_set1_epi64x((long long)seed), four = _mm256_set1_epi64x(4);
	const __m256i eight = _mm256_set1_epi64x(8);
	__m256i ia = _mm256_add_epi64(_mm256_set1_epi64x((long long)b0), _mm256_set_epi64x(3, 2, 1, 0));
	__m256i ib = _mm256_add_epi64(ia, four);
	size_t i = 0;
	for (; i + 8 <= nb; i += 8) {
		__m256i wa = mix64x4(_mm256_xor_si256(sd, ia)), wb = mix64x4(_mm256_xor_si256(sd, ib));
		store4(buf + i * 16, wa, tab, low);
		store4(buf + i * 16 + 64, wb, tab, low);
		ia = _mm256_add_epi64(ia, eight);
		ib = _mm256_add_epi64(ib, eight);
	}
	return i;
}

/* 16 bytes (1 block) per round. */
__attribute__((target("ssse3")))
static size_t pattern_ssse3(uint8_t *buf, uint64_t seed, uint64_t b0, size_t nb)
{
	const __m128i tab = _mm_loadu_si128((const __m128i *)alpha16);
	const __m128i low = _mm_set1_epi8(15);
	size_t i = 0;
	for (; i < nb; i++) {
		uint64_t w = mix64(seed ^ (b0 + i));
		__m128i v = _mm_set_epi64x((long long)(w >> 4), (long long)w);
		v = _mm_shuffle_epi8(tab, _mm_and_si128(v, low));
		_mm_storeu_si128((__m128i *)(buf + i * 16), v);
	}
	return i;
}

static _Atomic int pattern_isa = -1;   /* 2 avx2, 1 ssse3, 0 neither (set once) */
#endif

/* pattern(ino, off) for n bytes into buf. */
static void pattern(uint8_t *buf, uint64_t ino, uint64_t off, size_t n)
{
	uint64_t seed = ino * 0x100000001b3ull;
	size_t i = 0;
	uint8_t blk[16];
	/* head: up to the next block boundary in the file */
	if (off & 15) {
		pattern_block_sw(blk, mix64(seed ^ (off >> 4)));
		for (unsigned j = (unsigned)(off & 15); j < 16 && i < n; j++)
			buf[i++] = blk[j];
	}
	uint64_t b0 = (off + i) >> 4;
	size_t nb = (n - i) / 16, done = 0;
#if defined(__x86_64__)
	int isa = atomic_load_explicit(&pattern_isa, memory_order_relaxed);
	if (isa < 0) {
		__builtin_cpu_init();
		isa = __builtin_cpu_supports("avx2") ? 2 : __builtin_cpu_supports("ssse3") ? 1 : 0;
		atomic_store_explicit(&pattern_isa, isa, memory_order_relaxed);
	}
	if (isa == 2)
		done = pattern_avx2(buf + i, seed, b0, nb);
	if (isa >= 1)
		done += pattern_ssse3(buf + i + done * 16, seed, b0 + done, nb - done);
#endif
	for (; done < nb; done++)
		pattern_block_sw(buf + i + done * 16, mix64(seed ^ (b0 + done)));
	i += nb * 16;
	/* tail */
	if (i < n) {
		pattern_block_sw(blk, mix64(seed ^ ((off + i) >> 4)));
		memcpy(buf + i, blk, n - i);
	}
}

int lfs_replay_pattern_isa(int isa)
{
#if defined(__x86_64__)
	if (isa >= 0) {
		__builtin_cpu_init();
		if ((isa >= 2 && !__builtin_cpu_supports("avx2")) ||
		    (isa >= 1 && !__builtin_cpu_supports("ssse3")))
			return -1;
		atomic_store_explicit(&pattern_isa, isa > 2 ? 2 : isa, memory_order_relaxed);
	}
	return atomic_load_explicit(&pattern_isa, memory_order_relaxed);
#else
	return isa > 0 ? -1 : 0;
#endif
}

void lfs_replay_pattern(uint8_t *buf, uint64_t ino, uint64_t off, size_t n)
{
	pattern(buf, ino, off, n);
}

void lfs_replay_pattern_ref(uint8_t *buf, uint64_t ino, uint64_t off, size_t n)
{
	uint64_t seed = ino * 0x100000001b3ull;
	for (size_t i = 0; i < n; i++) {
		uint64_t pos = off + i, w = mix64(seed ^ (pos >> 4));
		unsigned j = (unsigned)(pos & 15);
		buf[i] = (uint8_t)alpha16[(w >> ((j & 7) * 8 + (j >> 3) * 4)) & 15];
	}
}

/* ---------------------------------------------------------------- hashing */

static uint64_t hstr(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* ---------------------------------------------------------------- prescan namespace */

enum { NS_EXISTS = 1, NS_ABSENT = 2 };
enum { PRE_NONE = 0, PRE_FILE = 1, PRE_DIR = 2 };

struct ns_node {
	char    *path;     /* mapped path, NULL = empty slot */
	uint8_t  state, pre, isdir;
	uint64_t size;
};

struct ns_map {
	struct ns_node *t;
	size_t cap, n;
};

static struct ns_node *ns_find(struct ns_map *m, const char *p, int add)
{
	if (add && (m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 1024;
		struct ns_node *nt = calloc(nc, sizeof *nt);
		if (!nt)
			return NULL;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->t[i].path)
				continue;
			size_t j = hstr(m->t[i].path) & (nc - 1);
			while (nt[j].path)
				j = (j + 1) & (nc - 1);
			nt[j] = m->t[i];
		}
		free(m->t);
		m->t = nt;
		m->cap = nc;
	}
	if (!m->cap)
		return NULL;
	size_t j = hstr(p) & (m->cap - 1);
	while (m->t[j].path) {
		if (!strcmp(m->t[j].path, p))
			return &m->t[j];
		j = (j + 1) & (m->cap - 1);
	}
	if (!add)
		return NULL;
	m->t[j].path = strdup(p);
	if (!m->t[j].path)
		return NULL;
	m->n++;
	return &m->t[j];
}

static void ns_free(struct ns_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->t[i].path);
	free(m->t);
	memset(m, 0, sizeof *m);
}

static void ns_parent_exists(struct ns_map *m, const char *p)
{
	char buf[4096];
	size_t n = strlen(p);
	if (n >= sizeof buf)
		return;
	memcpy(buf, p, n + 1);
	for (;;) {
		char *s = strrchr(buf, '/');
		if (!s || s == buf)
			return;
		*s = 0;
		struct ns_node *d = ns_find(m, buf, 0);
		if (d) {
			d->state = NS_EXISTS;
			d->isdir = 1;
			return;
		}
		d = ns_find(m, buf, 1);
		if (!d)
			return;
		d->state = NS_EXISTS;
		d->pre = PRE_DIR;
		d->isdir = 1;
	}
}

/* The trace shows p exists here. */
static void ns_exists(struct ns_map *m, const char *p, int isdir, uint64_t size)
{
	struct ns_node *x = ns_find(m, p, 0);
	if (x) {
		x->state = NS_EXISTS;
		return;
	}
	x = ns_find(m, p, 1);
	if (!x)
		return;
	x->state = NS_EXISTS;
	x->pre = isdir ? PRE_DIR : PRE_FILE;
	x->isdir = (uint8_t)isdir;
	x->size = isdir ? 0 : size;
	ns_parent_exists(m, p);
}

/* The trace creates p here. */
static void ns_created(struct ns_map *m, const char *p, int isdir)
{
	struct ns_node *x = ns_find(m, p, 0);
	if (!x) {
		x = ns_find(m, p, 1);
		if (!x)
			return;
		ns_parent_exists(m, p);
	}
	x->state = NS_EXISTS;
	x->isdir = (uint8_t)isdir;
}

static void ns_absent(struct ns_map *m, const char *p)
{
	struct ns_node *x = ns_find(m, p, 0);
	if (x)
		return;   /* later state changes come from successful calls */
	x = ns_find(m, p, 1);
	if (x)
		x->state = NS_ABSENT;
}

static void ns_removed(struct ns_map *m, const char *p, int isdir)
{
	ns_exists(m, p, isdir, 0);
	struct ns_node *x = ns_find(m, p, 0);
	if (x)
		x->state = NS_ABSENT;
}

/* rename of a directory: everything known under from/ moves to to/. */
static void ns_move_children(struct ns_map *m, const char *from, const char *to)
{
	size_t fl = strlen(from);
	char **moved = NULL;
	size_t nm = 0;
	for (size_t i = 0; i < m->cap; i++) {
		struct ns_node *x = &m->t[i];
		if (!x->path || strncmp(x->path, from, fl) || x->path[fl] != '/' || x->state != NS_EXISTS)
			continue;
		char buf[4096];
		if ((size_t)snprintf(buf, sizeof buf, "%s%s", to, x->path + fl) >= sizeof buf)
			continue;
		char **nmv = realloc(moved, (nm + 1) * sizeof *moved);
		if (!nmv)
			break;
		moved = nmv;
		moved[nm++] = strdup(buf);
		x->state = NS_ABSENT;
	}
	for (size_t i = 0; i < nm; i++) {
		if (moved[i])
			ns_created(m, moved[i], 0);
		free(moved[i]);
	}
	free(moved);
}

/* ---------------------------------------------------------------- verify shadow */

enum { EX_PATTERN = 1, EX_DATA = 2, EX_UNKNOWN = 3 };

struct extent {
	uint64_t off, len;
	int      kind;
	uint8_t *data;      /* EX_DATA: len bytes */
};

struct shadow {
	uint64_t ino;       /* 0 = empty slot */
	struct extent *ex;
	size_t n, cap;
};

struct shadow_map {
	struct shadow *t;
	size_t cap, n;
};

static struct shadow *sh_get(struct shadow_map *m, uint64_t ino)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 256;
		struct shadow *nt = calloc(nc, sizeof *nt);
		if (!nt)
			return NULL;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->t[i].ino)
				continue;
			size_t j = mix64(m->t[i].ino) & (nc - 1);
			while (nt[j].ino)
				j = (j + 1) & (nc - 1);
			nt[j] = m->t[i];
		}
		free(m->t);
		m->t = nt;
		m->cap = nc;
	}
	size_t j = mix64(ino) & (m->cap - 1);
	while (m->t[j].ino) {
		if (m->t[j].ino == ino)
			return &m->t[j];
		j = (j + 1) & (m->cap - 1);
	}
	m->t[j].ino = ino;
	m->n++;
	return &m->t[j];
}

static void sh_free_map(struct shadow_map *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		for (size_t k = 0; k < m->t[i].n; k++)
			free(m->t[i].ex[k].data);
		free(m->t[i].ex);
	}
	free(m->t);
	memset(m, 0, sizeof *m);
}

/* Remove [off, off+len) from s (len UINT64_MAX = to the end). */
static int sh_cut(struct shadow *s, uint64_t off, uint64_t len)
{
	uint64_t end = len == UINT64_MAX || off + len < off ? UINT64_MAX : off + len;
	size_t k = 0;
	while (k < s->n) {
		struct extent *e = &s->ex[k];
		uint64_t ee = e->off + e->len;
		if (ee <= off || e->off >= end) {
			k++;
			continue;
		}
		if (e->off < off && ee > end) {      /* split in two */
			if (lfs_grow(&s->ex, &s->cap, s->n + 1, sizeof *s->ex, 4) < 0)
				return -ENOMEM;
			e = &s->ex[k];
			struct extent tail = *e;
			tail.off = end;
			tail.len = ee - end;
			tail.data = NULL;
			if (e->kind == EX_DATA) {
				tail.data = malloc(tail.len);
				if (!tail.data)
					return -ENOMEM;
				memcpy(tail.data, e->data + (end - e->off), tail.len);
			}
			e->len = off - e->off;
			memmove(&s->ex[k + 2], &s->ex[k + 1], (s->n - k - 1) * sizeof *s->ex);
			s->ex[k + 1] = tail;
			s->n++;
			return 0;
		}
		if (e->off < off) {                  /* keep the head */
			e->len = off - e->off;
			k++;
			continue;
		}
		if (ee > end) {                      /* keep the tail */
			uint64_t drop = end - e->off;
			if (e->kind == EX_DATA)
				memmove(e->data, e->data + drop, e->len - drop);
			e->off = end;
			e->len -= drop;
			k++;
			continue;
		}
		free(e->data);                       /* fully covered */
		memmove(&s->ex[k], &s->ex[k + 1], (s->n - k - 1) * sizeof *s->ex);
		s->n--;
	}
	return 0;
}

/* Record that [off, off+len) now holds kind (data: the bytes for EX_DATA). */
static int sh_put(struct shadow *s, uint64_t off, uint64_t len, int kind, const uint8_t *data)
{
	if (!len)
		return 0;
	int rc = sh_cut(s, off, len);
	if (rc)
		return rc;
	size_t k = 0;
	while (k < s->n && s->ex[k].off < off)
		k++;
	/* append to the previous extent when contiguous and of the same kind */
	if (k > 0 && s->ex[k - 1].kind == kind && s->ex[k - 1].off + s->ex[k - 1].len == off &&
	    kind != EX_DATA) {
		s->ex[k - 1].len += len;
		return 0;
	}
	if (k > 0 && kind == EX_DATA && s->ex[k - 1].kind == EX_DATA &&
	    s->ex[k - 1].off + s->ex[k - 1].len == off && s->ex[k - 1].len + len <= (16u << 20)) {
		uint8_t *nd = realloc(s->ex[k - 1].data, s->ex[k - 1].len + len);
		if (!nd)
			return -ENOMEM;
		memcpy(nd + s->ex[k - 1].len, data, len);
		s->ex[k - 1].data = nd;
		s->ex[k - 1].len += len;
		return 0;
	}
	if (lfs_grow(&s->ex, &s->cap, s->n + 1, sizeof *s->ex, 4) < 0)
		return -ENOMEM;
	struct extent e = { off, len, kind, NULL };
	if (kind == EX_DATA) {
		e.data = malloc(len);
		if (!e.data)
			return -ENOMEM;
		memcpy(e.data, data, len);
	}
	memmove(&s->ex[k + 1], &s->ex[k], (s->n - k) * sizeof *s->ex);
	s->ex[k] = e;
	s->n++;
	return 0;
}

/* Check buf (n bytes read at off of ino) against the shadow.  Returns the
 * offset of the first wrong byte, or UINT64_MAX. */
static uint64_t sh_check(struct shadow *s, uint64_t ino, uint64_t off, const uint8_t *buf, size_t n,
			 uint8_t *tmp)
{
	uint64_t end = off + n, pos = off;
	size_t k = 0;
	while (k < s->n && s->ex[k].off + s->ex[k].len <= off)
		k++;
	while (pos < end) {
		const struct extent *e = k < s->n ? &s->ex[k] : NULL;
		uint64_t next = e && e->off < end ? e->off : end;
		if (pos < next) {                    /* hole: zeros */
			for (uint64_t p = pos; p < next; p++)
				if (buf[p - off])
					return p;
			pos = next;
			continue;
		}
		uint64_t ee = e->off + e->len < end ? e->off + e->len : end;
		size_t len = (size_t)(ee - pos);
		if (e->kind == EX_PATTERN) {
			pattern(tmp, ino, pos, len);
			if (memcmp(tmp, buf + (pos - off), len)) {
				for (size_t i = 0; i < len; i++)
					if (tmp[i] != buf[pos - off + i])
						return pos + i;
			}
		} else if (e->kind == EX_DATA) {
			const uint8_t *want = e->data + (pos - e->off);
			if (memcmp(want, buf + (pos - off), len)) {
				for (size_t i = 0; i < len; i++)
					if (want[i] != buf[pos - off + i])
						return pos + i;
			}
		}
		pos = ee;
		k++;
	}
	return UINT64_MAX;
}

/* ---------------------------------------------------------------- processes and fds */

struct ofd {                 /* an open file description (shared by dup/fork) */
	int      refs;
	uint64_t ino;
	int      append;
	int      isdir;
	char    *path;           /* mapped path, for messages */
};

struct fdent { struct ofd *o; int cloexec; };

struct proc {
	int32_t  pid;            /* 0 = empty slot */
	int      dead;
	int      implicit;       /* created on first sight, not by a fork */
	struct lfs_proc *lp;
	struct fdent *fd;
	int      nfd;
};

struct rp {
	const struct lfs_replay_opts *o;
	struct lfs_replay_result *res;
	struct lfs_err *err;
	struct lfs_mount *m;
	const struct lfs_trace_header *hdr;
	uint64_t now;                /* trace clock for the engine */
	char     root[1024];
	size_t   rootlen;

	struct proc *pt;             /* open addressing by pid */
	size_t   pcap, pn;
	int32_t *scope_pids;         /* --pid: pids in scope */
	size_t   nscope, scope_cap;

	struct shadow_map sh;
	uint8_t *buf, *tmp;
	size_t   bufcap;

	/* explain */
	struct lfs_replay_explain *cur;
	/* counting */
	struct lfs_stats base;
	uint64_t ev_no;              /* event number in the trace */
	uint64_t first_ts, last_ts, t0;
	uint64_t next_sample_ts, sample_step;
	size_t   samples_cap;
	int      data_trace;
};

static uint64_t rp_clock(void *arg)
{
	return ((struct rp *)arg)->now;
}

static struct proc *proc_find(struct rp *r, int32_t pid, int add)
{
	if (pid == 0)                /* 0 marks a free slot: never a process */
		return NULL;
	if (add && (r->pn + 1) * 2 > r->pcap) {
		size_t nc = r->pcap ? r->pcap * 2 : 64;
		struct proc *nt = calloc(nc, sizeof *nt);
		if (!nt)
			return NULL;
		for (size_t i = 0; i < r->pcap; i++) {
			if (!r->pt[i].pid)
				continue;
			size_t j = mix64((uint64_t)r->pt[i].pid) & (nc - 1);
			while (nt[j].pid)
				j = (j + 1) & (nc - 1);
			nt[j] = r->pt[i];
		}
		free(r->pt);
		r->pt = nt;
		r->pcap = nc;
	}
	if (!r->pcap)
		return NULL;
	size_t j = mix64((uint64_t)pid) & (r->pcap - 1);
	while (r->pt[j].pid) {
		if (r->pt[j].pid == pid)
			return &r->pt[j];
		j = (j + 1) & (r->pcap - 1);
	}
	if (!add)
		return NULL;
	r->pt[j].pid = pid;
	r->pn++;
	return &r->pt[j];
}

static void ofd_put(struct ofd *o)
{
	if (o && --o->refs == 0) {
		free(o->path);
		free(o);
	}
}

static struct fdent *fd_slot(struct proc *p, int fd, int grow)
{
	if (fd < 0 || fd > (1 << 24))
		return NULL;
	if (fd >= p->nfd) {
		if (!grow)
			return NULL;
		int n = p->nfd ? p->nfd : 64;
		while (n <= fd)
			n *= 2;
		struct fdent *nf = realloc(p->fd, (size_t)n * sizeof *nf);
		if (!nf)
			return NULL;
		memset(nf + p->nfd, 0, (size_t)(n - p->nfd) * sizeof *nf);
		p->fd = nf;
		p->nfd = n;
	}
	return &p->fd[fd];
}

static struct ofd *fd_get(struct proc *p, int fd)
{
	struct fdent *e = fd_slot(p, fd, 0);
	return e ? e->o : NULL;
}

static void fd_drop(struct proc *p, int fd)
{
	struct fdent *e = fd_slot(p, fd, 0);
	if (e && e->o) {
		ofd_put(e->o);
		e->o = NULL;
		e->cloexec = 0;
	}
}

static int fd_install(struct proc *p, int fd, struct ofd *o, int cloexec)
{
	struct fdent *e = fd_slot(p, fd, 1);
	if (!e)
		return -ENOMEM;
	if (e->o)
		ofd_put(e->o);
	o->refs++;
	e->o = o;
	e->cloexec = cloexec;
	return 0;
}

static void proc_release(struct proc *p)
{
	for (int i = 0; i < p->nfd; i++)
		if (p->fd[i].o)
			ofd_put(p->fd[i].o);
	free(p->fd);
	p->fd = NULL;
	p->nfd = 0;
	if (p->lp)
		lfs_proc_free(p->lp);
	p->lp = NULL;
}

/* The process of pid, created on first sight. */
static struct proc *proc_of(struct rp *r, int32_t pid)
{
	struct proc *p = proc_find(r, pid, 1);
	if (!p)
		return NULL;
	if (!p->lp) {
		p->lp = lfs_proc_new(r->m);
		if (!p->lp)
			return NULL;
		p->dead = 0;
		p->implicit = 1;
		r->res->processes++;
	}
	return p;
}

static void proc_fork(struct rp *r, int32_t parent, int32_t child)
{
	if (child <= 0 || child == parent)   /* hostile trace: nothing to fork */
		return;
	struct proc *pp = proc_of(r, parent);
	if (!pp)
		return;
	struct proc *c = proc_find(r, child, 0);
	if (c && c->lp && !c->dead) {
		/* already forked (PROC_FORK and the fork syscall both seen), or
		 * the child's first event came before its fork event (per-CPU
		 * order): then it gets its parent's fds if it has none yet */
		if (!c->implicit)
			return;
		for (int i = 0; i < c->nfd; i++)
			if (c->fd[i].o)
				return;
		r->res->processes--;
	}
	pp = proc_find(r, parent, 0);   /* table may have moved */
	c = proc_find(r, child, 1);
	pp = proc_find(r, parent, 0);
	if (!c || !pp)
		return;
	if (c->lp)
		proc_release(c);
	c->lp = lfs_proc_fork(pp->lp);
	if (!c->lp)
		return;
	c->dead = 0;
	c->implicit = 0;
	r->res->processes++;
	for (int i = 0; i < pp->nfd; i++) {
		if (!pp->fd[i].o)
			continue;
		fd_install(c, i, pp->fd[i].o, pp->fd[i].cloexec);
	}
}

static void proc_exec(struct proc *p)
{
	for (int i = 0; i < p->nfd; i++) {
		if (p->fd[i].o && p->fd[i].cloexec) {
			lfs_close(p->lp, i);
			fd_drop(p, i);
		}
	}
}

/* ---------------------------------------------------------------- scope */

static int pid_in_scope(struct rp *r, int32_t pid)
{
	if (r->o->pid <= 0)
		return 1;
	for (size_t i = 0; i < r->nscope; i++)
		if (r->scope_pids[i] == pid)
			return 1;
	return 0;
}

static void scope_add(struct rp *r, int32_t pid)
{
	if (pid_in_scope(r, pid))
		return;
	if (lfs_grow(&r->scope_pids, &r->scope_cap, r->nscope + 1, sizeof *r->scope_pids, 16) < 0)
		return;
	r->scope_pids[r->nscope++] = pid;
}

/* Map a captured absolute path into the image; NULL if out of scope. */
static const char *map_path(struct rp *r, const char *abs, char *out, size_t cap)
{
	if (!abs || abs[0] != '/')
		return NULL;
	if (r->rootlen) {
		if (strncmp(abs, r->root, r->rootlen) || (abs[r->rootlen] && abs[r->rootlen] != '/'))
			return NULL;
		const char *rest = abs + r->rootlen;
		if (!*rest)
			rest = "/";
		if ((size_t)snprintf(out, cap, "%s", rest) >= cap)
			return NULL;
		return out;
	}
	static const char *const skip[] = { "/proc", "/sys", "/dev" };
	for (size_t i = 0; i < sizeof skip / sizeof *skip; i++) {
		size_t l = strlen(skip[i]);
		if (!strncmp(abs, skip[i], l) && (abs[l] == 0 || abs[l] == '/'))
			return NULL;
	}
	if ((size_t)snprintf(out, cap, "%s", abs) >= cap)
		return NULL;
	return out;
}

static int ftype_ok(const struct lfs_trace_event *ev)
{
	if (!(ev->eflags & LFS_TREV_STAT))
		return 1;
	return S_ISREG(ev->ftype) || S_ISDIR(ev->ftype);
}

/* ---------------------------------------------------------------- pass 1 */

static int is_fork_sys(unsigned s)
{
	return s == LFS_TR_FORK || s == LFS_TR_VFORK || s == LFS_TR_CLONE || s == LFS_TR_CLONE3;
}

static void prescan_event(struct rp *r, struct ns_map *ns, const struct lfs_trace_event *ev)
{
	char a[4096], b[4096];
	const char *p1, *p2;

	if (ev->sys == LFS_TR_PROC_FORK && !(ev->eflags & LFS_TREV_THREAD)) {
		if (pid_in_scope(r, ev->pid))
			scope_add(r, ev->child_pid);
		return;
	}
	if (is_fork_sys(ev->sys) && ev->ret > 0 && !(ev->flags & CLONE_THREAD)) {
		if (pid_in_scope(r, ev->pid))
			scope_add(r, (int32_t)ev->ret);
		return;
	}
	if (!pid_in_scope(r, ev->pid))
		return;
	int ok = ev->ret >= 0;
	switch (ev->sys) {
	case LFS_TR_OPEN: case LFS_TR_OPENAT: case LFS_TR_OPENAT2: case LFS_TR_CREAT:
		if (!(p1 = map_path(r, ev->path_abs, a, sizeof a)))
			return;
		if (ok) {
			if (!ftype_ok(ev))
				return;
			int isdir = (ev->eflags & LFS_TREV_STAT) ? S_ISDIR(ev->ftype) :
				    !!(ev->flags & O_DIRECTORY);
			struct ns_node *x = ns_find(ns, p1, 0);
			if (x && x->state == NS_EXISTS)
				return;
			if ((ev->flags & O_CREAT) && (ev->size == 0 || (ev->flags & O_TRUNC)))
				ns_created(ns, p1, 0);
			else
				ns_exists(ns, p1, isdir, ev->size);
		} else if (ev->ret == -ENOENT) {
			ns_absent(ns, p1);
		} else if (ev->ret == -EEXIST) {
			ns_exists(ns, p1, 0, 0);
		} else if (ev->ret == -EISDIR) {
			ns_exists(ns, p1, 1, 0);
		}
		return;
	case LFS_TR_FD_SNAP:
		if ((p1 = map_path(r, ev->path_abs, a, sizeof a)) && ftype_ok(ev))
			ns_exists(ns, p1, (ev->eflags & LFS_TREV_STAT) && S_ISDIR(ev->ftype), ev->size);
		return;
	case LFS_TR_TRUNCATE:
	case LFS_TR_CHDIR:
		if (!(p1 = map_path(r, ev->path_abs, a, sizeof a)))
			return;
		if (ok)
			ns_exists(ns, p1, ev->sys == LFS_TR_CHDIR, 0);
		else if (ev->ret == -ENOENT)
			ns_absent(ns, p1);
		return;
	case LFS_TR_UNLINK: case LFS_TR_UNLINKAT: case LFS_TR_RMDIR: {
		if (!(p1 = map_path(r, ev->path_abs, a, sizeof a)))
			return;
		int isdir = ev->sys == LFS_TR_RMDIR || (ev->flags & AT_REMOVEDIR);
		if (ok)
			ns_removed(ns, p1, isdir);
		else if (ev->ret == -ENOENT)
			ns_absent(ns, p1);
		else if (ev->ret == -ENOTEMPTY || ev->ret == -EISDIR)
			ns_exists(ns, p1, 1, 0);
		return;
	}
	case LFS_TR_MKDIR: case LFS_TR_MKDIRAT:
		if (!(p1 = map_path(r, ev->path_abs, a, sizeof a)))
			return;
		if (ok)
			ns_created(ns, p1, 1);
		else if (ev->ret == -EEXIST)
			ns_exists(ns, p1, 1, 0);
		return;
	case LFS_TR_RENAME: case LFS_TR_RENAMEAT: case LFS_TR_RENAMEAT2:
	case LFS_TR_LINK: case LFS_TR_LINKAT: {
		p1 = map_path(r, ev->path_abs, a, sizeof a);
		p2 = map_path(r, ev->path2_abs, b, sizeof b);
		if (!p1 || !p2)
			return;
		int isren = ev->sys != LFS_TR_LINK && ev->sys != LFS_TR_LINKAT;
		if (ok) {
			struct ns_node *x = ns_find(ns, p1, 0);
			int isdir = x && x->isdir;
			if (!x || x->state != NS_EXISTS)
				ns_exists(ns, p1, 0, 0);
			if (isren) {
				x = ns_find(ns, p1, 0);
				if (x)
					x->state = NS_ABSENT;
				if (isdir)
					ns_move_children(ns, p1, p2);
			}
			ns_created(ns, p2, isdir);
		} else if (ev->ret == -ENOENT) {
			ns_absent(ns, p1);
		}
		return;
	}
	case LFS_TR_SYMLINK: case LFS_TR_SYMLINKAT:
		if ((p2 = map_path(r, ev->path2_abs, b, sizeof b)) && ok)
			ns_created(ns, p2, 0);
		return;
	default:
		return;
	}
}

static int prescan(struct rp *r, const char *path, struct ns_map *ns)
{
	struct lfs_trace_reader *tr;
	struct lfs_trace_event ev;
	int rc = lfs_trace_open(&tr, path, r->err);
	if (rc < 0)
		return rc;
	if (r->o->pid > 0)
		scope_add(r, r->o->pid);
	uint64_t n = 0;
	while ((rc = lfs_trace_next(tr, &ev, r->err)) > 0) {
		if (n == 0)
			r->first_ts = ev.ts_ns;
		r->last_ts = ev.ts_ns;
		n++;
		prescan_event(r, ns, &ev);
	}
	r->res->trace_events = n;
	lfs_trace_reader_close(tr);
	return rc;
}

/* ---------------------------------------------------------------- set-up */

static int mkdir_p(struct rp *r, struct lfs_proc *p, const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	if (n >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		char c = buf[i];
		buf[i] = 0;
		int rc = lfs_mkdir(p, buf, 0755);
		if (rc == 0)
			r->res->setup_dirs++;
		else if (rc != -EEXIST)
			return rc;
		buf[i] = c;
	}
	return 0;
}

static int ensure_buf(struct rp *r, size_t n)
{
	if (n <= r->bufcap)
		return 0;
	size_t c = r->bufcap ? r->bufcap : 65536;
	while (c < n)
		c *= 2;
	uint8_t *nb = realloc(r->buf, c), *nt;
	if (!nb)
		return -ENOMEM;
	r->buf = nb;
	if (r->o->verify) {          /* the expected bytes, only to compare */
		nt = realloc(r->tmp, c);
		if (!nt)
			return -ENOMEM;
		r->tmp = nt;
	}
	r->bufcap = c;
	return 0;
}

static int setup(struct rp *r, struct ns_map *ns)
{
	struct lfs_proc *p = lfs_proc_new(r->m);
	if (!p)
		return lfs_seterr(r->err, -ENOMEM, "set-up: no memory");
	int rc = 0;
	/* directories first (sorted by the order of the table is fine: mkdir_p) */
	for (size_t i = 0; i < ns->cap && !rc; i++) {
		struct ns_node *x = &ns->t[i];
		if (!x->path || x->pre != PRE_DIR)
			continue;
		rc = mkdir_p(r, p, x->path);
		if (rc)
			lfs_seterr(r->err, rc, "set-up: mkdir %s: %s", x->path, lfs_strerror(rc));
	}
	for (size_t i = 0; i < ns->cap && !rc; i++) {
		struct ns_node *x = &ns->t[i];
		if (!x->path || x->pre != PRE_FILE)
			continue;
		int fd = lfs_open(p, x->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			rc = lfs_seterr(r->err, fd, "set-up: create %s: %s", x->path, lfs_strerror(fd));
			break;
		}
		uint64_t ino = 0;
		rc = lfs_fd_ident(p, fd, &ino, NULL, NULL);
		uint64_t off = 0;
		while (!rc && off < x->size) {
			size_t n = x->size - off > (1u << 20) ? (1u << 20) : (size_t)(x->size - off);
			if ((rc = ensure_buf(r, n)))
				break;
			pattern(r->buf, ino, off, n);
			ssize_t w = lfs_pwrite(p, fd, r->buf, n, (off_t)off);
			if (w < 0)
				rc = (int)w;
			else
				off += (uint64_t)w;
		}
		if (!rc && r->o->verify) {
			struct shadow *s = sh_get(&r->sh, ino);
			if (!s)
				rc = -ENOMEM;
			else {
				sh_cut(s, 0, UINT64_MAX);
				rc = sh_put(s, 0, x->size, EX_PATTERN, NULL);
			}
		}
		lfs_close(p, fd);
		if (rc) {
			lfs_seterr(r->err, rc, "set-up: write %s: %s", x->path, lfs_strerror(rc));
			break;
		}
		r->res->setup_files++;
		r->res->setup_bytes += x->size;
	}
	lfs_proc_free(p);
	if (rc)
		return rc;
	rc = lfs_sync(r->m);
	if (rc)
		return lfs_seterr(r->err, rc, "set-up: sync: %s", lfs_strerror(rc));
	if (!r->o->warm)
		lfs_drop_caches(r->m);
	return 0;
}

/* ---------------------------------------------------------------- stats */

static void stats_sub(struct lfs_stats *d, const struct lfs_stats *a, const struct lfs_stats *b)
{
	*d = *a;
#define S(f) d->f = a->f - b->f
	S(pc.lookups); S(pc.hits); S(pc.misses); S(pc.readpage); S(pc.readahead_calls);
	S(pc.ra_pages); S(pc.ra_used); S(pc.async_ra); S(pc.pages_dirtied); S(pc.pages_written);
	S(pc.pages_evicted); S(pc.writepages_calls); S(pc.bg_writeback); S(pc.hard_writeback);
	S(pc.expire_writeback); S(pc.rmw_reads);
	S(txn.txns); S(txn.pages); S(txn.meta_ops); S(txn.fsync_waits);
	S(io.requests); S(io.merges); S(io.reads); S(io.writes);
	S(kv.gets); S(kv.puts); S(kv.dels); S(kv.range_dels); S(kv.scans); S(kv.scan_items);
	S(kv.batches); S(kv.syncs); S(kv.bytes_put); S(kv.bytes_got); S(kv.file_bytes_written);
	S(kv.file_bytes_read);
	S(vfs.reads); S(vfs.writes); S(vfs.bytes_read); S(vfs.bytes_written); S(vfs.opens);
	S(vfs.fsyncs);
	S(io.lat.count); S(io.lat.sum_ns);
	for (int i = 0; i < LFS_HIST_BUCKETS; i++)
		S(io.lat.b[i]);
#undef S
}

static void take_sample(struct rp *r, uint64_t t)
{
	struct lfs_replay_result *res = r->res;
	if (lfs_grow(&res->samples, &r->samples_cap, res->nsamples + 1, sizeof *res->samples, 128) < 0)
		return;
	struct lfs_stats now, d;
	lfs_mount_stats(r->m, &now);
	stats_sub(&d, &now, &r->base);
	struct lfs_replay_sample *s = &res->samples[res->nsamples++];
	s->t_ns = t;
	s->events = r->ev_no;
	s->lookups = d.pc.lookups;
	s->hits = d.pc.hits;
	s->misses = d.pc.misses;
	s->pages_cached = now.pc.pages_cached;
	s->pages_dirty = now.pc.pages_dirty;
	s->kv_gets = d.kv.gets;
	s->kv_puts = d.kv.puts;
	s->kv_dels = d.kv.dels + d.kv.range_dels;
	s->kv_scans = d.kv.scans;
	s->kv_bytes_put = d.kv.bytes_put;
	s->kv_bytes_got = d.kv.bytes_got;
	s->app_read = res->app_read;
	s->app_written = res->app_written;
}

/* ---------------------------------------------------------------- explain */

static void explain_hook(void *arg, const struct lfs_event *ev)
{
	struct rp *r = arg;
	struct lfs_replay_explain *x = r->cur;
	if (!x)
		return;
	if (x->nev >= LFS_REPLAY_EXPLAIN_MAX_EV) {
		x->truncated = 1;
		return;
	}
	if ((x->nev & (x->nev - 1)) == 0) {   /* grow at powers of two */
		size_t nc = x->nev ? x->nev * 2 : 8;
		struct lfs_event *n = realloc(x->ev, nc * sizeof *n);
		if (!n) {
			x->truncated = 1;
			return;
		}
		x->ev = n;
	}
	x->ev[x->nev++] = *ev;
}

/* ---------------------------------------------------------------- replay one event */

struct call {                 /* what one replayed event did */
	int64_t got;
	uint64_t bytes;
	char what[160];
};

/* c->what = s (truncated): on every event, so no printf */
static void what_str(struct call *c, const char *s)
{
	size_t n = strlen(s);
	if (n >= sizeof c->what)
		n = sizeof c->what - 1;
	memcpy(c->what, s, n);
	c->what[n] = 0;
}

/* c->what = "FD<PATH>" */
static void what_fd(struct call *c, int fd, const char *path)
{
	char num[16], *q = num + sizeof num;
	unsigned u = fd < 0 ? 0u - (unsigned)fd : (unsigned)fd;
	do
		*--q = (char)('0' + u % 10);
	while (u /= 10);
	if (fd < 0)
		*--q = '-';
	size_t nl = (size_t)(num + sizeof num - q), pl = strlen(path);
	if (nl + pl + 2 >= sizeof c->what)
		pl = sizeof c->what - nl - 3;
	memcpy(c->what, q, nl);
	c->what[nl] = '<';
	memcpy(c->what + nl + 1, path, pl);
	c->what[nl + 1 + pl] = '>';
	c->what[nl + 2 + pl] = 0;
}

static void note_result(struct rp *r, const struct lfs_trace_event *ev, struct call *c, uint64_t lat)
{
	struct lfs_replay_result *res = r->res;
	unsigned s = ev->sys < LFS_REPLAY_MAX_SYS ? ev->sys : 0;
	struct lfs_replay_sys *y = &res->sys[s];
	if (!y->name[0])
		snprintf(y->name, sizeof y->name, "%s", lfs_trace_sys_name(ev->sys));
	y->count++;
	y->bytes += c->bytes;
	y->lat.count++;
	y->lat.sum_ns += lat;
	if (lat > y->lat.max_ns)
		y->lat.max_ns = lat;
	int b = 0;
	while (b < LFS_HIST_BUCKETS - 1 && (lat >> (b + 1)))
		b++;
	y->lat.b[b]++;
	res->replayed++;
	if (ev->ret < 0)
		y->errors++;
	/* compare with the trace */
	int match;
	if (ev->ret < 0)
		match = c->got == ev->ret;
	else if (lfs_trace_sys_is_open(ev->sys) || ev->sys == LFS_TR_DUP || ev->sys == LFS_TR_DUP2 ||
		 ev->sys == LFS_TR_DUP3)
		match = c->got == ev->ret;
	else if (ev->sys == LFS_TR_FCNTL)
		match = c->got >= 0 && (ev->cmd == RP_F_DUPFD || ev->cmd == RP_F_DUPFD_CLOEXEC ?
					c->got == ev->ret : 1);
	else if (ev->sys == LFS_TR_MMAP || ev->sys == LFS_TR_MUNMAP)
		match = 1;
	else
		match = c->got == ev->ret;
	if (match) {
		if (ev->ret < 0)
			res->errors_expected++;
		return;
	}
	y->mismatches++;
	res->mismatches++;
	if (res->nmm < LFS_REPLAY_MAX_MISMATCH) {
		struct lfs_replay_mismatch *m = &res->mm[res->nmm++];
		m->event = r->ev_no - 1;   /* ev_no counts the event being replayed */
		m->pid = (uint32_t)ev->pid;
		snprintf(m->sys, sizeof m->sys, "%s", lfs_trace_sys_name(ev->sys));
		m->want = ev->ret;
		m->got = c->got;
		snprintf(m->what, sizeof m->what, "%s", c->what);
	}
}

static void verify_read(struct rp *r, struct ofd *o, uint64_t off, const uint8_t *buf, size_t n)
{
	if (!r->o->verify || !n || o->isdir)
		return;
	struct shadow *s = sh_get(&r->sh, o->ino);
	if (!s)
		return;
	r->res->verify_reads++;
	r->res->verify_bytes += n;
	uint64_t bad = sh_check(s, o->ino, off, buf, n, r->tmp);
	if (bad == UINT64_MAX)
		return;
	if (!r->res->verify_failures++)
		snprintf(r->res->verify_first, sizeof r->res->verify_first,
			 "event %" PRIu64 ": %s: byte at offset %" PRIu64 " differs", r->ev_no - 1,
			 o->path ? o->path : "?", bad);
}

static void shadow_write(struct rp *r, struct ofd *o, uint64_t off, uint64_t n, int kind,
			 const uint8_t *data)
{
	if (!r->o->verify || !n)
		return;
	struct shadow *s = sh_get(&r->sh, o->ino);
	if (s)
		sh_put(s, off, n, kind, data);
}

static void shadow_trunc(struct rp *r, uint64_t ino, uint64_t len)
{
	if (!r->o->verify)
		return;
	struct shadow *s = sh_get(&r->sh, ino);
	if (s)
		sh_cut(s, len, UINT64_MAX);
}

/* Fill r->buf with the bytes a write event wrote (n bytes at off). */
static const uint8_t *write_bytes(struct rp *r, const struct lfs_trace_event *ev, struct ofd *o,
				  uint64_t off, size_t n, int *kind)
{
	if (ensure_buf(r, n))
		return NULL;
	*kind = EX_PATTERN;
	if (ev->data && ev->data_len) {
		size_t d = ev->data_len < n ? ev->data_len : n;
		memcpy(r->buf, ev->data, d);
		if (d < n)
			pattern(r->buf + d, o->ino, off + d, n - d);
		*kind = d == n ? EX_DATA : EX_UNKNOWN;
		if (d < n && d)
			*kind = EX_UNKNOWN;
		return r->buf;
	}
	pattern(r->buf, o->ino, off, n);
	return r->buf;
}

static off_t cur_pos(struct proc *p, int fd, struct ofd *o)
{
	if (o->append) {
		uint64_t size;
		if (lfs_fd_ident(p->lp, fd, NULL, NULL, &size) == 0)
			return (off_t)size;
	}
	return lfs_lseek(p->lp, fd, 0, SEEK_CUR);
}

static int open_flags(uint64_t f)
{
	int keep = O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECTORY | O_NOFOLLOW |
		   O_CLOEXEC | O_DIRECT;
	int fl = (int)(f & (uint64_t)keep);
#ifdef O_PATH
	if (f & O_PATH)
		fl = (fl & ~O_ACCMODE) | O_RDONLY;
#endif
	return fl;
}

/* Returns 1 if replayed (c filled), 0 if out of scope, -1 unsupported. */
static int do_event(struct rp *r, const struct lfs_trace_event *ev, struct call *c)
{
	char a[4096], b[4096];
	const char *p1, *p2;
	struct proc *p;
	struct ofd *o;
	int fd = ev->fd;

	switch (ev->sys) {
	case LFS_TR_OPEN: case LFS_TR_OPENAT: case LFS_TR_OPENAT2: case LFS_TR_CREAT: {
		if (!(p1 = map_path(r, ev->path_abs, a, sizeof a)) || !ftype_ok(ev))
			return 0;
		if (!(p = proc_of(r, ev->pid)))
			return 0;
		int fl = open_flags(ev->flags);
		what_str(c, p1);
		int want = ev->ret >= 0 ? (int)ev->ret : -1;
		int got;
		if (want >= 0) {
			if (fd_get(p, want)) {     /* stale: the trace closed it unseen */
				lfs_close(p->lp, want);
				fd_drop(p, want);
			}
			got = lfs_open_fd(p->lp, want, p1, fl, ev->mode);
		} else {
			got = lfs_open(p->lp, p1, fl, ev->mode);
		}
		c->got = got;
		if (got < 0)
			return 1;
		if (want < 0) {                    /* trace failed, we did not: undo */
			lfs_close(p->lp, got);
			return 1;
		}
		uint64_t ino, size;
		uint32_t mode;
		o = calloc(1, sizeof *o);
		if (!o || lfs_fd_ident(p->lp, got, &ino, &mode, &size)) {
			free(o);
			lfs_close(p->lp, got);
			c->got = -EIO;
			return 1;
		}
		o->ino = ino;
		o->isdir = S_ISDIR(mode);
		o->append = !!(fl & O_APPEND);
		o->path = strdup(p1);
		if (size == 0 && !o->isdir)
			shadow_trunc(r, ino, 0);
		if (fd_install(p, got, o, !!(fl & O_CLOEXEC)))
			c->got = -ENOMEM;
		return 1;
	}
	case LFS_TR_FD_SNAP: {
		if (!(p1 = map_path(r, ev->path_abs, a, sizeof a)) || !ftype_ok(ev))
			return 0;
		if (!(p = proc_of(r, ev->pid)))
			return 0;
		int fl = open_flags(ev->flags) & ~(O_CREAT | O_EXCL | O_TRUNC);
		int got = lfs_open_fd(p->lp, fd, p1, fl, 0);
		if (got < 0)
			return 0;
		uint64_t ino;
		uint32_t mode;
		o = calloc(1, sizeof *o);
		if (!o || lfs_fd_ident(p->lp, got, &ino, &mode, NULL)) {
			free(o);
			lfs_close(p->lp, got);
			return 0;
		}
		o->ino = ino;
		o->isdir = S_ISDIR(mode);
		o->append = !!(fl & O_APPEND);
		o->path = strdup(p1);
		if (ev->offset > 0)
			lfs_lseek(p->lp, got, ev->offset, SEEK_SET);
		fd_install(p, got, o, !!(fl & O_CLOEXEC));
		return 2;                          /* set-up, not counted */
	}
	default:
		break;
	}

	/* fd-based calls */
	if (ev->sys == LFS_TR_CLOSE || ev->sys == LFS_TR_READ || ev->sys == LFS_TR_WRITE ||
	    ev->sys == LFS_TR_PREAD64 || ev->sys == LFS_TR_PWRITE64 || ev->sys == LFS_TR_READV ||
	    ev->sys == LFS_TR_WRITEV || ev->sys == LFS_TR_PREADV || ev->sys == LFS_TR_PWRITEV ||
	    ev->sys == LFS_TR_PREADV2 || ev->sys == LFS_TR_PWRITEV2 || ev->sys == LFS_TR_LSEEK ||
	    ev->sys == LFS_TR_FSYNC || ev->sys == LFS_TR_FDATASYNC || ev->sys == LFS_TR_SYNC_FILE_RANGE ||
	    ev->sys == LFS_TR_SYNCFS || ev->sys == LFS_TR_FTRUNCATE || ev->sys == LFS_TR_FALLOCATE ||
	    ev->sys == LFS_TR_DUP || ev->sys == LFS_TR_FCNTL || ev->sys == LFS_TR_FCHDIR) {
		p = proc_find(r, ev->pid, 0);
		if (!p || !p->lp || !(o = fd_get(p, fd)))
			return 0;
		what_fd(c, fd, o->path ? o->path : "?");
		switch (ev->sys) {
		case LFS_TR_CLOSE:
			c->got = lfs_close(p->lp, fd);
			fd_drop(p, fd);
			return 1;
		case LFS_TR_READ: case LFS_TR_PREAD64: case LFS_TR_READV: case LFS_TR_PREADV:
		case LFS_TR_PREADV2: {
			size_t n = ev->count > RP_MAX_IO ? RP_MAX_IO : (size_t)ev->count;
			if (ensure_buf(r, n ? n : 1))
				return 0;
			int positional = ev->offset >= 0 && ev->sys != LFS_TR_READ && ev->sys != LFS_TR_READV;
			off_t off = positional ? ev->offset : (r->o->verify ? cur_pos(p, fd, o) : 0);
			ssize_t got = positional ? lfs_pread(p->lp, fd, r->buf, n, ev->offset)
						 : lfs_read(p->lp, fd, r->buf, n);
			c->got = got;
			if (got > 0) {
				c->bytes = (uint64_t)got;
				r->res->app_read += (uint64_t)got;
				if (off >= 0)
					verify_read(r, o, (uint64_t)off, r->buf, (size_t)got);
			}
			return 1;
		}
		case LFS_TR_WRITE: case LFS_TR_PWRITE64: case LFS_TR_WRITEV: case LFS_TR_PWRITEV:
		case LFS_TR_PWRITEV2: {
			uint64_t want = ev->ret >= 0 ? (uint64_t)ev->ret : ev->count;
			size_t n = want > RP_MAX_IO ? RP_MAX_IO : (size_t)want;
			int positional = ev->offset >= 0 && ev->sys != LFS_TR_WRITE && ev->sys != LFS_TR_WRITEV;
			off_t off = positional ? ev->offset : cur_pos(p, fd, o);
			int kind;
			const uint8_t *data = write_bytes(r, ev, o, off >= 0 ? (uint64_t)off : 0, n, &kind);
			if (!data)
				return 0;
			ssize_t got = positional ? lfs_pwrite(p->lp, fd, data, n, ev->offset)
						 : lfs_write(p->lp, fd, data, n);
			c->got = got;
			if (got > 0) {
				c->bytes = (uint64_t)got;
				r->res->app_written += (uint64_t)got;
				if (off >= 0)
					shadow_write(r, o, (uint64_t)off, (uint64_t)got, kind, data);
			}
			return 1;
		}
		case LFS_TR_LSEEK:
			c->got = lfs_lseek(p->lp, fd, ev->offset, ev->whence);
			return 1;
		case LFS_TR_FSYNC:
			c->got = lfs_fsync(p->lp, fd);
			return 1;
		case LFS_TR_FDATASYNC: case LFS_TR_SYNC_FILE_RANGE:
			c->got = lfs_fdatasync(p->lp, fd);
			return 1;
		case LFS_TR_SYNCFS:
			c->got = lfs_sync(r->m);
			return 1;
		case LFS_TR_FTRUNCATE:
			c->got = lfs_ftruncate(p->lp, fd, ev->offset);
			if (c->got == 0)
				shadow_trunc(r, o->ino, (uint64_t)ev->offset);
			return 1;
		case LFS_TR_FALLOCATE:
			c->got = lfs_fallocate(p->lp, fd, (int)ev->mode, ev->offset, (off_t)ev->count);
			if (c->got == 0 && (ev->mode & (RP_FALLOC_PUNCH | RP_FALLOC_ZERO)) && r->o->verify) {
				struct shadow *s = sh_get(&r->sh, o->ino);
				if (s)
					sh_cut(s, (uint64_t)ev->offset, ev->count);
			}
			return 1;
		case LFS_TR_DUP: {
			if (ev->ret < 0) {
				int got = lfs_dup(p->lp, fd);
				if (got >= 0)
					lfs_close(p->lp, got);
				c->got = got;
				return 1;
			}
			int nfd = (int)ev->ret;
			if (fd_get(p, nfd))
				fd_drop(p, nfd);
			c->got = lfs_dup2(p->lp, fd, nfd);
			if (c->got >= 0)
				fd_install(p, nfd, o, 0);
			return 1;
		}
		case LFS_TR_FCNTL:
			if (ev->cmd == RP_F_DUPFD || ev->cmd == RP_F_DUPFD_CLOEXEC) {
				if (ev->ret < 0) {
					c->got = ev->ret;   /* nothing to reproduce (EMFILE/EINVAL) */
					return 1;
				}
				int nfd = (int)ev->ret;
				if (fd_get(p, nfd))
					fd_drop(p, nfd);
				c->got = lfs_dup2(p->lp, fd, nfd);
				if (c->got >= 0)
					fd_install(p, nfd, o, ev->cmd == RP_F_DUPFD_CLOEXEC);
				return 1;
			}
			if (ev->cmd == RP_F_SETFL) {
				c->got = lfs_fcntl_setfl(p->lp, fd, (int)ev->flags);
				if (c->got >= 0)
					o->append = !!(ev->flags & O_APPEND);
				if (c->got > 0)
					c->got = 0;
				return 1;
			}
			if (ev->cmd == RP_F_SETFD) {
				struct fdent *e = fd_slot(p, fd, 0);
				if (e)
					e->cloexec = ev->arg & 1;
				c->got = ev->ret;
				return 1;
			}
			c->got = ev->ret;           /* F_GETFL, F_GETFD, locks: no engine effect */
			return 1;
		case LFS_TR_FCHDIR:
			c->got = lfs_fchdir(p->lp, fd);
			return 1;
		}
		return 0;
	}

	switch (ev->sys) {
	case LFS_TR_CLOSE_RANGE: {
		if (!(p = proc_find(r, ev->pid, 0)) || !p->lp)
			return 0;
		int any = 0;
		int last = ev->fd2 < p->nfd - 1 ? ev->fd2 : p->nfd - 1;
		for (int i = ev->fd < 0 ? 0 : ev->fd; i <= last; i++) {
			if (!p->fd[i].o)
				continue;
			any = 1;
			if (ev->flags & CLOSE_RANGE_CLOEXEC) {
				p->fd[i].cloexec = 1;
			} else {
				lfs_close(p->lp, i);
				fd_drop(p, i);
			}
		}
		if (!any)
			return 0;
		c->got = ev->ret;
		snprintf(c->what, sizeof c->what, "%d..%d", ev->fd, ev->fd2);
		return 1;
	}
	case LFS_TR_DUP2: case LFS_TR_DUP3: {
		if (!(p = proc_find(r, ev->pid, 0)) || !p->lp)
			return 0;
		o = fd_get(p, fd);
		int nfd = ev->fd2;
		if (!o) {
			/* an out-of-scope fd replaces an in-scope one: close it */
			if (ev->ret >= 0 && fd_get(p, nfd)) {
				lfs_close(p->lp, nfd);
				fd_drop(p, nfd);
			}
			return 0;
		}
		snprintf(c->what, sizeof c->what, "%d<%s> → %d", fd, o->path ? o->path : "?", nfd);
		if (ev->ret < 0) {
			c->got = ev->ret;
			return 1;
		}
		if (nfd == fd) {
			c->got = nfd;
			return 1;
		}
		if (fd_get(p, nfd))
			fd_drop(p, nfd);
		c->got = lfs_dup2(p->lp, fd, nfd);
		if (c->got >= 0)
			fd_install(p, nfd, o, (ev->flags & O_CLOEXEC) != 0);
		return 1;
	}
	case LFS_TR_SYNC:
		if (!pid_in_scope(r, ev->pid))
			return 0;
		c->got = lfs_sync(r->m);
		return 1;
	case LFS_TR_TRUNCATE: {
		if (!(p1 = map_path(r, ev->path_abs, a, sizeof a)) || !(p = proc_of(r, ev->pid)))
			return 0;
		what_str(c, p1);
		c->got = lfs_truncate(p->lp, p1, ev->offset);
		if (c->got == 0 && r->o->verify) {
			struct lfs_stat st;
			if (lfs_stat(p->lp, p1, &st) == 0)
				shadow_trunc(r, st.ino, (uint64_t)ev->offset);
		}
		return 1;
	}
	case LFS_TR_UNLINK: case LFS_TR_UNLINKAT: case LFS_TR_RMDIR:
		if (!(p1 = map_path(r, ev->path_abs, a, sizeof a)) || !(p = proc_of(r, ev->pid)))
			return 0;
		what_str(c, p1);
		if (ev->sys == LFS_TR_RMDIR || (ev->flags & AT_REMOVEDIR))
			c->got = lfs_rmdir(p->lp, p1);
		else
			c->got = lfs_unlink(p->lp, p1);
		return 1;
	case LFS_TR_MKDIR: case LFS_TR_MKDIRAT:
		if (!(p1 = map_path(r, ev->path_abs, a, sizeof a)) || !(p = proc_of(r, ev->pid)))
			return 0;
		what_str(c, p1);
		c->got = lfs_mkdir(p->lp, p1, ev->mode ? ev->mode : 0755);
		return 1;
	case LFS_TR_RENAME: case LFS_TR_RENAMEAT: case LFS_TR_RENAMEAT2:
	case LFS_TR_LINK: case LFS_TR_LINKAT:
		p1 = map_path(r, ev->path_abs, a, sizeof a);
		p2 = map_path(r, ev->path2_abs, b, sizeof b);
		if (!p1 || !p2 || !(p = proc_of(r, ev->pid)))
			return 0;
		snprintf(c->what, sizeof c->what, "%.70s → %.70s", p1, p2);
		if (ev->sys == LFS_TR_LINK || ev->sys == LFS_TR_LINKAT)
			c->got = lfs_link(p->lp, p1, p2);
		else
			c->got = lfs_rename(p->lp, p1, p2, (unsigned)(ev->flags & 3));
		return 1;
	case LFS_TR_SYMLINK: case LFS_TR_SYMLINKAT:
		if (!ev->path || !(p2 = map_path(r, ev->path2_abs, b, sizeof b)) ||
		    !(p = proc_of(r, ev->pid)))
			return 0;
		snprintf(c->what, sizeof c->what, "%.70s → %.70s", p2, ev->path);
		c->got = lfs_symlink(p->lp, ev->path, p2);
		return 1;
	case LFS_TR_CHDIR:
		if (!(p1 = map_path(r, ev->path_abs, a, sizeof a)) || !(p = proc_of(r, ev->pid)))
			return 0;
		what_str(c, p1);
		c->got = lfs_chdir(p->lp, p1);
		return 1;
	case LFS_TR_SENDFILE: case LFS_TR_COPY_FILE_RANGE: case LFS_TR_SPLICE: {
		if (!(p = proc_find(r, ev->pid, 0)) || !p->lp)
			return 0;
		struct ofd *in = fd_get(p, ev->fd), *out = fd_get(p, ev->fd2);
		if (!in && !out)
			return 0;
		uint64_t n = ev->ret >= 0 ? (uint64_t)ev->ret : 0;
		if (n > RP_MAX_IO)
			n = RP_MAX_IO;
		if (ensure_buf(r, n ? n : 1))
			return 0;
		snprintf(c->what, sizeof c->what, "%d → %d", ev->fd, ev->fd2);
		ssize_t got = (ssize_t)n;
		if (in) {
			got = ev->offset >= 0 ? lfs_pread(p->lp, ev->fd, r->buf, n, ev->offset)
					      : lfs_read(p->lp, ev->fd, r->buf, n);
			if (got > 0)
				r->res->app_read += (uint64_t)got;
		} else {
			memset(r->buf, 'x', n);
		}
		if (out && got > 0) {
			off_t off = ev->offset2 >= 0 ? ev->offset2 : cur_pos(p, ev->fd2, out);
			ssize_t w = ev->offset2 >= 0 ? lfs_pwrite(p->lp, ev->fd2, r->buf, (size_t)got, ev->offset2)
						     : lfs_write(p->lp, ev->fd2, r->buf, (size_t)got);
			if (w > 0) {
				r->res->app_written += (uint64_t)w;
				if (off >= 0)
					shadow_write(r, out, (uint64_t)off, (uint64_t)w, EX_UNKNOWN, NULL);
			}
			got = w;
		}
		c->got = got;
		c->bytes = got > 0 ? (uint64_t)got : 0;
		return 1;
	}
	case LFS_TR_MMAP: case LFS_TR_MUNMAP:
		p = proc_find(r, ev->pid, 0);
		if (ev->sys == LFS_TR_MMAP && (!p || !fd_get(p, fd)))
			return 0;
		return -1;
	default:
		return 0;
	}
}

/* Process lifecycle events; returns 1 if the event was one. */
static int do_proc_event(struct rp *r, const struct lfs_trace_event *ev)
{
	switch (ev->sys) {
	case LFS_TR_PROC_FORK:
		if (!(ev->eflags & LFS_TREV_THREAD) && pid_in_scope(r, ev->pid))
			proc_fork(r, ev->pid, ev->child_pid);
		return 1;
	case LFS_TR_FORK: case LFS_TR_VFORK: case LFS_TR_CLONE: case LFS_TR_CLONE3:
		if (ev->ret > 0 && !(ev->flags & CLONE_THREAD) && pid_in_scope(r, ev->pid))
			proc_fork(r, ev->pid, (int32_t)ev->ret);
		return 1;
	case LFS_TR_PROC_EXEC: case LFS_TR_EXECVE: case LFS_TR_EXECVEAT:
		if (ev->sys == LFS_TR_PROC_EXEC || ev->ret == 0) {
			struct proc *p = proc_find(r, ev->pid, 0);
			if (p && p->lp)
				proc_exec(p);
		}
		return 1;
	case LFS_TR_PROC_EXIT: case LFS_TR_EXIT_GROUP: {
		if (ev->sys == LFS_TR_PROC_EXIT && !(ev->eflags & LFS_TREV_GROUP))
			return 1;
		struct proc *p = proc_find(r, ev->pid, 0);
		if (p && p->lp) {
			proc_release(p);
			p->dead = 1;
		}
		return 1;
	}
	case LFS_TR_EXIT: case LFS_TR_CWD_SNAP: case LFS_TR_NONE:
		return 1;
	case LFS_TR_LOST:
		return 1;
	default:
		return 0;
	}
}

static void describe(char *out, size_t cap, const struct lfs_trace_event *ev, const struct call *c)
{
	char args[64] = "";
	if (ev->count && ev->offset >= 0)
		snprintf(args, sizeof args, ", %" PRIu64 " bytes at %" PRId64, ev->count, ev->offset);
	else if (ev->count)
		snprintf(args, sizeof args, ", %" PRIu64 " bytes", ev->count);
	else if (ev->offset >= 0)
		snprintf(args, sizeof args, ", %" PRId64, ev->offset);
	if (c->got == ev->ret)
		snprintf(out, cap, "%s(%.100s%.63s) = %" PRId64, lfs_trace_sys_name(ev->sys), c->what, args, c->got);
	else
		snprintf(out, cap, "%s(%.80s%.63s) = %" PRId64 " (trace: %" PRId64 ", MISMATCH)",
			 lfs_trace_sys_name(ev->sys), c->what, args, c->got, ev->ret);
}

/* How Linux would enter the filesystem for this syscall (seed 000's chain). */
static const char *entry_path(unsigned sys)
{
	if (lfs_trace_sys_is_read(sys))
		return "vfs_read → generic_file_read_iter → filemap_read";
	if (lfs_trace_sys_is_write(sys))
		return "vfs_write → generic_file_write_iter → generic_perform_write";
	if (lfs_trace_sys_is_open(sys))
		return "do_sys_open → path_openat → lightfs_lookup / lightfs_create";
	switch (sys) {
	case LFS_TR_CLOSE: case LFS_TR_CLOSE_RANGE: return "close_fd → fput → lightfs_release";
	case LFS_TR_FSYNC: case LFS_TR_FDATASYNC: case LFS_TR_SYNC_FILE_RANGE:
		return "vfs_fsync → lightfs_fsync → writepages → txn commit";
	case LFS_TR_SYNC: case LFS_TR_SYNCFS: return "ksys_sync → sync_filesystem → writeback_inodes";
	case LFS_TR_FTRUNCATE: case LFS_TR_TRUNCATE: return "do_truncate → lightfs_setattr → truncate_pagecache";
	case LFS_TR_FALLOCATE: return "vfs_fallocate → lightfs_fallocate";
	case LFS_TR_UNLINK: case LFS_TR_UNLINKAT: return "do_unlinkat → lightfs_unlink";
	case LFS_TR_RMDIR: return "do_rmdir → lightfs_rmdir";
	case LFS_TR_MKDIR: case LFS_TR_MKDIRAT: return "do_mkdirat → lightfs_mkdir";
	case LFS_TR_RENAME: case LFS_TR_RENAMEAT: case LFS_TR_RENAMEAT2: return "do_renameat2 → lightfs_rename";
	case LFS_TR_LINK: case LFS_TR_LINKAT: return "do_linkat → lightfs_link";
	case LFS_TR_SYMLINK: case LFS_TR_SYMLINKAT: return "do_symlinkat → lightfs_symlink";
	case LFS_TR_LSEEK: return "vfs_llseek → generic_file_llseek";
	case LFS_TR_SENDFILE: case LFS_TR_COPY_FILE_RANGE: case LFS_TR_SPLICE:
		return "do_splice_direct → filemap_read + generic_perform_write";
	default: return "";
	}
}

static void sleep_until(uint64_t t)
{
	uint64_t n = now_ns();
	if (t <= n)
		return;
	uint64_t d = t - n;
	struct timespec ts = { (time_t)(d / 1000000000ull), (long)(d % 1000000000ull) };
	nanosleep(&ts, NULL);
}

static int replay_pass(struct rp *r, const char *path)
{
	struct rp_tread *tr;             /* decoded ahead on a thread (tread.h) */
	struct lfs_trace_event ev;
	struct lfs_replay_result *res = r->res;
	int rc = rp_tread_open(&tr, path, r->err);
	if (rc < 0)
		return rc;
	uint32_t iv = r->o->intervals ? r->o->intervals : 100;
	uint64_t span = r->last_ts > r->first_ts ? r->last_ts - r->first_ts : 0;
	r->sample_step = span / iv ? span / iv : 1;
	r->next_sample_ts = r->first_ts + r->sample_step;
	uint64_t wall0 = now_ns(), u0, s0, th0 = thread_cpu_ns();
	cpu_ns(&u0, &s0);
	double scale = r->o->timing == LFS_TIMING_SCALE && r->o->scale > 0 ? r->o->scale : 1.0;
	take_sample(r, 0);
	r->ev_no = 0;
	while ((rc = rp_tread_next(tr, &ev, r->err)) > 0) {
		uint64_t en = r->ev_no++;
		/* per-CPU capture can deliver slightly out-of-order times: the
		 * engine's clock never goes back */
		if (ev.ts_ns > r->now)
			r->now = ev.ts_ns;
		while (r->now >= r->next_sample_ts && span) {
			take_sample(r, r->next_sample_ts - r->first_ts);
			r->next_sample_ts += r->sample_step;
		}
		if (r->o->timing != LFS_TIMING_FAST)
			sleep_until(wall0 + (uint64_t)((double)(r->now - r->first_ts) / scale));
		if (r->o->progress && (en & 0xffff) == 0 &&
		    r->o->progress(r->o->progress_arg, en, res->trace_events)) {
			rc = lfs_seterr(r->err, LFS_E_CANCELED, "replay canceled");
			break;
		}
		if (do_proc_event(r, &ev))
			continue;
		if (!pid_in_scope(r, ev.pid) || (ev.eflags & LFS_TREV_UNFINISHED)) {
			res->out_of_scope++;   /* (a call that never returned has no result) */
			continue;
		}
		struct call c;           /* (no 176-byte zeroing per event) */
		c.got = 0;
		c.bytes = 0;
		c.what[0] = 0;
		int want_explain = res->nexplain < r->o->explain;
		if (want_explain) {
			struct lfs_replay_explain *x = &res->explain[res->nexplain];
			memset(x, 0, sizeof *x);
			r->cur = x;
		}
		uint64_t t0 = lfs_ticks();
		int did = do_event(r, &ev, &c);
		uint64_t t1 = lfs_ticks();
		r->cur = NULL;
		if (did == 0) {
			res->out_of_scope++;
			if (want_explain) {
				free(res->explain[res->nexplain].ev);
				res->explain[res->nexplain].ev = NULL;
			}
			continue;
		}
		if (did == 2)
			continue;
		if (did < 0) {
			res->unsupported++;
			if (want_explain) {
				free(res->explain[res->nexplain].ev);
				res->explain[res->nexplain].ev = NULL;
			}
			continue;
		}
		note_result(r, &ev, &c, lfs_ticks_ns(t0, t1));
		if (want_explain) {
			struct lfs_replay_explain *x = &res->explain[res->nexplain++];
			x->event = en;
			x->pid = (uint32_t)ev.pid;
			describe(x->call, sizeof x->call, &ev, &c);
			snprintf(x->entry, sizeof x->entry, "%s", entry_path(ev.sys));
			if (res->nexplain == r->o->explain)
				lfs_set_event_hook(r->m, NULL, NULL);
		}
	}
	if (rc == 0 && rp_tread_truncated(tr))
		res->trace_truncated = 1;
	rp_tread_close(tr);
	if (rc < 0)
		return rc;
	/* what the flusher would do after the trace ends: part of the picture */
	int src = lfs_sync(r->m);
	if (src < 0)
		return lfs_seterr(r->err, src, "final sync: %s", lfs_strerror(src));
	take_sample(r, span);
	res->wall_ns = now_ns() - wall0;
	uint64_t u1, s1;
	cpu_ns(&u1, &s1);
	res->cpu_user_ns = u1 - u0;
	res->cpu_sys_ns = s1 - s0;
	res->cpu_replay_thread_ns = thread_cpu_ns() - th0;
	res->events_per_sec = res->wall_ns ? (double)res->trace_events * 1e9 / (double)res->wall_ns : 0;
	return 0;
}

/* ---------------------------------------------------------------- entry */

void lfs_replay_fill_opts(struct lfs_replay_result *res, const struct lfs_replay_opts *o)
{
	const struct lfs_mount_opts *m = &o->mount;
	snprintf(res->opt.image, sizeof res->opt.image, "%s", o->image ? o->image : "");
	res->opt.cache_bytes = m->cache_bytes ? m->cache_bytes : 64ull << 20;
	res->opt.page_size = m->mkfs.page_size ? m->mkfs.page_size : 4096;
	res->opt.readahead_max = m->readahead_max ? m->readahead_max : 128u << 10;
	res->opt.queue_depth = m->queue_depth ? m->queue_depth : 64;
	res->opt.txn_max_pages = m->txn_max_pages ? m->txn_max_pages : 310;
	res->opt.dirty_background_ratio = m->dirty_background_ratio > 0 ? m->dirty_background_ratio : 0.10;
	res->opt.dirty_ratio = m->dirty_ratio > 0 ? m->dirty_ratio : 0.20;
	res->opt.dirty_expire_ns = m->dirty_expire_ns ? m->dirty_expire_ns : 30000000000ull;
	res->opt.writeback_interval_ns = m->writeback_interval_ns ? m->writeback_interval_ns : 5000000000ull;
	res->opt.sched = m->sched;
	res->opt.compress = m->mkfs.compress;
	res->opt.timing = o->timing;
	res->opt.scale = o->timing == LFS_TIMING_SCALE ? o->scale : 1.0;
	res->opt.warm = o->warm;
	res->opt.atomic = o->image && !o->no_atomic;
	res->opt.verify = o->verify;
	snprintf(res->opt.root, sizeof res->opt.root, "%s", o->root ? o->root : "");
	res->opt.pid = o->pid;
}

void lfs_replay_result_free(struct lfs_replay_result *res)
{
	if (!res)
		return;
	free(res->samples);
	for (size_t i = 0; i < res->nexplain; i++)
		free(res->explain[i].ev);
	free(res->explain);
	res->samples = NULL;
	res->explain = NULL;
	res->nsamples = res->nexplain = 0;
}

int lfs_replay_run(const char *path, const struct lfs_replay_opts *o,
		   struct lfs_replay_result *res, struct lfs_err *err)
{
	struct rp r;
	struct ns_map ns = { 0 };
	int rc;

	memset(res, 0, sizeof *res);
	memset(&r, 0, sizeof r);
	r.o = o;
	r.res = res;
	r.err = err;
	lfs_tsc_init();          /* per-syscall latencies: common/tsc.h */
	snprintf(res->trace, sizeof res->trace, "%s", path);
	res->nsys = LFS_REPLAY_MAX_SYS;
	lfs_replay_fill_opts(res, o);
	if (o->root && *o->root) {
		size_t l = strlen(o->root);
		while (l > 1 && o->root[l - 1] == '/')
			l--;
		if (l >= sizeof r.root || o->root[0] != '/')
			return lfs_seterr(err, -EINVAL, "--root must be an absolute path");
		memcpy(r.root, o->root, l);
		r.root[l] = 0;
		r.rootlen = strcmp(r.root, "/") ? l : 0;
	}

	/* header */
	struct lfs_trace_reader *tr;
	rc = lfs_trace_open(&tr, path, err);
	if (rc < 0)
		return rc;
	const struct lfs_trace_header *h = lfs_trace_header(tr);
	{	/* one line: runs of white space become one space */
		size_t k = 0;
		for (const char *q = h->cmdline; *q && k + 1 < sizeof res->command &&
		     q < h->cmdline + sizeof h->cmdline; q++) {
			int sp = *q == ' ' || *q == '\t' || *q == '\n' || *q == '\r';
			if (sp && (k == 0 || res->command[k - 1] == ' '))
				continue;
			res->command[k++] = sp ? ' ' : *q;
		}
		res->command[k] = 0;
	}
	snprintf(res->host, sizeof res->host, "%.63s", h->host);
	res->lost_events = h->lost;
	r.data_trace = !!(h->flags & LFS_TRH_DATA);
	lfs_trace_reader_close(tr);

	rc = prescan(&r, path, &ns);
	if (rc < 0)
		goto out;
	res->duration_ns = r.last_ts > r.first_ts ? r.last_ts - r.first_ts : 0;

	if (o->explain) {
		res->explain = calloc(o->explain, sizeof *res->explain);
		if (!res->explain) {
			rc = lfs_seterr(err, -ENOMEM, "no memory for --explain %u", o->explain);
			goto out;
		}
	}

	struct lfs_mount_opts mo = o->mount;
	mo.clock = rp_clock;
	mo.clock_arg = &r;
	mo.deterministic = 1;    /* no decision depends on the KV server's speed */
	if (o->image) {
		mo.in_memory = 0;
		if (access(o->image, F_OK) != 0) {
			/* formatted under a temporary name and renamed in (as
			 * `lightfs mkfs` does): a replay killed while formatting
			 * leaves no image without a superblock behind */
			size_t tl = strlen(o->image) + 32;
			char *tmp = malloc(tl);
			if (!tmp) {
				rc = lfs_seterr(err, -ENOMEM, "out of memory");
				goto out;
			}
			snprintf(tmp, tl, "%s.mkfs-%d", o->image, (int)getpid());
			unlink(tmp);
			struct lfs_mkfs_opts mk = o->mount.mkfs;
			mk.force = 0;
			rc = lfs_mkfs(tmp, &mk, err);
			if (rc == 0 && rename(tmp, o->image) < 0)
				rc = lfs_seterr(err, -errno, "%s: %s", o->image, strerror(errno));
			if (rc < 0)
				unlink(tmp);
			free(tmp);
			if (rc < 0)
				goto out;
		}
	} else {
		mo.in_memory = 1;
	}
	rc = lfs_mount(o->image ? o->image : "(memory)", &mo, &r.m, err);
	if (rc < 0) {
		if (o->image && err) {   /* the engine's message does not name the file */
			char m[sizeof err->msg];
			snprintf(m, sizeof m, "%s", err->msg);
			err->msg[0] = 0;   /* lfs_seterr keeps the first message */
			lfs_seterr(err, rc, "%s: %s", o->image, m);
		}
		goto out;
	}
	/* Onto an image file the whole replay, set-up included, is one
	 * command-wide transaction (as every writing command): a replay killed
	 * or crashed half-way leaves the image as it was; the commit after the
	 * pass (not timed) is its acknowledgement point.  The traced fsyncs
	 * inside it write their data through to the image file but make
	 * nothing durable on their own (lfs_atomic_begin, lightfs.h); with
	 * --no-atomic (opts.no_atomic) each of them is a durability point. */
	if (res->opt.atomic && (rc = lfs_atomic_begin(r.m)) < 0) {
		lfs_seterr(err, rc, "%s: %s", o->image, lfs_strerror(rc));
		goto umount;
	}
	r.now = r.first_ts;
	rc = setup(&r, &ns);
	ns_free(&ns);
	if (rc < 0)
		goto umount;
	if ((rc = ensure_buf(&r, 1 << 20)) < 0)
		goto umount;
	lfs_mount_stats(r.m, &r.base);
	if (o->explain)
		lfs_set_event_hook(r.m, explain_hook, &r);

	rc = replay_pass(&r, path);
	lfs_set_event_hook(r.m, NULL, NULL);
	if (rc < 0)
		goto umount;

	struct lfs_stats fin;
	lfs_mount_stats(r.m, &fin);
	stats_sub(&res->st, &fin, &r.base);
	if (res->setup_bytes || res->setup_files) {
		/* the engine's peaks include the set-up: use the sampled ones */
		res->st.pc.peak_pages_cached = res->st.pc.peak_pages_dirty = 0;
		for (size_t i = 0; i < res->nsamples; i++) {
			if (res->samples[i].pages_cached > res->st.pc.peak_pages_cached)
				res->st.pc.peak_pages_cached = res->samples[i].pages_cached;
			if (res->samples[i].pages_dirty > res->st.pc.peak_pages_dirty)
				res->st.pc.peak_pages_dirty = res->samples[i].pages_dirty;
		}
	}
	if (res->st.txn.max_pages < r.base.txn.max_pages)
		res->st.txn.max_pages = fin.txn.max_pages;
	res->hit_ratio = res->st.pc.lookups ? (double)res->st.pc.hits / (double)res->st.pc.lookups : 0;
	res->ra_efficiency = res->st.pc.ra_pages ? (double)res->st.pc.ra_used / (double)res->st.pc.ra_pages : 0;
	res->pages_per_txn = res->st.txn.txns ? (double)res->st.txn.pages / (double)res->st.txn.txns : 0;
	/* an in-memory image writes no file: the bytes the KV was given and
	 * returned stand in for the image's (REPORT.md) */
	int inmem = !res->opt.image[0];
	uint64_t wr = inmem ? res->st.kv.bytes_put : res->st.kv.file_bytes_written;
	uint64_t rd = inmem ? res->st.kv.bytes_got : res->st.kv.file_bytes_read;
	res->write_amp = res->app_written ? (double)wr / (double)res->app_written : 0;
	res->read_amp = res->app_read ? (double)rd / (double)res->app_read : 0;
	rc = 0;
	if (res->opt.atomic && lfs_atomic_depth(r.m)) {
		rc = lfs_atomic_commit(r.m);
		if (rc < 0)
			lfs_seterr(err, rc, "%s: commit: %s", o->image, lfs_strerror(rc));
	}

umount:
	for (size_t i = 0; i < r.pcap; i++)
		if (r.pt[i].pid)
			proc_release(&r.pt[i]);
	{
		struct lfs_err e2;
		int urc = lfs_umount(r.m, &e2);
		if (!rc && urc < 0) {
			rc = urc;
			if (err)
				*err = e2;
		}
	}
out:
	ns_free(&ns);
	free(r.pt);
	free(r.scope_pids);
	free(r.buf);
	free(r.tmp);
	sh_free_map(&r.sh);
	if (rc < 0)
		lfs_replay_result_free(res);
	return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- sweep */


struct sweep_job {
	const char *path;
	const struct lfs_replay_opts *o;
	struct lfs_sweep_point *pts;
	size_t n;
	size_t next;
	pthread_mutex_t mu;
};

static void *sweep_worker(void *arg)
{
	struct sweep_job *j = arg;
	for (;;) {
		pthread_mutex_lock(&j->mu);
		size_t i = j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->n)
			return NULL;
		struct lfs_replay_opts o = *j->o;
		o.mount.cache_bytes = j->pts[i].cache_bytes;
		o.explain = 0;
		o.progress = NULL;
		o.image = NULL;             /* each point on its own in-memory image */
		struct lfs_replay_result *res = calloc(1, sizeof *res);
		struct lfs_err e;
		if (!res) {
			j->pts[i].status = -ENOMEM;
			continue;
		}
		int rc = lfs_replay_run(j->path, &o, res, &e);
		struct lfs_sweep_point *p = &j->pts[i];
		p->status = rc;
		if (!rc) {
			p->lookups = res->st.pc.lookups;
			p->misses = res->st.pc.misses;
			p->hit_ratio = res->hit_ratio;
			p->miss_ratio = res->st.pc.lookups ? 1.0 - res->hit_ratio : 0;
			p->readpage = res->st.pc.readpage;
			p->ra_pages = res->st.pc.ra_pages;
			p->kv_gets = res->st.kv.gets;
			p->image_bytes_read = res->st.kv.file_bytes_read;
			p->pages_written = res->st.pc.pages_written;
			p->txns = res->st.txn.txns;
			lfs_replay_result_free(res);
		}
		free(res);
	}
}

int lfs_replay_sweep(const char *path, const struct lfs_replay_opts *o,
		     uint64_t from, uint64_t to, int n, int jobs,
		     struct lfs_sweep_point **ptsp, size_t *npts, struct lfs_err *err)
{
	uint64_t sizes[64];
	size_t cnt = 0;

	*ptsp = NULL;
	*npts = 0;
	if (!from || to < from)
		return lfs_seterr(err, -EINVAL, "sweep range must be A..B with 0 < A <= B");
	if (n > 1) {
		if (n > 64)
			n = 64;
		for (int i = 0; i < n; i++) {
			double v = (double)from * pow((double)to / (double)from, (double)i / (n - 1));
			uint64_t s = ((uint64_t)(v + 2048) / 4096) * 4096;
			if (s < 4096)
				s = 4096;
			if (!cnt || sizes[cnt - 1] != s)
				sizes[cnt++] = s;
		}
	} else {
		for (uint64_t s = from; s <= to && cnt < 63; s *= 2)
			sizes[cnt++] = s;
		if (sizes[cnt - 1] != to)
			sizes[cnt++] = to;
	}
	struct sweep_job j = { .path = path, .o = o, .n = cnt };
	j.pts = calloc(cnt, sizeof *j.pts);
	if (!j.pts)
		return lfs_seterr(err, -ENOMEM, "no memory");
	for (size_t i = 0; i < cnt; i++)
		j.pts[i].cache_bytes = sizes[i];
	pthread_mutex_init(&j.mu, NULL);
	if (jobs <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = c > 0 ? (int)c : 1;
	}
	if ((size_t)jobs > cnt)
		jobs = (int)cnt;
	pthread_t th[64];
	int started = 0;
	for (int i = 0; i < jobs && i < 64; i++)
		if (pthread_create(&th[i], NULL, sweep_worker, &j) == 0)
			started++;
	if (!started)
		sweep_worker(&j);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&j.mu);
	for (size_t i = 0; i < cnt; i++) {
		if (j.pts[i].status) {
			int rc = j.pts[i].status;
			/* a failure of every point is an error; single failures are shown */
			size_t bad = 0;
			for (size_t k = 0; k < cnt; k++)
				bad += j.pts[k].status != 0;
			if (bad == cnt) {
				free(j.pts);
				return lfs_seterr(err, rc, "every replay of the sweep failed: %s",
						  lfs_strerror(rc));
			}
			break;
		}
	}
	*ptsp = j.pts;
	*npts = cnt;
	return 0;
}
