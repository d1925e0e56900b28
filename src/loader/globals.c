/* src/loader/globals.c - global data as single-element array maps.
 *
 * Each .data, .rodata, .bss, .data.NAME, .rodata.NAME (and .bss.NAME)
 * section becomes an array map with one value as large as the section,
 * named after the section; its initial image is the section's bytes (zeroes
 * for .bss) and may be changed before load (`const volatile` configuration).
 * Variables are found by name through the BTF DATASEC of their section.
 *
 * .kconfig externs (from the .kconfig DATASEC) are laid out as libbpf lays
 * them out (by alignment, then size, then name) in one more map, filled from
 * the running system: LINUX_KERNEL_VERSION from uname(2), CONFIG_* from
 * /proc/config.gz or /boot/config-RELEASE (zlib reads either), 0 otherwise.
 */
#include <bpf/btf.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>
#include "loader/internal.h"

#define MAP_TYPE_ARRAY 2u
#define F_RDONLY_PROG (1u << 7)
#define F_MMAPABLE (1u << 10)

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_global_data_section(const struct elf_section *s)
{
	if (s->size == 0 || (s->flags & SHF_EXECINSTR))
		return false;
	if (s->type == SHT_PROGBITS)
		return !strcmp(s->name, ".data") || has_prefix(s->name, ".data.") ||
		       !strcmp(s->name, ".rodata") || has_prefix(s->name, ".rodata.");
	if (s->type == SHT_NOBITS)
		return !strcmp(s->name, ".bss") || has_prefix(s->name, ".bss.");
	return false;
}

static int add_global_map(struct comb_object *obj, uint32_t sec_idx)
{
	const struct elf_section *s = &obj->elf.sections[sec_idx];
	struct obj_map *m = loader_add_map(obj, s->name, OBJ_MAP_GLOBAL);
	if (!m)
		return -ENOMEM;
	m->type = MAP_TYPE_ARRAY;
	m->key_size = 4;
	m->value_size = (uint32_t)s->size;
	m->max_entries = 1;
	m->map_flags = F_MMAPABLE | (has_prefix(s->name, ".rodata") ? F_RDONLY_PROG : 0);
	m->sec_idx = sec_idx;
	m->data = calloc(1, s->size);
	if (!m->data)
		return -ENOMEM;
	if (s->data)
		memcpy(m->data, s->data, s->size);
	return 0;
}

int loader_global_map_for_section(const struct comb_object *obj, uint32_t sec_idx)
{
	for (size_t i = 0; i < obj->map_count; i++)
		if (obj->maps[i].kind == OBJ_MAP_GLOBAL && obj->maps[i].sec_idx == sec_idx)
			return (int)i;
	return -1;
}

const struct obj_extern *loader_find_extern(const struct comb_object *obj, const char *name)
{
	for (size_t i = 0; i < obj->extern_count; i++)
		if (strcmp(obj->externs[i].name, name) == 0)
			return &obj->externs[i];
	return NULL;
}

static int compare_externs(const void *a, const void *b)
{
	const struct obj_extern *x = a, *y = b;
	if (x->align != y->align)
		return x->align > y->align ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int collect_kconfig_externs(struct comb_object *obj, char *err, size_t err_len)
{
	int id = obj->btf ? btf__find_by_name_kind(obj->btf, ".kconfig", BTF_KIND_DATASEC) : -1;
	if (id <= 0)
		return 0;
	const struct btf_type *ds = btf__type_by_id(obj->btf, (uint32_t)id);
	const struct btf_var_secinfo *vsi = btf_var_secinfos(ds);
	obj->externs = calloc(btf_vlen(ds) + 1u, sizeof(*obj->externs));
	if (!obj->externs)
		return -ENOMEM;
	for (uint16_t i = 0; i < btf_vlen(ds); i++) {
		const struct btf_type *var = btf__type_by_id(obj->btf, vsi[i].type);
		const char *name = var && btf_is_var(var) ? btf__name_by_offset(obj->btf, var->name_off) : NULL;
		long long size = var ? btf__resolve_size(obj->btf, var->type) : -1;
		int align = var ? btf__align_of(obj->btf, var->type) : 0;
		if (!name || !name[0] || size <= 0 || size > 4096 || align <= 0 || align > 8)
			return loader_error(err, err_len, obj->name, ".kconfig", vsi[i].offset,
					    "extern %u is not a sized, named variable", i);
		struct obj_extern *e = &obj->externs[obj->extern_count++];
		e->name = strdup(name);
		if (!e->name)
			return -ENOMEM;
		e->btf_type = var->type;
		e->size = (uint32_t)size;
		e->align = (uint32_t)align;
		const struct elf_symbol *sym = elf_find_symbol_named(&obj->elf, SHN_UNDEF, name);
		e->weak = sym && sym->bind == STB_WEAK;
	}
	qsort(obj->externs, obj->extern_count, sizeof(*obj->externs), compare_externs);
	uint32_t off = 0;
	for (size_t i = 0; i < obj->extern_count; i++) {
		off = (off + obj->externs[i].align - 1) & ~(obj->externs[i].align - 1);
		obj->externs[i].offset = off;
		off += obj->externs[i].size;
	}
	if (off == 0)
		return 0;
	struct obj_map *m = loader_add_map(obj, ".kconfig", OBJ_MAP_KCONFIG);
	if (!m)
		return -ENOMEM;
	obj->kconfig_map = (int)(obj->map_count - 1);
	m->type = MAP_TYPE_ARRAY;
	m->key_size = 4;
	m->value_size = off;
	m->max_entries = 1;
	m->map_flags = F_RDONLY_PROG | F_MMAPABLE;
	m->data = calloc(1, off);
	return m->data ? 0 : -ENOMEM;
}

int loader_collect_globals(struct comb_object *obj, char *err, size_t err_len)
{
	for (size_t i = 1; i < obj->elf.section_count; i++) {
		if (!is_global_data_section(&obj->elf.sections[i]))
			continue;
		int rc = add_global_map(obj, (uint32_t)i);
		if (rc)
			return rc;
	}
	int rc = collect_kconfig_externs(obj, err, err_len);
	if (!rc && obj->kconfig_map >= 0)
		loader_fill_kconfig(obj);
	return rc;
}

/* ---- .kconfig values ---- */

static void store_uint(uint8_t *dst, uint32_t size, uint64_t value)
{
	for (uint32_t i = 0; i < size && i < 8; i++)
		dst[i] = (uint8_t)(value >> (8 * i));
}

/* Write one CONFIG_ value ("y", "m", "n", a number or a "string") into e. */
static void kconfig_store(struct comb_object *obj, const struct obj_extern *e, const char *value)
{
	uint8_t *dst = obj->maps[obj->kconfig_map].data + e->offset;
	const struct btf_type *t = loader_btf_skip_mods(obj->btf, e->btf_type, NULL);
	if (!t)
		return;
	bool tristate = value[0] && !value[1] && strchr("ymn", value[0]);
	if (btf_is_array(t)) {
		size_t len = strlen(value);
		if (len >= 2 && value[0] == '"' && value[len - 1] == '"')
			value++, len -= 2;
		if (len >= e->size)
			len = e->size - 1;
		memcpy(dst, value, len);
		dst[len] = 0;
	} else if (btf_is_enum(t) && tristate) {
		store_uint(dst, e->size, value[0] == 'y' ? 1 : value[0] == 'm' ? 2 : 0);
	} else if (btf_is_int(t) && (btf_int_encoding(t) & BTF_INT_CHAR) && e->size == 1 && tristate) {
		dst[0] = (uint8_t)value[0];
	} else if (tristate) {
		store_uint(dst, e->size, value[0] != 'n');
	} else {
		store_uint(dst, e->size, (uint64_t)strtoull(value, NULL, 0));
	}
}

static void kconfig_read_file(struct comb_object *obj, const char *path)
{
	gzFile f = gzopen(path, "r");
	if (!f)
		return;
	char line[1024];
	while (gzgets(f, line, sizeof(line))) {
		char *eq = strchr(line, '=');
		if (strncmp(line, "CONFIG_", 7) != 0 || !eq)
			continue;
		*eq = 0;
		line[strcspn(line, "\n")] = 0;
		char *value = eq + 1;
		value[strcspn(value, "\n")] = 0;
		const struct obj_extern *e = loader_find_extern(obj, line);
		if (e)
			kconfig_store(obj, e, value);
	}
	gzclose(f);
}

static uint32_t running_kernel_version(const struct utsname *u)
{
	unsigned a = 0, b = 0, c = 0;
	sscanf(u->release, "%u.%u.%u", &a, &b, &c);
	return (a << 16) + (b << 8) + (c > 255 ? 255 : c);
}

void loader_fill_kconfig(struct comb_object *obj)
{
	struct utsname u;
	if (uname(&u) != 0)
		memset(&u, 0, sizeof(u));
	const struct obj_extern *e = loader_find_extern(obj, "LINUX_KERNEL_VERSION");
	if (e)
		store_uint(obj->maps[obj->kconfig_map].data + e->offset, e->size, running_kernel_version(&u));
	static const char *const always_true[] = { "LINUX_HAS_BPF_COOKIE", "LINUX_HAS_SYSCALL_WRAPPER" };
	for (size_t i = 0; i < 2; i++)
		if ((e = loader_find_extern(obj, always_true[i])))
			store_uint(obj->maps[obj->kconfig_map].data + e->offset, e->size, 1);
	bool wants_config = false;
	for (size_t i = 0; i < obj->extern_count; i++)
		wants_config |= has_prefix(obj->externs[i].name, "CONFIG_");
	if (!wants_config)
		return;
	char path[512];
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	if (access("/proc/config.gz", R_OK) == 0)
		kconfig_read_file(obj, "/proc/config.gz");
	else
		kconfig_read_file(obj, path);
}

/* ---- skeleton-style configuration ---- */

void *comb_object_global_data(struct comb_object *obj, size_t map_index, size_t *size)
{
	if (!obj || map_index >= obj->map_count || !obj->maps[map_index].data)
		return NULL;
	if (size)
		*size = obj->maps[map_index].value_size;
	return obj->maps[map_index].data;
}

/* Find var_name in the DATASEC of global map m: offset and size, or -1. */
static int find_datasec_var(const struct comb_object *obj, const struct obj_map *m, const char *var_name,
			    uint64_t *offset, uint64_t *size)
{
	int id = btf__find_by_name_kind(obj->btf, m->name, BTF_KIND_DATASEC);
	if (id <= 0)
		return -1;
	const struct btf_type *ds = btf__type_by_id(obj->btf, (uint32_t)id);
	const struct btf_var_secinfo *vsi = btf_var_secinfos(ds);
	for (uint16_t i = 0; i < btf_vlen(ds); i++) {
		const struct btf_type *var = btf__type_by_id(obj->btf, vsi[i].type);
		const char *name = var ? btf__name_by_offset(obj->btf, var->name_off) : NULL;
		if (!name || strcmp(name, var_name) != 0)
			continue;
		const struct elf_symbol *sym = elf_find_symbol_named(&obj->elf, m->sec_idx, var_name);
		*offset = sym ? sym->value : vsi[i].offset;
		*size = vsi[i].size;
		return 0;
	}
	return -1;
}

int comb_object_set_global(struct comb_object *obj, const char *var_name, const void *value, size_t size)
{
	if (!obj || !var_name || !value)
		return -EINVAL;
	if (obj->loaded)
		return -EBUSY;
	if (!obj->btf)
		return -ENOENT;
	for (size_t i = 0; i < obj->map_count; i++) {
		struct obj_map *m = &obj->maps[i];
		uint64_t off, sz;
		if (m->kind != OBJ_MAP_GLOBAL || find_datasec_var(obj, m, var_name, &off, &sz))
			continue;
		if (sz != size || off > m->value_size || sz > m->value_size - off)
			return -EINVAL;
		memcpy(m->data + off, value, size);
		return 0;
	}
	return -ENOENT;
}
