/* tests/progs/verify_dynptr.bpf.c - dynptrs as stack-slot state, against
 * the kernel's verifier.
 *
 * A struct bpf_dynptr lives in 16 stack bytes that only the dynptr helpers
 * may use. safe_* programs create one (bpf_dynptr_from_mem, or
 * bpf_ringbuf_reserve_dynptr, released by submit/discard on every path even
 * when the reservation failed), read, write and slice it (bpf_dynptr_data:
 * a pointer that may be NULL, of the constant size asked), and use the
 * read-only dynptr bpf_user_ringbuf_drain hands its callback. unsafe_*
 * ones leak a reservation, use a dynptr not initialized, overwrite one,
 * read its bytes directly, release a local or the callback's dynptr, use a
 * slice without its NULL test, past its size or after the submit.
 * tests/kernel/kernel_verdicts.c compares comb's verdicts with the kernel's.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 4096);
} requests SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} totals SEC(".maps");

struct buf {
	char bytes[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct buf);
} bufs SEC(".maps");

/* Assembly programs: look up bufs[0] (key at fp-4), make a local dynptr
 * of its first 16 bytes at fp-24 (`at` may move it), then BODY. */
#define WITH_LOCAL_DYNPTR(at, body)                                                        \
	asm volatile("r1 = 0; *(u32 *)(r10 - 4) = r1; r2 = r10; r2 += -4;"                 \
		     "r1 = %[bufs] ll; call 1; if r0 == 0 goto 1f;"                          \
		     "r1 = r0; r2 = 16; r3 = 0; r4 = r10; r4 += " at "; call %[from_mem];"     \
		     body                                                                      \
		     "1: r0 = 2; exit;"                                                       \
		     :: [bufs] "i"(&bufs), [from_mem] "i"(BPF_FUNC_dynptr_from_mem),          \
			[read] "i"(BPF_FUNC_dynptr_read), [probe] "i"(BPF_FUNC_probe_read_kernel), \
			[submit] "i"(BPF_FUNC_ringbuf_submit_dynptr))

SEC("xdp") int safe_dynptr_ringbuf_submit(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	__u64 stamp = bpf_ktime_get_ns();
	if (bpf_ringbuf_reserve_dynptr(&events, 16, 0, &d) == 0)
		bpf_dynptr_write(&d, 0, &stamp, sizeof(stamp), 0);
	bpf_ringbuf_submit_dynptr(&d, 0); /* also when reserve failed */
	return XDP_PASS;
}

SEC("xdp") int safe_dynptr_ringbuf_slice(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	if (bpf_ringbuf_reserve_dynptr(&events, 16, 0, &d)) {
		bpf_ringbuf_discard_dynptr(&d, 0);
		return XDP_PASS;
	}
	__u64 *slot = bpf_dynptr_data(&d, 0, 16);
	if (!slot) {
		bpf_ringbuf_discard_dynptr(&d, 0);
		return XDP_PASS;
	}
	slot[0] = 1;
	slot[1] = ctx->ingress_ifindex;
	bpf_ringbuf_submit_dynptr(&d, 0);
	return XDP_PASS;
}

SEC("xdp") int safe_dynptr_from_mem(struct xdp_md *ctx)
{
	__u32 k = 0;
	struct buf *b = bpf_map_lookup_elem(&bufs, &k);
	if (!b)
		return XDP_PASS;
	__u64 out = 0, v = 7;
	struct bpf_dynptr d;
	bpf_dynptr_from_mem(b->bytes, sizeof(b->bytes), 0, &d);
	bpf_dynptr_write(&d, 8, &v, sizeof(v), 0);
	bpf_dynptr_read(&out, sizeof(out), &d, 8, 0);
	return out == 7 ? XDP_PASS : XDP_DROP;
}

/* The kernel takes only map values as bpf_dynptr_from_mem's data. */
SEC("xdp") int unsafe_dynptr_from_stack(struct xdp_md *ctx)
{
	char buf[32] = {};
	struct bpf_dynptr d;
	bpf_dynptr_from_mem(buf, sizeof(buf), 0, &d);
	return XDP_PASS;
}

SEC("xdp") int safe_dynptr_from_map_value(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *total = bpf_map_lookup_elem(&totals, &k);
	if (!total)
		return XDP_PASS;
	struct bpf_dynptr d;
	bpf_dynptr_from_mem(total, sizeof(*total), 0, &d);
	__u32 *low = bpf_dynptr_data(&d, 0, 4);
	if (low)
		*low += 1;
	return XDP_PASS;
}

static long on_request(struct bpf_dynptr *req, void *ctx)
{
	__u64 *sum = ctx, v = 0;
	if (bpf_dynptr_read(&v, sizeof(v), req, 0, 0) == 0)
		*sum += v;
	const __u32 *head = bpf_dynptr_data(req, 0, 4);
	if (head)
		*sum += *head;
	return 0;
}

SEC("xdp") int safe_dynptr_user_ringbuf(struct xdp_md *ctx)
{
	__u64 sum = 0;
	bpf_user_ringbuf_drain(&requests, on_request, &sum, 0);
	return sum ? XDP_PASS : XDP_DROP;
}

SEC("xdp") int unsafe_dynptr_ringbuf_leak(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	if (bpf_ringbuf_reserve_dynptr(&events, 16, 0, &d))
		return XDP_PASS; /* failed reservations must be discarded too */
	bpf_ringbuf_submit_dynptr(&d, 0);
	return XDP_PASS;
}

SEC("xdp") int unsafe_dynptr_ringbuf_leak_branch(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &d);
	if (ctx->ingress_ifindex == 3)
		return XDP_DROP;
	bpf_ringbuf_discard_dynptr(&d, 0);
	return XDP_PASS;
}

SEC("xdp") __attribute__((naked)) int unsafe_dynptr_uninit_read(void)
{
	asm volatile("r1 = r10; r1 += -8; r2 = 8; r3 = r10; r3 += -32;"
		     "r4 = 0; r5 = 0; call %[read]; r0 = 2; exit;"
		     :: [read] "i"(BPF_FUNC_dynptr_read));
}

SEC("xdp") __attribute__((naked)) int unsafe_dynptr_uninit_submit(void)
{
	asm volatile("r1 = r10; r1 += -16; r2 = 0; call %[submit]; r0 = 2; exit;"
		     :: [submit] "i"(BPF_FUNC_ringbuf_submit_dynptr));
}

SEC("xdp") __attribute__((naked)) int unsafe_dynptr_overwrite_ringbuf(void)
{
	asm volatile("r1 = %[events] ll; r2 = 16; r3 = 0; r4 = r10; r4 += -16; call %[reserve];"
		     "r1 = 0; *(u64 *)(r10 - 16) = r1;"
		     "r1 = r10; r1 += -16; r2 = 0; call %[discard]; r0 = 2; exit;"
		     :: [events] "i"(&events), [reserve] "i"(BPF_FUNC_ringbuf_reserve_dynptr),
			[discard] "i"(BPF_FUNC_ringbuf_discard_dynptr));
}

SEC("xdp") __attribute__((naked)) int unsafe_dynptr_overwrite_local_then_use(void)
{
	WITH_LOCAL_DYNPTR("-24", "r1 = 0; *(u32 *)(r10 - 16) = r1;"
			  "r1 = r10; r1 += -32; r2 = 8; r3 = r10; r3 += -24; r4 = 0; r5 = 0; call %[read];");
}

SEC("xdp") __attribute__((naked)) int safe_dynptr_overwrite_local_unused(void)
{
	WITH_LOCAL_DYNPTR("-24", "r1 = 0; *(u64 *)(r10 - 24) = r1; r0 = *(u64 *)(r10 - 24);");
}

SEC("xdp") __attribute__((naked)) int unsafe_dynptr_read_bytes(void)
{
	WITH_LOCAL_DYNPTR("-24", "r0 = *(u64 *)(r10 - 24);");
}

SEC("xdp") __attribute__((naked)) int unsafe_dynptr_helper_writes_over(void)
{
	WITH_LOCAL_DYNPTR("-24", "r1 = r10; r1 += -24; r2 = 8; r3 = 0; call %[probe];");
}

SEC("xdp") __attribute__((naked)) int unsafe_dynptr_misaligned(void)
{
	WITH_LOCAL_DYNPTR("-28", "");
}

SEC("xdp") __attribute__((naked)) int unsafe_dynptr_second_half(void)
{
	WITH_LOCAL_DYNPTR("-24", "r1 = r10; r1 += -32; r2 = 8; r3 = r10; r3 += -16; r4 = 0; r5 = 0; call %[read];");
}

SEC("xdp") __attribute__((naked)) int unsafe_dynptr_submit_local(void)
{
	WITH_LOCAL_DYNPTR("-24", "r1 = r10; r1 += -24; r2 = 0; call %[submit];");
}

SEC("xdp") int unsafe_dynptr_slice_no_null_test(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &d);
	__u64 *slot = bpf_dynptr_data(&d, 0, 8);
	*slot = 1;
	bpf_ringbuf_submit_dynptr(&d, 0);
	return XDP_PASS;
}

SEC("xdp") int unsafe_dynptr_slice_past_size(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &d);
	__u64 *slot = bpf_dynptr_data(&d, 0, 8);
	if (slot)
		slot[1] = 1;
	bpf_ringbuf_submit_dynptr(&d, 0);
	return XDP_PASS;
}

SEC("xdp") int unsafe_dynptr_slice_after_submit(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &d);
	__u64 *slot = bpf_dynptr_data(&d, 0, 8);
	bpf_ringbuf_submit_dynptr(&d, 0);
	if (slot)
		*(volatile __u64 *)slot = 1;
	return XDP_PASS;
}

SEC("xdp") int unsafe_dynptr_use_after_discard(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	__u64 v = 1;
	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &d);
	bpf_ringbuf_discard_dynptr(&d, 0);
	bpf_dynptr_write(&d, 0, &v, sizeof(v), 0);
	return XDP_PASS;
}

static long release_request(struct bpf_dynptr *req, void *ctx)
{
	bpf_ringbuf_discard_dynptr(req, 0);
	return 0;
}

SEC("xdp") int unsafe_dynptr_release_callback_arg(struct xdp_md *ctx)
{
	bpf_user_ringbuf_drain(&requests, release_request, NULL, 0);
	return XDP_PASS;
}

static long rewrap_request(struct bpf_dynptr *req, void *ctx)
{
	bpf_ringbuf_reserve_dynptr(&events, 8, 0, req);
	return 0;
}

SEC("xdp") int unsafe_dynptr_reinit_callback_arg(struct xdp_md *ctx)
{
	bpf_user_ringbuf_drain(&requests, rewrap_request, NULL, 0);
	return XDP_PASS;
}

SEC("xdp") int unsafe_dynptr_reserve_twice(struct xdp_md *ctx)
{
	struct bpf_dynptr d;
	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &d);
	bpf_ringbuf_reserve_dynptr(&events, 16, 0, &d);
	bpf_ringbuf_discard_dynptr(&d, 0);
	return XDP_PASS;
}
