/* tests/unit/test_maps.c - map semantics and the map, time and print helpers.
 *
 * Each map family is driven through the public API and must answer as the
 * kernel does: update flags (BPF_ANY/NOEXIST/EXIST), error codes (-ENOENT,
 * -EEXIST, -E2BIG, -EINVAL), get_next_key order rules, a full map, LRU
 * eviction, per-CPU slots. The helpers are called from small programs built
 * with insn_build.h (LDDW with src COMB_PSEUDO_MAP_IDX refers to
 * comb_prog_opts.maps[imm]) in both engines; the checked engine must refuse
 * a helper a bad key pointer or a pointer that is not one of its maps.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include "../test.h"
#include "comb/map.h"
#include "comb/vm.h"
#include "insn_build.h"

#define LD_MAP(d, idx)                                                                      \
	INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, d, COMB_PSEUDO_MAP_IDX, 0, idx),    \
	INSN(0, 0, 0, 0, 0)

static struct comb_map *make_map(uint32_t type, uint32_t key_size, uint32_t value_size,
				 uint32_t max_entries, uint32_t flags)
{
	struct comb_map_def def = {
		.sz = sizeof(def), .name = "test", .type = type, .key_size = key_size,
		.value_size = value_size, .max_entries = max_entries, .map_flags = flags,
	};
	struct comb_map *map = NULL;
	char err[256];
	if (comb_map_create(&def, &map, err, sizeof(err)) != 0) {
		fprintf(stderr, "  map create failed: %s\n", err);
		return NULL;
	}
	return map;
}

static int create_rc(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
		     uint32_t flags, char *err, size_t err_len)
{
	struct comb_map_def def = {
		.sz = sizeof(def), .name = "bad", .type = type, .key_size = key_size,
		.value_size = value_size, .max_entries = max_entries, .map_flags = flags,
	};
	struct comb_map *map = NULL;
	int rc = comb_map_create(&def, &map, err, err_len);
	comb_map_free(map);
	return rc;
}

static uint32_t nr_cpus(void)
{
	return (uint32_t)sysconf(_SC_NPROCESSORS_CONF);
}

TEST(map_create_rejects_bad_definitions)
{
	char err[256] = "";
	CHECK_EQ(create_rc(COMB_MAP_ARRAY, 8, 4, 4, 0, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "key_size") != NULL);
	CHECK_EQ(create_rc(COMB_MAP_ARRAY, 4, 0, 4, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_rc(COMB_MAP_HASH, 4, 4, 0, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_rc(COMB_MAP_HASH, 0, 4, 4, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_rc(COMB_MAP_HASH, 4, 4, 4, 1u << 20, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_rc(COMB_MAP_ARRAY, 4, 4, 4, COMB_F_RDONLY | COMB_F_WRONLY, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_rc(COMB_MAP_PERCPU_ARRAY, 4, 4, 4, COMB_F_MMAPABLE, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_rc(COMB_MAP_LRU_HASH, 4, 4, 4, COMB_F_NO_PREALLOC, err, sizeof(err)), -ENOTSUP);
	CHECK_EQ(create_rc(COMB_MAP_PROG_ARRAY, 4, 8, 4, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_rc(COMB_MAP_ARRAY, 4, 1u << 30, 1, 0, err, sizeof(err)), -E2BIG);
	CHECK_EQ(create_rc(COMB_MAP_ARRAY, 4, 1u << 20, 1u << 30, 0, err, sizeof(err)), -E2BIG);
	CHECK_EQ(create_rc(COMB_MAP_RINGBUF, 0, 0, 1000, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ(create_rc(15 /* sockmap */, 4, 4, 4, 0, err, sizeof(err)), -ENOTSUP);
	CHECK(strstr(err, "sockmap") != NULL);
	/* the kernel answers -EINVAL for a type number it does not know */
	CHECK_EQ(create_rc(99, 4, 4, 4, 0, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "unknown map type 99") != NULL);
}

TEST(map_type_names)
{
	CHECK_STR(comb_map_type_name(COMB_MAP_HASH), "hash");
	CHECK_STR(comb_map_type_name(COMB_MAP_PERCPU_ARRAY), "percpu_array");
	CHECK_STR(comb_map_type_name(COMB_MAP_RINGBUF), "ringbuf");
	CHECK(comb_map_type_name(1000) == NULL);
}

TEST(map_array_semantics)
{
	struct comb_map *map = make_map(COMB_MAP_ARRAY, 4, 8, 4, 0);
	CHECK(map != NULL);
	uint32_t key = 1, next = 99;
	uint64_t value = 0, v = 7;
	CHECK_EQ(comb_map_lookup(map, &key, &value), 0);
	CHECK_EQ(value, 0);
	CHECK_EQ(comb_map_update(map, &key, &v, COMB_ANY), 0);
	CHECK_EQ(comb_map_update(map, &key, &v, COMB_NOEXIST), -EEXIST);
	v = 8;
	CHECK_EQ(comb_map_update(map, &key, &v, COMB_EXIST), 0);
	CHECK_EQ(comb_map_lookup(map, &key, &value), 0);
	CHECK_EQ(value, 8);
	CHECK_EQ(*(uint64_t *)comb_map_lookup_ptr(map, &key), 8);
	CHECK_EQ(comb_map_update(map, &key, &v, 3), -EINVAL);
	CHECK_EQ(comb_map_update(map, &key, &v, COMB_F_LOCK), -EINVAL);
	CHECK_EQ(comb_map_delete(map, &key), -EINVAL);
	key = 4;
	CHECK_EQ(comb_map_update(map, &key, &v, COMB_ANY), -E2BIG);
	CHECK_EQ(comb_map_lookup(map, &key, &value), -ENOENT);
	CHECK(comb_map_lookup_ptr(map, &key) == NULL);
	/* get_next_key: NULL or a missing key -> 0; the last -> -ENOENT */
	CHECK_EQ(comb_map_get_next_key(map, NULL, &next), 0);
	CHECK_EQ(next, 0);
	CHECK_EQ(comb_map_get_next_key(map, &key, &next), 0);
	CHECK_EQ(next, 0);
	key = 2;
	CHECK_EQ(comb_map_get_next_key(map, &key, &next), 0);
	CHECK_EQ(next, 3);
	key = 3;
	CHECK_EQ(comb_map_get_next_key(map, &key, &next), -ENOENT);
	CHECK(comb_map_array_value(map, 1) != NULL);
	CHECK_EQ(*(uint64_t *)comb_map_array_value(map, 1), 8);
	CHECK(comb_map_array_value(map, 4) == NULL);
	comb_map_free(map);
}

TEST(map_array_storage_holds_values_and_is_page_aligned)
{
	struct comb_map *map = make_map(COMB_MAP_ARRAY, 4, 12, 100, COMB_F_MMAPABLE);
	CHECK(map != NULL);
	uint64_t addr, size;
	comb_map_storage(map, &addr, &size);
	CHECK_EQ(addr % (uint64_t)sysconf(_SC_PAGESIZE), 0);
	CHECK(size >= 100 * 16);
	uint8_t *last = comb_map_array_value(map, 99);
	CHECK((uint64_t)(uintptr_t)last >= addr && (uint64_t)(uintptr_t)last + 12 <= addr + size);
	CHECK_EQ((uintptr_t)comb_map_array_value(map, 1) - (uintptr_t)comb_map_array_value(map, 0), 16);
	comb_map_free(map);
}

TEST(map_hash_semantics)
{
	struct comb_map *map = make_map(COMB_MAP_HASH, 8, 4, 3, 0);
	CHECK(map != NULL);
	uint64_t key = 10;
	uint32_t value = 1, out = 0;
	CHECK_EQ(comb_map_lookup(map, &key, &out), -ENOENT);
	CHECK_EQ(comb_map_update(map, &key, &value, COMB_EXIST), -ENOENT);
	CHECK_EQ(comb_map_update(map, &key, &value, COMB_NOEXIST), 0);
	CHECK_EQ(comb_map_update(map, &key, &value, COMB_NOEXIST), -EEXIST);
	value = 2;
	CHECK_EQ(comb_map_update(map, &key, &value, COMB_EXIST), 0);
	CHECK_EQ(comb_map_lookup(map, &key, &out), 0);
	CHECK_EQ(out, 2);
	for (key = 11; key <= 12; key++)
		CHECK_EQ(comb_map_update(map, &key, &value, COMB_ANY), 0);
	key = 13;
	CHECK_EQ(comb_map_update(map, &key, &value, COMB_ANY), -E2BIG);
	key = 12; /* a full map still updates existing keys */
	value = 5;
	CHECK_EQ(comb_map_update(map, &key, &value, COMB_ANY), 0);
	CHECK_EQ(*(uint32_t *)comb_map_lookup_ptr(map, &key), 5);
	CHECK_EQ(comb_map_delete(map, &key), 0);
	CHECK_EQ(comb_map_delete(map, &key), -ENOENT);
	CHECK(comb_map_lookup_ptr(map, &key) == NULL);
	key = 13;
	CHECK_EQ(comb_map_update(map, &key, &value, COMB_ANY), 0);
	CHECK_EQ(comb_map_update(map, &key, &value, 4), -EINVAL);
	comb_map_free(map);
}

/* Walk the map with get_next_key; seen[k] counts visits of key k. */
static int walk_keys(struct comb_map *map, uint32_t *seen, uint32_t limit)
{
	uint32_t key, next;
	const uint32_t *prev = NULL;
	int visited = 0;
	while (comb_map_get_next_key(map, prev, &next) == 0) {
		if (next >= limit || visited > (int)limit)
			return -1;
		seen[next]++;
		visited++;
		key = next;
		prev = &key;
	}
	return visited;
}

TEST(map_hash_get_next_key_visits_every_key_once)
{
	struct comb_map *map = make_map(COMB_MAP_HASH, 4, 4, 500, 0);
	CHECK(map != NULL);
	uint32_t seen[1000] = { 0 }, next;
	CHECK_EQ(comb_map_get_next_key(map, NULL, &next), -ENOENT);
	for (uint32_t k = 0; k < 1000; k += 2)
		CHECK_EQ(comb_map_update(map, &k, &k, COMB_NOEXIST), 0);
	uint32_t k = 500;
	CHECK_EQ(comb_map_delete(map, &k), 0);
	CHECK_EQ(walk_keys(map, seen, 1000), 499);
	for (k = 0; k < 1000; k++)
		CHECK_EQ(seen[k], (k % 2 == 0 && k != 500) ? 1 : 0);
	/* a missing key restarts from the first key */
	uint32_t first, missing = 1;
	CHECK_EQ(comb_map_get_next_key(map, NULL, &first), 0);
	CHECK_EQ(comb_map_get_next_key(map, &missing, &next), 0);
	CHECK_EQ(next, first);
	comb_map_free(map);
}

TEST(map_lru_hash_evicts_least_recently_used)
{
	struct comb_map *map = make_map(COMB_MAP_LRU_HASH, 4, 4, 4, 0);
	CHECK(map != NULL);
	for (uint32_t k = 1; k <= 4; k++)
		CHECK_EQ(comb_map_update(map, &k, &k, COMB_ANY), 0);
	uint32_t k = 1, v = 0;
	CHECK(comb_map_lookup_ptr(map, &k) != NULL); /* a program's use makes 1 recent */
	k = 5;
	CHECK_EQ(comb_map_update(map, &k, &k, COMB_NOEXIST), 0);
	k = 2;
	CHECK_EQ(comb_map_lookup(map, &k, &v), -ENOENT);
	for (uint32_t present = 1; present <= 5; present++) {
		if (present == 2)
			continue;
		CHECK_EQ(comb_map_lookup(map, &present, &v), 0);
		CHECK_EQ(v, present);
	}
	uint32_t seen[8] = { 0 };
	CHECK_EQ(walk_keys(map, seen, 8), 4);
	k = 6;
	CHECK_EQ(comb_map_update(map, &k, &k, COMB_EXIST), -ENOENT);
	comb_map_free(map);
}

TEST(map_percpu_array_keeps_a_slot_per_cpu)
{
	uint32_t cpus = nr_cpus();
	struct comb_map *map = make_map(COMB_MAP_PERCPU_ARRAY, 4, 4, 2, 0);
	CHECK(map != NULL);
	uint64_t *values = calloc(cpus, 8), *out = calloc(cpus, 8); /* value_size rounded up to 8 */
	CHECK(values && out);
	for (uint32_t c = 0; c < cpus; c++)
		values[c] = 0xdead00000000ull | (100 + c); /* high half must not be stored */
	uint32_t key = 1;
	CHECK_EQ(comb_map_update(map, &key, values, COMB_ANY), 0);
	CHECK_EQ(comb_map_lookup(map, &key, out), 0);
	for (uint32_t c = 0; c < cpus; c++)
		CHECK_EQ(out[c], 100 + c);
	uint32_t *mine = comb_map_lookup_ptr(map, &key);
	CHECK(mine != NULL);
	CHECK(*mine >= 100 && *mine < 100 + cpus);
	free(values);
	free(out);
	comb_map_free(map);
}

TEST(map_percpu_hash_keeps_a_slot_per_cpu)
{
	uint32_t cpus = nr_cpus();
	struct comb_map *map = make_map(COMB_MAP_PERCPU_HASH, 4, 8, 8, 0);
	CHECK(map != NULL);
	uint64_t *values = calloc(cpus, 8), *out = calloc(cpus, 8);
	CHECK(values && out);
	for (uint32_t c = 0; c < cpus; c++)
		values[c] = 1000 + c;
	uint32_t key = 42;
	CHECK_EQ(comb_map_update(map, &key, values, COMB_NOEXIST), 0);
	CHECK_EQ(comb_map_lookup(map, &key, out), 0);
	CHECK_EQ(memcmp(values, out, cpus * 8), 0);
	uint64_t *mine = comb_map_lookup_ptr(map, &key);
	CHECK(mine != NULL && *mine >= 1000 && *mine < 1000 + cpus);
	free(values);
	free(out);
	comb_map_free(map);
}

TEST(map_prog_array_and_array_of_maps_hold_pointers)
{
	struct comb_map *progs = make_map(COMB_MAP_PROG_ARRAY, 4, 4, 4, 0);
	struct comb_map *outer = make_map(COMB_MAP_ARRAY_OF_MAPS, 4, 4, 2, 0);
	struct comb_map *houter = make_map(COMB_MAP_HASH_OF_MAPS, 4, 4, 2, 0);
	struct comb_map *inner = make_map(COMB_MAP_ARRAY, 4, 4, 1, 0);
	CHECK(progs && outer && houter && inner);
	void *fake_prog = &progs; /* the map only stores the pointer */
	uint32_t key = 2, value;
	CHECK_EQ(comb_map_update(progs, &key, &fake_prog, COMB_NOEXIST), -EINVAL);
	CHECK_EQ(comb_map_update(progs, &key, &fake_prog, COMB_ANY), 0);
	CHECK_EQ(comb_map_lookup(progs, &key, &value), -ENOTSUP);
	CHECK(comb_map_lookup_ptr(progs, &key) == NULL);
	CHECK_EQ(comb_map_delete(progs, &key), 0);
	CHECK_EQ(comb_map_delete(progs, &key), -ENOENT);
	key = 9;
	CHECK_EQ(comb_map_update(progs, &key, &fake_prog, COMB_ANY), -E2BIG);
	key = 1;
	CHECK(comb_map_lookup_ptr(outer, &key) == NULL);
	CHECK_EQ(comb_map_update(outer, &key, &inner, COMB_ANY), 0);
	CHECK(comb_map_lookup_ptr(outer, &key) == inner);
	key = 77;
	CHECK_EQ(comb_map_update(houter, &key, &inner, COMB_NOEXIST), 0);
	CHECK(comb_map_lookup_ptr(houter, &key) == inner);
	comb_map_free(progs);
	comb_map_free(outer);
	comb_map_free(houter);
	comb_map_free(inner);
}

TEST(map_ringbuf_and_perf_event_array_are_created_only)
{
	struct comb_map *rb = make_map(COMB_MAP_RINGBUF, 0, 0, 4096 * 4, 0);
	struct comb_map *perf = make_map(COMB_MAP_PERF_EVENT_ARRAY, 4, 4, 4, 0);
	CHECK(rb && perf);
	uint32_t key = 0, value = 0;
	CHECK_EQ(comb_map_lookup(perf, &key, &value), -ENOTSUP);
	CHECK_EQ(comb_map_update(rb, NULL, &value, 0), -ENOTSUP);
	struct comb_map_info info;
	comb_map_get_info(rb, &info);
	CHECK_EQ(info.type, COMB_MAP_RINGBUF);
	CHECK_EQ(info.max_entries, 4096 * 4);
	CHECK_STR(info.name, "test");
	comb_map_free(rb);
	comb_map_free(perf);
}

/* ---- helpers, from programs ---- */

struct helper_run {
	struct comb_map *const *maps;
	size_t map_count;
	uint64_t args[5];
	const struct comb_region *regions;
	size_t region_count;
	int ret;
	uint64_t r0;
};

static bool run_prog(const struct comb_insn *insns, size_t count, enum comb_engine engine,
		     struct helper_run *run)
{
	struct comb_vm *vm = NULL;
	struct comb_prog *prog = NULL;
	char err[256] = "";
	if (comb_vm_new(NULL, &vm))
		return false;
	struct comb_prog_opts po = { .sz = sizeof(po), .name = "maps", .maps = run->maps,
				     .map_count = run->map_count };
	if (comb_prog_load(vm, insns, count, &po, &prog, err, sizeof(err))) {
		fprintf(stderr, "  load failed: %s\n", err);
		comb_vm_free(vm);
		return false;
	}
	struct comb_run_opts ro = { .sz = sizeof(ro), .engine = engine, .regions = run->regions,
				    .region_count = run->region_count };
	memcpy(ro.args, run->args, sizeof(ro.args));
	run->r0 = 0;
	run->ret = comb_prog_run(prog, &ro, &run->r0);
	comb_prog_free(prog);
	comb_vm_free(vm);
	return true;
}

/* key (u32) at fp-4 = 3, value (u64) at fp-16 = 40; update, lookup, add 2
 * through the pointer, delete, and return the value read back. */
static const struct comb_insn update_lookup_prog[] = {
	ST_MEM(COMB_SIZE_W, 10, -4, 3),
	ST_MEM(COMB_SIZE_DW, 10, -16, 40),
	LD_MAP(1, 0),
	MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4),
	MOV64_REG(3, 10), ALU64_IMM(COMB_ALU_ADD, 3, -16),
	MOV64_IMM(4, COMB_NOEXIST),
	CALL_HELPER(2),
	ASSERT_REG_EQ(0, 0, 101),
	LD_MAP(1, 0),
	MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4),
	CALL_HELPER(1),
	JMP_IMM(COMB_JMP_JNE, 0, 0, 2), MOV64_IMM(0, 102), EXIT(),
	LDX_MEM(COMB_SIZE_DW, 6, 0, 0),
	ALU64_IMM(COMB_ALU_ADD, 6, 2),
	STX_MEM(COMB_SIZE_DW, 0, 6, 0),
	LD_MAP(1, 0),
	MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4),
	MOV64_REG(3, 10), ALU64_IMM(COMB_ALU_ADD, 3, -16),
	MOV64_IMM(4, COMB_NOEXIST),
	CALL_HELPER(2),
	ASSERT_REG_EQ(0, -EEXIST, 103),
	MOV64_REG(0, 6),
	EXIT(),
};

TEST(map_helpers_update_lookup_in_both_engines)
{
	enum comb_engine engines[] = { COMB_ENGINE_INTERP, COMB_ENGINE_CHECKED };
	uint32_t types[] = { COMB_MAP_HASH, COMB_MAP_LRU_HASH };
	for (size_t e = 0; e < 2; e++) {
		for (size_t t = 0; t < 2; t++) {
			struct comb_map *map = make_map(types[t], 4, 8, 16, 0);
			CHECK(map != NULL);
			struct helper_run run = { .maps = &map, .map_count = 1 };
			CHECK(run_prog(update_lookup_prog, ARRAY_SIZE(update_lookup_prog), engines[e], &run));
			CHECK_EQ(run.ret, 0);
			CHECK_EQ(run.r0, 42);
			uint32_t key = 3;
			uint64_t value = 0;
			CHECK_EQ(comb_map_lookup(map, &key, &value), 0);
			CHECK_EQ(value, 42);
			comb_map_free(map);
		}
	}
}

TEST(map_helpers_delete_and_percpu_update_from_program)
{
	uint32_t cpus = nr_cpus();
	struct comb_map *maps[2] = { make_map(COMB_MAP_HASH, 4, 8, 4, 0),
				     make_map(COMB_MAP_PERCPU_ARRAY, 4, 8, 1, 0) };
	CHECK(maps[0] && maps[1]);
	uint32_t key = 0;
	uint64_t v = 5;
	CHECK_EQ(comb_map_update(maps[0], &key, &v, COMB_ANY), 0);
	struct comb_insn prog[] = {
		ST_MEM(COMB_SIZE_W, 10, -4, 0),
		ST_MEM(COMB_SIZE_DW, 10, -16, 77),
		LD_MAP(1, 0), MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4),
		CALL_HELPER(3),
		ASSERT_REG_EQ(0, 0, 1),
		LD_MAP(1, 0), MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4),
		CALL_HELPER(3),
		ASSERT_REG_EQ(0, -ENOENT, 2),
		LD_MAP(1, 1), MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4),
		MOV64_REG(3, 10), ALU64_IMM(COMB_ALU_ADD, 3, -16), MOV64_IMM(4, 0),
		CALL_HELPER(2),
		EXIT(),
	};
	struct helper_run run = { .maps = maps, .map_count = 2 };
	CHECK(run_prog(prog, ARRAY_SIZE(prog), COMB_ENGINE_CHECKED, &run));
	CHECK_EQ(run.ret, 0);
	CHECK_EQ(run.r0, 0);
	CHECK_EQ(comb_map_lookup(maps[0], &key, &v), -ENOENT);
	uint64_t *slots = calloc(cpus, 8);
	CHECK(slots);
	CHECK_EQ(comb_map_lookup(maps[1], &key, slots), 0);
	uint32_t set = 0;
	for (uint32_t c = 0; c < cpus; c++)
		set += slots[c] == 77;
	CHECK_EQ(set, 1); /* only the program's CPU */
	free(slots);
	comb_map_free(maps[0]);
	comb_map_free(maps[1]);
}

TEST(map_helpers_checked_engine_rejects_bad_pointers)
{
	struct comb_map *map = make_map(COMB_MAP_HASH, 4, 8, 4, 0);
	struct comb_map *other = make_map(COMB_MAP_HASH, 4, 8, 4, 0);
	CHECK(map && other);
	struct comb_insn bad_key[] = {
		LD_MAP(1, 0), LDDW(2, 0x1000), CALL_HELPER(1), EXIT(),
	};
	struct helper_run run = { .maps = &map, .map_count = 1 };
	CHECK(run_prog(bad_key, ARRAY_SIZE(bad_key), COMB_ENGINE_CHECKED, &run));
	CHECK_EQ(run.ret, 0);
	CHECK_EQ(run.r0, (uint64_t)-EFAULT);
	/* a value pointer past the stack */
	struct comb_insn bad_value[] = {
		ST_MEM(COMB_SIZE_W, 10, -4, 0),
		LD_MAP(1, 0), MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4),
		MOV64_REG(3, 10), ALU64_IMM(COMB_ALU_ADD, 3, -4), MOV64_IMM(4, 0),
		CALL_HELPER(2), EXIT(),
	};
	CHECK(run_prog(bad_value, ARRAY_SIZE(bad_value), COMB_ENGINE_CHECKED, &run));
	CHECK_EQ(run.r0, (uint64_t)-EFAULT);
	/* a map the program was not given */
	struct comb_insn bad_map[] = {
		ST_MEM(COMB_SIZE_W, 10, -4, 0),
		LDDW(1, (uintptr_t)other), MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4),
		CALL_HELPER(1), EXIT(),
	};
	CHECK(run_prog(bad_map, ARRAY_SIZE(bad_map), COMB_ENGINE_CHECKED, &run));
	CHECK_EQ(run.r0, (uint64_t)-EINVAL);
	comb_map_free(map);
	comb_map_free(other);
}

TEST(map_helpers_reach_inner_maps_in_checked_engine)
{
	struct comb_map *outer = make_map(COMB_MAP_ARRAY_OF_MAPS, 4, 4, 1, 0);
	struct comb_map *inner = make_map(COMB_MAP_HASH, 4, 4, 4, 0);
	CHECK(outer && inner);
	uint32_t key = 0, value = 9;
	CHECK_EQ(comb_map_update(outer, &key, &inner, COMB_ANY), 0);
	CHECK_EQ(comb_map_update(inner, &key, &value, COMB_ANY), 0);
	struct comb_insn prog[] = {
		ST_MEM(COMB_SIZE_W, 10, -4, 0),
		LD_MAP(1, 0), MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4),
		CALL_HELPER(1),
		JMP_IMM(COMB_JMP_JNE, 0, 0, 2), MOV64_IMM(0, 100), EXIT(),
		MOV64_REG(1, 0), MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4),
		CALL_HELPER(3), /* delete key 0 from the inner map */
		EXIT(),
	};
	struct helper_run run = { .maps = &outer, .map_count = 1 };
	CHECK(run_prog(prog, ARRAY_SIZE(prog), COMB_ENGINE_CHECKED, &run));
	CHECK_EQ(run.ret, 0);
	CHECK_EQ(run.r0, 0);
	CHECK_EQ(comb_map_lookup(inner, &key, &value), -ENOENT);
	comb_map_free(outer);
	comb_map_free(inner);
}

TEST(map_time_and_cpu_helpers)
{
	struct comb_insn prog[] = {
		CALL_HELPER(5), MOV64_REG(6, 0),
		CALL_HELPER(5), JMP_REG(COMB_JMP_JGE, 0, 6, 2), MOV64_IMM(0, 1), EXIT(),
		JMP_IMM(COMB_JMP_JNE, 6, 0, 2), MOV64_IMM(0, 2), EXIT(),
		CALL_HELPER(125), JMP_IMM(COMB_JMP_JNE, 0, 0, 2), MOV64_IMM(0, 3), EXIT(),
		CALL_HELPER(160), JMP_IMM(COMB_JMP_JNE, 0, 0, 2), MOV64_IMM(0, 4), EXIT(),
		/* three random numbers are not all equal */
		CALL_HELPER(7), MOV64_REG(6, 0), CALL_HELPER(7), MOV64_REG(7, 0),
		CALL_HELPER(7), JMP_REG(COMB_JMP_JNE, 0, 6, 3), JMP_REG(COMB_JMP_JNE, 0, 7, 2),
		MOV64_IMM(0, 5), EXIT(),
		CALL_HELPER(8), JMP_IMM(COMB_JMP_JLT, 0, (int32_t)nr_cpus(), 2), MOV64_IMM(0, 6), EXIT(),
		MOV64_IMM(0, 0), EXIT(),
	};
	enum comb_engine engines[] = { COMB_ENGINE_INTERP, COMB_ENGINE_CHECKED };
	for (size_t e = 0; e < 2; e++) {
		struct helper_run run = { 0 };
		CHECK(run_prog(prog, ARRAY_SIZE(prog), engines[e], &run));
		CHECK_EQ(run.ret, 0);
		CHECK_EQ(run.r0, 0);
	}
}

/* Run trace_printk(fmt, sizeof fmt, a1, a2, a3) with stderr captured. */
static int64_t printk_capture(const char *fmt, size_t fmt_size, uint64_t a1, uint64_t a2, uint64_t a3,
			      enum comb_engine engine, char *out, size_t out_len)
{
	struct comb_insn prog[] = {
		MOV64_REG(6, 1), MOV64_REG(1, 2), MOV64_REG(2, 3), MOV64_REG(3, 4), MOV64_REG(4, 5),
		LDX_MEM(COMB_SIZE_DW, 5, 6, 0),
		CALL_HELPER(6), EXIT(),
	};
	uint64_t a3_box = a3;
	struct comb_region regions[] = {
		{ (uintptr_t)fmt, fmt_size, false },
		{ (uintptr_t)&a3_box, 8, false },
		{ a2, a2 ? strlen((const char *)(uintptr_t)a2) + 1 : 0, false },
	};
	struct helper_run run = {
		.args = { (uintptr_t)&a3_box, (uintptr_t)fmt, fmt_size, a1, a2 },
		.regions = regions, .region_count = 3,
	};
	FILE *tmp = tmpfile();
	if (!tmp)
		return -1000;
	fflush(stderr);
	int saved = dup(2);
	dup2(fileno(tmp), 2);
	bool ok = run_prog(prog, ARRAY_SIZE(prog), engine, &run);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, out_len - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return ok && run.ret == 0 ? (int64_t)run.r0 : -1000;
}

TEST(map_trace_printk_formats_to_stderr)
{
	static const char fmt[] = "n=%d u=%u x=%llx s=%s c=%c %%\n";
	static const char bad[] = "%q\n";
	static const char str[] = "hello";
	enum comb_engine engines[] = { COMB_ENGINE_INTERP, COMB_ENGINE_CHECKED };
	for (size_t e = 0; e < 2; e++) {
		char out[256];
		int64_t rc = printk_capture(fmt, sizeof(fmt), (uint32_t)-5, (uintptr_t)str, 0, engines[e], out,
					    sizeof(out));
		/* five conversions: the fourth has no argument */
		CHECK_EQ(rc, -EINVAL);
		static const char fmt3[] = "n=%d s=%s x=%llx\n";
		rc = printk_capture(fmt3, sizeof(fmt3), (uint32_t)-5, (uintptr_t)str, 0xabcdef123ull, engines[e],
				    out, sizeof(out));
		CHECK_STR(out, "comb: bpf_trace_printk: n=-5 s=hello x=abcdef123\n");
		CHECK_EQ(rc, strlen("n=-5 s=hello x=abcdef123\n"));
		CHECK_EQ(printk_capture(bad, sizeof(bad), 0, 0, 0, engines[e], out, sizeof(out)), -EINVAL);
		CHECK_EQ(printk_capture(fmt3, 4, 0, 0, 0, engines[e], out, sizeof(out)), -EINVAL); /* no NUL */
	}
}
