/* tools/comb/cmd_disasm.c - `comb disasm FILE [--prog NAME] [--syntax llvm|conformance] [--jit]`.
 *
 * llvm syntax mimics `llvm-objdump -d`: the slot index right-aligned in 8
 * columns and a colon, a tab, the raw bytes (16 for an LDDW), a tab, the
 * text. Conformance syntax prints only the text, one assembler line per
 * instruction, which `comb asm` turns back into the same bytes.
 *
 * An ELF object is loaded first, so what is shown is what runs: each
 * program's relocated instructions (entry function, then the subprograms it
 * calls), under a `<name>:` heading, with the BTF line_info source lines
 * interleaved as `; ...` comments before the instructions they cover, like
 * `llvm-objdump -S` and `bpftool prog dump xlated linum`.
 *
 * With --jit the program is also compiled (raw programs are loaded into a
 * VM for that) and each BPF instruction is followed by the x86-64 code the
 * JIT made for it, decoded by Zydis: offset in the code, bytes, Intel
 * syntax, with jump targets as code offsets. The entry stub and the shared
 * error exits come first.
 */
#include <string.h>
#include <Zydis/Zydis.h>

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

/* "; file.c:42: text", without the trailing ": " when the object's BTF
 * has no source text (objects built from preprocessed sources). */
static void print_source_line(const char *line)
{
	size_t len = strlen(line);
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len && line[len - 1] == ':')
		len--;
	printf("; %.*s\n", (int)len, line);
}

/* The native code of a program, when --jit asked for it. */
struct native_code {
	const uint8_t *bytes;
	size_t size;
	const uint32_t *offsets; /* per instruction slot, count + 1 */
	uint32_t *ends;          /* where each slot's code ends (native_code_ends) */
};

/* Decode and print the x86-64 instructions in [from, to) of the code. */
static void print_native_range(const struct native_code *native, size_t from, size_t to)
{
	ZydisDisassembledInstruction insn;
	while (from < to) {
		char hex[64] = "";
		size_t len = 1;
		const char *text = "(bad)";
		if (ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64, from,
						       native->bytes + from, to - from, &insn))) {
			len = insn.info.length;
			text = insn.text;
		}
		for (size_t i = 0; i < len && i < 15; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", native->bytes[from + i]);
		printf("\t\t%5zx:  %-33s%s\n", from, hex, text);
		from += len;
	}
}

static int native_code_of(const char *where, const struct comb_prog *prog, struct native_code *native)
{
	if (comb_prog_jit_code(prog, &native->bytes, &native->size, &native->offsets))
		return cli_error("%s: the JIT does not compile this program (it runs in the "
				 "interpreter), so there is no native code to show", where);
	printf("; native code: %zu bytes; entry stub and shared exits:\n", native->size);
	print_native_range(native, 0, native->offsets[0]);
	return CLI_OK;
}

struct slot_start {
	uint32_t offset, idx;
};

static int by_place(const void *a, const void *b)
{
	const struct slot_start *x = a, *y = b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Where each slot's code ends: where the slot after it in the code starts.
 * The JIT may lay a cold block out after all other code, so that is not
 * always the next slot's offset. */
static int native_code_ends(struct native_code *native, size_t count)
{
	struct slot_start *order = calloc(count ? count : 1, sizeof(*order));
	native->ends = calloc(count ? count : 1, sizeof(*native->ends));
	if (!order || !native->ends) {
		free(order);
		free(native->ends);
		native->ends = NULL;
		return cli_error("disasm: out of memory");
	}
	for (size_t i = 0; i < count; i++)
		order[i] = (struct slot_start){ native->offsets[i], (uint32_t)i };
	qsort(order, count, sizeof(*order), by_place);
	for (size_t k = 0; k < count; k++)
		native->ends[order[k].idx] = k + 1 < count ? order[k + 1].offset : native->offsets[count];
	free(order);
	return CLI_OK;
}

/* Source line of insn idx of an object's program, NULL for raw programs. */
typedef const char *(*line_fn)(const void *source, size_t idx);

static int print_program(const char *path, const struct cli_program *prog,
			 enum comb_syntax syntax, line_fn line_of, const void *source,
			 const struct comb_prog *jitted)
{
	char text[256], last_line[1024] = "";
	struct native_code native = { 0 };
	if (jitted && (native_code_of(path, jitted, &native) || native_code_ends(&native, prog->count)))
		return CLI_ERROR;
	for (size_t idx = 0; idx < prog->count;) {
		/* The line may live in a buffer the next call reuses: keep a copy
		 * so that a line repeated by consecutive records prints once. */
		const char *line = line_of ? line_of(source, idx) : NULL;
		if (line && strncmp(line, last_line, sizeof(last_line) - 1) != 0) {
			snprintf(last_line, sizeof(last_line), "%s", line);
			print_source_line(last_line);
		}
		int slots = comb_disasm_insn(prog->insns, prog->count, idx, syntax, text,
					     sizeof(text));
		if (slots < 1 || (size_t)slots > prog->count - idx) {
			fflush(stdout);
			free(native.ends);
			return cli_error("%s: insn %zu: cannot decode: %s", path, idx,
					 text[0] ? text : "invalid instruction");
		}
		if (syntax == COMB_SYNTAX_LLVM)
			print_llvm_line(prog, idx, slots, text);
		else
			printf("%s\n", text);
		if (jitted)
			print_native_range(&native, native.offsets[idx], native.ends[idx + (size_t)slots - 1]);
		idx += (size_t)slots;
	}
	free(native.ends);
	return fflush(stdout) ? cli_error("disasm: cannot write to standard output") : CLI_OK;
}

struct object_prog_ref {
	const struct comb_object *obj;
	size_t index;
};

static const char *object_line(const void *source, size_t idx)
{
	const struct object_prog_ref *ref = source;
	return comb_object_prog_line(ref->obj, ref->index, idx);
}

static int print_object_prog(const char *path, const struct comb_object *obj, size_t index,
			     enum comb_syntax syntax, bool jit)
{
	struct comb_object_prog_info info;
	const struct comb_prog *loaded = comb_object_prog(obj, index);
	if (comb_object_prog_info(obj, index, &info) || !loaded)
		return cli_error("%s: program %zu was not loaded", path, index);
	/* The instructions belong to the program: borrow them, do not free. */
	struct cli_program view = { .insns = (struct comb_insn *)comb_prog_insns(loaded),
				    .count = comb_prog_insn_count(loaded) };
	struct object_prog_ref ref = { .obj = obj, .index = index };
	char where[512];
	snprintf(where, sizeof(where), "%s: program %s", path, info.name);
	if (syntax == COMB_SYNTAX_LLVM)
		printf("%s<%s>: section %s\n", index ? "\n" : "", info.name, info.section);
	else
		printf("%s; %s: section %s\n", index ? "\n" : "", info.name, info.section);
	/* The native code as it runs: verified, it is compiled again without
	 * the checks the verifier proved unneeded (its facts). */
	struct comb_verify_result res;
	if (jit && comb_verify_object_prog(obj, index, NULL, &res) != 0)
		printf("; not verified (%s): native code with every check\n", res.message);
	return print_program(where, &view, syntax, object_line, &ref, jit ? loaded : NULL);
}

static int disasm_object(const char *path, const struct cli_buffer *buf, const char *prog_name,
			 enum comb_syntax syntax, bool jit)
{
	struct cli_object o;
	if (cli_open_object(path, buf, true, &o))
		return CLI_ERROR;
	int status = CLI_OK;
	size_t index;
	if (prog_name) {
		status = cli_pick_object_prog(path, o.obj, prog_name, &index) ? CLI_ERROR :
			 print_object_prog(path, o.obj, index, syntax, jit);
	} else {
		size_t count = comb_object_prog_count(o.obj);
		if (count == 0)
			status = cli_error("%s: the object has no programs", path);
		for (size_t i = 0; i < count && status == CLI_OK; i++)
			status = print_object_prog(path, o.obj, i, syntax, jit);
	}
	cli_object_close(&o);
	return status;
}

/* A single program: loaded into a VM first when its native code is wanted. */
static int disasm_single(const char *input, const struct cli_program *prog, enum comb_syntax syntax,
			 bool jit)
{
	if (!jit)
		return print_program(input, prog, syntax, NULL, NULL, NULL);
	struct comb_vm *vm;
	struct comb_prog *loaded;
	if (cli_load_vm_prog(input, prog, &vm, &loaded))
		return CLI_ERROR;
	int status = print_program(input, prog, syntax, NULL, NULL, loaded);
	comb_prog_free(loaded);
	comb_vm_free(vm);
	return status;
}

static int disasm_file(const char *input, const char *prog_name, enum comb_syntax syntax, bool jit)
{
	struct cli_buffer buf;
	if (cli_read_file(input, &buf))
		return CLI_ERROR;
	int status = CLI_ERROR;
	struct cli_program prog;
	if (cli_detect_format(input, &buf) == CLI_PROG_ELF) {
		status = disasm_object(input, &buf, prog_name, syntax, jit);
	} else if (prog_name) {
		status = cli_error("%s: --prog selects a program of an ELF object; this is a single "
				   "program", input);
	} else if (cli_program_from_buffer(input, &buf, &prog) == 0) {
		status = disasm_single(input, &prog, syntax, jit);
		cli_program_free(&prog);
	}
	cli_buffer_free(&buf);
	return status;
}

int cmd_disasm(int argc, char **argv)
{
	const char *input = NULL, *prog_name = NULL;
	enum comb_syntax syntax = COMB_SYNTAX_LLVM;
	bool jit = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--jit") == 0) {
			jit = true;
		} else if (strcmp(argv[i], "--syntax") == 0 || strncmp(argv[i], "--syntax=", 9) == 0) {
			const char *value = argv[i][8] == '=' ? argv[i] + 9 : NULL;
			if (!value && ++i >= argc)
				return cli_usage_error("disasm", "--syntax needs llvm or conformance");
			if (!value)
				value = argv[i];
			if (parse_syntax(value, &syntax))
				return cli_usage_error("disasm",
						       "unknown syntax '%s' (use llvm or conformance)",
						       value);
		} else if (strcmp(argv[i], "--prog") == 0 || strncmp(argv[i], "--prog=", 7) == 0) {
			if (argv[i][6] == '=')
				prog_name = argv[i] + 7;
			else if (++i < argc)
				prog_name = argv[i];
			else
				return cli_usage_error("disasm", "--prog needs a program name");
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
	return disasm_file(input, prog_name, syntax, jit);
}
