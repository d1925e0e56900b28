/* tests/unit/test_jit_maps.c - bpf_map_lookup_elem in JIT code with the map
 * known at the call site: an ARRAY lookup inlined (bounds check, index *
 * stride + base), a HASH lookup called directly.
 *
 * The same program runs in the JIT and in the interpreter (which always
 * goes through the helper) over every index up to past the end: r0, and
 * the map contents the program wrote through the returned pointers, agree.
 * A listing of the native code shows the inlined ARRAY lookup has no call.
 */
#include <stdio.h>
#include <string.h>
#include "../test.h"
#include "comb/comb.h"
#include "insn_build.h"
#include "helpers/helpers.h"
#include "vm/internal.h"
#include "jit/jit.h"

/* *(u32 *)(r10 - 4) = r1 (the key); r0 = lookup(map 0); if r0 == 0 return
 * 1000; *r0 += key + 1; return *r0 (a u64 value). */
static const struct comb_insn lookup_prog[] = {
	STX_MEM(COMB_SIZE_W, 10, 1, -4),
	MOV64_REG(6, 1),
	MAP_LDDW(1, 0),
	MOV64_REG(2, 10),
	ALU64_IMM(COMB_ALU_ADD, 2, -4),
	CALL_HELPER(1),
	JMP_IMM(COMB_JMP_JNE, 0, 0, 2),
	MOV64_IMM(0, 1000),
	EXIT(),
	LDX_MEM(COMB_SIZE_DW, 1, 0, 0),
	ALU64_REG(COMB_ALU_ADD, 1, 6),
	ALU64_IMM(COMB_ALU_ADD, 1, 1),
	STX_MEM(COMB_SIZE_DW, 0, 1, 0),
	LDX_MEM(COMB_SIZE_DW, 0, 0, 0),
	EXIT(),
};

static void lookups_agree(uint32_t type, uint32_t value_size, bool expect_no_call)
{
	struct comb_map_def def = { .sz = sizeof(def), .name = "m", .type = type, .key_size = 4,
				    .value_size = value_size, .max_entries = 8 };
	struct comb_map *map[2] = { NULL, NULL };
	char err[256];
	CHECK_EQ(comb_map_create(&def, &map[0], err, sizeof(err)), 0);
	CHECK_EQ(comb_map_create(&def, &map[1], err, sizeof(err)), 0);
	uint8_t value[64] = { 0 };
	for (uint32_t k = 0; k < 8; k += 2) { /* hash maps: every other key present */
		value[0] = (uint8_t)(k * 3);
		CHECK_EQ(comb_map_update(map[0], &k, value, 0), 0);
		CHECK_EQ(comb_map_update(map[1], &k, value, 0), 0);
	}
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	CHECK_EQ(comb_register_default_helpers(vm), 0);
	struct comb_prog *progs[2] = { NULL, NULL };
	for (int e = 0; e < 2; e++) {
		struct comb_prog_opts opts = { .sz = sizeof(opts), .maps = &map[e], .map_count = 1 };
		CHECK_EQ(comb_prog_load(vm, lookup_prog, sizeof(lookup_prog) / sizeof(lookup_prog[0]), &opts,
					&progs[e], err, sizeof(err)), 0);
	}
	CHECK(progs[0] && progs[0]->jit);
	for (uint32_t key = 0; progs[0] && progs[1] && key < 12; key++) {
		uint64_t r_jit = 0, r_interp = 0;
		struct comb_run_opts jit = { .sz = sizeof(jit), .engine = COMB_ENGINE_JIT, .args = { key } };
		struct comb_run_opts interp = { .sz = sizeof(interp), .engine = COMB_ENGINE_INTERP, .args = { key } };
		CHECK_EQ(comb_prog_run(progs[0], &jit, &r_jit), 0);
		CHECK_EQ(comb_prog_run(progs[1], &interp, &r_interp), 0);
		CHECK_EQ(r_jit, r_interp);
		uint8_t a[64], b[64];
		int ra = comb_map_lookup(map[0], &key, a), rb = comb_map_lookup(map[1], &key, b);
		CHECK_EQ(ra, rb);
		if (ra == 0)
			CHECK(memcmp(a, b, value_size) == 0);
	}
	/* The native code of the lookup: no call when inlined. */
	const uint8_t *code;
	size_t size;
	const uint32_t *off;
	CHECK_EQ(comb_prog_jit_code(progs[0], &code, &size, &off), 0);
	bool has_call = false;
	for (uint32_t p = off[6]; p + 2 < off[7]; p++)
		has_call |= code[p] == 0x41 && code[p + 1] == 0xff && code[p + 2] == 0xd3; /* call r11 */
	CHECK_EQ(has_call, !expect_no_call);
	comb_prog_free(progs[0]);
	comb_prog_free(progs[1]);
	comb_vm_free(vm);
	comb_map_free(map[0]);
	comb_map_free(map[1]);
}

TEST(jit_inlines_array_map_lookups)
{
	lookups_agree(COMB_MAP_ARRAY, 8, true);
	lookups_agree(COMB_MAP_ARRAY, 24, true); /* stride not a power of two */
}

TEST(jit_calls_hash_map_lookups_directly)
{
	lookups_agree(COMB_MAP_HASH, 8, false);
}
