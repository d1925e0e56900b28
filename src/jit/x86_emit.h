/* src/jit/x86_emit.h - a small x86-64 instruction encoder for the JIT.
 *
 * Each function appends one instruction to a byte buffer. Registers are the
 * hardware numbers (rax = 0 ... r15 = 15); "w" selects the 64-bit form (REX.W)
 * and the 32-bit forms zero-extend their result as the hardware does, which
 * is exactly eBPF's ALU32 rule. Memory operands are [base + disp32] with the
 * short encodings (no displacement, disp8) chosen when they fit. The buffer
 * never overflows: writes past its capacity are counted and dropped, and the
 * caller checks x86_buf_overflowed() once at the end.
 */
#ifndef COMB_JIT_X86_EMIT_H
#define COMB_JIT_X86_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum x86_reg {
	X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};

/* Condition codes (the low nibble of Jcc). */
enum x86_cond {
	X86_CC_B = 0x2, X86_CC_AE = 0x3, X86_CC_E = 0x4, X86_CC_NE = 0x5, X86_CC_BE = 0x6,
	X86_CC_A = 0x7, X86_CC_S = 0x8, X86_CC_L = 0xc, X86_CC_GE = 0xd, X86_CC_LE = 0xe,
	X86_CC_G = 0xf,
};

/* Group-1 arithmetic: the /digit of 0x81/0x83 and (digit << 3 | 1) for r/m,r. */
enum x86_alu { X86_ADD = 0, X86_OR = 1, X86_AND = 4, X86_SUB = 5, X86_XOR = 6, X86_CMP = 7 };
/* Group-2 shifts (/digit of 0xC1 / 0xD3). */
enum x86_shift { X86_ROL = 0, X86_SHL = 4, X86_SHR = 5, X86_SAR = 7 };

struct x86_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

static inline bool x86_buf_overflowed(const struct x86_buf *b) { return b->len > b->cap; }
static inline bool x86_fits8(int64_t v) { return v >= -128 && v <= 127; }
static inline bool x86_fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

/* An encoder writes through a copy of the buffer and stores the length
 * once at its end: the code bytes are chars, which may alias b->len, so
 * writing through b itself would reload and store the length at every
 * byte (a chain of store-to-load forwarding through memory). */
#define X86_LOCAL(b) struct x86_buf x86_local_ = *(b), *const x86_out_ = (b); (b) = &x86_local_
#define X86_LOCAL_DONE() (x86_out_->len = x86_local_.len)

/* Internal to libcomb: hidden, so calls stay direct and may be inlined. */
#pragma GCC visibility push(hidden)

static inline void x86_byte(struct x86_buf *b, uint8_t v)
{
	if (b->len < b->cap)
		b->p[b->len] = v;
	b->len++;
}

static inline void x86_u32(struct x86_buf *b, uint32_t v)
{
	if (b->len + 4 <= b->cap) {
		b->p[b->len] = (uint8_t)v;
		b->p[b->len + 1] = (uint8_t)(v >> 8);
		b->p[b->len + 2] = (uint8_t)(v >> 16);
		b->p[b->len + 3] = (uint8_t)(v >> 24);
	}
	b->len += 4;
}

static inline void x86_u64(struct x86_buf *b, uint64_t v)
{
	x86_u32(b, (uint32_t)v);
	x86_u32(b, (uint32_t)(v >> 32));
}

/* The parts every encoding is built from (x86_emit.c), here so that the
 * most used encoding, x86_rr, is inlined where it is used (compile time). */
static inline __attribute__((always_inline)) void x86_emit_rex(struct x86_buf *b, bool w, int reg, int rm, bool force)
{
	uint8_t rex = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0);
	/* Without a branch (which registers an instruction uses is data the
	 * CPU cannot predict; compile time): the byte is written anyway and
	 * counted only when needed, else the opcode after it overwrites it. */
	if (b->len < b->cap)
		b->p[b->len] = rex;
	b->len += (size_t)((rex != 0x40) | force);
}

static inline __attribute__((always_inline)) void x86_emit_opcode(struct x86_buf *b, uint16_t op)
{
	if (op > 0xff)
		x86_byte(b, (uint8_t)(op >> 8));
	x86_byte(b, (uint8_t)op);
}

static inline __attribute__((always_inline)) void x86_emit_rr(struct x86_buf *b, bool prefix66, bool w, uint16_t op, int reg, int rm, bool force_rex)
{
	X86_LOCAL(b);
	if (prefix66)
		x86_byte(b, 0x66);
	x86_emit_rex(b, w, reg, rm, force_rex);
	x86_emit_opcode(b, op);
	x86_byte(b, (uint8_t)(0xc0 | ((reg & 7) << 3) | (rm & 7)));
	X86_LOCAL_DONE();
}

/* Register-register: op is one or two opcode bytes (0x0F first for two). */
static inline void x86_rr(struct x86_buf *b, bool w, uint16_t op, int reg, int rm)
{
	x86_emit_rr(b, false, w, op, reg, rm, false);
}

/* Register-memory [base + disp]: prefix66 for 16-bit forms; byte_reg when
 * reg is an 8-bit operand (forces REX so 4..7 mean spl..dil). */
void x86_rm(struct x86_buf *b, bool prefix66, bool w, uint16_t op, int reg, int base, int32_t disp,
	    bool byte_reg);

void x86_mov_rr(struct x86_buf *b, bool w, int dst, int src);
/* dst = imm (64: the shortest of xor, mov r32, mov r64 sign-extended, movabs). */
void x86_mov_ri(struct x86_buf *b, bool w, int dst, uint64_t imm);
void x86_alu_rr(struct x86_buf *b, bool w, enum x86_alu op, int dst, int src);
void x86_alu_ri(struct x86_buf *b, bool w, enum x86_alu op, int dst, int32_t imm);
void x86_test_rr(struct x86_buf *b, bool w, int a, int c);
void x86_test_ri(struct x86_buf *b, bool w, int a, int32_t imm);
void x86_imul_rr(struct x86_buf *b, bool w, int dst, int src);
void x86_imul_ri(struct x86_buf *b, bool w, int dst, int32_t imm);
void x86_shift_ri(struct x86_buf *b, bool w, enum x86_shift op, int dst, uint8_t n);
void x86_shift_cl(struct x86_buf *b, bool w, enum x86_shift op, int dst);
void x86_neg(struct x86_buf *b, bool w, int dst);
/* div (unsigned) or idiv (signed) of rdx:rax by src. */
void x86_div(struct x86_buf *b, bool w, bool is_signed, int src);
void x86_cqo(struct x86_buf *b, bool w);
void x86_bswap(struct x86_buf *b, bool w, int reg);
void x86_movzx16(struct x86_buf *b, int dst, int src);
void x86_movsx_rr(struct x86_buf *b, bool w, int bits, int dst, int src);
void x86_lea(struct x86_buf *b, int dst, int base, int32_t disp);
/* dst = base + index * (1 << scale) + disp (w: 64-bit result, else 32-bit
 * zero-extended); index must not be rsp. */
void x86_lea_index(struct x86_buf *b, bool w, int dst, int base, int index, int scale, int32_t disp);
/* BMI2 shlx/shrx/sarx: dst = src shifted by count (masked as shl does);
 * flags untouched. Only where the CPU has BMI2. */
void x86_shiftx(struct x86_buf *b, bool w, enum x86_shift op, int dst, int src, int count);
/* cmovcc dst, src */
void x86_cmov(struct x86_buf *b, bool w, enum x86_cond cc, int dst, int src);
/* n bytes of the recommended multi-byte nops. */
void x86_nops(struct x86_buf *b, size_t n);

/* Loads: size 1, 2, 4, 8 bytes; zero-extending or sign-extending. */
void x86_load(struct x86_buf *b, int size, bool sign, int dst, int base, int32_t disp);
/* The same load from [base + index + disp] (index: not rsp). */
void x86_load_index(struct x86_buf *b, int size, bool sign, int dst, int base, int index, int32_t disp);
void x86_store_r(struct x86_buf *b, int size, int base, int32_t disp, int src);
void x86_store_i(struct x86_buf *b, int size, int base, int32_t disp, int32_t imm);

void x86_push(struct x86_buf *b, int reg);
void x86_pop(struct x86_buf *b, int reg);
void x86_call_r(struct x86_buf *b, int reg);
void x86_ret(struct x86_buf *b);
/* Jumps to an absolute buffer offset; short forms when short is true. */
void x86_jmp(struct x86_buf *b, size_t target, bool short_form);
void x86_jcc(struct x86_buf *b, enum x86_cond cc, size_t target, bool short_form);
void x86_call_rel(struct x86_buf *b, size_t target);
/* jmp qword [base + disp] */
void x86_jmp_m(struct x86_buf *b, int base, int32_t disp);
/* lock-prefixed forms for atomics. */
void x86_lock(struct x86_buf *b);

#pragma GCC visibility pop

#endif
