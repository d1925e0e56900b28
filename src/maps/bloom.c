/* src/maps/bloom.c - BLOOM_FILTER maps.
 *
 * Storage (one region, no pointers): a header {hash count, seed, bit mask}
 * and a bit array sized as the kernel sizes it: max_entries * hashes / ln 2
 * bits (times 7/5), rounded up to a power of two, at least 64, at most 2^31.
 * Push sets one bit per hash function with an atomic OR (no lock: bits only
 * ever go from 0 to 1, so concurrent pushes and peeks are safe everywhere);
 * peek answers 0 when every bit is set ("maybe present") and -ENOENT when
 * one is clear ("definitely absent").
 *
 * Kernel rules: key_size 0, value_size and max_entries non-zero, map_extra
 * holds the number of hash functions in its low 4 bits (0 means 5; any
 * other bit is -EINVAL), push takes only BPF_ANY; pop, delete and
 * get_next_key are -EOPNOTSUPP; a keyed lookup from a program is NULL. The
 * seed is random unless BPF_F_ZERO_SEED, chosen once when the storage is
 * new (a reopened pinned filter keeps its seed).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "maps/internal.h"
#include "maps/queue.h"

#define FLAG_NUMA_NODE  (1u << 2)
#define FLAG_ZERO_SEED  (1u << 6)
#define BLOOM_FLAGS     (FLAG_NUMA_NODE | FLAG_ZERO_SEED | COMB_F_RDONLY | COMB_F_WRONLY | \
			 COMB_F_RDONLY_PROG | COMB_F_WRONLY_PROG)
#define BLOOM_VALUE_MAX (1u << 22)
#define BLOOM_BITS_AT   64
#define BLOOM_MAX_BITS  (1ull << 31)

struct bloom_header {
	uint32_t nr_hashes;
	uint32_t seed;
	uint64_t bit_mask; /* number of bits - 1 */
};

static struct bloom_header *bloom_header(const struct comb_map *map)
{
	return (struct bloom_header *)map->storage;
}

static uint64_t *bloom_words(const struct comb_map *map)
{
	return (uint64_t *)(map->storage + BLOOM_BITS_AT);
}

/* Bits for max_entries elements and nr_hashes functions (kernel sizing). */
static uint64_t bloom_bit_count(uint32_t max_entries, uint32_t nr_hashes)
{
	uint64_t bits = (uint64_t)max_entries * nr_hashes;
	if (bits > UINT32_MAX || (bits / 5) * 7 > UINT32_MAX)
		return BLOOM_MAX_BITS;
	bits = (bits / 5) * 7;
	if (bits > BLOOM_MAX_BITS)
		return BLOOM_MAX_BITS;
	uint64_t n = 64;
	while (n < bits)
		n <<= 1;
	return n;
}

static int bloom_check_flags(struct comb_map *map, char *err, size_t err_len)
{
	uint64_t extra = map->info.map_extra;
	if (extra & ~0xfull)
		return map_fail(err, err_len, -EINVAL, map,
				"map_extra 0x%llx: only its low 4 bits (the number of hash functions) may be set",
				(unsigned long long)extra);
	map->info.map_extra = 0; /* map_check_flags refuses map_extra for other types */
	int rc = map_check_flags(map, BLOOM_FLAGS, err, err_len);
	map->info.map_extra = extra;
	return rc;
}

static int bloom_init(struct comb_map *map, char *err, size_t err_len)
{
	const struct comb_map_info *in = &map->info;
	if (in->key_size != 0)
		return map_fail(err, err_len, -EINVAL, map, "key_size must be 0 (it is %u)", in->key_size);
	if (in->value_size == 0 || in->max_entries == 0)
		return map_fail(err, err_len, -EINVAL, map, "value_size and max_entries must be non-zero");
	int rc = bloom_check_flags(map, err, err_len);
	if (rc)
		return rc;
	if (in->value_size > BLOOM_VALUE_MAX)
		return map_fail(err, err_len, -E2BIG, map, "value_size %u is larger than %u", in->value_size,
				BLOOM_VALUE_MAX);
	uint32_t nr_hashes = (uint32_t)(in->map_extra & 0xf);
	if (nr_hashes == 0)
		nr_hashes = 5;
	uint64_t bits = bloom_bit_count(in->max_entries, nr_hashes);
	map->value_stride = (uint32_t)map_round8(in->value_size);
	rc = map_alloc_storage(map, BLOOM_BITS_AT + bits / 8, err, err_len);
	if (rc)
		return rc;
	struct bloom_header *h = bloom_header(map);
	h->nr_hashes = nr_hashes;
	h->bit_mask = bits - 1;
	if (map_storage_is_new(map) && !(in->map_flags & FLAG_ZERO_SEED) && getrandom(&h->seed, sizeof(h->seed), 0) != sizeof(h->seed))
		h->seed = 0x9e3779b9u;
	return 0;
}

/* Hash function number index over the value: 64-bit FNV-1a from a seed
 * mixed with the index, then a final avalanche. */
static uint64_t bloom_hash(const struct comb_map *map, const void *value, uint32_t index)
{
	const uint8_t *p = value;
	uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)bloom_header(map)->seed << 32 | index);
	for (uint32_t i = 0; i < map->info.value_size; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h & bloom_header(map)->bit_mask;
}

int bloom_push(struct comb_map *map, const void *value, uint64_t flags)
{
	if (flags != COMB_ANY)
		return -EINVAL;
	uint64_t *words = bloom_words(map);
	for (uint32_t i = 0; i < bloom_header(map)->nr_hashes; i++) {
		uint64_t bit = bloom_hash(map, value, i);
		__atomic_fetch_or(&words[bit / 64], 1ull << (bit % 64), __ATOMIC_RELAXED);
	}
	return 0;
}

int bloom_peek(struct comb_map *map, const void *value)
{
	const uint64_t *words = bloom_words(map);
	for (uint32_t i = 0; i < bloom_header(map)->nr_hashes; i++) {
		uint64_t bit = bloom_hash(map, value, i);
		if (!(__atomic_load_n(&words[bit / 64], __ATOMIC_RELAXED) & (1ull << (bit % 64))))
			return -ENOENT;
	}
	return 0;
}

/* From user space a lookup's value is the value to test (BPF_MAP_LOOKUP_ELEM
 * with key NULL), an update's the value to add. */
static int bloom_lookup(struct comb_map *map, const void *key, void *value)
{
	return bloom_peek(map, value);
}

static int bloom_update(struct comb_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
	return bloom_push(map, value, flags);
}

static int bloom_delete(struct comb_map *map, const void *key)
{
	return -ENOTSUP;
}

static int bloom_get_next_key(struct comb_map *map, const void *key, void *next_key)
{
	return -ENOTSUP;
}

static void *bloom_lookup_ptr(struct comb_map *map, const void *key)
{
	return NULL;
}

const struct map_ops comb_bloom_filter_ops = {
	.init = bloom_init,
	.lookup = bloom_lookup,
	.update = bloom_update,
	.delete = bloom_delete,
	.get_next_key = bloom_get_next_key,
	.lookup_ptr = bloom_lookup_ptr,
};
