/* disasm.c - one eBPF instruction to text, in two syntaxes.
 *
 * Decoding is strict: an instruction is printed only if every field that its
 * opcode does not use is zero and every register is r0..r10 (the rules of
 * RFC 9669 and of the Linux loader); anything else yields -EINVAL and a
 * message naming the problem. Two printers share that check:
 *  - COMB_SYNTAX_LLVM prints what plain `llvm-objdump-19 -d` prints after the
 *    hex bytes (narrow loads and stores name r registers). The 32-bit atomics
 *    other than `lock ... += r` are `<unknown>` to it; for those we print what
 *    `llvm-objdump-19 -d --mcpu=v4` prints (w registers). The ` <sym+off>`
 *    annotation objdump adds after jump targets is not printed.
 *  - COMB_SYNTAX_CONFORMANCE prints the assembler's syntax (see asm.c), which
 *    assembles back to the same bytes.
 * The text goes through a bounded appender, so output never overruns buf.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "comb/asm.h"
#include "isa/asm_names.h"

/* Bounded text output: writes are truncated at buf_len-1 characters. */
struct text {
	char *buf;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void text_add(struct text *t, const char *fmt, ...)
{
	if (t->cap == 0)
		return;
	size_t room = t->cap - t->len;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	t->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* "0x1f" or "-0x1f", the way llvm prints signed immediates. */
static void text_hex(struct text *t, int64_t value)
{
	if (value < 0)
		text_add(t, "-0x%" PRIx64, (uint64_t)0 - (uint64_t)value);
	else
		text_add(t, "0x%" PRIx64, (uint64_t)value);
}

/* "+0x3" / "-0x3" for jump offsets. */
static void text_signed_hex(struct text *t, int64_t value)
{
	if (value >= 0)
		text_add(t, "+");
	text_hex(t, value);
}

/* ---- decoding checks --------------------------------------------------- */

static bool reg_valid(unsigned reg)
{
	return reg < COMB_REG_COUNT;
}

/* Returns NULL when the ALU/ALU64 instruction is well formed, else why not. */
static const char *check_alu(const struct comb_insn *in)
{
	unsigned op = COMB_OP(in->code);
	bool is64 = COMB_CLASS(in->code) == COMB_CLS_ALU64, by_reg = COMB_SRC(in->code);
	if (op > COMB_ALU_END)
		return "opcode";
	if (!reg_valid(in->dst))
		return "dst register";
	switch (op) {
	case COMB_ALU_NEG:
		if (by_reg)
			return "opcode";
		return in->src || in->imm || in->off ? "reserved fields" : NULL;
	case COMB_ALU_END:
		if (is64 && by_reg)
			return "opcode";
		if (in->src || in->off)
			return "reserved fields";
		return in->imm == 16 || in->imm == 32 || in->imm == 64 ? NULL : "byte swap width";
	case COMB_ALU_DIV:
	case COMB_ALU_MOD:
		if (in->off != 0 && in->off != 1)
			return "offset";
		break;
	case COMB_ALU_MOV:
		if (in->off != 0 && !(by_reg && (in->off == 8 || in->off == 16 || (is64 && in->off == 32))))
			return "offset";
		break;
	default:
		if (in->off)
			return "offset";
	}
	if (by_reg)
		return !reg_valid(in->src) ? "src register" : in->imm ? "reserved fields" : NULL;
	return in->src ? "reserved fields" : NULL;
}

static const char *check_jmp(const struct comb_insn *in)
{
	unsigned op = COMB_OP(in->code);
	bool is32 = COMB_CLASS(in->code) == COMB_CLS_JMP32, by_reg = COMB_SRC(in->code);
	if (op > COMB_JMP_JSLE)
		return "opcode";
	switch (op) {
	case COMB_JMP_JA:
		if (by_reg)
			return "opcode";
		if (in->dst || in->src)
			return "reserved fields";
		return (is32 ? in->off : in->imm) ? "reserved fields" : NULL;
	case COMB_JMP_CALL:
		if (is32)
			return "opcode";
		if (by_reg) /* callx: target register in dst */
			return !reg_valid(in->dst) ? "dst register"
			       : in->src || in->off || in->imm ? "reserved fields" : NULL;
		if (in->src > COMB_CALL_KFUNC)
			return "call kind";
		return in->dst || in->off ? "reserved fields" : NULL;
	case COMB_JMP_EXIT:
		if (is32 || by_reg)
			return "opcode";
		return in->dst || in->src || in->off || in->imm ? "reserved fields" : NULL;
	}
	if (!reg_valid(in->dst))
		return "dst register";
	if (by_reg)
		return !reg_valid(in->src) ? "src register" : in->imm ? "reserved fields" : NULL;
	return in->src ? "reserved fields" : NULL;
}

/* LDDW's pseudo sources whose second immediate must be zero. */
static bool lddw_high_must_be_zero(unsigned src)
{
	return src == COMB_PSEUDO_MAP_FD || src == COMB_PSEUDO_MAP_IDX || src == COMB_PSEUDO_FUNC;
}

static const char *check_ld(const struct comb_insn *insns, size_t count, size_t idx)
{
	const struct comb_insn *in = &insns[idx];
	unsigned mode = COMB_MODE(in->code), size = COMB_SIZE(in->code);
	if (comb_insn_is_lddw(in)) {
		if (idx + 1 >= count)
			return "truncated lddw (no second slot)";
		const struct comb_insn *hi = in + 1;
		if (!reg_valid(in->dst))
			return "dst register";
		if (in->src > COMB_PSEUDO_MAP_IDX_VALUE)
			return "lddw pseudo source";
		if (in->off || hi->code || hi->dst || hi->src || hi->off)
			return "reserved fields";
		return lddw_high_must_be_zero(in->src) && hi->imm ? "reserved fields" : NULL;
	}
	if ((mode != COMB_MODE_ABS && mode != COMB_MODE_IND) || size == COMB_SIZE_DW)
		return "opcode";
	if (in->dst || in->off || (mode == COMB_MODE_ABS && in->src))
		return "reserved fields";
	return reg_valid(in->src) ? NULL : "src register";
}

static const char *check_mem(const struct comb_insn *in)
{
	unsigned cls = COMB_CLASS(in->code), mode = COMB_MODE(in->code), size = COMB_SIZE(in->code);
	if (!reg_valid(in->dst))
		return "dst register";
	switch (cls) {
	case COMB_CLS_LDX:
		if (mode != COMB_MODE_MEM && !(mode == COMB_MODE_MEMSX && size != COMB_SIZE_DW))
			return "opcode";
		return !reg_valid(in->src) ? "src register" : in->imm ? "reserved fields" : NULL;
	case COMB_CLS_ST:
		if (mode != COMB_MODE_MEM)
			return "opcode";
		return in->src ? "reserved fields" : NULL;
	default: /* STX */
		if (mode == COMB_MODE_ATOMIC) {
			if (size != COMB_SIZE_W && size != COMB_SIZE_DW)
				return "opcode";
			if (!comb_atomic_name(in->imm))
				return "atomic operation";
		} else if (mode != COMB_MODE_MEM) {
			return "opcode";
		} else if (in->imm) {
			return "reserved fields";
		}
		return reg_valid(in->src) ? NULL : "src register";
	}
}

/* NULL if insns[idx] decodes, else the reason (a noun phrase). */
static const char *check_insn(const struct comb_insn *insns, size_t count, size_t idx)
{
	const struct comb_insn *in = &insns[idx];
	switch (COMB_CLASS(in->code)) {
	case COMB_CLS_ALU:
	case COMB_CLS_ALU64:
		return check_alu(in);
	case COMB_CLS_JMP:
	case COMB_CLS_JMP32:
		return check_jmp(in);
	case COMB_CLS_LD:
		return check_ld(insns, count, idx);
	default:
		return check_mem(in);
	}
}

static void describe_invalid(struct text *t, const struct comb_insn *in, const char *why)
{
	if (strcmp(why, "opcode") == 0)
		text_add(t, "invalid opcode 0x%02x", in->code);
	else if (strcmp(why, "dst register") == 0)
		text_add(t, "invalid dst register r%u (opcode 0x%02x)", in->dst, in->code);
	else if (strcmp(why, "src register") == 0)
		text_add(t, "invalid src register r%u (opcode 0x%02x)", in->src, in->code);
	else
		text_add(t, "invalid %s (opcode 0x%02x, dst %u, src %u, off %d, imm %" PRId32 ")", why,
			 in->code, in->dst, in->src, in->off, in->imm);
}

/* ---- llvm-objdump syntax ----------------------------------------------- */

static void llvm_mem(struct text *t, unsigned reg, int16_t off)
{
	text_add(t, "(r%u %c ", reg, off < 0 ? '-' : '+');
	text_hex(t, off < 0 ? -(int64_t)off : off);
	text_add(t, ")");
}

static void llvm_alu(struct text *t, const struct comb_insn *in)
{
	unsigned op = COMB_OP(in->code);
	char r = COMB_CLASS(in->code) == COMB_CLS_ALU64 ? 'r' : 'w';
	if (op == COMB_ALU_NEG) {
		text_add(t, "%c%u = -%c%u", r, in->dst, r, in->dst);
		return;
	}
	if (op == COMB_ALU_END) {
		const char *kind = COMB_CLASS(in->code) == COMB_CLS_ALU64 ? "bswap"
				   : COMB_SRC(in->code)                  ? "be"
									 : "le";
		text_add(t, "r%u = %s%d r%u", in->dst, kind, in->imm, in->dst);
		return;
	}
	bool is_signed = in->off == 1 && (op == COMB_ALU_DIV || op == COMB_ALU_MOD);
	text_add(t, "%c%u %s%s ", r, in->dst, is_signed ? "s" : "", comb_alu_llvm_op(op));
	if (op == COMB_ALU_MOV && in->off)
		text_add(t, "(s%d)", in->off);
	if (COMB_SRC(in->code))
		text_add(t, "%c%u", r, in->src);
	else
		text_hex(t, in->imm);
}

static void llvm_jmp(struct text *t, const struct comb_insn *in)
{
	unsigned op = COMB_OP(in->code);
	char r = COMB_CLASS(in->code) == COMB_CLS_JMP32 ? 'w' : 'r';
	switch (op) {
	case COMB_JMP_JA:
		if (COMB_CLASS(in->code) == COMB_CLS_JMP32) {
			text_add(t, "gotol ");
			text_signed_hex(t, in->imm);
		} else {
			text_add(t, "goto ");
			text_signed_hex(t, in->off);
		}
		return;
	case COMB_JMP_CALL:
		if (COMB_SRC(in->code)) {
			text_add(t, "callx r%u", in->dst);
		} else {
			text_add(t, "call ");
			text_hex(t, in->imm);
		}
		return;
	case COMB_JMP_EXIT:
		text_add(t, "exit");
		return;
	}
	text_add(t, "if %c%u %s ", r, in->dst, comb_jmp_llvm_op(op));
	if (COMB_SRC(in->code))
		text_add(t, "%c%u", r, in->src);
	else
		text_hex(t, in->imm);
	text_add(t, " goto ");
	text_signed_hex(t, in->off);
}

static void llvm_ld(struct text *t, const struct comb_insn *in)
{
	const char *size = comb_size_llvm(COMB_SIZE(in->code));
	if (comb_insn_is_lddw(in)) {
		uint64_t value = (uint32_t)in[0].imm | (uint64_t)(uint32_t)in[1].imm << 32;
		if (in->src == COMB_PSEUDO_NONE) {
			text_add(t, "r%u = ", in->dst);
			text_hex(t, (int64_t)value);
			text_add(t, " ll");
		} else {
			text_add(t, "ld_pseudo\tr%u, 0x%x, 0x%" PRIx32, in->dst, in->src,
				 (uint32_t)in->imm);
		}
	} else if (COMB_MODE(in->code) == COMB_MODE_ABS) {
		text_add(t, "r0 = *(%s *)skb[", size);
		text_hex(t, in->imm);
		text_add(t, "]");
	} else { /* llvm prints no immediate for IND */
		text_add(t, "r0 = *(%s *)skb[r%u]", size, in->src);
	}
}

static void llvm_atomic(struct text *t, const struct comb_insn *in)
{
	bool is64 = COMB_SIZE(in->code) == COMB_SIZE_DW;
	const char *size = is64 ? "u64" : "u32";
	int imm = in->imm;
	/* plain objdump decodes only the 32-bit add; the others use v4's w names */
	char r = is64 || imm == COMB_ATOMIC_ADD ? 'r' : 'w';
	if (imm == COMB_ATOMIC_XCHG || imm == COMB_ATOMIC_CMPXCHG) {
		bool cmp = imm == COMB_ATOMIC_CMPXCHG;
		unsigned out = cmp ? 0 : in->src;
		text_add(t, "%c%u = %s%s(", r, out, cmp ? "cmpxchg" : "xchg", is64 ? "_64" : "32_32");
		text_add(t, "r%u %c ", in->dst, in->off < 0 ? '-' : '+');
		text_hex(t, in->off < 0 ? -(int64_t)in->off : in->off);
		if (cmp)
			text_add(t, ", %c0", r);
		text_add(t, ", %c%u)", r, in->src);
	} else if (imm & COMB_ATOMIC_FETCH) {
		text_add(t, "%c%u = atomic_fetch_%s((%s *)", r, in->src,
			 comb_atomic_name(imm & ~COMB_ATOMIC_FETCH), size);
		llvm_mem(t, in->dst, in->off);
		text_add(t, ", %c%u)", r, in->src);
	} else {
		text_add(t, "lock *(%s *)", size);
		llvm_mem(t, in->dst, in->off);
		text_add(t, " %s %c%u", comb_alu_llvm_op((unsigned)imm), r, in->src);
	}
}

static void llvm_mem_insn(struct text *t, const struct comb_insn *in)
{
	unsigned size = COMB_SIZE(in->code);
	bool sx = COMB_MODE(in->code) == COMB_MODE_MEMSX;
	switch (COMB_CLASS(in->code)) {
	case COMB_CLS_LDX:
		text_add(t, "r%u = *(%s *)", in->dst, sx ? comb_size_llvm_signed(size) : comb_size_llvm(size));
		llvm_mem(t, in->src, in->off);
		break;
	case COMB_CLS_ST:
		text_add(t, "*(%s *)", comb_size_llvm(size));
		llvm_mem(t, in->dst, in->off);
		text_add(t, " = ");
		text_hex(t, in->imm);
		break;
	default:
		if (COMB_MODE(in->code) == COMB_MODE_ATOMIC) {
			llvm_atomic(t, in);
			break;
		}
		text_add(t, "*(%s *)", comb_size_llvm(size));
		llvm_mem(t, in->dst, in->off);
		text_add(t, " = r%u", in->src);
	}
}

static void print_llvm(struct text *t, const struct comb_insn *in)
{
	switch (COMB_CLASS(in->code)) {
	case COMB_CLS_ALU:
	case COMB_CLS_ALU64:
		llvm_alu(t, in);
		break;
	case COMB_CLS_JMP:
	case COMB_CLS_JMP32:
		llvm_jmp(t, in);
		break;
	case COMB_CLS_LD:
		llvm_ld(t, in);
		break;
	default:
		llvm_mem_insn(t, in);
	}
}

/* ---- conformance (assembler) syntax ------------------------------------ */

static void conf_mem(struct text *t, unsigned reg, int16_t off)
{
	text_add(t, "[%%r%u%c%d]", reg, off < 0 ? '-' : '+', off < 0 ? -(int)off : off);
}

static void conf_alu(struct text *t, const struct comb_insn *in)
{
	unsigned op = COMB_OP(in->code);
	bool is64 = COMB_CLASS(in->code) == COMB_CLS_ALU64;
	const char *suffix = is64 ? "" : "32";
	if (op == COMB_ALU_END) {
		const char *kind = is64 ? "bswap" : COMB_SRC(in->code) ? "be" : "le";
		text_add(t, "%s%d %%r%u", kind, in->imm, in->dst);
		return;
	}
	if (op == COMB_ALU_NEG) {
		text_add(t, "neg%s %%r%u", suffix, in->dst);
		return;
	}
	if (op == COMB_ALU_MOV && in->off)
		text_add(t, "movsx%d%s", in->off, is64 ? "64" : "32");
	else
		text_add(t, "%s%s%s", in->off ? "s" : "", comb_alu_name(op), suffix);
	text_add(t, " %%r%u, ", in->dst);
	if (COMB_SRC(in->code))
		text_add(t, "%%r%u", in->src);
	else
		text_add(t, "%" PRId32, in->imm);
}

static void conf_jmp(struct text *t, const struct comb_insn *in)
{
	unsigned op = COMB_OP(in->code);
	bool is32 = COMB_CLASS(in->code) == COMB_CLS_JMP32;
	switch (op) {
	case COMB_JMP_JA:
		if (is32)
			text_add(t, "ja32 %+" PRId32, in->imm);
		else
			text_add(t, "ja %+d", in->off);
		return;
	case COMB_JMP_CALL:
		if (COMB_SRC(in->code))
			text_add(t, "call %%r%u", in->dst);
		else if (in->src == COMB_CALL_LOCAL)
			text_add(t, "call local %+" PRId32, in->imm);
		else if (in->src == COMB_CALL_KFUNC)
			text_add(t, "call kfunc %" PRId32, in->imm);
		else
			text_add(t, "call %" PRId32, in->imm);
		return;
	case COMB_JMP_EXIT:
		text_add(t, "exit");
		return;
	}
	text_add(t, "%s%s %%r%u, ", comb_jmp_name(op), is32 ? "32" : "", in->dst);
	if (COMB_SRC(in->code))
		text_add(t, "%%r%u", in->src);
	else
		text_add(t, "%" PRId32, in->imm);
	text_add(t, ", %+d", in->off);
}

static void conf_ld(struct text *t, const struct comb_insn *in)
{
	const char *size = comb_size_suffix(COMB_SIZE(in->code));
	if (!comb_insn_is_lddw(in)) {
		if (COMB_MODE(in->code) == COMB_MODE_ABS)
			text_add(t, "ldabs%s %" PRId32, size, in->imm);
		else
			text_add(t, "ldind%s %%r%u, %" PRId32, size, in->src, in->imm);
		return;
	}
	text_add(t, "lddw %%r%u, ", in->dst);
	if (in->src == COMB_PSEUDO_NONE) {
		uint64_t value = (uint32_t)in[0].imm | (uint64_t)(uint32_t)in[1].imm << 32;
		text_add(t, "0x%" PRIx64, value);
	} else if (in->src == COMB_PSEUDO_FUNC) {
		text_add(t, "code %+" PRId32, in->imm);
	} else {
		text_add(t, "%s %" PRId32, comb_pseudo_name(in->src), in->imm);
		if (in[1].imm < 0)
			text_add(t, "-%" PRIu32, (uint32_t)0 - (uint32_t)in[1].imm);
		else if (in[1].imm > 0)
			text_add(t, "+%" PRId32, in[1].imm);
	}
}

static void conf_mem_insn(struct text *t, const struct comb_insn *in)
{
	const char *size = comb_size_suffix(COMB_SIZE(in->code));
	switch (COMB_CLASS(in->code)) {
	case COMB_CLS_LDX:
		text_add(t, "ldx%s%s %%r%u, ", COMB_MODE(in->code) == COMB_MODE_MEMSX ? "s" : "", size,
			 in->dst);
		conf_mem(t, in->src, in->off);
		break;
	case COMB_CLS_ST:
		text_add(t, "st%s ", size);
		conf_mem(t, in->dst, in->off);
		text_add(t, ", %" PRId32, in->imm);
		break;
	default:
		if (COMB_MODE(in->code) == COMB_MODE_ATOMIC) {
			bool fetch = (in->imm & COMB_ATOMIC_FETCH) && in->imm != COMB_ATOMIC_XCHG &&
				     in->imm != COMB_ATOMIC_CMPXCHG;
			text_add(t, "lock %s%s%s ", fetch ? "fetch " : "",
				 comb_atomic_name(fetch ? in->imm & ~COMB_ATOMIC_FETCH : in->imm),
				 COMB_SIZE(in->code) == COMB_SIZE_W ? "32" : "");
		} else {
			text_add(t, "stx%s ", size);
		}
		conf_mem(t, in->dst, in->off);
		text_add(t, ", %%r%u", in->src);
	}
}

static void print_conformance(struct text *t, const struct comb_insn *in)
{
	switch (COMB_CLASS(in->code)) {
	case COMB_CLS_ALU:
	case COMB_CLS_ALU64:
		conf_alu(t, in);
		break;
	case COMB_CLS_JMP:
	case COMB_CLS_JMP32:
		conf_jmp(t, in);
		break;
	case COMB_CLS_LD:
		conf_ld(t, in);
		break;
	default:
		conf_mem_insn(t, in);
	}
}

int comb_disasm_insn(const struct comb_insn *insns, size_t count, size_t idx,
		     enum comb_syntax syntax, char *buf, size_t buf_len)
{
	struct text t = { buf, 0, buf_len };
	if (buf_len)
		buf[0] = '\0';
	if (!insns || idx >= count) {
		text_add(&t, "no instruction at index %zu", idx);
		return -EINVAL;
	}
	const struct comb_insn *in = &insns[idx];
	const char *why = check_insn(insns, count, idx);
	if (why) {
		describe_invalid(&t, in, why);
		return -EINVAL;
	}
	if (syntax == COMB_SYNTAX_CONFORMANCE)
		print_conformance(&t, in);
	else
		print_llvm(&t, in);
	return comb_insn_is_lddw(in) ? 2 : 1;
}
