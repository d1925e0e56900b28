/* src/loader/reloc.c - one program's instructions, relocated.
 *
 * A program is its entry function followed by every subprogram it reaches,
 * each appended once (libbpf's layout). The work list is a list of segments
 * (a function's instructions in its section and where they landed in the
 * output); each segment's relocations are applied in turn, and a call to a
 * function not yet present appends a new segment at the end, so recursion
 * through the call graph needs no recursion here and stops at the total size
 * of the code sections.
 *
 * Relocations: R_BPF_64_64 on an LDDW (a map -> pseudo MAP_IDX; global data
 * or a .kconfig extern -> pseudo MAP_IDX_VALUE with the value offset in the
 * second slot; a function -> pseudo FUNC), R_BPF_64_32 on a pseudo call. The
 * map numbers written are indices into the program's own map table.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "loader/internal.h"

#define segment loader_segment

struct reloc_ctx {
	struct comb_object *obj;
	struct obj_prog *prog;
	struct comb_insn *insns;
	size_t count;
	bool *has_reloc;
	struct segment *segs;
	size_t seg_count;
	size_t *maps;        /* obj map index of each table entry */
	size_t map_count;
	char *err;
	size_t err_len;
};

#define RELOC_FAIL(c, sec, off, ...) \
	loader_error((c)->err, (c)->err_len, (c)->obj->name, (c)->obj->elf.sections[sec].name, off, __VA_ARGS__)

static int append_segment(struct reloc_ctx *c, uint32_t sec, size_t start, size_t len)
{
	const struct elf_section *s = &c->obj->elf.sections[sec];
	if (!s->data || start > s->size / 8 || len > s->size / 8 - start || len == 0)
		return RELOC_FAIL(c, sec, start * 8, "prog %s: function of %zu instructions lies outside the section",
				  c->prog->name, len);
	struct segment *segs = realloc(c->segs, (c->seg_count + 1) * sizeof(*segs));
	struct comb_insn *insns = realloc(c->insns, (c->count + len) * sizeof(*insns));
	bool *flags = realloc(c->has_reloc, (c->count + len) * sizeof(*flags));
	if (segs)
		c->segs = segs;
	if (insns)
		c->insns = insns;
	if (flags)
		c->has_reloc = flags;
	if (!segs || !insns || !flags)
		return -ENOMEM;
	memcpy(&c->insns[c->count], s->data + start * 8, len * 8);
	memset(&c->has_reloc[c->count], 0, len * sizeof(*flags));
	int rc = loader_core_function(c->obj, c->prog, sec, start, &c->insns[c->count], len, c->err, c->err_len);
	if (rc)
		return rc;
	c->segs[c->seg_count++] = (struct segment){ sec, start, len, c->count };
	c->count += len;
	return 0;
}

/* Output index of the function starting at instruction start of sec,
 * appending it when new. */
static int function_out_index(struct reloc_ctx *c, uint32_t sec, size_t start, uint64_t where, size_t *out)
{
	for (size_t i = 0; i < c->seg_count; i++) {
		if (c->segs[i].sec == sec && c->segs[i].start == start) {
			*out = c->segs[i].out;
			return 0;
		}
	}
	const struct elf_section *s = &c->obj->elf.sections[sec];
	const struct elf_symbol *fn = elf_find_symbol_at(&c->obj->elf, sec, start * 8, 1u << STT_FUNC);
	if (!(s->flags & SHF_EXECINSTR) || !fn || fn->size % 8)
		return RELOC_FAIL(c, c->segs[0].sec, where,
				  "prog %s: call target %s+%zu is not the start of a function", c->prog->name,
				  s->name, start * 8);
	*out = c->count;
	return append_segment(c, sec, start, fn->size / 8);
}

static int table_index(struct reloc_ctx *c, size_t map)
{
	for (size_t i = 0; i < c->map_count; i++)
		if (c->maps[i] == map)
			return (int)i;
	size_t *maps = realloc(c->maps, (c->map_count + 1) * sizeof(*maps));
	if (!maps)
		return -ENOMEM;
	c->maps = maps;
	c->maps[c->map_count] = map;
	return (int)c->map_count++;
}

static int set_map_ref(struct reloc_ctx *c, size_t i, size_t map, uint8_t pseudo, int64_t value_off)
{
	int t = table_index(c, map);
	if (t < 0)
		return t;
	c->insns[i].src = pseudo;
	c->insns[i].imm = t;
	c->insns[i + 1].imm = (int32_t)value_off;
	return 0;
}

static int reloc_extern(struct reloc_ctx *c, const struct segment *seg, size_t i, const struct elf_symbol *sym,
			uint64_t where)
{
	const struct obj_extern *e = loader_find_extern(c->obj, sym->name);
	if (e && c->obj->kconfig_map >= 0)
		return set_map_ref(c, i, (size_t)c->obj->kconfig_map, COMB_PSEUDO_MAP_IDX_VALUE, e->offset);
	if (sym->bind == STB_WEAK) { /* a weak __ksym nobody provides is NULL */
		c->insns[i].src = COMB_PSEUDO_NONE;
		c->insns[i].imm = 0;
		c->insns[i + 1].imm = 0;
		return 0;
	}
	return RELOC_FAIL(c, seg->sec, where, "prog %s: extern %s is a kernel symbol (__ksym), which comb cannot provide",
			  c->prog->name, sym->name);
}

static int reloc_lddw(struct reloc_ctx *c, const struct segment *seg, size_t i, const struct elf_symbol *sym,
		      uint64_t where)
{
	struct comb_object *obj = c->obj;
	if (!comb_insn_is_lddw(&c->insns[i]) || i + 1 >= seg->out + seg->len)
		return RELOC_FAIL(c, seg->sec, where, "prog %s: R_BPF_64_64 relocation on an instruction that is not lddw",
				  c->prog->name);
	if (sym->shndx == SHN_UNDEF)
		return reloc_extern(c, seg, i, sym, where);
	if (sym->shndx >= obj->elf.section_count)
		return RELOC_FAIL(c, seg->sec, where, "prog %s: symbol %s is in no section", c->prog->name, sym->name);
	int64_t off = (int64_t)sym->value + c->insns[i].imm;
	if ((int)sym->shndx == obj->maps_sec || (int)sym->shndx == obj->legacy_maps_sec) {
		int m = loader_map_at(obj, sym->shndx, (uint64_t)off);
		if (m < 0)
			return RELOC_FAIL(c, seg->sec, where, "prog %s: %s+%lld is no map definition", c->prog->name,
					  obj->elf.sections[sym->shndx].name, (long long)off);
		return set_map_ref(c, i, (size_t)m, COMB_PSEUDO_MAP_IDX, 0);
	}
	int g = loader_global_map_for_section(obj, sym->shndx);
	if (g >= 0) {
		if (off < 0 || (uint64_t)off >= obj->maps[g].value_size)
			return RELOC_FAIL(c, seg->sec, where, "prog %s: offset %lld is outside %s", c->prog->name,
					  (long long)off, obj->maps[g].name);
		return set_map_ref(c, i, (size_t)g, COMB_PSEUDO_MAP_IDX_VALUE, off);
	}
	if (obj->elf.sections[sym->shndx].flags & SHF_EXECINSTR) {
		size_t out;
		if (off < 0 || off % 8)
			return RELOC_FAIL(c, seg->sec, where, "prog %s: misaligned function address", c->prog->name);
		int rc = function_out_index(c, sym->shndx, (size_t)off / 8, where, &out);
		if (rc)
			return rc;
		c->insns[i].src = COMB_PSEUDO_FUNC;
		c->insns[i].imm = (int32_t)((int64_t)out - (int64_t)i - 1);
		c->insns[i + 1].imm = 0;
		return 0;
	}
	return RELOC_FAIL(c, seg->sec, where, "prog %s: lddw refers to %s in section %s, which is neither a map nor global data",
			  c->prog->name, sym->name, obj->elf.sections[sym->shndx].name);
}

static bool is_call(const struct comb_insn *in)
{
	return in->code == (COMB_CLS_JMP | COMB_JMP_CALL);
}

static int reloc_call(struct reloc_ctx *c, const struct segment *seg, size_t i, const struct elf_symbol *sym,
		      uint64_t where)
{
	struct comb_insn *in = &c->insns[i];
	if (!is_call(in))
		return RELOC_FAIL(c, seg->sec, where, "prog %s: R_BPF_64_32 relocation on an instruction that is not a call",
				  c->prog->name);
	if (in->src == COMB_CALL_KFUNC || sym->shndx == SHN_UNDEF)
		return 0; /* kfunc: left for the VM to accept or refuse */
	if (in->src != COMB_CALL_LOCAL || sym->shndx >= c->obj->elf.section_count || sym->value % 8)
		return RELOC_FAIL(c, seg->sec, where, "prog %s: bad call relocation against %s", c->prog->name, sym->name);
	int64_t target = (int64_t)(sym->value / 8) + in->imm + 1;
	size_t out;
	if (target < 0)
		return RELOC_FAIL(c, seg->sec, where, "prog %s: call before the start of %s", c->prog->name,
				  c->obj->elf.sections[sym->shndx].name);
	int rc = function_out_index(c, sym->shndx, (size_t)target, where, &out);
	if (!rc)
		c->insns[i].imm = (int32_t)((int64_t)out - (int64_t)i - 1);
	return rc;
}

static int apply_reloc(struct reloc_ctx *c, const struct segment *seg, const struct elf_reloc *r)
{
	size_t i = seg->out + (size_t)(r->offset / 8 - seg->start);
	const struct elf_symbol *sym = &c->obj->elf.symbols[r->symbol];
	if (r->offset % 8)
		return RELOC_FAIL(c, seg->sec, r->offset, "prog %s: relocation not on an instruction boundary",
				  c->prog->name);
	c->has_reloc[i] = true;
	switch (r->type) {
	case LOADER_R_BPF_64_64:
		return reloc_lddw(c, seg, i, sym, r->offset);
	case LOADER_R_BPF_64_32:
		return reloc_call(c, seg, i, sym, r->offset);
	default:
		return RELOC_FAIL(c, seg->sec, r->offset, "prog %s: relocation type %u is not valid in code",
				  c->prog->name, r->type);
	}
}

/* Calls with no relocation target the same section, relative to themselves. */
static int relative_calls(struct reloc_ctx *c, size_t k)
{
	for (size_t j = 0; j < c->segs[k].len; j++) {
		struct segment seg = c->segs[k];
		size_t i = seg.out + j;
		if (c->has_reloc[i] || !is_call(&c->insns[i]) || c->insns[i].src != COMB_CALL_LOCAL)
			continue;
		int64_t target = (int64_t)(seg.start + j) + c->insns[i].imm + 1;
		size_t out;
		if (target < 0)
			return RELOC_FAIL(c, seg.sec, (seg.start + j) * 8, "prog %s: call before the section start",
					  c->prog->name);
		int rc = function_out_index(c, seg.sec, (size_t)target, (seg.start + j) * 8, &out);
		if (rc)
			return rc;
		c->insns[i].imm = (int32_t)((int64_t)out - (int64_t)i - 1);
	}
	return 0;
}

static int relocate_segment(struct reloc_ctx *c, size_t k)
{
	const struct elf_section *s = &c->obj->elf.sections[c->segs[k].sec];
	for (size_t r = 0; r < s->reloc_count; r++) {
		struct segment seg = c->segs[k]; /* copy: appending moves c->segs */
		uint64_t off = s->relocs[r].offset;
		if (off < seg.start * 8 || off >= (seg.start + seg.len) * 8)
			continue;
		int rc = apply_reloc(c, &seg, &s->relocs[r]);
		if (rc)
			return rc;
	}
	return relative_calls(c, k);
}

int loader_relocate_prog(struct comb_object *obj, struct obj_prog *prog, size_t **map_indices, char *err,
			 size_t err_len)
{
	struct reloc_ctx c = { .obj = obj, .prog = prog, .err = err, .err_len = err_len };
	int rc = append_segment(&c, prog->sec_idx, prog->sec_insn, prog->insn_count);
	for (size_t k = 0; !rc && k < c.seg_count; k++)
		rc = relocate_segment(&c, k);
	free(c.has_reloc);
	if (rc) {
		free(c.segs);
		free(c.insns);
		free(c.maps);
		return rc;
	}
	free(prog->insns);
	prog->insns = c.insns;
	prog->count = c.count;
	free(prog->segs);
	prog->segs = c.segs;
	prog->seg_count = c.seg_count;
	prog->map_count = c.map_count;
	*map_indices = c.maps;
	return 0;
}
