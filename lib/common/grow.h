/*
 * lib/common/grow.h — the one growing-array idiom every layer uses.
 *
 *     if (lfs_grow(&v, &cap, n + 1, sizeof *v, 16) < 0)
 *             return -ENOMEM;
 *     v[n++] = x;
 *
 * The capacity (in items) doubles, starting from min, until it holds
 * need items; realloc keeps the contents.  On failure (out of memory, or a
 * size that would overflow) the array and its capacity are left as they
 * were, so the caller still owns and frees the old block.
 */
#ifndef LFS_COMMON_GROW_H
#define LFS_COMMON_GROW_H

#include <stddef.h>

/* *(T **)pp holds *cap items of sz bytes; make it hold at least need.
 * 0, or -ENOMEM (nothing changed). */
int lfs_grow(void *pp, size_t *cap, size_t need, size_t sz, size_t min);

#endif
