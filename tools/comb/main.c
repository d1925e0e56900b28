/* tools/comb/main.c - the comb command: dispatch and help.
 *
 * `comb CMD ARGS...` looks CMD up in one table that also holds each
 * command's usage and help text, so `comb help`, `comb help CMD` and
 * `comb CMD --help` all print from the same place. Subcommands live in
 * cmd_*.c and return the exit status (0 ok, 1 error, 2 usage).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_command commands[] = {
	{ "asm", cmd_asm, "assemble conformance-syntax assembly into raw instructions",
	  "comb asm IN.s [-o OUT.bin]",
	  "Assemble IN.s (the BPF conformance suite's syntax: `mov32 %r0, 1`,\n"
	  "`ldxb %r0, [%r1+2]`, `jeq %r1, 3, +2`, labels) into raw little-endian\n"
	  "8-byte instruction slots. IN.s may be - for standard input.\n"
	  "\n"
	  "  -o, --output FILE  write the instructions to FILE (- is stdout)\n"
	  "\n"
	  "Without -o the bytes go to standard output, unless it is a terminal.\n" },
	{ "disasm", cmd_disasm, "print the instructions of a program",
	  "comb disasm FILE [--prog NAME] [--syntax llvm|conformance]",
	  "Disassemble FILE: raw instructions (.bin), assembly (.s, assembled first)\n"
	  "or an ELF object (.o). An object is loaded first and each program (or\n"
	  "only --prog NAME) is shown as it runs: relocated, its subprograms\n"
	  "appended, with the source lines from BTF line_info as `; ...` comments\n"
	  "before the instructions they cover.\n"
	  "\n"
	  "  --prog NAME           only the object's program NAME (function or section)\n"
	  "  --syntax llvm         (default) llvm-objdump style: index, raw bytes, text:\n"
	  "                             0:\tb7 01 00 00 01 00 00 00\tr1 = 0x1\n"
	  "  --syntax conformance  plain assembler lines that `comb asm` turns back\n"
	  "                        into the same bytes; jumps as +N/-N offsets\n" },
	{ "run", cmd_run, "run a program and print r0",
	  "comb run PROG [--prog NAME] [--mem HEX | --mem-file F] [--engine interp|checked|jit] "
	  "[--repeat N] [--json]",
	  "Run PROG (.s assembly, .bin raw instructions or an ELF object) and print\n"
	  "r0 in hex. For assembly and raw programs r1 points to a private copy of\n"
	  "the memory and r2 holds its length (both 0 without memory), as in the\n"
	  "conformance suite.\n"
	  "\n"
	  "An ELF object is loaded (maps and global data created, relocated) and\n"
	  "one of its programs runs: --prog NAME, or the only one. For packet types\n"
	  "(xdp, socket, tc, cgroup_skb) the memory is the packet, exactly as\n"
	  "BPF_PROG_TEST_RUN's data_in; other types get r1 = a copy of the memory.\n"
	  "\n"
	  "  --prog NAME       the object's program (function or section name)\n"
	  "  --mem HEX         memory as hex bytes (\"00 01 ff\" or \"0001ff\")\n"
	  "  --mem-file F      memory from the bytes of file F\n"
	  "  --engine E        checked (default: every memory access is checked and\n"
	  "                    a run is bounded) or interp (fast; trusts the program)\n"
	  "  --repeat N        run N times (1..100000000); also print `ns_per_run: X`\n"
	  "  --json            print one JSON object: r0, runs, ns_per_run, engine\n"
	  "\n"
	  "comb's built-in helpers (maps, time, trace_printk) are available to programs.\n" },
	{ "conformance", cmd_conformance, "run a directory of BPF conformance tests",
	  "comb conformance DIR [--engine interp|checked|jit] [--verbose]",
	  "Run every *.data file in DIR (sorted by name). Prints `PASS name` or\n"
	  "`FAIL name: why` per file and `N passed, N failed` last; exits 1 if\n"
	  "any test failed.\n"
	  "\n"
	  "  --engine E   checked (default), interp or jit\n"
	  "  --verbose    also print r0 of passing tests and the disassembly of\n"
	  "               failing ones\n" },
	{ "conformance-plugin", cmd_conformance_plugin,
	  "act as a plugin of the original bpf_conformance runner",
	  "comb conformance-plugin [MEM_HEX...] [--engine E] [options...]",
	  "Read a program as hex bytes from standard input (one line), take the\n"
	  "memory from the non-option arguments (hex bytes, one or several\n"
	  "arguments), run it and print r0 in hex (no 0x prefix) on standard output.\n"
	  "Other --options are accepted and ignored. Engine default: checked.\n" },
	{ "btf", cmd_btf, "print the BTF types of an object or of the kernel",
	  "comb btf dump FILE [--format raw|c]",
	  "Load the BTF of FILE (an ELF object's .BTF section, or raw BTF such as\n"
	  "/sys/kernel/btf/vmlinux), validate it and print it.\n"
	  "\n"
	  "  --format raw  (default) one line per type, as `bpftool btf dump file F`\n"
	  "  --format c    C declarations, as `bpftool btf dump file F format c`\n" },
	{ "prog", cmd_prog, "list the programs of an ELF object",
	  "comb prog list FILE.o [--json]",
	  "Open FILE.o (clang -target bpf output) and print one line per program,\n"
	  "in the order libbpf lists them:\n"
	  "\n"
	  "  INDEX: TYPE  name NAME  section SECTION  insns N\n"
	  "\n"
	  "N counts the entry function's instructions (subprograms not included).\n"
	  "\n"
	  "  --json  one JSON array: index, name, section, type, type_id,\n"
	  "          expected_attach_type, insns\n" },
	{ "map", cmd_map, "list the maps of an object; pin, dump and edit pinned maps",
	  "comb map list FILE.o [--json]\n"
	  "       comb map list --pinned [DIR] [--json]\n"
	  "       comb map pin FILE.o [--dir DIR] [--force] [NAME...]\n"
	  "       comb map dump NAME|PIN [--json]\n"
	  "       comb map lookup NAME|PIN KEY [--json]\n"
	  "       comb map update NAME|PIN KEY VALUE [--flags any|noexist|exist]\n"
	  "       comb map delete NAME|PIN KEY",
	  "list FILE.o: one line per map, global data included (.data, .rodata,\n"
	  ".bss, .kconfig as single-entry arrays):\n"
	  "\n"
	  "  INDEX: TYPE  name NAME  key KB  value VB  max_entries N  flags 0xF\n"
	  "\n"
	  "  --json  one JSON array: index, name, type, type_id, key_size,\n"
	  "          value_size, max_entries, flags, map_extra, pinning,\n"
	  "          inner_map (-1 if none), global_data\n"
	  "\n"
	  "list --pinned [DIR]: the maps pinned in DIR (default: the pin directory,\n"
	  "/run/comb for root, $XDG_RUNTIME_DIR/comb otherwise), PIN: TYPE  name ...\n"
	  "\n"
	  "pin: load FILE.o (maps created, global data filled) and pin its maps, or\n"
	  "the NAMEd ones, as DIR/NAME. An existing pin is never overwritten without\n"
	  "--force, and never when it is not a comb map.\n"
	  "\n"
	  "NAME is a map pinned in the pin directory; PIN (a word with a '/') is the\n"
	  "path of a pinned map. dump prints every entry as `bpftool map dump` does\n"
	  "(per-CPU maps: one value per CPU), then `Found N elements`; --json as\n"
	  "`bpftool -j map dump`. KEY and VALUE are hex bytes: 0a000001, '0a 00 00 01',\n"
	  "0x0a,0x00; or bpftool's `key [hex] B... value [hex] B... [FLAG]`. Sizes must\n"
	  "match key_size and value_size; for a per-CPU map one VALUE sets every CPU\n"
	  "(or give one value per CPU). Pinned maps keep no BTF: values are hex only.\n" },
	{ "ringbuf", cmd_ringbuf, "print a pinned ring buffer's records as they come",
	  "comb ringbuf PIN [--json] [--count N]",
	  "Open the pinned RINGBUF map PIN and print each record as it arrives,\n"
	  "until interrupted or N records were printed: SIZE: HEX, or with --json\n"
	  "one {\"size\": N, \"data\": \"HEX\"} object per line. Producers in other\n"
	  "processes wake it through the FIFO PIN.wake.\n" },
	{ "verify", cmd_verify, "prove programs safe, as the kernel's verifier does",
	  "comb verify FILE.o|PROG.s|PROG.bin [--prog NAME] [--type T] [--log-level 0|1|2]",
	  "Verify every program of FILE.o (or only --prog NAME), or the program in\n"
	  "PROG.s / PROG.bin, and print one line per program:\n"
	  "\n"
	  "  PASS NAME  insns N  T ms          (N: instructions explored)\n"
	  "  FAIL NAME  insns N  T ms: insn I: DISASSEMBLY: why, and the usual fix\n"
	  "\n"
	  "  --prog NAME      only this program (function or section name)\n"
	  "  --type T         program type (xdp, socket_filter, sched_cls, kprobe, ...);\n"
	  "                   objects: overrides the section's; others: default socket_filter\n"
	  "  --log-level N    1: the rejected instruction's register state; 2: also a\n"
	  "                   trace of every explored instruction\n"
	  "\n"
	  "Exit status 1 if any program fails.\n" },
	{ "help", NULL, "show help for comb or one command", "comb help [CMD]",
	  "Without CMD list the commands; with CMD show its options.\n" },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

const struct cli_command *cli_find_command(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void cli_print_command_help(const struct cli_command *cmd, FILE *out)
{
	fprintf(out, "usage: %s\n\n%s - %s\n\n%s", cmd->usage, cmd->name, cmd->summary,
		cmd->help);
}

int cli_help_for(const char *name)
{
	cli_print_command_help(cli_find_command(name), stdout);
	return CLI_OK;
}

int cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("comb: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_ERROR;
}

int cli_usage_error(const char *name, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "comb: %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	const struct cli_command *cmd = cli_find_command(name);
	fprintf(stderr, "\nusage: %s\nTry 'comb help %s' for more.\n", cmd ? cmd->usage : "comb",
		name);
	return CLI_USAGE;
}

int cli_option_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*value = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != 0)
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

int cli_parse_engine(const char *name, enum comb_engine *engine)
{
	if (strcmp(name, "interp") == 0)
		*engine = COMB_ENGINE_INTERP;
	else if (strcmp(name, "checked") == 0)
		*engine = COMB_ENGINE_CHECKED;
	else if (strcmp(name, "jit") == 0)
		*engine = COMB_ENGINE_JIT;
	else
		return -EINVAL;
	return 0;
}

const char *cli_engine_name(enum comb_engine engine)
{
	return engine == COMB_ENGINE_INTERP ? "interp" : engine == COMB_ENGINE_JIT ? "jit" : "checked";
}

static void print_overview(FILE *out)
{
	fprintf(out, "usage: comb COMMAND [ARGS...]\n\n"
		     "comb %s - eBPF in user space.\n\nCommands:\n", COMB_VERSION);
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %-19s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun 'comb help COMMAND' or 'comb COMMAND --help' for details.\n"
		     "Exit status: 0 success, 1 error, 2 usage error.\n");
}

static int cmd_help(int argc, char **argv)
{
	if (argc == 1) {
		print_overview(stdout);
		return CLI_OK;
	}
	if (argc > 2)
		return cli_usage_error("help", "too many arguments");
	const struct cli_command *cmd = cli_find_command(argv[1]);
	if (!cmd)
		return cli_usage_error("help", "unknown command '%s'", argv[1]);
	cli_print_command_help(cmd, stdout);
	return CLI_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_overview(stderr);
		return CLI_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
		return cmd_help(1, argv + 1);
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		printf("comb %s\n", COMB_VERSION);
		return CLI_OK;
	}
	const struct cli_command *cmd = cli_find_command(name);
	if (!cmd) {
		fprintf(stderr, "comb: unknown command '%s'; run 'comb help' for the list\n", name);
		return CLI_USAGE;
	}
	if (!cmd->run)
		return cmd_help(argc - 1, argv + 1);
	for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return cli_help_for(cmd->name);
	return cmd->run(argc - 1, argv + 1);
}
