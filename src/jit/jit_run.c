/* src/jit/jit_run.c - running JIT code: the run's stack, the entry stub's
 * arguments, error messages, and bpf_tail_call.
 *
 * A run gets the same stack as an interpreter run (COMB_MAX_FRAMES frames of
 * COMB_STACK_SIZE bytes on the C stack) and a struct jit_run that native code
 * reaches through r12. Native code reports a failure as a negative errno plus
 * the failing instruction in jr.err_insn; the messages are written here, in
 * the same words as the interpreter's. A tail call asks
 * comb_jit_tail_call() for the target: its native code when it has some (the
 * jump reuses the caller's frame), else the interpreter runs it. A verified
 * program may not tail-call an unverified one (-EPERM).
 */
#include <errno.h>
#include <inttypes.h>
#include "jit/jit.h"
#include "comb/map.h"
#include "verifier/helper_protos.h"

static void report_error(struct comb_run_state *rs, const struct jit_run *jr, int rc)
{
	long insn = (long)jr->err_insn;
	if (insn < 0)
		return; /* reported where it happened (a callback, an interpreted tail call) */
	const struct comb_prog *prog = rs->prog;
	switch (rc) {
	case -ELOOP:
		comb_run_fail(rs, insn, 0, "call depth exceeds %d frames", COMB_MAX_FRAMES);
		break;
	case -ENOENT:
		comb_run_fail(rs, insn, 0, "callx to helper %" PRIu64 ", which this VM does not provide",
			      jr->err_value);
		break;
	case -ENOSYS:
		comb_run_fail(rs, insn, 0, "program calls helper %d (%s), which comb does not implement",
			      prog->insns[insn].imm, comb_helper_name((uint32_t)prog->insns[insn].imm));
		break;
	default:
		comb_run_fail(rs, insn, 0,
			      "this instruction's CO-RE relocation could not be resolved against the target "
			      "BTF, so it must not run (the field or type is missing there)");
		break;
	}
}

/* Native code has no function-type signature before it for clang's
 * -fsanitize=function to check (the check would read the page below it). */
#if defined(__clang__)
#define JIT_CALLS_NATIVE_CODE __attribute__((no_sanitize("function")))
#else
#define JIT_CALLS_NATIVE_CODE
#endif

JIT_CALLS_NATIVE_CODE
int comb_jit_run(const struct comb_prog *prog, struct comb_run_state *rs, uint64_t *r0)
{
	uint8_t stack[COMB_STACK_SIZE * COMB_MAX_FRAMES] __attribute__((aligned(16)));
	uint64_t regs[COMB_REG_COUNT] = { 0 };
	uint64_t top = (uint64_t)(uintptr_t)(stack + sizeof(stack));
	regs[10] = top;
	rs->regs = regs;
	rs->stack_top = top;
	struct jit_run jr = {
		.rs = rs,
		.call_ctx = &rs->call_ctx,
		.root = rs->root,
		.frame_limit = top - (uint64_t)COMB_STACK_SIZE * (COMB_MAX_FRAMES - 1),
		.err_insn = -1,
	};
	const struct comb_jit_code *jit = prog->jit;
	jit_entry_fn entry = (jit_entry_fn)(uintptr_t)jit->code;
	int rc = entry(&jr, rs->args, top, jit->code + jit->offsets[rs->start], r0);
	if (rc)
		report_error(rs, &jr, rc);
	return rc;
}

/* Run a tail-call target the JIT could not compile, in the interpreter. */
static int64_t tail_call_interpreted(struct jit_run *jr, const struct comb_prog *target, const uint64_t *saved)
{
	struct comb_run_state *rs = jr->rs;
	struct comb_run_state sub = {
		.prog = target,
		.opts = rs->opts,
		.args = { saved[4], saved[3], saved[2], saved[1], saved[0] },
		.parent = rs->parent,
		.root = rs->root,
		.nesting = rs->nesting,
	};
	sub.call_ctx = (struct comb_call_ctx){
		.vm = target->vm, .prog = target, .vm_user = target->vm->user,
		.run_user = rs->opts->user, .run = &sub,
	};
	uint64_t r0 = 0;
	int rc = comb_engine_interp(target, &sub, &r0, NULL);
	if (rc)
		return rc;
	jr->tail_r0 = r0;
	return 2;
}

int64_t comb_jit_tail_call(struct jit_run *jr, uint64_t map, uint64_t index, const uint64_t *saved,
			   uint64_t insn)
{
	struct comb_run_state *rs = jr->rs;
	const struct comb_prog *target = NULL;
	if (rs->root->tail_calls < COMB_MAX_TAIL_CALLS && map && (index >> 32) == 0)
		target = comb_map_prog_array_get((struct comb_map *)(uintptr_t)map, (uint32_t)index);
	if (!target)
		return 0;
	/* Native code runs unchecked; a verified program's proof does not
	 * cover an unverified target (as in the interpreter). */
	if (rs->prog->verified && !target->verified) {
		comb_run_fail(rs, (long)insn, 0,
			      "tail call from verified program %s to unverified program %s: verify it or run "
			      "in the checked engine",
			      rs->prog->name, target->name);
		return -EPERM;
	}
	rs->root->tail_calls++;
	rs->prog = target;
	rs->call_ctx.prog = target;
	if (!target->jit)
		return tail_call_interpreted(jr, target, saved);
	jr->tail_target = (uint64_t)(uintptr_t)(target->jit->code + target->jit->offsets[0]);
	return 1;
}
