/* src/loader/internal.h - what the loader's files share (not public).
 *
 * Opening an object (object.c) reads the ELF container once (elf.c: every
 * section, symbol and relocation bounds-checked into plain arrays that point
 * into one private copy of the file), then finds programs (sections.c gives
 * their types), maps (maps_def.c: .maps and the legacy "maps" section) and
 * global data (globals.c: .data/.rodata/.bss and friends, .kconfig). Loading
 * creates the maps, builds each program's instructions (reloc.c: the entry
 * function, then every .text subprogram it reaches, with map, global and call
 * relocations resolved) and hands them to the VM.
 *
 * Errors during open go through loader_error(), which writes
 * "FILE: section S, offset N: message".
 */
#ifndef COMB_LOADER_INTERNAL_H
#define COMB_LOADER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "comb/object.h"

struct btf;
struct comb_btf_ext;
struct comb_core_target;

/* ---- ELF container (elf.c) ---- */

struct elf_section {
	const char *name;
	uint32_t type;              /* SHT_* */
	uint64_t flags;             /* SHF_* */
	const uint8_t *data;        /* NULL for SHT_NOBITS */
	uint64_t size;
	uint32_t link, info;
	uint64_t entsize;
	/* Relocations that apply to this section (from its SHT_REL section). */
	struct elf_reloc *relocs;
	size_t reloc_count;
	uint32_t reloc_section;     /* index of that SHT_REL section, 0 if none */
};

struct elf_symbol {
	const char *name;
	uint64_t value, size;
	uint16_t shndx;
	uint8_t type, bind;
};

struct elf_reloc {
	uint64_t offset;            /* in the target section; checked < its size */
	uint32_t symbol;            /* checked < symbol count */
	uint32_t type;              /* R_BPF_* */
};

struct elf_file {
	uint8_t *image;             /* private copy of the file */
	size_t image_size;
	struct elf_section *sections;
	size_t section_count;
	struct elf_symbol *symbols;
	size_t symbol_count;
};

/* Relocation types (<elf.h> has only some of them). */
#define LOADER_R_BPF_64_64 1u
#define LOADER_R_BPF_64_ABS64 2u
#define LOADER_R_BPF_64_ABS32 3u
#define LOADER_R_BPF_64_NODYLD32 4u
#define LOADER_R_BPF_64_32 10u

/* Parse image (taken over: freed by elf_file_free even on failure). */
int elf_file_parse(struct elf_file *ef, uint8_t *image, size_t size, const char *file,
		   char *err, size_t err_len);
void elf_file_free(struct elf_file *ef);
/* Index of the section called name, or -1. */
int elf_find_section(const struct elf_file *ef, const char *name);
/* Symbol in section shndx at value with one of the STT types in type_mask
 * (bit per STT_*), named (non-empty); NULL if none. */
const struct elf_symbol *elf_find_symbol_at(const struct elf_file *ef, uint32_t shndx, uint64_t value,
					    unsigned type_mask);
const struct elf_symbol *elf_find_symbol_named(const struct elf_file *ef, uint32_t shndx, const char *name);

/* ---- the object ---- */

/* A function placed in a program: len instructions from instruction start
 * of section sec, at out in the program's relocated instructions. */
struct loader_segment {
	uint32_t sec;
	size_t start, len;
	size_t out;
};

struct obj_prog {
	char *name;
	const char *section;
	uint32_t sec_idx;
	size_t sec_insn;            /* first instruction in its section */
	size_t insn_count;          /* of the entry function */
	uint32_t prog_type, attach_type;
	/* After load. */
	struct comb_insn *insns;    /* relocated: entry + subprograms */
	size_t count;
	struct loader_segment *segs;
	size_t seg_count;
	struct comb_map **maps;     /* this program's map table */
	size_t map_count;
	struct comb_prog *prog;
};

enum obj_map_kind { OBJ_MAP_BTF, OBJ_MAP_LEGACY, OBJ_MAP_GLOBAL, OBJ_MAP_KCONFIG, OBJ_MAP_INNER };

/* An initial value of a map-in-map or prog array slot from .rel.maps. */
struct obj_map_slot {
	uint32_t index;
	bool is_prog;
	size_t target;              /* map index or program index */
};

struct obj_map {
	char *name;
	enum obj_map_kind kind;
	uint32_t type, key_size, value_size, max_entries, map_flags, numa_node, pinning;
	uint64_t map_extra;
	uint32_t inner_map;         /* index + 1 of the inner template, 0 if none */
	uint32_t sec_idx;           /* section of the definition or of the data */
	uint64_t sec_offset, def_size; /* where the definition lies in it */
	int64_t values_offset;      /* of the `values` array in the definition, -1 if none */
	uint8_t *data;              /* global data: initial value (value_size bytes) */
	struct obj_map_slot *slots;
	size_t slot_count;
	struct comb_map *map;       /* after load */
	char create_error[160];     /* why creation failed at load, if it did */
	/* Pinning at load (object.c, comb_object_set_pin_dir): the pin path,
	 * and what happened (enum comb_object_pin_state). */
	char *pin_path;
	int pin_state;
};

/* A .kconfig extern: where it lives in the .kconfig map's value. */
struct obj_extern {
	char *name;
	uint32_t btf_type;
	uint32_t size, align, offset;
	bool weak;
};

struct comb_object {
	char *name;                 /* file name, or opts->name */
	char *target_btf_path;
	struct elf_file elf;
	struct btf *btf;            /* .BTF, NULL if absent */
	char license[128];
	uint32_t kversion;
	struct obj_prog *progs;
	size_t prog_count;
	struct obj_map *maps;
	size_t map_count;
	int maps_sec, legacy_maps_sec, text_sec;
	struct obj_extern *externs;
	size_t extern_count;
	int kconfig_map;            /* index, -1 if none */
	bool loaded;
	struct comb_btf_ext *btf_ext; /* .BTF.ext, NULL if absent */
	struct btf *target_btf;     /* for CO-RE, loaded when first needed */
	struct comb_core_target *core_target; /* its candidate index (core.h), built with it */
	char line_buf[1024];        /* comb_object_prog_line's answer */
	char *pin_dir;              /* comb_object_set_pin_dir, NULL if none */
	bool pin_by_name;           /* comb_object_set_pin_by_name */
	bool no_verify;             /* comb_object_set_verify(obj, false) */
};

__attribute__((format(printf, 6, 7)))
int loader_error(char *err, size_t err_len, const char *file, const char *section, uint64_t offset,
		 const char *fmt, ...);

/* sections.c */
bool loader_section_types(const char *section, uint32_t *prog_type, uint32_t *attach_type);

/* maps_def.c: append the maps of .maps and "maps". */
int loader_collect_maps(struct comb_object *obj, char *err, size_t err_len);
/* After the programs are known: initial slots from .rel.maps. */
int loader_collect_map_slots(struct comb_object *obj, char *err, size_t err_len);
/* The map defined at offset off of section sec_idx, or -1. */
int loader_map_at(const struct comb_object *obj, uint32_t sec_idx, uint64_t off);
/* Grow obj->maps by one zeroed entry; NULL on ENOMEM. */
struct obj_map *loader_add_map(struct comb_object *obj, const char *name, enum obj_map_kind kind);

/* globals.c */
int loader_collect_globals(struct comb_object *obj, char *err, size_t err_len);
/* Global-data map backing section sec_idx, or -1. */
int loader_global_map_for_section(const struct comb_object *obj, uint32_t sec_idx);
const struct obj_extern *loader_find_extern(const struct comb_object *obj, const char *name);
/* Fill the .kconfig map's image from the running system. */
void loader_fill_kconfig(struct comb_object *obj);

/* reloc.c: build prog->insns and its map table (indices into obj->maps
 * until loader_bind_maps turns them into map pointers). */
int loader_relocate_prog(struct comb_object *obj, struct obj_prog *prog, size_t **map_indices,
			 char *err, size_t err_len);
/* object.c: apply the CO-RE relocations of section sec that fall in
 * [start, start + len) instructions to insns (the function's copy). */
int loader_core_function(struct comb_object *obj, const struct obj_prog *prog, uint32_t sec, size_t start,
			 struct comb_insn *insns, size_t len, char *err, size_t err_len);

/* core_prog.c: one program relocated (CO-RE included) into private buffers,
 * without loading it or changing the object: as loader_relocate_prog lays
 * it out, or, when relocations other than CO-RE fail, the entry function
 * alone with CO-RE applied (entry_only). segs says where each function
 * landed. Free with loader_core_prog_free. For tests and tools. */
struct loader_core_prog {
	struct comb_insn *insns;
	size_t count;
	struct loader_segment *segs;
	size_t seg_count;
	bool entry_only;
};
int loader_core_prog(struct comb_object *obj, size_t index, struct loader_core_prog *out, char *err,
		     size_t err_len);
void loader_core_prog_free(struct loader_core_prog *p);

/* "file.c:42: source text" of the source line instruction insn of program
 * index belongs to: the nearest line_info record at or before it within its
 * function (line_info marks only the first instruction of each line;
 * compiler-made line 0 is skipped). NULL without line_info. Valid until the
 * next call. */
const char *loader_source_line(const struct comb_object *obj, size_t index, size_t insn);

/* BTF helpers shared by maps_def.c and globals.c (libbpf's struct btf). */
const struct btf_type *loader_btf_skip_mods(const struct btf *btf, uint32_t id, uint32_t *out_id);

#endif
