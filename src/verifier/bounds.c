/* src/verifier/bounds.c - scalar ranges and their transfer functions (see bounds.h).
 *
 * Most operations are computed on a "view": the tnum plus the unsigned and
 * signed range at one width (64 bits, or the low 32 bits for ALU32/JMP32).
 * Arithmetic bounds are computed exactly over the integers in 128-bit
 * arithmetic and then projected back to the width: an integer interval
 * narrower than 2^w maps to one contiguous unsigned (or signed) interval
 * unless it straddles the wrap point, in which case nothing is learned.
 * Intersecting the projections of the unsigned and the signed computation
 * gives bounds at least as tight as the kernel's overflow checks.
 * comb_scalar_sync() then spreads what one view knows to the others.
 * An impossible state (from a branch no value can take) is recognized by
 * crossed bounds (min > max); narrowing never uncrosses them.
 */
#include "verifier/bounds.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef __int128 i128;
typedef unsigned __int128 u128;

#define U32_ALL 0xffffffffULL

/* ---- widths ---------------------------------------------------------- */

static uint64_t width_mask(int w)
{
	return w == 64 ? ~0ULL : U32_ALL;
}

static int64_t width_smin(int w)
{
	return w == 64 ? INT64_MIN : INT32_MIN;
}

static int64_t width_smax(int w)
{
	return w == 64 ? INT64_MAX : INT32_MAX;
}

static uint64_t umax64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t umin64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static int64_t smax64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t smin64(int64_t a, int64_t b) { return a < b ? a : b; }
static i128 min128(i128 a, i128 b) { return a < b ? a : b; }
static i128 max128(i128 a, i128 b) { return a > b ? a : b; }

/* ---- constructors and queries ------------------------------------------ */

struct comb_scalar comb_scalar_unknown(void)
{
	return (struct comb_scalar){
		.var_off = comb_tnum_unknown(),
		.umin = 0, .umax = UINT64_MAX, .smin = INT64_MIN, .smax = INT64_MAX,
		.u32_min = 0, .u32_max = UINT32_MAX, .s32_min = INT32_MIN, .s32_max = INT32_MAX,
	};
}

struct comb_scalar comb_scalar_const(uint64_t value)
{
	return (struct comb_scalar){
		.var_off = comb_tnum_const(value),
		.umin = value, .umax = value, .smin = (int64_t)value, .smax = (int64_t)value,
		.u32_min = (uint32_t)value, .u32_max = (uint32_t)value,
		.s32_min = (int32_t)(uint32_t)value, .s32_max = (int32_t)(uint32_t)value,
	};
}

struct comb_scalar comb_scalar_urange(uint64_t min, uint64_t max)
{
	struct comb_scalar s = comb_scalar_unknown();
	s.umin = min;
	s.umax = max;
	comb_scalar_sync(&s);
	return s;
}

bool comb_scalar_is_const(const struct comb_scalar *s)
{
	return comb_tnum_is_const(s->var_off);
}

bool comb_scalar_is_const32(const struct comb_scalar *s)
{
	return comb_tnum_is_const(comb_tnum_subreg(s->var_off));
}

bool comb_scalar_contains(const struct comb_scalar *s, uint64_t x)
{
	uint32_t x32 = (uint32_t)x;
	return comb_tnum_contains(s->var_off, x) && x >= s->umin && x <= s->umax &&
	       (int64_t)x >= s->smin && (int64_t)x <= s->smax && x32 >= s->u32_min &&
	       x32 <= s->u32_max && (int32_t)x32 >= s->s32_min && (int32_t)x32 <= s->s32_max;
}

bool comb_scalar_is_valid(const struct comb_scalar *s)
{
	const struct comb_tnum t = s->var_off;
	return (t.value & t.mask) == 0 && s->umin <= s->umax && s->smin <= s->smax &&
	       s->u32_min <= s->u32_max && s->s32_min <= s->s32_max &&
	       comb_tnum_umin(t) <= s->umax && comb_tnum_umax(t) >= s->umin;
}

/* Cross the bounds: no value fits (sticky: syncing only narrows). */
static void make_empty(struct comb_scalar *s)
{
	s->umin = UINT64_MAX;
	s->umax = 0;
	s->smin = INT64_MAX;
	s->smax = INT64_MIN;
}

/* ---- sync: make the five descriptions agree ------------------------------ */

static void bounds_from_tnum(struct comb_scalar *s)
{
	struct comb_tnum t = s->var_off, low = comb_tnum_subreg(t);
	s->umin = umax64(s->umin, comb_tnum_umin(t));
	s->umax = umin64(s->umax, comb_tnum_umax(t));
	s->smin = smax64(s->smin, comb_tnum_smin(t));
	s->smax = smin64(s->smax, comb_tnum_smax(t));
	s->u32_min = (uint32_t)umax64(s->u32_min, comb_tnum_umin(low));
	s->u32_max = (uint32_t)umin64(s->u32_max, comb_tnum_umax(low));
	s->s32_min = (int32_t)smax64(s->s32_min, comb_tnum_smin32(t));
	s->s32_max = (int32_t)smin64(s->s32_max, comb_tnum_smax32(t));
}

/* Unsigned <-> signed at each width: a range that does not cross the point
 * where the two readings disagree means the same values in both. */
static void signed_unsigned_agree(struct comb_scalar *s)
{
	if ((int64_t)s->umin <= (int64_t)s->umax) {
		s->smin = smax64(s->smin, (int64_t)s->umin);
		s->smax = smin64(s->smax, (int64_t)s->umax);
	}
	if ((uint64_t)s->smin <= (uint64_t)s->smax) {
		s->umin = umax64(s->umin, (uint64_t)s->smin);
		s->umax = umin64(s->umax, (uint64_t)s->smax);
	}
	if ((int32_t)s->u32_min <= (int32_t)s->u32_max) {
		s->s32_min = (int32_t)smax64(s->s32_min, (int32_t)s->u32_min);
		s->s32_max = (int32_t)smin64(s->s32_max, (int32_t)s->u32_max);
	}
	if ((uint32_t)s->s32_min <= (uint32_t)s->s32_max) {
		s->u32_min = (uint32_t)umax64(s->u32_min, (uint32_t)s->s32_min);
		s->u32_max = (uint32_t)umin64(s->u32_max, (uint32_t)s->s32_max);
	}
}

/* Narrow the 32-bit ranges with a 64-bit range [lo, hi]: when both ends
 * share their upper half, the low halves form one interval. */
static void low_half_from_range(struct comb_scalar *s, uint64_t lo, uint64_t hi)
{
	if ((lo >> 32) != (hi >> 32))
		return;
	s->u32_min = (uint32_t)umax64(s->u32_min, (uint32_t)lo);
	s->u32_max = (uint32_t)umin64(s->u32_max, (uint32_t)hi);
	if ((int32_t)(uint32_t)lo <= (int32_t)(uint32_t)hi) {
		s->s32_min = (int32_t)smax64(s->s32_min, (int32_t)(uint32_t)lo);
		s->s32_max = (int32_t)smin64(s->s32_max, (int32_t)(uint32_t)hi);
	}
}

/* The smallest value >= min whose low half lies in [lo32, hi32]. */
static uint64_t raise_to_low_half(uint64_t min, uint32_t lo32, uint32_t hi32)
{
	uint32_t low = (uint32_t)min;
	if (low < lo32)
		return (min & ~U32_ALL) | lo32;
	if (low > hi32 && (min | U32_ALL) != UINT64_MAX)
		return ((min | U32_ALL) + 1) | lo32;
	return min;
}

/* The largest value <= max whose low half lies in [lo32, hi32]. */
static uint64_t lower_to_low_half(uint64_t max, uint32_t lo32, uint32_t hi32)
{
	uint32_t low = (uint32_t)max;
	if (low > hi32)
		return (max & ~U32_ALL) | hi32;
	if (low < lo32 && (max & ~U32_ALL) != 0)
		return ((max & ~U32_ALL) - 1 - U32_ALL) | hi32;
	return max;
}

static void full_from_low_half(struct comb_scalar *s)
{
	if (s->u32_min > s->u32_max)
		return;
	s->umin = umax64(s->umin, raise_to_low_half(s->umin, s->u32_min, s->u32_max));
	s->umax = umin64(s->umax, lower_to_low_half(s->umax, s->u32_min, s->u32_max));
	/* The same holds for signed bounds: only the upper half carries the sign. */
	s->smin = smax64(s->smin,
			 (int64_t)raise_to_low_half((uint64_t)s->smin ^ (1ULL << 63), s->u32_min,
						    s->u32_max) ^ INT64_MIN);
	s->smax = smin64(s->smax,
			 (int64_t)lower_to_low_half((uint64_t)s->smax ^ (1ULL << 63), s->u32_min,
						    s->u32_max) ^ INT64_MIN);
	/* A value that is the sign extension of its low half has the s32 range. */
	if (s->smin >= INT32_MIN && s->smax <= INT32_MAX) {
		s->smin = smax64(s->smin, s->s32_min);
		s->smax = smin64(s->smax, s->s32_max);
	}
}

static bool tnum_meet(struct comb_tnum *t, struct comb_tnum other)
{
	if (!comb_tnum_overlap(*t, other))
		return false;
	*t = comb_tnum_intersect(*t, other);
	return true;
}

static bool tnum_from_bounds(struct comb_scalar *s)
{
	struct comb_tnum t = s->var_off, low = comb_tnum_subreg(t);
	bool ok = tnum_meet(&t, comb_tnum_range(s->umin, s->umax));
	if ((uint64_t)s->smin <= (uint64_t)s->smax)
		ok = ok && tnum_meet(&t, comb_tnum_range((uint64_t)s->smin, (uint64_t)s->smax));
	ok = ok && tnum_meet(&low, comb_tnum_range(s->u32_min, s->u32_max));
	if ((uint32_t)s->s32_min <= (uint32_t)s->s32_max)
		ok = ok && tnum_meet(&low, comb_tnum_range((uint32_t)s->s32_min,
							   (uint32_t)s->s32_max));
	ok = ok && tnum_meet(&t, comb_tnum_with_subreg(comb_tnum_unknown(), low));
	s->var_off = t;
	return ok;
}

static bool crossed(const struct comb_scalar *s)
{
	return s->umin > s->umax || s->smin > s->smax || s->u32_min > s->u32_max ||
	       s->s32_min > s->s32_max;
}

void comb_scalar_sync(struct comb_scalar *s)
{
	for (int round = 0; round < 4; round++) {
		struct comb_scalar before = *s;
		bounds_from_tnum(s);
		signed_unsigned_agree(s);
		low_half_from_range(s, s->umin, s->umax);
		low_half_from_range(s, (uint64_t)s->smin, (uint64_t)s->smax);
		signed_unsigned_agree(s);
		full_from_low_half(s);
		signed_unsigned_agree(s);
		if (crossed(s) || !tnum_from_bounds(s)) {
			make_empty(s);
			return;
		}
		bounds_from_tnum(s);
		if (crossed(s)) {
			make_empty(s);
			return;
		}
		if (!memcmp(&before, s, sizeof(*s)))
			return;
	}
}

/* ---- views --------------------------------------------------------------- */

struct view {
	struct comb_tnum t; /* for w == 32, only the low 32 bits (zero-extended) */
	uint64_t umin, umax;
	int64_t smin, smax; /* for w == 32, s32 values */
};

static struct view view_of(const struct comb_scalar *s, int w)
{
	if (w == 64)
		return (struct view){ s->var_off, s->umin, s->umax, s->smin, s->smax };
	return (struct view){ comb_tnum_subreg(s->var_off), s->u32_min, s->u32_max, s->s32_min,
			      s->s32_max };
}

static struct view view_full(int w, struct comb_tnum t)
{
	return (struct view){ comb_tnum_cast(t, (unsigned)w / 8), 0, width_mask(w),
			      width_smin(w), width_smax(w) };
}

static bool view_is_const(const struct view *v)
{
	return comb_tnum_is_const(v->t);
}

static void meet_unsigned(struct view *v, uint64_t lo, uint64_t hi)
{
	v->umin = umax64(v->umin, lo);
	v->umax = umin64(v->umax, hi);
}

static void meet_signed(struct view *v, int64_t lo, int64_t hi)
{
	v->smin = smax64(v->smin, lo);
	v->smax = smin64(v->smax, hi);
}

/* Narrow v by the w-bit wrap of every integer in [lo, hi]. */
static void meet_integers(struct view *v, i128 lo, i128 hi, int w)
{
	const i128 span = (i128)1 << w, half = (i128)1 << (w - 1);
	const uint64_t mask = width_mask(w);
	if (hi - lo >= span)
		return;
	uint64_t ulo = (uint64_t)lo & mask, uhi = (uint64_t)hi & mask;
	if (ulo <= uhi)
		meet_unsigned(v, ulo, uhi);
	uint64_t slo = (uint64_t)(lo + half) & mask, shi = (uint64_t)(hi + half) & mask;
	if (slo <= shi)
		meet_signed(v, (int64_t)((i128)slo - half), (int64_t)((i128)shi - half));
}

/* Write a w-bit ALU result into dst; 32-bit results are zero-extended. */
static void store_result(struct comb_scalar *dst, const struct view *r, int w)
{
	if (w == 64) {
		*dst = comb_scalar_unknown();
		dst->var_off = r->t;
		dst->umin = r->umin;
		dst->umax = r->umax;
		dst->smin = r->smin;
		dst->smax = r->smax;
	} else {
		dst->var_off = comb_tnum_subreg(r->t);
		dst->u32_min = (uint32_t)r->umin;
		dst->u32_max = (uint32_t)r->umax;
		dst->s32_min = (int32_t)r->smin;
		dst->s32_max = (int32_t)r->smax;
		dst->umin = 0;
		dst->umax = U32_ALL;
		dst->smin = 0;
		dst->smax = (int64_t)U32_ALL;
	}
	comb_scalar_sync(dst);
}

/* Replace the w-bit part of s with a narrowed view (branch refinement). */
static void narrow_to_view(struct comb_scalar *s, const struct view *v, int w)
{
	if (w == 64) {
		s->var_off = v->t;
		s->umin = v->umin;
		s->umax = v->umax;
		s->smin = v->smin;
		s->smax = v->smax;
	} else {
		s->var_off = comb_tnum_with_subreg(s->var_off, v->t);
		s->u32_min = (uint32_t)v->umin;
		s->u32_max = (uint32_t)v->umax;
		s->s32_min = (int32_t)v->smin;
		s->s32_max = (int32_t)v->smax;
	}
	comb_scalar_sync(s);
}

/* ---- ALU: constants are folded exactly -------------------------------------- */

static uint64_t sign_extend(uint64_t x, int bits)
{
	if (bits >= 64)
		return x;
	uint64_t sign = 1ULL << (bits - 1);
	x &= (sign << 1) - 1;
	return (x ^ sign) - sign;
}

/* The concrete result of a two-operand op at width w (RFC 9669 semantics,
 * division by zero included). */
static uint64_t fold_binary(uint8_t op, bool is_signed, int w, uint64_t a, uint64_t b)
{
	const uint64_t mask = width_mask(w);
	a &= mask;
	b &= mask;
	int64_t sa = (int64_t)sign_extend(a, w), sb = (int64_t)sign_extend(b, w);
	uint64_t r = 0;
	switch (op) {
	case COMB_ALU_ADD: r = a + b; break;
	case COMB_ALU_SUB: r = a - b; break;
	case COMB_ALU_MUL: r = a * b; break;
	case COMB_ALU_OR: r = a | b; break;
	case COMB_ALU_AND: r = a & b; break;
	case COMB_ALU_XOR: r = a ^ b; break;
	case COMB_ALU_LSH: r = a << (b & (uint64_t)(w - 1)); break;
	case COMB_ALU_RSH: r = a >> (b & (uint64_t)(w - 1)); break;
	case COMB_ALU_ARSH: r = (uint64_t)(sa >> (b & (uint64_t)(w - 1))); break;
	case COMB_ALU_DIV:
		if (!is_signed)
			r = b ? a / b : 0;
		else
			r = !sb ? 0 : sb == -1 ? 0 - (uint64_t)sa : (uint64_t)(sa / sb);
		break;
	case COMB_ALU_MOD:
		if (!is_signed)
			r = b ? a % b : a;
		else
			r = !sb ? (uint64_t)sa : sb == -1 ? 0 : (uint64_t)(sa % sb);
		break;
	}
	return r & mask;
}

/* ---- ALU: abstract operations on views --------------------------------------- */

static struct view op_add(const struct view *a, const struct view *b, int w)
{
	struct view r = view_full(w, comb_tnum_add(a->t, b->t));
	meet_integers(&r, (i128)a->umin + b->umin, (i128)a->umax + b->umax, w);
	meet_integers(&r, (i128)a->smin + b->smin, (i128)a->smax + b->smax, w);
	return r;
}

static struct view op_sub(const struct view *a, const struct view *b, int w)
{
	struct view r = view_full(w, comb_tnum_sub(a->t, b->t));
	meet_integers(&r, (i128)a->umin - b->umax, (i128)a->umax - b->umin, w);
	meet_integers(&r, (i128)a->smin - b->smax, (i128)a->smax - b->smin, w);
	return r;
}

static struct view op_mul(const struct view *a, const struct view *b, int w)
{
	struct view r = view_full(w, comb_tnum_mul(a->t, b->t));
	u128 uhi = (u128)a->umax * b->umax;
	if (uhi >> 126 == 0)
		meet_integers(&r, (i128)((u128)a->umin * b->umin), (i128)uhi, w);
	i128 c1 = (i128)a->smin * b->smin, c2 = (i128)a->smin * b->smax;
	i128 c3 = (i128)a->smax * b->smin, c4 = (i128)a->smax * b->smax;
	meet_integers(&r, min128(min128(c1, c2), min128(c3, c4)),
		      max128(max128(c1, c2), max128(c3, c4)), w);
	return r;
}

static struct view op_and(const struct view *a, const struct view *b, int w)
{
	struct view r = view_full(w, comb_tnum_and(a->t, b->t));
	meet_unsigned(&r, 0, umin64(a->umax, b->umax));
	if (a->smin >= 0 || b->smin >= 0) /* a non-negative operand bounds the result */
		meet_signed(&r, 0, a->smin >= 0 && b->smin >= 0 ? smin64(a->smax, b->smax)
					: a->smin >= 0 ? a->smax : b->smax);
	else if (a->smax < 0 && b->smax < 0) /* both negative: so is the result, and smaller */
		meet_signed(&r, width_smin(w), smin64(a->smax, b->smax));
	return r;
}

static struct view op_or(const struct view *a, const struct view *b, int w)
{
	struct view r = view_full(w, comb_tnum_or(a->t, b->t));
	meet_unsigned(&r, umax64(a->umin, b->umin), width_mask(w));
	return r;
}

static struct view op_xor(const struct view *a, const struct view *b, int w)
{
	return view_full(w, comb_tnum_xor(a->t, b->t));
}

/* Shifts by an amount in [b->umin, b->umax]: the tnum is the union over
 * every possible amount. An amount that may reach the width gives unknown
 * (the kernel does the same; the ISA masks the amount). */
static struct comb_tnum shift_tnum(uint8_t op, struct comb_tnum t, uint64_t k, int w)
{
	if (op == COMB_ALU_LSH)
		return comb_tnum_lshift(t, (unsigned)k);
	if (op == COMB_ALU_RSH)
		return comb_tnum_rshift(t, (unsigned)k);
	return comb_tnum_arshift(t, (unsigned)k, (unsigned)w);
}

static struct view op_shift(uint8_t op, const struct view *a, const struct view *b, int w)
{
	if (b->umax >= (uint64_t)w || b->umin > b->umax)
		return view_full(w, comb_tnum_unknown());
	uint64_t kmin = b->umin, kmax = b->umax;
	struct comb_tnum t = shift_tnum(op, a->t, kmin, w);
	for (uint64_t k = kmin + 1; k <= kmax; k++)
		if (comb_tnum_contains(b->t, k))
			t = comb_tnum_union(t, shift_tnum(op, a->t, k, w));
	struct view r = view_full(w, t);
	if (op == COMB_ALU_LSH) {
		if ((a->umax << kmax & width_mask(w)) >> kmax == a->umax)
			meet_unsigned(&r, a->umin << kmin, a->umax << kmax);
	} else if (op == COMB_ALU_RSH) {
		meet_unsigned(&r, a->umin >> kmax, a->umax >> kmin);
	} else {
		meet_signed(&r, smin64(a->smin >> kmin, a->smin >> kmax),
			    smax64(a->smax >> kmin, a->smax >> kmax));
	}
	return r;
}

static struct view op_udiv(const struct view *a, const struct view *b, int w)
{
	struct view r = view_full(w, comb_tnum_unknown());
	if (b->umax == 0) /* division by zero gives 0 */
		return view_full(w, comb_tnum_const(0));
	uint64_t lo = b->umin == 0 ? 0 : a->umin / b->umax;
	meet_unsigned(&r, lo, a->umax / (b->umin ? b->umin : 1));
	return r;
}

static struct view op_umod(const struct view *a, const struct view *b, int w)
{
	if (b->umin > a->umax) /* a % b == a, also when b may be 0: then b->umin == 0 */
		return *a;
	struct view r = view_full(w, comb_tnum_unknown());
	if (b->umin == 0) /* modulo zero leaves a */
		meet_unsigned(&r, 0, a->umax);
	else
		meet_unsigned(&r, 0, umin64(a->umax, b->umax - 1));
	return r;
}

static i128 abs128(int64_t x)
{
	return x < 0 ? -(i128)x : (i128)x;
}

/* Signed division truncates toward zero; x / 0 == 0, MIN / -1 == MIN. */
static struct view op_sdiv(const struct view *a, const struct view *b, int w)
{
	struct view r = view_full(w, comb_tnum_unknown());
	if (view_is_const(b)) {
		int64_t c = b->smin;
		if (c == 0)
			return view_full(w, comb_tnum_const(0));
		if (c == -1) {
			meet_integers(&r, -(i128)a->smax, -(i128)a->smin, w);
			return r;
		}
		int64_t q1 = a->smin / c, q2 = a->smax / c;
		meet_signed(&r, smin64(q1, q2), smax64(q1, q2));
		return r;
	}
	i128 m = max128(abs128(a->smin), abs128(a->smax)); /* |a / b| <= |a| */
	meet_integers(&r, -m, m, w);
	return r;
}

/* Signed modulo takes the sign of the dividend and |a % b| <= |a|, < |b|;
 * x % 0 == x and x % -1 == 0 fit these bounds. */
static struct view op_smod(const struct view *a, const struct view *b, int w)
{
	struct view r = view_full(w, comb_tnum_unknown());
	meet_signed(&r, smin64(a->smin, 0), smax64(a->smax, 0));
	if (b->smin > 0 || b->smax < 0) {
		i128 limit = max128(abs128(b->smin), abs128(b->smax)) - 1;
		meet_integers(&r, -limit, limit, w);
	}
	return r;
}

static struct view op_binary(uint8_t op, bool is_signed, const struct view *a,
			     const struct view *b, int w)
{
	switch (op) {
	case COMB_ALU_ADD: return op_add(a, b, w);
	case COMB_ALU_SUB: return op_sub(a, b, w);
	case COMB_ALU_MUL: return op_mul(a, b, w);
	case COMB_ALU_AND: return op_and(a, b, w);
	case COMB_ALU_OR: return op_or(a, b, w);
	case COMB_ALU_XOR: return op_xor(a, b, w);
	case COMB_ALU_DIV: return is_signed ? op_sdiv(a, b, w) : op_udiv(a, b, w);
	case COMB_ALU_MOD: return is_signed ? op_smod(a, b, w) : op_umod(a, b, w);
	default: return op_shift(op, a, b, w);
	}
}

/* ---- ALU: moves, sign extension, byte swaps ------------------------------------ */

/* dst = the low `bits` of src, sign-extended to w (MOVSX). */
static void alu_movsx(struct comb_scalar *dst, const struct comb_scalar *src, int bits, int w)
{
	const int64_t low_min = -((int64_t)1 << (bits - 1)), low_max = -low_min - 1;
	struct comb_tnum low = comb_tnum_cast(src->var_off, (unsigned)bits / 8);
	uint64_t sign = 1ULL << (bits - 1);
	struct comb_tnum t = low;
	if (low.mask & sign) /* unknown sign: every upper bit unknown */
		t.mask |= ~((sign << 1) - 1);
	else if (low.value & sign)
		t.value |= ~((sign << 1) - 1);
	struct view r = view_full(w, t);
	meet_signed(&r, low_min, low_max); /* any sign-extended `bits`-bit value */
	/* The unsigned range of the low bits, read as signed. */
	uint64_t ulo = comb_tnum_umin(low), uhi = comb_tnum_umax(low);
	if (bits == 32) {
		ulo = src->u32_min;
		uhi = src->u32_max;
	} else if (src->umax < (sign << 1)) {
		ulo = src->umin;
		uhi = src->umax;
	}
	if (uhi < sign || ulo >= sign)
		meet_signed(&r, (int64_t)sign_extend(ulo, bits), (int64_t)sign_extend(uhi, bits));
	if (src->smin >= low_min && src->smax <= low_max) /* extension changes nothing */
		meet_signed(&r, src->smin, src->smax);
	if (bits == 32 || (src->s32_min >= low_min && src->s32_max <= low_max))
		meet_signed(&r, smax64(src->s32_min, low_min), smin64(src->s32_max, low_max));
	store_result(dst, &r, w);
}

static int alu_mov(struct comb_scalar *dst, const struct comb_scalar *src, int16_t off, int w)
{
	if (off == 0) {
		if (w == 64) {
			*dst = *src;
		} else {
			struct view r = view_of(src, 32);
			store_result(dst, &r, 32);
		}
		return 0;
	}
	if (off != 8 && off != 16 && !(off == 32 && w == 64))
		return -EINVAL;
	alu_movsx(dst, src, off, w);
	return 0;
}

/* END (ALU: to little/big endian) and BSWAP (ALU64): the low imm bits,
 * byte-swapped or not, zero-extended. The host is little-endian. */
static int alu_end(struct comb_scalar *dst, const struct comb_insn *insn)
{
	int bits = insn->imm;
	if (bits != 16 && bits != 32 && bits != 64)
		return -EINVAL;
	bool alu64 = COMB_CLASS(insn->code) == COMB_CLS_ALU64;
	if (alu64 && COMB_SRC(insn->code) != COMB_SRC_K)
		return -EINVAL;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	bool swap = alu64 || COMB_SRC(insn->code) == COMB_SRC_X;
#else
	bool swap = alu64 || COMB_SRC(insn->code) == COMB_SRC_K;
#endif
	struct comb_scalar r = comb_scalar_unknown();
	if (swap) {
		r.var_off = comb_tnum_bswap(dst->var_off, (unsigned)bits);
	} else {
		r.var_off = comb_tnum_cast(dst->var_off, (unsigned)bits / 8);
		if (bits == 64)
			r = *dst;
		else if (dst->umax <= (2ULL << (bits - 1)) - 1) {
			r.umin = dst->umin;
			r.umax = dst->umax;
		}
	}
	comb_scalar_sync(&r);
	*dst = r;
	return 0;
}

/* ---- ALU: dispatch ---------------------------------------------------------------- */

static bool alu_op_valid(uint8_t op, int16_t off)
{
	switch (op) {
	case COMB_ALU_DIV:
	case COMB_ALU_MOD:
		return off == 0 || off == 1;
	case COMB_ALU_ADD: case COMB_ALU_SUB: case COMB_ALU_MUL: case COMB_ALU_OR:
	case COMB_ALU_AND: case COMB_ALU_LSH: case COMB_ALU_RSH: case COMB_ALU_NEG:
	case COMB_ALU_XOR: case COMB_ALU_ARSH:
		return off == 0;
	default:
		return false;
	}
}

int comb_scalar_alu(struct comb_scalar *dst, const struct comb_scalar *src,
		    const struct comb_insn *insn)
{
	uint8_t cls = COMB_CLASS(insn->code), op = COMB_OP(insn->code);
	if (cls != COMB_CLS_ALU && cls != COMB_CLS_ALU64)
		return -EINVAL;
	int w = cls == COMB_CLS_ALU64 ? 64 : 32;
	if (op == COMB_ALU_END)
		return alu_end(dst, insn);
	struct comb_scalar imm;
	if (COMB_SRC(insn->code) == COMB_SRC_K || op == COMB_ALU_NEG) {
		if (op == COMB_ALU_MOV && insn->off != 0)
			return -EINVAL; /* MOVSX takes a register */
		imm = comb_scalar_const(w == 64 ? (uint64_t)(int64_t)insn->imm
						: (uint64_t)(uint32_t)insn->imm);
		src = &imm;
	} else if (!src) {
		return -EINVAL;
	}
	if (op == COMB_ALU_MOV)
		return alu_mov(dst, src, insn->off, w);
	if (!alu_op_valid(op, insn->off))
		return -EINVAL;
	bool is_signed = insn->off == 1;
	struct view a = view_of(dst, w), b = view_of(src, w);
	if (op == COMB_ALU_NEG) {
		struct comb_scalar zero = comb_scalar_const(0);
		b = a;
		a = view_of(&zero, w);
		op = COMB_ALU_SUB;
	}
	struct view r;
	if (view_is_const(&a) && view_is_const(&b))
		r = view_full(w, comb_tnum_const(fold_binary(op, is_signed, w, a.t.value,
							     b.t.value)));
	else
		r = op_binary(op, is_signed, &a, &b, w);
	store_result(dst, &r, w);
	return 0;
}

/* ---- branches ------------------------------------------------------------------ */

/* "a & b == 0": the fall-through of JSET, as an op of its own. */
#define JMP_JSET_NOT 0xf0

static uint8_t negate_jump(uint8_t op)
{
	switch (op) {
	case COMB_JMP_JEQ: return COMB_JMP_JNE;
	case COMB_JMP_JNE: return COMB_JMP_JEQ;
	case COMB_JMP_JGT: return COMB_JMP_JLE;
	case COMB_JMP_JLE: return COMB_JMP_JGT;
	case COMB_JMP_JGE: return COMB_JMP_JLT;
	case COMB_JMP_JLT: return COMB_JMP_JGE;
	case COMB_JMP_JSGT: return COMB_JMP_JSLE;
	case COMB_JMP_JSLE: return COMB_JMP_JSGT;
	case COMB_JMP_JSGE: return COMB_JMP_JSLT;
	case COMB_JMP_JSLT: return COMB_JMP_JSGE;
	case COMB_JMP_JSET: return JMP_JSET_NOT;
	default: return op;
	}
}

static bool refine_eq(struct view *a, struct view *b)
{
	if (!comb_tnum_overlap(a->t, b->t))
		return false;
	a->t = comb_tnum_intersect(a->t, b->t);
	meet_unsigned(a, b->umin, b->umax);
	meet_signed(a, b->smin, b->smax);
	*b = *a;
	return a->umin <= a->umax && a->smin <= a->smax;
}

/* a != b where b is a known constant c: c leaves a's range if it is an end. */
static bool refine_ne_const(struct view *a, const struct view *b)
{
	uint64_t c = b->umin;
	int64_t sc = b->smin;
	if (a->umin == c) {
		if (a->umax == c)
			return false;
		a->umin++;
	} else if (a->umax == c) {
		a->umax--;
	}
	if (a->smin == sc) {
		if (a->smax == sc)
			return false;
		a->smin++;
	} else if (a->smax == sc) {
		a->smax--;
	}
	return true;
}

static bool refine_ne(struct view *a, struct view *b)
{
	if (view_is_const(b) && !refine_ne_const(a, b))
		return false;
	if (view_is_const(a) && !refine_ne_const(b, a))
		return false;
	return true;
}

/* a > b (strict) or a >= b, unsigned. */
static bool refine_ugt(struct view *a, struct view *b, bool strict, int w)
{
	if (strict && (b->umin == width_mask(w) || a->umax == 0))
		return false;
	a->umin = umax64(a->umin, b->umin + strict);
	b->umax = umin64(b->umax, a->umax - strict);
	return a->umin <= a->umax && b->umin <= b->umax;
}

static bool refine_sgt(struct view *a, struct view *b, bool strict, int w)
{
	if (strict && (b->smin == width_smax(w) || a->smax == width_smin(w)))
		return false;
	a->smin = smax64(a->smin, b->smin + strict);
	b->smax = smin64(b->smax, a->smax - strict);
	return a->smin <= a->smax && b->smin <= b->smax;
}

static bool is_power_of_two(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* a & b != 0: a single known bit of b must be set in a. */
static bool refine_jset(struct view *a, struct view *b)
{
	if (!((a->t.value | a->t.mask) & (b->t.value | b->t.mask)))
		return false;
	if (view_is_const(b) && is_power_of_two(b->t.value))
		a->t = comb_tnum_or(a->t, b->t);
	if (view_is_const(a) && is_power_of_two(a->t.value))
		b->t = comb_tnum_or(b->t, a->t);
	return true;
}

/* a & b == 0: a known b clears those bits of a, and the other way round. */
static bool refine_jset_not(struct view *a, struct view *b)
{
	if (a->t.value & b->t.value)
		return false;
	if (view_is_const(b))
		a->t.mask &= ~b->t.value;
	if (view_is_const(a))
		b->t.mask &= ~a->t.value;
	return true;
}

static bool refine_views(uint8_t op, struct view *a, struct view *b, int w)
{
	switch (op) {
	case COMB_JMP_JEQ: return refine_eq(a, b);
	case COMB_JMP_JNE: return refine_ne(a, b);
	case COMB_JMP_JGT: return refine_ugt(a, b, true, w);
	case COMB_JMP_JGE: return refine_ugt(a, b, false, w);
	case COMB_JMP_JLT: return refine_ugt(b, a, true, w);
	case COMB_JMP_JLE: return refine_ugt(b, a, false, w);
	case COMB_JMP_JSGT: return refine_sgt(a, b, true, w);
	case COMB_JMP_JSGE: return refine_sgt(a, b, false, w);
	case COMB_JMP_JSLT: return refine_sgt(b, a, true, w);
	case COMB_JMP_JSLE: return refine_sgt(b, a, false, w);
	case COMB_JMP_JSET: return refine_jset(a, b);
	case JMP_JSET_NOT: return refine_jset_not(a, b);
	default: return true;
	}
}

static bool is_condition(uint8_t code)
{
	uint8_t cls = COMB_CLASS(code), op = COMB_OP(code);
	if (cls != COMB_CLS_JMP && cls != COMB_CLS_JMP32)
		return false;
	return op != COMB_JMP_JA && op != COMB_JMP_CALL && op != COMB_JMP_EXIT && op <= 0xd0;
}

bool comb_scalar_refine(struct comb_scalar *a, struct comb_scalar *b, uint8_t code, bool taken)
{
	if (!is_condition(code))
		return comb_scalar_is_valid(a) && comb_scalar_is_valid(b);
	int w = COMB_CLASS(code) == COMB_CLS_JMP32 ? 32 : 64;
	uint8_t op = taken ? COMB_OP(code) : negate_jump(COMB_OP(code));
	struct view va = view_of(a, w), vb = view_of(b, w);
	if (!refine_views(op, &va, &vb, w))
		return false;
	narrow_to_view(a, &va, w);
	narrow_to_view(b, &vb, w);
	return comb_scalar_is_valid(a) && comb_scalar_is_valid(b);
}

int comb_scalar_branch_taken(const struct comb_scalar *a, const struct comb_scalar *b,
			     uint8_t code)
{
	if (!is_condition(code))
		return -1;
	struct comb_scalar ja = *a, jb = *b, fa = *a, fb = *b;
	bool may_jump = comb_scalar_refine(&ja, &jb, code, true);
	bool may_fall = comb_scalar_refine(&fa, &fb, code, false);
	if (may_jump == may_fall)
		return -1;
	return may_jump ? 1 : 0;
}

/* ---- merge points, loops, pruning ---------------------------------------------- */

struct comb_scalar comb_scalar_join(const struct comb_scalar *a, const struct comb_scalar *b)
{
	if (!comb_scalar_is_valid(a))
		return *b;
	if (!comb_scalar_is_valid(b))
		return *a;
	struct comb_scalar j = {
		.var_off = comb_tnum_union(a->var_off, b->var_off),
		.umin = umin64(a->umin, b->umin), .umax = umax64(a->umax, b->umax),
		.smin = smin64(a->smin, b->smin), .smax = smax64(a->smax, b->smax),
		.u32_min = (uint32_t)umin64(a->u32_min, b->u32_min),
		.u32_max = (uint32_t)umax64(a->u32_max, b->u32_max),
		.s32_min = (int32_t)smin64(a->s32_min, b->s32_min),
		.s32_max = (int32_t)smax64(a->s32_max, b->s32_max),
	};
	comb_scalar_sync(&j);
	return j;
}

struct comb_scalar comb_scalar_widen(const struct comb_scalar *prev, const struct comb_scalar *next)
{
	if (!comb_scalar_is_valid(prev) || !comb_scalar_is_valid(next))
		return comb_scalar_join(prev, next);
	struct comb_scalar w = comb_scalar_join(prev, next);
	if (next->umin < prev->umin) w.umin = 0;
	if (next->umax > prev->umax) w.umax = UINT64_MAX;
	if (next->smin < prev->smin) w.smin = INT64_MIN;
	if (next->smax > prev->smax) w.smax = INT64_MAX;
	if (next->u32_min < prev->u32_min) w.u32_min = 0;
	if (next->u32_max > prev->u32_max) w.u32_max = UINT32_MAX;
	if (next->s32_min < prev->s32_min) w.s32_min = INT32_MIN;
	if (next->s32_max > prev->s32_max) w.s32_max = INT32_MAX;
	comb_scalar_sync(&w);
	return w;
}

bool comb_scalar_subsumes(const struct comb_scalar *old, const struct comb_scalar *cur)
{
	if (!comb_scalar_is_valid(cur))
		return true;
	return old->umin <= cur->umin && cur->umax <= old->umax && old->smin <= cur->smin &&
	       cur->smax <= old->smax && old->u32_min <= cur->u32_min &&
	       cur->u32_max <= old->u32_max && old->s32_min <= cur->s32_min &&
	       cur->s32_max <= old->s32_max && comb_tnum_in(old->var_off, cur->var_off);
}

/* ---- printing ---------------------------------------------------------------- */

struct text {
	char *buf;
	size_t size;
	int len;
	bool first;
};

static void text_add(struct text *t, const char *fmt, unsigned long long unsigned_value,
		     long long signed_value, bool is_signed)
{
	size_t room = (size_t)t->len < t->size ? t->size - (size_t)t->len : 0;
	char *at = room ? t->buf + t->len : NULL;
	int n = is_signed ? snprintf(at, room, fmt, t->first ? "" : ",", signed_value)
			  : snprintf(at, room, fmt, t->first ? "" : ",", unsigned_value);
	t->len += n > 0 ? n : 0;
	t->first = false;
}

int comb_scalar_str(char *buf, size_t size, const struct comb_scalar *s)
{
	if (comb_scalar_is_const(s))
		return snprintf(buf, size, "%lld", (long long)s->var_off.value);
	struct text t = { buf, size, 0, true };
	int n = snprintf(buf, size, "scalar(");
	t.len = n;
	if (s->umin != 0) text_add(&t, "%sumin=%llu", s->umin, 0, false);
	if (s->umax != UINT64_MAX) text_add(&t, "%sumax=%llu", s->umax, 0, false);
	if (s->smin != INT64_MIN) text_add(&t, "%ssmin=%lld", 0, s->smin, true);
	if (s->smax != INT64_MAX) text_add(&t, "%ssmax=%lld", 0, s->smax, true);
	if (s->u32_min != 0) text_add(&t, "%su32_min=%llu", s->u32_min, 0, false);
	if (s->u32_max != UINT32_MAX) text_add(&t, "%su32_max=%llu", s->u32_max, 0, false);
	if (s->s32_min != INT32_MIN) text_add(&t, "%ss32_min=%lld", 0, s->s32_min, true);
	if (s->s32_max != INT32_MAX) text_add(&t, "%ss32_max=%lld", 0, s->s32_max, true);
	if (!comb_tnum_is_unknown(s->var_off)) {
		char tn[48];
		comb_tnum_str(tn, sizeof(tn), s->var_off);
		size_t room = (size_t)t.len < size ? size - (size_t)t.len : 0;
		int m = snprintf(room ? buf + t.len : NULL, room, "%svar_off=%s", t.first ? "" : ",", tn);
		t.len += m > 0 ? m : 0;
	}
	size_t room = (size_t)t.len < size ? size - (size_t)t.len : 0;
	int m = snprintf(room ? buf + t.len : NULL, room, ")");
	return t.len + (m > 0 ? m : 0);
}
