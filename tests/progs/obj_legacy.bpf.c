/* tests/progs/obj_legacy.bpf.c - a legacy `maps` section (struct
 * bpf_map_def records, as pre-BTF objects have) and a tc classifier that
 * uses it; tests/unit/test_object.c checks comb reads both maps. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct legacy_map_def {
	unsigned int type, key_size, value_size, max_entries, map_flags;
};

struct legacy_map_def legacy_counts SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 2,
};
struct legacy_map_def legacy_hash SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH, .key_size = 8, .value_size = 4, .max_entries = 16,
};

SEC("classifier")
int legacy_prog(void *ctx)
{
	__u32 key = 1;
	__u64 *v = bpf_map_lookup_elem(&legacy_counts, &key);
	if (!v)
		return 0;
	*v += 5;
	return (int)*v;
}

char LICENSE[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x050a00;
