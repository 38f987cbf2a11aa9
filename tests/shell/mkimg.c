/*
 * tests/shell/mkimg.c — build the image the shell and completion
 * tests use, through the engine's public API (so those tests do not depend
 * on the image CLI; built by mk/shell.mk once the engine exists):
 *
 *   shell_mkimg IMAGE [BIG_MIB]
 *
 *   /etc/passwd              "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:..."
 *   /usr/include/stdio.h     "#include <stddef.h>\n"
 *   /usr/include/sys/        (empty)
 *   /usr/share/              (empty)
 *   /my dir/a file           "spaces\n"
 *   /.hidden                 ""
 *   /big                     BIG_MIB MiB (default 0 = absent) of 'x' lines
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs/lightfs.h"

static int check(int rc, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "shell_mkimg: %s: %s\n", what, lfs_strerror(rc));
		exit(1);
	}
	return rc;
}

static void put(struct lfs_proc *p, const char *path, const char *text)
{
	int fd = check(lfs_open(p, path, O_WRONLY | O_CREAT | O_TRUNC, 0644), path);
	size_t n = strlen(text);
	if (n)
		check((int)lfs_write(p, fd, text, n), path);
	check(lfs_close(p, fd), path);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: shell_mkimg IMAGE [BIG_MIB]\n");
		return 2;
	}
	long big = argc > 2 ? atol(argv[2]) : 0;
	struct lfs_mkfs_opts mo = { .force = 1 };
	struct lfs_err err = { 0 };
	if (lfs_mkfs(argv[1], &mo, &err) < 0) {
		fprintf(stderr, "shell_mkimg: mkfs %s: %s\n", argv[1], err.msg);
		return 1;
	}
	struct lfs_mount_opts o = { 0 };
	struct lfs_mount *m;
	if (lfs_mount(argv[1], &o, &m, &err) < 0) {
		fprintf(stderr, "shell_mkimg: mount %s: %s\n", argv[1], err.msg);
		return 1;
	}
	struct lfs_proc *p = lfs_proc_new(m);
	check(lfs_mkdir(p, "/etc", 0755), "/etc");
	check(lfs_mkdir(p, "/usr", 0755), "/usr");
	check(lfs_mkdir(p, "/usr/include", 0755), "/usr/include");
	check(lfs_mkdir(p, "/usr/include/sys", 0755), "/usr/include/sys");
	check(lfs_mkdir(p, "/usr/share", 0755), "/usr/share");
	check(lfs_mkdir(p, "/my dir", 0755), "/my dir");
	put(p, "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n");
	put(p, "/usr/include/stdio.h", "#include <stddef.h>\n");
	put(p, "/my dir/a file", "spaces\n");
	put(p, "/.hidden", "");
	if (big > 0) {
		static char buf[1 << 20];
		for (size_t i = 0; i < sizeof buf; i++)
			buf[i] = (i % 64 == 63) ? '\n' : 'x';
		int fd = check(lfs_open(p, "/big", O_WRONLY | O_CREAT | O_TRUNC, 0644), "/big");
		for (long i = 0; i < big; i++)
			check((int)lfs_write(p, fd, buf, sizeof buf), "/big");
		check(lfs_close(p, fd), "/big");
	}
	lfs_proc_free(p);
	if (lfs_umount(m, &err) < 0) {
		fprintf(stderr, "shell_mkimg: umount: %s\n", err.msg);
		return 1;
	}
	return 0;
}
