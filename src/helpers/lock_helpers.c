/* src/helpers/lock_helpers.c - bpf_spin_lock and bpf_spin_unlock.
 *
 * struct bpf_spin_lock is 4 bytes inside a map value; since map values live
 * in the map's storage (shared memory when the map is shared), a plain
 * atomic word is a lock that works across threads and processes alike:
 * 0 free, 1 held. Taking it spins with a CPU pause and yields to the
 * scheduler after a while (a user-space holder can be preempted, unlike the
 * kernel's, which runs with preemption off). The kernel's verifier makes
 * sure a program releases every lock it takes, so no owner is recorded.
 * Both helpers return 0. The checked engine requires the 4 bytes to be
 * writable memory of the run (-EFAULT otherwise).
 */
#include <errno.h>
#include <sched.h>

#include "helpers/helpers.h"

#define SPINS_BEFORE_YIELD 256

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

void comb_spin_lock(uint32_t *lock)
{
	for (unsigned spins = 0;; spins++) {
		uint32_t expected = 0;
		if (__atomic_load_n(lock, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(lock, &expected, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		if (spins >= SPINS_BEFORE_YIELD)
			sched_yield();
		else
			cpu_relax();
	}
}

void comb_spin_unlock(uint32_t *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

static uint64_t helper_spin_lock(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				 struct comb_call_ctx *cc)
{
	uint32_t *lock = (uint32_t *)(uintptr_t)r1;
	if (comb_call_check_mem(cc, lock, sizeof(*lock), true) || (r1 & 3))
		return (uint64_t)-EFAULT;
	comb_spin_lock(lock);
	return 0;
}

static uint64_t helper_spin_unlock(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				   struct comb_call_ctx *cc)
{
	uint32_t *lock = (uint32_t *)(uintptr_t)r1;
	if (comb_call_check_mem(cc, lock, sizeof(*lock), true) || (r1 & 3))
		return (uint64_t)-EFAULT;
	comb_spin_unlock(lock);
	return 0;
}

int comb_register_lock_helpers(struct comb_vm *vm)
{
	int rc = comb_vm_register_helper(vm, HELPER_SPIN_LOCK, "spin_lock", helper_spin_lock);
	if (!rc)
		rc = comb_vm_register_helper(vm, HELPER_SPIN_UNLOCK, "spin_unlock", helper_spin_unlock);
	return rc;
}
