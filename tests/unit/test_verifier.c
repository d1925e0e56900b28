/* tests/unit/test_verifier.c - comb_verify on small hand-built programs.
 *
 * Verdicts on compiled programs are compared with the kernel's by
 * tests/kernel/kernel_verdicts.c; these tests pin down what the kernel
 * comparison cannot: the wording of rejections (index, disassembly, fix),
 * strict mode (uninitialized stack, pointer leaks), the log, refinement
 * through NULL tests and packet comparisons, pruning and the budget.
 */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>

#include "../test.h"
#include "insn_build.h"
#include "comb/map.h"
#include "comb/verifier.h"

static struct comb_verify_result res;

static int verify_(const struct comb_insn *insns, size_t n, uint32_t type, uint32_t flags,
		   struct comb_map *const *maps, size_t nmaps)
{
	struct comb_verify_opts o = { .sz = sizeof(o), .prog_type = type, .flags = flags,
				      .maps = maps, .map_count = nmaps };
	return comb_verify(insns, n, &o, &res);
}
#define VERIFY(p, type) verify_(p, ARRAY_SIZE(p), type, 0, NULL, 0)

static struct comb_map *array_map(uint32_t type, uint32_t value_size)
{
	struct comb_map_def def = { .sz = sizeof(def), .type = type, .key_size = 4,
				    .value_size = value_size, .max_entries = 4, .name = "vals" };
	struct comb_map *m = NULL;
	char err[128];
	if (comb_map_create(&def, &m, err, sizeof(err)))
		return NULL;
	return m;
}

TEST(verifier_accepts_return_constant)
{
	struct comb_insn p[] = { MOV64_IMM(0, 2), EXIT() };
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), 0);
	CHECK(res.ok);
	CHECK_EQ(res.insns_processed, 2);
	CHECK_EQ(res.error_insn, -1);
}

TEST(verifier_uninitialized_r0_names_insn_and_fix)
{
	struct comb_insn p[] = { MOV64_IMM(1, 0), EXIT() };
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), -EACCES);
	CHECK(!res.ok);
	CHECK_EQ(res.error_insn, 1);
	CHECK(strncmp(res.message, "insn 1: exit: r0 is read before", 31) == 0);
}

TEST(verifier_null_check_required_and_sufficient)
{
	struct comb_map *m = array_map(BPF_MAP_TYPE_HASH, 8);
	CHECK(m != NULL);
	/* r2 = fp-4 holds an unknown key: the lookup may fail. */
	struct comb_insn bad[] = {
		LDX_MEM(COMB_SIZE_W, 3, 1, 0), STX_MEM(COMB_SIZE_W, 10, 3, -4),
		INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, 1, COMB_PSEUDO_MAP_IDX, 0, 0), INSN(0, 0, 0, 0, 0),
		MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4), CALL_HELPER(1),
		LDX_MEM(COMB_SIZE_DW, 0, 0, 0), EXIT(),
	};
	struct comb_map *maps[] = { m };
	CHECK_EQ(verify_(bad, ARRAY_SIZE(bad), BPF_PROG_TYPE_XDP, 0, maps, 1), -EACCES);
	CHECK(strstr(res.message, "r0 may be NULL here: test the result of bpf_map_lookup_elem") != NULL);
	CHECK_EQ(res.error_insn, 7);
	struct comb_insn good[] = {
		LDX_MEM(COMB_SIZE_W, 3, 1, 0), STX_MEM(COMB_SIZE_W, 10, 3, -4),
		INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, 1, COMB_PSEUDO_MAP_IDX, 0, 0), INSN(0, 0, 0, 0, 0),
		MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4), CALL_HELPER(1),
		MOV64_REG(6, 0), JMP_IMM(COMB_JMP_JEQ, 0, 0, 2),
		LDX_MEM(COMB_SIZE_DW, 0, 6, 0), EXIT(), /* the copy in r6 is non-NULL too */
		MOV64_IMM(0, 0), EXIT(),
	};
	CHECK_EQ(verify_(good, ARRAY_SIZE(good), BPF_PROG_TYPE_XDP, 0, maps, 1), 0);
	/* Reading past the 8-byte value is refused. */
	good[9] = (struct comb_insn)LDX_MEM(COMB_SIZE_DW, 0, 6, 4);
	CHECK_EQ(verify_(good, ARRAY_SIZE(good), BPF_PROG_TYPE_XDP, 0, maps, 1), -EACCES);
	CHECK(strstr(res.message, "8 bytes") != NULL);
	comb_map_free(m);
}

TEST(verifier_packet_range_from_comparison)
{
	struct comb_insn p[] = {
		LDX_MEM(COMB_SIZE_W, 2, 1, 0), LDX_MEM(COMB_SIZE_W, 3, 1, 4),
		MOV64_REG(4, 2), ALU64_IMM(COMB_ALU_ADD, 4, 14),
		JMP_REG(COMB_JMP_JGT, 4, 3, 2),
		LDX_MEM(COMB_SIZE_H, 0, 2, 12), EXIT(),
		MOV64_IMM(0, 1), EXIT(),
	};
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), 0);
	p[5] = (struct comb_insn)LDX_MEM(COMB_SIZE_H, 0, 2, 13);
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), -EACCES);
	CHECK(strstr(res.message, "not proven in bounds") != NULL);
	CHECK(strstr(res.message, "data_end") != NULL);
}

TEST(verifier_strict_mode_uninitialized_stack_and_leaks)
{
	struct comb_insn p[] = { LDX_MEM(COMB_SIZE_DW, 0, 10, -8), EXIT() };
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), 0); /* root kernel: unknown value */
	CHECK_EQ(verify_(p, ARRAY_SIZE(p), BPF_PROG_TYPE_XDP, COMB_VERIFY_STRICT, NULL, 0), -EACCES);
	CHECK(strstr(res.message, "never written") != NULL);
	struct comb_insn leak[] = { MOV64_REG(0, 10), EXIT() };
	CHECK_EQ(VERIFY(leak, BPF_PROG_TYPE_XDP), 0);
	CHECK_EQ(verify_(leak, ARRAY_SIZE(leak), BPF_PROG_TYPE_XDP, COMB_VERIFY_STRICT, NULL, 0), -EACCES);
	CHECK(strstr(res.message, "leak") != NULL);
}

TEST(verifier_spill_keeps_pointer_state)
{
	struct comb_insn p[] = {
		STX_MEM(COMB_SIZE_DW, 10, 1, -16), MOV64_IMM(1, 0),
		LDX_MEM(COMB_SIZE_DW, 2, 10, -16), LDX_MEM(COMB_SIZE_W, 0, 2, 0), EXIT(),
	};
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), 0);
}

TEST(verifier_bounded_loop_and_budget)
{
	struct comb_insn loop[] = {
		MOV64_IMM(0, 0), ALU64_IMM(COMB_ALU_ADD, 0, 1),
		JMP_IMM(COMB_JMP_JLT, 0, 100, -2), EXIT(),
	};
	CHECK_EQ(VERIFY(loop, BPF_PROG_TYPE_XDP), 0);
	CHECK(res.insns_processed >= 200);
	struct comb_insn forever[] = {
		MOV64_IMM(0, 0), ALU64_IMM(COMB_ALU_ADD, 0, 1),
		JMP_IMM(COMB_JMP_JNE, 0, 0, -2), EXIT(),
	};
	struct comb_verify_opts o = { .sz = sizeof(o), .prog_type = BPF_PROG_TYPE_XDP, .max_insns = 5000 };
	CHECK_EQ(comb_verify(forever, ARRAY_SIZE(forever), &o, &res), -E2BIG);
	CHECK(strstr(res.message, "too complex") != NULL);
}

TEST(verifier_unreachable_and_bad_calls)
{
	struct comb_insn dead[] = { MOV64_IMM(0, 0), EXIT(), MOV64_IMM(0, 1), EXIT() };
	CHECK_EQ(VERIFY(dead, BPF_PROG_TYPE_XDP), -EACCES);
	CHECK_EQ(res.error_insn, 2);
	CHECK(strstr(res.message, "unreachable") != NULL);
	struct comb_insn helper[] = { CALL_HELPER(44), EXIT() }; /* xdp_adjust_head, r1 ok */
	CHECK_EQ(VERIFY(helper, BPF_PROG_TYPE_SOCKET_FILTER), -EACCES);
	CHECK(strstr(res.message, "bpf_xdp_adjust_head may not be called") != NULL);
	/* A function calling itself runs out of frames. */
	struct comb_insn rec[] = { CALL_LOCAL(-1), EXIT() };
	CHECK_EQ(VERIFY(rec, BPF_PROG_TYPE_XDP), -EACCES);
}

TEST(verifier_log_level_2_traces_state)
{
	char log[4096];
	struct comb_insn p[] = { MOV64_IMM(0, 7), EXIT() };
	struct comb_verify_opts o = { .sz = sizeof(o), .prog_type = BPF_PROG_TYPE_XDP, .log_level = 2,
				      .log_buf = log, .log_size = sizeof(log) };
	CHECK_EQ(comb_verify(p, ARRAY_SIZE(p), &o, &res), 0);
	CHECK(strstr(log, "0: r0 = 0x7") != NULL);
	CHECK(strstr(log, "r0=7") != NULL);
	CHECK(strstr(log, "verified: 2 instructions processed") != NULL);
}

TEST(verifier_spin_lock_needs_map_btf)
{
	/* A map created without BTF: its bpf_spin_lock cannot be located. */
	struct comb_map *m = array_map(BPF_MAP_TYPE_ARRAY, 16);
	CHECK(m != NULL);
	struct comb_insn p[] = {
		ST_MEM(COMB_SIZE_W, 10, -4, 0),
		INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, 1, COMB_PSEUDO_MAP_IDX, 0, 0), INSN(0, 0, 0, 0, 0),
		MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -4), CALL_HELPER(1),
		JMP_IMM(COMB_JMP_JEQ, 0, 0, 2),
		MOV64_REG(1, 0), CALL_HELPER(BPF_FUNC_spin_lock),
		MOV64_IMM(0, 0), EXIT(),
	};
	struct comb_map *maps[] = { m };
	CHECK_EQ(verify_(p, ARRAY_SIZE(p), BPF_PROG_TYPE_SCHED_CLS, 0, maps, 1), -EACCES);
	CHECK_EQ(res.error_insn, 8);
	CHECK(strstr(res.message, "has no BTF describing its value") != NULL);
	comb_map_free(m);
}

TEST(verifier_dynptr_must_be_initialized)
{
	/* bpf_dynptr_read from 16 stack bytes no helper made a dynptr. */
	struct comb_insn p[] = {
		ST_MEM(COMB_SIZE_DW, 10, -16, 0), ST_MEM(COMB_SIZE_DW, 10, -8, 0),
		MOV64_REG(1, 10), ALU64_IMM(COMB_ALU_ADD, 1, -24), MOV64_IMM(2, 8),
		MOV64_REG(3, 10), ALU64_IMM(COMB_ALU_ADD, 3, -16), MOV64_IMM(4, 0), MOV64_IMM(5, 0),
		CALL_HELPER(BPF_FUNC_dynptr_read), MOV64_IMM(0, 0), EXIT(),
	};
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), -EACCES);
	CHECK_EQ(res.error_insn, 9);
	CHECK(strstr(res.message, "is not an initialized dynptr") != NULL);
}

/* --- precision: scalars compared only where a safety decision used them --- */

TEST(verifier_precision_prunes_counters_no_check_reads)
{
	/* 300 iterations, each adds 1 or 2 at random to r6, which nothing
	 * checks: with every scalar compared the states grow with the number
	 * of distinct sums (past the budget); with precision only the loop
	 * counter r7 (it decides the exit) is compared. */
	struct comb_insn p[] = {
		MOV64_IMM(6, 0), MOV64_IMM(7, 0),
		CALL_HELPER(BPF_FUNC_get_prandom_u32),          /* 2: loop head */
		ALU64_IMM(COMB_ALU_AND, 0, 1),
		JMP_IMM(COMB_JMP_JEQ, 0, 0, 2),
		ALU64_IMM(COMB_ALU_ADD, 6, 1), JA(1),
		ALU64_IMM(COMB_ALU_ADD, 6, 2),
		ALU64_IMM(COMB_ALU_ADD, 7, 1),
		JMP_IMM(COMB_JMP_JLT, 7, 300, -8),
		MOV64_IMM(0, 0), EXIT(),
	};
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), 0);
	CHECK(res.insns_processed < 10000);
}

TEST(verifier_precision_offset_from_join_is_compared)
{
	/* r6 is 0 on the path explored first, 600 on the other; both join at
	 * insn 5 before r6 moves a stack pointer: the join must not prune the
	 * second path, whose access leaves the frame. */
	struct comb_insn p[] = {
		ST_MEM(COMB_SIZE_DW, 10, -8, 0),
		CALL_HELPER(BPF_FUNC_get_prandom_u32),
		MOV64_IMM(6, 600),
		JMP_IMM(COMB_JMP_JGT, 0, 5, 1),
		MOV64_IMM(6, 0),
		MOV64_REG(1, 10),                               /* 5: join */
		ALU64_IMM(COMB_ALU_ADD, 1, -8),
		ALU64_REG(COMB_ALU_ADD, 1, 6),
		LDX_MEM(COMB_SIZE_B, 0, 1, 0),
		MOV64_IMM(0, 0), EXIT(),
	};
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), -EACCES);
	CHECK_EQ(res.error_insn, 8);
	CHECK(strstr(res.message, "outside the 512-byte frame") != NULL);
}

TEST(verifier_precision_follows_spills_to_the_stack)
{
	/* The offset is spilled on each path (0 first, 600 second) and the
	 * paths join with equal registers: the slot decides, so it is precise. */
	struct comb_insn p[] = {
		ST_MEM(COMB_SIZE_DW, 10, -8, 0),
		CALL_HELPER(BPF_FUNC_get_prandom_u32),
		MOV64_IMM(6, 600),
		STX_MEM(COMB_SIZE_DW, 10, 6, -16),
		JMP_IMM(COMB_JMP_JGT, 0, 5, 2),
		MOV64_IMM(6, 0),
		STX_MEM(COMB_SIZE_DW, 10, 6, -16),
		MOV64_IMM(6, 0),                                /* 7: join */
		LDX_MEM(COMB_SIZE_DW, 7, 10, -16),
		MOV64_REG(1, 10), ALU64_IMM(COMB_ALU_ADD, 1, -8),
		ALU64_REG(COMB_ALU_ADD, 1, 7),
		LDX_MEM(COMB_SIZE_B, 0, 1, 0),
		MOV64_IMM(0, 0), EXIT(),
	};
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), -EACCES);
	CHECK_EQ(res.error_insn, 12);
	/* The same with 0 on both paths is safe. */
	p[2] = (struct comb_insn)MOV64_IMM(6, 0);
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), 0);
}

TEST(verifier_precision_branch_decided_by_a_value)
{
	/* `if r6 < 10` is always taken when r6 is 0: the dead path (a load
	 * through a number) is skipped; with r6 600 it runs and is refused. */
	struct comb_insn p[] = {
		CALL_HELPER(BPF_FUNC_get_prandom_u32),
		MOV64_IMM(6, 600),
		JMP_IMM(COMB_JMP_JGT, 0, 5, 1),
		MOV64_IMM(6, 0),
		JMP_IMM(COMB_JMP_JLT, 6, 10, 2),                /* 4: join */
		LDX_MEM(COMB_SIZE_DW, 0, 0, 0),
		EXIT(),
		MOV64_IMM(0, 0), EXIT(),
	};
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), -EACCES);
	CHECK_EQ(res.error_insn, 5);
}

TEST(verifier_precision_bound_through_a_copy)
{
	/* r0 and r6 are copies; `if r6 > r9` bounds r0 too, so r0's access
	 * depends on r9: 7 on the first path, 100 on the second. */
	struct comb_insn p[] = {
		ST_MEM(COMB_SIZE_DW, 10, -8, 0),
		CALL_HELPER(BPF_FUNC_get_prandom_u32), MOV64_REG(8, 0),
		CALL_HELPER(BPF_FUNC_get_prandom_u32), MOV64_REG(6, 0),
		MOV64_IMM(9, 100),
		JMP_IMM(COMB_JMP_JGT, 8, 5, 1),
		MOV64_IMM(9, 7),
		JMP_REG(COMB_JMP_JGT, 6, 9, 5),                 /* 8: join */
		MOV64_REG(1, 10), ALU64_IMM(COMB_ALU_ADD, 1, -8),
		ALU64_REG(COMB_ALU_ADD, 1, 0),
		LDX_MEM(COMB_SIZE_B, 0, 1, 0),
		EXIT(),
		MOV64_IMM(0, 0), EXIT(),
	};
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), -EACCES);
	CHECK_EQ(res.error_insn, 12);
	p[5] = (struct comb_insn)MOV64_IMM(9, 7); /* 7 on both paths: safe */
	CHECK_EQ(VERIFY(p, BPF_PROG_TYPE_XDP), 0);
}
