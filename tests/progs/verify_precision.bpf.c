/* tests/progs/verify_precision.bpf.c - precision tracking against the kernel.
 *
 * safe_* programs are provable in the 1,000,000-instruction budget only
 * when values no safety check reads (sums, keys) do not block pruning:
 * loops whose every iteration forks on a lookup's NULL test or a random
 * bit. unsafe_* programs compute, on paths that pruning would merge, a
 * value that later becomes an offset: it must be compared exactly, so the
 * unsafe path is explored and refused. tests/kernel/kernel_verdicts.c
 * checks both verdicts against the kernel's.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} prec_hash SEC(".maps");

struct bytes64 {
	__u8 b[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bytes64);
} prec_bytes SEC(".maps");

/* 200 lookups, each NULL test forks: 2^200 paths without precision (200,
 * not 1000 as bench/progs/map_ops.bpf.c: the kernel's log must fit the
 * test's 1 MiB buffer). */
SEC("xdp")
int safe_loop_lookup_sum(struct xdp_md *ctx)
{
	__u64 sum = 0;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < 200; i++) {
		__u32 key = (i * 7) & 1023;
		__u64 *v = bpf_map_lookup_elem(&prec_hash, &key);
		if (v)
			sum += *v;
	}
	return (int)(sum & 1) + 1;
}

/* A counter bumped by 1 or 2 on random paths, never an offset. */
SEC("xdp")
int safe_loop_random_counter(struct xdp_md *ctx)
{
	__u64 count = 0;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < 300; i++) {
		if (bpf_get_prandom_u32() & 1)
			count += 1;
		else
			count += 2;
	}
	return (int)(count & 1) + 1;
}

/* A sum of at most 50 ones indexes 64 bytes: precise, and in bounds. */
SEC("xdp")
int safe_loop_sum_as_index(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct bytes64 *v = bpf_map_lookup_elem(&prec_bytes, &key);
	if (!v)
		return 0;
	__u64 sum = 0;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < 50; i++)
		if (bpf_get_prandom_u32() & 1)
			sum++;
	return v->b[sum];
}

/* The same with 100 iterations: the sum may reach 100, past the value. */
SEC("xdp")
int unsafe_loop_sum_as_index(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct bytes64 *v = bpf_map_lookup_elem(&prec_bytes, &key);
	if (!v)
		return 0;
	__u64 sum = 0;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < 100; i++)
		if (bpf_get_prandom_u32() & 1)
			sum++;
	return v->b[sum];
}

/* Two paths join with 0 or 600: the 600 one reads past the value. */
SEC("xdp")
int unsafe_joined_offset(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct bytes64 *v = bpf_map_lookup_elem(&prec_bytes, &key);
	if (!v)
		return 0;
	__u64 off = 600;
	if (bpf_get_prandom_u32() & 1)
		off = 0;
	asm volatile("" : "+r"(off));
	return v->b[off];
}
