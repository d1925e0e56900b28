/* tests/progs/helpers_maps.bpf.c - QUEUE, STACK, BLOOM_FILTER and LPM_TRIE
 * maps used from a program: push/pop/peek helpers and longest-prefix
 * lookups. tests/unit/test_map_types.c runs each program in both engines
 * and checks its result and what user space then sees in the maps. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 4);
	__type(value, __u64);
} fifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 4);
	__type(value, __u64);
} lifo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
	__uint(map_extra, 3);
} seen SEC(".maps");

struct lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__type(key, struct lpm_v4);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} routes SEC(".maps");

/* Push 1..5 into both (the fifth with BPF_EXIST drops the oldest), then pop
 * everything: the queue gives 2 3 4 5, the stack 5 4 3 2. Result: the
 * digits of both orders, 23455432, or an error code. */
SEC("xdp")
int queue_stack_order(struct xdp_md *ctx)
{
	__u64 v, digits = 0;
	for (v = 1; v <= 4; v++) {
		if (bpf_map_push_elem(&fifo, &v, BPF_ANY) || bpf_map_push_elem(&lifo, &v, BPF_ANY))
			return 1;
	}
	v = 5;
	if (bpf_map_push_elem(&fifo, &v, BPF_ANY) != -7 /* -E2BIG */)
		return 2;
	if (bpf_map_push_elem(&fifo, &v, BPF_EXIST) || bpf_map_push_elem(&lifo, &v, BPF_EXIST))
		return 3;
	if (bpf_map_peek_elem(&fifo, &v) || v != 2)
		return 4;
	for (int i = 0; i < 4; i++) {
		if (bpf_map_pop_elem(&fifo, &v))
			return 5;
		digits = digits * 10 + v;
	}
	for (int i = 0; i < 4; i++) {
		if (bpf_map_pop_elem(&lifo, &v))
			return 6;
		digits = digits * 10 + v;
	}
	if (bpf_map_pop_elem(&fifo, &v) != -2 /* -ENOENT */ || bpf_map_peek_elem(&lifo, &v) != -2)
		return 7;
	return (int)digits;
}

/* Add 10, 20, ..., 100 to the bloom filter; count which of 10..100 step 5
 * are "maybe present" (at least the 10 added ones). */
SEC("xdp")
int bloom_add_test(struct xdp_md *ctx)
{
	__u32 v;
	int hits = 0;
	for (v = 10; v <= 100; v += 10)
		if (bpf_map_push_elem(&seen, &v, BPF_ANY))
			return -1;
	for (v = 10; v <= 100; v += 10)
		if (bpf_map_peek_elem(&seen, &v) == 0)
			hits++;
	return hits;
}

/* The value of the longest prefix that holds 10.1.2.3 (0 when none). */
SEC("xdp")
int lpm_route(struct xdp_md *ctx)
{
	struct lpm_v4 key = { .prefixlen = 32, .addr = { 10, 1, 2, 3 } };
	__u32 *value = bpf_map_lookup_elem(&routes, &key);
	return value ? (int)*value : 0;
}

char LICENSE[] SEC("license") = "GPL";
