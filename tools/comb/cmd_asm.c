/* tools/comb/cmd_asm.c - `comb asm IN.s [-o OUT.bin]`.
 *
 * Assembles conformance-syntax text with comb_asm() and writes the raw
 * little-endian slots. Raw bytes are never written to a terminal: without
 * -o, standard output must be a file or a pipe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int write_all(FILE *out, const struct cli_program *prog)
{
	for (size_t i = 0; i < prog->count; i++) {
		uint8_t bytes[8];
		cli_insn_to_bytes(&prog->insns[i], bytes);
		if (fwrite(bytes, 1, sizeof(bytes), out) != sizeof(bytes))
			return -EIO;
	}
	return fflush(out) ? -EIO : 0;
}

static int write_program(const char *path, const struct cli_program *prog)
{
	if (!path || strcmp(path, "-") == 0) {
		if (write_all(stdout, prog))
			return cli_error("asm: cannot write to standard output: %s", strerror(errno));
		return CLI_OK;
	}
	FILE *out = fopen(path, "wb");
	if (!out)
		return cli_error("%s: cannot create: %s", path, strerror(errno));
	int rc = write_all(out, prog);
	if (fclose(out) || rc) {
		cli_error("%s: cannot write: %s", path, strerror(errno ? errno : EIO));
		remove(path);
		return CLI_ERROR;
	}
	return CLI_OK;
}

int cmd_asm(int argc, char **argv)
{
	const char *input = NULL, *output = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
			if (++i >= argc)
				return cli_usage_error("asm", "%s needs a file name", argv[i - 1]);
			output = argv[i];
		} else if (argv[i][0] == '-' && argv[i][1] != 0) {
			return cli_usage_error("asm", "unknown option '%s'", argv[i]);
		} else if (input) {
			return cli_usage_error("asm", "more than one input file ('%s' and '%s')",
					       input, argv[i]);
		} else {
			input = argv[i];
		}
	}
	if (!input)
		return cli_usage_error("asm", "missing the input file");
	if (!output && isatty(STDOUT_FILENO))
		return cli_usage_error("asm", "will not write binary instructions to a terminal; "
					      "use -o OUT.bin or redirect standard output");

	struct cli_buffer buf;
	if (cli_read_file(input, &buf))
		return CLI_ERROR;
	struct cli_program prog = { 0 };
	int status = CLI_ERROR;
	if (memchr(buf.data, 0, buf.len))
		cli_error("%s: contains NUL bytes: not assembly text", input);
	else if (cli_assemble(input, (const char *)buf.data, &prog) == 0)
		status = write_program(output, &prog);
	cli_program_free(&prog);
	cli_buffer_free(&buf);
	return status;
}
