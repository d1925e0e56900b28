/* tests/unit/test_core_index.c - the CO-RE target index and the kernel BTF
 * fast path.
 *
 * comb_core_target indexes a target BTF by essential name; these tests check
 * that candidates found through it are the ones a scan of every target type
 * finds (TYPE_ID_TARGET relocations for a sample of vmlinux's structs,
 * unions and enums, under a ___flavour too, must give the unique match, 0, or
 * the ambiguity error a scan predicts), and that the kernel's BTF, which
 * comb_btf_load_target no longer validates, passes comb_btf_validate.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "../test.h"
#include "loader/btf.h"
#include "loader/core.h"

static bool have_vmlinux(const char *test)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return true;
	fprintf(stderr, "%s: skipped (no /sys/kernel/btf/vmlinux)\n", test);
	return false;
}

TEST(core_kernel_btf_passes_full_validation)
{
	if (!have_vmlinux("core_kernel_btf_passes_full_validation"))
		return;
	struct btf *fast = NULL, *parsed = btf__parse("/sys/kernel/btf/vmlinux", NULL);
	char err[256] = "";
	CHECK_EQ(comb_btf_load_target(NULL, &fast, err, sizeof(err)), 0);
	CHECK(fast && parsed);
	if (!fast || !parsed)
		return;
	CHECK_EQ(btf__type_cnt(fast), btf__type_cnt(parsed));
	CHECK_EQ(comb_btf_validate(fast, err, sizeof(err)), 0);
	btf__free(fast);
	btf__free(parsed);
}

/* What a scan of every target type finds for a local root of this kind and
 * essential name: the single compatible id, 0 for none, -1 for several. */
static int64_t scan_expect(const struct btf *target, const struct btf_type *local_t, const char *name)
{
	int64_t found = 0;
	for (uint32_t id = 1; id < btf__type_cnt(target); id++) {
		const struct btf_type *t = btf__type_by_id(target, id);
		if (!btf_kind_core_compat(t, local_t) || strcmp(btf__name_by_offset(target, t->name_off), name))
			continue;
		if (found)
			return -1;
		found = id;
	}
	return found;
}

/* A local type named local_name (essential name: name) of target type tid's
 * kind, relocated with TYPE_ID_TARGET: 1 when the result is what a scan
 * predicts. */
static int check_one(const struct btf *target, const struct comb_core_target *index, uint32_t tid,
		     const char *local_name, const char *name)
{
	const struct btf_type *tt = btf__type_by_id(target, tid);
	struct btf *local = btf__new_empty();
	if (!local)
		return 0;
	int lid = btf_is_any_enum(tt) ? btf__add_enum(local, local_name, 4)
		: btf_is_union(tt) ? btf__add_union(local, local_name, 0)
				   : btf__add_struct(local, local_name, 0);
	int access = btf__add_str(local, "0");
	int ok = 0;
	if (lid > 0 && access > 0) {
		struct comb_core_relo relo = { 0, (uint32_t)lid, (uint32_t)access, COMB_CORE_TYPE_ID_TARGET };
		struct comb_insn insn = { .code = COMB_CLS_ALU64 | COMB_ALU_MOV | COMB_SRC_K, .imm = lid };
		struct comb_core_result res;
		char err[256] = "";
		int rc = comb_core_relocate_indexed(local, index, &relo, &insn, 1, &res, err, sizeof(err));
		int64_t want = scan_expect(target, btf__type_by_id(local, (uint32_t)lid), name);
		ok = want < 0 ? rc == -EINVAL : rc == 0 && !res.poisoned && res.new_val == (uint64_t)want;
		if (!ok)
			fprintf(stderr, "  %s (target [%u]): rc %d value %llu, scan says %lld (%s)\n", local_name,
				tid, rc, (unsigned long long)res.new_val, (long long)want, err);
	}
	btf__free(local);
	return ok;
}

TEST(core_index_finds_what_a_scan_finds)
{
	if (!have_vmlinux("core_index_finds_what_a_scan_finds"))
		return;
	struct btf *target = NULL;
	struct comb_core_target *index = NULL;
	char err[256] = "";
	CHECK_EQ(comb_btf_load_target(NULL, &target, err, sizeof(err)), 0);
	CHECK_EQ(comb_core_target_new(target, &index), 0);
	CHECK(comb_core_target_btf(index) == target);
	int checked = 0, bad = 0;
	for (uint32_t id = 1; id < btf__type_cnt(target); id += 37) {
		const struct btf_type *t = btf__type_by_id(target, id);
		const char *name = btf__name_by_offset(target, t->name_off);
		if (!name[0] || !(btf_is_composite(t) || btf_is_any_enum(t)) || strstr(name, "___"))
			continue;
		char flavoured[256];
		snprintf(flavoured, sizeof(flavoured), "%s___comb_test", name);
		bad += !check_one(target, index, id, name, name);
		bad += !check_one(target, index, id, flavoured, name);
		checked += 2;
	}
	/* A name no kernel has: no candidate, so value 0. */
	const struct btf_type *t = NULL;
	uint32_t sid = 1;
	for (; sid < btf__type_cnt(target) && !(t && btf_is_struct(t)); sid++)
		t = btf__type_by_id(target, sid);
	bad += !check_one(target, index, sid - 1, "comb_no_such_struct", "comb_no_such_struct");
	CHECK(checked > 100);
	CHECK_EQ(bad, 0);
	comb_core_target_free(index);
	btf__free(target);
}
