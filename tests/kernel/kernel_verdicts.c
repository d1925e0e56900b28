/* tests/kernel/kernel_verdicts.c - comb's verifier against the kernel's, on
 * the corpus tests/progs/verify_*.bpf.c.
 *
 * For every program of every DIR/verify_*.bpf.o the object is opened by
 * libbpf with only that program set to load, and the kernel's verdict
 * (loaded or rejected) is compared with comb_verify_object_prog's on the
 * same program loaded by comb's loader (tracing programs typed by their
 * section's target). The name says what both must say:
 * safe_* programs are accepted, unsafe_* rejected. When bpf() is denied only
 * comb's verdicts are checked against the names.
 *
 * widen_* (verify_widen.bpf.c): loops too long for the kernel, which must
 * reject them for its complexity limit, while comb accepts them by widening
 * its loop heads; each then runs in comb's checked engine (which checks
 * every access and counts instructions) and in the JIT on a 64-byte packet
 * and must end without a fault. unsafe_widen_* (and unproven_widen_*, safe
 * but beyond what widening can prove) must be rejected for the reason
 * widen_reasons gives.
 *
 * Output: one line per disagreement, then `kernel-verdicts: N passed, N failed`.
 * `kernel-verdicts -v DIR` also prints both messages for every program.
 */
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "comb/comb.h"
#include "kernel_bpf.h"

#define ENOTSUPP_ 524 /* the kernel's ENOTSUPP */

static int passed, failed;

/* What comb must say about each unsafe_widen_* program. */
static const struct {
	const char *prog, *words;
} widen_reasons[] = {
	{ "unsafe_widen_oob_late", "found with the loops widened" },
	{ "unsafe_widen_index_grows", "the access may reach byte 72" },
	{ "unsafe_widen_index_grows_late", "the access may reach byte 80 of the value of map widen_vals, which has 64 bytes: check the index against the size first (found with the loops widened" },
	{ "unsafe_widen_counter_reset", "infinite loop" },
	{ "unsafe_widen_counter_reset_data", "could not be proven to end" },
	{ "unsafe_widen_counter_wraps", "may wrap around" },
	{ "unsafe_widen_step_zero", "infinite loop" },
	{ "unsafe_widen_step_zero_data", "could not be proven to end" },
	{ "unsafe_widen_bound_not_constant", "may wrap around" },
	{ "unsafe_widen_bound_u32", "allows up to 4294967296 iterations" },
	{ "unsafe_widen_bound_some_paths", "may wrap around" },
	{ "unproven_widen_relational", "the access may reach byte 72" },
};

static const char *widen_reason(const char *prog)
{
	for (size_t i = 0; i < sizeof(widen_reasons) / sizeof(widen_reasons[0]); i++)
		if (strcmp(widen_reasons[i].prog, prog) == 0)
			return widen_reasons[i].words;
	return NULL;
}

/* The kernel gave up for its complexity, not for a fault it found. */
static bool kernel_gave_up(const char *log)
{
	return strstr(log, "BPF program is too large") || strstr(log, "is too complex") ||
	       strstr(log, "infinite loop detected");
}

/* A widened program runs in the checked engine (every access checked, an
 * instruction budget) and, proven safe, in the JIT with the verifier's
 * facts, without a fault: NULL, or why not. */
static const char *widened_runs(struct comb_object *obj, size_t index)
{
	static char why[300];
	static const enum comb_engine engines[] = { COMB_ENGINE_CHECKED, COMB_ENGINE_JIT };
	uint8_t packet[64];
	for (size_t i = 0; i < sizeof(packet); i++)
		packet[i] = (uint8_t)(i * 7);
	for (size_t e = 0; e < sizeof(engines) / sizeof(engines[0]); e++) {
		struct comb_test_run_opts o = { .sz = sizeof(o), .prog_type = BPF_PROG_TYPE_XDP,
						.engine = engines[e], .data_in = packet,
						.data_size_in = sizeof(packet) };
		int rc = comb_prog_test_run(comb_object_prog(obj, index), &o);
		if (rc != 0 || o.retval != XDP_PASS) {
			snprintf(why, sizeof(why), "%s run: rc %d, r0 %llu: %s", comb_engine_name(engines[e]), rc,
				 (unsigned long long)o.retval, o.error.message);
			return why;
		}
	}
	return NULL;
}

static bool verbose, kernel_ok = true;

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* 1 accepted, 0 rejected, -1 could not tell (open failed). */
static int kernel_verdict(const char *path, const char *prog_name, char *log, size_t log_len)
{
	int rc, err;
	if (!kernel_bpf_verify_program(path, prog_name, 1, log, log_len, &rc, &err))
		return -1;
	/* Refused before any verification (e.g. fentry where the kernel has
	 * no trampolines: EPERM, empty log): the kernel cannot tell. */
	if (rc && log[0] == 0 && (err == EPERM || err == EOPNOTSUPP || err == ENOTSUPP_))
		return -1;
	return rc == 0 ? 1 : 0;
}

/* The kernel's reason: the last line of its log that is not statistics. */
static const char *last_line(const char *log)
{
	size_t n = strlen(log);
	for (;;) {
		while (n > 0 && log[n - 1] == '\n')
			n--;
		size_t start = n;
		while (start > 0 && log[start - 1] != '\n')
			start--;
		if (start == 0 || (strncmp(log + start, "processed ", 10) != 0 &&
				   strncmp(log + start, "verification time", 17) != 0 &&
				   strncmp(log + start, "stack depth", 11) != 0))
			break;
		n = start;
	}
	const char *end = log + n;
	const char *p = end;
	while (p > log && p[-1] != '\n')
		p--;
	static char buf[256];
	snprintf(buf, sizeof(buf), "%.*s", (int)(end - p), p);
	return buf;
}

static void check_object(const char *path)
{
	static char log[1 << 20];
	char err[512];
	struct comb_object *obj;
	struct comb_vm *vm;
	if (comb_object_open_file(path, NULL, &obj, err, sizeof(err)) || comb_vm_new(NULL, &vm)) {
		printf("FAIL %s: comb cannot open it: %s\n", path, err);
		failed++;
		return;
	}
	/* Verified below, one program at a time, to report every verdict. */
	comb_object_set_verify(obj, false);
	if (comb_object_load(obj, vm, err, sizeof(err))) {
		printf("FAIL %s: comb cannot load it: %s\n", path, err);
		failed++;
		comb_object_close(obj);
		comb_vm_free(vm);
		return;
	}
	for (size_t i = 0; i < comb_object_prog_count(obj); i++) {
		struct comb_object_prog_info info;
		comb_object_prog_info(obj, i, &info);
		bool want = strncmp(info.name, "safe_", 5) == 0;
		struct comb_verify_result res;
		/* comb_verify_object_prog: the section gives tracing programs
		 * their target, so their context is typed by the kernel's BTF. */
		int comb_ok = comb_verify_object_prog(obj, i, NULL, &res) == 0;
		int kern = kernel_ok ? kernel_verdict(path, info.name, log, sizeof(log)) : -1;
		bool widen = strncmp(info.name, "widen_", 6) == 0;
		const char *reason = widen_reason(info.name), *trouble = NULL;
		bool agree = comb_ok == want && (kern < 0 || kern == want);
		if (widen) { /* comb accepts, the kernel gives up, the run ends */
			agree = comb_ok && (kern < 0 || (kern == 0 && kernel_gave_up(log)));
			if (agree && (trouble = widened_runs(obj, i)))
				agree = false;
		} else if (reason && !comb_ok && !strstr(res.message, reason)) {
			agree = false;
			trouble = reason;
		}
		if (verbose || !agree) {
			printf("%s %s: expected %s, comb %s, kernel %s\n", agree ? "ok  " : "FAIL", info.name,
			       want || widen ? "accept" : "reject", comb_ok ? "accepts" : "rejects",
			       kern < 0 ? "not asked" : kern ? "accepts" : "rejects");
			if (!comb_ok)
				printf("  comb:   %s\n", res.message);
			if (trouble)
				printf("  %s%s\n", reason ? "comb should say: " : "", trouble);
			if (kern == 0)
				printf("  kernel: %s\n", last_line(log));
		}
		if (agree)
			passed++;
		else
			failed++;
	}
	comb_object_close(obj);
	comb_vm_free(vm);
}

int main(int argc, char **argv)
{
	int a = 1;
	if (a < argc && strcmp(argv[a], "-v") == 0) {
		verbose = true;
		a++;
	}
	if (a >= argc) {
		fprintf(stderr, "usage: kernel-verdicts [-v] DIR  (DIR holds verify_*.bpf.o)\n");
		return 2;
	}
	libbpf_set_print(quiet_print);
	struct bpf_insn ret0[] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K }, { .code = BPF_JMP | BPF_EXIT } };
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "probe", "GPL", ret0, 2, NULL);
	if (fd < 0) {
		kernel_ok = false;
		printf("kernel-verdicts: kernel skipped: bpf() not permitted here (%s); checking comb only\n",
		       strerror(errno));
	} else {
		close(fd);
	}
	char pattern[4096];
	snprintf(pattern, sizeof(pattern), "%s/verify_*.bpf.o", argv[a]);
	glob_t g;
	if (glob(pattern, 0, NULL, &g) != 0) {
		printf("FAIL no %s\nkernel-verdicts: 0 passed, 1 failed\n", pattern);
		return 1;
	}
	for (size_t i = 0; i < g.gl_pathc; i++)
		check_object(g.gl_pathv[i]);
	globfree(&g);
	printf("kernel-verdicts: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
