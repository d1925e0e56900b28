/* tests/kernel/kernel_maps.c - ARRAY, PERCPU_ARRAY, HASH, PERCPU_HASH,
 * LRU_HASH and LRU_PERCPU_HASH against the kernel's, and bad definitions.
 *
 * Each test creates the same map in the kernel (libbpf's bpf_map_create and
 * the bpf() map commands) and in comb, then applies one random sequence of
 * operations (fixed seed) to both: update with BPF_ANY, BPF_NOEXIST,
 * BPF_EXIST and invalid flags, lookup, delete, get_next_key from a missing
 * key, over a key range a little larger than max_entries so that a full map
 * happens. Return codes and values must be the same. Hash iteration order
 * is the map's own business, so the sets of keys that a full get_next_key
 * walk yields are compared every few steps. LRU maps use a key range within
 * max_entries (which element the kernel's LRU evicts is not specified).
 * Bad definitions (sizes, unknown types, max_entries 0 or absurd) must be
 * refused by both with the same error. Access rules: maps created with
 * BPF_F_RDONLY / BPF_F_WRONLY, and maps frozen (BPF_MAP_FREEZE, twice),
 * answer user-space update, lookup, delete and freeze with the kernel's codes.
 *
 * Output: one line per failed test, then `kernel-maps: N passed, N failed`.
 * When bpf() is not permitted the suite skips.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "comb/map.h"

#define STEPS 3000
#define KEY_SIZE 8
#define VALUE_SIZE 12

static int passed, failed;

struct pair {
	const char *name;
	int fd;
	struct comb_map *map;
	uint32_t type, max_entries, value_bytes, key_range;
	bool percpu;
	char what[200];
};

static uint64_t rng_state;
static uint32_t rng(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

static void fail_once(struct pair *p, const char *what, int step, long a, long b)
{
	if (!p->what[0])
		snprintf(p->what, sizeof(p->what), "step %d: %s: kernel %ld, comb %ld", step, what, a, b);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, KEY_SIZE);
}

/* All keys a get_next_key walk yields, sorted; the count, or -1. */
static int kernel_keys(int fd, uint8_t *keys, int cap)
{
	uint8_t key[KEY_SIZE], next[KEY_SIZE];
	int n = 0;
	int rc = bpf_map_get_next_key(fd, NULL, next);
	while (rc == 0 && n < cap) {
		memcpy(keys + (size_t)n++ * KEY_SIZE, next, KEY_SIZE);
		memcpy(key, next, KEY_SIZE);
		rc = bpf_map_get_next_key(fd, key, next);
	}
	qsort(keys, (size_t)n, KEY_SIZE, key_cmp);
	return rc == -ENOENT ? n : -1;
}

static int comb_keys(struct comb_map *map, uint8_t *keys, int cap)
{
	uint8_t key[KEY_SIZE], next[KEY_SIZE];
	int n = 0;
	int rc = comb_map_get_next_key(map, NULL, next);
	while (rc == 0 && n < cap) {
		memcpy(keys + (size_t)n++ * KEY_SIZE, next, KEY_SIZE);
		memcpy(key, next, KEY_SIZE);
		rc = comb_map_get_next_key(map, key, next);
	}
	qsort(keys, (size_t)n, KEY_SIZE, key_cmp);
	return rc == -ENOENT ? n : -1;
}

static void compare_sets(struct pair *p, int step)
{
	int cap = (int)p->max_entries + 8;
	uint8_t *a = calloc((size_t)cap, KEY_SIZE), *b = calloc((size_t)cap, KEY_SIZE);
	int na = kernel_keys(p->fd, a, cap), nb = comb_keys(p->map, b, cap);
	if (na != nb)
		fail_once(p, "number of keys iterated", step, na, nb);
	else if (na > 0 && memcmp(a, b, (size_t)na * KEY_SIZE))
		fail_once(p, "sets of keys differ", step, 0, 1);
	free(a);
	free(b);
}

/* Array maps have u32 keys; hash maps KEY_SIZE-byte keys. */
static uint32_t key_size_of(const struct pair *p)
{
	return p->type == BPF_MAP_TYPE_ARRAY || p->type == BPF_MAP_TYPE_PERCPU_ARRAY ? 4 : KEY_SIZE;
}

static void fill_value(const struct pair *p, uint8_t *value, uint32_t seed)
{
	for (uint32_t i = 0; i < p->value_bytes; i++)
		value[i] = (uint8_t)(seed * 31 + i);
	if (p->percpu) /* only value_size bytes of each slot are data */
		for (uint32_t i = 0; i < p->value_bytes; i++)
			if (i % ((VALUE_SIZE + 7) & ~7u) >= VALUE_SIZE)
				value[i] = 0;
}

static const uint64_t update_flags[] = { BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_ANY, 3, 1ull << 40 };

static void one_step(struct pair *p, int step)
{
	uint8_t key[KEY_SIZE] = { 0 }, next_k[KEY_SIZE], next_c[KEY_SIZE];
	uint8_t value[4096], out_k[4096], out_c[4096];
	uint32_t k = rng() % p->key_range;
	memcpy(key, &k, sizeof(k));
	uint32_t op = rng() % 10;
	if (op < 5) {
		uint64_t flags = update_flags[rng() % 6];
		fill_value(p, value, rng());
		int a = bpf_map_update_elem(p->fd, key, value, flags);
		int b = comb_map_update(p->map, key, value, flags);
		if (a != b)
			fail_once(p, "update return code", step, a, b);
	} else if (op < 7) {
		memset(out_k, 0xaa, p->value_bytes);
		memset(out_c, 0xaa, p->value_bytes);
		int a = bpf_map_lookup_elem(p->fd, key, out_k);
		int b = comb_map_lookup(p->map, key, out_c);
		if (a != b)
			fail_once(p, "lookup return code", step, a, b);
		else if (a == 0 && memcmp(out_k, out_c, p->value_bytes))
			fail_once(p, "looked-up value", step, 0, 1);
	} else if (op < 9) {
		int a = bpf_map_delete_elem(p->fd, key);
		int b = comb_map_delete(p->map, key);
		if (a != b)
			fail_once(p, "delete return code", step, a, b);
	} else {
		/* From a key that is absent in both: the first key (order may
		 * differ for hashes, not whether there is one). */
		uint8_t missing[KEY_SIZE];
		memset(missing, 0xee, sizeof(missing));
		int a = bpf_map_get_next_key(p->fd, missing, next_k);
		int b = comb_map_get_next_key(p->map, missing, next_c);
		if (a != b)
			fail_once(p, "get_next_key from a missing key", step, a, b);
		else if (a == 0 && key_size_of(p) == 4 && memcmp(next_k, next_c, 4))
			fail_once(p, "array get_next_key", step, 0, 1);
	}
	if (step % 50 == 0)
		compare_sets(p, step);
}

static void run_type(const char *name, uint32_t type, uint32_t max_entries, bool percpu, bool lru)
{
	struct pair p = { .name = name, .type = type, .max_entries = max_entries, .percpu = percpu };
	int ncpus = libbpf_num_possible_cpus();
	p.value_bytes = percpu ? (uint32_t)ncpus * ((VALUE_SIZE + 7) & ~7u) : VALUE_SIZE;
	p.key_range = lru ? max_entries : max_entries + max_entries / 4 + 2;
	uint32_t ks = key_size_of(&p);
	p.fd = bpf_map_create(type, name, ks, VALUE_SIZE, max_entries, NULL);
	struct comb_map_def def = { .sz = sizeof(def), .name = name, .type = type, .key_size = ks,
				    .value_size = VALUE_SIZE, .max_entries = max_entries };
	char err[256];
	int rc = comb_map_create(&def, &p.map, err, sizeof(err));
	if (p.fd < 0 || rc) {
		printf("FAIL %s: create: kernel %d, comb %d %s\n", name, p.fd, rc, err);
		failed++;
	} else {
		rng_state = type * 1000003ull;
		for (int step = 0; step < STEPS; step++)
			one_step(&p, step);
		compare_sets(&p, STEPS);
		if (p.what[0]) {
			printf("FAIL %s: %s\n", name, p.what);
			failed++;
		} else {
			passed++;
		}
	}
	if (p.fd >= 0)
		close(p.fd);
	comb_map_free(p.map);
}

/* ---- bad definitions */

struct bad_def {
	const char *what;
	uint32_t type, key_size, value_size, max_entries, flags;
};

static const struct bad_def bad_defs[] = {
	{ "array key_size 8", BPF_MAP_TYPE_ARRAY, 8, 4, 4, 0 },
	{ "array value_size 0", BPF_MAP_TYPE_ARRAY, 4, 0, 4, 0 },
	{ "array max_entries 0", BPF_MAP_TYPE_ARRAY, 4, 4, 0, 0 },
	/* (comb refuses values over 4 MiB with -E2BIG where this kernel accepts
	 * them: a deliberate limit, checked in test_maps.c, not compared here) */
	{ "array unknown flag", BPF_MAP_TYPE_ARRAY, 4, 4, 4, 1u << 20 },
	{ "array rdonly+wronly", BPF_MAP_TYPE_ARRAY, 4, 4, 4, BPF_F_RDONLY | BPF_F_WRONLY },
	{ "percpu array mmapable", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 4, BPF_F_MMAPABLE },
	{ "hash key_size 0", BPF_MAP_TYPE_HASH, 0, 4, 4, 0 },
	{ "hash value_size 0", BPF_MAP_TYPE_HASH, 4, 0, 4, 0 },
	{ "hash max_entries 0", BPF_MAP_TYPE_HASH, 4, 4, 0, 0 },
	{ "hash max_entries 2^32-1", BPF_MAP_TYPE_HASH, 4, 4, UINT32_MAX, 0 },
	{ "hash unknown flag", BPF_MAP_TYPE_HASH, 4, 4, 4, 1u << 20 },
	{ "lru hash no_prealloc", BPF_MAP_TYPE_LRU_HASH, 4, 4, 4, BPF_F_NO_PREALLOC },
	{ "unknown map type 99", 99, 4, 4, 4, 0 },
};

static void run_bad_defs(void)
{
	for (size_t i = 0; i < sizeof(bad_defs) / sizeof(bad_defs[0]); i++) {
		const struct bad_def *d = &bad_defs[i];
		LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = d->flags);
		int fd = bpf_map_create(d->type, "bad", d->key_size, d->value_size, d->max_entries, &opts);
		struct comb_map_def def = { .sz = sizeof(def), .name = "bad", .type = d->type,
					    .key_size = d->key_size, .value_size = d->value_size,
					    .max_entries = d->max_entries, .map_flags = d->flags };
		struct comb_map *map = NULL;
		char err[256] = "";
		int rc = comb_map_create(&def, &map, err, sizeof(err));
		comb_map_free(map);
		if (fd >= 0)
			close(fd);
		int kernel = fd >= 0 ? 0 : fd;
		if (kernel == -524) /* the kernel's internal ENOTSUPP: comb says -ENOTSUP */
			kernel = -ENOTSUP;
		if (kernel != rc || rc == 0 || !err[0]) {
			printf("FAIL bad definition %s: kernel %d, comb %d (%s)\n", d->what, kernel, rc, err);
			failed++;
		} else {
			passed++;
		}
	}
}

/* One user-space operation on both maps; the codes must be the same. */
static void compare_access(const char *what, const char *op, int kernel, int comb)
{
	if (kernel < 0)
		kernel = -errno;
	if (kernel != comb) {
		printf("FAIL access %s: %s: kernel %d, comb %d\n", what, op, kernel, comb);
		failed++;
	} else {
		passed++;
	}
}

static void run_access_case(const char *what, uint32_t type, uint32_t flags, int freezes)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	int fd = bpf_map_create(type, "access", 4, 8, 4, &opts);
	struct comb_map_def def = { .sz = sizeof(def), .name = "access", .type = type, .key_size = 4,
				    .value_size = 8, .max_entries = 4, .map_flags = flags };
	struct comb_map *map = NULL;
	char err[256];
	int rc = comb_map_create(&def, &map, err, sizeof(err));
	if (fd < 0 || rc) {
		printf("FAIL access %s: cannot create (kernel %d, comb %d %s)\n", what, fd, rc, err);
		failed++;
		if (fd >= 0)
			close(fd);
		comb_map_free(map);
		return;
	}
	uint32_t key = 1;
	uint64_t value = 0x1122334455667788ull, out = 0;
	for (int i = 0; i < freezes; i++)
		compare_access(what, "freeze", bpf_map_freeze(fd), comb_map_freeze(map));
	compare_access(what, "update", bpf_map_update_elem(fd, &key, &value, BPF_ANY),
		       comb_map_update(map, &key, &value, BPF_ANY));
	compare_access(what, "lookup", bpf_map_lookup_elem(fd, &key, &out), comb_map_lookup(map, &key, &out));
	compare_access(what, "delete", bpf_map_delete_elem(fd, &key), comb_map_delete(map, &key));
	close(fd);
	comb_map_free(map);
}

static void run_access_rules(void)
{
	static const struct { const char *name; uint32_t type; } types[] = {
		{ "array", BPF_MAP_TYPE_ARRAY }, { "hash", BPF_MAP_TYPE_HASH },
	};
	static const struct { const char *name; uint32_t flags; int freezes; } cases[] = {
		{ "plain", 0, 0 },
		{ "BPF_F_RDONLY", BPF_F_RDONLY, 0 },
		{ "BPF_F_WRONLY", BPF_F_WRONLY, 0 },
		{ "frozen", 0, 1 },
		{ "frozen twice", 0, 2 },
		{ "BPF_F_RDONLY frozen", BPF_F_RDONLY, 1 },
		{ "BPF_F_RDONLY_PROG frozen", BPF_F_RDONLY_PROG, 1 },
	};
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			char what[64];
			snprintf(what, sizeof(what), "%s %s", types[t].name, cases[k].name);
			run_access_case(what, types[t].type, cases[k].flags, cases[k].freezes);
		}
}

static bool bpf_permitted(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "probe", 4, 4, 1, NULL);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int main(void)
{
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (!bpf_permitted()) {
		printf("kernel-maps: skipped (bpf() is not permitted here)\n");
		printf("kernel-maps: 0 passed, 0 failed\n");
		return 0;
	}
	run_type("array", BPF_MAP_TYPE_ARRAY, 32, false, false);
	run_type("percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY, 32, true, false);
	run_type("hash", BPF_MAP_TYPE_HASH, 32, false, false);
	run_type("hash_big", BPF_MAP_TYPE_HASH, 1000, false, false);
	run_type("percpu_hash", BPF_MAP_TYPE_PERCPU_HASH, 32, true, false);
	run_type("lru_hash", BPF_MAP_TYPE_LRU_HASH, 256, false, true);
	run_type("lru_percpu_hash", BPF_MAP_TYPE_LRU_PERCPU_HASH, 256, true, true);
	run_bad_defs();
	run_access_rules();
	printf("kernel-maps: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
