/* tests/unit/test_jit.c - the x86-64 JIT against the interpreter.
 *
 * The interpreter is the oracle: every program here runs in COMB_ENGINE_INTERP
 * and COMB_ENGINE_JIT, and both must give the same status, r0 and memory.
 * Edge cases are listed by hand (division by zero and INT_MIN / -1, shifts
 * whose operands sit in the registers the JIT borrows, atomics through r0,
 * calls, helpers, callx, tail calls, callbacks, the call-depth limit); then
 * thousands of generated programs (ALU, memory, atomics, forward branches)
 * are compared. The conformance suite runs through the JIT from tests/run.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../test.h"
#include "comb/comb.h"
#include "insn_build.h"
#include "vm/internal.h"
#include "jit/jit.h"

#define JIT_HELPER_ADD 1000
#define JIT_HELPER_REPEAT 1001

static uint64_t helper_add(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			   struct comb_call_ctx *cc)
{
	return r1 + 2 * r2 + 3 * r3 + 4 * r4 + 5 * r5;
}

static uint64_t helper_repeat(uint64_t fn, uint64_t n, uint64_t ctx, uint64_t r4, uint64_t r5,
			      struct comb_call_ctx *cc)
{
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r0;
		int rc = comb_call_callback(cc, fn, i, ctx, 0, 0, 0, &r0);
		if (rc)
			return (uint64_t)(int64_t)rc;
		sum += r0;
	}
	return sum;
}

static struct comb_vm *jit_vm(void)
{
	static struct comb_vm *vm;
	if (!vm) {
		comb_vm_new(NULL, &vm);
		comb_vm_register_helper(vm, JIT_HELPER_ADD, "add", helper_add);
		comb_vm_register_helper(vm, JIT_HELPER_REPEAT, "repeat", helper_repeat);
	}
	return vm;
}

static struct comb_prog *load(const struct comb_insn *insns, size_t count, struct comb_map **maps, size_t nmaps)
{
	struct comb_prog_opts popts = { .sz = sizeof(popts), .maps = maps, .map_count = nmaps };
	struct comb_prog *prog = NULL;
	char err[256];
	if (comb_prog_load(jit_vm(), insns, count, &popts, &prog, err, sizeof(err))) {
		fprintf(stderr, "  load: %s\n", err);
		return NULL;
	}
	return prog;
}

struct outcome {
	int rc;
	uint64_t r0;
	uint8_t mem[256];
};

static void run_engine(const struct comb_prog *prog, enum comb_engine engine, const uint8_t *mem,
		       uint64_t arg2, struct outcome *o)
{
	memcpy(o->mem, mem, sizeof(o->mem));
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = engine,
				      .args = { (uintptr_t)o->mem, arg2 } };
	o->r0 = 0;
	o->rc = comb_prog_run(prog, &opts, &o->r0);
}

/* Run in both engines; 0 when they agree (and the JIT compiled it). */
static int compare_engines(const struct comb_insn *insns, size_t count, const uint8_t *mem, uint64_t arg2,
			   uint64_t *r0)
{
	struct comb_prog *prog = load(insns, count, NULL, 0);
	if (!prog)
		return -1;
	struct outcome a, b;
	run_engine(prog, COMB_ENGINE_INTERP, mem, arg2, &a);
	run_engine(prog, COMB_ENGINE_JIT, mem, arg2, &b);
	int bad = !prog->jit || a.rc != b.rc || a.r0 != b.r0 || memcmp(a.mem, b.mem, sizeof(a.mem));
	if (bad)
		fprintf(stderr, "  jit %s: interp rc %d r0 %#llx, jit rc %d r0 %#llx%s\n",
			prog->jit ? "compiled" : "NOT compiled", a.rc, (unsigned long long)a.r0, b.rc,
			(unsigned long long)b.r0, memcmp(a.mem, b.mem, sizeof(a.mem)) ? ", memory differs" : "");
	if (r0)
		*r0 = b.r0;
	comb_prog_free(prog);
	return bad;
}

static const uint8_t zero_mem[256];

/* ---- hand-picked edge cases ---- */

static const uint64_t edge_values[] = {
	0, 1, 2, 3, 7, (uint64_t)-1, (uint64_t)-2, (uint64_t)-7, 0x80000000ull, 0x7fffffffull,
	0xffffffffull, 0x8000000000000000ull, 0x7fffffffffffffffull, 0xffffffff80000000ull,
	0x123456789abcdef0ull, 64, 65, 31, 33,
};
#define N_EDGE (sizeof(edge_values) / sizeof(edge_values[0]))

/* dst op= src over every pair of edge values and awkward register pairs. */
static int check_binop_x(uint8_t code, int16_t off)
{
	static const int regs[][2] = { { 1, 2 }, { 0, 3 }, { 3, 0 }, { 4, 1 }, { 1, 4 }, { 0, 4 },
				       { 3, 4 }, { 4, 3 }, { 7, 7 }, { 0, 0 }, { 3, 3 }, { 4, 4 } };
	int failures = 0;
	for (size_t r = 0; r < sizeof(regs) / sizeof(regs[0]); r++)
		for (size_t i = 0; i < N_EDGE; i++)
			for (size_t j = 0; j < N_EDGE; j += 1 + (i & 1)) {
				int d = regs[r][0], s = regs[r][1];
				struct comb_insn p[] = {
					LDDW(0, 0x5555aaaa5555aaaaull), LDDW(3, 0x3333cccc3333ccccull),
					LDDW(4, 0x4444bbbb4444bbbbull), LDDW(s, edge_values[j]),
					LDDW(d, edge_values[i]),
					INSN(code, d, s, off, 0),
					/* r0 = dst ^ (r0 rotated) ^ r3 ^ r4: every borrowed register shows */
					MOV64_REG(5, 0), ALU64_IMM(COMB_ALU_LSH, 5, 1), ALU64_REG(COMB_ALU_XOR, 5, 3),
					ALU64_IMM(COMB_ALU_LSH, 5, 1), ALU64_REG(COMB_ALU_XOR, 5, 4),
					ALU64_IMM(COMB_ALU_LSH, 5, 1), ALU64_REG(COMB_ALU_XOR, 5, d),
					MOV64_REG(0, 5), EXIT(),
				};
				failures += compare_engines(p, ARRAY_SIZE(p), zero_mem, 0, NULL) != 0;
			}
	return failures;
}

static int check_binop_k(uint8_t code, int16_t off)
{
	static const int32_t imms[] = { 0, 1, -1, 2, 3, 7, -7, 31, 32, 63, 64, INT32_MIN, INT32_MAX, 0x1234 };
	int failures = 0;
	for (size_t i = 0; i < N_EDGE; i++)
		for (size_t k = 0; k < sizeof(imms) / sizeof(imms[0]); k++)
			for (int d = 0; d <= 4; d++) {
				struct comb_insn p[] = {
					LDDW(0, 0x5555aaaa5555aaaaull), LDDW(3, 0x3333cccc3333ccccull),
					LDDW(4, 0x4444bbbb4444bbbbull), LDDW(d, edge_values[i]),
					INSN(code, d, 0, off, imms[k]),
					MOV64_REG(5, 0), ALU64_REG(COMB_ALU_XOR, 5, 3), ALU64_IMM(COMB_ALU_LSH, 5, 3),
					ALU64_REG(COMB_ALU_XOR, 5, 4), ALU64_IMM(COMB_ALU_LSH, 5, 3),
					ALU64_REG(COMB_ALU_XOR, 5, d), MOV64_REG(0, 5), EXIT(),
				};
				failures += compare_engines(p, ARRAY_SIZE(p), zero_mem, 0, NULL) != 0;
			}
	return failures;
}

TEST(jit_division_and_modulo_follow_the_isa)
{
	static const uint8_t ops[] = { COMB_ALU_DIV, COMB_ALU_MOD };
	for (int w = 0; w < 2; w++)
		for (size_t o = 0; o < 2; o++)
			for (int16_t sign = 0; sign <= 1; sign++) {
				uint8_t cls = w ? COMB_CLS_ALU64 : COMB_CLS_ALU;
				CHECK_EQ(check_binop_x(cls | COMB_SRC_X | ops[o], sign), 0);
				CHECK_EQ(check_binop_k(cls | COMB_SRC_K | ops[o], sign), 0);
			}
	/* The ISA's values, not just agreement. */
	uint64_t r0;
	struct comb_insn sdiv[] = { LDDW(1, 0x8000000000000000ull), MOV64_IMM(2, -1), SDIV64_REG(1, 2),
				    MOV64_REG(0, 1), EXIT() };
	CHECK_EQ(compare_engines(sdiv, ARRAY_SIZE(sdiv), zero_mem, 0, &r0), 0);
	CHECK_EQ(r0, 0x8000000000000000ull);
	struct comb_insn udiv0[] = { MOV64_IMM(0, 77), MOV64_IMM(2, 0), ALU64_REG(COMB_ALU_DIV, 0, 2), EXIT() };
	CHECK_EQ(compare_engines(udiv0, ARRAY_SIZE(udiv0), zero_mem, 0, &r0), 0);
	CHECK_EQ(r0, 0);
	struct comb_insn umod0[] = { LDDW(0, 0x1ffffffffull), MOV64_IMM(2, 0), ALU32_REG(COMB_ALU_MOD, 0, 2), EXIT() };
	CHECK_EQ(compare_engines(umod0, ARRAY_SIZE(umod0), zero_mem, 0, &r0), 0);
	CHECK_EQ(r0, 0xffffffffull);
}

TEST(jit_every_alu_op_matches_the_interpreter)
{
	static const uint8_t ops[] = { COMB_ALU_ADD, COMB_ALU_SUB, COMB_ALU_MUL, COMB_ALU_OR, COMB_ALU_AND,
				       COMB_ALU_LSH, COMB_ALU_RSH, COMB_ALU_XOR, COMB_ALU_MOV, COMB_ALU_ARSH };
	for (int w = 0; w < 2; w++)
		for (size_t o = 0; o < sizeof(ops); o++) {
			uint8_t cls = w ? COMB_CLS_ALU64 : COMB_CLS_ALU;
			CHECK_EQ(check_binop_x(cls | COMB_SRC_X | ops[o], 0), 0);
			CHECK_EQ(check_binop_k(cls | COMB_SRC_K | ops[o], 0), 0);
		}
	for (size_t i = 0; i < N_EDGE; i++) {
		struct comb_insn p[] = { LDDW(3, edge_values[i]), MOV64_REG(0, 3), NEG64(3), NEG32(0),
					 ALU64_IMM(COMB_ALU_LSH, 0, 7), ALU64_REG(COMB_ALU_XOR, 0, 3), EXIT() };
		CHECK_EQ(compare_engines(p, ARRAY_SIZE(p), zero_mem, 0, NULL), 0);
	}
	static const int32_t widths[] = { 16, 32, 64 };
	for (size_t i = 0; i < 3; i++) {
		struct comb_insn p[] = { LDDW(6, 0x0102030405060708ull), LDDW(0, 0x1122334455667788ull),
					 LE(6, widths[i]), BE(0, widths[i]), BSWAP(6, widths[i]),
					 ALU64_REG(COMB_ALU_XOR, 0, 6), EXIT() };
		CHECK_EQ(compare_engines(p, ARRAY_SIZE(p), zero_mem, 0, NULL), 0);
	}
	static const int16_t sx[] = { 8, 16, 32 };
	for (size_t i = 0; i < 3; i++) {
		CHECK_EQ(check_binop_x(COMB_CLS_ALU64 | COMB_SRC_X | COMB_ALU_MOV, sx[i]), 0);
		if (sx[i] != 32)
			CHECK_EQ(check_binop_x(COMB_CLS_ALU | COMB_SRC_X | COMB_ALU_MOV, sx[i]), 0);
	}
}

TEST(jit_conditional_jumps_match_the_interpreter)
{
	static const uint8_t ops[] = { COMB_JMP_JEQ, COMB_JMP_JNE, COMB_JMP_JGT, COMB_JMP_JGE,
				       COMB_JMP_JLT, COMB_JMP_JLE, COMB_JMP_JSGT, COMB_JMP_JSGE,
				       COMB_JMP_JSLT, COMB_JMP_JSLE, COMB_JMP_JSET };
	static const int32_t imms[] = { 0, 1, -1, INT32_MIN, INT32_MAX, 7 };
	for (int cls = 0; cls < 2; cls++)
		for (size_t o = 0; o < sizeof(ops); o++)
			for (size_t i = 0; i < N_EDGE; i++)
				for (size_t j = 0; j < N_EDGE; j++) {
					uint8_t c = cls ? COMB_CLS_JMP32 : COMB_CLS_JMP;
					int32_t imm = imms[j % 6];
					struct comb_insn p[] = {
						LDDW(1, edge_values[i]), LDDW(2, edge_values[j]), MOV64_IMM(0, 0),
						INSN(c | COMB_SRC_X | ops[o], 1, 2, 1, 0), ALU64_IMM(COMB_ALU_OR, 0, 1),
						INSN(c | COMB_SRC_K | ops[o], 1, 0, 1, imm), ALU64_IMM(COMB_ALU_OR, 0, 2),
						EXIT(),
					};
					CHECK_EQ(compare_engines(p, ARRAY_SIZE(p), zero_mem, 0, NULL), 0);
				}
}

TEST(jit_atomics_match_the_interpreter)
{
	static const int32_t ops[] = { COMB_ATOMIC_ADD, COMB_ATOMIC_OR, COMB_ATOMIC_AND, COMB_ATOMIC_XOR,
				       COMB_ATOMIC_ADD | COMB_ATOMIC_FETCH, COMB_ATOMIC_OR | COMB_ATOMIC_FETCH,
				       COMB_ATOMIC_AND | COMB_ATOMIC_FETCH, COMB_ATOMIC_XOR | COMB_ATOMIC_FETCH,
				       COMB_ATOMIC_XCHG, COMB_ATOMIC_CMPXCHG };
	static const int srcs[] = { 0, 2, 4 };
	uint8_t mem[256];
	for (size_t i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(i * 37 + 11);
	for (int size = 0; size < 2; size++)
		for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
			for (size_t s = 0; s < 3; s++)
				for (int eq = 0; eq < 2; eq++) {
					int src = srcs[s];
					uint8_t sz = size ? COMB_SIZE_DW : COMB_SIZE_W;
					struct comb_insn set_r0 = eq ? (struct comb_insn)LDX_MEM(sz, 0, 6, 16)
								     : (struct comb_insn)MOV64_IMM(0, 5);
					struct comb_insn p[] = {
						MOV64_REG(6, 1),
						LDDW(0, 0xf0f0f0f00f0f0f0full), LDDW(2, 0x1234567890abcdefull),
						LDDW(4, 0xfedcba9876543210ull),
						/* eq: r0 = the current value, so cmpxchg succeeds */
						set_r0,
						ATOMIC(sz, 6, src, 16, ops[o]),
						STX_MEM(COMB_SIZE_DW, 6, 0, 64), STX_MEM(COMB_SIZE_DW, 6, 2, 72),
						STX_MEM(COMB_SIZE_DW, 6, 4, 80), EXIT(),
					};
					CHECK_EQ(compare_engines(p, ARRAY_SIZE(p), mem, 0, NULL), 0);
				}
}

TEST(jit_loads_and_stores_every_width)
{
	uint8_t mem[256];
	for (size_t i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(0x80 + i * 13);
	static const uint8_t sizes[] = { COMB_SIZE_B, COMB_SIZE_H, COMB_SIZE_W, COMB_SIZE_DW };
	for (size_t s = 0; s < 4; s++)
		for (int base = 1; base <= 10; base += 9) {
			struct comb_insn sx = s < 3 ? (struct comb_insn)LDX_MEMSX(sizes[s], 4, 7, 2)
						    : (struct comb_insn)MOV64_IMM(4, 0);
			struct comb_insn p[] = {
				MOV64_REG(7, 1), LDDW(2, 0x8899aabbccddeeffull),
				STX_MEM(COMB_SIZE_DW, 10, 2, -8), STX_MEM(COMB_SIZE_DW, 10, 2, -512),
				STX_MEM(sizes[s], base == 1 ? 7 : 10, 2, base == 1 ? 3 : -300),
				ST_MEM(sizes[s], 7, 40, -2), ST_MEM(sizes[s], 10, -16, 0x7f),
				LDX_MEM(sizes[s], 3, 7, 1), STX_MEM(COMB_SIZE_DW, 7, 3, 100),
				LDX_MEM(sizes[s], 3, 10, -16), STX_MEM(COMB_SIZE_DW, 7, 3, 108),
				sx, STX_MEM(COMB_SIZE_DW, 7, 4, 116),
				LDX_MEM(COMB_SIZE_DW, 0, 10, -512), EXIT(),
			};
			CHECK_EQ(compare_engines(p, ARRAY_SIZE(p), mem, 0, NULL), 0);
		}
}

TEST(jit_helpers_and_callx)
{
	uint64_t r0;
	struct comb_insn call[] = {
		MOV64_IMM(1, 1), MOV64_IMM(2, 10), MOV64_IMM(3, 100), MOV64_IMM(4, 1000), MOV64_IMM(5, 10000),
		MOV64_IMM(6, 7), CALL_HELPER(JIT_HELPER_ADD), ALU64_REG(COMB_ALU_ADD, 0, 6), EXIT(),
	};
	CHECK_EQ(compare_engines(call, ARRAY_SIZE(call), zero_mem, 0, &r0), 0);
	CHECK_EQ(r0, 1 + 20 + 300 + 4000 + 50000 + 7);
	struct comb_insn callx[] = {
		MOV64_REG(8, 2), MOV64_IMM(1, 1), MOV64_IMM(2, 2), MOV64_IMM(3, 3), MOV64_IMM(4, 4),
		MOV64_IMM(5, 5), CALLX(8), EXIT(),
	};
	CHECK_EQ(compare_engines(callx, ARRAY_SIZE(callx), zero_mem, JIT_HELPER_ADD, &r0), 0);
	CHECK_EQ(r0, 1 + 4 + 9 + 16 + 25);
	/* A missing helper id fails the run the same way in both engines. */
	struct comb_prog *prog = load(callx, ARRAY_SIZE(callx), NULL, 0);
	CHECK(prog && prog->jit);
	struct comb_run_error error = { 0 };
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = COMB_ENGINE_JIT, .args = { 0, 999 },
				      .error = &error };
	CHECK_EQ(comb_prog_run(prog, &opts, &r0), -ENOENT);
	CHECK_EQ(error.insn, 6);
	CHECK(strstr(error.message, "callx to helper 999") != NULL);
	opts.args[1] = 1u << 30;
	CHECK_EQ(comb_prog_run(prog, &opts, &r0), -ENOENT);
	comb_prog_free(prog);
}

TEST(jit_bpf_to_bpf_calls_keep_r6_to_r9_and_frames)
{
	uint64_t r0;
	/* main: r6..r9 = 6..9, store 42 on its frame, call f(5), check all. */
	struct comb_insn p[] = {
		MOV64_IMM(6, 6), MOV64_IMM(7, 7), MOV64_IMM(8, 8), MOV64_IMM(9, 9),
		ST_MEM(COMB_SIZE_DW, 10, -8, 42), MOV64_IMM(1, 5), CALL_LOCAL(9),
		LDX_MEM(COMB_SIZE_DW, 1, 10, -8), ALU64_REG(COMB_ALU_ADD, 0, 1),
		ALU64_REG(COMB_ALU_ADD, 0, 6), ALU64_REG(COMB_ALU_ADD, 0, 7), ALU64_REG(COMB_ALU_ADD, 0, 8),
		ALU64_REG(COMB_ALU_ADD, 0, 9), ALU64_IMM(COMB_ALU_MUL, 0, 10), EXIT(), EXIT(),
		/* f: clobbers r6..r9 and its own frame, returns r1 * 100 */
		MOV64_IMM(6, 0), MOV64_IMM(7, 0), MOV64_IMM(8, 0), MOV64_IMM(9, 0),
		ST_MEM(COMB_SIZE_DW, 10, -8, 1), MOV64_REG(0, 1), ALU64_IMM(COMB_ALU_MUL, 0, 100), EXIT(),
	};
	CHECK_EQ(compare_engines(p, ARRAY_SIZE(p), zero_mem, 0, &r0), 0);
	CHECK_EQ(r0, (500 + 42 + 6 + 7 + 8 + 9) * 10);
	/* Endless recursion: the frame limit, -ELOOP, in both engines. */
	struct comb_insn rec[] = { MOV64_IMM(0, 1), CALL_LOCAL(-2), EXIT() };
	CHECK_EQ(compare_engines(rec, ARRAY_SIZE(rec), zero_mem, 0, NULL), 0);
	struct comb_prog *prog = load(rec, ARRAY_SIZE(rec), NULL, 0);
	struct comb_run_error error = { 0 };
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = COMB_ENGINE_JIT, .error = &error };
	CHECK_EQ(comb_prog_run(prog, &opts, &r0), -ELOOP);
	CHECK(strstr(error.message, "call depth") != NULL);
	comb_prog_free(prog);
	/* Depth 6 below main (8 frames) is allowed. */
	struct comb_insn deep[] = { MOV64_IMM(1, 6), CALL_LOCAL(1), EXIT(),
				    /* f(n): n ? f(n - 1) + 1 : 0 */
				    MOV64_IMM(0, 0), JMP_IMM(COMB_JMP_JEQ, 1, 0, 3), ALU64_IMM(COMB_ALU_SUB, 1, 1),
				    CALL_LOCAL(-4), ALU64_IMM(COMB_ALU_ADD, 0, 1), EXIT() };
	CHECK_EQ(compare_engines(deep, ARRAY_SIZE(deep), zero_mem, 0, &r0), 0);
	CHECK_EQ(r0, 6);
}

#define LDDW_FUNC(d, rel) \
	INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, d, COMB_PSEUDO_FUNC, 0, rel), INSN(0, 0, 0, 0, 0)
#define LDDW_MAP(d, idx) \
	INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, d, COMB_PSEUDO_MAP_IDX, 0, idx), INSN(0, 0, 0, 0, 0)

TEST(jit_callbacks_run_in_native_code)
{
	uint64_t r0;
	/* repeat(cb, 10, 3): cb(i, ctx) = i * ctx; sum = 3 * 45 */
	struct comb_insn p[] = {
		LDDW_FUNC(1, 6), MOV64_IMM(2, 10), MOV64_IMM(3, 3), CALL_HELPER(JIT_HELPER_REPEAT),
		ALU64_IMM(COMB_ALU_ADD, 0, 1), EXIT(),
		MOV64_REG(0, 1), ALU64_REG(COMB_ALU_MUL, 0, 2), EXIT(),
	};
	CHECK_EQ(compare_engines(p, ARRAY_SIZE(p), zero_mem, 0, &r0), 0);
	CHECK_EQ(r0, 136);
	/* A callback that recurses without end fails the whole run. */
	struct comb_insn bad[] = {
		LDDW_FUNC(1, 6), MOV64_IMM(2, 1), MOV64_IMM(3, 3), CALL_HELPER(JIT_HELPER_REPEAT),
		MOV64_IMM(0, 1), EXIT(),
		MOV64_IMM(0, 1), CALL_LOCAL(-2), EXIT(),
	};
	CHECK_EQ(compare_engines(bad, ARRAY_SIZE(bad), zero_mem, 0, &r0), 0);
	struct comb_prog *prog = load(bad, ARRAY_SIZE(bad), NULL, 0);
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = COMB_ENGINE_JIT };
	CHECK_EQ(comb_prog_run(prog, &opts, &r0), -ELOOP);
	comb_prog_free(prog);
}

TEST(jit_tail_calls)
{
	struct comb_map_def def = { .sz = sizeof(def), .name = "jmp", .type = COMB_MAP_PROG_ARRAY,
				    .key_size = 4, .value_size = 4, .max_entries = 4 };
	struct comb_map *jmp;
	char err[256];
	CHECK_EQ(comb_map_create(&def, &jmp, err, sizeof(err)), 0);
	struct comb_map *maps[] = { jmp };
	/* slot 0: r0 = r1 + 100; slot 1: counts itself (r1 += 1) up to the limit;
	 * slot 2: an LD_ABS program the JIT leaves to the interpreter. */
	struct comb_insn t0[] = { MOV64_REG(0, 1), ALU64_IMM(COMB_ALU_ADD, 0, 100), EXIT() };
	struct comb_insn t1[] = { ALU64_IMM(COMB_ALU_ADD, 1, 1), MOV64_REG(6, 1), LDDW_MAP(2, 0),
				  MOV64_IMM(3, 1), CALL_HELPER(12), MOV64_REG(0, 6), EXIT() };
	struct comb_insn t2[] = { MOV64_REG(0, 1), ALU64_IMM(COMB_ALU_ADD, 0, 200), EXIT(),
				  LD_ABS(COMB_SIZE_B, 0), EXIT() };
	struct comb_prog *p0 = load(t0, ARRAY_SIZE(t0), maps, 1);
	struct comb_prog *p1 = load(t1, ARRAY_SIZE(t1), maps, 1);
	struct comb_prog *p2 = load(t2, ARRAY_SIZE(t2), maps, 1);
	CHECK(p0 && p1 && p2);
	CHECK(p0->jit && p1->jit && !p2->jit);
	struct comb_prog *progs[] = { p0, p1, p2 };
	for (uint32_t k = 0; k < 3; k++)
		CHECK_EQ(comb_map_update(jmp, &k, &progs[k], COMB_ANY), 0);
	/* caller: tail call to slot r1 from a bpf-to-bpf callee; r0 = 1 if it falls through */
	struct comb_insn caller[] = {
		MOV64_REG(3, 1), MOV64_IMM(1, 5), CALL_LOCAL(2), ALU64_IMM(COMB_ALU_ADD, 0, 1000), EXIT(),
		LDDW_MAP(2, 0), CALL_HELPER(12), MOV64_IMM(0, 1), EXIT(),
	};
	struct comb_prog *pc = load(caller, ARRAY_SIZE(caller), maps, 1);
	CHECK(pc && pc->jit);
	static const uint64_t expect[] = { 1105, 1038, 1205, 1001, 1001 };
	for (uint64_t slot = 0; slot < 5; slot++)
		for (int e = 0; e < 2; e++) {
			struct comb_run_opts opts = { .sz = sizeof(opts),
						      .engine = e ? COMB_ENGINE_JIT : COMB_ENGINE_INTERP,
						      .args = { slot } };
			uint64_t r0 = 0;
			CHECK_EQ(comb_prog_run(pc, &opts, &r0), 0);
			CHECK_EQ(r0, expect[slot]);
		}
	comb_prog_free(pc);
	comb_prog_free(p0);
	comb_prog_free(p1);
	comb_prog_free(p2);
	comb_map_free(jmp);
}

TEST(jit_falls_back_to_the_interpreter_for_ld_abs)
{
	uint8_t pkt[4] = { 0x12, 0x34, 0x56, 0x78 };
	struct comb_insn p[] = { LD_ABS(COMB_SIZE_H, 1), EXIT() };
	struct comb_prog *prog = load(p, ARRAY_SIZE(p), NULL, 0);
	CHECK(prog && !prog->jit);
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = COMB_ENGINE_JIT, .packet = pkt,
				      .packet_len = sizeof(pkt) };
	uint64_t r0 = 0;
	CHECK_EQ(comb_prog_run(prog, &opts, &r0), 0);
	CHECK_EQ(r0, 0x3456);
	comb_prog_free(prog);
}

TEST(jit_code_pages_are_never_writable)
{
	struct comb_insn p[] = { MOV64_IMM(0, 1), EXIT() };
	struct comb_prog *prog = load(p, ARRAY_SIZE(p), NULL, 0);
	CHECK(prog && prog->jit);
	uintptr_t addr = (uintptr_t)comb_jit_code_bytes(prog->jit, NULL);
	FILE *maps = fopen("/proc/self/maps", "r");
	CHECK(maps != NULL);
	char line[512], perms[8] = "";
	while (maps && fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		char pr[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, pr) == 3 && addr >= lo && addr < hi)
			snprintf(perms, sizeof(perms), "%s", pr);
	}
	if (maps)
		fclose(maps);
	CHECK(strncmp(perms, "r-x", 3) == 0); /* r-xp, or r-xs in the shared code arena */
	CHECK_STR(comb_engine_name(COMB_ENGINE_JIT), "jit");
	enum comb_engine e;
	CHECK_EQ(comb_engine_parse("jit", &e), 0);
	CHECK_EQ(e, COMB_ENGINE_JIT);
	comb_prog_free(prog);
}

/* ---- generated programs ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static const int work_regs[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9 };

static int rnd_reg(struct rng *r) { return work_regs[rnd(r) % 9]; }

static int32_t rnd_imm(struct rng *r)
{
	static const int32_t special[] = { 0, 1, -1, 2, 7, 31, 32, 63, 64, INT32_MIN, INT32_MAX, 255, -256 };
	return rnd(r) % 3 ? special[rnd(r) % 13] : (int32_t)rnd(r);
}

static struct comb_insn rnd_alu(struct rng *r)
{
	static const uint8_t ops[] = { COMB_ALU_ADD, COMB_ALU_SUB, COMB_ALU_MUL, COMB_ALU_DIV, COMB_ALU_OR,
				       COMB_ALU_AND, COMB_ALU_LSH, COMB_ALU_RSH, COMB_ALU_NEG, COMB_ALU_MOD,
				       COMB_ALU_XOR, COMB_ALU_MOV, COMB_ALU_ARSH, COMB_ALU_END };
	uint8_t op = ops[rnd(r) % sizeof(ops)];
	uint8_t cls = rnd(r) & 1 ? COMB_CLS_ALU64 : COMB_CLS_ALU;
	bool reg = rnd(r) & 1;
	int16_t off = 0;
	int32_t imm = rnd_imm(r);
	if (op == COMB_ALU_NEG)
		reg = false, imm = 0;
	if (op == COMB_ALU_END) {
		static const int32_t widths[] = { 16, 32, 64 };
		imm = widths[rnd(r) % 3];
		if (cls == COMB_CLS_ALU64)
			reg = false;
	}
	if (op == COMB_ALU_DIV || op == COMB_ALU_MOD)
		off = rnd(r) & 1;
	if (op == COMB_ALU_MOV && reg && rnd(r) % 3 == 0)
		off = cls == COMB_CLS_ALU64 ? (int16_t[]){ 8, 16, 32 }[rnd(r) % 3] : (int16_t[]){ 8, 16 }[rnd(r) % 2];
	uint8_t code = cls | (reg ? COMB_SRC_X : COMB_SRC_K) | op;
	if (op == COMB_ALU_END) /* the X bit picks the byte order; src stays 0 */
		return (struct comb_insn)INSN(code, rnd_reg(r), 0, 0, imm);
	return (struct comb_insn)INSN(code, rnd_reg(r), reg ? rnd_reg(r) : 0, off, reg ? 0 : imm);
}

static struct comb_insn rnd_mem(struct rng *r)
{
	static const uint8_t sizes[] = { COMB_SIZE_B, COMB_SIZE_H, COMB_SIZE_W, COMB_SIZE_DW };
	static const int32_t atomics[] = { COMB_ATOMIC_ADD, COMB_ATOMIC_OR, COMB_ATOMIC_AND, COMB_ATOMIC_XOR,
					   COMB_ATOMIC_ADD | COMB_ATOMIC_FETCH, COMB_ATOMIC_OR | COMB_ATOMIC_FETCH,
					   COMB_ATOMIC_AND | COMB_ATOMIC_FETCH, COMB_ATOMIC_XOR | COMB_ATOMIC_FETCH,
					   COMB_ATOMIC_XCHG, COMB_ATOMIC_CMPXCHG };
	uint8_t size = sizes[rnd(r) % 4];
	bool stack = rnd(r) & 1;
	int base = stack ? 10 : 6;
	int16_t off = stack ? (int16_t)(-64 + (int)(rnd(r) % 57)) : (int16_t)(rnd(r) % 121);
	switch (rnd(r) % 5) {
	case 0: return (struct comb_insn)LDX_MEM(size, rnd_reg(r), base, off);
	case 1:
		return size == COMB_SIZE_DW ? (struct comb_insn)LDX_MEM(size, rnd_reg(r), base, off)
					    : (struct comb_insn)LDX_MEMSX(size, rnd_reg(r), base, off);
	case 2: return (struct comb_insn)STX_MEM(size, base, rnd_reg(r), off);
	case 3: return (struct comb_insn)ST_MEM(size, base, off, rnd_imm(r));
	default:
		return (struct comb_insn)ATOMIC(rnd(r) & 1 ? COMB_SIZE_DW : COMB_SIZE_W, 6, rnd_reg(r),
						(int16_t)(rnd(r) % 15 * 8), atomics[rnd(r) % 10]);
	}
}

static struct comb_insn rnd_jump(struct rng *r, int16_t room)
{
	static const uint8_t ops[] = { COMB_JMP_JEQ, COMB_JMP_JNE, COMB_JMP_JGT, COMB_JMP_JGE,
				       COMB_JMP_JLT, COMB_JMP_JLE, COMB_JMP_JSGT, COMB_JMP_JSGE,
				       COMB_JMP_JSLT, COMB_JMP_JSLE, COMB_JMP_JSET, COMB_JMP_JA };
	uint8_t op = ops[rnd(r) % sizeof(ops)];
	int16_t off = (int16_t)(rnd(r) % (uint64_t)room);
	if (op == COMB_JMP_JA)
		return (struct comb_insn)JA(off);
	uint8_t cls = rnd(r) & 1 ? COMB_CLS_JMP : COMB_CLS_JMP32;
	bool reg = rnd(r) & 1;
	return (struct comb_insn)INSN(cls | (reg ? COMB_SRC_X : COMB_SRC_K) | op, rnd_reg(r), reg ? rnd_reg(r) : 0,
				      off, reg ? 0 : rnd_imm(r));
}

#define GEN_BODY 48
#define GEN_MAX (1 + 18 + 8 + GEN_BODY + 10)

/* A program that starts from random registers and stack, runs GEN_BODY
 * random instructions (branches only go forward) and stores r0-r9 to memory. */
static size_t generate(struct rng *r, struct comb_insn *p)
{
	size_t n = 0;
	p[n++] = (struct comb_insn)MOV64_REG(6, 1);
	for (size_t i = 0; i < 9; i++) {
		uint64_t v = rnd(r);
		struct comb_insn l[] = { LDDW(work_regs[i], v) };
		p[n++] = l[0];
		p[n++] = l[1];
	}
	for (int16_t off = -64; off < 0; off += 8)
		p[n++] = (struct comb_insn)STX_MEM(COMB_SIZE_DW, 10, rnd_reg(r), off);
	size_t body_end = n + GEN_BODY;
	while (n < body_end) {
		uint64_t pick = rnd(r) % 10;
		if (pick < 5)
			p[n] = rnd_alu(r);
		else if (pick < 8)
			p[n] = rnd_mem(r);
		else
			p[n] = rnd_jump(r, (int16_t)(body_end - n));
		n++;
	}
	for (size_t i = 0; i < 9; i++)
		p[n++] = (struct comb_insn)STX_MEM(COMB_SIZE_DW, 6, work_regs[i], (int16_t)(128 + 8 * i));
	p[n++] = (struct comb_insn)EXIT();
	return n;
}

TEST(jit_generated_programs_match_the_interpreter)
{
	struct rng r = { 0x9e3779b97f4a7c15ull };
	uint8_t mem[256];
	int failures = 0;
	for (int round = 0; round < 3000 && failures < 5; round++) {
		struct comb_insn p[GEN_MAX];
		size_t n = generate(&r, p);
		for (size_t i = 0; i < sizeof(mem); i++)
			mem[i] = (uint8_t)rnd(&r);
		if (compare_engines(p, n, mem, 0, NULL)) {
			fprintf(stderr, "  generated program %d differs\n", round);
			failures++;
		}
	}
	CHECK_EQ(failures, 0);
}
