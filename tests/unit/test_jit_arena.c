/* tests/unit/test_jit_arena.c - the JIT's shared code arena (src/jit/jit_mem.c).
 *
 * Small programs share executable chunks instead of an mmap each: many of
 * them fit in one chunk and all run right; freed code is reused; the
 * executable view is never writable; after a fork neither process writes
 * into chunks that existed before it (a parent's program still runs after
 * its child compiled and freed a hundred programs).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../test.h"
#include "comb/comb.h"
#include "insn_build.h"
#include "vm/internal.h"
#include "jit/jit.h"

static struct comb_prog *arena_load(struct comb_vm *vm, int32_t value)
{
	/* r0 = value; r0 += 3; r0 *= 2; if r0 != 2 * (value + 3) goto +1; exit; r0 = 0; exit */
	struct comb_insn p[] = {
		MOV64_IMM(0, value),
		ALU64_IMM(COMB_ALU_ADD, 0, 3),
		ALU64_IMM(COMB_ALU_MUL, 0, 2),
		JMP_IMM(COMB_JMP_JNE, 0, 2 * (value + 3), 1),
		EXIT(),
		MOV64_IMM(0, 0),
		EXIT(),
	};
	struct comb_prog *prog = NULL;
	char err[256];
	if (comb_prog_load(vm, p, sizeof(p) / sizeof(p[0]), NULL, &prog, err, sizeof(err)))
		return NULL;
	return prog;
}

static uint64_t run_jit(const struct comb_prog *prog)
{
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = COMB_ENGINE_JIT };
	uint64_t r0 = ~0ull;
	if (comb_prog_run(prog, &opts, &r0))
		return ~0ull;
	return r0;
}

/* The permissions of the mapping that holds addr ("r-xs"), from /proc. */
static void perms_of(uintptr_t addr, char perms[8])
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	perms[0] = 0;
	while (maps && fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		char pr[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, pr) == 3 && addr >= lo && addr < hi)
			snprintf(perms, 8, "%s", pr);
	}
	if (maps)
		fclose(maps);
}

#define ARENA_PROGS 200

TEST(jit_arena_packs_small_programs_and_reuses_freed_code)
{
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	struct comb_prog *progs[ARENA_PROGS];
	size_t before = comb_jit_mem_chunk_count();
	for (int i = 0; i < ARENA_PROGS; i++) {
		progs[i] = arena_load(vm, i * 7);
		CHECK(progs[i] && progs[i]->jit);
	}
	/* 200 programs of ~100 bytes: at most one new chunk, not 200 mappings. */
	CHECK(comb_jit_mem_chunk_count() <= before + 1);
	for (int i = 0; i < ARENA_PROGS; i++)
		CHECK_EQ(run_jit(progs[i]), (uint64_t)(2 * (i * 7 + 3)));
	char perms[8];
	perms_of((uintptr_t)progs[0]->jit->code, perms);
	CHECK(strncmp(perms, "r-x", 3) == 0);
	const uint8_t *first = progs[0]->jit->code;
	for (int i = 0; i < ARENA_PROGS; i++)
		comb_prog_free(progs[i]);
	/* The freed space is used again, and the new code is the new program's. */
	struct comb_prog *again = arena_load(vm, 1000);
	CHECK(again && again->jit);
	CHECK(again->jit->code == first || comb_jit_mem_chunk_count() <= before + 1);
	CHECK_EQ(run_jit(again), 2006);
	comb_prog_free(again);
	CHECK(comb_jit_mem_chunk_count() <= before + 1);
	comb_vm_free(vm);
}

TEST(jit_arena_large_program_gets_pages_of_its_own)
{
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	size_t n = 20000; /* ~10 bytes each: beyond a quarter of a chunk */
	struct comb_insn *p = calloc(n, sizeof(*p));
	CHECK(p != NULL);
	p[0] = (struct comb_insn)MOV64_IMM(0, 0);
	for (size_t i = 1; i + 1 < n; i++)
		p[i] = (struct comb_insn)ALU64_IMM(COMB_ALU_ADD, 0, 100000);
	p[n - 1] = (struct comb_insn)EXIT();
	struct comb_prog *prog = NULL;
	CHECK_EQ(comb_prog_load(vm, p, n, NULL, &prog, NULL, 0), 0);
	CHECK(prog && prog->jit && prog->jit->mem.own_pages);
	CHECK_EQ(run_jit(prog), (uint64_t)(n - 2) * 100000);
	char perms[8];
	perms_of((uintptr_t)prog->jit->code, perms);
	CHECK_STR(perms, "r-xp");
	comb_prog_free(prog);
	free(p);
	comb_vm_free(vm);
}

TEST(jit_arena_fork_never_overwrites_the_other_process_code)
{
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	struct comb_prog *keep = arena_load(vm, 5);
	struct comb_prog *dropped = arena_load(vm, 6);
	CHECK(keep && dropped);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* The child frees one inherited program and compiles many: the
		 * parent's copy of both must be untouched. */
		comb_prog_free(dropped);
		int ok = 1;
		for (int i = 0; i < 100; i++) {
			struct comb_prog *p = arena_load(vm, 100 + i);
			ok &= p && run_jit(p) == (uint64_t)(2 * (103 + i));
			comb_prog_free(p);
		}
		ok &= run_jit(keep) == 16;
		_exit(ok ? 0 : 1);
	}
	CHECK(pid > 0);
	int status = -1;
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ(run_jit(keep), 16);
	CHECK_EQ(run_jit(dropped), 18);
	/* New code in the parent goes to a chunk made after the fork. */
	struct comb_prog *fresh = arena_load(vm, 7);
	CHECK(fresh && fresh->jit->mem.chunk && fresh->jit->mem.chunk != keep->jit->mem.chunk);
	CHECK_EQ(run_jit(fresh), 20);
	comb_prog_free(fresh);
	comb_prog_free(keep);
	comb_prog_free(dropped);
	comb_vm_free(vm);
}
