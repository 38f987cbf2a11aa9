/*
 * cmd/cp_flush.h — early flushing of an image being filled (cmd/cp_flush.c).
 *
 * A copy into an image is durable when the command's transaction commits:
 * one fdatasync of the image at the end.  The engine hints the kernel to
 * start writing the log early (sync_file_range WRITE every few MiB), but a
 * hint reaches only the first layer: on a loop-mounted filesystem (a file
 * system in a file, as the benchmarks use) or any stacked block device the
 * lower layer keeps the pages dirty until a flush, so the final fdatasync
 * met the whole copy at once (1 GiB: ~0.6 s of a ~1.5 s copy).  A flusher
 * thread fdatasyncs the image file (through its own read-only descriptor)
 * each time the copy has written another PRE_FLUSH_EVERY bytes, so the
 * device writes while the copy goes on.  It changes nothing about
 * atomicity: pages of the uncommitted group reach the disk earlier, and
 * recovery ignores a group without its commit record, as after any
 * writeback the kernel does on its own.  Errors are ignored (the final
 * fdatasync reports them).
 */
#ifndef LFS_CMD_CP_FLUSH_H
#define LFS_CMD_CP_FLUSH_H

#include <stdint.h>

#define CP_FLUSH_EVERY (64ull << 20)

struct cp_flush;

/* Start a flusher for the image file PATH; NULL if it cannot (no early
 * flushing then: nothing else changes). */
struct cp_flush *cp_flush_start(const char *path);

/* The copy wrote n more bytes: past every CP_FLUSH_EVERY, the flusher is
 * asked for one more fdatasync (never waited for). */
void cp_flush_note(struct cp_flush *f, uint64_t n);

/* Stop the flusher (waits for a running fdatasync), free it. */
void cp_flush_stop(struct cp_flush *f);

#endif
