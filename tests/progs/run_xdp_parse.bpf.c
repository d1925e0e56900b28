/* tests/progs/run_xdp_parse.bpf.c - XDP parsing Ethernet (one VLAN tag),
 * IPv4 and UDP/TCP through ctx->data/data_end, with the bounds checks the
 * verifier demands.
 *
 * It exercises what a loader must get right: .rodata configuration
 * (`const volatile`), .data and .bss globals, BTF-defined array, hash and
 * per-CPU array maps, lookup/update/delete helpers, bpf-to-bpf calls into
 * .text subprograms, a bounded loop (the IPv4 header checksum) and a packet
 * rewrite (MAC swap and XDP_TX for UDP to echo_port). The state accumulates
 * over packets: a UDP port seen `forget_after` times is deleted from the
 * hash map again. tests/kernel/kernel_progs.c runs it in the kernel and in
 * comb and compares r0, the packet and every map.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define VLAN_HLEN 4

/* Configuration (.rodata), set before load by a skeleton-style loader. */
const volatile __u16 blocked_port = 53;
const volatile __u16 echo_port = 7;
const volatile __u32 forget_after = 3;

/* .data */
__u32 last_proto = 0xffffffff;
__u64 packet_serial = 1000;
/* .bss */
__u64 packets_seen;
__u64 bytes_seen;
__u32 bad_checksums;
__u16 last_dst_port;

enum verdict_slot { SLOT_PASS, SLOT_DROP, SLOT_TX, SLOT_MALFORMED, SLOT_COUNT };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

struct port_stats {
	__u32 packets;
	__u32 bytes;
	__u64 first_serial;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u16);
	__type(value, struct port_stats);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} proto_bytes SEC(".maps");

static __noinline int count_verdict(__u32 slot, int action)
{
	__u64 *count = bpf_map_lookup_elem(&verdicts, &slot);

	if (count)
		__sync_fetch_and_add(count, 1);
	return action;
}

/* One's-complement sum of the IPv4 header; 0xffff when it is intact. */
static __noinline __u32 ipv4_checksum_ok(struct iphdr *ip, void *data_end)
{
	__u16 *word = (__u16 *)ip;
	__u32 words = ip->ihl * 2, sum = 0;

	for (__u32 i = 0; i < 30; i++) {
		if (i >= words)
			break;
		if ((void *)(word + i + 1) > data_end)
			return 0;
		sum += word[i];
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static __noinline void account_port(__u16 port, __u32 len)
{
	struct port_stats *stats = bpf_map_lookup_elem(&ports, &port);

	if (!stats) {
		struct port_stats fresh = { .packets = 1, .bytes = len,
					    .first_serial = packet_serial };
		bpf_map_update_elem(&ports, &port, &fresh, BPF_NOEXIST);
		return;
	}
	stats->packets++;
	stats->bytes += len;
	if (stats->packets >= forget_after)
		bpf_map_delete_elem(&ports, &port);
}

static __always_inline void swap_macs(struct ethhdr *eth)
{
	unsigned char tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

SEC("xdp")
int xdp_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 len = data_end - data;
	__u16 proto;
	void *l3;

	packets_seen++;
	packet_serial++;
	bytes_seen += len;
	if ((void *)(eth + 1) > data_end)
		return count_verdict(SLOT_MALFORMED, XDP_DROP);
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		if (l3 + VLAN_HLEN > data_end)
			return count_verdict(SLOT_MALFORMED, XDP_DROP);
		proto = *(__u16 *)(l3 + 2);
		l3 += VLAN_HLEN;
	}
	last_proto = bpf_ntohs(proto);
	if (proto != bpf_htons(ETH_P_IP))
		return count_verdict(SLOT_PASS, XDP_PASS);

	struct iphdr *ip = l3;
	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return count_verdict(SLOT_MALFORMED, XDP_DROP);
	if (!ipv4_checksum_ok(ip, data_end)) {
		bad_checksums++;
		return count_verdict(SLOT_MALFORMED, XDP_DROP);
	}
	__u32 key = ip->protocol == IPPROTO_UDP ? 0 : 1;
	__u64 *per_cpu = bpf_map_lookup_elem(&proto_bytes, &key);
	if (per_cpu)
		*per_cpu += len;
	if (ip->frag_off & bpf_htons(0x1fff))
		return count_verdict(SLOT_PASS, XDP_PASS);

	void *l4 = (void *)ip + ip->ihl * 4;
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return count_verdict(SLOT_MALFORMED, XDP_DROP);
		__u16 dport = bpf_ntohs(udp->dest);
		last_dst_port = dport;
		account_port(dport, len);
		if (dport == blocked_port)
			return count_verdict(SLOT_DROP, XDP_DROP);
		if (dport == echo_port) {
			swap_macs(eth);
			udp->dest = udp->source;
			udp->source = bpf_htons(echo_port);
			return count_verdict(SLOT_TX, XDP_TX);
		}
	} else if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return count_verdict(SLOT_MALFORMED, XDP_DROP);
		last_dst_port = bpf_ntohs(tcp->dest);
		if (tcp->syn && !tcp->ack)
			account_port(last_dst_port, len);
	}
	return count_verdict(SLOT_PASS, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
