/*
 * cmd/cp_pre.h — the reader thread of `lightfs cp` (cmd/cp_pre.c): for a
 * host source copied into an image, and for an image source copied out to
 * the host.
 *
 * Copying a host tree into an image costs two kinds of work per file: the
 * host side (openat, fstat, read, readlinkat, getdents, close: what tar cf
 * does) and the image side (records, checksums, the KV batch).  A reader
 * thread does the host side ahead of the copy, walking the tree in exactly
 * the order cp walks it (depth first, each directory listed whole before
 * any of its entries) and passing what it found through a bounded ring of
 * records; cp's own thread builds the image from them.  On two cores the
 * host side is then off the critical path.  Copying out, the reader reads
 * the image (its own read-only mount: lookups, stats, listings, pages and
 * their checksums) and cp's thread only creates the host files.
 *
 * The stream for one top entry, each record with the depth of its entry
 * (the top is depth 0):
 *
 *   ENTRY  name, stat, an error of opening it (-errno: nothing follows),
 *          a symlink's target (or the readlink error)
 *   for a regular file: DATA (offset, bytes)...  END (0 or a read error;
 *          a sparse copy: the size to truncate to)
 *   for a directory: the ENTRY of each name in it (depth + 1, with what
 *          follows them)...  LEAVE (0, or an error of listing the
 *          directory: then nothing of it was listed)
 *
 * The consumer takes records in order (pre_peek/pre_pop) and may skip the
 * rest of an entry it does not copy (pre_skip_to: up to its END or LEAVE).
 * Memory is bounded by the ring (PRE_RING bytes) and the reader's listing
 * of the directories on its current path.
 */
#ifndef LFS_CMD_CP_PRE_H
#define LFS_CMD_CP_PRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

enum pre_kind { PRE_ENTRY = 1, PRE_DATA, PRE_END, PRE_LEAVE, PRE_WRAP };

/* ENTRY flags */
#define PRE_F_DATA   1u   /* a regular file: DATA... END follow */
#define PRE_F_DIR    2u   /* a directory: its entries and LEAVE follow */
#define PRE_F_LINK   4u   /* a symlink: target() or err_link */
#define PRE_F_SPARSE 8u   /* DATA at offsets, END truncates to its size */
#define PRE_F_MAP    16u  /* DATA: the bytes are the source's own pages, mapped
			   * (pre_bytes); unmapped by pre_pop */

struct pre_rec {
	uint32_t len;              /* the whole record, a multiple of 8 */
	uint8_t kind;              /* enum pre_kind */
	uint8_t flags;             /* ENTRY: PRE_F_* */
	uint16_t namelen;          /* ENTRY: bytes of the name (no NUL) */
	uint32_t depth;
	int32_t err;               /* ENTRY: opening/stat failed (-errno); for a symlink,
				    * readlink failed; END: read failed; LEAVE: listing failed */
	uint32_t dlen;             /* DATA: bytes; ENTRY of a symlink: target length */
	uint32_t pad;
	uint64_t off;              /* DATA: offset; END of a sparse copy: the size */
	struct stat st;            /* ENTRY (unless err): the source's stat */
	char data[];               /* ENTRY: name NUL [target NUL]; DATA: bytes */
};

static inline const char *pre_name(const struct pre_rec *r) { return r->data; }
static inline const char *pre_target(const struct pre_rec *r) { return r->data + r->namelen + 1; }
/* DATA: its dlen bytes */
static inline const char *pre_bytes(const struct pre_rec *r)
{
	if (!(r->flags & PRE_F_MAP))
		return r->data;
	const char *m;
	memcpy(&m, r->data, sizeof m);
	return m;
}

/* A large host file (PRE_MAP_MIN bytes or more, no holes) is passed as
 * its own pages mapped (mmap, populated by the reader), not read into the
 * ring: the consumer's one copy into the image's page cache is the only
 * copy of its bytes.  Should the file shrink while it is copied, touching
 * a mapped page past its new end raises SIGBUS: the reader's handler maps
 * zeros there and notes it.  1 when that happened since the last call
 * (the data the consumer just wrote is not the file's: an error). */
int pre_fault_take(void);

/* The names of one directory, read whole before any entry is copied (cp
 * copies none before all are read; the image's iterator must not live
 * across writes to the same image): records of a type byte, then the
 * NUL-terminated name, back to back; n counts them. */
struct names { char *buf; size_t len, cap; size_t n; };
/* Append one name.  0 or -ENOMEM (the list is left as it was). */
int names_add(struct names *nm, unsigned char type, const char *name);
/* Append the names of the host directory open at fd ("." and ".." left
 * out; fd stays open: the listing reads through a dup of it).  0 or -errno. */
int names_list_dir(int fd, struct names *nm);

struct pre;

/* Start the reader on one host source: NAME relative to DFD (the top
 * entry; AT_FDCWD for a path as given).  recursive: list and walk
 * directories; deref: follow symlinks (-L; a directory met again below
 * itself is not walked).  chunk: most bytes per DATA record.  Returns NULL
 * when no thread could be started (the caller reads the host itself). */
struct pre *pre_start(int dfd, const char *name, int recursive, int deref, size_t chunk);

/* The same for a source in an image: PATH in IMAGE, read through the
 * reader's own read-only mount of the image (the engine serves one thread
 * per mount; readers share an image).  NULL when the image cannot be
 * mounted again or no thread started (the caller reads it itself). */
struct pre *pre_start_img(const char *image, const char *path, int recursive, int deref,
			  size_t chunk);

/* The next record, waiting for the reader; NULL when the stream ended
 * (the reader walked everything, or was stopped). */
const struct pre_rec *pre_peek(struct pre *p);

/* Done with the record pre_peek returned (its memory may be reused). */
void pre_pop(struct pre *p);

/* Skip records up to and including the END or LEAVE at depth (the rest of
 * an entry that has one). */
void pre_skip_to(struct pre *p, uint32_t depth);

/* Skip the ENTRY at the head of the stream and everything of it. */
void pre_skip_entry(struct pre *p);

/* Open a host source entry as cp does (both threads use it): NAME
 * relative to DFD, never following a symlink unless deref; dtype is
 * readdir's hint (DT_UNKNOWN for none).  Fills *st; *fd is an open fd for a
 * regular file or a directory, else -1.  Returns 0 or -errno. */
int pre_host_open(int dfd, const char *name, unsigned char dtype, int deref,
		  struct stat *st, int *fd);

/* Stop the reader (if still running), wait for it, free everything. */
void pre_stop(struct pre *p);

#endif
