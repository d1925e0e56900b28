/* tools/comb/runner.c - load and run a program the way the CLI does.
 *
 * One VM per program with the CLI's helpers. A run gets r1 = a private copy
 * of the memory and r2 = its length (0 and 0 without memory), like the
 * conformance suite; the copy is registered as a writable region so the
 * checked engine allows it. With repeat > 1 the memory is restored before
 * every run and the whole loop is timed (CLOCK_MONOTONIC), so ns_per_run
 * includes that copy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

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
	if (req->mem_len) {
		copy = malloc(req->mem_len);
		if (!copy) {
			snprintf(res->error.message, sizeof(res->error.message), "out of memory");
			res->error.insn = -1;
			return res->status = -ENOMEM;
		}
		memcpy(copy, req->mem, req->mem_len);
	}
	struct comb_region region = { .addr = (uintptr_t)copy, .size = req->mem_len,
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
