/* src/maps/owner_lock.h - the map lock (owner_lock.c): a futex word that
 * names its holder (thread id and start time), in shared memory; taken
 * over when the holder died. Also the thread identity and liveness test it
 * is built on, which bpf_spin_lock (src/helpers/lock_helpers.c) uses too. */
#ifndef COMB_MAPS_OWNER_LOCK_H
#define COMB_MAPS_OWNER_LOCK_H

#include <stdbool.h>
#include <stdint.h>

struct owner_lock {
	uint64_t word; /* 0, or (stamp << 32) | WAITERS | tid of the holder */
};

void owner_lock_init(struct owner_lock *lock);
/* Take the lock; true when it was taken over from a holder that died (the
 * data it guards may need repair). */
bool owner_lock_acquire(struct owner_lock *lock);
void owner_lock_release(struct owner_lock *lock);

/* The calling thread's id (cached per thread, recomputed in a fork()'s
 * child); never 0. */
uint32_t owner_thread_id(void);
/* Has the thread tid exited? stamp is its start time as a lock word keeps
 * it (0: unknown). With a stamp, a zombie, or a live thread with another
 * start time (the id was reused), counts as exited; without, only an id
 * that names no thread. */
bool owner_thread_is_dead(uint32_t tid, uint32_t stamp);

/* One pause in a spin loop (lets the sibling hyper-thread run). */
static inline void owner_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

#endif
