/* tools/comb/runner.c - load and run a program the way the CLI does.
 *
 * One VM per program with the CLI's helpers. A run gets r1 = a private copy
 * of the memory and r2 = its length (0 and 0 without memory), like the
 * conformance suite; the copy is registered as a writable region so the
 * checked engine allows it. With repeat > 1 the memory is restored before
 * every run and the whole loop is timed (CLOCK_MONOTONIC), so ns_per_run
 * includes that copy. A run may ask for the copy to be zero-padded to a
 * minimum size (a verified program may read its whole context through r1).
 * cli_verify_prog proves a program safe before it runs (comb_prog_verify).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "comb/verifier.h"

int cli_try_load_vm_prog(const char *where, const struct cli_program *program,
			 struct comb_vm **vm, struct comb_prog **prog, char *err, size_t err_len)
{
	struct comb_vm_opts vm_opts = { .sz = sizeof(vm_opts) };
	struct comb_prog_opts prog_opts = { .sz = sizeof(prog_opts), .name = where };
	*vm = NULL;
	*prog = NULL;
	err[0] = 0;
	int rc = comb_vm_new(&vm_opts, vm);
	if (rc) {
		snprintf(err, err_len, "cannot create a VM: %s", strerror(-rc));
		return rc;
	}
	rc = comb_prog_load(*vm, program->insns, program->count, &prog_opts, prog, err,
				    err_len);
	if (rc) {
		if (!err[0])
			snprintf(err, err_len, "cannot load the program: %s", strerror(-rc));
		comb_vm_free(*vm);
		*vm = NULL;
		*prog = NULL;
	}
	return rc;
}

int cli_load_vm_prog(const char *where, const struct cli_program *program, struct comb_vm **vm,
		     struct comb_prog **prog)
{
	char err[512];
	int rc = cli_try_load_vm_prog(where, program, vm, prog, err, sizeof(err));
	if (rc)
		cli_error("%s: %s", where, err);
	return rc;
}

int cli_verify_prog(const char *where, struct comb_prog *prog, uint32_t prog_type)
{
	struct comb_verify_opts opts = { .sz = sizeof(opts), .prog_type = prog_type };
	struct comb_verify_result res;
	int rc = comb_prog_verify(prog, &opts, &res);
	if (rc)
		cli_error("%s: verifier: %s", where, res.message[0] ? res.message : strerror(-rc));
	return rc;
}

int cli_parse_prog_type(const char *name, uint32_t *type)
{
	for (uint32_t t = 1; t < 64; t++) {
		const char *n = comb_prog_type_name(t);
		if (n && strcmp(n, name) == 0) {
			*type = t;
			return 0;
		}
	}
	return -EINVAL;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int cli_run_program(const struct cli_run_request *req, struct cli_run_result *res)
{
	memset(res, 0, sizeof(*res));
	uint8_t *copy = NULL;
	size_t size = req->mem_len > req->min_mem ? req->mem_len : req->min_mem;
	if (size) {
		copy = calloc(1, size);
		if (!copy) {
			snprintf(res->error.message, sizeof(res->error.message), "out of memory");
			res->error.insn = -1;
			return res->status = -ENOMEM;
		}
		memcpy(copy, req->mem, req->mem_len);
	}
	struct comb_region region = { .addr = (uintptr_t)copy, .size = size,
				      .writable = true };
	struct comb_run_opts opts = {
		.sz = sizeof(opts),
		.engine = req->engine,
		.args = { (uintptr_t)copy, req->mem_len },
		.packet = copy,
		.packet_len = req->mem_len,
		.regions = copy ? &region : NULL,
		.region_count = copy ? 1 : 0,
		.error = &res->error,
	};
	res->error.insn = -1;
	uint64_t start = monotonic_ns();
	int rc = 0;
	for (uint64_t i = 0; i < req->repeat && rc == 0; i++) {
		if (i > 0 && copy)
			memcpy(copy, req->mem, req->mem_len);
		rc = comb_prog_run(req->prog, &opts, &res->r0);
	}
	res->ns_per_run = (monotonic_ns() - start) / req->repeat;
	free(copy);
	if (rc && !res->error.message[0])
		snprintf(res->error.message, sizeof(res->error.message), "run failed: %s",
			 strerror(-rc));
	return res->status = rc;
}

void cli_format_run_error(const struct cli_run_result *res, char *buf, size_t len)
{
	const char *msg = res->error.message;
	if (res->error.insn < 0 || strncmp(msg, "insn ", 5) == 0)
		snprintf(buf, len, "%s", msg);
	else
		snprintf(buf, len, "insn %ld: %s", res->error.insn, msg);
}
