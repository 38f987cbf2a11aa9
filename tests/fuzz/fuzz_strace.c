/*
 * tests/fuzz/fuzz_strace.c — libFuzzer harness for the strace importer
 * (lib/trace/strace.c), feeding the input line by line and resolving the
 * events' paths like `trace import` does.
 */
#include "trace/strace.h"
#include "trace/trace.h"

#include <stdint.h>
#include <string.h>

static int emit(void *ctx, struct lfs_trace_event *ev)
{
	struct lfs_trace_paths *p = ctx;
	lfs_trace_paths_apply(p, ev);
	volatile size_t n = 0;
	if (ev->path_abs)
		n += strlen(ev->path_abs);
	if (ev->path2_abs)
		n += strlen(ev->path2_abs);
	(void)n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lfs_strace *s;
	struct lfs_trace_paths *p;
	if (lfs_strace_new(&s))
		return 0;
	if (lfs_trace_paths_new(&p)) {
		lfs_strace_free(s);
		return 0;
	}
	lfs_trace_paths_set_cwd(p, 100, "/work");
	const char *c = (const char *)data, *end = c + size;
	while (c < end) {
		const char *nl = memchr(c, '\n', (size_t)(end - c));
		size_t l = nl ? (size_t)(nl - c) : (size_t)(end - c);
		lfs_strace_line(s, c, l, emit, p);
		c += l + 1;
	}
	lfs_strace_end(s, emit, p);
	lfs_trace_paths_free(p);
	lfs_strace_free(s);
	return 0;
}
