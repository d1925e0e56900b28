/* bench/map_bench.c - map-bench: comb's maps against the kernel's.
 *
 *   map-bench --obj build/bench/map_ops.bpf.o [--rounds N] [--only hash_update]
 *
 * bench/progs/map_ops.bpf.c has three XDP programs, each doing 1000 map
 * operations per run: hash lookups, hash updates (existing keys) and array
 * lookups. The object is loaded by libbpf into the kernel and by comb's
 * object loader; both sides' maps are filled the same way and each program
 * must return the same value on both. Then, in interleaved rounds, each
 * program runs REPEAT times through BPF_PROG_TEST_RUN (kernel JIT) and
 * through comb_prog_test_run with comb's JIT and with its interpreter; the
 * table shows the median ns per map operation of each and the median of the
 * per-round ratios comb JIT / kernel (below 1: comb is faster). Both sides
 * count time on the CPU: the kernel's test run stops its clock whenever it
 * is rescheduled, so comb's time is the smaller of its test run's wall
 * clock and the thread's CPU time for the call (on a loaded machine wall
 * time charges other processes' time slices to comb). The object
 * is loaded verified; if comb's verifier refuses it, unverified (the
 * engines are named explicitly), with a note.
 *
 * Memory: bytes per hash entry, comb (the map's shared region: header page
 * plus storage) against the kernel (the memlock its fdinfo reports), for a
 * hash map of 1024 u32 -> u64 entries and one of 65536.
 *
 * The kernel side is skipped, with a message, when bpf() is not permitted.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "comb/map.h"
#include "comb/object.h"
#include "comb/testrun.h"
#include "comb/vm.h"
#include "stats.h"

#define MAP_OPS 1000
#define HASH_KEYS 1024
#define ARRAY_KEYS 256
#define REPEAT 300
#define MAX_ROUNDS 101

static const char *const prog_names[] = { "map_hash_lookup", "map_hash_update", "map_array_lookup" };
#define PROG_COUNT 3

struct kernel_side {
	struct bpf_object *obj;
	int prog_fd[PROG_COUNT];
	int hash_fd, array_fd;
};

struct comb_side {
	struct comb_vm *vm;
	struct comb_object *obj;
	struct comb_prog *prog[PROG_COUNT];
	struct comb_map *hash, *array;
};

static uint8_t packet[64];

static void fill_values(int (*update)(void *m, uint32_t k, uint64_t v), void *hash, void *array)
{
	for (uint32_t k = 0; k < HASH_KEYS; k++)
		update(hash, k, k * 3 + 1);
	for (uint32_t k = 0; k < ARRAY_KEYS; k++)
		update(array, k, k + 5);
}

static int kernel_update(void *m, uint32_t k, uint64_t v)
{
	return bpf_map_update_elem((int)(intptr_t)m, &k, &v, BPF_ANY);
}

static int comb_update(void *m, uint32_t k, uint64_t v)
{
	return comb_map_update(m, &k, &v, COMB_ANY);
}

static int kernel_open(struct kernel_side *k, const char *path, char *why, size_t why_len)
{
	k->obj = bpf_object__open_file(path, NULL);
	if (!k->obj || bpf_object__load(k->obj)) {
		snprintf(why, why_len, "libbpf cannot load %s into the kernel: %s", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < PROG_COUNT; i++)
		k->prog_fd[i] = bpf_program__fd(bpf_object__find_program_by_name(k->obj, prog_names[i]));
	k->hash_fd = bpf_object__find_map_fd_by_name(k->obj, "bench_hash");
	k->array_fd = bpf_object__find_map_fd_by_name(k->obj, "bench_array");
	fill_values(kernel_update, (void *)(intptr_t)k->hash_fd, (void *)(intptr_t)k->array_fd);
	return 0;
}

/* Load verified; if comb's verifier refuses the object (its loops are long),
 * load it unverified (the engines are chosen explicitly) and say so. */
static int comb_load(struct comb_side *c, const char *path, bool verify, char *err, size_t err_len)
{
	if (comb_object_open_file(path, NULL, &c->obj, err, err_len))
		return -1;
	comb_object_set_verify(c->obj, verify);
	if (comb_object_load(c->obj, c->vm, err, err_len)) {
		comb_object_close(c->obj);
		c->obj = NULL;
		return -1;
	}
	return 0;
}

static int comb_open(struct comb_side *c, const char *path)
{
	char err[512];
	if (comb_vm_new(NULL, &c->vm)) {
		fprintf(stderr, "map-bench: cannot make a comb vm\n");
		return -1;
	}
	if (comb_load(c, path, true, err, sizeof(err))) {
		printf("map-bench: note: loaded unverified (comb's verifier: %s)\n", err);
		if (comb_load(c, path, false, err, sizeof(err))) {
			fprintf(stderr, "map-bench: comb cannot load %s: %s\n", path, err);
			return -1;
		}
	}
	for (int i = 0; i < PROG_COUNT; i++) {
		int index = comb_object_find_prog(c->obj, prog_names[i]);
		c->prog[i] = index >= 0 ? comb_object_prog(c->obj, (size_t)index) : NULL;
		if (!c->prog[i]) {
			fprintf(stderr, "map-bench: %s: no program %s\n", path, prog_names[i]);
			return -1;
		}
	}
	c->hash = comb_object_map(c->obj, (size_t)comb_object_find_map(c->obj, "bench_hash"));
	c->array = comb_object_map(c->obj, (size_t)comb_object_find_map(c->obj, "bench_array"));
	if (!c->hash || !c->array)
		return -1;
	fill_values(comb_update, c->hash, c->array);
	return 0;
}

/* ns per run and r0 of REPEAT runs. */
static int kernel_run(int fd, uint32_t repeat, double *ns, uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet),
		    .repeat = repeat);
	int rc = bpf_prog_test_run_opts(fd, &opts);
	*ns = opts.duration;
	*retval = opts.retval;
	return rc;
}

/* The calling thread's CPU time (leaves out time spent preempted). */
static double thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int comb_run_engine(struct comb_prog *prog, int engine, uint32_t repeat, double *ns, uint32_t *retval)
{
	struct comb_test_run_opts opts = {
		.sz = sizeof(opts), .prog_type = BPF_PROG_TYPE_XDP, .engine = engine,
		.data_in = packet, .data_size_in = sizeof(packet), .repeat = repeat,
	};
	double cpu_start = thread_cpu_ns();
	int rc = comb_prog_test_run(prog, &opts);
	double cpu_ns = (thread_cpu_ns() - cpu_start) / repeat;
	/* Two upper bounds of the runs' time on the CPU: the test run's own
	 * clock (wall time: counts preemption) and the thread's CPU time
	 * (counts the test run's set-up too). The tighter one. */
	*ns = cpu_ns < (double)opts.duration_ns ? cpu_ns : (double)opts.duration_ns;
	*retval = (uint32_t)opts.retval;
	return rc;
}

static uint64_t kernel_memlock(int fd)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "r");
	uint64_t memlock = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lu", &memlock) == 1)
			break;
	if (f)
		fclose(f);
	return memlock;
}

static void memory_per_entry(bool kernel, uint32_t entries)
{
	struct comb_map_def def = { .sz = sizeof(def), .name = "mem", .type = COMB_MAP_HASH,
				    .key_size = 4, .value_size = 8, .max_entries = entries };
	struct comb_map *map = NULL;
	char err[256];
	double comb_bytes = 0, kernel_bytes = 0;
	if (comb_map_create(&def, &map, err, sizeof(err)) == 0) {
		uint64_t addr, size;
		comb_map_storage(map, &addr, &size);
		comb_bytes = (double)(size + (uint64_t)sysconf(_SC_PAGESIZE)) / entries;
		comb_map_free(map);
	}
	if (kernel) {
		int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "mem", 4, 8, entries, NULL);
		if (fd >= 0) {
			kernel_bytes = (double)kernel_memlock(fd) / entries;
			close(fd);
		}
	}
	printf("%-22s %8u entries %9.1f B/entry %9.1f B/entry %8.2f\n", "hash u32->u64 memory", entries,
	       comb_bytes, kernel_bytes, kernel_bytes > 0 ? comb_bytes / kernel_bytes : 0.0);
}

static const int engines[] = { COMB_ENGINE_JIT, COMB_ENGINE_INTERP };
static const char *const engine_names[] = { "jit", "interp" };
#define ENGINE_COUNT 2

static int check_results(struct kernel_side *k, struct comb_side *c, bool kernel)
{
	for (int i = 0; i < PROG_COUNT; i++) {
		double ns;
		uint32_t rk = 0, rc[ENGINE_COUNT] = { 0 };
		for (int e = 0; e < ENGINE_COUNT; e++)
			if (comb_run_engine(c->prog[i], engines[e], 1, &ns, &rc[e])) {
				fprintf(stderr, "map-bench: comb %s run of %s failed\n", engine_names[e], prog_names[i]);
				return -1;
			}
		if (rc[0] != rc[1]) {
			fprintf(stderr, "map-bench: %s returns %u with the jit, %u with the interpreter\n",
				prog_names[i], rc[0], rc[1]);
			return -1;
		}
		if (kernel && (kernel_run(k->prog_fd[i], 1, &ns, &rk) || rk != rc[0])) {
			fprintf(stderr, "map-bench: %s returns %u in the kernel, %u in comb\n", prog_names[i], rk, rc[0]);
			return -1;
		}
	}
	return 0;
}

/* Interleaved rounds of one program: kernel, then each comb engine. */
static void time_program(struct kernel_side *k, struct comb_side *c, bool kernel, int i, int rounds)
{
	double comb_ns[ENGINE_COUNT][MAX_ROUNDS], kernel_ns[MAX_ROUNDS], ratio[MAX_ROUNDS];
	for (int r = 0; r < rounds; r++) {
		uint32_t ret;
		kernel_ns[r] = 0;
		if (kernel) {
			kernel_run(k->prog_fd[i], REPEAT, &kernel_ns[r], &ret);
			kernel_ns[r] /= MAP_OPS;
		}
		for (int e = 0; e < ENGINE_COUNT; e++) {
			comb_run_engine(c->prog[i], engines[e], REPEAT, &comb_ns[e][r], &ret);
			comb_ns[e][r] /= MAP_OPS;
		}
		ratio[r] = kernel_ns[r] > 0 ? comb_ns[0][r] / kernel_ns[r] : 0;
	}
	size_t n = (size_t)rounds;
	printf("%-22s %14.1f %14.1f %14.1f %14.2f\n", prog_names[i] + 4, bench_median(comb_ns[0], n),
	       bench_median(comb_ns[1], n), bench_median(kernel_ns, n), bench_median(ratio, n));
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int rounds = 11;
	const char *only = NULL; /* one program's name without "map_", e.g. hash_update */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--obj") && i + 1 < argc)
			path = argv[++i];
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
	}
	if (!path || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: map-bench --obj map_ops.bpf.o [--rounds 1..%d] [--only hash_lookup|hash_update|array_lookup]\n", MAX_ROUNDS);
		return 2;
	}
	libbpf_set_print(NULL);
	struct kernel_side k = { 0 };
	struct comb_side c = { 0 };
	char why[512] = "";
	bool kernel = kernel_open(&k, path, why, sizeof(why)) == 0;
	if (!kernel)
		printf("map-bench: kernel side skipped: %s\n", why);
	if (comb_open(&c, path) || check_results(&k, &c, kernel))
		return 1;
	printf("map operations: %d per run, %d runs per round, %d rounds (medians)\n", MAP_OPS, REPEAT, rounds);
	printf("%-22s %14s %14s %14s %14s\n", "operation", "comb jit ns/op", "interp ns/op", "kernel ns/op",
	       "jit/kernel");
	for (int i = 0; i < PROG_COUNT; i++)
		if (!only || !strcmp(only, prog_names[i] + 4))
			time_program(&k, &c, kernel, i, rounds);
	printf("%-22s %17s %17s %17s %8s\n", "", "", "comb", "kernel", "ratio");
	memory_per_entry(kernel, 1024);
	memory_per_entry(kernel, 65536);
	comb_object_close(c.obj);
	comb_vm_free(c.vm);
	bpf_object__close(k.obj);
	return 0;
}
