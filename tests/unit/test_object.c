/* tests/unit/test_object.c - the ELF object loader (include/comb/object.h).
 *
 * Uses the objects clang builds from tests/progs/obj_*.bpf.c (found next to
 * the unit-test binary, in BUILD/progs): program and map lists, global data
 * and `const volatile` configuration, .text subprograms appended once,
 * legacy maps, map-in-map and prog-array initial values, .kconfig, section
 * name rules, and hostile input (truncated, corrupted, bad relocations),
 * which must fail with a located message and never crash.
 */
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "comb/object.h"
#include "loader/internal.h"
#include "../test.h"
#include "prog_objects.h"

static unsigned char *object_read(const char *name, size_t *size, char *path, size_t path_len)
{
	if (prog_object_path(name, path, path_len))
		return NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "  %s is missing: build it with make (rule $(BUILD)/progs/%%.bpf.o)\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
	if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = (size_t)len;
	return buf;
}

static uint64_t object_run(struct comb_object *obj, const char *prog)
{
	uint64_t r0 = UINT64_MAX;
	int idx = comb_object_find_prog(obj, prog);
	if (idx < 0)
		return UINT64_MAX - 1;
	/* Verified programs run in DEFAULT (the JIT); an object loaded
	 * unverified on purpose runs in the trusting interpreter. */
	const struct comb_prog *p = comb_object_prog(obj, (size_t)idx);
	struct comb_run_opts opts = { .sz = sizeof(opts),
				      .engine = comb_prog_verified(p) ? COMB_ENGINE_DEFAULT : COMB_ENGINE_INTERP };
	if (comb_prog_run(p, &opts, &r0) != 0)
		return UINT64_MAX - 1;
	return r0;
}

static void *object_map_value(struct comb_object *obj, const char *map)
{
	int idx = comb_object_find_map(obj, map);
	return idx < 0 ? NULL : comb_map_array_value(comb_object_map(obj, (size_t)idx), 0);
}

TEST(object_lists_programs_and_maps)
{
	struct comb_object *obj = prog_object_open("obj_globals.bpf.o");
	CHECK(obj);
	struct comb_object_prog_info pi;
	CHECK_EQ(comb_object_prog_count(obj), 3);
	CHECK_EQ(comb_object_prog_info(obj, 0, &pi), 0);
	CHECK_STR(pi.name, "obj_main");
	CHECK_STR(pi.section, "xdp");
	CHECK_EQ(pi.prog_type, BPF_PROG_TYPE_XDP);
	CHECK_EQ(pi.expected_attach_type, BPF_XDP);
	CHECK(pi.insn_count > 10);
	CHECK_EQ(comb_object_prog_info(obj, 1, &pi), 0);
	CHECK_STR(pi.name, "obj_second");
	CHECK_STR(pi.section, "xdp");
	CHECK_EQ(comb_object_prog_info(obj, 2, &pi), 0);
	CHECK_STR(pi.name, "obj_socket");
	CHECK_EQ(pi.prog_type, BPF_PROG_TYPE_SOCKET_FILTER);
	CHECK_EQ(comb_object_find_prog(obj, "socket"), 2);
	CHECK_EQ(comb_object_find_prog(obj, "nope"), -ENOENT);
	CHECK_STR(comb_object_license(obj), "GPL");

	struct comb_object_map_info mi;
	const char *names[] = { "obj_hash", "obj_array", ".rodata", ".data", ".data.custom", ".bss" };
	CHECK_EQ(comb_object_map_count(obj), 6);
	for (size_t i = 0; i < 6; i++) {
		CHECK_EQ(comb_object_map_info(obj, i, &mi), 0);
		CHECK_STR(mi.name, names[i]);
		CHECK_EQ(mi.is_global_data, i >= 2);
	}
	CHECK_EQ(comb_object_map_info(obj, 0, &mi), 0);
	CHECK_EQ(mi.type, BPF_MAP_TYPE_HASH);
	CHECK_EQ(mi.key_size, 4);
	CHECK_EQ(mi.value_size, 8);
	CHECK_EQ(mi.max_entries, 64);
	CHECK_EQ(mi.map_flags, BPF_F_NO_PREALLOC);
	CHECK_EQ(comb_object_map_info(obj, 1, &mi), 0);
	CHECK_EQ(mi.type, BPF_MAP_TYPE_ARRAY);
	CHECK_EQ(mi.value_size, 16);
	CHECK_EQ(mi.pinning, 1);
	CHECK_EQ(comb_object_map_info(obj, 2, &mi), 0);
	CHECK_EQ(mi.map_flags & BPF_F_RDONLY_PROG, BPF_F_RDONLY_PROG);
	CHECK_EQ(mi.max_entries, 1);
	comb_object_close(obj);
}

TEST(object_runs_with_globals_and_maps)
{
	struct comb_object *obj = prog_object_open("obj_globals.bpf.o");
	struct comb_vm *vm = NULL;
	char err[512];
	CHECK(obj);
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	CHECK_EQ(comb_object_load(obj, vm, err, sizeof(err)), 0);
	CHECK_EQ(object_run(obj, "obj_main"), 35);   /* (2*3 + 7) + (5*3 + 7) */
	CHECK_EQ(object_run(obj, "obj_main"), 35);
	uint64_t *counter = object_map_value(obj, ".data"), *total = object_map_value(obj, ".bss");
	CHECK(counter && total);
	CHECK_EQ(*counter, 102);
	CHECK_EQ(*total, 42);
	uint32_t key = 1;
	uint64_t hits = 0;
	CHECK_EQ(comb_map_lookup(comb_object_map(obj, 0), &key, &hits), 0);
	CHECK_EQ(hits, 2);
	CHECK_EQ(object_run(obj, "obj_second"), 102);
	uint32_t *slot = object_map_value(obj, "obj_array");
	CHECK(slot);
	CHECK_EQ(slot[0], 42);
	CHECK_EQ(object_run(obj, "obj_socket"), 10);
	CHECK_EQ(comb_object_load(obj, vm, err, sizeof(err)), -EBUSY);
	comb_object_close(obj);
	comb_vm_free(vm);
}

TEST(object_set_global_configures_rodata)
{
	struct comb_object *obj = prog_object_open("obj_globals.bpf.o");
	struct comb_vm *vm = NULL;
	char err[512];
	CHECK(obj);
	uint32_t scale = 10;
	uint64_t wrong = 1;
	CHECK_EQ(comb_object_set_global(obj, "scale", &wrong, sizeof(wrong)), -EINVAL);
	CHECK_EQ(comb_object_set_global(obj, "no_such_var", &scale, sizeof(scale)), -ENOENT);
	CHECK_EQ(comb_object_set_global(obj, "scale", &scale, sizeof(scale)), 0);
	size_t size = 0;
	int custom = comb_object_find_map(obj, ".data.custom");
	CHECK(custom >= 0);
	uint32_t *image = comb_object_global_data(obj, (size_t)custom, &size);
	CHECK(image);
	CHECK_EQ(size, 4);
	CHECK_EQ(*image, 7);
	*image = 1;
	CHECK(comb_object_global_data(obj, 0, &size) == NULL); /* obj_hash is no global data */
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	CHECK_EQ(comb_object_load(obj, vm, err, sizeof(err)), 0);
	CHECK_EQ(object_run(obj, "obj_main"), 72);   /* (20 + 1) + (50 + 1) */
	CHECK_EQ(comb_object_set_global(obj, "scale", &scale, sizeof(scale)), -EBUSY);
	/* As libbpf: .rodata is frozen once loaded, other global data is not. */
	struct comb_map *rodata = comb_object_map(obj, (size_t)comb_object_find_map(obj, ".rodata"));
	struct comb_map *data = comb_object_map(obj, (size_t)custom);
	uint32_t zero = 0;
	uint8_t bytes[64] = { 0 };
	CHECK(rodata && data);
	CHECK(comb_map_frozen(rodata));
	CHECK(!comb_map_frozen(data));
	CHECK_EQ(comb_map_update(rodata, &zero, bytes, 0), -EPERM);
	CHECK_EQ(comb_map_lookup(rodata, &zero, bytes), 0);
	CHECK_EQ(comb_map_update(data, &zero, bytes, 0), 0);
	CHECK_EQ(comb_map_freeze(rodata), -EPERM);
	comb_object_close(obj);
	comb_vm_free(vm);
}

TEST(object_subprogram_appended_once)
{
	struct comb_object *obj = prog_object_open("obj_globals.bpf.o");
	struct comb_vm *vm = NULL;
	char err[512];
	CHECK(obj);
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	CHECK_EQ(comb_object_load(obj, vm, err, sizeof(err)), 0);
	struct comb_object_prog_info pi;
	CHECK_EQ(comb_object_prog_info(obj, 0, &pi), 0);
	const struct comb_prog *prog = comb_object_prog(obj, 0);
	const struct comb_insn *in = comb_prog_insns(prog);
	size_t count = comb_prog_insn_count(prog), calls = 0;
	CHECK(count > pi.insn_count);
	long target = -1;
	for (size_t i = 0; i < count; i++) {
		if (in[i].code != (COMB_CLS_JMP | COMB_JMP_CALL) || in[i].src != COMB_CALL_LOCAL)
			continue;
		long t = (long)i + in[i].imm + 1;
		CHECK(target < 0 || t == target);
		CHECK_EQ(t, pi.insn_count); /* the subprogram follows the entry function */
		target = t;
		calls++;
	}
	CHECK_EQ(calls, 2);
	CHECK(comb_object_prog_line(obj, 0, 0) != NULL);
	CHECK(strstr(comb_object_prog_line(obj, 0, 0), "obj_globals.bpf.c:") != NULL);
	comb_object_close(obj);
	comb_vm_free(vm);
}

TEST(object_legacy_maps_section)
{
	struct comb_object *obj = prog_object_open("obj_legacy.bpf.o");
	struct comb_vm *vm = NULL;
	char err[512];
	CHECK(obj);
	struct comb_object_map_info mi;
	CHECK_EQ(comb_object_map_count(obj), 2);
	CHECK_EQ(comb_object_map_info(obj, 1, &mi), 0);
	CHECK_STR(mi.name, "legacy_hash");
	CHECK_EQ(mi.type, BPF_MAP_TYPE_HASH);
	CHECK_EQ(mi.key_size, 8);
	CHECK_EQ(mi.value_size, 4);
	CHECK_EQ(mi.max_entries, 16);
	CHECK_EQ(comb_object_kversion(obj), 0x050a00);
	struct comb_object_prog_info pi;
	CHECK_EQ(comb_object_prog_info(obj, 0, &pi), 0);
	CHECK_EQ(pi.prog_type, BPF_PROG_TYPE_SCHED_CLS);
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	CHECK_EQ(comb_object_load(obj, vm, err, sizeof(err)), 0);
	CHECK_EQ(object_run(obj, "legacy_prog"), 5);
	CHECK_EQ(object_run(obj, "legacy_prog"), 10);
	comb_object_close(obj);
	comb_vm_free(vm);
}

TEST(object_map_in_map_and_prog_array_values)
{
	struct comb_object *obj = prog_object_open("obj_mapinmap.bpf.o");
	struct comb_vm *vm = NULL;
	char err[512];
	CHECK(obj);
	int outer = comb_object_find_map(obj, "outer"), inner = comb_object_find_map(obj, "outer.inner");
	struct comb_object_map_info mi;
	CHECK(outer >= 0 && inner >= 0);
	CHECK_EQ(comb_object_map_info(obj, (size_t)outer, &mi), 0);
	CHECK_EQ(mi.type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	CHECK_EQ(mi.inner_map, (uint32_t)inner + 1);
	CHECK_EQ(mi.value_size, 4);
	CHECK_EQ(comb_object_map_info(obj, (size_t)inner, &mi), 0);
	CHECK_EQ(mi.type, BPF_MAP_TYPE_ARRAY);
	CHECK_EQ(mi.value_size, 4);
	int kconfig = comb_object_find_map(obj, ".kconfig");
	CHECK(kconfig >= 0);
	CHECK_EQ(comb_object_map_info(obj, (size_t)kconfig, &mi), 0);
	CHECK_EQ(mi.value_size, 8);
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	/* Loader test: comb's verifier does not follow map-in-map lookups yet
	 * (the kernel accepts uses_outer), so this object loads unverified. */
	CHECK_EQ(comb_object_set_verify(obj, false), 0);
	int rc = comb_object_load(obj, vm, err, sizeof(err));
	if (rc)
		fprintf(stderr, "  load: %s\n", err);
	CHECK_EQ(rc, 0);
	CHECK_EQ(object_run(obj, "uses_outer"), 108); /* leaf(3)*2 + 100 (kernel version) + 0 */
	uint32_t *v = object_map_value(obj, "inner_a");
	CHECK(v);
	CHECK_EQ(*v, 77);
	uint32_t key = 1;
	int jumps = comb_object_find_map(obj, "jumps"), tail = comb_object_find_prog(obj, "tail_target");
	CHECK(jumps >= 0 && tail >= 0);
	/* Slots of a prog array are not readable; deleting tells whether one is set. */
	CHECK(comb_object_prog(obj, (size_t)tail));
	CHECK_EQ(comb_map_delete(comb_object_map(obj, (size_t)jumps), &key), 0);
	key = 0;
	CHECK_EQ(comb_map_delete(comb_object_map(obj, (size_t)jumps), &key), -ENOENT);
	comb_object_close(obj);
	comb_vm_free(vm);
}

TEST(object_section_names)
{
	static const struct {
		const char *section;
		uint32_t type, attach;
	} cases[] = {
		{ "kprobe/do_sys_open", BPF_PROG_TYPE_KPROBE, 0 },
		{ "kprobe", BPF_PROG_TYPE_KPROBE, 0 },
		{ "uprobe.s//bin/sh:main", BPF_PROG_TYPE_KPROBE, 0 },
		{ "usdt/libc.so.6:libc:setjmp", BPF_PROG_TYPE_KPROBE, 0 },
		{ "tp/syscalls/sys_enter_open", BPF_PROG_TYPE_TRACEPOINT, 0 },
		{ "raw_tp.w/foo", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0 },
		{ "tp_btf/sched_switch", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP },
		{ "fentry.s/do_exit", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY },
		{ "fmod_ret/x", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN },
		{ "lsm/file_open", BPF_PROG_TYPE_LSM, BPF_LSM_MAC },
		{ "iter/task", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER },
		{ "xdp.frags/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP },
		{ "xdp/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP },
		{ "xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP },
		{ "sk_skb/stream_parser", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER },
		{ "sk_reuseport/migrate", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE },
		{ "cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS },
		{ "cgroup/connect6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT },
		{ "cgroup/getsockname4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETSOCKNAME },
		{ "cgroup/sock", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE },
		{ "cgroup/setsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT },
		{ "struct_ops/foo", BPF_PROG_TYPE_STRUCT_OPS, 0 },
		{ "sk_lookup", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP },
		{ "lwt_xmit", BPF_PROG_TYPE_LWT_XMIT, 0 },
		{ "kprobex", BPF_PROG_TYPE_UNSPEC, 0 },      /* "+" needs "/" after the name */
		{ "xdp_something", BPF_PROG_TYPE_UNSPEC, 0 }, /* exact names match exactly */
		{ "socket/extra", BPF_PROG_TYPE_UNSPEC, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t type = 99, attach = 99;
		loader_section_types(cases[i].section, &type, &attach);
		if (type != cases[i].type || attach != cases[i].attach)
			fprintf(stderr, "  section %s: type %u attach %u\n", cases[i].section, type, attach);
		CHECK_EQ(type, cases[i].type);
		CHECK_EQ(attach, cases[i].attach);
	}
	CHECK_STR(comb_prog_type_name(BPF_PROG_TYPE_XDP), "xdp");
	CHECK(comb_prog_type_name(1000) == NULL);
}

/* Find the section header of the first SHT_REL section of an object image. */
static Elf64_Shdr *object_first_rel(unsigned char *buf, size_t size)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	if (eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
		return NULL;
	Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_type == SHT_REL && sh[i].sh_size >= sizeof(Elf64_Rel))
			return &sh[i];
	return NULL;
}

static int object_open_bytes(const unsigned char *buf, size_t size, char *err, size_t err_len)
{
	struct comb_object *obj = NULL;
	struct comb_object_open_opts opts = { .sz = sizeof(opts), .name = "bad.o" };
	int rc = comb_object_open_mem(buf, size, &opts, &obj, err, err_len);
	if (rc == 0) {
		struct comb_vm *vm = NULL;
		if (comb_vm_new(NULL, &vm) == 0) {
			comb_object_load(obj, vm, err, err_len);
			comb_vm_free(vm);
		}
		comb_object_close(obj);
	}
	return rc;
}

TEST(object_rejects_bad_relocations)
{
	char path[PATH_MAX], err[512];
	size_t size;
	unsigned char *buf = object_read("obj_globals.bpf.o", &size, path, sizeof(path));
	CHECK(buf);
	Elf64_Shdr *rel = object_first_rel(buf, size);
	CHECK(rel);
	Elf64_Rel *r = (Elf64_Rel *)(buf + rel->sh_offset);
	Elf64_Rel saved = *r;
	r->r_offset = 1u << 30;
	CHECK_EQ(object_open_bytes(buf, size, err, sizeof(err)), -EINVAL);
	CHECK(strncmp(err, "bad.o: section .rel", 19) == 0);
	CHECK(strstr(err, "outside") != NULL);
	*r = saved;
	r->r_info = ELF64_R_INFO(100000, ELF64_R_TYPE(saved.r_info));
	CHECK_EQ(object_open_bytes(buf, size, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "symbol 100000") != NULL);
	*r = saved;
	CHECK_EQ(object_open_bytes(buf, size, err, sizeof(err)), 0);
	free(buf);
}

TEST(object_rejects_truncated_and_corrupted)
{
	char path[PATH_MAX], err[512];
	size_t size;
	unsigned char *buf = object_read("obj_mapinmap.bpf.o", &size, path, sizeof(path));
	CHECK(buf);
	CHECK_EQ(object_open_bytes(buf, 0, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "bad.o") != NULL);
	for (size_t len = 1; len < size; len += 1 + len / 8) {
		CHECK_EQ(object_open_bytes(buf, len, err, sizeof(err)), -EINVAL);
		CHECK(strncmp(err, "bad.o: ", 7) == 0);
	}
	/* Random byte flips: any outcome but a crash (ASan/UBSan watch the rest). */
	unsigned char *copy = malloc(size);
	CHECK(copy);
	uint64_t state = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 400; round++) {
		memcpy(copy, buf, size);
		for (int k = 0; k < 1 + round % 8; k++) {
			state = state * 6364136223846793005ull + 1442695040888963407ull;
			copy[(state >> 33) % size] ^= (uint8_t)(state >> 20) | 1;
		}
		object_open_bytes(copy, size, err, sizeof(err));
	}
	free(copy);
	free(buf);
}
