/* lib/replay/tread.c — lfs_trace_next run ahead on a decoder thread (see
 * tread.h). */
#include "replay/tread.h"
#include "common/grow.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct tbatch {
	struct lfs_trace_event ev[RP_TREAD_BATCH];
	size_t doff[RP_TREAD_BATCH];   /* ev's data at data + doff (SIZE_MAX: none) */
	uint8_t *data;
	size_t dlen, dcap;
	unsigned n;
	int end;                       /* 0: more batches follow; 1: the trace ends
	                                  after these; < 0: then this error */
	struct lfs_err err;            /* with end < 0 */
};

struct rp_tread {
	struct lfs_trace_reader *r;
	pthread_t th;
	int threaded;
	pthread_mutex_t mu;
	pthread_cond_t can_fill, can_take;
	unsigned head, tail;           /* batches filled / taken (head - tail full) */
	int stop;
	int truncated;                 /* set before the last batch is published */
	struct tbatch *cur;            /* the consumer's batch */
	unsigned pos;
	int final;                     /* 1 until the end was handed out */
	struct lfs_err final_err;
	struct tbatch ring[RP_TREAD_RING];
};

/* Decode the next batch into b (the thread that owns b: the decoder, or
 * the caller when there is none). */
static void fill(struct rp_tread *t, struct tbatch *b)
{
	b->n = 0;
	b->dlen = 0;
	b->end = 0;
	while (b->n < RP_TREAD_BATCH && b->dlen < RP_TREAD_BYTES) {
		struct lfs_trace_event *ev = &b->ev[b->n];
		int rc = lfs_trace_next(t->r, ev, &b->err);
		if (rc <= 0) {
			if (rc == 0)
				t->truncated = lfs_trace_truncated(t->r);
			b->end = rc < 0 ? rc : 1;
			return;
		}
		b->doff[b->n] = SIZE_MAX;
		if (ev->data && ev->data_len) {
			if (lfs_grow(&b->data, &b->dcap, b->dlen + ev->data_len, 1, 64u << 10) < 0) {
				b->end = lfs_seterr(&b->err, -ENOMEM, "out of memory");
				return;
			}
			memcpy(b->data + b->dlen, ev->data, ev->data_len);
			b->doff[b->n] = b->dlen;
			b->dlen += ev->data_len;
		}
		ev->data = NULL;       /* set again from doff when handed out */
		b->n++;
	}
}

static void *decoder(void *arg)
{
	struct rp_tread *t = arg;
	for (;;) {
		pthread_mutex_lock(&t->mu);
		/* a full ring: wait until half of it is free (one wakeup per
		 * RP_TREAD_RING / 2 batches, not one per batch) */
		if (t->head - t->tail == RP_TREAD_RING)
			while (!t->stop && t->head - t->tail > RP_TREAD_RING / 2)
				pthread_cond_wait(&t->can_fill, &t->mu);
		if (t->stop) {
			pthread_mutex_unlock(&t->mu);
			return NULL;
		}
		struct tbatch *b = &t->ring[t->head % RP_TREAD_RING];
		pthread_mutex_unlock(&t->mu);
		fill(t, b);            /* b is not full: only this thread uses it */
		pthread_mutex_lock(&t->mu);
		t->head++;
		pthread_cond_signal(&t->can_take);
		pthread_mutex_unlock(&t->mu);
		if (b->end)
			return NULL;
	}
}

int rp_tread_open(struct rp_tread **out, const char *path, struct lfs_err *err)
{
	*out = NULL;
	struct rp_tread *t = calloc(1, sizeof *t);
	if (!t)
		return lfs_seterr(err, -ENOMEM, "out of memory");
	int rc = lfs_trace_open(&t->r, path, err);
	if (rc < 0) {
		free(t);
		return rc;
	}
	t->final = 1;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->can_fill, NULL);
	pthread_cond_init(&t->can_take, NULL);
	t->threaded = pthread_create(&t->th, NULL, decoder, t) == 0;
	*out = t;
	return 0;
}

int rp_tread_next(struct rp_tread *t, struct lfs_trace_event *ev, struct lfs_err *err)
{
	for (;;) {
		struct tbatch *b = t->cur;
		if (b && t->pos < b->n) {
			unsigned i = t->pos++;
			*ev = b->ev[i];
			if (b->doff[i] != SIZE_MAX)
				ev->data = b->data + b->doff[i];
			return 1;
		}
		if (t->final <= 0) {
			if (t->final < 0 && err)
				*err = t->final_err;
			return t->final;
		}
		if (b && b->end) {
			t->final = b->end > 0 ? 0 : b->end;
			t->final_err = b->err;
			continue;
		}
		if (!t->threaded) {
			b = &t->ring[0];
			fill(t, b);
		} else {
			pthread_mutex_lock(&t->mu);
			if (b) {               /* give the used batch back */
				t->tail++;
				if (t->head - t->tail == RP_TREAD_RING / 2)
					pthread_cond_signal(&t->can_fill);
			}
			while (t->head == t->tail)
				pthread_cond_wait(&t->can_take, &t->mu);
			b = &t->ring[t->tail % RP_TREAD_RING];
			pthread_mutex_unlock(&t->mu);
		}
		t->cur = b;
		t->pos = 0;
	}
}

int rp_tread_truncated(const struct rp_tread *t)
{
	return t->truncated;
}

void rp_tread_close(struct rp_tread *t)
{
	if (!t)
		return;
	if (t->threaded) {
		pthread_mutex_lock(&t->mu);
		t->stop = 1;
		pthread_cond_signal(&t->can_fill);
		pthread_mutex_unlock(&t->mu);
		pthread_join(t->th, NULL);
	}
	pthread_cond_destroy(&t->can_take);
	pthread_cond_destroy(&t->can_fill);
	pthread_mutex_destroy(&t->mu);
	lfs_trace_reader_close(t->r);
	for (unsigned i = 0; i < RP_TREAD_RING; i++)
		free(t->ring[i].data);
	free(t);
}
