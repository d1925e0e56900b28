/* src/vm/decode.c - turn validated instructions into handler kinds.
 *
 * Decoding happens once per program so that the run loop does no work a
 * verified program does not need: each instruction gets the handler for its
 * exact form (operation, width, source, size), shift amounts are masked,
 * division by a constant 0 or -1 becomes the operation it amounts to (so the
 * division handlers never test their constant divisor), and helper calls are
 * checked against the helpers the VM has.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include "vm/internal.h"
#include "comb/map.h"
#include "verifier/helper_protos.h"

__attribute__((format(printf, 5, 6)))
static int decode_fail(int rc, char *err, size_t err_len, size_t idx, const char *fmt, ...)
{
	if (err && err_len) {
		int n = snprintf(err, err_len, "insn %zu: ", idx);
		va_list ap;
		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < err_len)
			vsnprintf(err + n, err_len - n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Index into a group of kinds laid out as in handlers.h: binops K/X pairs. */
static int alu_binop_index(uint8_t op)
{
	switch (op) {
	case COMB_ALU_ADD: return 0;
	case COMB_ALU_SUB: return 1;
	case COMB_ALU_MUL: return 2;
	case COMB_ALU_DIV: return 3;
	case COMB_ALU_MOD: return 4;
	case COMB_ALU_OR: return 5;
	case COMB_ALU_AND: return 6;
	case COMB_ALU_XOR: return 7;
	case COMB_ALU_LSH: return 8;
	case COMB_ALU_RSH: return 9;
	case COMB_ALU_ARSH: return 10;
	case COMB_ALU_MOV: return 11;
	default: return -1;
	}
}

/* Rewrite the constant-divisor cases that have a simpler exact meaning. */
static void decode_div_by_constant(struct dinsn *d, bool is64, bool is_signed, bool is_mod)
{
	enum comb_handler_kind mov_k = is64 ? H_MOV64_K : H_MOV32_K;
	if (d->imm == 0) {
		if (!is_mod) {          /* x / 0 = 0 */
			d->kind = mov_k;
		} else if (is64) {      /* x % 0 = x */
			d->kind = H_NOP;
		} else {                /* 32-bit: x % 0 = (u32)x */
			d->kind = H_MOV32_X;
			d->src = d->dst;
		}
		return;
	}
	if (is_signed && d->imm == -1) {
		if (is_mod) {           /* x s% -1 = 0 */
			d->kind = mov_k;
			d->imm = 0;
		} else {                /* x s/ -1 = -x (INT_MIN stays INT_MIN) */
			d->kind = is64 ? H_NEG64 : H_NEG32;
			d->imm = 0;
		}
	}
}

static void decode_alu(const struct comb_insn *in, struct dinsn *d)
{
	bool is64 = COMB_CLASS(in->code) == COMB_CLS_ALU64;
	bool reg = COMB_SRC(in->code) == COMB_SRC_X;
	uint8_t op = COMB_OP(in->code);
	enum comb_handler_kind base = is64 ? H_ADD64_K : H_ADD32_K;

	if (op == COMB_ALU_NEG) {
		d->kind = is64 ? H_NEG64 : H_NEG32;
		return;
	}
	if (op == COMB_ALU_END) {
		bool to_be = is64 || reg; /* ALU64 END is bswap, which equals to-BE on x86 */
		switch (in->imm) {
		case 16: d->kind = to_be ? H_BE16 : H_LE16; break;
		case 32: d->kind = to_be ? H_BE32 : H_LE32; break;
		default: d->kind = to_be ? H_BE64 : H_NOP; break;
		}
		return;
	}
	if (op == COMB_ALU_MOV && reg && in->off) {
		if (is64)
			d->kind = in->off == 8 ? H_MOVSX64_8 : in->off == 16 ? H_MOVSX64_16 : H_MOVSX64_32;
		else
			d->kind = in->off == 8 ? H_MOVSX32_8 : H_MOVSX32_16;
		return;
	}
	bool is_signed = (op == COMB_ALU_DIV || op == COMB_ALU_MOD) && in->off == 1;
	if (is_signed) {
		int signed_base = (is64 ? H_SDIV64_K : H_SDIV32_K) + (op == COMB_ALU_MOD ? 2 : 0);
		d->kind = signed_base + (reg ? 1 : 0);
	} else {
		d->kind = base + 2 * alu_binop_index(op) + (reg ? 1 : 0);
	}
	if (reg)
		return;
	if (op == COMB_ALU_LSH || op == COMB_ALU_RSH || op == COMB_ALU_ARSH)
		d->imm &= is64 ? 63 : 31;
	else if (op == COMB_ALU_DIV || op == COMB_ALU_MOD)
		decode_div_by_constant(d, is64, is_signed, op == COMB_ALU_MOD);
}

static int jmp_cond_index(uint8_t op)
{
	switch (op) {
	case COMB_JMP_JEQ: return 0;
	case COMB_JMP_JNE: return 1;
	case COMB_JMP_JGT: return 2;
	case COMB_JMP_JGE: return 3;
	case COMB_JMP_JLT: return 4;
	case COMB_JMP_JLE: return 5;
	case COMB_JMP_JSGT: return 6;
	case COMB_JMP_JSGE: return 7;
	case COMB_JMP_JSLT: return 8;
	case COMB_JMP_JSLE: return 9;
	case COMB_JMP_JSET: return 10;
	default: return -1;
	}
}

static int decode_jmp(const struct comb_prog *prog, size_t idx, struct dinsn *d, char *err, size_t err_len)
{
	const struct comb_insn *in = &prog->insns[idx];
	bool is32 = COMB_CLASS(in->code) == COMB_CLS_JMP32;
	bool reg = COMB_SRC(in->code) == COMB_SRC_X;
	uint8_t op = COMB_OP(in->code);

	switch (op) {
	case COMB_JMP_JA:
		d->kind = is32 ? H_GOTOL : H_JA;
		return 0;
	case COMB_JMP_EXIT:
		d->kind = H_EXIT;
		return 0;
	case COMB_JMP_CALL:
		if (reg) {
			d->kind = H_CALLX;
			return 0;
		}
		if (in->src == COMB_CALL_LOCAL) {
			d->kind = H_CALL_LOCAL;
			return 0;
		}
		if (in->src == COMB_CALL_KFUNC)
			return decode_fail(-ENOTSUP, err, err_len, idx,
					   "kfunc call (BTF id %d) is not supported by this VM", in->imm);
		if (in->imm == COMB_HELPER_TAIL_CALL) {
			d->kind = H_TAIL_CALL;
			return 0;
		}
		if (in->imm == COMB_CORE_POISON_HELPER) {
			d->kind = H_POISONED;
			return 0;
		}
		if (in->imm < 0 || (uint32_t)in->imm >= prog->helper_count || !prog->helpers[in->imm]) {
			/* A kernel helper comb lacks: the program loads (it may
			 * never take that path) and the run fails if it gets there. */
			if (in->imm >= 0 && comb_helper_name((uint32_t)in->imm)) {
				d->kind = H_MISSING_HELPER;
				return 0;
			}
			return decode_fail(-ENOENT, err, err_len, idx,
					   "program calls helper %d, which is neither a kernel helper nor "
					   "registered with comb_vm_register_helper", in->imm);
		}
		d->kind = H_CALL_HELPER;
		return 0;
	}
	enum comb_handler_kind base = is32 ? H_JEQ32_K : H_JEQ64_K;
	d->kind = base + 2 * jmp_cond_index(op) + (reg ? 1 : 0);
	return 0;
}

static enum comb_handler_kind sized(enum comb_handler_kind b, enum comb_handler_kind h,
				    enum comb_handler_kind w, enum comb_handler_kind dw, uint8_t code)
{
	switch (COMB_SIZE(code)) {
	case COMB_SIZE_B: return b;
	case COMB_SIZE_H: return h;
	case COMB_SIZE_W: return w;
	default: return dw;
	}
}

static enum comb_handler_kind decode_atomic(const struct comb_insn *in)
{
	enum comb_handler_kind base = COMB_SIZE(in->code) == COMB_SIZE_DW ? H_ATOMIC64_ADD : H_ATOMIC32_ADD;
	switch (in->imm) {
	case COMB_ATOMIC_ADD: return base + 0;
	case COMB_ATOMIC_OR: return base + 1;
	case COMB_ATOMIC_AND: return base + 2;
	case COMB_ATOMIC_XOR: return base + 3;
	case COMB_ATOMIC_ADD | COMB_ATOMIC_FETCH: return base + 4;
	case COMB_ATOMIC_OR | COMB_ATOMIC_FETCH: return base + 5;
	case COMB_ATOMIC_AND | COMB_ATOMIC_FETCH: return base + 6;
	case COMB_ATOMIC_XOR | COMB_ATOMIC_FETCH: return base + 7;
	case COMB_ATOMIC_XCHG: return base + 8;
	default: return base + 9; /* CMPXCHG: validated */
	}
}

static int decode_one(const struct comb_prog *prog, size_t idx, struct dinsn *d, char *err, size_t err_len)
{
	const struct comb_insn *in = &prog->insns[idx];
	uint8_t mode = COMB_MODE(in->code);

	d->dst = in->dst;
	d->src = in->src;
	d->off = in->off;
	d->imm = in->imm;
	switch (COMB_CLASS(in->code)) {
	case COMB_CLS_ALU:
	case COMB_CLS_ALU64:
		decode_alu(in, d);
		return 0;
	case COMB_CLS_JMP:
	case COMB_CLS_JMP32:
		return decode_jmp(prog, idx, d, err, err_len);
	case COMB_CLS_LD:
		if (comb_insn_is_lddw(in)) {
			d->kind = H_LDDW;
			return 0;
		}
		if (mode == COMB_MODE_ABS)
			d->kind = sized(H_LD_ABS_B, H_LD_ABS_H, H_LD_ABS_W, H_LD_ABS_W, in->code);
		else
			d->kind = sized(H_LD_IND_B, H_LD_IND_H, H_LD_IND_W, H_LD_IND_W, in->code);
		return 0;
	case COMB_CLS_LDX:
		if (mode == COMB_MODE_MEMSX)
			d->kind = sized(H_LDXS_B, H_LDXS_H, H_LDXS_W, H_LDXS_W, in->code);
		else
			d->kind = sized(H_LDX_B, H_LDX_H, H_LDX_W, H_LDX_DW, in->code);
		return 0;
	case COMB_CLS_ST:
		d->kind = sized(H_ST_B, H_ST_H, H_ST_W, H_ST_DW, in->code);
		return 0;
	default: /* STX */
		if (mode == COMB_MODE_ATOMIC)
			d->kind = decode_atomic(in);
		else
			d->kind = sized(H_STX_B, H_STX_H, H_STX_W, H_STX_DW, in->code);
		return 0;
	}
}

/* The 64-bit value an LDDW loads, resolving map references. */
static int lddw_value(const struct comb_prog *prog, size_t idx, uint64_t *value, char *err, size_t err_len)
{
	const struct comb_insn *in = &prog->insns[idx];
	uint32_t lo = (uint32_t)in->imm, hi = (uint32_t)prog->insns[idx + 1].imm;
	struct comb_map *map;

	switch (in->src) {
	case COMB_PSEUDO_NONE:
		*value = lo | ((uint64_t)hi << 32);
		return 0;
	case COMB_PSEUDO_MAP_FD:
	case COMB_PSEUDO_MAP_IDX:
	case COMB_PSEUDO_MAP_VALUE:
	case COMB_PSEUDO_MAP_IDX_VALUE:
		if (lo >= prog->map_count)
			return decode_fail(-EINVAL, err, err_len, idx,
					   "lddw refers to map %u, but the program was given %zu map%s "
					   "(load ELF objects with comb_object_load)", lo, prog->map_count,
					   prog->map_count == 1 ? "" : "s");
		map = prog->maps[lo];
		if (in->src == COMB_PSEUDO_MAP_FD || in->src == COMB_PSEUDO_MAP_IDX) {
			*value = (uint64_t)(uintptr_t)map;
			return 0;
		}
		uint8_t *first = comb_map_array_value(map, 0);
		struct comb_map_info info;
		comb_map_get_info(map, &info);
		if (!first || hi >= info.value_size)
			return decode_fail(-EINVAL, err, err_len, idx,
					   "lddw takes the address of value offset %u in map %s, which %s", hi,
					   info.name, first ? "is past its value size" : "is not an array map");
		*value = (uint64_t)(uintptr_t)(first + hi);
		return 0;
	case COMB_PSEUDO_FUNC: /* a callback: validated to land on an instruction */
		*value = COMB_CALLBACK_TAG | (uint64_t)((int64_t)idx + 1 + in->imm);
		return 0;
	default:
		return decode_fail(-ENOTSUP, err, err_len, idx,
				   "lddw with pseudo source %u (kernel variable) is not supported", in->src);
	}
}

int comb_decode(const struct comb_prog *prog, struct dinsn *out, char *err, size_t err_len)
{
	for (size_t i = 0; i < prog->count; i++) {
		int rc = decode_one(prog, i, &out[i], err, err_len);
		if (rc)
			return rc;
		if (out[i].kind == H_LDDW) {
			uint64_t value = 0;
			rc = lddw_value(prog, i, &value, err, err_len);
			if (rc)
				return rc;
			out[i + 1] = (struct dinsn){ .imm64 = value };
			i++;
		}
	}
	return 0;
}
