/*
 * cmd/truncate.c — `lightfs truncate [-c] [-n] -s [+|-|<|>]SIZE[K|M|G|T|KB|MB|GB]
 * IMAGE:/FILE...`: set file sizes as GNU truncate does.  Growing makes a
 * hole (no data stored); shrinking drops the pages past the new end.
 */
#include "image.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct size_spec {
	char op;                   /* 0 set, '+', '-', '<' at most, '>' at least */
	uint64_t v;
};

int lfs_parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	uint64_t mul = 1;
	if (*end) {
		static const char units[] = "KMGTPE";
		const char *u = strchr(units, end[0] == 'k' ? 'K' : end[0]);
		if (!u || !end[0])
			return -1;
		int pow = (int)(u - units) + 1;
		uint64_t base = 1024;
		if (!strcmp(end + 1, "B"))
			base = 1000;
		else if (end[1] && strcmp(end + 1, "iB"))
			return -1;
		for (int i = 0; i < pow; i++)
			mul *= base;
	}
	if (mul && v > UINT64_MAX / mul)
		return -1;
	*out = (uint64_t)v * mul;
	return 0;
}

static int parse_spec(const char *s, struct size_spec *sp)
{
	sp->op = 0;
	if (*s == '+' || *s == '-' || *s == '<' || *s == '>')
		sp->op = *s++;
	return lfs_parse_size(s, &sp->v);
}

static int cmd_truncate_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "no-create", no_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ 0 },
	};
	struct size_spec sp;
	int have = 0, nocreate = 0, dry = 0, o;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":s:cn", longopts, NULL)) != -1) {
		switch (o) {
		case 's':
			if (parse_spec(optarg, &sp) < 0)
				return lfs_usage(c, "-s %s: want [+-<>]SIZE with an optional K, M, G, T "
						 "(1024) or KB, MB, GB, TB (1000) suffix", optarg);
			have = 1;
			break;
		case 'c': nocreate = 1; break;
		case 'n': dry = 1; break;
		default: return lfs_bad_opt(c, argv, o);
		}
	}
	if (!have)
		return lfs_usage(c, "-s SIZE is required");
	if (optind >= argc)
		return lfs_usage(c, "no file given");
	if (sp.v > (uint64_t)INT64_MAX)
		return lfs_usage(c, "-s: size too large");
	struct lfs_imgs set = { .write = !dry };
	int status = LFS_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		struct lfs_ipath ip;
		struct lfs_img *im;
		int rc = lfs_imgs_arg(c, &set, argv[i], &ip, &im, &status);
		if (rc)
			continue;
		struct lfs_stat st;
		rc = lfs_stat(im->proc, ip.path, &st);
		if (rc == -ENOENT && nocreate)
			continue;
		uint64_t cur = rc == 0 ? st.size : 0, want = sp.v;
		if (rc == 0 && S_ISDIR(st.mode))
			rc = -EISDIR;
		else if (rc == -ENOENT)
			rc = 0;
		if (rc == 0) {
			switch (sp.op) {
			case '+':
				if (cur > (uint64_t)INT64_MAX - sp.v)
					rc = -EFBIG;
				want = cur + sp.v;
				break;
			case '-': want = cur > sp.v ? cur - sp.v : 0; break;
			case '<': want = cur < sp.v ? cur : sp.v; break;
			case '>': want = cur > sp.v ? cur : sp.v; break;
			}
		}
		if (rc == 0 && dry) {
			printf("would set the size of '%s' to %llu\n", argv[i], (unsigned long long)want);
			continue;
		}
		int fd = rc < 0 ? rc : lfs_open(im->proc, ip.path, O_WRONLY | O_CREAT, 0644);
		if (fd >= 0) {
			rc = lfs_ftruncate(im->proc, fd, (off_t)want);
			int cr = lfs_close(im->proc, fd);
			if (rc == 0)
				rc = cr;
		} else {
			rc = fd;
		}
		if (rc < 0) {
			int s = lfs_img_errno(c, argv[i], rc);
			status = status ? status : s;
		}
	}
	int cs = lfs_imgs_close(c, &set);
	return status ? status : cs;
}

const struct lfs_cmd cmd_truncate = {
	.name = "truncate",
	.fn = cmd_truncate_fn,
	.synopsis = "truncate [-c] [-n] -s SIZE IMAGE:/FILE...",
	.summary = "shrink or extend files in an image",
	.help =
	"Set the size of each FILE, creating it (mode 644) when missing unless -c\n"
	"is given.  Extending leaves a hole: nothing is stored for it and it\n"
	"reads as zeros.  Shrinking discards the data past the new end.\n\n"
	"Options:\n"
	"  -s SIZE, --size SIZE\n"
	"                 the new size; a K, M, G, T, P, E suffix multiplies by\n"
	"                 1024 (KiB, MiB ... also accepted), KB, MB, GB ... by 1000;\n"
	"                 a prefix makes it relative: +SIZE extend by, -SIZE\n"
	"                 shrink by, <SIZE at most, >SIZE at least\n"
	"  -c, --no-create\n"
	"                 do not create missing files (and do not report them)\n"
	"  -n, --dry-run  change nothing; print the sizes that would be set\n\n"
	"Examples:\n"
	"  lightfs truncate -s 0 img.lfs:/var/log/big.log\n"
	"  lightfs truncate -s +1G img.lfs:/disk.raw\n",
	.options = "-s --size -c --no-create -n --dry-run",
};
