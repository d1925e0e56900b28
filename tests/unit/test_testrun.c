/* tests/unit/test_testrun.c - comb_prog_test_run() builds the contexts the
 * kernel's BPF_PROG_TEST_RUN builds.
 *
 * The expected values were read from the kernel itself (a program returning
 * one context field per run, for each program type): on a 60-byte IPv4
 * frame to a unicast address, socket filters and cgroup_skb see len 46 (the
 * Ethernet header pulled), tc programs 60; protocol is htons(ETH_P_IP) (8 as
 * a little-endian u32), ifindex 1, pkt_type 3 (PACKET_OTHERHOST); XDP sees
 * the whole frame with ingress_ifindex 1. An XDP program that rewrites the
 * packet through ctx->data must have its change in data_out, in both engines.
 */
#include <errno.h>
#include <stddef.h>
#include <linux/bpf.h>
#include "../test.h"
#include "comb/testrun.h"
#include "comb/vm.h"
#include "insn_build.h"

struct tr_case {
	uint32_t prog_type;
	enum comb_engine engine;
	uint8_t *out;
	size_t out_cap;
	const void *ctx_in;
	size_t ctx_size;
	const uint8_t *packet;
	size_t packet_len;
};

static int test_run(const struct comb_insn *insns, size_t count, struct tr_case *c,
		    struct comb_test_run_opts *o)
{
	struct comb_vm *vm = NULL;
	struct comb_prog *prog = NULL;
	char err[256] = "";
	if (comb_vm_new(NULL, &vm))
		return -1000;
	struct comb_prog_opts po = { .sz = sizeof(po), .name = "tr", .prog_type = c->prog_type };
	if (comb_prog_load(vm, insns, count, &po, &prog, err, sizeof(err))) {
		fprintf(stderr, "  load failed: %s\n", err);
		comb_vm_free(vm);
		return -1000;
	}
	*o = (struct comb_test_run_opts){
		.sz = sizeof(*o), .prog_type = c->prog_type, .engine = c->engine,
		.data_in = c->packet, .data_size_in = c->packet_len, .data_out = c->out,
		.data_size_out = c->out_cap, .ctx_in = c->ctx_in, .ctx_size_in = c->ctx_size,
	};
	int rc = comb_prog_test_run(prog, o);
	comb_prog_free(prog);
	comb_vm_free(vm);
	return rc;
}

static uint8_t frame[60] = {
	0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00, /* Ethernet, IPv4 */
	0x45, 0, 0, 46, /* start of the IP header */
};

/* r0 = the u32 context field at off */
static uint64_t field(uint32_t type, enum comb_engine engine, int16_t off, int *rc)
{
	struct comb_insn prog[] = { LDX_MEM(COMB_SIZE_W, 0, 1, off), EXIT() };
	struct tr_case c = { .prog_type = type, .engine = engine, .packet = frame, .packet_len = sizeof(frame) };
	struct comb_test_run_opts o;
	*rc = test_run(prog, ARRAY_SIZE(prog), &c, &o);
	return o.retval;
}

/* r0 = data_end - data */
static uint64_t data_span(uint32_t type, enum comb_engine engine, int16_t data_off, int16_t end_off)
{
	struct comb_insn prog[] = {
		LDX_MEM(COMB_SIZE_W, 2, 1, data_off), LDX_MEM(COMB_SIZE_W, 0, 1, end_off),
		ALU64_REG(COMB_ALU_SUB, 0, 2), EXIT(),
	};
	struct tr_case c = { .prog_type = type, .engine = engine, .packet = frame, .packet_len = sizeof(frame) };
	struct comb_test_run_opts o;
	int rc = test_run(prog, ARRAY_SIZE(prog), &c, &o);
	return rc ? (uint64_t)rc : o.retval;
}

TEST(testrun_skb_context_matches_kernel)
{
	static const struct { uint32_t type, len, span; } types[] = {
		{ 1, 46, 46 }, { 3, 60, 60 }, { 4, 60, 60 }, { 8, 46, 46 },
	};
	enum comb_engine engines[] = { COMB_ENGINE_INTERP, COMB_ENGINE_CHECKED };
	for (size_t e = 0; e < 2; e++) {
		for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
			int rc;
			uint32_t type = types[t].type;
			CHECK_EQ(field(type, engines[e], offsetof(struct __sk_buff, len), &rc), types[t].len);
			CHECK_EQ(rc, 0);
			CHECK_EQ(field(type, engines[e], offsetof(struct __sk_buff, protocol), &rc), 8);
			CHECK_EQ(field(type, engines[e], offsetof(struct __sk_buff, ifindex), &rc), 1);
			CHECK_EQ(field(type, engines[e], offsetof(struct __sk_buff, pkt_type), &rc), 3);
			CHECK_EQ(data_span(type, engines[e], offsetof(struct __sk_buff, data),
					   offsetof(struct __sk_buff, data_end)), types[t].span);
		}
	}
}

TEST(testrun_socket_filter_ld_abs_starts_at_network_header)
{
	struct comb_insn prog[] = { LD_ABS(COMB_SIZE_B, 0), EXIT() };
	struct tr_case c = { .prog_type = 1, .engine = COMB_ENGINE_CHECKED, .packet = frame,
			     .packet_len = sizeof(frame) };
	struct comb_test_run_opts o;
	CHECK_EQ(test_run(prog, ARRAY_SIZE(prog), &c, &o), 0);
	CHECK_EQ(o.retval, 0x45);
}

TEST(testrun_xdp_writes_packet_to_data_out)
{
	struct comb_insn prog[] = {
		LDX_MEM(COMB_SIZE_W, 2, 1, offsetof(struct xdp_md, data)),
		LDX_MEM(COMB_SIZE_W, 3, 1, offsetof(struct xdp_md, data_end)),
		MOV64_REG(4, 2), ALU64_IMM(COMB_ALU_ADD, 4, 14),
		JMP_REG(COMB_JMP_JGT, 4, 3, 6),
		LDX_MEM(COMB_SIZE_B, 5, 2, 12),       /* EtherType high byte: 0x08 */
		ALU64_IMM(COMB_ALU_ADD, 5, 0x40),
		STX_MEM(COMB_SIZE_B, 2, 5, 0),        /* first byte := 0x48 */
		MOV64_REG(0, 3), ALU64_REG(COMB_ALU_SUB, 0, 2),
		EXIT(),
		MOV64_IMM(0, 1), EXIT(),
	};
	enum comb_engine engines[] = { COMB_ENGINE_INTERP, COMB_ENGINE_CHECKED };
	for (size_t e = 0; e < 2; e++) {
		uint8_t out[128] = { 0 };
		struct tr_case c = { .prog_type = 6, .engine = engines[e], .packet = frame,
				     .packet_len = sizeof(frame), .out = out, .out_cap = sizeof(out) };
		struct comb_test_run_opts o;
		CHECK_EQ(test_run(prog, ARRAY_SIZE(prog), &c, &o), 0);
		CHECK_EQ(o.retval, sizeof(frame));
		CHECK_EQ(o.data_size_out, sizeof(frame));
		CHECK_EQ(out[0], 0x48);
		CHECK_EQ(memcmp(out + 1, frame + 1, sizeof(frame) - 1), 0);
		CHECK_EQ(frame[0], 0x02); /* the input is a copy */
		int rc;
		CHECK_EQ(field(6, engines[e], offsetof(struct xdp_md, ingress_ifindex), &rc), 1);
		CHECK_EQ(data_span(6, engines[e], offsetof(struct xdp_md, data_meta),
				   offsetof(struct xdp_md, data)), 0);
	}
}

TEST(testrun_checked_engine_stops_access_past_data_end)
{
	struct comb_insn prog[] = {
		LDX_MEM(COMB_SIZE_W, 3, 1, offsetof(struct xdp_md, data_end)),
		LDX_MEM(COMB_SIZE_B, 0, 3, 0), EXIT(),
	};
	struct tr_case c = { .prog_type = 6, .engine = COMB_ENGINE_CHECKED, .packet = frame,
			     .packet_len = sizeof(frame) };
	struct comb_test_run_opts o;
	CHECK_EQ(test_run(prog, ARRAY_SIZE(prog), &c, &o), -EFAULT);
	CHECK_EQ(o.error.insn, 1);
}

TEST(testrun_bad_inputs_and_small_data_out)
{
	struct comb_insn prog[] = { MOV64_IMM(0, 2), EXIT() };
	struct tr_case c = { .prog_type = 6, .packet = frame, .packet_len = 10 };
	struct comb_test_run_opts o;
	CHECK_EQ(test_run(prog, ARRAY_SIZE(prog), &c, &o), -EINVAL);
	c.prog_type = 9; /* lwt_in */
	c.packet_len = sizeof(frame);
	CHECK_EQ(test_run(prog, ARRAY_SIZE(prog), &c, &o), -ENOTSUP);
	CHECK(strstr(o.error.message, "type 9") != NULL);
	uint8_t out[20];
	c = (struct tr_case){ .prog_type = 3, .packet = frame, .packet_len = sizeof(frame), .out = out,
			      .out_cap = sizeof(out) };
	CHECK_EQ(test_run(prog, ARRAY_SIZE(prog), &c, &o), -ENOSPC);
	CHECK_EQ(o.data_size_out, sizeof(frame));
	CHECK_EQ(memcmp(out, frame, sizeof(out)), 0);
}

TEST(testrun_plain_context_and_repeat)
{
	uint64_t ctx[2] = { 5, 37 };
	struct comb_insn prog[] = {
		LDX_MEM(COMB_SIZE_DW, 0, 1, 8), ALU64_IMM(COMB_ALU_ADD, 0, 1),
		STX_MEM(COMB_SIZE_DW, 1, 0, 8), EXIT(),
	};
	struct tr_case c = { .prog_type = 17, .engine = COMB_ENGINE_CHECKED, .ctx_in = ctx,
			     .ctx_size = sizeof(ctx) };
	struct comb_test_run_opts o;
	CHECK_EQ(test_run(prog, ARRAY_SIZE(prog), &c, &o), 0);
	CHECK_EQ(o.retval, 38);
	CHECK_EQ(ctx[1], 37); /* the caller's context is copied */
	c.packet = frame;
	c.packet_len = sizeof(frame);
	CHECK_EQ(test_run(prog, ARRAY_SIZE(prog), &c, &o), -EINVAL);
}
