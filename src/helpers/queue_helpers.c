/* src/helpers/queue_helpers.c - bpf_map_push_elem, pop_elem, peek_elem.
 *
 * For QUEUE, STACK and BLOOM_FILTER maps (src/maps/queue.h dispatches on the
 * type). The checked engine first makes sure the map is one the program may
 * use and that the value may be read (push) or written (pop, peek); errors
 * come back as the kernel's negative codes.
 */
#include <errno.h>

#include "helpers/helpers.h"
#include "maps/internal.h"
#include "maps/queue.h"

static uint64_t helper_map_push_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				     struct comb_call_ctx *cc)
{
	struct comb_map *map = helper_map_arg(cc, r1);
	const void *value = (const void *)(uintptr_t)r2;
	if (!map)
		return (uint64_t)-EINVAL;
	if (comb_call_check_mem(cc, value, map->info.value_size, false))
		return (uint64_t)-EFAULT;
	return (uint64_t)(int64_t)map_push_elem(map, value, r3);
}

static uint64_t helper_map_pop_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				    struct comb_call_ctx *cc)
{
	struct comb_map *map = helper_map_arg(cc, r1);
	void *value = (void *)(uintptr_t)r2;
	if (!map)
		return (uint64_t)-EINVAL;
	if (comb_call_check_mem(cc, value, map->info.value_size, true))
		return (uint64_t)-EFAULT;
	return (uint64_t)(int64_t)map_pop_elem(map, value);
}

/* Bloom filters only read the value (it is the one to test). */
static uint64_t helper_map_peek_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				     struct comb_call_ctx *cc)
{
	struct comb_map *map = helper_map_arg(cc, r1);
	void *value = (void *)(uintptr_t)r2;
	if (!map)
		return (uint64_t)-EINVAL;
	bool writes = map->info.type != COMB_MAP_BLOOM_FILTER;
	if (comb_call_check_mem(cc, value, map->info.value_size, writes))
		return (uint64_t)-EFAULT;
	return (uint64_t)(int64_t)map_peek_elem(map, value);
}

int comb_register_queue_helpers(struct comb_vm *vm)
{
	int rc = comb_vm_register_helper(vm, HELPER_MAP_PUSH_ELEM, "map_push_elem", helper_map_push_elem);
	if (!rc)
		rc = comb_vm_register_helper(vm, HELPER_MAP_POP_ELEM, "map_pop_elem", helper_map_pop_elem);
	if (!rc)
		rc = comb_vm_register_helper(vm, HELPER_MAP_PEEK_ELEM, "map_peek_elem", helper_map_peek_elem);
	return rc;
}
