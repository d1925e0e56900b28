/* src/verifier/ctx_desc.c - context layouts and access rules per program type.
 *
 * Each context is a table of fields (offsets from linux/bpf.h via offsetof).
 * A field says, for reads and for writes, which "flavours" of program may do
 * it (a flavour is a program type, refined by expected attach type where the
 * kernel's rule depends on it) and which access sizes are allowed:
 *   EXACT       the element's full size at the element's start (xdp_md->data)
 *   NARROW      any power of two up to the element size, at any aligned
 *               offset inside it (__sk_buff->mark: byte 2 of mark is fine)
 *   NARROW_AT0  narrow sizes, but only at the element's start (bpf_sock->family)
 *   ANY         1, 2, 4 or 8 bytes, aligned, anywhere inside the field (cb[])
 *   WIDE_*      as NARROW/EXACT, or 8 aligned bytes of an ip6 array (sock_addr)
 *   PORT        2-byte port: narrow inside it, or 4 bytes at its start
 * Arrays of u32 (remote_ip6, cb...) have an element size smaller than the
 * field. Every access must also be aligned to its size and inside the
 * context. Padding is simply absent from the tables.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include "comb/object.h"
#include "verifier/ctx_desc.h"

enum flavour {
	FL_SOCKET_FILTER, FL_TC, FL_CGROUP_SKB,
	FL_XDP, FL_XDP_DEVMAP,
	FL_SOCK_CREATE, FL_SOCK_POST_BIND4, FL_SOCK_POST_BIND6, FL_SOCK_OTHER,
	FL_SA4, FL_SA4_SEND, FL_SA6, FL_SA6_SEND,
	FL_SOCK_OPS, FL_KPROBE, FL_PERF_EVENT, FL_TRACEPOINT, FL_RAW_TP,
	FL__COUNT
};
#define F(x) (1u << FL_##x)
#define SKB_ALL (F(SOCKET_FILTER) | F(TC) | F(CGROUP_SKB))
#define XDP_ALL (F(XDP) | F(XDP_DEVMAP))
#define SOCK_ALL (F(SOCK_CREATE) | F(SOCK_POST_BIND4) | F(SOCK_POST_BIND6) | F(SOCK_OTHER))
#define SA4_ALL (F(SA4) | F(SA4_SEND))
#define SA6_ALL (F(SA6) | F(SA6_SEND))
#define SA_ALL (SA4_ALL | SA6_ALL)

enum rule { R_NONE, R_EXACT, R_NARROW, R_NARROW_AT0, R_ANY, R_WIDE_NARROW, R_WIDE_EXACT, R_PORT };

struct field {
	const char *name;
	uint16_t off, size, elem;
	uint8_t read_rule, write_rule;
	uint32_t read_in, write_in; /* flavour sets */
	uint8_t reg;
};

struct ctx_desc {
	const char *name;
	uint32_t size;
	const struct field *fields;
	size_t nfields;
};

#define FIELD_SIZE(type, f) sizeof(((struct type *)0)->f)
/* A field of struct type: elem is the access unit (4 for u32 arrays). */
#define FLD(type, f, elem_, rr, rin, wr, win, reg_)                                          \
	{ #f, offsetof(struct type, f), FIELD_SIZE(type, f), elem_, rr, wr, rin, win, reg_ }
/* A u32 field anyone may read narrowly. */
#define U32(type, f, rin) FLD(type, f, 4, R_NARROW, rin, R_NONE, 0, COMB_CTX_REG_SCALAR)

static const struct field skb_fields[] = {
	U32(__sk_buff, len, SKB_ALL),
	U32(__sk_buff, pkt_type, SKB_ALL),
	FLD(__sk_buff, mark, 4, R_NARROW, SKB_ALL, R_EXACT, F(TC) | F(CGROUP_SKB), 0),
	FLD(__sk_buff, queue_mapping, 4, R_NARROW, SKB_ALL, R_EXACT, F(TC), 0),
	U32(__sk_buff, protocol, SKB_ALL),
	U32(__sk_buff, vlan_present, SKB_ALL),
	U32(__sk_buff, vlan_tci, SKB_ALL),
	U32(__sk_buff, vlan_proto, SKB_ALL),
	FLD(__sk_buff, priority, 4, R_NARROW, SKB_ALL, R_EXACT, F(TC) | F(CGROUP_SKB), 0),
	U32(__sk_buff, ingress_ifindex, SKB_ALL),
	U32(__sk_buff, ifindex, SKB_ALL),
	FLD(__sk_buff, tc_index, 4, R_NARROW, SKB_ALL, R_EXACT, F(TC), 0),
	FLD(__sk_buff, cb, 20, R_ANY, SKB_ALL, R_ANY, SKB_ALL, 0),
	U32(__sk_buff, hash, SKB_ALL),
	FLD(__sk_buff, tc_classid, 4, R_NARROW, F(TC), R_EXACT, F(TC), 0),
	FLD(__sk_buff, data, 4, R_EXACT, F(TC) | F(CGROUP_SKB), R_NONE, 0, COMB_CTX_REG_PTR_TO_PACKET),
	FLD(__sk_buff, data_end, 4, R_EXACT, F(TC) | F(CGROUP_SKB), R_NONE, 0,
	    COMB_CTX_REG_PTR_TO_PACKET_END),
	U32(__sk_buff, napi_id, SKB_ALL),
	U32(__sk_buff, family, F(CGROUP_SKB)),
	FLD(__sk_buff, remote_ip4, 4, R_EXACT, F(CGROUP_SKB), R_NONE, 0, 0),
	FLD(__sk_buff, local_ip4, 4, R_EXACT, F(CGROUP_SKB), R_NONE, 0, 0),
	FLD(__sk_buff, remote_ip6, 4, R_EXACT, F(CGROUP_SKB), R_NONE, 0, 0),
	FLD(__sk_buff, local_ip6, 4, R_EXACT, F(CGROUP_SKB), R_NONE, 0, 0),
	U32(__sk_buff, remote_port, F(CGROUP_SKB)),
	U32(__sk_buff, local_port, F(CGROUP_SKB)),
	FLD(__sk_buff, data_meta, 4, R_EXACT, F(TC), R_NONE, 0, COMB_CTX_REG_PTR_TO_PACKET_META),
	FLD(__sk_buff, tstamp, 8, R_EXACT, F(TC) | F(CGROUP_SKB), R_EXACT, F(TC) | F(CGROUP_SKB), 0),
	U32(__sk_buff, wire_len, F(TC)),
	U32(__sk_buff, gso_segs, SKB_ALL),
	FLD(__sk_buff, sk, 8, R_EXACT, SKB_ALL, R_NONE, 0, COMB_CTX_REG_PTR_TO_SOCK_COMMON_OR_NULL),
	U32(__sk_buff, gso_size, SKB_ALL),
	FLD(__sk_buff, tstamp_type, 1, R_EXACT, F(TC), R_NONE, 0, 0),
	FLD(__sk_buff, hwtstamp, 8, R_EXACT, F(TC) | F(CGROUP_SKB), R_NONE, 0, 0),
};

#define XDP_FIELD(f, rin, reg_) FLD(xdp_md, f, 4, R_EXACT, rin, R_NONE, 0, reg_)
static const struct field xdp_fields[] = {
	XDP_FIELD(data, XDP_ALL, COMB_CTX_REG_PTR_TO_PACKET),
	XDP_FIELD(data_end, XDP_ALL, COMB_CTX_REG_PTR_TO_PACKET_END),
	XDP_FIELD(data_meta, XDP_ALL, COMB_CTX_REG_PTR_TO_PACKET_META),
	XDP_FIELD(ingress_ifindex, XDP_ALL, 0),
	XDP_FIELD(rx_queue_index, XDP_ALL, 0),
	XDP_FIELD(egress_ifindex, F(XDP_DEVMAP), 0),
};

/* cgroup_sock: bound_dev_if, mark and priority are writable at socket
 * creation; the source address only after bind, for its family. */
#define SOCK_RO(f, rule, rin) FLD(bpf_sock, f, 4, rule, rin, R_NONE, 0, 0)
#define SOCK_RW(f) FLD(bpf_sock, f, 4, R_EXACT, F(SOCK_CREATE), R_EXACT, F(SOCK_CREATE), 0)
static const struct field sock_fields[] = {
	SOCK_RW(bound_dev_if),
	SOCK_RO(family, R_NARROW_AT0, SOCK_ALL),
	SOCK_RO(type, R_NARROW_AT0, SOCK_ALL),
	SOCK_RO(protocol, R_NARROW_AT0, SOCK_ALL),
	SOCK_RW(mark),
	SOCK_RW(priority),
	SOCK_RO(src_ip4, R_NARROW, F(SOCK_POST_BIND4)),
	SOCK_RO(src_ip6, R_NARROW, F(SOCK_POST_BIND6)),
	SOCK_RO(src_port, R_NARROW_AT0, F(SOCK_POST_BIND4) | F(SOCK_POST_BIND6)),
	FLD(bpf_sock, dst_port, 2, R_PORT, SOCK_ALL, R_NONE, 0, 0),
	SOCK_RO(dst_ip4, R_NARROW, SOCK_ALL),
	SOCK_RO(dst_ip6, R_NARROW, SOCK_ALL),
	SOCK_RO(state, R_NARROW_AT0, SOCK_ALL),
	SOCK_RO(rx_queue_mapping, R_NARROW_AT0, SOCK_ALL),
};

/* cgroup_sock_addr: address fields exist only for the hook's family. */
#define SA_ADDR(f, in, rr, wr) FLD(bpf_sock_addr, f, 4, rr, in, wr, in, 0)
static const struct field sock_addr_fields[] = {
	FLD(bpf_sock_addr, user_family, 4, R_EXACT, SA_ALL, R_NONE, 0, 0),
	SA_ADDR(user_ip4, SA4_ALL, R_NARROW, R_EXACT),
	SA_ADDR(user_ip6, SA6_ALL, R_WIDE_NARROW, R_WIDE_EXACT),
	SA_ADDR(user_port, SA_ALL, R_NARROW, R_EXACT),
	FLD(bpf_sock_addr, family, 4, R_EXACT, SA_ALL, R_NONE, 0, 0),
	FLD(bpf_sock_addr, type, 4, R_EXACT, SA_ALL, R_NONE, 0, 0),
	FLD(bpf_sock_addr, protocol, 4, R_EXACT, SA_ALL, R_NONE, 0, 0),
	SA_ADDR(msg_src_ip4, F(SA4_SEND), R_NARROW, R_EXACT),
	SA_ADDR(msg_src_ip6, F(SA6_SEND), R_WIDE_NARROW, R_WIDE_EXACT),
	FLD(bpf_sock_addr, sk, 8, R_EXACT, SA_ALL, R_NONE, 0, COMB_CTX_REG_PTR_TO_SOCKET),
};

/* sock_ops: u32 fields read whole; only reply and sk_txhash are writable. */
#define OPS(f, elem) FLD(bpf_sock_ops, f, elem, R_EXACT, F(SOCK_OPS), R_NONE, 0, 0)
static const struct field sock_ops_fields[] = {
	OPS(op, 4),
	FLD(bpf_sock_ops, reply, 4, R_EXACT, F(SOCK_OPS), R_EXACT, F(SOCK_OPS), 0),
	{ "args", offsetof(struct bpf_sock_ops, args) + 4, 12, 4, R_EXACT, R_NONE, F(SOCK_OPS), 0, 0 },
	OPS(family, 4), OPS(remote_ip4, 4), OPS(local_ip4, 4), OPS(remote_ip6, 4),
	OPS(local_ip6, 4), OPS(remote_port, 4), OPS(local_port, 4), OPS(is_fullsock, 4),
	OPS(snd_cwnd, 4), OPS(srtt_us, 4), OPS(bpf_sock_ops_cb_flags, 4), OPS(state, 4),
	OPS(rtt_min, 4), OPS(snd_ssthresh, 4), OPS(rcv_nxt, 4), OPS(snd_nxt, 4), OPS(snd_una, 4),
	OPS(mss_cache, 4), OPS(ecn_flags, 4), OPS(rate_delivered, 4), OPS(rate_interval_us, 4),
	OPS(packets_out, 4), OPS(retrans_out, 4), OPS(total_retrans, 4), OPS(segs_in, 4),
	OPS(data_segs_in, 4), OPS(segs_out, 4), OPS(data_segs_out, 4), OPS(lost_out, 4),
	OPS(sacked_out, 4),
	FLD(bpf_sock_ops, sk_txhash, 4, R_EXACT, F(SOCK_OPS), R_EXACT, F(SOCK_OPS), 0),
	OPS(bytes_received, 8), OPS(bytes_acked, 8),
	FLD(bpf_sock_ops, sk, 8, R_EXACT, F(SOCK_OPS), R_NONE, 0, COMB_CTX_REG_PTR_TO_SOCKET_OR_NULL),
	FLD(bpf_sock_ops, skb_data, 8, R_EXACT, F(SOCK_OPS), R_NONE, 0, COMB_CTX_REG_PTR_TO_PACKET),
	FLD(bpf_sock_ops, skb_data_end, 8, R_EXACT, F(SOCK_OPS), R_NONE, 0,
	    COMB_CTX_REG_PTR_TO_PACKET_END),
	OPS(skb_len, 4),
	FLD(bpf_sock_ops, skb_tcp_flags, 4, R_NARROW_AT0, F(SOCK_OPS), R_NONE, 0, 0),
	/* Newer than this machine's linux/bpf.h: u64 skb_hwtstamp follows skb_tcp_flags. */
	{ "skb_hwtstamp", sizeof(struct bpf_sock_ops), 8, 8, R_EXACT, R_NONE, F(SOCK_OPS), 0, 0 },
};
#define SOCK_OPS_SIZE (sizeof(struct bpf_sock_ops) + 8)

/* struct pt_regs of x86-64 (the kernel's names), 8 bytes per register. */
#define REG(name, i, rule, in) { name, (i) * 8, 8, 8, rule, R_NONE, in, 0, 0 }
#define PT_REGS(rule, in)                                                                    \
	REG("r15", 0, rule, in), REG("r14", 1, rule, in), REG("r13", 2, rule, in),            \
	REG("r12", 3, rule, in), REG("bp", 4, rule, in), REG("bx", 5, rule, in),              \
	REG("r11", 6, rule, in), REG("r10", 7, rule, in), REG("r9", 8, rule, in),             \
	REG("r8", 9, rule, in), REG("ax", 10, rule, in), REG("cx", 11, rule, in),             \
	REG("dx", 12, rule, in), REG("si", 13, rule, in), REG("di", 14, rule, in),            \
	REG("orig_ax", 15, rule, in), REG("ip", 16, rule, in), REG("cs", 17, rule, in),       \
	REG("flags", 18, rule, in), REG("sp", 19, rule, in), REG("ss", 20, rule, in)
#define PT_REGS_SIZE (21 * 8)

static const struct field pt_regs_fields[] = { PT_REGS(R_ANY, F(KPROBE)) };

/* bpf_perf_event_data: the registers read whole, then two u64 readable narrowly. */
static const struct field perf_event_fields[] = {
	PT_REGS(R_EXACT, F(PERF_EVENT)),
	FLD(bpf_perf_event_data, sample_period, 8, R_NARROW, F(PERF_EVENT), R_NONE, 0, 0),
	FLD(bpf_perf_event_data, addr, 8, R_NARROW, F(PERF_EVENT), R_NONE, 0, 0),
};

/* A tracepoint's raw record: its first 8 bytes (the common fields) are not
 * readable; the rest is, up to PERF_MAX_TRACE_SIZE (8192). */
static const struct field tracepoint_fields[] = {
	{ "record", 8, 8192 - 8, 8192 - 8, R_ANY, R_NONE, F(TRACEPOINT), 0, 0 },
};

/* Raw tracepoints: up to 12 u64 arguments (MAX_BPF_FUNC_ARGS). */
static const struct field raw_tp_fields[] = {
	{ "args", 0, 12 * 8, 12 * 8, R_ANY, R_NONE, F(RAW_TP), 0, 0 },
};

#define DESC(name, size, f) { name, size, f, sizeof(f) / sizeof(f[0]) }
static const struct ctx_desc skb_desc = DESC("__sk_buff", sizeof(struct __sk_buff), skb_fields);
static const struct ctx_desc xdp_desc = DESC("xdp_md", sizeof(struct xdp_md), xdp_fields);
static const struct ctx_desc sock_desc = DESC("bpf_sock", sizeof(struct bpf_sock), sock_fields);
static const struct ctx_desc sock_addr_desc =
	DESC("bpf_sock_addr", sizeof(struct bpf_sock_addr), sock_addr_fields);
static const struct ctx_desc sock_ops_desc = DESC("bpf_sock_ops", SOCK_OPS_SIZE, sock_ops_fields);
static const struct ctx_desc pt_regs_desc = DESC("pt_regs", PT_REGS_SIZE, pt_regs_fields);
static const struct ctx_desc perf_event_desc =
	DESC("bpf_perf_event_data", PT_REGS_SIZE + 16, perf_event_fields);
static const struct ctx_desc tracepoint_desc = DESC("tracepoint record", 8192, tracepoint_fields);
static const struct ctx_desc raw_tp_desc = DESC("raw tracepoint args", 12 * 8, raw_tp_fields);

_Static_assert(offsetof(struct bpf_perf_event_data, sample_period) == PT_REGS_SIZE,
	       "bpf_perf_event_data starts with x86-64 pt_regs");

static const struct ctx_desc *desc_of(uint32_t prog_type)
{
	switch (prog_type) {
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_CGROUP_SKB: return &skb_desc;
	case BPF_PROG_TYPE_XDP: return &xdp_desc;
	case BPF_PROG_TYPE_CGROUP_SOCK: return &sock_desc;
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: return &sock_addr_desc;
	case BPF_PROG_TYPE_SOCK_OPS: return &sock_ops_desc;
	case BPF_PROG_TYPE_KPROBE: return &pt_regs_desc;
	case BPF_PROG_TYPE_PERF_EVENT: return &perf_event_desc;
	case BPF_PROG_TYPE_TRACEPOINT: return &tracepoint_desc;
	case BPF_PROG_TYPE_RAW_TRACEPOINT: return &raw_tp_desc;
	default: return NULL;
	}
}

static enum flavour sock_flavour(uint32_t attach)
{
	switch (attach) {
	case 0: /* the kernel defaults cgroup_sock programs to socket creation */
	case BPF_CGROUP_INET_SOCK_CREATE:
	case BPF_CGROUP_INET_SOCK_RELEASE: return FL_SOCK_CREATE;
	case BPF_CGROUP_INET4_POST_BIND: return FL_SOCK_POST_BIND4;
	case BPF_CGROUP_INET6_POST_BIND: return FL_SOCK_POST_BIND6;
	default: return FL_SOCK_OTHER;
	}
}

static enum flavour sock_addr_flavour(uint32_t attach)
{
	switch (attach) {
	case BPF_CGROUP_UDP4_SENDMSG: return FL_SA4_SEND;
	case BPF_CGROUP_UDP6_SENDMSG: return FL_SA6_SEND;
	case BPF_CGROUP_INET6_BIND:
	case BPF_CGROUP_INET6_CONNECT:
	case BPF_CGROUP_INET6_GETPEERNAME:
	case BPF_CGROUP_INET6_GETSOCKNAME:
	case BPF_CGROUP_UDP6_RECVMSG: return FL_SA6;
	default: return FL_SA4; /* INET4 bind, connect, get*name, recvmsg; 0 = connect4 */
	}
}

static enum flavour flavour_of(uint32_t prog_type, uint32_t attach)
{
	switch (prog_type) {
	case BPF_PROG_TYPE_SOCKET_FILTER: return FL_SOCKET_FILTER;
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT: return FL_TC;
	case BPF_PROG_TYPE_CGROUP_SKB: return FL_CGROUP_SKB;
	case BPF_PROG_TYPE_XDP: return attach == BPF_XDP_DEVMAP ? FL_XDP_DEVMAP : FL_XDP;
	case BPF_PROG_TYPE_CGROUP_SOCK: return sock_flavour(attach);
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: return sock_addr_flavour(attach);
	case BPF_PROG_TYPE_SOCK_OPS: return FL_SOCK_OPS;
	case BPF_PROG_TYPE_KPROBE: return FL_KPROBE;
	case BPF_PROG_TYPE_PERF_EVENT: return FL_PERF_EVENT;
	case BPF_PROG_TYPE_TRACEPOINT: return FL_TRACEPOINT;
	default: return FL_RAW_TP;
	}
}

/* "sched_cls" (libbpf's name for the type), or "unknown". */
static const char *prog_name(uint32_t prog_type)
{
	const char *name = comb_prog_type_name(prog_type);
	return name ? name : "unknown";
}

static const struct field *find_field(const struct ctx_desc *d, uint32_t off)
{
	for (size_t i = 0; i < d->nfields; i++)
		if (off >= d->fields[i].off && off < (uint32_t)d->fields[i].off + d->fields[i].size)
			return &d->fields[i];
	return NULL;
}

/* Does an aligned access of size at off satisfy rule inside field f? */
static bool rule_allows(enum rule rule, const struct field *f, uint32_t off, uint32_t size)
{
	uint32_t rel = off - f->off, end = (uint32_t)f->off + f->size;
	uint32_t in_elem = rel % f->elem;
	bool inside = off + size <= end;
	bool wide = size == 8 && off % 8 == 0 && inside;
	switch (rule) {
	case R_EXACT: return in_elem == 0 && size == f->elem;
	case R_NARROW: return size <= f->elem && in_elem + size <= f->elem;
	case R_NARROW_AT0: return in_elem == 0 && size <= f->elem;
	case R_ANY: return inside;
	case R_WIDE_NARROW: return wide || (size <= f->elem && in_elem + size <= f->elem);
	case R_WIDE_EXACT: return wide || (in_elem == 0 && size == f->elem);
	case R_PORT: return (rel == 0 && size == 4) || (size <= f->elem && in_elem + size <= f->elem);
	default: return false;
	}
}

static const char *rule_words(enum rule rule, const struct field *f)
{
	switch (rule) {
	case R_EXACT: return f->elem == 8 ? "only 8-byte access" : f->elem == 4 ? "only 4-byte access"
		       : "only 1-byte access";
	case R_NARROW: return "aligned loads no wider than the field";
	case R_NARROW_AT0: return "loads at the field's start, no wider than the field";
	case R_ANY: return "aligned access inside the field";
	case R_WIDE_NARROW:
	case R_WIDE_EXACT: return "4-byte access per element or 8 aligned bytes";
	case R_PORT: return "a 4-byte load at its start or loads of at most 2 bytes";
	default: return "no access";
	}
}

static int refuse(struct comb_ctx_field_info *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int refuse(struct comb_ctx_field_info *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	return -EACCES;
}

static void describe_field(const struct ctx_desc *d, const struct field *f, uint32_t off,
			   uint32_t size, struct comb_ctx_field_info *out)
{
	out->field = f->name;
	if (f->elem < f->size && f->elem <= 4) { /* an array element (cb counts whole) */
		out->field_off = off - (off - f->off) % f->elem;
		out->field_size = f->elem;
	} else {
		out->field_off = f->off;
		out->field_size = f->size;
	}
	out->reg = f->reg;
	out->narrow = size < out->field_size && f->elem <= 8;
	(void)d;
}

static int check_field(const struct ctx_desc *d, const struct field *f, uint32_t prog_type,
		       enum flavour fl, uint32_t off, uint32_t size, bool write,
		       struct comb_ctx_field_info *out)
{
	const char *how = write ? "write to" : "read of";
	enum rule rule = write ? f->write_rule : f->read_rule;
	uint32_t allowed_in = write ? f->write_in : f->read_in;
	if (rule == R_NONE || !(allowed_in & (1u << fl)))
		return refuse(out, "%s %s->%s is not allowed in %s programs", how, d->name, f->name,
			      prog_name(prog_type));
	if (!rule_allows(rule, f, off, size))
		return refuse(out, "%u-byte %s %s->%s at offset %u: the field allows %s", size, how,
			      d->name, f->name, off, rule_words(rule, f));
	describe_field(d, f, off, size, out);
	return 0;
}

int comb_ctx_access_attach(uint32_t prog_type, uint32_t attach_type, uint32_t off, uint32_t size,
			   bool write, struct comb_ctx_field_info *out)
{
	memset(out, 0, sizeof(*out));
	const struct ctx_desc *d = desc_of(prog_type);
	if (!d) {
		snprintf(out->reason, sizeof(out->reason),
			 "no context description for %s programs", prog_name(prog_type));
		return -EINVAL;
	}
	out->ctx = d->name;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return refuse(out, "access of %u bytes to %s: sizes are 1, 2, 4 or 8", size, d->name);
	if (off >= d->size || off + size > d->size)
		return refuse(out, "%u-byte access at offset %u is outside %s (%u bytes)", size, off,
			      d->name, d->size);
	if (off % size)
		return refuse(out, "misaligned %u-byte access at offset %u of %s", size, off, d->name);
	const struct field *f = find_field(d, off);
	if (!f)
		return refuse(out, "offset %u of %s is padding or a field not available to %s programs",
			      off, d->name, prog_name(prog_type));
	return check_field(d, f, prog_type, flavour_of(prog_type, attach_type), off, size, write,
			   out);
}

int comb_ctx_access(uint32_t prog_type, uint32_t off, uint32_t size, bool write,
		    struct comb_ctx_field_info *out)
{
	return comb_ctx_access_attach(prog_type, 0, off, size, write, out);
}

const char *comb_ctx_name(uint32_t prog_type)
{
	const struct ctx_desc *d = desc_of(prog_type);
	return d ? d->name : NULL;
}

uint32_t comb_ctx_size(uint32_t prog_type)
{
	const struct ctx_desc *d = desc_of(prog_type);
	return d ? d->size : 0;
}

const char *comb_ctx_reg_name(enum comb_ctx_reg reg)
{
	switch (reg) {
	case COMB_CTX_REG_SCALAR: return "scalar";
	case COMB_CTX_REG_PTR_TO_PACKET: return "pkt";
	case COMB_CTX_REG_PTR_TO_PACKET_END: return "pkt_end";
	case COMB_CTX_REG_PTR_TO_PACKET_META: return "pkt_meta";
	case COMB_CTX_REG_PTR_TO_SOCKET: return "sock";
	case COMB_CTX_REG_PTR_TO_SOCKET_OR_NULL: return "sock_or_null";
	case COMB_CTX_REG_PTR_TO_SOCK_COMMON_OR_NULL: return "sock_common_or_null";
	}
	return "?";
}
