/* src/verifier/widen.c - widening at loop heads, for programs whose loops
 * are too long to explore unrolled (more than the 1,000,000-instruction
 * budget), and the proof that those loops end.
 *
 * verifier.c runs this mode only after the ordinary (unrolled) walk ran out
 * of budget, so every program that fits the budget gets exactly the
 * kernel's treatment. In this mode:
 *
 * Loops. Per function, dominators give the back edges n -> h (h dominates
 * n); h is a loop head and body(h) its natural loop: h and every
 * instruction that reaches a back edge's source without passing h. An edge
 * going back in reverse postorder that is not a back edge means a loop with
 * two entries (irreducible): refused. So every cycle passes a head and lies
 * in its body, a body is entered only through its head, and a path is
 * inside the loop of h exactly while it has run only body(h) instructions
 * (in h's frame) since it last passed h: the state keeps that stack of
 * active loops (vstate.loops), and an arrival at h with h active is a back
 * edge, any other an entry. An endless run would have to pass some head
 * through back edges forever.
 *
 * Safety (abstract interpretation). Per loop head and call chain, a record
 * keeps W, the join of every state that arrived there. An arrival covered
 * by W (every live register and every stack byte, all scalars compared as
 * in exact pruning, no precision shortcuts) stops, as a path pruned against
 * a checkpoint does; any other arrival widens W (W' contains W and the new
 * state: ranges that grew jump to the next constant the program compares
 * with, then after WIDEN_THRESHOLD_STEPS to their type's extreme; tnum
 * bits only get lost) and the walk goes on from W'. The body is still
 * explored path-sensitively, instruction by instruction, so every access
 * is checked against the widened ranges. The set of explored states is then
 * closed under the transfer functions (each successor is explored or
 * covered by an explored state whose continuations all were explored), so
 * it contains every state a run can reach: the program is safe, if it ends.
 * Finished checkpoints prune as in the ordinary walk, but with every scalar
 * and stack slot compared (their precision and read marks are learnt from
 * continuations, and a continuation stopped at a loop head reports none).
 *
 * Termination. From each head, every scalar location of the head's frame
 * (r0-r9, spilled 8-byte slots) is tagged with (loop record, location,
 * delta 0): "equal to this location's value at the head, plus delta". A
 * copy keeps the tag, adding or subtracting a constant moves delta, a
 * 32-bit operation turns it into a relation of the low halves, any other
 * write drops it (it lives in struct vreg, so every fresh register value is
 * untagged). Tags are compared by pruning (a path stops only where the
 * stored state has the same tags, so the continuation explored from there
 * moves every counter as this path's would), and the tags of a record are
 * dropped everywhere each time a path passes its head (no tag outlives its
 * loop's activation). Locations with the same tag hold the same value, so
 * at a back edge they share their bounds (a test bounded one copy). At each
 * back edge, a candidate location L survives if it holds (record, L, d)
 * with d != 0 of the same sign as on every other back edge, and the path's
 * range of it proves that adding d did not wrap in some order (unsigned or
 * signed, 64 or 32 bits; e.g. d > 0 unsigned: L >= d; the 64-bit orders
 * only when L's whole value follows the relation). A surviving candidate strictly
 * increases (or decreases) in that order on every iteration, and its value
 * at the head stays within W's final range of it, so the loop runs at most
 * (max - min) / min|d| + 1 iterations. More than WIDEN_MAX_ITERATIONS (as
 * bpf_loop's limit) is refused too, as is a loop with no such counter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/internal.h"

#define WIDEN_LOCS (10 + VSTACK_SLOTS)        /* r0-r9, then stack slots */
#define WIDEN_THRESHOLD_STEPS 40              /* then bounds jump to extremes */
#define WIDEN_MAX_STEPS 64                    /* then the loop is refused */
#define WIDEN_MAX_RECORDS 255
#define WIDEN_MAX_THRESHOLDS 1024
#define WIDEN_MAX_ITERATIONS (UINT64_C(1) << 23)
#define WIDEN_MAX_BODY_BYTES (64u << 20)

/* Why a location is not a counter of its loop. */
enum { WHY_NONE, WHY_WRITTEN, WHY_ZERO, WHY_SIGN };

struct wcandidate {
	uint8_t why;        /* WHY_NONE: still a candidate */
	int8_t sign;        /* of every delta seen, 0 before the first back edge */
	bool ok_u64, ok_s64, ok_u32, ok_s32; /* no wrap-around in that order */
	bool is32;          /* some path only kept the low half's relation */
	uint16_t min_step;
};

struct wrec {
	size_t head;
	int nframes;
	int32_t callsites[COMB_MAX_FRAMES];
	struct vstate *w;   /* join of the arrivals */
	int steps;          /* widenings so far */
	uint64_t back_edges;
	struct wcandidate cand[WIDEN_LOCS];
};

/* A sorted set of constants the loops compare against. Signed ones are
 * kept as keys that order as unsigned numbers (signed_key), so one set of
 * functions serves both. */
struct thresholds {
	uint64_t *keys;
	size_t n;
};

struct widen {
	int32_t *head_no;   /* per insn: its number as a loop head, -1 */
	size_t nheads, words;
	uint64_t *body;     /* nheads bitmaps of count bits */
	struct thresholds tu; /* the unsigned thresholds */
	struct thresholds ts; /* the signed ones, biased (see signed_key) */
	struct wrec *recs;
	size_t nrecs;
};

/* --- thresholds --------------------------------------------------------- */

static uint64_t signed_key(int64_t v) { return (uint64_t)v ^ (UINT64_C(1) << 63); }
static int64_t signed_of_key(uint64_t key) { return (int64_t)(key ^ (UINT64_C(1) << 63)); }

static void insert_threshold(struct thresholds *t, uint64_t key)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t->keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if ((lo < t->n && t->keys[lo] == key) || t->n >= WIDEN_MAX_THRESHOLDS)
		return;
	memmove(&t->keys[lo + 1], &t->keys[lo], (t->n - lo) * sizeof(*t->keys));
	t->keys[lo] = key;
	t->n++;
}

void verifier_widen_note_const(struct venv *env, uint64_t k)
{
	struct widen *w = env->widen;
	for (int d = -1; d <= 1; d++) {
		insert_threshold(&w->tu, k + (uint64_t)(int64_t)d);
		insert_threshold(&w->ts, signed_key((int64_t)k + d));
		insert_threshold(&w->tu, (uint32_t)(k + (uint64_t)(int64_t)d));
		insert_threshold(&w->ts, signed_key((int32_t)(uint32_t)k + (int64_t)d));
	}
}

/* Smallest threshold >= x (up to limit), else limit; largest <= x, else floor. */
static uint64_t threshold_up(const struct thresholds *t, uint64_t x, uint64_t limit)
{
	for (size_t i = 0; i < t->n && t->keys[i] <= limit; i++)
		if (t->keys[i] >= x)
			return t->keys[i];
	return limit;
}

static uint64_t threshold_down(const struct thresholds *t, uint64_t x, uint64_t floor)
{
	for (size_t i = t->n; i-- > 0 && t->keys[i] >= floor;)
		if (t->keys[i] <= x)
			return t->keys[i];
	return floor;
}

static uint64_t up_u(const struct widen *w, uint64_t x, uint64_t limit)
{
	return threshold_up(&w->tu, x, limit);
}

static uint64_t down_u(const struct widen *w, uint64_t x, uint64_t floor)
{
	return threshold_down(&w->tu, x, floor);
}

static int64_t up_s(const struct widen *w, int64_t x, int64_t limit)
{
	return signed_of_key(threshold_up(&w->ts, signed_key(x), signed_key(limit)));
}

static int64_t down_s(const struct widen *w, int64_t x, int64_t floor)
{
	return signed_of_key(threshold_down(&w->ts, signed_key(x), signed_key(floor)));
}

/* Known bits after a widening: those below the lowest unknown bit stay (a
 * counter's alignment), the others only if the new range keeps them too;
 * otherwise the bits would pull the widened bounds back (sync), one bit a
 * step. Contains the joined tnum. */
static struct comb_tnum widen_tnum(struct comb_tnum joined, uint64_t umin, uint64_t umax)
{
	uint64_t keep = joined.mask ? (joined.mask & -joined.mask) - 1 : ~UINT64_C(0);
	struct comb_tnum u = comb_tnum_union(joined, comb_tnum_range(umin, umax));
	u.mask &= ~keep;
	u.value = ((u.value & ~keep) | (joined.value & keep)) & ~u.mask;
	return u;
}

/* The join, with every bound that moved out past prev's set to the next
 * threshold (or, when extreme, the type's limit). Contains prev and next. */
static struct comb_scalar widen_scalar(const struct widen *w, const struct comb_scalar *prev,
				       const struct comb_scalar *next, bool extreme)
{
	struct comb_scalar j = comb_scalar_join(prev, next);
	if (!comb_scalar_is_valid(prev) || !comb_scalar_is_valid(next))
		return j;
	bool moved = false;
#define WIDEN_BOUND(cond, field, value) \
	if (cond) {                     \
		j.field = (value);      \
		moved = true;           \
	}
	WIDEN_BOUND(j.umax > prev->umax, umax, extreme ? UINT64_MAX : up_u(w, j.umax, UINT64_MAX));
	WIDEN_BOUND(j.umin < prev->umin, umin, extreme ? 0 : down_u(w, j.umin, 0));
	WIDEN_BOUND(j.smax > prev->smax, smax, extreme ? INT64_MAX : up_s(w, j.smax, INT64_MAX));
	WIDEN_BOUND(j.smin < prev->smin, smin, extreme ? INT64_MIN : down_s(w, j.smin, INT64_MIN));
	WIDEN_BOUND(j.u32_max > prev->u32_max, u32_max,
		    extreme ? UINT32_MAX : (uint32_t)up_u(w, j.u32_max, UINT32_MAX));
	WIDEN_BOUND(j.u32_min < prev->u32_min, u32_min, extreme ? 0 : (uint32_t)down_u(w, j.u32_min, 0));
	WIDEN_BOUND(j.s32_max > prev->s32_max, s32_max,
		    extreme ? INT32_MAX : (int32_t)up_s(w, j.s32_max, INT32_MAX));
	WIDEN_BOUND(j.s32_min < prev->s32_min, s32_min,
		    extreme ? INT32_MIN : (int32_t)down_s(w, j.s32_min, INT32_MIN));
#undef WIDEN_BOUND
	if (moved) {
		j.var_off = widen_tnum(j.var_off, j.umin, j.umax);
		struct comb_tnum low = widen_tnum(comb_tnum_subreg(j.var_off), j.u32_min, j.u32_max);
		j.var_off = comb_tnum_with_subreg(j.var_off, low);
	}
	comb_scalar_sync(&j);
	return j;
}

/* --- loops: heads and bodies -------------------------------------------- */

static bool in_body(const struct widen *w, size_t head, size_t idx)
{
	int32_t h = w->head_no[head];
	return h >= 0 && (w->body[(size_t)h * w->words + idx / 64] >> (idx % 64) & 1);
}

static int build_preds(const struct venv *env, size_t **start_out, size_t **list_out)
{
	size_t *start = calloc(env->count + 1, sizeof(*start)), *list = NULL, next[2];
	if (!start)
		return -ENOMEM;
	for (size_t i = 0; i < env->count; i++) {
		int n = verifier_insn_succs(env, i, next);
		for (int k = 0; k < n; k++)
			start[next[k] + 1]++;
	}
	for (size_t i = 0; i < env->count; i++)
		start[i + 1] += start[i];
	list = malloc((start[env->count] + 1) * sizeof(*list));
	size_t *fill = malloc((env->count + 1) * sizeof(*fill));
	if (!list || !fill) {
		free(start);
		free(list);
		free(fill);
		return -ENOMEM;
	}
	memcpy(fill, start, env->count * sizeof(*fill));
	for (size_t i = 0; i < env->count; i++) {
		int n = verifier_insn_succs(env, i, next);
		for (int k = 0; k < n; k++)
			list[fill[next[k]]++] = i;
	}
	free(fill);
	*start_out = start;
	*list_out = list;
	return 0;
}

/* Dominators (Cooper, Harvey and Kennedy's iteration over the reverse
 * postorder of each function), then the back edges n -> h where h dominates
 * n. An edge that goes back in the order without being one makes the graph
 * irreducible (a loop with two entries): refused. */
struct cfg {
	const size_t *pstart, *plist;
	size_t *rpo;        /* nodes in reverse postorder, per function in turn */
	size_t *rpo_no;     /* node -> position, SIZE_MAX if unreachable */
	size_t *idom;
	size_t n;
};

static int order_nodes(const struct venv *env, struct cfg *g)
{
	size_t *stack = malloc((env->count + 1) * sizeof(*stack)), *child = calloc(env->count + 1, sizeof(*child));
	size_t *post = malloc((env->count + 1) * sizeof(*post));
	uint8_t *seen = calloc(env->count + 1, 1);
	if (!stack || !child || !post || !seen) {
		free(stack), free(child), free(post), free(seen);
		return -ENOMEM;
	}
	size_t npost = 0, next[2];
	for (size_t f = env->nsub; f-- > 0;) {
		size_t sp = 0;
		stack[sp++] = env->sub_start[f];
		seen[env->sub_start[f]] = 1;
		while (sp > 0) {
			size_t x = stack[sp - 1];
			int k = verifier_insn_succs(env, x, next);
			if (child[x] < (size_t)k) {
				size_t y = next[child[x]++];
				if (!seen[y]) {
					seen[y] = 1;
					stack[sp++] = y;
				}
				continue;
			}
			post[npost++] = x;
			sp--;
		}
	}
	for (size_t i = 0; i < env->count; i++)
		g->rpo_no[i] = SIZE_MAX;
	for (size_t i = 0; i < npost; i++) {
		g->rpo[i] = post[npost - 1 - i];
		g->rpo_no[g->rpo[i]] = i;
	}
	g->n = npost;
	free(stack), free(child), free(post), free(seen);
	return 0;
}

static size_t intersect(const struct cfg *g, size_t a, size_t b)
{
	while (a != b) {
		while (g->rpo_no[a] > g->rpo_no[b])
			a = g->idom[a];
		while (g->rpo_no[b] > g->rpo_no[a])
			b = g->idom[b];
	}
	return a;
}

static void find_dominators(const struct venv *env, struct cfg *g)
{
	for (size_t i = 0; i < env->count; i++)
		g->idom[i] = SIZE_MAX;
	for (size_t f = 0; f < env->nsub; f++)
		g->idom[env->sub_start[f]] = env->sub_start[f];
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < g->n; i++) {
			size_t x = g->rpo[i], d = SIZE_MAX;
			if (g->idom[x] == x)
				continue; /* a function's entry */
			for (size_t p = g->pstart[x]; p < g->pstart[x + 1]; p++) {
				size_t y = g->plist[p];
				if (g->idom[y] != SIZE_MAX)
					d = d == SIZE_MAX ? y : intersect(g, y, d);
			}
			if (d != SIZE_MAX && g->idom[x] != d) {
				g->idom[x] = d;
				changed = true;
			}
		}
	}
}

static bool dominates(const struct cfg *g, size_t h, size_t n)
{
	for (;;) {
		if (n == h)
			return true;
		if (g->idom[n] == n || g->idom[n] == SIZE_MAX)
			return false;
		n = g->idom[n];
	}
}

/* body(h): h and what reaches a back edge's source without passing h. */
static void build_body(const struct cfg *g, size_t h, uint64_t *bits, size_t *todo)
{
	size_t n = 0;
	bits[h / 64] |= UINT64_C(1) << (h % 64);
	for (size_t p = g->pstart[h]; p < g->pstart[h + 1]; p++) {
		size_t src = g->plist[p];
		if (dominates(g, h, src) && !(bits[src / 64] >> (src % 64) & 1)) {
			bits[src / 64] |= UINT64_C(1) << (src % 64);
			todo[n++] = src;
		}
	}
	while (n > 0) {
		size_t x = todo[--n];
		for (size_t p = g->pstart[x]; p < g->pstart[x + 1]; p++) {
			size_t y = g->plist[p];
			if (!(bits[y / 64] >> (y % 64) & 1)) {
				bits[y / 64] |= UINT64_C(1) << (y % 64);
				todo[n++] = y;
			}
		}
	}
}

/* Marks the loop heads; refuses an edge back in the order that is not a back edge. */
static int mark_heads(struct venv *env, struct widen *w, const struct cfg *g)
{
	size_t next[2];
	for (size_t i = 0; i < env->count; i++)
		w->head_no[i] = -1;
	for (size_t x = 0; x < env->count; x++) {
		if (g->rpo_no[x] == SIZE_MAX)
			continue;
		int k = verifier_insn_succs(env, x, next);
		for (int j = 0; j < k; j++) {
			size_t y = next[j];
			if (g->rpo_no[y] > g->rpo_no[x])
				continue;
			if (!dominates(g, y, x))
				return verifier_reject(env, NULL, x, "the loop through insn %zu and insn %zu has more "
						       "than one entry: widening needs loops entered only through "
						       "their first instruction", x, y);
			if (w->head_no[y] < 0)
				w->head_no[y] = (int32_t)w->nheads++;
		}
	}
	return 0;
}

static int find_loops(struct venv *env, struct widen *w)
{
	struct cfg g = { 0 };
	size_t *pstart = NULL, *plist = NULL;
	w->head_no = malloc(env->count * sizeof(*w->head_no));
	g.rpo = malloc(env->count * sizeof(*g.rpo));
	g.rpo_no = malloc(env->count * sizeof(*g.rpo_no));
	g.idom = malloc(env->count * sizeof(*g.idom));
	size_t *todo = malloc((env->count + 1) * sizeof(*todo));
	int rc = w->head_no && g.rpo && g.rpo_no && g.idom && todo ? build_preds(env, &pstart, &plist) : -ENOMEM;
	g.pstart = pstart;
	g.plist = plist;
	if (rc == 0)
		rc = order_nodes(env, &g);
	if (rc == 0) {
		find_dominators(env, &g);
		rc = mark_heads(env, w, &g);
	}
	w->words = (env->count + 63) / 64;
	if (rc == 0 && w->nheads * w->words * 8 > WIDEN_MAX_BODY_BYTES)
		rc = verifier_reject(env, NULL, 0, "too many loops (%zu) to widen in a program this long", w->nheads);
	if (rc == 0 && !(w->body = calloc(w->nheads * w->words + 1, sizeof(*w->body))))
		rc = -ENOMEM;
	for (size_t i = 0; i < env->count && rc == 0; i++)
		if (w->head_no[i] >= 0)
			build_body(&g, i, &w->body[(size_t)w->head_no[i] * w->words], todo);
	free(pstart), free(plist), free(todo), free(g.rpo), free(g.rpo_no), free(g.idom);
	return rc;
}

static void collect_thresholds(struct venv *env, struct widen *w)
{
	verifier_widen_note_const(env, 0);
	for (size_t i = 0; i < env->count; i++) {
		const struct comb_insn *in = &env->insns[i];
		uint8_t cls = COMB_CLASS(in->code), op = COMB_OP(in->code);
		if ((cls == COMB_CLS_JMP || cls == COMB_CLS_JMP32) && COMB_SRC(in->code) == COMB_SRC_K &&
		    op != COMB_JMP_JA && op != COMB_JMP_CALL && op != COMB_JMP_EXIT)
			verifier_widen_note_const(env, (uint64_t)(int64_t)in->imm);
		if (comb_insn_is_lddw(in))
			i++;
	}
	(void)w;
}

int verifier_widen_begin(struct venv *env)
{
	struct widen *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	env->widen = w;
	w->tu.keys = malloc(WIDEN_MAX_THRESHOLDS * sizeof(*w->tu.keys));
	w->ts.keys = malloc(WIDEN_MAX_THRESHOLDS * sizeof(*w->ts.keys));
	w->recs = calloc(WIDEN_MAX_RECORDS, sizeof(*w->recs));
	if (!w->tu.keys || !w->ts.keys || !w->recs)
		return -ENOMEM;
	collect_thresholds(env, w);
	return find_loops(env, w);
}

void verifier_widen_end(struct venv *env)
{
	struct widen *w = env->widen;
	if (!w)
		return;
	for (size_t i = 0; i < w->nrecs; i++)
		vstate_free(w->recs[i].w);
	free(w->recs);
	free(w->head_no);
	free(w->body);
	free(w->tu.keys);
	free(w->ts.keys);
	free(w);
	env->widen = NULL;
}

/* --- per instruction: leaving loops, counting ---------------------------- */

void verifier_widen_step(struct venv *env, struct vstate *st, size_t idx)
{
	while (st->nloops > 0) {
		const struct vloop_active *top = &st->loops[st->nloops - 1];
		if (top->frame < st->nframes - 1)
			break;
		if (top->frame == st->nframes - 1 && in_body(env->widen, top->head, idx))
			break;
		st->nloops--;
	}
}

static void tag(struct vreg *r, uint8_t rec, uint8_t loc, int64_t delta)
{
	r->ind_loop = rec;
	r->ind_loc = loc;
	r->ind_delta = (int16_t)delta;
}

void verifier_widen_alu(struct venv *env, const struct comb_insn *in, const struct vreg *before,
			const struct vreg *src, struct vreg *dst)
{
	uint8_t op = COMB_OP(in->code);
	bool alu64 = COMB_CLASS(in->code) == COMB_CLS_ALU64, x = COMB_SRC(in->code) == COMB_SRC_X;
	if (dst->type != VT_SCALAR)
		return;
	if (op == COMB_ALU_MOV) {
		/* rX = rY copies Y's relation (a constant Y too: verifier.c
		 * copies only the others whole), wX = wY that of the low halves */
		if (x && in->off == 0 && src->type == VT_SCALAR && src->ind_loop)
			tag(dst, src->ind_loop, (uint8_t)(src->ind_loc | (alu64 ? 0 : 0x80)), src->ind_delta);
		return;
	}
	if ((op != COMB_ALU_ADD && op != COMB_ALU_SUB) || before->type != VT_SCALAR || !before->ind_loop)
		return;
	int64_t k;
	if (!x)
		k = alu64 ? (int64_t)in->imm : (int64_t)(int32_t)in->imm;
	else if (src->type == VT_SCALAR && comb_scalar_is_const(&src->var))
		k = alu64 ? (int64_t)src->var.umin : (int64_t)(int32_t)(uint32_t)src->var.umin;
	else
		return;
	if (k < -32767 || k > 32767)
		return;
	int64_t delta = before->ind_delta + (op == COMB_ALU_ADD ? k : -k);
	if (delta < -32767 || delta > 32767)
		return;
	tag(dst, before->ind_loop, (uint8_t)(before->ind_loc | (alu64 ? 0 : 0x80)), delta);
}

/* --- comparing and joining states ---------------------------------------- */

static bool same_tag(const struct vreg *a, const struct vreg *b)
{
	return a->ind_loop == b->ind_loop && a->ind_loc == b->ind_loc && a->ind_delta == b->ind_delta;
}

static bool slot_is_spill(const struct vframe *f, int s)
{
	static const uint8_t all[8] = { SLOT_SPILL, SLOT_SPILL, SLOT_SPILL, SLOT_SPILL,
					SLOT_SPILL, SLOT_SPILL, SLOT_SPILL, SLOT_SPILL };
	return memcmp(&f->stype[s * 8], all, 8) == 0;
}

/* Every tag of old (other than of record skip) is in cur too. */
static bool tags_cover(const struct vstate *old, const struct vstate *cur, uint8_t skip)
{
	for (int i = 0; i < old->nframes; i++) {
		const struct vframe *o = old->frames[i], *c = cur->frames[i];
		for (int r = 0; r < 10; r++) {
			const struct vreg *a = &o->regs[r];
			if (a->type == VT_SCALAR && a->ind_loop && a->ind_loop != skip && !same_tag(a, &c->regs[r]))
				return false;
		}
		for (int s = 0; s < VSTACK_SLOTS; s++) {
			const struct vreg *a = &o->spill[s];
			if (o->stype[s * 8] == SLOT_SPILL && a->type == VT_SCALAR && a->ind_loop &&
			    a->ind_loop != skip && (c->stype[s * 8] != SLOT_SPILL || !same_tag(a, &c->spill[s])))
				return false;
		}
	}
	return true;
}

static bool loops_equal(const struct vstate *a, const struct vstate *b)
{
	if (a->nloops != b->nloops)
		return false;
	for (int i = 0; i < a->nloops; i++)
		if (a->loops[i].head != b->loops[i].head || a->loops[i].frame != b->loops[i].frame ||
		    a->loops[i].rec != b->loops[i].rec)
			return false;
	return true;
}

bool verifier_widen_covers(const struct venv *env, const struct vstate *old, const struct vstate *cur,
			   size_t idx)
{
	return vstate_covers_mode(old, cur, env->live_in, env->count, idx, env->strict, NULL) &&
	       loops_equal(old, cur) && tags_cover(old, cur, 0);
}

static void clear_reg(struct vreg *r)
{
	memset(r, 0, sizeof(*r));
	r->type = VT_NOT_INIT;
}

/* o becomes a register state containing both o and c. */
static void join_reg(const struct widen *w, struct vreg *o, const struct vreg *c, bool extreme)
{
	if (o->type == VT_NOT_INIT)
		return;
	if (o->type != c->type) {
		clear_reg(o);
		return;
	}
	if (o->type != VT_SCALAR &&
	    (o->maybe_null != c->maybe_null || o->off != c->off || o->map != c->map || o->size != c->size ||
	     o->frameno != c->frameno || o->btf_id != c->btf_id || o->id != c->id || o->ref_id != c->ref_id)) {
		clear_reg(o);
		return;
	}
	o->var = widen_scalar(w, &o->var, &c->var, extreme);
	o->precise = false;
	if (o->type == VT_SCALAR && o->id != c->id)
		o->id = 0; /* kept only where both agree, so the copies are copies in both */
	if (vreg_is_pkt(o) && c->range < o->range)
		o->range = c->range;
	if (!same_tag(o, c))
		tag(o, 0, 0, 0);
}

static int join_slot(struct venv *env, size_t idx, struct vframe *o, const struct vframe *c, int s,
		     bool extreme)
{
	uint8_t *ob = &o->stype[s * 8];
	const uint8_t *cb = &c->stype[s * 8];
	bool dynptr = false, spill = false;
	for (int b = 0; b < 8; b++) {
		dynptr |= ob[b] == SLOT_DYNPTR || cb[b] == SLOT_DYNPTR;
		spill |= ob[b] == SLOT_SPILL || cb[b] == SLOT_SPILL;
	}
	if (dynptr) {
		const struct vreg *a = &o->spill[s], *d = &c->spill[s];
		if (memcmp(ob, cb, 8) || a->size != d->size || a->off != d->off || a->id != d->id ||
		    a->ref_id != d->ref_id)
			return verifier_reject(env, NULL, idx, "the loop at insn %zu is reached with different "
					       "dynptrs at fp%d: widening cannot join them", idx,
					       s * 8 - COMB_STACK_SIZE);
		return 0;
	}
	if (spill && memcmp(ob, cb, 8) == 0) {
		join_reg(env->widen, &o->spill[s], &c->spill[s], extreme);
		if (o->spill[s].type == VT_NOT_INIT)
			memset(ob, SLOT_INVALID, 8);
		return 0;
	}
	bool o_scalar = o->spill[s].type == VT_SCALAR, c_scalar = c->spill[s].type == VT_SCALAR;
	for (int b = 0; b < 8; b++) {
		uint8_t x = ob[b], y = cb[b];
		if (x == y && x != SLOT_SPILL)
			continue;
		if (x == SLOT_INVALID || y == SLOT_INVALID || (x == SLOT_SPILL && !o_scalar) ||
		    (y == SLOT_SPILL && !c_scalar))
			ob[b] = SLOT_INVALID;
		else
			ob[b] = SLOT_MISC; /* a number in both (zero, unknown, a spilled scalar) */
	}
	return 0;
}

static int join_state(struct venv *env, struct wrec *rec, const struct vstate *st, size_t idx)
{
	struct vstate *w = rec->w;
	if (w->nrefs != st->nrefs || memcmp(w->refs, st->refs, (size_t)w->nrefs * sizeof(w->refs[0])))
		return verifier_reject(env, st, idx, "the loop at insn %zu is reached holding different "
				       "references (ring buffer records) on different paths: widening cannot "
				       "join them; release them inside the loop", idx);
	if (w->lock_held != st->lock_held ||
	    (w->lock_held && (w->lock_map != st->lock_map || w->lock_id != st->lock_id)))
		return verifier_reject(env, st, idx, "the loop at insn %zu is reached with and without a "
				       "bpf_spin_lock held: widening cannot join them", idx);
	if (!loops_equal(w, st))
		return verifier_reject(env, st, idx, "the loop at insn %zu is reached inside different "
				       "loops: widening cannot join them", idx);
	bool extreme = rec->steps >= WIDEN_THRESHOLD_STEPS;
	for (int i = 0; i < w->nframes; i++) {
		struct vframe *o = w->frames[i];
		const struct vframe *c = st->frames[i];
		uint16_t live = i == w->nframes - 1 ? env->live_in[idx] : 0x7ff;
		for (int r = 0; r < COMB_REG_COUNT; r++) {
			if (!(live & (1u << r)))
				clear_reg(&o->regs[r]);
			else
				join_reg(env->widen, &o->regs[r], &c->regs[r], extreme);
		}
		for (int s = 0; s < VSTACK_SLOTS; s++) {
			int rc = join_slot(env, idx, o, c, s, extreme);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* --- loop heads ----------------------------------------------------------- */

static struct wrec *find_record(struct venv *env, const struct vstate *st, size_t idx, int *rc)
{
	struct widen *w = env->widen;
	for (size_t i = 0; i < w->nrecs; i++) {
		struct wrec *r = &w->recs[i];
		bool same = r->head == idx && r->nframes == st->nframes;
		for (int f = 0; same && f < st->nframes; f++)
			same = r->callsites[f] == st->frames[f]->callsite;
		if (same)
			return r;
	}
	if (w->nrecs >= WIDEN_MAX_RECORDS) {
		*rc = verifier_reject(env, st, idx, "too many loops and call chains (more than %d) to widen",
				      WIDEN_MAX_RECORDS);
		return NULL;
	}
	struct wrec *r = &w->recs[w->nrecs++];
	r->head = idx;
	r->nframes = st->nframes;
	for (int f = 0; f < st->nframes; f++)
		r->callsites[f] = st->frames[f]->callsite;
	for (int l = 0; l < WIDEN_LOCS; l++)
		r->cand[l] = (struct wcandidate){ .ok_u64 = true, .ok_s64 = true, .ok_u32 = true,
						   .ok_s32 = true, .min_step = UINT16_MAX };
	return r;
}

static const struct vreg *loc_reg(const struct vframe *f, int loc)
{
	if (loc < 10)
		return &f->regs[loc];
	return slot_is_spill(f, loc - 10) ? &f->spill[loc - 10] : NULL;
}

/* Does s = head value + d prove that adding d did not wrap around, in each
 * order? (d > 0 unsigned: s >= d; the 64-bit orders only for a full relation.) */
static void no_wrap(const struct comb_scalar *s, int64_t d, bool full, bool *u64, bool *s64, bool *u32,
		    bool *s32)
{
	uint64_t e = (uint64_t)(d > 0 ? d : -d);
	if (d > 0) {
		*u64 |= full && s->umin >= e;
		*s64 |= full && s->smin >= INT64_MIN + (int64_t)e;
		*u32 |= s->u32_min >= e;
		*s32 |= s->s32_min >= INT32_MIN + (int64_t)e;
	} else {
		*u64 |= full && s->umax <= UINT64_MAX - e;
		*s64 |= full && s->smax <= INT64_MAX - (int64_t)e;
		*u32 |= s->u32_max <= UINT32_MAX - e;
		*s32 |= s->s32_max <= INT32_MAX - (int64_t)e;
	}
}

static struct vreg *loc_reg_mut(struct vframe *f, int loc)
{
	return (struct vreg *)loc_reg(f, loc);
}

/* Locations with the same full tag hold the same value: each one gets the
 * bounds all of them have (a comparison bounded one copy, e.g. a register
 * while its spilled copy was stored before the test). */
static void share_copy_bounds(struct vframe *f, uint8_t recno)
{
	for (int a = 0; a < WIDEN_LOCS; a++) {
		struct vreg *x = loc_reg_mut(f, a);
		if (!x || x->type != VT_SCALAR || x->ind_loop != recno || (x->ind_loc & 0x80))
			continue;
		for (int b = a + 1; b < WIDEN_LOCS; b++) {
			struct vreg *y = loc_reg_mut(f, b);
			if (!y || y->type != VT_SCALAR || !same_tag(x, y))
				continue;
			struct comb_scalar p = x->var, q = y->var;
			if (comb_scalar_refine(&p, &q, COMB_CLS_JMP | COMB_JMP_JEQ, true)) {
				x->var = p;
				y->var = q;
			}
		}
	}
}

/* A path came back to the head: which locations still count iterations? */
static void check_back_edge(struct wrec *rec, uint8_t recno, struct vstate *st)
{
	const struct vframe *f = st->frames[rec->nframes - 1];
	rec->back_edges++;
	share_copy_bounds(st->frames[rec->nframes - 1], recno);
	for (int l = 0; l < WIDEN_LOCS; l++) {
		struct wcandidate *c = &rec->cand[l];
		if (c->why != WHY_NONE)
			continue;
		const struct vreg *v = loc_reg(f, l);
		if (!v || v->type != VT_SCALAR || v->ind_loop != recno || (v->ind_loc & 0x7f) != l) {
			c->why = WHY_WRITTEN;
			continue;
		}
		int64_t d = v->ind_delta;
		if (d == 0) {
			c->why = WHY_ZERO;
			continue;
		}
		int8_t sign = d > 0 ? 1 : -1;
		if (c->sign && c->sign != sign) {
			c->why = WHY_SIGN;
			continue;
		}
		c->sign = sign;
		uint64_t e = (uint64_t)(d > 0 ? d : -d);
		if (e < c->min_step)
			c->min_step = (uint16_t)e;
		c->is32 |= (v->ind_loc & 0x80) != 0;
		/* Any copy of the same value (same tag) may carry the bound. */
		bool u64 = false, s64 = false, u32 = false, s32 = false;
		for (int k = 0; k < WIDEN_LOCS; k++) {
			const struct vreg *copy = loc_reg(f, k);
			if (copy && copy->type == VT_SCALAR && copy->ind_loop == recno &&
			    (copy->ind_loc & 0x7f) == l && copy->ind_delta == d)
				no_wrap(&copy->var, d, !(copy->ind_loc & 0x80), &u64, &s64, &u32, &s32);
		}
		/* the 64-bit orders need the location itself to follow its whole value */
		bool full = !(v->ind_loc & 0x80);
		c->ok_u64 &= u64 && full;
		c->ok_s64 &= s64 && full;
		c->ok_u32 &= u32;
		c->ok_s32 &= s32;
	}
}

static void strip_record_tags(struct vstate *st, uint8_t recno)
{
	for (int i = 0; i < st->nframes; i++) {
		struct vframe *f = st->frames[i];
		for (int r = 0; r < COMB_REG_COUNT; r++)
			if (f->regs[r].ind_loop == recno)
				tag(&f->regs[r], 0, 0, 0);
		for (int s = 0; s < VSTACK_SLOTS; s++)
			if (f->spill[s].ind_loop == recno)
				tag(&f->spill[s], 0, 0, 0);
	}
}

static bool rec_active(const struct vstate *st, uint8_t recno)
{
	for (int i = 0; i < st->nloops; i++)
		if (st->loops[i].rec + 1 == recno)
			return true;
	return false;
}

/* The path leaves the head inside the loop: tag the head's values. */
static int leave_head(struct venv *env, struct vstate *st, size_t idx, uint8_t recno)
{
	if (st->nloops >= VMAX_LOOPS)
		return verifier_reject(env, st, idx, "loops nested more than %d deep cannot be widened", VMAX_LOOPS);
	strip_record_tags(st, recno);
	st->loops[st->nloops++] = (struct vloop_active){ .head = (uint32_t)idx,
							 .frame = (uint8_t)(st->nframes - 1),
							 .rec = (uint8_t)(recno - 1) };
	struct vframe *f = vstate_cur(st);
	for (int l = 0; l < WIDEN_LOCS; l++) {
		struct vreg *v = l < 10 ? &f->regs[l] : slot_is_spill(f, l - 10) ? &f->spill[l - 10] : NULL;
		if (v && v->type == VT_SCALAR && !(v->ind_loop && rec_active(st, v->ind_loop)))
			tag(v, recno, (uint8_t)l, 0);
	}
	return 0;
}

/* Make st the record's joined state (keeping the path's own bookkeeping). */
static void assign_state(struct vstate *st, const struct vstate *w)
{
	for (int i = 0; i < st->nframes; i++) {
		uint64_t written = st->frames[i]->stack_written;
		memcpy(st->frames[i], w->frames[i], sizeof(struct vframe));
		st->frames[i]->stack_written = written;
	}
}

int verifier_widen_at_head(struct venv *env, struct vstate *st, size_t idx)
{
	struct widen *w = env->widen;
	int f = st->nframes - 1, rc = 0;
	struct wrec *rec;
	if (w->head_no[idx] < 0)
		return 0;
	if (st->nloops > 0 && st->loops[st->nloops - 1].head == idx && st->loops[st->nloops - 1].frame == f) {
		rec = &w->recs[st->loops[st->nloops - 1].rec];
		st->nloops--;
		check_back_edge(rec, (uint8_t)(rec - w->recs + 1), st);
	} else if (!(rec = find_record(env, st, idx, &rc))) {
		return rc;
	}
	uint8_t recno = (uint8_t)(rec - w->recs + 1);
	if (!rec->w) {
		if (!(rec->w = vstate_clone(st)))
			return -ENOMEM;
		free(rec->w->hist);
		rec->w->hist = NULL;
		rec->w->nhist = rec->w->cap_hist = 0;
		strip_record_tags(rec->w, recno);
		return leave_head(env, st, idx, recno);
	}
	if (vstate_covers_mode(rec->w, st, env->live_in, env->count, idx, env->strict, NULL) &&
	    loops_equal(rec->w, st) && tags_cover(rec->w, st, recno))
		return 1;
	if (++rec->steps > WIDEN_MAX_STEPS)
		return verifier_reject(env, st, idx, "the loop at insn %zu found no stable state after %d "
				       "widenings", idx, WIDEN_MAX_STEPS);
	if ((rc = join_state(env, rec, st, idx)))
		return rc;
	strip_record_tags(rec->w, recno);
	assign_state(st, rec->w);
	if (env->log_level >= 2) {
		verifier_log(env, "insn %zu: loop head widened (step %d):", idx, rec->steps);
		verifier_log_state(env, st);
	}
	return leave_head(env, st, idx, recno);
}

/* --- termination ---------------------------------------------------------- */

static void loc_name(char *buf, size_t len, int l)
{
	if (l < 10)
		snprintf(buf, len, "r%d", l);
	else
		snprintf(buf, len, "fp%d", (l - 10) * 8 - COMB_STACK_SIZE);
}

/* Iterations a candidate allows, from W's range of it in the best order
 * (saturated at UINT64_MAX); false when no order works. */
static bool iterations(const struct wrec *rec, int l, const char **order, uint64_t *n)
{
	const struct wcandidate *c = &rec->cand[l];
	const struct vreg *v = loc_reg(rec->w->frames[rec->nframes - 1], l);
	if (!v || v->type != VT_SCALAR || c->why != WHY_NONE || !c->sign)
		return false;
	const struct comb_scalar *s = &v->var;
	const struct {
		bool ok;
		uint64_t span;
		const char *name;
	} orders[] = {
		{ c->ok_u64, s->umax - s->umin, "unsigned" },
		{ c->ok_s64, (uint64_t)s->smax - (uint64_t)s->smin, "signed" },
		{ c->ok_u32, (uint64_t)s->u32_max - s->u32_min, "unsigned 32-bit" },
		{ c->ok_s32, (uint64_t)((int64_t)s->s32_max - s->s32_min), "signed 32-bit" },
	};
	bool found = false;
	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		if (!orders[i].ok)
			continue;
		uint64_t k = orders[i].span / c->min_step;
		k = k == UINT64_MAX ? k : k + 1;
		if (!found || k < *n) {
			*n = k;
			*order = orders[i].name;
			found = true;
		}
	}
	return found;
}

static int refuse_loop(struct venv *env, const struct wrec *rec)
{
	char name[16];
	int wrap = -1, zero = -1, sign = -1;
	uint64_t many = UINT64_MAX;
	int many_loc = -1;
	for (int l = 0; l < WIDEN_LOCS; l++) {
		const struct wcandidate *c = &rec->cand[l];
		const char *order = NULL;
		uint64_t n = 0;
		if (iterations(rec, l, &order, &n) && (many_loc < 0 || n < many)) {
			many = n;
			many_loc = l;
		} else if (c->why == WHY_NONE && c->sign && wrap < 0) {
			wrap = l;
		} else if (c->why == WHY_ZERO && zero < 0) {
			zero = l;
		} else if (c->why == WHY_SIGN && sign < 0) {
			sign = l;
		}
	}
	const char *why;
	char text[200];
	if (many_loc >= 0) {
		loc_name(name, sizeof(name), many_loc);
		snprintf(text, sizeof(text), "its counter %s allows up to %llu iterations, more than the %llu "
			 "allowed: compare the counter with a smaller constant bound", name,
			 (unsigned long long)many, (unsigned long long)WIDEN_MAX_ITERATIONS);
		why = text;
	} else if (wrap >= 0) {
		loc_name(name, sizeof(name), wrap);
		snprintf(text, sizeof(text), "%s changes by a constant on every iteration but nothing bounds it "
			 "on every path back to insn %zu, so it may wrap around: compare it with a constant "
			 "on every path", name, rec->head);
		why = text;
	} else if (zero >= 0) {
		loc_name(name, sizeof(name), zero);
		snprintf(text, sizeof(text), "%s does not change on some path back to insn %zu (step 0), "
			 "and no other register or stack slot counts the iterations", name, rec->head);
		why = text;
	} else if (sign >= 0) {
		loc_name(name, sizeof(name), sign);
		snprintf(text, sizeof(text), "%s grows on one path back to insn %zu and shrinks on another",
			 name, rec->head);
		why = text;
	} else {
		snprintf(text, sizeof(text), "no register or stack slot changes by a constant step of the same "
			 "sign on every path back to insn %zu (a counter reset, or written otherwise, on some "
			 "path?)", rec->head);
		why = text;
	}
	verifier_reject(env, NULL, rec->head, "the loop at insn %zu could not be proven to end: %s; "
			"unrolled, the program is too complex (more than %llu instructions explored)",
			rec->head, why, (unsigned long long)env->max_insns);
	return -E2BIG;
}

int verifier_widen_finish(struct venv *env)
{
	struct widen *w = env->widen;
	for (size_t i = 0; i < w->nrecs; i++) {
		const struct wrec *rec = &w->recs[i];
		if (!rec->back_edges)
			continue;
		int best = -1;
		uint64_t n = UINT64_MAX;
		const char *order = NULL, *best_order = NULL;
		for (int l = 0; l < WIDEN_LOCS; l++) {
			uint64_t k = 0;
			if (iterations(rec, l, &order, &k) && (best < 0 || k < n)) {
				n = k;
				best = l;
				best_order = order;
			}
		}
		if (best < 0 || n > WIDEN_MAX_ITERATIONS)
			return refuse_loop(env, rec);
		if (env->log_level >= 1) {
			char name[16];
			loc_name(name, sizeof(name), best);
			verifier_log(env, "loop at insn %zu: ends within %llu iterations (%s %s by %s%u or more "
				     "each time, %s)\n", rec->head, (unsigned long long)n, name,
				     rec->cand[best].sign > 0 ? "grows" : "shrinks", "", rec->cand[best].min_step,
				     best_order);
		}
	}
	return 0;
}
