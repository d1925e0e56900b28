/* tests/unit/facts_build.h - what the tests of the verifier's facts share
 * (test_jit_facts.c, test_jit_fact_checks.c, test_verifier_facts.c):
 * socket-filter programs whose input is skb->len, an ARRAY lookup keyed by
 * r6, and the native code size of an instruction. Functions are static: each
 * test file gets its own copy.
 */
#ifndef COMB_TEST_FACTS_BUILD_H
#define COMB_TEST_FACTS_BUILD_H

#include <stdint.h>
#include <string.h>
#include "comb/comb.h"
#include "insn_build.h"

#define LEN(d) LDX_MEM(COMB_SIZE_W, d, 1, 0) /* d = skb->len, any u32 */

/* key = r6 at fp-8; r0 = lookup(map 0, key); r0 = r0 ? *r0 : 1000. */
#define LOOKUP_R6                                                                     \
	STX_MEM(COMB_SIZE_W, 10, 6, -8),                                              \
	MAP_LDDW(1, 0),                                                               \
	MOV64_REG(2, 10),                                                             \
	ALU64_IMM(COMB_ALU_ADD, 2, -8),                                               \
	CALL_HELPER(1),                                                               \
	JMP_IMM(COMB_JMP_JNE, 0, 0, 2),                                               \
	MOV64_IMM(0, 1000),                                                           \
	EXIT(),                                                                       \
	LDX_MEM(COMB_SIZE_DW, 0, 0, 0),                                               \
	EXIT()

/* Bytes of native code of instruction i (0 when it has none; UINT32_MAX
 * when the program has no native code). */
static inline uint32_t code_bytes(const struct comb_prog *prog, size_t i)
{
	const uint32_t *off = NULL;
	if (comb_prog_jit_code(prog, NULL, NULL, &off) || !off)
		return UINT32_MAX;
	return off[i + 1] - off[i];
}

/* Run prog in engine on a zeroed skb whose len is len. */
static inline int run_with_len(const struct comb_prog *prog, enum comb_engine engine, uint32_t len,
			       uint64_t *r0)
{
	uint32_t skb[64];
	memset(skb, 0, sizeof(skb));
	skb[0] = len;
	struct comb_region region = { .addr = (uint64_t)(uintptr_t)skb, .size = sizeof(skb) };
	struct comb_run_opts o = { .sz = sizeof(o), .engine = engine, .regions = &region, .region_count = 1 };
	o.args[0] = (uint64_t)(uintptr_t)skb;
	return comb_prog_run(prog, &o, r0);
}

#endif
