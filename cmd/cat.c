/*
 * cmd/cat.c — `lightfs cat IMAGE:/PATH...`: copy files of an image to
 * stdout, byte for byte.  Writes go straight to fd 1 in large chunks; a
 * closed pipe (EPIPE) ends the command quietly, as `cat | head` expects;
 * Ctrl-C in the shell (c->interrupted) stops it.
 */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CAT_BUF
#define CAT_BUF (128u << 10)              /* as GNU cat: stays in the CPU cache */
#endif
#define CAT_DROP_BEHIND (16ull << 20)
#define CAT_DIRECT      (16ull << 20)

enum { W_OK_ = 0, W_PIPE = 1, W_INTR = 2, W_ERR = 3 };

static int interrupted(struct lfs_ctx *c)
{
	return c->interrupted && *c->interrupted;
}

/* Write all of buf to fd 1. */
static int write_all(struct lfs_ctx *c, const char *buf, size_t n, int *err)
{
	while (n) {
		ssize_t w = write(1, buf, n);
		if (w < 0) {
			if (errno == EINTR) {
				if (interrupted(c))
					return W_INTR;
				continue;
			}
			*err = errno;
			return errno == EPIPE ? W_PIPE : W_ERR;
		}
		buf += w;
		n -= (size_t)w;
	}
	return interrupted(c) ? W_INTR : W_OK_;
}

static int cat_stdin(struct lfs_ctx *c, char *buf)
{
	for (;;) {
		ssize_t r = read(0, buf, CAT_BUF);
		if (r < 0 && errno == EINTR && !interrupted(c))
			continue;
		if (r < 0)
			return interrupted(c) ? W_INTR : lfs_error(c, "-", "%s", strerror(errno));
		if (r == 0)
			return 0;
		int e = 0, w = write_all(c, buf, (size_t)r, &e);
		if (w == W_ERR)
			return lfs_error(c, "stdout", "%s", strerror(e));
		if (w)
			return -w;
	}
}

static int cmd_cat_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = { { 0 } };
	int o;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+:", longopts, NULL)) != -1)
		return lfs_bad_opt(c, argv, o);
	if (optind >= argc)
		return lfs_usage(c, "no file given");
	char *buf = malloc(CAT_BUF);
	if (!buf)
		return lfs_error(c, NULL, "out of memory");
	fflush(stdout);
	struct lfs_imgs set = { .write = 0 };
	int status = LFS_EXIT_OK, stop = 0;
	for (int i = optind; i < argc && !stop; i++) {
		const char *arg = argv[i];
		struct lfs_ipath ip;
		int rc = lfs_ipath_parse(c, arg, &ip);
		if (rc == 0 && ip.kind == LFS_IPATH_STDIO) {
			rc = cat_stdin(c, buf);
			if (rc < 0) {
				stop = 1;
				if (rc == -W_INTR)
					status = lfs_error(c, NULL, "interrupted");
				continue;
			}
			if (rc)
				status = rc;
			continue;
		}
		if (rc == 0)
			rc = lfs_ipath_image(c, arg, &ip);
		if (rc) {
			status = status ? status : rc;
			continue;
		}
		struct lfs_img *im;
		rc = lfs_imgs_get(c, &set, ip.image, &im);
		if (rc) {
			status = status > rc ? status : rc;
			continue;
		}
		/* (no stat: it counts the file's pages for st_blocks; a directory
		 * opens and its first read says EISDIR) */
		int fd = lfs_open(im->proc, ip.path, O_RDONLY, 0);
		off_t size = fd < 0 ? 0 : lfs_lseek(im->proc, fd, 0, SEEK_END);
		if (size >= (off_t)CAT_DIRECT && !im->from_session) {
			/* a long stream: read past the cache (O_DIRECT), the
			 * pages straight into buf.  Not in the shell, where
			 * pages written but not stored yet live in the cache */
			int dfd = lfs_open(im->proc, ip.path, O_RDONLY | O_DIRECT, 0);
			if (dfd >= 0) {
				lfs_close(im->proc, fd);
				fd = dfd;
				size = 0;      /* no drop-behind needed */
			}
		}
		if (fd < 0) {
			int s = lfs_img_errno(c, arg, fd);
			status = status ? status : s;
			continue;
		}
		if (size > 0)
			lfs_lseek(im->proc, fd, 0, SEEK_SET);
		/* a file this large would flush the page cache anyway: drop the
		 * pages behind the reader (fadvise DONTNEED), so the stream
		 * recycles a few warm frames instead of cycling through the
		 * whole cache */
		int drop = size >= (off_t)CAT_DROP_BEHIND;
		if (drop)          /* a long stream: twice the readahead window */
			lfs_fadvise(im->proc, fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		uint64_t pos = 0;
		for (;;) {
			if (interrupted(c)) {
				status = lfs_error(c, NULL, "interrupted");
				stop = 1;
				break;
			}
			ssize_t r = lfs_read(im->proc, fd, buf, CAT_BUF);
			if (r < 0) {
				int s = lfs_img_errno(c, arg, (int)r);
				status = status ? status : s;
				break;
			}
			if (r == 0)
				break;
			int e = 0, w = write_all(c, buf, (size_t)r, &e);
			if (w == W_PIPE) {
				stop = 1; /* the reader went away: not an error */
				break;
			}
			if (w == W_INTR) {
				status = lfs_error(c, NULL, "interrupted");
				stop = 1;
				break;
			}
			if (w == W_ERR) {
				status = lfs_error(c, "stdout", "write error: %s", strerror(e));
				stop = 1;
				break;
			}
			if (drop)
				lfs_fadvise(im->proc, fd, (off_t)pos, (off_t)r, POSIX_FADV_DONTNEED);
			pos += (uint64_t)r;
		}
		lfs_close(im->proc, fd);
	}
	free(buf);
	int cs = lfs_imgs_close(c, &set);
	return status ? status : cs;
}

const struct lfs_cmd cmd_cat = {
	.name = "cat",
	.fn = cmd_cat_fn,
	.synopsis = "cat IMAGE:/PATH...",
	.summary = "write files of an image to standard output",
	.help =
	"Copy each file, in order, to standard output byte for byte (holes read\n"
	"as zeros).  '-' copies standard input.  With -i IMAGE or in the shell,\n"
	"plain paths name files in that image.\n\n"
	"A directory, a missing file or an unreadable page is reported on its own\n"
	"line and the other files are still written (exit 1).  When the reader of\n"
	"a pipe goes away (cat ... | head) cat stops quietly with exit 0; in the\n"
	"shell, Ctrl-C stops it.\n\n"
	"Examples:\n"
	"  lightfs cat img.lfs:/etc/passwd\n"
	"  lightfs cat img.lfs:/a img.lfs:/b > ab\n",
	.options = "",
};
