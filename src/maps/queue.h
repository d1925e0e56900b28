/* src/maps/queue.h - push, pop and peek: QUEUE, STACK and BLOOM_FILTER.
 *
 * These maps have no keys (key_size 0); the kernel reaches them through
 * bpf_map_push_elem / pop_elem / peek_elem in programs, and through
 * BPF_MAP_UPDATE_ELEM (push), BPF_MAP_LOOKUP_ELEM (peek) and
 * BPF_MAP_LOOKUP_AND_DELETE_ELEM (pop) from user space. comb_map_update and
 * comb_map_lookup already dispatch to push and peek through map_ops; pop has
 * no public entry point yet, so the helpers and tests use these.
 * Each dispatches on the map type: -EINVAL for a map without the operation,
 * -ENOTSUP for pop on a bloom filter (the kernel's -EOPNOTSUPP).
 */
#ifndef COMB_MAPS_QUEUE_H
#define COMB_MAPS_QUEUE_H

#include <stdint.h>

struct comb_map;
struct map_ops;

/* The families' map_ops (registered in map.c's type table). */
extern const struct map_ops comb_queue_ops, comb_stack_ops, comb_bloom_filter_ops, comb_lpm_trie_ops;

int map_push_elem(struct comb_map *map, const void *value, uint64_t flags);
int map_pop_elem(struct comb_map *map, void *value);
int map_peek_elem(struct comb_map *map, void *value);

/* The families' own entry points (queue.c, bloom.c). */
int queue_push(struct comb_map *map, const void *value, uint64_t flags);
int queue_pop(struct comb_map *map, void *value, int delete);
int bloom_push(struct comb_map *map, const void *value, uint64_t flags);
int bloom_peek(struct comb_map *map, const void *value);

#endif
