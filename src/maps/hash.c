/* src/maps/hash.c - hash maps: HASH, PERCPU_HASH, LRU_HASH,
 * LRU_PERCPU_HASH and HASH_OF_MAPS, in shared memory.
 *
 * Storage (the map's shared region, see region.c): a power-of-two array of
 * bucket links, then a pool of max_entries + 1 preallocated elements (one
 * spare so that replacing a value in a full map works). An element is a
 * header (next link, hash, LRU stamp), the key (rounded up to 8 bytes) and
 * the value slot(s). Links are u32: 1..pool_n name an element; a "nulls"
 * link (NULLS_BIT | bucket) ends the chain of that bucket; 0 ends the free
 * list. The state words (count, free list head, next never-used element,
 * LRU clock) live in the region's header.
 *
 * Concurrency: updates and deletes hold the map lock (owner_lock.c; the
 * key is hashed before taking it, links are carried, never divided out
 * of addresses, to keep the critical section short); programs'
 * lookups take no lock: they walk a chain with acquire loads, and because
 * an element may be freed and reused in another chain under them, a walk
 * that does not end on its own bucket's nulls link starts again (the
 * kernel's hlist_nulls trick). Elements never move and are never unmapped.
 *
 * Crash consistency: a new or replacing element is written whole, then
 * published with one release store of a link; the element it replaces is
 * freed after. A writer killed anywhere leaves every chain intact (old or
 * new value visible); elements it had taken off the free list, and the
 * count, are rebuilt by hash_recover (a scan of the chains) when the next
 * locker sees the dead owner. hash_recover also checks a reopened pinned
 * file: links out of range, elements in the wrong bucket or reached twice
 * mean corruption (-EINVAL).
 *
 * Values of non-per-CPU maps are replaced, not rewritten in place (as in
 * the kernel); per-CPU slots are written in place. Iteration order is bucket
 * order, then chain order, as in the kernel.
 */
#include <errno.h>
#include <stdlib.h>
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
#define HASH_ENTRIES_MAX   (1u << 30)
#define NULLS_BIT          0x80000000u
#define LOOKUP_RETRIES     8

struct hash_elem {
	uint32_t next;  /* link to the next element in the chain (or free list) */
	uint32_t hash;
	uint64_t stamp; /* LRU: the map's clock at the last use */
	uint8_t data[]; /* key, then value slot(s) */
};

/* The state words, in the region header's family words. */
struct hash_words {
	uint32_t count;
	uint32_t free_head;   /* link of the first free element, 0: none */
	uint32_t next_unused; /* elements above this were never used */
	uint32_t pool_n;
	uint64_t clock;       /* LRU: bumped on every use */
};

static struct hash_words *words(const struct comb_map *map)
{
	return (struct hash_words *)map_family_words(map);
}

static uint32_t pool_n(const struct comb_map *map)
{
	return map->info.max_entries + 1;
}

static struct hash_elem *elem_at(const struct comb_map *map, uint32_t link)
{
	return (struct hash_elem *)(map->hash.pool + (uint64_t)(link - 1) * map->hash.elem_size);
}

static uint8_t *elem_key(struct hash_elem *e)
{
	return e->data;
}

static uint8_t *elem_value(const struct comb_map *map, struct hash_elem *e, uint32_t cpu)
{
	return e->data + map->hash.key_stride + (uint64_t)cpu * map->value_stride;
}

/* The 128-bit product of a and b, folded: every bit of a reaches the low
 * bits (which pick the bucket) through the high half. One multiply. */
static inline uint64_t fold_mul(uint64_t a, uint64_t b)
{
	__uint128_t p = (__uint128_t)a * b;
	return (uint64_t)p ^ (uint64_t)(p >> 64);
}

#define HASH_K1 0x9e3779b97f4a7c15ull
#define HASH_K2 0xff51afd7ed558ccdull

static inline uint32_t hash_u64(uint64_t k)
{
	uint64_t x = fold_mul(k ^ HASH_K1, HASH_K2);
	return (uint32_t)(x ^ (x >> 32));
}

/* Eight bytes at a time through fold_mul; 4- and 8-byte keys (the common
 * ones) take one multiply. key_size is a constant where inlined. */
static inline __attribute__((always_inline)) uint32_t hash_bytes(const void *key, uint32_t n)
{
	const uint8_t *p = key;
	if (n == 4) {
		uint32_t k;
		memcpy(&k, p, 4);
		return hash_u64(k);
	}
	if (n == 8) {
		uint64_t k;
		memcpy(&k, p, 8);
		return hash_u64(k);
	}
	uint64_t h = HASH_K1 ^ n;
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t chunk;
		memcpy(&chunk, p, 8);
		h = fold_mul(h ^ chunk, HASH_K2);
	}
	if (n) {
		uint64_t tail = 0;
		memcpy(&tail, p, n);
		h = fold_mul(h ^ tail ^ HASH_K1, HASH_K2);
	}
	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t key_hash(const struct comb_map *map, const void *key)
{
	return hash_bytes(key, map->info.key_size);
}

static uint32_t bucket_index(const struct comb_map *map, uint32_t hash)
{
	return hash & (map->hash.n_buckets - 1);
}

static uint32_t load_link(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void publish_link(uint32_t *p, uint32_t link)
{
	__atomic_store_n(p, link, __ATOMIC_RELEASE);
}

/* 1..pool_n name an element: one unsigned compare also rejects 0 and the
 * nulls links (top bit set; pool_n stays below 2^31). */
static inline bool link_in_pool(const struct hash_state *h, uint32_t link)
{
	return link - 1 < h->pool_n;
}

static bool link_is_elem(const struct comb_map *map, uint32_t link)
{
	return link_in_pool(&map->hash, link);
}

static inline __attribute__((always_inline)) bool keys_equal_n(const uint8_t *a, const void *b, uint32_t n)
{
	if (n == 4) {
		uint32_t x, y;
		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
		return x == y;
	}
	if (n == 8) {
		uint64_t x, y;
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		return x == y;
	}
	return memcmp(a, b, n) == 0;
}

/* Short keys are compared directly; longer ones first by their hash. */
static inline __attribute__((always_inline)) bool elem_matches_n(struct hash_elem *e, uint32_t hash,
								 const void *key, uint32_t n)
{
	if (n == 4 || n == 8)
		return keys_equal_n(e->data, key, n);
	return e->hash == hash && keys_equal_n(e->data, key, n);
}

static bool elem_matches(const struct comb_map *map, struct hash_elem *e, uint32_t hash, const void *key)
{
	return elem_matches_n(e, hash, key, map->info.key_size);
}

/* One walk of bucket b. 1: found (*found, *slot set); 0: absent (ended on
 * b's nulls link); -1: the walk strayed (an element moved), walk again. */
static int walk_chain(const struct comb_map *map, uint32_t b, uint32_t hash, const void *key,
		      struct hash_elem **found, uint32_t **slot)
{
	uint32_t *at = &map->hash.buckets[b];
	uint32_t limit = pool_n(map);
	for (uint32_t steps = 0; steps <= limit; steps++) {
		uint32_t link = load_link(at);
		if (!link_is_elem(map, link))
			return link == (NULLS_BIT | b) ? 0 : -1;
		struct hash_elem *e = elem_at(map, link);
		if (elem_matches(map, e, hash, key)) {
			*found = e;
			if (slot)
				*slot = at;
			return 1;
		}
		at = &e->next;
	}
	return -1;
}

/* The element holding key, or NULL; *slot receives the link that points to
 * it. Used under the lock (one walk is then exact). */
static struct hash_elem *hash_find(const struct comb_map *map, uint32_t hash, const void *key, uint32_t **slot)
{
	uint32_t b = bucket_index(map, hash);
	for (int attempt = 0; attempt < LOOKUP_RETRIES; attempt++) {
		struct hash_elem *e = NULL;
		int rc = walk_chain(map, b, hash, key, &e, slot);
		if (rc >= 0)
			return e;
	}
	return NULL;
}

/* The programs' lock-free lookup, specialised by key size n (a constant
 * where inlined): hash, walk the chain with acquire loads, and walk again
 * when it did not end on this bucket's nulls link (an element moved). */
static inline __attribute__((always_inline)) struct hash_elem *lookup_lockfree(const struct hash_state *h,
									 const void *key, uint32_t n)
{
	uint32_t hash = hash_bytes(key, n);
	uint32_t b = hash & (h->n_buckets - 1);
	for (int attempt = 0; attempt < LOOKUP_RETRIES; attempt++) {
		uint32_t link = load_link(&h->buckets[b]);
		for (uint32_t steps = h->pool_n; link_in_pool(h, link) && steps; steps--) {
			struct hash_elem *e = (struct hash_elem *)(h->pool + (uint64_t)(link - 1) * h->elem_size);
			if (elem_matches_n(e, hash, key, n))
				return e;
			link = load_link(&e->next);
		}
		if (link == (NULLS_BIT | b))
			return NULL;
	}
	return NULL;
}

/* ---- creation */

static int check_definition(struct comb_map *map, uint32_t allowed, uint32_t value_max, char *err,
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
	if (in->max_entries > HASH_ENTRIES_MAX)
		return map_fail(err, err_len, -E2BIG, map, "max_entries %u is too large (at most %u)",
				in->max_entries, HASH_ENTRIES_MAX);
	int rc = map_check_flags(map, allowed, err, err_len);
	if (rc)
		return rc;
	if (map->lru && (in->map_flags & COMB_F_NO_PREALLOC))
		return map_fail(err, err_len, -ENOTSUP, map, "LRU maps are always preallocated (drop BPF_F_NO_PREALLOC)");
	return 0;
}

static int hash_init_common(struct comb_map *map, uint32_t allowed, uint32_t value_max, char *err,
			    size_t err_len)
{
	int rc = check_definition(map, allowed, value_max, err, err_len);
	if (rc)
		return rc;
	const struct comb_map_info *in = &map->info;
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
	rc = map_alloc_storage(map, buckets_size + elem_size * pool_n(map), err, err_len);
	if (rc)
		return rc;
	h->pool_n = pool_n(map);
	h->buckets = (uint32_t *)map->storage;
	h->pool = map->storage + buckets_size;
	if (map_storage_is_new(map)) {
		for (uint32_t b = 0; b < h->n_buckets; b++)
			h->buckets[b] = NULLS_BIT | b;
		words(map)->pool_n = pool_n(map);
	}
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

/* ---- elements (lock held) */

static void touch(struct comb_map *map, struct hash_elem *e)
{
	if (map->lru)
		__atomic_store_n(&e->stamp, __atomic_add_fetch(&words(map)->clock, 1, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
}

/* link names e (callers know it: no division by the element size). */
static void elem_free(struct comb_map *map, struct hash_elem *e, uint32_t link)
{
	struct hash_words *w = words(map);
	__atomic_store_n(&e->next, w->free_head, __ATOMIC_RELEASE);
	w->free_head = link;
}

/* Unlink and free the least recently used element; false if empty. */
static bool lru_evict(struct comb_map *map)
{
	struct hash_elem *oldest = NULL;
	uint32_t *oldest_slot = NULL;
	for (uint32_t b = 0; b < map->hash.n_buckets; b++) {
		uint32_t *slot = &map->hash.buckets[b];
		while (link_is_elem(map, *slot)) {
			struct hash_elem *e = elem_at(map, *slot);
			if (!oldest || e->stamp < oldest->stamp) {
				oldest = e;
				oldest_slot = slot;
			}
			slot = &e->next;
		}
	}
	if (!oldest)
		return false;
	uint32_t link = *oldest_slot;
	publish_link(oldest_slot, oldest->next);
	words(map)->count--;
	elem_free(map, oldest, link);
	return true;
}

/* An element off the free list or never used (its link in *link); NULL
 * if none is left. */
static struct hash_elem *elem_alloc(struct comb_map *map, uint32_t *link)
{
	struct hash_words *w = words(map);
	if (link_is_elem(map, w->free_head)) {
		*link = w->free_head;
		struct hash_elem *e = elem_at(map, *link);
		w->free_head = e->next;
		return e;
	}
	if (w->next_unused < pool_n(map)) {
		*link = ++w->next_unused;
		return elem_at(map, *link);
	}
	return NULL;
}

/* Every CPU's slot from user space; from a program the current CPU's slot
 * (the others zeroed in a fresh element). */
static void elem_store(struct comb_map *map, struct hash_elem *e, const void *value, int cpu)
{
	if (!map->percpu) {
		uint32_t n = map->holds_pointers ? sizeof(void *) : map->info.value_size;
		if (n == 8)
			memcpy(elem_value(map, e, 0), value, 8);
		else
			memcpy(elem_value(map, e, 0), value, n);
		return;
	}
	if (cpu == MAP_ALL_CPUS) {
		for (uint32_t c = 0; c < map->nr_cpus; c++)
			memcpy(elem_value(map, e, c), (const uint8_t *)value + (size_t)c * map->value_stride,
			       map->info.value_size);
		return;
	}
	memcpy(elem_value(map, e, (uint32_t)cpu), value, map->info.value_size);
}

/* A reused element must not show its last key's or value's bytes in the
 * padding (lookups compare whole keys; user space reads whole slots):
 * zero the last word of the key and of the value when they are not full,
 * or everything for per-CPU maps (the other CPUs' slots start at 0). */
static void elem_clear_padding(const struct comb_map *map, struct hash_elem *e)
{
	if (map->percpu) {
		memset(e->data, 0, map->hash.elem_size - sizeof(*e));
		return;
	}
	uint64_t zero = 0;
	if (map->info.key_size % 8)
		memcpy(e->data + map->hash.key_stride - 8, &zero, 8);
	if (map->info.value_size % 8)
		memcpy(elem_value(map, e, 0) + map->value_stride - 8, &zero, 8);
}

static inline void copy_key(uint8_t *to, const void *key, uint32_t n)
{
	if (n == 4)
		memcpy(to, key, 4);
	else if (n == 8)
		memcpy(to, key, 8);
	else
		memcpy(to, key, n);
}

/* Write a whole new element for key (replacing old, if any) and publish it. */
static int insert_elem(struct comb_map *map, uint32_t hash, const void *key, const void *value, int cpu,
		       struct hash_elem *old, uint32_t *old_slot)
{
	struct hash_words *w = words(map);
	if (!old && w->count >= map->info.max_entries && !(map->lru && lru_evict(map)))
		return -E2BIG;
	uint32_t link;
	struct hash_elem *e = elem_alloc(map, &link);
	if (!e)
		return -E2BIG;
	elem_clear_padding(map, e);
	e->hash = hash;
	copy_key(elem_key(e), key, map->info.key_size);
	elem_store(map, e, value, cpu);
	touch(map, e);
	uint32_t *slot = old ? old_slot : &map->hash.buckets[bucket_index(map, hash)];
	e->next = old ? old->next : *slot;
	uint32_t old_link = *slot;
	publish_link(slot, link);
	if (old)
		elem_free(map, old, old_link);
	else
		w->count++;
	return 0;
}

/* hash: key_hash(map, key), computed before taking the lock. */
static int hash_update_locked(struct comb_map *map, uint32_t hash, const void *key, const void *value,
			      uint64_t flags, int cpu)
{
	uint32_t *slot = NULL;
	struct hash_elem *e = hash_find(map, hash, key, &slot);
	if (e && (flags & COMB_NOEXIST))
		return -EEXIST;
	if (!e && (flags & COMB_EXIST))
		return -ENOENT;
	if (e && map->percpu) {
		elem_store(map, e, value, cpu);
		touch(map, e);
		return 0;
	}
	return insert_elem(map, hash, key, value, cpu, e, slot);
}

static int hash_update(struct comb_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
	if (map->holds_pointers) {
		void *pointer;
		memcpy(&pointer, value, sizeof(pointer));
		if (!pointer)
			return -EINVAL;
	}
	uint32_t hash = key_hash(map, key);
	map_lock(map);
	int rc = hash_update_locked(map, hash, key, value, flags, cpu);
	map_unlock(map);
	return rc;
}

static int hash_delete(struct comb_map *map, const void *key)
{
	uint32_t *slot = NULL, hash = key_hash(map, key);
	map_lock(map);
	struct hash_elem *e = hash_find(map, hash, key, &slot);
	if (e) {
		uint32_t link = *slot;
		publish_link(slot, e->next);
		words(map)->count--;
		elem_free(map, e, link);
	}
	map_unlock(map);
	return e ? 0 : -ENOENT;
}

/* User space reads under the lock, so it never sees a recycled element. */
static int hash_lookup(struct comb_map *map, const void *key, void *value)
{
	if (map->holds_pointers)
		return -ENOTSUP; /* the kernel answers the inner map's id; comb has no ids yet */
	map_lock(map);
	struct hash_elem *e = hash_find(map, key_hash(map, key), key, NULL);
	if (e)
		memcpy(value, elem_value(map, e, 0),
		       map->percpu ? (size_t)map->nr_cpus * map->value_stride : map->info.value_size);
	map_unlock(map);
	return e ? 0 : -ENOENT;
}

/* The first element of the first non-empty bucket from b on. */
static struct hash_elem *first_from_bucket(const struct comb_map *map, uint32_t b)
{
	for (; b < map->hash.n_buckets; b++)
		if (link_is_elem(map, map->hash.buckets[b]))
			return elem_at(map, map->hash.buckets[b]);
	return NULL;
}

static int hash_get_next_key(struct comb_map *map, const void *key, void *next_key)
{
	map_lock(map);
	struct hash_elem *next = NULL;
	struct hash_elem *e = key ? hash_find(map, key_hash(map, key), key, NULL) : NULL;
	if (!e)
		next = first_from_bucket(map, 0);
	else if (link_is_elem(map, e->next))
		next = elem_at(map, e->next);
	else
		next = first_from_bucket(map, bucket_index(map, e->hash) + 1);
	if (next)
		memcpy(next_key, elem_key(next), map->info.key_size);
	map_unlock(map);
	return next ? 0 : -ENOENT;
}

/* Key sizes common in real programs get a copy of the lookup with the size
 * as a constant (hashing and comparing then need no memcpy/memcmp calls):
 * 6 (MAC), 12, 13 (IPv4 5-tuple), 16 (IPv6 address), 20, 24, 36/37 (IPv6
 * 5-tuple), 40. */
#define LOOKUP_SIZED(n) \
	case n: return lookup_lockfree(&map->hash, key, n)
static struct hash_elem *lookup_any_size(struct comb_map *map, const void *key)
{
	switch (map->info.key_size) {
	LOOKUP_SIZED(4);
	LOOKUP_SIZED(8);
	LOOKUP_SIZED(6);
	LOOKUP_SIZED(12);
	LOOKUP_SIZED(13);
	LOOKUP_SIZED(16);
	LOOKUP_SIZED(20);
	LOOKUP_SIZED(24);
	LOOKUP_SIZED(36);
	LOOKUP_SIZED(37);
	LOOKUP_SIZED(40);
	default: return lookup_lockfree(&map->hash, key, map->info.key_size);
	}
}
#undef LOOKUP_SIZED

static void *hash_lookup_ptr(struct comb_map *map, const void *key)
{
	struct hash_elem *e = lookup_any_size(map, key);
	if (!e)
		return NULL;
	if (map->lru)
		touch(map, e);
	if (map->holds_pointers)
		return map_slot_pointer(elem_value(map, e, 0));
	return elem_value(map, e, map->percpu ? map_current_cpu(map) : 0);
}

/* ---- recovery (lock held) */

/* Mark every element reachable from bucket b; -EINVAL on a corrupted chain. */
static int mark_chain(const struct comb_map *map, uint32_t b, uint8_t *seen, uint32_t *count, uint32_t *highest)
{
	uint32_t link = map->hash.buckets[b];
	while (link != (NULLS_BIT | b)) {
		if (!link_is_elem(map, link) || seen[link - 1])
			return -EINVAL;
		seen[link - 1] = 1;
		struct hash_elem *e = elem_at(map, link);
		if (bucket_index(map, e->hash) != b)
			return -EINVAL;
		(*count)++;
		if (link > *highest)
			*highest = link;
		link = e->next;
	}
	return 0;
}

/* Rebuild count and free list from the chains (see the top of the file). */
static int hash_recover(struct comb_map *map)
{
	struct hash_words *w = words(map);
	uint32_t n = pool_n(map);
	if (w->pool_n != n || w->next_unused > n)
		return -EINVAL;
	uint8_t *seen = calloc(n, 1);
	if (!seen)
		return -ENOMEM;
	uint32_t count = 0, highest = 0;
	int rc = 0;
	for (uint32_t b = 0; b < map->hash.n_buckets && !rc; b++)
		rc = mark_chain(map, b, seen, &count, &highest);
	if (!rc && count > map->info.max_entries)
		rc = -EINVAL;
	if (!rc) {
		if (highest > w->next_unused)
			w->next_unused = highest;
		uint32_t free_head = 0;
		for (uint32_t link = w->next_unused; link >= 1; link--) {
			if (seen[link - 1])
				continue;
			__atomic_store_n(&elem_at(map, link)->next, free_head, __ATOMIC_RELEASE);
			free_head = link;
		}
		w->free_head = free_head;
		w->count = count;
	}
	free(seen);
	return rc;
}

#define HASH_OPS(init_fn)                                                                   \
	{ .init = init_fn, .lookup = hash_lookup, .update = hash_update, .delete = hash_delete, \
	  .get_next_key = hash_get_next_key, .lookup_ptr = hash_lookup_ptr, .recover = hash_recover }

const struct map_ops comb_hash_ops = HASH_OPS(hash_init);
const struct map_ops comb_percpu_hash_ops = HASH_OPS(percpu_hash_init);
const struct map_ops comb_lru_hash_ops = HASH_OPS(lru_hash_init);
const struct map_ops comb_lru_percpu_hash_ops = HASH_OPS(lru_percpu_hash_init);
const struct map_ops comb_hash_of_maps_ops = HASH_OPS(hash_of_maps_init);
