/* tests/unit/test_tnum.c - tristate numbers: soundness and precision.
 *
 * Soundness: for every operation, members of the operands are enumerated
 * (every member of a tnum with at most 4-5 unknown bits, those bits placed
 * at random positions of a 64-bit value, plus an exhaustive sweep of all
 * 4-bit tnums) and each concrete result must be a member of the abstract
 * result. Precision: constants stay constants, known examples give the
 * kernel's results, and min/max queries are exact.
 */
#include <stdbool.h>
#include <stdlib.h>
#include "../test.h"
#include "verifier/tnum.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A tnum with `unknown` unknown bits at random positions (or the low bits). */
static struct comb_tnum random_tnum(int unknown)
{
	uint64_t mask = 0;
	if (rnd() & 1) {
		mask = (1ULL << unknown) - 1;
		if (unknown && rnd() % 3 == 0)
			mask <<= rnd() % (65 - unknown);
	} else {
		while (__builtin_popcountll(mask) < unknown)
			mask |= 1ULL << (rnd() % 64);
	}
	uint64_t value = rnd();
	switch (rnd() % 4) {
	case 0: value &= 0xff; break;               /* small */
	case 1: value |= 0xffffffffffffff00ULL; break; /* small negative */
	default: break;
	}
	return (struct comb_tnum){ value & ~mask, mask };
}

/* The i-th member: the bits of i spread over the unknown positions. */
static uint64_t member(struct comb_tnum t, uint64_t i)
{
	uint64_t x = t.value, m = t.mask;
	while (m) {
		uint64_t bit = m & -m;
		if (i & 1)
			x |= bit;
		i >>= 1;
		m &= m - 1;
	}
	return x;
}

static uint64_t member_count(struct comb_tnum t)
{
	return 1ULL << __builtin_popcountll(t.mask);
}

enum tnum_op { OP_ADD, OP_SUB, OP_AND, OP_OR, OP_XOR, OP_MUL, OP_UNION, OP__COUNT };

static struct comb_tnum abstract_op(int op, struct comb_tnum a, struct comb_tnum b)
{
	switch (op) {
	case OP_ADD: return comb_tnum_add(a, b);
	case OP_SUB: return comb_tnum_sub(a, b);
	case OP_AND: return comb_tnum_and(a, b);
	case OP_OR: return comb_tnum_or(a, b);
	case OP_XOR: return comb_tnum_xor(a, b);
	case OP_MUL: return comb_tnum_mul(a, b);
	default: return comb_tnum_union(a, b);
	}
}

static bool concrete_in(int op, struct comb_tnum r, uint64_t x, uint64_t y)
{
	switch (op) {
	case OP_ADD: return comb_tnum_contains(r, x + y);
	case OP_SUB: return comb_tnum_contains(r, x - y);
	case OP_AND: return comb_tnum_contains(r, x & y);
	case OP_OR: return comb_tnum_contains(r, x | y);
	case OP_XOR: return comb_tnum_contains(r, x ^ y);
	case OP_MUL: return comb_tnum_contains(r, x * y);
	default: return comb_tnum_contains(r, x) && comb_tnum_contains(r, y);
	}
}

static bool well_formed(struct comb_tnum t)
{
	return (t.value & t.mask) == 0;
}

/* Every pair of members of a and b lands in op(a, b). */
static bool binary_sound(int op, struct comb_tnum a, struct comb_tnum b)
{
	struct comb_tnum r = abstract_op(op, a, b);
	if (!well_formed(r))
		return false;
	for (uint64_t i = 0; i < member_count(a); i++)
		for (uint64_t j = 0; j < member_count(b); j++)
			if (!concrete_in(op, r, member(a, i), member(b, j)))
				return false;
	return true;
}

TEST(tnum_binary_ops_sound_random)
{
	for (int iter = 0; iter < 6000; iter++) {
		struct comb_tnum a = random_tnum((int)(rnd() % 5)), b = random_tnum((int)(rnd() % 5));
		for (int op = 0; op < OP__COUNT; op++) {
			if (!binary_sound(op, a, b)) {
				test_fail(__FILE__, __LINE__, "op %d unsound on (%#llx;%#llx) (%#llx;%#llx)",
					  op, (unsigned long long)a.value, (unsigned long long)a.mask,
					  (unsigned long long)b.value, (unsigned long long)b.mask);
				return;
			}
		}
	}
}

/* All 81 tnums over 4 bits, embedded at bit 0 and just below bit 64. */
static int all_small_tnums(struct comb_tnum *out, unsigned shift)
{
	int n = 0;
	for (uint64_t v = 0; v < 16; v++)
		for (uint64_t m = 0; m < 16; m++)
			if (!(v & m))
				out[n++] = (struct comb_tnum){ v << shift, m << shift };
	return n;
}

TEST(tnum_binary_ops_sound_exhaustive_4bit)
{
	struct comb_tnum all[81];
	unsigned shifts[] = { 0, 30, 60 };
	for (unsigned s = 0; s < 3; s++) {
		int n = all_small_tnums(all, shifts[s]);
		CHECK_EQ(n, 81);
		for (int i = 0; i < n; i++)
			for (int j = 0; j < n; j++)
				for (int op = 0; op < OP__COUNT; op++)
					CHECK(binary_sound(op, all[i], all[j]));
	}
}

TEST(tnum_intersect_and_in_exact_4bit)
{
	struct comb_tnum all[81];
	int n = all_small_tnums(all, 0);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < n; j++) {
			struct comb_tnum a = all[i], b = all[j];
			bool every_b_in_a = true, some_common = false;
			for (uint64_t x = 0; x < 16; x++) {
				if (comb_tnum_contains(b, x) && !comb_tnum_contains(a, x))
					every_b_in_a = false;
				if (comb_tnum_contains(a, x) && comb_tnum_contains(b, x))
					some_common = true;
			}
			CHECK(comb_tnum_in(a, b) == every_b_in_a);
			CHECK(comb_tnum_overlap(a, b) == some_common);
			if (!some_common)
				continue;
			struct comb_tnum c = comb_tnum_intersect(a, b);
			for (uint64_t x = 0; x < 16; x++) /* exactly the common members */
				CHECK(comb_tnum_contains(c, x) ==
				      (comb_tnum_contains(a, x) && comb_tnum_contains(b, x)));
		}
	}
}

TEST(tnum_unary_ops_sound)
{
	for (int iter = 0; iter < 3000; iter++) {
		struct comb_tnum a = random_tnum((int)(rnd() % 6));
		unsigned k = (unsigned)(rnd() % 64), k32 = k % 32;
		unsigned bytes = 1u << (rnd() % 4);
		struct comb_tnum neg = comb_tnum_neg(a), lsh = comb_tnum_lshift(a, k);
		struct comb_tnum rsh = comb_tnum_rshift(a, k), ars = comb_tnum_arshift(a, k, 64);
		struct comb_tnum ars32 = comb_tnum_arshift(a, k32, 32), cast = comb_tnum_cast(a, bytes);
		struct comb_tnum sw16 = comb_tnum_bswap(a, 16), sw32 = comb_tnum_bswap(a, 32);
		struct comb_tnum sw64 = comb_tnum_bswap(a, 64), sub = comb_tnum_subreg(a);
		for (uint64_t i = 0; i < member_count(a); i++) {
			uint64_t x = member(a, i);
			CHECK(comb_tnum_contains(neg, 0 - x));
			CHECK(comb_tnum_contains(lsh, x << k));
			CHECK(comb_tnum_contains(rsh, x >> k));
			CHECK(comb_tnum_contains(ars, (uint64_t)((int64_t)x >> k)));
			CHECK(comb_tnum_contains(ars32, (uint32_t)((int32_t)(uint32_t)x >> k32)));
			CHECK(comb_tnum_contains(cast, bytes == 8 ? x : x & ((1ULL << (8 * bytes)) - 1)));
			CHECK(comb_tnum_contains(sw16, __builtin_bswap16((uint16_t)x)));
			CHECK(comb_tnum_contains(sw32, __builtin_bswap32((uint32_t)x)));
			CHECK(comb_tnum_contains(sw64, __builtin_bswap64(x)));
			CHECK(comb_tnum_contains(sub, (uint32_t)x));
		}
	}
}

TEST(tnum_min_max_exact)
{
	for (int iter = 0; iter < 2000; iter++) {
		struct comb_tnum a = random_tnum((int)(rnd() % 6));
		uint64_t umin = UINT64_MAX, umax = 0;
		int64_t smin = INT64_MAX, smax = INT64_MIN;
		int32_t smin32 = INT32_MAX, smax32 = INT32_MIN;
		for (uint64_t i = 0; i < member_count(a); i++) {
			uint64_t x = member(a, i);
			umin = x < umin ? x : umin;
			umax = x > umax ? x : umax;
			smin = (int64_t)x < smin ? (int64_t)x : smin;
			smax = (int64_t)x > smax ? (int64_t)x : smax;
			int32_t x32 = (int32_t)(uint32_t)x;
			smin32 = x32 < smin32 ? x32 : smin32;
			smax32 = x32 > smax32 ? x32 : smax32;
		}
		CHECK_EQ(comb_tnum_umin(a), umin);
		CHECK_EQ(comb_tnum_umax(a), umax);
		CHECK_EQ(comb_tnum_smin(a), smin);
		CHECK_EQ(comb_tnum_smax(a), smax);
		CHECK_EQ(comb_tnum_smin32(a), smin32);
		CHECK_EQ(comb_tnum_smax32(a), smax32);
	}
}

TEST(tnum_range_sound_and_tight)
{
	for (int iter = 0; iter < 20000; iter++) {
		uint64_t lo = rnd() >> (rnd() % 64), hi = lo + (rnd() >> (rnd() % 64));
		if (hi < lo)
			hi = UINT64_MAX;
		struct comb_tnum r = comb_tnum_range(lo, hi);
		CHECK(well_formed(r));
		CHECK(comb_tnum_contains(r, lo));
		CHECK(comb_tnum_contains(r, hi));
		uint64_t x = lo + rnd() % (hi - lo + 1 ? hi - lo + 1 : UINT64_MAX);
		CHECK(comb_tnum_contains(r, x));
		/* Tight: the known prefix is the common prefix of lo and hi. */
		CHECK(comb_tnum_umin(r) <= lo && comb_tnum_umax(r) >= hi);
		if (r.mask && r.mask != UINT64_MAX)
			CHECK((lo ^ hi) > (r.mask >> 1));
	}
	CHECK_EQ(comb_tnum_range(0, 255).mask, 0xff);
	CHECK_EQ(comb_tnum_range(0, 255).value, 0);
	CHECK_EQ(comb_tnum_range(16, 31).value, 16);
	CHECK_EQ(comb_tnum_range(16, 31).mask, 15);
	CHECK(comb_tnum_equals_const(comb_tnum_range(7, 7), 7));
	CHECK(comb_tnum_is_unknown(comb_tnum_range(0, UINT64_MAX)));
}

TEST(tnum_constants_stay_constant)
{
	for (int iter = 0; iter < 10000; iter++) {
		uint64_t x = rnd(), y = rnd();
		unsigned k = (unsigned)(rnd() % 64);
		struct comb_tnum a = comb_tnum_const(x), b = comb_tnum_const(y);
		CHECK(comb_tnum_equals_const(comb_tnum_add(a, b), x + y));
		CHECK(comb_tnum_equals_const(comb_tnum_sub(a, b), x - y));
		CHECK(comb_tnum_equals_const(comb_tnum_mul(a, b), x * y));
		CHECK(comb_tnum_equals_const(comb_tnum_and(a, b), x & y));
		CHECK(comb_tnum_equals_const(comb_tnum_or(a, b), x | y));
		CHECK(comb_tnum_equals_const(comb_tnum_xor(a, b), x ^ y));
		CHECK(comb_tnum_equals_const(comb_tnum_neg(a), 0 - x));
		CHECK(comb_tnum_equals_const(comb_tnum_lshift(a, k), x << k));
		CHECK(comb_tnum_equals_const(comb_tnum_arshift(a, k, 64), (uint64_t)((int64_t)x >> k)));
		CHECK(comb_tnum_equals_const(comb_tnum_union(a, a), x));
	}
}

TEST(tnum_precision_examples)
{
	struct comb_tnum u = comb_tnum_unknown();
	struct comb_tnum low8 = comb_tnum_and(u, comb_tnum_const(0xff));
	CHECK_EQ(low8.value, 0);
	CHECK_EQ(low8.mask, 0xff);
	/* (x & 0xf0) | 1 has the low nibble known. */
	struct comb_tnum t = comb_tnum_or(comb_tnum_and(u, comb_tnum_const(0xf0)), comb_tnum_const(1));
	CHECK_EQ(t.value, 1);
	CHECK_EQ(t.mask, 0xf0);
	/* Multiplying by 8 keeps 3 known low zero bits: aligned to 8. */
	struct comb_tnum m = comb_tnum_mul(comb_tnum_range(0, 15), comb_tnum_const(8));
	CHECK_EQ(m.value, 0);
	CHECK_EQ(m.mask, 0x78);
	CHECK(comb_tnum_is_aligned(m, 8));
	CHECK(!comb_tnum_is_aligned(m, 16));
	CHECK(comb_tnum_is_aligned(comb_tnum_const(24), 8));
	/* Adding two values of [0, 3] gives [0, 7] at worst. */
	struct comb_tnum s = comb_tnum_add(comb_tnum_range(0, 3), comb_tnum_range(0, 3));
	CHECK_EQ(s.value, 0);
	CHECK_EQ(s.mask, 7);
	/* 32-bit arithmetic shift replicates bit 31, zero-extended. */
	struct comb_tnum a32 = comb_tnum_arshift(comb_tnum_const(0x80000000), 4, 32);
	CHECK(comb_tnum_equals_const(a32, 0xf8000000));
	CHECK(comb_tnum_equals_const(comb_tnum_subreg(comb_tnum_const(0x123456789ULL)), 0x23456789));
	struct comb_tnum with = comb_tnum_with_subreg(comb_tnum_unknown(), comb_tnum_const(5));
	CHECK_EQ(with.value, 5);
	CHECK_EQ(with.mask, 0xffffffff00000000ULL);
	CHECK(comb_tnum_is_const(comb_tnum_const(3)) && !comb_tnum_is_const(low8));
	CHECK(!comb_tnum_equals_const(low8, 0));
}

TEST(tnum_printing)
{
	char buf[80];
	comb_tnum_str(buf, sizeof(buf), comb_tnum_range(0, 255));
	CHECK_STR(buf, "(0x0; 0xff)");
	comb_tnum_str(buf, sizeof(buf), comb_tnum_unknown());
	CHECK_STR(buf, "(0x0; 0xffffffffffffffff)");
	comb_tnum_str(buf, sizeof(buf), (struct comb_tnum){ 0x10, 0x3 });
	CHECK_STR(buf, "(0x10; 0x3)");
	CHECK_EQ(comb_tnum_sbin(buf, sizeof(buf), (struct comb_tnum){ 0x5, 0x2 }), 64);
	CHECK_STR(buf + 60, "01x1");
	CHECK_EQ(strspn(buf, "0"), 61);
	/* Truncation still reports the full length, like snprintf. */
	CHECK_EQ(comb_tnum_str(buf, 4, comb_tnum_const(0)), 10);
	CHECK_STR(buf, "(0x");
}
