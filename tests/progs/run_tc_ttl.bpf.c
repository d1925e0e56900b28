/* tests/progs/run_tc_ttl.bpf.c - a tc classifier that rewrites packets.
 *
 * Direct packet access through struct __sk_buff data/data_end: for IPv4 it
 * decrements the TTL and patches the header checksum incrementally (RFC
 * 1624), drops packets whose TTL would reach zero (TC_ACT_SHOT) and lets
 * the rest through (TC_ACT_OK). Drops are counted by reason in a per-CPU
 * array; rewritten packets in .bss.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

__u64 rewritten;
__u32 min_ttl_seen = 255;

enum drop_reason { DROP_TRUNCATED, DROP_TTL, DROP_REASONS };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __noinline int drop(__u32 reason)
{
	__u64 *count = bpf_map_lookup_elem(&drops, &reason);

	if (count)
		*count += 1;
	return TC_ACT_SHOT;
}

SEC("tc")
int tc_ttl(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(eth + 1) > data_end)
		return drop(DROP_TRUNCATED);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if ((void *)(ip + 1) > data_end)
		return drop(DROP_TRUNCATED);
	if (ip->ttl <= 1)
		return drop(DROP_TTL);
	__u32 sum = (__u16)~bpf_ntohs(ip->check) + 0xfeff; /* ~m + m', m = ttl << 8 */
	sum = (sum & 0xffff) + (sum >> 16);
	ip->ttl--;
	ip->check = bpf_htons(~(sum + (sum >> 16)) & 0xffff);
	if (ip->ttl < min_ttl_seen)
		min_ttl_seen = ip->ttl;
	rewritten++;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
