/* src/verifier/check_call.c - helper calls, bpf-to-bpf calls and exits.
 *
 * A helper call is checked argument by argument against its prototype
 * (helper_protos.h): maps, keys and values of that map's sizes, memory
 * followed by its size (in bounds for the largest size, initialized unless
 * the helper writes it), the context, references to release. Then r1-r5
 * are clobbered and r0 gets the prototype's return kind (a map value that
 * may be NULL gets a fresh id so one test settles every copy; acquired
 * references are listed in the state until released).
 *
 * A callback (bpf_loop, bpf_for_each_map_elem...) is explored as a separate
 * path: a new frame at the callback with the arguments the helper passes,
 * ending at its exit. The caller's stack the callback may write through its
 * context argument loses what it knew about numbers there.
 *
 * bpf-to-bpf calls push a frame (at most 8); exit pops it, or at the
 * program's end checks r0 and that every reference was released.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>

#include "verifier/helper_protos.h"
#include "verifier/internal.h"

enum {
	HELPER_TAIL_CALL = 12, HELPER_PERF_EVENT_OUTPUT = 25, HELPER_FOR_EACH_MAP_ELEM = 164,
	HELPER_LOOP = 181, HELPER_RINGBUF_OUTPUT = 130, HELPER_RINGBUF_RESERVE = 131,
	HELPER_RINGBUF_QUERY = 134,
};

struct call_meta {
	const struct comb_helper_proto *proto;
	int map;                /* index of the map argument, -1 if none */
	struct comb_map_info map_info;
	int mem_arg;            /* register of the pending memory argument, 0 if none */
	uint8_t mem_flags;
	bool mem_null;
	uint64_t alloc_size;
	int callback_reg;       /* register holding the callback, 0 if none */
	uint32_t release_ref;
	int stack_arg_frame;    /* a stack pointer argument's frame, -1 if none */
	struct vreg key;        /* the map key argument as passed */
	struct vdynptr_meta dyn;
};

static struct vreg *reg(struct vstate *st, int r)
{
	return &vstate_cur(st)->regs[r];
}

static bool is_null_const(const struct vreg *r)
{
	return r->type == VT_SCALAR && comb_scalar_is_const(&r->var) && r->var.umin == 0;
}

/* An argument that may be NULL and is: the check skipped depends on the 0. */
static bool null_arg(struct venv *env, const struct vstate *st, int regno)
{
	if (!is_null_const(&vstate_cur((struct vstate *)st)->regs[regno]))
		return false;
	verifier_mark_precise(env, st, regno);
	return true;
}

static int check_map_compat(struct venv *env, struct vstate *st, size_t idx, struct call_meta *m)
{
	uint32_t t = m->map_info.type, id = m->proto->id;
	const char *need = NULL;
	if ((id == HELPER_RINGBUF_OUTPUT || id == HELPER_RINGBUF_RESERVE || id == HELPER_RINGBUF_QUERY) &&
	    t != BPF_MAP_TYPE_RINGBUF)
		need = "a ringbuf map";
	else if (id == BPF_FUNC_ringbuf_reserve_dynptr && t != BPF_MAP_TYPE_RINGBUF)
		need = "a ringbuf map";
	else if (id == BPF_FUNC_user_ringbuf_drain && t != BPF_MAP_TYPE_USER_RINGBUF)
		need = "a user_ringbuf map";
	else if (id == HELPER_PERF_EVENT_OUTPUT && t != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		need = "a perf_event_array map";
	else if (id == HELPER_TAIL_CALL && t != BPF_MAP_TYPE_PROG_ARRAY)
		need = "a prog_array map";
	else if (id >= 1 && id <= 3 &&
		 (t == BPF_MAP_TYPE_RINGBUF || t == BPF_MAP_TYPE_PERF_EVENT_ARRAY ||
		  (t == BPF_MAP_TYPE_PROG_ARRAY && id != 3) || t == BPF_MAP_TYPE_USER_RINGBUF))
		need = "a map that holds values (array, hash, ...)";
	if (!need)
		return 0;
	return verifier_reject(env, st, idx, "%s needs %s, but map %s is of type %u", m->proto->name,
			       need, m->map_info.name ? m->map_info.name : "?", t);
}

static int check_size_arg(struct venv *env, struct vstate *st, size_t idx, int regno,
			  const struct comb_helper_arg_proto *ap, struct call_meta *m)
{
	const char *name = m->proto->name;
	struct vreg *r = reg(st, regno);
	if (r->type != VT_SCALAR)
		return verifier_reject(env, st, idx, "%s: argument %d (r%d) is a size and must be a number",
				       name, regno, regno);
	if (r->var.smin < 0)
		return verifier_reject(env, st, idx, "%s: the size in r%d may be negative: bound it, e.g. "
				       "`if (len > sizeof(buf)) return 0;`", name, regno);
	if (r->var.umin == 0 && ap->kind == COMB_ARG_CONST_SIZE)
		return verifier_reject(env, st, idx, "%s: the size in r%d may be 0, which this helper "
				       "refuses: check it is at least 1", name, regno);
	if (r->var.umax > (1u << 29))
		return verifier_reject(env, st, idx, "%s: the size in r%d is unbounded: check it against "
				       "the buffer size before the call", name, regno);
	verifier_mark_precise(env, st, regno); /* the bytes checked depend on it */
	if (!m->mem_arg)
		return 0;
	int mem = m->mem_arg;
	m->mem_arg = 0;
	if (m->mem_null && r->var.umax == 0)
		return 0;
	if (m->mem_null)
		return verifier_reject(env, st, idx, "%s: r%d is NULL but the size in r%d may be non-zero",
				       name, mem, regno);
	char what[96];
	snprintf(what, sizeof(what), "%s argument %d", name, mem);
	return verifier_check_mem_region(env, st, idx, mem, r->var.umax,
					 !(m->mem_flags & COMB_ARG_F_RDONLY),
					 !(m->mem_flags & COMB_ARG_F_UNINIT), what);
}

static bool is_memory(const struct vreg *r)
{
	return r->type == VT_STACK || r->type == VT_MAP_VALUE || r->type == VT_MAP_KEY ||
	       r->type == VT_MEM || vreg_is_pkt(r);
}

static int check_arg(struct venv *env, struct vstate *st, size_t idx, int regno,
		     const struct comb_helper_arg_proto *ap, struct call_meta *m)
{
	const char *name = m->proto->name;
	struct vreg *r = reg(st, regno);
	int rc;
	if (ap->kind == COMB_ARG_NONE)
		return 0;
	if ((rc = verifier_check_reg_init(env, st, idx, regno)))
		return rc;
	bool may_null = ap->flags & COMB_ARG_F_MAYBE_NULL;
	if (vreg_is_ptr(r) && r->maybe_null && ap->kind != COMB_ARG_ANYTHING && !may_null)
		return verifier_reject(env, st, idx, "%s: r%d may be NULL here: test the result of %s "
				       "before passing it", name, regno, verifier_null_source(r));
	if (r->type == VT_STACK)
		m->stack_arg_frame = r->frameno;
	switch (ap->kind) {
	case COMB_ARG_ANYTHING:
		if (env->strict && vreg_is_ptr(r))
			return verifier_reject(env, st, idx, "%s: passing a pointer as a number (r%d) would "
					       "leak an address", name, regno);
		return 0;
	case COMB_ARG_CONST_MAP_PTR:
		if (r->type != VT_MAP_PTR)
			return verifier_reject(env, st, idx, "%s: argument %d (r%d) must be a map (its name, "
					       "`&my_map`), not %s", name, regno, regno,
					       verifier_type_name(r->type));
		m->map = (int)r->map;
		if (r->map & VMAP_INNER) {
			uint32_t outer = r->map & ~VMAP_INNER;
			if (!env->inner_maps || outer >= env->map_count || !env->inner_maps[outer].type)
				return verifier_reject(env, st, idx, "%s: r%d is a map taken out of a map-in-map "
						       "whose inner map template is unknown", name, regno);
			m->map_info = env->inner_maps[outer];
		} else {
			comb_map_get_info(verifier_map(env, r->map), &m->map_info);
		}
		return check_map_compat(env, st, idx, m);
	case COMB_ARG_PTR_TO_MAP_KEY:
	case COMB_ARG_PTR_TO_MAP_VALUE: {
		bool key = ap->kind == COMB_ARG_PTR_TO_MAP_KEY;
		if (key)
			m->key = *r;
		if (may_null && null_arg(env, st, regno))
			return 0;
		if (m->map < 0)
			return verifier_reject(env, st, idx, "%s: no map argument before the %s", name,
					       key ? "key" : "value");
		if (!is_memory(r))
			return verifier_reject(env, st, idx, "%s: the %s (r%d) must point to memory (the "
					       "stack, a map value), not %s", name, key ? "key" : "value",
					       regno, verifier_type_name(r->type));
		char what[96];
		snprintf(what, sizeof(what), "%s %s", name, key ? "key" : "value");
		uint32_t size = key ? m->map_info.key_size : m->map_info.value_size;
		bool uninit = ap->flags & COMB_ARG_F_UNINIT;
		return verifier_check_mem_region(env, st, idx, regno, size, uninit, !uninit, what);
	}
	case COMB_ARG_PTR_TO_MEM:
		m->mem_null = may_null && null_arg(env, st, regno);
		if (!m->mem_null && !is_memory(r))
			return verifier_reject(env, st, idx, "%s: argument %d (r%d) must point to memory "
					       "(stack, map value, packet), not %s", name, regno, regno,
					       r->type == VT_SCALAR ? "a number" : verifier_type_name(r->type));
		m->mem_arg = regno;
		m->mem_flags = ap->flags;
		return 0;
	case COMB_ARG_CONST_SIZE:
	case COMB_ARG_CONST_SIZE_OR_ZERO:
		return check_size_arg(env, st, idx, regno, ap, m);
	case COMB_ARG_CONST_ALLOC_SIZE_OR_ZERO:
		if (r->type != VT_SCALAR || !comb_scalar_is_const(&r->var))
			return verifier_reject(env, st, idx, "%s: the size in r%d must be a known constant",
					       name, regno);
		m->alloc_size = r->var.umin;
		verifier_mark_precise(env, st, regno);
		return 0;
	case COMB_ARG_PTR_TO_CTX:
		if (may_null && null_arg(env, st, regno))
			return 0;
		if (r->type != VT_CTX || r->off != 0)
			return verifier_reject(env, st, idx, "%s: argument %d (r%d) must be the program's "
					       "context (the r1 it got, unmodified)", name, regno, regno);
		return 0;
	case COMB_ARG_PTR_TO_STACK:
		if ((may_null && null_arg(env, st, regno)) || r->type == VT_STACK)
			return 0;
		return verifier_reject(env, st, idx, "%s: argument %d (r%d) must point to the stack",
				       name, regno, regno);
	case COMB_ARG_PTR_TO_FUNC:
		if (r->type != VT_FUNC)
			return verifier_reject(env, st, idx, "%s: argument %d (r%d) must be a function",
					       name, regno, regno);
		m->callback_reg = regno;
		return 0;
	case COMB_ARG_PTR_TO_RINGBUF_MEM:
		if (r->type != VT_MEM || !r->ref_id || r->off != 0 || !comb_scalar_is_const(&r->var) ||
		    r->src_helper != BPF_FUNC_ringbuf_reserve)
			return verifier_reject(env, st, idx, "%s: r%d must be the unmodified pointer "
					       "bpf_ringbuf_reserve returned", name, regno);
		if (ap->flags & COMB_ARG_F_RELEASE)
			m->release_ref = r->ref_id;
		return 0;
	case COMB_ARG_PTR_TO_LONG:
	case COMB_ARG_PTR_TO_INT:
		return verifier_check_mem_region(env, st, idx, regno,
						 ap->kind == COMB_ARG_PTR_TO_LONG ? 8 : 4, true, false, name);
	case COMB_ARG_PTR_TO_DYNPTR:
		if ((rc = verifier_dynptr_arg(env, st, idx, regno, m->proto, ap->flags, &m->dyn)))
			return rc;
		if (m->dyn.release)
			m->release_ref = m->dyn.ref_id;
		return 0;
	case COMB_ARG_PTR_TO_SPIN_LOCK:
		return 0; /* spin_lock.c checks it with the pairing */
	case COMB_ARG_PTR_TO_CONST_STR:
	case COMB_ARG_PTR_TO_TIMER:
	case COMB_ARG_PTR_TO_KPTR:
		if (r->type != VT_MAP_VALUE)
			return verifier_reject(env, st, idx, "%s: argument %d (r%d) must point into a map value",
					       name, regno, regno);
		return 0;
	default: /* sockets and kernel objects */
		if (may_null && null_arg(env, st, regno))
			return 0;
		if (!vreg_is_ptr(r))
			return verifier_reject(env, st, idx, "%s: argument %d (r%d) must be a pointer to a "
					       "kernel object (%s)", name, regno, regno,
					       comb_helper_arg_name(ap->kind));
		if ((ap->flags & COMB_ARG_F_RELEASE) && r->ref_id)
			m->release_ref = r->ref_id;
		return 0;
	}
}

struct release_arg {
	uint32_t ref;
	bool strict;
};

static void invalidate_ref(struct vreg *r, void *arg)
{
	struct release_arg *a = arg;
	if (vreg_is_ptr(r) && r->ref_id == a->ref) {
		*r = vreg_unknown();
		if (a->strict)
			r->type = VT_NOT_INIT;
	}
}

/* Helpers that may move or resize the packet (the kernel's
 * bpf_helper_changes_pkt_data): every packet pointer is stale after them. */
static bool changes_pkt_data(uint32_t id)
{
	switch (id) {
	case BPF_FUNC_clone_redirect: case BPF_FUNC_l3_csum_replace: case BPF_FUNC_l4_csum_replace:
	case BPF_FUNC_lwt_push_encap: case BPF_FUNC_lwt_seg6_action: case BPF_FUNC_lwt_seg6_adjust_srh:
	case BPF_FUNC_lwt_seg6_store_bytes: case BPF_FUNC_msg_pop_data: case BPF_FUNC_msg_pull_data:
	case BPF_FUNC_msg_push_data: case BPF_FUNC_skb_adjust_room: case BPF_FUNC_skb_change_head:
	case BPF_FUNC_skb_change_proto: case BPF_FUNC_skb_change_tail: case BPF_FUNC_skb_pull_data:
	case BPF_FUNC_skb_store_bytes: case BPF_FUNC_skb_vlan_pop: case BPF_FUNC_skb_vlan_push:
	case BPF_FUNC_store_hdr_opt: case BPF_FUNC_xdp_adjust_head: case BPF_FUNC_xdp_adjust_meta:
	case BPF_FUNC_xdp_adjust_tail: case BPF_FUNC_tail_call:
		return true;
	default:
		return false;
	}
}

static void invalidate_pkt(struct vreg *r, void *arg)
{
	if (vreg_is_pkt(r) || r->type == VT_PKT_END) {
		*r = vreg_unknown();
		if (*(const bool *)arg)
			r->type = VT_NOT_INIT;
	}
}

/* Numbers the callback may have changed through a stack pointer. */
static void forget_stack_numbers(struct vframe *f)
{
	for (int i = 0; i < COMB_STACK_SIZE; i++)
		if (f->stype[i] == SLOT_ZERO)
			f->stype[i] = SLOT_MISC;
	for (int s = 0; s < VSTACK_SLOTS; s++)
		if (f->stype[s * 8] == SLOT_SPILL && f->spill[s].type == VT_SCALAR)
			f->spill[s] = vreg_unknown();
}

static int push_callback(struct venv *env, struct vstate *st, size_t idx, const struct call_meta *m)
{
	struct vreg *fn = reg(st, m->callback_reg);
	size_t target = (size_t)fn->var.umin;
	int sub = verifier_subprog_of(env, target);
	if (st->nframes >= COMB_MAX_FRAMES)
		return verifier_reject(env, st, idx, "callbacks nested deeper than %d frames", COMB_MAX_FRAMES);
	struct vstate *cb = vstate_clone(st);
	if (!cb)
		return -ENOMEM;
	env->facts_off = true; /* walked once, run many times (facts.c) */
	struct vframe *caller = vstate_cur(cb);
	struct vreg args[6];
	memcpy(args, caller->regs, sizeof(args));
	struct vframe *f = vstate_push_frame(cb, (int32_t)idx, sub);
	if (!f) {
		vstate_free(cb);
		return -ENOMEM;
	}
	f->callback = true;
	for (int r = 1; r <= 5; r++)
		f->regs[r] = vreg_unknown();
	uint32_t id = m->proto->id;
	if (id == HELPER_LOOP) {
		f->regs[1] = vreg_scalar(comb_scalar_urange(0, 1u << 23));
		f->regs[2] = args[3];
	} else if (id == HELPER_FOR_EACH_MAP_ELEM && m->map >= 0) {
		f->regs[1] = args[1];
		f->regs[2] = vreg_const(0);
		f->regs[2].type = VT_MAP_KEY;
		f->regs[2].size = m->map_info.key_size;
		f->regs[3] = vreg_const(0);
		f->regs[3].type = VT_MAP_VALUE;
		f->regs[3].map = (uint32_t)m->map;
		f->regs[3].size = m->map_info.value_size;
		f->regs[4] = args[3]; /* callback_fn(map, key, value, callback_ctx) */
	} else if (id == BPF_FUNC_user_ringbuf_drain) {
		/* callback_fn(const struct bpf_dynptr *record, void *ctx) */
		f->regs[1] = vreg_const(0);
		f->regs[1].type = VT_CONST_DYNPTR;
		f->regs[1].id = verifier_new_id(env);
		f->regs[2] = args[3];
	} else {
		for (int r = 1; r <= 5; r++)
			if (args[r].type == VT_STACK)
				f->regs[r] = args[r];
	}
	int rc = verifier_push_branch(env, cb, target);
	vstate_free(cb);
	if (rc == 0 && m->stack_arg_frame >= 0)
		for (int i = 0; i < st->nframes; i++)
			forget_stack_numbers(st->frames[i]);
	return rc;
}

/* The key of an array map lookup when it is a known constant on the
 * stack (all its bytes written as zero, or a constant spilled with exactly
 * the key's size, as the kernel's get_constant_map_key). */
static bool const_stack_key(const struct vstate *st, const struct vreg *key, uint32_t size,
			    uint64_t *value, int *slot)
{
	if (key->type != VT_STACK || !comb_scalar_is_const(&key->var) || size > 8)
		return false;
	int64_t lo = key->off + (int64_t)key->var.umin;
	if (lo < -COMB_STACK_SIZE || lo + size > 0)
		return false;
	const struct vframe *f = st->frames[key->frameno];
	int i = vstack_index((int32_t)lo);
	*slot = i / 8;
	if ((i + (int)size - 1) / 8 != i / 8)
		return false; /* one slot holds it (precision tracks slots) */
	if (i % 8 == 0 && f->stype[i] == SLOT_SPILL) {
		uint32_t spilled = 0;
		while (spilled < 8 && f->stype[i + (int)spilled] == SLOT_SPILL)
			spilled++;
		const struct vreg *r = &f->spill[i / 8];
		if (spilled != size || r->type != VT_SCALAR || !comb_scalar_is_const(&r->var))
			return false;
		*value = size == 8 ? r->var.umin : r->var.umin & ((UINT64_C(1) << (8 * size)) - 1);
		return true;
	}
	for (uint32_t b = 0; b < size; b++)
		if (f->stype[i + (int)b] != SLOT_ZERO)
			return false;
	*value = 0;
	return true;
}

static void set_return(struct venv *env, struct vstate *st, const struct call_meta *m)
{
	const struct comb_helper_proto *p = m->proto;
	struct vreg r0 = vreg_const(0);
	bool nullable = p->flags & COMB_HELPER_RET_MAYBE_NULL;
	switch (p->ret) {
	case COMB_RET_VOID:
		r0.type = VT_NOT_INIT;
		break;
	case COMB_RET_PTR_TO_MAP_VALUE:
		r0.type = VT_MAP_VALUE;
		r0.map = m->map >= 0 ? (uint32_t)m->map : 0;
		r0.size = m->map_info.value_size;
		if ((m->map_info.type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
		     m->map_info.type == BPF_MAP_TYPE_HASH_OF_MAPS) && !(r0.map & VMAP_INNER)) {
			/* a map-in-map's value is the inner map itself */
			r0.type = VT_MAP_PTR;
			r0.map |= VMAP_INNER;
			r0.size = 0;
		}
		break;
	case COMB_RET_PTR_TO_RINGBUF_MEM:
		r0.type = VT_MEM;
		r0.size = (uint32_t)m->alloc_size;
		break;
	case COMB_RET_PTR_TO_DYNPTR_MEM:
		r0.type = VT_MEM;
		r0.size = (uint32_t)m->alloc_size;
		r0.map = m->dyn.id; /* the slice dies with its dynptr (dynptr.c) */
		break;
	case COMB_RET_PTR_TO_SOCKET:
	case COMB_RET_PTR_TO_TCP_SOCK:
	case COMB_RET_PTR_TO_SOCK_COMMON:
		r0.type = VT_SOCKET;
		break;
	case COMB_RET_PTR_TO_MEM_OR_BTF_ID:
	case COMB_RET_PTR_TO_BTF_ID:
		r0.type = VT_BTF_ID;
		if (p->ret_btf && !env->btf)
			verifier_btf_open(env, NULL);
		r0.btf_id = verifier_btf_struct_id(env, p->ret_btf);
		break;
	default:
		r0 = vreg_unknown();
	}
	/* As the kernel: an array lookup with a constant key in range cannot fail. */
	uint64_t key;
	int key_slot = 0;
	if (p->id == 1 && (m->map_info.type == BPF_MAP_TYPE_ARRAY ||
			   m->map_info.type == BPF_MAP_TYPE_PERCPU_ARRAY) &&
	    const_stack_key(st, &m->key, m->map_info.key_size, &key, &key_slot) &&
	    key < m->map_info.max_entries) {
		nullable = false;
		verifier_mark_precise_slot(env, st, m->key.frameno, key_slot); /* the key decided it */
	}
	/* As the kernel: every value of a map with a lock gets its own id,
	 * so bpf_spin_unlock can tell two values of one map apart. */
	if (r0.type == VT_MAP_VALUE && !nullable && verifier_map_has_lock(env, r0.map))
		r0.id = verifier_new_id(env);
	if (vreg_is_ptr(&r0)) {
		r0.maybe_null = nullable;
		r0.src_helper = p->id;
		if (nullable)
			r0.id = verifier_new_id(env);
		if ((p->flags & COMB_HELPER_ACQUIRE) && st->nrefs < VMAX_REFS) {
			r0.ref_id = verifier_new_id(env);
			st->refs[st->nrefs++] = r0.ref_id;
		}
	}
	vstate_cur(st)->regs[0] = r0;
}

int verifier_check_helper_call(struct venv *env, struct vstate *st, size_t idx)
{
	const struct comb_insn *in = &env->insns[idx];
	if (in->src == COMB_CALL_KFUNC)
		return verifier_reject(env, st, idx, "kernel functions (kfuncs) are not supported yet");
	if ((uint32_t)in->imm == COMB_CORE_POISON_HELPER)
		return verifier_reject(env, st, idx, "this instruction depends on a CO-RE relocation that "
				       "could not be resolved against the target kernel's BTF");
	const struct comb_helper_proto *p = in->imm >= 0 ? comb_helper_proto((uint32_t)in->imm) : NULL;
	if (!p)
		return verifier_reject(env, st, idx, "unknown helper id %d", in->imm);
	if (!comb_helper_allowed(p, env->prog_type) &&
	    (env->strict || !comb_helper_in_privileged_base(p->id) || !env->prog_type))
		return verifier_reject(env, st, idx, "%s may not be called by a program of type %u",
				       p->name, env->prog_type);
	struct call_meta m = { .proto = p, .map = -1, .stack_arg_frame = -1, .dyn = { .frameno = -1 } };
	for (int i = 0; i < p->nargs && i < COMB_HELPER_MAX_ARGS; i++) {
		int rc = check_arg(env, st, idx, i + 1, &p->args[i], &m);
		if (rc)
			return rc;
	}
	if (m.mem_arg) {
		int rc = verifier_check_mem_region(env, st, idx, m.mem_arg, 1,
						   !(m.mem_flags & COMB_ARG_F_RDONLY),
						   !(m.mem_flags & COMB_ARG_F_UNINIT), p->name);
		if (rc && !m.mem_null)
			return rc;
	}
	int lock_rc = verifier_lock_helper(env, st, idx, p->id, p->name);
	if (lock_rc)
		return lock_rc;
	if ((lock_rc = verifier_dynptr_after_call(env, st, idx, p, &m.dyn)))
		return lock_rc;
	if (m.callback_reg) {
		int rc = push_callback(env, st, idx, &m);
		if (rc)
			return rc;
	}
	if (m.release_ref) {
		struct release_arg ra = { .ref = m.release_ref, .strict = env->strict };
		vstate_for_each_reg(st, invalidate_ref, &ra);
		verifier_release_ref(st, m.release_ref);
	}
	if (changes_pkt_data(p->id))
		vstate_for_each_reg(st, invalidate_pkt, &env->strict);
	verifier_facts_note_lookup(env, st, idx, m.map, &m.map_info, &m.key);
	for (int r = 1; r <= 5; r++)
		vstate_cur(st)->regs[r].type = VT_NOT_INIT;
	set_return(env, st, &m);
	return 0;
}

int verifier_check_local_call(struct venv *env, struct vstate *st, size_t *idx)
{
	const struct comb_insn *in = &env->insns[*idx];
	size_t target = (size_t)((int64_t)*idx + 1 + in->imm);
	if (st->nframes >= COMB_MAX_FRAMES)
		return verifier_reject(env, st, *idx, "calls nested deeper than %d functions: the kernel "
				       "allows %d frames", COMB_MAX_FRAMES, COMB_MAX_FRAMES);
	struct vframe *caller = vstate_cur(st);
	struct vreg args[6];
	memcpy(args, caller->regs, sizeof(args));
	struct vframe *f = vstate_push_frame(st, (int32_t)*idx, verifier_subprog_of(env, target));
	if (!f)
		return -ENOMEM;
	for (int r = 1; r <= 5; r++) {
		f->regs[r] = args[r];
		if (args[r].type == VT_NOT_INIT)
			f->regs[r].type = VT_NOT_INIT;
	}
	for (int r = 6; r <= 9; r++)
		f->regs[r].type = VT_NOT_INIT;
	f->regs[0].type = VT_NOT_INIT;
	*idx = target;
	return 0;
}

/* Return codes the kernel enforces for some program types: [lo, hi]. */
static bool return_range(const struct venv *env, int64_t *lo, int64_t *hi)
{
	if (env->prog_type == BPF_PROG_TYPE_TRACING) {
		/* fentry/fexit must return 0, iterators 0 or 1 (check_return_code) */
		*lo = 0;
		*hi = env->attach_type == BPF_TRACE_ITER ? 1 : 0;
		return env->attach_type == BPF_TRACE_FENTRY || env->attach_type == BPF_TRACE_FEXIT ||
		       env->attach_type == BPF_TRACE_ITER;
	}
	switch (env->prog_type) {
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_SOCK_OPS:
	case BPF_PROG_TYPE_CGROUP_DEVICE:
	case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
		*lo = 0;
		*hi = 1;
		return true;
	default:
		return false;
	}
}

int verifier_check_exit(struct venv *env, struct vstate *st, size_t *idx)
{
	struct vframe *f = vstate_cur(st);
	struct vreg *r0 = &f->regs[0];
	/* A function returning void leaves r0 unset, as the kernel allows: the
	 * caller's r0 is then not initialized, and reading it is refused. */
	int rc = st->nframes > 1 && !f->callback ? 0 : verifier_check_reg_init(env, st, *idx, 0);
	if (rc)
		return rc;
	if ((f->callback || st->nframes == 1) &&
	    (rc = verifier_lock_check_exit(env, st, *idx, f->callback ? "a callback returns" : "the program exits")))
		return rc;
	if (f->callback) {
		if (r0->type != VT_SCALAR)
			return verifier_reject(env, st, *idx, "a callback must return a number");
		return 0;
	}
	if (st->nframes > 1) {
		if (r0->type == VT_STACK && r0->frameno == st->nframes - 1)
			return verifier_reject(env, st, *idx, "returns a pointer to its own stack, which ends "
					       "with the call");
		struct vframe *caller = st->frames[st->nframes - 2];
		caller->regs[0] = *r0;
		for (int r = 1; r <= 5; r++)
			caller->regs[r].type = VT_NOT_INIT;
		*idx = (size_t)f->callsite + 1;
		vstate_pop_frame(st);
		return 1;
	}
	if (st->nrefs > 0 && (rc = verifier_dynptr_leak_message(env, st, *idx)))
		return rc;
	if (st->nrefs > 0)
		return verifier_reject(env, st, *idx, "a reference acquired on this path (e.g. a "
				       "bpf_ringbuf_reserve record) is never released: submit or discard "
				       "it on every path before exit");
	int64_t lo, hi;
	if (return_range(env, &lo, &hi)) {
		if (r0->type != VT_SCALAR)
			return verifier_reject(env, st, *idx, "the program must return a number in [%lld, %lld]",
					       (long long)lo, (long long)hi);
		if (r0->var.smin < lo || r0->var.smax > hi)
			return verifier_reject(env, st, *idx, "the return value may be outside [%lld, %lld], "
					       "the range this program type allows", (long long)lo,
					       (long long)hi);
		verifier_mark_precise(env, st, 0);
	} else if (env->strict && vreg_is_ptr(r0)) {
		return verifier_reject(env, st, *idx, "returning a pointer would leak an address");
	}
	return 0;
}
