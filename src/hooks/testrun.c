/* src/hooks/testrun.c - comb_prog_test_run(): BPF_PROG_TEST_RUN in user space.
 *
 * Packet program types get the context the kernel's test run builds, checked
 * against the real kernel (tests/unit/test_testrun.c records what it does):
 *  - XDP: the comb_xdp runner (src/hooks/xdp), so the frame and the XDP
 *    helpers are the same as in `comb xdp`: data_meta == data,
 *    ingress_ifindex 1 (lo) unless ctx_in names one, rx queue 0; data_out
 *    gets [data_meta, data_end) as in the kernel.
 *  - SCHED_CLS/SCHED_ACT (L2 types): struct __sk_buff whose data starts at
 *    the Ethernet header, len = frame length.
 *  - SOCKET_FILTER/CGROUP_SKB: the Ethernet header has been pulled, so data
 *    (and LD_ABS offset 0) starts at the network header, len = frame - 14.
 *  For every skb type: protocol = the EtherType in network order, ifindex 1,
 *  pkt_type as eth_type_trans() on lo decides (HOST for 00:00:00:00:00:00,
 *  MULTICAST for any group address -- lo's broadcast address is all zeros --
 *  OTHERHOST otherwise). data_out gets the frame from the Ethernet header on.
 *
 * The context's data/data_end fields are 32 bits wide, so the packet buffer
 * (256 bytes headroom, the packet, tailroom, as the kernel lays out) is
 * mapped with MAP_32BIT and programs load real addresses from them. This is
 * temporary: once the verifier rewrites context accesses (as the kernel's
 * convert_ctx_access does) the buffer can live anywhere. The checked engine
 * gets the context and [data, data_end) as regions. After the run the packet
 * is copied from ctx->data to ctx->data_end, so head/tail adjustments show.
 *
 * Other program types run with a copy of ctx_in as r1 (a writable region).
 */
#define _GNU_SOURCE /* MAP_32BIT */
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "comb/testrun.h"
#include "comb/xdp.h"
#include "vm/internal.h"

#define PACKET_HEADROOM 256    /* XDP_PACKET_HEADROOM */
#define PACKET_TAILROOM 320    /* the kernel's aligned skb_shared_info */
#define ETH_HEADER_LEN 14
#define XDP_MAX_PACKET 65535   /* the kernel goes on in fragments; comb keeps it linear */
#define SKB_MAX_PACKET 3712    /* PAGE_SIZE - NET_SKB_PAD - tailroom, as the kernel */
#define LOOPBACK_IFINDEX 1

enum {
	PROG_SOCKET_FILTER = 1, PROG_KPROBE = 2, PROG_SCHED_CLS = 3, PROG_SCHED_ACT = 4,
	PROG_TRACEPOINT = 5, PROG_XDP = 6, PROG_PERF_EVENT = 7, PROG_CGROUP_SKB = 8,
	PROG_RAW_TRACEPOINT = 17, PROG_RAW_TRACEPOINT_WRITABLE = 24, PROG_TRACING = 26,
	PROG_SYSCALL = 31,
};

struct packet_buf {
	uint8_t *base;
	size_t size;
	uint8_t *data; /* where the packet starts */
};

static int testrun_fail(struct comb_test_run_opts *o, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int testrun_fail(struct comb_test_run_opts *o, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(o->error.message, sizeof(o->error.message), "test run: ");
	vsnprintf(o->error.message + n, sizeof(o->error.message) - (size_t)n, fmt, ap);
	va_end(ap);
	o->error.insn = -1;
	return rc;
}

static int packet_alloc(struct packet_buf *pb, const void *data, size_t len)
{
	pb->size = PACKET_HEADROOM + len + PACKET_TAILROOM;
	void *p = mmap(NULL, pb->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	pb->base = p;
	pb->data = pb->base + PACKET_HEADROOM;
	memcpy(pb->data, data, len);
	return 0;
}

static void packet_free(struct packet_buf *pb)
{
	if (pb->base)
		munmap(pb->base, pb->size);
}

static uint32_t addr32(const void *p)
{
	return (uint32_t)(uintptr_t)p;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Run the program repeat times on ctx; fills retval and duration_ns. */
static int run_repeated(const struct comb_prog *prog, struct comb_test_run_opts *o, void *ctx,
			const struct comb_region *regions, size_t region_count, const void *packet,
			size_t packet_len)
{
	struct comb_run_opts ro = {
		.sz = sizeof(ro), .engine = o->engine, .args = { (uint64_t)(uintptr_t)ctx },
		.packet = packet, .packet_len = packet_len, .regions = regions,
		.region_count = region_count, .error = &o->error,
	};
	uint32_t repeat = o->repeat ? o->repeat : 1;
	uint64_t start = now_ns();
	for (uint32_t i = 0; i < repeat; i++) {
		int rc = comb_prog_run(prog, &ro, &o->retval);
		if (rc)
			return rc;
	}
	o->duration_ns = (now_ns() - start) / repeat;
	return 0;
}

/* Copy the packet the program left, [from, to), to data_out. */
static int copy_packet_out(struct comb_test_run_opts *o, const struct packet_buf *pb, uint64_t from,
			   uint64_t to)
{
	uint64_t lo = (uint64_t)(uintptr_t)pb->base, hi = lo + pb->size;
	if (from < lo || to > hi || from > to)
		return testrun_fail(o, -EFAULT, "the program left data/data_end outside the packet buffer");
	size_t len = (size_t)(to - from), capacity = o->data_size_out;
	o->data_size_out = len;
	if (!o->data_out)
		return 0;
	memcpy(o->data_out, (const void *)(uintptr_t)from, len < capacity ? len : capacity);
	return len > capacity ? -ENOSPC : 0;
}

static int check_packet_size(struct comb_test_run_opts *o, size_t max)
{
	if (!o->data_in || o->data_size_in < ETH_HEADER_LEN)
		return testrun_fail(o, -EINVAL, "the packet must hold at least an Ethernet header (%d bytes)",
				    ETH_HEADER_LEN);
	if (o->data_size_in > max)
		return testrun_fail(o, -EINVAL, "packet of %zu bytes is larger than %zu", o->data_size_in, max);
	return 0;
}

/* The XDP context the caller may set through ctx_in, as the kernel allows. */
static void xdp_apply_ctx_in(struct comb_xdp_opts *xo, const struct comb_test_run_opts *o)
{
	if (!o->ctx_in || o->ctx_size_in < sizeof(struct xdp_md))
		return;
	const struct xdp_md *in = o->ctx_in;
	xo->ingress_ifindex = in->ingress_ifindex;
	xo->rx_queue_index = in->rx_queue_index;
}

/* Hand back [data_meta, data_end) as the kernel's test run does. */
static int xdp_copy_out(struct comb_test_run_opts *o, const struct comb_xdp_result *res)
{
	size_t len = res->meta_len + res->len, capacity = o->data_size_out;
	o->data_size_out = len;
	if (!o->data_out)
		return 0;
	memcpy(o->data_out, res->data - res->meta_len, len < capacity ? len : capacity);
	return len > capacity ? -ENOSPC : 0;
}

/* Each repetition starts again from data_in (the kernel would go on with the
 * frame the previous repetition left). */
static int test_run_xdp(const struct comb_prog *prog, struct comb_test_run_opts *o)
{
	int rc = check_packet_size(o, XDP_MAX_PACKET);
	if (rc)
		return rc;
	struct comb_xdp_opts xo = { .sz = sizeof(xo), .engine = o->engine };
	xdp_apply_ctx_in(&xo, o);
	struct comb_xdp *xdp;
	if ((rc = comb_xdp_new(prog, &xo, &xdp)))
		return testrun_fail(o, rc, "cannot make an XDP runner: %s", strerror(-rc));
	struct comb_xdp_result res = { 0 };
	uint32_t repeat = o->repeat ? o->repeat : 1;
	uint64_t start = now_ns();
	for (uint32_t i = 0; i < repeat && !rc; i++)
		rc = comb_xdp_run(xdp, o->data_in, o->data_size_in, &res);
	o->duration_ns = (now_ns() - start) / repeat;
	o->retval = res.retval;
	if (rc)
		o->error = res.error;
	else
		rc = xdp_copy_out(o, &res);
	comb_xdp_free(xdp);
	return rc;
}

/* The EtherType as eth_type_trans() reports it (network order). */
static uint32_t skb_protocol(const uint8_t *frame)
{
	uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);
	if (type < 0x600) /* an 802.3 length: raw IPX (0xffff) or 802.2 LLC */
		type = frame[14] == 0xff && frame[15] == 0xff ? 0x0001 : 0x0004;
	uint8_t be[2] = { (uint8_t)(type >> 8), (uint8_t)type };
	uint16_t net;
	memcpy(&net, be, sizeof(net));
	return net;
}

static uint32_t skb_pkt_type(const uint8_t *frame)
{
	static const uint8_t lo_addr[6];
	if (memcmp(frame, lo_addr, sizeof(lo_addr)) == 0)
		return 0; /* PACKET_HOST */
	return (frame[0] & 1) ? 2 /* PACKET_MULTICAST */ : 3 /* PACKET_OTHERHOST */;
}

/* Fields of ctx_in the kernel lets a test run set. */
static void skb_apply_ctx_in(struct __sk_buff *skb, const struct comb_test_run_opts *o)
{
	if (!o->ctx_in || o->ctx_size_in < offsetof(struct __sk_buff, tstamp) + sizeof(skb->tstamp))
		return;
	const struct __sk_buff *in = o->ctx_in;
	skb->mark = in->mark;
	skb->priority = in->priority;
	memcpy(skb->cb, in->cb, sizeof(skb->cb));
	skb->tstamp = in->tstamp;
	if (in->ifindex)
		skb->ifindex = in->ifindex;
}

/* The kernel refuses an skb test run whose EtherType announces IPv4 or IPv6
 * but whose frame is too short for that header (seen on Linux 6.18). */
static int check_network_header(struct comb_test_run_opts *o, const uint8_t *frame)
{
	uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);
	size_t after_eth = o->data_size_in - ETH_HEADER_LEN;
	if (type == 0x0800 && after_eth < 20)
		return testrun_fail(o, -EINVAL, "IPv4 packet of %zu bytes is shorter than an IPv4 header", after_eth);
	if (type == 0x86dd && after_eth < 40)
		return testrun_fail(o, -EINVAL, "IPv6 packet of %zu bytes is shorter than an IPv6 header", after_eth);
	return 0;
}

static int test_run_skb(const struct comb_prog *prog, struct comb_test_run_opts *o, uint32_t type)
{
	int rc = check_packet_size(o, SKB_MAX_PACKET);
	struct packet_buf pb = { 0 };
	if (rc || (rc = packet_alloc(&pb, o->data_in, o->data_size_in)))
		return rc;
	bool l2 = type == PROG_SCHED_CLS || type == PROG_SCHED_ACT;
	size_t pulled = l2 ? 0 : ETH_HEADER_LEN;
	rc = check_network_header(o, pb.data);
	if (rc) {
		packet_free(&pb);
		return rc;
	}
	uint8_t *data = pb.data + pulled, *end = pb.data + o->data_size_in;
	struct __sk_buff ctx = {
		.len = (uint32_t)(end - data), .pkt_type = skb_pkt_type(pb.data),
		.protocol = skb_protocol(pb.data), .ifindex = LOOPBACK_IFINDEX,
		.data = addr32(data), .data_end = addr32(end), .data_meta = addr32(data),
	};
	skb_apply_ctx_in(&ctx, o);
	struct comb_region regions[] = {
		{ (uint64_t)(uintptr_t)&ctx, sizeof(ctx), true },
		{ (uint64_t)(uintptr_t)data, (uint64_t)(end - data), true },
	};
	rc = run_repeated(prog, o, &ctx, regions, 2, data, (size_t)(end - data));
	/* Like the kernel, hand back the frame with its link-layer header, which
	 * non-L2 types never saw: the kernel pushes it back zeroed. */
	if (!rc && pulled)
		memset((void *)(uintptr_t)(ctx.data - pulled), 0, pulled);
	if (!rc)
		rc = copy_packet_out(o, &pb, (uint64_t)ctx.data - pulled, ctx.data_end);
	packet_free(&pb);
	return rc;
}

/* Types whose context is whatever the caller hands in. */
static bool takes_plain_context(uint32_t type)
{
	switch (type) {
	case 0: case PROG_KPROBE: case PROG_TRACEPOINT: case PROG_PERF_EVENT: case PROG_RAW_TRACEPOINT:
	case PROG_RAW_TRACEPOINT_WRITABLE: case PROG_TRACING: case PROG_SYSCALL:
		return true;
	}
	return false;
}

static int test_run_plain(const struct comb_prog *prog, struct comb_test_run_opts *o, uint32_t type)
{
	if (o->data_in)
		return testrun_fail(o, -EINVAL, "program type %u takes a context (ctx_in), not a packet",
				    type);
	void *ctx = NULL;
	if (o->ctx_in && o->ctx_size_in) {
		ctx = malloc(o->ctx_size_in);
		if (!ctx)
			return -ENOMEM;
		memcpy(ctx, o->ctx_in, o->ctx_size_in);
	}
	struct comb_region region = { (uint64_t)(uintptr_t)ctx, ctx ? o->ctx_size_in : 0, true };
	int rc = run_repeated(prog, o, ctx, &region, ctx ? 1 : 0, NULL, 0);
	free(ctx);
	return rc;
}

int comb_prog_test_run(const struct comb_prog *prog, struct comb_test_run_opts *o)
{
	if (!prog || !o || o->sz < sizeof(*o))
		return -EINVAL;
	o->retval = 0;
	o->duration_ns = 0;
	o->error = (struct comb_run_error){ .insn = -1 };
	uint32_t type = o->prog_type ? o->prog_type : prog->prog_type;
	switch (type) {
	case PROG_XDP:
		return test_run_xdp(prog, o);
	case PROG_SOCKET_FILTER: case PROG_SCHED_CLS: case PROG_SCHED_ACT: case PROG_CGROUP_SKB:
		return test_run_skb(prog, o, type);
	}
	if (takes_plain_context(type))
		return test_run_plain(prog, o, type);
	return testrun_fail(o, -ENOTSUP, "program type %u has no test run in comb yet", type);
}
