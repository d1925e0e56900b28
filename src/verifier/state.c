/* src/verifier/state.c - register, stack and whole-state operations.
 *
 * States are copied at every branch and kept at pruning points, so a state
 * owns its frames individually (only the frames in use are allocated).
 * vstate_covers is the pruning test: it compares live registers and all
 * stack bytes, mapping the ids of the old state onto those of the new one
 * (two copies of one NULL-able pointer in the old state must be copies in
 * the new one too, or a NULL test that settled both would not settle both).
 * vstate_covers_precise admits any scalar where the old one is not precise
 * (ids included: a comparison that bounded copies made its operands precise,
 * and precise scalars keep the id check). Each state carries the history of
 * its path since the last checkpoint (copied with it) for backtracking.
 */
#include <stdlib.h>
#include <string.h>

#include "verifier/state.h"

struct vreg vreg_scalar(struct comb_scalar s)
{
	struct vreg r;
	memset(&r, 0, sizeof(r));
	r.type = VT_SCALAR;
	r.var = s;
	return r;
}

struct vreg vreg_unknown(void)
{
	return vreg_scalar(comb_scalar_unknown());
}

struct vreg vreg_const(uint64_t v)
{
	return vreg_scalar(comb_scalar_const(v));
}

bool vreg_is_ptr(const struct vreg *r)
{
	return r->type != VT_NOT_INIT && r->type != VT_SCALAR;
}

bool vreg_is_pkt(const struct vreg *r)
{
	return r->type == VT_PKT || r->type == VT_PKT_META;
}

static struct vframe *frame_new(int32_t callsite, int32_t subprog, uint8_t frameno)
{
	struct vframe *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->callsite = callsite;
	f->subprog = subprog;
	f->regs[10].type = VT_STACK;
	f->regs[10].frameno = frameno;
	f->regs[10].var = comb_scalar_const(0);
	f->stack_written = ~UINT64_C(0); /* a new activation: nothing before it is read */
	for (int i = 0; i < COMB_REG_COUNT - 1; i++)
		f->regs[i].var = comb_scalar_const(0);
	return f;
}

struct vstate *vstate_new_entry(void)
{
	struct vstate *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->frames[0] = frame_new(-1, 0, 0);
	if (!s->frames[0]) {
		free(s);
		return NULL;
	}
	s->nframes = 1;
	return s;
}

struct vframe *vstate_push_frame(struct vstate *s, int32_t callsite, int32_t subprog)
{
	if (s->nframes >= COMB_MAX_FRAMES)
		return NULL;
	struct vframe *f = frame_new(callsite, subprog, (uint8_t)s->nframes);
	if (!f)
		return NULL;
	s->frames[s->nframes++] = f;
	return f;
}

void vstate_pop_frame(struct vstate *s)
{
	free(s->frames[--s->nframes]);
	s->frames[s->nframes] = NULL;
}

/* Copy a frame, its stack only from the lowest slot in use: most programs
 * use a small part of the 512 bytes, and states are copied at every branch.
 * Spill records of slots that are not SLOT_SPILL are never read. */
static void frame_copy(struct vframe *dst, const struct vframe *src)
{
	int low = 0;
	while (low < VSTACK_SLOTS) {
		uint64_t word;
		memcpy(&word, &src->stype[low * 8], 8);
		if (word)
			break;
		low++;
	}
	memcpy(dst->regs, src->regs, sizeof(src->regs));
	memset(dst->stype, SLOT_INVALID, (size_t)low * 8);
	memcpy(&dst->stype[low * 8], &src->stype[low * 8], (size_t)(VSTACK_SLOTS - low) * 8);
	memcpy(&dst->spill[low], &src->spill[low], (size_t)(VSTACK_SLOTS - low) * sizeof(src->spill[0]));
	dst->callsite = src->callsite;
	dst->subprog = src->subprog;
	dst->callback = src->callback;
	dst->stack_written = src->stack_written;
}

struct vstate *vstate_clone(const struct vstate *s)
{
	struct vstate *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	*c = *s;
	c->hist = NULL;
	c->cap_hist = 0;
	if (s->nhist) {
		c->hist = malloc(s->nhist * sizeof(*c->hist));
		if (!c->hist) {
			c->nframes = 0;
			vstate_free(c);
			return NULL;
		}
		memcpy(c->hist, s->hist, s->nhist * sizeof(*c->hist));
		c->cap_hist = s->nhist;
	}
	for (int i = 0; i < s->nframes; i++) {
		c->frames[i] = malloc(sizeof(struct vframe));
		if (!c->frames[i]) {
			c->nframes = i;
			vstate_free(c);
			return NULL;
		}
		frame_copy(c->frames[i], s->frames[i]);
	}
	return c;
}

void vstate_free(struct vstate *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nframes; i++)
		free(s->frames[i]);
	free(s->hist);
	free(s);
}

int vstate_hist_push(struct vstate *s, size_t idx, int frame)
{
	if (s->hist_lost || s->nhist >= VHIST_LIMIT) {
		s->hist_lost = true;
		s->nhist = 0;
		return 0;
	}
	if (s->nhist == s->cap_hist) {
		uint32_t cap = s->cap_hist ? s->cap_hist * 2 : 16;
		struct vhist *grown = realloc(s->hist, cap * sizeof(*grown));
		if (!grown)
			return -1;
		s->hist = grown;
		s->cap_hist = cap;
	}
	struct vhist *h = &s->hist[s->nhist++];
	memset(h, 0, sizeof(*h));
	h->idx = (uint32_t)idx;
	h->frame = (uint8_t)frame;
	return 0;
}

void vstate_for_each_reg(struct vstate *s, void (*fn)(struct vreg *r, void *arg), void *arg)
{
	for (int i = 0; i < s->nframes; i++) {
		struct vframe *f = s->frames[i];
		for (int r = 0; r < COMB_REG_COUNT; r++)
			fn(&f->regs[r], arg);
		for (int k = 0; k < VSTACK_SLOTS; k++)
			if (f->stype[k * 8] == SLOT_SPILL)
				fn(&f->spill[k], arg);
	}
}

/* --- pruning ------------------------------------------------------------ */

#define IDMAP_SIZE 64

struct idmap {
	uint32_t old_id[IDMAP_SIZE], cur_id[IDMAP_SIZE];
	int n;
	bool use_precision; /* imprecise old scalars admit any scalar */
	bool all_precise;   /* ... unless old is all_precise */
};

/* Old id a must always correspond to the same cur id b, and vice versa. */
static bool ids_match(struct idmap *m, uint32_t a, uint32_t b)
{
	if (a == 0 && b == 0)
		return true;
	if (a == 0 || b == 0)
		return false;
	for (int i = 0; i < m->n; i++) {
		if (m->old_id[i] == a)
			return m->cur_id[i] == b;
		if (m->cur_id[i] == b)
			return false;
	}
	if (m->n == IDMAP_SIZE)
		return false;
	m->old_id[m->n] = a;
	m->cur_id[m->n++] = b;
	return true;
}

static bool reg_covers(const struct vreg *o, const struct vreg *c, struct idmap *ids)
{
	if (o->type == VT_NOT_INIT)
		return true;
	if (o->type != c->type)
		return false;
	if (o->type == VT_SCALAR && ids->use_precision && !o->precise && !ids->all_precise)
		return true; /* no continuation of old depended on its value */
	if (o->type == VT_SCALAR)
		return comb_scalar_subsumes(&o->var, &c->var) && (o->id == 0 || ids_match(ids, o->id, c->id));
	if (o->maybe_null != c->maybe_null || o->off != c->off || o->map != c->map ||
	    o->size != c->size || o->frameno != c->frameno || o->btf_id != c->btf_id)
		return false;
	if (!comb_scalar_subsumes(&o->var, &c->var))
		return false;
	if (vreg_is_pkt(o) && o->range > c->range)
		return false;
	if ((o->id || c->id) && !ids_match(ids, o->id, c->id))
		return false;
	if ((o->ref_id || c->ref_id) && !ids_match(ids, o->ref_id | 0x80000000u, c->ref_id | 0x80000000u))
		return false;
	return true;
}

/* An 8-byte slot whose bytes are all one kind: SLOT_x * this. */
#define SLOT_BYTES_ALL UINT64_C(0x0101010101010101)

static bool stack_covers(const struct vframe *o, const struct vframe *c, struct idmap *ids,
			 bool strict, uint64_t read)
{
	for (int i = 0; i < COMB_STACK_SIZE; i++) {
		if (i % 8 == 0 && !(read & (UINT64_C(1) << (i / 8)))) {
			i += 7; /* no continuation of old reads it */
			continue;
		}
		if (i % 8 == 0 && o->stype[i] == SLOT_DYNPTR) {
			/* the same dynptr (kind, half, id and reference) in both */
			const struct vreg *od = &o->spill[i / 8], *cd = &c->spill[i / 8];
			if (c->stype[i] != SLOT_DYNPTR || od->size != cd->size || od->off != cd->off ||
			    !ids_match(ids, od->id, cd->id) ||
			    ((od->ref_id || cd->ref_id) &&
			     !ids_match(ids, od->ref_id | 0x80000000u, cd->ref_id | 0x80000000u)))
				return false;
			i += 7;
			continue;
		}
		if (i % 8 == 0 && c->stype[i] == SLOT_DYNPTR && o->stype[i] != SLOT_INVALID) {
			/* old had data here, cur a dynptr whose bytes are unreadable */
			return false;
		}
		if (i % 8 == 0) {
			/* fast path, a slot at a time: never written in old (any
			 * value admitted), or the same non-spill kinds in both */
			uint64_t os, cs;
			memcpy(&os, &o->stype[i], 8);
			memcpy(&cs, &c->stype[i], 8);
			if (os == 0 || (os == cs && o->stype[i] != SLOT_SPILL)) {
				i += 7;
				continue;
			}
		}
		uint8_t ot = o->stype[i], ct = c->stype[i];
		if (ot == SLOT_INVALID)
			continue;
		if (ot == SLOT_SPILL) {
			if (ct != SLOT_SPILL)
				return false;
			if (i % 8 == 0 && !reg_covers(&o->spill[i / 8], &c->spill[i / 8], ids))
				return false;
			continue;
		}
		if (ot == SLOT_ZERO && ct != SLOT_ZERO)
			return false;
		if (ot == SLOT_MISC) {
			if (ct == SLOT_INVALID && strict)
				return false;
			if (ct == SLOT_SPILL && c->spill[i / 8].type != VT_SCALAR)
				return false;
		}
	}
	return true;
}

static bool frame_covers(const struct vframe *o, const struct vframe *c, uint16_t live,
			 struct idmap *ids, bool strict, uint64_t read)
{
	if (o->callsite != c->callsite || o->subprog != c->subprog || o->callback != c->callback)
		return false;
	for (int r = 0; r < COMB_REG_COUNT; r++)
		if ((live & (1u << r)) && !reg_covers(&o->regs[r], &c->regs[r], ids))
			return false;
	return stack_covers(o, c, ids, strict, read);
}

static bool covers(const struct vstate *old, const struct vstate *cur, const uint16_t *live_in,
		   size_t count, size_t idx, bool strict, const uint64_t *stack_read, bool use_precision)
{
	if (old->nframes != cur->nframes || old->nrefs != cur->nrefs || old->lock_held != cur->lock_held)
		return false;
	struct idmap ids = { .n = 0, .use_precision = use_precision, .all_precise = old->all_precise };
	if (old->lock_held && (old->lock_map != cur->lock_map || !ids_match(&ids, old->lock_id, cur->lock_id)))
		return false;
	for (int i = old->nframes - 1; i >= 0; i--) {
		uint16_t live = 0x7ff;
		if (i == old->nframes - 1)
			live = idx < count ? live_in[idx] : 0x7ff;
		else {
			size_t ret = (size_t)old->frames[i + 1]->callsite + 1;
			live = ret < count ? (uint16_t)(live_in[ret] & 0x3c0) : 0x7ff;
		}
		if (!frame_covers(old->frames[i], cur->frames[i], live, &ids, strict,
				  stack_read ? stack_read[i] : ~UINT64_C(0)))
			return false;
	}
	for (int i = 0; i < old->nrefs; i++)
		if (!ids_match(&ids, old->refs[i] | 0x80000000u, cur->refs[i] | 0x80000000u))
			return false;
	return true;
}

bool vstate_covers_mode(const struct vstate *old, const struct vstate *cur, const uint16_t *live_in,
			size_t count, size_t idx, bool strict, const uint64_t *stack_read)
{
	return covers(old, cur, live_in, count, idx, strict, stack_read, false);
}

bool vstate_covers_precise(const struct vstate *old, const struct vstate *cur, const uint16_t *live_in,
			   size_t count, size_t idx, bool strict, const uint64_t *stack_read)
{
	return covers(old, cur, live_in, count, idx, strict, stack_read, true);
}

bool vstate_covers(const struct vstate *old, const struct vstate *cur, const uint16_t *live_in,
		   size_t count, size_t idx)
{
	return vstate_covers_mode(old, cur, live_in, count, idx, false, NULL);
}
