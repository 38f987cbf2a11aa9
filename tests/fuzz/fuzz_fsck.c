/*
 * tests/fuzz/fuzz_fsck.c — lib/fs/fsck over images built from fuzzer bytes.
 *
 * Byte 0 even: the rest is a program of KV records for an in-memory store,
 * shaped like the schema so the fuzzer reaches the checker's logic —
 *   op 0 superblock (fields from the input, CRC written), 1 inode record,
 *   2 dentry record, 3 data page, 4 raw key/value, 5 delete, 6 a record
 *   with its last byte flipped (bad checksum);
 * then fsck checks, repairs, and checks again: repair must converge (no
 * error left after it, a second repair changes nothing).
 * Byte 0 odd: the rest is an image file: fsck checks it if it opens, the
 * salvage rebuilds it from its log (which parses every byte of it), and the
 * rebuilt store is checked and repaired.
 * Must never crash, hang, leak, or leave an error after a repair.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fsck.h"
#include "fs/schema.h"

struct rd { const uint8_t *p; size_t n; };

static uint64_t take(struct rd *r, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++) {
		v = (v << 8) | (r->n ? *r->p : 0);
		if (r->n) {
			r->p++;
			r->n--;
		}
	}
	return v;
}

static const uint32_t modes[] = { S_IFREG | 0644, S_IFDIR | 0755, S_IFLNK | 0777, S_IFIFO | 0600, 0 };
static const uint8_t types[] = { 8, 4, 10, 1, 0 };

static void build(struct lfs_kv *kv, struct rd *r)
{
	uint8_t k[LFS_KV_MAX_KEY], v[LFS_FS_INODE_VMAX + 64];
	static const char *names[] = { "a", "b", "lost+found", "#3", "d", "x y", "..", "" };
	for (int ops = 0; r->n && ops < 64; ops++) {
		int op = (int)(take(r, 1) % 7);
		size_t kl = 0, vl = 0;
		switch (op) {
		case 0: {
			struct lfs_fs_super s = { .version = 1, .compress = 0 };
			s.page_size = 512u << (take(r, 1) % 8);
			s.next_ino = take(r, 1);
			s.root_ino = 1;
			kl = lfs_fs_key_super(k);
			vl = lfs_fs_super_encode(&s, v);
			break;
		}
		case 1: {
			struct lfs_fs_inode *in = calloc(1, sizeof *in);
			if (!in)
				return;
			uint64_t ino = take(r, 1) % 12;
			in->mode = modes[take(r, 1) % 5];
			in->nlink = (uint32_t)(take(r, 1) % 5);
			in->size = take(r, 2) * (take(r, 1) % 3 == 0 ? 64 : 1);
			if (S_ISLNK(in->mode)) {
				in->target_len = (uint16_t)(take(r, 1) % 8);
				memset(in->target, 't', in->target_len);
			}
			kl = lfs_fs_key_inode(k, ino);
			vl = lfs_fs_inode_encode(in, v);
			free(in);
			break;
		}
		case 2: {
			uint64_t parent = take(r, 1) % 12;
			const char *nm = names[take(r, 1) % 8];
			struct lfs_fs_dentry d = { .ino = take(r, 1) % 12, .type = types[take(r, 1) % 5] };
			int l = lfs_fs_key_dentry(k, parent ? parent : 1, nm, strlen(nm));
			if (l < 0) {   /* an invalid name: store the raw key anyway */
				k[0] = 'D';
				lfs_be64_put(k + 1, parent);
				memcpy(k + 9, nm, strlen(nm));
				l = (int)(9 + strlen(nm));
			}
			kl = (size_t)l;
			vl = lfs_fs_dentry_encode(&d, v);
			break;
		}
		case 3: {
			kl = lfs_fs_key_data(k, take(r, 1) % 12, take(r, 1) % 40);
			vl = (size_t)take(r, 2) % (sizeof v);
			memset(v, 'p', vl);
			break;
		}
		case 4: {
			kl = (size_t)take(r, 1) % 24;
			for (size_t i = 0; i < kl; i++)
				k[i] = (uint8_t)take(r, 1);
			vl = (size_t)take(r, 1) % 96;
			for (size_t i = 0; i < vl; i++)
				v[i] = (uint8_t)take(r, 1);
			break;
		}
		case 5: {   /* delete a record */
			int which = (int)(take(r, 1) % 4);
			uint64_t ino = take(r, 1) % 12;
			if (which == 0)
				kl = lfs_fs_key_super(k);
			else if (which == 1)
				kl = lfs_fs_key_inode(k, ino);
			else if (which == 2)
				kl = lfs_fs_key_data(k, ino, take(r, 1) % 40);
			else
				kl = (size_t)lfs_fs_key_dentry(k, ino ? ino : 1, "a", 1);
			lfs_kv_del(kv, k, kl, NULL);
			continue;
		}
		default: {   /* an inode record with a damaged checksum */
			struct lfs_fs_inode *in = calloc(1, sizeof *in);
			if (!in)
				return;
			in->mode = modes[take(r, 1) % 4];
			in->nlink = 1;
			kl = lfs_fs_key_inode(k, take(r, 1) % 12);
			vl = lfs_fs_inode_encode(in, v);
			v[vl - 1] ^= 1;
			free(in);
			break;
		}
		}
		if (kl)
			lfs_kv_put(kv, k, kl, v, vl, NULL);
	}
}

static void check_repair(struct lfs_kv *kv)
{
	struct lfs_fsck_report r;
	struct lfs_fsck_opts o = { 0 };
	if (lfs_fsck(kv, &o, &r, NULL) == 0)
		lfs_fsck_report_free(&r);
	o.repair = 1;
	if (lfs_fsck(kv, &o, &r, NULL) != 0)
		return;
	int left = r.errors;
	lfs_fsck_report_free(&r);
	if (left)
		return;   /* reported as left uncorrected: allowed */
	o.repair = 0;
	if (lfs_fsck(kv, &o, &r, NULL) == 0) {
		int errs = 0;
		for (size_t i = 0; i < r.n; i++)
			errs += r.v[i].error;
		if (errs) {
			for (size_t i = 0; i < r.n; i++)
				fprintf(stderr, "after repair: %s: %s\n", lfs_fsck_kind_name(r.v[i].kind), r.v[i].msg);
			abort();   /* repair said clean, a check disagrees */
		}
		lfs_fsck_report_free(&r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct rd r = { data + 1, size - 1 };
	if (!(data[0] & 1)) {
		struct lfs_kv_opts ko = { .mode = LFS_KV_MEMORY };
		struct lfs_kv *kv;
		if (lfs_kv_open(NULL, &ko, &kv, NULL) < 0)
			return 0;
		build(kv, &r);
		check_repair(kv);
		lfs_kv_close(kv);
		return 0;
	}
	char path[64];
	/* tmpfs when there is one: the repair and the salvage fsync */
	snprintf(path, sizeof path, "%s/fuzz_fsck_%d.img", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
		 (int)getpid());
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(r.p, 1, r.n, f);
	fclose(f);
	struct lfs_kv_opts ko = { .mode = LFS_KV_RDONLY, .no_lock = 1, .no_auto_compact = 1 };
	struct lfs_kv *kv;
	if (lfs_kv_open(path, &ko, &kv, NULL) == 0) {
		struct lfs_fsck_report rep;
		struct lfs_fsck_opts o = { 0 };
		if (lfs_fsck(kv, &o, &rep, NULL) == 0)
			lfs_fsck_report_free(&rep);
		lfs_kv_close(kv);
	}
	struct lfs_fsck_salvage sv;
	if (lfs_fsck_salvage(path, 1, &sv, NULL) == 0 && lfs_fsck_salvage(path, 0, &sv, NULL) == 0) {
		ko.mode = LFS_KV_RDWR;
		if (lfs_kv_open(path, &ko, &kv, NULL) == 0) {
			check_repair(kv);
			lfs_kv_close(kv);
		}
	}
	unlink(path);
	char tmp[96];
	snprintf(tmp, sizeof tmp, "%s.salvage~", path);
	unlink(tmp);
	snprintf(tmp, sizeof tmp, "%s.compact~", path);
	unlink(tmp);
	return 0;
}
