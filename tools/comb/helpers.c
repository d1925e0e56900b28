/* tools/comb/helpers.c - helpers the CLI gives programs.
 *
 * libcomb will grow its own helper library; until then the CLI registers the
 * few helpers the conformance suite assumes: id 5 (ktime_get_ns, kernel
 * numbering), which call_unwind_fail.data and callx.data call.
 */
#include <time.h>

#include "cli.h"

enum { HELPER_KTIME_GET_NS = 5 };

static uint64_t helper_ktime_get_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				    uint64_t r5, struct comb_call_ctx *cc)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int cli_register_helpers(struct comb_vm *vm)
{
	return comb_vm_register_helper(vm, HELPER_KTIME_GET_NS, "ktime_get_ns",
				       helper_ktime_get_ns);
}
