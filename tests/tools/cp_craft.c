/*
 * tests/tools/cp_craft.c — make hostile images for the safe-extraction tests
 * of `lightfs cp`/`get` (tests/cli/cp_hostile.sh).  The public API refuses
 * names such as "..", "a/b" or "", so this writes directory entries straight
 * into the KV store with the schema's encoders (lib/fs/schema.h):
 *
 *   cp_craft IMAGE link DIR NAME TARGET
 *
 * adds the entry NAME (C escapes: \n \t \\ \xNN; may hold '/', be "." or
 * ".." or empty) to the directory DIR of IMAGE, pointing at the inode that
 * the path TARGET names (no link count update: a hand-made hard link, a
 * directory loop, a second entry for a file elsewhere).  Exit 0 or 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>

#include "fs/fs.h"
#include "fs/schema.h"
#include "kv/kv.h"

static int die(const char *what, int rc)
{
	fprintf(stderr, "cp_craft: %s: %s\n", what, lfs_strerror(rc));
	exit(1);
}

/* Inode number of an absolute path (components looked up one by one). */
static uint64_t resolve(struct lfs_fs *fs, const char *path)
{
	uint64_t ino = LFS_FS_ROOT_INO;
	const char *s = path;
	while (*s) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		const char *e = strchr(s, '/');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		struct lfs_fs_dentry d;
		int rc = lfs_fs_lookup(fs, ino, s, l, &d);
		if (rc < 0)
			die(path, rc);
		ino = d.ino;
		s += l;
	}
	return ino;
}

static size_t unescape(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = in; *p && n < cap; p++) {
		if (*p != '\\') {
			out[n++] = *p;
			continue;
		}
		p++;
		if (*p == 'n')
			out[n++] = '\n';
		else if (*p == 't')
			out[n++] = '\t';
		else if (*p == 'x' && p[1] && p[2]) {
			char h[3] = { p[1], p[2], 0 };
			out[n++] = (char)strtol(h, NULL, 16);
			p += 2;
		} else if (*p)
			out[n++] = *p;
		else
			break;
	}
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 6 || strcmp(argv[2], "link")) {
		fprintf(stderr, "usage: cp_craft IMAGE link DIR NAME TARGET\n");
		return 2;
	}
	struct lfs_kv_opts ko = { .mode = LFS_KV_RDWR };
	struct lfs_kv *kv;
	struct lfs_err err = { 0 };
	int rc = lfs_kv_open(argv[1], &ko, &kv, &err);
	if (rc < 0)
		die(argv[1], rc);
	struct lfs_fs *fs;
	rc = lfs_fs_mount(kv, 0, &fs, &err);
	if (rc < 0)
		die(argv[1], rc);
	uint64_t dir = resolve(fs, argv[3]);
	uint64_t target = resolve(fs, argv[5]);
	struct lfs_fs_inode in;
	if ((rc = lfs_fs_iget(fs, target, &in)) < 0)
		die(argv[5], rc);
	char name[LFS_FS_NAME_MAX];
	size_t nl = unescape(argv[4], name, sizeof name);
	/* the key by hand: 'D' parent64 name — no name check */
	uint8_t key[9 + LFS_FS_NAME_MAX];
	key[0] = LFS_FS_K_DENTRY;
	lfs_be64_put(key + 1, dir);
	memcpy(key + 9, name, nl);
	struct lfs_fs_dentry d = {
		.ino = target,
		.type = S_ISDIR(in.mode) ? DT_DIR : S_ISLNK(in.mode) ? DT_LNK : DT_REG,
	};
	uint8_t val[LFS_FS_DENTRY_VLEN];
	size_t vl = lfs_fs_dentry_encode(&d, val);
	rc = lfs_kv_put(kv, key, 9 + nl, val, vl, &err);
	if (rc < 0)
		die("put", rc);
	lfs_fs_free(fs);
	rc = lfs_kv_close(kv);
	if (rc < 0)
		die("close", rc);
	return 0;
}
