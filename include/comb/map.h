/* comb/map.h - eBPF maps: the state programs keep and share with user space.
 *
 * Map types, flags and update modes use the kernel's numbers (BPF_MAP_TYPE_*,
 * BPF_F_*, BPF_ANY/BPF_NOEXIST/BPF_EXIST), so definitions from an object
 * file carry over unchanged. Every map keeps its keys and values in one
 * contiguous storage region allocated at creation (so a program's accesses to
 * map values can be checked against it, and so it can later live in shared
 * memory); lookups hand programs pointers into that region, as the kernel does.
 */
#ifndef COMB_MAP_H
#define COMB_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct comb_map;

/* Kernel map type numbers comb knows by name. */
enum {
	COMB_MAP_HASH = 1, COMB_MAP_ARRAY = 2, COMB_MAP_PROG_ARRAY = 3,
	COMB_MAP_PERF_EVENT_ARRAY = 4, COMB_MAP_PERCPU_HASH = 5, COMB_MAP_PERCPU_ARRAY = 6,
	COMB_MAP_LRU_HASH = 9, COMB_MAP_LRU_PERCPU_HASH = 10, COMB_MAP_LPM_TRIE = 11,
	COMB_MAP_ARRAY_OF_MAPS = 12, COMB_MAP_HASH_OF_MAPS = 13, COMB_MAP_DEVMAP = 14,
	COMB_MAP_CPUMAP = 16, COMB_MAP_XSKMAP = 17, COMB_MAP_QUEUE = 22, COMB_MAP_STACK = 23,
	COMB_MAP_DEVMAP_HASH = 25, COMB_MAP_RINGBUF = 27, COMB_MAP_BLOOM_FILTER = 30,
	COMB_MAP_USER_RINGBUF = 31,
};
/* Update flags (kernel values). */
enum { COMB_ANY = 0, COMB_NOEXIST = 1, COMB_EXIST = 2, COMB_F_LOCK = 4 };
/* Map flags (kernel values). */
enum {
	COMB_F_NO_PREALLOC = 1u << 0, COMB_F_RDONLY = 1u << 3, COMB_F_WRONLY = 1u << 4,
	COMB_F_RDONLY_PROG = 1u << 7, COMB_F_WRONLY_PROG = 1u << 8, COMB_F_MMAPABLE = 1u << 10,
};

struct comb_map_def {
	size_t sz;            /* sizeof(struct comb_map_def) */
	const char *name;     /* copied; used in messages */
	uint32_t type;        /* COMB_MAP_* (kernel number) */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	uint64_t map_extra;
};

struct comb_map_info {
	const char *name;
	uint32_t type, key_size, value_size, max_entries, map_flags;
	uint64_t map_extra;
};

/* Create a map. Errors: -EINVAL (bad sizes or flags for the type, with a
 * message in err), -ENOTSUP (type not implemented), -ENOMEM. */
int comb_map_create(const struct comb_map_def *def, struct comb_map **map, char *err, size_t err_len);
void comb_map_free(struct comb_map *map);
void comb_map_get_info(const struct comb_map *map, struct comb_map_info *info);
/* "hash", "array", ...; NULL for a number comb does not know. */
const char *comb_map_type_name(uint32_t type);

/* User-space operations, with the kernel's semantics and error codes
 * (-ENOENT, -EEXIST, -E2BIG, -EINVAL). value is value_size bytes. */
int comb_map_lookup(struct comb_map *map, const void *key, void *value);
int comb_map_update(struct comb_map *map, const void *key, const void *value, uint64_t flags);
int comb_map_delete(struct comb_map *map, const void *key);
/* key NULL (or absent): the first key. -ENOENT after the last. */
int comb_map_get_next_key(struct comb_map *map, const void *key, void *next_key);

/* Program-side operations (what the helpers do): a pointer to the value in
 * the map's storage, or NULL. */
void *comb_map_lookup_ptr(struct comb_map *map, const void *key);

/* The map's storage region, for memory checks: every pointer a program can
 * get from the map lies in [*addr, *addr + *size). */
void comb_map_storage(const struct comb_map *map, uint64_t *addr, uint64_t *size);

/* PROG_ARRAY (user space sets slots with comb_map_update, the value being a
 * `struct comb_prog *`): the program in slot index, or NULL. This is what
 * bpf_tail_call jumps to. */
struct comb_prog;
struct comb_prog *comb_map_prog_array_get(struct comb_map *map, uint32_t index);

/* Array maps (and global data): the value at index, or NULL. */
void *comb_map_array_value(struct comb_map *map, uint32_t index);

/* Pinning: every map lives in one shared-memory file; pinning gives it a
 * name in the pin directory (comb's bpffs) so it outlives its creator and
 * other processes can open it. path: absolute, or relative to the pin
 * directory. Maps holding program or map pointers cannot be pinned
 * (-EOPNOTSUPP); an existing path gives -EEXIST. */
int comb_map_pin(struct comb_map *map, const char *path);
/* Open a pinned map. A file that is not a comb map, is truncated or is
 * corrupted gives -EINVAL with a message in err. Free with comb_map_free
 * (the pinned map stays). */
int comb_map_open_pinned(const char *path, struct comb_map **map, char *err, size_t err_len);
/* Remove a pin (path as for comb_map_pin); the map lives on while open. */
int comb_map_unpin(const char *path);
/* The pin directory: /run/comb for root, $XDG_RUNTIME_DIR/comb otherwise
 * (/tmp/comb-UID without XDG_RUNTIME_DIR), created mode 0700. 0 or -errno. */
int comb_pin_dir(char *buf, size_t len);

/* Key and value types: the raw BTF of the object that defined the map
 * (DATASEC sizes and offsets filled in) and the type ids of its key and
 * value (key_type_id 0: keys have no type, as global data's). Kept in the
 * map's shared file, so a pin carries them and comb_map_open_pinned gives
 * them back; set once, before pinning (the loader does it for BTF-defined
 * maps and global data). -EOPNOTSUPP for maps without values in their
 * region (ring buffers), -EEXIST if already set. */
int comb_map_set_btf(struct comb_map *map, const void *btf_data, size_t size, uint32_t key_type_id,
		     uint32_t value_type_id);
/* 0 with the bytes (valid while map is open; not validated: parse with
 * care), or -ENOENT when the map has no BTF. */
int comb_map_get_btf(const struct comb_map *map, const void **btf_data, size_t *size,
		     uint32_t *key_type_id, uint32_t *value_type_id);

/* As BPF_MAP_FREEZE: from now on user space cannot change the map
 * (comb_map_update and comb_map_delete give -EPERM, for every process that
 * has it open); programs still write it unless it was created with
 * BPF_F_RDONLY_PROG. Freezing a frozen map (or one created BPF_F_RDONLY)
 * gives -EPERM, as in the kernel. The loader freezes
 * .rodata (and .kconfig) once their contents are in place, as libbpf does,
 * so the verifier may read them as constants. Pointers taken before with
 * comb_map_array_value must not be written through afterwards. */
int comb_map_freeze(struct comb_map *map);
bool comb_map_frozen(const struct comb_map *map);

#ifdef __cplusplus
}
#endif
#endif
