/* src/verifier/internal.h - what the verifier's files share.
 *
 * verifier.c drives the exploration (worklist of pending branches, pruning
 * checkpoints, per-instruction dispatch and ALU/jump rules); check_mem.c
 * decides loads, stores and atomics per pointer kind; check_call.c checks
 * helper calls against their prototypes and bpf-to-bpf calls; messages.c
 * formats rejections and the log. All of them work on one struct venv.
 */
#ifndef COMB_VERIFIER_INTERNAL_H
#define COMB_VERIFIER_INTERNAL_H

#include <stdarg.h>
#include "comb/map.h"
#include "comb/verifier.h"
#include "verifier/state.h"

struct btf;

/* A pruning checkpoint (verifier.c): the state at an instruction, proven
 * safe once every path through it ended (branches == 0). */
struct vcheck {
	struct vcheck *parent;
	struct vcheck *next_here;  /* same instruction */
	struct vcheck *next_all;
	struct vstate *st;
	int branches;
	int hits, misses;          /* pruning successes and failures (eviction) */
	int nframes;
	/* Stack liveness, per frame: slots fully written between the parent
	 * and this checkpoint; slots some continuation reads first. */
	uint64_t written[COMB_MAX_FRAMES], read[COMB_MAX_FRAMES];
	/* The instructions run from the parent to here (precision.c); freed
	 * when the checkpoint is finished. */
	struct vhist *hist;
	uint32_t nhist;
	bool hist_lost;
};

struct venv {
	const struct comb_insn *insns;
	size_t count;
	uint32_t prog_type;
	bool strict;
	struct comb_map *const *maps;
	size_t map_count;
	/* Map-in-map: per map, its inner map template (type 0: none known). */
	const struct comb_map_info *inner_maps;
	int log_level;
	char *log_buf;
	size_t log_size, log_len;
	uint64_t max_insns;
	struct comb_verify_result *res;

	uint32_t next_id;
	/* Functions: sorted start indexes; depth in bytes of each one's stack. */
	size_t *sub_start;
	int32_t *sub_depth;
	size_t nsub;
	uint16_t *live_in;
	bool *prune_point;
	bool *loop_head;            /* target of a backward jump: always a checkpoint */
	struct vcheck **visited;    /* per insn: checkpoints proven or in progress */
	struct vcheck *cur_cp;      /* the current path's last checkpoint */
	struct vcheck *checkpoints; /* all of them, for freeing */
	size_t ncheckpoints;
	uint64_t last_checkpoint;   /* insns_processed when the last one was added */
	/* pending branches */
	struct vpending *pending;
	size_t npending, cap_pending;
	/* BTF-typed contexts and kernel objects (btf_ctx.c) */
	const struct btf *btf;      /* kernel BTF, NULL if none */
	bool own_btf;               /* loaded for this run: freed at the end */
	uint32_t attach_type;
	const char *attach_target;
	int ctx_nargs;
	bool ctx_typed;
	uint32_t ctx_arg_type[12];
	/* Per map: offset of its value's bpf_spin_lock (spin_lock.c), NULL until asked. */
	int64_t *lock_off;
	/* Facts for the engines (verifier.c): per instruction, ZEXT_* of a
	 * `wX = wX`; NULL when the caller wants none. */
	uint8_t *zext;
	/* Observations per instruction for the other facts (facts.c), NULL
	 * when the caller wants none; facts_off: the walk cannot back any. */
	uint8_t *obs;
	bool facts_off;
	/* Widening mode (widen.c), NULL in the ordinary walk. */
	struct widen *widen;
	bool paths_overflow;        /* the first walk stopped at 8192 pending branches */
};

/* venv.zext values: not reached yet, upper half zero on every visit so far
 * (the register was then marked precise, so pruning keeps it so), needed. */
enum { ZEXT_UNSEEN = 0, ZEXT_REDUNDANT = 1, ZEXT_NEEDED = 2 };

/* vreg.map of a map taken out of a map-in-map (VT_MAP_PTR) and of its
 * values: the outer map's index with this bit; the inner template gives
 * the sizes (env->inner_maps). */
#define VMAP_INNER (1u << 30)

struct vpending {
	struct vstate *st;
	size_t idx;
	struct vcheck *cp;
};

/* messages.c */
int verifier_reject(struct venv *env, const struct vstate *st, size_t idx, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void verifier_log(struct venv *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void verifier_log_state(struct venv *env, const struct vstate *st);
int verifier_reg_str(char *buf, size_t len, const struct venv *env, const struct vreg *r);
const char *verifier_type_name(uint8_t type);
/* "r3 is not initialized" style check for a register read; 0 or -EACCES. */
int verifier_check_reg_init(struct venv *env, const struct vstate *st, size_t idx, int regno);
/* What made a NULL-able pointer (for "test the result of X"). */
const char *verifier_null_source(const struct vreg *r);

/* check_mem.c */
int verifier_check_load(struct venv *env, struct vstate *st, size_t idx);
int verifier_check_store(struct venv *env, struct vstate *st, size_t idx);
int verifier_check_atomic(struct venv *env, struct vstate *st, size_t idx);
/* May size bytes at reg (+off) be accessed (through a helper argument)?
 * max_size may cover a variable size; init: bytes must have been written. */
int verifier_check_mem_region(struct venv *env, struct vstate *st, size_t idx, int regno,
			      uint64_t size, bool write, bool init, const char *what);
void verifier_stack_mark_written(struct venv *env, struct vstate *st, const struct vreg *ptr,
				 int64_t off, uint64_t size);

/* check_call.c */
int verifier_check_helper_call(struct venv *env, struct vstate *st, size_t idx);
int verifier_check_local_call(struct venv *env, struct vstate *st, size_t *idx);
/* Returns 1 when the exit ended a function and *idx is the return site, 0
 * when the program's exit was reached (the path is done), or an error. */
int verifier_check_exit(struct venv *env, struct vstate *st, size_t *idx);

/* btf_ctx.c */
bool verifier_is_btf_ctx(const struct venv *env);
int verifier_btf_open(struct venv *env, const char *path);
int verifier_btf_ctx_init(struct venv *env);
int verifier_btf_ctx_access(struct venv *env, struct vstate *st, size_t idx, int64_t off, int size,
			    bool write, struct vreg *out);
int verifier_btf_struct_access(struct venv *env, struct vstate *st, size_t idx, int regno,
			       const struct vreg *ptr, int64_t insn_off, int size, bool write, struct vreg *out);
uint32_t verifier_btf_struct_id(const struct venv *env, const char *name);
const char *verifier_btf_struct_name(const struct venv *env, uint32_t id);

/* spin_lock.c */
bool verifier_map_has_lock(struct venv *env, uint32_t index);
/* Program types that may not use a map holding a lock (socket filters, tracing). */
int verifier_lock_check_map_use(struct venv *env, const struct vstate *st, size_t idx, uint32_t index);
/* A load/store of bytes [lo, hi) of the value ptr points into must miss its lock. */
int verifier_lock_check_access(struct venv *env, const struct vstate *st, size_t idx,
			       const struct vreg *ptr, int64_t lo, int64_t hi);
/* After a helper call's arguments were checked: lock/unlock pairing, and no
 * other helper while a lock is held. */
int verifier_lock_helper(struct venv *env, struct vstate *st, size_t idx, uint32_t helper_id,
			 const char *name);
/* `what` (an exit, a legacy packet load) may not happen while a lock is held. */
int verifier_lock_check_exit(struct venv *env, const struct vstate *st, size_t idx, const char *what);

/* dynptr.c */
struct comb_helper_proto;
struct vdynptr_meta {
	int frameno, slot;        /* the stack dynptr argument, frameno -1 if none */
	uint32_t id, kind, ref_id;
	bool create, release;     /* this call makes it / submits or discards it */
};
int verifier_dynptr_arg(struct venv *env, struct vstate *st, size_t idx, int regno,
			const struct comb_helper_proto *p, uint8_t flags, struct vdynptr_meta *m);
int verifier_dynptr_after_call(struct venv *env, struct vstate *st, size_t idx,
			       const struct comb_helper_proto *p, const struct vdynptr_meta *m);
/* A write of stack bytes [lo, hi) of frame frameno: refused over a ring
 * buffer dynptr (or by a helper, or at a variable offset), else the local
 * dynptrs there die. */
int verifier_dynptr_stack_write(struct venv *env, struct vstate *st, size_t idx, int frameno,
				int64_t lo, int64_t hi, bool exact, bool by_helper);
/* Rejects with the leaked ring buffer dynptr's place, 0 if none leaked. */
int verifier_dynptr_leak_message(struct venv *env, const struct vstate *st, size_t idx);

/* precision.c: history of the path, and marking the values decisions use.
 * The mark functions take the state while an instruction is checked (its
 * inputs are named); propagate takes it at a pruning point. */
int verifier_hist_record(struct vstate *st, size_t idx);
/* The instruction being checked read (VH_FILL) or wrote (VH_STORE,
 * VH_STORE_FULL) stack slot `slot` of frame frameno. */
void verifier_hist_note_stack(struct vstate *st, int flags, int frameno, int slot);
/* The comparison being checked refines dst (and src, -1 if none) and their copies. */
void verifier_hist_note_refine(struct vstate *st, int dst, int src);
void verifier_mark_precise(struct venv *env, const struct vstate *st, int regno);
void verifier_mark_precise_slot(struct venv *env, const struct vstate *st, int frameno, int slot);
void verifier_propagate_precision(struct venv *env, const struct vstate *st, const struct vstate *old,
				  const uint64_t *stack_read);

/* widen.c: the second walk, with loop heads widened, of a program the
 * ordinary walk found too long (see the design note there). */
int verifier_widen_begin(struct venv *env);
void verifier_widen_end(struct venv *env);
/* Before instruction idx runs: the path leaves loops idx is not part of. */
void verifier_widen_step(struct venv *env, struct vstate *st, size_t idx);
/* At a loop head: 1 stop (covered), 0 go on with st (maybe widened), or an error. */
int verifier_widen_at_head(struct venv *env, struct vstate *st, size_t idx);
/* The pruning test of this mode: everything compared, counters' tags too. */
bool verifier_widen_covers(const struct venv *env, const struct vstate *old, const struct vstate *cur,
			   size_t idx);
/* dst = result of ALU instruction in on before (dst's old state) and src. */
void verifier_widen_alu(struct venv *env, const struct comb_insn *in, const struct vreg *before,
			const struct vreg *src, struct vreg *dst);
/* A constant the program compares with: a widening threshold. */
void verifier_widen_note_const(struct venv *env, uint64_t k);
/* After the walk: every loop that iterated has a counter that ends it, or a rejection (-E2BIG). */
int verifier_widen_finish(struct venv *env);

/* verifier.c */
struct btf;
/* The instructions that may run after insn i in its function (a call's
 * next is the instruction after it); returns how many (0-2). */
int verifier_insn_succs(const struct venv *env, size_t i, size_t next[2]);
/* Stack liveness: bytes [lo, hi) (fp-relative) of frame frameno were read
 * (any value there may matter) or written (slots wholly inside lose their
 * past: reads after this do not reach back). */
void verifier_stack_note_read(struct venv *env, const struct vstate *st, int frameno, int64_t lo, int64_t hi);
void verifier_stack_note_write(struct venv *env, struct vstate *st, int frameno, int64_t lo, int64_t hi);
/* comb_verify with a kernel BTF the caller keeps (NULL: loaded from
 * opts->target_btf_path when a tracing program needs it) and, for
 * map-in-maps, the inner map template of each of opts->maps (NULL: none). */
int verifier_run(const struct comb_insn *insns, size_t count, const struct comb_verify_opts *opts,
		 const struct btf *btf, const struct comb_map_info *inner_maps,
		 struct comb_verify_result *res);
/* Same, and on success *facts (when facts is not NULL) becomes a malloc'd
 * array of COMB_FACT_* bits per instruction (vm/internal.h), or NULL when
 * no instruction has one. */
int verifier_run_facts(const struct comb_insn *insns, size_t count, const struct comb_verify_opts *opts,
		       const struct btf *btf, const struct comb_map_info *inner_maps,
		       struct comb_verify_result *res, uint8_t **facts);
/* Give prog the facts of its successful verification (taking the array) and
 * recompile its native code with them (jit.c's comb_jit_apply_facts). */
void verifier_record_facts(struct comb_prog *prog, uint8_t *facts);
/* facts.c: observations made during the walk, and the facts they give. */
void verifier_facts_note_insn(struct venv *env, const struct vstate *st, size_t idx);
void verifier_facts_note_branch(struct venv *env, size_t idx, bool goes_on, size_t next, size_t from);
void verifier_facts_note_lookup(struct venv *env, const struct vstate *st, size_t idx, int map,
				const struct comb_map_info *info, const struct vreg *key);
uint8_t *verifier_collect_facts(const struct venv *env);
uint32_t verifier_new_id(struct venv *env);
int verifier_push_branch(struct venv *env, const struct vstate *st, size_t idx);
int verifier_subprog_of(const struct venv *env, size_t idx);
const struct comb_map *verifier_map(const struct venv *env, uint32_t index);
void verifier_release_ref(struct vstate *st, uint32_t ref_id);
void verifier_mark_null(struct vstate *st, uint32_t id, bool is_null);

#endif
