/* src/maps/queue.c - QUEUE (FIFO) and STACK (LIFO) maps.
 *
 * Storage (one region, no pointers): a header {head, tail, slots} and then
 * max_entries + 1 value slots used as a ring, as the kernel does: head is
 * where the next push goes, tail the oldest element; head == tail means
 * empty, head + 1 == tail (mod slots) full. A queue pops at tail, a stack at
 * head - 1. Kernel rules: key_size 0; push with BPF_EXIST into a full map
 * drops the oldest element (tail), without it -E2BIG; BPF_NOEXIST is
 * -EINVAL; pop and peek of an empty map -ENOENT; delete, get_next_key and a
 * keyed lookup are -EINVAL / NULL.
 *
 * Every operation holds the map lock (map_lock: process-shared), so
 * concurrent pushes and pops from threads and processes are exact. A push
 * writes the slot before it moves head, a pop reads before it moves tail:
 * a process killed in the middle leaves the old or the new state;
 * queue_recover only checks head and tail are inside the ring.
 */
#include <errno.h>
#include <string.h>

#include "maps/internal.h"
#include "maps/queue.h"

#define QUEUE_FLAGS      ((1u << 2) /* NUMA_NODE */ | COMB_F_RDONLY | COMB_F_WRONLY | \
			  COMB_F_RDONLY_PROG | COMB_F_WRONLY_PROG)
#define QUEUE_VALUE_MAX  (1u << 22) /* the kernel's KMALLOC_MAX_SIZE */
#define QUEUE_SLOTS_AT   64         /* slots start one cache line in */

struct queue_header {
	uint32_t head;
	uint32_t tail;
	uint32_t slots; /* max_entries + 1 */
	uint32_t reserved;
};

static struct queue_header *queue_header(const struct comb_map *map)
{
	return (struct queue_header *)map->storage;
}

static uint8_t *queue_slot(const struct comb_map *map, uint32_t index)
{
	return map->storage + QUEUE_SLOTS_AT + (uint64_t)index * map->value_stride;
}

static void queue_lock(struct comb_map *map)
{
	map_lock(map);
}

static void queue_unlock(struct comb_map *map)
{
	map_unlock(map);
}

static int queue_init(struct comb_map *map, char *err, size_t err_len)
{
	const struct comb_map_info *in = &map->info;
	if (in->key_size != 0)
		return map_fail(err, err_len, -EINVAL, map, "key_size must be 0 (it is %u)", in->key_size);
	if (in->value_size == 0 || in->max_entries == 0)
		return map_fail(err, err_len, -EINVAL, map, "value_size and max_entries must be non-zero");
	int rc = map_check_flags(map, QUEUE_FLAGS, err, err_len);
	if (rc)
		return rc;
	if (in->value_size > QUEUE_VALUE_MAX)
		return map_fail(err, err_len, -E2BIG, map, "value_size %u is larger than %u", in->value_size,
				QUEUE_VALUE_MAX);
	map->value_stride = (uint32_t)map_round8(in->value_size);
	uint64_t slots = (uint64_t)in->max_entries + 1;
	rc = map_alloc_storage(map, QUEUE_SLOTS_AT + slots * map->value_stride, err, err_len);
	if (rc)
		return rc;
	queue_header(map)->slots = (uint32_t)slots;
	return 0;
}

static bool queue_is_stack(const struct comb_map *map)
{
	return map->info.type == COMB_MAP_STACK;
}

int queue_push(struct comb_map *map, const void *value, uint64_t flags)
{
	if ((flags & COMB_NOEXIST) || flags > COMB_EXIST)
		return -EINVAL;
	queue_lock(map);
	struct queue_header *h = queue_header(map);
	uint32_t next = h->head + 1 == h->slots ? 0 : h->head + 1;
	if (next == h->tail) {
		if (!(flags & COMB_EXIST)) {
			queue_unlock(map);
			return -E2BIG;
		}
		h->tail = h->tail + 1 == h->slots ? 0 : h->tail + 1; /* drop the oldest */
	}
	memcpy(queue_slot(map, h->head), value, map->info.value_size);
	__atomic_store_n(&h->head, next, __ATOMIC_RELEASE);
	queue_unlock(map);
	return 0;
}

/* Pop (delete != 0) or peek the element a queue or stack hands out next. */
int queue_pop(struct comb_map *map, void *value, int delete)
{
	queue_lock(map);
	struct queue_header *h = queue_header(map);
	if (h->head == h->tail) {
		queue_unlock(map);
		return -ENOENT;
	}
	uint32_t index;
	if (queue_is_stack(map)) {
		index = h->head == 0 ? h->slots - 1 : h->head - 1;
		if (delete)
			h->head = index;
	} else {
		index = h->tail;
		if (delete)
			h->tail = h->tail + 1 == h->slots ? 0 : h->tail + 1;
	}
	memcpy(value, queue_slot(map, index), map->info.value_size);
	queue_unlock(map);
	return 0;
}

static int queue_recover(struct comb_map *map)
{
	const struct queue_header *h = queue_header(map);
	if (h->slots != map->info.max_entries + 1 || h->head >= h->slots || h->tail >= h->slots)
		return -EINVAL;
	return 0;
}

static int queue_lookup(struct comb_map *map, const void *key, void *value)
{
	return queue_pop(map, value, 0);
}

static int queue_update(struct comb_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
	return queue_push(map, value, flags);
}

static int queue_delete(struct comb_map *map, const void *key)
{
	return -EINVAL;
}

static int queue_get_next_key(struct comb_map *map, const void *key, void *next_key)
{
	return -EINVAL;
}

static void *queue_lookup_ptr(struct comb_map *map, const void *key)
{
	return NULL;
}

const struct map_ops comb_queue_ops = {
	.init = queue_init,
	.lookup = queue_lookup,
	.update = queue_update,
	.delete = queue_delete,
	.get_next_key = queue_get_next_key,
	.lookup_ptr = queue_lookup_ptr,
	.recover = queue_recover,
};

/* STACK shares every operation; queue_pop looks at the type. */
const struct map_ops comb_stack_ops = {
	.init = queue_init,
	.lookup = queue_lookup,
	.update = queue_update,
	.delete = queue_delete,
	.get_next_key = queue_get_next_key,
	.lookup_ptr = queue_lookup_ptr,
	.recover = queue_recover,
};

int map_push_elem(struct comb_map *map, const void *value, uint64_t flags)
{
	switch (map->info.type) {
	case COMB_MAP_QUEUE:
	case COMB_MAP_STACK:
		return queue_push(map, value, flags);
	case COMB_MAP_BLOOM_FILTER:
		return bloom_push(map, value, flags);
	default:
		return -EINVAL;
	}
}

int map_pop_elem(struct comb_map *map, void *value)
{
	switch (map->info.type) {
	case COMB_MAP_QUEUE:
	case COMB_MAP_STACK:
		return queue_pop(map, value, 1);
	case COMB_MAP_BLOOM_FILTER:
		return -ENOTSUP;
	default:
		return -EINVAL;
	}
}

int map_peek_elem(struct comb_map *map, void *value)
{
	switch (map->info.type) {
	case COMB_MAP_QUEUE:
	case COMB_MAP_STACK:
		return queue_pop(map, value, 0);
	case COMB_MAP_BLOOM_FILTER:
		return bloom_peek(map, value);
	default:
		return -EINVAL;
	}
}
