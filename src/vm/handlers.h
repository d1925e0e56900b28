/* src/vm/handlers.h - the interpreter's instruction handlers, as one list.
 *
 * The decoder (decode.c) turns each instruction into one of these kinds, with
 * operands pre-processed (shift amounts masked, division by constant 0 or -1
 * turned into the simple operation it amounts to, byte swaps split by width).
 * Each engine (interp.c) builds a table kind -> label address from the same
 * list, so a handler missing from an engine is a compile error.
 */
#ifndef COMB_VM_HANDLERS_H
#define COMB_VM_HANDLERS_H

/* ALU operations that exist with K and X sources in both widths. */
#define COMB_ALU_BINOPS(X, W) \
	X(ADD##W##_K) X(ADD##W##_X) X(SUB##W##_K) X(SUB##W##_X) X(MUL##W##_K) X(MUL##W##_X) \
	X(DIV##W##_K) X(DIV##W##_X) X(MOD##W##_K) X(MOD##W##_X) X(OR##W##_K) X(OR##W##_X)   \
	X(AND##W##_K) X(AND##W##_X) X(XOR##W##_K) X(XOR##W##_X) X(LSH##W##_K) X(LSH##W##_X) \
	X(RSH##W##_K) X(RSH##W##_X) X(ARSH##W##_K) X(ARSH##W##_X) X(MOV##W##_K) X(MOV##W##_X) \
	X(SDIV##W##_K) X(SDIV##W##_X) X(SMOD##W##_K) X(SMOD##W##_X) X(NEG##W)

#define COMB_JMP_CONDS(X, W) \
	X(JEQ##W##_K) X(JEQ##W##_X) X(JNE##W##_K) X(JNE##W##_X) X(JGT##W##_K) X(JGT##W##_X)       \
	X(JGE##W##_K) X(JGE##W##_X) X(JLT##W##_K) X(JLT##W##_X) X(JLE##W##_K) X(JLE##W##_X)       \
	X(JSGT##W##_K) X(JSGT##W##_X) X(JSGE##W##_K) X(JSGE##W##_X) X(JSLT##W##_K) X(JSLT##W##_X) \
	X(JSLE##W##_K) X(JSLE##W##_X) X(JSET##W##_K) X(JSET##W##_X)

#define COMB_ATOMIC_OPS(X, W) \
	X(ATOMIC##W##_ADD) X(ATOMIC##W##_OR) X(ATOMIC##W##_AND) X(ATOMIC##W##_XOR)                 \
	X(ATOMIC##W##_FETCH_ADD) X(ATOMIC##W##_FETCH_OR) X(ATOMIC##W##_FETCH_AND)                 \
	X(ATOMIC##W##_FETCH_XOR) X(ATOMIC##W##_XCHG) X(ATOMIC##W##_CMPXCHG)

/* Superinstructions (fast engine only, see fuse.c): "rA = rB; rA op= C"
 * fused into the three-operand "rA = rB op C" (C in imm: a constant, or the
 * index of a register in the _X forms). */
#define COMB_FUSED_OPS(X, W) \
	X(FUSED_ADD##W##_K) X(FUSED_ADD##W##_X) X(FUSED_SUB##W##_K) X(FUSED_SUB##W##_X)     \
	X(FUSED_MUL##W##_K) X(FUSED_MUL##W##_X) X(FUSED_OR##W##_K) X(FUSED_OR##W##_X)       \
	X(FUSED_AND##W##_K) X(FUSED_AND##W##_X) X(FUSED_XOR##W##_K) X(FUSED_XOR##W##_X)     \
	X(FUSED_LSH##W##_K) X(FUSED_LSH##W##_X) X(FUSED_RSH##W##_K) X(FUSED_RSH##W##_X)     \
	X(FUSED_ARSH##W##_K) X(FUSED_ARSH##W##_X)

/* "if cond goto A; goto B" (a loop's exit test followed by its back edge):
 * one handler takes either branch; B's offset is read from the second slot. */
#define COMB_JMP_CONDS_THEN_JA(X, W) \
	X(JEQ##W##_K_JA) X(JEQ##W##_X_JA) X(JNE##W##_K_JA) X(JNE##W##_X_JA)             \
	X(JGT##W##_K_JA) X(JGT##W##_X_JA) X(JGE##W##_K_JA) X(JGE##W##_X_JA)             \
	X(JLT##W##_K_JA) X(JLT##W##_X_JA) X(JLE##W##_K_JA) X(JLE##W##_X_JA)             \
	X(JSGT##W##_K_JA) X(JSGT##W##_X_JA) X(JSGE##W##_K_JA) X(JSGE##W##_X_JA)         \
	X(JSLT##W##_K_JA) X(JSLT##W##_X_JA) X(JSLE##W##_K_JA) X(JSLE##W##_X_JA)         \
	X(JSET##W##_K_JA) X(JSET##W##_X_JA)

#define COMB_HANDLERS(X)                                                                     \
	COMB_ALU_BINOPS(X, 64) COMB_ALU_BINOPS(X, 32)                                        \
	X(MOVSX64_8) X(MOVSX64_16) X(MOVSX64_32) X(MOVSX32_8) X(MOVSX32_16)                  \
	X(LE16) X(LE32) X(BE16) X(BE32) X(BE64) X(NOP)                                       \
	X(LDDW)                                                                              \
	X(LDX_B) X(LDX_H) X(LDX_W) X(LDX_DW) X(LDXS_B) X(LDXS_H) X(LDXS_W)                   \
	X(ST_B) X(ST_H) X(ST_W) X(ST_DW) X(STX_B) X(STX_H) X(STX_W) X(STX_DW)                \
	COMB_ATOMIC_OPS(X, 32) COMB_ATOMIC_OPS(X, 64)                                        \
	X(LD_ABS_B) X(LD_ABS_H) X(LD_ABS_W) X(LD_IND_B) X(LD_IND_H) X(LD_IND_W)              \
	X(JA) X(GOTOL) COMB_JMP_CONDS(X, 64) COMB_JMP_CONDS(X, 32)                           \
	X(CALL_HELPER) X(CALL_LOCAL) X(CALLX) X(EXIT) X(POISONED) X(TAIL_CALL) X(MISSING_HELPER)                           \
	COMB_FUSED_OPS(X, 64) COMB_FUSED_OPS(X, 32)                                          \
	COMB_JMP_CONDS_THEN_JA(X, 64) COMB_JMP_CONDS_THEN_JA(X, 32)                          \
	X(MOV64_X_PAIR) X(MOV32_X_PAIR)

#define COMB_HANDLER_ENUM(name) H_##name,
enum comb_handler_kind { COMB_HANDLERS(COMB_HANDLER_ENUM) H__COUNT };
#undef COMB_HANDLER_ENUM

#endif
