/* tools/comb/cmd_disasm.c - `comb disasm FILE [--syntax llvm|conformance]`.
 *
 * llvm syntax mimics `llvm-objdump -d`: the slot index right-aligned in 8
 * columns and a colon, a tab, the raw bytes (16 for an LDDW), a tab, the
 * text. Conformance syntax prints only the text, one assembler line per
 * instruction, which `comb asm` turns back into the same bytes.
 */
#include <string.h>

#include "cli.h"

static int parse_syntax(const char *name, enum comb_syntax *syntax)
{
	if (strcmp(name, "llvm") == 0)
		*syntax = COMB_SYNTAX_LLVM;
	else if (strcmp(name, "conformance") == 0)
		*syntax = COMB_SYNTAX_CONFORMANCE;
	else
		return -1;
	return 0;
}

static void print_llvm_line(const struct cli_program *prog, size_t idx, int slots,
			    const char *text)
{
	printf("%8zu:\t", idx);
	for (int s = 0; s < slots; s++) {
		uint8_t bytes[8];
		cli_insn_to_bytes(&prog->insns[idx + (size_t)s], bytes);
		for (int b = 0; b < 8; b++)
			printf("%s%02x", s == 0 && b == 0 ? "" : " ", bytes[b]);
	}
	printf("\t%s\n", text);
}

static int print_program(const char *path, const struct cli_program *prog,
			 enum comb_syntax syntax)
{
	char text[256];
	for (size_t idx = 0; idx < prog->count;) {
		int slots = comb_disasm_insn(prog->insns, prog->count, idx, syntax, text,
					     sizeof(text));
		if (slots < 1 || (size_t)slots > prog->count - idx) {
			fflush(stdout);
			return cli_error("%s: insn %zu: cannot decode: %s", path, idx,
					 text[0] ? text : "invalid instruction");
		}
		if (syntax == COMB_SYNTAX_LLVM)
			print_llvm_line(prog, idx, slots, text);
		else
			printf("%s\n", text);
		idx += (size_t)slots;
	}
	return fflush(stdout) ? cli_error("disasm: cannot write to standard output") : CLI_OK;
}

int cmd_disasm(int argc, char **argv)
{
	const char *input = NULL;
	enum comb_syntax syntax = COMB_SYNTAX_LLVM;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--syntax") == 0 || strncmp(argv[i], "--syntax=", 9) == 0) {
			const char *value = argv[i][8] == '=' ? argv[i] + 9 : NULL;
			if (!value && ++i >= argc)
				return cli_usage_error("disasm", "--syntax needs llvm or conformance");
			if (!value)
				value = argv[i];
			if (parse_syntax(value, &syntax))
				return cli_usage_error("disasm",
						       "unknown syntax '%s' (use llvm or conformance)",
						       value);
		} else if (argv[i][0] == '-' && argv[i][1] != 0) {
			return cli_usage_error("disasm", "unknown option '%s'", argv[i]);
		} else if (input) {
			return cli_usage_error("disasm", "more than one input file");
		} else {
			input = argv[i];
		}
	}
	if (!input)
		return cli_usage_error("disasm", "missing the input file");
	struct cli_program prog;
	if (cli_load_program_file(input, &prog))
		return CLI_ERROR;
	int status = print_program(input, &prog, syntax);
	cli_program_free(&prog);
	return status;
}
