/* src/jit/jit_sink.c - cold blocks out of the loops they leave.
 *
 * clang puts a loop's way out (the code after a `break`, a function's exit)
 * in the middle of the loop: between the latch's test and the body, or
 * after a test in the body, and the loop then jumps over it on every turn.
 * After the emission pass, a block B = [s, e] is moved after all the other
 * code ("sunk") when
 *  - only s - 1 falls into it, and s - 1's branch jumps over it (to e + 1);
 *  - no instruction of B but e branches, and e does not fall through (a goto
 *    or exit), so B's own code needs nothing after it;
 *  - B leaves the innermost loop around it (exit, or a goto outside it).
 * s - 1's conditional jump is then inverted to reach B out of line, and a
 * goto to e + 1 (the next instruction in the layout now) has no code
 * (BR_ELIDE): the loop runs straight through, one taken branch fewer per
 * turn. Only where code lands changes, never its bytes: blocks are chosen on
 * the emitted branches (flags, target) and steps (place: fused groups are
 * never split), and the layout, the relaxation and compact() in jit.c place
 * sunk instructions last, in their order (c->sunk: the blocks). The candidates
 * are the branches (c->branches, listed before: sinking keeps which
 * instructions have a branch).
 */
#include "jit/jit_internal.h"

#define SINK_MAX_INSNS 16  /* longest block moved */
#define SINK_LOOP_SCAN 512 /* how far after a block its loop's latch is looked for */

/* Instruction k's jump target in the program (not as emitted: peepholes
 * may re-aim a latch), when it is a jump. */
static bool jump_target(const struct jit_compiler *c, size_t k, size_t *t)
{
	const struct dinsn *d = &c->code[k];
	if (d->kind < H_JA || d->kind > H_JSET32_X)
		return false;
	*t = k + 1 + (size_t)(int64_t)(d->kind == H_GOTOL ? d->imm : d->off);
	return true;
}

/* The innermost loop around j..e: the first backward jump after e that goes
 * to j or before (head *h, latch *k). Scans at most SINK_LOOP_SCAN
 * instructions, charged to *budget. */
static bool enclosing_loop(const struct jit_compiler *c, size_t j, size_t e, size_t *h, size_t *k,
			   size_t *budget)
{
	const size_t count = c->prog->count;
	size_t end = e + 1 + SINK_LOOP_SCAN < count ? e + 1 + SINK_LOOP_SCAN : count;
	for (size_t i = e + 1; i < end && *budget; i++, (*budget)--) {
		size_t t;
		if (c->code[i].kind == H_LDDW)
			i++; /* its value slot */
		else if (jump_target(c, i, &t) && t <= j) {
			*h = t;
			*k = i;
			return true;
		}
	}
	return false;
}

/* Does the block s..e (s - 1 = j jumps over it) qualify (see above)? */
static bool cold_block(const struct jit_compiler *c, size_t j, size_t s, size_t e, size_t *budget)
{
	bool exits = c->code[e].kind == H_EXIT && !c->flags[e];
	if (!exits && c->flags[e] != BR_JMP)
		return false;
	if (!(c->place[s] & PLACE_STEP) || !(c->place[e] & PLACE_STEP) ||
	    (e + 1 < c->prog->count && !(c->place[e + 1] & PLACE_STEP)))
		return false;
	for (size_t k = s; k < e; k++)
		if (c->flags[k] || c->code[k].kind == H_EXIT)
			return false;
	size_t head, latch;
	if (!enclosing_loop(c, j, e, &head, &latch, budget))
		return false;
	return exits || c->target[e] < head || c->target[e] > latch;
}

/* j's branch reaches e + 1 over the block s..e: after the move, a conditional
 * one is inverted to reach the block, a goto (e + 1 follows j in the layout
 * now: no later block starts before e + 2) has no code. */
static void sink_block(struct jit_compiler *c, size_t j, size_t s)
{
	if (c->flags[j] & BR_JCC) {
		c->flags[j] ^= (uint8_t)(1 << BR_CC_SHIFT); /* x86 conditions pair by the low bit */
		c->target[j] = (uint32_t)s;
	} else {
		c->flags[j] |= BR_ELIDE;
	}
}

size_t jit_sink_cold_blocks(struct jit_compiler *c)
{
	const size_t count = c->prog->count;
	size_t budget = 4 * count + 4096, moved = 0;
	size_t next = 0; /* the first instruction not inside a sunk block */
	for (size_t n = 0; n < c->nbranches && budget; n++) {
		size_t j = c->branches[n];
		if (j + 2 >= count)
			break;
		uint8_t f = c->flags[j];
		size_t s = j + 1, t = c->target[j];
		if (j < next || (f & BR_ELIDE) || t <= s || t - s > SINK_MAX_INSNS)
			continue;
		if (cold_block(c, j, s, t - 1, &budget)) {
			sink_block(c, j, s);
			c->sunk[2 * moved] = (uint32_t)s; /* (blocks and their jumps: at most count / 2) */
			c->sunk[2 * moved + 1] = (uint32_t)t;
			moved++;
			next = t;
		}
	}
	c->nsunk = moved;
	return moved;
}
