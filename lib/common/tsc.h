/* lib/common/tsc.h — a cheap clock for timing short intervals (request
 * latencies): on x86-64 with an invariant TSC the time-stamp counter
 * (about a third of a clock_gettime here), converted to ns with a rate
 * measured once per process against CLOCK_MONOTONIC (~0.2 ms at the first
 * lfs_tsc_init); elsewhere CLOCK_MONOTONIC itself.
 *
 * Invariants
 *  - lfs_tsc_init() is called (any thread, any number of times) before
 *    lfs_ticks() or lfs_ticks_ns() are used.
 *  - Ticks are only compared with ticks of the same process; an interval
 *    end < start (counters of two CPUs a few ticks apart) reads as 0 ns.
 */
#ifndef LFS_COMMON_TSC_H
#define LFS_COMMON_TSC_H

#include <stdint.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

struct lfs_tsc_cal {
	int tsc;               /* 1: ticks are TSC, 0: ticks are ns */
	double ns_per_tick;
};
extern struct lfs_tsc_cal lfs_tsc_cal;

void lfs_tsc_init(void);

static inline uint64_t lfs_ticks(void)
{
#if defined(__x86_64__)
	if (lfs_tsc_cal.tsc)
		return __rdtsc();
#endif
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ns between two lfs_ticks() readings start and end. */
static inline uint64_t lfs_ticks_ns(uint64_t start, uint64_t end)
{
	if (end <= start)
		return 0;
	return lfs_tsc_cal.tsc ? (uint64_t)((double)(end - start) * lfs_tsc_cal.ns_per_tick)
			       : end - start;
}

#endif
