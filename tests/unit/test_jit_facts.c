/* tests/unit/test_jit_facts.c - the verifier's facts in the JIT.
 *
 * After a successful comb_prog_verify() the program's native code is
 * recompiled with the verifier's per-instruction facts: a `wX = wX` whose
 * upper half was zero on every path explored gets no code (its offset
 * equals the next one's). One reached with the upper half possibly set
 * keeps its zero-extension. The interpreter is the oracle for every result;
 * the expected values follow from the ISA (a 32-bit mov zero-extends).
 */
#include <stdint.h>
#include <string.h>
#include "../test.h"
#include "comb/comb.h"
#include "facts_build.h"

/* Socket filter: r2 = skb->len (u32); small values take the first `w2 =
 * w2`, large ones get bit 32 set before the last one. */
static const struct comb_insn facts_prog[] = {
	LDX_MEM(COMB_SIZE_W, 2, 1, 0),                          /* 0 */
	MOV32_REG(2, 2),                                        /* 1: upper half zero */
	INSN(COMB_CLS_JMP | COMB_SRC_K | COMB_JMP_JGT, 2, 0, 2, 10), /* 2: -> 5 */
	MOV32_REG(2, 2),                                        /* 3: upper half zero */
	INSN(COMB_CLS_JMP | COMB_JMP_JA, 0, 0, 3, 0),           /* 4: -> 8 */
	LDDW(3, 0x100000000ull),                                /* 5, 6 */
	ALU64_REG(COMB_ALU_OR, 2, 3),                           /* 7 */
	MOV32_REG(2, 2),                                        /* 8: upper half may be set */
	MOV64_REG(0, 2),                                        /* 9 */
	EXIT(),                                                 /* 10 */
};

static struct comb_prog *load_facts_prog(struct comb_vm *vm)
{
	struct comb_prog *prog = NULL;
	char err[256];
	if (comb_prog_load(vm, facts_prog, ARRAY_SIZE(facts_prog), NULL, &prog, err, sizeof(err)))
		return NULL;
	return prog;
}

TEST(jit_facts_drop_redundant_zext_after_verification)
{
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	struct comb_prog *prog = load_facts_prog(vm);
	CHECK(prog != NULL);
	if (!prog) {
		comb_vm_free(vm);
		return;
	}
	if (comb_prog_jit_code(prog, NULL, NULL, NULL) != 0) { /* no JIT on this machine */
		comb_prog_free(prog);
		comb_vm_free(vm);
		return;
	}
	/* Unverified: every `w2 = w2` has code. */
	CHECK(code_bytes(prog, 1) > 0);
	CHECK(code_bytes(prog, 3) > 0);
	CHECK(code_bytes(prog, 8) > 0);
	struct comb_verify_result res;
	CHECK_EQ(comb_prog_verify(prog, NULL, &res), 0);
	CHECK(comb_prog_verified(prog));
	/* Verified: the two proven no-ops lost their code, the third kept it. */
	CHECK_EQ(code_bytes(prog, 1), 0);
	CHECK_EQ(code_bytes(prog, 3), 0);
	CHECK(code_bytes(prog, 8) > 0);
	static const uint32_t lens[] = { 0, 5, 10, 11, 20, 0x7fffffff, 0x80000000u, 0xffffffffu };
	for (size_t k = 0; k < ARRAY_SIZE(lens); k++) {
		uint64_t r_jit = 1, r_interp = 2, r_checked = 3;
		CHECK_EQ(run_with_len(prog, COMB_ENGINE_JIT, lens[k], &r_jit), 0);
		CHECK_EQ(run_with_len(prog, COMB_ENGINE_INTERP, lens[k], &r_interp), 0);
		CHECK_EQ(run_with_len(prog, COMB_ENGINE_CHECKED, lens[k], &r_checked), 0);
		CHECK_EQ(r_jit, r_interp);
		CHECK_EQ(r_checked, r_interp);
		CHECK_EQ(r_jit, (uint64_t)lens[k]); /* the zero-extension at 8 cleared bit 32 */
	}
	comb_prog_free(prog);
	comb_vm_free(vm);
}

/* A register whose upper half may be set (a 64-bit value) keeps its
 * zero-extension, and so does every `wX = wX` of a rejected program. */
TEST(jit_facts_keep_needed_zext)
{
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	const struct comb_insn needed[] = {
		LDX_MEM(COMB_SIZE_W, 2, 1, 0),
		LDDW(3, 0xabcd00000000ull),
		ALU64_REG(COMB_ALU_ADD, 2, 3),
		MOV32_REG(2, 2), /* 4: needed */
		MOV64_REG(0, 2),
		EXIT(),
	};
	struct comb_prog *prog = NULL;
	char err[256];
	CHECK_EQ(comb_prog_load(vm, needed, ARRAY_SIZE(needed), NULL, &prog, err, sizeof(err)), 0);
	if (prog && comb_prog_jit_code(prog, NULL, NULL, NULL) == 0) {
		struct comb_verify_result res;
		CHECK_EQ(comb_prog_verify(prog, NULL, &res), 0);
		CHECK(code_bytes(prog, 4) > 0);
		uint64_t r_jit = 1, r_interp = 2;
		CHECK_EQ(run_with_len(prog, COMB_ENGINE_JIT, 77, &r_jit), 0);
		CHECK_EQ(run_with_len(prog, COMB_ENGINE_INTERP, 77, &r_interp), 0);
		CHECK_EQ(r_jit, r_interp);
		CHECK_EQ(r_jit, 77u);
	}
	comb_prog_free(prog);
	/* Rejected (r0 never set): no facts, the zero-extension keeps its code. */
	const struct comb_insn rejected[] = {
		LDX_MEM(COMB_SIZE_W, 2, 1, 0),
		MOV32_REG(2, 2),
		EXIT(),
	};
	prog = NULL;
	CHECK_EQ(comb_prog_load(vm, rejected, ARRAY_SIZE(rejected), NULL, &prog, err, sizeof(err)), 0);
	if (prog && comb_prog_jit_code(prog, NULL, NULL, NULL) == 0) {
		struct comb_verify_result res;
		CHECK(comb_prog_verify(prog, NULL, &res) != 0);
		CHECK(code_bytes(prog, 1) > 0);
	}
	comb_prog_free(prog);
	comb_vm_free(vm);
}

/* LLVM's zero-extension without ALU32, `rX <<= 32; rX >>= 32`: dropped
 * when the upper half is proven zero, kept when it may be set. */
TEST(jit_facts_shift_pair_zext)
{
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	const struct comb_insn pairs[] = {
		LDX_MEM(COMB_SIZE_W, 2, 1, 0),  /* 0 */
		ALU64_IMM(COMB_ALU_LSH, 2, 32), /* 1: upper half zero */
		ALU64_IMM(COMB_ALU_RSH, 2, 32), /* 2 */
		LDDW(3, 0x500000000ull),        /* 3, 4 */
		ALU64_REG(COMB_ALU_ADD, 2, 3),  /* 5 */
		ALU64_IMM(COMB_ALU_LSH, 2, 32), /* 6: upper half set */
		ALU64_IMM(COMB_ALU_RSH, 2, 32), /* 7 */
		MOV64_REG(0, 2),
		EXIT(),
	};
	struct comb_prog *prog = NULL;
	char err[256];
	CHECK_EQ(comb_prog_load(vm, pairs, ARRAY_SIZE(pairs), NULL, &prog, err, sizeof(err)), 0);
	if (prog && comb_prog_jit_code(prog, NULL, NULL, NULL) == 0) {
		CHECK(code_bytes(prog, 1) > 0);
		struct comb_verify_result res;
		CHECK_EQ(comb_prog_verify(prog, NULL, &res), 0);
		CHECK_EQ(code_bytes(prog, 1), 0);
		CHECK_EQ(code_bytes(prog, 2), 0);
		CHECK(code_bytes(prog, 6) > 0);
		CHECK(code_bytes(prog, 7) > 0);
		static const uint32_t lens[] = { 0, 9, 0x80000000u, 0xffffffffu };
		for (size_t k = 0; k < ARRAY_SIZE(lens); k++) {
			uint64_t r_jit = 1, r_interp = 2;
			CHECK_EQ(run_with_len(prog, COMB_ENGINE_JIT, lens[k], &r_jit), 0);
			CHECK_EQ(run_with_len(prog, COMB_ENGINE_INTERP, lens[k], &r_interp), 0);
			CHECK_EQ(r_jit, r_interp);
			CHECK_EQ(r_jit, (uint64_t)lens[k]);
		}
	}
	comb_prog_free(prog);
	comb_vm_free(vm);
}
