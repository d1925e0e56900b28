/* tests/kernel/kernel_bpf.h - the Linux kernel as an oracle, through libbpf.
 *
 * A thin layer over bpf(2) for the differential tests and the benchmark:
 * load raw instructions (struct comb_insn has the layout of struct bpf_insn)
 * or a program from a clang-built object as an XDP program, and run it with
 * BPF_PROG_TEST_RUN. Nothing is ever pinned or attached; every fd handed out
 * belongs to the caller, who closes it with kernel_bpf_close().
 *
 * All functions return 0 or a negative errno. kernel_bpf_probe() tells
 * whether bpf() may be used at all, so that callers can skip with a reason.
 * Also the pass/fail tally the kernel suites print (tests/run.sh reads it).
 */
#ifndef COMB_TESTS_KERNEL_BPF_H
#define COMB_TESTS_KERNEL_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "comb/isa.h"

/* Smallest packet an XDP test run accepts (an Ethernet header). */
#define KERNEL_BPF_XDP_MIN_DATA 14

/* 0 if bpf() can load and run an XDP program here; otherwise a negative
 * errno and a human-readable reason in reason (e.g. "bpf() not permitted"). */
int kernel_bpf_probe(char *reason, size_t reason_len);

/* True for the errors meaning "bpf() is unavailable to us" rather than
 * "this program was rejected": EPERM and ENOSYS. (The verifier rejects with
 * EINVAL or EACCES; kernel_bpf_probe() also counts EACCES on its trivial
 * program as a denial.) */
bool kernel_bpf_is_denied(int err);

/* Load count slots of raw instructions as an XDP program named name.
 * On success *fd is the program fd. On failure, the verifier log (if any)
 * is written to log (may be NULL) and a negative errno is returned. */
int kernel_bpf_load_insns(const struct comb_insn *insns, size_t count, const char *name,
			  int *fd, char *log, size_t log_len);

/* Open and load a clang-built object and return (a duplicate of) the fd of
 * the program whose function name or section name is prog_name. The object
 * itself is closed before returning. */
int kernel_bpf_load_object(const char *path, const char *prog_name, int *fd, char *err,
			   size_t err_len);

/* Verify the program whose function name is prog_name in the object at
 * path, alone (the others are not loaded), its log at log_level into log,
 * and unload it again. false when the object cannot be opened or has no
 * such program; else *rc is bpf_object__load's result and *err errno after
 * it. libbpf's printing is left as the caller set it. */
bool kernel_bpf_verify_program(const char *path, const char *prog_name, uint32_t log_level, char *log,
			       size_t log_len, int *rc, int *err);

/* One BPF_PROG_TEST_RUN: run the program repeat times (0 counts as 1) on a
 * copy of data. *retval is the program's (32-bit) return value and
 * *duration_ns (may be NULL) the kernel's average time per run. */
int kernel_bpf_test_run(int fd, const void *data, size_t data_len, uint32_t repeat,
			uint32_t *retval, uint32_t *duration_ns);

/* One BPF_PROG_TEST_RUN (run once) that also hands back the packet as the
 * program left it: out (room for *out_len bytes) receives it and *out_len
 * its length; *retval is the program's return value. */
int kernel_bpf_test_run_packet(int fd, const void *data, size_t data_len, void *out, size_t *out_len,
			       uint32_t *retval);

/* Close a program fd (ignores negative fds). */
void kernel_bpf_close(int fd);

/* The counts a kernel suite ends with ("NAME: N passed, N failed"). */
struct kernel_tally {
	int passed, failed;
	bool verbose; /* print passing checks too */
};

/* Count one check: a failure prints "FAIL test: why", a pass "PASS test"
 * when verbose. */
void kernel_tally_report(struct kernel_tally *t, bool ok, const char *test, const char *why);

#endif
