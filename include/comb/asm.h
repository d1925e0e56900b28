/* comb/asm.h - text forms of eBPF programs.
 *
 * The assembler reads the syntax of the BPF conformance suite
 * (`mov32 %r0, 1`, `ldxb %r0, [%r1+2]`, `jeq %r1, 3, +2`, labels, `call local f`).
 * The disassembler prints either llvm-objdump's BPF syntax
 * (`r0 = *(u32 *)(r1 + 0x4)`) or the conformance syntax; assembling the
 * conformance form of any instruction gives back the same bytes.
 */
#ifndef COMB_ASM_H
#define COMB_ASM_H

#include <stddef.h>
#include <stdint.h>
#include "isa.h"

#ifdef __cplusplus
extern "C" {
#endif

enum comb_syntax {
	COMB_SYNTAX_LLVM = 0,        /* llvm-objdump -d of a BPF object */
	COMB_SYNTAX_CONFORMANCE = 1, /* the conformance suite's assembler */
};

/* Where and why assembly failed: line and column are 1-based. */
struct comb_asm_error {
	int line;
	int column;
	char message[256];
};

/* Assemble NUL-terminated source text. On success returns 0 and a malloc'd
 * array in *insns (free() it) with its slot count in *count. On failure
 * returns -EINVAL and fills err (may be NULL). */
int comb_asm(const char *source, struct comb_insn **insns, size_t *count, struct comb_asm_error *err);

/* Disassemble the instruction at index idx (an LDDW consumes idx and idx+1)
 * into buf. Returns the number of slots consumed (1 or 2), or -EINVAL for an
 * instruction that cannot be decoded (buf then holds a description such as
 * "invalid opcode 0xff"). Output never exceeds buf_len-1 characters. */
int comb_disasm_insn(const struct comb_insn *insns, size_t count, size_t idx,
		     enum comb_syntax syntax, char *buf, size_t buf_len);

#ifdef __cplusplus
}
#endif
#endif
