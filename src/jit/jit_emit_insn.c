/* src/jit/jit_emit_insn.c - the emission pass: the x86-64 code of each
 * eBPF instruction.
 *
 * The pass (jit_emit_pass) walks the instructions once: per instruction it
 * tries a bounds-decided jump, then the peepholes (jit_opt.c), then the
 * instruction's own code. It does so through one step function per
 * instruction kind (emit_step inlined with the kind a constant), reached by
 * one indirect call: testing the kind against emitter after emitter cost
 * several mispredicted branches per instruction on code the CPU had not
 * seen, a third of the compile time. It tracks unsigned upper bounds over
 * straight-line code: a conditional jump they decide becomes a jmp or
 * nothing (clang's second loop-bound test). The pass, the bounds and the
 * per-instruction emitters share this file so the hot path stays one unit
 * of compilation (compile time).
 *
 * Emitters: ALU (with BMI2's shlx/shrx/sarx for shifts by a register
 * where the CPU has them; division saves rax/rdx only while they hold live values, and
 * takes the ISA's results for division by zero and INT_MIN / -1 through
 * explicit tests, never a trap), moves, loads and stores, atomics,
 * conditional jumps (against 0 reusing the flags of the ALU instruction
 * before), calls (helpers, callx, tail calls, bpf-to-bpf) and exits.
 * Branches between instructions are only recorded (emit_jump); jumps to
 * the shared exits are long rel32s noted as fixups for compact() (jit.c).
 *
 * Constant blinding (comb_prog_opts.jit_harden, as the kernel's
 * bpf_jit_harden): each immediate of an ALU, jump, store or LDDW
 * instruction is loaded as (imm ^ key) and then XOR-ed with key, into r11 or
 * the destination, and the register form of the instruction is used; keys
 * come from a generator seeded per program from getrandom(),
 * per program. Shift counts (one byte) are
 * not blinded, as in the kernel.
 *
 * bpf_map_lookup_elem with a map known at the call site (r1 loaded by an
 * LDDW of the map in the same basic block): a plain ARRAY map is inlined
 * as the kernel does (bounds check, index * stride + base), any other map
 * calls its family's lookup directly, without the helper's dispatch and the
 * callback-failure check (a lookup runs no callbacks).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "jit/jit_internal.h"
#include "maps/internal.h"


/* ---- local forward branches inside one instruction's code ---- */

static size_t jcc_forward(struct x86_buf *b, enum x86_cond cc)
{
	x86_byte(b, (uint8_t)(0x70 + cc));
	x86_byte(b, 0);
	return b->len;
}

static size_t jmp_forward(struct x86_buf *b)
{
	x86_byte(b, 0xeb);
	x86_byte(b, 0);
	return b->len;
}

static void land_here(struct x86_buf *b, size_t after_branch)
{
	if (after_branch <= b->cap)
		b->p[after_branch - 1] = (uint8_t)(b->len - after_branch);
}

/* Note that the 4 bytes before the end of the code are a rel32 aimed at
 * target (an offset, or FIX_INSN | instruction). */
static void add_fixup(struct jit_compiler *c, uint32_t target)
{
	if (c->nfix == c->fix_cap) {
		size_t cap = c->fix_cap ? 2 * c->fix_cap : 64;
		struct jit_fixup *fix = realloc(c->fix, cap * sizeof(*fix));
		if (!fix) {
			c->out_of_memory = true; /* reported at the end of the pass */
			return;
		}
		c->fix = fix;
		c->fix_cap = cap;
	}
	c->fix[c->nfix++] = (struct jit_fixup){ (uint32_t)c->b.len - 4, target };
}

/* A branch from the body to a shared exit stub placed before it: always
 * long, so code size never depends on position; compact() re-aims it. */
static void jcc_stub(struct jit_compiler *c, enum x86_cond cc, size_t stub)
{
	x86_jcc(&c->b, cc, stub, false);
	add_fixup(c, (uint32_t)stub);
}

static void jmp_exit(struct jit_compiler *c, size_t stub)
{
	x86_jmp(&c->b, stub, false);
	add_fixup(c, (uint32_t)stub);
}

/* Did the verifier prove fact (COMB_FACT_*) of instruction i (prog->facts)? */
static bool has_fact(const struct jit_compiler *c, size_t i, uint8_t fact)
{
	return c->prog->facts && (c->prog->facts[i] & fact);
}

/* ---- constant blinding ---- */

static uint64_t next_blind_key(struct jit_compiler *c)
{
	uint64_t z = (c->blind_state += 0x9e3779b97f4a7c15ull); /* splitmix64 */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* reg = imm (sign-extended to 64 bits when w) without imm in the code. */
static void emit_blinded_imm(struct jit_compiler *c, bool w, int reg, int32_t imm)
{
	uint32_t key;
	do
		key = (uint32_t)next_blind_key(c);
	while (key == (uint32_t)imm);
	uint32_t masked = (uint32_t)imm ^ key;
	x86_mov_ri(&c->b, w, reg, w ? (uint64_t)(int64_t)(int32_t)masked : masked);
	x86_alu_ri(&c->b, w, X86_XOR, reg, (int32_t)key);
}

/* dst = 64-bit value, blinded when hardening. */
static void emit_imm64(struct jit_compiler *c, int dst, uint64_t value)
{
	if (!c->harden) {
		x86_mov_ri(&c->b, true, dst, value);
		return;
	}
	uint64_t key;
	do
		key = next_blind_key(c);
	while (key == value || (uint32_t)key == (uint32_t)value || (uint32_t)(key >> 32) == (uint32_t)(value >> 32));
	x86_mov_ri(&c->b, true, dst, value ^ key);
	x86_mov_ri(&c->b, true, X86_R11, key);
	x86_alu_rr(&c->b, true, X86_XOR, dst, X86_R11);
}

/* ---- arithmetic ---- */

static void emit_shift_x(struct jit_compiler *c, bool w, enum x86_shift op, int dst, int src)
{
	struct x86_buf *b = &c->b;
	if (c->bmi2) {
		x86_shiftx(b, w, op, dst, dst, src);
		return;
	}
	if (src == X86_RCX) {
		x86_shift_cl(b, w, op, dst);
		return;
	}
	x86_mov_rr(b, true, X86_R11, X86_RCX);
	x86_mov_rr(b, true, X86_RCX, src);
	x86_shift_cl(b, w, op, dst == X86_RCX ? X86_R11 : dst);
	x86_mov_rr(b, true, X86_RCX, X86_R11);
}

/* Must the division at the current instruction keep eBPF register r (in
 * hardware register hw) intact? Not when it is the destination or dead. */
static bool div_must_keep(const struct jit_compiler *c, int r, int hw, int dst)
{
	return hw != dst && !comb_jit_reg_dead_at(c->code, c->prog->count, c->cur + 1, r);
}

/* dst = dst op r11 with rax (r0) and rdx (r3) borrowed, saved in r10 and
 * r9 only while they hold live values; r11 is a valid divisor. */
static void emit_div_core(struct jit_compiler *c, bool w, bool is_signed, bool is_mod, int dst)
{
	struct x86_buf *b = &c->b;
	bool keep_rax = div_must_keep(c, 0, X86_RAX, dst);
	bool keep_rdx = div_must_keep(c, 3, X86_RDX, dst);
	if (keep_rax)
		x86_mov_rr(b, true, X86_R10, X86_RAX);
	if (keep_rdx)
		x86_mov_rr(b, true, X86_R9, X86_RDX);
	if (dst != X86_RAX)
		x86_mov_rr(b, true, X86_RAX, dst);
	if (is_signed)
		x86_cqo(b, w);
	else
		x86_mov_ri(b, false, X86_RDX, 0);
	x86_div(b, w, is_signed, X86_R11);
	int result = is_mod ? X86_RDX : X86_RAX;
	if (dst != result)
		x86_mov_rr(b, true, dst, result);
	if (keep_rax)
		x86_mov_rr(b, true, X86_RAX, X86_R10);
	if (keep_rdx)
		x86_mov_rr(b, true, X86_RDX, X86_R9);
}

/* Unsigned division and modulo by a register with no taken branch when the
 * divisor is not 0: the flags of `test` decide both a cmov that gives
 * x / 0 its 0 ahead of time (the divisor itself is that 0) and the skip of
 * the div; x % 0 = x needs only the zero-extension of a 32-bit result. */
static void emit_udiv_x(struct jit_compiler *c, bool w, bool is_mod, int dst, int src)
{
	struct x86_buf *b = &c->b;
	x86_mov_rr(b, w, X86_R11, src);
	x86_test_rr(b, w, X86_R11, X86_R11);
	if (!is_mod)
		x86_cmov(b, w, X86_CC_E, dst, X86_R11);
	else if (!w)
		x86_mov_rr(b, false, dst, dst);
	size_t to_done = jcc_forward(b, X86_CC_E);
	emit_div_core(c, w, false, is_mod, dst);
	land_here(b, to_done);
}

/* Division and modulo by a register: x / 0 = 0, x % 0 = x, x s/ -1 = -x,
 * x s% -1 = 0 (RFC 9669 section 4.1), without ever executing a trapping div.
 * The zero test goes when the verifier proved the divisor never 0, the -1
 * test when it proved INT_MIN / -1 impossible (COMB_FACT_DIV_*). */
static void emit_div_x(struct jit_compiler *c, bool w, bool is_signed, bool is_mod, int dst, int src)
{
	struct x86_buf *b = &c->b;
	bool test_zero = !has_fact(c, c->cur, COMB_FACT_DIV_NONZERO);
	bool test_minus1 = is_signed && !has_fact(c, c->cur, COMB_FACT_DIV_NO_OVERFLOW);
	if (!is_signed && test_zero) {
		emit_udiv_x(c, w, is_mod, dst, src);
		return;
	}
	x86_mov_rr(b, w, X86_R11, src);
	size_t to_zero = 0, to_minus1 = 0, to_done2 = 0;
	if (test_zero) {
		x86_test_rr(b, w, X86_R11, X86_R11);
		to_zero = jcc_forward(b, X86_CC_E);
	}
	if (test_minus1) {
		x86_alu_ri(b, w, X86_CMP, X86_R11, -1);
		to_minus1 = jcc_forward(b, X86_CC_E);
	}
	emit_div_core(c, w, is_signed, is_mod, dst);
	if (!test_zero && !test_minus1)
		return;
	size_t to_done = jmp_forward(b);
	if (test_zero) {
		land_here(b, to_zero);
		if (!is_mod)
			x86_mov_ri(b, false, dst, 0);
		else if (!w)
			x86_mov_rr(b, false, dst, dst);
		if (test_minus1)
			to_done2 = jmp_forward(b);
	}
	if (test_minus1) {
		land_here(b, to_minus1);
		if (is_mod)
			x86_mov_ri(b, false, dst, 0);
		else
			x86_neg(b, w, dst);
	}
	land_here(b, to_done);
	if (to_done2)
		land_here(b, to_done2);
}

static void emit_div_k(struct jit_compiler *c, bool w, bool is_signed, bool is_mod, int dst, int32_t imm)
{
	if (c->harden)
		emit_blinded_imm(c, w, X86_R11, imm);
	else
		x86_mov_ri(&c->b, w, X86_R11, w ? (uint64_t)(int64_t)imm : (uint32_t)imm);
	emit_div_core(c, w, is_signed, is_mod, dst);
}

static enum x86_alu alu_of(enum comb_handler_kind k)
{
	switch (k) {
	case H_ADD64_K: case H_ADD64_X: case H_ADD32_K: case H_ADD32_X: return X86_ADD;
	case H_SUB64_K: case H_SUB64_X: case H_SUB32_K: case H_SUB32_X: return X86_SUB;
	case H_OR64_K: case H_OR64_X: case H_OR32_K: case H_OR32_X: return X86_OR;
	case H_AND64_K: case H_AND64_X: case H_AND32_K: case H_AND32_X: return X86_AND;
	default: return X86_XOR;
	}
}

/* The flags now describe dst after op (w bits wide). */
static void note_flags(struct jit_compiler *c, int dst, bool w, enum x86_alu op)
{
	flags_store(&c->fl, dst, w, op == X86_AND || op == X86_OR || op == X86_XOR);
}

/* dst = dst * imm + add as lea or shl, for imm 3, 5, 9 (lea's scales plus
 * one) or a power of two (shl, when add is 0); false for other factors. */
bool jit_emit_mul_by_shape(struct x86_buf *b, bool w, int dst, int32_t imm, int32_t add)
{
	if (imm == 3 || imm == 5 || imm == 9) {
		x86_lea_index(b, w, dst, dst, dst, imm == 3 ? 1 : imm == 5 ? 2 : 3, add);
		return true;
	}
	if (add == 0 && imm > 1 && (imm & (imm - 1)) == 0) {
		x86_shift_ri(b, w, X86_SHL, dst, (uint8_t)__builtin_ctz((uint32_t)imm));
		return true;
	}
	return false;
}

/* Group-1 ops, multiplication, shifts, division: true if k was one. */
inline __attribute__((always_inline)) bool jit_emit_alu(struct jit_compiler *c, const struct dinsn *d)
{
	struct x86_buf *b = &c->b;
	enum comb_handler_kind k = d->kind;
	int dst = reg_map[d->dst], src = reg_map[d->src & 15];
	switch (k) {
	case H_ADD64_K: case H_SUB64_K: case H_OR64_K: case H_AND64_K: case H_XOR64_K:
	case H_ADD32_K: case H_SUB32_K: case H_OR32_K: case H_AND32_K: case H_XOR32_K: {
		bool w = k <= H_XOR64_K && k >= H_ADD64_K;
		if (c->harden) {
			emit_blinded_imm(c, w, X86_R11, d->imm);
			x86_alu_rr(b, w, alu_of(k), dst, X86_R11);
		} else {
			x86_alu_ri(b, w, alu_of(k), dst, d->imm);
		}
		note_flags(c, dst, w, alu_of(k));
		return true;
	}
	case H_ADD64_X: case H_SUB64_X: case H_OR64_X: case H_AND64_X: case H_XOR64_X:
		x86_alu_rr(b, true, alu_of(k), dst, src);
		note_flags(c, dst, true, alu_of(k));
		return true;
	case H_ADD32_X: case H_SUB32_X: case H_OR32_X: case H_AND32_X: case H_XOR32_X:
		x86_alu_rr(b, false, alu_of(k), dst, src);
		note_flags(c, dst, false, alu_of(k));
		return true;
	case H_MUL64_K: case H_MUL32_K: {
		bool w = k == H_MUL64_K;
		if (c->harden) {
			emit_blinded_imm(c, w, X86_R11, d->imm);
			x86_imul_rr(b, w, dst, X86_R11);
		} else if (!jit_emit_mul_by_shape(b, w, dst, d->imm, 0)) {
			x86_imul_ri(b, w, dst, d->imm);
		}
		return true;
	}
	case H_MUL64_X: x86_imul_rr(b, true, dst, src); return true;
	case H_MUL32_X: x86_imul_rr(b, false, dst, src); return true;
	case H_LSH64_K: case H_RSH64_K: case H_ARSH64_K:
	case H_LSH32_K: case H_RSH32_K: case H_ARSH32_K: {
		bool w = k == H_LSH64_K || k == H_RSH64_K || k == H_ARSH64_K;
		enum x86_shift op = (k == H_LSH64_K || k == H_LSH32_K) ? X86_SHL
				    : (k == H_RSH64_K || k == H_RSH32_K) ? X86_SHR : X86_SAR;
		if (d->imm) {
			x86_shift_ri(b, w, op, dst, (uint8_t)d->imm);
			flags_store(&c->fl, dst, w, false); /* ZF, SF of the result */
		} else if (!w)
			x86_mov_rr(b, false, dst, dst);
		return true;
	}
	case H_LSH64_X: emit_shift_x(c, true, X86_SHL, dst, src); return true;
	case H_RSH64_X: emit_shift_x(c, true, X86_SHR, dst, src); return true;
	case H_ARSH64_X: emit_shift_x(c, true, X86_SAR, dst, src); return true;
	case H_LSH32_X: emit_shift_x(c, false, X86_SHL, dst, src); return true;
	case H_RSH32_X: emit_shift_x(c, false, X86_SHR, dst, src); return true;
	case H_ARSH32_X: emit_shift_x(c, false, X86_SAR, dst, src); return true;
	case H_DIV64_K: emit_div_k(c, true, false, false, dst, d->imm); return true;
	case H_MOD64_K: emit_div_k(c, true, false, true, dst, d->imm); return true;
	case H_DIV32_K: emit_div_k(c, false, false, false, dst, d->imm); return true;
	case H_MOD32_K: emit_div_k(c, false, false, true, dst, d->imm); return true;
	case H_SDIV64_K: emit_div_k(c, true, true, false, dst, d->imm); return true;
	case H_SMOD64_K: emit_div_k(c, true, true, true, dst, d->imm); return true;
	case H_SDIV32_K: emit_div_k(c, false, true, false, dst, d->imm); return true;
	case H_SMOD32_K: emit_div_k(c, false, true, true, dst, d->imm); return true;
	case H_DIV64_X: emit_div_x(c, true, false, false, dst, src); return true;
	case H_MOD64_X: emit_div_x(c, true, false, true, dst, src); return true;
	case H_DIV32_X: emit_div_x(c, false, false, false, dst, src); return true;
	case H_MOD32_X: emit_div_x(c, false, false, true, dst, src); return true;
	case H_SDIV64_X: emit_div_x(c, true, true, false, dst, src); return true;
	case H_SMOD64_X: emit_div_x(c, true, true, true, dst, src); return true;
	case H_SDIV32_X: emit_div_x(c, false, true, false, dst, src); return true;
	case H_SMOD32_X: emit_div_x(c, false, true, true, dst, src); return true;
	default: return false;
	}
}

/* Moves, negation, sign extension, byte swaps: true if k was one. */
inline __attribute__((always_inline)) bool jit_emit_move(struct jit_compiler *c, const struct dinsn *d)
{
	struct x86_buf *b = &c->b;
	int dst = reg_map[d->dst], src = reg_map[d->src & 15];
	switch (d->kind) {
	case H_MOV64_K:
		if (c->harden)
			emit_blinded_imm(c, true, dst, d->imm);
		else
			x86_mov_ri(b, true, dst, (uint64_t)(int64_t)d->imm);
		return true;
	case H_MOV32_K:
		if (c->harden)
			emit_blinded_imm(c, false, dst, d->imm);
		else
			x86_mov_ri(b, false, dst, (uint32_t)d->imm);
		return true;
	case H_MOV64_X:
		if (dst != src)
			x86_mov_rr(b, true, dst, src);
		return true;
	case H_MOV32_X: x86_mov_rr(b, false, dst, src); return true;
	case H_MOVSX64_8: x86_movsx_rr(b, true, 8, dst, src); return true;
	case H_MOVSX64_16: x86_movsx_rr(b, true, 16, dst, src); return true;
	case H_MOVSX64_32: x86_movsx_rr(b, true, 32, dst, src); return true;
	case H_MOVSX32_8: x86_movsx_rr(b, false, 8, dst, src); return true;
	case H_MOVSX32_16: x86_movsx_rr(b, false, 16, dst, src); return true;
	case H_NEG64: x86_neg(b, true, dst); note_flags(c, dst, true, X86_SUB); return true;
	case H_NEG32: x86_neg(b, false, dst); note_flags(c, dst, false, X86_SUB); return true;
	case H_LE16: x86_movzx16(b, dst, dst); return true;
	case H_LE32: x86_mov_rr(b, false, dst, dst); return true;
	case H_BE16:
		x86_bswap(b, false, dst);
		x86_shift_ri(b, false, X86_SHR, dst, 16);
		return true;
	case H_BE32: x86_bswap(b, false, dst); return true;
	case H_BE64: x86_bswap(b, true, dst); return true;
	case H_NOP: return true;
	default: return false;
	}
}

/* ---- memory ---- */

static inline __attribute__((always_inline)) bool emit_mem(struct jit_compiler *c, const struct dinsn *d)
{
	struct x86_buf *b = &c->b;
	int dst = reg_map[d->dst], src = reg_map[d->src & 15];
	switch (d->kind) {
	case H_LDX_B: x86_load(b, 1, false, dst, src, d->off); return true;
	case H_LDX_H: x86_load(b, 2, false, dst, src, d->off); return true;
	case H_LDX_W: x86_load(b, 4, false, dst, src, d->off); return true;
	case H_LDX_DW: x86_load(b, 8, false, dst, src, d->off); return true;
	case H_LDXS_B: x86_load(b, 1, true, dst, src, d->off); return true;
	case H_LDXS_H: x86_load(b, 2, true, dst, src, d->off); return true;
	case H_LDXS_W: x86_load(b, 4, true, dst, src, d->off); return true;
	case H_ST_B: case H_ST_H: case H_ST_W: case H_ST_DW: {
		int size = d->kind == H_ST_B ? 1 : d->kind == H_ST_H ? 2 : d->kind == H_ST_W ? 4 : 8;
		if (c->harden) {
			emit_blinded_imm(c, true, X86_R11, d->imm);
			x86_store_r(b, size, dst, d->off, X86_R11);
		} else {
			x86_store_i(b, size, dst, d->off, d->imm);
		}
		return true;
	}
	case H_STX_B: x86_store_r(b, 1, dst, d->off, src); return true;
	case H_STX_H: x86_store_r(b, 2, dst, d->off, src); return true;
	case H_STX_W: x86_store_r(b, 4, dst, d->off, src); return true;
	case H_STX_DW: x86_store_r(b, 8, dst, d->off, src); return true;
	default: return false;
	}
}

/* fetch_or/and/xor have no x86 instruction: a lock cmpxchg loop (rax
 * borrowed, saved in r10; the address in r11). */
static void emit_atomic_fetch_loop(struct x86_buf *b, bool w, enum x86_alu op, int base, int16_t off, int src)
{
	int operand = src == X86_RAX ? X86_R10 : src;
	x86_lea(b, X86_R11, base, off);
	x86_mov_rr(b, true, X86_R10, X86_RAX);
	x86_load(b, w ? 8 : 4, false, X86_RAX, X86_R11, 0);
	size_t loop = b->len;
	x86_mov_rr(b, w, X86_R9, X86_RAX);
	x86_alu_rr(b, w, op, X86_R9, operand);
	x86_lock(b);
	x86_rm(b, false, w, 0x0fb1, X86_R9, X86_R11, 0, false);
	x86_jcc(b, X86_CC_NE, loop, true);
	x86_mov_rr(b, w, X86_R9, X86_RAX);
	x86_mov_rr(b, true, X86_RAX, X86_R10);
	x86_mov_rr(b, true, src, X86_R9);
}

static inline __attribute__((always_inline)) bool emit_atomic(struct jit_compiler *c, const struct dinsn *d)
{
	struct x86_buf *b = &c->b;
	int base = reg_map[d->dst], src = reg_map[d->src & 15];
	enum comb_handler_kind k = d->kind;
	bool w;
	if (k >= H_ATOMIC32_ADD && k <= H_ATOMIC32_CMPXCHG) {
		w = false;
		k = k - H_ATOMIC32_ADD + H_ATOMIC64_ADD;
	} else if (k >= H_ATOMIC64_ADD && k <= H_ATOMIC64_CMPXCHG) {
		w = true;
	} else {
		return false;
	}
	static const enum x86_alu plain[] = { X86_ADD, X86_OR, X86_AND, X86_XOR };
	switch (k) {
	case H_ATOMIC64_ADD: case H_ATOMIC64_OR: case H_ATOMIC64_AND: case H_ATOMIC64_XOR:
		x86_lock(b);
		x86_rm(b, false, w, (uint16_t)((plain[k - H_ATOMIC64_ADD] << 3) | 1), src, base, d->off, false);
		break;
	case H_ATOMIC64_FETCH_ADD:
		x86_lock(b);
		x86_rm(b, false, w, 0x0fc1, src, base, d->off, false);
		break;
	case H_ATOMIC64_FETCH_OR: emit_atomic_fetch_loop(b, w, X86_OR, base, d->off, src); break;
	case H_ATOMIC64_FETCH_AND: emit_atomic_fetch_loop(b, w, X86_AND, base, d->off, src); break;
	case H_ATOMIC64_FETCH_XOR: emit_atomic_fetch_loop(b, w, X86_XOR, base, d->off, src); break;
	case H_ATOMIC64_XCHG: x86_rm(b, false, w, 0x87, src, base, d->off, false); break;
	default: /* CMPXCHG: r0 is rax, as cmpxchg wants */
		x86_lock(b);
		x86_rm(b, false, w, 0x0fb1, src, base, d->off, false);
		if (!w)
			x86_mov_rr(b, false, X86_RAX, X86_RAX);
		break;
	}
	return true;
}
/* Do the flags the previous instruction left say what `test dst, dst`
 * (w bits) would, for condition cc? */
static bool flags_cover(const struct jit_compiler *c, int dst, bool w, int cc)
{
	const struct flags_state *f = &c->prev_fl;
	if (f->reg != dst)
		return false;
	if (cc == X86_CC_E || cc == X86_CC_NE)
		return f->w == w || !f->w; /* a 32-bit result is zero-extended */
	return f->logic && f->w == w;
}

/* The compare of conditional jump d (cond_of(d->kind) >= 0); returns the
 * x86 condition under which it jumps. */
int jit_emit_compare(struct jit_compiler *c, const struct dinsn *d)
{
	struct x86_buf *b = &c->b;
	enum comb_handler_kind k = d->kind;
	int cc = cond_of(k);
	bool w = k <= H_JSET64_X;
	bool reg = ((k - (w ? H_JEQ64_K : H_JEQ32_K)) & 1) != 0;
	bool is_set = k == H_JSET64_K || k == H_JSET64_X || k == H_JSET32_K || k == H_JSET32_X;
	int dst = reg_map[d->dst], src = reg_map[d->src & 15];
	if (!reg && c->harden && !(d->imm == 0 && !is_set)) {
		emit_blinded_imm(c, w, X86_R11, d->imm);
		reg = true;
		src = X86_R11;
	}
	if (is_set && reg)
		x86_test_rr(b, w, dst, src);
	else if (is_set)
		x86_test_ri(b, w, dst, d->imm);
	else if (reg)
		x86_alu_rr(b, w, X86_CMP, dst, src);
	else if (d->imm == 0 && flags_cover(c, dst, w, cc))
		; /* the previous instruction's flags already tell */
	else if (d->imm == 0)
		x86_test_rr(b, w, dst, dst);
	else
		x86_alu_ri(b, w, X86_CMP, dst, d->imm);
	return cc;
}

static inline __attribute__((always_inline)) bool emit_cond_jump(struct jit_compiler *c, size_t i, const struct dinsn *d)
{
	if (cond_of(d->kind) < 0)
		return false;
	int cc = jit_emit_compare(c, d);
	emit_jump(c, i, i + 1 + d->off, cc);
	return true;
}
/* ---- calls ---- */

/* r9 = &rs->call_ctx, call the helper in r11, then stop if a callback failed. */
static void emit_call_r11_and_check(struct jit_compiler *c)
{
	struct x86_buf *b = &c->b;
	x86_load(b, 8, false, X86_R9, X86_R12, JR(call_ctx));
	x86_call_r(b, X86_R11);
	x86_load(b, 8, false, X86_R11, X86_R12, JR(root));
	x86_load(b, 4, false, X86_R10, X86_R11, (int32_t)offsetof(struct comb_run_state, abort_rc));
	x86_test_rr(b, false, X86_R10, X86_R10);
	jcc_stub(c, X86_CC_NE, c->abort_exit);
}

/* ---- bpf_map_lookup_elem with a known map ---- */

#define HELPER_MAP_LOOKUP 1
#define KNOWN_MAP_WINDOW 64 /* instructions looked back from the call */

/* Might instruction j write r1 (besides a call)? */
static bool writes_r1(const struct comb_insn *in)
{
	uint8_t cls = in->code & 7;
	if (cls == COMB_CLS_ALU || cls == COMB_CLS_ALU64 || cls == COMB_CLS_LDX || cls == COMB_CLS_LD)
		return in->dst == 1;
	if (cls == COMB_CLS_STX && (in->code & 0xe0) == COMB_MODE_ATOMIC)
		return in->src == 1; /* fetch forms write src */
	return false;
}

/* The map r1 holds at the call at i, when an LDDW of a map set it in the
 * same basic block; NULL when unknown. */
static struct comb_map *known_r1_map(const struct jit_compiler *c, size_t i)
{
	const struct comb_insn *insns = c->prog->insns;
	for (size_t j = i; j > 0 && i - j < KNOWN_MAP_WINDOW; j--) {
		if (c->is_target[j])
			return NULL; /* control may arrive with another r1 */
		const struct comb_insn *in = &insns[j - 1];
		if (in->code == 0 && j >= 2 && comb_insn_is_lddw(&insns[j - 2]))
			in = &insns[--j - 1]; /* the value slot of an LDDW */
		if (comb_insn_is_lddw(in)) {
			if (in->dst != 1)
				continue;
			if (in->src != COMB_PSEUDO_MAP_FD && in->src != COMB_PSEUDO_MAP_IDX)
				return NULL;
			return (struct comb_map *)(uintptr_t)c->code[j].imm64;
		}
		uint8_t cls = in->code & 7;
		if ((cls == COMB_CLS_JMP || cls == COMB_CLS_JMP32) && ((in->code & 0xf0) == COMB_JMP_CALL ||
		    (in->code & 0xf0) == COMB_JMP_EXIT || (in->code & 0xf0) == COMB_JMP_JA))
			return NULL;
		if (writes_r1(in))
			return NULL;
	}
	return NULL;
}

/* r0 = &value[*(u32 *)r2] of a plain ARRAY map, NULL past its end; no
 * bounds check when the verifier proved the key in bounds. */
static void emit_inline_array_lookup(struct jit_compiler *c, struct comb_map *map, bool in_bounds)
{
	struct x86_buf *b = &c->b;
	x86_load(b, 4, false, X86_R11, X86_RSI, 0); /* index = *(u32 *)key */
	size_t past_end = 0;
	if (!in_bounds) {
		x86_alu_ri(b, false, X86_CMP, X86_R11, (int32_t)map->info.max_entries);
		past_end = jcc_forward(b, X86_CC_AE);
	}
	uint32_t stride = map->value_stride;
	if (stride && (stride & (stride - 1)) == 0)
		x86_shift_ri(b, true, X86_SHL, X86_R11, (uint8_t)__builtin_ctz(stride));
	else
		x86_imul_ri(b, true, X86_R11, (int32_t)stride);
	x86_mov_ri(b, true, X86_RAX, (uint64_t)(uintptr_t)map->storage);
	x86_alu_rr(b, true, X86_ADD, X86_RAX, X86_R11);
	if (in_bounds)
		return;
	size_t done = jmp_forward(b);
	land_here(b, past_end);
	x86_mov_ri(b, false, X86_RAX, 0);
	land_here(b, done);
}

/* A lookup in a known map: true when emitted here. */
static bool emit_known_map_lookup(struct jit_compiler *c, size_t i)
{
	const char *name = comb_vm_helper_name(c->prog->vm, HELPER_MAP_LOOKUP);
	if (!name || strcmp(name, "map_lookup_elem") != 0)
		return false; /* the embedder replaced the helper */
	struct comb_map *map = known_r1_map(c, i);
	if (!map || !map->ops || !map->ops->lookup_ptr)
		return false;
	if (map->ops == &comb_array_ops && !map->percpu && !map->holds_pointers && map->storage &&
	    map->value_stride <= INT32_MAX && map->info.max_entries <= INT32_MAX) {
		emit_inline_array_lookup(c, map, has_fact(c, i, COMB_FACT_KEY_IN_BOUNDS));
		return true;
	}
	/* The helper's own path for unchecked runs, minus its dispatch. */
	x86_mov_ri(&c->b, true, X86_R11, (uint64_t)(uintptr_t)map->ops->lookup_ptr);
	x86_call_r(&c->b, X86_R11);
	return true;
}

static void emit_call_helper(struct jit_compiler *c, size_t i, const struct dinsn *d)
{
	if (d->imm == HELPER_MAP_LOOKUP && !c->harden && emit_known_map_lookup(c, i))
		return;
	x86_mov_ri(&c->b, true, X86_R11, (uint64_t)(uintptr_t)c->prog->helpers[d->imm]);
	emit_call_r11_and_check(c);
}

static void emit_callx(struct jit_compiler *c, size_t i, const struct dinsn *d)
{
	struct x86_buf *b = &c->b;
	x86_mov_ri(b, false, X86_R11, (uint32_t)i);
	x86_mov_rr(b, true, X86_R10, reg_map[d->dst]);
	x86_alu_ri(b, true, X86_CMP, X86_R10, (int32_t)c->prog->helper_count);
	jcc_stub(c, X86_CC_AE, c->callx_exit);
	x86_mov_ri(b, true, X86_R9, (uint64_t)(uintptr_t)c->prog->helpers);
	/* mov r9, [r9 + r10 * 8] */
	x86_byte(b, 0x4f);
	x86_byte(b, 0x8b);
	x86_byte(b, 0x0c);
	x86_byte(b, 0xd1);
	x86_test_rr(b, true, X86_R9, X86_R9);
	jcc_stub(c, X86_CC_E, c->callx_exit);
	x86_mov_rr(b, true, X86_R11, X86_R9);
	emit_call_r11_and_check(c);
}

static const uint8_t tail_saved[] = { X86_RAX, X86_RDI, X86_RSI, X86_RDX, X86_RCX, X86_R8 };

static void emit_tail_call(struct jit_compiler *c, size_t i)
{
	struct x86_buf *b = &c->b;
	for (size_t k = 0; k < sizeof(tail_saved); k++)
		x86_push(b, tail_saved[k]);
	x86_mov_rr(b, true, X86_RDI, X86_R12); /* r2 (rsi) and r3 (rdx) are the map and index */
	x86_mov_rr(b, true, X86_RCX, X86_RSP);
	x86_mov_ri(b, false, X86_R8, (uint32_t)i); /* r5 is saved: r8 carries the insn index */
	x86_mov_ri(b, true, X86_R11, (uint64_t)(uintptr_t)comb_jit_tail_call);
	x86_call_r(b, X86_R11);
	x86_mov_rr(b, true, X86_R11, X86_RAX);
	for (int k = (int)sizeof(tail_saved) - 1; k >= 0; k--)
		x86_pop(b, tail_saved[k]);
	x86_test_rr(b, true, X86_R11, X86_R11);
	size_t not_taken = jcc_forward(b, X86_CC_E);
	size_t failed = jcc_forward(b, X86_CC_S);
	x86_alu_ri(b, true, X86_CMP, X86_R11, 1);
	size_t interpreted = jcc_forward(b, X86_CC_NE);
	x86_jmp_m(b, X86_R12, JR(tail_target));
	land_here(b, interpreted);
	x86_load(b, 8, false, X86_RAX, X86_R12, JR(tail_r0));
	x86_ret(b);
	land_here(b, failed);
	x86_mov_rr(b, false, X86_R10, X86_R11);
	jmp_exit(c, c->abort_exit);
	land_here(b, not_taken);
}

static const uint8_t callee_saved_bpf[] = { X86_RBX, X86_R13, X86_R14, X86_R15, X86_RBP };

static void emit_call_local(struct jit_compiler *c, size_t i, const struct dinsn *d)
{
	struct x86_buf *b = &c->b;
	x86_mov_ri(b, false, X86_R11, (uint32_t)i);
	x86_rm(b, false, true, 0x3b, X86_RBP, X86_R12, JR(frame_limit), false); /* cmp rbp, limit */
	jcc_stub(c, X86_CC_BE, c->eloop_exit);
	for (size_t k = 0; k < sizeof(callee_saved_bpf); k++)
		x86_push(b, callee_saved_bpf[k]);
	x86_alu_ri(b, true, X86_SUB, X86_RBP, COMB_STACK_SIZE);
	size_t t = i + 1 + d->imm;
	x86_call_rel(b, 0);
	add_fixup(c, FIX_INSN | (uint32_t)t);
	for (int k = (int)sizeof(callee_saved_bpf) - 1; k >= 0; k--)
		x86_pop(b, callee_saved_bpf[k]);
	if (c->has_tail_call) {
		/* The callee may have tail-called: this frame runs this program again. */
		x86_mov_ri(b, true, X86_R11, (uint64_t)(uintptr_t)c->prog);
		x86_load(b, 8, false, X86_R10, X86_R12, JR(rs));
		x86_store_r(b, 8, X86_R10, (int32_t)offsetof(struct comb_run_state, prog), X86_R11);
		x86_store_r(b, 8, X86_R10,
			    (int32_t)(offsetof(struct comb_run_state, call_ctx) + offsetof(struct comb_call_ctx, prog)),
			    X86_R11);
	}
}

static void emit_insn_error(struct jit_compiler *c, size_t i, int err)
{
	x86_mov_ri(&c->b, false, X86_R11, (uint32_t)i);
	x86_mov_ri(&c->b, false, X86_RAX, (uint32_t)err);
	jmp_exit(c, c->insn_exit);
}

static inline __attribute__((always_inline)) int emit_control(struct jit_compiler *c, size_t i, const struct dinsn *d)
{
	switch (d->kind) {
	case H_JA: emit_jump(c, i, i + 1 + d->off, -1); return 0;
	case H_GOTOL: emit_jump(c, i, i + 1 + d->imm, -1); return 0;
	case H_EXIT: x86_ret(&c->b); return 0;
	case H_CALL_HELPER: emit_call_helper(c, i, d); return 0;
	case H_CALLX: emit_callx(c, i, d); return 0;
	case H_TAIL_CALL: emit_tail_call(c, i); return 0;
	case H_CALL_LOCAL: emit_call_local(c, i, d); return 0;
	case H_MISSING_HELPER: emit_insn_error(c, i, -ENOSYS); return 0;
	case H_POISONED: emit_insn_error(c, i, -EINVAL); return 0;
	default: return -ENOTSUP; /* LD_ABS / LD_IND: the interpreter runs them */
	}
}

/* ---- unsigned upper bounds over straight-line code ----
 *
 * What the instructions since the last join point prove about registers:
 * an unsigned upper bound per register. clang's bounded loops test the
 * counter twice (`if i > MAX - 2 goto out; i += 1; ...; if i < MAX goto
 * body`): the second test always jumps and becomes a jmp, one compare and
 * one conditional branch less per turn. Forgotten at every jump target;
 * a conditional jump's fall-through narrows. */

static void bound_set(struct jit_compiler *c, int reg, uint64_t ub)
{
	c->ub[reg] = ub;
	c->ub_known |= (uint16_t)(1u << reg);
}

static void bound_forget(struct jit_compiler *c, int reg)
{
	c->ub_known &= (uint16_t)~(1u << reg);
}

static bool bound_of(const struct jit_compiler *c, int reg, uint64_t *ub)
{
	*ub = c->ub[reg];
	return (c->ub_known >> reg) & 1;
}

/* On the fall-through of conditional jump d: `if r > K` was false, ... */
static inline __attribute__((always_inline)) void bounds_narrow(struct jit_compiler *c, const struct dinsn *d)
{
	uint64_t k = (uint64_t)(int64_t)d->imm, ub;
	bool known = bound_of(c, d->dst, &ub);
	switch (d->kind) {
	case H_JGT64_K: bound_set(c, d->dst, known && ub < k ? ub : k); break;
	case H_JGE64_K:
		if (k > 0)
			bound_set(c, d->dst, known && ub < k - 1 ? ub : k - 1);
		break;
	case H_JNE64_K: bound_set(c, d->dst, k); break;
	default: break;
	}
}

/* What instruction kind k proves or destroys about its destination's
 * bound: an action of bounds_note. A function of k alone, so that where k
 * is a constant (the per-kind steps of the emission pass) it folds away. */
enum jit_bound_action {
	BOUND_NONE, BOUND_FORGET, BOUND_ALL_ONES_8, BOUND_ALL_ONES_16, BOUND_ALL_ONES_32, BOUND_MOV_K,
	BOUND_MOV32_K, BOUND_COPY, BOUND_ADD_K, BOUND_AND_K, BOUND_RSH_K, BOUND_LDDW, BOUND_NARROW,
	BOUND_CLEAR,
};

static inline __attribute__((always_inline)) enum jit_bound_action bound_action(enum comb_handler_kind k)
{
	switch (k) {
	case H_MOV64_K: return BOUND_MOV_K;
	case H_MOV32_K: return BOUND_MOV32_K;
	case H_MOV64_X: return BOUND_COPY;
	case H_ADD64_K: return BOUND_ADD_K;
	case H_AND64_K: return BOUND_AND_K;
	case H_RSH64_K: return BOUND_RSH_K;
	case H_LDX_B: return BOUND_ALL_ONES_8;
	case H_LDX_H: return BOUND_ALL_ONES_16;
	case H_LDX_W: return BOUND_ALL_ONES_32;
	case H_LDDW: return BOUND_LDDW;
	case H_ST_B: case H_ST_H: case H_ST_W: case H_ST_DW:
	case H_STX_B: case H_STX_H: case H_STX_W: case H_STX_DW:
	case H_NOP: case H_JA: case H_GOTOL: case H_EXIT:
		return BOUND_NONE;
	default:
		break;
	}
	if (k >= H_ADD32_K && k <= H_NEG32)
		return BOUND_ALL_ONES_32; /* 32-bit results are zero-extended */
	if ((k >= H_ADD64_K && k <= H_NEG64) || (k >= H_MOVSX64_8 && k <= H_BE64) ||
	    (k >= H_LDX_B && k <= H_LDXS_W))
		return BOUND_FORGET;
	if (cond_of(k) >= 0)
		return BOUND_NARROW;
	return BOUND_CLEAR; /* calls, atomics, anything else */
}

/* Instruction i (d, its kind possibly a constant copy) ran and fell
 * through: what it proves or destroys. */
static inline __attribute__((always_inline)) void bounds_note(struct jit_compiler *c, size_t i,
							      const struct dinsn *d)
{
	int dst = d->dst;
	uint64_t imm = (uint64_t)(int64_t)d->imm, ub;
	bool known = bound_of(c, dst, &ub);
	switch (bound_action((enum comb_handler_kind)d->kind)) {
	case BOUND_NONE: return;
	case BOUND_FORGET: bound_forget(c, dst); return;
	case BOUND_ALL_ONES_8: bound_set(c, dst, 0xff); return;
	case BOUND_ALL_ONES_16: bound_set(c, dst, 0xffff); return;
	case BOUND_ALL_ONES_32: bound_set(c, dst, UINT32_MAX); return;
	case BOUND_MOV_K: bound_set(c, dst, imm); return;
	case BOUND_MOV32_K: bound_set(c, dst, (uint32_t)d->imm); return;
	case BOUND_COPY:
		if (bound_of(c, d->src & 15, &ub))
			bound_set(c, dst, ub);
		else
			bound_forget(c, dst);
		return;
	case BOUND_ADD_K:
		if (known && d->imm >= 0 && ub + imm >= ub)
			bound_set(c, dst, ub + imm);
		else
			bound_forget(c, dst);
		return;
	case BOUND_AND_K:
		if (d->imm >= 0)
			bound_set(c, dst, known && ub < imm ? ub : imm);
		else
			bound_forget(c, dst);
		return;
	case BOUND_RSH_K: bound_set(c, dst, (known ? ub : UINT64_MAX) >> (d->imm & 63)); return;
	case BOUND_LDDW: bound_set(c, dst, c->code[i + 1].imm64); return;
	case BOUND_NARROW: bounds_narrow(c, d); return;
	default: c->ub_known = 0; return;
	}
}

/* Does conditional jump d always (1) or never (0) jump, by the bounds?
 * -1: it depends. Unsigned compares against a constant only. */
static int jump_outcome(const struct jit_compiler *c, const struct dinsn *d)
{
	uint64_t ub, k;
	if (!bound_of(c, d->dst, &ub))
		return -1;
	enum comb_handler_kind kind = d->kind;
	if (kind >= H_JEQ64_K && kind <= H_JSET64_X) {
		k = (uint64_t)(int64_t)d->imm;
		kind = kind - H_JEQ64_K + H_JEQ32_K; /* one switch for both widths */
	} else if (kind >= H_JEQ32_K && kind <= H_JSET32_X && ub <= UINT32_MAX) {
		k = (uint32_t)d->imm; /* the low half is the whole value */
	} else {
		return -1;
	}
	switch (kind) {
	case H_JLT32_K: return ub < k ? 1 : -1;
	case H_JLE32_K: return ub <= k ? 1 : -1;
	case H_JNE32_K: return ub < k ? 1 : -1;
	case H_JGT32_K: return ub <= k ? 0 : -1;
	case H_JGE32_K: return ub < k ? 0 : -1;
	case H_JEQ32_K: return ub < k ? 0 : -1;
	default: return -1;
	}
}

/* A conditional jump whose outcome the verifier (COMB_FACT_JUMP_*) or the
 * bounds know: a jmp or nothing. */
static bool fold_known_jump(struct jit_compiler *c, size_t i)
{
	const struct dinsn *d = &c->code[i];
	int outcome = has_fact(c, i, COMB_FACT_JUMP_ALWAYS) ? 1
		      : has_fact(c, i, COMB_FACT_JUMP_NEVER) ? 0 : jump_outcome(c, d);
	if (outcome < 0)
		return false;
	if (outcome)
		emit_jump(c, i, i + 1 + d->off, -1);
	return true;
}

/* ---- the emission pass ---- */

/* A peephole at i: how many instructions after i it also covered. */
static size_t emit_fused(struct jit_compiler *c, size_t i)
{
	enum comb_handler_kind k = c->code[i].kind;
	if (cond_of(k) >= 0) {
		size_t converted = jit_fuse_if_convert(c, i);
		return converted ? converted : jit_fuse_rotate_latch(c, i);
	}
	if (k == H_LDX_W || k == H_LDX_DW)
		return jit_fuse_load_op(c, i);
	if (k != H_MOV64_X && k != H_MOV32_X && k != H_MUL64_K && k != H_MUL32_K)
		return 0; /* the only first instructions of the peepholes below */
	enum comb_handler_kind next = (enum comb_handler_kind)c->code[i + 1].kind;
	if (next == H_LSH64_K || next == H_RSH64_K || next == H_LSH32_K || next == H_RSH32_K)
		return jit_fuse_rotate(c, i); /* (the others start with an add or an and next) */
	size_t tested = jit_fuse_and_test(c, i);
	if (tested)
		return tested;
	size_t loaded = jit_fuse_load_indexed(c, i);
	if (loaded)
		return loaded;
	if (jit_fuse_into_lea(c, i)) {
		c->off[i + 1] = (uint32_t)c->b.len;
		return 1;
	}
	return 0;
}

/* emit_fused and, when a peephole applied, the bounds after each
 * instruction it covered. Out of line: it is the rare path, and inlined
 * into every step it would take the kind-specialised steps' registers. */
static __attribute__((noinline)) size_t emit_fused_step(struct jit_compiler *c, size_t i)
{
	size_t covered = emit_fused(c, i);
	for (size_t j = i; covered && j <= i + covered; j++)
		bounds_note(c, j, &c->code[j]);
	return covered;
}

static inline __attribute__((always_inline)) int emit_insn(struct jit_compiler *c, size_t i,
							   const struct dinsn *d)
{
	if (jit_emit_alu(c, d) || jit_emit_move(c, d) || emit_mem(c, d) || emit_atomic(c, d) ||
	    emit_cond_jump(c, i, d))
		return 0;
	return emit_control(c, i, d);
}

/* One step of the pass at instruction i, d a copy of it whose kind is a
 * constant where this is inlined (the per-kind steps below), so the kind
 * tests of the emitters, the peephole choice and the bounds fold away and
 * each instruction costs one indirect call. Returns how many instructions
 * after i it also covered, or a negative errno. */
static inline __attribute__((always_inline)) long emit_step(struct jit_compiler *c, size_t i,
							    const struct dinsn *d)
{
	enum comb_handler_kind k = (enum comb_handler_kind)d->kind;
	if (k == H_LDDW) {
		emit_imm64(c, reg_map[d->dst], c->code[i + 1].imm64);
		bounds_note(c, i, d);
		c->off[i + 1] = (uint32_t)c->b.len;
		return 1;
	}
	if (cond_of(k) >= 0 && fold_known_jump(c, i)) {
		bounds_note(c, i, d);
		return 0;
	}
	bool peephole_kind = cond_of(k) >= 0 || k == H_MOV64_X || k == H_MOV32_X || k == H_MUL64_K || k == H_MUL32_K ||
			     k == H_LDX_W || k == H_LDX_DW;
	if (peephole_kind && jit_peephole_may_start(c, i, k)) {
		size_t covered = emit_fused_step(c, i);
		if (covered)
			return (long)covered;
	}
	/* A fresh copy with the constant kind: after the call above the
	 * compiler no longer folds d->kind, and each emitter below would test
	 * every kind. */
	struct dinsn insn = *d;
	insn.kind = k;
	int rc = emit_insn(c, i, &insn);
	if (rc)
		return rc;
	bounds_note(c, i, &insn);
	return 0;
}

typedef long (*emit_step_fn)(struct jit_compiler *c, size_t i);

#define EMIT_STEP_OF_KIND(name)                                                  \
	static long emit_step_##name(struct jit_compiler *c, size_t i)           \
	{                                                                        \
		struct dinsn d = c->code[i];                                     \
		d.kind = H_##name;                                               \
		return emit_step(c, i, &d);                                      \
	}
COMB_HANDLERS(EMIT_STEP_OF_KIND)
#undef EMIT_STEP_OF_KIND

#define EMIT_STEP_ENTRY(name) [H_##name] = emit_step_##name,
static const emit_step_fn emit_step_of[H__COUNT] = { COMB_HANDLERS(EMIT_STEP_ENTRY) };
#undef EMIT_STEP_ENTRY

/* Room for one more emit step in the scratch code buffer (it grows). */
static bool ensure_room(struct jit_compiler *c)
{
	if (c->b.len + JIT_INSN_ROOM <= c->b.cap)
		return true;
	size_t cap = 2 * c->b.cap + JIT_INSN_ROOM;
	uint8_t *p = realloc(c->b.p, cap);
	if (!p)
		return false;
	c->b.p = p;
	c->b.cap = cap;
	return true;
}

/* How many instructions from i a verifier fact (prog->facts) makes no-ops:
 * a zero-extension of a register whose upper half is zero on every path,
 * `wX = wX` or `rX <<= 32; rX >>= 32` (nothing jumping between the two).
 * They get no code; the flags after them are unknown. */
static size_t fact_noops(struct jit_compiler *c, size_t i)
{
	const uint8_t *facts = c->prog->facts;
	const struct dinsn *d = &c->code[i];
	if (!facts || !(facts[i] & COMB_FACT_ZEXT_REDUNDANT))
		return 0;
	size_t n = 0;
	if (d->kind == H_MOV32_X && d->src == d->dst)
		n = 1;
	else if (d->kind == H_LSH64_K && d->imm == 32 && i + 1 < c->prog->count && !c->is_target[i + 1] &&
		 d[1].kind == H_RSH64_K && d[1].imm == 32 && d[1].dst == d->dst)
		n = 2;
	c->dropped += n;
	return n;
}

/* How many instructions from i no path reaches (COMB_FACT_DEAD): they
 * get one ud2 in all (a trap, should control ever get there). */
static size_t fact_dead_run(struct jit_compiler *c, size_t i)
{
	size_t n = 0, count = c->prog->count;
	while (i + n < count && has_fact(c, i + n, COMB_FACT_DEAD))
		n += c->code[i + n].kind == H_LDDW && i + n + 1 < count ? 2 : 1;
	if (n) {
		x86_byte(&c->b, 0x0f); /* ud2 */
		x86_byte(&c->b, 0x0b);
		for (size_t k = 1; k < n; k++)
			c->off[i + k] = (uint32_t)c->b.len;
		flags_forget(&c->fl);
		c->ub_known = 0;
		c->dropped += n;
	}
	return n;
}

/* The one emission pass; fills c->off, c->flags, c->target, c->fix and
 * the lists of branches and loop heads. */
int jit_emit_pass(struct jit_compiler *c)
{
	const size_t count = c->prog->count;
	jit_emit_prelude(c);
	c->blind_state = c->blind_seed;
	flags_forget(&c->fl);
	c->ub_known = 0;
	c->nbranches = c->nheads = 0;
	for (size_t i = 0; i < count; i++) {
		if (!ensure_room(c))
			return -ENOMEM;
		c->off[i] = (uint32_t)c->b.len;
		c->cur = i;
		c->place[i] = PLACE_STEP;
		/* At a target, control may come with other flags and values
		 * (without a branch: which instructions are targets is data). */
		uint8_t arrives = (uint8_t)-(c->is_target[i] != 0);
		c->heads[c->nheads] = (uint32_t)i;
		c->nheads += (c->is_target[i] & TARGET_LOOP) != 0;
		uint32_t before; /* one word (see flags_state); reg is its low byte */
		memcpy(&before, &c->fl, sizeof(before));
		before |= arrives;
		memcpy(&c->prev_fl, &before, sizeof(before));
		c->ub_known = (uint16_t)(c->ub_known & ~(uint16_t)(int8_t)arrives);
		flags_forget(&c->fl);
		size_t noops = 0;
		if (c->prog->facts) {
			size_t dead = fact_dead_run(c, i);
			if (dead) {
				i += dead - 1;
				continue;
			}
			noops = fact_noops(c, i);
		}
		if (noops) {
			bounds_note(c, i, &c->code[i]);
			if (noops == 2) {
				c->off[++i] = (uint32_t)c->b.len;
				bounds_note(c, i, &c->code[i]);
			}
			continue;
		}
		long covered = emit_step_of[c->code[i].kind](c, i);
		if (covered < 0)
			return (int)covered;
		i += (size_t)covered;
	}
	c->off[count] = (uint32_t)c->b.len;
	return x86_buf_overflowed(&c->b) || c->out_of_memory ? -ENOMEM : 0;
}
