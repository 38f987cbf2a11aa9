/*
 * lib/tools/shparse.h — the command-line language of `lightfs shell`.
 *
 * One line holds commands separated by `;`.  Words are split on blanks and
 * unquoted as a POSIX shell does, without expansions:
 *
 *   'single'        literal up to the next '
 *   "double"        \" \\ \$ \` and \<newline> are escapes; other \X stay \X
 *   \X              X (outside quotes); \<newline> joins lines
 *   # ...           a comment when # starts a word
 *   CMD ... | HOST  run CMD with its stdout piped to `sh -c HOST`
 *   !HOST           run HOST with `sh -c` (sftp's `!`); `!` alone: $SHELL
 *
 * HOST text is kept raw (quotes and all, for sh) and ends at the next
 * unquoted `;` or at the end of the line, so `cat /a | grep x; ls` pipes only
 * the cat.  Parsing never looks at the filesystem, allocates everything it
 * returns, and is total: any input yields either a line or an error with a
 * message (no crash, no read past len) — tests/fuzz/fuzz_shell.c checks it.
 */
#ifndef LFS_TOOLS_SHPARSE_H
#define LFS_TOOLS_SHPARSE_H

#include <stddef.h>

#include "common/err.h"

struct lfs_sh_cmd {
	int    argc;
	char **argv;        /* argc unquoted words + NULL; argc == 0 for a bang */
	char  *pipe;        /* `| HOST`: host command for sh -c, else NULL */
	char  *bang;        /* `!HOST`: host command (may be ""), else NULL */
	size_t off, len;    /* the command's source text in the line (for messages) */
};

struct lfs_sh_line {
	int n;              /* commands (empty ones and comments are dropped) */
	struct lfs_sh_cmd *cmds;
};

/* Parse line[0..len).  Returns 0 and fills out, or a negative code with a
 * message in err ("unterminated ' quote", "missing command after '|'").  On
 * error out is left empty. */
int  lfs_sh_parse(const char *line, size_t len, struct lfs_sh_line *out, struct lfs_err *err);
void lfs_sh_line_free(struct lfs_sh_line *l);

/* Where the cursor is, for tab completion. */
enum lfs_sh_where {
	LFS_SH_AT_CMD = 0,   /* inside a lightfs command */
	LFS_SH_AT_HOST = 1,  /* inside host text (after | or !) */
	LFS_SH_AT_COMMENT = 2,
};

struct lfs_sh_point {
	enum lfs_sh_where where;
	int    argc;         /* complete words of the current command before the word */
	char **argv;         /* (argc + NULL) */
	char  *word;         /* the word at the cursor so far, unquoted ("" if none) */
	size_t word_start;   /* offset in the line where that word begins */
	char   quote;        /* quote open at the cursor: '\'' or '"', else 0 */
};

/* Analyse line[0..point) (the text left of the cursor).  Never fails on
 * syntax (an open quote is reported in ->quote); returns -ENOMEM only. */
int  lfs_sh_point(const char *line, size_t point, struct lfs_sh_point *out);
void lfs_sh_point_free(struct lfs_sh_point *p);

/* Quote word so lfs_sh_parse reads it back as one word equal to word.
 * style '\'' uses single quotes ('it'\''s'), else backslashes before every
 * special byte.  With open != 0 a single-quoted result is left unclosed
 * (completion of a common prefix).  Returns malloc'd text or NULL. */
char *lfs_sh_quote(const char *word, char style, int open);

/* 1 if the byte needs quoting in a word (blank, quote, \ ; | # ! and the
 * shell metacharacters users expect to be special). */
int  lfs_sh_special(int ch);

#endif
