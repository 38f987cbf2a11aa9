/*
 * tests/fuzz/fuzz_fs_records.c — every record decoder of lib/fs/schema.c
 * over arbitrary bytes: key decode / describe (with every output size),
 * superblock, inode and dentry records.  Byte 0 picks the decoder; bit 7 of
 * it asks the harness to write a correct CRC32C over the input first, so the
 * fuzzer reaches the field checks behind the checksum.  A record that
 * decodes must re-encode to bytes that decode to the same record.  Must
 * never crash, read out of bounds or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"
#include "fs/schema.h"

static void fix_crc(uint8_t *b, size_t len)
{
	if (len >= 4)
		lfs_be32_put(b + len - 4, lfs_crc32c(0, b, len - 4));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int which = data[0] & 7, crc = data[0] & 0x80;
	size_t n = size - 1;
	uint8_t *b = malloc(n ? n : 1);   /* exact size: ASan sees any overread */
	if (!b)
		return 0;
	memcpy(b, data + 1, n);
	switch (which) {
	case 0: {   /* keys */
		struct lfs_fs_key k;
		int kind = lfs_fs_key_decode(b, n, &k);
		if (kind == LFS_FS_K_DENTRY && (k.nlen == 0 || k.nlen > LFS_FS_NAME_MAX ||
		    k.name < (const char *)b || k.name + k.nlen > (const char *)b + n))
			abort();
		size_t cap = n ? b[0] % 300 : 0;
		char *out = malloc(cap ? cap : 1);
		if (out) {
			int r = lfs_fs_key_describe(b, n, out, cap);
			if (cap && (strlen(out) >= cap || (r >= 0 && (size_t)r >= cap)))
				abort();
			free(out);
		}
		if (kind == LFS_FS_K_DENTRY) {   /* re-encode */
			uint8_t kk[LFS_FS_KEY_MAX];
			int kl = lfs_fs_key_dentry(kk, k.ino, k.name, k.nlen);
			if (kl != (int)n || memcmp(kk, b, n))
				abort();
		}
		break;
	}
	case 1: {   /* superblock */
		struct lfs_fs_super s, s2;
		if (crc)
			fix_crc(b, n);
		if (lfs_fs_super_decode(b, n, &s) == 0) {
			uint8_t e[LFS_FS_SUPER_VLEN];
			size_t el = lfs_fs_super_encode(&s, e);
			/* the label is a C string: bytes after its NUL are not kept */
			if (lfs_fs_super_decode(e, el, &s2) != 0 || s.version != s2.version ||
			    s.page_size != s2.page_size || s.compress != s2.compress || s.level != s2.level ||
			    s.next_ino != s2.next_ino || s.root_ino != s2.root_ino || s.ctime_ns != s2.ctime_ns ||
			    strcmp(s.label, s2.label))
				abort();
		}
		break;
	}
	case 2: {   /* inode */
		struct lfs_fs_inode *in = malloc(sizeof *in), *in2 = malloc(sizeof *in2);
		uint8_t *e = malloc(LFS_FS_INODE_VMAX);
		if (in && in2 && e) {
			if (crc)
				fix_crc(b, n);
			if (lfs_fs_inode_decode(b, n, in) == 0) {
				if (in->target_len > LFS_FS_SYMLINK_MAX || in->target[in->target_len])
					abort();
				size_t el = lfs_fs_inode_encode(in, e);
				if (el != n || lfs_fs_inode_decode(e, el, in2) != 0 ||
				    memcmp(in, in2, offsetof(struct lfs_fs_inode, target)) ||
				    memcmp(in->target, in2->target, in->target_len + 1))
					abort();
			}
		}
		free(in);
		free(in2);
		free(e);
		break;
	}
	default: {  /* dentry */
		struct lfs_fs_dentry d, d2;
		if (crc)
			fix_crc(b, n);
		if (lfs_fs_dentry_decode(b, n, &d) == 0) {
			uint8_t e[LFS_FS_DENTRY_VLEN];
			size_t el = lfs_fs_dentry_encode(&d, e);
			if (el != n || memcmp(e, b, n) || lfs_fs_dentry_decode(e, el, &d2) != 0 ||
			    d.ino != d2.ino || d.type != d2.type)
				abort();
		}
		break;
	}
	}
	free(b);
	return 0;
}
