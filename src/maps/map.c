/* src/maps/map.c - PLACEHOLDER until the maps module lands (to be replaced). */
#include <errno.h>
#include <string.h>
#include "comb/map.h"

int comb_map_create(const struct comb_map_def *def, struct comb_map **map, char *err, size_t err_len)
{
	return -ENOTSUP;
}
void comb_map_free(struct comb_map *map) {}
void comb_map_get_info(const struct comb_map *map, struct comb_map_info *info) { memset(info, 0, sizeof(*info)); }
const char *comb_map_type_name(uint32_t type) { return NULL; }
int comb_map_lookup(struct comb_map *map, const void *key, void *value) { return -ENOTSUP; }
int comb_map_update(struct comb_map *map, const void *key, const void *value, uint64_t flags) { return -ENOTSUP; }
int comb_map_delete(struct comb_map *map, const void *key) { return -ENOTSUP; }
int comb_map_get_next_key(struct comb_map *map, const void *key, void *next_key) { return -ENOTSUP; }
void *comb_map_lookup_ptr(struct comb_map *map, const void *key) { return NULL; }
void comb_map_storage(const struct comb_map *map, uint64_t *addr, uint64_t *size) { *addr = 0; *size = 0; }
void *comb_map_array_value(struct comb_map *map, uint32_t index) { return NULL; }
