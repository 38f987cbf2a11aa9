/*
 * cmd/pending.c — TEMPORARY during development: commands whose cmd/<noun>.c
 * is not written yet.  Whoever implements a command deletes its line here.
 * This file must be empty (and then deleted) before a release.
 */
#include "cli.h"

static int pending(struct lfs_ctx *c, int argc, char **argv)
{
	return lfs_error(c, NULL, "not implemented yet");
}
#define PENDING(n) const struct lfs_cmd cmd_##n = { .name = #n, .fn = pending, \
	.synopsis = #n, .summary = "(not implemented yet)", .flags = LFS_CMD_HIDDEN }

PENDING(cp);
PENDING(put);
PENDING(get);
