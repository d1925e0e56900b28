/* src/helpers/time_helpers.c - clocks, random numbers, the current CPU.
 *
 * ktime_get_ns is CLOCK_MONOTONIC (as the kernel's), ktime_get_boot_ns
 * CLOCK_BOOTTIME, ktime_get_coarse_ns CLOCK_MONOTONIC_COARSE.
 * get_prandom_u32 is a per-thread xorshift generator seeded from getrandom()
 * (per thread like the kernel's per-CPU state, so runs never contend; not
 * for cryptography, as in the kernel). get_smp_processor_id is sched_getcpu().
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/random.h>
#include <time.h>

#include "helpers/helpers.h"

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t helper_ktime_get_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				    struct comb_call_ctx *cc)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static uint64_t helper_ktime_get_boot_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
					 struct comb_call_ctx *cc)
{
	return clock_ns(CLOCK_BOOTTIME);
}

static uint64_t helper_ktime_get_coarse_ns(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					   uint64_t r5, struct comb_call_ctx *cc)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

static __thread uint64_t prandom_state;

static uint64_t helper_get_prandom_u32(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	uint64_t x = prandom_state;
	if (!x) {
		if (getrandom(&x, sizeof(x), 0) != sizeof(x) || !x)
			x = clock_ns(CLOCK_MONOTONIC) | 1;
	}
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	prandom_state = x;
	return (uint32_t)(x >> 32);
}

static uint64_t helper_get_smp_processor_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					    uint64_t r5, struct comb_call_ctx *cc)
{
	int cpu = sched_getcpu();
	return cpu < 0 ? 0 : (uint32_t)cpu;
}

int comb_register_time_helpers(struct comb_vm *vm)
{
	static const struct {
		uint32_t id;
		const char *name;
		comb_helper_fn fn;
	} table[] = {
		{ HELPER_KTIME_GET_NS, "ktime_get_ns", helper_ktime_get_ns },
		{ HELPER_GET_PRANDOM_U32, "get_prandom_u32", helper_get_prandom_u32 },
		{ HELPER_GET_SMP_PROCESSOR_ID, "get_smp_processor_id", helper_get_smp_processor_id },
		{ HELPER_KTIME_GET_BOOT_NS, "ktime_get_boot_ns", helper_ktime_get_boot_ns },
		{ HELPER_KTIME_GET_COARSE_NS, "ktime_get_coarse_ns", helper_ktime_get_coarse_ns },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int rc = comb_vm_register_helper(vm, table[i].id, table[i].name, table[i].fn);
		if (rc)
			return rc;
	}
	return 0;
}
