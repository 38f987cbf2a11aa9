/*
 * tests/bench/engine_bench.c — the engine (vfs → page cache → fs → txn →
 * io → kv) against plain files on the same filesystem.
 *
 *   engine_bench [-d DIR] [-s MiB] [-n OPS] [-c CACHE_MiB]
 *
 * 1. sequential write of S MiB in 1 MiB calls + fsync: lightfs API into an
 *    image vs write()+fsync() of a host file; peak RSS of the lightfs run
 *    (a child process, so the figure is its own).
 * 2. sequential read of that file with a cold lightfs cache (a fresh mount;
 *    the image itself is in the OS page cache) vs read() of the host file
 *    from the OS page cache.
 * 3. N random 4 KiB preads, then N random 4 KiB pwrites + one fsync, on
 *    both.
 * Ratios are host time / lightfs time (1.0 = as fast as the host).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vfs/lightfs.h"

#define CHUNK (1u << 20)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rs = 88172645463325252ull;
static uint64_t rnd(void)
{
	rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
	return rs;
}

static void fill(uint8_t *b, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	for (size_t i = 0; i + 8 <= n; i += 8) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		memcpy(b + i, &x, 8);
	}
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "engine_bench: %s: %s\n", what, lfs_strerror(rc < 0 ? rc : -errno));
	exit(1);
}

static struct lfs_mount *mnt(const char *img, uint64_t cache)
{
	struct lfs_mount_opts o = { .cache_bytes = cache };
	struct lfs_mount *m;
	struct lfs_err e = { 0 };
	int rc = lfs_mount(img, &o, &m, &e);
	if (rc < 0) {
		fprintf(stderr, "engine_bench: mount: %s\n", lfs_errmsg(&e, rc));
		exit(1);
	}
	return m;
}

static void umnt(struct lfs_mount *m)
{
	struct lfs_err e = { 0 };
	int rc = lfs_umount(m, &e);
	if (rc < 0)
		die("umount", rc);
}

int main(int argc, char **argv)
{
	const char *dir = ".";
	uint64_t mib = 1024, cache_mib = 64;
	int nops = 10000, opt;
	while ((opt = getopt(argc, argv, "d:s:n:c:")) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 's': mib = strtoull(optarg, NULL, 10); break;
		case 'n': nops = atoi(optarg); break;
		case 'c': cache_mib = strtoull(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: engine_bench [-d DIR] [-s MiB] [-n OPS] [-c CACHE_MiB]\n");
			return 2;
		}
	}
	char host[4096], img[4096];
	snprintf(host, sizeof host, "%s/engine_bench.host", dir);
	snprintf(img, sizeof img, "%s/engine_bench.lfs", dir);
	uint64_t total = mib << 20, cache = cache_mib << 20;
	uint8_t *buf = malloc(CHUNK), *rb = malloc(CHUNK);
	if (!buf || !rb)
		die("malloc", -ENOMEM);
	printf("engine_bench: %" PRIu64 " MiB, cache %" PRIu64 " MiB, %d random ops, dir %s\n",
	       mib, cache_mib, nops, dir);

	/* ---- 1. sequential write + fsync */
	int fd = open(host, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(host, -errno);
	double t0 = now();
	for (uint64_t off = 0; off < total; off += CHUNK) {
		fill(buf, CHUNK, off / CHUNK);
		if (write(fd, buf, CHUNK) != CHUNK)
			die("host write", -errno);
	}
	if (fsync(fd) < 0)
		die("host fsync", -errno);
	double th_w = now() - t0;
	close(fd);

	struct lfs_mkfs_opts mo = { .force = 1 };
	struct lfs_err e = { 0 };
	int rc = lfs_mkfs(img, &mo, &e);
	if (rc < 0) {
		fprintf(stderr, "engine_bench: mkfs: %s\n", lfs_errmsg(&e, rc));
		return 1;
	}
	int pfd[2];
	if (pipe(pfd) < 0)
		die("pipe", -errno);
	pid_t pid = fork();
	if (pid == 0) {
		struct lfs_mount *m = mnt(img, cache);
		struct lfs_proc *p = lfs_proc_new(m);
		int lfd = lfs_open(p, "/big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (lfd < 0)
			die("lfs open", lfd);
		double t1 = now();
		for (uint64_t off = 0; off < total; off += CHUNK) {
			fill(buf, CHUNK, off / CHUNK);
			ssize_t w = lfs_write(p, lfd, buf, CHUNK);
			if (w != CHUNK)
				die("lfs write", (int)w);
		}
		double tw = now() - t1;
		if ((rc = lfs_fsync(p, lfd)) < 0)
			die("lfs fsync", rc);
		double dt = now() - t1;
		struct lfs_stats st;
		lfs_mount_stats(m, &st);
		lfs_close(p, lfd);
		lfs_proc_free(p);
		umnt(m);
		char line[512];
		int l = snprintf(line, sizeof line, "%.6f %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
				 " %.6f %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", dt, st.txn.txns,
				 st.io.requests, st.io.merges, st.pc.pages_written, tw, st.kv.syncs,
				 st.kv.file_bytes_written, st.pc.bg_writeback, st.pc.hard_writeback);
		if (write(pfd[1], line, (size_t)l) != l)
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	char line[512] = { 0 };
	ssize_t got = read(pfd[0], line, sizeof line - 1);
	close(pfd[0]);
	struct rusage ru;
	int status;
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) || got <= 0) {
		fprintf(stderr, "engine_bench: the write run failed\n");
		return 1;
	}
	double tl_w, tl_w_nosync = 0;
	uint64_t txns, reqs, merges, written, syncs = 0, fbytes = 0, bgw = 0, hardw = 0;
	sscanf(line, "%lf %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %lf %" SCNu64 " %" SCNu64
	       " %" SCNu64 " %" SCNu64, &tl_w, &txns, &reqs, &merges, &written, &tl_w_nosync, &syncs,
	       &fbytes, &bgw, &hardw);
	double rss_mib = (double)ru.ru_maxrss / 1024.0;
	printf("seq write+fsync  host %7.3f s  lightfs %7.3f s  ratio %.2f (target >= 0.80)  "
	       "[%" PRIu64 " txns, %" PRIu64 " io requests, %" PRIu64 " merges]\n",
	       th_w, tl_w, th_w / tl_w, txns, reqs, merges);
	printf("                 lightfs before fsync %.3f s, %" PRIu64 " KV syncs, %.1f MiB written to the image, "
	       "%" PRIu64 " background / %" PRIu64 " hard writeback rounds\n",
	       tl_w_nosync, syncs, (double)fbytes / 1048576.0, bgw, hardw);
	printf("                 lightfs CPU: user %.3f s, sys %.3f s (both threads, incl. mount/umount), "
	       "%ld minor faults, %ld/%ld voluntary/involuntary switches\n",
	       (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_minflt, ru.ru_nvcsw,
	       ru.ru_nivcsw);
	printf("peak RSS writing %" PRIu64 " MiB with a %" PRIu64 " MiB cache: %.1f MiB (target <= %" PRIu64
	       " MiB)\n", mib, cache_mib, rss_mib, cache_mib + 48);

	/* ---- 2. cold sequential read (image and host file in the OS cache) */
	fd = open(host, O_RDONLY);
	while (read(fd, rb, CHUNK) > 0)
		;                                  /* warm the host file */
	lseek(fd, 0, SEEK_SET);
	t0 = now();
	uint64_t sum = 0;
	ssize_t r;
	while ((r = read(fd, rb, CHUNK)) > 0)
		sum += rb[0];
	double th_r = now() - t0;
	close(fd);
	int ifd = open(img, O_RDONLY);         /* warm the image in the OS cache */
	while (read(ifd, rb, CHUNK) > 0)
		;
	close(ifd);
	struct lfs_mount *m = mnt(img, cache);
	struct lfs_proc *p = lfs_proc_new(m);
	int lfd = lfs_open(p, "/big", O_RDONLY, 0);
	if (lfd < 0)
		die("lfs open", lfd);
	t0 = now();
	uint64_t sum2 = 0, bytes = 0;
	while ((r = lfs_read(p, lfd, rb, CHUNK)) > 0) {
		sum2 += rb[0];
		bytes += (uint64_t)r;
	}
	double tl_r = now() - t0;
	if (r < 0 || bytes != total || sum != sum2) {
		fprintf(stderr, "engine_bench: read back %" PRIu64 " bytes (rc %zd), checksum %s\n",
			bytes, r, sum == sum2 ? "ok" : "differs");
		return 1;
	}
	struct lfs_stats st;
	lfs_mount_stats(m, &st);
	printf("cold seq read    host %7.3f s  lightfs %7.3f s  ratio %.2f (target >= 0.50)  "
	       "[%" PRIu64 " readahead batches, %" PRIu64 " pages, %" PRIu64 " io requests]\n",
	       th_r, tl_r, th_r / tl_r, st.pc.readahead_calls, st.pc.ra_pages, st.io.requests);
	lfs_close(p, lfd);

	/* ---- 3. random 4 KiB reads, then writes + fsync */
	uint64_t npages = total / 4096;
	uint64_t *offs = malloc((size_t)nops * sizeof *offs);
	for (int i = 0; i < nops; i++)
		offs[i] = (rnd() % npages) * 4096;
	fd = open(host, O_RDWR);
	t0 = now();
	for (int i = 0; i < nops; i++)
		if (pread(fd, rb, 4096, (off_t)offs[i]) != 4096)
			die("host pread", -errno);
	double th_rr = now() - t0;
	lfd = lfs_open(p, "/big", O_RDWR, 0);
	t0 = now();
	for (int i = 0; i < nops; i++)
		if ((r = lfs_pread(p, lfd, rb, 4096, (off_t)offs[i])) != 4096)
			die("lfs pread", (int)r);
	double tl_rr = now() - t0;
	for (int i = 0; i < nops; i++)
		offs[i] = (rnd() % npages) * 4096;
	t0 = now();
	for (int i = 0; i < nops; i++)
		if (pwrite(fd, buf, 4096, (off_t)offs[i]) != 4096)
			die("host pwrite", -errno);
	fsync(fd);
	double th_rw = now() - t0;
	t0 = now();
	for (int i = 0; i < nops; i++)
		if ((r = lfs_pwrite(p, lfd, buf, 4096, (off_t)offs[i])) != 4096)
			die("lfs pwrite", (int)r);
	if ((rc = lfs_fsync(p, lfd)) < 0)
		die("lfs fsync", rc);
	double tl_rw = now() - t0;
	close(fd);
	lfs_close(p, lfd);
	printf("random 4K reads  host %7.3f s  lightfs %7.3f s  ratio %.2f (%d ops)\n",
	       th_rr, tl_rr, th_rr / tl_rr, nops);
	printf("random 4K writes host %7.3f s  lightfs %7.3f s  ratio %.2f (%d ops + fsync)\n",
	       th_rw, tl_rw, th_rw / tl_rw, nops);
	lfs_proc_free(p);
	umnt(m);
	unlink(host);
	unlink(img);
	free(offs);
	free(buf);
	free(rb);
	return 0;
}
