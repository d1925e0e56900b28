/* tests/unit/test_interp.c - semantics of every instruction, in both engines.
 *
 * Every program here runs twice, in COMB_ENGINE_INTERP and COMB_ENGINE_CHECKED,
 * through run_case(): both must return the same status and the expected r0,
 * and leave caller memory (restored before each run) in the same final
 * state. Programs are built from struct comb_insn (tests/unit/insn_build.h),
 * not by the assembler, so these tests rest only on the RFC 9669 encoding.
 * Arithmetic and jumps are table driven: each row is run in its K form (when
 * the operand fits an immediate) and its X form; 32-bit rows put garbage in
 * the upper halves of the operands, which must be ignored.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include "../test.h"
#include "comb/vm.h"
#include "insn_build.h"

/* ---- the two-engine runner ---- */

struct helper_def {
	uint32_t id;
	const char *name;
	comb_helper_fn fn;
};

struct prog_case {
	const struct comb_insn *insns;
	size_t count;
	uint64_t args[5];
	void *mem; /* caller memory: writable region in the checked engine */
	size_t mem_size;
	const void *packet;
	size_t packet_len;
	const struct helper_def *helpers;
	size_t helper_count;
	void *vm_user;
	void *run_user;
};

static const enum comb_engine both_engines[] = { COMB_ENGINE_INTERP, COMB_ENGINE_CHECKED };

static struct comb_prog *load_case(const char *file, int line, const struct prog_case *c,
				   struct comb_vm **vm_out)
{
	struct comb_vm_opts vopts = { .sz = sizeof(vopts), .user = c->vm_user };
	struct comb_vm *vm = NULL;
	struct comb_prog *prog = NULL;
	char err[256] = "";
	int ret = comb_vm_new(&vopts, &vm);
	if (ret) {
		test_fail(file, line, "comb_vm_new: %d", ret);
		return NULL;
	}
	for (size_t i = 0; i < c->helper_count; i++)
		comb_vm_register_helper(vm, c->helpers[i].id, c->helpers[i].name, c->helpers[i].fn);
	ret = comb_prog_load(vm, c->insns, c->count, NULL, &prog, err, sizeof(err));
	if (ret) {
		test_fail(file, line, "comb_prog_load: %d: %s", ret, err);
		comb_vm_free(vm);
		return NULL;
	}
	*vm_out = vm;
	return prog;
}

static int run_in_engine(const struct prog_case *c, const struct comb_prog *prog,
			 enum comb_engine engine, uint64_t *r0, struct comb_run_error *error)
{
	struct comb_region region = { .addr = (uint64_t)(uintptr_t)c->mem,
				      .size = c->mem_size, .writable = true };
	struct comb_run_opts opts = {
		.sz = sizeof(opts), .engine = engine, .user = c->run_user,
		.packet = c->packet, .packet_len = c->packet_len,
		.regions = c->mem ? &region : NULL, .region_count = c->mem ? 1 : 0,
		.error = error,
	};
	memcpy(opts.args, c->args, sizeof(opts.args));
	return comb_prog_run(prog, &opts, r0);
}

/* Run c in both engines; each must return expected_ret and, when that is 0,
 * r0 == expected_r0. Caller memory is reset before each run and must end the
 * same in both (it keeps the last run's contents for the caller to check).
 * Returns true when everything matched, after reporting any mismatch. */
static bool run_case(const char *file, int line, const struct prog_case *c, int expected_ret,
		     uint64_t expected_r0)
{
	struct comb_vm *vm = NULL;
	struct comb_prog *prog = load_case(file, line, c, &vm);
	if (!prog)
		return false;
	unsigned char *initial = c->mem_size ? malloc(c->mem_size) : NULL;
	unsigned char *first_final = c->mem_size ? malloc(c->mem_size) : NULL;
	if (c->mem_size)
		memcpy(initial, c->mem, c->mem_size);
	bool ok = true;
	for (size_t e = 0; e < ARRAY_SIZE(both_engines) && ok; e++) {
		enum comb_engine engine = both_engines[e];
		struct comb_run_error error = { .insn = -1 };
		uint64_t r0 = 0xbadbadbadbadull;
		if (c->mem_size)
			memcpy(c->mem, initial, c->mem_size);
		int ret = run_in_engine(c, prog, engine, &r0, &error);
		if (ret != expected_ret) {
			test_fail(file, line, "engine %s: comb_prog_run returned %d, expected %d (%s)",
				  comb_engine_name(engine), ret, expected_ret, error.message);
			ok = false;
		} else if (ret == 0 && r0 != expected_r0) {
			test_fail(file, line, "engine %s: r0 = 0x%" PRIx64 ", expected 0x%" PRIx64,
				  comb_engine_name(engine), r0, expected_r0);
			ok = false;
		} else if (c->mem_size && e == 0) {
			memcpy(first_final, c->mem, c->mem_size);
		} else if (c->mem_size && memcmp(first_final, c->mem, c->mem_size) != 0) {
			test_fail(file, line, "engine %s left different memory than %s",
				  comb_engine_name(engine), comb_engine_name(both_engines[0]));
			ok = false;
		}
	}
	free(initial);
	free(first_final);
	comb_prog_free(prog);
	comb_vm_free(vm);
	return ok;
}

/* Run a program with no inputs; expect r0 (or an error status). */
#define EXPECT_R0(prog, r0)                                                                 \
	do {                                                                                \
		struct prog_case expect_case_ = { .insns = (prog), .count = ARRAY_SIZE(prog) }; \
		if (!run_case(__FILE__, __LINE__, &expect_case_, 0, (r0)))                  \
			return;                                                             \
	} while (0)
#define EXPECT_CASE(c, ret, r0)                                                             \
	do {                                                                                \
		if (!run_case(__FILE__, __LINE__, (c), (ret), (r0)))                        \
			return;                                                             \
	} while (0)

/* ---- arithmetic ---- */

enum { FORM_BOTH = 0, FORM_K_ONLY = 1, FORM_X_ONLY = 2 };

struct alu_row {
	uint8_t cls; /* COMB_CLS_ALU or COMB_CLS_ALU64 */
	uint8_t op;
	int16_t off; /* 1 for SDIV/SMOD, 8/16/32 for MOVSX */
	uint64_t a;  /* r0 before */
	uint64_t b;  /* src register; imm = (int32_t)b in the K form */
	uint64_t expected;
	int forms;
};

/* A K form exists when imm reproduces b: any b for 32-bit ops (only the low
 * half matters), a sign-extended 32-bit value for 64-bit ops. */
static bool alu_row_has_k_form(const struct alu_row *row)
{
	if (row->forms == FORM_X_ONLY)
		return false;
	if (row->cls == COMB_CLS_ALU)
		return true;
	return (uint64_t)(int64_t)(int32_t)row->b == row->b;
}

/* Returns false (after reporting) on the first mismatching row. */
static bool run_alu_row(const char *file, int line, const struct alu_row *row, size_t idx)
{
	struct comb_insn x_prog[] = {
		LDDW(0, row->a), LDDW(1, row->b),
		INSN(row->cls | COMB_SRC_X | row->op, 0, 1, row->off, 0), EXIT(),
	};
	struct comb_insn k_prog[] = {
		LDDW(0, row->a), INSN(row->cls | COMB_SRC_K | row->op, 0, 0, row->off, (int32_t)row->b),
		EXIT(),
	};
	if (row->forms != FORM_K_ONLY) {
		struct prog_case c = { .insns = x_prog, .count = ARRAY_SIZE(x_prog) };
		if (!run_case(file, line, &c, 0, row->expected)) {
			test_fail(file, line, "row %zu, X form", idx);
			return false;
		}
	}
	if (alu_row_has_k_form(row)) {
		struct prog_case c = { .insns = k_prog, .count = ARRAY_SIZE(k_prog) };
		if (!run_case(file, line, &c, 0, row->expected)) {
			test_fail(file, line, "row %zu, K form", idx);
			return false;
		}
	}
	return true;
}

#define RUN_ALU_TABLE(rows)                                                                 \
	do {                                                                                \
		for (size_t row_i_ = 0; row_i_ < ARRAY_SIZE(rows); row_i_++)                 \
			if (!run_alu_row(__FILE__, __LINE__, &(rows)[row_i_], row_i_))      \
				return;                                                     \
	} while (0)

#define A64 COMB_CLS_ALU64
#define A32 COMB_CLS_ALU
#define M1 0xffffffffffffffffull
#define I64_MIN 0x8000000000000000ull

TEST(interp_alu64_add_sub_mul)
{
	static const struct alu_row rows[] = {
		{ A64, COMB_ALU_ADD, 0, 1, 2, 3, 0 },
		{ A64, COMB_ALU_ADD, 0, M1, 1, 0, 0 },
		{ A64, COMB_ALU_ADD, 0, 5, M1, 4, 0 }, /* imm -1 sign-extends */
		{ A64, COMB_ALU_ADD, 0, 0xffffffff, 1, 0x100000000ull, 0 },
		{ A64, COMB_ALU_SUB, 0, 3, 5, 0xfffffffffffffffeull, 0 },
		{ A64, COMB_ALU_SUB, 0, 0x100000000ull, 1, 0xffffffff, 0 },
		{ A64, COMB_ALU_MUL, 0, 0x100000000ull, 0x10, 0x1000000000ull, 0 },
		{ A64, COMB_ALU_MUL, 0, M1, M1, 1, 0 },
		{ A64, COMB_ALU_MUL, 0, 0x123456789ull, 0x1000000000ull, 0x3456789000000000ull, 0 },
	};
	RUN_ALU_TABLE(rows);
}

TEST(interp_alu64_div_mod)
{
	static const struct alu_row rows[] = {
		{ A64, COMB_ALU_DIV, 0, 100, 7, 14, 0 },
		{ A64, COMB_ALU_DIV, 0, M1, 2, 0x7fffffffffffffffull, 0 },
		{ A64, COMB_ALU_DIV, 0, 0xfffffffffffffffeull, M1, 0, 0 }, /* unsigned */
		{ A64, COMB_ALU_DIV, 0, M1, M1, 1, 0 },
		{ A64, COMB_ALU_DIV, 0, 0x123456789ull, 0, 0, 0 }, /* x / 0 = 0 */
		{ A64, COMB_ALU_DIV, 0, 0x100000000ull, 0x100000000ull, 1, 0 },
		{ A64, COMB_ALU_MOD, 0, 100, 7, 2, 0 },
		{ A64, COMB_ALU_MOD, 0, 0x123456789ull, 0, 0x123456789ull, 0 }, /* x % 0 = x */
		{ A64, COMB_ALU_MOD, 0, M1, 0, M1, 0 },
		{ A64, COMB_ALU_MOD, 0, 0xfffffffffffffffeull, M1, 0xfffffffffffffffeull, 0 },
		{ A64, COMB_ALU_MOD, 0, 0x100000005ull, 0x100000000ull, 5, 0 },
	};
	RUN_ALU_TABLE(rows);
}

TEST(interp_alu64_sdiv_smod)
{
	static const struct alu_row rows[] = {
		{ A64, COMB_ALU_DIV, 1, (uint64_t)-7, 2, (uint64_t)-3, 0 },
		{ A64, COMB_ALU_DIV, 1, 7, (uint64_t)-2, (uint64_t)-3, 0 },
		{ A64, COMB_ALU_DIV, 1, (uint64_t)-7, (uint64_t)-2, 3, 0 },
		{ A64, COMB_ALU_DIV, 1, I64_MIN, M1, I64_MIN, 0 }, /* INT_MIN / -1 */
		{ A64, COMB_ALU_DIV, 1, (uint64_t)-7, 0, 0, 0 },
		{ A64, COMB_ALU_DIV, 1, 0x7fffffff00000000ull, 0x100000000ull, 0x7fffffff, 0 },
		{ A64, COMB_ALU_MOD, 1, (uint64_t)-7, 2, (uint64_t)-1, 0 }, /* sign of dividend */
		{ A64, COMB_ALU_MOD, 1, 7, (uint64_t)-2, 1, 0 },
		{ A64, COMB_ALU_MOD, 1, (uint64_t)-7, (uint64_t)-2, (uint64_t)-1, 0 },
		{ A64, COMB_ALU_MOD, 1, (uint64_t)-13, 3, (uint64_t)-1, 0 },
		{ A64, COMB_ALU_MOD, 1, I64_MIN, M1, 0, 0 }, /* INT_MIN % -1 */
		{ A64, COMB_ALU_MOD, 1, (uint64_t)-7, 0, (uint64_t)-7, 0 },
	};
	RUN_ALU_TABLE(rows);
}

TEST(interp_alu64_bitwise_mov)
{
	static const struct alu_row rows[] = {
		{ A64, COMB_ALU_OR, 0, 0xf0f0000000000000ull, 0x0f0f, 0xf0f0000000000f0full, 0 },
		{ A64, COMB_ALU_OR, 0, 0, 0xffffffff80000000ull, 0xffffffff80000000ull, 0 },
		{ A64, COMB_ALU_AND, 0, 0xffff0000ffff0000ull, 0xff00ff00ff00ff00ull,
		  0xff000000ff000000ull, 0 },
		{ A64, COMB_ALU_AND, 0, 0x123456789abcdef0ull, M1, 0x123456789abcdef0ull, 0 },
		{ A64, COMB_ALU_XOR, 0, 0x123456789abcdef0ull, M1, 0xedcba9876543210full, 0 },
		{ A64, COMB_ALU_XOR, 0, 0x55, 0x0f, 0x5a, 0 },
		{ A64, COMB_ALU_MOV, 0, 0x1234, 0xffffffff80000000ull, 0xffffffff80000000ull, 0 },
		{ A64, COMB_ALU_MOV, 0, 0x1234, M1, M1, 0 },
		{ A64, COMB_ALU_MOV, 0, M1, 0x7fffffff, 0x7fffffff, 0 },
		{ A64, COMB_ALU_MOV, 0, 0, 0x123456789abcdef0ull, 0x123456789abcdef0ull, 0 },
	};
	RUN_ALU_TABLE(rows);
}

TEST(interp_alu64_shifts_mask_amount)
{
	static const struct alu_row rows[] = {
		{ A64, COMB_ALU_LSH, 0, 1, 63, I64_MIN, 0 },
		{ A64, COMB_ALU_LSH, 0, 1, 64, 1, 0 },  /* 64 & 63 = 0 */
		{ A64, COMB_ALU_LSH, 0, 1, 65, 2, 0 },
		{ A64, COMB_ALU_LSH, 0, 0xffffffff, 4, 0xffffffff0ull, 0 },
		{ A64, COMB_ALU_RSH, 0, I64_MIN, 63, 1, 0 },
		{ A64, COMB_ALU_RSH, 0, I64_MIN, 64, I64_MIN, 0 },
		{ A64, COMB_ALU_RSH, 0, I64_MIN, 0x44, 0x0800000000000000ull, 0 },
		{ A64, COMB_ALU_RSH, 0, M1, 32, 0xffffffff, 0 },
		{ A64, COMB_ALU_ARSH, 0, I64_MIN, 63, M1, 0 },
		{ A64, COMB_ALU_ARSH, 0, I64_MIN, 64, I64_MIN, 0 },
		{ A64, COMB_ALU_ARSH, 0, 0xfffffffffffffff0ull, 4, M1, 0 },
		{ A64, COMB_ALU_ARSH, 0, 0x7000000000000000ull, 4, 0x0700000000000000ull, 0 },
		{ A64, COMB_ALU_ARSH, 0, I64_MIN, 0x7f, M1, 0 },
	};
	RUN_ALU_TABLE(rows);
}

TEST(interp_alu32_add_sub_mul_zero_extend)
{
	static const struct alu_row rows[] = {
		{ A32, COMB_ALU_ADD, 0, M1, 0, 0xffffffff, 0 }, /* w0 += 0 clears the top */
		{ A32, COMB_ALU_ADD, 0, 0xdeadbeefffffffffull, 0x1234567800000001ull, 0, 0 },
		{ A32, COMB_ALU_ADD, 0, 0xdead000000000002ull, 0xbeef000000000003ull, 5, 0 },
		{ A32, COMB_ALU_SUB, 0, 0x100000000ull, 1, 0xffffffff, 0 },
		{ A32, COMB_ALU_SUB, 0, 0xaaaa000000000010ull, 0x10, 0, 0 },
		{ A32, COMB_ALU_MUL, 0, 0x10000, 0x10000, 0, 0 },
		{ A32, COMB_ALU_MUL, 0, 0xffffffff, 0xffffffff, 1, 0 },
		{ A32, COMB_ALU_MUL, 0, 3, 0xabc00000005ull, 15, 0 },
	};
	RUN_ALU_TABLE(rows);
}

TEST(interp_alu32_div_mod)
{
	static const struct alu_row rows[] = {
		{ A32, COMB_ALU_DIV, 0, 0xffffffff00000064ull, 7, 14, 0 },
		{ A32, COMB_ALU_DIV, 0, 0xffffffff, 0xfffffffffffffffeull, 1, 0 }, /* unsigned */
		{ A32, COMB_ALU_DIV, 0, 0xffffffff, 2, 0x7fffffff, 0 },
		/* Only the low half of the divisor counts: this divides by zero. */
		{ A32, COMB_ALU_DIV, 0, M1, 0xffffffff00000000ull, 0, 0 },
		{ A32, COMB_ALU_DIV, 0, 0x1234, 0, 0, 0 },
		{ A32, COMB_ALU_MOD, 0, 0x500000064ull, 7, 2, 0 },
		/* mod32 by zero keeps the low half and clears the upper half */
		{ A32, COMB_ALU_MOD, 0, 0xaaaaaaaa12345678ull, 0x100000000ull, 0x12345678, 0 },
		{ A32, COMB_ALU_MOD, 0, M1, 0, 0xffffffff, 0 },
		{ A32, COMB_ALU_MOD, 0, 0xfffffffe, 0xffffffff, 0xfffffffe, 0 },
	};
	RUN_ALU_TABLE(rows);
}

TEST(interp_alu32_sdiv_smod)
{
	static const struct alu_row rows[] = {
		{ A32, COMB_ALU_DIV, 1, 0xfffffff9, 2, 0xfffffffd, 0 },            /* -7/2 = -3 */
		{ A32, COMB_ALU_DIV, 1, 0x12345678fffffff9ull, 2, 0xfffffffd, 0 }, /* upper ignored */
		{ A32, COMB_ALU_DIV, 1, 7, 0xfffffffe, 0xfffffffd, 0 },            /* 7/-2 = -3 */
		{ A32, COMB_ALU_DIV, 1, 0xfffffff9, 0xfffffffe, 3, 0 },            /* -7/-2 = 3 */
		{ A32, COMB_ALU_DIV, 1, 0x80000000, 0xffffffff, 0x80000000, 0 },   /* INT_MIN/-1 */
		{ A32, COMB_ALU_DIV, 1, 0xfffffff9, 0, 0, 0 },
		/* 64-bit dividend -7 whose low half is 0xfffffff9: treated as s32 */
		{ A32, COMB_ALU_DIV, 1, 0x00000001fffffff9ull, 1, 0xfffffff9, 0 },
		{ A32, COMB_ALU_MOD, 1, 0xfffffff9, 2, 0xffffffff, 0 },            /* -7%2 = -1 */
		{ A32, COMB_ALU_MOD, 1, 7, 0xfffffffe, 1, 0 },                     /* 7%-2 = 1 */
		{ A32, COMB_ALU_MOD, 1, 0xfffffff9, 0xfffffffe, 0xffffffff, 0 },   /* -7%-2 = -1 */
		{ A32, COMB_ALU_MOD, 1, 0x80000000, 0xffffffff, 0, 0 },            /* INT_MIN%-1 */
		{ A32, COMB_ALU_MOD, 1, 0x12345678fffffff9ull, 0, 0xfffffff9, 0 }, /* %0 clears top */
	};
	RUN_ALU_TABLE(rows);
}

TEST(interp_alu32_bitwise_mov)
{
	static const struct alu_row rows[] = {
		{ A32, COMB_ALU_OR, 0, 0xfffffffff0f0f0f0ull, 0x0f0f0f0f, 0xffffffff, 0 },
		{ A32, COMB_ALU_AND, 0, 0xffff0000ffff0000ull, 0xffff00ff00ull, 0xff000000, 0 },
		{ A32, COMB_ALU_XOR, 0, 0x12345678, 0xffffffff, 0xedcba987, 0 },
		{ A32, COMB_ALU_XOR, 0, 0xffffffff00000000ull, 0xffffffff00000000ull, 0, 0 },
		{ A32, COMB_ALU_MOV, 0, M1, 0xdeadbeef12345678ull, 0x12345678, 0 },
		{ A32, COMB_ALU_MOV, 0, 0, 0xffffffff, 0xffffffff, 0 }, /* K: imm -1 */
	};
	RUN_ALU_TABLE(rows);
}

TEST(interp_alu32_shifts_mask_amount)
{
	static const struct alu_row rows[] = {
		{ A32, COMB_ALU_LSH, 0, 1, 31, 0x80000000, 0 },
		{ A32, COMB_ALU_LSH, 0, 1, 32, 1, 0 }, /* 32 & 31 = 0 */
		{ A32, COMB_ALU_LSH, 0, 1, 33, 2, 0 },
		{ A32, COMB_ALU_LSH, 0, 0x80000001, 1, 2, 0 }, /* nothing spills into the top */
		{ A32, COMB_ALU_RSH, 0, 0xffffffff80000000ull, 31, 1, 0 },
		{ A32, COMB_ALU_RSH, 0, 0xffffffff80000000ull, 32, 0x80000000, 0 },
		{ A32, COMB_ALU_RSH, 0, 0xffffffff, 0x24, 0x0fffffff, 0 },
		{ A32, COMB_ALU_ARSH, 0, 0x80000000, 31, 0xffffffff, 0 },
		{ A32, COMB_ALU_ARSH, 0, 0x80000000, 32, 0x80000000, 0 },
		{ A32, COMB_ALU_ARSH, 0, 0xfffffff0, 4, 0xffffffff, 0 },
		{ A32, COMB_ALU_ARSH, 0, 0x0000000f80000000ull, 4, 0xf8000000, 0 },
		{ A32, COMB_ALU_ARSH, 0, 0x70000000, 0x44, 0x07000000, 0 },
	};
	RUN_ALU_TABLE(rows);
}

TEST(interp_neg)
{
	static const struct alu_row rows[] = {
		{ A64, COMB_ALU_NEG, 0, 1, 0, M1, FORM_K_ONLY },
		{ A64, COMB_ALU_NEG, 0, I64_MIN, 0, I64_MIN, FORM_K_ONLY },
		{ A64, COMB_ALU_NEG, 0, 0x100000000ull, 0, 0xffffffff00000000ull, FORM_K_ONLY },
		{ A32, COMB_ALU_NEG, 0, 0x100000001ull, 0, 0xffffffff, FORM_K_ONLY },
		{ A32, COMB_ALU_NEG, 0, 0xffffffff00000000ull, 0, 0, FORM_K_ONLY },
		{ A32, COMB_ALU_NEG, 0, 0x80000000, 0, 0x80000000, FORM_K_ONLY },
	};
	RUN_ALU_TABLE(rows);
}

TEST(interp_movsx)
{
	static const struct alu_row rows[] = {
		{ A64, COMB_ALU_MOV, 8, 0, 0x80, 0xffffffffffffff80ull, FORM_X_ONLY },
		{ A64, COMB_ALU_MOV, 8, 0, 0x17f, 0x7f, FORM_X_ONLY },
		{ A64, COMB_ALU_MOV, 16, 0, 0x8000, 0xffffffffffff8000ull, FORM_X_ONLY },
		{ A64, COMB_ALU_MOV, 16, 0, 0xffff7fffull, 0x7fff, FORM_X_ONLY },
		{ A64, COMB_ALU_MOV, 32, 0, 0x80000000, 0xffffffff80000000ull, FORM_X_ONLY },
		{ A64, COMB_ALU_MOV, 32, 0, 0xffffffff7fffffffull, 0x7fffffff, FORM_X_ONLY },
		/* 32-bit forms sign-extend to 32 bits, then zero-extend to 64 */
		{ A32, COMB_ALU_MOV, 8, M1, 0x80, 0xffffff80, FORM_X_ONLY },
		{ A32, COMB_ALU_MOV, 8, M1, 0xffffffffffffff7full, 0x7f, FORM_X_ONLY },
		{ A32, COMB_ALU_MOV, 16, M1, 0x12348000, 0xffff8000, FORM_X_ONLY },
		{ A32, COMB_ALU_MOV, 16, M1, 0x7fff, 0x7fff, FORM_X_ONLY },
	};
	RUN_ALU_TABLE(rows);
}

TEST(interp_alu_other_registers)
{
	/* Same op between r6 and r9, result moved to r0. */
	struct comb_insn prog[] = {
		MOV64_IMM(6, 40), MOV64_IMM(9, 2), ALU64_REG(COMB_ALU_ADD, 6, 9),
		ALU64_REG(COMB_ALU_MUL, 9, 9), ALU64_REG(COMB_ALU_SUB, 6, 9), MOV64_REG(0, 6), EXIT(),
	};
	EXPECT_R0(prog, 38);
}

/* ---- byte order ---- */

TEST(interp_endian_le_be_bswap)
{
	const uint64_t v = 0x0123456789abcdefull;
	struct { struct comb_insn insn; uint64_t expected; } rows[] = {
		{ LE(0, 16), 0xcdef },   /* little-endian host: truncate */
		{ LE(0, 32), 0x89abcdef },
		{ LE(0, 64), v },
		{ BE(0, 16), 0xefcd },
		{ BE(0, 32), 0xefcdab89 },
		{ BE(0, 64), 0xefcdab8967452301ull },
		{ BSWAP(0, 16), 0xefcd },
		{ BSWAP(0, 32), 0xefcdab89 },
		{ BSWAP(0, 64), 0xefcdab8967452301ull },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct comb_insn prog[] = { LDDW(0, v), rows[i].insn, EXIT() };
		struct prog_case c = { .insns = prog, .count = ARRAY_SIZE(prog) };
		if (!run_case(__FILE__, __LINE__, &c, 0, rows[i].expected)) {
			test_fail(__FILE__, __LINE__, "endian row %zu", i);
			return;
		}
	}
}

/* ---- 64-bit immediates ---- */

TEST(interp_lddw_edge_values)
{
	static const uint64_t values[] = {
		0, 1, M1, I64_MIN, 0x7fffffffffffffffull, 0x00000000ffffffffull,
		0xffffffff00000000ull, 0x0000000080000000ull, 0x8000000080000000ull,
		0x123456789abcdef0ull,
	};
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		struct comb_insn prog[] = { MOV64_IMM(0, -1), LDDW(0, values[i]), EXIT() };
		struct prog_case c = { .insns = prog, .count = ARRAY_SIZE(prog) };
		if (!run_case(__FILE__, __LINE__, &c, 0, values[i]))
			return;
	}
}

/* ---- memory ---- */

TEST(interp_stack_ldx_all_sizes)
{
	const uint64_t v = 0x0102030405060708ull;
	struct { struct comb_insn load; uint64_t expected; } rows[] = {
		{ LDX_MEM(COMB_SIZE_B, 0, 10, -8), 0x08 },
		{ LDX_MEM(COMB_SIZE_B, 0, 10, -1), 0x01 },
		{ LDX_MEM(COMB_SIZE_H, 0, 10, -8), 0x0708 },
		{ LDX_MEM(COMB_SIZE_H, 0, 10, -2), 0x0102 },
		{ LDX_MEM(COMB_SIZE_W, 0, 10, -8), 0x05060708 },
		{ LDX_MEM(COMB_SIZE_W, 0, 10, -4), 0x01020304 },
		{ LDX_MEM(COMB_SIZE_DW, 0, 10, -8), v },
		{ LDX_MEM(COMB_SIZE_W, 0, 10, -6), 0x03040506 }, /* unaligned */
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct comb_insn prog[] = {
			LDDW(1, v), STX_MEM(COMB_SIZE_DW, 10, 1, -8), MOV64_IMM(0, -1), rows[i].load,
			EXIT(),
		};
		struct prog_case c = { .insns = prog, .count = ARRAY_SIZE(prog) };
		if (!run_case(__FILE__, __LINE__, &c, 0, rows[i].expected)) {
			test_fail(__FILE__, __LINE__, "load row %zu", i);
			return;
		}
	}
}

TEST(interp_stack_st_stx_all_sizes)
{
	struct { struct comb_insn store; uint64_t expected; } rows[] = {
		{ STX_MEM(COMB_SIZE_B, 10, 1, -8), 0xaaaaaaaaaaaaaaefull },
		{ STX_MEM(COMB_SIZE_H, 10, 1, -8), 0xaaaaaaaaaaaacdefull },
		{ STX_MEM(COMB_SIZE_W, 10, 1, -8), 0xaaaaaaaa89abcdefull },
		{ STX_MEM(COMB_SIZE_DW, 10, 1, -8), 0x0123456789abcdefull },
		{ STX_MEM(COMB_SIZE_B, 10, 1, -5), 0xaaaaaaaaefaaaaaaull },
		{ ST_MEM(COMB_SIZE_B, 10, -8, 0x1ff), 0xaaaaaaaaaaaaaaffull },
		{ ST_MEM(COMB_SIZE_H, 10, -8, 0x12345), 0xaaaaaaaaaaaa2345ull },
		{ ST_MEM(COMB_SIZE_W, 10, -8, -2), 0xaaaaaaaafffffffeull },
		{ ST_MEM(COMB_SIZE_DW, 10, -8, -2), 0xfffffffffffffffeull }, /* imm sign-extends */
		{ ST_MEM(COMB_SIZE_DW, 10, -8, 0x7fffffff), 0x7fffffff },
		{ ST_MEM(COMB_SIZE_W, 10, -4, 0x11223344), 0x11223344aaaaaaaaull },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct comb_insn prog[] = {
			LDDW(2, 0xaaaaaaaaaaaaaaaaull), STX_MEM(COMB_SIZE_DW, 10, 2, -8),
			LDDW(1, 0x0123456789abcdefull), rows[i].store,
			LDX_MEM(COMB_SIZE_DW, 0, 10, -8), EXIT(),
		};
		struct prog_case c = { .insns = prog, .count = ARRAY_SIZE(prog) };
		if (!run_case(__FILE__, __LINE__, &c, 0, rows[i].expected)) {
			test_fail(__FILE__, __LINE__, "store row %zu", i);
			return;
		}
	}
}

TEST(interp_memsx_sign_extending_loads)
{
	struct { uint64_t stored; struct comb_insn load; uint64_t expected; } rows[] = {
		{ 0x80, LDX_MEMSX(COMB_SIZE_B, 0, 10, -8), 0xffffffffffffff80ull },
		{ 0x7f, LDX_MEMSX(COMB_SIZE_B, 0, 10, -8), 0x7f },
		{ 0x80, LDX_MEM(COMB_SIZE_B, 0, 10, -8), 0x80 },
		{ 0x8000, LDX_MEMSX(COMB_SIZE_H, 0, 10, -8), 0xffffffffffff8000ull },
		{ 0x17fff, LDX_MEMSX(COMB_SIZE_H, 0, 10, -8), 0x7fff },
		{ 0x8000, LDX_MEM(COMB_SIZE_H, 0, 10, -8), 0x8000 },
		{ 0x80000000, LDX_MEMSX(COMB_SIZE_W, 0, 10, -8), 0xffffffff80000000ull },
		{ 0xffffffff7fffffffull, LDX_MEMSX(COMB_SIZE_W, 0, 10, -8), 0x7fffffff },
		{ 0x80000000, LDX_MEM(COMB_SIZE_W, 0, 10, -8), 0x80000000 },
		{ 0xfe00000000000000ull, LDX_MEMSX(COMB_SIZE_B, 0, 10, -1), 0xfffffffffffffffeull },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct comb_insn prog[] = {
			LDDW(1, rows[i].stored), STX_MEM(COMB_SIZE_DW, 10, 1, -8), rows[i].load, EXIT(),
		};
		struct prog_case c = { .insns = prog, .count = ARRAY_SIZE(prog) };
		if (!run_case(__FILE__, __LINE__, &c, 0, rows[i].expected)) {
			test_fail(__FILE__, __LINE__, "memsx row %zu", i);
			return;
		}
	}
}

TEST(interp_caller_memory_load_store)
{
	uint64_t buf[4] = { 0x1122334455667788ull, 0, 0, 0 };
	struct comb_insn prog[] = {
		LDX_MEM(COMB_SIZE_DW, 2, 1, 0),      /* r2 = buf[0] */
		STX_MEM(COMB_SIZE_DW, 1, 2, 8),      /* buf[1] = r2 */
		STX_MEM(COMB_SIZE_W, 1, 2, 16),      /* low half of buf[2] */
		ST_MEM(COMB_SIZE_H, 1, 22, 0xbeef),  /* top 2 bytes of buf[2] */
		ST_MEM(COMB_SIZE_B, 1, 31, 0x99),    /* last byte of buf */
		LDX_MEMSX(COMB_SIZE_B, 0, 1, 31),
		EXIT(),
	};
	struct prog_case c = {
		.insns = prog, .count = ARRAY_SIZE(prog), .args = { (uintptr_t)buf },
		.mem = buf, .mem_size = sizeof(buf),
	};
	EXPECT_CASE(&c, 0, 0xffffffffffffff99ull);
	CHECK_EQ(buf[0], 0x1122334455667788ull);
	CHECK_EQ(buf[1], 0x1122334455667788ull);
	CHECK_EQ(buf[2], 0xbeef000055667788ull);
	CHECK_EQ(buf[3], 0x9900000000000000ull);
}

TEST(interp_stack_full_512_bytes)
{
	/* Fill the whole frame with its own offsets, then sum them back. */
	struct comb_insn prog[] = {
		/* 0 */ MOV64_REG(1, 10),
		/* 1 */ ALU64_IMM(COMB_ALU_SUB, 1, 512),
		/* 2 */ MOV64_IMM(2, 0),
		/* 3 */ STX_MEM(COMB_SIZE_DW, 1, 2, 0), /* loop: *(r1) = r2 */
		/* 4 */ ALU64_IMM(COMB_ALU_ADD, 1, 8),
		/* 5 */ ALU64_IMM(COMB_ALU_ADD, 2, 1),
		/* 6 */ JMP_IMM(COMB_JMP_JNE, 2, 64, -4),
		/* 7 */ MOV64_IMM(0, 0),
		/* 8 */ LDX_MEM(COMB_SIZE_DW, 3, 10, -512),
		/* 9 */ ALU64_REG(COMB_ALU_ADD, 0, 3),
		/* 10 */ LDX_MEM(COMB_SIZE_DW, 3, 10, -8),
		/* 11 */ ALU64_REG(COMB_ALU_ADD, 0, 3),
		/* 12 */ LDX_MEM(COMB_SIZE_DW, 3, 10, -256),
		/* 13 */ ALU64_REG(COMB_ALU_ADD, 0, 3),
		/* 14 */ EXIT(),
	};
	EXPECT_R0(prog, 0 + 63 + 32);
}

/* ---- jumps ---- */

struct jmp_row {
	uint8_t cls; /* COMB_CLS_JMP or COMB_CLS_JMP32 */
	uint8_t op;
	uint64_t a, b;
	int taken;
};

static bool jmp_row_has_k_form(const struct jmp_row *row)
{
	if (row->cls == COMB_CLS_JMP32)
		return true;
	return (uint64_t)(int64_t)(int32_t)row->b == row->b;
}

/* r0 = 1 if the branch is taken, else 0. */
static bool run_jmp_row(const char *file, int line, const struct jmp_row *row, size_t idx)
{
	struct comb_insn x_prog[] = {
		LDDW(1, row->a), LDDW(2, row->b), MOV64_IMM(0, 0),
		INSN(row->cls | COMB_SRC_X | row->op, 1, 2, 1, 0), EXIT(), MOV64_IMM(0, 1), EXIT(),
	};
	struct comb_insn k_prog[] = {
		LDDW(1, row->a), MOV64_IMM(0, 0),
		INSN(row->cls | COMB_SRC_K | row->op, 1, 0, 1, (int32_t)row->b), EXIT(),
		MOV64_IMM(0, 1), EXIT(),
	};
	struct prog_case x = { .insns = x_prog, .count = ARRAY_SIZE(x_prog) };
	struct prog_case k = { .insns = k_prog, .count = ARRAY_SIZE(k_prog) };
	if (!run_case(file, line, &x, 0, (uint64_t)row->taken)) {
		test_fail(file, line, "jump row %zu, X form", idx);
		return false;
	}
	if (jmp_row_has_k_form(row) && !run_case(file, line, &k, 0, (uint64_t)row->taken)) {
		test_fail(file, line, "jump row %zu, K form", idx);
		return false;
	}
	return true;
}

#define RUN_JMP_TABLE(rows)                                                                 \
	do {                                                                                \
		for (size_t row_i_ = 0; row_i_ < ARRAY_SIZE(rows); row_i_++)                 \
			if (!run_jmp_row(__FILE__, __LINE__, &(rows)[row_i_], row_i_))      \
				return;                                                     \
	} while (0)

#define J64 COMB_CLS_JMP
#define J32 COMB_CLS_JMP32

TEST(interp_jmp64_conditions)
{
	static const struct jmp_row rows[] = {
		{ J64, COMB_JMP_JEQ, 5, 5, 1 }, { J64, COMB_JMP_JEQ, 5, 6, 0 },
		{ J64, COMB_JMP_JEQ, 0x100000005ull, 5, 0 }, { J64, COMB_JMP_JEQ, M1, M1, 1 },
		{ J64, COMB_JMP_JNE, 5, 5, 0 }, { J64, COMB_JMP_JNE, 0x100000005ull, 5, 1 },
		{ J64, COMB_JMP_JGT, M1, 1, 1 }, { J64, COMB_JMP_JGT, 1, M1, 0 },
		{ J64, COMB_JMP_JGT, 5, 5, 0 },
		{ J64, COMB_JMP_JGE, 5, 5, 1 }, { J64, COMB_JMP_JGE, 4, 5, 0 },
		{ J64, COMB_JMP_JGE, M1, 0, 1 },
		{ J64, COMB_JMP_JLT, 1, M1, 1 }, { J64, COMB_JMP_JLT, M1, 1, 0 },
		{ J64, COMB_JMP_JLT, 5, 5, 0 },
		{ J64, COMB_JMP_JLE, 5, 5, 1 }, { J64, COMB_JMP_JLE, 6, 5, 0 },
		{ J64, COMB_JMP_JLE, 0, M1, 1 },
		{ J64, COMB_JMP_JSGT, M1, 1, 0 }, { J64, COMB_JMP_JSGT, 1, M1, 1 },
		{ J64, COMB_JMP_JSGT, 5, 5, 0 }, { J64, COMB_JMP_JSGT, 0x7fffffffffffffffull, I64_MIN, 1 },
		{ J64, COMB_JMP_JSGE, M1, M1, 1 }, { J64, COMB_JMP_JSGE, (uint64_t)-2, M1, 0 },
		{ J64, COMB_JMP_JSGE, 0, M1, 1 },
		{ J64, COMB_JMP_JSLT, M1, 1, 1 }, { J64, COMB_JMP_JSLT, 1, M1, 0 },
		{ J64, COMB_JMP_JSLT, I64_MIN, 0x7fffffffffffffffull, 1 },
		{ J64, COMB_JMP_JSLT, 5, 5, 0 },
		{ J64, COMB_JMP_JSLE, M1, M1, 1 }, { J64, COMB_JMP_JSLE, 0, M1, 0 },
		{ J64, COMB_JMP_JSLE, (uint64_t)-2, M1, 1 },
		{ J64, COMB_JMP_JSET, 0x10, 0x30, 1 }, { J64, COMB_JMP_JSET, 0x10, 0x20, 0 },
		{ J64, COMB_JMP_JSET, 0x100000000ull, 0x100000000ull, 1 },
		{ J64, COMB_JMP_JSET, I64_MIN, M1, 1 },
		/* 64-bit compare of 0xffffffff with imm -1 (sign-extended) */
		{ J64, COMB_JMP_JEQ, 0xffffffff, M1, 0 },
	};
	RUN_JMP_TABLE(rows);
}

TEST(interp_jmp32_compares_low_half)
{
	static const struct jmp_row rows[] = {
		{ J32, COMB_JMP_JEQ, 0x100000005ull, 0x200000005ull, 1 },
		{ J32, COMB_JMP_JEQ, 0x100000005ull, 6, 0 },
		{ J32, COMB_JMP_JEQ, 0xffffffff, M1, 1 },
		{ J32, COMB_JMP_JNE, 0x100000005ull, 0x200000005ull, 0 },
		{ J32, COMB_JMP_JNE, 5, 0x100000006ull, 1 },
		{ J32, COMB_JMP_JGT, 0xffffffff, 0xffffffff00000001ull, 1 },
		{ J32, COMB_JMP_JGT, 0x100000000ull, 1, 0 },
		{ J32, COMB_JMP_JGE, 5, 0x100000005ull, 1 },
		{ J32, COMB_JMP_JGE, 0x700000004ull, 5, 0 },
		{ J32, COMB_JMP_JLT, 0xffffffff00000001ull, 2, 1 },
		{ J32, COMB_JMP_JLT, 0xffffffff, 0x100000000ull, 0 },
		{ J32, COMB_JMP_JLE, 0x700000002ull, 2, 1 },
		{ J32, COMB_JMP_JLE, 3, 0xf00000002ull, 0 },
		{ J32, COMB_JMP_JSGT, 0x80000000, 1, 0 },  /* s32 min > 1: no */
		{ J32, COMB_JMP_JSGT, 1, 0xffffffff, 1 },  /* 1 > -1 */
		{ J32, COMB_JMP_JSGT, 0x100000000ull, 0xffffffff, 1 }, /* 0 > -1 */
		{ J32, COMB_JMP_JSGE, 0xffffffff, 0, 0 },  /* -1 >= 0: no */
		{ J32, COMB_JMP_JSGE, 0xffffffff, 0xffffffff, 1 },
		{ J32, COMB_JMP_JSLT, 0xffffffff, 0, 1 },  /* -1 < 0 */
		{ J32, COMB_JMP_JSLT, 0x7fffffff, 0x80000000, 0 },
		{ J32, COMB_JMP_JSLE, 0x80000000, 0x7fffffff, 1 },
		{ J32, COMB_JMP_JSLE, 0, 0x1ffffffffull, 0 }, /* 0 <= -1: no */
		{ J32, COMB_JMP_JSET, 0x100000000ull, 0x100000000ull, 0 },
		{ J32, COMB_JMP_JSET, 0x100000001ull, 1, 1 },
	};
	RUN_JMP_TABLE(rows);
}

TEST(interp_ja_backward_loop)
{
	/* r0 = 10 + 9 + ... + 1 */
	struct comb_insn prog[] = {
		/* 0 */ MOV64_IMM(0, 0),
		/* 1 */ MOV64_IMM(1, 10),
		/* 2 */ ALU64_REG(COMB_ALU_ADD, 0, 1),
		/* 3 */ ALU64_IMM(COMB_ALU_SUB, 1, 1),
		/* 4 */ JMP_IMM(COMB_JMP_JEQ, 1, 0, 1),
		/* 5 */ JA(-4),
		/* 6 */ EXIT(),
	};
	EXPECT_R0(prog, 55);
}

TEST(interp_conditional_backward_jump)
{
	struct comb_insn prog[] = {
		/* 0 */ MOV64_IMM(0, 0),
		/* 1 */ MOV64_IMM(1, 5),
		/* 2 */ ALU64_IMM(COMB_ALU_ADD, 0, 2),
		/* 3 */ ALU64_IMM(COMB_ALU_SUB, 1, 1),
		/* 4 */ JMP32_IMM(COMB_JMP_JNE, 1, 0, -3),
		/* 5 */ EXIT(),
	};
	EXPECT_R0(prog, 10);
}

TEST(interp_ja_skips_lddw)
{
	struct comb_insn prog[] = {
		MOV64_IMM(0, 3), JA(2), LDDW(0, 0x1234567890ull), EXIT(),
	};
	EXPECT_R0(prog, 3);
}

TEST(interp_gotol_forward_and_backward)
{
	struct comb_insn forward[] = {
		/* 0 */ MOV64_IMM(0, 7),
		/* 1 */ GOTOL(2),
		/* 2 */ MOV64_IMM(0, 1),
		/* 3 */ EXIT(),
		/* 4 */ ALU64_IMM(COMB_ALU_ADD, 0, 1),
		/* 5 */ EXIT(),
	};
	EXPECT_R0(forward, 8);
	/* Loop three times through a gotol back edge. */
	struct comb_insn backward[] = {
		/* 0 */ MOV64_IMM(0, 0),
		/* 1 */ ALU64_IMM(COMB_ALU_ADD, 0, 1),
		/* 2 */ JMP_IMM(COMB_JMP_JEQ, 0, 3, 1),
		/* 3 */ GOTOL(-3),
		/* 4 */ EXIT(),
	};
	EXPECT_R0(backward, 3);
}

/* ---- atomics ---- */

struct atomic_row {
	int32_t op;
	uint8_t size;
};

static uint64_t apply_atomic(int32_t op, uint64_t old, uint64_t val)
{
	switch (op & ~COMB_ATOMIC_FETCH) {
	case COMB_ATOMIC_ADD: return old + val;
	case COMB_ATOMIC_OR:  return old | val;
	case COMB_ATOMIC_AND: return old & val;
	case COMB_ATOMIC_XOR: return old ^ val;
	default:              return val; /* XCHG */
	}
}

/* Expected memory after a W or DW atomic: a W op changes only the low half. */
static uint64_t atomic_mem_after(const struct atomic_row *row, uint64_t old, uint64_t val)
{
	if (row->size == COMB_SIZE_DW)
		return apply_atomic(row->op, old, val);
	uint32_t low = (uint32_t)apply_atomic(row->op, (uint32_t)old, (uint32_t)val);
	return (old & 0xffffffff00000000ull) | low;
}

static const struct atomic_row atomic_rows[] = {
	{ COMB_ATOMIC_ADD, COMB_SIZE_DW }, { COMB_ATOMIC_ADD, COMB_SIZE_W },
	{ COMB_ATOMIC_ADD | COMB_ATOMIC_FETCH, COMB_SIZE_DW },
	{ COMB_ATOMIC_ADD | COMB_ATOMIC_FETCH, COMB_SIZE_W },
	{ COMB_ATOMIC_OR, COMB_SIZE_DW }, { COMB_ATOMIC_OR, COMB_SIZE_W },
	{ COMB_ATOMIC_OR | COMB_ATOMIC_FETCH, COMB_SIZE_DW },
	{ COMB_ATOMIC_OR | COMB_ATOMIC_FETCH, COMB_SIZE_W },
	{ COMB_ATOMIC_AND, COMB_SIZE_DW }, { COMB_ATOMIC_AND, COMB_SIZE_W },
	{ COMB_ATOMIC_AND | COMB_ATOMIC_FETCH, COMB_SIZE_DW },
	{ COMB_ATOMIC_AND | COMB_ATOMIC_FETCH, COMB_SIZE_W },
	{ COMB_ATOMIC_XOR, COMB_SIZE_DW }, { COMB_ATOMIC_XOR, COMB_SIZE_W },
	{ COMB_ATOMIC_XOR | COMB_ATOMIC_FETCH, COMB_SIZE_DW },
	{ COMB_ATOMIC_XOR | COMB_ATOMIC_FETCH, COMB_SIZE_W },
	{ COMB_ATOMIC_XCHG, COMB_SIZE_DW }, { COMB_ATOMIC_XCHG, COMB_SIZE_W },
};

#define ATOMIC_OLD 0x1111222ff0f00ff0ull
#define ATOMIC_VAL 0xffff00000f0f1001ull /* upper half must not matter for W */

/* On the stack: r0 = the memory word after the op (want_fetch == 0) or the
 * src register after it (want_fetch == 1). Without FETCH, src is unchanged. */
TEST(interp_atomic_stack)
{
	for (size_t i = 0; i < ARRAY_SIZE(atomic_rows); i++) {
		const struct atomic_row *row = &atomic_rows[i];
		for (int want_fetch = 0; want_fetch < 2; want_fetch++) {
			struct comb_insn prog[] = {
				LDDW(1, ATOMIC_OLD), STX_MEM(COMB_SIZE_DW, 10, 1, -8),
				LDDW(2, ATOMIC_VAL), ATOMIC(row->size, 10, 2, -8, row->op),
				LDX_MEM(COMB_SIZE_DW, 0, 10, -8), MOV64_REG(0, want_fetch ? 2 : 0),
				EXIT(),
			};
			uint64_t expected;
			if (!want_fetch)
				expected = atomic_mem_after(row, ATOMIC_OLD, ATOMIC_VAL);
			else if (!(row->op & COMB_ATOMIC_FETCH))
				expected = ATOMIC_VAL;
			else
				expected = row->size == COMB_SIZE_DW ? ATOMIC_OLD
								     : (uint32_t)ATOMIC_OLD;
			struct prog_case c = { .insns = prog, .count = ARRAY_SIZE(prog) };
			if (!run_case(__FILE__, __LINE__, &c, 0, expected)) {
				test_fail(__FILE__, __LINE__, "atomic row %zu (imm 0x%x, %s), %s", i,
					  row->op, row->size == COMB_SIZE_W ? "W" : "DW",
					  want_fetch ? "src register" : "memory");
				return;
			}
		}
	}
}

/* In caller memory at offset 8 of a 3-word buffer; r0 = src register. */
TEST(interp_atomic_caller_memory)
{
	for (size_t i = 0; i < ARRAY_SIZE(atomic_rows); i++) {
		const struct atomic_row *row = &atomic_rows[i];
		uint64_t buf[3] = { 0x5555555555555555ull, ATOMIC_OLD, 0x6666666666666666ull };
		struct comb_insn prog[] = {
			LDDW(2, ATOMIC_VAL), ATOMIC(row->size, 1, 2, 8, row->op), MOV64_REG(0, 2),
			EXIT(),
		};
		uint64_t expected = ATOMIC_VAL;
		if (row->op & COMB_ATOMIC_FETCH)
			expected = row->size == COMB_SIZE_DW ? ATOMIC_OLD : (uint32_t)ATOMIC_OLD;
		struct prog_case c = {
			.insns = prog, .count = ARRAY_SIZE(prog), .args = { (uintptr_t)buf },
			.mem = buf, .mem_size = sizeof(buf),
		};
		if (!run_case(__FILE__, __LINE__, &c, 0, expected)) {
			test_fail(__FILE__, __LINE__, "atomic row %zu", i);
			return;
		}
		CHECK_EQ(buf[0], 0x5555555555555555ull);
		CHECK_EQ(buf[1], atomic_mem_after(row, ATOMIC_OLD, ATOMIC_VAL));
		CHECK_EQ(buf[2], 0x6666666666666666ull);
	}
}

/* CMPXCHG: if r0 == mem then mem = src; r0 = old mem (zero-extended for W). */
static bool run_cmpxchg(const char *file, int line, uint8_t size, uint64_t r0_before,
			uint64_t mem_before, uint64_t src, uint64_t expected_r0,
			uint64_t expected_mem)
{
	uint64_t buf[2] = { mem_before, 0x7777777777777777ull };
	struct comb_insn prog[] = {
		LDDW(0, r0_before), LDDW(2, src),
		ATOMIC(size, 1, 2, 0, COMB_ATOMIC_CMPXCHG),
		EXIT(),
	};
	struct prog_case c = {
		.insns = prog, .count = ARRAY_SIZE(prog), .args = { (uintptr_t)buf },
		.mem = buf, .mem_size = sizeof(buf),
	};
	if (!run_case(file, line, &c, 0, expected_r0))
		return false;
	if (buf[0] != expected_mem || buf[1] != 0x7777777777777777ull) {
		test_fail(file, line, "memory after cmpxchg: 0x%" PRIx64 ", expected 0x%" PRIx64,
			  buf[0], expected_mem);
		return false;
	}
	return true;
}

TEST(interp_atomic_cmpxchg_caller_memory)
{
	const uint64_t mem = 0xaaaabbbbccccddddull;
	/* 64-bit match and mismatch */
	CHECK(run_cmpxchg(__FILE__, __LINE__, COMB_SIZE_DW, mem, mem, 42, mem, 42));
	CHECK(run_cmpxchg(__FILE__, __LINE__, COMB_SIZE_DW, mem + 1, mem, 42, mem, mem));
	CHECK(run_cmpxchg(__FILE__, __LINE__, COMB_SIZE_DW, 0xccccdddd, mem, 42, mem, mem));
	/* 32-bit: compares the low halves; r0 gets the old word zero-extended */
	CHECK(run_cmpxchg(__FILE__, __LINE__, COMB_SIZE_W, 0xccccdddd, mem, 0x1234500000042ull,
			  0xccccdddd, 0xaaaabbbb00000042ull));
	CHECK(run_cmpxchg(__FILE__, __LINE__, COMB_SIZE_W, 0xccccddde, mem, 42, 0xccccdddd, mem));
	CHECK(run_cmpxchg(__FILE__, __LINE__, COMB_SIZE_W, 0xffffffff00000000ull | 0xccccdddd, mem,
			  0x99, 0xccccdddd, 0xaaaabbbb00000099ull));
}

TEST(interp_atomic_cmpxchg_stack)
{
	/* match: stack word becomes 5, r0 = old (3) → returns r0 * 16 + word */
	struct comb_insn match[] = {
		ST_MEM(COMB_SIZE_DW, 10, -8, 3), MOV64_IMM(0, 3), MOV64_IMM(1, 5),
		ATOMIC(COMB_SIZE_DW, 10, 1, -8, COMB_ATOMIC_CMPXCHG),
		ALU64_IMM(COMB_ALU_LSH, 0, 4), LDX_MEM(COMB_SIZE_DW, 2, 10, -8),
		ALU64_REG(COMB_ALU_ADD, 0, 2), EXIT(),
	};
	EXPECT_R0(match, 0x35);
	struct comb_insn mismatch[] = {
		ST_MEM(COMB_SIZE_W, 10, -8, -3), MOV64_IMM(0, 4), MOV64_IMM(1, 5),
		ATOMIC(COMB_SIZE_W, 10, 1, -8, COMB_ATOMIC_CMPXCHG),
		LDX_MEM(COMB_SIZE_W, 2, 10, -8), ALU64_IMM(COMB_ALU_LSH, 2, 32),
		ALU64_REG(COMB_ALU_OR, 0, 2), EXIT(),
	};
	EXPECT_R0(mismatch, 0xfffffffdfffffffdull);
}

/* ---- helpers and callx ---- */

struct helper_record {
	int calls;
	uint64_t args[5];
	void *vm_user;
	void *run_user;
	const struct comb_prog *prog;
};

static uint64_t recording_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				 struct comb_call_ctx *cc)
{
	struct helper_record *rec = cc->run_user;
	rec->calls++;
	rec->args[0] = r1;
	rec->args[1] = r2;
	rec->args[2] = r3;
	rec->args[3] = r4;
	rec->args[4] = r5;
	rec->vm_user = cc->vm_user;
	rec->run_user = cc->run_user;
	rec->prog = cc->prog;
	return 0xfedcba9876543210ull;
}

static uint64_t sum_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			   struct comb_call_ctx *cc)
{
	(void)cc;
	return r1 + r2 + r3 + r4 + r5;
}

static const struct helper_def test_helpers[] = {
	{ 1, "record", recording_helper },
	{ 7, "sum", sum_helper },
};

TEST(interp_helper_args_result_and_user_pointers)
{
	int vm_marker;
	struct helper_record rec = { 0 };
	struct comb_insn prog[] = {
		LDDW(1, 0x1111111111111111ull), MOV64_IMM(2, 2), MOV64_IMM(3, -3),
		LDDW(4, 0x8000000000000004ull), MOV64_IMM(5, 5),
		MOV64_IMM(6, 66), MOV64_IMM(7, 77), MOV64_IMM(8, 88), MOV64_IMM(9, 99),
		CALL_HELPER(1),
		ASSERT_REG_EQ(6, 66, 6), ASSERT_REG_EQ(7, 77, 7), ASSERT_REG_EQ(8, 88, 8),
		ASSERT_REG_EQ(9, 99, 9),
		EXIT(),
	};
	struct prog_case c = {
		.insns = prog, .count = ARRAY_SIZE(prog), .helpers = test_helpers,
		.helper_count = ARRAY_SIZE(test_helpers), .vm_user = &vm_marker, .run_user = &rec,
	};
	EXPECT_CASE(&c, 0, 0xfedcba9876543210ull);
	CHECK_EQ(rec.calls, 2); /* once per engine */
	CHECK_EQ(rec.args[0], 0x1111111111111111ull);
	CHECK_EQ(rec.args[1], 2);
	CHECK_EQ(rec.args[2], (uint64_t)-3);
	CHECK_EQ(rec.args[3], 0x8000000000000004ull);
	CHECK_EQ(rec.args[4], 5);
	CHECK(rec.vm_user == &vm_marker);
	CHECK(rec.run_user == &rec);
	CHECK(rec.prog != NULL);
}

TEST(interp_helper_called_in_loop)
{
	/* r6 counts down from 4; r7 accumulates sum(r6, 1, 0, 0, 0). */
	struct comb_insn prog[] = {
		/* 0 */ MOV64_IMM(6, 4),
		/* 1 */ MOV64_IMM(7, 0),
		/* 2 */ MOV64_REG(1, 6),
		/* 3 */ MOV64_IMM(2, 1),
		/* 4 */ MOV64_IMM(3, 0),
		/* 5 */ MOV64_IMM(4, 0),
		/* 6 */ MOV64_IMM(5, 0),
		/* 7 */ CALL_HELPER(7),
		/* 8 */ ALU64_REG(COMB_ALU_ADD, 7, 0),
		/* 9 */ ALU64_IMM(COMB_ALU_SUB, 6, 1),
		/* 10 */ JMP_IMM(COMB_JMP_JNE, 6, 0, -9),
		/* 11 */ MOV64_REG(0, 7),
		/* 12 */ EXIT(),
	};
	struct prog_case c = {
		.insns = prog, .count = ARRAY_SIZE(prog), .helpers = test_helpers,
		.helper_count = ARRAY_SIZE(test_helpers),
	};
	EXPECT_CASE(&c, 0, (4 + 1) + (3 + 1) + (2 + 1) + (1 + 1));
}

TEST(interp_callx_register_holds_helper_id)
{
	struct comb_insn prog[] = {
		MOV64_IMM(1, 10), MOV64_IMM(2, 20), MOV64_IMM(3, 30), MOV64_IMM(4, 40),
		MOV64_IMM(5, 50), MOV64_IMM(8, 7), MOV64_IMM(6, 6), CALLX(8),
		ASSERT_REG_EQ(6, 6, 1000), EXIT(),
	};
	struct prog_case c = {
		.insns = prog, .count = ARRAY_SIZE(prog), .helpers = test_helpers,
		.helper_count = ARRAY_SIZE(test_helpers),
	};
	EXPECT_CASE(&c, 0, 150);
}

TEST(interp_callx_unregistered_id_is_enoent)
{
	struct comb_insn prog[] = { MOV64_IMM(0, 1), MOV64_IMM(3, 99), CALLX(3), EXIT() };
	struct prog_case c = {
		.insns = prog, .count = ARRAY_SIZE(prog), .helpers = test_helpers,
		.helper_count = ARRAY_SIZE(test_helpers),
	};
	EXPECT_CASE(&c, -ENOENT, 0);
}

/* ---- bpf-to-bpf calls ---- */

TEST(interp_local_call_preserves_callee_saved_and_frames)
{
	struct comb_insn prog[] = {
		/* 0 */ MOV64_IMM(6, 6),
		/* 1 */ MOV64_IMM(7, 7),
		/* 2 */ MOV64_IMM(8, 8),
		/* 3 */ MOV64_IMM(9, 9),
		/* 4 */ ST_MEM(COMB_SIZE_DW, 10, -8, 111),
		/* 5 */ ST_MEM(COMB_SIZE_DW, 10, -512, 555),
		/* 6 */ CALL_LOCAL(23), /* -> 30 */
		/* 7 */ JMP_REG(COMB_JMP_JNE, 0, 10, 2), /* the callee's r10 differs */
		/* 8 */ MOV64_IMM(0, 100),
		/* 9 */ EXIT(),
		/* 10 */ ASSERT_REG_EQ(6, 6, 6),
		/* 13 */ ASSERT_REG_EQ(7, 7, 7),
		/* 16 */ ASSERT_REG_EQ(8, 8, 8),
		/* 19 */ ASSERT_REG_EQ(9, 9, 9),
		/* 22 */ LDX_MEM(COMB_SIZE_DW, 1, 10, -8),
		/* 23 */ LDX_MEM(COMB_SIZE_DW, 2, 10, -512),
		/* 24 */ ALU64_REG(COMB_ALU_ADD, 1, 2),
		/* 25 */ ASSERT_REG_EQ(1, 111 + 555, 101), /* caller's frame intact */
		/* 28 */ MOV64_IMM(0, 42),
		/* 29 */ EXIT(),
		/* 30: callee clobbers r6-r9 and its own frame, returns its r10 */
		/* 30 */ MOV64_IMM(6, 60),
		/* 31 */ MOV64_IMM(7, 70),
		/* 32 */ MOV64_IMM(8, 80),
		/* 33 */ MOV64_IMM(9, 90),
		/* 34 */ ST_MEM(COMB_SIZE_DW, 10, -8, 222),
		/* 35 */ ST_MEM(COMB_SIZE_DW, 10, -512, 333),
		/* 36 */ MOV64_REG(0, 10),
		/* 37 */ EXIT(),
	};
	EXPECT_R0(prog, 42);
}

TEST(interp_local_call_args_and_caller_stack_pointer)
{
	struct comb_insn prog[] = {
		/* 0 */ ST_MEM(COMB_SIZE_DW, 10, -16, 1000),
		/* 1 */ MOV64_REG(1, 10),
		/* 2 */ ALU64_IMM(COMB_ALU_ADD, 1, -16),
		/* 3 */ MOV64_IMM(2, 2),
		/* 4 */ MOV64_IMM(3, 3),
		/* 5 */ MOV64_IMM(4, 4),
		/* 6 */ MOV64_IMM(5, 5),
		/* 7 */ CALL_LOCAL(1), /* -> 9 */
		/* 8 */ EXIT(),
		/* 9: callee: r0 = *r1 + r2 + r3 + r4 + r5, and *r1 = 7 */
		/* 9 */ LDX_MEM(COMB_SIZE_DW, 0, 1, 0),
		/* 10 */ ALU64_REG(COMB_ALU_ADD, 0, 2),
		/* 11 */ ALU64_REG(COMB_ALU_ADD, 0, 3),
		/* 12 */ ALU64_REG(COMB_ALU_ADD, 0, 4),
		/* 13 */ ALU64_REG(COMB_ALU_ADD, 0, 5),
		/* 14 */ ST_MEM(COMB_SIZE_DW, 1, 0, 7),
		/* 15 */ EXIT(),
	};
	EXPECT_R0(prog, 1014);
	/* The callee's write through the pointer lands in the caller's frame. */
	struct comb_insn prog2[ARRAY_SIZE(prog) + 1];
	memcpy(prog2, prog, sizeof(prog));
	prog2[8] = (struct comb_insn)LDX_MEM(COMB_SIZE_DW, 0, 10, -16);
	prog2[9] = (struct comb_insn)EXIT();
	memcpy(prog2 + 10, prog + 9, (ARRAY_SIZE(prog) - 9) * sizeof(prog[0]));
	prog2[7].imm = 2;
	EXPECT_R0(prog2, 7);
}

/* f(n) = n == 0 ? 0 : n + f(n - 1), keeping n in the deepest stack slot of
 * its own frame across the recursive call. main(N) uses N + 2 frames. */
static bool run_recursion(const char *file, int line, int32_t n, int expected_ret,
			  uint64_t expected_r0)
{
	struct comb_insn prog[] = {
		/* 0 */ MOV64_IMM(1, n),
		/* 1 */ CALL_LOCAL(1), /* -> 3 */
		/* 2 */ EXIT(),
		/* 3 */ JMP_IMM(COMB_JMP_JNE, 1, 0, 2),
		/* 4 */ MOV64_IMM(0, 0),
		/* 5 */ EXIT(),
		/* 6 */ STX_MEM(COMB_SIZE_DW, 10, 1, -512),
		/* 7 */ ALU64_IMM(COMB_ALU_SUB, 1, 1),
		/* 8 */ CALL_LOCAL(-6), /* -> 3 */
		/* 9 */ LDX_MEM(COMB_SIZE_DW, 1, 10, -512),
		/* 10 */ ALU64_REG(COMB_ALU_ADD, 0, 1),
		/* 11 */ EXIT(),
	};
	struct prog_case c = { .insns = prog, .count = ARRAY_SIZE(prog) };
	return run_case(file, line, &c, expected_ret, expected_r0);
}

TEST(interp_local_call_recursion_depth)
{
	CHECK(run_recursion(__FILE__, __LINE__, 0, 0, 0));
	CHECK(run_recursion(__FILE__, __LINE__, 3, 0, 6));
	/* 8 frames (main + 7 calls): the maximum */
	CHECK(run_recursion(__FILE__, __LINE__, COMB_MAX_FRAMES - 2, 0, 21));
	/* 9 frames: too deep */
	CHECK(run_recursion(__FILE__, __LINE__, COMB_MAX_FRAMES - 1, -ELOOP, 0));
	CHECK(run_recursion(__FILE__, __LINE__, 1000, -ELOOP, 0));
}

/* ---- legacy packet loads ---- */

static const uint8_t test_packet[8] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };

static bool run_packet_prog(const char *file, int line, const struct comb_insn *insns,
			    size_t count, uint64_t expected_r0)
{
	struct prog_case c = {
		.insns = insns, .count = count, .packet = test_packet,
		.packet_len = sizeof(test_packet),
	};
	return run_case(file, line, &c, 0, expected_r0);
}

TEST(interp_ld_abs_big_endian)
{
	struct { struct comb_insn load; uint64_t expected; } rows[] = {
		{ LD_ABS(COMB_SIZE_B, 1), 0x34 },
		{ LD_ABS(COMB_SIZE_B, 7), 0xf0 },
		{ LD_ABS(COMB_SIZE_H, 2), 0x5678 },
		{ LD_ABS(COMB_SIZE_H, 6), 0xdef0 },
		{ LD_ABS(COMB_SIZE_W, 4), 0x9abcdef0 },
		{ LD_ABS(COMB_SIZE_W, 0), 0x12345678 },
		{ LD_ABS(COMB_SIZE_W, 1), 0x3456789a },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct comb_insn prog[] = { MOV64_IMM(0, -1), rows[i].load, EXIT() };
		if (!run_packet_prog(__FILE__, __LINE__, prog, ARRAY_SIZE(prog), rows[i].expected)) {
			test_fail(__FILE__, __LINE__, "ld_abs row %zu", i);
			return;
		}
	}
}

TEST(interp_ld_ind_big_endian)
{
	struct { int32_t base; struct comb_insn load; uint64_t expected; } rows[] = {
		{ 2, LD_IND(COMB_SIZE_H, 1, 1), 0x789a },
		{ 0, LD_IND(COMB_SIZE_B, 1, 5), 0xbc },
		{ 4, LD_IND(COMB_SIZE_W, 1, 0), 0x9abcdef0 },
		{ 6, LD_IND(COMB_SIZE_W, 1, -4), 0x56789abc },
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct comb_insn prog[] = {
			MOV64_IMM(1, rows[i].base), MOV64_IMM(0, -1), rows[i].load, EXIT(),
		};
		if (!run_packet_prog(__FILE__, __LINE__, prog, ARRAY_SIZE(prog), rows[i].expected)) {
			test_fail(__FILE__, __LINE__, "ld_ind row %zu", i);
			return;
		}
	}
}

TEST(interp_ld_abs_ind_out_of_bounds_ends_with_zero)
{
	struct comb_insn loads[] = {
		LD_ABS(COMB_SIZE_W, 6),  /* straddles the end */
		LD_ABS(COMB_SIZE_B, 8),  /* just past the end */
		LD_ABS(COMB_SIZE_H, 0x7fffffff),
		LD_IND(COMB_SIZE_B, 1, 0), /* r1 = 100 */
		LD_IND(COMB_SIZE_H, 1, -93),  /* 100 - 93 = 7: straddles */
	};
	for (size_t i = 0; i < ARRAY_SIZE(loads); i++) {
		struct comb_insn prog[] = {
			MOV64_IMM(1, 100), MOV64_IMM(0, 77), loads[i], MOV64_IMM(0, 99), EXIT(),
		};
		if (!run_packet_prog(__FILE__, __LINE__, prog, ARRAY_SIZE(prog), 0)) {
			test_fail(__FILE__, __LINE__, "out-of-bounds load %zu", i);
			return;
		}
	}
}

/* ---- entry state ---- */

TEST(interp_args_land_in_r1_to_r5)
{
	for (int reg = 1; reg <= 5; reg++) {
		struct comb_insn prog[] = { INSN(COMB_CLS_ALU64 | COMB_SRC_X | COMB_ALU_MOV, 0, reg, 0, 0),
					    EXIT() };
		struct prog_case c = {
			.insns = prog, .count = ARRAY_SIZE(prog),
			.args = { 0x1000000000000001ull, 0x2000000000000002ull, 0x3000000000000003ull,
				  0x4000000000000004ull, 0x5000000000000005ull },
		};
		if (!run_case(__FILE__, __LINE__, &c, 0, c.args[reg - 1])) {
			test_fail(__FILE__, __LINE__, "r%d", reg);
			return;
		}
	}
}

TEST(interp_null_opts_runs_interpreter)
{
	struct comb_insn prog[] = { MOV64_REG(0, 1), ALU64_IMM(COMB_ALU_ADD, 0, 9), EXIT() };
	struct comb_vm *vm = NULL;
	struct comb_prog *p = NULL;
	uint64_t r0 = 0;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	CHECK_EQ(comb_prog_load(vm, prog, ARRAY_SIZE(prog), NULL, &p, NULL, 0), 0);
	CHECK_EQ(comb_prog_run(p, NULL, &r0), 0);
	CHECK_EQ(r0, 9); /* args are zero */
	comb_prog_free(p);
	comb_vm_free(vm);
}

TEST(interp_stack_read_write_r10_relative)
{
	struct comb_insn prog[] = {
		MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -24),
		ST_MEM(COMB_SIZE_W, 2, 0, 0x11), ST_MEM(COMB_SIZE_W, 2, 4, 0x22),
		LDX_MEM(COMB_SIZE_DW, 0, 10, -24), EXIT(),
	};
	EXPECT_R0(prog, 0x0000002200000011ull);
}
