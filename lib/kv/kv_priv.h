/*
 * lib/kv/kv_priv.h — in-memory state of an open image (kv.c only).
 */
#ifndef LFS_KV_KV_PRIV_H
#define LFS_KV_KV_PRIV_H

#include <stdint.h>
#include <stddef.h>

#include "kv/kv.h"

/* Where a value lives: the offset of its PUT operation (or, in memory mode,
 * a copy of the value in kv->mval). */
struct loc {
	uint64_t off;
	uint32_t slen;     /* stored bytes */
	uint32_t vlen;     /* raw bytes */
	uint8_t  flags;    /* KV_OPF_ZSTD or KV_OPF_BLOCK */
	uint32_t pos;      /* KV_OPF_BLOCK: PUT position in the raw block; slen
	                      is then the value's share of the block's bytes */
};

/* Decompressed BLOCK operations (a small LRU keyed by file offset). */
#define KV_BCACHE_N 64
#define KV_BCACHE_BYTES (64u << 20)   /* decompressed bytes held at most */
struct bcache {
	uint64_t off;      /* file offset of the BLOCK operation, 0 = empty */
	uint8_t *buf;
	size_t   len, cap;
	uint64_t tick;
};

/* Memtable node: a key changed since the last checkpoint. */
struct mnode {
	struct mnode *l, *r, *p;
	uint8_t  red;
	uint8_t  del;      /* tombstone: hides the base entry */
	uint16_t klen;
	struct loc loc;
	uint8_t  key[];
};

struct arena {
	struct arena *next;
	size_t used, cap;
	uint8_t data[];
};

/* The checkpointed sorted index: INDEX payload + offsets of its entries. */
struct base {
	uint8_t *buf;
	size_t   len;
	size_t  *offs;
	struct pfx16 { uint64_t a, b; } *pfx;
	                   /* first 16 key bytes, big-endian, zero-padded: a
	                      cache-friendly first step of the binary search */
	size_t   n;
};

/* Append buffer in front of a file: buf[0] lands at file offset off. */
struct wr {
	int      fd;
	uint8_t *buf;
	size_t   len, cap;
	uint64_t off;
};

struct lfs_kv {
	int fd;
	char *path;
	const struct lfs_kv_file_ops *fops;
	struct lfs_kv_opts opts;
	int rdonly, memory;
	int broken;                /* first write error: the handle refuses writes */
	enum lfs_kv_compress compress;
	int level;
	uint64_t ctime;
	uint64_t gen;              /* header generation in use */
	uint64_t seq;              /* next record sequence number */
	struct base base;
	struct mnode *root;        /* memtable */
	struct mnode *mt_max;      /* its rightmost node (appends in key order skip the descent) */
	struct mnode *mt_finger[256]; /* per first key byte: the node last found or
	                              inserted with it (see mt_upsert) */
	struct mnode *mt_cmax[256];   /* per first key byte: its largest node */
	struct arena *arena;
	size_t mt_bytes, mt_count, memtable_limit;
	double compact_ratio;
	struct wr log;             /* the log tail */
	uint64_t synced_end;       /* log offset known durable */
	uint64_t synced_hint;
	uint64_t file_end;
	int dirty;                 /* written since the last sync */
	size_t base_hint;          /* base index of the last key found (lookup) */
	int ckpt_pending;          /* an INDEX written, its header slot not yet */
	uint64_t ckpt_index_off, ckpt_count, ckpt_replay_off;
	uint64_t version;          /* bumped by every change of the merged view */
	uint64_t live_keys, live_bytes, raw_value_bytes, stored_value_bytes;
	uint8_t *sbuf;             /* read scratch */
	size_t scap;
	uint8_t *cbuf;             /* compression scratch */
	size_t ccap;
	void *cctx, *dctx;         /* ZSTD_CCtx / ZSTD_DCtx */
	struct lfs_kv_stats st;
	struct lfs_memval *mval;   /* memory mode: where the values live (memval.h) */
	struct lfs_prefill *arena_pf; /* memory mode: the memtable's next arena
	                              chunks mapped ahead (arena_alloc) */
	struct bcache bc[KV_BCACHE_N];
	uint64_t bc_tick;
	uint8_t *pbuf;             /* encoded payload scratch (zstd commits, replay) */
	size_t pcap;
	struct blkref { size_t pos; const uint8_t *raw; size_t len; } *br;
	size_t nbr, cbr;           /* BLOCKs of the payload being committed: raw operations */
	uint8_t *rbuf;             /* ... kept here until applied */
	size_t rlen, rcap;
	size_t block_bytes;        /* raw bytes per BLOCK (zstd images) */
	uint8_t *gbuf;             /* raw operations of a group record being packed */
	size_t gcap;
	uint8_t *fbuf;             /* a batch with by-reference values made contiguous
				    * (commits that cannot write it with pwritev) */
	size_t fcap;
	uint64_t moved;            /* bumped when values move (a group record packed) */
	const uint8_t *map;        /* read-only mapping of [0, map_len) (real file I/O only) */
	size_t map_len;
	/* command-wide transaction (group): lfs_kv_group_begin/commit */
	int grp_depth;             /* begin calls not yet matched by a commit */
	uint64_t grp_start;        /* offset of the group's first BATCH (0 = none written yet) */
	uint64_t grp_batches;      /* group BATCH records written */
	int open_rec;              /* a group BATCH is being built in log.buf (unsealed) */
	size_t open_start;         /* its header's index in log.buf */
	uint32_t open_nops;
	uint32_t slot_ver[2];      /* format version of each header slot on disk */
	uint64_t wb_started;       /* log offset up to which writeback was started */
};

#endif
