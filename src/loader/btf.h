/* src/loader/btf.h - BTF for the loader: load and validate .BTF, parse .BTF.ext.
 *
 * .BTF is parsed by libbpf (struct btf, btf__new/btf__parse); comb adds the
 * checks libbpf 1.1 does not make (every referenced type id in range, every
 * name offset valid, sane int/array/member/datasec fields, no loops in the
 * type graph), so that later walks over a validated BTF cannot crash or run
 * forever. .BTF.ext has no public libbpf API: comb_btf_ext_parse is a small
 * bounded parser that copies func_info, line_info and CO-RE relocation
 * records into fixed structs, per program section.
 *
 * All functions return 0 or a negative errno and write a message to err
 * (may be NULL) naming the section and byte offset of the problem.
 */
#ifndef COMB_LOADER_BTF_H
#define COMB_LOADER_BTF_H

#include <stddef.h>
#include <stdint.h>

struct btf;

/* Parse raw .BTF bytes (btf__new) and validate them. *out is freed with
 * btf__free(). */
int comb_btf_from_data(const void *data, size_t size, struct btf **out, char *err, size_t len);

/* Load a target BTF for CO-RE: path NULL means /sys/kernel/btf/vmlinux; a
 * file may be raw BTF or an ELF object with a .BTF section. Validated,
 * except the kernel's own BTF in sysfs, which the kernel checked at boot. */
int comb_btf_load_target(const char *path_or_null, struct btf **out, char *err, size_t len);

/* The checks libbpf's parser does not make (see the comment at the top). */
int comb_btf_validate(const struct btf *btf, char *err, size_t len);

/* --- .BTF.ext --------------------------------------------------------- */

/* Offsets are in bytes from the start of the program section (divide by 8
 * for the instruction index), as clang writes them. String offsets refer to
 * the .BTF string table. */
struct comb_btf_func_info {
	uint32_t insn_off;
	uint32_t type_id; /* a BTF_KIND_FUNC */
};

struct comb_btf_line_info {
	uint32_t insn_off;
	uint32_t file_name_off;
	uint32_t line_off;
	uint32_t line_col; /* line << 10 | column */
};
#define COMB_BTF_LINE(line_col) ((line_col) >> 10)
#define COMB_BTF_COL(line_col)  ((line_col) & 0x3ff)

/* One CO-RE relocation record (struct bpf_core_relo). kind is one of
 * enum comb_core_relo_kind in core.h. */
struct comb_core_relo {
	uint32_t insn_off;
	uint32_t type_id;
	uint32_t access_str_off;
	uint32_t kind;
};

/* The records of one program section, for one kind of info. */
struct comb_btf_ext_section {
	const char *name;  /* section name from the BTF strings; NULL without BTF */
	uint32_t name_off; /* its offset in the .BTF string table */
	size_t count;      /* number of records */
	union {
		const struct comb_btf_func_info *func_info;
		const struct comb_btf_line_info *line_info;
		const struct comb_core_relo *core_relo;
	};
};

enum comb_btf_ext_kind {
	COMB_BTF_EXT_FUNC_INFO,
	COMB_BTF_EXT_LINE_INFO,
	COMB_BTF_EXT_CORE_RELO,
	COMB_BTF_EXT_KIND_COUNT,
};

struct comb_btf_ext;

/* Parse .BTF.ext bytes. btf (the object's .BTF, may be NULL) resolves and
 * checks section names and the string offsets in records. Every offset and
 * length of the header and the sub-sections is checked; records larger than
 * comb knows (a newer record size) are accepted and their tail ignored. */
int comb_btf_ext_parse(const void *data, size_t size, const struct btf *btf,
		       struct comb_btf_ext **out, char *err, size_t len);
void comb_btf_ext_free(struct comb_btf_ext *ext);

/* Number of sections holding records of this kind, and the idx-th one. */
size_t comb_btf_ext_section_count(const struct comb_btf_ext *ext, enum comb_btf_ext_kind kind);
const struct comb_btf_ext_section *comb_btf_ext_section(const struct comb_btf_ext *ext,
							enum comb_btf_ext_kind kind, size_t idx);
/* The section of this kind with this name (needs the BTF at parse time), or
 * NULL when there is none. */
const struct comb_btf_ext_section *comb_btf_ext_find(const struct comb_btf_ext *ext,
						     enum comb_btf_ext_kind kind, const char *name);
/* The record size the header declared (0 when the kind is absent). */
uint32_t comb_btf_ext_record_size(const struct comb_btf_ext *ext, enum comb_btf_ext_kind kind);

#endif
