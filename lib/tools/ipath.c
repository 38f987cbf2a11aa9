/* lib/tools/ipath.c — classify command-line path arguments (see ipath.h). */
#include "ipath.h"

#include <errno.h>
#include <string.h>

int lfs_ipath_host_spelled(const char *s, size_t n)
{
	if (n >= 1 && s[0] == '/')
		return 1;
	if (n >= 1 && s[0] == '.' && (n == 1 || s[1] == '/'))
		return 1;
	if (n >= 2 && s[0] == '.' && s[1] == '.' && (n == 2 || s[2] == '/'))
		return 1;
	return 0;
}

static const char *base_of(const char *s)
{
	const char *b = strrchr(s, '/');
	return b && b[1] ? b + 1 : s;
}

/* Does prefix p (n bytes) name the session's image (as given, or its basename)? */
static int is_session(const struct lfs_ipath_env *env, const char *p, size_t n)
{
	const char *s = env->session_image;
	if (!s || !*s)
		return 0;
	if (strlen(s) == n && !memcmp(s, p, n))
		return 1;
	const char *b = base_of(s);
	return strlen(b) == n && !memcmp(b, p, n);
}

static int put(char *dst, size_t cap, const char *src, size_t n)
{
	if (n + 1 > cap)
		return -1;
	memcpy(dst, src, n);
	dst[n] = 0;
	return 0;
}

static int refuse(struct lfs_ipath_res *res, enum lfs_ipath_why why, int code)
{
	res->why = why;
	if (res->image_cap)
		res->image[0] = 0;
	if (res->path_cap)
		res->path[0] = 0;
	return code;
}

int lfs_ipath_classify_n(const char *arg, size_t n, const struct lfs_ipath_env *env,
			 struct lfs_ipath_res *res)
{
	res->kind = LFS_IPC_HOST;
	res->why = LFS_IPW_NONE;
	res->from_default = 0;
	res->explicit_prefix = 0;
	res->prefix_len = 0;
	if (n == 0)
		return refuse(res, LFS_IPW_EMPTY, -EINVAL);
	if (memchr(arg, 0, n))
		return refuse(res, LFS_IPW_NUL, -EINVAL);
	if (n == 1 && arg[0] == '-') {
		res->kind = LFS_IPC_STDIO;
		if (put(res->path, res->path_cap, arg, n) < 0)
			return refuse(res, LFS_IPW_TOOLONG, -ENAMETOOLONG);
		if (res->image_cap)
			res->image[0] = 0;
		return 0;
	}
	const char *colon = memchr(arg, ':', n);
	if (colon && colon > arg) {
		size_t pl = (size_t)(colon - arg);
		const char *rest = colon + 1;
		size_t rl = n - pl - 1;
		int img = is_session(env, arg, pl);
		if (!img && env->is_image) {
			char tmp[4096];
			if (pl >= sizeof tmp)
				return refuse(res, LFS_IPW_TOOLONG, -ENAMETOOLONG);
			memcpy(tmp, arg, pl);
			tmp[pl] = 0;
			img = env->is_image(env->arg, tmp) > 0;
		}
		if (img) {
			res->kind = LFS_IPC_IMAGE;
			res->explicit_prefix = 1;
			res->prefix_len = pl;
			if (put(res->image, res->image_cap, arg, pl) < 0)
				return refuse(res, LFS_IPW_TOOLONG, -ENAMETOOLONG);
			if (rl == 0) {
				rest = "/";
				rl = 1;
			}
			if (put(res->path, res->path_cap, rest, rl) < 0)
				return refuse(res, LFS_IPW_TOOLONG, -ENAMETOOLONG);
			return 0;
		}
		if (!lfs_ipath_host_spelled(arg, pl)) {
			/* name the unknown image in res->image for the message */
			if (put(res->image, res->image_cap, arg, pl) < 0)
				return refuse(res, LFS_IPW_TOOLONG, -ENAMETOOLONG);
			res->why = LFS_IPW_NOIMAGE;
			res->prefix_len = pl;
			if (res->path_cap)
				res->path[0] = 0;
			return -ENOENT;
		}
		/* "./a:b", "/x:y": as if there were no prefix */
	}
	const char *dflt = env->session_image && *env->session_image ? env->session_image :
			   env->default_image && *env->default_image ? env->default_image : NULL;
	if (dflt) {
		res->kind = LFS_IPC_IMAGE;
		res->from_default = 1;
		if (put(res->image, res->image_cap, dflt, strlen(dflt)) < 0 ||
		    put(res->path, res->path_cap, arg, n) < 0)
			return refuse(res, LFS_IPW_TOOLONG, -ENAMETOOLONG);
		return 0;
	}
	if (put(res->path, res->path_cap, arg, n) < 0)
		return refuse(res, LFS_IPW_TOOLONG, -ENAMETOOLONG);
	if (res->image_cap)
		res->image[0] = 0;
	return 0;
}

int lfs_ipath_classify(const char *arg, const struct lfs_ipath_env *env,
		       struct lfs_ipath_res *res)
{
	return lfs_ipath_classify_n(arg, strlen(arg), env, res);
}
