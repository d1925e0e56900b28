/* src/isa/validate.c - encoding checks every loader runs before anything else.
 *
 * These are the rules of RFC 9669 (and of the Linux loader) that hold for a
 * program as a sequence of slots, independent of types: known opcodes,
 * reserved fields zero, registers in range, r10 never written, jumps and
 * calls landing on an instruction (never outside the program nor in the
 * second slot of an LDDW), and no way to fall off the end. Safety proper
 * (memory, types, termination) is the verifier's job.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include "comb/isa.h"

int comb_insn_size_bytes(uint8_t code)
{
	switch (COMB_SIZE(code)) {
	case COMB_SIZE_B: return 1;
	case COMB_SIZE_H: return 2;
	case COMB_SIZE_W: return 4;
	default: return 8;
	}
}

__attribute__((format(printf, 4, 5)))
static int reject(char *err, size_t err_len, size_t idx, const char *fmt, ...)
{
	if (err && err_len) {
		int n = snprintf(err, err_len, "insn %zu: ", idx);
		if (n >= 0 && (size_t)n < err_len) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + n, err_len - n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

/* Is slot idx the second half of an LDDW? Only a forward scan knows for
 * sure; slot idx-1 being an LDDW opcode is the practical test because LDDW
 * second slots must have code 0 and a code-0 first slot is a 32-bit ABS-less
 * LD with mode IMM, which is itself invalid. */
static bool is_lddw_second_slot(const struct comb_insn *insns, size_t idx)
{
	return idx > 0 && comb_insn_is_lddw(&insns[idx - 1]);
}

static int check_target(const struct comb_insn *insns, size_t count, size_t idx, int64_t delta,
			const char *what, char *err, size_t err_len)
{
	int64_t target = (int64_t)idx + 1 + delta;
	if (target < 0 || target >= (int64_t)count)
		return reject(err, err_len, idx, "%s target %lld is outside the program (0..%zu)", what,
			      (long long)target, count - 1);
	if (is_lddw_second_slot(insns, (size_t)target))
		return reject(err, err_len, idx, "%s target %lld is the second half of an lddw", what,
			      (long long)target);
	return 0;
}

static int check_alu(const struct comb_insn *in, size_t idx, char *err, size_t err_len)
{
	bool is64 = COMB_CLASS(in->code) == COMB_CLS_ALU64;
	bool reg = COMB_SRC(in->code) == COMB_SRC_X;
	uint8_t op = COMB_OP(in->code);

	if (in->dst == 10)
		return reject(err, err_len, idx, "r10 is the read-only frame pointer and cannot be written");
	switch (op) {
	case COMB_ALU_NEG:
		if (reg || in->src || in->off || in->imm)
			return reject(err, err_len, idx, "neg uses reserved fields (src, off and imm must be 0)");
		return 0;
	case COMB_ALU_END:
		if (in->src || in->off)
			return reject(err, err_len, idx, "byte swap uses reserved fields (src and off must be 0)");
		if (is64 && reg)
			return reject(err, err_len, idx, "invalid opcode 0x%02x (bswap has no register form)", in->code);
		if (in->imm != 16 && in->imm != 32 && in->imm != 64)
			return reject(err, err_len, idx, "byte swap width %d is not 16, 32 or 64", in->imm);
		return 0;
	case 0xe0:
	case 0xf0:
		return reject(err, err_len, idx, "invalid opcode 0x%02x", in->code);
	}
	if (reg ? in->imm != 0 : in->src != 0)
		return reject(err, err_len, idx, "%s uses reserved field %s (must be 0)",
			      reg ? "register-source ALU" : "immediate-source ALU", reg ? "imm" : "src");
	if (op == COMB_ALU_DIV || op == COMB_ALU_MOD) {
		if (in->off != 0 && in->off != 1)
			return reject(err, err_len, idx, "division offset %d is not 0 (unsigned) or 1 (signed)", in->off);
	} else if (op == COMB_ALU_MOV && reg) {
		if (in->off != 0 && in->off != 8 && in->off != 16 && !(is64 && in->off == 32))
			return reject(err, err_len, idx, "movsx width %d is not 8, 16%s", in->off,
				      is64 ? " or 32" : " (32-bit form)");
	} else if (in->off != 0) {
		return reject(err, err_len, idx, "ALU uses reserved field off (must be 0)");
	}
	return 0;
}

static int check_jmp(const struct comb_insn *insns, size_t count, size_t idx, char *err, size_t err_len)
{
	const struct comb_insn *in = &insns[idx];
	bool is32 = COMB_CLASS(in->code) == COMB_CLS_JMP32;
	bool reg = COMB_SRC(in->code) == COMB_SRC_X;
	uint8_t op = COMB_OP(in->code);

	switch (op) {
	case COMB_JMP_JA:
		if (reg || in->src || in->dst)
			return reject(err, err_len, idx, "ja uses reserved fields (src and dst must be 0)");
		if (is32) {
			if (in->off)
				return reject(err, err_len, idx, "gotol uses reserved field off (must be 0)");
			return check_target(insns, count, idx, in->imm, "jump", err, err_len);
		}
		if (in->imm)
			return reject(err, err_len, idx, "ja uses reserved field imm (must be 0)");
		return check_target(insns, count, idx, in->off, "jump", err, err_len);
	case COMB_JMP_CALL:
		if (is32)
			return reject(err, err_len, idx, "invalid opcode 0x%02x (call is only in the JMP class)", in->code);
		if (reg) {
			if (in->src || in->off || in->imm)
				return reject(err, err_len, idx, "callx uses reserved fields (src, off and imm must be 0)");
			return 0;
		}
		if (in->dst)
			return reject(err, err_len, idx, "call uses reserved field dst (must be 0)");
		if (in->src == COMB_CALL_HELPER || in->src == COMB_CALL_LOCAL) {
			if (in->off)
				return reject(err, err_len, idx, "call uses reserved field off (must be 0)");
			if (in->src == COMB_CALL_LOCAL)
				return check_target(insns, count, idx, in->imm, "call", err, err_len);
			return 0;
		}
		if (in->src == COMB_CALL_KFUNC)
			return 0;
		return reject(err, err_len, idx, "call with unknown source %u (0 helper, 1 local, 2 kfunc)", in->src);
	case COMB_JMP_EXIT:
		if (is32 || reg || in->src || in->dst || in->off || in->imm)
			return reject(err, err_len, idx, "exit uses reserved fields (all must be 0)");
		return 0;
	case 0xe0:
	case 0xf0:
		return reject(err, err_len, idx, "invalid opcode 0x%02x", in->code);
	}
	if (reg ? in->imm != 0 : in->src != 0)
		return reject(err, err_len, idx, "conditional jump uses reserved field %s (must be 0)", reg ? "imm" : "src");
	return check_target(insns, count, idx, in->off, "jump", err, err_len);
}

static int check_lddw(const struct comb_insn *insns, size_t count, size_t idx, char *err, size_t err_len)
{
	const struct comb_insn *in = &insns[idx];
	if (idx + 1 >= count)
		return reject(err, err_len, idx, "lddw is truncated: its second slot is missing");
	const struct comb_insn *next = &insns[idx + 1];
	if (next->code || next->dst || next->src || next->off)
		return reject(err, err_len, idx, "lddw second slot uses reserved fields (only imm may be set)");
	if (in->off)
		return reject(err, err_len, idx, "lddw uses reserved field off (must be 0)");
	if (in->dst == 10)
		return reject(err, err_len, idx, "r10 is the read-only frame pointer and cannot be written");
	if (in->src > COMB_PSEUDO_MAP_IDX_VALUE)
		return reject(err, err_len, idx, "lddw with unknown pseudo source %u", in->src);
	if (in->src == COMB_PSEUDO_FUNC)
		return check_target(insns, count, idx, in->imm, "function address", err, err_len);
	return 0;
}

static int check_ld(const struct comb_insn *insns, size_t count, size_t idx, char *err, size_t err_len)
{
	const struct comb_insn *in = &insns[idx];
	uint8_t mode = COMB_MODE(in->code);
	if (comb_insn_is_lddw(in))
		return check_lddw(insns, count, idx, err, err_len);
	if ((mode == COMB_MODE_ABS || mode == COMB_MODE_IND) && COMB_SIZE(in->code) != COMB_SIZE_DW) {
		if (in->dst || in->off || (mode == COMB_MODE_ABS && in->src))
			return reject(err, err_len, idx, "legacy packet load uses reserved fields");
		return 0;
	}
	return reject(err, err_len, idx, "invalid opcode 0x%02x", in->code);
}

static int check_mem(const struct comb_insn *in, size_t idx, char *err, size_t err_len)
{
	uint8_t cls = COMB_CLASS(in->code), mode = COMB_MODE(in->code), size = COMB_SIZE(in->code);
	if (cls == COMB_CLS_LDX) {
		if (mode != COMB_MODE_MEM && !(mode == COMB_MODE_MEMSX && size != COMB_SIZE_DW))
			return reject(err, err_len, idx, "invalid opcode 0x%02x", in->code);
		if (in->imm)
			return reject(err, err_len, idx, "load uses reserved field imm (must be 0)");
		if (in->dst == 10)
			return reject(err, err_len, idx, "r10 is the read-only frame pointer and cannot be written");
		return 0;
	}
	if (cls == COMB_CLS_ST) {
		if (mode != COMB_MODE_MEM)
			return reject(err, err_len, idx, "invalid opcode 0x%02x", in->code);
		if (in->src)
			return reject(err, err_len, idx, "store of an immediate uses reserved field src (must be 0)");
		return 0;
	}
	/* STX */
	if (mode == COMB_MODE_MEM) {
		if (in->imm)
			return reject(err, err_len, idx, "store uses reserved field imm (must be 0)");
		return 0;
	}
	if (mode != COMB_MODE_ATOMIC)
		return reject(err, err_len, idx, "invalid opcode 0x%02x", in->code);
	if (size != COMB_SIZE_W && size != COMB_SIZE_DW)
		return reject(err, err_len, idx, "atomic operations are 32 or 64 bit only");
	switch (in->imm) {
	case COMB_ATOMIC_ADD: case COMB_ATOMIC_OR: case COMB_ATOMIC_AND: case COMB_ATOMIC_XOR:
	case COMB_ATOMIC_ADD | COMB_ATOMIC_FETCH: case COMB_ATOMIC_OR | COMB_ATOMIC_FETCH:
	case COMB_ATOMIC_AND | COMB_ATOMIC_FETCH: case COMB_ATOMIC_XOR | COMB_ATOMIC_FETCH:
	case COMB_ATOMIC_XCHG: case COMB_ATOMIC_CMPXCHG:
		return 0;
	}
	return reject(err, err_len, idx, "unknown atomic operation 0x%x", (unsigned)in->imm);
}

int comb_insn_validate(const struct comb_insn *insns, size_t count, size_t idx, char *err, size_t err_len)
{
	const struct comb_insn *in = &insns[idx];
	if (in->dst > 10 || in->src > 10)
		return reject(err, err_len, idx, "register r%u does not exist (r0..r10)",
			      in->dst > 10 ? in->dst : in->src);
	switch (COMB_CLASS(in->code)) {
	case COMB_CLS_ALU:
	case COMB_CLS_ALU64:
		return check_alu(in, idx, err, err_len);
	case COMB_CLS_JMP:
	case COMB_CLS_JMP32:
		return check_jmp(insns, count, idx, err, err_len);
	case COMB_CLS_LD:
		return check_ld(insns, count, idx, err, err_len);
	default:
		return check_mem(in, idx, err, err_len);
	}
}

static bool ends_flow(const struct comb_insn *in)
{
	uint8_t cls = COMB_CLASS(in->code);
	if (cls == COMB_CLS_JMP && (in->code == (COMB_CLS_JMP | COMB_JMP_EXIT) || in->code == (COMB_CLS_JMP | COMB_JMP_JA)))
		return true;
	return in->code == (COMB_CLS_JMP32 | COMB_JMP_JA);
}

int comb_insns_validate(const struct comb_insn *insns, size_t count, char *err, size_t err_len)
{
	if (count == 0) {
		if (err && err_len)
			snprintf(err, err_len, "the program is empty");
		return -EINVAL;
	}
	if (count > (1u << 24)) {
		if (err && err_len)
			snprintf(err, err_len, "the program has %zu instructions (limit %u)", count, 1u << 24);
		return -EINVAL;
	}
	for (size_t i = 0; i < count; i++) {
		int rc = comb_insn_validate(insns, count, i, err, err_len);
		if (rc)
			return rc;
		if (comb_insn_is_lddw(&insns[i]))
			i++;
	}
	const struct comb_insn *last = &insns[count - 1];
	if (!ends_flow(last) && !is_lddw_second_slot(insns, count - 1))
		return reject(err, err_len, count - 1, "the last instruction is not exit or ja: execution could fall off the end");
	if (is_lddw_second_slot(insns, count - 1))
		return reject(err, err_len, count - 2, "the program ends with an lddw: execution could fall off the end");
	return 0;
}
