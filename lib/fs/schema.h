/*
 * lib/fs/schema.h — the LightFS key schema: how inodes, directory entries,
 * data pages and the superblock live as KV records (see lib/fs/FORMAT.md).
 *
 * Invariants:
 *  - every integer in keys and records is big-endian, so a KV scan in key
 *    order walks inodes by number, a directory's entries by name and a
 *    file's pages by index;
 *  - every record (not data pages) ends with a CRC32C of the bytes before it;
 *  - decoders take untrusted bytes: they check lengths, ranges and the
 *    checksum and return a negative code (LFS_E_CORRUPT, LFS_E_TRUNCATED,
 *    LFS_E_BADMAGIC, LFS_E_VERSION, LFS_E_TOOBIG), never crash, never read
 *    past klen / vlen.
 * No locks: pure functions over caller buffers.
 */
#ifndef LFS_FS_SCHEMA_H
#define LFS_FS_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define LFS_FS_MAGIC        "LIGHTFS1"      /* 8 bytes, superblock */
#define LFS_FS_VERSION      1u
#define LFS_FS_ROOT_INO     1u
#define LFS_FS_NAME_MAX     255u
#define LFS_FS_LABEL_MAX    63u
#define LFS_FS_SYMLINK_MAX  4095u
#define LFS_FS_PAGE_MIN     512u
#define LFS_FS_PAGE_MAX     65536u

/* First key byte of each record kind. */
#define LFS_FS_K_SUPER  'S'   /* "S"                    → superblock */
#define LFS_FS_K_INODE  'I'   /* 'I' ino64              → inode record */
#define LFS_FS_K_DENTRY 'D'   /* 'D' parent64 name      → dentry record */
#define LFS_FS_K_DATA   'B'   /* 'B' ino64 index64      → page bytes */

#define LFS_FS_SUPER_KLEN   1u
#define LFS_FS_INODE_KLEN   9u
#define LFS_FS_DENTRY_KMAX  (9u + LFS_FS_NAME_MAX)
#define LFS_FS_DATA_KLEN    17u
#define LFS_FS_KEY_MAX      LFS_FS_DENTRY_KMAX

struct lfs_fs_super {
	uint32_t version;
	uint32_t page_size;
	uint32_t compress;         /* LFS_KV_COMPRESS_* */
	int32_t  level;
	uint64_t next_ino;         /* next inode number to hand out */
	uint64_t root_ino;
	uint64_t ctime_ns;         /* mkfs time */
	char     label[LFS_FS_LABEL_MAX + 1];
};
#define LFS_FS_SUPER_VLEN   (8 + 4 + 4 + 4 + 4 + 8 + 8 + 8 + 64 + 4)

struct lfs_fs_inode {
	uint32_t mode;             /* S_IFMT | permissions */
	uint32_t nlink;
	uint32_t uid, gid;
	uint32_t flags;            /* reserved, 0 */
	uint64_t size;
	uint64_t atime_ns, mtime_ns, ctime_ns, btime_ns;
	uint64_t generation;       /* bumped on every update (debug aid) */
	uint16_t target_len;       /* symlink target length (0 for others) */
	char     target[LFS_FS_SYMLINK_MAX + 1]; /* NUL-terminated */
};
#define LFS_FS_INODE_FIXED  (1 + 1 + 2 + 4 * 5 + 8 * 6)   /* 72 */
#define LFS_FS_INODE_VMAX   (LFS_FS_INODE_FIXED + LFS_FS_SYMLINK_MAX + 4)

struct lfs_fs_dentry {
	uint64_t ino;
	uint8_t  type;             /* DT_REG, DT_DIR, DT_LNK ... */
};
#define LFS_FS_DENTRY_VLEN  (8 + 1 + 4)

/* Key encoders: write into buf (≥ LFS_FS_KEY_MAX bytes), return length. */
size_t lfs_fs_key_super(uint8_t *buf);
size_t lfs_fs_key_inode(uint8_t *buf, uint64_t ino);
/* Returns -EINVAL / -ENAMETOOLONG for a bad name (empty, '/', NUL, "." "..", > 255). */
int    lfs_fs_key_dentry(uint8_t *buf, uint64_t parent, const char *name, size_t nlen);
/* Prefix of every dentry of parent (9 bytes). */
size_t lfs_fs_key_dentry_prefix(uint8_t *buf, uint64_t parent);
size_t lfs_fs_key_data(uint8_t *buf, uint64_t ino, uint64_t index);
/* Prefix of every data key of ino (9 bytes). */
size_t lfs_fs_key_data_prefix(uint8_t *buf, uint64_t ino);

/* Key decoders.  Return the kind byte (LFS_FS_K_*) or a negative code. */
struct lfs_fs_key {
	int      kind;
	uint64_t ino;              /* inode: ino; dentry: parent; data: ino */
	uint64_t index;            /* data page index */
	const char *name;          /* dentry: points into the key, not NUL-terminated */
	size_t   nlen;
};
int lfs_fs_key_decode(const void *key, size_t klen, struct lfs_fs_key *out);

/* "superblock", "inode 12", "dentry 1/\"etc\"", "data 12 page 3"; for bytes
 * that are no valid key: "unknown <hex>".  Returns the length written
 * (truncated to cap-1, always NUL-terminated when cap > 0) or a negative code
 * if the key is invalid (buf still holds the "unknown" text). */
int lfs_fs_key_describe(const void *key, size_t klen, char *buf, size_t cap);

/* The dentry type byte (DT_*) for an inode mode. */
uint8_t lfs_fs_mode_dt(uint32_t mode);

/* Record encoders: return the encoded length (buf must hold the *_VLEN /
 * LFS_FS_INODE_VMAX bytes).  Decoders validate and return 0 or < 0. */
size_t lfs_fs_super_encode(const struct lfs_fs_super *s, uint8_t *buf);
int    lfs_fs_super_decode(const void *val, size_t vlen, struct lfs_fs_super *s);
size_t lfs_fs_inode_encode(const struct lfs_fs_inode *ino, uint8_t *buf);
int    lfs_fs_inode_decode(const void *val, size_t vlen, struct lfs_fs_inode *ino);
size_t lfs_fs_dentry_encode(const struct lfs_fs_dentry *d, uint8_t *buf);
int    lfs_fs_dentry_decode(const void *val, size_t vlen, struct lfs_fs_dentry *d);

/* Big-endian helpers. */
static inline void lfs_be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; }
}
static inline uint64_t lfs_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
	return v;
}
static inline void lfs_be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}
static inline uint32_t lfs_be32_get(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

#endif
