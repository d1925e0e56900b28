/* xdp_helpers.bpf.c - the XDP packet helpers, driven by a parameter map.
 *
 * xdp_ops runs up to four operations from params (op, a, b): adjust_head,
 * adjust_meta, adjust_tail, get_buff_len, load_bytes, store_bytes, and
 * writing a word into the metadata; after each it records the helper's
 * return value, the packet length and, for load_bytes, the bytes read in
 * results. xdp_csum calls bpf_csum_diff on stack buffers and on the packet
 * (an odd offset, sizes beyond 512 bytes). tests/kernel/kernel_xdp.c runs
 * both in the kernel and in comb and compares results and packets.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define OPS 4
#define FIELDS 12

enum { OP_NONE, OP_HEAD, OP_META, OP_TAIL, OP_LEN, OP_LOAD, OP_STORE, OP_META_WRITE };

struct params {
	__u64 op[OPS], a[OPS], b[OPS];
	__u64 action;
};

struct results {
	__u64 v[OPS][FIELDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct params);
} params SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct results);
} results SEC(".maps");

static __always_inline long meta_write(struct xdp_md *ctx, __u32 word)
{
	void *meta = (void *)(long)ctx->data_meta, *data = (void *)(long)ctx->data;
	if (meta + 4 > data)
		return -1;
	*(__u32 *)meta = word;
	return 0;
}

static __always_inline void run_op(struct xdp_md *ctx, struct params *p, struct results *r, int i)
{
	__u8 buf[64] = {};
	__u32 len = (__u32)(p->b[i] & 63) + 1;
	long ret = -1000;
	switch (p->op[i]) {
	case OP_HEAD:
		ret = bpf_xdp_adjust_head(ctx, (int)p->a[i]);
		break;
	case OP_META:
		ret = bpf_xdp_adjust_meta(ctx, (int)p->a[i]);
		break;
	case OP_TAIL:
		ret = bpf_xdp_adjust_tail(ctx, (int)p->a[i]);
		break;
	case OP_LEN:
		ret = (long)bpf_xdp_get_buff_len(ctx);
		break;
	case OP_LOAD:
		ret = bpf_xdp_load_bytes(ctx, (__u32)p->a[i], buf, len);
		break;
	case OP_STORE:
		for (int k = 0; k < 64; k++)
			buf[k] = (__u8)(k * 3 + 1);
		ret = bpf_xdp_store_bytes(ctx, (__u32)p->a[i], buf, len);
		break;
	case OP_META_WRITE:
		ret = meta_write(ctx, (__u32)p->a[i]);
		break;
	default:
		return;
	}
	r->v[i][0] = (__u64)ret;
	r->v[i][1] = bpf_xdp_get_buff_len(ctx);
	__builtin_memcpy(&r->v[i][2], buf, sizeof(buf));
}

SEC("xdp")
int xdp_ops(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct params *p = bpf_map_lookup_elem(&params, &zero);
	struct results *r = bpf_map_lookup_elem(&results, &zero);
	if (!p || !r)
		return XDP_ABORTED;
	run_op(ctx, p, r, 0);
	run_op(ctx, p, r, 1);
	run_op(ctx, p, r, 2);
	run_op(ctx, p, r, 3);
	return (int)p->action;
}

/* params.op[0]: 0 stack/stack, 1 NULL/stack (push), 2 stack/NULL (pull),
 * 3 stack/packet+1; a = from size, b = to size, action = seed. */
SEC("xdp")
int xdp_csum(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct params *p = bpf_map_lookup_elem(&params, &zero);
	struct results *r = bpf_map_lookup_elem(&results, &zero);
	if (!p || !r)
		return XDP_ABORTED;
	__u8 from[128], to[128];
	for (int k = 0; k < 128; k++) {
		from[k] = (__u8)(k * 13 + 1);
		to[k] = (__u8)(k * 29 + 7);
	}
	__u32 fsz = (__u32)p->a[0] & 127, tsz = (__u32)p->b[0] & 127;
	__u32 seed = (__u32)p->action;
	long ret = -1000;
	switch (p->op[0]) {
	case 0:
		ret = bpf_csum_diff((__be32 *)from, fsz, (__be32 *)to, tsz, seed);
		break;
	case 1:
		ret = bpf_csum_diff(0, 0, (__be32 *)to, tsz, seed);
		break;
	case 2:
		ret = bpf_csum_diff((__be32 *)from, fsz, 0, 0, seed);
		break;
	case 3: {
		void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
		__u32 psz = (__u32)p->b[0] & 1023;
		if (data + 1 + 1024 > end)
			break;
		ret = bpf_csum_diff((__be32 *)from, fsz, (__be32 *)(data + 1), psz, seed);
		break;
	}
	}
	r->v[0][0] = (__u64)ret;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
