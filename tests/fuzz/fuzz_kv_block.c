/*
 * tests/fuzz/fuzz_kv_block.c — the BLOCK decoder (lib/kv/kv.c: block_decode,
 * apply_block, block_raw/block_value, walk_block) on arbitrary bytes.
 *
 * Input: byte 0 selects how the rest becomes one BLOCK operation:
 *   bit 0 clear: the rest is a BLOCK operation as stored in the log (16-byte
 *                operation header + zstd frame); bit 1 set: its CRC field is
 *                recomputed first, so mutations reach the zstd frame and the
 *                packed operations instead of stopping at the CRC;
 *   bit 0 set:   the rest is the block's raw operations; the harness
 *                compresses them into a valid frame (with content checksum)
 *                and a valid header, so mutations reach the operation parser.
 * bit 2 set: a plain PUT ("zz") follows the BLOCK in the same BATCH.
 * The BLOCK goes into one BATCH record (valid record CRCs) appended to a
 * fresh empty zstd image; the image is opened read-only (replay), every key
 * read back (get: block cache, position/key checks), every record walked
 * (verify: walk_block), then opened read-write and compacted (values out of
 * blocks into new blocks).  Nothing may crash, leak or trip UBSan; a bad
 * block must be refused as corruption.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "common/crc32c.h"
#include "kv/kv.h"
#include "kv/kv_int.h"
#include "fuzz_kv.h"


static uint8_t *empty;      /* bytes of a fresh empty zstd image */
static size_t empty_len;
static uint64_t empty_seq;
static char path[64];

static void make_empty(void)
{
	snprintf(path, sizeof path, "/tmp/fuzz_kv_block_%d.img", (int)getpid());
	unlink(path);
	struct lfs_kv_opts o = { .mode = LFS_KV_CREATE, .compress = LFS_KV_COMPRESS_ZSTD, .no_lock = 1,
				 .no_auto_compact = 1, .fops = &nosync };
	struct lfs_kv *kv;
	if (lfs_kv_open(path, &o, &kv, NULL) || lfs_kv_close(kv))
		abort();
	FILE *f = fopen(path, "rb");
	if (!f)
		abort();
	fseek(f, 0, SEEK_END);
	empty_len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	empty = malloc(empty_len);
	if (!empty || fread(empty, 1, empty_len, f) != empty_len)
		abort();
	fclose(f);
	/* the next sequence number: the larger generation's valid slot */
	struct kv_slot s[2];
	memcpy(s, empty, sizeof s);
	int i = s[1].gen > s[0].gen;
	empty_seq = s[i].next_seq;
}

static int walk_cb(void *arg, const struct lfs_kv_rec *r)
{
	size_t *n = arg;
	/* touch what the walk hands out, as kv dump does */
	for (size_t i = 0; r->key && i < r->klen; i++)
		*n += ((const uint8_t *)r->key)[i];
	for (size_t i = 0; r->val && i < r->vlen; i++)
		*n += ((const uint8_t *)r->val)[i];
	return 0;
}

static void exercise(int mode)
{
	struct lfs_kv_opts o = { .mode = mode ? LFS_KV_RDWR : LFS_KV_RDONLY, .no_lock = 1,
				 .no_auto_compact = 1, .fops = mode ? &nosync : NULL };
	struct lfs_kv *kv;
	if (lfs_kv_open(path, &o, &kv, NULL))
		return;
	fuzz_kv_read_all(kv);
	size_t sum = 0;
	lfs_kv_walk(kv, walk_cb, &sum, NULL);
	lfs_kv_verify(kv, NULL, NULL, NULL);
	if (mode)
		lfs_kv_compact(kv, NULL, NULL, NULL);
	lfs_kv_close(kv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!empty)
		make_empty();
	if (size < 1 || size > (1u << 20))
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	uint8_t *op = NULL;
	size_t oplen;
	if (sel & 1) {
		if (!size)
			return 0;
		size_t bound = ZSTD_compressBound(size);
		op = malloc(sizeof(struct kv_ophdr) + bound);
		ZSTD_CCtx *c = ZSTD_createCCtx();
		if (!op || !c)
			abort();
		ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
		size_t cl = ZSTD_compress2(c, op + sizeof(struct kv_ophdr), bound, data, size);
		ZSTD_freeCCtx(c);
		if (ZSTD_isError(cl))
			abort();
		struct kv_ophdr h = { KV_OP_BLOCK, 0, 0, (uint32_t)cl, (uint32_t)size, 0 };
		memcpy(op, &h, sizeof h);
		h.crc = lfs_crc32c(lfs_crc32c(0, op, offsetof(struct kv_ophdr, crc)), op + sizeof h, cl);
		memcpy(op, &h, sizeof h);
		oplen = sizeof h + cl;
	} else {
		op = malloc(size ? size : 1);
		if (!op)
			abort();
		memcpy(op, data, size);
		oplen = size;
		if ((sel & 2) && size >= sizeof(struct kv_ophdr)) {
			struct kv_ophdr h;
			memcpy(&h, op, sizeof h);
			size_t fl = h.slen <= size - sizeof h ? h.slen : size - sizeof h;
			h.crc = lfs_crc32c(lfs_crc32c(0, op, offsetof(struct kv_ophdr, crc)), op + sizeof h, fl);
			memcpy(op, &h, sizeof h);
		}
	}
	/* the BATCH payload: the BLOCK, then maybe a plain PUT */
	static const uint8_t tail_kv[] = "zzv";
	size_t tail = (sel & 4) ? sizeof(struct kv_ophdr) + 3 : 0;
	size_t plen = oplen + tail;
	struct kv_rhdr rh = { KV_REC_MAGIC, KV_REC_BATCH, 0, 0, (uint32_t)plen, (sel & 4) ? 2 : 1,
			      empty_seq, 0, 0, 0 };
	size_t at = (empty_len + KV_REC_ALIGN - 1) & ~(size_t)(KV_REC_ALIGN - 1);
	size_t total = at + sizeof rh + plen;
	uint8_t *img = calloc(1, total);
	if (!img)
		abort();
	memcpy(img, empty, empty_len);
	uint8_t *pay = img + at + sizeof rh;
	memcpy(pay, op, oplen);
	free(op);
	if (tail) {
		struct kv_ophdr p = { KV_OP_PUT, 0, 2, 1, 1, 0 };
		memcpy(pay + oplen, &p, sizeof p);
		memcpy(pay + oplen + sizeof p, tail_kv, 3);
		p.crc = lfs_crc32c(lfs_crc32c(0, &p, offsetof(struct kv_ophdr, crc)), tail_kv, 3);
		memcpy(pay + oplen, &p, sizeof p);
	}
	rh.pcrc = lfs_crc32c(0, pay, plen);
	rh.hcrc = lfs_crc32c(0, &rh, offsetof(struct kv_rhdr, hcrc));
	memcpy(img + at, &rh, sizeof rh);

	for (int mode = 0; mode < 2; mode++) {
		FILE *f = fopen(path, "wb");
		if (!f)
			abort();
		fwrite(img, 1, total, f);
		fclose(f);
		exercise(mode);
	}
	free(img);
	unlink(path);
	return 0;
}
