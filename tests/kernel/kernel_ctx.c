/* tests/kernel/kernel_ctx.c - context access rules against the kernel verifier.
 *
 * For each access (program type, expected attach type, offset, size, read or
 * write) a three-instruction program is loaded into the kernel:
 *     read:  r2 = *(uN *)(r1 + off); r0 = 1; exit
 *     write: r2 = 0; *(uN *)(r1 + off) = r2; r0 = 1; exit
 * and the kernel's verdict (loaded or rejected) must equal comb_ctx_access's.
 * Two parts: named cases (the rules people meet: writing __sk_buff->mark from
 * a socket filter, a 1-byte read of xdp_md->data...), one test each; and a
 * sweep of every aligned offset and size of every described context, one test
 * per context and program type, failing with the first disagreements.
 * When bpf() is denied the suite skips.
 *
 * Output: one line per failure, then `kernel-ctx: N passed, N failed`.
 * `kernel-ctx -v` also prints the kernel's log for each disagreement.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "comb/object.h"
#include "verifier/ctx_desc.h"

static int passed, failed;
static bool verbose;

struct access {
	uint32_t prog_type, attach;
	uint32_t off, size;
	bool write;
};

static uint8_t size_code(uint32_t size)
{
	switch (size) {
	case 1: return BPF_B;
	case 2: return BPF_H;
	case 4: return BPF_W;
	default: return BPF_DW;
	}
}

/* 0 if the kernel loads the access program, else the negative errno; the
 * verifier log goes to log when log is not NULL. */
static int kernel_load(const struct access *a, char *log, size_t log_len)
{
	struct bpf_insn insns[4];
	memset(insns, 0, sizeof(insns));
	size_t n = 0;
	if (a->write) {
		insns[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 2 };
		insns[n++] = (struct bpf_insn){ .code = BPF_STX | BPF_MEM | size_code(a->size),
						 .dst_reg = 1, .src_reg = 2, .off = (int16_t)a->off };
	} else {
		insns[n++] = (struct bpf_insn){ .code = BPF_LDX | BPF_MEM | size_code(a->size),
						 .dst_reg = 2, .src_reg = 1, .off = (int16_t)a->off };
	}
	insns[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 };
	insns[n++] = (struct bpf_insn){ .code = BPF_JMP | BPF_EXIT };
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = a->attach,
		    .log_buf = log, .log_size = log ? (uint32_t)log_len : 0, .log_level = log ? 1 : 0);
	int fd = bpf_prog_load(a->prog_type, "ctx_access", "GPL", insns, n, &opts);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static void describe(const struct access *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s %u-byte %s at %s+%u", comb_prog_type_name(a->prog_type),
		 a->attach ? "(attach)" : "", a->size, a->write ? "write" : "read",
		 comb_ctx_name(a->prog_type), a->off);
}

static int allowed_by_both;

/* Compare one access; on disagreement print it (with the kernel's log when verbose). */
static bool agree(const struct access *a, const char *label)
{
	struct comb_ctx_field_info info;
	bool comb_ok = comb_ctx_access_attach(a->prog_type, a->attach, a->off, a->size, a->write,
					      &info) == 0;
	bool kernel_ok = kernel_load(a, NULL, 0) == 0;
	if (comb_ok == kernel_ok) {
		allowed_by_both += comb_ok;
		return true;
	}
	char what[160];
	describe(a, what, sizeof(what));
	printf("FAIL %s: %s: kernel %s, comb %s%s%s\n", label, what,
	       kernel_ok ? "accepts" : "rejects", comb_ok ? "accepts" : "rejects",
	       comb_ok ? "" : ": ", comb_ok ? "" : info.reason);
	if (verbose) {
		static char log[65536];
		log[0] = 0;
		kernel_load(a, log, sizeof(log));
		printf("  kernel log: %s\n", log);
	}
	return false;
}

static void report(bool ok)
{
	if (ok)
		passed++;
	else
		failed++;
}

/* A named case: the expected verdict is stated too, so the test also checks
 * that the rule is what we believe it is. */
struct named_case {
	const char *name;
	struct access a;
	bool allowed;
};

#define R(t, off, size) { BPF_PROG_TYPE_##t, 0, off, size, false }
#define W(t, off, size) { BPF_PROG_TYPE_##t, 0, off, size, true }
#define RA(t, at, off, size) { BPF_PROG_TYPE_##t, at, off, size, false }
#define WA(t, at, off, size) { BPF_PROG_TYPE_##t, at, off, size, true }
#define SKB(f) offsetof(struct __sk_buff, f)
#define XDP(f) offsetof(struct xdp_md, f)
#define SOCK(f) offsetof(struct bpf_sock, f)
#define SA(f) offsetof(struct bpf_sock_addr, f)
#define OPS(f) offsetof(struct bpf_sock_ops, f)

static const struct named_case cases[] = {
	{ "skb mark write from socket filter", W(SOCKET_FILTER, SKB(mark), 4), false },
	{ "skb mark write from tc", W(SCHED_CLS, SKB(mark), 4), true },
	{ "skb mark write from cgroup_skb", W(CGROUP_SKB, SKB(mark), 4), true },
	{ "skb mark 2-byte write from tc", W(SCHED_CLS, SKB(mark), 2), false },
	{ "skb mark byte read at +3", R(SOCKET_FILTER, SKB(mark) + 3, 1), true },
	{ "skb len 8-byte read", R(SCHED_CLS, SKB(len), 8), false },
	{ "skb misaligned 4-byte read", R(SCHED_CLS, SKB(len) + 2, 4), false },
	{ "skb data read from tc", R(SCHED_CLS, SKB(data), 4), true },
	{ "skb data read from socket filter", R(SOCKET_FILTER, SKB(data), 4), false },
	{ "skb data 2-byte read from tc", R(SCHED_CLS, SKB(data), 2), false },
	{ "skb data_end read from cgroup_skb", R(CGROUP_SKB, SKB(data_end), 4), true },
	{ "skb data_meta read from tc", R(SCHED_ACT, SKB(data_meta), 4), true },
	{ "skb data_meta read from cgroup_skb", R(CGROUP_SKB, SKB(data_meta), 4), false },
	{ "skb cb byte write from socket filter", W(SOCKET_FILTER, SKB(cb[1]) + 1, 1), true },
	{ "skb cb 8-byte read", R(SCHED_CLS, SKB(cb[2]), 8), true },
	{ "skb cb 8-byte read past cb[4]", R(SCHED_CLS, SKB(cb[4]), 8), false },
	{ "skb tc_classid read from socket filter", R(SOCKET_FILTER, SKB(tc_classid), 4), false },
	{ "skb tc_classid write from tc", W(SCHED_CLS, SKB(tc_classid), 4), true },
	{ "skb remote_ip4 read from cgroup_skb", R(CGROUP_SKB, SKB(remote_ip4), 4), true },
	{ "skb remote_ip4 read from tc", R(SCHED_CLS, SKB(remote_ip4), 4), false },
	{ "skb remote_ip6[1] byte read", R(CGROUP_SKB, SKB(remote_ip6[1]), 1), false },
	{ "skb tstamp write from tc", W(SCHED_CLS, SKB(tstamp), 8), true },
	{ "skb tstamp 4-byte read", R(SCHED_CLS, SKB(tstamp), 4), false },
	{ "skb sk read", R(SCHED_CLS, SKB(sk), 8), true },
	{ "skb sk write", W(SCHED_CLS, SKB(sk), 8), false },
	{ "skb flow_keys read from tc", R(SCHED_CLS, SKB(flow_keys), 8), false },
	{ "skb read past the end", R(SCHED_CLS, sizeof(struct __sk_buff), 4), false },
	{ "xdp data read", R(XDP, XDP(data), 4), true },
	{ "xdp data 1-byte read", R(XDP, XDP(data), 1), false },
	{ "xdp data_end read", R(XDP, XDP(data_end), 4), true },
	{ "xdp ingress_ifindex write", W(XDP, XDP(ingress_ifindex), 4), false },
	{ "xdp egress_ifindex from plain xdp", R(XDP, XDP(egress_ifindex), 4), false },
	{ "xdp egress_ifindex from devmap", RA(XDP, BPF_XDP_DEVMAP, XDP(egress_ifindex), 4), true },
	{ "sock mark write at creation", W(CGROUP_SOCK, SOCK(mark), 4), true },
	{ "sock family write", W(CGROUP_SOCK, SOCK(family), 4), false },
	{ "sock src_ip4 read at creation", R(CGROUP_SOCK, SOCK(src_ip4), 4), false },
	{ "sock src_ip4 read after bind4", RA(CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND, SOCK(src_ip4), 4), true },
	{ "sock dst_port 2-byte read", R(CGROUP_SOCK, SOCK(dst_port), 2), true },
	{ "sock_addr user_ip4 write in connect4", WA(CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, SA(user_ip4), 4), true },
	{ "sock_addr user_ip6 read in connect4", RA(CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, SA(user_ip6), 4), false },
	{ "sock_addr user_ip6 8-byte write in connect6", WA(CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT, SA(user_ip6[2]), 8), true },
	{ "sock_addr family write", WA(CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, SA(family), 4), false },
	{ "sock_ops reply write", W(SOCK_OPS, OPS(reply), 4), true },
	{ "sock_ops op write", W(SOCK_OPS, OPS(op), 4), false },
	{ "sock_ops bytes_received 4-byte read", R(SOCK_OPS, OPS(bytes_received), 4), false },
	{ "kprobe pt_regs di read", R(KPROBE, 14 * 8, 8), true },
	{ "kprobe pt_regs byte read", R(KPROBE, 14 * 8 + 3, 1), true },
	{ "kprobe pt_regs write", W(KPROBE, 14 * 8, 8), false },
	{ "kprobe read past pt_regs", R(KPROBE, 21 * 8, 8), false },
	{ "perf_event regs 4-byte read", R(PERF_EVENT, 0, 4), false },
	{ "perf_event sample_period 4-byte read", R(PERF_EVENT, 21 * 8, 4), true },
	{ "tracepoint common fields read", R(TRACEPOINT, 0, 8), false },
	{ "tracepoint record read", R(TRACEPOINT, 16, 4), true },
	{ "raw_tracepoint args[1] read", R(RAW_TRACEPOINT, 8, 8), true },
	{ "raw_tracepoint args write", W(RAW_TRACEPOINT, 8, 8), false },
};

static void run_named_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct named_case *c = &cases[i];
		struct comb_ctx_field_info info;
		bool comb_ok = comb_ctx_access_attach(c->a.prog_type, c->a.attach, c->a.off,
						      c->a.size, c->a.write, &info) == 0;
		bool ok = agree(&c->a, c->name);
		if (ok && comb_ok != c->allowed) {
			printf("FAIL %s: both %s it, the test expected the opposite\n", c->name,
			       comb_ok ? "accept" : "reject");
			ok = false;
		}
		report(ok);
	}
}

/* Every aligned offset and size in [from, to) of one program type's context,
 * reads and writes. */
static void sweep(uint32_t prog_type, uint32_t attach, uint32_t from, uint32_t to)
{
	static const uint32_t sizes[] = { 1, 2, 4, 8 };
	char label[96];
	snprintf(label, sizeof(label), "sweep %s/%u", comb_prog_type_name(prog_type), attach);
	int bad = 0, total = 0;
	allowed_by_both = 0;
	for (uint32_t off = from; off < to; off++) {
		for (size_t s = 0; s < 4; s++) {
			if (off % sizes[s])
				continue;
			for (int w = 0; w < 2; w++) {
				struct access a = { prog_type, attach, off, sizes[s], w };
				total++;
				if (!agree(&a, label) && ++bad >= 10) {
					printf("FAIL %s: stopping after 10 disagreements\n", label);
					report(false);
					return;
				}
			}
		}
	}
	printf("%s: %d accesses, %d allowed, %d disagreements\n", label, total, allowed_by_both, bad);
	report(bad == 0);
}

static void run_sweeps(void)
{
	uint32_t skb = sizeof(struct __sk_buff) + 8;
	sweep(BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, skb);
	sweep(BPF_PROG_TYPE_SCHED_CLS, 0, 0, skb);
	sweep(BPF_PROG_TYPE_CGROUP_SKB, 0, 0, skb);
	sweep(BPF_PROG_TYPE_XDP, 0, 0, sizeof(struct xdp_md) + 8);
	sweep(BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, 0, sizeof(struct xdp_md) + 8);
	sweep(BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, 0, sizeof(struct bpf_sock) + 8);
	sweep(BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND, 0, sizeof(struct bpf_sock) + 8);
	sweep(BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND, 0, sizeof(struct bpf_sock) + 8);
	uint32_t sa = sizeof(struct bpf_sock_addr) + 8;
	sweep(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, 0, sa);
	sweep(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND, 0, sa);
	sweep(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG, 0, sa);
	sweep(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG, 0, sa);
	sweep(BPF_PROG_TYPE_SOCK_OPS, 0, 0, sizeof(struct bpf_sock_ops) + 16);
	sweep(BPF_PROG_TYPE_KPROBE, 0, 0, 21 * 8 + 8);
	sweep(BPF_PROG_TYPE_PERF_EVENT, 0, 0, 21 * 8 + 24);
	sweep(BPF_PROG_TYPE_TRACEPOINT, 0, 0, 64);
	sweep(BPF_PROG_TYPE_TRACEPOINT, 0, 8192 - 64, 8192 + 16);
	sweep(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, 12 * 8 + 16);
}

/* Can we load programs at all? A trivial socket filter must load. */
static int probe(void)
{
	struct access a = { BPF_PROG_TYPE_SOCKET_FILTER, 0, 0, 4, false };
	return kernel_load(&a, NULL, 0);
}

int main(int argc, char **argv)
{
	verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	int rc = probe();
	if (rc) {
		printf("kernel-ctx: skipped (bpf() cannot load a socket filter: %s)\n", strerror(-rc));
		printf("kernel-ctx: 0 passed, 0 failed\n");
		return 0;
	}
	run_named_cases();
	run_sweeps();
	printf("kernel-ctx: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
