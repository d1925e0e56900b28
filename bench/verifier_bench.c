/* bench/verifier_bench.c - verifier-bench: comb's verifier against the
 * kernel's on the real-program corpus.
 *
 *   verifier-bench [--rounds N]
 *
 * The corpus is tests/kernel/real_corpus.h's: every program of Debian's
 * xdp-tools objects and of the CO-RE objects inside the libbpf-tools binaries.
 * Each round walks it: every program is loaded into the kernel on its own
 * (libbpf, log level BPF_LOG_STATS), which reports its own "verification
 * time N usec"; the programs the kernel accepts are verified by comb
 * (comb_verify_object_prog on comb's load of the same object): one untimed
 * call (it loads the kernel BTF a typed context needs, as the kernel has its
 * own loaded at boot), then the median of 3 timed ones. The table gives the
 * median over rounds of the totals, and the programs both accept.
 *
 * Facts for the JIT (src/verifier/facts.c), first round: how many
 * instructions of the accepted programs got each kind, and the native code
 * of the programs with facts compiled with and without them.
 *
 * JIT compile time, first round: every accepted program compiled as
 * verified (with its facts), in batches of about 20,000 instructions, the
 * median of 5 batches; the corpus total per 1,000 instructions, and the
 * spread over programs.
 *
 * Memory: the program comb explores most instructions of is verified again
 * in a fresh process (verifier-bench --child PATH IMAGE NAME), whose peak RSS
 * (getrusage) is read before and after the verification: the growth is the
 * verifier's peak working memory (states, checkpoints).
 *
 * Widened loops (--widen OBJ, tests/progs/verify_widen.bpf.o): every widen_*
 * program there is too long for the kernel, which gives up after its
 * complexity budget, while comb accepts it after widening its loop heads.
 * Per program, interleaved in each round: the kernel's time to reject it
 * (its "verification time"), comb's time to accept it (the unrolled walk
 * that runs out of the same budget, then the widened walk), medians.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "comb/comb.h"
#include "jit/jit.h"
#include "vm/internal.h"
#include "../tests/kernel/real_corpus.h"
#include "../tests/kernel/kernel_bpf.h"
#include "stats.h"
#include "jit_time.h"

#define DEFAULT_ROUNDS 3
#define MAX_ROUNDS 21

#define FACT_KINDS 7

struct fact_count {
	long insns, programs, with_facts;
	long kind[FACT_KINDS];           /* per COMB_FACT_* bit */
	size_t code_with, code_without;  /* native bytes of the programs with facts */
};

#define JIT_TIMED_MAX 1024

struct jit_time {
	double ns;                       /* summed over the programs */
	long insns;
	size_t programs;
	double per_kinsn[JIT_TIMED_MAX]; /* us per 1,000 instructions, per program */
	size_t over, over_max_count;     /* programs at 30 or more; the largest of them */
	double worst;
	char worst_name[160];
	size_t worst_count;
};

struct round {
	struct fact_count facts;
	struct jit_time *jit;            /* first round only */
	double kernel_us, comb_us;
	int programs, comb_rejects, kernel_time_missing;
	/* the program comb explores most of */
	char big_image[512], big_name[128];
	uint64_t big_insns;
	long big_kernel_insns;
};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Native code size of prog compiled with facts (owned by the caller's copy). */
static size_t code_size_with(struct comb_prog *prog, const uint8_t *facts)
{
	uint8_t *copy = malloc(prog->count);
	if (!copy)
		return 0;
	memcpy(copy, facts, prog->count);
	comb_jit_apply_facts(prog, copy);
	size_t size = 0;
	comb_prog_jit_code(prog, NULL, &size, NULL);
	return size;
}

/* The facts the last verification left on the program, counted. */
static void count_facts(struct fact_count *fc, const struct real_prog *p)
{
	struct comb_prog *prog = comb_object_prog(p->obj, p->index);
	if (!prog)
		return;
	fc->programs++;
	fc->insns += (long)prog->count;
	if (!prog->facts)
		return;
	fc->with_facts++;
	for (size_t i = 0; i < prog->count; i++)
		for (int k = 0; k < FACT_KINDS; k++)
			fc->kind[k] += (prog->facts[i] >> k) & 1;
	uint8_t *saved = malloc(prog->count), *none = calloc(prog->count, 1);
	if (saved && none && prog->jit) {
		memcpy(saved, prog->facts, prog->count);
		fc->code_with += code_size_with(prog, saved);
		fc->code_without += code_size_with(prog, none);
		code_size_with(prog, saved); /* back as verified */
	}
	free(saved);
	free(none);
}

static void print_facts(const struct fact_count *fc)
{
	static const char *names[FACT_KINDS] = { "redundant zero-extensions", "jumps always taken",
						 "jumps never taken", "dead instructions",
						 "divisions by non-zero", "signed divisions without overflow",
						 "array lookups in bounds" };
	printf("facts for the JIT: %ld of %ld accepted programs (%ld instructions) have some\n",
	       fc->with_facts, fc->programs, fc->insns);
	for (int k = 0; k < FACT_KINDS; k++)
		printf("  %-36s %8ld\n", names[k], fc->kind[k]);
	if (fc->code_without)
		printf("  native code of those programs: %zu bytes with the facts, %zu without (%.1f%% less)\n",
		       fc->code_with, fc->code_without,
		       100.0 * (double)(fc->code_without - fc->code_with) / (double)fc->code_without);
}

static void time_jit(struct jit_time *jt, const struct real_prog *p)
{
	const struct comb_prog *prog = comb_object_prog(p->obj, p->index);
	double ns;
	if (!prog || !prog->count || bench_jit_compile_ns(prog, 5, &ns) != 0)
		return;
	double per_kinsn = ns / (double)prog->count;
	jt->ns += ns;
	jt->insns += (long)prog->count;
	if (jt->programs < JIT_TIMED_MAX)
		jt->per_kinsn[jt->programs++] = per_kinsn;
	if (per_kinsn >= 30.0) {
		jt->over++;
		if (prog->count > jt->over_max_count)
			jt->over_max_count = prog->count;
	}
	if (per_kinsn > jt->worst) {
		jt->worst = per_kinsn;
		jt->worst_count = prog->count;
		snprintf(jt->worst_name, sizeof(jt->worst_name), "%s %s", p->image, p->name);
	}
}

static void print_jit_time(struct jit_time *jt)
{
	if (!jt->programs)
		return;
	printf("jit compile time, the accepted programs as verified (facts on): %.1f us per 1,000 instructions "
	       "over all %ld instructions of %zu programs; per program: median %.1f, worst %.1f (%s, %zu insns); "
	       "%zu programs at 30 or more, of at most %zu insns\n",
	       jt->ns / (double)jt->insns, jt->insns, jt->programs, bench_median(jt->per_kinsn, jt->programs),
	       jt->worst, jt->worst_name, jt->worst_count, jt->over, jt->over_max_count);
}

static void time_one(const struct real_prog *p, void *arg)
{
	struct round *r = arg;
	if (p->kernel != 1 || !p->obj)
		return;
	struct comb_verify_opts opts = { .sz = sizeof(opts) };
	struct comb_verify_result res;
	if (comb_verify_object_prog(p->obj, p->index, &opts, &res) != 0) {
		r->comb_rejects++;
		return;
	}
	count_facts(&r->facts, p);
	if (r->jit)
		time_jit(r->jit, p);
	double t[3];
	for (int i = 0; i < 3; i++) {
		double t0 = now_us();
		comb_verify_object_prog(p->obj, p->index, &opts, &res);
		t[i] = now_us() - t0;
	}
	if (p->kernel_usec < 0) {
		r->kernel_time_missing++;
		return;
	}
	r->programs++;
	r->comb_us += bench_median(t, 3);
	r->kernel_us += (double)p->kernel_usec;
	if (res.insns_processed > r->big_insns) {
		r->big_insns = res.insns_processed;
		r->big_kernel_insns = p->kernel_insns;
		snprintf(r->big_image, sizeof(r->big_image), "%s", p->image);
		snprintf(r->big_name, sizeof(r->big_name), "%s", p->name);
	}
}

/* ---- the child: peak memory of one verification ---- */

struct child_target {
	const char *image, *name;
	long before_kb, after_kb;
	int rc;
};

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void verify_target(const struct real_prog *p, void *arg)
{
	struct child_target *c = arg;
	if (!p->obj || strcmp(p->image, c->image) || strcmp(p->name, c->name))
		return;
	struct comb_verify_opts opts = { .sz = sizeof(opts) };
	struct comb_verify_result res;
	/* the kernel BTF a typed context needs is part of the baseline: a
	 * one-instruction budget loads it and explores nothing */
	struct comb_verify_opts setup = { .sz = sizeof(setup), .max_insns = 1 };
	comb_verify_object_prog(p->obj, p->index, &setup, &res);
	c->before_kb = maxrss_kb();
	c->rc = comb_verify_object_prog(p->obj, p->index, &opts, &res);
	c->after_kb = maxrss_kb();
}

static int child_main(char *path, const char *image, const char *name)
{
	struct child_target c = { .image = image, .name = name, .before_kb = -1, .rc = -ENOENT };
	real_corpus_walk(&path, 1, false, verify_target, &c);
	printf("%ld %ld %d\n", c.before_kb, c.after_kb, c.rc);
	return c.before_kb < 0;
}

/* "PATH[N]" -> PATH */
static void image_path(const char *image, char *path, size_t len)
{
	snprintf(path, len, "%s", image);
	char *bracket = strrchr(path, '[');
	if (bracket && bracket[strlen(bracket) - 1] == ']')
		*bracket = 0;
}

static int measure_memory(const char *self, const struct round *r, long *before, long *after)
{
	char path[512], cmd[2048];
	image_path(r->big_image, path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "'%s' --child '%s' '%s' '%s'", self, path, r->big_image, r->big_name);
	FILE *f = popen(cmd, "r");
	if (!f)
		return -errno;
	int rc = -1;
	if (fscanf(f, "%ld %ld %d", before, after, &rc) != 3)
		rc = -EIO;
	pclose(f);
	return rc;
}

/* ---- widened loops ---- */

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* The kernel's verification time of one program (it rejects it), -1 if none. */
static double kernel_reject_us(const char *path, const char *prog, int *rc)
{
	static char log[1 << 16];
	int err;
	if (!kernel_bpf_verify_program(path, prog, 4 /* statistics only */, log, sizeof(log), rc, &err))
		return -1;
	const char *t = strstr(log, "verification time ");
	return t ? atof(t + strlen("verification time ")) : -1;
}

static int widen_bench(const char *path, int rounds)
{
	char err[512];
	struct comb_object *obj;
	struct comb_vm *vm;
	printf("== verifier: loops too long for the kernel, widened by comb (%s)\n", path);
	if (comb_object_open_file(path, NULL, &obj, err, sizeof(err)) || comb_vm_new(NULL, &vm)) {
		printf("widen: cannot open %s: %s\n", path, err);
		return 1;
	}
	comb_object_set_verify(obj, false);
	if (comb_object_load(obj, vm, err, sizeof(err))) {
		printf("widen: cannot load %s: %s\n", path, err);
		return 1;
	}
	libbpf_set_print(quiet_print);
	printf("%-28s %8s %14s %14s %8s\n", "program", "comb", "comb ms", "kernel ms", "k / c");
	for (size_t i = 0; i < comb_object_prog_count(obj); i++) {
		struct comb_object_prog_info info;
		comb_object_prog_info(obj, i, &info);
		if (strncmp(info.name, "widen_", 6))
			continue;
		double comb_us[MAX_ROUNDS], kernel_us[MAX_ROUNDS];
		int comb_rc = 0, kernel_rc = 0;
		for (int r = 0; r < rounds; r++) {
			struct comb_verify_result res;
			double t0 = now_us();
			comb_rc = comb_verify_object_prog(obj, i, NULL, &res);
			comb_us[r] = now_us() - t0;
			kernel_us[r] = kernel_reject_us(path, info.name, &kernel_rc);
		}
		double c = bench_median(comb_us, (size_t)rounds), k = bench_median(kernel_us, (size_t)rounds);
		printf("%-28s %8s %14.1f %11.1f %s %7.2fx\n", info.name, comb_rc ? "rejects" : "accepts", c / 1e3,
		       k / 1e3, kernel_rc ? "(r)" : "(a)", c > 0 ? k / c : 0);
	}
	printf("(r): the kernel rejects it (complexity), (a): accepts it\n");
	comb_object_close(obj);
	comb_vm_free(vm);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--child") == 0)
		return child_main(argv[2], argv[3], argv[4]);
	int rounds = DEFAULT_ROUNDS;
	const char *widen_obj = NULL;
	for (int a = 1; a + 1 < argc; a += 2) {
		if (strcmp(argv[a], "--rounds") == 0)
			rounds = atoi(argv[a + 1]);
		else if (strcmp(argv[a], "--widen") == 0)
			widen_obj = argv[a + 1];
		else
			rounds = 0;
	}
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: verifier-bench [--rounds 1..%d] [--widen verify_widen.bpf.o]\n", MAX_ROUNDS);
		return 2;
	}
	printf("== verifier: comb vs the kernel's own verification time, real-program corpus\n");
	if (!real_corpus_kernel_ok()) {
		printf("verifier-bench: skipped (bpf() is not permitted: %s)\n", strerror(errno));
		return 0;
	}
	struct round r[MAX_ROUNDS];
	double kernel[MAX_ROUNDS], comb[MAX_ROUNDS], ratio[MAX_ROUNDS];
	static struct jit_time jit_time;
	for (int i = 0; i < rounds; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].jit = i == 0 ? &jit_time : NULL;
		real_corpus_walk(NULL, 0, true, time_one, &r[i]);
		kernel[i] = r[i].kernel_us;
		comb[i] = r[i].comb_us;
		ratio[i] = r[i].comb_us > 0 ? r[i].kernel_us / r[i].comb_us : 0;
	}
	const struct round *r0 = &r[0];
	printf("programs the kernel accepts and reports a time for: %d (comb rejects %d of all the kernel "
	       "accepts; %d without a kernel time)\n", r0->programs, r0->comb_rejects, r0->kernel_time_missing);
	printf("%-34s %12s\n", "median of rounds", "total");
	printf("%-34s %10.1f ms\n", "kernel verification time", bench_median(kernel, (size_t)rounds) / 1e3);
	printf("%-34s %10.1f ms\n", "comb verification time", bench_median(comb, (size_t)rounds) / 1e3);
	printf("%-34s %10.2fx\n", "kernel / comb (median of rounds)", bench_median(ratio, (size_t)rounds));
	print_facts(&r0->facts);
	print_jit_time(&jit_time);
	long before = 0, after = 0;
	int rc = r0->big_image[0] ? measure_memory(argv[0], r0, &before, &after) : -ENOENT;
	if (rc == 0)
		printf("largest exploration: %s prog %s (comb %llu insns explored, kernel %ld processed): "
		       "peak RSS %ld KiB before verifying, %ld KiB after: the verifier needs %ld KiB\n",
		       r0->big_image, r0->big_name, (unsigned long long)r0->big_insns, r0->big_kernel_insns,
		       before, after, after - before);
	else
		printf("largest exploration: memory not measured (%s)\n", strerror(rc < 0 ? -rc : EIO));
	return widen_obj ? widen_bench(widen_obj, rounds) : 0;
}
