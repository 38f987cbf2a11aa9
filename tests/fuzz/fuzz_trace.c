/*
 * tests/fuzz/fuzz_trace.c — libFuzzer harness for the trace reader
 * (lfs_trace_open_mem / lfs_trace_next): any input must decode to a prefix
 * of events or an error, never crash, hang or read out of bounds.
 * Inputs shorter than a header get a valid header prepended, so the
 * fuzzer spends its time in the record decoder.
 */
#include "trace/trace.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* a valid header, taken from the first seed that has one */
static uint8_t hdr[LFS_TRACE_HDR_SIZE];
static int have_hdr;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *buf = data;
	uint8_t *own = NULL;
	if (size >= LFS_TRACE_HDR_SIZE && !memcmp(data, LFS_TRACE_MAGIC, 8)) {
		if (!have_hdr) {
			memcpy(hdr, data, sizeof hdr);
			have_hdr = 1;
		}
	} else if (have_hdr) {
		own = malloc(LFS_TRACE_HDR_SIZE + size);
		if (!own)
			return 0;
		memcpy(own, hdr, LFS_TRACE_HDR_SIZE);
		memcpy(own + LFS_TRACE_HDR_SIZE, data, size);
		buf = own;
		size += LFS_TRACE_HDR_SIZE;
	}
	struct lfs_trace_reader *r;
	struct lfs_err err = { 0 };
	if (lfs_trace_open_mem(&r, buf, size, &err) == 0) {
		struct lfs_trace_event ev;
		unsigned long n = 0;
		while (lfs_trace_next(r, &ev, &err) > 0 && n < 10000000) {
			/* touch what the reader hands out */
			if (ev.path)
				n += strlen(ev.path);
			if (ev.path_abs)
				n += strlen(ev.path_abs);
			if (ev.data_len)
				n += ev.data[ev.data_len - 1];
			n++;
		}
		lfs_trace_reader_close(r);
	}
	free(own);
	return 0;
}
