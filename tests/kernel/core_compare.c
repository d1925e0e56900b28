/* tests/kernel/core_compare.c - comb's CO-RE against libbpf's on real objects.
 *
 * For every BPF object on this machine that has CO-RE relocations (Debian's
 * xdp-tools objects in /usr/lib/x86_64-linux-gnu/bpf and the BPF ELF images
 * embedded in the binaries of /usr/sbin, libbpf-tools' CO-RE objects):
 *  - comb: comb_object_open_mem + comb_object_load into a VM; when the whole
 *    object does not load (a helper or map comb lacks), each program is
 *    relocated on its own with loader_core_prog (CO-RE without loading);
 *  - libbpf: bpf_object__open_mem + bpf_object__load, which applies CO-RE
 *    against /sys/kernel/btf/vmlinux and loads into the kernel. A program the
 *    kernel refuses (or a map it cannot create) is turned off
 *    (bpf_program__set_autoload(false), bpf_map__set_autocreate(false)) and
 *    the object reopened and loaded again. bpf_program__insns() then holds
 *    what libbpf gave the kernel; for a refused program, the instructions it
 *    gave the kernel in the attempt that failed on it (libbpf applies CO-RE
 *    to every program before loading any) are kept and compared too. An
 *    object where libbpf relocates nothing is reported as skipped.
 * At every CO-RE relocation site (insn offsets from .BTF.ext, mapped into
 * each program: the entry function at 0, each subprogram where its code is
 * found in libbpf's program, trying comb's position first) the relocated
 * instruction must agree: both poisoned (call 0xbad2310), or the same opcode,
 * offset and immediate. Each relocation compared counts once; a mismatch
 * prints object, program, kind, access string and both values.
 * Ends with "core-compare: N passed, N failed"; skips when bpf() is denied.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "comb/object.h"
#include "bpf_images.h"
#include "comb/vm.h"
#include "loader/btf.h"
#include "loader/core.h"
#include "loader/internal.h"

#define LIBBPF_POISON 0xbad2310

static int passed, failed;
static int sites_changed, sites_poisoned;
static int objects_with_core, objects_skipped, progs_excluded, progs_refused_compared, comb_fallbacks;

/* ---- libbpf: load what the kernel accepts ---- */

static char last_prog[128], last_map[128];
static bool load_stage_failure; /* "prog 'X': failed to load": CO-RE was done for all */

/* Remember the last program or map libbpf complained about. */
static int capture_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	if (level != LIBBPF_WARN)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (getenv("CORE_COMPARE_VERBOSE"))
		fputs(line, stdout);
	const char *p;
	if ((p = strstr(line, "prog '")) && sscanf(p, "prog '%127[^']'", last_prog) == 1) {
		if (strstr(p, "': failed to load:"))
			load_stage_failure = true;
		return 0;
	}
	if ((p = strstr(line, "map '")))
		sscanf(p, "map '%127[^']'", last_map);
	return 0;
}

struct name_list {
	char names[256][128];
	int count;
};

static bool in_list(const struct name_list *l, const char *name)
{
	for (int i = 0; i < l->count; i++)
		if (strcmp(l->names[i], name) == 0)
			return true;
	return false;
}

static bool add_name(struct name_list *l, const char *name)
{
	if (!name[0] || in_list(l, name) || l->count == 256)
		return false;
	snprintf(l->names[l->count++], sizeof(l->names[0]), "%s", name);
	return true;
}

/* Programs the kernel refused: libbpf had relocated them (CO-RE included)
 * before the kernel's verdict, so what it passed to the kernel is kept. */
struct refused_prog {
	char name[128];
	struct bpf_insn *insns;
	size_t count;
};
static struct refused_prog refused[256];
static int refused_count;

static void forget_refused(void)
{
	for (int i = 0; i < refused_count; i++)
		free(refused[i].insns);
	refused_count = 0;
}

static void keep_refused(struct bpf_object *lo, const char *name)
{
	struct bpf_program *lp = bpf_object__find_program_by_name(lo, name);
	const struct bpf_insn *insns = lp ? bpf_program__insns(lp) : NULL;
	size_t n = lp ? bpf_program__insn_cnt(lp) : 0;
	if (!insns || refused_count == 256)
		return;
	struct refused_prog *r = &refused[refused_count];
	r->insns = malloc(n * sizeof(*insns));
	if (!r->insns)
		return;
	memcpy(r->insns, insns, n * sizeof(*insns));
	r->count = n;
	snprintf(r->name, sizeof(r->name), "%s", name);
	refused_count++;
}

static const struct refused_prog *find_refused(const char *name)
{
	for (int i = 0; i < refused_count; i++)
		if (strcmp(refused[i].name, name) == 0)
			return &refused[i];
	return NULL;
}

/* Open and load, turning off what the kernel refuses (keeping the refused
 * programs' instructions when libbpf got as far as loading them); NULL when
 * nothing loads. */
static struct bpf_object *libbpf_load(const void *data, size_t size, int *loaded_progs)
{
	static struct name_list off_progs, off_maps;
	off_progs.count = off_maps.count = 0;
	for (int attempt = 0; attempt < 64; attempt++) {
		LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "core_cmp");
		struct bpf_object *lo = bpf_object__open_mem(data, size, &opts);
		if (!lo || libbpf_get_error(lo))
			return NULL;
		struct bpf_program *lp;
		int on = 0;
		bpf_object__for_each_program(lp, lo) {
			if (in_list(&off_progs, bpf_program__name(lp)))
				bpf_program__set_autoload(lp, false);
			else
				on++;
		}
		struct bpf_map *lm;
		bpf_object__for_each_map(lm, lo) {
			bpf_map__set_pin_path(lm, NULL); /* LIBBPF_PIN_BY_NAME maps: nothing in /sys/fs/bpf */
			if (in_list(&off_maps, bpf_map__name(lm)))
				bpf_map__set_autocreate(lm, false);
		}
		if (on == 0) {
			bpf_object__close(lo);
			return NULL;
		}
		last_prog[0] = last_map[0] = 0;
		load_stage_failure = false;
		if (bpf_object__load(lo) == 0) {
			*loaded_progs = on;
			return lo;
		}
		if (load_stage_failure && last_prog[0])
			keep_refused(lo, last_prog);
		bpf_object__close(lo);
		if (!add_name(&off_progs, last_prog) && !add_name(&off_maps, last_map))
			return NULL;
	}
	return NULL;
}

/* ---- comb ---- */

struct comb_side {
	struct comb_object *obj;
	struct comb_vm *vm;
	bool loaded;
};

/* Relocated instructions of program i: the loaded ones, or loader_core_prog's. */
static int comb_side_insns(struct comb_side *cs, size_t i, struct loader_core_prog *out, char *err,
			   size_t len)
{
	const struct obj_prog *p = &cs->obj->progs[i];
	if (cs->loaded && p->insns) {
		memset(out, 0, sizeof(*out));
		out->insns = malloc(p->count * sizeof(*p->insns));
		out->segs = malloc((p->seg_count + 1) * sizeof(*p->segs));
		if (!out->insns || !out->segs)
			return -ENOMEM;
		memcpy(out->insns, p->insns, p->count * sizeof(*p->insns));
		memcpy(out->segs, p->segs, p->seg_count * sizeof(*p->segs));
		out->count = p->count;
		out->seg_count = p->seg_count;
		return 0;
	}
	comb_fallbacks++;
	return loader_core_prog(cs->obj, i, out, err, len);
}

/* ---- comparing one site ---- */

static bool is_poison(const struct bpf_insn *in)
{
	return in->code == (BPF_JMP | BPF_CALL) && (uint32_t)in->imm == LIBBPF_POISON;
}

static bool is_lddw(uint8_t code)
{
	return code == (BPF_LD | BPF_IMM | BPF_DW);
}

/* The value a relocation wrote, for messages. */
static void describe(const struct bpf_insn *in, size_t avail, char *buf, size_t len)
{
	if (is_poison(in))
		snprintf(buf, len, "poisoned");
	else if (is_lddw(in->code) && avail > 1)
		snprintf(buf, len, "lddw imm %llu", (unsigned long long)((uint32_t)in[0].imm |
									 (uint64_t)(uint32_t)in[1].imm << 32));
	else if (BPF_CLASS(in->code) == BPF_ALU || BPF_CLASS(in->code) == BPF_ALU64)
		snprintf(buf, len, "op 0x%02x imm %d", in->code, in->imm);
	else
		snprintf(buf, len, "op 0x%02x off %d", in->code, in->off);
}

static bool same_site(const struct bpf_insn *c, size_t c_avail, const struct bpf_insn *l, size_t l_avail)
{
	if (is_poison(c) || is_poison(l))
		return is_poison(c) && is_poison(l);
	if (c->code != l->code || c->off != l->off || c->imm != l->imm)
		return false;
	if (is_lddw(c->code))
		return c_avail > 1 && l_avail > 1 && c[1].imm == l[1].imm;
	return true;
}

/* ---- placing a function in libbpf's program ---- */

struct site_set {
	bool *site; /* per instruction of the function: a CO-RE site (or its lddw tail) */
};

static bool placed_at(const struct bpf_insn *orig, size_t len, const bool *site, const struct bpf_insn *li,
		      size_t lcnt, size_t at)
{
	if (at > lcnt || len > lcnt - at)
		return false;
	for (size_t j = 0; j < len; j++) {
		if (site[j])
			continue;
		/* libbpf poisons an lddw of a map it did not create (call 2001000000 + map) */
		if (is_lddw(orig[j].code) && li[at + j].code == (BPF_JMP | BPF_CALL) && j + 1 < len) {
			j++;
			continue;
		}
		if (li[at + j].code != orig[j].code || li[at + j].dst_reg != orig[j].dst_reg)
			return false;
	}
	return true;
}

/* Where libbpf put the function: hint if its code is there, else the first
 * place it is found; -1 when nowhere. */
static long place_function(const struct bpf_insn *orig, size_t len, const bool *site, const struct bpf_insn *li,
			   size_t lcnt, size_t hint)
{
	if (placed_at(orig, len, site, li, lcnt, hint))
		return (long)hint;
	for (size_t at = 0; at + len <= lcnt; at++)
		if (placed_at(orig, len, site, li, lcnt, at))
			return (long)at;
	return -1;
}

/* ---- one program ---- */

struct prog_ctx {
	const char *what;
	struct comb_object *obj;
	const char *prog;
	const struct bpf_insn *ci, *li;
	size_t ccnt, lcnt;
};

static void report(const struct prog_ctx *pc, const struct comb_core_relo *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(const struct prog_ctx *pc, const struct comb_core_relo *r, const char *fmt, ...)
{
	const char *access = btf__name_by_offset(pc->obj->btf, r->access_str_off);
	const struct btf_type *t = btf__type_by_id(pc->obj->btf, r->type_id);
	const char *type = t ? btf__name_by_offset(pc->obj->btf, t->name_off) : NULL;
	printf("FAIL %s prog %s: %s [%u] %s access \"%s\" (insn_off %u): ", pc->what, pc->prog,
	       comb_core_kind_name(r->kind), r->type_id, type && *type ? type : "(anon)",
	       access ? access : "?", r->insn_off);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failed++;
}

static void compare_segment(const struct prog_ctx *pc, const struct loader_segment *seg)
{
	const struct elf_section *s = &pc->obj->elf.sections[seg->sec];
	const struct comb_btf_ext_section *recs =
		comb_btf_ext_find(pc->obj->btf_ext, COMB_BTF_EXT_CORE_RELO, s->name);
	if (!recs || !recs->count)
		return;
	bool *site = calloc(seg->len + 1, sizeof(*site));
	if (!site)
		return;
	size_t n = 0;
	const struct bpf_insn *orig = (const struct bpf_insn *)s->data + seg->start;
	for (size_t i = 0; i < recs->count; i++) {
		size_t idx = recs->core_relo[i].insn_off / 8;
		if (idx < seg->start || idx >= seg->start + seg->len)
			continue;
		site[idx - seg->start] = true;
		if (is_lddw(orig[idx - seg->start].code))
			site[idx - seg->start + 1] = true;
		n++;
	}
	long at = n ? (seg->out == 0 ? 0 : place_function(orig, seg->len, site, pc->li, pc->lcnt, seg->out)) : 0;
	for (size_t i = 0; n && i < recs->count; i++) {
		const struct comb_core_relo *r = &recs->core_relo[i];
		size_t idx = r->insn_off / 8;
		if (idx < seg->start || idx >= seg->start + seg->len)
			continue;
		if (at < 0) {
			report(pc, r, "function at section insn %zu not found in libbpf's program", seg->start);
			continue;
		}
		size_t ck = seg->out + idx - seg->start, lk = (size_t)at + idx - seg->start;
		if (ck >= pc->ccnt || lk >= pc->lcnt) {
			report(pc, r, "site outside the program (comb %zu/%zu, libbpf %zu/%zu)", ck, pc->ccnt, lk,
			       pc->lcnt);
			continue;
		}
		if (same_site(&pc->ci[ck], pc->ccnt - ck, &pc->li[lk], pc->lcnt - lk)) {
			passed++;
			if (is_poison(&pc->li[lk]))
				sites_poisoned++;
			else if (memcmp(&pc->li[lk], &orig[idx - seg->start], sizeof(*orig)))
				sites_changed++;
			continue;
		}
		char cv[64], lv[64];
		describe(&pc->ci[ck], pc->ccnt - ck, cv, sizeof(cv));
		describe(&pc->li[lk], pc->lcnt - lk, lv, sizeof(lv));
		report(pc, r, "comb %s, libbpf %s", cv, lv);
	}
	free(site);
}

/* libbpf's instructions for program name: loaded, or kept when refused. */
static const struct bpf_insn *libbpf_insns(struct bpf_object *lo, const char *name, size_t *count)
{
	struct bpf_program *lp = lo ? bpf_object__find_program_by_name(lo, name) : NULL;
	if (lp && bpf_program__autoload(lp)) {
		*count = bpf_program__insn_cnt(lp);
		return bpf_program__insns(lp);
	}
	const struct refused_prog *r = find_refused(name);
	*count = r ? r->count : 0;
	return r ? r->insns : NULL;
}

static void compare_prog(const char *what, struct comb_side *cs, size_t i, struct bpf_object *lo)
{
	struct obj_prog *p = &cs->obj->progs[i];
	struct prog_ctx pc = { .what = what, .obj = cs->obj, .prog = p->name };
	pc.li = libbpf_insns(lo, p->name, &pc.lcnt);
	if (!pc.li) {
		progs_excluded++;
		return;
	}
	if (find_refused(p->name))
		progs_refused_compared++;
	struct loader_core_prog cp;
	char err[512] = "";
	if (comb_side_insns(cs, i, &cp, err, sizeof(err))) {
		printf("FAIL %s prog %s: comb cannot apply CO-RE, libbpf did: %s\n", what, p->name, err);
		failed++;
		loader_core_prog_free(&cp);
		return;
	}
	pc.ci = (const struct bpf_insn *)cp.insns;
	pc.ccnt = cp.count;
	for (size_t k = 0; k < cp.seg_count; k++)
		compare_segment(&pc, &cp.segs[k]);
	loader_core_prog_free(&cp);
}

/* ---- one object ---- */

static size_t core_relo_count(const struct comb_object *obj)
{
	size_t n = 0;
	for (size_t k = 0; obj->btf_ext && k < comb_btf_ext_section_count(obj->btf_ext, COMB_BTF_EXT_CORE_RELO); k++)
		n += comb_btf_ext_section(obj->btf_ext, COMB_BTF_EXT_CORE_RELO, k)->count;
	return n;
}

static void compare_image(const char *what, const void *data, size_t size)
{
	char err[512] = "";
	struct comb_side cs = { 0 };
	struct comb_object_open_opts copts = { .sz = sizeof(copts), .name = what };
	if (comb_object_open_mem(data, size, &copts, &cs.obj, err, sizeof(err))) {
		printf("FAIL %s: comb cannot open it: %s\n", what, err);
		failed++;
		return;
	}
	if (core_relo_count(cs.obj) == 0) {
		comb_object_close(cs.obj);
		return;
	}
	objects_with_core++;
	struct comb_vm_opts vopts = { .sz = sizeof(vopts) };
	/* CO-RE is compared here; verdicts are kernel-verdicts' business. */
	if (comb_vm_new(&vopts, &cs.vm) == 0 && comb_object_set_verify(cs.obj, false) == 0)
		cs.loaded = comb_object_load(cs.obj, cs.vm, err, sizeof(err)) == 0;
	int on = 0;
	struct bpf_object *lo = libbpf_load(data, size, &on);
	if (!lo && refused_count == 0) {
		printf("  %s: skipped (libbpf relocates none of its programs for the kernel)\n", what);
		objects_skipped++;
	} else {
		for (size_t i = 0; i < cs.obj->prog_count; i++)
			compare_prog(what, &cs, i, lo);
	}
	if (lo)
		bpf_object__close(lo);
	forget_refused();
	comb_object_close(cs.obj);
	comb_vm_free(cs.vm);
}

/* ---- finding objects (bpf_images.h: the corpus object_compare.c walks too) ---- */

/* bpf_images_for_each() callback. */
static void compare_found(const char *what, const unsigned char *image, size_t size, void *arg)
{
	compare_image(what, image, size);
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
	libbpf_set_print(capture_libbpf);
	if (!bpf_allowed()) {
		printf("core-compare: skipped (bpf() is denied: %s)\n", strerror(errno));
		printf("core-compare: 0 passed, 0 failed\n");
		return 0;
	}
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			bpf_images_in_file(argv[i], true, compare_found, NULL);
	} else {
		bpf_images_in_corpus(compare_found, NULL);
	}
	printf("%d objects with CO-RE relocations, %d skipped (libbpf relocated nothing for the kernel); "
	       "%d programs the kernel refused compared as libbpf passed them, %d not compared; "
	       "%d programs relocated by comb without a whole-object load\n",
	       objects_with_core, objects_skipped, progs_refused_compared, progs_excluded, comb_fallbacks);
	printf("%d relocated instructions differ from the object's, %d poisoned\n", sites_changed, sites_poisoned);
	printf("core-compare: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
