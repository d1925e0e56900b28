/* src/jit/jit_live.c - is an eBPF register dead from an instruction on?
 *
 * The JIT asks this before it drops work whose only effect is a register
 * value (saving rax/rdx around a division, the scratch copy of
 * `rX = rY; rX &= K; if rX == 0`). The answer comes from a short forward
 * walk over the decoded program: the register is dead when every path
 * writes it before reading it. Conditional branches fork the walk, `goto`
 * follows its target, and the walk gives up (answers "live") on anything it
 * does not model (calls to other eBPF functions, callx, tail calls), when it
 * falls off the program, or after a fixed budget of instructions, so the
 * answer "dead" is always a proof and the cost per question is bounded.
 *
 * EXIT reads r0 and, in a called function, the caller sees r1-r5 as the
 * callee left them (the interpreter shares one register file), so at EXIT
 * only r6-r9 are dead: the caller restores its own.
 */
#include "jit/jit.h"
#include "vm/handlers.h"

#define LIVE_WALK_BUDGET 64

enum walk_step { STEP_NEXT, STEP_BRANCH, STEP_GOTO, STEP_EXIT, STEP_UNKNOWN };

/* Position of k inside one width's COMB_ALU_BINOPS list, or -1. */
static int alu_index(enum comb_handler_kind k)
{
	if (k >= H_ADD64_K && k <= H_NEG64)
		return (int)(k - H_ADD64_K);
	if (k >= H_ADD32_K && k <= H_NEG32)
		return (int)(k - H_ADD32_K);
	return -1;
}

#define BIT(r) ((uint16_t)(1u << ((r) & 15)))
#define ALU_MOV_K (H_MOV64_K - H_ADD64_K)
#define ALU_MOV_X (H_MOV64_X - H_ADD64_K)
#define ALU_NEG (H_NEG64 - H_ADD64_K)

/* What instruction d reads and (fully) writes, and where control goes. */
static enum walk_step classify(const struct dinsn *d, uint16_t *reads, uint16_t *writes)
{
	enum comb_handler_kind k = (enum comb_handler_kind)d->kind;
	*reads = 0;
	*writes = 0;
	int a = alu_index(k);
	if (a >= 0) {
		*writes = BIT(d->dst);
		if (a == ALU_MOV_X)
			*reads = BIT(d->src);
		else if (a == ALU_NEG || (a != ALU_MOV_K && !(a & 1)))
			*reads = BIT(d->dst);
		else if (a != ALU_MOV_K)
			*reads = BIT(d->dst) | BIT(d->src);
		return STEP_NEXT;
	}
	switch (k) {
	case H_MOVSX64_8: case H_MOVSX64_16: case H_MOVSX64_32: case H_MOVSX32_8: case H_MOVSX32_16:
	case H_LDX_B: case H_LDX_H: case H_LDX_W: case H_LDX_DW: case H_LDXS_B: case H_LDXS_H: case H_LDXS_W:
		*reads = BIT(d->src);
		*writes = BIT(d->dst);
		return STEP_NEXT;
	case H_LE16: case H_LE32: case H_BE16: case H_BE32: case H_BE64:
		*reads = *writes = BIT(d->dst);
		return STEP_NEXT;
	case H_NOP: return STEP_NEXT;
	case H_LDDW: *writes = BIT(d->dst); return STEP_NEXT;
	case H_ST_B: case H_ST_H: case H_ST_W: case H_ST_DW: *reads = BIT(d->dst); return STEP_NEXT;
	case H_STX_B: case H_STX_H: case H_STX_W: case H_STX_DW:
		*reads = BIT(d->dst) | BIT(d->src);
		return STEP_NEXT;
	case H_JA: case H_GOTOL: return STEP_GOTO;
	case H_EXIT: *reads = 0x3f; return STEP_EXIT; /* r0-r5, see above */
	case H_CALL_HELPER:
		*reads = 0x3e;  /* r1-r5 */
		*writes = 0x01; /* r0 */
		return STEP_NEXT;
	default:
		break;
	}
	if (k >= H_ATOMIC32_ADD && k <= H_ATOMIC64_CMPXCHG) {
		*reads = BIT(d->dst) | BIT(d->src) | BIT(0);
		return STEP_NEXT;
	}
	if ((k >= H_JEQ64_K && k <= H_JSET64_X) || (k >= H_JEQ32_K && k <= H_JSET32_X)) {
		bool reg = ((k - (k <= H_JSET64_X ? H_JEQ64_K : H_JEQ32_K)) & 1) != 0;
		*reads = BIT(d->dst) | (reg ? BIT(d->src) : 0);
		return STEP_BRANCH;
	}
	return STEP_UNKNOWN;
}

static bool dead_from(const struct dinsn *code, size_t count, size_t j, uint16_t bit, int *budget)
{
	for (;;) {
		if (j >= count || --*budget < 0)
			return false;
		const struct dinsn *d = &code[j];
		uint16_t reads, writes;
		enum walk_step step = classify(d, &reads, &writes);
		if (step == STEP_UNKNOWN || (reads & bit))
			return false;
		if (writes & bit)
			return true;
		switch (step) {
		case STEP_NEXT: j += 1 + (d->kind == H_LDDW); break;
		case STEP_GOTO: j = j + 1 + (size_t)(int64_t)(d->kind == H_JA ? d->off : d->imm); break;
		case STEP_EXIT: return true; /* r6-r9 (r0-r5 were read) */
		default: /* STEP_BRANCH */
			if (!dead_from(code, count, j + 1 + (size_t)(int64_t)d->off, bit, budget))
				return false;
			j++;
			break;
		}
	}
}

bool comb_jit_reg_dead_at(const struct dinsn *code, size_t count, size_t j, int reg)
{
	int budget = LIVE_WALK_BUDGET;
	return reg >= 0 && reg < 10 && dead_from(code, count, j, BIT(reg), &budget);
}
