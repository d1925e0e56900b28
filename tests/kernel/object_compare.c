/* tests/kernel/object_compare.c - comb's object reader against libbpf's.
 *
 * For every real object on this machine that no one here wrote (Debian's
 * xdp-tools objects in /usr/lib/x86_64-linux-gnu/bpf, and the BPF ELF
 * images embedded in the binaries of /usr/sbin, which is where libbpf-tools
 * keeps its CO-RE objects), open it with comb_object_open_mem and with
 * libbpf's bpf_object__open_mem and compare the program list (name, section,
 * type, expected attach type, instruction count) and the map list (name,
 * type, key/value size, max_entries). comb must open every object; one that
 * libbpf itself refuses is compared only for opening. Extra arguments are
 * object files or directories to compare instead of the defaults.
 * Ends with "object-compare: N passed, N failed".
 */
#include <bpf/libbpf.h>
#include <dirent.h>
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "comb/object.h"
#include "bpf_images.h"

static int passed, failed;
static size_t progs_compared, maps_compared;

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

__attribute__((format(printf, 2, 3)))
static void mismatch(const char *what, const char *fmt, ...)
{
	va_list ap;
	printf("  %s: ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int compare_progs(const char *what, struct comb_object *co, struct bpf_object *lo)
{
	struct bpf_program *lp;
	size_t i = 0;
	bpf_object__for_each_program(lp, lo) {
		struct comb_object_prog_info ci;
		if (comb_object_prog_info(co, i, &ci)) {
			mismatch(what, "comb lacks program %zu (%s)", i, bpf_program__name(lp));
			return 1;
		}
		if (strcmp(ci.name, bpf_program__name(lp)) || strcmp(ci.section, bpf_program__section_name(lp)) ||
		    ci.prog_type != (uint32_t)bpf_program__type(lp) ||
		    ci.expected_attach_type != (uint32_t)bpf_program__expected_attach_type(lp) ||
		    ci.insn_count != bpf_program__insn_cnt(lp)) {
			mismatch(what, "program %zu: comb %s/%s type %u attach %u insns %zu, libbpf %s/%s type %u attach %u insns %zu",
				 i, ci.name, ci.section, ci.prog_type, ci.expected_attach_type, ci.insn_count,
				 bpf_program__name(lp), bpf_program__section_name(lp), bpf_program__type(lp),
				 bpf_program__expected_attach_type(lp), bpf_program__insn_cnt(lp));
			return 1;
		}
		i++;
		progs_compared++;
	}
	if (i != comb_object_prog_count(co)) {
		mismatch(what, "comb has %zu programs, libbpf %zu", comb_object_prog_count(co), i);
		return 1;
	}
	return 0;
}

/* libbpf names internal maps "OBJNAME.rodata" (truncated to 15 chars);
 * comb uses the section name. */
static bool same_map_name(const char *comb, const struct bpf_map *lm)
{
	const char *name = bpf_map__name(lm);
	if (!bpf_map__is_internal(lm))
		return strcmp(comb, name) == 0;
	const char *dot = strchr(name, '.');
	return dot && strncmp(comb, dot, strlen(dot)) == 0;
}

static bool is_inner_template(const char *name)
{
	size_t n = strlen(name);
	return n > 6 && strcmp(name + n - 6, ".inner") == 0;
}

static int compare_maps(const char *what, struct comb_object *co, struct bpf_object *lo)
{
	struct bpf_map *lm;
	size_t i = 0, n = comb_object_map_count(co);
	struct comb_object_map_info ci;
	bpf_object__for_each_map(lm, lo) {
		while (i < n && !comb_object_map_info(co, i, &ci) && is_inner_template(ci.name))
			i++;
		if (i >= n) {
			mismatch(what, "comb lacks map %s", bpf_map__name(lm));
			return 1;
		}
		if (!same_map_name(ci.name, lm) || ci.type != (uint32_t)bpf_map__type(lm) ||
		    ci.key_size != bpf_map__key_size(lm) || ci.value_size != bpf_map__value_size(lm) ||
		    ci.max_entries != bpf_map__max_entries(lm)) {
			mismatch(what, "map %zu: comb %s type %u key %u value %u max %u, libbpf %s type %u key %u value %u max %u",
				 i, ci.name, ci.type, ci.key_size, ci.value_size, ci.max_entries, bpf_map__name(lm),
				 bpf_map__type(lm), bpf_map__key_size(lm), bpf_map__value_size(lm),
				 bpf_map__max_entries(lm));
			return 1;
		}
		i++;
		maps_compared++;
	}
	while (i < n && !comb_object_map_info(co, i, &ci) && is_inner_template(ci.name))
		i++;
	if (i != n) {
		mismatch(what, "comb has more maps than libbpf (%s)", ci.name);
		return 1;
	}
	return 0;
}

static void compare_image(const char *what, const void *data, size_t size)
{
	char err[512];
	struct comb_object *co = NULL;
	struct comb_object_open_opts copts = { .sz = sizeof(copts), .name = what };
	int rc = comb_object_open_mem(data, size, &copts, &co, err, sizeof(err));
	if (rc) {
		mismatch(what, "comb cannot open it: %s", err);
		failed++;
		return;
	}
	LIBBPF_OPTS(bpf_object_open_opts, lopts, .object_name = "cmp");
	struct bpf_object *lo = bpf_object__open_mem(data, size, &lopts);
	int bad = 0;
	if (!lo || libbpf_get_error(lo))
		printf("  %s: libbpf cannot open it; compared for opening only\n", what);
	else
		bad = compare_progs(what, co, lo) || compare_maps(what, co, lo);
	if (lo && !libbpf_get_error(lo))
		bpf_object__close(lo);
	comb_object_close(co);
	if (bad)
		failed++;
	else
		passed++;
}

/* bpf_images_for_each() callback. */
static void compare_found(const char *what, const unsigned char *image, size_t size, void *arg)
{
	compare_image(what, image, size);
}

int main(int argc, char **argv)
{
	libbpf_set_print(quiet_libbpf);
	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			struct stat st;
			if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
				bpf_images_in_dir(argv[i], false, compare_found, NULL);
			else
				bpf_images_in_file(argv[i], false, compare_found, NULL);
		}
	} else {
		bpf_images_in_corpus(compare_found, NULL);
	}
	printf("compared %zu programs and %zu maps\n", progs_compared, maps_compared);
	printf("object-compare: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
