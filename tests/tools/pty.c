/*
 * tests/tools/pty.c — drive a program through a pseudo-terminal, as a
 * person at a keyboard would (a tiny `expect`).
 *
 *   pty [-t SECONDS] [-w COLS] [-o TRANSCRIPT] -- CMD ARGS... < SCRIPT
 *
 * SCRIPT has one action per line (C escapes \t \r \n \e \\ \xHH; ^C is \x03):
 *   send TEXT      type TEXT
 *   expect TEXT    wait until TEXT shows in the output after the last match
 *   absent TEXT MS wait MS milliseconds; fail if TEXT shows in that time
 *   sleep MS       wait
 *   wait           wait for CMD to exit and print `exit N` (or `signal N`)
 *   kill SIG       send signal number SIG to CMD
 *   # comment
 * The output is matched with terminal escape sequences, \r and NULs removed.
 * On a timeout or an `absent` match the driver prints what it saw since the
 * last match to stderr, kills CMD and exits 3.  -o writes the whole
 * (cleaned) transcript.  Exit 0 when every action succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *out;           /* cleaned output so far */
static size_t out_n, out_cap, mark; /* mark: end of the last match */
static int esc_state;        /* 0 text, 1 after ESC, 2 CSI, 3 OSC */
static int master = -1;
static pid_t child;
static const char *transcript;

static void out_put(char ch)
{
	if (out_n + 2 > out_cap) {
		out_cap = out_cap ? out_cap * 2 : 65536;
		out = realloc(out, out_cap);
		if (!out) {
			perror("pty");
			exit(2);
		}
	}
	out[out_n++] = ch;
	out[out_n] = 0;
}

static void clean(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		switch (esc_state) {
		case 1:
			esc_state = ch == '[' ? 2 : ch == ']' ? 3 : 0;
			continue;
		case 2:
			if (ch >= 0x40 && ch <= 0x7e)
				esc_state = 0;
			continue;
		case 3:
			if (ch == 7)
				esc_state = 0;
			else if (ch == 0x1b)
				esc_state = 1;
			continue;
		}
		if (ch == 0x1b) {
			esc_state = 1;
			continue;
		}
		if (ch == '\r' || ch == 7 || ch == 0)
			continue;
		out_put((char)ch);
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read what the child printed for up to `secs`; returns -1 at EOF. */
static int pump(double secs)
{
	struct pollfd p = { .fd = master, .events = POLLIN };
	int r = poll(&p, 1, (int)(secs * 1000));
	if (r <= 0)
		return 0;
	char buf[8192];
	ssize_t n = read(master, buf, sizeof buf);
	if (n <= 0)
		return -1;
	clean(buf, (size_t)n);
	return 1;
}

static void save_transcript(void)
{
	if (!transcript)
		return;
	FILE *f = fopen(transcript, "w");
	if (f) {
		if (out)
			fwrite(out, 1, out_n, f);
		fclose(f);
	}
}

static void die(const char *what, const char *text)
{
	fprintf(stderr, "pty: %s [%s]\n--- output since the last match ---\n%s\n---\n", what, text,
		out ? out + mark : "");
	save_transcript();
	if (child > 0)
		kill(child, SIGKILL);
	exit(3);
}

static size_t unescape(const char *s, char *d)
{
	size_t n = 0;
	for (; *s; s++) {
		if (*s != '\\' || !s[1]) {
			d[n++] = *s;
			continue;
		}
		s++;
		switch (*s) {
		case 't': d[n++] = '\t'; break;
		case 'r': d[n++] = '\r'; break;
		case 'n': d[n++] = '\n'; break;
		case 'e': d[n++] = 0x1b; break;
		case 'x': {
			unsigned v = 0;
			int k = 0;
			while (k < 2 && s[1] && strchr("0123456789abcdefABCDEF", s[1])) {
				char c = *++s;
				v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 32) - 'a' + 10);
				k++;
			}
			d[n++] = (char)v;
			break;
		}
		default: d[n++] = *s; break;
		}
	}
	d[n] = 0;
	return n;
}

int main(int argc, char **argv)
{
	double timeout = 10;
	int cols = 200, o;
	while ((o = getopt(argc, argv, "+t:w:o:")) != -1) {
		switch (o) {
		case 't': timeout = atof(optarg); break;
		case 'w': cols = atoi(optarg); break;
		case 'o': transcript = optarg; break;
		default:
			fprintf(stderr, "usage: pty [-t SECONDS] [-w COLS] [-o FILE] -- CMD ARGS... < SCRIPT\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "pty: no command\n");
		return 2;
	}
	struct winsize ws = { .ws_row = 50, .ws_col = (unsigned short)cols };
	child = forkpty(&master, NULL, NULL, &ws);
	if (child < 0) {
		perror("pty: forkpty");
		return 2;
	}
	if (child == 0) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "pty: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	signal(SIGPIPE, SIG_IGN);
	char line[8192], text[8192];
	int eof = 0;
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = 0;
		char *arg = strchr(line, ' ');
		if (arg)
			*arg++ = 0;
		else
			arg = line + strlen(line);
		if (!line[0] || line[0] == '#')
			continue;
		if (!strcmp(line, "send")) {
			size_t n = unescape(arg, text);
			/* a person types: one write per key keeps readline's view simple */
			for (size_t i = 0; i < n; i++) {
				if (write(master, text + i, 1) != 1)
					die("write failed while sending", arg);
				if (!eof && pump(0.002) < 0)
					eof = 1;
			}
		} else if (!strcmp(line, "expect")) {
			unescape(arg, text);
			double end = now() + timeout;
			char *hit;
			while (!(hit = out ? strstr(out + mark, text) : NULL)) {
				if (eof || now() > end)
					die(eof ? "program ended before" : "timeout waiting for", arg);
				if (pump(end - now()) < 0)
					eof = 1;
			}
			mark = (size_t)(hit - out) + strlen(text);
		} else if (!strcmp(line, "absent")) {
			char *ms = strrchr(arg, ' ');
			double secs = ms ? atof(ms + 1) / 1000 : 0.5;
			if (ms)
				*ms = 0;
			unescape(arg, text);
			size_t from = mark;
			double end = now() + secs;
			while (!eof && now() < end)
				if (pump(end - now()) < 0)
					eof = 1;
			if (out && strstr(out + from, text))
				die("unexpected output", arg);
		} else if (!strcmp(line, "sleep")) {
			double end = now() + atof(arg) / 1000;
			while (now() < end)
				if (!eof && pump(end - now()) < 0)
					eof = 1;
		} else if (!strcmp(line, "kill")) {
			if (child > 0)
				kill(child, atoi(arg));
		} else if (!strcmp(line, "wait")) {
			double end = now() + timeout;
			while (!eof) {
				if (now() > end)
					die("timeout waiting for the end of output", "");
				if (pump(1) < 0)
					eof = 1;
			}
			int st;
			pid_t r;
			while ((r = waitpid(child, &st, WNOHANG)) == 0) {
				if (now() > end)
					die("timeout waiting for exit", "");
				usleep(10000);
			}
			if (r == child) {
				if (WIFEXITED(st))
					printf("exit %d\n", WEXITSTATUS(st));
				else
					printf("signal %d\n", WTERMSIG(st));
				fflush(stdout);
				child = 0;
			}
		} else {
			fprintf(stderr, "pty: unknown action %s\n", line);
			if (child > 0)
				kill(child, SIGKILL);
			return 2;
		}
	}
	save_transcript();
	if (child > 0) {
		kill(child, SIGHUP);
		waitpid(child, NULL, 0);
	}
	return 0;
}
