/* src/jit/x86_emit.c - x86-64 instruction encodings used by the JIT.
 *
 * Every instruction is built from the same few parts: an optional 0x66
 * prefix, a REX prefix when a 64-bit operand or a register above rdi is
 * involved (or a byte register 4..7 must mean sil/dil rather than dh/bh), one
 * or two opcode bytes, a ModRM byte and, for memory operands, the SIB byte and
 * displacement. See the Intel SDM volume 2, chapter 2.
 */
#include <string.h>
#include "jit/x86_emit.h"

/* ModRM (+SIB) and displacement for [base + disp] with reg in the reg field. */
static inline __attribute__((always_inline)) void emit_mem_operand(struct x86_buf *b, int reg, int base, int32_t disp)
{
	int mod = disp == 0 && (base & 7) != X86_RBP ? 0 : x86_fits8(disp) ? 1 : 2;
	x86_byte(b, (uint8_t)((mod << 6) | ((reg & 7) << 3) | (base & 7)));
	if ((base & 7) == X86_RSP)
		x86_byte(b, 0x24); /* SIB: no index, base */
	if (mod == 1)
		x86_byte(b, (uint8_t)disp);
	else if (mod == 2)
		x86_u32(b, (uint32_t)disp);
}

void x86_rm(struct x86_buf *b, bool prefix66, bool w, uint16_t op, int reg, int base, int32_t disp,
	    bool byte_reg)
{
	X86_LOCAL(b);
	if (prefix66)
		x86_byte(b, 0x66);
	x86_emit_rex(b, w, reg, base, byte_reg && reg >= 4 && reg <= 7);
	x86_emit_opcode(b, op);
	emit_mem_operand(b, reg, base, disp);
	X86_LOCAL_DONE();
}

void x86_mov_rr(struct x86_buf *b, bool w, int dst, int src)
{
	x86_rr(b, w, 0x89, src, dst);
}

void x86_mov_ri(struct x86_buf *b, bool w, int dst, uint64_t imm)
{
	X86_LOCAL(b);
	if (!w)
		imm = (uint32_t)imm;
	if (imm == 0) {
		x86_rr(b, false, 0x31, dst, dst); /* xor r32, r32 */
	} else if (imm <= UINT32_MAX) {
		x86_emit_rex(b, false, 0, dst, false);
		x86_byte(b, (uint8_t)(0xb8 + (dst & 7)));
		x86_u32(b, (uint32_t)imm);
	} else if (x86_fits32((int64_t)imm)) {
		x86_rr(b, true, 0xc7, 0, dst);
		x86_u32(b, (uint32_t)imm);
	} else {
		x86_emit_rex(b, true, 0, dst, false);
		x86_byte(b, (uint8_t)(0xb8 + (dst & 7)));
		x86_u64(b, imm);
	}
	X86_LOCAL_DONE();
}

void x86_alu_rr(struct x86_buf *b, bool w, enum x86_alu op, int dst, int src)
{
	x86_rr(b, w, (uint16_t)((op << 3) | 1), src, dst);
}

void x86_alu_ri(struct x86_buf *b, bool w, enum x86_alu op, int dst, int32_t imm)
{
	X86_LOCAL(b);
	if (x86_fits8(imm)) {
		x86_rr(b, w, 0x83, op, dst);
		x86_byte(b, (uint8_t)imm);
	} else if (dst == X86_RAX) {
		x86_emit_rex(b, w, 0, 0, false);
		x86_byte(b, (uint8_t)((op << 3) | 5));
		x86_u32(b, (uint32_t)imm);
	} else {
		x86_rr(b, w, 0x81, op, dst);
		x86_u32(b, (uint32_t)imm);
	}
	X86_LOCAL_DONE();
}

void x86_test_rr(struct x86_buf *b, bool w, int a, int c)
{
	x86_rr(b, w, 0x85, c, a);
}

void x86_test_ri(struct x86_buf *b, bool w, int a, int32_t imm)
{
	X86_LOCAL(b);
	x86_rr(b, w, 0xf7, 0, a);
	x86_u32(b, (uint32_t)imm);
	X86_LOCAL_DONE();
}

void x86_imul_rr(struct x86_buf *b, bool w, int dst, int src)
{
	x86_rr(b, w, 0x0faf, dst, src);
}

void x86_imul_ri(struct x86_buf *b, bool w, int dst, int32_t imm)
{
	X86_LOCAL(b);
	if (x86_fits8(imm)) {
		x86_rr(b, w, 0x6b, dst, dst);
		x86_byte(b, (uint8_t)imm);
	} else {
		x86_rr(b, w, 0x69, dst, dst);
		x86_u32(b, (uint32_t)imm);
	}
	X86_LOCAL_DONE();
}

void x86_shift_ri(struct x86_buf *b, bool w, enum x86_shift op, int dst, uint8_t n)
{
	X86_LOCAL(b);
	if (n == 1) {
		x86_rr(b, w, 0xd1, op, dst);
	} else {
		x86_rr(b, w, 0xc1, op, dst);
		x86_byte(b, n);
	}
	X86_LOCAL_DONE();
}

void x86_shift_cl(struct x86_buf *b, bool w, enum x86_shift op, int dst)
{
	x86_rr(b, w, 0xd3, op, dst);
}

void x86_neg(struct x86_buf *b, bool w, int dst)
{
	x86_rr(b, w, 0xf7, 3, dst);
}

void x86_div(struct x86_buf *b, bool w, bool is_signed, int src)
{
	x86_rr(b, w, 0xf7, is_signed ? 7 : 6, src);
}

void x86_cqo(struct x86_buf *b, bool w)
{
	X86_LOCAL(b);
	if (w)
		x86_byte(b, 0x48);
	x86_byte(b, 0x99);
	X86_LOCAL_DONE();
}

void x86_bswap(struct x86_buf *b, bool w, int reg)
{
	X86_LOCAL(b);
	x86_emit_rex(b, w, 0, reg, false);
	x86_byte(b, 0x0f);
	x86_byte(b, (uint8_t)(0xc8 + (reg & 7)));
	X86_LOCAL_DONE();
}

void x86_movzx16(struct x86_buf *b, int dst, int src)
{
	x86_rr(b, false, 0x0fb7, dst, src);
}

void x86_movsx_rr(struct x86_buf *b, bool w, int bits, int dst, int src)
{
	if (bits == 8)
		x86_emit_rr(b, false, w, 0x0fbe, dst, src, src >= 4 && src <= 7);
	else if (bits == 16)
		x86_rr(b, w, 0x0fbf, dst, src);
	else
		x86_rr(b, true, 0x63, dst, src);
}

void x86_lea(struct x86_buf *b, int dst, int base, int32_t disp)
{
	x86_rm(b, false, true, 0x8d, dst, base, disp, false);
}

void x86_lea_index(struct x86_buf *b, bool w, int dst, int base, int index, int scale, int32_t disp)
{
	X86_LOCAL(b);
	uint8_t rex = 0x40 | (w ? 8 : 0) | ((dst & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) | ((base & 8) ? 1 : 0);
	if (rex != 0x40)
		x86_byte(b, rex);
	x86_byte(b, 0x8d);
	int mod = disp == 0 && (base & 7) != X86_RBP ? 0 : x86_fits8(disp) ? 1 : 2;
	x86_byte(b, (uint8_t)((mod << 6) | ((dst & 7) << 3) | 4));
	x86_byte(b, (uint8_t)((scale << 6) | ((index & 7) << 3) | (base & 7)));
	if (mod == 1)
		x86_byte(b, (uint8_t)disp);
	else if (mod == 2)
		x86_u32(b, (uint32_t)disp);
	X86_LOCAL_DONE();
}

void x86_shiftx(struct x86_buf *b, bool w, enum x86_shift op, int dst, int src, int count)
{
	X86_LOCAL(b);
	/* VEX.LZ.{66,F2,F3}.0F38.W F7 /r: reg = dst, rm = src, vvvv = count. */
	uint8_t pp = op == X86_SHL ? 1 : op == X86_SHR ? 3 : 2;
	x86_byte(b, 0xc4);
	x86_byte(b, (uint8_t)(((dst & 8) ? 0 : 0x80) | 0x40 | ((src & 8) ? 0 : 0x20) | 0x02));
	x86_byte(b, (uint8_t)((w ? 0x80 : 0) | ((~count & 15) << 3) | pp));
	x86_byte(b, 0xf7);
	x86_byte(b, (uint8_t)(0xc0 | ((dst & 7) << 3) | (src & 7)));
	X86_LOCAL_DONE();
}

void x86_cmov(struct x86_buf *b, bool w, enum x86_cond cc, int dst, int src)
{
	x86_rr(b, w, (uint16_t)(0x0f40 | cc), dst, src);
}

void x86_nops(struct x86_buf *b, size_t n)
{
	static const uint8_t nops[9][9] = {
		{ 0x90 },
		{ 0x66, 0x90 },
		{ 0x0f, 0x1f, 0x00 },
		{ 0x0f, 0x1f, 0x40, 0x00 },
		{ 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
		{ 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
	};
	while (n) {
		size_t k = n > 9 ? 9 : n;
		if (b->len + k <= b->cap)
			memcpy(b->p + b->len, nops[k - 1], k);
		b->len += k;
		n -= k;
	}
}

void x86_load(struct x86_buf *b, int size, bool sign, int dst, int base, int32_t disp)
{
	switch (size) {
	case 1: x86_rm(b, false, sign, sign ? 0x0fbe : 0x0fb6, dst, base, disp, false); break;
	case 2: x86_rm(b, false, sign, sign ? 0x0fbf : 0x0fb7, dst, base, disp, false); break;
	case 4: x86_rm(b, false, sign, sign ? 0x63 : 0x8b, dst, base, disp, false); break;
	default: x86_rm(b, false, true, 0x8b, dst, base, disp, false); break;
	}
}

/* op reg, [base + index + disp]: REX, opcode, ModRM with a SIB (scale 1). */
static void x86_rm_index(struct x86_buf *b, bool w, uint16_t op, int reg, int base, int index, int32_t disp)
{
	X86_LOCAL(b);
	uint8_t rex = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((index & 8) ? 2 : 0) | ((base & 8) ? 1 : 0);
	if (rex != 0x40)
		x86_byte(b, rex);
	x86_emit_opcode(b, op);
	int mod = disp == 0 && (base & 7) != X86_RBP ? 0 : x86_fits8(disp) ? 1 : 2;
	x86_byte(b, (uint8_t)((mod << 6) | ((reg & 7) << 3) | 4));
	x86_byte(b, (uint8_t)(((index & 7) << 3) | (base & 7)));
	if (mod == 1)
		x86_byte(b, (uint8_t)disp);
	else if (mod == 2)
		x86_u32(b, (uint32_t)disp);
	X86_LOCAL_DONE();
}

void x86_load_index(struct x86_buf *b, int size, bool sign, int dst, int base, int index, int32_t disp)
{
	switch (size) {
	case 1: x86_rm_index(b, sign, sign ? 0x0fbe : 0x0fb6, dst, base, index, disp); break;
	case 2: x86_rm_index(b, sign, sign ? 0x0fbf : 0x0fb7, dst, base, index, disp); break;
	case 4: x86_rm_index(b, sign, sign ? 0x63 : 0x8b, dst, base, index, disp); break;
	default: x86_rm_index(b, true, 0x8b, dst, base, index, disp); break;
	}
}

void x86_store_r(struct x86_buf *b, int size, int base, int32_t disp, int src)
{
	switch (size) {
	case 1: x86_rm(b, false, false, 0x88, src, base, disp, true); break;
	case 2: x86_rm(b, true, false, 0x89, src, base, disp, false); break;
	case 4: x86_rm(b, false, false, 0x89, src, base, disp, false); break;
	default: x86_rm(b, false, true, 0x89, src, base, disp, false); break;
	}
}

void x86_store_i(struct x86_buf *b, int size, int base, int32_t disp, int32_t imm)
{
	switch (size) {
	case 1:
		x86_rm(b, false, false, 0xc6, 0, base, disp, false);
		x86_byte(b, (uint8_t)imm);
		break;
	case 2:
		x86_rm(b, true, false, 0xc7, 0, base, disp, false);
		x86_byte(b, (uint8_t)imm);
		x86_byte(b, (uint8_t)(imm >> 8));
		break;
	default:
		x86_rm(b, false, size == 8, 0xc7, 0, base, disp, false);
		x86_u32(b, (uint32_t)imm);
		break;
	}
}

void x86_push(struct x86_buf *b, int reg)
{
	X86_LOCAL(b);
	x86_emit_rex(b, false, 0, reg, false);
	x86_byte(b, (uint8_t)(0x50 + (reg & 7)));
	X86_LOCAL_DONE();
}

void x86_pop(struct x86_buf *b, int reg)
{
	X86_LOCAL(b);
	x86_emit_rex(b, false, 0, reg, false);
	x86_byte(b, (uint8_t)(0x58 + (reg & 7)));
	X86_LOCAL_DONE();
}

void x86_call_r(struct x86_buf *b, int reg)
{
	x86_rr(b, false, 0xff, 2, reg);
}

void x86_ret(struct x86_buf *b) { x86_byte(b, 0xc3); }

void x86_jmp(struct x86_buf *b, size_t target, bool short_form)
{
	X86_LOCAL(b);
	if (short_form) {
		x86_byte(b, 0xeb);
		x86_byte(b, (uint8_t)((int64_t)target - (int64_t)(b->len + 1)));
	} else {
		x86_byte(b, 0xe9);
		x86_u32(b, (uint32_t)((int64_t)target - (int64_t)(b->len + 4)));
	}
	X86_LOCAL_DONE();
}

void x86_jcc(struct x86_buf *b, enum x86_cond cc, size_t target, bool short_form)
{
	X86_LOCAL(b);
	if (short_form) {
		x86_byte(b, (uint8_t)(0x70 + cc));
		x86_byte(b, (uint8_t)((int64_t)target - (int64_t)(b->len + 1)));
	} else {
		x86_byte(b, 0x0f);
		x86_byte(b, (uint8_t)(0x80 + cc));
		x86_u32(b, (uint32_t)((int64_t)target - (int64_t)(b->len + 4)));
	}
	X86_LOCAL_DONE();
}

void x86_call_rel(struct x86_buf *b, size_t target)
{
	X86_LOCAL(b);
	x86_byte(b, 0xe8);
	x86_u32(b, (uint32_t)((int64_t)target - (int64_t)(b->len + 4)));
	X86_LOCAL_DONE();
}

void x86_jmp_m(struct x86_buf *b, int base, int32_t disp)
{
	x86_rm(b, false, false, 0xff, 4, base, disp, false);
}

void x86_lock(struct x86_buf *b) { x86_byte(b, 0xf0); }
