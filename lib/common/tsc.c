/* lib/common/tsc.c — calibration of the TSC clock (tsc.h). */
#include "common/tsc.h"

#include <pthread.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

struct lfs_tsc_cal lfs_tsc_cal = { 0, 1.0 };

static pthread_once_t once = PTHREAD_ONCE_INIT;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
/* A (TSC, ns) pair read close together: the clock read between two TSC
 * reads, retried when those are far apart (preempted or interrupted). */
static void pair(uint64_t *c, uint64_t *t)
{
	for (int i = 0;; i++) {
		uint64_t a = __rdtsc();
		*t = mono_ns();
		uint64_t b = __rdtsc();
		if ((b - a < 20000 && b >= a) || i == 100) {
			*c = a + (b - a) / 2;
			return;
		}
	}
}
#endif

static void calibrate(void)
{
#if defined(__x86_64__)
	unsigned a, b, c, d;
	if (!__get_cpuid(0x80000007, &a, &b, &c, &d) || !((d >> 8) & 1))
		return;                          /* no invariant TSC: the clock */
	uint64_t c0, t0, c1, t1;
	pair(&c0, &t0);
	do
		pair(&c1, &t1);
	while (t1 - t0 < 200000);
	if (c1 <= c0)
		return;                          /* a counter that did not move */
	lfs_tsc_cal.ns_per_tick = (double)(t1 - t0) / (double)(c1 - c0);
	lfs_tsc_cal.tsc = 1;
#endif
}

void lfs_tsc_init(void)
{
	pthread_once(&once, calibrate);
}
