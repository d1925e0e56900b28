/* src/loader/maps_def.c - map definitions: BTF-defined (.maps) and legacy.
 *
 * A BTF-defined map is a global variable in .maps whose type is an anonymous
 * struct; each member encodes one attribute the way libbpf's macros write
 * them: __uint(name, N) is `int (*name)[N]` (the number is the array length),
 * __type(key, T) is `T *key` (the size is T's size), __array(values, struct
 * inner) is `struct inner *values[]` (an inner map template for map-in-map,
 * or a function prototype for prog arrays). Relocations in .rel.maps against
 * the `values` array give initial slots. The legacy "maps" section holds
 * struct bpf_map_def records (five u32), one per symbol.
 */
#include <bpf/btf.h>
#include <errno.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loader/internal.h"

#define BTF_MAX_MOD_DEPTH 32
#define MAP_TYPE_PROG_ARRAY 3u
#define MAP_TYPE_ARRAY_OF_MAPS 12u
#define MAP_TYPE_HASH_OF_MAPS 13u

struct obj_map *loader_add_map(struct comb_object *obj, const char *name, enum obj_map_kind kind)
{
	if (obj->map_count >= (1u << 16))
		return NULL;
	struct obj_map *maps = realloc(obj->maps, (obj->map_count + 1) * sizeof(*maps));
	if (!maps)
		return NULL;
	obj->maps = maps;
	struct obj_map *m = &maps[obj->map_count];
	memset(m, 0, sizeof(*m));
	m->name = strdup(name);
	if (!m->name)
		return NULL;
	m->kind = kind;
	m->values_offset = -1;
	obj->map_count++;
	return m;
}

const struct btf_type *loader_btf_skip_mods(const struct btf *btf, uint32_t id, uint32_t *out_id)
{
	for (int depth = 0; depth < BTF_MAX_MOD_DEPTH; depth++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t)
			return NULL;
		switch (btf_kind(t)) {
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
			id = t->type;
			continue;
		default:
			if (out_id)
				*out_id = id;
			return t;
		}
	}
	return NULL;
}

int loader_map_at(const struct comb_object *obj, uint32_t sec_idx, uint64_t off)
{
	for (size_t i = 0; i < obj->map_count; i++) {
		const struct obj_map *m = &obj->maps[i];
		if ((m->kind == OBJ_MAP_BTF || m->kind == OBJ_MAP_LEGACY) && m->sec_idx == sec_idx &&
		    m->sec_offset == off)
			return (int)i;
	}
	return -1;
}

struct map_parse {
	struct comb_object *obj;
	const char *section;
	uint64_t offset;
	char *err;
	size_t err_len;
};

#define MAP_FAIL(mp, ...) loader_error((mp)->err, (mp)->err_len, (mp)->obj->name, (mp)->section, (mp)->offset, __VA_ARGS__)

/* __uint(name, N): a pointer to an array of N elements. */
static int member_uint(struct map_parse *mp, const char *map, const char *field, uint32_t type_id, uint32_t *value)
{
	const struct btf_type *ptr = btf__type_by_id(mp->obj->btf, type_id);
	const struct btf_type *arr = ptr && btf_is_ptr(ptr) ? btf__type_by_id(mp->obj->btf, ptr->type) : NULL;
	if (!arr || !btf_is_array(arr))
		return MAP_FAIL(mp, "map %s: attribute %s is not written as __uint(%s, N)", map, field, field);
	*value = btf_array(arr)->nelems;
	return 0;
}

/* __type(key, T): the size of T. */
static int member_type_size(struct map_parse *mp, const char *map, const char *field, uint32_t type_id,
			    uint32_t *size)
{
	const struct btf_type *ptr = btf__type_by_id(mp->obj->btf, type_id);
	if (!ptr || !btf_is_ptr(ptr))
		return MAP_FAIL(mp, "map %s: attribute %s is not written as __type(%s, T)", map, field, field);
	long long sz = btf__resolve_size(mp->obj->btf, ptr->type);
	if (sz < 0 || sz > UINT32_MAX)
		return MAP_FAIL(mp, "map %s: cannot size the type of %s", map, field);
	if (*size && *size != (uint32_t)sz)
		return MAP_FAIL(mp, "map %s: %s type has %lld bytes but %s_size says %u", map, field, sz, field, *size);
	*size = (uint32_t)sz;
	return 0;
}

static int parse_btf_map_def(struct map_parse *mp, const char *map, uint32_t struct_id, struct obj_map *def,
			     uint32_t *inner_struct, int depth);

/* __array(values, struct inner): the inner template (map-in-map) or a
 * function prototype (prog array). */
static int member_values(struct map_parse *mp, const char *map, const struct btf_member *mb, uint32_t bit_offset,
			 struct obj_map *def, uint32_t *inner_struct, int depth)
{
	const struct btf_type *arr = loader_btf_skip_mods(mp->obj->btf, mb->type, NULL);
	const struct btf_type *ptr = arr && btf_is_array(arr) ? loader_btf_skip_mods(mp->obj->btf, btf_array(arr)->type, NULL) : NULL;
	uint32_t target_id = 0;
	const struct btf_type *target = ptr && btf_is_ptr(ptr) ? loader_btf_skip_mods(mp->obj->btf, ptr->type, &target_id) : NULL;
	if (!target || depth > 0)
		return MAP_FAIL(mp, "map %s: `values` must be __array(values, ...) of a map or program type", map);
	if (btf_is_func_proto(target)) {
		if (def->type && def->type != MAP_TYPE_PROG_ARRAY)
			return MAP_FAIL(mp, "map %s: program values need type BPF_MAP_TYPE_PROG_ARRAY", map);
		def->type = MAP_TYPE_PROG_ARRAY;
	} else if (btf_is_struct(target)) {
		*inner_struct = target_id;
	} else {
		return MAP_FAIL(mp, "map %s: `values` must point to a map definition or a function", map);
	}
	def->values_offset = bit_offset / 8;
	def->value_size = 4; /* slots hold what the kernel sees as fds */
	return 0;
}

static int set_uint_field(struct map_parse *mp, const char *map, const char *field, uint32_t type_id,
			  struct obj_map *def)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
		{ "type", offsetof(struct obj_map, type) },
		{ "max_entries", offsetof(struct obj_map, max_entries) },
		{ "map_flags", offsetof(struct obj_map, map_flags) },
		{ "numa_node", offsetof(struct obj_map, numa_node) },
		{ "key_size", offsetof(struct obj_map, key_size) },
		{ "value_size", offsetof(struct obj_map, value_size) },
		{ "pinning", offsetof(struct obj_map, pinning) },
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(field, fields[i].name) != 0)
			continue;
		uint32_t value;
		int rc = member_uint(mp, map, field, type_id, &value);
		if (rc)
			return rc;
		uint32_t *slot = (uint32_t *)((char *)def + fields[i].offset);
		if ((!strcmp(field, "key_size") || !strcmp(field, "value_size")) && *slot && *slot != value)
			return MAP_FAIL(mp, "map %s: %s %u disagrees with the size of its type (%u)", map, field,
					value, *slot);
		*slot = value;
		return 0;
	}
	if (strcmp(field, "map_extra") == 0) {
		uint32_t value;
		int rc = member_uint(mp, map, field, type_id, &value);
		def->map_extra = value;
		return rc;
	}
	return MAP_FAIL(mp, "map %s: unknown attribute `%s`", map, field);
}

static int parse_btf_map_def(struct map_parse *mp, const char *map, uint32_t struct_id, struct obj_map *def,
			     uint32_t *inner_struct, int depth)
{
	const struct btf_type *st = loader_btf_skip_mods(mp->obj->btf, struct_id, NULL);
	if (!st || !btf_is_struct(st))
		return MAP_FAIL(mp, "map %s: its definition is not a struct", map);
	const struct btf_member *mb = btf_members(st);
	for (uint16_t i = 0; i < btf_vlen(st); i++, mb++) {
		const char *field = btf__name_by_offset(mp->obj->btf, mb->name_off);
		if (!field || !field[0])
			return MAP_FAIL(mp, "map %s: member %u has no name", map, i);
		uint32_t bit_offset = btf_member_bit_offset(st, i);
		int rc;
		if (strcmp(field, "key") == 0)
			rc = member_type_size(mp, map, field, mb->type, &def->key_size);
		else if (strcmp(field, "value") == 0)
			rc = member_type_size(mp, map, field, mb->type, &def->value_size);
		else if (strcmp(field, "values") == 0)
			rc = member_values(mp, map, mb, bit_offset, def, inner_struct, depth);
		else
			rc = set_uint_field(mp, map, field, mb->type, def);
		if (rc)
			return rc;
	}
	if (def->pinning > 1)
		return MAP_FAIL(mp, "map %s: pinning %u is not LIBBPF_PIN_NONE or LIBBPF_PIN_BY_NAME", map, def->pinning);
	return 0;
}

static int add_inner_template(struct map_parse *mp, size_t outer, uint32_t inner_struct)
{
	char name[256];
	snprintf(name, sizeof(name), "%s.inner", mp->obj->maps[outer].name);
	struct obj_map *inner = loader_add_map(mp->obj, name, OBJ_MAP_INNER);
	if (!inner)
		return -ENOMEM;
	uint32_t unused = 0;
	int rc = parse_btf_map_def(mp, name, inner_struct, inner, &unused, 1);
	if (!rc)
		mp->obj->maps[outer].inner_map = (uint32_t)(mp->obj->map_count - 1) + 1;
	return rc;
}

static int collect_btf_map(struct map_parse *mp, const struct btf_var_secinfo *vsi)
{
	struct comb_object *obj = mp->obj;
	const struct btf_type *var = btf__type_by_id(obj->btf, vsi->type);
	const char *name = var ? btf__name_by_offset(obj->btf, var->name_off) : NULL;
	if (!var || !btf_is_var(var) || !name || !name[0])
		return MAP_FAIL(mp, "DATASEC .maps holds type %u, which is not a named variable", vsi->type);
	const struct elf_section *sec = &obj->elf.sections[obj->maps_sec];
	/* The symbol knows the offset and (with initial `values`) the full size. */
	const struct elf_symbol *sym = elf_find_symbol_named(&obj->elf, (uint32_t)obj->maps_sec, name);
	uint64_t off = sym ? sym->value : vsi->offset;
	long long size = btf__resolve_size(obj->btf, var->type);
	if (sym && size >= 0 && sym->size > (uint64_t)size && sym->size <= sec->size)
		size = (long long)sym->size;
	mp->offset = off;
	if (size < 0 || off > sec->size || (uint64_t)size > sec->size - off)
		return MAP_FAIL(mp, "map %s: its definition lies outside the section", name);
	struct obj_map *m = loader_add_map(obj, name, OBJ_MAP_BTF);
	if (!m)
		return -ENOMEM;
	size_t index = obj->map_count - 1;
	m->sec_idx = (uint32_t)obj->maps_sec;
	m->sec_offset = off;
	m->def_size = (uint64_t)size;
	uint32_t inner_struct = 0;
	int rc = parse_btf_map_def(mp, name, var->type, m, &inner_struct, 0);
	if (!rc && inner_struct) {
		if (obj->maps[index].type != MAP_TYPE_ARRAY_OF_MAPS && obj->maps[index].type != MAP_TYPE_HASH_OF_MAPS)
			return MAP_FAIL(mp, "map %s: inner map values need a map-in-map type", name);
		rc = add_inner_template(mp, index, inner_struct);
	}
	return rc;
}

static int collect_btf_maps(struct comb_object *obj, char *err, size_t err_len)
{
	struct map_parse mp = { obj, ".maps", 0, err, err_len };
	if (!obj->btf)
		return MAP_FAIL(&mp, "BTF-defined maps need a .BTF section (build with clang -g)");
	int id = btf__find_by_name_kind(obj->btf, ".maps", BTF_KIND_DATASEC);
	if (id <= 0)
		return MAP_FAIL(&mp, "no BTF DATASEC describes the section");
	const struct btf_type *ds = btf__type_by_id(obj->btf, (uint32_t)id);
	const struct btf_var_secinfo *vsi = btf_var_secinfos(ds);
	for (uint16_t i = 0; i < btf_vlen(ds); i++) {
		int rc = collect_btf_map(&mp, &vsi[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Legacy struct bpf_map_def { type, key_size, value_size, max_entries, map_flags }. */
#define LEGACY_DEF_MIN 20u

static int compare_symbol_values(const void *a, const void *b)
{
	const struct elf_symbol *x = *(const struct elf_symbol *const *)a, *y = *(const struct elf_symbol *const *)b;
	return x->value < y->value ? -1 : x->value > y->value;
}

static int collect_legacy_maps(struct comb_object *obj, char *err, size_t err_len)
{
	const struct elf_section *sec = &obj->elf.sections[obj->legacy_maps_sec];
	struct map_parse mp = { obj, sec->name, 0, err, err_len };
	const struct elf_symbol **syms = calloc(obj->elf.symbol_count + 1, sizeof(*syms));
	size_t n = 0;
	if (!syms)
		return -ENOMEM;
	for (size_t i = 1; i < obj->elf.symbol_count; i++) {
		const struct elf_symbol *s = &obj->elf.symbols[i];
		if (s->shndx == obj->legacy_maps_sec && s->name[0] && s->type != STT_SECTION)
			syms[n++] = s;
	}
	int rc = 0;
	if (n == 0 || !sec->data || sec->size / n < LEGACY_DEF_MIN || sec->size % n)
		rc = MAP_FAIL(&mp, "%zu map symbols do not divide %llu bytes into struct bpf_map_def records", n,
			      (unsigned long long)sec->size);
	qsort(syms, n, sizeof(*syms), compare_symbol_values);
	uint64_t def_size = n ? sec->size / n : 0;
	for (size_t i = 0; i < n && !rc; i++) {
		mp.offset = syms[i]->value;
		if (syms[i]->value % def_size || syms[i]->value > sec->size - def_size) {
			rc = MAP_FAIL(&mp, "map %s: not at a record boundary", syms[i]->name);
			break;
		}
		struct obj_map *m = loader_add_map(obj, syms[i]->name, OBJ_MAP_LEGACY);
		if (!m) {
			rc = -ENOMEM;
			break;
		}
		uint32_t f[5];
		memcpy(f, sec->data + syms[i]->value, sizeof(f));
		m->type = f[0], m->key_size = f[1], m->value_size = f[2], m->max_entries = f[3], m->map_flags = f[4];
		m->sec_idx = (uint32_t)obj->legacy_maps_sec;
		m->sec_offset = syms[i]->value;
		m->def_size = def_size;
	}
	free(syms);
	return rc;
}

int loader_collect_maps(struct comb_object *obj, char *err, size_t err_len)
{
	int rc = 0;
	if (obj->legacy_maps_sec > 0)
		rc = collect_legacy_maps(obj, err, err_len);
	if (!rc && obj->maps_sec > 0)
		rc = collect_btf_maps(obj, err, err_len);
	return rc;
}

static int slot_target(struct comb_object *obj, const struct elf_symbol *sym, struct obj_map_slot *slot)
{
	if (sym->shndx == obj->maps_sec) {
		int m = loader_map_at(obj, sym->shndx, sym->value);
		if (m < 0)
			return -1;
		slot->target = (size_t)m;
		slot->is_prog = false;
		return 0;
	}
	for (size_t i = 0; i < obj->prog_count; i++) {
		if (obj->progs[i].sec_idx == sym->shndx && obj->progs[i].sec_insn * 8 == sym->value) {
			slot->target = i;
			slot->is_prog = true;
			return 0;
		}
	}
	return -1;
}

static int add_slot(struct comb_object *obj, struct map_parse *mp, const struct elf_reloc *r)
{
	for (size_t i = 0; i < obj->map_count; i++) {
		struct obj_map *m = &obj->maps[i];
		if (m->kind != OBJ_MAP_BTF || r->offset < m->sec_offset || r->offset >= m->sec_offset + m->def_size)
			continue;
		uint64_t rel = r->offset - m->sec_offset;
		if (m->values_offset < 0 || rel < (uint64_t)m->values_offset || (rel - m->values_offset) % 8)
			return MAP_FAIL(mp, "map %s: relocation outside its `values` array", m->name);
		uint64_t index = (rel - (uint64_t)m->values_offset) / 8;
		if (index >= m->max_entries)
			return MAP_FAIL(mp, "map %s: initial value %llu is past max_entries %u", m->name,
					(unsigned long long)index, m->max_entries);
		struct obj_map_slot slot = { .index = (uint32_t)index };
		if (slot_target(obj, &obj->elf.symbols[r->symbol], &slot))
			return MAP_FAIL(mp, "map %s: initial value %llu refers to %s, which is no map or program",
					m->name, (unsigned long long)index, obj->elf.symbols[r->symbol].name);
		struct obj_map_slot *slots = realloc(m->slots, (m->slot_count + 1) * sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		m->slots = slots;
		m->slots[m->slot_count++] = slot;
		return 0;
	}
	return MAP_FAIL(mp, "relocation outside every map definition");
}

int loader_collect_map_slots(struct comb_object *obj, char *err, size_t err_len)
{
	if (obj->maps_sec <= 0)
		return 0;
	const struct elf_section *sec = &obj->elf.sections[obj->maps_sec];
	struct map_parse mp = { obj, ".rel.maps", 0, err, err_len };
	for (size_t i = 0; i < sec->reloc_count; i++) {
		mp.offset = sec->relocs[i].offset;
		int rc = add_slot(obj, &mp, &sec->relocs[i]);
		if (rc)
			return rc;
	}
	return 0;
}
