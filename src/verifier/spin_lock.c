/* src/verifier/spin_lock.c - bpf_spin_lock pairing, as the kernel checks it.
 *
 * A map value may hold one struct bpf_spin_lock; where it is comes from the
 * map's BTF (the value type, or the variables of a global data section),
 * found once per map and cached in env->lock_off. The lock argument must
 * point exactly at that field. The state holds at most one lock (the map
 * and the id of the value pointer it was taken through: every lookup of a
 * map with a lock gets a fresh id, so two values of one map differ).
 * While it is held no helper but bpf_spin_unlock may be called (calls of
 * the program's own static functions are allowed, as the kernel does), no
 * legacy packet load runs, and the program may not exit; the unlock must
 * name the same value. Loads and stores may not touch the lock's bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/btf.h>

#include "verifier/internal.h"

enum { LOCK_NOT_LOOKED = -3, LOCK_NO_BTF = -2, LOCK_NONE = -1 };

#define SPIN_LOCK_SIZE 4

static bool is_lock_struct(const struct btf *btf, const struct btf_type *t)
{
	const char *name = btf__name_by_offset(btf, t->name_off);
	return btf_is_struct(t) && name && strcmp(name, "bpf_spin_lock") == 0;
}

/* Offset of the bpf_spin_lock inside type id (structs nest), or -1. */
static int64_t find_lock(const struct btf *btf, uint32_t id, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	if (!t || depth > 8)
		return LOCK_NONE;
	if (is_lock_struct(btf, t))
		return 0;
	if (btf_is_struct(t)) {
		const struct btf_member *m = btf_members(t);
		for (int i = 0; i < btf_vlen(t); i++) {
			int64_t in = find_lock(btf, m[i].type, depth + 1);
			if (in >= 0)
				return (int64_t)btf_member_bit_offset(t, (uint32_t)i) / 8 + in;
		}
	} else if (btf_is_datasec(t)) {
		const struct btf_var_secinfo *v = btf_var_secinfos(t);
		for (int i = 0; i < btf_vlen(t); i++) {
			const struct btf_type *var = btf__type_by_id(btf, v[i].type);
			int64_t in = var ? find_lock(btf, var->type, depth + 1) : LOCK_NONE;
			if (in >= 0)
				return v[i].offset + in;
		}
	}
	return LOCK_NONE;
}

static int64_t map_lock_offset_uncached(const struct comb_map *map)
{
	const void *data;
	size_t size;
	uint32_t key_id, value_id;
	if (!map || comb_map_get_btf(map, &data, &size, &key_id, &value_id) || !value_id)
		return LOCK_NO_BTF;
	struct btf *btf = btf__new(data, (uint32_t)size);
	if (!btf)
		return LOCK_NO_BTF;
	int64_t off = find_lock(btf, value_id, 0);
	btf__free(btf);
	return off;
}

/* Where the lock of map index is: >= 0, LOCK_NONE or LOCK_NO_BTF. */
static int64_t map_lock_offset(struct venv *env, uint32_t index)
{
	if (index & VMAP_INNER)
		return LOCK_NO_BTF; /* inner map templates carry no BTF here */
	if (index >= env->map_count)
		return LOCK_NONE;
	if (!env->lock_off) {
		env->lock_off = malloc(env->map_count * sizeof(*env->lock_off));
		if (!env->lock_off)
			return LOCK_NO_BTF;
		for (size_t i = 0; i < env->map_count; i++)
			env->lock_off[i] = LOCK_NOT_LOOKED;
	}
	if (env->lock_off[index] == LOCK_NOT_LOOKED)
		env->lock_off[index] = map_lock_offset_uncached(env->maps[index]);
	return env->lock_off[index];
}

bool verifier_map_has_lock(struct venv *env, uint32_t index)
{
	return map_lock_offset(env, index) >= 0;
}

int verifier_lock_check_map_use(struct venv *env, const struct vstate *st, size_t idx, uint32_t index)
{
	if (!verifier_map_has_lock(env, index))
		return 0;
	const char *who = NULL;
	switch (env->prog_type) {
	case BPF_PROG_TYPE_SOCKET_FILTER: who = "socket filter"; break;
	case BPF_PROG_TYPE_KPROBE: case BPF_PROG_TYPE_TRACEPOINT: case BPF_PROG_TYPE_PERF_EVENT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT: case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
		who = "tracing (kprobe, tracepoint, perf_event, raw_tracepoint)"; break;
	default: return 0;
	}
	struct comb_map_info info;
	comb_map_get_info(env->maps[index], &info);
	return verifier_reject(env, st, idx, "map %s holds a bpf_spin_lock, which %s programs may not "
			       "use (as the kernel): use a map without a lock, or an atomic operation "
			       "(__sync_fetch_and_add) instead", info.name ? info.name : "?", who);
}

int verifier_lock_check_access(struct venv *env, const struct vstate *st, size_t idx,
			       const struct vreg *ptr, int64_t lo, int64_t hi)
{
	int64_t at = map_lock_offset(env, ptr->map);
	if (at < 0 || hi <= at || lo >= at + SPIN_LOCK_SIZE)
		return 0;
	return verifier_reject(env, st, idx, "this access touches the bpf_spin_lock at offset %lld of the "
			       "map value: a lock may only be used through bpf_spin_lock and "
			       "bpf_spin_unlock", (long long)at);
}

/* The lock argument: exactly the bpf_spin_lock field of a map value. */
static int check_lock_arg(struct venv *env, const struct vstate *st, size_t idx, const char *name,
			  const struct vreg *r)
{
	if (r->type != VT_MAP_VALUE)
		return verifier_reject(env, st, idx, "%s: r1 must point to the struct bpf_spin_lock field "
				       "of a map value (e.g. `&v->lock` after a lookup), not %s", name,
				       verifier_type_name(r->type));
	if (!comb_scalar_is_const(&r->var))
		return verifier_reject(env, st, idx, "%s: r1 points into the map value at a variable offset: "
				       "pass the lock field itself (`&v->lock`)", name);
	struct comb_map_info info = { .name = "?" };
	if (!(r->map & VMAP_INNER))
		comb_map_get_info(verifier_map(env, r->map), &info);
	int64_t at = map_lock_offset(env, r->map), off = r->off + (int64_t)r->var.umin;
	if (at == LOCK_NO_BTF)
		return verifier_reject(env, st, idx, "%s: map %s has no BTF describing its value, so its "
				       "bpf_spin_lock cannot be found: define the map with __type(value, ...) "
				       "in SEC(\".maps\")", name, info.name ? info.name : "?");
	if (at == LOCK_NONE)
		return verifier_reject(env, st, idx, "%s: the value of map %s has no struct bpf_spin_lock "
				       "field: add one to the value type", name, info.name ? info.name : "?");
	if (off != at)
		return verifier_reject(env, st, idx, "%s: r1 points at offset %lld of the map value, but its "
				       "struct bpf_spin_lock is at offset %lld: pass `&v->lock`", name,
				       (long long)off, (long long)at);
	return 0;
}

int verifier_lock_helper(struct venv *env, struct vstate *st, size_t idx, uint32_t helper_id,
			 const char *name)
{
	const struct vreg *r = &vstate_cur(st)->regs[1];
	if (helper_id != BPF_FUNC_spin_lock && helper_id != BPF_FUNC_spin_unlock) {
		if (!st->lock_held)
			return 0;
		return verifier_reject(env, st, idx, "calls %s while holding the bpf_spin_lock taken at insn "
				       "%u: only bpf_spin_unlock may be called in the locked region; move the "
				       "call before bpf_spin_lock or after bpf_spin_unlock", name, st->lock_insn);
	}
	int rc = check_lock_arg(env, st, idx, name, r);
	if (rc)
		return rc;
	if (helper_id == BPF_FUNC_spin_lock) {
		if (st->lock_held)
			return verifier_reject(env, st, idx, "takes a second bpf_spin_lock while holding the one "
					       "taken at insn %u: only one lock may be held at a time; release "
					       "the first with bpf_spin_unlock", st->lock_insn);
		st->lock_held = true;
		st->lock_map = r->map;
		st->lock_id = r->id;
		st->lock_insn = (uint32_t)idx;
		return 0;
	}
	if (!st->lock_held)
		return verifier_reject(env, st, idx, "bpf_spin_unlock without a bpf_spin_lock on this path: "
				       "take the lock first, and unlock only on the paths that took it");
	if (st->lock_map != r->map || st->lock_id != r->id)
		return verifier_reject(env, st, idx, "bpf_spin_unlock of a different lock than the one taken "
				       "at insn %u: unlock the same map value's lock", st->lock_insn);
	st->lock_held = false;
	st->lock_map = st->lock_id = st->lock_insn = 0;
	return 0;
}

int verifier_lock_check_exit(struct venv *env, const struct vstate *st, size_t idx, const char *what)
{
	if (!st->lock_held)
		return 0;
	return verifier_reject(env, st, idx, "%s while holding the bpf_spin_lock taken at insn %u: call "
			       "bpf_spin_unlock on every path before it", what, st->lock_insn);
}
