/* tests/progs/xdp_live_fw.bpf.c - a small firewall/responder for the live
 * XDP tests (tests/e2e/xdp_live.sh).
 *
 * For IPv4 frames:
 *   - UDP to a destination port in blocked_ports (key: the port as on the
 *     wire, network byte order) -> XDP_DROP;
 *   - UDP to a port in redirect_ports (same key) -> bpf_redirect() to the
 *     ifindex stored as its value;
 *   - ICMP echo request to an address ending in .254 -> answered in place:
 *     MAC and IP addresses swapped, type set to echo reply, ICMP checksum
 *     updated incrementally (RFC 1624) -> XDP_TX;
 *   - everything else -> XDP_PASS.
 * stats[action] counts the packets of each verdict (0 ABORTED .. 4 REDIRECT).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* linux/icmp.h drags in libc headers: the 4 bytes we need, as RFC 792 has them. */
struct icmp_head {
	__u8 type;
	__u8 code;
	__sum16 checksum;
};
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u32);
} blocked_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, __u32);
} redirect_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline int count(int action)
{
	__u32 key = action;
	__u64 *n = bpf_map_lookup_elem(&stats, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return action;
}

static __always_inline int echo_reply(struct ethhdr *eth, struct iphdr *ip, struct icmp_head *icmp)
{
	__u8 mac[ETH_ALEN];
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	__be32 addr = ip->daddr;
	ip->daddr = ip->saddr;
	ip->saddr = addr; /* the IP checksum does not change: same words, swapped */
	icmp->type = ICMP_ECHOREPLY;
	/* HC' = ~(~HC + ~m + m'), m = 0x0800 (echo request, code 0), m' = 0 */
	__u32 sum = (~bpf_ntohs(icmp->checksum) & 0xffff) + (~0x0800 & 0xffff);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	icmp->checksum = bpf_htons(~sum & 0xffff);
	return XDP_TX;
}

static __always_inline int udp_verdict(struct udphdr *udp)
{
	__u16 port = udp->dest;
	if (bpf_map_lookup_elem(&blocked_ports, &port))
		return XDP_DROP;
	__u32 *ifindex = bpf_map_lookup_elem(&redirect_ports, &port);
	if (ifindex)
		return bpf_redirect(*ifindex, 0);
	return XDP_PASS;
}

SEC("xdp")
int xdp_live_fw(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return count(XDP_PASS);
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl != 5)
		return count(XDP_PASS);
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > end)
			return count(XDP_PASS);
		return count(udp_verdict(udp));
	}
	if (ip->protocol == IPPROTO_ICMP) {
		struct icmp_head *icmp = (void *)(ip + 1);
		if ((void *)(icmp + 1) > end)
			return count(XDP_PASS);
		if (icmp->type == ICMP_ECHO && (bpf_ntohl(ip->daddr) & 0xff) == 254)
			return count(echo_reply(eth, ip, icmp));
	}
	return count(XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
