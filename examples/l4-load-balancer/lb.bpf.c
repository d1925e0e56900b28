/* examples/l4-load-balancer/lb.bpf.c - an XDP layer-4 load balancer.
 *
 * TCP and UDP packets to the virtual IP (vip) are spread over the backends
 * by flow: every packet of a 5-tuple goes to the same backend. The choice is
 * rendezvous (highest random weight) hashing: each backend scores
 * mix(flow hash, backend address) and the best scoring backend that is up
 * wins. Taking a backend down (backend_down[i] = 1, from the control plane)
 * moves only that backend's flows; every other flow keeps its backend.
 *
 * The packet is sent back out (XDP_TX) encapsulated IPv4-in-IPv4 (RFC 2003),
 * the way Katran and other direct-server-return balancers do it:
 * bpf_xdp_adjust_head(-20) makes room, the Ethernet header moves to the new
 * front (destination: the next hop's MAC), and an outer IPv4 header from
 * lb_addr to the backend follows, its checksum from bpf_csum_diff().
 * Everything else (other addresses, ICMP, IPv6, ARP) is XDP_PASS; a VIP
 * packet that would exceed max_outer_len once encapsulated is also passed,
 * for the stack to answer. Backends and addresses are .rodata settings.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MAX_BACKENDS 8
#define IPV4(a, b, c, d) (((__u32)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

/* Settings (.rodata); addresses in host order. */
const volatile __u32 vip = IPV4(198, 51, 100, 100);
const volatile __u32 lb_addr = IPV4(198, 51, 100, 2);
const volatile __u32 backend_count = 4;
const volatile __u32 backends[MAX_BACKENDS] = {
	IPV4(198, 51, 100, 11), IPV4(198, 51, 100, 12), IPV4(198, 51, 100, 13), IPV4(198, 51, 100, 14),
};
const volatile __u8 next_hop_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe };
const volatile __u16 max_outer_len = 1500; /* IP MTU towards the backends */

/* Control plane: backend_down[i] != 0 takes backend i out of rotation. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, __u32);
} backend_down SEC(".maps");

/* Packets sent to each backend (index MAX_BACKENDS: VIP packets dropped
 * because every backend is down). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_BACKENDS + 1);
	__type(key, __u32);
	__type(value, __u64);
} backend_packets SEC(".maps");

struct flow {
	__be32 saddr, daddr;
	__be16 sport, dport;
	__u8 proto;
};

/* The 64-bit finalizer of MurmurHash3: good avalanche, cheap. */
static __always_inline __u64 mix64(__u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static __always_inline __u64 flow_hash(const struct flow *f)
{
	__u64 a = ((__u64)f->saddr << 32) | f->daddr;
	__u64 b = ((__u64)f->sport << 32) | ((__u64)f->dport << 16) | f->proto;
	return mix64(a ^ mix64(b));
}

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&backend_packets, &slot);
	if (n)
		*n += 1;
}

/* Rendezvous hashing; returns the backend's index or -1 when all are down. */
static __always_inline int pick_backend(__u64 hash)
{
	__u64 best_score = 0;
	int best = -1;

	for (__u32 i = 0; i < MAX_BACKENDS; i++) {
		if (i >= backend_count)
			break;
		__u32 key = i;
		__u32 *down = bpf_map_lookup_elem(&backend_down, &key);
		if (down && *down)
			continue;
		__u64 score = mix64(hash ^ ((__u64)backends[i] * 0x9e3779b97f4a7c15ULL));
		if (best < 0 || score > best_score) {
			best_score = score;
			best = i;
		}
	}
	return best;
}

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Parse Ethernet/IPv4/TCP-or-UDP; 0 when the packet is not for the VIP. */
static __always_inline int parse_vip_flow(void *data, void *data_end, struct flow *f, __u16 *inner_len)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	if (ip->ihl < 5 || ip->daddr != bpf_htonl(vip))
		return 0;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return 0;
	f->saddr = ip->saddr;
	f->daddr = ip->daddr;
	f->proto = ip->protocol;
	f->sport = f->dport = 0;
	if (!(ip->frag_off & bpf_htons(0x1fff))) { /* ports only in the first fragment */
		__be16 *ports = (void *)ip + ip->ihl * 4;
		if ((void *)(ports + 2) > data_end)
			return 0;
		f->sport = ports[0];
		f->dport = ports[1];
	}
	*inner_len = bpf_ntohs(ip->tot_len);
	return 1;
}

SEC("xdp")
int l4_load_balancer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flow f;
	__u16 inner_len;

	if (!parse_vip_flow(data, data_end, &f, &inner_len))
		return XDP_PASS;
	if (inner_len + sizeof(struct iphdr) > max_outer_len)
		return XDP_PASS;
	int b = pick_backend(flow_hash(&f));
	if (b < 0) {
		count(MAX_BACKENDS);
		return XDP_DROP;
	}

	struct ethhdr *old_eth = data;
	struct iphdr *inner = (void *)(old_eth + 1);
	if ((void *)(inner + 1) > data_end)
		return XDP_PASS;
	unsigned char our_mac[ETH_ALEN];
	__builtin_memcpy(our_mac, old_eth->h_dest, ETH_ALEN);
	__u8 tos = inner->tos;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *outer = data + sizeof(*eth);
	if ((void *)(outer + 1) > data_end)
		return XDP_ABORTED;

	for (int i = 0; i < ETH_ALEN; i++)
		eth->h_dest[i] = next_hop_mac[i];
	__builtin_memcpy(eth->h_source, our_mac, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);

	outer->version = 4;
	outer->ihl = 5;
	outer->tos = tos;
	outer->tot_len = bpf_htons(inner_len + sizeof(*outer));
	outer->id = 0;
	outer->frag_off = 0;
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = bpf_htonl(lb_addr);
	outer->daddr = bpf_htonl(backends[b & (MAX_BACKENDS - 1)]);
	outer->check = csum_fold(bpf_csum_diff(NULL, 0, (__be32 *)outer, sizeof(*outer), 0));

	count(b);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
