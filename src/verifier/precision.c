/* src/verifier/precision.c - precision tracking: which scalars matter.
 *
 * Pruning compares a scalar of an explored checkpoint only when marked
 * precise: some continuation of the checkpoint took a safety decision from
 * its value (a pointer moved by it, a helper size, a branch decided by its
 * range, a return code, a constant map key). An imprecise scalar admits any
 * scalar, so loops accumulating sums or keys prune (state.c).
 *
 * As the kernel's mark_chain_precision: when a decision uses a value, the
 * path's history is walked backwards from the current instruction to find
 * where the value came from (a set of registers and stack slots per frame):
 * `r1 += r2` adds r2, `r1 = r2` swaps r1 for r2, a constant load drops r1, a
 * fill from the stack swaps the register for the slot, a spill swaps the
 * slot for the stored register, a comparison that refined the operands and
 * their copies (same id) adds both operands. At each checkpoint met on the
 * way the set's scalars are marked precise there; a scalar already precise
 * stops the walk for it (its sources were marked when it was). Calls and
 * exits move the set between frames (arguments r1-r5, the result r0).
 * Anything the walk cannot follow marks every scalar of every checkpoint of
 * the path precise (all_precise), which is what comparing all values means.
 *
 * A path pruned at a checkpoint inherits its precise scalars: the same
 * continuations will run on this path's values (verifier_propagate_precision).
 */
#include <errno.h>
#include <string.h>

#include "verifier/internal.h"

#define BT_FALLBACK 1

struct bt {
	uint16_t regs[COMB_MAX_FRAMES];
	uint64_t slots[COMB_MAX_FRAMES];
};

enum { HELPER_FOR_EACH_MAP_ELEM = 164, HELPER_LOOP = 181, HELPER_USER_RINGBUF_DRAIN = 209 };

static bool bt_empty(const struct bt *b)
{
	for (int f = 0; f < COMB_MAX_FRAMES; f++)
		if (b->regs[f] || b->slots[f])
			return false;
	return true;
}

/* --- recording the history ---------------------------------------------- */

int verifier_hist_record(struct vstate *st, size_t idx)
{
	return vstate_hist_push(st, idx, st->nframes - 1) ? -ENOMEM : 0;
}

static struct vhist *last_entry(struct vstate *st)
{
	return st->nhist && !st->hist_lost ? &st->hist[st->nhist - 1] : NULL;
}

void verifier_hist_note_stack(struct vstate *st, int flags, int frameno, int slot)
{
	struct vhist *h = last_entry(st);
	if (!h || frameno < 0 || frameno >= COMB_MAX_FRAMES || slot < 0 || slot >= VSTACK_SLOTS)
		return;
	if ((h->flags & (VH_FILL | VH_STORE)) && (h->sframe != frameno || h->slot != slot)) {
		h->flags |= VH_UNKNOWN; /* two slots in one instruction: give up on it */
		return;
	}
	h->flags |= (uint8_t)flags;
	h->sframe = (uint8_t)frameno;
	h->slot = (uint8_t)slot;
}

static void add_link(struct vhist *h, bool is_slot, int frame, int num)
{
	unsigned n = (unsigned)(h->links >> 60);
	if (n >= VHIST_MAX_LINKS) {
		h->flags |= VH_LINKS_ALL;
		return;
	}
	uint64_t e = (uint64_t)((is_slot ? 1u << 9 : 0) | (unsigned)frame << 6 | (unsigned)num);
	h->links = (h->links & ~(UINT64_C(0xf) << 60)) | (e << (10 * n)) | ((uint64_t)(n + 1) << 60);
}

static bool has_id(const struct vreg *r, uint32_t a, uint32_t b)
{
	return r->type == VT_SCALAR && r->id && (r->id == a || r->id == b);
}

void verifier_hist_note_refine(struct vstate *st, int dst, int src)
{
	struct vhist *h = last_entry(st);
	if (!h)
		return;
	h->flags |= VH_REFINED;
	const struct vframe *cur = vstate_cur(st);
	uint32_t a = cur->regs[dst].id, b = src >= 0 ? cur->regs[src].id : 0;
	if (cur->regs[dst].type != VT_SCALAR)
		a = 0;
	if (src < 0 || cur->regs[src].type != VT_SCALAR)
		b = 0;
	if (!a && !b)
		return;
	for (int f = 0; f < st->nframes; f++) {
		const struct vframe *fr = st->frames[f];
		for (int r = 0; r < COMB_REG_COUNT; r++) {
			if (f == st->nframes - 1 && (r == dst || r == src))
				continue;
			if (has_id(&fr->regs[r], a, b))
				add_link(h, false, f, r);
		}
		for (int s = 0; s < VSTACK_SLOTS; s++)
			if (fr->stype[s * 8] == SLOT_SPILL && has_id(&fr->spill[s], a, b))
				add_link(h, true, f, s);
	}
}

/* --- walking back ------------------------------------------------------- */

static bool link_hit(const struct vhist *h, const struct bt *b)
{
	unsigned n = (unsigned)(h->links >> 60);
	for (unsigned i = 0; i < n; i++) {
		unsigned e = (unsigned)(h->links >> (10 * i)) & 0x3ff;
		int frame = (int)((e >> 6) & 7), num = (int)(e & 0x3f);
		if ((e & (1u << 9)) ? (b->slots[frame] >> num) & 1 : (b->regs[frame] >> num) & 1)
			return true;
	}
	return false;
}

static int backtrack_jump(const struct comb_insn *in, const struct vhist *h, struct bt *b, int d)
{
	if (!(h->flags & VH_REFINED))
		return 0; /* decided without refining: the values went through unchanged */
	uint16_t ops = (uint16_t)(1u << in->dst);
	if (COMB_SRC(in->code) == COMB_SRC_X)
		ops |= (uint16_t)(1u << in->src);
	bool hit = (b->regs[d] & ops) || ((h->flags & VH_LINKS_ALL) && !bt_empty(b)) || link_hit(h, b);
	if (hit)
		b->regs[d] |= ops;
	return 0;
}

static int backtrack_alu(const struct comb_insn *in, struct bt *b, int d)
{
	uint16_t dbit = (uint16_t)(1u << in->dst), sbit = (uint16_t)(1u << in->src);
	bool x = COMB_SRC(in->code) == COMB_SRC_X;
	uint8_t op = COMB_OP(in->code);
	if (!(b->regs[d] & dbit))
		return 0;
	if (op == COMB_ALU_MOV) {
		b->regs[d] &= (uint16_t)~dbit;
		if (x)
			b->regs[d] |= sbit;
	} else if (x && op != COMB_ALU_NEG && op != COMB_ALU_END) {
		b->regs[d] |= sbit;
	}
	return 0;
}

static void backtrack_store(const struct comb_insn *in, const struct vhist *h, struct bt *b, int d)
{
	if (!(h->flags & VH_STORE) || !((b->slots[h->sframe] >> h->slot) & 1))
		return;
	if (COMB_CLASS(in->code) == COMB_CLS_STX && COMB_MODE(in->code) != COMB_MODE_ATOMIC)
		b->regs[d] |= (uint16_t)(1u << in->src);
	/* A narrow store leaves the slot's other bytes to older stores. */
	if (h->flags & VH_STORE_FULL)
		b->slots[h->sframe] &= ~(UINT64_C(1) << h->slot);
}

static void backtrack_load(int regno, const struct vhist *h, struct bt *b, int d)
{
	uint16_t bit = (uint16_t)(1u << regno);
	if (!(b->regs[d] & bit))
		return;
	b->regs[d] &= (uint16_t)~bit;
	if (h->flags & VH_FILL)
		b->slots[h->sframe] |= UINT64_C(1) << h->slot;
}

/* Undo one instruction: the set before it from the set after it. */
static int backtrack_insn(const struct venv *env, const struct vhist *h, struct bt *b, int d,
			  bool entered_callback)
{
	const struct comb_insn *in = &env->insns[h->idx];
	if (h->flags & VH_UNKNOWN)
		return BT_FALLBACK;
	switch (COMB_CLASS(in->code)) {
	case COMB_CLS_ALU:
	case COMB_CLS_ALU64:
		return backtrack_alu(in, b, d);
	case COMB_CLS_LDX:
		backtrack_load(in->dst, h, b, d);
		return 0;
	case COMB_CLS_ST:
		backtrack_store(in, h, b, d);
		return 0;
	case COMB_CLS_STX:
		backtrack_store(in, h, b, d);
		if (COMB_MODE(in->code) == COMB_MODE_ATOMIC) {
			if (in->imm == COMB_ATOMIC_CMPXCHG)
				backtrack_load(0, h, b, d);
			else if (in->imm & COMB_ATOMIC_FETCH)
				backtrack_load(in->src, h, b, d);
		}
		return 0;
	case COMB_CLS_LD:
		if (comb_insn_is_lddw(in))
			b->regs[d] &= (uint16_t)~(1u << in->dst);
		else
			b->regs[d] &= (uint16_t)~0x3fu; /* LD_ABS/IND: r0 loaded, r1-r5 clobbered */
		return 0;
	default:
		break;
	}
	uint8_t op = COMB_OP(in->code);
	if (op == COMB_JMP_JA || op == COMB_JMP_EXIT)
		return 0;
	if (op == COMB_JMP_CALL) {
		/* A helper sets r0 and clobbers r1-r5 (not on the path into its
		 * callback, which starts before that). A local call changes
		 * nothing in the caller until its exit. */
		if (in->src != COMB_CALL_LOCAL && !entered_callback)
			b->regs[d] &= (uint16_t)~0x3fu;
		return 0;
	}
	if (op > COMB_JMP_JSLE)
		return BT_FALLBACK; /* not a comparison this walk knows */
	return backtrack_jump(in, h, b, d);
}

/* The history goes from frame d to frame *cur_d (the later one) across h. */
static int cross_frames(const struct venv *env, const struct vhist *h, struct bt *b, int d, int cur_d,
			bool *entered_callback)
{
	const struct comb_insn *in = &env->insns[h->idx];
	*entered_callback = false;
	if (d == cur_d)
		return 0;
	if (d + 1 == cur_d && d + 1 < COMB_MAX_FRAMES && in->code == (COMB_CLS_JMP | COMB_JMP_CALL)) {
		uint16_t callee = b->regs[d + 1];
		if (in->src == COMB_CALL_LOCAL) {
			b->regs[d] |= callee & 0x3e; /* arguments */
		} else {
			/* a callback's arguments: see push_callback (check_call.c) */
			*entered_callback = true;
			int32_t id = in->imm;
			int from = (id == HELPER_LOOP || id == HELPER_USER_RINGBUF_DRAIN) ? 2
				   : id == HELPER_FOR_EACH_MAP_ELEM ? 4 : 0;
			if (from && (callee & (1u << from)))
				b->regs[d] |= 1u << 3;
		}
		b->regs[d + 1] = 0;
		b->slots[d + 1] = 0;
		return 0;
	}
	if (d == cur_d + 1 && in->code == (COMB_CLS_JMP | COMB_JMP_EXIT)) {
		b->regs[d] = b->regs[d - 1] & 1; /* the caller's r0 is the callee's */
		b->slots[d] = 0;
		b->regs[d - 1] &= (uint16_t)~0x3fu;
		return 0;
	}
	return BT_FALLBACK;
}

/* At a checkpoint: mark what the set holds precise there. */
static int mark_checkpoint(struct bt *b, struct vstate *cst, int cur_d)
{
	if (!cst || cst->nframes - 1 != cur_d)
		return BT_FALLBACK;
	if (cst->all_precise) {
		memset(b, 0, sizeof(*b));
		return 0;
	}
	for (int f = 0; f < COMB_MAX_FRAMES; f++) {
		if (f >= cst->nframes) {
			b->regs[f] = 0;
			b->slots[f] = 0;
			continue;
		}
		struct vframe *fr = cst->frames[f];
		for (int r = 0; r < COMB_REG_COUNT; r++) {
			if (!((b->regs[f] >> r) & 1))
				continue;
			struct vreg *reg = &fr->regs[r];
			if (reg->type != VT_SCALAR || reg->precise)
				b->regs[f] &= (uint16_t)~(1u << r);
			else
				reg->precise = true;
		}
		for (int s = 0; s < VSTACK_SLOTS; s++) {
			if (!((b->slots[f] >> s) & 1))
				continue;
			const uint8_t *t = &fr->stype[s * 8];
			if (t[0] == SLOT_SPILL && fr->spill[s].type == VT_SCALAR) {
				if (fr->spill[s].precise)
					b->slots[f] &= ~(UINT64_C(1) << s);
				else
					fr->spill[s].precise = true;
				continue;
			}
			bool zero = false;
			for (int k = 0; k < 8; k++)
				zero |= t[k] == SLOT_ZERO;
			if (!zero) /* its bytes hold nothing a load could depend on */
				b->slots[f] &= ~(UINT64_C(1) << s);
		}
	}
	return 0;
}

/* Backtracking gave up: every checkpoint of the path compares every scalar. */
static void mark_all_precise(struct venv *env)
{
	for (struct vcheck *c = env->cur_cp; c; c = c->parent) {
		if (!c->st)
			continue;
		if (c->st->all_precise)
			break;
		c->st->all_precise = true;
	}
}

/* Instructions one backtracking may walk before it gives up (all precise). */
#define BT_MAX_STEPS 16384

static int walk_segment(const struct venv *env, const struct vhist *hist, uint32_t n, struct bt *b,
			int *cur_d, uint32_t *steps)
{
	if ((*steps += n) > BT_MAX_STEPS)
		return BT_FALLBACK;
	for (uint32_t i = n; i-- > 0;) {
		const struct vhist *h = &hist[i];
		bool entered_callback;
		if (h->frame >= COMB_MAX_FRAMES || cross_frames(env, h, b, h->frame, *cur_d, &entered_callback))
			return BT_FALLBACK;
		*cur_d = h->frame;
		if (backtrack_insn(env, h, b, h->frame, entered_callback))
			return BT_FALLBACK;
		if (bt_empty(b))
			return 0;
	}
	return 0;
}

/* st's history (without its last entry when skip_last: the instruction
 * being checked, whose inputs b names), then each checkpoint up the chain. */
static void backtrack(struct venv *env, const struct vstate *st, struct bt *b, bool skip_last)
{
	if (st->hist_lost) {
		mark_all_precise(env);
		return;
	}
	int cur_d = st->nframes - 1;
	uint32_t n = st->nhist;
	if (skip_last && n > 0)
		n--;
	const struct vhist *hist = st->hist;
	uint32_t steps = 0;
	for (struct vcheck *c = env->cur_cp;; c = c->parent) {
		if (bt_empty(b))
			return;
		if (walk_segment(env, hist, n, b, &cur_d, &steps) || ++steps > BT_MAX_STEPS) {
			mark_all_precise(env);
			return;
		}
		if (!c || bt_empty(b))
			return; /* the program's entry: nothing before it */
		if (mark_checkpoint(b, c->st, cur_d)) {
			mark_all_precise(env);
			return;
		}
		if (c->hist_lost) {
			mark_all_precise(env);
			return;
		}
		hist = c->hist;
		n = c->nhist;
	}
}

void verifier_mark_precise(struct venv *env, const struct vstate *st, int regno)
{
	if (regno < 0 || regno >= 10 || vstate_cur((struct vstate *)st)->regs[regno].type != VT_SCALAR)
		return;
	struct bt b;
	memset(&b, 0, sizeof(b));
	b.regs[st->nframes - 1] = (uint16_t)(1u << regno);
	backtrack(env, st, &b, true);
}

void verifier_mark_precise_slot(struct venv *env, const struct vstate *st, int frameno, int slot)
{
	if (frameno < 0 || frameno >= st->nframes || slot < 0 || slot >= VSTACK_SLOTS)
		return;
	struct bt b;
	memset(&b, 0, sizeof(b));
	b.slots[frameno] = UINT64_C(1) << slot;
	backtrack(env, st, &b, true);
}

void verifier_propagate_precision(struct venv *env, const struct vstate *st, const struct vstate *old,
				  const uint64_t *stack_read)
{
	struct bt b;
	memset(&b, 0, sizeof(b));
	for (int f = 0; f < old->nframes && f < st->nframes; f++) {
		const struct vframe *of = old->frames[f];
		for (int r = 0; r < 10; r++)
			if (of->regs[r].type == VT_SCALAR && (of->regs[r].precise || old->all_precise))
				b.regs[f] |= (uint16_t)(1u << r);
		uint64_t read = stack_read ? stack_read[f] : ~UINT64_C(0);
		for (int s = 0; s < VSTACK_SLOTS; s++) {
			if (!((read >> s) & 1))
				continue;
			const uint8_t *t = &of->stype[s * 8];
			bool need = t[0] == SLOT_SPILL && of->spill[s].type == VT_SCALAR &&
				    (of->spill[s].precise || old->all_precise);
			for (int k = 0; k < 8; k++)
				need |= t[k] == SLOT_ZERO; /* compared exactly: where cur's came from matters */
			if (need)
				b.slots[f] |= UINT64_C(1) << s;
		}
	}
	backtrack(env, st, &b, false);
}
