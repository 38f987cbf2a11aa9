/*
 * cmd/compact.c — `lightfs compact IMAGE`: rewrite the live records of an
 * image into a fresh file (crash safe, lib/kv) and print the sizes before
 * and after.  Inside the shell, on the session's image, it compacts through
 * the session's mount (lfs_mount_kv) after a sync.
 */
#include "cli.h"
#include "image.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv/kv.h"
#include "session.h"
#include "vfs/lightfs.h"

static void human(char *b, size_t cap, uint64_t v)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int i = 0;
	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(b, cap, "%" PRIu64 " B", v);
	else
		snprintf(b, cap, "%.1f %s", d, u[i]);
}

static int file_size(const char *path, uint64_t *sz)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	*sz = (uint64_t)st.st_size;
	return 0;
}

static int cmd_compact_fn(struct lfs_ctx *c, int argc, char **argv)
{
	int dry = 0;
	if (argc >= 2 && !strcmp(argv[1], "-n")) {
		dry = 1;
		argc--;
		argv++;
	}
	const char *image = argc == 2 ? argv[1] : lfs_default_image(c);
	if (argc > 2 || !image || image[0] == '-')
		return lfs_usage(c, !image ? "missing IMAGE" : argc > 2 ? "one IMAGE only" : "unknown option %s",
				 image);
	if (dry) {
		/* the plan: what the file holds and how much of it is dead */
		struct lfs_kv_opts ko = { .mode = LFS_KV_RDONLY };
		struct lfs_kv *kv;
		struct lfs_err e;
		memset(&e, 0, sizeof e);
		int rc = lfs_kv_open(image, &ko, &kv, &e);
		if (rc < 0)
			return lfs_error_code(c, image, rc, &e);
		struct lfs_kv_stats st;
		lfs_kv_stats(kv, &st);
		lfs_kv_close(kv);
		char hf[32], hd[32];
		human(hf, sizeof hf, st.file_bytes);
		human(hd, sizeof hd, st.dead_bytes);
		printf("%s: would compact %" PRIu64 " bytes (%s): %" PRIu64 " live, %" PRIu64
		       " dead (%s) to reclaim\n", image, st.file_bytes, hf, st.live_bytes, st.dead_bytes, hd);
		return LFS_EXIT_OK;
	}
	struct lfs_err e;
	memset(&e, 0, sizeof e);
	struct stat a, b;
	int session = c->sess && c->sess->mnt && stat(image, &a) == 0 &&
		      stat(c->sess->image, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	uint64_t before = 0, after = 0;
	int rc;
	if (session) {
		if (c->sess->readonly)
			return lfs_error(c, image, "the shell holds this image read-only");
		if ((rc = lfs_sync(c->sess->mnt)) < 0)
			return lfs_error_code(c, image, rc, NULL);
		rc = lfs_kv_compact(lfs_mount_kv(c->sess->mnt), &before, &after, &e);
		if (rc < 0)
			return lfs_error_code(c, image, rc, &e);
	} else {
		if (access(image, F_OK) < 0)
			return lfs_error(c, image, "%s", strerror(errno));
		struct lfs_kv_opts ko = { .mode = LFS_KV_RDWR };
		struct lfs_kv *kv;
		rc = lfs_kv_open(image, &ko, &kv, &e);
		if (rc < 0) {
			if (rc == LFS_E_BADMAGIC)
				return lfs_error_code(c, image, rc, NULL);
			return lfs_error_code(c, image, rc, &e);
		}
		rc = lfs_kv_compact(kv, &before, &after, &e);
		int crc = lfs_kv_close(kv);
		if (rc < 0)
			return lfs_error_code(c, image, rc, &e);
		if (crc < 0)
			return lfs_error_code(c, image, crc, NULL);
		/* close writes a checkpoint: report the size the file has now */
		if (file_size(image, &after) < 0)
			return lfs_error(c, image, "%s", strerror(errno));
	}
	char hb[32], ha[32];
	human(hb, sizeof hb, before);
	human(ha, sizeof ha, after);
	double pct = before ? 100.0 * (double)(before > after ? before - after : 0) / (double)before : 0;
	printf("%s: %" PRIu64 " -> %" PRIu64 " bytes (%s -> %s, %.1f%% reclaimed)\n", image, before, after,
	       hb, ha, pct);
	return LFS_EXIT_OK;
}

const struct lfs_cmd cmd_compact = {
	.name = "compact",
	.fn = cmd_compact_fn,
	.synopsis = "compact [-n] IMAGE",
	.summary = "reclaim the dead space of an image",
	.help =
	"Rewrites the live records of IMAGE into a fresh file and swaps it in\n"
	"atomically (a crash leaves the old image intact), then prints the file\n"
	"size before and after.  Takes the writer lock; inside the shell it\n"
	"compacts the session's image through the mounted session.  In the\n"
	"shell, or with -i IMAGE, IMAGE defaults to that image.\n"
	"  -n   dry run: print the file size and the dead bytes it would reclaim\n",
	.options = "-n",
};
