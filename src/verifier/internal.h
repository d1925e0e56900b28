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

struct vcheck; /* a pruning checkpoint (verifier.c) */
struct btf;

struct venv {
	const struct comb_insn *insns;
	size_t count;
	uint32_t prog_type;
	bool strict;
	struct comb_map *const *maps;
	size_t map_count;
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
};

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

/* verifier.c */
struct btf;
/* comb_verify with a kernel BTF the caller keeps (NULL: loaded from
 * opts->target_btf_path when a tracing program needs it). */
int verifier_run(const struct comb_insn *insns, size_t count, const struct comb_verify_opts *opts,
		 const struct btf *btf, struct comb_verify_result *res);
uint32_t verifier_new_id(struct venv *env);
int verifier_push_branch(struct venv *env, const struct vstate *st, size_t idx);
int verifier_subprog_of(const struct venv *env, size_t idx);
const struct comb_map *verifier_map(const struct venv *env, uint32_t index);
void verifier_release_ref(struct vstate *st, uint32_t ref_id);
void verifier_mark_null(struct vstate *st, uint32_t id, bool is_null);

#endif
