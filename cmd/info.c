/*
 * cmd/info.c — `lightfs info [--json] IMAGE` (alias df): what an image
 * holds and what it costs on disk (lfs_statfs + the KV counters).
 */
#include "image.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "fs/schema.h"
#include "kv/kv.h"

/* Keys with one kind byte (lib/fs/FORMAT.md): a prefix scan, keys only. */
static int count_kind(struct lfs_kv *kv, uint8_t kind, uint64_t *n)
{
	*n = 0;
	struct lfs_kv_iter *it = lfs_kv_iter_prefix(kv, &kind, 1);
	if (!it)
		return -ENOMEM;
	for (; lfs_kv_iter_valid(it); lfs_kv_iter_next(it))
		(*n)++;
	int rc = lfs_kv_iter_error(it, NULL);
	lfs_kv_iter_free(it);
	return rc;
}

static const char *comp_name(int c)
{
	return c == LFS_KV_COMPRESS_ZSTD ? "zstd" : c == LFS_KV_COMPRESS_NONE ? "none" : "unknown";
}

/* "1.5 MiB" for humans next to the exact byte counts */
static const char *human(uint64_t v, char *buf, size_t cap)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = (double)v;
	int i = 0;
	while (d >= 1024 && i < 5) {
		d /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, cap, "%" PRIu64 " B", v);
	else
		snprintf(buf, cap, "%.1f %s", d, u[i]);
	return buf;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static int cmd_info_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ 0 },
	};
	int json = 0, o;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (o) {
		case 'J': json = 1; break;
		default: return lfs_bad_opt(c, argv, o);
		}
	}
	const char *image = NULL;
	if (optind < argc)
		image = argv[optind++];
	else
		image = lfs_default_image(c);
	if (!image)
		return lfs_usage(c, "no image given");
	if (optind < argc)
		return lfs_usage(c, "unexpected argument '%s'", argv[optind]);
	/* IMAGE:/ is accepted too (the path is ignored) */
	struct lfs_ipath ip;
	if (strchr(image, ':') && lfs_ipath_parse(c, image, &ip) == 0 && ip.kind == LFS_IPATH_IMAGE)
		image = ip.image;
	struct lfs_img im;
	int rc = lfs_img_open(c, image, 0, &im);
	if (rc)
		return rc;
	struct lfs_statfs s;
	rc = lfs_statfs(im.mnt, &s);
	if (rc < 0) {
		lfs_img_close(c, &im);
		return lfs_img_errno(c, image, rc);
	}
	struct lfs_kv_stats k;
	memset(&k, 0, sizeof k);
	lfs_kv_stats(lfs_mount_kv(im.mnt), &k);
	uint64_t kd = 0;
	rc = count_kind(lfs_mount_kv(im.mnt), LFS_FS_K_DENTRY, &kd);
	if (rc < 0) {
		lfs_img_close(c, &im);
		return lfs_img_errno(c, image, rc);
	}
	char comp[32];
	if (s.compress == LFS_KV_COMPRESS_ZSTD)
		snprintf(comp, sizeof comp, "zstd:%d", s.level ? s.level : 3);
	else
		snprintf(comp, sizeof comp, "%s", comp_name(s.compress));
	uint64_t other = s.inodes - s.files - s.dirs - s.symlinks;
	if (json) {
		printf("{\"image\":");
		lfs_json_str(stdout, image);
		printf(",\"label\":");
		lfs_json_str(stdout, s.label);
		printf(",\"page_size\":%u,\"compression\":\"%s\",\"compression_level\":%d,"
		       "\"inodes\":%" PRIu64 ",\"files\":%" PRIu64 ",\"dirs\":%" PRIu64
		       ",\"symlinks\":%" PRIu64 ",\"other\":%" PRIu64 ",\"logical_bytes\":%" PRIu64
		       ",\"stored_pages\":%" PRIu64 ",\"image_bytes\":%" PRIu64
		       ",\"live_bytes\":%" PRIu64 ",\"dead_bytes\":%" PRIu64
		       ",\"raw_value_bytes\":%" PRIu64 ",\"stored_value_bytes\":%" PRIu64
		       ",\"compression_ratio\":%.3f,\"kv_keys\":%" PRIu64 ",\"kv_dentry_keys\":%" PRIu64 ",\"kv_compactions\":%" PRIu64
		       ",\"memtable_bytes\":%" PRIu64 "}\n",
		       s.page_size, comp_name(s.compress),
		       s.compress == LFS_KV_COMPRESS_ZSTD && !s.level ? 3 : s.level, s.inodes, s.files, s.dirs,
		       s.symlinks, other, s.logical_bytes, s.stored_pages, s.image_bytes,
		       s.live_bytes, s.dead_bytes, s.raw_value_bytes, s.stored_value_bytes,
		       ratio(s.raw_value_bytes, s.stored_value_bytes), s.kv_keys, kd, k.compactions,
		       k.memtable_bytes);
	} else {
		char h[64];
		printf("Image:              %s\n", image);
		printf("Label:              %s\n", s.label[0] ? s.label : "(none)");
		printf("Page size:          %u\n", s.page_size);
		printf("Compression:        %s\n", comp);
		printf("Inodes:             %" PRIu64 " (%" PRIu64 " files, %" PRIu64
		       " directories, %" PRIu64 " symlinks, %" PRIu64 " other)\n",
		       s.inodes, s.files, s.dirs, s.symlinks, other);
		printf("Logical bytes:      %" PRIu64 " (%s)\n", s.logical_bytes,
		       human(s.logical_bytes, h, sizeof h));
		printf("Data pages stored:  %" PRIu64 "\n", s.stored_pages);
		printf("Image bytes:        %" PRIu64 " (%s)\n", s.image_bytes,
		       human(s.image_bytes, h, sizeof h));
		printf("Live bytes:         %" PRIu64 " (%s)\n", s.live_bytes,
		       human(s.live_bytes, h, sizeof h));
		printf("Dead bytes:         %" PRIu64 " (%s, %.1f%% of the image; 'lightfs "
		       "compact' reclaims it)\n",
		       s.dead_bytes, human(s.dead_bytes, h, sizeof h),
		       100.0 * ratio(s.dead_bytes, s.image_bytes));
		printf("Values:             %" PRIu64 " bytes raw, %" PRIu64 " stored\n",
		       s.raw_value_bytes, s.stored_value_bytes);
		printf("Compression ratio:  %.2f\n", ratio(s.raw_value_bytes, s.stored_value_bytes));
		printf("KV keys:            %" PRIu64 " (%" PRIu64 " inodes, %" PRIu64 " dentries, %" PRIu64
		       " data pages, %" PRIu64 " superblock and other)\n", s.kv_keys, s.inodes, kd, s.stored_pages,
		       s.kv_keys - s.inodes - kd - s.stored_pages);
	}
	return lfs_img_close(c, &im);
}

const struct lfs_cmd cmd_info = {
	.name = "info",
	.alias = "df",
	.fn = cmd_info_fn,
	.synopsis = "info [--json] IMAGE",
	.summary = "show an image's geometry, contents and space use",
	.help =
	"Print IMAGE's label, page size and compression, its inode counts (files,\n"
	"directories, symbolic links), the logical bytes of its files and the data\n"
	"pages stored, the image file's size split into live and dead bytes (dead\n"
	"bytes are reclaimed by 'lightfs compact'), the raw and stored sizes of\n"
	"its values with their ratio (above 1 when compression helps) and the\n"
	"number of KV keys by kind.  In the shell, or with -i IMAGE, IMAGE defaults to that image.\n"
	"The image is opened read-only.\n\n"
	"Options:\n"
	"  --json         one JSON object with the same figures (exact integers)\n\n"
	"Examples:\n"
	"  lightfs info img.lfs\n"
	"  lightfs df --json img.lfs | jq .dead_bytes\n",
	.options = "--json",
};
