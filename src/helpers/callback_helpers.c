/* src/helpers/callback_helpers.c - bpf_loop and bpf_for_each_map_elem.
 *
 * Both call a function of the program (the value an LDDW with pseudo
 * source FUNC loaded) through comb_call_callback, in the caller's engine.
 * The callback returns 0 to go on and 1 to stop; the helper returns how
 * many calls were made (the stopping one included), as the kernel does.
 * loop: flags must be 0 (-EINVAL), at most 1 << 23 iterations (-E2BIG),
 * callback(index, ctx). for_each_map_elem: flags must be 0; for array,
 * hash and LRU maps (per-CPU ones too: the value is the running CPU's
 * slot), callback(map, &key, &value, ctx) for each element in
 * get_next_key order. The next key is fetched before each call, so a
 * callback may delete the element it is given; the walk never makes more
 * than max_entries calls.
 *
 * A failing callback (a fault in the checked engine, the instruction
 * budget) stops the walk; the VM then ends the whole run with that error.
 * Keys are handed over in a buffer of the helper's, which the checked
 * engine does not let a program read (values are in map storage and are
 * readable): checked programs may use the value and the context only.
 */
#include <errno.h>
#include <string.h>

#include "helpers/helpers.h"
#include "maps/internal.h"

#define LOOP_MAX (1u << 23)
#define KEY_MAX  512

static uint64_t helper_loop(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			    struct comb_call_ctx *cc)
{
	if (r4)
		return (uint64_t)-EINVAL;
	if (r1 > LOOP_MAX)
		return (uint64_t)-E2BIG;
	uint32_t count = (uint32_t)r1;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t ret = 0;
		if (comb_call_callback(cc, r2, i, r3, 0, 0, 0, &ret) != 0)
			return i + 1;
		if (ret)
			return i + 1;
	}
	return count;
}

static bool for_each_supported(uint32_t type)
{
	switch (type) {
	case COMB_MAP_ARRAY:
	case COMB_MAP_PERCPU_ARRAY:
	case COMB_MAP_HASH:
	case COMB_MAP_PERCPU_HASH:
	case COMB_MAP_LRU_HASH:
	case COMB_MAP_LRU_PERCPU_HASH:
		return true;
	default:
		return false;
	}
}

static uint64_t helper_for_each_map_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
					 struct comb_call_ctx *cc)
{
	struct comb_map *map = helper_map_arg(cc, r1);
	if (!map || r4 || !for_each_supported(map->info.type) || map->info.key_size > KEY_MAX)
		return (uint64_t)-EINVAL;
	uint8_t key[KEY_MAX], next[KEY_MAX];
	bool have_next = comb_map_get_next_key(map, NULL, next) == 0;
	uint64_t calls = 0;
	uint64_t steps_left = 2ull * map->info.max_entries + 2; /* deletes may restart the walk */
	while (have_next && calls < map->info.max_entries && steps_left--) {
		memcpy(key, next, map->info.key_size);
		have_next = comb_map_get_next_key(map, key, next) == 0;
		void *value = comb_map_lookup_ptr(map, key);
		if (!value)
			continue; /* deleted since its key was fetched */
		uint64_t ret = 0;
		calls++;
		if (comb_call_callback(cc, r2, r1, (uint64_t)(uintptr_t)key, (uint64_t)(uintptr_t)value, r3, 0,
				       &ret) != 0 || ret)
			break;
	}
	return calls;
}

int comb_register_callback_helpers(struct comb_vm *vm)
{
	int rc = comb_vm_register_helper(vm, HELPER_LOOP, "loop", helper_loop);
	if (!rc)
		rc = comb_vm_register_helper(vm, HELPER_FOR_EACH_MAP_ELEM, "for_each_map_elem",
					     helper_for_each_map_elem);
	return rc;
}
