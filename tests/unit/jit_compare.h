/* tests/unit/jit_compare.h - run a program in the JIT and in the interpreter
 * and compare (the interpreter is the oracle).
 *
 * Shared by the JIT's rewrite tests (test_jit_peephole.c, test_jit_ifconv.c).
 * A program gets r1 = a 128-byte buffer filled with 0x5a; status, r0 and the
 * buffer must agree, and the JIT must have compiled the program. Programs
 * usually end with jit_put_dump(), which stores every register but r1 into
 * the buffer so that each final value is compared. Functions are static: each
 * test file gets its own copy and its own VM (created on first use).
 */
#ifndef COMB_TEST_JIT_COMPARE_H
#define COMB_TEST_JIT_COMPARE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "comb/comb.h"
#include "insn_build.h"
#include "vm/internal.h"

#define JIT_COMPARE_MEM_SIZE 128

/* Runs prog in the interpreter and in the JIT, each on its own buffer.
 * 0 when the program was compiled and both runs agree; 1 (with a message
 * on stderr) otherwise. */
static inline int jit_compare_runs(const struct comb_prog *prog)
{
	uint8_t mem[2][JIT_COMPARE_MEM_SIZE];
	uint64_t r0[2];
	int rc[2];
	for (int e = 0; e < 2; e++) {
		memset(mem[e], 0x5a, sizeof(mem[e]));
		struct comb_run_opts opts = { .sz = sizeof(opts), .engine = e ? COMB_ENGINE_JIT : COMB_ENGINE_INTERP,
					      .args = { (uintptr_t)mem[e] } };
		r0[e] = 0;
		rc[e] = comb_prog_run(prog, &opts, &r0[e]);
	}
	int bad = !prog->jit || rc[0] != rc[1] || r0[0] != r0[1] || memcmp(mem[0], mem[1], sizeof(mem[0]));
	if (bad)
		fprintf(stderr, "  %s: interp rc %d r0 %#llx, jit rc %d r0 %#llx\n",
			prog->jit ? "compiled" : "NOT compiled", rc[0], (unsigned long long)r0[0], rc[1],
			(unsigned long long)r0[1]);
	return bad;
}

/* Loads insns (with constant blinding when harden) and compares the two
 * engines (jit_compare_runs). When kept is not NULL the program is handed
 * to the caller (to inspect its code; the caller frees it), else freed.
 * -1 when the program does not load. */
static inline int jit_compare(const struct comb_insn *insns, size_t count, bool harden, struct comb_prog **kept)
{
	static struct comb_vm *vm;
	if (!vm && comb_vm_new(NULL, &vm))
		return -1;
	struct comb_prog_opts popts = { .sz = sizeof(popts), .jit_harden = harden };
	struct comb_prog *prog = NULL;
	char err[256];
	if (comb_prog_load(vm, insns, count, &popts, &prog, err, sizeof(err))) {
		fprintf(stderr, "  load: %s\n", err);
		return -1;
	}
	int bad = jit_compare_runs(prog);
	if (kept)
		*kept = prog;
	else
		comb_prog_free(prog);
	return bad;
}

/* Appends LDDW reg, value (two slots) at p[*n]. */
static inline void jit_put_lddw(struct comb_insn *p, size_t *n, int reg, uint64_t value)
{
	struct comb_insn pair[] = { LDDW(reg, value) };
	p[(*n)++] = pair[0];
	p[(*n)++] = pair[1];
}

/* Appends stores of r0 and r2-r9 at r1 + 8 * r (programs never write r1),
 * then exit: every register's final value lands in the compared buffer. */
static inline void jit_put_dump(struct comb_insn *p, size_t *n)
{
	for (int r = 0; r <= 9; r++)
		if (r != 1)
			p[(*n)++] = (struct comb_insn)STX_MEM(COMB_SIZE_DW, 1, r, (int16_t)(8 * r));
	p[(*n)++] = (struct comb_insn)EXIT();
}

#endif
