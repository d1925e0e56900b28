/* tests/unit/test_verify_default.c - verification before running, and the
 * engine COMB_ENGINE_DEFAULT picks.
 *
 * A program loaded with comb_prog_load is unverified: DEFAULT runs it in the
 * checked engine (an access outside the stack and the registered regions
 * faults). comb_prog_verify marks a safe program verified, after which
 * DEFAULT runs it in the JIT; a rejected program stays unverified.
 * comb_object_load verifies every program unless comb_object_set_verify
 * turned that off, and a rejection names the object, program, instruction
 * and source line.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../test.h"
#include "comb/object.h"
#include "comb/verifier.h"
#include "comb/vm.h"
#include "insn_build.h"
#include "prog_objects.h"

/* r0 = *(u8 *)(r1 + 0): safe for a socket filter (skb->len's low byte). */
static const struct comb_insn read_ctx[] = {
	LDX_MEM(COMB_SIZE_B, 0, 1, 0), EXIT(),
};
/* r0 = r2: r2 is not initialized at entry, so the verifier rejects it. */
static const struct comb_insn read_r2[] = { MOV64_REG(0, 2), EXIT() };

static struct comb_prog *load(struct comb_vm *vm, const struct comb_insn *insns, size_t count)
{
	struct comb_prog_opts opts = { .sz = sizeof(opts), .name = "t", .prog_type = 1 };
	struct comb_prog *prog = NULL;
	char err[256];
	if (comb_prog_load(vm, insns, count, &opts, &prog, err, sizeof(err)))
		return NULL;
	return prog;
}

TEST(verify_default_engine_follows_verification)
{
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	struct comb_prog *prog = load(vm, read_ctx, ARRAY_SIZE(read_ctx));
	CHECK(prog);
	CHECK(!comb_prog_verified(prog));
	CHECK_EQ(comb_prog_default_engine(prog), COMB_ENGINE_CHECKED);
	/* Unverified + DEFAULT: the checked engine refuses a pointer it was not given. */
	uint8_t ctx[256] = { 0x2a };
	struct comb_run_opts opts = { .sz = sizeof(opts), .args = { (uint64_t)(uintptr_t)ctx } };
	struct comb_run_error error = { 0 };
	opts.error = &error;
	uint64_t r0 = 0;
	CHECK_EQ(comb_prog_run(prog, &opts, &r0), -EFAULT);
	CHECK_EQ(error.insn, 0);
	/* The embedder may still name the trusting interpreter. */
	opts.engine = COMB_ENGINE_INTERP;
	CHECK_EQ(comb_prog_run(prog, &opts, &r0), 0);
	CHECK_EQ(r0, 0x2a);
	/* Verified: DEFAULT is the JIT (x86-64), which trusts the pointer. */
	struct comb_verify_result res;
	CHECK_EQ(comb_prog_verify(prog, NULL, &res), 0);
	CHECK(res.ok);
	CHECK(comb_prog_verified(prog));
#if defined(__x86_64__)
	CHECK_EQ(comb_prog_default_engine(prog), COMB_ENGINE_JIT);
#else
	CHECK_EQ(comb_prog_default_engine(prog), COMB_ENGINE_INTERP);
#endif
	opts.engine = COMB_ENGINE_DEFAULT;
	r0 = 0;
	CHECK_EQ(comb_prog_run(prog, &opts, &r0), 0);
	CHECK_EQ(r0, 0x2a);
	comb_prog_free(prog);
	comb_vm_free(vm);
}

TEST(verify_rejected_program_stays_unverified)
{
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	struct comb_prog *prog = load(vm, read_r2, ARRAY_SIZE(read_r2));
	CHECK(prog);
	struct comb_verify_result res;
	CHECK_EQ(comb_prog_verify(prog, NULL, &res), -EACCES);
	CHECK(!res.ok);
	CHECK_EQ(res.error_insn, 0);
	CHECK(strstr(res.message, "r2") != NULL);
	CHECK(!comb_prog_verified(prog));
	CHECK_EQ(comb_prog_default_engine(prog), COMB_ENGINE_CHECKED);
	CHECK_EQ(comb_prog_verify(NULL, NULL, &res), -EINVAL);
	CHECK_EQ(comb_prog_verify(prog, NULL, NULL), -EINVAL);
	CHECK(!comb_prog_verified(NULL));
	CHECK_EQ(comb_prog_default_engine(NULL), COMB_ENGINE_CHECKED);
	comb_prog_free(prog);
	comb_vm_free(vm);
}

TEST(verify_object_load_rejects_unsafe_programs)
{
	struct comb_object *obj = prog_object_open("verify_unsafe.bpf.o");
	CHECK(obj);
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	char err[1024] = "";
	CHECK_EQ(comb_object_load(obj, vm, err, sizeof(err)), -EACCES);
	CHECK(strstr(err, "verify_unsafe.bpf.o: prog unsafe_") != NULL);
	CHECK(strstr(err, ": insn ") != NULL);
	CHECK(strstr(err, "verifier: verify_unsafe.bpf.c:") != NULL); /* the source line */
	CHECK(comb_object_prog(obj, 0) == NULL);             /* a failed load loads nothing */
	/* The opt-out: loaded unverified, so DEFAULT is the checked engine. */
	CHECK_EQ(comb_object_set_verify(obj, false), 0);
	CHECK_EQ(comb_object_load(obj, vm, err, sizeof(err)), 0);
	CHECK_EQ(comb_object_set_verify(obj, true), -EBUSY);
	CHECK(comb_object_prog_count(obj) > 0);
	for (size_t i = 0; i < comb_object_prog_count(obj); i++) {
		CHECK(!comb_prog_verified(comb_object_prog(obj, i)));
		CHECK_EQ(comb_prog_default_engine(comb_object_prog(obj, i)), COMB_ENGINE_CHECKED);
	}
	CHECK_EQ(comb_object_set_verify(NULL, true), -EINVAL);
	comb_object_close(obj);
	comb_vm_free(vm);
}

TEST(verify_object_load_marks_safe_programs)
{
	struct comb_object *obj = prog_object_open("verify_safe.bpf.o");
	CHECK(obj);
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	char err[1024] = "";
	int rc = comb_object_load(obj, vm, err, sizeof(err));
	if (rc)
		fprintf(stderr, "  load: %s\n", err);
	CHECK_EQ(rc, 0);
	int idx = comb_object_find_prog(obj, "safe_xdp_pass");
	CHECK(idx >= 0);
	const struct comb_prog *prog = comb_object_prog(obj, (size_t)idx);
	CHECK(comb_prog_verified(prog));
#if defined(__x86_64__)
	CHECK_EQ(comb_prog_default_engine(prog), COMB_ENGINE_JIT);
#endif
	comb_object_close(obj);
	comb_vm_free(vm);
}
