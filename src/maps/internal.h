/* src/maps/internal.h - what the map families share (not public).
 *
 * ===== FOR FAMILY AUTHORS (lpm_trie.c, queue.c, bloom.c, ringbuf.c, ...) =====
 * Every map is ONE shared mapping (region.c): a header page (struct
 * map_header: magic, format, the definition, a process-shared lock word,
 * MAP_FAMILY_WORDS state words) followed by the data area. Several processes
 * may map it at DIFFERENT addresses, and a pinned map outlives its creator.
 *  1. Storage: call map_alloc_storage(map, bytes, err, err_len) ONCE in
 *     ops->init, after your checks and after setting map->value_stride /
 *     nr_cpus. map->storage then points to the data area (zeroed on
 *     creation). The byte count is how you "declare your storage size": it
 *     must depend only on the definition (it is recomputed and compared when
 *     a pinned map is reopened).
 *  2. Inside storage keep offsets or indexes, NEVER pointers. Your own state
 *     (counts, heads, free lists) goes either at the start of storage or in
 *     map_family_words(map) (MAP_FAMILY_WORDS u64, zeroed on creation).
 *  3. Reopening a pinned map runs ops->init again on a private copy-on-write
 *     view, then maps the shared file over it: init may (re)write constant
 *     layout fields; anything random or stateful must be written only when
 *     map_storage_is_new(map) (e.g. a bloom seed).
 *  4. Locking: map_lock(map) / map_unlock(map), never a mutex of your own in
 *     process memory. The lock (owner_lock.c) is process-shared and survives
 *     its holder: when the holder died, map_lock calls ops->recover(map)
 *     (optional) under the lock before
 *     returning, so recover must rebuild your state words (counts, free lists)
 *     from what is reachable. recover returns 0, or -EINVAL when the data is
 *     corrupted beyond repair (comb_map_open_pinned also calls it to check a
 *     file; it then refuses the file).
 *  5. Publish with one release store (__atomic_store_n(..., __ATOMIC_RELEASE))
 *     after writing the element completely: a writer killed mid-update must
 *     leave the old or the new state visible, never a half-written one.
 *  6. Per-process state that cannot be shared (fds, eventfds, pointers) goes
 *     in map->family and is released by ops->free. A family that maps memory
 *     of its own (ring buffers) may leave storage to itself, but the header
 *     (and so map_lock) always exists: map_region_fd(map) gives the region's
 *     file descriptor if you want to put your pages in the same file (also
 *     while init runs on reopening; the data area starts at file offset
 *     map->header->header_size); see ops->region_moved.
 * ===========================================================================
 *
 * Values: value_stride is the bytes one value slot takes (value_size rounded
 * up to 8, or 8 for maps whose values are pointers to programs or maps);
 * per-CPU maps keep nr_cpus slots per entry, user space sees all of them
 * (nr_cpus * value_stride bytes), programs the slot map_current_cpu() gives.
 */
#ifndef COMB_MAPS_INTERNAL_H
#define COMB_MAPS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "comb/map.h"
#include "maps/owner_lock.h"

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
	/* Optional: release what init made besides storage (called before
	 * storage is unmapped; may unmap storage itself and set it NULL). */
	void (*free)(struct comb_map *map);
	/* Optional: repair state words after a lock holder died (lock held);
	 * 0, or -EINVAL if the data is corrupted. See 4. above. */
	int (*recover)(struct comb_map *map);
	/* Optional: pinning copied the region to another file (fd) and mapped
	 * it over the old one; a family that maps the region file itself
	 * (ring buffers) maps its views from fd too. Lock held. */
	int (*region_moved)(struct comb_map *map, int fd);
};

/* ---- the shared region (region.c) */
#define MAP_MAGIC          "COMBMAP"   /* 8 bytes with its NUL */
#define MAP_FORMAT_VERSION 3u /* 2: fold_mul hashing; 3: owner_lock.c lock word */
#define MAP_FAMILY_WORDS   32
#define MAP_NAME_MAX       64

/* map_header.flags */
#define MAP_HDR_PERCPU   (1u << 0)
#define MAP_HDR_LRU      (1u << 1)
#define MAP_HDR_POINTERS (1u << 2) /* values are process-local pointers: not pinnable */
#define MAP_HDR_FROZEN   (1u << 3) /* comb_map_freeze: no more changes from user space */

struct map_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;      /* bytes before the data area (a page) */
	uint64_t region_size;      /* header_size + data_size = the file's size */
	uint64_t data_size;
	uint32_t type, key_size, value_size, max_entries, map_flags;
	uint32_t nr_cpus, value_stride, flags;
	uint64_t map_extra;
	char name[MAP_NAME_MAX];
	uint64_t family[MAP_FAMILY_WORDS]; /* the family's state words */
	uint32_t recoveries;       /* times a dead lock holder was repaired */
	uint32_t reserved;
	struct owner_lock lock;    /* owner_lock.c: process-shared, survives its holder */
	uint64_t lock_reserved[4];
	/* Key/value BTF (pin_btf.c): btf_size bytes of raw BTF follow the
	 * region in the same file (at offset region_size); 0: none. */
	uint32_t btf_size, btf_key_type_id, btf_value_type_id, btf_reserved;
};

struct hash_state {            /* process-local cache of hash.c's layout */
	uint32_t n_buckets;        /* power of two */
	uint32_t *buckets;
	uint8_t *pool;             /* max_entries + 1 elements of elem_size bytes */
	uint32_t elem_size;
	uint32_t key_stride;       /* key_size rounded up to 8 */
	uint32_t pool_n;           /* max_entries + 1: links 1..pool_n name elements */
};

/* The process-local handle. */
struct comb_map {
	struct comb_map_info info; /* info.name points to name */
	char *name;
	const struct map_ops *ops;
	struct map_header *header; /* the region's first page */
	size_t region_size;
	int region_fd;
	int attach_fd;             /* >= 0 while comb_map_open_pinned runs init */
	bool storage_new;
	uint8_t *storage;          /* the data area (or the family's own memory) */
	size_t storage_size;
	uint32_t nr_cpus;          /* 1 unless per-CPU */
	uint32_t value_stride;
	bool percpu;
	bool lru;
	bool holds_pointers;       /* prog array, map-in-map: values are pointers */
	struct hash_state hash;
	void *family;              /* the family's own per-process state */
	void *btf_data;            /* pin_btf.c: a copy of the trailer's BTF, or NULL */
	uint32_t btf_size;         /* the trailer's size, known before the region is mapped */
};

extern const struct map_ops comb_array_ops, comb_percpu_array_ops, comb_prog_array_ops,
	comb_array_of_maps_ops, comb_perf_event_array_ops;
extern const struct map_ops comb_hash_ops, comb_percpu_hash_ops, comb_lru_hash_ops,
	comb_lru_percpu_hash_ops, comb_hash_of_maps_ops;
extern const struct map_ops comb_ringbuf_ops, comb_user_ringbuf_ops;

/* Shared by the families (map.c, region.c). */
int map_fail(char *err, size_t err_len, int rc, const struct comb_map *map, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int map_alloc_storage(struct comb_map *map, uint64_t size, char *err, size_t err_len);
bool map_storage_is_new(const struct comb_map *map);
int map_region_fd(const struct comb_map *map);
void map_lock(struct comb_map *map);
void map_unlock(struct comb_map *map);
/* Reject flags outside allowed and contradictory access flags. */
int map_check_flags(const struct comb_map *map, uint32_t allowed, char *err, size_t err_len);
uint32_t map_possible_cpus(void);
/* The per-CPU slot a program uses (always < map->nr_cpus). */
uint32_t map_current_cpu(const struct comb_map *map);

/* Per-CPU slots for the VM: call around a program run, so that no two runs
 * at the same time share a slot, in this process or any other of the same
 * user (region.c: a claim table in /dev/shm); nests; leave undoes one enter. */
void comb_percpu_slot_enter(void);
void comb_percpu_slot_leave(void);

/* The family's state words in the region header (inline: hot paths). */
static inline uint64_t *map_family_words(const struct comb_map *map)
{
	return map->header->family;
}

static inline uint64_t map_round8(uint64_t n)
{
	return (n + 7) & ~7ull;
}

/* Key/value BTF kept after the region (pin_btf.c). */
int map_btf_load(struct comb_map *map, int fd, char *err, size_t err_len);
int map_btf_copy_to(const struct comb_map *map, int fd);
void map_btf_release(struct comb_map *map);

/* Program-side update and delete (what the helpers call). */
int comb_map_update_from_prog(struct comb_map *map, const void *key, const void *value, uint64_t flags);
int comb_map_delete_from_prog(struct comb_map *map, const void *key);

/* For the helpers: the value a map-in-map slot holds (the inner map), as a
 * pointer-sized load from a slot. */
static inline void *map_slot_pointer(const void *slot)
{
	void *p;
	__atomic_load(((void *const *)slot), &p, __ATOMIC_ACQUIRE);
	return p;
}

#endif
