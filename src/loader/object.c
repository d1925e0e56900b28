/* src/loader/object.c - the object API: open, inspect, configure, load.
 *
 * Opening parses everything that can be known without a VM: the ELF
 * container (elf.c), .BTF and .BTF.ext (btf.c), programs (one per function
 * symbol in each code section other than .text, whose functions are
 * subprograms), maps (maps_def.c) and global data (globals.c). Loading
 * creates the maps, relocates each program (reloc.c, which also applies
 * CO-RE through loader_core_function against the target BTF, loaded on first
 * use), loads it into the VM with its own map table and verifies it (unless
 * comb_object_set_verify turned that off), then fills the initial
 * slots of prog arrays and map-in-maps. A failed load leaves the object as it
 * was before, so it may be retried. With a pin directory (or libbpf's
 * LIBBPF_PIN_BY_NAME, when asked) maps are reused from their pins or pinned
 * as they are created, and a failed load removes the pins it made.
 */
#include <bpf/btf.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "loader/btf.h"
#include "loader/core.h"
#include "loader/internal.h"
#include "loader/map_btf.h"
#include "comb/verifier.h"

/* Objects larger than this are refused (the largest libbpf-tools one is ~1 MB). */
#define OBJECT_SIZE_LIMIT (256u << 20)

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* ---- programs ---- */

static int compare_funcs(const void *a, const void *b)
{
	const struct elf_symbol *x = *(const struct elf_symbol *const *)a, *y = *(const struct elf_symbol *const *)b;
	return x->value < y->value ? -1 : x->value > y->value;
}

static int add_prog(struct comb_object *obj, uint32_t sec, const char *name, uint64_t off, uint64_t size)
{
	const struct elf_section *s = &obj->elf.sections[sec];
	if (off % 8 || size % 8 || size == 0 || off > s->size || size > s->size - off)
		return loader_error(NULL, 0, obj->name, s->name, off, "bad function");
	struct obj_prog *progs = realloc(obj->progs, (obj->prog_count + 1) * sizeof(*progs));
	if (!progs)
		return -ENOMEM;
	obj->progs = progs;
	struct obj_prog *p = &progs[obj->prog_count];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	if (!p->name)
		return -ENOMEM;
	obj->prog_count++;
	p->section = s->name;
	p->sec_idx = sec;
	p->sec_insn = off / 8;
	p->insn_count = size / 8;
	loader_section_types(s->name, &p->prog_type, &p->attach_type);
	return 0;
}

static int collect_section_progs(struct comb_object *obj, uint32_t sec, char *err, size_t err_len)
{
	const struct elf_section *s = &obj->elf.sections[sec];
	const struct elf_symbol **funcs = calloc(obj->elf.symbol_count + 1, sizeof(*funcs));
	size_t n = 0;
	if (!funcs)
		return -ENOMEM;
	for (size_t i = 1; i < obj->elf.symbol_count; i++) {
		const struct elf_symbol *sym = &obj->elf.symbols[i];
		if (sym->shndx == sec && sym->type == STT_FUNC && sym->name[0])
			funcs[n++] = sym;
	}
	qsort(funcs, n, sizeof(*funcs), compare_funcs);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = add_prog(obj, sec, funcs[i]->name, funcs[i]->value, funcs[i]->size);
		if (rc == -EINVAL)
			rc = loader_error(err, err_len, obj->name, s->name, funcs[i]->value,
					  "function %s (%llu bytes) is not whole instructions inside the section",
					  funcs[i]->name, (unsigned long long)funcs[i]->size);
	}
	if (!rc && n == 0) /* hand-written code without symbols: the section is the program */
		rc = add_prog(obj, sec, s->name, 0, s->size);
	free(funcs);
	return rc;
}

static int collect_progs(struct comb_object *obj, char *err, size_t err_len)
{
	for (size_t i = 1; i < obj->elf.section_count; i++) {
		const struct elf_section *s = &obj->elf.sections[i];
		if (s->type != SHT_PROGBITS || !(s->flags & SHF_EXECINSTR) || s->size == 0)
			continue;
		if (s->size % 8)
			return loader_error(err, err_len, obj->name, s->name, 0,
					    "code of %llu bytes is not whole 8-byte instructions",
					    (unsigned long long)s->size);
		if (strcmp(s->name, ".text") == 0) {
			obj->text_sec = (int)i;
			continue;
		}
		int rc = collect_section_progs(obj, (uint32_t)i, err, err_len);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- open ---- */

static void collect_license_version(struct comb_object *obj)
{
	int sec = elf_find_section(&obj->elf, "license");
	if (sec > 0 && obj->elf.sections[sec].data) {
		size_t n = obj->elf.sections[sec].size;
		if (n >= sizeof(obj->license))
			n = sizeof(obj->license) - 1;
		memcpy(obj->license, obj->elf.sections[sec].data, n);
		obj->license[n] = 0;
	}
	sec = elf_find_section(&obj->elf, "version");
	if (sec > 0 && obj->elf.sections[sec].data && obj->elf.sections[sec].size == 4)
		memcpy(&obj->kversion, obj->elf.sections[sec].data, 4);
}

static int collect_btf(struct comb_object *obj, char *err, size_t err_len)
{
	int sec = elf_find_section(&obj->elf, ".BTF");
	char why[256] = "";
	if (sec > 0 && obj->elf.sections[sec].data) {
		int rc = comb_btf_from_data(obj->elf.sections[sec].data, obj->elf.sections[sec].size, &obj->btf,
					    why, sizeof(why));
		if (rc)
			return loader_error(err, err_len, obj->name, ".BTF", 0, "%s", why);
	}
	sec = elf_find_section(&obj->elf, ".BTF.ext");
	if (sec > 0 && obj->elf.sections[sec].data && obj->btf) {
		int rc = comb_btf_ext_parse(obj->elf.sections[sec].data, obj->elf.sections[sec].size, obj->btf,
					    &obj->btf_ext, why, sizeof(why));
		if (rc)
			return loader_error(err, err_len, obj->name, ".BTF.ext", 0, "%s", why);
	}
	return 0;
}

static int object_parse(struct comb_object *obj, char *err, size_t err_len)
{
	collect_license_version(obj);
	obj->maps_sec = elf_find_section(&obj->elf, ".maps");
	obj->legacy_maps_sec = elf_find_section(&obj->elf, "maps");
	obj->text_sec = -1;
	obj->kconfig_map = -1;
	int rc = collect_btf(obj, err, err_len);
	if (!rc)
		rc = collect_progs(obj, err, err_len);
	if (!rc)
		rc = loader_collect_maps(obj, err, err_len);
	if (!rc)
		rc = loader_collect_globals(obj, err, err_len);
	if (!rc)
		rc = loader_collect_map_slots(obj, err, err_len);
	return rc;
}

static int object_open_image(uint8_t *image, size_t size, const char *name,
			     const struct comb_object_open_opts *opts, struct comb_object **out, char *err,
			     size_t err_len)
{
	struct comb_object *obj = calloc(1, sizeof(*obj));
	if (!obj) {
		free(image);
		return -ENOMEM;
	}
	obj->name = strdup(name);
	const char *target = opts && opts->sz > offsetof(struct comb_object_open_opts, target_btf_path)
			     ? opts->target_btf_path : NULL;
	obj->target_btf_path = target ? strdup(target) : NULL;
	int rc = !obj->name || (target && !obj->target_btf_path) ? -ENOMEM : 0;
	if (rc) {
		free(image);
	} else {
		rc = elf_file_parse(&obj->elf, image, size, obj->name, err, err_len);
		if (!rc)
			rc = object_parse(obj, err, err_len);
	}
	if (rc == -ENOMEM && err && err_len)
		snprintf(err, err_len, "%s: out of memory", name);
	if (rc) {
		comb_object_close(obj);
		return rc;
	}
	*out = obj;
	return 0;
}

int comb_object_open_mem(const void *data, size_t size, const struct comb_object_open_opts *opts,
			 struct comb_object **obj, char *err, size_t err_len)
{
	const char *name = opts && opts->sz > offsetof(struct comb_object_open_opts, name) && opts->name
			   ? opts->name : "(memory)";
	if (err && err_len)
		err[0] = 0;
	if (!obj || (!data && size))
		return -EINVAL;
	if (size > OBJECT_SIZE_LIMIT)
		return loader_error(err, err_len, name, NULL, 0, "%zu bytes is too large for an object", size);
	uint8_t *image = malloc(size ? size : 1);
	if (!image)
		return -ENOMEM;
	if (size)
		memcpy(image, data, size);
	return object_open_image(image, size, name, opts, obj, err, err_len);
}

int comb_object_open_file(const char *path, const struct comb_object_open_opts *opts, struct comb_object **obj,
			  char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = 0;
	if (!path || !obj)
		return -EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (err && err_len)
			snprintf(err, err_len, "%s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > OBJECT_SIZE_LIMIT) {
		close(fd);
		return loader_error(err, err_len, path, NULL, 0, "not a regular file of a sane size");
	}
	size_t size = (size_t)st.st_size, got = 0;
	uint8_t *image = malloc(size ? size : 1);
	while (image && got < size) {
		ssize_t n = read(fd, image + got, size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!image)
		return -ENOMEM;
	if (got != size) {
		free(image);
		return loader_error(err, err_len, path, NULL, got, "short read");
	}
	return object_open_image(image, size, path, opts, obj, err, err_len);
}

/* ---- teardown ---- */

static void forget_pins(struct comb_object *obj)
{
	for (size_t i = 0; i < obj->map_count; i++) {
		free(obj->maps[i].pin_path);
		obj->maps[i].pin_path = NULL;
		obj->maps[i].pin_state = COMB_PIN_NONE;
	}
}

static void unload(struct comb_object *obj)
{
	for (size_t i = 0; i < obj->prog_count; i++) {
		struct obj_prog *p = &obj->progs[i];
		comb_prog_free(p->prog);
		free(p->insns);
		free(p->segs);
		free(p->maps);
		p->prog = NULL, p->insns = NULL, p->segs = NULL, p->maps = NULL;
		p->count = p->seg_count = p->map_count = 0;
	}
	for (size_t i = 0; i < obj->map_count; i++) {
		comb_map_free(obj->maps[i].map);
		obj->maps[i].map = NULL;
	}
	forget_pins(obj);
	obj->loaded = false;
}

void comb_object_close(struct comb_object *obj)
{
	if (!obj)
		return;
	unload(obj);
	for (size_t i = 0; i < obj->prog_count; i++)
		free(obj->progs[i].name);
	for (size_t i = 0; i < obj->map_count; i++) {
		free(obj->maps[i].name);
		free(obj->maps[i].data);
		free(obj->maps[i].slots);
	}
	for (size_t i = 0; i < obj->extern_count; i++)
		free(obj->externs[i].name);
	free(obj->externs);
	free(obj->progs);
	free(obj->maps);
	btf__free(obj->btf);
	comb_core_target_free(obj->core_target);
	btf__free(obj->target_btf);
	comb_btf_ext_free(obj->btf_ext);
	elf_file_free(&obj->elf);
	free(obj->target_btf_path);
	free(obj->pin_dir);
	free(obj->name);
	free(obj);
}

/* ---- inspection ---- */

const char *comb_object_name(const struct comb_object *obj)
{
	return obj ? obj->name : NULL;
}

const char *comb_object_license(const struct comb_object *obj)
{
	return obj ? obj->license : NULL;
}

uint32_t comb_object_kversion(const struct comb_object *obj)
{
	return obj ? obj->kversion : 0;
}

size_t comb_object_prog_count(const struct comb_object *obj)
{
	return obj ? obj->prog_count : 0;
}

int comb_object_prog_info(const struct comb_object *obj, size_t index, struct comb_object_prog_info *info)
{
	if (!obj || !info || index >= obj->prog_count)
		return -EINVAL;
	const struct obj_prog *p = &obj->progs[index];
	*info = (struct comb_object_prog_info){ p->name, p->section, p->prog_type, p->attach_type, p->insn_count };
	return 0;
}

int comb_object_find_prog(const struct comb_object *obj, const char *name)
{
	if (!obj || !name)
		return -EINVAL;
	for (size_t i = 0; i < obj->prog_count; i++)
		if (strcmp(obj->progs[i].name, name) == 0)
			return (int)i;
	for (size_t i = 0; i < obj->prog_count; i++)
		if (strcmp(obj->progs[i].section, name) == 0)
			return (int)i;
	return -ENOENT;
}

int comb_object_set_prog_type(struct comb_object *obj, size_t index, uint32_t prog_type)
{
	if (!obj || index >= obj->prog_count)
		return -EINVAL;
	if (obj->loaded)
		return -EBUSY;
	obj->progs[index].prog_type = prog_type;
	return 0;
}

size_t comb_object_map_count(const struct comb_object *obj)
{
	return obj ? obj->map_count : 0;
}

int comb_object_map_info(const struct comb_object *obj, size_t index, struct comb_object_map_info *info)
{
	if (!obj || !info || index >= obj->map_count)
		return -EINVAL;
	const struct obj_map *m = &obj->maps[index];
	*info = (struct comb_object_map_info){
		.name = m->name, .type = m->type, .key_size = m->key_size, .value_size = m->value_size,
		.max_entries = m->max_entries, .map_flags = m->map_flags, .map_extra = m->map_extra,
		.pinning = m->pinning, .inner_map = m->inner_map,
		.is_global_data = m->kind == OBJ_MAP_GLOBAL || m->kind == OBJ_MAP_KCONFIG,
	};
	return 0;
}

int comb_object_find_map(const struct comb_object *obj, const char *name)
{
	if (!obj || !name)
		return -EINVAL;
	for (size_t i = 0; i < obj->map_count; i++)
		if (strcmp(obj->maps[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

int comb_object_set_map_max_entries(struct comb_object *obj, size_t index, uint32_t max_entries)
{
	if (!obj || index >= obj->map_count || obj->maps[index].kind == OBJ_MAP_GLOBAL ||
	    obj->maps[index].kind == OBJ_MAP_KCONFIG)
		return -EINVAL;
	if (obj->loaded)
		return -EBUSY;
	obj->maps[index].max_entries = max_entries;
	return 0;
}

struct comb_prog *comb_object_prog(const struct comb_object *obj, size_t index)
{
	return obj && index < obj->prog_count ? obj->progs[index].prog : NULL;
}

struct comb_map *comb_object_map(const struct comb_object *obj, size_t index)
{
	return obj && index < obj->map_count ? obj->maps[index].map : NULL;
}

/* ---- CO-RE ---- */

int loader_core_function(struct comb_object *obj, const struct obj_prog *prog, uint32_t sec, size_t start,
			 struct comb_insn *insns, size_t len, char *err, size_t err_len)
{
	const char *sec_name = obj->elf.sections[sec].name;
	const struct comb_btf_ext_section *records =
		obj->btf_ext ? comb_btf_ext_find(obj->btf_ext, COMB_BTF_EXT_CORE_RELO, sec_name) : NULL;
	if (!records || records->count == 0)
		return 0;
	if (!obj->core_target) {
		char why[256] = "";
		int rc = obj->target_btf ? 0 : comb_btf_load_target(obj->target_btf_path, &obj->target_btf,
								   why, sizeof(why));
		if (rc)
			return loader_error(err, err_len, obj->name, sec_name, 0,
					    "prog %s: CO-RE needs a target BTF: %s", prog->name, why);
		if (comb_core_target_new(obj->target_btf, &obj->core_target))
			return -ENOMEM;
	}
	for (size_t i = 0; i < records->count; i++) {
		struct comb_core_relo relo = records->core_relo[i];
		if (relo.insn_off % 8 || relo.insn_off / 8 < start || relo.insn_off / 8 >= start + len)
			continue;
		relo.insn_off -= (uint32_t)(start * 8);
		struct comb_core_result res;
		char why[256] = "";
		int rc = comb_core_relocate_indexed(obj->btf, obj->core_target, &relo, insns, len, &res, why,
						    sizeof(why));
		if (rc)
			return loader_error(err, err_len, obj->name, sec_name, records->core_relo[i].insn_off,
					    "prog %s: CO-RE relocation %zu: %s", prog->name, i, why);
	}
	return 0;
}

/* ---- pinning (libbpf's pin_root_path and LIBBPF_PIN_BY_NAME) ---- */

int comb_object_set_pin_dir(struct comb_object *obj, const char *dir)
{
	if (!obj)
		return -EINVAL;
	if (obj->loaded)
		return -EBUSY;
	char *copy = dir ? strdup(dir) : NULL;
	if (dir && !copy)
		return -ENOMEM;
	free(obj->pin_dir);
	obj->pin_dir = copy;
	return 0;
}

int comb_object_set_pin_by_name(struct comb_object *obj, bool enable)
{
	if (!obj)
		return -EINVAL;
	if (obj->loaded)
		return -EBUSY;
	obj->pin_by_name = enable;
	return 0;
}

enum comb_object_pin_state comb_object_map_pin_state(const struct comb_object *obj, size_t index,
						     const char **path)
{
	if (path)
		*path = NULL;
	if (!obj || index >= obj->map_count)
		return COMB_PIN_NONE;
	if (path)
		*path = obj->maps[index].pin_path;
	return (enum comb_object_pin_state)obj->maps[index].pin_state;
}

/* "FILE: map NAME: ..." in err; returns rc. */
__attribute__((format(printf, 6, 7)))
static int pin_error(const struct comb_object *obj, const struct obj_map *m, char *err, size_t err_len, int rc,
		     const char *fmt, ...)
{
	if (err && err_len) {
		int n = snprintf(err, err_len, "%s: map %s: ", obj->name, m->name);
		va_list ap;
		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < err_len)
			vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Where map m is pinned at load: DIR/NAME for every non-global map with a
 * pin directory; PIN_DIR/NAME for LIBBPF_PIN_BY_NAME maps when asked; else
 * nowhere (*path NULL). */
static int map_pin_path_for(const struct comb_object *obj, const struct obj_map *m, char **path)
{
	*path = NULL;
	if (m->kind != OBJ_MAP_BTF && m->kind != OBJ_MAP_LEGACY)
		return 0;
	char dir[4096], cwd[2048];
	int n = 0;
	if (obj->pin_dir && obj->pin_dir[0] != '/') { /* comb_map_pin takes relative paths from its own dir */
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		n = snprintf(dir, sizeof(dir), "%s/%s", cwd, obj->pin_dir);
	} else if (obj->pin_dir) {
		n = snprintf(dir, sizeof(dir), "%s", obj->pin_dir);
	} else if (obj->pin_by_name && m->pinning == 1) {
		int rc = comb_pin_dir(dir, sizeof(dir));
		if (rc)
			return rc;
	} else {
		return 0;
	}
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	size_t len = strlen(dir) + strlen(m->name) + 2;
	*path = malloc(len);
	if (!*path)
		return -ENOMEM;
	snprintf(*path, len, "%s/%s", dir, m->name);
	return 0;
}

/* libbpf's map_is_reuse_compat: the pinned map must match the definition. */
static int check_pinned_compat(const struct comb_object *obj, const struct obj_map *m,
			       const struct comb_map *pinned, char *err, size_t err_len)
{
	struct comb_map_info info;
	comb_map_get_info(pinned, &info);
	const struct {
		const char *field;
		uint64_t have, want;
	} fields[] = {
		{ "type", info.type, m->type },
		{ "key_size", info.key_size, m->key_size },
		{ "value_size", info.value_size, m->value_size },
		{ "max_entries", info.max_entries, m->max_entries ? m->max_entries : info.max_entries },
		{ "map_flags", info.map_flags, m->map_flags },
		{ "map_extra", info.map_extra, m->map_extra },
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i].have != fields[i].want)
			return pin_error(obj, m, err, err_len, -EINVAL,
					 "cannot reuse the map pinned at %s: its %s is %llu, the object's is %llu "
					 "(unpin it or fix the definition)", m->pin_path, fields[i].field,
					 (unsigned long long)fields[i].have, (unsigned long long)fields[i].want);
	return 0;
}

/* Reuse the map pinned at m->pin_path: 1 if reused, 0 if nothing is pinned
 * there, or a negative errno (message in err). */
static int reuse_pinned_map(struct comb_object *obj, struct obj_map *m, char *err, size_t err_len)
{
	struct stat st;
	if (stat(m->pin_path, &st) != 0 && errno == ENOENT)
		return 0;
	char why[256] = "";
	struct comb_map *pinned = NULL;
	int rc = comb_map_open_pinned(m->pin_path, &pinned, why, sizeof(why));
	if (rc)
		return pin_error(obj, m, err, err_len, rc, "cannot reuse %s: %s", m->pin_path,
				 why[0] ? why : strerror(-rc));
	rc = check_pinned_compat(obj, m, pinned, err, err_len);
	if (rc) {
		comb_map_free(pinned);
		return rc;
	}
	m->map = pinned;
	m->pin_state = COMB_PIN_REUSED;
	return 1;
}

/* Pin a map this load created; maps holding pointers stay private. */
static int pin_created_map(struct comb_object *obj, struct obj_map *m, char *err, size_t err_len)
{
	int rc = comb_map_pin(m->map, m->pin_path);
	if (rc == -EOPNOTSUPP) {
		m->pin_state = COMB_PIN_UNPINNABLE;
		return 0;
	}
	if (rc)
		return pin_error(obj, m, err, err_len, rc, "cannot pin it at %s: %s", m->pin_path, strerror(-rc));
	m->pin_state = COMB_PIN_CREATED;
	return 0;
}

/* A failed load takes back the pins it made. */
static void unpin_created_maps(struct comb_object *obj)
{
	for (size_t i = 0; i < obj->map_count; i++)
		if (obj->maps[i].pin_state == COMB_PIN_CREATED)
			comb_map_unpin(obj->maps[i].pin_path);
}

/* ---- load ---- */

static int create_maps(struct comb_object *obj, char *err, size_t err_len)
{
	for (size_t i = 0; i < obj->map_count; i++) {
		struct obj_map *m = &obj->maps[i];
		if (m->kind == OBJ_MAP_INNER)
			continue;
		int prc = map_pin_path_for(obj, m, &m->pin_path);
		if (prc)
			return pin_error(obj, m, err, err_len, prc, "no pin directory: %s", strerror(-prc));
		if (m->pin_path) {
			prc = reuse_pinned_map(obj, m, err, err_len);
			if (prc < 0)
				return prc;
			if (prc > 0)
				continue;
		}
		struct comb_map_def def = {
			.sz = sizeof(def), .name = m->name, .type = m->type, .key_size = m->key_size,
			.value_size = m->value_size, .max_entries = m->max_entries, .map_flags = m->map_flags,
			.map_extra = m->map_extra,
		};
		m->create_error[0] = 0;
		int rc = comb_map_create(&def, &m->map, m->create_error, sizeof(m->create_error));
		if (rc == -ENOMEM)
			return rc;
		if (rc) {
			m->map = NULL;
			continue; /* an error only if a program uses it */
		}
		void *value = m->data ? comb_map_array_value(m->map, 0) : NULL;
		if (value)
			memcpy(value, m->data, m->value_size);
		/* As libbpf: read-only global data (.rodata, .kconfig) is frozen
		 * once filled, so programs may be verified against its contents. */
		if (value && (m->kind == OBJ_MAP_GLOBAL || m->kind == OBJ_MAP_KCONFIG) &&
		    (m->map_flags & COMB_F_RDONLY_PROG))
			comb_map_freeze(m->map);
		loader_attach_map_btf(obj, m); /* key/value types travel with pins */
		if (m->pin_path && (prc = pin_created_map(obj, m, err, err_len)))
			return prc;
	}
	return 0;
}

/* Prove a loaded program safe with what the object knows about it (type,
 * maps, attach target, BTF); on rejection err names the object, program,
 * source line (from line_info) and instruction. */
static int verify_prog(struct comb_object *obj, struct obj_prog *p, char *err, size_t err_len)
{
	struct comb_verify_opts vopts = { .sz = sizeof(vopts) };
	struct comb_verify_result res;
	size_t index = (size_t)(p - obj->progs);
	int rc = comb_verify_object_prog(obj, index, &vopts, &res);
	if (rc == 0 || !err || !err_len)
		return rc;
	/* The message already names file.c:42; add the text: "... [v->packets++;]". */
	const char *line = res.error_insn >= 0 ? loader_source_line(obj, index, (size_t)res.error_insn) : NULL;
	const char *text = line ? strstr(line, ": ") : NULL; /* after "file.c:42" */
	if (text)
		text += 2 + strspn(text + 2, " \t");
	snprintf(err, err_len, "%s: prog %s (section %s): verifier: %s%s%s%s", obj->name, p->name, p->section,
		 res.message[0] ? res.message : strerror(-rc), text && *text ? " [" : "", text ? text : "",
		 text && *text ? "]" : "");
	return rc;
}

static int load_prog(struct comb_object *obj, struct comb_vm *vm, struct obj_prog *p, char *err, size_t err_len)
{
	size_t *indices = NULL;
	int rc = loader_relocate_prog(obj, p, &indices, err, err_len);
	if (rc)
		return rc;
	p->maps = calloc(p->map_count + 1, sizeof(*p->maps));
	if (!p->maps) {
		free(indices);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->map_count; i++) {
		const struct obj_map *m = &obj->maps[indices[i]];
		if (!m->map) {
			free(indices);
			return loader_error(err, err_len, obj->name, p->section, p->sec_insn * 8,
					    "prog %s uses map %s, which could not be created: %s", p->name, m->name,
					    m->create_error);
		}
		p->maps[i] = m->map;
	}
	free(indices);
	struct comb_prog_opts opts = {
		.sz = sizeof(opts), .name = p->name, .prog_type = p->prog_type, .maps = p->maps,
		.map_count = p->map_count,
	};
	char why[256] = "";
	rc = comb_prog_load(vm, p->insns, p->count, &opts, &p->prog, why, sizeof(why));
	if (rc && err && err_len)
		snprintf(err, err_len, "%s: prog %s (section %s): %s", obj->name, p->name, p->section, why);
	if (!rc && !obj->no_verify)
		rc = verify_prog(obj, p, err, err_len);
	return rc;
}

static int fill_slots(struct comb_object *obj, char *err, size_t err_len)
{
	for (size_t i = 0; i < obj->map_count; i++) {
		struct obj_map *m = &obj->maps[i];
		for (size_t s = 0; s < m->slot_count; s++) {
			const struct obj_map_slot *slot = &m->slots[s];
			void *value = slot->is_prog ? (void *)obj->progs[slot->target].prog
						    : (void *)obj->maps[slot->target].map;
			int rc = m->map && value ? comb_map_update(m->map, &slot->index, &value, 0) : -ENOENT;
			if (rc && err && err_len)
				snprintf(err, err_len, "%s: map %s: cannot set initial value %u: %s", obj->name,
					 m->name, slot->index, strerror(-rc));
			if (rc)
				return rc;
		}
	}
	return 0;
}

int comb_object_set_verify(struct comb_object *obj, bool verify)
{
	if (!obj)
		return -EINVAL;
	if (obj->loaded)
		return -EBUSY;
	obj->no_verify = !verify;
	return 0;
}

int comb_object_load(struct comb_object *obj, struct comb_vm *vm, char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = 0;
	if (!obj || !vm)
		return -EINVAL;
	if (obj->loaded)
		return -EBUSY;
	int rc = create_maps(obj, err, err_len);
	for (size_t i = 0; i < obj->prog_count && !rc; i++)
		rc = load_prog(obj, vm, &obj->progs[i], err, err_len);
	if (!rc)
		rc = fill_slots(obj, err, err_len);
	if (rc == -ENOMEM && err && err_len && !err[0])
		snprintf(err, err_len, "%s: out of memory", obj->name);
	if (rc) {
		unpin_created_maps(obj);
		unload(obj);
		return rc;
	}
	obj->loaded = true;
	return 0;
}

/* ---- source lines ---- */

const char *comb_object_prog_line(const struct comb_object *obj, size_t index, size_t insn_index)
{
	if (!obj || index >= obj->prog_count || !obj->btf_ext || !obj->btf)
		return NULL;
	const struct obj_prog *p = &obj->progs[index];
	for (size_t k = 0; k < p->seg_count; k++) {
		const struct loader_segment *seg = &p->segs[k];
		if (insn_index < seg->out || insn_index >= seg->out + seg->len)
			continue;
		uint64_t off = (seg->start + insn_index - seg->out) * 8;
		const struct comb_btf_ext_section *li = comb_btf_ext_find(
			obj->btf_ext, COMB_BTF_EXT_LINE_INFO, obj->elf.sections[seg->sec].name);
		for (size_t i = 0; li && i < li->count; i++) {
			if (li->line_info[i].insn_off != off)
				continue;
			const char *file = btf__name_by_offset(obj->btf, li->line_info[i].file_name_off);
			const char *text = btf__name_by_offset(obj->btf, li->line_info[i].line_off);
			struct comb_object *mut = (struct comb_object *)obj; /* the answer buffer */
			snprintf(mut->line_buf, sizeof(mut->line_buf), "%s:%u: %s", file ? base_name(file) : "?",
				 COMB_BTF_LINE(li->line_info[i].line_col), text ? text : "");
			return mut->line_buf;
		}
		return NULL;
	}
	return NULL;
}

const char *loader_source_line(const struct comb_object *obj, size_t index, size_t insn)
{
	if (!obj || index >= obj->prog_count)
		return NULL;
	const struct obj_prog *p = &obj->progs[index];
	for (size_t k = 0; k < p->seg_count; k++) {
		const struct loader_segment *seg = &p->segs[k];
		if (insn < seg->out || insn >= seg->out + seg->len)
			continue;
		for (size_t i = insn + 1; i-- > seg->out;) {
			const char *line = comb_object_prog_line(obj, index, i);
			const char *num = line ? strchr(line, ':') : NULL;
			if (num && strncmp(num, ":0:", 3) != 0) /* line 0: compiler-made code */
				return line;
		}
		return NULL;
	}
	return NULL;
}
