/* src/maps/owner_lock.c - the map lock: a futex word that names its owner,
 * shared by every process that maps the region, that survives kill -9 of
 * its holder.
 *
 * The word (u64, in the region header) is 0 when free, else
 *
 *   bits  0..29  the holder's thread id
 *   bit   31     WAITERS: someone sleeps (or is about to) on the futex
 *   bits 32..63  the holder's stamp: its start time (clock ticks after
 *                boot, from /proc/<tid>/stat) | 1, so that a thread id
 *                reused after its holder died does not look like the holder
 *
 * The futex is the low 32-bit half (tid | WAITERS). Uncontended, taking
 * the lock is one CAS 0 -> (stamp, tid) and releasing it one exchange to 0
 * (a FUTEX_WAKE only when WAITERS was set). This replaces a robust,
 * process-shared pthread mutex, whose robust-list bookkeeping cost about
 * as much as the rest of a hash update.
 *
 * Contended: spin briefly, then set WAITERS (CAS) and FUTEX_WAIT (shared,
 * not FUTEX_PRIVATE: the word is in a shared mapping) on the word with
 * WAITERS, with a time-out. A waiter that gets the lock takes it with
 * WAITERS set (others may still sleep), so its release wakes the next.
 *
 * Dead holders: each time a wait times out (1 ms), the waiter checks
 * whether the holder it saw is still alive (/proc/<tid>/stat exists, is
 * not a zombie, and has the same start time); if it died, the waiter takes
 * the lock over with one CAS from exactly the word it saw (only one waiter
 * can win it; a dead holder's word can never come back, so there is no
 * ABA), and map_lock then lets the family repair its state words
 * (ops->recover), as the EOWNERDEAD path of the robust mutex did. A waiter
 * that dies during that repair is itself a dead holder: the next one
 * repairs again (recover rebuilds from the chains, so running it twice is
 * harmless).
 *
 * Tried and left out: releasing with a plain store (no exchange), the
 * waiters paying with membarrier(GLOBAL_EXPEDITED) instead. Uncontended it
 * saves ~3 ns per update, but with 4 threads on 2 CPUs it made contended
 * locking 2-4x slower than this (more shared-futex system calls, whose key
 * lookup is expensive).
 *
 * Limits: the processes sharing a map must see each other's thread ids,
 * i.e. live in one pid namespace (the per-CPU slot table assumes it too).
 * Without /proc the stamp is 0 and liveness is kill(tid, 0).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "maps/owner_lock.h"

#define TID_MASK        0x3fffffffull
#define SPINS           128
#define WAIT_TIMEOUT_NS 1000000L /* 1 ms between liveness checks */
#define WAITERS         0x80000000ull

static __thread uint64_t self_word; /* (stamp << 32) | tid, 0: not computed */
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void forget_self(void)
{
	self_word = 0; /* fork()'s child: the only thread, with a new tid */
}

static void install_fork_handler(void)
{
	pthread_atfork(NULL, NULL, forget_self);
}

/* /proc/<tid>/stat: state in *state, start time in *start; false if the
 * file is absent or unreadable. */
static bool read_task_stat(const char *path, char *state, uint64_t *start)
{
	char buf[1024];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	if (!p || p[1] != ' ')
		return false;
	p += 2;
	*state = *p;
	/* After ')': field 3 (state) ... field 22 (starttime). */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return false;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return true;
}

static uint32_t stamp_of(uint64_t start)
{
	return (uint32_t)start | 1u;
}

static uint64_t owner_self_slow(void)
{
	pthread_once(&fork_once, install_fork_handler);
	uint64_t tid = (uint64_t)gettid() & TID_MASK;
	char state;
	uint64_t start;
	uint32_t stamp = read_task_stat("/proc/thread-self/stat", &state, &start) ? stamp_of(start) : 0;
	self_word = (uint64_t)stamp << 32 | tid;
	return self_word;
}

static inline uint64_t owner_self(void)
{
	uint64_t me = self_word;
	return __builtin_expect(me != 0, 1) ? me : owner_self_slow();
}

static uint32_t *futex_half(uint64_t *word)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return (uint32_t *)word + 1;
#else
	return (uint32_t *)word;
#endif
}

uint32_t owner_thread_id(void)
{
	return (uint32_t)(owner_self() & TID_MASK);
}

bool owner_thread_is_dead(uint32_t tid, uint32_t stamp)
{
	char path[64], state;
	uint64_t start;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	if (stamp && read_task_stat(path, &state, &start))
		return state == 'Z' || state == 'X' || stamp_of(start) != stamp;
	return kill((pid_t)tid, 0) == -1 && errno == ESRCH; /* kill() accepts thread ids */
}

/* The holder named by w died (or its tid now names another thread). */
static bool holder_is_dead(uint64_t w)
{
	return owner_thread_is_dead((uint32_t)(w & TID_MASK), (uint32_t)(w >> 32));
}

void owner_lock_init(struct owner_lock *lock)
{
	__atomic_store_n(&lock->word, 0, __ATOMIC_RELEASE);
}

static bool try_take(uint64_t *word, uint64_t expected, uint64_t desired)
{
	return __atomic_compare_exchange_n(word, &expected, desired, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* true when the wait timed out (nobody woke us, the word did not change). */
static bool futex_wait_timed_out(uint64_t *word, uint32_t expected)
{
	struct timespec timeout = { 0, WAIT_TIMEOUT_NS };
	return syscall(SYS_futex, futex_half(word), FUTEX_WAIT, expected, &timeout, NULL, 0) == -1 &&
	       errno == ETIMEDOUT;
}

static void taken_twice(uint64_t me)
{
	fprintf(stderr, "comb: map lock taken twice by thread %d (a bug in comb)\n", (int)(me & TID_MASK));
	abort();
}

/* Spin briefly, then sleep with WAITERS set until the word is 0 and ours,
 * or its holder is found dead (then true). */
static bool acquire_slow(struct owner_lock *lock, uint64_t me)
{
	uint64_t *word = &lock->word;
	for (int spin = 0; spin < SPINS; spin++) {
		owner_cpu_relax();
		if (__atomic_load_n(word, __ATOMIC_RELAXED) == 0 && try_take(word, 0, me))
			return false;
	}
	for (;;) {
		uint64_t w = __atomic_load_n(word, __ATOMIC_RELAXED);
		if (w == 0) {
			if (try_take(word, 0, me | WAITERS)) /* others may sleep */
				return false;
			continue;
		}
		if ((w & ~WAITERS) == me)
			taken_twice(me);
		if (!(w & WAITERS) && !try_take(word, w, w | WAITERS))
			continue;
		w |= WAITERS;
		if (futex_wait_timed_out(word, (uint32_t)w) && __atomic_load_n(word, __ATOMIC_RELAXED) == w &&
		    holder_is_dead(w) && try_take(word, w, me | WAITERS))
			return true;
	}
}

bool owner_lock_acquire(struct owner_lock *lock)
{
	uint64_t me = owner_self();
	if (__builtin_expect(try_take(&lock->word, 0, me), 1))
		return false;
	return acquire_slow(lock, me);
}

void owner_lock_release(struct owner_lock *lock)
{
	uint64_t old = __atomic_exchange_n(&lock->word, 0, __ATOMIC_RELEASE);
	if (__builtin_expect(old & WAITERS, 0))
		syscall(SYS_futex, futex_half(&lock->word), FUTEX_WAKE, 1, NULL, NULL, 0);
}
