/* src/maps/map.c - map creation, dispatch to the families, type names.
 *
 * comb_map_create() finds the family for the kernel type number, lets it
 * check the definition and allocate the map's single storage region
 * (map_alloc_storage: anonymous mmap, so values are page aligned and never
 * move), and every other entry point dispatches through the family's
 * map_ops. Checks common to every type (NULL arguments, update flags) live
 * here so the families only implement their own rules.
 */
#define _GNU_SOURCE /* sched_getcpu */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "maps/internal.h"

/* Storage above this is refused as absurd (kernel: -E2BIG / -ENOMEM). */
#define MAP_STORAGE_LIMIT (1ull << 36)

static const struct {
	uint32_t type;
	const char *name;
	const struct map_ops *ops;
} map_types[] = {
	{ 1, "hash", &comb_hash_ops },
	{ 2, "array", &comb_array_ops },
	{ 3, "prog_array", &comb_prog_array_ops },
	{ 4, "perf_event_array", &comb_perf_event_array_ops },
	{ 5, "percpu_hash", &comb_percpu_hash_ops },
	{ 6, "percpu_array", &comb_percpu_array_ops },
	{ 7, "stack_trace", NULL },
	{ 8, "cgroup_array", NULL },
	{ 9, "lru_hash", &comb_lru_hash_ops },
	{ 10, "lru_percpu_hash", &comb_lru_percpu_hash_ops },
	{ 11, "lpm_trie", NULL },
	{ 12, "array_of_maps", &comb_array_of_maps_ops },
	{ 13, "hash_of_maps", &comb_hash_of_maps_ops },
	{ 14, "devmap", NULL },
	{ 15, "sockmap", NULL },
	{ 16, "cpumap", NULL },
	{ 17, "xskmap", NULL },
	{ 18, "sockhash", NULL },
	{ 19, "cgroup_storage", NULL },
	{ 20, "reuseport_sockarray", NULL },
	{ 21, "percpu_cgroup_storage", NULL },
	{ 22, "queue", NULL },
	{ 23, "stack", NULL },
	{ 24, "sk_storage", NULL },
	{ 25, "devmap_hash", NULL },
	{ 26, "struct_ops", NULL },
	{ 27, "ringbuf", &comb_ringbuf_ops },
	{ 28, "inode_storage", NULL },
	{ 29, "task_storage", NULL },
	{ 30, "bloom_filter", NULL },
	{ 31, "user_ringbuf", NULL },
	{ 32, "cgrp_storage", NULL },
	{ 33, "arena", NULL },
};

const char *comb_map_type_name(uint32_t type)
{
	for (size_t i = 0; i < sizeof(map_types) / sizeof(map_types[0]); i++)
		if (map_types[i].type == type)
			return map_types[i].name;
	return NULL;
}

static const struct map_ops *map_type_ops(uint32_t type)
{
	for (size_t i = 0; i < sizeof(map_types) / sizeof(map_types[0]); i++)
		if (map_types[i].type == type)
			return map_types[i].ops;
	return NULL;
}

int map_fail(char *err, size_t err_len, int rc, const struct comb_map *map, const char *fmt, ...)
{
	if (!err || !err_len)
		return rc;
	int n = snprintf(err, err_len, "map %s (%s): ", map->name,
			 comb_map_type_name(map->info.type) ? comb_map_type_name(map->info.type) : "?");
	if (n >= 0 && (size_t)n < err_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int map_alloc_storage(struct comb_map *map, uint64_t size, char *err, size_t err_len)
{
	if (size == 0)
		return 0;
	if (size > MAP_STORAGE_LIMIT)
		return map_fail(err, err_len, -E2BIG, map,
				"needs %llu bytes of storage, more than comb allows (%llu); lower max_entries",
				(unsigned long long)size, (unsigned long long)MAP_STORAGE_LIMIT);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	size = (size + page - 1) & ~(page - 1);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return map_fail(err, err_len, -ENOMEM, map, "cannot allocate %llu bytes of storage",
				(unsigned long long)size);
	map->storage = p;
	map->storage_size = size;
	return 0;
}

int map_check_flags(const struct comb_map *map, uint32_t allowed, char *err, size_t err_len)
{
	uint32_t flags = map->info.map_flags;
	if (flags & ~allowed)
		return map_fail(err, err_len, -EINVAL, map, "map_flags 0x%x not supported for this type",
				flags & ~allowed);
	if ((flags & COMB_F_RDONLY) && (flags & COMB_F_WRONLY))
		return map_fail(err, err_len, -EINVAL, map, "map_flags has both BPF_F_RDONLY and BPF_F_WRONLY");
	if ((flags & COMB_F_RDONLY_PROG) && (flags & COMB_F_WRONLY_PROG))
		return map_fail(err, err_len, -EINVAL, map,
				"map_flags has both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG");
	if (map->info.map_extra)
		return map_fail(err, err_len, -EINVAL, map, "map_extra must be 0 for this type");
	return 0;
}

uint32_t map_possible_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	return n > 0 ? (uint32_t)n : 1;
}

uint32_t map_current_cpu(const struct comb_map *map)
{
	int cpu = sched_getcpu();
	if (cpu < 0)
		cpu = 0;
	return (uint32_t)cpu % map->nr_cpus;
}

int comb_map_create(const struct comb_map_def *def, struct comb_map **out, char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
	if (!def || !out || def->sz < offsetof(struct comb_map_def, map_extra))
		return -EINVAL;
	struct comb_map *map = calloc(1, sizeof(*map));
	if (!map)
		return -ENOMEM;
	map->name = strdup(def->name ? def->name : "(unnamed)");
	if (!map->name) {
		free(map);
		return -ENOMEM;
	}
	map->info = (struct comb_map_info){
		.name = map->name, .type = def->type, .key_size = def->key_size,
		.value_size = def->value_size, .max_entries = def->max_entries,
		.map_flags = def->map_flags,
		.map_extra = def->sz >= sizeof(*def) ? def->map_extra : 0,
	};
	map->nr_cpus = 1;
	map->ops = map_type_ops(def->type);
	pthread_mutex_init(&map->lock, NULL);
	int rc;
	if (!map->ops) {
		const char *name = comb_map_type_name(def->type);
		rc = name ? map_fail(err, err_len, -ENOTSUP, map, "map type %u (%s) is not supported by comb yet",
				     def->type, name)
			  : map_fail(err, err_len, -ENOTSUP, map, "unknown map type %u", def->type);
	} else {
		rc = map->ops->init(map, err, err_len);
	}
	if (rc) {
		comb_map_free(map);
		return rc;
	}
	*out = map;
	return 0;
}

void comb_map_free(struct comb_map *map)
{
	if (!map)
		return;
	if (map->storage)
		munmap(map->storage, map->storage_size);
	pthread_mutex_destroy(&map->lock);
	free(map->name);
	free(map);
}

void comb_map_get_info(const struct comb_map *map, struct comb_map_info *info)
{
	*info = map->info;
}

/* Update flags every type shares: BPF_ANY, BPF_NOEXIST or BPF_EXIST. comb
 * has no bpf_spin_lock in values yet, so BPF_F_LOCK is refused as the kernel
 * does for values without a lock. */
static int check_update_flags(uint64_t flags)
{
	if ((flags & ~(uint64_t)COMB_F_LOCK) > COMB_EXIST)
		return -EINVAL;
	if (flags & COMB_F_LOCK)
		return -EINVAL;
	return 0;
}

int comb_map_lookup(struct comb_map *map, const void *key, void *value)
{
	if (!map || !value || (!key && map->info.key_size))
		return -EINVAL;
	return map->ops->lookup(map, key, value);
}

int comb_map_update(struct comb_map *map, const void *key, const void *value, uint64_t flags)
{
	if (!map || !value || (!key && map->info.key_size))
		return -EINVAL;
	int rc = check_update_flags(flags);
	return rc ? rc : map->ops->update(map, key, value, flags, MAP_ALL_CPUS);
}

int comb_map_update_from_prog(struct comb_map *map, const void *key, const void *value, uint64_t flags)
{
	int rc = check_update_flags(flags);
	if (rc)
		return rc;
	if (map->holds_pointers)
		return -ENOTSUP; /* the kernel's verifier refuses this too */
	return map->ops->update(map, key, value, flags, map->percpu ? (int)map_current_cpu(map) : 0);
}

int comb_map_delete(struct comb_map *map, const void *key)
{
	if (!map || (!key && map->info.key_size))
		return -EINVAL;
	return map->ops->delete(map, key);
}

int comb_map_get_next_key(struct comb_map *map, const void *key, void *next_key)
{
	if (!map || !next_key)
		return -EINVAL;
	return map->ops->get_next_key(map, key, next_key);
}

void *comb_map_lookup_ptr(struct comb_map *map, const void *key)
{
	return map->ops->lookup_ptr(map, key);
}

void comb_map_storage(const struct comb_map *map, uint64_t *addr, uint64_t *size)
{
	*addr = (uint64_t)(uintptr_t)map->storage;
	*size = map->storage ? map->storage_size : 0;
}

void *comb_map_array_value(struct comb_map *map, uint32_t index)
{
	return map->ops->array_value ? map->ops->array_value(map, index) : NULL;
}
