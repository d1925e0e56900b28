/* asm_names.h - names of eBPF operations shared by the assembler and the
 * disassembler (internal to src/isa). Each lookup takes the opcode field
 * value (e.g. COMB_ALU_ADD) and returns NULL for values without a name.
 */
#ifndef COMB_ISA_ASM_NAMES_H
#define COMB_ISA_ASM_NAMES_H

#include "comb/isa.h"

/* Conformance syntax: "add", "jeq", "dw", "map_fd", "fetch add" parts. */
const char *comb_alu_name(unsigned op);     /* add sub ... arsh (not neg/end) */
const char *comb_jmp_name(unsigned op);     /* jeq ... jsle (conditional only) */
const char *comb_size_suffix(unsigned size);/* w h b dw */
const char *comb_pseudo_name(unsigned src); /* lddw pseudo sources 1..6 */
const char *comb_atomic_name(int32_t imm);  /* add or and xor xchg cmpxchg; add|fetch etc. */

/* llvm syntax: "+=", "s>", "u32", "s16". */
const char *comb_alu_llvm_op(unsigned op);
const char *comb_jmp_llvm_op(unsigned op);
const char *comb_size_llvm(unsigned size);
const char *comb_size_llvm_signed(unsigned size);

#endif
