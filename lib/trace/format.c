/*
 * lib/trace/format.c — trace file writer and reader (layout: FORMAT.md).
 *
 * The body is a zstd stream of records.  An event is a tag byte (0x10 +
 * syscall), a varint bitmask of the fields that differ from their
 * predicted value, and those fields as (zigzag) varints.  Predictions come
 * from the previous event (seq + 1, same pid, tid = pid) and from the
 * previous event of the same syscall (same fd, same count, offset advanced
 * by the previous return value, ret = count), so a loop of equal reads or
 * writes costs a tag, a mask and a time delta before compression.
 *
 * Writer and reader run the same prediction code (struct pred) so they can
 * never disagree about a field that is not stored.
 */
#include "trace/trace.h"
#include "common/grow.h"
#include "common/crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* ---------------------------------------------------------------- layout */

enum {
	REC_END  = 0x00,  /* varint events, varint lost; end of trace */
	REC_STR  = 0x01,  /* varint len, bytes: next string id */
	REC_DATA = 0x02,  /* varint len, bytes: payload of the next event */
	REC_EV   = 0x10,  /* 0x10 + sys: an event */
};

enum {
	F_SEQ, F_TS, F_PID, F_TID, F_RET, F_FD, F_FD2, F_DIRFD, F_DIRFD2, F_FLAGS,
	F_MODE, F_WHENCE, F_OFF, F_OFF2, F_COUNT, F_ARG, F_PATH, F_PABS, F_PATH2,
	F_P2ABS, F_STAT, F_CHILD, F_EXIT, F_COMM, F_DUR, F_EFL, F_CMD, F_NFIELDS
};

#define MAX_EV_BYTES   (1 + 10 + 40 * 10)      /* upper bound of one event */
#define MAX_STR_LEN    (1u << 16)
#define MAX_DATA_LEN   (16u << 20)
#define MAX_STR_TOTAL  ((uint64_t)256 << 20)

/* Header field offsets (little-endian). */
enum {
	H_MAGIC = 0, H_VERSION = 8, H_HSIZE = 12, H_FLAGS = 16, H_NCPU = 20,
	H_START_REAL = 24, H_START_MONO = 32, H_DURATION = 40, H_EVENTS = 48,
	H_LOST = 56, H_RING = 64, H_DATAMAX = 72, H_ROOTPID = 76, H_EXIT = 80,
	H_HOST = 96, H_KERNEL = 160, H_SOURCE = 288, H_CWD = 320, H_CMDLINE = 832,
	H_LOSTCPU = 1856, H_CRC = 4092,
};

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get32(const uint8_t *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = v << 8 | p[i]; return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

static void putstr(uint8_t *p, size_t n, const char *s)
{
	size_t l = strnlen(s, n - 1);
	memcpy(p, s, l);
	memset(p + l, 0, n - l);
}

static void getstr(char *dst, size_t n, const uint8_t *p)
{
	size_t l = strnlen((const char *)p, n - 1);
	memcpy(dst, p, l);
	dst[l] = 0;
}

static void header_encode(uint8_t *b, const struct lfs_trace_header *h)
{
	memset(b, 0, LFS_TRACE_HDR_SIZE);
	memcpy(b + H_MAGIC, LFS_TRACE_MAGIC, 8);
	put32(b + H_VERSION, LFS_TRACE_VERSION);
	put32(b + H_HSIZE, LFS_TRACE_HDR_SIZE);
	put32(b + H_FLAGS, h->flags);
	put32(b + H_NCPU, h->ncpu > LFS_TRACE_MAX_CPUS ? LFS_TRACE_MAX_CPUS : h->ncpu);
	put64(b + H_START_REAL, h->start_real_ns);
	put64(b + H_START_MONO, h->start_mono_ns);
	put64(b + H_DURATION, h->duration_ns);
	put64(b + H_EVENTS, h->events);
	put64(b + H_LOST, h->lost);
	put64(b + H_RING, h->ring_bytes);
	put32(b + H_DATAMAX, h->data_max);
	put32(b + H_ROOTPID, (uint32_t)h->root_pid);
	put32(b + H_EXIT, (uint32_t)h->exit_status);
	putstr(b + H_HOST, sizeof h->host, h->host);
	putstr(b + H_KERNEL, sizeof h->kernel, h->kernel);
	putstr(b + H_SOURCE, sizeof h->source, h->source);
	putstr(b + H_CWD, sizeof h->cwd, h->cwd);
	putstr(b + H_CMDLINE, sizeof h->cmdline, h->cmdline);
	for (int i = 0; i < LFS_TRACE_MAX_CPUS; i++)
		put64(b + H_LOSTCPU + 8 * i, h->lost_cpu[i]);
	put32(b + H_CRC, lfs_crc32c(0, b, H_CRC));
}

static int header_decode(struct lfs_trace_header *h, const uint8_t *b, size_t len,
			 struct lfs_err *err)
{
	if (len < 8 || memcmp(b, LFS_TRACE_MAGIC, 8))
		return lfs_seterr(err, LFS_E_BADMAGIC, "not a lightfs trace (bad magic)");
	if (len < LFS_TRACE_HDR_SIZE)
		return lfs_seterr(err, LFS_E_TRUNCATED, "trace header cut at %zu bytes", len);
	uint32_t v = get32(b + H_VERSION);
	if (v != LFS_TRACE_VERSION)
		return lfs_seterr(err, LFS_E_VERSION, "trace format version %u (this lightfs reads %u)",
				  v, LFS_TRACE_VERSION);
	if (get32(b + H_HSIZE) != LFS_TRACE_HDR_SIZE)
		return lfs_seterr(err, LFS_E_CORRUPT, "bad header size %u", get32(b + H_HSIZE));
	if (get32(b + H_CRC) != lfs_crc32c(0, b, H_CRC))
		return lfs_seterr(err, LFS_E_CORRUPT, "header checksum mismatch");
	memset(h, 0, sizeof *h);
	h->version = v;
	h->flags = get32(b + H_FLAGS);
	h->ncpu = get32(b + H_NCPU);
	if (h->ncpu > LFS_TRACE_MAX_CPUS)
		h->ncpu = LFS_TRACE_MAX_CPUS;
	h->start_real_ns = get64(b + H_START_REAL);
	h->start_mono_ns = get64(b + H_START_MONO);
	h->duration_ns = get64(b + H_DURATION);
	h->events = get64(b + H_EVENTS);
	h->lost = get64(b + H_LOST);
	h->ring_bytes = get64(b + H_RING);
	h->data_max = get32(b + H_DATAMAX);
	h->root_pid = (int32_t)get32(b + H_ROOTPID);
	h->exit_status = (int32_t)get32(b + H_EXIT);
	getstr(h->host, sizeof h->host, b + H_HOST);
	getstr(h->kernel, sizeof h->kernel, b + H_KERNEL);
	getstr(h->source, sizeof h->source, b + H_SOURCE);
	getstr(h->cwd, sizeof h->cwd, b + H_CWD);
	getstr(h->cmdline, sizeof h->cmdline, b + H_CMDLINE);
	for (int i = 0; i < LFS_TRACE_MAX_CPUS; i++)
		h->lost_cpu[i] = get64(b + H_LOSTCPU + 8 * i);
	return 0;
}

/* ---------------------------------------------------------------- prediction */

struct sysstate {
	int32_t fd, fd2, dirfd, dirfd2, whence, cmd;
	uint32_t mode;
	uint64_t flags, count, arg;
	int64_t offset, offset2, ret;
};

struct pred {
	uint64_t seq, ts;
	int32_t pid;
	struct sysstate s[256];
};

static void pred_init(struct pred *p)
{
	memset(p, 0, sizeof *p);
	for (int i = 0; i < 256; i++) {
		struct sysstate *s = &p->s[i];
		s->fd = s->fd2 = s->dirfd = s->dirfd2 = LFS_TR_NOFD;
		s->offset = s->offset2 = -1;
	}
}

static int64_t pred_offset(const struct sysstate *s)
{
	if (s->offset >= 0 && s->ret > 0)   /* wraps (no UB) on hostile values */
		return (int64_t)((uint64_t)s->offset + (uint64_t)s->ret);
	return s->offset;
}

/* After an event: what the next is predicted from.  seq and s (the
 * state of its syscall) are passed in, the writer keeping its own. */
static void pred_set(struct pred *p, struct sysstate *s, uint64_t seq, const struct lfs_trace_event *ev)
{
	p->seq = seq;
	p->ts = ev->ts_ns;
	p->pid = ev->pid;
	s->fd = ev->fd; s->fd2 = ev->fd2; s->dirfd = ev->dirfd; s->dirfd2 = ev->dirfd2;
	s->whence = ev->whence; s->cmd = ev->cmd; s->mode = ev->mode; s->flags = ev->flags;
	s->count = ev->count; s->arg = ev->arg; s->offset = ev->offset; s->offset2 = ev->offset2;
	s->ret = ev->ret;
}

static inline uint64_t zz(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t unzz(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static inline uint8_t *put_var(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* ---------------------------------------------------------------- writer */

struct strent {
	char *key;                /* NULL: free slot */
	uint32_t id;
	uint32_t hash;            /* str_hash of key: compared before the key */
};

struct strblock {             /* keys are carved from these, freed at once */
	struct strblock *next;
	char b[];
};

struct strtab {               /* string → id, open addressing */
	struct strent *ent;
	size_t cap, n;
	struct strblock *blocks;  /* newest first */
	char *bp;                 /* free bytes of blocks: bp .. bp + bleft */
	size_t bleft;
};

#define STRBLOCK (256 * 1024)

/* n bytes for a key (a tar x interns ~20,000 new paths: one malloc each,
 * and as many frees at the end, were a tenth of the recorder's time) */
static char *strtab_key(struct strtab *t, size_t n)
{
	if (n > t->bleft) {
		size_t sz = n > STRBLOCK ? n : STRBLOCK;
		struct strblock *b = malloc(sizeof *b + sz);
		if (!b)
			return NULL;
		b->next = t->blocks;
		t->blocks = b;
		t->bp = b->b;
		t->bleft = sz;
	}
	char *k = t->bp;
	t->bp += n;
	t->bleft -= n;
	return k;
}

struct chunk {
	uint8_t *buf;
	size_t len, cap;
};

struct lfs_trace_writer {
	int fd;
	struct lfs_trace_header hdr;
	ZSTD_CCtx *cz;
	struct pred pr;
	struct strtab st;
	uint32_t next_id;
	uint64_t events, file_bytes;
	size_t flush_every;
	struct chunk cur;            /* being filled by lfs_trace_write */
	uint8_t *zout;               /* compressed output buffer */
	size_t zout_cap;
	int err;                     /* sticky error */
	char errmsg[200];
	/* threaded compression: cur is handed to the worker as `pending` */
	int threaded;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk pending;
	int have_pending, flush_req, stop;
};

/* Hash of the len bytes at s, eight at a time.  Each slot keeps its key's
 * hash, so a probe touches a key's bytes only when the hashes are equal
 * (with paths of a tar x, chasing each probed key was most of intern). */
static uint32_t str_hash(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
		s += 8;
		len -= 8;
	}
	if (len) {
		uint64_t w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	h *= 0x94d049bb133111ebull;
	return (uint32_t)(h >> 32);
}

static int strtab_grow(struct strtab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 1024;
	struct strent *ne = calloc(ncap, sizeof *ne);
	if (!ne)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->ent[i].key)
			continue;
		size_t j = t->ent[i].hash & (ncap - 1);
		while (ne[j].key)
			j = (j + 1) & (ncap - 1);
		ne[j] = t->ent[i];
	}
	free(t->ent);
	t->ent = ne;
	t->cap = ncap;
	return 0;
}

static int chunk_reserve(struct chunk *c, size_t more)
{
	return lfs_grow(&c->buf, &c->cap, c->len + more, 1, 65536);
}

/* Compress c and append it to the file; end the zstd frame if `end`. */
static int compress_chunk(struct lfs_trace_writer *w, const struct chunk *c, int end)
{
	ZSTD_inBuffer in = { c->buf, c->len, 0 };
	ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_flush;
	for (;;) {
		ZSTD_outBuffer out = { w->zout, w->zout_cap, 0 };
		size_t r = ZSTD_compressStream2(w->cz, &out, &in, mode);
		if (ZSTD_isError(r))
			return LFS_E_COMPRESS;
		size_t off = 0;
		while (off < out.pos) {
			ssize_t n = write(w->fd, w->zout + off, out.pos - off);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			off += (size_t)n;
		}
		w->file_bytes += out.pos;
		if (r == 0 && in.pos == in.size)
			return 0;
	}
}

static void *compress_thread(void *arg)
{
	struct lfs_trace_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->have_pending && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->have_pending && w->stop)
			break;
		pthread_mutex_unlock(&w->mu);
		int rc = compress_chunk(w, &w->pending, 0);
		pthread_mutex_lock(&w->mu);
		if (rc && !w->err)
			w->err = rc;
		w->pending.len = 0;
		w->have_pending = 0;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Hand the current chunk to the compressor (inline or the thread). */
static int writer_ship(struct lfs_trace_writer *w, int wait_done)
{
	if (!w->threaded) {
		int rc = w->cur.len ? compress_chunk(w, &w->cur, 0) : 0;
		w->cur.len = 0;
		return rc;
	}
	pthread_mutex_lock(&w->mu);
	while (w->have_pending)
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->cur.len) {
		struct chunk t = w->pending;
		w->pending = w->cur;
		w->cur = t;
		w->cur.len = 0;
		w->have_pending = 1;
		pthread_cond_broadcast(&w->cv);
	}
	if (wait_done)
		while (w->have_pending)
			pthread_cond_wait(&w->cv, &w->mu);
	int rc = w->err;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int lfs_trace_create(struct lfs_trace_writer **wp, const char *path,
		     const struct lfs_trace_header *h, const struct lfs_trace_wopts *opts,
		     struct lfs_err *err)
{
	*wp = NULL;
	struct lfs_trace_writer *w = calloc(1, sizeof *w);
	if (!w)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	w->hdr = *h;
	w->hdr.version = LFS_TRACE_VERSION;
	w->hdr.flags &= ~(uint32_t)LFS_TRH_COMPLETE;
	pred_init(&w->pr);
	w->next_id = 1;
	w->flush_every = opts && opts->flush_every ? opts->flush_every : 128 * 1024;
	w->zout_cap = ZSTD_CStreamOutSize();
	w->zout = malloc(w->zout_cap);
	w->cz = ZSTD_createCCtx();
	if (!w->zout || !w->cz || chunk_reserve(&w->cur, w->flush_every + MAX_EV_BYTES)) {
		ZSTD_freeCCtx(w->cz);
		free(w->zout);
		free(w->cur.buf);
		free(w);
		return lfs_seterr(err, -ENOMEM, "out of memory");
	}
	ZSTD_CCtx_setParameter(w->cz, ZSTD_c_compressionLevel,
			       opts && opts->zstd_level ? opts->zstd_level : 3);
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		int e = -errno;
		ZSTD_freeCCtx(w->cz);
		free(w->zout);
		free(w->cur.buf);
		free(w);
		return lfs_seterr(err, e, "%s: %s", path, strerror(-e));
	}
	uint8_t hb[LFS_TRACE_HDR_SIZE];
	header_encode(hb, &w->hdr);
	if (pwrite(w->fd, hb, sizeof hb, 0) != (ssize_t)sizeof hb) {
		int e = errno ? -errno : -EIO;
		close(w->fd);
		ZSTD_freeCCtx(w->cz);
		free(w->zout);
		free(w->cur.buf);
		free(w);
		return lfs_seterr(err, e, "%s: writing header: %s", path, strerror(-e));
	}
	lseek(w->fd, LFS_TRACE_HDR_SIZE, SEEK_SET);
	w->file_bytes = LFS_TRACE_HDR_SIZE;
	if (opts && opts->threaded) {
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
		if (pthread_create(&w->th, NULL, compress_thread, w) == 0)
			w->threaded = 1;
	}
	*wp = w;
	return 0;
}

/* Id of s, emitting a REC_STR the first time.  0 for NULL. */
static uint32_t intern(struct lfs_trace_writer *w, const char *s)
{
	if (!s)
		return 0;
	struct strtab *t = &w->st;
	if (t->n * 2 >= t->cap && strtab_grow(t)) {
		w->err = -ENOMEM;
		return 0;
	}
	size_t len = strlen(s);
	uint32_t hv = str_hash(s, len);
	size_t j = hv & (t->cap - 1);
	while (t->ent[j].key) {
		if (t->ent[j].hash == hv && !strcmp(t->ent[j].key, s))
			return t->ent[j].id;
		j = (j + 1) & (t->cap - 1);
	}
	if (len >= MAX_STR_LEN)
		len = MAX_STR_LEN - 1;
	if (chunk_reserve(&w->cur, len + 16)) {
		w->err = -ENOMEM;
		return 0;
	}
	char *k = strtab_key(t, len + 1);
	if (!k) {
		w->err = -ENOMEM;
		return 0;
	}
	memcpy(k, s, len);
	k[len] = 0;
	t->ent[j].key = k;
	t->ent[j].id = w->next_id;
	t->ent[j].hash = hv;
	t->n++;
	uint8_t *p = w->cur.buf + w->cur.len;
	*p++ = REC_STR;
	p = put_var(p, len);
	memcpy(p, s, len);
	w->cur.len = (size_t)(p + len - w->cur.buf);
	return w->next_id++;
}

int lfs_trace_write(struct lfs_trace_writer *w, const struct lfs_trace_event *in,
		    struct lfs_err *err)
{
	/* Read in place (no copy of the ~200-byte event): only seq, sys and
	 * eflags may differ from *in, and they are kept in locals. */
	const struct lfs_trace_event *e = in;
	if (w->err)
		return lfs_seterr(err, w->err, "writing trace: %s", lfs_strerror(w->err));
	struct pred *pr = &w->pr;
	uint64_t seq = e->seq ? e->seq : pr->seq + 1;
	unsigned sys = e->sys & 0xff;
	uint32_t eflags = e->eflags;
	if (sys >= 0x100 - REC_EV)
		return lfs_seterr(err, -EINVAL, "syscall number %u out of range", sys);

	/* the common event has no strings: intern only what is there */
#define INTERN(s) ((s) ? intern(w, (s)) : 0)
	uint32_t id_path = INTERN(e->path), id_pabs = INTERN(e->path_abs);
	uint32_t id_path2 = INTERN(e->path2), id_p2abs = INTERN(e->path2_abs);
	uint32_t id_comm = INTERN(e->comm);
#undef INTERN
	if (w->err)
		return lfs_seterr(err, w->err, "writing trace: %s", lfs_strerror(w->err));

	uint32_t dlen = e->data ? e->data_len : 0;
	if (dlen > MAX_DATA_LEN) {
		dlen = MAX_DATA_LEN;
		eflags |= LFS_TREV_DATATRUNC;
	}
	if (w->cur.len + MAX_EV_BYTES + dlen + 16 > w->cur.cap &&
	    chunk_reserve(&w->cur, MAX_EV_BYTES + dlen + 16)) {
		w->err = -ENOMEM;
		return lfs_seterr(err, w->err, "out of memory");
	}
	uint8_t *p = w->cur.buf + w->cur.len;
	if (dlen) {
		*p++ = REC_DATA;
		p = put_var(p, dlen);
		memcpy(p, e->data, dlen);
		p += dlen;
	}
	struct sysstate *s = &pr->s[sys];
	uint64_t v[F_NFIELDS];
	uint32_t mask = 0;
	int64_t poff = pred_offset(s);
#define FIELD(bit, cond, val) do { if (cond) { mask |= 1u << (bit); v[bit] = (val); } } while (0)
	FIELD(F_SEQ, seq != pr->seq + 1, zz((int64_t)(seq - pr->seq - 1)));
	FIELD(F_TS, e->ts_ns != pr->ts, zz((int64_t)(e->ts_ns - pr->ts)));
	FIELD(F_PID, e->pid != pr->pid, zz((int64_t)e->pid - pr->pid));
	FIELD(F_TID, e->tid != e->pid, zz((int64_t)e->tid - e->pid));
	FIELD(F_RET, e->ret != (int64_t)e->count, zz(e->ret - (int64_t)e->count));
	FIELD(F_FD, e->fd != s->fd, zz((int64_t)e->fd - s->fd));
	FIELD(F_FD2, e->fd2 != s->fd2, zz((int64_t)e->fd2 - s->fd2));
	FIELD(F_DIRFD, e->dirfd != s->dirfd, zz((int64_t)e->dirfd - s->dirfd));
	FIELD(F_DIRFD2, e->dirfd2 != s->dirfd2, zz((int64_t)e->dirfd2 - s->dirfd2));
	FIELD(F_FLAGS, e->flags != s->flags, e->flags);
	FIELD(F_MODE, e->mode != s->mode, e->mode);
	FIELD(F_WHENCE, e->whence != s->whence, zz(e->whence));
	FIELD(F_OFF, e->offset != poff, zz((int64_t)((uint64_t)e->offset - (uint64_t)poff)));
	FIELD(F_OFF2, e->offset2 != s->offset2, zz((int64_t)((uint64_t)e->offset2 - (uint64_t)s->offset2)));
	FIELD(F_COUNT, e->count != s->count, e->count);
	FIELD(F_ARG, e->arg != s->arg, e->arg);
	FIELD(F_PATH, id_path != 0, id_path);
	FIELD(F_PABS, id_pabs != 0, id_pabs);
	FIELD(F_PATH2, id_path2 != 0, id_path2);
	FIELD(F_P2ABS, id_p2abs != 0, id_p2abs);
	FIELD(F_STAT, eflags & LFS_TREV_STAT, 0);
	FIELD(F_CHILD, e->child_pid || e->child_tid, 0);
	FIELD(F_EXIT, e->exit_code != 0, zz(e->exit_code));
	FIELD(F_COMM, id_comm != 0, id_comm);
	FIELD(F_DUR, e->dur_ns != 0, e->dur_ns);
	FIELD(F_EFL, eflags != 0, eflags);
	FIELD(F_CMD, e->cmd != s->cmd, zz((int64_t)e->cmd - s->cmd));
#undef FIELD
	*p++ = (uint8_t)(REC_EV + sys);
	p = put_var(p, mask);
	for (uint32_t m = mask; m; m &= m - 1) {
		int bit = __builtin_ctz(m);
		if (bit == F_STAT) {
			p = put_var(p, e->size);
			p = put_var(p, e->ino);
			p = put_var(p, e->dev);
			p = put_var(p, e->ftype);
		} else if (bit == F_CHILD) {
			p = put_var(p, zz((int64_t)e->child_pid - e->pid));
			p = put_var(p, zz((int64_t)e->child_tid - e->child_pid));
		} else {
			p = put_var(p, v[bit]);
		}
	}
	w->cur.len = (size_t)(p - w->cur.buf);
	pred_set(pr, s, seq, e);
	w->events++;
	if (w->cur.len >= w->flush_every) {
		int rc = writer_ship(w, 0);
		if (rc) {
			w->err = rc;
			return lfs_seterr(err, rc, "writing trace: %s", lfs_strerror(rc));
		}
	}
	return 0;
}

int lfs_trace_flush(struct lfs_trace_writer *w, struct lfs_err *err)
{
	if (w->err)
		return lfs_seterr(err, w->err, "writing trace: %s", lfs_strerror(w->err));
	int rc = writer_ship(w, 1);
	if (rc) {
		w->err = rc;
		return lfs_seterr(err, rc, "writing trace: %s", lfs_strerror(rc));
	}
	return 0;
}

uint64_t lfs_trace_written_bytes(const struct lfs_trace_writer *w) { return w->file_bytes; }
uint64_t lfs_trace_written_events(const struct lfs_trace_writer *w) { return w->events; }

int lfs_trace_finish(struct lfs_trace_writer *w, const struct lfs_trace_header *final,
		     struct lfs_err *err)
{
	int rc = w->err;
	if (!rc)
		rc = writer_ship(w, 1);
	if (w->threaded) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->th, NULL);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		if (!rc)
			rc = w->err;
	}
	if (final)
		w->hdr = *final;
	w->hdr.version = LFS_TRACE_VERSION;
	w->hdr.events = w->events;
	if (!rc && chunk_reserve(&w->cur, 32))
		rc = -ENOMEM;
	if (!rc) {
		uint8_t *p = w->cur.buf;
		*p++ = REC_END;
		p = put_var(p, w->events);
		p = put_var(p, w->hdr.lost);
		w->cur.len = (size_t)(p - w->cur.buf);
		rc = compress_chunk(w, &w->cur, 1);
	}
	if (!rc) {
		uint8_t hb[LFS_TRACE_HDR_SIZE];
		w->hdr.flags |= LFS_TRH_COMPLETE;
		header_encode(hb, &w->hdr);
		if (pwrite(w->fd, hb, sizeof hb, 0) != (ssize_t)sizeof hb)
			rc = errno ? -errno : -EIO;
	}
	if (close(w->fd) && !rc)
		rc = -errno;
	for (struct strblock *b = w->st.blocks, *nb; b; b = nb) {
		nb = b->next;
		free(b);
	}
	free(w->st.ent);
	free(w->cur.buf);
	free(w->pending.buf);
	free(w->zout);
	ZSTD_freeCCtx(w->cz);
	free(w);
	if (rc)
		return lfs_seterr(err, rc, "writing trace: %s", lfs_strerror(rc));
	return 0;
}

/* ---------------------------------------------------------------- reader */

struct lfs_trace_reader {
	int fd;                      /* -1 for a memory reader */
	const uint8_t *mem;
	size_t memlen, mempos;
	ZSTD_DCtx *dz;
	uint8_t *in;
	size_t in_cap;
	ZSTD_inBuffer zin;
	uint8_t *out;
	size_t out_cap, pos, end;
	int in_eof, done, truncated, err;
	struct lfs_trace_header hdr;
	char **strs;                 /* id → string; strs[0] unused */
	size_t nstrs, strs_cap;
	struct strblk *sblk;         /* the strings' storage (never moves) */
	uint64_t str_bytes;
	uint8_t *data;
	size_t data_len, data_cap;
	uint64_t count;
	struct pred pr;
};

/* Strings live in 64 KiB blocks (one malloc per block, not per string). */
struct strblk {
	struct strblk *next;
	size_t used, cap;
	char data[];
};

static char *str_alloc(struct lfs_trace_reader *r, size_t n)
{
	struct strblk *b = r->sblk;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > (64u << 10) ? n : (64u << 10);
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = r->sblk;
		r->sblk = b;
	}
	char *s = b->data + b->used;
	b->used += n;
	return s;
}

static int refill(struct lfs_trace_reader *r)
{
	if (r->fd < 0) {
		r->zin.src = r->mem + r->mempos;
		r->zin.size = r->memlen - r->mempos;
		r->zin.pos = 0;
		r->mempos = r->memlen;
		return r->zin.size > 0;
	}
	ssize_t n;
	do
		n = read(r->fd, r->in, r->in_cap);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	r->zin.src = r->in;
	r->zin.size = (size_t)n;
	r->zin.pos = 0;
	return 1;
}

/* Make at least n bytes available at out[pos]; returns how many are. */
static size_t ensure(struct lfs_trace_reader *r, size_t n)
{
	while (r->end - r->pos < n && !r->err) {
		if (r->pos) {
			memmove(r->out, r->out + r->pos, r->end - r->pos);
			r->end -= r->pos;
			r->pos = 0;
		}
		if (lfs_grow(&r->out, &r->out_cap, n + 4096, 1, 1 << 17) < 0) {
			r->err = -ENOMEM;
			break;
		}
		if (r->zin.pos == r->zin.size) {
			if (r->in_eof || !refill(r)) {
				r->in_eof = 1;
				/* zstd may still hold decoded bytes */
				ZSTD_inBuffer none = { NULL, 0, 0 };
				ZSTD_outBuffer o = { r->out, r->out_cap, r->end };
				size_t z = ZSTD_decompressStream(r->dz, &o, &none);
				if (ZSTD_isError(z) || o.pos == r->end)
					break;
				r->end = o.pos;
				continue;
			}
		}
		ZSTD_outBuffer o = { r->out, r->out_cap, r->end };
		size_t z = ZSTD_decompressStream(r->dz, &o, &r->zin);
		if (ZSTD_isError(z)) {
			/* garbage after the valid prefix: stop there */
			r->in_eof = 1;
			r->zin.pos = r->zin.size;
			r->truncated = 1;
			break;
		}
		r->end = o.pos;
	}
	return r->end - r->pos;
}

static int reader_init(struct lfs_trace_reader *r, const uint8_t *hdr, size_t hlen,
		       struct lfs_err *err)
{
	int rc = header_decode(&r->hdr, hdr, hlen, err);
	if (rc)
		return rc;
	r->dz = ZSTD_createDCtx();
	r->strs_cap = 256;
	r->strs = calloc(r->strs_cap, sizeof *r->strs);
	r->nstrs = 1;
	if (!r->dz || !r->strs)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	pred_init(&r->pr);
	return 0;
}

int lfs_trace_open(struct lfs_trace_reader **rp, const char *path, struct lfs_err *err)
{
	*rp = NULL;
	struct lfs_trace_reader *r = calloc(1, sizeof *r);
	if (!r)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		int e = -errno;
		free(r);
		return lfs_seterr(err, e, "%s: %s", path, strerror(-e));
	}
	uint8_t hb[LFS_TRACE_HDR_SIZE];
	ssize_t n = pread(r->fd, hb, sizeof hb, 0);
	int rc = reader_init(r, hb, n < 0 ? 0 : (size_t)n, err);
	r->in_cap = 1 << 17;
	r->in = malloc(r->in_cap);
	if (!rc && !r->in)
		rc = lfs_seterr(err, -ENOMEM, "out of memory");
	if (rc) {
		lfs_trace_reader_close(r);
		return rc;
	}
	lseek(r->fd, LFS_TRACE_HDR_SIZE, SEEK_SET);
	*rp = r;
	return 0;
}

int lfs_trace_open_mem(struct lfs_trace_reader **rp, const void *buf, size_t len,
		       struct lfs_err *err)
{
	*rp = NULL;
	struct lfs_trace_reader *r = calloc(1, sizeof *r);
	if (!r)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	r->fd = -1;
	int rc = reader_init(r, buf, len, err);
	if (rc) {
		lfs_trace_reader_close(r);
		return rc;
	}
	r->mem = buf;
	r->memlen = len;
	r->mempos = LFS_TRACE_HDR_SIZE;
	*rp = r;
	return 0;
}

const struct lfs_trace_header *lfs_trace_header(const struct lfs_trace_reader *r)
{
	return &r->hdr;
}

int lfs_trace_truncated(const struct lfs_trace_reader *r) { return r->truncated; }
uint64_t lfs_trace_count(const struct lfs_trace_reader *r) { return r->count; }

void lfs_trace_reader_close(struct lfs_trace_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	while (r->sblk) {
		struct strblk *b = r->sblk;
		r->sblk = b->next;
		free(b);
	}
	free(r->strs);
	free(r->in);
	free(r->out);
	free(r->data);
	ZSTD_freeDCtx(r->dz);
	free(r);
}

static inline int get_var(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t x = 0;
	for (int sh = 0; sh < 64; sh += 7) {
		if (p >= end)
			return -1;
		uint8_t b = *p++;
		x |= (uint64_t)(b & 0x7f) << sh;
		if (!(b & 0x80)) {
			*v = x;
			*pp = p;
			return 0;
		}
	}
	return -1;
}

static int stop_truncated(struct lfs_trace_reader *r)
{
	r->truncated = 1;
	r->done = 1;
	return 0;
}

static int corrupt(struct lfs_trace_reader *r, struct lfs_err *err, const char *what)
{
	r->done = 1;
	r->err = LFS_E_CORRUPT;
	return lfs_seterr(err, LFS_E_CORRUPT, "trace corrupt after %llu events: %s",
			  (unsigned long long)r->count, what);
}

static const char *str_of(struct lfs_trace_reader *r, uint64_t id, int *bad)
{
	if (id == 0)
		return NULL;
	if (id >= r->nstrs) {
		*bad = 1;
		return NULL;
	}
	return r->strs[id];
}

int lfs_trace_next(struct lfs_trace_reader *r, struct lfs_trace_event *ev, struct lfs_err *err)
{
	int have_data = 0;
	for (;;) {
		if (r->done)
			return r->err ? lfs_seterr(err, r->err, "%s", lfs_strerror(r->err)) : 0;
		size_t avail = ensure(r, MAX_EV_BYTES);
		if (r->err == -ENOMEM)
			return lfs_seterr(err, -ENOMEM, "out of memory");
		if (avail == 0)
			return stop_truncated(r);
		const uint8_t *p = r->out + r->pos, *end = p + avail;
		uint8_t tag = *p++;
		uint64_t len;
		if (tag == REC_END) {
			r->done = 1;
			return 0;
		}
		if (tag == REC_STR || tag == REC_DATA) {
			if (get_var(&p, end, &len))
				return avail < MAX_EV_BYTES ? stop_truncated(r) : corrupt(r, err, "bad length");
			if ((tag == REC_STR && len >= MAX_STR_LEN) || (tag == REC_DATA && len > MAX_DATA_LEN))
				return corrupt(r, err, "record too long");
			size_t hl = (size_t)(p - (r->out + r->pos));
			if (ensure(r, hl + len) < hl + len)
				return stop_truncated(r);
			p = r->out + r->pos + hl;
			if (tag == REC_STR) {
				if (r->str_bytes + len > MAX_STR_TOTAL)
					return corrupt(r, err, "too many strings");
				if (r->nstrs == r->strs_cap) {
					char **ns = realloc(r->strs, 2 * r->strs_cap * sizeof *ns);
					if (!ns)
						return lfs_seterr(err, -ENOMEM, "out of memory");
					r->strs = ns;
					r->strs_cap *= 2;
				}
				char *s = str_alloc(r, len + 1);
				if (!s)
					return lfs_seterr(err, -ENOMEM, "out of memory");
				memcpy(s, p, len);
				s[len] = 0;
				r->strs[r->nstrs++] = s;
				r->str_bytes += len + 1;
			} else {
				if (len && r->data_cap < len) {
					uint8_t *nd = realloc(r->data, len);
					if (!nd)
						return lfs_seterr(err, -ENOMEM, "out of memory");
					r->data = nd;
					r->data_cap = len;
				}
				if (len)
					memcpy(r->data, p, len);
				r->data_len = len;
				have_data = 1;
			}
			r->pos += hl + len;
			continue;
		}
		if (tag < REC_EV)
			return corrupt(r, err, "unknown record type");

		unsigned sys = tag - REC_EV;
		struct pred *pr = &r->pr;
		const struct sysstate *s = &pr->s[sys];
		uint64_t mask;
		if (get_var(&p, end, &mask) || mask >> F_NFIELDS)
			return avail < MAX_EV_BYTES ? stop_truncated(r) : corrupt(r, err, "bad field mask");
		/* every member set here (no memset: a 200-byte rep stos was a
		 * quarter of the decoding time); padding is left alone */
		ev->seq = pr->seq + 1;
		ev->ts_ns = pr->ts;
		ev->dur_ns = 0;
		ev->pid = pr->pid;
		ev->tid = 0;
		ev->sys = (uint16_t)sys;
		ev->eflags = 0;
		ev->cmd = s->cmd;
		ev->ret = 0;
		ev->fd = s->fd; ev->fd2 = s->fd2; ev->dirfd = s->dirfd; ev->dirfd2 = s->dirfd2;
		ev->flags = s->flags; ev->mode = s->mode; ev->whence = s->whence;
		ev->offset = pred_offset(s); ev->offset2 = s->offset2;
		ev->count = s->count; ev->arg = s->arg;
		ev->path = ev->path_abs = ev->path2 = ev->path2_abs = NULL;
		ev->size = ev->ino = ev->dev = 0;
		ev->ftype = 0;
		ev->child_pid = ev->child_tid = ev->exit_code = 0;
		ev->comm = NULL;
		ev->data = NULL;
		ev->data_len = 0;
		int64_t tid_d = 0, ret_d = 0;
		int bad = 0;
		for (uint64_t m = mask; m; m &= m - 1) {
			int bit = __builtin_ctzll(m);
			uint64_t x;
			if (get_var(&p, end, &x))
				return avail < MAX_EV_BYTES ? stop_truncated(r) : corrupt(r, err, "bad field");
			switch (bit) {
			case F_SEQ: ev->seq = pr->seq + 1 + (uint64_t)unzz(x); break;
			case F_TS: ev->ts_ns = pr->ts + (uint64_t)unzz(x); break;
			case F_PID: ev->pid = (int32_t)(pr->pid + unzz(x)); break;
			case F_TID: tid_d = unzz(x); break;
			case F_RET: ret_d = unzz(x); break;
			case F_FD: ev->fd = (int32_t)(s->fd + unzz(x)); break;
			case F_FD2: ev->fd2 = (int32_t)(s->fd2 + unzz(x)); break;
			case F_DIRFD: ev->dirfd = (int32_t)(s->dirfd + unzz(x)); break;
			case F_DIRFD2: ev->dirfd2 = (int32_t)(s->dirfd2 + unzz(x)); break;
			case F_FLAGS: ev->flags = x; break;
			case F_MODE: ev->mode = (uint32_t)x; break;
			case F_WHENCE: ev->whence = (int32_t)unzz(x); break;
			case F_OFF: ev->offset = (int64_t)((uint64_t)pred_offset(s) + (uint64_t)unzz(x)); break;
			case F_OFF2: ev->offset2 = (int64_t)((uint64_t)s->offset2 + (uint64_t)unzz(x)); break;
			case F_COUNT: ev->count = x; break;
			case F_ARG: ev->arg = x; break;
			case F_PATH: ev->path = str_of(r, x, &bad); break;
			case F_PABS: ev->path_abs = str_of(r, x, &bad); break;
			case F_PATH2: ev->path2 = str_of(r, x, &bad); break;
			case F_P2ABS: ev->path2_abs = str_of(r, x, &bad); break;
			case F_STAT: {
				uint64_t y[3];
				ev->size = x;
				for (int i = 0; i < 3; i++)
					if (get_var(&p, end, &y[i]))
						return avail < MAX_EV_BYTES ? stop_truncated(r) : corrupt(r, err, "bad stat");
				ev->ino = y[0];
				ev->dev = y[1];
				ev->ftype = (uint32_t)y[2];
				break;
			}
			case F_CHILD: {
				uint64_t y;
				if (get_var(&p, end, &y))
					return avail < MAX_EV_BYTES ? stop_truncated(r) : corrupt(r, err, "bad child");
				ev->child_pid = (int32_t)(ev->pid + unzz(x));
				ev->child_tid = (int32_t)(ev->child_pid + unzz(y));
				break;
			}
			case F_EXIT: ev->exit_code = (int32_t)unzz(x); break;
			case F_COMM: ev->comm = str_of(r, x, &bad); break;
			case F_DUR: ev->dur_ns = x; break;
			case F_EFL: ev->eflags = (uint16_t)x; break;
			case F_CMD: ev->cmd = (int32_t)(s->cmd + unzz(x)); break;
			}
		}
		if (bad)
			return corrupt(r, err, "string id out of range");
		ev->tid = (int32_t)(ev->pid + tid_d);
		ev->ret = (int64_t)((uint64_t)ev->count + (uint64_t)ret_d);
		if (have_data) {
			ev->data = r->data;
			ev->data_len = (uint32_t)r->data_len;
		}
		r->pos = (size_t)(p - r->out);
		pred_set(pr, &pr->s[ev->sys & 0xff], ev->seq, ev);
		r->count++;
		return 1;
	}
}
