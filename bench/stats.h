/* bench/stats.h - clock, median and geometric mean shared by the benchmarks
 * (comb-bench through bench.h, and the stand-alone map, loader, verifier and
 * XDP benchmarks, which link bench/stats.c). See stats.c for why medians of
 * per-round ratios and why the clock is the thread's CPU time.
 */
#ifndef COMB_BENCH_STATS_H
#define COMB_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* The calling thread's CPU time in ns. */
uint64_t bench_now_ns(void);
/* Median of count values (not reordered); NAN when count is 0. */
double bench_median(const double *values, size_t count);
/* Geometric mean of the positive values (others are skipped). */
double bench_geomean(const double *values, size_t count);

#endif
