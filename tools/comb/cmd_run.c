/* tools/comb/cmd_run.c - `comb run PROG [--prog NAME] [--mem HEX | --mem-file F] ...`.
 *
 * PROG is assembly, raw instructions or an ELF object. Every program is
 * verified before it runs (an object's programs as its sections say, an
 * assembly or raw program as --type, socket_filter by default), and a
 * rejection prints the verifier's message and exits 1. A verified program
 * runs as its type runs: for packet types (xdp, socket filter, sched_cls/act,
 * cgroup_skb) the memory is the packet the context points to, exactly as
 * BPF_PROG_TEST_RUN's data_in (comb_prog_test_run; an assembly or raw
 * program without --mem gets a zeroed Ethernet header); other types get r1 = a copy of the memory zero-padded to
 * the largest context the verifier lets them read. The engine is the JIT
 * (COMB_ENGINE_DEFAULT for verified programs) unless --engine says otherwise.
 *
 * --no-verify skips the verifier and runs in the checked interpreter only,
 * which bounds every access: r1 = a private copy of the memory, r2 = its
 * length (any program type that is not a packet type). --repeat N times N
 * runs; --json prints one object for scripts, with the engine that ran.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_REPEAT 100000000ull
#define PACKET_GROWTH 4096 /* room for bpf_xdp_adjust_tail() and friends */

/* Kernel program type numbers (enum bpf_prog_type) of the packet types. */
enum {
	BPF_PROG_SOCKET_FILTER = 1, BPF_PROG_SCHED_CLS = 3, BPF_PROG_SCHED_ACT = 4,
	BPF_PROG_XDP = 6, BPF_PROG_CGROUP_SKB = 8,
};
/* r1's buffer for a verified non-packet program: at least the largest
 * context the verifier describes (a tracepoint record, 8 KiB), so every
 * context read it allowed stays inside the buffer. */
#define VERIFIED_CONTEXT_BYTES 8192
#define ETH_HEADER_BYTES 14

struct run_args {
	const char *prog_path;
	const char *prog_name; /* --prog, for objects */
	const char *mem_hex;
	const char *mem_file;
	enum comb_engine engine;
	uint64_t repeat;
	bool repeat_given;
	bool json;
	bool no_verify;
	const char *type_name; /* --type, for assembly and raw programs */
	uint32_t prog_type;
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
			return cli_usage_error("run", "--engine takes interp, checked or jit");
	} else if ((m = cli_option_value(argc, argv, i, "--repeat", &value)) != 0) {
		if (m < 0 || cli_parse_count(value, 1, MAX_REPEAT, &a->repeat))
			return cli_usage_error("run", "--repeat takes a count from 1 to %llu, not '%s'",
					       MAX_REPEAT, m < 0 ? "" : value);
		a->repeat_given = true;
	} else if ((m = cli_option_value(argc, argv, i, "--prog", &value)) != 0) {
		if (m < 0)
			return cli_usage_error("run", "--prog needs a program name");
		a->prog_name = value;
	} else if ((m = cli_option_value(argc, argv, i, "--type", &value)) != 0) {
		if (m < 0 || cli_parse_prog_type(value, &a->prog_type))
			return cli_usage_error("run", "--type takes a program type (e.g. xdp, "
					       "socket_filter, sched_cls, kprobe), not '%s'",
					       m < 0 ? "" : value);
		a->type_name = value;
	} else if (strcmp(argv[*i], "--json") == 0) {
		a->json = true;
	} else if (strcmp(argv[*i], "--no-verify") == 0) {
		a->no_verify = true;
	} else {
		return -1;
	}
	return CLI_OK;
}

static int parse_run_args(int argc, char **argv, struct run_args *a)
{
	*a = (struct run_args){ .engine = COMB_ENGINE_DEFAULT, .repeat = 1,
				.prog_type = BPF_PROG_SOCKET_FILTER };
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
	if (a->no_verify && a->engine != COMB_ENGINE_DEFAULT && a->engine != COMB_ENGINE_CHECKED)
		return cli_usage_error("run", "--no-verify runs only in the checked interpreter; "
				       "drop --engine %s or verify the program",
				       cli_engine_name(a->engine));
	if (a->no_verify)
		a->engine = COMB_ENGINE_CHECKED;
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

/* The engine a run of prog used: the one asked for, or DEFAULT's choice. */
static enum comb_engine engine_used(const struct run_args *a, const struct comb_prog *prog)
{
	return a->engine == COMB_ENGINE_DEFAULT ? comb_prog_default_engine(prog) : a->engine;
}

static void print_result(const struct run_args *a, const struct comb_prog *prog,
			 const struct cli_run_result *res)
{
	if (a->json) {
		printf("{\"r0\": \"0x%" PRIx64 "\", \"runs\": %" PRIu64 ", \"ns_per_run\": %" PRIu64
		       ", \"engine\": \"%s\", \"verified\": %s}\n",
		       res->r0, a->repeat, res->ns_per_run, cli_engine_name(engine_used(a, prog)),
		       comb_prog_verified(prog) ? "true" : "false");
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
	if (comb_prog_verified(prog))
		req.min_mem = VERIFIED_CONTEXT_BYTES;
	struct cli_run_result res;
	if (cli_run_program(&req, &res)) {
		char msg[400];
		cli_format_run_error(&res, msg, sizeof(msg));
		return cli_error("%s: %s", a->prog_path, msg);
	}
	print_result(a, prog, &res);
	return CLI_OK;
}

static bool is_packet_prog_type(uint32_t type)
{
	switch (type) {
	case BPF_PROG_SOCKET_FILTER:
	case BPF_PROG_SCHED_CLS:
	case BPF_PROG_SCHED_ACT:
	case BPF_PROG_XDP:
	case BPF_PROG_CGROUP_SKB:
		return true;
	default:
		return false;
	}
}

/* A packet program through comb_prog_test_run, as BPF_PROG_TEST_RUN would. */
static int test_run_packet(const struct run_args *a, const char *prog_name,
			   const struct comb_prog *prog, uint32_t prog_type, const uint8_t *mem,
			   size_t mem_len)
{
	size_t out_cap = mem_len + PACKET_GROWTH;
	uint8_t *out = malloc(out_cap);
	if (!out)
		return cli_error("%s: out of memory", a->prog_path);
	struct comb_test_run_opts opts = {
		.sz = sizeof(opts), .prog_type = prog_type, .engine = a->engine,
		.data_in = mem, .data_size_in = mem_len, .data_out = out, .data_size_out = out_cap,
		.repeat = (uint32_t)a->repeat,
	};
	opts.error.insn = -1;
	int rc = comb_prog_test_run(prog, &opts);
	free(out);
	if (rc) {
		struct cli_run_result res = { .error = opts.error, .status = rc };
		char msg[400];
		if (!res.error.message[0])
			snprintf(res.error.message, sizeof(res.error.message), "test run failed: %s",
				 strerror(-rc));
		cli_format_run_error(&res, msg, sizeof(msg));
		return cli_error("%s: program %s: %s", a->prog_path, prog_name, msg);
	}
	struct cli_run_result res = { .r0 = opts.retval, .ns_per_run = opts.duration_ns };
	print_result(a, prog, &res);
	return CLI_OK;
}

static int run_object(const struct run_args *a, const struct cli_buffer *buf, const uint8_t *mem,
		      size_t mem_len)
{
	struct cli_object o;
	if (a->type_name)
		return cli_usage_error("run", "--type is for assembly and raw programs; an object's "
				       "program types come from its section names");
	if (cli_open_object_to_run(a->prog_path, buf, !a->no_verify, &o))
		return CLI_ERROR;
	size_t index;
	struct comb_object_prog_info info;
	int status = CLI_ERROR;
	if (cli_pick_object_prog(a->prog_path, o.obj, a->prog_name, &index) == 0 &&
	    comb_object_prog_info(o.obj, index, &info) == 0) {
		const struct comb_prog *prog = comb_object_prog(o.obj, index);
		if (!prog)
			cli_error("%s: program %s was not loaded", a->prog_path, info.name);
		else if (is_packet_prog_type(info.prog_type))
			status = test_run_packet(a, info.name, prog, info.prog_type, mem, mem_len);
		else
			status = run_loaded(a, prog, mem, mem_len);
	}
	cli_object_close(&o);
	return status;
}

/* An assembly or raw program: verified as --type and run as that type runs,
 * or (--no-verify) in the checked engine with r1 = memory, r2 = length. */
static int run_raw(const struct run_args *a, struct comb_prog *prog, const uint8_t *mem,
		   size_t mem_len)
{
	if (a->no_verify)
		return run_loaded(a, prog, mem, mem_len);
	if (cli_verify_prog(a->prog_path, prog, a->prog_type))
		return CLI_ERROR;
	static const uint8_t zero_header[ETH_HEADER_BYTES];
	if (is_packet_prog_type(a->prog_type) && !mem_len) /* `comb run answer.s` */
		return test_run_packet(a, a->prog_path, prog, a->prog_type, zero_header,
				       sizeof(zero_header));
	if (is_packet_prog_type(a->prog_type))
		return test_run_packet(a, a->prog_path, prog, a->prog_type, mem, mem_len);
	return run_loaded(a, prog, mem, mem_len);
}

static int run_program_file(const struct run_args *a, const struct cli_buffer *buf,
			    const uint8_t *mem, size_t mem_len)
{
	struct cli_program program;
	struct comb_vm *vm = NULL;
	struct comb_prog *prog = NULL;
	int status = CLI_ERROR;
	if (cli_program_from_buffer(a->prog_path, buf, &program) == 0) {
		if (cli_load_vm_prog(a->prog_path, &program, &vm, &prog) == 0)
			status = run_raw(a, prog, mem, mem_len);
		cli_program_free(&program);
	}
	if (prog)
		comb_prog_free(prog);
	if (vm)
		comb_vm_free(vm);
	return status;
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
	struct cli_buffer buf;
	status = CLI_ERROR;
	if (cli_read_file(a.prog_path, &buf) == 0) {
		if (cli_detect_format(a.prog_path, &buf) == CLI_PROG_ELF)
			status = run_object(&a, &buf, mem, mem_len);
		else if (a.prog_name)
			status = cli_error("%s: --prog selects a program of an ELF object; this is a "
					   "single program", a.prog_path);
		else
			status = run_program_file(&a, &buf, mem, mem_len);
		cli_buffer_free(&buf);
	}
	free(mem);
	return status;
}
