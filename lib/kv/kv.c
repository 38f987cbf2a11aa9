/*
 * lib/kv/kv.c — the KV engine: a red-black-tree memtable over a persisted
 * sorted index, values in an append-only checksummed log (WiscKey style:
 * the index holds keys and value locations, values stay where they were
 * logged).  Layout: FORMAT.md.
 *
 * State of an open image:
 *   base      the sorted index of the last checkpoint (one buffer, read at
 *             open: its size depends on the number of live keys, never on
 *             history);
 *   memtable  red-black tree of every key changed since (value location or
 *             tombstone), nodes in an arena freed at the next checkpoint;
 *   log       records appended since the checkpoint; replayed at open.
 * A checkpoint merges memtable + base into a new INDEX record at the end of
 * the log, syncs, then flips the header slot (gen + 1) to point at it: a
 * crash anywhere leaves the previous slot valid, whose replay region still
 * holds every record.  Compaction writes live values into a new file and
 * renames it over the image (the new file is locked before the rename).
 *
 * Why a torn tail is told apart from corruption: every record carries the
 * offset known durable (synced) when it was written.  A bad record at X
 * followed by any valid record claiming synced > X was durable once, so it
 * is corruption; otherwise it is an unsynced tail and is cut off.
 */
#include "kv/kv.h"
#include "kv/kv_int.h"
#include "kv/kv_priv.h"
#include "kv/memval.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "common/crc32c.h"
#include "common/grow.h"

#define WBUF_CAP        (1u << 20)
#define DEF_MEMTABLE    (16u << 20)
#define AUTO_COMPACT_MIN (8u << 20)
#define WB_START        (8u << 20)   /* unsynced log bytes before writeback is started */
#define ARENA_CHUNK     (1u << 20)
#define DEF_BLOCK_BYTES (4u << 20)   /* raw bytes per compressed block */

/* ------------------------------------------------------------ file ops */
static ssize_t real_pread(void *ctx, int fd, void *buf, size_t n, off_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, off + (off_t)done);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}
static ssize_t real_pwrite(void *ctx, int fd, const void *buf, size_t n, off_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = pwrite(fd, (const char *)buf + done, n - done, off + (off_t)done);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)r;
	}
	return (ssize_t)done;
}
static int real_fsync(void *ctx, int fd)
{
	return fdatasync(fd) ? -errno : 0;
}
static int real_ftruncate(void *ctx, int fd, off_t len)
{
	return ftruncate(fd, len) ? -errno : 0;
}
static const struct lfs_kv_file_ops real_fops = {
	real_pread, real_pwrite, real_fsync, real_ftruncate, NULL,
};

/* ------------------------------------------------------------ helpers */
/* memcmp order, then length; inline 8 bytes at a time as big-endian words.
 * Keys are short and share long prefixes: a data key is 'D' + ino64 +
 * index64, whose first word ('D' and the inode number's high 7 bytes) is
 * the same for every inode below 256, so the later words decide — a libc
 * memcmp call for them per tree level was most of a memtable lookup. */
static inline int keycmp(const void *a, size_t al, const void *b, size_t bl)
{
	const uint8_t *p = a, *q = b;
	size_t n = al < bl ? al : bl;
	for (; n >= 8; p += 8, q += 8, n -= 8) {
		uint64_t x, y;
		memcpy(&x, p, 8);
		memcpy(&y, q, 8);
		if (x != y) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			x = __builtin_bswap64(x);   /* first byte most significant */
			y = __builtin_bswap64(y);
#endif
			return x < y ? -1 : 1;
		}
	}
	for (; n; p++, q++, n--)
		if (*p != *q)
			return *p < *q ? -1 : 1;
	return al < bl ? -1 : al > bl;
}

/* Key as printable text for messages (escapes non-printables). */
void lfs_kv_key_text(const void *key, size_t klen, char *buf, size_t cap)
{
	const unsigned char *k = key;
	size_t o = 0;
	if (!cap)
		return;
	for (size_t i = 0; i < klen && o + 5 < cap; i++) {
		if (k[i] >= 0x20 && k[i] < 0x7f && k[i] != '\\')
			buf[o++] = (char)k[i];
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", k[i]);
	}
	buf[o < cap ? o : cap - 1] = 0;
}

static uint64_t entry_size(size_t klen, uint32_t slen)
{
	return sizeof(struct kv_ophdr) + klen + slen;
}

/* File bytes a live value accounts for: its PUT operation, or (in a
 * block) its share of the BLOCK operation. */
static uint64_t loc_bytes(size_t klen, const struct loc *l)
{
	return (l->flags & KV_OPF_BLOCK) ? l->slen : entry_size(klen, l->slen);
}

/* Share of a BLOCK operation (foot file bytes, raw bytes decompressed)
 * accounted to one of its operations of sz raw bytes. */
static uint32_t block_share(size_t sz, uint64_t foot, size_t raw)
{
	return (uint32_t)((uint64_t)sz * foot / (raw ? raw : 1));
}

static size_t align8(size_t n)
{
	return (n + KV_REC_ALIGN - 1) & ~(size_t)(KV_REC_ALIGN - 1);
}

/* ------------------------------------------------------------ memtable */
/* A memtable chunk of len bytes.  In memory mode it is a mapping of
 * populated pages: from the second chunk on (a memtable that outgrew one)
 * taken from a prefill thread when one is ready (memval.h) — a fresh
 * malloc'd megabyte was a page fault per 4 KiB in the commit path, ~4% of
 * a tar-xf replay's main thread.  Elsewhere malloc, as before. */
static struct arena *arena_chunk(struct lfs_kv *kv, size_t len)
{
	if (!kv->memory)
		return malloc(len);
	void *p = NULL;
	if (len == ARENA_CHUNK && kv->arena) {
		if (!kv->arena_pf)
			kv->arena_pf = lfs_prefill_new(ARENA_CHUNK, 2, 0);
		p = lfs_prefill_take(kv->arena_pf);
	}
	return p ? p : lfs_map_populated(len);
}

static void arena_chunk_free(struct lfs_kv *kv, struct arena *a)
{
	if (kv->memory)
		munmap(a, sizeof *a + a->cap);
	else
		free(a);
}

static void *arena_alloc(struct lfs_kv *kv, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	if (!kv->arena || kv->arena->used + n > kv->arena->cap) {
		size_t cap = n > ARENA_CHUNK - sizeof(struct arena) ? n : ARENA_CHUNK - sizeof(struct arena);
		struct arena *a = arena_chunk(kv, sizeof *a + cap);
		if (!a)
			return NULL;
		a->next = kv->arena;
		a->used = 0;
		a->cap = cap;
		kv->arena = a;
		kv->mt_bytes += sizeof *a + cap;
	}
	void *p = kv->arena->data + kv->arena->used;
	kv->arena->used += n;
	return p;
}

static void mt_free_all(struct lfs_kv *kv)
{
	if (kv->memory) {
		/* values owned by nodes are freed by the merge (moved to base). */
	}
	while (kv->arena) {
		struct arena *a = kv->arena;
		kv->arena = a->next;
		arena_chunk_free(kv, a);
	}
	kv->root = NULL;
	kv->mt_max = NULL;
	memset(kv->mt_finger, 0, sizeof kv->mt_finger);
	memset(kv->mt_cmax, 0, sizeof kv->mt_cmax);
	kv->mt_bytes = 0;
	kv->mt_count = 0;
}

static struct mnode *mt_find(struct lfs_kv *kv, const void *key, size_t klen)
{
	struct mnode *n = kv->root;
	while (n) {
		int c = keycmp(key, klen, n->key, n->klen);
		if (!c)
			return n;
		n = c < 0 ? n->l : n->r;
	}
	return NULL;
}

/* First node with key >= k (or > k when strict). */
static struct mnode *mt_lower(struct lfs_kv *kv, const void *key, size_t klen, int strict)
{
	struct mnode *n = kv->root, *best = NULL;
	while (n) {
		int c = keycmp(n->key, n->klen, key, klen);
		if (c > 0 || (c == 0 && !strict)) {
			best = n;
			n = n->l;
		} else {
			n = n->r;
		}
	}
	return best;
}

static struct mnode *mt_next(struct mnode *n)
{
	if (n->r) {
		n = n->r;
		while (n->l)
			n = n->l;
		return n;
	}
	while (n->p && n == n->p->r)
		n = n->p;
	return n->p;
}

static void rot_left(struct lfs_kv *kv, struct mnode *x)
{
	struct mnode *y = x->r;
	x->r = y->l;
	if (y->l)
		y->l->p = x;
	y->p = x->p;
	if (!x->p)
		kv->root = y;
	else if (x == x->p->l)
		x->p->l = y;
	else
		x->p->r = y;
	y->l = x;
	x->p = y;
}

static void rot_right(struct lfs_kv *kv, struct mnode *x)
{
	struct mnode *y = x->l;
	x->l = y->r;
	if (y->r)
		y->r->p = x;
	y->p = x->p;
	if (!x->p)
		kv->root = y;
	else if (x == x->p->r)
		x->p->r = y;
	else
		x->p->l = y;
	y->r = x;
	x->p = y;
}

/* Where key goes right after finger f (f->key < key): f's right child if
 * f has none and key is below f's successor, the successor's left child if
 * f has a right subtree (its leftmost node, the successor, has no left
 * child) and key is below it.  Returns the link (*parent set), or NULL
 * when key is not in (f, successor) — *found is then the successor if key
 * equals it. */
static struct mnode **finger_link(struct mnode *f, const void *key, size_t klen,
				  struct mnode **parent, struct mnode **found)
{
	struct mnode *s, **link;
	if (!f->r) {
		struct mnode *x = f;     /* the successor: the first ancestor of
					    which f is in the left subtree */
		while (x->p && x == x->p->r)
			x = x->p;
		s = x->p;
		*parent = f;
		link = &f->r;
	} else {
		s = f->r;
		while (s->l)
			s = s->l;
		*parent = s;
		link = &s->l;
	}
	if (!s)
		return link;
	int c = keycmp(key, klen, s->key, s->klen);
	if (c < 0)
		return link;
	if (c == 0)
		*found = s;
	return NULL;
}

/* Finger search: the lowest ancestor x of f (or f) whose subtree holds
 * key's place (c: key's order against f, nonzero).  Climbing from f toward
 * key's side, a parent reached from its other side bounds x's subtree
 * there: key short of that parent lies inside (the bound on f's far side
 * holds since key is past f).  One comparison per such parent, none per
 * other; the caller descends from x.  *found: the parent equal to key. */
static struct mnode *finger_climb(struct mnode *f, const void *key, size_t klen, int c,
				  struct mnode **found)
{
	struct mnode *x = f;
	while (x->p) {
		struct mnode *p = x->p;
		if (c > 0 ? x == p->l : x == p->r) {
			int d = keycmp(key, klen, p->key, p->klen);
			if (d == 0) {
				*found = p;
				return x;
			}
			if (c > 0 ? d < 0 : d > 0)
				return x;
		}
		x = p;
	}
	return x;                          /* the root */
}

/* Find or insert the node of key; *created says which.
 * Keys arrive in runs of one kind each (a file's data pages in index
 * order, new inodes in number order, the superblock): for each first key
 * byte the node last found or inserted with it is a finger, and a key just
 * above it is placed next to it — one key comparison and a walk up parent
 * links instead of a descent with a comparison per level.  So is a key
 * above the largest node of its first byte (a new inode's number is above
 * every inode's while older inodes are updated in between). */
static struct mnode *mt_upsert(struct lfs_kv *kv, const void *key, size_t klen, int *created)
{
	struct mnode **link = &kv->root, *parent = NULL;
	unsigned kb = klen ? *(const uint8_t *)key : 0;
	struct mnode **fslot = &kv->mt_finger[kb], **cslot = &kv->mt_cmax[kb];
	struct mnode *f = *fslot, *cm = *cslot;
	int above_cmax = 0;                /* key > every node of its first byte */
	int cc;
	if (kv->mt_max && keycmp(key, klen, kv->mt_max->key, kv->mt_max->klen) >= 0) {
		if (!keycmp(key, klen, kv->mt_max->key, kv->mt_max->klen)) {
			*created = 0;
			return kv->mt_max;
		}
		parent = kv->mt_max;             /* past the largest key: its right child */
		link = &parent->r;
		above_cmax = 1;
	} else if ((cc = cm ? keycmp(key, klen, cm->key, cm->klen) : 1) >= 0) {
		if (!cc) {
			*created = 0;
			*fslot = cm;
			return cm;
		}
		above_cmax = 1;                  /* (no node of its first byte yet: too) */
		if (cm) {
			struct mnode *found = NULL, *par;
			struct mnode **fl = finger_link(cm, key, klen, &par, &found);
			if (found) {               /* (cannot be: its successor has
							  another first byte) */
				*created = 0;
				*fslot = found;
				return found;
			}
			if (fl) {
				parent = par;
				link = fl;
			}
		}
	} else if (f) {
		int c = keycmp(key, klen, f->key, f->klen);
		if (c == 0) {
			*created = 0;
			return f;
		}
		struct mnode **fl = NULL;
		if (c > 0) {
			struct mnode *found = NULL, *par;
			fl = finger_link(f, key, klen, &par, &found);
			if (found) {
				*created = 0;
				*fslot = found;
				return found;
			}
			if (fl) {
				parent = par;
				link = fl;
			}
		}
		if (!fl) {
			struct mnode *found = NULL;
			struct mnode *x = finger_climb(f, key, klen, c, &found);
			if (found) {
				*created = 0;
				*fslot = found;
				return found;
			}
			if (x->p) {
				parent = x->p;
				link = x == x->p->l ? &x->p->l : &x->p->r;
			}
		}
	}
	while (*link) {
		int c = keycmp(key, klen, (*link)->key, (*link)->klen);
		if (!c) {
			*created = 0;
			*fslot = *link;
			return *link;
		}
		parent = *link;
		link = c < 0 ? &(*link)->l : &(*link)->r;
	}
	struct mnode *z = arena_alloc(kv, sizeof *z + klen);
	if (!z)
		return NULL;
	memset(z, 0, sizeof *z);
	z->klen = (uint16_t)klen;
	memcpy(z->key, key, klen);
	z->p = parent;
	z->red = 1;
	if (!parent || (parent == kv->mt_max && link == &parent->r))
		kv->mt_max = z;                  /* the first node, or a new largest key */
	*link = z;
	*created = 1;
	kv->mt_count++;
	struct mnode *made = z;
	*fslot = z;
	if (above_cmax)
		*cslot = z;
	/* red-black insert fix-up (CLRS 13.3) */
	while (z->p && z->p->red) {
		struct mnode *g = z->p->p;
		if (z->p == g->l) {
			struct mnode *y = g->r;
			if (y && y->red) {
				z->p->red = 0; y->red = 0; g->red = 1; z = g;
			} else {
				if (z == z->p->r) {
					z = z->p;
					rot_left(kv, z);
				}
				z->p->red = 0; z->p->p->red = 1;
				rot_right(kv, z->p->p);
			}
		} else {
			struct mnode *y = g->l;
			if (y && y->red) {
				z->p->red = 0; y->red = 0; g->red = 1; z = g;
			} else {
				if (z == z->p->l) {
					z = z->p;
					rot_right(kv, z);
				}
				z->p->red = 0; z->p->p->red = 1;
				rot_left(kv, z->p->p);
			}
		}
	}
	kv->root->red = 0;
	return made;
}

/* ------------------------------------------------------------ base index */
static const struct kv_ient *base_ent(const struct base *b, size_t i)
{
	return (const struct kv_ient *)(b->buf + b->offs[i]);
}
static const uint8_t *ient_key(const struct kv_ient *e)
{
	return (const uint8_t *)(e + 1);
}

static struct pfx16 key_pfx(const void *key, size_t klen)
{
	uint8_t b[16] = { 0 };
	uint64_t x, y;
	memcpy(b, key, klen < 16 ? klen : 16);
	memcpy(&x, b, 8);
	memcpy(&y, b + 8, 8);
	return (struct pfx16){ __builtin_bswap64(x), __builtin_bswap64(y) };
}

/* First index i with key(i) >= k (or > k when strict). */
static size_t base_lower(const struct base *b, const void *key, size_t klen, int strict)
{
	size_t lo = 0, hi = b->n;
	struct pfx16 p = key_pfx(key, klen);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c;
		const struct pfx16 *q = &b->pfx[mid];
		if (q->a != p.a) {
			c = q->a > p.a ? 1 : -1;
		} else if (q->b != p.b) {
			c = q->b > p.b ? 1 : -1;
		} else {
			const struct kv_ient *e = base_ent(b, mid);
			c = keycmp(ient_key(e), e->klen, key, klen);
		}
		if (c > 0 || (c == 0 && !strict))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void base_free(struct lfs_kv *kv, struct base *b)
{
	if (kv->memory && b->buf) {
		for (size_t i = 0; i < b->n; i++) {
			const struct kv_ient *e = base_ent(b, i);
			lfs_memval_free(kv->mval, (void *)(uintptr_t)e->off, e->vlen);
		}
	}
	free(b->buf);
	free(b->offs);
	free(b->pfx);
	memset(b, 0, sizeof *b);
}

/* Parse an INDEX payload (takes ownership of buf). */
static int base_load(struct lfs_kv *kv, struct base *b, uint8_t *buf, size_t len,
		     uint64_t count, uint64_t index_off, struct lfs_err *err)
{
	memset(b, 0, sizeof *b);
	if (count > len / sizeof(struct kv_ient)) {
		free(buf);
		return lfs_seterr(err, LFS_E_CORRUPT, "index at offset %" PRIu64 ": bad entry count", index_off);
	}
	b->buf = buf;
	b->len = len;
	b->offs = malloc((count ? count : 1) * sizeof *b->offs);
	b->pfx = malloc((count ? count : 1) * sizeof *b->pfx);
	if (!b->offs || !b->pfx) {
		free(buf);
		free(b->offs);
		free(b->pfx);
		b->buf = NULL;
		b->offs = NULL;
		b->pfx = NULL;
		return lfs_seterr(err, -ENOMEM, "index: out of memory");
	}
	size_t pos = 0;
	const struct kv_ient *prev = NULL;
	uint64_t live = 0;
	for (uint64_t i = 0; i < count; i++) {
		if (len - pos < sizeof(struct kv_ient))
			goto bad;
		const struct kv_ient *e = (const struct kv_ient *)(buf + pos);
		if (e->klen > LFS_KV_MAX_KEY || len - pos - sizeof *e < e->klen || e->vlen > LFS_KV_MAX_VALUE
		    || e->slen > LFS_KV_MAX_VALUE + 1024 || (e->flags & ~(KV_OPF_ZSTD | KV_OPF_BLOCK))
		    || e->flags == (KV_OPF_ZSTD | KV_OPF_BLOCK)
		    || ((e->flags & KV_OPF_BLOCK) && (e->vlen > KV_BLOCK_MAX_RAW || e->pos > KV_BLOCK_MAX_RAW)))
			goto bad;
		if (prev && keycmp(ient_key(prev), prev->klen, ient_key(e), e->klen) >= 0)
			goto bad;
		b->offs[i] = pos;
		b->pfx[i] = key_pfx(ient_key(e), e->klen);
		struct loc l = { e->off, e->slen, e->vlen, e->flags, e->pos };
		live += loc_bytes(e->klen, &l);
		prev = e;
		pos += align8(sizeof *e + e->klen);
	}
	if (pos != len)
		goto bad;
	b->n = count;
	kv->live_bytes = live;
	kv->live_keys = count;
	return 0;
bad:
	free(b->buf);
	free(b->offs);
	free(b->pfx);
	memset(b, 0, sizeof *b);
	return lfs_seterr(err, LFS_E_CORRUPT, "index at offset %" PRIu64 ": malformed entry", index_off);
}

/* ------------------------------------------------------------ merged cursor */
/* Position over memtable + base: the smaller key of the two sources, the
 * memtable winning ties; tombstones are skipped unless want_dead. */
struct mcur {
	struct mnode *m;
	size_t bi;
	/* current */
	const uint8_t *key;
	size_t klen;
	struct loc loc;
	int from_mt;
	int dead;
};

static void cur_settle(struct lfs_kv *kv, struct mcur *c, int want_dead)
{
	for (;;) {
		const struct kv_ient *be = c->bi < kv->base.n ? base_ent(&kv->base, c->bi) : NULL;
		if (!c->m && !be) {
			c->key = NULL;
			return;
		}
		int cmp;
		if (!c->m)
			cmp = 1;
		else if (!be)
			cmp = -1;
		else
			cmp = keycmp(c->m->key, c->m->klen, ient_key(be), be->klen);
		if (cmp <= 0) {
			c->key = c->m->key;
			c->klen = c->m->klen;
			c->loc = c->m->loc;
			c->from_mt = 1;
			c->dead = c->m->del;
			if (cmp == 0)
				c->bi++;   /* shadowed */
			if (c->dead && !want_dead) {
				c->m = mt_next(c->m);
				continue;
			}
			return;
		}
		c->key = ient_key(be);
		c->klen = be->klen;
		c->loc.off = be->off;
		c->loc.slen = be->slen;
		c->loc.vlen = be->vlen;
		c->loc.flags = be->flags;
		c->loc.pos = be->pos;
		c->from_mt = 0;
		c->dead = 0;
		return;
	}
}

static void cur_seek(struct lfs_kv *kv, struct mcur *c, const void *key, size_t klen, int strict, int want_dead)
{
	if (key) {
		c->m = mt_lower(kv, key, klen, strict);
		c->bi = base_lower(&kv->base, key, klen, strict);
	} else {
		c->m = kv->root;
		if (c->m)
			while (c->m->l)
				c->m = c->m->l;
		c->bi = 0;
	}
	cur_settle(kv, c, want_dead);
}

static void cur_next(struct lfs_kv *kv, struct mcur *c, int want_dead)
{
	if (c->from_mt)
		c->m = mt_next(c->m);
	else
		c->bi++;
	cur_settle(kv, c, want_dead);
}

/* Current live location of key: 1 found, 0 absent. */
static int base_get(struct lfs_kv *kv, const void *key, size_t klen, struct loc *loc);

static int lookup(struct lfs_kv *kv, const void *key, size_t klen, struct loc *loc)
{
	struct mnode *n = mt_find(kv, key, klen);
	if (n) {
		if (n->del)
			return 0;
		*loc = n->loc;
		return 1;
	}
	return base_get(kv, key, klen, loc);
}

/* The key's entry in the checkpointed index (the memtable not consulted). */
static int base_get(struct lfs_kv *kv, const void *key, size_t klen, struct loc *loc)
{
	/* a scan in key order (readahead, a file written in order) finds its
	 * key right after the previous one: try that before the binary search */
	if (!kv->base.n)
		return 0;
	const struct kv_ient *l = base_ent(&kv->base, kv->base.n - 1);
	if (keycmp(key, klen, ient_key(l), l->klen) > 0)
		return 0;                        /* past the largest key (appends in order) */
	size_t i = kv->base_hint + 1;
	const struct kv_ient *h = i < kv->base.n ? base_ent(&kv->base, i) : NULL;
	if (!h || keycmp(ient_key(h), h->klen, key, klen))
		i = base_lower(&kv->base, key, klen, 0);
	if (i < kv->base.n) {
		const struct kv_ient *e = base_ent(&kv->base, i);
		if (!keycmp(ient_key(e), e->klen, key, klen)) {
			kv->base_hint = i;
			loc->off = e->off;
			loc->slen = e->slen;
			loc->vlen = e->vlen;
			loc->flags = e->flags;
			loc->pos = e->pos;
			return 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ applying ops */
/* Set key to loc (del = tombstone).  In memory mode loc.off is a kv->mval
 * value now owned by the memtable. */
static int apply_set(struct lfs_kv *kv, const void *key, size_t klen, const struct loc *loc, int del)
{
	struct loc old;
	int had, created;
	struct mnode *n = mt_upsert(kv, key, klen, &created);
	if (!n)
		return -ENOMEM;
	/* the value it replaces: the node's, or (a new node) the index's */
	if (!created) {
		had = !n->del;
		old = n->loc;
	} else {
		had = base_get(kv, key, klen, &old);
	}
	if (!created && !n->del && kv->memory)
		lfs_memval_free(kv->mval, (void *)(uintptr_t)n->loc.off, n->loc.vlen);
	if (had) {
		kv->live_keys--;
		kv->live_bytes -= loc_bytes(klen, &old);
		kv->raw_value_bytes -= old.vlen;
		kv->stored_value_bytes -= old.slen;
	}
	if (del) {
		n->del = 1;
		memset(&n->loc, 0, sizeof n->loc);
	} else {
		n->del = 0;
		n->loc = *loc;
		kv->live_keys++;
		kv->live_bytes += loc_bytes(klen, loc);
		kv->raw_value_bytes += loc->vlen;
		kv->stored_value_bytes += loc->slen;
	}
	kv->version++;
	return 0;
}

static int apply_delrange(struct lfs_kv *kv, const void *lo, size_t lolen, const void *hi, size_t hilen, int has_hi)
{
	uint8_t cur[LFS_KV_MAX_KEY];
	size_t clen = lolen;
	int strict = 0;
	memcpy(cur, lo, lolen);
	for (;;) {
		struct mcur c;
		cur_seek(kv, &c, cur, clen, strict, 0);
		if (!c.key)
			break;
		if (has_hi && keycmp(c.key, c.klen, hi, hilen) >= 0)
			break;
		clen = c.klen;
		memcpy(cur, c.key, clen);
		strict = 1;
		int rc = apply_set(kv, cur, clen, NULL, 1);
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------ writer */
static void grp_seal(struct lfs_kv *kv);

/* After the log grew to w->off: once WB_START bytes were written since the
 * last kick, start writing back what the next sync will wait for (as the
 * kernel's background writeback would for a plain file), so a long stream's
 * or a long group's sync does not meet all of it at once.  A hint only:
 * durability still comes from fsync alone. */
static void wb_kick(struct lfs_kv *kv, struct wr *w)
{
	if (w != &kv->log || kv->fops != &real_fops || w->off - kv->wb_started < WB_START)
		return;
	if (kv->wb_started < kv->synced_end)
		kv->wb_started = kv->synced_end;
	if (w->off > kv->wb_started)
		sync_file_range(w->fd, (off_t)kv->wb_started, (off_t)(w->off - kv->wb_started),
				SYNC_FILE_RANGE_WRITE);
	kv->wb_started = w->off;
}

/* A batch record of total bytes went to w at w->off: counted, noted in
 * the open group (if any), w advanced, writeback kicked. */
static void batch_written(struct lfs_kv *kv, struct wr *w, size_t total)
{
	kv->st.file_bytes_written += total;
	if (kv->grp_depth) {
		if (!kv->grp_start)
			kv->grp_start = w->off;
		kv->grp_batches++;
	}
	w->off += total;
	wb_kick(kv, w);
}

static int wr_flush(struct lfs_kv *kv, struct wr *w)
{
	if (w == &kv->log && kv->open_rec)
		grp_seal(kv);   /* never write half a group record */
	if (!w->len)
		return 0;
	ssize_t r = kv->fops->pwrite(kv->fops->ctx, w->fd, w->buf, w->len, (off_t)w->off);
	if (r < 0)
		return (int)r;
	if ((size_t)r != w->len)
		return -EIO;
	kv->st.file_bytes_written += w->len;
	w->off += w->len;
	w->len = 0;
	wb_kick(kv, w);
	return 0;
}

/* Make room for n contiguous bytes at the end of the buffer. */
static int wr_reserve(struct lfs_kv *kv, struct wr *w, size_t n)
{
	if (w->len + n > w->cap) {
		int rc = wr_flush(kv, w);
		if (rc)
			return rc;
	}
	if (n > w->cap) {
		uint8_t *nb = realloc(w->buf, n);
		if (!nb)
			return -ENOMEM;
		w->buf = nb;
		w->cap = n;
	}
	return 0;
}

static uint64_t wr_end(const struct wr *w)
{
	return w->off + w->len;
}

/* Finish the record whose header starts at buf[start]: fill the header,
 * pad to 8 bytes. */
static void wr_seal_f(struct lfs_kv *kv, struct wr *w, size_t start, uint8_t type, uint8_t flags,
		      uint32_t nops, uint64_t synced)
{
	struct kv_rhdr h;
	size_t plen = w->len - start - sizeof h;
	memset(&h, 0, sizeof h);
	h.magic = KV_REC_MAGIC;
	h.type = type;
	h.flags = flags;
	h.len = (uint32_t)plen;
	h.nops = nops;
	h.seq = kv->seq++;
	h.synced = synced;
	h.pcrc = lfs_crc32c(0, w->buf + start + sizeof h, plen);
	h.hcrc = lfs_crc32c(0, &h, offsetof(struct kv_rhdr, hcrc));
	memcpy(w->buf + start, &h, sizeof h);
	size_t pad = align8(w->len) - w->len;
	memset(w->buf + w->len, 0, pad);
	w->len += pad;
}

static void wr_seal(struct lfs_kv *kv, struct wr *w, size_t start, uint8_t type, uint32_t nops, uint64_t synced)
{
	wr_seal_f(kv, w, start, type, 0, nops, synced);
}

/* One operation at dst.  Its CRC is computed only for a kv that writes a
 * file: a batch (kv NULL) gets its CRCs at commit (batch_crcs), and the
 * in-memory image never writes or reads them. */
static size_t put_op(struct lfs_kv *kv, uint8_t *dst, uint8_t type, uint8_t flags,
		     const void *key, size_t klen, const void *val, size_t slen, size_t vlen)
{
	struct kv_ophdr o;
	o.type = type;
	o.flags = flags;
	o.klen = (uint16_t)klen;
	o.slen = (uint32_t)slen;
	o.vlen = (uint32_t)vlen;
	o.crc = 0;
	if (kv && !kv->memory) {
		uint32_t crc = lfs_crc32c(0, &o, offsetof(struct kv_ophdr, crc));
		crc = lfs_crc32c(crc, key, klen);
		o.crc = lfs_crc32c(crc, val, slen);
	}
	memcpy(dst, &o, sizeof o);
	if (klen)
		memcpy(dst + sizeof o, key, klen);
	if (slen)
		memcpy(dst + sizeof o + klen, val, slen);
	return sizeof o + klen + slen;
}

/* ------------------------------------------------------------ reading values */
static int read_at(struct lfs_kv *kv, void *buf, size_t n, uint64_t off)
{
	if (off >= kv->log.off) {
		if (off - kv->log.off + n > kv->log.len)
			return -EIO;
		memcpy(buf, kv->log.buf + (off - kv->log.off), n);
		return 0;
	}
	ssize_t r = kv->fops->pread(kv->fops->ctx, kv->fd, buf, n, (off_t)off);
	if (r < 0)
		return (int)r;
	kv->st.file_bytes_read += (uint64_t)r;
	return (size_t)r == n ? 0 : LFS_E_TRUNCATED;
}

/* Map the flushed file for reads (real file I/O only: the fault seam sees
 * every read of the tests).  Writes go through pwrite; MAP_SHARED pages are
 * the page cache, so they see them. */
static void remap(struct lfs_kv *kv)
{
	if (kv->fops != &real_fops || kv->memory || kv->fd < 0)
		return;
	if (kv->map)
		munmap((void *)kv->map, kv->map_len);
	kv->map = NULL;
	kv->map_len = 0;
	size_t len = (size_t)kv->log.off;
	if (!len)
		return;
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, kv->fd, 0);
	if (m == MAP_FAILED)
		return;
	madvise(m, len, MADV_RANDOM);
	kv->map = m;
	kv->map_len = len;
}

/* Pointer to n bytes at off: the mapping when it covers them, else a read
 * into the scratch buffer. */
static int scratch(struct lfs_kv *kv, size_t n);
static int view_at(struct lfs_kv *kv, size_t n, uint64_t off, const uint8_t **p)
{
	if (off + n > kv->map_len && off + n <= kv->log.off && kv->log.off - kv->map_len > (16u << 20))
		remap(kv);
	if (off + n <= kv->map_len) {
		*p = kv->map + off;
		return 0;
	}
	int rc = scratch(kv, n);
	if (rc)
		return rc;
	rc = read_at(kv, kv->sbuf, n, off);
	*p = kv->sbuf;
	return rc;
}

static int scratch(struct lfs_kv *kv, size_t n)
{
	if (n <= kv->scap)
		return 0;
	uint8_t *p = realloc(kv->sbuf, n);
	if (!p)
		return -ENOMEM;
	kv->sbuf = p;
	kv->scap = n;
	return 0;
}

static int dctx_get(struct lfs_kv *kv)
{
	if (!kv->dctx && !(kv->dctx = ZSTD_createDCtx()))
		return -ENOMEM;
	return 0;
}

/* Check the BLOCK operation at op (n bytes available from it) and
 * decompress its frame into *buf (grown as needed).  0, LFS_E_CORRUPT
 * (*why says what) or -ENOMEM.  *foot: the operation's size. */
static int block_decode(struct lfs_kv *kv, const uint8_t *op, size_t n, uint8_t **buf, size_t *cap,
			size_t *rawlen, uint64_t *foot, const char **why)
{
	struct kv_ophdr o;
	*why = "bad block header";
	if (n < sizeof o)
		return LFS_E_CORRUPT;
	memcpy(&o, op, sizeof o);
	if (o.type != KV_OP_BLOCK || o.klen || o.flags || !o.vlen || o.vlen > KV_BLOCK_MAX_RAW
	    || n - sizeof o < o.slen)
		return LFS_E_CORRUPT;
	uint32_t crc = lfs_crc32c(0, op, offsetof(struct kv_ophdr, crc));
	*why = "checksum mismatch in block";
	if (lfs_crc32c(crc, op + sizeof o, o.slen) != o.crc)
		return LFS_E_CORRUPT;
	if (*cap < o.vlen) {
		uint8_t *nb = realloc(*buf, o.vlen);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = o.vlen;
	}
	if (dctx_get(kv))
		return -ENOMEM;
	size_t r = ZSTD_decompressDCtx(kv->dctx, *buf, o.vlen, op + sizeof o, o.slen);
	*why = "bad compressed data in block";
	if (ZSTD_isError(r) || r != o.vlen)
		return LFS_E_CORRUPT;
	*rawlen = o.vlen;
	*foot = sizeof o + o.slen;
	return 0;
}

static void bcache_clear(struct lfs_kv *kv)
{
	for (int i = 0; i < KV_BCACHE_N; i++)
		kv->bc[i].off = 0;
}

/* The raw operations of the BLOCK at off: from the cache, or read, checked
 * and decompressed into the least recently used slot. */
static int block_raw(struct lfs_kv *kv, const void *key, size_t klen, uint64_t off, const uint8_t **raw,
		     size_t *rawlen, struct lfs_err *err)
{
	char kt[160];
	struct bcache *victim = NULL;
	for (int i = 0; i < KV_BCACHE_N; i++) {
		struct bcache *b = &kv->bc[i];
		if (b->off == off && off) {
			b->tick = ++kv->bc_tick;
			*raw = b->buf;
			*rawlen = b->len;
			return 0;
		}
		if (!victim || b->tick < victim->tick)
			victim = b;
	}
	const uint8_t *p;
	struct kv_ophdr o;
	const char *why = "bad block header";
	int rc = view_at(kv, sizeof o, off, &p);
	if (!rc) {
		memcpy(&o, p, sizeof o);
		if (o.type != KV_OP_BLOCK || o.slen > ZSTD_compressBound(KV_BLOCK_MAX_RAW))
			rc = LFS_E_CORRUPT;
	}
	if (!rc)
		rc = view_at(kv, sizeof o + o.slen, off, &p);
	if (rc == LFS_E_TRUNCATED) {
		lfs_kv_key_text(key, klen, kt, sizeof kt);
		return lfs_seterr(err, LFS_E_CORRUPT, "key %s: block at offset %" PRIu64 " lies past the end of the image",
				  kt, off);
	}
	if (rc && rc != LFS_E_CORRUPT) {
		lfs_kv_key_text(key, klen, kt, sizeof kt);
		return lfs_seterr(err, rc, "key %s: read at offset %" PRIu64 ": %s", kt, off, lfs_strerror(rc));
	}
	victim->off = 0;
	victim->tick = 0;
	if (!rc) {
		/* the cache holds at most KV_BCACHE_BYTES of blocks: free the
		 * least recently used others until this one fits */
		for (;;) {
			size_t held = 0;
			struct bcache *lru = NULL;
			for (int i = 0; i < KV_BCACHE_N; i++) {
				struct bcache *b = &kv->bc[i];
				if (b == victim)
					continue;
				held += b->cap;
				if (b->cap && (!lru || b->tick < lru->tick))
					lru = b;
			}
			if (!lru || held + (victim->cap > o.vlen ? victim->cap : o.vlen) <= KV_BCACHE_BYTES)
				break;
			free(lru->buf);
			lru->buf = NULL;
			lru->cap = lru->len = 0;
			lru->off = 0;
			lru->tick = 0;
		}
	}
	uint64_t foot;
	if (!rc)
		rc = block_decode(kv, p, sizeof o + o.slen, &victim->buf, &victim->cap, &victim->len, &foot, &why);
	if (rc == -ENOMEM)
		return lfs_seterr(err, rc, "out of memory");
	if (rc) {
		lfs_kv_key_text(key, klen, kt, sizeof kt);
		return lfs_seterr(err, LFS_E_CORRUPT, "key %s: %s at offset %" PRIu64, kt, why, off);
	}
	victim->off = off;
	victim->tick = ++kv->bc_tick;
	*raw = victim->buf;
	*rawlen = victim->len;
	return 0;
}

/* The value of key at position pos of a block's raw operations, checked. */
static int block_value(struct lfs_kv *kv, const void *key, size_t klen, const struct loc *loc, void *out,
		       struct lfs_err *err)
{
	const uint8_t *raw = NULL;
	size_t rl = 0;
	int rc = block_raw(kv, key, klen, loc->off, &raw, &rl, err);
	if (rc)
		return rc;
	struct kv_ophdr o;
	size_t pos = loc->pos;
	int ok = pos <= rl && rl - pos >= sizeof o;
	if (ok) {
		memcpy(&o, raw + pos, sizeof o);
		ok = o.type == KV_OP_PUT && !o.flags && o.klen == klen && o.slen == loc->vlen && o.vlen == loc->vlen
		     && rl - pos - sizeof o >= (size_t)klen + o.slen && !memcmp(raw + pos + sizeof o, key, klen);
	}
	if (!ok) {
		char kt[160];
		lfs_kv_key_text(key, klen, kt, sizeof kt);
		return lfs_seterr(err, LFS_E_CORRUPT, "key %s: no such value at position %u of the block at offset %" PRIu64,
				  kt, loc->pos, loc->off);
	}
	if (loc->vlen)
		memcpy(out, raw + pos + sizeof o + klen, loc->vlen);
	kv->st.bytes_got += loc->vlen;
	return 0;
}

/* Load the raw value of key at loc into out (vlen bytes, caller-sized). */
static int load_value2(struct lfs_kv *kv, const void *key, size_t klen, const struct loc *loc,
		       void *out, const void **direct, struct lfs_err *err);
static int load_value(struct lfs_kv *kv, const void *key, size_t klen, const struct loc *loc,
		      void *out, struct lfs_err *err)
{
	return load_value2(kv, key, klen, loc, out, NULL, err);
}

/* With direct != NULL, a raw value lying in the mapping is checked and
 * returned in place (*direct) instead of being copied to out. */
static int load_value2(struct lfs_kv *kv, const void *key, size_t klen, const struct loc *loc,
		       void *out, const void **direct, struct lfs_err *err)
{
	char kt[160];
	if (kv->memory) {
		if (loc->vlen)
			memcpy(out, (const void *)(uintptr_t)loc->off, loc->vlen);
		kv->st.bytes_got += loc->vlen;
		return 0;
	}
	if (loc->flags & KV_OPF_BLOCK)
		return block_value(kv, key, klen, loc, out, err);
	size_t n = sizeof(struct kv_ophdr) + klen + loc->slen;
	const uint8_t *buf;
	int rc = view_at(kv, n, loc->off, &buf);
	if (rc) {
		lfs_kv_key_text(key, klen, kt, sizeof kt);
		if (rc == LFS_E_TRUNCATED)
			return lfs_seterr(err, LFS_E_CORRUPT, "key %s: value at offset %" PRIu64 " lies past the end of the image", kt, loc->off);
		return lfs_seterr(err, rc, "key %s: read at offset %" PRIu64 ": %s", kt, loc->off, lfs_strerror(rc));
	}
	struct kv_ophdr o;
	memcpy(&o, buf, sizeof o);
	uint32_t crc = lfs_crc32c(0, buf, offsetof(struct kv_ophdr, crc));
	crc = lfs_crc32c(crc, buf + sizeof o, klen + loc->slen);
	if (o.type != KV_OP_PUT || o.klen != klen || o.slen != loc->slen || o.vlen != loc->vlen || crc != o.crc
	    || memcmp(buf + sizeof o, key, klen)) {
		lfs_kv_key_text(key, klen, kt, sizeof kt);
		return lfs_seterr(err, LFS_E_CORRUPT, "key %s: checksum mismatch in value at offset %" PRIu64, kt, loc->off);
	}
	const uint8_t *sv = buf + sizeof o + klen;
	if (loc->flags & KV_OPF_ZSTD) {
		if (dctx_get(kv))
			return lfs_seterr(err, -ENOMEM, "out of memory");
		size_t r = ZSTD_decompressDCtx(kv->dctx, out, loc->vlen, sv, loc->slen);
		if (ZSTD_isError(r) || r != loc->vlen) {
			lfs_kv_key_text(key, klen, kt, sizeof kt);
			return lfs_seterr(err, LFS_E_CORRUPT, "key %s: bad compressed value at offset %" PRIu64, kt, loc->off);
		}
	} else if (direct && buf != kv->sbuf) {
		*direct = sv;
	} else if (loc->vlen) {
		memcpy(out, sv, loc->vlen);
	}
	kv->st.bytes_got += loc->vlen;
	return 0;
}

/* ------------------------------------------------------------ header slots */
static void slot_fill(struct lfs_kv *kv, struct kv_slot *s, uint64_t gen, uint64_t index_off,
		      uint64_t index_count, uint64_t replay_off)
{
	memset(s, 0, sizeof *s);
	memcpy(s->magic, KV_MAGIC, 8);
	s->version = KV_VERSION;
	s->slot_size = KV_SLOT_SIZE;
	s->gen = gen;
	s->compress = (uint32_t)kv->compress;
	s->level = kv->level;
	s->index_off = index_off;
	s->index_count = index_count;
	s->replay_off = replay_off;
	s->next_seq = kv->seq;
	s->ctime = kv->ctime;
	s->crc = lfs_crc32c(0, s, offsetof(struct kv_slot, crc));
}

static int slot_write(struct lfs_kv *kv, int fd, const struct kv_slot *s)
{
	uint64_t off = (s->gen & 1) ? KV_SLOT1 : KV_SLOT0;
	ssize_t r = kv->fops->pwrite(kv->fops->ctx, fd, s, sizeof *s, (off_t)off);
	if (r < 0)
		return (int)r;
	kv->st.file_bytes_written += sizeof *s;
	return (size_t)r == sizeof *s ? 0 : -EIO;
}

/* 1 valid, 0 invalid; *why: 0 corrupt, 1 bad magic, 2 version */
static int slot_valid(const struct kv_slot *s, int *why)
{
	if (memcmp(s->magic, KV_MAGIC, 8)) {
		*why = 1;
		return 0;
	}
	if (s->crc != lfs_crc32c(0, s, offsetof(struct kv_slot, crc))) {
		*why = 0;
		return 0;
	}
	if (s->version < KV_VERSION_MIN || s->version > KV_VERSION || s->slot_size != KV_SLOT_SIZE) {
		*why = 2;
		return 0;
	}
	if (s->replay_off < KV_LOG_START || (s->index_off && s->index_off < KV_LOG_START)
	    || s->compress > LFS_KV_COMPRESS_ZSTD) {
		*why = 0;
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------ checkpoint */
/* A compressed INDEX payload: [raw length u32][0 u32][zstd frame]. */
#define IDX_ZHDR 8u
#define IDX_LEVEL 9    /* an index is written once per checkpoint and is mostly small numbers */
static int index_inflate(struct lfs_kv *kv, const uint8_t *p, size_t len, uint64_t count, uint8_t **raw,
			 size_t *rawlen)
{
	uint32_t rl, z;
	if (len < IDX_ZHDR)
		return LFS_E_CORRUPT;
	memcpy(&rl, p, 4);
	memcpy(&z, p + 4, 4);
	if (z || rl > count * (sizeof(struct kv_ient) + LFS_KV_MAX_KEY + KV_REC_ALIGN))
		return LFS_E_CORRUPT;
	uint8_t *b = malloc(rl ? rl : 1);
	if (!b)
		return -ENOMEM;
	if (dctx_get(kv)) {
		free(b);
		return -ENOMEM;
	}
	size_t r = ZSTD_decompressDCtx(kv->dctx, b, rl, p + IDX_ZHDR, len - IDX_ZHDR);
	if (ZSTD_isError(r) || r != rl) {
		free(b);
		return LFS_E_CORRUPT;
	}
	*raw = b;
	*rawlen = rl;
	return 0;
}

static int cctx_get(struct lfs_kv *kv)
{
	if (!kv->cctx && !(kv->cctx = ZSTD_createCCtx()))
		return -ENOMEM;
	return 0;
}

/* Seal the INDEX record built in iw (header room at 0).  *raw receives a
 * malloc'd copy of the raw payload (the new base).  A zstd image stores the
 * payload compressed when that is smaller. */
static int seal_index(struct lfs_kv *kv, struct wr *iw, uint64_t count, uint64_t synced, uint8_t **raw,
		      size_t *rawlen)
{
	size_t plen = iw->len - sizeof(struct kv_rhdr);
	uint8_t *p = malloc(plen ? plen : 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, iw->buf + sizeof(struct kv_rhdr), plen);
	*raw = p;
	*rawlen = plen;
	uint8_t flags = 0;
	if (kv->compress == LFS_KV_COMPRESS_ZSTD && plen >= 256 && plen <= UINT32_MAX && !cctx_get(kv)) {
		size_t cap = sizeof(struct kv_rhdr) + IDX_ZHDR + ZSTD_compressBound(plen) + KV_REC_ALIGN;
		uint8_t *nb = malloc(cap);
		if (nb) {
			size_t c = ZSTD_compressCCtx(kv->cctx, nb + sizeof(struct kv_rhdr) + IDX_ZHDR,
						     cap - sizeof(struct kv_rhdr) - IDX_ZHDR - KV_REC_ALIGN, p, plen,
						     kv->level > IDX_LEVEL ? kv->level : IDX_LEVEL);
			if (!ZSTD_isError(c) && c + IDX_ZHDR < plen) {
				uint32_t rl = (uint32_t)plen, z = 0;
				memcpy(nb + sizeof(struct kv_rhdr), &rl, 4);
				memcpy(nb + sizeof(struct kv_rhdr) + 4, &z, 4);
				free(iw->buf);
				iw->buf = nb;
				iw->cap = cap;
				iw->len = sizeof(struct kv_rhdr) + IDX_ZHDR + c;
				flags = KV_RF_ZSTD;
			} else {
				free(nb);
			}
		}
	}
	if (flags == 0 && iw->len + KV_REC_ALIGN > iw->cap) {
		uint8_t *nb = realloc(iw->buf, iw->len + KV_REC_ALIGN);
		if (!nb) {
			free(p);
			return -ENOMEM;
		}
		iw->buf = nb;
		iw->cap = iw->len + KV_REC_ALIGN;
	}
	wr_seal_f(kv, iw, 0, KV_REC_INDEX, flags, (uint32_t)count, synced);
	return 0;
}

/* Serialize the merged view as an INDEX payload into w (record started). */
static int build_index(struct lfs_kv *kv, struct wr *w, uint64_t *count, int free_shadowed)
{
	struct mcur c;
	uint64_t n = 0;
	cur_seek(kv, &c, NULL, 0, 0, 1);
	while (c.key) {
		if (free_shadowed && kv->memory && c.from_mt && c.bi > 0) {
			/* a base entry equal to this key was skipped: free its value */
			const struct kv_ient *be = base_ent(&kv->base, c.bi - 1);
			if (!keycmp(ient_key(be), be->klen, c.key, c.klen))
				lfs_memval_free(kv->mval, (void *)(uintptr_t)be->off, be->vlen);
		}
		if (!c.dead) {
			size_t sz = align8(sizeof(struct kv_ient) + c.klen);
			if (lfs_grow(&w->buf, &w->cap, w->len + sz, 1, 4096) < 0)
				return -ENOMEM;
			struct kv_ient e;
			memset(&e, 0, sizeof e);
			e.klen = (uint16_t)c.klen;
			e.flags = c.loc.flags;
			e.slen = c.loc.slen;
			e.vlen = c.loc.vlen;
			e.pos = c.loc.pos;
			e.off = c.loc.off;
			memset(w->buf + w->len, 0, sz);
			memcpy(w->buf + w->len, &e, sizeof e);
			memcpy(w->buf + w->len + sizeof e, c.key, c.klen);
			w->len += sz;
			n++;
		}
		cur_next(kv, &c, 1);
	}
	*count = n;
	return 0;
}

/* Write the header slot naming a checkpointed INDEX (durable on return). */
static int slot_flip(struct lfs_kv *kv, uint64_t index_off, uint64_t count, uint64_t replay_off)
{
	struct kv_slot s;
	slot_fill(kv, &s, kv->gen + 1, index_off, count, replay_off);
	int rc = slot_write(kv, kv->fd, &s);
	if (!rc)
		rc = kv->fops->fsync(kv->fops->ctx, kv->fd);
	if (!rc) {
		kv->slot_ver[(kv->gen + 1) & 1] = KV_VERSION;
		kv->gen++;
	}
	return rc;
}

/* Checkpoint: the merged view becomes an INDEX record and the new base.
 * With defer (a full memtable in the middle of a write stream) nothing is
 * synced: the header slot naming the INDEX is written by the next
 * lfs_kv_sync, after the INDEX is durable.  Until then an open replays from
 * the previous slot, which skips INDEX records (replay), so a crash in
 * between loses nothing that was not already unsynced; and the write
 * stream is not stalled by a sync of everything written so far. */
static int do_checkpoint2(struct lfs_kv *kv, int defer, struct lfs_err *err);
static int do_checkpoint(struct lfs_kv *kv, struct lfs_err *err)
{
	return do_checkpoint2(kv, 0, err);
}

static int do_checkpoint2(struct lfs_kv *kv, int defer, struct lfs_err *err)
{
	int rc;
	struct wr iw = { .fd = kv->fd };
	uint64_t count = 0;

	if (kv->broken)
		return lfs_seterr(err, kv->broken, "image write failed earlier");
	iw.cap = 1 << 16;
	iw.buf = malloc(iw.cap);
	if (!iw.buf)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	iw.len = sizeof(struct kv_rhdr);
	rc = build_index(kv, &iw, &count, kv->memory);
	if (rc) {
		free(iw.buf);
		return lfs_seterr(err, rc, "checkpoint: out of memory");
	}
	if (kv->memory) {
		/* the payload becomes the new base directly */
		struct base nb;
		size_t plen = iw.len - sizeof(struct kv_rhdr);
		uint8_t *p = malloc(plen ? plen : 1);
		if (!p) {
			free(iw.buf);
			return lfs_seterr(err, -ENOMEM, "out of memory");
		}
		memcpy(p, iw.buf + sizeof(struct kv_rhdr), plen);
		free(iw.buf);
		uint64_t lb = kv->live_bytes, lk = kv->live_keys;
		free(kv->base.buf);
		free(kv->base.offs);
		free(kv->base.pfx);
		memset(&kv->base, 0, sizeof kv->base);
		mt_free_all(kv);
		rc = base_load(kv, &nb, p, plen, count, 0, err);
		if (rc)
			return rc;
		kv->base = nb;
		kv->live_bytes = lb;
		kv->live_keys = lk;
		kv->version++;
		return 0;
	}
	/* append the INDEX record at the end of the log */
	if ((rc = wr_flush(kv, &kv->log)) != 0)
		goto fail;
	iw.off = wr_end(&kv->log);
	if (count > UINT32_MAX) {
		rc = LFS_E_TOOBIG;
		goto fail;
	}
	uint8_t *p = NULL;
	size_t plen = 0;
	if ((rc = seal_index(kv, &iw, count, kv->synced_end, &p, &plen)) != 0)
		goto fail;
	uint64_t index_off = iw.off;
	if ((rc = wr_flush(kv, &iw)) != 0) {
		free(p);
		goto fail;
	}
	kv->log.off = iw.off;
	if (defer) {
		kv->ckpt_pending = 1;
		kv->ckpt_index_off = index_off;
		kv->ckpt_count = count;
		kv->ckpt_replay_off = kv->log.off;
		kv->dirty = 1;
	} else {
		if ((rc = kv->fops->fsync(kv->fops->ctx, kv->fd)) != 0
		    || (rc = slot_flip(kv, index_off, count, kv->log.off)) != 0) {
			free(p);
			goto fail;
		}
		kv->synced_end = kv->log.off;
		kv->ckpt_pending = 0;
		kv->st.syncs++;
		kv->dirty = 0;
	}
	/* the raw payload becomes the base */
	{
		free(iw.buf);
		iw.buf = NULL;
		uint64_t lb = kv->live_bytes, lk = kv->live_keys;
		struct base nb;
		base_free(kv, &kv->base);
		mt_free_all(kv);
		rc = base_load(kv, &nb, p, plen, count, index_off, err);
		if (rc) {
			kv->broken = rc;
			return rc;
		}
		kv->base = nb;
		kv->live_bytes = lb;
		kv->live_keys = lk;
		kv->version++;
	}
	remap(kv);
	return 0;
fail:
	free(iw.buf);
	kv->broken = rc;
	return lfs_seterr(err, rc, "checkpoint: %s", lfs_strerror(rc));
}

/* ------------------------------------------------------------ locking */
pid_t lfs_kv_lock_owner(const char *path)
{
	struct stat st;
	if (stat(path, &st))
		return 0;
	FILE *f = fopen("/proc/locks", "r");
	if (!f)
		return 0;
	char line[256];
	pid_t found = 0;
	while (fgets(line, sizeof line, f)) {
		char kind[16], adv[16], rw[16];
		int pid;
		unsigned maj, min;
		unsigned long ino;
		if (strstr(line, "->"))
			continue;
		if (sscanf(line, "%*d: %15s %15s %15s %d %x:%x:%lu", kind, adv, rw, &pid, &maj, &min, &ino) != 7)
			continue;
		if (strcmp(kind, "FLOCK") || strcmp(rw, "WRITE"))
			continue;
		if (ino == (unsigned long)st.st_ino && maj == major(st.st_dev) && min == minor(st.st_dev)) {
			found = pid;
			break;
		}
	}
	fclose(f);
	return found;
}

static int take_lock(int fd, const char *path, int excl, struct lfs_err *err)
{
	if (flock(fd, (excl ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return lfs_seterr(err, -errno, "flock: %s", strerror(errno));
	/* the holder may be between renaming a compacted file in and locking:
	 * look a few times */
	pid_t pid = 0;
	for (int i = 0; i < 20 && !(pid = lfs_kv_lock_owner(path)); i++)
		usleep(2000);
	if (pid)
		return lfs_seterr(err, LFS_E_LOCKED, "image is in use by pid %d", (int)pid);
	return lfs_seterr(err, LFS_E_LOCKED, "image is in use by another process");
}

/* ------------------------------------------------------------ replay */
static int apply_block(struct lfs_kv *kv, const uint8_t *raw, size_t rl, uint64_t boff, uint64_t foot, int count);

/* Is there a valid record after bad offset x claiming synced > x? */
static int durable_after(struct lfs_kv *kv, uint64_t x, uint64_t fsize)
{
	uint8_t *buf = malloc(1 << 16);
	int found = 0;
	if (!buf)
		return 0;
	for (uint64_t pos = x + KV_REC_ALIGN; pos + sizeof(struct kv_rhdr) <= fsize && !found;) {
		size_t n = fsize - pos > (1 << 16) ? (1 << 16) : (size_t)(fsize - pos);
		ssize_t r = kv->fops->pread(kv->fops->ctx, kv->fd, buf, n, (off_t)pos);
		if (r <= 0)
			break;
		n = (size_t)r;
		size_t i;
		for (i = 0; i + sizeof(struct kv_rhdr) <= n; i += KV_REC_ALIGN) {
			struct kv_rhdr h;
			memcpy(&h, buf + i, sizeof h);
			if (h.magic == KV_REC_MAGIC && h.hcrc == lfs_crc32c(0, &h, offsetof(struct kv_rhdr, hcrc))
			    && h.synced > x) {
				found = 1;
				break;
			}
		}
		if (n < sizeof(struct kv_rhdr))
			break;
		pos += i;
	}
	free(buf);
	return found;
}

static int replay_batch(struct lfs_kv *kv, const uint8_t *p, size_t len, uint32_t nops, uint64_t off,
			struct lfs_err *err)
{
	size_t pos = 0;
	for (uint32_t i = 0; i < nops; i++) {
		struct kv_ophdr o;
		if (len - pos < sizeof o)
			goto bad;
		memcpy(&o, p + pos, sizeof o);
		if (o.klen > LFS_KV_MAX_KEY || len - pos - sizeof o < (size_t)o.klen + o.slen)
			goto bad;
		const uint8_t *key = p + pos + sizeof o;
		const uint8_t *val = key + o.klen;
		uint64_t opoff = off + sizeof(struct kv_rhdr) + pos;
		int rc = 0;
		switch (o.type) {
		case KV_OP_PUT: {
			if (o.vlen > LFS_KV_MAX_VALUE || (o.flags & ~KV_OPF_ZSTD)
			    || (!(o.flags & KV_OPF_ZSTD) && o.slen != o.vlen))
				goto bad;
			struct loc l = { opoff, o.slen, o.vlen, o.flags, 0 };
			rc = apply_set(kv, key, o.klen, &l, 0);
			break;
		}
		case KV_OP_DEL:
			rc = apply_set(kv, key, o.klen, NULL, 1);
			break;
		case KV_OP_DELRANGE:
			if (o.slen > LFS_KV_MAX_KEY)
				goto bad;
			rc = apply_delrange(kv, key, o.klen, val, o.slen, o.flags & KV_OPF_HASHI);
			break;
		case KV_OP_BLOCK: {
			size_t rl;
			uint64_t foot;
			const char *why;
			rc = block_decode(kv, p + pos, len - pos, &kv->pbuf, &kv->pcap, &rl, &foot, &why);
			if (rc == LFS_E_CORRUPT)
				return lfs_seterr(err, rc, "record at offset %" PRIu64 ": %s at offset %" PRIu64, off, why, opoff);
			if (!rc)
				rc = apply_block(kv, kv->pbuf, rl, opoff, foot, 0);
			if (rc == LFS_E_CORRUPT)
				return lfs_seterr(err, rc, "record at offset %" PRIu64 ": malformed operation in the block at offset %" PRIu64,
						  off, opoff);
			break;
		}
		default:
			goto bad;
		}
		if (rc)
			return lfs_seterr(err, rc, "replay: %s", lfs_strerror(rc));
		pos += sizeof o + o.klen + o.slen;
	}
	if (pos != len)
		goto bad;
	return 0;
bad:
	return lfs_seterr(err, LFS_E_CORRUPT, "record at offset %" PRIu64 ": malformed operation", off);
}

/* Batches of a group seen in the log whose COMMIT has not been met yet. */
struct pend { uint64_t pos; uint32_t len, nops; };
struct pendv { struct pend *v; size_t n, cap; uint64_t first; };

static int pend_push(struct pendv *g, uint64_t pos, uint32_t len, uint32_t nops)
{
	if (lfs_grow(&g->v, &g->cap, g->n + 1, sizeof *g->v, 64) < 0)
		return -ENOMEM;
	if (!g->n)
		g->first = pos;
	g->v[g->n++] = (struct pend){ pos, len, nops };
	return 0;
}

/* A COMMIT met: apply the group's batches (read again, checked again). */
static int pend_apply(struct lfs_kv *kv, struct pendv *g, uint8_t **buf, size_t *cap, struct lfs_err *err)
{
	for (size_t i = 0; i < g->n; i++) {
		struct pend *b = &g->v[i];
		if (b->len > *cap) {
			uint8_t *nb = realloc(*buf, b->len);
			if (!nb)
				return lfs_seterr(err, -ENOMEM, "out of memory");
			*buf = nb;
			*cap = b->len;
		}
		struct kv_rhdr h;
		ssize_t r = kv->fops->pread(kv->fops->ctx, kv->fd, &h, sizeof h, (off_t)b->pos);
		ssize_t r2 = kv->fops->pread(kv->fops->ctx, kv->fd, *buf, b->len, (off_t)(b->pos + sizeof h));
		if (r != (ssize_t)sizeof h || r2 != (ssize_t)b->len || lfs_crc32c(0, *buf, b->len) != h.pcrc)
			return lfs_seterr(err, LFS_E_CORRUPT, "record at offset %" PRIu64 ": changed while "
					  "being read", b->pos);
		kv->st.file_bytes_read += b->len;
		int rc = replay_batch(kv, *buf, b->len, b->nops, b->pos, err);
		if (rc)
			return rc;
	}
	g->n = 0;
	return 0;
}

static int replay(struct lfs_kv *kv, uint64_t start, uint64_t fsize, uint64_t *end, struct lfs_err *err)
{
	size_t cap = 64u << 10;   /* grows to the largest record */
	uint8_t *buf = malloc(cap);
	uint64_t pos = start;
	struct pendv g = { 0 };
	int rc = 0;
	if (!buf)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	while (pos + sizeof(struct kv_rhdr) <= fsize) {
		struct kv_rhdr h;
		ssize_t r = kv->fops->pread(kv->fops->ctx, kv->fd, &h, sizeof h, (off_t)pos);
		if (r != (ssize_t)sizeof h)
			break;
		kv->st.file_bytes_read += sizeof h;
		if (h.magic != KV_REC_MAGIC || h.hcrc != lfs_crc32c(0, &h, offsetof(struct kv_rhdr, hcrc))
		    || (h.type != KV_REC_BATCH && h.type != KV_REC_INDEX && h.type != KV_REC_SYNC
			&& h.type != KV_REC_COMMIT)
		    || h.len > fsize - pos - sizeof h)
			goto bad;
		if (h.type == KV_REC_INDEX || h.type == KV_REC_SYNC) {
			/* a checkpoint whose header flip did not land: its contents
			 * are the records before it, already replayed; or a mark */
			pos += align8(sizeof h + h.len);
			kv->seq = h.seq + 1;
			continue;
		}
		if (h.len > cap) {
			uint8_t *nb = realloc(buf, h.len);
			if (!nb) {
				rc = lfs_seterr(err, -ENOMEM, "out of memory");
				goto out;
			}
			buf = nb;
			cap = h.len;
		}
		r = kv->fops->pread(kv->fops->ctx, kv->fd, buf, h.len, (off_t)(pos + sizeof h));
		if (r != (ssize_t)h.len)
			goto bad;
		kv->st.file_bytes_read += h.len;
		if (lfs_crc32c(0, buf, h.len) != h.pcrc)
			goto bad;
		if (h.type == KV_REC_COMMIT) {
			uint64_t first = 0;
			if (h.len == sizeof first)
				memcpy(&first, buf, sizeof first);
			if (!g.n || first != g.first) {
				rc = lfs_seterr(err, LFS_E_CORRUPT, "record at offset %" PRIu64 ": commit of a "
						"group that does not start at offset %" PRIu64, pos, first);
				goto out;
			}
			if ((rc = pend_apply(kv, &g, &buf, &cap, err)) != 0)
				goto out;
		} else if (h.flags & KV_RF_GROUP) {
			/* checked now, applied when (if) its COMMIT is met */
			if ((rc = pend_push(&g, pos, h.len, h.nops)) != 0) {
				rc = lfs_seterr(err, rc, "out of memory");
				goto out;
			}
		} else if (g.n) {
			rc = lfs_seterr(err, LFS_E_CORRUPT, "record at offset %" PRIu64 ": a batch inside the "
					"unterminated group at offset %" PRIu64, pos, g.first);
			goto out;
		} else {
			rc = replay_batch(kv, buf, h.len, h.nops, pos, err);
			if (rc)
				goto out;
		}
		kv->seq = h.seq + 1;
		if (h.synced > kv->synced_hint)
			kv->synced_hint = h.synced;
		pos += align8(sizeof h + h.len);
	}
	*end = pos > fsize ? fsize : pos;
	goto done;
bad:
	if (durable_after(kv, pos, fsize)) {
		rc = lfs_seterr(err, LFS_E_CORRUPT, "record at offset %" PRIu64 ": checksum mismatch (data after it was synced)", pos);
		goto out;
	}
	*end = pos;
done:
	/* a group that never committed (crash mid-command): none of it
	 * happened; a writer cuts the log where it began */
	if (g.n)
		*end = g.first;
out:
	free(g.v);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ open / close */
static int kv_init_new(struct lfs_kv *kv, struct lfs_err *err)
{
	struct kv_slot s;
	uint8_t zero[KV_LOG_START];
	memset(zero, 0, sizeof zero);
	ssize_t r = kv->fops->pwrite(kv->fops->ctx, kv->fd, zero, sizeof zero, 0);
	if (r != (ssize_t)sizeof zero)
		return lfs_seterr(err, r < 0 ? (int)r : -EIO, "cannot write header");
	kv->gen = 0;
	slot_fill(kv, &s, 0, 0, 0, KV_LOG_START);
	int rc = slot_write(kv, kv->fd, &s);
	if (!rc)
		rc = kv->fops->fsync(kv->fops->ctx, kv->fd);
	if (rc)
		return lfs_seterr(err, rc, "cannot write header: %s", lfs_strerror(rc));
	return 0;
}

static void fsync_dir(const char *path)
{
	char *d = strdup(path);
	if (!d)
		return;
	char *sl = strrchr(d, '/');
	const char *dir = ".";
	if (sl) {
		*sl = 0;
		dir = *d ? d : "/";
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(d);
}

static int load_slot_index(struct lfs_kv *kv, const struct kv_slot *s, uint64_t fsize, struct lfs_err *err)
{
	if (!s->index_off)
		return 0;
	struct kv_rhdr h;
	if (s->index_off + sizeof h > fsize)
		return lfs_seterr(err, LFS_E_CORRUPT, "index at offset %" PRIu64 " lies past the end of the image", s->index_off);
	ssize_t r = kv->fops->pread(kv->fops->ctx, kv->fd, &h, sizeof h, (off_t)s->index_off);
	if (r != (ssize_t)sizeof h || h.magic != KV_REC_MAGIC || h.type != KV_REC_INDEX
	    || h.hcrc != lfs_crc32c(0, &h, offsetof(struct kv_rhdr, hcrc)) || h.nops != s->index_count
	    || h.len > fsize - s->index_off - sizeof h)
		return lfs_seterr(err, LFS_E_CORRUPT, "index at offset %" PRIu64 ": bad record header", s->index_off);
	if (h.flags & ~KV_RF_ZSTD)
		return lfs_seterr(err, LFS_E_CORRUPT, "index at offset %" PRIu64 ": unknown flags", s->index_off);
	uint8_t *p = malloc(h.len ? h.len : 1);
	if (!p)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	r = kv->fops->pread(kv->fops->ctx, kv->fd, p, h.len, (off_t)(s->index_off + sizeof h));
	if (r != (ssize_t)h.len || lfs_crc32c(0, p, h.len) != h.pcrc) {
		free(p);
		return lfs_seterr(err, LFS_E_CORRUPT, "index at offset %" PRIu64 ": checksum mismatch", s->index_off);
	}
	kv->st.file_bytes_read += h.len + sizeof h;
	size_t plen = h.len;
	if (h.flags & KV_RF_ZSTD) {
		uint8_t *raw = NULL;
		int rc = index_inflate(kv, p, h.len, h.nops, &raw, &plen);
		free(p);
		if (rc == -ENOMEM)
			return lfs_seterr(err, rc, "out of memory");
		if (rc)
			return lfs_seterr(err, LFS_E_CORRUPT, "index at offset %" PRIu64 ": bad compressed data", s->index_off);
		p = raw;
	}
	struct base b;
	int rc = base_load(kv, &b, p, plen, h.nops, s->index_off, err);
	if (rc)
		return rc;
	/* live value bytes */
	for (size_t i = 0; i < b.n; i++) {
		const struct kv_ient *e = base_ent(&b, i);
		kv->raw_value_bytes += e->vlen;
		kv->stored_value_bytes += e->slen;
	}
	kv->base = b;
	return 0;
}

static void kv_reset_state(struct lfs_kv *kv)
{
	if (kv->memory && kv->root) {
		/* values owned by live memtable nodes (not moved to a base yet) */
		struct mnode *n = kv->root;
		while (n->l)
			n = n->l;
		for (; n; n = mt_next(n))
			if (!n->del)
				lfs_memval_free(kv->mval, (void *)(uintptr_t)n->loc.off, n->loc.vlen);
	}
	base_free(kv, &kv->base);
	mt_free_all(kv);
	kv->live_bytes = kv->live_keys = kv->raw_value_bytes = kv->stored_value_bytes = 0;
}

static int kv_open_file(struct lfs_kv *kv, const struct lfs_kv_opts *o, struct lfs_err *err)
{
	int writable = o->mode != LFS_KV_RDONLY;
	int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	int created = 0;
	struct stat st, st2;

	for (int tries = 0;; tries++) {
		kv->fd = open(kv->path, flags | (o->mode == LFS_KV_CREATE ? O_CREAT : 0), 0644);
		if (kv->fd < 0)
			return lfs_seterr(err, -errno, "%s", strerror(errno));
		if (!o->no_lock) {
			int rc = take_lock(kv->fd, kv->path, writable, err);
			if (rc)
				return rc;
		}
		/* compaction may have renamed a new file over the one we opened */
		if (fstat(kv->fd, &st) == 0 && stat(kv->path, &st2) == 0 && st.st_ino == st2.st_ino
		    && st.st_dev == st2.st_dev)
			break;
		close(kv->fd);
		kv->fd = -1;
		if (tries > 10)
			return lfs_seterr(err, -EAGAIN, "image keeps being replaced");
	}
	if (S_ISDIR(st.st_mode))
		return lfs_seterr(err, -EISDIR, "is a directory");
	uint64_t fsize = (uint64_t)st.st_size;
	if (fsize == 0 && o->mode == LFS_KV_CREATE) {
		kv->compress = o->compress;
		kv->level = o->level ? o->level : 3;
		kv->ctime = (uint64_t)time(NULL);
		int rc = kv_init_new(kv, err);
		if (rc)
			return rc;
		fsize = KV_LOG_START;
		created = 1;
	}
	if (created)
		fsync_dir(kv->path);
	if (fsize < KV_LOG_START) {
		char m[8];
		ssize_t r = kv->fops->pread(kv->fops->ctx, kv->fd, m, sizeof m, 0);
		if (r == (ssize_t)sizeof m && !memcmp(m, KV_MAGIC, 8))
			return lfs_seterr(err, LFS_E_CORRUPT, "image header is truncated (%" PRIu64 " bytes)", fsize);
		return lfs_seterr(err, LFS_E_BADMAGIC, "not a lightfs kv image");
	}
	struct kv_slot s[2];
	ssize_t r = kv->fops->pread(kv->fops->ctx, kv->fd, &s[0], sizeof s[0], KV_SLOT0);
	ssize_t r2 = kv->fops->pread(kv->fops->ctx, kv->fd, &s[1], sizeof s[1], KV_SLOT1);
	if (r != (ssize_t)sizeof s[0] || r2 != (ssize_t)sizeof s[1])
		return lfs_seterr(err, -EIO, "cannot read header");
	int why0 = 0, why1 = 0;
	int v0 = slot_valid(&s[0], &why0), v1 = slot_valid(&s[1], &why1);
	kv->slot_ver[0] = v0 ? s[0].version : 0;
	kv->slot_ver[1] = v1 ? s[1].version : 0;
	if (!v0 && !v1) {
		if (why0 == 2 || why1 == 2)
			return lfs_seterr(err, LFS_E_VERSION, "unsupported image version %u",
					  why0 == 2 ? s[0].version : s[1].version);
		if (why0 == 1 && why1 == 1)
			return lfs_seterr(err, LFS_E_BADMAGIC, "not a lightfs kv image");
		return lfs_seterr(err, LFS_E_CORRUPT, "both header slots are damaged");
	}
	/* order: newest valid first */
	int order[2], n = 0;
	if (v0 && v1) {
		order[0] = s[0].gen >= s[1].gen ? 0 : 1;
		order[1] = 1 - order[0];
		n = 2;
	} else {
		order[0] = v0 ? 0 : 1;
		n = 1;
	}
	int rc = 0;
	const struct kv_slot *use = NULL;
	uint64_t must_reach = 0;   /* a newer slot's index was durable: the log reaches it */
	for (int i = 0; i < n; i++) {
		kv_reset_state(kv);
		struct lfs_err e2 = { 0 };
		rc = load_slot_index(kv, &s[order[i]], fsize, i == 0 ? err : &e2);
		if (!rc) {
			use = &s[order[i]];
			break;
		}
		if (s[order[i]].index_off > must_reach)
			must_reach = s[order[i]].index_off;
	}
	if (!use)
		return rc;
	kv->gen = use->gen;
	kv->compress = (enum lfs_kv_compress)use->compress;
	kv->level = use->level;
	kv->seq = use->next_seq;
	kv->ctime = use->ctime;
	uint64_t end = use->replay_off;
	if (use->replay_off > fsize)
		return lfs_seterr(err, LFS_E_CORRUPT, "header points past the end of the image");
	rc = replay(kv, use->replay_off, fsize, &end, err);
	if (rc)
		return rc;
	if (end < must_reach)   /* not a torn tail: durable records are damaged */
		return lfs_seterr(err, LFS_E_CORRUPT, "record at offset %" PRIu64 ": damaged before the "
				  "checkpoint at offset %" PRIu64, end, must_reach);
	if (end < fsize && writable) {
		rc = kv->fops->ftruncate(kv->fops->ctx, kv->fd, (off_t)end);
		if (rc)
			return lfs_seterr(err, rc, "cannot cut the torn tail: %s", lfs_strerror(rc));
		if ((rc = kv->fops->fsync(kv->fops->ctx, kv->fd)) != 0)
			return lfs_seterr(err, rc, "fsync: %s", lfs_strerror(rc));
	}
	kv->log.fd = kv->fd;
	kv->log.off = end;
	kv->synced_end = end;
	kv->file_end = end;
	if (writable && kv->compress == LFS_KV_COMPRESS_ZSTD && kv->log.cap < kv->block_bytes + (256u << 10)) {
		/* a group's open record holds a block's worth of operations */
		uint8_t *nb = realloc(kv->log.buf, kv->block_bytes + (256u << 10));
		if (!nb)
			return lfs_seterr(err, -ENOMEM, "out of memory");
		kv->log.buf = nb;
		kv->log.cap = kv->block_bytes + (256u << 10);
	}
	for (int i = 0; i < 2 && writable && kv->compress == LFS_KV_COMPRESS_ZSTD
			&& (kv->slot_ver[0] == 1 || kv->slot_ver[1] == 1); i++) {
		/* a zstd image's next batch may hold BLOCKs, which a version-1
		 * reader would take for damage: both slots say version 2 first */
		if ((rc = slot_flip(kv, use->index_off, use->index_count, use->replay_off)) != 0)
			return lfs_seterr(err, rc, "cannot write header: %s", lfs_strerror(rc));
	}
	remap(kv);
	return 0;
}

int lfs_kv_open(const char *path, const struct lfs_kv_opts *opts, struct lfs_kv **out, struct lfs_err *err)
{
	struct lfs_kv_opts def = { .mode = LFS_KV_RDONLY };
	const struct lfs_kv_opts *o = opts ? opts : &def;
	*out = NULL;
	struct lfs_kv *kv = calloc(1, sizeof *kv);
	if (!kv)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	kv->fd = -1;
	kv->fops = o->fops ? o->fops : &real_fops;
	kv->opts = *o;
	kv->rdonly = o->mode == LFS_KV_RDONLY;
	kv->memory = o->mode == LFS_KV_MEMORY;
	kv->memtable_limit = o->memtable_bytes ? o->memtable_bytes : DEF_MEMTABLE;
	kv->compact_ratio = o->auto_compact_ratio > 0 ? o->auto_compact_ratio : 0.5;
	kv->block_bytes = o->block_bytes ? o->block_bytes : DEF_BLOCK_BYTES;
	if (kv->block_bytes < 4096)
		kv->block_bytes = 4096;
	if (kv->block_bytes > DEF_BLOCK_BYTES)
		kv->block_bytes = DEF_BLOCK_BYTES;
	kv->log.cap = WBUF_CAP;
	if (kv->memory) {
		kv->compress = LFS_KV_COMPRESS_NONE;
		kv->level = 0;
		kv->mval = lfs_memval_new();
		if (!kv->mval) {
			free(kv);
			return lfs_seterr(err, -ENOMEM, "out of memory");
		}
		*out = kv;
		return 0;
	}
	if (o->mode > LFS_KV_MEMORY) {
		free(kv);
		return lfs_seterr(err, -EINVAL, "bad open mode");
	}
	kv->path = strdup(path ? path : "");
	kv->log.buf = malloc(kv->log.cap);
	if (!kv->path || !kv->log.buf) {
		free(kv->path);
		free(kv->log.buf);
		free(kv);
		return lfs_seterr(err, -ENOMEM, "out of memory");
	}
	int rc = kv_open_file(kv, o, err);
	if (rc) {
		kv_reset_state(kv);
		if (kv->fd >= 0)
			close(kv->fd);
		if (kv->map)
			munmap((void *)kv->map, kv->map_len);
		if (kv->dctx)
			ZSTD_freeDCtx(kv->dctx);
		for (int i = 0; i < KV_BCACHE_N; i++)
			free(kv->bc[i].buf);
		free(kv->path);
		free(kv->log.buf);
		free(kv->sbuf);
		free(kv->pbuf);
		free(kv->fbuf);
		free(kv);
		return rc;
	}
	*out = kv;
	return 0;
}

int lfs_kv_sync(struct lfs_kv *kv, struct lfs_err *err)
{
	if (kv->memory || kv->rdonly)
		return 0;
	if (kv->broken)
		return lfs_seterr(err, kv->broken, "image write failed earlier: %s", lfs_strerror(kv->broken));
	if (!kv->dirty && !kv->log.len)
		return 0;
	if (kv->grp_depth && kv->open_rec && kv->compress == LFS_KV_COMPRESS_ZSTD)
		return 0;   /* zstd: the open group record grows to a block (see below) */
	int rc = wr_flush(kv, &kv->log);
	if (kv->grp_depth) {
		/* inside a group: written, but nothing of it is durable before
		 * its COMMIT, whose sync covers it (an fsync here buys nothing) */
		if (rc) {
			kv->broken = rc;
			return lfs_seterr(err, rc, "write: %s", lfs_strerror(rc));
		}
		return 0;
	}
	if (!rc)
		rc = kv->fops->fsync(kv->fops->ctx, kv->fd);
	if (rc) {
		kv->broken = rc;
		return lfs_seterr(err, rc, "sync: %s", lfs_strerror(rc));
	}
	kv->synced_end = wr_end(&kv->log);
	kv->dirty = 0;
	kv->st.syncs++;
	if (kv->ckpt_pending) {
		/* a deferred checkpoint: its INDEX is durable now, name it */
		rc = slot_flip(kv, kv->ckpt_index_off, kv->ckpt_count, kv->ckpt_replay_off);
		if (rc) {
			kv->broken = rc;
			return lfs_seterr(err, rc, "sync: header: %s", lfs_strerror(rc));
		}
		kv->ckpt_pending = 0;
	}
	/* A SYNC mark (header only) states that everything before it is durable,
	 * so a later bit flip in a synced record reads as corruption, not as a
	 * torn tail, even when nothing is written after this sync.  It is not
	 * synced itself: if it is lost, nothing depends on it. */
	rc = wr_reserve(kv, &kv->log, sizeof(struct kv_rhdr) + KV_REC_ALIGN);
	if (!rc) {
		size_t start = kv->log.len;
		kv->log.len += sizeof(struct kv_rhdr);
		wr_seal(kv, &kv->log, start, KV_REC_SYNC, 0, kv->synced_end);
		rc = wr_flush(kv, &kv->log);
	}
	if (rc) {
		kv->broken = rc;
		return lfs_seterr(err, rc, "write: %s", lfs_strerror(rc));
	}
	return 0;
}

int lfs_kv_close(struct lfs_kv *kv)
{
	int rc = 0;
	if (!kv)
		return 0;
	if (kv->grp_depth && !kv->memory && !kv->rdonly && !kv->broken) {
		/* close ends an open group the way commit does */
		kv->grp_depth = 1;
		rc = lfs_kv_group_commit(kv, 0, NULL);
	}
	kv->grp_depth = 0;
	if (!rc && !kv->memory && !kv->rdonly && !kv->broken) {
		if (kv->mt_count)
			rc = do_checkpoint(kv, NULL);
		else
			rc = lfs_kv_sync(kv, NULL);
	}
	if (kv->broken && !rc)
		rc = kv->broken;
	kv_reset_state(kv);
	lfs_prefill_free(kv->arena_pf);
	lfs_memval_destroy(kv->mval);
	if (kv->map)
		munmap((void *)kv->map, kv->map_len);
	if (kv->fd >= 0)
		close(kv->fd);
	if (kv->cctx)
		ZSTD_freeCCtx(kv->cctx);
	if (kv->dctx)
		ZSTD_freeDCtx(kv->dctx);
	for (int i = 0; i < KV_BCACHE_N; i++)
		free(kv->bc[i].buf);
	free(kv->path);
	free(kv->log.buf);
	free(kv->sbuf);
	free(kv->cbuf);
	free(kv->pbuf);
	free(kv->br);
	free(kv->rbuf);
	free(kv->gbuf);
	free(kv->fbuf);
	free(kv);
	return rc;
}

/* ------------------------------------------------------------ batches */
/* A batch holds its operations already in the on-disk BATCH payload format
 * (checksummed at commit), after room for the record header: an
 * uncompressed commit writes it to the file as it is.  A by-reference put
 * (a cache page in writeback) keeps only its operation header and key in
 * the buffer; its value stays where it is until the commit, which writes it
 * from there (pwritev) or copies it (batch_flatten). */
#define BHDR sizeof(struct kv_rhdr)
struct lfs_kv_batch {
	uint8_t *buf;       /* [BHDR bytes of room][ops ...][KV_REC_ALIGN spare] */
	size_t len, cap;    /* len: bytes after the room (by-reference values not in it) */
	size_t reflen;      /* value bytes of the by-reference puts (payload = len + reflen) */
	size_t count;
	size_t bytes;       /* key + value bytes */
	struct bref {        /* by-reference puts, in order */
		size_t at;
		const void *val;
		uint32_t crc;       /* has_crc: CRC32C of the value, given by the caller */
		int has_crc;
	} *refs;
	size_t nrefs, caprefs;
};

struct lfs_kv_batch *lfs_kv_batch_new(void)
{
	return calloc(1, sizeof(struct lfs_kv_batch));
}

static int batch_room(struct lfs_kv_batch *b, size_t need)
{
	return lfs_grow(&b->buf, &b->cap, BHDR + b->len + need + KV_REC_ALIGN, 1, 4096);
}

static int put_ref(struct lfs_kv_batch *b, const void *key, size_t klen, const void *val,
		   size_t vlen, const uint32_t *vcrc)
{
	if (klen > LFS_KV_MAX_KEY || vlen > LFS_KV_MAX_VALUE)
		return LFS_E_TOOBIG;
	size_t need = sizeof(struct kv_ophdr) + klen;
	if (batch_room(b, need))
		return -ENOMEM;
	if (lfs_grow(&b->refs, &b->caprefs, b->nrefs + 1, sizeof *b->refs, 64) < 0)
		return -ENOMEM;
	uint8_t *dst = b->buf + BHDR + b->len;
	struct kv_ophdr o = { .type = KV_OP_PUT, .klen = (uint16_t)klen, .slen = (uint32_t)vlen,
			      .vlen = (uint32_t)vlen };
	memcpy(dst, &o, sizeof o);
	if (klen)
		memcpy(dst + sizeof o, key, klen);
	b->refs[b->nrefs++] = (struct bref){ b->len, val, vcrc ? *vcrc : 0, vcrc != NULL };
	b->len += need;
	b->reflen += vlen;
	b->count++;
	b->bytes += klen + vlen;
	return 0;
}

int lfs_kv_batch_put_ref(struct lfs_kv_batch *b, const void *key, size_t klen, const void *val,
			 size_t vlen)
{
	return put_ref(b, key, klen, val, vlen, NULL);
}

int lfs_kv_batch_put_ref_crc(struct lfs_kv_batch *b, const void *key, size_t klen, const void *val,
			     size_t vlen, uint32_t vcrc)
{
	return put_ref(b, key, klen, val, vlen, &vcrc);
}

/* Walking a batch buffer: the operation at buffer position pos, its value
 * (in the buffer, or the by-reference one: *r indexes b->refs, *ref is set
 * to it, else NULL) and the buffer position of the next operation. */
static const uint8_t *batch_op(const struct lfs_kv_batch *b, size_t pos, size_t *r,
			       struct kv_ophdr *o, size_t *next, const struct bref **ref)
{
	const uint8_t *ops = b->buf + BHDR;
	memcpy(o, ops + pos, sizeof *o);
	const uint8_t *val = ops + pos + sizeof *o + o->klen;
	size_t adv = sizeof *o + o->klen + o->slen;
	*ref = NULL;
	if (*r < b->nrefs && b->refs[*r].at == pos) {
		*ref = &b->refs[(*r)++];
		val = (*ref)->val;
		adv -= o->slen;
	}
	*next = pos + adv;
	return val;
}

/* Every operation's CRC, in its header in the buffer (values read where
 * they are; a value whose CRC the caller gave is not read at all). */
static void batch_crcs(struct lfs_kv_batch *b)
{
	uint8_t *ops = b->buf + BHDR;
	size_t r = 0;
	for (size_t pos = 0, next; pos < b->len; pos = next) {
		struct kv_ophdr o;
		const struct bref *ref;
		const uint8_t *val = batch_op(b, pos, &r, &o, &next, &ref);
		uint32_t c = lfs_crc32c(0, &o, offsetof(struct kv_ophdr, crc));
		c = lfs_crc32c(c, ops + pos + sizeof o, o.klen);
		o.crc = ref && ref->has_crc ? lfs_crc32c_combine(c, ref->crc, o.slen)
					    : lfs_crc32c(c, val, o.slen);
		memcpy(ops + pos + offsetof(struct kv_ophdr, crc), &o.crc, sizeof o.crc);
	}
}

/* The payload made contiguous at dst (len + reflen bytes), each
 * by-reference value copied and (crc: for an image file) checksummed in
 * the same pass; every operation's CRC set in dst. */
static void batch_flatten(const struct lfs_kv_batch *b, uint8_t *dst, int crc)
{
	const uint8_t *ops = b->buf + BHDR;
	size_t r = 0, q = 0;
	for (size_t pos = 0, next; pos < b->len; pos = next) {
		struct kv_ophdr o;
		const struct bref *ref;
		const uint8_t *val = batch_op(b, pos, &r, &o, &next, &ref);
		size_t hk = sizeof o + o.klen;
		memcpy(dst + q, ops + pos, hk);
		if (crc && !(ref && ref->has_crc)) {
			uint32_t c = lfs_crc32c(0, &o, offsetof(struct kv_ophdr, crc));
			c = lfs_crc32c(c, ops + pos + sizeof o, o.klen);
			o.crc = ref ? lfs_crc32c_copy(c, dst + q + hk, val, o.slen)
				    : lfs_crc32c(c, val, o.slen);
			if (!ref)
				memcpy(dst + q + hk, val, o.slen);
			memcpy(dst + q + offsetof(struct kv_ophdr, crc), &o.crc, sizeof o.crc);
		} else {
			if (crc) {
				uint32_t c = lfs_crc32c(0, &o, offsetof(struct kv_ophdr, crc));
				c = lfs_crc32c(c, ops + pos + sizeof o, o.klen);
				o.crc = lfs_crc32c_combine(c, ref->crc, o.slen);
				memcpy(dst + q + offsetof(struct kv_ophdr, crc), &o.crc, sizeof o.crc);
			}
			if (o.slen)
				memcpy(dst + q + hk, val, o.slen);
		}
		q += hk + o.slen;
	}
}

static int batch_add(struct lfs_kv_batch *b, uint8_t type, uint8_t flags, const void *k, size_t kl,
		     const void *v, size_t vl)
{
	if (batch_room(b, sizeof(struct kv_ophdr) + kl + vl))
		return -ENOMEM;
	b->len += put_op(NULL, b->buf + BHDR + b->len, type, flags, k, kl, v, vl, vl);
	b->count++;
	b->bytes += kl + vl;
	return 0;
}

int lfs_kv_batch_put(struct lfs_kv_batch *b, const void *key, size_t klen, const void *val, size_t vlen)
{
	if (klen > LFS_KV_MAX_KEY || vlen > LFS_KV_MAX_VALUE)
		return LFS_E_TOOBIG;
	return batch_add(b, KV_OP_PUT, 0, key, klen, val, vlen);
}

int lfs_kv_batch_del(struct lfs_kv_batch *b, const void *key, size_t klen)
{
	if (klen > LFS_KV_MAX_KEY)
		return LFS_E_TOOBIG;
	return batch_add(b, KV_OP_DEL, 0, key, klen, NULL, 0);
}

int lfs_kv_batch_del_range(struct lfs_kv_batch *b, const void *lo, size_t lolen, const void *hi, size_t hilen)
{
	if (lolen > LFS_KV_MAX_KEY || (hi && hilen > LFS_KV_MAX_KEY))
		return LFS_E_TOOBIG;
	return batch_add(b, KV_OP_DELRANGE, hi ? KV_OPF_HASHI : 0, lo, lolen, hi, hi ? hilen : 0);
}

size_t lfs_kv_batch_count(const struct lfs_kv_batch *b)
{
	return b->count;
}
size_t lfs_kv_batch_bytes(const struct lfs_kv_batch *b)
{
	return b->bytes;
}
void lfs_kv_batch_clear(struct lfs_kv_batch *b)
{
	b->len = b->reflen = b->count = b->bytes = b->nrefs = 0;
}
void lfs_kv_batch_free(struct lfs_kv_batch *b)
{
	if (b) {
		free(b->buf);
		free(b->refs);
		free(b);
	}
}

/* Compress val into kv->cbuf when it pays; returns stored length and sets *sv. */
static size_t maybe_compress(struct lfs_kv *kv, const void *val, size_t vlen, const void **sv, uint8_t *flags)
{
	*sv = val;
	*flags = 0;
	if (kv->compress != LFS_KV_COMPRESS_ZSTD || vlen < 64)
		return vlen;
	size_t bound = ZSTD_compressBound(vlen);
	if (bound > kv->ccap) {
		uint8_t *nb = realloc(kv->cbuf, bound);
		if (!nb)
			return vlen;
		kv->cbuf = nb;
		kv->ccap = bound;
	}
	if (cctx_get(kv))
		return vlen;
	size_t r = ZSTD_compressCCtx(kv->cctx, kv->cbuf, kv->ccap, val, vlen, kv->level);
	if (ZSTD_isError(r) || r >= vlen)
		return vlen;
	*sv = kv->cbuf;
	*flags = KV_OPF_ZSTD;
	return r;
}

/* ---- compressed blocks (zstd images) ---- */
#define BLOCK_MIN_BATCH 256u       /* smaller batches: values compressed one by one */

static int pbuf_room(struct lfs_kv *kv, size_t need)
{
	return lfs_grow(&kv->pbuf, &kv->pcap, need, 1, 1u << 16);
}

/* Compress raw operations into one frame at dst (cap bytes): the window
 * covers the whole block.  Returns the frame size or 0 when it fails. */
static size_t block_compress(struct lfs_kv *kv, uint8_t *dst, size_t cap, const uint8_t *src, size_t n)
{
	if (cctx_get(kv))
		return 0;
	unsigned wlog = 10;
	while (wlog < 23 && ((size_t)1 << wlog) < n)
		wlog++;
	ZSTD_CCtx_reset(kv->cctx, ZSTD_reset_session_and_parameters);
	if (ZSTD_isError(ZSTD_CCtx_setParameter(kv->cctx, ZSTD_c_compressionLevel, kv->level))
	    || ZSTD_isError(ZSTD_CCtx_setParameter(kv->cctx, ZSTD_c_windowLog, (int)wlog))
	    || ZSTD_isError(ZSTD_CCtx_setParameter(kv->cctx, ZSTD_c_checksumFlag, 1))
	    || ZSTD_isError(ZSTD_CCtx_setParameter(kv->cctx, ZSTD_c_enableLongDistanceMatching, 1)))
		return 0;
	size_t c = ZSTD_compress2(kv->cctx, dst, cap, src, n);
	ZSTD_CCtx_reset(kv->cctx, ZSTD_reset_session_and_parameters);
	return ZSTD_isError(c) ? 0 : c;
}

/* Fill a BLOCK operation header for the c-byte frame that follows it. */
static void block_hdr(uint8_t *dst, size_t c, size_t raw)
{
	struct kv_ophdr o;
	o.type = KV_OP_BLOCK;
	o.flags = 0;
	o.klen = 0;
	o.slen = (uint32_t)c;
	o.vlen = (uint32_t)raw;
	o.crc = lfs_crc32c(lfs_crc32c(0, &o, offsetof(struct kv_ophdr, crc)), dst + sizeof o, c);
	memcpy(dst, &o, sizeof o);
}

/* Append one operation (from a batch: values raw) to kv->pbuf at *out, its
 * value compressed alone when that pays. */
static int emit_op(struct lfs_kv *kv, const uint8_t *op, size_t *out)
{
	struct kv_ophdr o;
	memcpy(&o, op, sizeof o);
	size_t n = sizeof o + o.klen + o.slen;
	if (pbuf_room(kv, *out + n))
		return -ENOMEM;
	if (o.type != KV_OP_PUT) {
		memcpy(kv->pbuf + *out, op, n);
		*out += n;
		return 0;
	}
	const void *sv;
	uint8_t fl;
	size_t sl = maybe_compress(kv, op + sizeof o + o.klen, o.vlen, &sv, &fl);
	*out += put_op(kv, kv->pbuf + *out, KV_OP_PUT, fl, op + sizeof o, o.klen, sv, sl, o.vlen);
	return 0;
}

/* Append the run of operations [ops, ops + n) (nops of them) as one BLOCK,
 * or one by one when the block would not be smaller. */
static int emit_run(struct lfs_kv *kv, const uint8_t *ops, size_t n, size_t nops, size_t *out, uint32_t *top)
{
	if (nops > 1) {
		size_t cap = ZSTD_compressBound(n);
		if (pbuf_room(kv, *out + sizeof(struct kv_ophdr) + cap))
			return -ENOMEM;
		/* inside a block an operation's CRC is 0: the block's covers it */
		uint8_t *raw = kv->rbuf + kv->rlen;
		memcpy(raw, ops, n);
		for (size_t pos = 0; pos < n;) {
			struct kv_ophdr o;
			memcpy(&o, raw + pos, sizeof o);
			o.crc = 0;
			memcpy(raw + pos, &o, sizeof o);
			pos += sizeof o + o.klen + o.slen;
		}
		size_t c = block_compress(kv, kv->pbuf + *out + sizeof(struct kv_ophdr), cap, raw, n);
		if (c && sizeof(struct kv_ophdr) + c < n) {
			if (lfs_grow(&kv->br, &kv->cbr, kv->nbr + 1, sizeof *kv->br, 16) < 0)
				return -ENOMEM;
			kv->br[kv->nbr++] = (struct blkref){ *out, raw, n };
			kv->rlen += n;
			block_hdr(kv->pbuf + *out, c, n);
			*out += sizeof(struct kv_ophdr) + c;
			(*top)++;
			return 0;
		}
	}
	for (size_t pos = 0; pos < n;) {
		struct kv_ophdr o;
		memcpy(&o, ops + pos, sizeof o);
		int rc = emit_op(kv, ops + pos, out);
		if (rc)
			return rc;
		pos += sizeof o + o.klen + o.slen;
		(*top)++;
	}
	return 0;
}

/* The stored payload of a zstd image's batch, in kv->pbuf: runs of small
 * operations as BLOCKs of up to block_bytes raw (kv->br names them), the
 * rest one by one; with by_kind a run also ends where the first byte of the
 * keys changes (a read of an inode record then decompresses a block of
 * records, not one of pages).  *nops: operations at the top level. */
static int encode_payload2(struct lfs_kv *kv, const uint8_t *ops, size_t len, size_t count, size_t *plen,
			   uint32_t *nops, int by_kind)
{
	size_t out = 0, run = 0, run_ops = 0;
	uint32_t top = 0;
	int rc, blocks = count >= 2 && len >= BLOCK_MIN_BATCH;
	kv->nbr = 0;
	kv->rlen = 0;
	if (blocks && len > kv->rcap) {
		/* the raw operations of every block of this batch, until applied */
		uint8_t *nb = realloc(kv->rbuf, len);
		if (!nb)
			return -ENOMEM;
		kv->rbuf = nb;
		kv->rcap = len;
	}
	for (size_t pos = 0; pos < len;) {
		struct kv_ophdr o;
		memcpy(&o, ops + pos, sizeof o);
		size_t sz = sizeof o + o.klen + o.slen;
		int small = blocks && sz <= kv->block_bytes / 2;
		int kind_change = by_kind && run < pos && o.klen && ops[run + sizeof o] != ops[pos + sizeof o];
		if (run < pos && (!small || kind_change || pos + sz - run > kv->block_bytes)) {
			if ((rc = emit_run(kv, ops + run, pos - run, run_ops, &out, &top)) != 0)
				return rc;
			run = pos;
			run_ops = 0;
		}
		pos += sz;
		if (!small) {
			if ((rc = emit_op(kv, ops + run, &out)) != 0)
				return rc;
			top++;
			run = pos;
		} else {
			run_ops++;
		}
	}
	if (run < len && (rc = emit_run(kv, ops + run, len - run, run_ops, &out, &top)) != 0)
		return rc;
	*plen = out;
	*nops = top;
	return 0;
}

static int encode_payload(struct lfs_kv *kv, const uint8_t *ops, size_t len, size_t count, size_t *plen,
			  uint32_t *nops)
{
	return encode_payload2(kv, ops, len, count, plen, nops, 0);
}

/* Apply the raw operations of the BLOCK at file offset boff (foot: its
 * size in the file).  0, LFS_E_CORRUPT when malformed, or -ENOMEM. */
static int apply_block(struct lfs_kv *kv, const uint8_t *raw, size_t rl, uint64_t boff, uint64_t foot, int count)
{
	for (size_t pos = 0; pos < rl;) {
		struct kv_ophdr o;
		if (rl - pos < sizeof o)
			return LFS_E_CORRUPT;
		memcpy(&o, raw + pos, sizeof o);
		if (o.klen > LFS_KV_MAX_KEY || rl - pos - sizeof o < (size_t)o.klen + o.slen)
			return LFS_E_CORRUPT;
		size_t sz = sizeof o + o.klen + o.slen;
		const uint8_t *k = raw + pos + sizeof o, *v = k + o.klen;
		int rc;
		switch (o.type) {
		case KV_OP_PUT: {
			if (o.flags || o.slen != o.vlen || o.vlen > LFS_KV_MAX_VALUE)
				return LFS_E_CORRUPT;
			struct loc l = { boff, block_share(sz, foot, rl), o.vlen, KV_OPF_BLOCK, (uint32_t)pos };
			rc = apply_set(kv, k, o.klen, &l, 0);
			if (count) {
				kv->st.puts++;
				kv->st.bytes_put += o.klen + o.vlen;
			}
			break;
		}
		case KV_OP_DEL:
			rc = apply_set(kv, k, o.klen, NULL, 1);
			kv->st.dels += count;
			break;
		case KV_OP_DELRANGE:
			if (o.slen > LFS_KV_MAX_KEY || (o.flags & ~KV_OPF_HASHI))
				return LFS_E_CORRUPT;
			rc = apply_delrange(kv, k, o.klen, v, o.slen, o.flags & KV_OPF_HASHI);
			kv->st.range_dels += count;
			break;
		default:
			return LFS_E_CORRUPT;
		}
		if (rc)
			return rc;
		pos += sz;
	}
	return 0;
}

static int maybe_auto(struct lfs_kv *kv, struct lfs_err *err);
static int grp_prepare(struct lfs_kv *kv, struct lfs_err *err);
static int grp_append(struct lfs_kv *kv, const uint8_t *ops, size_t len, size_t count);

/* One PUT, DEL or DELRANGE of a batch applied to the memtable and counted.
 * A PUT's value is where *l says (a file image) or, in memory mode, copied
 * from v into the value pool (l is then set to the copy). */
static int apply_op(struct lfs_kv *kv, const struct kv_ophdr *o, const uint8_t *k,
		    const uint8_t *v, struct loc *l)
{
	int rc;
	switch (o->type) {
	case KV_OP_PUT:
		if (kv->memory) {
			void *copy = lfs_memval_alloc(kv->mval, o->vlen);
			if (!copy)
				return -ENOMEM;
			if (o->vlen)
				memcpy(copy, v, o->vlen);
			*l = (struct loc){ (uint64_t)(uintptr_t)copy, o->slen, o->vlen, 0, 0 };
			rc = apply_set(kv, k, o->klen, l, 0);
			if (rc)
				lfs_memval_free(kv->mval, copy, o->vlen);
		} else {
			rc = apply_set(kv, k, o->klen, l, 0);
		}
		kv->st.puts++;
		kv->st.bytes_put += o->klen + o->vlen;
		return rc;
	case KV_OP_DEL:
		kv->st.dels++;
		return apply_set(kv, k, o->klen, NULL, 1);
	case KV_OP_DELRANGE:
		kv->st.range_dels++;
		return apply_delrange(kv, k, o->klen, v, o->slen, o->flags & KV_OPF_HASHI);
	default:
		return -EIO;               /* a BLOCK is not applied op by op */
	}
}

/* Apply the operations of a payload (as written at file offset pay_off;
 * ignored in memory mode) to the memtable. */
static int apply_payload(struct lfs_kv *kv, const uint8_t *pay, size_t len, uint64_t pay_off)
{
	for (size_t pos = 0; pos < len;) {
		struct kv_ophdr o;
		memcpy(&o, pay + pos, sizeof o);
		const uint8_t *k = pay + pos + sizeof o, *v = k + o.klen;
		int rc;
		if (o.type != KV_OP_BLOCK) {
			struct loc l = { pay_off + pos, o.slen, o.vlen, o.flags, 0 };
			rc = apply_op(kv, &o, k, v, &l);
		} else {
			/* encode_payload kept its raw operations */
			rc = -EIO;
			for (size_t i = 0; i < kv->nbr; i++)
				if (kv->br[i].pos == pos) {
					rc = apply_block(kv, kv->br[i].raw, kv->br[i].len, pay_off + pos,
							 sizeof o + o.slen, 1);
					break;
				}
		}
		if (rc)
			return rc;
		pos += sizeof o + o.klen + o.slen;
	}
	return 0;
}

/* Fill the record header at hdr for the payload that follows it; zero the
 * padding.  Returns the padded record size. */
/* CRC32C of a BATCH payload built by put_op (each operation's crc field
 * covers bytes 0..11 of its header, the key and the value): derived from
 * those crcs by combination (lfs_crc32c_combine), without a second pass
 * over the values.  For an operation X = h12 k v, Y = h16 k v:
 * crc(Y) = crc(X) ^ shift_{|k v|}(crc(h12) ^ crc(h16)). */
static uint32_t payload_crc_from_ops(const uint8_t *ops, size_t len)
{
	uint32_t c = 0;
	for (size_t pos = 0; pos < len;) {
		struct kv_ophdr o;
		memcpy(&o, ops + pos, sizeof o);
		size_t kvlen = (size_t)o.klen + o.slen;
		uint32_t fix = lfs_crc32c(0, ops + pos, offsetof(struct kv_ophdr, crc)) ^
			       lfs_crc32c(0, ops + pos, sizeof o);
		uint32_t cy = o.crc ^ lfs_crc32c_combine(fix, 0, kvlen);
		c = lfs_crc32c_combine(c, cy, sizeof o + kvlen);
		pos += sizeof o + kvlen;
	}
	return c;
}

static size_t seal_at2(struct lfs_kv *kv, uint8_t *hdr, size_t plen, uint8_t type, uint32_t nops,
		       uint64_t synced, int from_ops);
static size_t seal_at(struct lfs_kv *kv, uint8_t *hdr, size_t plen, uint8_t type, uint32_t nops, uint64_t synced)
{
	return seal_at2(kv, hdr, plen, type, nops, synced, 0);
}

/* The record header at hdr for a payload of plen bytes with CRC pcrc (the
 * payload itself need not follow it in memory).  Returns the padded record
 * size. */
static size_t seal_hdr(struct lfs_kv *kv, uint8_t *hdr, size_t plen, uint8_t type, uint32_t nops,
		       uint64_t synced, uint32_t pcrc)
{
	struct kv_rhdr h;
	memset(&h, 0, sizeof h);
	h.magic = KV_REC_MAGIC;
	h.type = type;
	if (type == KV_REC_BATCH && kv->grp_depth)
		h.flags = KV_RF_GROUP;
	h.len = (uint32_t)plen;
	h.nops = nops;
	h.seq = kv->seq++;
	h.synced = synced;
	h.pcrc = pcrc;
	h.hcrc = lfs_crc32c(0, &h, offsetof(struct kv_rhdr, hcrc));
	memcpy(hdr, &h, sizeof h);
	return align8(sizeof h + plen);
}

/* from_ops: the payload is operations with valid crc fields (payload_crc_from_ops). */
static size_t seal_at2(struct lfs_kv *kv, uint8_t *hdr, size_t plen, uint8_t type, uint32_t nops,
		       uint64_t synced, int from_ops)
{
	const uint8_t *pay = hdr + sizeof(struct kv_rhdr);
	size_t total = seal_hdr(kv, hdr, plen, type, nops, synced,
				from_ops ? payload_crc_from_ops(pay, plen) : lfs_crc32c(0, pay, plen));
	memset(hdr + sizeof(struct kv_rhdr) + plen, 0, total - sizeof(struct kv_rhdr) - plen);
	return total;
}

/* payload_crc_from_ops over a batch whose by-reference values are not in
 * its buffer (the operations' crc fields set: batch_crcs). */
static uint32_t batch_payload_crc(const struct lfs_kv_batch *b)
{
	const uint8_t *ops = b->buf + BHDR;
	uint32_t c = 0;
	size_t r = 0;
	for (size_t pos = 0, next; pos < b->len; pos = next) {
		struct kv_ophdr o;
		const struct bref *ref;
		batch_op(b, pos, &r, &o, &next, &ref);
		size_t kvlen = (size_t)o.klen + o.slen;
		uint32_t fix = lfs_crc32c(0, ops + pos, offsetof(struct kv_ophdr, crc)) ^
			       lfs_crc32c(0, ops + pos, sizeof o);
		uint32_t cy = o.crc ^ lfs_crc32c_combine(fix, 0, kvlen);
		c = lfs_crc32c_combine(c, cy, sizeof o + kvlen);
	}
	return c;
}

/* After a BATCH record was written and applied: flush a half-full log
 * buffer, sync, checkpoint or compact when due. */
static int commit_done(struct lfs_kv *kv, int sync, struct lfs_err *err)
{
	struct wr *w = &kv->log;
	int rc;
	if (w->len >= w->cap / 2 && !sync && (rc = wr_flush(kv, w)) != 0) {
		kv->broken = rc;
		return lfs_seterr(err, rc, "write: %s", lfs_strerror(rc));
	}
	if (sync && (rc = lfs_kv_sync(kv, err)) != 0)
		return rc;
	if (kv->grp_depth)
		return 0;   /* checkpoints and compaction wait for the group's commit */
	if (kv->mt_bytes > kv->memtable_limit) {
		rc = do_checkpoint2(kv, !sync, err);
		if (rc)
			return rc;
	}
	return maybe_auto(kv, err);
}

/* pwritev of n iovecs at off, all of them (a short write goes on). */
static int pwritev_all(int fd, struct iovec *iov, int n, uint64_t off)
{
	while (n > 0) {
		ssize_t r = pwritev(fd, iov, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		off += (uint64_t)r;
		size_t left = (size_t)r;
		while (n > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

/* Write the sealed record of batch b (header in its room, then the payload,
 * then pad zero bytes) at off: the buffer's runs between by-reference
 * values, and the values from where they are. */
#define WREF_IOV 256
static int write_refs(struct lfs_kv *kv, const struct lfs_kv_batch *b, size_t pad, uint64_t off)
{
	static const uint8_t zeros[KV_REC_ALIGN];
	struct iovec iov[WREF_IOV];
	int n = 0, rc;
	size_t from = 0;            /* buffer bytes [from, ...) not yet in an iovec */
	for (size_t r = 0; r < b->nrefs; r++) {
		struct kv_ophdr o;
		size_t at = BHDR + b->refs[r].at;
		memcpy(&o, b->buf + at, sizeof o);
		size_t end = at + sizeof o + o.klen;
		iov[n++] = (struct iovec){ b->buf + from, end - from };
		iov[n++] = (struct iovec){ (void *)b->refs[r].val, o.slen };
		from = end;
		if (n + 2 > WREF_IOV) {
			uint64_t len = 0;
			for (int i = 0; i < n; i++)
				len += iov[i].iov_len;
			if ((rc = pwritev_all(kv->fd, iov, n, off)) != 0)
				return rc;
			off += len;
			n = 0;
		}
	}
	if (BHDR + b->len > from)
		iov[n++] = (struct iovec){ b->buf + from, BHDR + b->len - from };
	if (pad)
		iov[n++] = (struct iovec){ (void *)zeros, pad };
	return n ? pwritev_all(kv->fd, iov, n, off) : 0;
}

/* apply_payload for a batch whose by-reference values are not in its
 * buffer: pay_off is the file offset of its payload. */
static int apply_refs(struct lfs_kv *kv, const struct lfs_kv_batch *b, uint64_t pay_off)
{
	const uint8_t *ops = b->buf + BHDR;
	size_t r = 0, fpos = 0;
	for (size_t pos = 0, next; pos < b->len; pos = next) {
		struct kv_ophdr o;
		const struct bref *ref;
		const uint8_t *v = batch_op(b, pos, &r, &o, &next, &ref);
		const uint8_t *k = ops + pos + sizeof o;
		struct loc l = { pay_off + fpos, o.slen, o.vlen, o.flags, 0 };
		int rc = apply_op(kv, &o, k, v, &l);
		if (rc)
			return rc;
		fpos += sizeof o + o.klen + o.slen;
	}
	return 0;
}

/* ops: the payload, with BHDR bytes of writable room before it and
 * KV_REC_ALIGN spare bytes after it. */
static int commit_buf(struct lfs_kv *kv, uint8_t *ops, size_t len, size_t count, int sync,
		      struct lfs_err *err)
{
	int rc;
	if (kv->rdonly)
		return lfs_seterr(err, LFS_E_READONLY, "image is open read-only");
	if (kv->broken)
		return lfs_seterr(err, kv->broken, "image write failed earlier: %s", lfs_strerror(kv->broken));
	if (!count)
		return sync ? lfs_kv_sync(kv, err) : 0;
	if (len > UINT32_MAX - 64)
		return lfs_seterr(err, LFS_E_TOOBIG, "batch too large");
	kv->st.batches++;
	if (kv->memory) {
		rc = apply_payload(kv, ops, len, 0);
		if (rc)
			return lfs_seterr(err, rc, "out of memory");
		if (kv->mt_bytes > kv->memtable_limit)
			return do_checkpoint(kv, err);
		return 0;
	}
	struct wr *w = &kv->log;
	const uint8_t *pay;
	uint64_t pay_off;
	if (kv->grp_depth && (rc = grp_prepare(kv, err)) != 0)
		return rc;
	if (kv->grp_depth && (kv->compress != LFS_KV_COMPRESS_NONE || len < (64u << 10))) {
		/* coalesced into the group's open record (zstd: raw, packed into
		 * blocks when the record is sealed) */
		if ((rc = grp_append(kv, ops, len, count)) != 0)
			goto werr;
		if (sync && (rc = lfs_kv_sync(kv, err)) != 0)
			return rc;
		return 0;
	}
	if (kv->compress == LFS_KV_COMPRESS_NONE && len >= (64u << 10)) {
		/* large: straight from the batch buffer, one pwrite, no copy */
		if ((rc = wr_flush(kv, w)) != 0)
			goto werr;
		uint8_t *hdr = ops - BHDR;
		size_t total = seal_at2(kv, hdr, len, KV_REC_BATCH, (uint32_t)count, kv->synced_end, 1);
		ssize_t r = kv->fops->pwrite(kv->fops->ctx, w->fd, hdr, total, (off_t)w->off);
		if (r != (ssize_t)total) {
			rc = r < 0 ? (int)r : -EIO;
			goto werr;
		}
		pay = ops;
		pay_off = w->off + BHDR;
		batch_written(kv, w, total);
	} else {
		size_t plen = len;
		uint32_t nops = (uint32_t)count;
		if (kv->compress != LFS_KV_COMPRESS_NONE && (rc = encode_payload(kv, ops, len, count, &plen, &nops)) != 0)
			return lfs_seterr(err, rc, "out of memory");
		if ((rc = wr_reserve(kv, w, BHDR + plen + KV_REC_ALIGN)) != 0)
			goto werr;
		size_t start = w->len;
		uint8_t *dst = w->buf + start + BHDR;
		memcpy(dst, kv->compress == LFS_KV_COMPRESS_NONE ? ops : kv->pbuf, plen);
		w->len += seal_at2(kv, w->buf + start, plen, KV_REC_BATCH, nops, kv->synced_end,
				   kv->compress == LFS_KV_COMPRESS_NONE);
		pay = dst;
		pay_off = w->off + start + BHDR;
		len = plen;
	}
	kv->dirty = 1;
	rc = apply_payload(kv, pay, len, pay_off);
	if (rc) {
		kv->broken = rc;
		return lfs_seterr(err, rc, "out of memory");
	}
	return commit_done(kv, sync, err);
werr:
	kv->broken = rc;
	return lfs_seterr(err, rc, "write: %s", lfs_strerror(rc));
}

/* A batch whose by-reference values (cache pages) are not in its buffer,
 * large, for an uncompressed image file: written with pwritev straight from
 * the buffer (record header, operation headers, keys, small values) and
 * from the values where they are, each CRC computed in place; no copy of
 * the values in user space.  Same record and same effects as commit_buf's
 * large path. */
static int commit_refs(struct lfs_kv *kv, struct lfs_kv_batch *b, int sync, struct lfs_err *err)
{
	int rc;
	if (kv->rdonly)
		return lfs_seterr(err, LFS_E_READONLY, "image is open read-only");
	if (kv->broken)
		return lfs_seterr(err, kv->broken, "image write failed earlier: %s", lfs_strerror(kv->broken));
	size_t plen = b->len + b->reflen;
	if (plen > UINT32_MAX - 64)
		return lfs_seterr(err, LFS_E_TOOBIG, "batch too large");
	kv->st.batches++;
	struct wr *w = &kv->log;
	if (kv->grp_depth && (rc = grp_prepare(kv, err)) != 0)
		return rc;
	if ((rc = wr_flush(kv, w)) != 0)
		goto werr;
	batch_crcs(b);
	size_t total = seal_hdr(kv, b->buf, plen, KV_REC_BATCH, (uint32_t)b->count, kv->synced_end,
				batch_payload_crc(b));
	if ((rc = write_refs(kv, b, total - BHDR - plen, w->off)) != 0)
		goto werr;
	uint64_t pay_off = w->off + BHDR;
	batch_written(kv, w, total);
	kv->dirty = 1;
	rc = apply_refs(kv, b, pay_off);
	if (rc) {
		kv->broken = rc;
		return lfs_seterr(err, rc, "out of memory");
	}
	return commit_done(kv, sync, err);
werr:
	kv->broken = rc;
	return lfs_seterr(err, rc, "write: %s", lfs_strerror(rc));
}

/* ------------------------------------------------------------ groups */
/*
 * A group (command-wide transaction): every BATCH written between
 * lfs_kv_group_begin and lfs_kv_group_commit carries KV_RF_GROUP, and the
 * commit appends a COMMIT record naming the group's first batch; recovery
 * applies the group's batches only when it meets that COMMIT.  Small
 * batches are coalesced into one open record in the log buffer (nothing of
 * a group is durable before its commit anyway), and a put of a key whose
 * current value lies in that open record with the same stored size
 * overwrites it in place (inode records rewritten several times per file
 * leave no dead copies).  Checkpoints and automatic compaction wait for the
 * commit: the memtable grows with the keys the group changes.
 */

static int u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A memtable location into the open record moved to nl (old: where the
 * PUT of key was): only when it is still the key's current value. */
static void grp_move(struct lfs_kv *kv, const void *key, size_t klen, uint64_t old, const struct loc *nl)
{
	struct mnode *n = mt_find(kv, key, klen);
	if (!n || n->del || n->loc.off != old || (n->loc.flags & KV_OPF_BLOCK))
		return;
	kv->live_bytes -= loc_bytes(klen, &n->loc);
	kv->stored_value_bytes -= n->loc.slen;
	n->loc = *nl;
	kv->live_bytes += loc_bytes(klen, nl);
	kv->stored_value_bytes += nl->slen;
}

/* zstd images: the open group record holds raw operations (so that
 * rewrites of the same size go in place); sealing it turns them into
 * BLOCKs (values compressed alone where a block does not pay), written
 * over them, and moves every memtable location into the record.  Without
 * memory for that, the record stays raw (a valid record too). */
static void grp_pack(struct lfs_kv *kv, size_t *plen, uint32_t *nops)
{
	struct wr *w = &kv->log;
	uint8_t *rec = w->buf + kv->open_start + BHDR;
	uint64_t base = w->off + kv->open_start + BHDR;
	size_t len = *plen, out;
	uint32_t top;
	if (len > kv->gcap) {
		uint8_t *nb = realloc(kv->gbuf, len);
		if (!nb)
			return;
		kv->gbuf = nb;
		kv->gcap = len;
	}
	/* operations grouped by the first byte of their key, in a stable order
	 * (the operations of one key keep theirs), so that values of a kind
	 * compress together; not across a DELRANGE.  old[i]: where the i-th
	 * operation of gbuf lay in the record. */
	size_t n = *nops, i = 0;
	uint64_t *old = malloc((n ? n : 1) * sizeof *old);
	size_t cnt[257] = { 0 };
	int sortable = old != NULL;
	for (size_t pos = 0; pos < len && sortable; i++) {
		struct kv_ophdr o;
		memcpy(&o, rec + pos, sizeof o);
		if (o.type == KV_OP_DELRANGE || !o.klen || i >= n)
			sortable = 0;
		else
			cnt[rec[pos + sizeof o] + 1] += sizeof o + o.klen + o.slen;
		pos += sizeof o + o.klen + o.slen;
	}
	if (!sortable || i != n) {
		free(old);
		old = NULL;
		memcpy(kv->gbuf, rec, len);
	} else {
		for (int b = 1; b <= 256; b++)
			cnt[b] += cnt[b - 1];   /* cnt[b]: where the keys starting with byte b go */
		uint64_t *slot = malloc(n * sizeof *slot);
		if (!slot) {
			free(old);
			return;
		}
		i = 0;
		for (size_t pos = 0; pos < len; i++) {
			struct kv_ophdr o;
			memcpy(&o, rec + pos, sizeof o);
			size_t sz = sizeof o + o.klen + o.slen;
			uint8_t b = rec[pos + sizeof o];
			memcpy(kv->gbuf + cnt[b], rec + pos, sz);
			slot[i] = ((uint64_t)cnt[b] << 32) | i;   /* new position, operation */
			cnt[b] += sz;
			old[i] = pos;
			pos += sz;
		}
		qsort(slot, n, sizeof *slot, u64cmp);
		for (size_t x = 0; x < n; x++)
			slot[x] = old[slot[x] & 0xffffffffu];
		free(old);
		old = slot;             /* in gbuf order */
	}
	if (encode_payload2(kv, kv->gbuf, len, *nops, &out, &top, old != NULL) || out > len) {
		free(old);
		return;
	}
	memcpy(rec, kv->pbuf, out);
	size_t rpos = 0, bi = 0, ri = 0;
	for (size_t p = 0; p < out;) {
		struct kv_ophdr o;
		memcpy(&o, rec + p, sizeof o);
		size_t sz = sizeof o + o.klen + o.slen;
		if (o.type == KV_OP_BLOCK) {
			const struct blkref *b = &kv->br[bi++];
			for (size_t q = 0; q < b->len;) {
				struct kv_ophdr io;
				memcpy(&io, b->raw + q, sizeof io);
				size_t isz = sizeof io + io.klen + io.slen;
				if (io.type == KV_OP_PUT) {
					struct loc nl = { base + p, block_share(isz, sz, b->len), io.vlen, KV_OPF_BLOCK,
							  (uint32_t)q };
					grp_move(kv, b->raw + q + sizeof io, io.klen, base + (old ? old[ri] : rpos), &nl);
				}
				rpos += isz;
				ri++;
				q += isz;
			}
		} else {
			struct kv_ophdr ro;
			memcpy(&ro, kv->gbuf + rpos, sizeof ro);
			if (o.type == KV_OP_PUT) {
				struct loc nl = { base + p, o.slen, o.vlen, o.flags, 0 };
				grp_move(kv, rec + p + sizeof o, o.klen, base + (old ? old[ri] : rpos), &nl);
			}
			rpos += sizeof ro + ro.klen + ro.slen;
			ri++;
		}
		p += sz;
	}
	free(old);
	*plen = out;
	*nops = top;
	kv->version++;
	kv->moved++;
}

/* Seal the open group record (wr_flush calls it: a record is whole before
 * any of it reaches the file). */
static void grp_seal(struct lfs_kv *kv)
{
	struct wr *w = &kv->log;
	if (!kv->open_rec)
		return;
	kv->open_rec = 0;
	size_t plen = w->len - kv->open_start - BHDR;
	if (!kv->open_nops) {
		w->len = kv->open_start;
		return;
	}
	uint32_t nops = kv->open_nops;
	if (kv->compress == LFS_KV_COMPRESS_ZSTD)
		grp_pack(kv, &plen, &nops);
	/* an uncompressed image's operations all carry their CRC (batch_crcs,
	 * put_op): the record's payload CRC is combined from them */
	w->len = kv->open_start + seal_at2(kv, w->buf + kv->open_start, plen, KV_REC_BATCH, nops,
					   kv->synced_end, kv->compress == LFS_KV_COMPRESS_NONE);
	kv->grp_batches++;
}

/* Before the first write of a group to a version-1 image: rewrite both
 * header slots as version 2 (a version-1 reader would take a COMMIT record
 * for a torn tail and cut the log there). */
static int grp_prepare(struct lfs_kv *kv, struct lfs_err *err)
{
	if (kv->memory || kv->grp_start)
		return 0;
	for (int i = 0; i < 2 && (kv->slot_ver[0] == 1 || kv->slot_ver[1] == 1); i++) {
		int depth = kv->grp_depth;
		kv->grp_depth = 0;
		int rc = do_checkpoint(kv, err);
		kv->grp_depth = depth;
		if (rc)
			return rc;
	}
	return 0;
}

/* Is the current value of key a PUT in the open record with stored size
 * slen, raw size vlen and flags fl?  Returns its offset in log.buf, or (size_t)-1. */
static size_t grp_same(struct lfs_kv *kv, const void *key, size_t klen, uint32_t slen, uint32_t vlen,
		       uint8_t fl)
{
	struct mnode *n = mt_find(kv, key, klen);
	if (!n || n->del || n->loc.slen != slen || n->loc.vlen != vlen || n->loc.flags != fl)
		return (size_t)-1;
	uint64_t lo = kv->log.off + kv->open_start + BHDR;
	if (n->loc.off < lo || n->loc.off >= wr_end(&kv->log))
		return (size_t)-1;
	return (size_t)(n->loc.off - kv->log.off);
}

/* Room for need more payload bytes in the open group record: seal a full
 * one, open a new one (wr_reserve grows the buffer for a large payload). */
static int grp_room(struct lfs_kv *kv, size_t need, uint32_t nops)
{
	struct wr *w = &kv->log;
	if (kv->open_rec && (w->len + need + KV_REC_ALIGN > w->cap || kv->open_nops > UINT32_MAX - nops
			     || (kv->compress == LFS_KV_COMPRESS_ZSTD
				 && w->len - kv->open_start - BHDR + need > kv->block_bytes)
			     || w->len - kv->open_start + need > (size_t)UINT32_MAX - 64)) {
		/* sealed (zstd: packed into a block) and written: the next
		 * record has the whole buffer */
		int rc = wr_flush(kv, w);
		if (rc)
			return rc;
	}
	if (!kv->open_rec) {
		int rc = wr_reserve(kv, w, BHDR + need + KV_REC_ALIGN);
		if (rc)
			return rc;
		kv->open_rec = 1;
		kv->open_start = w->len;
		kv->open_nops = 0;
		w->len += BHDR;
		if (!kv->grp_start)
			kv->grp_start = w->off + kv->open_start;
	}
	return 0;
}

/* Append the operations of a payload (raw, also in a zstd image) to the
 * open group record and apply them to the memtable; a put of a key whose
 * value lies in the open record with the same size overwrites it in place. */
static int grp_append(struct lfs_kv *kv, const uint8_t *ops, size_t len, size_t count)
{
	struct wr *w = &kv->log;
	(void)count;
	for (size_t pos = 0; pos < len;) {
		struct kv_ophdr o;
		memcpy(&o, ops + pos, sizeof o);
		const uint8_t *k = ops + pos + sizeof o;
		size_t n = sizeof o + o.klen + o.slen;
		if (o.type == KV_OP_PUT && kv->open_rec) {
			size_t at = grp_same(kv, k, o.klen, o.slen, o.vlen, o.flags);
			if (at != (size_t)-1) {
				memcpy(w->buf + at, ops + pos, n);   /* same sizes: the CRC is the op's own */
				kv->st.puts++;
				kv->st.bytes_put += o.klen + o.vlen;
				kv->version++;
				kv->dirty = 1;
				pos += n;
				continue;
			}
		}
		int rc = grp_room(kv, n, 1);
		if (rc)
			return rc;
		size_t at = w->len;
		memcpy(w->buf + at, ops + pos, n);
		w->len += n;
		kv->open_nops++;
		kv->dirty = 1;
		if ((rc = apply_payload(kv, w->buf + at, n, w->off + at)) != 0)
			return rc;
		pos += n;
	}
	return 0;
}


int lfs_kv_group_begin(struct lfs_kv *kv, struct lfs_err *err)
{
	if (kv->rdonly)
		return lfs_seterr(err, LFS_E_READONLY, "image is open read-only");
	if (kv->broken)
		return lfs_seterr(err, kv->broken, "image write failed earlier: %s", lfs_strerror(kv->broken));
	if (kv->memory) {
		kv->grp_depth++;
		return 0;
	}
	if (!kv->grp_depth) {
		kv->grp_start = 0;
		kv->grp_batches = 0;
	}
	kv->grp_depth++;
	return 0;
}

int lfs_kv_group_depth(const struct lfs_kv *kv)
{
	return kv->grp_depth;
}

int lfs_kv_group_commit(struct lfs_kv *kv, int sync, struct lfs_err *err)
{
	int rc;
	if (!kv->grp_depth)
		return lfs_seterr(err, -EINVAL, "no group is open");
	if (kv->grp_depth > 1 || kv->memory) {
		kv->grp_depth--;
		return 0;
	}
	if (kv->broken) {
		kv->grp_depth = 0;
		kv->open_rec = 0;
		return lfs_seterr(err, kv->broken, "image write failed earlier: %s", lfs_strerror(kv->broken));
	}
	grp_seal(kv);           /* still inside the group: flagged */
	kv->grp_depth = 0;
	if (kv->grp_start) {
		struct wr *w = &kv->log;
		if ((rc = wr_reserve(kv, w, BHDR + 8 + KV_REC_ALIGN)) != 0)
			goto werr;
		size_t start = w->len;
		memcpy(w->buf + start + BHDR, &kv->grp_start, 8);
		w->len += seal_at(kv, w->buf + start, 8, KV_REC_COMMIT, (uint32_t)kv->grp_batches,
				  kv->synced_end);
		kv->dirty = 1;
		kv->grp_start = 0;
		kv->grp_batches = 0;
		if (!sync && (rc = wr_flush(kv, w)) != 0)
			goto werr;
	}
	if (sync && (rc = lfs_kv_sync(kv, err)) != 0)
		return rc;
	if (kv->mt_bytes > kv->memtable_limit && (rc = do_checkpoint(kv, err)) != 0)
		return rc;
	return maybe_auto(kv, err);
werr:
	kv->broken = rc;
	return lfs_seterr(err, rc, "write: %s", lfs_strerror(rc));
}

/* An in-memory image: a batch with by-reference values is applied from
 * where its values are, each copied once into the value pool (as
 * apply_payload does from a contiguous payload, without making one). */
static int apply_batch_mem(struct lfs_kv *kv, const struct lfs_kv_batch *b)
{
	const uint8_t *ops = b->buf + BHDR;
	size_t r = 0;
	for (size_t pos = 0, next; pos < b->len; pos = next) {
		struct kv_ophdr o;
		const struct bref *ref;
		const uint8_t *v = batch_op(b, pos, &r, &o, &next, &ref);
		const uint8_t *k = ops + pos + sizeof o;
		struct loc l;
		int rc = apply_op(kv, &o, k, v, &l);
		if (rc)
			return rc;
	}
	return 0;
}

int lfs_kv_commit(struct lfs_kv *kv, struct lfs_kv_batch *b, int sync, struct lfs_err *err)
{
	if (!b->count)
		return commit_buf(kv, NULL, 0, 0, sync, err);
	if (!b->nrefs) {
		if (!kv->memory)
			batch_crcs(b);
		return commit_buf(kv, b->buf + BHDR, b->len, b->count, sync, err);
	}
	size_t plen = b->len + b->reflen;
	if (kv->memory) {
		/* the checks and effects of commit_buf's in-memory path */
		if (kv->rdonly)
			return lfs_seterr(err, LFS_E_READONLY, "image is open read-only");
		if (kv->broken)
			return lfs_seterr(err, kv->broken, "image write failed earlier: %s",
					  lfs_strerror(kv->broken));
		if (plen > UINT32_MAX - 64)
			return lfs_seterr(err, LFS_E_TOOBIG, "batch too large");
		kv->st.batches++;
		int rc = apply_batch_mem(kv, b);
		if (rc)
			return lfs_seterr(err, rc, "out of memory");
		if (kv->mt_bytes > kv->memtable_limit)
			return do_checkpoint(kv, err);
		return 0;
	}
	if (kv->fops == &real_fops && !kv->memory && kv->compress == LFS_KV_COMPRESS_NONE &&
	    plen >= (64u << 10))
		return commit_refs(kv, b, sync, err);
	/* elsewhere the payload is made contiguous (the values copied) */
	if (BHDR + plen + KV_REC_ALIGN > kv->fcap) {
		uint8_t *nb = realloc(kv->fbuf, BHDR + plen + KV_REC_ALIGN);
		if (!nb)
			return lfs_seterr(err, -ENOMEM, "out of memory");
		kv->fbuf = nb;
		kv->fcap = BHDR + plen + KV_REC_ALIGN;
	}
	batch_flatten(b, kv->fbuf + BHDR, !kv->memory);
	return commit_buf(kv, kv->fbuf + BHDR, plen, b->count, sync, err);
}

/* A single operation is a one-op batch (an own atomic record). */
static int single(struct lfs_kv *kv, uint8_t type, uint8_t flags, const void *k, size_t kl,
		  const void *v, size_t vl, struct lfs_err *err)
{
	uint8_t stackbuf[BHDR + sizeof(struct kv_ophdr) + 1024 + 4096 + KV_REC_ALIGN];
	size_t need = BHDR + sizeof(struct kv_ophdr) + kl + vl + KV_REC_ALIGN;
	uint8_t *p = need <= sizeof stackbuf ? stackbuf : malloc(need);
	if (!p)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	size_t n = put_op(kv, p + BHDR, type, flags, k, kl, v, vl, vl);
	int rc = commit_buf(kv, p + BHDR, n, 1, 0, err);
	if (p != stackbuf)
		free(p);
	return rc;
}

int lfs_kv_put(struct lfs_kv *kv, const void *key, size_t klen, const void *val, size_t vlen, struct lfs_err *err)
{
	if (klen > LFS_KV_MAX_KEY)
		return lfs_seterr(err, LFS_E_TOOBIG, "key of %zu bytes is longer than %u", klen, LFS_KV_MAX_KEY);
	if (vlen > LFS_KV_MAX_VALUE)
		return lfs_seterr(err, LFS_E_TOOBIG, "value of %zu bytes is longer than %u", vlen, LFS_KV_MAX_VALUE);
	return single(kv, KV_OP_PUT, 0, key, klen, val, vlen, err);
}

int lfs_kv_del(struct lfs_kv *kv, const void *key, size_t klen, struct lfs_err *err)
{
	if (klen > LFS_KV_MAX_KEY)
		return lfs_seterr(err, LFS_E_TOOBIG, "key of %zu bytes is longer than %u", klen, LFS_KV_MAX_KEY);
	return single(kv, KV_OP_DEL, 0, key, klen, NULL, 0, err);
}

int lfs_kv_del_range(struct lfs_kv *kv, const void *lo, size_t lolen, const void *hi, size_t hilen,
		     struct lfs_err *err)
{
	if (lolen > LFS_KV_MAX_KEY || (hi && hilen > LFS_KV_MAX_KEY))
		return lfs_seterr(err, LFS_E_TOOBIG, "range bound longer than %u", LFS_KV_MAX_KEY);
	return single(kv, KV_OP_DELRANGE, hi ? KV_OPF_HASHI : 0, lo, lolen, hi, hi ? hilen : 0, err);
}

/* ------------------------------------------------------------ reads */
int lfs_kv_get(struct lfs_kv *kv, const void *key, size_t klen, void **val, size_t *vlen, struct lfs_err *err)
{
	struct loc l;
	*val = NULL;
	kv->st.gets++;
	if (klen > LFS_KV_MAX_KEY || !lookup(kv, key, klen, &l)) {
		kv->st.get_misses++;
		return -ENOENT;
	}
	void *out = malloc(l.vlen ? l.vlen : 1);
	if (!out)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	int rc = load_value(kv, key, klen, &l, out, err);
	if (rc) {
		free(out);
		return rc;
	}
	*val = out;
	if (vlen)
		*vlen = l.vlen;
	return 0;
}

int lfs_kv_get_into(struct lfs_kv *kv, const void *key, size_t klen, void *buf, size_t cap, size_t *vlen,
		    struct lfs_err *err)
{
	struct loc l;
	kv->st.gets++;
	if (klen > LFS_KV_MAX_KEY || !lookup(kv, key, klen, &l)) {
		kv->st.get_misses++;
		return -ENOENT;
	}
	if (vlen)
		*vlen = l.vlen;
	if (cap >= l.vlen)
		return load_value(kv, key, klen, &l, buf, err);
	void *tmp = malloc(l.vlen);
	if (!tmp)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	int rc = load_value(kv, key, klen, &l, tmp, err);
	if (!rc)
		memcpy(buf, tmp, cap);
	free(tmp);
	return rc;
}

/* Check the operation header and key read for loc (hdr: 16 + klen bytes)
 * and the value in val against the operation's checksum. */
static int check_op(struct lfs_kv *kv, const void *key, size_t klen, const struct loc *loc,
		    const uint8_t *hdr, const void *val, struct lfs_err *err)
{
	struct kv_ophdr o;
	memcpy(&o, hdr, sizeof o);
	uint32_t crc = lfs_crc32c(0, hdr, offsetof(struct kv_ophdr, crc));
	crc = lfs_crc32c(crc, hdr + sizeof o, klen);
	crc = lfs_crc32c(crc, val, loc->slen);
	if (o.type != KV_OP_PUT || o.klen != klen || o.slen != loc->slen || o.vlen != loc->vlen ||
	    crc != o.crc || memcmp(hdr + sizeof o, key, klen)) {
		char kt[160];
		lfs_kv_key_text(key, klen, kt, sizeof kt);
		return lfs_seterr(err, LFS_E_CORRUPT, "key %s: checksum mismatch in value at offset %" PRIu64,
				  kt, loc->off);
	}
	return 0;
}

#define MGET_RUN    256          /* values per preadv (two iovecs each) */
#define MGET_GAP    4096u        /* bytes between values read through */

/* Read the values of ops [a, b) (uncompressed, in the flushed file, in file
 * order, each after the previous one) with one preadv: operation headers,
 * keys and the bytes between them into a scratch buffer, each value
 * straight into its caller's buffer; then check each.  Returns 1 when the
 * read came up short (the caller falls back to single reads). */
static int mget_run(struct lfs_kv *kv, const void *const *keys, const size_t *klens,
		    void *const *vals, const struct loc *locs, ssize_t *vlens, size_t a, size_t b,
		    struct lfs_err *err)
{
	struct iovec iov[2 * MGET_RUN];
	size_t hbytes = 0;
	uint64_t pos = locs[a].off;
	for (size_t j = a; j < b; j++) {
		hbytes += (size_t)(locs[j].off - pos) + sizeof(struct kv_ophdr) + klens[j];
		pos = locs[j].off + sizeof(struct kv_ophdr) + klens[j] + locs[j].slen;
	}
	int rc = scratch(kv, hbytes);
	if (rc)
		return lfs_seterr(err, rc, "out of memory");
	size_t niov = 0, h = 0, total = 0;
	pos = locs[a].off;
	for (size_t j = a; j < b; j++) {
		size_t hl = (size_t)(locs[j].off - pos) + sizeof(struct kv_ophdr) + klens[j];
		iov[niov++] = (struct iovec){ kv->sbuf + h, hl };
		h += hl;
		if (locs[j].slen)
			iov[niov++] = (struct iovec){ vals[j], locs[j].slen };
		total += hl + locs[j].slen;
		pos = locs[j].off + sizeof(struct kv_ophdr) + klens[j] + locs[j].slen;
	}
	ssize_t r;
	do
		r = preadv(kv->fd, iov, (int)niov, (off_t)locs[a].off);
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)total)
		return 1;
	kv->st.file_bytes_read += total;
	h = 0;
	pos = locs[a].off;
	for (size_t j = a; j < b; j++) {
		size_t gap = (size_t)(locs[j].off - pos);
		rc = check_op(kv, keys[j], klens[j], &locs[j], kv->sbuf + h + gap, vals[j], err);
		if (rc)
			return rc;
		h += gap + sizeof(struct kv_ophdr) + klens[j];
		pos = locs[j].off + sizeof(struct kv_ophdr) + klens[j] + locs[j].slen;
		vlens[j] = locs[j].vlen;
		kv->st.bytes_got += locs[j].vlen;
	}
	return 0;
}

int lfs_kv_mget_into(struct lfs_kv *kv, size_t n, const void *const *keys, const size_t *klens,
		     void *const *vals, size_t cap, ssize_t *vlens, struct lfs_err *err)
{
	struct loc stackl[64];
	struct loc *locs = n <= 64 ? stackl : malloc(n * sizeof *locs);
	int rc = 0;
	if (!locs)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		kv->st.gets++;
		if (klens[i] > LFS_KV_MAX_KEY || !lookup(kv, keys[i], klens[i], &locs[i])) {
			kv->st.get_misses++;
			vlens[i] = -ENOENT;
		} else {
			vlens[i] = 0;
		}
	}
	int direct = kv->fops == &real_fops && !kv->memory && kv->fd >= 0;
	for (size_t i = 0; i < n;) {
		if (vlens[i] == -ENOENT) {
			i++;
			continue;
		}
		const struct loc *l = &locs[i];
		size_t j = i + 1;
		if (direct && !(l->flags & (KV_OPF_ZSTD | KV_OPF_BLOCK)) && l->vlen <= cap &&
		    l->off + sizeof(struct kv_ophdr) + klens[i] + l->slen <= kv->log.off) {
			/* the run of values that follow each other in the file */
			uint64_t end = l->off + sizeof(struct kv_ophdr) + klens[i] + l->slen;
			while (j < n && j - i < MGET_RUN && vlens[j] != -ENOENT) {
				const struct loc *m = &locs[j];
				uint64_t mend = m->off + sizeof(struct kv_ophdr) + klens[j] + m->slen;
				if ((m->flags & (KV_OPF_ZSTD | KV_OPF_BLOCK)) || m->vlen > cap || m->off < end ||
				    m->off - end > MGET_GAP || mend > kv->log.off)
					break;
				end = mend;
				j++;
			}
			int r = mget_run(kv, keys, klens, vals, locs, vlens, i, j, err);
			if (r <= 0) {
				if (r < 0) {
					for (size_t x = i; x < j; x++)
						vlens[x] = r;
					if (!rc)
						rc = r;
				}
				i = j;
				continue;
			}
			j = i + 1;          /* short read: one at a time */
		}
		size_t vl = 0;
		int e = lfs_kv_get_into(kv, keys[i], klens[i], vals[i], cap, &vl, err);
		kv->st.gets--;                 /* counted above */
		vlens[i] = e < 0 ? e : (ssize_t)vl;
		if (e < 0 && e != -ENOENT && !rc)
			rc = e;
		i++;
	}
	if (locs != stackl)
		free(locs);
	return rc;
}

/* ------------------------------------------------------------ iterators */
struct lfs_kv_iter {
	struct lfs_kv *kv;
	uint8_t *hi;
	size_t hilen;
	int has_hi;
	struct mcur c;
	uint64_t version;   /* kv->version when c was positioned */
	uint64_t moved;     /* kv->moved when loc was taken */
	int valid;
	uint8_t key[LFS_KV_MAX_KEY];
	size_t klen;
	struct loc loc;
	uint8_t *val;       /* loaded value (owned) */
	size_t vcap;
	int vloaded;
	const void *direct;  /* value in place in the mapping, or NULL: in val */
	int err;
	struct lfs_err e;
};

static void it_take(struct lfs_kv_iter *it)
{
	if (!it->c.key || (it->has_hi && keycmp(it->c.key, it->c.klen, it->hi, it->hilen) >= 0)) {
		it->valid = 0;
		return;
	}
	it->valid = 1;
	it->klen = it->c.klen;
	memcpy(it->key, it->c.key, it->klen);
	it->loc = it->c.loc;
	it->vloaded = 0;
	it->version = it->kv->version;
	it->moved = it->kv->moved;
	it->kv->st.scan_items++;
}

static struct lfs_kv_iter *iter_make(struct lfs_kv *kv, const void *lo, size_t lolen, const void *hi, size_t hilen)
{
	struct lfs_kv_iter *it = calloc(1, sizeof *it);
	if (!it)
		return NULL;
	it->kv = kv;
	kv->st.scans++;
	if (hi) {
		it->hi = malloc(hilen ? hilen : 1);
		if (!it->hi) {
			free(it);
			return NULL;
		}
		memcpy(it->hi, hi, hilen);
		it->hilen = hilen;
		it->has_hi = 1;
	}
	if (lo && lolen > LFS_KV_MAX_KEY) {
		it->valid = 0;
		return it;
	}
	cur_seek(kv, &it->c, lo, lo ? lolen : 0, 0, 0);
	it_take(it);
	return it;
}

struct lfs_kv_iter *lfs_kv_iter_new(struct lfs_kv *kv, const void *lo, size_t lolen, const void *hi, size_t hilen)
{
	return iter_make(kv, lo, lolen, hi, hilen);
}

struct lfs_kv_iter *lfs_kv_iter_prefix(struct lfs_kv *kv, const void *prefix, size_t plen)
{
	uint8_t hi[LFS_KV_MAX_KEY];
	size_t hl = plen <= LFS_KV_MAX_KEY ? plen : LFS_KV_MAX_KEY;
	memcpy(hi, prefix, hl);
	/* smallest key greater than every key with this prefix */
	while (hl && hi[hl - 1] == 0xff)
		hl--;
	if (!hl)
		return iter_make(kv, prefix, plen, NULL, 0);
	hi[hl - 1]++;
	return iter_make(kv, prefix, plen, hi, hl);
}

int lfs_kv_iter_valid(struct lfs_kv_iter *it)
{
	return it && it->valid && !it->err;
}

void lfs_kv_iter_next(struct lfs_kv_iter *it)
{
	if (!it->valid)
		return;
	if (it->version != it->kv->version)
		cur_seek(it->kv, &it->c, it->key, it->klen, 1, 0);
	else
		cur_next(it->kv, &it->c, 0);
	it_take(it);
}

const void *lfs_kv_iter_key(struct lfs_kv_iter *it, size_t *klen)
{
	if (klen)
		*klen = it->klen;
	return it->key;
}

size_t lfs_kv_iter_value_len(struct lfs_kv_iter *it)
{
	return it->loc.vlen;
}

const void *lfs_kv_iter_value(struct lfs_kv_iter *it, size_t *vlen)
{
	if (!it->valid)
		return NULL;
	if (!it->vloaded) {
		struct loc l = it->loc;
		if ((it->kv->memory && it->version != it->kv->version) || it->moved != it->kv->moved) {
			/* the location may be gone: freed (memory mode), or packed
			 * into a block since (a group record sealed) */
			if (!lookup(it->kv, it->key, it->klen, &l)) {
				it->err = lfs_seterr(&it->e, -ENOENT, "key deleted during iteration");
				return NULL;
			}
			it->loc = l;
			it->moved = it->kv->moved;
		}
		if (l.vlen + 1 > it->vcap) {
			uint8_t *nb = realloc(it->val, l.vlen + 1);
			if (!nb) {
				it->err = lfs_seterr(&it->e, -ENOMEM, "out of memory");
				return NULL;
			}
			it->val = nb;
			it->vcap = l.vlen + 1;
		}
		it->direct = NULL;
		int rc = load_value2(it->kv, it->key, it->klen, &l, it->val, &it->direct, &it->e);
		if (rc) {
			it->err = rc;
			return NULL;
		}
		it->loc = l;
		it->vloaded = 1;
	}
	if (vlen)
		*vlen = it->loc.vlen;
	return it->direct ? it->direct : it->val;
}

int lfs_kv_iter_error(struct lfs_kv_iter *it, struct lfs_err *err)
{
	if (!it)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	if (it->err && err)
		*err = it->e;
	return it->err;
}

void lfs_kv_iter_free(struct lfs_kv_iter *it)
{
	if (!it)
		return;
	free(it->hi);
	free(it->val);
	free(it);
}

/* ------------------------------------------------------------ stats */
void lfs_kv_stats(struct lfs_kv *kv, struct lfs_kv_stats *st)
{
	*st = kv->st;
	st->live_keys = kv->live_keys;
	st->live_bytes = kv->live_bytes;
	st->file_bytes = kv->memory ? 0 : wr_end(&kv->log);
	uint64_t used = st->file_bytes > KV_LOG_START ? st->file_bytes - KV_LOG_START : 0;
	st->dead_bytes = used > kv->live_bytes ? used - kv->live_bytes : 0;
	st->raw_value_bytes = kv->raw_value_bytes;
	st->stored_value_bytes = kv->stored_value_bytes;
	st->memtable_bytes = kv->mt_bytes;
	st->compress = kv->compress;
	st->level = kv->level;
}

/* ------------------------------------------------------------ compaction */
/* The new file being written by a compaction. */
struct cstate {
	struct lfs_kv *kv;
	struct wr w, iw;          /* log (from offset 0) and INDEX payload */
	uint8_t *vb;              /* a value or an operation */
	size_t vcap;
	uint8_t *blk;             /* raw operations of the open block (zstd) */
	size_t blen, bcap;
	struct cpend { size_t ient, pos, sz; } *pend;   /* their index entries */
	size_t npend, cpend;
	size_t rstart;            /* open record of copied operations (none) */
	uint32_t rnops;
	int open_rec;
	uint64_t count;
};

/* Add an index entry for key (location filled in later); *at: its position. */
static int cs_ient(struct cstate *cs, const void *key, size_t klen, size_t *at)
{
	size_t sz = align8(sizeof(struct kv_ient) + klen);
	if (lfs_grow(&cs->iw.buf, &cs->iw.cap, cs->iw.len + sz + KV_REC_ALIGN, 1, 4096))
		return -ENOMEM;
	struct kv_ient e;
	memset(&e, 0, sizeof e);
	e.klen = (uint16_t)klen;
	memset(cs->iw.buf + cs->iw.len, 0, sz);
	memcpy(cs->iw.buf + cs->iw.len, &e, sizeof e);
	memcpy(cs->iw.buf + cs->iw.len + sizeof e, key, klen);
	*at = cs->iw.len;
	cs->iw.len += sz;
	cs->count++;
	return 0;
}

static void cs_setloc(struct cstate *cs, size_t at, const struct loc *l)
{
	struct kv_ient e;
	memcpy(&e, cs->iw.buf + at, sizeof e);
	e.flags = l->flags;
	e.slen = l->slen;
	e.vlen = l->vlen;
	e.pos = l->pos;
	e.off = l->off;
	memcpy(cs->iw.buf + at, &e, sizeof e);
}

/* Write the operations [ops, ops + n) one by one (values compressed alone
 * when that pays) as one BATCH record; entries[i] gets the i-th location. */
static int cs_ops(struct cstate *cs, const uint8_t *ops, size_t n, const struct cpend *entries, size_t nent)
{
	struct lfs_kv *kv = cs->kv;
	size_t need = sizeof(struct kv_rhdr) + n + KV_REC_ALIGN;
	int rc = wr_reserve(kv, &cs->w, need);
	if (rc)
		return rc;
	size_t start = cs->w.len, i = 0;
	cs->w.len += sizeof(struct kv_rhdr);
	for (size_t pos = 0; pos < n; i++) {
		struct kv_ophdr o;
		memcpy(&o, ops + pos, sizeof o);
		const void *sv;
		uint8_t fl;
		size_t sl = maybe_compress(kv, ops + pos + sizeof o + o.klen, o.vlen, &sv, &fl);
		struct loc l = { cs->w.off + cs->w.len, (uint32_t)sl, o.vlen, fl, 0 };
		cs->w.len += put_op(kv, cs->w.buf + cs->w.len, KV_OP_PUT, fl, ops + pos + sizeof o, o.klen, sv, sl, o.vlen);
		if (i < nent)
			cs_setloc(cs, entries[i].ient, &l);
		pos += sizeof o + o.klen + o.slen;
	}
	wr_seal(kv, &cs->w, start, KV_REC_BATCH, (uint32_t)i, 0);
	return 0;
}

/* Write the open block: one BLOCK operation in its own record, or its
 * values one by one when compressing them together does not pay. */
static int cs_flush_block(struct cstate *cs)
{
	struct lfs_kv *kv = cs->kv;
	int rc;
	if (!cs->blen)
		return 0;
	size_t cap = ZSTD_compressBound(cs->blen);
	if ((rc = pbuf_room(kv, sizeof(struct kv_ophdr) + cap)) != 0)
		return rc;
	size_t c = cs->npend > 1 ? block_compress(kv, kv->pbuf + sizeof(struct kv_ophdr), cap, cs->blk, cs->blen) : 0;
	if (c && sizeof(struct kv_ophdr) + c < cs->blen) {
		size_t foot = sizeof(struct kv_ophdr) + c;
		block_hdr(kv->pbuf, c, cs->blen);
		if ((rc = wr_reserve(kv, &cs->w, sizeof(struct kv_rhdr) + foot + KV_REC_ALIGN)) != 0)
			return rc;
		size_t start = cs->w.len;
		uint64_t boff = cs->w.off + start + sizeof(struct kv_rhdr);
		memcpy(cs->w.buf + start + sizeof(struct kv_rhdr), kv->pbuf, foot);
		cs->w.len += sizeof(struct kv_rhdr) + foot;
		wr_seal(kv, &cs->w, start, KV_REC_BATCH, 1, 0);
		for (size_t i = 0; i < cs->npend; i++) {
			struct kv_ophdr o;
			memcpy(&o, cs->blk + cs->pend[i].pos, sizeof o);
			struct loc l = { boff, block_share(cs->pend[i].sz, foot, cs->blen), o.vlen, KV_OPF_BLOCK,
					 (uint32_t)cs->pend[i].pos };
			cs_setloc(cs, cs->pend[i].ient, &l);
		}
	} else if ((rc = cs_ops(cs, cs->blk, cs->blen, cs->pend, cs->npend)) != 0) {
		return rc;
	}
	cs->blen = 0;
	cs->npend = 0;
	return 0;
}

/* zstd images: the live value of key at loc into the open block (or alone
 * when large), raw; index entry added. */
static int cs_add_zstd(struct cstate *cs, const uint8_t *key, size_t klen, const struct loc *loc, struct lfs_err *err)
{
	struct lfs_kv *kv = cs->kv;
	size_t sz = sizeof(struct kv_ophdr) + klen + loc->vlen;
	size_t at;
	int rc;
	if (lfs_grow(&cs->vb, &cs->vcap, sz, 1, 4096))
		return lfs_seterr(err, -ENOMEM, "out of memory");
	/* the value, checked, into an operation of its own */
	struct kv_ophdr o = { KV_OP_PUT, 0, (uint16_t)klen, loc->vlen, loc->vlen, 0 };
	uint8_t *op = cs->vb;
	struct lfs_err e = { 0 };
	if ((rc = load_value(kv, key, klen, loc, op + sizeof o + klen, &e)) != 0)
		return lfs_seterr(err, rc, "compact: %s", e.msg);
	memcpy(op + sizeof o, key, klen);
	memcpy(op, &o, sizeof o);   /* CRC 0: in a block, or cs_ops writes it */
	if ((rc = cs_ient(cs, key, klen, &at)) != 0)
		return lfs_seterr(err, rc, "out of memory");
	if (sz > kv->block_bytes / 2) {
		struct cpend p = { at, 0, sz };
		if ((rc = cs_ops(cs, op, sz, &p, 1)) != 0)
			return lfs_seterr(err, rc, "compact: write: %s", lfs_strerror(rc));
		return 0;
	}
	if (cs->blen + sz > kv->block_bytes && (rc = cs_flush_block(cs)) != 0)
		return lfs_seterr(err, rc, "compact: write: %s", lfs_strerror(rc));
	if (lfs_grow(&cs->blk, &cs->bcap, cs->blen + sz, 1, 4096))
		return lfs_seterr(err, -ENOMEM, "out of memory");
	if (lfs_grow(&cs->pend, &cs->cpend, cs->npend + 1, sizeof *cs->pend, 64) < 0)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	memcpy(cs->blk + cs->blen, op, sz);
	cs->pend[cs->npend++] = (struct cpend){ at, cs->blen, sz };
	cs->blen += sz;
	return 0;
}

/* Copy the PUT operation of key at loc as it is (images without
 * compression), checked; index entry added. */
static int cs_add_copy(struct cstate *cs, const uint8_t *key, size_t klen, const struct loc *loc, struct lfs_err *err)
{
	struct lfs_kv *kv = cs->kv;
	size_t n = sizeof(struct kv_ophdr) + klen + loc->slen;
	int rc;
	if (lfs_grow(&cs->vb, &cs->vcap, n, 1, 4096))
		return lfs_seterr(err, -ENOMEM, "out of memory");
	rc = read_at(kv, cs->vb, n, loc->off);
	struct kv_ophdr o;
	memcpy(&o, cs->vb, sizeof o);
	uint32_t crc = lfs_crc32c(0, cs->vb, offsetof(struct kv_ophdr, crc));
	crc = lfs_crc32c(crc, cs->vb + sizeof o, klen + loc->slen);
	if (rc || crc != o.crc || o.type != KV_OP_PUT || o.klen != klen || memcmp(cs->vb + sizeof o, key, klen)) {
		char kt[160];
		lfs_kv_key_text(key, klen, kt, sizeof kt);
		return lfs_seterr(err, LFS_E_CORRUPT, "compact: key %s: checksum mismatch in value at offset %" PRIu64,
				  kt, loc->off);
	}
	/* group values into records of about 1 MiB */
	if (cs->open_rec && (cs->w.len - cs->rstart + n > (1u << 20))) {
		wr_seal(kv, &cs->w, cs->rstart, KV_REC_BATCH, cs->rnops, 0);
		cs->open_rec = 0;
	}
	if (!cs->open_rec) {
		if ((rc = wr_reserve(kv, &cs->w, sizeof(struct kv_rhdr) + n + (1u << 20) + KV_REC_ALIGN)) != 0)
			return lfs_seterr(err, rc, "compact: write: %s", lfs_strerror(rc));
		cs->rstart = cs->w.len;
		cs->w.len += sizeof(struct kv_rhdr);
		cs->rnops = 0;
		cs->open_rec = 1;
	}
	if (lfs_grow(&cs->w.buf, &cs->w.cap, cs->w.len + n + KV_REC_ALIGN, 1, 4096))
		return lfs_seterr(err, -ENOMEM, "out of memory");
	struct loc l = *loc;
	l.off = cs->w.off + cs->w.len;
	memcpy(cs->w.buf + cs->w.len, cs->vb, n);
	cs->w.len += n;
	cs->rnops++;
	size_t at;
	if (cs_ient(cs, key, klen, &at))
		return lfs_seterr(err, -ENOMEM, "out of memory");
	cs_setloc(cs, at, &l);
	return 0;
}

/* Live bytes and value totals of the base alone (after a compaction). */
static void base_account(struct lfs_kv *kv)
{
	kv->live_bytes = kv->live_keys = kv->raw_value_bytes = kv->stored_value_bytes = 0;
	for (size_t i = 0; i < kv->base.n; i++) {
		const struct kv_ient *e = base_ent(&kv->base, i);
		struct loc l = { e->off, e->slen, e->vlen, e->flags, e->pos };
		kv->live_keys++;
		kv->live_bytes += loc_bytes(e->klen, &l);
		kv->raw_value_bytes += e->vlen;
		kv->stored_value_bytes += e->slen;
	}
}

int lfs_kv_compact(struct lfs_kv *kv, uint64_t *before, uint64_t *after, struct lfs_err *err)
{
	if (before)
		*before = kv->memory ? 0 : wr_end(&kv->log);
	if (after)
		*after = before ? *before : 0;
	if (kv->rdonly)
		return lfs_seterr(err, LFS_E_READONLY, "image is open read-only");
	if (kv->memory) {
		kv->st.compactions++;
		return do_checkpoint(kv, err);
	}
	if (kv->broken)
		return lfs_seterr(err, kv->broken, "image write failed earlier");
	if (kv->grp_start)
		return lfs_seterr(err, -EBUSY, "a group (command-wide transaction) holds uncommitted "
				  "writes; commit it first");
	int rc;
	size_t plen = strlen(kv->path);
	char *tmp = malloc(plen + 16);
	if (!tmp)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	snprintf(tmp, plen + 16, "%s.compact~", kv->path);
	if ((rc = wr_flush(kv, &kv->log)) != 0) {
		free(tmp);
		kv->broken = rc;
		return lfs_seterr(err, rc, "write: %s", lfs_strerror(rc));
	}
	int nfd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (nfd < 0) {
		rc = lfs_seterr(err, -errno, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	struct cstate cs;
	memset(&cs, 0, sizeof cs);
	cs.kv = kv;
	cs.w.fd = cs.iw.fd = nfd;
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	if (!kv->opts.no_lock && flock(nfd, LOCK_EX | LOCK_NB)) {
		rc = lfs_seterr(err, -errno, "%s: flock: %s", tmp, strerror(errno));
		goto fail;
	}
	cs.w.cap = WBUF_CAP;
	cs.w.buf = malloc(cs.w.cap);
	cs.iw.cap = 1 << 16;
	cs.iw.buf = malloc(cs.iw.cap);
	if (!cs.w.buf || !cs.iw.buf) {
		rc = lfs_seterr(err, -ENOMEM, "out of memory");
		goto fail;
	}
	memset(cs.w.buf, 0, KV_LOG_START);
	cs.w.len = KV_LOG_START;
	cs.iw.len = sizeof(struct kv_rhdr);
	struct mcur c;
	cur_seek(kv, &c, NULL, 0, 0, 0);
	while (c.key) {
		struct loc l = c.loc;
		if (kv->compress == LFS_KV_COMPRESS_ZSTD)
			rc = cs_add_zstd(&cs, c.key, c.klen, &l, err);
		else
			rc = cs_add_copy(&cs, c.key, c.klen, &l, err);
		if (rc)
			goto fail;
		cur_next(kv, &c, 0);
	}
	if ((rc = cs_flush_block(&cs)) != 0)
		goto failw;
	if (cs.open_rec)
		wr_seal(kv, &cs.w, cs.rstart, KV_REC_BATCH, cs.rnops, 0);
	if ((rc = wr_flush(kv, &cs.w)) != 0)
		goto failw;
	cs.iw.off = cs.w.off;
	uint64_t index_off = cs.iw.off;
	if (cs.count > UINT32_MAX) {
		rc = lfs_seterr(err, LFS_E_TOOBIG, "compact: too many keys");
		goto fail;
	}
	if ((rc = seal_index(kv, &cs.iw, cs.count, 0, &raw, &rawlen)) != 0) {
		rc = lfs_seterr(err, rc, "out of memory");
		goto fail;
	}
	if ((rc = wr_flush(kv, &cs.iw)) != 0)
		goto failw;
	uint64_t new_end = cs.iw.off;
	struct kv_slot s;
	slot_fill(kv, &s, 2, index_off, cs.count, new_end);
	if ((rc = slot_write(kv, nfd, &s)) != 0 || (rc = kv->fops->fsync(kv->fops->ctx, nfd)) != 0)
		goto failw;
	if (rename(tmp, kv->path)) {
		rc = lfs_seterr(err, -errno, "rename %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fsync_dir(kv->path);
	/* switch to the new file */
	base_free(kv, &kv->base);
	mt_free_all(kv);
	bcache_clear(kv);
	struct base nb;
	rc = base_load(kv, &nb, raw, rawlen, cs.count, index_off, err);
	raw = NULL;
	if (rc) {
		kv->broken = rc;
		goto fail;
	}
	kv->base = nb;
	base_account(kv);
	close(kv->fd);
	kv->fd = nfd;
	kv->log.fd = nfd;
	kv->log.off = new_end;
	kv->log.len = 0;
	kv->synced_end = new_end;
	kv->gen = 2;
	kv->dirty = 0;
	kv->ckpt_pending = 0;
	kv->version++;
	kv->st.compactions++;
	remap(kv);
	if (after)
		*after = new_end;
	free(cs.w.buf);
	free(cs.iw.buf);
	free(cs.vb);
	free(cs.blk);
	free(cs.pend);
	free(tmp);
	return 0;
failw:
	lfs_seterr(err, rc, "compact: write %s: %s", tmp, lfs_strerror(rc));
fail:
	free(raw);
	free(cs.w.buf);
	free(cs.iw.buf);
	free(cs.vb);
	free(cs.blk);
	free(cs.pend);
	close(nfd);
	unlink(tmp);
	free(tmp);
	return rc;
}


static int maybe_auto(struct lfs_kv *kv, struct lfs_err *err)
{
	if (kv->opts.no_auto_compact || kv->memory || kv->grp_depth)
		return 0;
	uint64_t fb = wr_end(&kv->log);
	if (fb < AUTO_COMPACT_MIN)
		return 0;
	uint64_t used = fb - KV_LOG_START;
	uint64_t dead = used > kv->live_bytes ? used - kv->live_bytes : 0;
	if ((double)dead <= kv->compact_ratio * (double)fb)
		return 0;
	return lfs_kv_compact(kv, NULL, NULL, err);
}

/* ------------------------------------------------------------ verify / walk */
/* A BLOCK operation at file offset off: itself, then its operations. */
static int walk_block(struct lfs_kv *kv, const uint8_t *op, size_t room, uint64_t off, uint64_t seq, int group,
		      uint8_t **bbuf, size_t *bcap, int (*cb)(void *arg, const struct lfs_kv_rec *r), void *arg)
{
	struct lfs_kv_rec r;
	struct kv_ophdr o;
	size_t rl = 0;
	uint64_t foot = 0;
	const char *why;
	memcpy(&o, op, sizeof o);
	memset(&r, 0, sizeof r);
	r.offset = off;
	r.seq = seq;
	r.group = group;
	int rc = block_decode(kv, op, room, bbuf, bcap, &rl, &foot, &why);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		r.kind = LFS_KV_REC_BAD;
		r.msg = why;
		return cb(arg, &r);
	}
	r.kind = LFS_KV_REC_BLOCK;
	r.vlen = o.slen;
	r.raw_len = o.vlen;
	r.block_span = foot;
	for (size_t p = 0; p + sizeof o <= rl; r.count++) {
		struct kv_ophdr io;
		memcpy(&io, *bbuf + p, sizeof io);
		if ((size_t)io.klen + io.slen > rl - p - sizeof io)
			break;
		p += sizeof io + io.klen + io.slen;
	}
	if ((rc = cb(arg, &r)) != 0)
		return rc;
	const uint8_t *raw = *bbuf;
	for (size_t p = 0; p + sizeof o <= rl;) {
		struct kv_ophdr io;
		memcpy(&io, raw + p, sizeof io);
		if ((size_t)io.klen + io.slen > rl - p - sizeof io)
			break;
		memset(&r, 0, sizeof r);
		r.offset = off;
		r.seq = seq;
		r.group = group;
		r.in_block = 1;
		r.block_pos = (uint32_t)p;
		r.block_span = foot;
		if (io.type < KV_OP_PUT || io.type > KV_OP_DELRANGE) {
			r.kind = LFS_KV_REC_BAD;
			r.msg = "malformed operation in a block";
			return cb(arg, &r);
		}
		r.kind = io.type == KV_OP_PUT ? LFS_KV_REC_PUT : io.type == KV_OP_DEL ? LFS_KV_REC_DEL : LFS_KV_REC_DELRANGE;
		r.key = raw + p + sizeof io;
		r.klen = io.klen;
		r.val = raw + p + sizeof io + io.klen;
		r.vlen = io.slen;
		r.raw_len = io.vlen;
		r.has_hi = !!(io.flags & KV_OPF_HASHI);
		if ((rc = cb(arg, &r)) != 0)
			return rc;
		p += sizeof io + io.klen + io.slen;
	}
	return 0;
}

int lfs_kv_walk(struct lfs_kv *kv, int (*cb)(void *arg, const struct lfs_kv_rec *r), void *arg,
		struct lfs_err *err)
{
	if (kv->memory)
		return 0;
	int rc = 0;
	if (!kv->rdonly && (rc = wr_flush(kv, &kv->log)) != 0)
		return lfs_seterr(err, rc, "flush: %s", lfs_strerror(rc));
	uint64_t end = wr_end(&kv->log);
	uint8_t *buf = NULL;
	size_t cap = 0;
	uint8_t *bbuf = NULL;
	size_t bcap = 0;
	for (uint64_t pos = KV_LOG_START; pos + sizeof(struct kv_rhdr) <= end;) {
		struct kv_rhdr h;
		struct lfs_kv_rec r;
		memset(&r, 0, sizeof r);
		r.offset = pos;
		if (read_at(kv, &h, sizeof h, pos) || h.magic != KV_REC_MAGIC
		    || h.hcrc != lfs_crc32c(0, &h, offsetof(struct kv_rhdr, hcrc)) || h.len > end - pos - sizeof h) {
			r.kind = LFS_KV_REC_BAD;
			r.msg = "bad record header";
			rc = cb(arg, &r);
			break;
		}
		if (h.len > cap) {
			uint8_t *nb = realloc(buf, h.len);
			if (!nb) {
				rc = lfs_seterr(err, -ENOMEM, "out of memory");
				break;
			}
			buf = nb;
			cap = h.len;
		}
		r.seq = h.seq;
		if (read_at(kv, buf, h.len, pos + sizeof h) || lfs_crc32c(0, buf, h.len) != h.pcrc) {
			r.kind = LFS_KV_REC_BAD;
			r.msg = "record checksum mismatch";
			if ((rc = cb(arg, &r)) != 0)
				break;
			pos += align8(sizeof h + h.len);
			continue;
		}
		if (h.type == KV_REC_SYNC) {
			pos += align8(sizeof h + h.len);
			continue;
		}
		if (h.type == KV_REC_COMMIT) {
			r.kind = LFS_KV_REC_COMMIT;
			r.count = h.nops;
			if (h.len >= sizeof r.group_first)
				memcpy(&r.group_first, buf, sizeof r.group_first);
			if ((rc = cb(arg, &r)) != 0)
				break;
			pos += align8(sizeof h + h.len);
			continue;
		}
		if (h.type == KV_REC_INDEX) {
			r.kind = LFS_KV_REC_INDEX;
			r.count = h.nops;
			r.vlen = h.len;
			if ((rc = cb(arg, &r)) != 0)
				break;
		} else {
			size_t p = 0;
			for (uint32_t i = 0; i < h.nops && p + sizeof(struct kv_ophdr) <= h.len; i++) {
				struct kv_ophdr o;
				memcpy(&o, buf + p, sizeof o);
				if ((size_t)o.klen + o.slen > h.len - p - sizeof o)
					break;
				if (o.type == KV_OP_BLOCK) {
					rc = walk_block(kv, buf + p, h.len - p, pos + sizeof h + p, h.seq,
							!!(h.flags & KV_RF_GROUP), &bbuf, &bcap, cb, arg);
					if (rc == -ENOMEM)
						rc = lfs_seterr(err, rc, "out of memory");
					if (rc)
						break;
					p += sizeof o + o.klen + o.slen;
					continue;
				}
				memset(&r, 0, sizeof r);
				r.offset = pos + sizeof h + p;
				r.seq = h.seq;
				r.kind = o.type == KV_OP_PUT ? LFS_KV_REC_PUT : o.type == KV_OP_DEL ? LFS_KV_REC_DEL
					 : LFS_KV_REC_DELRANGE;
				r.key = buf + p + sizeof o;
				r.klen = o.klen;
				r.val = buf + p + sizeof o + o.klen;
				r.vlen = o.slen;
				r.raw_len = o.vlen;
				r.compressed = !!(o.flags & KV_OPF_ZSTD);
				r.has_hi = !!(o.flags & KV_OPF_HASHI);
				r.group = !!(h.flags & KV_RF_GROUP);
				if ((rc = cb(arg, &r)) != 0)
					break;
				p += sizeof o + o.klen + o.slen;
			}
			if (rc)
				break;
		}
		pos += align8(sizeof h + h.len);
	}
	free(buf);
	free(bbuf);
	return rc;
}

struct vctx {
	void (*cb)(void *arg, uint64_t offset, const char *msg);
	void *arg;
	int problems;
};

static int verify_rec(void *arg, const struct lfs_kv_rec *r)
{
	struct vctx *v = arg;
	if (r->kind == LFS_KV_REC_BAD) {
		v->problems++;
		if (v->cb)
			v->cb(v->arg, r->offset, r->msg);
	}
	return 0;
}

int lfs_kv_verify(struct lfs_kv *kv, void (*cb)(void *arg, uint64_t offset, const char *msg), void *arg,
		  struct lfs_err *err)
{
	struct vctx v = { cb, arg, 0 };
	int rc = lfs_kv_walk(kv, verify_rec, &v, err);
	if (rc < 0)
		return rc;
	/* every live value */
	struct mcur c;
	uint8_t *tmp = NULL;
	size_t cap = 0;
	cur_seek(kv, &c, NULL, 0, 0, 0);
	while (c.key) {
		struct lfs_err e = { 0 };
		if (c.loc.vlen + 1 > cap) {
			uint8_t *nb = realloc(tmp, c.loc.vlen + 1);
			if (!nb) {
				free(tmp);
				return lfs_seterr(err, -ENOMEM, "out of memory");
			}
			tmp = nb;
			cap = c.loc.vlen + 1;
		}
		/* load_value may reuse scratch buffers but not the cursor */
		uint8_t key[LFS_KV_MAX_KEY];
		size_t kl = c.klen;
		memcpy(key, c.key, kl);
		struct loc l = c.loc;
		if (load_value(kv, key, kl, &l, tmp, &e)) {
			v.problems++;
			if (cb)
				cb(arg, l.off, e.msg);
		}
		cur_next(kv, &c, 0);
	}
	free(tmp);
	return v.problems;
}
