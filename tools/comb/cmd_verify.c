/* tools/comb/cmd_verify.c - `comb verify FILE [--prog NAME] [--type T] [--log-level N]`.
 *
 * Verifies every program of an ELF object (loaded and relocated first, so
 * map references resolve to the object's maps), or one program given as
 * assembly or raw instructions, and prints one line per program:
 *     PASS xdp_prog  insns 1234  0.412 ms
 *     FAIL bad_prog  insns 17  0.010 ms: insn 12: ...: why
 * With --log-level 1 the rejected program's state follows; with 2 a trace of
 * every explored instruction. Exit status 1 if any program fails.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "comb/verifier.h"

#define LOG_SIZE (1u << 20)

struct verify_args {
	const char *path, *prog, *type;
	int log_level;
};

static int parse_args(int argc, char **argv, struct verify_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if ((r = cli_option_value(argc, argv, &i, "--prog", &v)) != 0) {
			if (r < 0)
				return cli_usage_error("verify", "--prog needs a name");
			a->prog = v;
		} else if ((r = cli_option_value(argc, argv, &i, "--type", &v)) != 0) {
			if (r < 0)
				return cli_usage_error("verify", "--type needs a program type");
			a->type = v;
		} else if ((r = cli_option_value(argc, argv, &i, "--log-level", &v)) != 0) {
			if (r < 0 || (strcmp(v, "0") && strcmp(v, "1") && strcmp(v, "2")))
				return cli_usage_error("verify", "--log-level takes 0, 1 or 2");
			a->log_level = v[0] - '0';
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error("verify", "unknown option '%s'", argv[i]);
		} else if (!a->path) {
			a->path = argv[i];
		} else {
			return cli_usage_error("verify", "more than one file");
		}
	}
	if (!a->path)
		return cli_usage_error("verify", "no file to verify");
	return CLI_OK;
}

static int parse_type(const char *name, uint32_t *type)
{
	for (uint32_t t = 0; t < 64; t++) {
		const char *n = comb_prog_type_name(t);
		if (n && strcmp(n, name) == 0) {
			*type = t;
			return 0;
		}
	}
	return -EINVAL;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Verify one program and print its line; true if it passed. */
static bool verify_one(const char *name, const struct comb_object *obj, size_t index,
		       const struct comb_insn *insns, size_t count, uint32_t type, int log_level,
		       char *log)
{
	struct comb_verify_opts opts = { .sz = sizeof(opts), .prog_type = type,
					 .log_level = log_level,
					 .log_buf = log_level ? log : NULL,
					 .log_size = log_level ? LOG_SIZE : 0 };
	struct comb_verify_result res;
	double t0 = now_ms();
	/* An object's program is verified with what the object knows: its
	 * attach target (typed contexts) and source lines. */
	int rc = obj ? comb_verify_object_prog(obj, index, &opts, &res) : comb_verify(insns, count, &opts, &res);
	double ms = now_ms() - t0;
	if (log_level && log[0])
		fputs(log, stdout);
	if (rc == 0)
		printf("PASS %s  insns %llu  %.3f ms\n", name, (unsigned long long)res.insns_processed, ms);
	else
		printf("FAIL %s  insns %llu  %.3f ms: %s\n", name,
		       (unsigned long long)res.insns_processed, ms, res.message);
	return rc == 0;
}

static int verify_object(const struct verify_args *a, const struct cli_buffer *buf, char *log,
			 bool has_type, uint32_t type)
{
	struct cli_object o;
	if (cli_open_object(a->path, buf, true, &o))
		return CLI_ERROR;
	const struct comb_object *obj = o.obj;
	size_t n = comb_object_prog_count(obj);
	bool all_ok = true, found = false;
	for (size_t i = 0; i < n; i++) {
		struct comb_object_prog_info info;
		comb_object_prog_info(obj, i, &info);
		if (a->prog && strcmp(a->prog, info.name) != 0 && strcmp(a->prog, info.section) != 0)
			continue;
		found = true;
		all_ok &= verify_one(info.name, obj, i, NULL, 0, has_type ? type : info.prog_type,
				     a->log_level, log);
	}
	cli_object_close(&o);
	if (!found)
		return cli_error("%s: no program named '%s'", a->path, a->prog);
	return all_ok ? CLI_OK : CLI_ERROR;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_args a;
	int rc = parse_args(argc, argv, &a);
	if (rc != CLI_OK)
		return rc;
	uint32_t type = 1; /* socket_filter */
	if (a.type && parse_type(a.type, &type))
		return cli_usage_error("verify", "unknown program type '%s' (e.g. xdp, socket_filter, "
				       "sched_cls, kprobe)", a.type);
	struct cli_buffer buf;
	if (cli_read_file(a.path, &buf))
		return CLI_ERROR;
	char *log = malloc(LOG_SIZE);
	if (!log) {
		cli_buffer_free(&buf);
		return cli_error("out of memory");
	}
	log[0] = 0;
	if (cli_detect_format(a.path, &buf) == CLI_PROG_ELF) {
		rc = verify_object(&a, &buf, log, a.type != NULL, type);
	} else {
		struct cli_program prog;
		rc = cli_program_from_buffer(a.path, &buf, &prog) ? CLI_ERROR : CLI_OK;
		if (rc == CLI_OK) {
			rc = verify_one(a.path, NULL, 0, prog.insns, prog.count, type, a.log_level, log)
				     ? CLI_OK : CLI_ERROR;
			cli_program_free(&prog);
		}
	}
	free(log);
	cli_buffer_free(&buf);
	return rc;
}
