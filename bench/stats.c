/* bench/stats.c - clock, median and geometric mean for the benchmarks.
 *
 * Medians of per-round ratios are what the bench reports: the machines it
 * runs on change speed from one second to the next, and a ratio taken within
 * one round cancels most of that out.
 *
 * The clock is the thread's CPU time, not the wall clock: the kernel's
 * BPF_PROG_TEST_RUN timer stops while its loop yields the CPU, so on a busy
 * machine (load above the core count) wall-clock timings of native and comb
 * code would count other processes' time slices and the kernel's would not.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(const double *values, size_t count)
{
	double sorted[count ? count : 1];
	double median;

	if (count == 0)
		return NAN;
	memcpy(sorted, values, count * sizeof(*values));
	qsort(sorted, count, sizeof(*sorted), compare_doubles);
	median = count % 2 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2;
	return median;
}

/* Geometric mean of the positive values (others are skipped). */
double bench_geomean(const double *values, size_t count)
{
	double log_sum = 0;
	size_t used = 0;

	for (size_t i = 0; i < count; i++) {
		if (values[i] > 0) {
			log_sum += log(values[i]);
			used++;
		}
	}
	return used ? exp(log_sum / (double)used) : NAN;
}
