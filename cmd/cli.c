/* cmd/cli.c — dispatch, help and the one error printer. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

const struct lfs_cmd *lfs_find_cmd(const char *name)
{
	for (int i = 0; lfs_commands[i]; i++) {
		const struct lfs_cmd *c = lfs_commands[i];
		if (!strcmp(c->name, name) || (c->alias && !strcmp(c->alias, name)))
			return c;
	}
	return NULL;
}

static const char *cmdname(struct lfs_ctx *c)
{
	return c && c->cmd ? c->cmd->name : "lightfs";
}

int lfs_error(struct lfs_ctx *c, const char *object, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fflush(stdout);
	if (object)
		fprintf(stderr, "lightfs: %s: %s: %s\n", cmdname(c), object, msg);
	else
		fprintf(stderr, "lightfs: %s: %s\n", cmdname(c), msg);
	return LFS_EXIT_FAIL;
}

int lfs_exit_for(int code)
{
	if (code == LFS_E_LOCKED)
		return LFS_EXIT_LOCKED;
	if (code == LFS_E_CORRUPT || code == LFS_E_BADMAGIC || code == LFS_E_VERSION)
		return LFS_EXIT_CORRUPT;
	return code < 0 ? LFS_EXIT_FAIL : LFS_EXIT_OK;
}

int lfs_error_code(struct lfs_ctx *c, const char *object, int code, const struct lfs_err *err)
{
	lfs_error(c, object, "%s", lfs_errmsg(err, code));
	return lfs_exit_for(code);
}

int lfs_usage(struct lfs_ctx *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "lightfs: %s: %s\n", cmdname(c), msg);
	if (c && c->cmd) {
		fprintf(stderr, "usage: lightfs %s\n", c->cmd->synopsis);
		fprintf(stderr, "Try 'lightfs help %s' for more information.\n", c->cmd->name);
	}
	return LFS_EXIT_USAGE;
}

void lfs_print_cmd_help(FILE *f, const struct lfs_cmd *cmd)
{
	fprintf(f, "usage: lightfs %s\n\n%s\n", cmd->synopsis, cmd->summary);
	if (cmd->alias)
		fprintf(f, "Alias: %s\n", cmd->alias);
	if (cmd->help)
		fprintf(f, "\n%s", cmd->help);
	fprintf(f, "\nExit status: 0 ok, 1 failed or partial, 2 usage error, "
		   "3 image locked, 4 image corrupt.\n");
}

int lfs_run(struct lfs_ctx *c, int argc, char **argv)
{
	const struct lfs_cmd *cmd = lfs_find_cmd(argv[0]);
	if (!cmd) {
		fflush(stdout);
		fprintf(stderr, "lightfs: %s: unknown command; try 'lightfs help'\n", argv[0]);
		return LFS_EXIT_USAGE;
	}
	if (c->sess && (cmd->flags & LFS_CMD_NOSHELL)) {
		fprintf(stderr, "lightfs: %s: not available inside the shell\n", cmd->name);
		return LFS_EXIT_USAGE;
	}
	if (!c->sess && (cmd->flags & LFS_CMD_SHELLONLY)) {
		fprintf(stderr, "lightfs: %s: only available inside 'lightfs shell'\n", cmd->name);
		return LFS_EXIT_USAGE;
	}
	const struct lfs_cmd *saved = c->cmd;
	c->cmd = cmd;
	int rc;
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		lfs_print_cmd_help(stdout, cmd);
		rc = LFS_EXIT_OK;
	} else {
		extern int optind, opterr;
		optind = 0; /* GNU getopt: full re-initialisation for each command */
		opterr = 1;
		rc = cmd->fn(c, argc, argv);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		/* a reader that went away (cmd | head) is not a failure of the
		 * command: the pipeline's status is the reader's, as in sh */
		if (errno != EPIPE) {
			lfs_error(c, "stdout", "write error: %s", strerror(errno));
			if (rc == LFS_EXIT_OK)
				rc = LFS_EXIT_FAIL;
		}
		clearerr(stdout);
	}
	c->cmd = saved;
	return rc;
}
