/* comb/isa.h - the eBPF instruction set (RFC 9669) as data.
 *
 * An instruction is the 8-byte slot the kernel and clang use (struct comb_insn
 * has the same layout as struct bpf_insn). LDDW occupies two slots. The
 * constants below name the fields of the opcode byte; comb_insn_validate()
 * checks a whole program the way a loader must before anything runs it.
 */
#ifndef COMB_ISA_H
#define COMB_ISA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct comb_insn {
	uint8_t code;    /* opcode: class | op/size | source/mode */
	uint8_t dst : 4; /* destination register */
	uint8_t src : 4; /* source register or pseudo source */
	int16_t off;     /* signed offset */
	int32_t imm;     /* signed immediate */
};

/* Instruction classes (low 3 bits). */
enum {
	COMB_CLS_LD = 0x00, COMB_CLS_LDX = 0x01, COMB_CLS_ST = 0x02, COMB_CLS_STX = 0x03,
	COMB_CLS_ALU = 0x04, COMB_CLS_JMP = 0x05, COMB_CLS_JMP32 = 0x06, COMB_CLS_ALU64 = 0x07,
};
#define COMB_CLASS(code) ((code) & 0x07)

/* Arithmetic and jump: source bit and operation (high 4 bits). */
enum { COMB_SRC_K = 0x00, COMB_SRC_X = 0x08 };
#define COMB_SRC(code) ((code) & 0x08)
#define COMB_OP(code)  ((code) & 0xf0)

enum {
	COMB_ALU_ADD = 0x00, COMB_ALU_SUB = 0x10, COMB_ALU_MUL = 0x20, COMB_ALU_DIV = 0x30,
	COMB_ALU_OR = 0x40, COMB_ALU_AND = 0x50, COMB_ALU_LSH = 0x60, COMB_ALU_RSH = 0x70,
	COMB_ALU_NEG = 0x80, COMB_ALU_MOD = 0x90, COMB_ALU_XOR = 0xa0, COMB_ALU_MOV = 0xb0,
	COMB_ALU_ARSH = 0xc0, COMB_ALU_END = 0xd0,
};
enum {
	COMB_JMP_JA = 0x00, COMB_JMP_JEQ = 0x10, COMB_JMP_JGT = 0x20, COMB_JMP_JGE = 0x30,
	COMB_JMP_JSET = 0x40, COMB_JMP_JNE = 0x50, COMB_JMP_JSGT = 0x60, COMB_JMP_JSGE = 0x70,
	COMB_JMP_CALL = 0x80, COMB_JMP_EXIT = 0x90, COMB_JMP_JLT = 0xa0, COMB_JMP_JLE = 0xb0,
	COMB_JMP_JSLT = 0xc0, COMB_JMP_JSLE = 0xd0,
};

/* Load/store: size (bits 3-4) and mode (bits 5-7). */
enum { COMB_SIZE_W = 0x00, COMB_SIZE_H = 0x08, COMB_SIZE_B = 0x10, COMB_SIZE_DW = 0x18 };
#define COMB_SIZE(code) ((code) & 0x18)
#define COMB_MODE(code) ((code) & 0xe0)
enum {
	COMB_MODE_IMM = 0x00, COMB_MODE_ABS = 0x20, COMB_MODE_IND = 0x40, COMB_MODE_MEM = 0x60,
	COMB_MODE_MEMSX = 0x80, COMB_MODE_ATOMIC = 0xc0,
};

/* Atomic operations (imm of an ATOMIC store). */
enum {
	COMB_ATOMIC_ADD = 0x00, COMB_ATOMIC_OR = 0x40, COMB_ATOMIC_AND = 0x50,
	COMB_ATOMIC_XOR = 0xa0, COMB_ATOMIC_FETCH = 0x01,
	COMB_ATOMIC_XCHG = 0xe0 | COMB_ATOMIC_FETCH, COMB_ATOMIC_CMPXCHG = 0xf0 | COMB_ATOMIC_FETCH,
};

/* Pseudo source registers of LDDW (src field). */
enum {
	COMB_PSEUDO_NONE = 0, COMB_PSEUDO_MAP_FD = 1, COMB_PSEUDO_MAP_VALUE = 2,
	COMB_PSEUDO_BTF_ID = 3, COMB_PSEUDO_FUNC = 4, COMB_PSEUDO_MAP_IDX = 5,
	COMB_PSEUDO_MAP_IDX_VALUE = 6,
};
/* The helper id libbpf (and comb's loader) writes into an instruction whose
 * CO-RE relocation could not be resolved: the program still loads, and fails
 * only if that instruction runs. */
#define COMB_CORE_POISON_HELPER 0xbad2310

/* Pseudo source registers of CALL (src field). */
enum { COMB_CALL_HELPER = 0, COMB_CALL_LOCAL = 1, COMB_CALL_KFUNC = 2 };

#define COMB_REG_COUNT 11     /* r0..r10 */
#define COMB_STACK_SIZE 512   /* bytes per frame */
#define COMB_MAX_FRAMES 8     /* bpf-to-bpf call depth, entry frame included */

/* Size in bytes of a load/store size field (1, 2, 4 or 8). */
int comb_insn_size_bytes(uint8_t code);

/* True for the first slot of a two-slot LDDW. */
static inline int comb_insn_is_lddw(const struct comb_insn *insn)
{
	return insn->code == (COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW);
}

/* Check a program for encoding errors: unknown opcodes, reserved fields set,
 * bad registers, jumps out of the program or into the second slot of an LDDW,
 * a truncated LDDW, a program that can fall off its end. Returns 0, or
 * -EINVAL with a message "insn N: ..." written to err (may be NULL). */
int comb_insns_validate(const struct comb_insn *insns, size_t count, char *err, size_t err_len);

/* Validate one instruction (at index idx of a program of count slots).
 * Same return convention as comb_insns_validate. */
int comb_insn_validate(const struct comb_insn *insns, size_t count, size_t idx, char *err,
		       size_t err_len);

#ifdef __cplusplus
}
#endif
#endif
