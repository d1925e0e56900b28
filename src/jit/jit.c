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
 * Branch sizes: the code is emitted once, into a scratch buffer, with every
 * branch between instructions counted long but not written: the pass
 * records where each one goes (target[], flags[]) and where the code holds
 * a rel32 to a shared exit or a call to an eBPF function (fixups). A
 * relaxation over those records alone (no code) then makes a branch short
 * once its target is in reach, and compact() copies the code to its final
 * place (the executable memory's writable view), runs of instructions in
 * one memcpy, writing each branch in its final size and re-aiming the
 * fixups. Loop heads (targets of backward
 * branches) start at a multiple of JIT_LOOP_ALIGN bytes, nops before them:
 * on the compute bench a loop's placement alone moved its time by up to
 * 1.6x, and 64-byte heads gave the steadiest results (16 and 32 were each
 * worse on some program). Padding can grow when code before it shrinks, so
 * the relaxation alternates shortening rounds with layouts and ends by
 * lengthening any short branch that no longer reaches. Nothing else in an
 * instruction's code depends on where it lands: jumps to the shared exits
 * are always long (fixups). The entry stub and the exits are the same for
 * every program: they are built once and copied. Scratch arrays and the
 * scratch code buffer are kept per thread between compiles (up to
 * JIT_SCRATCH_KEEP bytes), so compiling allocates only the result.
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
 *
 * Peepholes (emit_fused): copy-then-add and multiply-then-add by 3, 5, 9
 * as one lea; `rX = rY; rX &= K; if rX == 0` as test when rX is dead after
 * (jit_live.c). A conditional jump against 0 reuses the flags of the ALU
 * instruction before it instead of a test. Division saves rax/rdx only
 * while they hold live values. Shifts by a register use BMI2's
 * shlx/shrx/sarx where the CPU has them (no rcx juggling).
 *
 * Branches: short forward diamonds become cmovs (if-conversion); a loop's
 * `if C goto out; goto head` latch becomes `if !C goto head; jmp out`; a
 * conditional jump that unsigned upper bounds known over straight-line code
 * decide becomes a jmp or nothing (clang's second loop-bound test).
 */
#include <sys/random.h>
#include <pthread.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "jit/jit.h"
#include "jit/x86_emit.h"
#include "maps/internal.h"

#define JIT_INSN_ROOM 1024   /* generous bound for one emit step (up to 4 fused insns) */
#define JIT_BYTES_PER_INSN_GUESS 12 /* first size of the scratch code buffer */
#define JIT_PRELUDE_MAX 512
#define JIT_SCRATCH_KEEP (4u << 20) /* scratch bytes a thread keeps between compiles */

/* Inter-instruction branch of an instruction (flags[]); the x86 condition
 * of a BR_JCC in the high nibble. */
enum { BR_JCC = 1, BR_JMP = 2, BR_SHORT = 4 };
#define BR_CC_SHIFT 4
#define BR_JCC_LONG 6 /* 0f 8x rel32 */
#define BR_JMP_LONG 5 /* e9 rel32 */
/* is_target[]: a jump or call lands here; a backward one (a loop head). */
enum { TARGET_ANY = 1, TARGET_LOOP = 2 };
#define JIT_LOOP_ALIGN 64 /* a power of two; 1 turns alignment off */

/* A rel32 in the scratch code (its first byte at pos) aimed at a fixed
 * offset (a shared exit in the prelude) or, with FIX_INSN, at an
 * instruction's final offset. */
struct jit_fixup {
	uint32_t pos;
	uint32_t target;
};
#define FIX_INSN 0x80000000u

/* Indexes SCRATCH_REG and SCRATCH_REG + 1 are no eBPF registers: the
 * if-conversion rewrites instructions to compute into r11 and r10. */
#define SCRATCH_REG COMB_REG_COUNT /* r11, then r10 */
static const uint8_t reg_map[COMB_REG_COUNT + 2] = {
	X86_RAX, X86_RDI, X86_RSI, X86_RDX, X86_RCX, X86_R8,
	X86_RBX, X86_R13, X86_R14, X86_R15, X86_RBP, X86_R11, X86_R10,
};

#define JR(field) ((int32_t)offsetof(struct jit_run, field))

/* What the x86 flags say after an instruction's code: ZF and SF describe
 * the value of reg (hardware number, -1: nothing known) as a w-bit (64 or
 * 32) result; logic: CF and OF are clear, as after and/or/xor/test. */
struct flags_state {
	int8_t reg;
	bool w, logic;
};

struct jit_compiler {
	const struct comb_prog *prog;
	const struct dinsn *code;
	struct x86_buf b;    /* the scratch code, branches counted long, not written */
	uint32_t *off;       /* each instruction's offset in b */
	uint32_t *fin;       /* final offsets (relaxation), count + 1 */
	uint32_t *target;    /* the branch target of each instruction */
	uint8_t *flags;      /* BR_* */
	uint8_t *is_target;  /* control can arrive here other than from i - 1 (TARGET_*) */
	struct jit_fixup *fix;
	size_t nfix, fix_cap;
	bool out_of_memory;  /* a fixup could not be recorded */
	uint32_t align_mask; /* loop heads start at multiples of align_mask + 1 */
	bool has_tail_call;
	bool harden;         /* constant blinding */
	bool bmi2;           /* shlx/shrx/sarx available */
	size_t cur;          /* the instruction being emitted */
	struct flags_state fl, prev_fl;
	uint64_t ub[COMB_REG_COUNT]; /* unsigned upper bounds (bounds_note) */
	uint16_t ub_known;           /* which ub[] hold */
	uint64_t blind_seed, blind_state;
	size_t err_exit, abort_exit, eloop_exit, callx_exit, insn_exit;
	size_t body;
	size_t dropped;      /* instructions prog->facts left without code */
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

/* Inside the prelude (which never moves): short when in reach. */
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

/* The last thing instruction i emits: a branch to instruction t (cc < 0:
 * unconditional). Recorded and counted long; compact() writes it once its
 * size and target's place are known. */
static void emit_jump(struct jit_compiler *c, size_t i, size_t t, int cc)
{
	c->flags[i] = cc < 0 ? BR_JMP : (uint8_t)(BR_JCC | (cc << BR_CC_SHIFT));
	c->target[i] = (uint32_t)t;
	c->b.len += cc < 0 ? BR_JMP_LONG : BR_JCC_LONG;
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

/* Division and modulo by a register: x / 0 = 0, x % 0 = x, x s/ -1 = -x,
 * x s% -1 = 0 (RFC 9669 section 4.1), without ever executing a trapping div. */
static void emit_div_x(struct jit_compiler *c, bool w, bool is_signed, bool is_mod, int dst, int src)
{
	struct x86_buf *b = &c->b;
	x86_mov_rr(b, w, X86_R11, src);
	x86_test_rr(b, w, X86_R11, X86_R11);
	size_t to_zero = jcc_forward(b, X86_CC_E);
	size_t to_minus1 = 0;
	if (is_signed) {
		x86_alu_ri(b, w, X86_CMP, X86_R11, -1);
		to_minus1 = jcc_forward(b, X86_CC_E);
	}
	emit_div_core(c, w, is_signed, is_mod, dst);
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
	c->fl = (struct flags_state){ .reg = (int8_t)dst, .w = w,
				      .logic = op == X86_AND || op == X86_OR || op == X86_XOR };
}

/* dst = dst * imm + add as lea or shl, for imm 3, 5, 9 (lea's scales plus
 * one) or a power of two (shl, when add is 0); false for other factors. */
static bool emit_mul_by_shape(struct x86_buf *b, bool w, int dst, int32_t imm, int32_t add)
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
static inline __attribute__((always_inline)) bool emit_alu(struct jit_compiler *c, const struct dinsn *d)
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
		} else if (!emit_mul_by_shape(b, w, dst, d->imm, 0)) {
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
			c->fl = (struct flags_state){ .reg = (int8_t)dst, .w = w }; /* ZF, SF of the result */
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
static inline __attribute__((always_inline)) bool emit_move(struct jit_compiler *c, const struct dinsn *d)
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
static int emit_compare(struct jit_compiler *c, const struct dinsn *d)
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

static bool emit_cond_jump(struct jit_compiler *c, size_t i, const struct dinsn *d)
{
	if (cond_of(d->kind) < 0)
		return false;
	int cc = emit_compare(c, d);
	emit_jump(c, i, i + 1 + d->off, cc);
	return true;
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
static void bounds_narrow(struct jit_compiler *c, const struct dinsn *d)
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

/* Instruction i ran and fell through: what it proves or destroys. */
static void bounds_note(struct jit_compiler *c, size_t i)
{
	const struct dinsn *d = &c->code[i];
	enum comb_handler_kind k = d->kind;
	int dst = d->dst, src = d->src & 15;
	uint64_t imm = (uint64_t)(int64_t)d->imm, ub;
	bool known = bound_of(c, dst, &ub);
	switch (k) {
	case H_MOV64_K: bound_set(c, dst, imm); return;
	case H_MOV32_K: bound_set(c, dst, (uint32_t)d->imm); return;
	case H_MOV64_X:
		if (bound_of(c, src, &ub))
			bound_set(c, dst, ub);
		else
			bound_forget(c, dst);
		return;
	case H_ADD64_K:
		if (known && d->imm >= 0 && ub + imm >= ub)
			bound_set(c, dst, ub + imm);
		else
			bound_forget(c, dst);
		return;
	case H_AND64_K:
		if (d->imm >= 0)
			bound_set(c, dst, known && ub < imm ? ub : imm);
		else
			bound_forget(c, dst);
		return;
	case H_RSH64_K: bound_set(c, dst, (known ? ub : UINT64_MAX) >> (d->imm & 63)); return;
	case H_LDX_B: bound_set(c, dst, 0xff); return;
	case H_LDX_H: bound_set(c, dst, 0xffff); return;
	case H_LDX_W: bound_set(c, dst, UINT32_MAX); return;
	case H_LDDW: bound_set(c, dst, c->code[i + 1].imm64); return;
	case H_ST_B: case H_ST_H: case H_ST_W: case H_ST_DW:
	case H_STX_B: case H_STX_H: case H_STX_W: case H_STX_DW:
	case H_NOP: case H_JA: case H_GOTOL: case H_EXIT:
		return;
	default:
		break;
	}
	if (k >= H_ADD32_K && k <= H_NEG32)
		bound_set(c, dst, UINT32_MAX); /* 32-bit results are zero-extended */
	else if ((k >= H_ADD64_K && k <= H_NEG64) || (k >= H_MOVSX64_8 && k <= H_BE64) ||
		 (k >= H_LDX_B && k <= H_LDXS_W))
		bound_forget(c, dst);
	else if (cond_of(k) >= 0)
		bounds_narrow(c, d);
	else
		c->ub_known = 0; /* calls, atomics, anything else */
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

/* A conditional jump whose outcome the bounds know: a jmp or nothing. */
static bool fold_known_jump(struct jit_compiler *c, size_t i)
{
	const struct dinsn *d = &c->code[i];
	int outcome = jump_outcome(c, d);
	if (outcome < 0)
		return false;
	if (outcome)
		emit_jump(c, i, i + 1 + d->off, -1);
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

/* r0 = &value[*(u32 *)r2] of a plain ARRAY map, NULL past its end. */
static void emit_inline_array_lookup(struct jit_compiler *c, struct comb_map *map)
{
	struct x86_buf *b = &c->b;
	x86_load(b, 4, false, X86_R11, X86_RSI, 0); /* index = *(u32 *)key */
	x86_alu_ri(b, false, X86_CMP, X86_R11, (int32_t)map->info.max_entries);
	size_t past_end = jcc_forward(b, X86_CC_AE);
	uint32_t stride = map->value_stride;
	if (stride && (stride & (stride - 1)) == 0)
		x86_shift_ri(b, true, X86_SHL, X86_R11, (uint8_t)__builtin_ctz(stride));
	else
		x86_imul_ri(b, true, X86_R11, (int32_t)stride);
	x86_mov_ri(b, true, X86_RAX, (uint64_t)(uintptr_t)map->storage);
	x86_alu_rr(b, true, X86_ADD, X86_RAX, X86_R11);
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
		emit_inline_array_lookup(c, map);
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

static int emit_control(struct jit_compiler *c, size_t i, const struct dinsn *d)
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

/* ---- peepholes over two or three instructions ----
 *
 * Each applies only when nothing jumps into the middle of its instructions
 * and never under constant blinding; the instructions after the first then
 * have no code of their own (their offsets are where the code ends), except
 * a fused branch, which stays its instruction's code so that branch
 * relaxation sees it. */

/* Instructions i + 1 .. i + n follow i with no other way in. */
static bool straight_run(const struct jit_compiler *c, size_t i, size_t n)
{
	if (c->harden || i + n >= c->prog->count)
		return false;
	for (size_t k = 1; k <= n; k++)
		if (c->is_target[i + k])
			return false;
	return true;
}

/* `rD = rS; rD += imm` (clang's copy-then-offset), `rD = rS; rD += rT` and
 * `rD *= 3, 5 or 9; rD += imm` as one lea. */
static bool fuse_into_lea(struct jit_compiler *c, size_t i)
{
	const struct dinsn *d = &c->code[i], *next = &c->code[i + 1];
	if (!straight_run(c, i, 1) || next->dst != d->dst)
		return false;
	int dst = reg_map[d->dst], src = reg_map[d->src & 15];
	if (d->kind == H_MOV64_X && next->kind == H_ADD64_K && d->src != d->dst) {
		x86_lea(&c->b, dst, src, next->imm);
		return true;
	}
	bool w = d->kind == H_MOV64_X;
	if ((d->kind == H_MOV64_X || d->kind == H_MOV32_X) && d->src != d->dst &&
	    next->kind == (w ? H_ADD64_X : H_ADD32_X)) {
		int other = next->src == d->dst ? src : reg_map[next->src & 15];
		x86_lea_index(&c->b, w, dst, src, other, 0, 0);
		return true;
	}
	w = d->kind == H_MUL64_K;
	if ((d->kind == H_MUL64_K || d->kind == H_MUL32_K) && next->kind == (w ? H_ADD64_K : H_ADD32_K) &&
	    (d->imm == 3 || d->imm == 5 || d->imm == 9))
		return emit_mul_by_shape(&c->b, w, dst, d->imm, next->imm);
	return false;
}

/* ---- if-conversion ----
 *
 * `if C goto L; B; L:` where B is 1..IFCONV_MAX register-only instructions
 * writing at most two registers becomes: B computed into r11/r10, the
 * compare, a cmov per written register. clang turns `if (c) x = f(x)` into
 * such diamonds; when C follows the data a mispredicted branch costs 15-20
 * cycles, a cmov one. B runs unconditionally, so it may not touch memory,
 * trap or call. The cmovs are 64-bit: a 32-bit cmov would clear the upper
 * half of a register it does not move. Loop-closing diamonds (`if C goto
 * head; B; goto head`) stay branches: converted, collatz's step lengthened
 * the loop's dependency chain and ran 1.2x slower, its branch being
 * predictable. */
#define IFCONV_MAX 3

struct ifconv_plan {
	size_t n;          /* instructions in B */
	int ndst;
	uint8_t dst[2];    /* eBPF registers B writes; dst[k] computes in SCRATCH_REG + k */
};

/* May d run unconditionally into a scratch register? Arithmetic on
 * registers only that writes d->dst alone and borrows no register. */
static bool if_convertible(const struct jit_compiler *c, const struct dinsn *d)
{
	switch (d->kind) {
	case H_ADD64_K: case H_SUB64_K: case H_OR64_K: case H_AND64_K: case H_XOR64_K:
	case H_ADD32_K: case H_SUB32_K: case H_OR32_K: case H_AND32_K: case H_XOR32_K:
	case H_ADD64_X: case H_SUB64_X: case H_OR64_X: case H_AND64_X: case H_XOR64_X:
	case H_ADD32_X: case H_SUB32_X: case H_OR32_X: case H_AND32_X: case H_XOR32_X:
	case H_MUL64_K: case H_MUL32_K: case H_MUL64_X: case H_MUL32_X:
	case H_LSH64_K: case H_RSH64_K: case H_ARSH64_K: case H_LSH32_K: case H_RSH32_K: case H_ARSH32_K:
	case H_MOV64_K: case H_MOV32_K: case H_MOV64_X: case H_MOV32_X:
	case H_NEG64: case H_NEG32:
		return true;
	case H_LSH64_X: case H_RSH64_X: case H_ARSH64_X: case H_LSH32_X: case H_RSH32_X: case H_ARSH32_X:
		return c->bmi2; /* shlx and friends need no rcx */
	default:
		return false;
	}
}

/* Does d set its destination without reading it? */
static bool defines_dst(const struct dinsn *d)
{
	return d->kind == H_MOV64_K || d->kind == H_MOV32_K ||
	       ((d->kind == H_MOV64_X || d->kind == H_MOV32_X) && d->src != d->dst);
}

/* B = the n instructions after j: convertible, at most two registers. */
static bool ifconv_block(const struct jit_compiler *c, size_t j, size_t n, struct ifconv_plan *p)
{
	if (!straight_run(c, j, n))
		return false;
	p->n = n;
	p->ndst = 0;
	for (size_t k = 1; k <= n; k++) {
		const struct dinsn *d = &c->code[j + k];
		if (!if_convertible(c, d))
			return false;
		int slot = 0;
		while (slot < p->ndst && p->dst[slot] != d->dst)
			slot++;
		if (slot == p->ndst) {
			if (p->ndst == 2)
				return false;
			p->dst[p->ndst++] = d->dst;
		}
	}
	return true;
}

/* Can the conditional jump at j be if-converted? */
static bool ifconv_plan(const struct jit_compiler *c, size_t j, struct ifconv_plan *p)
{
	const struct dinsn *jump = &c->code[j];
	if (c->harden || jump->off < 1 || jump->off > IFCONV_MAX || cond_of(jump->kind) < 0)
		return false;
	return ifconv_block(c, j, (size_t)jump->off, p);
}

/* B into the scratch registers (before the compare: it changes flags). */
static void ifconv_compute(struct jit_compiler *c, size_t j, const struct ifconv_plan *p)
{
	bool written[2] = { false, false };
	for (size_t k = 1; k <= p->n; k++) {
		struct dinsn d = c->code[j + k];
		int slot = d.dst == p->dst[0] ? 0 : 1;
		if (!written[slot] && !defines_dst(&d))
			x86_mov_rr(&c->b, true, reg_map[SCRATCH_REG + slot], reg_map[d.dst]);
		written[slot] = true;
		for (int s = 0; s < p->ndst; s++)
			if (written[s] && (d.src & 15) == p->dst[s])
				d.src = (uint8_t)(SCRATCH_REG + s);
		d.dst = (uint8_t)(SCRATCH_REG + slot);
		if (!emit_alu(c, &d))
			emit_move(c, &d);
	}
	c->prev_fl.reg = -1;
}

/* After the compare (jump condition cc): the cmovs; B's slots have no code. */
static void ifconv_commit(struct jit_compiler *c, size_t j, const struct ifconv_plan *p, int cc)
{
	for (int s = 0; s < p->ndst; s++)
		x86_cmov(&c->b, true, (enum x86_cond)(cc ^ 1), reg_map[p->dst[s]], reg_map[SCRATCH_REG + s]);
	c->fl.reg = -1;
	for (size_t k = 0; k <= p->n; k++)
		c->off[j + k] = k ? (uint32_t)c->b.len : c->off[j];
}

/* The conditional jump at i, if-converted: instructions it covered after i. */
static size_t fuse_if_convert(struct jit_compiler *c, size_t i)
{
	struct ifconv_plan p;
	if (!ifconv_plan(c, i, &p))
		return 0;
	ifconv_compute(c, i, &p);
	ifconv_commit(c, i, &p, emit_compare(c, &c->code[i]));
	return p.n;
}

/* `rX = rY; rX &= K; if rX ==/!= 0 goto T` with rX dead afterwards (on both
 * paths): `test rY, K; jz/jnz T` (or if-converted, see above). */
static size_t fuse_and_test(struct jit_compiler *c, size_t i)
{
	const struct dinsn *mov = &c->code[i];
	if ((mov->kind != H_MOV64_X && mov->kind != H_MOV32_X) || mov->src == mov->dst || !straight_run(c, i, 2))
		return 0;
	const struct dinsn *and = &c->code[i + 1], *jump = &c->code[i + 2];
	enum comb_handler_kind k = jump->kind;
	bool jmp64 = k == H_JEQ64_K || k == H_JNE64_K;
	if ((and->kind != H_AND64_K && and->kind != H_AND32_K) || and->dst != mov->dst ||
	    (!jmp64 && k != H_JEQ32_K && k != H_JNE32_K) || jump->dst != mov->dst || jump->imm != 0)
		return 0;
	size_t target = i + 3 + (size_t)(int64_t)jump->off;
	if (!comb_jit_reg_dead_at(c->code, c->prog->count, i + 3, mov->dst) ||
	    !comb_jit_reg_dead_at(c->code, c->prog->count, target, mov->dst))
		return 0;
	bool w = mov->kind == H_MOV64_X && and->kind == H_AND64_K && jmp64;
	struct ifconv_plan p;
	bool convert = ifconv_plan(c, i + 2, &p);
	if (convert)
		ifconv_compute(c, i + 2, &p);
	x86_test_ri(&c->b, w, reg_map[mov->src & 15], and->imm);
	c->off[i + 1] = c->off[i + 2] = (uint32_t)c->b.len;
	if (!convert) {
		emit_jump(c, i + 2, target, cond_of(k));
		return 2;
	}
	ifconv_commit(c, i + 2, &p, cond_of(k));
	return 2 + p.n;
}

/* `if C goto X; goto L` with L a loop head behind (a loop's latch: clang
 * puts the exit test first): `if !C goto L; jmp X`, so the loop takes one
 * branch per turn instead of two. Each instruction keeps one branch of its
 * own for the relaxation. */
static size_t fuse_rotate_latch(struct jit_compiler *c, size_t i)
{
	const struct dinsn *jump = &c->code[i], *go = &c->code[i + 1];
	if (cond_of(jump->kind) < 0 || !straight_run(c, i, 1) || go->kind != H_JA || go->off >= 0)
		return 0;
	size_t exit_to = i + 1 + (size_t)(int64_t)jump->off, loop = i + 2 + (size_t)(int64_t)go->off;
	int cc = emit_compare(c, jump);
	emit_jump(c, i, loop, cc ^ 1);
	c->off[i + 1] = (uint32_t)c->b.len;
	if (exit_to != i + 2)
		emit_jump(c, i + 1, exit_to, -1);
	return 1;
}

/* A peephole at i: how many instructions after i it also covered. */
static size_t emit_fused(struct jit_compiler *c, size_t i)
{
	enum comb_handler_kind k = c->code[i].kind;
	if (cond_of(k) >= 0) {
		size_t converted = fuse_if_convert(c, i);
		return converted ? converted : fuse_rotate_latch(c, i);
	}
	if (k != H_MOV64_X && k != H_MOV32_X && k != H_MUL64_K && k != H_MUL32_K)
		return 0; /* the only first instructions of the peepholes below */
	size_t tested = fuse_and_test(c, i);
	if (tested)
		return tested;
	if (fuse_into_lea(c, i)) {
		c->off[i + 1] = (uint32_t)c->b.len;
		return 1;
	}
	return 0;
}

static int emit_insn(struct jit_compiler *c, size_t i)
{
	const struct dinsn *d = &c->code[i];
	if (emit_alu(c, d) || emit_move(c, d) || emit_mem(c, d) || emit_atomic(c, d) ||
	    emit_cond_jump(c, i, d))
		return 0;
	return emit_control(c, i, d);
}

/* ---- per-thread scratch ---- */

struct jit_scratch {
	uint8_t *work;          /* off, target, flags, is_target */
	size_t work_size;
	uint8_t *code;          /* the scratch code buffer */
	size_t code_size;
	struct jit_fixup *fix;
	size_t fix_cap;
};

static __thread struct jit_scratch scratch;
static pthread_key_t scratch_key;

static void scratch_release(void *arg)
{
	struct jit_scratch *s = arg;
	free(s->work);
	free(s->code);
	free(s->fix);
	memset(s, 0, sizeof(*s));
}

/* This thread's work block of at least size bytes (contents undefined). */
static uint8_t *scratch_work(size_t size)
{
	if (scratch.work_size >= size)
		return scratch.work;
	if (!scratch.work && !scratch.code && !scratch.fix)
		pthread_setspecific(scratch_key, &scratch); /* freed at thread exit */
	free(scratch.work);
	scratch.work = malloc(size);
	scratch.work_size = scratch.work ? size : 0;
	return scratch.work;
}

/* Hand the buffers back to the thread's scratch (or free them when big). */
static void scratch_keep(struct jit_compiler *c)
{
	scratch.code = c->b.p;
	scratch.code_size = c->b.cap;
	scratch.fix = c->fix;
	scratch.fix_cap = c->fix_cap;
	if (scratch.work_size + scratch.code_size + scratch.fix_cap * sizeof(*scratch.fix) > JIT_SCRATCH_KEEP)
		scratch_release(&scratch);
}

static bool cpu_has_bmi2(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("bmi2");
#else
	return false;
#endif
}

/* The entry stub and the shared exits, the same for every program: built
 * once, copied into each. */
static struct {
	uint8_t bytes[JIT_PRELUDE_MAX];
	struct jit_compiler offsets; /* only the *_exit and body fields */
	bool bmi2;
} prelude;
static pthread_once_t prelude_once = PTHREAD_ONCE_INIT;

static void build_prelude(void)
{
	struct jit_compiler *c = &prelude.offsets;
	c->b = (struct x86_buf){ .p = prelude.bytes, .cap = sizeof(prelude.bytes) };
	emit_entry_stub(c);
	emit_exits(c);
	c->body = c->b.len;
	prelude.bmi2 = cpu_has_bmi2();
	pthread_key_create(&scratch_key, scratch_release);
}

static void emit_prelude(struct jit_compiler *c)
{
	const struct jit_compiler *t = &prelude.offsets;
	c->b.len = 0;
	if (t->body <= c->b.cap)
		memcpy(c->b.p, prelude.bytes, t->body);
	c->b.len = t->body;
	c->err_exit = t->err_exit;
	c->abort_exit = t->abort_exit;
	c->eloop_exit = t->eloop_exit;
	c->callx_exit = t->callx_exit;
	c->insn_exit = t->insn_exit;
	c->body = t->body;
}

/* Alignment before instruction i (a mask: 0 for none). */
static uint32_t align_mask_at(const struct jit_compiler *c, size_t i)
{
	return c->is_target[i] & TARGET_LOOP ? c->align_mask : 0;
}

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

/* The one emission pass; fills c->off, c->flags, c->target, c->fix. */
static int emit_pass(struct jit_compiler *c)
{
	const size_t count = c->prog->count;
	emit_prelude(c);
	c->blind_state = c->blind_seed;
	c->fl.reg = -1;
	c->ub_known = 0;
	for (size_t i = 0; i < count; i++) {
		if (!ensure_room(c))
			return -ENOMEM;
		c->off[i] = (uint32_t)c->b.len;
		c->cur = i;
		c->prev_fl = c->fl;
		if (c->is_target[i]) {
			c->prev_fl.reg = -1; /* control may come with other flags */
			c->ub_known = 0;     /* and other values */
		}
		c->fl.reg = -1;
		const struct dinsn *d = &c->code[i];
		if (d->kind == H_LDDW) {
			emit_imm64(c, reg_map[d->dst], c->code[i + 1].imm64);
			bounds_note(c, i);
			c->off[++i] = (uint32_t)c->b.len;
			continue;
		}
		size_t noops = fact_noops(c, i);
		if (noops) {
			bounds_note(c, i);
			if (noops == 2) {
				c->off[++i] = (uint32_t)c->b.len;
				bounds_note(c, i);
			}
			continue;
		}
		size_t covered = 0;
		if (cond_of(d->kind) < 0 || !fold_known_jump(c, i)) {
			covered = emit_fused(c, i);
			int rc = covered ? 0 : emit_insn(c, i);
			if (rc)
				return rc;
		}
		for (size_t k = i; k <= i + covered; k++)
			bounds_note(c, k);
		i += covered;
	}
	c->off[count] = (uint32_t)c->b.len;
	return x86_buf_overflowed(&c->b) || c->out_of_memory ? -ENOMEM : 0;
}

/* Bytes a branch saves when short: jcc rel32 (6) -> rel8 (2), jmp 5 -> 2. */
static uint32_t branch_saving(uint8_t flags) { return flags & BR_JCC ? 4 : 3; }

/* Bytes of instruction i's own code in the final layout (without the
 * alignment before it). */
static uint32_t final_size(const struct jit_compiler *c, size_t i)
{
	uint32_t size = c->off[i + 1] - c->off[i];
	return c->flags[i] & BR_SHORT ? size - branch_saving(c->flags[i]) : size;
}

/* Lay the code out (fin) with the branch sizes chosen so far, loop heads
 * aligned as compact() will align them. */
static void layout(struct jit_compiler *c)
{
	const size_t count = c->prog->count;
	uint32_t pos = c->off[0];
	for (size_t i = 0; i < count; i++) {
		pos += -pos & align_mask_at(c, i);
		c->fin[i] = pos;
		pos += final_size(c, i);
	}
	c->fin[count] = pos;
}

/* Distance of instruction i's branch in the current layout, were it short. */
static int64_t short_distance(const struct jit_compiler *c, size_t i)
{
	uint32_t end = c->fin[i] + final_size(c, i);
	if (!(c->flags[i] & BR_SHORT))
		end -= branch_saving(c->flags[i]);
	int64_t distance = (int64_t)c->fin[c->target[i]] - end;
	/* Forward: the target moves back by the same saving. */
	return c->target[i] > i && !(c->flags[i] & BR_SHORT) ? distance - branch_saving(c->flags[i]) : distance;
}

/* Make long every short branch that no longer reaches (alignment padding
 * can grow when code before it shrinks). Returns whether any changed. */
static bool lengthen_unreachable(struct jit_compiler *c)
{
	bool changed = false;
	for (size_t i = 0; i < c->prog->count; i++)
		if ((c->flags[i] & BR_SHORT) && !x86_fits8(short_distance(c, i))) {
			c->flags[i] &= (uint8_t)~BR_SHORT;
			changed = true;
		}
	return changed;
}

static bool shorten_reachable(struct jit_compiler *c)
{
	bool changed = false;
	for (size_t i = 0; i < c->prog->count; i++)
		if (c->flags[i] && !(c->flags[i] & BR_SHORT) && x86_fits8(short_distance(c, i))) {
			c->flags[i] |= BR_SHORT;
			changed = true;
		}
	return changed;
}

/* Without alignment padding (no loops): one forward sweep decides branches
 * in order with the offsets known so far and lays the code out as it goes
 * (fin). A backward branch sees its exact distance; a forward one the
 * distance of the previous sweep's layout, which can only be larger (code
 * only shrinks, so a choice once made stays right). Returns whether a
 * branch became short. */
static bool relax_sweep(struct jit_compiler *c)
{
	const size_t count = c->prog->count;
	uint32_t shrink = 0;
	bool changed = false;
	for (size_t i = 0; i < count; i++) {
		uint32_t prev_next = c->fin[i + 1]; /* the previous sweep's, for forward branches */
		c->fin[i] = c->off[i] - shrink;
		uint8_t f = c->flags[i];
		if (f && !(f & BR_SHORT)) {
			size_t t = c->target[i];
			uint32_t saving = branch_saving(f);
			int64_t distance = t > i ? (int64_t)c->fin[t] - prev_next
				: (int64_t)c->fin[t] - ((int64_t)c->fin[i] + (c->off[i + 1] - c->off[i]) - saving);
			if (x86_fits8(distance)) {
				c->flags[i] = f | BR_SHORT;
				changed = true;
			}
		}
		if (c->flags[i] & BR_SHORT)
			shrink += branch_saving(c->flags[i]);
	}
	c->fin[count] = c->off[count] - shrink;
	return changed;
}

/* From the all-long layout, make branches short while their targets are
 * within reach; leaves the layout in c->fin. With loop heads to align,
 * shortening rounds alternate with layouts, and a final phase only
 * lengthens (so it ends) until every short branch reaches its target in
 * the final layout; a bounded number of rounds keeps it linear (past them,
 * every branch is long, which always reaches). */
static void relax_branches(struct jit_compiler *c, bool has_loops)
{
	if (!has_loops || !c->align_mask) {
		memcpy(c->fin, c->off, (c->prog->count + 1) * sizeof(*c->fin));
		for (int sweep = 0; sweep < 8 && relax_sweep(c); sweep++)
			;
		return;
	}
	layout(c);
	for (int round = 0; round < 8; round++) {
		bool grew = lengthen_unreachable(c);
		if (!grew && !shorten_reachable(c))
			break;
		layout(c);
	}
	for (int round = 0; lengthen_unreachable(c); round++) {
		if (round == 16)
			for (size_t i = 0; i < c->prog->count; i++)
				c->flags[i] &= (uint8_t)~BR_SHORT;
		layout(c);
	}
}

_Static_assert(H_GOTOL == H_JA + 1 && H_JEQ64_K == H_GOTOL + 1 && H_JEQ32_K == H_JSET64_X + 1 &&
	       H_CALL_HELPER == H_JSET32_X + 1 && H_CALL_LOCAL == H_CALL_HELPER + 1,
	       "mark_targets: jumps and calls are one range of handler kinds");

/* Where control can arrive other than by falling through: jump and call
 * targets, callback entries. Notes tail calls on the way. Returns the
 * number of backward branches (at most that many loop heads to align). */
static size_t mark_targets(struct jit_compiler *c)
{
	size_t backward = 0;
	const size_t count = c->prog->count;
	for (size_t i = 0; i < count; i++) {
		const struct dinsn *d = &c->code[i];
		uint64_t k = d->kind;
		int64_t t;
		/* JA, GOTOL, the conditional jumps and the calls are one range. */
		if (k - H_JA <= (uint64_t)(H_CALL_LOCAL - H_JA)) {
			if (k == H_CALL_HELPER)
				continue;
			t = (int64_t)i + 1 + (k == H_GOTOL || k == H_CALL_LOCAL ? d->imm : d->off);
		} else if (k == H_LDDW) {
			uint64_t value = c->code[++i].imm64; /* skip the value slot */
			if ((value & ~COMB_CALLBACK_INDEX_MASK) != COMB_CALLBACK_TAG)
				continue;
			t = (int64_t)(value & COMB_CALLBACK_INDEX_MASK);
		} else {
			c->has_tail_call |= k == H_TAIL_CALL;
			continue;
		}
		if (t >= 0 && (size_t)t < count) {
			c->is_target[t] |= (uint8_t)(TARGET_ANY | ((size_t)t <= i ? TARGET_LOOP : 0));
			backward += (size_t)t <= i;
		}
	}
	return backward;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* x86 is little-endian */
}

/* Instruction i's branch (flags f) at out[pos], to target: its size. */
static uint32_t put_branch(uint8_t *out, uint32_t pos, uint8_t f, uint32_t target)
{
	uint8_t cc = (uint8_t)(f >> BR_CC_SHIFT);
	if (f & BR_SHORT) {
		out[pos] = f & BR_JCC ? (uint8_t)(0x70 + cc) : 0xeb;
		out[pos + 1] = (uint8_t)(target - (pos + 2));
		return 2;
	}
	if (f & BR_JMP) {
		out[pos] = 0xe9;
		put_u32(out + pos + 1, target - (pos + BR_JMP_LONG));
		return BR_JMP_LONG;
	}
	out[pos] = 0x0f;
	out[pos + 1] = (uint8_t)(0x80 + cc);
	put_u32(out + pos + 2, target - (pos + BR_JCC_LONG));
	return BR_JCC_LONG;
}

/* Does instruction i's short branch (if any) reach its target at fin? */
static bool short_branch_reaches(const struct jit_compiler *c, size_t i, uint32_t pos)
{
	return !(c->flags[i] & BR_SHORT) ||
	       x86_fits8((int64_t)c->fin[c->target[i]] - (int64_t)(pos + 2));
}

/* The final code into out (c->fin[count] bytes): the prelude, then the
 * scratch code moved to the relaxation's layout. Between branches,
 * alignment padding and fixups, the code is copied in runs; fixups are
 * patched in the scratch code before their run is copied. -ENOTSUP when
 * the code does not match the layout (a JIT bug). */
static int compact(struct jit_compiler *c, uint8_t *out)
{
	const size_t count = c->prog->count;
	uint8_t *src = c->b.p;
	const uint32_t *off = c->off, *fin = c->fin;
	size_t fx = 0;
	uint32_t pos = (uint32_t)c->body;      /* where out is written to */
	uint32_t run_src = pos, run_dst = pos; /* pending copy: src[run_src..] -> out[run_dst..pos) */
	memcpy(out, src, c->body);
	for (size_t i = 0; i < count; i++) {
		if (fin[i] != pos) {
			uint32_t gap = fin[i] - pos;
			if (fin[i] < pos || gap > align_mask_at(c, i))
				return -ENOTSUP;
			memcpy(out + run_dst, src + run_src, pos - run_dst);
			struct x86_buf nops = { .p = out + pos, .cap = gap };
			x86_nops(&nops, gap);
			pos = fin[i];
			run_src = off[i];
			run_dst = pos;
		}
		uint8_t f = c->flags[i];
		uint32_t body_end = off[i + 1] - (f ? (f & BR_JCC ? BR_JCC_LONG : BR_JMP_LONG) : 0);
		for (; fx < c->nfix && c->fix[fx].pos < body_end; fx++) {
			const struct jit_fixup *x = &c->fix[fx];
			uint32_t target = x->target & FIX_INSN ? fin[x->target & ~FIX_INSN] : x->target;
			if (x->pos < off[i] || x->pos + 4 > body_end)
				return -ENOTSUP;
			put_u32(src + x->pos, target - (pos + (x->pos + 4 - off[i])));
		}
		pos += body_end - off[i];
		if (f) {
			if (!short_branch_reaches(c, i, pos))
				return -ENOTSUP;
			memcpy(out + run_dst, src + run_src, pos - run_dst);
			pos += put_branch(out, pos, f, fin[c->target[i]]);
			run_src = off[i + 1];
			run_dst = pos;
		}
	}
	memcpy(out + run_dst, src + run_src, pos - run_dst);
	return fx == c->nfix && pos == fin[count] ? 0 : -ENOTSUP;
}

/* ---- compile ---- */

static int compile_into(struct jit_compiler *c, struct comb_jit_code *jit, bool has_loops)
{
	int rc = emit_pass(c);
	if (rc)
		return rc;
	relax_branches(c, has_loops);
	size_t size = c->fin[c->prog->count];
	uint8_t *rw = comb_jit_mem_reserve(size, &jit->mem);
	if (!rw)
		return -ENOMEM;
	rc = compact(c, rw);
	jit->code = rc ? NULL : comb_jit_mem_commit(&jit->mem);
	if (!jit->code) {
		comb_jit_mem_free(&jit->mem);
		return rc ? rc : -ENOMEM;
	}
	jit->size = size;
	jit->count = c->prog->count;
	jit->dropped = c->dropped;
	return 0;
}

int comb_jit_compile(const struct comb_prog *prog, const struct dinsn *code, struct comb_jit_code **out)
{
#if !defined(__x86_64__)
	(void)prog; (void)code; (void)out;
	return -ENOTSUP;
#else
	pthread_once(&prelude_once, build_prelude);
	struct jit_compiler c = { .prog = prog, .code = code };
	size_t n = prog->count + 1;
	/* The result (its offsets are the final layout) and the scratch. */
	struct comb_jit_code *jit = malloc(sizeof(*jit) + n * sizeof(uint32_t));
	uint8_t *work = scratch_work(2 * n * sizeof(uint32_t) + 2 * n);
	if (!jit || !work) {
		free(jit);
		return -ENOMEM;
	}
	memset(jit, 0, sizeof(*jit));
	jit->offsets = (uint32_t *)(jit + 1);
	c.fin = jit->offsets;
	c.off = (uint32_t *)work;
	c.target = c.off + n;
	c.flags = (uint8_t *)(c.target + n);
	c.is_target = c.flags + n;
	memset(c.flags, 0, 2 * n);
	c.harden = prog->jit_harden;
	c.bmi2 = prelude.bmi2;
	c.align_mask = JIT_LOOP_ALIGN - 1;
	if (c.harden && getrandom(&c.blind_seed, sizeof(c.blind_seed), 0) != sizeof(c.blind_seed))
		c.blind_seed = (uint64_t)(uintptr_t)work ^ (uint64_t)(uintptr_t)&c ^ 0x5bd1e995u;
	size_t loops = mark_targets(&c);
	size_t guess = prog->count * JIT_BYTES_PER_INSN_GUESS + JIT_PRELUDE_MAX + JIT_INSN_ROOM;
	c.b = (struct x86_buf){ .p = scratch.code, .cap = scratch.code_size };
	if (c.b.cap < guess) { /* no copy needed: a fresh buffer */
		free(c.b.p);
		c.b.p = malloc(guess);
		c.b.cap = c.b.p ? guess : 0;
	}
	c.fix = scratch.fix;
	c.fix_cap = scratch.fix_cap;
	int rc = c.b.p ? compile_into(&c, jit, loops > 0) : -ENOMEM;
	scratch_keep(&c);
	if (rc) {
		free(jit);
		return rc;
	}
	*out = jit;
	return 0;
#endif
}

void comb_jit_free(struct comb_jit_code *jit)
{
	if (!jit)
		return;
	free(jit->facts);
	comb_jit_mem_free(&jit->mem);
	free(jit); /* the offsets live in the same block */
}

/* Recompiling costs one decode and one compile (as at load); only done
 * when some instruction has a fact. */
void comb_jit_apply_facts(struct comb_prog *prog, uint8_t *facts)
{
	if (!prog->jit || !facts) {
		free(facts);
		return;
	}
	struct dinsn *generic = calloc(prog->count, sizeof(*generic));
	struct comb_jit_code *jit = NULL;
	uint8_t *old = prog->facts;
	prog->facts = facts;
	if (!generic || comb_decode(prog, generic, NULL, 0) || comb_jit_compile(prog, generic, &jit)) {
		prog->facts = old; /* keep the code (and facts) there are */
		free(facts);
		free(generic);
		return;
	}
	free(generic);
	jit->facts = facts;
	comb_jit_free(prog->jit);
	prog->jit = jit;
}

size_t comb_jit_facts_dropped(const struct comb_jit_code *jit)
{
	return jit ? jit->dropped : 0;
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

int comb_prog_jit_code(const struct comb_prog *prog, const uint8_t **code, size_t *size,
		       const uint32_t **insn_offsets)
{
	if (!prog || !prog->jit)
		return -ENOTSUP;
	if (code)
		*code = prog->jit->code;
	if (size)
		*size = prog->jit->size;
	if (insn_offsets)
		*insn_offsets = prog->jit->offsets;
	return 0;
}
