/* tests/kernel/kernel_maptypes.c - LPM_TRIE, QUEUE, STACK and BLOOM_FILTER
 * against the kernel's.
 *
 * Each test creates the same map in the kernel (libbpf's bpf_map_create and
 * the bpf() map commands) and in comb, applies the same sequence of
 * operations to both and requires the same return codes, the same values
 * and, for the trie, the same get_next_key order after every change. Pushes
 * are BPF_MAP_UPDATE_ELEM, peeks BPF_MAP_LOOKUP_ELEM and pops
 * BPF_MAP_LOOKUP_AND_DELETE_ELEM, as in the kernel's syscall. The LPM
 * sequences are random (fixed seeds) over a small pool of prefixes so that
 * nesting, splits, replacements, a full map and deletes all happen.
 * Bloom filters may differ in false positives (hash functions and seeds are
 * not the kernel's), so only "every pushed value is maybe present" and the
 * error codes are compared. When bpf() is not permitted the suite skips.
 *
 * Output: one line per failed test, then `kernel-maptypes: N passed, N failed`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "comb/map.h"
#include "maps/queue.h"

static int passed, failed;

struct pair {
	int fd;
	struct comb_map *map;
	uint32_t key_size, value_size;
	char what[160]; /* first mismatch */
};

static bool mismatch(struct pair *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool mismatch(struct pair *p, const char *fmt, ...)
{
	if (!p->what[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->what, sizeof(p->what), fmt, ap);
		va_end(ap);
	}
	return false;
}

static void report(const char *name, bool ok, const char *what)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		printf("FAIL %s: %s\n", name, what);
	}
}

/* Create both maps; returns the two create codes through kernel_rc/comb_rc. */
static void pair_create(struct pair *p, uint32_t type, uint32_t key_size, uint32_t value_size,
			uint32_t max_entries, uint32_t flags, uint64_t extra, int *kernel_rc, int *comb_rc)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->key_size = key_size;
	p->value_size = value_size;
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags, .map_extra = extra);
	int fd = bpf_map_create(type, NULL, key_size, value_size, max_entries, &opts);
	*kernel_rc = fd < 0 ? -errno : 0;
	p->fd = fd;
	struct comb_map_def def = {
		.sz = sizeof(def), .name = "cmp", .type = type, .key_size = key_size,
		.value_size = value_size, .max_entries = max_entries, .map_flags = flags, .map_extra = extra,
	};
	char err[256];
	*comb_rc = comb_map_create(&def, &p->map, err, sizeof(err));
}

static void pair_free(struct pair *p)
{
	if (p->fd >= 0)
		close(p->fd);
	comb_map_free(p->map);
	p->fd = -1;
	p->map = NULL;
}

static int kernel_rc(int rc)
{
	return rc < 0 ? -errno : 0;
}

static bool same_rc(struct pair *p, const char *op, int step, int k, int c)
{
	if (k != c)
		return mismatch(p, "step %d %s: kernel %d, comb %d", step, op, k, c);
	return true;
}

static bool cmp_update(struct pair *p, int step, const void *key, const void *value, uint64_t flags)
{
	int k = kernel_rc(bpf_map_update_elem(p->fd, key, value, flags));
	int c = comb_map_update(p->map, key, value, flags);
	return same_rc(p, "update", step, k, c);
}

static bool cmp_read(struct pair *p, int step, const char *op, int k, int c, const void *kv, const void *cv)
{
	if (!same_rc(p, op, step, k, c))
		return false;
	if (k == 0 && memcmp(kv, cv, p->value_size) != 0)
		return mismatch(p, "step %d %s: values differ", step, op);
	return true;
}

static bool cmp_lookup(struct pair *p, int step, const void *key)
{
	uint8_t kv[256] = { 0 }, cv[256] = { 0 };
	int k = kernel_rc(bpf_map_lookup_elem(p->fd, key, kv));
	int c = comb_map_lookup(p->map, key, cv);
	return cmp_read(p, step, "lookup", k, c, kv, cv);
}

static bool cmp_pop(struct pair *p, int step)
{
	uint8_t kv[256] = { 0 }, cv[256] = { 0 };
	int k = kernel_rc(bpf_map_lookup_and_delete_elem(p->fd, NULL, kv));
	int c = map_pop_elem(p->map, cv);
	return cmp_read(p, step, "pop", k, c, kv, cv);
}

static bool cmp_delete(struct pair *p, int step, const void *key)
{
	int k = kernel_rc(bpf_map_delete_elem(p->fd, key));
	int c = comb_map_delete(p->map, key);
	return same_rc(p, "delete", step, k, c);
}

static bool cmp_next_key(struct pair *p, int step, const void *key)
{
	uint8_t kn[300] = { 0 }, cn[300] = { 0 };
	int k = kernel_rc(bpf_map_get_next_key(p->fd, key, kn));
	int c = comb_map_get_next_key(p->map, key, cn);
	if (!same_rc(p, "get_next_key", step, k, c))
		return false;
	if (k == 0 && memcmp(kn, cn, p->key_size) != 0)
		return mismatch(p, "step %d get_next_key: keys differ", step);
	return true;
}

/* Walk every key from NULL in both maps: same keys in the same order. */
static bool cmp_iteration(struct pair *p, int step)
{
	uint8_t kcur[300], ccur[300], knext[300], cnext[300];
	const void *kprev = NULL, *cprev = NULL;
	for (int n = 0; n < 100000; n++) {
		int k = kernel_rc(bpf_map_get_next_key(p->fd, kprev, knext));
		int c = comb_map_get_next_key(p->map, cprev, cnext);
		if (k != c)
			return mismatch(p, "step %d iteration, key %d: kernel %d, comb %d", step, n, k, c);
		if (k)
			return true;
		if (memcmp(knext, cnext, p->key_size) != 0)
			return mismatch(p, "step %d iteration, key %d differs", step, n);
		memcpy(kcur, knext, p->key_size);
		memcpy(ccur, cnext, p->key_size);
		kprev = kcur;
		cprev = ccur;
	}
	return mismatch(p, "step %d iteration does not end", step);
}

/* ---- creation rules ------------------------------------------------------ */

static void test_create_rules(void)
{
	static const struct {
		const char *name;
		uint32_t type, key_size, value_size, max_entries, flags;
		uint64_t extra;
	} cases[] = {
		{ "queue ok", BPF_MAP_TYPE_QUEUE, 0, 4, 4, 0, 0 },
		{ "queue key_size 4", BPF_MAP_TYPE_QUEUE, 4, 4, 4, 0, 0 },
		{ "queue value_size 0", BPF_MAP_TYPE_QUEUE, 0, 0, 4, 0, 0 },
		{ "queue max_entries 0", BPF_MAP_TYPE_QUEUE, 0, 4, 0, 0, 0 },
		{ "queue no_prealloc", BPF_MAP_TYPE_QUEUE, 0, 4, 4, BPF_F_NO_PREALLOC, 0 },
		{ "queue rdonly_prog", BPF_MAP_TYPE_QUEUE, 0, 4, 4, BPF_F_RDONLY_PROG, 0 },
		{ "queue map_extra", BPF_MAP_TYPE_QUEUE, 0, 4, 4, 0, 1 },
		{ "queue value_size 1M", BPF_MAP_TYPE_QUEUE, 0, 1u << 20, 2, 0, 0 },
		{ "queue value_size 8M", BPF_MAP_TYPE_QUEUE, 0, 8u << 20, 2, 0, 0 },
		{ "stack ok", BPF_MAP_TYPE_STACK, 0, 8, 4, 0, 0 },
		{ "stack key_size 4", BPF_MAP_TYPE_STACK, 4, 8, 4, 0, 0 },
		{ "stack mmapable", BPF_MAP_TYPE_STACK, 0, 8, 4, BPF_F_MMAPABLE, 0 },
		{ "bloom ok", BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 100, 0, 0 },
		{ "bloom 3 hashes", BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 100, 0, 3 },
		{ "bloom map_extra 0x10", BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 100, 0, 0x10 },
		{ "bloom key_size 4", BPF_MAP_TYPE_BLOOM_FILTER, 4, 4, 100, 0, 0 },
		{ "bloom value_size 0", BPF_MAP_TYPE_BLOOM_FILTER, 0, 0, 100, 0, 0 },
		{ "bloom zero seed", BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 100, BPF_F_ZERO_SEED, 0 },
		{ "bloom no_prealloc", BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 100, BPF_F_NO_PREALLOC, 0 },
		{ "lpm ok", BPF_MAP_TYPE_LPM_TRIE, 8, 4, 16, BPF_F_NO_PREALLOC, 0 },
		{ "lpm preallocated", BPF_MAP_TYPE_LPM_TRIE, 8, 4, 16, 0, 0 },
		{ "lpm key_size 4", BPF_MAP_TYPE_LPM_TRIE, 4, 4, 16, BPF_F_NO_PREALLOC, 0 },
		{ "lpm key_size 5", BPF_MAP_TYPE_LPM_TRIE, 5, 4, 16, BPF_F_NO_PREALLOC, 0 },
		{ "lpm key_size 260", BPF_MAP_TYPE_LPM_TRIE, 260, 4, 16, BPF_F_NO_PREALLOC, 0 },
		{ "lpm key_size 261", BPF_MAP_TYPE_LPM_TRIE, 261, 4, 16, BPF_F_NO_PREALLOC, 0 },
		{ "lpm value_size 0", BPF_MAP_TYPE_LPM_TRIE, 8, 0, 16, BPF_F_NO_PREALLOC, 0 },
		{ "lpm max_entries 0", BPF_MAP_TYPE_LPM_TRIE, 8, 4, 0, BPF_F_NO_PREALLOC, 0 },
		{ "lpm zero seed", BPF_MAP_TYPE_LPM_TRIE, 8, 4, 16, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED, 0 },
		{ "lpm map_extra", BPF_MAP_TYPE_LPM_TRIE, 8, 4, 16, BPF_F_NO_PREALLOC, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pair p;
		int k, c;
		pair_create(&p, cases[i].type, cases[i].key_size, cases[i].value_size, cases[i].max_entries,
			    cases[i].flags, cases[i].extra, &k, &c);
		char name[96], what[96];
		snprintf(name, sizeof(name), "create %s", cases[i].name);
		snprintf(what, sizeof(what), "kernel %d, comb %d", k, c);
		report(name, k == c, what);
		pair_free(&p);
	}
}

/* ---- queue and stack ----------------------------------------------------- */

static bool queue_sequence(struct pair *p)
{
	int step = 0;
	bool ok = true;
	for (uint64_t v = 1; ok && v <= 6; v++) /* one more than fits */
		ok = cmp_update(p, step++, NULL, &v, BPF_ANY);
	for (uint64_t v = 10; ok && v < 13; v++) /* BPF_EXIST drops the oldest */
		ok = cmp_update(p, step++, NULL, &v, BPF_EXIST);
	uint64_t v = 99;
	ok = ok && cmp_update(p, step++, NULL, &v, BPF_NOEXIST);
	ok = ok && cmp_update(p, step++, NULL, &v, 3);
	ok = ok && cmp_update(p, step++, NULL, &v, BPF_F_LOCK);
	ok = ok && cmp_lookup(p, step++, NULL);
	ok = ok && cmp_delete(p, step++, NULL);
	ok = ok && cmp_next_key(p, step++, NULL);
	for (int i = 0; ok && i < 7; i++) /* until empty, and once more */
		ok = cmp_pop(p, step++) && cmp_lookup(p, step++, NULL);
	for (uint64_t w = 20; ok && w < 23; w++) /* wrap around the ring */
		ok = cmp_update(p, step++, NULL, &w, BPF_ANY) && cmp_pop(p, step++) &&
		     cmp_update(p, step++, NULL, &w, BPF_ANY);
	for (int i = 0; ok && i < 5; i++)
		ok = cmp_pop(p, step++);
	return ok;
}

static void test_queue_stack(uint32_t type, const char *name)
{
	struct pair p;
	int k, c;
	pair_create(&p, type, 0, 8, 5, 0, 0, &k, &c);
	if (k || c) {
		char what[64];
		snprintf(what, sizeof(what), "create: kernel %d, comb %d", k, c);
		report(name, false, what);
	} else {
		report(name, queue_sequence(&p), p.what);
	}
	pair_free(&p);
}

/* ---- bloom filter -------------------------------------------------------- */

static void test_bloom(void)
{
	struct pair p;
	int k, c;
	pair_create(&p, BPF_MAP_TYPE_BLOOM_FILTER, 0, 4, 200, 0, 3, &k, &c);
	bool ok = k == 0 && c == 0;
	if (!ok)
		mismatch(&p, "create: kernel %d, comb %d", k, c);
	int step = 0;
	uint32_t v = 7;
	ok = ok && cmp_update(&p, step++, NULL, &v, BPF_EXIST);
	ok = ok && cmp_update(&p, step++, NULL, &v, BPF_NOEXIST);
	ok = ok && cmp_delete(&p, step++, NULL);
	ok = ok && cmp_next_key(&p, step++, NULL);
	for (uint32_t i = 0; ok && i < 200; i++) {
		uint32_t value = i * 2654435761u;
		ok = cmp_update(&p, step++, NULL, &value, BPF_ANY);
	}
	for (uint32_t i = 0; ok && i < 200; i++) {
		uint32_t value = i * 2654435761u;
		uint32_t kv = value, cv = value;
		int kr = kernel_rc(bpf_map_lookup_elem(p.fd, NULL, &kv));
		int cr = comb_map_lookup(p.map, NULL, &cv);
		if (ok && (kr || cr))
			ok = mismatch(&p, "pushed value %u: kernel %d, comb %d", value, kr, cr);
	}
	/* Absent values: mostly -ENOENT in both (false positives may differ). */
	int absent_kernel = 0, absent_comb = 0;
	for (uint32_t i = 0; ok && i < 1000; i++) {
		uint32_t kv = 0x80000000u + i, cv = kv;
		absent_kernel += kernel_rc(bpf_map_lookup_elem(p.fd, NULL, &kv)) == -ENOENT;
		absent_comb += comb_map_lookup(p.map, NULL, &cv) == -ENOENT;
	}
	if (ok && (absent_kernel < 800 || absent_comb < 800))
		ok = mismatch(&p, "absent values found absent: kernel %d/1000, comb %d/1000", absent_kernel,
			      absent_comb);
	report("bloom filter", ok, p.what);
	pair_free(&p);
}

/* ---- LPM trie ------------------------------------------------------------ */

struct lpm_key_buf {
	uint32_t prefixlen;
	uint8_t data[16];
};

static uint64_t rng_state;

static uint32_t rng(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

/* A key from a small pool: prefixes of a few base addresses, so entries
 * nest and split; sometimes a prefix length beyond the data. */
static void random_key(struct lpm_key_buf *key, uint32_t data_size)
{
	static const uint8_t bases[4][16] = {
		{ 10, 0, 0, 1, 1, 2, 3, 4 }, { 10, 0, 128, 7, 5, 6, 7, 8 },
		{ 192, 168, 1, 1, 9, 9, 9, 9 }, { 10, 1, 0, 0, 0, 0, 0, 1 },
	};
	memset(key, 0, sizeof(*key));
	uint32_t bits = data_size * 8;
	memcpy(key->data, bases[rng() % 4], data_size);
	if (rng() % 4 == 0)
		key->data[rng() % data_size] ^= (uint8_t)(1u << (rng() % 8));
	key->prefixlen = rng() % 40 == 0 ? bits + 1 : rng() % (bits + 1);
	/* Clear the bits beyond the prefix, as programs and users usually do
	 * (sometimes leave them to check they are ignored). */
	if (rng() % 3) {
		for (uint32_t b = key->prefixlen; b < bits; b++)
			key->data[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	}
}

static bool lpm_sequence(struct pair *p, uint32_t data_size, int steps)
{
	bool ok = true;
	for (int step = 0; ok && step < steps; step++) {
		struct lpm_key_buf key;
		random_key(&key, data_size);
		uint32_t value = rng();
		switch (rng() % 8) {
		case 0:
		case 1:
		case 2:
			ok = cmp_update(p, step, &key, &value, rng() % 10 == 0 ? 3 : rng() % 3);
			break;
		case 3:
		case 4:
			ok = cmp_delete(p, step, &key);
			break;
		case 5:
			key.prefixlen = data_size * 8;
			ok = cmp_lookup(p, step, &key);
			break;
		case 6:
			ok = cmp_lookup(p, step, &key);
			break;
		default:
			ok = cmp_next_key(p, step, &key);
			break;
		}
		ok = ok && cmp_iteration(p, step);
	}
	return ok;
}

static void test_lpm(uint32_t data_size, uint32_t max_entries, uint64_t seed, int steps)
{
	struct pair p;
	int k, c;
	char name[96];
	snprintf(name, sizeof(name), "lpm_trie data %u bytes, max_entries %u, seed %llu", data_size, max_entries,
		 (unsigned long long)seed);
	pair_create(&p, BPF_MAP_TYPE_LPM_TRIE, 4 + data_size, 4, max_entries, BPF_F_NO_PREALLOC, 0, &k, &c);
	bool ok = k == 0 && c == 0;
	if (!ok)
		mismatch(&p, "create: kernel %d, comb %d", k, c);
	rng_state = seed;
	ok = ok && lpm_sequence(&p, data_size, steps);
	report(name, ok, p.what);
	pair_free(&p);
}

int main(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, &opts);
	if (fd < 0) {
		printf("kernel-maptypes: skipped (bpf() map creation failed: %s)\n", strerror(errno));
		printf("kernel-maptypes: 0 passed, 0 failed\n");
		return 0;
	}
	close(fd);
	test_create_rules();
	test_queue_stack(BPF_MAP_TYPE_QUEUE, "queue");
	test_queue_stack(BPF_MAP_TYPE_STACK, "stack");
	test_bloom();
	for (uint64_t seed = 1; seed <= 6; seed++) {
		test_lpm(4, seed % 2 ? 8 : 64, seed, 400);
		test_lpm(1, 16, seed + 100, 300);
		test_lpm(8, 32, seed + 200, 400);
	}
	printf("kernel-maptypes: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
