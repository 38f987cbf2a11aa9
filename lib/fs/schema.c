/* lib/fs/schema.c — encoders / validating decoders of the LightFS key schema. */
#include "fs/schema.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/crc32c.h"

size_t lfs_fs_key_super(uint8_t *buf)
{
	buf[0] = LFS_FS_K_SUPER;
	return LFS_FS_SUPER_KLEN;
}

size_t lfs_fs_key_inode(uint8_t *buf, uint64_t ino)
{
	buf[0] = LFS_FS_K_INODE;
	lfs_be64_put(buf + 1, ino);
	return LFS_FS_INODE_KLEN;
}

static int name_ok(const char *name, size_t nlen)
{
	if (nlen == 0)
		return -EINVAL;
	if (nlen > LFS_FS_NAME_MAX)
		return -ENAMETOOLONG;
	if ((nlen == 1 && name[0] == '.') || (nlen == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	if (memchr(name, '/', nlen) || memchr(name, '\0', nlen))
		return -EINVAL;
	return 0;
}

int lfs_fs_key_dentry(uint8_t *buf, uint64_t parent, const char *name, size_t nlen)
{
	int rc = name_ok(name, nlen);
	if (rc < 0)
		return rc;
	buf[0] = LFS_FS_K_DENTRY;
	lfs_be64_put(buf + 1, parent);
	memcpy(buf + 9, name, nlen);
	return (int)(9 + nlen);
}

size_t lfs_fs_key_dentry_prefix(uint8_t *buf, uint64_t parent)
{
	buf[0] = LFS_FS_K_DENTRY;
	lfs_be64_put(buf + 1, parent);
	return 9;
}

size_t lfs_fs_key_data(uint8_t *buf, uint64_t ino, uint64_t index)
{
	buf[0] = LFS_FS_K_DATA;
	lfs_be64_put(buf + 1, ino);
	lfs_be64_put(buf + 9, index);
	return LFS_FS_DATA_KLEN;
}

size_t lfs_fs_key_data_prefix(uint8_t *buf, uint64_t ino)
{
	buf[0] = LFS_FS_K_DATA;
	lfs_be64_put(buf + 1, ino);
	return 9;
}

int lfs_fs_key_decode(const void *key, size_t klen, struct lfs_fs_key *out)
{
	const uint8_t *k = key;
	memset(out, 0, sizeof *out);
	if (!key || klen == 0)
		return LFS_E_TRUNCATED;
	out->kind = k[0];
	switch (k[0]) {
	case LFS_FS_K_SUPER:
		return klen == LFS_FS_SUPER_KLEN ? LFS_FS_K_SUPER : LFS_E_CORRUPT;
	case LFS_FS_K_INODE:
		if (klen != LFS_FS_INODE_KLEN)
			return LFS_E_CORRUPT;
		out->ino = lfs_be64_get(k + 1);
		return out->ino ? LFS_FS_K_INODE : LFS_E_CORRUPT;
	case LFS_FS_K_DENTRY:
		if (klen < 10 || klen > LFS_FS_DENTRY_KMAX)
			return LFS_E_CORRUPT;
		out->ino = lfs_be64_get(k + 1);
		out->name = (const char *)k + 9;
		out->nlen = klen - 9;
		if (name_ok(out->name, out->nlen) < 0 || out->ino == 0)
			return LFS_E_CORRUPT;
		return LFS_FS_K_DENTRY;
	case LFS_FS_K_DATA:
		if (klen != LFS_FS_DATA_KLEN)
			return LFS_E_CORRUPT;
		out->ino = lfs_be64_get(k + 1);
		out->index = lfs_be64_get(k + 9);
		return out->ino ? LFS_FS_K_DATA : LFS_E_CORRUPT;
	default:
		out->kind = 0;
		return LFS_E_CORRUPT;
	}
}

int lfs_fs_key_describe(const void *key, size_t klen, char *buf, size_t cap)
{
	struct lfs_fs_key k;
	int rc = lfs_fs_key_decode(key, klen, &k);
	int n = 0;
	if (!buf || cap == 0)
		return rc < 0 ? rc : 0;
	buf[0] = 0;
	switch (rc) {
	case LFS_FS_K_SUPER:
		n = snprintf(buf, cap, "superblock");
		break;
	case LFS_FS_K_INODE:
		n = snprintf(buf, cap, "inode %llu", (unsigned long long)k.ino);
		break;
	case LFS_FS_K_DATA:
		n = snprintf(buf, cap, "data %llu page %llu", (unsigned long long)k.ino,
			     (unsigned long long)k.index);
		break;
	case LFS_FS_K_DENTRY: {
		n = snprintf(buf, cap, "dentry %llu/\"", (unsigned long long)k.ino);
		size_t pos = n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
		for (size_t i = 0; i < k.nlen && pos + 1 < cap; i++) {
			unsigned char c = (unsigned char)k.name[i];
			if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
				buf[pos++] = (char)c;
			} else if (pos + 5 < cap) {
				snprintf(buf + pos, cap - pos, "\\x%02x", c);
				pos += 4;
			} else {
				break;
			}
		}
		if (pos + 1 < cap)
			buf[pos++] = '"';
		buf[pos] = 0;
		return (int)pos;
	}
	default: {
		const uint8_t *p = key;
		size_t pos = 0;
		n = snprintf(buf, cap, "unknown ");
		pos = n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
		for (size_t i = 0; p && i < klen && pos + 3 < cap; i++) {
			snprintf(buf + pos, cap - pos, "%02x", p[i]);
			pos += 2;
		}
		buf[pos] = 0;
		return rc < 0 ? rc : LFS_E_CORRUPT;
	}
	}
	if (n < 0)
		return LFS_E_INTERNAL;
	return (size_t)n >= cap ? (int)cap - 1 : n;
}

static void put_crc(uint8_t *buf, size_t len)
{
	lfs_be32_put(buf + len, lfs_crc32c(0, buf, len));
}

static int check_crc(const uint8_t *v, size_t len)
{
	return lfs_be32_get(v + len) == lfs_crc32c(0, v, len) ? 0 : LFS_E_CORRUPT;
}

size_t lfs_fs_super_encode(const struct lfs_fs_super *s, uint8_t *b)
{
	memset(b, 0, LFS_FS_SUPER_VLEN);
	memcpy(b, LFS_FS_MAGIC, 8);
	lfs_be32_put(b + 8, s->version);
	lfs_be32_put(b + 12, s->page_size);
	lfs_be32_put(b + 16, s->compress);
	lfs_be32_put(b + 20, (uint32_t)s->level);
	lfs_be64_put(b + 24, s->next_ino);
	lfs_be64_put(b + 32, s->root_ino);
	lfs_be64_put(b + 40, s->ctime_ns);
	size_t l = strnlen(s->label, LFS_FS_LABEL_MAX);
	memcpy(b + 48, s->label, l);
	put_crc(b, LFS_FS_SUPER_VLEN - 4);
	return LFS_FS_SUPER_VLEN;
}

int lfs_fs_super_decode(const void *val, size_t vlen, struct lfs_fs_super *s)
{
	const uint8_t *b = val;
	memset(s, 0, sizeof *s);
	if (!val || vlen < 12)
		return LFS_E_TRUNCATED;
	if (memcmp(b, LFS_FS_MAGIC, 8) != 0)
		return LFS_E_BADMAGIC;
	s->version = lfs_be32_get(b + 8);
	if (s->version != LFS_FS_VERSION)
		return LFS_E_VERSION;
	if (vlen != LFS_FS_SUPER_VLEN)
		return vlen < LFS_FS_SUPER_VLEN ? LFS_E_TRUNCATED : LFS_E_CORRUPT;
	if (check_crc(b, LFS_FS_SUPER_VLEN - 4) < 0)
		return LFS_E_CORRUPT;
	s->page_size = lfs_be32_get(b + 12);
	s->compress = lfs_be32_get(b + 16);
	s->level = (int32_t)lfs_be32_get(b + 20);
	s->next_ino = lfs_be64_get(b + 24);
	s->root_ino = lfs_be64_get(b + 32);
	s->ctime_ns = lfs_be64_get(b + 40);
	memcpy(s->label, b + 48, LFS_FS_LABEL_MAX);
	s->label[LFS_FS_LABEL_MAX] = 0;
	if (s->page_size < LFS_FS_PAGE_MIN || s->page_size > LFS_FS_PAGE_MAX ||
	    (s->page_size & (s->page_size - 1)) || s->root_ino == 0 ||
	    s->next_ino <= s->root_ino || s->compress > 1)
		return LFS_E_CORRUPT;
	return 0;
}

size_t lfs_fs_inode_encode(const struct lfs_fs_inode *in, uint8_t *b)
{
	size_t tl = in->target_len > LFS_FS_SYMLINK_MAX ? LFS_FS_SYMLINK_MAX : in->target_len;
	b[0] = 1;                        /* record version */
	b[1] = 0;
	b[2] = (uint8_t)(tl >> 8);
	b[3] = (uint8_t)tl;
	lfs_be32_put(b + 4, in->mode);
	lfs_be32_put(b + 8, in->nlink);
	lfs_be32_put(b + 12, in->uid);
	lfs_be32_put(b + 16, in->gid);
	lfs_be32_put(b + 20, in->flags);
	lfs_be64_put(b + 24, in->size);
	lfs_be64_put(b + 32, in->atime_ns);
	lfs_be64_put(b + 40, in->mtime_ns);
	lfs_be64_put(b + 48, in->ctime_ns);
	lfs_be64_put(b + 56, in->btime_ns);
	lfs_be64_put(b + 64, in->generation);
	memcpy(b + LFS_FS_INODE_FIXED, in->target, tl);
	put_crc(b, LFS_FS_INODE_FIXED + tl);
	return LFS_FS_INODE_FIXED + tl + 4;
}

int lfs_fs_inode_decode(const void *val, size_t vlen, struct lfs_fs_inode *in)
{
	const uint8_t *b = val;
	memset(in, 0, sizeof *in);
	if (!val || vlen < LFS_FS_INODE_FIXED + 4)
		return LFS_E_TRUNCATED;
	if (b[0] != 1)
		return LFS_E_VERSION;
	size_t tl = ((size_t)b[2] << 8) | b[3];
	if (tl > LFS_FS_SYMLINK_MAX || vlen != LFS_FS_INODE_FIXED + tl + 4)
		return LFS_E_CORRUPT;
	if (check_crc(b, LFS_FS_INODE_FIXED + tl) < 0)
		return LFS_E_CORRUPT;
	in->mode = lfs_be32_get(b + 4);
	in->nlink = lfs_be32_get(b + 8);
	in->uid = lfs_be32_get(b + 12);
	in->gid = lfs_be32_get(b + 16);
	in->flags = lfs_be32_get(b + 20);
	in->size = lfs_be64_get(b + 24);
	in->atime_ns = lfs_be64_get(b + 32);
	in->mtime_ns = lfs_be64_get(b + 40);
	in->ctime_ns = lfs_be64_get(b + 48);
	in->btime_ns = lfs_be64_get(b + 56);
	in->generation = lfs_be64_get(b + 64);
	in->target_len = (uint16_t)tl;
	memcpy(in->target, b + LFS_FS_INODE_FIXED, tl);
	in->target[tl] = 0;
	if (in->size > (UINT64_MAX >> 1))
		return LFS_E_CORRUPT;
	return 0;
}

size_t lfs_fs_dentry_encode(const struct lfs_fs_dentry *d, uint8_t *b)
{
	lfs_be64_put(b, d->ino);
	b[8] = d->type;
	put_crc(b, 9);
	return LFS_FS_DENTRY_VLEN;
}

int lfs_fs_dentry_decode(const void *val, size_t vlen, struct lfs_fs_dentry *d)
{
	const uint8_t *b = val;
	memset(d, 0, sizeof *d);
	if (!val || vlen < LFS_FS_DENTRY_VLEN)
		return LFS_E_TRUNCATED;
	if (vlen != LFS_FS_DENTRY_VLEN || check_crc(b, 9) < 0)
		return LFS_E_CORRUPT;
	d->ino = lfs_be64_get(b);
	d->type = b[8];
	if (d->ino == 0)
		return LFS_E_CORRUPT;
	return 0;
}

uint8_t lfs_fs_mode_dt(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return DT_DIR;
	case S_IFLNK: return DT_LNK;
	case S_IFREG: return DT_REG;
	case S_IFIFO: return DT_FIFO;
	case S_IFCHR: return DT_CHR;
	case S_IFBLK: return DT_BLK;
	case S_IFSOCK: return DT_SOCK;
	default: return DT_UNKNOWN;
	}
}
