/* src/maps/owner_lock.h - the map lock (owner_lock.c): a futex word that
 * names its holder (thread id and start time), in shared memory; taken
 * over when the holder died. */
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

#endif
