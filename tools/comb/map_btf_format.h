/* tools/comb/map_btf_format.h - typed map keys and values through BTF.
 *
 * A pinned map made by the loader keeps its object's BTF and the type ids
 * of its key and value (comb_map_get_btf). With them `comb map` prints
 * entries the way bpftool prints kernel maps that have BTF (plain text: an
 * indented JSON document; --json: "formatted" next to the hex bytes) and
 * reads KEY and VALUE as JSON text for those types.
 */
#ifndef COMB_CLI_MAP_BTF_FORMAT_H
#define COMB_CLI_MAP_BTF_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "map_format.h"

struct btf;

struct map_btf {
	struct btf *btf;     /* NULL: the map has no (usable) BTF */
	uint32_t key_type;   /* 0: keys have no type (global data) */
	uint32_t value_type;
};

/* The map's BTF, validated and checked against its key and value sizes.
 * Returns true with mb filled; false when there is none or it does not
 * fit (then *why says why, empty when the map simply has none). */
bool map_btf_open(struct comb_map *map, const struct map_layout *layout, struct map_btf *mb,
		  char *why, size_t why_len);
void map_btf_close(struct map_btf *mb);

/* A JSON writer with bpftool's layout: pretty (4 spaces per level, values
 * of arrays on one line) or compact. */
struct json_out {
	FILE *out;
	bool pretty;
	int depth;
	bool first;
};
void json_begin(struct json_out *w, char open);
void json_end(struct json_out *w, char close);
void json_name(struct json_out *w, const char *name);
void json_string(struct json_out *w, const char *s, size_t len);
void json_raw(struct json_out *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One entry's typed object, {"key": ..., "value": ...} or, per-CPU,
 * {"key": ..., "values": [{"cpu": N, "value": ...}, ...]}; the key is left
 * out when it has no type. key may be NULL for keyless maps. */
void map_btf_write_entry(struct json_out *w, const struct map_btf *mb, const struct map_layout *l,
			 const uint8_t *key, const uint8_t *value);

/* Does text look like JSON for a typed value rather than hex bytes of
 * size want? Hex wins when the words are exactly want bytes of hex. */
bool map_text_is_hex_of_size(char **words, int count, size_t want);

/* Parse JSON text for type_id into size bytes (malloc'd *out, zero where
 * the text gives nothing): numbers, "0x.." strings, true/false, enum
 * names, strings for char arrays, [..] for arrays, {"member": ..} for
 * structs and unions, {"SEC": [{"var": ..}, ..]} or {"var": ..} for
 * global data. 0, or -EINVAL with a message in err. */
int map_btf_parse(const struct map_btf *mb, uint32_t type_id, const char *text, size_t size,
		  uint8_t **out, char *err, size_t err_len);

#endif
