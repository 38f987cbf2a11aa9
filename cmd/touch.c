/*
 * cmd/touch.c — `lightfs touch [-a] [-m] [-c] [-d DATE | -r REF] [-n]
 * IMAGE:/FILE...`: create empty files and set access / modification times.
 */
#include "image.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* DATE: "now", "@SECONDS[.FRACTION]", "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS[.FRACTION]]"
 * (or with 'T'), local time unless followed by 'Z' or " UTC".  0 or -1. */
int lfs_parse_date(const char *s, uint64_t *ns)
{
	struct timespec now;
	if (!strcmp(s, "now")) {
		clock_gettime(CLOCK_REALTIME, &now);
		*ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		return 0;
	}
	const char *p = s;
	uint64_t sec = 0, frac = 0;
	int fdigits = 0;
	if (*p == '@') {
		char *end;
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		errno = 0;
		unsigned long long v = strtoull(p, &end, 10);
		if (errno || v > 9000000000ull)
			return -1;
		sec = v;
		p = end;
	} else {
		int Y, M, D, h = 0, m = 0, sc = 0, n = 0;
		if (sscanf(p, "%4d-%2d-%2d%n", &Y, &M, &D, &n) != 3 || n != 10)
			return -1;
		p += n;
		if (*p == ' ' || *p == 'T') {
			int k = 0;
			if (sscanf(p + 1, "%2d:%2d%n", &h, &m, &k) != 2 || k != 5)
				return -1;
			p += 1 + k;
			if (*p == ':') {
				if (sscanf(p + 1, "%2d%n", &sc, &k) != 1 || k != 2)
					return -1;
				p += 3;
			}
		}
		if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sc > 60 || Y < 1970)
			return -1;
		struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
				 .tm_hour = h, .tm_min = m, .tm_sec = sc, .tm_isdst = -1 };
		/* the zone is known only after the fraction: look ahead */
		const char *q = p;
		if (*q == '.')
			for (q++; *q >= '0' && *q <= '9'; q++)
				;
		time_t t = (!strcmp(q, "Z") || !strcmp(q, " UTC")) ? timegm(&tm) : mktime(&tm);
		if (t == (time_t)-1 || t < 0)
			return -1;
		sec = (uint64_t)t;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (fdigits < 9) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				fdigits++;
			}
		if (!fdigits)
			return -1;
		while (fdigits < 9) {
			frac *= 10;
			fdigits++;
		}
	}
	if (*p && strcmp(p, "Z") && strcmp(p, " UTC"))
		return -1;
	*ns = sec * 1000000000ull + frac;
	return 0;
}

static int cmd_touch_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-create", no_argument, NULL, 'c' },
		{ "date", required_argument, NULL, 'd' },
		{ "reference", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ 0 },
	};
	int only_a = 0, only_m = 0, nocreate = 0, dry = 0, o;
	const char *date = NULL, *ref = NULL;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":amcd:r:n", longopts, NULL)) != -1) {
		switch (o) {
		case 'a': only_a = 1; break;
		case 'm': only_m = 1; break;
		case 'c': nocreate = 1; break;
		case 'd': date = optarg; break;
		case 'r': ref = optarg; break;
		case 'n': dry = 1; break;
		default: return lfs_bad_opt(c, argv, o);
		}
	}
	if (optind >= argc)
		return lfs_usage(c, "no file given");
	if (date && ref)
		return lfs_usage(c, "-d and -r exclude each other");
	uint64_t at, mt;
	if (lfs_parse_date(date ? date : "now", &at) < 0)
		return lfs_usage(c, "-d %s: want now, @SECONDS[.FRACTION], YYYY-MM-DD or "
				 "'YYYY-MM-DD HH:MM[:SS[.FRACTION]][Z]'", date);
	mt = at;
	struct lfs_imgs set = { .write = !dry };
	int status = LFS_EXIT_OK;
	if (ref) {
		struct lfs_ipath rp;
		int rc = lfs_ipath_parse(c, ref, &rp);
		if (rc)
			return rc;
		if (rp.kind == LFS_IPATH_IMAGE) {
			struct lfs_img *im;
			struct lfs_stat st;
			rc = lfs_imgs_get(c, &set, rp.image, &im);
			if (rc)
				return rc;
			rc = lfs_stat(im->proc, rp.path, &st);
			if (rc < 0) {
				lfs_img_errno(c, ref, rc);
				lfs_imgs_close(c, &set);
				return LFS_EXIT_FAIL;
			}
			at = st.atime_ns;
			mt = st.mtime_ns;
		} else if (rp.kind == LFS_IPATH_HOST) {
			struct stat hs;
			if (stat(rp.path, &hs) < 0)
				return lfs_error(c, ref, "%s", strerror(errno));
			at = (uint64_t)hs.st_atim.tv_sec * 1000000000ull + (uint64_t)hs.st_atim.tv_nsec;
			mt = (uint64_t)hs.st_mtim.tv_sec * 1000000000ull + (uint64_t)hs.st_mtim.tv_nsec;
		} else {
			return lfs_usage(c, "-r: '-' is not a file");
		}
	}
	if (only_a && !only_m)
		mt = UINT64_MAX;
	if (only_m && !only_a)
		at = UINT64_MAX;
	for (int i = optind; i < argc; i++) {
		struct lfs_ipath ip;
		struct lfs_img *im;
		int rc = lfs_imgs_arg(c, &set, argv[i], &ip, &im, &status);
		if (rc)
			continue;
		struct lfs_stat st;
		rc = lfs_lstat(im->proc, ip.path, &st);
		if (rc == -ENOENT && nocreate)
			continue;
		if (dry) {
			if (rc == 0 || rc == -ENOENT)
				printf("would %s '%s'\n", rc ? "create" : "set the times of", argv[i]);
			else
				status = lfs_img_errno(c, argv[i], rc);
			continue;
		}
		if (rc == -ENOENT) {
			int fd = lfs_open(im->proc, ip.path, O_WRONLY | O_CREAT, 0644);
			rc = fd < 0 ? fd : lfs_close(im->proc, fd);
		}
		if (rc == 0)
			rc = lfs_utimens(im->proc, ip.path, at, mt);
		if (rc < 0) {
			int s = lfs_img_errno(c, argv[i], rc);
			status = status ? status : s;
		}
	}
	int cs = lfs_imgs_close(c, &set);
	return status ? status : cs;
}

const struct lfs_cmd cmd_touch = {
	.name = "touch",
	.fn = cmd_touch_fn,
	.synopsis = "touch [-a] [-m] [-c] [-d DATE | -r REF] [-n] IMAGE:/FILE...",
	.summary = "create empty files or set their times in an image",
	.help =
	"Set the access and modification times of each FILE to now (or DATE, or\n"
	"REF's times), creating FILE empty (mode 644) when it does not exist.\n"
	"A symbolic link's own times are set; it is not followed.\n\n"
	"Options:\n"
	"  -a             change the access time only\n"
	"  -m             change the modification time only\n"
	"  -c, --no-create\n"
	"                 do not create missing files (and do not report them)\n"
	"  -d DATE, --date DATE\n"
	"                 use DATE: now, @SECONDS[.FRACTION] since the epoch,\n"
	"                 YYYY-MM-DD, or 'YYYY-MM-DD HH:MM[:SS[.FRACTION]]' ('T'\n"
	"                 may replace the blank) in local time, UTC with a Z suffix\n"
	"  -r REF, --reference REF\n"
	"                 use the times of REF: IMAGE:/path, or a host file\n"
	"  -n, --dry-run  change nothing; print what would be done\n\n"
	"Examples:\n"
	"  lightfs touch img.lfs:/var/run/stamp\n"
	"  lightfs touch -d '2024-01-01 12:00:00Z' img.lfs:/etc/motd\n",
	.options = "-a -m -c --no-create -d --date -r --reference -n --dry-run",
};
