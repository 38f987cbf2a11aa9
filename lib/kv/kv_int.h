/*
 * lib/kv/kv_int.h — on-disk layout and internal structures of the KV engine.
 * FORMAT.md documents the same layout as OFFSET / SIZE / DESCRIPTION tables.
 * All integers are little-endian (the engine refuses big-endian hosts).
 */
#ifndef LFS_KV_KV_INT_H
#define LFS_KV_KV_INT_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lightfs kv: the on-disk format is little-endian; port the accessors"
#endif

#define KV_MAGIC        "LFSKVIMG"   /* 8 bytes at the start of each header slot */
#define KV_VERSION      2u           /* written; 1 is still read (no groups) */
#define KV_VERSION_MIN  1u
#define KV_SLOT0        0u           /* header slot offsets */
#define KV_SLOT1        2048u
#define KV_SLOT_SIZE    128u
#define KV_LOG_START    4096u        /* first record */
#define KV_REC_MAGIC    0x5256484cu  /* "LHVR" little-endian */
#define KV_REC_ALIGN    8u

enum { KV_REC_BATCH = 1, KV_REC_INDEX = 2, KV_REC_SYNC = 3, KV_REC_COMMIT = 4 };
/* Record header flags: a BATCH of an open group (applied at its COMMIT);
 * an INDEX whose payload is compressed. */
enum { KV_RF_GROUP = 1, KV_RF_ZSTD = 2 };
enum { KV_OP_PUT = 1, KV_OP_DEL = 2, KV_OP_DELRANGE = 3, KV_OP_BLOCK = 4 };
/* KV_OPF_BLOCK is never on an operation: it marks an index entry (and an
 * in-memory location) whose value lies inside the BLOCK operation at off,
 * at position pos of its decompressed operations. */
enum { KV_OPF_ZSTD = 1, KV_OPF_HASHI = 2, KV_OPF_BLOCK = 4 };

/* A BLOCK operation decompresses to at most this many bytes (readers refuse
 * more; writers stay far below). */
#define KV_BLOCK_MAX_RAW (8u << 20)

/* Header slot (128 bytes; two copies, the valid one with the larger gen wins). */
struct kv_slot {
	char     magic[8];      /* "LFSKVIMG" */
	uint32_t version;       /* KV_VERSION */
	uint32_t slot_size;     /* 128 */
	uint64_t gen;           /* incremented by every header write */
	uint32_t compress;      /* enum lfs_kv_compress */
	int32_t  level;         /* zstd level */
	uint64_t index_off;     /* offset of the INDEX record (0 = none) */
	uint64_t index_count;   /* entries in it */
	uint64_t replay_off;    /* first record not covered by the index */
	uint64_t next_seq;      /* sequence number of the next record */
	uint64_t ctime;         /* creation time (seconds since the epoch) */
	uint8_t  rsv[52];
	uint32_t crc;           /* CRC32C of bytes 0..123 */
};

/* Record header (40 bytes), records start 8-byte aligned. */
struct kv_rhdr {
	uint32_t magic;         /* KV_REC_MAGIC */
	uint8_t  type;          /* KV_REC_BATCH / INDEX / SYNC / COMMIT */
	uint8_t  flags;         /* KV_RF_GROUP (BATCH), KV_RF_ZSTD (INDEX) */
	uint16_t rsv;
	uint32_t len;           /* payload bytes after this header */
	uint32_t nops;          /* operations (BATCH) or entries (INDEX) */
	uint64_t seq;           /* record sequence number */
	uint64_t synced;        /* file offset known durable when written */
	uint32_t pcrc;          /* CRC32C of the payload */
	uint32_t hcrc;          /* CRC32C of bytes 0..35 of this header */
};

/* Operation header inside a BATCH payload (16 bytes), then key, then value. */
struct kv_ophdr {
	uint8_t  type;          /* KV_OP_* */
	uint8_t  flags;         /* KV_OPF_ZSTD: value is a zstd frame; KV_OPF_HASHI: DELRANGE has hi */
	                        /* KV_OP_BLOCK: klen 0, slen frame bytes, vlen raw bytes */
	uint16_t klen;
	uint32_t slen;          /* stored value bytes */
	uint32_t vlen;          /* raw value bytes */
	uint32_t crc;           /* CRC32C of bytes 0..11, key, stored value */
};

/* INDEX entry (24 bytes + key). */
struct kv_ient {
	uint16_t klen;
	uint8_t  flags;         /* KV_OPF_ZSTD or KV_OPF_BLOCK */
	uint8_t  rsv;
	uint32_t slen;          /* stored bytes (KV_OPF_BLOCK: the value's share of the block) */
	uint32_t vlen;
	uint32_t pos;           /* KV_OPF_BLOCK: offset of the PUT inside the block's raw operations */
	uint64_t off;           /* offset of the PUT (KV_OPF_BLOCK: BLOCK) operation header */
};

_Static_assert(sizeof(struct kv_slot) == KV_SLOT_SIZE, "slot size");
_Static_assert(sizeof(struct kv_rhdr) == 40, "record header size");
_Static_assert(sizeof(struct kv_ophdr) == 16, "op header size");
_Static_assert(sizeof(struct kv_ient) == 24, "index entry size");

#endif
