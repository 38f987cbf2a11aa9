/* lib/common/crc32c.h — CRC32C (Castagnoli), as used by ext4, btrfs, LevelDB. */
#ifndef LFS_COMMON_CRC32C_H
#define LFS_COMMON_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: crc32c(0, ...) starts one.  Uses SSE4.2 when the CPU has it. */
uint32_t lfs_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
