/* fuzz_asm.c - libFuzzer target for the assembler and the disassembler.
 *
 * The input is assembled as text (a NUL-terminated copy), then read as raw
 * instruction slots and disassembled slot by slot in both syntaxes, including
 * a trailing partial LDDW. Every successful assembly is disassembled and must
 * assemble again to the same bytes. Crashes, sanitizer reports and broken
 * round trips are findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comb/asm.h"

static void disassemble_all(const struct comb_insn *insns, size_t count)
{
	char text[160];
	for (int syntax = COMB_SYNTAX_LLVM; syntax <= COMB_SYNTAX_CONFORMANCE; syntax++) {
		for (size_t i = 0; i < count;) {
			int n = comb_disasm_insn(insns, count, i, (enum comb_syntax)syntax, text, sizeof(text));
			if (strlen(text) >= sizeof(text))
				abort();
			i += n > 0 ? (size_t)n : 1;
		}
	}
}

/* Reassembles the conformance text of each valid instruction. */
static void check_round_trip(const struct comb_insn *insns, size_t count)
{
	char text[160];
	for (size_t i = 0; i < count;) {
		int n = comb_disasm_insn(insns, count, i, COMB_SYNTAX_CONFORMANCE, text, sizeof(text));
		if (n <= 0) {
			i++;
			continue;
		}
		struct comb_insn *again = NULL;
		size_t again_count = 0;
		if (comb_asm(text, &again, &again_count, NULL) != 0 || again_count != (size_t)n ||
		    memcmp(again, &insns[i], (size_t)n * sizeof(*again)) != 0)
			abort();
		free(again);
		i += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *source = malloc(size + 1);
	if (!source)
		return 0;
	memcpy(source, data, size);
	source[size] = '\0';
	struct comb_insn *insns = NULL;
	size_t count = 0;
	struct comb_asm_error err;
	if (comb_asm(source, &insns, &count, &err) == 0) {
		check_round_trip(insns, count);
		free(insns);
	}
	free(source);

	size_t slots = size / sizeof(struct comb_insn);
	struct comb_insn *raw = malloc(slots ? slots * sizeof(*raw) : 1);
	if (!raw)
		return 0;
	memcpy(raw, data, slots * sizeof(*raw));
	disassemble_all(raw, slots);
	check_round_trip(raw, slots);
	free(raw);
	return 0;
}
