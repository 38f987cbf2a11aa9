/*
 * lib/io/io.c — the cheeze request channel (see io.h).
 *
 * Shared region (one MAP_SHARED|MAP_ANONYMOUS mapping, as the seed's shm.c):
 *
 *   struct shm_hdr   ring head/tail, counts
 *   uint32_t ring[qd] tags of submitted, not yet dispatched requests (FIFO)
 *   struct req  slot[qd] the request slots; a tag is a slot index
 *
 * Life of a request: a free tag is taken (submit blocks while none is
 * free), the slot is filled, its tag appended to the ring (or the item is
 * merged into the request at the ring's tail), the server thread picks a
 * tag by the scheduler, applies it to the KV engine, records the latency
 * and completes it: a waited request is marked done and its waiter woken
 * (complete(&req->acked)); an async one gives its tag back at once.
 *
 * A txn's items are written by the submitter into the txn's batch buffer
 * (a KV batch: the request payload, as send_req fills the SHM buffer); the
 * item requests carry them through the ring (merged, counted, timed) and
 * the COMMIT request makes the server commit that buffer as one atomic KV
 * batch and advance done_seq.  The buffer belongs to the submitter until
 * its COMMIT is queued, to the server after; the pool of buffers is under mu.
 */
#include "io/io.h"
#include "common/tsc.h"

#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

enum { OP_GET, OP_MGET, OP_SCAN, OP_PUT, OP_PUTPAGE, OP_DEL, OP_DELRANGE, OP_COMMIT,
       OP_SYNC, OP_EXEC, OP_ABORT };

#define MERGE_MAX 1024          /* page puts merged into one request */
#define INLINE_COMMIT_MAX (64u << 10)  /* async commits up to this many bytes are
					* served by the submitter when the server is idle */

struct req {
	int op;
	int waited;                  /* a caller sleeps on it; it frees the tag */
	volatile int done;
	int rc;
	uint64_t txn, ino, last;     /* merge key for OP_PUTPAGE */
	uint64_t seq;                /* OP_COMMIT */
	int sync;
	uint64_t t_submit;         /* lfs_ticks() */
	int nitems;                  /* items carried (merged page puts) */
	/* sync reads */
	const void *key; size_t klen;
	void *buf; size_t bcap; size_t *vlen; void **valp;
	size_t n; const void *const *keys; const size_t *klens; void *const *vals; ssize_t *vlens;
	const void *hi; size_t hilen;          /* scan */
	uint8_t *out; size_t outlen, outcap;   /* scan results: [kl32 vl32 k v]... */
	int more;
	int keys_only;                         /* scan: [kl32 vl32 k], vl = value length */
	int (*fn)(struct lfs_kv *kv, void *arg); void *arg;
	struct lfs_err err;          /* last: get_tag clears what precedes it */
};

struct shm_hdr {
	uint32_t head, tail, queued;  /* ring indexes (mod qd+1), entries */
	uint32_t busy;               /* slots taken */
};

struct txnb { uint64_t txn; struct lfs_kv_batch *b; int used; int err; };

struct lfs_io {
	struct lfs_kv *kv;
	struct lfs_io_opts o;
	uint32_t qd;
	void *shm; size_t shm_len;
	struct shm_hdr *h;
	uint32_t *ring;              /* qd + 1 entries */
	struct req *slot;
	uint32_t *freetags; uint32_t nfree;
	pthread_mutex_t mu;
	pthread_cond_t cv_sub, cv_done, cv_free;
	pthread_t thr;
	int stop, plugged, serving;
	uint64_t next_txn, next_seq, done_seq;
	int async_err; uint64_t async_err_seq;
	struct txnb *tb; int ntb;
	struct lfs_io_stats st;
	uint64_t waited;             /* highest seq a caller waited for (done_lag) */
};


static void hist_add(struct lfs_hist *h, uint64_t v)
{
	int b = 0;
	while (b < LFS_HIST_BUCKETS - 1 && (v >> (b + 1)))
		b++;
	h->count++;
	h->sum_ns += v;
	if (v > h->max_ns)
		h->max_ns = v;
	h->b[b]++;
}

uint64_t lfs_hist_quantile(const struct lfs_hist *h, double q)
{
	if (!h || h->count == 0)
		return 0;
	uint64_t want = (uint64_t)(q * (double)h->count), seen = 0;
	for (int i = 0; i < LFS_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want || seen == h->count)
			return i >= 63 ? UINT64_MAX : (1ull << (i + 1)) - 1;
	}
	return h->max_ns;
}

static void emit(struct lfs_io *io, enum lfs_ev_kind k, uint64_t count, uint64_t bytes, int flag)
{
	if (!io->o.hook)
		return;
	struct lfs_event ev = { .kind = k, .count = count, .bytes = bytes, .flag = flag };
	io->o.hook(io->o.hook_arg, &ev);
}

/* ---------------------------------------------------------------- ring */

static uint32_t rlen(struct lfs_io *io) { return io->qd + 1; }

static uint32_t ring_at(struct lfs_io *io, uint32_t i) /* i-th queued entry */
{
	return io->ring[(io->h->head + i) % rlen(io)];
}

static void ring_push(struct lfs_io *io, uint32_t tag)
{
	io->ring[io->h->tail] = tag;
	io->h->tail = (io->h->tail + 1) % rlen(io);
	io->h->queued++;
}

static void ring_remove(struct lfs_io *io, uint32_t i)
{
	uint32_t L = rlen(io);
	for (uint32_t j = i; j + 1 < io->h->queued; j++)
		io->ring[(io->h->head + j) % L] = io->ring[(io->h->head + j + 1) % L];
	io->h->tail = (io->h->tail + L - 1) % L;
	io->h->queued--;
}

static int is_read(int op) { return op == OP_GET || op == OP_MGET || op == OP_SCAN; }
static int is_barrier(int op) { return op == OP_COMMIT || op == OP_SYNC || op == OP_EXEC || op == OP_ABORT; }

/* Scheduler: index of the queued entry to dispatch next.  deadline: the
 * oldest write goes first once it waited write_expire_ns, else the oldest
 * read that no commit precedes, else FIFO.  (Reads are preferred always, so
 * read_expire_ns only bounds how long the preference may starve writes via
 * write_expire_ns; one caller thread has at most one read queued.) */
static uint32_t sched_pick(struct lfs_io *io)
{
	if (io->o.sched != LFS_SCHED_DEADLINE)
		return 0;                               /* noop: FIFO */
	struct req *first = &io->slot[ring_at(io, 0)];
	if (!is_read(first->op) && lfs_ticks_ns(first->t_submit, lfs_ticks()) > io->o.write_expire_ns)
		return 0;                               /* expired write goes first */
	for (uint32_t i = 0; i < io->h->queued; i++) {
		struct req *r = &io->slot[ring_at(io, i)];
		if (is_read(r->op))
			return i;
		if (is_barrier(r->op))
			break;                          /* a read never passes a commit */
	}
	return 0;
}

/* ---------------------------------------------------------------- server */

static struct txnb *txn_find(struct lfs_io *io, uint64_t txn)
{
	for (int i = 0; i < io->ntb; i++)
		if (io->tb[i].used && io->tb[i].txn == txn)
			return &io->tb[i];
	return NULL;
}

/* Under mu: the batch buffer of txn (made on its first item). */
static struct lfs_kv_batch *txn_batch(struct lfs_io *io, uint64_t txn, int create)
{
	int freei = -1;
	for (int i = 0; i < io->ntb; i++) {
		if (io->tb[i].used && io->tb[i].txn == txn)
			return io->tb[i].b;
		if (!io->tb[i].used && freei < 0)
			freei = i;
	}
	if (!create)
		return NULL;
	if (freei < 0) {
		struct txnb *n = realloc(io->tb, (size_t)(io->ntb + 1) * sizeof *n);
		if (!n)
			return NULL;
		io->tb = n;
		freei = io->ntb++;
		io->tb[freei].b = lfs_kv_batch_new();
		if (!io->tb[freei].b)
			return NULL;
	}
	io->tb[freei].used = 1;
	io->tb[freei].txn = txn;
	io->tb[freei].err = 0;
	return io->tb[freei].b;
}

static void txn_batch_done(struct lfs_io *io, uint64_t txn)
{
	for (int i = 0; i < io->ntb; i++)
		if (io->tb[i].used && io->tb[i].txn == txn) {
			io->tb[i].used = 0;
			lfs_kv_batch_clear(io->tb[i].b);
			/* keep a few batches for reuse, free the rest's memory */
			if (i >= 3) {
				lfs_kv_batch_free(io->tb[i].b);
				io->tb[i] = io->tb[--io->ntb];
			}
			return;
		}
}

static int scan_into(struct lfs_io *io, struct req *r)
{
	struct lfs_kv_iter *it = lfs_kv_iter_new(io->kv, r->key, r->klen, r->hi, r->hilen);
	if (!it)
		return -ENOMEM;
	r->outlen = 0;
	r->more = 0;
	for (; lfs_kv_iter_valid(it); lfs_kv_iter_next(it)) {
		size_t kl, vl;
		const void *k = lfs_kv_iter_key(it, &kl);
		const void *v = NULL;
		if (r->keys_only) {
			vl = lfs_kv_iter_value_len(it);
		} else {
			v = lfs_kv_iter_value(it, &vl);
			if (!v)
				break;
		}
		size_t need = 8 + kl + (r->keys_only ? 0 : vl);
		if (r->outlen && r->outlen + need > r->outcap) {
			r->more = 1;
			break;
		}
		if (r->outlen + need > r->outcap) {
			uint8_t *nb = realloc(r->out, need);
			if (!nb) {
				lfs_kv_iter_free(it);
				return -ENOMEM;
			}
			r->out = nb;
			r->outcap = need;
		}
		uint32_t a = (uint32_t)kl, b = (uint32_t)vl;
		memcpy(r->out + r->outlen, &a, 4);
		memcpy(r->out + r->outlen + 4, &b, 4);
		memcpy(r->out + r->outlen + 8, k, kl);
		if (v)
			memcpy(r->out + r->outlen + 8 + kl, v, vl);
		r->outlen += need;
	}
	int rc = lfs_kv_iter_error(it, &r->err);
	lfs_kv_iter_free(it);
	return rc;
}

static void serve(struct lfs_io *io, struct req *r)
{
	int rc = 0;
	switch (r->op) {
	case OP_GET:
		if (r->valp)
			rc = lfs_kv_get(io->kv, r->key, r->klen, r->valp, r->vlen, &r->err);
		else
			rc = lfs_kv_get_into(io->kv, r->key, r->klen, r->buf, r->bcap, r->vlen, &r->err);
		break;
	case OP_MGET:
		rc = lfs_kv_mget_into(io->kv, r->n, r->keys, r->klens, r->vals, r->bcap, r->vlens,
				      &r->err);
		break;
	case OP_SCAN: rc = scan_into(io, r); break;
	case OP_PUT: case OP_PUTPAGE: case OP_DEL: case OP_DELRANGE:
		break;                  /* the payload is in the txn's buffer already */
	case OP_COMMIT: {
		pthread_mutex_lock(&io->mu);
		struct txnb *t = txn_find(io, r->txn);
		struct lfs_kv_batch *b = t ? t->b : NULL;
		int err = t ? t->err : 0;
		pthread_mutex_unlock(&io->mu);
		if (err)
			rc = lfs_seterr(&r->err, err, "txn: %s", lfs_strerror(err));
		else if (b && lfs_kv_batch_count(b))
			rc = lfs_kv_commit(io->kv, b, r->sync, &r->err);
		else if (r->sync)
			rc = lfs_kv_sync(io->kv, &r->err);
		pthread_mutex_lock(&io->mu);
		txn_batch_done(io, r->txn);
		pthread_mutex_unlock(&io->mu);
		break;
	}
	case OP_ABORT:
		pthread_mutex_lock(&io->mu);
		txn_batch_done(io, r->txn);
		pthread_mutex_unlock(&io->mu);
		break;
	case OP_SYNC: rc = lfs_kv_sync(io->kv, &r->err); break;
	case OP_EXEC: rc = r->fn(io->kv, r->arg); break;
	}
	r->rc = rc;
}

static void free_tag(struct lfs_io *io, uint32_t tag)
{
	struct req *r = &io->slot[tag];
	r->nitems = 0;
	io->freetags[io->nfree++] = tag;
	io->h->busy--;
	pthread_cond_signal(&io->cv_free);
}

/* Under mu, after serve(): account and complete r (tag: its slot). */
static void complete_req(struct lfs_io *io, struct req *r, uint32_t tag, uint64_t lat)
{
	hist_add(&io->st.lat, lat);
	io->st.requests++;
	if (r->op == OP_COMMIT) {
		io->st.commits++;
		if (r->rc < 0 && !r->waited && !io->async_err) {
			io->async_err = r->rc;
			io->async_err_seq = r->seq;
		}
		__atomic_store_n(&io->done_seq, r->seq, __ATOMIC_RELEASE);
	}
	if (r->waited) {
		r->done = 1;
		pthread_cond_broadcast(&io->cv_done);
	} else {
		free_tag(io, tag);
		if (r->op == OP_COMMIT)
			pthread_cond_broadcast(&io->cv_done);
	}
	if (io->h->queued == 0)
		pthread_cond_broadcast(&io->cv_done);   /* drain waiters */
}

/* The KV server thread (shm_kthread).  `serving` is the token for the kv
 * handle: whoever holds it (this thread, or a submitter issuing directly)
 * is the only one calling into kv. */
static void *server(void *arg)
{
	struct lfs_io *io = arg;
	pthread_mutex_lock(&io->mu);
	for (;;) {
		while (!io->stop && (io->h->queued == 0 || io->plugged || io->serving))
			pthread_cond_wait(&io->cv_sub, &io->mu);
		if (io->serving)
			continue;
		if (io->h->queued == 0 && io->stop)
			break;
		if (io->h->queued == 0)
			continue;
		uint32_t i = sched_pick(io);
		uint32_t tag = ring_at(io, i);
		ring_remove(io, i);
		struct req *r = &io->slot[tag];
		io->serving = 1;
		pthread_mutex_unlock(&io->mu);
		serve(io, r);
		uint64_t lat = lfs_ticks_ns(r->t_submit, lfs_ticks());
		pthread_mutex_lock(&io->mu);
		io->serving = 0;
		complete_req(io, r, tag, lat);
	}
	pthread_mutex_unlock(&io->mu);
	return NULL;
}

/* ---------------------------------------------------------------- submit */

/* Under mu: take a free slot (blocks while the queue is full). */
static uint32_t get_tag(struct lfs_io *io)
{
	while (io->nfree == 0) {
		if (io->plugged) {      /* a full plug list is flushed (blk_flush_plug) */
			io->plugged = 0;
			pthread_cond_signal(&io->cv_sub);
		}
		pthread_cond_wait(&io->cv_free, &io->mu);
	}
	uint32_t tag = io->freetags[--io->nfree];
	struct req *r = &io->slot[tag];
	uint8_t *out = r->out;
	size_t outcap = r->outcap;
	/* all but the 512-byte message, which a failure sets (with its NUL) */
	memset(r, 0, offsetof(struct req, err));
	r->err.code = 0;
	r->err.msg[0] = 0;
	r->out = out;
	r->outcap = outcap;
	io->h->busy++;
	if (io->h->busy > io->st.max_depth)
		io->st.max_depth = io->h->busy;
	r->t_submit = lfs_ticks();
	return tag;
}

static void queue_tag(struct lfs_io *io, uint32_t tag)
{
	ring_push(io, tag);
	if (!io->plugged)
		pthread_cond_signal(&io->cv_sub);
}

/* Under mu, with the kv token free: take it and serve queued requests on
 * the calling thread, in scheduler order, until *done is set, or (seq_want)
 * done_seq reached *seq_want, or the queue is empty.  Same order and
 * completion as the server thread (the kv handle is still used by one
 * thread at a time: the `serving` token). */
static void serve_queued(struct lfs_io *io, volatile int *done, const uint64_t *seq_want)
{
	io->serving = 1;
	while (io->h->queued) {
		if (done && *done)
			break;
		if (seq_want && io->done_seq >= *seq_want)
			break;
		uint32_t i = sched_pick(io);
		uint32_t tag = ring_at(io, i);
		ring_remove(io, i);
		struct req *q = &io->slot[tag];
		io->st.direct++;
		pthread_mutex_unlock(&io->mu);
		serve(io, q);
		uint64_t lat = lfs_ticks_ns(q->t_submit, lfs_ticks());
		pthread_mutex_lock(&io->mu);
		complete_req(io, q, tag, lat);
	}
	io->serving = 0;
	if (io->h->queued)
		pthread_cond_signal(&io->cv_sub);
	else
		pthread_cond_broadcast(&io->cv_done);    /* drain waiters */
}

/* Under mu: submit and wait; returns with the request done (tag freed by
 * the caller through finish()). */
static void submit_wait(struct lfs_io *io, uint32_t tag)
{
	struct req *r = &io->slot[tag];
	r->waited = 1;
	io->plugged = 0;            /* a waiter unplugs (io_schedule flushes the plug) */
	if (io->h->queued == 0 && !io->serving && !io->stop) {
		/* blk_mq_try_issue_directly: nothing queued and the server idle, so
		 * the submitter serves the request itself (holding the kv token);
		 * no request is passed, so the order is the same */
		io->serving = 1;
		io->st.direct++;
		pthread_mutex_unlock(&io->mu);
		serve(io, r);
		uint64_t lat = lfs_ticks_ns(r->t_submit, lfs_ticks());
		pthread_mutex_lock(&io->mu);
		io->serving = 0;
		complete_req(io, r, tag, lat);
		if (io->h->queued)
			pthread_cond_signal(&io->cv_sub);
		return;
	}
	ring_push(io, tag);           /* no wakeup yet: we may serve it ourselves */
	if (!io->serving && !io->stop) {
		/* the server is idle (not holding the kv token): dispatch the queue
		 * ourselves, in the order the server would (sched_pick), up to and
		 * including our request — no thread switch for a waited request
		 * behind queued txn items or commits */
		serve_queued(io, &r->done, NULL);
		if (r->done)
			return;
	}
	pthread_cond_signal(&io->cv_sub);
	while (!r->done)
		pthread_cond_wait(&io->cv_done, &io->mu);
}

static int finish(struct lfs_io *io, uint32_t tag, struct lfs_err *err)
{
	struct req *r = &io->slot[tag];
	int rc = r->rc;
	if (rc < 0 && err && r->err.msg[0])
		*err = r->err;
	free_tag(io, tag);
	return rc;
}

int lfs_io_get(struct lfs_io *io, const void *key, size_t klen,
	       void *buf, size_t cap, size_t *vlen, struct lfs_err *err)
{
	pthread_mutex_lock(&io->mu);
	uint32_t tag = get_tag(io);
	struct req *r = &io->slot[tag];
	r->op = OP_GET;
	r->key = key; r->klen = klen; r->buf = buf; r->bcap = cap; r->vlen = vlen;
	io->st.reads++;
	submit_wait(io, tag);
	int rc = finish(io, tag, err);
	pthread_mutex_unlock(&io->mu);
	emit(io, LFS_EV_IO_SUBMIT, 1, 0, 0);
	emit(io, LFS_EV_KV_GET, 1, rc == 0 && vlen ? *vlen : 0, 0);
	return rc;
}

int lfs_io_get_alloc(struct lfs_io *io, const void *key, size_t klen,
		     void **val, size_t *vlen, struct lfs_err *err)
{
	pthread_mutex_lock(&io->mu);
	uint32_t tag = get_tag(io);
	struct req *r = &io->slot[tag];
	r->op = OP_GET;
	r->key = key; r->klen = klen; r->valp = val; r->vlen = vlen;
	io->st.reads++;
	submit_wait(io, tag);
	int rc = finish(io, tag, err);
	pthread_mutex_unlock(&io->mu);
	emit(io, LFS_EV_IO_SUBMIT, 1, 0, 0);
	emit(io, LFS_EV_KV_GET, 1, rc == 0 ? *vlen : 0, 0);
	return rc;
}

int lfs_io_mget(struct lfs_io *io, size_t n, const void *const *keys, const size_t *klens,
		void *const *vals, size_t cap, ssize_t *vlens, struct lfs_err *err)
{
	if (n == 0)
		return 0;
	pthread_mutex_lock(&io->mu);
	uint32_t tag = get_tag(io);
	struct req *r = &io->slot[tag];
	r->op = OP_MGET;
	r->n = n; r->keys = keys; r->klens = klens; r->vals = vals; r->bcap = cap; r->vlens = vlens;
	io->st.reads++;
	submit_wait(io, tag);
	int rc = finish(io, tag, err);
	pthread_mutex_unlock(&io->mu);
	if (io->o.hook) {
		uint64_t bytes = 0;
		for (size_t i = 0; i < n; i++)
			bytes += vlens[i] > 0 ? (uint64_t)vlens[i] : 0;
		emit(io, LFS_EV_IO_SUBMIT, n, 0, 0);
		emit(io, LFS_EV_KV_GET, n, bytes, 0);
	}
	return rc;
}

static int scan_common(struct lfs_io *io, const void *lo, size_t lolen, const void *hi,
		       size_t hilen, int keys_only,
		       int (*cb)(void *arg, const void *k, size_t kl, const void *v, size_t vl),
		       void *arg, struct lfs_err *err)
{
	uint8_t *from = NULL;
	size_t fromlen = lolen;
	int rc = 0;
	if (lolen) {
		from = malloc(lolen + 1);
		if (!from)
			return -ENOMEM;
		memcpy(from, lo, lolen);
	}
	for (;;) {
		pthread_mutex_lock(&io->mu);
		uint32_t tag = get_tag(io);
		struct req *r = &io->slot[tag];
		r->op = OP_SCAN;
		r->key = from; r->klen = fromlen; r->hi = hi; r->hilen = hilen;
		r->keys_only = keys_only;
		if (r->outcap < (64u << 10)) {
			uint8_t *nb = realloc(r->out, 64u << 10);
			if (nb) {
				r->out = nb;
				r->outcap = 64u << 10;
			}
		}
		io->st.reads++;
		submit_wait(io, tag);
		rc = r->rc;
		if (rc < 0 && err)
			*err = r->err;
		/* take the results out of the slot before freeing it */
		uint8_t *out = r->out;
		size_t outlen = r->outlen;
		int more = r->more;
		r->out = NULL;
		r->outcap = 0;
		free_tag(io, tag);
		pthread_mutex_unlock(&io->mu);
		emit(io, LFS_EV_IO_SUBMIT, 1, 0, 0);
		emit(io, LFS_EV_KV_SCAN, 1, outlen, 0);
		size_t off = 0, lastk = 0, lastkl = 0;
		while (rc == 0 && off < outlen) {
			uint32_t kl, vl;
			memcpy(&kl, out + off, 4);
			memcpy(&vl, out + off + 4, 4);
			lastk = off + 8;
			lastkl = kl;
			if (keys_only) {
				rc = cb(arg, out + off + 8, kl, NULL, vl);
				off += 8 + (size_t)kl;
			} else {
				rc = cb(arg, out + off + 8, kl, out + off + 8 + kl, vl);
				off += 8 + (size_t)kl + vl;
			}
		}
		if (rc == 0 && more && lastkl) {
			uint8_t *nf = realloc(from, lastkl + 1);
			if (!nf)
				rc = -ENOMEM;
			else {
				from = nf;
				memcpy(from, out + lastk, lastkl);
				from[lastkl] = 0;          /* the next key after it */
				fromlen = lastkl + 1;
			}
		}
		free(out);
		if (rc != 0 || !more)
			break;
	}
	free(from);
	return rc;
}

int lfs_io_scan(struct lfs_io *io, const void *lo, size_t lolen, const void *hi, size_t hilen,
		int (*cb)(void *arg, const void *k, size_t kl, const void *v, size_t vl),
		void *arg, struct lfs_err *err)
{
	return scan_common(io, lo, lolen, hi, hilen, 0, cb, arg, err);
}

int lfs_io_scan_keys(struct lfs_io *io, const void *lo, size_t lolen, const void *hi, size_t hilen,
		     int (*cb)(void *arg, const void *k, size_t kl, const void *v, size_t vl),
		     void *arg, struct lfs_err *err)
{
	return scan_common(io, lo, lolen, hi, hilen, 1, cb, arg, err);
}

uint64_t lfs_io_txn_begin(struct lfs_io *io)
{
	pthread_mutex_lock(&io->mu);
	uint64_t t = ++io->next_txn;
	pthread_mutex_unlock(&io->mu);
	return t;
}

/* Add one item to a txn.  As send_req writes the request's payload into
 * the shared buffer, the item goes straight into the txn's batch buffer (a
 * KV batch, owned by the submitter until the COMMIT is queued); the request
 * that carries it is merged into the ring's tail when that is a
 * not-yet-dispatched page put of the same txn and inode ending at index-1. */
static int submit_item(struct lfs_io *io, int op, uint64_t txn, uint64_t ino, uint64_t index,
		       const void *key, size_t klen, const void *val, size_t vlen,
		       const uint32_t *vcrc)
{
	int rc = 0;
	pthread_mutex_lock(&io->mu);
	struct lfs_kv_batch *b = txn_batch(io, txn, 1);
	if (!b) {
		pthread_mutex_unlock(&io->mu);
		return -ENOMEM;
	}
	struct req *r = NULL;
	if (op == OP_PUTPAGE && io->h->queued) {
		uint32_t last = io->ring[(io->h->tail + rlen(io) - 1) % rlen(io)];
		struct req *t = &io->slot[last];
		if (t->op == OP_PUTPAGE && t->txn == txn && t->ino == ino && t->last + 1 == index &&
		    t->nitems < MERGE_MAX) {
			r = t;
			io->st.merges++;
		}
	}
	uint32_t tag = UINT32_MAX;
	if (!r) {
		tag = get_tag(io);
		r = &io->slot[tag];
		r->op = op;
		r->txn = txn;
		r->ino = ino;
	}
	r->nitems++;
	r->last = index;
	if (op == OP_PUT || op == OP_PUTPAGE)
		io->st.writes++;
	if (tag != UINT32_MAX)
		queue_tag(io, tag);
	pthread_mutex_unlock(&io->mu);
	switch (op) {
	case OP_PUT: rc = lfs_kv_batch_put(b, key, klen, val, vlen); break;
	case OP_PUTPAGE:
		rc = vcrc ? lfs_kv_batch_put_ref_crc(b, key, klen, val, vlen, *vcrc)
			  : lfs_kv_batch_put_ref(b, key, klen, val, vlen);
		break;
	case OP_DEL: rc = lfs_kv_batch_del(b, key, klen); break;
	default: rc = lfs_kv_batch_del_range(b, key, klen, vlen ? val : NULL, vlen); break;
	}
	if (rc < 0) {
		pthread_mutex_lock(&io->mu);
		struct txnb *t = txn_find(io, txn);
		if (t && !t->err)
			t->err = rc;
		pthread_mutex_unlock(&io->mu);
	}
	if (rc == 0 && io->o.hook) {
		if (tag != UINT32_MAX)
			emit(io, LFS_EV_IO_SUBMIT, 1, 0, 1);
		emit(io, op == OP_DEL || op == OP_DELRANGE ? LFS_EV_KV_DEL : LFS_EV_KV_PUT, 1,
		     klen + (op == OP_DELRANGE ? 0 : vlen), 0);
	}
	return rc;
}

int lfs_io_put_page(struct lfs_io *io, uint64_t txn, uint64_t ino, uint64_t index,
		    const void *key, size_t klen, const void *val, size_t vlen)
{
	return submit_item(io, OP_PUTPAGE, txn, ino, index, key, klen, val, vlen, NULL);
}

int lfs_io_put_page_crc(struct lfs_io *io, uint64_t txn, uint64_t ino, uint64_t index,
			const void *key, size_t klen, const void *val, size_t vlen, uint32_t vcrc)
{
	return submit_item(io, OP_PUTPAGE, txn, ino, index, key, klen, val, vlen, &vcrc);
}

int lfs_io_put(struct lfs_io *io, uint64_t txn, const void *key, size_t klen,
	       const void *val, size_t vlen)
{
	return submit_item(io, OP_PUT, txn, 0, 0, key, klen, val, vlen, NULL);
}

int lfs_io_del(struct lfs_io *io, uint64_t txn, const void *key, size_t klen)
{
	return submit_item(io, OP_DEL, txn, 0, 0, key, klen, NULL, 0, NULL);
}

int lfs_io_del_range(struct lfs_io *io, uint64_t txn, const void *lo, size_t lolen,
		     const void *hi, size_t hilen)
{
	return submit_item(io, OP_DELRANGE, txn, 0, 0, lo, lolen, hi, hi ? hilen : 0, NULL);
}

int lfs_io_txn_commit_async(struct lfs_io *io, uint64_t txn, int sync, uint64_t *seq)
{
	pthread_mutex_lock(&io->mu);
	uint32_t tag = get_tag(io);
	struct req *r = &io->slot[tag];
	r->op = OP_COMMIT;
	r->txn = txn;
	r->sync = sync;
	r->seq = ++io->next_seq;
	*seq = r->seq;
	io->plugged = 0;
	/* A small commit (a small file's writeback) with the server idle is
	 * served here, in order, with what is queued before it: waking the
	 * server costs two thread switches and lock ping-pong, more than the
	 * commit.  Large ones go to the server, which stores them while the
	 * caller fills the next pages. */
	struct txnb *tb = txn_find(io, txn);
	int inline_ok = !io->serving && !io->stop && !sync &&
		(!tb || lfs_kv_batch_bytes(tb->b) <= INLINE_COMMIT_MAX);
	ring_push(io, tag);
	if (inline_ok) {
		uint64_t want = r->seq;
		serve_queued(io, NULL, &want);
	} else {
		pthread_cond_signal(&io->cv_sub);
	}
	pthread_mutex_unlock(&io->mu);
	emit(io, LFS_EV_IO_SUBMIT, 1, 0, 1);
	return 0;
}

int lfs_io_txn_commit(struct lfs_io *io, uint64_t txn, int sync, struct lfs_err *err)
{
	pthread_mutex_lock(&io->mu);
	uint32_t tag = get_tag(io);
	struct req *r = &io->slot[tag];
	r->op = OP_COMMIT;
	r->txn = txn;
	r->sync = sync;
	r->seq = ++io->next_seq;
	submit_wait(io, tag);
	int rc = finish(io, tag, err);
	pthread_mutex_unlock(&io->mu);
	emit(io, LFS_EV_IO_SUBMIT, 1, 0, 1);
	return rc;
}

void lfs_io_txn_abort(struct lfs_io *io, uint64_t txn)
{
	pthread_mutex_lock(&io->mu);
	uint32_t tag = get_tag(io);
	struct req *r = &io->slot[tag];
	r->op = OP_ABORT;
	r->txn = txn;
	submit_wait(io, tag);
	finish(io, tag, NULL);
	pthread_mutex_unlock(&io->mu);
}

int lfs_io_wait_seq(struct lfs_io *io, uint64_t seq)
{
	pthread_mutex_lock(&io->mu);
	if (seq > io->waited)
		io->waited = seq;
	if (io->done_seq < seq) {
		io->plugged = 0;
		pthread_cond_signal(&io->cv_sub);
	}
	if (io->done_seq < seq && !io->serving && !io->stop)
		serve_queued(io, NULL, &seq);   /* the server is idle: serve the commits here */
	while (io->done_seq < seq)
		pthread_cond_wait(&io->cv_done, &io->mu);
	int rc = 0;
	if (io->async_err && io->async_err_seq <= seq) {
		rc = io->async_err;
		io->async_err = 0;
	}
	pthread_mutex_unlock(&io->mu);
	return rc;
}

uint64_t lfs_io_done_seq(struct lfs_io *io)
{
	if (!io->o.done_lag)
		return __atomic_load_n(&io->done_seq, __ATOMIC_ACQUIRE);   /* no lock: polled per page */
	/* done as the submission order says (done_lag, io.h) */
	pthread_mutex_lock(&io->mu);
	uint64_t l = io->next_seq > io->o.done_lag ? io->next_seq - io->o.done_lag : 0;
	if (l < io->waited)
		l = io->waited;
	if (io->done_seq < l) {
		io->plugged = 0;
		pthread_cond_signal(&io->cv_sub);
		if (!io->serving && !io->stop)
			serve_queued(io, NULL, &l);
		while (io->done_seq < l)
			pthread_cond_wait(&io->cv_done, &io->mu);
	}
	pthread_mutex_unlock(&io->mu);
	return l;
}

uint64_t lfs_io_last_seq(struct lfs_io *io)
{
	pthread_mutex_lock(&io->mu);
	uint64_t s = io->next_seq;
	pthread_mutex_unlock(&io->mu);
	return s;
}

void lfs_io_drain(struct lfs_io *io)
{
	pthread_mutex_lock(&io->mu);
	io->plugged = 0;
	pthread_cond_signal(&io->cv_sub);
	while (io->h->queued || io->serving)
		pthread_cond_wait(&io->cv_done, &io->mu);
	pthread_mutex_unlock(&io->mu);
}

void lfs_io_plug(struct lfs_io *io)
{
	pthread_mutex_lock(&io->mu);
	io->plugged = 1;
	pthread_mutex_unlock(&io->mu);
}

void lfs_io_unplug(struct lfs_io *io)
{
	pthread_mutex_lock(&io->mu);
	io->plugged = 0;
	pthread_cond_signal(&io->cv_sub);
	pthread_mutex_unlock(&io->mu);
}

int lfs_io_sync(struct lfs_io *io, struct lfs_err *err)
{
	pthread_mutex_lock(&io->mu);
	uint32_t tag = get_tag(io);
	io->slot[tag].op = OP_SYNC;
	submit_wait(io, tag);
	int rc = finish(io, tag, err);
	pthread_mutex_unlock(&io->mu);
	return rc;
}

int lfs_io_exec(struct lfs_io *io, int (*fn)(struct lfs_kv *kv, void *arg), void *arg)
{
	pthread_mutex_lock(&io->mu);
	uint32_t tag = get_tag(io);
	struct req *r = &io->slot[tag];
	r->op = OP_EXEC;
	r->fn = fn;
	r->arg = arg;
	submit_wait(io, tag);
	int rc = finish(io, tag, NULL);
	pthread_mutex_unlock(&io->mu);
	return rc;
}

static int group_begin_fn(struct lfs_kv *kv, void *arg)
{
	(void)arg;
	return lfs_kv_group_begin(kv, NULL);
}

static int group_commit_fn(struct lfs_kv *kv, void *arg)
{
	return lfs_kv_group_commit(kv, *(int *)arg, NULL);
}

int lfs_io_group_begin(struct lfs_io *io)
{
	return lfs_io_exec(io, group_begin_fn, NULL);
}

int lfs_io_group_commit(struct lfs_io *io, int sync)
{
	/* async commits before it complete first (FIFO); their errors count */
	int rc = lfs_io_wait_seq(io, lfs_io_last_seq(io));
	int r = lfs_io_exec(io, group_commit_fn, &sync);
	return rc < 0 ? rc : r;
}

void lfs_io_set_hook(struct lfs_io *io, void (*hook)(void *, const struct lfs_event *), void *arg)
{
	io->o.hook = hook;
	io->o.hook_arg = arg;
}

void lfs_io_stats(struct lfs_io *io, struct lfs_io_stats *st)
{
	pthread_mutex_lock(&io->mu);
	*st = io->st;
	pthread_mutex_unlock(&io->mu);
}

static int kvstats_fn(struct lfs_kv *kv, void *arg)
{
	lfs_kv_stats(kv, arg);
	return 0;
}

void lfs_io_kv_stats(struct lfs_io *io, struct lfs_kv_stats *st)
{
	lfs_io_exec(io, kvstats_fn, st);
}

/* ---------------------------------------------------------------- start / stop */

int lfs_io_start(struct lfs_kv *kv, const struct lfs_io_opts *o, struct lfs_io **out,
		 struct lfs_err *err)
{
	struct lfs_io_opts def = { 0 };
	*out = NULL;
	lfs_tsc_init();                  /* request latencies (t_submit) */
	struct lfs_io *io = calloc(1, sizeof *io);
	if (!io)
		return lfs_seterr(err, -ENOMEM, "io: out of memory");
	io->kv = kv;
	io->o = o ? *o : def;
	if (!io->o.queue_depth)
		io->o.queue_depth = 64;
	if (io->o.queue_depth > 4096)
		io->o.queue_depth = 4096;
	if (!io->o.read_expire_ns)
		io->o.read_expire_ns = 500000;
	if (!io->o.write_expire_ns)
		io->o.write_expire_ns = 5000000;
	io->qd = io->o.queue_depth;
	size_t hl = (sizeof(struct shm_hdr) + 63) & ~(size_t)63;
	size_t rl = ((io->qd + 1) * sizeof(uint32_t) + 63) & ~(size_t)63;
	io->shm_len = hl + rl + io->qd * sizeof(struct req);
	io->shm = mmap(NULL, io->shm_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (io->shm == MAP_FAILED) {
		free(io);
		return lfs_seterr(err, -errno, "io: mmap of the request ring: %s", lfs_strerror(-errno));
	}
	io->h = io->shm;
	io->ring = (uint32_t *)((char *)io->shm + hl);
	io->slot = (struct req *)((char *)io->shm + hl + rl);
	io->freetags = malloc(io->qd * sizeof *io->freetags);
	if (!io->freetags) {
		munmap(io->shm, io->shm_len);
		free(io);
		return lfs_seterr(err, -ENOMEM, "io: out of memory");
	}
	for (uint32_t i = 0; i < io->qd; i++)
		io->freetags[io->nfree++] = io->qd - 1 - i;
	pthread_mutex_init(&io->mu, NULL);
	pthread_cond_init(&io->cv_sub, NULL);
	pthread_cond_init(&io->cv_done, NULL);
	pthread_cond_init(&io->cv_free, NULL);
	int rc = pthread_create(&io->thr, NULL, server, io);
	if (rc) {
		free(io->freetags);
		munmap(io->shm, io->shm_len);
		free(io);
		return lfs_seterr(err, -rc, "io: cannot start the KV server thread: %s",
				  lfs_strerror(-rc));
	}
	*out = io;
	return 0;
}

void lfs_io_stop(struct lfs_io *io)
{
	if (!io)
		return;
	pthread_mutex_lock(&io->mu);
	io->stop = 1;
	io->plugged = 0;
	pthread_cond_signal(&io->cv_sub);
	pthread_mutex_unlock(&io->mu);
	pthread_join(io->thr, NULL);
	for (uint32_t i = 0; i < io->qd; i++) {
		free(io->slot[i].out);
	}
	for (int i = 0; i < io->ntb; i++)
		lfs_kv_batch_free(io->tb[i].b);
	free(io->tb);
	free(io->freetags);
	pthread_mutex_destroy(&io->mu);
	pthread_cond_destroy(&io->cv_sub);
	pthread_cond_destroy(&io->cv_done);
	pthread_cond_destroy(&io->cv_free);
	munmap(io->shm, io->shm_len);
	free(io);
}
