/*
 * cmd/tree.c — `lightfs tree [-a] [-d] [-L LEVEL] [--ascii] [IMAGE:/DIR...]`:
 * a directory tree drawn as tree(1) draws it, with its summary line.
 */
#include "image.h"
#include "common/grow.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The drawn prefix: up to 6 bytes ("\u2502   ") per level, and a path of
 * PATH_MAX bytes has at most PATH_MAX / 2 levels. */
#define TREE_PREFIX_MAX (3 * PATH_MAX + 8)

struct tree_opts {
	int all, dirs_only, ascii;
	long max_level;           /* 0 = unlimited */
};

struct tree_count {
	unsigned long dirs, files;
};

struct tent {
	char *name;
	uint8_t type;
};

struct tlist {
	struct tent *v;
	size_t n, cap;
	int all, dirs_only, err;
};

static int collect(void *arg, const struct lfs_dirent *de)
{
	struct tlist *l = arg;
	if (!l->all && de->name[0] == '.')
		return 0;
	if (l->dirs_only && de->type != DT_DIR)
		return 0;
	if (lfs_grow(&l->v, &l->cap, l->n + 1, sizeof *l->v, 32) < 0) {
		l->err = -ENOMEM;
		return 1;
	}
	if (!(l->v[l->n].name = strdup(de->name))) {
		l->err = -ENOMEM;
		return 1;
	}
	l->v[l->n++].type = de->type;
	return 0;
}

static void tlist_free(struct tlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

static int walk_tree(struct lfs_ctx *c, const struct tree_opts *o, struct lfs_proc *p,
		     const char *path, const char *disp, char *prefix, size_t plen, long level,
		     struct tree_count *cnt, const struct lfs_anc *up)
{
	if (c->interrupted && *c->interrupted)
		return lfs_error(c, NULL, "interrupted");
	struct lfs_stat dst;
	int src = lfs_stat(p, path, &dst);
	if (src < 0)
		return lfs_img_errno(c, disp, src);
	struct lfs_anc me;
	if (lfs_anc_enter(c, disp, dst.ino, up, &me))
		return LFS_EXIT_CORRUPT;
	/* on the heap: the recursion may be PATH_MAX / 2 levels deep */
	char *cp = malloc(3 * PATH_MAX + 1), *cd = cp + PATH_MAX, *t = cd + PATH_MAX;
	if (!cp)
		return lfs_img_errno(c, disp, -ENOMEM);
	struct tlist l = { .all = o->all, .dirs_only = o->dirs_only };
	int rc = lfs_readdir(p, path, collect, &l);
	if (rc < 0 || l.err) {
		tlist_free(&l);
		free(cp);
		return lfs_img_errno(c, disp, l.err ? l.err : rc);
	}
	const char *tee = o->ascii ? "|-- " : "\u251c\u2500\u2500 ";
	const char *elbow = o->ascii ? "`-- " : "\u2514\u2500\u2500 ";
	const char *pipe = o->ascii ? "|   " : "\u2502   ";
	int status = LFS_EXIT_OK;
	for (size_t i = 0; i < l.n; i++) {
		int last = i + 1 == l.n;
		if (lfs_path_join(cp, PATH_MAX, path, l.v[i].name) < 0) {
			int s = lfs_img_errno(c, disp, -ENAMETOOLONG);
			if (!status)
				status = s;
			continue;
		}
		printf("%s%s%s", prefix, last ? elbow : tee, l.v[i].name);
		if (l.v[i].type == DT_LNK) {
			ssize_t n = lfs_readlink(p, cp, t, PATH_MAX);
			if (n >= 0) {
				t[n] = 0;
				printf(" -> %s", t);
			}
		}
		putchar('\n');
		if (l.v[i].type == DT_DIR) {
			cnt->dirs++;
			if (o->max_level && level + 1 >= o->max_level)
				continue;
			const char *add = last ? "    " : pipe;
			size_t al = strlen(add);
			if (plen + al + 1 >= TREE_PREFIX_MAX)
				continue;
			memcpy(prefix + plen, add, al + 1);
			int s = lfs_path_join(cd, PATH_MAX, disp, l.v[i].name) < 0 ?
				lfs_img_errno(c, disp, -ENAMETOOLONG) :
				walk_tree(c, o, p, cp, cd, prefix, plen + al, level + 1, cnt, &me);
			prefix[plen] = 0;
			if (s && !status)
				status = s;
			if (c->interrupted && *c->interrupted)
				break;
		} else {
			cnt->files++;
		}
	}
	tlist_free(&l);
	free(cp);
	return status;
}

static int cmd_tree_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "dirs-only", no_argument, NULL, 'd' },
		{ "level", required_argument, NULL, 'L' },
		{ "ascii", no_argument, NULL, 'A' },
		{ 0 },
	};
	struct tree_opts o = { 0 };
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":adL:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a': o.all = 1; break;
		case 'd': o.dirs_only = 1; break;
		case 'L': {
			char *end;
			o.max_level = strtol(optarg, &end, 10);
			if (*end || o.max_level < 1)
				return lfs_usage(c, "-L %s: want a level of 1 or more", optarg);
			break;
		}
		case 'A': o.ascii = 1; break;
		default: return lfs_bad_opt(c, argv, opt);
		}
	}
	const char *dflt[] = { "." };
	char **args = argv + optind;
	int nargs = argc - optind;
	if (nargs == 0) {
		if (!c->sess && !c->default_image)
			return lfs_usage(c, "no directory given (IMAGE:/dir, or -i IMAGE)");
		args = (char **)dflt;
		nargs = 1;
	}
	struct lfs_imgs set = { .write = 0 };
	struct tree_count cnt = { 0 };
	int status = LFS_EXIT_OK;
	char *prefix = malloc(TREE_PREFIX_MAX);
	if (!prefix)
		return lfs_error(c, NULL, "out of memory");
	for (int i = 0; i < nargs; i++) {
		struct lfs_ipath ip;
		struct lfs_img *im;
		int rc = lfs_imgs_arg(c, &set, args[i], &ip, &im, &status);
		if (rc)
			continue;
		struct lfs_stat st;
		rc = lfs_stat(im->proc, ip.path, &st);
		if (rc == 0 && !S_ISDIR(st.mode))
			rc = -ENOTDIR;
		if (rc < 0) {
			int s = lfs_img_errno(c, args[i], rc);
			status = status ? status : s;
			continue;
		}
		printf("%s\n", args[i]);
		prefix[0] = 0;
		int s = walk_tree(c, &o, im->proc, ip.path, args[i], prefix, 0, 0, &cnt, NULL);
		if (s && !status)
			status = s;
	}
	free(prefix);
	printf("\n%lu director%s", cnt.dirs, cnt.dirs == 1 ? "y" : "ies");
	if (!o.dirs_only)
		printf(", %lu file%s", cnt.files, cnt.files == 1 ? "" : "s");
	putchar('\n');
	int cs = lfs_imgs_close(c, &set);
	return status ? status : cs;
}

const struct lfs_cmd cmd_tree = {
	.name = "tree",
	.fn = cmd_tree_fn,
	.synopsis = "tree [-a] [-d] [-L LEVEL] [--ascii] IMAGE:/DIR...",
	.summary = "show a directory tree of an image",
	.help =
	"Draw each DIR and everything below it as tree(1) does, entries in name\n"
	"order, symbolic links with their targets (never followed), then a line\n"
	"counting the directories and files shown.  With no DIR (in the shell, or\n"
	"with -i IMAGE) the current directory is drawn.\n\n"
	"Options:\n"
	"  -a, --all      include names starting with '.'\n"
	"  -d, --dirs-only\n"
	"                 show directories only\n"
	"  -L LEVEL, --level LEVEL\n"
	"                 descend at most LEVEL directories deep\n"
	"  --ascii        draw with ASCII characters instead of line drawing\n\n"
	"Examples:\n"
	"  lightfs tree img.lfs:/\n"
	"  lightfs tree -d -L 2 img.lfs:/usr\n",
	.options = "-a --all -d --dirs-only -L --level --ascii",
};
