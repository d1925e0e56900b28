/* tests/kernel/kernel_diff.c - random programs, run by comb and by the kernel.
 *
 * Each program is generated from its own seed (derived from the run's seed
 * and the program's index, so one failing program can be replayed alone):
 *
 *   prologue   r0..r9 = edge or random 64-bit values; 64 bytes of stack set
 *   body       random ALU/ALU64, NEG, MOVSX, END/BSWAP, DIV/MOD/SDIV/SMOD
 *              (with zero and INT_MIN/-1 set-ups), LDDW, forward JMP/JMP32,
 *              JA/gotol, ST/STX/LDX/LDXSX and atomics on the stack, and
 *              calls to a random subprogram
 *   epilogue   fold r1..r9 and the 64 stack bytes into r0 (r0 = r0 * K + x
 *              with K odd, so any single difference shows), then exit
 *
 * BPF_PROG_TEST_RUN returns only 32 bits, so the kernel runs the program
 * twice, the second time with `r0 >>= 32` before the exit. comb runs it with
 * the interpreter, the checked interpreter and the JIT; all four must agree. A
 * program the verifier rejects is a generator bug: a few are tolerated, more
 * than 5% fail the test. A mismatch prints the seed, the program, the values
 * and, for programs without calls, a minimised program that still differs.
 *
 * Usage: kernel-diff [-s SEED] [-n COUNT] [-i INDEX] [-v]   (a bare number is a
 * seed; -i replays one program, and -v prints it with its result)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/asm.h"
#include "comb/isa.h"
#include "comb/vm.h"
#include "kernel_bpf.h"

#define DEFAULT_SEED 0x5eed2024u
#define DEFAULT_COUNT 2000
#define MAX_SLOTS 1024
#define MAX_PENDING 256
#define STACK_SLOTS 8          /* 64 bytes at r10-64 .. r10-1 */
#define FOLD_MULTIPLIER ((int32_t)0x9E3779B1u)
#define MAX_FAILURE_REPORTS 5
#define VERIFIER_LOG_SIZE (1u << 20)

/* ---- random numbers -------------------------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t below(uint64_t *rng, uint32_t n)
{
	return (uint32_t)(splitmix64(rng) % n);
}

static bool chance(uint64_t *rng, uint32_t one_in)
{
	return below(rng, one_in) == 0;
}

static int32_t edge_imm32(uint64_t *rng)
{
	static const int32_t edges[] = {
		0, 1, -1, 2, INT32_MIN, INT32_MAX, INT32_MIN + 1, 0x7fff, 0x8000, 0xffff,
		0x10000, 0x7f, 0x80, 0xff, 31, 32, 63, 64, -2, -128,
	};

	switch (below(rng, 4)) {
	case 0: return edges[below(rng, sizeof(edges) / sizeof(edges[0]))];
	case 1: return (int32_t)below(rng, 256) - 128;
	default: return (int32_t)splitmix64(rng);
	}
}

static uint64_t edge_imm64(uint64_t *rng)
{
	static const uint64_t edges[] = {
		0, 1, UINT64_MAX, 0x8000000000000000ull, 0x7fffffffffffffffull, 0x80000000ull,
		0xffffffffull, 0x100000000ull, 0x7fffffffull, 0xffffffff80000000ull,
		0x8000ull, 0xffffull, 0x80ull, 0xffull, 0x00000001ffffffffull, 2,
	};

	switch (below(rng, 4)) {
	case 0: return edges[below(rng, sizeof(edges) / sizeof(edges[0]))];
	case 1: return (uint64_t)(int64_t)edge_imm32(rng);
	default: return splitmix64(rng);
	}
}

/* ---- program builder ------------------------------------------------- */

struct builder {
	uint64_t rng;
	struct comb_insn insns[MAX_SLOTS];
	bool lddw_tail[MAX_SLOTS];     /* second slot of an LDDW: no jump lands here */
	size_t count;
	size_t pending_jumps[MAX_PENDING]; /* forward jumps whose target is not yet chosen */
	size_t pending_count;
	size_t calls[MAX_PENDING];     /* calls to the subprogram */
	size_t call_count;
	int max_reg;                   /* registers the current function may use: r0..max_reg */
	size_t body_start;             /* first slot after the prologue */
	bool in_subprog;
	bool overflow;
};

static struct comb_insn make_insn(uint8_t code, int dst, int src, int16_t off, int32_t imm)
{
	struct comb_insn insn = { .code = code, .dst = (uint8_t)dst, .src = (uint8_t)src,
				  .off = off, .imm = imm };
	return insn;
}

static size_t emit(struct builder *b, struct comb_insn insn)
{
	if (b->count >= MAX_SLOTS) {
		b->overflow = true;
		return b->count - 1;
	}
	b->lddw_tail[b->count] = false;
	b->insns[b->count] = insn;
	return b->count++;
}

static void emit_lddw(struct builder *b, int dst, uint64_t value)
{
	emit(b, make_insn(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, dst, 0, 0, (int32_t)value));
	size_t tail = emit(b, make_insn(0, 0, 0, 0, (int32_t)(value >> 32)));
	b->lddw_tail[tail] = true;
}

static void emit_mov_imm(struct builder *b, bool alu64, int dst, int32_t imm)
{
	uint8_t cls = alu64 ? COMB_CLS_ALU64 : COMB_CLS_ALU;

	emit(b, make_insn(cls | COMB_ALU_MOV | COMB_SRC_K, dst, 0, 0, imm));
}

static void add_pending_jump(struct builder *b, size_t slot)
{
	if (b->pending_count < MAX_PENDING)
		b->pending_jumps[b->pending_count++] = slot;
	else /* too many: make it a jump to the next instruction */
		b->insns[slot].off = 0;
}

static int pick_reg(struct builder *b)
{
	return (int)below(&b->rng, (uint32_t)b->max_reg + 1);
}

/* ---- instruction generators (one "unit" each) ------------------------ */

static void gen_alu(struct builder *b)
{
	static const uint8_t ops[] = {
		COMB_ALU_ADD, COMB_ALU_SUB, COMB_ALU_MUL, COMB_ALU_DIV, COMB_ALU_OR,
		COMB_ALU_AND, COMB_ALU_LSH, COMB_ALU_RSH, COMB_ALU_MOD, COMB_ALU_XOR,
		COMB_ALU_MOV, COMB_ALU_ARSH,
	};
	bool alu64 = chance(&b->rng, 2);
	uint8_t cls = alu64 ? COMB_CLS_ALU64 : COMB_CLS_ALU;
	uint8_t op = ops[below(&b->rng, sizeof(ops))];
	bool is_shift = op == COMB_ALU_LSH || op == COMB_ALU_RSH || op == COMB_ALU_ARSH;
	bool is_div = op == COMB_ALU_DIV || op == COMB_ALU_MOD;
	int dst = pick_reg(b), src = pick_reg(b);

	if (chance(&b->rng, 2)) {
		int32_t imm = edge_imm32(&b->rng);
		if (is_shift)
			imm = (int32_t)below(&b->rng, alu64 ? 64 : 32);
		if (is_div && imm == 0)
			imm = chance(&b->rng, 2) ? 1 : -1;
		emit(b, make_insn(cls | op | COMB_SRC_K, dst, 0, 0, imm));
		return;
	}
	if (is_div && chance(&b->rng, 3))
		emit_mov_imm(b, chance(&b->rng, 2), src, 0); /* x / 0 == 0, x % 0 == x */
	if (is_shift && chance(&b->rng, 2))
		emit_mov_imm(b, false, src, (int32_t)below(&b->rng, alu64 ? 64 : 32));
	emit(b, make_insn(cls | op | COMB_SRC_X, dst, src, 0, 0));
}

static void gen_signed_divmod(struct builder *b)
{
	bool alu64 = chance(&b->rng, 2);
	uint8_t cls = alu64 ? COMB_CLS_ALU64 : COMB_CLS_ALU;
	uint8_t op = chance(&b->rng, 2) ? COMB_ALU_DIV : COMB_ALU_MOD;
	int dst = pick_reg(b), src = pick_reg(b);
	bool int_min_case = chance(&b->rng, 3);

	if (int_min_case) {
		if (alu64)
			emit_lddw(b, dst, 0x8000000000000000ull);
		else
			emit_mov_imm(b, false, dst, INT32_MIN);
	}
	if (chance(&b->rng, 2)) {
		int32_t imm = int_min_case ? -1 : edge_imm32(&b->rng);
		if (imm == 0)
			imm = -1;
		emit(b, make_insn(cls | op | COMB_SRC_K, dst, 0, 1, imm));
		return;
	}
	if (dst != src && int_min_case)
		emit_mov_imm(b, true, src, -1);
	else if (chance(&b->rng, 4))
		emit_mov_imm(b, chance(&b->rng, 2), src, 0);
	emit(b, make_insn(cls | op | COMB_SRC_X, dst, src, 1, 0));
}

static void gen_neg_movsx_end(struct builder *b)
{
	static const int16_t sx64[] = { 8, 16, 32 };
	static const int32_t widths[] = { 16, 32, 64 };
	int dst = pick_reg(b), src = pick_reg(b);
	int32_t width = widths[below(&b->rng, 3)];

	switch (below(&b->rng, 6)) {
	case 0:
		emit(b, make_insn(COMB_CLS_ALU64 | COMB_ALU_NEG, dst, 0, 0, 0));
		break;
	case 1:
		emit(b, make_insn(COMB_CLS_ALU | COMB_ALU_NEG, dst, 0, 0, 0));
		break;
	case 2:
		emit(b, make_insn(COMB_CLS_ALU64 | COMB_ALU_MOV | COMB_SRC_X, dst, src,
				  sx64[below(&b->rng, 3)], 0));
		break;
	case 3:
		emit(b, make_insn(COMB_CLS_ALU | COMB_ALU_MOV | COMB_SRC_X, dst, src,
				  chance(&b->rng, 2) ? 8 : 16, 0));
		break;
	case 4: /* END: to little endian (K) or big endian (X) */
		emit(b, make_insn(COMB_CLS_ALU | COMB_ALU_END |
					  (chance(&b->rng, 2) ? COMB_SRC_X : COMB_SRC_K),
				  dst, 0, 0, width));
		break;
	default: /* BSWAP */
		emit(b, make_insn(COMB_CLS_ALU64 | COMB_ALU_END, dst, 0, 0, width));
		break;
	}
}

static void gen_lddw(struct builder *b)
{
	emit_lddw(b, pick_reg(b), edge_imm64(&b->rng));
}

static uint8_t random_cond_op(uint64_t *rng)
{
	static const uint8_t ops[] = {
		COMB_JMP_JEQ, COMB_JMP_JGT, COMB_JMP_JGE, COMB_JMP_JSET, COMB_JMP_JNE, COMB_JMP_JSGT,
		COMB_JMP_JSGE, COMB_JMP_JLT, COMB_JMP_JLE, COMB_JMP_JSLT, COMB_JMP_JSLE,
	};
	return ops[below(rng, sizeof(ops))];
}

static struct comb_insn random_cond_jump(struct builder *b, int16_t off)
{
	uint8_t cls = chance(&b->rng, 2) ? COMB_CLS_JMP : COMB_CLS_JMP32;
	uint8_t op = random_cond_op(&b->rng);

	if (chance(&b->rng, 2))
		return make_insn(cls | op | COMB_SRC_K, pick_reg(b), 0, off, edge_imm32(&b->rng));
	return make_insn(cls | op | COMB_SRC_X, pick_reg(b), pick_reg(b), off, 0);
}

/* A conditional jump to a later target; or `if cond goto +1; ja/gotol L`
 * (an unconditional jump needs the conditional one so that what it skips
 * stays reachable: the verifier refuses unreachable instructions). */
static void gen_jump(struct builder *b)
{
	if (!chance(&b->rng, 4)) {
		add_pending_jump(b, emit(b, random_cond_jump(b, 0)));
		return;
	}
	emit(b, random_cond_jump(b, 1));
	if (chance(&b->rng, 2))
		add_pending_jump(b, emit(b, make_insn(COMB_CLS_JMP | COMB_JMP_JA, 0, 0, 0, 0)));
	else
		add_pending_jump(b, emit(b, make_insn(COMB_CLS_JMP32 | COMB_JMP_JA, 0, 0, 0, 0)));
}

static int16_t random_stack_off(uint64_t *rng, int size)
{
	int slot = 1 + (int)below(rng, STACK_SLOTS);
	int within = (int)below(rng, (uint32_t)(8 / size));

	return (int16_t)(-8 * slot + within * size);
}

static uint8_t size_code(int size)
{
	switch (size) {
	case 1: return COMB_SIZE_B;
	case 2: return COMB_SIZE_H;
	case 4: return COMB_SIZE_W;
	default: return COMB_SIZE_DW;
	}
}

static void gen_stack(struct builder *b)
{
	int size = 1 << below(&b->rng, 4);
	int16_t off = random_stack_off(&b->rng, size);
	uint8_t sz = size_code(size);

	switch (below(&b->rng, 4)) {
	case 0:
		emit(b, make_insn(COMB_CLS_STX | COMB_MODE_MEM | sz, 10, pick_reg(b), off, 0));
		break;
	case 1:
		emit(b, make_insn(COMB_CLS_ST | COMB_MODE_MEM | sz, 10, 0, off, edge_imm32(&b->rng)));
		break;
	case 2:
		emit(b, make_insn(COMB_CLS_LDX | COMB_MODE_MEM | sz, pick_reg(b), 10, off, 0));
		break;
	default:
		if (size == 8) { /* no sign-extending 64-bit load */
			size = 4;
			off = random_stack_off(&b->rng, size);
			sz = COMB_SIZE_W;
		}
		emit(b, make_insn(COMB_CLS_LDX | COMB_MODE_MEMSX | sz, pick_reg(b), 10, off, 0));
		break;
	}
}

static void gen_atomic(struct builder *b)
{
	static const int32_t ops[] = {
		COMB_ATOMIC_ADD, COMB_ATOMIC_OR, COMB_ATOMIC_AND, COMB_ATOMIC_XOR,
		COMB_ATOMIC_ADD | COMB_ATOMIC_FETCH, COMB_ATOMIC_OR | COMB_ATOMIC_FETCH,
		COMB_ATOMIC_AND | COMB_ATOMIC_FETCH, COMB_ATOMIC_XOR | COMB_ATOMIC_FETCH,
		COMB_ATOMIC_XCHG, COMB_ATOMIC_CMPXCHG,
	};
	int size = chance(&b->rng, 2) ? 4 : 8;
	int16_t off = random_stack_off(&b->rng, size);
	int32_t op = ops[below(&b->rng, sizeof(ops) / sizeof(ops[0]))];

	/* The kernel (6.18, x86-64 JIT) sometimes leaves the upper half of r0
	 * unchanged after a successful 32-bit CMPXCHG instead of zero-extending
	 * it as RFC 9669 says (its verifier misses the zext it inserts for this
	 * case on some paths). Clear the upper half first so that the kernel
	 * and comb can be compared. */
	if (op == COMB_ATOMIC_CMPXCHG && size == 4)
		emit(b, make_insn(COMB_CLS_ALU | COMB_ALU_MOV | COMB_SRC_X, 0, 0, 0, 0));
	emit(b, make_insn(COMB_CLS_STX | COMB_MODE_ATOMIC | size_code(size), 10, pick_reg(b), off, op));
}

/* call the subprogram; r1..r5 come back clobbered, so set them again */
static void gen_call(struct builder *b)
{
	size_t slot = emit(b, make_insn(COMB_CLS_JMP | COMB_JMP_CALL, 0, COMB_CALL_LOCAL, 0, 0));

	if (b->call_count < MAX_PENDING)
		b->calls[b->call_count++] = slot;
	for (int reg = 1; reg <= 5; reg++)
		emit_mov_imm(b, chance(&b->rng, 2), reg, edge_imm32(&b->rng));
}

static void gen_unit(struct builder *b, bool allow_call)
{
	uint32_t pick = below(&b->rng, 100);

	if (pick < 30)
		gen_alu(b);
	else if (pick < 38)
		gen_signed_divmod(b);
	else if (pick < 48)
		gen_neg_movsx_end(b);
	else if (pick < 53)
		gen_lddw(b);
	else if (pick < 66)
		gen_jump(b);
	else if (b->in_subprog)
		gen_alu(b); /* the subprogram has no initialised stack of its own */
	else if (pick < 84)
		gen_stack(b);
	else if (pick < 96 || !allow_call)
		gen_atomic(b);
	else
		gen_call(b);
}

/* Give every pending jump a forward target in (jump, end]. */
static void resolve_jumps(struct builder *b, size_t end)
{
	for (size_t i = 0; i < b->pending_count; i++) {
		size_t from = b->pending_jumps[i];
		size_t span = end - from; /* targets from+1 .. end */
		size_t target = from + 1 + below(&b->rng, (uint32_t)(span < 24 ? span : 24));
		struct comb_insn *jump = &b->insns[from];

		while (target < end && b->lddw_tail[target])
			target++;
		if (COMB_CLASS(jump->code) == COMB_CLS_JMP32 && COMB_OP(jump->code) == COMB_JMP_JA)
			jump->imm = (int32_t)(target - from - 1);
		else
			jump->off = (int16_t)(target - from - 1);
	}
	b->pending_count = 0;
}

/* ---- whole programs -------------------------------------------------- */

struct gen_options {
	bool fold;        /* fold r1..r9 and the stack into r0 */
	bool high_half;   /* end with r0 >>= 32 */
};

static void emit_prologue(struct builder *b)
{
	for (int reg = 0; reg <= 9; reg++) {
		if (chance(&b->rng, 3))
			emit_mov_imm(b, chance(&b->rng, 2), reg, edge_imm32(&b->rng));
		else
			emit_lddw(b, reg, edge_imm64(&b->rng));
	}
	for (int slot = 1; slot <= STACK_SLOTS; slot++)
		emit(b, make_insn(COMB_CLS_STX | COMB_MODE_MEM | COMB_SIZE_DW, 10,
				  (int)below(&b->rng, 10), (int16_t)(-8 * slot), 0));
}

static void emit_fold_step(struct builder *b, int reg)
{
	emit(b, make_insn(COMB_CLS_ALU64 | COMB_ALU_MUL | COMB_SRC_K, 0, 0, 0, FOLD_MULTIPLIER));
	emit(b, make_insn(COMB_CLS_ALU64 | COMB_ALU_ADD | COMB_SRC_X, 0, reg, 0, 0));
}

static void emit_epilogue(struct builder *b, const struct gen_options *opts)
{
	if (opts->fold) {
		for (int reg = 1; reg <= 9; reg++)
			emit_fold_step(b, reg);
		for (int slot = 1; slot <= STACK_SLOTS; slot++) {
			emit(b, make_insn(COMB_CLS_LDX | COMB_MODE_MEM | COMB_SIZE_DW, 1, 10,
					  (int16_t)(-8 * slot), 0));
			emit_fold_step(b, 1);
		}
	}
	if (opts->high_half)
		emit(b, make_insn(COMB_CLS_ALU64 | COMB_ALU_RSH | COMB_SRC_K, 0, 0, 0, 32));
	emit(b, make_insn(COMB_CLS_JMP | COMB_JMP_EXIT, 0, 0, 0, 0));
}

/* The subprogram: r0 from its arguments, random ALU and jumps on r0..r5. */
static void emit_subprog(struct builder *b)
{
	size_t units = 3 + below(&b->rng, 12);

	b->in_subprog = true;
	b->max_reg = 5;
	emit(b, make_insn(COMB_CLS_ALU64 | COMB_ALU_MOV | COMB_SRC_X, 0, 1 + (int)below(&b->rng, 5),
			  0, 0));
	for (size_t i = 0; i < units; i++)
		gen_unit(b, false);
	resolve_jumps(b, b->count);
	emit(b, make_insn(COMB_CLS_JMP | COMB_JMP_EXIT, 0, 0, 0, 0));
}

/* Build program number `index` of a run; the same seed always gives the
 * same body whatever the options. Returns false if it did not fit. */
static bool generate(uint64_t seed, const struct gen_options *opts, struct builder *b)
{
	size_t units, call_at;
	bool with_subprog;

	memset(b, 0, sizeof(*b));
	b->rng = seed;
	b->max_reg = 9;
	units = 10 + below(&b->rng, 50);
	with_subprog = chance(&b->rng, 4);
	call_at = below(&b->rng, (uint32_t)units);

	emit_prologue(b);
	b->body_start = b->count;
	for (size_t i = 0; i < units; i++) {
		if (with_subprog && i == call_at)
			gen_call(b);
		gen_unit(b, with_subprog);
	}
	resolve_jumps(b, b->count);
	emit_epilogue(b, opts);
	if (with_subprog) {
		size_t entry = b->count;
		emit_subprog(b);
		for (size_t i = 0; i < b->call_count; i++)
			b->insns[b->calls[i]].imm = (int32_t)(entry - b->calls[i] - 1);
	}
	return !b->overflow;
}

static uint64_t program_seed(uint64_t run_seed, size_t index)
{
	uint64_t state = run_seed ^ (0xD1B54A32D192ED03ull * (index + 1));

	return splitmix64(&state);
}

/* ---- running ---------------------------------------------------------- */

struct outcome {
	bool kernel_rejected;
	bool kernel_denied;
	int kernel_error;
	uint64_t kernel_r0;
	int comb_load_error;
	int comb_run_error[3];
	uint64_t comb_r0[3];     /* [0] interp, [1] checked, [2] jit */
	char comb_message[512];
};

static const enum comb_engine engines[3] = { COMB_ENGINE_INTERP, COMB_ENGINE_CHECKED, COMB_ENGINE_JIT };

static void print_program(FILE *out, const struct builder *b)
{
	char line[128];

	for (size_t idx = 0; idx < b->count;) {
		int used = comb_disasm_insn(b->insns, b->count, idx, COMB_SYNTAX_LLVM, line,
					    sizeof(line));
		fprintf(out, "  %4zu: %s\n", idx, line);
		idx += used > 0 ? (size_t)used : 1;
	}
}

/* Print the last lines of a verifier log (the reason is at the end). */
static void print_log_tail(FILE *out, const char *log, int lines)
{
	const char *p = log + strlen(log);

	while (p > log && lines >= 0) {
		p--;
		if (*p == '\n')
			lines--;
	}
	fprintf(out, "  verifier: %s\n", p == log ? p : p + 1);
}

/* Load and run instructions in the kernel; *retval gets the low 32 bits of r0. */
static int kernel_run_insns(const struct comb_insn *insns, size_t count, uint32_t *retval,
			    char *log, size_t log_len)
{
	static const unsigned char packet[64];
	int fd, ret;

	ret = kernel_bpf_load_insns(insns, count, "comb_diff", &fd, log, log_len);
	if (ret < 0)
		return ret;
	ret = kernel_bpf_test_run(fd, packet, sizeof(packet), 1, retval, NULL);
	kernel_bpf_close(fd);
	return ret;
}

/* Run one 32-bit half in the kernel. */
static int kernel_half(uint64_t seed, bool fold, bool high, uint32_t *half, char *log,
		       size_t log_len)
{
	struct gen_options opts = { .fold = fold, .high_half = high };
	static struct builder b;

	if (!generate(seed, &opts, &b))
		return -E2BIG;
	return kernel_run_insns(b.insns, b.count, half, log, log_len);
}

static void run_kernel(uint64_t seed, bool fold, struct outcome *out, char *log, size_t log_len)
{
	uint32_t low = 0, high = 0;
	int ret = kernel_half(seed, fold, false, &low, log, log_len);

	if (ret == 0)
		ret = kernel_half(seed, fold, true, &high, log, log_len);
	out->kernel_error = ret;
	out->kernel_denied = ret < 0 && kernel_bpf_is_denied(ret);
	out->kernel_rejected = ret < 0 && !out->kernel_denied;
	out->kernel_r0 = (uint64_t)high << 32 | low;
}

static void run_comb(struct comb_vm *vm, const struct builder *b, struct outcome *out)
{
	struct comb_prog *prog = NULL;

	out->comb_message[0] = '\0';
	out->comb_load_error = comb_prog_load(vm, b->insns, b->count, NULL, &prog,
					      out->comb_message, sizeof(out->comb_message));
	if (out->comb_load_error < 0)
		return;
	for (int e = 0; e < 3; e++) {
		struct comb_run_error error = { 0 };
		struct comb_run_opts opts = { .sz = sizeof(opts), .engine = engines[e],
					      .error = &error };
		out->comb_r0[e] = 0;
		out->comb_run_error[e] = comb_prog_run(prog, &opts, &out->comb_r0[e]);
		if (out->comb_run_error[e] < 0)
			snprintf(out->comb_message, sizeof(out->comb_message), "%s: insn %ld: %s",
				 comb_engine_name(engines[e]), error.insn, error.message);
	}
	comb_prog_free(prog);
}

static bool outcomes_agree(const struct outcome *o)
{
	if (o->comb_load_error < 0)
		return false;
	for (int e = 0; e < 3; e++)
		if (o->comb_run_error[e] < 0 || o->comb_r0[e] != o->kernel_r0)
			return false;
	return true;
}

/* Compare one program; fold selects the full (registers + stack) variant. */
static void compare(struct comb_vm *vm, uint64_t seed, bool fold, struct outcome *out,
		    char *log, size_t log_len)
{
	struct gen_options opts = { .fold = fold };
	static struct builder b;

	memset(out, 0, sizeof(*out));
	run_kernel(seed, fold, out, log, log_len);
	if (out->kernel_error < 0)
		return;
	generate(seed, &opts, &b);
	run_comb(vm, &b, out);
}

static void print_values(FILE *out, const char *what, const struct outcome *o)
{
	fprintf(out, "  %s: kernel 0x%016" PRIx64, what, o->kernel_r0);
	if (o->comb_load_error < 0) {
		fprintf(out, ", comb refused to load (%d): %s\n", o->comb_load_error, o->comb_message);
		return;
	}
	for (int e = 0; e < 3; e++) {
		if (o->comb_run_error[e] < 0)
			fprintf(out, ", %s error %d", comb_engine_name(engines[e]), o->comb_run_error[e]);
		else
			fprintf(out, ", %s 0x%016" PRIx64, comb_engine_name(engines[e]), o->comb_r0[e]);
	}
	fprintf(out, "%s%s\n", o->comb_message[0] ? ": " : "", o->comb_message);
}

/* The full 64-bit r0 of a program ending in a single exit at count-1, from
 * the kernel (two runs: as is, and with r0 >>= 32 spliced in before the exit). */
static int kernel_r0_of(const struct builder *b, uint64_t *r0, char *log, size_t log_len)
{
	static struct builder high;
	uint32_t low_half, high_half;
	int ret;

	ret = kernel_run_insns(b->insns, b->count, &low_half, log, log_len);
	if (ret < 0)
		return ret;
	high = *b;
	high.insns[high.count - 1] = make_insn(COMB_CLS_ALU64 | COMB_ALU_RSH | COMB_SRC_K, 0, 0, 0, 32);
	high.insns[high.count++] = make_insn(COMB_CLS_JMP | COMB_JMP_EXIT, 0, 0, 0, 0);
	ret = kernel_run_insns(high.insns, high.count, &high_half, log, log_len);
	*r0 = (uint64_t)high_half << 32 | low_half;
	return ret;
}

/* Still a mismatch in r0 between the kernel and comb's interpreter? */
static bool still_differs(struct comb_vm *vm, const struct builder *b, char *log, size_t log_len)
{
	struct outcome o = { 0 };

	if (kernel_r0_of(b, &o.kernel_r0, log, log_len) < 0)
		return false;
	run_comb(vm, b, &o);
	return !outcomes_agree(&o);
}

static bool removable(const struct builder *b, size_t idx)
{
	const struct comb_insn *insn = &b->insns[idx];

	return idx >= b->body_start && !b->lddw_tail[idx] && COMB_OP(insn->code) != COMB_JMP_EXIT &&
	       !(insn->code == (COMB_CLS_JMP | COMB_JMP_JA) && insn->off == 0);
}

/* Shrink a program whose r0 differs (main function ending at its first exit):
 * replace body instructions (the prologue stays: it initialises registers and
 * stack) by `goto +0` (an LDDW by two) while the kernel still
 * accepts it and r0 still differs. Slot numbers do not move. */
static void minimise(struct comb_vm *vm, struct builder *b, char *log, size_t log_len)
{
	const struct comb_insn nop = make_insn(COMB_CLS_JMP | COMB_JMP_JA, 0, 0, 0, 0);
	bool changed = true;

	while (changed) {
		changed = false;
		for (size_t idx = 0; idx < b->count; idx++) {
			struct builder trial;
			if (!removable(b, idx))
				continue;
			trial = *b;
			trial.insns[idx] = nop;
			if (comb_insn_is_lddw(&b->insns[idx]))
				trial.insns[idx + 1] = nop, trial.lddw_tail[idx + 1] = false;
			if (still_differs(vm, &trial, log, log_len)) {
				*b = trial;
				changed = true;
			}
		}
	}
}

static void report_minimised(struct comb_vm *vm, uint64_t seed, char *log, size_t log_len)
{
	struct gen_options opts = { .fold = false };
	static struct builder b;
	struct outcome o = { 0 };

	generate(seed, &opts, &b);
	if (b.call_count || !still_differs(vm, &b, log, log_len))
		return; /* keeps it simple: only programs without subprograms */
	minimise(vm, &b, log, log_len);
	kernel_r0_of(&b, &o.kernel_r0, log, log_len);
	run_comb(vm, &b, &o);
	fprintf(stderr, "  minimised (removed instructions are `goto +0`):\n");
	for (size_t idx = 0; idx < b.count; idx++) {
		if (b.insns[idx].code == (COMB_CLS_JMP | COMB_JMP_JA) && b.insns[idx].off == 0)
			continue;
		char line[128];
		if (comb_disasm_insn(b.insns, b.count, idx, COMB_SYNTAX_LLVM, line, sizeof(line)) > 0)
			fprintf(stderr, "  %4zu: %s\n", idx, line);
	}
	print_values(stderr, "r0", &o);
}

static void report_mismatch(struct comb_vm *vm, uint64_t run_seed, size_t index, uint64_t seed,
			    const struct outcome *folded, char *log, size_t log_len)
{
	struct gen_options opts = { .fold = false };
	static struct builder b;
	struct outcome plain;

	fprintf(stderr, "kernel-diff: MISMATCH: seed 0x%" PRIx64 ", program %zu (replay: kernel-diff -s 0x%" PRIx64
		" -i %zu -v)\n", run_seed, index, run_seed, index);
	print_values(stderr, "r0 with r1-r9 and stack folded in", folded);
	compare(vm, seed, false, &plain, log, log_len);
	if (plain.kernel_error == 0)
		print_values(stderr, "r0 alone", &plain);
	generate(seed, &opts, &b);
	fprintf(stderr, "  program (without the fold epilogue):\n");
	print_program(stderr, &b);
	if (plain.kernel_error == 0 && !outcomes_agree(&plain))
		report_minimised(vm, seed, log, log_len);
}

static void report_rejection(uint64_t run_seed, size_t index, uint64_t seed, const char *log)
{
	struct gen_options opts = { .fold = true };
	static struct builder b;

	generate(seed, &opts, &b);
	fprintf(stderr, "kernel-diff: verifier rejected seed 0x%" PRIx64 " program %zu:\n", run_seed,
		index);
	print_program(stderr, &b);
	print_log_tail(stderr, log, 6);
}

static void print_generated(uint64_t seed)
{
	struct gen_options opts = { .fold = true };
	static struct builder b;

	generate(seed, &opts, &b);
	print_program(stdout, &b);
}

/* ---- main -------------------------------------------------------------- */

struct config {
	uint64_t seed;
	size_t count;
	long only;      /* -i: run just this program (-1: all) */
	bool verbose;
};

static int parse_args(int argc, char **argv, struct config *cfg)
{
	cfg->seed = DEFAULT_SEED;
	cfg->count = DEFAULT_COUNT;
	cfg->only = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			cfg->verbose = true;
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			cfg->seed = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
			cfg->only = strtol(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			cfg->count = strtoull(argv[++i], NULL, 0);
		else if (argv[i][0] >= '0' && argv[i][0] <= '9')
			cfg->seed = strtoull(argv[i], NULL, 0);
		else {
			fprintf(stderr, "usage: kernel-diff [-s SEED] [-n COUNT] [-i INDEX] [-v]\n");
			return -EINVAL;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	size_t passed = 0, failed = 0, rejected = 0, reported = 0;
	struct comb_vm *vm = NULL;
	char reason[256];
	char *log;
	int ret;

	if (parse_args(argc, argv, &cfg) < 0)
		return 2;
	if (kernel_bpf_probe(reason, sizeof(reason)) < 0) {
		printf("kernel-diff: skipped (%s)\n", reason);
		printf("kernel-diff: 0 passed, 0 failed\n");
		return 0;
	}
	ret = comb_vm_new(NULL, &vm);
	log = malloc(VERIFIER_LOG_SIZE);
	if (ret < 0 || !log) {
		fprintf(stderr, "kernel-diff: cannot create a comb VM: %s\n", strerror(ret < 0 ? -ret : ENOMEM));
		return 1;
	}
	if (cfg.only >= 0 && (size_t)cfg.only >= cfg.count)
		cfg.count = (size_t)cfg.only + 1;
	for (size_t i = 0; i < cfg.count; i++) {
		uint64_t seed = program_seed(cfg.seed, i);
		struct outcome o;

		if (cfg.only >= 0 && (size_t)cfg.only != i)
			continue;
		if (cfg.only >= 0 && cfg.verbose)
			print_generated(seed);

		compare(vm, seed, true, &o, log, VERIFIER_LOG_SIZE);
		if (o.kernel_denied) {
			fprintf(stderr, "kernel-diff: program %zu: bpf() denied: %s\n", i,
				strerror(-o.kernel_error));
			failed++;
		} else if (o.kernel_rejected) {
			if (rejected++ < 3 || cfg.verbose)
				report_rejection(cfg.seed, i, seed, log);
		} else if (outcomes_agree(&o)) {
			passed++;
			if (cfg.verbose)
				printf("program %zu: r0 0x%016" PRIx64 "\n", i, o.kernel_r0);
		} else {
			failed++;
			if (reported++ < MAX_FAILURE_REPORTS || cfg.verbose)
				report_mismatch(vm, cfg.seed, i, seed, &o, log, VERIFIER_LOG_SIZE);
		}
	}
	if (rejected * 20 > cfg.count) {
		fprintf(stderr, "kernel-diff: the verifier rejected %zu of %zu programs (more than 5%%): "
			"fix the generator\n", rejected, cfg.count);
		failed += rejected;
	} else if (rejected) {
		fprintf(stderr, "kernel-diff: note: the verifier rejected %zu of %zu programs\n", rejected,
			cfg.count);
	}
	if (failed)
		fprintf(stderr, "kernel-diff: seed 0x%" PRIx64 " (rerun: kernel-diff -s 0x%" PRIx64 ")\n",
			cfg.seed, cfg.seed);
	printf("kernel-diff: %zu passed, %zu failed\n", passed, failed);
	free(log);
	comb_vm_free(vm);
	return failed ? 1 : 0;
}
