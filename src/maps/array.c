/* src/maps/array.c - array maps: ARRAY, PERCPU_ARRAY, PROG_ARRAY,
 * ARRAY_OF_MAPS (PERF_EVENT_ARRAY: perf_event_array.c).
 *
 * Keys are u32 indexes; every entry exists from creation (zeroed), so
 * BPF_NOEXIST always fails with -EEXIST and delete is -EINVAL, as in the
 * kernel. Entry i of a per-CPU array keeps its nr_cpus slots side by side at
 * storage + (i * nr_cpus + cpu) * value_stride, which is also the layout user
 * space reads and writes. Program arrays and arrays of maps store 8-byte
 * pointers (to a struct comb_prog or struct comb_map) although their declared
 * value_size is 4 (the kernel's fd); user space passes a pointer to the
 * pointer. Storage is the map's shared region (region.c); array operations
 * take no lock. A value of 4 or 8 bytes is written with one atomic store
 * (so a writer killed mid-update leaves the old or the new value); larger
 * values are copied in place, as in the kernel (use bpf_spin_lock or atomic
 * adds for multi-word consistency).
 */
#include <errno.h>
#include <string.h>

#include "maps/internal.h"

#define FLAG_NUMA_NODE  (1u << 2)
#define FLAG_PRESERVE   (1u << 11)
#define FLAG_INNER_MAP  (1u << 12)
#define ACCESS_FLAGS    (COMB_F_RDONLY | COMB_F_WRONLY | COMB_F_RDONLY_PROG | COMB_F_WRONLY_PROG)
#define ARRAY_VALUE_MAX (1u << 22)   /* the kernel's KMALLOC_MAX_SIZE */
#define PERCPU_VALUE_MAX (1u << 15)  /* the kernel's PCPU_MIN_UNIT_SIZE */

static uint8_t *array_slot(struct comb_map *map, uint32_t index, uint32_t cpu)
{
	return map->storage + ((uint64_t)index * map->nr_cpus + cpu) * map->value_stride;
}

/* One store for word-sized values; memcpy otherwise. */
static void store_value(uint8_t *slot, const void *value, uint32_t size)
{
	if (size == 8) {
		uint64_t v;
		memcpy(&v, value, 8);
		__atomic_store_n((uint64_t *)slot, v, __ATOMIC_RELEASE);
	} else if (size == 4) {
		uint32_t v;
		memcpy(&v, value, 4);
		__atomic_store_n((uint32_t *)slot, v, __ATOMIC_RELEASE);
	} else {
		memcpy(slot, value, size);
	}
}

static int array_init_common(struct comb_map *map, uint32_t allowed_flags, uint32_t value_max,
			     char *err, size_t err_len)
{
	const struct comb_map_info *in = &map->info;
	if (in->key_size != 4)
		return map_fail(err, err_len, -EINVAL, map, "key_size is %u, array maps need 4", in->key_size);
	if (in->value_size == 0 || in->max_entries == 0)
		return map_fail(err, err_len, -EINVAL, map, "value_size and max_entries must be non-zero");
	if (in->value_size > value_max)
		return map_fail(err, err_len, -E2BIG, map, "value_size %u is larger than %u", in->value_size,
				value_max);
	int rc = map_check_flags(map, allowed_flags, err, err_len);
	if (rc)
		return rc;
	if (!map->value_stride)
		map->value_stride = (uint32_t)map_round8(in->value_size);
	return map_alloc_storage(map, (uint64_t)in->max_entries * map->nr_cpus * map->value_stride, err,
				 err_len);
}

static int array_init(struct comb_map *map, char *err, size_t err_len)
{
	return array_init_common(map, FLAG_NUMA_NODE | ACCESS_FLAGS | COMB_F_MMAPABLE | FLAG_INNER_MAP,
				 ARRAY_VALUE_MAX, err, err_len);
}

static int percpu_array_init(struct comb_map *map, char *err, size_t err_len)
{
	map->percpu = true;
	map->nr_cpus = map_possible_cpus();
	return array_init_common(map, FLAG_NUMA_NODE | ACCESS_FLAGS | FLAG_INNER_MAP, PERCPU_VALUE_MAX,
				 err, err_len);
}

/* Values that are pointers: declared value_size 4 (the kernel's fd). */
static int pointer_array_init(struct comb_map *map, char *err, size_t err_len)
{
	if (map->info.value_size != 4)
		return map_fail(err, err_len, -EINVAL, map, "value_size is %u, this type needs 4",
				map->info.value_size);
	map->holds_pointers = true;
	map->value_stride = sizeof(void *);
	return array_init_common(map, FLAG_NUMA_NODE | COMB_F_RDONLY | COMB_F_WRONLY | FLAG_PRESERVE,
				 4, err, err_len);
}

static int array_lookup(struct comb_map *map, const void *key, void *value)
{
	uint32_t index;
	memcpy(&index, key, sizeof(index));
	if (index >= map->info.max_entries)
		return -ENOENT;
	if (!map->percpu) {
		memcpy(value, array_slot(map, index, 0), map->info.value_size);
		return 0;
	}
	memcpy(value, array_slot(map, index, 0), (size_t)map->nr_cpus * map->value_stride);
	return 0;
}

static int array_update(struct comb_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
	uint32_t index;
	memcpy(&index, key, sizeof(index));
	if (index >= map->info.max_entries)
		return -E2BIG;
	if (flags & COMB_NOEXIST)
		return -EEXIST;
	if (!map->percpu) {
		store_value(array_slot(map, index, 0), value, map->info.value_size);
	} else if (cpu == MAP_ALL_CPUS) {
		for (uint32_t c = 0; c < map->nr_cpus; c++)
			memcpy(array_slot(map, index, c), (const uint8_t *)value + (size_t)c * map->value_stride,
			       map->info.value_size);
	} else {
		memcpy(array_slot(map, index, (uint32_t)cpu), value, map->info.value_size);
	}
	return 0;
}

static int array_delete(struct comb_map *map, const void *key)
{
	return -EINVAL;
}

static int array_get_next_key(struct comb_map *map, const void *key, void *next_key)
{
	uint32_t index = 0, next = 0;
	if (key)
		memcpy(&index, key, sizeof(index));
	if (key && index < map->info.max_entries) {
		if (index == map->info.max_entries - 1)
			return -ENOENT;
		next = index + 1;
	}
	memcpy(next_key, &next, sizeof(next));
	return 0;
}

static void *array_lookup_ptr(struct comb_map *map, const void *key)
{
	uint32_t index;
	memcpy(&index, key, sizeof(index));
	if (index >= map->info.max_entries)
		return NULL;
	return array_slot(map, index, map->percpu ? map_current_cpu(map) : 0);
}

static void *array_value(struct comb_map *map, uint32_t index)
{
	return index < map->info.max_entries ? array_slot(map, index, 0) : NULL;
}

/* Pointer arrays. The kernel's user-space lookup answers the program's or
 * map's id; comb has no ids yet, so it answers -ENOTSUP. */
static int pointer_array_lookup(struct comb_map *map, const void *key, void *value)
{
	return -ENOTSUP;
}

static int pointer_array_update(struct comb_map *map, const void *key, const void *value, uint64_t flags,
				int cpu)
{
	uint32_t index;
	void *pointer;
	memcpy(&index, key, sizeof(index));
	memcpy(&pointer, value, sizeof(pointer));
	if (flags != COMB_ANY)
		return -EINVAL;
	if (index >= map->info.max_entries)
		return -E2BIG;
	if (!pointer)
		return -EINVAL;
	__atomic_store((void **)array_slot(map, index, 0), &pointer, __ATOMIC_RELEASE);
	return 0;
}

static int pointer_array_delete(struct comb_map *map, const void *key)
{
	uint32_t index;
	memcpy(&index, key, sizeof(index));
	if (index >= map->info.max_entries)
		return -E2BIG;
	void *old = __atomic_exchange_n((void **)array_slot(map, index, 0), NULL, __ATOMIC_ACQ_REL);
	return old ? 0 : -ENOENT;
}

/* Programs never get a prog array's slots (the verifier forbids lookups). */
static void *prog_array_lookup_ptr(struct comb_map *map, const void *key)
{
	return NULL;
}

/* A program's lookup in an array of maps yields the inner map itself. */
static void *array_of_maps_lookup_ptr(struct comb_map *map, const void *key)
{
	uint32_t index;
	memcpy(&index, key, sizeof(index));
	if (index >= map->info.max_entries)
		return NULL;
	return map_slot_pointer(array_slot(map, index, 0));
}

const struct map_ops comb_array_ops = {
	.init = array_init, .lookup = array_lookup, .update = array_update, .delete = array_delete,
	.get_next_key = array_get_next_key, .lookup_ptr = array_lookup_ptr, .array_value = array_value,
};
const struct map_ops comb_percpu_array_ops = {
	.init = percpu_array_init, .lookup = array_lookup, .update = array_update,
	.delete = array_delete, .get_next_key = array_get_next_key, .lookup_ptr = array_lookup_ptr,
};
const struct map_ops comb_prog_array_ops = {
	.init = pointer_array_init, .lookup = pointer_array_lookup, .update = pointer_array_update,
	.delete = pointer_array_delete, .get_next_key = array_get_next_key,
	.lookup_ptr = prog_array_lookup_ptr,
};
const struct map_ops comb_array_of_maps_ops = {
	.init = pointer_array_init, .lookup = pointer_array_lookup, .update = pointer_array_update,
	.delete = pointer_array_delete, .get_next_key = array_get_next_key,
	.lookup_ptr = array_of_maps_lookup_ptr,
};
/* PERF_EVENT_ARRAY lives in perf_event_array.c. */

/* What bpf_tail_call jumps to: the program in slot index of a PROG_ARRAY. */
struct comb_prog *comb_map_prog_array_get(struct comb_map *map, uint32_t index)
{
	if (!map || map->ops != &comb_prog_array_ops || index >= map->info.max_entries)
		return NULL;
	return map_slot_pointer(array_slot(map, index, 0));
}
