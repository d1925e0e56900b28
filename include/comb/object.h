/* comb/object.h - ELF objects as clang and libbpf know them.
 *
 * Open a `clang -g -O2 -target bpf` object (from a file or memory), look at
 * its programs and maps, adjust global data (skeleton-style `const volatile`
 * configuration in .rodata) and map definitions, then load: create the maps,
 * relocate calls, maps and globals, apply CO-RE against a target BTF, and
 * turn each program into a comb_prog ready to run. Section names, map
 * definitions and relocations follow libbpf's conventions.
 */
#ifndef COMB_OBJECT_H
#define COMB_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "map.h"
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct comb_object;

struct comb_object_open_opts {
	size_t sz;                  /* sizeof(struct comb_object_open_opts) */
	const char *name;           /* for messages when opening from memory */
	/* Target BTF for CO-RE: NULL means /sys/kernel/btf/vmlinux. A file may be
	 * raw BTF or an ELF with a .BTF section. */
	const char *target_btf_path;
};

/* Open and parse an object. Nothing is created or relocated yet. err gets
 * "FILE: section S, offset N: ..." on failure. Returns 0 or a negative errno. */
int comb_object_open_file(const char *path, const struct comb_object_open_opts *opts,
			  struct comb_object **obj, char *err, size_t err_len);
int comb_object_open_mem(const void *data, size_t size, const struct comb_object_open_opts *opts,
			 struct comb_object **obj, char *err, size_t err_len);
void comb_object_close(struct comb_object *obj);
const char *comb_object_name(const struct comb_object *obj);
const char *comb_object_license(const struct comb_object *obj);
uint32_t comb_object_kversion(const struct comb_object *obj);

/* Programs, in the order of their sections and offsets (as libbpf lists them). */
struct comb_object_prog_info {
	const char *name;      /* function name */
	const char *section;   /* ELF section, e.g. "xdp" or "uprobe/libc.so.6:malloc" */
	uint32_t prog_type;    /* kernel BPF_PROG_TYPE_* number */
	uint32_t expected_attach_type; /* kernel BPF_* attach type, 0 if none */
	size_t insn_count;     /* instructions of the entry function itself */
};
size_t comb_object_prog_count(const struct comb_object *obj);
int comb_object_prog_info(const struct comb_object *obj, size_t index, struct comb_object_prog_info *info);
/* Index of the program called name (function name, or section name when no
 * function has that name); -ENOENT if none. */
int comb_object_find_prog(const struct comb_object *obj, const char *name);
/* Override the program type derived from the section name (before load). */
int comb_object_set_prog_type(struct comb_object *obj, size_t index, uint32_t prog_type);
/* "xdp", "socket_filter", ... for a kernel program type number; NULL if unknown. */
const char *comb_prog_type_name(uint32_t prog_type);

/* Maps, including the internal ones for global data (".rodata", ".data",
 * ".bss", ".data.NAME", ".rodata.NAME", ".kconfig"), as libbpf names them
 * (libbpf prefixes internal map names with a part of the object name; comb
 * uses the section name). */
struct comb_object_map_info {
	const char *name;
	uint32_t type, key_size, value_size, max_entries, map_flags;
	uint64_t map_extra;
	uint32_t pinning;      /* 0 none, 1 LIBBPF_PIN_BY_NAME */
	uint32_t inner_map;    /* index of the inner map template + 1, 0 if none */
	int is_global_data;    /* backs .data/.rodata/.bss/.kconfig */
};
size_t comb_object_map_count(const struct comb_object *obj);
int comb_object_map_info(const struct comb_object *obj, size_t index, struct comb_object_map_info *info);
int comb_object_find_map(const struct comb_object *obj, const char *name);
/* Change a map's definition before load (e.g. max_entries). */
int comb_object_set_map_max_entries(struct comb_object *obj, size_t index, uint32_t max_entries);

/* Global data before load: the initial image of a global-data map (its
 * value), writable, *size set to its length. NULL if the map is not global
 * data. Writing to it is how `const volatile` configuration is set. */
void *comb_object_global_data(struct comb_object *obj, size_t map_index, size_t *size);
/* Set one global variable by its name (found through the BTF DATASEC
 * records). size must match the variable's size. -ENOENT if unknown. */
int comb_object_set_global(struct comb_object *obj, const char *var_name, const void *value, size_t size);

/* Load: create maps, relocate, apply CO-RE, load every program into vm and
 * verify it (comb_prog_verify, with the program's type and maps). err says
 * which program, instruction or relocation failed; a program the verifier
 * rejects fails the load with -EACCES and the verifier's message
 * ("OBJ: prog P (section S): verifier: insn N: ... [file.c:42: source]"). */
int comb_object_load(struct comb_object *obj, struct comb_vm *vm, char *err, size_t err_len);
/* Verify the programs at load (the default) or not (before load): an
 * unverified program runs only in the checked engine by default (see
 * COMB_ENGINE_DEFAULT). 0, -EINVAL or -EBUSY (already loaded). */
int comb_object_set_verify(struct comb_object *obj, bool verify);
/* After load. */
struct comb_prog *comb_object_prog(const struct comb_object *obj, size_t index);
struct comb_map *comb_object_map(const struct comb_object *obj, size_t index);

/* Pinning maps at load, as libbpf does with pin_root_path and
 * LIBBPF_PIN_BY_NAME. With a pin directory set, every map of the object
 * (global-data maps excepted, as libbpf never pins them) is reused from
 * DIR/NAME when a map is pinned there with the same type, key_size,
 * value_size, max_entries and map_flags (a mismatch fails the load with a
 * message naming the map and the field), and otherwise created and pinned
 * there. Maps that hold program or map pointers (prog arrays, map-in-maps)
 * cannot be pinned in comb and stay private. Without a pin directory, when
 * pin_by_name is on, only maps declared with LIBBPF_PIN_BY_NAME are
 * reused/pinned, under comb_pin_dir() (libbpf's /sys/fs/bpf); the library
 * default is off, so an embedding application (or a test) gets no global
 * pins it did not ask for; the comb CLI turns it on like libbpf-based tools.
 * A failed load removes the pins it made. Call before comb_object_load;
 * dir NULL removes the directory. 0, -EBUSY (loaded) or -ENOMEM. */
int comb_object_set_pin_dir(struct comb_object *obj, const char *dir);
int comb_object_set_pin_by_name(struct comb_object *obj, bool enable);
enum comb_object_pin_state {
	COMB_PIN_NONE = 0,      /* not pinned */
	COMB_PIN_CREATED,       /* created by this load and pinned */
	COMB_PIN_REUSED,        /* an existing pin was reused */
	COMB_PIN_UNPINNABLE,    /* would be pinned but holds pointers: private */
};
/* After load: what happened to map index, and its pin path (NULL if none). */
enum comb_object_pin_state comb_object_map_pin_state(const struct comb_object *obj, size_t index,
						     const char **path);

/* For tools: the relocated instructions of a loaded program (entry function
 * followed by the subprograms it calls) and, when BTF line_info exists, the
 * source line of instruction insn_index ("file.c:42: source text"), or NULL. */
const char *comb_object_prog_line(const struct comb_object *obj, size_t index, size_t insn_index);

#ifdef __cplusplus
}
#endif
#endif
