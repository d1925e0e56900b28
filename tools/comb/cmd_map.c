/* tools/comb/cmd_map.c - `comb map`: list, pin, dump, lookup, update, delete.
 *
 *   comb map list FILE.o [--json]          the maps an ELF object defines
 *   comb map list --pinned [DIR] [--json]  the maps pinned in DIR
 *   comb map pin FILE.o [--dir DIR] [--force] [NAME...]
 *   comb map dump NAME|PIN [--json] [--hex]
 *   comb map lookup NAME|PIN KEY [--json] [--hex|--typed]
 *   comb map update NAME|PIN KEY VALUE [--flags any|noexist|exist] [--hex|--typed]
 *   comb map delete NAME|PIN KEY [--hex|--typed]
 *
 * Listings are one line per map in the style of `bpftool map show`; entries
 * print as `bpftool map dump` prints them (map_format.c). A word with a '/'
 * is a path to a pinned map, a bare word is a map pinned in the default pin
 * directory (comb_pin_dir). Pinned files are checked before the library
 * opens them (regular file, then the library's header checks), so a pin
 * path never leads into a foreign file: it is "not a comb map", exit 1.
 *
 * Keys and values are bytes in hex, or, for maps that keep their object's
 * BTF (maps the loader made), typed: entries then print as bpftool prints
 * kernel maps with BTF (map_btf_format.c), and KEY/VALUE may be JSON text
 * for the key and value types (5, '{"saddr": 167772161, "port": 80}',
 * '[1,2,3]', '"name"'). A word that is exactly the right number of hex
 * bytes stays hex; --hex and --typed force one reading. Map errors
 * (-ENOENT, -EEXIST, -E2BIG) become messages that say what happened, exit 1.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "map_btf_format.h"
#include "map_format.h"

/* ---- listing an object's maps ------------------------------------------ */

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

static int flush_stdout(const char *action)
{
	return fflush(stdout) ? cli_error("map %s: cannot write to standard output", action) : CLI_OK;
}

static int list_object_maps(const char *path, bool json, const struct comb_object *obj)
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
	return flush_stdout("list");
}

static int cmd_map_list_object(int argc, char **argv)
{
	struct cli_list_args a;
	int status = cli_parse_list_args("map", argc, argv, &a);
	if (status)
		return status;
	struct cli_object o;
	if (cli_open_listed_object(a.path, &o))
		return CLI_ERROR;
	status = list_object_maps(a.path, a.json, o.obj);
	cli_object_close(&o);
	return status;
}

/* ---- opening pinned maps ----------------------------------------------- */

/* NAME (no '/') -> DEFAULT_PIN_DIR/NAME; a relative path -> absolute. */
static int resolve_pin(const char *arg, char *out, size_t len)
{
	char base[PATH_MAX];
	int n;
	if (strchr(arg, '/') && arg[0] == '/') {
		n = snprintf(out, len, "%s", arg);
	} else if (strchr(arg, '/')) {
		if (!getcwd(base, sizeof(base)))
			return -errno;
		n = snprintf(out, len, "%s/%s", base, arg);
	} else {
		int rc = comb_pin_dir(base, sizeof(base));
		if (rc)
			return rc;
		n = snprintf(out, len, "%s/%s", base, arg);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The library's message without what we print anyway: a leading
 * "PATH: " and "not a usable comb map: ". */
static const char *without_path(const char *err, const char *path)
{
	static const char verdict[] = "not a usable comb map: ";
	size_t n = strlen(path);
	if (strncmp(err, path, n) == 0 && err[n] == ':' && err[n + 1] == ' ')
		err += n + 2;
	if (strncmp(err, verdict, sizeof(verdict) - 1) == 0)
		err += sizeof(verdict) - 1;
	return err;
}

/* Is path a regular file (not following a last symlink into a device or a
 * FIFO)? 0, or CLI_ERROR printed. */
static int check_pin_file(const char *action, const char *arg, const char *path)
{
	struct stat st;
	if (stat(path, &st)) {
		if (errno == ENOENT)
			return cli_error("map %s: %s: no such pinned map (%s does not exist)", action,
					 arg, path);
		return cli_error("map %s: %s: %s", action, path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return cli_error("map %s: %s: not a comb map (not a regular file)", action, path);
	return CLI_OK;
}

/* Open the map NAME|PIN names; CLI_OK with *map set, or CLI_ERROR printed. */
static int open_pinned_map(const char *action, const char *arg, struct comb_map **map)
{
	char path[PATH_MAX], err[512] = "";
	int rc = resolve_pin(arg, path, sizeof(path));
	if (rc)
		return cli_error("map %s: %s: cannot find the pin directory: %s", action, arg,
				 strerror(-rc));
	if (check_pin_file(action, arg, path))
		return CLI_ERROR;
	rc = comb_map_open_pinned(path, map, err, sizeof(err));
	if (rc == -EINVAL)
		return cli_error("map %s: %s: not a comb map (or a corrupted one): %s", action, path,
				 err[0] ? without_path(err, path) : "invalid file");
	if (rc)
		return cli_error("map %s: %s: cannot open: %s", action, path,
				 err[0] ? without_path(err, path) : strerror(-rc));
	return CLI_OK;
}

/* ---- list --pinned ----------------------------------------------------- */

static void print_pinned_line(const char *pin, const struct comb_map_info *m)
{
	char type_buf[24];
	printf("%s: %s  name %s  key %uB  value %uB  max_entries %u  flags 0x%x\n", pin,
	       map_type_text(m->type, type_buf, sizeof(type_buf)), m->name, m->key_size,
	       m->value_size, m->max_entries, m->map_flags);
}

static void print_pinned_json(bool first, const char *pin, const char *path,
			      const struct comb_map_info *m)
{
	char type_buf[24];
	printf("%s{\"pin\": ", first ? "" : ", ");
	cli_print_json_string(stdout, pin);
	printf(", \"path\": ");
	cli_print_json_string(stdout, path);
	printf(", \"name\": ");
	cli_print_json_string(stdout, m->name);
	printf(", \"type\": ");
	cli_print_json_string(stdout, map_type_text(m->type, type_buf, sizeof(type_buf)));
	printf(", \"type_id\": %u, \"key_size\": %u, \"value_size\": %u, \"max_entries\": %u"
	       ", \"flags\": %u}",
	       m->type, m->key_size, m->value_size, m->max_entries, m->map_flags);
}

/* Print one directory entry if it is a pinned map; files that are not are
 * skipped (regular ones with a warning). Returns true when printed. */
static bool list_one_pin(const char *dir, const char *pin, bool json, bool first)
{
	char path[PATH_MAX], err[512] = "";
	struct stat st;
	if (snprintf(path, sizeof(path), "%s/%s", dir, pin) >= (int)sizeof(path) ||
	    lstat(path, &st) || !S_ISREG(st.st_mode))
		return false; /* directories, FIFOs (ring buffer wake-ups), links */
	struct comb_map *map;
	int rc = comb_map_open_pinned(path, &map, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "comb: map list: %s: skipped, not a comb map (or a corrupted one): %s\n", path,
			err[0] ? without_path(err, path) : strerror(-rc));
		return false;
	}
	struct comb_map_info info;
	comb_map_get_info(map, &info);
	if (json)
		print_pinned_json(first, pin, path, &info);
	else
		print_pinned_line(pin, &info);
	comb_map_free(map);
	return true;
}

static int list_pinned(const char *dir_arg, bool json)
{
	char dir[PATH_MAX];
	if (dir_arg)
		snprintf(dir, sizeof(dir), "%s", dir_arg);
	else if (comb_pin_dir(dir, sizeof(dir)))
		return cli_error("map list: cannot find or create the pin directory");
	struct dirent **names;
	int count = scandir(dir, &names, NULL, alphasort);
	if (count < 0)
		return cli_error("map list: %s: cannot read the directory: %s", dir, strerror(errno));
	bool first = true;
	if (json)
		printf("[");
	for (int i = 0; i < count; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..") &&
		    list_one_pin(dir, names[i]->d_name, json, first))
			first = false;
		free(names[i]);
	}
	free(names);
	if (json)
		printf("]\n");
	return flush_stdout("list");
}

static int cmd_map_list(int argc, char **argv)
{
	bool pinned = false, json = false;
	const char *dir = NULL;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--pinned"))
			pinned = true;
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
	}
	if (!pinned)
		return cmd_map_list_object(argc, argv);
	for (int i = 2; i < argc; i++)
		if (argv[i][0] == '-' && strcmp(argv[i], "--pinned") && strcmp(argv[i], "--json"))
			return cli_usage_error("map", "unknown option '%s'", argv[i]);
		else if (argv[i][0] != '-' && argv[i] != dir)
			return cli_usage_error("map", "more than one directory ('%s' and '%s')", dir,
					       argv[i]);
	return list_pinned(dir, json);
}

/* ---- pin --------------------------------------------------------------- */

struct pin_args {
	const char *object;
	const char *dir;
	bool force;
	char **names;
	int name_count;
};

static int parse_pin_args(int argc, char **argv, struct pin_args *a)
{
	*a = (struct pin_args){ 0 };
	a->names = calloc((size_t)argc, sizeof(*a->names));
	if (!a->names)
		return cli_error("map pin: out of memory");
	for (int i = 2; i < argc; i++) {
		const char *value;
		int got = cli_option_value(argc, argv, &i, "--dir", &value);
		if (got < 0)
			return cli_usage_error("map", "--dir needs a directory");
		if (got > 0)
			a->dir = value;
		else if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			a->force = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("map", "unknown option '%s'", argv[i]);
		else if (!a->object)
			a->object = argv[i];
		else
			a->names[a->name_count++] = argv[i];
	}
	if (!a->object)
		return cli_usage_error("map", "pin: missing the object file");
	return CLI_OK;
}

static bool holds_pointers(uint32_t type)
{
	return type == COMB_MAP_PROG_ARRAY || type == COMB_MAP_ARRAY_OF_MAPS ||
	       type == COMB_MAP_HASH_OF_MAPS;
}

static int ensure_dir(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? CLI_OK : cli_error("map pin: %s: not a directory", dir);
	if (mkdir(dir, 0700))
		return cli_error("map pin: %s: cannot create the pin directory: %s", dir, strerror(errno));
	return CLI_OK;
}

/* May pin NAME go to path? Not if something is there, unless --force and
 * that something is a comb map (which is then unpinned). */
static int make_room_for_pin(const char *path, bool force, bool dry_run)
{
	struct stat st;
	if (lstat(path, &st))
		return errno == ENOENT ? CLI_OK : cli_error("map pin: %s: %s", path, strerror(errno));
	if (!force)
		return cli_error("map pin: %s: a pin with this name exists; not overwriting it "
				 "(use --force to replace it)", path);
	struct comb_map *old;
	char err[512] = "";
	if (!S_ISREG(st.st_mode) || comb_map_open_pinned(path, &old, err, sizeof(err)))
		return cli_error("map pin: %s: exists and is not a comb map; not replacing it, even "
				 "with --force", path);
	comb_map_free(old);
	if (!dry_run && comb_map_unpin(path))
		return cli_error("map pin: %s: cannot remove the old pin: %s", path, strerror(errno));
	return CLI_OK;
}

/* Which maps to pin: selected[i] for map i. Explicit names must exist and
 * be pinnable; without names every pinnable map is taken. */
static int select_maps(const struct pin_args *a, const struct comb_object *obj, bool *selected)
{
	size_t count = comb_object_map_count(obj);
	for (int n = 0; n < a->name_count; n++) {
		int index = comb_object_find_map(obj, a->names[n]);
		if (index < 0)
			return cli_error("map pin: %s: no map named '%s' (see `comb map list %s`)",
					 a->object, a->names[n], a->object);
		selected[index] = true;
	}
	for (size_t i = 0; i < count; i++) {
		struct comb_object_map_info info;
		if (comb_object_map_info(obj, i, &info))
			return cli_error("map pin: %s: cannot read map %zu", a->object, i);
		if (strchr(info.name, '/') || !info.name[0])
			return cli_error("map pin: %s: map name '%s' cannot be a file name", a->object,
					 info.name);
		if (!holds_pointers(info.type))
			selected[i] |= a->name_count == 0;
		else if (selected[i])
			return cli_error("map pin: %s: map %s cannot be pinned: its values are programs "
					 "or maps of this process", a->object, info.name);
	}
	return CLI_OK;
}

static int pin_path(const char *dir, const char *name, char *out, size_t len)
{
	if (snprintf(out, len, "%s/%s", dir, name) >= (int)len)
		return cli_error("map pin: %s/%s: path too long", dir, name);
	return CLI_OK;
}

/* The pin path of map i, checked (and, unless dry_run, made free with
 * --force). CLI_OK or CLI_ERROR printed. */
static int prepare_pin(const struct pin_args *a, const char *dir, const struct comb_object *obj,
		       size_t i, bool dry_run, char *path, size_t len)
{
	struct comb_object_map_info info;
	if (comb_object_map_info(obj, i, &info))
		return cli_error("map pin: %s: cannot read map %zu", a->object, i);
	if (pin_path(dir, info.name, path, len))
		return CLI_ERROR;
	return make_room_for_pin(path, a->force, dry_run);
}

static int pin_one(const struct comb_object *obj, size_t i, const char *path)
{
	struct comb_object_map_info info;
	comb_object_map_info(obj, i, &info);
	int rc = comb_map_pin(comb_object_map(obj, i), path);
	if (rc)
		return cli_error("map pin: %s: cannot pin map %s: %s", path, info.name,
				 rc == -EOPNOTSUPP ? "this map type cannot be pinned" : strerror(-rc));
	printf("pinned %s at %s\n", info.name, path);
	return CLI_OK;
}

/* Check every target first (nothing is pinned if one is taken), then pin. */
static int pin_selected(const struct pin_args *a, const char *dir, const struct comb_object *obj,
			const bool *selected)
{
	size_t count = comb_object_map_count(obj);
	char path[PATH_MAX];
	for (size_t i = 0; i < count; i++)
		if (selected[i] && prepare_pin(a, dir, obj, i, true, path, sizeof(path)))
			return CLI_ERROR;
	for (size_t i = 0; i < count; i++)
		if (selected[i] && (prepare_pin(a, dir, obj, i, false, path, sizeof(path)) ||
				    pin_one(obj, i, path)))
			return CLI_ERROR;
	return flush_stdout("pin");
}

static int pin_object_maps(const struct pin_args *a)
{
	char dir[PATH_MAX];
	if (a->dir)
		snprintf(dir, sizeof(dir), "%s", a->dir);
	else if (comb_pin_dir(dir, sizeof(dir)))
		return cli_error("map pin: cannot find or create the pin directory");
	if (ensure_dir(dir))
		return CLI_ERROR;
	struct cli_buffer buf;
	if (cli_read_file(a->object, &buf))
		return CLI_ERROR;
	struct cli_object o;
	int status = CLI_ERROR;
	if (cli_detect_format(a->object, &buf) != CLI_PROG_ELF)
		cli_error("%s: not an ELF object (no ELF magic)", a->object);
	else if (cli_open_object(a->object, &buf, true, &o) == 0) {
		bool *selected = calloc(comb_object_map_count(o.obj) + 1, sizeof(bool));
		if (!selected)
			cli_error("map pin: out of memory");
		else if (select_maps(a, o.obj, selected) == CLI_OK)
			status = pin_selected(a, dir, o.obj, selected);
		free(selected);
		cli_object_close(&o);
	}
	cli_buffer_free(&buf);
	return status;
}

static int cmd_map_pin(int argc, char **argv)
{
	struct pin_args a;
	int status = parse_pin_args(argc, argv, &a);
	if (status == CLI_OK)
		status = pin_object_maps(&a);
	free(a.names);
	return status;
}

/* ---- dump -------------------------------------------------------------- */

struct opened_map {
	struct comb_map *map;
	struct comb_map_info info;
	struct map_layout layout;
	struct map_btf btf;  /* btf.btf NULL: bytes only */
};

static int open_map(const char *action, const char *arg, struct opened_map *m)
{
	char why[320];
	if (open_pinned_map(action, arg, &m->map))
		return CLI_ERROR;
	comb_map_get_info(m->map, &m->info);
	map_layout_of(&m->info, &m->layout);
	if (!map_btf_open(m->map, &m->layout, &m->btf, why, sizeof(why)) && why[0])
		fprintf(stderr, "comb: map %s: %s: %s; using hex\n", action, arg, why);
	return CLI_OK;
}

static void close_map(struct opened_map *m)
{
	map_btf_close(&m->btf);
	comb_map_free(m->map);
}

/* One entry with types: pretty as bpftool's plain output, or compact with
 * the hex bytes as bpftool's --json output ("formatted"). */
static void print_typed_entry(struct json_out *w, const struct opened_map *m, const uint8_t *key,
			      const uint8_t *value)
{
	if (w->pretty) {
		map_btf_write_entry(w, &m->btf, &m->layout, key, value);
		return;
	}
	json_raw(w, "{");
	map_print_entry_json_fields(w->out, &m->layout, key, value);
	fputs(",\"formatted\":", w->out);
	struct json_out inner = { .out = w->out, .first = true };
	map_btf_write_entry(&inner, &m->btf, &m->layout, key, value);
	fputc('}', w->out);
}

static const char *type_name_of(const struct opened_map *m)
{
	const char *name = comb_map_type_name(m->info.type);
	return name ? name : "unknown-type";
}

/* Walk the keys in get_next_key order; at most max_entries entries. w is
 * set for typed output. */
static int dump_entries(const struct opened_map *m, bool json, struct json_out *w, size_t *found)
{
	uint8_t *key = calloc(1, m->layout.key_size), *next = calloc(1, m->layout.key_size);
	uint8_t *value = calloc(1, m->layout.value_bytes);
	int rc = key && next && value ? 0 : -ENOMEM;
	bool first_key = true;
	*found = 0;
	while (!rc && *found < m->info.max_entries) {
		rc = comb_map_get_next_key(m->map, first_key ? NULL : key, next);
		if (rc)
			break;
		first_key = false;
		memcpy(key, next, m->layout.key_size);
		int got = comb_map_lookup(m->map, key, value);
		if (got == -ENOENT)
			continue; /* deleted since get_next_key */
		if (got) {
			rc = got;
			break;
		}
		if (w)
			print_typed_entry(w, m, key, value);
		else if (json)
			printf("%s", *found ? "," : "");
		if (!w)
			(json ? map_print_entry_json : map_print_entry)(stdout, &m->layout, key, value);
		(*found)++;
	}
	free(key);
	free(next);
	free(value);
	return rc == -ENOENT ? 0 : rc;
}

static int dump_map(const char *arg, const struct opened_map *m, bool json)
{
	if (m->layout.key_size == 0)
		return cli_error("map dump: %s: map %s is a %s: it has no keys to dump", arg,
				 m->info.name, type_name_of(m));
	struct json_out w = { .out = stdout, .pretty = !json, .first = true };
	bool typed = m->btf.btf != NULL;
	if (typed)
		json_begin(&w, '[');
	else if (json)
		printf("[");
	size_t found;
	int rc = dump_entries(m, json, typed ? &w : NULL, &found);
	if (typed) {
		json_end(&w, ']');
		printf("\n");
	} else if (json) {
		printf("]\n");
	} else {
		printf("Found %zu element%s\n", found, found == 1 ? "" : "s");
	}
	if (rc)
		return cli_error("map dump: %s: reading map %s failed after %zu entries: %s", arg,
				 m->info.name, found, strerror(-rc));
	return flush_stdout("dump");
}

static int cmd_map_dump(int argc, char **argv)
{
	const char *pin = NULL;
	bool json = false, hex = false;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			json = true;
		else if (!strcmp(argv[i], "--hex"))
			hex = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("map", "unknown option '%s'", argv[i]);
		else if (pin)
			return cli_usage_error("map", "dump: more than one map ('%s' and '%s')", pin,
					       argv[i]);
		else
			pin = argv[i];
	}
	if (!pin)
		return cli_usage_error("map", "dump: missing the map (NAME or PIN path)");
	struct opened_map m;
	if (open_map("dump", pin, &m))
		return CLI_ERROR;
	if (hex)
		map_btf_close(&m.btf); /* print bytes only */
	int status = dump_map(pin, &m, json);
	close_map(&m);
	return status;
}

/* ---- freeze ------------------------------------------------------------ */

/* As `bpftool map freeze`: no more changes from user space, for good. */
static int cmd_map_freeze(int argc, char **argv)
{
	if (argc != 3 || argv[2][0] == '-')
		return cli_usage_error("map", "freeze: give exactly one map (NAME or PIN path)");
	struct opened_map m;
	if (open_map("freeze", argv[2], &m))
		return CLI_ERROR;
	int rc = comb_map_freeze(m.map);
	if (rc)
		fprintf(stderr, "comb map freeze: %s: %s\n", argv[2],
			rc == -EPERM ? "already frozen (or created read-only): nothing to do"
				     : strerror(-rc));
	close_map(&m);
	return rc ? CLI_ERROR : CLI_OK;
}

/* ---- lookup, update, delete -------------------------------------------- */

enum entry_action { ACTION_LOOKUP, ACTION_UPDATE, ACTION_DELETE };

static const char *const action_names[] = { "lookup", "update", "delete" };

/* What the command line says, key and value still as words. */
struct entry_args {
	enum entry_action action;
	const char *pin;
	bool json;
	bool force_hex, force_typed; /* --hex, --typed */
	uint64_t flags;
	char **words; /* the words after PIN that are not options */
	int word_count;
};

static int parse_update_flags(const char *text, uint64_t *flags)
{
	if (!strcmp(text, "any"))
		*flags = COMB_ANY;
	else if (!strcmp(text, "noexist"))
		*flags = COMB_NOEXIST;
	else if (!strcmp(text, "exist"))
		*flags = COMB_EXIST;
	else
		return -EINVAL;
	return 0;
}

static int parse_entry_args(enum entry_action action, int argc, char **argv, struct entry_args *a)
{
	*a = (struct entry_args){ .action = action };
	a->words = calloc((size_t)argc, sizeof(*a->words));
	if (!a->words)
		return cli_error("map: out of memory");
	for (int i = 2; i < argc; i++) {
		const char *value;
		int got = cli_option_value(argc, argv, &i, "--flags", &value);
		if (got < 0 || (got > 0 && action != ACTION_UPDATE))
			return cli_usage_error("map", "--flags goes with update, followed by any, "
					       "noexist or exist");
		if (got > 0 && parse_update_flags(value, &a->flags))
			return cli_usage_error("map", "bad --flags '%s' (any, noexist or exist)", value);
		if (got > 0)
			continue;
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			a->json = true;
		else if (!strcmp(argv[i], "--hex"))
			a->force_hex = true;
		else if (!strcmp(argv[i], "--typed"))
			a->force_typed = true;
		else if (argv[i][0] == '-' && argv[i][1] && !isdigit((unsigned char)argv[i][1]))
			return cli_usage_error("map", "unknown option '%s'", argv[i]);
		else if (!a->pin)
			a->pin = argv[i];
		else
			a->words[a->word_count++] = argv[i];
	}
	if (!a->pin)
		return cli_usage_error("map", "%s: missing the map (NAME or PIN path)", action_names[action]);
	if (a->force_hex && a->force_typed)
		return cli_usage_error("map", "%s: --hex and --typed exclude each other", action_names[action]);
	return CLI_OK;
}

/* Key and value words: bpftool's `key ... value ... [FLAG]` form, or the
 * positional KEY [VALUE]. */
struct entry_words {
	char **key, **value;
	int key_count, value_count;
	bool decimal; /* bpftool's form: bytes as C numbers unless `hex` */
};

static int split_keyword_form(struct entry_args *a, struct entry_words *w)
{
	int value_at = -1;
	for (int i = 1; i < a->word_count; i++)
		if (!strcmp(a->words[i], "value") && value_at < 0)
			value_at = i;
	int end = a->word_count;
	if (a->action == ACTION_UPDATE && end > 0 && !parse_update_flags(a->words[end - 1], &a->flags))
		end--;
	w->decimal = true;
	w->key = a->words + 1;
	w->key_count = (value_at < 0 ? end : value_at) - 1;
	if (value_at >= 0) {
		w->value = a->words + value_at + 1;
		w->value_count = end - value_at - 1;
	}
	if (a->action == ACTION_UPDATE && value_at < 0)
		return cli_usage_error("map", "update: missing `value` after the key");
	if (a->action != ACTION_UPDATE && value_at >= 0)
		return cli_usage_error("map", "%s: unexpected `value`", action_names[a->action]);
	return CLI_OK;
}

static int split_entry_words(struct entry_args *a, uint32_t key_size, struct entry_words *w)
{
	*w = (struct entry_words){ 0 };
	if (a->word_count > 0 && !strcmp(a->words[0], "key"))
		return split_keyword_form(a, w);
	if (a->word_count > 0 && !strcmp(a->words[0], "value") && key_size == 0) {
		w->value = a->words + 1; /* `value V` alone, for maps without keys */
		w->value_count = a->word_count - 1;
		w->decimal = true;
		return CLI_OK;
	}
	if (key_size == 0 && a->word_count > 0) {
		w->value = a->words; /* QUEUE, STACK, BLOOM_FILTER: VALUE only */
		w->value_count = a->word_count;
		return CLI_OK;
	}
	if (a->action != ACTION_UPDATE) {
		w->key = a->words;
		w->key_count = a->word_count;
		return CLI_OK;
	}
	if (a->word_count != 2)
		return cli_usage_error("map", "update needs KEY and VALUE, one word each: quote them "
				       "('0a 00 00 01') or write `key BYTES... value BYTES...`");
	w->key = a->words;
	w->value = a->words + 1;
	w->key_count = w->value_count = 1;
	return CLI_OK;
}

/* The words joined by spaces (malloc'd), for the JSON reader. */
static char *join_words(char **words, int count)
{
	size_t len = 1;
	for (int i = 0; i < count; i++)
		len += strlen(words[i]) + 1;
	char *text = calloc(1, len);
	for (int i = 0; text && i < count; i++) {
		strcat(text, words[i]);
		strcat(text, i + 1 < count ? " " : "");
	}
	return text;
}

/* Could the text be meant as hex bytes (hex digits, 0x, separators)? */
static bool looks_like_hex(const char *text)
{
	for (const char *p = text; *p; p++)
		if (!isxdigit((unsigned char)*p) && !isspace((unsigned char)*p) && *p != ',' &&
		    !(*p == 'x' && p > text && p[-1] == '0'))
			return false;
	return true;
}

/* An untyped key (global data: the index) as an unsigned number. */
static int parse_plain_index(const char *text, size_t size, uint8_t **out, char *err, size_t err_len)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	if (errno || end == text || *end || text[0] == '-' || size > 8 || (size < 8 && v >> (size * 8))) {
		snprintf(err, err_len, "'%s' is not an index of %zu bytes", text, size);
		return -EINVAL;
	}
	*out = calloc(1, size);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, &v, size); /* little endian */
	return 0;
}

/* KEY or VALUE as JSON for its BTF type: CLI_OK with *out (type size
 * bytes), 1 when it is not typed text (read it as bytes), or CLI_ERROR
 * printed. hex_err is the message the bytes reading gives, if any. */
static int parse_typed(const struct entry_args *a, const struct opened_map *m, const char *what,
		       char **words, int count, uint8_t **out, size_t *got)
{
	bool is_key = !strcmp(what, "KEY");
	uint32_t type = is_key ? m->btf.key_type : m->btf.value_type;
	size_t size = is_key ? m->layout.key_size : m->layout.value_size;
	char err[256] = "";
	char *text = join_words(words, count);
	if (!text)
		return cli_error("map: out of memory");
	int rc = type ? map_btf_parse(&m->btf, type, text, size, out, err, sizeof(err))
		      : parse_plain_index(text, size, out, err, sizeof(err));
	bool hex_meant = !a->force_typed && looks_like_hex(text);
	free(text);
	if (rc == 0) {
		*got = size;
		return CLI_OK;
	}
	if (hex_meant)
		return 1; /* the bytes reader says what is wrong */
	return cli_error("map %s: %s: bad %s for the map's BTF type: %s", action_names[a->action], a->pin,
			 what, err);
}

/* Parse what (KEY/VALUE) into exactly size bytes (malloc'd *out): JSON
 * for the map's BTF types, or bytes (see the comment at the top). */
static int parse_sized(const struct entry_args *a, const struct opened_map *m, const char *what,
		       char **words, int count, bool decimal, size_t size, uint8_t **out, size_t *got)
{
	char err[256];
	const char *map_name = m->info.name;
	*out = NULL;
	*got = 0;
	if (count == 0)
		return cli_usage_error("map", "%s: missing the %s", action_names[a->action], what);
	if (a->force_typed && !m->btf.btf)
		return cli_error("map %s: %s: --typed: map %s keeps no BTF; give hex bytes",
				 action_names[a->action], a->pin, map_name);
	bool is_value = strcmp(what, "KEY") != 0;
	size_t exact = is_value ? m->layout.value_size : m->layout.key_size;
	bool exact_hex = map_text_is_hex_of_size(words, count, exact) ||
			 (is_value && m->layout.percpu &&
			  map_text_is_hex_of_size(words, count, exact * m->layout.nr_cpus));
	if (m->btf.btf && !a->force_hex && !decimal && (a->force_typed || !exact_hex)) {
		int status = parse_typed(a, m, what, words, count, out, got);
		if (status <= 0)
			return status;
	}
	if (map_parse_bytes(words, count, decimal, out, got, err, sizeof(err)))
		return cli_error("map %s: %s: bad %s: %s", action_names[a->action], a->pin, what, err);
	if (size != SIZE_MAX && map_check_size(what, *got, size, map_name, err, sizeof(err))) {
		free(*out);
		*out = NULL;
		return cli_error("map %s: %s: %s", action_names[a->action], a->pin, err);
	}
	return CLI_OK;
}

/* A VALUE for update in the user-space layout: for a per-CPU map, one
 * value_size value goes to every CPU, nr_cpus values to one CPU each. */
static int build_value(const struct entry_args *a, const struct entry_words *w,
		       const struct opened_map *m, uint8_t **value)
{
	const struct map_layout *l = &m->layout;
	uint8_t *bytes;
	size_t got;
	size_t want = l->percpu ? SIZE_MAX : l->value_size;
	int status = parse_sized(a, m, "VALUE", w->value, w->value_count, w->decimal, want, &bytes, &got);
	if (status)
		return status;
	if (!l->percpu) {
		*value = bytes;
		return CLI_OK;
	}
	if (got != l->value_size && got != (size_t)l->value_size * l->nr_cpus) {
		free(bytes);
		return cli_error("map update: %s: VALUE is %zu bytes, per-CPU map %s needs %u (for "
				 "every CPU) or %zu (%u CPUs x %u)", a->pin, got, m->info.name,
				 l->value_size, (size_t)l->value_size * l->nr_cpus, l->nr_cpus,
				 l->value_size);
	}
	*value = calloc(1, l->value_bytes);
	if (!*value) {
		free(bytes);
		return cli_error("map update: out of memory");
	}
	bool one_for_all = got == l->value_size;
	for (uint32_t cpu = 0; cpu < l->nr_cpus; cpu++)
		memcpy(*value + (size_t)cpu * l->value_stride,
		       bytes + (one_for_all ? 0 : (size_t)cpu * l->value_size), l->value_size);
	free(bytes);
	return CLI_OK;
}

static bool is_array_type(uint32_t type)
{
	return type == COMB_MAP_ARRAY || type == COMB_MAP_PERCPU_ARRAY ||
	       type == COMB_MAP_PROG_ARRAY || type == COMB_MAP_ARRAY_OF_MAPS;
}

/* A map operation's error as a message, exit 1. */
static int report_map_error(const struct entry_args *a, const struct opened_map *m,
			    const uint8_t *key, int rc)
{
	char key_text[128] = "", reason[256];
	FILE *f = fmemopen(key_text, sizeof(key_text) - 1, "w");
	if (f) {
		map_print_hex(f, key, m->layout.key_size > 32 ? 32 : m->layout.key_size);
		fclose(f);
	}
	if (rc == -ENOENT && m->layout.key_size == 0)
		snprintf(reason, sizeof(reason), "%s", m->info.type == COMB_MAP_BLOOM_FILTER ?
			 "value not found (not in the set)" : "map is empty");
	else if (rc == -ENOENT)
		snprintf(reason, sizeof(reason), "key %s not found%s", key_text,
			 a->action == ACTION_UPDATE ? " (--flags exist updates existing keys only)" : "");
	else if (rc == -EEXIST)
		snprintf(reason, sizeof(reason), "key %s already exists (--flags noexist adds new keys only)",
			 key_text);
	else if (rc == -E2BIG && is_array_type(m->info.type))
		snprintf(reason, sizeof(reason), "index out of range: %s has max_entries %u",
			 m->info.name, m->info.max_entries);
	else if (rc == -E2BIG)
		snprintf(reason, sizeof(reason), "map is full (max_entries %u)", m->info.max_entries);
	else if (rc == -EINVAL && a->action == ACTION_DELETE &&
		 (is_array_type(m->info.type) || m->layout.key_size == 0))
		snprintf(reason, sizeof(reason), "entries of map %s (%s) cannot be deleted",
			 m->info.name, type_name_of(m));
	else if (rc == -EPERM && comb_map_frozen(m->map))
		snprintf(reason, sizeof(reason), "map %s is frozen: read-only from user space "
			 "(the loader freezes .rodata once a program is loaded)", m->info.name);
	else if (rc == -EPERM)
		snprintf(reason, sizeof(reason), "map %s was created %s: no %s access from user space",
			 m->info.name, (m->info.map_flags & COMB_F_RDONLY) ? "BPF_F_RDONLY" : "BPF_F_WRONLY",
			 (m->info.map_flags & COMB_F_RDONLY) ? "write" : "read");
	else if (rc == -ENOTSUP || rc == -EOPNOTSUPP)
		snprintf(reason, sizeof(reason), "%s is not supported for a %s map",
			 action_names[a->action], type_name_of(m));
	else
		snprintf(reason, sizeof(reason), "%s", strerror(-rc));
	return cli_error("map %s: %s: %s", action_names[a->action], a->pin, reason);
}

/* BLOOM_FILTER: lookup tests whether VALUE may be in the set. */
static int do_bloom_lookup(const struct entry_args *a, const struct entry_words *w,
			   const struct opened_map *m)
{
	uint8_t *value;
	size_t got;
	int status = parse_sized(a, m, "VALUE", w->value, w->value_count, w->decimal,
				 m->layout.value_size, &value, &got);
	if (status)
		return status;
	int rc = comb_map_lookup(m->map, NULL, value);
	if (rc == 0)
		map_print_entry(stdout, &m->layout, NULL, value);
	status = rc ? report_map_error(a, m, NULL, rc) : flush_stdout("lookup");
	free(value);
	return status;
}

static int do_lookup(const struct entry_args *a, const struct opened_map *m, const uint8_t *key)
{
	uint8_t *value = calloc(1, m->layout.value_bytes ? m->layout.value_bytes : 1);
	if (!value)
		return cli_error("map lookup: out of memory");
	int rc = comb_map_lookup(m->map, m->layout.key_size ? key : NULL, value);
	int status;
	if (rc) {
		status = report_map_error(a, m, key, rc);
	} else if (m->btf.btf && !a->force_hex) {
		struct json_out w = { .out = stdout, .pretty = !a->json, .first = true };
		print_typed_entry(&w, m, m->layout.key_size ? key : NULL, value);
		printf("\n");
		status = flush_stdout("lookup");
	} else {
		(a->json ? map_print_entry_json : map_print_entry)(stdout, &m->layout, key, value);
		if (a->json)
			printf("\n");
		status = flush_stdout("lookup");
	}
	free(value);
	return status;
}

static int do_update(const struct entry_args *a, const struct entry_words *w,
		     const struct opened_map *m, const uint8_t *key)
{
	uint8_t *value;
	int status = build_value(a, w, m, &value);
	if (status)
		return status;
	int rc = comb_map_update(m->map, m->layout.key_size ? key : NULL, value, a->flags);
	free(value);
	return rc ? report_map_error(a, m, key, rc) : CLI_OK;
}

static int run_entry_action(struct entry_args *a, const struct opened_map *m)
{
	struct entry_words w;
	int status = split_entry_words(a, m->layout.key_size, &w);
	if (status)
		return status;
	uint8_t *key = NULL;
	size_t key_len = 0;
	bool keyless = m->layout.key_size == 0 && w.key_count == 0;
	if (keyless && w.value_count && a->action != ACTION_UPDATE &&
	    m->info.type != COMB_MAP_BLOOM_FILTER)
		return cli_usage_error("map", "%s: map %s (%s) has no keys: give no KEY",
				       action_names[a->action], m->info.name, type_name_of(m));
	if (!keyless && (status = parse_sized(a, m, "KEY", w.key, w.key_count, w.decimal,
					      m->layout.key_size, &key, &key_len)))
		return status;
	if (a->action == ACTION_LOOKUP && m->info.type == COMB_MAP_BLOOM_FILTER) {
		status = do_bloom_lookup(a, &w, m);
	} else if (a->action == ACTION_LOOKUP) {
		status = do_lookup(a, m, key);
	} else if (a->action == ACTION_UPDATE) {
		status = do_update(a, &w, m, key);
	} else {
		int rc = comb_map_delete(m->map, key);
		status = rc ? report_map_error(a, m, key, rc) : CLI_OK;
	}
	free(key);
	return status;
}

static int cmd_map_entry(enum entry_action action, int argc, char **argv)
{
	struct entry_args a;
	int status = parse_entry_args(action, argc, argv, &a);
	if (status == CLI_OK) {
		struct opened_map m;
		status = open_map(action_names[action], a.pin, &m);
		if (status == CLI_OK) {
			status = run_entry_action(&a, &m);
			close_map(&m);
		}
	}
	free(a.words);
	return status;
}

/* ---- dispatch ---------------------------------------------------------- */

int cmd_map(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("map", "missing the action (list, pin, dump, lookup, update, "
				       "delete, freeze)");
	const char *action = argv[1];
	if (!strcmp(action, "list") || !strcmp(action, "show"))
		return cmd_map_list(argc, argv);
	if (!strcmp(action, "pin"))
		return cmd_map_pin(argc, argv);
	if (!strcmp(action, "dump"))
		return cmd_map_dump(argc, argv);
	if (!strcmp(action, "lookup"))
		return cmd_map_entry(ACTION_LOOKUP, argc, argv);
	if (!strcmp(action, "update"))
		return cmd_map_entry(ACTION_UPDATE, argc, argv);
	if (!strcmp(action, "delete"))
		return cmd_map_entry(ACTION_DELETE, argc, argv);
	if (!strcmp(action, "freeze"))
		return cmd_map_freeze(argc, argv);
	return cli_usage_error("map", "unknown action '%s' (list, pin, dump, lookup, update, "
			       "delete, freeze)", action);
}
