/* tests/unit/test_jit_sink.c - cold blocks laid out after the loop (jit_sink.c).
 *
 * A loop's way out that sits inside it (a block after a jump over it, ending
 * in a goto out of the loop or an exit) moves after all other code: the jump
 * over it is inverted, or dropped when it was a goto. Each shape runs over
 * edge values so that the loop leaves both through the moved block and
 * through its latch; the interpreter is the oracle (status, r0, memory). The
 * layout is checked too: the block's code lies after the latch's exactly
 * when it qualifies (and shapes that must not move stay in place).
 */
#include <string.h>
#include "../test.h"
#include "comb/comb.h"
#include "insn_build.h"
#include "jit_compare.h"

static const uint64_t limits[] = {
	0, 1, 2, 7, 19, 20, 21, 0x7fffffffull, 0x80000000ull, 0xffffffffull, 0x100000000ull,
	0x8000000000000000ull, (uint64_t)-1, (uint64_t)-20,
};
#define N_LIMITS (sizeof(limits) / sizeof(limits[0]))

/* Was instruction s laid out after instruction latch (the block moved)? */
static bool laid_out_after(const struct comb_prog *prog, size_t s, size_t latch)
{
	const uint32_t *off = NULL;
	if (comb_prog_jit_code(prog, NULL, NULL, &off) || !off)
		return false;
	return off[s] > off[latch];
}

/* Compares the engines; *moved: whether instruction s lies after latch. */
static int compare_and_place(const struct comb_insn *p, size_t n, bool harden, size_t s, size_t latch,
			     bool *moved)
{
	struct comb_prog *prog = NULL;
	int bad = jit_compare(p, n, harden, &prog);
	*moved = prog && laid_out_after(prog, s, latch);
	comb_prog_free(prog);
	return bad != 0;
}

/* The conditions of the test over the block, both widths. */
static const uint8_t conds[] = {
	COMB_JMP_JEQ, COMB_JMP_JNE, COMB_JMP_JGT, COMB_JMP_JGE, COMB_JMP_JLT,
	COMB_JMP_JLE, COMB_JMP_JSGT, COMB_JMP_JSGE, COMB_JMP_JSLT, COMB_JMP_JSLE, COMB_JMP_JSET,
};

/* A conditional jump over a break block:
 *   r2 = 0; r6 = limit
 *   head: r2 += 1; r0 ^= r2; r0 *= 3
 *         if r2 COND r6 goto +3          (over the block)
 *         r0 += 7; LDDW r7, K; goto after (the block: leaves the loop)
 *         r6 -= 1
 *         if r2 < 20 goto head           (latch)
 *   after: dump
 */
TEST(jit_sink_inverts_a_jump_over_a_loop_break)
{
	int failures = 0, moved_count = 0, shapes = 0;
	for (size_t v = 0; v < N_LIMITS; v++)
		for (size_t k = 0; k < sizeof(conds); k++)
			for (int w = 0; w < 2; w++)
				for (int harden = 0; harden < 2; harden++) {
					uint8_t cls = w ? COMB_CLS_JMP : COMB_CLS_JMP32;
					struct comb_insn p[64];
					size_t n = 0;
					p[n++] = (struct comb_insn)MOV64_IMM(0, 1);
					p[n++] = (struct comb_insn)MOV64_IMM(2, 0);
					p[n++] = (struct comb_insn)MOV64_IMM(7, 0);
					jit_put_lddw(p, &n, 6, limits[v]);
					size_t head = n;
					p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 2, 1);
					p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_XOR, 0, 2);
					p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_MUL, 0, 3);
					p[n++] = (struct comb_insn)INSN(cls | COMB_SRC_X | conds[k], 2, 6, 4, 0);
					size_t s = n;
					p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 0, 7);
					jit_put_lddw(p, &n, 7, 0x0123456789abcdefull);
					p[n++] = (struct comb_insn)JA(2);
					p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_SUB, 6, 1);
					size_t latch = n;
					p[n] = (struct comb_insn)JMP_IMM(COMB_JMP_JLT, 2, 20,
									 (int16_t)((int64_t)head - (int64_t)n - 1));
					n++;
					jit_put_dump(p, &n);
					bool moved;
					failures += compare_and_place(p, n, harden, s, latch, &moved);
					moved_count += moved;
					shapes++;
				}
	CHECK_EQ(failures, 0);
	CHECK_EQ(moved_count, shapes); /* every shape qualifies */
}

/* A goto over an exit block that other jumps reach too (clang's latch:
 * `if i < N goto body` decided, the function's exit after it):
 *   head: r2 += 1
 *         if r2 > r6 goto +2              (into the block)
 *         r0 += r2
 *         goto +2                         (over the block: dropped)
 *         r0 |= 0x100; exit               (the block)
 *         r0 *= 5
 *         if r2 < 20 goto head
 *   dump
 */
TEST(jit_sink_drops_a_goto_over_an_exit_block)
{
	int failures = 0, moved_count = 0, shapes = 0;
	for (size_t v = 0; v < N_LIMITS; v++)
		for (int harden = 0; harden < 2; harden++) {
			struct comb_insn p[64];
			size_t n = 0;
			p[n++] = (struct comb_insn)MOV64_IMM(0, 3);
			p[n++] = (struct comb_insn)MOV64_IMM(2, 0);
			jit_put_lddw(p, &n, 6, limits[v]);
			size_t head = n;
			p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 2, 1);
			p[n++] = (struct comb_insn)JMP_REG(COMB_JMP_JGT, 2, 6, 2);
			p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_ADD, 0, 2);
			p[n++] = (struct comb_insn)JA(2);
			size_t s = n;
			p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_OR, 0, 0x100);
			p[n++] = (struct comb_insn)EXIT();
			p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_MUL, 0, 5);
			size_t latch = n;
			p[n] = (struct comb_insn)JMP_IMM(COMB_JMP_JLT, 2, 20, (int16_t)((int64_t)head - (int64_t)n - 1));
			n++;
			jit_put_dump(p, &n);
			bool moved;
			failures += compare_and_place(p, n, harden, s, latch, &moved);
			moved_count += moved;
			shapes++;
		}
	CHECK_EQ(failures, 0);
	CHECK_EQ(moved_count, shapes);
}

/* Nested loops (Collatz's shape): the inner loop's break is a goto back to
 * the outer loop's head, outside the inner loop; the block holds a call to
 * an eBPF function (its rel32 is re-aimed from the moved place).
 *   r9 = r1; r0 = 0; r7 = 0 (outer counter); r8 = 0; r6 = limit
 *   outer: r7 += 1; if r7 > 12 goto done; r4 = r7
 *   inner: if r4 != 1 goto +4             (over the block)
 *          r1 = r7; call twice; r8 += r0  (the block)
 *          goto outer
 *          r4 = r4 odd ? 3 * r4 + 1 : r4 / 2
 *          r8 += 1; if r8 < r6 goto inner
 *          goto outer
 *   done: r1 = r9; r9 = 0; r2..r5 = 0; dump
 *   twice: r0 = r1; r0 += r1; exit
 */
TEST(jit_sink_moves_a_break_to_the_outer_loop_with_a_call)
{
	int failures = 0, moved_count = 0, shapes = 0;
	for (size_t v = 0; v < N_LIMITS; v++) {
		struct comb_insn p[64];
		size_t n = 0;
		p[n++] = (struct comb_insn)MOV64_REG(9, 1);
		p[n++] = (struct comb_insn)MOV64_IMM(0, 0);
		p[n++] = (struct comb_insn)MOV64_IMM(7, 0);
		p[n++] = (struct comb_insn)MOV64_IMM(8, 0);
		jit_put_lddw(p, &n, 6, limits[v]);
		size_t outer = n;
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 7, 1);
		size_t to_done = n++; /* if r7 > 12 goto done */
		p[n++] = (struct comb_insn)MOV64_REG(4, 7);
		size_t inner = n;
		p[n++] = (struct comb_insn)JMP_IMM(COMB_JMP_JNE, 4, 1, 4);
		size_t s = n;
		p[n++] = (struct comb_insn)MOV64_REG(1, 7);
		size_t call = n++;
		p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_ADD, 8, 0);
		p[n] = (struct comb_insn)JA((int16_t)((int64_t)outer - (int64_t)n - 1));
		n++;
		p[n++] = (struct comb_insn)MOV64_REG(5, 4);
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_RSH, 4, 1);
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_AND, 5, 1);
		p[n++] = (struct comb_insn)JMP_IMM(COMB_JMP_JEQ, 5, 0, 2);
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_MUL, 4, 6); /* odd: (r4 >> 1) * 6 + 4 */
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 4, 4);
		p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 8, 1);
		size_t latch = n;
		p[n] = (struct comb_insn)JMP_REG(COMB_JMP_JLT, 8, 6, (int16_t)((int64_t)inner - (int64_t)n - 1));
		n++;
		p[n] = (struct comb_insn)JA((int16_t)((int64_t)outer - (int64_t)n - 1));
		n++;
		p[to_done] = (struct comb_insn)JMP_IMM(COMB_JMP_JGT, 7, 12, (int16_t)(n - to_done - 1));
		p[n++] = (struct comb_insn)MOV64_REG(1, 9);
		p[n++] = (struct comb_insn)MOV64_IMM(9, 0);
		for (int r = 2; r <= 5; r++)
			p[n++] = (struct comb_insn)MOV64_IMM(r, 0);
		jit_put_dump(p, &n);
		p[call] = (struct comb_insn)CALL_LOCAL((int32_t)(n - call - 1));
		p[n++] = (struct comb_insn)MOV64_REG(0, 1);
		p[n++] = (struct comb_insn)ALU64_REG(COMB_ALU_ADD, 0, 1);
		p[n++] = (struct comb_insn)EXIT();
		bool moved;
		failures += compare_and_place(p, n, false, s, latch, &moved);
		moved_count += moved;
		shapes++;
	}
	CHECK_EQ(failures, 0);
	CHECK_EQ(moved_count, shapes);
}

/* Blocks that must stay: one that goes on inside its own loop (a hot
 * `continue` to the latch), one with a branch inside, one that falls
 * through, one outside any loop:
 *   r2 = 0; r6 = limit
 *   head: r2 += 1
 *         if r2 < r6 goto +2
 *         r0 += 7; BLOCK END               (goto latch | if r0 == 0 goto +2 | r0 ^= 0x55 | goto out)
 *         r0 *= 3
 *         if r2 < 20 goto head             (shape 3: goto +0, no loop)
 *   out:  r0 += 1; dump
 */
TEST(jit_sink_leaves_hot_and_unsuitable_blocks_in_place)
{
	int failures = 0, moved_count = 0;
	for (size_t v = 0; v < N_LIMITS; v++)
		for (int shape = 0; shape < 4; shape++) {
			struct comb_insn p[64];
			size_t n = 0;
			p[n++] = (struct comb_insn)MOV64_IMM(0, 1);
			p[n++] = (struct comb_insn)MOV64_IMM(2, 0);
			jit_put_lddw(p, &n, 6, limits[v]);
			size_t head = n;
			if (shape == 3) /* no loop: the latch below jumps forward */
				head = n + 6;
			p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 2, 1);
			p[n++] = (struct comb_insn)JMP_REG(COMB_JMP_JLT, 2, 6, 2);
			size_t s = n;
			p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 0, 7);
			if (shape == 0) /* on to the latch: stays in the loop */
				p[n] = (struct comb_insn)JA(1);
			else if (shape == 3)
				p[n] = (struct comb_insn)JA(2);
			else if (shape == 1)
				p[n] = (struct comb_insn)JMP_IMM(COMB_JMP_JEQ, 0, 0, 2);
			else
				p[n] = (struct comb_insn)ALU64_IMM(COMB_ALU_XOR, 0, 0x55);
			n++;
			p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_MUL, 0, 3);
			size_t latch = n;
			p[n] = (struct comb_insn)JMP_IMM(COMB_JMP_JLT, 2, 20, (int16_t)((int64_t)head - (int64_t)n - 1));
			n++;
			p[n++] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 0, 1);
			jit_put_dump(p, &n);
			bool moved;
			failures += compare_and_place(p, n, false, s, latch, &moved);
			moved_count += moved;
		}
	CHECK_EQ(failures, 0);
	CHECK_EQ(moved_count, 0);
}
