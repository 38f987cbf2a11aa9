/*
 * cmd/complete.c — `lightfs __complete WORD...`: completion for the user's
 * own shell (completions/lightfs.bash, _lightfs, lightfs.fish).
 *
 * WORDs are the words after `lightfs` on the command line being edited; the
 * last is the (possibly empty) word under the cursor.  Prints one candidate
 * per line: command names, options of the command (from the table), or,
 * when the word is IMAGE:/partial, the entries of the image that match,
 * written IMAGE:/path (directories end in '/').  A line `::files` (or
 * `::dirs`) asks the calling shell to add its own host file (directory)
 * completion.  The image is mounted read-only and the whole run is bounded
 * by a time limit ($LIGHTFS_COMPLETE_TIMEOUT seconds, default 2) so a slow
 * or locked image never hangs the user's shell.  Hidden from help.
 */
#include "shell.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfs/lightfs.h"

/* Weak until the engine exists (see cmd/shell.c and mk/shell.mk). */

static const char *const global_opts[] = { "-i", "--image", "-h", "--help", "-V", "--version",
					   NULL };

/* IMAGE:/partial → candidates IMAGE:/path... */
static void image_paths(struct lfs_cands *out, const char *image, size_t ilen,
			const char *partial, int dirs_only)
{
	char *img = strndup(image, ilen);
	if (!img)
		return;
	struct stat st;
	if (stat(img, &st) < 0 ||
	    !S_ISREG(st.st_mode)) {
		free(img);
		return;
	}
	struct lfs_mount_opts mo = { .readonly = 1 };
	struct lfs_mount *m;
	if (lfs_mount(img, &mo, &m, NULL) < 0) {
		free(img);
		return;
	}
	struct lfs_proc *p = lfs_proc_new(m);
	if (p) {
		struct lfs_cands c = { 0 };
		/* a relative in-image path is relative to / */
		char *abs = malloc(strlen(partial) + 2);
		if (abs) {
			sprintf(abs, "%s%s", partial[0] == '/' ? "" : "/", partial);
			lfs_comp_image_path(&c, p, abs, dirs_only);
			for (int i = 0; i < c.n; i++) {
				/* keep the user's spelling of a relative path (no
				 * added '/'); after a bare `IMAGE:` offer absolute
				 * paths, the usual way to write them */
				const char *tail = c.v[i] + (partial[0] == '/' || !partial[0] ? 0 : 1);
				size_t l = ilen + 1 + strlen(tail) + 1;
				char *s = malloc(l);
				if (s) {
					snprintf(s, l, "%s:%s", img, tail);
					lfs_cands_add(out, s);
					free(s);
				}
			}
			free(abs);
		}
		lfs_cands_free(&c);
		lfs_proc_free(p);
	}
	lfs_umount(m, NULL);
	free(img);
}

static int cmd_complete_fn(struct lfs_ctx *c, int argc, char **argv)
{
	const char *t = getenv("LIGHTFS_COMPLETE_TIMEOUT");
	int secs = t ? atoi(t) : 2;
	alarm(secs > 0 ? (unsigned)secs : 2);

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		/* every listed command and where it runs: cli, shell or both */
		for (int j = 0; lfs_commands[j]; j++) {
			const struct lfs_cmd *cmd = lfs_commands[j];
			if (cmd->flags & LFS_CMD_HIDDEN)
				continue;
			printf("%s\t%s\t%s\n", cmd->name,
			       cmd->flags & LFS_CMD_SHELLONLY ? "shell" :
			       cmd->flags & LFS_CMD_NOSHELL ? "cli" : "both",
			       cmd->alias ? cmd->alias : "");
		}
		return LFS_EXIT_OK;
	}
	int i = 1;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	char **w = argv + i;
	int n = argc - i; /* w[n-1] is the current word */
	if (n <= 0) {
		n = 1;
		static char *empty[] = { (char *)"", NULL };
		w = empty;
	}
	const char *cur = w[n - 1];
	struct lfs_cands out = { 0 };
	const char *dflt = NULL; /* -i IMAGE */
	int k = 0;
	/* global options before the command */
	while (k < n - 1 && w[k][0] == '-') {
		if ((!strcmp(w[k], "-i") || !strcmp(w[k], "--image")) && k + 1 < n) {
			if (k + 1 == n - 1) {
				printf("::files\n");
				return LFS_EXIT_OK;
			}
			dflt = w[k + 1];
			k += 2;
			continue;
		}
		if (!strncmp(w[k], "--image=", 8))
			dflt = w[k] + 8;
		k++;
	}
	if (k == n - 1) {
		/* the command word */
		if (cur[0] == '-') {
			for (int j = 0; global_opts[j]; j++)
				if (!strncmp(global_opts[j], cur, strlen(cur)))
					lfs_cands_add(&out, global_opts[j]);
		} else {
			lfs_comp_commands(&out, cur, LFS_COMP_CLI);
		}
		lfs_cands_sort(&out);
	} else {
		const struct lfs_cmd *cmd = lfs_find_cmd(w[k]);
		if (!cmd || (cmd->flags & LFS_CMD_SHELLONLY))
			return LFS_EXIT_OK;
		int dashdash = 0;
		for (int j = k + 1; j < n - 1; j++)
			if (!strcmp(w[j], "--"))
				dashdash = 1;
		enum lfs_argkind kind = lfs_comp_argkind(cmd, n - 1 - k, w + k, LFS_COMP_CLI);
		const char *colon = strchr(cur, ':');
		if (cur[0] == '-' && !dashdash) {
			lfs_comp_options(&out, cmd, cur);
		} else if (kind == LFS_ARG_COMMAND) {
			lfs_comp_commands(&out, cur, LFS_COMP_CLI);
			lfs_cands_sort(&out);
		} else if (kind == LFS_ARG_NONE) {
			/* nothing */
		} else if (kind == LFS_ARG_HOST_DIR) {
			lfs_cands_add(&out, "::dirs");
		} else if ((kind == LFS_ARG_PATH || kind == LFS_ARG_DIR) && colon) {
			image_paths(&out, cur, (size_t)(colon - cur), colon + 1, kind == LFS_ARG_DIR);
		} else if ((kind == LFS_ARG_PATH || kind == LFS_ARG_DIR) && dflt && cur[0] == '/') {
			struct lfs_cands tmp = { 0 };
			image_paths(&tmp, dflt, strlen(dflt), cur, kind == LFS_ARG_DIR);
			size_t l = strlen(dflt) + 1;
			for (int j = 0; j < tmp.n; j++)
				lfs_cands_add(&out, tmp.v[j] + l);
			lfs_cands_free(&tmp);
		} else {
			lfs_cands_add(&out, "::files");
		}
	}
	for (int j = 0; j < out.n; j++)
		printf("%s\n", out.v[j]);
	lfs_cands_free(&out);
	return LFS_EXIT_OK;
}

const struct lfs_cmd cmd_complete = {
	.name = "__complete",
	.fn = cmd_complete_fn,
	.synopsis = "__complete [--] WORD... CURRENT | __complete --list",
	.summary = "completion candidates for shell completion scripts (internal)",
	.help = "Prints the completions of CURRENT after `lightfs WORD...`, one per line:\n"
		"commands, options, or IMAGE:/paths inside an image (opened read-only,\n"
		"within $LIGHTFS_COMPLETE_TIMEOUT seconds, default 2).  A line ::files or\n"
		"::dirs asks the shell to complete host files or directories as well.\n"
		"--list prints each command with where it runs (cli, shell, both).\n",
	.flags = LFS_CMD_HIDDEN | LFS_CMD_NOSHELL,
};
