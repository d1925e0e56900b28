/* bench/ringbuf_bench.c - ring buffer throughput, comb against the kernel.
 *
 * One producer, one consumer thread, records of 8 bytes (16 with the header)
 * through a 4 MiB RINGBUF. The producer is a BPF program that writes one
 * record per run, with bpf_ringbuf_output or bpf_ringbuf_reserve + submit:
 * in comb, comb_prog_run in a loop on the producer thread; in the kernel,
 * one BPF_PROG_TEST_RUN with repeat = N (an XDP program), consumed with
 * libbpf's ring_buffer__poll. Records dropped because the ring was full
 * count for nothing: the figure is records delivered to the consumer per
 * second of wall time, from the producer's start to the consumer's last
 * record. Rounds alternate comb and kernel; medians are printed with the
 * ratio comb / kernel.
 *
 * Built as its own binary (ringbuf-bench, see the Makefile) and run by
 * `make bench`.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "comb/comb.h"
#include "../tests/kernel/kernel_bpf.h"

#define RING_BYTES (4u << 20)
#define RECORDS    4000000u
#define ROUNDS     5

enum variant { OUTPUT, RESERVE_SUBMIT };

#define I(c, d, s, o, i) { .code = (c), .dst = (d), .src = (s), .off = (o), .imm = (i) }
#define LDDW_MAP(d, src, imm) I(0x18, d, src, 0, imm), I(0, 0, 0, 0, 0)

/* map_src: COMB_PSEUDO_MAP_IDX (comb) or COMB_PSEUDO_MAP_FD (kernel). */
static size_t build_program(enum variant v, uint8_t map_src, int32_t map_imm, struct comb_insn *out)
{
	const struct comb_insn output[] = {
		I(0x7a, 10, 0, -8, 7),            /* *(u64 *)(r10 - 8) = 7 */
		LDDW_MAP(1, map_src, map_imm),
		I(0xbf, 2, 10, 0, 0),             /* r2 = r10 */
		I(0x07, 2, 0, 0, -8),             /* r2 += -8 */
		I(0xb7, 3, 0, 0, 8),              /* r3 = 8 */
		I(0xb7, 4, 0, 0, 0),              /* r4 = 0 */
		I(0x85, 0, 0, 0, 130),            /* ringbuf_output */
		I(0xb7, 0, 0, 0, 2),              /* XDP_PASS */
		I(0x95, 0, 0, 0, 0),
	};
	const struct comb_insn reserve[] = {
		LDDW_MAP(1, map_src, map_imm),
		I(0xb7, 2, 0, 0, 8),
		I(0xb7, 3, 0, 0, 0),
		I(0x85, 0, 0, 0, 131),            /* ringbuf_reserve */
		I(0x15, 0, 0, 4, 0),              /* if r0 == 0 goto out */
		I(0x7a, 0, 0, 0, 7),              /* *(u64 *)r0 = 7 */
		I(0xbf, 1, 0, 0, 0),
		I(0xb7, 2, 0, 0, 0),
		I(0x85, 0, 0, 0, 132),            /* ringbuf_submit */
		I(0xb7, 0, 0, 0, 2),              /* out: XDP_PASS */
		I(0x95, 0, 0, 0, 0),
	};
	const struct comb_insn *src = v == OUTPUT ? output : reserve;
	size_t n = v == OUTPUT ? sizeof(output) / sizeof(output[0]) : sizeof(reserve) / sizeof(reserve[0]);
	memcpy(out, src, n * sizeof(*out));
	return n;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- consumer threads */

struct consumer {
	int producer_done;
	uint64_t records;
	double last_record_s;
	struct comb_ring_buffer *comb_rb;
	struct ring_buffer *kernel_rb;
};

static int count_comb(void *ctx, void *data, size_t size)
{
	((struct consumer *)ctx)->records++;
	return 0;
}

static int count_kernel(void *ctx, void *data, size_t size)
{
	((struct consumer *)ctx)->records++;
	return 0;
}

static void *consume_thread(void *arg)
{
	struct consumer *c = arg;
	for (;;) {
		int done = __atomic_load_n(&c->producer_done, __ATOMIC_ACQUIRE);
		int n = c->comb_rb ? comb_ring_buffer_poll(c->comb_rb, 50) : ring_buffer__poll(c->kernel_rb, 50);
		if (n > 0)
			c->last_record_s = now_s();
		if (n <= 0 && done)
			return NULL;
	}
}

/* ---- one round each */

static int comb_round(enum variant v, double *rate)
{
	struct comb_map_def def = { .sz = sizeof(def), .name = "bench_rb", .type = COMB_MAP_RINGBUF,
				    .max_entries = RING_BYTES };
	struct comb_map *map;
	struct comb_vm *vm;
	struct comb_prog *prog;
	struct comb_insn insns[16];
	char err[256];
	int rc = comb_map_create(&def, &map, err, sizeof(err));
	if (rc)
		return rc;
	size_t n = build_program(v, COMB_PSEUDO_MAP_IDX, 0, insns);
	struct comb_prog_opts po = { .sz = sizeof(po), .maps = &map, .map_count = 1 };
	if ((rc = comb_vm_new(NULL, &vm)) || (rc = comb_prog_load(vm, insns, n, &po, &prog, err, sizeof(err)))) {
		fprintf(stderr, "ringbuf-bench: comb: %s\n", err);
		return rc;
	}
	struct consumer c = { 0 };
	comb_ring_buffer_new(map, count_comb, &c, NULL, &c.comb_rb);
	pthread_t thread;
	double start = now_s();
	pthread_create(&thread, NULL, consume_thread, &c);
	struct comb_run_opts ro = { .sz = sizeof(ro), .engine = COMB_ENGINE_INTERP };
	uint64_t r0;
	for (uint32_t i = 0; i < RECORDS; i++)
		comb_prog_run(prog, &ro, &r0);
	__atomic_store_n(&c.producer_done, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	*rate = (double)c.records / (c.last_record_s - start);
	comb_ring_buffer_free(c.comb_rb);
	comb_prog_free(prog);
	comb_vm_free(vm);
	comb_map_free(map);
	return 0;
}

static int kernel_round(enum variant v, double *rate)
{
	int map_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "bench_rb", 0, 0, RING_BYTES, NULL);
	if (map_fd < 0)
		return map_fd;
	struct comb_insn insns[16];
	size_t n = build_program(v, COMB_PSEUDO_MAP_FD, map_fd, insns);
	int prog_fd;
	char log[4096];
	int rc = kernel_bpf_load_insns(insns, n, "bench_rb", &prog_fd, log, sizeof(log));
	if (rc) {
		fprintf(stderr, "ringbuf-bench: kernel: load: %s\n%s\n", strerror(-rc), log);
		close(map_fd);
		return rc;
	}
	struct consumer c = { 0 };
	c.kernel_rb = ring_buffer__new(map_fd, count_kernel, &c, NULL);
	pthread_t thread;
	uint8_t packet[64] = { 0 };
	uint32_t retval;
	double start = now_s();
	pthread_create(&thread, NULL, consume_thread, &c);
	rc = kernel_bpf_test_run(prog_fd, packet, sizeof(packet), RECORDS, &retval, NULL);
	__atomic_store_n(&c.producer_done, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	*rate = (double)c.records / (c.last_record_s - start);
	ring_buffer__free(c.kernel_rb);
	kernel_bpf_close(prog_fd);
	close(map_fd);
	return rc;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), compare_doubles);
	return v[n / 2];
}

int main(void)
{
	char reason[256];
	bool kernel = kernel_bpf_probe(reason, sizeof(reason)) == 0;
	if (!kernel)
		fprintf(stderr, "ringbuf-bench: kernel column n/a: %s\n", reason);
	printf("ringbuf-bench: %u records of 8 bytes, %u KiB ring, one producer, one consumer thread; "
	       "median of %d rounds\n", RECORDS, RING_BYTES / 1024, ROUNDS);
	printf("%-16s %16s %16s %10s\n", "producer", "comb rec/s", "kernel rec/s", "comb/kernel");
	const char *names[] = { "output", "reserve+submit" };
	int failed = 0;
	for (int v = OUTPUT; v <= RESERVE_SUBMIT; v++) {
		double comb[ROUNDS], kern[ROUNDS];
		for (int r = 0; r < ROUNDS; r++) {
			kern[r] = 0;
			if (comb_round((enum variant)v, &comb[r]))
				failed = 1;
			if (kernel && kernel_round((enum variant)v, &kern[r]))
				failed = 1;
		}
		double cm = median(comb, ROUNDS), km = median(kern, ROUNDS);
		if (kernel)
			printf("%-16s %16.0f %16.0f %10.2fx\n", names[v], cm, km, cm / km);
		else
			printf("%-16s %16.0f %16s %11s\n", names[v], cm, "n/a", "n/a");
	}
	return failed;
}
