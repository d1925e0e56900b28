/* src/maps/region.h - region.c's entry points for map.c (not for families:
 * they use map_alloc_storage/map_lock from internal.h). */
#ifndef COMB_MAPS_REGION_H
#define COMB_MAPS_REGION_H

#include "maps/internal.h"

/* After a family's init: give maps without storage a header, write the
 * definition into it. */
int map_region_finish_create(struct comb_map *map, char *err, size_t err_len);
/* Unmap the region and close its file. */
void map_region_release(struct comb_map *map);
/* Read and validate a pinned file's header (-EINVAL with a message). */
int map_region_read_header(int fd, const char *path, struct map_header *out, char *err, size_t err_len);
/* Reopen: after init ran on the private view, map the file shared. */
int map_region_share(struct comb_map *map, char *err, size_t err_len);
/* path as given, or under the pin directory when relative. */
int map_pin_path(const char *path, char *out, size_t len);

#endif
