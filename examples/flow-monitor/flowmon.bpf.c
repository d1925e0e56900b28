/* examples/flow-monitor/flowmon.bpf.c - an XDP flow monitor (NetFlow-like).
 *
 * Every IPv4 packet is counted against its flow, the one-way 5-tuple
 * (addresses, ports, protocol), in the hash map `flows`: packets, bytes
 * (the Ethernet frame's length), first and last time seen, the OR of the TCP
 * flags. A flow record (struct flow_record) goes out through the ring
 * buffer `events`
 *   - when a TCP flow ends (FIN or RST): the flow leaves the map;
 *   - every export_every packets of a long flow ("active timeout" export
 *     by count): the counters restart from zero, so records add up.
 * Addresses and ports keep network byte order (__be32, __be16), so a
 * reader that knows the struct's BTF prints them as addresses and ports:
 *   comb xdp flowmon.bpf.o --pcap traffic.pcap --records events:flow_record
 * The monitor never changes a verdict: every packet is XDP_PASS.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

const volatile __u64 export_every = 32; /* packets; 0: only when a flow ends */

#define TCP_FIN 0x01
#define TCP_RST 0x04

enum export_reason {
	EXPORT_FIN = 1,    /* the flow ended with a FIN */
	EXPORT_RST = 2,    /* the flow was reset */
	EXPORT_ACTIVE = 3, /* export_every packets since the last record */
};

struct flow_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct flow_counters {
	__u64 packets;
	__u64 bytes;
	__u64 first_ns;
	__u64 last_ns;
	__u8 tcp_flags;
	__u8 tos;
};

struct flow_record {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 tcp_flags;   /* OR of the flags seen */
	__u8 reason;      /* enum export_reason */
	__u8 tos;         /* IP type of service of the flow's first packet */
	__u64 packets;
	__u64 bytes;
	__u64 first_ns;   /* bpf_ktime_get_ns() of the first packet counted */
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct flow_key);
	__type(value, struct flow_counters);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

__u64 records_lost;  /* ring buffer full */
__u64 flows_lost;    /* flow table full */

/* Keeps struct flow_record in the object's BTF for readers (--records). */
struct flow_record flow_record_btf_anchor;

static __always_inline int parse_flow(void *data, void *data_end, struct flow_key *key, __u8 *flags, __u8 *tos)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	key->saddr = ip->saddr;
	key->daddr = ip->daddr;
	key->proto = ip->protocol;
	*tos = ip->tos;
	*flags = 0;
	if (ip->frag_off & bpf_htons(0x1fff))
		return 1; /* a later fragment: no ports */
	void *l4 = (void *)ip + ip->ihl * 4;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return 1;
		key->sport = tcp->source;
		key->dport = tcp->dest;
		*flags = ((__u8 *)tcp)[13];
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return 1;
		key->sport = udp->source;
		key->dport = udp->dest;
	}
	return 1;
}

static __always_inline void export(const struct flow_key *key, const struct flow_counters *c, __u8 reason)
{
	struct flow_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&records_lost, 1);
		return;
	}
	r->saddr = key->saddr;
	r->daddr = key->daddr;
	r->sport = key->sport;
	r->dport = key->dport;
	r->proto = key->proto;
	r->tcp_flags = c->tcp_flags;
	r->reason = reason;
	r->tos = c->tos;
	r->packets = c->packets;
	r->bytes = c->bytes;
	r->first_ns = c->first_ns;
	r->last_ns = c->last_ns;
	bpf_ringbuf_submit(r, 0);
}

SEC("xdp")
int flow_monitor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flow_key key = {};
	__u8 flags, tos;

	if (!parse_flow(data, data_end, &key, &flags, &tos))
		return XDP_PASS;

	__u64 now = bpf_ktime_get_ns();
	__u64 len = data_end - data;
	struct flow_counters *c = bpf_map_lookup_elem(&flows, &key);
	if (!c) {
		struct flow_counters fresh = { .first_ns = now, .tos = tos };
		bpf_map_update_elem(&flows, &key, &fresh, BPF_NOEXIST); /* may race: then it exists */
		c = bpf_map_lookup_elem(&flows, &key);
		if (!c) {
			__sync_fetch_and_add(&flows_lost, 1);
			return XDP_PASS;
		}
	}
	c->packets += 1;
	c->bytes += len;
	c->last_ns = now;
	c->tcp_flags |= flags;

	if (flags & (TCP_FIN | TCP_RST)) {
		export(&key, c, flags & TCP_RST ? EXPORT_RST : EXPORT_FIN);
		bpf_map_delete_elem(&flows, &key);
	} else if (export_every && c->packets >= export_every) {
		export(&key, c, EXPORT_ACTIVE);
		c->packets = 0;
		c->bytes = 0;
		c->tcp_flags = 0;
		c->first_ns = now;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
