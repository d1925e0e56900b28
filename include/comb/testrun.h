/* comb/testrun.h - run a program once on an input, as BPF_PROG_TEST_RUN does.
 *
 * For packet program types (xdp, socket_filter, sched_cls/sched_act,
 * cgroup_skb) data_in is the packet: comb builds the context the program type
 * expects (struct xdp_md or struct __sk_buff as linux/bpf.h declares them)
 * around a copy of it, runs the program and copies the packet, as the program
 * left it, to data_out. For other types ctx_in is the context, passed as is.
 */
#ifndef COMB_TESTRUN_H
#define COMB_TESTRUN_H

#include <stddef.h>
#include <stdint.h>
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct comb_test_run_opts {
	size_t sz;              /* sizeof(struct comb_test_run_opts) */
	uint32_t prog_type;     /* kernel BPF_PROG_TYPE_* */
	enum comb_engine engine;
	const void *data_in;    /* packet types: the packet */
	size_t data_size_in;
	void *data_out;         /* may be NULL */
	size_t data_size_out;   /* in: capacity; out: the packet's length after the run */
	const void *ctx_in;     /* other types: the context (may be NULL) */
	size_t ctx_size_in;
	uint32_t repeat;        /* 0 or 1: once */
	/* Out. */
	uint64_t retval;
	uint64_t duration_ns;   /* mean per run */
	struct comb_run_error error;
};

/* Returns 0, or a negative errno: -EINVAL (bad options, packet too short or
 * too long), -ENOTSUP (program type has no test run), or the run's error. */
int comb_prog_test_run(const struct comb_prog *prog, struct comb_test_run_opts *opts);

#ifdef __cplusplus
}
#endif
#endif
