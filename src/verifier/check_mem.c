/* src/verifier/check_mem.c - loads, stores and atomics, per pointer kind.
 *
 * Every access is decided by the kind of the pointer register and its
 * offsets (fixed `off` plus the variable part's range):
 *   stack    inside the frame's 512 bytes, aligned to the access size; a read
 *            of bytes never written is refused in strict mode; a store at
 *            the start of an 8-byte slot spills the register (its whole
 *            state is kept): any register for 8 bytes, a number for 1, 2 or
 *            4 bytes (as the kernel); a load at the slot's start of at most
 *            the spilled size restores it (truncated to the load's size);
 *   ctx      at the unmodified context pointer, field rules from ctx_desc;
 *   map value / key / mem   inside [0, size) for every possible offset;
 *   packet   inside the range a comparison with data_end proved.
 * Read-only array maps (.rodata) give back their constant bytes, as the
 * kernel does for frozen maps, so `const volatile` configuration folds.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>

#include "verifier/ctx_desc.h"
#include "verifier/internal.h"

#define MAX_VAR_OFF (1 << 29)

static struct vreg sized_value(int size, bool sign_extend)
{
	/* size > 8: a helper's memory argument; the value is not used */
	struct comb_scalar v = comb_scalar_urange(0, size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1);
	if (sign_extend && size < 8) {
		struct comb_insn sx = { .code = COMB_CLS_ALU64 | COMB_SRC_X | COMB_ALU_MOV,
					.off = (int16_t)(size * 8) };
		struct comb_scalar out = comb_scalar_unknown();
		comb_scalar_alu(&out, &v, &sx);
		v = out;
	}
	return vreg_scalar(v);
}

static struct vreg const_value(uint64_t v, int size, bool sign_extend)
{
	struct comb_scalar s = comb_scalar_const(v);
	if (sign_extend && size < 8) {
		struct comb_insn sx = { .code = COMB_CLS_ALU64 | COMB_SRC_X | COMB_ALU_MOV,
					.off = (int16_t)(size * 8) };
		struct comb_scalar out = comb_scalar_unknown();
		comb_scalar_alu(&out, &s, &sx);
		s = out;
	}
	return vreg_scalar(s);
}

static bool pkt_writable(uint32_t t)
{
	return t == BPF_PROG_TYPE_SCHED_CLS || t == BPF_PROG_TYPE_SCHED_ACT || t == BPF_PROG_TYPE_XDP ||
	       t == BPF_PROG_TYPE_LWT_XMIT || t == BPF_PROG_TYPE_SK_SKB || t == BPF_PROG_TYPE_SK_MSG;
}

struct access {
	size_t idx;
	int regno;        /* the pointer register */
	const struct vreg *ptr;
	int64_t off;      /* instruction offset */
	int size;
	bool write, imm_store, sign_extend;
	const struct vreg *value; /* stored value (write) */
	struct vreg *out;         /* loaded value (read) */
};

/* The byte range [lo, hi) relative to the object that any value of the
 * pointer reaches. false when the variable part is unbounded. */
static bool access_range(const struct access *a, int64_t *lo, int64_t *hi)
{
	const struct comb_scalar *v = &a->ptr->var;
	if (v->smin < -MAX_VAR_OFF || v->smax > MAX_VAR_OFF)
		return false;
	*lo = a->ptr->off + a->off + v->smin;
	*hi = a->ptr->off + a->off + v->smax + a->size;
	return true;
}

/* --- stack -------------------------------------------------------------- */

static void note_depth(struct venv *env, const struct vstate *st, const struct vreg *ptr, int64_t lo)
{
	const struct vframe *f = st->frames[ptr->frameno];
	if (-lo > env->sub_depth[f->subprog])
		env->sub_depth[f->subprog] = (int32_t)-lo;
}

/* Bytes of the spill at the start of slot (0 if none): a spill always
 * starts at the slot's lowest byte. */
static int spill_size(const struct vframe *f, int slot)
{
	int n = 0;
	while (n < 8 && f->stype[slot * 8 + n] == SLOT_SPILL)
		n++;
	return n;
}

/* The slot's spill is gone: its bytes hold unknown data (the other bytes
 * of a narrow spill keep what they were). */
static void unspill_slot(struct vframe *f, int slot)
{
	for (int n = spill_size(f, slot); n-- > 0;)
		f->stype[slot * 8 + n] = SLOT_MISC;
}

/* A spilled number read back through a narrower load: the load's size
 * (zero- or sign-extended). The id survives only if the value cannot
 * change. */
static struct vreg narrow_fill(struct vreg r, int size, bool sign_extend)
{
	if (size >= 8)
		return r;
	struct comb_scalar out = r.var;
	struct comb_insn op;
	if (sign_extend)
		op = (struct comb_insn){ .code = COMB_CLS_ALU64 | COMB_SRC_X | COMB_ALU_MOV,
					 .off = (int16_t)(size * 8) };
	else if (size == 4)
		op = (struct comb_insn){ .code = COMB_CLS_ALU | COMB_SRC_X | COMB_ALU_MOV };
	else
		op = (struct comb_insn){ .code = COMB_CLS_ALU64 | COMB_SRC_K | COMB_ALU_AND,
					 .imm = (int32_t)((1u << (8 * size)) - 1) };
	comb_scalar_alu(&out, &r.var, &op);
	if (sign_extend || r.var.umax >= (UINT64_C(1) << (8 * size)))
		r.id = 0;
	r.var = out;
	/* widen.c's counter relation: a 4-byte fill keeps the low half's */
	if (r.ind_loop && size == 4 && !sign_extend)
		r.ind_loc |= 0x80;
	else
		r.ind_loop = 0;
	return r;
}

/* Bytes [lo, hi) (fp-relative) were written with unknown data. */
static void stack_mark_misc(struct vframe *f, int64_t lo, int64_t hi, bool keep_invalid)
{
	for (int64_t b = lo; b < hi; b++) {
		int i = vstack_index((int32_t)b);
		unspill_slot(f, i / 8);
		if (!(keep_invalid && f->stype[i] == SLOT_INVALID))
			f->stype[i] = SLOT_MISC;
	}
}

void verifier_stack_mark_written(struct venv *env, struct vstate *st, const struct vreg *ptr,
				 int64_t off, uint64_t size)
{
	struct vframe *f = st->frames[ptr->frameno];
	bool exact = comb_scalar_is_const(&ptr->var);
	int64_t lo = ptr->off + off + ptr->var.smin, hi = ptr->off + off + ptr->var.smax + (int64_t)size;
	stack_mark_misc(f, lo, hi, !exact);
	note_depth(env, st, ptr, lo);
	if (exact)
		verifier_stack_note_write(env, st, ptr->frameno, lo, hi);
}

static int stack_read_bytes(struct venv *env, struct vstate *st, const struct access *a,
			    struct vframe *f, int64_t lo, int64_t hi, bool *all_zero)
{
	*all_zero = true;
	for (int64_t b = lo; b < hi; b++) {
		int i = vstack_index((int32_t)b);
		uint8_t t = f->stype[i];
		if (t == SLOT_INVALID && env->strict)
			return verifier_reject(env, st, a->idx,
					       "reads stack byte fp%lld, which was never written on this path: "
					       "initialize the variable (or the whole struct, padding included) first",
					       (long long)b);
		if (t == SLOT_DYNPTR)
			return verifier_reject(env, st, a->idx,
					       "reads the bytes of a dynptr at fp%lld: a struct bpf_dynptr is "
					       "opaque; use bpf_dynptr_read or bpf_dynptr_data", (long long)b);
		if (t == SLOT_SPILL && f->spill[i / 8].type != VT_SCALAR)
			return verifier_reject(env, st, a->idx,
					       "reads part of a pointer spilled at fp%d: read it back with an "
					       "8-byte load at its own offset", i / 8 * 8 - COMB_STACK_SIZE);
		if (t == SLOT_SPILL && !(comb_scalar_is_const(&f->spill[i / 8].var) &&
					 f->spill[i / 8].var.umin == 0))
			*all_zero = false;
		if (t != SLOT_ZERO && t != SLOT_SPILL)
			*all_zero = false;
	}
	return 0;
}

static int stack_access(struct venv *env, struct vstate *st, const struct access *a)
{
	struct vframe *f = st->frames[a->ptr->frameno];
	int64_t lo = 0, hi = 0;
	if (!access_range(a, &lo, &hi) || lo < -COMB_STACK_SIZE || hi > 0)
		return verifier_reject(env, st, a->idx,
				       "stack access at fp%+lld..%+lld (%d bytes) is outside the %d-byte frame",
				       (long long)lo, (long long)hi, a->size, COMB_STACK_SIZE);
	bool exact = comb_scalar_is_const(&a->ptr->var);
	if (exact && lo % a->size != 0)
		return verifier_reject(env, st, a->idx, "misaligned stack access at fp%lld: a %d-byte access "
				       "must be at a multiple of %d", (long long)lo, a->size, a->size);
	note_depth(env, st, a->ptr, lo);
	if (!a->write) {
		verifier_stack_note_read(env, st, a->ptr->frameno, lo, hi);
		bool zero;
		int i = vstack_index((int32_t)lo);
		int spilled = exact && i % 8 == 0 ? spill_size(f, i / 8) : 0;
		if (spilled == 8 && a->size == 8) {
			*a->out = f->spill[i / 8];
			verifier_hist_note_stack(st, VH_FILL, a->ptr->frameno, i / 8);
			return 0;
		}
		if (spilled >= a->size && f->spill[i / 8].type == VT_SCALAR) {
			*a->out = narrow_fill(f->spill[i / 8], a->size, a->sign_extend);
			verifier_hist_note_stack(st, VH_FILL, a->ptr->frameno, i / 8);
			return 0;
		}
		int rc = stack_read_bytes(env, st, a, f, lo, hi, &zero);
		if (rc)
			return rc;
		if (exact && zero) {
			/* the value comes from the slot's zero bytes (or spilled zeros) */
			*a->out = vreg_const(0);
			verifier_hist_note_stack(st, VH_FILL, a->ptr->frameno, i / 8);
		} else {
			*a->out = sized_value(a->size, a->sign_extend);
		}
		return 0;
	}
	const struct vreg *v = a->value;
	int rc = verifier_dynptr_stack_write(env, st, a->idx, a->ptr->frameno, lo, hi, exact, false);
	if (rc)
		return rc;
	if (!exact) {
		if (vreg_is_ptr(v) && env->strict)
			return verifier_reject(env, st, a->idx, "stores a pointer at a variable stack offset");
		stack_mark_misc(f, lo, hi, true);
		return 0;
	}
	int i = vstack_index((int32_t)lo);
	if (a->ptr->frameno != st->nframes - 1 && vstate_cur(st)->callback)
		verifier_stack_note_read(env, st, a->ptr->frameno, lo, hi); /* the check below looks */
	if (a->ptr->frameno != st->nframes - 1 && vstate_cur(st)->callback &&
	    f->stype[i / 8 * 8] == SLOT_SPILL && vreg_is_ptr(&f->spill[i / 8]))
		return verifier_reject(env, st, a->idx, "a callback overwrites a pointer its caller "
				       "keeps on the stack at fp%d", i / 8 * 8 - COMB_STACK_SIZE);
	verifier_hist_note_stack(st, a->size == 8 ? VH_STORE | VH_STORE_FULL : VH_STORE, a->ptr->frameno, i / 8);
	if (a->size == 8) {
		memset(&f->stype[i], SLOT_SPILL, 8);
		f->spill[i / 8] = *v;
		verifier_stack_note_write(env, st, a->ptr->frameno, lo, hi);
		return 0;
	}
	if (i % 8 == 0 && v->type == VT_SCALAR) {
		unspill_slot(f, i / 8);
		memset(&f->stype[i], SLOT_SPILL, (size_t)a->size);
		f->spill[i / 8] = *v;
		return 0;
	}
	if (vreg_is_ptr(v) && env->strict)
		return verifier_reject(env, st, a->idx, "stores only part of a pointer on the stack");
	unspill_slot(f, i / 8);
	bool zero = v->type == VT_SCALAR && comb_scalar_is_const(&v->var) && v->var.umin == 0;
	memset(&f->stype[i], zero ? SLOT_ZERO : SLOT_MISC, (size_t)a->size);
	return 0;
}

/* --- context ------------------------------------------------------------ */

static struct vreg ctx_loaded(enum comb_ctx_reg kind, int size, bool sx)
{
	struct vreg r = vreg_const(0);
	switch (kind) {
	case COMB_CTX_REG_PTR_TO_PACKET: r.type = VT_PKT; break;
	case COMB_CTX_REG_PTR_TO_PACKET_END: r.type = VT_PKT_END; break;
	case COMB_CTX_REG_PTR_TO_PACKET_META: r.type = VT_PKT_META; break;
	case COMB_CTX_REG_PTR_TO_SOCKET: r.type = VT_SOCKET; break;
	case COMB_CTX_REG_PTR_TO_SOCKET_OR_NULL:
	case COMB_CTX_REG_PTR_TO_SOCK_COMMON_OR_NULL:
		r.type = VT_SOCKET;
		r.maybe_null = true;
		break;
	default:
		return sized_value(size, sx);
	}
	return r;
}

static int ctx_access(struct venv *env, struct vstate *st, const struct access *a)
{
	if (a->ptr->off != 0 || !comb_scalar_is_const(&a->ptr->var) || a->ptr->var.umin != 0)
		return verifier_reject(env, st, a->idx,
				       "the context is accessed through a modified pointer (r%d = ctx%+d): "
				       "read fields as ctx->field from the pointer the program got",
				       a->regno, a->ptr->off);
	if (a->imm_store)
		return verifier_reject(env, st, a->idx, "storing an immediate into the context is not "
				       "allowed: store it from a register");
	if (a->write && vreg_is_ptr(a->value))
		return verifier_reject(env, st, a->idx, "storing a pointer into the context is not allowed");
	if (verifier_is_btf_ctx(env)) {
		int rc = verifier_btf_ctx_access(env, st, a->idx, a->off, a->size, a->write, a->out);
		if (rc == 0 && a->sign_extend && a->out->type == VT_SCALAR)
			*a->out = sized_value(a->size, true);
		return rc;
	}
	if (a->off < 0)
		return verifier_reject(env, st, a->idx, "negative context offset %lld", (long long)a->off);
	struct comb_ctx_field_info info;
	int rc = comb_ctx_access_attach(env->prog_type, env->attach_type, (uint32_t)a->off, (uint32_t)a->size,
					 a->write, &info);
	if (rc)
		return verifier_reject(env, st, a->idx, "%s", info.reason);
	if (!a->write)
		*a->out = ctx_loaded(info.reg, a->size, a->sign_extend);
	return 0;
}

/* --- map values, keys, memory, packets ---------------------------------- */

static bool map_readonly(const struct venv *env, uint32_t index, struct comb_map_info *info)
{
	const struct comb_map *m = verifier_map(env, index);
	if (!m)
		return false;
	comb_map_get_info(m, info);
	return (info->map_flags & BPF_F_RDONLY_PROG) != 0;
}

static bool read_frozen(const struct venv *env, const struct access *a, int64_t lo, uint64_t *value)
{
	struct comb_map_info info;
	/* As the kernel's bpf_map_is_rdonly: read-only for programs AND frozen
	 * (nothing in user space can change it after this proof either). */
	if (a->size > 8 || !map_readonly(env, a->ptr->map, &info) || info.type != BPF_MAP_TYPE_ARRAY ||
	    !comb_map_frozen(env->maps[a->ptr->map]) || !comb_scalar_is_const(&a->ptr->var))
		return false;
	uint8_t *base = comb_map_array_value((struct comb_map *)env->maps[a->ptr->map], 0);
	if (!base)
		return false;
	uint64_t v = 0;
	memcpy(&v, base + lo, (size_t)a->size); /* little-endian host */
	*value = v;
	return true;
}

static int region_access(struct venv *env, struct vstate *st, const struct access *a, uint32_t size,
			 const char *what)
{
	int64_t lo = 0, hi = 0;
	if (!access_range(a, &lo, &hi))
		return verifier_reject(env, st, a->idx,
				       "r%d has an unbounded offset into %s: check the index against the "
				       "size before using it", a->regno, what);
	if (lo < 0)
		return verifier_reject(env, st, a->idx,
				       "the access may start before %s (offset %lld): the index may be "
				       "negative; use an unsigned index or check it is >= 0",
				       what, (long long)lo);
	if (hi > (int64_t)size)
		return verifier_reject(env, st, a->idx,
				       "the access may reach byte %lld of %s, which has %u bytes: check "
				       "the index against the size first", (long long)hi, what, size);
	return 0;
}

static int map_value_access(struct venv *env, struct vstate *st, const struct access *a)
{
	struct comb_map_info info = { .name = "?" };
	bool ro = map_readonly(env, a->ptr->map, &info);
	char what[96];
	snprintf(what, sizeof(what), "the value of map %s", info.name ? info.name : "?");
	int rc = region_access(env, st, a, a->ptr->size, what);
	if (rc)
		return rc;
	int64_t first = a->ptr->off + a->off + a->ptr->var.smin;
	int64_t last = a->ptr->off + a->off + a->ptr->var.smax + a->size;
	if ((rc = verifier_lock_check_access(env, st, a->idx, a->ptr, first, last)))
		return rc;
	if (a->write && ro)
		return verifier_reject(env, st, a->idx, "map %s is read-only for programs (.rodata): "
				       "it cannot be written", info.name);
	if (a->write && env->strict && vreg_is_ptr(a->value))
		return verifier_reject(env, st, a->idx, "storing a pointer into a map would leak an address "
				       "to user space");
	if (!a->write) {
		uint64_t v;
		int64_t lo = a->ptr->off + a->off + a->ptr->var.smin;
		*a->out = read_frozen(env, a, lo, &v) ? const_value(v, a->size, a->sign_extend)
						     : sized_value(a->size, a->sign_extend);
	}
	return 0;
}

static int pkt_access(struct venv *env, struct vstate *st, const struct access *a)
{
	const struct vreg *p = a->ptr;
	if (a->write && !pkt_writable(env->prog_type))
		return verifier_reject(env, st, a->idx, "this program type may not write into the packet");
	if (a->write && env->strict && vreg_is_ptr(a->value))
		return verifier_reject(env, st, a->idx, "storing a pointer into the packet would leak an address");
	if (p->var.smin < 0)
		return verifier_reject(env, st, a->idx, "the packet offset in r%d may be negative", a->regno);
	int64_t lo = p->off + a->off, hi = lo + a->size;
	if (lo < 0 || hi > p->range)
		return verifier_reject(env, st, a->idx,
				       "packet access to bytes [%lld, %lld) from r%d is not proven in bounds "
				       "(proven: %d bytes): compare with data_end first, e.g. "
				       "`if (p + %lld > data_end) return XDP_DROP;`",
				       (long long)lo, (long long)hi, a->regno, p->range, (long long)hi);
	if (!a->write)
		*a->out = sized_value(a->size, a->sign_extend);
	return 0;
}

static int check_access(struct venv *env, struct vstate *st, const struct access *a)
{
	const struct vreg *p = a->ptr;
	if (p->type == VT_NOT_INIT)
		return verifier_check_reg_init(env, st, a->idx, a->regno);
	if (p->type == VT_SCALAR) {
		if (comb_scalar_is_const(&p->var) && p->var.umin == 0)
			return verifier_reject(env, st, a->idx, "r%d is NULL (0) on this path: it cannot be "
					       "dereferenced", a->regno);
		return verifier_reject(env, st, a->idx, "r%d is a number, not a pointer: it cannot be "
				       "dereferenced", a->regno);
	}
	if (p->maybe_null)
		return verifier_reject(env, st, a->idx, "r%d may be NULL here: test the result of %s "
				       "before using it", a->regno, verifier_null_source(p));
	switch (p->type) {
	case VT_STACK: return stack_access(env, st, a);
	case VT_CTX: return ctx_access(env, st, a);
	case VT_MAP_VALUE: return map_value_access(env, st, a);
	case VT_MAP_KEY:
		if (a->write)
			return verifier_reject(env, st, a->idx, "a map key given to a callback is read-only");
		if (region_access(env, st, a, p->size, "the map key"))
			return -EACCES;
		*a->out = sized_value(a->size, a->sign_extend);
		return 0;
	case VT_MEM: {
		int rc = region_access(env, st, a, p->size, "the memory (ring buffer record)");
		if (rc)
			return rc;
		if (!a->write)
			*a->out = sized_value(a->size, a->sign_extend);
		else if (env->strict && vreg_is_ptr(a->value))
			return verifier_reject(env, st, a->idx, "storing a pointer into a ring buffer record "
					       "would leak an address to user space");
		return 0;
	}
	case VT_PKT:
	case VT_PKT_META: return pkt_access(env, st, a);
	case VT_BTF_ID: {
		struct vreg loaded;
		int rc = verifier_btf_struct_access(env, st, a->idx, a->regno, p, a->off, a->size, a->write,
						    &loaded);
		if (rc == 0 && a->out)
			*a->out = a->sign_extend && loaded.type == VT_SCALAR ? sized_value(a->size, true) : loaded;
		return rc;
	}
	case VT_PKT_END:
		return verifier_reject(env, st, a->idx, "r%d is data_end, the end of the packet: it marks "
				       "a limit and cannot be dereferenced", a->regno);
	default:
		return verifier_reject(env, st, a->idx, "dereferencing a %s pointer (r%d) is not supported",
				       verifier_type_name(p->type), a->regno);
	}
}

int verifier_check_load(struct venv *env, struct vstate *st, size_t idx)
{
	const struct comb_insn *in = &env->insns[idx];
	struct vframe *f = vstate_cur(st);
	struct vreg ptr = f->regs[in->src], out = vreg_unknown();
	struct access a = { .idx = idx, .regno = in->src, .ptr = &ptr, .off = in->off,
			    .size = comb_insn_size_bytes(in->code),
			    .sign_extend = COMB_MODE(in->code) == COMB_MODE_MEMSX, .out = &out };
	if (in->dst == 10)
		return verifier_reject(env, st, idx, "r10 (the frame pointer) is read-only");
	int rc = check_access(env, st, &a);
	if (rc)
		return rc;
	vstate_cur(st)->regs[in->dst] = out;
	return 0;
}

int verifier_check_store(struct venv *env, struct vstate *st, size_t idx)
{
	const struct comb_insn *in = &env->insns[idx];
	bool imm = COMB_CLASS(in->code) == COMB_CLS_ST;
	struct vframe *f = vstate_cur(st);
	int rc;
	if (!imm && (rc = verifier_check_reg_init(env, st, idx, in->src)))
		return rc;
	struct vreg ptr = f->regs[in->dst];
	struct vreg value = imm ? vreg_const((uint64_t)(int64_t)in->imm) : f->regs[in->src];
	struct access a = { .idx = idx, .regno = in->dst, .ptr = &ptr, .off = in->off,
			    .size = comb_insn_size_bytes(in->code), .write = true, .imm_store = imm,
			    .value = &value };
	return check_access(env, st, &a);
}

int verifier_check_atomic(struct venv *env, struct vstate *st, size_t idx)
{
	const struct comb_insn *in = &env->insns[idx];
	int size = comb_insn_size_bytes(in->code), rc;
	if (size != 4 && size != 8)
		return verifier_reject(env, st, idx, "atomic operations are 4 or 8 bytes wide");
	if ((rc = verifier_check_reg_init(env, st, idx, in->src)))
		return rc;
	if (in->imm == COMB_ATOMIC_CMPXCHG && (rc = verifier_check_reg_init(env, st, idx, 0)))
		return rc;
	struct vframe *f = vstate_cur(st);
	if (vreg_is_ptr(&f->regs[in->src]) && (env->strict || in->imm != COMB_ATOMIC_XCHG))
		return verifier_reject(env, st, idx, "atomic operations take a number, not a pointer (r%d)",
				       in->src);
	struct vreg ptr = f->regs[in->dst];
	if (ptr.type != VT_STACK && ptr.type != VT_MAP_VALUE && ptr.type != VT_MEM &&
	    vreg_is_ptr(&ptr) && !ptr.maybe_null)
		return verifier_reject(env, st, idx, "atomic operations on %s memory are not allowed",
				       verifier_type_name(ptr.type));
	/* As the kernel: atomics are aligned to their size wherever they go. */
	struct comb_tnum at = comb_tnum_add(ptr.var.var_off, comb_tnum_const((uint64_t)((int64_t)ptr.off + in->off)));
	if (vreg_is_ptr(&ptr) && !ptr.maybe_null && !comb_tnum_is_aligned(at, (uint64_t)size))
		return verifier_reject(env, st, idx, "misaligned atomic access at r%d%+d (pointer offset %d): "
				       "a %d-byte atomic operation must be at a multiple of %d", in->dst, in->off,
				       ptr.off, size, size);
	struct vreg loaded = vreg_unknown(), unknown = vreg_unknown();
	struct access rd = { .idx = idx, .regno = in->dst, .ptr = &ptr, .off = in->off, .size = size,
			     .out = &loaded };
	if ((rc = check_access(env, st, &rd)))
		return rc;
	struct access wr = rd;
	wr.write = true;
	wr.value = &unknown;
	wr.out = NULL;
	if ((rc = check_access(env, st, &wr)))
		return rc;
	if (loaded.type != VT_SCALAR)
		loaded = vreg_unknown();
	if (in->imm == COMB_ATOMIC_CMPXCHG)
		vstate_cur(st)->regs[0] = loaded;
	else if (in->imm & COMB_ATOMIC_FETCH)
		vstate_cur(st)->regs[in->src] = loaded;
	return 0;
}

/* Helper memory arguments: [reg, reg + size) readable (and initialized when
 * init), writable when write. */
int verifier_check_mem_region(struct venv *env, struct vstate *st, size_t idx, int regno,
			      uint64_t size, bool write, bool init, const char *what)
{
	struct vreg p = vstate_cur(st)->regs[regno];
	if (size > (1u << 29))
		return verifier_reject(env, st, idx, "%s: size %llu is too large", what,
				       (unsigned long long)size);
	if (size == 0)
		return 0;
	struct access a = { .idx = idx, .regno = regno, .ptr = &p, .off = 0, .size = (int)size,
			    .write = write };
	if (p.type == VT_STACK) {
		int64_t lo = 0, hi = 0;
		if (!access_range(&a, &lo, &hi) || lo < -COMB_STACK_SIZE || hi > 0)
			return verifier_reject(env, st, idx, "%s: r%d points to %llu stack bytes at fp%+d, "
					       "which leave the %d-byte frame", what, regno,
					       (unsigned long long)size, p.off, COMB_STACK_SIZE);
		struct vframe *f = st->frames[p.frameno];
		note_depth(env, st, &p, lo);
		if (init || !write)
			verifier_stack_note_read(env, st, p.frameno, lo, hi);
		for (int64_t b = lo; b < hi && (init || !write); b++)
			if (f->stype[vstack_index((int32_t)b)] == SLOT_DYNPTR)
				return verifier_reject(env, st, idx, "%s: r%d passes the bytes of the dynptr at "
						       "fp%lld as memory: a struct bpf_dynptr is opaque; pass "
						       "it where a dynptr is expected", what, regno, (long long)b);
		if (write) {
			int rc = verifier_dynptr_stack_write(env, st, idx, p.frameno, lo, hi, true, true);
			if (rc)
				return rc;
		}
		if (init) {
			for (int64_t b = lo; b < hi; b++) {
				uint8_t t = f->stype[vstack_index((int32_t)b)];
				if (t == SLOT_INVALID && env->strict)
					return verifier_reject(env, st, idx,
							       "%s: stack byte fp%lld passed in r%d was never "
							       "written: initialize the whole buffer (e.g. with "
							       "__builtin_memset) before the call",
							       what, (long long)b, regno);
			}
		}
		if (write)
			verifier_stack_mark_written(env, st, &p, 0, size);
		return 0;
	}
	if (p.type == VT_CTX)
		return verifier_reject(env, st, idx, "%s: the context cannot be passed as memory", what);
	struct vreg dummy;
	struct vreg unknown = vreg_unknown();
	a.out = &dummy;
	a.value = &unknown;
	return check_access(env, st, &a);
}
