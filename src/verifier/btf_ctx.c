/* src/verifier/btf_ctx.c - contexts and kernel objects typed by BTF.
 *
 * Tracing programs (fentry, fexit, fmod_ret, tp_btf, lsm) get as context an
 * array of 64-bit arguments whose types are those of their target in the
 * kernel's BTF: fentry/fexit/fmod_ret the FUNC named by the section, lsm
 * bpf_lsm_NAME, tp_btf the typedef btf_trace_NAME (a pointer to a prototype
 * whose first parameter, the tracepoint's private data, is not passed). fexit
 * and fmod_ret also see the return value after the arguments. As the kernel's
 * btf_ctx_access: reads only, at a multiple of 8, of an argument that
 * exists (iterators: the parameters of bpf_iter_NAME, which may be NULL);
 * a pointer to a struct or union becomes a PTR_TO_BTF_ID of it
 * (VT_BTF_ID), everything else a number. Without a target in the BTF (an
 * offline check with no kernel BTF) the 12 arguments are unknown numbers.
 *
 * A VT_BTF_ID pointer is a kernel object the program may read field by
 * field (btf_struct_access): at a constant offset, inside the struct's size;
 * a pointer field to a struct read whole becomes VT_BTF_ID of that struct,
 * anything else a number. It is never written. These loads are "probe
 * loads", as the kernel's BPF_PROBE_MEM: the verifier proves they stay inside
 * the object the type describes, not that the object exists (the pointer may
 * be NULL or stale), so an engine must run them as fault-tolerant reads that
 * give 0 when the address is not readable memory (bpf_probe_read_kernel's
 * semantics). In user space the objects are those of the synthesized context
 * a run provides. A test of such a pointer against NULL explores both ways.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include <linux/bpf.h>

#include "loader/btf.h"
#include "verifier/internal.h"

#define MAX_TRACING_ARGS 12

static const struct btf_type *skip_mods(const struct btf *btf, uint32_t id, uint32_t *out_id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (out_id)
		*out_id = id;
	return t;
}

/* The struct or union a pointer type id points to (0 if it is not one). */
static uint32_t pointee_struct(const struct btf *btf, uint32_t type_id)
{
	const struct btf_type *t = skip_mods(btf, type_id, NULL);
	if (!t || !btf_is_ptr(t))
		return 0;
	uint32_t id;
	t = skip_mods(btf, t->type, &id);
	return t && btf_is_composite(t) ? id : 0;
}

/* "fentry/vfs_read" -> "vfs_read"; "fentry/module:func" -> "func". */
static const char *target_name(const char *attach_target)
{
	const char *slash = strrchr(attach_target, '/');
	const char *name = slash ? slash + 1 : attach_target;
	const char *colon = strrchr(name, ':');
	return colon ? colon + 1 : name;
}

static const struct btf_type *find_proto(const struct btf *btf, uint32_t attach_type, const char *name,
					 bool *skip_first)
{
	char full[256];
	int id;
	*skip_first = false;
	if (attach_type == BPF_TRACE_RAW_TP) {
		snprintf(full, sizeof(full), "btf_trace_%s", name);
		id = btf__find_by_name_kind(btf, full, BTF_KIND_TYPEDEF);
		const struct btf_type *t = id > 0 ? skip_mods(btf, (uint32_t)id, NULL) : NULL;
		if (!t || !btf_is_ptr(t))
			return NULL;
		t = skip_mods(btf, t->type, NULL);
		*skip_first = true;
		return t && btf_is_func_proto(t) ? t : NULL;
	}
	if (attach_type == BPF_LSM_MAC || attach_type == BPF_LSM_CGROUP)
		snprintf(full, sizeof(full), "bpf_lsm_%s", name);
	else if (attach_type == BPF_TRACE_ITER)
		snprintf(full, sizeof(full), "bpf_iter_%s", name);
	else
		snprintf(full, sizeof(full), "%s", name);
	id = btf__find_by_name_kind(btf, full, BTF_KIND_FUNC);
	const struct btf_type *fn = id > 0 ? btf__type_by_id(btf, (uint32_t)id) : NULL;
	const struct btf_type *proto = fn ? btf__type_by_id(btf, fn->type) : NULL;
	return proto && btf_is_func_proto(proto) ? proto : NULL;
}

bool verifier_is_btf_ctx(const struct venv *env)
{
	return env->prog_type == BPF_PROG_TYPE_TRACING || env->prog_type == BPF_PROG_TYPE_LSM;
}

int verifier_btf_ctx_init(struct venv *env)
{
	env->ctx_nargs = MAX_TRACING_ARGS;
	env->ctx_typed = false;
	if (!verifier_is_btf_ctx(env) || !env->btf || !env->attach_target)
		return 0;
	bool skip_first;
	const char *name = target_name(env->attach_target);
	const struct btf_type *proto = find_proto(env->btf, env->attach_type, name, &skip_first);
	if (!proto)
		return 0;
	const struct btf_param *params = btf_params(proto);
	int n = btf_vlen(proto), first = skip_first ? 1 : 0, k = 0;
	for (int i = first; i < n && k < MAX_TRACING_ARGS; i++) {
		if (i == n - 1 && params[i].type == 0)
			break; /* variadic */
		env->ctx_arg_type[k++] = params[i].type;
	}
	bool with_ret = env->attach_type == BPF_TRACE_FEXIT || env->attach_type == BPF_MODIFY_RETURN;
	if (with_ret && k < MAX_TRACING_ARGS)
		env->ctx_arg_type[k++] = proto->type; /* 0 (void): a number */
	env->ctx_nargs = k;
	env->ctx_typed = true;
	return 0;
}

static struct vreg btf_pointer(uint32_t struct_id)
{
	struct vreg r = vreg_const(0);
	r.type = VT_BTF_ID;
	r.btf_id = struct_id;
	return r;
}

static struct vreg number_of_size(int size)
{
	if (size >= 8)
		return vreg_unknown();
	return vreg_scalar(comb_scalar_urange(0, (UINT64_C(1) << (8 * size)) - 1));
}

int verifier_btf_ctx_access(struct venv *env, struct vstate *st, size_t idx, int64_t off, int size,
			    bool write, struct vreg *out)
{
	if (write)
		return verifier_reject(env, st, idx, "the arguments of a tracing program are read-only");
	if (off < 0 || off % 8 != 0 || off / 8 >= env->ctx_nargs)
		return verifier_reject(env, st, idx, "context offset %lld is not one of the %d arguments "
				       "(8 bytes each) of %s", (long long)off, env->ctx_nargs,
				       env->attach_target ? target_name(env->attach_target) : "the target");
	if (off % size != 0)
		return verifier_reject(env, st, idx, "misaligned read of argument %lld", (long long)(off / 8));
	uint32_t type = env->ctx_typed ? env->ctx_arg_type[off / 8] : 0;
	uint32_t sid = type && env->btf ? pointee_struct(env->btf, type) : 0;
	if (sid && size == 8) {
		*out = btf_pointer(sid);
		return 0;
	}
	if (sid && env->strict)
		return verifier_reject(env, st, idx, "partial read of a pointer argument would leak an address");
	*out = number_of_size(size);
	return 0;
}

/* The field at byte off of composite type id: a struct pointer read whole
 * (8 bytes exactly at a pointer member) gives *ptr_struct; 0 otherwise. */
static uint32_t field_pointer(const struct btf *btf, uint32_t id, uint32_t off, int size, int depth)
{
	const struct btf_type *t = skip_mods(btf, id, &id);
	if (!t || depth > 16)
		return 0;
	if (btf_is_array(t)) {
		const struct btf_array *arr = btf_array(t);
		__s64 esz = btf__resolve_size(btf, arr->type);
		if (esz <= 0)
			return 0;
		return field_pointer(btf, arr->type, (uint32_t)(off % (uint64_t)esz), size, depth + 1);
	}
	if (btf_is_ptr(t))
		return off == 0 && size == 8 ? pointee_struct(btf, id) : 0;
	if (!btf_is_composite(t))
		return 0;
	const struct btf_member *m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		if (btf_member_bitfield_size(t, i))
			continue;
		uint32_t moff = btf_member_bit_offset(t, i) / 8;
		__s64 msz = btf__resolve_size(btf, m->type);
		if (msz <= 0 || off < moff || off + (uint32_t)size > moff + (uint64_t)msz)
			continue;
		uint32_t found = field_pointer(btf, m->type, off - moff, size, depth + 1);
		if (found)
			return found;
	}
	return 0;
}

int verifier_btf_struct_access(struct venv *env, struct vstate *st, size_t idx, int regno,
			       const struct vreg *ptr, int64_t insn_off, int size, bool write, struct vreg *out)
{
	if (write)
		return verifier_reject(env, st, idx, "r%d points to a kernel object (read-only to the "
				       "program): it cannot be written", regno);
	if (!comb_scalar_is_const(&ptr->var))
		return verifier_reject(env, st, idx, "r%d points into a kernel object at a variable "
				       "offset: read fields at constant offsets (or use "
				       "bpf_probe_read_kernel)", regno);
	int64_t off = (int64_t)ptr->off + insn_off + (int64_t)ptr->var.umin;
	const struct btf_type *t = env->btf && ptr->btf_id ? btf__type_by_id(env->btf, ptr->btf_id) : NULL;
	if (!t) {
		/* untyped (a helper's object without BTF to describe it) */
		return verifier_reject(env, st, idx, "r%d points to a kernel object whose type is not "
				       "known (no kernel BTF): read it with bpf_probe_read_kernel", regno);
	}
	__s64 struct_size = btf__resolve_size(env->btf, ptr->btf_id);
	const char *name = btf__name_by_offset(env->btf, t->name_off);
	if (off < 0 || struct_size < 0 || off + size > struct_size)
		return verifier_reject(env, st, idx, "read of bytes [%lld, %lld) is outside struct %s "
				       "(%lld bytes) that r%d points to", (long long)off, (long long)(off + size),
				       name && *name ? name : "(anon)", (long long)struct_size, regno);
	uint32_t sid = field_pointer(env->btf, ptr->btf_id, (uint32_t)off, size, 0);
	*out = sid ? btf_pointer(sid) : number_of_size(size);
	return 0;
}

uint32_t verifier_btf_struct_id(const struct venv *env, const char *name)
{
	if (!env->btf || !name)
		return 0;
	int id = btf__find_by_name_kind(env->btf, name, BTF_KIND_STRUCT);
	return id > 0 ? (uint32_t)id : 0;
}

const char *verifier_btf_struct_name(const struct venv *env, uint32_t id)
{
	const struct btf_type *t = env->btf && id ? btf__type_by_id(env->btf, id) : NULL;
	const char *name = t ? btf__name_by_offset(env->btf, t->name_off) : NULL;
	return name && *name ? name : "?";
}

int verifier_btf_open(struct venv *env, const char *path)
{
	char err[256];
	struct btf *btf = NULL;
	if (comb_btf_load_target(path, &btf, err, sizeof(err)))
		return 0; /* no kernel BTF: contexts stay untyped */
	env->btf = btf;
	env->own_btf = true;
	return 0;
}
