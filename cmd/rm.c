/*
 * cmd/rm.c — `lightfs rm [-r] [-f] [-d] [-v] [-n] IMAGE:/PATH...`.
 *
 * Removes entries, never following symbolic links (a link is removed, not
 * its target).  -r removes a directory tree depth first.  The whole command
 * is one transaction (cmd/image.c): an interrupted rm -r leaves the tree as
 * it was.  The root directory is never removed.
 */
#include "image.h"
#include "common/grow.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct rm_opts {
	int recursive, force, dirs, verbose, dry;
};

struct names {
	char **v;
	size_t n, cap;
};

static int names_cb(void *arg, const struct lfs_dirent *de)
{
	struct names *n = arg;
	if (lfs_grow(&n->v, &n->cap, n->n + 1, sizeof *n->v, 32) < 0)
		return -ENOMEM;
	if (!(n->v[n->n] = strdup(de->name)))
		return -ENOMEM;
	n->n++;
	return 0;
}

static void names_free(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
}

/* Remove path (shown as disp); returns an exit status. */
static int rm_one(struct lfs_ctx *c, const struct rm_opts *o, struct lfs_proc *p,
		  const char *path, const char *disp, const struct lfs_anc *up)
{
	if (c->interrupted && *c->interrupted)
		return lfs_error(c, NULL, "interrupted");
	struct lfs_stat st;
	int rc = lfs_lstat(p, path, &st);
	if (rc < 0) {
		if (rc == -ENOENT && o->force)
			return LFS_EXIT_OK;
		return lfs_img_errno(c, disp, rc);
	}
	if (S_ISDIR(st.mode)) {
		if (!o->recursive && !o->dirs)
			return lfs_img_errno(c, disp, -EISDIR);
		int status = LFS_EXIT_OK;
		if (o->recursive) {
			struct lfs_anc me;
			if (lfs_anc_enter(c, disp, st.ino, up, &me))
				return LFS_EXIT_CORRUPT;
			struct names n = { 0 };
			rc = lfs_readdir(p, path, names_cb, &n);
			if (rc < 0) {
				names_free(&n);
				return lfs_img_errno(c, disp, rc);
			}
			/* on the heap: the recursion may be PATH_MAX / 2 levels deep */
			char *cp = malloc(2 * PATH_MAX), *cd = cp + PATH_MAX;
			if (!cp) {
				names_free(&n);
				return lfs_img_errno(c, disp, -ENOMEM);
			}
			for (size_t i = 0; i < n.n; i++) {
				int s;
				if (lfs_path_join(cp, PATH_MAX, path, n.v[i]) < 0 ||
				    lfs_path_join(cd, PATH_MAX, disp, n.v[i]) < 0)
					s = lfs_img_errno(c, disp, -ENAMETOOLONG);
				else
					s = rm_one(c, o, p, cp, cd, &me);
				if (s && !status)
					status = s;
				if (c->interrupted && *c->interrupted)
					break;
			}
			free(cp);
			names_free(&n);
			if (status)
				return status;
		}
		if (o->dry) {
			printf("would remove directory '%s'\n", disp);
			return LFS_EXIT_OK;
		}
		rc = lfs_rmdir(p, path);
		if (rc < 0)
			return lfs_img_errno(c, disp, rc);
		if (o->verbose)
			printf("removed directory '%s'\n", disp);
		return LFS_EXIT_OK;
	}
	if (o->dry) {
		printf("would remove '%s'\n", disp);
		return LFS_EXIT_OK;
	}
	rc = lfs_unlink(p, path);
	if (rc < 0)
		return lfs_img_errno(c, disp, rc);
	if (o->verbose)
		printf("removed '%s'\n", disp);
	return LFS_EXIT_OK;
}

/* Is path the root (or made only of '/', '.' and '..' components)? */
static int is_rootish(struct lfs_proc *p, const char *path)
{
	struct lfs_stat st, root;
	if (lfs_lstat(p, path, &st) < 0 || lfs_lstat(p, "/", &root) < 0)
		return 0;
	return st.ino == root.ino;
}

static int ends_in_dot(const char *path)
{
	size_t l = strlen(path);
	while (l > 1 && path[l - 1] == '/')
		l--;
	size_t s = l;
	while (s > 0 && path[s - 1] != '/')
		s--;
	return (l - s == 1 && path[s] == '.') || (l - s == 2 && path[s] == '.' && path[s + 1] == '.');
}

static int cmd_rm_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "dir", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ 0 },
	};
	struct rm_opts o = { 0 };
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":rRfdvn", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r': case 'R': o.recursive = 1; break;
		case 'f': o.force = 1; break;
		case 'd': o.dirs = 1; break;
		case 'v': o.verbose = 1; break;
		case 'n': o.dry = 1; break;
		default: return lfs_bad_opt(c, argv, opt);
		}
	}
	if (optind >= argc)
		return o.force ? LFS_EXIT_OK : lfs_usage(c, "no path given");
	struct lfs_imgs set = { .write = !o.dry };
	int status = LFS_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		if (c->interrupted && *c->interrupted)
			break;
		struct lfs_ipath ip;
		struct lfs_img *im;
		int rc = lfs_imgs_arg(c, &set, argv[i], &ip, &im, &status);
		if (rc)
			continue;
		int s;
		if (ends_in_dot(ip.path))
			s = lfs_error(c, argv[i], "refusing to remove '.' or '..'");
		else if (is_rootish(im->proc, ip.path))
			s = lfs_error(c, argv[i], "refusing to remove the root directory");
		else
			s = rm_one(c, &o, im->proc, ip.path, argv[i], NULL);
		if (s && !status)
			status = s;
	}
	int cs = lfs_imgs_close(c, &set);
	return status ? status : cs;
}

const struct lfs_cmd cmd_rm = {
	.name = "rm",
	.fn = cmd_rm_fn,
	.synopsis = "rm [-r] [-f] [-d] [-v] [-n] IMAGE:/PATH...",
	.summary = "remove files, links and directories from an image",
	.help =
	"Remove each PATH.  A symbolic link is removed itself, never its target.\n"
	"A directory needs -r (its whole tree) or -d (only when empty).  The root\n"
	"directory, '.' and '..' are never removed.  A file still open by another\n"
	"command of the shell session is freed when it is closed.\n\n"
	"Options:\n"
	"  -r, -R, --recursive\n"
	"                 remove directories and their contents, depth first\n"
	"  -f, --force    ignore missing paths; no error without a PATH\n"
	"  -d, --dir      remove empty directories\n"
	"  -v, --verbose  print a line for each entry removed\n"
	"  -n, --dry-run  change nothing; print what would be removed\n\n"
	"The command is one transaction: killed or cut by a power loss, it leaves\n"
	"nothing removed.  A PATH that cannot be removed gets an error line and the\n"
	"others are still removed (exit 1).\n\n"
	"Examples:\n"
	"  lightfs rm img.lfs:/tmp/a img.lfs:/tmp/b\n"
	"  lightfs rm -rf img.lfs:/build\n",
	.options = "-r -R --recursive -f --force -d --dir -v --verbose -n --dry-run",
};
