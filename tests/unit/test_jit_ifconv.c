/* tests/unit/test_jit_ifconv.c - the JIT's branch rewrites against the
 * interpreter.
 *
 * If-conversion turns `if C goto +n; n instructions writing rD (and rE)`
 * into a compare and cmovs; latch rotation turns `if C goto X; goto head`
 * into `if !C goto head; goto X`; upper bounds known over straight-line
 * code turn a decided conditional jump into a jmp or nothing (checked on
 * random straight-line programs built around boundary constants). Also:
 * code larger than the JIT's first guess of the buffer size (divisions
 * only) still compiles. Each shape runs over every jump condition
 * (64 and 32 bits, immediate and register), blocks that write one or two
 * registers (32-bit writes into registers whose upper half is set, a block
 * reading what it wrote before), blocks too big or unsuitable to convert,
 * a jump into the block, and constant blinding (no conversion). The
 * interpreter is the oracle: status, r0 and every register must agree.
 */
#include <stdio.h>
#include <string.h>
#include <Zydis/Zydis.h>
#include "../test.h"
#include "comb/comb.h"
#include "insn_build.h"
#include "jit_compare.h"

static const uint64_t values[] = {
	0, 1, 7, 0x80, 0xffffffffull, 0x100000000ull, 0x8000000000000000ull, (uint64_t)-1,
	(uint64_t)-8, 0x123456789abcdef1ull,
};
#define N_VALUES (sizeof(values) / sizeof(values[0]))

static const uint8_t conditions[] = {
	COMB_JMP_JEQ, COMB_JMP_JGT, COMB_JMP_JGE, COMB_JMP_JSET, COMB_JMP_JNE, COMB_JMP_JSGT,
	COMB_JMP_JSGE, COMB_JMP_JLT, COMB_JMP_JLE, COMB_JMP_JSLT, COMB_JMP_JSLE,
};

/* A division or modulo: its own code may hold a cmov (x / 0 = 0). */
static bool is_division(const struct comb_insn *insn)
{
	uint8_t cls = insn->code & 7, op = insn->code & 0xf0;
	return (cls == COMB_CLS_ALU || cls == COMB_CLS_ALU64) && (op == COMB_ALU_DIV || op == COMB_ALU_MOD);
}

/* Does the native code of the instructions other than divisions hold a
 * cmov? Decoded by Zydis, instruction by instruction (a byte pattern would
 * also match inside blinded immediates). (These programs have no loops: the
 * code of instruction i is [off[i], off[i + 1]).) */
static bool has_cmov(const struct comb_prog *prog, const struct comb_insn *insns, size_t count)
{
	const uint8_t *code;
	const uint32_t *off;
	size_t size;
	if (comb_prog_jit_code(prog, &code, &size, &off))
		return false;
	for (size_t i = 0; i < count; i++) {
		if (is_division(&insns[i]))
			continue;
		for (size_t k = off[i]; k < off[i + 1];) {
			ZydisDisassembledInstruction insn;
			if (!ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64, (ZyanU64)k, code + k,
								off[i + 1] - k, &insn)))
				return true; /* undecodable: fail the check */
			if (insn.info.meta.category == ZYDIS_CATEGORY_CMOV)
				return true;
			k += insn.info.length;
		}
	}
	return false;
}

/* 0 when the JIT compiled the program and agrees with the interpreter
 * (jit_compare.h); *cmov says whether the code holds a cmov. */
static int agree(const struct comb_insn *insns, size_t count, bool harden, bool *cmov)
{
	struct comb_prog *prog = NULL;
	int bad = jit_compare(insns, count, harden, &prog);
	if (prog && cmov)
		*cmov = has_cmov(prog, insns, count);
	comb_prog_free(prog);
	return bad;
}

/* Blocks the jump skips: up to 3 instructions (count 0 ends the list). */
struct block {
	const char *what;
	size_t count;
	struct comb_insn insns[3];
	bool converts;
};

static const struct block blocks[] = {
	{ "w4 = 1", 1, { MOV32_IMM(4, 1) }, true },
	{ "w4 |= 0x10", 1, { ALU32_IMM(COMB_ALU_OR, 4, 0x10) }, true },
	{ "r4 = r5; r4 >>= 8", 2, { MOV64_REG(4, 5), ALU64_IMM(COMB_ALU_RSH, 4, 8) }, true },
	{ "r4 *= 3; r4 += 1; r5 = r4", 3,
	  { ALU64_IMM(COMB_ALU_MUL, 4, 3), ALU64_IMM(COMB_ALU_ADD, 4, 1), MOV64_REG(5, 4) }, true },
	{ "r5 = r4; r4 = r2; r4 -= r5", 3,
	  { MOV64_REG(5, 4), MOV64_REG(4, 2), ALU64_REG(COMB_ALU_SUB, 4, 5) }, true },
	{ "r0 = 5; r2 = 7", 2, { MOV64_IMM(0, 5), MOV64_IMM(2, 7) }, true },
	{ "r4 = -r4; w4 += w3", 2, { NEG64(4), ALU32_REG(COMB_ALU_ADD, 4, 3) }, true },
	{ "w3 = w3 (zero-extends)", 1, { MOV32_REG(3, 3) }, true },
	{ "r4 = 1; r5 = 2; r6 = 3 (three registers)", 3, { MOV64_IMM(4, 1), MOV64_IMM(5, 2), MOV64_IMM(6, 3) },
	  false },
	{ "r4 /= r5 (division)", 1, { ALU64_REG(COMB_ALU_DIV, 4, 5) }, false },
	{ "*(u64 *)(r1 + 72) = r4 (memory)", 1, { STX_MEM(COMB_SIZE_DW, 1, 4, 72) }, false },
};

/* r2..r6 = a, b, a ^ b, ~a, 0x5a5a..; if r2 <cond> (r3 | imm) goto +count;
 * block; dump. */
static size_t build_diamond(struct comb_insn *p, uint8_t cls, uint8_t cond, bool reg, int32_t imm,
			    uint64_t a, uint64_t b, const struct block *blk)
{
	size_t n = 0;
	jit_put_lddw(p, &n, 2, a);
	jit_put_lddw(p, &n, 3, b);
	jit_put_lddw(p, &n, 4, a ^ b);
	jit_put_lddw(p, &n, 5, ~a);
	jit_put_lddw(p, &n, 6, 0x5a5a5a5a5a5a5a5aull);
	/* Through the stack, so the JIT knows nothing of the compared values
	 * (a jump it can decide is folded, not converted). */
	for (int r = 2; r <= 3; r++) {
		p[n++] = (struct comb_insn)STX_MEM(COMB_SIZE_DW, 10, r, (int16_t)(-8 * r));
		p[n++] = (struct comb_insn)LDX_MEM(COMB_SIZE_DW, r, 10, (int16_t)(-8 * r));
	}
	p[n++] = (struct comb_insn)MOV64_IMM(0, 0);
	p[n++] = (struct comb_insn)INSN(cls | (reg ? COMB_SRC_X : COMB_SRC_K) | cond, 2, reg ? 3 : 0,
					(int16_t)blk->count, reg ? 0 : imm);
	for (size_t k = 0; k < blk->count; k++)
		p[n++] = blk->insns[k];
	jit_put_dump(p, &n);
	return n;
}

TEST(jit_if_conversion_matches_the_interpreter)
{
	int failures = 0, checked = 0;
	for (size_t bi = 0; bi < ARRAY_SIZE(blocks); bi++) {
		const struct block *blk = &blocks[bi];
		for (size_t ci = 0; ci < ARRAY_SIZE(conditions); ci++)
			for (int form = 0; form < 4; form++) { /* 64/32 bits x imm/reg */
				uint8_t cls = form & 1 ? COMB_CLS_JMP32 : COMB_CLS_JMP;
				bool reg = form & 2;
				for (size_t va = 0; va < N_VALUES; va++)
					for (size_t vb = 0; vb < N_VALUES; vb += 3) {
						struct comb_insn p[48];
						int32_t imm = (int32_t)values[vb];
						size_t n = build_diamond(p, cls, conditions[ci], reg, imm, values[va],
									 values[vb], blk);
						bool cmov = false;
						int bad = agree(p, n, false, &cmov);
						if (!bad && cmov != blk->converts) {
							fprintf(stderr, "  cmov %s where it should%s\n",
								cmov ? "emitted" : "missing", cmov ? " not" : "");
							bad = 1;
						}
						checked++;
						if (bad && failures++ < 5)
							fprintf(stderr, "  block `%s`, cond %#x form %d, a %#llx b %#llx\n",
								blk->what, conditions[ci], form,
								(unsigned long long)values[va],
								(unsigned long long)values[vb]);
					}
			}
	}
	CHECK_EQ(failures, 0);
	CHECK(checked > 10000);
}

TEST(jit_if_conversion_keeps_a_jump_into_the_block)
{
	/* Another jump lands inside the block: it must stay branches. */
	for (size_t va = 0; va < N_VALUES; va++) {
		struct comb_insn p[48];
		size_t n = 0;
		jit_put_lddw(p, &n, 2, values[va]);
		jit_put_lddw(p, &n, 4, 0xffffffff00000000ull);
		p[n++] = (struct comb_insn)STX_MEM(COMB_SIZE_DW, 10, 2, -8); /* r2 unknown to the JIT */
		p[n++] = (struct comb_insn)LDX_MEM(COMB_SIZE_DW, 2, 10, -8);
		p[n++] = (struct comb_insn)MOV64_IMM(0, 0);
		p[n++] = (struct comb_insn)JMP_IMM(COMB_JMP_JSET, 2, 2, 2); /* to the block's 2nd insn */
		p[n++] = (struct comb_insn)JMP_IMM(COMB_JMP_JGT, 2, 7, 2);
		p[n++] = (struct comb_insn)MOV32_IMM(4, 1);
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 4, 5);
		jit_put_dump(p, &n);
		bool cmov = true;
		CHECK_EQ(agree(p, n, false, &cmov), 0);
		CHECK(!cmov);
	}
}

TEST(jit_if_conversion_is_off_under_blinding)
{
	for (size_t va = 0; va < N_VALUES; va++) {
		struct comb_insn p[48];
		size_t n = build_diamond(p, COMB_CLS_JMP, COMB_JMP_JGT, false, 7, values[va], 0, &blocks[1]);
		bool cmov = true;
		CHECK_EQ(agree(p, n, true, &cmov), 0);
		CHECK(!cmov);
	}
}

TEST(jit_rotated_latch_matches_the_interpreter)
{
	/* r0 = sum of r2 .. 1 with the exit test before the back edge:
	 * head: r0 += r2; r2 -= 1; if r2 <cond> K goto out; goto head; out. */
	static const struct { uint8_t cond; int32_t k; } exits[] = {
		{ COMB_JMP_JEQ, 0 }, { COMB_JMP_JLE, 3 }, { COMB_JMP_JSLT, 5 }, { COMB_JMP_JSET, 0x40 },
	};
	for (size_t e = 0; e < ARRAY_SIZE(exits); e++)
		for (uint64_t start = 1; start < 200; start += 37) {
			struct comb_insn p[48];
			size_t n = 0;
			jit_put_lddw(p, &n, 2, start);
			p[n++] = (struct comb_insn)MOV64_IMM(0, 0);
			p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_ADD, 0, 2);
			p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_SUB, 2, 1);
			p[n++] = (struct comb_insn)JMP_IMM(exits[e].cond, 2, exits[e].k, 1);
			p[n++] = (struct comb_insn)JA(-4);
			jit_put_dump(p, &n);
			CHECK_EQ(agree(p, n, false, NULL), 0);
		}
	/* The exit test jumping just past the back edge (nothing to jump to). */
	struct comb_insn q[48];
	size_t n = 0;
	jit_put_lddw(q, &n, 2, 10);
	q[n++] = (struct comb_insn)MOV64_IMM(0, 0);
	q[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_ADD, 0, 2);
	q[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_SUB, 2, 1);
	q[n++] = (struct comb_insn)JMP_IMM(COMB_JMP_JEQ, 2, 0, 1);
	q[n++] = (struct comb_insn)JA(-4);
	q[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 0, 1000);
	jit_put_dump(q, &n);
	CHECK_EQ(agree(q, n, false, NULL), 0);
}

/* Constants around the bounds the JIT tracks (byte, half, word, loop limits). */
static const int32_t edges[] = {
	0, 1, 2, 3, 0xfe, 0xff, 0x100, 0xffff, 0x10000, 0xf9e, 0xf9f, 0xfa0, INT32_MAX, -1, -2, INT32_MIN,
};

static uint32_t next_random(uint64_t *state)
{
	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*state >> 33);
}

/* One random instruction of the kinds the bound tracking models (and a
 * few it does not), or a short forward conditional jump. */
static struct comb_insn random_insn(uint64_t *st, size_t left)
{
	int dst = 2 + (int)(next_random(st) % 4), src = 2 + (int)(next_random(st) % 4);
	int32_t k = edges[next_random(st) % ARRAY_SIZE(edges)];
	static const uint8_t jumps[] = { COMB_JMP_JGT, COMB_JMP_JGE, COMB_JMP_JLT, COMB_JMP_JLE,
					 COMB_JMP_JEQ, COMB_JMP_JNE, COMB_JMP_JSGT, COMB_JMP_JSET };
	switch (next_random(st) % 14) {
	case 0: return (struct comb_insn)MOV64_IMM(dst, k);
	case 1: return (struct comb_insn)MOV32_IMM(dst, k);
	case 2: return (struct comb_insn)MOV64_REG(dst, src);
	case 3: return (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, dst, k);
	case 4: return (struct comb_insn)ALU64_IMM(COMB_ALU_AND, dst, k);
	case 5: return (struct comb_insn)ALU64_IMM(COMB_ALU_RSH, dst, (int32_t)(next_random(st) % 64));
	case 6: return (struct comb_insn)LDX_MEM((next_random(st) % 2) ? COMB_SIZE_B : COMB_SIZE_W, dst, 1, 72);
	case 7: return (struct comb_insn)ALU32_IMM(COMB_ALU_ADD, dst, k);
	case 8: return (struct comb_insn)ALU64_IMM(COMB_ALU_SUB, dst, k);
	case 9: return (struct comb_insn)ALU64_REG(COMB_ALU_MUL, dst, src);
	default: {
		uint8_t op = jumps[next_random(st) % ARRAY_SIZE(jumps)];
		uint8_t cls = next_random(st) % 3 ? COMB_CLS_JMP : COMB_CLS_JMP32;
		int16_t off = (int16_t)(1 + next_random(st) % (left < 3 ? left : 3));
		return (struct comb_insn)INSN(cls | COMB_SRC_K | op, dst, 0, off, k);
	}
	}
}

TEST(jit_bound_folded_jumps_match_the_interpreter)
{
	int failures = 0;
	uint64_t st = 0x5eed;
	for (int round = 0; round < 3000; round++) {
		struct comb_insn p[64];
		size_t n = 0;
		/* The bytes at r1 + 72..79 (0x5a each) are the loads' values. */
		for (int r = 2; r <= 5; r++)
			jit_put_lddw(p, &n, r, ((uint64_t)next_random(&st) << 32 | next_random(&st)) >> (next_random(&st) % 64));
		p[n++] = (struct comb_insn)MOV64_IMM(0, 0);
		const size_t body = 20;
		for (size_t k = 0; k < body; k++)
			p[n++] = random_insn(&st, body - k);
		jit_put_dump(p, &n);
		if (agree(p, n, false, NULL) && failures++ < 3)
			fprintf(stderr, "  random program %d differs\n", round);
	}
	CHECK_EQ(failures, 0);
}

TEST(jit_bound_folds_the_second_loop_test)
{
	/* clang's bounded loop: i <= MAX-2 checked, i += 1, i < MAX then
	 * always holds; the run must agree for every trip count. */
	for (int32_t limit = 0; limit < 12; limit++) {
		struct comb_insn p[40];
		size_t n = 0;
		p[n++] = (struct comb_insn)MOV64_IMM(2, 0);              /* i */
		p[n++] = (struct comb_insn)MOV64_IMM(0, 0);
		p[n++] = (struct comb_insn)MOV64_IMM(3, limit);
		p[n++] = (struct comb_insn)JMP_IMM(COMB_JMP_JGT, 2, 8, 5);  /* head: i > MAX-2 -> out */
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 2, 1);
		p[n++] = (struct comb_insn)JMP_REG(COMB_JMP_JGE, 2, 3, 3);  /* i >= n -> out */
		p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_ADD, 0, 2);
		p[n++] = (struct comb_insn)JMP_IMM(COMB_JMP_JLT, 2, 10, -5); /* i < MAX: always */
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 0, 1000); /* never runs */
		jit_put_dump(p, &n);
		CHECK_EQ(agree(p, n, false, NULL), 0);
		CHECK_EQ(agree(p, n, true, NULL), 0);
	}
}

TEST(jit_compiles_code_beyond_its_first_buffer_guess)
{
	/* Signed division by a register takes ~40 bytes, over the 16 per
	 * instruction the JIT's first buffer allows: it must retry larger. */
	struct comb_insn p[300];
	size_t n = 0;
	jit_put_lddw(p, &n, 2, 0x123456789abcdefull);
	jit_put_lddw(p, &n, 3, 3);
	while (n < 280)
		p[n++] = (struct comb_insn)SDIV64_REG(2, 3);
	p[n++] = (struct comb_insn)MOV64_REG(0, 2);
	jit_put_dump(p, &n);
	CHECK_EQ(agree(p, n, false, NULL), 0);
	CHECK_EQ(agree(p, n, true, NULL), 0);
}
