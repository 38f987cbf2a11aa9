/*
 * cmd/ls.c — `lightfs ls [-l|-C|-1] [-a] [-R] [-d] [-i] [-n] [-0] [--json]
 * PATH...`: list directories of an image as GNU `ls -C` / `ls -1` / `ls -l`
 * would.
 *
 * Arguments that are not directories (or all of them with -d) are listed
 * first, then each directory's entries under a `PATH:` heading when there is
 * more than one thing to list (always with -R).  --json prints one JSON
 * object per line per entry (full-precision timestamps, ls-stat.c's shape).
 */
#include "image.h"
#include "common/grow.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct ls_opts {
	int longfmt, all, recursive, dirself, inode, numeric, nul, json;
	int human;                 /* -h */
	char sort;                 /* 0 name, 't' mtime, 'S' size */
	int reverse;               /* -r */
	int columns;               /* -C (1), -1 (0); default: 1 on a terminal */
};

/* As GNU ls -h: 999, 1.0K, 9.9K, 10K, 1.5M ... (rounded up). */
static const char *human_size(uint64_t v, char *buf, size_t cap)
{
	static const char units[] = "KMGTPE";
	if (v < 1024) {
		snprintf(buf, cap, "%" PRIu64, v);
		return buf;
	}
	double d = (double)v;
	int u = -1;
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (d < 10) {
		double t = (double)(uint64_t)(d * 10);
		if (t < d * 10)
			t += 1;
		if (t >= 100) {
			snprintf(buf, cap, "%d%c", 10, units[u]);
			return buf;
		}
		snprintf(buf, cap, "%.1f%c", t / 10, units[u]);
	} else {
		uint64_t t = (uint64_t)d;
		if ((double)t < d)
			t++;
		if (t >= 1024 && u < 5) {
			snprintf(buf, cap, "1.0%c", units[u + 1]);
			return buf;
		}
		snprintf(buf, cap, "%" PRIu64 "%c", t, units[u]);
	}
	return buf;
}

struct ent {
	char *name;                /* as shown */
	char *path;                /* in the image */
	struct lfs_stat st;
	char *target;              /* symlink target or NULL */
	int st_err;                /* lstat failed with this */
};

static char sort_key;
static int sort_rev;

static int cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	int r = 0;
	if (sort_key == 't' && x->st.mtime_ns != y->st.mtime_ns)
		r = x->st.mtime_ns > y->st.mtime_ns ? -1 : 1;
	else if (sort_key == 'S' && x->st.size != y->st.size)
		r = x->st.size > y->st.size ? -1 : 1;
	else
		r = strcmp(x->name, y->name);
	return sort_rev ? -r : r;
}

struct entv {
	struct ent *v;
	size_t n, cap;
};

static void entv_free(struct entv *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].name);
		free(e->v[i].path);
		free(e->v[i].target);
	}
	free(e->v);
	memset(e, 0, sizeof *e);
}

static struct ent *entv_add(struct entv *e, const char *name, const char *path)
{
	if (lfs_grow(&e->v, &e->cap, e->n + 1, sizeof *e->v, 64) < 0)
		return NULL;
	struct ent *x = &e->v[e->n];
	memset(x, 0, sizeof *x);
	x->name = strdup(name);
	x->path = strdup(path);
	if (!x->name || !x->path) {
		free(x->name);
		free(x->path);
		return NULL;
	}
	e->n++;
	return x;
}

/* lstat + readlink; returns 0 or the negative code. */
static int fill(struct lfs_proc *p, struct ent *x)
{
	int rc = lfs_lstat(p, x->path, &x->st);
	if (rc < 0)
		return x->st_err = rc;
	if (S_ISLNK(x->st.mode)) {
		char buf[PATH_MAX + 1];
		ssize_t n = lfs_readlink(p, x->path, buf, sizeof buf - 1);
		if (n >= 0) {
			buf[n] = 0;
			x->target = strdup(buf);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- printing */

void lfs_fmt_time(uint64_t ns, char *buf, size_t cap, int iso)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;
	if (iso) {
		gmtime_r(&t, &tm);
		char b[32];
		if (!strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm))
			b[0] = 0;
		snprintf(buf, cap, "%.20s.%09u" "Z", b, (unsigned)(ns % 1000000000u));
		return;
	}
	localtime_r(&t, &tm);
	time_t now = time(NULL);
	/* as GNU ls: the year instead of the time when older than ~6 months or
	 * in the future */
	if (t > now + 60 || now - t > 15778476)
		strftime(buf, cap, "%b %e  %Y", &tm);
	else
		strftime(buf, cap, "%b %e %H:%M", &tm);
}

/* getpwuid/getgrgid read /etc/passwd and /etc/group on every call: keep
 * the answers (an image has few owners) so a long listing costs one lookup
 * per owner, not two per entry. */
#define NAME_CACHE 32
struct name_cache {
	int n;
	uint32_t id[NAME_CACHE];
	char name[NAME_CACHE][64];
};

static const char *cached_name(struct name_cache *nc, uint32_t id, int is_group, char *buf,
			       size_t cap)
{
	for (int i = 0; i < nc->n; i++) {
		if (nc->id[i] == id) {
			snprintf(buf, cap, "%s", nc->name[i]);
			return buf;
		}
	}
	const char *nm = NULL;
	if (is_group) {
		struct group *gr = getgrgid(id);
		nm = gr ? gr->gr_name : NULL;
	} else {
		struct passwd *pw = getpwuid(id);
		nm = pw ? pw->pw_name : NULL;
	}
	if (nm)
		snprintf(buf, cap, "%s", nm);
	else
		snprintf(buf, cap, "%u", id);
	int slot = nc->n < NAME_CACHE ? nc->n++ : (int)(id % NAME_CACHE);
	nc->id[slot] = id;
	snprintf(nc->name[slot], sizeof nc->name[slot], "%s", buf);
	return buf;
}

const char *lfs_user_name(uint32_t uid, int numeric, char *buf, size_t cap)
{
	static struct name_cache users;
	if (numeric) {
		snprintf(buf, cap, "%u", uid);
		return buf;
	}
	return cached_name(&users, uid, 0, buf, cap);
}

const char *lfs_group_name(uint32_t gid, int numeric, char *buf, size_t cap)
{
	static struct name_cache groups;
	if (numeric) {
		snprintf(buf, cap, "%u", gid);
		return buf;
	}
	return cached_name(&groups, gid, 1, buf, cap);
}

static const char *json_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFREG: return "file";
	default: return "other";
	}
}

void lfs_json_stat(FILE *f, const char *image, const char *path, const char *name,
		   const struct lfs_stat *st, const char *target)
{
	char t[4][64];
	lfs_fmt_time(st->atime_ns, t[0], sizeof t[0], 1);
	lfs_fmt_time(st->mtime_ns, t[1], sizeof t[1], 1);
	lfs_fmt_time(st->ctime_ns, t[2], sizeof t[2], 1);
	lfs_fmt_time(st->btime_ns, t[3], sizeof t[3], 1);
	fputc('{', f);
	if (image) {
		fputs("\"image\":", f);
		lfs_json_str(f, image);
		fputc(',', f);
	}
	fputs("\"path\":", f);
	lfs_json_str(f, path);
	if (name) {
		fputs(",\"name\":", f);
		lfs_json_str(f, name);
	}
	fprintf(f, ",\"type\":\"%s\",\"ino\":%" PRIu64 ",\"mode\":\"%04o\",\"nlink\":%u,"
		   "\"uid\":%u,\"gid\":%u,\"size\":%" PRIu64 ",\"blocks\":%" PRIu64
		   ",\"blksize\":%u,",
		json_type(st->mode), st->ino, st->mode & 07777, st->nlink, st->uid, st->gid,
		st->size, st->blocks, st->blksize);
	fprintf(f, "\"atime\":\"%s\",\"mtime\":\"%s\",\"ctime\":\"%s\",\"btime\":\"%s\","
		   "\"atime_ns\":%" PRIu64 ",\"mtime_ns\":%" PRIu64 ",\"ctime_ns\":%" PRIu64
		   ",\"btime_ns\":%" PRIu64,
		t[0], t[1], t[2], t[3], st->atime_ns, st->mtime_ns, st->ctime_ns, st->btime_ns);
	if (target) {
		fputs(",\"target\":", f);
		lfs_json_str(f, target);
	}
	fputs("}\n", f);
}

static int num_width(uint64_t v)
{
	int w = 1;
	while (v >= 10) {
		v /= 10;
		w++;
	}
	return w;
}

/* Print entries v[0..n) (a directory's contents, or the file arguments). */
/* ---------------------------------------------------------------- columns */

/* Display width of a name: UTF-8 code points (continuation bytes take no
 * column); wide characters count as one. */
static size_t name_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* The line width, as GNU ls: the terminal's width on a terminal, else
 * $COLUMNS, else 80. */
static size_t line_width(void)
{
	struct winsize ws;
	if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *e = getenv("COLUMNS");
	char *end;
	unsigned long v = e && *e ? strtoul(e, &end, 10) : 0;
	return v > 0 && v < 65536 && !*end ? v : 80;
}

/* Pad from column `from` to `to` with tabs (tab stops every 8) and
 * spaces, as GNU ls does. */
static void indent(size_t from, size_t to)
{
	while (from < to) {
		if (to / 8 > (from + 1) / 8) {
			putchar('\t');
			from += 8 - from % 8;
		} else {
			putchar(' ');
			from++;
		}
	}
}

static void put_name(const char *s, int tty)
{
	for (; *s; s++)   /* on a terminal, '?' for control characters (GNU ls -q) */
		putchar(tty && ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s);
}

/* GNU ls -C: names sorted down the columns; the most columns whose total
 * width (each column its widest name + 2, the last + 0) stays under the
 * line width.  The same computation as coreutils' calculate_columns. */
static void print_columns(const struct ls_opts *o, struct ent *v, size_t n)
{
	size_t *w = calloc(n ? n : 1, sizeof *w), m = 0;
	int wi = 0, tty = isatty(1);
	if (!w)
		return;
	for (size_t i = 0; i < n && o->inode; i++)
		if (!v[i].st_err && num_width(v[i].st.ino) > wi)
			wi = num_width(v[i].st.ino);
	struct ent **e = malloc((n ? n : 1) * sizeof *e);
	if (!e) {
		free(w);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!v[i].st_err) {
			e[m] = &v[i];
			w[m++] = name_width(v[i].name) + (o->inode ? (size_t)wi + 1 : 0);
		}
	size_t line = line_width(), max_idx = line / 3 ? line / 3 : 1;
	size_t max_cols = max_idx < m ? max_idx : m, cols = 1;
	size_t *colw = calloc(max_cols ? max_cols : 1, sizeof *colw);
	if (!colw) {
		free(w);
		free(e);
		return;
	}
	for (size_t c = max_cols; c > 1; c--) {
		size_t rows = (m + c - 1) / c, len = 3 * c;
		for (size_t k = 0; k < c; k++)
			colw[k] = 3;
		int ok = 1;
		for (size_t f = 0; f < m && ok; f++) {
			size_t k = f / rows, real = w[f] + (k == c - 1 ? 0 : 2);
			if (colw[k] < real) {
				len += real - colw[k];
				colw[k] = real;
				ok = len < line;
			}
		}
		if (ok) {
			cols = c;
			break;
		}
	}
	size_t rows = m ? (m + cols - 1) / cols : 0;
	for (size_t r = 0; r < rows; r++) {
		size_t pos = 0, k = 0;
		for (size_t f = r; f < m; f += rows, k++) {
			if (o->inode)
				printf("%*" PRIu64 " ", wi, e[f]->st.ino);
			put_name(e[f]->name, tty);
			if (f + rows >= m)
				break;
			indent(pos + w[f], pos + colw[k]);
			pos += colw[k];
		}
		putchar('\n');
	}
	free(colw);
	free(w);
	free(e);
}

static void print_ents(const struct ls_opts *o, const char *image, struct ent *v, size_t n,
		       int total)
{
	if (o->json) {
		for (size_t i = 0; i < n; i++)
			if (!v[i].st_err)
				lfs_json_stat(stdout, image, v[i].path, v[i].name, &v[i].st,
					      v[i].target);
		return;
	}
	sort_key = o->sort;
	sort_rev = o->reverse;
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_ent);
	char sep = o->nul ? '\0' : '\n';
	if (!o->longfmt && o->columns && !o->nul) {
		print_columns(o, v, n);
		return;
	}
	if (!o->longfmt) {
		int wi = 0;
		for (size_t i = 0; i < n && o->inode; i++)
			if (num_width(v[i].st.ino) > wi)
				wi = num_width(v[i].st.ino);
		for (size_t i = 0; i < n; i++) {
			if (v[i].st_err)
				continue;
			if (o->inode)
				printf("%*" PRIu64 " ", wi, v[i].st.ino);
			fputs(v[i].name, stdout);
			putchar(sep);
		}
		return;
	}
	int wi = 0, wl = 0, wu = 0, wg = 0, ws = 0;
	uint64_t blocks = 0;
	char ub[64], gb[64];
	for (size_t i = 0; i < n; i++) {
		const struct lfs_stat *s = &v[i].st;
		if (v[i].st_err)
			continue;
		int w;
		if ((w = num_width(s->ino)) > wi) wi = w;
		if ((w = num_width(s->nlink)) > wl) wl = w;
		if ((w = (int)strlen(lfs_user_name(s->uid, o->numeric, ub, sizeof ub))) > wu) wu = w;
		if ((w = (int)strlen(lfs_group_name(s->gid, o->numeric, gb, sizeof gb))) > wg) wg = w;
		char hb[32];
		if ((w = o->human ? (int)strlen(human_size(s->size, hb, sizeof hb)) :
				   num_width(s->size)) > ws) ws = w;
		blocks += (s->blocks + 1) / 2; /* 1 KiB units, as GNU ls */
	}
	if (total)
		printf("total %" PRIu64 "\n", blocks);
	for (size_t i = 0; i < n; i++) {
		const struct lfs_stat *s = &v[i].st;
		if (v[i].st_err)
			continue;
		char mode[11], tb[64];
		lfs_fmt_mode(s->mode, mode);
		lfs_fmt_time(s->mtime_ns, tb, sizeof tb, 0);
		if (o->inode)
			printf("%*" PRIu64 " ", wi, s->ino);
		char sb[32];
		if (o->human)
			human_size(s->size, sb, sizeof sb);
		else
			snprintf(sb, sizeof sb, "%" PRIu64, s->size);
		printf("%s %*u %-*s %-*s %*s %s ", mode, wl, s->nlink, wu,
		       lfs_user_name(s->uid, o->numeric, ub, sizeof ub), wg,
		       lfs_group_name(s->gid, o->numeric, gb, sizeof gb), ws, sb, tb);
		fputs(v[i].name, stdout);
		if (v[i].target)
			printf(" -> %s", v[i].target);
		putchar(sep);
	}
}

/* ---------------------------------------------------------------- directories */

struct rd {
	struct entv *e;
	const char *dir;
	int all;
	int oom, toolong;
};

static int rd_cb(void *arg, const struct lfs_dirent *de)
{
	struct rd *r = arg;
	if (!r->all && de->name[0] == '.')
		return 0;
	char path[PATH_MAX];
	if (lfs_path_join(path, sizeof path, r->dir, de->name) < 0) {
		r->toolong = 1;
		return 1;
	}
	if (!entv_add(r->e, de->name, path)) {
		r->oom = 1;
		return 1;
	}
	return 0;
}

/* List the directory at path (shown as disp); recurse with -R.  Returns an
 * exit status (1 when something could not be listed). */
static int list_dir(struct lfs_ctx *c, const struct ls_opts *o, struct lfs_img *im,
		    const char *path, const char *disp, int heading, int *first,
		    const struct lfs_anc *up)
{
	if (c->interrupted && *c->interrupted)
		return LFS_EXIT_FAIL;
	struct lfs_stat dst;
	int src = lfs_stat(im->proc, path, &dst);
	if (src < 0)
		return lfs_img_errno(c, disp, src);
	struct lfs_anc me;
	if (lfs_anc_enter(c, disp, dst.ino, up, &me))
		return LFS_EXIT_CORRUPT;
	/* on the heap: the recursion may be PATH_MAX / 2 levels deep */
	char *buf = malloc(PATH_MAX);
	if (!buf)
		return lfs_img_errno(c, disp, -ENOMEM);
	struct entv e = { 0 };
	int status = LFS_EXIT_OK;
	if (o->all) {
		/* "." and ".." as GNU ls -a shows them */
		entv_add(&e, ".", path);
		if (lfs_path_join(buf, PATH_MAX, path, "..") == 0)
			entv_add(&e, "..", buf);
	}
	struct rd r = { .e = &e, .dir = path, .all = o->all };
	int rc = lfs_readdir(im->proc, path, rd_cb, &r);
	if (rc < 0 || r.oom || r.toolong) {
		entv_free(&e);
		free(buf);
		return lfs_img_errno(c, disp, r.oom ? -ENOMEM : r.toolong ? -ENAMETOOLONG : rc);
	}
	for (size_t i = 0; i < e.n; i++) {
		int f = fill(im->proc, &e.v[i]);
		if (f < 0) {
			lfs_path_join(buf, PATH_MAX, disp, e.v[i].name);
			status = lfs_img_errno(c, buf, f);
		}
	}
	if (heading && !o->json) {
		if (!*first)
			putchar('\n');
		printf("%s:\n", disp);
	}
	*first = 0;
	print_ents(o, im->from_session ? NULL : im->image, e.v, e.n, 1);
	if (o->recursive) {
		for (size_t i = 0; i < e.n; i++) {
			if (e.v[i].st_err || !S_ISDIR(e.v[i].st.mode) || !strcmp(e.v[i].name, ".") ||
			    !strcmp(e.v[i].name, ".."))
				continue;
			int s;
			if (lfs_path_join(buf, PATH_MAX, disp, e.v[i].name) < 0)
				s = lfs_img_errno(c, buf, -ENAMETOOLONG);
			else
				s = list_dir(c, o, im, e.v[i].path, buf, 1, first, &me);
			if (s && !status)
				status = s;
			if (c->interrupted && *c->interrupted)
				break;
		}
	}
	entv_free(&e);
	free(buf);
	return status;
}

static int cmd_ls_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "long", no_argument, NULL, 'l' },
		{ "all", no_argument, NULL, 'a' },
		{ "recursive", no_argument, NULL, 'R' },
		{ "directory", no_argument, NULL, 'd' },
		{ "inode", no_argument, NULL, 'i' },
		{ "numeric-uid-gid", no_argument, NULL, 'n' },
		{ "null", no_argument, NULL, '0' },
		{ "json", no_argument, NULL, 'J' },
		{ "human-readable", no_argument, NULL, 'h' },
		{ "reverse", no_argument, NULL, 'r' },
		{ 0 },
	};
	struct ls_opts o = { .columns = isatty(1) };
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":laRdin0htSrC1", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l': o.longfmt = 1; break;
		case 'a': o.all = 1; break;
		case 'R': o.recursive = 1; break;
		case 'd': o.dirself = 1; break;
		case 'i': o.inode = 1; break;
		case 'n': o.numeric = 1; o.longfmt = 1; break;
		case '0': o.nul = 1; break;
		case 'J': o.json = 1; break;
		case 'h': o.human = 1; break;
		case 't': o.sort = 't'; break;
		case 'S': o.sort = 'S'; break;
		case 'r': o.reverse = 1; break;
		case 'C': o.columns = 1; break;
		case '1': o.columns = 0; break;
		default: return lfs_bad_opt(c, argv, opt);
		}
	}
	const char *dflt_arg[] = { "." };
	char **args = argv + optind;
	int nargs = argc - optind;
	if (nargs == 0) {
		if (!c->sess && !c->default_image)
			return lfs_usage(c, "no path given (IMAGE:/path, or -i IMAGE)");
		args = (char **)dflt_arg;
		nargs = 1;
	}
	struct lfs_imgs set = { .write = 0 };
	int status = LFS_EXIT_OK;
	/* pass 1: files (and everything with -d); pass 2: directories */
	struct entv files = { 0 };
	struct {
		struct lfs_img *im;
		char *path, *disp;
	} *dirs = calloc((size_t)nargs, sizeof *dirs);
	int ndirs = 0;
	struct lfs_img *files_im = NULL;
	if (!dirs)
		return lfs_error(c, NULL, "out of memory");
	for (int i = 0; i < nargs; i++) {
		struct lfs_ipath ip;
		struct lfs_img *im;
		int rc = lfs_imgs_arg(c, &set, args[i], &ip, &im, &status);
		if (rc)
			continue;
		struct lfs_stat st;
		rc = lfs_lstat(im->proc, ip.path, &st);
		if (rc < 0) {
			int s = lfs_img_errno(c, args[i], rc);
			status = status ? status : s;
			continue;
		}
		int isdir = S_ISDIR(st.mode);
		if (S_ISLNK(st.mode) && !o.dirself && !o.longfmt) {
			struct lfs_stat t;
			if (lfs_stat(im->proc, ip.path, &t) == 0 && S_ISDIR(t.mode))
				isdir = 1;
		}
		if (isdir && !o.dirself) {
			dirs[ndirs].im = im;
			dirs[ndirs].path = strdup(ip.path);
			dirs[ndirs].disp = strdup(args[i]);
			ndirs++;
		} else {
			/* files of different images are printed per image */
			if (files_im && files_im != im) {
				print_ents(&o, files_im->from_session ? NULL : files_im->image, files.v,
					   files.n, 0);
				entv_free(&files);
			}
			files_im = im;
			struct ent *x = entv_add(&files, args[i], ip.path);
			if (x)
				fill(im->proc, x);
		}
	}
	int first = 1;
	if (files.n) {
		print_ents(&o, files_im->from_session ? NULL : files_im->image, files.v, files.n, 0);
		first = 0;
	}
	entv_free(&files);
	int heading = o.recursive || ndirs + (first ? 0 : 1) > 1 || nargs > 1;
	for (int i = 0; i < ndirs; i++) {
		if (!(c->interrupted && *c->interrupted) && dirs[i].path && dirs[i].disp) {
			int s = list_dir(c, &o, dirs[i].im, dirs[i].path, dirs[i].disp, heading,
					 &first, NULL);
			if (s && !status)
				status = s;
		}
		free(dirs[i].path);
		free(dirs[i].disp);
	}
	free(dirs);
	int cs = lfs_imgs_close(c, &set);
	if (cs && !status)
		status = cs;
	if (c->interrupted && *c->interrupted && !status)
		status = LFS_EXIT_FAIL;
	return status;
}

const struct lfs_cmd cmd_ls = {
	.name = "ls",
	.fn = cmd_ls_fn,
	.synopsis = "ls [-l|-C|-1] [-a] [-R] [-d] [-i] [-n] [-h] [-t|-S] [-r] [-0] [--json] IMAGE:/PATH...",
	.summary = "list directory contents in an image",
	.help =
	"For each PATH that is a directory, list its entries (sorted by name,\n"
	"byte order, unless -t or -S); for\n"
	"any other PATH, list it alone.  With no PATH (in the shell, or with\n"
	"-i IMAGE) the current directory is listed.  An IMAGE given alone means\n"
	"its root.  The plain output is in columns on a terminal (as GNU ls -C:\n"
	"names sorted down the columns, the terminal's width, else $COLUMNS,\n"
	"else 80) and one name per line otherwise (as GNU ls -1).\n\n"
	"Options:\n"
	"  -l, --long     long format, as GNU ls -l: mode, links, owner, group,\n"
	"                 size, modification time, name, and '-> TARGET' for\n"
	"                 symbolic links; a 'total' line counts 1 KiB blocks stored\n"
	"  -C             list names in columns, even when not on a terminal\n"
	"  -1             list one name per line, even on a terminal\n"
	"  -a, --all      include names starting with '.', and '.' and '..'\n"
	"  -R, --recursive\n"
	"                 list subdirectories recursively, each under 'PATH:'\n"
	"  -d, --directory\n"
	"                 list directories themselves, not their contents\n"
	"  -i, --inode    print each entry's inode number first\n"
	"  -n, --numeric-uid-gid\n"
	"                 like -l, with numeric user and group IDs\n"
	"  -h, --human-readable\n"
	"                 with -l, sizes as 1.5K, 23M, 4.0G (powers of 1024)\n"
	"  -t             sort by modification time, newest first\n"
	"  -S             sort by size, largest first\n"
	"  -r, --reverse  reverse the order of the sort\n"
	"  -0, --null     end each name with a NUL byte instead of a newline\n"
	"  --json         one JSON object per line and entry: path, name, type,\n"
	"                 ino, mode (octal string), nlink, uid, gid, size, blocks,\n"
	"                 blksize, a/m/c/btime (ISO 8601 UTC, nanoseconds) and\n"
	"                 *_ns (integers), target for symlinks\n\n"
	"Times are shown in the local time zone (TZ).  A PATH that cannot be\n"
	"listed gets one error line; the others are still listed (exit 1).\n\n"
	"Examples:\n"
	"  lightfs ls -l img.lfs:/etc\n"
	"  lightfs ls -R --json img.lfs:/ | jq -r .path\n",
	.options = "-l --long -C -1 -a --all -R --recursive -d --directory -i --inode "
		   "-n --numeric-uid-gid -h --human-readable -t -S -r --reverse -0 --null --json",
};
