/*
 * lib/fs/fsck.h — the LightFS checker: every invariant of lib/fs/FORMAT.md
 * checked over the raw KV records, and repairs as atomic KV batches.
 *
 * Checks (each problem found is one struct lfs_fsck_problem):
 *  - the KV log: every record's checksums (lfs_kv_walk), every live value;
 *  - every key is a schema key; every record decodes (checksum, ranges);
 *  - the superblock exists and is sane, its next inode number lies beyond
 *    every inode in use;
 *  - the root inode exists and is a directory;
 *  - each dentry's parent is a directory, its inode exists and its type
 *    matches the inode's; a directory has exactly one dentry naming it and
 *    is reachable from the root (no cycles);
 *  - link counts: a non-directory's equals the number of dentries naming
 *    it, a directory's is 2 + its subdirectories;
 *  - no unreachable inodes, except files unlinked while open (link count 0,
 *    no dentry): those the fs frees at last close, and after a crash fsck
 *    frees them (reported as LFS_FSCK_ORPHAN_OPEN, not an error);
 *  - data pages only for live regular files, within ceil(size / page size),
 *    each at most a page long; a symlink's size equals its target length;
 *    a directory's size is 0 (the fs keeps no size for directories).
 *
 * Repair (opts.repair): one atomic, synced KV batch per step, re-checking
 * from scratch after each step until clean or nothing more can be done:
 * superblock rewritten; broken records removed (an unreadable directory
 * inode is rebuilt so its subtree stays in place; a file with unreadable
 * metadata or data is moved to /lost+found as "#INO"); root rebuilt;
 * dangling / misplaced dentries removed and wrong types rewritten; cycles
 * broken and unreachable inodes with data linked into /lost+found (created
 * when missing; /lost+found.N when that name is taken by something else); unlinked-open orphans freed; pages past EOF or of dead
 * inodes deleted; link counts and sizes rewritten; the allocator moved past
 * every inode; damaged log records dropped by a compaction.  Undamaged files
 * keep their path and bytes.
 *
 * Library code: never prints.  Locking: the caller holds the KV handle
 * (read-only suffices without repair).
 */
#ifndef LFS_FS_FSCK_H
#define LFS_FS_FSCK_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "kv/kv.h"

enum lfs_fsck_kind {
	LFS_FSCK_LOG = 1,          /* damaged KV log record (offset in index) */
	LFS_FSCK_BAD_KEY,          /* key that is no schema key */
	LFS_FSCK_BAD_RECORD,       /* unreadable (checksum) or undecodable value */
	LFS_FSCK_SUPER,            /* superblock missing or damaged */
	LFS_FSCK_NEXT_INO,         /* allocator not beyond an inode in use */
	LFS_FSCK_ROOT,             /* root inode missing or not a directory */
	LFS_FSCK_DANGLING,         /* dentry names a missing inode */
	LFS_FSCK_BAD_PARENT,       /* dentry under a missing inode or a non-directory */
	LFS_FSCK_TYPE,             /* dentry type differs from the inode's */
	LFS_FSCK_DIR_LINKS,        /* directory named by more than one dentry */
	LFS_FSCK_CYCLE,            /* directory not reachable from the root (cycle) */
	LFS_FSCK_UNREACHABLE,      /* inode no dentry names (orphan) */
	LFS_FSCK_ORPHAN_OPEN,      /* unlinked-open file left by a crash (not an error) */
	LFS_FSCK_NLINK,            /* link count differs from the dentries */
	LFS_FSCK_SIZE,             /* symlink / directory size wrong */
	LFS_FSCK_PAGE_EOF,         /* data page at or past ceil(size / page size) */
	LFS_FSCK_PAGE_ORPHAN,      /* data page of a missing or non-regular inode */
	LFS_FSCK_DAMAGED_FILE,     /* file with unreadable data (moved to lost+found) */
	LFS_FSCK_KIND_MAX
};

struct lfs_fsck_problem {
	int      kind;             /* enum lfs_fsck_kind */
	uint64_t ino;              /* the inode concerned (0 if none) */
	uint64_t parent;           /* dentry problems: the directory */
	uint64_t index;            /* page problems: page index; LOG: file offset */
	char     name[256];        /* dentry problems: the name (NUL-terminated) */
	char     key[96];          /* the record's key, described ("inode 12") */
	uint64_t have, want;       /* NLINK / SIZE / NEXT_INO: found and expected */
	int      error;            /* 0 for notes (ORPHAN_OPEN), 1 otherwise */
	int      fixed;            /* repaired (repair mode) */
	char     msg[256];         /* human-readable description */
};

struct lfs_fsck_report {
	struct lfs_fsck_problem *v;
	size_t   n, cap;
	/* what the final check saw */
	uint64_t inodes, dirs, files, symlinks, others, dentries, pages, records;
	uint64_t page_size;
	int      errors;           /* problems with error=1 still present */
	int      fixed;            /* problems repaired */
	int      passes;           /* check passes run */
	int      repair_steps;     /* batches committed */
	int      compacted;        /* the log was compacted to drop damage */
};

struct lfs_fsck_opts {
	int repair;                /* fix what can be fixed (needs a writable handle) */
	int no_log;                /* skip the walk over the raw log (history) */
	int max_passes;            /* 0 = 32 */
	const char *path;          /* the image file, if any: tells a damaged record
	                              at the end of the walk (torn tail, a note) from
	                              damage with intact records after it (an error) */
};

/* Check (and with opts->repair, repair) the filesystem in kv.  Returns 0
 * when the check ran (the report says what it found and what is left), or
 * a negative code for an operational failure (I/O, memory, a commit that
 * failed) with err set. */
int lfs_fsck(struct lfs_kv *kv, const struct lfs_fsck_opts *opts,
	     struct lfs_fsck_report *rep, struct lfs_err *err);
void lfs_fsck_report_free(struct lfs_fsck_report *rep);

/* When the KV store cannot be opened at all (both header slots or both
 * index checkpoints damaged, damage before a synced record): rebuild it
 * into PATH.salvage~ from the newest intact index checkpoint (or the newest
 * one a header slot names whose record header alone is damaged) and every
 * log record after it (each operation checked on its own; a group's
 * batches only when it committed), then rename that
 * over PATH (takes the writer lock).  A value that cannot be recovered gets
 * a value the fs decoders reject, so lfs_fsck --repair, run next, treats
 * it as a broken record (never a stale or silently zero page).  dry_run
 * only scans.  Returns 0, or LFS_E_BADMAGIC when no intact record exists,
 * LFS_E_LOCKED, -errno. */
struct lfs_fsck_salvage {
	int      from_index;       /* started from an intact index checkpoint */
	uint64_t records;          /* batches replayed after it */
	uint64_t ops;              /* index entries + operations recovered */
	uint64_t damaged;          /* damaged records / regions met */
	uint64_t skipped_bytes;    /* bytes skipped resynchronising */
	uint64_t lost_values;      /* keys whose value was lost (marked broken) */
	uint64_t tainted_files;    /* files marked damaged (unattributable damage) */
	uint64_t lost_records;     /* records gone entirely (sequence gaps), or
	                              operations lost with their keys unknown (a
	                              damaged block): the files they changed may
	                              show older contents */
	uint64_t uncommitted;      /* records of groups (commands) whose COMMIT never
	                              came: ignored, as opening the image does */
};
int lfs_fsck_salvage(const char *path, int dry_run, struct lfs_fsck_salvage *out, struct lfs_err *err);

/* "dangling-dentry", "nlink", ... (stable names for --json and tests). */
const char *lfs_fsck_kind_name(int kind);

#define LFS_FSCK_LOST_FOUND "lost+found"

#endif
