/* tests/kernel/kernel_fib.c - comb's bpf_fib_lookup against the kernel's.
 *
 * The kernel side: a network namespace made for the test (combfib-PID)
 * with an ingress device (dummy, or a veth where the dummy driver is
 * missing) and two veth pairs whose near ends carry IPv4 and IPv6
 * addresses, MTUs, routes (connected, via a gateway, via a gateway with no
 * neighbour, with a locked route MTU; all with metric 7) and permanent
 * neighbours (ip neigh ... nud permanent), forwarding on. A small XDP
 * program (raw instructions) copies a struct bpf_fib_lookup and the flags
 * from the packet, calls bpf_fib_lookup(ctx, &params, 64, flags), writes the
 * struct back into the packet and returns the helper's result. It runs by
 * BPF_PROG_TEST_RUN inside the namespace (setns: the kernel looks routes up
 * in the namespace of the task that runs the test), and in comb (interp,
 * checked, jit) with a route file written to match the namespace (the
 * format of comb_fib_parse). For each case (IPv4 and IPv6: hits on
 * connected and gateway routes, misses, link-local, no neighbour,
 * SKIP_NEIGH, FRAG_NEEDED on device and route MTUs) the return value and all
 * 64 bytes of the struct (ifindex, smac, dmac, mtu_result, rt_metric, the
 * gateway in ipv4_dst/ipv6_dst, ...) must agree. The namespace is deleted
 * at exit (atexit and on SIGINT/SIGTERM).
 *
 * Without root, bpf() or `ip`, the suite skips with a message and reports
 * `kernel-fib: 0 passed, 0 failed`.
 *
 * Usage: kernel-fib [-v]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "comb/vm.h"
#include "comb/xdp.h"

#define PKT_LEN (14 + 64 + 4)
#define ENGINES 3

static bool verbose;
static int passed, failed;
static char netns[64];
static int host_ns = -1;

static void report(bool ok, const char *test, const char *why)
{
	if (ok)
		passed++;
	else
		failed++;
	if (!ok || verbose)
		printf("%s: %s%s%s\n", ok ? "ok" : "FAIL", test, why ? ": " : "", why ? why : "");
}

/* ---- the namespace ---- */

static void netns_delete(void)
{
	if (host_ns >= 0) {
		setns(host_ns, CLONE_NEWNET);
		close(host_ns);
		host_ns = -1;
	}
	if (netns[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", netns);
		if (system(cmd) != 0)
			fprintf(stderr, "kernel-fib: could not delete netns %s\n", netns);
		netns[0] = 0;
	}
}

static void on_signal(int sig)
{
	netns_delete();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	if (rc != 0 && verbose)
		fprintf(stderr, "kernel-fib: failed: %s\n", cmd);
	return rc;
}

/* MACs: a0 02:00:00:00:01:01, b0 02:00:00:00:02:01; neighbours on a0
 * 10.1.0.2 / 2001:db8:1::2 -> 02:00:00:00:01:02, on b0 the gateway
 * 10.2.0.254 / 2001:db8:2::fe -> 02:00:00:00:02:fe. */
static const char *const setup_script[] = {
	"ip -n %1$s link add in0 type dummy 2>/dev/null || ip -n %1$s link add in0 type veth peer name in1",
	"ip -n %1$s link add a0 address 02:00:00:00:01:01 mtu 1400 type veth peer name a1",
	"ip -n %1$s link add b0 address 02:00:00:00:02:01 type veth peer name b1",
	"for d in lo in0 in1 a0 a1 b0 b1; do ip -n %1$s link set $d up 2>/dev/null || [ $d = in1 ]; done",
	"ip netns exec %1$s sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1",
	"ip -n %1$s addr add 10.0.0.1/24 dev in0",
	"ip -n %1$s addr add 10.1.0.1/24 dev a0 noprefixroute",
	"ip -n %1$s addr add 10.2.0.1/24 dev b0 noprefixroute",
	"ip -n %1$s -6 addr add 2001:db8::1/64 dev in0 nodad",
	"ip -n %1$s -6 addr add 2001:db8:1::1/64 dev a0 nodad noprefixroute",
	"ip -n %1$s -6 addr add 2001:db8:2::1/64 dev b0 nodad noprefixroute",
	"ip -n %1$s route add 10.1.0.0/24 dev a0 metric 7",
	"ip -n %1$s route add 10.2.0.0/24 dev b0 metric 7",
	"ip -n %1$s route add 10.20.0.0/16 via 10.2.0.254 dev b0 metric 7",
	"ip -n %1$s route add 10.30.0.0/16 via 10.2.0.77 dev b0 metric 7",
	"ip -n %1$s route add 10.40.0.0/16 via 10.2.0.254 dev b0 metric 7 mtu lock 1300",
	"ip -n %1$s -6 route add 2001:db8:1::/64 dev a0 metric 7",
	"ip -n %1$s -6 route add 2001:db8:2::/64 dev b0 metric 7",
	"ip -n %1$s -6 route add 2001:db8:20::/48 via 2001:db8:2::fe dev b0 metric 7",
	"ip -n %1$s -6 route add 2001:db8:30::/48 via 2001:db8:2::77 dev b0 metric 7",
	"ip -n %1$s -6 route add 2001:db8:40::/48 via 2001:db8:2::fe dev b0 metric 7 mtu lock 1300",
	"ip -n %1$s neigh add 10.1.0.2 lladdr 02:00:00:00:01:02 nud permanent dev a0",
	"ip -n %1$s neigh add 10.2.0.254 lladdr 02:00:00:00:02:fe nud permanent dev b0",
	"ip -n %1$s -6 neigh add 2001:db8:1::2 lladdr 02:00:00:00:01:02 nud permanent dev a0",
	"ip -n %1$s -6 neigh add 2001:db8:2::fe lladdr 02:00:00:00:02:fe nud permanent dev b0",
};

/* The same table for comb; in0, a0, b0 are the namespace's ifindexes. */
static void route_file(char *out, size_t len, unsigned a0, unsigned b0)
{
	snprintf(out, len,
		 "10.1.0.2/32 dev %1$u smac 02:00:00:00:01:01 dmac 02:00:00:00:01:02 mtu 1400 metric 7\n"
		 "10.1.0.0/24 dev %1$u mtu 1400 metric 7\n"
		 "10.2.0.0/24 dev %2$u metric 7\n"
		 "10.20.0.0/16 dev %2$u via 10.2.0.254 smac 02:00:00:00:02:01 dmac 02:00:00:00:02:fe metric 7\n"
		 "10.30.0.0/16 dev %2$u via 10.2.0.77 metric 7\n"
		 "10.40.0.0/16 dev %2$u via 10.2.0.254 smac 02:00:00:00:02:01 dmac 02:00:00:00:02:fe mtu 1300 metric 7\n"
		 "2001:db8:1::2/128 dev %1$u smac 02:00:00:00:01:01 dmac 02:00:00:00:01:02 mtu 1400 metric 7\n"
		 "2001:db8:1::/64 dev %1$u mtu 1400 metric 7\n"
		 "2001:db8:2::/64 dev %2$u metric 7\n"
		 "2001:db8:20::/48 dev %2$u via 2001:db8:2::fe smac 02:00:00:00:02:01 dmac 02:00:00:00:02:fe metric 7\n"
		 "2001:db8:30::/48 dev %2$u via 2001:db8:2::77 metric 7\n"
		 "2001:db8:40::/48 dev %2$u via 2001:db8:2::fe smac 02:00:00:00:02:01 dmac 02:00:00:00:02:fe mtu 1300 "
		 "metric 7\n",
		 a0, b0);
}

static int netns_create(void)
{
	snprintf(netns, sizeof(netns), "combfib-%d", (int)getpid());
	if (sh("ip netns add %s", netns)) {
		netns[0] = 0;
		return -1;
	}
	for (size_t i = 0; i < sizeof(setup_script) / sizeof(setup_script[0]); i++) {
		char cmd[512];
		snprintf(cmd, sizeof(cmd), setup_script[i], netns);
		if (sh("%s", cmd))
			return -1;
	}
	return 0;
}

static int netns_enter(void)
{
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	host_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || host_ns < 0 || setns(fd, CLONE_NEWNET)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* ---- the program ---- */

#define INSN(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define LDX(sz, d, s, o) INSN(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STX(sz, d, s, o) INSN(BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define MOVR(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOVK(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define ADDK(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)

/* r6 = ctx; packet = [14 bytes][struct bpf_fib_lookup][u32 flags]; copy the
 * struct to fp-64, r0 = bpf_fib_lookup(ctx, fp-64, 64, flags), copy it
 * back, return r0 (0xff: packet too short). */
static size_t build_program(struct bpf_insn *p)
{
	size_t n = 0;
	p[n++] = (struct bpf_insn)MOVR(6, 1);
	p[n++] = (struct bpf_insn)LDX(BPF_W, 2, 6, 0);
	p[n++] = (struct bpf_insn)LDX(BPF_W, 3, 6, 4);
	p[n++] = (struct bpf_insn)MOVR(4, 2);
	p[n++] = (struct bpf_insn)ADDK(4, PKT_LEN);
	size_t check1 = n++; /* if r4 > r3 goto short */
	for (int i = 0; i < 8; i++) {
		p[n++] = (struct bpf_insn)LDX(BPF_DW, 1, 2, (int16_t)(14 + 8 * i));
		p[n++] = (struct bpf_insn)STX(BPF_DW, 10, 1, (int16_t)(-64 + 8 * i));
	}
	p[n++] = (struct bpf_insn)LDX(BPF_W, 4, 2, 14 + 64);
	p[n++] = (struct bpf_insn)MOVR(1, 6);
	p[n++] = (struct bpf_insn)MOVR(2, 10);
	p[n++] = (struct bpf_insn)ADDK(2, -64);
	p[n++] = (struct bpf_insn)MOVK(3, 64);
	p[n++] = (struct bpf_insn)INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_fib_lookup);
	p[n++] = (struct bpf_insn)MOVR(7, 0);
	p[n++] = (struct bpf_insn)LDX(BPF_W, 2, 6, 0);
	p[n++] = (struct bpf_insn)LDX(BPF_W, 3, 6, 4);
	p[n++] = (struct bpf_insn)MOVR(4, 2);
	p[n++] = (struct bpf_insn)ADDK(4, PKT_LEN);
	size_t check2 = n++;
	for (int i = 0; i < 8; i++) {
		p[n++] = (struct bpf_insn)LDX(BPF_DW, 1, 10, (int16_t)(-64 + 8 * i));
		p[n++] = (struct bpf_insn)STX(BPF_DW, 2, 1, (int16_t)(14 + 8 * i));
	}
	p[n++] = (struct bpf_insn)MOVR(0, 7);
	p[n++] = (struct bpf_insn)INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	size_t short_label = n;
	p[n++] = (struct bpf_insn)MOVK(0, 0xff);
	p[n++] = (struct bpf_insn)INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	p[check1] = (struct bpf_insn)INSN(BPF_JMP | BPF_JGT | BPF_X, 4, 3, (int16_t)(short_label - check1 - 1), 0);
	p[check2] = (struct bpf_insn)INSN(BPF_JMP | BPF_JGT | BPF_X, 4, 3, (int16_t)(short_label - check2 - 1), 0);
	return n;
}

/* ---- cases ---- */

struct fib_case {
	const char *name;
	int family;
	const char *src, *dst;
	uint16_t tot_len;
	uint32_t flags;
};

static const struct fib_case cases[] = {
	{ "v4 connected, neighbour", AF_INET, "10.0.0.9", "10.1.0.2", 100, 0 },
	{ "v4 connected, no neighbour", AF_INET, "10.0.0.9", "10.1.0.9", 100, 0 },
	{ "v4 connected, no neighbour, SKIP_NEIGH", AF_INET, "10.0.0.9", "10.1.0.9", 100, BPF_FIB_LOOKUP_SKIP_NEIGH },
	{ "v4 via gateway", AF_INET, "10.0.0.9", "10.20.3.4", 1500, 0 },
	{ "v4 via gateway, no neighbour", AF_INET, "10.0.0.9", "10.30.3.4", 100, 0 },
	{ "v4 via gateway, no neighbour, SKIP_NEIGH", AF_INET, "10.0.0.9", "10.30.3.4", 100,
	  BPF_FIB_LOOKUP_SKIP_NEIGH },
	{ "v4 route mtu 1300, 1300 bytes", AF_INET, "10.0.0.9", "10.40.0.1", 1300, 0 },
	{ "v4 route mtu 1300, 1301 bytes", AF_INET, "10.0.0.9", "10.40.0.1", 1301, 0 },
	{ "v4 device mtu 1400, 1401 bytes", AF_INET, "10.0.0.9", "10.1.0.2", 1401, 0 },
	{ "v4 device mtu 1500, 1501 bytes", AF_INET, "10.0.0.9", "10.20.0.1", 1501, 0 },
	{ "v4 miss", AF_INET, "10.0.0.9", "192.168.7.7", 100, 0 },
	{ "v6 connected, neighbour", AF_INET6, "2001:db8::9", "2001:db8:1::2", 100, 0 },
	{ "v6 connected, no neighbour", AF_INET6, "2001:db8::9", "2001:db8:1::9", 100, 0 },
	{ "v6 connected, SKIP_NEIGH", AF_INET6, "2001:db8::9", "2001:db8:1::9", 100, BPF_FIB_LOOKUP_SKIP_NEIGH },
	{ "v6 via gateway", AF_INET6, "2001:db8::9", "2001:db8:20::5", 1500, 0 },
	{ "v6 via gateway, no neighbour", AF_INET6, "2001:db8::9", "2001:db8:30::5", 100, 0 },
	{ "v6 route mtu 1300, 1300 bytes", AF_INET6, "2001:db8::9", "2001:db8:40::1", 1300, 0 },
	{ "v6 route mtu 1300, 1301 bytes", AF_INET6, "2001:db8::9", "2001:db8:40::1", 1301, 0 },
	{ "v6 device mtu 1400, 1401 bytes", AF_INET6, "2001:db8::9", "2001:db8:1::2", 1401, 0 },
	{ "v6 miss", AF_INET6, "2001:db8::9", "2001:db9::1", 100, 0 },
	{ "v6 link-local destination", AF_INET6, "2001:db8::9", "fe80::1", 100, 0 },
	{ "v6 multicast destination", AF_INET6, "2001:db8::9", "ff02::1", 100, 0 },
};

static void make_packet(uint8_t *pkt, const struct fib_case *c, uint32_t ingress)
{
	memset(pkt, 0, PKT_LEN);
	struct bpf_fib_lookup params = { .family = (uint8_t)c->family, .l4_protocol = 17, .sport = htons(1234),
					 .dport = htons(53), .tot_len = c->tot_len, .ifindex = ingress };
	if (c->family == AF_INET) {
		inet_pton(AF_INET, c->src, &params.ipv4_src);
		inet_pton(AF_INET, c->dst, &params.ipv4_dst);
	} else {
		inet_pton(AF_INET6, c->src, params.ipv6_src);
		inet_pton(AF_INET6, c->dst, params.ipv6_dst);
	}
	memset(params.smac, 0xaa, 6); /* so an untouched MAC shows */
	memset(params.dmac, 0xbb, 6);
	pkt[12] = 0x08;
	memcpy(pkt + 14, &params, sizeof(params));
	memcpy(pkt + 14 + 64, &c->flags, 4);
}

static const char *const field_names[] = {
	[0] = "family", [1] = "l4_protocol", [2] = "sport", [4] = "dport", [6] = "tot_len/mtu_result",
	[8] = "ifindex", [12] = "tos/flowinfo/rt_metric", [16] = "src", [32] = "dst", [48] = "vlan/tbid",
	[52] = "mark", [56] = "smac", [62] = "dmac",
};

static const char *field_at(size_t off)
{
	while (off > 0 && !field_names[off])
		off--;
	return field_names[off];
}

static void compare(const char *test, uint32_t krc, const uint8_t *kout, uint64_t crc, const uint8_t *cout)
{
	char why[256];
	if ((uint64_t)(int64_t)(int32_t)krc != crc && krc != crc) {
		snprintf(why, sizeof(why), "return value: kernel %d, comb %lld", (int)krc, (long long)crc);
		report(false, test, why);
		return;
	}
	for (size_t i = 0; i < 64; i++)
		if (kout[14 + i] != cout[14 + i]) {
			snprintf(why, sizeof(why), "return %d, struct byte %zu (%s): kernel %02x, comb %02x", (int)krc, i,
				 field_at(i), kout[14 + i], cout[14 + i]);
			report(false, test, why);
			return;
		}
	snprintf(why, sizeof(why), "return %d", (int)krc);
	report(true, test, verbose ? why : NULL);
}

static int run_cases(int kfd, struct comb_xdp *const *runners, uint32_t ingress)
{
	static const char *const engine_names[ENGINES] = { "interp", "checked", "jit" };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t pkt[PKT_LEN], kout[PKT_LEN + 64];
		make_packet(pkt, &cases[i], ingress);
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = PKT_LEN, .data_out = kout,
			    .data_size_out = sizeof(kout));
		if (bpf_prog_test_run_opts(kfd, &o)) {
			fprintf(stderr, "kernel-fib: %s: BPF_PROG_TEST_RUN: %s\n", cases[i].name, strerror(errno));
			return -1;
		}
		for (int e = 0; e < ENGINES; e++) {
			char test[160];
			snprintf(test, sizeof(test), "%s [%s]", cases[i].name, engine_names[e]);
			struct comb_xdp_result res;
			int rc = comb_xdp_run(runners[e], pkt, PKT_LEN, &res);
			if (rc || res.len != PKT_LEN || o.data_size_out != PKT_LEN) {
				report(false, test, rc ? res.error.message : "packet length changed");
				continue;
			}
			compare(test, o.retval, kout, res.retval, res.data);
		}
	}
	return 0;
}

/* ---- main ---- */

static int run_suite(void)
{
	struct bpf_insn insns[128];
	size_t n = build_program(insns);
	LIBBPF_OPTS(bpf_prog_load_opts, lo);
	int kfd = bpf_prog_load(BPF_PROG_TYPE_XDP, "fib_probe", "GPL", insns, n, &lo);
	if (kfd < 0) {
		printf("kernel-fib: skipped: the kernel refuses XDP programs here (%s)\n", strerror(errno));
		return 0;
	}
	if (netns_create()) {
		printf("kernel-fib: skipped: cannot build the network namespace (ip netns, veth)\n");
		close(kfd);
		return 0;
	}
	if (netns_enter()) {
		fprintf(stderr, "kernel-fib: cannot enter netns %s: %s\n", netns, strerror(errno));
		close(kfd);
		return -1;
	}
	unsigned in0 = if_nametoindex("in0"), a0 = if_nametoindex("a0"), b0 = if_nametoindex("b0");
	char routes[2048], err[256] = "";
	route_file(routes, sizeof(routes), a0, b0);
	struct comb_vm *vm = NULL;
	struct comb_prog *prog = NULL;
	struct comb_fib *fib = NULL;
	struct comb_xdp *runners[ENGINES] = { 0 };
	static const enum comb_engine engines[ENGINES] = { COMB_ENGINE_INTERP, COMB_ENGINE_CHECKED, COMB_ENGINE_JIT };
	struct comb_prog_opts po = { .sz = sizeof(po), .name = "fib_probe", .prog_type = BPF_PROG_TYPE_XDP };
	int rc = -1;
	if (!in0 || !a0 || !b0 || comb_fib_parse(routes, strlen(routes), &fib, err, sizeof(err)) || comb_vm_new(NULL, &vm) ||
	    comb_prog_load(vm, (const struct comb_insn *)insns, n, &po, &prog, err, sizeof(err))) {
		fprintf(stderr, "kernel-fib: setting up comb: %s\n", err[0] ? err : "interfaces missing");
		goto out;
	}
	for (int e = 0; e < ENGINES; e++) {
		struct comb_xdp_opts xo = { .sz = sizeof(xo), .engine = engines[e], .ingress_ifindex = in0, .fib = fib };
		if (comb_xdp_new(prog, &xo, &runners[e])) {
			fprintf(stderr, "kernel-fib: cannot make an XDP runner\n");
			goto out;
		}
	}
	rc = run_cases(kfd, runners, in0);
out:
	for (int e = 0; e < ENGINES; e++)
		comb_xdp_free(runners[e]);
	comb_prog_free(prog);
	comb_vm_free(vm);
	comb_fib_free(fib);
	close(kfd);
	return rc;
}

static int print_nothing(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

int main(int argc, char **argv)
{
	verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	libbpf_set_print(print_nothing);
	if (geteuid() != 0 || system("ip -V >/dev/null 2>&1") != 0) {
		printf("kernel-fib: skipped: needs root and iproute2's ip\n");
		printf("kernel-fib: 0 passed, 0 failed\n");
		return 0;
	}
	atexit(netns_delete);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int rc = run_suite();
	netns_delete();
	printf("kernel-fib: %d passed, %d failed\n", passed, failed);
	return rc || failed ? 1 : 0;
}
