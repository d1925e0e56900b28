/* examples/ddos-mitigator/ddos.bpf.c - an XDP DDoS mitigator for IPv4.
 *
 * Each IPv4 packet goes through the rules in this order; the first that
 * decides wins, and the reason is counted in `reason_counters`:
 *   1. allow list (LPM trie `allow_list`): PASS, nothing else applies;
 *   2. deny list (LPM trie `deny_list`): DROP;
 *   3. UDP amplification: UDP from source port 53, 123, 1900 or 11211 whose
 *      payload is larger than that service's limit: DROP;
 *   4. SYN flood: a TCP SYN beyond the source's SYN token bucket: DROP;
 *   5. rate limit: any packet beyond the source's token bucket: DROP;
 *   6. otherwise PASS. Non-IPv4 frames PASS untouched (REASON_NOT_IPV4).
 * Per-source state lives in an LRU hash, so a spoofed flood evicts old
 * sources instead of filling the table. The buckets refill from
 * bpf_ktime_get_ns() at rate_pps (syn_rate_pps) tokens per second up to
 * burst (syn_burst); rates and limits are .rodata settings a loader may
 * change before load. Lists are filled by the control plane (map updates
 * on the pinned maps); keys are struct lpm_v4_key.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define NSEC_PER_SEC 1000000000ULL

/* Settings (.rodata). */
const volatile __u64 rate_pps = 100;      /* packets per second per source */
const volatile __u64 burst = 100;         /* bucket size, packets */
const volatile __u64 syn_rate_pps = 10;   /* SYNs per second per source */
const volatile __u64 syn_burst = 20;
const volatile __u16 dns_max_payload = 512;      /* UDP payload bytes from port 53 */
const volatile __u16 ntp_max_payload = 200;      /* port 123: a normal reply is 48 */
const volatile __u16 ssdp_max_payload = 300;     /* port 1900 */
const volatile __u16 memcached_max_payload = 100; /* port 11211 */

enum reason {
	REASON_PASS,          /* passed every rule */
	REASON_ALLOW_LIST,    /* passed: source on the allow list */
	REASON_NOT_IPV4,      /* passed: not IPv4 (or a truncated header) */
	REASON_DENY_LIST,     /* dropped: source on the deny list */
	REASON_AMPLIFICATION, /* dropped: large UDP from an amplifier port */
	REASON_SYN_FLOOD,     /* dropped: too many SYNs from the source */
	REASON_RATE_LIMIT,    /* dropped: too many packets from the source */
	REASON_COUNT,
};

struct lpm_v4_key {
	__u32 prefixlen;
	__be32 addr;
};

struct bucket {
	__u64 tokens;     /* in nano-tokens: one packet costs NSEC_PER_SEC */
	__u64 last_ns;
};

struct source_state {
	struct bucket all;
	struct bucket syn;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct lpm_v4_key);
	__type(value, __u32);
} allow_list SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1024);
	__type(key, struct lpm_v4_key);
	__type(value, __u32);
} deny_list SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __be32);
	__type(value, struct source_state);
} sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, REASON_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} reason_counters SEC(".maps");

static __always_inline int count(enum reason why, int action)
{
	__u32 key = why;
	__u64 *n = bpf_map_lookup_elem(&reason_counters, &key);
	if (n)
		*n += 1;
	return action;
}

static __always_inline int on_list(void *list, __be32 addr)
{
	struct lpm_v4_key key = { .prefixlen = 32, .addr = addr };
	return bpf_map_lookup_elem(list, &key) != NULL;
}

/* Refill by the time elapsed, then take one packet's token if there is one. */
static __always_inline int bucket_take(struct bucket *b, __u64 now, __u64 rate, __u64 size)
{
	__u64 cap = size * NSEC_PER_SEC;
	__u64 elapsed = now - b->last_ns;
	__u64 tokens = b->tokens;

	/* Beyond a full refill the exact time no longer matters (and this keeps
	 * elapsed * rate from overflowing). */
	if (elapsed >= NSEC_PER_SEC * size || tokens + elapsed * rate >= cap)
		tokens = cap;
	else
		tokens += elapsed * rate;
	b->last_ns = now;
	if (tokens < NSEC_PER_SEC) {
		b->tokens = tokens;
		return 0;
	}
	b->tokens = tokens - NSEC_PER_SEC;
	return 1;
}

static __always_inline struct source_state *source_of(__be32 addr, __u64 now)
{
	struct source_state *st = bpf_map_lookup_elem(&sources, &addr);
	if (st)
		return st;
	struct source_state fresh = {
		.all = { .tokens = burst * NSEC_PER_SEC, .last_ns = now },
		.syn = { .tokens = syn_burst * NSEC_PER_SEC, .last_ns = now },
	};
	bpf_map_update_elem(&sources, &addr, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&sources, &addr);
}

static __always_inline __u16 amplifier_limit(__u16 sport)
{
	switch (sport) {
	case 53: return dns_max_payload;
	case 123: return ntp_max_payload;
	case 1900: return ssdp_max_payload;
	case 11211: return memcached_max_payload;
	default: return 0xffff;
	}
}

SEC("xdp")
int ddos_mitigator(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return count(REASON_NOT_IPV4, XDP_PASS);
	if (on_list(&allow_list, ip->saddr))
		return count(REASON_ALLOW_LIST, XDP_PASS);
	if (on_list(&deny_list, ip->saddr))
		return count(REASON_DENY_LIST, XDP_DROP);

	void *l4 = (void *)ip + ip->ihl * 4;
	int is_syn = 0;
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return count(REASON_NOT_IPV4, XDP_PASS);
		__u16 payload = bpf_ntohs(udp->len) - sizeof(*udp);
		if (payload > amplifier_limit(bpf_ntohs(udp->source)))
			return count(REASON_AMPLIFICATION, XDP_DROP);
	} else if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return count(REASON_NOT_IPV4, XDP_PASS);
		is_syn = tcp->syn && !tcp->ack;
	}

	__u64 now = bpf_ktime_get_ns();
	struct source_state *st = source_of(ip->saddr, now);
	if (!st)
		return count(REASON_PASS, XDP_PASS); /* no state: fail open */
	if (is_syn && !bucket_take(&st->syn, now, syn_rate_pps, syn_burst))
		return count(REASON_SYN_FLOOD, XDP_DROP);
	if (!bucket_take(&st->all, now, rate_pps, burst))
		return count(REASON_RATE_LIMIT, XDP_DROP);
	return count(REASON_PASS, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
