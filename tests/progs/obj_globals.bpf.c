/* tests/progs/obj_globals.bpf.c - loader features in one object: globals in
 * .data/.rodata/.bss/.data.NAME, a `const volatile` knob, a .text subprogram
 * called twice, BTF-defined hash and array maps, two programs in one section
 * and one in another. tests/unit/test_object.c opens, configures and runs it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} obj_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 16);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} obj_array SEC(".maps");

const volatile __u32 scale = 3;      /* .rodata */
__u64 counter = 100;                 /* .data */
__u64 total;                         /* .bss */
__u32 custom_value SEC(".data.custom") = 7;

__attribute__((noinline)) int add_scaled(int x)
{
	total += (__u64)x * scale;
	return x * scale + custom_value;
}

SEC("xdp")
int obj_main(struct xdp_md *ctx)
{
	__u32 key = 1;
	__u64 one = 1, *v;
	int r = add_scaled(2) + add_scaled(5); /* (6 + 7) + (15 + 7) = 35 */
	counter++;
	v = bpf_map_lookup_elem(&obj_hash, &key);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&obj_hash, &key, &one, BPF_ANY);
	return r;
}

SEC("xdp")
int obj_second(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u32 *slot = bpf_map_lookup_elem(&obj_array, &key);
	if (!slot)
		return -1;
	slot[0] = 42;
	return (int)counter;
}

SEC("socket")
int obj_socket(void *ctx)
{
	return add_scaled(1);
}

char LICENSE[] SEC("license") = "GPL";
