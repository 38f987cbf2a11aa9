/*
 * cmd/cli.h — the command frame shared by `lightfs CMD`, the shell, `-c`
 * and scripts (one table, as debugfs and git).  Only cmd/ prints or exits.
 *
 * A command is `int fn(struct lfs_ctx *c, int argc, char **argv)` with
 * argv[0] = the command name; it returns an exit status (enum lfs_exit) and
 * never calls exit().  It writes results to stdout and errors through
 * lfs_error()/lfs_usage(), which print `lightfs: CMD: OBJECT: cause`.
 */
#ifndef LFS_CMD_CLI_H
#define LFS_CMD_CLI_H

#include <signal.h>
#include <stdio.h>

#include "common/err.h"

enum lfs_exit {
	LFS_EXIT_OK = 0,       /* success */
	LFS_EXIT_FAIL = 1,     /* failed or partial (one error line per item) */
	LFS_EXIT_USAGE = 2,    /* bad command line */
	LFS_EXIT_LOCKED = 3,   /* image is in use by another writer */
	LFS_EXIT_CORRUPT = 4,  /* image is corrupt */
};

enum lfs_cmd_flags {
	LFS_CMD_HIDDEN  = 1 << 0,  /* not listed by help (completion helper) */
	LFS_CMD_NOSHELL = 1 << 1,  /* not available inside `lightfs shell` */
	LFS_CMD_SHELLONLY = 1 << 2,/* only inside the shell (cd, pwd, lcd ...) */
};

struct lfs_ctx;

struct lfs_cmd {
	const char *name;
	const char *alias;         /* second name or NULL (df for info) */
	int (*fn)(struct lfs_ctx *c, int argc, char **argv);
	const char *synopsis;      /* "mkfs [-b PAGE] [-f] IMAGE" (no "lightfs ") */
	const char *summary;       /* one line for `lightfs help` */
	const char *help;          /* full text for `lightfs help CMD`, may be NULL */
	unsigned flags;
	const char *options;       /* space-separated option names, for completion
	                              and the docs consistency test ("-r -p --json") */
};

struct lfs_session;            /* shell: the image held open (cmd/session.h) */

struct lfs_ctx {
	const struct lfs_cmd *cmd; /* running command (for messages) */
	const char *default_image; /* -i IMAGE: plain /paths refer to it */
	struct lfs_session *sess;  /* non-NULL inside the shell */
	volatile sig_atomic_t *interrupted; /* set by SIGINT in the shell */
};

/* The table (cmd/table.c). */
extern const struct lfs_cmd *const lfs_commands[];
const struct lfs_cmd *lfs_find_cmd(const char *name);

/* Run argv[0] as a command in ctx: handles `CMD --help`, errors for unknown
 * commands, flushes stdout and reports write errors. */
int lfs_run(struct lfs_ctx *c, int argc, char **argv);

/* `lightfs: CMD: OBJECT: msg` (OBJECT may be NULL).  Returns LFS_EXIT_FAIL. */
int lfs_error(struct lfs_ctx *c, const char *object, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same for a library code: maps LFS_E_LOCKED/LFS_E_CORRUPT/... to the exit
 * status (3, 4, else 1) and prints lfs_errmsg(err, code). */
int lfs_error_code(struct lfs_ctx *c, const char *object, int code, const struct lfs_err *err);
/* `lightfs: CMD: msg` + the synopsis + a hint.  Returns LFS_EXIT_USAGE. */
int lfs_usage(struct lfs_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print the help of one command (full text) to f. */
void lfs_print_cmd_help(FILE *f, const struct lfs_cmd *cmd);

/* Exit status for a library error code. */
int lfs_exit_for(int code);

#endif
