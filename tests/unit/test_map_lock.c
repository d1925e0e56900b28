/* tests/unit/test_map_lock.c - the map lock (src/maps/owner_lock.c).
 *
 * Mutual exclusion: threads of this process and forked processes increment
 * a plain (non-atomic) counter in a map's shared state words under
 * map_lock, many times; the total must come out exact (the contended path:
 * spinning, FUTEX_WAIT/WAKE on a shared mapping).
 * Dead holders: a child takes the lock and is SIGKILLed holding it; the
 * next map_lock takes it over and runs the family's repair (recoveries
 * goes up, the hash map's count is rebuilt). A thread that exits holding
 * the lock is taken over the same way. A lock word naming a live thread
 * with another start time (its thread id was reused) is taken over; a live
 * holder is waited for, never robbed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../test.h"
#include "comb/map.h"
#include "maps/internal.h"
#include "map_build.h"

#define LOCK_ITERS   20000
#define LOCK_THREADS 3
#define LOCK_PROCS   2

/* A hash map (4-byte keys, 8-byte values): its family has a repair step. */
static struct comb_map *lock_test_map(uint32_t max_entries)
{
	return test_map_create("locktest", COMB_MAP_HASH, 4, 8, max_entries);
}

/* A word of the header nobody else uses (the reserved pad). */
static uint32_t *plain_counter(struct comb_map *map)
{
	return &map->header->reserved;
}

static void count_under_lock(struct comb_map *map)
{
	for (int i = 0; i < LOCK_ITERS; i++) {
		map_lock(map);
		uint32_t *c = plain_counter(map);
		uint32_t v = *(volatile uint32_t *)c;
		if (i % 64 == 0)
			sched_yield(); /* hold it a while now and then: waiters sleep */
		*(volatile uint32_t *)c = v + 1;
		map_unlock(map);
	}
}

static void *count_thread(void *arg)
{
	count_under_lock(arg);
	return NULL;
}

TEST(map_lock_excludes_threads_and_processes)
{
	struct comb_map *map = lock_test_map(8);
	CHECK(map != NULL);
	pid_t pids[LOCK_PROCS];
	for (int p = 0; p < LOCK_PROCS; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			count_under_lock(map); /* the region is MAP_SHARED */
			_exit(0);
		}
	}
	pthread_t threads[LOCK_THREADS];
	for (int t = 0; t < LOCK_THREADS; t++)
		pthread_create(&threads[t], NULL, count_thread, map);
	for (int t = 0; t < LOCK_THREADS; t++)
		pthread_join(threads[t], NULL);
	for (int p = 0; p < LOCK_PROCS; p++) {
		int status;
		waitpid(pids[p], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK_EQ(*plain_counter(map), (uint32_t)((LOCK_THREADS + LOCK_PROCS) * LOCK_ITERS));
	CHECK_EQ(map->header->lock.word, 0);
	CHECK_EQ(map->header->recoveries, 0);
	comb_map_free(map);
}

TEST(map_lock_is_taken_over_from_a_killed_process)
{
	struct comb_map *map = lock_test_map(16);
	CHECK(map != NULL);
	for (uint32_t k = 0; k < 5; k++) {
		uint64_t v = k;
		CHECK_EQ(comb_map_update(map, &k, &v, COMB_ANY), 0);
	}
	int ready[2];
	CHECK_EQ(pipe(ready), 0);
	pid_t pid = fork();
	if (pid == 0) {
		map_lock(map);
		((uint32_t *)map_family_words(map))[0] = 999; /* a half-done update: count is wrong */
		if (write(ready[1], "x", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	char c;
	CHECK_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
	close(ready[1]);
	CHECK(map->header->lock.word != 0);
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status));
	map_lock(map);
	CHECK_EQ(map->header->recoveries, 1);
	CHECK_EQ(((uint32_t *)map_family_words(map))[0], 5); /* hash_recover recounted */
	map_unlock(map);
	CHECK_EQ(map->header->lock.word, 0);
	uint32_t k = 2;
	uint64_t v = 0;
	CHECK_EQ(comb_map_lookup(map, &k, &v), 0);
	CHECK_EQ(v, 2);
	comb_map_free(map);
}

/* Not reaped yet: a killed holder is a zombie for a while, still dead. */
TEST(map_lock_is_taken_over_from_a_zombie)
{
	struct comb_map *map = lock_test_map(8);
	CHECK(map != NULL);
	pid_t pid = fork();
	if (pid == 0) {
		map_lock(map);
		_exit(0); /* exits holding it */
	}
	while (__atomic_load_n(&map->header->lock.word, __ATOMIC_ACQUIRE) == 0)
		usleep(100);
	siginfo_t info;
	CHECK_EQ(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0); /* exited, not reaped */
	map_lock(map);
	CHECK_EQ(map->header->recoveries, 1);
	map_unlock(map);
	int status;
	waitpid(pid, &status, 0);
	comb_map_free(map);
}

static void *lock_and_exit(void *arg)
{
	map_lock(arg);
	return NULL;
}

TEST(map_lock_is_taken_over_from_an_exited_thread)
{
	struct comb_map *map = lock_test_map(8);
	CHECK(map != NULL);
	pthread_t t;
	pthread_create(&t, NULL, lock_and_exit, map);
	pthread_join(t, NULL);
	CHECK(map->header->lock.word != 0);
	map_lock(map);
	CHECK_EQ(map->header->recoveries, 1);
	map_unlock(map);
	comb_map_free(map);
}

/* The word names this very thread id but another start time: the id was
 * reused after the real holder died. */
TEST(map_lock_is_taken_over_when_the_thread_id_was_reused)
{
	struct comb_map *map = lock_test_map(8);
	CHECK(map != NULL);
	pthread_t t;
	pid_t tid = 0;
	pthread_create(&t, NULL, lock_and_exit, map);
	pthread_join(t, NULL);
	uint64_t word = map->header->lock.word;
	CHECK(word >> 32 != 0); /* /proc gave the holder a stamp */
	tid = gettid();
	/* Same stamp bits flipped, a live tid (ours): not the holder. */
	map->header->lock.word = ((word >> 32) ^ 0x100) << 32 | (uint32_t)tid;
	map_lock(map);
	CHECK_EQ(map->header->recoveries, 1);
	map_unlock(map);
	comb_map_free(map);
}

struct holder_ctx {
	struct comb_map *map;
	int held, releasing;
};

static void *hold_for_a_while(void *arg)
{
	struct holder_ctx *ctx = arg;
	map_lock(ctx->map);
	__atomic_store_n(&ctx->held, 1, __ATOMIC_RELEASE);
	usleep(30000); /* many of the waiter's 1 ms liveness checks */
	__atomic_store_n(&ctx->releasing, 1, __ATOMIC_RELEASE);
	map_unlock(ctx->map);
	return NULL;
}

TEST(map_lock_waits_for_a_live_holder)
{
	struct comb_map *map = lock_test_map(8);
	CHECK(map != NULL);
	struct holder_ctx ctx = { map, 0, 0 };
	pthread_t t;
	pthread_create(&t, NULL, hold_for_a_while, &ctx);
	while (!__atomic_load_n(&ctx.held, __ATOMIC_ACQUIRE))
		usleep(100);
	map_lock(map);
	int got_it_after_release = __atomic_load_n(&ctx.releasing, __ATOMIC_ACQUIRE);
	map_unlock(map);
	pthread_join(t, NULL);
	CHECK_EQ(got_it_after_release, 1); /* never robbed while alive */
	CHECK_EQ(map->header->recoveries, 0);
	comb_map_free(map);
}
