/*
 * cmd/shell_complete.c — completion candidates (commands, options, paths in
 * the image and on the host) and the shell's readline TAB key.
 *
 * TAB is bound to our own function rather than readline's filename
 * machinery: readline would stat() candidates on the host to decide which
 * are directories and quote them its own way, but our paths live in the
 * image and must be quoted so lib/tools/shparse reads them back.
 */
#include "shell.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "tools/shparse.h"
#include "vfs/lightfs.h"

/* Weak until the engine exists (see cmd/shell.c and mk/shell.mk). */

/* ---------------------------------------------------------------- lists */

void lfs_cands_addn(struct lfs_cands *c, const char *s, size_t n)
{
	if (c->n + 2 > c->cap) {
		int cap = c->cap ? c->cap * 2 : 32;
		char **v = realloc(c->v, (size_t)cap * sizeof *v);
		if (!v)
			return;
		c->v = v;
		c->cap = cap;
	}
	char *d = strndup(s, n);
	if (!d)
		return;
	c->v[c->n++] = d;
	c->v[c->n] = NULL;
}

void lfs_cands_add(struct lfs_cands *c, const char *s)
{
	lfs_cands_addn(c, s, strlen(s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void lfs_cands_sort(struct lfs_cands *c)
{
	if (c->n < 2)
		return;
	qsort(c->v, (size_t)c->n, sizeof *c->v, cmp_str);
	int j = 1;
	for (int i = 1; i < c->n; i++) {
		if (strcmp(c->v[i], c->v[j - 1]))
			c->v[j++] = c->v[i];
		else
			free(c->v[i]);
	}
	c->n = j;
	c->v[j] = NULL;
}

void lfs_cands_free(struct lfs_cands *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	memset(c, 0, sizeof *c);
}

char *lfs_cands_lcp(const struct lfs_cands *c)
{
	if (!c->n)
		return strdup("");
	size_t l = strlen(c->v[0]);
	for (int i = 1; i < c->n; i++) {
		size_t k = 0;
		while (k < l && c->v[i][k] == c->v[0][k])
			k++;
		l = k;
	}
	return strndup(c->v[0], l);
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* ---------------------------------------------------------------- table */

static int visible(const struct lfs_cmd *cmd, enum lfs_comp_where where)
{
	if (cmd->flags & LFS_CMD_HIDDEN)
		return 0;
	if (where == LFS_COMP_SHELL)
		return !(cmd->flags & LFS_CMD_NOSHELL);
	return !(cmd->flags & LFS_CMD_SHELLONLY);
}

void lfs_comp_commands(struct lfs_cands *c, const char *prefix, enum lfs_comp_where where)
{
	for (int i = 0; lfs_commands[i]; i++) {
		const struct lfs_cmd *cmd = lfs_commands[i];
		if (!visible(cmd, where))
			continue;
		if (starts(cmd->name, prefix))
			lfs_cands_add(c, cmd->name);
		if (cmd->alias && starts(cmd->alias, prefix))
			lfs_cands_add(c, cmd->alias);
	}
}

/* Calls fn for every option token in text: -x, --long (a `=VALUE` or
 * `[=VALUE]` suffix dropped); arg says whether an upper-case word follows. */
static void each_option(const char *text, void (*fn)(void *a, const char *o, size_t n, int arg),
			void *a)
{
	if (!text)
		return;
	const char *p = text;
	while (*p) {
		/* an option starts a token: after a blank, [ ( | or at the start */
		if (*p == '-' && (p == text || strchr(" \t\n[(|,", p[-1]))) {
			const char *s = p;
			size_t n = 1;
			if (s[1] == '-')
				n = 2;
			if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
			      (s[n] >= '0' && s[n] <= '9'))) {
				p++;
				continue;
			}
			while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
			       (s[n] >= '0' && s[n] <= '9') || (s[n] == '-' && n > 1 && s[1] == '-'))
				n++;
			/* a short option is one letter: "-rf" is not a single option */
			if (s[1] != '-' && n != 2) {
				p += n;
				continue;
			}
			const char *q = s + n;
			int arg = 0;
			if (*q == '=' || (*q == '[' && q[1] == '='))
				arg = 1;
			else if (*q == ' ' && q[1] >= 'A' && q[1] <= 'Z')
				arg = 1;
			fn(a, s, n, arg);
			p = q;
			continue;
		}
		p++;
	}
}

struct optacc {
	struct lfs_cands *c;
	const char *prefix;
	const char *want;   /* lfs_comp_opt_takes_arg: the option looked for */
	int found;
};

static void add_opt(void *a, const char *o, size_t n, int arg)
{
	struct optacc *x = a;
	if (!strncmp(o, x->prefix, strlen(x->prefix)) && n >= strlen(x->prefix))
		lfs_cands_addn(x->c, o, n);
}

void lfs_comp_options(struct lfs_cands *c, const struct lfs_cmd *cmd, const char *prefix)
{
	struct optacc x = { .c = c, .prefix = prefix };
	each_option(cmd->options, add_opt, &x);
	each_option(cmd->synopsis, add_opt, &x);
	if (starts("--help", prefix))
		lfs_cands_add(c, "--help");
	lfs_cands_sort(c);
}

static void find_opt(void *a, const char *o, size_t n, int arg)
{
	struct optacc *x = a;
	if (strlen(x->want) == n && !strncmp(o, x->want, n) && arg)
		x->found = 1;
}

int lfs_comp_opt_takes_arg(const struct lfs_cmd *cmd, const char *opt)
{
	struct optacc x = { .want = opt };
	each_option(cmd->synopsis, find_opt, &x);
	return x.found;
}

enum lfs_argkind lfs_comp_argkind(const struct lfs_cmd *cmd, int argc, char **argv,
				  enum lfs_comp_where where)
{
	/* count the positional words before the one being completed */
	int pos = 0, dashdash = 0;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		if (!dashdash && !strcmp(w, "--")) {
			dashdash = 1;
			continue;
		}
		if (!dashdash && w[0] == '-' && w[1]) {
			if (!strchr(w, '=') && lfs_comp_opt_takes_arg(cmd, w))
				i++;
			continue;
		}
		pos++;
	}
	/* the value of an option: `-o FILE` */
	if (argc > 1 && argv[argc - 1][0] == '-' && !dashdash &&
	    lfs_comp_opt_takes_arg(cmd, argv[argc - 1]))
		return LFS_ARG_HOST;
	const char *n = cmd->name;
	if (!strcmp(n, "help"))
		return LFS_ARG_COMMAND;
	if (!strcmp(n, "cd"))
		return LFS_ARG_DIR;
	if (!strcmp(n, "lcd"))
		return LFS_ARG_HOST_DIR;
	if (!strcmp(n, "lls") || !strcmp(n, "trace") || !strcmp(n, "replay") ||
	    !strcmp(n, "demo"))
		return LFS_ARG_HOST;
	if (!strcmp(n, "put"))
		return pos == 0 ? LFS_ARG_HOST : LFS_ARG_PATH;
	if (!strcmp(n, "get"))
		return pos == 0 ? LFS_ARG_PATH : LFS_ARG_HOST;
	if (!strcmp(n, "history") || !strcmp(n, "quit") || !strcmp(n, "pwd") ||
	    !strcmp(n, "sync") || !strcmp(n, "cache"))
		return LFS_ARG_NONE;
	if (!strcmp(n, "mkfs") || !strcmp(n, "info") || !strcmp(n, "fsck") ||
	    !strcmp(n, "compact") || !strcmp(n, "kv") || !strcmp(n, "shell"))
		return where == LFS_COMP_SHELL ? LFS_ARG_NONE : LFS_ARG_IMAGE;
	return LFS_ARG_PATH;
}

/* ---------------------------------------------------------------- paths */

struct rdacc {
	struct lfs_cands *c;
	struct lfs_proc *p;
	const char *dir;      /* word's dirname as typed ("" or ends with '/') */
	const char *base;     /* word's basename prefix */
	int dirs_only;
};

static void add_path(struct rdacc *a, const char *name, int is_dir)
{
	if (a->dirs_only && !is_dir)
		return;
	size_t dl = strlen(a->dir), nl = strlen(name);
	char *s = malloc(dl + nl + 2);
	if (!s)
		return;
	memcpy(s, a->dir, dl);
	memcpy(s + dl, name, nl);
	if (is_dir)
		s[dl + nl++] = '/';
	s[dl + nl] = 0;
	lfs_cands_add(a->c, s);
	free(s);
}

static int want_name(const struct rdacc *a, const char *name)
{
	if (name[0] == '.' && a->base[0] != '.')
		return 0;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	return starts(name, a->base);
}

static int image_cb(void *arg, const struct lfs_dirent *de)
{
	struct rdacc *a = arg;
	if (!want_name(a, de->name))
		return 0;
	int is_dir = de->type == DT_DIR;
	if (de->type == DT_LNK || de->type == DT_UNKNOWN) {
		/* a symlink to a directory completes like one */
		char path[PATH_MAX + 256];
		snprintf(path, sizeof path, "%s%s", *a->dir ? a->dir : "./", de->name);
		struct lfs_stat st;
		if (lfs_stat(a->p, path, &st) == 0 && S_ISDIR(st.mode))
			is_dir = 1;
	}
	add_path(a, de->name, is_dir);
	return 0;
}

static void split_word(const char *word, char **dir, const char **base)
{
	const char *slash = strrchr(word, '/');
	if (slash) {
		*dir = strndup(word, (size_t)(slash - word + 1));
		*base = slash + 1;
	} else {
		*dir = strdup("");
		*base = word;
	}
}

int lfs_comp_image_path(struct lfs_cands *c, struct lfs_proc *p, const char *word, int dirs_only)
{
	char *dir;
	struct rdacc a = { .c = c, .p = p, .dirs_only = dirs_only };
	split_word(word, &dir, &a.base);
	if (!dir)
		return -ENOMEM;
	a.dir = dir;
	int rc = lfs_readdir(p, *dir ? dir : ".", image_cb, &a);
	free(dir);
	lfs_cands_sort(c);
	return rc < 0 ? rc : 0;
}

int lfs_comp_host_path(struct lfs_cands *c, const char *word, int dirs_only)
{
	char *dir;
	struct rdacc a = { .c = c, .dirs_only = dirs_only };
	split_word(word, &dir, &a.base);
	if (!dir)
		return -ENOMEM;
	a.dir = dir;
	char open_as[PATH_MAX];
	const char *home = getenv("HOME");
	if (dir[0] == '~' && dir[1] == '/' && home)
		snprintf(open_as, sizeof open_as, "%s%s", home, dir + 1);
	else
		snprintf(open_as, sizeof open_as, "%s", *dir ? dir : ".");
	DIR *d = opendir(open_as);
	if (!d) {
		free(dir);
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!want_name(&a, de->d_name))
			continue;
		int is_dir = de->d_type == DT_DIR;
		if (de->d_type == DT_LNK || de->d_type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode))
				is_dir = 1;
		}
		add_path(&a, de->d_name, is_dir);
	}
	closedir(d);
	free(dir);
	lfs_cands_sort(c);
	return 0;
}

/* ---------------------------------------------------------------- readline */

static struct lfs_proc *rl_proc;

/* The candidates for the word at the cursor. */
static void shell_cands(struct lfs_cands *c, const struct lfs_sh_point *pt)
{
	if (pt->where == LFS_SH_AT_COMMENT)
		return;
	if (pt->where == LFS_SH_AT_HOST) {
		lfs_comp_host_path(c, pt->word, 0);
		return;
	}
	if (pt->argc == 0) {
		lfs_comp_commands(c, pt->word, LFS_COMP_SHELL);
		lfs_cands_sort(c);
		return;
	}
	const struct lfs_cmd *cmd = lfs_find_cmd(pt->argv[0]);
	if (!cmd)
		return;
	if (pt->word[0] == '-') {
		lfs_comp_options(c, cmd, pt->word);
		return;
	}
	switch (lfs_comp_argkind(cmd, pt->argc, pt->argv, LFS_COMP_SHELL)) {
	case LFS_ARG_PATH:
		lfs_comp_image_path(c, rl_proc, pt->word, 0);
		break;
	case LFS_ARG_DIR:
		lfs_comp_image_path(c, rl_proc, pt->word, 1);
		break;
	case LFS_ARG_HOST:
	case LFS_ARG_IMAGE:
		lfs_comp_host_path(c, pt->word, 0);
		break;
	case LFS_ARG_HOST_DIR:
		lfs_comp_host_path(c, pt->word, 1);
		break;
	case LFS_ARG_COMMAND:
		lfs_comp_commands(c, pt->word, LFS_COMP_SHELL);
		lfs_cands_sort(c);
		break;
	case LFS_ARG_NONE:
		break;
	}
}

/* What the list shows: a path's last component (directories keep '/'). */
static const char *shown(const char *s)
{
	size_t l = strlen(s);
	if (l < 2)
		return s;
	const char *e = s + l - 1; /* skip a trailing '/' */
	while (e > s && e[-1] != '/')
		e--;
	return e;
}

static int last_tab_point = -1;
static char *last_tab_line;

static int shell_tab(int count, int key)
{
	struct lfs_sh_point pt;
	struct lfs_cands c = { 0 };
	if (lfs_sh_point(rl_line_buffer, (size_t)rl_point, &pt) != 0) {
		rl_ding();
		return 0;
	}
	shell_cands(&c, &pt);
	/* a second TAB at the same place lists the candidates */
	int again = last_tab_line && last_tab_point == rl_point &&
		    !strcmp(last_tab_line, rl_line_buffer);
	if (c.n == 0) {
		rl_ding();
	} else {
		char *lcp = lfs_cands_lcp(&c);
		char style = pt.quote ? '\'' : '\\';
		char *rep = NULL;
		if (c.n == 1) {
			char *q = lfs_sh_quote(c.v[0], style, 0);
			size_t l = q ? strlen(q) : 0;
			int dir = l && (c.v[0][strlen(c.v[0]) - 1] == '/');
			if (q && (rep = malloc(l + 2))) {
				memcpy(rep, q, l);
				/* a directory keeps the cursor inside it: no space */
				if (dir && style == '\'') {
					rep[l - 1] = 0; /* leave the quote open */
				} else if (!dir) {
					rep[l++] = ' ';
					rep[l] = 0;
				} else {
					rep[l] = 0;
				}
			}
			free(q);
		} else if (lcp && strlen(lcp) > strlen(pt.word)) {
			rep = lfs_sh_quote(lcp, style, 1);
		} else if (again) {
			char **m = calloc((size_t)c.n + 2, sizeof *m);
			int maxl = 0;
			if (m) {
				m[0] = (char *)"";
				for (int i = 0; i < c.n; i++) {
					m[i + 1] = (char *)shown(c.v[i]);
					int l = (int)strlen(m[i + 1]);
					if (l > maxl)
						maxl = l;
				}
				rl_crlf();
				rl_display_match_list(m, c.n, maxl);
				rl_forced_update_display();
				free(m);
			}
		} else {
			rl_ding();
		}
		if (rep) {
			rl_begin_undo_group();
			rl_delete_text((int)pt.word_start, rl_point);
			rl_point = (int)pt.word_start;
			rl_insert_text(rep);
			rl_end_undo_group();
			free(rep);
		}
		free(lcp);
	}
	free(last_tab_line);
	last_tab_line = strdup(rl_line_buffer);
	last_tab_point = rl_point;
	lfs_cands_free(&c);
	lfs_sh_point_free(&pt);
	return 0;
}

void lfs_shell_complete_init(struct lfs_proc *proc)
{
	rl_proc = proc;
	rl_readline_name = "lightfs";
	rl_bind_key('\t', shell_tab);
}
