/* tools/comb/cmd_conformance.c - `comb conformance DIR` and the plugin mode.
 *
 * `comb conformance` runs each *.data file of a BPF conformance directory
 * (sorted by name) in this process: parse, assemble (or take -- raw), load,
 * run on a private copy of -- mem, compare r0 with -- result. Problems in a
 * test (bad file, assembly, load or run error) become that test's FAIL line
 * and never stop the run; the last line is the tally.
 *
 * `comb conformance-plugin` speaks the original bpf_conformance runner's
 * protocol instead: program as hex on stdin, memory as hex arguments, r0 in
 * hex on stdout.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conformance_file.h"

struct test_outcome {
	bool passed;
	char detail[600]; /* why it failed, or what it returned */
};

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_data_file(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && strcmp(name + n - 5, ".data") == 0;
}

/* The sorted *.data names of dir; returns the count or -errno. */
static long list_data_files(const char *dir, char ***names_out)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	char **names = NULL;
	long count = 0;
	struct dirent *entry;
	while ((entry = readdir(d))) {
		if (!is_data_file(entry->d_name))
			continue;
		char **grown = realloc(names, (size_t)(count + 1) * sizeof(*names));
		char *copy = strdup(entry->d_name);
		if (!grown || !copy) {
			free(copy);
			free(grown ? grown : names);
			closedir(d);
			return -ENOMEM;
		}
		names = grown;
		names[count++] = copy;
	}
	closedir(d);
	if (count)
		qsort(names, (size_t)count, sizeof(*names), compare_names);
	*names_out = names;
	return count;
}

/* The program of a test: -- raw when present, else the assembled -- asm. */
static int test_program(const struct conformance_test *t, struct cli_program *prog,
			struct test_outcome *out)
{
	if (t->has_raw) {
		prog->insns = malloc((t->raw_count ? t->raw_count : 1) * sizeof(*prog->insns));
		if (!prog->insns)
			return -ENOMEM;
		memcpy(prog->insns, t->raw, t->raw_count * sizeof(*prog->insns));
		prog->count = t->raw_count;
		return 0;
	}
	struct comb_asm_error err = { 0 };
	int rc = comb_asm(t->asm_text, &prog->insns, &prog->count, &err);
	if (rc)
		snprintf(out->detail, sizeof(out->detail), "assembly failed: line %d, column %d: %s",
			 err.line, err.column, err.message);
	return rc ? rc : 0;
}

static void judge(const struct conformance_test *t, int load_rc, const char *load_err,
		  const struct cli_run_result *res, struct test_outcome *out)
{
	char msg[400] = "";
	if (load_rc)
		snprintf(msg, sizeof(msg), "load error: %.300s", load_err);
	else if (res->status)
		cli_format_run_error(res, msg, sizeof(msg));
	bool failed_to_run = load_rc || res->status;
	if (t->expects_error) {
		out->passed = failed_to_run;
		if (failed_to_run)
			snprintf(out->detail, sizeof(out->detail), "expected error: %s", msg);
		else
			snprintf(out->detail, sizeof(out->detail),
				 "expected an error, got r0 = 0x%" PRIx64, res->r0);
	} else if (failed_to_run) {
		snprintf(out->detail, sizeof(out->detail), "expected 0x%" PRIx64 ", got %s",
			 t->expected, msg);
	} else {
		out->passed = res->r0 == t->expected;
		snprintf(out->detail, sizeof(out->detail), "expected 0x%" PRIx64 ", got 0x%" PRIx64,
			 t->expected, res->r0);
	}
}

static void run_parsed_test(const char *name, const struct conformance_test *t,
			    enum comb_engine engine, struct cli_program *prog,
			    struct test_outcome *out)
{
	if (test_program(t, prog, out))
		return;
	struct comb_vm *vm;
	struct comb_prog *loaded;
	char load_err[400];
	struct cli_run_result res = { 0 };
	int rc = cli_try_load_vm_prog(name, prog, &vm, &loaded, load_err, sizeof(load_err));
	if (rc == 0) {
		struct cli_run_request req = { .prog = loaded, .engine = engine, .mem = t->mem,
					       .mem_len = t->mem_len, .repeat = 1 };
		cli_run_program(&req, &res);
		comb_prog_free(loaded);
		comb_vm_free(vm);
	}
	judge(t, rc, load_err, &res, out);
}

static void run_one_test(const char *dir, const char *file, enum comb_engine engine,
			 struct cli_program *prog, struct test_outcome *out)
{
	char path[4096], err[300];
	*out = (struct test_outcome){ 0 };
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	struct cli_buffer buf;
	if (cli_read_file(path, &buf)) {
		snprintf(out->detail, sizeof(out->detail), "cannot read the file");
		return;
	}
	struct conformance_test t;
	if (conformance_parse((const char *)buf.data, &t, err, sizeof(err))) {
		snprintf(out->detail, sizeof(out->detail), "bad test file: %s", err);
	} else {
		run_parsed_test(file, &t, engine, prog, out);
		conformance_test_free(&t);
	}
	cli_buffer_free(&buf);
}

static void print_program_indented(const struct cli_program *prog)
{
	char text[256];
	for (size_t idx = 0; idx < prog->count;) {
		int slots = comb_disasm_insn(prog->insns, prog->count, idx,
					     COMB_SYNTAX_CONFORMANCE, text, sizeof(text));
		printf("    %4zu: %s\n", idx, text);
		idx += slots > 0 ? (size_t)slots : 1;
	}
}

static void report_test(const char *file, const struct test_outcome *out,
			const struct cli_program *prog, bool verbose)
{
	int name_len = (int)(strlen(file) - strlen(".data"));
	if (out->passed && verbose)
		printf("PASS %.*s (%s)\n", name_len, file, out->detail);
	else if (out->passed)
		printf("PASS %.*s\n", name_len, file);
	else
		printf("FAIL %.*s: %s\n", name_len, file, out->detail);
	if (!out->passed && verbose)
		print_program_indented(prog);
	fflush(stdout);
}

static int run_directory(const char *dir, enum comb_engine engine, bool verbose)
{
	char **names = NULL;
	long count = list_data_files(dir, &names);
	if (count < 0)
		return cli_error("%s: cannot read the directory: %s", dir, strerror((int)-count));
	if (count == 0)
		return cli_error("%s: no *.data conformance tests in this directory", dir);
	long passed = 0;
	for (long i = 0; i < count; i++) {
		struct test_outcome out;
		struct cli_program prog = { 0 };
		run_one_test(dir, names[i], engine, &prog, &out);
		report_test(names[i], &out, &prog, verbose);
		passed += out.passed;
		cli_program_free(&prog);
		free(names[i]);
	}
	free(names);
	printf("%ld passed, %ld failed\n", passed, count - passed);
	return passed == count ? CLI_OK : CLI_ERROR;
}

int cmd_conformance(int argc, char **argv)
{
	const char *dir = NULL, *value;
	enum comb_engine engine = COMB_ENGINE_CHECKED;
	bool verbose = false;
	for (int i = 1; i < argc; i++) {
		int m = cli_option_value(argc, argv, &i, "--engine", &value);
		if (m < 0 || (m > 0 && cli_parse_engine(value, &engine)))
			return cli_usage_error("conformance", "--engine takes interp, checked or jit");
		if (m > 0)
			continue;
		if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0)
			verbose = true;
		else if (argv[i][0] == '-')
			return cli_usage_error("conformance", "unknown option '%s'", argv[i]);
		else if (dir)
			return cli_usage_error("conformance", "more than one directory");
		else
			dir = argv[i];
	}
	if (!dir)
		return cli_usage_error("conformance", "missing the test directory");
	return run_directory(dir, engine, verbose);
}

/* Plugin mode: collect the memory hex from the non-option arguments. */
static int plugin_args(int argc, char **argv, enum comb_engine *engine, char **mem_text)
{
	size_t total = 1;
	for (int i = 1; i < argc; i++)
		total += strlen(argv[i]) + 1;
	char *text = calloc(1, total);
	if (!text)
		return cli_error("conformance-plugin: out of memory");
	for (int i = 1; i < argc; i++) {
		const char *value;
		int m = cli_option_value(argc, argv, &i, "--engine", &value);
		if (m < 0 || (m > 0 && cli_parse_engine(value, engine))) {
			free(text);
			return cli_usage_error("conformance-plugin", "--engine takes interp, checked or jit");
		}
		if (m > 0 || argv[i][0] == '-')
			continue; /* options of other plugins: ignored */
		strcat(text, argv[i]);
		strcat(text, " ");
	}
	*mem_text = text;
	return CLI_OK;
}

static int plugin_run(const char *mem_text, enum comb_engine engine)
{
	char err[300];
	uint8_t *mem = NULL, *code = NULL;
	size_t mem_len = 0, code_len = 0;
	struct cli_buffer input = { 0 };
	struct cli_program program = { 0 };
	struct comb_vm *vm = NULL;
	struct comb_prog *prog = NULL;
	int status = CLI_ERROR;
	if (cli_parse_hex(mem_text, &mem, &mem_len, err, sizeof(err)))
		cli_error("memory argument: %s", err);
	else if (cli_read_file("-", &input) == 0) {
		if (cli_parse_hex((const char *)input.data, &code, &code_len, err, sizeof(err)))
			cli_error("stdin: program: %s", err);
		else if (cli_program_from_bytes("stdin", code, code_len, &program) == 0 &&
			 cli_load_vm_prog("stdin", &program, &vm, &prog) == 0) {
			struct cli_run_request req = { .prog = prog, .engine = engine, .mem = mem,
						       .mem_len = mem_len, .repeat = 1 };
			struct cli_run_result res;
			if (cli_run_program(&req, &res) == 0) {
				printf("%" PRIx64 "\n", res.r0);
				status = CLI_OK;
			} else {
				cli_format_run_error(&res, err, sizeof(err));
				cli_error("stdin: %s", err);
			}
		}
	}
	if (prog)
		comb_prog_free(prog);
	if (vm)
		comb_vm_free(vm);
	cli_program_free(&program);
	cli_buffer_free(&input);
	free(code);
	free(mem);
	return status;
}

int cmd_conformance_plugin(int argc, char **argv)
{
	enum comb_engine engine = COMB_ENGINE_CHECKED;
	char *mem_text = NULL;
	int status = plugin_args(argc, argv, &engine, &mem_text);
	if (status)
		return status;
	status = plugin_run(mem_text, engine);
	free(mem_text);
	return status;
}
