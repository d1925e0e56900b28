/* tests/unit/test_calls.c - control transfers that involve the VM and a
 * helper: callbacks (comb_call_callback, used by bpf_loop and friends) and
 * tail calls through a PROG_ARRAY. Every case runs in both engines.
 */
#include <errno.h>
#include "comb/comb.h"
#include "../test.h"
#include "insn_build.h"

#define LDDW_FUNC(d, rel) \
	INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, d, COMB_PSEUDO_FUNC, 0, rel), INSN(0, 0, 0, 0, 0)
#define LDDW_MAP(d, idx) \
	INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, d, COMB_PSEUDO_MAP_IDX, 0, idx), INSN(0, 0, 0, 0, 0)
#define HELPER_REPEAT 2000

/* repeat(fn, n, ctx): calls fn(i, ctx) for i in 0..n-1, stops when it
 * returns 1; returns the number of calls, or the callback's error. */
static uint64_t helper_repeat(uint64_t fn, uint64_t n, uint64_t ctx, uint64_t r4, uint64_t r5,
			      struct comb_call_ctx *cc)
{
	uint64_t i;
	for (i = 0; i < n; i++) {
		uint64_t r0;
		int rc = comb_call_callback(cc, fn, i, ctx, 0, 0, 0, &r0);
		if (rc)
			return (uint64_t)(int64_t)rc;
		if (r0 == 1)
			return i + 1;
	}
	return i;
}

static int run_engine(const struct comb_insn *insns, size_t count, struct comb_map **maps, size_t map_count,
		      enum comb_engine engine, uint64_t *r0, struct comb_prog **keep)
{
	static struct comb_vm *vm;
	if (!vm && (comb_vm_new(NULL, &vm) || comb_vm_register_helper(vm, HELPER_REPEAT, "repeat", helper_repeat)))
		return -ENOMEM;
	struct comb_prog_opts popts = { .sz = sizeof(popts), .maps = maps, .map_count = map_count };
	struct comb_prog *prog;
	char err[256];
	int rc = comb_prog_load(vm, insns, count, &popts, &prog, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "  load: %s\n", err);
		return rc;
	}
	if (keep) {
		*keep = prog;
		return 0;
	}
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = engine, .insn_budget = 100000 };
	rc = comb_prog_run(prog, &opts, r0);
	comb_prog_free(prog);
	return rc;
}

TEST(interp_callback_sums_on_the_callers_stack)
{
	/* The callback adds its index to a counter on the caller's stack,
	 * passed as ctx; it stops after index 9 (returns 1). */
	struct comb_insn prog[] = {
		ST_MEM(COMB_SIZE_DW, 10, -8, 0),
		LDDW_FUNC(1, 9),                /* -> the callback at slot 11 */
		MOV64_IMM(2, 100),
		MOV64_REG(3, 10),
		ALU64_IMM(COMB_ALU_ADD, 3, -8),
		CALL_HELPER(HELPER_REPEAT),     /* r0 = number of calls */
		LDX_MEM(COMB_SIZE_DW, 1, 10, -8),
		ALU64_IMM(COMB_ALU_MUL, 0, 1000),
		ALU64_REG(COMB_ALU_ADD, 0, 1),
		EXIT(),
		/* callback(i = r1, ctx = r2) */
		LDX_MEM(COMB_SIZE_DW, 3, 2, 0),
		ALU64_REG(COMB_ALU_ADD, 3, 1),
		STX_MEM(COMB_SIZE_DW, 2, 3, 0),
		MOV64_IMM(0, 0),
		JMP_IMM(COMB_JMP_JNE, 1, 9, 1),
		MOV64_IMM(0, 1),
		EXIT(),
	};
	for (int engine = COMB_ENGINE_INTERP; engine <= COMB_ENGINE_CHECKED; engine++) {
		uint64_t r0 = 0;
		CHECK_EQ(run_engine(prog, ARRAY_SIZE(prog), NULL, 0, engine, &r0, NULL), 0);
		CHECK_EQ(r0, 10 * 1000 + 45);
	}
}

TEST(checked_callback_fault_ends_the_whole_run)
{
	struct comb_insn prog[] = {
		LDDW_FUNC(1, 6),                /* -> the callback at slot 7 */
		MOV64_IMM(2, 3),
		MOV64_IMM(3, 0),
		CALL_HELPER(HELPER_REPEAT),
		MOV64_IMM(0, 7),  /* never reached: the callback faulted */
		EXIT(),
		/* callback: reads through NULL */
		LDX_MEM(COMB_SIZE_DW, 0, 2, 0),
		EXIT(),
	};
	uint64_t r0 = 0;
	CHECK_EQ(run_engine(prog, ARRAY_SIZE(prog), NULL, 0, COMB_ENGINE_CHECKED, &r0, NULL), -EFAULT);
}

TEST(checked_callback_shares_the_budget)
{
	struct comb_insn prog[] = {
		LDDW_FUNC(1, 6),                /* -> the callback at slot 7 */
		LDDW(2, 1000000),
		MOV64_IMM(3, 0),
		CALL_HELPER(HELPER_REPEAT),
		EXIT(),
		/* callback: a few instructions, a million times: over the budget */
		MOV64_IMM(0, 0),
		EXIT(),
	};
	uint64_t r0 = 0;
	CHECK_EQ(run_engine(prog, ARRAY_SIZE(prog), NULL, 0, COMB_ENGINE_CHECKED, &r0, NULL), -E2BIG);
}

TEST(interp_tail_call_replaces_the_program)
{
	struct comb_map_def def = { .sz = sizeof(def), .name = "jmp", .type = COMB_MAP_PROG_ARRAY,
				    .key_size = 4, .value_size = 4, .max_entries = 4 };
	struct comb_map *jmp;
	char err[256];
	CHECK_EQ(comb_map_create(&def, &jmp, err, sizeof(err)), 0);
	/* target: r0 = r1 + 100 (r1, the context, carries over) */
	struct comb_insn target_insns[] = { MOV64_REG(0, 1), ALU64_IMM(COMB_ALU_ADD, 0, 100), EXIT() };
	struct comb_prog *target;
	CHECK_EQ(run_engine(target_insns, ARRAY_SIZE(target_insns), NULL, 0, 0, NULL, &target), 0);
	uint32_t key = 2;
	CHECK_EQ(comb_map_update(jmp, &key, &target, COMB_ANY), 0);
	/* caller: tail call to slot r6; if it falls through, r0 = 1 */
	struct comb_insn caller_insns[] = {
		MOV64_REG(7, 1),
		MOV64_IMM(1, 5),
		LDDW_MAP(2, 0),
		MOV64_REG(3, 7),
		CALL_HELPER(12),
		MOV64_IMM(0, 1),
		EXIT(),
	};
	struct comb_map *maps[] = { jmp };
	struct comb_prog *caller;
	CHECK_EQ(run_engine(caller_insns, ARRAY_SIZE(caller_insns), maps, 1, 0, NULL, &caller), 0);
	for (int engine = COMB_ENGINE_INTERP; engine <= COMB_ENGINE_CHECKED; engine++) {
		struct comb_run_opts opts = { .sz = sizeof(opts), .engine = engine, .args = { 2 } };
		uint64_t r0 = 0;
		CHECK_EQ(comb_prog_run(caller, &opts, &r0), 0);
		CHECK_EQ(r0, 105); /* jumped: r1 = 5 carried over */
		opts.args[0] = 3;  /* empty slot: falls through */
		CHECK_EQ(comb_prog_run(caller, &opts, &r0), 0);
		CHECK_EQ(r0, 1);
		opts.args[0] = 1000; /* out of range: falls through */
		CHECK_EQ(comb_prog_run(caller, &opts, &r0), 0);
		CHECK_EQ(r0, 1);
	}
	comb_prog_free(caller);
	comb_prog_free(target);
	comb_map_free(jmp);
}

TEST(interp_tail_call_chain_stops_after_33)
{
	struct comb_map_def def = { .sz = sizeof(def), .name = "self", .type = COMB_MAP_PROG_ARRAY,
				    .key_size = 4, .value_size = 4, .max_entries = 1 };
	struct comb_map *jmp;
	char err[256];
	CHECK_EQ(comb_map_create(&def, &jmp, err, sizeof(err)), 0);
	/* r1 counts the jumps: each run adds 1 and tail-calls itself. */
	struct comb_insn insns[] = {
		ALU64_IMM(COMB_ALU_ADD, 1, 1),
		MOV64_REG(6, 1),
		LDDW_MAP(2, 0),
		MOV64_IMM(3, 0),
		CALL_HELPER(12),
		MOV64_REG(0, 6),
		EXIT(),
	};
	struct comb_map *maps[] = { jmp };
	struct comb_prog *prog;
	CHECK_EQ(run_engine(insns, ARRAY_SIZE(insns), maps, 1, 0, NULL, &prog), 0);
	uint32_t key = 0;
	CHECK_EQ(comb_map_update(jmp, &key, &prog, COMB_ANY), 0);
	for (int engine = COMB_ENGINE_INTERP; engine <= COMB_ENGINE_CHECKED; engine++) {
		struct comb_run_opts opts = { .sz = sizeof(opts), .engine = engine };
		uint64_t r0 = 0;
		CHECK_EQ(comb_prog_run(prog, &opts, &r0), 0);
		CHECK_EQ(r0, 34); /* the first run plus 33 tail calls, as in the kernel */
	}
	comb_prog_free(prog);
	comb_map_free(jmp);
}
