/* src/jit/jit_internal.h - what the JIT's files share (private to src/jit).
 *
 * jit.c drives a compile (prelude, branch relaxation, compact),
 * jit_emit_insn.c runs the emission pass and emits each instruction's code,
 * jit_opt.c holds the peepholes that look at more than one instruction
 * (if-conversion, latch inversion, lea and test). They share struct
 * jit_compiler, the register map and the record of a branch between
 * instructions (emit_jump, read by the relaxation in jit.c).
 *
 * Registers: r0-r10 live in rax, rdi, rsi, rdx, rcx, r8, rbx, r13, r14, r15,
 * rbp, so r1-r5 already sit where the System V ABI wants a helper's first five
 * arguments and r0 is where its result comes back; r9-r11 are scratch and r12
 * points at the run's struct jit_run. Shifts by a register borrow rcx (r4)
 * and division borrows rax and rdx (r0, r3): both save and restore them.
 */
#ifndef COMB_JIT_JIT_INTERNAL_H
#define COMB_JIT_JIT_INTERNAL_H

#include <stddef.h>
#include <string.h>
#include "jit/jit.h"
#include "jit/x86_emit.h"

#define JIT_BACK_EDGES_KEPT 32 /* loops whose heads are compared for alignment (jit.c) */
#define JIT_INSN_ROOM 1024   /* generous bound for one emit step (up to 4 fused insns) */

/* Inter-instruction branch of an instruction (flags[]); the x86 condition
 * of a BR_JCC in the high nibble. */
enum { BR_JCC = 1, BR_JMP = 2, BR_SHORT = 4, BR_ELIDE = 8 /* a goto to the next in layout: no code */ };
#define BR_CC_SHIFT 4
#define BR_JCC_LONG 6 /* 0f 8x rel32 */
#define BR_JMP_LONG 5 /* e9 rel32 */

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
 * 32) result; logic: CF and OF are clear, as after and/or/xor/test.
 * Always written whole (flags_store, flags_forget): the emission pass
 * copies it at every instruction as one word, and a word read of bytes
 * just stored one by one cannot be forwarded from the stores (a stall of
 * ten cycles and more per instruction). */
struct flags_state {
	int8_t reg;
	bool w, logic;
	uint8_t unused;
} __attribute__((aligned(4)));
_Static_assert(sizeof(struct flags_state) == 4 && offsetof(struct flags_state, reg) == 0 &&
	       offsetof(struct flags_state, w) == 1 && offsetof(struct flags_state, logic) == 2,
	       "flags_state is one little-endian word");

/* *to = { reg, w, logic } in one store (a struct literal would be stored
 * field by field). */
static inline void flags_store(struct flags_state *to, int reg, bool w, bool logic)
{
	uint32_t word = (uint8_t)reg | (uint32_t)w << 8 | (uint32_t)logic << 16;
	memcpy(to, &word, sizeof(word));
}

/* Nothing known about the flags. */
static inline void flags_forget(struct flags_state *to)
{
	flags_store(to, -1, false, false);
}

struct jit_compiler {
	const struct comb_prog *prog;
	const struct dinsn *code;
	struct x86_buf b;    /* the scratch code, branches counted long, not written */
	uint32_t *off;       /* each instruction's offset in b */
	uint32_t *fin;       /* final offsets (relaxation), count + 1 */
	uint32_t *target;    /* the branch target of each instruction */
	uint8_t *flags;      /* BR_* */
	uint8_t *is_target;  /* control can arrive here other than from i - 1 (TARGET_*) */
	uint32_t *branches;  /* the instructions with a branch (flags[] set), in order */
	size_t nbranches;
	uint32_t *heads;     /* the loop heads (TARGET_LOOP) emitted, in order */
	size_t nheads;
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
	uint8_t *place;      /* PLACE_* per instruction (jit_sink.c) */
	uint32_t *sunk;      /* the sunk blocks, in order: first, after-last pairs */
	size_t nsunk;        /* blocks in sunk[] */
	uint32_t *events;    /* with padding: where the layout changes course (jit.c) */
	size_t nevents;
	struct jit_back_edge { uint32_t head, latch; } back[JIT_BACK_EDGES_KEPT]; /* the first ones */
};

/* is_target[]: a jump or call lands here; a backward one (a loop head). */
enum { TARGET_ANY = 1, TARGET_LOOP = 2 };

/* place[]: the emission pass started a step (an instruction or a fused
 * group) here (jit_sink.c never splits a group). */
enum { PLACE_STEP = 1 };
/* ---- branches between instructions ---- */

/* The last thing instruction i emits: a branch to instruction t (cc < 0:
 * unconditional). Recorded (and listed in branches[]) and counted long;
 * compact() writes it once its size and target's place are known. */
static inline void emit_jump(struct jit_compiler *c, size_t i, size_t t, int cc)
{
	c->flags[i] = cc < 0 ? BR_JMP : (uint8_t)(BR_JCC | (cc << BR_CC_SHIFT));
	c->target[i] = (uint32_t)t;
	c->branches[c->nbranches++] = (uint32_t)i; /* emission goes in order */
	c->b.len += cc < 0 ? BR_JMP_LONG : BR_JCC_LONG;
}

/* ---- jumps ---- */

static inline int cond_of(enum comb_handler_kind k)
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


/* jit_emit_insn.c: one instruction's code. */
bool jit_emit_alu(struct jit_compiler *c, const struct dinsn *d);
bool jit_emit_move(struct jit_compiler *c, const struct dinsn *d);
bool jit_emit_mul_by_shape(struct x86_buf *b, bool w, int dst, int32_t imm, int32_t add);
int jit_emit_compare(struct jit_compiler *c, const struct dinsn *d);
/* The one emission pass; fills c->off, c->flags, c->target, c->fix. */
int jit_emit_pass(struct jit_compiler *c);

/* jit_opt.c: the peepholes; each returns how many instructions after i it
 * covered (0: it did not apply, nothing emitted), fuse_into_lea whether it
 * applied. */
bool jit_fuse_into_lea(struct jit_compiler *c, size_t i);
size_t jit_fuse_if_convert(struct jit_compiler *c, size_t i);
size_t jit_fuse_and_test(struct jit_compiler *c, size_t i);
size_t jit_fuse_load_indexed(struct jit_compiler *c, size_t i);
size_t jit_fuse_rotate_latch(struct jit_compiler *c, size_t i);
size_t jit_fuse_rotate(struct jit_compiler *c, size_t i);
size_t jit_fuse_load_op(struct jit_compiler *c, size_t i);

#define IFCONV_MAX 3 /* instructions in an if-converted block (jit_opt.c) */

/* May a peephole of jit_opt.c apply at i (of kind k, one that can start
 * one)? A cheap look at the next instruction, so that the emission pass
 * tries the peepholes only there (compile time); it must accept every
 * start they accept (a new peephole names its shape here too). */
static inline bool jit_peephole_may_start(const struct jit_compiler *c, size_t i, enum comb_handler_kind k)
{
	if (i + 1 >= c->prog->count)
		return false;
	const struct dinsn *d = &c->code[i];
	enum comb_handler_kind next = (enum comb_handler_kind)c->code[i + 1].kind;
	if (cond_of(k) >= 0) /* if-conversion, latch rotation */
		return (d->off >= 1 && d->off <= IFCONV_MAX) || (next == H_JA && c->code[i + 1].off < 0);
	const struct dinsn *e = &c->code[i + 1];
	if (k == H_LDX_W || k == H_LDX_DW) /* load then op: the op reads what was loaded */
		return (e->src & 15) == d->dst && e->dst != d->dst &&
		       ((next >= H_ADD64_X && next <= H_XOR64_X) || (next >= H_ADD32_X && next <= H_XOR32_X));
	/* rotate: the copy shifted, then the original */
	if ((k == H_MOV64_X || k == H_MOV32_X) && (next == H_LSH64_K || next == H_RSH64_K || next == H_LSH32_K || next == H_RSH32_K) && e->dst == d->dst)
		return i + 2 < c->prog->count && c->code[i + 2].dst == (d->src & 15);
	/* and-then-test, lea */
	return next == H_ADD64_K || next == H_ADD64_X || next == H_ADD32_K || next == H_ADD32_X ||
	       next == H_AND64_K || next == H_AND32_K;
}
/* jit_sink.c: move cold blocks out of the loops they leave; returns how
 * many blocks moved. */
size_t jit_sink_cold_blocks(struct jit_compiler *c);

/* jit.c: the entry stub and shared exits, copied to the start of c->b. */
void jit_emit_prelude(struct jit_compiler *c);

#endif
