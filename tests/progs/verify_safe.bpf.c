/* tests/progs/verify_safe.bpf.c - programs the kernel's verifier accepts.
 *
 * Each safe_* program exercises one thing the verifier must prove (a NULL
 * test, a packet bounds check, a bounded loop, a released reservation...).
 * tests/kernel/kernel_verdicts.c loads each one into the kernel and into
 * comb_verify: both must accept it. Its unsafe twin is in verify_unsafe.bpf.c.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct value {
	__u64 packets;
	__u64 bytes;
	__u32 slots[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct value);
} counters SEC(".maps");

struct flow {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u32 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct flow);
	__type(value, __u64);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} jumps SEC(".maps");

const volatile __u32 mode = 1;

SEC("xdp") int safe_xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }

SEC("xdp") int safe_xdp_eth(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_PASS : XDP_DROP;
}

SEC("xdp") int safe_xdp_udp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->protocol != 17)
		return XDP_PASS;
	struct udphdr *udp = (void *)ip + ip->ihl * 4;
	if ((void *)(udp + 1) > end)
		return XDP_PASS;
	return udp->dest == bpf_htons(53) ? XDP_DROP : XDP_PASS;
}

SEC("xdp") int safe_map_null_check(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct value *v = bpf_map_lookup_elem(&counters, &key);
	if (!v)
		return XDP_PASS;
	v->packets++;
	v->bytes += ctx->data_end - ctx->data;
	return XDP_PASS;
}

SEC("xdp") int safe_array_const_key(struct xdp_md *ctx)
{
	__u32 key = 0; /* in range of an array: the kernel knows the lookup succeeds */
	struct value *v = bpf_map_lookup_elem(&counters, &key);
	return v->packets & 1;
}

SEC("xdp") int safe_hash_update(struct xdp_md *ctx)
{
	struct flow f;
	__builtin_memset(&f, 0, sizeof(f));
	f.proto = ctx->ingress_ifindex;
	__u64 one = 1;
	bpf_map_update_elem(&flows, &f, &one, BPF_ANY);
	__u64 *seen = bpf_map_lookup_elem(&flows, &f);
	return seen && *seen > 1 ? XDP_DROP : XDP_PASS;
}

SEC("xdp") int safe_loop_sum(struct xdp_md *ctx)
{
	__u32 key = 1;
	struct value *v = bpf_map_lookup_elem(&counters, &key);
	if (!v)
		return XDP_PASS;
	__u32 sum = 0;
	for (int i = 0; i < 8; i++)
		sum += v->slots[i];
	return sum & 1 ? XDP_DROP : XDP_PASS;
}

SEC("xdp") int safe_loop_pkt(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 sum = 0;
	for (int i = 0; i < 32; i++) {
		if (p + i + 1 > end)
			break;
		sum += p[i];
	}
	return sum == 7 ? XDP_DROP : XDP_PASS;
}

static __attribute__((noinline)) int classify(int len)
{
	return len > 100 ? XDP_DROP : XDP_PASS;
}

SEC("xdp") int safe_subprog_call(struct xdp_md *ctx)
{
	return classify(ctx->data_end - ctx->data);
}

static __attribute__((noinline)) int level3(int x) { return x & 3; }
static __attribute__((noinline)) int level2(int x) { return level3(x + 1); }
static __attribute__((noinline)) int level1(int x) { return level2(x * 2); }

SEC("xdp") int safe_nested_calls(struct xdp_md *ctx)
{
	return level1(ctx->rx_queue_index);
}

SEC("xdp") int safe_ringbuf_submit(struct xdp_md *ctx)
{
	__u32 *rec = bpf_ringbuf_reserve(&events, 8, 0);
	if (!rec)
		return XDP_PASS;
	rec[0] = ctx->ingress_ifindex;
	rec[1] = 0;
	bpf_ringbuf_submit(rec, 0);
	return XDP_PASS;
}

SEC("xdp") int safe_ringbuf_discard(struct xdp_md *ctx)
{
	__u64 *rec = bpf_ringbuf_reserve(&events, 8, 0);
	if (!rec)
		return XDP_PASS;
	*rec = ctx->rx_queue_index;
	if (*rec > 3)
		bpf_ringbuf_discard(rec, 0);
	else
		bpf_ringbuf_submit(rec, 0);
	return XDP_PASS;
}

SEC("xdp") int safe_ringbuf_output(struct xdp_md *ctx)
{
	__u64 data[2] = { ctx->ingress_ifindex, ctx->rx_queue_index };
	bpf_ringbuf_output(&events, data, sizeof(data), 0);
	return XDP_PASS;
}

SEC("tc") int safe_tc_mark(struct __sk_buff *skb)
{
	skb->mark = skb->len > 100 ? 1 : 2;
	return 0;
}

SEC("socket") int safe_socket_len(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("xdp") int safe_rodata_config(struct xdp_md *ctx)
{
	if (mode == 1)
		return XDP_PASS;
	return XDP_DROP;
}

SEC("xdp") int safe_bounded_index(struct xdp_md *ctx)
{
	__u32 key = 0, i = ctx->rx_queue_index;
	struct value *v = bpf_map_lookup_elem(&counters, &key);
	if (!v)
		return XDP_PASS;
	if (i < 8)
		v->slots[i]++;
	return XDP_PASS;
}

SEC("xdp") int safe_pkt_write(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	unsigned char tmp[ETH_ALEN];
	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
	return XDP_TX;
}

SEC("xdp") int safe_atomic_add(struct xdp_md *ctx)
{
	__u32 key = 2;
	struct value *v = bpf_map_lookup_elem(&counters, &key);
	if (v)
		__sync_fetch_and_add(&v->packets, 1);
	return XDP_PASS;
}

/* x86-64 pt_regs: si is word 13, di word 14. */
#define PT_ARG(ctx, word) (((const unsigned long *)(ctx))[word])

SEC("kprobe/do_nanosleep") int safe_kprobe(void *regs)
{
	__u64 t = bpf_ktime_get_ns();
	return (PT_ARG(regs, 14) + t) & 1;
}

SEC("kprobe/do_nanosleep") int safe_probe_read(void *regs)
{
	char buf[16];
	bpf_probe_read_kernel(buf, sizeof(buf), (void *)PT_ARG(regs, 13));
	return buf[0];
}

SEC("tracepoint/syscalls/sys_enter_openat") int safe_tracepoint(void *ctx)
{
	__u64 nr = *(__u64 *)(ctx + 8);
	return nr == 257;
}

static long loop_step(__u32 i, void *data)
{
	__u64 *sum = data;
	*sum += i;
	return 0;
}

SEC("xdp") int safe_bpf_loop(struct xdp_md *ctx)
{
	__u64 sum = 0;
	bpf_loop(10, loop_step, &sum, 0);
	return sum == 45 ? XDP_PASS : XDP_DROP;
}

SEC("xdp") int safe_pkt_length(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	long len = end - data;
	return len > 64 ? XDP_PASS : XDP_DROP;
}

SEC("cgroup_skb/ingress") int safe_cgroup_skb(struct __sk_buff *skb)
{
	return skb->len > 0 ? 1 : 0;
}

SEC("xdp") int safe_tail_call(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jumps, 0);
	return XDP_PASS;
}

SEC("xdp") int safe_stack_struct(struct xdp_md *ctx)
{
	struct flow a = { .saddr = ctx->ingress_ifindex, .proto = 6 };
	struct flow b = a;
	b.dport = 80;
	__u64 *v = bpf_map_lookup_elem(&flows, &b);
	return v ? XDP_DROP : XDP_PASS;
}

SEC("socket") __attribute__((naked)) int safe_ld_abs(void)
{
	asm volatile("r6 = r1;"
		     "r0 = *(u8 *)skb[12];"
		     "r0 &= 1;"
		     "exit;" ::: "memory");
}

SEC("xdp") int safe_jmp32_bounds(struct xdp_md *ctx)
{
	__u32 key = 3, idx = ctx->rx_queue_index;
	struct value *v = bpf_map_lookup_elem(&counters, &key);
	if (!v)
		return XDP_PASS;
	idx &= 7;
	return v->slots[idx] ? XDP_DROP : XDP_PASS;
}
