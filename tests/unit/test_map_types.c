/* tests/unit/test_map_types.c - QUEUE, STACK, BLOOM_FILTER and LPM_TRIE.
 *
 * Semantics through the public API and src/maps/queue.h (pop), as the
 * kernel answers them (tests/kernel/kernel_maptypes.c compares the same
 * operations with the kernel's maps): creation rules, push/pop/peek order,
 * a full queue with and without BPF_EXIST, bloom membership, longest-prefix
 * match, the trie's post-order get_next_key, errors. Threads pushing and
 * popping at once must lose nothing. tests/progs/helpers_maps.bpf.c uses
 * the maps from a clang-built program in both engines.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "../test.h"
#include "comb/map.h"
#include "comb/object.h"
#include "comb/vm.h"
#include "maps/queue.h"
#include "prog_objects.h"

static struct comb_map *new_map(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
				uint32_t flags, uint64_t extra)
{
	struct comb_map_def def = {
		.sz = sizeof(def), .name = "maptypes", .type = type, .key_size = key_size,
		.value_size = value_size, .max_entries = max_entries, .map_flags = flags, .map_extra = extra,
	};
	struct comb_map *map = NULL;
	char err[256];
	if (comb_map_create(&def, &map, err, sizeof(err)) != 0) {
		fprintf(stderr, "  map create failed: %s\n", err);
		return NULL;
	}
	return map;
}

static int create_error(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
			uint32_t flags, uint64_t extra, char *err, size_t err_len)
{
	struct comb_map_def def = {
		.sz = sizeof(def), .name = "bad", .type = type, .key_size = key_size,
		.value_size = value_size, .max_entries = max_entries, .map_flags = flags, .map_extra = extra,
	};
	struct comb_map *map = NULL;
	int rc = comb_map_create(&def, &map, err, err_len);
	comb_map_free(map);
	return rc;
}

TEST(maptypes_create_rules)
{
	char err[256] = "";
	CHECK_EQ(create_error(COMB_MAP_QUEUE, 4, 8, 4, 0, 0, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "key_size must be 0") != NULL);
	CHECK_EQ(create_error(COMB_MAP_QUEUE, 0, 0, 4, 0, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_error(COMB_MAP_STACK, 0, 8, 0, 0, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_error(COMB_MAP_STACK, 0, 8, 4, COMB_F_NO_PREALLOC, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_error(COMB_MAP_QUEUE, 0, 8, 4, 0, 1, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_error(COMB_MAP_BLOOM_FILTER, 0, 4, 10, 0, 0x10, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "map_extra") != NULL);
	CHECK_EQ(create_error(COMB_MAP_BLOOM_FILTER, 4, 4, 10, 0, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_error(COMB_MAP_BLOOM_FILTER, 0, 4, 10, 0, 15, err, sizeof(err)), 0);
	CHECK_EQ(create_error(COMB_MAP_LPM_TRIE, 8, 4, 16, 0, 0, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "BPF_F_NO_PREALLOC") != NULL);
	CHECK_EQ(create_error(COMB_MAP_LPM_TRIE, 4, 4, 16, COMB_F_NO_PREALLOC, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_error(COMB_MAP_LPM_TRIE, 261, 4, 16, COMB_F_NO_PREALLOC, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_error(COMB_MAP_LPM_TRIE, 8, 0, 16, COMB_F_NO_PREALLOC, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_error(COMB_MAP_LPM_TRIE, 8, 4, 0, COMB_F_NO_PREALLOC, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_error(COMB_MAP_QUEUE, 0, 1u << 22, 1u << 20, 0, 0, err, sizeof(err)), -E2BIG);
	CHECK_EQ(create_error(COMB_MAP_QUEUE, 0, (1u << 22) + 1, 2, 0, 0, err, sizeof(err)), -E2BIG);
	CHECK_STR(comb_map_type_name(COMB_MAP_LPM_TRIE), "lpm_trie");
}

TEST(maptypes_queue_fifo_and_full)
{
	struct comb_map *q = new_map(COMB_MAP_QUEUE, 0, 8, 3, 0, 0);
	CHECK(q);
	uint64_t v = 0;
	CHECK_EQ(comb_map_lookup(q, NULL, &v), -ENOENT);
	CHECK_EQ(map_pop_elem(q, &v), -ENOENT);
	for (v = 1; v <= 3; v++)
		CHECK_EQ(comb_map_update(q, NULL, &v, COMB_ANY), 0);
	CHECK_EQ(comb_map_update(q, NULL, &v, COMB_ANY), -E2BIG);
	CHECK_EQ(comb_map_update(q, NULL, &v, COMB_NOEXIST), -EINVAL);
	v = 4;
	CHECK_EQ(map_push_elem(q, &v, COMB_EXIST), 0); /* drops 1 */
	CHECK_EQ(comb_map_delete(q, NULL), -EINVAL);
	CHECK_EQ(comb_map_get_next_key(q, NULL, &v), -EINVAL);
	CHECK(comb_map_lookup_ptr(q, NULL) == NULL);
	CHECK_EQ(map_peek_elem(q, &v), 0);
	CHECK_EQ(v, 2);
	for (uint64_t want = 2; want <= 4; want++) {
		CHECK_EQ(map_pop_elem(q, &v), 0);
		CHECK_EQ(v, want);
	}
	CHECK_EQ(map_pop_elem(q, &v), -ENOENT);
	comb_map_free(q);
}

TEST(maptypes_stack_lifo_and_full)
{
	struct comb_map *s = new_map(COMB_MAP_STACK, 0, 4, 3, 0, 0);
	CHECK(s);
	uint32_t v;
	for (v = 1; v <= 3; v++)
		CHECK_EQ(comb_map_update(s, NULL, &v, COMB_ANY), 0);
	v = 9;
	CHECK_EQ(comb_map_update(s, NULL, &v, COMB_ANY), -E2BIG);
	CHECK_EQ(comb_map_update(s, NULL, &v, COMB_EXIST), 0); /* drops the oldest, 1 */
	CHECK_EQ(comb_map_lookup(s, NULL, &v), 0);
	CHECK_EQ(v, 9);
	uint32_t want[] = { 9, 3, 2 };
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(map_pop_elem(s, &v), 0);
		CHECK_EQ(v, want[i]);
	}
	CHECK_EQ(map_pop_elem(s, &v), -ENOENT);
	comb_map_free(s);
}

TEST(maptypes_bloom_membership)
{
	struct comb_map *b = new_map(COMB_MAP_BLOOM_FILTER, 0, 8, 1000, 0, 0);
	CHECK(b);
	uint64_t v = 1;
	CHECK_EQ(comb_map_lookup(b, NULL, &v), -ENOENT);
	CHECK_EQ(comb_map_update(b, NULL, &v, COMB_EXIST), -EINVAL);
	CHECK_EQ(comb_map_update(b, NULL, &v, COMB_NOEXIST), -EINVAL);
	for (v = 0; v < 1000; v++)
		CHECK_EQ(map_push_elem(b, &v, COMB_ANY), 0);
	for (v = 0; v < 1000; v++)
		CHECK_EQ(map_peek_elem(b, &v), 0);
	int absent = 0;
	for (v = 1000000; v < 1010000; v++)
		absent += comb_map_lookup(b, NULL, &v) == -ENOENT;
	CHECK(absent > 9500); /* 5 hashes, ~7 bits per value: about 2% false positives */
	CHECK_EQ(map_pop_elem(b, &v), -ENOTSUP);
	CHECK_EQ(comb_map_delete(b, NULL), -ENOTSUP);
	CHECK_EQ(comb_map_get_next_key(b, NULL, &v), -ENOTSUP);
	comb_map_free(b);
}

struct v4_key {
	uint32_t prefixlen;
	uint8_t addr[4];
};

static struct v4_key v4(uint32_t prefixlen, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (struct v4_key){ prefixlen, { a, b, c, d } };
}

TEST(maptypes_lpm_longest_prefix)
{
	struct comb_map *t = new_map(COMB_MAP_LPM_TRIE, 8, 4, 8, COMB_F_NO_PREALLOC, 0);
	CHECK(t);
	struct v4_key k = v4(8, 10, 0, 0, 0);
	uint32_t v = 8, out = 0;
	CHECK_EQ(comb_map_update(t, &k, &v, COMB_ANY), 0);
	k = v4(24, 10, 1, 2, 0), v = 24;
	CHECK_EQ(comb_map_update(t, &k, &v, COMB_ANY), 0);
	k = v4(16, 10, 1, 0, 0), v = 16;
	CHECK_EQ(comb_map_update(t, &k, &v, COMB_NOEXIST), 0);
	CHECK_EQ(comb_map_update(t, &k, &v, COMB_NOEXIST), -EEXIST);
	k = v4(0, 0, 0, 0, 0), v = 0;
	CHECK_EQ(comb_map_update(t, &k, &v, COMB_ANY), 0);
	struct {
		struct v4_key key;
		int rc;
		uint32_t value;
	} cases[] = {
		{ v4(32, 10, 1, 2, 3), 0, 24 }, { v4(32, 10, 1, 3, 3), 0, 16 }, { v4(32, 10, 9, 9, 9), 0, 8 },
		{ v4(32, 11, 0, 0, 0), 0, 0 },  { v4(12, 10, 1, 2, 3), 0, 8 },  { v4(33, 10, 1, 2, 3), -ENOENT, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = 77;
		CHECK_EQ(comb_map_lookup(t, &cases[i].key, &out), cases[i].rc);
		if (!cases[i].rc)
			CHECK_EQ(out, cases[i].value);
	}
	uint32_t *p = comb_map_lookup_ptr(t, &cases[0].key);
	CHECK(p && *p == 24);
	k = v4(33, 10, 0, 0, 0);
	CHECK_EQ(comb_map_update(t, &k, &v, COMB_ANY), -EINVAL);
	CHECK_EQ(comb_map_delete(t, &k), -EINVAL);
	k = v4(16, 10, 1, 0, 0);
	CHECK_EQ(comb_map_delete(t, &k), 0);
	CHECK_EQ(comb_map_delete(t, &k), -ENOENT);
	CHECK_EQ(comb_map_update(t, &k, &v, COMB_EXIST), -ENOENT);
	CHECK_EQ(comb_map_lookup(t, &cases[1].key, &out), 0);
	CHECK_EQ(out, 8);
	comb_map_free(t);
}

TEST(maptypes_lpm_postorder_and_full)
{
	struct comb_map *t = new_map(COMB_MAP_LPM_TRIE, 8, 4, 5, COMB_F_NO_PREALLOC, 0);
	CHECK(t);
	struct v4_key keys[] = { v4(0, 0, 0, 0, 0), v4(8, 10, 0, 0, 0), v4(16, 192, 168, 0, 0),
				 v4(16, 10, 1, 0, 0), v4(24, 10, 1, 2, 0) };
	for (uint32_t i = 0; i < 5; i++)
		CHECK_EQ(comb_map_update(t, &keys[i], &i, COMB_ANY), 0);
	struct v4_key extra = v4(32, 1, 2, 3, 4);
	uint32_t v = 9;
	CHECK_EQ(comb_map_update(t, &extra, &v, COMB_ANY), -ENOSPC);
	CHECK_EQ(comb_map_update(t, &keys[2], &v, COMB_ANY), 0); /* replacing fits */
	/* Post-order: most specific first, bit 0 before bit 1, the root last. */
	struct v4_key want[] = { keys[4], keys[3], keys[1], keys[2], keys[0] };
	struct v4_key cur, next;
	const void *prev = NULL;
	for (int i = 0; i < 5; i++) {
		CHECK_EQ(comb_map_get_next_key(t, prev, &next), 0);
		CHECK(memcmp(&next, &want[i], sizeof(next)) == 0);
		cur = next;
		prev = &cur;
	}
	CHECK_EQ(comb_map_get_next_key(t, prev, &next), -ENOENT);
	CHECK_EQ(comb_map_get_next_key(t, &extra, &next), 0); /* absent: starts over */
	CHECK(memcmp(&next, &want[0], sizeof(next)) == 0);
	comb_map_free(t);
}

/* ---- concurrency --------------------------------------------------------- */

#define PUSHERS 4
#define PER_PUSHER 20000

struct queue_stress {
	struct comb_map *map;
	int id;
	uint64_t popped_sum;
	uint64_t popped;
};

static void *pusher(void *arg)
{
	struct queue_stress *s = arg;
	for (uint64_t i = 1; i <= PER_PUSHER; i++) {
		uint64_t v = (uint64_t)s->id * 1000000 + i;
		while (map_push_elem(s->map, &v, COMB_ANY) == -E2BIG)
			sched_yield();
	}
	return NULL;
}

static void *popper(void *arg)
{
	struct queue_stress *s = arg;
	uint64_t v;
	while (s->popped < (uint64_t)PER_PUSHER) {
		if (map_pop_elem(s->map, &v) == 0) {
			s->popped_sum += v;
			s->popped++;
		} else {
			sched_yield();
		}
	}
	return NULL;
}

TEST(maptypes_queue_threads_lose_nothing)
{
	struct comb_map *q = new_map(COMB_MAP_QUEUE, 0, 8, 64, 0, 0);
	CHECK(q);
	pthread_t threads[2 * PUSHERS];
	struct queue_stress st[2 * PUSHERS];
	for (int i = 0; i < 2 * PUSHERS; i++) {
		st[i] = (struct queue_stress){ .map = q, .id = i % PUSHERS + 1 };
		CHECK_EQ(pthread_create(&threads[i], NULL, i < PUSHERS ? pusher : popper, &st[i]), 0);
	}
	uint64_t sum = 0, want = 0;
	for (int i = 0; i < 2 * PUSHERS; i++) {
		pthread_join(threads[i], NULL);
		sum += st[i].popped_sum;
	}
	for (uint64_t id = 1; id <= PUSHERS; id++)
		want += id * 1000000 * PER_PUSHER + (uint64_t)PER_PUSHER * (PER_PUSHER + 1) / 2;
	CHECK_EQ(sum, want);
	uint64_t v;
	CHECK_EQ(map_pop_elem(q, &v), -ENOENT);
	comb_map_free(q);
}

/* ---- from a program ------------------------------------------------------ */

/* Map semantics, not verification (bloom_add_test keeps its loop counter in
 * a 4-byte slot at fp-4, which neither the kernel's verifier nor comb's can
 * bound): the object loads unverified and the tests name the engines. */
static struct comb_object *open_maps_object(struct comb_vm **vm)
{
	return prog_object_load_unverified("helpers_maps.bpf.o", vm);
}

static int64_t run_named(struct comb_object *obj, const char *prog, enum comb_engine engine)
{
	int idx = comb_object_find_prog(obj, prog);
	if (idx < 0)
		return INT64_MIN;
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = engine };
	uint64_t r0 = 0;
	int rc = comb_prog_run(comb_object_prog(obj, (size_t)idx), &opts, &r0);
	return rc ? INT64_MIN + 1 : (int64_t)(int32_t)r0;
}

TEST(maptypes_from_bpf_program)
{
	for (int e = 0; e < 2; e++) {
		enum comb_engine engine = e ? COMB_ENGINE_CHECKED : COMB_ENGINE_INTERP;
		struct comb_vm *vm = NULL;
		struct comb_object *obj = open_maps_object(&vm);
		CHECK(obj);
		CHECK_EQ(run_named(obj, "queue_stack_order", engine), 23455432);
		CHECK_EQ(run_named(obj, "bloom_add_test", engine), 10);
		CHECK_EQ(run_named(obj, "lpm_route", engine), 0);
		struct comb_map *routes = comb_object_map(obj, (size_t)comb_object_find_map(obj, "routes"));
		struct v4_key k = v4(8, 10, 0, 0, 0);
		uint32_t v = 108;
		CHECK_EQ(comb_map_update(routes, &k, &v, COMB_ANY), 0);
		k = v4(16, 10, 1, 0, 0), v = 116;
		CHECK_EQ(comb_map_update(routes, &k, &v, COMB_ANY), 0);
		k = v4(24, 10, 2, 0, 0), v = 124;
		CHECK_EQ(comb_map_update(routes, &k, &v, COMB_ANY), 0);
		CHECK_EQ(run_named(obj, "lpm_route", engine), 116);
		struct comb_map *seen = comb_object_map(obj, (size_t)comb_object_find_map(obj, "seen"));
		uint32_t added = 40;
		CHECK_EQ(comb_map_lookup(seen, NULL, &added), 0);
		comb_object_close(obj);
		comb_vm_free(vm);
	}
}
