/* tests/progs/run_socket_filter.bpf.c - a classic socket filter in C.
 *
 * Reads the packet with LD_ABS/LD_IND (llvm.bpf.load.*; offsets start at
 * the network header, as for sockets) and struct __sk_buff fields, counts
 * bytes per IP protocol in an array map and per source address in a hash
 * map, keeps totals in .bss and .data, and returns how many bytes of the
 * packet to keep: all of UDP, the first snap_len bytes of TCP, nothing of
 * the rest. (The kernel forbids bpf-to-bpf calls next to LD_ABS, so every
 * helper function here is inlined.)
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

const volatile __u32 snap_len = 40;

__u64 total_len;
__u32 non_ip = 7;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_bytes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u32);
} sources SEC(".maps");

static __always_inline void count_source(__u32 saddr)
{
	__u32 *packets = bpf_map_lookup_elem(&sources, &saddr);
	__u32 one = 1;

	if (packets)
		*packets += 1;
	else
		bpf_map_update_elem(&sources, &saddr, &one, BPF_NOEXIST);
}

SEC("socket")
int socket_snap(struct __sk_buff *skb)
{
	total_len += skb->len;
	if (skb->protocol != bpf_htons(ETH_P_IP) || skb->len < 20) {
		non_ip++;
		return 0;
	}
	__u32 ihl = (load_byte(skb, 0) & 15) * 4;
	__u32 proto = load_byte(skb, 9);
	__u64 *bytes = bpf_map_lookup_elem(&proto_bytes, &proto);
	if (bytes)
		*bytes += skb->len;
	count_source(load_word(skb, 12));
	if (proto == IPPROTO_UDP)
		return skb->len;
	if (proto == IPPROTO_TCP) {
		__u32 dport = load_half(skb, ihl + 2);
		return dport == 22 ? 0 : snap_len;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
