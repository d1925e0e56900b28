/* tests/progs/map_typed.bpf.c - maps with typed keys and values for `comb
 * map` through BTF (tests/e2e/maps.sh, section "typed"): a hash map with a
 * struct key and a struct value holding ints, a char array, an enum, a
 * union, a nested struct and an int array; an array of u64; a per-CPU
 * array of a small struct; a hash with an enum key; an array of a struct with bit fields, a bool, an
 * anonymous union, a typedef and byte arrays; and global data
 * (.data, .rodata, .bss) whose values are DATASECs. The same object is
 * loaded in the kernel (bpftool prog load ... pinmaps) so that bpftool's
 * formatted dump of the same contents can be compared with comb's. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum flow_state { FLOW_NEW = 0, FLOW_OPEN = 1, FLOW_CLOSED = 7 };

struct flow_key {
	__u32 saddr;
	__u16 port;
	__u8 proto;
	__s8 zone;
};

struct flow_stats {
	__u64 packets;
	__s32 delta;
	char comm[8];
	enum flow_state state;
	union {
		__u32 word;
		__u16 halves[2];
	} tag;
	struct {
		__u16 lo, hi;
	} range;
	int hist[3];
};

typedef __u16 port_t;

struct bits {
	unsigned int lo : 3, mid : 7;
	int neg : 4;
	_Bool on;
	union {
		__u8 byte;
		__s8 sbyte;
	};
	port_t port;
	__s8 tiny[2];
	unsigned char raw[3];
	__u64 big;
};

struct pair {
	__u32 a;
	__s32 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct pair);
} pairs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, enum flow_state);
	__type(value, __s64);
} by_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bits);
} bitmap SEC(".maps");

__u32 seen = 5;                        /* .data */
char banner[6] = "comb!";              /* .data */
const volatile __u16 limit = 300;      /* .rodata */
__u64 drops;                           /* .bss */

SEC("xdp")
int typed_main(struct xdp_md *ctx)
{
	struct flow_key k = { .saddr = ctx->ingress_ifindex, .port = 80, .proto = 6 };
	struct flow_stats *s = bpf_map_lookup_elem(&flows, &k);
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&counters, &zero);
	struct pair *p = bpf_map_lookup_elem(&pairs, &zero);
	enum flow_state st = FLOW_OPEN;
	__s64 *n = bpf_map_lookup_elem(&by_state, &st);
	if (s)
		s->packets++;
	if (c)
		*c += seen;
	if (p)
		p->a++;
	if (n)
		(*n)--;
	struct bits *b = bpf_map_lookup_elem(&bitmap, &zero);
	if (b)
		b->on = 1;
	if (seen > limit)
		drops++;
	return banner[0] == 'c' ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
