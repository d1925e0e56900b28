/* tests/progs/obj_mapinmap.bpf.c - inner maps and initial values: an array
 * of maps whose slot 0 holds inner_a, a prog array whose slot 1 holds
 * tail_target, a .kconfig extern, and a bpf-to-bpf call chain. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct inner inner_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a },
};

int tail_target(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int(void *));
} jumps SEC(".maps") = {
	.values = { [1] = (void *)&tail_target },
};

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_COMB_SURELY_MISSING __kconfig __weak;

static __attribute__((noinline)) int leaf(int x)
{
	return x + 1;
}

static __attribute__((noinline)) int middle(int x)
{
	return leaf(x) * 2;
}

SEC("socket")
int tail_target(void *ctx)
{
	return 9;
}

SEC("socket")
int uses_outer(void *ctx)
{
	__u32 key = 0;
	void *in = bpf_map_lookup_elem(&outer, &key);
	if (!in)
		return -1;
	__u32 *v = bpf_map_lookup_elem(in, &key);
	if (!v)
		return -2;
	*v = 77;
	return middle(3) + (LINUX_KERNEL_VERSION ? 100 : 0) + CONFIG_COMB_SURELY_MISSING;
}

char LICENSE[] SEC("license") = "GPL";
