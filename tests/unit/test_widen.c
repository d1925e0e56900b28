/* tests/unit/test_widen.c - the widened walk (src/verifier/widen.c) on small
 * hand-built loops, with a budget small enough that unrolling runs out.
 *
 * The same loops fit the kernel's 1,000,000-instruction budget unrolled
 * (tests/kernel/kernel_verdicts.c compares the long ones, verify_widen.bpf.c,
 * with the kernel); here they pin down what widening proves, what it
 * refuses, and how it says so.
 */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>

#include "../test.h"
#include "insn_build.h"
#include "comb/verifier.h"

static struct comb_verify_result res;
static char log_buf[1 << 16];

static int verify_budget(const struct comb_insn *insns, size_t n, uint64_t budget)
{
	struct comb_verify_opts o = { .sz = sizeof(o), .prog_type = BPF_PROG_TYPE_XDP, .max_insns = budget,
				      .log_level = 1, .log_buf = log_buf, .log_size = sizeof(log_buf) };
	return comb_verify(insns, n, &o, &res);
}
#define VERIFY_BUDGET(p, budget) verify_budget(p, ARRAY_SIZE(p), budget)

/* for (r6 = 0; r6 < bound; r6++) fp[-16 + (r6 & 7)] = 1, or (late) byte 9
 * when r6 == bound - 1. */
#define STACK_LOOP(bound, late)                                                          \
	{ MOV64_IMM(6, 0), MOV64_REG(1, 6), ALU64_IMM(COMB_ALU_AND, 1, 7),                    \
	  JMP_IMM(COMB_JMP_JNE, 6, (bound) - 1, 1), MOV64_IMM(1, (late) ? 16 : 7),             \
	  MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -16), ALU64_REG(COMB_ALU_ADD, 2, 1),     \
	  ST_MEM(COMB_SIZE_B, 2, 0, 1), ALU64_IMM(COMB_ALU_ADD, 6, 1),                         \
	  JMP_IMM(COMB_JMP_JLT, 6, bound, -10), MOV64_IMM(0, 2), EXIT() }

TEST(widen_proves_a_long_loop_safe_and_ending)
{
	struct comb_insn p[] = STACK_LOOP(1000, 0);
	CHECK_EQ(VERIFY_BUDGET(p, 2000), 0);
	CHECK(res.ok);
	CHECK(res.insns_processed < 2000); /* the widened walk's own count */
	CHECK(strstr(log_buf, "widening the loops") != NULL);
	CHECK(strstr(log_buf, "loop at insn 1: ends within 1000 iterations (r6 grows") != NULL);
	/* with the kernel's budget the unrolled walk fits, and widening stays out */
	CHECK_EQ(VERIFY_BUDGET(p, 0), 0);
	CHECK(res.insns_processed > 2000);
	CHECK(strstr(log_buf, "widening") == NULL);
}

TEST(widen_checks_accesses_against_widened_ranges)
{
	/* byte 16 of a 16-byte buffer ending at fp, on the last iteration only */
	struct comb_insn p[] = STACK_LOOP(1000, 1);
	CHECK_EQ(VERIFY_BUDGET(p, 2000), -EACCES);
	CHECK_EQ(res.error_insn, 8);
	CHECK(strstr(res.message, "outside the 512-byte frame") != NULL);
	CHECK(strstr(res.message, "found with the loops widened") != NULL);
	/* the kernel's budget reaches the last iteration unrolled: same verdict */
	CHECK_EQ(VERIFY_BUDGET(p, 0), -EACCES);
	CHECK(strstr(res.message, "found with the loops widened") == NULL);
}

TEST(widen_refuses_a_counter_that_wraps)
{
	/* r0 counts up until it wraps to 0: ends, after 2^64 iterations */
	struct comb_insn p[] = { MOV64_IMM(0, 0), ALU64_IMM(COMB_ALU_ADD, 0, 1),
				 JMP_IMM(COMB_JMP_JNE, 0, 0, -2), EXIT() };
	CHECK_EQ(VERIFY_BUDGET(p, 2000), -E2BIG);
	CHECK_EQ(res.error_insn, 1);
	CHECK(strstr(res.message, "the loop at insn 1 could not be proven to end: its counter r0 allows up to") != NULL);
	CHECK(strstr(res.message, "too complex") != NULL);
}

TEST(widen_refuses_a_counter_reset_on_one_path)
{
	/* r6 goes back to 0 when a random number is 0; r7 counts without bound */
	struct comb_insn p[] = { MOV64_IMM(6, 0), MOV64_IMM(7, 0), CALL_HELPER(BPF_FUNC_get_prandom_u32),
				 JMP_IMM(COMB_JMP_JNE, 0, 0, 1), MOV64_IMM(6, 0), ALU64_IMM(COMB_ALU_ADD, 7, 1),
				 ALU64_IMM(COMB_ALU_ADD, 6, 1), JMP_IMM(COMB_JMP_JLT, 6, 1000, -6),
				 MOV64_IMM(0, 2), EXIT() };
	CHECK_EQ(VERIFY_BUDGET(p, 2000), -E2BIG);
	CHECK(strstr(res.message, "the loop at insn 2 could not be proven to end: r7 changes by a constant "
			     "on every iteration but nothing bounds it") != NULL);
}

TEST(widen_refuses_a_loop_with_two_entries)
{
	/* the cycle 3 -> 4 -> 5 -> 3 is entered at 3 and at 4 */
	struct comb_insn p[] = { CALL_HELPER(BPF_FUNC_get_prandom_u32), MOV64_IMM(6, 0),
				 JMP_IMM(COMB_JMP_JEQ, 0, 0, 1), ALU64_IMM(COMB_ALU_ADD, 6, 1),
				 ALU64_IMM(COMB_ALU_ADD, 6, 1), JMP_IMM(COMB_JMP_JLT, 6, 100000, -3),
				 MOV64_IMM(0, 2), EXIT() };
	CHECK_EQ(VERIFY_BUDGET(p, 2000), -EACCES);
	CHECK(strstr(res.message, "has more than one entry") != NULL);
}

TEST(widen_proves_nested_loops_and_a_loop_in_a_function)
{
	/* main: for (r6 = 0; r6 < 300; r6++) call f; f: for (r1 = 0; r1 < 300; r1++) fp[-8 + (r1 & 7)] = 1 */
	struct comb_insn p[] = {
		MOV64_IMM(6, 0), CALL_LOCAL(4), ALU64_IMM(COMB_ALU_ADD, 6, 1),
		JMP_IMM(COMB_JMP_JLT, 6, 300, -3), MOV64_IMM(0, 2), EXIT(),
		/* f */
		MOV64_IMM(1, 0), MOV64_REG(2, 1), ALU64_IMM(COMB_ALU_AND, 2, 7), MOV64_REG(3, 10),
		ALU64_IMM(COMB_ALU_ADD, 3, -8), ALU64_REG(COMB_ALU_ADD, 3, 2), ST_MEM(COMB_SIZE_B, 3, 0, 1),
		ALU64_IMM(COMB_ALU_ADD, 1, 1), JMP_IMM(COMB_JMP_JLT, 1, 300, -8), MOV64_IMM(0, 0), EXIT(),
	};
	CHECK_EQ(VERIFY_BUDGET(p, 5000), 0);
	CHECK(strstr(log_buf, "loop at insn 1: ends within 300 iterations (r6") != NULL);
	CHECK(strstr(log_buf, "loop at insn 7: ends within 300 iterations (r1") != NULL);
}
