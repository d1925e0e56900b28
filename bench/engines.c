/* bench/engines.c - running a workload in comb and in the kernel.
 *
 * comb runs the raw "xdp" section (NAME.bin, extracted by llvm-objcopy) with
 * the interpreter, r1 pointing at a struct xdp_md whose 32-bit data and
 * data_end hold the packet's address (mapped below 4 GiB). The kernel runs
 * the program loaded from NAME.bpf.o with BPF_PROG_TEST_RUN and reports its
 * own average time per run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "jit_time.h"
#include "comb/vm.h"
#include "vm/internal.h"
#include "jit/jit.h"
#include "../tests/kernel/kernel_bpf.h"

static int read_file(const char *path, void **data, size_t *size, char *err, size_t err_len)
{
	FILE *f = fopen(path, "rb");
	long length;

	if (!f) {
		snprintf(err, err_len, "%s: %s (run `make bench` to build it)", path, strerror(errno));
		return -errno;
	}
	fseek(f, 0, SEEK_END);
	length = ftell(f);
	rewind(f);
	*data = malloc(length > 0 ? (size_t)length : 1);
	if (!*data || length <= 0 || fread(*data, 1, (size_t)length, f) != (size_t)length) {
		snprintf(err, err_len, "%s: cannot read (empty or I/O error)", path);
		free(*data);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*size = (size_t)length;
	return 0;
}

int comb_runner_open(struct comb_runner *runner, const char *bin_path, char *err, size_t err_len)
{
	struct comb_prog_opts opts = { .sz = sizeof(opts), .name = bin_path };
	char message[256];
	void *code = NULL;
	size_t size = 0;
	int ret;

	memset(runner, 0, sizeof(*runner));
	ret = read_file(bin_path, &code, &size, err, err_len);
	if (ret < 0)
		return ret;
	if (size % sizeof(struct comb_insn)) {
		snprintf(err, err_len, "%s: %zu bytes is not a whole number of instructions", bin_path,
			 size);
		free(code);
		return -EINVAL;
	}
	ret = comb_vm_new(NULL, &runner->vm);
	if (ret == 0)
		ret = comb_prog_load(runner->vm, code, size / sizeof(struct comb_insn), &opts,
				     &runner->prog, message, sizeof(message));
	free(code);
	if (ret < 0) {
		snprintf(err, err_len, "%s: comb cannot load it: %s", bin_path,
			 runner->vm ? message : strerror(-ret));
		comb_runner_close(runner);
	}
	return ret;
}

void comb_runner_close(struct comb_runner *runner)
{
	comb_prog_free(runner->prog);
	comb_vm_free(runner->vm);
	runner->prog = NULL;
	runner->vm = NULL;
}

int comb_runner_time(const struct comb_runner *runner, const struct bench_input *input,
		     uint64_t iterations, double *ns_per_run, u32 *result)
{
	return comb_runner_time_engine(runner, COMB_ENGINE_INTERP, input, iterations, ns_per_run, result);
}

int comb_runner_jit_compile_ns(const struct comb_runner *runner, double *ns, size_t *insns)
{
	int ret = bench_jit_compile_ns(runner->prog, 31, ns);
	if (ret == 0)
		*insns = runner->prog->count;
	return ret;
}

int comb_runner_time_engine(const struct comb_runner *runner, int engine,
			    const struct bench_input *input, uint64_t iterations, double *ns_per_run,
			    u32 *result)
{
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = (enum comb_engine)engine,
				      .args = { (uint64_t)(uintptr_t)input->ctx } };
	uint64_t r0 = 0, start = bench_now_ns();

	for (uint64_t i = 0; i < iterations; i++) {
		int ret = comb_prog_run(runner->prog, &opts, &r0);
		if (ret < 0)
			return ret;
	}
	*ns_per_run = (double)(bench_now_ns() - start) / (double)iterations;
	*result = (u32)r0;
	return 0;
}

/* Does one checked run finish within budget instructions? */
static int finishes_within(const struct comb_runner *runner, const struct bench_input *input,
			   uint64_t budget)
{
	const struct comb_region regions[] = {
		{ (uint64_t)(uintptr_t)input->ctx, sizeof(*input->ctx), false },
		{ (uint64_t)(uintptr_t)input->packet, sizeof(*input->packet), false },
	};
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = COMB_ENGINE_CHECKED,
				      .args = { (uint64_t)(uintptr_t)input->ctx },
				      .regions = regions, .region_count = 2, .insn_budget = budget };
	uint64_t r0;
	int ret = comb_prog_run(runner->prog, &opts, &r0);

	return ret == 0 ? 1 : ret == -E2BIG ? 0 : ret;
}

int comb_runner_count_insns(const struct comb_runner *runner, const struct bench_input *input,
			    uint64_t *insns)
{
	uint64_t low = 1, high = 1u << 10;
	int ret;

	while ((ret = finishes_within(runner, input, high)) == 0) {
		low = high + 1;
		high *= 2;
		if (high > (1ull << 34))
			return -E2BIG;
	}
	if (ret < 0)
		return ret;
	while (low < high) { /* the smallest budget that suffices */
		uint64_t mid = low + (high - low) / 2;
		ret = finishes_within(runner, input, mid);
		if (ret < 0)
			return ret;
		if (ret)
			high = mid;
		else
			low = mid + 1;
	}
	*insns = high;
	return 0;
}

int kernel_time(int prog_fd, const struct bench_input *input, uint32_t repeat, double *ns_per_run,
		u32 *result)
{
	uint32_t retval = 0, duration = 0;
	int ret = kernel_bpf_test_run(prog_fd, input->packet, sizeof(*input->packet), repeat, &retval,
				      &duration);

	if (ret < 0)
		return ret;
	*ns_per_run = duration;
	*result = retval;
	return 0;
}

/* ---- JIT compile time on generated programs of a given size ---- */

static struct comb_insn bench_insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct comb_insn insn = { .code = code, .dst = dst, .src = src, .off = off, .imm = imm };
	return insn;
}

/* A verifier-shaped program of count instructions: register and immediate
 * ALU (64 and 32 bits), stack loads and stores, short forward branches. */
static void generate_program(struct comb_insn *p, size_t count, uint32_t seed)
{
	uint32_t x = 0x9e3779b9u ^ seed;
	for (size_t r = 0; r < 10 && r + 1 < count; r++) /* every register defined */
		p[r] = bench_insn(COMB_CLS_ALU64 | COMB_ALU_MOV | COMB_SRC_K, (uint8_t)r, 0, 0, (int32_t)r);
	for (size_t i = 10; i + 1 < count; i++) {
		x = x * 1664525u + 1013904223u;
		uint8_t dst = (uint8_t)(x >> 8) % 10, src = (uint8_t)(x >> 12) % 10;
		int32_t imm = (int32_t)(x >> 16) - 30000;
		switch ((x >> 28) % 8) {
		case 0: p[i] = bench_insn(COMB_CLS_ALU64 | COMB_ALU_ADD | COMB_SRC_X, dst, src, 0, 0); break;
		case 1: p[i] = bench_insn(COMB_CLS_ALU | COMB_ALU_XOR | COMB_SRC_K, dst, 0, 0, imm); break;
		case 2: p[i] = bench_insn(COMB_CLS_ALU64 | COMB_ALU_LSH | COMB_SRC_K, dst, 0, 0, imm & 31); break;
		case 3: p[i] = bench_insn(COMB_CLS_STX | COMB_MODE_MEM | COMB_SIZE_DW, 10, src, -8 * (1 + (x & 7)), 0); break;
		case 4: p[i] = bench_insn(COMB_CLS_LDX | COMB_MODE_MEM | COMB_SIZE_W, dst, 10, -8 * (1 + (x & 7)), 0); break;
		case 5: p[i] = bench_insn(COMB_CLS_ALU64 | COMB_ALU_MOV | COMB_SRC_X, dst, src, 0, 0); break;
		case 6: p[i] = bench_insn(COMB_CLS_ALU | COMB_ALU_MUL | COMB_SRC_K, dst, 0, 0, imm); break;
		default: {
			int16_t off = (int16_t)(1 + (x & 7));
			if (i + 1 + (size_t)off >= count - 1)
				off = 0;
			p[i] = bench_insn(COMB_CLS_JMP | COMB_JMP_JGT | COMB_SRC_K, dst, 0, off, imm);
		}
		}
	}
	p[count - 1] = bench_insn(COMB_CLS_JMP | COMB_JMP_EXIT, 0, 0, 0, 0);
}

/* Batches of about 20,000 instructions per sample, median of 31. A batch
 * compiles different programs in turn: compiling one program again and again
 * lets the branch predictor learn its instruction sequence, which no real
 * load does (that made small programs look 1.7x faster than they are). */
int jit_compile_time_generated(size_t count, double *ns_per_insn)
{
	size_t batch = count >= 20000 ? 1 : 20000 / count;
	struct comb_insn *p = calloc(count, sizeof(*p));
	struct comb_prog **progs = calloc(batch, sizeof(*progs));
	struct dinsn **generic = calloc(batch, sizeof(*generic));
	struct comb_vm *vm = NULL;
	char err[256];
	int ret = p && progs && generic ? comb_vm_new(NULL, &vm) : -ENOMEM;
	for (size_t k = 0; ret == 0 && k < batch; k++) {
		generate_program(p, count, (uint32_t)k * 0x85ebca6bu);
		ret = comb_prog_load(vm, p, count, NULL, &progs[k], err, sizeof(err));
		if (ret == 0)
			ret = (generic[k] = calloc(count, sizeof(**generic))) ? comb_decode(progs[k], generic[k], NULL, 0)
									      : -ENOMEM;
	}
	double samples[31];
	for (int s = 0; ret == 0 && s < 31; s++) {
		uint64_t start = bench_now_ns();
		for (size_t k = 0; ret == 0 && k < batch; k++) {
			struct comb_jit_code *jit = NULL;
			ret = comb_jit_compile(progs[k], generic[k], &jit);
			comb_jit_free(jit);
		}
		samples[s] = (double)(bench_now_ns() - start) / (double)(batch * count);
	}
	if (ret == 0)
		*ns_per_insn = bench_median(samples, 31);
	for (size_t k = 0; progs && generic && k < batch; k++) {
		comb_prog_free(progs[k]);
		free(generic[k]);
	}
	comb_vm_free(vm);
	free(progs);
	free(generic);
	free(p);
	return ret;
}
