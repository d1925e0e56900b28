/* bench/jit_time.h - the JIT's compile time of one program, as comb-bench
 * and verifier-bench measure it (bench/jit_time.c).
 */
#ifndef COMB_BENCH_JIT_TIME_H
#define COMB_BENCH_JIT_TIME_H

struct comb_prog;

/* ns per compile (and free) of prog as it is (with its facts, if any): the
 * median of samples batches of about 20,000 instructions each (the CPU-time
 * clock is a system call: timing one small compile would time the clock).
 * 0 or a negative errno. */
int bench_jit_compile_ns(const struct comb_prog *prog, int samples, double *ns);

#endif
