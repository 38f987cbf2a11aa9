/*
 * cmd/table.c — THE command table.  `lightfs CMD`, `lightfs shell`, `-c`,
 * scripts, help, the man page test and the completions all read this list.
 * Each command is defined in the cmd/ file of its noun.
 */
#include "cli.h"

#include <stddef.h>

extern const struct lfs_cmd cmd_help_def;
extern const struct lfs_cmd cmd_mkfs, cmd_info, cmd_ls, cmd_stat, cmd_cat, cmd_cp,
	cmd_mkdir, cmd_rm, cmd_mv, cmd_ln, cmd_truncate, cmd_touch, cmd_tree,
	cmd_fsck, cmd_compact, cmd_kv, cmd_trace, cmd_replay, cmd_shell, cmd_demo,
	cmd_put, cmd_get, cmd_complete,
	cmd_cd, cmd_pwd, cmd_lcd, cmd_lls, cmd_history, cmd_cache, cmd_sync, cmd_quit;

const struct lfs_cmd *const lfs_commands[] = {
	&cmd_mkfs, &cmd_info, &cmd_ls, &cmd_stat, &cmd_cat, &cmd_cp,
	&cmd_mkdir, &cmd_rm, &cmd_mv, &cmd_ln, &cmd_truncate, &cmd_touch, &cmd_tree,
	&cmd_put, &cmd_get,
	&cmd_fsck, &cmd_compact, &cmd_kv,
	&cmd_trace, &cmd_replay,
	&cmd_shell, &cmd_demo,
	&cmd_help_def,
	&cmd_cd, &cmd_pwd, &cmd_lcd, &cmd_lls, &cmd_history, &cmd_cache, &cmd_sync, &cmd_quit,
	&cmd_complete,
	NULL,
};
