/* src/helpers/map_helpers.c - bpf_map_lookup_elem, _update_elem, _delete_elem.
 *
 * r1 is a struct comb_map * (the loader resolves LDDW map references to map
 * pointers). The fast engine trusts it, as the kernel trusts verified
 * programs; the checked engine first makes sure it is a map the program may
 * use (helper_map_arg) and that key and value memory may be read
 * (comb_call_check_mem), answering -EINVAL / -EFAULT otherwise. Lookup
 * returns a pointer into the map's storage (or NULL); for a checked run an
 * error code comes back in its place, so a program that uses it faults there.
 */
#include <errno.h>
#include <string.h>

#include "helpers/helpers.h"
#include "maps/internal.h"
#include "vm/internal.h"

/* Is candidate stored as a value of the map of maps outer? */
static bool map_holds_inner(struct comb_map *outer, const struct comb_map *candidate)
{
	uint8_t key[512], next[512];
	const void *prev = NULL;
	while (comb_map_get_next_key(outer, prev, next) == 0) {
		if (comb_map_lookup_ptr(outer, next) == candidate)
			return true;
		memcpy(key, next, outer->info.key_size);
		prev = key;
	}
	return false;
}

struct comb_map *helper_map_arg(const struct comb_call_ctx *cc, uint64_t reg)
{
	struct comb_map *map = (struct comb_map *)(uintptr_t)reg;
	if (!cc->run || !cc->run->checked)
		return map;
	const struct comb_prog *prog = cc->prog;
	if (comb_prog_has_map(prog, map))
		return map;
	for (size_t i = 0; i < prog->map_count; i++) {
		uint32_t type = prog->maps[i]->info.type;
		if ((type == COMB_MAP_ARRAY_OF_MAPS || type == COMB_MAP_HASH_OF_MAPS) &&
		    map_holds_inner(prog->maps[i], map))
			return map;
	}
	return NULL;
}

static uint64_t errno_value(int rc)
{
	return (uint64_t)(int64_t)rc;
}

/* Unchecked runs (verified programs, the JIT) go straight to the family's
 * lookup: this is the hottest helper, so no extra calls on its way. */
static uint64_t helper_map_lookup_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	const void *key = (const void *)(uintptr_t)r2;
	if (__builtin_expect(cc->run && !cc->run->checked, 1)) {
		struct comb_map *map = (struct comb_map *)(uintptr_t)r1;
		return (uint64_t)(uintptr_t)map->ops->lookup_ptr(map, key);
	}
	struct comb_map *map = helper_map_arg(cc, r1);
	if (!map)
		return errno_value(-EINVAL);
	if (comb_call_check_mem(cc, key, map->info.key_size, false))
		return errno_value(-EFAULT);
	return (uint64_t)(uintptr_t)comb_map_lookup_ptr(map, key);
}

static uint64_t helper_map_update_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	struct comb_map *map = helper_map_arg(cc, r1);
	const void *key = (const void *)(uintptr_t)r2, *value = (const void *)(uintptr_t)r3;
	if (!map)
		return errno_value(-EINVAL);
	if (comb_call_check_mem(cc, key, map->info.key_size, false) ||
	    comb_call_check_mem(cc, value, map->info.value_size, false))
		return errno_value(-EFAULT);
	return errno_value(comb_map_update_from_prog(map, key, value, r4));
}

static uint64_t helper_map_delete_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	struct comb_map *map = helper_map_arg(cc, r1);
	const void *key = (const void *)(uintptr_t)r2;
	if (!map)
		return errno_value(-EINVAL);
	if (comb_call_check_mem(cc, key, map->info.key_size, false))
		return errno_value(-EFAULT);
	return errno_value(comb_map_delete_from_prog(map, key));
}

int comb_register_map_helpers(struct comb_vm *vm)
{
	int rc = comb_vm_register_helper(vm, HELPER_MAP_LOOKUP_ELEM, "map_lookup_elem", helper_map_lookup_elem);
	if (!rc)
		rc = comb_vm_register_helper(vm, HELPER_MAP_UPDATE_ELEM, "map_update_elem", helper_map_update_elem);
	if (!rc)
		rc = comb_vm_register_helper(vm, HELPER_MAP_DELETE_ELEM, "map_delete_elem", helper_map_delete_elem);
	return rc;
}
