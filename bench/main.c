/* bench/main.c - comb-bench: comb's interpreter and JIT against native code
 * and the kernel's JIT on the programs of bench/progs.
 *
 *   comb-bench --dir build/bench [--rounds N] [--only NAME] [--compile-only]
 *
 * For each workload: check that native, kernel and comb compute the same
 * result (any difference fails the bench), then run ROUNDS rounds; each round
 * times native, kernel, comb and comb's JIT one after another, each for about 15 ms. The
 * kernel's figure is BPF_PROG_TEST_RUN's average minus that of an empty XDP
 * program timed the same way. The table shows medians of the per-round times
 * and of the per-round ratios to native, then their geometric means.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"
#include "comb/vm.h"
#include "../tests/kernel/kernel_bpf.h"

#define DEFAULT_ROUNDS 15
#define MAX_ROUNDS 101
#define TARGET_NS_PER_ENGINE 15e6

struct options {
	const char *dir;
	const char *only;
	int rounds;
	bool compile_only; /* JIT compile times alone (no runs, no kernel) */
};

struct kernel_side {
	bool available;
	char reason[256];
	int empty_fd; /* r0 = XDP_PASS; exit */
};

/* Medians of one workload's rounds. */
struct row {
	const char *name;
	uint64_t insns;
	double native_ns, kernel_ns, comb_ns, jit_ns;
	double kernel_ratio, comb_ratio, jit_ratio;
	double jit_compile_ns; /* NAN when the JIT did not compile it */
};

static int parse_options(int argc, char **argv, struct options *opts)
{
	opts->dir = "build/bench";
	opts->rounds = DEFAULT_ROUNDS;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			opts->dir = argv[++i];
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			opts->only = argv[++i];
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			opts->rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "--compile-only") == 0)
			opts->compile_only = true;
		else
			return -EINVAL;
	}
	if (opts->rounds < 1 || opts->rounds > MAX_ROUNDS)
		return -EINVAL;
	return 0;
}

static void open_kernel_side(struct kernel_side *k)
{
	static const struct comb_insn empty[] = {
		{ .code = COMB_CLS_ALU64 | COMB_ALU_MOV | COMB_SRC_K, .dst = 0, .imm = 2 },
		{ .code = COMB_CLS_JMP | COMB_JMP_EXIT },
	};

	k->empty_fd = -1;
	k->available = kernel_bpf_probe(k->reason, sizeof(k->reason)) == 0 &&
		       kernel_bpf_load_insns(empty, 2, "bench_empty", &k->empty_fd, NULL, 0) == 0;
	if (!k->available)
		fprintf(stderr, "comb-bench: kernel column n/a: %s\n", k->reason);
}

static uint64_t iterations_for(double ns_per_run)
{
	double n = TARGET_NS_PER_ENGINE / (ns_per_run > 1 ? ns_per_run : 1);

	return n < 1 ? 1 : (uint64_t)n;
}

/* Everything one workload needs while it is measured. */
struct session {
	const struct workload *w;
	struct bench_input input;
	struct comb_runner comb;
	int kernel_fd;
	uint64_t native_iters, comb_iters, jit_iters;
	uint32_t kernel_repeat;
};

static int check_results(struct session *s)
{
	u32 native = 0, comb = 0, kernel = 0, jit = 0;
	double ns;
	int ret;

	native_time(s->w->native, s->input.packet, 1, &native);
	ret = comb_runner_time_engine(&s->comb, COMB_ENGINE_JIT, &s->input, 1, &ns, &jit);
	if (ret == 0)
		ret = comb_runner_time(&s->comb, &s->input, 1, &ns, &comb);
	if (ret < 0) {
		fprintf(stderr, "comb-bench: %s: comb run failed: %s\n", s->w->name, strerror(-ret));
		return ret;
	}
	if (s->kernel_fd >= 0 && (ret = kernel_time(s->kernel_fd, &s->input, 1, &ns, &kernel)) < 0) {
		fprintf(stderr, "comb-bench: %s: BPF_PROG_TEST_RUN failed: %s\n", s->w->name,
			strerror(-ret));
		return ret;
	}
	if (comb != native || jit != native || (s->kernel_fd >= 0 && kernel != native)) {
		fprintf(stderr, "comb-bench: %s: RESULTS DIFFER: native %u, kernel %s%u, comb %u, jit %u\n",
			s->w->name, native, s->kernel_fd >= 0 ? "" : "n/a ", kernel, comb, jit);
		return -EDOM;
	}
	return 0;
}

/* Size each engine's share of a round to about TARGET_NS_PER_ENGINE. */
static int calibrate(struct session *s)
{
	double native_ns, comb_ns, kernel_ns;
	u32 result;
	int ret;

	native_ns = native_time(s->w->native, s->input.packet, 20, &result);
	ret = comb_runner_time(&s->comb, &s->input, 5, &comb_ns, &result);
	if (ret < 0)
		return ret;
	s->native_iters = iterations_for(native_ns);
	s->comb_iters = iterations_for(comb_ns);
	ret = comb_runner_time_engine(&s->comb, COMB_ENGINE_JIT, &s->input, 5, &comb_ns, &result);
	if (ret < 0)
		return ret;
	s->jit_iters = iterations_for(comb_ns);
	s->kernel_repeat = 1;
	if (s->kernel_fd >= 0) {
		ret = kernel_time(s->kernel_fd, &s->input, 20, &kernel_ns, &result);
		if (ret < 0)
			return ret;
		s->kernel_repeat = (uint32_t)iterations_for(kernel_ns);
	}
	return 0;
}

static int measure(struct session *s, const struct kernel_side *k, int rounds, struct row *row)
{
	double native[MAX_ROUNDS], kernel[MAX_ROUNDS], comb[MAX_ROUNDS], jit[MAX_ROUNDS];
	double kernel_ratio[MAX_ROUNDS], comb_ratio[MAX_ROUNDS], jit_ratio[MAX_ROUNDS];
	u32 result;
	int ret;

	for (int r = 0; r < rounds; r++) {
		double kernel_ns = NAN, empty_ns = 0;

		native[r] = native_time(s->w->native, s->input.packet, s->native_iters, &result);
		if (s->kernel_fd >= 0) {
			ret = kernel_time(s->kernel_fd, &s->input, s->kernel_repeat, &kernel_ns, &result);
			if (ret == 0)
				ret = kernel_time(k->empty_fd, &s->input, s->kernel_repeat, &empty_ns,
						  &result);
			if (ret < 0)
				return ret;
			kernel_ns -= empty_ns;
		}
		ret = comb_runner_time(&s->comb, &s->input, s->comb_iters, &comb[r], &result);
		if (ret == 0)
			ret = comb_runner_time_engine(&s->comb, COMB_ENGINE_JIT, &s->input, s->jit_iters,
						      &jit[r], &result);
		if (ret < 0)
			return ret;
		jit_ratio[r] = jit[r] / native[r];
		kernel[r] = kernel_ns;
		kernel_ratio[r] = kernel_ns / native[r];
		comb_ratio[r] = comb[r] / native[r];
	}
	row->native_ns = bench_median(native, (size_t)rounds);
	row->kernel_ns = bench_median(kernel, (size_t)rounds);
	row->comb_ns = bench_median(comb, (size_t)rounds);
	row->kernel_ratio = bench_median(kernel_ratio, (size_t)rounds);
	row->comb_ratio = bench_median(comb_ratio, (size_t)rounds);
	row->jit_ns = bench_median(jit, (size_t)rounds);
	row->jit_ratio = bench_median(jit_ratio, (size_t)rounds);
	return 0;
}

static int open_session(struct session *s, const struct workload *w, const char *dir,
			const struct kernel_side *k)
{
	char path[4096], err[512];
	int ret;

	memset(s, 0, sizeof(*s));
	s->w = w;
	s->kernel_fd = -1;
	ret = bench_input_new(&s->input, w, err, sizeof(err));
	if (ret == 0) {
		snprintf(path, sizeof(path), "%s/%s.bin", dir, w->name);
		ret = comb_runner_open(&s->comb, path, err, sizeof(err));
	}
	if (ret == 0 && k->available) {
		snprintf(path, sizeof(path), "%s/%s.bpf.o", dir, w->name);
		ret = kernel_bpf_load_object(path, w->name, &s->kernel_fd, err, sizeof(err));
	}
	if (ret < 0)
		fprintf(stderr, "comb-bench: %s: %s\n", w->name, err);
	return ret;
}

static void close_session(struct session *s)
{
	kernel_bpf_close(s->kernel_fd);
	comb_runner_close(&s->comb);
	bench_input_free(&s->input);
}

static int bench_workload(const struct workload *w, const struct options *opts,
			  const struct kernel_side *k, struct row *row)
{
	struct session s;
	int ret;

	row->name = w->name;
	ret = open_session(&s, w, opts->dir, k); /* these two say what failed */
	if (ret == 0)
		ret = check_results(&s);
	if (ret == 0) {
		if (comb_runner_count_insns(&s.comb, &s.input, &row->insns) < 0)
			row->insns = 0;
		size_t prog_insns;
		row->jit_compile_ns = NAN;
		if (comb_runner_jit_compile_ns(&s.comb, &row->jit_compile_ns, &prog_insns) == 0)
			row->jit_compile_ns = row->jit_compile_ns / (double)prog_insns; /* per insn */
		ret = calibrate(&s);
		if (ret == 0)
			ret = measure(&s, k, opts->rounds, row);
		if (ret < 0)
			fprintf(stderr, "comb-bench: %s: measurement failed: %s\n", w->name,
				strerror(-ret));
	}
	close_session(&s);
	return ret;
}

static void print_number(double value, const char *format, int width)
{
	if (isnan(value))
		printf(" %*s", width, "n/a");
	else
		printf(format, width, value);
}

static void print_row(const char *name, const char *insns, double native, double kernel,
		      double comb, double kernel_ratio, double comb_ratio, double ns_per_insn,
		      double jit, double jit_ratio, double compile_us_per_kinsn)
{
	printf("%-12s %10s", name, insns);
	print_number(native, " %*.0f", 10);
	print_number(kernel, " %*.0f", 10);
	print_number(comb, " %*.0f", 10);
	print_number(kernel_ratio, " %*.2fx", 13);
	print_number(comb_ratio, " %*.2fx", 11);
	print_number(ns_per_insn, " %*.2f", 12);
	print_number(jit, " %*.0f", 10);
	print_number(jit_ratio, " %*.2fx", 10);
	print_number(compile_us_per_kinsn, " %*.1f", 12);
	printf("\n");
}

static void print_table(const struct row *rows, size_t count, int rounds)
{
	double col[9][count ? count : 1];
	char insns[32];

	printf("comb-bench: median of %d interleaved rounds; kernel = JIT minus an empty XDP program\n",
	       rounds);
	printf("%-12s %10s %10s %10s %10s %14s %12s %12s %10s %11s %12s\n", "program", "insns", "native ns",
	       "kernel ns", "comb ns", "kernel/native", "comb/native", "comb ns/insn", "jit ns",
	       "jit/native", "jit us/kinsn");
	for (size_t i = 0; i < count; i++) {
		const struct row *r = &rows[i];
		double per_insn = r->insns ? r->comb_ns / (double)r->insns : NAN;
		snprintf(insns, sizeof(insns), "%llu", (unsigned long long)r->insns);
		print_row(r->name, r->insns ? insns : "?", r->native_ns, r->kernel_ns, r->comb_ns,
			  r->kernel_ratio, r->comb_ratio, per_insn, r->jit_ns, r->jit_ratio,
			  r->jit_compile_ns); /* ns per insn = us per 1000 insns */
		col[0][i] = r->native_ns;
		col[1][i] = r->kernel_ns;
		col[2][i] = r->comb_ns;
		col[3][i] = r->kernel_ratio;
		col[4][i] = r->comb_ratio;
		col[5][i] = per_insn;
		col[6][i] = r->jit_ns;
		col[7][i] = r->jit_ratio;
		col[8][i] = r->jit_compile_ns;
	}
	print_row("geomean", "", bench_geomean(col[0], count), bench_geomean(col[1], count),
		  bench_geomean(col[2], count), bench_geomean(col[3], count),
		  bench_geomean(col[4], count), bench_geomean(col[5], count), bench_geomean(col[6], count),
		  bench_geomean(col[7], count), bench_geomean(col[8], count));
}

/* JIT compile time by program size: small programs must not pay for the
 * executable memory more than large ones (target: under 30 us per 1000). */
static void print_compile_table(void)
{
	static const size_t sizes[] = { 10, 30, 100, 1000, 10000, 100000 };
	printf("jit compile time (compile + free, generated programs):");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double ns;
		if (jit_compile_time_generated(sizes[i], &ns) == 0)
			printf("  %zu insns %.1f us/kinsn;", sizes[i], ns);
		else
			printf("  %zu insns n/a;", sizes[i]);
	}
	printf("\n");
}

/* --compile-only: each bench program's JIT compile time, then the table
 * by size; nothing runs. */
static int print_compile_only(const struct options *opts)
{
	int failed = 0;
	printf("jit compile time (compile + free, bench programs):");
	for (size_t i = 0; i < bench_workload_count; i++) {
		const struct workload *w = &bench_workloads[i];
		struct comb_runner runner;
		char path[512], err[256];
		double ns;
		size_t insns;
		if (opts->only && strcmp(opts->only, w->name) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s.bin", opts->dir, w->name);
		if (comb_runner_open(&runner, path, err, sizeof(err)) < 0) {
			fprintf(stderr, "comb-bench: %s: %s\n", w->name, err);
			failed++;
			continue;
		}
		if (comb_runner_jit_compile_ns(&runner, &ns, &insns) == 0)
			printf("  %s (%zu) %.1f us/kinsn;", w->name, insns, ns / (double)insns);
		else
			printf("  %s n/a;", w->name);
		comb_runner_close(&runner);
	}
	printf("\n");
	print_compile_table();
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct row rows[bench_workload_count];
	struct options opts = { 0 };
	struct kernel_side kernel;
	struct rusage usage;
	size_t count = 0;
	int failed = 0;

	if (parse_options(argc, argv, &opts) < 0) {
		fprintf(stderr, "usage: comb-bench [--dir DIR] [--rounds 1..%d] [--only NAME] "
			"[--compile-only]\n", MAX_ROUNDS);
		return 2;
	}
	if (opts.compile_only)
		return print_compile_only(&opts);
	open_kernel_side(&kernel);
	for (size_t i = 0; i < bench_workload_count; i++) {
		const struct workload *w = &bench_workloads[i];
		if (opts.only && strcmp(opts.only, w->name) != 0)
			continue;
		memset(&rows[count], 0, sizeof(rows[count]));
		if (bench_workload(w, &opts, &kernel, &rows[count]) < 0)
			failed++;
		else
			count++;
	}
	print_table(rows, count, opts.rounds);
	print_compile_table();
	getrusage(RUSAGE_SELF, &usage);
	printf("peak RSS: %ld KiB\n", usage.ru_maxrss);
	kernel_bpf_close(kernel.empty_fd);
	if (failed)
		fprintf(stderr, "comb-bench: FAILED: %d workload(s) could not be measured or gave "
			"different results\n", failed);
	return failed ? 1 : 0;
}
