/*
 * cmd/shell.h — what the shell (cmd/shell.c), its readline completion
 * (cmd/shell_complete.c) and the hidden completion command for the user's
 * own shell (cmd/complete.c) share: the candidate lists.
 *
 * Every list is built from the command table (names, aliases, .options and
 * the options named in .synopsis) and from the image or host directories,
 * never from a list written down twice.
 */
#ifndef LFS_CMD_SHELL_H
#define LFS_CMD_SHELL_H

#include "cli.h"

struct lfs_proc;

/* A growing list of candidate words (malloc'd). */
struct lfs_cands {
	int    n, cap;
	char **v;
};
void lfs_cands_add(struct lfs_cands *c, const char *s);
void lfs_cands_addn(struct lfs_cands *c, const char *s, size_t n);
/* Sort and drop duplicates. */
void lfs_cands_sort(struct lfs_cands *c);
void lfs_cands_free(struct lfs_cands *c);

/* Where a command is being completed. */
enum lfs_comp_where { LFS_COMP_CLI = 0, LFS_COMP_SHELL = 1 };

/* Command names (and aliases) starting with prefix, as visible from where. */
void lfs_comp_commands(struct lfs_cands *c, const char *prefix, enum lfs_comp_where where);
/* The options of cmd starting with prefix: .options plus every -x / --long
 * named in .synopsis. */
void lfs_comp_options(struct lfs_cands *c, const struct lfs_cmd *cmd, const char *prefix);
/* 1 if option opt of cmd takes a value (the synopsis writes `-o FILE`). */
int  lfs_comp_opt_takes_arg(const struct lfs_cmd *cmd, const char *opt);

/* What the next word of a command is. */
enum lfs_argkind {
	LFS_ARG_NONE = 0,     /* nothing to complete */
	LFS_ARG_PATH,         /* a path in the image (shell) / IMAGE:path or host (CLI) */
	LFS_ARG_DIR,          /* a directory in the image */
	LFS_ARG_HOST,         /* a host path */
	LFS_ARG_HOST_DIR,     /* a host directory */
	LFS_ARG_COMMAND,      /* a command name (help CMD) */
	LFS_ARG_IMAGE,        /* an image file on the host (info, fsck, mkfs ...) */
};
/* argv[0] is the command; argv[1..argc) the words before the one completed. */
enum lfs_argkind lfs_comp_argkind(const struct lfs_cmd *cmd, int argc, char **argv,
				  enum lfs_comp_where where);

/* Entries of the image directory named by the dirname of word (relative to
 * p's cwd), whose names start with word's basename; each candidate is word's
 * dirname + name, with a trailing '/' for directories (and for symlinks to
 * directories).  Names starting with '.' only when the basename does. */
int  lfs_comp_image_path(struct lfs_cands *c, struct lfs_proc *p, const char *word,
			 int dirs_only);
/* The same on the host filesystem (relative to the process cwd; ~/ expands). */
int  lfs_comp_host_path(struct lfs_cands *c, const char *word, int dirs_only);

/* Longest common prefix of the candidates (malloc'd). */
char *lfs_cands_lcp(const struct lfs_cands *c);

/* Shell: install readline completion (cmd/shell_complete.c). */
void lfs_shell_complete_init(struct lfs_proc *proc);

#endif
