/* tests/kernel/real_verdicts.c - comb's verifier on real programs no one
 * here wrote: it must accept every program the kernel accepts.
 *
 * The corpus (tests/kernel/real_corpus.h) is every program of Debian's
 * xdp-tools/libxdp objects and of the CO-RE objects embedded in the
 * libbpf-tools binaries. Each program is loaded into the kernel on its own
 * (libbpf, CO-RE against this kernel) for the kernel's verdict, and verified
 * by comb (comb_verify_object_prog on comb's load of the same object, CO-RE
 * against the same BTF). A program the kernel accepts passes when comb
 * accepts it too, and fails otherwise (the line names it and gives comb's
 * message). Programs the kernel refuses (a missing attach target, an
 * alternative the tool picks at run time) are counted, not judged: the
 * kernel-verdicts suite checks rejections on purpose-written programs.
 * When bpf() is denied, nothing can be judged: the suite says so.
 *
 *   real-verdicts [-v] [FILE...]   (-v: a line for every program)
 *
 * Ends with "real-verdicts: N passed, N failed".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "comb/comb.h"
#include "real_corpus.h"

struct tally {
	bool verbose;
	int passed, failed;
	int programs, kernel_accepted, comb_accepted_of_those, kernel_refused, comb_accepts_refused;
};

static void judge(const struct real_prog *p, void *arg)
{
	struct tally *t = arg;
	struct comb_verify_result res = { 0 };
	int rc = -ENOENT;
	t->programs++;
	if (p->obj) {
		struct comb_verify_opts opts = { .sz = sizeof(opts) };
		rc = comb_verify_object_prog(p->obj, p->index, &opts, &res);
	}
	bool comb_ok = rc == 0;
	const char *comb_msg = p->obj ? res.message : p->comb_error;
	if (p->kernel == 1) {
		t->kernel_accepted++;
		if (comb_ok) {
			t->comb_accepted_of_those++;
			t->passed++;
		} else {
			t->failed++;
			printf("FAIL %s prog %s: the kernel accepts it (%ld insns), comb rejects it:\n  comb: %s\n",
			       p->image, p->name, p->kernel_insns, comb_msg);
			return;
		}
	} else if (p->kernel == 0) {
		t->kernel_refused++;
		t->comb_accepts_refused += comb_ok;
	}
	if (t->verbose)
		printf("%-4s %s prog %s: kernel %s, comb %s%s%s\n", "ok", p->image, p->name,
		       p->kernel == 1 ? "accepts" : p->kernel == 0 ? "refuses" : "not asked",
		       comb_ok ? "accepts" : "rejects", comb_ok ? "" : ": ", comb_ok ? "" : comb_msg);
	if (t->verbose && p->kernel == 0)
		printf("  kernel: %s\n", p->kernel_msg ? p->kernel_msg : "?");
}

int main(int argc, char **argv)
{
	struct tally t = { 0 };
	int a = 1;
	if (a < argc && strcmp(argv[a], "-v") == 0) {
		t.verbose = true;
		a++;
	}
	if (!real_corpus_kernel_ok()) {
		printf("real-verdicts: skipped (bpf() is not permitted here: %s); nothing to compare with\n",
		       strerror(errno));
		printf("real-verdicts: 0 passed, 0 failed\n");
		return 0;
	}
	int objects = real_corpus_walk(argv + a, (size_t)(argc - a), true, judge, &t);
	printf("%d objects, %d programs: the kernel accepts %d, comb accepts %d of them; "
	       "the kernel refuses %d (comb accepts %d of those)\n",
	       objects, t.programs, t.kernel_accepted, t.comb_accepted_of_those, t.kernel_refused,
	       t.comb_accepts_refused);
	if (t.kernel_accepted == 0) {
		printf("FAIL no program of the corpus loads into the kernel: is the corpus installed "
		       "(xdp-tools, libxdp1, libbpf-tools)?\n");
		t.failed++;
	}
	printf("real-verdicts: %d passed, %d failed\n", t.passed, t.failed);
	return t.failed ? 1 : 0;
}
