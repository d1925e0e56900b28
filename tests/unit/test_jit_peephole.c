/* tests/unit/test_jit_peephole.c - the JIT's peepholes against the interpreter.
 *
 * Each peephole in src/jit (lea for copy-then-add and multiply-then-add,
 * test for `rX = rY; rX &= K; if rX == 0`, a branch reusing the flags of the
 * ALU instruction before it, division keeping only live rax/rdx, BMI2
 * shifts, aligned loop heads) is driven through its shapes: both widths,
 * every condition, registers the JIT borrows, the cases where it must NOT
 * apply (the scratch register still live, a jump into the middle), over
 * edge values. The interpreter is the oracle: status, r0 and memory must
 * agree, and the program must have been compiled.
 */
#include <stdio.h>
#include <string.h>
#include "../test.h"
#include "comb/comb.h"
#include "insn_build.h"
#include "jit_compare.h"

static const uint64_t values[] = {
	0, 1, 2, 3, 0xff, 0x100, 0x7fffffffull, 0x80000000ull, 0xffffffffull, 0x100000000ull,
	0x8000000000000000ull, (uint64_t)-1, (uint64_t)-2, 0x123456789abcdef1ull, 0xfffffffe00000001ull,
};
#define N_VALUES (sizeof(values) / sizeof(values[0]))

TEST(jit_lea_fusions_match_the_interpreter)
{
	static const int32_t factors[] = { 2, 3, 4, 5, 8, 9, 16, 7, -3, 1 << 30 };
	static const int32_t addends[] = { 0, 1, -1, 127, 128, INT32_MIN, INT32_MAX };
	static const int regs[][3] = { { 2, 3, 4 }, { 0, 5, 0 }, { 7, 7, 8 }, { 4, 0, 3 }, { 3, 4, 3 }, { 9, 2, 9 } };
	int failures = 0;
	for (int w = 0; w < 2; w++) {
		uint8_t alu = w ? COMB_CLS_ALU64 : COMB_CLS_ALU;
		for (size_t v = 0; v < N_VALUES; v++) {
			for (size_t f = 0; f < sizeof(factors) / sizeof(factors[0]); f++)
				for (size_t a = 0; a < sizeof(addends) / sizeof(addends[0]); a++) {
					struct comb_insn p[32] = { LDDW(5, values[v]), LDDW(7, values[N_VALUES - 1 - v]) };
					size_t n = 4;
					p[n++] = (struct comb_insn)INSN(alu | COMB_SRC_K | COMB_ALU_MUL, 5, 0, 0, factors[f]);
					p[n++] = (struct comb_insn)INSN(alu | COMB_SRC_K | COMB_ALU_ADD, 5, 0, 0, addends[a]);
					p[n++] = (struct comb_insn)INSN(alu | COMB_SRC_K | COMB_ALU_MUL, 7, 0, 0, factors[f]);
					jit_put_dump(p, &n);
					failures += jit_compare(p, n, false, NULL) != 0;
				}
			/* rD = rS; rD += rT over register pairs, including rT == rD and r13/rbp bases. */
			for (size_t r = 0; r < sizeof(regs) / sizeof(regs[0]); r++) {
				int d = regs[r][0], s = regs[r][1], t = regs[r][2];
				struct comb_insn p[32];
				size_t n = 0;
				jit_put_lddw(p, &n, d, 0x0123456789abcdefull);
				jit_put_lddw(p, &n, t, values[(v * 7 + 3) % N_VALUES]);
				jit_put_lddw(p, &n, s, values[v]);
				p[n++] = (struct comb_insn)INSN(alu | COMB_SRC_X | COMB_ALU_MOV, d, s, 0, 0);
				p[n++] = (struct comb_insn)INSN(alu | COMB_SRC_X | COMB_ALU_ADD, d, t, 0, 0);
				jit_put_dump(p, &n);
				failures += jit_compare(p, n, false, NULL) != 0;
			}
		}
	}
	CHECK_EQ(failures, 0);
}

/* `rX = rY; rX &= K; if rX ==/!= 0 goto +1; r0 |= 1; <after>`: after
 * either reads rX (must not fuse away its value) or overwrites it. */
TEST(jit_and_test_fusion_matches_the_interpreter)
{
	static const int32_t masks[] = { 1, 2, 0xff, -1, INT32_MIN, 0x7fffffff, 0x100 };
	static const uint8_t movs[] = { COMB_CLS_ALU64, COMB_CLS_ALU };
	static const uint8_t jumps[] = { COMB_JMP_JEQ, COMB_JMP_JNE };
	int failures = 0;
	for (size_t v = 0; v < N_VALUES; v++)
		for (size_t m = 0; m < sizeof(masks) / sizeof(masks[0]); m++)
			for (int shape = 0; shape < 16; shape++) {
				uint8_t mov = movs[shape & 1], and = movs[(shape >> 1) & 1];
				uint8_t jcls = (shape >> 2) & 1 ? COMB_CLS_JMP : COMB_CLS_JMP32;
				bool live_after = (shape >> 3) & 1;
				for (size_t j = 0; j < 2; j++) {
					struct comb_insn p[32] = { LDDW(8, values[v]), LDDW(6, 0x1111222233334444ull) };
					size_t n = 4;
					p[n++] = (struct comb_insn)MOV64_IMM(0, 0);
					p[n++] = (struct comb_insn)INSN(mov | COMB_SRC_X | COMB_ALU_MOV, 6, 8, 0, 0);
					p[n++] = (struct comb_insn)INSN(and | COMB_SRC_K | COMB_ALU_AND, 6, 0, 0, masks[m]);
					p[n++] = (struct comb_insn)INSN(jcls | COMB_SRC_K | jumps[j], 6, 0, 1, 0);
					p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_OR, 0, 1);
					if (live_after)
						p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_ADD, 0, 6);
					else
						p[n++] = (struct comb_insn)MOV64_IMM(6, 7);
					jit_put_dump(p, &n);
					failures += jit_compare(p, n, false, NULL) != 0;
				}
			}
	CHECK_EQ(failures, 0);
}

/* An ALU instruction, then a jump against 0 on its result: every op that
 * leaves flags, both widths of each, every condition. */
TEST(jit_branches_reusing_alu_flags_match_the_interpreter)
{
	static const uint8_t ops[] = { COMB_ALU_ADD, COMB_ALU_SUB, COMB_ALU_OR, COMB_ALU_AND, COMB_ALU_XOR,
				       COMB_ALU_LSH, COMB_ALU_RSH, COMB_ALU_ARSH, COMB_ALU_NEG };
	static const uint8_t conds[] = { COMB_JMP_JEQ, COMB_JMP_JNE, COMB_JMP_JGT, COMB_JMP_JGE,
					 COMB_JMP_JLT, COMB_JMP_JLE, COMB_JMP_JSGT, COMB_JMP_JSGE,
					 COMB_JMP_JSLT, COMB_JMP_JSLE };
	static const int32_t imms[] = { 1, -1, 0x7fffffff, INT32_MIN, 31, 32 };
	int failures = 0;
	for (size_t v = 0; v < N_VALUES; v++)
		for (size_t o = 0; o < sizeof(ops); o++)
			for (int w = 0; w < 4; w++)
				for (size_t c = 0; c < sizeof(conds); c++) {
					uint8_t alu = w & 1 ? COMB_CLS_ALU64 : COMB_CLS_ALU;
					uint8_t jcls = w & 2 ? COMB_CLS_JMP : COMB_CLS_JMP32;
					bool reg = ops[o] != COMB_ALU_NEG && (v & 1);
					int32_t imm = ops[o] == COMB_ALU_NEG ? 0 : imms[(v + c) % 6];
					struct comb_insn p[32] = { LDDW(3, values[v]), LDDW(4, values[(v + c + 1) % N_VALUES]) };
					size_t n = 4;
					p[n++] = (struct comb_insn)MOV64_IMM(0, 0);
					p[n++] = (struct comb_insn)INSN(alu | (reg ? COMB_SRC_X : COMB_SRC_K) | ops[o], 3,
									reg ? 4 : 0, 0, reg ? 0 : imm);
					p[n++] = (struct comb_insn)INSN(jcls | COMB_SRC_K | conds[c], 3, 0, 1, 0);
					p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_OR, 0, 1);
					jit_put_dump(p, &n);
					failures += jit_compare(p, n, false, NULL) != 0;
				}
	/* A jump lands between the ALU instruction and the test: its flags are not the test's. */
	for (size_t v = 0; v < N_VALUES; v++) {
		struct comb_insn p[32] = { LDDW(3, values[v]), LDDW(4, values[(v + 3) % N_VALUES]) };
		size_t n = 4;
		p[n++] = (struct comb_insn)MOV64_IMM(0, 0);
		p[n++] = (struct comb_insn)INSN(COMB_CLS_JMP | COMB_SRC_K | COMB_JMP_JGT, 4, 0, 1, 5);
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_AND, 4, 0);
		p[n++] = (struct comb_insn)INSN(COMB_CLS_JMP | COMB_SRC_K | COMB_JMP_JEQ, 3, 0, 1, 0);
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_OR, 0, 1);
		jit_put_dump(p, &n);
		failures += jit_compare(p, n, false, NULL) != 0;
	}
	CHECK_EQ(failures, 0);
}

/* Division with r0 and r3 (rax, rdx) live or dead afterwards, as operands
 * and as destinations, and shifts by registers including rcx (r4). */
TEST(jit_division_liveness_and_register_shifts_match_the_interpreter)
{
	static const uint8_t divs[] = { COMB_ALU_DIV, COMB_ALU_MOD };
	static const int pairs[][2] = { { 2, 5 }, { 0, 5 }, { 3, 5 }, { 5, 0 }, { 5, 3 }, { 0, 3 }, { 3, 0 }, { 4, 4 } };
	static const uint8_t shifts[] = { COMB_ALU_LSH, COMB_ALU_RSH, COMB_ALU_ARSH };
	int failures = 0;
	for (size_t v = 0; v < N_VALUES; v++)
		for (size_t pr = 0; pr < sizeof(pairs) / sizeof(pairs[0]); pr++)
			for (int w = 0; w < 2; w++) {
				int d = pairs[pr][0], s = pairs[pr][1];
				uint8_t alu = w ? COMB_CLS_ALU64 : COMB_CLS_ALU;
				for (int shape = 0; shape < 8; shape++) {
					struct comb_insn p[40] = { LDDW(0, 0x5555aaaa5555aaaaull), LDDW(3, 0x3333cccc3333ccccull),
								   LDDW(d, values[v]), LDDW(s, values[(v * 5 + pr) % N_VALUES]) };
					size_t n = 8;
					p[n++] = (struct comb_insn)INSN(alu | COMB_SRC_X | divs[shape & 1], d, s, (int16_t)((shape >> 1) & 1), 0);
					if (shape & 4) { /* overwrite r0 and r3 next: both dead */
						p[n++] = (struct comb_insn)MOV64_REG(7, d);
						p[n++] = (struct comb_insn)MOV64_IMM(0, 1);
						p[n++] = (struct comb_insn)MOV64_IMM(3, 2);
					}
					jit_put_dump(p, &n);
					failures += jit_compare(p, n, false, NULL) != 0;
				}
				for (size_t sh = 0; sh < sizeof(shifts); sh++) {
					struct comb_insn p[40] = { LDDW(4, 0x4444bbbb4444bbbbull), LDDW(s, (v * 13) & 127),
								   LDDW(d, values[v]) };
					size_t n = 6;
					p[n++] = (struct comb_insn)INSN(alu | COMB_SRC_X | shifts[sh], d, s, 0, 0);
					jit_put_dump(p, &n);
					failures += jit_compare(p, n, false, NULL) != 0;
				}
			}
	CHECK_EQ(failures, 0);
}

/* Loops whose heads get alignment padding, reached both by falling through
 * and by jumping, with branches near the short/long boundary around them. */
TEST(jit_aligned_loop_heads_match_the_interpreter)
{
	int failures = 0;
	for (int filler = 0; filler < 60; filler += 3) {
		struct comb_insn p[160];
		size_t n = 0;
		p[n++] = (struct comb_insn)MOV64_IMM(0, 0);
		p[n++] = (struct comb_insn)MOV64_IMM(2, 0);
		/* forward branch over filler instructions into the loop */
		p[n++] = (struct comb_insn)INSN(COMB_CLS_JMP | COMB_SRC_K | COMB_JMP_JEQ, 2, 0, (int16_t)filler, 0);
		for (int k = 0; k < filler; k++)
			p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 0, k + 1000);
		size_t head = n;
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 2, 1);
		for (int k = 0; k < filler; k++)
			p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_XOR, 0, 2);
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_MUL, 0, 3);
		p[n] = (struct comb_insn)INSN(COMB_CLS_JMP | COMB_SRC_K | COMB_JMP_JLT, 2, 0,
					      (int16_t)((int64_t)head - (int64_t)n - 1), 20);
		n++;
		jit_put_dump(p, &n);
		failures += jit_compare(p, n, false, NULL) != 0;
	}
	CHECK_EQ(failures, 0);
}
