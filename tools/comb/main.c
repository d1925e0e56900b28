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
	  "comb disasm FILE [--prog NAME] [--syntax llvm|conformance] [--jit]",
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
	  "                        into the same bytes; jumps as +N/-N offsets\n"
	  "  --jit                 after each instruction, the x86-64 code the JIT made\n"
	  "                        for it (offset, bytes, Intel syntax; via Zydis)\n" },
	{ "run", cmd_run, "verify a program, run it and print r0",
	  "comb run PROG [--prog NAME] [--type T] [--mem HEX | --mem-file F] "
	  "[--engine interp|checked|jit] [--no-verify] [--repeat N] [--json]",
	  "Verify PROG (.s assembly, .bin raw instructions or an ELF object), run it\n"
	  "and print r0 in hex. A program the verifier rejects does not run: its\n"
	  "message (instruction, source line, why) is printed and the exit status is 1.\n"
	  "\n"
	  "An ELF object is loaded (maps and global data created, relocated, every\n"
	  "program verified) and one of its programs runs: --prog NAME, or the only\n"
	  "one. Assembly and raw programs are verified as --type (socket_filter by\n"
	  "default). For packet types (xdp, socket, tc, cgroup_skb) the memory is the\n"
	  "packet, exactly as BPF_PROG_TEST_RUN's data_in (an assembly or raw program\n"
	  "without memory gets a zeroed Ethernet header); other types get r1 = a copy\n"
	  "of the memory, zero-padded to the largest context they may read.\n"
	  "\n"
	  "With --no-verify nothing is verified and the program runs only in the\n"
	  "checked interpreter: every memory access is checked and a run is bounded;\n"
	  "r1 points to a private copy of the memory and r2 holds its length (both 0\n"
	  "without memory), as in the conformance suite.\n"
	  "\n"
	  "  --prog NAME       the object's program (function or section name)\n"
	  "  --type T          program type of an assembly or raw program (xdp,\n"
	  "                    socket_filter, sched_cls, kprobe, ...)\n"
	  "  --mem HEX         memory as hex bytes (\"00 01 ff\" or \"0001ff\")\n"
	  "  --mem-file F      memory from the bytes of file F\n"
	  "  --engine E        jit (default for verified programs; native x86-64 code),\n"
	  "                    interp (threaded interpreter) or checked\n"
	  "  --no-verify       skip the verifier; checked engine only\n"
	  "  --repeat N        run N times (1..100000000); also print `ns_per_run: X`\n"
	  "  --json            print one JSON object: r0, runs, ns_per_run, engine, verified\n"
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
	  "       comb map dump NAME|PIN [--json] [--hex]\n"
	  "       comb map lookup NAME|PIN KEY [--json] [--hex|--typed]\n"
	  "       comb map update NAME|PIN KEY VALUE [--flags any|noexist|exist] [--hex|--typed]\n"
	  "       comb map delete NAME|PIN KEY [--hex|--typed]\n"
	  "       comb map freeze NAME|PIN",
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
	  "(per-CPU maps: one value per CPU), then `Found N elements` (maps without\n"
	  "BTF, or --hex; typed entries below); --json as\n"
	  "`bpftool -j map dump`. KEY and VALUE are hex bytes: 0a000001, '0a 00 00 01',\n"
	  "0x0a,0x00; or bpftool's `key [hex] B... value [hex] B... [FLAG]`. Sizes must\n"
	  "match key_size and value_size; for a per-CPU map one VALUE sets every CPU\n"
	  "(or give one value per CPU).\n"
	  "\n"
	  "Typed entries: maps made by the loader keep their object's BTF with the\n"
	  "pin. dump and lookup then print as bpftool does for maps with BTF (an\n"
	  "indented JSON document; --json adds \"formatted\" next to the hex bytes),\n"
	  "and KEY/VALUE may be JSON for the key and value types: 5, -1, \"ENUM_NAME\",\n"
	  "'{\"saddr\": 167772161, \"port\": 80}' (members not given are 0), '[1, 2]',\n"
	  "'\"text\"' for char arrays, '{\"var\": 1}' for global data. A KEY or VALUE\n"
	  "that is exactly the right number of hex bytes (00000005) is hex, anything\n"
	  "else JSON (JSON numbers have no leading zeros). --hex: bytes in and out,\n"
	  "as without BTF; --typed: KEY and VALUE are JSON.\n"
	  "\n"
	  "freeze: as `bpftool map freeze`, the map can no longer be changed from\n"
	  "user space (programs still write it); the loader freezes .rodata itself.\n" },
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
	{ "xdp", cmd_xdp, "run an XDP program over a pcap or a live interface",
	  "comb xdp FILE.o [--prog NAME] (--pcap IN.pcap | --iface IF [--bridge IF2] | --tap NAME | "
	  "--xsk IF [--queue N]) [--out-pass P] [--out-tx T] [--out-drop D] [--out-aborted A] "
	  "[--out-redirect DIR] [--verdicts FILE] [--json] [--pin-maps DIR] [--fib FILE] "
	  "[--engine E] [--no-verify] [--records MAP[:STRUCT]] [--count N] [--duration S]",
	  "Load FILE.o (maps reused from or pinned in --pin-maps DIR; without it\n"
	  "LIBBPF_PIN_BY_NAME maps under comb's pin directory, as libbpf does) and run\n"
	  "its XDP program (--prog NAME, or the only one) on every packet of IN.pcap\n"
	  "(pcap or pcapng, Ethernet) or of a live source. Each packet, as the program\n"
	  "left it, goes to its verdict's output, with the input's timestamps:\n"
	  "\n"
	  "  --out-pass/--out-tx/--out-drop/--out-aborted FILE   pcap per verdict\n"
	  "  --out-redirect DIR  one pcap per redirect target: ifindex-N.pcap for\n"
	  "                      bpf_redirect, MAPNAME-KEY.pcap for bpf_redirect_map\n"
	  "  --verdicts FILE     one line per packet: INDEX ACTION LEN (index from 0,\n"
	  "                      ABORTED|DROP|PASS|TX|REDIRECT, length after the program)\n"
	  "  --json              the summary as one JSON object\n"
	  "  --fib FILE          static routes for bpf_fib_lookup\n"
	  "  --engine E          jit (default), interp or checked\n"
	  "  --no-verify         run unverified, in the checked engine\n"
	  "  --records MAP[:STRUCT]  print each record of ring buffer MAP as it arrives:\n"
	  "                      field=value ... laid over BTF struct STRUCT (__be32 as\n"
	  "                      IPv4, __be16 in host order, 16-byte *addr*/*ip6* arrays\n"
	  "                      as IPv6, char arrays as text; JSON with --json), or\n"
	  "                      SIZE: HEX without STRUCT. Records are read after every\n"
	  "                      packet of a pcap and every 100 ms of a live run, on\n"
	  "                      stdout (the summary comes last), e.g. --records\n"
	  "                      events:flow_record (examples/flow-monitor)\n"
	  "  --count N           stop after N packets\n"
	  "  --duration S        how long a live run lasts (default: until SIGINT)\n"
	  "\n"
	  "Live sources (root; each verdict does what it would with the program\n"
	  "attached to the arrival interface):\n"
	  "  --iface IF          AF_PACKET next to the kernel's stack: PASS is left to\n"
	  "                      the stack, DROP only counted, TX goes back out of IF\n"
	  "  --iface IF --bridge IF2  comb bridges IF and IF2 (both promiscuous, no\n"
	  "                      addresses): PASS forwards to the other side, DROP drops,\n"
	  "                      TX goes back out of the arrival side\n"
	  "  --tap NAME          frames the host sends into the TAP run the program; TX\n"
	  "                      writes them back in; PASS and DROP end there\n"
	  "  --iface IF --tap NAME  inline: frames from IF run the program, PASS goes\n"
	  "                      into the TAP (put the host's address on NAME), TX back\n"
	  "                      out of IF; what the host sends into NAME leaves by IF\n"
	  "  --xsk IF [--queue N]  AF_XDP on queue N (libxdp's program, native mode if\n"
	  "                      the driver has it, detached on exit): TX on the socket,\n"
	  "                      PASS is written into --tap NAME if given\n"
	  "REDIRECT to an ifindex or a DEVMAP entry leaves by that interface; a devmap\n"
	  "broadcast (BPF_F_BROADCAST) by every entry's, less the arrival interface with\n"
	  "BPF_F_EXCLUDE_INGRESS (on a pcap: a copy in each entry's MAPNAME-KEY.pcap);\n"
	  "XSKMAP and CPUMAP targets are counted as not delivered. What each port\n"
	  "received and sent is printed on stderr at the end.\n"
	  "\n"
	  "The summary gives packets and bytes per verdict and packets/s. A packet\n"
	  "the program cannot run on (shorter than 14 bytes, a failed checked run) is\n"
	  "counted as ABORTED with a message. A corrupted or truncated capture stops\n"
	  "the run with an error naming the packet; the packets before it are\n"
	  "processed and written (exit status 1).\n" },
	{ "load", cmd_load, "load and verify an object, pin its maps, exit",
	  "comb load FILE.o [--pin-maps DIR] [--json]",
	  "Load FILE.o (verified as every load is) and pin its maps so that a control\n"
	  "plane can fill them before traffic starts (`comb map update DIR/NAME ...`,\n"
	  "then `comb xdp FILE.o --pin-maps DIR ...` reuses them). With --pin-maps\n"
	  "every map but global data is reused from DIR/NAME when pinned there with\n"
	  "the same definition (a different one is an error naming the field), or\n"
	  "created and pinned there; without it only LIBBPF_PIN_BY_NAME maps, under\n"
	  "comb's pin directory. Prints one line per map: pinned|reused|private NAME\n"
	  "TYPE PATH (--json: one object).\n" },
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
