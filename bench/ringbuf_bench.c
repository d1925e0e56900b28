/* bench/ringbuf_bench.c - ring buffer throughput, comb against the kernel.
 *
 * One producer, one consumer thread, records of 8 bytes (16 with the header)
 * through a 4 MiB RINGBUF. The producer is a BPF program that writes one
 * record per loop iteration, BATCH per run, with bpf_ringbuf_output or
 * bpf_ringbuf_reserve + submit, run RECORDS / BATCH times in one call on
 * both sides (the same bytecode): comb_prog_test_run with
 * repeat (comb's JIT) and BPF_PROG_TEST_RUN with repeat (the kernel's JIT,
 * an XDP program). The consumer polls (adaptive wakeups, 50 ms timeout) with
 * comb_ring_buffer_poll or libbpf's ring_buffer__poll.
 *
 * Fairness: the producer (the main thread) and the consumer thread are
 * pinned to the same two CPUs in every round of both sides (CPU 0 and 1;
 * one CPU if the machine has one), so the scheduler cannot put them on one
 * CPU in some rounds and not in others (which made earlier results bimodal).
 * Records dropped because the ring was full count for nothing: the figure is
 * records delivered to the consumer per second of wall time, from the
 * producer's start to the consumer's last record; the last column gives the
 * median share of records delivered (below 100%: the producer outran the
 * consumer, e.g. while another process had the consumer's CPU). Rounds alternate comb and
 * kernel; the medians of each and the median of the per-round ratios
 * comb / kernel are printed.
 *
 * Built as its own binary (ringbuf-bench, see the Makefile) and run by
 * `make bench`.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "comb/comb.h"
#include "../tests/kernel/kernel_bpf.h"

#define RING_BYTES (4u << 20)
#define RECORDS    2000000u
#define BATCH      16 /* records per program run */
#define RUNS       (RECORDS / BATCH)
#define ROUNDS     7
#define PRODUCER_CPU 0
#define CONSUMER_CPU 1

enum variant { OUTPUT, RESERVE_SUBMIT };

#define I(c, d, s, o, i) { .code = (c), .dst = (d), .src = (s), .off = (o), .imm = (i) }
#define LDDW_MAP(d, src, imm) I(0x18, d, src, 0, imm), I(0, 0, 0, 0, 0)

/* One run writes BATCH records: r6 counts down, the helper call sits in a
 * loop (the same bytecode in comb and the kernel). map_src:
 * COMB_PSEUDO_MAP_IDX (comb) or COMB_PSEUDO_MAP_FD (kernel). */
static size_t build_program(enum variant v, uint8_t map_src, int32_t map_imm, struct comb_insn *out)
{
	const struct comb_insn output[] = {
		I(0xb7, 6, 0, 0, BATCH),          /* r6 = BATCH */
		I(0x7a, 10, 0, -8, 7),            /* loop: *(u64 *)(r10 - 8) = 7 */
		LDDW_MAP(1, map_src, map_imm),
		I(0xbf, 2, 10, 0, 0),             /* r2 = r10 */
		I(0x07, 2, 0, 0, -8),             /* r2 += -8 */
		I(0xb7, 3, 0, 0, 8),              /* r3 = 8 */
		I(0xb7, 4, 0, 0, 0),              /* r4 = 0 */
		I(0x85, 0, 0, 0, 130),            /* ringbuf_output */
		I(0x07, 6, 0, 0, -1),             /* r6 -= 1 */
		I(0x55, 6, 0, -10, 0),            /* if r6 != 0 goto loop */
		I(0xb7, 0, 0, 0, 2),              /* XDP_PASS */
		I(0x95, 0, 0, 0, 0),
	};
	const struct comb_insn reserve[] = {
		I(0xb7, 6, 0, 0, BATCH),          /* r6 = BATCH */
		LDDW_MAP(1, map_src, map_imm),    /* loop: */
		I(0xb7, 2, 0, 0, 8),
		I(0xb7, 3, 0, 0, 0),
		I(0x85, 0, 0, 0, 131),            /* ringbuf_reserve */
		I(0x15, 0, 0, 4, 0),              /* if r0 == 0 goto next */
		I(0x7a, 0, 0, 0, 7),              /* *(u64 *)r0 = 7 */
		I(0xbf, 1, 0, 0, 0),
		I(0xb7, 2, 0, 0, 0),
		I(0x85, 0, 0, 0, 132),            /* ringbuf_submit */
		I(0x07, 6, 0, 0, -1),             /* next: r6 -= 1 */
		I(0x55, 6, 0, -12, 0),            /* if r6 != 0 goto loop */
		I(0xb7, 0, 0, 0, 2),              /* XDP_PASS */
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

/* Pin the calling thread to cpu (modulo the CPUs this machine has). */
static void pin_to_cpu(int cpu)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(n > 0 ? cpu % (int)n : 0, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
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
	pin_to_cpu(CONSUMER_CPU);
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

static int comb_round(enum variant v, double *rate, double *delivered)
{
	struct comb_map_def def = { .sz = sizeof(def), .name = "bench_rb", .type = COMB_MAP_RINGBUF,
				    .max_entries = RING_BYTES };
	struct comb_map *map;
	struct comb_vm *vm;
	struct comb_prog *prog;
	struct comb_insn insns[32];
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
	uint8_t packet[64] = { 0 };
	struct comb_test_run_opts ro = { .sz = sizeof(ro), .prog_type = BPF_PROG_TYPE_XDP, .engine = COMB_ENGINE_JIT,
					 .data_in = packet, .data_size_in = sizeof(packet), .repeat = RUNS };
	rc = comb_prog_test_run(prog, &ro);
	__atomic_store_n(&c.producer_done, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	*rate = (double)c.records / (c.last_record_s - start);
	*delivered = (double)c.records / RECORDS;
	comb_ring_buffer_free(c.comb_rb);
	comb_prog_free(prog);
	comb_vm_free(vm);
	comb_map_free(map);
	if (rc)
		fprintf(stderr, "ringbuf-bench: comb: test run: %s\n", strerror(-rc));
	return rc;
}

static int kernel_round(enum variant v, double *rate, double *delivered)
{
	int map_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "bench_rb", 0, 0, RING_BYTES, NULL);
	if (map_fd < 0)
		return map_fd;
	struct comb_insn insns[32];
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
	rc = kernel_bpf_test_run(prog_fd, packet, sizeof(packet), RUNS, &retval, NULL);
	__atomic_store_n(&c.producer_done, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	*rate = (double)c.records / (c.last_record_s - start);
	*delivered = (double)c.records / RECORDS;
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

static double median(const double *values, int n)
{
	double v[ROUNDS];
	memcpy(v, values, (size_t)n * sizeof(*v));
	qsort(v, (size_t)n, sizeof(*v), compare_doubles);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(void)
{
	char reason[256];
	bool kernel = kernel_bpf_probe(reason, sizeof(reason)) == 0;
	if (!kernel)
		fprintf(stderr, "ringbuf-bench: kernel column n/a: %s\n", reason);
	pin_to_cpu(PRODUCER_CPU);
	printf("ringbuf-bench: %u records of 8 bytes per round, %d per program run (JIT), %u KiB ring, producer "
	       "on CPU %d, consumer thread on CPU %d; medians of %d interleaved rounds\n",
	       RECORDS, BATCH, RING_BYTES / 1024, PRODUCER_CPU, CONSUMER_CPU, ROUNDS);
	printf("%-16s %16s %16s %12s %18s\n", "producer", "comb rec/s", "kernel rec/s", "comb/kernel",
	       "delivered c / k");
	const char *names[] = { "output", "reserve+submit" };
	int failed = 0;
	for (int v = OUTPUT; v <= RESERVE_SUBMIT; v++) {
		double comb[ROUNDS], kern[ROUNDS], ratio[ROUNDS], comb_got[ROUNDS], kern_got[ROUNDS];
		for (int r = 0; r < ROUNDS; r++) {
			kern[r] = kern_got[r] = 0;
			if (comb_round((enum variant)v, &comb[r], &comb_got[r]))
				failed = 1;
			if (kernel && kernel_round((enum variant)v, &kern[r], &kern_got[r]))
				failed = 1;
			ratio[r] = kern[r] > 0 ? comb[r] / kern[r] : 0;
		}
		double cm = median(comb, ROUNDS), km = median(kern, ROUNDS);
		if (kernel)
			printf("%-16s %16.0f %16.0f %11.2fx %8.0f%% / %3.0f%%\n", names[v], cm, km, median(ratio, ROUNDS),
			       100 * median(comb_got, ROUNDS), 100 * median(kern_got, ROUNDS));
		else
			printf("%-16s %16.0f %16s %12s\n", names[v], cm, "n/a", "n/a");
	}
	return failed;
}
