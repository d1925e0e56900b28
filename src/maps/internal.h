/* src/maps/internal.h - what the map families share (not public).
 *
 * A struct comb_map is a header plus one storage region, mmap'ed anonymous
 * at creation and never resized: every key and value lives in it, so
 * pointers handed to programs stay valid for the map's lifetime and the
 * region can later move to shared memory. Each family (array.c, hash.c,
 * ringbuf.c) supplies a map_ops table; map.c dispatches to it and does the
 * checks every family shares.
 *
 * Values: value_stride is the bytes one value slot takes (value_size rounded
 * up to 8, or 8 for maps whose values are pointers to programs or maps);
 * per-CPU maps keep nr_cpus slots per entry, user space sees all of them
 * (nr_cpus * value_stride bytes), programs the slot of the CPU they run on.
 */
#ifndef COMB_MAPS_INTERNAL_H
#define COMB_MAPS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "comb/map.h"

/* cpu argument of map_ops.update: every slot, from user space. */
#define MAP_ALL_CPUS (-1)

struct map_ops {
	/* Check the definition (sizes, flags) and allocate storage. */
	int (*init)(struct comb_map *map, char *err, size_t err_len);
	int (*lookup)(struct comb_map *map, const void *key, void *value);
	/* cpu: MAP_ALL_CPUS from user space, else the program's CPU. */
	int (*update)(struct comb_map *map, const void *key, const void *value, uint64_t flags, int cpu);
	int (*delete)(struct comb_map *map, const void *key);
	int (*get_next_key)(struct comb_map *map, const void *key, void *next_key);
	void *(*lookup_ptr)(struct comb_map *map, const void *key);
	void *(*array_value)(struct comb_map *map, uint32_t index);
};

struct hash_state {
	uint32_t n_buckets;     /* power of two */
	uint32_t *buckets;      /* element index + 1 of each chain's head, 0: empty */
	uint8_t *pool;          /* max_entries elements of elem_size bytes */
	uint32_t elem_size;
	uint32_t key_stride;    /* key_size rounded up to 8 */
	uint32_t next_unused;   /* elements never used yet start here */
	uint32_t free_head;     /* freed elements (index + 1), linked through next */
	uint32_t count;
	uint64_t clock;         /* LRU: bumped on every use */
};

struct comb_map {
	struct comb_map_info info; /* info.name points to name */
	char *name;
	const struct map_ops *ops;
	uint8_t *storage;
	size_t storage_size;
	uint32_t nr_cpus;          /* 1 unless per-CPU */
	uint32_t value_stride;
	bool percpu;
	bool lru;
	bool holds_pointers;       /* prog array, map-in-map: values are pointers */
	pthread_mutex_t lock;      /* serialises hash updates and deletes */
	struct hash_state hash;
};

extern const struct map_ops comb_array_ops, comb_percpu_array_ops, comb_prog_array_ops,
	comb_array_of_maps_ops, comb_perf_event_array_ops;
extern const struct map_ops comb_hash_ops, comb_percpu_hash_ops, comb_lru_hash_ops,
	comb_lru_percpu_hash_ops, comb_hash_of_maps_ops;
extern const struct map_ops comb_ringbuf_ops;

/* Shared by the families (map.c). */
int map_fail(char *err, size_t err_len, int rc, const struct comb_map *map, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int map_alloc_storage(struct comb_map *map, uint64_t size, char *err, size_t err_len);
/* Reject flags outside allowed and contradictory access flags. */
int map_check_flags(const struct comb_map *map, uint32_t allowed, char *err, size_t err_len);
uint32_t map_possible_cpus(void);
/* The CPU whose slot a program uses (always < map->nr_cpus). */
uint32_t map_current_cpu(const struct comb_map *map);

static inline uint64_t map_round8(uint64_t n)
{
	return (n + 7) & ~7ull;
}

/* Program-side update and delete (what the helpers call). */
int comb_map_update_from_prog(struct comb_map *map, const void *key, const void *value, uint64_t flags);

/* For the helpers: the value a map-in-map slot holds (the inner map), as a
 * pointer-sized load from a slot. */
static inline void *map_slot_pointer(const void *slot)
{
	void *p;
	__atomic_load(((void *const *)slot), &p, __ATOMIC_ACQUIRE);
	return p;
}

#endif
