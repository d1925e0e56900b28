/* src/vm/fuse.c - superinstructions for the fast engine.
 *
 * eBPF is a two-operand ISA, so clang writes "a = b op c" as the pair
 * "a = b; a op= c". In an interpreter each register write goes through
 * memory, and the second instruction waits for the first one's store. The
 * fuser rewrites the first slot of such a pair into one three-operand handler
 * that does both and skips the second slot. The second slot keeps its own
 * handler, so a jump that lands on it still runs just that instruction; the
 * instruction indices (and so jump offsets) do not change. The checked engine
 * is left alone: its budget and error reports count original instructions.
 */
#include "vm/internal.h"

/* The fused kind for ALU kind `alu` (a K/X binop of the given width), or -1. */
static int fused_kind_for(uint64_t alu, bool *is64, bool *reg)
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

void comb_fuse(struct dinsn *code, size_t count)
{
	for (size_t i = 0; i + 1 < count; i++) {
		struct dinsn *mov = &code[i], *alu = &code[i + 1];
		if (mov->kind == H_LDDW) {
			i++;
			continue;
		}
		bool mov64 = mov->kind == H_MOV64_X, is64, reg;
		if (!mov64 && mov->kind != H_MOV32_X)
			continue;
		int fused = fused_kind_for(alu->kind, &is64, &reg);
		/* Same destination; a 32-bit move followed by a 64-bit op is not
		 * the same as the 64-bit op on the source. */
		if (fused < 0 || alu->dst != mov->dst || (is64 && !mov64))
			continue;
		int32_t operand = alu->imm;
		if (reg)
			operand = alu->src == mov->dst ? mov->src : alu->src;
		mov->kind = (uint64_t)fused;
		mov->imm = operand;
	}
}
