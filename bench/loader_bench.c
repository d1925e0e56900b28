/* bench/loader_bench.c - loader-bench: open + load of a real CO-RE object,
 * comb against libbpf.
 *
 *   loader-bench [--rounds N] [FILE]
 *
 * The object is the largest BPF ELF image embedded in the libbpf-tools
 * binaries of /usr/sbin (by size; FILE picks another binary or object). Four
 * measurements, each in a freshly executed child process (loader-bench
 * --child ...) so that nothing, vmlinux BTF above all, is cached or warm
 * between them and each has its own peak RSS (getrusage in the child):
 *   comb       comb_object_open_mem + comb_object_load into a VM (comb has no
 *              verifier yet), vmlinux BTF loaded from /sys/kernel/btf. When
 *              the whole object does not load in comb (a helper it lacks),
 *              every program is relocated with loader_core_prog instead: the
 *              same relocation and CO-RE work, without the VM (said so).
 *   comb core  comb_object_open_mem + loader_core_prog for every program:
 *              the ELF, BTF, every relocation and CO-RE, without creating
 *              maps or a VM: what libbpf/a measures on libbpf's side.
 *   libbpf/a   bpf_object__open_mem + bpf_object__load with every program's
 *              type set to BPF_PROG_TYPE_UNSPEC and no map created: libbpf
 *              still loads vmlinux BTF, loads the object's BTF into the
 *              kernel and applies CO-RE and the other relocations to every
 *              program, then the kernel refuses the first program at once.
 *              This isolates libbpf's open + CO-RE best (bpf_object__gen_loader
 *              does not: with it libbpf 1.1 leaves CO-RE to the kernel).
 *   libbpf/b   plain bpf_object__open_mem + bpf_object__load (kernel
 *              verification included) of the programs the kernel accepts
 *              (found once before timing).
 * Rounds interleave the four (rotating their order); the table shows the
 * median time of each and the median of the per-round ratios libbpf/comb:
 * (a) against comb's open+CO-RE and against comb's whole open+load, (b)
 * against comb's open+load.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "comb/object.h"
#include "../tests/kernel/bpf_images.h"
#include "comb/vm.h"
#include "loader/btf.h"
#include "loader/internal.h"
#include "stats.h"

#define DEFAULT_ROUNDS 11
#define MAX_ROUNDS 101
#define MAX_REFUSED 128

struct image {
	char what[512];
	char path[4096];
	unsigned char *file; /* the whole file */
	size_t offset, size; /* of the BPF ELF image in it */
};

enum side { SIDE_COMB_LOAD, SIDE_COMB_CORE, SIDE_LIBBPF_CORE, SIDE_LIBBPF_LOAD, SIDE_COUNT };
static const char *const side_names[SIDE_COUNT] = {
	"comb open+load", "comb open+CO-RE", "libbpf open+CO-RE (a)", "libbpf open+load (b)",
};
/* The comb figure each side's ratio is taken against (a side's own for comb). */
static const enum side ratio_base[SIDE_COUNT] = {
	SIDE_COMB_LOAD, SIDE_COMB_CORE, SIDE_COMB_CORE, SIDE_COMB_LOAD,
};

/* What a child reports. */
struct sample {
	int ok;
	double ms;
	long max_rss_kb;
	int fallback; /* comb: relocated without a whole-object load */
	char why[200];
};

static char refused[MAX_REFUSED][128];
static int refused_count;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* ---- finding the object ---- */

/* Keep in best the largest image of path. */
static void scan_file(const char *path, struct image *best)
{
	size_t len = 0;
	unsigned char *buf = bpf_images_read_file(path, &len);
	bool kept = false;
	for (size_t off = 0; buf && off + sizeof(Elf64_Ehdr) <= len; off++) {
		size_t size = bpf_image_at(buf, len, off);
		if (!size)
			continue;
		if (size > best->size) {
			if (!kept && best->file)
				free(best->file);
			best->file = buf, best->offset = off, best->size = size, kept = true;
			snprintf(best->what, sizeof(best->what), "%s@%zu", path, off);
			snprintf(best->path, sizeof(best->path), "%s", path);
		}
		off += size - 1;
	}
	if (!kept)
		free(buf);
}

/* bpf_images_each_file() callback. */
static void scan_found_file(const char *path, void *best)
{
	scan_file(path, best);
}

static const void *image_data(const struct image *im)
{
	return im->file + im->offset;
}

/* ---- the measurements (each run in a child) ---- */

/* whole: open + comb_object_load (maps created, programs loaded into a VM,
 * falling back to relocating each program when the object does not load);
 * otherwise open + loader_core_prog for every program: ELF, BTF, relocations
 * and CO-RE against vmlinux, the work libbpf (a) does. */
static int relocate_all(struct comb_object *obj, char *err, size_t len)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < comb_object_prog_count(obj); i++) {
		struct loader_core_prog p;
		rc = loader_core_prog(obj, i, &p, err, len);
		loader_core_prog_free(&p);
	}
	return rc;
}

static int run_comb(const struct image *im, bool whole, struct sample *s)
{
	char err[512] = "";
	struct comb_object *obj = NULL;
	struct comb_vm *vm = NULL;
	struct comb_vm_opts vopts = { .sz = sizeof(vopts) };
	struct comb_object_open_opts oopts = { .sz = sizeof(oopts), .name = "bench" };
	double t0 = now_ms();
	int rc = comb_object_open_mem(image_data(im), im->size, &oopts, &obj, err, sizeof(err));
	if (!rc && !whole)
		rc = relocate_all(obj, err, sizeof(err));
	else if (!rc)
		rc = comb_vm_new(&vopts, &vm);
	if (!rc && whole && comb_object_load(obj, vm, err, sizeof(err)) != 0) {
		s->fallback = 1;
		snprintf(s->why, sizeof(s->why), "%s", err);
		rc = relocate_all(obj, err, sizeof(err));
	}
	s->ms = now_ms() - t0;
	if (rc)
		snprintf(s->why, sizeof(s->why), "%s", err);
	comb_object_close(obj);
	comb_vm_free(vm);
	return rc;
}

static struct bpf_object *libbpf_open(const struct image *im)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "bench");
	struct bpf_object *lo = bpf_object__open_mem(image_data(im), im->size, &opts);
	return lo && !libbpf_get_error(lo) ? lo : NULL;
}

static bool is_refused(const char *name)
{
	for (int i = 0; i < refused_count; i++)
		if (strcmp(refused[i], name) == 0)
			return true;
	return false;
}

static int run_libbpf(const struct image *im, bool core_only, struct sample *s)
{
	double t0 = now_ms();
	struct bpf_object *lo = libbpf_open(im);
	if (!lo) {
		snprintf(s->why, sizeof(s->why), "libbpf cannot open it");
		return -EINVAL;
	}
	struct bpf_program *lp;
	struct bpf_map *lm;
	bpf_object__for_each_program(lp, lo) {
		if (core_only)
			bpf_program__set_type(lp, BPF_PROG_TYPE_UNSPEC);
		else if (is_refused(bpf_program__name(lp)))
			bpf_program__set_autoload(lp, false);
	}
	if (core_only)
		bpf_object__for_each_map(lm, lo)
			bpf_map__set_autocreate(lm, false);
	int rc = bpf_object__load(lo);
	s->ms = now_ms() - t0;
	/* (a) must fail exactly at the kernel's first program load. */
	if (core_only)
		rc = rc == -EINVAL ? 0 : rc ? rc : -EPROTO;
	if (rc)
		snprintf(s->why, sizeof(s->why), "bpf_object__load: %s", strerror(-rc));
	bpf_object__close(lo);
	return rc;
}

static int run_side(enum side side, const struct image *im, struct sample *s)
{
	switch (side) {
	case SIDE_COMB_LOAD:
		return run_comb(im, true, s);
	case SIDE_COMB_CORE:
		return run_comb(im, false, s);
	case SIDE_LIBBPF_CORE:
		return run_libbpf(im, true, s);
	default:
		return run_libbpf(im, false, s);
	}
}

/* The child: loader-bench --child SIDE FILE OFFSET SIZE [REFUSED...]. It
 * reads the image (untimed), measures once and writes its sample, peak RSS
 * included, to stdout. A fresh exec, not a fork, so that the peak RSS is the
 * measurement's own and no page or heap of the parent is warm. */
static int child_main(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	enum side side = (enum side)atoi(argv[2]);
	struct image im = { 0 };
	size_t len = 0;
	im.file = bpf_images_read_file(argv[3], &len);
	im.offset = strtoull(argv[4], NULL, 10);
	im.size = strtoull(argv[5], NULL, 10);
	if (!im.file || side >= SIDE_COUNT || im.offset > len || im.size > len - im.offset)
		return 2;
	for (int i = 6; i < argc && refused_count < MAX_REFUSED; i++)
		snprintf(refused[refused_count++], sizeof(refused[0]), "%s", argv[i]);
	libbpf_set_print(quiet);
	struct sample s = { 0 };
	s.ok = run_side(side, &im, &s) == 0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	s.max_rss_kb = ru.ru_maxrss;
	free(im.file);
	return fwrite(&s, sizeof(s), 1, stdout) == 1 ? 0 : 1;
}

/* Run one measurement in a child process and read its sample back. */
static int measure(enum side side, const struct image *im, struct sample *s)
{
	int fds[2];
	memset(s, 0, sizeof(*s));
	if (pipe(fds))
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char side_arg[16], off_arg[32], size_arg[32];
		char *args[8 + MAX_REFUSED];
		int n = 0;
		snprintf(side_arg, sizeof(side_arg), "%d", side);
		snprintf(off_arg, sizeof(off_arg), "%zu", im->offset);
		snprintf(size_arg, sizeof(size_arg), "%zu", im->size);
		args[n++] = "loader-bench";
		args[n++] = "--child";
		args[n++] = side_arg;
		args[n++] = (char *)im->path;
		args[n++] = off_arg;
		args[n++] = size_arg;
		for (int i = 0; i < refused_count; i++)
			args[n++] = refused[i];
		args[n] = NULL;
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv("/proc/self/exe", args);
		_exit(127);
	}
	close(fds[1]);
	size_t got = 0;
	ssize_t n;
	while (got < sizeof(*s) && (n = read(fds[0], (char *)s + got, sizeof(*s) - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	return got == sizeof(*s) && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* ---- setup ---- */

static char last_prog[128];
static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	const char *p = strstr(line, "prog '");
	if (level == LIBBPF_WARN && p)
		sscanf(p, "prog '%127[^']'", last_prog);
	return 0;
}

/* The programs the kernel refuses, so that (b) loads the others. */
static int find_refused(const struct image *im, int *loaded)
{
	libbpf_set_print(capture);
	for (;;) {
		struct bpf_object *lo = libbpf_open(im);
		if (!lo)
			return -EINVAL;
		struct bpf_program *lp;
		int on = 0;
		bpf_object__for_each_program(lp, lo) {
			if (is_refused(bpf_program__name(lp)))
				bpf_program__set_autoload(lp, false);
			else
				on++;
		}
		last_prog[0] = 0;
		int rc = on ? bpf_object__load(lo) : -ENOENT;
		bpf_object__close(lo);
		if (rc == 0) {
			*loaded = on;
			break;
		}
		if (!last_prog[0] || is_refused(last_prog) || refused_count == MAX_REFUSED)
			return rc;
		snprintf(refused[refused_count++], sizeof(refused[0]), "%s", last_prog);
	}
	libbpf_set_print(quiet);
	return 0;
}

static size_t core_relo_count(const struct image *im, size_t *progs)
{
	char err[256];
	struct comb_object *obj = NULL;
	size_t n = 0;
	*progs = 0;
	if (comb_object_open_mem(image_data(im), im->size, NULL, &obj, err, sizeof(err)))
		return 0;
	*progs = comb_object_prog_count(obj);
	for (size_t k = 0; obj->btf_ext && k < comb_btf_ext_section_count(obj->btf_ext, COMB_BTF_EXT_CORE_RELO); k++)
		n += comb_btf_ext_section(obj->btf_ext, COMB_BTF_EXT_CORE_RELO, k)->count;
	comb_object_close(obj);
	return n;
}

static bool bpf_allowed(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "probe", 4, 4, 1, NULL);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		return child_main(argc, argv);
	int rounds = DEFAULT_ROUNDS;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else
			path = argv[i];
	}
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "loader-bench: --rounds must be 1..%d\n", MAX_ROUNDS);
		return 2;
	}
	libbpf_set_print(quiet);
	struct image im = { 0 };
	if (path)
		scan_file(path, &im);
	else
		bpf_images_each_file("/usr/sbin", false, scan_found_file, &im);
	if (!im.file) {
		printf("loader-bench: skipped (no BPF ELF image found in %s)\n", path ? path : "/usr/sbin");
		return 0;
	}
	size_t progs = 0, relos = core_relo_count(&im, &progs);
	printf("loader-bench: %s: %zu bytes, %zu programs, %zu CO-RE relocations "
	       "(the largest libbpf-tools image by size), target /sys/kernel/btf/vmlinux\n",
	       im.what, im.size, progs, relos);
	bool kernel = bpf_allowed();
	int loaded = 0;
	if (!kernel)
		printf("libbpf sides skipped: bpf() is denied (%s)\n", strerror(errno));
	else if (find_refused(&im, &loaded)) {
		printf("libbpf/b skipped: the kernel loads none of its programs\n");
		loaded = 0;
	} else {
		printf("libbpf/b loads %d programs (%d refused by this kernel)\n", loaded, refused_count);
	}
	bool enabled[SIDE_COUNT] = { true, true, kernel, kernel && loaded > 0 };
	double ms[SIDE_COUNT][MAX_ROUNDS], ratio[SIDE_COUNT][MAX_ROUNDS], rss[SIDE_COUNT][MAX_ROUNDS];
	double core_vs_load[MAX_ROUNDS];
	int fallback = 0;
	char why[SIDE_COUNT][200] = { "" };
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < SIDE_COUNT; k++) {
			enum side side = (enum side)((r + k) % SIDE_COUNT);
			struct sample s;
			if (!enabled[side])
				continue;
			if (measure(side, &im, &s) || !s.ok) {
				printf("%s failed: %s\n", side_names[side], s.why[0] ? s.why : "child died");
				return 1;
			}
			ms[side][r] = s.ms;
			rss[side][r] = s.max_rss_kb / 1024.0;
			if (side == SIDE_COMB_LOAD && s.fallback) {
				fallback = 1;
				snprintf(why[side], sizeof(why[side]), "%s", s.why);
			}
		}
		for (int k = 0; k < SIDE_COUNT; k++)
			ratio[k][r] = ms[k][r] / ms[ratio_base[k]][r];
		if (enabled[SIDE_LIBBPF_CORE])
			core_vs_load[r] = ms[SIDE_LIBBPF_CORE][r] / ms[SIDE_COMB_LOAD][r];
	}
	if (fallback)
		printf("note: comb relocated each program without a VM load (the whole object does not load: %s)\n",
		       why[SIDE_COMB_LOAD]);
	printf("%-24s %10s %12s   %s\n", "", "median ms", "peak RSS MB", "libbpf / comb (median of rounds)");
	for (int k = 0; k < SIDE_COUNT; k++) {
		if (!enabled[k])
			continue;
		double t = bench_median(ms[k], (size_t)rounds), m = bench_median(rss[k], (size_t)rounds);
		if (ratio_base[k] == (enum side)k)
			printf("%-24s %10.2f %12.1f\n", side_names[k], t, m);
		else
			printf("%-24s %10.2f %12.1f   %.2fx against %s\n", side_names[k], t, m,
			       bench_median(ratio[k], (size_t)rounds), side_names[ratio_base[k]]);
	}
	if (enabled[SIDE_LIBBPF_CORE])
		printf("%-24s %10s %12s   %.2fx against %s\n", "libbpf open+CO-RE (a)", "", "",
		       bench_median(core_vs_load, (size_t)rounds), side_names[SIDE_COMB_LOAD]);
	printf("(%d interleaved rounds; each measurement in a fresh process, vmlinux BTF parsed every time; "
	       "ratio = median of per-round libbpf ms / comb ms, above 1 means comb is faster)\n", rounds);
	free(im.file);
	return 0;
}
