/* comb/verifier.h - prove a program safe before it runs.
 *
 * comb_verify() explores every path of a program by abstract interpretation
 * (registers and stack slots carry types, scalar ranges and known bits) and
 * accepts it only if every memory access, helper call, pointer operation and
 * exit is safe on every path, every loop ends within the exploration budget
 * and every acquired reference (ring buffer reservation) is released.
 *
 * By default the rules are those the kernel applies to a privileged loader
 * (root): pointers may be stored in maps and returned, and reading stack
 * bytes never written yields an unknown value. COMB_VERIFY_STRICT adds the
 * kernel's rules for loaders without CAP_PERFMON: stack bytes must be written
 * before they are read and no pointer may leak into a map, a helper argument
 * or the return value.
 */
#ifndef COMB_VERIFIER_H
#define COMB_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "isa.h"

#ifdef __cplusplus
extern "C" {
#endif

struct comb_map;

enum {
	COMB_VERIFY_STRICT = 1 << 0, /* initialized stack reads only, no pointer leaks */
};

struct comb_verify_opts {
	size_t sz;            /* sizeof(struct comb_verify_opts) */
	uint32_t prog_type;   /* kernel BPF_PROG_TYPE_* number (0: socket_filter rules) */
	uint32_t flags;       /* COMB_VERIFY_* */
	/* Maps the program refers to (LDDW pseudo MAP_FD/MAP_IDX: imm indexes
	 * this array; MAP_VALUE/MAP_IDX_VALUE: the value of maps[imm] plus the
	 * second slot's imm), as in comb_prog_opts. */
	struct comb_map *const *maps;
	size_t map_count;
	/* Log: 0 none, 1 the error with the state that matters, 2 also a trace
	 * of every instruction explored with its register state. */
	int log_level;
	char *log_buf;        /* NUL-terminated; truncated to log_size - 1 */
	size_t log_size;
	/* Exploration budget (0: 1,000,000 instructions, as the kernel). */
	uint64_t max_insns;
	/* Programs typed by BTF (tracing: fentry/fexit/fmod_ret/tp_btf/iter,
	 * lsm): the kernel BPF_* attach type and the target's name ("vfs_read",
	 * "sched_switch"; a section name "fentry/vfs_read" is accepted too).
	 * Their context is the target's arguments, typed by target_btf_path
	 * (NULL: /sys/kernel/btf/vmlinux). Without a target such a program's
	 * context is an array of unknown 64-bit arguments. */
	uint32_t expected_attach_type;
	const char *attach_target;
	const char *target_btf_path;
};

struct comb_verify_result {
	bool ok;
	uint64_t insns_processed;  /* instructions explored, as the kernel counts them (for a
				    * program verified with its loops widened, after the
				    * unrolled walk ran out of budget: the widened walk's) */
	long error_insn;           /* index of the offending instruction, -1 if none */
	/* "insn 12: r2 = *(u32 *)(r0 + 0x0): r0 may be NULL here: test the result of
	 * bpf_map_lookup_elem before using it" */
	char message[512];
};

/* Verify insns (count slots). Returns 0 when the program is proven safe,
 * -EACCES when it is rejected (res says where and why), -E2BIG when the
 * exploration budget ran out, -EINVAL for bad arguments or a malformed
 * program, -ENOMEM. res may not be NULL. */
int comb_verify(const struct comb_insn *insns, size_t count, const struct comb_verify_opts *opts,
		struct comb_verify_result *res);

struct comb_prog;
/* Verify a loaded program: its instructions, maps and program type (the
 * options' maps are ignored; a non-zero opts->prog_type overrides the
 * program's). opts may be NULL. Same return values as comb_verify. */
int comb_verify_prog(const struct comb_prog *prog, const struct comb_verify_opts *opts,
		     struct comb_verify_result *res);

/* comb_verify_prog, and when the program is proven safe mark it verified:
 * COMB_ENGINE_DEFAULT then runs it in the JIT (the interpreter where the JIT
 * has no code for it) instead of the checked interpreter, and the JIT
 * recompiles it without the work the proof made unnecessary (zero-extensions
 * of values known to fit in 32 bits). Call it before the program's first run,
 * never while it runs; comb_object_load does for every program it loads. */
int comb_prog_verify(struct comb_prog *prog, const struct comb_verify_opts *opts,
		     struct comb_verify_result *res);

struct comb_object;
/* Verify program index of a loaded object: as comb_verify_prog, with the
 * program's attach type and target taken from its section (fentry/NAME...)
 * unless opts sets them, and, when the object has BTF line_info, the source
 * line of the offending instruction in the message ("file.c:42: insn 12:
 * ..."; the source text goes to the log). A program proven safe is marked
 * verified, as comb_prog_verify does. */
int comb_verify_object_prog(const struct comb_object *obj, size_t index,
			    const struct comb_verify_opts *opts, struct comb_verify_result *res);

#ifdef __cplusplus
}
#endif
#endif
