/* tests/unit/test_bounds.c - scalar bounds: soundness by sampling, precision by example.
 *
 * Abstract states are generated around the values where arithmetic goes
 * wrong (0, the sign bits, the 32-bit boundary, the ends of the ranges),
 * built from constants, joins, ranges and random known bits. Concrete
 * members are drawn from each state (and kept only if the state contains
 * them); every ALU op applied to members must land in the abstract result
 * (checked against a reference evaluator written from RFC 9669 here), and
 * every pair that takes a branch must stay in the refined states.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include "../test.h"
#include "verifier/bounds.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static const uint64_t edges[] = {
	0, 0, 0, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
	0x100000000ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xffffffffffffffffULL,
};

/* A value near an edge (within +-8), or small, or anything. */
static uint64_t interesting(void)
{
	switch (rnd() % 8) {
	case 0: return rnd();
	case 1: return rnd() % 64;
	default: return edges[rnd() % (sizeof(edges) / sizeof(edges[0]))] + (rnd() % 17) - 8;
	}
}

static struct comb_scalar random_scalar(void)
{
	struct comb_scalar s = comb_scalar_unknown(), c;
	uint64_t a = interesting(), b;
	switch (rnd() % 8) {
	case 0:
		return comb_scalar_const(a);
	case 1: /* join of a few constants */
		s = comb_scalar_const(a);
		for (int i = (int)(rnd() % 3); i >= 0; i--) {
			c = comb_scalar_const(rnd() & 1 ? interesting() : a + rnd() % 16);
			s = comb_scalar_join(&s, &c);
		}
		return s;
	case 2: /* random known bits */
		s.var_off.mask = rnd() & rnd();
		if (rnd() & 1)
			s.var_off.mask &= 0xff;
		s.var_off.value = a & ~s.var_off.mask;
		break;
	case 3: /* unsigned range */
		b = a + (rnd() & 1 ? rnd() % 300 : rnd() >> (rnd() % 64));
		s.umin = a < b ? a : b;
		s.umax = a < b ? b : a;
		break;
	case 4: /* signed range */
		b = a + rnd() % 300;
		s.smin = (int64_t)a < (int64_t)b ? (int64_t)a : (int64_t)b;
		s.smax = (int64_t)a < (int64_t)b ? (int64_t)b : (int64_t)a;
		break;
	case 5: /* 32-bit ranges */
		b = a + rnd() % 300;
		s.u32_min = (uint32_t)a < (uint32_t)b ? (uint32_t)a : (uint32_t)b;
		s.u32_max = (uint32_t)a < (uint32_t)b ? (uint32_t)b : (uint32_t)a;
		if (rnd() & 1) {
			s.s32_min = -(int32_t)(rnd() % 100);
			s.s32_max = (int32_t)(rnd() % 100);
		}
		if (rnd() % 3 == 0) /* and a 64-bit end that cuts a 4 GiB block */
			s.umax = interesting() + (rnd() % 3) * 0x100000000ULL;
		if (rnd() % 3 == 0)
			s.smin = (int64_t)interesting();
		break;
	case 6:
		return comb_scalar_unknown();
	default: /* small shift amounts and small values */
		return comb_scalar_urange(rnd() % 8, 8 + rnd() % 60);
	}
	comb_scalar_sync(&s);
	return s;
}

/* Up to `max` members of s (those s contains); returns how many. */
static int members(const struct comb_scalar *s, uint64_t *out, int max)
{
	int n = 0;
	for (int tries = 0; tries < 8 * max && n < max; tries++) {
		uint64_t x;
		switch (tries % 6) {
		case 0: x = s->var_off.value | (rnd() & s->var_off.mask); break;
		case 1: x = s->umin + rnd() % 4; break;
		case 2: x = s->umax - rnd() % 4; break;
		case 3: x = (uint64_t)s->smin + rnd() % 4; break;
		case 4: x = (uint64_t)s->smax - rnd() % 4; break;
		default:
			x = s->umax - s->umin < 1000 ? s->umin + rnd() % (s->umax - s->umin + 1)
						     : (s->var_off.value | (rnd() & s->var_off.mask));
			x = (x & ~0xffffffffULL) | (s->u32_min + rnd() % 3);
			break;
		}
		if (comb_scalar_contains(s, x))
			out[n++] = x;
	}
	return n;
}

/* ---- a reference evaluator, straight from RFC 9669 ---- */

static uint64_t sext(uint64_t x, int bits)
{
	uint64_t sign = 1ULL << (bits - 1), m = bits == 64 ? ~0ULL : (sign << 1) - 1;
	x &= m;
	return bits == 64 ? x : (x ^ sign) - sign;
}

static uint64_t reference_alu(const struct comb_insn *in, uint64_t dst, uint64_t src)
{
	bool alu64 = COMB_CLASS(in->code) == COMB_CLS_ALU64;
	uint8_t op = COMB_OP(in->code);
	if (COMB_SRC(in->code) == COMB_SRC_K)
		src = (uint64_t)(int64_t)in->imm;
	if (op == COMB_ALU_END) {
		int bits = in->imm;
		bool swap = alu64 || COMB_SRC(in->code) == COMB_SRC_X;
		uint64_t r = bits == 16 ? (swap ? __builtin_bswap16((uint16_t)dst) : (uint16_t)dst)
			   : bits == 32 ? (swap ? __builtin_bswap32((uint32_t)dst) : (uint32_t)dst)
					: (swap ? __builtin_bswap64(dst) : dst);
		return r;
	}
	int w = alu64 ? 64 : 32;
	uint64_t m = alu64 ? ~0ULL : 0xffffffffULL;
	uint64_t a = dst & m, b = src & m, r = 0;
	int64_t sa = (int64_t)sext(a, w), sb = (int64_t)sext(b, w);
	switch (op) {
	case COMB_ALU_ADD: r = a + b; break;
	case COMB_ALU_SUB: r = a - b; break;
	case COMB_ALU_MUL: r = a * b; break;
	case COMB_ALU_OR: r = a | b; break;
	case COMB_ALU_AND: r = a & b; break;
	case COMB_ALU_XOR: r = a ^ b; break;
	case COMB_ALU_LSH: r = a << (b % (uint64_t)w); break;
	case COMB_ALU_RSH: r = a >> (b % (uint64_t)w); break;
	case COMB_ALU_ARSH: r = (uint64_t)(sa >> (b % (uint64_t)w)); break;
	case COMB_ALU_NEG: r = 0 - a; break;
	case COMB_ALU_MOV: r = in->off ? sext(src, in->off) : b; break;
	case COMB_ALU_DIV:
		if (in->off == 0)
			r = b == 0 ? 0 : a / b;
		else if (sb == 0)
			r = 0;
		else if (sb == -1)
			r = 0 - (uint64_t)sa;
		else
			r = (uint64_t)(sa / sb);
		break;
	case COMB_ALU_MOD:
		if (in->off == 0)
			r = b == 0 ? a : a % b;
		else if (sb == 0)
			r = (uint64_t)sa;
		else if (sb == -1)
			r = 0;
		else
			r = (uint64_t)(sa % sb);
		break;
	}
	return r & m;
}

struct alu_form {
	uint8_t op;
	int16_t off;
	int32_t imm; /* END width */
	bool k_only, x_only, alu64_only;
};

static const struct alu_form alu_forms[] = {
	{ COMB_ALU_ADD, 0, 0, 0, 0, 0 },  { COMB_ALU_SUB, 0, 0, 0, 0, 0 },
	{ COMB_ALU_MUL, 0, 0, 0, 0, 0 },  { COMB_ALU_DIV, 0, 0, 0, 0, 0 },
	{ COMB_ALU_DIV, 1, 0, 0, 0, 0 },  { COMB_ALU_MOD, 0, 0, 0, 0, 0 },
	{ COMB_ALU_MOD, 1, 0, 0, 0, 0 },  { COMB_ALU_OR, 0, 0, 0, 0, 0 },
	{ COMB_ALU_AND, 0, 0, 0, 0, 0 },  { COMB_ALU_XOR, 0, 0, 0, 0, 0 },
	{ COMB_ALU_LSH, 0, 0, 0, 0, 0 },  { COMB_ALU_RSH, 0, 0, 0, 0, 0 },
	{ COMB_ALU_ARSH, 0, 0, 0, 0, 0 }, { COMB_ALU_NEG, 0, 0, 1, 0, 0 },
	{ COMB_ALU_MOV, 0, 0, 0, 0, 0 },  { COMB_ALU_MOV, 8, 0, 0, 1, 0 },
	{ COMB_ALU_MOV, 16, 0, 0, 1, 0 }, { COMB_ALU_MOV, 32, 0, 0, 1, 1 },
	{ COMB_ALU_END, 0, 16, 0, 0, 0 }, { COMB_ALU_END, 0, 32, 0, 0, 0 },
	{ COMB_ALU_END, 0, 64, 0, 0, 0 },
};
#define ALU_FORM_COUNT (sizeof(alu_forms) / sizeof(alu_forms[0]))

static struct comb_insn random_alu_insn(void)
{
	const struct alu_form *f = &alu_forms[rnd() % ALU_FORM_COUNT];
	bool alu64 = f->alu64_only || (rnd() & 1);
	bool k = f->k_only || (!f->x_only && rnd() % 3 == 0);
	if (f->op == COMB_ALU_END && alu64)
		k = true; /* BSWAP */
	struct comb_insn in = { 0 };
	in.code = (uint8_t)((alu64 ? COMB_CLS_ALU64 : COMB_CLS_ALU) | f->op |
			    (k ? COMB_SRC_K : COMB_SRC_X));
	in.off = f->off;
	in.imm = f->op == COMB_ALU_END ? f->imm : (int32_t)interesting();
	if (k && (f->op == COMB_ALU_LSH || f->op == COMB_ALU_RSH || f->op == COMB_ALU_ARSH))
		in.imm = (int32_t)(rnd() % (alu64 ? 64 : 32));
	return in;
}

TEST(bounds_alu_sound_random)
{
	uint64_t xs[6], ys[6];
	int checked = 0;
	for (int iter = 0; iter < 60000; iter++) {
		struct comb_insn in = random_alu_insn();
		struct comb_scalar a = random_scalar(), b = random_scalar(), r = a;
		if (COMB_SRC(in.code) == COMB_SRC_K)
			b = comb_scalar_const((uint64_t)(int64_t)in.imm);
		int nx = members(&a, xs, 6), ny = members(&b, ys, 6);
		CHECK_EQ(comb_scalar_alu(&r, &b, &in), 0);
		if (!nx || !ny)
			continue;
		CHECK(comb_scalar_is_valid(&r));
		for (int i = 0; i < nx; i++) {
			uint64_t y = ys[i % ny], want = reference_alu(&in, xs[i], y);
			if (!comb_scalar_contains(&r, want)) {
				char sa[256], sb[256], sr[256];
				comb_scalar_str(sa, sizeof(sa), &a);
				comb_scalar_str(sb, sizeof(sb), &b);
				comb_scalar_str(sr, sizeof(sr), &r);
				test_fail(__FILE__, __LINE__,
					  "code %#x off %d imm %d: %#llx op %#llx = %#llx not in %s\n"
					  "    a=%s\n    b=%s", in.code, in.off, in.imm,
					  (unsigned long long)xs[i], (unsigned long long)y,
					  (unsigned long long)want, sr, sa, sb);
				return;
			}
			checked++;
		}
	}
	CHECK(checked > 200000);
}

/* Operands from a tiny domain (4-bit values at an edge) checked exhaustively. */
TEST(bounds_alu_sound_small_domains_exhaustive)
{
	for (int iter = 0; iter < 3000; iter++) {
		uint64_t base_a = interesting(), base_b = rnd() & 1 ? rnd() % 64 : interesting();
		uint64_t lo_a = rnd() % 16, hi_a = lo_a + rnd() % 16, lo_b = rnd() % 16,
			 hi_b = lo_b + rnd() % 16;
		struct comb_scalar a = comb_scalar_const(base_a + lo_a), b = comb_scalar_const(base_b + lo_b);
		for (uint64_t x = lo_a; x <= hi_a; x++) {
			struct comb_scalar c = comb_scalar_const(base_a + x);
			a = comb_scalar_join(&a, &c);
		}
		for (uint64_t y = lo_b; y <= hi_b; y++) {
			struct comb_scalar c = comb_scalar_const(base_b + y);
			b = comb_scalar_join(&b, &c);
		}
		struct comb_insn in = random_alu_insn();
		uint8_t op = COMB_OP(in.code);
		if (op != COMB_ALU_NEG && op != COMB_ALU_END) /* use b, not the immediate */
			in.code |= COMB_SRC_X;
		struct comb_scalar r = a;
		CHECK_EQ(comb_scalar_alu(&r, &b, &in), 0);
		for (uint64_t x = lo_a; x <= hi_a; x++)
			for (uint64_t y = lo_b; y <= hi_b; y++)
				CHECK(comb_scalar_contains(&r, reference_alu(&in, base_a + x, base_b + y)));
	}
}

static bool reference_jump(uint8_t code, uint64_t a, uint64_t b)
{
	if (COMB_CLASS(code) == COMB_CLS_JMP32) {
		a = (uint64_t)(int64_t)(int32_t)(uint32_t)a; /* compare as s32 / u32 below */
		b = (uint64_t)(int64_t)(int32_t)(uint32_t)b;
		if (COMB_OP(code) == COMB_JMP_JGT || COMB_OP(code) == COMB_JMP_JGE ||
		    COMB_OP(code) == COMB_JMP_JLT || COMB_OP(code) == COMB_JMP_JLE) {
			a = (uint32_t)a;
			b = (uint32_t)b;
		}
	}
	switch (COMB_OP(code)) {
	case COMB_JMP_JEQ: return a == b;
	case COMB_JMP_JNE: return a != b;
	case COMB_JMP_JGT: return a > b;
	case COMB_JMP_JGE: return a >= b;
	case COMB_JMP_JLT: return a < b;
	case COMB_JMP_JLE: return a <= b;
	case COMB_JMP_JSGT: return (int64_t)a > (int64_t)b;
	case COMB_JMP_JSGE: return (int64_t)a >= (int64_t)b;
	case COMB_JMP_JSLT: return (int64_t)a < (int64_t)b;
	case COMB_JMP_JSLE: return (int64_t)a <= (int64_t)b;
	default: return (a & b) != 0; /* JSET */
	}
}

static const uint8_t jump_ops[] = {
	COMB_JMP_JEQ, COMB_JMP_JNE, COMB_JMP_JGT, COMB_JMP_JGE, COMB_JMP_JLT, COMB_JMP_JLE,
	COMB_JMP_JSGT, COMB_JMP_JSGE, COMB_JMP_JSLT, COMB_JMP_JSLE, COMB_JMP_JSET,
};

static uint8_t random_jump_code(void)
{
	return (uint8_t)((rnd() & 1 ? COMB_CLS_JMP : COMB_CLS_JMP32) | jump_ops[rnd() % 11]);
}

TEST(bounds_branch_refinement_sound_random)
{
	uint64_t xs[8], ys[8];
	long checked = 0;
	for (int iter = 0; iter < 60000; iter++) {
		uint8_t code = random_jump_code();
		struct comb_scalar a = random_scalar(), b = rnd() & 1 ? random_scalar()
								  : comb_scalar_const(interesting());
		int nx = members(&a, xs, 8), ny = members(&b, ys, 8);
		if (!nx || !ny)
			continue;
		int verdict = comb_scalar_branch_taken(&a, &b, code);
		for (int taken = 0; taken <= 1; taken++) {
			struct comb_scalar ra = a, rb = b;
			bool feasible = comb_scalar_refine(&ra, &rb, code, taken);
			for (int i = 0; i < nx; i++) {
				for (int j = 0; j < ny; j++) {
					if (reference_jump(code, xs[i], ys[j]) != (bool)taken)
						continue;
					CHECK(verdict == -1 || verdict == taken);
					CHECK(feasible);
					CHECK(comb_scalar_contains(&ra, xs[i]));
					CHECK(comb_scalar_contains(&rb, ys[j]));
					checked++;
				}
			}
		}
	}
	CHECK(checked > 300000);
}

TEST(bounds_branch_refinement_exhaustive_small)
{
	/* a in [lo, lo+15] at an edge, b a constant or a range near it. */
	for (int iter = 0; iter < 4000; iter++) {
		uint64_t base = interesting(), lo = rnd() % 8, hi = lo + rnd() % 12;
		uint8_t code = random_jump_code();
		struct comb_scalar a = comb_scalar_const(base + lo);
		for (uint64_t x = lo; x <= hi; x++) {
			struct comb_scalar c = comb_scalar_const(base + x);
			a = comb_scalar_join(&a, &c);
		}
		uint64_t blo = base + rnd() % 20, bhi = blo + (rnd() & 1 ? 0 : rnd() % 6);
		struct comb_scalar b = comb_scalar_const(blo);
		for (uint64_t y = blo; y != bhi + 1; y++) {
			struct comb_scalar c = comb_scalar_const(y);
			b = comb_scalar_join(&b, &c);
		}
		int verdict = comb_scalar_branch_taken(&a, &b, code);
		bool seen[2] = { false, false };
		for (int taken = 0; taken <= 1; taken++) {
			struct comb_scalar ra = a, rb = b;
			bool feasible = comb_scalar_refine(&ra, &rb, code, taken);
			for (uint64_t x = lo; x <= hi; x++)
				for (uint64_t y = blo; y != bhi + 1; y++)
					if (reference_jump(code, base + x, y) == (bool)taken) {
						seen[taken] = true;
						CHECK(feasible);
						CHECK(comb_scalar_contains(&ra, base + x));
						CHECK(comb_scalar_contains(&rb, y));
					}
		}
		if (verdict == 1)
			CHECK(!seen[0]);
		if (verdict == 0)
			CHECK(!seen[1]);
		/* Both operands constant: the verdict is exact. */
		if (comb_scalar_is_const(&a) && comb_scalar_is_const(&b))
			CHECK(verdict == (seen[1] ? 1 : 0));
	}
}

TEST(bounds_sync_join_widen_subsume_sound)
{
	uint64_t xs[8], ys[8];
	for (int iter = 0; iter < 40000; iter++) {
		struct comb_scalar a = random_scalar(), b = random_scalar();
		int nx = members(&a, xs, 8), ny = members(&b, ys, 8);
		struct comb_scalar synced = a, j = comb_scalar_join(&a, &b);
		struct comb_scalar w = comb_scalar_widen(&a, &b);
		comb_scalar_sync(&synced);
		bool covers = comb_scalar_subsumes(&a, &b);
		for (int i = 0; i < nx; i++) {
			CHECK(comb_scalar_contains(&synced, xs[i]));
			CHECK(comb_scalar_contains(&j, xs[i]));
			CHECK(comb_scalar_contains(&w, xs[i]));
		}
		for (int i = 0; i < ny; i++) {
			CHECK(comb_scalar_contains(&j, ys[i]));
			CHECK(comb_scalar_contains(&w, ys[i]));
			if (covers)
				CHECK(comb_scalar_contains(&a, ys[i]));
		}
		CHECK(comb_scalar_subsumes(&j, &a) && comb_scalar_subsumes(&j, &b));
		CHECK(comb_scalar_subsumes(&w, &j));
		CHECK(comb_scalar_subsumes(&a, &a));
	}
}

/* ---- precision ---- */

static struct comb_insn alu(uint8_t code, int16_t off, int32_t imm)
{
	struct comb_insn in = { 0 };
	in.code = code;
	in.off = off;
	in.imm = imm;
	return in;
}

TEST(bounds_const_op_const_is_const)
{
	for (int iter = 0; iter < 20000; iter++) {
		struct comb_insn in = random_alu_insn();
		uint64_t x = interesting(), y = interesting();
		struct comb_scalar r = comb_scalar_const(x), b = comb_scalar_const(y);
		CHECK_EQ(comb_scalar_alu(&r, &b, &in), 0);
		uint64_t src = COMB_SRC(in.code) == COMB_SRC_K ? (uint64_t)(int64_t)in.imm : y;
		CHECK(comb_scalar_is_const(&r));
		CHECK_EQ(r.var_off.value, reference_alu(&in, x, src));
		CHECK(r.umin == r.umax && r.smin == r.smax && r.u32_min == r.u32_max);
	}
}

TEST(bounds_precision_examples)
{
	struct comb_scalar x = comb_scalar_unknown(), k = comb_scalar_const(0xff);
	struct comb_insn and64 = alu(COMB_CLS_ALU64 | COMB_ALU_AND | COMB_SRC_X, 0, 0);
	CHECK_EQ(comb_scalar_alu(&x, &k, &and64), 0);
	CHECK_EQ(x.umin, 0);
	CHECK_EQ(x.umax, 255);
	CHECK_EQ(x.smin, 0);
	CHECK_EQ(x.smax, 255);
	CHECK_EQ(x.u32_max, 255);
	char buf[200];
	comb_scalar_str(buf, sizeof(buf), &x);
	CHECK_STR(buf, "scalar(umax=255,smin=0,smax=255,u32_max=255,s32_min=0,s32_max=255,"
		       "var_off=(0x0; 0xff))");

	/* byte + 10 is in [10, 265] */
	struct comb_insn add_k = alu(COMB_CLS_ALU64 | COMB_ALU_ADD | COMB_SRC_K, 0, 10);
	CHECK_EQ(comb_scalar_alu(&x, NULL, &add_k), 0);
	CHECK_EQ(x.umin, 10);
	CHECK_EQ(x.umax, 265);

	/* A 32-bit op zero-extends: the result is below 2^32. */
	struct comb_scalar y = comb_scalar_unknown();
	struct comb_insn add32 = alu(COMB_CLS_ALU | COMB_ALU_ADD | COMB_SRC_K, 0, 1);
	CHECK_EQ(comb_scalar_alu(&y, NULL, &add32), 0);
	CHECK_EQ(y.umax, 0xffffffffULL);
	CHECK_EQ(y.var_off.mask, 0xffffffffULL);
	CHECK_EQ(y.smin, 0);

	/* x << 3 of a byte is aligned to 8 and at most 2040. */
	struct comb_scalar z = comb_scalar_urange(0, 255);
	struct comb_insn lsh = alu(COMB_CLS_ALU64 | COMB_ALU_LSH | COMB_SRC_K, 0, 3);
	CHECK_EQ(comb_scalar_alu(&z, NULL, &lsh), 0);
	CHECK_EQ(z.umax, 2040);
	CHECK(comb_tnum_is_aligned(z.var_off, 8));

	/* unknown % 16 is in [0, 15]; unknown / 16 is at most 2^60 - 1. */
	struct comb_scalar m = comb_scalar_unknown(), d = comb_scalar_unknown();
	struct comb_insn mod = alu(COMB_CLS_ALU64 | COMB_ALU_MOD | COMB_SRC_K, 0, 16);
	struct comb_insn div = alu(COMB_CLS_ALU64 | COMB_ALU_DIV | COMB_SRC_K, 0, 16);
	CHECK_EQ(comb_scalar_alu(&m, NULL, &mod), 0);
	CHECK_EQ(comb_scalar_alu(&d, NULL, &div), 0);
	CHECK_EQ(m.umax, 15);
	CHECK_EQ(d.umax, (1ULL << 60) - 1);

	/* movsx of a byte is in [-128, 127]; of a known non-negative byte, unchanged. */
	struct comb_scalar s8 = comb_scalar_unknown();
	struct comb_scalar src = comb_scalar_unknown();
	struct comb_insn movsx8 = alu(COMB_CLS_ALU64 | COMB_ALU_MOV | COMB_SRC_X, 8, 0);
	CHECK_EQ(comb_scalar_alu(&s8, &src, &movsx8), 0);
	CHECK_EQ(s8.smin, -128);
	CHECK_EQ(s8.smax, 127);
	src = comb_scalar_urange(3, 100);
	CHECK_EQ(comb_scalar_alu(&s8, &src, &movsx8), 0);
	CHECK_EQ(s8.umin, 3);
	CHECK_EQ(s8.umax, 100);

	/* be16 of a value is below 2^16. */
	struct comb_scalar e = comb_scalar_unknown();
	struct comb_insn be16 = alu(COMB_CLS_ALU | COMB_ALU_END | COMB_SRC_X, 0, 16);
	CHECK_EQ(comb_scalar_alu(&e, NULL, &be16), 0);
	CHECK_EQ(e.umax, 0xffff);
}

TEST(bounds_branch_precision_examples)
{
	struct comb_scalar x = comb_scalar_unknown(), ten = comb_scalar_const(10);
	struct comb_scalar t = x, tk = ten, f = x, fk = ten;
	uint8_t jlt = COMB_CLS_JMP | COMB_JMP_JLT | COMB_SRC_K;
	CHECK(comb_scalar_refine(&t, &tk, jlt, true));
	CHECK_EQ(t.umax, 9);
	CHECK_EQ(t.umin, 0);
	CHECK_EQ(t.smin, 0); /* below 10 unsigned: non-negative too */
	CHECK(comb_scalar_refine(&f, &fk, jlt, false));
	CHECK_EQ(f.umin, 10);

	/* Signed: if x s< 0 not taken and x s<= 100 taken: [0, 100]. */
	struct comb_scalar s = comb_scalar_unknown(), zero = comb_scalar_const(0),
			   hundred = comb_scalar_const(100);
	CHECK(comb_scalar_refine(&s, &zero, COMB_CLS_JMP | COMB_JMP_JSLT, false));
	CHECK(comb_scalar_refine(&s, &hundred, COMB_CLS_JMP | COMB_JMP_JSLE, true));
	CHECK_EQ(s.umin, 0);
	CHECK_EQ(s.umax, 100);
	CHECK_EQ(s.u32_max, 100);

	/* 32-bit compare on a zero-extended value bounds the whole register. */
	struct comb_scalar w = comb_scalar_urange(0, 0xffffffff), c = comb_scalar_const(50);
	CHECK(comb_scalar_refine(&w, &c, COMB_CLS_JMP32 | COMB_JMP_JLE, true));
	CHECK_EQ(w.umax, 50);

	/* Equality with a constant gives the constant. */
	struct comb_scalar e = comb_scalar_urange(0, 1000), seven = comb_scalar_const(7);
	CHECK(comb_scalar_refine(&e, &seven, COMB_CLS_JMP | COMB_JMP_JEQ, true));
	CHECK(comb_scalar_is_const(&e) && e.var_off.value == 7);

	/* x != 0 on [0, 5] gives [1, 5]. */
	struct comb_scalar n = comb_scalar_urange(0, 5), z = comb_scalar_const(0);
	CHECK(comb_scalar_refine(&n, &z, COMB_CLS_JMP | COMB_JMP_JNE, true));
	CHECK_EQ(n.umin, 1);

	/* JSET: a & 4 == 0 makes bit 2 known zero. */
	struct comb_scalar j = comb_scalar_urange(0, 7), four = comb_scalar_const(4);
	CHECK(comb_scalar_refine(&j, &four, COMB_CLS_JMP | COMB_JMP_JSET, false));
	CHECK_EQ(j.umax, 3);

	/* Reg against reg: a > b with b in [5, 10] makes a >= 6, b <= a.umax - 1. */
	struct comb_scalar a = comb_scalar_urange(0, 8), b = comb_scalar_urange(5, 10);
	CHECK(comb_scalar_refine(&a, &b, COMB_CLS_JMP | COMB_JMP_JGT | COMB_SRC_X, true));
	CHECK_EQ(a.umin, 6);
	CHECK_EQ(b.umax, 7);

	/* Decided branches. */
	struct comb_scalar r05 = comb_scalar_urange(0, 5), r1120 = comb_scalar_urange(11, 20),
			   r515 = comb_scalar_urange(5, 15);
	uint8_t jgt = COMB_CLS_JMP | COMB_JMP_JGT;
	CHECK_EQ(comb_scalar_branch_taken(&r05, &ten, jgt), 0);
	CHECK_EQ(comb_scalar_branch_taken(&r1120, &ten, jgt), 1);
	CHECK_EQ(comb_scalar_branch_taken(&r515, &ten, jgt), -1);
	CHECK_EQ(comb_scalar_branch_taken(&r05, &ten, COMB_CLS_JMP | COMB_JMP_JEQ), 0);
	CHECK_EQ(comb_scalar_branch_taken(&ten, &ten, COMB_CLS_JMP | COMB_JMP_JEQ), 1);
	CHECK_EQ(comb_scalar_branch_taken(&r05, &r05, COMB_CLS_JMP | COMB_JMP_JA), -1);
	/* An impossible branch is reported dead. */
	struct comb_scalar d = r05, dk = ten;
	CHECK(!comb_scalar_refine(&d, &dk, jgt, true));
}

TEST(bounds_widen_reaches_fixpoint_for_counter)
{
	/* i = 0; loop { i += 1 }: the widened head state stabilizes quickly and
	 * covers every value the counter takes. */
	struct comb_scalar head = comb_scalar_const(0);
	struct comb_insn inc = alu(COMB_CLS_ALU64 | COMB_ALU_ADD | COMB_SRC_K, 0, 1);
	int steps = 0;
	for (; steps < 200; steps++) {
		struct comb_scalar body = head;
		CHECK_EQ(comb_scalar_alu(&body, NULL, &inc), 0);
		struct comb_scalar next = comb_scalar_widen(&head, &body);
		if (comb_scalar_subsumes(&head, &next))
			break;
		head = next;
	}
	CHECK(steps < 80);
	for (uint64_t i = 0; i < 100000; i += 7)
		CHECK(comb_scalar_contains(&head, i));

	/* Bounds that do not move are kept: prev [0, 9] and next [0, 9] stay. */
	struct comb_scalar p = comb_scalar_urange(0, 9), q = comb_scalar_urange(1, 9);
	struct comb_scalar wq = comb_scalar_widen(&p, &q);
	CHECK_EQ(wq.umax, 9);
	CHECK_EQ(wq.umin, 0);
	/* A bound that grows goes to the limit, narrowed only by stable bits. */
	struct comb_scalar grown = comb_scalar_urange(0, 1000);
	struct comb_scalar wg = comb_scalar_widen(&p, &grown);
	CHECK(wg.umax >= 1000);
}

TEST(bounds_sync_precision_examples)
{
	/* The low half limits the full value to the 4 GiB blocks where it fits. */
	struct comb_scalar s = comb_scalar_unknown();
	s.umax = 0x100000005ULL;
	s.u32_min = 100;
	s.u32_max = 200;
	comb_scalar_sync(&s);
	CHECK_EQ(s.umax, 200);
	CHECK_EQ(s.umin, 100);
	s = comb_scalar_unknown();
	s.umin = 0xfffffff0ULL;
	s.u32_min = 5;
	s.u32_max = 10;
	comb_scalar_sync(&s);
	CHECK_EQ(s.umin, 0x100000005ULL);
	/* A 64-bit range inside one block gives the 32-bit ranges. */
	s = comb_scalar_urange(0x700000010ULL, 0x700000020ULL);
	CHECK_EQ(s.u32_min, 0x10);
	CHECK_EQ(s.u32_max, 0x20);
	CHECK_EQ(s.s32_min, 0x10);
	/* Sign extension of a 32-bit value takes the s32 range. */
	s = comb_scalar_unknown();
	s.smin = INT32_MIN;
	s.smax = INT32_MAX;
	s.s32_min = -5;
	s.s32_max = 5;
	comb_scalar_sync(&s);
	CHECK_EQ(s.smin, -5);
	CHECK_EQ(s.smax, 5);
	/* Known bits give ranges, ranges give known bits. */
	s = comb_scalar_unknown();
	s.var_off = (struct comb_tnum){ 0x10, 0x0f };
	comb_scalar_sync(&s);
	CHECK_EQ(s.umin, 0x10);
	CHECK_EQ(s.umax, 0x1f);
	s = comb_scalar_urange(0, 63);
	CHECK_EQ(s.var_off.mask, 63);
	CHECK(comb_scalar_is_valid(&s));
	/* Contradictions are detected. */
	s = comb_scalar_urange(10, 20);
	s.var_off = comb_tnum_const(5);
	comb_scalar_sync(&s);
	CHECK(!comb_scalar_is_valid(&s));
}

TEST(bounds_subsumption_examples)
{
	struct comb_scalar wide = comb_scalar_urange(0, 100), narrow = comb_scalar_urange(10, 20);
	CHECK(comb_scalar_subsumes(&wide, &narrow));
	CHECK(!comb_scalar_subsumes(&narrow, &wide));
	struct comb_scalar u = comb_scalar_unknown(), c = comb_scalar_const(5);
	CHECK(comb_scalar_subsumes(&u, &c));
	CHECK(!comb_scalar_subsumes(&c, &u));
	/* Known bits matter: an odd value is not covered by an even tnum. */
	struct comb_scalar even = comb_scalar_unknown();
	even.var_off = (struct comb_tnum){ 0, ~1ULL };
	comb_scalar_sync(&even);
	CHECK(!comb_scalar_subsumes(&even, &c));
}

TEST(bounds_invalid_forms_rejected)
{
	struct comb_scalar x = comb_scalar_unknown(), y = comb_scalar_unknown();
	struct comb_insn bad_off = alu(COMB_CLS_ALU64 | COMB_ALU_ADD | COMB_SRC_X, 1, 0);
	struct comb_insn bad_end = alu(COMB_CLS_ALU | COMB_ALU_END | COMB_SRC_K, 0, 24);
	struct comb_insn bad_movsx = alu(COMB_CLS_ALU | COMB_ALU_MOV | COMB_SRC_X, 32, 0);
	struct comb_insn jmp = alu(COMB_CLS_JMP | COMB_JMP_JEQ, 0, 0);
	CHECK_EQ(comb_scalar_alu(&x, &y, &bad_off), -EINVAL);
	CHECK_EQ(comb_scalar_alu(&x, &y, &bad_end), -EINVAL);
	CHECK_EQ(comb_scalar_alu(&x, &y, &bad_movsx), -EINVAL);
	CHECK_EQ(comb_scalar_alu(&x, &y, &jmp), -EINVAL);
	char buf[32];
	struct comb_scalar c = comb_scalar_const((uint64_t)-3);
	comb_scalar_str(buf, sizeof(buf), &c);
	CHECK_STR(buf, "-3");
}
