/* tests/progs/xdp_cli.bpf.c - the XDP program tests/e2e/xdp.sh runs with
 * `comb xdp` over generated pcaps. Its verdicts, chosen so each output and
 * each CLI feature has something to show:
 *   IPv4 UDP   port_verdict[dest port] - 1 when set (a control plane sets it
 *              through the pinned map), else PASS; dest port 7 (echo): the
 *              MACs are swapped and the packet goes back (TX); dest port 1000
 *              bpf_redirect(5), 2000 bpf_redirect_map(tx_ports, 2);
 *   IPv4 TCP   DROP for dest port 23, else PASS;
 *   ICMP       the unknown action 7 (ABORTED, as the kernel treats it);
 *   other      PASS.
 * Every IPv4 UDP/TCP packet also sends a struct flow_event record to the
 * ring buffer `events` (for --records). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u32);
} port_verdict SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events SEC(".maps");

struct flow_event {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
	__u32 len;
	char tag[8];
	__u8 ip6addr[16];
};
/* Puts struct flow_event into the object's BTF (as libbpf-bootstrap does). */
const struct flow_event *unused_flow_event __attribute__((unused));

static void record(struct iphdr *ip, __be16 sport, __be16 dport, __u32 len)
{
	struct flow_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	e->saddr = ip->saddr;
	e->daddr = ip->daddr;
	e->sport = sport;
	e->dport = dport;
	e->proto = ip->protocol;
	e->len = len;
	__builtin_memcpy(e->tag, "flow", 5);
	e->ip6addr[0] = 0x20, e->ip6addr[1] = 0x01, e->ip6addr[2] = 0x0d, e->ip6addr[3] = 0xb8;
	e->ip6addr[15] = 1;
	bpf_ringbuf_submit(e, 0);
}

static int swap_macs_and_send_back(struct ethhdr *eth)
{
	unsigned char tmp[ETH_ALEN];
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return XDP_TX;
}

static int udp_verdict(struct ethhdr *eth, struct udphdr *udp)
{
	__u32 port = bpf_ntohs(udp->dest);
	if (port == 7)
		return swap_macs_and_send_back(eth);
	if (port == 1000)
		return bpf_redirect(5, 0);
	if (port == 2000)
		return bpf_redirect_map(&tx_ports, 2, 0);
	__u32 *v = bpf_map_lookup_elem(&port_verdict, &port);
	return v && *v ? (int)(*v - 1) : XDP_PASS;
}

SEC("xdp")
int xdp_cli(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return XDP_PASS;
	if (ip->protocol == IPPROTO_ICMP)
		return 7;
	void *l4 = (void *)ip + ip->ihl * 4;
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > end)
			return XDP_PASS;
		record(ip, udp->source, udp->dest, (__u32)(end - data));
		return udp_verdict(eth, udp);
	}
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > end)
			return XDP_PASS;
		record(ip, tcp->source, tcp->dest, (__u32)(end - data));
		return tcp->dest == bpf_htons(23) ? XDP_DROP : XDP_PASS;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
