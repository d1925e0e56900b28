/* fuzz/fuzz_load_run.c - libFuzzer target: arbitrary bytes as a program.
 *
 * The input is taken as instruction slots (trailing bytes dropped) and loaded;
 * whatever loads is run in the checked engine with a small budget over a
 * 64-byte buffer, with one helper registered. Loading must reject garbage
 * cleanly and the checked engine must never crash, whatever the program does.
 */
#include <stdlib.h>
#include <string.h>
#include "comb/comb.h"

static uint64_t fuzz_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
			    struct comb_call_ctx *cc)
{
	return a ^ b ^ c ^ d ^ e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct comb_vm *vm;
	if (!vm) {
		if (comb_vm_new(NULL, &vm) || comb_vm_register_helper(vm, 1, "fuzz_helper", fuzz_helper))
			abort();
	}
	size_t count = size / sizeof(struct comb_insn);
	struct comb_insn *insns = malloc(count ? count * sizeof(*insns) : 1);
	if (!insns)
		return 0;
	memcpy(insns, data, count * sizeof(*insns));
	struct comb_prog *prog;
	char err[256];
	if (comb_prog_load(vm, insns, count, NULL, &prog, err, sizeof(err)) == 0) {
		uint8_t mem[64] = { 0 };
		struct comb_region region = { (uint64_t)(uintptr_t)mem, sizeof(mem), true };
		struct comb_run_error run_err;
		struct comb_run_opts opts = {
			.sz = sizeof(opts),
			.engine = COMB_ENGINE_CHECKED,
			.args = { (uint64_t)(uintptr_t)mem, sizeof(mem) },
			.packet = mem,
			.packet_len = sizeof(mem),
			.regions = &region,
			.region_count = 1,
			.insn_budget = 10000,
			.error = &run_err,
		};
		uint64_t r0;
		comb_prog_run(prog, &opts, &r0);
		comb_prog_free(prog);
	}
	free(insns);
	return 0;
}
