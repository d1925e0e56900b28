/* tests/unit/test_checked.c - the checked engine's guarantees.
 *
 * COMB_ENGINE_CHECKED must stop an unverified program at its first memory
 * access outside the stack and the caller's regions (-EFAULT, naming the
 * instruction index and the address), at a write to a read-only region, and
 * when the instruction budget is used up (-E2BIG). Each test loads a small
 * program, runs it with explicit regions and budget via run_checked(), and
 * checks the status and the error report. Programs that behave must give the
 * interpreter's result (compared in same_as_interp).
 */
#include <errno.h>
#include <stdbool.h>
#include "../test.h"
#include "comb/vm.h"
#include "insn_build.h"

struct checked_run {
	const struct comb_region *regions;
	size_t region_count;
	uint64_t budget;
	uint64_t args[5];
	/* results */
	int ret;
	uint64_t r0;
	struct comb_run_error error;
};

/* Load insns into a fresh VM, run them in the checked engine with run's
 * inputs and store the outcome in run. Returns false if loading failed. */
static bool run_engine(const struct comb_insn *insns, size_t count, enum comb_engine engine,
		       struct checked_run *run)
{
	struct comb_vm *vm = NULL;
	struct comb_prog *prog = NULL;
	char err[256] = "";
	if (comb_vm_new(NULL, &vm) != 0)
		return false;
	if (comb_prog_load(vm, insns, count, NULL, &prog, err, sizeof(err)) != 0) {
		fprintf(stderr, "  load failed: %s\n", err);
		comb_vm_free(vm);
		return false;
	}
	struct comb_run_opts opts = {
		.sz = sizeof(opts), .engine = engine, .regions = run->regions,
		.region_count = run->region_count, .insn_budget = run->budget,
		.error = &run->error,
	};
	memcpy(opts.args, run->args, sizeof(opts.args));
	run->error = (struct comb_run_error){ .insn = -1 };
	run->r0 = 0;
	run->ret = comb_prog_run(prog, &opts, &run->r0);
	comb_prog_free(prog);
	comb_vm_free(vm);
	return true;
}

static bool run_checked(const struct comb_insn *insns, size_t count, struct checked_run *run)
{
	return run_engine(insns, count, COMB_ENGINE_CHECKED, run);
}

/* Expect -EFAULT at instruction insn_idx touching address addr. */
#define CHECK_FAULT(run, insn_idx, address)                                                 \
	do {                                                                                \
		CHECK_EQ((run).ret, -EFAULT);                                               \
		CHECK_EQ((run).error.insn, (insn_idx));                                     \
		CHECK_EQ((run).error.addr, (address));                                      \
		CHECK((run).error.message[0] != '\0');                                      \
	} while (0)

static uint64_t addr_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

TEST(checked_load_outside_regions_faults)
{
	uint64_t secret = 0x5ec7e7, allowed[2] = { 1, 2 };
	struct comb_region region = { addr_of(allowed), sizeof(allowed), true };
	struct comb_insn prog[] = {
		/* 0 */ MOV64_IMM(0, 0),
		/* 1 */ LDDW(1, addr_of(&secret)),
		/* 3 */ LDX_MEM(COMB_SIZE_DW, 0, 1, 0),
		/* 4 */ EXIT(),
	};
	struct checked_run run = { .regions = &region, .region_count = 1 };
	CHECK(run_checked(prog, ARRAY_SIZE(prog), &run));
	CHECK_FAULT(run, 3, addr_of(&secret));
}

TEST(checked_store_outside_regions_faults)
{
	uint64_t target = 7;
	struct comb_insn prog[] = {
		/* 0 */ MOV64_REG(2, 1),
		/* 1 */ ALU64_IMM(COMB_ALU_ADD, 2, 4),
		/* 2 */ ST_MEM(COMB_SIZE_W, 2, 0, 99),
		/* 3 */ MOV64_IMM(0, 0),
		/* 4 */ EXIT(),
	};
	struct checked_run run = { .args = { addr_of(&target) } };
	CHECK(run_checked(prog, ARRAY_SIZE(prog), &run));
	CHECK_FAULT(run, 2, addr_of(&target) + 4);
	CHECK_EQ(target, 7); /* the store did not happen */
}

TEST(checked_stx_and_atomic_outside_regions_fault)
{
	uint64_t target = 7;
	struct comb_insn stx[] = {
		MOV64_IMM(3, 1), STX_MEM(COMB_SIZE_DW, 1, 3, 0), MOV64_IMM(0, 0), EXIT(),
	};
	struct comb_insn atomic[] = {
		MOV64_IMM(3, 1), ATOMIC(COMB_SIZE_DW, 1, 3, 0, COMB_ATOMIC_ADD), MOV64_IMM(0, 0),
		EXIT(),
	};
	struct checked_run run = { .args = { addr_of(&target) } };
	CHECK(run_checked(stx, ARRAY_SIZE(stx), &run));
	CHECK_FAULT(run, 1, addr_of(&target));
	CHECK(run_checked(atomic, ARRAY_SIZE(atomic), &run));
	CHECK_FAULT(run, 1, addr_of(&target));
	CHECK_EQ(target, 7);
}

TEST(checked_regions_allow_access)
{
	uint64_t buf[2] = { 40, 0 };
	struct comb_region region = { addr_of(buf), sizeof(buf), true };
	struct comb_insn prog[] = {
		LDX_MEM(COMB_SIZE_DW, 0, 1, 0), ALU64_IMM(COMB_ALU_ADD, 0, 2),
		STX_MEM(COMB_SIZE_DW, 1, 0, 8), EXIT(),
	};
	struct checked_run run = { .regions = &region, .region_count = 1, .args = { addr_of(buf) } };
	CHECK(run_checked(prog, ARRAY_SIZE(prog), &run));
	CHECK_EQ(run.ret, 0);
	CHECK_EQ(run.r0, 42);
	CHECK_EQ(buf[1], 42);
}

TEST(checked_second_region_is_honoured)
{
	uint64_t a = 1, b = 2;
	struct comb_region regions[2] = {
		{ addr_of(&a), sizeof(a), false },
		{ addr_of(&b), sizeof(b), true },
	};
	struct comb_insn prog[] = {
		LDX_MEM(COMB_SIZE_DW, 0, 1, 0), LDX_MEM(COMB_SIZE_DW, 3, 2, 0),
		ALU64_REG(COMB_ALU_ADD, 0, 3), STX_MEM(COMB_SIZE_DW, 2, 0, 0), EXIT(),
	};
	struct checked_run run = {
		.regions = regions, .region_count = 2, .args = { addr_of(&a), addr_of(&b) },
	};
	CHECK(run_checked(prog, ARRAY_SIZE(prog), &run));
	CHECK_EQ(run.ret, 0);
	CHECK_EQ(run.r0, 3);
	CHECK_EQ(b, 3);
}

TEST(checked_store_to_read_only_region_faults)
{
	uint64_t buf[2] = { 5, 6 };
	struct comb_region region = { addr_of(buf), sizeof(buf), false };
	struct comb_insn prog[] = {
		/* 0 */ LDX_MEM(COMB_SIZE_DW, 0, 1, 8), /* reading is fine */
		/* 1 */ ST_MEM(COMB_SIZE_B, 1, 8, 1),
		/* 2 */ EXIT(),
	};
	struct checked_run run = { .regions = &region, .region_count = 1, .args = { addr_of(buf) } };
	CHECK(run_checked(prog, ARRAY_SIZE(prog), &run));
	CHECK_FAULT(run, 1, addr_of(buf) + 8);
	CHECK_EQ(buf[1], 6);
	/* atomics write too */
	struct comb_insn atomic[] = {
		MOV64_IMM(2, 1), ATOMIC(COMB_SIZE_W, 1, 2, 0, COMB_ATOMIC_ADD | COMB_ATOMIC_FETCH),
		MOV64_IMM(0, 0), EXIT(),
	};
	CHECK(run_checked(atomic, ARRAY_SIZE(atomic), &run));
	CHECK_FAULT(run, 1, addr_of(buf));
	CHECK_EQ(buf[0], 5);
}

TEST(checked_access_straddling_region_end_faults)
{
	uint64_t buf[2] = { 0x1111, 0x2222 };
	struct comb_region region = { addr_of(buf), 8, true }; /* only buf[0] */
	struct comb_insn ok_prog[] = { LDX_MEM(COMB_SIZE_W, 0, 1, 4), EXIT() };
	struct comb_insn straddle[] = { LDX_MEM(COMB_SIZE_DW, 0, 1, 4), EXIT() };
	struct comb_insn straddle_h[] = { LDX_MEM(COMB_SIZE_H, 0, 1, 7), EXIT() };
	struct comb_insn past_end[] = { LDX_MEM(COMB_SIZE_B, 0, 1, 8), EXIT() };
	struct comb_insn before[] = { LDX_MEM(COMB_SIZE_B, 0, 1, -1), EXIT() };
	struct comb_insn store[] = { ST_MEM(COMB_SIZE_W, 1, 6, 0), MOV64_IMM(0, 0), EXIT() };
	struct checked_run run = { .regions = &region, .region_count = 1, .args = { addr_of(buf) } };
	CHECK(run_checked(ok_prog, ARRAY_SIZE(ok_prog), &run));
	CHECK_EQ(run.ret, 0);
	CHECK_EQ(run.r0, 0);
	CHECK(run_checked(straddle, ARRAY_SIZE(straddle), &run));
	CHECK_FAULT(run, 0, addr_of(buf) + 4);
	CHECK(run_checked(straddle_h, ARRAY_SIZE(straddle_h), &run));
	CHECK_FAULT(run, 0, addr_of(buf) + 7);
	CHECK(run_checked(past_end, ARRAY_SIZE(past_end), &run));
	CHECK_FAULT(run, 0, addr_of(buf) + 8);
	CHECK(run_checked(before, ARRAY_SIZE(before), &run));
	CHECK_FAULT(run, 0, addr_of(buf) - 1);
	CHECK(run_checked(store, ARRAY_SIZE(store), &run));
	CHECK_FAULT(run, 0, addr_of(buf) + 6);
	CHECK_EQ(buf[0], 0x1111);
}

TEST(checked_null_pointer_deref_faults)
{
	struct comb_insn load[] = { MOV64_IMM(1, 0), LDX_MEM(COMB_SIZE_B, 0, 1, 0), EXIT() };
	struct comb_insn store[] = { MOV64_IMM(1, 0), ST_MEM(COMB_SIZE_DW, 1, 16, 1),
				     MOV64_IMM(0, 0), EXIT() };
	struct checked_run run = { 0 };
	CHECK(run_checked(load, ARRAY_SIZE(load), &run));
	CHECK_FAULT(run, 1, 0);
	CHECK(run_checked(store, ARRAY_SIZE(store), &run));
	CHECK_FAULT(run, 1, 16);
}

TEST(checked_stack_bounds)
{
	struct comb_insn bottom[] = {
		ST_MEM(COMB_SIZE_DW, 10, -512, 9), LDX_MEM(COMB_SIZE_DW, 0, 10, -512), EXIT(),
	};
	struct comb_insn below[] = {
		/* 0 */ ST_MEM(COMB_SIZE_DW, 10, -512, 9),
		/* 1 */ LDX_MEM(COMB_SIZE_B, 0, 10, -513),
		/* 2 */ EXIT(),
	};
	struct comb_insn straddle_bottom[] = {
		/* 0 */ MOV64_REG(1, 10),
		/* 1 */ ALU64_IMM(COMB_ALU_SUB, 1, 516),
		/* 2 */ LDX_MEM(COMB_SIZE_DW, 0, 1, 0),
		/* 3 */ EXIT(),
	};
	struct comb_insn far_below[] = {
		/* 0 */ MOV64_REG(1, 10),
		/* 1 */ ALU64_IMM(COMB_ALU_SUB, 1, 4096),
		/* 2 */ ST_MEM(COMB_SIZE_W, 1, 0, 1),
		/* 3 */ MOV64_IMM(0, 0),
		/* 4 */ EXIT(),
	};
	struct checked_run run = { 0 };
	CHECK(run_checked(bottom, ARRAY_SIZE(bottom), &run));
	CHECK_EQ(run.ret, 0);
	CHECK_EQ(run.r0, 9);
	CHECK(run_checked(below, ARRAY_SIZE(below), &run));
	CHECK_EQ(run.ret, -EFAULT);
	CHECK_EQ(run.error.insn, 1);
	CHECK(run_checked(straddle_bottom, ARRAY_SIZE(straddle_bottom), &run));
	CHECK_EQ(run.ret, -EFAULT);
	CHECK_EQ(run.error.insn, 2);
	CHECK(run_checked(far_below, ARRAY_SIZE(far_below), &run));
	CHECK_EQ(run.ret, -EFAULT);
	CHECK_EQ(run.error.insn, 2);
}

static uint64_t record_r1_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				 uint64_t r5, struct comb_call_ctx *cc)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	*(uint64_t *)cc->run_user = r1;
	return 0;
}

TEST(checked_fault_address_is_r10_relative)
{
	/* A helper records this run's r10; the fault must report r10 - 513. */
	struct comb_insn prog[] = {
		/* 0 */ MOV64_REG(1, 10),
		/* 1 */ CALL_HELPER(5),
		/* 2 */ LDX_MEM(COMB_SIZE_B, 0, 10, -513),
		/* 3 */ EXIT(),
	};
	struct comb_vm *vm = NULL;
	struct comb_prog *p = NULL;
	uint64_t r10 = 0, r0 = 0;
	struct comb_run_error error = { .insn = -1 };
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	CHECK_EQ(comb_vm_register_helper(vm, 5, "record_r1", record_r1_helper), 0);
	CHECK_EQ(comb_prog_load(vm, prog, ARRAY_SIZE(prog), NULL, &p, NULL, 0), 0);
	struct comb_run_opts opts = {
		.sz = sizeof(opts), .engine = COMB_ENGINE_CHECKED, .user = &r10, .error = &error,
	};
	int ret = comb_prog_run(p, &opts, &r0);
	comb_prog_free(p);
	comb_vm_free(vm);
	CHECK_EQ(ret, -EFAULT);
	CHECK(r10 != 0);
	CHECK_EQ(error.insn, 2);
	CHECK_EQ(error.addr, r10 - 513);
}

TEST(checked_fault_in_callee_names_callee_insn)
{
	uint64_t outside = 0;
	struct comb_insn prog[] = {
		/* 0 */ LDDW(1, addr_of(&outside)),
		/* 2 */ CALL_LOCAL(1), /* -> 4 */
		/* 3 */ EXIT(),
		/* 4 */ MOV64_IMM(0, 1),
		/* 5 */ LDX_MEM(COMB_SIZE_W, 0, 1, 0),
		/* 6 */ EXIT(),
	};
	struct checked_run run = { 0 };
	CHECK(run_checked(prog, ARRAY_SIZE(prog), &run));
	CHECK_FAULT(run, 5, addr_of(&outside));
}

TEST(checked_infinite_loop_hits_budget)
{
	struct comb_insn prog[] = { MOV64_IMM(0, 0), ALU64_IMM(COMB_ALU_ADD, 0, 1), JA(-2), EXIT() };
	struct checked_run run = { .budget = 1000 };
	CHECK(run_checked(prog, ARRAY_SIZE(prog), &run));
	CHECK_EQ(run.ret, -E2BIG);
	CHECK(run.error.message[0] != '\0');
	CHECK(run.error.insn >= 0 && run.error.insn < (long)ARRAY_SIZE(prog));
	/* a one-instruction self loop */
	struct comb_insn self_loop[] = { JA(-1), EXIT() };
	CHECK(run_checked(self_loop, ARRAY_SIZE(self_loop), &run));
	CHECK_EQ(run.ret, -E2BIG);
	/* a gotol self loop */
	struct comb_insn gotol_loop[] = { GOTOL(-1), EXIT() };
	CHECK(run_checked(gotol_loop, ARRAY_SIZE(gotol_loop), &run));
	CHECK_EQ(run.ret, -E2BIG);
}

TEST(checked_budget_bounds_long_programs)
{
	/* About 3 * 2000 = 6000 instructions. */
	struct comb_insn prog[] = {
		/* 0 */ MOV64_IMM(0, 0),
		/* 1 */ ALU64_IMM(COMB_ALU_ADD, 0, 1),
		/* 2 */ JMP_IMM(COMB_JMP_JNE, 0, 2000, -2),
		/* 3 */ EXIT(),
	};
	struct checked_run run = { .budget = 100000 };
	CHECK(run_checked(prog, ARRAY_SIZE(prog), &run));
	CHECK_EQ(run.ret, 0);
	CHECK_EQ(run.r0, 2000);
	run.budget = 1000;
	CHECK(run_checked(prog, ARRAY_SIZE(prog), &run));
	CHECK_EQ(run.ret, -E2BIG);
	run.budget = 10;
	CHECK(run_checked(prog, ARRAY_SIZE(prog), &run));
	CHECK_EQ(run.ret, -E2BIG);
	/* the budget also counts instructions run inside bpf-to-bpf calls */
	struct comb_insn in_callee[] = {
		/* 0 */ CALL_LOCAL(1),
		/* 1 */ EXIT(),
		/* 2 */ JA(-1),
		/* 3 */ EXIT(),
	};
	run.budget = 500;
	CHECK(run_checked(in_callee, ARRAY_SIZE(in_callee), &run));
	CHECK_EQ(run.ret, -E2BIG);
}

TEST(checked_budget_is_per_run)
{
	/* A budget that suffices for one run suffices for every run. */
	struct comb_insn prog[] = {
		MOV64_IMM(0, 0), ALU64_IMM(COMB_ALU_ADD, 0, 1), JMP_IMM(COMB_JMP_JNE, 0, 100, -2),
		EXIT(),
	};
	struct checked_run run = { .budget = 1000 };
	for (int i = 0; i < 5; i++) {
		CHECK(run_checked(prog, ARRAY_SIZE(prog), &run));
		CHECK_EQ(run.ret, 0);
		CHECK_EQ(run.r0, 100);
	}
}

TEST(checked_same_as_interp)
{
	uint64_t buf[4] = { 3, 4, 5, 6 };
	struct comb_region region = { addr_of(buf), sizeof(buf), true };
	/* sum buf[0..3] through a loop with a bpf-to-bpf call, and 32-bit ops */
	struct comb_insn prog[] = {
		/* 0 */ MOV64_IMM(0, 0),
		/* 1 */ MOV64_IMM(6, 0),
		/* 2 */ MOV64_REG(2, 1),
		/* 3 */ ALU64_REG(COMB_ALU_ADD, 2, 6),
		/* 4 */ LDX_MEM(COMB_SIZE_DW, 3, 2, 0),
		/* 5 */ ALU64_REG(COMB_ALU_MUL, 3, 3),
		/* 6 */ ALU64_REG(COMB_ALU_ADD, 0, 3),
		/* 7 */ ALU64_IMM(COMB_ALU_ADD, 6, 8),
		/* 8 */ JMP_IMM(COMB_JMP_JLT, 6, 32, -7),
		/* 9 */ MOV64_REG(1, 0),
		/* 10 */ CALL_LOCAL(2), /* -> 13 */
		/* 11 */ ALU32_IMM(COMB_ALU_ADD, 0, 0),
		/* 12 */ EXIT(),
		/* 13 */ MOV64_REG(0, 1),
		/* 14 */ ALU64_IMM(COMB_ALU_LSH, 0, 40),
		/* 15 */ ALU64_REG(COMB_ALU_OR, 0, 1),
		/* 16 */ EXIT(),
	};
	struct checked_run checked = { .regions = &region, .region_count = 1,
				       .args = { addr_of(buf) } };
	struct checked_run interp = checked;
	CHECK(run_engine(prog, ARRAY_SIZE(prog), COMB_ENGINE_INTERP, &interp));
	CHECK(run_checked(prog, ARRAY_SIZE(prog), &checked));
	CHECK_EQ(interp.ret, 0);
	CHECK_EQ(checked.ret, 0);
	CHECK_EQ(interp.r0, 9 + 16 + 25 + 36);
	CHECK_EQ(checked.r0, interp.r0);
}

static uint64_t check_mem_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				 struct comb_call_ctx *cc)
{
	(void)r4;
	(void)r5;
	return (uint64_t)(int64_t)comb_call_check_mem(cc, (const void *)(uintptr_t)r1, r2, r3 != 0);
}

static int call_check_mem(enum comb_engine engine, const struct comb_region *region,
			  uint64_t ptr, uint64_t size, bool write, int16_t stack_off, int64_t *result)
{
	struct comb_vm *vm = NULL;
	struct comb_prog *prog = NULL;
	struct comb_insn prog_insns[] = {
		LDDW(1, ptr), MOV64_IMM(2, (int32_t)size), MOV64_IMM(3, write), CALL_HELPER(100),
		EXIT(),
	};
	struct comb_insn stack_insns[] = {
		MOV64_REG(1, 10), ALU64_IMM(COMB_ALU_ADD, 1, stack_off), MOV64_IMM(2, (int32_t)size),
		MOV64_IMM(3, write), CALL_HELPER(100), EXIT(),
	};
	if (comb_vm_new(NULL, &vm) || comb_vm_register_helper(vm, 100, "check_mem", check_mem_helper))
		return -1;
	int ret = stack_off ? comb_prog_load(vm, stack_insns, ARRAY_SIZE(stack_insns), NULL, &prog,
					      NULL, 0)
			     : comb_prog_load(vm, prog_insns, ARRAY_SIZE(prog_insns), NULL, &prog,
					      NULL, 0);
	if (ret == 0) {
		struct comb_run_opts opts = {
			.sz = sizeof(opts), .engine = engine, .regions = region,
			.region_count = region ? 1 : 0,
		};
		uint64_t r0 = 0;
		ret = comb_prog_run(prog, &opts, &r0);
		*result = (int64_t)r0;
	}
	comb_prog_free(prog);
	comb_vm_free(vm);
	return ret;
}

TEST(checked_helpers_can_check_memory)
{
	uint8_t buf[32] = { 0 };
	struct comb_region ro = { addr_of(buf), sizeof(buf), false };
	int64_t result = 1;
	CHECK_EQ(call_check_mem(COMB_ENGINE_CHECKED, &ro, addr_of(buf), 32, false, 0, &result), 0);
	CHECK_EQ(result, 0);
	CHECK_EQ(call_check_mem(COMB_ENGINE_CHECKED, &ro, addr_of(buf), 32, true, 0, &result), 0);
	CHECK_EQ(result, (uint64_t)(int64_t)-EFAULT);
	CHECK_EQ(call_check_mem(COMB_ENGINE_CHECKED, &ro, addr_of(buf) + 1, 32, false, 0, &result), 0);
	CHECK_EQ(result, (uint64_t)(int64_t)-EFAULT);
	CHECK_EQ(call_check_mem(COMB_ENGINE_CHECKED, NULL, addr_of(buf), 1, false, 0, &result), 0);
	CHECK_EQ(result, (uint64_t)(int64_t)-EFAULT);
	/* the frame is allowed, read and write; below it is not */
	CHECK_EQ(call_check_mem(COMB_ENGINE_CHECKED, NULL, 0, 16, true, -16, &result), 0);
	CHECK_EQ(result, 0);
	CHECK_EQ(call_check_mem(COMB_ENGINE_CHECKED, NULL, 0, 512, false, -512, &result), 0);
	CHECK_EQ(result, 0);
	CHECK_EQ(call_check_mem(COMB_ENGINE_CHECKED, NULL, 0, 16, true, -520, &result), 0);
	CHECK_EQ(result, (uint64_t)(int64_t)-EFAULT);
	/* the unchecked engine allows everything */
	CHECK_EQ(call_check_mem(COMB_ENGINE_INTERP, NULL, addr_of(buf), 1, true, 0, &result), 0);
	CHECK_EQ(result, 0);
}

TEST(checked_bad_options_are_einval)
{
	struct comb_insn prog[] = { MOV64_IMM(0, 1), EXIT() };
	struct comb_vm *vm = NULL;
	struct comb_prog *p = NULL;
	uint64_t r0 = 0;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	CHECK_EQ(comb_prog_load(vm, prog, ARRAY_SIZE(prog), NULL, &p, NULL, 0), 0);
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = (enum comb_engine)77 };
	CHECK_EQ(comb_prog_run(p, &opts, &r0), -EINVAL);
	opts.engine = COMB_ENGINE_CHECKED;
	CHECK_EQ(comb_prog_run(p, &opts, &r0), 0);
	CHECK_EQ(r0, 1);
	comb_prog_free(p);
	comb_vm_free(vm);
}
