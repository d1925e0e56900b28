/* src/loader/elf.c - the ELF container, read once and checked once.
 *
 * libelf parses the headers; this file turns them into plain arrays
 * (struct elf_file) after checking every number the rest of the loader will
 * trust: section data lies inside the file and sections do not overlap,
 * symbol names and relocation symbols are in range, relocation offsets fall
 * inside their target section. Later stages index these arrays without
 * further checks on the container. Data pointers point into one private copy
 * of the file (objects are little-endian ET_REL files for EM_BPF, so libelf
 * hands out the bytes unconverted).
 */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loader/internal.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

/* .bss and other NOBITS sections: larger is refused (memory is allocated for them). */
#define ELF_NOBITS_LIMIT (64u << 20)

int loader_error(char *err, size_t err_len, const char *file, const char *section, uint64_t offset,
		 const char *fmt, ...)
{
	if (!err || !err_len)
		return -EINVAL;
	int n = section ? snprintf(err, err_len, "%s: section %s, offset %llu: ", file, section,
				   (unsigned long long)offset)
			: snprintf(err, err_len, "%s: offset %llu: ", file, (unsigned long long)offset);
	if (n >= 0 && (size_t)n < err_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

struct elf_parse {
	struct elf_file *ef;
	Elf *elf;
	const char *file;
	char *err;
	size_t err_len;
	size_t symtab;
};

static int check_header(struct elf_parse *p)
{
	const uint8_t *id = p->ef->image;
	if (p->ef->image_size < sizeof(Elf64_Ehdr) || memcmp(id, ELFMAG, SELFMAG) != 0)
		return loader_error(p->err, p->err_len, p->file, NULL, 0, "not an ELF file");
	if (id[EI_CLASS] != ELFCLASS64)
		return loader_error(p->err, p->err_len, p->file, NULL, EI_CLASS, "not a 64-bit ELF file");
	if (id[EI_DATA] != ELFDATA2LSB)
		return loader_error(p->err, p->err_len, p->file, NULL, EI_DATA,
				    "big-endian BPF objects are not supported");
	GElf_Ehdr eh;
	if (!gelf_getehdr(p->elf, &eh))
		return loader_error(p->err, p->err_len, p->file, NULL, 0, "bad ELF header: %s", elf_errmsg(-1));
	if (eh.e_type != ET_REL)
		return loader_error(p->err, p->err_len, p->file, NULL, 16,
				    "not a relocatable object (e_type %u); build with clang -c", eh.e_type);
	if (eh.e_machine != EM_BPF && eh.e_machine != 0)
		return loader_error(p->err, p->err_len, p->file, NULL, 18,
				    "not a BPF object (e_machine %u, want %u)", eh.e_machine, EM_BPF);
	return 0;
}

static int read_section(struct elf_parse *p, size_t idx, size_t shstrndx)
{
	struct elf_section *s = &p->ef->sections[idx];
	Elf_Scn *scn = elf_getscn(p->elf, idx);
	GElf_Shdr sh;
	if (!scn || !gelf_getshdr(scn, &sh))
		return loader_error(p->err, p->err_len, p->file, NULL, 0, "section %zu: bad header: %s", idx,
				    elf_errmsg(-1));
	s->name = idx ? elf_strptr(p->elf, shstrndx, sh.sh_name) : "";
	if (!s->name)
		return loader_error(p->err, p->err_len, p->file, NULL, sh.sh_name,
				    "section %zu: name outside the section name table", idx);
	s->type = sh.sh_type;
	s->flags = sh.sh_flags;
	s->size = sh.sh_size;
	s->link = sh.sh_link;
	s->info = sh.sh_info;
	s->entsize = sh.sh_entsize;
	if (sh.sh_type == SHT_NOBITS || sh.sh_type == SHT_NULL) {
		if (sh.sh_size > ELF_NOBITS_LIMIT)
			return loader_error(p->err, p->err_len, p->file, s->name, 0,
					    "%llu bytes of uninitialised data, more than comb allows",
					    (unsigned long long)sh.sh_size);
		return 0;
	}
	if (sh.sh_offset > p->ef->image_size || sh.sh_size > p->ef->image_size - sh.sh_offset)
		return loader_error(p->err, p->err_len, p->file, s->name, sh.sh_offset,
				    "%llu bytes of data run past the end of the file (%zu bytes)",
				    (unsigned long long)sh.sh_size, p->ef->image_size);
	if (sh.sh_size == 0)
		return 0;
	s->data = p->ef->image + sh.sh_offset;
	return 0;
}

struct range {
	uint64_t start, end;
	size_t idx;
};

static int compare_ranges(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int check_overlaps(struct elf_parse *p)
{
	struct elf_file *ef = p->ef;
	struct range *r = calloc(ef->section_count + 1, sizeof(*r));
	size_t n = 0;
	if (!r)
		return -ENOMEM;
	for (size_t i = 1; i < ef->section_count; i++) {
		if (!ef->sections[i].data)
			continue;
		uint64_t start = (uint64_t)(ef->sections[i].data - ef->image);
		r[n++] = (struct range){ start, start + ef->sections[i].size, i };
	}
	qsort(r, n, sizeof(*r), compare_ranges);
	int rc = 0;
	for (size_t i = 1; i < n && !rc; i++)
		if (r[i].start < r[i - 1].end)
			rc = loader_error(p->err, p->err_len, p->file, ef->sections[r[i].idx].name, r[i].start,
					  "overlaps section %s", ef->sections[r[i - 1].idx].name);
	free(r);
	return rc;
}

static int read_symbols(struct elf_parse *p)
{
	struct elf_file *ef = p->ef;
	for (size_t i = 1; i < ef->section_count; i++) {
		if (ef->sections[i].type != SHT_SYMTAB)
			continue;
		if (p->symtab)
			return loader_error(p->err, p->err_len, p->file, ef->sections[i].name, 0,
					    "a second symbol table");
		p->symtab = i;
	}
	if (!p->symtab)
		return loader_error(p->err, p->err_len, p->file, NULL, 0, "no symbol table (was it stripped?)");
	const struct elf_section *st = &ef->sections[p->symtab];
	if (st->link == 0 || st->link >= ef->section_count || ef->sections[st->link].type != SHT_STRTAB)
		return loader_error(p->err, p->err_len, p->file, st->name, 0, "bad string table link %u", st->link);
	Elf_Data *d = elf_getdata(elf_getscn(p->elf, p->symtab), NULL);
	size_t count = st->size / sizeof(Elf64_Sym);
	if (count && !d)
		return loader_error(p->err, p->err_len, p->file, st->name, 0, "cannot read symbols");
	ef->symbols = calloc(count + 1, sizeof(*ef->symbols));
	if (!ef->symbols)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(d, (int)i, &sym))
			return loader_error(p->err, p->err_len, p->file, st->name, i * sizeof(Elf64_Sym),
					    "bad symbol %zu", i);
		const char *name = elf_strptr(p->elf, st->link, sym.st_name);
		if (!name)
			return loader_error(p->err, p->err_len, p->file, st->name, i * sizeof(Elf64_Sym),
					    "symbol %zu: name outside the string table", i);
		ef->symbols[i] = (struct elf_symbol){
			.name = name, .value = sym.st_value, .size = sym.st_size, .shndx = sym.st_shndx,
			.type = GELF_ST_TYPE(sym.st_info), .bind = GELF_ST_BIND(sym.st_info),
		};
	}
	ef->symbol_count = count;
	return 0;
}

static unsigned reloc_width(uint32_t type)
{
	return type == LOADER_R_BPF_64_ABS32 || type == LOADER_R_BPF_64_NODYLD32 ? 4 : 8;
}

static int read_relocs(struct elf_parse *p, size_t idx)
{
	struct elf_file *ef = p->ef;
	const struct elf_section *rs = &ef->sections[idx];
	if (rs->info == 0 || rs->info >= ef->section_count)
		return loader_error(p->err, p->err_len, p->file, rs->name, 0, "relocates section %u, which does not exist",
				    rs->info);
	struct elf_section *target = &ef->sections[rs->info];
	if (target->reloc_section)
		return loader_error(p->err, p->err_len, p->file, rs->name, 0,
				    "a second relocation section for %s", target->name);
	if (rs->link != p->symtab)
		return loader_error(p->err, p->err_len, p->file, rs->name, 0, "refers to symbol table %u, not %zu",
				    rs->link, p->symtab);
	size_t count = rs->size / sizeof(Elf64_Rel);
	Elf_Data *d = count ? elf_getdata(elf_getscn(p->elf, idx), NULL) : NULL;
	if (count && !d)
		return loader_error(p->err, p->err_len, p->file, rs->name, 0, "cannot read relocations");
	target->relocs = calloc(count + 1, sizeof(*target->relocs));
	if (!target->relocs)
		return -ENOMEM;
	target->reloc_section = (uint32_t)idx;
	for (size_t i = 0; i < count; i++) {
		GElf_Rel rel;
		uint64_t at = i * sizeof(Elf64_Rel);
		if (!gelf_getrel(d, (int)i, &rel))
			return loader_error(p->err, p->err_len, p->file, rs->name, at, "bad relocation %zu", i);
		uint32_t sym = (uint32_t)GELF_R_SYM(rel.r_info), type = (uint32_t)GELF_R_TYPE(rel.r_info);
		if (sym >= ef->symbol_count)
			return loader_error(p->err, p->err_len, p->file, rs->name, at,
					    "relocation %zu refers to symbol %u of %zu", i, sym, ef->symbol_count);
		if (rel.r_offset > target->size || target->size - rel.r_offset < reloc_width(type))
			return loader_error(p->err, p->err_len, p->file, rs->name, at,
					    "relocation %zu at offset %llu is outside %s (%llu bytes)", i,
					    (unsigned long long)rel.r_offset, target->name,
					    (unsigned long long)target->size);
		target->relocs[i] = (struct elf_reloc){ rel.r_offset, sym, type };
	}
	target->reloc_count = count;
	return 0;
}

static int parse_sections(struct elf_parse *p)
{
	size_t count, shstrndx;
	if (elf_getshdrnum(p->elf, &count) || elf_getshdrstrndx(p->elf, &shstrndx))
		return loader_error(p->err, p->err_len, p->file, NULL, 0, "bad section headers: %s", elf_errmsg(-1));
	if (count == 0 || count > p->ef->image_size / sizeof(Elf64_Shdr))
		return loader_error(p->err, p->err_len, p->file, NULL, 0, "bad section count %zu", count);
	p->ef->sections = calloc(count, sizeof(*p->ef->sections));
	if (!p->ef->sections)
		return -ENOMEM;
	p->ef->section_count = count;
	for (size_t i = 0; i < count; i++) {
		int rc = read_section(p, i, shstrndx);
		if (rc)
			return rc;
	}
	int rc = check_overlaps(p);
	if (!rc)
		rc = read_symbols(p);
	for (size_t i = 1; i < count && !rc; i++)
		if (p->ef->sections[i].type == SHT_REL)
			rc = read_relocs(p, i);
	return rc;
}

int elf_file_parse(struct elf_file *ef, uint8_t *image, size_t size, const char *file, char *err,
		   size_t err_len)
{
	memset(ef, 0, sizeof(*ef));
	ef->image = image;
	ef->image_size = size;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return loader_error(err, err_len, file, NULL, 0, "libelf is unusable: %s", elf_errmsg(-1));
	struct elf_parse p = { .ef = ef, .file = file, .err = err, .err_len = err_len };
	if (size < sizeof(Elf64_Ehdr))
		return loader_error(err, err_len, file, NULL, 0, "not an ELF file (%zu bytes)", size);
	p.elf = elf_memory((char *)image, size);
	if (!p.elf)
		return loader_error(err, err_len, file, NULL, 0, "not an ELF file: %s", elf_errmsg(-1));
	int rc = check_header(&p);
	if (!rc)
		rc = parse_sections(&p);
	/* Every pointer we keep points into image (same byte order, no
	 * conversion), except names, which elf_strptr also returns from it. */
	elf_end(p.elf);
	return rc;
}

void elf_file_free(struct elf_file *ef)
{
	if (ef->sections)
		for (size_t i = 0; i < ef->section_count; i++)
			free(ef->sections[i].relocs);
	free(ef->sections);
	free(ef->symbols);
	free(ef->image);
	memset(ef, 0, sizeof(*ef));
}

int elf_find_section(const struct elf_file *ef, const char *name)
{
	for (size_t i = 1; i < ef->section_count; i++)
		if (strcmp(ef->sections[i].name, name) == 0)
			return (int)i;
	return -1;
}

const struct elf_symbol *elf_find_symbol_at(const struct elf_file *ef, uint32_t shndx, uint64_t value,
					    unsigned type_mask)
{
	for (size_t i = 1; i < ef->symbol_count; i++) {
		const struct elf_symbol *s = &ef->symbols[i];
		if (s->shndx == shndx && s->value == value && (type_mask & (1u << s->type)) && s->name[0])
			return s;
	}
	return NULL;
}

const struct elf_symbol *elf_find_symbol_named(const struct elf_file *ef, uint32_t shndx, const char *name)
{
	for (size_t i = 1; i < ef->symbol_count; i++)
		if (ef->symbols[i].shndx == shndx && strcmp(ef->symbols[i].name, name) == 0)
			return &ef->symbols[i];
	return NULL;
}
