/* lib/txn/txn.c — transactions over the io channel (see txn.h). */
#include "txn/txn.h"

#include <errno.h>
#include <stdlib.h>

struct lfs_txn_mgr {
	struct lfs_io *io;
	struct lfs_txn_opts o;
	struct lfs_txn_stats st;
};

struct lfs_txn {
	struct lfs_txn_mgr *tm;
	uint64_t id;
	uint32_t pages, meta;
	int err;                   /* first failed item: the commit fails */
};

int lfs_txn_mgr_new(struct lfs_io *io, const struct lfs_txn_opts *o, struct lfs_txn_mgr **out)
{
	struct lfs_txn_mgr *tm = calloc(1, sizeof *tm);
	*out = NULL;
	if (!tm)
		return -ENOMEM;
	tm->io = io;
	if (o)
		tm->o = *o;
	if (!tm->o.max_pages)
		tm->o.max_pages = 310;
	if (!tm->o.max_inflight)
		tm->o.max_inflight = 8;
	*out = tm;
	return 0;
}

void lfs_txn_mgr_free(struct lfs_txn_mgr *tm) { free(tm); }
struct lfs_io *lfs_txn_io(struct lfs_txn_mgr *tm) { return tm->io; }
uint32_t lfs_txn_max_pages(struct lfs_txn_mgr *tm) { return tm->o.max_pages; }

void lfs_txn_set_hook(struct lfs_txn_mgr *tm, void (*hook)(void *, const struct lfs_event *),
		      void *arg)
{
	tm->o.hook = hook;
	tm->o.hook_arg = arg;
}

struct lfs_txn *lfs_txn_begin(struct lfs_txn_mgr *tm)
{
	struct lfs_txn *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->tm = tm;
	t->id = lfs_io_txn_begin(tm->io);
	lfs_io_plug(tm->io);      /* items queue up and merge until the commit */
	return t;
}

static int note(struct lfs_txn *t, int rc)
{
	if (rc < 0 && !t->err)
		t->err = rc;
	return rc;
}

int lfs_txn_put_page(struct lfs_txn *t, uint64_t ino, uint64_t idx, const void *key, size_t klen,
		     const void *val, size_t vlen)
{
	t->pages++;
	return note(t, lfs_io_put_page(t->tm->io, t->id, ino, idx, key, klen, val, vlen));
}

int lfs_txn_put_page_crc(struct lfs_txn *t, uint64_t ino, uint64_t idx, const void *key,
			 size_t klen, const void *val, size_t vlen, uint32_t vcrc)
{
	t->pages++;
	return note(t, lfs_io_put_page_crc(t->tm->io, t->id, ino, idx, key, klen, val, vlen, vcrc));
}

int lfs_txn_put(struct lfs_txn *t, const void *key, size_t klen, const void *val, size_t vlen)
{
	t->meta++;
	return note(t, lfs_io_put(t->tm->io, t->id, key, klen, val, vlen));
}

int lfs_txn_del(struct lfs_txn *t, const void *key, size_t klen)
{
	t->meta++;
	return note(t, lfs_io_del(t->tm->io, t->id, key, klen));
}

int lfs_txn_del_range(struct lfs_txn *t, const void *lo, size_t lolen, const void *hi, size_t hilen)
{
	t->meta++;
	return note(t, lfs_io_del_range(t->tm->io, t->id, lo, lolen, hi, hilen));
}

int lfs_txn_full(const struct lfs_txn *t) { return t->pages >= t->tm->o.max_pages; }
uint32_t lfs_txn_pages(const struct lfs_txn *t) { return t->pages; }
size_t lfs_txn_items(const struct lfs_txn *t) { return (size_t)t->pages + t->meta; }

static void count(struct lfs_txn *t)
{
	struct lfs_txn_mgr *tm = t->tm;
	if (t->pages)
		tm->st.txns++;             /* data txns; metadata-only ones count in meta_ops */
	tm->st.pages += t->pages;
	tm->st.meta_ops += t->meta;
	if (t->pages > tm->st.max_pages)
		tm->st.max_pages = t->pages;
	if (tm->o.hook) {
		struct lfs_event ev = { .kind = LFS_EV_TXN_COMMIT, .count = t->pages, .value = t->meta };
		tm->o.hook(tm->o.hook_arg, &ev);
	}
}

int lfs_txn_commit(struct lfs_txn *t, int flags, uint64_t *seq, struct lfs_err *err)
{
	struct lfs_txn_mgr *tm = t->tm;
	struct lfs_io *io = tm->io;
	int sync = !!(flags & LFS_TXN_SYNC), rc;
	if (seq)
		*seq = 0;
	if (t->err) {
		rc = t->err;
		lfs_io_txn_abort(io, t->id);
		free(t);
		return lfs_seterr(err, rc, "txn: %s", lfs_strerror(rc));
	}
	if (t->pages + t->meta == 0) {
		lfs_io_unplug(io);
		free(t);
		if (seq)
			*seq = lfs_io_last_seq(io);
		return sync ? lfs_io_sync(io, err) : 0;
	}
	count(t);
	if (flags & LFS_TXN_ASYNC) {
		uint64_t s = 0;
		rc = lfs_io_txn_commit_async(io, t->id, sync, &s);
		free(t);
		if (seq)
			*seq = s;
		/* bound the commits in flight (their batches hold page copies) */
		if (rc == 0 && s > tm->o.max_inflight)
			rc = lfs_io_wait_seq(io, s - tm->o.max_inflight);
		return rc;
	}
	rc = lfs_io_txn_commit(io, t->id, sync, err);
	free(t);
	if (seq)
		*seq = lfs_io_last_seq(io);
	return rc;
}

void lfs_txn_abort(struct lfs_txn *t)
{
	if (!t)
		return;
	lfs_io_txn_abort(t->tm->io, t->id);
	free(t);
}

int lfs_txn_wait(struct lfs_txn_mgr *tm, uint64_t seq, int for_fsync)
{
	if (for_fsync)
		tm->st.fsync_waits++;
	return lfs_io_wait_seq(tm->io, seq);
}

uint64_t lfs_txn_done(struct lfs_txn_mgr *tm) { return lfs_io_done_seq(tm->io); }
uint64_t lfs_txn_last(struct lfs_txn_mgr *tm) { return lfs_io_last_seq(tm->io); }
int lfs_txn_sync(struct lfs_txn_mgr *tm, struct lfs_err *err) { return lfs_io_sync(tm->io, err); }

int lfs_txn_get(struct lfs_txn_mgr *tm, const void *key, size_t klen, void *buf, size_t cap,
		size_t *vlen, struct lfs_err *err)
{
	return lfs_io_get(tm->io, key, klen, buf, cap, vlen, err);
}

int lfs_txn_mget(struct lfs_txn_mgr *tm, size_t n, const void *const *keys, const size_t *klens,
		 void *const *vals, size_t cap, ssize_t *vlens, struct lfs_err *err)
{
	return lfs_io_mget(tm->io, n, keys, klens, vals, cap, vlens, err);
}

int lfs_txn_scan(struct lfs_txn_mgr *tm, const void *lo, size_t lolen, const void *hi, size_t hilen,
		 int (*cb)(void *arg, const void *k, size_t kl, const void *v, size_t vl), void *arg,
		 struct lfs_err *err)
{
	return lfs_io_scan(tm->io, lo, lolen, hi, hilen, cb, arg, err);
}

int lfs_txn_scan_keys(struct lfs_txn_mgr *tm, const void *lo, size_t lolen, const void *hi,
		      size_t hilen, int (*cb)(void *arg, const void *k, size_t kl, const void *v,
		      size_t vl), void *arg, struct lfs_err *err)
{
	return lfs_io_scan_keys(tm->io, lo, lolen, hi, hilen, cb, arg, err);
}

void lfs_txn_stats(struct lfs_txn_mgr *tm, struct lfs_txn_stats *st) { *st = tm->st; }

int lfs_txn_group_begin(struct lfs_txn_mgr *tm) { return lfs_io_group_begin(tm->io); }
int lfs_txn_group_commit(struct lfs_txn_mgr *tm, int sync) { return lfs_io_group_commit(tm->io, sync); }
