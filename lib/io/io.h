/*
 * lib/io/io.h — the request channel to the KV engine (LightFS's `cheeze`).
 *
 *   vfs → pagecache → fs → txn → [io] → kv → image file
 *
 * Callers (the txn layer, and fs for metadata reads) never touch the KV
 * handle directly: they put requests into fixed, tagged request slots
 * (queue depth = number of slots), which go into a submission ring in
 * shared memory (an mmap'ed MAP_SHARED|MAP_ANONYMOUS region, as the seed's
 * shm.c) served by one KV server thread (as `shm_kthread`).  The server
 * applies each request to the KV engine and completes it, waking the waiter
 * (as `complete(&req->acked)`).  A scheduler sits between submission and
 * dispatch: `noop` (FIFO) or `deadline` (reads first, writes dispatched when
 * they pass their expiry), and both merge adjacent data-page puts of one
 * inode (consecutive page indexes) into one request.
 *
 * Writes of one transaction are submitted with the same txn id and become
 * visible / durable only when the COMMIT request of that txn is served: the
 * server applies all of the txn's items as one KV batch (atomic).  So a
 * crash never exposes part of a txn.
 *
 * When the queue is full, submit blocks until a slot completes.  A waited
 * request meeting an empty queue and an idle server is served by the
 * submitter itself (direct issue, as blk-mq does), which saves two thread
 * switches per synchronous read; the kv handle is then still used by one
 * thread at a time (the `serving` token).
 *
 * Ordering (why reads may jump ahead): the server applies requests in
 * submission order, except that `deadline` lets a read pass queued item
 * requests (PUT/DEL of a txn not yet committed, invisible to any read) —
 * never a COMMIT, SYNC or EXEC.  So a read always sees every txn whose
 * COMMIT was submitted before it, and async commits complete in submission
 * order (lfs_io_done_seq is a high-water mark).
 *
 * Payloads: every put/del writes its item into the txn's batch buffer at
 * submission (send_req copying into the shared buffer), so the caller's
 * buffers are free again on return; the request itself goes through the
 * ring (merged, counted, timed) and the COMMIT makes the server commit the
 * buffer.  Except the value of a data-page put: only its key is written at
 * submission, the value is read by the commit, on the server thread, so the
 * writer does not pay for it (a large batch goes to the image file with
 * pwritev straight from the pages, checksummed in place: no copy; see
 * lfs_kv_batch_put_ref); the page must stay unchanged until the commit
 * completes (a page in writeback is stable, txn.h).
 *
 * Plugging (blk_start_plug): while plugged the server dispatches nothing,
 * so the puts of a txn queue up and merge; a waiting call unplugs first.
 *
 * Lock order: io->mu only (the server thread takes no other lock).
 */
#ifndef LFS_IO_IO_H
#define LFS_IO_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "kv/kv.h"
#include "vfs/lightfs.h"   /* enum lfs_sched, struct lfs_hist, struct lfs_event */

struct lfs_io;

struct lfs_io_opts {
	uint32_t queue_depth;          /* request slots, 0 = 64 */
	enum lfs_sched sched;          /* noop | deadline */
	uint64_t read_expire_ns;       /* deadline: 0 = 500 µs */
	uint64_t write_expire_ns;      /* deadline: 0 = 5 ms */
	/* Optional explain hook (events IO_SUBMIT, KV_GET, KV_PUT, KV_DEL, KV_SCAN),
	 * called on the *submitting* thread when the request completes. */
	void (*hook)(void *arg, const struct lfs_event *ev);
	void *hook_arg;
	/* 0: lfs_io_done_seq is the server's progress.  N > 0 (replay, whose
	 * results must not depend on thread timing): it reports commit s done
	 * once N later commits were submitted or a caller waited for s (and
	 * waits for the server in the rare case it is behind), so what the
	 * page cache decides from it (pages still in writeback) follows the
	 * submission order alone.  With N = the txn layer's max_inflight the
	 * server is never behind it: that layer waits for s - N at each commit. */
	uint32_t done_lag;
};

struct lfs_io_stats {
	uint64_t requests;             /* requests dispatched to the server */
	uint64_t merges;               /* items merged into an existing request */
	uint64_t max_depth;            /* highest number of busy slots seen */
	uint64_t reads, writes, commits;
	uint64_t direct;               /* waited requests issued by the submitter itself
					* (queue empty, server idle: blk_mq_try_issue_directly) */
	struct lfs_hist lat;           /* submit → completion, ns */
};

/* Start the channel and its server thread over an open KV handle (the
 * channel does not own kv; close kv after lfs_io_stop). */
int  lfs_io_start(struct lfs_kv *kv, const struct lfs_io_opts *o,
		  struct lfs_io **out, struct lfs_err *err);
/* Drain every pending request, stop the server thread, free. */
void lfs_io_stop(struct lfs_io *io);

/* ---- synchronous reads (submit, then wait for completion) */
int lfs_io_get(struct lfs_io *io, const void *key, size_t klen,
	       void *buf, size_t cap, size_t *vlen, struct lfs_err *err);
int lfs_io_get_alloc(struct lfs_io *io, const void *key, size_t klen,
		     void **val, size_t *vlen, struct lfs_err *err);
/* Ordered scan over [lo, hi); cb runs on the caller's thread for each
 * record, in order; stop early by returning non-zero (returned as is). */
int lfs_io_scan(struct lfs_io *io, const void *lo, size_t lolen, const void *hi, size_t hilen,
		int (*cb)(void *arg, const void *k, size_t kl, const void *v, size_t vl),
		void *arg, struct lfs_err *err);

/* The same without loading values: cb gets v = NULL and vl = value length. */
int lfs_io_scan_keys(struct lfs_io *io, const void *lo, size_t lolen, const void *hi, size_t hilen,
		     int (*cb)(void *arg, const void *k, size_t kl, const void *v, size_t vl),
		     void *arg, struct lfs_err *err);

/* ---- writes inside a transaction (asynchronous until commit) */
uint64_t lfs_io_txn_begin(struct lfs_io *io);
/* Data-page put: (ino, index) lets the scheduler merge adjacent pages.  val
 * is read by the commit: unchanged until it completes. */
int lfs_io_put_page(struct lfs_io *io, uint64_t txn, uint64_t ino, uint64_t index,
		    const void *key, size_t klen, const void *val, size_t vlen);
/* The same with the value's CRC32C known (lfs_kv_batch_put_ref_crc). */
int lfs_io_put_page_crc(struct lfs_io *io, uint64_t txn, uint64_t ino, uint64_t index,
			const void *key, size_t klen, const void *val, size_t vlen, uint32_t vcrc);
int lfs_io_put(struct lfs_io *io, uint64_t txn, const void *key, size_t klen,
	       const void *val, size_t vlen);
int lfs_io_del(struct lfs_io *io, uint64_t txn, const void *key, size_t klen);
int lfs_io_del_range(struct lfs_io *io, uint64_t txn, const void *lo, size_t lolen,
		     const void *hi, size_t hilen);
/* Commit the txn as one atomic KV batch; with sync, durable on return.
 * Waits for completion and returns the KV result. */
int lfs_io_txn_commit(struct lfs_io *io, uint64_t txn, int sync, struct lfs_err *err);
/* Drop a txn's pending items without applying them. */
void lfs_io_txn_abort(struct lfs_io *io, uint64_t txn);

/* Make everything committed durable (lfs_kv_sync through the channel). */
int lfs_io_sync(struct lfs_io *io, struct lfs_err *err);

/* Async commit: returns at once with *seq, the commit's sequence number
 * (monotonic; completes in order).  Wait with lfs_io_wait_seq. */
int lfs_io_txn_commit_async(struct lfs_io *io, uint64_t txn, int sync, uint64_t *seq);
/* Wait until every commit up to seq completed; returns the first error of
 * a failed async commit <= seq not yet returned, else 0. */
int lfs_io_wait_seq(struct lfs_io *io, uint64_t seq);
uint64_t lfs_io_done_seq(struct lfs_io *io);   /* completed high-water mark (done_lag) */
uint64_t lfs_io_last_seq(struct lfs_io *io);   /* last commit submitted */
/* Wait until the queue is empty and the server idle (direct kv use after). */
void lfs_io_drain(struct lfs_io *io);
void lfs_io_plug(struct lfs_io *io);
void lfs_io_unplug(struct lfs_io *io);
/* Multi-get in one request (readahead): vals[i] receives at most cap bytes,
 * vlens[i] the value length or -ENOENT / a negative error.  Returns 0 or
 * the first error other than -ENOENT. */
int lfs_io_mget(struct lfs_io *io, size_t n, const void *const *keys, const size_t *klens,
		void *const *vals, size_t cap, ssize_t *vlens, struct lfs_err *err);

void lfs_io_set_hook(struct lfs_io *io, void (*hook)(void *, const struct lfs_event *), void *arg);
void lfs_io_stats(struct lfs_io *io, struct lfs_io_stats *st);
/* KV stats read through the channel (so the server thread owns kv). */
void lfs_io_kv_stats(struct lfs_io *io, struct lfs_kv_stats *st);
/* Run fn(kv, arg) on the server thread (fsck, compact, dump use it). */
int lfs_io_exec(struct lfs_io *io, int (*fn)(struct lfs_kv *kv, void *arg), void *arg);

/* A KV group (lfs_kv_group_begin / lfs_kv_group_commit) on the server
 * thread, in submission order: every commit submitted between the two is in
 * the group.  The commit waits for every earlier async commit and returns
 * the first error among them (a group holding a failed commit does not
 * commit: the KV handle is broken).  With sync, durable on return. */
int lfs_io_group_begin(struct lfs_io *io);
int lfs_io_group_commit(struct lfs_io *io, int sync);

#endif
