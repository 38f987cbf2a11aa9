/*
 * tests/unit/test_tools_ipath.c — the path-argument rules of cmd/image.h
 * (lib/tools/ipath.c), case by case, with a stand-in "file system" where
 * img.lfs and dir/b.lfs are images.
 */
#include "harness.h"

#include <errno.h>

#include "tools/ipath.h"

static int fake_is_image(void *arg, const char *p)
{
	(void)arg;
	return !strcmp(p, "img.lfs") || !strcmp(p, "dir/b.lfs") || !strcmp(p, "/abs/c.lfs");
}

struct want {
	const char *arg;
	const char *sess, *dflt;
	int rc;
	enum lfs_ipath_cls kind;
	const char *image, *path;
};

static const struct want cases[] = {
	/* explicit prefixes */
	{ "img.lfs:/etc/passwd", NULL, NULL, 0, LFS_IPC_IMAGE, "img.lfs", "/etc/passwd" },
	{ "img.lfs:", NULL, NULL, 0, LFS_IPC_IMAGE, "img.lfs", "/" },
	{ "img.lfs:rel/x", NULL, NULL, 0, LFS_IPC_IMAGE, "img.lfs", "rel/x" },
	{ "img.lfs:/a:b", NULL, NULL, 0, LFS_IPC_IMAGE, "img.lfs", "/a:b" },
	{ "dir/b.lfs:/x", NULL, NULL, 0, LFS_IPC_IMAGE, "dir/b.lfs", "/x" },
	{ "/abs/c.lfs:/x", NULL, NULL, 0, LFS_IPC_IMAGE, "/abs/c.lfs", "/x" },
	/* unknown prefixes: an error, never a host path */
	{ "nosuch:/x", NULL, NULL, -ENOENT, LFS_IPC_HOST, "nosuch", "" },
	{ "dir/nosuch.lfs:/x", NULL, NULL, -ENOENT, LFS_IPC_HOST, "dir/nosuch.lfs", "" },
	{ "nosuch:/x", NULL, "img.lfs", -ENOENT, LFS_IPC_HOST, "nosuch", "" },
	/* host spellings */
	{ "./a:b", NULL, NULL, 0, LFS_IPC_HOST, "", "./a:b" },
	{ "../a:b", NULL, NULL, 0, LFS_IPC_HOST, "", "../a:b" },
	{ "/x:y", NULL, NULL, 0, LFS_IPC_HOST, "", "/x:y" },
	{ "plain", NULL, NULL, 0, LFS_IPC_HOST, "", "plain" },
	{ "/etc/passwd", NULL, NULL, 0, LFS_IPC_HOST, "", "/etc/passwd" },
	{ ":x", NULL, NULL, 0, LFS_IPC_HOST, "", ":x" },
	/* -i IMAGE and the shell session */
	{ "/etc/passwd", NULL, "img.lfs", 0, LFS_IPC_IMAGE, "img.lfs", "/etc/passwd" },
	{ "rel", NULL, "img.lfs", 0, LFS_IPC_IMAGE, "img.lfs", "rel" },
	{ "./a:b", NULL, "img.lfs", 0, LFS_IPC_IMAGE, "img.lfs", "./a:b" },
	{ "rel", "/t/s.lfs", "img.lfs", 0, LFS_IPC_IMAGE, "/t/s.lfs", "rel" },
	{ "s.lfs:/x", "/t/s.lfs", NULL, 0, LFS_IPC_IMAGE, "s.lfs", "/x" },
	{ "/t/s.lfs:/x", "/t/s.lfs", NULL, 0, LFS_IPC_IMAGE, "/t/s.lfs", "/x" },
	{ "img.lfs:/x", "/t/s.lfs", NULL, 0, LFS_IPC_IMAGE, "img.lfs", "/x" },
	/* stdio and empty */
	{ "-", NULL, NULL, 0, LFS_IPC_STDIO, "", "-" },
	{ "-", NULL, "img.lfs", 0, LFS_IPC_STDIO, "", "-" },
	{ "", NULL, NULL, -EINVAL, LFS_IPC_HOST, "", "" },
};

TEST(table)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct want *w = &cases[i];
		char image[256], path[256];
		struct lfs_ipath_env env = { .is_image = fake_is_image, .session_image = w->sess,
					     .default_image = w->dflt };
		struct lfs_ipath_res r = { .image = image, .image_cap = sizeof image,
					   .path = path, .path_cap = sizeof path };
		int rc = lfs_ipath_classify(w->arg, &env, &r);
		CHECK_MSG(rc == w->rc, "case %zu [%s]: rc %d want %d", i, w->arg, rc, w->rc);
		if (rc == 0)
			CHECK_MSG(r.kind == w->kind, "case %zu [%s]: kind %d want %d", i, w->arg,
				  (int)r.kind, (int)w->kind);
		CHECK_MSG(!strcmp(image, w->image), "case %zu [%s]: image [%s] want [%s]", i,
			  w->arg, image, w->image);
		CHECK_MSG(!strcmp(path, w->path), "case %zu [%s]: path [%s] want [%s]", i, w->arg,
			  path, w->path);
	}
}

TEST(too_long)
{
	char image[8], path[8];
	struct lfs_ipath_env env = { .is_image = fake_is_image };
	struct lfs_ipath_res r = { .image = image, .image_cap = sizeof image,
				   .path = path, .path_cap = sizeof path };
	CHECK_EQ(lfs_ipath_classify("dir/b.lfs:/a", &env, &r), -ENAMETOOLONG);
	CHECK_EQ(r.why, LFS_IPW_TOOLONG);
	CHECK_EQ(lfs_ipath_classify("a_long_host_path", &env, &r), -ENAMETOOLONG);
	CHECK_EQ(lfs_ipath_classify("short", &env, &r), 0);
}

TEST(embedded_nul)
{
	char image[64], path[64];
	struct lfs_ipath_env env = { .is_image = fake_is_image };
	struct lfs_ipath_res r = { .image = image, .image_cap = sizeof image,
				   .path = path, .path_cap = sizeof path };
	CHECK_EQ(lfs_ipath_classify_n("img.lfs:/a\0b", 12, &env, &r), -EINVAL);
	CHECK_EQ(r.why, LFS_IPW_NUL);
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, table, too_long, embedded_nul);
}
