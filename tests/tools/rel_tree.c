/*
 * tests/tools/rel_tree.c — manifest of a tree, inside an image or on the
 * host, for the reliability campaigns (tests/reliability/crash_tool.sh).
 *
 *   rel_tree image IMG [PATH]   mount IMG read-only (engine API), walk PATH
 *   rel_tree host DIR           walk a host directory
 *   rel_tree put IMG DIR DEST   copy host DIR to DEST in IMG through the
 *                               engine API (mkfs first if IMG is missing):
 *                               base images that do not depend on `cp`
 *                               (REL_TREE_PAGE=BYTES, REL_TREE_ZSTD=1: mkfs)
 *
 * One line per object below the root, sorted by path:
 *   PATH<TAB>f SIZE CRC32C  regular file (CRC32C of its bytes)
 *   PATH<TAB>d              directory
 *   PATH<TAB>l TARGET       symlink
 * Exit 0, or 4 with a message when the image does not mount or a read
 * fails (what a campaign reports as "image does not open").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "vfs/lightfs.h"

static char **lines;
static size_t nl, cl;
static unsigned char buf[1 << 16];

static void add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s;
	if (vasprintf(&s, fmt, ap) < 0) {
		perror("vasprintf");
		exit(1);
	}
	va_end(ap);
	if (nl == cl) {
		cl = cl ? cl * 2 : 1024;
		lines = realloc(lines, cl * sizeof *lines);
		if (!lines) {
			perror("realloc");
			exit(1);
		}
	}
	lines[nl++] = s;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ------------------------------------------------------------ image */

static struct lfs_proc *P;
static int bad;

struct names {
	char **v;
	size_t n, c;
};

static int collect(void *arg, const struct lfs_dirent *de)
{
	struct names *nm = arg;
	if (nm->n == nm->c) {
		nm->c = nm->c ? nm->c * 2 : 16;
		nm->v = realloc(nm->v, nm->c * sizeof *nm->v);
		if (!nm->v)
			return -ENOMEM;
	}
	nm->v[nm->n++] = strdup(de->name);
	return 0;
}

static void walk_image(const char *abs, const char *rel)
{
	struct names nm = { 0 };
	int rc = lfs_readdir(P, abs, collect, &nm);
	if (rc < 0) {
		fprintf(stderr, "rel_tree: readdir %s: %s\n", abs, strerror(-rc));
		bad = 1;
	}
	for (size_t i = 0; i < nm.n; i++) {
		char a[8192], r[8192];
		snprintf(a, sizeof a, "%s/%s", strcmp(abs, "/") ? abs : "", nm.v[i]);
		snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", nm.v[i]);
		struct lfs_stat st;
		if ((rc = lfs_lstat(P, a, &st)) < 0) {
			fprintf(stderr, "rel_tree: lstat %s: %s\n", a, strerror(-rc));
			bad = 1;
			continue;
		}
		if (S_ISDIR(st.mode)) {
			add("%s\td", r);
			walk_image(a, r);
		} else if (S_ISLNK(st.mode)) {
			char t[4096];
			ssize_t n = lfs_readlink(P, a, t, sizeof t - 1);
			if (n < 0) {
				fprintf(stderr, "rel_tree: readlink %s: %s\n", a, strerror((int)-n));
				bad = 1;
				continue;
			}
			t[n] = 0;
			add("%s\tl %s", r, t);
		} else {
			int fd = lfs_open(P, a, O_RDONLY, 0);
			if (fd < 0) {
				fprintf(stderr, "rel_tree: open %s: %s\n", a, strerror(-fd));
				bad = 1;
				continue;
			}
			uint32_t crc = 0;
			uint64_t tot = 0;
			ssize_t n;
			while ((n = lfs_read(P, fd, buf, sizeof buf)) > 0) {
				crc = lfs_crc32c(crc, buf, (size_t)n);
				tot += (uint64_t)n;
			}
			if (n < 0) {
				fprintf(stderr, "rel_tree: read %s: %s\n", a, strerror((int)-n));
				bad = 1;
			}
			lfs_close(P, fd);
			if (tot != st.size) {
				fprintf(stderr, "rel_tree: %s: read %llu bytes, size says %llu\n", a,
					(unsigned long long)tot, (unsigned long long)st.size);
				bad = 1;
			}
			add("%s\tf %llu %08x", r, (unsigned long long)tot, crc);
		}
	}
	for (size_t i = 0; i < nm.n; i++)
		free(nm.v[i]);
	free(nm.v);
}

/* ------------------------------------------------------------ host */

static void walk_host(const char *abs, const char *rel)
{
	DIR *d = opendir(abs);
	if (!d) {
		fprintf(stderr, "rel_tree: %s: %s\n", abs, strerror(errno));
		bad = 1;
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char a[8192], r[8192];
		snprintf(a, sizeof a, "%s/%s", abs, de->d_name);
		snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		struct stat st;
		if (lstat(a, &st)) {
			bad = 1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			add("%s\td", r);
			walk_host(a, r);
		} else if (S_ISLNK(st.st_mode)) {
			char t[4096];
			ssize_t n = readlink(a, t, sizeof t - 1);
			t[n < 0 ? 0 : n] = 0;
			add("%s\tl %s", r, t);
		} else if (S_ISREG(st.st_mode)) {
			int fd = open(a, O_RDONLY);
			uint32_t crc = 0;
			uint64_t tot = 0;
			ssize_t n;
			while (fd >= 0 && (n = read(fd, buf, sizeof buf)) > 0) {
				crc = lfs_crc32c(crc, buf, (size_t)n);
				tot += (uint64_t)n;
			}
			if (fd >= 0)
				close(fd);
			add("%s\tf %llu %08x", r, (unsigned long long)tot, crc);
		}
	}
	closedir(d);
}

/* ------------------------------------------------------------ put */

static int put_tree(const char *host, const char *dst)
{
	int rc = lfs_mkdir(P, dst, 0755);
	if (rc < 0 && rc != -EEXIST) {
		fprintf(stderr, "rel_tree: mkdir %s: %s\n", dst, strerror(-rc));
		return -1;
	}
	DIR *d = opendir(host);
	if (!d) {
		fprintf(stderr, "rel_tree: %s: %s\n", host, strerror(errno));
		return -1;
	}
	struct dirent *de;
	int bad_put = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char a[8192], b[8192];
		snprintf(a, sizeof a, "%s/%s", host, de->d_name);
		snprintf(b, sizeof b, "%s/%s", dst, de->d_name);
		struct stat st;
		if (lstat(a, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			bad_put |= put_tree(a, b);
		} else if (S_ISLNK(st.st_mode)) {
			char t[4096];
			ssize_t n = readlink(a, t, sizeof t - 1);
			t[n < 0 ? 0 : n] = 0;
			if ((rc = lfs_symlink(P, t, b)) < 0) {
				fprintf(stderr, "rel_tree: symlink %s: %s\n", b, strerror(-rc));
				bad_put = -1;
			}
		} else if (S_ISREG(st.st_mode)) {
			int in = open(a, O_RDONLY);
			int fd = lfs_open(P, b, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 07777);
			if (in < 0 || fd < 0) {
				fprintf(stderr, "rel_tree: copy %s: %s\n", b, strerror(fd < 0 ? -fd : errno));
				bad_put = -1;
			} else {
				ssize_t n;
				while ((n = read(in, buf, sizeof buf)) > 0)
					if (lfs_write(P, fd, buf, (size_t)n) != n) {
						fprintf(stderr, "rel_tree: write %s failed\n", b);
						bad_put = -1;
						break;
					}
			}
			if (fd >= 0)
				lfs_close(P, fd);
			if (in >= 0)
				close(in);
		}
	}
	closedir(d);
	return bad_put;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "put")) {
		struct lfs_err err = { 0 };
		/* REL_TREE_PAGE=BYTES and REL_TREE_ZSTD=1 choose the geometry */
		struct lfs_mkfs_opts mo;
		memset(&mo, 0, sizeof mo);
		const char *ps = getenv("REL_TREE_PAGE"), *zs = getenv("REL_TREE_ZSTD");
		mo.page_size = ps ? (uint32_t)atoi(ps) : 0;
		mo.compress = zs && *zs == '1' ? 1 : 0;
		if (access(argv[2], F_OK) && lfs_mkfs(argv[2], &mo, &err)) {
			fprintf(stderr, "rel_tree: mkfs %s: %s\n", argv[2], err.msg);
			return 1;
		}
		struct lfs_mount_opts o;
		memset(&o, 0, sizeof o);
		struct lfs_mount *m;
		if (lfs_mount(argv[2], &o, &m, &err)) {
			fprintf(stderr, "rel_tree: %s: %s\n", argv[2], err.msg);
			return 4;
		}
		P = lfs_proc_new(m);
		int r = P ? put_tree(argv[3], argv[4]) : -1;
		lfs_proc_free(P);
		if (lfs_umount(m, &err)) {
			fprintf(stderr, "rel_tree: umount %s: %s\n", argv[2], err.msg);
			r = -1;
		}
		return r ? 1 : 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "image")) {
		struct lfs_mount_opts o;
		memset(&o, 0, sizeof o);
		o.readonly = 1;
		struct lfs_mount *m;
		struct lfs_err err = { 0 };
		if (lfs_mount(argv[2], &o, &m, &err)) {
			fprintf(stderr, "rel_tree: %s: %s\n", argv[2], err.msg);
			return 4;
		}
		P = lfs_proc_new(m);
		if (!P) {
			fprintf(stderr, "rel_tree: out of memory\n");
			return 1;
		}
		const char *root = argc > 3 ? argv[3] : "/";
		struct lfs_stat st;
		if (lfs_stat(P, root, &st) == 0)
			walk_image(root, "");
		lfs_proc_free(P);
		if (lfs_umount(m, &err)) {
			fprintf(stderr, "rel_tree: umount %s: %s\n", argv[2], err.msg);
			bad = 1;
		}
	} else if (argc == 3 && !strcmp(argv[1], "host")) {
		walk_host(argv[2], "");
	} else {
		fprintf(stderr, "usage: rel_tree image IMG [PATH] | host DIR | put IMG DIR DEST\n");
		return 2;
	}
	if (nl)
		qsort(lines, nl, sizeof *lines, cmp_line);
	for (size_t i = 0; i < nl; i++) {
		puts(lines[i]);
		free(lines[i]);
	}
	free(lines);
	return bad ? 4 : 0;
}
