/* src/verifier/tnum.h - tristate numbers: what the verifier knows about each bit.
 *
 * A tnum is a pair (value; mask) describing a set of 64-bit integers: a bit
 * set in mask is unknown (0 or 1), every other bit is known and equal to the
 * matching bit of value. Invariant: value & mask == 0. The set it describes
 * is { x : (x & ~mask) == value }. Every operation below is sound: the
 * result contains every concrete result of the concrete operation applied
 * to members of the operands. The 32-bit helpers work on the low half
 * ("subregister") of a register, the way ALU32 instructions do.
 *
 * Semantics follow the kernel's documented tnum abstraction and the paper
 * "Sound, Precise, and Fast Abstract Interpretation with Tristate Numbers"
 * (Vishwanathan et al., CGO 2022) for multiplication.
 */
#ifndef COMB_VERIFIER_TNUM_H
#define COMB_VERIFIER_TNUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct comb_tnum {
	uint64_t value;
	uint64_t mask;
};

/* Constructors. */
struct comb_tnum comb_tnum_const(uint64_t value);
struct comb_tnum comb_tnum_unknown(void);
/* The smallest tnum containing every integer of [min, max] (min <= max). */
struct comb_tnum comb_tnum_range(uint64_t min, uint64_t max);

/* Arithmetic and bitwise operations (64-bit, wrapping). */
struct comb_tnum comb_tnum_add(struct comb_tnum a, struct comb_tnum b);
struct comb_tnum comb_tnum_sub(struct comb_tnum a, struct comb_tnum b);
struct comb_tnum comb_tnum_neg(struct comb_tnum a);
struct comb_tnum comb_tnum_and(struct comb_tnum a, struct comb_tnum b);
struct comb_tnum comb_tnum_or(struct comb_tnum a, struct comb_tnum b);
struct comb_tnum comb_tnum_xor(struct comb_tnum a, struct comb_tnum b);
struct comb_tnum comb_tnum_mul(struct comb_tnum a, struct comb_tnum b);

/* Shifts by a constant amount (0..63). arshift's width is 64 or 32: with 32
 * the low half is shifted as a signed 32-bit value and the result is
 * zero-extended, as ALU32 ARSH does. */
struct comb_tnum comb_tnum_lshift(struct comb_tnum a, unsigned shift);
struct comb_tnum comb_tnum_rshift(struct comb_tnum a, unsigned shift);
struct comb_tnum comb_tnum_arshift(struct comb_tnum a, unsigned shift, unsigned width);

/* Byte swap of the low `bits` (16, 32, 64) bits; higher bits become 0. */
struct comb_tnum comb_tnum_bswap(struct comb_tnum a, unsigned bits);

/* Keep the low `bytes` bytes (1, 2, 4, 8); higher bits become known 0. */
struct comb_tnum comb_tnum_cast(struct comb_tnum a, unsigned bytes);
/* The low 32 bits (zero-extended), and a tnum whose low 32 bits are replaced. */
struct comb_tnum comb_tnum_subreg(struct comb_tnum a);
struct comb_tnum comb_tnum_with_subreg(struct comb_tnum a, struct comb_tnum low);

/* Set operations. intersect: the values in both (a and b must overlap, see
 * comb_tnum_overlap; otherwise the result is some unrelated tnum). union:
 * the smallest tnum containing both (the join at a merge point). */
struct comb_tnum comb_tnum_intersect(struct comb_tnum a, struct comb_tnum b);
struct comb_tnum comb_tnum_union(struct comb_tnum a, struct comb_tnum b);
bool comb_tnum_overlap(struct comb_tnum a, struct comb_tnum b);
/* Is every member of `inner` a member of `outer`? */
bool comb_tnum_in(struct comb_tnum outer, struct comb_tnum inner);
bool comb_tnum_contains(struct comb_tnum a, uint64_t x);

/* Queries. */
bool comb_tnum_is_const(struct comb_tnum a);
bool comb_tnum_equals_const(struct comb_tnum a, uint64_t value);
bool comb_tnum_is_unknown(struct comb_tnum a);
/* Every member is a multiple of size (a power of two). */
bool comb_tnum_is_aligned(struct comb_tnum a, uint64_t size);
uint64_t comb_tnum_umin(struct comb_tnum a);
uint64_t comb_tnum_umax(struct comb_tnum a);
int64_t comb_tnum_smin(struct comb_tnum a);
int64_t comb_tnum_smax(struct comb_tnum a);
/* Same, for the low 32 bits read as s32. */
int32_t comb_tnum_smin32(struct comb_tnum a);
int32_t comb_tnum_smax32(struct comb_tnum a);

/* Printing, as the kernel's verifier log does. comb_tnum_str writes
 * "(0x0; 0xff)"; comb_tnum_sbin writes the 64 bits, most significant first,
 * as '0', '1' or 'x' (unknown). Both return what snprintf would. */
int comb_tnum_str(char *buf, size_t size, struct comb_tnum a);
int comb_tnum_sbin(char *buf, size_t size, struct comb_tnum a);

#endif
