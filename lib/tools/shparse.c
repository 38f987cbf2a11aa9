/*
 * lib/tools/shparse.c — the `lightfs shell` line parser (see shparse.h).
 *
 * One scanner serves both parsing a whole line and finding the word under
 * the cursor: scan() walks the text once; in "point" mode it stops at the
 * end of the given prefix without complaining about open quotes and reports
 * where it stopped instead.
 */
#include "tools/shparse.h"
#include "common/grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char  *p;
	size_t n, cap;
};

static int bput(struct buf *b, char ch)
{
	if (lfs_grow(&b->p, &b->cap, b->n + 2, 1, 32) < 0)
		return -ENOMEM;
	b->p[b->n++] = ch;
	b->p[b->n] = 0;
	return 0;
}

static char *bdone(struct buf *b)
{
	if (!b->p && bput(b, 0) == 0)
		b->n = 0;
	char *p = b->p;
	b->p = NULL;
	b->n = b->cap = 0;
	return p;
}

struct words {
	int    n, cap;
	char **v;
};

static int wpush(struct words *w, char *s)
{
	if (!s)
		return -ENOMEM;
	if (w->n + 2 > w->cap) {
		int cap = w->cap ? w->cap * 2 : 8;
		char **v = realloc(w->v, (size_t)cap * sizeof *v);
		if (!v) {
			free(s);
			return -ENOMEM;
		}
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = s;
	w->v[w->n] = NULL;
	return 0;
}

static void wfree(struct words *w)
{
	for (int i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	w->v = NULL;
	w->n = w->cap = 0;
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Ends a command outside quotes. */
static int is_sep(char ch)
{
	return ch == ';' || ch == '\n';
}

int lfs_sh_special(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\'' || ch == '"' ||
	       ch == '\\' || ch == ';' || ch == '|' || ch == '#' || ch == '!' || ch == '$' ||
	       ch == '`' || ch == '&' || ch == '(' || ch == ')' || ch == '<' || ch == '>' ||
	       ch == '*' || ch == '?' || ch == '[' || ch == '~' || ch == '{' || ch == '}';
}

/* Result of reading one word: how it ended. */
enum wend { W_DONE = 0, W_OPEN_SQ, W_OPEN_DQ, W_TRAIL_BS };

/* Read a word starting at *i into b; stops before a blank, separator or '|'
 * outside quotes.  Reports an open quote / trailing backslash at the end. */
static int read_word(const char *s, size_t len, size_t *i, struct buf *b, enum wend *how)
{
	size_t k = *i;
	*how = W_DONE;
	while (k < len) {
		char ch = s[k];
		if (is_blank(ch) || is_sep(ch) || ch == '|')
			break;
		if (ch == '\\') {
			if (k + 1 >= len) {
				*how = W_TRAIL_BS;
				k++;
				break;
			}
			if (s[k + 1] != '\n' && bput(b, s[k + 1]))
				return -ENOMEM;
			k += 2;
		} else if (ch == '\'') {
			k++;
			while (k < len && s[k] != '\'') {
				if (bput(b, s[k++]))
					return -ENOMEM;
			}
			if (k >= len) {
				*how = W_OPEN_SQ;
				break;
			}
			k++;
		} else if (ch == '"') {
			k++;
			while (k < len && s[k] != '"') {
				if (s[k] == '\\' && k + 1 < len &&
				    (s[k + 1] == '"' || s[k + 1] == '\\' || s[k + 1] == '$' ||
				     s[k + 1] == '`' || s[k + 1] == '\n')) {
					if (s[k + 1] != '\n' && bput(b, s[k + 1]))
						return -ENOMEM;
					k += 2;
					continue;
				}
				if (bput(b, s[k++]))
					return -ENOMEM;
			}
			if (k >= len) {
				*how = W_OPEN_DQ;
				break;
			}
			k++;
		} else {
			if (bput(b, ch))
				return -ENOMEM;
			k++;
		}
	}
	*i = k;
	return 0;
}

/* Skip host text from *i to the next unquoted ; or newline (or a comment).
 * Returns the end of the text proper in *end; *lastw = start of its last
 * word (for completion); *how reports an open quote at len. */
static void skip_host(const char *s, size_t len, size_t *i, size_t *end, size_t *lastw,
		      enum wend *how)
{
	size_t k = *i;
	int at_word_start = 1;
	*how = W_DONE;
	*lastw = k;
	while (k < len) {
		char ch = s[k];
		if (is_sep(ch))
			break;
		if (ch == '#' && at_word_start) {
			*end = k;
			while (k < len && s[k] != '\n')
				k++;
			*i = k;
			*lastw = len + 1; /* in a comment */
			return;
		}
		if (is_blank(ch) || ch == '|' || ch == '&' || ch == '(' || ch == ')' ||
		    ch == '<' || ch == '>') {
			at_word_start = 1;
			k++;
			*lastw = k;
			continue;
		}
		at_word_start = 0;
		if (ch == '\\') {
			if (k + 1 >= len) {
				*how = W_TRAIL_BS;
				k++;
				break;
			}
			k += 2;
		} else if (ch == '\'' || ch == '"') {
			char q = ch;
			k++;
			while (k < len && s[k] != q) {
				if (q == '"' && s[k] == '\\' && k + 1 < len)
					k++;
				k++;
			}
			if (k >= len) {
				*how = q == '\'' ? W_OPEN_SQ : W_OPEN_DQ;
				k = len;
				break;
			}
			k++;
		} else {
			k++;
		}
	}
	*end = k;
	*i = k;
}

static char *dup_trim(const char *s, size_t a, size_t b)
{
	while (a < b && (is_blank(s[a]) || s[a] == '\n'))
		a++;
	while (b > a && (is_blank(s[b - 1]) || s[b - 1] == '\n'))
		b--;
	char *r = malloc(b - a + 1);
	if (r) {
		memcpy(r, s + a, b - a);
		r[b - a] = 0;
	}
	return r;
}

static const char *wend_msg(enum wend how)
{
	switch (how) {
	case W_OPEN_SQ: return "unterminated ' quote";
	case W_OPEN_DQ: return "unterminated \" quote";
	case W_TRAIL_BS: return "line ends with a backslash";
	default: return "syntax error";
	}
}

static int push_cmd(struct lfs_sh_line *out, struct words *w, char *pipe, char *bang,
		    size_t off, size_t end)
{
	struct lfs_sh_cmd *v = realloc(out->cmds, (size_t)(out->n + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	out->cmds = v;
	struct lfs_sh_cmd *c = &v[out->n++];
	if (!w->v && !(w->v = calloc(1, sizeof *w->v))) {
		out->n--;
		return -ENOMEM;
	}
	c->argc = w->n;
	c->argv = w->v;
	c->pipe = pipe;
	c->bang = bang;
	c->off = off;
	c->len = end > off ? end - off : 0;
	w->v = NULL;
	w->n = w->cap = 0;
	return 0;
}

void lfs_sh_line_free(struct lfs_sh_line *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->n; i++) {
		struct lfs_sh_cmd *c = &l->cmds[i];
		for (int j = 0; j < c->argc; j++)
			free(c->argv[j]);
		free(c->argv);
		free(c->pipe);
		free(c->bang);
	}
	free(l->cmds);
	l->cmds = NULL;
	l->n = 0;
}

/*
 * The scanner.  With pt == NULL it parses the whole line into out; with pt
 * it scans the prefix and fills pt with the state at its end.
 */
static int scan(const char *s, size_t len, struct lfs_sh_line *out, struct lfs_sh_point *pt,
		struct lfs_err *err)
{
	struct words w = { 0 };
	struct buf b = { 0 };
	size_t i = 0, cmd_off = 0;
	int rc = 0, have_cmd = 0;

	while (i < len) {
		char ch = s[i];
		if (is_blank(ch)) {
			i++;
			continue;
		}
		if (!have_cmd) {
			cmd_off = i;
			wfree(&w);
		}
		if (is_sep(ch)) {
			if (have_cmd && !pt && (rc = push_cmd(out, &w, NULL, NULL, cmd_off, i)))
				goto fail;
			wfree(&w);
			have_cmd = 0;
			i++;
			continue;
		}
		if (ch == '#') {
			while (i < len && s[i] != '\n')
				i++;
			if (i >= len && pt) {
				pt->where = LFS_SH_AT_COMMENT;
				goto point_done;
			}
			continue;
		}
		if (ch == '|' || (ch == '!' && !have_cmd)) {
			if (ch == '|' && !have_cmd) {
				rc = lfs_seterr(err, -EINVAL, "missing command before '|'");
				if (pt) /* completion after a stray '|': treat as host text */
					rc = 0;
				else
					goto fail;
			}
			size_t start = ++i, end, lastw;
			enum wend how;
			skip_host(s, len, &i, &end, &lastw, &how);
			if (pt && i >= len) {
				if (lastw > len) {
					pt->where = LFS_SH_AT_COMMENT;
					goto point_done;
				}
				pt->where = LFS_SH_AT_HOST;
				wfree(&w);
				size_t k = lastw;
				enum wend h2;
				if ((rc = read_word(s, len, &k, &b, &h2)))
					goto fail;
				pt->word_start = lastw;
				pt->quote = h2 == W_OPEN_SQ ? '\'' : h2 == W_OPEN_DQ ? '"' : 0;
				goto point_word;
			}
			if (!pt) {
				if (how != W_DONE) {
					rc = lfs_seterr(err, -EINVAL, "%s", wend_msg(how));
					goto fail;
				}
				char *text = dup_trim(s, start, end);
				if (!text) {
					rc = -ENOMEM;
					goto fail;
				}
				if (ch == '|' && !*text) {
					free(text);
					rc = lfs_seterr(err, -EINVAL, "missing command after '|'");
					goto fail;
				}
				if ((rc = push_cmd(out, &w, ch == '|' ? text : NULL,
						   ch == '!' ? text : NULL, cmd_off, end))) {
					free(text);
					goto fail;
				}
			}
			wfree(&w);
			have_cmd = 0;
			continue;
		}
		/* a word */
		have_cmd = 1;
		size_t wstart = i;
		enum wend how;
		if ((rc = read_word(s, len, &i, &b, &how)))
			goto fail;
		if (pt && i >= len) {
			/* the cursor is inside (at the end of) this word */
			pt->where = LFS_SH_AT_CMD;
			pt->word_start = wstart;
			pt->quote = how == W_OPEN_SQ ? '\'' : how == W_OPEN_DQ ? '"' : 0;
			goto point_word;
		}
		if (how != W_DONE) {
			rc = lfs_seterr(err, -EINVAL, "%s", wend_msg(how));
			goto fail;
		}
		if ((rc = wpush(&w, bdone(&b))))
			goto fail;
	}
	if (pt) {
		/* the cursor follows a blank or separator: an empty word */
		pt->where = LFS_SH_AT_CMD;
		pt->word_start = len;
		pt->quote = 0;
		goto point_word;
	}
	if (have_cmd && (rc = push_cmd(out, &w, NULL, NULL, cmd_off, len)))
		goto fail;
	wfree(&w);
	free(b.p);
	return 0;

point_word:
	pt->word = bdone(&b);
	if (!pt->word) {
		rc = -ENOMEM;
		goto fail;
	}
point_done:
	if (!w.v && !(w.v = calloc(1, sizeof *w.v))) {
		rc = -ENOMEM;
		goto fail;
	}
	pt->argc = w.n;
	pt->argv = w.v;
	if (!pt->word && !(pt->word = calloc(1, 1))) {
		free(w.v);
		pt->argv = NULL;
		return -ENOMEM;
	}
	if (pt->where == LFS_SH_AT_COMMENT)
		pt->word_start = len;
	free(b.p);
	return 0;

fail:
	wfree(&w);
	free(b.p);
	if (out)
		lfs_sh_line_free(out);
	if (rc == -ENOMEM)
		lfs_seterr(err, rc, "out of memory");
	return rc;
}

int lfs_sh_parse(const char *line, size_t len, struct lfs_sh_line *out, struct lfs_err *err)
{
	memset(out, 0, sizeof *out);
	return scan(line, len, out, NULL, err);
}

int lfs_sh_point(const char *line, size_t point, struct lfs_sh_point *out)
{
	memset(out, 0, sizeof *out);
	return scan(line, point, NULL, out, NULL);
}

void lfs_sh_point_free(struct lfs_sh_point *p)
{
	if (!p)
		return;
	for (int i = 0; p->argv && i < p->argc; i++)
		free(p->argv[i]);
	free(p->argv);
	free(p->word);
	memset(p, 0, sizeof *p);
}

char *lfs_sh_quote(const char *word, char style, int open)
{
	struct buf b = { 0 };
	int rc = 0;
	if (style == '\'') {
		rc |= bput(&b, '\'');
		for (const char *p = word; *p && !rc; p++) {
			if (*p == '\'') {
				/* close, escaped quote, reopen */
				rc |= bput(&b, '\'');
				rc |= bput(&b, '\\');
				rc |= bput(&b, '\'');
				rc |= bput(&b, '\'');
			} else {
				rc |= bput(&b, *p);
			}
		}
		if (!open)
			rc |= bput(&b, '\'');
	} else if (!*word) {
		rc |= bput(&b, '\'');
		if (!open)
			rc |= bput(&b, '\'');
	} else {
		for (const char *p = word; *p && !rc; p++) {
			if (*p == '\n') {
				/* a newline cannot be backslash-escaped: quote it */
				rc |= bput(&b, '\'');
				rc |= bput(&b, '\n');
				rc |= bput(&b, '\'');
				continue;
			}
			if (lfs_sh_special((unsigned char)*p))
				rc |= bput(&b, '\\');
			rc |= bput(&b, *p);
		}
	}
	if (rc) {
		free(b.p);
		return NULL;
	}
	return bdone(&b);
}
