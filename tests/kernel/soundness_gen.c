/* tests/kernel/soundness_gen.c - the program generator and checked runner
 * behind the verifier soundness tests (see soundness_gen.h).
 *
 * A program is: a prologue (r6 = ctx; r7 = data, r8 = data_end for the
 * types that may read them), 2 to 7 blocks, `r0 = small; exit`, then the
 * subprograms the blocks call. Registers r0-r5 are scratch inside a block;
 * r6-r9 and the stack live across blocks (r9 may hold a map value that is
 * still to be NULL-tested). Each block jumps only forward to its own end
 * (or back to its own loop head), so every path reaches the exit.
 *
 * Scalars come from a few sources (get_prandom_u32, a map value, the packet
 * length, an uninitialized stack slot) and go through transforms whose
 * effect on the maximum value the generator tracks roughly, so a block can
 * add the bound check a correct program needs -- or, when it plays the
 * mistake, leave it out or get it wrong by one.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soundness_gen.h"
#include "vm/internal.h"

/* ---- random numbers ------------------------------------------------------ */

void sound_rng_seed(struct sound_rng *r, uint64_t seed)
{
	r->state = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
	if (!r->state)
		r->state = 1;
	r->bytes = NULL;
	r->len = r->pos = 0;
}

void sound_rng_from_bytes(struct sound_rng *r, const uint8_t *data, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ data[i]) * 1099511628211ull;
	sound_rng_seed(r, h);
	r->bytes = data;
	r->len = len;
}

uint32_t sound_rng_next(struct sound_rng *r)
{
	if (r->pos + 2 <= r->len) { /* two input bytes per decision keep inputs short */
		uint32_t v = (uint32_t)r->bytes[r->pos] | (uint32_t)r->bytes[r->pos + 1] << 8;
		r->pos += 2;
		return v * 0x9e3779b1u ^ v;
	}
	r->state ^= r->state >> 12;
	r->state ^= r->state << 25;
	r->state ^= r->state >> 27;
	return (uint32_t)((r->state * 0x2545f4914f6cdd1dull) >> 32);
}

uint32_t sound_rng_below(struct sound_rng *r, uint32_t n)
{
	return n ? sound_rng_next(r) % n : 0;
}

static bool chance(struct sound_rng *r, uint32_t percent)
{
	return sound_rng_below(r, 100) < percent;
}

/* ---- instruction building ------------------------------------------------ */

#define SKIP_MAX 32
struct gen {
	struct sound_rng *rng;
	struct sound_prog *p;
	bool overflow;
	bool has_pkt;            /* r7/r8 hold data/data_end */
	bool r9_map_value;       /* r9 = a map value, maybe NULL */
	size_t skips[SKIP_MAX];  /* forward jumps to the current block's end */
	int skip_count;
	/* Subprograms to emit after main: call site and kind. */
	struct { size_t site; int kind; int param; } subs[8];
	int sub_count;
};

static size_t emit(struct gen *g, uint8_t code, int dst, int src, int16_t off, int32_t imm)
{
	struct sound_prog *p = g->p;
	if (p->count >= SOUND_MAX_INSNS) {
		g->overflow = true;
		return SOUND_MAX_INSNS - 1;
	}
	p->insns[p->count] = (struct comb_insn){ .code = code, .dst = (uint8_t)dst, .src = (uint8_t)src,
						 .off = off, .imm = imm };
	return p->count++;
}

static uint8_t size_code(int bytes)
{
	switch (bytes) {
	case 1: return COMB_SIZE_B;
	case 2: return COMB_SIZE_H;
	case 4: return COMB_SIZE_W;
	default: return COMB_SIZE_DW;
	}
}

#define ALU64_K(g, op, d, k) emit(g, COMB_CLS_ALU64 | (op) | COMB_SRC_K, d, 0, 0, k)
#define ALU64_X(g, op, d, s) emit(g, COMB_CLS_ALU64 | (op) | COMB_SRC_X, d, s, 0, 0)
#define ALU32_K(g, op, d, k) emit(g, COMB_CLS_ALU | (op) | COMB_SRC_K, d, 0, 0, k)
#define MOV_K(g, d, k) ALU64_K(g, COMB_ALU_MOV, d, k)
#define MOV_X(g, d, s) ALU64_X(g, COMB_ALU_MOV, d, s)
#define LDX(g, sz, d, s, off) emit(g, COMB_CLS_LDX | COMB_MODE_MEM | size_code(sz), d, s, (int16_t)(off), 0)
#define STX(g, sz, d, s, off) emit(g, COMB_CLS_STX | COMB_MODE_MEM | size_code(sz), d, s, (int16_t)(off), 0)
#define ST_K(g, sz, d, off, k) emit(g, COMB_CLS_ST | COMB_MODE_MEM | size_code(sz), d, 0, (int16_t)(off), k)
#define CALL(g, id) emit(g, COMB_CLS_JMP | COMB_JMP_CALL, 0, 0, 0, id)
#define EXIT(g) emit(g, COMB_CLS_JMP | COMB_JMP_EXIT, 0, 0, 0, 0)

/* Conditional forward jump to the end of the current block. */
static void skip_if_k(struct gen *g, bool jmp32, uint8_t op, int reg, int32_t k)
{
	size_t at = emit(g, (jmp32 ? COMB_CLS_JMP32 : COMB_CLS_JMP) | op | COMB_SRC_K, reg, 0, 0, k);
	if (g->skip_count < SKIP_MAX)
		g->skips[g->skip_count++] = at;
	else
		g->p->insns[at].code = COMB_CLS_ALU64 | COMB_ALU_MOV | COMB_SRC_X; /* harmless r = r */
}

static void skip_if_x(struct gen *g, uint8_t op, int reg, int src)
{
	size_t at = emit(g, COMB_CLS_JMP | op | COMB_SRC_X, reg, src, 0, 0);
	if (g->skip_count < SKIP_MAX)
		g->skips[g->skip_count++] = at;
	else
		g->p->insns[at].code = COMB_CLS_ALU64 | COMB_ALU_MOV | COMB_SRC_X;
}

static void block_begin(struct gen *g)
{
	g->skip_count = 0;
}

static void block_end(struct gen *g)
{
	size_t here = g->p->count;
	for (int i = 0; i < g->skip_count; i++)
		g->p->insns[g->skips[i]].off = (int16_t)(here - g->skips[i] - 1);
	g->skip_count = 0;
}

static void load_map(struct gen *g, int reg, int map)
{
	emit(g, COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, reg, COMB_PSEUDO_MAP_FD, 0, map);
	emit(g, 0, 0, 0, 0, 0);
}

static void load_map_value(struct gen *g, int reg, int map, int32_t off)
{
	emit(g, COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, reg, COMB_PSEUDO_MAP_VALUE, 0, map);
	emit(g, 0, 0, 0, 0, off);
}

static int rand_size(struct gen *g)
{
	static const int sizes[] = { 1, 2, 4, 8 };
	return sizes[sound_rng_below(g->rng, 4)];
}

/* A constant offset for an access of size bytes into a region of len bytes:
 * in bounds, or (bug) just past it or just before it. */
static int access_offset(struct gen *g, int len, int size, bool bug)
{
	if (bug)
		return chance(g->rng, 80) ? len - size + 1 + (int)sound_rng_below(g->rng, 2) * (size - 1)
					  : -(int)sound_rng_below(g->rng, 8) - 1;
	int room = len - size;
	if (room < 0)
		return 0;
	int off = (int)sound_rng_below(g->rng, (uint32_t)room + 1);
	if (chance(g->rng, 30))
		off = room; /* the last byte, where off-by-one mistakes live */
	return off & ~(chance(g->rng, 70) ? size - 1 : 0);
}

/* ---- scalars --------------------------------------------------------------- */

#define UNBOUNDED UINT64_MAX

/* Emit code leaving a scalar in reg (r1..r5; may clobber r0-r5) and return
 * the largest unsigned value it may have, as far as the generator knows. */
static uint64_t scalar_source(struct gen *g, int reg)
{
	switch (sound_rng_below(g->rng, 6)) {
	case 0: case 1:
		CALL(g, BPF_FUNC_get_prandom_u32);
		MOV_X(g, reg, 0);
		return 0xffffffffu;
	case 2: /* 64 unknown bits */
		CALL(g, BPF_FUNC_get_prandom_u32);
		STX(g, 8, 10, 0, -504);
		CALL(g, BPF_FUNC_get_prandom_u32);
		LDX(g, 8, 1, 10, -504);
		ALU64_K(g, COMB_ALU_LSH, 1, 32);
		ALU64_X(g, COMB_ALU_OR, 0, 1);
		MOV_X(g, reg, 0);
		return UNBOUNDED;
	case 3: { /* a field of an array map value (key 0 always exists) */
		ST_K(g, 4, 10, -508, 0);
		MOV_X(g, 2, 10);
		ALU64_K(g, COMB_ALU_ADD, 2, -508);
		load_map(g, 1, SOUND_MAP_ARRAY);
		CALL(g, BPF_FUNC_map_lookup_elem);
		skip_if_k(g, false, COMB_JMP_JEQ, 0, 0);
		int size = rand_size(g);
		LDX(g, size, reg, 0, (int)sound_rng_below(g->rng, SOUND_ARRAY_VALUE / size) * size);
		return size == 8 ? UNBOUNDED : (1ull << (8 * size)) - 1;
	}
	case 4:
		if (g->has_pkt) {
			MOV_X(g, reg, 8);
			ALU64_X(g, COMB_ALU_SUB, reg, 7);
			return UNBOUNDED;
		}
		LDX(g, 4, reg, 6, offsetof(struct __sk_buff, len));
		return 0xffffffffu;
	default: /* a stack slot nobody may have written: unknown */
		LDX(g, 8, reg, 10, -8 * (1 + (int)sound_rng_below(g->rng, 60)));
		return UNBOUNDED;
	}
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* One transform of reg; returns the new maximum. */
static uint64_t scalar_transform(struct gen *g, int reg, uint64_t max)
{
	uint32_t c;
	switch (sound_rng_below(g->rng, 10)) {
	case 0: /* mask */
		c = (1u << sound_rng_below(g->rng, 9)) - 1;
		ALU64_K(g, COMB_ALU_AND, reg, (int32_t)c);
		return min_u64(max, c);
	case 1: /* 32-bit mask */
		c = (1u << sound_rng_below(g->rng, 9)) - 1;
		ALU32_K(g, COMB_ALU_AND, reg, (int32_t)c);
		return min_u64(max, c);
	case 2: /* shift right */
		c = 24 + sound_rng_below(g->rng, 40);
		ALU64_K(g, COMB_ALU_RSH, reg, (int32_t)c);
		return max >> c;
	case 3: /* unsigned guard */
		c = sound_rng_below(g->rng, 300);
		skip_if_k(g, false, chance(g->rng, 50) ? COMB_JMP_JGT : COMB_JMP_JGE, reg, (int32_t)c);
		return min_u64(max, c);
	case 4: /* signed guard: negative values pass unless the value was non-negative */
		c = sound_rng_below(g->rng, 300);
		skip_if_k(g, false, COMB_JMP_JSGT, reg, (int32_t)c);
		if (chance(g->rng, 60)) {
			skip_if_k(g, false, COMB_JMP_JSLT, reg, 0);
			return min_u64(max, c);
		}
		return max <= 0x7fffffffffffffffull ? min_u64(max, c) : UNBOUNDED;
	case 5: /* 32-bit guard: says nothing about the upper half */
		c = sound_rng_below(g->rng, 300);
		skip_if_k(g, true, COMB_JMP_JGT, reg, (int32_t)c);
		return max <= 0xffffffffu ? min_u64(max, c) : UNBOUNDED;
	case 6: /* 32-bit add: wraps */
		c = chance(g->rng, 50) ? sound_rng_below(g->rng, 16) : 0xfffffff0u + sound_rng_below(g->rng, 16);
		ALU32_K(g, COMB_ALU_ADD, reg, (int32_t)c);
		return max + c <= 0xffffffffu && max + c >= max ? max + c : 0xffffffffu;
	case 7: /* sign extension of the low half */
		ALU64_K(g, COMB_ALU_LSH, reg, 32);
		ALU64_K(g, COMB_ALU_ARSH, reg, 32);
		return max <= 0x7fffffffu ? max : UNBOUNDED;
	case 8: /* times two */
		ALU64_K(g, COMB_ALU_LSH, reg, 1);
		return max <= UNBOUNDED / 2 ? max * 2 : UNBOUNDED;
	default: /* unsigned modulo */
		c = 1 + sound_rng_below(g->rng, 64);
		ALU64_K(g, COMB_ALU_MOD, reg, (int32_t)c);
		return min_u64(max, c - 1);
	}
}

/* A scalar in reg that a correct program makes at most limit (bug: not
 * necessarily). Returns the maximum the generator believes. */
static uint64_t bounded_scalar(struct gen *g, int reg, uint64_t limit, bool bug)
{
	uint64_t max = scalar_source(g, reg);
	for (uint32_t n = sound_rng_below(g->rng, 3); n; n--)
		max = scalar_transform(g, reg, max);
	if (max <= limit || bug)
		return max;
	switch (sound_rng_below(g->rng, 3)) {
	case 0:
		skip_if_k(g, false, COMB_JMP_JGT, reg, (int32_t)limit);
		break;
	case 1:
		skip_if_k(g, false, COMB_JMP_JSGT, reg, (int32_t)limit);
		skip_if_k(g, false, COMB_JMP_JSLT, reg, 0);
		break;
	default: {
		uint32_t mask = 1;
		while (mask * 2 - 1 <= limit)
			mask *= 2;
		ALU64_K(g, COMB_ALU_AND, reg, (int32_t)(mask - 1));
		break;
	}
	}
	return limit;
}

/* ---- blocks ------------------------------------------------------------------ */

/* Packet access at a constant offset after `data + k <= data_end`. */
static void block_pkt_const(struct gen *g, bool bug, bool write)
{
	int size = rand_size(g), k = 1 + (int)sound_rng_below(g->rng, 64);
	if (k < size)
		k = size;
	MOV_X(g, 1, 7);
	ALU64_K(g, COMB_ALU_ADD, 1, k);
	int mistake = bug ? (int)sound_rng_below(g->rng, 3) : -1;
	if (mistake == 1) /* inverted test */
		skip_if_x(g, COMB_JMP_JLT, 1, 8);
	else
		switch (sound_rng_below(g->rng, 4)) {
		case 0: skip_if_x(g, COMB_JMP_JGT, 1, 8); break;
		case 1: skip_if_x(g, COMB_JMP_JLT, 8, 1); break;
		case 2: skip_if_x(g, COMB_JMP_JGE, 1, 8); break;
		default: skip_if_x(g, COMB_JMP_JLE, 8, 1); break;
		}
	int off = access_offset(g, k, size, mistake == 0);
	int base = 7;
	if (mistake == 2) { /* access through the wrong register: data_end */
		base = 8;
		off = 0;
	} else if (chance(g->rng, 30)) { /* through the end pointer, backwards */
		base = 1;
		off -= k;
	}
	if (write)
		ST_K(g, size, base, off, (int32_t)sound_rng_next(g->rng));
	else
		LDX(g, size, 0, base, off);
}

/* Packet access at a variable offset: data + x, then checked against data_end. */
static void block_pkt_var(struct gen *g, bool bug)
{
	int size = rand_size(g);
	bool nested = chance(g->rng, 40);
	int k = 8 + (int)sound_rng_below(g->rng, 56);
	uint64_t max = bounded_scalar(g, 2, nested ? (uint64_t)(k - size) : 0x3fff, bug && chance(g->rng, 50));
	if (nested) { /* prove data + k first, then x + size <= k */
		MOV_X(g, 1, 7);
		ALU64_K(g, COMB_ALU_ADD, 1, k);
		skip_if_x(g, COMB_JMP_JGT, 1, 8);
		MOV_X(g, 3, 7);
		ALU64_X(g, COMB_ALU_ADD, 3, 2);
		int off = bug && max <= (uint64_t)(k - size) ? k - size - (int)max + 1 : 0;
		LDX(g, size, 0, 3, off);
		return;
	}
	MOV_X(g, 3, 7);
	ALU64_X(g, COMB_ALU_ADD, 3, 2);
	MOV_X(g, 4, 3);
	ALU64_K(g, COMB_ALU_ADD, 4, size - (bug && chance(g->rng, 50) ? 1 : 0));
	skip_if_x(g, COMB_JMP_JGT, 4, 8);
	LDX(g, size, 0, 3, 0);
}

/* Legacy packet loads (checked at run time by the engine). */
static void block_ld_abs(struct gen *g, bool bug)
{
	int size = 1 << sound_rng_below(g->rng, 3);
	uint8_t sz = size_code(size);
	if (chance(g->rng, 50)) {
		emit(g, COMB_CLS_LD | COMB_MODE_ABS | sz, 0, 0, 0, (int32_t)sound_rng_below(g->rng, 1600));
	} else {
		bounded_scalar(g, 3, 0xffff, bug);
		emit(g, COMB_CLS_LD | COMB_MODE_IND | sz, 0, 3, 0, (int32_t)sound_rng_below(g->rng, 64));
	}
}

/* Map lookup with the key on the stack; keeps the value in r0 (and r9). */
static void map_lookup(struct gen *g, int map, bool bug_key, int *key_off)
{
	int koff = -8 * (1 + (int)sound_rng_below(g->rng, 8));
	if (map == SOUND_MAP_ARRAY)
		ST_K(g, 4, 10, koff, (int32_t)sound_rng_below(g->rng, SOUND_ARRAY_ENTRIES + 2));
	else
		ST_K(g, 8, 10, koff, (int32_t)sound_rng_below(g->rng, 10));
	MOV_X(g, 2, 10);
	int key_size = map == SOUND_MAP_ARRAY ? SOUND_ARRAY_KEY : SOUND_HASH_KEY;
	/* bug: a key pointer whose bytes are not all on the stack */
	ALU64_K(g, COMB_ALU_ADD, 2, bug_key ? -key_size + 1 + (int)sound_rng_below(g->rng, (uint32_t)key_size) : koff);
	load_map(g, 1, map);
	CALL(g, BPF_FUNC_map_lookup_elem);
	*key_off = koff;
}

static int map_value_size(int map)
{
	return map == SOUND_MAP_ARRAY ? SOUND_ARRAY_VALUE : SOUND_HASH_VALUE;
}

static void block_map_lookup(struct gen *g, bool bug)
{
	int map = (int)sound_rng_below(g->rng, SOUND_MAP_COUNT), koff;
	int mistake = bug ? (int)sound_rng_below(g->rng, 4) : -1;
	map_lookup(g, map, mistake == 0, &koff);
	if (chance(g->rng, 50)) {
		MOV_X(g, 9, 0);
		g->r9_map_value = true;
	}
	if (mistake != 1)
		skip_if_k(g, false, chance(g->rng, 80) ? COMB_JMP_JEQ : COMB_JMP_JLE, 0, 0);
	int size = rand_size(g), vs = map_value_size(map);
	int off = access_offset(g, vs, size, mistake == 2);
	switch (sound_rng_below(g->rng, 4)) {
	case 0:
		LDX(g, size, 1, 0, off);
		break;
	case 1:
		ST_K(g, size, 0, off, (int32_t)sound_rng_next(g->rng));
		break;
	case 2: /* store a pointer into the value (privileged: allowed) */
		STX(g, 8, 0, chance(g->rng, 50) ? 10 : 6, access_offset(g, vs, 8, mistake == 2));
		break;
	default:
		MOV_K(g, 1, 1);
		emit(g, COMB_CLS_STX | COMB_MODE_ATOMIC | (chance(g->rng, 50) ? COMB_SIZE_DW : COMB_SIZE_W), 0, 1,
		     (int16_t)access_offset(g, vs, 8, mistake == 2), COMB_ATOMIC_ADD);
		break;
	}
	if (mistake == 3) { /* the key slot read back as a pointer */
		LDX(g, 8, 1, 10, koff);
		LDX(g, 1, 1, 1, 0);
	}
}

/* Map value at a variable offset. */
static void block_map_var(struct gen *g, bool bug)
{
	int map = (int)sound_rng_below(g->rng, SOUND_MAP_COUNT), koff;
	int size = rand_size(g), vs = map_value_size(map);
	int c = (int)sound_rng_below(g->rng, (uint32_t)(vs - size + 1));
	bounded_scalar(g, 3, (uint64_t)(vs - size - c + (bug ? 1 : 0)), bug && chance(g->rng, 50));
	STX(g, 8, 10, 3, -496); /* survives the call as a spilled bounded scalar */
	map_lookup(g, map, false, &koff);
	skip_if_k(g, false, COMB_JMP_JEQ, 0, 0);
	LDX(g, 8, 3, 10, -496);
	ALU64_X(g, COMB_ALU_ADD, 0, 3);
	if (chance(g->rng, 50))
		LDX(g, size, 1, 0, c);
	else
		ST_K(g, size, 0, c, 7);
}

/* r9 from an earlier lookup, tested (or not) again. */
static void block_map_reuse(struct gen *g, bool bug)
{
	if (!g->r9_map_value && !bug)
		return;
	if (!bug)
		skip_if_k(g, false, COMB_JMP_JEQ, 9, 0);
	int size = rand_size(g);
	LDX(g, size, 0, 9, access_offset(g, SOUND_HASH_VALUE, size, false));
}

/* Direct value access of the array map (LDDW MAP_VALUE). */
static void block_map_direct(struct gen *g, bool bug)
{
	int size = rand_size(g);
	int first = (int)sound_rng_below(g->rng, SOUND_ARRAY_VALUE);
	load_map_value(g, 1, SOUND_MAP_ARRAY, first);
	int off = access_offset(g, SOUND_ARRAY_VALUE - first, size, bug);
	if (chance(g->rng, 50))
		LDX(g, size, 0, 1, off);
	else
		ST_K(g, size, 1, off, 3);
}

/* map_update_elem with key and value on the stack. */
static void block_map_update(struct gen *g, bool bug)
{
	int map = (int)sound_rng_below(g->rng, SOUND_MAP_COUNT);
	int vs = map_value_size(map);
	int voff = -vs - 8 * (int)sound_rng_below(g->rng, 8);
	if (bug) /* value runs past the frame */
		voff = -vs + 8 * (1 + (int)sound_rng_below(g->rng, 2));
	for (int i = 0; i < vs; i += 8)
		if (voff + i < 0)
			ST_K(g, 8, 10, voff + i, i);
	ST_K(g, 8, 10, -200, (int32_t)sound_rng_below(g->rng, 10));
	load_map(g, 1, map);
	MOV_X(g, 2, 10);
	ALU64_K(g, COMB_ALU_ADD, 2, -200);
	MOV_X(g, 3, 10);
	ALU64_K(g, COMB_ALU_ADD, 3, voff);
	MOV_K(g, 4, 0);
	CALL(g, BPF_FUNC_map_update_elem);
}

/* Spill a pointer, fill it back, use it. */
static void block_spill_ptr(struct gen *g, bool bug)
{
	int slot = -8 * (1 + (int)sound_rng_below(g->rng, 30));
	int which = g->has_pkt ? (int)sound_rng_below(g->rng, 3) : 0;
	int ptr = which == 0 ? 6 : which == 1 ? 7 : 10;
	STX(g, 8, 10, ptr, slot);
	int mistake = bug ? (int)sound_rng_below(g->rng, 3) : -1;
	if (mistake == 0) /* a byte of the spilled pointer overwritten */
		ST_K(g, 1, 10, slot + (int)sound_rng_below(g->rng, 8), 0x41);
	if (mistake == 1) /* half a pointer */
		LDX(g, 4, 2, 10, slot);
	else if (mistake == 2) /* the neighbouring slot */
		LDX(g, 8, 2, 10, slot - 8);
	else
		LDX(g, 8, 2, 10, slot);
	if (ptr == 6) {
		LDX(g, 4, 0, 2, g->p->prog_type == BPF_PROG_TYPE_XDP ? 0 : (int)offsetof(struct __sk_buff, len));
	} else if (ptr == 7) {
		MOV_X(g, 3, 2);
		ALU64_K(g, COMB_ALU_ADD, 3, 4);
		skip_if_x(g, COMB_JMP_JGT, 3, 8);
		LDX(g, 4, 0, 2, 0);
	} else {
		ST_K(g, 8, 2, -8 * (1 + (int)sound_rng_below(g->rng, 64)), 5);
	}
}

/* Spill a bounded scalar, fill it, use it as a stack offset. */
static void block_spill_scalar(struct gen *g, bool bug)
{
	int slot = -8 * (1 + (int)sound_rng_below(g->rng, 20));
	bounded_scalar(g, 2, 31, false);
	int mistake = bug ? (int)sound_rng_below(g->rng, 2) : -1;
	STX(g, mistake == 0 ? 4 : 8, 10, 2, slot); /* bug: a 4-byte spill leaves the upper half */
	if (mistake == 1)
		ST_K(g, 4, 10, slot + 4, -1);
	LDX(g, 8, 3, 10, slot);
	MOV_X(g, 4, 10);
	ALU64_K(g, COMB_ALU_ADD, 4, -300);
	ALU64_X(g, COMB_ALU_ADD, 4, 3);
	ST_K(g, 1, 4, 0, 9);
}

/* Read a slot perhaps never written, use it masked (or not). */
static void block_stack_uninit(struct gen *g, bool bug)
{
	LDX(g, rand_size(g), 2, 10, -8 * (1 + (int)sound_rng_below(g->rng, 64)));
	if (!bug)
		ALU64_K(g, COMB_ALU_AND, 2, 63);
	MOV_X(g, 3, 10);
	ALU64_K(g, COMB_ALU_ADD, 3, -128);
	ALU64_X(g, COMB_ALU_ADD, 3, 2);
	LDX(g, 1, 0, 3, 0);
}

/* Variable-offset stack write/read. */
static void block_stack_var(struct gen *g, bool bug)
{
	int size = rand_size(g);
	int base = -16 - 8 * (int)sound_rng_below(g->rng, 60);
	int room = -base - size; /* base + x + size <= 0 */
	uint64_t max = bounded_scalar(g, 2, (uint64_t)(room < 63 ? room : 63), bug && chance(g->rng, 50));
	if (bug && max <= 63)
		base = -(int)max - size + 1;
	MOV_X(g, 3, 10);
	ALU64_K(g, COMB_ALU_ADD, 3, base);
	ALU64_X(g, COMB_ALU_ADD, 3, 2);
	if (chance(g->rng, 60))
		ST_K(g, size, 3, 0, 1);
	else
		LDX(g, size, 0, 3, 0);
	if (chance(g->rng, 10)) /* constant stack out of range */
		ST_K(g, 8, 10, bug ? -520 : -512, 0);
}

static const uint16_t skb_fields[] = {
	offsetof(struct __sk_buff, len), offsetof(struct __sk_buff, mark),
	offsetof(struct __sk_buff, protocol), offsetof(struct __sk_buff, cb[0]),
	offsetof(struct __sk_buff, cb[4]), offsetof(struct __sk_buff, tc_classid),
	offsetof(struct __sk_buff, data), offsetof(struct __sk_buff, data_end),
	offsetof(struct __sk_buff, hash), offsetof(struct __sk_buff, tstamp),
	offsetof(struct __sk_buff, sk), offsetof(struct __sk_buff, gso_size),
	offsetof(struct __sk_buff, hwtstamp), sizeof(struct __sk_buff) - 4,
};

/* A context field: a real field or any offset, any size, read or write. */
static void block_ctx(struct gen *g, bool bug)
{
	bool xdp = g->p->prog_type == BPF_PROG_TYPE_XDP;
	uint32_t ctx_size = xdp ? sizeof(struct xdp_md) : sizeof(struct __sk_buff);
	int size = rand_size(g), off;
	if (!bug && chance(g->rng, 70))
		off = xdp ? 4 * (int)sound_rng_below(g->rng, 6)
			  : skb_fields[sound_rng_below(g->rng, sizeof(skb_fields) / sizeof(skb_fields[0]))];
	else
		off = (int)sound_rng_below(g->rng, ctx_size + 16) - 4;
	if (chance(g->rng, 30))
		ST_K(g, size, 6, off, 1);
	else if (chance(g->rng, 20))
		STX(g, size, 6, 7, off);
	else
		LDX(g, size, 0, 6, off);
}

/* Arithmetic on the context pointer before a load (the kernel refuses it). */
static void block_ctx_ptr(struct gen *g, bool bug)
{
	MOV_X(g, 2, 6);
	if (bug) {
		ALU64_K(g, COMB_ALU_ADD, 2, 4 * (int)sound_rng_below(g->rng, 8));
		LDX(g, 4, 0, 2, 0);
	} else {
		LDX(g, 4, 0, 2, 0);
		ALU64_X(g, COMB_ALU_SUB, 2, 6); /* pointer - pointer: a scalar */
		MOV_X(g, 0, 2);
	}
}

/* A bounded loop writing a stack buffer. */
static void block_loop(struct gen *g, bool bug)
{
	int n = 2 + (int)sound_rng_below(g->rng, 14), step = 1;
	int buf = -n - 8 * (int)sound_rng_below(g->rng, 8);
	int mistake = bug ? (int)sound_rng_below(g->rng, 3) : -1;
	if (mistake == 0) /* one iteration too many */
		buf = -n + 1;
	bool jmp32 = chance(g->rng, 30);
	MOV_K(g, 2, 0);
	size_t head = g->p->count;
	MOV_X(g, 3, 10);
	ALU64_K(g, COMB_ALU_ADD, 3, buf);
	ALU64_X(g, COMB_ALU_ADD, 3, 2);
	ST_K(g, 1, 3, 0, 0x55);
	if (mistake == 1) /* a step that jumps over the exit test's value */
		step = 2, n |= 1;
	ALU64_K(g, COMB_ALU_ADD, 2, step);
	uint8_t op = mistake == 1 ? COMB_JMP_JNE : COMB_JMP_JLT;
	if (mistake == 2) /* counter reset: never ends */
		MOV_K(g, 2, 0);
	size_t at = emit(g, (jmp32 ? COMB_CLS_JMP32 : COMB_CLS_JMP) | op | COMB_SRC_K, 2, 0, 0, n);
	g->p->insns[at].off = (int16_t)((long)head - (long)at - 1);
}

/* A loop too long to explore unrolled within the test's 200,000-instruction
 * budget (the verifier widens it): r2 counts from 0 to n (30,000-34,000)
 * and stores a byte at buf + (r2 >> 12), a buffer ending at fp. Mistakes:
 * a buffer one byte short, reached only by the last 4,096 or so iterations,
 * or a counter reset halfway (the loop never ends). */
static void block_long_loop(struct gen *g, bool bug)
{
	int n = 30000 + (int)sound_rng_below(g->rng, 4000);
	int size = ((n - 1) >> 12) + 1;
	int mistake = bug ? (int)sound_rng_below(g->rng, 2) : -1;
	int buf = mistake == 0 ? -size + 1 : -size;
	MOV_K(g, 2, 0);
	size_t head = g->p->count;
	MOV_X(g, 3, 2);
	ALU64_K(g, COMB_ALU_RSH, 3, 12);
	MOV_X(g, 4, 10);
	ALU64_K(g, COMB_ALU_ADD, 4, buf);
	ALU64_X(g, COMB_ALU_ADD, 4, 3);
	ST_K(g, 1, 4, 0, 0x55);
	ALU64_K(g, COMB_ALU_ADD, 2, 1);
	if (mistake == 1) {
		emit(g, COMB_CLS_JMP | COMB_JMP_JNE | COMB_SRC_K, 2, 0, 1, n / 2);
		MOV_K(g, 2, 0);
	}
	size_t at = emit(g, COMB_CLS_JMP | COMB_JMP_JLT | COMB_SRC_K, 2, 0, 0, n);
	g->p->insns[at].off = (int16_t)((long)head - (long)at - 1);
}

/* Call a subprogram with a pointer to the caller's stack. */
static void block_call_stack(struct gen *g, bool bug)
{
	if (g->sub_count >= 8)
		return;
	int buf = -16 - 8 * (int)sound_rng_below(g->rng, 4);
	MOV_X(g, 1, 10);
	ALU64_K(g, COMB_ALU_ADD, 1, buf);
	MOV_K(g, 2, (int32_t)sound_rng_next(g->rng));
	size_t site = emit(g, COMB_CLS_JMP | COMB_JMP_CALL, 0, COMB_CALL_LOCAL, 0, 0);
	/* the callee writes r1 + param: in the caller's frame, or (bug) past it */
	int param = bug ? -buf + 8 * (int)sound_rng_below(g->rng, 2) : 8 * (int)sound_rng_below(g->rng, 2);
	g->subs[g->sub_count].site = site;
	g->subs[g->sub_count].kind = 0;
	g->subs[g->sub_count++].param = param;
	LDX(g, 8, 0, 10, buf);
}

/* Call a subprogram that bounds its argument; index a map value with the result. */
static void block_call_ret(struct gen *g, bool bug)
{
	if (g->sub_count >= 8)
		return;
	int koff;
	scalar_source(g, 1);
	size_t site = emit(g, COMB_CLS_JMP | COMB_JMP_CALL, 0, COMB_CALL_LOCAL, 0, 0);
	int mask = bug ? 63 : 15; /* the caller assumes 15 */
	g->subs[g->sub_count].site = site;
	g->subs[g->sub_count].kind = 1;
	g->subs[g->sub_count++].param = mask;
	STX(g, 8, 10, 0, -488);
	map_lookup(g, SOUND_MAP_HASH, false, &koff);
	skip_if_k(g, false, COMB_JMP_JEQ, 0, 0);
	LDX(g, 8, 1, 10, -488);
	ALU64_X(g, COMB_ALU_ADD, 0, 1);
	LDX(g, 8, 2, 0, 0);
}

static void emit_subprograms(struct gen *g)
{
	for (int i = 0; i < g->sub_count; i++) {
		size_t start = g->p->count;
		g->p->insns[g->subs[i].site].imm = (int32_t)(start - g->subs[i].site - 1);
		if (g->subs[i].kind == 0) {
			STX(g, 8, 1, 2, g->subs[i].param);
			MOV_K(g, 0, 0);
		} else {
			MOV_X(g, 0, 1);
			ALU64_K(g, COMB_ALU_AND, 0, g->subs[i].param);
		}
		EXIT(g);
	}
}

/* bpf_probe_read_kernel(stack buffer, size in a register, src). */
static void block_probe_read(struct gen *g, bool bug)
{
	int len = 8 * (1 + (int)sound_rng_below(g->rng, 8));
	int dst = -len - 8 * (int)sound_rng_below(g->rng, 4);
	uint64_t max = bounded_scalar(g, 2, (uint64_t)len, bug && chance(g->rng, 50));
	if (bug && max < (uint64_t)len)
		dst = -(int)max + 1;
	MOV_X(g, 1, 10);
	ALU64_K(g, COMB_ALU_ADD, 1, dst);
	MOV_K(g, 3, 0);
	CALL(g, BPF_FUNC_probe_read_kernel);
}

/* bpf_xdp_load_bytes(ctx, off, buffer, len): buffer on the stack or in a map value. */
static void block_xdp_load(struct gen *g, bool bug)
{
	bool to_map = chance(g->rng, 40);
	int room = to_map ? SOUND_ARRAY_VALUE : 8 * (1 + (int)sound_rng_below(g->rng, 8));
	int koff;
	uint64_t max = bounded_scalar(g, 4, (uint64_t)room - 1, bug && chance(g->rng, 50));
	ALU64_K(g, COMB_ALU_ADD, 4, 1); /* len >= 1 */
	int dst = -room;
	if (bug && max < (uint64_t)room)
		dst = -(int)max;
	STX(g, 8, 10, 4, -480);
	if (to_map) {
		map_lookup(g, SOUND_MAP_ARRAY, false, &koff);
		skip_if_k(g, false, COMB_JMP_JEQ, 0, 0);
		MOV_X(g, 3, 0);
		if (bug)
			ALU64_K(g, COMB_ALU_ADD, 3, 1);
	} else {
		MOV_X(g, 3, 10);
		ALU64_K(g, COMB_ALU_ADD, 3, dst);
	}
	LDX(g, 8, 4, 10, -480);
	MOV_X(g, 1, 6);
	MOV_K(g, 2, (int32_t)sound_rng_below(g->rng, 40));
	CALL(g, BPF_FUNC_xdp_load_bytes);
}

/* bpf_xdp_adjust_head: packet pointers are stale afterwards. */
static void block_adjust_head(struct gen *g, bool bug)
{
	MOV_X(g, 1, 6);
	MOV_K(g, 2, (int32_t)sound_rng_below(g->rng, 32) - 16);
	CALL(g, BPF_FUNC_xdp_adjust_head);
	if (!bug) {
		LDX(g, 4, 7, 6, offsetof(struct xdp_md, data));
		LDX(g, 4, 8, 6, offsetof(struct xdp_md, data_end));
	}
	MOV_X(g, 1, 7);
	ALU64_K(g, COMB_ALU_ADD, 1, 2);
	skip_if_x(g, COMB_JMP_JGT, 1, 8);
	LDX(g, 2, 0, 7, 0);
}

/* 32-bit arithmetic that wraps, bounded in 64 bits before (bug) or after. */
static void block_wrap32(struct gen *g, bool bug)
{
	int koff;
	CALL(g, BPF_FUNC_get_prandom_u32);
	MOV_X(g, 3, 0);
	if (bug) {
		skip_if_k(g, false, COMB_JMP_JGT, 3, 15);
		ALU32_K(g, COMB_ALU_SUB, 3, 1 + (int)sound_rng_below(g->rng, 4)); /* 0 - 1 wraps to 0xffffffff */
	} else {
		ALU32_K(g, COMB_ALU_SUB, 3, 1 + (int)sound_rng_below(g->rng, 4));
		skip_if_k(g, chance(g->rng, 50), COMB_JMP_JGT, 3, 15);
	}
	STX(g, 8, 10, 3, -472);
	map_lookup(g, SOUND_MAP_ARRAY, false, &koff);
	skip_if_k(g, false, COMB_JMP_JEQ, 0, 0);
	LDX(g, 8, 3, 10, -472);
	ALU64_X(g, COMB_ALU_ADD, 0, 3);
	LDX(g, 8, 1, 0, 0);
}

static bool block_allowed(const struct gen *g, int b)
{
	bool xdp = g->p->prog_type == BPF_PROG_TYPE_XDP;
	switch (b) {
	case SOUND_B_PKT_CONST: case SOUND_B_PKT_VAR: case SOUND_B_PKT_WRITE:
		return g->has_pkt;
	case SOUND_B_LD_ABS:
		return !xdp;
	case SOUND_B_XDP_LOAD: case SOUND_B_ADJUST_HEAD:
		return xdp;
	}
	return true;
}

static void gen_block(struct gen *g, int b, bool bug)
{
	switch (b) {
	case SOUND_B_PKT_CONST: block_pkt_const(g, bug, false); break;
	case SOUND_B_PKT_VAR: block_pkt_var(g, bug); break;
	case SOUND_B_PKT_WRITE: block_pkt_const(g, bug, true); break;
	case SOUND_B_LD_ABS: block_ld_abs(g, bug); break;
	case SOUND_B_MAP_LOOKUP: block_map_lookup(g, bug); break;
	case SOUND_B_MAP_VAR: block_map_var(g, bug); break;
	case SOUND_B_MAP_REUSE: block_map_reuse(g, bug); break;
	case SOUND_B_MAP_DIRECT: block_map_direct(g, bug); break;
	case SOUND_B_MAP_UPDATE: block_map_update(g, bug); break;
	case SOUND_B_SPILL_PTR: block_spill_ptr(g, bug); break;
	case SOUND_B_SPILL_SCALAR: block_spill_scalar(g, bug); break;
	case SOUND_B_STACK_UNINIT: block_stack_uninit(g, bug); break;
	case SOUND_B_STACK_VAR: block_stack_var(g, bug); break;
	case SOUND_B_CTX: block_ctx(g, bug); break;
	case SOUND_B_CTX_PTR: block_ctx_ptr(g, bug); break;
	case SOUND_B_LOOP: block_loop(g, bug); break;
	case SOUND_B_CALL_STACK: block_call_stack(g, bug); break;
	case SOUND_B_CALL_RET: block_call_ret(g, bug); break;
	case SOUND_B_PROBE_READ: block_probe_read(g, bug); break;
	case SOUND_B_XDP_LOAD: block_xdp_load(g, bug); break;
	case SOUND_B_ADJUST_HEAD: block_adjust_head(g, bug); break;
	case SOUND_B_WRAP32: block_wrap32(g, bug); break;
	case SOUND_B_LONG_LOOP: block_long_loop(g, bug); break;
	}
}

void sound_generate(struct sound_rng *r, uint32_t prog_type, struct sound_prog *p)
{
	p->count = 0;
	p->blocks = p->bugs = 0;
	p->prog_type = prog_type;
	struct gen g = { .rng = r, .p = p, .has_pkt = prog_type != BPF_PROG_TYPE_SOCKET_FILTER };
	MOV_X(&g, 6, 1);
	if (g.has_pkt) {
		bool xdp = prog_type == BPF_PROG_TYPE_XDP;
		LDX(&g, 4, 7, 6, xdp ? offsetof(struct xdp_md, data) : offsetof(struct __sk_buff, data));
		LDX(&g, 4, 8, 6, xdp ? offsetof(struct xdp_md, data_end) : offsetof(struct __sk_buff, data_end));
	}
	int blocks = 2 + (int)sound_rng_below(r, 6);
	bool bug_left = chance(r, 50); /* at most one mistake per program, half of them */
	for (int i = 0; i < blocks; i++) {
		int b;
		do
			b = (int)sound_rng_below(r, SOUND_B_COUNT);
		while (!block_allowed(&g, b));
		if (b == SOUND_B_LONG_LOOP && !chance(r, 3))
			b = SOUND_B_LOOP; /* rare: the kernel spends its whole budget on each */
		bool bug = bug_left && chance(r, 100 / (blocks - i));
		bug_left &= !bug;
		block_begin(&g);
		gen_block(&g, b, bug);
		block_end(&g);
		p->blocks |= 1u << b;
		if (bug)
			p->bugs |= 1u << b;
	}
	MOV_K(&g, 0, prog_type == BPF_PROG_TYPE_XDP ? 2 : (int32_t)sound_rng_below(r, 2));
	EXIT(&g);
	emit_subprograms(&g);
	if (g.overflow) { /* never with today's blocks; keep the program valid anyway */
		p->count = 0;
		MOV_K(&g, 0, 0);
		EXIT(&g);
	}
}

const char *sound_block_name(int block)
{
	static const char *const names[SOUND_B_COUNT] = {
		"pkt-const", "pkt-var", "pkt-write", "ld-abs", "map-lookup", "map-var", "map-reuse",
		"map-direct", "map-update", "spill-ptr", "spill-scalar", "stack-uninit", "stack-var", "ctx",
		"ctx-ptr", "loop", "call-stack", "call-ret", "probe-read", "xdp-load-bytes", "adjust-head",
		"wrap32", "long-loop",
	};
	return block >= 0 && block < SOUND_B_COUNT ? names[block] : "?";
}

void sound_print_prog(FILE *out, const struct sound_prog *p)
{
	char line[128];
	for (size_t i = 0; i < p->count;) {
		int n = comb_disasm_insn(p->insns, p->count, i, COMB_SYNTAX_LLVM, line, sizeof(line));
		fprintf(out, "    %3zu: %s\n", i, line);
		i += n > 0 ? (size_t)n : 1;
	}
}

/* ---- checked runs -------------------------------------------------------- */

/* Faults the helper wrappers saw during the current run (tests are
 * single-threaded). */
static struct {
	bool hit;
	char message[200];
} helper_fault;

static comb_helper_fn original[256];
static struct sound_env *current_env;

static void helper_check(const struct comb_call_ctx *cc, const char *what, uint64_t addr, uint64_t size,
			 bool write)
{
	if (helper_fault.hit || comb_call_check_mem(cc, (const void *)(uintptr_t)addr, size, write) == 0)
		return;
	helper_fault.hit = true;
	snprintf(helper_fault.message, sizeof(helper_fault.message), "%s: %s of %llu bytes at 0x%llx is outside the run's memory",
		 what, write ? "write" : "read", (unsigned long long)size, (unsigned long long)addr);
}

static int map_key_size(uint64_t r1)
{
	for (int i = 0; i < SOUND_MAP_COUNT; i++)
		if (current_env && (uint64_t)(uintptr_t)current_env->maps[i] == r1)
			return i == SOUND_MAP_ARRAY ? SOUND_ARRAY_KEY : SOUND_HASH_KEY;
	return -1;
}

static int map_value_size_of(uint64_t r1)
{
	return map_key_size(r1) == SOUND_ARRAY_KEY ? SOUND_ARRAY_VALUE : SOUND_HASH_VALUE;
}

static bool map_arg_ok(const char *what, uint64_t r1)
{
	if (map_key_size(r1) > 0)
		return true;
	if (!helper_fault.hit) {
		helper_fault.hit = true;
		snprintf(helper_fault.message, sizeof(helper_fault.message), "%s: r1 0x%llx is not a map", what,
			 (unsigned long long)r1);
	}
	return false;
}

static uint64_t wrap_map_lookup(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				struct comb_call_ctx *cc)
{
	if (!map_arg_ok("map_lookup_elem", r1))
		return 0;
	helper_check(cc, "map_lookup_elem key", r2, (uint64_t)map_key_size(r1), false);
	uint64_t value = original[BPF_FUNC_map_lookup_elem](r1, r2, r3, r4, r5, cc);
	if (!value || r1 != (uint64_t)(uintptr_t)current_env->maps[SOUND_MAP_HASH])
		return value;
	uint32_t zero = 0;
	uint8_t *shadow = comb_map_array_value(current_env->maps[SOUND_MAP_SHADOW], zero);
	memcpy(shadow, (const void *)(uintptr_t)value, SOUND_HASH_VALUE);
	return (uint64_t)(uintptr_t)shadow;
}

static uint64_t wrap_map_update(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				struct comb_call_ctx *cc)
{
	if (!map_arg_ok("map_update_elem", r1))
		return 0;
	helper_check(cc, "map_update_elem key", r2, (uint64_t)map_key_size(r1), false);
	helper_check(cc, "map_update_elem value", r3, (uint64_t)map_value_size_of(r1), false);
	return original[BPF_FUNC_map_update_elem](r1, r2, r3, r4, r5, cc);
}

static uint64_t wrap_probe_read_kernel(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	if (r2 > (1u << 29)) {
		helper_check(cc, "probe_read_kernel dst", r1, r2, true);
		return (uint64_t)-EFAULT;
	}
	if (r2)
		helper_check(cc, "probe_read_kernel dst", r1, r2, true);
	return original[BPF_FUNC_probe_read_kernel](r1, r2, r3, r4, r5, cc);
}

static uint64_t wrap_xdp_load_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				    struct comb_call_ctx *cc)
{
	helper_check(cc, "xdp_load_bytes buf", r3, r4, true);
	return original[BPF_FUNC_xdp_load_bytes](r1, r2, r3, r4, r5, cc);
}

/* Deterministic "random" numbers favouring the edges of ranges. */
static struct sound_rng prandom_rng;

static uint64_t wrap_prandom(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			     struct comb_call_ctx *cc)
{
	static const uint32_t edges[] = { 0, 1, 2, 15, 16, 63, 64, 255, 256, 0x7fff, 0xffff,
					  0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu };
	uint32_t pick = sound_rng_below(&prandom_rng, 3);
	if (pick == 0)
		return edges[sound_rng_below(&prandom_rng, sizeof(edges) / sizeof(edges[0]))];
	if (pick == 1)
		return sound_rng_below(&prandom_rng, 512);
	return sound_rng_next(&prandom_rng);
}

int sound_env_new(struct sound_env *env)
{
	memset(env, 0, sizeof(*env));
	int rc = comb_vm_new(NULL, &env->vm);
	if (rc)
		return rc;
	static const struct { uint32_t id; const char *name; comb_helper_fn fn; } wraps[] = {
		{ BPF_FUNC_map_lookup_elem, "map_lookup_elem", wrap_map_lookup },
		{ BPF_FUNC_map_update_elem, "map_update_elem", wrap_map_update },
		{ BPF_FUNC_probe_read_kernel, "probe_read_kernel", wrap_probe_read_kernel },
		{ BPF_FUNC_xdp_load_bytes, "xdp_load_bytes", wrap_xdp_load_bytes },
		{ BPF_FUNC_get_prandom_u32, "get_prandom_u32", wrap_prandom },
	};
	for (size_t i = 0; i < sizeof(wraps) / sizeof(wraps[0]); i++) {
		uint32_t id = wraps[i].id;
		if (id < env->vm->helper_capacity && env->vm->helpers[id].fn && !original[id])
			original[id] = env->vm->helpers[id].fn;
		if (!original[id] && id != BPF_FUNC_get_prandom_u32)
			continue;
		if ((rc = comb_vm_register_helper(env->vm, id, wraps[i].name, wraps[i].fn)))
			return rc;
	}
	sound_rng_seed(&prandom_rng, 42);
	static const struct comb_map_def defs[SOUND_MAP_COUNT + 1] = {
		{ sizeof(struct comb_map_def), "sound_array", COMB_MAP_ARRAY, SOUND_ARRAY_KEY, SOUND_ARRAY_VALUE,
		  SOUND_ARRAY_ENTRIES, 0, 0 },
		{ sizeof(struct comb_map_def), "sound_hash", COMB_MAP_HASH, SOUND_HASH_KEY, SOUND_HASH_VALUE,
		  SOUND_HASH_ENTRIES, 0, 0 },
		{ sizeof(struct comb_map_def), "sound_shadow", COMB_MAP_ARRAY, 4, SOUND_HASH_VALUE, 1, 0, 0 },
	};
	char err[256];
	for (int i = 0; i <= SOUND_MAP_COUNT; i++)
		if ((rc = comb_map_create(&defs[i], &env->maps[i], err, sizeof(err)))) {
			fprintf(stderr, "soundness: cannot create map %s: %s\n", defs[i].name, err);
			return rc;
		}
	current_env = env;
	return 0;
}

void sound_env_free(struct sound_env *env)
{
	for (int i = 0; i <= SOUND_MAP_COUNT; i++)
		comb_map_free(env->maps[i]);
	comb_vm_free(env->vm);
	if (current_env == env)
		current_env = NULL;
	memset(env, 0, sizeof(*env));
}

int sound_verify(struct sound_env *env, const struct sound_prog *p, int log_level, char *log,
		 size_t log_size, struct comb_verify_result *res)
{
	struct comb_verify_opts o = {
		.sz = sizeof(o), .prog_type = p->prog_type, .maps = env->maps, .map_count = SOUND_MAP_COUNT,
		.log_level = log_level, .log_buf = log, .log_size = log_size, .max_insns = 200000,
	};
	return comb_verify(p->insns, p->count, &o, res);
}

void sound_fill_maps(struct sound_env *env, struct sound_rng *r)
{
	uint8_t value[SOUND_ARRAY_VALUE];
	for (uint32_t k = 0; k < SOUND_ARRAY_ENTRIES; k++) {
		for (size_t i = 0; i < sizeof(value); i++)
			value[i] = (uint8_t)sound_rng_next(r);
		comb_map_update(env->maps[SOUND_MAP_ARRAY], &k, value, COMB_ANY);
	}
	for (uint64_t k = 0; k < 10; k++) {
		for (size_t i = 0; i < SOUND_HASH_VALUE; i++)
			value[i] = (uint8_t)sound_rng_next(r);
		if (chance(r, 60))
			comb_map_update(env->maps[SOUND_MAP_HASH], &k, value, COMB_ANY);
		else
			comb_map_delete(env->maps[SOUND_MAP_HASH], &k);
	}
}

static bool run_failed(int rc, const struct comb_run_error *e)
{
	/* A test run that refused the packet (too short for its EtherType) is no fault. */
	return rc && !(rc == -EINVAL && e->insn < 0);
}

int sound_run_once(struct sound_env *env, const struct comb_prog *prog, uint32_t prog_type,
		   const uint8_t *pkt, size_t len, struct sound_fault *fault)
{
	helper_fault.hit = false;
	current_env = env;
	struct comb_run_error err = { .insn = -1 };
	int rc;
	if (prog_type == BPF_PROG_TYPE_XDP) {
		struct comb_xdp_opts xo = { .sz = sizeof(xo), .engine = COMB_ENGINE_CHECKED };
		struct comb_xdp *xdp;
		if ((rc = comb_xdp_new(prog, &xo, &xdp)))
			return rc;
		struct comb_xdp_result res;
		rc = comb_xdp_run(xdp, pkt, len, &res);
		err = res.error;
		comb_xdp_free(xdp);
	} else {
		static uint8_t out[4096];
		struct comb_test_run_opts o = { .sz = sizeof(o), .prog_type = prog_type,
						.engine = COMB_ENGINE_CHECKED, .data_in = pkt,
						.data_size_in = len, .data_out = out, .data_size_out = sizeof(out) };
		rc = comb_prog_test_run(prog, &o);
		err = o.error;
	}
	bool failed = run_failed(rc, &err);
	if (!failed && !helper_fault.hit)
		return 0;
	fault->rc = failed ? rc : -EFAULT;
	fault->insn = failed ? err.insn : -1;
	fault->packet_len = len;
	snprintf(fault->message, sizeof(fault->message), "%s", failed ? err.message : helper_fault.message);
	return 1;
}

static size_t random_packet(struct sound_rng *r, uint8_t *pkt)
{
	size_t len = chance(r, 60) ? 14 + sound_rng_below(r, 60) : 14 + sound_rng_below(r, 1500 - 14 + 1);
	for (size_t i = 0; i < len; i++)
		pkt[i] = (uint8_t)sound_rng_next(r);
	return len;
}

int sound_check_runs(struct sound_env *env, const struct sound_prog *p, struct sound_rng *r, int runs,
		     struct sound_fault *fault)
{
	struct comb_prog_opts po = { .sz = sizeof(po), .name = "sound", .prog_type = p->prog_type,
				     .maps = env->maps, .map_count = SOUND_MAP_COUNT + 1 };
	struct comb_prog *prog;
	memset(fault, 0, sizeof(*fault));
	int rc = comb_prog_load(env->vm, p->insns, p->count, &po, &prog, fault->message, sizeof(fault->message));
	if (rc)
		return rc;
	static uint8_t pkt[1500];
	int result = 0;
	for (int i = 0; i < runs && !result; i++) {
		sound_fill_maps(env, r);
		size_t len = random_packet(r, pkt);
		result = sound_run_once(env, prog, p->prog_type, pkt, len, fault);
		fault->run = i;
	}
	comb_prog_free(prog);
	return result;
}

/* ---- facts: the JIT with the verifier's facts against the interpreter ---- */

struct engine_result {
	int rc;
	uint64_t retval;
	size_t len;
	uint8_t out[4096];
};

static void run_engine(const struct comb_prog *prog, uint32_t prog_type, enum comb_engine engine,
		       const uint8_t *pkt, size_t len, struct engine_result *res)
{
	memset(res, 0, sizeof(*res));
	if (prog_type == BPF_PROG_TYPE_XDP) {
		struct comb_xdp_opts xo = { .sz = sizeof(xo), .engine = engine };
		struct comb_xdp *xdp;
		if ((res->rc = comb_xdp_new(prog, &xo, &xdp)))
			return;
		struct comb_xdp_result xr;
		res->rc = comb_xdp_run(xdp, pkt, len, &xr);
		res->retval = xr.retval;
		res->len = xr.len <= sizeof(res->out) ? xr.len : 0;
		if (res->rc == 0 && xr.data)
			memcpy(res->out, xr.data, res->len);
		comb_xdp_free(xdp);
		return;
	}
	struct comb_test_run_opts o = { .sz = sizeof(o), .prog_type = prog_type, .engine = engine,
					.data_in = pkt, .data_size_in = len, .data_out = res->out,
					.data_size_out = sizeof(res->out) };
	res->rc = comb_prog_test_run(prog, &o);
	res->retval = o.retval;
	res->len = o.data_size_out <= sizeof(res->out) ? o.data_size_out : 0;
}

/* One input (maps, packet, get_prandom_u32's sequence) replayed for both engines. */
static void run_replayed(struct sound_env *env, const struct comb_prog *prog, uint32_t prog_type,
			 enum comb_engine engine, const struct sound_rng *input, struct engine_result *res)
{
	static uint8_t pkt[1500];
	struct sound_rng r = *input;
	sound_fill_maps(env, &r);
	size_t len = random_packet(&r, pkt);
	prandom_rng = r;
	current_env = env;
	run_engine(prog, prog_type, engine, pkt, len, res);
}

int sound_check_facts(struct sound_env *env, const struct sound_prog *p, struct sound_rng *r, int runs,
		      struct sound_fault *fault, size_t *facts)
{
	struct comb_prog_opts po = { .sz = sizeof(po), .name = "sound", .prog_type = p->prog_type,
				     .maps = env->maps, .map_count = SOUND_MAP_COUNT + 1 };
	struct comb_prog *prog;
	memset(fault, 0, sizeof(*fault));
	*facts = 0;
	int rc = comb_prog_load(env->vm, p->insns, p->count, &po, &prog, fault->message, sizeof(fault->message));
	if (rc)
		return rc;
	struct comb_verify_result vr;
	if ((rc = comb_prog_verify(prog, NULL, &vr)) || !prog->jit) {
		comb_prog_free(prog);
		return rc;
	}
	for (size_t i = 0; prog->facts && i < prog->count; i++)
		*facts += prog->facts[i] != 0;
	static struct engine_result jit, interp;
	struct sound_rng saved_prandom = prandom_rng;
	int result = 0;
	for (int i = 0; i < runs && !result; i++) {
		struct sound_rng input = *r;
		sound_rng_next(r);
		run_replayed(env, prog, p->prog_type, COMB_ENGINE_JIT, &input, &jit);
		run_replayed(env, prog, p->prog_type, COMB_ENGINE_INTERP, &input, &interp);
		if (jit.rc != interp.rc || jit.retval != interp.retval || jit.len != interp.len ||
		    memcmp(jit.out, interp.out, jit.len) != 0) {
			fault->run = i;
			snprintf(fault->message, sizeof(fault->message),
				 "JIT with facts: rc %d r0 %#llx len %zu; interpreter: rc %d r0 %#llx len %zu",
				 jit.rc, (unsigned long long)jit.retval, jit.len, interp.rc,
				 (unsigned long long)interp.retval, interp.len);
			result = 1;
		}
	}
	prandom_rng = saved_prandom;
	comb_prog_free(prog);
	return result;
}
