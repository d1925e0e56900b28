/* src/verifier/state.h - the abstract machine state the verifier walks with.
 *
 * A register holds a type (not initialized, scalar, or one of the pointer
 * kinds) and, for every kind, a scalar `var`: the value of a scalar, or the
 * variable part of a pointer's offset; `off` is a pointer's fixed offset.
 * Pointers that may be NULL carry an `id` shared by every copy, so one test
 * settles them all; packet pointers carry the `range` proven readable by a
 * comparison with data_end (shared the same way, by id); references (ring
 * buffer records) carry a `ref_id` listed in the state until released.
 *
 * A frame is one function activation: r0-r10 and 512 bytes of stack, each
 * byte tracked as never written, written with unknown data, written with
 * zero, or part of an 8-byte spilled register whose whole state is kept.
 *
 * Pruning: a state reaching an instruction where an explored state was
 * already proven safe can stop when the old state covers it
 * (verifier_state_covers): every live register and every stack slot the
 * old state's continuations read admits at least the values of the new one.
 * Stack liveness is learnt during the walk, as the kernel's REG_LIVE_READ:
 * each frame records the slots fully written since the path's last
 * checkpoint (stack_written), and a read of a slot not written since marks
 * it read in that checkpoint and up its chain of ancestors (verifier.c).
 * Scalars are compared only where some continuation's safety depended on
 * their value (precise, learnt by backtracking the path's history, see
 * precision.c); an imprecise scalar of the old state admits any scalar.
 */
#ifndef COMB_VERIFIER_STATE_H
#define COMB_VERIFIER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "comb/isa.h"
#include "verifier/bounds.h"

enum vreg_type {
	VT_NOT_INIT,
	VT_SCALAR,
	VT_CTX,
	VT_STACK,      /* frame = frameno */
	VT_MAP_PTR,    /* map = map index */
	VT_MAP_VALUE,  /* map = map index, size = value_size */
	VT_MAP_KEY,    /* callback argument: size = key_size */
	VT_PKT,
	VT_PKT_META,
	VT_PKT_END,
	VT_MEM,        /* size bytes (ring buffer record, helper memory) */
	VT_FUNC,       /* a subprogram address (callback) */
	VT_SOCKET,     /* kernel objects comb cannot look into */
	VT_BTF_ID,
	VT_CONST_DYNPTR, /* the read-only dynptr a bpf_user_ringbuf_drain callback gets; id */
	VT__COUNT
};

struct vreg {
	uint8_t type;       /* enum vreg_type */
	bool maybe_null;
	uint8_t frameno;    /* VT_STACK: the frame it points into */
	uint8_t ind_loop;   /* widen.c: 1 + loop record whose head value this scalar follows, 0: none */
	int32_t off;        /* pointers: fixed offset */
	uint32_t id;        /* copies of one NULL-able or packet pointer share it */
	uint32_t ref_id;    /* acquired reference, 0 if none */
	int32_t range;      /* packet pointers: bytes readable from base + var */
	uint32_t map;       /* map index */
	uint32_t size;      /* memory size (map value, key, mem) */
	uint32_t src_helper;/* helper that produced a nullable pointer (messages) */
	uint32_t btf_id;    /* VT_BTF_ID: the struct's type id in the kernel BTF, 0 if unknown */
	bool precise;       /* scalars in a checkpoint: some continuation's safety depends on the value */
	/* widen.c: with ind_loop, this scalar = (location ind_loc & 0x7f of the
	 * loop's frame at its head) + ind_delta, modulo 2^64 (2^32 when bit 7
	 * of ind_loc is set: low halves only). Fits in padding. */
	uint8_t ind_loc;
	int16_t ind_delta;
	struct comb_scalar var;
};

enum { SLOT_INVALID = 0, SLOT_MISC, SLOT_ZERO, SLOT_SPILL, SLOT_DYNPTR };

/* Kinds of dynptr a SLOT_DYNPTR slot holds (its spill record's size, see dynptr.c). */
enum { VDYNPTR_LOCAL = 1, VDYNPTR_RINGBUF = 2 };

#define VSTACK_SLOTS (COMB_STACK_SIZE / 8)

struct vframe {
	struct vreg regs[COMB_REG_COUNT];
	uint8_t stype[COMB_STACK_SIZE]; /* byte i is at fp - COMB_STACK_SIZE + i */
	struct vreg spill[VSTACK_SLOTS];/* slot s covers bytes 8s..8s+7 */
	int32_t callsite;               /* insn of the call that made it, -1 for the entry */
	int32_t subprog;                /* index of its function */
	bool callback;                  /* a helper's callback: its exit ends the path */
	uint64_t stack_written;         /* bit s: slot s fully written since the last checkpoint */
};

#define VMAX_REFS 32
#define VMAX_LOOPS 8

/* One executed instruction of the path since its last checkpoint, for
 * precision backtracking (precision.c): the frame it ran in and what it did
 * to the stack or, for a conditional jump, which copies it refined. */
enum {
	VH_FILL = 1,         /* loaded a value that depends on stack slot (sframe, slot) */
	VH_STORE = 2,        /* stored into stack slot (sframe, slot) */
	VH_STORE_FULL = 4,   /* ... all 8 bytes of it */
	VH_LINKED = 8,       /* a jump that refined copies (links) of its operands */
	VH_LINKS_ALL = 16,   /* ... too many to list: any precise value may depend on it */
	VH_REFINED = 32,     /* a jump that refined its scalar operands */
	VH_UNKNOWN = 64,     /* what it did is not recorded: backtracking gives up */
};
#define VHIST_MAX_LINKS 6
#define VHIST_LIMIT 1024
struct vhist {
	uint32_t idx;
	uint8_t frame, flags, sframe, slot;
	/* VH_LINKED: up to 6 copies, 10 bits each: bit 9 slot, bits 6-8 frame, 0-5 reg/slot */
	uint64_t links;
	uint8_t nlinks;
};

struct vstate {
	int nframes;
	struct vframe *frames[COMB_MAX_FRAMES];
	uint32_t refs[VMAX_REFS];       /* acquired, not yet released */
	int nrefs;
	/* The bpf_spin_lock held (spin_lock.c): taken through a value of map
	 * lock_map whose pointer had id lock_id, at insn lock_insn. */
	bool lock_held;
	uint32_t lock_map, lock_id, lock_insn;
	/* A checkpoint whose every scalar counts as precise (backtracking gave up). */
	bool all_precise;
	/* Instructions run since the path's last checkpoint (precision.c);
	 * hist_lost: more than VHIST_LIMIT of them (not recorded). */
	struct vhist *hist;
	uint32_t nhist, cap_hist;
	bool hist_lost;
	/* widen.c (widening mode only): the loops this path is inside since it
	 * last passed their head, outermost first. */
	uint8_t nloops;
	struct vloop_active {
		uint32_t head;
		uint8_t frame, rec;
	} loops[VMAX_LOOPS];
};

struct vreg vreg_scalar(struct comb_scalar s);
struct vreg vreg_unknown(void);
struct vreg vreg_const(uint64_t v);
bool vreg_is_ptr(const struct vreg *r);
bool vreg_is_pkt(const struct vreg *r);

struct vstate *vstate_new_entry(void);
struct vstate *vstate_clone(const struct vstate *s);
void vstate_free(struct vstate *s);
static inline struct vframe *vstate_cur(struct vstate *s) { return s->frames[s->nframes - 1]; }

/* Stack byte helpers: fp-relative offset (-512..-1) to byte index. */
static inline int vstack_index(int32_t fp_off) { return fp_off + COMB_STACK_SIZE; }

/* Live registers per instruction (bit r set: r may be read before written
 * on some path from there): computed once per program, used by pruning. */
struct vlive {
	uint16_t *live_in;
	size_t count;
};

struct vframe *vstate_push_frame(struct vstate *s, int32_t callsite, int32_t subprog);
void vstate_pop_frame(struct vstate *s);

/* Does old cover cur at instruction idx? live gives the registers that
 * matter in the innermost frame; caller frames compare at their return site. */
bool vstate_covers(const struct vstate *old, const struct vstate *cur, const uint16_t *live_in,
		   size_t count, size_t idx);
/* Same; strict: stack bytes never written are not "any value" (see
 * COMB_VERIFY_STRICT); stack_read (NULL: every slot): per frame, the slots
 * that matter (read by old's continuations). Every scalar compared. */
bool vstate_covers_mode(const struct vstate *old, const struct vstate *cur, const uint16_t *live_in,
			size_t count, size_t idx, bool strict, const uint64_t *stack_read);
/* Same, but with precision: a scalar of old not marked precise (and old not
 * all_precise) admits any scalar (no continuation of old depends on it). */
bool vstate_covers_precise(const struct vstate *old, const struct vstate *cur, const uint16_t *live_in,
			   size_t count, size_t idx, bool strict, const uint64_t *stack_read);
/* Append instruction idx, run in frame frame, to the path's history; -1
 * when out of memory. Past VHIST_LIMIT entries (checkpoints no longer
 * added) the history is dropped and hist_lost set: backtracking gives up. */
int vstate_hist_push(struct vstate *s, size_t idx, int frame);

/* Every register (and spilled register) with id gets transformed by fn. */
void vstate_for_each_reg(struct vstate *s, void (*fn)(struct vreg *r, void *arg), void *arg);

#endif
