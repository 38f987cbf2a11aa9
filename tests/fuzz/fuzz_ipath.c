/*
 * tests/fuzz/fuzz_ipath.c — libFuzzer harness for the command-line path
 * classifier (lib/tools/ipath.c, the rules of cmd/image.h).
 *
 * Input: one flag byte (bit 0: a shell session, bit 1: -i IMAGE, bit 2:
 * tiny buffers), then the argument.  The stand-in "file system" says a
 * prefix is an image when it ends in ".lfs".  Checked invariants:
 *  - "" and text with NUL are refused; "-" is stdio;
 *  - an IMAGE result names an image the predicate accepted, the session's
 *    image, or the default; with an explicit prefix, image ":" path rebuilds
 *    the argument (path "/" for an empty rest);
 *  - a prefix that is not an image and not spelled as a host path
 *    ("/", "./", "../") is refused, never classified as a host path;
 *  - a HOST result only happens with no default image, and its path is the
 *    argument unchanged;
 *  - results are NUL-terminated within the caller's buffers.
 */
#include "tools/ipath.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond)
{
	if (!cond)
		abort();
}

static int ends_lfs(void *arg, const char *p)
{
	(void)arg;
	size_t l = strlen(p);
	return l >= 4 && !memcmp(p + l - 4, ".lfs", 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	unsigned flags = data[0];
	const char *arg = (const char *)data + 1;
	size_t n = size - 1;
	struct lfs_ipath_env env = {
		.is_image = ends_lfs,
		.session_image = (flags & 1) ? "/tmp/dir/sess.img" : NULL,
		.default_image = (flags & 2) ? "dflt.img" : NULL,
	};
	size_t cap = (flags & 4) ? 8 : 4096;
	char *image = malloc(cap), *path = malloc(cap);
	if (!image || !path)
		return 0;
	struct lfs_ipath_res r = { .image = image, .image_cap = cap, .path = path, .path_cap = cap };
	int rc = lfs_ipath_classify_n(arg, n, &env, &r);
	const char *nul = memchr(arg, 0, n);
	if (n == 0 || nul) {
		check(rc == -EINVAL);
		goto out;
	}
	if (rc == -ENAMETOOLONG) {
		check(r.why == LFS_IPW_TOOLONG);
		goto out;
	}
	check(strlen(image) < cap && strlen(path) < cap);
	const char *colon = memchr(arg, ':', n);
	size_t pl = colon ? (size_t)(colon - arg) : 0;
	if (rc < 0) {
		check(rc == -ENOENT && r.why == LFS_IPW_NOIMAGE);
		check(colon && pl > 0 && !lfs_ipath_host_spelled(arg, pl));
		char *pre = strndup(arg, pl);
		check(pre && !ends_lfs(NULL, pre));
		free(pre);
		goto out;
	}
	check(rc == 0);
	if (n == 1 && arg[0] == '-') {
		check(r.kind == LFS_IPC_STDIO);
		goto out;
	}
	if (colon && pl > 0 && !lfs_ipath_host_spelled(arg, pl)) {
		/* an unknown bare prefix never becomes a host path */
		check(r.kind == LFS_IPC_IMAGE && r.explicit_prefix);
	}
	if (r.kind == LFS_IPC_IMAGE) {
		if (r.explicit_prefix) {
			check(r.prefix_len == pl && strlen(image) == pl && !memcmp(image, arg, pl));
			size_t rl = n - pl - 1;
			if (rl == 0)
				check(!strcmp(path, "/"));
			else
				check(strlen(path) == rl && !memcmp(path, colon + 1, rl));
		} else {
			check(r.from_default);
			check(!strcmp(image, (flags & 1) ? "/tmp/dir/sess.img" : "dflt.img"));
			check(strlen(path) == n && !memcmp(path, arg, n));
		}
	} else {
		check(r.kind == LFS_IPC_HOST);
		check(!(flags & 3));
		check(strlen(path) == n && !memcmp(path, arg, n));
	}
out:
	free(image);
	free(path);
	return 0;
}
