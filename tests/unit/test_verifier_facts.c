/* tests/unit/test_verifier_facts.c - the facts the verifier records for the
 * JIT (src/verifier/facts.c): decided jumps, dead code, divisions that need
 * no zero or overflow guard, ARRAY lookups whose key is in bounds.
 *
 * Each program checks a fact where every path proves it, and its absence
 * where one path breaks it, including a path that reaches the instruction
 * after a join where it would be pruned against the first path's
 * checkpoint if the values the fact rests on were not marked precise (a
 * control program without the fact shows that pruning happens there). The
 * expected facts follow from the programs' semantics (ISA, RFC 9669).
 */
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include "../test.h"
#include "comb/comb.h"
#include "facts_build.h"
#include "verifier/internal.h"
#include "vm/internal.h"


/* Verify a socket filter (maps: optional) and return its facts, an array
 * of zeros when it has none; NULL when rejected. */
static uint8_t *facts_of(const struct comb_insn *insns, size_t n, struct comb_map **maps, size_t nmaps,
			 uint64_t *processed)
{
	struct comb_verify_opts o = { .sz = sizeof(o), .prog_type = 1, .maps = maps, .map_count = nmaps };
	struct comb_verify_result res;
	uint8_t *facts = NULL;
	int rc = verifier_run_facts(insns, n, &o, NULL, NULL, &res, &facts);
	if (processed)
		*processed = res.insns_processed;
	if (rc)
		return NULL;
	return facts ? facts : calloc(n, 1);
}

TEST(verifier_facts_decided_jumps_and_dead_code)
{
	const struct comb_insn prog[] = {
		LEN(2),                                  /* 0 */
		ALU64_IMM(COMB_ALU_AND, 2, 7),           /* 1: r2 in [0, 7] */
		JMP_IMM(COMB_JMP_JGT, 2, 10, 4),         /* 2: never -> 7 */
		JMP_IMM(COMB_JMP_JLT, 2, 8, 1),          /* 3: always -> 5 */
		MOV64_IMM(2, 99),                        /* 4: dead */
		MOV64_REG(0, 2),                         /* 5 */
		EXIT(),                                  /* 6 */
		MOV64_IMM(0, 99),                        /* 7: dead */
		EXIT(),                                  /* 8: dead */
	};
	uint8_t *f = facts_of(prog, ARRAY_SIZE(prog), NULL, 0, NULL);
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ(f[2], COMB_FACT_JUMP_NEVER);
	CHECK_EQ(f[3], COMB_FACT_JUMP_ALWAYS);
	CHECK_EQ(f[4], COMB_FACT_DEAD);
	CHECK_EQ(f[7], COMB_FACT_DEAD);
	CHECK_EQ(f[8], COMB_FACT_DEAD);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(f[i], 0);
	CHECK_EQ(f[5], 0);
	CHECK_EQ(f[6], 0);
	free(f);
}

/* r3 is 0 on the first path walked (fall-through of 2) and 1 on the other;
 * both reach the join at 4. */
#define JOIN_R3                                                                       \
	LEN(2),                          /* 0 */                                      \
	MOV64_IMM(3, 1),                 /* 1 */                                      \
	JMP_IMM(COMB_JMP_JGT, 2, 100, 1),/* 2: -> 4 with r3 = 1 */                    \
	MOV64_IMM(3, 0),                 /* 3 */                                      \
	MOV64_IMM(0, 0)                  /* 4: the join */

TEST(verifier_facts_jump_decided_differently_after_a_join)
{
	const struct comb_insn decided[] = {
		JOIN_R3,
		JMP_IMM(COMB_JMP_JEQ, 3, 0, 1),  /* 5: taken on one path, not on the other */
		MOV64_IMM(0, 1),                 /* 6 */
		EXIT(),                          /* 7 */
	};
	const struct comb_insn control[] = {
		JOIN_R3,
		MOV64_REG(0, 3),                 /* 5: r3 read, its value decides nothing */
		ALU64_IMM(COMB_ALU_ADD, 0, 1),   /* 6 */
		EXIT(),                          /* 7 */
	};
	uint64_t n_decided = 0, n_control = 0;
	uint8_t *f = facts_of(decided, ARRAY_SIZE(decided), NULL, 0, &n_decided);
	uint8_t *g = facts_of(control, ARRAY_SIZE(control), NULL, 0, &n_control);
	CHECK(f && g);
	if (f && g) {
		CHECK_EQ(f[5], 0); /* neither always nor never */
		CHECK_EQ(f[6], 0); /* reached */
		/* In the control the second path stops at the join (r3 is not
		 * precise there): fewer instructions than with the jump, where
		 * r3 decided a branch and is compared exactly. */
		CHECK(n_control < n_decided);
	}
	free(f);
	free(g);
	/* The same decision on both paths (r3 is 0 or 1, both < 5): a fact. */
	const struct comb_insn same[] = {
		JOIN_R3,
		JMP_IMM(COMB_JMP_JLT, 3, 5, 1),  /* 5: always */
		MOV64_IMM(0, 1),                 /* 6: dead */
		EXIT(),                          /* 7 */
	};
	f = facts_of(same, ARRAY_SIZE(same), NULL, 0, NULL);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ(f[5], COMB_FACT_JUMP_ALWAYS);
		CHECK_EQ(f[6], COMB_FACT_DEAD);
		CHECK_EQ(f[2], 0);
	}
	free(f);
}

TEST(verifier_facts_divisions)
{
	const struct comb_insn prog[] = {
		LEN(2),                                  /* 0 */
		MOV64_REG(3, 2),                         /* 1 */
		ALU64_IMM(COMB_ALU_AND, 3, 15),          /* 2 */
		ALU64_IMM(COMB_ALU_OR, 3, 1),            /* 3: r3 in [1, 15] */
		MOV64_REG(0, 2),                         /* 4 */
		ALU64_REG(COMB_ALU_DIV, 0, 3),           /* 5: nonzero */
		MOV64_REG(4, 2),                         /* 6 */
		ALU64_IMM(COMB_ALU_AND, 4, 15),          /* 7: r4 in [0, 15] */
		ALU64_REG(COMB_ALU_MOD, 0, 4),           /* 8: may be 0 */
		MOV32_REG(5, 2),                         /* 9 */
		ALU32_IMM(COMB_ALU_OR, 5, 1),            /* 10: w5 odd, may be -1 */
		SDIV64_REG(0, 3),                        /* 11: nonzero, never -1 */
		MOV32_REG(7, 2),                         /* 12: w7 may be INT32_MIN */
		SDIV32_REG(7, 5),                        /* 13: nonzero, may overflow */
		MOV64_REG(8, 2),                         /* 14: r8 in [0, 2^32 - 1] */
		MOV64_REG(9, 2),                         /* 15 */
		ALU64_IMM(COMB_ALU_SUB, 9, 8),           /* 16: r9 may be 0 or -1 */
		SMOD64_REG(8, 9),                        /* 17: may be 0; r8 is never INT64_MIN */
		ALU64_REG(COMB_ALU_ADD, 0, 7),
		ALU64_REG(COMB_ALU_ADD, 0, 8),
		EXIT(),
	};
	uint8_t *f = facts_of(prog, ARRAY_SIZE(prog), NULL, 0, NULL);
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ(f[5], COMB_FACT_DIV_NONZERO);
	CHECK_EQ(f[8], 0);
	CHECK_EQ(f[11], COMB_FACT_DIV_NONZERO | COMB_FACT_DIV_NO_OVERFLOW);
	CHECK_EQ(f[13], COMB_FACT_DIV_NONZERO);
	CHECK_EQ(f[17], COMB_FACT_DIV_NO_OVERFLOW);
	free(f);
}

/* r4 (the divisor) is 3 on the first path and 0 (or 5) on the second. */
TEST(verifier_facts_division_after_a_join)
{
	struct comb_insn prog[] = {
		LEN(2),                                  /* 0 */
		MOV64_IMM(4, 0),                         /* 1: the second path's divisor */
		JMP_IMM(COMB_JMP_JGT, 2, 100, 1),        /* 2 */
		MOV64_IMM(4, 3),                         /* 3 */
		MOV64_REG(0, 2),                         /* 4: the join */
		ALU64_REG(COMB_ALU_DIV, 0, 4),           /* 5 */
		EXIT(),
	};
	uint8_t *f = facts_of(prog, ARRAY_SIZE(prog), NULL, 0, NULL);
	CHECK(f != NULL);
	if (f)
		CHECK_EQ(f[5], 0);
	free(f);
	prog[1] = (struct comb_insn)MOV64_IMM(4, 5);
	f = facts_of(prog, ARRAY_SIZE(prog), NULL, 0, NULL);
	CHECK(f != NULL);
	if (f)
		CHECK_EQ(f[5], COMB_FACT_DIV_NONZERO);
	free(f);
}

static struct comb_map *array_map(uint32_t max_entries)
{
	struct comb_map_def def = { .sz = sizeof(def), .name = "a", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
				    .value_size = 8, .max_entries = max_entries };
	struct comb_map *map = NULL;
	char err[256];
	return comb_map_create(&def, &map, err, sizeof(err)) == 0 ? map : NULL;
}

TEST(verifier_facts_array_lookup_key_in_bounds)
{
	struct comb_map *map = array_map(8);
	CHECK(map != NULL);
	if (!map)
		return;
	struct comb_insn prog[] = {
		LEN(6),                                  /* 0 */
		ALU64_IMM(COMB_ALU_AND, 6, 7),           /* 1: key in [0, 7] */
		LOOKUP_R6,                               /* 2..12: call at 7, NULL test at 8 */
	};
	uint8_t *f = facts_of(prog, ARRAY_SIZE(prog), &map, 1, NULL);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ(f[7], COMB_FACT_KEY_IN_BOUNDS);
		CHECK_EQ(f[8], 0); /* the key is not a constant: r0 stays nullable */
	}
	free(f);
	/* Past the end for some lengths: no fact. */
	prog[1] = (struct comb_insn)ALU64_IMM(COMB_ALU_AND, 6, 15);
	f = facts_of(prog, ARRAY_SIZE(prog), &map, 1, NULL);
	CHECK(f != NULL);
	if (f)
		CHECK_EQ(f[7], 0);
	free(f);
	/* A constant key: the lookup cannot fail, the NULL test is decided
	 * and its NULL branch dead. */
	prog[1] = (struct comb_insn)MOV64_IMM(6, 5);
	f = facts_of(prog, ARRAY_SIZE(prog), &map, 1, NULL);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ(f[7], COMB_FACT_KEY_IN_BOUNDS);
		CHECK_EQ(f[8], COMB_FACT_JUMP_ALWAYS);
		CHECK_EQ(f[9], COMB_FACT_DEAD);
		CHECK_EQ(f[10], COMB_FACT_DEAD);
	}
	free(f);
	comb_map_free(map);
}

/* The key is in [0, 7] (not a constant: nothing else marks it precise) on
 * the first path, 9 (past the end of 8) on the second. */
TEST(verifier_facts_array_lookup_after_a_join)
{
	struct comb_map *map = array_map(8);
	CHECK(map != NULL);
	if (!map)
		return;
	struct comb_insn prog[] = {
		LEN(2),                                  /* 0 */
		MOV64_IMM(6, 9),                         /* 1 */
		JMP_IMM(COMB_JMP_JGT, 2, 100, 2),        /* 2 */
		MOV64_REG(6, 2),                         /* 3 */
		ALU64_IMM(COMB_ALU_AND, 6, 7),           /* 4 */
		ALU64_IMM(COMB_ALU_ADD, 2, 0),           /* 5: the join */
		LOOKUP_R6,                               /* 6..16: call at 11, NULL test at 12 */
	};
	uint8_t *f = facts_of(prog, ARRAY_SIZE(prog), &map, 1, NULL);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ(f[11], 0);
		CHECK_EQ(f[12], 0);
		CHECK_EQ(f[13], 0); /* the NULL branch is reached */
	}
	free(f);
	prog[1] = (struct comb_insn)MOV64_IMM(6, 7);
	f = facts_of(prog, ARRAY_SIZE(prog), &map, 1, NULL);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ(f[11], COMB_FACT_KEY_IN_BOUNDS);
		CHECK_EQ(f[12], 0); /* nullable on the first path */
	}
	free(f);
	comb_map_free(map);
}

/* A 32-bit NULL test of a pointer: the walk decides it by the whole
 * pointer, whose low half may be zero: no facts at all. */
TEST(verifier_facts_none_after_a_32bit_pointer_test)
{
	const struct comb_insn prog[] = {
		LEN(2),
		ALU64_IMM(COMB_ALU_AND, 2, 7),
		JMP_IMM(COMB_JMP_JGT, 2, 10, 1),         /* 2: never */
		JMP32_IMM(COMB_JMP_JEQ, 1, 0, 1),        /* 3: the context, 32 bits */
		MOV64_IMM(0, 1),
		MOV64_IMM(0, 2),
		EXIT(),
	};
	uint8_t *f = facts_of(prog, ARRAY_SIZE(prog), NULL, 0, NULL);
	CHECK(f != NULL);
	for (size_t i = 0; f && i < ARRAY_SIZE(prog); i++)
		CHECK_EQ(f[i], 0);
	free(f);
}
