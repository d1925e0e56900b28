/* bench/progs/compute.h - the benchmark's compute kernels, for BPF and native.
 *
 * Plain C with no library and no headers, so that clang -target bpf builds it
 * into XDP programs (bench/progs/NAME.bpf.c) and the host compiler builds the
 * very same functions into comb-bench as the native baseline.
 *
 * Every loop has a compile-time bound and a run-time limit read from the
 * packet and clamped, so the kernel verifier walks at most the bounded number
 * of iterations; the values that steer branches derive from loop counters,
 * which the verifier knows exactly, so it follows one concrete path.
 * BPF constraints: no maps, no global data, no calls (all __always_inline),
 * no switch tables (each case computes something different).
 *
 * A packet (struct bench_packet) is: n (the work size), seed, then
 * BENCH_DATA_LEN bytes whose two halves are equal except for the last byte.
 */
#ifndef COMB_BENCH_COMPUTE_H
#define COMB_BENCH_COMPUTE_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;

#define BENCH_DATA_LEN 2048
#define BENCH_HALF_LEN (BENCH_DATA_LEN / 2)

struct bench_packet {
	u32 n;    /* work size, clamped by each program */
	u32 seed;
	u8 data[BENCH_DATA_LEN];
};

/* struct xdp_md as the kernel defines it (all fields 32 bits). */
struct bench_xdp_md {
	u32 data;
	u32 data_end;
	u32 data_meta;
	u32 ingress_ifindex;
	u32 rx_queue_index;
	u32 egress_ifindex;
};

/* Upper bounds of the work sizes (and the values the bench sends). */
#define PRIME_LIMIT_MAX 1200
#define LOG2_COUNT_MAX 3000
#define DISPATCH_STEPS_MAX 4000
#define CHECKSUM_ROUNDS_MAX 8
#define BYTECMP_ROUNDS_MAX 6 /* rounds x BENCH_HALF_LEN forks: under the verifier's 8192 */
#define COLLATZ_COUNT_MAX 300
#define COLLATZ_STEPS_MAX 512
#define FNV_ROUNDS_MAX 8
#define MURMUR_ROUNDS_MAX 16
#define POPCOUNT_COUNT_MAX 4000
#define MATMUL_ROUNDS_MAX 16

static __always_inline u32 bench_clamp(u32 value, u32 max)
{
	return value < max ? value : max;
}

/* The packet, or 0 if it is shorter than struct bench_packet (the bounds
 * check the verifier needs before any packet access). */
static __always_inline const struct bench_packet *bench_packet_of(const struct bench_xdp_md *ctx)
{
	const char *data = (const char *)(unsigned long)ctx->data;
	const char *end = (const char *)(unsigned long)ctx->data_end;

	if (data + sizeof(struct bench_packet) > end)
		return 0;
	return (const struct bench_packet *)data;
}

/* Number of primes below limit, by trial division. */
static __always_inline u32 compute_prime_count(u32 limit)
{
	u32 count = 0;

	for (u32 n = 2; n < PRIME_LIMIT_MAX; n++) {
		u32 is_prime = 1;
		if (n >= limit)
			break;
		for (u32 d = 2; d < 64; d++) {
			if (d * d > n)
				break;
			if (n % d == 0) {
				is_prime = 0;
				break;
			}
		}
		count += is_prime;
	}
	return count;
}

/* Integer log2 by binary search on the bits (no clz, so the same work
 * everywhere). v must not be 0. */
static __always_inline u32 compute_log2(u64 v)
{
	u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

/* Sum of log2 over count values spread over the 64-bit range. */
static __always_inline u32 compute_log2_sum(u32 count)
{
	u32 sum = 0;
	u64 v = 1;

	for (u32 i = 0; i < LOG2_COUNT_MAX; i++) {
		if (i >= count)
			break;
		v = v * 0x9E3779B97F4A7C15ull + i;
		sum += compute_log2((v >> (i & 63)) | 1);
	}
	return sum;
}

/* A state machine that dispatches on 16 opcodes drawn from an LCG. */
static __always_inline u32 compute_dispatch(u32 steps)
{
	u64 acc = 1, x = 0x853c49e6748fea9bull;

	for (u32 i = 0; i < DISPATCH_STEPS_MAX; i++) {
		if (i >= steps)
			break;
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		switch ((u32)(x >> 60)) {
		case 0: acc += x; break;
		case 1: acc ^= acc << 7; break;
		case 2: acc = acc * 31 + 7; break;
		case 3: acc -= x >> 3; break;
		case 4: acc ^= acc >> 11; break;
		case 5: acc = (acc | 1) * 3; break;
		case 6: acc = (acc << 13) | (acc >> 51); break;
		case 7: acc &= x | 0xff00ff00ff00ffull; break;
		case 8: acc += i; break;
		case 9: acc ^= 0xdeadbeefull << (i & 31); break;
		case 10: acc = ~acc; break;
		case 11: acc += acc >> 17; break;
		case 12: acc -= (u64)i * 3; break;
		case 13: acc ^= x << 5; break;
		case 14: acc = acc * 5 + x; break;
		default: acc ^= acc >> 29; break;
		}
	}
	return (u32)(acc ^ (acc >> 32));
}

/* Adler-32 style checksum over the data, rounds passes (each pass mixes in
 * the round number so that no pass repeats another). */
static __always_inline u32 compute_checksum(const u8 *data, u32 rounds)
{
	u32 a = 1, b = 0;

	for (u32 r = 0; r < CHECKSUM_ROUNDS_MAX; r++) {
		if (r >= rounds)
			break;
		for (u32 i = 0; i < BENCH_DATA_LEN; i++) {
			a += data[i] ^ r;
			b += a;
		}
		a %= 65521;
		b %= 65521;
	}
	return (b << 16) | a;
}

/* memcmp-like scan of the two halves of the data, starting a little further
 * in each round: sums the index of the first difference and its sign. */
static __always_inline u32 compute_bytecmp(const u8 *data, u32 rounds)
{
	const u8 *left = data, *right = data + BENCH_HALF_LEN;
	u32 total = 0;

	for (u32 r = 0; r < BYTECMP_ROUNDS_MAX; r++) {
		u32 i;
		if (r >= rounds)
			break;
		for (i = r * 8; i < BENCH_HALF_LEN; i++)
			if (left[i] != right[i])
				break;
		total += i;
		if (i < BENCH_HALF_LEN)
			total += left[i] < right[i] ? 1 : 2;
	}
	return total;
}

/* Total Collatz steps (capped per start) for starts 1..count. */
static __always_inline u32 compute_collatz(u32 count)
{
	u32 total = 0;

	for (u32 start = 1; start <= COLLATZ_COUNT_MAX; start++) {
		u64 n = start;
		if (start > count)
			break;
		for (u32 step = 0; step < COLLATZ_STEPS_MAX; step++) {
			if (n == 1)
				break;
			n = (n & 1) ? 3 * n + 1 : n >> 1;
			total++;
		}
	}
	return total;
}

/* FNV-1a (64-bit) over the data, rounds passes, each seeded by its round. */
static __always_inline u32 compute_fnv1a(const u8 *data, u32 rounds)
{
	u64 total = 0;

	for (u32 r = 0; r < FNV_ROUNDS_MAX; r++) {
		u64 h = 0xcbf29ce484222325ull ^ r;
		if (r >= rounds)
			break;
		for (u32 i = 0; i < BENCH_DATA_LEN; i++) {
			h ^= data[i];
			h *= 0x100000001b3ull;
		}
		total += h;
	}
	return (u32)(total ^ (total >> 32));
}

/* MurmurHash3 (x86, 32-bit) of the data's words, rounds passes with
 * different seeds: multiplies, rotates, xors. */
static __always_inline u32 compute_murmur3(const u8 *data, u32 rounds)
{
	const u32 *words = (const u32 *)data;
	u32 total = 0;

	for (u32 r = 0; r < MURMUR_ROUNDS_MAX; r++) {
		u32 h = r * 0x9747b28cu;
		if (r >= rounds)
			break;
		for (u32 i = 0; i < BENCH_DATA_LEN / 4; i++) {
			u32 k = words[i] * 0xcc9e2d51u;
			k = (k << 15) | (k >> 17);
			h ^= k * 0x1b873593u;
			h = (h << 13) | (h >> 19);
			h = h * 5 + 0xe6546b64u;
		}
		h ^= BENCH_DATA_LEN;
		h ^= h >> 16;
		h *= 0x85ebca6bu;
		h ^= h >> 13;
		h *= 0xc2b2ae35u;
		total += h ^ (h >> 16);
	}
	return total;
}

/* Sum of the bit counts (SWAR, 64-bit masks) of count xorshift64 values. */
static __always_inline u32 compute_popcount(u32 count, u32 seed)
{
	u64 x = seed | 1, total = 0;

	for (u32 i = 0; i < POPCOUNT_COUNT_MAX; i++) {
		if (i >= count)
			break;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		u64 v = x - ((x >> 1) & 0x5555555555555555ull);
		v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
		v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
		total += (v * 0x0101010101010101ull) >> 56;
	}
	return (u32)total;
}

/* 8x8 products of 32-bit matrices read from the data (the second one from
 * the second half), one pair per round, summed with their positions. */
static __always_inline u32 compute_matmul(const u8 *data, u32 rounds)
{
	const u32 *m = (const u32 *)data;
	u32 total = 0;

	for (u32 r = 0; r < MATMUL_ROUNDS_MAX; r++) {
		const u32 *a = m + r * 8, *b = m + BENCH_HALF_LEN / 4 + r * 8;
		if (r >= rounds)
			break;
		for (u32 i = 0; i < 8; i++) {
			for (u32 j = 0; j < 8; j++) {
				u32 sum = 0;
				for (u32 k = 0; k < 8; k++)
					sum += a[i * 8 + k] * b[k * 8 + j];
				total += sum ^ (i + j);
			}
		}
	}
	return total;
}

/* The entry points: what each program computes from its packet. */
static __always_inline u32 bench_prime_count(const struct bench_packet *p)
{
	return compute_prime_count(bench_clamp(p->n, PRIME_LIMIT_MAX));
}
static __always_inline u32 bench_log2_sum(const struct bench_packet *p)
{
	return compute_log2_sum(bench_clamp(p->n, LOG2_COUNT_MAX));
}
static __always_inline u32 bench_dispatch(const struct bench_packet *p)
{
	return compute_dispatch(bench_clamp(p->n, DISPATCH_STEPS_MAX));
}
static __always_inline u32 bench_checksum(const struct bench_packet *p)
{
	return compute_checksum(p->data, bench_clamp(p->n, CHECKSUM_ROUNDS_MAX));
}
static __always_inline u32 bench_bytecmp(const struct bench_packet *p)
{
	return compute_bytecmp(p->data, bench_clamp(p->n, BYTECMP_ROUNDS_MAX));
}
static __always_inline u32 bench_collatz(const struct bench_packet *p)
{
	return compute_collatz(bench_clamp(p->n, COLLATZ_COUNT_MAX));
}

static __always_inline u32 bench_fnv1a(const struct bench_packet *p)
{
	return compute_fnv1a(p->data, bench_clamp(p->n, FNV_ROUNDS_MAX));
}
static __always_inline u32 bench_murmur3(const struct bench_packet *p)
{
	return compute_murmur3(p->data, bench_clamp(p->n, MURMUR_ROUNDS_MAX));
}
static __always_inline u32 bench_popcount(const struct bench_packet *p)
{
	return compute_popcount(bench_clamp(p->n, POPCOUNT_COUNT_MAX), p->seed);
}
static __always_inline u32 bench_matmul(const struct bench_packet *p)
{
	return compute_matmul(p->data, bench_clamp(p->n, MATMUL_ROUNDS_MAX));
}

#ifdef __bpf__
#define SEC(name) __attribute__((section(name), used))
/* One XDP program per .bpf.c: `BENCH_XDP_PROGRAM(name)` defines
 * int name(struct bench_xdp_md *) in section "xdp" returning bench_name(). */
#define BENCH_XDP_PROGRAM(name)                                                   \
	SEC("xdp") int name(struct bench_xdp_md *ctx)                             \
	{                                                                         \
		const struct bench_packet *packet = bench_packet_of(ctx);         \
		if (!packet)                                                      \
			return 0;                                                 \
		return (int)bench_##name(packet);                                 \
	}                                                                         \
	char _license[] SEC("license") = "GPL"
#endif

#endif
