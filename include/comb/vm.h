/* comb/vm.h - load and run eBPF programs.
 *
 * A comb_vm holds what programs share: the helper table and the embedder's
 * user pointer. A comb_prog is a program decoded once at load time and then
 * immutable, so any number of threads may run it at once; each run has its
 * own registers and stack (COMB_STACK_SIZE bytes per frame, COMB_MAX_FRAMES
 * frames).
 *
 * Engines: COMB_ENGINE_INTERP is the fast threaded interpreter for programs
 * that are trusted or verified; it checks nothing a verified program cannot
 * violate. COMB_ENGINE_CHECKED runs unverified programs safely: every memory
 * access must fall inside the stack or a region the caller registered, and an
 * instruction budget bounds the run. A violation ends the run with an error
 * that names the instruction and the address.
 */
#ifndef COMB_VM_H
#define COMB_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "isa.h"

#ifdef __cplusplus
extern "C" {
#endif

struct comb_vm;
struct comb_prog;
struct comb_run_state;

/* What a helper learns about the call it serves (its sixth argument). */
struct comb_call_ctx {
	struct comb_vm *vm;
	const struct comb_prog *prog;
	void *vm_user;  /* comb_vm_opts.user */
	void *run_user; /* comb_run_opts.user */
	const struct comb_run_state *run; /* opaque; for comb_call_check_mem */
};

typedef uint64_t (*comb_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				   uint64_t r5, struct comb_call_ctx *cc);

struct comb_vm_opts {
	size_t sz;  /* sizeof(struct comb_vm_opts) */
	void *user; /* handed to helpers as cc->vm_user */
};

/* Create a VM. opts may be NULL. Returns 0 or a negative errno. */
int comb_vm_new(const struct comb_vm_opts *opts, struct comb_vm **vm);
void comb_vm_free(struct comb_vm *vm);

/* Register (or replace) the helper with kernel-style id. name is copied and
 * used in messages. Programs loaded afterwards may call it; a program that
 * calls an id with no helper is rejected at load. Returns 0 or -EINVAL. */
int comb_vm_register_helper(struct comb_vm *vm, uint32_t id, const char *name, comb_helper_fn fn);
/* The name registered for id, or NULL. */
const char *comb_vm_helper_name(const struct comb_vm *vm, uint32_t id);

struct comb_map;

struct comb_prog_opts {
	size_t sz;        /* sizeof(struct comb_prog_opts) */
	const char *name; /* used in messages; copied */
	uint32_t prog_type; /* kernel BPF_PROG_TYPE_* number; 0 when unknown */
	/* Maps the program refers to: LDDW with pseudo source MAP_FD or MAP_IDX
	 * (imm = index here) loads maps[imm]; MAP_VALUE or MAP_IDX_VALUE loads
	 * the address of the first value of an array map plus the second slot's
	 * imm. The maps must outlive the program. */
	struct comb_map *const *maps;
	size_t map_count;
	/* Constant blinding in JIT code (the kernel's bpf_jit_harden): every
	 * immediate becomes an XOR-ed pair with a random key, so no constant
	 * of the program appears in the native code. Costs run-time speed. */
	bool jit_harden;
};

/* Validate and decode a program. err receives "insn N: ..." on failure.
 * Returns 0 or a negative errno (-EINVAL for a malformed program, -ENOENT for
 * a call to a helper the VM does not have, -ENOMEM). */
int comb_prog_load(struct comb_vm *vm, const struct comb_insn *insns, size_t count,
		   const struct comb_prog_opts *opts, struct comb_prog **prog, char *err,
		   size_t err_len);
void comb_prog_free(struct comb_prog *prog);
size_t comb_prog_insn_count(const struct comb_prog *prog);
const struct comb_insn *comb_prog_insns(const struct comb_prog *prog);
const char *comb_prog_name(const struct comb_prog *prog);

enum comb_engine {
	COMB_ENGINE_DEFAULT = 0, /* the fastest engine the program may use: JIT (x86-64)
				  * or INTERP for a verified program (comb_prog_verify),
				  * CHECKED for an unverified one */
	COMB_ENGINE_INTERP,      /* threaded interpreter, trusts the program */
	COMB_ENGINE_CHECKED,     /* checked interpreter for unverified programs */
	COMB_ENGINE_JIT,         /* x86-64 native code, trusts the program like INTERP;
				  * programs the JIT cannot compile (legacy LD_ABS/LD_IND,
				  * other machines) run in INTERP instead */
};
/* Has comb_prog_verify() proven the program safe? */
bool comb_prog_verified(const struct comb_prog *prog);
/* The engine COMB_ENGINE_DEFAULT runs prog in: COMB_ENGINE_JIT for a verified
 * program the JIT compiled, COMB_ENGINE_INTERP for another verified one,
 * COMB_ENGINE_CHECKED for an unverified one. */
enum comb_engine comb_prog_default_engine(const struct comb_prog *prog);
/* "interp", "checked", "jit"; NULL for an unknown value. */
const char *comb_engine_name(enum comb_engine engine);
/* Parse an engine name; returns 0 or -EINVAL. */
int comb_engine_parse(const char *name, enum comb_engine *engine);

/* A memory range a checked run may touch besides its stack. */
struct comb_region {
	uint64_t addr;
	uint64_t size;
	bool writable;
};

/* Why a run stopped early. insn is the index of the faulting instruction. */
struct comb_run_error {
	long insn;
	uint64_t addr;
	char message[256];
};

struct comb_run_opts {
	size_t sz;               /* sizeof(struct comb_run_opts) */
	enum comb_engine engine; /* DEFAULT: comb_prog_default_engine(prog) */
	uint64_t args[5];        /* r1..r5 at entry */
	void *user;              /* handed to helpers as cc->run_user */
	/* Packet seen by legacy LD_ABS/LD_IND loads (out of bounds ends the run
	 * with r0 = 0, as in the kernel). */
	const void *packet;
	size_t packet_len;
	/* Checked engine only. */
	const struct comb_region *regions;
	size_t region_count;
	uint64_t insn_budget;          /* 0: COMB_DEFAULT_INSN_BUDGET */
	struct comb_run_error *error;  /* filled when the run fails; may be NULL */
	/* The hook that built the context (e.g. the XDP runner's packet
	 * buffer); its helpers find it with comb_call_hook_data(). */
	void *hook_data;
};
#define COMB_DEFAULT_INSN_BUDGET 1000000000ull

/* Run a program. opts may be NULL (interpreter, all arguments zero).
 * Returns 0 with the program's r0 in *r0, or a negative errno: -EFAULT
 * (memory access outside the allowed regions), -E2BIG (instruction budget
 * used up), -ELOOP (call depth), -ENOENT (callx to a missing helper),
 * -EINVAL (bad options). */
int comb_prog_run(const struct comb_prog *prog, const struct comb_run_opts *opts, uint64_t *r0);

/* For helpers that take a callback (bpf_loop, for_each_map_elem, ...): run
 * the program's function fn (the value an LDDW with pseudo source FUNC
 * loaded) with r1..r5, in the caller's engine, and give its r0. A failure in
 * the callback (a memory fault in the checked engine, the budget) ends the
 * whole run with that error once the helper returns. Returns 0 or a negative
 * errno (-EINVAL for a value that is not a function of the program). */
int comb_call_callback(struct comb_call_ctx *cc, uint64_t fn, uint64_t r1, uint64_t r2, uint64_t r3,
		       uint64_t r4, uint64_t r5, uint64_t *r0);

/* For helpers: 0 if [ptr, ptr+size) may be accessed by the current run
 * (always 0 in the unchecked engine), -EFAULT otherwise. */
int comb_call_check_mem(const struct comb_call_ctx *cc, const void *ptr, uint64_t size, bool write);

/* For a hook's helpers: comb_run_opts.hook_data of the current run (NULL if
 * the run has none). */
void *comb_call_hook_data(const struct comb_call_ctx *cc);

/* The native code the JIT made for prog (what COMB_ENGINE_JIT runs), for
 * listings such as `comb disasm --jit`: the bytes, their size and, for each
 * instruction slot, the offset of its code (comb_prog_insn_count() + 1
 * offsets, the last one the end; an LDDW's second slot has no code of its
 * own). Code before the first instruction's offset is the entry stub and the
 * shared exits. Returns 0, or -ENOTSUP when prog runs in the interpreter. */
int comb_prog_jit_code(const struct comb_prog *prog, const uint8_t **code, size_t *size,
		       const uint32_t **insn_offsets);

#ifdef __cplusplus
}
#endif
#endif
