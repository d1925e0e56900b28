/* tests/unit/insn_build.h - build eBPF programs as struct comb_insn arrays.
 *
 * Each macro expands to a brace initializer (not a compound literal), so the
 * macros can be listed inside an array initializer:
 *     struct comb_insn prog[] = { MOV64_IMM(0, 1), LDDW(1, 0x1122334455667788), EXIT() };
 * LDDW expands to two initializers (its two slots). Register numbers are plain
 * integers (0..10); op/size/mode arguments are the COMB_* constants of
 * include/comb/isa.h. The tests use these instead of the assembler so that
 * they depend only on the encoding in the RFC.
 */
#ifndef COMB_TEST_INSN_BUILD_H
#define COMB_TEST_INSN_BUILD_H

#include <stdint.h>
#include "comb/isa.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One raw slot. */
#define INSN(c, d, s, o, i)                                                                 \
	{ .code = (uint8_t)(c), .dst = (d), .src = (s), .off = (int16_t)(o),               \
	  .imm = (int32_t)(i) }

/* Arithmetic: K form (immediate) and X form (register). */
#define ALU64_IMM(op, d, i)  INSN(COMB_CLS_ALU64 | COMB_SRC_K | (op), d, 0, 0, i)
#define ALU64_REG(op, d, s)  INSN(COMB_CLS_ALU64 | COMB_SRC_X | (op), d, s, 0, 0)
#define ALU32_IMM(op, d, i)  INSN(COMB_CLS_ALU | COMB_SRC_K | (op), d, 0, 0, i)
#define ALU32_REG(op, d, s)  INSN(COMB_CLS_ALU | COMB_SRC_X | (op), d, s, 0, 0)
#define MOV64_IMM(d, i)      ALU64_IMM(COMB_ALU_MOV, d, i)
#define MOV64_REG(d, s)      ALU64_REG(COMB_ALU_MOV, d, s)
#define MOV32_IMM(d, i)      ALU32_IMM(COMB_ALU_MOV, d, i)
#define MOV32_REG(d, s)      ALU32_REG(COMB_ALU_MOV, d, s)
#define NEG64(d)             ALU64_IMM(COMB_ALU_NEG, d, 0)
#define NEG32(d)             ALU32_IMM(COMB_ALU_NEG, d, 0)
/* Signed division and modulo (offset 1). */
#define SDIV64_IMM(d, i)     INSN(COMB_CLS_ALU64 | COMB_SRC_K | COMB_ALU_DIV, d, 0, 1, i)
#define SDIV64_REG(d, s)     INSN(COMB_CLS_ALU64 | COMB_SRC_X | COMB_ALU_DIV, d, s, 1, 0)
#define SMOD64_IMM(d, i)     INSN(COMB_CLS_ALU64 | COMB_SRC_K | COMB_ALU_MOD, d, 0, 1, i)
#define SMOD64_REG(d, s)     INSN(COMB_CLS_ALU64 | COMB_SRC_X | COMB_ALU_MOD, d, s, 1, 0)
#define SDIV32_REG(d, s)     INSN(COMB_CLS_ALU | COMB_SRC_X | COMB_ALU_DIV, d, s, 1, 0)
/* Sign-extending moves: bits is 8, 16 or 32. */
#define MOVSX64(d, s, bits)  INSN(COMB_CLS_ALU64 | COMB_SRC_X | COMB_ALU_MOV, d, s, bits, 0)
#define MOVSX32(d, s, bits)  INSN(COMB_CLS_ALU | COMB_SRC_X | COMB_ALU_MOV, d, s, bits, 0)
/* Byte order: le/be convert from host order (ALU), bswap swaps (ALU64). */
#define LE(d, bits)          INSN(COMB_CLS_ALU | COMB_SRC_K | COMB_ALU_END, d, 0, 0, bits)
#define BE(d, bits)          INSN(COMB_CLS_ALU | COMB_SRC_X | COMB_ALU_END, d, 0, 0, bits)
#define BSWAP(d, bits)       INSN(COMB_CLS_ALU64 | COMB_SRC_K | COMB_ALU_END, d, 0, 0, bits)

/* 64-bit immediate load: two slots. */
#define LDDW(d, v)                                                                          \
	INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, d, 0, 0, (uint32_t)(uint64_t)(v)), \
	INSN(0, 0, 0, 0, (uint32_t)((uint64_t)(v) >> 32))
/* d = the address of map idx of the program's map list (two slots). */
#define MAP_LDDW(d, idx) \
	INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, d, COMB_PSEUDO_MAP_IDX, 0, idx), INSN(0, 0, 0, 0, 0)

/* Memory. size is COMB_SIZE_B/H/W/DW. */
#define LDX_MEM(size, d, s, o)   INSN(COMB_CLS_LDX | COMB_MODE_MEM | (size), d, s, o, 0)
#define LDX_MEMSX(size, d, s, o) INSN(COMB_CLS_LDX | COMB_MODE_MEMSX | (size), d, s, o, 0)
#define ST_MEM(size, d, o, i)    INSN(COMB_CLS_ST | COMB_MODE_MEM | (size), d, 0, o, i)
#define STX_MEM(size, d, s, o)   INSN(COMB_CLS_STX | COMB_MODE_MEM | (size), d, s, o, 0)
#define ATOMIC(size, d, s, o, op) INSN(COMB_CLS_STX | COMB_MODE_ATOMIC | (size), d, s, o, op)

/* Legacy packet loads into r0. */
#define LD_ABS(size, i)     INSN(COMB_CLS_LD | COMB_MODE_ABS | (size), 0, 0, 0, i)
#define LD_IND(size, s, i)  INSN(COMB_CLS_LD | COMB_MODE_IND | (size), 0, s, 0, i)

/* Control flow. */
#define JMP_IMM(op, d, i, o)   INSN(COMB_CLS_JMP | COMB_SRC_K | (op), d, 0, o, i)
#define JMP_REG(op, d, s, o)   INSN(COMB_CLS_JMP | COMB_SRC_X | (op), d, s, o, 0)
#define JMP32_IMM(op, d, i, o) INSN(COMB_CLS_JMP32 | COMB_SRC_K | (op), d, 0, o, i)
#define JMP32_REG(op, d, s, o) INSN(COMB_CLS_JMP32 | COMB_SRC_X | (op), d, s, o, 0)
#define JA(o)                  INSN(COMB_CLS_JMP | COMB_JMP_JA, 0, 0, o, 0)
#define GOTOL(i)               INSN(COMB_CLS_JMP32 | COMB_JMP_JA, 0, 0, 0, i)
#define CALL_HELPER(id)        INSN(COMB_CLS_JMP | COMB_JMP_CALL, 0, COMB_CALL_HELPER, 0, id)
#define CALL_LOCAL(rel)        INSN(COMB_CLS_JMP | COMB_JMP_CALL, 0, COMB_CALL_LOCAL, 0, rel)
#define CALLX(d)               INSN(COMB_CLS_JMP | COMB_SRC_X | COMB_JMP_CALL, d, 0, 0, 0)
#define EXIT()                 INSN(COMB_CLS_JMP | COMB_JMP_EXIT, 0, 0, 0, 0)

/* Three slots: continue if reg == imm, else exit with r0 = code. Lets a
 * program check several registers and report which check failed. */
#define ASSERT_REG_EQ(reg, i, code)                                                         \
	JMP_IMM(COMB_JMP_JEQ, reg, i, 2), MOV64_IMM(0, code), EXIT()

#endif
