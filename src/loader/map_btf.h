/* src/loader/map_btf.h - give the maps an object creates their key/value BTF. */
#ifndef COMB_LOADER_MAP_BTF_H
#define COMB_LOADER_MAP_BTF_H

#include "loader/internal.h"

/* Attach to m->map (just created) the object's BTF and m's key and value
 * type ids, as libbpf gives them to the kernel: from the `key`/`value`
 * members of a BTF-defined map, the section's DATASEC for global data.
 * Maps without types (legacy, key_size/value_size only) get none. Best
 * effort: a map without BTF still works, its entries print in hex. */
void loader_attach_map_btf(const struct comb_object *obj, const struct obj_map *m);

#endif
