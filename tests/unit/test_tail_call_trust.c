/* tests/unit/test_tail_call_trust.c - a verified program runs unchecked
 * because it was proven safe; a tail call must not carry that trust over to
 * an unverified program an embedder put in the PROG_ARRAY. In the unchecked
 * engines (interpreter, JIT, DEFAULT) such a tail call ends the run with
 * -EPERM; the checked engine checks the target anyway and runs it; an
 * unverified program run unchecked by explicit choice may tail-call anything.
 */
#include <errno.h>
#include <string.h>
#include "comb/comb.h"
#include "../test.h"
#include "insn_build.h"

#define LDDW_MAP(d, idx) \
	INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, d, COMB_PSEUDO_MAP_IDX, 0, idx), INSN(0, 0, 0, 0, 0)

struct trust_fixture {
	struct comb_vm *vm;
	struct comb_map *jmp;
	struct comb_prog *caller, *target;
};

static int load(struct trust_fixture *f, const char *name, const struct comb_insn *insns, size_t count,
		bool verify, struct comb_prog **out)
{
	struct comb_map *maps[] = { f->jmp };
	struct comb_prog_opts popts = { .sz = sizeof(popts), .maps = maps, .map_count = 1, .name = name };
	char err[256];
	int rc = comb_prog_load(f->vm, insns, count, &popts, out, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "  load %s: %s\n", name, err);
		return rc;
	}
	if (!verify)
		return 0;
	struct comb_verify_result res;
	rc = comb_prog_verify(*out, NULL, &res);
	if (rc)
		fprintf(stderr, "  verify %s: %s\n", name, res.message);
	return rc;
}

/* caller: tail call to slot 0; falls through to r0 = 1. target: r0 = 2. */
static int fixture_init(struct trust_fixture *f, bool verify_caller, bool verify_target)
{
	memset(f, 0, sizeof(*f));
	struct comb_map_def def = { .sz = sizeof(def), .name = "jmp", .type = COMB_MAP_PROG_ARRAY,
				    .key_size = 4, .value_size = 4, .max_entries = 1 };
	char err[256];
	if (comb_vm_new(NULL, &f->vm) || comb_map_create(&def, &f->jmp, err, sizeof(err)))
		return -ENOMEM;
	static const struct comb_insn caller[] = {
		LDDW_MAP(2, 0), MOV64_IMM(3, 0), CALL_HELPER(12), MOV64_IMM(0, 1), EXIT(),
	};
	static const struct comb_insn target[] = { MOV64_IMM(0, 2), EXIT() };
	int rc = load(f, "caller", caller, ARRAY_SIZE(caller), verify_caller, &f->caller);
	if (!rc)
		rc = load(f, "target", target, ARRAY_SIZE(target), verify_target, &f->target);
	uint32_t key = 0;
	if (!rc)
		rc = comb_map_update(f->jmp, &key, &f->target, COMB_ANY);
	return rc;
}

static void fixture_fini(struct trust_fixture *f)
{
	comb_prog_free(f->caller);
	comb_prog_free(f->target);
	comb_map_free(f->jmp);
	comb_vm_free(f->vm);
}

static int run(struct trust_fixture *f, enum comb_engine engine, uint64_t *r0, struct comb_run_error *e)
{
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = engine, .error = e };
	*r0 = 0;
	return comb_prog_run(f->caller, &opts, r0);
}

static const enum comb_engine unchecked_engines[] = {
	COMB_ENGINE_DEFAULT, COMB_ENGINE_INTERP, COMB_ENGINE_JIT,
};

TEST(tail_call_from_verified_to_unverified_is_refused_unchecked)
{
	struct trust_fixture f;
	CHECK_EQ(fixture_init(&f, true, false), 0);
	for (size_t k = 0; k < ARRAY_SIZE(unchecked_engines); k++) {
		struct comb_run_error e = { 0 };
		uint64_t r0;
		CHECK_EQ(run(&f, unchecked_engines[k], &r0, &e), -EPERM);
		CHECK_EQ(e.insn, 3); /* the call, after the two-slot LDDW and the mov */
		CHECK_STR(e.message, "tail call from verified program caller to unverified program target: "
				     "verify it or run in the checked engine");
	}
	fixture_fini(&f);
}

TEST(tail_call_from_verified_to_unverified_runs_in_checked_engine)
{
	struct trust_fixture f;
	CHECK_EQ(fixture_init(&f, true, false), 0);
	uint64_t r0;
	CHECK_EQ(run(&f, COMB_ENGINE_CHECKED, &r0, NULL), 0);
	CHECK_EQ(r0, 2);
	fixture_fini(&f);
}

TEST(tail_call_between_verified_programs_is_allowed)
{
	struct trust_fixture f;
	CHECK_EQ(fixture_init(&f, true, true), 0);
	for (size_t k = 0; k < ARRAY_SIZE(unchecked_engines); k++) {
		uint64_t r0;
		CHECK_EQ(run(&f, unchecked_engines[k], &r0, NULL), 0);
		CHECK_EQ(r0, 2);
	}
	fixture_fini(&f);
}

TEST(tail_call_from_unverified_run_unchecked_by_choice_is_allowed)
{
	struct trust_fixture f;
	CHECK_EQ(fixture_init(&f, false, false), 0);
	for (size_t k = 1; k < ARRAY_SIZE(unchecked_engines); k++) { /* INTERP and JIT: explicit */
		uint64_t r0;
		CHECK_EQ(run(&f, unchecked_engines[k], &r0, NULL), 0);
		CHECK_EQ(r0, 2);
	}
	fixture_fini(&f);
}
