/*
 * lib/common/err.h — error codes and messages shared by every layer.
 *
 * Convention (as e2fsprogs / LMDB): library functions return 0 or a
 * positive count on success, and a negative code on failure.  Plain errno
 * values pass through negated (-ENOENT).  lightfs's own codes live in the
 * reserved range below -LFS_ERR_BASE and have messages in lfs_strerror().
 * Where a message helps, a function takes a `struct lfs_err *` and fills it
 * with the object (a path, a key, an offset) and the cause; callers may pass
 * NULL.  Library code never prints and never exits.
 */
#ifndef LFS_COMMON_ERR_H
#define LFS_COMMON_ERR_H

#include <stddef.h>

#define LFS_ERR_BASE 10000
enum lfs_errcode {
	LFS_E_CORRUPT  = -(LFS_ERR_BASE + 1),  /* checksum or structure damaged */
	LFS_E_BADMAGIC = -(LFS_ERR_BASE + 2),  /* not a lightfs image / trace */
	LFS_E_VERSION  = -(LFS_ERR_BASE + 3),  /* unsupported format version */
	LFS_E_LOCKED   = -(LFS_ERR_BASE + 4),  /* image is in use by another writer */
	LFS_E_TOOBIG   = -(LFS_ERR_BASE + 5),  /* key/value/length field out of range */
	LFS_E_READONLY = -(LFS_ERR_BASE + 6),  /* write on a read-only handle */
	LFS_E_TRUNCATED= -(LFS_ERR_BASE + 7),  /* input ends early */
	LFS_E_UNSAFE   = -(LFS_ERR_BASE + 8),  /* name or link would escape a target */
	LFS_E_MISMATCH = -(LFS_ERR_BASE + 9),  /* replay/verify: result differs */
	LFS_E_COMPRESS = -(LFS_ERR_BASE + 10), /* zstd failed */
	LFS_E_INTERNAL = -(LFS_ERR_BASE + 11), /* broken internal invariant */
	LFS_E_CANCELED = -(LFS_ERR_BASE + 12), /* interrupted by the user */
};

/* Where a library call says more than a code: the object it concerns and why. */
struct lfs_err {
	int  code;          /* the negative code also returned */
	char msg[512];      /* "key inode 12: checksum mismatch at offset 4096" */
};

/* Message for a negative code (errno or LFS_E_*); never NULL. */
const char *lfs_strerror(int code);

/* Fill err (if non-NULL) with printf-style text and return code, so a
 * failing path can be written `return lfs_seterr(err, -EIO, "...", ...);`. */
int lfs_seterr(struct lfs_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Message of err if one was set, else lfs_strerror(code). */
const char *lfs_errmsg(const struct lfs_err *err, int code);

#endif
