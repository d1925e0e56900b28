/* src/maps/hash.c - hash maps: HASH, PERCPU_HASH, LRU_HASH,
 * LRU_PERCPU_HASH and HASH_OF_MAPS.
 *
 * Storage (one region, see internal.h): a power-of-two array of bucket heads,
 * then a pool of max_entries preallocated elements. An element is a header
 * (next index, hash, LRU stamp), the key (rounded up to 8 bytes) and the
 * value slot(s). Indexes are stored plus one so that 0 ends a chain. Unused
 * elements are handed out in order (next_unused), freed ones go on a free
 * list: nothing is ever allocated after creation, and a full map answers
 * -E2BIG -- except an LRU map, which evicts its least recently used element
 * (a scan of every chain; the kernel's per-CPU LRU lists can come later).
 *
 * Concurrency (first cut): updates, deletes and user-space reads hold the
 * map's mutex; programs' lookups walk chains without it. Elements are never
 * unmapped, so a racing lookup cannot fault, and chain walks are bounded by
 * max_entries, but it may miss a key being replaced at that moment.
 * Iteration order is bucket order, then chain order, as in the kernel.
 */
#include <errno.h>
#include <string.h>

#include "maps/internal.h"

#define FLAG_NO_COMMON_LRU (1u << 1)
#define FLAG_NUMA_NODE     (1u << 2)
#define FLAG_ZERO_SEED     (1u << 6)
#define FLAG_INNER_MAP     (1u << 12)
#define ACCESS_FLAGS       (COMB_F_RDONLY | COMB_F_WRONLY | COMB_F_RDONLY_PROG | COMB_F_WRONLY_PROG)
#define HASH_KEY_MAX       512u        /* the kernel's MAX_BPF_STACK */
#define HASH_VALUE_MAX     (1u << 22)
#define PERCPU_VALUE_MAX   (1u << 15)

struct hash_elem {
	uint32_t next;  /* index + 1 of the next element in the chain (or free list) */
	uint32_t hash;
	uint64_t stamp; /* LRU: the map's clock at the last use */
	uint8_t data[]; /* key, then value slot(s) */
};

static struct hash_elem *elem_at(const struct comb_map *map, uint32_t index_plus_one)
{
	return (struct hash_elem *)(map->hash.pool + (uint64_t)(index_plus_one - 1) * map->hash.elem_size);
}

static uint32_t elem_index(const struct comb_map *map, const struct hash_elem *e)
{
	return (uint32_t)(((const uint8_t *)e - map->hash.pool) / map->hash.elem_size) + 1;
}

static uint8_t *elem_key(struct hash_elem *e)
{
	return e->data;
}

static uint8_t *elem_value(const struct comb_map *map, struct hash_elem *e, uint32_t cpu)
{
	return e->data + map->hash.key_stride + (uint64_t)cpu * map->value_stride;
}

/* FNV-1a over the key, with a final avalanche so low bits pick buckets well. */
static uint32_t key_hash(const struct comb_map *map, const void *key)
{
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ull;
	for (uint32_t i = 0; i < map->info.key_size; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h;
}

static uint32_t *bucket_of(const struct comb_map *map, uint32_t hash)
{
	return &map->hash.buckets[hash & (map->hash.n_buckets - 1)];
}

static uint32_t load_index(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* The element holding key, or NULL; *link receives the index slot that
 * points to it (for unlinking). Bounded so a racing writer cannot trap a
 * lock-free reader in a cycle. */
static struct hash_elem *hash_find(const struct comb_map *map, uint32_t hash, const void *key,
				   uint32_t **link)
{
	uint32_t *slot = bucket_of(map, hash);
	for (uint32_t steps = 0; steps <= map->info.max_entries; steps++) {
		uint32_t idx = load_index(slot);
		if (idx == 0 || idx > map->info.max_entries)
			return NULL;
		struct hash_elem *e = elem_at(map, idx);
		if (e->hash == hash && memcmp(elem_key(e), key, map->info.key_size) == 0) {
			if (link)
				*link = slot;
			return e;
		}
		slot = &e->next;
	}
	return NULL;
}

static int hash_init_common(struct comb_map *map, uint32_t allowed, uint32_t value_max, char *err,
			    size_t err_len)
{
	const struct comb_map_info *in = &map->info;
	if (in->key_size == 0 || in->value_size == 0 || in->max_entries == 0)
		return map_fail(err, err_len, -EINVAL, map, "key_size, value_size and max_entries must be non-zero");
	if (in->key_size > HASH_KEY_MAX)
		return map_fail(err, err_len, -E2BIG, map, "key_size %u is larger than %u", in->key_size,
				HASH_KEY_MAX);
	if (in->value_size > value_max)
		return map_fail(err, err_len, -E2BIG, map, "value_size %u is larger than %u", in->value_size,
				value_max);
	if (in->max_entries > (1u << 31))
		return map_fail(err, err_len, -E2BIG, map, "max_entries %u is too large", in->max_entries);
	int rc = map_check_flags(map, allowed, err, err_len);
	if (rc)
		return rc;
	if (map->lru && (in->map_flags & COMB_F_NO_PREALLOC))
		return map_fail(err, err_len, -ENOTSUP, map, "LRU maps are always preallocated (drop BPF_F_NO_PREALLOC)");
	if (!map->value_stride)
		map->value_stride = (uint32_t)map_round8(in->value_size);
	struct hash_state *h = &map->hash;
	h->n_buckets = 1;
	while (h->n_buckets < in->max_entries)
		h->n_buckets <<= 1;
	h->key_stride = (uint32_t)map_round8(in->key_size);
	uint64_t elem_size = sizeof(struct hash_elem) + h->key_stride + (uint64_t)map->nr_cpus * map->value_stride;
	uint64_t buckets_size = map_round8((uint64_t)h->n_buckets * sizeof(uint32_t));
	if (elem_size > UINT32_MAX)
		return map_fail(err, err_len, -E2BIG, map, "elements of %llu bytes are too large",
				(unsigned long long)elem_size);
	h->elem_size = (uint32_t)elem_size;
	rc = map_alloc_storage(map, buckets_size + elem_size * in->max_entries, err, err_len);
	if (rc)
		return rc;
	h->buckets = (uint32_t *)map->storage;
	h->pool = map->storage + buckets_size;
	return 0;
}

#define HASH_FLAGS (COMB_F_NO_PREALLOC | FLAG_NUMA_NODE | ACCESS_FLAGS | FLAG_ZERO_SEED | FLAG_INNER_MAP)

static int hash_init(struct comb_map *map, char *err, size_t err_len)
{
	return hash_init_common(map, HASH_FLAGS, HASH_VALUE_MAX, err, err_len);
}

static int percpu_hash_init(struct comb_map *map, char *err, size_t err_len)
{
	map->percpu = true;
	map->nr_cpus = map_possible_cpus();
	return hash_init_common(map, HASH_FLAGS, PERCPU_VALUE_MAX, err, err_len);
}

static int lru_hash_init(struct comb_map *map, char *err, size_t err_len)
{
	map->lru = true;
	return hash_init_common(map, HASH_FLAGS | FLAG_NO_COMMON_LRU, HASH_VALUE_MAX, err, err_len);
}

static int lru_percpu_hash_init(struct comb_map *map, char *err, size_t err_len)
{
	map->lru = true;
	map->percpu = true;
	map->nr_cpus = map_possible_cpus();
	return hash_init_common(map, HASH_FLAGS | FLAG_NO_COMMON_LRU, PERCPU_VALUE_MAX, err, err_len);
}

static int hash_of_maps_init(struct comb_map *map, char *err, size_t err_len)
{
	if (map->info.value_size != 4)
		return map_fail(err, err_len, -EINVAL, map, "value_size is %u, hash_of_maps needs 4",
				map->info.value_size);
	map->holds_pointers = true;
	map->value_stride = sizeof(void *);
	return hash_init_common(map, COMB_F_NO_PREALLOC | FLAG_NUMA_NODE | COMB_F_RDONLY | COMB_F_WRONLY,
				4, err, err_len);
}

static void touch(struct comb_map *map, struct hash_elem *e)
{
	if (map->lru)
		__atomic_store_n(&e->stamp, __atomic_add_fetch(&map->hash.clock, 1, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
}

/* Unlink the least recently used element (lock held); NULL if empty. */
static struct hash_elem *lru_evict(struct comb_map *map)
{
	struct hash_elem *oldest = NULL;
	uint32_t *oldest_link = NULL;
	for (uint32_t b = 0; b < map->hash.n_buckets; b++) {
		for (uint32_t *link = &map->hash.buckets[b]; *link; link = &elem_at(map, *link)->next) {
			struct hash_elem *e = elem_at(map, *link);
			if (!oldest || e->stamp < oldest->stamp) {
				oldest = e;
				oldest_link = link;
			}
		}
	}
	if (oldest) {
		__atomic_store_n(oldest_link, oldest->next, __ATOMIC_RELEASE);
		map->hash.count--;
	}
	return oldest;
}

/* A fresh element (lock held), or NULL when the map is full. */
static struct hash_elem *elem_alloc(struct comb_map *map)
{
	struct hash_state *h = &map->hash;
	if (h->free_head) {
		struct hash_elem *e = elem_at(map, h->free_head);
		h->free_head = e->next;
		return e;
	}
	if (h->next_unused < map->info.max_entries)
		return elem_at(map, ++h->next_unused);
	return map->lru ? lru_evict(map) : NULL;
}

/* Store a value in e: every CPU's slot from user space; from a program the
 * current CPU's slot (fresh per-CPU elements start with the others zeroed). */
static void elem_store(struct comb_map *map, struct hash_elem *e, const void *value, int cpu, bool fresh)
{
	if (!map->percpu) {
		memcpy(elem_value(map, e, 0), value, map->holds_pointers ? sizeof(void *) : map->info.value_size);
		return;
	}
	if (cpu == MAP_ALL_CPUS) {
		for (uint32_t c = 0; c < map->nr_cpus; c++)
			memcpy(elem_value(map, e, c), (const uint8_t *)value + (size_t)c * map->value_stride,
			       map->info.value_size);
		return;
	}
	if (fresh)
		memset(elem_value(map, e, 0), 0, (size_t)map->nr_cpus * map->value_stride);
	memcpy(elem_value(map, e, (uint32_t)cpu), value, map->info.value_size);
}

static int hash_update_locked(struct comb_map *map, const void *key, const void *value, uint64_t flags,
			      int cpu)
{
	uint32_t hash = key_hash(map, key);
	struct hash_elem *e = hash_find(map, hash, key, NULL);
	if (e && (flags & COMB_NOEXIST))
		return -EEXIST;
	if (!e && (flags & COMB_EXIST))
		return -ENOENT;
	if (e) {
		elem_store(map, e, value, cpu, false);
		touch(map, e);
		return 0;
	}
	e = elem_alloc(map);
	if (!e)
		return -E2BIG;
	memset(e->data, 0, map->hash.elem_size - sizeof(*e));
	e->hash = hash;
	memcpy(elem_key(e), key, map->info.key_size);
	elem_store(map, e, value, cpu, true);
	touch(map, e);
	uint32_t *head = bucket_of(map, hash);
	e->next = *head;
	__atomic_store_n(head, elem_index(map, e), __ATOMIC_RELEASE);
	map->hash.count++;
	return 0;
}

static int hash_update(struct comb_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
	if (map->holds_pointers) {
		void *pointer;
		memcpy(&pointer, value, sizeof(pointer));
		if (!pointer)
			return -EINVAL;
	}
	pthread_mutex_lock(&map->lock);
	int rc = hash_update_locked(map, key, value, flags, cpu);
	pthread_mutex_unlock(&map->lock);
	return rc;
}

static int hash_delete(struct comb_map *map, const void *key)
{
	uint32_t *link = NULL;
	pthread_mutex_lock(&map->lock);
	struct hash_elem *e = hash_find(map, key_hash(map, key), key, &link);
	if (e) {
		__atomic_store_n(link, e->next, __ATOMIC_RELEASE);
		e->next = map->hash.free_head;
		map->hash.free_head = elem_index(map, e);
		map->hash.count--;
	}
	pthread_mutex_unlock(&map->lock);
	return e ? 0 : -ENOENT;
}

static int hash_lookup(struct comb_map *map, const void *key, void *value)
{
	if (map->holds_pointers)
		return -ENOTSUP; /* the kernel answers the inner map's id; comb has no ids yet */
	pthread_mutex_lock(&map->lock);
	struct hash_elem *e = hash_find(map, key_hash(map, key), key, NULL);
	if (e)
		memcpy(value, elem_value(map, e, 0),
		       map->percpu ? (size_t)map->nr_cpus * map->value_stride : map->info.value_size);
	pthread_mutex_unlock(&map->lock);
	return e ? 0 : -ENOENT;
}

/* The first element of the first non-empty bucket from b on. */
static struct hash_elem *first_from_bucket(const struct comb_map *map, uint32_t b)
{
	for (; b < map->hash.n_buckets; b++)
		if (map->hash.buckets[b])
			return elem_at(map, map->hash.buckets[b]);
	return NULL;
}

static int hash_get_next_key(struct comb_map *map, const void *key, void *next_key)
{
	pthread_mutex_lock(&map->lock);
	struct hash_elem *next = NULL;
	struct hash_elem *e = key ? hash_find(map, key_hash(map, key), key, NULL) : NULL;
	if (!e)
		next = first_from_bucket(map, 0);
	else if (e->next)
		next = elem_at(map, e->next);
	else
		next = first_from_bucket(map, (e->hash & (map->hash.n_buckets - 1)) + 1);
	if (next)
		memcpy(next_key, elem_key(next), map->info.key_size);
	pthread_mutex_unlock(&map->lock);
	return next ? 0 : -ENOENT;
}

static void *hash_lookup_ptr(struct comb_map *map, const void *key)
{
	struct hash_elem *e = hash_find(map, key_hash(map, key), key, NULL);
	if (!e)
		return NULL;
	touch(map, e);
	if (map->holds_pointers)
		return map_slot_pointer(elem_value(map, e, 0));
	return elem_value(map, e, map->percpu ? map_current_cpu(map) : 0);
}

#define HASH_OPS(init_fn)                                                                   \
	{ .init = init_fn, .lookup = hash_lookup, .update = hash_update, .delete = hash_delete, \
	  .get_next_key = hash_get_next_key, .lookup_ptr = hash_lookup_ptr }

const struct map_ops comb_hash_ops = HASH_OPS(hash_init);
const struct map_ops comb_percpu_hash_ops = HASH_OPS(percpu_hash_init);
const struct map_ops comb_lru_hash_ops = HASH_OPS(lru_hash_init);
const struct map_ops comb_lru_percpu_hash_ops = HASH_OPS(lru_percpu_hash_init);
const struct map_ops comb_hash_of_maps_ops = HASH_OPS(hash_of_maps_init);
