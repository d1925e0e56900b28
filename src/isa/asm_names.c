/* asm_names.c - name tables for the assembler and disassembler.
 * Tables are indexed by the opcode field shifted down; lookups bound-check so
 * a caller may pass any decoded value.
 */
#include <stddef.h>

#include "isa/asm_names.h"

#define TABLE_LOOKUP(table, index) \
	((index) < sizeof(table) / sizeof((table)[0]) ? (table)[index] : NULL)

static const char *const alu_names[16] = {
	"add", "sub", "mul", "div", "or", "and", "lsh", "rsh",
	NULL,  "mod", "xor", "mov", "arsh", NULL,
};
static const char *const alu_llvm_ops[16] = {
	"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=",
	NULL, "%=", "^=", "=",  "s>>=", NULL,
};
static const char *const jmp_names[16] = {
	NULL, "jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge",
	NULL, NULL,  "jlt", "jle", "jslt", "jsle",
};
static const char *const jmp_llvm_ops[16] = {
	NULL, "==", ">", ">=", "&", "!=", "s>", "s>=", NULL, NULL, "<", "<=", "s<", "s<=",
};
static const char *const size_suffixes[4] = { "w", "h", "b", "dw" };
static const char *const size_llvm[4] = { "u32", "u16", "u8", "u64" };
static const char *const size_llvm_signed[4] = { "s32", "s16", "s8", "s64" };
static const char *const pseudo_names[7] = {
	NULL, "map_fd", "map_value", "btf_id", "code", "map_idx", "map_idx_value",
};

const char *comb_alu_name(unsigned op)
{
	return TABLE_LOOKUP(alu_names, op >> 4);
}

const char *comb_alu_llvm_op(unsigned op)
{
	return TABLE_LOOKUP(alu_llvm_ops, op >> 4);
}

const char *comb_jmp_name(unsigned op)
{
	return TABLE_LOOKUP(jmp_names, op >> 4);
}

const char *comb_jmp_llvm_op(unsigned op)
{
	return TABLE_LOOKUP(jmp_llvm_ops, op >> 4);
}

const char *comb_size_suffix(unsigned size)
{
	return TABLE_LOOKUP(size_suffixes, size >> 3);
}

const char *comb_size_llvm(unsigned size)
{
	return TABLE_LOOKUP(size_llvm, size >> 3);
}

const char *comb_size_llvm_signed(unsigned size)
{
	return TABLE_LOOKUP(size_llvm_signed, size >> 3);
}

const char *comb_pseudo_name(unsigned src)
{
	return TABLE_LOOKUP(pseudo_names, src);
}

/* add/or/and/xor with or without the fetch bit, xchg, cmpxchg: the name of the
 * operation without the fetch bit ("add" for both 0x00 and 0x01). */
const char *comb_atomic_name(int32_t imm)
{
	switch (imm) {
	case COMB_ATOMIC_XCHG:
		return "xchg";
	case COMB_ATOMIC_CMPXCHG:
		return "cmpxchg";
	case COMB_ATOMIC_ADD:
	case COMB_ATOMIC_ADD | COMB_ATOMIC_FETCH:
	case COMB_ATOMIC_OR:
	case COMB_ATOMIC_OR | COMB_ATOMIC_FETCH:
	case COMB_ATOMIC_AND:
	case COMB_ATOMIC_AND | COMB_ATOMIC_FETCH:
	case COMB_ATOMIC_XOR:
	case COMB_ATOMIC_XOR | COMB_ATOMIC_FETCH:
		return comb_alu_name((unsigned)imm & 0xf0);
	default:
		return NULL;
	}
}
