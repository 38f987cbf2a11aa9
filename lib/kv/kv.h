/*
 * lib/kv/kv.h — the KV engine: the bottom of the lightfs pipeline.
 *
 *   vfs → pagecache → fs → txn → io → [kv] → image file
 *
 * A sorted map of byte-string keys to byte-string values, kept in one image
 * file (or only in memory).  Writes go to a red-black-tree memtable (as
 * LightFS's rbtreekv) and to a checksummed log in the image; a persisted
 * sorted index means opening never replays all history.  See FORMAT.md in
 * this folder for the on-disk layout.
 *
 * Invariants every caller may rely on:
 *  - A batch is atomic: after any crash, either all of it or none of it is
 *    visible; so is a group of batches (lfs_kv_group_begin/commit).  A batch committed with sync (or followed by lfs_kv_sync()
 *    returning 0) survives a crash.
 *  - Corrupted bytes are never returned as data: a read that meets a bad
 *    checksum returns LFS_E_CORRUPT and names the key or offset in err.
 *  - One writer or many readers per image (flock).  A second writer fails
 *    at once with LFS_E_LOCKED and "image is in use by pid N".
 *  - A handle may be used by one thread at a time (the io layer's server
 *    thread owns it while the engine is mounted).
 */
#ifndef LFS_KV_KV_H
#define LFS_KV_KV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

#define LFS_KV_MAX_KEY   1024u            /* bytes */
#define LFS_KV_MAX_VALUE (16u << 20)      /* bytes */

struct lfs_kv;
struct lfs_kv_batch;
struct lfs_kv_iter;

enum lfs_kv_mode {
	LFS_KV_RDONLY = 0,   /* shared lock, no writes */
	LFS_KV_RDWR   = 1,   /* exclusive lock; the image must exist */
	LFS_KV_CREATE = 2,   /* exclusive lock; create the image if missing */
	LFS_KV_MEMORY = 3,   /* no file at all: path is ignored (replay default) */
};

enum lfs_kv_compress { LFS_KV_COMPRESS_NONE = 0, LFS_KV_COMPRESS_ZSTD = 1 };

/*
 * Fault-injection seam under every file operation of the engine (tests set
 * it to cut, drop or tear writes; NULL means the real syscalls).  Each
 * returns what the syscall would (>= 0) or -errno.
 */
struct lfs_kv_file_ops {
	ssize_t (*pread)(void *ctx, int fd, void *buf, size_t n, off_t off);
	ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t n, off_t off);
	int     (*fsync)(void *ctx, int fd);
	int     (*ftruncate)(void *ctx, int fd, off_t len);
	void    *ctx;
};

struct lfs_kv_opts {
	enum lfs_kv_mode mode;
	enum lfs_kv_compress compress; /* used when the image is created */
	int    level;                  /* zstd level (0 = default 3) */
	int    no_lock;                /* skip flock (tests only) */
	int    no_auto_compact;        /* do not compact past the garbage ratio */
	double auto_compact_ratio;     /* dead/total past which compaction runs (0 = 0.5) */
	size_t memtable_bytes;         /* flush threshold for the memtable (0 = default) */
	size_t block_bytes;            /* zstd images: raw bytes per compressed block
	                                  (0 = default 4 MiB; 4 KiB .. 4 MiB) */
	const struct lfs_kv_file_ops *fops; /* NULL = real file I/O */
};

struct lfs_kv_stats {
	/* operation counters since open */
	uint64_t gets, get_misses, puts, dels, range_dels, scans, scan_items;
	uint64_t batches, syncs, compactions;
	uint64_t bytes_put;            /* key+value bytes handed to put */
	uint64_t bytes_got;            /* value bytes returned by get/iter */
	uint64_t file_bytes_written;   /* bytes written to the image file */
	uint64_t file_bytes_read;      /* bytes read from the image file */
	/* current state */
	uint64_t live_keys;            /* number of keys */
	uint64_t live_bytes;           /* bytes in the file still referenced */
	uint64_t dead_bytes;           /* bytes in the file no longer referenced */
	uint64_t file_bytes;           /* image file size */
	uint64_t raw_value_bytes;      /* uncompressed size of live values */
	uint64_t stored_value_bytes;   /* stored (maybe compressed) size of live values */
	uint64_t memtable_bytes;       /* memory held by the memtable */
	enum lfs_kv_compress compress;
	int      level;
};

/* Open (or create) an image.  On failure *out is NULL and err says why:
 * LFS_E_BADMAGIC, LFS_E_VERSION, LFS_E_CORRUPT, LFS_E_LOCKED, -errno. */
int lfs_kv_open(const char *path, const struct lfs_kv_opts *opts,
		struct lfs_kv **out, struct lfs_err *err);
/* Flush and close.  Unsynced writes are synced first (close implies sync). */
int lfs_kv_close(struct lfs_kv *kv);

/* Point operations.  get returns 0 and a malloc'd copy in *val (caller
 * frees), -ENOENT if absent.  get_into copies at most cap bytes into buf and
 * sets *len to the full value length. */
int lfs_kv_get(struct lfs_kv *kv, const void *key, size_t klen,
	       void **val, size_t *vlen, struct lfs_err *err);
int lfs_kv_get_into(struct lfs_kv *kv, const void *key, size_t klen,
		    void *buf, size_t cap, size_t *vlen, struct lfs_err *err);
/* Multi-get (readahead): vals[i] receives at most cap bytes, vlens[i] the
 * value length or -ENOENT / a negative error.  Values stored one after the
 * other in the file (a file written in order) are read with one preadv
 * straight into vals.  Returns 0 or the first error other than -ENOENT. */
int lfs_kv_mget_into(struct lfs_kv *kv, size_t n, const void *const *keys, const size_t *klens,
		     void *const *vals, size_t cap, ssize_t *vlens, struct lfs_err *err);
int lfs_kv_put(struct lfs_kv *kv, const void *key, size_t klen,
	       const void *val, size_t vlen, struct lfs_err *err);
int lfs_kv_del(struct lfs_kv *kv, const void *key, size_t klen, struct lfs_err *err);
/* Delete every key k with lo <= k < hi (hi NULL = no upper bound). */
int lfs_kv_del_range(struct lfs_kv *kv, const void *lo, size_t lolen,
		     const void *hi, size_t hilen, struct lfs_err *err);

/* Atomic batches: collect puts/dels/range-dels, then commit as one record.
 * Operations apply in order (a put after a del of the same key wins). */
struct lfs_kv_batch *lfs_kv_batch_new(void);
int  lfs_kv_batch_put(struct lfs_kv_batch *b, const void *key, size_t klen,
		      const void *val, size_t vlen);
/* A put whose value the batch does not copy: the commit reads it where it
 * is, on the committing thread (a large batch for an uncompressed image
 * file is written with pwritev straight from it, checksummed in place;
 * otherwise it is copied and checksummed in one pass).  val must stay
 * unchanged until the batch is committed or cleared (a page in writeback). */
int  lfs_kv_batch_put_ref(struct lfs_kv_batch *b, const void *key, size_t klen, const void *val,
			  size_t vlen);
/* The same with the value's CRC32C (lfs_crc32c(0, val, vlen)) known to the
 * caller (a page checksummed while it was written): the commit need not
 * read the value to checksum it. */
int  lfs_kv_batch_put_ref_crc(struct lfs_kv_batch *b, const void *key, size_t klen,
			      const void *val, size_t vlen, uint32_t vcrc);
int  lfs_kv_batch_del(struct lfs_kv_batch *b, const void *key, size_t klen);
int  lfs_kv_batch_del_range(struct lfs_kv_batch *b, const void *lo, size_t lolen,
			    const void *hi, size_t hilen);
size_t lfs_kv_batch_count(const struct lfs_kv_batch *b);
size_t lfs_kv_batch_bytes(const struct lfs_kv_batch *b);
void lfs_kv_batch_clear(struct lfs_kv_batch *b);
void lfs_kv_batch_free(struct lfs_kv_batch *b);
/* Commit atomically; with sync != 0 the batch is durable when this returns 0. */
int  lfs_kv_commit(struct lfs_kv *kv, struct lfs_kv_batch *b, int sync, struct lfs_err *err);

/* Make every committed write durable.  Inside a group it only writes the
 * group's batches to the file (no fsync): they count only once the group
 * commits, and the commit's sync makes them durable. */
int lfs_kv_sync(struct lfs_kv *kv, struct lfs_err *err);

/*
 * Groups (command-wide transactions): every batch committed between
 * group_begin and the matching group_commit becomes visible to this handle
 * at once, but after a crash either the whole group is in the image or none
 * of it (recovery applies a group's batches only when its COMMIT record is
 * in the log; an unterminated group at the end is cut off by the next
 * writer, ignored by readers).  Begin/commit nest; only the outermost commit
 * writes the COMMIT record; with sync it is durable on return (the
 * acknowledgement point).  Inside a group small batches are coalesced into
 * larger log records, repeated puts of a key of the same stored size are
 * overwritten in place, and checkpoints and automatic compaction wait for
 * the commit — so the memtable grows by about 64 bytes + key length for
 * every key the group changes (about 20 MB for a 1 GiB file of 4 KiB
 * pages); explicit compaction is refused (-EBUSY) while the group holds
 * writes.  lfs_kv_close inside a group commits it.  A failed write leaves
 * the handle broken as always; the group then never commits.
 */
int lfs_kv_group_begin(struct lfs_kv *kv, struct lfs_err *err);
int lfs_kv_group_commit(struct lfs_kv *kv, int sync, struct lfs_err *err);
int lfs_kv_group_depth(const struct lfs_kv *kv);   /* 0 = no group open */

/* Ordered iteration over lo <= key < hi (NULL bounds = open).  The iterator
 * sees a snapshot as of its creation or later writes (callers must not rely
 * on either).  Typical loop:
 *   for (it = lfs_kv_iter_new(kv, lo, ll, hi, hl); lfs_kv_iter_valid(it); lfs_kv_iter_next(it)) ...
 *   rc = lfs_kv_iter_error(it); lfs_kv_iter_free(it);
 */
struct lfs_kv_iter *lfs_kv_iter_new(struct lfs_kv *kv, const void *lo, size_t lolen,
				    const void *hi, size_t hilen);
/* Same over every key starting with prefix. */
struct lfs_kv_iter *lfs_kv_iter_prefix(struct lfs_kv *kv, const void *prefix, size_t plen);
int  lfs_kv_iter_valid(struct lfs_kv_iter *it);
void lfs_kv_iter_next(struct lfs_kv_iter *it);
const void *lfs_kv_iter_key(struct lfs_kv_iter *it, size_t *klen);
/* Value of the current record (loaded lazily, checksum verified; NULL +
 * error on corruption).  Key and value pointers stay valid until the next
 * call on this iterator or on its kv handle (a raw value may point into the
 * image's read-only mapping). */
const void *lfs_kv_iter_value(struct lfs_kv_iter *it, size_t *vlen);
size_t lfs_kv_iter_value_len(struct lfs_kv_iter *it); /* without loading */
int  lfs_kv_iter_error(struct lfs_kv_iter *it, struct lfs_err *err); /* 0 or the first error */
void lfs_kv_iter_free(struct lfs_kv_iter *it);

void lfs_kv_stats(struct lfs_kv *kv, struct lfs_kv_stats *st);

/* Rewrite live records into a fresh file and swap it in atomically (crash
 * safe).  before/after may be NULL; they receive the file sizes. */
int lfs_kv_compact(struct lfs_kv *kv, uint64_t *before, uint64_t *after, struct lfs_err *err);

/* Pid holding the write lock of path, or 0 if none (for messages). */
pid_t lfs_kv_lock_owner(const char *path);

/* Verify every record checksum reachable in the image; calls cb for each
 * problem found (offset, message).  Returns the number of problems or < 0. */
int lfs_kv_verify(struct lfs_kv *kv,
		  void (*cb)(void *arg, uint64_t offset, const char *msg), void *arg,
		  struct lfs_err *err);

/* ---- debugging access (lightfs kv dump / verify) ---- */
enum lfs_kv_rec_kind {
	LFS_KV_REC_PUT = 1, LFS_KV_REC_DEL = 2, LFS_KV_REC_DELRANGE = 3,
	LFS_KV_REC_INDEX = 4,    /* a checkpointed index (count entries, vlen bytes) */
	LFS_KV_REC_BAD = 5,      /* damaged record at offset (msg says why) */
	LFS_KV_REC_BLOCK = 6,    /* a compressed block (vlen stored, raw_len raw bytes, count
	                            operations); its operations follow with in_block set */
	LFS_KV_REC_COMMIT = 7,   /* the COMMIT closing a group (count: its BATCH records,
	                            group_first: offset of the first of them) */
};
struct lfs_kv_rec {
	uint64_t offset;         /* file offset of the operation (or record) */
	uint64_t seq;            /* sequence number of its record */
	int kind;                /* enum lfs_kv_rec_kind */
	const void *key;         /* PUT/DEL key, DELRANGE low bound */
	size_t klen;
	const void *val;         /* PUT stored value, DELRANGE high bound */
	size_t vlen;             /* stored bytes */
	size_t raw_len;          /* PUT raw value bytes */
	int compressed;          /* PUT value is a zstd frame */
	int has_hi;              /* DELRANGE has a high bound */
	uint64_t count;          /* INDEX entries */
	const char *msg;         /* BAD: the problem */
	int in_block;            /* an operation inside the BLOCK at offset: */
	uint32_t block_pos;      /*   its position in the block's raw operations */
	uint64_t block_span;     /*   file bytes of the whole BLOCK operation */
	int group;               /* in a GROUP-flagged BATCH (counts only at its COMMIT) */
	uint64_t group_first;    /* COMMIT: file offset of the group's first BATCH */
};
/* Call cb for every raw record in file order (history included); a non-zero
 * return from cb stops the walk and is returned.  MEMORY images have none. */
int lfs_kv_walk(struct lfs_kv *kv, int (*cb)(void *arg, const struct lfs_kv_rec *r), void *arg,
		struct lfs_err *err);
/* Key as printable text (non-printables as \xNN) for messages. */
void lfs_kv_key_text(const void *key, size_t klen, char *buf, size_t cap);

#endif
