/* fsx-style oracle: the same seeded random operations on lightfs and on a
 * host directory; every read must return the host's bytes, every stat the
 * host's size.  Runs in memory and on an image with umount/remount mid-run,
 * for page sizes 512, 4096 and 65536, with the default (large) cache and with
 * a cache of four pages.  LFS_LONG=1 runs 10x the operations; LFS_FSX_V=1
 * prints each operation. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "vfs/lightfs.h"

#define NF 4
static uint64_t rs;
static uint64_t rnd(void)
{
	rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
	return rs;
}

struct ctx {
	char hostdir[256], image[300];
	struct lfs_mount *m;
	struct lfs_proc *p;
	int hfd[NF], lfd[NF];
	char name[NF][16];
	uint32_t psz;
	int in_memory;
	uint64_t cache_bytes;      /* 0: the default (64 MiB, large) */
	uint32_t txn_max_pages, queue_depth;
	enum lfs_sched sched;
};

static int mount_it(struct ctx *c)
{
	struct lfs_mount_opts o = { .in_memory = c->in_memory, .mkfs.page_size = c->psz,
				    .cache_bytes = c->cache_bytes, .txn_max_pages = c->txn_max_pages,
				    .queue_depth = c->queue_depth, .sched = c->sched };
	struct lfs_err e = { 0 };
	int rc = lfs_mount(c->image, &o, &c->m, &e);
	if (rc < 0) {
		printf("# mount: %s\n", lfs_errmsg(&e, rc));
		return rc;
	}
	c->p = lfs_proc_new(c->m);
	return c->p ? 0 : -ENOMEM;
}

/* O_DIRECT on the lightfs fd for one call now and then (the host fd stays
 * buffered: O_DIRECT must not change what a read or write sees). */
static void maybe_direct(struct ctx *c, int i, int on)
{
	int fl = lfs_fcntl_getfl(c->p, c->lfd[i]);
	if (on && rnd() % 8 == 0)
		lfs_fcntl_setfl(c->p, c->lfd[i], fl | O_DIRECT);
	else if (!on)
		lfs_fcntl_setfl(c->p, c->lfd[i], fl & ~O_DIRECT);
}

static int run_opts(struct ctx *cfg, int nops)
{
	struct ctx c = *cfg;
	uint32_t psz = c.psz;
	int in_memory = c.in_memory;
	const char *tmp = getenv("TMPDIR");
	snprintf(c.hostdir, sizeof c.hostdir, "%s/fsx.%d.XXXXXX", tmp ? tmp : "/tmp", getpid());
	if (!mkdtemp(c.hostdir))
		return -1;
	snprintf(c.image, sizeof c.image, "%s.img", c.hostdir);
	if (!in_memory) {
		struct lfs_mkfs_opts mo = { .page_size = psz, .force = 1 };
		struct lfs_err e = { 0 };
		int rc = lfs_mkfs(c.image, &mo, &e);
		if (rc < 0) {
			printf("# mkfs: %s\n", lfs_errmsg(&e, rc));
			return -1;
		}
	}
	if (mount_it(&c) < 0)
		return -1;
	size_t maxlen = 8 * psz + 3000;
	uint8_t *wb = malloc(maxlen), *ra = malloc(maxlen), *rb = malloc(maxlen);
	int fails = 0;
	for (int i = 0; i < NF; i++) {
		snprintf(c.name[i], sizeof c.name[i], "f%d", i);
		c.hfd[i] = c.lfd[i] = -1;
	}
	for (int op = 0; op < nops && !fails; op++) {
		int i = (int)(rnd() % NF);
		char hp[300], lp[32];
		snprintf(hp, sizeof hp, "%s/%s", c.hostdir, c.name[i]);
		snprintf(lp, sizeof lp, "/%s", c.name[i]);
		if (c.hfd[i] < 0) {
			int fl = O_RDWR | O_CREAT | ((rnd() % 8 == 0) ? O_TRUNC : 0) |
				 ((rnd() % 6 == 0) ? O_APPEND : 0);
			c.hfd[i] = open(hp, fl, 0644);
			c.lfd[i] = lfs_open(c.p, lp, fl, 0644);
			if (c.hfd[i] < 0 || c.lfd[i] < 0) {
				printf("# op %d open %s: host %d lfs %d\n", op, lp, c.hfd[i], c.lfd[i]);
				fails++;
				break;
			}
			continue;
		}
		int k = (int)(rnd() % 100);
		if (getenv("LFS_FSX_V"))
			printf("# op %d file %d k %d\n", op, i, k);
		struct stat hs;
		fstat(c.hfd[i], &hs);
		uint64_t sz = (uint64_t)hs.st_size;
		if (k < 35) {            /* write */
			size_t n = 1 + rnd() % maxlen;
			uint64_t off = rnd() % (sz + 3 * psz + 1);
			for (size_t j = 0; j < n; j++)
				wb[j] = (uint8_t)rnd();
			ssize_t a = pwrite(c.hfd[i], wb, n, (off_t)off);
			maybe_direct(&c, i, 1);
			ssize_t b = lfs_pwrite(c.p, c.lfd[i], wb, n, (off_t)off);
			maybe_direct(&c, i, 0);
			if (a != b) {
				printf("# op %d pwrite %zu@%" PRIu64 ": host %zd lfs %zd\n", op, n, off, a, b);
				fails++;
			}
		} else if (k < 42) {     /* write at f_pos (append fds go to the end) */
			size_t n = 1 + rnd() % (2 * psz);
			for (size_t j = 0; j < n; j++)
				wb[j] = (uint8_t)rnd();
			ssize_t a = write(c.hfd[i], wb, n), b = lfs_write(c.p, c.lfd[i], wb, n);
			if (a != b) {
				printf("# op %d write: host %zd lfs %zd\n", op, a, b);
				fails++;
			}
		} else if (k < 70) {     /* read */
			size_t n = 1 + rnd() % maxlen;
			uint64_t off = rnd() % (sz + psz + 1);
			ssize_t a = pread(c.hfd[i], ra, n, (off_t)off);
			maybe_direct(&c, i, 1);
			ssize_t b = lfs_pread(c.p, c.lfd[i], rb, n, (off_t)off);
			maybe_direct(&c, i, 0);
			if (a != b || (a > 0 && memcmp(ra, rb, (size_t)a))) {
				printf("# op %d pread %zu@%" PRIu64 " (size %" PRIu64 "): host %zd lfs %zd%s\n",
				       op, n, off, sz, a, b, a == b ? " bytes differ" : "");
				fails++;
			}
		} else if (k < 77) {     /* truncate up or down */
			uint64_t len = rnd() % (sz + 4 * psz + 1);
			if (rnd() % 2)
				len = sz ? rnd() % sz : 0;
			int a = ftruncate(c.hfd[i], (off_t)len), b = lfs_ftruncate(c.p, c.lfd[i], (off_t)len);
			if ((a == 0) != (b == 0)) {
				printf("# op %d truncate %" PRIu64 ": host %d lfs %d\n", op, len, a, b);
				fails++;
			}
		} else if (k < 80) {     /* fsync */
			fsync(c.hfd[i]);
			if (lfs_fsync(c.p, c.lfd[i]) < 0) {
				printf("# op %d fsync failed\n", op);
				fails++;
			}
		} else if (k < 85) {     /* close */
			close(c.hfd[i]);
			lfs_close(c.p, c.lfd[i]);
			c.hfd[i] = c.lfd[i] = -1;
		} else if (k < 89) {     /* rename onto another name (maybe open) */
			int j = (int)(rnd() % NF);
			if (j == i)
				continue;
			char hq[300], lq[32];
			snprintf(hq, sizeof hq, "%s/%s", c.hostdir, c.name[j]);
			snprintf(lq, sizeof lq, "/%s", c.name[j]);
			int a = rename(hp, hq), b = lfs_rename(c.p, lp, lq, 0);
			if ((a == 0) != (b == 0)) {
				printf("# op %d rename: host %d lfs %d\n", op, a, b);
				fails++;
			}
			/* the open file now has name j; j's old file stays open unlinked */
			int th = c.hfd[j], tl = c.lfd[j];
			c.hfd[j] = c.hfd[i]; c.lfd[j] = c.lfd[i];
			c.hfd[i] = th; c.lfd[i] = tl;
			/* i's slot holds an unlinked open file: check then close it */
			if (c.hfd[i] >= 0) {
				struct stat s2;
				struct lfs_stat ls;
				fstat(c.hfd[i], &s2);
				lfs_fstat(c.p, c.lfd[i], &ls);
				ssize_t a2 = pread(c.hfd[i], ra, maxlen, 0);
				ssize_t b2 = lfs_pread(c.p, c.lfd[i], rb, maxlen, 0);
				if ((uint64_t)s2.st_size != ls.size || a2 != b2 ||
				    (a2 > 0 && memcmp(ra, rb, (size_t)a2))) {
					printf("# op %d replaced open file differs\n", op);
					fails++;
				}
				close(c.hfd[i]);
				lfs_close(c.p, c.lfd[i]);
				c.hfd[i] = c.lfd[i] = -1;
			}
		} else if (k < 92) {     /* unlink while open, keep using it */
			int a = unlink(hp), b = lfs_unlink(c.p, lp);
			if ((a == 0) != (b == 0)) {
				printf("# op %d unlink: host %d lfs %d\n", op, a, b);
				fails++;
			}
		} else if (k < 94 && !in_memory) {  /* umount / remount */
			for (int j = 0; j < NF; j++)
				if (c.hfd[j] >= 0) {
					close(c.hfd[j]);
					c.hfd[j] = c.lfd[j] = -1;
				}
			lfs_proc_free(c.p);
			struct lfs_err e = { 0 };
			if (lfs_umount(c.m, &e) < 0 || mount_it(&c) < 0) {
				printf("# op %d remount failed\n", op);
				fails++;
			}
		}
		if (c.hfd[i] >= 0 && !fails) {
			struct stat s2;
			struct lfs_stat ls;
			fstat(c.hfd[i], &s2);
			if (lfs_fstat(c.p, c.lfd[i], &ls) < 0 || ls.size != (uint64_t)s2.st_size) {
				printf("# op %d size: host %lld lfs %" PRIu64 "\n", op,
				       (long long)s2.st_size, ls.size);
				fails++;
			}
		}
	}
	/* final: every host file equals the lightfs one */
	for (int i = 0; i < NF && !fails; i++) {
		char hp[300], lp[32];
		snprintf(hp, sizeof hp, "%s/%s", c.hostdir, c.name[i]);
		snprintf(lp, sizeof lp, "/%s", c.name[i]);
		struct stat hs;
		struct lfs_stat ls;
		int a = stat(hp, &hs), b = lfs_stat(c.p, lp, &ls);
		if ((a == 0) != (b == 0) || (a == 0 && (uint64_t)hs.st_size != ls.size)) {
			printf("# final %s: host %d/%lld lfs %d/%" PRIu64 "\n", lp, a,
			       (long long)hs.st_size, b, ls.size);
			fails++;
		}
		if (a)
			unlink(hp);
	}
	for (int i = 0; i < NF; i++) {
		char hp[300];
		if (c.hfd[i] >= 0)
			close(c.hfd[i]);
		snprintf(hp, sizeof hp, "%s/%s", c.hostdir, c.name[i]);
		unlink(hp);
	}
	rmdir(c.hostdir);
	lfs_proc_free(c.p);
	struct lfs_err e = { 0 };
	if (lfs_umount(c.m, &e) < 0)
		fails++;
	if (!in_memory)
		unlink(c.image);
	free(wb); free(ra); free(rb);
	return fails;
}

static int run(uint32_t psz, int in_memory, int nops)
{
	struct ctx c = { .psz = psz, .in_memory = in_memory };
	return run_opts(&c, nops);
}

/* A cache of a few pages: eviction and writeback on nearly every call,
 * tiny txns (split writeback), a short queue (submit blocks), deadline. */
static int run_tiny(uint32_t psz, int in_memory, int nops)
{
	struct ctx c = { .psz = psz, .in_memory = in_memory, .cache_bytes = 4ull * psz,
			 .txn_max_pages = 3, .queue_depth = 2, .sched = LFS_SCHED_DEADLINE };
	return run_opts(&c, nops);
}

static int nops(void) { return getenv("LFS_LONG") ? 20000 : 1500; }

TEST(fsx_mem_4096) { rs = seed_from_env("fsx") | 1; CHECK_EQ(run(4096, 1, nops()), 0); }
TEST(fsx_mem_512) { rs = seed_from_env("fsx") | 1; CHECK_EQ(run(512, 1, nops()), 0); }
TEST(fsx_image_remount_4096) { rs = seed_from_env("fsx") | 1; CHECK_EQ(run(4096, 0, nops()), 0); }
TEST(fsx_image_remount_65536) { rs = seed_from_env("fsx") | 1; CHECK_EQ(run(65536, 0, nops() / 3), 0); }
TEST(fsx_tiny_mem_512) { rs = seed_from_env("fsx") | 1; CHECK_EQ(run_tiny(512, 1, nops()), 0); }
TEST(fsx_tiny_mem_4096) { rs = seed_from_env("fsx") | 1; CHECK_EQ(run_tiny(4096, 1, nops()), 0); }
TEST(fsx_tiny_image_remount_4096) { rs = seed_from_env("fsx") | 1; CHECK_EQ(run_tiny(4096, 0, nops()), 0); }
TEST(fsx_tiny_image_remount_65536) { rs = seed_from_env("fsx") | 1; CHECK_EQ(run_tiny(65536, 0, nops() / 3), 0); }

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, fsx_mem_4096, fsx_mem_512, fsx_image_remount_4096,
			 fsx_image_remount_65536, fsx_tiny_mem_512, fsx_tiny_mem_4096,
			 fsx_tiny_image_remount_4096, fsx_tiny_image_remount_65536);
}
