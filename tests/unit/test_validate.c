/* tests/unit/test_validate.c - comb_insns_validate() and the checks of comb_prog_load().
 *
 * A table of malformed programs, each with the index of the instruction the
 * message must name ("insn N"); every one must be rejected with -EINVAL both
 * by comb_insns_validate() and by comb_prog_load(). A generated list of
 * valid programs, one per instruction form of RFC 9669, must pass both.
 * Programs are built from struct comb_insn (insn_build.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include "../test.h"
#include "comb/vm.h"
#include "insn_build.h"

#define MAX_CASE_INSNS 8

struct bad_case {
	const char *what;
	long idx;     /* instruction the message must name */
	long alt_idx; /* another acceptable index (or -1), e.g. an LDDW's second slot */
	size_t count;
	struct comb_insn insns[MAX_CASE_INSNS];
};

#define BAD(what, idx, alt, ...)                                                            \
	{ what, idx, alt, sizeof((struct comb_insn[]){ __VA_ARGS__ }) / sizeof(struct comb_insn), \
	  { __VA_ARGS__ } }

#define R0_ZERO MOV64_IMM(0, 0)
#define ALU64(op) (COMB_CLS_ALU64 | (op))
#define ALU32(op) (COMB_CLS_ALU | (op))

static const struct bad_case bad_cases[] = {
	/* unknown opcodes */
	BAD("ALU64 op 0xe0", 0, -1, INSN(ALU64(0xe0), 0, 0, 0, 0), EXIT()),
	BAD("ALU op 0xf0 X", 1, -1, R0_ZERO, INSN(ALU32(0xf8), 0, 1, 0, 0), EXIT()),
	BAD("all-zero slot (LD IMM W)", 0, -1, INSN(0, 0, 0, 0, 0), EXIT()),
	BAD("JMP op 0xe0", 1, -1, R0_ZERO, INSN(COMB_CLS_JMP | 0xe0, 0, 0, 0, 0), EXIT()),
	BAD("JMP32 CALL", 1, -1, R0_ZERO, INSN(COMB_CLS_JMP32 | COMB_JMP_CALL, 0, 0, 0, 1), EXIT()),
	BAD("JMP32 EXIT", 1, -1, R0_ZERO, INSN(COMB_CLS_JMP32 | COMB_JMP_EXIT, 0, 0, 0, 0), EXIT()),
	BAD("LDX mode IMM", 0, -1, INSN(COMB_CLS_LDX | COMB_MODE_IMM | COMB_SIZE_W, 0, 1, 0, 0),
	    EXIT()),
	BAD("ST mode ATOMIC", 0, -1,
	    INSN(COMB_CLS_ST | COMB_MODE_ATOMIC | COMB_SIZE_DW, 10, 0, -8, 0), R0_ZERO, EXIT()),
	BAD("LDX MEMSX DW", 0, -1, LDX_MEMSX(COMB_SIZE_DW, 0, 10, -8), EXIT()),
	BAD("LD ABS DW", 0, -1, LD_ABS(COMB_SIZE_DW, 0), EXIT()),
	BAD("LD mode MEM", 0, -1, INSN(COMB_CLS_LD | COMB_MODE_MEM | COMB_SIZE_W, 0, 1, 0, 0),
	    EXIT()),
	/* reserved fields */
	BAD("ALU64 K with src", 0, -1, INSN(ALU64(COMB_ALU_ADD), 0, 1, 0, 5), EXIT()),
	BAD("ALU K with src", 0, -1, INSN(ALU32(COMB_ALU_MOV), 0, 3, 0, 5), EXIT()),
	BAD("ALU64 X with imm", 0, -1, INSN(ALU64(COMB_SRC_X | COMB_ALU_ADD), 0, 1, 0, 5), EXIT()),
	BAD("ALU64 ADD with off", 0, -1, INSN(ALU64(COMB_ALU_ADD), 0, 0, 1, 5), EXIT()),
	BAD("ALU ADD X with off", 0, -1, INSN(ALU32(COMB_SRC_X | COMB_ALU_ADD), 0, 1, 8, 0), EXIT()),
	BAD("ALU64 OR with off", 0, -1, INSN(ALU64(COMB_ALU_OR), 0, 0, -1, 5), EXIT()),
	BAD("NEG X form", 0, -1, INSN(ALU64(COMB_SRC_X | COMB_ALU_NEG), 0, 1, 0, 0), EXIT()),
	BAD("MOV K with off 8", 0, -1, INSN(ALU64(COMB_ALU_MOV), 0, 0, 8, 1), EXIT()),
	BAD("ALU64 END with X bit", 0, -1, INSN(ALU64(COMB_SRC_X | COMB_ALU_END), 0, 0, 0, 16),
	    EXIT()),
	BAD("EXIT with dst", 1, -1, R0_ZERO, INSN(COMB_CLS_JMP | COMB_JMP_EXIT, 1, 0, 0, 0)),
	BAD("EXIT with src", 1, -1, R0_ZERO, INSN(COMB_CLS_JMP | COMB_JMP_EXIT, 0, 1, 0, 0)),
	BAD("EXIT with off", 1, -1, R0_ZERO, INSN(COMB_CLS_JMP | COMB_JMP_EXIT, 0, 0, 1, 0)),
	BAD("EXIT with imm", 1, -1, R0_ZERO, INSN(COMB_CLS_JMP | COMB_JMP_EXIT, 0, 0, 0, 1)),
	BAD("EXIT X form", 1, -1, R0_ZERO, INSN(COMB_CLS_JMP | COMB_SRC_X | COMB_JMP_EXIT, 0, 0, 0, 0)),
	BAD("JEQ K with src", 1, -1, R0_ZERO, INSN(COMB_CLS_JMP | COMB_JMP_JEQ, 0, 2, 0, 0), EXIT()),
	BAD("JA with imm", 1, -1, R0_ZERO, INSN(COMB_CLS_JMP | COMB_JMP_JA, 0, 0, 0, 1), EXIT()),
	BAD("gotol with off", 1, -1, R0_ZERO, INSN(COMB_CLS_JMP32 | COMB_JMP_JA, 0, 0, 1, 0), EXIT()),
	BAD("CALL with dst", 1, -1, R0_ZERO, INSN(COMB_CLS_JMP | COMB_JMP_CALL, 1, 0, 0, 1), EXIT()),
	BAD("LDX with imm", 0, -1, INSN(COMB_CLS_LDX | COMB_MODE_MEM | COMB_SIZE_W, 0, 10, -4, 1),
	    EXIT()),
	/* registers */
	BAD("ALU dst r11", 0, -1, INSN(ALU64(COMB_ALU_MOV), 11, 0, 0, 1), R0_ZERO, EXIT()),
	BAD("ALU src r11", 0, -1, INSN(ALU64(COMB_SRC_X | COMB_ALU_MOV), 0, 11, 0, 0), EXIT()),
	BAD("LDX src r12", 0, -1, INSN(COMB_CLS_LDX | COMB_MODE_MEM | COMB_SIZE_B, 0, 12, 0, 0),
	    EXIT()),
	BAD("STX dst r15", 0, -1, STX_MEM(COMB_SIZE_DW, 15, 0, 0), R0_ZERO, EXIT()),
	BAD("JMP X src r13", 1, -1, R0_ZERO, JMP_REG(COMB_JMP_JEQ, 0, 13, 0), EXIT()),
	BAD("LDDW dst r11", 0, -1, LDDW(11, 1), R0_ZERO, EXIT()),
	/* r10 is read-only */
	BAD("ALU64 ADD to r10", 1, -1, R0_ZERO, ALU64_IMM(COMB_ALU_ADD, 10, -8), EXIT()),
	BAD("MOV r10 = r1", 1, -1, R0_ZERO, MOV64_REG(10, 1), EXIT()),
	BAD("ALU32 MOV to w10", 1, -1, R0_ZERO, MOV32_IMM(10, 0), EXIT()),
	BAD("NEG r10", 1, -1, R0_ZERO, NEG64(10), EXIT()),
	BAD("LDX into r10", 1, -1, R0_ZERO, LDX_MEM(COMB_SIZE_DW, 10, 1, 0), EXIT()),
	BAD("LDDW into r10", 1, -1, R0_ZERO, LDDW(10, 5), EXIT()),
	/* jumps out of the program */
	BAD("JA forward out", 1, -1, R0_ZERO, JA(5), EXIT()),
	BAD("JA to one past the end", 1, -1, R0_ZERO, JA(1), EXIT()),
	BAD("JA backward out", 1, -1, R0_ZERO, JA(-3), EXIT()),
	BAD("JEQ forward out", 1, -1, R0_ZERO, JMP_IMM(COMB_JMP_JEQ, 0, 0, 2), EXIT()),
	BAD("JMP32 JNE backward out", 1, -1, R0_ZERO, JMP32_REG(COMB_JMP_JNE, 0, 1, -3), EXIT()),
	BAD("JEQ offset -32768", 1, -1, R0_ZERO, JMP_IMM(COMB_JMP_JEQ, 0, 0, -32768), EXIT()),
	BAD("gotol forward out", 1, -1, R0_ZERO, GOTOL(100000), EXIT()),
	BAD("gotol backward out", 1, -1, R0_ZERO, GOTOL(-3), EXIT()),
	/* jumps into the middle of an LDDW */
	BAD("JA into LDDW slot 2", 0, -1, JA(1), LDDW(0, 1), EXIT()),
	BAD("JEQ back into LDDW slot 2", 3, -1, R0_ZERO, LDDW(1, 1),
	    JMP_IMM(COMB_JMP_JEQ, 0, 0, -2), EXIT()),
	BAD("gotol into LDDW slot 2", 0, -1, GOTOL(1), LDDW(0, 1), EXIT()),
	/* malformed LDDW */
	BAD("LDDW truncated", 1, -1, R0_ZERO, INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, 0, 0, 0, 1)),
	BAD("LDDW slot 2 code", 0, 1, INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, 0, 0, 0, 1),
	    INSN(COMB_CLS_ALU64, 0, 0, 0, 0), EXIT()),
	BAD("LDDW slot 2 code is LDDW", 0, 1,
	    INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, 0, 0, 0, 1),
	    INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, 0, 0, 0, 0), EXIT()),
	BAD("LDDW slot 2 dst", 0, 1, INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, 0, 0, 0, 1),
	    INSN(0, 1, 0, 0, 0), EXIT()),
	BAD("LDDW slot 2 src", 0, 1, INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, 0, 0, 0, 1),
	    INSN(0, 0, 1, 0, 0), EXIT()),
	BAD("LDDW slot 2 off", 0, 1, INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, 0, 0, 0, 1),
	    INSN(0, 0, 0, 1, 0), EXIT()),
	/* falling off the end */
	BAD("only a MOV", 0, -1, R0_ZERO),
	BAD("MOV after EXIT", 2, -1, R0_ZERO, EXIT(), R0_ZERO),
	BAD("conditional jump last", 1, -1, R0_ZERO, JMP_IMM(COMB_JMP_JEQ, 0, 0, -2)),
	BAD("helper call last", 1, -1, R0_ZERO, CALL_HELPER(1)),
	BAD("LDDW last", 1, 2, R0_ZERO, LDDW(0, 1)),
	/* bpf-to-bpf call targets */
	BAD("CALL local forward out", 0, -1, CALL_LOCAL(5), EXIT()),
	BAD("CALL local to one past the end", 0, -1, CALL_LOCAL(1), EXIT()),
	BAD("CALL local backward out", 1, -1, R0_ZERO, CALL_LOCAL(-3), EXIT()),
	BAD("CALL local into LDDW slot 2", 0, -1, CALL_LOCAL(2), EXIT(), LDDW(0, 1), EXIT()),
	/* END width */
	BAD("le8", 0, -1, LE(0, 8), EXIT()),
	BAD("be0", 0, -1, BE(0, 0), EXIT()),
	BAD("bswap24", 0, -1, BSWAP(0, 24), EXIT()),
	BAD("bswap128", 0, -1, BSWAP(0, 128), EXIT()),
	/* MOVSX width */
	BAD("movsx64 off 1", 0, -1, MOVSX64(0, 1, 1), EXIT()),
	BAD("movsx64 off 64", 0, -1, MOVSX64(0, 1, 64), EXIT()),
	BAD("movsx64 off -8", 0, -1, MOVSX64(0, 1, -8), EXIT()),
	BAD("movsx32 off 32", 0, -1, MOVSX32(0, 1, 32), EXIT()),
	BAD("movsx32 off 4", 0, -1, MOVSX32(0, 1, 4), EXIT()),
	/* SDIV/SMOD offset */
	BAD("div64 K off 2", 0, -1, INSN(ALU64(COMB_ALU_DIV), 0, 0, 2, 3), EXIT()),
	BAD("mod32 X off 2", 0, -1, INSN(ALU32(COMB_SRC_X | COMB_ALU_MOD), 0, 1, 2, 0), EXIT()),
	BAD("div32 K off -1", 0, -1, INSN(ALU32(COMB_ALU_DIV), 0, 0, -1, 3), EXIT()),
	BAD("mod64 X off 16", 0, -1, INSN(ALU64(COMB_SRC_X | COMB_ALU_MOD), 0, 1, 16, 0), EXIT()),
	/* atomics */
	BAD("atomic imm 0x10", 1, -1, R0_ZERO, ATOMIC(COMB_SIZE_DW, 10, 1, -8, 0x10), EXIT()),
	BAD("atomic imm 0x02", 1, -1, R0_ZERO, ATOMIC(COMB_SIZE_W, 10, 1, -8, 0x02), EXIT()),
	BAD("atomic xchg without fetch", 1, -1, R0_ZERO, ATOMIC(COMB_SIZE_DW, 10, 1, -8, 0xe0), EXIT()),
	BAD("atomic cmpxchg without fetch", 1, -1, R0_ZERO, ATOMIC(COMB_SIZE_DW, 10, 1, -8, 0xf0),
	    EXIT()),
	BAD("atomic on B", 1, -1, R0_ZERO, ATOMIC(COMB_SIZE_B, 10, 1, -8, COMB_ATOMIC_ADD), EXIT()),
	BAD("atomic on H", 1, -1, R0_ZERO,
	    ATOMIC(COMB_SIZE_H, 10, 1, -8, COMB_ATOMIC_XOR | COMB_ATOMIC_FETCH), EXIT()),
};

/* True when msg contains "insn N" not followed by another digit. */
static bool mentions_insn(const char *msg, long idx)
{
	char needle[32];
	snprintf(needle, sizeof(needle), "insn %ld", idx);
	for (const char *p = strstr(msg, needle); p; p = strstr(p + 1, needle))
		if (!isdigit((unsigned char)p[strlen(needle)]))
			return true;
	return false;
}

static bool message_names_case(const char *msg, const struct bad_case *c)
{
	return mentions_insn(msg, c->idx) || (c->alt_idx >= 0 && mentions_insn(msg, c->alt_idx));
}

TEST(validate_rejects_malformed_programs)
{
	int failures = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		char err[256] = "";
		int ret = comb_insns_validate(c->insns, c->count, err, sizeof(err));
		if (ret != -EINVAL || !message_names_case(err, c)) {
			test_fail(__FILE__, __LINE__, "case \"%s\": ret %d, message \"%s\" (want -EINVAL, insn %ld)",
				  c->what, ret, err, c->idx);
			failures++;
		}
	}
	CHECK_EQ(failures, 0);
}

static uint64_t dummy_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			     struct comb_call_ctx *cc)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)cc;
	return 0;
}

static struct comb_vm *vm_with_helper_1(void)
{
	struct comb_vm *vm = NULL;
	if (comb_vm_new(NULL, &vm) != 0)
		return NULL;
	if (comb_vm_register_helper(vm, 1, "dummy", dummy_helper) != 0) {
		comb_vm_free(vm);
		return NULL;
	}
	return vm;
}

TEST(validate_prog_load_rejects_malformed_programs)
{
	struct comb_vm *vm = vm_with_helper_1();
	CHECK(vm != NULL);
	int failures = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct comb_prog *prog = NULL;
		char err[256] = "";
		int ret = comb_prog_load(vm, c->insns, c->count, NULL, &prog, err, sizeof(err));
		if (ret != -EINVAL || !message_names_case(err, c)) {
			test_fail(__FILE__, __LINE__, "case \"%s\": ret %d, message \"%s\" (want -EINVAL, insn %ld)",
				  c->what, ret, err, c->idx);
			failures++;
		}
		if (ret == 0)
			comb_prog_free(prog);
	}
	comb_vm_free(vm);
	CHECK_EQ(failures, 0);
}

TEST(validate_empty_program)
{
	struct comb_insn one[] = { EXIT() };
	char err[256] = "";
	CHECK_EQ(comb_insns_validate(one, 0, err, sizeof(err)), -EINVAL);
	CHECK(err[0] != '\0');
	CHECK_EQ(comb_insns_validate(NULL, 0, NULL, 0), -EINVAL);
	struct comb_vm *vm = vm_with_helper_1();
	struct comb_prog *prog = NULL;
	CHECK(vm != NULL);
	err[0] = '\0';
	CHECK_EQ(comb_prog_load(vm, one, 0, NULL, &prog, err, sizeof(err)), -EINVAL);
	CHECK(err[0] != '\0');
	comb_vm_free(vm);
}

TEST(validate_message_fits_buffer)
{
	struct comb_insn prog[] = { INSN(ALU64(0xe0), 0, 0, 0, 0), EXIT() };
	char err[16];
	memset(err, 'x', sizeof(err));
	CHECK_EQ(comb_insns_validate(prog, ARRAY_SIZE(prog), err, 8), -EINVAL);
	CHECK(memchr(err, '\0', 8) != NULL); /* truncated, terminated */
	CHECK_EQ(err[8], 'x');              /* nothing written past err_len */
	CHECK_EQ(comb_insns_validate(prog, ARRAY_SIZE(prog), NULL, 0), -EINVAL);
}

TEST(validate_prog_load_unknown_helper_is_enoent)
{
	struct comb_vm *vm = vm_with_helper_1();
	CHECK(vm != NULL);
	struct comb_insn prog[] = { R0_ZERO, CALL_HELPER(9999), EXIT() };
	struct comb_prog *p = NULL;
	char err[256] = "";
	/* the encoding is fine; only the VM lacks helper 9999 */
	CHECK_EQ(comb_insns_validate(prog, ARRAY_SIZE(prog), err, sizeof(err)), 0);
	CHECK_EQ(comb_prog_load(vm, prog, ARRAY_SIZE(prog), NULL, &p, err, sizeof(err)), -ENOENT);
	CHECK(mentions_insn(err, 1));
	prog[1].imm = 1;
	CHECK_EQ(comb_prog_load(vm, prog, ARRAY_SIZE(prog), NULL, &p, err, sizeof(err)), 0);
	comb_prog_free(p);
	comb_vm_free(vm);
}

/* ---- valid programs ---- */

struct valid_list {
	size_t count;
	struct {
		size_t count;
		struct comb_insn insns[MAX_CASE_INSNS];
	} progs[512];
};

/* Append a program made of the given slots followed by MOV r0, 0; EXIT. */
static void add_valid(struct valid_list *list, const struct comb_insn *insns, size_t n)
{
	if (list->count == ARRAY_SIZE(list->progs) || n + 2 > MAX_CASE_INSNS)
		abort();
	struct comb_insn tail[] = { R0_ZERO, EXIT() };
	memcpy(list->progs[list->count].insns, insns, n * sizeof(*insns));
	memcpy(list->progs[list->count].insns + n, tail, sizeof(tail));
	list->progs[list->count].count = n + 2;
	list->count++;
}

#define ADD_VALID(list, ...)                                                                \
	do {                                                                                \
		struct comb_insn add_insns_[] = { __VA_ARGS__ };                            \
		add_valid((list), add_insns_, ARRAY_SIZE(add_insns_));                      \
	} while (0)

static void add_valid_alu(struct valid_list *list)
{
	static const uint8_t ops[] = {
		COMB_ALU_ADD, COMB_ALU_SUB, COMB_ALU_MUL, COMB_ALU_DIV, COMB_ALU_OR, COMB_ALU_AND,
		COMB_ALU_LSH, COMB_ALU_RSH, COMB_ALU_MOD, COMB_ALU_XOR, COMB_ALU_MOV, COMB_ALU_ARSH,
	};
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		for (int wide = 0; wide < 2; wide++) {
			uint8_t cls = wide ? COMB_CLS_ALU64 : COMB_CLS_ALU;
			ADD_VALID(list, INSN(cls | COMB_SRC_K | ops[i], 1, 0, 0, 3));
			ADD_VALID(list, INSN(cls | COMB_SRC_X | ops[i], 1, 2, 0, 0));
			ADD_VALID(list, INSN(cls | COMB_SRC_X | ops[i], 9, 10, 0, 0)); /* r10 as src */
			ADD_VALID(list, INSN(cls | COMB_SRC_K | ops[i], 0, 0, 0, -1));
		}
	}
	for (int wide = 0; wide < 2; wide++) {
		uint8_t cls = wide ? COMB_CLS_ALU64 : COMB_CLS_ALU;
		static const uint8_t signed_ops[] = { COMB_ALU_DIV, COMB_ALU_MOD };
		for (size_t i = 0; i < ARRAY_SIZE(signed_ops); i++) { /* SDIV/SMOD: off 1 */
			ADD_VALID(list, INSN(cls | COMB_SRC_K | signed_ops[i], 1, 0, 1, -3));
			ADD_VALID(list, INSN(cls | COMB_SRC_X | signed_ops[i], 1, 2, 1, 0));
		}
		ADD_VALID(list, INSN(cls | COMB_SRC_K | COMB_ALU_NEG, 3, 0, 0, 0));
	}
	for (int bits = 8; bits <= 32; bits *= 2) {
		ADD_VALID(list, MOVSX64(1, 2, bits));
		if (bits != 32)
			ADD_VALID(list, MOVSX32(1, 2, bits));
	}
	for (int bits = 16; bits <= 64; bits *= 2) {
		ADD_VALID(list, LE(1, bits));
		ADD_VALID(list, BE(1, bits));
		ADD_VALID(list, BSWAP(1, bits));
	}
}

static void add_valid_memory(struct valid_list *list)
{
	static const uint8_t sizes[] = { COMB_SIZE_B, COMB_SIZE_H, COMB_SIZE_W, COMB_SIZE_DW };
	static const int32_t atomic_ops[] = {
		COMB_ATOMIC_ADD, COMB_ATOMIC_OR, COMB_ATOMIC_AND, COMB_ATOMIC_XOR,
		COMB_ATOMIC_ADD | COMB_ATOMIC_FETCH, COMB_ATOMIC_OR | COMB_ATOMIC_FETCH,
		COMB_ATOMIC_AND | COMB_ATOMIC_FETCH, COMB_ATOMIC_XOR | COMB_ATOMIC_FETCH,
		COMB_ATOMIC_XCHG, COMB_ATOMIC_CMPXCHG,
	};
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		ADD_VALID(list, LDX_MEM(sizes[i], 1, 10, -8));
		ADD_VALID(list, ST_MEM(sizes[i], 10, -8, 7));
		ADD_VALID(list, STX_MEM(sizes[i], 10, 1, -8));
		ADD_VALID(list, STX_MEM(sizes[i], 1, 10, 0)); /* storing r10 itself */
		if (sizes[i] != COMB_SIZE_DW) {
			ADD_VALID(list, LDX_MEMSX(sizes[i], 1, 10, -8));
			ADD_VALID(list, LD_ABS(sizes[i], 4));
			ADD_VALID(list, LD_IND(sizes[i], 1, 4));
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(atomic_ops); i++) {
		ADD_VALID(list, ATOMIC(COMB_SIZE_W, 10, 1, -8, atomic_ops[i]));
		ADD_VALID(list, ATOMIC(COMB_SIZE_DW, 10, 1, -8, atomic_ops[i]));
	}
	ADD_VALID(list, LDDW(1, 0));
	ADD_VALID(list, LDDW(1, 0xffffffffffffffffull));
	ADD_VALID(list, LDDW(9, 0x8000000000000000ull));
}

static void add_valid_jumps(struct valid_list *list)
{
	static const uint8_t ops[] = {
		COMB_JMP_JEQ, COMB_JMP_JGT, COMB_JMP_JGE, COMB_JMP_JSET, COMB_JMP_JNE, COMB_JMP_JSGT,
		COMB_JMP_JSGE, COMB_JMP_JLT, COMB_JMP_JLE, COMB_JMP_JSLT, COMB_JMP_JSLE,
	};
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		ADD_VALID(list, JMP_IMM(ops[i], 1, -5, 1), R0_ZERO); /* to the MOV of the tail */
		ADD_VALID(list, JMP_REG(ops[i], 1, 2, 0));
		ADD_VALID(list, JMP32_IMM(ops[i], 1, 5, 2), R0_ZERO); /* to the EXIT of the tail */
		ADD_VALID(list, JMP32_REG(ops[i], 1, 10, 0));
	}
	ADD_VALID(list, JA(0));
	ADD_VALID(list, JA(1), R0_ZERO);
	ADD_VALID(list, GOTOL(0));
	ADD_VALID(list, GOTOL(2), R0_ZERO);
	ADD_VALID(list, JA(2), LDDW(0, 1));       /* over an LDDW */
	ADD_VALID(list, LDDW(0, 1), JA(-3));      /* back to its first slot */
	ADD_VALID(list, CALL_HELPER(1));
	ADD_VALID(list, CALLX(3));
	ADD_VALID(list, CALL_LOCAL(0));           /* calls the MOV; EXIT tail */
	ADD_VALID(list, CALL_LOCAL(1), EXIT());   /* calls the tail */
}

static void build_valid_list(struct valid_list *list)
{
	list->count = 0;
	add_valid_alu(list);
	add_valid_memory(list);
	add_valid_jumps(list);
}

/* Programs that do not end with the usual tail. */
static const struct bad_case odd_valid_programs[] = {
	BAD("ends with a JA loop", 0, -1, R0_ZERO, JA(-2)),
	BAD("ends with a gotol loop", 0, -1, R0_ZERO, GOTOL(-2)),
	BAD("single EXIT", 0, -1, EXIT()),
	BAD("local call to a later function", 0, -1, CALL_LOCAL(1), EXIT(), R0_ZERO, EXIT()),
	BAD("local call backward", 0, -1, JA(2), R0_ZERO, EXIT(), CALL_LOCAL(-3), EXIT()),
	BAD("JEQ offset 0 as last but one", 0, -1, R0_ZERO, JMP_IMM(COMB_JMP_JEQ, 0, 0, 0), EXIT()),
};

TEST(validate_accepts_every_instruction_form)
{
	static struct valid_list list;
	build_valid_list(&list);
	CHECK(list.count > 150);
	int failures = 0;
	for (size_t i = 0; i < list.count; i++) {
		char err[256] = "";
		int ret = comb_insns_validate(list.progs[i].insns, list.progs[i].count, err, sizeof(err));
		if (ret != 0) {
			test_fail(__FILE__, __LINE__, "valid program %zu (first code 0x%02x): %d %s", i,
				  list.progs[i].insns[0].code, ret, err);
			failures++;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(odd_valid_programs); i++) {
		const struct bad_case *c = &odd_valid_programs[i];
		char err[256] = "";
		int ret = comb_insns_validate(c->insns, c->count, err, sizeof(err));
		if (ret != 0) {
			test_fail(__FILE__, __LINE__, "\"%s\": %d %s", c->what, ret, err);
			failures++;
		}
	}
	CHECK_EQ(failures, 0);
}

TEST(validate_prog_load_accepts_every_instruction_form)
{
	static struct valid_list list;
	build_valid_list(&list);
	struct comb_vm *vm = vm_with_helper_1();
	CHECK(vm != NULL);
	int failures = 0;
	for (size_t i = 0; i < list.count; i++) {
		struct comb_prog *prog = NULL;
		char err[256] = "";
		int ret = comb_prog_load(vm, list.progs[i].insns, list.progs[i].count, NULL, &prog,
					 err, sizeof(err));
		if (ret != 0) {
			test_fail(__FILE__, __LINE__, "valid program %zu (first code 0x%02x): %d %s", i,
				  list.progs[i].insns[0].code, ret, err);
			failures++;
		} else {
			CHECK_EQ(comb_prog_insn_count(prog), list.progs[i].count);
			comb_prog_free(prog);
		}
	}
	comb_vm_free(vm);
	CHECK_EQ(failures, 0);
}
