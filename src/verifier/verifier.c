/* src/verifier/verifier.c - the verifier's driver: structure checks, then
 * path-sensitive exploration.
 *
 * Before exploring, the program's shape is checked as the kernel's check_cfg
 * does: functions are split at call targets, no jump leaves its function,
 * every function ends in exit or a jump, and every instruction is reachable.
 * A static liveness pass records which registers each instruction may read
 * before writing them (pruning ignores the others; a helper call reads only
 * its prototype's arguments, an exit only r0). Stack slots are live when a
 * continuation of the checkpoint read them before overwriting them, learnt
 * during the walk (see mark_slots_read, as the kernel's REG_LIVE_READ).
 *
 * Exploration is a depth-first walk: a conditional jump whose outcome depends
 * on the values forks the state, one side continues and the other is pushed
 * on a stack of pending branches. At pruning points (jump targets and the
 * instructions after jumps and calls) the state is compared with the
 * checkpoints already stored there: if one that was fully explored covers it
 * the path stops (comparing only the scalars its continuations needed
 * precisely, precision.c; the path inherits those marks); if one still
 * being explored (an ancestor: a loop) equals it exactly, the loop cannot
 * end. Every instruction run is appended to the path's history, which a new
 * checkpoint takes over (the segment from its parent), for backtracking. Checkpoints count their unfinished descendants
 * (branches) as the kernel's states do; as the kernel, a finished checkpoint
 * that fails to prune more than 3 times as often as it succeeds leaves its
 * list (fewer comparisons; pruning less never accepts more). Loops are
 * bounded by the budget of explored instructions (1,000,000, as the kernel).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "comb/asm.h"
#include "verifier/helper_protos.h"
#include "jit/jit.h"
#include "verifier/internal.h"
#include "vm/internal.h"

#define DEFAULT_MAX_INSNS 1000000u


/* --- stack liveness ----------------------------------------------------- */

/* Slots of frame f in mask were read on the current path: the checkpoints
 * since they were last fully written need them (as the kernel's
 * mark_reg_read walking the parentage chain). */
static void mark_slots_read(struct venv *env, const struct vstate *st, int f, uint64_t mask)
{
	mask &= ~st->frames[f]->stack_written;
	for (struct vcheck *c = env->cur_cp; c && mask; c = c->parent) {
		if (f >= c->nframes)
			break;
		mask &= ~c->read[f]; /* already marked: its ancestors are too */
		c->read[f] |= mask;
		mask &= ~c->written[f];
	}
}

/* Slot mask of the fp-relative byte range [lo, hi) (clipped to the frame):
 * touching (any byte) or covering (every byte). */
static uint64_t slots_touched(int64_t lo, int64_t hi)
{
	uint64_t m = 0;
	if (lo < -COMB_STACK_SIZE)
		lo = -COMB_STACK_SIZE;
	if (hi > 0)
		hi = 0;
	for (int64_t s = (lo + COMB_STACK_SIZE) / 8; s * 8 - COMB_STACK_SIZE < hi && s < VSTACK_SLOTS; s++)
		m |= UINT64_C(1) << s;
	return m;
}

void verifier_stack_note_read(struct venv *env, const struct vstate *st, int frameno, int64_t lo, int64_t hi)
{
	if (frameno >= 0 && frameno < st->nframes && lo < hi)
		mark_slots_read(env, st, frameno, slots_touched(lo, hi));
}

void verifier_stack_note_write(struct venv *env, struct vstate *st, int frameno, int64_t lo, int64_t hi)
{
	if (frameno < 0 || frameno >= st->nframes || lo < -COMB_STACK_SIZE || hi > 0)
		return;
	uint64_t m = 0;
	for (int64_t b = (lo + COMB_STACK_SIZE + 7) / 8 * 8 - COMB_STACK_SIZE; b + 8 <= hi; b += 8)
		m |= UINT64_C(1) << ((b + COMB_STACK_SIZE) / 8);
	st->frames[frameno]->stack_written |= m;
}

/* A path pruned at old: what old's continuations read, this path's would. */
static void propagate_reads(struct venv *env, const struct vstate *st, const struct vcheck *old)
{
	for (int f = 0; f < old->nframes && f < st->nframes; f++)
		if (old->read[f])
			mark_slots_read(env, st, f, old->read[f]);
}

uint32_t verifier_new_id(struct venv *env)
{
	return ++env->next_id;
}

const struct comb_map *verifier_map(const struct venv *env, uint32_t index)
{
	return index < env->map_count ? env->maps[index] : NULL;
}

int verifier_subprog_of(const struct venv *env, size_t idx)
{
	int s = 0;
	for (size_t i = 0; i < env->nsub; i++)
		if (env->sub_start[i] <= idx)
			s = (int)i;
	return s;
}

static int subprog_index(const struct venv *env, size_t start)
{
	for (size_t i = 0; i < env->nsub; i++)
		if (env->sub_start[i] == start)
			return (int)i;
	return -1;
}

/* --- program shape ------------------------------------------------------ */

static bool is_cond_jump(const struct comb_insn *in)
{
	uint8_t cls = COMB_CLASS(in->code), op = COMB_OP(in->code);
	return (cls == COMB_CLS_JMP || cls == COMB_CLS_JMP32) && op != COMB_JMP_JA &&
	       op != COMB_JMP_CALL && op != COMB_JMP_EXIT;
}

static bool is_ja(const struct comb_insn *in)
{
	uint8_t cls = COMB_CLASS(in->code);
	return (cls == COMB_CLS_JMP || cls == COMB_CLS_JMP32) && COMB_OP(in->code) == COMB_JMP_JA;
}

static bool is_exit(const struct comb_insn *in)
{
	return in->code == (COMB_CLS_JMP | COMB_JMP_EXIT);
}

static bool is_local_call(const struct comb_insn *in)
{
	return in->code == (COMB_CLS_JMP | COMB_JMP_CALL) && in->src == COMB_CALL_LOCAL;
}

static bool is_func_ref(const struct comb_insn *in)
{
	return comb_insn_is_lddw(in) && in->src == COMB_PSEUDO_FUNC;
}

static size_t jump_target(const struct comb_insn *insns, size_t i)
{
	const struct comb_insn *in = &insns[i];
	int64_t delta = (COMB_CLASS(in->code) == COMB_CLS_JMP32 && is_ja(in)) ? in->imm : in->off;
	return (size_t)((int64_t)i + 1 + delta);
}

static int add_subprog(struct venv *env, int64_t start)
{
	if (start < 0 || (size_t)start >= env->count)
		return verifier_reject(env, NULL, 0, "function start %lld is outside the program",
				       (long long)start);
	for (size_t i = 0; i < env->nsub; i++)
		if (env->sub_start[i] == (size_t)start)
			return 0;
	size_t *grown = realloc(env->sub_start, (env->nsub + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	env->sub_start = grown;
	size_t pos = env->nsub++;
	while (pos > 0 && env->sub_start[pos - 1] > (size_t)start) {
		env->sub_start[pos] = env->sub_start[pos - 1];
		pos--;
	}
	env->sub_start[pos] = (size_t)start;
	return 0;
}

static int find_subprogs(struct venv *env)
{
	int rc = add_subprog(env, 0);
	for (size_t i = 0; i < env->count && rc == 0; i++) {
		const struct comb_insn *in = &env->insns[i];
		if (is_local_call(in) || is_func_ref(in))
			rc = add_subprog(env, (int64_t)i + 1 + in->imm);
		if (comb_insn_is_lddw(in))
			i++;
	}
	if (rc)
		return rc;
	env->sub_depth = calloc(env->nsub, sizeof(*env->sub_depth));
	return env->sub_depth ? 0 : -ENOMEM;
}

/* Jumps stay inside their function; every function ends in exit or ja. */
static int check_subprog_bounds(struct venv *env)
{
	for (size_t s = 0; s < env->nsub; s++) {
		size_t start = env->sub_start[s];
		size_t end = s + 1 < env->nsub ? env->sub_start[s + 1] : env->count;
		for (size_t i = start; i < end; i++) {
			const struct comb_insn *in = &env->insns[i];
			if ((is_cond_jump(in) || is_ja(in))) {
				size_t t = jump_target(env->insns, i);
				if (t < start || t >= end)
					return verifier_reject(env, NULL, i,
							       "jump to insn %zu leaves the function starting at insn %zu: "
							       "functions are entered by call only", t, start);
			}
			if (comb_insn_is_lddw(in))
				i++;
		}
		size_t last = end - 1;
		if (last > start && comb_insn_is_lddw(&env->insns[last - 1]))
			last = end; /* ends in the second slot of an LDDW */
		if (last >= end || (!is_exit(&env->insns[last]) && !is_ja(&env->insns[last])))
			return verifier_reject(env, NULL, end - 1,
					       "the function starting at insn %zu can run past its last "
					       "instruction: end it with exit or a jump", start);
	}
	return 0;
}

int verifier_insn_succs(const struct venv *env, size_t i, size_t next[2])
{
	const struct comb_insn *in = &env->insns[i];
	size_t cand[2];
	int n = 0, k = 0;
	if ((i > 0 && comb_insn_is_lddw(&env->insns[i - 1])) || is_exit(in))
		return 0; /* the second half of an LDDW does not run */
	if (is_ja(in)) {
		cand[n++] = jump_target(env->insns, i);
	} else {
		cand[n++] = i + (comb_insn_is_lddw(in) ? 2 : 1);
		if (is_cond_jump(in) && jump_target(env->insns, i) != cand[0])
			cand[n++] = jump_target(env->insns, i);
	}
	for (int j = 0; j < n; j++)
		if (cand[j] < env->count)
			next[k++] = cand[j];
	return k;
}

/* Static reachability (branches both ways): the kernel refuses dead code. */
static int check_reachable(struct venv *env)
{
	uint8_t *seen = calloc(env->count, 1);
	size_t *todo = malloc(env->count * 2 * sizeof(*todo) + sizeof(*todo));
	if (!seen || !todo) {
		free(seen);
		free(todo);
		return -ENOMEM;
	}
	size_t n = 0;
	for (size_t s = 0; s < env->nsub; s++)
		if (s == 0) {
			todo[n++] = 0;
			seen[0] = 1;
		}
	while (n > 0) {
		size_t i = todo[--n];
		const struct comb_insn *in = &env->insns[i];
		size_t next[2];
		int nn = 0;
		if (is_exit(in)) {
			nn = 0;
		} else if (is_ja(in)) {
			next[nn++] = jump_target(env->insns, i);
		} else if (is_cond_jump(in)) {
			next[nn++] = i + 1;
			next[nn++] = jump_target(env->insns, i);
		} else {
			next[nn++] = i + (comb_insn_is_lddw(in) ? 2 : 1);
			if (is_local_call(in) || is_func_ref(in))
				next[nn++] = (size_t)((int64_t)i + 1 + in->imm);
			if (comb_insn_is_lddw(in) && i + 1 < env->count)
				seen[i + 1] = 1;
		}
		for (int k = 0; k < nn; k++)
			if (next[k] < env->count && !seen[next[k]]) {
				seen[next[k]] = 1;
				todo[n++] = next[k];
			}
	}
	int rc = 0;
	for (size_t i = 0; i < env->count && rc == 0; i++)
		if (!seen[i])
			rc = verifier_reject(env, NULL, i,
					     "unreachable instruction: no path from the entry leads here "
					     "(the kernel refuses dead code; remove it)");
	free(seen);
	free(todo);
	return rc;
}

/* --- liveness ----------------------------------------------------------- */

static bool helper_takes_callback(const struct comb_helper_proto *p)
{
	for (int i = 0; i < p->nargs && i < COMB_HELPER_MAX_ARGS; i++)
		if (p->args[i].kind == COMB_ARG_PTR_TO_FUNC)
			return true;
	return false;
}

static void insn_use_def(const struct venv *env, size_t i, uint16_t *use, uint16_t *def)
{
	const struct comb_insn *in = &env->insns[i];
	uint8_t cls = COMB_CLASS(in->code);
	uint16_t d = (uint16_t)(1u << in->dst), s = (uint16_t)(1u << in->src);
	*use = 0;
	*def = 0;
	switch (cls) {
	case COMB_CLS_ALU:
	case COMB_CLS_ALU64:
		if (COMB_OP(in->code) != COMB_ALU_MOV)
			*use |= d;
		if (COMB_SRC(in->code) == COMB_SRC_X)
			*use |= s;
		*def = d;
		break;
	case COMB_CLS_LDX:
		*use = s;
		*def = d;
		break;
	case COMB_CLS_ST:
		*use = d;
		break;
	case COMB_CLS_STX:
		*use = d | s;
		if (COMB_MODE(in->code) == COMB_MODE_ATOMIC) {
			if (in->imm == COMB_ATOMIC_CMPXCHG) {
				*use |= 1;
				*def = 1;
			} else if (in->imm & COMB_ATOMIC_FETCH) {
				*def = s;
			}
		}
		break;
	case COMB_CLS_LD:
		if (comb_insn_is_lddw(in)) {
			*def = d;
		} else { /* LD_ABS / LD_IND */
			*use = (uint16_t)(1u << 6) | (COMB_MODE(in->code) == COMB_MODE_IND ? s : 0);
			*def = 0x3f;
		}
		break;
	default: /* JMP, JMP32 */
		if (is_exit(in)) {
			*use = 1; /* r0 (a caller's r6-r9 live in its own frame) */
		} else if (in->code == (COMB_CLS_JMP | COMB_JMP_CALL)) {
			/* a helper reads its arguments only (one taking a
			 * callback may pass more of r1-r5 on); others r1-r5 */
			const struct comb_helper_proto *p = in->src == COMB_CALL_HELPER && in->imm >= 0
								    ? comb_helper_proto((uint32_t)in->imm) : NULL;
			*use = 0x3e;
			if (p && !helper_takes_callback(p))
				*use = (uint16_t)(((1u << (p->nargs + 1)) - 1) & 0x3e);
			*def = 0x3f;
		} else if (is_cond_jump(in)) {
			*use = d | (COMB_SRC(in->code) == COMB_SRC_X ? s : 0);
		}
	}
}

static int compute_liveness(struct venv *env)
{
	env->live_in = calloc(env->count, sizeof(*env->live_in));
	if (!env->live_in)
		return -ENOMEM;
	bool changed = true;
	for (int round = 0; changed && round < 1000; round++) {
		changed = false;
		for (size_t k = env->count; k-- > 0;) {
			const struct comb_insn *in = &env->insns[k];
			if (k > 0 && comb_insn_is_lddw(&env->insns[k - 1]))
				continue;
			uint16_t out = 0, use, def;
			if (is_ja(in)) {
				out = env->live_in[jump_target(env->insns, k)];
			} else if (!is_exit(in)) {
				size_t next = k + (comb_insn_is_lddw(in) ? 2 : 1);
				if (next < env->count)
					out = env->live_in[next];
				if (is_cond_jump(in))
					out |= env->live_in[jump_target(env->insns, k)];
			}
			insn_use_def(env, k, &use, &def);
			uint16_t live = (uint16_t)(use | (out & ~def) | (1u << 10));
			if (live != env->live_in[k]) {
				env->live_in[k] = live;
				changed = true;
			}
		}
	}
	/* A round limit reached means "everything live" is the safe answer. */
	if (changed)
		for (size_t k = 0; k < env->count; k++)
			env->live_in[k] = 0x7ff;
	return 0;
}

static int mark_prune_points(struct venv *env)
{
	env->prune_point = calloc(env->count, sizeof(bool));
	env->loop_head = calloc(env->count, sizeof(bool));
	env->visited = calloc(env->count, sizeof(*env->visited));
	if (!env->prune_point || !env->visited || !env->loop_head)
		return -ENOMEM;
	for (size_t i = 0; i < env->count; i++) {
		const struct comb_insn *in = &env->insns[i];
		if (is_cond_jump(in) || is_ja(in)) {
			env->prune_point[jump_target(env->insns, i)] = true;
			if (jump_target(env->insns, i) <= i)
				env->loop_head[jump_target(env->insns, i)] = true;
			if (i + 1 < env->count)
				env->prune_point[i + 1] = true;
		} else if (in->code == (COMB_CLS_JMP | COMB_JMP_CALL) && i + 1 < env->count) {
			env->prune_point[i + 1] = true;
		}
		if (comb_insn_is_lddw(in))
			i++;
	}
	return 0;
}

/* --- checkpoints and pending branches ----------------------------------- */

/* A path ended: checkpoints with no path left are finished (their
 * precision marks are final; their history is not walked again). */
static void path_done(struct vcheck *cp)
{
	while (cp && --cp->branches == 0) {
		free(cp->hist);
		cp->hist = NULL;
		cp->nhist = 0;
		cp = cp->parent;
	}
}

int verifier_push_branch(struct venv *env, const struct vstate *st, size_t idx)
{
	/* The current checkpoint is recorded by the caller through env (see explore). */
	if (env->npending == env->cap_pending) {
		size_t cap = env->cap_pending ? env->cap_pending * 2 : 64;
		struct vpending *grown = realloc(env->pending, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		env->pending = grown;
		env->cap_pending = cap;
	}
	struct vstate *copy = vstate_clone(st);
	if (!copy)
		return -ENOMEM;
	env->pending[env->npending++] = (struct vpending){ .st = copy, .idx = idx, .cp = NULL };
	if (env->npending > 8192) {
		/* a budget, as the instruction count: the widened walk may fit it */
		verifier_reject(env, st, idx, "too many pending branches (more than 8192): "
				"the program has too many paths to explore");
		env->paths_overflow = true;
		return -E2BIG;
	}
	return 0;
}

/* Keep the comparison lists short: finished checkpoints past the newest
 * MAX_CHECKPOINTS_PER_INSN leave the list (they stay allocated until the
 * end; dropping them only prunes less, it never accepts more). */
#define MAX_CHECKPOINTS_PER_INSN 16
#define MAX_CHECKPOINTS 40000

static void trim_checkpoints(struct venv *env, size_t idx)
{
	int kept = 0, walked = 0;
	for (struct vcheck **link = &env->visited[idx]; *link && walked++ < 128;) {
		struct vcheck *c = *link;
		if (c->branches == 0 && ++kept > MAX_CHECKPOINTS_PER_INSN) {
			/* Finished: no path will walk through it again. */
			*link = c->next_here;
			vstate_free(c->st);
			c->st = NULL;
			env->ncheckpoints--;
		} else {
			link = &c->next_here;
		}
	}
}

/* 1: prune the path, 0: go on (a checkpoint may have been added). */
static int visit_prune_point(struct venv *env, struct vstate *st, size_t idx, struct vcheck **cp)
{
	int loop_checks = 0, seen = 0;
	for (struct vcheck **link = &env->visited[idx], *c; (c = *link) && seen < 64; seen++) {
		if (c->branches == 0 && env->widen) {
			if (verifier_widen_covers(env, c->st, st, idx))
				return 1;
		} else if (c->branches == 0) {
			if (vstate_covers_precise(c->st, st, env->live_in, env->count, idx, env->strict,
						  c->read)) {
				c->hits++;
				propagate_reads(env, st, c);
				verifier_propagate_precision(env, st, c->st, c->read);
				return 1;
			}
			/* As the kernel: a finished checkpoint that keeps failing
			 * to prune leaves the list (pruning less never accepts more). */
			if (++c->misses > c->hits * 3 + 3) {
				*link = c->next_here;
				vstate_free(c->st);
				c->st = NULL;
				env->ncheckpoints--;
				continue;
			}
		} else if (!env->widen && loop_checks++ < 4 &&
			   vstate_covers_mode(c->st, st, env->live_in, env->count, idx, env->strict, NULL) &&
			   vstate_covers_mode(st, c->st, env->live_in, env->count, idx, env->strict, NULL)) {
			return verifier_reject(env, st, idx,
					       "infinite loop: this instruction is reached again in the same "
					       "state, so nothing the loop does can end it; make the loop "
					       "condition depend on a counter");
		}
		link = &c->next_here;
	}
	/* As the kernel: a new checkpoint only every few instructions, and a
	 * bounded number in all (memory), which only makes pruning rarer. */
	if (env->ncheckpoints >= MAX_CHECKPOINTS)
		return 0;
	env->last_checkpoint = env->res->insns_processed;
	env->ncheckpoints++;
	trim_checkpoints(env, idx);
	struct vcheck *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	/* The history so far leads from the parent to c; the path starts a new one. */
	c->hist = st->hist;
	c->nhist = st->nhist;
	c->hist_lost = st->hist_lost;
	st->hist = NULL;
	st->nhist = st->cap_hist = 0;
	st->hist_lost = false;
	c->st = vstate_clone(st);
	if (!c->st) {
		free(c->hist);
		free(c);
		return -ENOMEM;
	}
	c->st->all_precise = false;
	c->parent = *cp;
	c->branches = 1;
	c->nframes = st->nframes;
	for (int f = 0; f < st->nframes; f++) {
		c->written[f] = st->frames[f]->stack_written;
		st->frames[f]->stack_written = 0;
	}
	c->next_here = env->visited[idx];
	env->visited[idx] = c;
	c->next_all = env->checkpoints;
	env->checkpoints = c;
	*cp = c;
	return 0;
}

/* --- registers: ALU ----------------------------------------------------- */

static struct vreg *reg(struct vstate *st, int r)
{
	return &vstate_cur(st)->regs[r];
}

static void clear_id(struct vreg *r)
{
	r->id = 0;
}

static int check_ptr_alu(struct venv *env, struct vstate *st, size_t idx, struct vreg *dst,
			 const struct vreg *ptr, const struct vreg *scalar, bool sub)
{
	const struct comb_insn *in = &env->insns[idx];
	uint8_t op = COMB_OP(in->code);
	if (COMB_CLASS(in->code) == COMB_CLS_ALU && op == COMB_ALU_SUB && !env->strict) {
		*dst = vreg_unknown(); /* a meaningless number, as the kernel makes it */
		return 0;
	}
	if (COMB_CLASS(in->code) == COMB_CLS_ALU)
		return verifier_reject(env, st, idx, "32-bit arithmetic on a pointer (%s) is not allowed: "
				       "use 64-bit operations on pointers", verifier_type_name(ptr->type));
	if (op != COMB_ALU_ADD && op != COMB_ALU_SUB)
		return verifier_reject(env, st, idx, "only addition and subtraction of numbers are allowed "
				       "on a pointer (%s)", verifier_type_name(ptr->type));
	if (ptr->maybe_null)
		return verifier_reject(env, st, idx, "arithmetic on a pointer that may be NULL: "
				       "test the result of %s against NULL first", verifier_null_source(ptr));
	if (ptr->type == VT_MAP_PTR || ptr->type == VT_PKT_END || ptr->type == VT_FUNC ||
	    ptr->type == VT_SOCKET || ptr->type == VT_CONST_DYNPTR)
		return verifier_reject(env, st, idx, "arithmetic on a %s pointer is not allowed",
				       verifier_type_name(ptr->type));
	struct vreg out = *ptr;
	if (comb_scalar_is_const(&scalar->var)) {
		int64_t k = (int64_t)scalar->var.umin;
		int64_t off = sub ? (int64_t)out.off - k : (int64_t)out.off + k;
		if (off < -(1 << 29) || off > (1 << 29))
			return verifier_reject(env, st, idx, "pointer offset %lld is out of any object's bounds",
					       (long long)off);
		out.off = (int32_t)off;
	} else {
		struct comb_insn op64 = { .code = (uint8_t)(COMB_CLS_ALU64 | COMB_SRC_X | (sub ? COMB_ALU_SUB : COMB_ALU_ADD)) };
		if (comb_scalar_alu(&out.var, &scalar->var, &op64) < 0)
			return verifier_reject(env, st, idx, "bad pointer arithmetic");
		if (vreg_is_pkt(&out)) {
			if (scalar->var.umax > 0xffff || scalar->var.smin < 0)
				return verifier_reject(env, st, idx,
						       "adding a number that may be negative or above 65535 to a packet "
						       "pointer: bound it first (e.g. `if (len > 1500) return`)");
			out.id = verifier_new_id(env);
			out.range = 0;
		}
	}
	*dst = out;
	return 0;
}

static int check_alu(struct venv *env, struct vstate *st, size_t idx)
{
	const struct comb_insn *in = &env->insns[idx];
	uint8_t op = COMB_OP(in->code);
	bool x = COMB_SRC(in->code) == COMB_SRC_X, alu64 = COMB_CLASS(in->code) == COMB_CLS_ALU64;
	int rc;
	if (x && op != COMB_ALU_NEG && op != COMB_ALU_END && (rc = verifier_check_reg_init(env, st, idx, in->src)))
		return rc;
	if (in->dst == 10)
		return verifier_reject(env, st, idx, "r10 (the frame pointer) is read-only");
	struct vreg *dst = reg(st, in->dst);
	bool has_src = x && op != COMB_ALU_NEG && op != COMB_ALU_END;
	struct vreg src = has_src ? *reg(st, in->src)
				  : vreg_const(alu64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm);
	if (op == COMB_ALU_MOV) {
		if (has_src && vreg_is_ptr(&src)) {
			if (alu64 && in->off == 0) {
				*dst = src;
				return 0;
			}
			if (env->strict)
				return verifier_reject(env, st, idx, "partial copy of a pointer would leak an address");
			*dst = vreg_unknown();
			return 0;
		}
		if (has_src && alu64 && in->off == 0 && src.type == VT_SCALAR && !comb_scalar_is_const(&src.var)) {
			/* Copies share an id: a later test of one bounds both. */
			struct vreg *s = reg(st, in->src);
			if (!s->id)
				s->id = verifier_new_id(env);
			*dst = *s;
			return 0;
		}
	} else if ((rc = verifier_check_reg_init(env, st, idx, in->dst))) {
		return rc;
	}
	if (op != COMB_ALU_MOV && vreg_is_ptr(dst) && src.type == VT_SCALAR) {
		if (has_src) /* the pointer's offset is compared exactly: so is the number */
			verifier_mark_precise(env, st, in->src);
		return check_ptr_alu(env, st, idx, dst, dst, &src, op == COMB_ALU_SUB);
	}
	if (op != COMB_ALU_MOV && dst->type == VT_SCALAR && vreg_is_ptr(&src)) {
		if (op == COMB_ALU_SUB && !alu64 && !env->strict) {
			*dst = vreg_unknown(); /* a meaningless number, as the kernel makes it */
			return 0;
		}
		if (op == COMB_ALU_ADD && alu64) {
			verifier_mark_precise(env, st, in->dst);
			struct vreg scalar = *dst;
			return check_ptr_alu(env, st, idx, dst, &src, &scalar, false);
		}
		return verifier_reject(env, st, idx, "%s with a pointer operand (%s) is not allowed",
				       op == COMB_ALU_SUB ? "subtracting a pointer from a number"
							  : "this operation",
				       verifier_type_name(src.type));
	}
	if (op != COMB_ALU_MOV && vreg_is_ptr(dst) && vreg_is_ptr(&src)) {
		if (op == COMB_ALU_SUB && (!env->strict || (alu64 && vreg_is_pkt(dst) && vreg_is_pkt(&src)))) {
			*dst = vreg_unknown();
			return 0;
		}
		return verifier_reject(env, st, idx, "arithmetic between two pointers (%s, %s) is not allowed",
				       verifier_type_name(dst->type), verifier_type_name(src.type));
	}
	if (op != COMB_ALU_MOV && vreg_is_ptr(dst))
		return verifier_reject(env, st, idx, "this operation on a pointer (%s) is not allowed: "
				       "only adding or subtracting numbers is", verifier_type_name(dst->type));
	struct comb_scalar value = op == COMB_ALU_MOV ? comb_scalar_unknown() : dst->var;
	if (comb_scalar_alu(&value, &src.var, in) < 0)
		return verifier_reject(env, st, idx, "invalid arithmetic instruction");
	if (env->widen) {
		struct vreg before = *dst;
		*dst = vreg_scalar(value);
		verifier_widen_alu(env, in, &before, &src, dst);
		return 0;
	}
	*dst = vreg_scalar(value);
	clear_id(dst);
	return 0;
}

/* --- LDDW and legacy packet loads --------------------------------------- */

static int check_lddw(struct venv *env, struct vstate *st, size_t idx)
{
	const struct comb_insn *in = &env->insns[idx];
	struct vreg *dst = reg(st, in->dst);
	uint32_t lo = (uint32_t)in->imm, hi = (uint32_t)env->insns[idx + 1].imm;
	struct comb_map_info info;
	switch (in->src) {
	case COMB_PSEUDO_NONE:
		*dst = vreg_const(lo | ((uint64_t)hi << 32));
		return 0;
	case COMB_PSEUDO_FUNC:
		*dst = vreg_const((uint64_t)((int64_t)idx + 1 + in->imm));
		dst->type = VT_FUNC;
		return 0;
	case COMB_PSEUDO_MAP_FD:
	case COMB_PSEUDO_MAP_IDX:
	case COMB_PSEUDO_MAP_VALUE:
	case COMB_PSEUDO_MAP_IDX_VALUE:
		if (lo >= env->map_count || !env->maps[lo])
			return verifier_reject(env, st, idx, "refers to map %u, but %zu map%s given: "
					       "pass the program's maps in the options", lo, env->map_count,
					       env->map_count == 1 ? " was" : "s were");
		comb_map_get_info(env->maps[lo], &info);
		int rc = verifier_lock_check_map_use(env, st, idx, lo);
		if (rc)
			return rc;
		*dst = vreg_const(0);
		dst->map = lo;
		if (in->src == COMB_PSEUDO_MAP_FD || in->src == COMB_PSEUDO_MAP_IDX) {
			dst->type = VT_MAP_PTR;
			return 0;
		}
		if (hi >= info.value_size)
			return verifier_reject(env, st, idx, "offset %u is past the %u-byte value of map %s",
					       hi, info.value_size, info.name);
		dst->type = VT_MAP_VALUE;
		dst->off = (int32_t)hi;
		dst->size = info.value_size;
		return 0;
	default:
		return verifier_reject(env, st, idx, "kernel variables (ksym, pseudo source %u) are not "
				       "supported yet", in->src);
	}
}

static bool prog_has_skb(uint32_t t)
{
	return t == BPF_PROG_TYPE_SOCKET_FILTER || t == BPF_PROG_TYPE_SCHED_CLS ||
	       t == BPF_PROG_TYPE_SCHED_ACT;
}

static int check_ld_abs(struct venv *env, struct vstate *st, size_t idx)
{
	const struct comb_insn *in = &env->insns[idx];
	int rc;
	if (!prog_has_skb(env->prog_type))
		return verifier_reject(env, st, idx, "legacy packet loads (LD_ABS/LD_IND) are only "
				       "allowed in socket_filter and sched_cls/act programs");
	if ((rc = verifier_lock_check_exit(env, st, idx, "a legacy packet load (LD_ABS/LD_IND)")))
		return rc;
	if (reg(st, 6)->type != VT_CTX || reg(st, 6)->off != 0)
		return verifier_reject(env, st, idx, "legacy packet loads need the context in r6 "
				       "(`r6 = r1` at the start)");
	if (COMB_MODE(in->code) == COMB_MODE_IND) {
		if ((rc = verifier_check_reg_init(env, st, idx, in->src)))
			return rc;
		if (reg(st, in->src)->type != VT_SCALAR)
			return verifier_reject(env, st, idx, "the offset of LD_IND must be a number");
	}
	for (int r = 1; r <= 5; r++)
		reg(st, r)->type = VT_NOT_INIT;
	int bytes = comb_insn_size_bytes(in->code);
	*reg(st, 0) = vreg_scalar(comb_scalar_urange(0, bytes == 8 ? UINT64_MAX
							 : (UINT64_C(1) << (8 * bytes)) - 1));
	return 0;
}

/* --- conditional jumps -------------------------------------------------- */

struct id_fix {
	uint32_t id;
	const struct vreg *model;
	bool is_null;
	int32_t range;
	int type;
};

static void apply_scalar_copy(struct vreg *r, void *arg)
{
	struct id_fix *f = arg;
	if (r->type == VT_SCALAR && r->id == f->id)
		r->var = f->model->var;
}

static void apply_null(struct vreg *r, void *arg)
{
	struct id_fix *f = arg;
	if (!vreg_is_ptr(r) || !r->maybe_null || r->id != f->id)
		return;
	if (f->is_null) {
		*r = vreg_const(0);
	} else {
		r->maybe_null = false;
	}
}

void verifier_mark_null(struct vstate *st, uint32_t id, bool is_null)
{
	struct id_fix f = { .id = id, .is_null = is_null };
	vstate_for_each_reg(st, apply_null, &f);
}

void verifier_release_ref(struct vstate *st, uint32_t ref_id)
{
	for (int i = 0; i < st->nrefs; i++)
		if (st->refs[i] == ref_id) {
			st->refs[i] = st->refs[--st->nrefs];
			break;
		}
}

static void apply_range(struct vreg *r, void *arg)
{
	struct id_fix *f = arg;
	if (r->type == f->type && r->id == f->id && r->range < f->range)
		r->range = f->range;
}

static void set_scalar(struct vstate *st, int regno, struct comb_scalar v)
{
	struct vreg *r = reg(st, regno);
	r->var = v;
	if (r->id) {
		struct id_fix f = { .id = r->id, .model = r };
		vstate_for_each_reg(st, apply_scalar_copy, &f);
	}
}

/* Refine the state of one branch of a scalar comparison; false if dead. */
static bool refine_scalars(struct vstate *st, const struct comb_insn *in, bool taken)
{
	bool x = COMB_SRC(in->code) == COMB_SRC_X;
	struct comb_scalar a = reg(st, in->dst)->var;
	struct comb_scalar b = x ? reg(st, in->src)->var : comb_scalar_const((uint64_t)(int64_t)in->imm);
	if (!comb_scalar_refine(&a, &b, in->code, taken))
		return false;
	set_scalar(st, in->dst, a);
	if (x && in->src != in->dst)
		set_scalar(st, in->src, b);
	return true;
}

/* Which branch proves "p <= end" for pointer p compared with its end? */
static int pkt_safe_branch(uint8_t op, bool p_is_dst)
{
	switch (op) {
	case COMB_JMP_JGT: case COMB_JMP_JGE: return p_is_dst ? 0 : 1;
	case COMB_JMP_JLT: case COMB_JMP_JLE: return p_is_dst ? 1 : 0;
	default: return -1;
	}
}

static void pkt_mark_range(struct vstate *st, const struct vreg *p)
{
	if (p->off <= 0 || p->var.umax > 0xffff)
		return;
	struct id_fix f = { .id = p->id, .range = p->off, .type = p->type };
	vstate_for_each_reg(st, apply_range, &f);
}

static bool is_pkt_pair(const struct vreg *p, const struct vreg *end)
{
	return (p->type == VT_PKT && end->type == VT_PKT_END) ||
	       (p->type == VT_PKT_META && end->type == VT_PKT);
}

static void mark_operands_precise(struct venv *env, const struct vstate *st, const struct comb_insn *in)
{
	verifier_mark_precise(env, st, in->dst);
	if (COMB_SRC(in->code) == COMB_SRC_X && in->src != in->dst)
		verifier_mark_precise(env, st, in->src);
}

/* Fork on a conditional jump. *idx becomes the next instruction of the
 * path that continues (the other is pushed). */
static int check_cond_jump(struct venv *env, struct vstate *st, size_t *idx)
{
	const struct comb_insn *in = &env->insns[*idx];
	bool x = COMB_SRC(in->code) == COMB_SRC_X, is64 = COMB_CLASS(in->code) == COMB_CLS_JMP;
	uint8_t op = COMB_OP(in->code);
	size_t target = jump_target(env->insns, *idx), fall = *idx + 1;
	int rc;
	if ((rc = verifier_check_reg_init(env, st, *idx, in->dst)) ||
	    (x && (rc = verifier_check_reg_init(env, st, *idx, in->src))))
		return rc;
	struct vreg a = *reg(st, in->dst);
	struct vreg b = x ? *reg(st, in->src) : vreg_const((uint64_t)(int64_t)in->imm);
	int taken = -1;
	if (env->widen && b.type == VT_SCALAR && comb_scalar_is_const(&b.var))
		verifier_widen_note_const(env, b.var.umin);
	else if (env->widen && a.type == VT_SCALAR && comb_scalar_is_const(&a.var))
		verifier_widen_note_const(env, a.var.umin);
	if (a.type == VT_SCALAR && b.type == VT_SCALAR) {
		taken = comb_scalar_branch_taken(&a.var, &b.var, in->code);
		if (taken < 0) {
			verifier_hist_note_refine(st, in->dst, x ? in->src : -1);
			struct vstate *other = vstate_clone(st);
			if (!other)
				return -ENOMEM;
			bool alive_taken = refine_scalars(other, in, true);
			bool alive_fall = refine_scalars(st, in, false);
			if (!alive_taken || !alive_fall)
				mark_operands_precise(env, st, in); /* one way was ruled out by the values */
			if (alive_taken)
				rc = verifier_push_branch(env, other, target);
			vstate_free(other);
			if (rc)
				return rc;
			if (!alive_fall)
				return 1; /* this path is dead */
			*idx = fall;
			return 0;
		}
		/* As the kernel: the values decided the branch, so they matter. */
		mark_operands_precise(env, st, in);
		*idx = taken ? target : fall;
		return 0;
	}
	/* A pointer against 0: NULL tests. */
	bool a_ptr = vreg_is_ptr(&a), b_zero = b.type == VT_SCALAR && comb_scalar_is_const(&b.var) &&
						b.var.umin == 0;
	if (a_ptr && b_zero && (op == COMB_JMP_JEQ || op == COMB_JMP_JNE)) {
		if (x) /* a NULL test because the register holds 0 */
			verifier_mark_precise(env, st, in->src);
		if (a.type == VT_BTF_ID && !a.maybe_null) {
			/* a kernel object pointer read from memory may be NULL:
			 * both ways are possible, the type stays */
			if ((rc = verifier_push_branch(env, st, target)))
				return rc;
			*idx = fall;
			return 0;
		}
		if (!a.maybe_null) {
			*idx = (op == COMB_JMP_JNE) ? target : fall;
			return 0;
		}
		struct vstate *other = vstate_clone(st);
		if (!other)
			return -ENOMEM;
		bool taken_is_null = op == COMB_JMP_JEQ;
		verifier_mark_null(other, a.id, taken_is_null);
		verifier_mark_null(st, a.id, !taken_is_null);
		if (a.ref_id)
			verifier_release_ref(taken_is_null ? other : st, a.ref_id);
		rc = verifier_push_branch(env, other, target);
		vstate_free(other);
		*idx = fall;
		return rc;
	}
	if (is64 && (is_pkt_pair(&a, &b) || is_pkt_pair(&b, &a))) {
		bool p_is_dst = is_pkt_pair(&a, &b);
		int safe = pkt_safe_branch(op, p_is_dst);
		struct vstate *other = vstate_clone(st);
		if (!other)
			return -ENOMEM;
		if (safe == 1)
			pkt_mark_range(other, p_is_dst ? &a : &b);
		else if (safe == 0)
			pkt_mark_range(st, p_is_dst ? &a : &b);
		rc = verifier_push_branch(env, other, target);
		vstate_free(other);
		*idx = fall;
		return rc;
	}
	if (env->strict && (a_ptr || vreg_is_ptr(&b)))
		return verifier_reject(env, st, *idx, "comparing a pointer (%s) with %s would leak an address",
				       verifier_type_name(a_ptr ? a.type : b.type),
				       a_ptr && vreg_is_ptr(&b) ? "another pointer" : "a number");
	if ((rc = verifier_push_branch(env, st, target)))
		return rc;
	*idx = fall;
	return 0;
}

/* --- the walk ----------------------------------------------------------- */

static void trace_insn(struct venv *env, struct vstate *st, size_t idx)
{
	char text[96];
	comb_disasm_insn(env->insns, env->count, idx, COMB_SYNTAX_LLVM, text, sizeof(text));
	verifier_log(env, "%zu: %s ;", idx, text);
	verifier_log_state(env, st);
}

/* A zero-extension of its destination: `wX = wX`, or the first of
 * `rX <<= 32; rX >>= 32` (LLVM's without ALU32). */
static bool is_zext(const struct venv *env, size_t idx)
{
	const struct comb_insn *in = &env->insns[idx];
	if (in->code == (COMB_CLS_ALU | COMB_ALU_MOV | COMB_SRC_X))
		return in->off == 0 && in->src == in->dst;
	const struct comb_insn *next = in + 1;
	return in->code == (COMB_CLS_ALU64 | COMB_ALU_LSH | COMB_SRC_K) && in->imm == 32 && idx + 1 < env->count &&
	       next->code == (COMB_CLS_ALU64 | COMB_ALU_RSH | COMB_SRC_K) && next->imm == 32 && next->dst == in->dst;
}

/* Facts for the engines: is the zero-extension at idx a no-op on this
 * visit (X a scalar whose upper half is zero)? A fact holds only if it held
 * on every visit; while it holds, X is marked precise so a state pruned
 * against this path's checkpoints has the same property. */
static void note_zext(struct venv *env, const struct vstate *st, size_t idx)
{
	const struct comb_insn *in = &env->insns[idx];
	if (!env->zext || in->dst >= 10 || env->zext[idx] == ZEXT_NEEDED || !is_zext(env, idx))
		return;
	const struct vreg *r = &vstate_cur((struct vstate *)st)->regs[in->dst];
	if (r->type != VT_SCALAR || r->var.umax > UINT32_MAX) {
		env->zext[idx] = ZEXT_NEEDED;
		return;
	}
	env->zext[idx] = ZEXT_REDUNDANT;
	verifier_mark_precise(env, st, in->dst);
}

/* Run one path from idx until it ends. 0 when it ended safely. */
static int explore(struct venv *env, struct vstate *st, size_t idx, struct vcheck **cp)
{
	for (;;) {
		if (++env->res->insns_processed > env->max_insns) {
			verifier_reject(env, st, idx, "the program is too complex: more than %llu instructions "
					"explored; a loop may not end, or has too many iterations or paths",
					(unsigned long long)env->max_insns);
			return -E2BIG;
		}
		if (env->widen) {
			verifier_widen_step(env, st, idx);
			int w = verifier_widen_at_head(env, st, idx);
			if (w)
				return w > 0 ? 0 : w;
		}
		if (env->prune_point[idx]) {
			env->cur_cp = *cp;
			int p = visit_prune_point(env, st, idx, cp);
			if (p)
				return p > 0 ? 0 : p;
		}
		env->cur_cp = *cp;
		if (verifier_hist_record(st, idx))
			return -ENOMEM;
		if (env->log_level >= 2)
			trace_insn(env, st, idx);
		note_zext(env, st, idx);
		verifier_facts_note_insn(env, st, idx);
		const struct comb_insn *in = &env->insns[idx];
		uint8_t cls = COMB_CLASS(in->code);
		size_t before = env->npending;
		int rc = 0;
		switch (cls) {
		case COMB_CLS_ALU:
		case COMB_CLS_ALU64:
			rc = check_alu(env, st, idx);
			idx++;
			break;
		case COMB_CLS_LDX:
			rc = verifier_check_load(env, st, idx);
			idx++;
			break;
		case COMB_CLS_ST:
			rc = verifier_check_store(env, st, idx);
			idx++;
			break;
		case COMB_CLS_STX:
			rc = COMB_MODE(in->code) == COMB_MODE_ATOMIC ? verifier_check_atomic(env, st, idx)
								     : verifier_check_store(env, st, idx);
			idx++;
			break;
		case COMB_CLS_LD:
			if (comb_insn_is_lddw(in)) {
				rc = check_lddw(env, st, idx);
				idx += 2;
			} else {
				rc = check_ld_abs(env, st, idx);
				idx++;
			}
			break;
		default:
			if (is_ja(in)) {
				idx = jump_target(env->insns, idx);
			} else if (is_exit(in)) {
				rc = verifier_check_exit(env, st, &idx);
				if (rc == 0)
					return 0;
				rc = rc > 0 ? 0 : rc;
			} else if (in->code == (COMB_CLS_JMP | COMB_JMP_CALL)) {
				if (in->src == COMB_CALL_LOCAL) {
					rc = verifier_check_local_call(env, st, &idx);
				} else {
					rc = verifier_check_helper_call(env, st, idx);
					idx++;
				}
			} else {
				size_t jump = idx;
				rc = check_cond_jump(env, st, &idx);
				if (rc >= 0)
					verifier_facts_note_branch(env, jump, rc == 0, idx, before);
				if (rc == 1) {
					for (size_t k = before; k < env->npending; k++)
						env->pending[k].cp = *cp;
					if (*cp)
						(*cp)->branches += (int)(env->npending - before);
					return 0;
				}
			}
		}
		for (size_t k = before; k < env->npending; k++)
			env->pending[k].cp = *cp;
		if (*cp)
			(*cp)->branches += (int)(env->npending - before);
		if (rc)
			return rc;
		if (idx >= env->count)
			return verifier_reject(env, st, idx, "the program runs past its last instruction");
	}
}

static int check_stack_depth(struct venv *env);

static int run_exploration(struct venv *env)
{
	struct vstate *st = vstate_new_entry();
	if (!st)
		return -ENOMEM;
	*reg(st, 1) = vreg_const(0);
	reg(st, 1)->type = VT_CTX;
	int rc = verifier_push_branch(env, st, 0);
	vstate_free(st);
	while (rc == 0 && env->npending > 0) {
		struct vpending p = env->pending[--env->npending];
		struct vcheck *cp = p.cp;
		rc = explore(env, p.st, p.idx, &cp);
		vstate_free(p.st);
		if (rc == 0)
			path_done(cp);
	}
	if (rc == 0)
		rc = check_stack_depth(env);
	return rc;
}

/* Combined stack of every call chain: at most 512 bytes (each function's
 * depth rounded up to 32, as the kernel counts it). */
static int chain_depth(struct venv *env, size_t sub, int level, int32_t *worst)
{
	if (level > COMB_MAX_FRAMES)
		return 0;
	int32_t own = (env->sub_depth[sub] + 31) / 32 * 32, best = 0;
	size_t start = env->sub_start[sub];
	size_t end = sub + 1 < env->nsub ? env->sub_start[sub + 1] : env->count;
	for (size_t i = start; i < end; i++) {
		if (is_local_call(&env->insns[i])) {
			int callee = subprog_index(env, (size_t)((int64_t)i + 1 + env->insns[i].imm));
			int32_t d = 0;
			if (callee >= 0)
				chain_depth(env, (size_t)callee, level + 1, &d);
			if (d > best)
				best = d;
		}
	}
	*worst = own + best;
	return 0;
}

static int check_stack_depth(struct venv *env)
{
	int32_t total = 0;
	chain_depth(env, 0, 1, &total);
	if (total > COMB_STACK_SIZE)
		return verifier_reject(env, NULL, 0, "the functions of one call chain use %d bytes of stack "
				       "together, more than the %d allowed: move large buffers to a per-CPU "
				       "array map", total, COMB_STACK_SIZE);
	return 0;
}

/* Forget the walk (states, checkpoints, facts) to walk again. */
static void env_reset_walk(struct venv *env)
{
	for (size_t i = 0; i < env->npending; i++)
		vstate_free(env->pending[i].st);
	env->npending = 0;
	for (struct vcheck *c = env->checkpoints, *next; c; c = next) {
		next = c->next_all;
		vstate_free(c->st);
		free(c->hist);
		free(c);
	}
	env->checkpoints = NULL;
	env->ncheckpoints = 0;
	env->cur_cp = NULL;
	env->last_checkpoint = 0;
	memset(env->visited, 0, env->count * sizeof(*env->visited));
	memset(env->sub_depth, 0, env->nsub * sizeof(*env->sub_depth));
	if (env->zext)
		memset(env->zext, 0, env->count);
	env->res->insns_processed = 0;
	env->res->error_insn = -1;
	env->res->message[0] = 0;
}

/* The ordinary walk ran out of budget: walk again with the loop heads
 * widened (widen.c). A rejection for a budget used up again keeps the first
 * walk's words; others say they come from the widened walk. */
static int verify_widened(struct venv *env)
{
	struct comb_verify_result first = *env->res;
	int first_rc = env->paths_overflow ? -EACCES : -E2BIG;
	if (env->log_level >= 1)
		verifier_log(env, "widening the loops: unrolled, the program explores more than %llu "
			     "instructions\n", (unsigned long long)env->max_insns);
	env_reset_walk(env);
	/* Facts rest on pruning that compares what they observed precisely;
	 * the widened walk prunes by its own covering, so it backs none. */
	env->facts_off = true;
	int rc = verifier_widen_begin(env);
	if (rc == 0)
		rc = run_exploration(env);
	bool walked_out = rc == -E2BIG;
	if (rc == 0)
		rc = verifier_widen_finish(env);
	verifier_widen_end(env);
	if (walked_out) {
		*env->res = first;
		rc = first_rc;
	} else if (rc == -EACCES) {
		size_t len = strlen(env->res->message);
		snprintf(env->res->message + len, sizeof(env->res->message) - len,
			 " (found with the loops widened: unrolled, the program explores more than %llu "
			 "instructions)", (unsigned long long)env->max_insns);
	}
	return rc;
}

static void env_free(struct venv *env)
{
	verifier_widen_end(env);
	for (size_t i = 0; i < env->npending; i++)
		vstate_free(env->pending[i].st);
	free(env->pending);
	for (struct vcheck *c = env->checkpoints, *next; c; c = next) {
		next = c->next_all;
		vstate_free(c->st);
		free(c->hist);
		free(c);
	}
	free(env->visited);
	free(env->prune_point);
	free(env->loop_head);
	free(env->live_in);
	free(env->sub_start);
	free(env->sub_depth);
	free(env->lock_off);
	free(env->zext);
	free(env->obs);
	if (env->own_btf)
		btf__free((struct btf *)env->btf);
}

static void env_init(struct venv *env, const struct comb_insn *insns, size_t count,
		     const struct comb_verify_opts *opts, struct comb_verify_result *res)
{
	memset(env, 0, sizeof(*env));
	env->insns = insns;
	env->count = count;
	env->res = res;
	env->max_insns = DEFAULT_MAX_INSNS;
	env->prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	if (!opts)
		return;
	size_t sz = opts->sz;
#define HAS(field) (sz >= offsetof(struct comb_verify_opts, field) + sizeof(opts->field))
	if (HAS(prog_type) && opts->prog_type)
		env->prog_type = opts->prog_type;
	if (HAS(flags))
		env->strict = opts->flags & COMB_VERIFY_STRICT;
	if (HAS(map_count)) {
		env->maps = opts->maps;
		env->map_count = opts->maps ? opts->map_count : 0;
	}
	if (HAS(log_size) && opts->log_buf && opts->log_size) {
		env->log_level = opts->log_level;
		env->log_buf = opts->log_buf;
		env->log_size = opts->log_size;
		env->log_buf[0] = 0;
	} else if (HAS(log_level)) {
		env->log_level = opts->log_level;
	}
	if (HAS(max_insns) && opts->max_insns)
		env->max_insns = opts->max_insns;
	if (HAS(attach_target)) {
		env->attach_type = opts->expected_attach_type;
		env->attach_target = opts->attach_target;
	}
#undef HAS
}

int comb_verify(const struct comb_insn *insns, size_t count, const struct comb_verify_opts *opts,
		struct comb_verify_result *res)
{
	return verifier_run(insns, count, opts, NULL, NULL, res);
}

/* The kernel BTF a tracing program's context needs: the caller's, or loaded. */
static int env_setup_btf(struct venv *env, const struct comb_verify_opts *opts, const struct btf *btf)
{
	env->btf = btf;
	if (!verifier_is_btf_ctx(env))
		return 0;
	if (!env->btf && env->attach_target) {
		bool has_path = opts && opts->sz >= offsetof(struct comb_verify_opts, target_btf_path) +
								 sizeof(opts->target_btf_path);
		verifier_btf_open(env, has_path ? opts->target_btf_path : NULL);
	}
	return verifier_btf_ctx_init(env);
}

int verifier_run(const struct comb_insn *insns, size_t count, const struct comb_verify_opts *opts,
		 const struct btf *btf, const struct comb_map_info *inner_maps,
		 struct comb_verify_result *res)
{
	return verifier_run_facts(insns, count, opts, btf, inner_maps, res, NULL);
}

int verifier_run_facts(const struct comb_insn *insns, size_t count, const struct comb_verify_opts *opts,
		       const struct btf *btf, const struct comb_map_info *inner_maps,
		       struct comb_verify_result *res, uint8_t **facts)
{
	if (facts)
		*facts = NULL;
	if (!res)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	res->error_insn = -1;
	if (!insns || count == 0 || (opts && opts->sz < offsetof(struct comb_verify_opts, flags))) {
		snprintf(res->message, sizeof(res->message), "no program, or bad options");
		return -EINVAL;
	}
	char err[256];
	if (comb_insns_validate(insns, count, err, sizeof(err)) < 0) {
		snprintf(res->message, sizeof(res->message), "%s", err);
		return -EINVAL;
	}
	struct venv env;
	env_init(&env, insns, count, opts, res);
	env.inner_maps = inner_maps;
	if (facts && (!(env.zext = calloc(count, 1)) || !(env.obs = calloc(count, 1)))) {
		env_free(&env);
		return -ENOMEM;
	}
	int rc = env_setup_btf(&env, opts, btf);
	if (!rc)
		rc = find_subprogs(&env);
	if (!rc)
		rc = check_subprog_bounds(&env);
	if (!rc)
		rc = check_reachable(&env);
	if (!rc)
		rc = compute_liveness(&env);
	if (!rc)
		rc = mark_prune_points(&env);
	if (!rc)
		rc = run_exploration(&env);
	if (rc == -E2BIG)
		rc = verify_widened(&env);
	if (rc == -ENOMEM)
		snprintf(res->message, sizeof(res->message), "out of memory");
	res->ok = rc == 0;
	if (env.log_level >= 1)
		verifier_log(&env, "%s: %llu instructions processed\n", rc == 0 ? "verified" : "rejected",
			     (unsigned long long)res->insns_processed);
	if (rc == 0 && facts)
		*facts = verifier_collect_facts(&env);
	env_free(&env);
	return rc;
}

int comb_verify_prog(const struct comb_prog *prog, const struct comb_verify_opts *opts,
		     struct comb_verify_result *res)
{
	if (!prog || !res)
		return -EINVAL;
	struct comb_verify_opts o = { .sz = sizeof(o) };
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	o.sz = sizeof(o);
	if (!o.prog_type)
		o.prog_type = prog->prog_type;
	o.maps = prog->maps;
	o.map_count = prog->map_count;
	/* Facts only from a verification of the program as it runs (its own
	 * type): comb_prog_verify() marks it verified after this returns 0. */
	bool own_type = o.prog_type == prog->prog_type;
	uint8_t *facts = NULL;
	int rc = verifier_run_facts(prog->insns, prog->count, &o, NULL, NULL, res, own_type ? &facts : NULL);
	if (rc == 0 && own_type)
		verifier_record_facts((struct comb_prog *)prog, facts);
	return rc;
}

void verifier_record_facts(struct comb_prog *prog, uint8_t *facts)
{
	comb_jit_apply_facts(prog, facts);
}
