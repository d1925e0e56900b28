/* bench/progs/map_ops.bpf.c - map operations for bench/map_bench.c.
 *
 * Three XDP programs, each doing MAP_OPS operations per run on maps that
 * user space fills first: hash lookups (1024 keys present, the program
 * sums what it finds), hash updates of existing keys (BPF_ANY), and array
 * lookups. Loaded by comb's object loader and by libbpf into the kernel;
 * the result (r0) must be the same in both.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAP_OPS 1000
#define HASH_KEYS 1024

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HASH_KEYS);
	__type(key, __u32);
	__type(value, __u64);
} bench_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} bench_array SEC(".maps");

SEC("xdp")
int map_hash_lookup(struct xdp_md *ctx)
{
	__u64 sum = 0;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < MAP_OPS; i++) {
		__u32 key = (i * 7) & (HASH_KEYS - 1);
		__u64 *v = bpf_map_lookup_elem(&bench_hash, &key);
		if (v)
			sum += *v;
	}
	return (int)(sum & 0xffff);
}

SEC("xdp")
int map_hash_update(struct xdp_md *ctx)
{
	int failures = 0;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < MAP_OPS; i++) {
		__u32 key = (i * 13) & (HASH_KEYS - 1);
		__u64 value = i;
		if (bpf_map_update_elem(&bench_hash, &key, &value, BPF_ANY))
			failures++;
	}
	return failures;
}

SEC("xdp")
int map_array_lookup(struct xdp_md *ctx)
{
	__u64 sum = 0;
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < MAP_OPS; i++) {
		__u32 key = (i * 5) & 255;
		__u64 *v = bpf_map_lookup_elem(&bench_array, &key);
		if (v)
			sum += *v;
	}
	return (int)(sum & 0xffff);
}

char LICENSE[] SEC("license") = "GPL";
