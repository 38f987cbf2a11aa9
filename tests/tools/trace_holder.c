/*
 * tests/tools/trace_holder.c — a process that holds files open, for the
 * `trace record -p` test (tests/cli/trace_attach.sh).
 *
 *   trace_holder DIR
 *
 * Opens DIR/data (read-only, position moved to 100) and DIR/log (O_APPEND),
 * creates DIR/ready, then every 20 ms reads 10 bytes from data and appends
 * a line to log, until DIR/stop exists (or 20 s pass).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2 || chdir(argv[1]))
		return 2;
	int d = open("data", O_RDONLY);
	int l = open("log", O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (d < 0 || l < 0 || lseek(d, 100, SEEK_SET) != 100)
		return 1;
	close(open("ready", O_WRONLY | O_CREAT, 0644));
	char buf[10];
	for (int i = 0; i < 1000 && access("stop", F_OK) != 0; i++) {
		if (read(d, buf, sizeof buf) <= 0)
			lseek(d, 0, SEEK_SET);
		if (write(l, "tick\n", 5) != 5)
			return 1;
		usleep(20000);
	}
	return 0;
}
