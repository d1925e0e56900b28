/* src/verifier/dynptr.c - dynptrs as stack-slot state, as the kernel tracks them.
 *
 * A struct bpf_dynptr is 16 stack bytes (two 8-byte slots, aligned) that
 * only dynptr helpers may touch: its bytes are SLOT_DYNPTR and the spill
 * record of each slot says which dynptr it is (struct vreg reused: size =
 * kind, id = the dynptr's id, ref_id = its reference, off = 0 for the first
 * slot and 1 for the second). bpf_dynptr_from_mem (a map value's memory)
 * and bpf_ringbuf_reserve_dynptr create one; the ring buffer kind holds a
 * reference, acquired even when the reservation fails, that submit_dynptr
 * or discard_dynptr must release on every path. Every other dynptr
 * argument must be an initialized one, or the read-only dynptr a
 * bpf_user_ringbuf_drain callback gets (VT_CONST_DYNPTR: it cannot be
 * released or re-created). Loads may not read a dynptr's bytes and helpers
 * may not write them; a store over a local dynptr destroys it (a ring
 * buffer one may not be overwritten). bpf_dynptr_data returns a slice
 * (VT_MEM that may be NULL, src_helper = bpf_dynptr_data, map = the
 * dynptr's id): it dies with the dynptr.
 */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>

#include "verifier/helper_protos.h"
#include "verifier/internal.h"

#define DYNPTR_BYTES 16

static const char *kind_name(uint32_t kind)
{
	return kind == VDYNPTR_RINGBUF ? "ring buffer dynptr" : "dynptr";
}

/* The first slot of the dynptr covering slot s of f, or -1. */
static int dynptr_first_slot(const struct vframe *f, int s)
{
	if (s < 0 || s >= VSTACK_SLOTS || f->stype[s * 8] != SLOT_DYNPTR)
		return -1;
	return f->spill[s].off == 0 ? s : s - 1;
}

struct slice_kill {
	uint32_t dynptr_id;
	bool strict;
};

static void kill_slice(struct vreg *r, void *arg)
{
	const struct slice_kill *k = arg;
	if (r->type == VT_MEM && r->src_helper == BPF_FUNC_dynptr_data && r->map == k->dynptr_id) {
		*r = vreg_unknown();
		if (k->strict)
			r->type = VT_NOT_INIT;
	}
}

/* Forget the dynptr whose first slot is s (its slots become never
 * written) and every slice taken from it. */
static void dynptr_destroy(struct venv *env, struct vstate *st, struct vframe *f, int s)
{
	struct slice_kill k = { .dynptr_id = f->spill[s].id, .strict = env->strict };
	memset(&f->stype[s * 8], SLOT_INVALID, DYNPTR_BYTES);
	f->spill[s] = vreg_unknown();
	f->spill[s + 1] = vreg_unknown();
	vstate_for_each_reg(st, kill_slice, &k);
}

int verifier_dynptr_stack_write(struct venv *env, struct vstate *st, size_t idx, int frameno,
				int64_t lo, int64_t hi, bool exact, bool by_helper)
{
	struct vframe *f = st->frames[frameno];
	for (int64_t b = lo; b < hi; b++) {
		int i = vstack_index((int32_t)b);
		if (i < 0 || i >= COMB_STACK_SIZE || f->stype[i] != SLOT_DYNPTR)
			continue;
		int s = dynptr_first_slot(f, i / 8);
		int at = s * 8 - COMB_STACK_SIZE;
		if (by_helper)
			return verifier_reject(env, st, idx, "a helper would write over the dynptr at fp%d: a "
					       "dynptr's bytes may only change through the dynptr helpers; "
					       "pass another buffer", at);
		if (f->spill[s].ref_id)
			return verifier_reject(env, st, idx, "overwrites the %s at fp%d, which holds a ring "
					       "buffer reservation: submit or discard it first",
					       kind_name(f->spill[s].size), at);
		if (!exact)
			return verifier_reject(env, st, idx, "a store at a variable stack offset may overwrite "
					       "the dynptr at fp%d", at);
		dynptr_destroy(env, st, f, s);
	}
	return 0;
}

/* r points at 16 stack bytes on an 8-byte boundary: their first slot. */
static int dynptr_stack_slot(struct venv *env, const struct vstate *st, size_t idx, const char *name,
			     int regno, const struct vreg *r, int *slot)
{
	int64_t lo = r->off + (int64_t)r->var.umin;
	if (!comb_scalar_is_const(&r->var))
		return verifier_reject(env, st, idx, "%s: the dynptr in r%d must be at a constant stack "
				       "offset", name, regno);
	if (lo % 8 != 0 || lo < -COMB_STACK_SIZE || lo + DYNPTR_BYTES > 0)
		return verifier_reject(env, st, idx, "%s: r%d points to fp%lld, which cannot hold a dynptr: "
				       "a struct bpf_dynptr takes 16 stack bytes on an 8-byte boundary "
				       "(declare it as a local variable)", name, regno, (long long)lo);
	*slot = vstack_index((int32_t)lo) / 8;
	return 0;
}

int verifier_dynptr_arg(struct venv *env, struct vstate *st, size_t idx, int regno,
			const struct comb_helper_proto *p, uint8_t flags, struct vdynptr_meta *m)
{
	const struct vreg *r = &vstate_cur(st)->regs[regno];
	bool uninit = flags & COMB_ARG_F_UNINIT, release = flags & COMB_ARG_F_RELEASE;
	if (r->type == VT_CONST_DYNPTR) {
		if (uninit)
			return verifier_reject(env, st, idx, "%s: r%d is the read-only dynptr the kernel handed "
					       "the callback: it cannot be made into a new dynptr; declare a "
					       "struct bpf_dynptr on the stack", p->name, regno);
		if (release)
			return verifier_reject(env, st, idx, "%s: r%d is the dynptr the kernel handed the callback: "
					       "the kernel owns it, it cannot be submitted or discarded",
					       p->name, regno);
		m->id = r->id;
		m->kind = VDYNPTR_LOCAL;
		return 0;
	}
	if (r->type != VT_STACK)
		return verifier_reject(env, st, idx, "%s: r%d must point to a struct bpf_dynptr on the "
				       "stack, not %s", p->name, regno, verifier_type_name(r->type));
	int s = 0, rc;
	if ((rc = dynptr_stack_slot(env, st, idx, p->name, regno, r, &s)))
		return rc;
	struct vframe *f = st->frames[r->frameno];
	int64_t lo = s * 8 - COMB_STACK_SIZE;
	m->frameno = r->frameno;
	m->slot = s;
	if (uninit) {
		/* created by this call (marked by verifier_dynptr_after_call) */
		m->create = true;
		return verifier_dynptr_stack_write(env, st, idx, r->frameno, lo, lo + DYNPTR_BYTES, true, false);
	}
	verifier_stack_note_read(env, st, r->frameno, lo, lo + DYNPTR_BYTES);
	if (f->stype[s * 8] != SLOT_DYNPTR || f->spill[s].off != 0 || f->stype[s * 8 + 8] != SLOT_DYNPTR ||
	    f->spill[s + 1].off != 1 || f->spill[s + 1].id != f->spill[s].id)
		return verifier_reject(env, st, idx, "%s: r%d (fp%lld) is not an initialized dynptr on this "
				       "path: create it with bpf_dynptr_from_mem or bpf_ringbuf_reserve_dynptr "
				       "first (and do not use it after submit, discard or an overwrite)",
				       p->name, regno, (long long)lo);
	m->id = f->spill[s].id;
	m->kind = f->spill[s].size;
	m->ref_id = f->spill[s].ref_id;
	if (release && m->kind != VDYNPTR_RINGBUF)
		return verifier_reject(env, st, idx, "%s: r%d is a dynptr over map memory, not a ring buffer "
				       "reservation: only bpf_ringbuf_reserve_dynptr's dynptrs are submitted "
				       "or discarded", p->name, regno);
	m->release = release;
	return 0;
}

int verifier_dynptr_after_call(struct venv *env, struct vstate *st, size_t idx,
			       const struct comb_helper_proto *p, const struct vdynptr_meta *m)
{
	if (p->id == BPF_FUNC_dynptr_from_mem && vstate_cur(st)->regs[1].type != VT_MAP_VALUE)
		return verifier_reject(env, st, idx, "bpf_dynptr_from_mem: the data (r1) must be a map value "
				       "(as the kernel requires), not %s: look up a map value to hold the "
				       "buffer", verifier_type_name(vstate_cur(st)->regs[1].type));
	if (m->frameno < 0)
		return 0;
	struct vframe *f = st->frames[m->frameno];
	if (m->release) {
		dynptr_destroy(env, st, f, m->slot);
		return 0;
	}
	if (!m->create)
		return 0;
	struct vreg d = vreg_unknown();
	d.type = VT_NOT_INIT;
	d.size = p->id == BPF_FUNC_ringbuf_reserve_dynptr ? VDYNPTR_RINGBUF : VDYNPTR_LOCAL;
	d.id = verifier_new_id(env);
	if (d.size == VDYNPTR_RINGBUF) {
		/* acquired even if the reservation fails: it must be discarded */
		if (st->nrefs >= VMAX_REFS)
			return verifier_reject(env, st, idx, "more than %d references held at once", VMAX_REFS);
		d.ref_id = verifier_new_id(env);
		st->refs[st->nrefs++] = d.ref_id;
	}
	int64_t lo = m->slot * 8 - COMB_STACK_SIZE;
	struct vreg at = { .type = VT_STACK, .frameno = (uint8_t)m->frameno, .off = (int32_t)lo,
			   .var = comb_scalar_const(0) };
	verifier_stack_mark_written(env, st, &at, 0, DYNPTR_BYTES);
	memset(&f->stype[m->slot * 8], SLOT_DYNPTR, DYNPTR_BYTES);
	f->spill[m->slot] = d;
	d.off = 1;
	f->spill[m->slot + 1] = d;
	return 0;
}

int verifier_dynptr_leak_message(struct venv *env, const struct vstate *st, size_t idx)
{
	for (int fr = 0; fr < st->nframes; fr++) {
		const struct vframe *f = st->frames[fr];
		for (int s = 0; s < VSTACK_SLOTS; s++)
			if (f->stype[s * 8] == SLOT_DYNPTR && f->spill[s].off == 0 && f->spill[s].ref_id)
				return verifier_reject(env, st, idx, "the ring buffer dynptr at fp%d is never "
						       "submitted or discarded on this path: call "
						       "bpf_ringbuf_submit_dynptr or bpf_ringbuf_discard_dynptr on "
						       "every path, also when bpf_ringbuf_reserve_dynptr failed",
						       s * 8 - COMB_STACK_SIZE);
	}
	return 0;
}
