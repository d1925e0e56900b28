/* xdp_helpers_redirect.bpf.c - bpf_redirect and bpf_redirect_map on every
 * redirect map type, driven by a parameter map: mode 0 redirect(a, b),
 * 1 DEVMAP, 2 DEVMAP_HASH, 3 CPUMAP, 4 XSKMAP (key a, flags b). The helper's
 * return value is the verdict. tests/kernel/kernel_xdp.c compares the
 * verdicts with the kernel's.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rparams {
	__u64 mode, a, b;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rparams);
} rparams SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} devs_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int xdp_redirect(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct rparams *p = bpf_map_lookup_elem(&rparams, &zero);
	if (!p)
		return XDP_ABORTED;
	switch (p->mode) {
	case 0:
		return bpf_redirect((__u32)p->a, p->b);
	case 1:
		return bpf_redirect_map(&devs, p->a, p->b);
	case 2:
		return bpf_redirect_map(&devs_hash, p->a, p->b);
	case 3:
		return bpf_redirect_map(&cpus, p->a, p->b);
	case 4:
		return bpf_redirect_map(&xsks, p->a, p->b);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
