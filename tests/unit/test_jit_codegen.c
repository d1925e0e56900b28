/* tests/unit/test_jit_codegen.c - code shapes chosen for speed, against the
 * interpreter.
 *
 * Unsigned division and modulo by a register run with no taken branch (a
 * cmov gives x / 0 its 0, a test skips the div): every width, divisors 0, 1
 * and large, dividends at the edges, destinations and sources in the
 * registers the division borrows (r0 = rax, r3 = rdx) with the others live
 * after it. Loop heads inside another loop's body are not padded for
 * alignment: nested loops in clang's rotated shape (the outer loop's head
 * inside the inner loop) must still compute what the interpreter does.
 * Rotates by a constant become one rol, every width and amount; a load
 * feeding an ALU operation becomes its memory operand.
 * Status, r0 and every register (stored to memory) must agree.
 */
#include <string.h>
#include "../test.h"
#include "comb/comb.h"
#include "insn_build.h"
#include "jit_compare.h"

static const uint64_t edge_values[] = {
	0, 1, 2, 3, 7, 0xff, 0x7fffffffull, 0x80000000ull, 0xfffffffeull, 0xffffffffull,
	0x100000000ull, 0x100000001ull, 0x8000000000000000ull, (uint64_t)-1, 0x123456789abcdef1ull,
};
#define N_EDGE (sizeof(edge_values) / sizeof(edge_values[0]))

TEST(jit_unsigned_division_by_register_matches_the_interpreter)
{
	/* dst, src pairs: plain, rax as dst or src, rdx as dst or src, dst == src */
	static const int regs[][2] = { { 6, 7 }, { 0, 7 }, { 6, 0 }, { 3, 7 }, { 6, 3 }, { 0, 3 }, { 3, 0 }, { 8, 8 } };
	int failures = 0;
	for (int op = 0; op < 4; op++) {
		bool w = op & 1, is_mod = op & 2;
		uint8_t code = (uint8_t)((w ? COMB_CLS_ALU64 : COMB_CLS_ALU) | COMB_SRC_X |
					 (is_mod ? COMB_ALU_MOD : COMB_ALU_DIV));
		for (size_t r = 0; r < sizeof(regs) / sizeof(regs[0]); r++)
			for (size_t x = 0; x < N_EDGE; x++)
				for (size_t y = 0; y < N_EDGE; y++) {
					int dst = regs[r][0], src = regs[r][1];
					struct comb_insn p[48];
					size_t n = 0;
					/* every register live with its own value, then dst and src */
					jit_put_lddw(p, &n, 0, 0x1111111111111111ull);
					jit_put_lddw(p, &n, 3, 0x3333333333333333ull);
					jit_put_lddw(p, &n, 9, 0x9999999999999999ull);
					jit_put_lddw(p, &n, src, edge_values[y]);
					jit_put_lddw(p, &n, dst, edge_values[x]);
					p[n++] = (struct comb_insn)INSN(code, dst, src, 0, 0);
					/* r0 and r3 read after the division (they must survive it) */
					p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_XOR, 9, 0);
					p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_ADD, 9, 3);
					jit_put_dump(p, &n);
					failures += jit_compare(p, n, false, NULL) != 0;
				}
	}
	CHECK_EQ(failures, 0);
}

/* What a fusion test counts: programs where the engines differ or a
 * fusion happened where none may, fusions seen and fusions wanted. */
struct fusion_tally {
	int failures, fused, expected;
};

/* Compiles p (n instructions), compares the engines, and reads from the
 * code whether the instructions at code_from .. code_to - 1 were fused
 * into the one before them (they then have no code of their own). */
static void check_fusion(const struct comb_insn *p, size_t n, size_t code_from, size_t code_to, bool want,
			 struct fusion_tally *t)
{
	struct comb_prog *prog = NULL;
	t->failures += jit_compare(p, n, false, &prog) != 0;
	const uint32_t *offsets = NULL;
	if (prog && comb_prog_jit_code(prog, NULL, NULL, &offsets) == 0) {
		bool did = offsets[code_from] == offsets[code_to];
		t->fused += did && want;
		t->failures += did && !want;
	}
	t->expected += want;
	comb_prog_free(prog);
}

/* Prime counting by trial division as clang lays it out, the outer loop's
 * head (n % d) inside the inner loop's body, fallen into from the inner
 * test (so it gets no alignment padding):
 *    0: r0 = 0 (count); r2 = 2 (n); r6 = limit; r3 = 0
 *    4: goto 18
 *    5: r7 = 1                    inner head
 *    6: if r4 > 62 goto 15
 *    7: r4 += 1; r5 = r4; r5 *= r5
 *   10: if r5 > r2 goto 15
 *   11: r5 = r2                   outer head (from 21)
 *   12: r5 %= r4; r7 = 0
 *   14: if r5 != 0 goto 5
 *   15: r0 += r7                  tally (loop head from 19)
 *   16: r2 += 1
 *   17: if r2 >= r6 goto 22
 *   18: r7 = 1
 *   19: if r2 < 4 goto 15
 *   20: r4 = 2
 *   21: goto 11
 *   22: dump
 * ALU and jumps in both widths; limits around the loops' edges.
 */
TEST(jit_rotated_nested_loops_match_the_interpreter)
{
	static const int32_t limits[] = { 0, 1, 2, 3, 4, 5, 17, 64, 101, 4000 };
	int failures = 0;
	for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++)
		for (int width = 0; width < 2; width++) {
			uint8_t alu = width ? COMB_CLS_ALU64 : COMB_CLS_ALU;
			uint8_t jmp = width ? COMB_CLS_JMP : COMB_CLS_JMP32;
			struct comb_insn p[48] = {
				MOV64_IMM(0, 0), MOV64_IMM(2, 2), MOV64_IMM(6, limits[l]), MOV64_IMM(3, 0),
				JA(13),
				MOV64_IMM(7, 1),
				INSN(jmp | COMB_SRC_K | COMB_JMP_JGT, 4, 0, 8, 62),
				INSN(alu | COMB_SRC_K | COMB_ALU_ADD, 4, 0, 0, 1),
				INSN(alu | COMB_SRC_X | COMB_ALU_MOV, 5, 4, 0, 0),
				INSN(alu | COMB_SRC_X | COMB_ALU_MUL, 5, 5, 0, 0),
				INSN(jmp | COMB_SRC_X | COMB_JMP_JGT, 5, 2, 4, 0),
				INSN(alu | COMB_SRC_X | COMB_ALU_MOV, 5, 2, 0, 0),
				INSN(alu | COMB_SRC_X | COMB_ALU_MOD, 5, 4, 0, 0),
				MOV64_IMM(7, 0),
				INSN(jmp | COMB_SRC_K | COMB_JMP_JNE, 5, 0, -10, 0),
				INSN(alu | COMB_SRC_X | COMB_ALU_ADD, 0, 7, 0, 0),
				INSN(alu | COMB_SRC_K | COMB_ALU_ADD, 2, 0, 0, 1),
				INSN(jmp | COMB_SRC_X | COMB_JMP_JGE, 2, 6, 4, 0),
				MOV64_IMM(7, 1),
				INSN(jmp | COMB_SRC_K | COMB_JMP_JLT, 2, 0, -5, 4),
				MOV64_IMM(4, 2),
				JA(-11),
			};
			size_t n = 22;
			jit_put_dump(p, &n);
			failures += jit_compare(p, n, false, NULL) != 0;
		}
	CHECK_EQ(failures, 0);
}

/* Load fused with its address: `rX = rY; rX += rZ (or K); rD = *(size *)(rX
 * + off)` -> one load from [rY + rZ + off] when rX is dead after it or is
 * rD. Over every load size and sign, index and offset across the buffer
 * (bytes with the top bit set, for sign extension), the stack as the base
 * (r10 = rbp) with a constant index, and rX still live (must stay lea +
 * load). Whether it fused is read from the code: the add and the load have
 * no code of their own when it did. */
TEST(jit_load_from_base_plus_index_matches_the_interpreter)
{
	static const uint8_t loads[] = { COMB_SIZE_B, COMB_SIZE_H, COMB_SIZE_W, COMB_SIZE_DW };
	static const int32_t indexes[] = { 0, 1, 7, 60 };
	static const int16_t offs[] = { 0, 3, 56, -1 };
	struct fusion_tally tally = { 0 };
	for (size_t l = 0; l < sizeof(loads); l++)
		for (int sx = 0; sx < 2; sx++)
			for (int shape = 0; shape < 4; shape++) /* 0 reg, 1 stack + imm, 2 rX is rD, 3 rX live */
				for (size_t x = 0; x < sizeof(indexes) / sizeof(indexes[0]); x++)
					for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
						int32_t index = indexes[x];
						int16_t off = offs[o];
						if ((sx && loads[l] == COMB_SIZE_DW) || (off < 0 && index == 0))
							continue;
						struct comb_insn p[96];
						size_t n = 0;
						jit_put_lddw(p, &n, 2, 0x8091a2b3c4d5e6f7ull);
						for (int k = 0; k < 16; k++)
							p[n++] = (struct comb_insn)STX_MEM(COMB_SIZE_DW, 1, 2, (int16_t)(8 * k));
						jit_put_lddw(p, &n, 2, 0x0102030405060708ull);
						for (int k = 0; k < 8; k++)
							p[n++] = (struct comb_insn)STX_MEM(COMB_SIZE_W, 1, 2, (int16_t)(16 * k + 4));
						bool stack = shape == 1;
						if (stack) /* the buffer's 128 bytes at r10 - 128 */
							for (int k = 0; k < 16; k++) {
								p[n++] = (struct comb_insn)LDX_MEM(COMB_SIZE_DW, 2, 1, (int16_t)(8 * k));
								p[n++] = (struct comb_insn)STX_MEM(COMB_SIZE_DW, 10, 2,
												   (int16_t)(8 * k - 128));
							}
						p[n++] = (struct comb_insn)MOV64_REG(6, 1);
						p[n++] = (struct comb_insn)MOV64_IMM(7, index);
						p[n++] = (struct comb_insn)MOV64_IMM(4, 0x44);
						int x_reg = shape == 2 ? 0 : 5, d_reg = shape == 2 ? 0 : 3;
						uint8_t mode = (uint8_t)(sx ? COMB_MODE_MEMSX : COMB_MODE_MEM);
						size_t at = n;
						p[n++] = (struct comb_insn)MOV64_REG(x_reg, stack ? 10 : 6);
						if (stack)
							p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, x_reg, index - 128);
						else
							p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_ADD, x_reg, 7);
						p[n++] = (struct comb_insn)INSN(COMB_CLS_LDX | mode | loads[l], d_reg, x_reg, off, 0);
						if (shape == 3) /* rX read: the index again */
							p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_SUB, x_reg, 6);
						else if (x_reg != d_reg)
							p[n++] = (struct comb_insn)MOV64_IMM(x_reg, 0x55); /* rX dead */
						p[n++] = (struct comb_insn)MOV64_IMM(6, 0); /* no pointer in the dump */
						jit_put_dump(p, &n);
						check_fusion(p, n, at + 1, at + 3, shape != 3, &tally);
					}
	CHECK_EQ(tally.failures, 0);
	CHECK_EQ(tally.fused, tally.expected);
}

/* Rotates by a constant as clang writes them: `rT = rH; rT >>= a; rH <<= b;
 * rH |= rT` (a + b the width, either shift first), the result in rH or in
 * rT, 32 and 64 bits, every amount. Fused into one rol when the other
 * register is dead after; not when it is read after (it must then hold the
 * shifted value). Whether it fused is read from the code: the shifts and
 * the or have no code of their own when it did. */
TEST(jit_rotate_matches_the_interpreter)
{
	static const uint64_t values[] = { 1, 0xffffffffull, 0x8000000000000001ull, 0x123456789abcdef1ull };
	struct fusion_tally tally = { 0 };
	int programs = 0;
	for (int w = 0; w < 2; w++) {
		int width = w ? 64 : 32;
		uint8_t cls = w ? COMB_CLS_ALU64 : COMB_CLS_ALU;
		for (int b = 1; b < width; b++)
			for (int shape = 0; shape < 8; shape++) {
				bool lsh_first = shape & 1, into_t = shape & 2, other_live = shape & 4;
				for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
					int h = 6, t = 7;
					struct comb_insn p[48];
					size_t n = 0;
					jit_put_lddw(p, &n, h, values[v]);
					jit_put_lddw(p, &n, t, 0x7777777777777777ull);
					p[n++] = (struct comb_insn)MOV64_IMM(9, 0);
					size_t at = n;
					p[n++] = (struct comb_insn)INSN(cls | COMB_ALU_MOV | COMB_SRC_X, t, h, 0, 0);
					struct comb_insn shift_t = INSN(cls | (lsh_first ? COMB_ALU_LSH : COMB_ALU_RSH) | COMB_SRC_K,
									t, 0, 0, lsh_first ? b : width - b);
					struct comb_insn shift_h = INSN(cls | (lsh_first ? COMB_ALU_RSH : COMB_ALU_LSH) | COMB_SRC_K,
									h, 0, 0, lsh_first ? width - b : b);
					p[n++] = shift_t;
					p[n++] = shift_h;
					if (into_t)
						p[n++] = (struct comb_insn)INSN(cls | COMB_ALU_OR | COMB_SRC_X, t, h, 0, 0);
					else
						p[n++] = (struct comb_insn)INSN(cls | COMB_ALU_OR | COMB_SRC_X, h, t, 0, 0);
					int other = into_t ? h : t;
					if (other_live) /* the other register's shifted value is read */
						p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_ADD, 9, other);
					else
						p[n++] = (struct comb_insn)MOV64_IMM(other, 0x55);
					jit_put_dump(p, &n);
					check_fusion(p, n, at + 1, at + 4, !other_live, &tally);
					programs++;
				}
			}
	}
	CHECK_EQ(tally.failures, 0);
	CHECK_EQ(tally.fused, tally.expected);
	CHECK(programs == 4 * 8 * (31 + 63));
}

/* `rA = *(rB + off); rC op= rA` as one op with a memory operand (add, sub,
 * and, or, xor, mul; a u32 load with a 32-bit op, a u64 load with a 64-bit
 * one), over the stack (r10 = rbp) and the buffer through r7 (r13: needs a
 * displacement byte) and r6, rC the base itself; not fused when rA is read
 * after or the widths differ (a u32 load feeding a 64-bit op). */
TEST(jit_load_then_op_matches_the_interpreter)
{
	static const uint8_t ops[] = { COMB_ALU_ADD, COMB_ALU_SUB, COMB_ALU_AND, COMB_ALU_OR, COMB_ALU_XOR, COMB_ALU_MUL };
	static const uint64_t values[] = { 0x8000000000000001ull, 0xfffffffffffffff7ull, 0x123456789abcdef1ull };
	struct fusion_tally tally = { 0 };
	for (size_t o = 0; o < sizeof(ops); o++)
		for (int shape = 0; shape < 4 * 2 * 3; shape++) {
			int base_kind = shape % 4;    /* 0 stack, 1 r7, 2 r6, 3 the destination itself */
			if (base_kind == 3 && ops[o] != COMB_ALU_ADD && ops[o] != COMB_ALU_SUB)
				continue; /* (the buffer's address would stay in the result) */
			bool live = (shape / 4) % 2;  /* rA read after */
			int widths = shape / 8;       /* 0: 32/u32, 1: 64/u64, 2: 64 on a u32 load */
			bool w = widths != 0;
			uint8_t size = widths == 1 ? COMB_SIZE_DW : COMB_SIZE_W;
			for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
				struct comb_insn p[48];
				size_t n = 0;
				jit_put_lddw(p, &n, 2, values[v]);
				p[n++] = (struct comb_insn)STX_MEM(COMB_SIZE_DW, 10, 2, -16);
				p[n++] = (struct comb_insn)STX_MEM(COMB_SIZE_DW, 1, 2, 80); /* past the dump */
				jit_put_lddw(p, &n, 3, values[(v + 1) % 3] ^ 0x5555);
				p[n++] = (struct comb_insn)MOV64_REG(7, 1);
				p[n++] = (struct comb_insn)MOV64_REG(6, 1);
				int base = base_kind == 0 ? 10 : base_kind == 1 ? 7 : base_kind == 2 ? 6 : 3;
				int16_t off = base == 10 ? -16 : 80;
				if (base == 3) { /* rC is the base: the buffer's address plus the value's bits */
					p[n++] = (struct comb_insn)MOV64_REG(3, 1);
				}
				int a = 4, dst = 3;
				size_t at = n;
				p[n++] = (struct comb_insn)LDX_MEM(size, a, base, off);
				p[n++] = (struct comb_insn)INSN((w ? COMB_CLS_ALU64 : COMB_CLS_ALU) | ops[o] | COMB_SRC_X, dst, a, 0, 0);
				if (live)
					p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_ADD, 9, a);
				else
					p[n++] = (struct comb_insn)MOV64_IMM(a, 0x44);
				if (base == 3) /* no pointer in the dump */
					p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_SUB, 3, 1);
				p[n++] = (struct comb_insn)MOV64_IMM(6, 0);
				p[n++] = (struct comb_insn)MOV64_IMM(7, 0);
				jit_put_dump(p, &n);
				check_fusion(p, n, at + 1, at + 2, !live && widths != 2, &tally);
			}
		}
	CHECK_EQ(tally.failures, 0);
	CHECK_EQ(tally.fused, tally.expected);
	CHECK(tally.expected == (6 * 3 + 2) * 2 * 3);
}
