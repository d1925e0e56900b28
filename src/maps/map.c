/* src/maps/map.c - map creation, dispatch to the families, type names.
 *
 * comb_map_create() finds the family for the kernel type number, lets it
 * check the definition and allocate the map's single storage region
 * (map_alloc_storage, region.c: a shared file, so values are page aligned,
 * never move and can be shared and pinned), and every other entry point
 * dispatches through the family's map_ops. comb_map_open_pinned() rebuilds
 * the handle from a pinned file's header through the same init. Checks
 * common to every type (NULL arguments, update flags) live here so the
 * families only implement their own rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "maps/internal.h"
#include "maps/queue.h"
#include "maps/region.h"


/* Kernel map types and the family that stores them. Redirect targets
 * (devmap, cpumap, xskmap), cgroup arrays and stack traces are stored as the
 * array or hash they are underneath, so objects that declare them load; what
 * the kernel does with them besides storing (redirects, stack capture) comes
 * with the hooks and helpers that need it. */
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
	{ 7, "stack_trace", &comb_hash_ops },       /* stack id -> frames */
	{ 8, "cgroup_array", &comb_array_ops },    /* index -> cgroup fd */
	{ 9, "lru_hash", &comb_lru_hash_ops },
	{ 10, "lru_percpu_hash", &comb_lru_percpu_hash_ops },
	{ 11, "lpm_trie", &comb_lpm_trie_ops },
	{ 12, "array_of_maps", &comb_array_of_maps_ops },
	{ 13, "hash_of_maps", &comb_hash_of_maps_ops },
	{ 14, "devmap", &comb_array_ops },          /* index -> ifindex */
	{ 15, "sockmap", NULL },
	{ 16, "cpumap", &comb_array_ops },          /* cpu -> queue size */
	{ 17, "xskmap", &comb_array_ops },          /* queue -> socket */
	{ 18, "sockhash", NULL },
	{ 19, "cgroup_storage", NULL },
	{ 20, "reuseport_sockarray", NULL },
	{ 21, "percpu_cgroup_storage", NULL },
	{ 22, "queue", &comb_queue_ops },
	{ 23, "stack", &comb_stack_ops },
	{ 24, "sk_storage", NULL },
	{ 25, "devmap_hash", &comb_hash_ops },     /* key -> ifindex */
	{ 26, "struct_ops", NULL },
	{ 27, "ringbuf", &comb_ringbuf_ops },
	{ 28, "inode_storage", NULL },
	{ 29, "task_storage", NULL },
	{ 30, "bloom_filter", &comb_bloom_filter_ops },
	{ 31, "user_ringbuf", &comb_user_ringbuf_ops },
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

/* Cached: glibc's sysconf(_SC_NPROCESSORS_CONF) reads /sys on every call,
 * and every run of a program with per-CPU maps asks (comb_percpu_slot_enter). */
uint32_t map_possible_cpus(void)
{
	static uint32_t cached;
	uint32_t n = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	if (!n) {
		long conf = sysconf(_SC_NPROCESSORS_CONF);
		n = conf > 0 ? (uint32_t)conf : 1;
		__atomic_store_n(&cached, n, __ATOMIC_RELAXED);
	}
	return n;
}

static struct comb_map *map_new_handle(const char *name, uint32_t type)
{
	struct comb_map *map = calloc(1, sizeof(*map));
	if (!map)
		return NULL;
	map->name = strdup(name ? name : "(unnamed)");
	if (!map->name) {
		free(map);
		return NULL;
	}
	map->info.name = map->name;
	map->info.type = type;
	map->nr_cpus = 1;
	map->region_fd = -1;
	map->attach_fd = -1;
	map->ops = map_type_ops(type);
	return map;
}

static int map_run_init(struct comb_map *map, char *err, size_t err_len)
{
	if (map->ops)
		return map->ops->init(map, err, err_len);
	const char *name = comb_map_type_name(map->info.type);
	return name ? map_fail(err, err_len, -ENOTSUP, map, "map type %u (%s) is not supported by comb yet",
			       map->info.type, name)
		    : map_fail(err, err_len, -EINVAL, map, "unknown map type %u", map->info.type);
}

int comb_map_create(const struct comb_map_def *def, struct comb_map **out, char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
	if (!def || !out || def->sz < offsetof(struct comb_map_def, map_extra))
		return -EINVAL;
	struct comb_map *map = map_new_handle(def->name, def->type);
	if (!map)
		return -ENOMEM;
	map->info.key_size = def->key_size;
	map->info.value_size = def->value_size;
	map->info.max_entries = def->max_entries;
	map->info.map_flags = def->map_flags;
	map->info.map_extra = def->sz >= sizeof(*def) ? def->map_extra : 0;
	int rc = map_run_init(map, err, err_len);
	if (!rc)
		rc = map_region_finish_create(map, err, err_len);
	if (rc) {
		comb_map_free(map);
		return rc;
	}
	*out = map;
	return 0;
}

/* Rebuild the handle from the header, rerun init on a private view, then
 * share the file and let the family check its data. */
static int map_attach(struct comb_map *map, int fd, char *err, size_t err_len)
{
	map->attach_fd = fd;
	int rc = map_run_init(map, err, err_len);
	if (!rc)
		rc = map_region_share(map, err, err_len);
	if (rc)
		return rc;
	if (map->ops->recover) {
		map_lock(map);
		rc = map->ops->recover(map);
		map_unlock(map);
		if (rc)
			return map_fail(err, err_len, -EINVAL, map, "pinned data is corrupted");
	}
	return 0;
}

int comb_map_open_pinned(const char *path, struct comb_map **out, char *err, size_t err_len)
{
	char full[4096];
	struct map_header h;
	if (err && err_len)
		err[0] = '\0';
	if (!out)
		return -EINVAL;
	int rc = map_pin_path(path, full, sizeof(full));
	if (rc)
		return rc;
	int fd = open(full, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (err && err_len)
			snprintf(err, err_len, "%s: cannot open: %s", full, strerror(errno));
		return rc;
	}
	rc = map_region_read_header(fd, full, &h, err, err_len);
	if (rc) {
		close(fd);
		return rc;
	}
	struct comb_map *map = map_new_handle(h.name, h.type);
	if (!map) {
		close(fd);
		return -ENOMEM;
	}
	map->info.key_size = h.key_size;
	map->info.value_size = h.value_size;
	map->info.max_entries = h.max_entries;
	map->info.map_flags = h.map_flags;
	map->info.map_extra = h.map_extra;
	map->btf_size = h.btf_size;
	rc = map_attach(map, fd, err, err_len);
	if (!rc)
		rc = map_btf_load(map, map->region_fd, err, err_len);
	if (rc) {
		if (map->attach_fd >= 0)
			close(map->attach_fd);
		map->attach_fd = -1;
		comb_map_free(map);
		return rc == -EINVAL || rc == -E2BIG || rc == -ENOTSUP ? -EINVAL : rc;
	}
	*out = map;
	return 0;
}

void comb_map_free(struct comb_map *map)
{
	if (!map)
		return;
	if (map->ops && map->ops->free)
		map->ops->free(map);
	map_region_release(map);
	map_btf_release(map);
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

/* As the kernel's map_get_sys_perms: a frozen map, or one created
 * BPF_F_RDONLY, cannot be written from user space. */
static bool user_may_write(const struct comb_map *map)
{
	return !comb_map_frozen(map) && !(map->info.map_flags & COMB_F_RDONLY);
}

int comb_map_lookup(struct comb_map *map, const void *key, void *value)
{
	if (!map || !value || (!key && map->info.key_size))
		return -EINVAL;
	if (map->info.map_flags & COMB_F_WRONLY)
		return -EPERM; /* as the kernel: no read access from user space */
	return map->ops->lookup(map, key, value);
}

int comb_map_update(struct comb_map *map, const void *key, const void *value, uint64_t flags)
{
	if (!map || !value || (!key && map->info.key_size))
		return -EINVAL;
	if (!user_may_write(map))
		return -EPERM;
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
	if (!user_may_write(map))
		return -EPERM;
	return map->ops->delete(map, key);
}

int comb_map_delete_from_prog(struct comb_map *map, const void *key)
{
	return map->ops->delete(map, key);
}

/* The flag lives in the shared header, so every process sees the freeze.
 * As the kernel: freezing needs write access, which a frozen map (or one
 * created BPF_F_RDONLY) no longer gives: -EPERM. */
int comb_map_freeze(struct comb_map *map)
{
	if (!map)
		return -EINVAL;
	if (!user_may_write(map))
		return -EPERM;
	uint32_t old = __atomic_fetch_or(&map->header->flags, MAP_HDR_FROZEN, __ATOMIC_SEQ_CST);
	return (old & MAP_HDR_FROZEN) ? -EPERM : 0;
}

bool comb_map_frozen(const struct comb_map *map)
{
	return map && (__atomic_load_n(&map->header->flags, __ATOMIC_ACQUIRE) & MAP_HDR_FROZEN);
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
