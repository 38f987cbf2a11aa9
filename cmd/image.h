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
 * mount when the image is the session's.  A command's own write mount is one
 * atomic transaction (lfs_atomic_begin at open, lfs_atomic_commit in
 * lfs_img_close: a crash or kill before that leaves the image exactly as it
 * was; a command that fails on some items still commits the others).
 * lfs_img_close() commits and unmounts (no-op for the session's mount: the
 * shell makes each command one transaction itself).  Both print their own errors through
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
	int commit_failed;         /* lfs_img_close: the command's transaction did not commit */
};

/* Mount IMAGE for this command (read-only unless write).  Reuses the shell
 * session's mount when IMAGE is the session's image.  Returns 0 or an exit
 * status after printing the error (3 when locked by another writer). */
int lfs_img_open(struct lfs_ctx *c, const char *image, int write, struct lfs_img *out);
/* Commit (write mode) and unmount; returns 0 or an exit status after
 * printing the error.  Always releases the image. */
int lfs_img_close(struct lfs_ctx *c, struct lfs_img *im);

/* ---- additions (used by the image commands) ---- */

#include <stdint.h>
#include <stdio.h>

/* lfs_ipath_parse, but the argument must name a path in an image: a plain
 * argument that is itself an image file means its root ("ls img.lfs");
 * anything else on the host is an error. */
int lfs_ipath_image(struct lfs_ctx *c, const char *arg, struct lfs_ipath *out);

/* The images one command touches, each mounted once (all read-only or all
 * for writing).  Zero-initialise, set .write, get, then close. */
#define LFS_IMGS_MAX 8
struct lfs_imgs {
	int write;
	int n;
	struct lfs_img v[LFS_IMGS_MAX];
};
int lfs_imgs_get(struct lfs_ctx *c, struct lfs_imgs *s, const char *image, struct lfs_img **out);
int lfs_imgs_close(struct lfs_ctx *c, struct lfs_imgs *s);
/* One path argument of a command working through S: classify it
 * (lfs_ipath_image) and mount its image (lfs_imgs_get).  0 with *im set;
 * otherwise the error is printed and *status raised to its exit status:
 * go on with the next argument. */
int lfs_imgs_arg(struct lfs_ctx *c, struct lfs_imgs *s, const char *arg, struct lfs_ipath *ip,
		 struct lfs_img **im, int *status);

/* lfs_ipath_parse without messages: 0, or -1 when the argument is refused. */
int lfs_ipath_try(struct lfs_ctx *c, const char *arg, struct lfs_ipath *out);

/* Do two image names (as given) name the same image (same file, or both
 * the shell session's)? */
int lfs_same_image(struct lfs_ctx *c, const char *a, const char *b);

/* The usage error for getopt's '?' or ':' (call getopt with opterr = 0 and
 * an optstring starting with ':'). */
int lfs_bad_opt(struct lfs_ctx *c, char **argv, int o);
/* The image a whole-image command (info, fsck, compact) works on when no
 * IMAGE is given: the shell session's, else -i IMAGE's; NULL if neither. */
const char *lfs_default_image(const struct lfs_ctx *c);

/* lfs_error_code without an lfs_err. */
int lfs_img_errno(struct lfs_ctx *c, const char *object, int code);

/* "drwxr-xr-x" of a mode; "regular file" etc.; a JSON string literal. */
void lfs_fmt_mode(uint32_t mode, char out[11]);
const char *lfs_type_name(uint32_t mode);
void lfs_json_str(FILE *f, const char *s);

/* dir + "/" + name (no doubled '/'): 0, or -ENAMETOOLONG (out truncated).
 * The last component of path ("/" for /). */
int lfs_path_join(char *out, size_t cap, const char *dir, const char *name);
const char *lfs_path_base(const char *path, char *buf, size_t cap);

/* The directories above the one a recursive command is in (ls -R, tree,
 * rm -r): a damaged image can hold a directory loop, which must end in an
 * error, not in endless recursion. */
struct lfs_anc {
	uint64_t ino;
	const struct lfs_anc *up;
};
static inline int lfs_anc_has(const struct lfs_anc *a, uint64_t ino)
{
	for (; a; a = a->up)
		if (a->ino == ino)
			return 1;
	return 0;
}
/* Enter directory ino below up: fills *me and returns 0, or reports the
 * loop ("directory loop ... run lightfs fsck") and returns LFS_EXIT_CORRUPT. */
int lfs_anc_enter(struct lfs_ctx *c, const char *disp, uint64_t ino, const struct lfs_anc *up,
		  struct lfs_anc *me);

/* Argument parsers shared by the image commands (0, or -1 when malformed):
 * "none" / "zstd" / "zstd:LEVEL" (mkfs.c); an octal mode (mkdir.c); a size
 * with K/M/G/T/P/E (1024) or KB/MB/... (1000) suffix (truncate.c); a date:
 * now, @SECONDS[.FRAC], YYYY-MM-DD[ HH:MM[:SS[.FRAC]]][Z] in ns (touch.c). */
int lfs_parse_compress(const char *s, int *compress, int *level);
int lfs_parse_mode(const char *s);
int lfs_parse_size(const char *s, uint64_t *out);
int lfs_parse_date(const char *s, uint64_t *ns);

/* Time as GNU ls -l shows it (local time), or ISO 8601 UTC with ns (iso). */
void lfs_fmt_time(uint64_t ns, char *buf, size_t cap, int iso);
/* User / group name, or the number (always the number with numeric). */
const char *lfs_user_name(uint32_t uid, int numeric, char *buf, size_t cap);
const char *lfs_group_name(uint32_t gid, int numeric, char *buf, size_t cap);
/* One JSON line describing an entry (ls --json, stat --json); image, name
 * and target may be NULL. */
void lfs_json_stat(FILE *f, const char *image, const char *path, const char *name,
		   const struct lfs_stat *st, const char *target);

#endif
