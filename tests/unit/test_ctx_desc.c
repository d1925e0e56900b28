/* tests/unit/test_ctx_desc.c - context layouts and access rules.
 *
 * The verdicts themselves are compared with the kernel's over every offset
 * by tests/kernel/kernel_ctx.c; these tests pin down what the verifier and
 * the context rewrite read from an accepted access (field, element, register
 * type, narrowness) and that refusals explain themselves.
 */
#include <errno.h>
#include <stddef.h>
#include <linux/bpf.h>
#include "../test.h"
#include "verifier/ctx_desc.h"

static struct comb_ctx_field_info info;

static int access_(uint32_t type, uint32_t off, uint32_t size, bool write)
{
	return comb_ctx_access(type, off, size, write, &info);
}

TEST(ctx_skb_mark_write_depends_on_program_type)
{
	uint32_t mark = offsetof(struct __sk_buff, mark);
	CHECK_EQ(access_(BPF_PROG_TYPE_SOCKET_FILTER, mark, 4, true), -EACCES);
	CHECK(strstr(info.reason, "write to __sk_buff->mark") != NULL);
	CHECK(strstr(info.reason, "socket_filter") != NULL);
	CHECK_EQ(access_(BPF_PROG_TYPE_SCHED_CLS, mark, 4, true), 0);
	CHECK_STR(info.ctx, "__sk_buff");
	CHECK_STR(info.field, "mark");
	CHECK_EQ(access_(BPF_PROG_TYPE_CGROUP_SKB, mark, 4, true), 0);
	CHECK_EQ(access_(BPF_PROG_TYPE_SCHED_CLS, mark, 2, true), -EACCES);
}

TEST(ctx_skb_narrow_read)
{
	uint32_t mark = offsetof(struct __sk_buff, mark);
	CHECK_EQ(access_(BPF_PROG_TYPE_SOCKET_FILTER, mark + 2, 1, false), 0);
	CHECK_STR(info.field, "mark");
	CHECK_EQ(info.field_off, mark);
	CHECK_EQ(info.field_size, 4);
	CHECK(info.narrow);
	CHECK_EQ(info.reg, COMB_CTX_REG_SCALAR);
	CHECK_EQ(access_(BPF_PROG_TYPE_SOCKET_FILTER, mark, 4, false), 0);
	CHECK(!info.narrow);
	CHECK_EQ(access_(BPF_PROG_TYPE_SOCKET_FILTER, mark, 8, false), -EACCES);
}

TEST(ctx_packet_pointers)
{
	CHECK_EQ(access_(BPF_PROG_TYPE_XDP, offsetof(struct xdp_md, data), 4, false), 0);
	CHECK_EQ(info.reg, COMB_CTX_REG_PTR_TO_PACKET);
	CHECK_EQ(access_(BPF_PROG_TYPE_XDP, offsetof(struct xdp_md, data_end), 4, false), 0);
	CHECK_EQ(info.reg, COMB_CTX_REG_PTR_TO_PACKET_END);
	CHECK_EQ(access_(BPF_PROG_TYPE_XDP, offsetof(struct xdp_md, data_meta), 4, false), 0);
	CHECK_EQ(info.reg, COMB_CTX_REG_PTR_TO_PACKET_META);
	CHECK_EQ(access_(BPF_PROG_TYPE_XDP, offsetof(struct xdp_md, data), 1, false), -EACCES);
	CHECK(strstr(info.reason, "only 4-byte access") != NULL);
	CHECK_EQ(access_(BPF_PROG_TYPE_SCHED_CLS, offsetof(struct __sk_buff, data_meta), 4, false), 0);
	CHECK_EQ(info.reg, COMB_CTX_REG_PTR_TO_PACKET_META);
	CHECK_EQ(access_(BPF_PROG_TYPE_SOCKET_FILTER, offsetof(struct __sk_buff, data), 4, false),
		 -EACCES);
	CHECK_EQ(access_(BPF_PROG_TYPE_SOCK_OPS, offsetof(struct bpf_sock_ops, skb_data), 8, false), 0);
	CHECK_EQ(info.reg, COMB_CTX_REG_PTR_TO_PACKET);
	CHECK_EQ(access_(BPF_PROG_TYPE_XDP, offsetof(struct xdp_md, data), 4, true), -EACCES);
}

TEST(ctx_socket_pointers)
{
	CHECK_EQ(access_(BPF_PROG_TYPE_SCHED_CLS, offsetof(struct __sk_buff, sk), 8, false), 0);
	CHECK_EQ(info.reg, COMB_CTX_REG_PTR_TO_SOCK_COMMON_OR_NULL);
	CHECK_EQ(access_(BPF_PROG_TYPE_SOCK_OPS, offsetof(struct bpf_sock_ops, sk), 8, false), 0);
	CHECK_EQ(info.reg, COMB_CTX_REG_PTR_TO_SOCKET_OR_NULL);
	CHECK_EQ(access_(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, offsetof(struct bpf_sock_addr, sk), 8, false), 0);
	CHECK_EQ(info.reg, COMB_CTX_REG_PTR_TO_SOCKET);
	CHECK_STR(comb_ctx_reg_name(info.reg), "sock");
}

TEST(ctx_array_elements)
{
	uint32_t ip6 = offsetof(struct __sk_buff, remote_ip6);
	CHECK_EQ(access_(BPF_PROG_TYPE_CGROUP_SKB, ip6 + 8, 4, false), 0);
	CHECK_STR(info.field, "remote_ip6");
	CHECK_EQ(info.field_off, ip6 + 8);
	CHECK_EQ(info.field_size, 4);
	CHECK_EQ(access_(BPF_PROG_TYPE_CGROUP_SKB, ip6 + 8, 2, false), -EACCES);
	uint32_t cb = offsetof(struct __sk_buff, cb);
	CHECK_EQ(access_(BPF_PROG_TYPE_SOCKET_FILTER, cb + 8, 8, true), 0);
	CHECK_STR(info.field, "cb");
	CHECK_EQ(access_(BPF_PROG_TYPE_SOCKET_FILTER, cb + 16, 8, false), -EACCES);
}

TEST(ctx_sock_addr_depends_on_attach_type)
{
	uint32_t ip6 = offsetof(struct bpf_sock_addr, user_ip6);
	struct comb_ctx_field_info i;
	CHECK_EQ(comb_ctx_access_attach(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT, ip6,
					8, true, &i), 0);
	CHECK_EQ(comb_ctx_access_attach(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT,
					ip6 + 4, 8, false, &i), -EACCES);
	CHECK(strstr(i.reason, "misaligned") != NULL);
	CHECK_EQ(comb_ctx_access_attach(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, ip6,
					4, false, &i), -EACCES);
	uint32_t ip4 = offsetof(struct bpf_sock_addr, user_ip4);
	CHECK_EQ(access_(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, ip4, 4, true), 0); /* connect4 by default */
	uint32_t src4 = offsetof(struct bpf_sock, src_ip4);
	CHECK_EQ(access_(BPF_PROG_TYPE_CGROUP_SOCK, src4, 4, false), -EACCES);
	CHECK_EQ(comb_ctx_access_attach(BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND, src4, 4,
					false, &i), 0);
}

TEST(ctx_tracing_contexts)
{
	CHECK_EQ(access_(BPF_PROG_TYPE_KPROBE, 14 * 8, 8, false), 0);
	CHECK_STR(info.ctx, "pt_regs");
	CHECK_STR(info.field, "di");
	CHECK_EQ(access_(BPF_PROG_TYPE_KPROBE, 14 * 8, 8, true), -EACCES);
	CHECK_EQ(access_(BPF_PROG_TYPE_PERF_EVENT, 21 * 8, 8, false), 0);
	CHECK_STR(info.field, "sample_period");
	CHECK_EQ(access_(BPF_PROG_TYPE_PERF_EVENT, 16 * 8, 4, false), -EACCES);
	CHECK_EQ(access_(BPF_PROG_TYPE_TRACEPOINT, 0, 4, false), -EACCES);
	CHECK_EQ(access_(BPF_PROG_TYPE_TRACEPOINT, 8, 4, false), 0);
	CHECK_EQ(access_(BPF_PROG_TYPE_TRACEPOINT, 8190, 2, false), 0);
	CHECK_EQ(access_(BPF_PROG_TYPE_TRACEPOINT, 8192, 1, false), -EACCES);
	CHECK_EQ(access_(BPF_PROG_TYPE_RAW_TRACEPOINT, 88, 8, false), 0);
	CHECK_EQ(access_(BPF_PROG_TYPE_RAW_TRACEPOINT, 96, 8, false), -EACCES);
}

TEST(ctx_refusals_explain_themselves)
{
	CHECK_EQ(access_(BPF_PROG_TYPE_SCHED_CLS, sizeof(struct __sk_buff), 4, false), -EACCES);
	CHECK(strstr(info.reason, "outside __sk_buff (192 bytes)") != NULL);
	CHECK_EQ(access_(BPF_PROG_TYPE_SCHED_CLS, 2, 4, false), -EACCES);
	CHECK(strstr(info.reason, "misaligned 4-byte access at offset 2") != NULL);
	CHECK_EQ(access_(BPF_PROG_TYPE_SCHED_CLS, offsetof(struct __sk_buff, tstamp_type) + 1, 1, false),
		 -EACCES);
	CHECK(strstr(info.reason, "padding") != NULL);
	CHECK_EQ(access_(BPF_PROG_TYPE_SCHED_CLS, 0, 3, false), -EACCES);
	CHECK_EQ(access_(BPF_PROG_TYPE_TRACING, 0, 8, false), -EINVAL);
	CHECK(strstr(info.reason, "tracing") != NULL);
}

TEST(ctx_names_and_sizes)
{
	CHECK_STR(comb_ctx_name(BPF_PROG_TYPE_XDP), "xdp_md");
	CHECK_EQ(comb_ctx_size(BPF_PROG_TYPE_XDP), sizeof(struct xdp_md));
	CHECK_STR(comb_ctx_name(BPF_PROG_TYPE_SCHED_ACT), "__sk_buff");
	CHECK_EQ(comb_ctx_size(BPF_PROG_TYPE_KPROBE), 168);
	CHECK(comb_ctx_name(BPF_PROG_TYPE_LSM) == NULL);
	CHECK_EQ(comb_ctx_size(BPF_PROG_TYPE_LSM), 0);
}
