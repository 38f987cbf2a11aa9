/*
 * cmd/stat.c — `lightfs stat [-L] [--json] IMAGE:/PATH...`: an entry's
 * inode, as GNU stat prints it (or one JSON line each).
 */
#include "image.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* "2026-11-30 21:00:00.123456789 +0000" in the local zone */
static void stat_time(uint64_t ns, char *buf, size_t cap)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;
	localtime_r(&t, &tm);
	char a[32], z[16];
	if (!strftime(a, sizeof a, "%Y-%m-%d %H:%M:%S", &tm))
		a[0] = 0;
	if (!strftime(z, sizeof z, "%z", &tm))
		z[0] = 0;
	snprintf(buf, cap, "%.20s.%09u %.6s", a, (unsigned)(ns % 1000000000u), z);
}

static void print_stat(const char *disp, const struct lfs_stat *st, const char *target)
{
	char mode[11], ub[64], gb[64], t[64];
	lfs_fmt_mode(st->mode, mode);
	if (target)
		printf("  File: %s -> %s\n", disp, target);
	else
		printf("  File: %s\n", disp);
	printf("  Size: %-10" PRIu64 "\tBlocks: %-10" PRIu64 " IO Block: %-6u %s\n", st->size,
	       st->blocks, st->blksize, lfs_type_name(st->mode));
	printf("Inode: %-11" PRIu64 " Links: %u\n", st->ino, st->nlink);
	printf("Access: (%04o/%s)  Uid: (%5u/%8s)   Gid: (%5u/%8s)\n", st->mode & 07777, mode,
	       st->uid, lfs_user_name(st->uid, 0, ub, sizeof ub), st->gid,
	       lfs_group_name(st->gid, 0, gb, sizeof gb));
	stat_time(st->atime_ns, t, sizeof t);
	printf("Access: %s\n", t);
	stat_time(st->mtime_ns, t, sizeof t);
	printf("Modify: %s\n", t);
	stat_time(st->ctime_ns, t, sizeof t);
	printf("Change: %s\n", t);
	stat_time(st->btime_ns, t, sizeof t);
	printf(" Birth: %s\n", t);
}

/* GNU stat -c FORMAT directives (a subset: the ones an image has). */
static void print_format(const char *fmt, int escapes, const char *disp,
			 const struct lfs_stat *st, const char *target)
{
	char b[PATH_MAX + 64];
	for (const char *p = fmt; *p; p++) {
		if (escapes && *p == '\\' && p[1]) {
			p++;
			switch (*p) {
			case 'n': putchar('\n'); break;
			case 't': putchar('\t'); break;
			case '\\': putchar('\\'); break;
			case '"': putchar('"'); break;
			default: putchar('\\'); putchar(*p); break;
			}
			continue;
		}
		if (*p != '%' || !p[1]) {
			putchar(*p);
			continue;
		}
		p++;
		switch (*p) {
		case '%': putchar('%'); break;
		case 'n': fputs(disp, stdout); break;
		case 'N':
			if (target)
				printf("'%s' -> '%s'", disp, target);
			else
				printf("'%s'", disp);
			break;
		case 's': printf("%" PRIu64, st->size); break;
		case 'b': printf("%" PRIu64, st->blocks); break;
		case 'B': fputs("512", stdout); break;
		case 'o': printf("%u", st->blksize); break;
		case 'f': printf("%x", st->mode); break;
		case 'F': fputs(lfs_type_name(st->mode), stdout); break;
		case 'a': printf("%o", st->mode & 07777); break;
		case 'A': lfs_fmt_mode(st->mode, b); fputs(b, stdout); break;
		case 'h': printf("%u", st->nlink); break;
		case 'i': printf("%" PRIu64, st->ino); break;
		case 'u': printf("%u", st->uid); break;
		case 'g': printf("%u", st->gid); break;
		case 'U': fputs(lfs_user_name(st->uid, 0, b, sizeof b), stdout); break;
		case 'G': fputs(lfs_group_name(st->gid, 0, b, sizeof b), stdout); break;
		case 'x': stat_time(st->atime_ns, b, sizeof b); fputs(b, stdout); break;
		case 'y': stat_time(st->mtime_ns, b, sizeof b); fputs(b, stdout); break;
		case 'z': stat_time(st->ctime_ns, b, sizeof b); fputs(b, stdout); break;
		case 'w': stat_time(st->btime_ns, b, sizeof b); fputs(b, stdout); break;
		case 'X': printf("%" PRIu64, st->atime_ns / 1000000000u); break;
		case 'Y': printf("%" PRIu64, st->mtime_ns / 1000000000u); break;
		case 'Z': printf("%" PRIu64, st->ctime_ns / 1000000000u); break;
		case 'W': printf("%" PRIu64, st->btime_ns / 1000000000u); break;
		default: putchar('%'); putchar(*p); break;
		}
	}
	if (!escapes)
		putchar('\n');
}

static int cmd_stat_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dereference", no_argument, NULL, 'L' },
		{ "json", no_argument, NULL, 'J' },
		{ "format", required_argument, NULL, 'c' },
		{ "printf", required_argument, NULL, 'P' },
		{ 0 },
	};
	int json = 0, follow = 0, escapes = 0, o;
	const char *fmt = NULL;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":Lc:", longopts, NULL)) != -1) {
		switch (o) {
		case 'L': follow = 1; break;
		case 'J': json = 1; break;
		case 'c': fmt = optarg; escapes = 0; break;
		case 'P': fmt = optarg; escapes = 1; break;
		default: return lfs_bad_opt(c, argv, o);
		}
	}
	if (optind >= argc)
		return lfs_usage(c, "no path given");
	struct lfs_imgs set = { .write = 0 };
	int status = LFS_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		struct lfs_ipath ip;
		struct lfs_img *im;
		int rc = lfs_imgs_arg(c, &set, argv[i], &ip, &im, &status);
		if (rc)
			continue;
		struct lfs_stat st;
		rc = follow ? lfs_stat(im->proc, ip.path, &st) : lfs_lstat(im->proc, ip.path, &st);
		if (rc < 0) {
			int s = lfs_img_errno(c, argv[i], rc);
			status = status ? status : s;
			continue;
		}
		char target[PATH_MAX + 1], *tp = NULL;
		if (S_ISLNK(st.mode)) {
			ssize_t n = lfs_readlink(im->proc, ip.path, target, sizeof target - 1);
			if (n >= 0) {
				target[n] = 0;
				tp = target;
			}
		}
		if (fmt)
			print_format(fmt, escapes, argv[i], &st, tp);
		else if (json)
			lfs_json_stat(stdout, im->from_session ? NULL : im->image, ip.path, NULL, &st,
				      tp);
		else
			print_stat(argv[i], &st, tp);
	}
	int cs = lfs_imgs_close(c, &set);
	return status ? status : cs;
}

const struct lfs_cmd cmd_stat = {
	.name = "stat",
	.fn = cmd_stat_fn,
	.synopsis = "stat [-L] [--json | -c FORMAT | --printf FORMAT] IMAGE:/PATH...",
	.summary = "show the inode of files in an image",
	.help =
	"Print, as GNU stat does, each PATH's size, blocks stored (512-byte units),\n"
	"I/O block (the page size), type, inode number, link count, permissions,\n"
	"owner, group and access / modification / change / birth times with\n"
	"nanoseconds in the local time zone; a symbolic link shows its target.\n\n"
	"Options:\n"
	"  -L, --dereference\n"
	"                 follow symbolic links (default: describe the link itself)\n"
	"  --json         one JSON object per line and PATH: path, type, ino, mode\n"
	"                 (octal string), nlink, uid, gid, size, blocks, blksize,\n"
	"                 a/m/c/btime (ISO 8601 UTC, nanoseconds) and *_ns\n"
	"                 (integers), target for symlinks\n"
	"  -c FORMAT, --format FORMAT\n"
	"                 print FORMAT and a newline for each PATH, as GNU stat:\n"
	"                 %n name, %N name -> target, %s size, %b blocks, %B 512,\n"
	"                 %o I/O block, %f raw mode (hex), %F type, %a mode (octal),\n"
	"                 %A mode (ls -l), %h links, %i inode, %u/%U owner,\n"
	"                 %g/%G group, %x %y %z %w access / modify / change /\n"
	"                 birth time, %X %Y %Z %W the same in epoch seconds, %% %\n"
	"  --printf FORMAT\n"
	"                 like -c, without the newline, with \\n \\t \\\\ escapes\n\n"
	"Examples:\n"
	"  lightfs stat img.lfs:/etc/passwd\n"
	"  lightfs stat --json img.lfs:/bin | jq .ino\n"
	"  lightfs stat -c '%s %n' img.lfs:/a img.lfs:/b\n",
	.options = "-L --dereference --json -c --format --printf",
};
