/* src/verifier/tnum.c - tristate numbers (see tnum.h).
 *
 * Each operation computes, bit-parallel, which result bits can differ across
 * the members of its operands. Addition: add the known parts, then add the
 * largest members too; any bit where the two sums differ, or where an
 * operand bit was unknown, may carry either way and becomes unknown.
 * Multiplication follows the shift-and-add scheme of Vishwanathan et al.:
 * the known product is exact, and every partial product that depends on
 * an unknown bit of a or b is accumulated as unknown.
 */
#include "verifier/tnum.h"

#include <stdio.h>

#define U32_MASK 0xffffffffULL

static struct comb_tnum tnum(uint64_t value, uint64_t mask)
{
	return (struct comb_tnum){ value & ~mask, mask };
}

struct comb_tnum comb_tnum_const(uint64_t value)
{
	return tnum(value, 0);
}

struct comb_tnum comb_tnum_unknown(void)
{
	return tnum(0, ~0ULL);
}

struct comb_tnum comb_tnum_range(uint64_t min, uint64_t max)
{
	uint64_t differing = min ^ max;
	if (!differing)
		return comb_tnum_const(min);
	int top = 63 - __builtin_clzll(differing); /* highest bit where they differ */
	if (top == 63)
		return comb_tnum_unknown();
	uint64_t low_bits = (2ULL << top) - 1;
	return tnum(min, low_bits);
}

struct comb_tnum comb_tnum_add(struct comb_tnum a, struct comb_tnum b)
{
	uint64_t known_sum = a.value + b.value;
	uint64_t max_sum = known_sum + a.mask + b.mask;
	uint64_t carries = known_sum ^ max_sum;
	return tnum(known_sum, carries | a.mask | b.mask);
}

struct comb_tnum comb_tnum_sub(struct comb_tnum a, struct comb_tnum b)
{
	uint64_t known_diff = a.value - b.value;
	uint64_t largest = known_diff + a.mask;  /* a at its max, b at its min */
	uint64_t smallest = known_diff - b.mask; /* a at its min, b at its max */
	return tnum(known_diff, (largest ^ smallest) | a.mask | b.mask);
}

struct comb_tnum comb_tnum_neg(struct comb_tnum a)
{
	return comb_tnum_sub(comb_tnum_const(0), a);
}

struct comb_tnum comb_tnum_and(struct comb_tnum a, struct comb_tnum b)
{
	uint64_t may_be_one = (a.value | a.mask) & (b.value | b.mask);
	uint64_t known_one = a.value & b.value;
	return tnum(known_one, may_be_one & ~known_one);
}

struct comb_tnum comb_tnum_or(struct comb_tnum a, struct comb_tnum b)
{
	uint64_t known_one = a.value | b.value;
	return tnum(known_one, (a.mask | b.mask) & ~known_one);
}

struct comb_tnum comb_tnum_xor(struct comb_tnum a, struct comb_tnum b)
{
	return tnum(a.value ^ b.value, a.mask | b.mask);
}

struct comb_tnum comb_tnum_mul(struct comb_tnum a, struct comb_tnum b)
{
	uint64_t known_product = a.value * b.value;
	struct comb_tnum unknown_part = comb_tnum_const(0);
	while (a.value || a.mask) {
		if (a.value & 1) /* b is added for sure: only its unknown bits are unknown */
			unknown_part = comb_tnum_add(unknown_part, tnum(0, b.mask));
		else if (a.mask & 1) /* b may or may not be added */
			unknown_part = comb_tnum_add(unknown_part, tnum(0, b.value | b.mask));
		a = comb_tnum_rshift(a, 1);
		b = comb_tnum_lshift(b, 1);
	}
	return comb_tnum_add(comb_tnum_const(known_product), unknown_part);
}

struct comb_tnum comb_tnum_lshift(struct comb_tnum a, unsigned shift)
{
	shift &= 63;
	return tnum(a.value << shift, a.mask << shift);
}

struct comb_tnum comb_tnum_rshift(struct comb_tnum a, unsigned shift)
{
	shift &= 63;
	return tnum(a.value >> shift, a.mask >> shift);
}

struct comb_tnum comb_tnum_arshift(struct comb_tnum a, unsigned shift, unsigned width)
{
	if (width == 32) {
		shift &= 31;
		uint32_t value = (uint32_t)((int32_t)(uint32_t)a.value >> shift);
		uint32_t mask = (uint32_t)((int32_t)(uint32_t)a.mask >> shift);
		return tnum(value, mask);
	}
	shift &= 63;
	/* A known sign bit is replicated as known; an unknown one as unknown. */
	return tnum((uint64_t)((int64_t)a.value >> shift), (uint64_t)((int64_t)a.mask >> shift));
}

struct comb_tnum comb_tnum_bswap(struct comb_tnum a, unsigned bits)
{
	switch (bits) {
	case 16:
		return tnum(__builtin_bswap16((uint16_t)a.value), __builtin_bswap16((uint16_t)a.mask));
	case 32:
		return tnum(__builtin_bswap32((uint32_t)a.value), __builtin_bswap32((uint32_t)a.mask));
	default:
		return tnum(__builtin_bswap64(a.value), __builtin_bswap64(a.mask));
	}
}

struct comb_tnum comb_tnum_cast(struct comb_tnum a, unsigned bytes)
{
	if (bytes >= 8)
		return a;
	uint64_t keep = (1ULL << (bytes * 8)) - 1;
	return tnum(a.value & keep, a.mask & keep);
}

struct comb_tnum comb_tnum_subreg(struct comb_tnum a)
{
	return comb_tnum_cast(a, 4);
}

struct comb_tnum comb_tnum_with_subreg(struct comb_tnum a, struct comb_tnum low)
{
	return tnum((a.value & ~U32_MASK) | (low.value & U32_MASK),
		    (a.mask & ~U32_MASK) | (low.mask & U32_MASK));
}

struct comb_tnum comb_tnum_intersect(struct comb_tnum a, struct comb_tnum b)
{
	return tnum(a.value | b.value, a.mask & b.mask);
}

struct comb_tnum comb_tnum_union(struct comb_tnum a, struct comb_tnum b)
{
	uint64_t unknown = a.mask | b.mask | (a.value ^ b.value);
	return tnum(a.value & b.value, unknown);
}

bool comb_tnum_overlap(struct comb_tnum a, struct comb_tnum b)
{
	uint64_t known_in_both = ~a.mask & ~b.mask;
	return ((a.value ^ b.value) & known_in_both) == 0;
}

bool comb_tnum_in(struct comb_tnum outer, struct comb_tnum inner)
{
	if (inner.mask & ~outer.mask)
		return false; /* inner has an unknown bit outer knows */
	return (inner.value & ~outer.mask) == outer.value;
}

bool comb_tnum_contains(struct comb_tnum a, uint64_t x)
{
	return (x & ~a.mask) == a.value;
}

bool comb_tnum_is_const(struct comb_tnum a)
{
	return a.mask == 0;
}

bool comb_tnum_equals_const(struct comb_tnum a, uint64_t value)
{
	return a.mask == 0 && a.value == value;
}

bool comb_tnum_is_unknown(struct comb_tnum a)
{
	return a.mask == ~0ULL;
}

bool comb_tnum_is_aligned(struct comb_tnum a, uint64_t size)
{
	if (!size)
		return true;
	return ((a.value | a.mask) & (size - 1)) == 0;
}

uint64_t comb_tnum_umin(struct comb_tnum a)
{
	return a.value;
}

uint64_t comb_tnum_umax(struct comb_tnum a)
{
	return a.value | a.mask;
}

int64_t comb_tnum_smin(struct comb_tnum a)
{
	/* Unknown sign bit set, every other unknown bit clear. */
	return (int64_t)(a.value | (a.mask & (1ULL << 63)));
}

int64_t comb_tnum_smax(struct comb_tnum a)
{
	return (int64_t)(a.value | (a.mask & ~(1ULL << 63)));
}

int32_t comb_tnum_smin32(struct comb_tnum a)
{
	return (int32_t)(uint32_t)(a.value | (a.mask & 0x80000000ULL));
}

int32_t comb_tnum_smax32(struct comb_tnum a)
{
	return (int32_t)(uint32_t)(a.value | (a.mask & 0x7fffffffULL));
}

int comb_tnum_str(char *buf, size_t size, struct comb_tnum a)
{
	return snprintf(buf, size, "(0x%llx; 0x%llx)", (unsigned long long)a.value,
			(unsigned long long)a.mask);
}

int comb_tnum_sbin(char *buf, size_t size, struct comb_tnum a)
{
	char bits[65];
	for (int i = 0; i < 64; i++) {
		uint64_t bit = 1ULL << (63 - i);
		bits[i] = (a.mask & bit) ? 'x' : (a.value & bit) ? '1' : '0';
	}
	bits[64] = '\0';
	return snprintf(buf, size, "%s", bits);
}
