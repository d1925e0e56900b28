/* tests/progs/verify_unsafe.bpf.c - programs the kernel's verifier rejects.
 *
 * Each unsafe_* program breaks exactly one rule (a missing NULL test, a
 * packet read past the proven range, an uninitialized register, a leaked
 * ring buffer reservation, dead code...). Most are written in assembly
 * (naked functions) because clang would not produce the mistake itself.
 * tests/kernel/kernel_verdicts.c checks that the kernel and comb_verify
 * both reject each one.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct value {
	__u64 packets;
	__u32 slots[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct value);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct value);
} table SEC(".maps");

const volatile __u32 config = 1;

#define NAKED(sec, name) SEC(sec) __attribute__((naked)) int name(void)

SEC("xdp") int unsafe_null_deref(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct value *v = bpf_map_lookup_elem(&table, &key);
	v->packets++;
	return XDP_PASS;
}

SEC("xdp") int unsafe_array_key_out_of_range(struct xdp_md *ctx)
{
	__u32 key = 0;
	__builtin_memset(&key, 0xff, sizeof(key)); /* 0xffffffff >= max_entries: may fail */
	struct value *v = bpf_map_lookup_elem(&counters, &key);
	return v->packets;
}

SEC("xdp") int unsafe_pkt_no_check(struct xdp_md *ctx)
{
	struct ethhdr *eth = (void *)(long)ctx->data;
	return eth->h_proto == bpf_htons(ETH_P_IP);
}

SEC("xdp") int unsafe_pkt_off_by_one(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (p + 13 > end)
		return XDP_DROP;
	return *(volatile __u16 *)(p + 12);
}

SEC("xdp") int unsafe_map_index_unchecked(struct xdp_md *ctx)
{
	__u32 key = 0, i = ctx->rx_queue_index;
	struct value *v = bpf_map_lookup_elem(&counters, &key);
	if (!v)
		return XDP_PASS;
	return v->slots[i];
}

SEC("xdp") int unsafe_map_index_negative(struct xdp_md *ctx)
{
	__u32 key = 0;
	int i = (int)ctx->rx_queue_index;
	struct value *v = bpf_map_lookup_elem(&counters, &key);
	if (!v)
		return XDP_PASS;
	if (i < 8)
		return v->slots[i];
	return XDP_PASS;
}

NAKED("xdp", unsafe_stack_below)
{
	asm volatile("r0 = 0; *(u64 *)(r10 - 520) = r0; exit;" ::: "memory");
}

NAKED("xdp", unsafe_stack_above)
{
	asm volatile("r0 = 0; *(u64 *)(r10 + 8) = r0; exit;" ::: "memory");
}

NAKED("xdp", unsafe_stack_misaligned)
{
	asm volatile("r0 = 0; *(u64 *)(r10 - 12) = r0; exit;" ::: "memory");
}

NAKED("xdp", unsafe_uninit_reg)
{
	asm volatile("r0 = r2; exit;" ::: "memory");
}

NAKED("xdp", unsafe_uninit_r0)
{
	asm volatile("exit;" ::: "memory");
}

NAKED("xdp", unsafe_clobbered_arg)
{
	asm volatile("call %[ktime]; r0 = r1; exit;" :: [ktime] "i"(BPF_FUNC_ktime_get_ns) : "memory");
}

NAKED("xdp", unsafe_scalar_deref)
{
	asm volatile("r1 = 4096; r0 = *(u8 *)(r1 + 0); exit;" ::: "memory");
}

SEC("socket") int unsafe_ctx_write(struct __sk_buff *skb)
{
	skb->mark = 1;
	return 0;
}

NAKED("xdp", unsafe_ctx_offset)
{
	asm volatile("r0 = *(u32 *)(r1 + 100); exit;" ::: "memory");
}

NAKED("xdp", unsafe_ctx_modified)
{
	asm volatile("r1 += 4; r0 = *(u32 *)(r1 + 0); exit;" ::: "memory");
}

SEC("xdp") int unsafe_ringbuf_leak(struct xdp_md *ctx)
{
	__u64 *rec = bpf_ringbuf_reserve(&events, 8, 0);
	if (!rec)
		return XDP_PASS;
	*rec = 1;
	return XDP_PASS;
}

SEC("xdp") int unsafe_ringbuf_leak_branch(struct xdp_md *ctx)
{
	__u64 *rec = bpf_ringbuf_reserve(&events, 8, 0);
	if (!rec)
		return XDP_PASS;
	*rec = ctx->rx_queue_index;
	if (ctx->rx_queue_index > 2)
		return XDP_DROP;
	bpf_ringbuf_submit(rec, 0);
	return XDP_PASS;
}

SEC("xdp") int unsafe_ringbuf_no_null_check(struct xdp_md *ctx)
{
	__u64 *rec = bpf_ringbuf_reserve(&events, 8, 0);
	*rec = 1;
	bpf_ringbuf_submit(rec, 0);
	return XDP_PASS;
}

NAKED("xdp", unsafe_ptr_mul)
{
	asm volatile("r1 *= 2; r0 = 0; exit;" ::: "memory");
}

NAKED("xdp", unsafe_ptr_add_ptr)
{
	asm volatile("r1 += r10; r0 = 0; exit;" ::: "memory");
}

NAKED("xdp", unsafe_scalar_minus_ptr)
{
	asm volatile("r0 = 0; r0 -= r1; r0 = 0; exit;" ::: "memory");
}

NAKED("xdp", unsafe_ptr_alu32)
{
	asm volatile("w1 += 1; r0 = 0; exit;" ::: "memory");
}

NAKED("xdp", unsafe_infinite_loop)
{
	asm volatile("r0 = 0;"
		     "l0_%=: r0 += 0;"
		     "if r0 == 0 goto l0_%=;"
		     "exit;" ::: "memory");
}

NAKED("xdp", unsafe_unbounded_loop)
{
	asm volatile("r1 = *(u32 *)(r1 + 0); r0 = 0;"
		     "l0_%=: r0 += 1;"
		     "if r0 != 0 goto l0_%=;"
		     "exit;" ::: "memory");
}

NAKED("xdp", unsafe_dead_code)
{
	asm volatile("r0 = 0; exit; r0 = 1; exit;" ::: "memory");
}

NAKED("xdp", unsafe_helper_map_arg)
{
	asm volatile("r1 = 0; r2 = r10; r2 += -8; r3 = 0; *(u64 *)(r10 - 8) = r3;"
		     "call %[lookup]; r0 = 0; exit;" :: [lookup] "i"(BPF_FUNC_map_lookup_elem) : "memory");
}

NAKED("xdp", unsafe_helper_null_key)
{
	asm volatile("r1 = %[map] ll; r2 = 0;"
		     "call %[lookup]; r0 = 0; exit;"
		     :: [map] "i"(&counters), [lookup] "i"(BPF_FUNC_map_lookup_elem) : "memory");
}

NAKED("xdp", unsafe_helper_key_oob)
{
	asm volatile("r1 = %[map] ll; r2 = r10; r2 += -2; r3 = 0; *(u16 *)(r10 - 2) = r3;"
		     "call %[lookup]; r0 = 0; exit;"
		     :: [map] "i"(&counters), [lookup] "i"(BPF_FUNC_map_lookup_elem) : "memory");
}

/* x86-64 pt_regs: dx is word 12, si word 13. */
SEC("kprobe/do_nanosleep") int unsafe_helper_size_unbounded(void *regs)
{
	const unsigned long *w = regs;
	char buf[16];
	bpf_probe_read_kernel(buf, w[12], (void *)w[13]);
	return buf[0];
}

SEC("socket") int unsafe_helper_not_allowed(struct __sk_buff *skb)
{
	return bpf_xdp_adjust_head((void *)skb, 4);
}

SEC("xdp") int unsafe_pkt_end_deref(struct xdp_md *ctx)
{
	return *(volatile unsigned char *)(long)ctx->data_end;
}

static __attribute__((noinline)) int big_frame_inner(int x)
{
	volatile char buf[300];
	buf[x & 255] = 1;
	return buf[(x + 1) & 255];
}

SEC("xdp") int unsafe_combined_stack(struct xdp_md *ctx)
{
	volatile char buf[300];
	buf[ctx->rx_queue_index & 255] = 2;
	return big_frame_inner(ctx->ingress_ifindex) + buf[3];
}

SEC("cgroup_skb/ingress") int unsafe_cgroup_return(struct __sk_buff *skb)
{
	return 5;
}

NAKED("xdp", unsafe_ld_abs_xdp)
{
	asm volatile("r6 = r1; r0 = *(u8 *)skb[12]; exit;" ::: "memory");
}

NAKED("xdp", unsafe_or_null_arith)
{
	asm volatile("r1 = %[map] ll; r2 = r10; r2 += -8; r3 = 0; *(u64 *)(r10 - 8) = r3;"
		     "call %[lookup]; r0 += 4; if r0 == 0 goto l0_%=; r0 = *(u32 *)(r0 + 0);"
		     "l0_%=: r0 = 0; exit;"
		     :: [map] "i"(&counters), [lookup] "i"(BPF_FUNC_map_lookup_elem) : "memory");
}

SEC("xdp") int unsafe_rodata_write(struct xdp_md *ctx)
{
	*(volatile __u32 *)&config = 2;
	return XDP_PASS;
}

NAKED("xdp", unsafe_spill_partial_ptr)
{
	asm volatile("*(u64 *)(r10 - 8) = r1; r0 = *(u32 *)(r10 - 8); exit;" ::: "memory");
}
