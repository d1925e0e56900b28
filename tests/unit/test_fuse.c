/* tests/unit/test_fuse.c - the fast engine's superinstructions (src/vm/fuse.c).
 *
 * The fused "rA = rB; rA op= C" must mean exactly the two instructions: the
 * checked engine never fuses, so every case is run in both engines and must
 * agree, and a few cases pin the subtle ones (C is A itself, mixed widths, a
 * jump landing on the second slot).
 */
#include <errno.h>
#include <stdlib.h>
#include "comb/comb.h"
#include "../test.h"
#include "insn_build.h"

static int run_both(const struct comb_insn *insns, size_t count, uint64_t *interp, uint64_t *checked)
{
	struct comb_vm *vm;
	struct comb_prog *prog;
	char err[256];
	if (comb_vm_new(NULL, &vm))
		return -ENOMEM;
	int rc = comb_prog_load(vm, insns, count, NULL, &prog, err, sizeof(err));
	if (!rc) {
		struct comb_run_opts fast = { .sz = sizeof(fast), .engine = COMB_ENGINE_INTERP };
		struct comb_run_opts safe = { .sz = sizeof(safe), .engine = COMB_ENGINE_CHECKED };
		rc = comb_prog_run(prog, &fast, interp);
		if (!rc)
			rc = comb_prog_run(prog, &safe, checked);
		comb_prog_free(prog);
	}
	comb_vm_free(vm);
	return rc;
}

TEST(interp_fused_pairs_match_unfused)
{
	static const uint8_t ops[] = { COMB_ALU_ADD, COMB_ALU_SUB, COMB_ALU_MUL, COMB_ALU_OR, COMB_ALU_AND,
				       COMB_ALU_XOR, COMB_ALU_LSH, COMB_ALU_RSH, COMB_ALU_ARSH };
	static const uint64_t values[] = { 0, 1, 5, 0x7fffffff, 0x80000000, 0xffffffff, 0x123456789abcdef0,
					   0x8000000000000000, ~0ull, 63, 64, 33 };
	srand(1);
	for (size_t o = 0; o < ARRAY_SIZE(ops); o++) {
		for (int shape = 0; shape < 6; shape++) {
			for (size_t v = 0; v < ARRAY_SIZE(values); v++) {
				uint64_t b = values[v], c = values[(v * 7 + 3) % ARRAY_SIZE(values)];
				int32_t k = (int32_t)(rand() % 200) - 100;
				bool mov64 = shape & 1, alu64 = shape & 2, reg = shape & 4;
				if (ops[o] >= COMB_ALU_LSH && ops[o] <= COMB_ALU_RSH && !reg)
					k &= alu64 ? 63 : 31;
				if (ops[o] == COMB_ALU_ARSH && !reg)
					k &= alu64 ? 63 : 31;
				struct comb_insn prog[] = {
					LDDW(1, b),
					LDDW(3, c),
					MOV64_REG(2, 1), /* replaced below */
					ALU64_REG(COMB_ALU_ADD, 2, 3),
					MOV64_REG(0, 2),
					EXIT(),
				};
				prog[4] = mov64 ? (struct comb_insn)MOV64_REG(2, 1) : (struct comb_insn)MOV32_REG(2, 1);
				if (alu64)
					prog[5] = reg ? (struct comb_insn)ALU64_REG(ops[o], 2, 3)
						      : (struct comb_insn)ALU64_IMM(ops[o], 2, k);
				else
					prog[5] = reg ? (struct comb_insn)ALU32_REG(ops[o], 2, 3)
						      : (struct comb_insn)ALU32_IMM(ops[o], 2, k);
				uint64_t fast = 0, safe = 1;
				CHECK_EQ(run_both(prog, ARRAY_SIZE(prog), &fast, &safe), 0);
				CHECK_EQ(fast, safe);
			}
		}
	}
}

TEST(interp_fused_source_is_destination)
{
	struct comb_insn prog[] = { MOV64_IMM(1, 7), MOV64_REG(2, 1), ALU64_REG(COMB_ALU_ADD, 2, 2),
				    MOV64_REG(0, 2), EXIT() };
	uint64_t fast, safe;
	CHECK_EQ(run_both(prog, ARRAY_SIZE(prog), &fast, &safe), 0);
	CHECK_EQ(fast, 14);
	CHECK_EQ(safe, 14);
}

TEST(interp_fused_mixed_widths)
{
	/* w2 = w1; r2 += 1 is not r2 = r1 + 1. */
	struct comb_insn zext[] = { LDDW(1, ~0ull), MOV32_REG(2, 1), ALU64_IMM(COMB_ALU_ADD, 2, 1),
				    MOV64_REG(0, 2), EXIT() };
	uint64_t fast, safe;
	CHECK_EQ(run_both(zext, ARRAY_SIZE(zext), &fast, &safe), 0);
	CHECK_EQ(fast, 0x100000000ull);
	CHECK_EQ(safe, 0x100000000ull);
	/* r2 = r1; w2 += 1 is w2 = w1 + 1. */
	struct comb_insn trunc[] = { LDDW(1, 0x100000005ull), MOV64_REG(2, 1), ALU32_IMM(COMB_ALU_ADD, 2, 1),
				     MOV64_REG(0, 2), EXIT() };
	CHECK_EQ(run_both(trunc, ARRAY_SIZE(trunc), &fast, &safe), 0);
	CHECK_EQ(fast, 6);
	CHECK_EQ(safe, 6);
}

TEST(interp_jump_into_second_slot_of_fused_pair)
{
	struct comb_insn prog[] = {
		MOV64_IMM(2, 10),
		MOV64_IMM(1, 3),
		JA(1),                        /* skips the move: only "r2 += 5" runs */
		MOV64_REG(2, 1),
		ALU64_IMM(COMB_ALU_ADD, 2, 5),
		MOV64_REG(0, 2),
		EXIT(),
	};
	uint64_t fast, safe;
	CHECK_EQ(run_both(prog, ARRAY_SIZE(prog), &fast, &safe), 0);
	CHECK_EQ(fast, 15);
	CHECK_EQ(safe, 15);
}

TEST(interp_core_poisoned_insn_fails_only_when_run)
{
	struct comb_vm *vm;
	struct comb_prog *prog;
	char err[256];
	/* r1 == 0 skips the poisoned instruction (a dead branch); r1 == 1 runs it. */
	struct comb_insn insns[] = {
		MOV64_IMM(0, 7),
		JMP_IMM(COMB_JMP_JEQ, 1, 0, 1),
		CALL_HELPER(COMB_CORE_POISON_HELPER),
		EXIT(),
	};
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	CHECK_EQ(comb_prog_load(vm, insns, ARRAY_SIZE(insns), NULL, &prog, err, sizeof(err)), 0);
	for (int engine = COMB_ENGINE_INTERP; engine <= COMB_ENGINE_CHECKED; engine++) {
		struct comb_run_error run_err;
		struct comb_run_opts opts = { .sz = sizeof(opts), .engine = engine, .error = &run_err };
		uint64_t r0 = 0;
		CHECK_EQ(comb_prog_run(prog, &opts, &r0), 0);
		CHECK_EQ(r0, 7);
		opts.args[0] = 1;
		CHECK_EQ(comb_prog_run(prog, &opts, &r0), -EINVAL);
		CHECK_EQ(run_err.insn, 2);
		CHECK(strstr(run_err.message, "CO-RE") != NULL);
	}
	comb_prog_free(prog);
	comb_vm_free(vm);
}

TEST(interp_fused_move_pairs)
{
	uint64_t fast, safe;
	/* The second move reads the first one's destination. */
	struct comb_insn chain[] = { LDDW(1, 0xffffffff00000005ull), MOV64_IMM(3, 1), MOV32_REG(3, 1),
				     MOV32_REG(4, 3), MOV64_REG(0, 4), EXIT() };
	CHECK_EQ(run_both(chain, ARRAY_SIZE(chain), &fast, &safe), 0);
	CHECK_EQ(fast, 5);
	CHECK_EQ(safe, 5);
	/* Both moves write the same register: the second wins. */
	struct comb_insn twice[] = { MOV64_IMM(1, 1), MOV64_IMM(2, 2), MOV64_REG(3, 1), MOV64_REG(3, 2),
				     MOV64_REG(0, 3), EXIT() };
	CHECK_EQ(run_both(twice, ARRAY_SIZE(twice), &fast, &safe), 0);
	CHECK_EQ(fast, 2);
	/* A swap through a temporary leaves r1 as it was. */
	struct comb_insn swap[] = { LDDW(1, 0x123456789ull), MOV64_REG(3, 1), MOV64_REG(1, 3),
				    MOV64_REG(0, 1), EXIT() };
	CHECK_EQ(run_both(swap, ARRAY_SIZE(swap), &fast, &safe), 0);
	CHECK_EQ(fast, 0x123456789ull);
}

TEST(interp_fused_branch_then_ja_takes_both_ways)
{
	static const uint8_t conds[] = { COMB_JMP_JEQ, COMB_JMP_JNE, COMB_JMP_JGT, COMB_JMP_JGE,
					 COMB_JMP_JLT, COMB_JMP_JLE, COMB_JMP_JSGT, COMB_JMP_JSGE,
					 COMB_JMP_JSLT, COMB_JMP_JSLE, COMB_JMP_JSET };
	static const uint64_t values[] = { 0, 1, 7, 0x80000000, 0xffffffff, 0xffffffff00000007ull, ~0ull };
	for (size_t c = 0; c < ARRAY_SIZE(conds); c++) {
		for (int shape = 0; shape < 4; shape++) {
			for (size_t a = 0; a < ARRAY_SIZE(values); a++) {
				for (size_t b = 0; b < ARRAY_SIZE(values); b++) {
					bool is32 = shape & 1, reg = shape & 2;
					int32_t k = (int32_t)values[b];
					struct comb_insn prog[] = {
						LDDW(1, values[a]),
						LDDW(2, values[b]),
						JA(0), /* replaced: the condition, taken -> r0 = 1 */
						JA(2), /* not taken -> r0 = 2 */
						MOV64_IMM(0, 1),
						EXIT(),
						MOV64_IMM(0, 2),
						EXIT(),
					};
					if (is32)
						prog[4] = reg ? (struct comb_insn)JMP32_REG(conds[c], 1, 2, 1)
							      : (struct comb_insn)JMP32_IMM(conds[c], 1, k, 1);
					else
						prog[4] = reg ? (struct comb_insn)JMP_REG(conds[c], 1, 2, 1)
							      : (struct comb_insn)JMP_IMM(conds[c], 1, k, 1);
					uint64_t fast = 0, safe = 3;
					CHECK_EQ(run_both(prog, ARRAY_SIZE(prog), &fast, &safe), 0);
					CHECK_EQ(fast, safe);
					CHECK(fast == 1 || fast == 2);
				}
			}
		}
	}
}
