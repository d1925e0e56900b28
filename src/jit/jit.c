/* src/jit/jit.c - translate decoded eBPF into x86-64.
 *
 * Registers: r0-r10 live in rax, rdi, rsi, rdx, rcx, r8, rbx, r13, r14, r15,
 * rbp, so r1-r5 already sit where the System V ABI wants a helper's first five
 * arguments and r0 is where its result comes back; r9-r11 are scratch and r12
 * points at the run's struct jit_run. Shifts by a register borrow rcx (r4)
 * and division borrows rax and rdx (r0, r3): both save and restore them.
 *
 * Layout: an entry stub (a C-callable function that saves the callee-saved
 * registers, loads r1-r5 and calls the body), the shared error exits, then
 * one block of code per instruction. Every eBPF function is a native
 * function: EXIT is ret, a bpf-to-bpf call pushes r6-r9 and r10, lowers r10
 * by one frame and calls. The body always runs with rsp 16-byte aligned so a
 * helper call needs no adjustment. Division by zero and INT_MIN / -1 take the
 * ISA's results through explicit tests, never a trap.
 *
 * Branch sizes: the code is emitted in passes; a forward branch becomes short
 * once the previous pass shows its target within reach (code only shrinks
 * from pass to pass, so the choice stays right), and the loop ends when two
 * passes put every instruction at the same offset.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "jit/jit.h"
#include "jit/x86_emit.h"

#define JIT_MAX_PASSES 16
#define JIT_BYTES_PER_INSN 128 /* generous upper bound for one instruction */

static const uint8_t reg_map[COMB_REG_COUNT] = {
	X86_RAX, X86_RDI, X86_RSI, X86_RDX, X86_RCX, X86_R8,
	X86_RBX, X86_R13, X86_R14, X86_R15, X86_RBP,
};

#define JR(field) ((int32_t)offsetof(struct jit_run, field))

struct jit_compiler {
	const struct comb_prog *prog;
	const struct dinsn *code;
	struct x86_buf b;
	uint32_t *off;       /* this pass */
	uint32_t *prev;      /* previous pass */
	uint8_t *short_ok;   /* sticky: this instruction's branch is short */
	bool first_pass;
	bool has_tail_call;
	size_t err_exit, abort_exit, eloop_exit, callx_exit, insn_exit;
	size_t body;
};

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

/* A branch to a shared exit stub placed before the body (always backward). */
static void jcc_stub(struct x86_buf *b, enum x86_cond cc, size_t stub)
{
	x86_jcc(b, cc, stub, x86_fits8((int64_t)stub - (int64_t)(b->len + 2)));
}

static void jmp_stub(struct x86_buf *b, size_t stub)
{
	x86_jmp(b, stub, x86_fits8((int64_t)stub - (int64_t)(b->len + 2)));
}

/* ---- entry stub and shared exits ---- */

static const uint8_t saved_regs[] = { X86_RBP, X86_RBX, X86_R12, X86_R13, X86_R14, X86_R15 };

static void emit_pop_saved(struct x86_buf *b)
{
	x86_pop(b, X86_R8); /* the r0 out pointer */
	for (int i = (int)sizeof(saved_regs) - 1; i >= 0; i--)
		x86_pop(b, saved_regs[i]);
	x86_ret(b);
}

/* int entry(jr: rdi, args: rsi, stack_top: rdx, body: rcx, r0: r8) */
static void emit_entry_stub(struct jit_compiler *c)
{
	struct x86_buf *b = &c->b;
	for (size_t i = 0; i < sizeof(saved_regs); i++)
		x86_push(b, saved_regs[i]);
	x86_push(b, X86_R8);
	x86_alu_ri(b, true, X86_SUB, X86_RSP, 8); /* body runs 16-byte aligned */
	x86_mov_rr(b, true, X86_R12, X86_RDI);
	x86_rm(b, false, true, 0x89, X86_RSP, X86_R12, JR(saved_rsp), false);
	x86_mov_rr(b, true, X86_RBP, X86_RDX);
	x86_mov_rr(b, true, X86_R11, X86_RCX);
	x86_mov_rr(b, true, X86_R9, X86_RSI);
	for (int i = 1; i <= 5; i++)
		x86_load(b, 8, false, reg_map[i], X86_R9, 8 * (i - 1));
	x86_mov_ri(b, false, X86_RAX, 0);
	for (int i = 6; i <= 9; i++)
		x86_mov_ri(b, false, reg_map[i], 0);
	x86_call_r(b, X86_R11);
	x86_alu_ri(b, true, X86_ADD, X86_RSP, 8);
	x86_pop(b, X86_R8);
	x86_store_r(b, 8, X86_R8, 0, X86_RAX);
	x86_mov_ri(b, false, X86_RAX, 0);
	x86_push(b, X86_R8); /* so the shared epilogue pops it again */
	emit_pop_saved(b);
}

static void emit_exits(struct jit_compiler *c)
{
	struct x86_buf *b = &c->b;
	/* eax holds the negative errno. */
	c->err_exit = b->len;
	x86_load(b, 8, false, X86_RSP, X86_R12, JR(saved_rsp));
	x86_alu_ri(b, true, X86_ADD, X86_RSP, 8);
	emit_pop_saved(b);
	/* A callback failed inside a helper: r10d holds its error. */
	c->abort_exit = b->len;
	x86_mov_rr(b, false, X86_RAX, X86_R10);
	x86_store_i(b, 8, X86_R12, JR(err_insn), -1);
	jmp_stub(b, c->err_exit);
	/* r11 holds the instruction index. */
	c->eloop_exit = b->len;
	x86_store_r(b, 8, X86_R12, JR(err_insn), X86_R11);
	x86_mov_ri(b, false, X86_RAX, (uint32_t)-ELOOP);
	jmp_stub(b, c->err_exit);
	c->callx_exit = b->len;
	x86_store_r(b, 8, X86_R12, JR(err_value), X86_R10);
	x86_mov_ri(b, false, X86_RAX, (uint32_t)-ENOENT);
	c->insn_exit = b->len; /* r11: instruction, eax: errno */
	x86_store_r(b, 8, X86_R12, JR(err_insn), X86_R11);
	jmp_stub(b, c->err_exit);
}

/* ---- branches between instructions ---- */

static size_t branch_target_offset(struct jit_compiler *c, size_t i, size_t t, bool *short_form)
{
	struct x86_buf *b = &c->b;
	if (t <= i) {
		*short_form = c->short_ok[i] || x86_fits8((int64_t)c->off[t] - (int64_t)(b->len + 2));
		c->short_ok[i] = *short_form;
		return c->off[t];
	}
	if (c->first_pass) {
		*short_form = false;
		return b->len;
	}
	*short_form = c->short_ok[i] || (int64_t)c->prev[t] - (int64_t)c->prev[i] <= 127;
	c->short_ok[i] = *short_form;
	return c->prev[t];
}

static void emit_jump(struct jit_compiler *c, size_t i, size_t t, int cc)
{
	bool short_form;
	size_t target = branch_target_offset(c, i, t, &short_form);
	if (cc < 0)
		x86_jmp(&c->b, target, short_form);
	else
		x86_jcc(&c->b, (enum x86_cond)cc, target, short_form);
}

/* ---- arithmetic ---- */

static void emit_shift_x(struct x86_buf *b, bool w, enum x86_shift op, int dst, int src)
{
	if (src == X86_RCX) {
		x86_shift_cl(b, w, op, dst);
		return;
	}
	x86_mov_rr(b, true, X86_R11, X86_RCX);
	x86_mov_rr(b, true, X86_RCX, src);
	x86_shift_cl(b, w, op, dst == X86_RCX ? X86_R11 : dst);
	x86_mov_rr(b, true, X86_RCX, X86_R11);
}

/* dst = dst op r11 with rax and rdx borrowed; r11 is a valid divisor. */
static void emit_div_core(struct x86_buf *b, bool w, bool is_signed, bool is_mod, int dst)
{
	x86_mov_rr(b, true, X86_R10, X86_RAX);
	x86_mov_rr(b, true, X86_R9, X86_RDX);
	if (dst != X86_RAX)
		x86_mov_rr(b, true, X86_RAX, dst);
	if (is_signed)
		x86_cqo(b, w);
	else
		x86_mov_ri(b, false, X86_RDX, 0);
	x86_div(b, w, is_signed, X86_R11);
	x86_mov_rr(b, true, X86_R11, is_mod ? X86_RDX : X86_RAX);
	x86_mov_rr(b, true, X86_RAX, X86_R10);
	x86_mov_rr(b, true, X86_RDX, X86_R9);
	x86_mov_rr(b, true, dst, X86_R11);
}

/* Division and modulo by a register: x / 0 = 0, x % 0 = x, x s/ -1 = -x,
 * x s% -1 = 0 (RFC 9669 section 4.1), without ever executing a trapping div. */
static void emit_div_x(struct x86_buf *b, bool w, bool is_signed, bool is_mod, int dst, int src)
{
	x86_mov_rr(b, w, X86_R11, src);
	x86_test_rr(b, w, X86_R11, X86_R11);
	size_t to_zero = jcc_forward(b, X86_CC_E);
	size_t to_minus1 = 0;
	if (is_signed) {
		x86_alu_ri(b, w, X86_CMP, X86_R11, -1);
		to_minus1 = jcc_forward(b, X86_CC_E);
	}
	emit_div_core(b, w, is_signed, is_mod, dst);
	size_t to_done = jmp_forward(b);
	land_here(b, to_zero);
	if (!is_mod)
		x86_mov_ri(b, false, dst, 0);
	else if (!w)
		x86_mov_rr(b, false, dst, dst);
	size_t to_done2 = 0;
	if (is_signed) {
		to_done2 = jmp_forward(b);
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

static void emit_div_k(struct x86_buf *b, bool w, bool is_signed, bool is_mod, int dst, int32_t imm)
{
	x86_mov_ri(b, w, X86_R11, w ? (uint64_t)(int64_t)imm : (uint32_t)imm);
	emit_div_core(b, w, is_signed, is_mod, dst);
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

/* Group-1 ops, multiplication, shifts, division: true if k was one. */
static bool emit_alu(struct jit_compiler *c, const struct dinsn *d)
{
	struct x86_buf *b = &c->b;
	enum comb_handler_kind k = d->kind;
	int dst = reg_map[d->dst], src = reg_map[d->src & 15];
	switch (k) {
	case H_ADD64_K: case H_SUB64_K: case H_OR64_K: case H_AND64_K: case H_XOR64_K:
	case H_ADD32_K: case H_SUB32_K: case H_OR32_K: case H_AND32_K: case H_XOR32_K: {
		bool w = k <= H_XOR64_K && k >= H_ADD64_K;
		x86_alu_ri(b, w, alu_of(k), dst, d->imm);
		return true;
	}
	case H_ADD64_X: case H_SUB64_X: case H_OR64_X: case H_AND64_X: case H_XOR64_X:
		x86_alu_rr(b, true, alu_of(k), dst, src);
		return true;
	case H_ADD32_X: case H_SUB32_X: case H_OR32_X: case H_AND32_X: case H_XOR32_X:
		x86_alu_rr(b, false, alu_of(k), dst, src);
		return true;
	case H_MUL64_K: x86_imul_ri(b, true, dst, d->imm); return true;
	case H_MUL32_K: x86_imul_ri(b, false, dst, d->imm); return true;
	case H_MUL64_X: x86_imul_rr(b, true, dst, src); return true;
	case H_MUL32_X: x86_imul_rr(b, false, dst, src); return true;
	case H_LSH64_K: case H_RSH64_K: case H_ARSH64_K:
	case H_LSH32_K: case H_RSH32_K: case H_ARSH32_K: {
		bool w = k == H_LSH64_K || k == H_RSH64_K || k == H_ARSH64_K;
		enum x86_shift op = (k == H_LSH64_K || k == H_LSH32_K) ? X86_SHL
				    : (k == H_RSH64_K || k == H_RSH32_K) ? X86_SHR : X86_SAR;
		if (d->imm)
			x86_shift_ri(b, w, op, dst, (uint8_t)d->imm);
		else if (!w)
			x86_mov_rr(b, false, dst, dst);
		return true;
	}
	case H_LSH64_X: emit_shift_x(b, true, X86_SHL, dst, src); return true;
	case H_RSH64_X: emit_shift_x(b, true, X86_SHR, dst, src); return true;
	case H_ARSH64_X: emit_shift_x(b, true, X86_SAR, dst, src); return true;
	case H_LSH32_X: emit_shift_x(b, false, X86_SHL, dst, src); return true;
	case H_RSH32_X: emit_shift_x(b, false, X86_SHR, dst, src); return true;
	case H_ARSH32_X: emit_shift_x(b, false, X86_SAR, dst, src); return true;
	case H_DIV64_K: emit_div_k(b, true, false, false, dst, d->imm); return true;
	case H_MOD64_K: emit_div_k(b, true, false, true, dst, d->imm); return true;
	case H_DIV32_K: emit_div_k(b, false, false, false, dst, d->imm); return true;
	case H_MOD32_K: emit_div_k(b, false, false, true, dst, d->imm); return true;
	case H_SDIV64_K: emit_div_k(b, true, true, false, dst, d->imm); return true;
	case H_SMOD64_K: emit_div_k(b, true, true, true, dst, d->imm); return true;
	case H_SDIV32_K: emit_div_k(b, false, true, false, dst, d->imm); return true;
	case H_SMOD32_K: emit_div_k(b, false, true, true, dst, d->imm); return true;
	case H_DIV64_X: emit_div_x(b, true, false, false, dst, src); return true;
	case H_MOD64_X: emit_div_x(b, true, false, true, dst, src); return true;
	case H_DIV32_X: emit_div_x(b, false, false, false, dst, src); return true;
	case H_MOD32_X: emit_div_x(b, false, false, true, dst, src); return true;
	case H_SDIV64_X: emit_div_x(b, true, true, false, dst, src); return true;
	case H_SMOD64_X: emit_div_x(b, true, true, true, dst, src); return true;
	case H_SDIV32_X: emit_div_x(b, false, true, false, dst, src); return true;
	case H_SMOD32_X: emit_div_x(b, false, true, true, dst, src); return true;
	default: return false;
	}
}

/* Moves, negation, sign extension, byte swaps: true if k was one. */
static bool emit_move(struct jit_compiler *c, const struct dinsn *d)
{
	struct x86_buf *b = &c->b;
	int dst = reg_map[d->dst], src = reg_map[d->src & 15];
	switch (d->kind) {
	case H_MOV64_K: x86_mov_ri(b, true, dst, (uint64_t)(int64_t)d->imm); return true;
	case H_MOV32_K: x86_mov_ri(b, false, dst, (uint32_t)d->imm); return true;
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
	case H_NEG64: x86_neg(b, true, dst); return true;
	case H_NEG32: x86_neg(b, false, dst); return true;
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

static bool emit_mem(struct jit_compiler *c, const struct dinsn *d)
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
	case H_ST_B: x86_store_i(b, 1, dst, d->off, d->imm); return true;
	case H_ST_H: x86_store_i(b, 2, dst, d->off, d->imm); return true;
	case H_ST_W: x86_store_i(b, 4, dst, d->off, d->imm); return true;
	case H_ST_DW: x86_store_i(b, 8, dst, d->off, d->imm); return true;
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

static bool emit_atomic(struct jit_compiler *c, const struct dinsn *d)
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

/* ---- jumps ---- */

static int cond_of(enum comb_handler_kind k)
{
	static const uint8_t cc[] = {
		X86_CC_E, X86_CC_NE, X86_CC_A, X86_CC_AE, X86_CC_B, X86_CC_BE,
		X86_CC_G, X86_CC_GE, X86_CC_L, X86_CC_LE, X86_CC_NE,
	};
	if (k >= H_JEQ64_K && k <= H_JSET64_X)
		return cc[(k - H_JEQ64_K) / 2];
	if (k >= H_JEQ32_K && k <= H_JSET32_X)
		return cc[(k - H_JEQ32_K) / 2];
	return -1;
}

static bool emit_cond_jump(struct jit_compiler *c, size_t i, const struct dinsn *d)
{
	struct x86_buf *b = &c->b;
	enum comb_handler_kind k = d->kind;
	int cc = cond_of(k);
	if (cc < 0)
		return false;
	bool w = k <= H_JSET64_X;
	bool reg = ((k - (w ? H_JEQ64_K : H_JEQ32_K)) & 1) != 0;
	bool is_set = k == H_JSET64_K || k == H_JSET64_X || k == H_JSET32_K || k == H_JSET32_X;
	int dst = reg_map[d->dst], src = reg_map[d->src & 15];
	if (is_set && reg)
		x86_test_rr(b, w, dst, src);
	else if (is_set)
		x86_test_ri(b, w, dst, d->imm);
	else if (reg)
		x86_alu_rr(b, w, X86_CMP, dst, src);
	else if (d->imm == 0)
		x86_test_rr(b, w, dst, dst);
	else
		x86_alu_ri(b, w, X86_CMP, dst, d->imm);
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
	jcc_stub(b, X86_CC_NE, c->abort_exit);
}

static void emit_call_helper(struct jit_compiler *c, const struct dinsn *d)
{
	x86_mov_ri(&c->b, true, X86_R11, (uint64_t)(uintptr_t)c->prog->helpers[d->imm]);
	emit_call_r11_and_check(c);
}

static void emit_callx(struct jit_compiler *c, size_t i, const struct dinsn *d)
{
	struct x86_buf *b = &c->b;
	x86_mov_ri(b, false, X86_R11, (uint32_t)i);
	x86_mov_rr(b, true, X86_R10, reg_map[d->dst]);
	x86_alu_ri(b, true, X86_CMP, X86_R10, (int32_t)c->prog->helper_count);
	jcc_stub(b, X86_CC_AE, c->callx_exit);
	x86_mov_ri(b, true, X86_R9, (uint64_t)(uintptr_t)c->prog->helpers);
	/* mov r9, [r9 + r10 * 8] */
	x86_byte(b, 0x4f);
	x86_byte(b, 0x8b);
	x86_byte(b, 0x0c);
	x86_byte(b, 0xd1);
	x86_test_rr(b, true, X86_R9, X86_R9);
	jcc_stub(b, X86_CC_E, c->callx_exit);
	x86_mov_rr(b, true, X86_R11, X86_R9);
	emit_call_r11_and_check(c);
}

static const uint8_t tail_saved[] = { X86_RAX, X86_RDI, X86_RSI, X86_RDX, X86_RCX, X86_R8 };

static void emit_tail_call(struct jit_compiler *c)
{
	struct x86_buf *b = &c->b;
	for (size_t k = 0; k < sizeof(tail_saved); k++)
		x86_push(b, tail_saved[k]);
	x86_mov_rr(b, true, X86_RDI, X86_R12); /* r2 (rsi) and r3 (rdx) are the map and index */
	x86_mov_rr(b, true, X86_RCX, X86_RSP);
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
	jmp_stub(b, c->abort_exit);
	land_here(b, not_taken);
}

static const uint8_t callee_saved_bpf[] = { X86_RBX, X86_R13, X86_R14, X86_R15, X86_RBP };

static void emit_call_local(struct jit_compiler *c, size_t i, const struct dinsn *d)
{
	struct x86_buf *b = &c->b;
	x86_mov_ri(b, false, X86_R11, (uint32_t)i);
	x86_rm(b, false, true, 0x3b, X86_RBP, X86_R12, JR(frame_limit), false); /* cmp rbp, limit */
	jcc_stub(b, X86_CC_BE, c->eloop_exit);
	for (size_t k = 0; k < sizeof(callee_saved_bpf); k++)
		x86_push(b, callee_saved_bpf[k]);
	x86_alu_ri(b, true, X86_SUB, X86_RBP, COMB_STACK_SIZE);
	size_t t = i + 1 + d->imm;
	size_t target = t <= i ? c->off[t] : c->first_pass ? b->len : c->prev[t];
	x86_call_rel(b, target);
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
	jmp_stub(&c->b, c->insn_exit);
}

static int emit_control(struct jit_compiler *c, size_t i, const struct dinsn *d)
{
	switch (d->kind) {
	case H_JA: emit_jump(c, i, i + 1 + d->off, -1); return 0;
	case H_GOTOL: emit_jump(c, i, i + 1 + d->imm, -1); return 0;
	case H_EXIT: x86_ret(&c->b); return 0;
	case H_CALL_HELPER: emit_call_helper(c, d); return 0;
	case H_CALLX: emit_callx(c, i, d); return 0;
	case H_TAIL_CALL: emit_tail_call(c); return 0;
	case H_CALL_LOCAL: emit_call_local(c, i, d); return 0;
	case H_MISSING_HELPER: emit_insn_error(c, i, -ENOSYS); return 0;
	case H_POISONED: emit_insn_error(c, i, -EINVAL); return 0;
	default: return -ENOTSUP; /* LD_ABS / LD_IND: the interpreter runs them */
	}
}

static int emit_insn(struct jit_compiler *c, size_t i)
{
	const struct dinsn *d = &c->code[i];
	if (emit_alu(c, d) || emit_move(c, d) || emit_mem(c, d) || emit_atomic(c, d) ||
	    emit_cond_jump(c, i, d))
		return 0;
	return emit_control(c, i, d);
}

/* One pass over the program; fills c->off. */
static int emit_pass(struct jit_compiler *c)
{
	const size_t count = c->prog->count;
	c->b.len = 0;
	emit_entry_stub(c);
	emit_exits(c);
	c->body = c->b.len;
	for (size_t i = 0; i < count; i++) {
		c->off[i] = (uint32_t)c->b.len;
		if (c->code[i].kind == H_LDDW) {
			x86_mov_ri(&c->b, true, reg_map[c->code[i].dst], c->code[i + 1].imm64);
			c->off[++i] = (uint32_t)c->b.len;
			continue;
		}
		int rc = emit_insn(c, i);
		if (rc)
			return rc;
	}
	c->off[count] = (uint32_t)c->b.len;
	return x86_buf_overflowed(&c->b) ? -ENOMEM : 0;
}

static int install(struct jit_compiler *c, struct comb_jit_code **out)
{
	struct comb_jit_code *jit = calloc(1, sizeof(*jit));
	if (!jit)
		return -ENOMEM;
	jit->code = comb_jit_mem_install(c->b.p, c->b.len, &jit->mapped);
	if (!jit->code) {
		free(jit);
		return -ENOMEM;
	}
	jit->size = c->b.len;
	jit->count = c->prog->count;
	jit->offsets = c->off;
	c->off = NULL;
	*out = jit;
	return 0;
}

static int compile_passes(struct jit_compiler *c)
{
	const size_t n = c->prog->count + 1;
	c->first_pass = true;
	for (int pass = 0; pass < JIT_MAX_PASSES; pass++) {
		int rc = emit_pass(c);
		if (rc)
			return rc;
		if (!c->first_pass && !memcmp(c->off, c->prev, n * sizeof(*c->off)))
			return 0;
		uint32_t *t = c->prev;
		c->prev = c->off;
		c->off = t;
		c->first_pass = false;
	}
	return -ENOTSUP;
}

int comb_jit_compile(const struct comb_prog *prog, const struct dinsn *code, struct comb_jit_code **out)
{
#if !defined(__x86_64__)
	(void)prog; (void)code; (void)out;
	return -ENOTSUP;
#else
	struct jit_compiler c = { .prog = prog, .code = code };
	size_t n = prog->count + 1;
	c.b.cap = prog->count * JIT_BYTES_PER_INSN + 512;
	c.b.p = malloc(c.b.cap);
	c.off = calloc(n, sizeof(*c.off));
	c.prev = calloc(n, sizeof(*c.prev));
	c.short_ok = calloc(n, 1);
	int rc = -ENOMEM;
	if (c.b.p && c.off && c.prev && c.short_ok) {
		for (size_t i = 0; i < prog->count; i++) {
			c.has_tail_call |= code[i].kind == H_TAIL_CALL;
			i += code[i].kind == H_LDDW; /* skip the value slot */
		}
		rc = compile_passes(&c);
		if (!rc)
			rc = install(&c, out);
	}
	free(c.b.p);
	free(c.off);
	free(c.prev);
	free(c.short_ok);
	return rc;
#endif
}

void comb_jit_free(struct comb_jit_code *jit)
{
	if (!jit)
		return;
	comb_jit_mem_free(jit->code, jit->mapped);
	free(jit->offsets);
	free(jit);
}

const uint8_t *comb_jit_code_bytes(const struct comb_jit_code *jit, size_t *size)
{
	if (size)
		*size = jit ? jit->size : 0;
	return jit ? jit->code : NULL;
}

const uint32_t *comb_jit_insn_offsets(const struct comb_jit_code *jit)
{
	return jit ? jit->offsets : NULL;
}
