/* bench/native.c - the workloads as native code, and their shared input.
 *
 * Each native_<name> is the compute.h function built by the host compiler at
 * -O2. The timing loop calls it through a volatile function pointer and
 * stores every result in a volatile sink, so the compiler can neither fold
 * the work into a constant nor hoist it out of the loop.
 *
 * The input packet is mapped with MAP_32BIT: comb runs the unmodified XDP
 * programs, which take data/data_end from 32-bit fields of struct xdp_md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

#define NATIVE_WORKLOAD(name)                                                        \
	__attribute__((noinline)) static u32 native_##name(const struct bench_packet *p) \
	{                                                                            \
		return bench_##name(p);                                              \
	}

NATIVE_WORKLOAD(prime_count)
NATIVE_WORKLOAD(log2_sum)
NATIVE_WORKLOAD(dispatch)
NATIVE_WORKLOAD(checksum)
NATIVE_WORKLOAD(bytecmp)
NATIVE_WORKLOAD(collatz)
NATIVE_WORKLOAD(fnv1a)
NATIVE_WORKLOAD(murmur3)
NATIVE_WORKLOAD(popcount)
NATIVE_WORKLOAD(matmul)

const struct workload bench_workloads[] = {
	{ "prime_count", native_prime_count, PRIME_LIMIT_MAX },
	{ "log2_sum", native_log2_sum, LOG2_COUNT_MAX },
	{ "dispatch", native_dispatch, DISPATCH_STEPS_MAX },
	{ "checksum", native_checksum, CHECKSUM_ROUNDS_MAX },
	{ "bytecmp", native_bytecmp, BYTECMP_ROUNDS_MAX },
	{ "collatz", native_collatz, COLLATZ_COUNT_MAX },
	{ "fnv1a", native_fnv1a, FNV_ROUNDS_MAX },
	{ "murmur3", native_murmur3, MURMUR_ROUNDS_MAX },
	{ "popcount", native_popcount, POPCOUNT_COUNT_MAX },
	{ "matmul", native_matmul, MATMUL_ROUNDS_MAX },
};
const size_t bench_workload_count = sizeof(bench_workloads) / sizeof(bench_workloads[0]);

static volatile u32 result_sink;

double native_time(native_fn fn, const struct bench_packet *packet, uint64_t iterations,
		   u32 *result)
{
	native_fn volatile call = fn;
	uint64_t start = bench_now_ns();

	for (uint64_t i = 0; i < iterations; i++)
		result_sink = call(packet);
	*result = result_sink;
	return (double)(bench_now_ns() - start) / (double)iterations;
}

/* Pseudo-random first half, the same second half but for its last byte. */
static void fill_packet(struct bench_packet *packet, u32 n)
{
	u32 x = 0x2545f491u;

	packet->n = n;
	packet->seed = x;
	for (size_t i = 0; i < BENCH_HALF_LEN; i++) {
		x = x * 1664525u + 1013904223u;
		packet->data[i] = (u8)(x >> 24);
	}
	memcpy(packet->data + BENCH_HALF_LEN, packet->data, BENCH_HALF_LEN);
	packet->data[BENCH_DATA_LEN - 1] ^= 0x5a;
}

int bench_input_new(struct bench_input *input, const struct workload *w, char *err,
		    size_t err_len)
{
	size_t size = sizeof(struct bench_xdp_md) + sizeof(struct bench_packet);
	char *base = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	if (base == MAP_FAILED) {
		snprintf(err, err_len, "mmap(MAP_32BIT) of the input for %s: %s", w->name,
			 strerror(errno));
		return -errno;
	}
	input->ctx = (struct bench_xdp_md *)base;
	input->packet = (struct bench_packet *)(base + sizeof(struct bench_xdp_md));
	fill_packet(input->packet, w->n);
	input->ctx->data = (u32)(uintptr_t)input->packet;
	input->ctx->data_end = (u32)((uintptr_t)input->packet + sizeof(struct bench_packet));
	input->ctx->data_meta = input->ctx->data;
	return 0;
}

void bench_input_free(struct bench_input *input)
{
	if (input->ctx)
		munmap(input->ctx, sizeof(struct bench_xdp_md) + sizeof(struct bench_packet));
	input->ctx = NULL;
	input->packet = NULL;
}
