/*
 * lib/tools/ipath.h — classify one command-line path argument (the rules of
 * cmd/image.h, without touching the file system, so a fuzzer can drive it).
 *
 *   ""              usage error
 *   "-"             stdin / stdout
 *   P:REST          an image path (P, REST or "/") when is_image(P) says P
 *                   is a lightfs image, or when P names the session's image
 *                   (its path as given or its basename);
 *                   else, when P is spelled as a host path ("/...", "./...",
 *                   "../..."), the argument is read as if it had no prefix;
 *                   else an error: P is an unknown image (never a host path,
 *                   so a typo never writes a host file)
 *   plain           an image path of the default image (the shell session's
 *                   or -i IMAGE's) when there is one, else a host path
 *
 * The caller supplies is_image() (cmd/image.c: lfs_is_image_file) and the
 * default image.  Nothing here allocates or prints.
 */
#ifndef LFS_TOOLS_IPATH_H
#define LFS_TOOLS_IPATH_H

#include <stddef.h>

#include "common/err.h"

enum lfs_ipath_cls {
	LFS_IPC_HOST = 0,      /* path = the argument */
	LFS_IPC_IMAGE = 1,     /* image + path */
	LFS_IPC_STDIO = 2,     /* "-" */
};

/* Why an argument was refused (the return value is the lfs code). */
enum lfs_ipath_why {
	LFS_IPW_NONE = 0,
	LFS_IPW_EMPTY,         /* "" */
	LFS_IPW_NOIMAGE,       /* P:... with P not an image (and not host-spelled) */
	LFS_IPW_TOOLONG,       /* does not fit the caller's buffers */
	LFS_IPW_NUL,           /* embedded NUL (only from lfs_ipath_classify_n) */
};

struct lfs_ipath_env {
	/* 1 if the NUL-terminated prefix names an existing lightfs image. */
	int (*is_image)(void *arg, const char *prefix);
	void *arg;
	const char *session_image; /* the shell's image as given, or NULL */
	const char *default_image; /* -i IMAGE, or NULL (the session wins) */
};

struct lfs_ipath_res {
	enum lfs_ipath_cls kind;
	enum lfs_ipath_why why;    /* when refused */
	int from_default;          /* IMAGE taken from the session / -i, no prefix */
	int explicit_prefix;       /* IMAGE named by a P: prefix */
	size_t prefix_len;         /* length of P when explicit_prefix */
	char *image;               /* caller's buffer, image_cap bytes */
	size_t image_cap;
	char *path;                /* caller's buffer, path_cap bytes */
	size_t path_cap;
};

/* Classify arg (n bytes, may contain NUL: refused).  Returns 0, or a negative
 * code with res->why set: -EINVAL (empty, NUL), -ENOENT (unknown image
 * prefix), -ENAMETOOLONG.  res->image / res->path must point to buffers. */
int lfs_ipath_classify_n(const char *arg, size_t n, const struct lfs_ipath_env *env,
			 struct lfs_ipath_res *res);
int lfs_ipath_classify(const char *arg, const struct lfs_ipath_env *env,
		       struct lfs_ipath_res *res);

/* Is the text spelled as an explicit host path ("/x", "./x", "../x", ".", "..")? */
int lfs_ipath_host_spelled(const char *s, size_t n);

#endif
