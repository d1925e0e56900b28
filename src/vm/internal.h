/* src/vm/internal.h - what the VM's files share and nobody else sees.
 *
 * A loaded program keeps its original instructions, a decoded form (one
 * handler kind and pre-processed operands per slot, see handlers.h) and, for
 * each engine, the decoded form with the handler's address in place of the
 * kind: that array is what the threaded interpreter walks. Slot i of every
 * array is instruction i, so jump offsets carry over unchanged.
 */
#ifndef COMB_VM_INTERNAL_H
#define COMB_VM_INTERNAL_H

#include "comb/vm.h"
#include "vm/handlers.h"

/* One pre-decoded instruction slot. For an LDDW the second slot holds the
 * 64-bit value in imm64. */
struct dinsn {
	union {
		const void *op;   /* handler address (engine arrays) */
		uint64_t kind;    /* enum comb_handler_kind (generic array) */
		uint64_t imm64;   /* second slot of an LDDW */
	};
	uint8_t dst;
	uint8_t src;
	int16_t off;
	int32_t imm;
};

struct comb_jit_code;

enum engine_slot { ENGINE_SLOT_INTERP = 0, ENGINE_SLOT_CHECKED = 1, ENGINE_SLOT_COUNT };

struct helper_entry {
	comb_helper_fn fn;
	char *name;
};

struct comb_vm {
	void *user;
	struct helper_entry *helpers; /* indexed by id */
	uint32_t helper_capacity;
};

struct comb_prog {
	struct comb_vm *vm;
	char *name;
	struct comb_insn *insns;
	size_t count;
	struct dinsn *code[ENGINE_SLOT_COUNT];
	comb_helper_fn *helpers; /* snapshot of the VM's table at load, by id */
	uint32_t helper_count;
	uint32_t prog_type;
	struct comb_map **maps;  /* LDDW map references resolve here */
	size_t map_count;
	bool needs_cpu_slot;     /* runs claim a per-CPU map slot */
	struct comb_jit_code *jit; /* native code (src/jit), NULL if not compiled */
	bool jit_harden;         /* comb_prog_opts.jit_harden: blind JIT constants */
	bool verified;           /* proven safe (comb_prog_verify): DEFAULT runs it unchecked */
	/* Per instruction COMB_FACT_*, from a successful verification; NULL if
	 * none. Owned by the native code compiled with them (jit->facts), so
	 * only programs the JIT compiles keep facts (src/jit is their user). */
	uint8_t *facts;
};

/* Facts the verifier proved of an instruction on every path (prog->facts). */
/* COMB_FACT_ZEXT_REDUNDANT: `wX = wX`, or `rX <<= 32` followed by `rX >>=
 * 32`, with X's upper half already zero: a no-op (the pair is one only
 * when control reaches the second from the first alone). */
/* COMB_FACT_JUMP_ALWAYS / _NEVER: a conditional jump that jumped (fell
 * through) on every path: a jmp (nothing), no compare.
 * COMB_FACT_DEAD: reached by no path: needs no code.
 * COMB_FACT_DIV_NONZERO: a division or modulo by a register that is never
 * 0; COMB_FACT_DIV_NO_OVERFLOW: a signed one that is never INT_MIN / -1.
 * COMB_FACT_KEY_IN_BOUNDS: bpf_map_lookup_elem of an ARRAY map whose key
 * is below max_entries: the lookup cannot fail.
 * Soundness arguments: src/verifier/facts.c. */
enum {
	COMB_FACT_ZEXT_REDUNDANT = 1,
	COMB_FACT_JUMP_ALWAYS = 2,
	COMB_FACT_JUMP_NEVER = 4,
	COMB_FACT_DEAD = 8,
	COMB_FACT_DIV_NONZERO = 16,
	COMB_FACT_DIV_NO_OVERFLOW = 32,
	COMB_FACT_KEY_IN_BOUNDS = 64,
};

/* One activation of an engine: the program's run, or a callback a helper
 * runs for it (then parent is the activation that called the helper). */
struct comb_run_state {
	const struct comb_prog *prog;    /* changes on a tail call */
	const struct comb_run_opts *opts;
	struct comb_call_ctx call_ctx;
	const uint64_t *regs;    /* the live register file (for r10) */
	uint64_t stack_top;      /* one past the entry frame */
	bool checked;
	bool jit;                /* run in native code where the program has some */
	size_t start;            /* instruction index to start at */
	uint64_t args[5];        /* r1..r5 at start */
	struct comb_run_state *parent;
	struct comb_run_state *root;
	int nesting;             /* callbacks deep */
	uint64_t budget_left;    /* checked engine: shared by all activations */
	int abort_rc;            /* root: set when a callback failed; ends the run */
	int tail_calls;
};

/* A run prepared once and started many times: hooks that run one program
 * per event (the XDP runner) build the run state here once instead of on
 * every comb_prog_run(). Between starts the caller may change opts.args,
 * opts.error and the contents of opts.regions; pr must not move after
 * comb_run_prepare() (the state points into it). comb_run_start() does not
 * claim a per-CPU slot: when prog->needs_cpu_slot the caller holds one
 * (comb_percpu_slot_enter/leave, maps/internal.h) around one start or a
 * whole batch of them. Otherwise a start behaves as comb_prog_run(). */
struct comb_prepared_run {
	const struct comb_prog *prog;
	struct comb_run_opts opts;
	struct comb_run_state rs;
};
/* opts may be NULL; returns 0 or -EINVAL (as comb_prog_run would). */
int comb_run_prepare(struct comb_prepared_run *pr, const struct comb_prog *prog, const struct comb_run_opts *opts);
int comb_run_start(struct comb_prepared_run *pr, uint64_t *r0);
/* Will the next start run in the checked engine? (DEFAULT follows the
 * program's verified mark, which may change between starts.) */
static inline bool comb_run_is_checked(const struct comb_prepared_run *pr)
{
	return pr->opts.engine == COMB_ENGINE_CHECKED ||
	       (pr->opts.engine == COMB_ENGINE_DEFAULT && !pr->prog->verified);
}

/* bpf_tail_call's helper id: the interpreter handles it itself. */
#define COMB_HELPER_TAIL_CALL 12
/* Values of LDDW with pseudo source FUNC: tag | instruction index. */
#define COMB_CALLBACK_TAG 0xcb0cb00000000000ull
#define COMB_CALLBACK_INDEX_MASK 0xffffffffull
#define COMB_MAX_CALLBACK_NESTING 8
#define COMB_MAX_TAIL_CALLS 33

/* Decode validated instructions into kinds and operands (generic array). */
int comb_decode(const struct comb_prog *prog, struct dinsn *out, char *err, size_t err_len);

/* Rewrite common instruction pairs of orig into superinstructions in code
 * (a copy of orig; fast engine only, see fuse.c). */
void comb_fuse(struct dinsn *code, const struct dinsn *orig, size_t count);

/* Each engine: with prog == NULL, returns its handler table in *table.
 * Otherwise runs prog; returns 0 and r0, or a negative errno. */
typedef int (*engine_fn)(const struct comb_prog *prog, struct comb_run_state *rs, uint64_t *r0,
			 const void *const **table);
int comb_engine_interp(const struct comb_prog *prog, struct comb_run_state *rs, uint64_t *r0,
		       const void *const **table);
int comb_engine_checked(const struct comb_prog *prog, struct comb_run_state *rs, uint64_t *r0,
			const void *const **table);

/* Is map one of the maps the program was loaded with? */
bool comb_prog_has_map(const struct comb_prog *prog, const struct comb_map *map);

/* Checked-engine memory rule, shared with comb_call_check_mem(). */
bool comb_checked_mem_allowed(const struct comb_run_state *rs, uint64_t addr, uint64_t size, bool write);

/* Format an error for the run (if the caller asked for one). */
void comb_run_fail(struct comb_run_state *rs, long insn, uint64_t addr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
