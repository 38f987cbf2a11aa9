/*
 * tests/bench/replay_bench.c — replay speed and memory.
 *
 *   replay_bench decode TRACE [REPEAT]     events/s of lfs_trace_next alone
 *   replay_bench replay TRACE [IMAGE]      events/s of lfs_replay_run, in
 *                                          memory or on an image file
 *   replay_bench floor BYTES EVENTS        the byte work alone: what the
 *                                          pipeline must do with BYTES
 *                                          written, with no per-event work
 * Each mode prints one line `key=value ...` with peak RSS (ru_maxrss); a
 * replay also the user and system CPU time of its pass (all threads): user
 * CPU is the engine's work, system CPU mostly the kernel clearing fresh
 * memory, which varies 10x between runs on this machine.
 *
 * The floor: a replayed write's bytes are generated (pattern), copied into
 * page-cache frames (a 64 MiB ring, the default cache; the in-memory image
 * keeps no page CRCs), and copied once into the in-memory image (the
 * by-reference page of a writeback batch goes straight into the value
 * pool), which must hold all of them: fresh memory in 4 MiB chunks, taken
 * as lib/kv/memval.c takes them (from the second on, from its prefill
 * thread when one is ready).  Those passes over BYTES, done here in 64 KiB
 * writes and 4 KiB pages with nothing else, bound the replay speed from
 * above: EVENTS / floor seconds.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kv/memval.h"
#include "replay/replay.h"
#include "trace/trace.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* user + system CPU time of the process, ns */
static uint64_t cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

/* Peak anonymous and file-backed RSS, sampled from /proc/self/status every
 * 2 ms by a thread while a replay runs (ru_maxrss adds them up; the file
 * part is the image file's pages mapped for reads: clean OS page cache). */
static _Atomic int sampling;
static long peak_anon, peak_file;

static void sample_status(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v;
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "RssAnon: %ld", &v) == 1 && v > peak_anon)
			peak_anon = v;
		else if (sscanf(line, "RssFile: %ld", &v) == 1 && v > peak_file)
			peak_file = v;
	}
	fclose(f);
}

static void *sampler(void *arg)
{
	(void)arg;
	while (sampling) {
		sample_status();
		struct timespec ts = { 0, 2000000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static long rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	struct lfs_err err = { 0 };
	if (argc >= 3 && !strcmp(argv[1], "decode")) {
		int repeat = argc > 3 ? atoi(argv[3]) : 20;
		uint64_t events = 0, t0 = now_ns(), c0 = cpu_ns();
		for (int i = 0; i < repeat; i++) {
			struct lfs_trace_reader *r;
			struct lfs_trace_event ev;
			if (lfs_trace_open(&r, argv[2], &err) < 0) {
				fprintf(stderr, "replay_bench: %s\n", err.msg);
				return 1;
			}
			while (lfs_trace_next(r, &ev, &err) > 0)
				events++;
			lfs_trace_reader_close(r);
		}
		uint64_t dt = now_ns() - t0, dc = cpu_ns() - c0;
		/* one thread: on an idle machine CPU time = wall time; on a shared
		 * one the CPU-time rate is the one that does not count other
		 * programs' turns */
		printf("mode=decode events=%" PRIu64 " seconds=%.3f events_per_sec=%.0f cpu_seconds=%.3f "
		       "cpu_events_per_sec=%.0f peak_rss_kib=%ld\n", events, dt / 1e9,
		       events * 1e9 / (double)dt, dc / 1e9, events * 1e9 / (double)(dc ? dc : 1), rss_kib());
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "replay")) {
		struct lfs_replay_opts o;
		memset(&o, 0, sizeof o);
		o.image = argc > 3 ? argv[3] : NULL;
		struct lfs_replay_result *res = calloc(1, sizeof *res);
		pthread_t th;
		sampling = 1;
		int have_th = pthread_create(&th, NULL, sampler, NULL) == 0;
		uint64_t t0 = now_ns();
		int rc = lfs_replay_run(argv[2], &o, res, &err);
		uint64_t dt = now_ns() - t0;
		sampling = 0;
		if (have_th)
			pthread_join(th, NULL);
		if (rc < 0) {
			fprintf(stderr, "replay_bench: %s\n", err.msg);
			return 1;
		}
		printf("mode=%s events=%" PRIu64 " replayed=%" PRIu64 " replay_seconds=%.3f "
		       "events_per_sec=%.0f total_seconds=%.3f total_events_per_sec=%.0f mismatches=%" PRIu64
		       " cache_mib=%" PRIu64 " app_written_mib=%.1f app_written=%" PRIu64 " peak_rss_kib=%ld"
		       " peak_anon_kib=%ld peak_file_kib=%ld user_seconds=%.3f sys_seconds=%.3f"
		       " user_events_per_sec=%.0f replay_thread_cpu_seconds=%.3f\n",
		       o.image ? "replay-image" : "replay-memory", res->trace_events, res->replayed,
		       res->wall_ns / 1e9, res->events_per_sec, dt / 1e9,
		       res->trace_events * 1e9 / (double)dt, res->mismatches, res->opt.cache_bytes >> 20,
		       res->app_written / 1048576.0, res->app_written, rss_kib(), peak_anon, peak_file,
		       res->cpu_user_ns / 1e9, res->cpu_sys_ns / 1e9,
		       res->trace_events * 1e9 / (double)(res->cpu_user_ns ? res->cpu_user_ns : 1),
		       res->cpu_replay_thread_ns / 1e9);
		lfs_replay_result_free(res);
		free(res);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "floor")) {
		uint64_t bytes = strtoull(argv[2], NULL, 0), events = strtoull(argv[3], NULL, 0);
		const size_t W = 64 << 10, P = 4096, CACHE = 64u << 20;
		uint8_t *wbuf = malloc(W), *cache = malloc(CACHE);
		/* the image's memory as lib/kv/memval.c takes it: 4 MiB chunks,
		 * the first mapped here, the next ones from the prefill thread
		 * (huge pages) when it has one ready, else mapped here (4 KiB
		 * pages populated in one call) */
		const size_t CHUNK = 4u << 20;
		size_t nchunks = ((size_t)bytes + CHUNK - 1) / CHUNK + 1, nc = 0, taken = 0;
		uint8_t **chunks = calloc(nchunks, sizeof *chunks);
		struct lfs_prefill *pf = NULL;
		uint64_t tpat = 0, tcopy = 0;
		if (!wbuf || !cache || !chunks) {
			fprintf(stderr, "replay_bench: out of memory\n");
			return 1;
		}
		memset(cache, 0, CACHE);               /* the cache is warm memory after a while */
		size_t cpos = 0, ioff = CHUNK;
		uint64_t t0 = now_ns();
		for (uint64_t off = 0; off < bytes; off += W) {
			size_t n = bytes - off < W ? (size_t)(bytes - off) : W;
			uint64_t a = now_ns();
			lfs_replay_pattern(wbuf, 1, off, n);
			tpat += now_ns() - a;
			for (size_t o = 0; o < n; o += P) {
				size_t k = n - o < P ? n - o : P;
				memcpy(cache + cpos, wbuf + o, k);           /* copy into a frame */
				if (ioff + k > CHUNK) {                      /* memval grow() */
					if (nc == 1 && !pf)
						pf = lfs_prefill_new(CHUNK, 2, 2u << 20);
					uint8_t *c = lfs_prefill_take(pf);
					if (c)
						taken++;
					else {
						c = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
							 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
						if (c == MAP_FAILED) {
							fprintf(stderr, "replay_bench: out of memory\n");
							return 1;
						}
#ifdef MADV_NOHUGEPAGE
						madvise(c, CHUNK, MADV_NOHUGEPAGE);
#endif
						madvise(c, CHUNK, 23 /* MADV_POPULATE_WRITE */);
					}
					chunks[nc++] = c;
					ioff = 0;
				}
				memcpy(chunks[nc - 1] + ioff, cache + cpos, k);  /* into the image */
				ioff += k;
				cpos = (cpos + P) % CACHE;
			}
		}
		uint64_t dt = now_ns() - t0;
		/* the same copies again, the image now faulted in: what fresh memory cost */
		uint64_t t1 = now_ns();
		for (uint64_t off = 0; off < bytes; off += P) {
			size_t k = bytes - off < P ? (size_t)(bytes - off) : P;
			memcpy(chunks[off / CHUNK] + off % CHUNK, cache + (off % CACHE), k);
		}
		tcopy = now_ns() - t1;
		printf("mode=floor bytes=%" PRIu64 " events=%" PRIu64 " seconds=%.3f ns_per_byte=%.3f "
		       "events_per_sec=%.0f pattern_seconds=%.3f warm_image_copy_seconds=%.3f "
		       "prefilled_chunks=%zu of %zu peak_rss_kib=%ld\n", bytes, events, dt / 1e9,
		       (double)dt / (double)(bytes ? bytes : 1), events * 1e9 / (double)dt, tpat / 1e9,
		       tcopy / 1e9, taken, nc, rss_kib());
		lfs_prefill_free(pf);
		for (size_t i = 0; i < nc; i++)
			munmap(chunks[i], CHUNK);
		free(chunks);
		free(wbuf);
		free(cache);
		return 0;
	}
	fprintf(stderr, "usage: replay_bench decode TRACE [REPEAT] | replay TRACE [IMAGE] | floor BYTES EVENTS\n");
	return 2;
}
