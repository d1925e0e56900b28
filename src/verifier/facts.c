/* src/verifier/facts.c - what the verifier proves for the engines.
 *
 * During the walk each instruction gathers observations (env->obs): was it
 * reached at all, which ways a conditional jump went, whether a division's
 * divisor could be zero (or -1 with INT_MIN), whether a map lookup's key
 * could be out of an array's bounds. After a successful verification they
 * become per-instruction COMB_FACT_* bits (vm/internal.h) the JIT uses to
 * leave out code (src/jit).
 *
 * A fact must hold on every execution, also on paths the walk did not
 * follow because pruning stopped them at a checkpoint. Pruning compares
 * only the values some continuation of the checkpoint depended on
 * (precise scalars; pointers and stack slot kinds are always compared), and
 * only against finished checkpoints. So every value an observation relies
 * on is marked precise when it is observed: a pruned path then holds values
 * within the checkpoint's, whose continuations were all walked, and makes
 * the same observations. Decided jumps are already marked so by
 * check_cond_jump (as the kernel does).
 *
 * Facts are given up for a whole program (env->facts_off) where the walk
 * is known not to follow every execution: a 32-bit NULL test of a pointer
 * (the verifier decides it by the whole pointer, the low half of a real
 * address may be zero) and callbacks (a callback is walked once, with the
 * state at its call, but runs again with what earlier runs left behind),
 * and programs proven with their loops widened (widen.c prunes by its own
 * covering, which does not keep the observed values precise).
 *
 * Like the verifier's own proofs, facts take the contents of read-only
 * (BPF_F_RDONLY_PROG) array maps read as constants (check_mem.c, `const
 * volatile` configuration) as fixed: most decided jumps and dead code of
 * real programs come from them. As in the kernel, only frozen maps are read
 * so (comb_map_freeze; the loader freezes .rodata and .kconfig once filled),
 * and a frozen map cannot be changed from user space.
 */
#include <stdlib.h>
#include <linux/bpf.h>
#include "verifier/internal.h"
#include "vm/internal.h"

enum {
	OBS_VISITED = 1,
	OBS_TAKEN = 2,         /* a conditional jump jumped on some visit */
	OBS_FELL = 4,          /* ... fell through on some visit */
	OBS_MAY_ZERO = 8,      /* a division's divisor may be 0 */
	OBS_MAY_OVERFLOW = 16, /* a signed division may be INT_MIN / -1 */
	OBS_KEY_BOUNDED = 32,  /* an array lookup's key was below max_entries ... */
	OBS_KEY_UNBOUNDED = 64,/* ... or not, on some visit */
};

static bool is_cond_jump(const struct comb_insn *in)
{
	uint8_t cls = COMB_CLASS(in->code), op = COMB_OP(in->code);
	return (cls == COMB_CLS_JMP || cls == COMB_CLS_JMP32) && op != COMB_JMP_JA &&
	       op != COMB_JMP_CALL && op != COMB_JMP_EXIT;
}

static bool is_div_by_reg(const struct comb_insn *in)
{
	uint8_t cls = COMB_CLASS(in->code), op = COMB_OP(in->code);
	return (cls == COMB_CLS_ALU || cls == COMB_CLS_ALU64) && COMB_SRC(in->code) == COMB_SRC_X &&
	       (op == COMB_ALU_DIV || op == COMB_ALU_MOD);
}

static bool is_map_lookup(const struct comb_insn *in)
{
	return in->code == (COMB_CLS_JMP | COMB_JMP_CALL) && in->src == 0 && in->imm == 1;
}

/* Division by register at idx: can its divisor be 0, can it be INT_MIN /
 * -1 (signed)? Soundness: the divisor's (and, when it is what excludes the
 * overflow, the dividend's) range on this visit proves it, and the
 * register is marked precise, so a path pruned at an earlier checkpoint
 * carried a value within the range of the path that covered it. */
static void note_division(struct venv *env, const struct vstate *st, size_t idx)
{
	const struct comb_insn *in = &env->insns[idx];
	uint8_t *obs = &env->obs[idx];
	const struct vframe *f = st->frames[st->nframes - 1];
	const struct vreg *divisor = &f->regs[in->src & 15], *dividend = &f->regs[in->dst & 15];
	bool w = COMB_CLASS(in->code) == COMB_CLS_ALU64, is_signed = in->off == 1;
	if (divisor->type != VT_SCALAR || in->src >= 10) {
		*obs |= OBS_MAY_ZERO | OBS_MAY_OVERFLOW;
		return;
	}
	const struct comb_scalar *v = &divisor->var;
	if (!(*obs & OBS_MAY_ZERO)) {
		if (w ? v->umin > 0 : v->u32_min > 0)
			verifier_mark_precise(env, st, in->src);
		else
			*obs |= OBS_MAY_ZERO;
	}
	if (!is_signed || (*obs & OBS_MAY_OVERFLOW))
		return;
	bool minus1 = w ? v->umax == UINT64_MAX && v->smin <= -1 && v->smax >= -1
			: v->u32_max == UINT32_MAX && v->s32_min <= -1 && v->s32_max >= -1;
	if (!minus1) {
		verifier_mark_precise(env, st, in->src);
		return;
	}
	const struct comb_scalar *a = &dividend->var;
	bool int_min = dividend->type != VT_SCALAR || in->dst >= 10 ||
		       (w ? a->smin == INT64_MIN : a->s32_min == INT32_MIN);
	if (int_min) {
		*obs |= OBS_MAY_OVERFLOW;
		return;
	}
	verifier_mark_precise(env, st, in->dst);
}

/* Before the instruction at idx is checked on this path. */
void verifier_facts_note_insn(struct venv *env, const struct vstate *st, size_t idx)
{
	if (!env->obs || env->facts_off)
		return;
	const struct comb_insn *in = &env->insns[idx];
	env->obs[idx] |= OBS_VISITED;
	if (comb_insn_is_lddw(in) && idx + 1 < env->count)
		env->obs[idx + 1] |= OBS_VISITED;
	if (is_div_by_reg(in)) {
		note_division(env, st, idx);
	} else if (is_cond_jump(in) && COMB_CLASS(in->code) == COMB_CLS_JMP32) {
		const struct vframe *f = st->frames[st->nframes - 1];
		bool x = COMB_SRC(in->code) == COMB_SRC_X;
		if (vreg_is_ptr(&f->regs[in->dst & 15]) || (x && vreg_is_ptr(&f->regs[in->src & 15])))
			env->facts_off = true; /* see the top of the file */
	}
}

/* After check_cond_jump at idx: the path continues at next (when it goes
 * on) and pushed the branches pending[from..npending). Which way the jump
 * went on this visit. Soundness: a way the walk ruled out was ruled out by
 * the values, which check_cond_jump marked precise (or by a pointer's
 * NULL-ness, which pruning always compares). */
void verifier_facts_note_branch(struct venv *env, size_t idx, bool goes_on, size_t next, size_t from)
{
	if (!env->obs || env->facts_off)
		return;
	size_t target = (size_t)((int64_t)idx + 1 + env->insns[idx].off);
	uint8_t *obs = &env->obs[idx];
	if (goes_on)
		*obs |= next == target ? OBS_TAKEN : OBS_FELL;
	for (size_t k = from; k < env->npending; k++)
		*obs |= env->pending[k].idx == target ? OBS_TAKEN : OBS_FELL;
	if (target == idx + 1)
		*obs |= OBS_TAKEN | OBS_FELL; /* both ways are the next instruction */
}

/* An upper bound of the u32 key an ARRAY lookup reads at key (a stack
 * pointer at a constant offset): its bytes all zero, or a spilled scalar
 * whose low 4 bytes are the key. *slot: the stack slot holding it. */
static bool stack_key_bound(const struct vstate *st, const struct vreg *key, uint64_t *bound, int *slot)
{
	if (key->type != VT_STACK || !comb_scalar_is_const(&key->var))
		return false;
	int64_t lo = key->off + (int64_t)key->var.umin;
	if (lo < -COMB_STACK_SIZE || lo + 4 > 0)
		return false;
	const struct vframe *f = st->frames[key->frameno];
	int i = vstack_index((int32_t)lo);
	*slot = i / 8;
	if (i % 8 == 0 && f->stype[i] == SLOT_SPILL) {
		int spilled = 0;
		while (spilled < 8 && f->stype[i + spilled] == SLOT_SPILL)
			spilled++;
		const struct vreg *r = &f->spill[i / 8];
		if (spilled < 4 || r->type != VT_SCALAR || r->var.umax > UINT32_MAX)
			return false;
		*bound = r->var.umax;
		return true;
	}
	if (i % 8 > 4)
		return false; /* crosses into the next slot */
	for (int b = 0; b < 4; b++)
		if (f->stype[i + b] != SLOT_ZERO)
			return false;
	*bound = 0;
	return true;
}

/* bpf_map_lookup_elem at idx, its arguments checked: is the key of an
 * ARRAY map below max_entries? Soundness: the map is compared exactly by
 * pruning (a pointer); the key's slot is marked precise (its kind, zero
 * bytes or a spill, is always compared). Maps out of a map-in-map are left
 * out: the inner map at run time may not be the template. */
void verifier_facts_note_lookup(struct venv *env, const struct vstate *st, size_t idx, int map,
				const struct comb_map_info *info, const struct vreg *key)
{
	if (!env->obs || env->facts_off || !is_map_lookup(&env->insns[idx]))
		return;
	uint8_t *obs = &env->obs[idx];
	if (*obs & OBS_KEY_UNBOUNDED)
		return;
	uint64_t bound = 0;
	int slot = 0;
	if (map < 0 || ((uint32_t)map & VMAP_INNER) ||
	    (info->type != BPF_MAP_TYPE_ARRAY && info->type != BPF_MAP_TYPE_PERCPU_ARRAY) || info->key_size != 4 ||
	    !stack_key_bound(st, key, &bound, &slot) || bound >= info->max_entries) {
		*obs |= OBS_KEY_UNBOUNDED;
		return;
	}
	*obs |= OBS_KEY_BOUNDED;
	verifier_mark_precise_slot(env, st, key->frameno, slot);
}

static uint8_t fact_of(const struct venv *env, size_t i)
{
	const struct comb_insn *in = &env->insns[i];
	uint8_t obs = env->obs[i], fact = 0;
	if (env->zext && env->zext[i] == ZEXT_REDUNDANT)
		fact |= COMB_FACT_ZEXT_REDUNDANT;
	if (!(obs & OBS_VISITED))
		return COMB_FACT_DEAD;
	if (is_cond_jump(in) && (obs & (OBS_TAKEN | OBS_FELL)) == OBS_TAKEN)
		fact |= COMB_FACT_JUMP_ALWAYS;
	if (is_cond_jump(in) && (obs & (OBS_TAKEN | OBS_FELL)) == OBS_FELL)
		fact |= COMB_FACT_JUMP_NEVER;
	if (is_div_by_reg(in) && !(obs & OBS_MAY_ZERO))
		fact |= COMB_FACT_DIV_NONZERO;
	if (is_div_by_reg(in) && in->off == 1 && !(obs & OBS_MAY_OVERFLOW))
		fact |= COMB_FACT_DIV_NO_OVERFLOW;
	if (is_map_lookup(in) && (obs & (OBS_KEY_BOUNDED | OBS_KEY_UNBOUNDED)) == OBS_KEY_BOUNDED)
		fact |= COMB_FACT_KEY_IN_BOUNDS;
	return fact;
}

/* The per-instruction COMB_FACT_* bits of a finished verification, NULL if none. */
uint8_t *verifier_collect_facts(const struct venv *env)
{
	if (!env->obs || env->facts_off)
		return NULL;
	uint8_t *facts = calloc(env->count, 1);
	bool any = false;
	for (size_t i = 0; facts && i < env->count; i++)
		any |= (facts[i] = fact_of(env, i)) != 0;
	if (!any) {
		free(facts);
		return NULL;
	}
	return facts;
}
