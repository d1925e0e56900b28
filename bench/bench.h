/* bench/bench.h - what the files of comb-bench share.
 *
 * comb-bench runs each workload three ways - native code (native.c), the
 * kernel's JIT through BPF_PROG_TEST_RUN and comb's interpreter (engines.c) -
 * in interleaved rounds (main.c) and reports medians of per-round ratios
 * (stats.c). All three read the same struct bench_packet, which lives below
 * 4 GiB so that comb's fake xdp_md can hold its address in 32-bit fields.
 */
#ifndef COMB_BENCH_H
#define COMB_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "progs/compute.h"

struct comb_vm;
struct comb_prog;

typedef u32 (*native_fn)(const struct bench_packet *packet);

/* One benchmark: bench/progs/<name>.bpf.c and its native twin. */
struct workload {
	const char *name;
	native_fn native;
	u32 n; /* work size put in the packet */
};

extern const struct workload bench_workloads[];
extern const size_t bench_workload_count;

/* native.c: time iterations calls; returns ns per call. */
double native_time(native_fn fn, const struct bench_packet *packet, uint64_t iterations,
		   u32 *result);

/* The packet and the xdp_md pointing at it, both mapped below 4 GiB. */
struct bench_input {
	struct bench_xdp_md *ctx;
	struct bench_packet *packet;
};
int bench_input_new(struct bench_input *input, const struct workload *w, char *err,
		    size_t err_len);
void bench_input_free(struct bench_input *input);

/* engines.c: comb's side. */
struct comb_runner {
	struct comb_vm *vm;
	struct comb_prog *prog;
};
int comb_runner_open(struct comb_runner *runner, const char *bin_path, char *err, size_t err_len);
void comb_runner_close(struct comb_runner *runner);
/* Run iterations times with the interpreter; ns per run and the result. */
int comb_runner_time(const struct comb_runner *runner, const struct bench_input *input,
		     uint64_t iterations, double *ns_per_run, u32 *result);
/* The same with any engine (enum comb_engine), e.g. COMB_ENGINE_JIT. */
int comb_runner_time_engine(const struct comb_runner *runner, int engine,
			    const struct bench_input *input, uint64_t iterations, double *ns_per_run,
			    u32 *result);
/* JIT compile time of the program (median of repeated compiles), in ns. */
int comb_runner_jit_compile_ns(const struct comb_runner *runner, double *ns, size_t *insns);
/* JIT compile time (compile + free, median) of a generated program of
 * count instructions, in ns per instruction (= us per 1000). */
int jit_compile_time_generated(size_t count, double *ns_per_insn);
/* Instructions one run executes (found with the checked engine's budget). */
int comb_runner_count_insns(const struct comb_runner *runner, const struct bench_input *input,
			    uint64_t *insns);

/* engines.c: the kernel's side (average ns per run, from the kernel). */
int kernel_time(int prog_fd, const struct bench_input *input, uint32_t repeat, double *ns_per_run,
		u32 *result);

#include "stats.h"

#endif
