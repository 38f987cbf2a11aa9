/* cmd/main.c — `lightfs [-i IMAGE] CMD ARGS...`, `lightfs --version`. */
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void usage_all(FILE *f)
{
	fprintf(f, "usage: lightfs [-i IMAGE] COMMAND [ARGS...]\n"
		   "       lightfs help [COMMAND] | lightfs COMMAND --help | lightfs --version\n\n"
		   "A KV-backed filesystem image engine with a Linux-like page cache,\n"
		   "eBPF syscall capture, and replay of traces through the pipeline.\n\n"
		   "Commands:\n");
	for (int i = 0; lfs_commands[i]; i++) {
		const struct lfs_cmd *c = lfs_commands[i];
		if (c->flags & (LFS_CMD_HIDDEN | LFS_CMD_SHELLONLY))
			continue;
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	}
	fprintf(f, "\nImage paths are written IMAGE:/path; -i IMAGE makes plain /paths refer to IMAGE.\n"
		   "Exit status: 0 ok, 1 failed or partial, 2 usage error, 3 image locked,\n"
		   "4 image corrupt.\n");
}

static int cmd_help(struct lfs_ctx *c, int argc, char **argv)
{
	if (argc < 2) {
		usage_all(stdout);
		return LFS_EXIT_OK;
	}
	int rc = LFS_EXIT_OK;
	for (int i = 1; i < argc; i++) {
		const struct lfs_cmd *cmd = lfs_find_cmd(argv[i]);
		if (!cmd) {
			rc = lfs_usage(c, "%s: no such command", argv[i]);
			continue;
		}
		lfs_print_cmd_help(stdout, cmd);
	}
	return rc;
}

const struct lfs_cmd cmd_help_def = {
	.name = "help",
	.fn = cmd_help,
	.synopsis = "help [COMMAND...]",
	.summary = "show the commands, or the full help of COMMAND",
	.help = "With no argument, list every command with a one-line summary.\n"
		"With COMMAND, print its synopsis, options and exit status.\n",
};

int main(int argc, char **argv)
{
	struct lfs_ctx ctx = { 0 };
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "image", required_argument, NULL, 'i' },
		{ 0 },
	};
	signal(SIGPIPE, SIG_IGN);
	int o;
	/* '+': stop at the first non-option (the command). */
	while ((o = getopt_long(argc, argv, "+hVi:", longopts, NULL)) != -1) {
		switch (o) {
		case 'V':
			printf("lightfs %s\n", LFS_VERSION);
			return LFS_EXIT_OK;
		case 'h':
			usage_all(stdout);
			return LFS_EXIT_OK;
		case 'i':
			ctx.default_image = optarg;
			break;
		default:
			usage_all(stderr);
			return LFS_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage_all(stderr);
		return LFS_EXIT_USAGE;
	}
	return lfs_run(&ctx, argc - optind, argv + optind);
}
