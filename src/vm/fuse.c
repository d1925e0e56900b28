/* src/vm/fuse.c - superinstructions for the fast engine.
 *
 * eBPF is a two-operand ISA, so clang writes "a = b op c" as the pair
 * "a = b; a op= c". In an interpreter every register write goes through
 * memory and every instruction pays a dispatch, so the fuser rewrites the
 * first slot of a few common pairs into one handler that does both and
 * skips the second slot:
 *   - "rA = rB; rA op= C"          -> "rA = rB op C"
 *   - "rA = rB; rC = rD"           -> both moves
 *   - "if cond goto X; goto Y"     -> one two-way branch
 * The second slot keeps its own handler, so a jump that lands on it runs just
 * that instruction; instruction indices, and so jump offsets, do not change.
 * Pairs are recognised on the unfused program (orig), so a rewritten first
 * slot never feeds another rewrite. The checked engine is left alone: its
 * budget and error reports count original instructions.
 */
#include "vm/internal.h"

/* The fused kind for ALU kind `alu` (a K/X binop of the given width), or -1. */
static int fused_alu_kind(uint64_t alu, bool *is64, bool *reg)
{
	static const struct { enum comb_handler_kind alu, fused; } map[] = {
#define PAIR(OP) { H_##OP##64_K, H_FUSED_##OP##64_K }, { H_##OP##64_X, H_FUSED_##OP##64_X }, \
		 { H_##OP##32_K, H_FUSED_##OP##32_K }, { H_##OP##32_X, H_FUSED_##OP##32_X },
		PAIR(ADD) PAIR(SUB) PAIR(MUL) PAIR(OR) PAIR(AND) PAIR(XOR) PAIR(LSH) PAIR(RSH) PAIR(ARSH)
#undef PAIR
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].alu != alu)
			continue;
		*is64 = (i / 2) % 2 == 0;
		*reg = i % 2 == 1;
		return map[i].fused;
	}
	return -1;
}

/* "rA = rB; rA op= C": same destination; a 32-bit move followed by a 64-bit
 * op is not the 64-bit op on the source, so that mix is left alone. */
static bool fuse_mov_alu(struct dinsn *first, const struct dinsn *mov, const struct dinsn *alu)
{
	bool mov64 = mov->kind == H_MOV64_X, is64, reg;
	int fused = fused_alu_kind(alu->kind, &is64, &reg);
	if (fused < 0 || alu->dst != mov->dst || (is64 && !mov64))
		return false;
	first->kind = (uint64_t)fused;
	first->imm = alu->imm;
	if (reg) /* C is a register: it may be A itself, which now holds B */
		first->imm = alu->src == mov->dst ? mov->src : alu->src;
	return true;
}

/* "rA = rB; rC = rD" of one width: C and D go in imm; if D is A, the
 * second move copies B. */
static bool fuse_mov_pair(struct dinsn *first, const struct dinsn *mov, const struct dinsn *next)
{
	if (next->kind != mov->kind)
		return false;
	uint8_t second_src = next->src == mov->dst ? mov->src : next->src;
	first->kind = mov->kind == H_MOV64_X ? H_MOV64_X_PAIR : H_MOV32_X_PAIR;
	first->imm = next->dst | (second_src << 8);
	return true;
}

static bool fuse_cond_ja(struct dinsn *first, const struct dinsn *cond, const struct dinsn *next)
{
	if (next->kind != H_JA)
		return false;
	if (cond->kind >= H_JEQ64_K && cond->kind <= H_JSET64_X)
		first->kind = H_JEQ64_K_JA + (cond->kind - H_JEQ64_K);
	else if (cond->kind >= H_JEQ32_K && cond->kind <= H_JSET32_X)
		first->kind = H_JEQ32_K_JA + (cond->kind - H_JEQ32_K);
	else
		return false;
	return true;
}

void comb_fuse(struct dinsn *code, const struct dinsn *orig, size_t count)
{
	for (size_t i = 0; i + 1 < count; i++) {
		const struct dinsn *cur = &orig[i], *next = &orig[i + 1];
		if (cur->kind == H_LDDW) {
			i++;
			continue;
		}
		if (cur->kind == H_MOV64_X || cur->kind == H_MOV32_X) {
			if (!fuse_mov_alu(&code[i], cur, next))
				fuse_mov_pair(&code[i], cur, next);
		} else {
			fuse_cond_ja(&code[i], cur, next);
		}
	}
}
