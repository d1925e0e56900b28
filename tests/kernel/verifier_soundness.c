/* tests/kernel/verifier_soundness.c - is every program comb's verifier accepts safe?
 *
 * For each of xdp, sched_cls and socket_filter, N programs come out of the
 * generator (soundness_gen.c: packet, map, stack, context, loop, call and
 * helper code, a quarter of it with a typical mistake), seeded
 * deterministically. Each is verified by comb_verify; each accepted one runs
 * in the checked interpreter on R random packets with random map contents.
 * A fault there is a soundness bug of the verifier: the program, the
 * verifier's log and the fault are printed and the test fails.
 *
 * Where bpf() works every program is also loaded into the kernel (with maps
 * of the same shapes) and the verdicts are compared. That part only
 * informs: programs comb accepts and the kernel rejects are suspicious, and
 * programs the kernel accepts and comb rejects show where comb is less
 * precise; both are counted and a few examples printed.
 *
 * Checks: per program type, no fault and a non-trivial share of accepted
 * programs; per block kind, that accepted programs exercise it (the faults
 * per block kind are printed).
 * Usage: verifier-soundness [-n PROGS_PER_TYPE] [-r RUNS] [-s SEED] [-v]
 *        verifier-soundness -t TYPE -p INDEX [-s SEED]   (show one program)
 * Output ends with `verifier-soundness: N passed, N failed`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "soundness_gen.h"

static int passed, failed;
static bool verbose;

static void check(bool ok, const char *fmt, const char *a, long b)
{
	char what[200];
	snprintf(what, sizeof(what), fmt, a, b);
	if (ok) {
		passed++;
		if (verbose)
			printf("ok   %s\n", what);
	} else {
		failed++;
		printf("FAIL %s\n", what);
	}
}

/* ---- the kernel side ------------------------------------------------------------ */

static int kernel_maps[SOUND_MAP_COUNT] = { -1, -1 };

static bool kernel_open(void)
{
	kernel_maps[SOUND_MAP_ARRAY] = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sound_array", SOUND_ARRAY_KEY,
						      SOUND_ARRAY_VALUE, SOUND_ARRAY_ENTRIES, NULL);
	kernel_maps[SOUND_MAP_HASH] = bpf_map_create(BPF_MAP_TYPE_HASH, "sound_hash", SOUND_HASH_KEY,
						     SOUND_HASH_VALUE, SOUND_HASH_ENTRIES, NULL);
	return kernel_maps[0] >= 0 && kernel_maps[1] >= 0;
}

static void kernel_close(void)
{
	for (int i = 0; i < SOUND_MAP_COUNT; i++)
		if (kernel_maps[i] >= 0)
			close(kernel_maps[i]);
}

/* 0 if the kernel loads p, else the negative errno (log filled when given). */
static int kernel_load(const struct sound_prog *p, char *log, size_t log_size)
{
	static struct bpf_insn insns[SOUND_MAX_INSNS];
	memcpy(insns, p->insns, p->count * sizeof(insns[0]));
	for (size_t i = 0; i + 1 < p->count; i++)
		if (insns[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
		    (insns[i].src_reg == BPF_PSEUDO_MAP_FD || insns[i].src_reg == BPF_PSEUDO_MAP_VALUE)) {
			insns[i].imm = kernel_maps[insns[i].imm];
			i++;
		}
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = log ? (uint32_t)log_size : 0,
		    .log_level = log ? 1 : 0);
	int fd = bpf_prog_load(p->prog_type, "sound", "GPL", insns, p->count, &opts);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* The kernel's reason: the last line of its log before the statistics. */
static const char *last_line(char *log)
{
	for (;;) {
		size_t n = strlen(log);
		while (n && log[n - 1] == '\n')
			log[--n] = 0;
		char *nl = strrchr(log, '\n');
		char *line = nl ? nl + 1 : log;
		if (!nl || (strncmp(line, "processed ", 10) && strncmp(line, "verification time", 17)))
			return line;
		*nl = 0;
	}
}

/* ---- one program ------------------------------------------------------------- */

struct tally {
	int generated, accepted, faulted, budget, unloadable;
	int both_accept, comb_only, kernel_only, both_reject;
	int block_accepted[SOUND_B_COUNT], block_faulted[SOUND_B_COUNT];
	int bug_accepted; /* programs with a deliberate mistake comb accepted */
	int with_facts, facts_differ; /* the JIT with the verifier's facts vs the interpreter */
};

static const struct { uint32_t type; const char *name; } types[] = {
	{ BPF_PROG_TYPE_XDP, "xdp" },
	{ BPF_PROG_TYPE_SCHED_CLS, "sched_cls" },
	{ BPF_PROG_TYPE_SOCKET_FILTER, "socket_filter" },
};

static uint64_t program_seed(uint64_t seed, size_t type_index, int index)
{
	return seed ^ ((uint64_t)type_index << 40) ^ ((uint64_t)index * 0x100000001b3ull);
}

static void print_blocks(const struct sound_prog *p)
{
	printf("  blocks:");
	for (int b = 0; b < SOUND_B_COUNT; b++)
		if (p->blocks & (1u << b))
			printf(" %s%s", sound_block_name(b), p->bugs & (1u << b) ? "(mistake)" : "");
	printf("\n");
}

static void report_fault(struct sound_env *env, const struct sound_prog *p, const char *type, int index,
			 const struct sound_fault *f)
{
	printf("FAIL soundness: %s program %d: comb accepted it, the checked run faulted (run %d, packet of %zu bytes): rc %d, insn %ld: %s\n",
	       type, index, f->run, f->packet_len, f->rc, f->insn, f->message);
	static int dumped;
	if (++dumped > 4 && !verbose)
		return; /* the first few in full; -v for all */
	print_blocks(p);
	sound_print_prog(stdout, p);
	static char log[1 << 16];
	struct comb_verify_result res;
	log[0] = 0;
	sound_verify(env, p, 2, log, sizeof(log), &res);
	size_t n = strlen(log);
	printf("  comb's verifier log (level 2, last 6000 bytes):\n%s\n", n > 6000 ? log + n - 6000 : log);
}

static int examples_comb_only, examples_kernel_only;

static void compare_with_kernel(struct tally *t, const struct sound_prog *p, bool comb_ok,
				const struct comb_verify_result *res, const char *type, int index)
{
	bool kernel_ok = kernel_load(p, NULL, 0) == 0;
	if (comb_ok && kernel_ok)
		t->both_accept++;
	else if (!comb_ok && !kernel_ok)
		t->both_reject++;
	else if (comb_ok)
		t->comb_only++;
	else
		t->kernel_only++;
	if (comb_ok == kernel_ok)
		return;
	int *examples = comb_ok ? &examples_comb_only : &examples_kernel_only;
	if (++*examples > (verbose ? 1000 : 3))
		return;
	static char log[1 << 16];
	log[0] = 0;
	kernel_load(p, log, sizeof(log));
	printf("  note: %s program %d: comb %s, kernel %s: %s\n", type, index,
	       comb_ok ? "accepts" : "rejects", kernel_ok ? "accepts" : "rejects",
	       comb_ok ? last_line(log) : res->message);
	if (verbose) {
		print_blocks(p);
		sound_print_prog(stdout, p);
	}
}

/* The accepted program p in the JIT compiled with the verifier's facts
 * (checks left out) and in the interpreter, on the same inputs. */
static void check_facts(struct sound_env *env, struct tally *t, const struct sound_prog *p, struct sound_rng *rng,
			int runs, const char *type, int index)
{
	struct sound_fault fault;
	size_t facts = 0;
	int rc = sound_check_facts(env, p, rng, runs, &fault, &facts);
	t->with_facts += rc >= 0 && facts > 0;
	if (rc <= 0)
		return;
	t->facts_differ++;
	printf("FAIL facts: %s program %d (%zu instructions with facts), run %d: %s\n", type, index, facts,
	       fault.run, fault.message);
	static int dumped;
	if (++dumped <= 2 || verbose)
		sound_print_prog(stdout, p);
}

static void one_program(struct sound_env *env, struct tally *t, size_t ti, int index, uint64_t seed,
			int runs, bool kernel)
{
	static struct sound_prog p;
	struct sound_rng rng;
	sound_rng_seed(&rng, program_seed(seed, ti, index));
	sound_generate(&rng, types[ti].type, &p);
	t->generated++;
	struct comb_verify_result res;
	bool comb_ok = sound_verify(env, &p, 0, NULL, 0, &res) == 0;
	/* (the kernel refuses every long loop for its complexity, at length) */
	if (kernel && !(p.blocks & (1u << SOUND_B_LONG_LOOP)))
		compare_with_kernel(t, &p, comb_ok, &res, types[ti].name, index);
	if (!comb_ok)
		return;
	t->accepted++;
	t->bug_accepted += p.bugs != 0;
	for (int b = 0; b < SOUND_B_COUNT; b++)
		t->block_accepted[b] += (p.blocks >> b) & 1;
	struct sound_fault fault;
	/* a long loop runs the same way on every input: two runs of it will do */
	int rc = sound_check_runs(env, &p, &rng, p.blocks & (1u << SOUND_B_LONG_LOOP) ? 2 : runs, &fault);
	if (rc < 0) {
		t->unloadable++;
		if (verbose)
			printf("  note: %s program %d: comb accepts it but cannot load it: %s\n", types[ti].name, index,
			       fault.message);
		return;
	}
	if (rc == 0) {
		check_facts(env, t, &p, &rng, runs, types[ti].name, index);
		return;
	}
	t->faulted++;
	t->budget += fault.rc == -E2BIG;
	for (int b = 0; b < SOUND_B_COUNT; b++)
		t->block_faulted[b] += (p.blocks >> b) & 1;
	report_fault(env, &p, types[ti].name, index, &fault);
}

static void show_one(struct sound_env *env, const char *type_name, int index, uint64_t seed, bool kernel)
{
	for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
		if (strcmp(types[ti].name, type_name))
			continue;
		static struct sound_prog p;
		struct sound_rng rng;
		sound_rng_seed(&rng, program_seed(seed, ti, index));
		sound_generate(&rng, types[ti].type, &p);
		print_blocks(&p);
		sound_print_prog(stdout, &p);
		static char log[1 << 16];
		struct comb_verify_result res;
		int rc = sound_verify(env, &p, 1, log, sizeof(log), &res);
		printf("comb: %s %s\n", rc ? "rejects:" : "accepts", rc ? res.message : "");
		if (kernel) {
			log[0] = 0;
			rc = kernel_load(&p, log, sizeof(log));
			printf("kernel: %s %s\n", rc ? "rejects:" : "accepts", rc ? last_line(log) : "");
		}
		return;
	}
	fprintf(stderr, "verifier-soundness: unknown type %s\n", type_name);
}

static void summarize(const struct tally *t, const char *type, bool kernel)
{
	printf("%s: %d programs, comb accepted %d (%d of them with a deliberate mistake), %d faulted (%d ran out of budget), %d not loadable\n",
	       type, t->generated, t->accepted, t->bug_accepted, t->faulted, t->budget, t->unloadable);
	if (kernel)
		printf("%s: kernel agreement: both accept %d, both reject %d, comb-only accept %d (suspicious), kernel-only accept %d\n",
		       type, t->both_accept, t->both_reject, t->comb_only, t->kernel_only);
	check(t->faulted == 0, "%s: no accepted program faults in the checked engine (%ld faulted)", type,
	      t->faulted);
	printf("%s: %d accepted programs got facts for the JIT, %d ran differently in the JIT with them\n", type,
	       t->with_facts, t->facts_differ);
	check(t->facts_differ == 0, "%s: the JIT with the verifier's facts agrees with the interpreter (%ld differ)",
	      type, t->facts_differ);
	check(t->with_facts > 0, "%s: some accepted programs get facts (%ld)", type, t->with_facts);
	check(t->accepted * 5 >= t->generated, "%s: comb accepts at least a fifth of the programs (%ld)", type,
	      t->accepted);
}

int main(int argc, char **argv)
{
	int per_type = 2000, runs = 24, show = -1, opt;
	uint64_t seed = 0x50d5eed;
	const char *show_type = "xdp";
	while ((opt = getopt(argc, argv, "n:r:s:p:t:v")) != -1) {
		switch (opt) {
		case 'n': per_type = atoi(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'p': show = atoi(optarg); break;
		case 't': show_type = optarg; break;
		case 'v': verbose = true; break;
		default:
			fprintf(stderr, "usage: %s [-n PROGS] [-r RUNS] [-s SEED] [-v] [-t TYPE -p INDEX]\n", argv[0]);
			return 2;
		}
	}
	struct sound_env env;
	if (sound_env_new(&env)) {
		printf("FAIL cannot set up the VM and maps\nverifier-soundness: 0 passed, 1 failed\n");
		return 1;
	}
	bool kernel = kernel_open();
	if (!kernel)
		printf("kernel comparison skipped: bpf() denied (%s)\n", strerror(errno));
	if (show >= 0) {
		show_one(&env, show_type, show, seed, kernel);
		kernel_close();
		sound_env_free(&env);
		return 0;
	}
	struct tally all = { 0 };
	for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
		struct tally t = { 0 };
		for (int i = 0; i < per_type; i++)
			one_program(&env, &t, ti, i, seed, runs, kernel);
		summarize(&t, types[ti].name, kernel);
		for (int b = 0; b < SOUND_B_COUNT; b++) {
			all.block_accepted[b] += t.block_accepted[b];
			all.block_faulted[b] += t.block_faulted[b];
		}
	}
	for (int b = 0; b < SOUND_B_COUNT; b++) {
		printf("block %-15s accepted in %4d programs, faulted in %d\n", sound_block_name(b),
		       all.block_accepted[b], all.block_faulted[b]);
		check(all.block_accepted[b] > 0, "block %s: exercised by accepted programs (%ld)",
		      sound_block_name(b), all.block_accepted[b]);
	}
	kernel_close();
	sound_env_free(&env);
	printf("verifier-soundness: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
