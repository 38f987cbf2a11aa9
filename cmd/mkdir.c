/*
 * cmd/mkdir.c — `lightfs mkdir [-p] [-m MODE] [-v] [-n] IMAGE:/DIR...`.
 */
#include "image.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Octal MODE ("755", "0700"); -1 if bad. */
int lfs_parse_mode(const char *s)
{
	char *end;
	long v = strtol(s, &end, 8);
	if (!*s || *end || v < 0 || v > 07777)
		return -1;
	return (int)v;
}

/* mkdir -p: create each missing component; an existing directory is fine. */
static int mkdir_parents(struct lfs_proc *p, const char *path, mode_t mode, int verbose,
			 const char *disp_prefix)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	size_t l = strlen(buf);
	for (size_t i = 1; i <= l; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		if (buf[i - 1] == '/')
			continue;
		char save = buf[i];
		buf[i] = 0;
		struct lfs_stat st;
		int rc = lfs_stat(p, buf, &st);
		if (rc == -ENOENT) {
			rc = lfs_mkdir(p, buf, i == l ? mode : 0755);
			if (rc == 0 && verbose)
				printf("mkdir: created directory '%s%s'\n", disp_prefix, buf);
		} else if (rc == 0 && !S_ISDIR(st.mode)) {
			rc = -ENOTDIR;
		}
		buf[i] = save;
		if (rc < 0 && rc != -EEXIST)
			return rc;
	}
	return 0;
}

static int cmd_mkdir_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "parents", no_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ 0 },
	};
	int parents = 0, verbose = 0, dry = 0, o;
	mode_t mode = 0755;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":pm:vn", longopts, NULL)) != -1) {
		switch (o) {
		case 'p': parents = 1; break;
		case 'm': {
			int m = lfs_parse_mode(optarg);
			if (m < 0)
				return lfs_usage(c, "-m %s: want an octal mode such as 755", optarg);
			mode = (mode_t)m;
			break;
		}
		case 'v': verbose = 1; break;
		case 'n': dry = 1; break;
		default: return lfs_bad_opt(c, argv, o);
		}
	}
	if (optind >= argc)
		return lfs_usage(c, "no directory given");
	struct lfs_imgs set = { .write = !dry };
	int status = LFS_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		if (c->interrupted && *c->interrupted)
			break;
		struct lfs_ipath ip;
		struct lfs_img *im;
		int rc = lfs_imgs_arg(c, &set, argv[i], &ip, &im, &status);
		if (rc)
			continue;
		if (dry) {
			struct lfs_stat st;
			int e = lfs_stat(im->proc, ip.path, &st);
			if (e == 0 && !parents) {
				status = lfs_img_errno(c, argv[i], -EEXIST);
				continue;
			}
			if (e < 0 || !S_ISDIR(st.mode))
				printf("would create directory '%s'\n", argv[i]);
			continue;
		}
		if (parents) {
			char pre[PATH_MAX + 2] = "";
			size_t al = strlen(argv[i]), pl = strlen(ip.path);
			if (al >= pl && !strcmp(argv[i] + al - pl, ip.path))
				snprintf(pre, sizeof pre, "%.*s", (int)(al - pl), argv[i]);
			rc = mkdir_parents(im->proc, ip.path, mode, verbose, pre);
		} else {
			rc = lfs_mkdir(im->proc, ip.path, mode);
			if (rc == 0 && verbose)
				printf("mkdir: created directory '%s'\n", argv[i]);
		}
		if (rc < 0) {
			int s = lfs_img_errno(c, argv[i], rc);
			status = status ? status : s;
		}
	}
	int cs = lfs_imgs_close(c, &set);
	return status ? status : cs;
}

const struct lfs_cmd cmd_mkdir = {
	.name = "mkdir",
	.fn = cmd_mkdir_fn,
	.synopsis = "mkdir [-p] [-m MODE] [-v] [-n] IMAGE:/DIR...",
	.summary = "create directories in an image",
	.help =
	"Create each DIR.  Its parent must exist unless -p is given; an existing\n"
	"DIR is an error unless -p is given.\n\n"
	"Options:\n"
	"  -p, --parents  create missing parents too; no error if DIR exists as a\n"
	"                 directory (an existing non-directory is still an error)\n"
	"  -m MODE, --mode MODE\n"
	"                 permissions of the new directories, octal (default 755)\n"
	"  -v, --verbose  print a line for each directory created\n"
	"  -n, --dry-run  change nothing; print what would be created\n\n"
	"The command is one transaction: killed or cut by a power loss, it leaves\n"
	"no directory of it.  A failing DIR gets an error line and the others are\n"
	"still created (exit 1).\n\n"
	"Examples:\n"
	"  lightfs mkdir img.lfs:/etc\n"
	"  lightfs mkdir -p img.lfs:/usr/local/share\n",
	.options = "-p --parents -m --mode -v --verbose -n --dry-run",
};
