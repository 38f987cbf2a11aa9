/*
 * cmd/image.h — how the image commands name and reach images (cmd/image.c).
 *
 * Path arguments (issue [3/7], DESIGN.md):
 *   IMAGE:/path   a path inside IMAGE, but only when the text before the
 *                 first ':' names an existing lightfs image file;
 *   ./a:b, /x:y   a host path when that prefix is not an image;
 *   foo:/x        with "foo" not an existing image: an error ("no such
 *                 image"), never a silent host write;
 *   /path, rel    a host path — except with -i IMAGE (c->default_image) or
 *                 inside the shell (c->sess), where it is an image path
 *                 (relative to the session cwd in the shell);
 *   -             stdin / stdout.
 *
 * Opening: lfs_img_open() mounts an image for one command (taking the
 * writer lock when `write`), or, inside the shell, returns the session's
 * mount when the image is the session's.  lfs_img_close() commits and
 * unmounts (no-op for the session's mount beyond a sync, which the shell
 * does itself per command).  Both print their own errors through
 * lfs_error_code() and return an exit status.
 */
#ifndef LFS_CMD_IMAGE_H
#define LFS_CMD_IMAGE_H

#include <limits.h>

#include "cli.h"
#include "session.h"
#include "vfs/lightfs.h"

enum lfs_ipath_kind { LFS_IPATH_HOST = 0, LFS_IPATH_IMAGE = 1, LFS_IPATH_STDIO = 2 };

struct lfs_ipath {
	enum lfs_ipath_kind kind;
	char image[PATH_MAX];      /* LFS_IPATH_IMAGE: the image file */
	char path[PATH_MAX];       /* path inside the image, or the host path */
};

/* Classify one argument.  Returns 0, or prints an error and returns an exit
 * status (LFS_EXIT_FAIL for an unknown image prefix, LFS_EXIT_USAGE for an
 * empty argument). */
int lfs_ipath_parse(struct lfs_ctx *c, const char *arg, struct lfs_ipath *out);

/* Is FILE an existing lightfs image (checks the KV header magic)? */
int lfs_is_image_file(const char *file);

struct lfs_img {
	struct lfs_mount *mnt;
	struct lfs_proc *proc;     /* cwd = / (or the session's proc) */
	char image[PATH_MAX];
	int from_session;          /* borrowed from c->sess: do not unmount */
	int write;
};

/* Mount IMAGE for this command (read-only unless write).  Reuses the shell
 * session's mount when IMAGE is the session's image.  Returns 0 or an exit
 * status after printing the error (3 when locked by another writer). */
int lfs_img_open(struct lfs_ctx *c, const char *image, int write, struct lfs_img *out);
/* Commit (write mode) and unmount; returns 0 or an exit status after
 * printing the error.  Always releases the image. */
int lfs_img_close(struct lfs_ctx *c, struct lfs_img *im);

#endif
