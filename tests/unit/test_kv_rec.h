/*
 * tests/unit/test_kv_rec.h — the recording file-ops seam shared by the KV
 * crash tests (test_kv_crash, test_kv_group): every pwrite and fsync the
 * engine makes is kept in order (struct rec), so the image as it would be
 * on disk after a crash at any write boundary, a torn write or lost
 * unsynced writes can be rebuilt (build_image); writes can be made to fail
 * from a given one on (fail_at).  Use with
 *   struct lfs_kv_file_ops fops = { r_pread, r_pwrite, r_fsync, r_ftruncate, &rec };
 */
#ifndef LFS_TEST_KV_REC_H
#define LFS_TEST_KV_REC_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_kv_model.h"
#include "kv/kv.h"

struct wev {
	uint64_t off;
	size_t len;
	uint8_t *data;     /* NULL = fsync */
};

struct rec {
	struct wev *ev;
	size_t n, cap;
	int fail_at;       /* > 0: write number fail_at and later fail with -EIO (0 never) */
	int writes;        /* writes done */
};

static inline ssize_t r_pread(void *ctx, int fd, void *buf, size_t n, off_t off)
{
	(void)ctx;
	ssize_t r = pread(fd, buf, n, off);
	return r < 0 ? -errno : r;
}

static inline void push(struct rec *r, uint64_t off, const void *d, size_t n)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
	}
	r->ev[r->n].off = off;
	r->ev[r->n].len = n;
	r->ev[r->n].data = NULL;
	if (d) {
		r->ev[r->n].data = malloc(n ? n : 1);
		memcpy(r->ev[r->n].data, d, n);
	}
	r->n++;
}

static inline ssize_t r_pwrite(void *ctx, int fd, const void *buf, size_t n, off_t off)
{
	struct rec *r = ctx;
	if (r->fail_at && r->writes + 1 >= r->fail_at)
		return -EIO;
	r->writes++;
	ssize_t w = pwrite(fd, buf, n, off);
	if (w < 0)
		return -errno;
	push(r, (uint64_t)off, buf, n);
	return w;
}

static inline int r_fsync(void *ctx, int fd)
{
	struct rec *r = ctx;
	push(r, 0, NULL, 0);
	return fsync(fd) ? -errno : 0;
}

static inline int r_ftruncate(void *ctx, int fd, off_t len)
{
	(void)ctx;
	return ftruncate(fd, len) ? -errno : 0;
}

static inline void rec_free(struct rec *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->ev[i].data);
	free(r->ev);
	memset(r, 0, sizeof *r);
}

/* Write the image made of events [0, k) (keep[i] = 0 drops event i), plus
 * the first tear bytes of event k. */
static inline void build_image(const char *path, struct rec *r, size_t k, const uint8_t *keep, size_t tear)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	for (size_t i = 0; i < k && i < r->n; i++)
		if (r->ev[i].data && (!keep || keep[i]))
			if (pwrite(fd, r->ev[i].data, r->ev[i].len, (off_t)r->ev[i].off) < 0)
				break;
	if (tear && k < r->n && r->ev[k].data)
		if (pwrite(fd, r->ev[k].data, tear < r->ev[k].len ? tear : r->ev[k].len, (off_t)r->ev[k].off) < 0)
			tear = 0;
	close(fd);
}

/* Read the whole store into m; 0 ok (DBG=1 prints the iterator error). */
static inline int read_all(struct lfs_kv *kv, struct model *m)
{
	struct lfs_kv_iter *it;
	for (it = lfs_kv_iter_new(kv, NULL, 0, NULL, 0); lfs_kv_iter_valid(it); lfs_kv_iter_next(it)) {
		size_t kl, vl;
		const void *k = lfs_kv_iter_key(it, &kl);
		const void *v = lfs_kv_iter_value(it, &vl);
		if (!v)
			break;
		m_put(m, k, kl, v, vl);
	}
	struct lfs_err e = { 0 };
	int rc = lfs_kv_iter_error(it, &e);
	if (rc && getenv("DBG"))
		printf("# iter: %s\n", e.msg);
	lfs_kv_iter_free(it);
	return rc;
}

static inline const char *tmpdir(void)
{
	return getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
}

#endif
