/* lib/common/crc32c.h — CRC32C (Castagnoli), as used by ext4, btrfs, LevelDB. */
#ifndef LFS_COMMON_CRC32C_H
#define LFS_COMMON_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: crc32c(0, ...) starts one.  Uses SSE4.2 when the CPU has it. */
uint32_t lfs_crc32c(uint32_t crc, const void *buf, size_t len);
/* The same over src while copying it to dst (one pass; no overlap). */
uint32_t lfs_crc32c_copy(uint32_t crc, void *dst, const void *src, size_t len);
/* CRC of A followed by B from crc1 = CRC of A, crc2 = CRC of B, len2 = |B|
 * (zlib's crc32_combine, without reading the bytes again). */
uint32_t lfs_crc32c_combine(uint32_t crc1, uint32_t crc2, size_t len2);

#endif
