/* tools/comb/cli.h - what the comb subcommands share.
 *
 * Every subcommand is a function `int cmd_X(int argc, char **argv)` that gets
 * its own argv (argv[0] is the subcommand name) and returns the process exit
 * status: CLI_OK, CLI_ERROR (bad input, failed run) or CLI_USAGE (bad command
 * line). Helpers here read files, parse hex, load programs and report errors
 * in one format: `comb: WHERE: message`.
 */
#ifndef COMB_CLI_H
#define COMB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <comb/comb.h>

enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

/* One subcommand: name, one-line summary, usage synopsis, long help. */
struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage;
	const char *help;
};

int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_conformance(int argc, char **argv);
int cmd_conformance_plugin(int argc, char **argv);
int cmd_btf(int argc, char **argv);
int cmd_prog(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_ringbuf(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_xdp(int argc, char **argv);
int cmd_load(int argc, char **argv);

/* main.c: look a command up by name (NULL if unknown) and print its help. */
const struct cli_command *cli_find_command(const char *name);
void cli_print_command_help(const struct cli_command *cmd, FILE *out);
/* For a subcommand's `--help`: print its help to stdout, return CLI_OK. */
int cli_help_for(const char *name);
/* For a bad command line: print "comb: CMD: message" and the usage to
 * stderr; returns CLI_USAGE. */
int cli_usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "comb: " + formatted message + newline on stderr; returns CLI_ERROR. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Match option `name` at argv[*i] as `name VALUE` or `name=VALUE`. Returns 1
 * with *value set (advancing *i past a separate value), 0 when argv[*i] is
 * another argument, -1 when the value is missing. */
int cli_option_value(int argc, char **argv, int *i, const char *name, const char **value);
/* "interp" or "checked" -> engine; 0 or -EINVAL. */
int cli_parse_engine(const char *name, enum comb_engine *engine);
const char *cli_engine_name(enum comb_engine engine);

/* progfile.c: whole files and programs. */
struct cli_buffer {
	uint8_t *data; /* always NUL-terminated (data[len] == 0) */
	size_t len;
};
/* Read a whole file ("-" is stdin). Prints the error and returns -errno. */
int cli_read_file(const char *path, struct cli_buffer *buf);
void cli_buffer_free(struct cli_buffer *buf);

enum cli_prog_format { CLI_PROG_ASM, CLI_PROG_RAW, CLI_PROG_ELF };
/* Decide how a file holds a program: ELF magic, then the extension (.s/.asm,
 * .bin/.raw), then the content (text means assembly). */
enum cli_prog_format cli_detect_format(const char *path, const struct cli_buffer *buf);

struct cli_program {
	struct comb_insn *insns; /* malloc'd */
	size_t count;
};
/* Read and decode (assemble, or split raw bytes) the program in path.
 * Prints `comb: PATH: ...` on failure and returns -errno. */
int cli_load_program_file(const char *path, struct cli_program *prog);
/* Same for a file already read into buf (ELF objects are an error here). */
int cli_program_from_buffer(const char *path, const struct cli_buffer *buf,
			    struct cli_program *prog);
/* Assemble text; on failure prints `comb: WHERE: line L, column C: ...`. */
int cli_assemble(const char *where, const char *source, struct cli_program *prog);
/* Split raw little-endian instruction bytes into slots; on failure (empty,
 * size not a multiple of 8) prints `comb: WHERE: ...`. */
int cli_program_from_bytes(const char *where, const uint8_t *bytes, size_t len,
			   struct cli_program *prog);
void cli_program_free(struct cli_program *prog);
/* Encode one slot as the 8 little-endian bytes the kernel uses. */
void cli_insn_to_bytes(const struct comb_insn *insn, uint8_t out[8]);
void cli_insn_from_bytes(const uint8_t in[8], struct comb_insn *insn);
/* Encode one slot from the u64 form used by `-- raw` (opcode in the low byte). */
void cli_insn_from_u64(uint64_t word, struct comb_insn *insn);

/* progfile.c: ELF objects. A cli_object holds an opened object and, once
 * loaded, the VM its programs live in. */
struct cli_object {
	struct comb_object *obj;
	struct comb_vm *vm; /* NULL unless loaded */
};
/* Open the object read from path into buf; with load, also create a VM with
 * libcomb's helpers and load the object into it. Prints `comb: PATH: ...`
 * on failure and returns -errno. */
int cli_open_object(const char *path, const struct cli_buffer *buf, bool load,
		    struct cli_object *o);
/* Open and load the object to run its programs: with verify every program
 * is verified at load, and a rejection prints the verifier's message
 * (`comb: FILE: prog P (section S): verifier: insn N: ...`) and returns
 * -EACCES. cli_open_object loads without verifying (for inspection). */
int cli_open_object_to_run(const char *path, const struct cli_buffer *buf, bool verify,
			   struct cli_object *o);
void cli_object_close(struct cli_object *o);
/* Load an object opened without load (after the caller set pin options):
 * create the VM, verify (or not) and load. Prints `comb: PATH: ...` on
 * failure and returns -errno; the caller closes o. */
int cli_load_opened_object(const char *path, struct cli_object *o, bool verify);
/* The program called name, or (name NULL) the only program; an unknown name
 * or several programs without a name is an error listing the programs. */
int cli_pick_object_prog(const char *path, const struct comb_object *obj, const char *name,
			 size_t *index);
/* `comb prog|map list FILE [--json]` ("show" is accepted for list). */
struct cli_list_args {
	const char *path;
	bool json;
};
int cli_parse_list_args(const char *cmd, int argc, char **argv, struct cli_list_args *a);
/* Read path and open it (not loaded); CLI_OK or CLI_ERROR (printed). */
int cli_open_listed_object(const char *path, struct cli_object *o);
/* Print text as a JSON string literal (quotes and escapes included). */
void cli_print_json_string(FILE *out, const char *text);

/* hexmem.c: parse "00 01 ff", "0001ff" or "0x00 0x01" into bytes.
 * Returns 0, or -EINVAL with a message in err ("bad hex digit 'g' at
 * character 3"). *bytes is malloc'd (NULL when empty). */
int cli_parse_hex(const char *text, uint8_t **bytes, size_t *len, char *err, size_t err_len);
/* Parse a whole unsigned decimal number in [min, max]; 0 or -EINVAL. */
int cli_parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *value);

/* helpers.c: the helpers the CLI offers programs until libcomb has its own. */

/* runner.c: run a loaded program once on a private copy of mem. */
struct cli_run_request {
	const struct comb_prog *prog;
	enum comb_engine engine;
	const uint8_t *mem; /* may be NULL */
	size_t mem_len;
	uint64_t repeat; /* >= 1 */
	size_t min_mem;  /* r1's buffer is zero-padded to at least this many bytes */
};
struct cli_run_result {
	uint64_t r0;
	uint64_t ns_per_run;
	struct comb_run_error error; /* valid when cli_run_program fails */
	int status;                  /* comb_prog_run's return value */
};
int cli_run_program(const struct cli_run_request *req, struct cli_run_result *res);
/* Format a run error as "insn N: message" without repeating the prefix. */
void cli_format_run_error(const struct cli_run_result *res, char *buf, size_t len);
/* Create a VM with the CLI's helpers and load insns into it. On failure
 * prints `comb: WHERE: insn N: ...` and returns -errno. */
int cli_load_vm_prog(const char *where, const struct cli_program *program, struct comb_vm **vm,
		     struct comb_prog **prog);
/* Same without printing; the message goes to err. */
int cli_try_load_vm_prog(const char *where, const struct cli_program *program,
			 struct comb_vm **vm, struct comb_prog **prog, char *err, size_t err_len);
/* Verify a loaded program as prog_type (comb_prog_verify); on rejection
 * prints `comb: WHERE: verifier: insn N: ...` and returns -EACCES. */
int cli_verify_prog(const char *where, struct comb_prog *prog, uint32_t prog_type);
/* Kernel program type number for a name ("xdp", "socket_filter"); 0 or -EINVAL. */
int cli_parse_prog_type(const char *name, uint32_t *type);

#endif
