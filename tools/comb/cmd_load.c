/* tools/comb/cmd_load.c - `comb load FILE.o [--pin-maps DIR] [--json]`.
 *
 * Loads (and so verifies) an object, pins its maps and exits, so that a
 * control plane can fill the maps before traffic starts: `comb map update`
 * on the pins, then `comb xdp FILE.o --pin-maps DIR ...` reuses them. With
 * --pin-maps every map except global data is reused from DIR/NAME or pinned
 * there (libbpf's pin_root_path); without it only LIBBPF_PIN_BY_NAME maps
 * are, under comb's pin directory. One line per map says what happened:
 * pinned (created now), reused (an earlier pin), private (not pinned).
 */
#include <errno.h>
#include <string.h>

#include "cli.h"

struct load_args {
	const char *object, *pin_dir;
	bool json;
};

static int parse_load_args(int argc, char **argv, struct load_args *a)
{
	*a = (struct load_args){ 0 };
	for (int i = 1; i < argc; i++) {
		int m = cli_option_value(argc, argv, &i, "--pin-maps", &a->pin_dir);
		if (m < 0)
			return cli_usage_error("load", "--pin-maps needs a directory");
		if (m > 0)
			continue;
		if (!strcmp(argv[i], "--json"))
			a->json = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("load", "unknown option '%s'", argv[i]);
		else if (a->object)
			return cli_usage_error("load", "unexpected argument '%s'", argv[i]);
		else
			a->object = argv[i];
	}
	return a->object ? CLI_OK : cli_usage_error("load", "missing the object FILE.o");
}

static const char *pin_state_word(enum comb_object_pin_state st)
{
	switch (st) {
	case COMB_PIN_CREATED:
		return "pinned";
	case COMB_PIN_REUSED:
		return "reused";
	case COMB_PIN_UNPINNABLE:
		return "private (holds program or map pointers: cannot be pinned)";
	case COMB_PIN_NONE:
		break;
	}
	return "private";
}

static void print_maps(const struct comb_object *obj, bool json)
{
	bool first = true;
	if (json)
		printf("{\"object\": "), cli_print_json_string(stdout, comb_object_name(obj)), printf(", \"maps\": [");
	for (size_t i = 0; i < comb_object_map_count(obj); i++) {
		struct comb_object_map_info info;
		comb_object_map_info(obj, i, &info);
		if (info.is_global_data)
			continue;
		const char *path;
		enum comb_object_pin_state st = comb_object_map_pin_state(obj, i, &path);
		const char *type = comb_map_type_name(info.type) ? comb_map_type_name(info.type) : "unknown";
		if (!json) {
			printf("%-8s %-24s %-16s %s\n", st == COMB_PIN_CREATED ? "pinned" : st == COMB_PIN_REUSED ? "reused"
				: "private", info.name, type, path && st != COMB_PIN_UNPINNABLE ? path : pin_state_word(st));
			continue;
		}
		printf("%s{\"name\": ", first ? "" : ", ");
		cli_print_json_string(stdout, info.name);
		printf(", \"type\": \"%s\", \"state\": \"%s\", \"path\": ", type,
		       st == COMB_PIN_CREATED ? "pinned" : st == COMB_PIN_REUSED ? "reused" : "private");
		if (path && st != COMB_PIN_UNPINNABLE)
			cli_print_json_string(stdout, path);
		else
			printf("null");
		printf("}");
		first = false;
	}
	if (json)
		printf("]}\n");
}

int cmd_load(int argc, char **argv)
{
	struct load_args a;
	int status = parse_load_args(argc, argv, &a);
	if (status)
		return status;
	struct cli_buffer buf;
	struct cli_object o;
	if (cli_read_file(a.object, &buf))
		return CLI_ERROR;
	int rc = cli_open_object(a.object, &buf, false, &o);
	cli_buffer_free(&buf);
	if (rc)
		return CLI_ERROR;
	comb_object_set_pin_by_name(o.obj, true);
	if (a.pin_dir && (rc = comb_object_set_pin_dir(o.obj, a.pin_dir)))
		status = cli_error("%s: --pin-maps %s: %s", a.object, a.pin_dir, strerror(-rc));
	if (!status && cli_load_opened_object(a.object, &o, true))
		status = CLI_ERROR;
	if (!status)
		print_maps(o.obj, a.json);
	cli_object_close(&o);
	return status;
}
