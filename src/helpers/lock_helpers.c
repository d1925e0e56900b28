/* src/helpers/lock_helpers.c - bpf_spin_lock and bpf_spin_unlock.
 *
 * struct bpf_spin_lock is 4 bytes inside a map value; since map values live
 * in the map's storage (shared memory when the map is shared), a plain
 * atomic word is a lock that works across threads and processes alike:
 * 0 free, else the holder's thread id. Taking it spins with a CPU pause and
 * yields to the scheduler after a while (a user-space holder can be
 * preempted, unlike the kernel's, which runs with preemption off). The
 * kernel's verifier makes sure a program never takes a lock it holds; for
 * programs nobody verified, taking a lock the same thread holds answers
 * -EDEADLK instead of waiting forever, and a lock word naming a thread that
 * does not exist is taken over (thread ids and that test: the map lock's,
 * src/maps/owner_lock.h). The checked engine requires the 4
 * bytes to be writable memory of the run (-EFAULT otherwise).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>

#include "helpers/helpers.h"
#include "maps/owner_lock.h"

#define SPINS_BEFORE_YIELD 256

int comb_spin_lock(uint32_t *lock)
{
	uint32_t me = owner_thread_id();
	for (unsigned spins = 0;; spins++) {
		uint32_t expected = 0;
		uint32_t seen = __atomic_load_n(lock, __ATOMIC_RELAXED);
		if (seen == me)
			return -EDEADLK;
		if (seen == 0 &&
		    __atomic_compare_exchange_n(lock, &expected, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return 0;
		if (spins < SPINS_BEFORE_YIELD) {
			owner_cpu_relax();
			continue;
		}
		/* A holder that no longer exists (it died holding the lock, or
		 * an unverified program wrote the lock word) never unlocks:
		 * take the lock over rather than wait forever. */
		if (owner_thread_is_dead(seen, 0) &&
		    __atomic_compare_exchange_n(lock, &seen, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return 0;
		sched_yield();
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
	return (uint64_t)(int64_t)comb_spin_lock(lock);
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
