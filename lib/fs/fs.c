/* lib/fs/fs.c — the LightFS layer over the KV engine (see fs.h). */
#include "fs/fs.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t lfs_fs_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Inode cache: a direct-mapped, write-through copy of inode records.  Every
 * write of an inode record goes through lfs_fs_stage_inode / wb_inode /
 * stage_inode_del, which update it, so it never differs from what the last
 * submitted txn holds (an aborted txn clears it). */
/* An entry holds the record without the 4 KiB target[] buffer (a symlink
 * target longer than IC_TARGET is not cached): 4096 entries in less memory
 * than 256 whole records took, so the inodes a writeback of a cache full of
 * small files needs are still here (a replay of tar xf read 8,000 inode
 * records back from KV, 12% of its CPU, with 256). */
#define IC_SLOTS 4096
#define IC_TARGET 47
#define IC_FIXED offsetof(struct lfs_fs_inode, target)
struct ic_ent { uint64_t ino; int valid; unsigned char in[IC_FIXED + IC_TARGET + 1]; };

static void ic_put(struct lfs_fs *fs, uint64_t ino, const struct lfs_fs_inode *in)
{
	struct ic_ent *ic = fs->ic;
	if (!ic)
		return;
	struct ic_ent *e = &ic[ino % IC_SLOTS];
	size_t tl = in->target_len;
	if (tl > IC_TARGET) {           /* not cacheable: no stale copy may stay */
		if (e->ino == ino)
			e->valid = 0;
		return;
	}
	e->ino = ino;
	e->valid = 1;
	memcpy(e->in, in, IC_FIXED + tl);
	e->in[IC_FIXED + tl] = 0;
}

/* 1 and *in filled if ino is cached */
static int ic_get(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in)
{
	struct ic_ent *ic = fs->ic;
	struct ic_ent *e = ic ? &ic[ino % IC_SLOTS] : NULL;
	if (!e || !e->valid || e->ino != ino)
		return 0;
	memcpy(in, e->in, IC_FIXED);
	memcpy(in->target, e->in + IC_FIXED, (size_t)in->target_len + 1);
	return 1;
}

static void ic_drop(struct lfs_fs *fs, uint64_t ino)
{
	struct ic_ent *ic = fs->ic;
	if (ic && ic[ino % IC_SLOTS].ino == ino)
		ic[ino % IC_SLOTS].valid = 0;
}

static void ic_clear(struct lfs_fs *fs)
{
	struct ic_ent *ic = fs->ic;
	for (int i = 0; ic && i < IC_SLOTS; i++)
		ic[i].valid = 0;
}

/* Dentry cache: a direct-mapped, bounded, write-through map (dir, name) ->
 * (ino, type), or "absent" (negative entry).  Exact like the inode cache:
 * every dentry write goes through stage_dentry / stage_dentry_del, which
 * update it at staging time (the op's txn is committed before the op
 * returns), an aborted or failed batch clears it, and so does lending the
 * KV handle out (lfs_fs_drain: fsck, compact, info may use it directly
 * until the next call into fs).  Lookup misses and hits fill it.  Inode
 * numbers are never reused, so entries under a removed directory stay true
 * (none exist).  Names longer than DC_NAME are not cached. */
#define DC_SLOTS 8192
#define DC_NAME 64
struct dc_ent {
	uint64_t dir, ino;       /* ino 0: negative entry (the name is absent) */
	uint8_t valid, type, nlen;
	char name[DC_NAME];
};

struct dc_stats { uint64_t hits, neg_hits, misses; };

/* FNV-1a over (directory, name), then a 64-bit finaliser */
static uint64_t dn_hash(uint64_t dir, const char *name, size_t nlen)
{
	uint64_t h = 1469598103934665603ull ^ (dir * 0x9e3779b97f4a7c15ull);
	for (size_t i = 0; i < nlen; i++) {
		h ^= (uint8_t)name[i];
		h *= 1099511628211ull;
	}
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 29);
}

static uint32_t dc_hash(uint64_t dir, const char *name, size_t nlen)
{
	return (uint32_t)(dn_hash(dir, name, nlen) % DC_SLOTS);
}

/* Complete directories: a bounded, direct-mapped set of directories made
 * by this mount, and a Bloom filter of every (directory, name) this mount
 * staged a positive dentry for.  Every entry a directory in the set has was
 * staged by this mount, so a name the filter has never seen is absent
 * without asking KV (a copy into a new tree made one negative lookup per
 * created name; each was a KV query, which also served the channel's queue
 * on the caller's thread).  A directory joins the set when lfs_fs_create
 * makes it (empty), leaves it when another takes its slot, and the set and
 * the filter are emptied whenever the dentry cache is cleared (an aborted
 * batch, the KV handle lent out).  Names are never removed from the
 * filter: a removed name costs a KV query, never a wrong answer. */
#define CD_SLOTS 1024
#define CD_BLOOM_BITS (1u << 20)
struct cdirs {
	uint64_t dir[CD_SLOTS];
	uint64_t bloom[CD_BLOOM_BITS / 64];
};


/* The two Bloom filter bits of (dir, name). */
static void cd_bits(uint64_t dir, const char *name, size_t nlen, uint32_t *a, uint32_t *b)
{
	uint64_t h = dn_hash(dir, name, nlen);
	*a = (uint32_t)h % CD_BLOOM_BITS;
	*b = (uint32_t)(h >> 32) % CD_BLOOM_BITS;
}

static void cd_add(struct lfs_fs *fs, uint64_t dir)
{
	struct cdirs *c = fs->cd;
	if (c)
		c->dir[dir % CD_SLOTS] = dir;
}

static void cd_name(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen)
{
	struct cdirs *c = fs->cd;
	if (!c)
		return;
	uint32_t a, b;
	cd_bits(dir, name, nlen, &a, &b);
	c->bloom[a / 64] |= 1ull << (a % 64);
	c->bloom[b / 64] |= 1ull << (b % 64);
}

/* 1: the name is certainly absent from dir. */
static int cd_absent(const struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen)
{
	const struct cdirs *c = fs->cd;
	if (!c || !dir || c->dir[dir % CD_SLOTS] != dir)
		return 0;
	uint32_t a, b;
	cd_bits(dir, name, nlen, &a, &b);
	return !(c->bloom[a / 64] >> (a % 64) & 1) || !(c->bloom[b / 64] >> (b % 64) & 1);
}

static void cd_clear(struct lfs_fs *fs)
{
	if (fs->cd)
		memset(fs->cd, 0, sizeof(struct cdirs));
}

static void dc_set(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
		   uint64_t ino, uint8_t type)
{
	struct dc_ent *dc = fs->dc;
	if (!dc)
		return;
	struct dc_ent *e = &dc[dc_hash(dir, name, nlen)];
	if (nlen > DC_NAME) {
		/* not cacheable: make sure no stale copy of this name survives */
		if (e->valid && e->dir == dir && e->nlen == nlen && !memcmp(e->name, name, nlen))
			e->valid = 0;
		return;
	}
	e->dir = dir;
	e->ino = ino;
	e->type = type;
	e->nlen = (uint8_t)nlen;
	memcpy(e->name, name, nlen);
	e->valid = 1;
}

/* 1: found (d filled, or -ENOENT via *neg), 0: not cached. */
static int dc_get(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
		  struct lfs_fs_dentry *d, int *neg)
{
	struct dc_ent *dc = fs->dc;
	if (!dc || nlen > DC_NAME)
		return 0;
	struct dc_ent *e = &dc[dc_hash(dir, name, nlen)];
	if (!e->valid || e->dir != dir || e->nlen != nlen || memcmp(e->name, name, nlen))
		return 0;
	*neg = e->ino == 0;
	if (!*neg) {
		memset(d, 0, sizeof *d);
		d->ino = e->ino;
		d->type = e->type;
	}
	return 1;
}

static void dc_clear(struct lfs_fs *fs)
{
	struct dc_ent *dc = fs->dc;
	for (int i = 0; dc && i < DC_SLOTS; i++)
		dc[i].valid = 0;
	cd_clear(fs);
}

/* The KV handle was lent out (lfs_fs_drain): forget every cached record. */
static void caches_check(struct lfs_fs *fs)
{
	if (fs->lent) {
		fs->lent = 0;
		ic_clear(fs);
		dc_clear(fs);
	}
}

/* The open txn of the current operation (mkfs stages into a plain batch). */
static struct lfs_txn *T(struct lfs_fs *fs)
{
	if (!fs->t && fs->tm)
		fs->t = lfs_txn_begin(fs->tm);
	return fs->t;
}

static int put(struct lfs_fs *fs, const void *k, size_t kl, const void *v, size_t vl)
{
	if (!fs->tm) {
		if (!fs->b && !(fs->b = lfs_kv_batch_new()))
			return -ENOMEM;
		return lfs_kv_batch_put(fs->b, k, kl, v, vl);
	}
	if (!T(fs))
		return -ENOMEM;
	return lfs_txn_put(fs->t, k, kl, v, vl);
}

static int del(struct lfs_fs *fs, const void *k, size_t kl)
{
	if (!T(fs))
		return -ENOMEM;
	return lfs_txn_del(fs->t, k, kl);
}

int lfs_fs_commit(struct lfs_fs *fs, int sync)
{
	if (fs->t) {
		struct lfs_txn *t = fs->t;
		fs->t = NULL;
		return lfs_txn_commit(t, sync ? LFS_TXN_SYNC : 0, NULL, NULL);
	}
	return sync && fs->tm ? lfs_txn_sync(fs->tm, NULL) : 0;
}

static int kget(struct lfs_fs *fs, const void *k, size_t kl, void *buf, size_t cap, size_t *vl)
{
	if (!fs->tm)
		return lfs_kv_get_into(fs->kv, k, kl, buf, cap, vl, NULL);
	return lfs_txn_get(fs->tm, k, kl, buf, cap, vl, NULL);
}

static int iget_kv(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in);

static int stage_super(struct lfs_fs *fs)
{
	uint8_t k[4], v[LFS_FS_SUPER_VLEN];
	size_t kl = lfs_fs_key_super(k), vl = lfs_fs_super_encode(&fs->sb, v);
	return put(fs, k, kl, v, vl);
}

int lfs_fs_stage_inode(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in)
{
	uint8_t k[LFS_FS_INODE_KLEN];
	uint8_t v[LFS_FS_INODE_VMAX];
	in->generation++;
	size_t vl = lfs_fs_inode_encode(in, v);
	int rc = put(fs, k, lfs_fs_key_inode(k, ino), v, vl);
	if (rc == 0)
		ic_put(fs, ino, in);
	else
		ic_drop(fs, ino);
	return rc;
}

int lfs_fs_stage_page(struct lfs_fs *fs, uint64_t ino, uint64_t idx, const void *buf, size_t len)
{
	uint8_t k[LFS_FS_DATA_KLEN];
	return put(fs, k, lfs_fs_key_data(k, ino, idx), buf, len);
}

static int stage_dentry(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
			uint64_t ino, uint8_t type)
{
	uint8_t k[LFS_FS_KEY_MAX], v[LFS_FS_DENTRY_VLEN];
	int kl = lfs_fs_key_dentry(k, dir, name, nlen);
	if (kl < 0)
		return kl;
	struct lfs_fs_dentry d = { .ino = ino, .type = type };
	lfs_fs_dentry_encode(&d, v);
	fs->ns_gen++;
	cd_name(fs, dir, name, nlen);     /* before the put: never absent while staged */
	int rc = put(fs, k, (size_t)kl, v, sizeof v);
	if (rc == 0)
		dc_set(fs, dir, name, nlen, ino, type);
	else
		dc_clear(fs);
	return rc;
}

static int stage_dentry_del(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen)
{
	uint8_t k[LFS_FS_KEY_MAX];
	int kl = lfs_fs_key_dentry(k, dir, name, nlen);
	if (kl < 0)
		return kl;
	fs->ns_gen++;
	int rc = del(fs, k, (size_t)kl);
	if (rc == 0)
		dc_set(fs, dir, name, nlen, 0, 0);
	else
		dc_clear(fs);
	return rc;
}

static int stage_data_drop(struct lfs_fs *fs, uint64_t ino, uint64_t from)
{
	uint8_t lo[LFS_FS_DATA_KLEN], hi[LFS_FS_DATA_KLEN];
	lfs_fs_key_data(lo, ino, from);
	lfs_fs_key_data_prefix(hi, ino + 1);
	if (!T(fs))
		return -ENOMEM;
	return lfs_txn_del_range(fs->t, lo, sizeof lo, hi, 9);
}

static int stage_inode_del(struct lfs_fs *fs, uint64_t ino)
{
	uint8_t k[LFS_FS_INODE_KLEN];
	int rc = stage_data_drop(fs, ino, 0);
	if (rc < 0)
		return rc;
	ic_drop(fs, ino);
	return del(fs, k, lfs_fs_key_inode(k, ino));
}

int lfs_fs_mkfs(struct lfs_kv *kv, uint32_t page_size, int compress, int level,
		const char *label, struct lfs_err *err)
{
	struct lfs_fs fs = { .kv = kv };
	if (page_size == 0)
		page_size = 4096;
	if (page_size < LFS_FS_PAGE_MIN || page_size > LFS_FS_PAGE_MAX || (page_size & (page_size - 1)))
		return lfs_seterr(err, -EINVAL, "page size %u: must be a power of two in 512..65536",
				  page_size);
	if (label && strlen(label) > LFS_FS_LABEL_MAX)
		return lfs_seterr(err, -EINVAL, "label longer than %u bytes", LFS_FS_LABEL_MAX);
	uint64_t now = lfs_fs_now();
	fs.sb = (struct lfs_fs_super){ .version = LFS_FS_VERSION, .page_size = page_size,
		.compress = (uint32_t)compress, .level = level, .next_ino = LFS_FS_ROOT_INO + 1,
		.root_ino = LFS_FS_ROOT_INO, .ctime_ns = now };
	if (label)
		strcpy(fs.sb.label, label);
	struct lfs_fs_inode root = { .mode = S_IFDIR | 0755, .nlink = 2,
		.uid = (uint32_t)getuid(), .gid = (uint32_t)getgid(),
		.atime_ns = now, .mtime_ns = now, .ctime_ns = now, .btime_ns = now };
	int rc = stage_super(&fs);
	if (rc == 0)
		rc = lfs_fs_stage_inode(&fs, LFS_FS_ROOT_INO, &root);
	if (rc == 0)
		rc = lfs_kv_commit(kv, fs.b, 1, err);
	lfs_kv_batch_free(fs.b);
	return rc;
}

int lfs_fs_mount(struct lfs_kv *kv, int ro, struct lfs_fs **out, struct lfs_err *err)
{
	return lfs_fs_mount_opts(kv, ro, NULL, out, err);
}

int lfs_fs_mount_opts(struct lfs_kv *kv, int ro, const struct lfs_fs_opts *o,
		      struct lfs_fs **out, struct lfs_err *err)
{
	uint8_t k[4], v[LFS_FS_SUPER_VLEN + 16];
	size_t vl = 0;
	*out = NULL;
	int rc = lfs_kv_get_into(kv, k, lfs_fs_key_super(k), v, sizeof v, &vl, err);
	if (rc == -ENOENT)
		return lfs_seterr(err, LFS_E_BADMAGIC, "no lightfs superblock (not formatted?)");
	if (rc < 0)
		return rc;
	struct lfs_fs *fs = calloc(1, sizeof *fs);
	if (!fs)
		return -ENOMEM;
	rc = lfs_fs_super_decode(v, vl > sizeof v ? sizeof v + 1 : vl, &fs->sb);
	if (rc < 0) {
		free(fs);
		if (rc == LFS_E_VERSION)
			return lfs_seterr(err, rc, "superblock: unsupported format version");
		return lfs_seterr(err, rc, "superblock: %s", lfs_strerror(rc));
	}
	fs->kv = kv;
	fs->psz = fs->sb.page_size;
	fs->ro = ro;
	struct lfs_io_opts io = { 0 };
	struct lfs_txn_opts to = { 0 };
	if (o) {
		io.queue_depth = o->queue_depth;
		io.sched = o->sched;
		io.hook = o->hook;
		io.hook_arg = o->hook_arg;
		to.max_pages = o->txn_max_pages;
		to.hook = o->hook;
		to.hook_arg = o->hook_arg;
		if (o->deterministic) {
			to.max_inflight = 8;
			io.done_lag = 8;         /* = max_inflight: never behind it */
		}
	}
	fs->uid = (uint32_t)getuid();
	fs->gid = (uint32_t)getgid();
	fs->ic = calloc(IC_SLOTS, sizeof(struct ic_ent));
	fs->dc = calloc(DC_SLOTS, sizeof(struct dc_ent));
	fs->cd = calloc(1, sizeof(struct cdirs));
	if (!fs->ic || !fs->dc || !fs->cd) {
		free(fs->ic);
		free(fs->dc);
		free(fs->cd);
		free(fs);
		return -ENOMEM;
	}
	rc = lfs_io_start(kv, &io, &fs->io, err);
	if (rc == 0 && (rc = lfs_txn_mgr_new(fs->io, &to, &fs->tm)) < 0)
		lfs_seterr(err, rc, "txn: %s", lfs_strerror(rc));
	if (rc < 0) {
		lfs_io_stop(fs->io);
		free(fs->ic);
		free(fs->dc);
		free(fs->cd);
		free(fs);
		return rc;
	}
	*out = fs;
	return 0;
}

void lfs_fs_free(struct lfs_fs *fs)
{
	if (!fs)
		return;
	if (fs->t)
		lfs_txn_abort(fs->t);
	lfs_io_stop(fs->io);
	lfs_txn_mgr_free(fs->tm);
	lfs_kv_batch_free(fs->b);
	free(fs->ic);
	free(fs->dc);
	free(fs->cd);
	free(fs);
}

void lfs_fs_drain(struct lfs_fs *fs)
{
	lfs_io_drain(fs->io);
	fs->lent = 1;      /* the caller may now write KV directly: caches refill */
}

void lfs_fs_dcache_stats(struct lfs_fs *fs, uint64_t *hits, uint64_t *neg_hits, uint64_t *misses)
{
	if (hits) *hits = fs->dc_hits;
	if (neg_hits) *neg_hits = fs->dc_neg_hits;
	if (misses) *misses = fs->dc_misses;
}

void lfs_fs_layer_stats(struct lfs_fs *fs, struct lfs_txn_stats *t, struct lfs_io_stats *io,
			struct lfs_kv_stats *kv)
{
	if (t)
		lfs_txn_stats(fs->tm, t);
	if (io)
		lfs_io_stats(fs->io, io);
	if (kv)
		lfs_io_kv_stats(fs->io, kv);
}

uint32_t lfs_fs_wb_max_pages(struct lfs_fs *fs) { return lfs_txn_max_pages(fs->tm); }

struct lfs_txn_mgr *lfs_fs_txn(struct lfs_fs *fs) { return fs->tm; }

void lfs_fs_set_hook(struct lfs_fs *fs, void (*hook)(void *, const struct lfs_event *), void *arg)
{
	lfs_txn_set_hook(fs->tm, hook, arg);
	lfs_io_set_hook(fs->io, hook, arg);
}

struct lfs_txn *lfs_fs_wb_begin(struct lfs_fs *fs) { return lfs_txn_begin(fs->tm); }

int lfs_fs_wb_page(struct lfs_fs *fs, struct lfs_txn *t, uint64_t ino, uint64_t idx,
		   const void *buf, size_t len, const uint32_t *crc)
{
	uint8_t k[LFS_FS_DATA_KLEN];
	size_t kl = lfs_fs_key_data(k, ino, idx);
	if (crc)
		return lfs_txn_put_page_crc(t, ino, idx, k, kl, buf, len, *crc);
	return lfs_txn_put_page(t, ino, idx, k, kl, buf, len);
}

int lfs_fs_wb_inode(struct lfs_fs *fs, struct lfs_txn *t, uint64_t ino, struct lfs_fs_inode *in)
{
	uint8_t k[LFS_FS_INODE_KLEN];
	uint8_t v[LFS_FS_INODE_VMAX];
	in->generation++;
	size_t vl = lfs_fs_inode_encode(in, v);
	int rc = lfs_txn_put(t, k, lfs_fs_key_inode(k, ino), v, vl);
	if (rc == 0)
		ic_put(fs, ino, in);
	else
		ic_drop(fs, ino);
	return rc;
}

int lfs_fs_wb_commit(struct lfs_fs *fs, struct lfs_txn *t, int sync, uint64_t *seq)
{
	return lfs_txn_commit(t, LFS_TXN_ASYNC | (sync ? LFS_TXN_SYNC : 0), seq, NULL);
}

int lfs_fs_wb_wait(struct lfs_fs *fs, uint64_t seq, int for_fsync)
{
	return lfs_txn_wait(fs->tm, seq, for_fsync);
}

uint64_t lfs_fs_wb_done(struct lfs_fs *fs) { return lfs_txn_done(fs->tm); }
uint64_t lfs_fs_wb_last(struct lfs_fs *fs) { return lfs_txn_last(fs->tm); }

int lfs_fs_read_pages(struct lfs_fs *fs, uint64_t ino, const uint64_t *idx, size_t n,
		      void *const *bufs, int *present)
{
	uint8_t (*keys)[LFS_FS_DATA_KLEN] = malloc(n * sizeof *keys);
	const void **kp = calloc(n + 1, sizeof *kp);
	size_t *kl = calloc(n + 1, sizeof *kl);
	ssize_t *vl = malloc(n * sizeof *vl);
	int rc = 0;
	if (!keys || !kp || !kl || !vl) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		kl[i] = lfs_fs_key_data(keys[i], ino, idx[i]);
		kp[i] = keys[i];
	}
	rc = lfs_txn_mget(fs->tm, n, kp, kl, bufs, fs->psz, vl, NULL);
	for (size_t i = 0; i < n && rc >= 0; i++) {
		if (vl[i] == -ENOENT) {
			memset(bufs[i], 0, fs->psz);
			present[i] = 0;
		} else if (vl[i] < 0) {
			rc = (int)vl[i];
		} else if ((size_t)vl[i] > fs->psz) {
			rc = LFS_E_CORRUPT;
		} else {
			if ((size_t)vl[i] < fs->psz)
				memset((char *)bufs[i] + vl[i], 0, fs->psz - (size_t)vl[i]);
			present[i] = 1;
		}
	}
out:
	free(keys); free(kp); free(kl); free(vl);
	return rc;
}

int lfs_fs_iget(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in)
{
	caches_check(fs);
	if (ic_get(fs, ino, in))
		return 0;
	int rc = iget_kv(fs, ino, in);
	if (rc == 0)
		ic_put(fs, ino, in);
	return rc;
}

static int iget_kv(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in)
{
	uint8_t k[LFS_FS_INODE_KLEN];
	uint8_t v[LFS_FS_INODE_VMAX];
	size_t vl = 0;
	int rc = kget(fs, k, lfs_fs_key_inode(k, ino), v, sizeof v, &vl);
	if (rc < 0)
		return rc == -ENOENT ? -ENOENT : rc;
	if (vl > sizeof v)
		return LFS_E_CORRUPT;
	return lfs_fs_inode_decode(v, vl, in);
}

int lfs_fs_lookup(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
		  struct lfs_fs_dentry *d)
{
	uint8_t k[LFS_FS_KEY_MAX], v[LFS_FS_DENTRY_VLEN];
	size_t vl = 0;
	int kl = lfs_fs_key_dentry(k, dir, name, nlen);
	if (kl < 0)
		return kl;
	caches_check(fs);
	int neg = 0;
	if (dc_get(fs, dir, name, nlen, d, &neg)) {
		if (neg)
			fs->dc_neg_hits++;
		else
			fs->dc_hits++;
		return neg ? -ENOENT : 0;
	}
	if (cd_absent(fs, dir, name, nlen)) {
		fs->dc_neg_hits++;     /* a complete directory: not cached is absent */
		return -ENOENT;
	}
	fs->dc_misses++;
	int rc = kget(fs, k, (size_t)kl, v, sizeof v, &vl);
	if (rc == -ENOENT)
		dc_set(fs, dir, name, nlen, 0, 0);
	if (rc < 0)
		return rc;
	rc = lfs_fs_dentry_decode(v, vl, d);
	if (rc == 0 && d->ino != 0)
		dc_set(fs, dir, name, nlen, d->ino, d->type);
	return rc;
}

static void abort_batch(struct lfs_fs *fs)
{
	if (fs->t) {
		lfs_txn_abort(fs->t);
		fs->t = NULL;
	}
	ic_clear(fs);
	dc_clear(fs);
}

/* A fresh inode record: MODE, NLINK links, the caller's ids (as at mount),
 * all times now. */
static void inode_init(const struct lfs_fs *fs, struct lfs_fs_inode *in, uint32_t mode,
		       uint32_t nlink, uint64_t now)
{
	memset(in, 0, offsetof(struct lfs_fs_inode, target) + 1);
	in->mode = mode;
	in->nlink = nlink;
	in->uid = fs->uid;
	in->gid = fs->gid;
	in->atime_ns = in->mtime_ns = in->ctime_ns = in->btime_ns = now;
}

int lfs_fs_create(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
		  uint32_t mode, const char *target, uint64_t *ino_out)
{
	struct lfs_fs_dentry d;
	struct lfs_fs_inode din, in;
	if (fs->ro)
		return LFS_E_READONLY;
	int rc = lfs_fs_iget(fs, dir, &din);
	if (rc < 0)
		return rc;
	if (!S_ISDIR(din.mode))
		return -ENOTDIR;
	rc = lfs_fs_lookup(fs, dir, name, nlen, &d);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	uint64_t now = lfs_fs_now();
	inode_init(fs, &in, mode, S_ISDIR(mode) ? 2 : 1, now);
	if (target) {
		size_t tl = strlen(target);
		if (tl > LFS_FS_SYMLINK_MAX)
			return -ENAMETOOLONG;
		memcpy(in.target, target, tl + 1);
		in.target_len = (uint16_t)tl;
		in.size = tl;
	}
	uint64_t ino = fs->sb.next_ino++;
	rc = stage_super(fs);
	if (rc == 0)
		rc = lfs_fs_stage_inode(fs, ino, &in);
	if (rc == 0)
		rc = stage_dentry(fs, dir, name, nlen, ino, lfs_fs_mode_dt(mode));
	if (rc == 0) {
		if (S_ISDIR(mode))
			din.nlink++;
		din.mtime_ns = din.ctime_ns = now;
		rc = lfs_fs_stage_inode(fs, dir, &din);
	}
	if (rc == 0)
		rc = lfs_fs_commit(fs, 0);
	if (rc < 0) {
		abort_batch(fs);
		fs->sb.next_ino--;
		return rc;
	}
	if (S_ISDIR(mode))
		cd_add(fs, ino);       /* empty: every name it gets is staged here */
	if (ino_out)
		*ino_out = ino;
	return 0;
}

int lfs_fs_link(struct lfs_fs *fs, uint64_t ino, uint64_t dir, const char *name, size_t nlen)
{
	struct lfs_fs_dentry d;
	struct lfs_fs_inode din, in;
	if (fs->ro)
		return LFS_E_READONLY;
	int rc = lfs_fs_iget(fs, dir, &din);
	if (rc < 0)
		return rc;
	if (!S_ISDIR(din.mode))
		return -ENOTDIR;
	rc = lfs_fs_lookup(fs, dir, name, nlen, &d);
	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	if ((rc = lfs_fs_iget(fs, ino, &in)) < 0)
		return rc;
	if (S_ISDIR(in.mode))
		return -EPERM;
	uint64_t now = lfs_fs_now();
	in.nlink++;
	in.ctime_ns = now;
	din.mtime_ns = din.ctime_ns = now;
	rc = lfs_fs_stage_inode(fs, ino, &in);
	if (rc == 0)
		rc = stage_dentry(fs, dir, name, nlen, ino, lfs_fs_mode_dt(in.mode));
	if (rc == 0)
		rc = lfs_fs_stage_inode(fs, dir, &din);
	if (rc == 0)
		rc = lfs_fs_commit(fs, 0);
	if (rc < 0)
		abort_batch(fs);
	return rc;
}

static int first_entry_cb(void *arg, uint64_t ino, uint8_t type, const char *name, size_t nlen)
{
	(void)arg; (void)ino; (void)type; (void)name; (void)nlen;
	return 1;
}

int lfs_fs_dir_empty(struct lfs_fs *fs, uint64_t dir)
{
	int rc = lfs_fs_readdir(fs, dir, first_entry_cb, NULL);
	return rc < 0 ? rc : rc == 0;
}

/* Stage the removal of one link of inode `ino` (in); frees it if last. */
static int stage_drop_link(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in,
			   int keep_open, uint64_t now)
{
	if (S_ISDIR(in->mode))
		in->nlink = 0;
	else if (in->nlink > 0)
		in->nlink--;
	in->ctime_ns = now;
	if (in->nlink == 0 && !keep_open)
		return stage_inode_del(fs, ino);
	return lfs_fs_stage_inode(fs, ino, in);
}


int lfs_fs_create_unnamed(struct lfs_fs *fs, uint32_t mode, uint64_t *ino_out)
{
	struct lfs_fs_inode in;
	if (fs->ro)
		return LFS_E_READONLY;
	if (!S_ISREG(mode))
		return -EINVAL;
	inode_init(fs, &in, mode, 0, lfs_fs_now());
	uint64_t ino = fs->sb.next_ino++;
	int rc = stage_super(fs);
	if (rc == 0)
		rc = lfs_fs_stage_inode(fs, ino, &in);
	if (rc == 0)
		rc = lfs_fs_commit(fs, 0);
	if (rc < 0) {
		abort_batch(fs);
		fs->sb.next_ino--;
		return rc;
	}
	*ino_out = ino;
	return 0;
}

int lfs_fs_unlink(struct lfs_fs *fs, uint64_t dir, const char *name, size_t nlen,
		  int want_dir, int keep_open, uint64_t *ino_out)
{
	struct lfs_fs_dentry d;
	struct lfs_fs_inode din, in;
	if (fs->ro)
		return LFS_E_READONLY;
	int rc = lfs_fs_lookup(fs, dir, name, nlen, &d);
	if (rc < 0)
		return rc;
	if ((rc = lfs_fs_iget(fs, d.ino, &in)) < 0)
		return rc;
	if ((rc = lfs_fs_iget(fs, dir, &din)) < 0)
		return rc;
	if (want_dir && !S_ISDIR(in.mode))
		return -ENOTDIR;
	if (!want_dir && S_ISDIR(in.mode))
		return -EISDIR;
	if (want_dir) {
		rc = lfs_fs_dir_empty(fs, d.ino);
		if (rc < 0)
			return rc;
		if (!rc)
			return -ENOTEMPTY;
		din.nlink--;
	}
	uint64_t now = lfs_fs_now();
	din.mtime_ns = din.ctime_ns = now;
	rc = stage_dentry_del(fs, dir, name, nlen);
	if (rc == 0)
		rc = stage_drop_link(fs, d.ino, &in, keep_open, now);
	if (rc == 0)
		rc = lfs_fs_stage_inode(fs, dir, &din);
	if (rc == 0)
		rc = lfs_fs_commit(fs, 0);
	if (rc < 0) {
		abort_batch(fs);
		return rc;
	}
	if (ino_out)
		*ino_out = d.ino;
	return 0;
}

int lfs_fs_release(struct lfs_fs *fs, uint64_t ino)
{
	struct lfs_fs_inode in;
	int rc = lfs_fs_iget(fs, ino, &in);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	if (in.nlink != 0)
		return 0;
	rc = stage_inode_del(fs, ino);
	if (rc == 0)
		rc = lfs_fs_commit(fs, 0);
	if (rc < 0)
		abort_batch(fs);
	return rc;
}

/* Is `anc` an ancestor of (or equal to) dir?  Walks ".." via a scan is not
 * possible (no parent pointers), so the vfs checks this with the paths. */

int lfs_fs_rename(struct lfs_fs *fs, uint64_t sdir, const char *sname, size_t slen,
		  uint64_t ddir, const char *dname, size_t dlen, unsigned flags,
		  uint64_t *replaced_ino)
{
	struct lfs_fs_dentry sd, dd;
	struct lfs_fs_inode sin, din_, sdi, ddi;
	if (fs->ro)
		return LFS_E_READONLY;
	if (replaced_ino)
		*replaced_ino = 0;
	int rc = lfs_fs_lookup(fs, sdir, sname, slen, &sd);
	if (rc < 0)
		return rc;
	if ((rc = lfs_fs_iget(fs, sd.ino, &sin)) < 0)
		return rc;
	int have_d = lfs_fs_lookup(fs, ddir, dname, dlen, &dd);
	if (have_d < 0 && have_d != -ENOENT)
		return have_d;
	have_d = have_d == 0;
	if ((flags & 2) && !have_d)
		return -ENOENT;
	if ((flags & 1) && have_d)
		return -EEXIST;
	if (have_d && dd.ino == sd.ino)
		return 0;
	uint64_t now = lfs_fs_now();
	if ((rc = lfs_fs_iget(fs, sdir, &sdi)) < 0)
		return rc;
	if ((rc = lfs_fs_iget(fs, ddir, &ddi)) < 0)
		return rc;
	if (!S_ISDIR(ddi.mode))
		return -ENOTDIR;
	int same = sdir == ddir;
	if (have_d && (rc = lfs_fs_iget(fs, dd.ino, &din_)) < 0)
		return rc;
	if (flags & 2) {   /* exchange */
		int sdir_is = S_ISDIR(sin.mode), ddir_is = S_ISDIR(din_.mode);
		rc = stage_dentry(fs, ddir, dname, dlen, sd.ino, sd.type);
		if (rc == 0)
			rc = stage_dentry(fs, sdir, sname, slen, dd.ino, dd.type);
		if (!same && sdir_is != ddir_is) {
			if (sdir_is) { ddi.nlink++; sdi.nlink--; }
			else { sdi.nlink++; ddi.nlink--; }
		}
		sin.ctime_ns = din_.ctime_ns = now;
		if (rc == 0) rc = lfs_fs_stage_inode(fs, sd.ino, &sin);
		if (rc == 0) rc = lfs_fs_stage_inode(fs, dd.ino, &din_);
	} else {
		if (have_d) {
			if (S_ISDIR(sin.mode) && !S_ISDIR(din_.mode))
				return -ENOTDIR;
			if (!S_ISDIR(sin.mode) && S_ISDIR(din_.mode))
				return -EISDIR;
			if (S_ISDIR(din_.mode)) {
				rc = lfs_fs_dir_empty(fs, dd.ino);
				if (rc < 0)
					return rc;
				if (!rc)
					return -ENOTEMPTY;
				ddi.nlink--;
			}
		}
		rc = stage_dentry_del(fs, sdir, sname, slen);
		if (rc == 0)
			rc = stage_dentry(fs, ddir, dname, dlen, sd.ino, sd.type);
		if (rc == 0 && have_d) {
			rc = stage_drop_link(fs, dd.ino, &din_, replaced_ino != NULL, now);
			if (replaced_ino)
				*replaced_ino = dd.ino;
		}
		if (S_ISDIR(sin.mode) && !same) {
			sdi.nlink--;
			ddi.nlink++;
		}
		sin.ctime_ns = now;
		if (rc == 0) rc = lfs_fs_stage_inode(fs, sd.ino, &sin);
	}
	sdi.mtime_ns = sdi.ctime_ns = now;
	ddi.mtime_ns = ddi.ctime_ns = now;
	if (same) {
		ddi.nlink = sdi.nlink + (ddi.nlink - sdi.nlink); /* same record */
		if (rc == 0) rc = lfs_fs_stage_inode(fs, ddir, &ddi);
	} else {
		if (rc == 0) rc = lfs_fs_stage_inode(fs, sdir, &sdi);
		if (rc == 0) rc = lfs_fs_stage_inode(fs, ddir, &ddi);
	}
	if (rc == 0)
		rc = lfs_fs_commit(fs, 0);
	if (rc < 0)
		abort_batch(fs);
	return rc;
}

int lfs_fs_read_page(struct lfs_fs *fs, uint64_t ino, uint64_t idx, void *buf)
{
	uint8_t k[LFS_FS_DATA_KLEN];
	size_t vl = 0;
	int rc = kget(fs, k, lfs_fs_key_data(k, ino, idx), buf, fs->psz, &vl);
	if (rc == -ENOENT) {
		memset(buf, 0, fs->psz);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (vl > fs->psz)
		return LFS_E_CORRUPT;
	if (vl < fs->psz)
		memset((char *)buf + vl, 0, fs->psz - vl);
	return 1;
}

int lfs_fs_truncate(struct lfs_fs *fs, uint64_t ino, struct lfs_fs_inode *in, uint64_t size)
{
	uint64_t psz = fs->psz;
	int rc = 0;
	if (size < in->size) {
		uint64_t keep = (size + psz - 1) / psz;
		rc = stage_data_drop(fs, ino, keep);
		if (rc == 0 && size % psz) {
			uint8_t *pg = malloc(psz);
			if (!pg)
				return -ENOMEM;
			/* the batch may hold a staged copy: commit first so get sees it */
			rc = lfs_fs_commit(fs, 0);
			if (rc == 0)
				rc = lfs_fs_read_page(fs, ino, size / psz, pg);
			if (rc == 1)
				rc = lfs_fs_stage_page(fs, ino, size / psz, pg, size % psz);
			free(pg);
		}
	}
	if (rc < 0)
		return rc;
	in->size = size;
	in->mtime_ns = in->ctime_ns = lfs_fs_now();
	return 0;
}

static int first_key_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	int64_t *r = arg;
	if (kl == LFS_FS_DATA_KLEN)
		*r = (int64_t)lfs_be64_get((const uint8_t *)k + 9);
	return 1;
}

int64_t lfs_fs_next_data(struct lfs_fs *fs, uint64_t ino, uint64_t idx)
{
	uint8_t lo[LFS_FS_DATA_KLEN], hi[9];
	lfs_fs_key_data(lo, ino, idx);
	lfs_fs_key_data_prefix(hi, ino + 1);
	int64_t r = -ENXIO;
	int rc = lfs_txn_scan_keys(fs->tm, lo, sizeof lo, hi, sizeof hi, first_key_cb, &r, NULL);
	return rc < 0 ? rc : r;
}

static int count_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	(*(uint64_t *)arg)++;
	return 0;
}

uint64_t lfs_fs_count_pages(struct lfs_fs *fs, uint64_t ino)
{
	uint8_t lo[9], hi[9];
	uint64_t n = 0;
	lfs_fs_key_data_prefix(lo, ino);
	lfs_fs_key_data_prefix(hi, ino + 1);
	lfs_txn_scan_keys(fs->tm, lo, sizeof lo, hi, sizeof hi, count_cb, &n, NULL);
	return n;
}

struct rd_arg {
	int (*cb)(void *arg, uint64_t ino, uint8_t type, const char *name, size_t nlen);
	void *arg;
	struct lfs_fs *fs;
	uint64_t gen;              /* fs->ns_gen when the scan began */
};

static int rd_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	struct rd_arg *a = arg;
	struct lfs_fs_key key;
	struct lfs_fs_dentry d;
	if (lfs_fs_key_decode(k, kl, &key) != LFS_FS_K_DENTRY || lfs_fs_dentry_decode(v, vl, &d) < 0)
		return LFS_E_CORRUPT;
	/* the entries read fill the dentry cache (a copy out looks each one
	 * up next), as long as no dentry was written since the scan began
	 * (a callback changing the directory: what is read later may be
	 * older than what it wrote) */
	if (a->fs && a->fs->ns_gen == a->gen && d.ino && key.nlen && key.nlen <= DC_NAME &&
	    !memchr(key.name, '/', key.nlen) && !memchr(key.name, 0, key.nlen) &&
	    !(key.name[0] == '.' && (key.nlen == 1 || (key.nlen == 2 && key.name[1] == '.'))))
		dc_set(a->fs, key.ino, key.name, key.nlen, d.ino, d.type);
	return a->cb(a->arg, d.ino, d.type, key.name, key.nlen);
}

int lfs_fs_readdir(struct lfs_fs *fs, uint64_t dir,
		   int (*cb)(void *arg, uint64_t ino, uint8_t type, const char *name, size_t nlen),
		   void *arg)
{
	uint8_t lo[9], hi[9];
	caches_check(fs);
	struct rd_arg a = { cb, arg, fs, fs->ns_gen };
	lfs_fs_key_dentry_prefix(lo, dir);
	lfs_fs_key_dentry_prefix(hi, dir + 1);
	return lfs_txn_scan(fs->tm, lo, sizeof lo, hi, sizeof hi, rd_cb, &a, NULL);
}
