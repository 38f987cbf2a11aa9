/*
 * cmd/mkfs.c — `lightfs mkfs [-b PAGE] [--compress zstd[:LEVEL]|none]
 * [-L LABEL] [-f] IMAGE`: create an empty image.
 *
 * The new image is built in a temporary file next to IMAGE and renamed over
 * it, so a failing mkfs (or one killed half way) never leaves IMAGE
 * destroyed; with -f an existing image in use by another process (reader or
 * writer) is refused with exit 3 rather than pulled from under it.
 */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv/kv.h"

/* "zstd", "zstd:19", "none" */
int lfs_parse_compress(const char *s, int *compress, int *level)
{
	*level = 0;
	if (!strcmp(s, "none")) {
		*compress = LFS_KV_COMPRESS_NONE;
		return 0;
	}
	if (strncmp(s, "zstd", 4))
		return -1;
	*compress = LFS_KV_COMPRESS_ZSTD;
	if (!s[4])
		return 0;
	if (s[4] != ':' || !s[5])
		return -1;
	char *end;
	long v = strtol(s + 5, &end, 10);
	if (*end || v < -7 || v > 22 || v == 0)
		return -1;
	*level = (int)v;
	return 0;
}

/* "4096", "4k", "64K" */
static int parse_page(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -1;
	if (*end == 'k' || *end == 'K') {
		v *= 1024;
		end++;
	}
	if (*end || v < 512 || v > 65536 || (v & (v - 1)))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void sync_dir_of(const char *path)
{
	char *d = strdup(path);
	if (!d)
		return;
	int fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(d);
}

static int cmd_mkfs_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "page-size", required_argument, NULL, 'b' },
		{ "compress", required_argument, NULL, 'C' },
		{ "label", required_argument, NULL, 'L' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ 0 },
	};
	struct lfs_mkfs_opts mo = { 0 };
	const char *comp = "none";
	int quiet = 0, dry = 0, o;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":b:L:fqn", longopts, NULL)) != -1) {
		switch (o) {
		case 'b':
			if (parse_page(optarg, &mo.page_size) < 0)
				return lfs_usage(c, "-b %s: page size must be a power of two "
						 "from 512 to 65536", optarg);
			break;
		case 'C':
			if (lfs_parse_compress(optarg, &mo.compress, &mo.level) < 0)
				return lfs_usage(c, "--compress %s: want none, zstd or zstd:LEVEL "
						 "(LEVEL 1..22, or -7..-1 for fast)", optarg);
			comp = optarg;
			break;
		case 'L':
			if (strlen(optarg) > 63)
				return lfs_usage(c, "-L: label longer than %d bytes",
						 63);
			mo.label = optarg;
			break;
		case 'f': mo.force = 1; break;
		case 'q': quiet = 1; break;
		case 'n': dry = 1; break;
		default: return lfs_bad_opt(c, argv, o);
		}
	}
	if (optind >= argc)
		return lfs_usage(c, "no image given");
	if (optind + 1 < argc)
		return lfs_usage(c, "unexpected argument '%s'", argv[optind + 1]);
	const char *image = argv[optind];
	if (c->sess)
		return lfs_error(c, image, "not available inside the shell");

	struct stat st;
	int lockfd = -1;
	if (lstat(image, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return lfs_error(c, image, "is a directory");
		if (!mo.force)
			return lfs_error(c, image, "exists; use -f to overwrite it");
		if (!S_ISREG(st.st_mode))
			return lfs_error(c, image, "not a regular file; refusing to replace it");
		if (dry) {
			printf("would replace %s with a lightfs image, page size %u, compression %s, "
			       "label \"%s\"\n", image, mo.page_size ? mo.page_size : 4096, comp,
			       mo.label ? mo.label : "");
			return LFS_EXIT_OK;
		}
		/* in use?  take the writer lock on the old image until it is replaced */
		lockfd = open(image, O_RDONLY | O_CLOEXEC);
		if (lockfd >= 0 && flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
			pid_t pid = lfs_kv_lock_owner(image);
			close(lockfd);
			if (pid)
				lfs_error(c, image, "image is in use by pid %d", (int)pid);
			else
				lfs_error(c, image, "image is in use by another process");
			return LFS_EXIT_LOCKED;
		}
	} else if (errno != ENOENT) {
		return lfs_error(c, image, "%s", strerror(errno));
	} else if (dry) {
		printf("would create %s: lightfs image, page size %u, compression %s, label \"%s\"\n",
		       image, mo.page_size ? mo.page_size : 4096, comp, mo.label ? mo.label : "");
		return LFS_EXIT_OK;
	}

	size_t tl = strlen(image) + 32;
	char *tmp = malloc(tl);
	if (!tmp) {
		if (lockfd >= 0)
			close(lockfd);
		return lfs_error(c, image, "out of memory");
	}
	snprintf(tmp, tl, "%s.mkfs-%d", image, (int)getpid());
	unlink(tmp);
	struct lfs_mkfs_opts to = mo;
	to.force = 0;
	struct lfs_err err = { 0 };
	int rc = lfs_mkfs(tmp, &to, &err);
	if (rc == 0 && rename(tmp, image) < 0)
		rc = lfs_seterr(&err, -errno, "rename: %s", strerror(errno));
	if (rc < 0) {
		unlink(tmp);
		free(tmp);
		if (lockfd >= 0)
			close(lockfd);
		return lfs_error_code(c, image, rc, &err);
	}
	free(tmp);
	sync_dir_of(image);
	if (lockfd >= 0)
		close(lockfd);
	if (!quiet)
		printf("%s: lightfs image, page size %u, compression %s, label \"%s\"\n", image,
		       mo.page_size ? mo.page_size : 4096, comp, mo.label ? mo.label : "");
	return LFS_EXIT_OK;
}

const struct lfs_cmd cmd_mkfs = {
	.name = "mkfs",
	.fn = cmd_mkfs_fn,
	.synopsis = "mkfs [-b PAGE] [--compress zstd[:LEVEL]|none] [-L LABEL] [-f] [-q] [-n] IMAGE",
	.summary = "create an empty lightfs image",
	.help =
	"Create IMAGE, an empty filesystem image holding only its root directory.\n"
	"An existing file is never overwritten without -f; with -f it is replaced\n"
	"atomically (the new image is built next to it and renamed over it), and\n"
	"an image another process has open is refused (exit 3).\n\n"
	"Options:\n"
	"  -b PAGE, --page-size PAGE\n"
	"                 data page size in bytes: a power of two from 512 to 65536\n"
	"                 (4k and 64K are accepted); default 4096\n"
	"  --compress zstd[:LEVEL]|none\n"
	"                 compress data and metadata values with zstd (LEVEL 1..22,\n"
	"                 -7..-1 for the fast levels; default 3), or not at all\n"
	"                 (the default); values that do not shrink are stored raw\n"
	"  -L LABEL, --label LABEL\n"
	"                 a name of at most 63 bytes, shown by 'lightfs info'\n"
	"  -f, --force    replace an existing file\n"
	"  -q, --quiet    print nothing on success\n"
	"  -n, --dry-run  create nothing; print what would be created\n\n"
	"On success one line describes the new image.\n\n"
	"Examples:\n"
	"  lightfs mkfs img.lfs\n"
	"  lightfs mkfs -b 16k --compress zstd:9 -L backup -f img.lfs\n",
	.flags = LFS_CMD_NOSHELL,
	.options = "-b --page-size --compress -L --label -f --force -q --quiet -n --dry-run",
};
