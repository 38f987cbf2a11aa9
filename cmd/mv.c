/*
 * cmd/mv.c — `lightfs mv [-f] [--no-clobber] [-T] [-v] [-n] SRC... DST`:
 * rename within one image (lfs_rename).  The whole command is one
 * transaction (cmd/image.c), so a crash leaves every SRC where it was or
 * every one moved, never both or neither.  Moving between two images or to
 * the host is cp + rm.
 */
#include "image.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

static int cmd_mv_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "no-clobber", no_argument, NULL, 'K' },
		{ "no-target-directory", no_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ 0 },
	};
	int noclobber = 0, notdir = 0, verbose = 0, dry = 0, o;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":fTvn", longopts, NULL)) != -1) {
		switch (o) {
		case 'f': noclobber = 0; break;
		case 'K': noclobber = 1; break;
		case 'T': notdir = 1; break;
		case 'v': verbose = 1; break;
		case 'n': dry = 1; break;
		default: return lfs_bad_opt(c, argv, o);
		}
	}
	int n = argc - optind;
	if (n < 2)
		return lfs_usage(c, n ? "missing destination after '%s'" : "missing source and destination",
				 n ? argv[optind] : "");
	if (notdir && n > 2)
		return lfs_usage(c, "-T takes one source and one destination");
	const char *dst_arg = argv[argc - 1];
	struct lfs_ipath dst;
	int rc = lfs_ipath_image(c, dst_arg, &dst);
	if (rc)
		return rc;
	struct lfs_img im;
	rc = lfs_img_open(c, dst.image, !dry, &im);
	if (rc)
		return rc;
	struct lfs_stat dst_st;
	int dst_rc = lfs_stat(im.proc, dst.path, &dst_st);
	int into = !notdir && dst_rc == 0 && S_ISDIR(dst_st.mode);
	if (n > 2 && !into) {
		lfs_img_close(c, &im);
		return lfs_error(c, dst_arg, "target is not a directory");
	}
	int status = LFS_EXIT_OK;
	for (int i = optind; i < argc - 1; i++) {
		if (c->interrupted && *c->interrupted)
			break;
		struct lfs_ipath src;
		rc = lfs_ipath_image(c, argv[i], &src);
		if (rc) {
			status = status ? status : rc;
			continue;
		}
		if (!lfs_same_image(c, src.image, dst.image)) {
			int s = lfs_error(c, argv[i], "cannot move between images "
					  "(copy with 'lightfs cp', then 'lightfs rm')");
			status = status ? status : s;
			continue;
		}
		char to[PATH_MAX], todisp[PATH_MAX], base[256];
		if (into) {
			lfs_path_base(src.path, base, sizeof base);
			if (lfs_path_join(to, sizeof to, dst.path, base) < 0 ||
			    lfs_path_join(todisp, sizeof todisp, dst_arg, base) < 0) {
				int s = lfs_img_errno(c, argv[i], -ENAMETOOLONG);
				status = status ? status : s;
				continue;
			}
		} else {
			snprintf(to, sizeof to, "%s", dst.path);
			snprintf(todisp, sizeof todisp, "%s", dst_arg);
		}
		struct lfs_stat sst;
		rc = lfs_lstat(im.proc, src.path, &sst);
		if (rc == 0 && dry) {
			struct lfs_stat tst;
			if (noclobber && lfs_lstat(im.proc, to, &tst) == 0)
				printf("would skip '%s' ('%s' exists)\n", argv[i], todisp);
			else
				printf("would rename '%s' -> '%s'\n", argv[i], todisp);
			continue;
		}
		if (rc == 0) {
			rc = lfs_rename(im.proc, src.path, to, noclobber ? LFS_RENAME_NOREPLACE : 0);
			if (rc == -EEXIST && noclobber)
				continue; /* as GNU mv -n: silently keep the destination */
		}
		if (rc == -EINVAL && S_ISDIR(sst.mode)) {
			int s = lfs_error(c, argv[i], "cannot move a directory into itself ('%s')",
					  todisp);
			status = status ? status : s;
			continue;
		}
		if (rc < 0) {
			int s = lfs_img_errno(c, argv[i], rc);
			status = status ? status : s;
			continue;
		}
		if (verbose)
			printf("renamed '%s' -> '%s'\n", argv[i], todisp);
	}
	int cs = lfs_img_close(c, &im);
	return status ? status : cs;
}

const struct lfs_cmd cmd_mv = {
	.name = "mv",
	.fn = cmd_mv_fn,
	.synopsis = "mv [-f] [--no-clobber] [-T] [-v] [-n] IMAGE:/SRC... IMAGE:/DST",
	.summary = "rename or move entries within an image",
	.help =
	"Rename SRC to DST, or move each SRC into DST when DST is an existing\n"
	"directory (required with several SRC).  An existing DST file is replaced\n"
	"atomically; a directory may replace an empty directory only.  A\n"
	"directory cannot be moved into itself.  SRC and DST must be in the same\n"
	"image: between images, or to the host, use 'lightfs cp' and 'lightfs rm'.\n\n"
	"Options:\n"
	"  -f, --force    replace existing destinations (the default)\n"
	"  --no-clobber   never replace an existing destination; skip that SRC\n"
	"  -T, --no-target-directory\n"
	"                 treat DST as a name even when it is a directory\n"
	"  -v, --verbose  print a line for each rename\n"
	"  -n, --dry-run  change nothing; print the renames that would be done\n\n"
	"The command is one transaction: killed or cut by a power loss, it leaves\n"
	"nothing moved.  A SRC that cannot be moved gets an error line and the\n"
	"others are still moved (exit 1).\n\n"
	"Examples:\n"
	"  lightfs mv img.lfs:/a.txt img.lfs:/b.txt\n"
	"  lightfs mv img.lfs:/x img.lfs:/y img.lfs:/dir/\n",
	.options = "-f --force --no-clobber -T --no-target-directory -v --verbose -n --dry-run",
};
