/* tests/unit/test_jit_fact_checks.c - checks the JIT leaves out once the
 * verifier proved them unneeded (COMB_FACT_*, src/verifier/facts.c):
 * decided conditional jumps (a jmp or nothing), dead code (one ud2), the
 * zero and INT_MIN / -1 guards of a division, the bounds check of an
 * inlined ARRAY lookup (and then the NULL test after it).
 *
 * Per program: the native code of the instruction shrinks after
 * comb_prog_verify (the program is recompiled with the facts), and the JIT
 * gives the interpreter's result on edge and pseudo-random inputs, also
 * for programs where a path breaks the fact (after a join: a wrong fact
 * would make the JIT divide by zero or read past the array).
 */
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include "../test.h"
#include "comb/comb.h"
#include "helpers/helpers.h"
#include "facts_build.h"

struct fixture {
	struct comb_vm *vm;
	struct comb_map *map;
	struct comb_prog *prog;
	uint32_t before[64];   /* code bytes per instruction before verification */
	size_t size_before;
};

static size_t code_size(const struct comb_prog *prog)
{
	size_t size = 0;
	return comb_prog_jit_code(prog, NULL, &size, NULL) ? 0 : size;
}

/* Load (and note the code before the facts), then verify. 1: done, 0: no
 * JIT on this machine, -1: a step failed. */
static int setup_steps(struct fixture *f, const struct comb_insn *insns, size_t n, bool with_map)
{
	memset(f, 0, sizeof(*f));
	char err[256];
	if (comb_vm_new(NULL, &f->vm) || comb_register_default_helpers(f->vm))
		return -1;
	struct comb_prog_opts opts = { .sz = sizeof(opts) };
	if (with_map) {
		struct comb_map_def def = { .sz = sizeof(def), .name = "a", .type = BPF_MAP_TYPE_ARRAY,
					    .key_size = 4, .value_size = 8, .max_entries = 8 };
		if (comb_map_create(&def, &f->map, err, sizeof(err)))
			return -1;
		for (uint32_t k = 0; k < 8; k++) {
			uint64_t v = k * 11 + 1;
			if (comb_map_update(f->map, &k, &v, 0))
				return -1;
		}
		opts.maps = &f->map;
		opts.map_count = 1;
	}
	if (comb_prog_load(f->vm, insns, n, &opts, &f->prog, err, sizeof(err)))
		return -1;
	if (comb_prog_jit_code(f->prog, NULL, NULL, NULL) != 0)
		return 0;
	for (size_t i = 0; i < n && i < 64; i++)
		f->before[i] = code_bytes(f->prog, i);
	f->size_before = code_size(f->prog);
	struct comb_verify_result res;
	return comb_prog_verify(f->prog, NULL, &res) == 0 ? 1 : -1;
}

static void teardown(struct fixture *f)
{
	comb_prog_free(f->prog);
	comb_map_free(f->map);
	comb_vm_free(f->vm);
}

/* The JIT and the interpreter agree on edge lengths and 300 pseudo-random ones. */
static void engines_agree(const struct comb_prog *prog)
{
	static const uint32_t edges[] = { 0, 1, 2, 3, 7, 8, 9, 15, 16, 99, 100, 101, 102, 0x7fffffff,
					  0x80000000u, 0x80000001u, 0xfffffffeu, 0xffffffffu };
	uint32_t x = 0x9e3779b9u;
	for (size_t k = 0; k < ARRAY_SIZE(edges) + 300; k++) {
		uint32_t len = k < ARRAY_SIZE(edges) ? edges[k] : (x ^= x << 13, x ^= x >> 17, x ^= x << 5);
		if (k >= ARRAY_SIZE(edges) && (k & 1))
			len &= 0xff; /* small ones too */
		uint64_t r_jit = 1, r_interp = 2;
		CHECK_EQ(run_with_len(prog, COMB_ENGINE_JIT, len, &r_jit), 0);
		CHECK_EQ(run_with_len(prog, COMB_ENGINE_INTERP, len, &r_interp), 0);
		CHECK_EQ(r_jit, r_interp);
	}
}

TEST(jit_fact_checks_decided_jumps_and_dead_code)
{
	const struct comb_insn prog[] = {
		LEN(2),                                  /* 0 */
		ALU64_IMM(COMB_ALU_AND, 2, 7),           /* 1 */
		JMP_IMM(COMB_JMP_JSGT, 2, 10, 6),        /* 2: never -> 9 (signed: the JIT alone cannot tell) */
		JMP_IMM(COMB_JMP_JSLT, 2, 8, 3),         /* 3: always -> 7 */
		MOV64_IMM(2, 99),                        /* 4: dead */
		LDDW(2, 0x123456789ull),                 /* 5, 6: dead (an LDDW) */
		MOV64_REG(0, 2),                         /* 7 */
		EXIT(),                                  /* 8 */
		MOV64_IMM(0, 99),                        /* 9: dead */
		EXIT(),                                  /* 10: dead */
	};
	struct fixture f;
	int ready1 = setup_steps(&f, prog, ARRAY_SIZE(prog), false);
	CHECK(ready1 >= 0);
	if (ready1 > 0) {
		CHECK(f.before[2] > 0);
		CHECK_EQ(code_bytes(f.prog, 2), 0);                      /* no compare, no branch */
		CHECK(code_bytes(f.prog, 3) > 0 && code_bytes(f.prog, 3) <= 5); /* a jmp */
		CHECK(code_bytes(f.prog, 3) < f.before[3]);
		CHECK_EQ(code_bytes(f.prog, 4), 2);                      /* the run's ud2 */
		CHECK_EQ(code_bytes(f.prog, 5), 0);
		CHECK_EQ(code_bytes(f.prog, 6), 0);
		CHECK_EQ(code_bytes(f.prog, 9), 2);
		CHECK_EQ(code_bytes(f.prog, 10), 0);
		CHECK(code_size(f.prog) < f.size_before);
		engines_agree(f.prog);
	}
	teardown(&f);
}

/* r3 is 0 on one path, 1 on the other: the jump at 5 is decided on each
 * path, differently; it keeps its compare and both ways work. */
TEST(jit_fact_checks_jump_after_a_join_keeps_its_compare)
{
	const struct comb_insn prog[] = {
		LEN(2),
		MOV64_IMM(3, 1),
		JMP_IMM(COMB_JMP_JGT, 2, 100, 1),
		MOV64_IMM(3, 0),
		MOV64_IMM(0, 0),
		JMP_IMM(COMB_JMP_JEQ, 3, 0, 1),          /* 5 */
		MOV64_IMM(0, 1),                         /* 6 */
		EXIT(),
	};
	struct fixture f;
	int ready2 = setup_steps(&f, prog, ARRAY_SIZE(prog), false);
	CHECK(ready2 >= 0);
	if (ready2 > 0) {
		CHECK_EQ(code_bytes(f.prog, 5), f.before[5]);
		CHECK_EQ(code_bytes(f.prog, 6), f.before[6]);
		engines_agree(f.prog);
		uint64_t r0 = 7;
		CHECK_EQ(run_with_len(f.prog, COMB_ENGINE_JIT, 500, &r0), 0);
		CHECK_EQ(r0, 1u); /* r3 = 1 path: falls through to r0 = 1 */
	}
	teardown(&f);
}

TEST(jit_fact_checks_division_guards)
{
	const struct comb_insn prog[] = {
		LEN(2),                                  /* 0 */
		MOV64_REG(3, 2),
		ALU64_IMM(COMB_ALU_AND, 3, 15),
		ALU64_IMM(COMB_ALU_OR, 3, 1),            /* 3: r3 in [1, 15] */
		MOV64_REG(0, 2),
		ALU64_REG(COMB_ALU_DIV, 0, 3),           /* 5: no zero test */
		MOV64_REG(4, 2),
		ALU64_IMM(COMB_ALU_AND, 4, 15),
		ALU64_REG(COMB_ALU_MOD, 0, 4),           /* 8: keeps it (r4 may be 0) */
		MOV32_REG(5, 2),
		ALU32_IMM(COMB_ALU_OR, 5, 1),            /* 10 */
		SDIV64_REG(0, 3),                        /* 11: no test at all */
		MOV32_REG(7, 2),
		SDIV32_REG(7, 5),                        /* 13: only the -1 test */
		MOV64_REG(8, 2),
		MOV64_REG(9, 2),
		ALU64_IMM(COMB_ALU_SUB, 9, 8),
		SMOD64_REG(8, 9),                        /* 17: only the zero test */
		ALU64_REG(COMB_ALU_ADD, 0, 7),
		ALU64_REG(COMB_ALU_ADD, 0, 8),
		EXIT(),
	};
	struct fixture f;
	int ready3 = setup_steps(&f, prog, ARRAY_SIZE(prog), false);
	CHECK(ready3 >= 0);
	if (ready3 > 0) {
		CHECK(code_bytes(f.prog, 5) < f.before[5]);
		CHECK_EQ(code_bytes(f.prog, 8), f.before[8]);
		CHECK(code_bytes(f.prog, 11) < f.before[11]);
		CHECK(code_bytes(f.prog, 13) < f.before[13]);
		CHECK(code_bytes(f.prog, 17) < f.before[17]);
		CHECK(code_bytes(f.prog, 11) < code_bytes(f.prog, 13)); /* no guard < one guard */
		engines_agree(f.prog);
	}
	teardown(&f);
}

/* The divisor is 0 on the second path (len > 100): a zero test stays, and
 * the JIT gives x / 0 = 0 instead of trapping. */
TEST(jit_fact_checks_division_after_a_join)
{
	const struct comb_insn prog[] = {
		LEN(2),
		MOV64_IMM(4, 0),
		JMP_IMM(COMB_JMP_JGT, 2, 100, 1),
		MOV64_IMM(4, 3),
		MOV64_REG(0, 2),
		ALU64_REG(COMB_ALU_DIV, 0, 4),           /* 5 */
		EXIT(),
	};
	struct fixture f;
	int ready4 = setup_steps(&f, prog, ARRAY_SIZE(prog), false);
	CHECK(ready4 >= 0);
	if (ready4 > 0) {
		CHECK_EQ(code_bytes(f.prog, 5), f.before[5]);
		engines_agree(f.prog);
		uint64_t r0 = 7;
		CHECK_EQ(run_with_len(f.prog, COMB_ENGINE_JIT, 1000, &r0), 0);
		CHECK_EQ(r0, 0u);
	}
	teardown(&f);
}

TEST(jit_fact_checks_array_lookup_bounds)
{
	struct comb_insn prog[] = {
		LEN(6),
		ALU64_IMM(COMB_ALU_AND, 6, 7),           /* key in [0, 7] of 8 */
		LOOKUP_R6,                               /* call at 7, NULL test at 8 */
	};
	struct fixture f;
	int ready5 = setup_steps(&f, prog, ARRAY_SIZE(prog), true);
	CHECK(ready5 >= 0);
	if (ready5 > 0) {
		CHECK(code_bytes(f.prog, 7) < f.before[7]);   /* no bounds check */
		CHECK_EQ(code_bytes(f.prog, 8), f.before[8]); /* r0 nullable for the verifier */
		engines_agree(f.prog);
	}
	teardown(&f);
	/* A constant key: no bounds check, no NULL test, no NULL branch. */
	prog[1] = (struct comb_insn)MOV64_IMM(6, 5);
	int ready6 = setup_steps(&f, prog, ARRAY_SIZE(prog), true);
	CHECK(ready6 >= 0);
	if (ready6 > 0) {
		CHECK(code_bytes(f.prog, 7) < f.before[7]);
		CHECK(code_bytes(f.prog, 8) <= 5 && code_bytes(f.prog, 8) < f.before[8]);
		CHECK_EQ(code_bytes(f.prog, 10), 0); /* second instruction of the dead run */
		CHECK(code_size(f.prog) < f.size_before);
		engines_agree(f.prog);
		uint64_t r0 = 0;
		CHECK_EQ(run_with_len(f.prog, COMB_ENGINE_JIT, 3, &r0), 0);
		CHECK_EQ(r0, 5u * 11 + 1);
	}
	teardown(&f);
	/* Keys up to 15 of 8: the check stays, past the end gives NULL. */
	prog[1] = (struct comb_insn)ALU64_IMM(COMB_ALU_AND, 6, 15);
	int ready7 = setup_steps(&f, prog, ARRAY_SIZE(prog), true);
	CHECK(ready7 >= 0);
	if (ready7 > 0) {
		CHECK_EQ(code_bytes(f.prog, 7), f.before[7]);
		engines_agree(f.prog);
	}
	teardown(&f);
}

/* The key is in [0, 7] on one path, 9 (past the end) on the other. */
TEST(jit_fact_checks_array_lookup_after_a_join)
{
	const struct comb_insn prog[] = {
		LEN(2),
		MOV64_IMM(6, 9),
		JMP_IMM(COMB_JMP_JGT, 2, 100, 2),
		MOV64_REG(6, 2),
		ALU64_IMM(COMB_ALU_AND, 6, 7),
		ALU64_IMM(COMB_ALU_ADD, 2, 0),
		LOOKUP_R6,                               /* call at 11 */
	};
	struct fixture f;
	int ready = setup_steps(&f, prog, ARRAY_SIZE(prog), true);
	CHECK(ready >= 0);
	if (ready > 0) {
		CHECK_EQ(code_bytes(f.prog, 11), f.before[11]);
		engines_agree(f.prog);
		uint64_t r0 = 0;
		CHECK_EQ(run_with_len(f.prog, COMB_ENGINE_JIT, 1000, &r0), 0);
		CHECK_EQ(r0, 1000u);
		CHECK_EQ(run_with_len(f.prog, COMB_ENGINE_JIT, 10, &r0), 0);
		CHECK_EQ(r0, 2u * 11 + 1);
	}
	teardown(&f);
}
