/*
 * cmd/ln.c — `lightfs ln [-s] [-f] [-v] [-n] TARGET IMAGE:/LINK`: symbolic
 * and hard links inside an image.
 */
#include "image.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

static int cmd_ln_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "symbolic", no_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ 0 },
	};
	int sym = 0, force = 0, verbose = 0, dry = 0, o;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":sfvn", longopts, NULL)) != -1) {
		switch (o) {
		case 's': sym = 1; break;
		case 'f': force = 1; break;
		case 'v': verbose = 1; break;
		case 'n': dry = 1; break;
		default: return lfs_bad_opt(c, argv, o);
		}
	}
	if (argc - optind != 2)
		return lfs_usage(c, "want TARGET and LINK");
	const char *target_arg = argv[optind], *link_arg = argv[optind + 1];
	if (!*target_arg)
		return lfs_usage(c, "empty TARGET");
	struct lfs_ipath lk;
	int rc = lfs_ipath_image(c, link_arg, &lk);
	if (rc)
		return rc;
	/* the target: for -s the text to store (an IMAGE: prefix naming the
	 * link's own image is dropped); for a hard link, a path in the image */
	char target[PATH_MAX];
	if (sym) {
		snprintf(target, sizeof target, "%s", target_arg);
		const char *colon = strchr(target_arg, ':');
		if (colon && colon > target_arg) {
			struct lfs_ipath t2;
			if (lfs_ipath_try(c, target_arg, &t2) == 0 &&
			    t2.kind == LFS_IPATH_IMAGE && lfs_same_image(c, t2.image, lk.image) &&
			    strncmp(target_arg, "./", 2) && target_arg[0] != '/')
				snprintf(target, sizeof target, "%s", t2.path);
		}
	} else {
		struct lfs_ipath tp;
		rc = lfs_ipath_image(c, target_arg, &tp);
		if (rc)
			return rc;
		if (!lfs_same_image(c, tp.image, lk.image))
			return lfs_error(c, link_arg, "a hard link must be in the same image as its target");
		snprintf(target, sizeof target, "%s", tp.path);
	}
	struct lfs_img im;
	rc = lfs_img_open(c, lk.image, !dry, &im);
	if (rc)
		return rc;
	char linkpath[PATH_MAX], disp[PATH_MAX], base[256];
	struct lfs_stat st;
	if (lfs_stat(im.proc, lk.path, &st) == 0 && S_ISDIR(st.mode)) {
		/* LINK is a directory: the link goes inside it, named as the target */
		lfs_path_base(target, base, sizeof base);
		if (lfs_path_join(linkpath, sizeof linkpath, lk.path, base) < 0 ||
		    lfs_path_join(disp, sizeof disp, link_arg, base) < 0) {
			lfs_img_close(c, &im);
			return lfs_img_errno(c, link_arg, -ENAMETOOLONG);
		}
	} else {
		snprintf(linkpath, sizeof linkpath, "%s", lk.path);
		snprintf(disp, sizeof disp, "%s", link_arg);
	}
	int status = LFS_EXIT_OK;
	if (!sym) {
		rc = lfs_lstat(im.proc, target, &st);
		if (rc == 0 && S_ISDIR(st.mode))
			rc = -EPERM;
		if (rc < 0) {
			status = lfs_img_errno(c, target_arg, rc == -EPERM ? -EISDIR : rc);
			goto out;
		}
	}
	struct lfs_stat old;
	int exists = lfs_lstat(im.proc, linkpath, &old) == 0;
	if (exists && !force) {
		status = lfs_img_errno(c, disp, -EEXIST);
		goto out;
	}
	if (exists && S_ISDIR(old.mode)) {
		status = lfs_img_errno(c, link_arg, -EISDIR);
		goto out;
	}
	if (dry) {
		printf("would %slink '%s' -> '%s'%s\n", sym ? "symbolically " : "hard ", disp,
		       target, exists ? " (replacing it)" : "");
		goto out;
	}
	if (exists) {
		/* build the link under a temporary name, then rename it over the
		 * old one: LINK is never missing */
		char tmp[PATH_MAX + 16];
		snprintf(tmp, sizeof tmp, "%s.ln-tmp", linkpath);
		rc = sym ? lfs_symlink(im.proc, target, tmp) : lfs_link(im.proc, target, tmp);
		if (rc == 0) {
			rc = lfs_rename(im.proc, tmp, linkpath, 0);
			if (rc < 0)
				lfs_unlink(im.proc, tmp);
		}
	} else {
		rc = sym ? lfs_symlink(im.proc, target, linkpath) : lfs_link(im.proc, target, linkpath);
	}
	if (rc < 0) {
		status = lfs_img_errno(c, link_arg, rc);
		goto out;
	}
	if (verbose)
		printf("'%s' -> '%s'\n", disp, target);
out:;
	int cs = lfs_img_close(c, &im);
	return status ? status : cs;
}

const struct lfs_cmd cmd_ln = {
	.name = "ln",
	.fn = cmd_ln_fn,
	.synopsis = "ln [-s] [-f] [-v] [-n] TARGET IMAGE:/LINK",
	.summary = "make symbolic or hard links in an image",
	.help =
	"With -s, create the symbolic link LINK holding the text TARGET, stored as\n"
	"written (it need not exist; an IMAGE: prefix naming LINK's own image is\n"
	"dropped).  Without -s, TARGET is a file of the same image and LINK\n"
	"becomes another name of it (a hard link; directories cannot be linked).\n"
	"When LINK is an existing directory the link is made inside it, named\n"
	"after TARGET's last component.\n\n"
	"Options:\n"
	"  -s, --symbolic make a symbolic link instead of a hard link\n"
	"  -f, --force    replace an existing LINK (atomically: the new link is\n"
	"                 made under a temporary name and renamed over it)\n"
	"  -v, --verbose  print the link made\n"
	"  -n, --dry-run  change nothing; print the link that would be made\n\n"
	"Examples:\n"
	"  lightfs ln -s ../lib/libz.so.1 img.lfs:/usr/lib/libz.so\n"
	"  lightfs ln img.lfs:/data/a img.lfs:/data/a.bak\n",
	.options = "-s --symbolic -f --force -v --verbose -n --dry-run",
};
