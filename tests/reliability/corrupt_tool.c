/*
 * tests/reliability/corrupt_tool.c — helper of the corruption campaign
 * (tests/reliability/corrupt.sh) and of the fsck CLI tests.
 *
 *   corrupt_tool mktree IMG SEED NFILES MAXBYTES [PAGESIZE] [zstd]
 *       build an image through the public API: nested directories, files of
 *       many sizes (empty, partial page, many pages), a hard link, a
 *       symlink, some history (rewritten, truncated and deleted files);
 *       writes IMG.manifest (the expected tree).
 *   corrupt_tool damage IMG SEED OUT_AFFECTED [salvage]
 *       flip random bits or zero a random range of IMG (seeded); before
 *       that, map every live KV value to its bytes in the file, and write
 *       to OUT_AFFECTED the paths whose records (own inode and pages, the
 *       entries on its path) the damage touches.  Prints what it did and
 *       "live N" = live records hit.
 *   corrupt_tool verify IMG [MUST_OK_EXCEPT]
 *       mount IMG read-only, read every file of IMG.manifest and compare it
 *       with the original bytes.  Each file reads correctly or fails; wrong
 *       bytes exit 3.  With MUST_OK_EXCEPT (a file of paths), every path
 *       not listed there must read correctly (exit 5 otherwise).
 *       An undamaged file found byte-identical as /lost+found/#INO counts as
 *       relocated, not lost.  Prints "ok N err N wrong N lost N relocated N".  With --stale-ok after MUST_OK_EXCEPT
 *       (fsck reported log records lost entirely), older contents of a listed
 *       (damaged) file are tolerated and counted as errors.
 *   corrupt_tool expect IMG PATH    the original bytes of PATH to stdout.
 *   corrupt_tool hostman IMG HOSTDIR IMGDIR
 *       IMG.manifest for a host tree that `lightfs cp -r HOSTDIR IMG:IMGDIR`
 *       copied (real files no one here wrote): verify compares with them.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/schema.h"
#include "kv/kv.h"
#include "vfs/lightfs.h"

static void die(const char *what, int rc)
{
	fprintf(stderr, "corrupt_tool: %s: %s\n", what, lfs_strerror(rc));
	exit(2);
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13; x ^= x >> 7; x ^= x << 17;
	return rng_state = x;
}

/* Content of file idx, version ver: half compressible text, half random. */
static void content(uint64_t seed, unsigned idx, unsigned ver, uint8_t *buf, size_t n)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + idx * 1000003ull + ver * 7919ull + 1;
	int text = (idx % 2) == 0;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		buf[i] = text ? (uint8_t)("lightfs corrupt campaign \n"[x % 26]) : (uint8_t)x;
	}
}

struct mfile;
static int expected(uint64_t seed, const struct mfile *f, uint8_t *buf);

struct mfile { char path[256]; unsigned idx, ver; size_t size; unsigned long long ino;
	       char host[512]; /* a copied host file: its bytes are the expected ones */ };

/* The original bytes of f (f->size of them) into buf: generated, or read
 * from the host file it was copied from.  0 or -1. */
static int expected(uint64_t seed, const struct mfile *f, uint8_t *buf)
{
	if (!f->host[0]) {
		content(seed, f->idx, f->ver, buf, f->size);
		return 0;
	}
	FILE *h = fopen(f->host, "rb");
	if (!h)
		return -1;
	size_t n = fread(buf, 1, f->size, h);
	fclose(h);
	return n == f->size ? 0 : -1;
}

static char *manifest_path(const char *img)
{
	static char p[4096];
	snprintf(p, sizeof p, "%s.manifest", img);
	return p;
}

static int load_manifest(const char *img, uint64_t *seed, struct mfile **out, size_t *n)
{
	FILE *f = fopen(manifest_path(img), "r");
	if (!f)
		return -errno;
	size_t cap = 64, cnt = 0;
	struct mfile *v = malloc(cap * sizeof *v);
	unsigned long long s;
	if (fscanf(f, "seed %llu\n", &s) != 1) {
		fclose(f);
		free(v);
		return -EINVAL;
	}
	*seed = s;
	unsigned idx, ver;
	size_t size;
	char line[512], path[256];
	int pos;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		unsigned long long ino;
		char *tab = NULL;
		if (!strncmp(line, "host ", 5)) {   /* host SIZE INO PATH<TAB>HOSTPATH */
			tab = strchr(line, '\t');
			if (!tab || sscanf(line + 5, "%zu %llu %n", &size, &ino, &pos) != 2)
				continue;
			*tab++ = 0;
			pos += 5;
			idx = ver = 0;
		} else if (sscanf(line, "%u %u %zu %llu %n", &idx, &ver, &size, &ino, &pos) != 4) {
			continue;
		}
		snprintf(path, sizeof path, "%s", line + pos);
		if (cnt == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		v[cnt].idx = idx;
		v[cnt].ver = ver;
		v[cnt].size = size;
		v[cnt].ino = ino;
		snprintf(v[cnt].host, sizeof v[cnt].host, "%s", tab ? tab : "");
		snprintf(v[cnt].path, sizeof v[cnt].path, "%s", path);
		cnt++;
	}
	fclose(f);
	*out = v;
	*n = cnt;
	return 0;
}

/* ---------------------------------------------------------------- mktree */

static void write_file(struct lfs_proc *p, const char *path, uint64_t seed, unsigned idx, unsigned ver,
		       size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	content(seed, idx, ver, buf, size);
	int fd = lfs_open(p, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path, fd);
	for (size_t off = 0; off < size;) {
		size_t chunk = size - off < 20000 ? size - off : 20000;
		ssize_t w = lfs_write(p, fd, buf + off, chunk);
		if (w <= 0)
			die(path, (int)w);
		off += (size_t)w;
	}
	int rc = lfs_close(p, fd);
	if (rc < 0)
		die(path, rc);
	free(buf);
}

static int mktree(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	const char *img = argv[2];
	uint64_t seed = strtoull(argv[3], NULL, 0);
	unsigned nfiles = (unsigned)atoi(argv[4]);
	size_t maxb = (size_t)strtoull(argv[5], NULL, 0);
	struct lfs_mkfs_opts mo = { .page_size = argc > 6 ? (uint32_t)atoi(argv[6]) : 4096,
				    .compress = argc > 7 && !strcmp(argv[7], "zstd"), .force = 1,
				    .label = "corrupt" };
	struct lfs_err e;
	int rc = lfs_mkfs(img, &mo, &e);
	if (rc < 0)
		die(img, rc);
	struct lfs_mount *m;
	struct lfs_mount_opts o = { 0 };
	if ((rc = lfs_mount(img, &o, &m, &e)) < 0)
		die(img, rc);
	struct lfs_proc *p = lfs_proc_new(m);
	rng_state = seed * 2654435761u + 17;
	const char *dirs[] = { "", "/a", "/a/b", "/a/b/c", "/d", "/d/e", "/f g" };
	const size_t ndirs = sizeof dirs / sizeof dirs[0];
	for (size_t i = 1; i < ndirs; i++)
		if ((rc = lfs_mkdir(p, dirs[i], 0755)) < 0)
			die(dirs[i], rc);
	struct mfile *v = calloc(nfiles + 2, sizeof *v);
	size_t nv = 0;
	for (unsigned i = 0; i < nfiles; i++) {
		size_t size;
		switch (rnd() % 5) {
		case 0: size = 0; break;
		case 1: size = rnd() % 200; break;
		case 2: size = rnd() % (mo.page_size + 1); break;
		default: size = maxb ? rnd() % (maxb + 1) : 0;
		}
		struct mfile *f = &v[nv++];
		snprintf(f->path, sizeof f->path, "%s/file%u", dirs[rnd() % ndirs], i);
		f->idx = i;
		f->ver = 0;
		f->size = size;
		write_file(p, f->path, seed, i, 0, size);
	}
	/* history: rewrite, truncate, delete */
	for (size_t i = 0; i < nv; i++) {
		unsigned r = (unsigned)(rnd() % 10);
		if (r == 0) {
			v[i].ver = 1;
			v[i].size = maxb ? rnd() % (maxb + 1) : 10;
			write_file(p, v[i].path, seed, v[i].idx, 1, v[i].size);
		} else if (r == 1 && v[i].size > 10) {
			size_t ns = v[i].size / 3;
			if ((rc = lfs_truncate(p, v[i].path, (off_t)ns)) < 0)
				die(v[i].path, rc);
			v[i].size = ns;
		} else if (r == 2) {
			if ((rc = lfs_unlink(p, v[i].path)) < 0)
				die(v[i].path, rc);
			v[i].path[0] = 0;
		}
	}
	/* a hard link and a symlink */
	for (size_t i = 0; i < nv; i++) {
		if (v[i].path[0] && v[i].size) {
			v[nv] = v[i];
			snprintf(v[nv].path, sizeof v[nv].path, "/d/hardlink%zu", i);
			if ((rc = lfs_link(p, v[i].path, v[nv].path)) < 0)
				die("link", rc);
			nv++;
			break;
		}
	}
	if ((rc = lfs_symlink(p, "a/b", "/sym")) < 0)
		die("symlink", rc);
	for (size_t i = 0; i < nv; i++) {
		struct lfs_stat sst;
		if (v[i].path[0] && (rc = lfs_stat(p, v[i].path, &sst)) < 0)
			die(v[i].path, rc);
		v[i].ino = v[i].path[0] ? sst.ino : 0;
	}
	lfs_proc_free(p);
	if ((rc = lfs_umount(m, &e)) < 0)
		die("umount", rc);
	FILE *mf = fopen(manifest_path(img), "w");
	if (!mf)
		die(manifest_path(img), -errno);
	fprintf(mf, "seed %llu\n", (unsigned long long)seed);
	for (size_t i = 0; i < nv; i++)
		if (v[i].path[0])
			fprintf(mf, "%u %u %zu %llu %s\n", v[i].idx, v[i].ver, v[i].size, v[i].ino, v[i].path);
	fclose(mf);
	free(v);
	return 0;
}

/* ---------------------------------------------------------------- damage */

struct live { uint8_t key[LFS_FS_KEY_MAX + 8]; size_t klen; uint64_t off, len; uint64_t child; };
struct lmap { struct live *v; size_t n, cap; uint64_t idx_lo[64], idx_hi[64]; int nidx; };

static int key_cmp(const void *a, size_t al, const void *b, size_t bl)
{
	size_t m = al < bl ? al : bl;
	int c = memcmp(a, b, m);
	return c ? c : (al > bl) - (al < bl);
}

static struct live *lfind(struct lmap *m, const void *k, size_t kl)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].klen == kl && !memcmp(m->v[i].key, k, kl))
			return &m->v[i];
	return NULL;
}

static int walk_cb(void *arg, const struct lfs_kv_rec *r)
{
	struct lmap *m = arg;
	if (r->kind == LFS_KV_REC_INDEX) {
		if (m->nidx == 64) {   /* the newest 64 are kept */
			memmove(m->idx_lo, m->idx_lo + 1, 63 * sizeof *m->idx_lo);
			memmove(m->idx_hi, m->idx_hi + 1, 63 * sizeof *m->idx_hi);
			m->nidx--;
		}
		m->idx_lo[m->nidx] = r->offset;
		m->idx_hi[m->nidx] = r->offset + 40 + r->vlen;
		m->nidx++;
		return 0;
	}
	if (r->klen > LFS_FS_KEY_MAX)
		return 0;
	if (r->kind == LFS_KV_REC_PUT) {
		struct live *l = lfind(m, r->key, r->klen);
		if (!l) {
			if (m->n == m->cap)
				m->v = realloc(m->v, (m->cap = m->cap ? m->cap * 2 : 256) * sizeof *m->v);
			l = &m->v[m->n++];
			memcpy(l->key, r->key, r->klen);
			l->klen = r->klen;
		}
		l->off = r->offset;
		/* a value inside a compressed block lives or dies with the whole block */
		l->len = r->in_block ? r->block_span : 16 + r->klen + r->vlen;
		l->child = !r->compressed && r->vlen == LFS_FS_DENTRY_VLEN ? lfs_be64_get(r->val) : 0;
	} else if (r->kind == LFS_KV_REC_DEL) {
		struct live *l = lfind(m, r->key, r->klen);
		if (l)
			*l = m->v[--m->n];
	} else if (r->kind == LFS_KV_REC_DELRANGE) {
		for (size_t i = 0; i < m->n;) {
			struct live *l = &m->v[i];
			if (key_cmp(l->key, l->klen, r->key, r->klen) >= 0 &&
			    (!r->has_hi || key_cmp(l->key, l->klen, r->val, r->vlen) < 0))
				*l = m->v[--m->n];
			else
				i++;
		}
	}
	return 0;
}

static int hit(uint64_t off, uint64_t len, const uint64_t *lo, const uint64_t *hi, int nr)
{
	for (int i = 0; i < nr; i++)
		if (off < hi[i] && lo[i] < off + len)
			return 1;
	return 0;
}

static int damage(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	const char *img = argv[2];
	uint64_t seed = strtoull(argv[3], NULL, 0);
	rng_state = seed * 0x2545F4914F6CDD1Dull + 99;
	uint64_t mseed;
	struct mfile *mf;
	size_t nmf;
	if (load_manifest(img, &mseed, &mf, &nmf) < 0)
		die("manifest", -EINVAL);
	/* live records and the keys of every path (from the intact image) */
	struct lfs_kv_opts ko = { .mode = LFS_KV_RDONLY };
	struct lfs_kv *kv;
	struct lfs_err e;
	int rc = lfs_kv_open(img, &ko, &kv, &e);
	if (rc < 0)
		die(img, rc);
	struct lmap lm = { 0 };
	if ((rc = lfs_kv_walk(kv, walk_cb, &lm, &e)) < 0)
		die("walk", rc);
	struct lfs_kv_stats st;
	lfs_kv_stats(kv, &st);
	lfs_kv_close(kv);
	uint64_t fsize = st.file_bytes;
	struct stat sst;
	if (stat(img, &sst) == 0)
		fsize = (uint64_t)sst.st_size;

	/* the damage: ranges of bytes */
	uint64_t lo[16], hi[16];
	uint8_t orig[16];
	int nr = 0;
	int mode = (int)(rnd() % 4);
	char what[256];
	int fd = open(img, O_RDWR);
	if (fd < 0)
		die(img, -errno);
	if (mode <= 1) {   /* bit flips */
		int flips = mode == 0 ? 1 : 1 + (int)(rnd() % 8);
		snprintf(what, sizeof what, "%d bit flip%s at", flips, flips > 1 ? "s" : "");
		for (int i = 0; i < flips; i++) {
			uint64_t off = rnd() % fsize;
			uint8_t b;
			if (pread(fd, &b, 1, (off_t)off) != 1)
				die("pread", -EIO);
			unsigned bit = (unsigned)(rnd() % 8);
			b ^= (uint8_t)(1u << bit);
			if (pwrite(fd, &b, 1, (off_t)off) != 1)
				die("pwrite", -EIO);
			/* a byte flipped back to what it was is not damaged */
			int seen = -1;
			for (int j = 0; j < nr; j++)
				if (lo[j] == off)
					seen = j;
			if (seen < 0) {
				lo[nr] = off;
				hi[nr] = off + 1;
				orig[nr++] = b ^ (uint8_t)(1u << bit);
			} else if (b == orig[seen]) {
				lo[seen] = lo[nr - 1];
				hi[seen] = hi[nr - 1];
				orig[seen] = orig[nr - 1];
				nr--;
			}
			size_t l = strlen(what);
			snprintf(what + l, sizeof what - l, " %llu", (unsigned long long)off);
		}
	} else {           /* zeroed range: only the bytes that were not zero change */
		/* CORRUPT_MAXZERO: the largest range (default 8 KiB) */
		const char *mz = getenv("CORRUPT_MAXZERO");
		uint64_t maxz = mz && strtoull(mz, NULL, 0) ? strtoull(mz, NULL, 0) : 8192;
		uint64_t len = mode == 2 ? 1 + rnd() % 64 : 1 + rnd() % maxz;
		uint64_t off = rnd() % fsize;
		if (off + len > fsize)
			len = fsize - off;
		uint8_t *z = calloc(1, len), *old = malloc(len);
		if (!z || !old || pread(fd, old, len, (off_t)off) != (ssize_t)len)
			die("pread", -EIO);
		if (pwrite(fd, z, len, (off_t)off) != (ssize_t)len)
			die("pwrite", -EIO);
		uint64_t a = 0, b = len;
		while (a < len && !old[a])
			a++;
		while (b > a && !old[b - 1])
			b--;
		free(z);
		free(old);
		if (a < b) {
			lo[nr] = off + a;
			hi[nr++] = off + b;
		}
		snprintf(what, sizeof what, "zeroed %llu bytes at %llu", (unsigned long long)len,
			 (unsigned long long)off);
	}
	/* "salvage": the first 64 bytes of the two newest indexes (those the
	 * header slots name: record header and first entry; salvage starts
	 * from an index whose header alone is damaged) zeroed as well, so the
	 * store does not open and fsck --repair rebuilds it from an older
	 * index (or none) and the whole log after it, damage included */
	int salvage = argc > 5 && !strcmp(argv[5], "salvage");
	for (int i = lm.nidx - 1; salvage && i >= 0 && i >= lm.nidx - 2; i--) {
		uint8_t z[64] = { 0 };
		uint64_t at = lm.idx_lo[i];
		if (pwrite(fd, z, sizeof z, (off_t)at) != (ssize_t)sizeof z)
			die("pwrite", -EIO);
		size_t l = strlen(what);
		snprintf(what + l, sizeof what - l, ", index at %llu zeroed", (unsigned long long)at);
	}
	fsync(fd);
	close(fd);

	/* which live records and which paths it touched */
	int live = 0;
	for (size_t i = 0; i < lm.n; i++)
		live += hit(lm.v[i].off, lm.v[i].len, lo, hi, nr);
	int index_hit = 0, header_hit = hit(0, 4096, lo, hi, nr);
	for (int i = 0; i < lm.nidx; i++)
		index_hit |= hit(lm.idx_lo[i], lm.idx_hi[i] - lm.idx_lo[i], lo, hi, nr);
	FILE *out = fopen(argv[4], "w");
	if (!out)
		die(argv[4], -errno);
	/* paths: resolve on the undamaged copy of the keys — the map holds them */
	int affected = 0;
	for (size_t i = 0; i < nmf; i++) {
		/* own keys: inode + pages + the dentries of the path; found by walking names */
		const char *p = mf[i].path;
		uint64_t cur = LFS_FS_ROOT_INO;
		int bad = 0;
		while (*p) {
			while (*p == '/')
				p++;
			const char *s = strchr(p, '/');
			size_t l = s ? (size_t)(s - p) : strlen(p);
			uint8_t k[LFS_FS_KEY_MAX];
			int kl = lfs_fs_key_dentry(k, cur, p, l);
			struct live *d = kl > 0 ? lfind(&lm, k, (size_t)kl) : NULL;
			if (!d) {
				bad = 1;
				break;
			}
			bad |= hit(d->off, d->len, lo, hi, nr);
			/* the child inode number: the dentry value as the walk of the
			 * undamaged image saw it */
			if (!d->child) {
				bad = 1;
				break;
			}
			cur = d->child;
			p += l;
		}
		if (!bad) {
			uint8_t k[LFS_FS_KEY_MAX];
			struct live *in = lfind(&lm, k, lfs_fs_key_inode(k, cur));
			bad |= !in || hit(in->off, in->len, lo, hi, nr);
			for (size_t j = 0; j < lm.n && !bad; j++) {
				struct live *l = &lm.v[j];
				if (l->klen == LFS_FS_DATA_KLEN && l->key[0] == LFS_FS_K_DATA &&
				    lfs_be64_get(l->key + 1) == cur)
					bad |= hit(l->off, l->len, lo, hi, nr);
			}
		}
		if (bad) {
			fprintf(out, "%s\n", mf[i].path);
			affected++;
		}
	}
	fclose(out);
	printf("%s; live %d affected %d%s%s\n", what, live, affected, index_hit || salvage ? " index" : "",
	       header_hit ? " header" : "");
	free(lm.v);
	free(mf);
	return 0;
}

/* ---------------------------------------------------------------- verify */

static int read_check(struct lfs_proc *p, uint64_t seed, const struct mfile *f, const char *path);

static int listed(char **list, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], path))
			return 1;
	return 0;
}

static int verify(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *img = argv[2];
	uint64_t seed;
	struct mfile *mf;
	size_t nmf;
	if (load_manifest(img, &seed, &mf, &nmf) < 0)
		die("manifest", -EINVAL);
	char **must_except = NULL;
	size_t nexc = 0;
	int have_must = argc > 3;
	int stale_ok = argc > 4 && !strcmp(argv[4], "--stale-ok");
	if (have_must) {
		FILE *f = fopen(argv[3], "r");
		char line[512];
		while (f && fgets(line, sizeof line, f)) {
			line[strcspn(line, "\n")] = 0;
			must_except = realloc(must_except, (nexc + 1) * sizeof *must_except);
			must_except[nexc++] = strdup(line);
		}
		if (f)
			fclose(f);
	}
	struct lfs_mount *m = NULL;
	struct lfs_mount_opts o = { .readonly = 1 };
	struct lfs_err e;
	memset(&e, 0, sizeof e);
	int rc = lfs_mount(img, &o, &m, &e);
	int ok = 0, err = 0, wrong = 0, missing_must = 0;
	struct lfs_proc *p = rc == 0 ? lfs_proc_new(m) : NULL;
	if (rc < 0)
		printf("mount: %s\n", lfs_errmsg(&e, rc));
	int relocated = 0;
	for (size_t i = 0; i < nmf; i++) {
		struct mfile *f = &mf[i];
		int res = read_check(p, seed, f, f->path);
		if (res == 1 && have_must && !listed(must_except, nexc, f->path)) {
			/* an undamaged file fsck could not keep in place: its bytes in lost+found */
			char lf[64];
			snprintf(lf, sizeof lf, "/lost+found/#%llu", f->ino);
			if (read_check(p, seed, f, lf) == 0) {
				relocated++;
				printf("RELOCATED %s -> %s\n", f->path, lf);
				continue;
			}
		}
		if (res == 0)
			ok++;
		else if (res == 1)
			err++;
		else if (stale_ok && listed(must_except, nexc, f->path)) {
			err++;   /* damaged, and fsck said lost records may leave older contents */
			printf("STALE %s\n", f->path);
		} else {
			wrong++;
			printf("WRONG %s\n", f->path);
		}
		if (have_must && res != 0 && !listed(must_except, nexc, f->path)) {
			missing_must++;
			printf("LOST %s (undamaged, %s)\n", f->path, res == 1 ? "unreadable" : "wrong bytes");
		}
	}
	if (p)
		lfs_proc_free(p);
	if (m)
		lfs_umount(m, NULL);
	printf("ok %d err %d wrong %d lost %d relocated %d\n", ok, err, wrong, missing_must, relocated);
	for (size_t i = 0; i < nexc; i++)
		free(must_except[i]);
	free(must_except);
	free(mf);
	return wrong ? 3 : missing_must ? 5 : 0;
}

/* 0 the file reads back exactly, 1 it fails, 2 it reads wrong bytes. */
static int read_check(struct lfs_proc *p, uint64_t seed, const struct mfile *f, const char *path)
{
	int res = 0;
	if (!p) {
		res = 1;
	} else {
		uint8_t *want = malloc(f->size + 1), *got = malloc(f->size + 65536);
		expected(seed, f, want);
		int fd = lfs_open(p, path, O_RDONLY, 0);
		size_t n = 0;
		if (fd < 0) {
			res = 1;
		} else {
			for (;;) {
				ssize_t r = lfs_read(p, fd, got + n, f->size + 65536 - n);
				if (r < 0) {
					res = 1;
					break;
				}
				if (r == 0)
					break;
				n += (size_t)r;
				if (n >= f->size + 65536)
					break;
			}
			lfs_close(p, fd);
			if (res == 0 && (n != f->size || memcmp(got, want, n)))
				res = 2;
		}
		free(want);
		free(got);
	}
	return res;
}

/* ---------------------------------------------------------------- hostman */

static struct lfs_proc *hm_proc;
static FILE *hm_out;
static size_t hm_root_len;
static const char *hm_imgdir;

static int hm_cb(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F || !S_ISREG(sb->st_mode) || strchr(fpath, '\t') || strchr(fpath, '\n'))
		return 0;
	char ipath[1024];
	snprintf(ipath, sizeof ipath, "%s%s", hm_imgdir, fpath + hm_root_len);
	struct lfs_stat st;
	int rc = lfs_stat(hm_proc, ipath, &st);
	if (rc < 0) {
		fprintf(stderr, "corrupt_tool: %s: %s\n", ipath, lfs_strerror(rc));
		return 1;
	}
	fprintf(hm_out, "host %llu %llu %s\t%s\n", (unsigned long long)sb->st_size,
		(unsigned long long)st.ino, ipath, fpath);
	return 0;
}

/* hostman IMG HOSTDIR IMGDIR: the manifest of a tree `lightfs cp -r` copied. */
static int hostman(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	struct lfs_mount *m;
	struct lfs_mount_opts o = { .readonly = 1 };
	int rc = lfs_mount(argv[2], &o, &m, NULL);
	if (rc < 0)
		die(argv[2], rc);
	hm_proc = lfs_proc_new(m);
	hm_out = fopen(manifest_path(argv[2]), "w");
	if (!hm_out)
		die("manifest", -errno);
	fprintf(hm_out, "seed 0\n");
	hm_root_len = strlen(argv[3]);
	hm_imgdir = argv[4];
	rc = nftw(argv[3], hm_cb, 16, FTW_PHYS);
	fclose(hm_out);
	lfs_proc_free(hm_proc);
	lfs_umount(m, NULL);
	return rc ? 2 : 0;
}

static int expect(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	uint64_t seed;
	struct mfile *mf;
	size_t nmf;
	if (load_manifest(argv[2], &seed, &mf, &nmf) < 0)
		die("manifest", -EINVAL);
	for (size_t i = 0; i < nmf; i++) {
		if (strcmp(mf[i].path, argv[3]))
			continue;
		uint8_t *b = malloc(mf[i].size + 1);
		expected(seed, &mf[i], b);
		fwrite(b, 1, mf[i].size, stdout);
		free(b);
		free(mf);
		return 0;
	}
	free(mf);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: corrupt_tool mktree|damage|verify|expect ...\n");
		return 2;
	}
	int rc = 2;
	if (!strcmp(argv[1], "mktree"))
		rc = mktree(argc, argv);
	else if (!strcmp(argv[1], "damage"))
		rc = damage(argc, argv);
	else if (!strcmp(argv[1], "verify"))
		rc = verify(argc, argv);
	else if (!strcmp(argv[1], "expect"))
		rc = expect(argc, argv);
	else if (!strcmp(argv[1], "hostman"))
		rc = hostman(argc, argv);
	if (rc == 2 && argc < 3)
		fprintf(stderr, "corrupt_tool: bad arguments\n");
	return rc;
}
