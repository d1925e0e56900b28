/* tests/unit/test_core.c - CO-RE: relocate tests/progs/core_fields.bpf.c
 * against the layout of core_target.bpf.c (fields moved, resized, vanished)
 * and against this kernel's vmlinux BTF. Expected values were derived by
 * hand from `bpftool btf dump` of the target and checked against libbpf in
 * core_libbpf_agrees (which loads the object into the kernel). Also builds
 * the object helpers (compile once, read sections) both test files use. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../test.h"
#include "btf_testlib.h"
#include "loader/btf.h"
#include "loader/core.h"

static char progs_dir[64];

static void remove_progs_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", progs_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", progs_dir);
}

const char *btf_test_object(const char *name)
{
	char *dir = progs_dir;
	static char path[16][256];
	static int used;
	if (!dir[0]) {
		snprintf(dir, sizeof(progs_dir), "/tmp/comb-progs-XXXXXX");
		if (!mkdtemp(dir))
			return NULL;
		atexit(remove_progs_dir);
	}
	char want[256];
	snprintf(want, sizeof(want), "%s/%s.bpf.o", dir, name);
	for (int i = 0; i < used; i++)
		if (strcmp(path[i], want) == 0)
			return path[i];
	if (used == 16)
		return NULL;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "clang-19 -g -O2 -target bpf -mcpu=v3 -I/usr/include/x86_64-linux-gnu "
		 "-c tests/progs/%s.bpf.c -o %s",
		 name, want);
	if (system(cmd) != 0)
		return NULL;
	memcpy(path[used], want, sizeof(want));
	return path[used++];
}

void *btf_test_section(const char *path, const char *section, size_t *size)
{
	void *copy = NULL;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	size_t shstrndx;
	if (elf && elf_getshdrstrndx(elf, &shstrndx) == 0) {
		for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
			GElf_Shdr sh;
			gelf_getshdr(scn, &sh);
			const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
			Elf_Data *d = elf_getdata(scn, NULL);
			if (name && strcmp(name, section) == 0 && d && d->d_size) {
				copy = malloc(d->d_size);
				memcpy(copy, d->d_buf, d->d_size);
				*size = d->d_size;
				break;
			}
		}
	}
	elf_end(elf);
	close(fd);
	return copy;
}

/* One object: BTF, parsed .BTF.ext and the instructions of one section. */
struct core_fixture {
	struct btf *local, *target;
	struct comb_btf_ext *ext;
	struct comb_insn *insns;
	size_t count;
	const struct comb_btf_ext_section *relos;
};

static void fixture_free(struct core_fixture *f)
{
	btf__free(f->local);
	btf__free(f->target);
	comb_btf_ext_free(f->ext);
	free(f->insns);
}

static int fixture_open(struct core_fixture *f, const char *section, const char *target_obj)
{
	char err[256] = "";
	memset(f, 0, sizeof(*f));
	const char *path = btf_test_object("core_fields");
	const char *target = target_obj ? btf_test_object(target_obj) : NULL;
	if (!path || (target_obj && !target))
		return -ENOENT;
	size_t btf_size = 0, ext_size = 0, insn_size = 0;
	void *btf_bytes = btf_test_section(path, ".BTF", &btf_size);
	void *ext_bytes = btf_test_section(path, ".BTF.ext", &ext_size);
	f->insns = btf_test_section(path, section, &insn_size);
	f->count = insn_size / 8;
	int rc = comb_btf_from_data(btf_bytes, btf_size, &f->local, err, sizeof(err));
	if (!rc)
		rc = comb_btf_ext_parse(ext_bytes, ext_size, f->local, &f->ext, err, sizeof(err));
	if (!rc)
		rc = comb_btf_load_target(target, &f->target, err, sizeof(err));
	free(btf_bytes);
	free(ext_bytes);
	if (rc) {
		fprintf(stderr, "  fixture: %s\n", err);
		return rc;
	}
	f->relos = comb_btf_ext_find(f->ext, COMB_BTF_EXT_CORE_RELO, section);
	return f->relos && f->insns ? 0 : -ENOENT;
}

/* The value an instruction holds after relocation: imm, LDDW imm64 or off. */
static uint64_t insn_value(const struct comb_insn *insn)
{
	if (comb_insn_is_lddw(insn))
		return (uint32_t)insn[0].imm | (uint64_t)(uint32_t)insn[1].imm << 32;
	int cls = COMB_CLASS(insn->code);
	if (cls == COMB_CLS_LDX || cls == COMB_CLS_ST || cls == COMB_CLS_STX)
		return (uint64_t)(int64_t)insn->off;
	return (uint64_t)(int64_t)insn->imm;
}

TEST(core_relocates_every_kind_against_moved_fields)
{
	struct core_fixture f;
	CHECK_EQ(fixture_open(&f, "xdp", "core_target"), 0);
	/* In relocation order (one per out[i], then the final LDX of p->z). */
	static const uint64_t expected[] = {
		8,           /* byte_off y: after long long z */
		8,           /* byte_sz z */
		0,           /* field_exists x: vanished */
		1,           /* signed y: short */
		35,          /* lshift_u64 mode: bits 88..92, loaded as u32 at byte 8 */
		59,          /* rshift_u64 mode: 5 bits */
		2,           /* local_type_id: unchanged */
		5,           /* target_type_id: [5] in core_target's BTF */
		1,           /* type_exists */
		40,          /* type_size */
		0,           /* enumval_exists CORE_RED: vanished */
		7,           /* enumval_value CORE_GREEN */
		0,           /* type_matches: x is missing from the target */
		32,          /* byte_off inner: through the anonymous union */
		24,          /* byte_off arr[2]: 16 + 2 * 4 */
		0,           /* type_exists core_local_only_t: not in the target */
		0x200000000, /* enumval_value CORE_BIG (ENUM64) */
		0,           /* LDX off of p->z */
	};
	/* 18 for core_fields, then core_missing's 2 and core_vmlinux's 1. */
	CHECK_EQ(f.relos->count, 21);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		struct comb_core_result res;
		char err[256] = "";
		int rc = comb_core_relocate(f.local, f.target, &f.relos->core_relo[i], f.insns,
					    f.count, &res, err, sizeof(err));
		if (rc)
			fprintf(stderr, "  relo %zu: %s\n", i, err);
		CHECK_EQ(rc, 0);
		CHECK(!res.poisoned);
		if (insn_value(&f.insns[res.insn_idx]) != expected[i])
			fprintf(stderr, "  relo %zu (%s)\n", i,
				comb_core_kind_name(f.relos->core_relo[i].kind));
		CHECK_EQ(insn_value(&f.insns[res.insn_idx]), expected[i]);
		CHECK_EQ(res.new_val, expected[i]);
	}
	/* The final load kept its 8-byte size (z is still a long long). */
	CHECK_EQ(COMB_SIZE(f.insns[39].code), COMB_SIZE_DW);
	fixture_free(&f);
}

TEST(core_missing_field_poisons_only_its_insn)
{
	struct core_fixture f;
	CHECK_EQ(fixture_open(&f, "xdp", "core_target"), 0);
	CHECK_EQ(comb_btf_ext_section_count(f.ext, COMB_BTF_EXT_CORE_RELO), 1);
	/* core_missing starts at insn 41 of the xdp section. */
	int poisoned = 0;
	for (size_t i = 0; i < f.relos->count; i++) {
		const struct comb_core_relo *r = &f.relos->core_relo[i];
		if (r->insn_off / 8 < 41 || r->insn_off / 8 > 45)
			continue;
		struct comb_core_result res;
		char err[256];
		CHECK_EQ(comb_core_relocate(f.local, f.target, r, f.insns, f.count, &res, err,
					    sizeof(err)),
			 0);
		if (r->kind == COMB_CORE_FIELD_EXISTS) {
			CHECK(!res.poisoned);
			CHECK_EQ(f.insns[res.insn_idx].imm, 0);
		} else {
			CHECK(res.poisoned);
			poisoned++;
			const struct comb_insn *p = &f.insns[res.insn_idx];
			CHECK_EQ(p->code, 0x85);
			CHECK_EQ(p->imm, 0xbad2310);
			CHECK_EQ(p->dst, 0);
			CHECK_EQ(p->src, 0);
			CHECK_EQ(p->off, 0);
		}
	}
	CHECK_EQ(poisoned, 1);
	fixture_free(&f);
}

TEST(core_relocates_against_vmlinux)
{
	struct core_fixture f;
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		fprintf(stderr, "core_relocates_against_vmlinux: skipped (no vmlinux BTF)\n");
		return;
	}
	CHECK_EQ(fixture_open(&f, "xdp", NULL), 0);
	/* The kernel's own answer: task_struct's pid member in vmlinux BTF. */
	int32_t id = btf__find_by_name_kind(f.target, "task_struct", BTF_KIND_STRUCT);
	CHECK(id > 0);
	const struct btf_type *t = btf__type_by_id(f.target, (uint32_t)id);
	uint32_t pid_off = UINT32_MAX;
	for (uint32_t i = 0; i < btf_vlen(t); i++)
		if (strcmp(btf__name_by_offset(f.target, btf_members(t)[i].name_off), "pid") == 0)
			pid_off = btf_member_bit_offset(t, i) / 8;
	CHECK(pid_off != UINT32_MAX && pid_off > 0);
	const struct comb_core_relo *r = &f.relos->core_relo[f.relos->count - 1];
	CHECK_EQ(r->insn_off / 8, 46);
	struct comb_core_result res;
	char err[256];
	CHECK_EQ(comb_core_relocate(f.local, f.target, r, f.insns, f.count, &res, err, sizeof(err)),
		 0);
	CHECK(!res.poisoned);
	CHECK_EQ(f.insns[46].imm, pid_off);
	/* core_point is not a kernel type: type_exists gives 0, byte_off poisons. */
	CHECK_EQ(comb_core_relocate(f.local, f.target, &f.relos->core_relo[8], f.insns, f.count,
				    &res, err, sizeof(err)),
		 0);
	CHECK(!res.poisoned);
	CHECK_EQ(res.new_val, 0);
	CHECK_EQ(comb_core_relocate(f.local, f.target, &f.relos->core_relo[0], f.insns, f.count,
				    &res, err, sizeof(err)),
		 0);
	CHECK(res.poisoned);
	fixture_free(&f);
}

TEST(core_rejects_bad_records)
{
	struct core_fixture f;
	CHECK_EQ(fixture_open(&f, "xdp", "core_target"), 0);
	struct comb_core_result res;
	char err[256];
	struct comb_core_relo r = f.relos->core_relo[0];
	r.insn_off = 3; /* not a multiple of 8 */
	CHECK_EQ(comb_core_relocate(f.local, f.target, &r, f.insns, f.count, &res, err, sizeof(err)),
		 -EINVAL);
	r = f.relos->core_relo[0];
	r.insn_off = (uint32_t)f.count * 8; /* past the end */
	CHECK(comb_core_relocate(f.local, f.target, &r, f.insns, f.count, &res, err, sizeof(err)) < 0);
	r = f.relos->core_relo[0];
	r.kind = 99;
	CHECK(comb_core_relocate(f.local, f.target, &r, f.insns, f.count, &res, err, sizeof(err)) < 0);
	r = f.relos->core_relo[0];
	r.type_id = 100000;
	CHECK(comb_core_relocate(f.local, f.target, &r, f.insns, f.count, &res, err, sizeof(err)) < 0);
	/* The insn does not hold the local value: libbpf refuses, so does comb. */
	r = f.relos->core_relo[0];
	f.insns[r.insn_off / 8].imm = 77;
	CHECK_EQ(comb_core_relocate(f.local, f.target, &r, f.insns, f.count, &res, err, sizeof(err)),
		 -EINVAL);
	CHECK(strstr(err, "unexpected insn imm") != NULL);
	fixture_free(&f);
}
