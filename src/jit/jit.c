/* src/jit/jit.c - translate decoded eBPF into x86-64: the driver.
 *
 * comb_jit_compile() builds the prelude (entry stub, shared exits), runs
 * the emission pass (jit_emit_insn.c; peepholes in jit_opt.c), relaxes the
 * branches and compacts the code into executable memory. Registers: see
 * jit_internal.h.
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
 * with loop heads the relaxation starts from all branches short and only
 * lengthens those that do not reach. Cold blocks a loop
 * jumps over (jit_sink.c) are laid out after all other code: then layout()
 * and compact() follow that order instead of the instructions', and the
 * exposed offsets (fin) are no longer increasing. With padding, both go by
 * events (list_events: branches, loop heads, runs of consecutive
 * instructions in the layout order), not by instruction. Nothing else in an
 * instruction's code depends on where it lands: jumps to the shared exits
 * are always long (fixups). The entry stub and the exits are the same for
 * every program: they are built once and copied. Scratch arrays and the
 * scratch code buffer are kept per thread between compiles (up to
 * JIT_SCRATCH_KEEP bytes), so compiling allocates only the result.
 */
#include <sys/random.h>
#include <pthread.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "jit/jit_internal.h"

#define JIT_BYTES_PER_INSN_GUESS 12 /* first size of the scratch code buffer */
#define JIT_PRELUDE_MAX 512
#define JIT_SCRATCH_KEEP (4u << 20) /* scratch bytes a thread keeps between compiles */
#define JIT_LOOP_ALIGN 64 /* a power of two; 1 turns alignment off */

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


/* ---- per-thread scratch ---- */

struct jit_scratch {
	uint8_t *work;          /* off, target, branches, heads, flags, is_target */
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

void jit_emit_prelude(struct jit_compiler *c)
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

/* Bytes a branch saves when short: jcc rel32 (6) -> rel8 (2), jmp 5 -> 2. */
static inline uint32_t branch_saving(uint8_t flags) { return flags & BR_JCC ? 4 : 3; }

/* Bytes a branch's final form saves on the long one it was counted as, by
 * its BR_* bits (short: see branch_saving; elided: all of a jmp). */
static const uint8_t final_saving[16] = {
	[BR_SHORT | BR_JCC] = 4, [BR_SHORT | BR_JMP] = 3, [BR_ELIDE | BR_JMP] = BR_JMP_LONG,
};

/* Bytes of instruction i's own code in the final layout (without the
 * alignment before it). */
static inline __attribute__((always_inline)) uint32_t final_size(const struct jit_compiler *c, size_t i)
{
	return c->off[i + 1] - c->off[i] - final_saving[c->flags[i] & 15];
}

/* events[]: the instructions, in layout order, where the code moves by
 * other than its own size (a branch, a loop head, the start of a run of
 * consecutive instructions), and RUN_END | e after each run (e: the
 * instruction after its last). Between two, fin and off differ by a
 * constant. */
#define RUN_END (1u << 31)

static void push_event(struct jit_compiler *c, uint32_t e)
{
	c->events[c->nevents++] = e;
}

/* The events of the run [from, to): its start, then its branches and loop
 * heads (cursors *nb, *nh into c->branches, c->heads), then its end. */
static void list_run_events(struct jit_compiler *c, uint32_t from, uint32_t to, size_t *nb, size_t *nh)
{
	while (*nb < c->nbranches && c->branches[*nb] < from)
		(*nb)++;
	while (*nh < c->nheads && c->heads[*nh] < from)
		(*nh)++;
	size_t first = c->nevents;
	for (;;) {
		uint32_t branch = *nb < c->nbranches ? c->branches[*nb] : UINT32_MAX;
		uint32_t head = *nh < c->nheads ? c->heads[*nh] : UINT32_MAX;
		uint32_t at = branch < head ? branch : head;
		if (at >= to)
			break;
		if (c->nevents == first && at != from)
			push_event(c, from);
		push_event(c, at);
		*nb += branch == at;
		*nh += head == at;
	}
	if (c->nevents == first)
		push_event(c, from);
	push_event(c, RUN_END | to);
}

/* The runs in layout order: the code between sunk blocks, then the sunk
 * blocks (c->sunk). */
static void list_events(struct jit_compiler *c)
{
	const uint32_t count = (uint32_t)c->prog->count;
	size_t nb = 0, nh = 0;
	uint32_t from = 0;
	c->nevents = 0;
	for (size_t k = 0; k < c->nsunk; k++) {
		list_run_events(c, from, c->sunk[2 * k], &nb, &nh);
		from = c->sunk[2 * k + 1];
	}
	list_run_events(c, from, count, &nb, &nh);
	nb = nh = 0;
	for (size_t k = 0; k < c->nsunk; k++)
		list_run_events(c, c->sunk[2 * k], c->sunk[2 * k + 1], &nb, &nh);
}

/* Lay the code out (fin) with the branch sizes chosen so far, loop heads
 * aligned as compact() will align them, sunk blocks (jit_sink.c) last: by
 * events in layout order, not by instruction. */
static void layout(struct jit_compiler *c)
{
	const uint32_t *off = c->off;
	uint32_t *fin = c->fin;
	uint32_t delta = 0, run_end = off[0]; /* fin - off; where the last run ended */
	size_t laid = 0;                      /* fin[] is set for the run below laid */
	bool run_ended = true;
	for (size_t e = 0; e < c->nevents; e++) {
		uint32_t at = c->events[e] & ~RUN_END;
		if (run_ended) {
			delta = run_end - off[at];
			laid = at;
			run_ended = false;
		}
		for (; laid < at; laid++)
			fin[laid] = off[laid] + delta;
		if (c->events[e] & RUN_END) {
			run_end = off[at] + delta;
			run_ended = true;
			continue;
		}
		if (c->is_target[at] & TARGET_LOOP)
			delta += -(off[at] + delta) & c->align_mask;
		fin[at] = off[at] + delta;
		laid = at + 1;
		delta -= final_saving[c->flags[at] & 15];
	}
	fin[c->prog->count] = run_end;
}

/* Distance of instruction i's branch in the current layout, were it short. */
static inline __attribute__((always_inline)) int64_t short_distance(const struct jit_compiler *c, size_t i)
{
	uint32_t end = c->fin[i] + final_size(c, i);
	if (!(c->flags[i] & BR_SHORT))
		end -= branch_saving(c->flags[i]);
	int64_t distance = (int64_t)c->fin[c->target[i]] - end;
	/* Forward: the target moves back by the same saving. */
	bool forward = c->fin[c->target[i]] > c->fin[i];
	return forward && !(c->flags[i] & BR_SHORT) ? distance - branch_saving(c->flags[i]) : distance;
}

/* Make long every short branch that no longer reaches in the current
 * layout. Returns whether any changed. */
static bool lengthen_unreachable(struct jit_compiler *c)
{
	bool changed = false;
	for (size_t n = 0; n < c->nbranches; n++) {
		size_t i = c->branches[n];
		if ((c->flags[i] & BR_SHORT) && !x86_fits8(short_distance(c, i))) {
			c->flags[i] &= (uint8_t)~BR_SHORT;
			changed = true;
		}
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
	size_t laid = 0; /* fin[] is this sweep's below laid */
	for (size_t n = 0; n < c->nbranches; n++) {
		size_t i = c->branches[n];
		uint32_t prev_next = c->fin[i + 1]; /* the previous sweep's, for forward branches */
		for (; laid <= i; laid++)
			c->fin[laid] = c->off[laid] - shrink;
		uint8_t f = c->flags[i];
		if (!(f & BR_SHORT)) {
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
	for (; laid <= count; laid++)
		c->fin[laid] = c->off[laid] - shrink;
	return changed;
}

/* Would another sweep shorten a branch? Only a long forward one can newly
 * reach (a backward one saw its exact distance, which the sweep did not
 * change before it), and it would see this layout: fin[t] - fin[i + 1]. */
static bool sweep_would_shorten(const struct jit_compiler *c)
{
	for (size_t n = 0; n < c->nbranches; n++) {
		size_t i = c->branches[n];
		if (!(c->flags[i] & BR_SHORT) && c->target[i] > i &&
		    x86_fits8((int64_t)c->fin[c->target[i]] - c->fin[i + 1]))
			return true;
	}
	return false;
}

/* Choose branch sizes; leaves the layout in c->fin. Without loop heads to
 * align, from the all-long layout, sweeps make branches short while their
 * targets are within reach. With them (padding can grow when code before
 * it shrinks, so shortening alone would not settle), every branch starts
 * short and rounds of layout only lengthen those that do not reach: it
 * ends, as a branch never becomes short again, and a bounded number of
 * rounds keeps it linear (past them every branch is long, which always
 * reaches). Most programs need two layouts: the first finds the branches
 * that are far (a function's early exits), the second confirms. */
static void relax_branches(struct jit_compiler *c, bool has_loops)
{
	if (!has_loops || !c->align_mask) { /* (then nothing was sunk either) */
		memcpy(c->fin, c->off, (c->prog->count + 1) * sizeof(*c->fin));
		for (int sweep = 0; sweep < 8 && relax_sweep(c) && sweep_would_shorten(c); sweep++)
			; /* (stopping where the next sweep would change nothing) */
		return;
	}
	for (size_t n = 0; n < c->nbranches; n++) {
		size_t i = c->branches[n];
		if (!(c->flags[i] & BR_ELIDE))
			c->flags[i] |= BR_SHORT;
	}
	layout(c);
	for (int round = 0; lengthen_unreachable(c); round++) {
		if (round == 16)
			for (size_t n = 0; n < c->nbranches; n++)
				c->flags[c->branches[n]] &= (uint8_t)~BR_SHORT;
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
	bool tail_call = false; /* (a local: c->has_tail_call |= ... would chain every turn through memory) */
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
			tail_call |= k == H_TAIL_CALL;
			continue;
		}
		if (t >= 0 && (size_t)t < count) {
			c->is_target[t] |= (uint8_t)(TARGET_ANY | ((size_t)t <= i ? TARGET_LOOP : 0));
			if ((size_t)t <= i && backward < JIT_BACK_EDGES_KEPT)
				c->back[backward] = (struct jit_back_edge){ (uint32_t)t, (uint32_t)i };
			backward += (size_t)t <= i;
		}
	}
	c->has_tail_call = tail_call;
	return backward;
}

/* Can control fall from instruction i - 1 into i? */
static bool falls_into(const struct jit_compiler *c, size_t i)
{
	if (i == 0)
		return false;
	enum comb_handler_kind k = c->code[i - 1].kind;
	return k != H_JA && k != H_GOTOL && k != H_EXIT;
}

/* Alignment padding runs whenever control falls into the head it pads.
 * A loop head h that is fallen into, inside the body of a loop [h2, k2]
 * that does not contain h's own loop (k2 before h's last latch: clang's
 * rotated outer loop whose head sits in the inner loop), would run its nops
 * on every turn of that loop: it is not aligned. Up to JIT_BACK_EDGES_KEPT
 * loops are compared. */
static void unalign_heads_inside_other_loops(struct jit_compiler *c, size_t loops)
{
	if (loops < 2 || loops > JIT_BACK_EDGES_KEPT)
		return;
	for (size_t a = 0; a < loops; a++) {
		uint32_t head = c->back[a].head, last_latch = 0;
		if (!falls_into(c, head))
			continue;
		for (size_t k = 0; k < loops; k++)
			if (c->back[k].head == head && c->back[k].latch > last_latch)
				last_latch = c->back[k].latch;
		for (size_t k = 0; k < loops; k++)
			if (c->back[k].head < head && head <= c->back[k].latch && c->back[k].latch < last_latch) {
				c->is_target[head] &= (uint8_t)~TARGET_LOOP;
				break;
			}
	}
}

static void put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* x86 is little-endian */
}

/* Instruction i's branch (flags f) at out[pos], to target: its size. */
static uint32_t put_branch(uint8_t *out, uint32_t pos, uint8_t f, uint32_t target)
{
	uint8_t cc = (uint8_t)(f >> BR_CC_SHIFT);
	if (f & BR_ELIDE)
		return 0;
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

/* The first fixup at or after scratch offset pos (fixups are in code order). */
static size_t first_fixup_from(const struct jit_compiler *c, uint32_t pos)
{
	size_t lo = 0, hi = c->nfix;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->fix[mid].pos < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Patch the fixups in the scratch code [from, to) (from *fx on), which
 * lands at dst. -ENOTSUP when a fixup is not inside. */
static int patch_run(struct jit_compiler *c, uint32_t from, uint32_t to, uint32_t dst, size_t *fx)
{
	for (; *fx < c->nfix && c->fix[*fx].pos < to; (*fx)++) {
		const struct jit_fixup *x = &c->fix[*fx];
		uint32_t target = x->target & FIX_INSN ? c->fin[x->target & ~FIX_INSN] : x->target;
		if (x->pos < from || x->pos + 4 > to)
			return -ENOTSUP;
		put_u32(c->b.p + x->pos, target - (dst + (x->pos + 4 - from)));
	}
	return 0;
}

/* The final code into out (c->fin[count] bytes): the prelude, then the
 * scratch code moved to the relaxation's layout, by events (list_events):
 * between two the code moves as one run (fixups patched in the scratch
 * code first); alignment padding before loop heads, each branch written in
 * its final size; runs are copied when one of those breaks them. -ENOTSUP
 * when the code does not match the layout (a JIT bug). */
static int compact(struct jit_compiler *c, uint8_t *out)
{
	const uint32_t *off = c->off, *fin = c->fin;
	const uint8_t *src = c->b.p;
	size_t fx = 0, patched_from = 0, patched = 0;
	uint32_t pos = (uint32_t)c->body;      /* where out is written to */
	uint32_t from = 0;                     /* the scratch code not laid out yet starts here */
	uint32_t run_src = pos, run_dst = pos; /* pending copy: src[run_src..] -> out[run_dst..pos) */
	bool run_ended = true;
	memcpy(out, src, c->body);
	for (size_t e = 0; e < c->nevents; e++) {
		uint32_t at = c->events[e] & ~RUN_END;
		if (run_ended) {
			memcpy(out + run_dst, src + run_src, pos - run_dst);
			patched += fx - patched_from;
			from = run_src = off[at];
			run_dst = pos;
			fx = patched_from = first_fixup_from(c, from);
			run_ended = false;
		}
		if (patch_run(c, from, off[at], pos, &fx))
			return -ENOTSUP;
		pos += off[at] - from;
		from = off[at];
		if (c->events[e] & RUN_END) {
			run_ended = true;
			continue;
		}
		if (fin[at] != pos) {
			uint32_t gap = fin[at] - pos;
			if (fin[at] < pos || gap > align_mask_at(c, at))
				return -ENOTSUP;
			memcpy(out + run_dst, src + run_src, pos - run_dst);
			struct x86_buf nops = { .p = out + pos, .cap = gap };
			x86_nops(&nops, gap);
			pos = fin[at];
			run_src = from;
			run_dst = pos;
		}
		uint8_t f = c->flags[at];
		if (!f)
			continue;
		uint32_t body_end = off[at + 1] - (f & BR_JCC ? BR_JCC_LONG : BR_JMP_LONG);
		if (patch_run(c, from, body_end, pos, &fx))
			return -ENOTSUP;
		pos += body_end - from;
		if (!short_branch_reaches(c, at, pos))
			return -ENOTSUP;
		memcpy(out + run_dst, src + run_src, pos - run_dst);
		pos += put_branch(out, pos, f, fin[c->target[at]]);
		from = run_src = off[at + 1];
		run_dst = pos;
	}
	memcpy(out + run_dst, src + run_src, pos - run_dst);
	patched += fx - patched_from;
	return patched == c->nfix && pos == fin[c->prog->count] ? 0 : -ENOTSUP;
}

/* compact() for a layout without alignment padding (no loop heads to
 * align): between branches the code only moves back by what the branches
 * before it saved, so it goes by branch rather than by instruction. The
 * same checks: fixups lie inside one run of an instruction's code, short
 * branches reach, the code matches the layout. */
static int compact_unpadded(struct jit_compiler *c, uint8_t *out)
{
	uint8_t *src = c->b.p;
	const uint32_t *off = c->off, *fin = c->fin;
	size_t fx = 0;
	uint32_t shift = 0;                      /* src offset - out offset */
	uint32_t run_src = (uint32_t)c->body;    /* the pending copy starts here in src */
	memcpy(out, src, c->body);
	for (size_t n = 0; n <= c->nbranches; n++) {
		bool last = n == c->nbranches;
		size_t i = last ? c->prog->count : c->branches[n];
		uint8_t f = last ? 0 : c->flags[i];
		uint32_t body_end = last ? off[i] : off[i + 1] - (f & BR_JCC ? BR_JCC_LONG : BR_JMP_LONG);
		for (; fx < c->nfix && c->fix[fx].pos < body_end; fx++) {
			const struct jit_fixup *x = &c->fix[fx];
			uint32_t target = x->target & FIX_INSN ? fin[x->target & ~FIX_INSN] : x->target;
			if (x->pos < run_src || x->pos + 4 > body_end)
				return -ENOTSUP;
			put_u32(src + x->pos, target - (x->pos + 4 - shift));
		}
		uint32_t pos = body_end - shift;
		memcpy(out + run_src - shift, src + run_src, body_end - run_src);
		if (last)
			return fx == c->nfix && pos == fin[i] ? 0 : -ENOTSUP;
		if (!short_branch_reaches(c, i, pos))
			return -ENOTSUP;
		pos += put_branch(out, pos, f, fin[c->target[i]]);
		if (pos != fin[i + 1])
			return -ENOTSUP;
		shift = off[i + 1] - pos;
		run_src = off[i + 1];
	}
	return -ENOTSUP; /* not reached */
}

/* ---- compile ---- */

static int compile_into(struct jit_compiler *c, struct comb_jit_code *jit, bool has_loops)
{
	int rc = jit_emit_pass(c);
	if (rc)
		return rc;
	if (has_loops && c->align_mask) {
		jit_sink_cold_blocks(c);
		list_events(c);
	}
	relax_branches(c, has_loops);
	size_t size = c->fin[c->prog->count];
	uint8_t *rw = comb_jit_mem_reserve(size, &jit->mem);
	if (!rw)
		return -ENOMEM;
	rc = has_loops && c->align_mask ? compact(c, rw) : compact_unpadded(c, rw);
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
	if (prog->count >= 1u << 31)
		return -E2BIG; /* offsets and targets are 31-bit */
	pthread_once(&prelude_once, build_prelude);
	struct jit_compiler c = { .prog = prog, .code = code };
	size_t n = prog->count + 1;
	/* The result (its offsets are the final layout) and the scratch. */
	struct comb_jit_code *jit = malloc(sizeof(*jit) + n * sizeof(uint32_t));
	uint8_t *work = scratch_work(7 * n * sizeof(uint32_t) + 3 * n);
	if (!jit || !work) {
		free(jit);
		return -ENOMEM;
	}
	memset(jit, 0, sizeof(*jit));
	jit->offsets = (uint32_t *)(jit + 1);
	c.fin = jit->offsets;
	c.off = (uint32_t *)work;
	c.target = c.off + n;
	c.branches = c.target + n;
	c.heads = c.branches + n;
	c.sunk = c.heads + n;
	c.events = c.sunk + n; /* at most 2n - 1: an event and a run end per instruction */
	c.flags = (uint8_t *)(c.events + 2 * n);
	c.is_target = c.flags + n;
	c.place = c.is_target + n;
	memset(c.flags, 0, 3 * n);
	c.harden = prog->jit_harden;
	c.bmi2 = prelude.bmi2;
	c.align_mask = JIT_LOOP_ALIGN - 1;
	if (c.harden && getrandom(&c.blind_seed, sizeof(c.blind_seed), 0) != sizeof(c.blind_seed))
		c.blind_seed = (uint64_t)(uintptr_t)work ^ (uint64_t)(uintptr_t)&c ^ 0x5bd1e995u;
	size_t loops = mark_targets(&c);
	unalign_heads_inside_other_loops(&c, loops);
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
