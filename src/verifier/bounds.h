/* src/verifier/bounds.h - what the verifier knows about a scalar register.
 *
 * A scalar is described five ways at once: known bits (a tnum), an unsigned
 * and a signed 64-bit range, and an unsigned and a signed range of its low
 * 32 bits. The concrete values it may hold are those in all five at once.
 * comb_scalar_sync() makes the five agree (each one narrowed by what the
 * others imply, as the kernel's reg_bounds_sync does); every function below
 * returns synced states.
 *
 * Transfer functions are sound: every concrete result of an ALU instruction
 * applied to values of the operands lies in the result state. Branch
 * refinement narrows both operands to the pairs that take (or skip) a
 * conditional jump; a branch no pair can take is reported as infeasible.
 * Loop heads use join (the union) and widen (bounds that keep moving jump to
 * their type's limits, so iteration stops); pruning uses subsumption.
 */
#ifndef COMB_VERIFIER_BOUNDS_H
#define COMB_VERIFIER_BOUNDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "comb/isa.h"
#include "verifier/tnum.h"

struct comb_scalar {
	struct comb_tnum var_off;
	uint64_t umin, umax;
	int64_t smin, smax;
	uint32_t u32_min, u32_max;
	int32_t s32_min, s32_max;
};

struct comb_scalar comb_scalar_const(uint64_t value);
struct comb_scalar comb_scalar_unknown(void);
/* A scalar in [min, max] (unsigned), e.g. a loaded byte is [0, 255]. */
struct comb_scalar comb_scalar_urange(uint64_t min, uint64_t max);

bool comb_scalar_is_const(const struct comb_scalar *s);
/* Is the low half a known constant? (what matters to ALU32/JMP32) */
bool comb_scalar_is_const32(const struct comb_scalar *s);
/* Does s describe the concrete value x? */
bool comb_scalar_contains(const struct comb_scalar *s, uint64_t x);
/* False when the five descriptions contradict each other (no value fits):
 * the state of a path no execution can take. */
bool comb_scalar_is_valid(const struct comb_scalar *s);

/* Narrow each description by what the others imply (reg_bounds_sync). */
void comb_scalar_sync(struct comb_scalar *s);

/* dst = dst OP src for an ALU or ALU64 instruction (every op of RFC 9669:
 * ADD SUB MUL DIV SDIV MOD SMOD OR AND XOR LSH RSH ARSH NEG MOV MOVSX END
 * BSWAP). With a K source the immediate is used and src may be NULL (for
 * ALU64 the immediate is sign-extended, for ALU it is the low 32 bits).
 * ALU results are zero-extended to 64 bits. Returns 0, or -EINVAL for an
 * opcode, offset or immediate the ISA does not define. */
int comb_scalar_alu(struct comb_scalar *dst, const struct comb_scalar *src,
		    const struct comb_insn *insn);

/* Conditional jumps. `code` is a JMP or JMP32 opcode (class | op | source;
 * the source bit is ignored: b is the second operand, a register or the
 * immediate made a scalar by the caller). JA, CALL and EXIT are not
 * conditions.
 * comb_scalar_branch_taken: 1 if every pair jumps, 0 if none does, -1 if
 * it depends on the values (or code is not a condition).
 * comb_scalar_refine: narrow a and b to the pairs that jump (taken) or fall
 * through (!taken); returns false if no pair does (the path is dead; a and
 * b then hold no meaningful state). a and b must be distinct objects: for a
 * register compared with itself pass a copy. */
int comb_scalar_branch_taken(const struct comb_scalar *a, const struct comb_scalar *b,
			     uint8_t code);
bool comb_scalar_refine(struct comb_scalar *a, struct comb_scalar *b, uint8_t code, bool taken);

/* The smallest state containing both (a merge point). */
struct comb_scalar comb_scalar_join(const struct comb_scalar *a, const struct comb_scalar *b);
/* Widening at a loop head: join, then every bound of `next` that moved past
 * `prev` goes to its type's limit; known bits stay only where both agree.
 * A chain prev, widen(prev, next), ... stabilizes after a bounded number of
 * steps (each bound jumps at most once, known bits only decrease). */
struct comb_scalar comb_scalar_widen(const struct comb_scalar *prev, const struct comb_scalar *next);
/* Does `old` cover every value of `cur`? (then a path reaching cur where old
 * was already proven safe can be pruned) */
bool comb_scalar_subsumes(const struct comb_scalar *old, const struct comb_scalar *cur);

/* The verifier log form: "5" for a constant, otherwise
 * "scalar(umin=..,umax=..,smin=..,smax=..,u32_min=..,...,var_off=(0x0; 0xff))"
 * listing only the bounds that say something. Returns what snprintf would. */
int comb_scalar_str(char *buf, size_t size, const struct comb_scalar *s);

#endif
