/* tools/comb/cmd_map.c - `comb map list FILE.o [--json]`.
 *
 * Opens an ELF object (without loading it) and prints its maps, the
 * internal ones for global data (.data, .rodata, .bss, .kconfig) included,
 * one line each in the style of `bpftool map show`:
 *
 *   0: array  name verdicts  key 4B  value 8B  max_entries 4  flags 0x0
 *
 * --json prints an array of objects with the same facts.
 */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

static const char *map_type_text(uint32_t type, char *buf, size_t len)
{
	const char *name = comb_map_type_name(type);
	if (name)
		return name;
	snprintf(buf, len, "type_%u", type);
	return buf;
}

static void print_map_line(size_t index, const struct comb_object_map_info *m)
{
	char type_buf[24];
	printf("%zu: %s  name %s  key %uB  value %uB  max_entries %u  flags 0x%x", index,
	       map_type_text(m->type, type_buf, sizeof(type_buf)), m->name, m->key_size,
	       m->value_size, m->max_entries, m->map_flags);
	if (m->map_extra)
		printf("  map_extra 0x%" PRIx64, m->map_extra);
	if (m->pinning)
		printf("  pinned_by_name");
	if (m->inner_map)
		printf("  inner_map %u", m->inner_map - 1);
	if (m->is_global_data)
		printf("  global_data");
	printf("\n");
}

static void print_map_json(size_t index, const struct comb_object_map_info *m)
{
	char type_buf[24];
	printf("%s{\"index\": %zu, \"name\": ", index ? ", " : "", index);
	cli_print_json_string(stdout, m->name);
	printf(", \"type\": ");
	cli_print_json_string(stdout, map_type_text(m->type, type_buf, sizeof(type_buf)));
	printf(", \"type_id\": %u, \"key_size\": %u, \"value_size\": %u, \"max_entries\": %u"
	       ", \"flags\": %u, \"map_extra\": %" PRIu64 ", \"pinning\": %u, \"inner_map\": %d"
	       ", \"global_data\": %s}",
	       m->type, m->key_size, m->value_size, m->max_entries, m->map_flags, m->map_extra,
	       m->pinning, (int)m->inner_map - 1, m->is_global_data ? "true" : "false");
}

static int list_maps(const char *path, bool json, const struct comb_object *obj)
{
	size_t count = comb_object_map_count(obj);
	if (json)
		printf("[");
	for (size_t i = 0; i < count; i++) {
		struct comb_object_map_info info;
		int rc = comb_object_map_info(obj, i, &info);
		if (rc) {
			fflush(stdout);
			return cli_error("%s: map %zu: %s", path, i, strerror(-rc));
		}
		if (json)
			print_map_json(i, &info);
		else
			print_map_line(i, &info);
	}
	if (json)
		printf("]\n");
	return fflush(stdout) ? cli_error("map: cannot write to standard output") : CLI_OK;
}

int cmd_map(int argc, char **argv)
{
	struct cli_list_args a;
	int status = cli_parse_list_args("map", argc, argv, &a);
	if (status)
		return status;
	struct cli_object o;
	if (cli_open_listed_object(a.path, &o))
		return CLI_ERROR;
	status = list_maps(a.path, a.json, o.obj);
	cli_object_close(&o);
	return status;
}
