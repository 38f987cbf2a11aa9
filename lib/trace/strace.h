/*
 * lib/trace/strace.h — parse `strace -f -ttt -T -y -yy` output into trace
 * events (used by `lightfs trace import`, fuzzed by tests/fuzz/fuzz_strace.c).
 *
 * Feed lines in order; complete calls are handed to emit() in the order
 * they finish.  `<unfinished ...>` halves wait per tid for their
 * `<... NAME resumed>` half; the event keeps the time of the first half.
 * Lines that are not calls of the traced set (signals, other syscalls,
 * garbage) are skipped, never an error.  Events carry pid = thread group
 * (rebuilt from clone(CLONE_THREAD) returns), tid = strace's pid column,
 * ts_ns relative to the first timestamp seen (lfs_strace_start_ns), and
 * path_abs from the -y annotations when present.
 */
#ifndef LFS_TRACE_STRACE_H
#define LFS_TRACE_STRACE_H

#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"

struct lfs_strace;
typedef int (*lfs_strace_emit_fn)(void *ctx, struct lfs_trace_event *ev);

int lfs_strace_new(struct lfs_strace **sp);
void lfs_strace_free(struct lfs_strace *s);
/* One line (need not be NUL-terminated, no trailing newline needed).
 * Returns 0, or the first non-zero value emit() returned. */
int lfs_strace_line(struct lfs_strace *s, const char *line, size_t len,
		    lfs_strace_emit_fn emit, void *ctx);
/* End of input: calls still unfinished are emitted with
 * LFS_TREV_UNFINISHED. */
int lfs_strace_end(struct lfs_strace *s, lfs_strace_emit_fn emit, void *ctx);
/* CLOCK_REALTIME ns of the first timestamped line (0 if none yet). */
uint64_t lfs_strace_start_ns(const struct lfs_strace *s);
/* Lines parsed as calls / skipped. */
uint64_t lfs_strace_calls(const struct lfs_strace *s);
uint64_t lfs_strace_skipped(const struct lfs_strace *s);

#endif
