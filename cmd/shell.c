/*
 * cmd/shell.c — `lightfs shell [--ro] [-k] [-x] [-c CMDS | -f FILE] IMAGE`.
 *
 * The image is mounted once for the whole session (one writer lock) and
 * every command of the command table runs through lfs_run() with c->sess
 * set, exactly as on the command line; each command is one atomic
 * transaction (lfs_atomic_begin before it, lfs_atomic_commit — write back,
 * commit, sync — after it), so a crash or kill mid-command leaves the image
 * as after the previous command.  Lines are parsed by
 * lib/tools/shparse (quoting, `;`, `| host`, `!host`, comments).
 *
 * Interactive (stdin a terminal, no -c/-f): GNU readline with the prompt
 * `IMAGE:/cwd> `, TAB completion (cmd/shell_complete.c), a history file
 * ($LIGHTFS_HISTORY, else ~/.lightfs_history).  Ctrl-C sets *c->interrupted
 * for the running command (long commands check it) or clears the line at
 * the prompt; Ctrl-D quits.  Otherwise (-c, -f FILE, -f -, a pipe on stdin)
 * the first failing command stops the run with a message naming the line,
 * unless -k; the exit status is the failing command's.
 *
 * Shell-only commands (cd, pwd, lcd, lls, history, cache, sync, quit) are
 * defined at the bottom and listed in cmd/table.c with LFS_CMD_SHELLONLY.
 */
#include "shell.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "session.h"
#include "tools/shparse.h"
#include "vfs/lightfs.h"

/* One shell per process: the session and what the shell-only commands need. */
struct shell {
	struct lfs_session sess;
	struct lfs_ctx *ctx;
	int interactive;
	int keep_going;       /* -k */
	int xtrace;           /* -x */
	int quit;             /* quit was run */
	int quit_status;
	char histfile[PATH_MAX];
	char oldpwd[PATH_MAX];/* for `cd -` */
};
static struct shell *the_shell;
static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Ctrl-C at the prompt: drop the line, show a fresh prompt. */
static int rl_on_signal(void)
{
	if (interrupted) {
		interrupted = 0;
		rl_replace_line("", 0);
		rl_crlf();
		rl_on_new_line();
		rl_redisplay();
	}
	return 0;
}

/* A Ctrl-C that arrives while readline is not blocked in read() (redrawing
 * after a completion list, say) does not interrupt a read, so the hook above
 * never runs for it: check the flag after every key as well. */
static int shell_getc(FILE *f)
{
	int c = rl_getc(f);
	if (interrupted)
		rl_on_signal();
	return c;
}

static int wait_child(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return 127;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* Fork `sh -c text` (or $SHELL when text is empty) with stdin from fd in. */
static pid_t spawn_host(const char *text, int in, int other)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (other >= 0)
			close(other); /* the pipe's write end: else no EOF */
		if (in >= 0) {
			dup2(in, 0);
			close(in);
		}
		if (!*text) {
			const char *sh = getenv("SHELL");
			execl(sh && *sh ? sh : "/bin/sh", sh && *sh ? sh : "/bin/sh", (char *)NULL);
		} else {
			execl("/bin/sh", "sh", "-c", text, (char *)NULL);
		}
		fprintf(stderr, "lightfs: shell: /bin/sh: %s\n", strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Run one lightfs command, its stdout piped into `sh -c pipe` if set. */
static int run_cmd(struct shell *sh, struct lfs_sh_cmd *cmd)
{
	struct lfs_ctx *c = sh->ctx;
	if (cmd->bang) {
		pid_t pid = spawn_host(cmd->bang, -1, -1);
		if (pid < 0)
			return lfs_error(c, "!", "fork: %s", strerror(errno));
		return wait_child(pid);
	}
	int fds[2], saved = -1;
	pid_t pid = -1;
	if (cmd->pipe) {
		if (pipe(fds) < 0)
			return lfs_error(c, "|", "pipe: %s", strerror(errno));
		pid = spawn_host(cmd->pipe, fds[0], fds[1]);
		close(fds[0]);
		if (pid < 0) {
			close(fds[1]);
			return lfs_error(c, "|", "fork: %s", strerror(errno));
		}
		fflush(stdout);
		saved = dup(1);
		dup2(fds[1], 1);
		close(fds[1]);
	}
	interrupted = 0;
	const struct lfs_cmd *lc = lfs_find_cmd(cmd->argv[0]);
	int group = !sh->sess.readonly && !(lc && (lc->flags & LFS_CMD_SHELLONLY));
	if (group) {
		/* each command is one atomic transaction on the session's image */
		int g = lfs_atomic_begin(sh->sess.mnt);
		if (g < 0) {
			struct lfs_ctx tmp = *c;
			tmp.cmd = lc;
			return lfs_error_code(&tmp, sh->sess.image, g, NULL);
		}
	}
	int rc = lfs_run(c, cmd->argc, cmd->argv);
	if (cmd->argc == 1 && !strcmp(cmd->argv[0], "help")) {
		/* the shell's own commands, which `lightfs help` leaves out */
		printf("\nShell commands:\n");
		for (int i = 0; lfs_commands[i]; i++) {
			const struct lfs_cmd *sc = lfs_commands[i];
			if (sc->flags & LFS_CMD_SHELLONLY)
				printf("  %-10s %s\n", sc->name, sc->summary);
		}
		printf("  %-10s %s\n  %-10s %s\n", "!CMD", "run CMD on the host (sh -c)",
		       "CMD | HOST", "pipe the output of CMD into a host command");
		fflush(stdout);
	}
	if (group) {
		/* commit what the command did, as one step (the acknowledgement) */
		int s = lfs_atomic_commit(sh->sess.mnt);
		if (s < 0) {
			struct lfs_ctx tmp = *c;
			tmp.cmd = lfs_find_cmd("sync");
			lfs_error_code(&tmp, sh->sess.image, s, NULL);
			if (rc == 0)
				rc = lfs_exit_for(s);
		}
	}
	if (cmd->pipe) {
		fflush(stdout);
		dup2(saved, 1);
		close(saved);
		clearerr(stdout);
		int hrc = wait_child(pid);
		if (rc == 0)
			rc = hrc;
	}
	return rc;
}

/* `file:line` of command i of a parsed chunk that started at line first. */
static int line_of(const char *text, size_t off, int first)
{
	int l = first;
	for (size_t i = 0; i < off && text[i]; i++)
		if (text[i] == '\n')
			l++;
	return l;
}

/*
 * Run the commands of text (one line, or a -c string).  Returns the status
 * of the last command, or of the first failing one when the run must stop
 * (*stop set).  src/first name the place for messages.
 */
static int run_text(struct shell *sh, const char *text, const char *src, int first, int *stop)
{
	struct lfs_sh_line l;
	struct lfs_err err = { 0 };
	if (lfs_sh_parse(text, strlen(text), &l, &err) < 0) {
		if (sh->interactive)
			fprintf(stderr, "lightfs: shell: syntax error: %s\n", err.msg);
		else
			fprintf(stderr, "lightfs: shell: %s:%d: syntax error: %s\n", src, first,
				err.msg);
		if (!sh->interactive && !sh->keep_going)
			*stop = 1;
		return LFS_EXIT_USAGE;
	}
	int rc = 0;
	for (int i = 0; i < l.n && !sh->quit; i++) {
		struct lfs_sh_cmd *cmd = &l.cmds[i];
		if (sh->xtrace) {
			fflush(stdout);
			fprintf(stderr, "+ %.*s\n", (int)cmd->len, text + cmd->off);
		}
		rc = run_cmd(sh, cmd);
		int was_int = interrupted;
		interrupted = 0;
		if (rc != 0 && !sh->interactive) {
			fprintf(stderr, "lightfs: shell: %s:%d: '%.*s' failed (exit %d)%s\n", src,
				line_of(text, cmd->off, first), (int)cmd->len, text + cmd->off, rc,
				sh->keep_going && !was_int ? "" : "; stopping");
			if (!sh->keep_going || was_int) {
				*stop = 1;
				break;
			}
		}
		if (was_int && !sh->interactive) {
			*stop = 1;
			rc = rc ? rc : 130;
			break;
		}
	}
	lfs_sh_line_free(&l);
	return rc;
}

/* A script from f: lines joined while a quote is open or a line ends in \. */
static int run_script(struct shell *sh, FILE *f, const char *src)
{
	char *line = NULL, *acc = NULL;
	size_t cap = 0, accn = 0;
	ssize_t n;
	int lineno = 0, first = 1, rc = 0, last_fail = 0, stop = 0;
	while (!stop && !sh->quit && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		char *na = realloc(acc, accn + (size_t)n + 1);
		if (!na)
			break;
		acc = na;
		if (!accn)
			first = lineno;
		memcpy(acc + accn, line, (size_t)n + 1);
		accn += (size_t)n;
		/* complete? (an open quote or trailing backslash continues) */
		struct lfs_sh_point pt;
		if (lfs_sh_point(acc, accn, &pt) == 0) {
			int open = pt.quote != 0;
			lfs_sh_point_free(&pt);
			size_t k = accn;
			while (k && (acc[k - 1] == '\n' || acc[k - 1] == '\r'))
				k--;
			int bs = 0;
			while (k && acc[k - 1] == '\\') {
				bs++;
				k--;
			}
			if ((open || (bs & 1)) && !feof(f))
				continue;
		}
		rc = run_text(sh, acc, src, first, &stop);
		if (rc)
			last_fail = rc;
		accn = 0;
	}
	if (accn && !stop && !sh->quit) {
		rc = run_text(sh, acc, src, first, &stop);
		if (rc)
			last_fail = rc;
	}
	free(line);
	free(acc);
	if (sh->quit)
		return sh->quit_status;
	return stop ? rc : (sh->keep_going ? last_fail : rc);
}

static const char *image_base(const char *image)
{
	const char *s = strrchr(image, '/');
	return s && s[1] ? s + 1 : image;
}

static int run_interactive(struct shell *sh)
{
	const char *h = getenv("LIGHTFS_HISTORY");
	const char *home = getenv("HOME");
	if (h && *h)
		snprintf(sh->histfile, sizeof sh->histfile, "%s", h);
	else if (home && *home)
		snprintf(sh->histfile, sizeof sh->histfile, "%s/.lightfs_history", home);
	using_history();
	stifle_history(1000);
	if (sh->histfile[0])
		read_history(sh->histfile);
	lfs_shell_complete_init(sh->sess.proc);
	rl_catch_signals = 0;
	rl_signal_event_hook = rl_on_signal;
	rl_getc_function = shell_getc;
	int stop = 0;
	while (!sh->quit) {
		char cwd[PATH_MAX], prompt[2 * PATH_MAX + 64];
		if (lfs_getcwd(sh->sess.proc, cwd, sizeof cwd) < 0)
			snprintf(cwd, sizeof cwd, "?");
		snprintf(prompt, sizeof prompt, "%s:%s%s> ", image_base(sh->sess.image), cwd,
			 sh->sess.readonly ? " (ro)" : "");
		interrupted = 0;
		char *line = readline(prompt);
		if (!line) {
			printf("\n");
			break;
		}
		const char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p) {
			add_history(line);
			if (sh->histfile[0]) {
				/* append now, so two shells and a crash keep every line */
				int fd = open(sh->histfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
				if (fd >= 0)
					close(fd);
				append_history(1, sh->histfile);
			}
			run_text(sh, line, "-", 1, &stop);
		}
		free(line);
	}
	if (sh->histfile[0])
		history_truncate_file(sh->histfile, 1000);
	return sh->quit ? sh->quit_status : LFS_EXIT_OK;
}

static int cmd_shell_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ro", no_argument, NULL, 'r' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "command", required_argument, NULL, 'c' },
		{ "file", required_argument, NULL, 'f' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "xtrace", no_argument, NULL, 'x' },
		{ 0 },
	};
	if (c->sess)
		return lfs_error(c, NULL, "already in a shell");
	struct shell sh = { 0 };
	const char *cmds = NULL, *file = NULL;
	int o;
	while ((o = getopt_long(argc, argv, "+c:f:kx", longopts, NULL)) != -1) {
		switch (o) {
		case 'r': sh.sess.readonly = 1; break;
		case 'c': cmds = optarg; break;
		case 'f': file = optarg; break;
		case 'k': sh.keep_going = 1; break;
		case 'x': sh.xtrace = 1; break;
		default: return lfs_usage(c, "bad option");
		}
	}
	const char *image = optind < argc ? argv[optind++] : c->default_image;
	if (!image)
		return lfs_usage(c, "no image given");
	if (optind < argc)
		return lfs_usage(c, "unexpected argument '%s'", argv[optind]);
	if (cmds && file)
		return lfs_usage(c, "-c and -f exclude each other");
	FILE *in = NULL;
	if (file) {
		in = strcmp(file, "-") ? fopen(file, "r") : stdin;
		if (!in)
			return lfs_error(c, file, "%s", strerror(errno));
	}
	snprintf(sh.sess.image, sizeof sh.sess.image, "%s", image);
	struct lfs_mount_opts mo = { .readonly = sh.sess.readonly };
	struct lfs_err err = { 0 };
	int rc = lfs_mount(image, &mo, &sh.sess.mnt, &err);
	if (rc < 0) {
		if (in && in != stdin)
			fclose(in);
		return lfs_error_code(c, image, rc, &err);
	}
	sh.sess.proc = lfs_proc_new(sh.sess.mnt);
	if (!sh.sess.proc) {
		lfs_umount(sh.sess.mnt, NULL);
		if (in && in != stdin)
			fclose(in);
		return lfs_error(c, image, "out of memory");
	}
	struct lfs_ctx sc = *c;
	sc.sess = &sh.sess;
	sc.interrupted = &interrupted;
	sc.cmd = NULL;
	sh.ctx = &sc;
	the_shell = &sh;

	struct sigaction sa = { .sa_handler = on_sigint }, old;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked read or write returns EINTR */
	sigaction(SIGINT, &sa, &old);

	int stop = 0;
	if (cmds) {
		rc = run_text(&sh, cmds, "-c", 1, &stop);
		if (sh.quit)
			rc = sh.quit_status;
	} else if (in) {
		rc = run_script(&sh, in, strcmp(file, "-") ? file : "stdin");
	} else if (isatty(0)) {
		sh.interactive = 1;
		rc = run_interactive(&sh);
	} else {
		rc = run_script(&sh, stdin, "stdin");
	}

	sigaction(SIGINT, &old, NULL);
	if (in && in != stdin)
		fclose(in);
	lfs_proc_free(sh.sess.proc);
	memset(&err, 0, sizeof err);
	int u = lfs_umount(sh.sess.mnt, &err);
	the_shell = NULL;
	if (u < 0) {
		int e = lfs_error_code(c, image, u, &err);
		if (rc == 0)
			rc = e;
	}
	return rc;
}

const struct lfs_cmd cmd_shell = {
	.name = "shell",
	.fn = cmd_shell_fn,
	.synopsis = "shell [--ro] [-k] [-x] [-c 'CMD; CMD' | -f FILE|-] IMAGE",
	.summary = "interactive shell over an image (also -c, scripts and piped stdin)",
	.help =
	"Mount IMAGE once (one writer lock; --ro shares it with readers) and run\n"
	"commands against it: every command of 'lightfs help' except mkfs-like ones,\n"
	"with paths relative to the shell's cwd (plain /paths mean IMAGE), plus\n"
	"  cd [DIR|-]   pwd          change / show the directory in the image\n"
	"  lcd [DIR]    lls [ARGS]   change / list the host directory (put/get use it)\n"
	"  history [-c] cache [drop] sync     quit [N] (also Ctrl-D)\n"
	"  !CMD         run CMD with sh -c on the host ('!' alone starts $SHELL)\n"
	"  CMD | HOST   pipe the output of CMD into the host command HOST\n"
	"Each command is one atomic transaction, committed and synced when it ends:\n"
	"a crash or kill during a command leaves none of it in the image.\n"
	"Words are quoted as in sh ('...', \"...\", \\x); ';' separates commands and\n"
	"# starts a comment.\n\n"
	"Options:\n"
	"  --ro           mount read-only; writing commands fail\n"
	"  -c 'CMD; CMD'  run these commands and exit\n"
	"  -f FILE|-      run the script FILE (or stdin) and exit\n"
	"  -k             keep going after a failing command (scripts, -c)\n"
	"  -x             echo each command to stderr before running it (`+ CMD`)\n\n"
	"With -c, -f, or stdin not a terminal, the first failing command stops the\n"
	"run with `lightfs: shell: FILE:LINE: 'CMD' failed (exit N)` and the exit\n"
	"status is N; with -k the run goes on and exits with the last failure.\n\n"
	"Interactively: the prompt is IMAGE:/cwd>; TAB completes commands, options,\n"
	"paths in the image (directories end in /) and host paths for put/get/lcd;\n"
	"history is kept in $LIGHTFS_HISTORY (default ~/.lightfs_history); Ctrl-C\n"
	"cancels the running command, not the shell; Ctrl-D quits.\n",
	.flags = LFS_CMD_NOSHELL,
	.options = "--ro -c -f -k -x",
};

/* ---------------------------------------------------------------- shell-only commands */

/* A path in the session may be written IMAGE:/path with the session's image. */
static const char *sess_path(struct lfs_session *s, const char *arg)
{
	size_t l = strlen(s->image);
	if (!strncmp(arg, s->image, l) && arg[l] == ':')
		return arg + l + 1;
	const char *b = image_base(s->image);
	l = strlen(b);
	if (!strncmp(arg, b, l) && arg[l] == ':')
		return arg + l + 1;
	return arg;
}

static int cmd_cd_fn(struct lfs_ctx *c, int argc, char **argv)
{
	struct shell *sh = the_shell;
	if (argc > 2)
		return lfs_usage(c, "too many arguments");
	const char *to = argc > 1 ? sess_path(c->sess, argv[1]) : "/";
	char cur[PATH_MAX];
	if (lfs_getcwd(c->sess->proc, cur, sizeof cur) < 0)
		cur[0] = 0;
	if (!strcmp(to, "-")) {
		if (!sh->oldpwd[0])
			return lfs_error(c, NULL, "no previous directory");
		to = sh->oldpwd;
	}
	char target[PATH_MAX];
	snprintf(target, sizeof target, "%s", to);
	int rc = lfs_chdir(c->sess->proc, target);
	if (rc < 0)
		return lfs_error_code(c, argv[argc > 1 ? 1 : 0], rc, NULL);
	snprintf(sh->oldpwd, sizeof sh->oldpwd, "%s", cur);
	if (argc > 1 && !strcmp(argv[1], "-")) {
		char now[PATH_MAX];
		if (lfs_getcwd(c->sess->proc, now, sizeof now) >= 0)
			printf("%s\n", now);
	}
	return LFS_EXIT_OK;
}

static int cmd_pwd_fn(struct lfs_ctx *c, int argc, char **argv)
{
	if (argc > 1)
		return lfs_usage(c, "too many arguments");
	char cwd[PATH_MAX];
	int rc = lfs_getcwd(c->sess->proc, cwd, sizeof cwd);
	if (rc < 0)
		return lfs_error_code(c, NULL, rc, NULL);
	printf("%s\n", cwd);
	return LFS_EXIT_OK;
}

static int cmd_lcd_fn(struct lfs_ctx *c, int argc, char **argv)
{
	if (argc > 2)
		return lfs_usage(c, "too many arguments");
	const char *to = argc > 1 ? argv[1] : getenv("HOME");
	if (!to)
		to = "/";
	if (chdir(to) < 0)
		return lfs_error(c, to, "%s", strerror(errno));
	return LFS_EXIT_OK;
}

static int cmd_lls_fn(struct lfs_ctx *c, int argc, char **argv)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return lfs_error(c, NULL, "fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		char **av = calloc((size_t)argc + 1, sizeof *av);
		if (!av)
			_exit(127);
		av[0] = (char *)"ls";
		for (int i = 1; i < argc; i++)
			av[i] = argv[i];
		execvp("ls", av);
		fprintf(stderr, "lightfs: lls: ls: %s\n", strerror(errno));
		_exit(127);
	}
	int rc = wait_child(pid);
	return rc == 0 ? LFS_EXIT_OK : LFS_EXIT_FAIL;
}

static int cmd_history_fn(struct lfs_ctx *c, int argc, char **argv)
{
	struct shell *sh = the_shell;
	if (argc == 2 && !strcmp(argv[1], "-c")) {
		clear_history();
		if (sh->histfile[0]) {
			int fd = open(sh->histfile, O_WRONLY | O_TRUNC);
			if (fd >= 0)
				close(fd);
		}
		return LFS_EXIT_OK;
	}
	if (argc > 1)
		return lfs_usage(c, "unexpected argument '%s'", argv[1]);
	HIST_ENTRY **h = history_list();
	for (int i = 0; h && h[i]; i++)
		printf("%5d  %s\n", i + history_base, h[i]->line);
	return LFS_EXIT_OK;
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static int cmd_cache_fn(struct lfs_ctx *c, int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "drop")) {
		lfs_drop_caches(c->sess->mnt);
		return LFS_EXIT_OK;
	}
	if (argc > 1)
		return lfs_usage(c, "unexpected argument '%s'", argv[1]);
	struct lfs_stats s;
	memset(&s, 0, sizeof s);
	lfs_mount_stats(c->sess->mnt, &s);
	printf("page cache  %" PRIu64 " pages cached (%.1f MiB), %" PRIu64 " dirty; peak %" PRIu64
	       " cached, %" PRIu64 " dirty; LRU active %" PRIu64 " inactive %" PRIu64 "\n",
	       s.pc.pages_cached, (double)s.pc.bytes_cached / 1048576.0, s.pc.pages_dirty,
	       s.pc.peak_pages_cached, s.pc.peak_pages_dirty, s.pc.active, s.pc.inactive);
	printf("  lookups   %" PRIu64 ", hits %" PRIu64 " (%.1f%%), misses %" PRIu64
	       ", readpage %" PRIu64 "\n",
	       s.pc.lookups, s.pc.hits, pct(s.pc.hits, s.pc.lookups), s.pc.misses, s.pc.readpage);
	printf("  readahead %" PRIu64 " batches, %" PRIu64 " pages, %" PRIu64
	       " used (%.1f%%), %" PRIu64 " async\n",
	       s.pc.readahead_calls, s.pc.ra_pages, s.pc.ra_used, pct(s.pc.ra_used, s.pc.ra_pages),
	       s.pc.async_ra);
	printf("  writeback %" PRIu64 " pages dirtied, %" PRIu64 " written in %" PRIu64
	       " writepages (background %" PRIu64 ", hard %" PRIu64 ", expired %" PRIu64
	       "), %" PRIu64 " evicted, %" PRIu64 " read-modify-write\n",
	       s.pc.pages_dirtied, s.pc.pages_written, s.pc.writepages_calls, s.pc.bg_writeback,
	       s.pc.hard_writeback, s.pc.expire_writeback, s.pc.pages_evicted, s.pc.rmw_reads);
	printf("txn         %" PRIu64 " transactions, %" PRIu64 " pages, %" PRIu64
	       " metadata ops, largest %" PRIu64 " pages, %" PRIu64 " fsync waits\n",
	       s.txn.txns, s.txn.pages, s.txn.meta_ops, s.txn.max_pages, s.txn.fsync_waits);
	printf("io          %" PRIu64 " requests (%" PRIu64 " reads, %" PRIu64 " writes), %" PRIu64
	       " merged, max depth %" PRIu64 "; latency p50 %" PRIu64 " ns, p99 %" PRIu64
	       " ns, max %" PRIu64 " ns\n",
	       s.io.requests, s.io.reads, s.io.writes, s.io.merges, s.io.max_depth,
	       lfs_hist_quantile(&s.io.lat, 0.5), lfs_hist_quantile(&s.io.lat, 0.99),
	       s.io.lat.max_ns);
	printf("kv          %" PRIu64 " gets, %" PRIu64 " puts, %" PRIu64 " dels, %" PRIu64
	       " scans (%" PRIu64 " items), %" PRIu64 " batches, %" PRIu64 " syncs\n",
	       s.kv.gets, s.kv.puts, s.kv.dels, s.kv.scans, s.kv.scan_items, s.kv.batches,
	       s.kv.syncs);
	printf("  bytes     %" PRIu64 " put, %" PRIu64 " got; image file %" PRIu64
	       " written, %" PRIu64 " read\n",
	       s.kv.bytes_put, s.kv.bytes_got, s.kv.file_bytes_written, s.kv.file_bytes_read);
	printf("vfs         %" PRIu64 " opens, %" PRIu64 " reads (%" PRIu64 " bytes), %" PRIu64
	       " writes (%" PRIu64 " bytes), %" PRIu64 " fsyncs\n",
	       s.vfs.opens, s.vfs.reads, s.vfs.bytes_read, s.vfs.writes, s.vfs.bytes_written,
	       s.vfs.fsyncs);
	return LFS_EXIT_OK;
}

static int cmd_sync_fn(struct lfs_ctx *c, int argc, char **argv)
{
	if (argc > 1)
		return lfs_usage(c, "unexpected argument '%s'", argv[1]);
	if (c->sess->readonly)
		return LFS_EXIT_OK;
	int rc = lfs_sync(c->sess->mnt);
	if (rc < 0)
		return lfs_error_code(c, c->sess->image, rc, NULL);
	return LFS_EXIT_OK;
}

static int cmd_quit_fn(struct lfs_ctx *c, int argc, char **argv)
{
	struct shell *sh = the_shell;
	if (argc > 2)
		return lfs_usage(c, "too many arguments");
	int st = 0;
	if (argc == 2) {
		char *end;
		long v = strtol(argv[1], &end, 10);
		if (*end || v < 0 || v > 255)
			return lfs_usage(c, "'%s': not an exit status", argv[1]);
		st = (int)v;
	}
	sh->quit = 1;
	sh->quit_status = st;
	return LFS_EXIT_OK;
}

const struct lfs_cmd cmd_cd = {
	.name = "cd", .fn = cmd_cd_fn, .synopsis = "cd [DIR|-]",
	.summary = "change the shell's directory in the image (default /)",
	.help = "Relative paths of every later command resolve against DIR.\n"
		"'cd -' goes back to the previous directory.\n",
	.flags = LFS_CMD_SHELLONLY,
};
const struct lfs_cmd cmd_pwd = {
	.name = "pwd", .fn = cmd_pwd_fn, .synopsis = "pwd",
	.summary = "print the shell's directory in the image", .flags = LFS_CMD_SHELLONLY,
};
const struct lfs_cmd cmd_lcd = {
	.name = "lcd", .fn = cmd_lcd_fn, .synopsis = "lcd [HOSTDIR]",
	.summary = "change the host directory (default $HOME), as sftp's lcd",
	.help = "Relative host paths of put, get and cp resolve against it.\n",
	.flags = LFS_CMD_SHELLONLY,
};
const struct lfs_cmd cmd_lls = {
	.name = "lls", .fn = cmd_lls_fn, .synopsis = "lls [LS-ARGS...]",
	.summary = "list the host directory (runs ls), as sftp's lls", .flags = LFS_CMD_SHELLONLY,
};
const struct lfs_cmd cmd_history = {
	.name = "history", .fn = cmd_history_fn, .synopsis = "history [-c]",
	.summary = "list the command history (-c clears it)",
	.help = "The history is kept in $LIGHTFS_HISTORY, default ~/.lightfs_history,\n"
		"1000 lines; each line is appended as soon as it is entered.\n",
	.flags = LFS_CMD_SHELLONLY, .options = "-c",
};
const struct lfs_cmd cmd_cache = {
	.name = "cache", .fn = cmd_cache_fn, .synopsis = "cache [drop]",
	.summary = "page cache and layer statistics of the session (drop: empty the cache)",
	.help = "Shows the running engine's counters since the image was mounted: page\n"
		"cache (pages, hits, readahead, writeback, evictions), txn, the request\n"
		"channel (requests, merges, depth, latency) and the KV store.\n"
		"'cache drop' drops clean pages, as echo 1 > /proc/sys/vm/drop_caches.\n",
	.flags = LFS_CMD_SHELLONLY,
};
const struct lfs_cmd cmd_sync = {
	.name = "sync", .fn = cmd_sync_fn, .synopsis = "sync",
	.summary = "write back dirty pages and commit (done after every command anyway)",
	.flags = LFS_CMD_SHELLONLY,
};
const struct lfs_cmd cmd_quit = {
	.name = "quit", .alias = "exit", .fn = cmd_quit_fn, .synopsis = "quit [STATUS]",
	.summary = "leave the shell (also Ctrl-D)", .flags = LFS_CMD_SHELLONLY,
};
