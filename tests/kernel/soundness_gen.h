/* tests/kernel/soundness_gen.h - random plausible programs for verifier soundness tests.
 *
 * sound_generate() builds a program out of blocks, each the kind of code a
 * verifier must reason about (a packet access after a bounds check, a map
 * lookup and its NULL test, a spill and fill, a bounded loop, a helper call
 * with a size in a register...). About one block in four carries a typical
 * mistake (an off-by-one bound, a missing NULL test, a signed comparison that
 * leaves negative values...), so the verifier sees both safe and unsafe code.
 * sound_check_runs() then runs a program comb accepted in the checked
 * interpreter on random packets and map contents: any fault (a memory access
 * outside the context, packet, maps or stack; a helper handed memory it may
 * not touch; a run that never ends) means the verifier accepted an unsafe
 * program. Shared by tests/kernel/verifier_soundness.c and
 * fuzz/fuzz_verifier_sound.c (which includes soundness_gen.c directly).
 */
#ifndef SOUNDNESS_GEN_H
#define SOUNDNESS_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "comb/comb.h"

/* The maps every generated program may use (index = LDDW imm). The array has
 * one entry, so its storage is exactly one value and an access past it
 * faults. Hash values sit next to each other in the hash map's storage, so
 * the checked lookup hands the program a copy in a one-entry array instead
 * (SOUND_MAP_SHADOW, never named by programs). */
enum { SOUND_MAP_ARRAY, SOUND_MAP_HASH, SOUND_MAP_COUNT, SOUND_MAP_SHADOW = SOUND_MAP_COUNT };
#define SOUND_ARRAY_KEY 4
#define SOUND_ARRAY_VALUE 64
#define SOUND_ARRAY_ENTRIES 1
#define SOUND_HASH_KEY 8
#define SOUND_HASH_VALUE 24
#define SOUND_HASH_ENTRIES 16

/* Random numbers: xorshift64*, or the bytes of a fuzzer input while they last. */
struct sound_rng {
	uint64_t state;
	const uint8_t *bytes;
	size_t len, pos;
};
void sound_rng_seed(struct sound_rng *r, uint64_t seed);
void sound_rng_from_bytes(struct sound_rng *r, const uint8_t *data, size_t len);
uint32_t sound_rng_next(struct sound_rng *r);
uint32_t sound_rng_below(struct sound_rng *r, uint32_t n);

/* Block kinds (bits of sound_prog.blocks / .bugs). */
enum {
	SOUND_B_PKT_CONST, SOUND_B_PKT_VAR, SOUND_B_PKT_WRITE, SOUND_B_LD_ABS, SOUND_B_MAP_LOOKUP,
	SOUND_B_MAP_VAR, SOUND_B_MAP_REUSE, SOUND_B_MAP_DIRECT, SOUND_B_MAP_UPDATE, SOUND_B_SPILL_PTR,
	SOUND_B_SPILL_SCALAR, SOUND_B_STACK_UNINIT, SOUND_B_STACK_VAR, SOUND_B_CTX, SOUND_B_CTX_PTR,
	SOUND_B_LOOP, SOUND_B_CALL_STACK, SOUND_B_CALL_RET, SOUND_B_PROBE_READ, SOUND_B_XDP_LOAD,
	SOUND_B_ADJUST_HEAD, SOUND_B_WRAP32, SOUND_B_LONG_LOOP, SOUND_B_COUNT
};
const char *sound_block_name(int block);

#define SOUND_MAX_INSNS 1024
struct sound_prog {
	uint32_t prog_type;      /* BPF_PROG_TYPE_XDP, _SCHED_CLS or _SOCKET_FILTER */
	struct comb_insn insns[SOUND_MAX_INSNS];
	size_t count;
	uint32_t blocks;         /* 1 << SOUND_B_* for every block used */
	uint32_t bugs;           /* blocks generated with a deliberate mistake */
};
void sound_generate(struct sound_rng *r, uint32_t prog_type, struct sound_prog *p);
void sound_print_prog(FILE *out, const struct sound_prog *p);

/* A VM with the generator's maps and helpers that check their memory
 * arguments against the run's regions (the built-in ones answer -EFAULT
 * quietly; a verifier bug must not go unnoticed). */
struct sound_env {
	struct comb_vm *vm;
	struct comb_map *maps[SOUND_MAP_COUNT + 1];
};
int sound_env_new(struct sound_env *env);
void sound_env_free(struct sound_env *env);

int sound_verify(struct sound_env *env, const struct sound_prog *p, int log_level, char *log,
		 size_t log_size, struct comb_verify_result *res);

struct sound_fault {
	int rc;              /* the run's error */
	long insn;
	char message[400];
	size_t packet_len;
	int run;             /* which run (0-based) */
};
/* Load p into comb and run it `runs` times in the checked engine, each on a
 * fresh random packet (14..1500 bytes) and fresh random map contents.
 * Returns 0 when no run faulted, 1 with *fault filled when one did, or a
 * negative errno when comb could not load the program (message in fault). */
int sound_check_runs(struct sound_env *env, const struct sound_prog *p, struct sound_rng *r,
		     int runs, struct sound_fault *fault);
/* Run once on the given packet (len >= 14) with the maps as they are. */
int sound_run_once(struct sound_env *env, const struct comb_prog *prog, uint32_t prog_type,
		   const uint8_t *pkt, size_t len, struct sound_fault *fault);
void sound_fill_maps(struct sound_env *env, struct sound_rng *r);
/* Load p, verify it (its native code is compiled again with the verifier's
 * facts: checks left out) and run it `runs` times in the JIT and in the
 * interpreter, each input (maps, packet, get_prandom_u32) the same for
 * both: 0 when they agree on the result, r0 and the packet, 1 with
 * fault->message when not, negative when it cannot be loaded or verified.
 * *facts: its instructions with some fact. */
int sound_check_facts(struct sound_env *env, const struct sound_prog *p, struct sound_rng *r, int runs,
		      struct sound_fault *fault, size_t *facts);

#endif
