/* tests/unit/btf_testlib.h - shared by test_btf.c and test_core.c: build a
 * tests/progs/NAME.bpf.c with clang once per run, and read its BTF, .BTF.ext
 * and the instructions of one section. */
#ifndef COMB_TEST_BTF_TESTLIB_H
#define COMB_TEST_BTF_TESTLIB_H

#include <stddef.h>
#include <comb/isa.h>

struct btf;

/* Path of the compiled object for tests/progs/NAME.bpf.c (NULL on failure). */
const char *btf_test_object(const char *name);
/* Copy of the bytes of section `section` of the ELF file at path (malloc'd). */
void *btf_test_section(const char *path, const char *section, size_t *size);
#endif
