/* tests/unit/test_pin.c - maps in shared memory: pinning, reopening,
 * corrupted files, a writer killed mid-update, several threads and
 * processes on the same maps, per-CPU slots.
 *
 * Pinned files go under the pin directory with names carrying the test's
 * pid, and are unpinned at the end of each test. The crash test SIGKILLs a
 * child that updates a pinned hash map in a tight loop, reopens the file and
 * checks that the map is consistent (iteration ends, every value was
 * written whole, the count matches) and still has all its capacity.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../test.h"
#include "comb/map.h"
#include "maps/internal.h"
#include "map_build.h"

static struct comb_map *pin_make(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries)
{
	return test_map_create("pinned", type, key_size, value_size, max_entries);
}

static const char *pin_name(const char *what)
{
	static char name[128];
	snprintf(name, sizeof(name), "test-%d-%s", (int)getpid(), what);
	return name;
}

static struct comb_map *reopen(const char *name)
{
	struct comb_map *map = NULL;
	char err[256] = "";
	int rc = comb_map_open_pinned(name, &map, err, sizeof(err));
	if (rc)
		fprintf(stderr, "  open %s: %d %s\n", name, rc, err);
	return rc ? NULL : map;
}

TEST(pin_dir_exists_and_is_private)
{
	char dir[4096];
	CHECK_EQ(comb_pin_dir(dir, sizeof(dir)), 0);
	CHECK(access(dir, W_OK) == 0);
	if (geteuid() == 0)
		CHECK_STR(dir, "/run/comb");
}

TEST(pin_two_handles_share_one_hash_map)
{
	const char *name = pin_name("share");
	struct comb_map *a = pin_make(COMB_MAP_HASH, 4, 8, 16);
	CHECK(a != NULL);
	uint32_t k = 7;
	uint64_t v = 70, out = 0;
	CHECK_EQ(comb_map_update(a, &k, &v, COMB_ANY), 0);
	CHECK_EQ(comb_map_pin(a, name), 0);
	CHECK_EQ(comb_map_pin(a, name), -EEXIST);
	struct comb_map *b = reopen(name);
	CHECK(b != NULL);
	struct comb_map_info info;
	comb_map_get_info(b, &info);
	CHECK_STR(info.name, "pinned");
	CHECK_EQ(info.type, COMB_MAP_HASH);
	CHECK_EQ(info.max_entries, 16);
	CHECK(comb_map_lookup_ptr(a, &k) != comb_map_lookup_ptr(b, &k)); /* two mappings */
	CHECK_EQ(comb_map_lookup(b, &k, &out), 0);
	CHECK_EQ(out, 70);
	k = 8;
	v = 80;
	CHECK_EQ(comb_map_update(b, &k, &v, COMB_NOEXIST), 0);
	CHECK_EQ(comb_map_lookup(a, &k, &out), 0);
	CHECK_EQ(out, 80);
	CHECK_EQ(comb_map_delete(a, &k), 0);
	CHECK_EQ(comb_map_lookup(b, &k, &out), -ENOENT);
	comb_map_free(a); /* the pin keeps the map */
	CHECK_EQ(comb_map_unpin(name), 0);
	CHECK_EQ(comb_map_unpin(name), -ENOENT);
	k = 7;
	CHECK_EQ(comb_map_lookup(b, &k, &out), 0); /* open handles live on */
	CHECK_EQ(out, 70);
	comb_map_free(b);
}

/* A freeze is in the shared header: another handle (another process)
 * sees it, and programs keep writing (no BPF_F_RDONLY_PROG). */
TEST(pin_freeze_is_seen_by_every_handle)
{
	const char *name = pin_name("freeze");
	struct comb_map *a = pin_make(COMB_MAP_HASH, 4, 8, 16);
	CHECK(a != NULL);
	CHECK_EQ(comb_map_pin(a, name), 0);
	struct comb_map *b = reopen(name);
	CHECK(b != NULL);
	uint32_t k = 3;
	uint64_t v = 30, out = 0;
	CHECK_EQ(comb_map_update(b, &k, &v, COMB_ANY), 0);
	CHECK(!comb_map_frozen(b));
	CHECK_EQ(comb_map_freeze(a), 0);
	CHECK(comb_map_frozen(b));
	CHECK_EQ(comb_map_freeze(b), -EPERM);
	CHECK_EQ(comb_map_update(b, &k, &v, COMB_ANY), -EPERM);
	CHECK_EQ(comb_map_delete(b, &k), -EPERM);
	CHECK_EQ(comb_map_lookup(b, &k, &out), 0);
	CHECK_EQ(out, 30);
	v = 31;
	CHECK_EQ(comb_map_update_from_prog(a, &k, &v, COMB_ANY), 0);
	CHECK_EQ(comb_map_lookup(b, &k, &out), 0);
	CHECK_EQ(out, 31);
	CHECK_EQ(comb_map_delete_from_prog(b, &k), 0);
	CHECK_EQ(comb_map_lookup(a, &k, &out), -ENOENT);
	CHECK_EQ(comb_map_unpin(name), 0);
	comb_map_free(a);
	comb_map_free(b);
}

TEST(pin_outside_the_pin_dir_copies_and_stays_shared)
{
	char path[128];
	snprintf(path, sizeof(path), "/tmp/comb-pin-test-%d", (int)getpid());
	unlink(path);
	struct comb_map *a = pin_make(COMB_MAP_ARRAY, 4, 8, 4);
	CHECK(a != NULL);
	uint32_t k = 2;
	uint64_t v = 5, out = 0;
	CHECK_EQ(comb_map_update(a, &k, &v, COMB_ANY), 0);
	CHECK_EQ(comb_map_pin(a, path), 0);
	struct comb_map *b = reopen(path);
	CHECK(b != NULL);
	v = 6;
	CHECK_EQ(comb_map_update(a, &k, &v, COMB_ANY), 0); /* after the pin, still one map */
	CHECK_EQ(comb_map_lookup(b, &k, &out), 0);
	CHECK_EQ(out, 6);
	comb_map_free(a);
	comb_map_free(b);
	CHECK_EQ(comb_map_unpin(path), 0);
}

TEST(pin_refuses_pointer_maps)
{
	struct comb_map *m = pin_make(COMB_MAP_PROG_ARRAY, 4, 4, 4);
	CHECK(m != NULL);
	CHECK_EQ(comb_map_pin(m, pin_name("progs")), -EOPNOTSUPP);
	comb_map_free(m);
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static void *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	void *buf = malloc(*len);
	if (buf && fread(buf, 1, *len, f) != *len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Open path with a byte of the saved image changed (or the image cut). */
static int open_damaged(const char *path, const uint8_t *image, size_t len, size_t at, uint8_t byte,
			size_t keep, char *err, size_t err_len)
{
	uint8_t *copy = malloc(len);
	memcpy(copy, image, len);
	if (at < len)
		copy[at] = byte;
	write_file(path, copy, keep);
	free(copy);
	struct comb_map *m = NULL;
	int rc = comb_map_open_pinned(path, &m, err, err_len);
	comb_map_free(m);
	return rc;
}

TEST(pin_corrupted_files_are_refused_with_a_message)
{
	char dir[4096], path[4400], err[256];
	CHECK_EQ(comb_pin_dir(dir, sizeof(dir)), 0);
	const char *name = pin_name("corrupt");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct comb_map *a = pin_make(COMB_MAP_HASH, 4, 8, 64);
	CHECK(a != NULL);
	for (uint32_t k = 0; k < 40; k++) {
		uint64_t v = k;
		CHECK_EQ(comb_map_update(a, &k, &v, COMB_ANY), 0);
	}
	CHECK_EQ(comb_map_pin(a, name), 0);
	size_t len = 0;
	uint8_t *image = read_whole(path, &len);
	CHECK(image != NULL);
	comb_map_free(a);
	CHECK_EQ(comb_map_unpin(name), 0);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	CHECK_EQ(open_damaged(path, image, len, 0, 'X', len, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "magic") != NULL);
	CHECK_EQ(open_damaged(path, image, len, len, 0, len - page, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "truncated") != NULL);
	CHECK_EQ(open_damaged(path, image, len, 0, 0, 100, err, sizeof(err)), -EINVAL);
	size_t max_entries_at = offsetof(struct map_header, max_entries);
	CHECK_EQ(open_damaged(path, image, len, max_entries_at, 200, len, err, sizeof(err)), -EINVAL);
	/* a bucket link pointing far outside the pool */
	uint32_t bad = 0x00ffffff;
	for (size_t b = 0; b < 64; b++)
		memcpy(image + page + b * 4, &bad, 4);
	CHECK_EQ(open_damaged(path, image, len, len, 0, len, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "corrupted") != NULL);
	CHECK_EQ(comb_map_open_pinned("/nonexistent/x", &a, err, sizeof(err)), -ENOENT);
	unlink(path);
	free(image);
}

/* ---- a writer killed in the middle of updates */

#define CRASH_KEYS 256
struct crash_value {
	uint64_t key, seq, words[6], check;
};

static uint64_t crash_check(const struct crash_value *v)
{
	uint64_t c = v->key * 0x9e3779b97f4a7c15ull ^ v->seq;
	for (int i = 0; i < 6; i++)
		c = c * 31 + v->words[i];
	return c;
}

/* Updates and deletes for ever; writes a byte to ready once it has begun. */
static void crash_writer(const char *name, int ready)
{
	struct comb_map *m = reopen(name);
	if (!m)
		_exit(2);
	for (uint64_t seq = 1;; seq++) {
		if (seq == 2 && write(ready, "r", 1) != 1)
			_exit(3);
		uint32_t k = (uint32_t)(seq * 7919 % CRASH_KEYS);
		struct crash_value v = { .key = k, .seq = seq };
		for (int i = 0; i < 6; i++)
			v.words[i] = seq + (uint64_t)i;
		v.check = crash_check(&v);
		if (seq % 5 == 0)
			comb_map_delete(m, &k);
		else
			comb_map_update(m, &k, &v, COMB_ANY);
	}
}

TEST(pin_survives_kill_9_of_its_writer)
{
	const char *name = pin_name("crash");
	struct comb_map *a = pin_make(COMB_MAP_HASH, 4, sizeof(struct crash_value), CRASH_KEYS);
	CHECK(a != NULL);
	CHECK_EQ(comb_map_pin(a, name), 0);
	comb_map_free(a);
	uint32_t recoveries = 0;
	/* At least 5 kills, more (up to 40) until one found the lock held: the
	 * writer spends most of its time under it, but a kill can land between
	 * two updates. Each kill waits until the writer has begun. */
	for (int round = 0; round < 40 && (round < 5 || recoveries == 0); round++) {
		int ready[2];
		CHECK_EQ(pipe(ready), 0);
		pid_t pid = fork();
		if (pid == 0) {
			close(ready[0]);
			crash_writer(name, ready[1]);
		}
		close(ready[1]);
		char byte;
		CHECK_EQ(read(ready[0], &byte, 1), 1);
		close(ready[0]);
		usleep(2000 + (useconds_t)round * 1300);
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status));
		struct comb_map *m = reopen(name);
		CHECK(m != NULL);
		uint32_t key, next, seen = 0;
		int rc = comb_map_get_next_key(m, NULL, &next);
		while (rc == 0 && seen <= CRASH_KEYS) {
			struct crash_value v;
			CHECK_EQ(comb_map_lookup(m, &next, &v), 0);
			CHECK_EQ(v.key, next);
			CHECK_EQ(v.check, crash_check(&v));
			seen++;
			key = next;
			rc = comb_map_get_next_key(m, &key, &next);
		}
		CHECK_EQ(rc, -ENOENT);
		CHECK(seen <= CRASH_KEYS);
		CHECK_EQ(((uint32_t *)map_family_words(m))[0], seen); /* hash.c's count */
		/* No element leaked: the map still takes CRASH_KEYS keys, no more. */
		for (uint32_t k = 0; k < CRASH_KEYS; k++) {
			struct crash_value v = { .key = k, .seq = 0 };
			v.check = crash_check(&v);
			CHECK_EQ(comb_map_update(m, &k, &v, COMB_ANY), 0);
		}
		uint32_t extra = CRASH_KEYS;
		struct crash_value v = { 0 };
		CHECK_EQ(comb_map_update(m, &extra, &v, COMB_ANY), -E2BIG);
		recoveries = m->header->recoveries;
		comb_map_free(m);
	}
	if (getenv("COMB_TEST_VERBOSE"))
		fprintf(stderr, "crash test: %u kills found the lock held\n", recoveries);
	CHECK(recoveries >= 1);
	CHECK_EQ(comb_map_unpin(name), 0);
}

/* ---- threads and processes on the same maps */

#define STRESS_ITERS 20000
#define STRESS_THREADS 4
#define STRESS_PROCS 2

struct stress_ctx {
	struct comb_map *array, *hash;
	uint32_t worker;
};

static void stress_work(struct comb_map *array, struct comb_map *hash, uint32_t worker)
{
	uint32_t zero = 0;
	uint64_t *counter = comb_map_lookup_ptr(array, &zero);
	uint64_t *shared = comb_map_lookup_ptr(hash, &zero);
	for (uint32_t i = 0; i < STRESS_ITERS; i++) {
		__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(shared, 1, __ATOMIC_RELAXED);
		uint32_t key = (worker + 1) << 16 | (i % 8);
		uint64_t value = i;
		comb_map_update(hash, &key, &value, COMB_ANY);
		if (i % 8 == 7 && i + 8 < STRESS_ITERS)
			comb_map_delete(hash, &key);
	}
}

static void *stress_thread(void *arg)
{
	struct stress_ctx *ctx = arg;
	stress_work(ctx->array, ctx->hash, ctx->worker);
	return NULL;
}

TEST(pin_threads_and_processes_count_exactly)
{
	char an[128], hn[128];
	snprintf(an, sizeof(an), "%s", pin_name("stress-array"));
	snprintf(hn, sizeof(hn), "%s", pin_name("stress-hash"));
	struct comb_map *array = pin_make(COMB_MAP_ARRAY, 4, 8, 4);
	struct comb_map *hash = pin_make(COMB_MAP_HASH, 4, 8, 64);
	CHECK(array && hash);
	uint32_t zero = 0;
	uint64_t v = 0;
	CHECK_EQ(comb_map_update(hash, &zero, &v, COMB_ANY), 0);
	CHECK_EQ(comb_map_pin(array, an), 0);
	CHECK_EQ(comb_map_pin(hash, hn), 0);
	pid_t pids[STRESS_PROCS];
	for (int p = 0; p < STRESS_PROCS; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			struct comb_map *a = reopen(an), *h = reopen(hn); /* other addresses */
			if (!a || !h)
				_exit(2);
			stress_work(a, h, STRESS_THREADS + (uint32_t)p);
			_exit(0);
		}
	}
	pthread_t threads[STRESS_THREADS];
	struct stress_ctx ctx[STRESS_THREADS];
	for (uint32_t t = 0; t < STRESS_THREADS; t++) {
		ctx[t] = (struct stress_ctx){ array, hash, t };
		pthread_create(&threads[t], NULL, stress_thread, &ctx[t]);
	}
	for (int t = 0; t < STRESS_THREADS; t++)
		pthread_join(threads[t], NULL);
	for (int p = 0; p < STRESS_PROCS; p++) {
		int status;
		waitpid(pids[p], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	uint64_t total = (STRESS_THREADS + STRESS_PROCS) * (uint64_t)STRESS_ITERS;
	CHECK_EQ(comb_map_lookup(array, &zero, &v), 0);
	CHECK_EQ(v, total);
	CHECK_EQ(comb_map_lookup(hash, &zero, &v), 0);
	CHECK_EQ(v, total);
	/* Each worker's last 8 keys hold the last value written to each. */
	uint32_t count = 0, key, next;
	int rc = comb_map_get_next_key(hash, NULL, &next);
	for (; rc == 0; rc = comb_map_get_next_key(hash, &key, &next)) {
		count++;
		key = next;
	}
	CHECK_EQ(count, 1 + (STRESS_THREADS + STRESS_PROCS) * 8);
	for (uint32_t w = 0; w < STRESS_THREADS + STRESS_PROCS; w++)
		for (uint32_t j = 0; j < 8; j++) {
			key = (w + 1) << 16 | j;
			CHECK_EQ(comb_map_lookup(hash, &key, &v), 0);
			CHECK_EQ(v, STRESS_ITERS - 8 + j);
		}
	comb_map_free(array);
	comb_map_free(hash);
	CHECK_EQ(comb_map_unpin(an), 0);
	CHECK_EQ(comb_map_unpin(hn), 0);
}

TEST(pin_forked_child_shares_an_unpinned_map)
{
	struct comb_map *m = pin_make(COMB_MAP_HASH, 4, 8, 8);
	CHECK(m != NULL);
	pid_t pid = fork();
	if (pid == 0) {
		uint32_t k = 3;
		uint64_t v = 33;
		_exit(comb_map_update(m, &k, &v, COMB_ANY) ? 1 : 0);
	}
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	uint32_t k = 3;
	uint64_t v = 0;
	CHECK_EQ(comb_map_lookup(m, &k, &v), 0);
	CHECK_EQ(v, 33);
	comb_map_free(m);
}

/* ---- per-CPU slots */

static pthread_barrier_t slot_barrier;
static struct comb_map *slot_map;

static void *slot_thread(void *arg)
{
	comb_percpu_slot_enter();
	*(uint32_t *)arg = map_current_cpu(slot_map);
	pthread_barrier_wait(&slot_barrier); /* every thread holds its slot here */
	comb_percpu_slot_leave();
	return NULL;
}

TEST(percpu_slots_are_not_shared_by_concurrent_runs)
{
	slot_map = pin_make(COMB_MAP_PERCPU_ARRAY, 4, 8, 1);
	CHECK(slot_map != NULL);
	uint32_t n = map_possible_cpus();
	if (n > 64)
		n = 64;
	pthread_t threads[64];
	uint32_t slots[64];
	pthread_barrier_init(&slot_barrier, NULL, n);
	for (uint32_t i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, slot_thread, &slots[i]);
	for (uint32_t i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&slot_barrier);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++)
			CHECK(slots[i] != slots[j]);
	comb_percpu_slot_enter();
	comb_percpu_slot_enter(); /* nested runs keep the slot */
	uint32_t outer = map_current_cpu(slot_map);
	comb_percpu_slot_leave();
	CHECK_EQ(map_current_cpu(slot_map), outer);
	comb_percpu_slot_leave();
	comb_map_free(slot_map);
}

/* ---- per-CPU slots across processes */

#define CLAIM_THREADS 3
#define CLAIM_RUNS    20000

static struct comb_map *claim_map;

/* What a program run does to a per-CPU counter, with a window between the
 * read and the write where a second run on the same slot would lose an
 * increment. */
static void *claim_thread(void *arg)
{
	uint32_t key = 0;
	for (int i = 0; i < CLAIM_RUNS; i++) {
		comb_percpu_slot_enter();
		uint64_t *value = comb_map_lookup_ptr(claim_map, &key);
		uint64_t v = *(volatile uint64_t *)value;
		for (volatile int spin = 0; spin < 50; spin++)
			;
		*(volatile uint64_t *)value = v + 1;
		comb_percpu_slot_leave();
	}
	return arg;
}

static void claim_threads_run(void)
{
	pthread_t threads[CLAIM_THREADS];
	for (int i = 0; i < CLAIM_THREADS; i++)
		pthread_create(&threads[i], NULL, claim_thread, NULL);
	for (int i = 0; i < CLAIM_THREADS; i++)
		pthread_join(threads[i], NULL);
}

TEST(percpu_slots_are_not_shared_across_processes)
{
	claim_map = pin_make(COMB_MAP_PERCPU_ARRAY, 4, 8, 1);
	CHECK(claim_map != NULL);
	if (!claim_map)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		claim_threads_run();
		_exit(0);
	}
	claim_threads_run();
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	uint32_t key = 0, n = map_possible_cpus();
	uint64_t *slots = calloc(n, 8), total = 0;
	CHECK_EQ(comb_map_lookup(claim_map, &key, slots), 0);
	for (uint32_t c = 0; c < n; c++)
		total += slots[c];
	CHECK_EQ(total, (uint64_t)2 * CLAIM_THREADS * CLAIM_RUNS); /* no increment lost */
	free(slots);
	comb_map_free(claim_map);
}

TEST(percpu_slot_of_a_dead_process_is_taken_back)
{
	uint32_t n = map_possible_cpus();
	int pipefd[2];
	CHECK_EQ(pipe(pipefd), 0);
	/* Children claim every slot, then die holding them. */
	pid_t kids[64];
	uint32_t count = n < 64 ? n : 64;
	for (uint32_t i = 0; i < count; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			comb_percpu_slot_enter();
			char c = 1;
			if (write(pipefd[1], &c, 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
	}
	for (uint32_t i = 0; i < count; i++) {
		char c;
		CHECK_EQ(read(pipefd[0], &c, 1), 1);
	}
	for (uint32_t i = 0; i < count; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	close(pipefd[0]);
	close(pipefd[1]);
	comb_percpu_slot_enter(); /* returns: the dead children's claims are freed */
	comb_percpu_slot_leave();
	CHECK(1);
}
