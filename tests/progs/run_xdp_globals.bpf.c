/* tests/progs/run_xdp_globals.bpf.c - two XDP programs in one section that
 * share global data and .text subprograms.
 *
 * xdp_hash folds the packet bytes (a bounded loop, at most max_bytes of
 * them) into an FNV-1a hash seeded from .rodata, keeps a small history in a
 * .bss array and a lookup table in .rodata, and returns a value computed
 * from the hash. xdp_count counts packets by their first byte's low nibble
 * in a hash map and by length class in .data. Both call the same
 * subprograms, so each gets its own copy appended after relocation.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 hash_seed = 2166136261u;
const volatile __u32 max_bytes = 64;
static const __u8 nibble_weight[16] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3 };

__u32 history[4];
__u32 history_next;
__u64 weight_total;
struct length_classes {
	__u32 tiny, small, large;
} lengths = { 100, 200, 300 };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} first_nibble SEC(".maps");

static __noinline __u32 fnv1a_step(__u32 hash, __u8 byte)
{
	return (hash ^ byte) * 16777619u;
}

static __noinline __u32 weight_of(__u8 byte)
{
	return nibble_weight[byte & 15] + nibble_weight[byte >> 4];
}

static __noinline void remember(__u32 value)
{
	__u32 slot = history_next & 3;

	history[slot] = value;
	history_next++;
}

SEC("xdp")
int xdp_hash(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;
	__u32 hash = hash_seed;

	for (__u32 i = 0; i < 128; i++) {
		if (i >= max_bytes || data + i + 1 > data_end)
			break;
		hash = fnv1a_step(hash, data[i]);
		weight_total += weight_of(data[i]);
	}
	remember(hash);
	return (hash % 3) + 1; /* XDP_DROP, XDP_PASS or XDP_TX */
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;

	if (data + 1 > data_end)
		return XDP_ABORTED;
	__u32 nibble = data[0] & 15;
	__u64 one = 1, *count = bpf_map_lookup_elem(&first_nibble, &nibble);
	if (count)
		(*count)++;
	else
		bpf_map_update_elem(&first_nibble, &nibble, &one, BPF_ANY);
	if (len < 64)
		lengths.tiny++;
	else if (len < 512)
		lengths.small++;
	else
		lengths.large++;
	remember(len);
	return weight_of(data[0]) > 8 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
