/* bench/xdp_bench.c - XDP packets per second on one core: comb's runner
 * (comb_xdp_run, JIT engine) against the kernel's BPF_PROG_TEST_RUN.
 *
 * A set of 64 packets held in memory (UDP and TCP over IPv4 and IPv6, some
 * matching the filter's rules) is run by two programs: a trivial one
 * (r0 = XDP_PASS) and xdp-filter (Debian's xdpfilt_alw_all.o, its maps
 * filled with a few port, address and MAC rules the way xdp-filter does,
 * pinning switched off). comb's figures are the wall time of whole passes
 * over the set divided by the packets, once with comb_xdp_run_batch (the
 * whole set as one batch, as `comb xdp --pcap` runs) and once with one
 * comb_xdp_run per packet; the kernel's is BPF_PROG_TEST_RUN's own
 * average per run (repeat R on each packet, averaged over the set), which
 * leaves the syscall out, as comb's figure leaves out nothing. Rounds
 * alternate comb and kernel; medians are printed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "comb/comb.h"
#include "stats.h"

#define XDPFILT "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o"
#define PACKETS 64
#define ROUNDS 7
#define COMB_PASSES 40000   /* x 64 packets per round */
#define KERNEL_REPEAT 2000  /* runs per packet per round */
#define MAX_CPUS 1024

struct packet {
	uint8_t data[128];
	size_t len;
};
static struct packet packets[PACKETS];

static void build_packet(struct packet *p, int i)
{
	static const uint8_t macs[] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	static const uint16_t ports[] = { 80, 53, 443, 8080, 12345, 22, 5000, 9999 };
	bool v6 = i % 4 == 3, tcp = i % 2;
	uint8_t *d = p->data;
	memcpy(d, macs, 12);
	d[12] = v6 ? 0x86 : 0x08, d[13] = v6 ? 0xdd : 0x00;
	size_t l3 = 14, l4_len = tcp ? 20 : 16;
	if (v6) {
		uint8_t h[40] = { 0x60, 0, 0, 0, 0, (uint8_t)l4_len, tcp ? 6 : 17, 64 };
		inet_pton(AF_INET6, i % 8 == 3 ? "2001:db8::66" : "2001:db8::1", h + 8);
		inet_pton(AF_INET6, "2001:db8::2", h + 24);
		memcpy(d + l3, h, 40);
		l3 += 40;
	} else {
		uint8_t h[20] = { 0x45, 0, 0, (uint8_t)(20 + l4_len), 0, 1, 0, 0, 64, tcp ? 6 : 17 };
		inet_pton(AF_INET, i % 16 == 5 ? "10.0.0.66" : "10.0.0.1", h + 12);
		inet_pton(AF_INET, "10.0.0.2", h + 16);
		memcpy(d + l3, h, 20);
		l3 += 20;
	}
	memset(d + l3, 0, l4_len);
	uint16_t sport = htons(40000), dport = htons(ports[i % 8]);
	memcpy(d + l3, &sport, 2), memcpy(d + l3 + 2, &dport, 2);
	if (tcp)
		d[l3 + 12] = 5 << 4;
	p->len = l3 + l4_len;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- one program in both worlds ---- */

struct subject {
	const char *name;
	int kernel_fd;
	struct bpf_object *kobj;
	struct comb_vm *vm;
	struct comb_object *cobj;
	struct comb_prog *prog; /* trivial: owned; object: the object's */
	bool owns_prog;
};

static double comb_round(struct comb_xdp *x)
{
	struct comb_xdp_result res;
	uint64_t sink = 0;
	double t0 = now_ns();
	for (int pass = 0; pass < COMB_PASSES; pass++)
		for (int i = 0; i < PACKETS; i++) {
			comb_xdp_run(x, packets[i].data, packets[i].len, &res);
			sink += res.action;
		}
	double t = (now_ns() - t0) / ((double)COMB_PASSES * PACKETS);
	if (sink == UINT64_MAX)
		printf("%llu\n", (unsigned long long)sink);
	return t;
}

static double comb_batch_round(struct comb_xdp *x)
{
	static struct comb_xdp_result res[PACKETS];
	const void *data[PACKETS];
	size_t lens[PACKETS];
	for (int i = 0; i < PACKETS; i++)
		data[i] = packets[i].data, lens[i] = packets[i].len;
	uint64_t sink = 0;
	double t0 = now_ns();
	for (int pass = 0; pass < COMB_PASSES; pass++) {
		comb_xdp_run_batch(x, data, lens, PACKETS, res, NULL);
		sink += res[pass % PACKETS].action;
	}
	double t = (now_ns() - t0) / ((double)COMB_PASSES * PACKETS);
	if (sink == UINT64_MAX)
		printf("%llu\n", (unsigned long long)sink);
	return t;
}

static double kernel_round(int fd)
{
	double total = 0;
	for (int i = 0; i < PACKETS; i++) {
		uint8_t out[256];
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packets[i].data, .data_size_in = (uint32_t)packets[i].len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = KERNEL_REPEAT);
		if (bpf_prog_test_run_opts(fd, &opts))
			return -1;
		total += opts.duration;
	}
	return total / PACKETS;
}

static void measure(struct subject *s)
{
	double batch[ROUNDS], single[ROUNDS], kernel[ROUNDS];
	struct comb_xdp_opts xo = { .sz = sizeof(xo), .engine = COMB_ENGINE_JIT };
	struct comb_xdp *x;
	if (comb_xdp_new(s->prog, &xo, &x)) {
		printf("  %-22s comb: cannot make a runner\n", s->name);
		return;
	}
	comb_batch_round(x); /* warm up */
	comb_round(x);
	for (int r = 0; r < ROUNDS; r++) {
		batch[r] = comb_batch_round(x);
		single[r] = comb_round(x);
		kernel[r] = s->kernel_fd >= 0 ? kernel_round(s->kernel_fd) : -1;
	}
	comb_xdp_free(x);
	double b = bench_median(batch, ROUNDS), c = bench_median(single, ROUNDS), k = bench_median(kernel, ROUNDS);
	printf("  %-22s comb jit batch %6.1f Mpps (%5.1f ns/packet), per call %6.1f Mpps (%5.1f ns)", s->name,
	       1e3 / b, b, 1e3 / c, c);
	if (k > 0)
		printf("   kernel test_run %6.1f Mpps (%5.1f ns/packet)   comb/kernel %.2fx\n", 1e3 / k, k, k / b);
	else
		printf("   kernel: not available\n");
}

/* ---- the programs ---- */

static int trivial(struct subject *s)
{
	static const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 2 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	*s = (struct subject){ .name = "trivial XDP_PASS", .kernel_fd = -1, .owns_prog = true };
	LIBBPF_OPTS(bpf_prog_load_opts, lo);
	s->kernel_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_pass", "GPL", insns, 2, &lo);
	char err[256] = "";
	struct comb_prog_opts po = { .sz = sizeof(po), .name = "xdp_pass", .prog_type = BPF_PROG_TYPE_XDP };
	if (comb_vm_new(NULL, &s->vm) ||
	    comb_prog_load(s->vm, (const struct comb_insn *)insns, 2, &po, &s->prog, err, sizeof(err))) {
		fprintf(stderr, "xdp-bench: trivial program: %s\n", err);
		return -1;
	}
	return 0;
}

static void set_rule(struct subject *s, const char *map, const void *key, uint64_t flags)
{
	static uint64_t values[MAX_CPUS];
	for (int c = 0; c < MAX_CPUS; c++)
		values[c] = flags;
	struct bpf_map *km = s->kobj ? bpf_object__find_map_by_name(s->kobj, map) : NULL;
	if (km)
		bpf_map_update_elem(bpf_map__fd(km), key, values, 0);
	int ci = comb_object_find_map(s->cobj, map);
	if (ci >= 0)
		comb_map_update(comb_object_map(s->cobj, (size_t)ci), key, values, 0);
}

static void configure_filter(struct subject *s)
{
	enum { SRC = 1, DST = 2, TCP = 4, UDP = 8 };
	uint32_t port = htons(80);
	uint8_t a4[4], a6[16], mac[6] = { 2, 0, 0, 0, 0, 0x77 };
	set_rule(s, "filter_ports", &port, DST | TCP);
	port = htons(53), set_rule(s, "filter_ports", &port, DST | UDP);
	port = htons(22), set_rule(s, "filter_ports", &port, SRC | TCP);
	inet_pton(AF_INET, "10.0.0.66", a4), set_rule(s, "filter_ipv4", a4, SRC);
	inet_pton(AF_INET6, "2001:db8::66", a6), set_rule(s, "filter_ipv6", a6, SRC);
	set_rule(s, "filter_ethernet", mac, SRC);
}

static int xdp_filter(struct subject *s)
{
	*s = (struct subject){ .name = "xdp-filter (alw_all)", .kernel_fd = -1 };
	char err[512] = "";
	if (access(XDPFILT, R_OK)) {
		printf("  %-22s skipped: %s is not installed (xdp-tools)\n", s->name, XDPFILT);
		return -1;
	}
	s->kobj = bpf_object__open_file(XDPFILT, NULL);
	if (s->kobj) {
		struct bpf_map *m;
		bpf_object__for_each_map(m, s->kobj)
			bpf_map__set_pin_path(m, NULL); /* nothing is pinned in /sys/fs/bpf */
		if (bpf_object__load(s->kobj) == 0)
			s->kernel_fd = bpf_program__fd(bpf_object__next_program(s->kobj, NULL));
	}
	if (comb_object_open_file(XDPFILT, NULL, &s->cobj, err, sizeof(err)) || comb_vm_new(NULL, &s->vm) ||
	    comb_object_load(s->cobj, s->vm, err, sizeof(err))) {
		fprintf(stderr, "xdp-bench: %s: %s\n", XDPFILT, err);
		return -1;
	}
	s->prog = comb_object_prog(s->cobj, 0);
	configure_filter(s);
	return 0;
}

static void subject_close(struct subject *s)
{
	if (s->owns_prog)
		comb_prog_free(s->prog);
	if (s->kernel_fd >= 0 && !s->kobj)
		close(s->kernel_fd);
	bpf_object__close(s->kobj);
	comb_object_close(s->cobj);
	comb_vm_free(s->vm);
}

int main(void)
{
	libbpf_set_print(NULL);
	for (int i = 0; i < PACKETS; i++)
		build_packet(&packets[i], i);
	printf("xdp: packets/s on %d packets in memory, one core, median of %d interleaved rounds\n", PACKETS,
	       ROUNDS);
	struct subject s;
	if (trivial(&s) == 0)
		measure(&s);
	subject_close(&s);
	if (xdp_filter(&s) == 0)
		measure(&s);
	subject_close(&s);
	return 0;
}
