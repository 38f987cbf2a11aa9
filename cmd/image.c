/*
 * cmd/image.c — image path arguments and per-command image mounts (the
 * contract is cmd/image.h; the classification rules live in
 * lib/tools/ipath.c so the fuzzer can drive them).
 */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/ipath.h"

/* lib/kv/FORMAT.md: each header slot (offsets 0 and 2048) starts with it. */
#define KV_IMAGE_MAGIC "LFSKVIMG"

int lfs_is_image_file(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return 0;
	struct stat st;
	int ok = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		char m[8];
		if (pread(fd, m, sizeof m, 0) == (ssize_t)sizeof m && !memcmp(m, KV_IMAGE_MAGIC, 8))
			ok = 1;
		else if (pread(fd, m, sizeof m, 2048) == (ssize_t)sizeof m &&
			 !memcmp(m, KV_IMAGE_MAGIC, 8))
			ok = 1;
	}
	close(fd);
	return ok;
}

static int is_image_cb(void *arg, const char *prefix)
{
	(void)arg;
	return lfs_is_image_file(prefix);
}

static int classify(struct lfs_ctx *c, const char *arg, struct lfs_ipath *out,
		    struct lfs_ipath_res *r)
{
	struct lfs_ipath_env env = {
		.is_image = is_image_cb,
		.session_image = c->sess ? c->sess->image : NULL,
		.default_image = c->default_image,
	};
	*r = (struct lfs_ipath_res){
		.image = out->image, .image_cap = sizeof out->image,
		.path = out->path, .path_cap = sizeof out->path,
	};
	int rc = lfs_ipath_classify(arg, &env, r);
	if (rc == 0)
		out->kind = r->kind == LFS_IPC_IMAGE ? LFS_IPATH_IMAGE :
			    r->kind == LFS_IPC_STDIO ? LFS_IPATH_STDIO : LFS_IPATH_HOST;
	return rc;
}

int lfs_ipath_try(struct lfs_ctx *c, const char *arg, struct lfs_ipath *out)
{
	struct lfs_ipath_res r;
	return classify(c, arg, out, &r) == 0 ? 0 : -1;
}

int lfs_ipath_parse(struct lfs_ctx *c, const char *arg, struct lfs_ipath *out)
{
	struct lfs_ipath_res r;
	if (classify(c, arg, out, &r) == 0)
		return 0;
	switch (r.why) {
	case LFS_IPW_EMPTY:
		return lfs_usage(c, "empty path argument");
	case LFS_IPW_NOIMAGE: {
		struct stat st;
		if (stat(out->image, &st) < 0)
			return lfs_error(c, arg, "no such image '%s' (for a host file write ./%s)",
					 out->image, arg);
		return lfs_error(c, arg, "'%s' is not a lightfs image (for a host file write ./%s)",
				 out->image, arg);
	}
	case LFS_IPW_TOOLONG:
		return lfs_error(c, arg, "%s", strerror(ENAMETOOLONG));
	default:
		return lfs_usage(c, "bad path argument '%s'", arg);
	}
}

int lfs_ipath_image(struct lfs_ctx *c, const char *arg, struct lfs_ipath *out)
{
	int rc = lfs_ipath_parse(c, arg, out);
	if (rc)
		return rc;
	if (out->kind == LFS_IPATH_IMAGE)
		return 0;
	if (out->kind == LFS_IPATH_HOST && lfs_is_image_file(arg)) {
		/* `ls img.lfs`: the image's root */
		snprintf(out->image, sizeof out->image, "%s", arg);
		snprintf(out->path, sizeof out->path, "/");
		out->kind = LFS_IPATH_IMAGE;
		return 0;
	}
	if (out->kind == LFS_IPATH_STDIO)
		return lfs_usage(c, "'-' (stdin/stdout) is not allowed here");
	struct stat st;
	if (!strpbrk(arg, "/:") && stat(arg, &st) < 0)
		return lfs_error(c, arg, "no such image (a path in an image is written "
				 "IMAGE:/path; -i IMAGE sets a default image)");
	return lfs_error(c, arg, "not an image path (write IMAGE:/path, or give -i IMAGE)");
}

/* Same file?  By name first (cheap), then by device and inode. */
static int same_image(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return 1;
	struct stat sa, sb;
	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int is_session_image(struct lfs_ctx *c, const char *image)
{
	if (!c->sess)
		return 0;
	if (same_image(image, c->sess->image))
		return 1;
	/* the basename of the session's image (the shell's prompt shows it) */
	const char *b = strrchr(c->sess->image, '/');
	b = b && b[1] ? b + 1 : c->sess->image;
	return !strcmp(image, b) && access(image, F_OK) < 0;
}

int lfs_same_image(struct lfs_ctx *c, const char *a, const char *b)
{
	if (same_image(a, b))
		return 1;
	return is_session_image(c, a) && is_session_image(c, b);
}

int lfs_img_open(struct lfs_ctx *c, const char *image, int write, struct lfs_img *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->image, sizeof out->image, "%s", image);
	out->write = write;
	if (is_session_image(c, image)) {
		if (write && c->sess->readonly)
			return lfs_error(c, image, "the shell's image is mounted read-only (--ro)");
		out->mnt = c->sess->mnt;
		out->proc = c->sess->proc;
		out->from_session = 1;
		return LFS_EXIT_OK;
	}
	struct stat st;
	if (stat(image, &st) < 0)
		return lfs_error(c, image, "%s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return lfs_error(c, image, "is a directory, not a lightfs image");
	/* A writing command's pages are written once and rarely read again: a
	 * 16 MiB page cache (dirty limits 1.6 / 3.2 MiB) instead of 64 MiB
	 * spares populating frames it would fill once (cp -rp /usr/include:
	 * ~13% less CPU); reading commands keep the default for re-reads. */
	struct lfs_mount_opts mo = { .readonly = !write, .cache_bytes = write ? 16u << 20 : 0 };
	struct lfs_err err = { 0 };
	int rc = lfs_mount(image, &mo, &out->mnt, &err);
	if (rc < 0) {
		out->mnt = NULL;
		return lfs_error_code(c, image, rc, &err);
	}
	out->proc = lfs_proc_new(out->mnt);
	if (!out->proc) {
		lfs_umount(out->mnt, NULL);
		out->mnt = NULL;
		return lfs_error(c, image, "out of memory");
	}
	/* the whole command is one atomic transaction (committed by
	 * lfs_img_close; a crash before that leaves the image as it was) */
	if (write && (rc = lfs_atomic_begin(out->mnt)) < 0) {
		lfs_proc_free(out->proc);
		lfs_umount(out->mnt, NULL);
		out->mnt = NULL;
		out->proc = NULL;
		return lfs_error_code(c, image, rc, NULL);
	}
	return LFS_EXIT_OK;
}

int lfs_img_close(struct lfs_ctx *c, struct lfs_img *im)
{
	if (!im->mnt)
		return LFS_EXIT_OK;
	int rc = LFS_EXIT_OK;
	if (im->from_session) {
		im->mnt = NULL;
		im->proc = NULL;
		return rc;
	}
	lfs_proc_free(im->proc);
	struct lfs_err err = { 0 };
	if (im->write && lfs_atomic_depth(im->mnt)) {
		/* the acknowledgement point of the command: all it did, at once */
		int a = lfs_atomic_commit(im->mnt);
		if (a < 0) {
			im->commit_failed = 1;
			rc = lfs_error_code(c, im->image, a, NULL);
		}
	}
	int u = lfs_umount(im->mnt, &err);
	if (u < 0 && rc == LFS_EXIT_OK)
		rc = lfs_error_code(c, im->image, u, &err);
	im->mnt = NULL;
	im->proc = NULL;
	return rc;
}

/* ---------------------------------------------------------------- sets */

int lfs_imgs_get(struct lfs_ctx *c, struct lfs_imgs *s, const char *image, struct lfs_img **out)
{
	*out = NULL;
	for (int i = 0; i < s->n; i++) {
		if (same_image(s->v[i].image, image)) {
			*out = &s->v[i];
			return LFS_EXIT_OK;
		}
	}
	if (s->n == LFS_IMGS_MAX)
		return lfs_error(c, image, "too many images in one command (at most %d)",
				 LFS_IMGS_MAX);
	int rc = lfs_img_open(c, image, s->write, &s->v[s->n]);
	if (rc)
		return rc;
	*out = &s->v[s->n++];
	return LFS_EXIT_OK;
}

int lfs_imgs_arg(struct lfs_ctx *c, struct lfs_imgs *s, const char *arg, struct lfs_ipath *ip,
		 struct lfs_img **im, int *status)
{
	*im = NULL;
	int rc = lfs_ipath_image(c, arg, ip);
	if (rc == 0)
		rc = lfs_imgs_get(c, s, ip->image, im);
	if (rc && rc > *status)
		*status = rc;
	return rc;
}

int lfs_imgs_close(struct lfs_ctx *c, struct lfs_imgs *s)
{
	int rc = LFS_EXIT_OK;
	for (int i = 0; i < s->n; i++) {
		int r = lfs_img_close(c, &s->v[i]);
		if (r && !rc)
			rc = r;
	}
	s->n = 0;
	return rc;
}

const char *lfs_default_image(const struct lfs_ctx *c)
{
	return c->sess ? c->sess->image : c->default_image;
}

int lfs_bad_opt(struct lfs_ctx *c, char **argv, int o)
{
	extern int optind, optopt;
	const char *w = optind > 0 ? argv[optind - 1] : "?";
	const char *cur = argv[optind];
	/* A short option in the middle of a word ("-Xt") leaves optind on that
	 * word; after the word's last letter, or a long option, optind has
	 * moved past it.  optopt is the letter (or a long option's val). */
	if (optopt && cur && cur[0] == '-' && cur[1] && cur[1] != '-' && strchr(cur + 1, optopt))
		w = NULL;
	else if (w[0] == '-' && w[1] == '-') {
		size_t n = strcspn(w, "=");
		if (o == ':')
			return lfs_usage(c, "option '%.*s' needs an argument", (int)n, w);
		if (w[n] == '=' && optopt)
			return lfs_usage(c, "option '%.*s' takes no argument", (int)n, w);
		return lfs_usage(c, "unknown option '%.*s'", (int)n, w);
	}
	if (o == ':')
		return optopt ? lfs_usage(c, "option '-%c' needs an argument", optopt) :
				lfs_usage(c, "option '%s' needs an argument", w ? w : "?");
	if (optopt)
		return lfs_usage(c, "unknown option '-%c'", optopt);
	return lfs_usage(c, "unknown option '%s'", w ? w : "?");
}

int lfs_img_errno(struct lfs_ctx *c, const char *object, int code)
{
	return lfs_error_code(c, object, code, NULL);
}

/* ---------------------------------------------------------------- formatting */

void lfs_fmt_mode(uint32_t mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";
	char t;
	switch (mode & S_IFMT) {
	case S_IFDIR: t = 'd'; break;
	case S_IFLNK: t = 'l'; break;
	case S_IFCHR: t = 'c'; break;
	case S_IFBLK: t = 'b'; break;
	case S_IFIFO: t = 'p'; break;
	case S_IFSOCK: t = 's'; break;
	default: t = '-'; break;
	}
	out[0] = t;
	for (int i = 0; i < 9; i++)
		out[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	if (mode & S_ISUID)
		out[3] = (mode & S_IXUSR) ? 's' : 'S';
	if (mode & S_ISGID)
		out[6] = (mode & S_IXGRP) ? 's' : 'S';
	if (mode & S_ISVTX)
		out[9] = (mode & S_IXOTH) ? 't' : 'T';
	out[10] = 0;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static int utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	int n = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (!n || (n == 2 && p[0] < 0xc2) || (n == 4 && p[0] > 0xf4))
		return 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && p[0] == 0xe0 && p[1] < 0xa0)
		return 0; /* overlong */
	if (n == 3 && p[0] == 0xed && p[1] >= 0xa0)
		return 0; /* surrogates */
	if (n == 4 && p[0] == 0xf0 && p[1] < 0x90)
		return 0;
	if (n == 4 && p[0] == 0xf4 && p[1] >= 0x90)
		return 0;
	return n;
}

/* JSON string; bytes that are not valid UTF-8 are written \udcXX (Python's
 * surrogateescape), so any name survives and valid names read back as is. */
void lfs_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		switch (*p) {
		case '"': fputs("\\\"", f); p++; continue;
		case '\\': fputs("\\\\", f); p++; continue;
		case '\n': fputs("\\n", f); p++; continue;
		case '\t': fputs("\\t", f); p++; continue;
		case '\r': fputs("\\r", f); p++; continue;
		case '\b': fputs("\\b", f); p++; continue;
		case '\f': fputs("\\f", f); p++; continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p);
			p++;
			continue;
		}
		int n = utf8_len(p);
		if (!n) {
			fprintf(f, "\\udc%02x", *p);
			p++;
			continue;
		}
		fwrite(p, 1, (size_t)n, f);
		p += (size_t)n;
	}
	fputc('"', f);
}

const char *lfs_type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return "directory";
	case S_IFLNK: return "symbolic link";
	case S_IFREG: return "regular file";
	case S_IFCHR: return "character special file";
	case S_IFBLK: return "block special file";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	default: return "unknown";
	}
}

/* ---------------------------------------------------------------- paths */

int lfs_path_join(char *out, size_t cap, const char *dir, const char *name)
{
	size_t l = strlen(dir);
	int n;
	if (l && dir[l - 1] == '/')
		n = snprintf(out, cap, "%s%s", dir, name);
	else
		n = snprintf(out, cap, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int lfs_anc_enter(struct lfs_ctx *c, const char *disp, uint64_t ino, const struct lfs_anc *up,
		  struct lfs_anc *me)
{
	if (lfs_anc_has(up, ino)) {
		lfs_error(c, disp, "directory loop (the image is damaged; run lightfs fsck)");
		return LFS_EXIT_CORRUPT;
	}
	me->ino = ino;
	me->up = up;
	return 0;
}

const char *lfs_path_base(const char *path, char *buf, size_t cap)
{
	size_t l = strlen(path);
	while (l > 1 && path[l - 1] == '/')
		l--;
	size_t s = l;
	while (s > 0 && path[s - 1] != '/')
		s--;
	size_t n = l - s;
	if (n == 0) {
		snprintf(buf, cap, "/");
		return buf;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, path + s, n);
	buf[n] = 0;
	return buf;
}
