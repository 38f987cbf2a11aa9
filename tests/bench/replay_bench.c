/*
 * tests/bench/replay_bench.c — replay speed and memory.
 *
 *   replay_bench decode TRACE [REPEAT]     events/s of lfs_trace_next alone
 *   replay_bench replay TRACE [IMAGE]      events/s of lfs_replay_run, in
 *                                          memory or on an image file
 * Each mode prints one line `key=value ...` with peak RSS (ru_maxrss).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "replay/replay.h"
#include "trace/trace.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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
		uint64_t events = 0, t0 = now_ns();
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
		uint64_t dt = now_ns() - t0;
		printf("mode=decode events=%" PRIu64 " seconds=%.3f events_per_sec=%.0f peak_rss_kib=%ld\n",
		       events, dt / 1e9, events * 1e9 / (double)dt, rss_kib());
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "replay")) {
		struct lfs_replay_opts o;
		memset(&o, 0, sizeof o);
		o.image = argc > 3 ? argv[3] : NULL;
		struct lfs_replay_result *res = calloc(1, sizeof *res);
		uint64_t t0 = now_ns();
		int rc = lfs_replay_run(argv[2], &o, res, &err);
		uint64_t dt = now_ns() - t0;
		if (rc < 0) {
			fprintf(stderr, "replay_bench: %s\n", err.msg);
			return 1;
		}
		printf("mode=%s events=%" PRIu64 " replayed=%" PRIu64 " replay_seconds=%.3f "
		       "events_per_sec=%.0f total_seconds=%.3f total_events_per_sec=%.0f mismatches=%" PRIu64
		       " cache_mib=%" PRIu64 " app_written_mib=%.1f peak_rss_kib=%ld\n",
		       o.image ? "replay-image" : "replay-memory", res->trace_events, res->replayed,
		       res->wall_ns / 1e9, res->events_per_sec, dt / 1e9,
		       res->trace_events * 1e9 / (double)dt, res->mismatches, res->opt.cache_bytes >> 20,
		       res->app_written / 1048576.0, rss_kib());
		lfs_replay_result_free(res);
		free(res);
		return 0;
	}
	fprintf(stderr, "usage: replay_bench decode TRACE [REPEAT] | replay TRACE [IMAGE]\n");
	return 2;
}
