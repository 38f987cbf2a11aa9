/*
 * cmd/kv.c — `lightfs kv`: the debugging front-end of the KV engine.
 *
 *   lightfs kv [--create] [--compress zstd[:LEVEL]|none] IMAGE put KEY VALUE | get KEY | del KEY
 *              | scan [--prefix P] [--json] | stats [--json] | load | compact | verify
 *   lightfs kv dump IMAGE [--json]
 *
 * KEY, VALUE and P take C-style escapes (\n \t \\ \xNN); scan and dump print
 * them escaped the same way, one `key<TAB>value` line per record.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/schema.h"
#include "kv/kv.h"


/* Decode C-style escapes in place; returns the length or -1. */
static long unescape(char *s)
{
	char *o = s;
	const char *p = s;
	while (*p) {
		if (*p != '\\') {
			*o++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': *o++ = '\n'; p++; break;
		case 't': *o++ = '\t'; p++; break;
		case 'r': *o++ = '\r'; p++; break;
		case '0': *o++ = 0; p++; break;
		case '\\': *o++ = '\\'; p++; break;
		case 'x': {
			int v = 0, n = 0;
			p++;
			while (n < 2 && ((*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'f'))) {
				v = v * 16 + (*p <= '9' ? *p - '0' : (*p | 32) - 'a' + 10);
				p++;
				n++;
			}
			if (!n)
				return -1;
			*o++ = (char)v;
			break;
		}
		default:
			return -1;
		}
	}
	*o = 0;
	return o - s;
}

static void print_esc(FILE *f, const void *b, size_t n)
{
	const unsigned char *p = b;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = p[i];
		if (ch == '\\')
			fputs("\\\\", f);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
}

static void print_json_str(FILE *f, const void *b, size_t n)
{
	const unsigned char *p = b;
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = p[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static int open_img(struct lfs_ctx *c, const char *path, enum lfs_kv_mode mode, int zstd, int level,
		    struct lfs_kv **kv)
{
	struct lfs_kv_opts o = { .mode = mode, .compress = zstd ? LFS_KV_COMPRESS_ZSTD : LFS_KV_COMPRESS_NONE,
				 .level = level };
	struct lfs_err e = { 0 };
	memset(&e, 0, sizeof e);
	int rc = lfs_kv_open(path, &o, kv, &e);
	if (rc)
		return lfs_error_code(c, path, rc, &e);
	return 0;
}

static int finish(struct lfs_ctx *c, struct lfs_kv *kv, const char *path, int status)
{
	int rc = lfs_kv_close(kv);
	if (rc && status == 0)
		return lfs_error_code(c, path, rc, NULL);
	return status;
}

/* ---- load: key<TAB>value lines, one batch, synced */
static int do_load(struct lfs_ctx *c, struct lfs_kv *kv, const char *path)
{
	struct lfs_kv_batch *b = lfs_kv_batch_new();
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int status = 0;
	struct lfs_err e = { 0 };
	while ((n = getline(&line, &cap, stdin)) > 0) {
		lineno++;
		if (line[n - 1] == '\n')
			line[--n] = 0;
		if (!n)
			continue;
		char *tab = strchr(line, '\t');
		if (!tab) {
			status = lfs_error(c, "stdin", "line %ld: no TAB between key and value", lineno);
			goto out;
		}
		*tab = 0;
		long kl = unescape(line), vl = unescape(tab + 1);
		if (kl < 0 || vl < 0) {
			status = lfs_error(c, "stdin", "line %ld: bad escape", lineno);
			goto out;
		}
		int rc = lfs_kv_batch_put(b, line, (size_t)kl, tab + 1, (size_t)vl);
		if (rc) {
			status = lfs_error(c, "stdin", "line %ld: %s", lineno, lfs_strerror(rc));
			goto out;
		}
	}
	int rc = lfs_kv_commit(kv, b, 1, &e);
	if (rc)
		status = lfs_error_code(c, path, rc, &e);
out:
	free(line);
	lfs_kv_batch_free(b);
	return status;
}

static void print_stats(const struct lfs_kv_stats *s, int json)
{
	const char *cmp = s->compress == LFS_KV_COMPRESS_ZSTD ? "zstd" : "none";
	if (json) {
		printf("{\"live_keys\":%" PRIu64 ",\"live_bytes\":%" PRIu64 ",\"dead_bytes\":%" PRIu64
		       ",\"file_bytes\":%" PRIu64 ",\"raw_value_bytes\":%" PRIu64 ",\"stored_value_bytes\":%" PRIu64
		       ",\"memtable_bytes\":%" PRIu64 ",\"compress\":\"%s\",\"level\":%d"
		       ",\"file_bytes_read\":%" PRIu64 ",\"file_bytes_written\":%" PRIu64 "}\n",
		       s->live_keys, s->live_bytes, s->dead_bytes, s->file_bytes, s->raw_value_bytes,
		       s->stored_value_bytes, s->memtable_bytes, cmp, s->level, s->file_bytes_read,
		       s->file_bytes_written);
		return;
	}
	printf("live keys:          %" PRIu64 "\n", s->live_keys);
	printf("live bytes:         %" PRIu64 "\n", s->live_bytes);
	printf("dead bytes:         %" PRIu64 "\n", s->dead_bytes);
	printf("file bytes:         %" PRIu64 "\n", s->file_bytes);
	printf("raw value bytes:    %" PRIu64 "\n", s->raw_value_bytes);
	printf("stored value bytes: %" PRIu64 "\n", s->stored_value_bytes);
	printf("memtable bytes:     %" PRIu64 "\n", s->memtable_bytes);
	printf("compression:        %s", cmp);
	if (s->compress == LFS_KV_COMPRESS_ZSTD)
		printf(" (level %d)", s->level);
	printf("\n");
}

struct dumpctx { int json; int first; };

static void print_key(const struct lfs_kv_rec *r, int json)
{
	char d[1024];
	if (lfs_fs_key_describe(r->key, r->klen, d, sizeof d) >= 0) {
		if (json)
			print_json_str(stdout, d, strlen(d));
		else
			fputs(d, stdout);
		return;
	}
	if (json)
		print_json_str(stdout, r->key, r->klen);
	else
		print_esc(stdout, r->key, r->klen);
}

static int dump_cb(void *arg, const struct lfs_kv_rec *r)
{
	struct dumpctx *d = arg;
	static const char *kinds[] = { "?", "put", "del", "delrange", "index", "bad", "block", "commit" };
	const char *kind = r->kind >= 1 && r->kind <= 7 ? kinds[r->kind] : "?";
	if (d->json) {
		printf("%s{\"offset\":%" PRIu64 ",\"seq\":%" PRIu64 ",\"kind\":\"%s\"", d->first ? "" : ",\n",
		       r->offset, r->seq, kind);
		d->first = 0;
		if (r->kind == LFS_KV_REC_PUT || r->kind == LFS_KV_REC_DEL || r->kind == LFS_KV_REC_DELRANGE) {
			printf(",\"key\":");
			print_key(r, 1);
		}
		if (r->kind == LFS_KV_REC_PUT)
			printf(",\"value_bytes\":%zu,\"stored_bytes\":%zu,\"compressed\":%s", r->raw_len, r->vlen,
			       r->compressed ? "true" : "false");
		if (r->kind == LFS_KV_REC_DELRANGE && r->has_hi) {
			printf(",\"hi\":");
			print_json_str(stdout, r->val, r->vlen);
		}
		if (r->kind == LFS_KV_REC_INDEX)
			printf(",\"entries\":%" PRIu64, r->count);
		if (r->kind == LFS_KV_REC_BLOCK)
			printf(",\"operations\":%" PRIu64 ",\"raw_bytes\":%zu,\"stored_bytes\":%zu", r->count,
			       r->raw_len, r->vlen);
		if (r->in_block)
			printf(",\"block_position\":%" PRIu32, r->block_pos);
		if (r->kind == LFS_KV_REC_BAD)
			printf(",\"error\":\"%s\"", r->msg);
		if (r->group)
			printf(",\"group\":true");
		if (r->kind == LFS_KV_REC_COMMIT)
			printf(",\"batches\":%" PRIu64 ",\"group_first\":%" PRIu64, r->count, r->group_first);
		printf("}");
		return 0;
	}
	printf("%-10" PRIu64 " %-6" PRIu64 " %-8s %s", r->offset, r->seq, kind, r->group ? "[group] " : "");
	switch (r->kind) {
	case LFS_KV_REC_PUT:
		print_key(r, 0);
		printf("\t%zu bytes%s", r->raw_len, r->compressed ? " (zstd)" : "");
		if (r->in_block)
			printf(" (in block, position %" PRIu32 ")", r->block_pos);
		printf("\n");
		break;
	case LFS_KV_REC_BLOCK:
		printf("%" PRIu64 " operations, %zu bytes raw, %zu stored (zstd)\n", r->count, r->raw_len, r->vlen);
		break;
	case LFS_KV_REC_DEL:
		print_key(r, 0);
		printf("\n");
		break;
	case LFS_KV_REC_DELRANGE:
		print_esc(stdout, r->key, r->klen);
		printf(" .. ");
		if (r->has_hi)
			print_esc(stdout, r->val, r->vlen);
		else
			printf("(end)");
		printf("\n");
		break;
	case LFS_KV_REC_INDEX:
		printf("%" PRIu64 " entries\n", r->count);
		break;
	case LFS_KV_REC_COMMIT:
		printf("group of %" PRIu64 " batch record%s from offset %" PRIu64 "\n", r->count,
		       r->count == 1 ? "" : "s", r->group_first);
		break;
	default:
		printf("%s\n", r->msg ? r->msg : "");
	}
	return 0;
}

static void verify_cb(void *arg, uint64_t off, const char *msg)
{
	const char *path = arg;
	fprintf(stderr, "lightfs: kv: %s: offset %" PRIu64 ": %s\n", path, off, msg);
}

static int cmd_kv_fn(struct lfs_ctx *c, int argc, char **argv)
{
	int create = 0, zstd = 0, level = 0, json = 0, ai = 1;
	const char *prefix = NULL;
	/* leading options */
	for (; ai < argc && argv[ai][0] == '-' && argv[ai][1] == '-'; ai++) {
		if (!strcmp(argv[ai], "--create"))
			create = 1;
		else if (!strcmp(argv[ai], "--zstd"))
			zstd = 1;
		else if (!strncmp(argv[ai], "--zstd=", 7)) {
			zstd = 1;
			level = atoi(argv[ai] + 7);
		} else if (!strncmp(argv[ai], "--compress=", 11) || (!strcmp(argv[ai], "--compress") && ai + 1 < argc)) {
			const char *v = argv[ai][10] == '=' ? argv[ai] + 11 : argv[++ai];
			if (!strcmp(v, "none"))
				zstd = 0;
			else if (!strncmp(v, "zstd", 4) && (!v[4] || v[4] == ':')) {
				zstd = 1;
				level = v[4] ? atoi(v + 5) : 0;
			} else
				return lfs_usage(c, "--compress takes zstd[:LEVEL] or none");
		} else
			return lfs_usage(c, "unknown option %s", argv[ai]);
	}
	if (argc - ai < 2)
		return lfs_usage(c, "need IMAGE and a subcommand");
	const char *img, *sub;
	if (!strcmp(argv[ai], "dump") && argc - ai >= 2) {
		sub = argv[ai];
		img = argv[ai + 1];
	} else {
		img = argv[ai];
		sub = argv[ai + 1];
	}
	ai += 2;
	/* trailing options of scan / stats / dump */
	char *args[4];
	int na = 0;
	for (; ai < argc; ai++) {
		if (!strcmp(argv[ai], "--json"))
			json = 1;
		else if (!strcmp(argv[ai], "--prefix") && ai + 1 < argc)
			prefix = argv[++ai];
		else if (!strncmp(argv[ai], "--prefix=", 9))
			prefix = argv[ai] + 9;
		else if (na < 4)
			args[na++] = argv[ai];
		else
			return lfs_usage(c, "too many arguments");
	}
	int writes = !strcmp(sub, "put") || !strcmp(sub, "del") || !strcmp(sub, "load") || !strcmp(sub, "compact");
	enum lfs_kv_mode mode = create ? LFS_KV_CREATE : writes ? LFS_KV_RDWR : LFS_KV_RDONLY;
	struct lfs_kv *kv;
	struct lfs_err e = { 0 };
	int rc;
	memset(&e, 0, sizeof e);

	if (!strcmp(sub, "put")) {
		if (na != 2)
			return lfs_usage(c, "put needs KEY VALUE");
		long kl = unescape(args[0]), vl = unescape(args[1]);
		if (kl < 0 || vl < 0)
			return lfs_usage(c, "bad escape in KEY or VALUE");
		if ((rc = open_img(c, img, mode, zstd, level, &kv)))
			return rc;
		rc = lfs_kv_put(kv, args[0], (size_t)kl, args[1], (size_t)vl, &e);
		if (!rc)
			rc = lfs_kv_sync(kv, &e);
		return finish(c, kv, img, rc ? lfs_error_code(c, img, rc, &e) : 0);
	}
	if (!strcmp(sub, "get") || !strcmp(sub, "del")) {
		if (na != 1)
			return lfs_usage(c, "%s needs KEY", sub);
		long kl = unescape(args[0]);
		if (kl < 0)
			return lfs_usage(c, "bad escape in KEY");
		if ((rc = open_img(c, img, mode, zstd, level, &kv)))
			return rc;
		if (sub[0] == 'd') {
			void *v;
			size_t vl;
			rc = lfs_kv_get(kv, args[0], (size_t)kl, &v, &vl, &e);
			if (rc == -ENOENT)
				return finish(c, kv, img, lfs_error(c, args[0], "no such key"));
			free(v);
			rc = lfs_kv_del(kv, args[0], (size_t)kl, &e);
			if (!rc)
				rc = lfs_kv_sync(kv, &e);
			return finish(c, kv, img, rc ? lfs_error_code(c, img, rc, &e) : 0);
		}
		void *v;
		size_t vl;
		rc = lfs_kv_get(kv, args[0], (size_t)kl, &v, &vl, &e);
		if (rc == -ENOENT)
			return finish(c, kv, img, lfs_error(c, args[0], "no such key"));
		if (rc)
			return finish(c, kv, img, lfs_error_code(c, img, rc, &e));
		fwrite(v, 1, vl, stdout);
		if (isatty(1))
			fputc('\n', stdout);
		free(v);
		return finish(c, kv, img, 0);
	}
	if (!strcmp(sub, "scan")) {
		if (na)
			return lfs_usage(c, "scan takes no arguments");
		long pl = 0;
		if (prefix) {
			char *pcopy = strdup(prefix);
			pl = unescape(pcopy);
			prefix = pcopy;
			if (pl < 0) {
				free(pcopy);
				return lfs_usage(c, "bad escape in --prefix");
			}
		}
		if ((rc = open_img(c, img, mode, zstd, level, &kv))) {
			free((char *)prefix);
			return rc;
		}
		struct lfs_kv_iter *it = prefix ? lfs_kv_iter_prefix(kv, prefix, (size_t)pl)
						: lfs_kv_iter_new(kv, NULL, 0, NULL, 0);
		int first = 1, status = 0;
		if (json)
			printf("[");
		for (; lfs_kv_iter_valid(it); lfs_kv_iter_next(it)) {
			size_t kl, vl;
			const void *k = lfs_kv_iter_key(it, &kl);
			const void *v = lfs_kv_iter_value(it, &vl);
			if (!v)
				break;
			if (json) {
				printf("%s{\"key\":", first ? "\n" : ",\n");
				print_json_str(stdout, k, kl);
				printf(",\"value\":");
				print_json_str(stdout, v, vl);
				printf("}");
			} else {
				print_esc(stdout, k, kl);
				putchar('\t');
				print_esc(stdout, v, vl);
				putchar('\n');
			}
			first = 0;
		}
		if (json)
			printf("%s]\n", first ? "" : "\n");
		rc = lfs_kv_iter_error(it, &e);
		if (rc)
			status = lfs_error_code(c, img, rc, &e);
		lfs_kv_iter_free(it);
		free((char *)prefix);
		return finish(c, kv, img, status);
	}
	if (!strcmp(sub, "stats")) {
		if ((rc = open_img(c, img, mode, zstd, level, &kv)))
			return rc;
		struct lfs_kv_stats st;
		lfs_kv_stats(kv, &st);
		print_stats(&st, json);
		return finish(c, kv, img, 0);
	}
	if (!strcmp(sub, "load")) {
		if ((rc = open_img(c, img, mode, zstd, level, &kv)))
			return rc;
		return finish(c, kv, img, do_load(c, kv, img));
	}
	if (!strcmp(sub, "compact")) {
		if ((rc = open_img(c, img, mode, zstd, level, &kv)))
			return rc;
		uint64_t before, after;
		rc = lfs_kv_compact(kv, &before, &after, &e);
		if (rc)
			return finish(c, kv, img, lfs_error_code(c, img, rc, &e));
		printf("%" PRIu64 " -> %" PRIu64 " bytes\n", before, after);
		return finish(c, kv, img, 0);
	}
	if (!strcmp(sub, "verify")) {
		if ((rc = open_img(c, img, mode, zstd, level, &kv)))
			return rc;
		rc = lfs_kv_verify(kv, verify_cb, (void *)img, &e);
		if (rc < 0)
			return finish(c, kv, img, lfs_error_code(c, img, rc, &e));
		if (rc > 0)
			return finish(c, kv, img, LFS_EXIT_CORRUPT);
		printf("ok\n");
		return finish(c, kv, img, 0);
	}
	if (!strcmp(sub, "dump")) {
		if ((rc = open_img(c, img, LFS_KV_RDONLY, 0, 0, &kv)))
			return rc;
		struct dumpctx d = { json, 1 };
		if (json)
			printf("[\n");
		rc = lfs_kv_walk(kv, dump_cb, &d, &e);
		if (json)
			printf("%s]\n", d.first ? "" : "\n");
		return finish(c, kv, img, rc ? lfs_error_code(c, img, rc, &e) : 0);
	}
	return lfs_usage(c, "unknown subcommand %s", sub);
}

const struct lfs_cmd cmd_kv = {
	.name = "kv",
	.fn = cmd_kv_fn,
	.synopsis = "kv [--create] [--compress zstd[:LEVEL]|none] IMAGE put KEY VALUE | get KEY | del KEY\n"
		    "       kv IMAGE scan [--prefix P] [--json] | stats [--json] | load | compact | verify\n"
		    "       kv dump IMAGE [--json]",
	.summary = "read and write the raw key-value store of an image (debugging)",
	.help =
	"The KV engine under the filesystem, one image file.  KEY, VALUE and P take\n"
	"C-style escapes (\\n \\t \\\\ \\xNN); scan prints `key<TAB>value` lines escaped\n"
	"the same way.\n"
	"  --create      make IMAGE if it does not exist\n"
	"  --compress zstd[:L]|none\n"
	"                when creating: compress values with zstd level L (default 3)\n"
	"                (--zstd[=L] is the same)\n"
	"  put K V       set K to V (synced)\n"
	"  get K         print the value of K\n"
	"  del K         delete K\n"
	"  scan          every record in key order; --prefix P limits to keys starting with P\n"
	"  stats         live/dead bytes, keys, compression\n"
	"  load          read key<TAB>value lines from stdin, commit them as one synced batch\n"
	"  compact       rewrite live records into a fresh file (crash safe)\n"
	"  verify        check every record checksum (exit 4 on damage)\n"
	"  dump          every raw record in file order, history included: OFFSET SEQ KIND\n"
	"                (put del delrange block index commit bad) and details; records\n"
	"                of a group (one command's writes, which count only once its\n"
	"                `commit` record follows) are marked [group] (--json: \"group\":true;\n"
	"                commit: \"batches\", \"group_first\" offset)\n"
	"A get or del of a missing key fails (exit 1).\n",
	.options = "--create --compress --zstd --json --prefix",
};
