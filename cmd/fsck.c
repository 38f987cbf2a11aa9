/*
 * cmd/fsck.c — `lightfs fsck [--repair] [--json] IMAGE`: check every
 * invariant of an image (lib/fs/fsck.h) and optionally repair it.
 * Exit status as e2fsck: 0 clean, 1 errors fixed, 4 errors left
 * uncorrected, 8 operational error (missing image, not an image, locked).
 */
#include "cli.h"
#include "image.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/fsck.h"
#include "kv/kv.h"
#include "session.h"
#include "vfs/lightfs.h"

enum { FSCK_CLEAN = 0, FSCK_FIXED = 1, FSCK_LEFT = 4, FSCK_OPERROR = 8, FSCK_USAGE = 16 };

static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

/* Is `image` the file the shell session holds mounted? */
static int is_session_image(struct lfs_ctx *c, const char *image)
{
	struct stat a, b;
	if (!c->sess || !c->sess->mnt)
		return 0;
	if (stat(image, &a) < 0 || stat(c->sess->image, &b) < 0)
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int op_error(struct lfs_ctx *c, const char *image, const char *fmt, const char *msg)
{
	lfs_error(c, image, fmt, msg);
	return FSCK_OPERROR;
}

/* The image cannot even be opened as a KV store: report it as damage left. */
static int unreadable(struct lfs_ctx *c, const char *image, int json, int repair, const char *msg)
{
	if (json) {
		printf("{\"image\":");
		json_str(image);
		printf(",\"repair\":%s,\"clean\":false,\"exit\":%d,\"errors\":1,\"fixed\":0,"
		       "\"problems\":[{\"kind\":\"unreadable\",\"error\":true,\"fixed\":false,\"message\":",
		       repair ? "true" : "false", FSCK_LEFT);
		json_str(msg);
		printf("}]}\n");
	}
	lfs_error(c, image, "image unreadable: %s", msg);
	return FSCK_LEFT;
}

static void print_text(const char *image, const struct lfs_fsck_report *r, int repair)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct lfs_fsck_problem *p = &r->v[i];
		printf("%s: %s%s\n", lfs_fsck_kind_name(p->kind), p->msg,
		       p->fixed ? " [fixed]" : !p->error ? " [note]" : repair ? " [NOT FIXED]" : "");
	}
	printf("%s: %" PRIu64 " inodes (%" PRIu64 " directories, %" PRIu64 " files, %" PRIu64
	       " symlinks), %" PRIu64 " entries, %" PRIu64 " data pages (page size %" PRIu64 ")\n",
	       image, r->inodes, r->dirs, r->files, r->symlinks, r->dentries, r->pages, r->page_size);
	if (r->errors)
		printf("%s: %d error%s left uncorrected%s\n", image, r->errors, r->errors == 1 ? "" : "s",
		       repair ? "" : " (run fsck --repair)");
	else if (r->fixed)
		printf("%s: %d problem%s fixed in %d step%s%s; clean now\n", image, r->fixed,
		       r->fixed == 1 ? "" : "s", r->repair_steps, r->repair_steps == 1 ? "" : "s",
		       r->compacted ? " (log compacted)" : "");
	else
		printf("%s: clean\n", image);
}

static void print_json(const char *image, const struct lfs_fsck_report *r, int repair, int status)
{
	printf("{\"image\":");
	json_str(image);
	printf(",\"repair\":%s,\"clean\":%s,\"exit\":%d,\"errors\":%d,\"fixed\":%d,\"steps\":%d,"
	       "\"compacted\":%s,\"inodes\":%" PRIu64 ",\"dirs\":%" PRIu64 ",\"files\":%" PRIu64
	       ",\"symlinks\":%" PRIu64 ",\"entries\":%" PRIu64 ",\"pages\":%" PRIu64
	       ",\"page_size\":%" PRIu64 ",\"problems\":[",
	       repair ? "true" : "false", r->errors ? "false" : "true", status, r->errors, r->fixed,
	       r->repair_steps, r->compacted ? "true" : "false", r->inodes, r->dirs, r->files,
	       r->symlinks, r->dentries, r->pages, r->page_size);
	for (size_t i = 0; i < r->n; i++) {
		const struct lfs_fsck_problem *p = &r->v[i];
		printf("%s\n{\"kind\":", i ? "," : "");
		json_str(lfs_fsck_kind_name(p->kind));
		printf(",\"error\":%s,\"fixed\":%s", p->error ? "true" : "false", p->fixed ? "true" : "false");
		if (p->ino)
			printf(",\"ino\":%" PRIu64, p->ino);
		if (p->name[0]) {
			printf(",\"parent\":%" PRIu64 ",\"name\":", p->parent);
			json_str(p->name);
		}
		if (p->kind == LFS_FSCK_LOG)
			printf(",\"offset\":%" PRIu64, p->index);
		else if (p->kind == LFS_FSCK_PAGE_EOF || p->kind == LFS_FSCK_PAGE_ORPHAN ||
			 (p->kind == LFS_FSCK_BAD_RECORD && !strncmp(p->key, "data ", 5)))
			printf(",\"page\":%" PRIu64 ",\"pages\":%" PRIu64, p->index, p->have ? p->have : 1);
		if (p->kind == LFS_FSCK_NLINK || p->kind == LFS_FSCK_SIZE || p->kind == LFS_FSCK_NEXT_INO ||
		    p->kind == LFS_FSCK_TYPE)
			printf(",\"have\":%" PRIu64 ",\"want\":%" PRIu64, p->have, p->want);
		if (p->key[0]) {
			printf(",\"key\":");
			json_str(p->key);
		}
		printf(",\"message\":");
		json_str(p->msg);
		putchar('}');
	}
	printf("%s]}\n", r->n ? "\n" : "");
}

static int cmd_fsck_fn(struct lfs_ctx *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-log", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	int repair = 0, json = 0, no_log = 0, ch;
	char salvaged[1024] = "";
	struct lfs_fsck_salvage sv;
	memset(&sv, 0, sizeof sv);
	int check_only = 0;
	while ((ch = getopt_long(argc, argv, "ryn", lo, NULL)) != -1) {
		switch (ch) {
		case 'r': case 'y': repair = 1; break;
		case 'n': check_only = 1; break;
		case 'j': json = 1; break;
		case 'L': no_log = 1; break;
		default: return FSCK_USAGE;
		}
	}
	if (check_only && repair) {
		lfs_usage(c, "-n (check only) and --repair exclude each other");
		return FSCK_USAGE;
	}
	const char *image = optind < argc ? argv[optind] : lfs_default_image(c);
	if (optind + 1 < argc || !image) {
		lfs_usage(c, !image ? "missing IMAGE" : "one IMAGE only");
		return FSCK_USAGE;
	}
	struct lfs_kv *kv = NULL;
	int borrowed = 0;
	struct lfs_err e;
	memset(&e, 0, sizeof e);
	if (is_session_image(c, image)) {
		if (repair && !c->sess->readonly)
			return op_error(c, image, "%s", "cannot repair the image this shell has mounted; "
					"leave the shell and run 'lightfs fsck --repair' on it");
		if (repair)
			return op_error(c, image, "%s", "the shell holds this image read-only; leave it to repair");
		if (!c->sess->readonly)
			lfs_sync(c->sess->mnt);
		kv = lfs_mount_kv(c->sess->mnt);
		borrowed = 1;
	} else {
		struct stat st;
		if (stat(image, &st) < 0)
			return op_error(c, image, "%s", strerror(errno));
		if (!S_ISREG(st.st_mode))
			return op_error(c, image, "%s", "not a regular file");
		struct lfs_kv_opts ko = { .mode = repair ? LFS_KV_RDWR : LFS_KV_RDONLY };
		int rc = lfs_kv_open(image, &ko, &kv, &e);
		if (rc == LFS_E_CORRUPT || rc == LFS_E_TRUNCATED || rc == LFS_E_BADMAGIC) {
			/* the store does not open: is there a log to salvage? */
			char why[600];
			snprintf(why, sizeof why, "%s", lfs_errmsg(&e, rc));
			struct lfs_err e2;
			memset(&e2, 0, sizeof e2);
			int src = lfs_fsck_salvage(image, !repair, &sv, &e2);
			if (src == LFS_E_BADMAGIC && rc != LFS_E_BADMAGIC)
				snprintf(why + strlen(why), sizeof why - strlen(why), "; %s",
					 "no intact log record left to rebuild it from");
			if (src == LFS_E_BADMAGIC)
				return op_error(c, image, "%s", rc == LFS_E_BADMAGIC ? "not a lightfs image" : why);
			if (src < 0)
				return op_error(c, image, "salvage: %s", lfs_errmsg(&e2, src));
			snprintf(salvaged, sizeof salvaged,
				 "image unreadable (%s); %s the log%s (%llu records, %llu damaged)",
				 why, repair ? "rebuilt from" : "--repair can rebuild it from",
				 sv.from_index ? " and an older index" : "",
				 (unsigned long long)sv.records, (unsigned long long)sv.damaged);
			if (sv.uncommitted)
				snprintf(salvaged + strlen(salvaged), sizeof salvaged - strlen(salvaged),
					 "; %llu records of a command never committed ignored",
					 (unsigned long long)sv.uncommitted);
			if (!repair)
				return unreadable(c, image, json, repair, salvaged);
			memset(&e, 0, sizeof e);
			rc = lfs_kv_open(image, &ko, &kv, &e);
			if (rc < 0)
				return unreadable(c, image, json, repair, lfs_errmsg(&e, rc));
		} else if (rc < 0) {
			return op_error(c, image, "%s", lfs_errmsg(&e, rc));
		}
	}
	struct lfs_fsck_opts fo = { .repair = repair, .no_log = no_log, .path = image };
	struct lfs_fsck_report r;
	int rc = lfs_fsck(kv, &fo, &r, &e);
	int status;
	if (rc == 0 && salvaged[0]) {
		/* the rebuild of the store is the first problem fixed */
		struct lfs_fsck_problem *nv = realloc(r.v, (r.n + 1) * sizeof *nv);
		if (nv) {
			memmove(nv + 1, nv, r.n * sizeof *nv);
			memset(nv, 0, sizeof *nv);
			nv->kind = LFS_FSCK_LOG;
			nv->error = 1;
			nv->fixed = 1;
			snprintf(nv->msg, sizeof nv->msg, "%.*s", (int)sizeof nv->msg - 1, salvaged);
			r.v = nv;
			r.n++;
			r.cap = r.n;
			r.fixed++;
		}
		if (sv.lost_records && (nv = realloc(r.v, (r.n + 1) * sizeof *nv))) {
			/* nothing can bring those back: say so, and exit 4 */
			r.v = nv;
			nv = &r.v[r.n++];
			memset(nv, 0, sizeof *nv);
			nv->kind = LFS_FSCK_LOG;
			nv->error = 1;
			snprintf(nv->msg, sizeof nv->msg, "%llu log records lost entirely: files they changed "
				 "may hold older contents", (unsigned long long)sv.lost_records);
			r.cap = r.n;
			r.errors++;
		}
	}
	if (rc < 0) {
		lfs_error(c, image, "fsck: %s", lfs_errmsg(&e, rc));
		status = FSCK_OPERROR;
	} else {
		status = r.errors ? FSCK_LEFT : r.fixed ? FSCK_FIXED : FSCK_CLEAN;
		if (json)
			print_json(image, &r, repair, status);
		else
			print_text(image, &r, repair);
	}
	lfs_fsck_report_free(&r);
	if (!borrowed) {
		int crc = lfs_kv_close(kv);
		if (crc < 0 && status != FSCK_OPERROR) {
			lfs_error(c, image, "close: %s", lfs_strerror(crc));
			status = FSCK_OPERROR;
		}
	}
	return status;
}

const struct lfs_cmd cmd_fsck = {
	.name = "fsck",
	.fn = cmd_fsck_fn,
	.synopsis = "fsck [--repair | -n] [--json] IMAGE",
	.summary = "check an image's consistency and optionally repair it",
	.help =
	"Reads every record of IMAGE and checks every invariant of the format:\n"
	"each log record's and each record's checksum, the superblock, that every\n"
	"directory entry names an existing inode of the same type under a\n"
	"directory, link counts (a directory's is 2 + its subdirectories), no\n"
	"cycles, no inode that no entry names, data pages only within a regular\n"
	"file's size, and an inode allocator beyond every inode in use.  Files\n"
	"unlinked while open and left behind by a crash are noted and freed.\n"
	"In the shell, or with -i IMAGE, IMAGE defaults to that image.\n"
	"  --repair, -y  fix what can be fixed, one atomic step at a time: broken\n"
	"                records removed, dangling entries removed, link counts and\n"
	"                sizes rewritten, pages past the end deleted, cycles broken,\n"
	"                orphans with data and files with damaged data linked into\n"
	"                /lost+found as #INODE; undamaged files keep path and bytes\n"
	"  -n            check only, change nothing (the default; as e2fsck -n)\n"
	"  --json        one JSON object: counts and a list of problems (kind, inode,\n"
	"                key, have/want, fixed)\n"
	"  --no-log      skip the walk over the raw log history (faster)\n"
	"Exit status (as e2fsck): 0 clean, 1 errors fixed, 4 errors left\n"
	"uncorrected, 8 operational error (no such image, not an image, in use),\n"
	"16 usage error.\n",
	.options = "--repair -y -n --json --no-log",
};
