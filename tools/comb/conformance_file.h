/* tools/comb/conformance_file.h - one BPF conformance test (.data file).
 *
 * The format (see the suite's README): `-- NAME` lines open sections; `#`
 * lines are comments. `-- asm` holds the program, `-- raw` (one u64 slot per
 * line, opcode in the low byte) replaces it, `-- mem` is hex input memory,
 * `-- result` the expected r0, `-- error` says a load or run error is expected.
 */
#ifndef COMB_CONFORMANCE_FILE_H
#define COMB_CONFORMANCE_FILE_H

#include "cli.h"

struct conformance_test {
	char *asm_text;      /* the whole file with non-asm lines blanked (line numbers kept) */
	bool has_asm;
	struct comb_insn *raw; /* malloc'd when a -- raw section exists */
	size_t raw_count;
	bool has_raw;
	uint8_t *mem;        /* malloc'd, may be NULL */
	size_t mem_len;
	uint64_t expected;
	bool has_result;
	bool expects_error;
};

/* Parse the text of a .data file. Returns 0, or -EINVAL with a reason in err. */
int conformance_parse(const char *text, struct conformance_test *test, char *err, size_t err_len);
void conformance_test_free(struct conformance_test *test);

#endif
