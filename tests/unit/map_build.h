/* tests/unit/map_build.h - create a map for a test in one call.
 *
 * Tests that need a plain map (no BTF, no inner map) create it here; a
 * failure prints the library's message, naming the test's map, and returns
 * NULL so the test's CHECK(map) fails with the reason above it.
 */
#ifndef COMB_TEST_MAP_BUILD_H
#define COMB_TEST_MAP_BUILD_H

#include <stdint.h>
#include <stdio.h>
#include "comb/map.h"

static inline struct comb_map *test_map_create(const char *name, uint32_t type, uint32_t key_size,
					       uint32_t value_size, uint32_t max_entries)
{
	struct comb_map_def def = {
		.sz = sizeof(def), .name = name, .type = type, .key_size = key_size,
		.value_size = value_size, .max_entries = max_entries,
	};
	struct comb_map *map = NULL;
	char err[256];
	if (comb_map_create(&def, &map, err, sizeof(err))) {
		fprintf(stderr, "  create map %s: %s\n", name, err);
		return NULL;
	}
	return map;
}

#endif
