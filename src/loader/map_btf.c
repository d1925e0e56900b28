/* src/loader/map_btf.c - the key and value types of the maps an object
 * creates, kept with the maps (comb_map_set_btf) so `comb map dump` can
 * print typed entries of a pinned map as bpftool does for kernel maps.
 *
 * The type ids are found as libbpf finds them: a BTF-defined map is a
 * variable in the .maps DATASEC whose struct has `key` and `value` members
 * that point to the key and value types; a global-data map's value is the
 * DATASEC of its section, its key has no type. clang leaves a DATASEC's
 * size and its variables' offsets 0 in the object; libbpf fills them in
 * from the ELF section and symbols before handing the BTF to the kernel,
 * and so does this file, on a copy of the raw bytes.
 */
#include <bpf/btf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loader/map_btf.h"

/* The type a `key`/`value` member of struct_id points to, 0 if none. */
static uint32_t member_pointee(const struct btf *btf, uint32_t struct_id, const char *member)
{
	const struct btf_type *st = loader_btf_skip_mods(btf, struct_id, NULL);
	if (!st || !btf_is_struct(st))
		return 0;
	const struct btf_member *mb = btf_members(st);
	for (uint16_t i = 0; i < btf_vlen(st); i++, mb++) {
		const char *name = btf__name_by_offset(btf, mb->name_off);
		if (!name || strcmp(name, member) != 0)
			continue;
		const struct btf_type *ptr = loader_btf_skip_mods(btf, mb->type, NULL);
		return ptr && btf_is_ptr(ptr) ? ptr->type : 0;
	}
	return 0;
}

/* The definition struct of BTF-defined map `name`: its VAR in .maps. */
static uint32_t map_def_struct(const struct btf *btf, const char *name)
{
	int sec = btf__find_by_name_kind(btf, ".maps", BTF_KIND_DATASEC);
	const struct btf_type *ds = sec > 0 ? btf__type_by_id(btf, (uint32_t)sec) : NULL;
	if (!ds)
		return 0;
	const struct btf_var_secinfo *vsi = btf_var_secinfos(ds);
	for (uint16_t i = 0; i < btf_vlen(ds); i++, vsi++) {
		const struct btf_type *var = btf__type_by_id(btf, vsi->type);
		const char *var_name = var ? btf__name_by_offset(btf, var->name_off) : NULL;
		if (var && btf_is_var(var) && var_name && strcmp(var_name, name) == 0)
			return var->type;
	}
	return 0;
}

static void map_type_ids(const struct comb_object *obj, const struct obj_map *m, uint32_t *key, uint32_t *value)
{
	*key = *value = 0;
	if (m->kind == OBJ_MAP_BTF) {
		uint32_t def = map_def_struct(obj->btf, m->name);
		if (def) {
			*key = member_pointee(obj->btf, def, "key");
			*value = member_pointee(obj->btf, def, "value");
		}
	} else if (m->kind == OBJ_MAP_GLOBAL) {
		int id = btf__find_by_name_kind(obj->btf, m->name, BTF_KIND_DATASEC);
		*value = id > 0 ? (uint32_t)id : 0;
	}
}

/* Fill in one DATASEC (inside the raw copy at raw) from its ELF section. */
static void fix_datasec(const struct comb_object *obj, const struct btf *btf, const struct btf_type *ds,
			const uint8_t *base, uint8_t *raw, size_t raw_size)
{
	const char *name = btf__name_by_offset(btf, ds->name_off);
	int sec = name ? elf_find_section(&obj->elf, name) : -1;
	size_t at = (size_t)((const uint8_t *)ds - base);
	size_t bytes = sizeof(*ds) + btf_vlen(ds) * sizeof(struct btf_var_secinfo);
	if (sec <= 0 || at > raw_size || bytes > raw_size - at)
		return;
	struct btf_type copy_type;
	memcpy(&copy_type, raw + at, sizeof(copy_type));
	copy_type.size = (uint32_t)obj->elf.sections[sec].size;
	memcpy(raw + at, &copy_type, sizeof(copy_type));
	const struct btf_var_secinfo *vsi = btf_var_secinfos(ds);
	for (uint16_t i = 0; i < btf_vlen(ds); i++, vsi++) {
		const struct btf_type *var = btf__type_by_id(btf, vsi->type);
		const char *var_name = var ? btf__name_by_offset(btf, var->name_off) : NULL;
		const struct elf_symbol *sym =
			var_name ? elf_find_symbol_named(&obj->elf, (uint32_t)sec, var_name) : NULL;
		if (!sym)
			continue;
		struct btf_var_secinfo fixed = *vsi;
		fixed.offset = (uint32_t)sym->value;
		memcpy(raw + at + sizeof(*ds) + i * sizeof(fixed), &fixed, sizeof(fixed));
	}
}

/* A copy of the object's raw BTF with every DATASEC filled in; NULL on
 * failure. Types are located through a private parse of the same bytes,
 * whose type data is the raw buffer itself. */
static uint8_t *fixed_raw_btf(const struct comb_object *obj, uint32_t *size)
{
	uint32_t n = 0;
	const void *raw = btf__raw_data(obj->btf, &n);
	struct btf *view = raw ? btf__new(raw, n) : NULL;
	uint8_t *copy = view ? malloc(n) : NULL;
	uint32_t view_size = 0;
	const uint8_t *base = view ? btf__raw_data(view, &view_size) : NULL;
	if (!copy || !base || view_size != n) {
		free(copy);
		btf__free(view);
		return NULL;
	}
	memcpy(copy, base, n);
	for (uint32_t id = 1; id < btf__type_cnt(view); id++) {
		const struct btf_type *t = btf__type_by_id(view, id);
		if (t && btf_is_datasec(t) && (const uint8_t *)t > base && (const uint8_t *)t < base + n)
			fix_datasec(obj, view, t, base, copy, n);
	}
	btf__free(view);
	*size = n;
	return copy;
}

void loader_attach_map_btf(const struct comb_object *obj, const struct obj_map *m)
{
	uint32_t key, value, size;
	if (!obj->btf || !m->map)
		return;
	map_type_ids(obj, m, &key, &value);
	if (!value)
		return;
	uint8_t *raw = fixed_raw_btf(obj, &size);
	if (raw)
		comb_map_set_btf(m->map, raw, size, key, value);
	free(raw);
}
