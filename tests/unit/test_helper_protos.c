/* tests/unit/test_helper_protos.c - the helper prototype table.
 *
 * Checks the generated table against its source (every id and name of
 * libbpf's bpf_helper_defs.h), against comb's own helpers (each one has a
 * hand-reviewed prototype with the same name), its internal consistency
 * (memory arguments come with their sizes), a few prototypes the verifier
 * will lean on, and the VM's message for a call to a helper it lacks.
 */
#include <errno.h>
#include <stdlib.h>
#include "../test.h"
#include "insn_build.h"
#include "comb/vm.h"
#include "verifier/helper_protos.h"

/* Each "= (void *) N;" line of bpf_helper_defs.h names helper N. */
TEST(protos_cover_every_helper_of_libbpf)
{
	FILE *f = fopen("/usr/include/bpf/bpf_helper_defs.h", "r");
	CHECK(f != NULL);
	char line[1024];
	unsigned seen = 0, max = 0;
	bool ok = true;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strstr(line, ") = (void *) ");
		char *name = strstr(line, "(*bpf_");
		if (!eq || !name)
			continue;
		unsigned id = (unsigned)strtoul(eq + strlen(") = (void *) "), NULL, 10);
		name += 2;
		size_t len = strcspn(name, ")");
		const struct comb_helper_proto *p = comb_helper_proto(id);
		if (!p || strlen(p->name) != len || strncmp(p->name, name, len) != 0) {
			test_fail(__FILE__, __LINE__, "helper %u (%.*s): table has %s", id, (int)len, name,
				  p ? p->name : "nothing");
			ok = false;
			break;
		}
		seen++;
		if (id > max)
			max = id;
	}
	fclose(f);
	CHECK(ok);
	CHECK(seen >= 211);
	CHECK_EQ(max, comb_helper_max_id());
}

TEST(protos_lookup_by_id_and_name)
{
	const struct comb_helper_proto *p = comb_helper_proto(1);
	CHECK(p != NULL);
	CHECK_STR(p->name, "bpf_map_lookup_elem");
	CHECK_EQ(p->id, 1);
	CHECK(comb_helper_proto_by_name("bpf_map_lookup_elem") == p);
	CHECK(comb_helper_proto_by_name("map_lookup_elem") == p);
	CHECK_STR(comb_helper_name(25), "bpf_perf_event_output");
	CHECK(comb_helper_proto(0) == NULL);
	CHECK(comb_helper_proto(comb_helper_max_id() + 1) == NULL);
	CHECK(comb_helper_proto(0xffffffffu) == NULL);
	CHECK(comb_helper_proto_by_name("bpf_no_such_helper") == NULL);
	CHECK(comb_helper_proto_by_name(NULL) == NULL);
	CHECK(comb_helper_name(0) == NULL);
}

TEST(protos_map_helpers)
{
	const struct comb_helper_proto *lookup = comb_helper_proto_by_name("map_lookup_elem");
	CHECK_EQ(lookup->ret, COMB_RET_PTR_TO_MAP_VALUE);
	CHECK(lookup->flags & COMB_HELPER_RET_MAYBE_NULL);
	CHECK_EQ(lookup->nargs, 2);
	CHECK_EQ(lookup->args[0].kind, COMB_ARG_CONST_MAP_PTR);
	CHECK_EQ(lookup->args[1].kind, COMB_ARG_PTR_TO_MAP_KEY);
	const struct comb_helper_proto *update = comb_helper_proto_by_name("map_update_elem");
	CHECK_EQ(update->ret, COMB_RET_INTEGER);
	CHECK_EQ(update->args[2].kind, COMB_ARG_PTR_TO_MAP_VALUE);
	CHECK_EQ(update->args[3].kind, COMB_ARG_ANYTHING);
	const struct comb_helper_proto *pop = comb_helper_proto_by_name("map_pop_elem");
	CHECK_EQ(pop->args[1].kind, COMB_ARG_PTR_TO_MAP_VALUE);
	CHECK(pop->args[1].flags & COMB_ARG_F_UNINIT);
}

TEST(protos_references_and_callbacks)
{
	const struct comb_helper_proto *reserve = comb_helper_proto_by_name("ringbuf_reserve");
	CHECK_EQ(reserve->ret, COMB_RET_PTR_TO_RINGBUF_MEM);
	CHECK(reserve->flags & COMB_HELPER_ACQUIRE);
	CHECK(reserve->flags & COMB_HELPER_RET_MAYBE_NULL);
	CHECK_EQ(reserve->args[1].kind, COMB_ARG_CONST_ALLOC_SIZE_OR_ZERO);
	const struct comb_helper_proto *submit = comb_helper_proto_by_name("ringbuf_submit");
	CHECK_EQ(submit->ret, COMB_RET_VOID);
	CHECK_EQ(submit->args[0].kind, COMB_ARG_PTR_TO_RINGBUF_MEM);
	CHECK(submit->args[0].flags & COMB_ARG_F_RELEASE);
	const struct comb_helper_proto *lookup = comb_helper_proto_by_name("sk_lookup_tcp");
	CHECK_EQ(lookup->ret, COMB_RET_PTR_TO_SOCKET);
	CHECK(lookup->flags & COMB_HELPER_ACQUIRE);
	CHECK(comb_helper_proto_by_name("sk_release")->args[0].flags & COMB_ARG_F_RELEASE);
	const struct comb_helper_proto *loop = comb_helper_proto_by_name("loop");
	CHECK_EQ(loop->args[1].kind, COMB_ARG_PTR_TO_FUNC);
	CHECK_EQ(loop->args[2].kind, COMB_ARG_PTR_TO_STACK);
	CHECK(loop->args[2].flags & COMB_ARG_F_MAYBE_NULL);
	CHECK_EQ(comb_helper_proto_by_name("spin_lock")->args[0].kind, COMB_ARG_PTR_TO_SPIN_LOCK);
	CHECK_EQ(comb_helper_proto_by_name("strtol")->args[3].kind, COMB_ARG_PTR_TO_LONG);
	CHECK_EQ(comb_helper_proto_by_name("check_mtu")->args[2].kind, COMB_ARG_PTR_TO_INT);
	const struct comb_helper_proto *task = comb_helper_proto_by_name("get_current_task_btf");
	CHECK_EQ(task->ret, COMB_RET_PTR_TO_BTF_ID);
	CHECK_STR(task->ret_btf, "task_struct");
	CHECK_EQ(comb_helper_proto_by_name("dynptr_read")->args[2].kind, COMB_ARG_PTR_TO_DYNPTR);
}

/* A memory argument is followed by its size unless the kernel fixes the size
 * (the raw syncookie helpers take a whole iphdr/ipv6hdr); a size always
 * follows a memory argument. */
TEST(protos_memory_comes_with_its_size)
{
	for (uint32_t id = 1; id <= comb_helper_max_id(); id++) {
		const struct comb_helper_proto *p = comb_helper_proto(id);
		CHECK(p != NULL);
		CHECK(p->nargs <= COMB_HELPER_MAX_ARGS);
		bool fixed = strncmp(p->name, "bpf_tcp_raw_", 12) == 0;
		for (unsigned i = 0; i < p->nargs; i++) {
			uint8_t k = p->args[i].kind;
			uint8_t next = i + 1 < p->nargs ? p->args[i + 1].kind : COMB_ARG_NONE;
			uint8_t prev = i ? p->args[i - 1].kind : COMB_ARG_NONE;
			bool next_is_size = next == COMB_ARG_CONST_SIZE || next == COMB_ARG_CONST_SIZE_OR_ZERO;
			if (k == COMB_ARG_PTR_TO_MEM && !next_is_size && !fixed)
				test_fail(__FILE__, __LINE__, "%s: argument %u has no size", p->name, i + 1);
			if ((k == COMB_ARG_CONST_SIZE || k == COMB_ARG_CONST_SIZE_OR_ZERO) &&
			    prev != COMB_ARG_PTR_TO_MEM)
				test_fail(__FILE__, __LINE__, "%s: size %u follows no memory", p->name, i + 1);
			CHECK(k != COMB_ARG_NONE);
			CHECK(strncmp(comb_helper_arg_name(k), "ARG_", 4) == 0);
		}
		CHECK(p->progs != 0);
		CHECK(strncmp(comb_helper_ret_name(p->ret), "RET_", 4) == 0);
		CHECK(p->flags & COMB_HELPER_REVIEWED);
	}
}

TEST(protos_program_types)
{
	const struct comb_helper_proto *adjust = comb_helper_proto_by_name("xdp_adjust_head");
	CHECK(comb_helper_allowed(adjust, BPF_PROG_TYPE_XDP));
	CHECK(!comb_helper_allowed(adjust, BPF_PROG_TYPE_SCHED_CLS));
	const struct comb_helper_proto *store = comb_helper_proto_by_name("skb_store_bytes");
	CHECK(comb_helper_allowed(store, BPF_PROG_TYPE_SCHED_CLS));
	CHECK(!comb_helper_allowed(store, BPF_PROG_TYPE_XDP));
	CHECK(!comb_helper_allowed(store, BPF_PROG_TYPE_KPROBE));
	const struct comb_helper_proto *probe = comb_helper_proto_by_name("probe_read_kernel");
	CHECK(comb_helper_allowed(probe, BPF_PROG_TYPE_KPROBE));
	CHECK(comb_helper_allowed(probe, BPF_PROG_TYPE_TRACING));
	CHECK(!comb_helper_allowed(probe, BPF_PROG_TYPE_XDP));
	const struct comb_helper_proto *output = comb_helper_proto_by_name("perf_event_output");
	CHECK(comb_helper_allowed(output, BPF_PROG_TYPE_KPROBE));
	CHECK(comb_helper_allowed(output, BPF_PROG_TYPE_XDP));
	CHECK(comb_helper_allowed(comb_helper_proto(1), BPF_PROG_TYPE_SOCKET_FILTER));
	CHECK(!comb_helper_allowed(comb_helper_proto(1), BPF_PROG_TYPE_UNSPEC));
	CHECK(!comb_helper_allowed(NULL, BPF_PROG_TYPE_XDP));
}

/* Every helper comb registers has a reviewed prototype of the same name. */
TEST(protos_cover_comb_helpers)
{
	struct comb_vm *vm;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	unsigned registered = 0;
	for (uint32_t id = 1; id <= comb_helper_max_id(); id++) {
		const char *name = comb_vm_helper_name(vm, id);
		if (!name)
			continue;
		registered++;
		const struct comb_helper_proto *p = comb_helper_proto(id);
		if (!p || !(p->flags & COMB_HELPER_REVIEWED) || strcmp(p->name + 4, name) != 0)
			test_fail(__FILE__, __LINE__, "comb helper %u (%s): prototype %s", id, name,
				  p ? p->name : "missing");
	}
	comb_vm_free(vm);
	CHECK(registered >= 40);
}

/* A call to a kernel helper comb lacks loads (the path may be dead) and
 * fails when it runs, naming the helper; an id that is no kernel helper and
 * was not registered is refused at load. */
TEST(protos_vm_names_missing_helper)
{
	struct comb_vm *vm;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	uint32_t missing = 0;
	for (uint32_t id = 1; id <= comb_helper_max_id() && !missing; id++)
		if (id != 12 && !comb_vm_helper_name(vm, id))
			missing = id;
	CHECK(missing != 0);
	/* r1 == 0 skips the call. */
	struct comb_insn insns[] = { MOV64_IMM(0, 5), JMP_IMM(COMB_JMP_JEQ, 1, 0, 1),
				     CALL_HELPER((int32_t)missing), EXIT() };
	struct comb_prog *prog = NULL;
	char err[256] = "", want[256];
	int rc = comb_prog_load(vm, insns, ARRAY_SIZE(insns), NULL, &prog, err, sizeof(err));
	CHECK_EQ(rc, 0);
	snprintf(want, sizeof(want), "program calls helper %u (%s), which comb does not implement", missing,
		 comb_helper_name(missing));
	for (int engine = COMB_ENGINE_INTERP; engine <= COMB_ENGINE_CHECKED; engine++) {
		struct comb_run_error run_err;
		struct comb_run_opts opts = { .sz = sizeof(opts), .engine = engine, .error = &run_err };
		uint64_t r0 = 0;
		CHECK_EQ(comb_prog_run(prog, &opts, &r0), 0);
		CHECK_EQ(r0, 5);
		opts.args[0] = 1;
		CHECK_EQ(comb_prog_run(prog, &opts, &r0), -ENOSYS);
		CHECK_EQ(run_err.insn, 2);
		CHECK_STR(run_err.message, want);
	}
	comb_prog_free(prog);
	struct comb_insn bogus[] = { CALL_HELPER(9999), EXIT() };
	char err2[256] = "";
	int rc2 = comb_prog_load(vm, bogus, ARRAY_SIZE(bogus), NULL, &prog, err2, sizeof(err2));
	comb_vm_free(vm);
	CHECK_EQ(rc2, -ENOENT);
	CHECK(strstr(err2, "insn 0: program calls helper 9999, which is neither a kernel helper") == err2);
}
