/*
 * tests/unit/test_kv_blocks.c — compressed blocks of lib/kv (zstd images):
 * bit flips inside blocks are corruption errors naming the block, never
 * data; dead-byte accounting of values inside blocks; version-1 images stay
 * readable and are written as version 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <zstd.h>

#include "harness.h"
#include "test_kv_model.h"
#include "kv/kv.h"

static const char *tmpdir(void)
{
	return getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
}

/* Values of key i: compressible text of varying length. */
static size_t val_of(int i, uint8_t *v)
{
	size_t n = 200 + (size_t)(i * 37 % 3000);
	for (size_t x = 0; x < n; x++)
		v[x] = (uint8_t)("the quick brown fox "[(x + (size_t)i) % 20] + (x % 97 == 0 ? i % 7 : 0));
	return n;
}

struct blk { uint64_t off, span; int *keys; int nkeys; };
struct blks { struct blk *b; int n; };

static int blocks_cb(void *arg, const struct lfs_kv_rec *r)
{
	struct blks *bs = arg;
	if (r->kind == LFS_KV_REC_BLOCK) {
		bs->b = realloc(bs->b, (size_t)(bs->n + 1) * sizeof *bs->b);
		bs->b[bs->n++] = (struct blk){ r->offset, r->block_span, NULL, 0 };
	} else if (r->kind == LFS_KV_REC_PUT && r->in_block && bs->n && bs->b[bs->n - 1].off == r->offset) {
		struct blk *b = &bs->b[bs->n - 1];
		int i;
		char k[16];
		memcpy(k, r->key, r->klen < 15 ? r->klen : 15);
		k[r->klen < 15 ? r->klen : 15] = 0;
		if (sscanf(k, "key%d", &i) == 1) {
			b->keys = realloc(b->keys, (size_t)(b->nkeys + 1) * sizeof *b->keys);
			b->keys[b->nkeys++] = i;
		}
	}
	return 0;
}

#define NKEYS 600

/* Build a compacted zstd image of NKEYS keys in blocks of about 16 KiB. */
static void build(const char *path, size_t block_bytes)
{
	struct lfs_kv_opts o = { .mode = LFS_KV_CREATE, .compress = LFS_KV_COMPRESS_ZSTD, .no_auto_compact = 1,
				 .block_bytes = block_bytes };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	unlink(path);
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	struct lfs_kv_batch *b = lfs_kv_batch_new();
	uint8_t v[4096];
	for (int i = 0; i < NKEYS; i++) {
		char k[16];
		int kl = snprintf(k, sizeof k, "key%04d", i);
		CHECK(lfs_kv_batch_put(b, k, (size_t)kl, v, val_of(i, v)) == 0);
		if (lfs_kv_batch_count(b) == 25) {
			CHECK(lfs_kv_commit(kv, b, 0, &e) == 0);
			lfs_kv_batch_clear(b);
		}
	}
	CHECK(lfs_kv_commit(kv, b, 1, &e) == 0);
	lfs_kv_batch_free(b);
	CHECK_MSG(lfs_kv_compact(kv, NULL, NULL, &e) == 0, "compact: %s", e.msg);
	CHECK(lfs_kv_close(kv) == 0);
}

/* A bit flipped anywhere inside a block: every key of that block reads as
 * corruption naming the block's offset, every other key reads right, the
 * verifier reports it. */
TEST(kv_block_bitflip)
{
	uint64_t seed = seed_from_env("kv_block_bitflip");
	uint64_t s = seed | 1;
	char path[256], img[256];
	snprintf(path, sizeof path, "%s/kvblk-%d.img", tmpdir(), (int)getpid());
	snprintf(img, sizeof img, "%s/kvblk2-%d.img", tmpdir(), (int)getpid());
	build(path, 16384);
	struct lfs_kv_opts ro = { .mode = LFS_KV_RDONLY };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	CHECK(lfs_kv_open(path, &ro, &kv, &e) == 0);
	struct blks bs = { 0 };
	CHECK(lfs_kv_walk(kv, blocks_cb, &bs, &e) == 0);
	lfs_kv_close(kv);
	int inblocks = 0;
	for (int i = 0; i < bs.n; i++)
		inblocks += bs.b[i].nkeys;
	printf("# %d blocks holding %d of %d keys\n", bs.n, inblocks, NKEYS);
	CHECK(bs.n >= 10 && inblocks == NKEYS);
	struct stat st;
	CHECK(stat(path, &st) == 0);
	size_t fsize = (size_t)st.st_size;
	uint8_t *orig = malloc(fsize), *copy = malloc(fsize);
	int fd = open(path, O_RDONLY);
	CHECK(pread(fd, orig, fsize, 0) == (ssize_t)fsize);
	close(fd);
	uint8_t v[4096];
	int flips = 0, corrupt = 0;
	for (int t = 0; t < 120; t++) {
		struct blk *b = &bs.b[t_rand(&s) % (uint64_t)bs.n];
		size_t off = (size_t)(b->off + t_rand(&s) % b->span);
		memcpy(copy, orig, fsize);
		copy[off] ^= (uint8_t)(1u << (t_rand(&s) % 8));
		fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);
		CHECK(write(fd, copy, fsize) == (ssize_t)fsize);
		close(fd);
		memset(&e, 0, sizeof e);
		CHECK_MSG(lfs_kv_open(img, &ro, &kv, &e) == 0, "flip at %zu: open: %s", off, e.msg);
		flips++;
		char want[64];
		snprintf(want, sizeof want, "offset %llu", (unsigned long long)b->off);
		for (int i = 0; i < NKEYS; i++) {
			char k[16];
			int kl = snprintf(k, sizeof k, "key%04d", i);
			int mine = 0;
			for (int j = 0; j < b->nkeys; j++)
				mine |= b->keys[j] == i;
			void *got = NULL;
			size_t gl;
			memset(&e, 0, sizeof e);
			int rc = lfs_kv_get(kv, k, (size_t)kl, &got, &gl, &e);
			if (mine) {
				CHECK_MSG(rc == LFS_E_CORRUPT, "flip at %zu: key %d of the damaged block: get returned %d", off, i, rc);
				CHECK_MSG(strstr(e.msg, want) && strstr(e.msg, k), "flip at %zu: message lacks '%s': %s", off, want, e.msg);
				corrupt++;
			} else {
				size_t n = val_of(i, v);
				CHECK_MSG(rc == 0 && gl == n && !memcmp(got, v, n), "flip at %zu: key %d: rc %d %s", off, i, rc, e.msg);
			}
			free(got);
		}
		/* the iterator meets the damage too, as an error */
		struct lfs_kv_iter *it;
		int seen = 0;
		for (it = lfs_kv_iter_new(kv, NULL, 0, NULL, 0); lfs_kv_iter_valid(it); lfs_kv_iter_next(it)) {
			size_t vl;
			const void *val = lfs_kv_iter_value(it, &vl);
			if (!val)
				break;
			seen++;
		}
		CHECK_MSG(lfs_kv_iter_error(it, NULL) == LFS_E_CORRUPT, "flip at %zu: scan read %d values without error", off, seen);
		lfs_kv_iter_free(it);
		CHECK_MSG(lfs_kv_verify(kv, NULL, NULL, &e) > 0, "flip at %zu: verify found nothing", off);
		lfs_kv_close(kv);
	}
	printf("# %d flips inside blocks, %d corrupt reads reported\n", flips, corrupt);
	for (int i = 0; i < bs.n; i++)
		free(bs.b[i].keys);
	free(bs.b);
	free(orig);
	free(copy);
	unlink(path);
	unlink(img);
}

/* Values overwritten or deleted inside blocks become dead bytes: compaction
 * thresholds see them, and compaction gives them back. */
TEST(kv_block_accounting)
{
	char path[256];
	snprintf(path, sizeof path, "%s/kvblka-%d.img", tmpdir(), (int)getpid());
	build(path, 65536);
	struct lfs_kv_opts o = { .mode = LFS_KV_RDWR, .no_auto_compact = 1 };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	struct lfs_kv_stats s0, s1, s2;
	lfs_kv_stats(kv, &s0);
	printf("# compacted: file %llu, live %llu, dead %llu, raw %llu\n", (unsigned long long)s0.file_bytes,
	       (unsigned long long)s0.live_bytes, (unsigned long long)s0.dead_bytes,
	       (unsigned long long)s0.raw_value_bytes);
	CHECK(s0.live_bytes * 3 < s0.raw_value_bytes);       /* blocks compress */
	CHECK(s0.dead_bytes < NKEYS * 32 + 2048);           /* the index and record headers */
	for (int i = 0; i < NKEYS; i += 2) {
		char k[16];
		int kl = snprintf(k, sizeof k, "key%04d", i);
		CHECK(lfs_kv_del(kv, k, (size_t)kl, &e) == 0);
	}
	lfs_kv_stats(kv, &s1);
	printf("# half deleted: live %llu, dead %llu\n", (unsigned long long)s1.live_bytes,
	       (unsigned long long)s1.dead_bytes);
	CHECK(s1.live_bytes > s0.live_bytes * 2 / 5 && s1.live_bytes < s0.live_bytes * 3 / 5);
	CHECK(s1.dead_bytes > s0.live_bytes * 2 / 5);
	uint64_t before, after;
	CHECK(lfs_kv_compact(kv, &before, &after, &e) == 0);
	lfs_kv_stats(kv, &s2);
	printf("# compacted again: %llu -> %llu bytes\n", (unsigned long long)before, (unsigned long long)after);
	CHECK(after < before * 7 / 10);
	CHECK(s2.live_keys == NKEYS / 2 && s2.dead_bytes < NKEYS / 2 * 32 + 2048);
	CHECK(lfs_kv_close(kv) == 0);
	unlink(path);
}

/* tests/fuzz/corpus/kv_open/v1-zstd.img (6016 bytes, made by the version-1
 * engine: kv --create --compress zstd, puts and a delete), zstd -19 */
static const char v1_zst[] =
	"\x28\xb5\x2f\xfd\x64\x80\x16\x8d\x21\x00\x24\x35\x4c\x46\x53\x4b\x56\x49\x4d\x47\x01\x00\x00\x00"
	"\x80\x06\x00\x03\xd8\x16\x04\x00\x80\x17\x12\x61\x16\x0e\x6b\x00\xa7\x53\x77\x95\x00\x05\xe0\x15"
	"\x03\x68\x16\x0f\xb9\xf2\x16\xc2\x48\x56\x52\x01\x32\x01\x00\x10\x00\xec\x67\x1e\xcc\x5a\xad\xe1"
	"\xf8\x01\x01\x05\x00\x1d\x58\x02\x00\x00\xa0\x96\x04\xef\x61\x6c\x70\x68\x61\x28\xb5\x2f\xfd\x60"
	"\x58\x01\x9d\x00\x00\x60\x2d\x76\x61\x6c\x75\x65\x2d\x01\x00\x49\x5e\x95\x24\x03\x00\x01\x60\x8f"
	"\xf7\xf3\xa3\x02\x20\x02\xff\xad\x53\xf1\x87\x30\x87\xc2\x05\x00\x01\x28\x19\x03\xd0\xbe\x2a\x6a"
	"\x0e\x7d\xa6\x6a\x15\x01\x00\x04\x00\x05\x13\xe9\x27\x6c\x62\x65\x74\x61\x73\x68\x6f\x72\x74\x00"
	"\x04\x18\x11\x0f\xf6\x71\x1f\x00\x40\x05\x70\x53\x0e\xa8\xae\x3e\x2f\x67\x04\x00\xf8\x00\x11\x02"
	"\x06\xa8\x11\x7e\x35\xd4\xd2\x5d\x93\xa7\x03\xfc\x01\x00\x00\x44\x04\x00\x00\xa8\x5d\x39\xcb\x67"
	"\x61\x6d\x6d\x44\x03\x95\x0f\x00\x66\x7c\x64\x09\xb0\xeb\x24\x49\x88\x70\xce\x98\x45\x60\x00\x62"
	"\x87\x5d\x9b\x36\xd8\x57\x5b\x5d\x35\xd5\x53\x4b\x1d\x75\x6b\xd6\x50\x1f\x6d\x74\xd1\x44\x0f\x2d"
	"\x74\xd0\xa5\x49\x03\x7d\xb3\xcd\x35\xd3\x3c\xb3\xcc\x31\x77\xe6\x0c\xf3\xc9\x26\x97\x4c\xf2\xc8"
	"\x22\x87\x5c\x99\x32\xc8\x17\x5b\x5c\x31\xc5\x13\x4b\x1c\x71\x63\xc6\x10\x5f\xb7\x5e\x9d\xfa\x74"
	"\xe9\xd1\xdb\xd9\xa1\x1f\x37\x5e\x9c\xf8\x70\xe1\xc1\xcb\xc9\x81\xdf\x76\x4d\xcf\x72\xdc\x19\x1c"
	"\x88\xdf\x70\x1b\x5e\xc3\x69\xf8\x0c\x8f\xe1\x1d\xce\xe1\x30\xfc\x84\x9b\xf0\x12\x4e\xc2\x47\xb8"
	"\x08\xaf\x70\x0a\x07\xe1\x17\xdc\x82\x57\x70\x0a\x3e\xc1\x25\x78\x04\x67\x70\x08\x7e\xe5\x56\x5e"
	"\xe5\x54\x3e\xe5\x52\x1e\xe5\x2d\x87\xf2\x23\x27\x3f\xe0\x06\xbc\x80\x13\xf0\x01\x2e\xc0\x03\x78"
	"\x81\x13\x38\x00\xbf\xdb\xee\xba\xe9\x9e\x5b\xee\xb8\x7b\xf3\x86\xfb\x6c\xb3\xcb\x26\x7b\xec\x4f"
	"\x74\x89\x1e\xd1\x19\x1d\xa2\x5f\x7b\xbb\xb1\x17\x3b\xb1\x0f\xbb\xb0\x07\x7b\xd9\xc9\x0e\xec\x07"
	"\xdd\xa0\x17\x74\x82\x3e\xd0\x05\x7a\x40\x2f\x74\x42\x87\xe3\x76\xbc\x8e\xd3\xf1\x39\x2e\xc7\xe3"
	"\x78\x8f\xf3\x38\x1c\x3f\xe3\x66\x9c\x8c\x8f\x71\x31\x1e\xc6\x6b\x9c\xc6\xc1\xf8\x15\xb7\xe2\x55"
	"\x7c\x8a\x4b\xf1\x28\xde\xe2\x2c\x0e\xc5\x8f\xb8\x11\x2f\xe2\x44\x5c\x88\x07\xf1\x12\x27\x05\x03"
	"\xc4\x77\xbd\xae\xd3\xf5\xb9\x2e\xd7\xe3\x7a\xaf\xf3\x3a\x5c\x3f\xeb\x66\xbd\xac\x93\xf5\xb1\x2e"
	"\xd6\xc3\x7a\xad\xd3\x3a\x58\xbf\xea\x56\xbd\xaa\x4f\x75\xa9\x1e\xd5\x5b\x9d\xd5\xa1\xfa\x51\x37"
	"\xea\x45\x9d\xa8\x0b\xf5\xa0\x5e\xea\xa4\x0e\xd4\x6f\xba\x4d\xaf\xe9\x34\x7d\xa6\xc7\xf4\x4e\xe7"
	"\x74\x98\x7e\xd2\x4d\x7a\x49\x27\xe9\x23\x5d\xa4\x57\x3a\xa5\x83\xf4\x8b\x6e\xd1\x2b\x3a\x45\x03"
	"\x1f\x00\x14\x7d\x11\x11\xa2\x45\x14\xe4\x15\xa1\x01\x55\x84\xc6\x49\x11\xba\x3f\x11\xcf\x4d\x44"
	"\x6c\x13\x01\xda\x44\x40\x36\x11\x80\x4d\x04\xb8\x26\x62\xaa\x89\x03\x6a\xc2\x60\x99\x26\xcc\x70"
	"\x90\x30\x8d\x2c\xc2\x34\x60\x08\xd3\x38\x20\xa6\xe1\xbd\xa6\x51\xbb\xa6\xc1\xb8\xa6\xc7\xd6\x44"
	"\x68\x6d\x83\xd6\x0c\x68\x2d\x7e\xd6\xc0\x67\x0d\x7a\xd6\x00\xcf\xda\x90\xa4\xd3\xae\x29\x07\xe8"
	"\x13\x5a\xbf\x29\xeb\x00\x60\x08\x7b\xf5\x23\x40\xed\x24\x6e\xd7\xd0\x11\x14\x00\x09\x98\x14\x2f"
	"\x10\x94\x20\xb7\x0c\x73\xe7\x02\x54\x51\x4a\x0a\xd8\x14\x6b\x69\x8d\x7f\x0b\xaa\xdf\xdd\xf9\xe1"
	"\x17\x82\xdf\x26\x0c\x68\x15\x6c\xae\x29\xf9\xe6\x46\x4b\xb9\x64\x7a\x66\x86\xe0\x64\x65\x6c\x74"
	"\x20\x64\x45\x00\x00\x10\x64\x64\x01\x00\x3f\x01\x2c\x0d\xb8\x15\xf3\x88\xc3\x3a\x0e\xbe\x25\xea"
	"\x39\xd9\x69\xb1\x84\x90\x15\x19\x0f\x48\xd0\x2d\x9d\xab\x5b\xca\xcb\x91\x31\x09\x78\x61\x67\x61"
	"\x69\x6e\x10\xb0\x16\xa3\x33\x6b\x27\x00\x80\x11\x39\x0a\xec\x7a\xd1\xbb\xb3\x30\x90\x16\x74\xa8"
	"\xc1\x44\x4f\x6c\x22\x53\x50\xa0\x42\x61\xd8\x0e\xe0\x4c\x02\x21\x51\x73\x82\x68\x1c\x15\x2b\x84"
	"\x8c\x88\x12\x89\x84\x32\xf9\x26\x29\x28\x48\x92\xdd\xb0\xf1\x78\x73\xbd\xb3\xd8\x1e\x39\x40\xf4"
	"\x6d\x24\xbc\x81\x37\x93\xcc\x94\xfb\x24\xa1\x81\xee\xd1\x7b\x62\x6d\xae\x3e\x57\x2d\xbd\x30\xfd"
	"\xb4\x22\x67\x63\x0f\xbe\x3a\x51\x3f\x00\x87\xa6\xa3\x9d\x1e\x45\xfb\x96\x7a\x18\xbe\xaa\x5a\xe0"
	"\xdc\x82\x8d\x61\x6f\xb7\x09\xda\x91\x0c\xce\x38\x8f\xf2\x59\xbe\x06\x6d\xd5\xce\x87\x28\xbc\x4f"
	"\x2e\xae\x9f\x92\x81\x8d\x30\xfe\x9e\x46\x58\xc9\xfe\x8a\x69\x75\x1b\x84\x03\x5b\x43\x36\xf0\xa1"
	"\x3f\x44\xff\x5f\x0f\xd2\x1a\xdc\x54\x21\xfa\x9c\xb1\xfb\xa6\x79\xf4\x49\x6b\x4d\x6d\x62\x80\x0c"
	"\x1d\xb2\x60\x0b\x6f\xfe\xc3\x39\x81\x15\x4d\x8c\xb1\x59\xf3\x38\x50\x88\x4a\x39\x13\x67\xb7\x88"
	"\x21\xbf\x69\x07\x5e\xc8\x0d\x4c\x1e\xc0\x0b\xf3\x3d\x2d\xa4\x71\xc0\xe2\xa3\x94\xc9\xd4\x0d\x16"
	"\x20\xa3\x01\x33\x3d\x81\xb0";

/* A version-1 zstd image (values compressed one by one, plain index) made
 * by the previous release: read as it is; a writer marks it version 2. */
TEST(kv_block_v1_image)
{
	char path[256];
	uint8_t buf[16384];
	size_t n = ZSTD_decompress(buf, sizeof buf, v1_zst, sizeof v1_zst - 1);
	CHECK(!ZSTD_isError(n) && n == 6016);
	uint32_t ver;
	memcpy(&ver, buf + 8, 4);
	CHECK_EQ(ver, 1);
	snprintf(path, sizeof path, "%s/kvv1-%d.img", tmpdir(), (int)getpid());
	FILE *out = fopen(path, "wb");
	CHECK(out && fwrite(buf, 1, n, out) == n);
	fclose(out);
	static const char *keys[] = { "alpha", "beta", "delta", "gamma" };
	for (int mode = 0; mode < 2; mode++) {
		struct lfs_kv_opts o = { .mode = mode ? LFS_KV_RDWR : LFS_KV_RDONLY };
		struct lfs_kv *kv;
		struct lfs_err e = { 0 };
		CHECK_MSG(lfs_kv_open(path, &o, &kv, &e) == 0, "open: %s", e.msg);
		struct lfs_kv_stats st;
		lfs_kv_stats(kv, &st);
		CHECK(st.compress == LFS_KV_COMPRESS_ZSTD && st.live_keys == 4);
		for (int i = 0; i < 4; i++) {
			void *v;
			size_t vl;
			CHECK_MSG(lfs_kv_get(kv, keys[i], strlen(keys[i]), &v, &vl, &e) == 0, "get %s: %s", keys[i], e.msg);
			if (i == 0)
				CHECK(vl == 600 && !memcmp(v, "alpha-value-alpha-value-", 24));
			if (i == 1)
				CHECK(vl == 5 && !memcmp(v, "again", 5));
			if (i == 2)
				CHECK(vl == 100 && ((char *)v)[99] == 'd');
			if (i == 3)
				CHECK(vl == 1092 && !memcmp(v, "1 2 3 ", 6));
			free(v);
		}
		if (mode) {
			struct lfs_kv_batch *b = lfs_kv_batch_new();
			CHECK(lfs_kv_batch_put(b, "eps", 3, buf, 3000) == 0);
			CHECK(lfs_kv_batch_put(b, "zeta", 4, buf, 3000) == 0);
			CHECK(lfs_kv_commit(kv, b, 1, &e) == 0);
			lfs_kv_batch_free(b);
		}
		CHECK(lfs_kv_close(kv) == 0);
	}
	int fd = open(path, O_RDONLY);
	uint32_t v0, v1;
	CHECK(pread(fd, &v0, 4, 8) == 4 && pread(fd, &v1, 4, 2048 + 8) == 4);
	close(fd);
	CHECK_MSG(v0 == 2 || v1 == 2, "header versions %u %u after a write", v0, v1);
	struct lfs_kv_opts o = { .mode = LFS_KV_RDONLY };
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	CHECK(lfs_kv_open(path, &o, &kv, &e) == 0);
	void *v;
	size_t vl;
	CHECK(lfs_kv_get(kv, "zeta", 4, &v, &vl, &e) == 0 && vl == 3000 && !memcmp(v, buf, 3000));
	free(v);
	CHECK(lfs_kv_get(kv, "alpha", 5, &v, &vl, &e) == 0 && vl == 600);
	free(v);
	lfs_kv_close(kv);
	unlink(path);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, kv_block_bitflip, kv_block_accounting, kv_block_v1_image);
}
