/*
 * lib/replay/tread.h — the replay pass's trace reader: lfs_trace_next run
 * ahead on a thread of its own.
 *
 * Decoding the trace (zstd and the event encoding) was ~7% of the replay
 * thread's CPU time in the pass (tar-xf.trace).  rp_tread_open starts a
 * decoder thread that fills batches of events (RP_TREAD_BATCH events, or
 * fewer once their --data bytes pass RP_TREAD_BYTES) into a ring of
 * RP_TREAD_RING batches; rp_tread_next hands them out one event at a time,
 * in trace order.  The events are the ones lfs_trace_next yields, nothing
 * else changes: the replay's decisions and counters are the same.
 *
 * Invariants
 *  - An event's path strings point into the reader's intern table (valid
 *    until rp_tread_close); its data into the batch it came in, valid until
 *    the next rp_tread_next call that starts another batch — so, as with
 *    lfs_trace_next, an event is valid only until the next call.
 *  - After rp_tread_next returned <= 0 it keeps returning the same (the
 *    error, copied into err, is the one lfs_trace_next gave, at the same
 *    point of the trace).
 *  - Without a thread (pthread_create failed) it reads in the caller's
 *    thread: same events.
 *  - Memory: at most RP_TREAD_RING batches of events and data are held.
 *  - The decoder, finding the ring full, sleeps until half of it is free:
 *    one wakeup per RP_TREAD_RING / 2 batches.
 */
#ifndef LFS_REPLAY_TREAD_H
#define LFS_REPLAY_TREAD_H

#include "common/err.h"
#include "trace/trace.h"

#define RP_TREAD_BATCH 256
#define RP_TREAD_RING 8
#define RP_TREAD_BYTES (1u << 20)

struct rp_tread;

int  rp_tread_open(struct rp_tread **out, const char *path, struct lfs_err *err);
/* 1 and *ev set, 0 at the end, < 0 on error (err set). */
int  rp_tread_next(struct rp_tread *t, struct lfs_trace_event *ev, struct lfs_err *err);
/* After rp_tread_next returned 0: lfs_trace_truncated of the reader. */
int  rp_tread_truncated(const struct rp_tread *t);
/* Stops the thread (also in the middle of the trace) and frees all. */
void rp_tread_close(struct rp_tread *t);

#endif
