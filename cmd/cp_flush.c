/*
 * cmd/cp_flush.c — the flusher thread of `lightfs cp` (see cp_flush.h).
 */
#include "cp_flush.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct cp_flush {
	int fd;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t asked, done;      /* fdatasyncs asked for / started */
	int stop;
	uint64_t bytes, next;      /* the copy's own count (its thread only) */
};

static void *flusher(void *arg)
{
	struct cp_flush *f = arg;
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (!f->stop && f->done == f->asked)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop)
			break;
		f->done = f->asked;
		pthread_mutex_unlock(&f->mu);
		(void)fdatasync(f->fd);
		pthread_mutex_lock(&f->mu);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

struct cp_flush *cp_flush_start(const char *path)
{
	struct cp_flush *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	f->next = CP_FLUSH_EVERY;
	if (f->fd < 0 || pthread_mutex_init(&f->mu, NULL)) {
		if (f->fd >= 0)
			close(f->fd);
		free(f);
		return NULL;
	}
	pthread_cond_init(&f->cv, NULL);
	if (pthread_create(&f->th, NULL, flusher, f)) {
		pthread_cond_destroy(&f->cv);
		pthread_mutex_destroy(&f->mu);
		close(f->fd);
		free(f);
		return NULL;
	}
	return f;
}

void cp_flush_note(struct cp_flush *f, uint64_t n)
{
	if (!f)
		return;
	f->bytes += n;
	if (f->bytes < f->next)
		return;
	f->next = f->bytes + CP_FLUSH_EVERY;
	pthread_mutex_lock(&f->mu);
	f->asked++;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

void cp_flush_stop(struct cp_flush *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	close(f->fd);
	free(f);
}
