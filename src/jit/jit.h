/* src/jit/jit.h - the x86-64 JIT as the VM sees it.
 *
 * comb_jit_compile() turns a program's decoded instructions (the VM's generic
 * dinsn array, see vm/handlers.h) into native code at load time. The code
 * runs with the eBPF registers in hardware registers and the same stack
 * layout as the interpreter (COMB_STACK_SIZE bytes per frame, COMB_MAX_FRAMES
 * frames), so results match the interpreter's exactly. Programs the JIT does
 * not handle (legacy LD_ABS/LD_IND packet loads, or any machine but x86-64)
 * get -ENOTSUP and run in the interpreter instead.
 */
#ifndef COMB_JIT_JIT_H
#define COMB_JIT_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vm/internal.h"

struct comb_jit_code;

/* Compile prog (whose generic decoded form is code) into *out.
 * Returns 0, -ENOTSUP (use the interpreter) or -ENOMEM. */
int comb_jit_compile(const struct comb_prog *prog, const struct dinsn *code, struct comb_jit_code **out);
void comb_jit_free(struct comb_jit_code *jit);
/* The verifier proved facts (prog->facts, see vm/internal.h; the array is
 * taken, NULL: none) of prog: recompile its native code to use them. Once,
 * after verification; the old code is freed, so no run may be in progress.
 * Programs without native code drop the facts. */
void comb_jit_apply_facts(struct comb_prog *prog, uint8_t *facts);
/* Instructions of the native code that the facts left without code. */
size_t comb_jit_facts_dropped(const struct comb_jit_code *jit);

/* Run rs (prog = rs->prog, from instruction rs->start) in native code.
 * Same contract as the interpreter engines. */
int comb_jit_run(const struct comb_prog *prog, struct comb_run_state *rs, uint64_t *r0);

/* The native code, and the offset of each instruction's code in it (for
 * disassembly listings); count + 1 offsets, the last one the end. */
const uint8_t *comb_jit_code_bytes(const struct comb_jit_code *jit, size_t *size);
const uint32_t *comb_jit_insn_offsets(const struct comb_jit_code *jit);

/* jit_live.c: does every path from instruction j write eBPF register reg
 * before reading it? false when unsure. */
bool comb_jit_reg_dead_at(const struct dinsn *code, size_t count, size_t j, int reg);

/* W^X code memory (jit_mem.c): copy bytes into the shared code arena (or
 * pages of their own); returns the executable address, NULL when out of
 * memory. ref says where, for comb_jit_mem_free(). */
struct jit_chunk;
struct jit_mem_ref {
	struct jit_chunk *chunk; /* arena chunk, or NULL */
	size_t first_unit, units;
	uint8_t *own_pages;      /* pages of its own, or NULL */
	size_t mapped;
	size_t size;             /* bytes of code */
};
const uint8_t *comb_jit_mem_install(const uint8_t *bytes, size_t size, struct jit_mem_ref *ref);
/* The same in two steps, for writing the code in place: the writable view
 * of size bytes (NULL when out of memory), then, once the code is written,
 * its executable address (NULL: failed, call comb_jit_mem_free). */
uint8_t *comb_jit_mem_reserve(size_t size, struct jit_mem_ref *ref);
const uint8_t *comb_jit_mem_commit(struct jit_mem_ref *ref);
void comb_jit_mem_free(struct jit_mem_ref *ref);
/* Arena chunks mapped now (for tests). */
size_t comb_jit_mem_chunk_count(void);

/* Private to src/jit: what native code reaches through r12 during a run. */
struct jit_run {
	struct comb_run_state *rs;
	struct comb_call_ctx *call_ctx;   /* helpers' sixth argument */
	struct comb_run_state *root;      /* root->abort_rc: a callback failed */
	uint64_t saved_rsp;               /* native stack at entry, for error exits */
	uint64_t frame_limit;             /* r10 at or below this: no room for a call */
	int64_t err_insn;                 /* failing instruction, -1 when reported */
	uint64_t err_value;               /* callx: the helper id */
	uint64_t tail_target;             /* tail call: native code to jump to */
	uint64_t tail_r0;                 /* tail call run by the interpreter: its r0 */
};

struct comb_jit_code {
	const uint8_t *code; /* read-execute memory */
	size_t size;        /* bytes of code */
	struct jit_mem_ref mem;
	uint32_t *offsets;  /* count + 1: each instruction's code */
	size_t count;
	uint8_t *facts;     /* the verifier's facts compiled in (prog->facts), NULL if none */
	size_t dropped;     /* instructions the facts made no-ops (no code) */
};

/* Signature of the entry stub at the start of every program's code. */
typedef int (*jit_entry_fn)(struct jit_run *jr, const uint64_t *args, uint64_t stack_top,
			    const void *body, uint64_t *r0);

/* Called by native code for bpf_tail_call (jit_run.c) at instruction insn:
 * 0 = not taken, 1 = jump to jr->tail_target, 2 = ran in the interpreter,
 * return jr->tail_r0, negative = error (reported). saved: r5, r4, r3, r2,
 * r1, r0 as pushed. */
int64_t comb_jit_tail_call(struct jit_run *jr, uint64_t map, uint64_t index, const uint64_t *saved,
			   uint64_t insn);

#endif
