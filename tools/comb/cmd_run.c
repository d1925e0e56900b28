/* tools/comb/cmd_run.c - `comb run PROG [--mem HEX | --mem-file F] ...`.
 *
 * Loads PROG (assembly or raw; ELF objects wait for the loader), runs it on
 * a private copy of the memory with the chosen engine and prints r0 in hex.
 * The checked engine is the default because nothing verifies the program
 * yet. --repeat N times N runs; --json prints one object for scripts.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_REPEAT 100000000ull

struct run_args {
	const char *prog_path;
	const char *mem_hex;
	const char *mem_file;
	enum comb_engine engine;
	uint64_t repeat;
	bool repeat_given;
	bool json;
};

/* Handle the option at argv[*i]; returns -1 if it is not one of ours. */
static int parse_run_option(int argc, char **argv, int *i, struct run_args *a)
{
	const char *value = NULL;
	int m;
	if ((m = cli_option_value(argc, argv, i, "--mem", &value)) != 0) {
		if (m < 0)
			return cli_usage_error("run", "--mem needs hex bytes, e.g. --mem '00 01 ff'");
		a->mem_hex = value;
	} else if ((m = cli_option_value(argc, argv, i, "--mem-file", &value)) != 0) {
		if (m < 0)
			return cli_usage_error("run", "--mem-file needs a file name");
		a->mem_file = value;
	} else if ((m = cli_option_value(argc, argv, i, "--engine", &value)) != 0) {
		if (m < 0 || cli_parse_engine(value, &a->engine))
			return cli_usage_error("run", "--engine takes interp or checked");
	} else if ((m = cli_option_value(argc, argv, i, "--repeat", &value)) != 0) {
		if (m < 0 || cli_parse_count(value, 1, MAX_REPEAT, &a->repeat))
			return cli_usage_error("run", "--repeat takes a count from 1 to %llu, not '%s'",
					       MAX_REPEAT, m < 0 ? "" : value);
		a->repeat_given = true;
	} else if (strcmp(argv[*i], "--json") == 0) {
		a->json = true;
	} else {
		return -1;
	}
	return CLI_OK;
}

static int parse_run_args(int argc, char **argv, struct run_args *a)
{
	*a = (struct run_args){ .engine = COMB_ENGINE_CHECKED, .repeat = 1 };
	for (int i = 1; i < argc; i++) {
		int rc = parse_run_option(argc, argv, &i, a);
		if (rc > 0)
			return rc;
		if (rc == 0)
			continue;
		if (argv[i][0] == '-' && argv[i][1] != 0)
			return cli_usage_error("run", "unknown option '%s'", argv[i]);
		if (a->prog_path)
			return cli_usage_error("run", "more than one program ('%s' and '%s')",
					       a->prog_path, argv[i]);
		a->prog_path = argv[i];
	}
	if (!a->prog_path)
		return cli_usage_error("run", "missing the program file");
	if (a->mem_hex && a->mem_file)
		return cli_usage_error("run", "use either --mem or --mem-file, not both");
	return CLI_OK;
}

static int load_memory(const struct run_args *a, uint8_t **mem, size_t *len)
{
	*mem = NULL;
	*len = 0;
	if (a->mem_hex) {
		char err[160];
		if (cli_parse_hex(a->mem_hex, mem, len, err, sizeof(err)))
			return cli_error("--mem: %s (expected hex bytes like '00 01 ff')", err);
	} else if (a->mem_file) {
		struct cli_buffer buf;
		if (cli_read_file(a->mem_file, &buf))
			return CLI_ERROR;
		*mem = buf.data;
		*len = buf.len;
	}
	return CLI_OK;
}

static void print_result(const struct run_args *a, const struct cli_run_result *res)
{
	if (a->json) {
		printf("{\"r0\": \"0x%" PRIx64 "\", \"runs\": %" PRIu64 ", \"ns_per_run\": %" PRIu64
		       ", \"engine\": \"%s\"}\n",
		       res->r0, a->repeat, res->ns_per_run, cli_engine_name(a->engine));
		return;
	}
	printf("0x%" PRIx64 "\n", res->r0);
	if (a->repeat_given)
		printf("ns_per_run: %" PRIu64 "\n", res->ns_per_run);
}

static int run_loaded(const struct run_args *a, const struct comb_prog *prog, const uint8_t *mem,
		      size_t mem_len)
{
	struct cli_run_request req = { .prog = prog, .engine = a->engine, .mem = mem,
				       .mem_len = mem_len, .repeat = a->repeat };
	struct cli_run_result res;
	if (cli_run_program(&req, &res)) {
		char msg[400];
		cli_format_run_error(&res, msg, sizeof(msg));
		return cli_error("%s: %s", a->prog_path, msg);
	}
	print_result(a, &res);
	return CLI_OK;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a;
	int status = parse_run_args(argc, argv, &a);
	if (status)
		return status;
	uint8_t *mem;
	size_t mem_len;
	if (load_memory(&a, &mem, &mem_len))
		return CLI_ERROR;
	struct cli_program program;
	struct comb_vm *vm = NULL;
	struct comb_prog *prog = NULL;
	status = CLI_ERROR;
	if (cli_load_program_file(a.prog_path, &program) == 0) {
		if (cli_load_vm_prog(a.prog_path, &program, &vm, &prog) == 0)
			status = run_loaded(&a, prog, mem, mem_len);
		cli_program_free(&program);
	}
	if (prog)
		comb_prog_free(prog);
	if (vm)
		comb_vm_free(vm);
	free(mem);
	return status;
}
