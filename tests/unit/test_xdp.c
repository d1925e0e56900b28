/* tests/unit/test_xdp.c - the XDP runner (comb_xdp_new/run) and its route
 * table (comb_fib_*).
 *
 * Small programs are built instruction by instruction (insn_build.h):
 * return a constant, call bpf_redirect or bpf_redirect_map on a map handed
 * in as LDDW MAP_FD, call bpf_fib_lookup on a struct bpf_fib_lookup held in
 * an array map. Expected values follow the kernel's rules, which
 * tests/kernel/kernel_xdp.c checks against the kernel itself (verdicts,
 * redirect return values); fib results follow net/core/filter.c's
 * bpf_ipv4/ipv6_fib_lookup (the kernel's answer depends on the host's
 * routes, so these are checked against the documented contract).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comb/map.h"
#include "comb/vm.h"
#include "comb/xdp.h"
#include "insn_build.h"
#include "../test.h"

#define PROG_TYPE_XDP 6
#define LDDW_MAP(d, index) \
	INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, d, 1, 0, index), INSN(0, 0, 0, 0, 0)

static const enum comb_engine xdp_engines[] = { COMB_ENGINE_INTERP, COMB_ENGINE_CHECKED, COMB_ENGINE_JIT };
#define ENGINE_COUNT (sizeof(xdp_engines) / sizeof(xdp_engines[0]))

struct xdp_fixture {
	struct comb_vm *vm;
	struct comb_prog *prog;
	struct comb_xdp *xdp;
};

static int fixture_open(struct xdp_fixture *f, const struct comb_insn *insns, size_t count,
			struct comb_map *const *maps, size_t map_count, enum comb_engine engine,
			const struct comb_fib *fib)
{
	char err[256];
	memset(f, 0, sizeof(*f));
	struct comb_prog_opts po = { .sz = sizeof(po), .name = "xdp_test", .prog_type = PROG_TYPE_XDP,
				     .maps = maps, .map_count = map_count };
	struct comb_xdp_opts xo = { .sz = sizeof(xo), .engine = engine, .fib = fib };
	int rc = comb_vm_new(NULL, &f->vm);
	if (!rc)
		rc = comb_prog_load(f->vm, insns, count, &po, &f->prog, err, sizeof(err));
	if (!rc)
		rc = comb_xdp_new(f->prog, &xo, &f->xdp);
	return rc;
}

static void fixture_close(struct xdp_fixture *f)
{
	comb_xdp_free(f->xdp);
	comb_prog_free(f->prog);
	comb_vm_free(f->vm);
}

static void test_packet(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 5 + 1);
}

static struct comb_map *new_map(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max)
{
	struct comb_map_def def = { .sz = sizeof(def), .name = "m", .type = type, .key_size = key_size,
				    .value_size = value_size, .max_entries = max };
	struct comb_map *m = NULL;
	char err[128];
	return comb_map_create(&def, &m, err, sizeof(err)) == 0 ? m : NULL;
}

/* ---- verdicts and packet sizes -------------------------------------------- */

static int run_constant(int32_t value, enum comb_engine engine, struct comb_xdp_result *res)
{
	struct comb_insn prog[] = { MOV64_IMM(0, value), EXIT() };
	struct xdp_fixture f;
	uint8_t pkt[64];
	test_packet(pkt, sizeof(pkt));
	int rc = fixture_open(&f, prog, ARRAY_SIZE(prog), NULL, 0, engine, NULL);
	if (!rc)
		rc = comb_xdp_run(f.xdp, pkt, sizeof(pkt), res);
	if (!rc && (res->len != sizeof(pkt) || memcmp(res->data, pkt, sizeof(pkt))))
		rc = -EIO;
	fixture_close(&f);
	return rc;
}

TEST(xdp_runner_verdicts)
{
	for (size_t e = 0; e < ENGINE_COUNT; e++) {
		for (int32_t v = 0; v <= 4; v++) {
			struct comb_xdp_result res;
			CHECK_EQ(run_constant(v, xdp_engines[e], &res), 0);
			CHECK_EQ(res.action, (uint32_t)v);
			CHECK_EQ(res.retval, (uint64_t)v);
			CHECK(comb_xdp_action_name(res.action) != NULL);
		}
	}
	CHECK_STR(comb_xdp_action_name(COMB_XDP_REDIRECT), "REDIRECT");
	CHECK(comb_xdp_action_name(5) == NULL);
}

TEST(xdp_runner_unknown_action_is_aborted)
{
	const int32_t values[] = { 5, 99, -1 };
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		struct comb_xdp_result res;
		CHECK_EQ(run_constant(values[i], COMB_ENGINE_CHECKED, &res), 0);
		CHECK_EQ(res.action, (uint32_t)COMB_XDP_ABORTED);
		CHECK_EQ(res.retval, (uint64_t)(int64_t)values[i]);
	}
}

TEST(xdp_runner_packet_sizes)
{
	struct comb_insn prog[] = { MOV64_IMM(0, COMB_XDP_PASS), EXIT() };
	struct xdp_fixture f;
	CHECK_EQ(fixture_open(&f, prog, ARRAY_SIZE(prog), NULL, 0, COMB_ENGINE_CHECKED, NULL), 0);
	uint8_t *big = malloc(65536);
	CHECK(big != NULL);
	test_packet(big, 65536);
	struct comb_xdp_result res;
	CHECK_EQ(comb_xdp_run(f.xdp, big, 13, &res), -EINVAL);
	CHECK(strstr(res.error.message, "13 bytes") != NULL);
	CHECK_EQ(comb_xdp_run(f.xdp, big, 65536, &res), -EINVAL);
	CHECK_EQ(comb_xdp_run(f.xdp, NULL, 0, &res), -EINVAL);
	const size_t ok[] = { 14, 3520, 3521, 9000, 65535, 60 };
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		CHECK_EQ(comb_xdp_run(f.xdp, big, ok[i], &res), 0);
		CHECK_EQ(res.action, (uint32_t)COMB_XDP_PASS);
		CHECK_EQ(res.len, ok[i]);
		CHECK_EQ(res.meta_len, (size_t)0);
		CHECK(memcmp(res.data, big, ok[i]) == 0);
	}
	free(big);
	fixture_close(&f);
	CHECK_EQ(comb_xdp_new(NULL, NULL, &f.xdp), -EINVAL);
}

/* adjust_head(-16) then adjust_meta(-8): the frame has 256 bytes of headroom. */
TEST(xdp_runner_head_and_meta_show_in_result)
{
	struct comb_insn prog[] = {
		MOV64_REG(6, 1), MOV64_IMM(2, -16), CALL_HELPER(44), ASSERT_REG_EQ(0, 0, 10),
		MOV64_REG(1, 6), MOV64_IMM(2, -8), CALL_HELPER(54), ASSERT_REG_EQ(0, 0, 11),
		MOV64_REG(1, 6), MOV64_IMM(2, -300), CALL_HELPER(44), ASSERT_REG_EQ(0, -EINVAL, 12),
		MOV64_IMM(0, COMB_XDP_TX), EXIT(),
	};
	for (size_t e = 0; e < ENGINE_COUNT; e++) {
		struct xdp_fixture f;
		uint8_t pkt[100];
		test_packet(pkt, sizeof(pkt));
		CHECK_EQ(fixture_open(&f, prog, ARRAY_SIZE(prog), NULL, 0, xdp_engines[e], NULL), 0);
		struct comb_xdp_result res;
		CHECK_EQ(comb_xdp_run(f.xdp, pkt, sizeof(pkt), &res), 0);
		CHECK_EQ(res.retval, (uint64_t)COMB_XDP_TX);
		CHECK_EQ(res.len, sizeof(pkt) + 16);
		CHECK_EQ(res.meta_len, (size_t)8);
		CHECK(memcmp(res.data + 16, pkt, sizeof(pkt)) == 0);
		fixture_close(&f);
	}
}

/* ---- redirects -------------------------------------------------------------- */

static int run_redirect_map(struct comb_map *map, uint32_t key, int32_t flags, enum comb_engine engine,
			    struct comb_xdp_result *res)
{
	struct comb_insn prog[] = {
		LDDW_MAP(1, 0), MOV64_IMM(2, (int32_t)key), MOV64_IMM(3, flags), CALL_HELPER(51), EXIT(),
	};
	struct xdp_fixture f;
	uint8_t pkt[60];
	test_packet(pkt, sizeof(pkt));
	int rc = fixture_open(&f, prog, ARRAY_SIZE(prog), &map, 1, engine, NULL);
	if (!rc)
		rc = comb_xdp_run(f.xdp, pkt, sizeof(pkt), res);
	fixture_close(&f);
	return rc;
}

TEST(xdp_redirect_ifindex)
{
	struct comb_insn prog[] = { MOV64_IMM(1, 7), MOV64_IMM(2, 0), CALL_HELPER(23), EXIT() };
	struct comb_insn flagged[] = { MOV64_IMM(1, 7), MOV64_IMM(2, 1), CALL_HELPER(23), EXIT() };
	struct comb_insn no_call[] = { MOV64_IMM(0, COMB_XDP_REDIRECT), EXIT() };
	struct xdp_fixture f;
	struct comb_xdp_result res;
	uint8_t pkt[60];
	test_packet(pkt, sizeof(pkt));
	for (size_t e = 0; e < ENGINE_COUNT; e++) {
		CHECK_EQ(fixture_open(&f, prog, ARRAY_SIZE(prog), NULL, 0, xdp_engines[e], NULL), 0);
		CHECK_EQ(comb_xdp_run(f.xdp, pkt, sizeof(pkt), &res), 0);
		CHECK_EQ(res.action, (uint32_t)COMB_XDP_REDIRECT);
		CHECK_EQ(res.target.kind, COMB_XDP_TARGET_IFINDEX);
		CHECK_EQ(res.target.ifindex, 7u);
		fixture_close(&f);
	}
	CHECK_EQ(fixture_open(&f, flagged, ARRAY_SIZE(flagged), NULL, 0, COMB_ENGINE_CHECKED, NULL), 0);
	CHECK_EQ(comb_xdp_run(f.xdp, pkt, sizeof(pkt), &res), 0);
	CHECK_EQ(res.action, (uint32_t)COMB_XDP_ABORTED);
	CHECK_EQ(res.target.kind, COMB_XDP_TARGET_NONE);
	fixture_close(&f);
	CHECK_EQ(fixture_open(&f, no_call, ARRAY_SIZE(no_call), NULL, 0, COMB_ENGINE_CHECKED, NULL), 0);
	CHECK_EQ(comb_xdp_run(f.xdp, pkt, sizeof(pkt), &res), 0);
	CHECK_EQ(res.action, (uint32_t)COMB_XDP_REDIRECT);
	CHECK_EQ(res.target.kind, COMB_XDP_TARGET_NONE);
	fixture_close(&f);
}

TEST(xdp_redirect_devmap)
{
	struct comb_map *devs = new_map(COMB_MAP_DEVMAP, 4, 4, 8);
	CHECK(devs != NULL);
	uint32_t key = 3, ifindex = 9;
	CHECK_EQ(comb_map_update(devs, &key, &ifindex, 0), 0);
	struct comb_xdp_result res;
	for (size_t e = 0; e < ENGINE_COUNT; e++) {
		CHECK_EQ(run_redirect_map(devs, 3, 0, xdp_engines[e], &res), 0);
		CHECK_EQ(res.action, (uint32_t)COMB_XDP_REDIRECT);
		CHECK_EQ(res.target.kind, COMB_XDP_TARGET_DEVMAP);
		CHECK_EQ(res.target.ifindex, 9u);
		CHECK_EQ(res.target.key, 3u);
		CHECK(res.target.map == devs);
		CHECK_EQ(res.target.flags, 0ull);
	}
	CHECK_EQ(run_redirect_map(devs, 2, COMB_XDP_PASS, COMB_ENGINE_CHECKED, &res), 0);
	CHECK_EQ(res.action, (uint32_t)COMB_XDP_PASS);
	CHECK_EQ(run_redirect_map(devs, 100, COMB_XDP_TX, COMB_ENGINE_CHECKED, &res), 0);
	CHECK_EQ(res.action, (uint32_t)COMB_XDP_TX);
	CHECK_EQ(run_redirect_map(devs, 2, 4, COMB_ENGINE_CHECKED, &res), 0);
	CHECK_EQ(res.action, (uint32_t)COMB_XDP_ABORTED);
	/* Broadcast: REDIRECT even for a missing key; the flags go to the caller. */
	CHECK_EQ(run_redirect_map(devs, 2, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS, COMB_ENGINE_CHECKED, &res), 0);
	CHECK_EQ(res.action, (uint32_t)COMB_XDP_REDIRECT);
	CHECK_EQ(res.target.kind, COMB_XDP_TARGET_DEVMAP);
	CHECK_EQ(res.target.flags, (uint64_t)(BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS));
	comb_map_free(devs);

	struct comb_map *hash = new_map(COMB_MAP_DEVMAP_HASH, 4, 8, 8);
	CHECK(hash != NULL);
	struct bpf_devmap_val val = { .ifindex = 11 };
	key = 42;
	CHECK_EQ(comb_map_update(hash, &key, &val, 0), 0);
	CHECK_EQ(run_redirect_map(hash, 42, 0, COMB_ENGINE_JIT, &res), 0);
	CHECK_EQ(res.target.kind, COMB_XDP_TARGET_DEVMAP);
	CHECK_EQ(res.target.ifindex, 11u);
	CHECK_EQ(run_redirect_map(hash, 43, COMB_XDP_DROP, COMB_ENGINE_JIT, &res), 0);
	CHECK_EQ(res.action, (uint32_t)COMB_XDP_DROP);
	comb_map_free(hash);
}

TEST(xdp_redirect_cpumap_xskmap)
{
	struct comb_map *cpus = new_map(COMB_MAP_CPUMAP, 4, 4, 4);
	struct comb_map *xsks = new_map(COMB_MAP_XSKMAP, 4, 4, 4);
	CHECK(cpus && xsks);
	uint32_t key = 1, qsize = 64, fd = 5;
	CHECK_EQ(comb_map_update(cpus, &key, &qsize, 0), 0);
	key = 0;
	CHECK_EQ(comb_map_update(xsks, &key, &fd, 0), 0);
	struct comb_xdp_result res;
	CHECK_EQ(run_redirect_map(cpus, 1, 0, COMB_ENGINE_CHECKED, &res), 0);
	CHECK_EQ(res.action, (uint32_t)COMB_XDP_REDIRECT);
	CHECK_EQ(res.target.kind, COMB_XDP_TARGET_CPUMAP);
	CHECK_EQ(res.target.key, 1u);
	CHECK_EQ(run_redirect_map(cpus, 0, COMB_XDP_PASS, COMB_ENGINE_CHECKED, &res), 0);
	CHECK_EQ(res.action, (uint32_t)COMB_XDP_PASS);
	CHECK_EQ(run_redirect_map(cpus, 1, BPF_F_BROADCAST, COMB_ENGINE_CHECKED, &res), 0);
	CHECK_EQ(res.action, (uint32_t)COMB_XDP_ABORTED);
	CHECK_EQ(run_redirect_map(xsks, 0, 0, COMB_ENGINE_INTERP, &res), 0);
	CHECK_EQ(res.action, (uint32_t)COMB_XDP_REDIRECT);
	CHECK_EQ(res.target.kind, COMB_XDP_TARGET_XSKMAP);
	CHECK_EQ(res.target.key, 0u);
	CHECK_EQ(run_redirect_map(xsks, 1, 0, COMB_ENGINE_INTERP, &res), 0);
	CHECK_EQ(res.action, (uint32_t)COMB_XDP_ABORTED);
	CHECK_EQ(res.target.kind, COMB_XDP_TARGET_NONE);
	comb_map_free(cpus);
	comb_map_free(xsks);
}

/* ---- route table ------------------------------------------------------------- */

static const char routes_text[] =
	"# test routes\n"
	"10.0.0.0/8 dev 2 via 192.168.1.1 smac 02:00:00:00:00:01 dmac 02:00:00:00:00:fe\n"
	"10.1.0.0/16 dev 3 dmac 02:00:00:00:01:fe mtu 1400   # more specific\n"
	"192.168.1.0/24 dev 2\n"
	"2001:db8::/32 dev 4 via fe80::1 dmac 02:00:00:00:04:fe\n"
	"\n"
	"172.16.0.0/12 dev 5 via 2001:db8::99 dmac 02:00:00:00:05:fe\n";

/* r1 = ctx, r2 = the array map's value 0 (a struct bpf_fib_lookup), r3 =
 * plen, r4 = flags; returns bpf_fib_lookup's value. */
static int run_fib(const struct comb_fib *fib, struct bpf_fib_lookup *params, int32_t plen, int32_t flags,
		   enum comb_engine engine, int64_t *ret)
{
	struct comb_map *map = new_map(COMB_MAP_ARRAY, 4, sizeof(*params), 1);
	uint32_t zero = 0;
	if (!map || comb_map_update(map, &zero, params, 0))
		return -ENOMEM;
	struct comb_insn prog[] = {
		MOV64_REG(6, 1), ST_MEM(COMB_SIZE_W, 10, -4, 0), LDDW_MAP(1, 0), MOV64_REG(2, 10),
		ALU64_IMM(COMB_ALU_ADD, 2, -4), CALL_HELPER(1), JMP_IMM(COMB_JMP_JNE, 0, 0, 2),
		MOV64_IMM(0, -1000), EXIT(),
		MOV64_REG(2, 0), MOV64_REG(1, 6), MOV64_IMM(3, plen), MOV64_IMM(4, flags), CALL_HELPER(69), EXIT(),
	};
	struct xdp_fixture f;
	uint8_t pkt[60];
	test_packet(pkt, sizeof(pkt));
	struct comb_xdp_result res;
	int rc = fixture_open(&f, prog, ARRAY_SIZE(prog), &map, 1, engine, fib);
	if (!rc)
		rc = comb_xdp_run(f.xdp, pkt, sizeof(pkt), &res);
	if (!rc) {
		*ret = (int64_t)res.retval;
		rc = comb_map_lookup(map, &zero, params);
	}
	fixture_close(&f);
	comb_map_free(map);
	return rc;
}

static struct bpf_fib_lookup v4_params(const char *dst, uint16_t tot_len)
{
	struct bpf_fib_lookup p = { .family = AF_INET, .ifindex = 1, .tot_len = tot_len };
	inet_pton(AF_INET, dst, &p.ipv4_dst);
	return p;
}

static struct bpf_fib_lookup v6_params(const char *dst)
{
	struct bpf_fib_lookup p = { .family = AF_INET6, .ifindex = 1, .tot_len = 100 };
	inet_pton(AF_INET6, dst, p.ipv6_dst);
	return p;
}

static bool addr_is(int family, const void *addr, const char *text)
{
	uint8_t want[16];
	inet_pton(family, text, want);
	return memcmp(addr, want, family == AF_INET ? 4 : 16) == 0;
}

TEST(xdp_fib_lookup_ipv4)
{
	struct comb_fib *fib = NULL;
	char err[256];
	CHECK_EQ(comb_fib_parse(routes_text, strlen(routes_text), &fib, err, sizeof(err)), 0);
	for (size_t e = 0; e < ENGINE_COUNT; e++) {
		int64_t ret = -1;
		struct bpf_fib_lookup p = v4_params("10.2.3.4", 100);
		CHECK_EQ(run_fib(fib, &p, sizeof(p), 0, xdp_engines[e], &ret), 0);
		CHECK_EQ(ret, (int64_t)BPF_FIB_LKUP_RET_SUCCESS);
		CHECK_EQ(p.ifindex, 2u);
		CHECK(addr_is(AF_INET, &p.ipv4_dst, "192.168.1.1"));
		CHECK_EQ(p.dmac[5], 0xfe);
		CHECK_EQ(p.smac[5], 0x01);
		CHECK_EQ(p.mtu_result, 1500);
		/* The longer prefix wins; no gateway keeps the destination. */
		p = v4_params("10.1.9.9", 100);
		CHECK_EQ(run_fib(fib, &p, sizeof(p), BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_OUTPUT, xdp_engines[e], &ret), 0);
		CHECK_EQ(ret, (int64_t)BPF_FIB_LKUP_RET_SUCCESS);
		CHECK_EQ(p.ifindex, 3u);
		CHECK(addr_is(AF_INET, &p.ipv4_dst, "10.1.9.9"));
		CHECK_EQ(p.mtu_result, 1400);
	}
	int64_t ret = -1;
	struct bpf_fib_lookup p = v4_params("10.1.9.9", 1401);
	CHECK_EQ(run_fib(fib, &p, sizeof(p), 0, COMB_ENGINE_CHECKED, &ret), 0);
	CHECK_EQ(ret, (int64_t)BPF_FIB_LKUP_RET_FRAG_NEEDED);
	CHECK_EQ(p.mtu_result, 1400);
	CHECK_EQ(p.ifindex, 1u);
	p = v4_params("192.168.1.7", 60);
	CHECK_EQ(run_fib(fib, &p, sizeof(p), 0, COMB_ENGINE_CHECKED, &ret), 0);
	CHECK_EQ(ret, (int64_t)BPF_FIB_LKUP_RET_NO_NEIGH);
	CHECK_EQ(p.ifindex, 2u);
	p = v4_params("192.168.1.7", 60);
	CHECK_EQ(run_fib(fib, &p, sizeof(p), BPF_FIB_LOOKUP_SKIP_NEIGH, COMB_ENGINE_CHECKED, &ret), 0);
	CHECK_EQ(ret, (int64_t)BPF_FIB_LKUP_RET_SUCCESS);
	p = v4_params("8.8.8.8", 60);
	CHECK_EQ(run_fib(fib, &p, sizeof(p), 0, COMB_ENGINE_CHECKED, &ret), 0);
	CHECK_EQ(ret, (int64_t)BPF_FIB_LKUP_RET_NOT_FWDED);
	/* An IPv4 route via an IPv6 gateway turns the answer into IPv6. */
	p = v4_params("172.16.5.5", 60);
	CHECK_EQ(run_fib(fib, &p, sizeof(p), 0, COMB_ENGINE_CHECKED, &ret), 0);
	CHECK_EQ(ret, (int64_t)BPF_FIB_LKUP_RET_SUCCESS);
	CHECK_EQ(p.family, AF_INET6);
	CHECK(addr_is(AF_INET6, p.ipv6_dst, "2001:db8::99"));
	/* Argument checks. */
	p = v4_params("10.2.3.4", 100);
	CHECK_EQ(run_fib(fib, &p, sizeof(p) - 1, 0, COMB_ENGINE_CHECKED, &ret), 0);
	CHECK_EQ(ret, (int64_t)-EINVAL);
	CHECK_EQ(run_fib(fib, &p, sizeof(p), 1 << 6, COMB_ENGINE_CHECKED, &ret), 0);
	CHECK_EQ(ret, (int64_t)-EINVAL);
	p.family = 7;
	CHECK_EQ(run_fib(fib, &p, sizeof(p), 0, COMB_ENGINE_CHECKED, &ret), 0);
	CHECK_EQ(ret, (int64_t)-EAFNOSUPPORT);
	/* Without a table every lookup is NOT_FWDED. */
	p = v4_params("10.2.3.4", 100);
	CHECK_EQ(run_fib(NULL, &p, sizeof(p), 0, COMB_ENGINE_CHECKED, &ret), 0);
	CHECK_EQ(ret, (int64_t)BPF_FIB_LKUP_RET_NOT_FWDED);
	comb_fib_free(fib);
}

TEST(xdp_fib_lookup_ipv6)
{
	struct comb_fib *fib = NULL;
	char err[256];
	CHECK_EQ(comb_fib_parse(routes_text, strlen(routes_text), &fib, err, sizeof(err)), 0);
	int64_t ret = -1;
	struct bpf_fib_lookup p = v6_params("2001:db8:1::5");
	CHECK_EQ(run_fib(fib, &p, sizeof(p), 0, COMB_ENGINE_JIT, &ret), 0);
	CHECK_EQ(ret, (int64_t)BPF_FIB_LKUP_RET_SUCCESS);
	CHECK_EQ(p.ifindex, 4u);
	CHECK_EQ(p.family, AF_INET6);
	CHECK(addr_is(AF_INET6, p.ipv6_dst, "fe80::1"));
	CHECK_EQ(p.dmac[4], 0x04);
	const char *not_forwarded[] = { "fe80::5", "ff02::1", "::1", "2001:db9::1" };
	for (size_t i = 0; i < ARRAY_SIZE(not_forwarded); i++) {
		p = v6_params(not_forwarded[i]);
		CHECK_EQ(run_fib(fib, &p, sizeof(p), 0, COMB_ENGINE_CHECKED, &ret), 0);
		CHECK_EQ(ret, (int64_t)BPF_FIB_LKUP_RET_NOT_FWDED);
	}
	comb_fib_free(fib);
	/* default without a gateway covers both families. */
	const char *text = "default dev 9 dmac 02:00:00:00:00:09\n";
	CHECK_EQ(comb_fib_parse(text, strlen(text), &fib, err, sizeof(err)), 0);
	p = v6_params("2a00::1");
	CHECK_EQ(run_fib(fib, &p, sizeof(p), 0, COMB_ENGINE_CHECKED, &ret), 0);
	CHECK_EQ(ret, (int64_t)BPF_FIB_LKUP_RET_SUCCESS);
	CHECK_EQ(p.ifindex, 9u);
	p = v4_params("1.2.3.4", 60);
	CHECK_EQ(run_fib(fib, &p, sizeof(p), 0, COMB_ENGINE_CHECKED, &ret), 0);
	CHECK_EQ(ret, (int64_t)BPF_FIB_LKUP_RET_SUCCESS);
	comb_fib_free(fib);
}

/* Each bad table must fail with -EINVAL and a message naming its line. */
TEST(xdp_fib_parse_errors)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "10.0.0.0/8 dev 2\n\n10.0.0.0/33 dev 1\n", "line 3: bad prefix length" },
		{ "10.0.0.1/8 dev 2\n", "line 1: prefix 10.0.0.1/8 has bits set" },
		{ "# c\n10.0.0.0/8 via 1.2.3.4\n", "line 2: the route has no 'dev IFINDEX'" },
		{ "10.0.0.0/8 dev 2 colour red\n", "line 1: unknown word 'colour'" },
		{ "10.0.0.0/8 dev 2\n10.0.0.0/8 dev 3\n", "line 2: the prefix was already given a route" },
		{ "10.0.0.0/8 dev 0\n", "line 1: dev '0'" },
		{ "10.0.0.0/8 dev 2 dmac 1:2:3\n", "line 1: dmac '1:2:3'" },
		{ "10.0.0.0/8 dev 2 mtu 20\n", "line 1: mtu '20'" },
		{ "2001:db8::/32 dev 2 via 10.0.0.1\n", "line 1: an IPv6 route cannot have an IPv4 gateway" },
		{ "banana dev 2\n", "line 1: 'banana' is not an IPv4 or IPv6 prefix" },
		{ "10.0.0.0/8 dev\n", "line 1: 'dev' needs a value" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct comb_fib *fib = (struct comb_fib *)1;
		char err[256] = "";
		CHECK_EQ(comb_fib_parse(bad[i].text, strlen(bad[i].text), &fib, err, sizeof(err)), -EINVAL);
		CHECK(fib == NULL);
		if (!strstr(err, bad[i].want))
			fprintf(stderr, "  got '%s', want '%s'\n", err, bad[i].want);
		CHECK(strstr(err, bad[i].want) != NULL);
	}
	struct comb_fib *fib = NULL;
	char err[256] = "";
	CHECK_EQ(comb_fib_load("/nonexistent/routes.txt", &fib, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "/nonexistent/routes.txt") != NULL);
	CHECK_EQ(comb_fib_parse("", 0, &fib, err, sizeof(err)), 0);
	comb_fib_free(fib);
}

TEST(xdp_fib_load_file)
{
	char path[] = "/tmp/comb-fib-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	const char *text = "10.0.0.0/8 dev 2\nfoo\n";
	CHECK_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct comb_fib *fib = NULL;
	char err[256] = "";
	CHECK_EQ(comb_fib_load(path, &fib, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, path) != NULL && strstr(err, "line 2") != NULL);
	unlink(path);
}
