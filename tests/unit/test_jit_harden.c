/* tests/unit/test_jit_harden.c - constant blinding in the JIT
 * (comb_prog_opts.jit_harden, the kernel's bpf_jit_harden).
 *
 * Every conformance program ($CONFORMANCE_DIR, default
 * /work/shared/conformance) is loaded with blinding on and run in the JIT
 * and in the interpreter: r0, the return code and the memory must agree.
 * A program full of distinctive immediates must keep none of them
 * verbatim in its native code (while the same program without blinding
 * does), and two loads of one program get different keys.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../test.h"
#include "comb/comb.h"
#include "insn_build.h"
#include "vm/internal.h"
#include "jit/jit.h"

static uint64_t helper_zero(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			    struct comb_call_ctx *cc)
{
	return 0;
}

static struct comb_prog *load_hardened(struct comb_vm *vm, const struct comb_insn *insns, size_t count,
				       bool harden)
{
	struct comb_prog_opts opts = { .sz = sizeof(opts), .jit_harden = harden };
	struct comb_prog *prog = NULL;
	if (comb_prog_load(vm, insns, count, &opts, &prog, NULL, 0))
		return NULL;
	return prog;
}

/* ---- the conformance programs, blinded ---- */

/* The text of section name ("-- asm") up to the next "--" line; malloc'd. */
static char *section(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	if (!p || !(p = strchr(p, '\n')))
		return NULL;
	p++;
	const char *end = strstr(p, "\n--");
	size_t len = end ? (size_t)(end - p) + 1 : strlen(p);
	char *out = malloc(len + 1);
	if (out) {
		memcpy(out, p, len);
		out[len] = 0;
	}
	return out;
}

static size_t parse_mem(const char *hex, uint8_t *mem, size_t cap)
{
	size_t n = 0;
	unsigned v;
	int used;
	while (hex && n < cap && sscanf(hex, " %2x%n", &v, &used) == 1) {
		mem[n++] = (uint8_t)v;
		hex += used;
	}
	return n;
}

static int parse_program(const char *text, struct comb_insn **insns, size_t *count)
{
	char *raw = section(text, "-- raw");
	if (raw) {
		size_t n = 0, cap = 64;
		*insns = calloc(cap, sizeof(**insns));
		unsigned long long word;
		int used;
		for (const char *p = raw; *insns && sscanf(p, " %llx%n", &word, &used) == 1; p += used) {
			if (n == cap)
				*insns = realloc(*insns, (cap *= 2) * sizeof(**insns));
			if (!*insns)
				break;
			(*insns)[n++] = (struct comb_insn){ .code = (uint8_t)word, .dst = (word >> 8) & 15,
							    .src = (word >> 12) & 15, .off = (int16_t)(word >> 16),
							    .imm = (int32_t)(word >> 32) };
		}
		*count = n;
		free(raw);
		return *insns ? 0 : -ENOMEM;
	}
	char *source = section(text, "-- asm");
	if (!source)
		return -EINVAL;
	struct comb_asm_error err;
	int rc = comb_asm(source, insns, count, &err);
	free(source);
	return rc;
}

struct conf_run {
	int rc;
	uint64_t r0;
	uint8_t mem[4096];
};

static void run_conf(const struct comb_prog *prog, enum comb_engine engine, const uint8_t *mem, size_t len,
		     struct conf_run *out)
{
	memcpy(out->mem, mem, len);
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = engine,
				      .args = { len ? (uint64_t)(uintptr_t)out->mem : 0, len } };
	out->r0 = 0;
	out->rc = comb_prog_run(prog, &opts, &out->r0);
}

/* 1 when the file's program agrees in both engines, 0 when it differs, -1 skipped. */
static int compare_conformance_file(struct comb_vm *vm, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	static char text[65536];
	size_t len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = 0;
	struct comb_insn *insns = NULL;
	size_t count = 0;
	if (parse_program(text, &insns, &count) || count == 0) {
		free(insns);
		return -1;
	}
	char *mem_text = section(text, "-- mem");
	static uint8_t mem[4096];
	size_t mem_len = parse_mem(mem_text, mem, sizeof(mem));
	free(mem_text);
	struct comb_prog *prog = load_hardened(vm, insns, count, true);
	free(insns);
	if (!prog)
		return -1; /* rejected at load: nothing to compare */
	static struct conf_run jit, interp;
	run_conf(prog, COMB_ENGINE_JIT, mem, mem_len, &jit);
	run_conf(prog, COMB_ENGINE_INTERP, mem, mem_len, &interp);
	int same = prog->jit && jit.rc == interp.rc && jit.r0 == interp.r0 &&
		   memcmp(jit.mem, interp.mem, mem_len) == 0;
	if (!same)
		fprintf(stderr, "  %s: jit %s rc %d r0 %#llx, interp rc %d r0 %#llx\n", path,
			prog->jit ? "(blinded)" : "(not compiled)", jit.rc, (unsigned long long)jit.r0,
			interp.rc, (unsigned long long)interp.r0);
	comb_prog_free(prog);
	return same;
}

TEST(jit_harden_conformance_programs_match_the_interpreter)
{
	const char *dir_name = getenv("CONFORMANCE_DIR");
	if (!dir_name)
		dir_name = "/work/shared/conformance";
	DIR *dir = opendir(dir_name);
	if (!dir) {
		fprintf(stderr, "  SKIP: %s: no conformance suite\n", dir_name);
		return;
	}
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	comb_vm_register_helper(vm, 5, "zero", helper_zero);
	size_t same = 0, differ = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 5, ".data"))
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir_name, e->d_name);
		int r = compare_conformance_file(vm, path);
		same += r == 1;
		differ += r == 0;
	}
	closedir(dir);
	CHECK_EQ(differ, 0);
	CHECK(same >= 300); /* of 313: a few are meant to be rejected at load */
	comb_vm_free(vm);
}

/* ---- no immediate left in the code ---- */

static bool contains_u32(const uint8_t *code, size_t size, uint32_t v)
{
	uint8_t pattern[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	for (size_t i = 0; i + 4 <= size; i++)
		if (memcmp(code + i, pattern, 4) == 0)
			return true;
	return false;
}

static const int32_t distinct[] = {
	0x13572468, 0x2468ace0, -0x31415927, 0x0badcafe, 0x5eed1234, 0x7654321f, -0x1234567,
	0x600dbeef, 0x0fedcba9, 0x1a2b3c4d, 0x55aa33cc, 0x3c3c1d1d, 0x11223344, 0x44332211,
	0x2bad2bad,
};

TEST(jit_harden_leaves_no_immediate_in_the_code)
{
	struct comb_insn p[] = {
		MOV64_IMM(0, distinct[0]),
		MOV32_IMM(1, distinct[1]),
		ALU64_IMM(COMB_ALU_ADD, 0, distinct[2]),
		ALU32_IMM(COMB_ALU_XOR, 1, distinct[3]),
		ALU64_IMM(COMB_ALU_MUL, 0, distinct[4]),
		ALU64_IMM(COMB_ALU_AND, 0, distinct[5]),
		ALU64_IMM(COMB_ALU_OR, 1, distinct[6]),
		ALU64_IMM(COMB_ALU_DIV, 0, distinct[7]),
		ALU32_IMM(COMB_ALU_MOD, 1, distinct[8]),
		ST_MEM(COMB_SIZE_DW, 10, -8, distinct[9]),
		ST_MEM(COMB_SIZE_W, 10, -16, distinct[10]),
		LDX_MEM(COMB_SIZE_DW, 2, 10, -8),
		ALU64_REG(COMB_ALU_ADD, 0, 2),
		JMP_IMM(COMB_JMP_JEQ, 0, distinct[11], 1),
		ALU64_IMM(COMB_ALU_SUB, 0, distinct[12]),
		LDDW(3, ((uint64_t)(uint32_t)distinct[13] << 32) | (uint32_t)distinct[14]),
		ALU64_REG(COMB_ALU_XOR, 0, 3),
		ALU64_REG(COMB_ALU_ADD, 0, 1),
		EXIT(),
	};
	size_t count = sizeof(p) / sizeof(p[0]);
	struct comb_vm *vm = NULL;
	CHECK_EQ(comb_vm_new(NULL, &vm), 0);
	struct comb_prog *plain = load_hardened(vm, p, count, false);
	struct comb_prog *hard = load_hardened(vm, p, count, true);
	struct comb_prog *hard2 = load_hardened(vm, p, count, true);
	CHECK(plain && plain->jit && hard && hard->jit && hard2 && hard2->jit);
	size_t visible = 0;
	for (size_t i = 0; i < sizeof(distinct) / sizeof(distinct[0]); i++) {
		visible += contains_u32(plain->jit->code, plain->jit->size, (uint32_t)distinct[i]);
		if (contains_u32(hard->jit->code, hard->jit->size, (uint32_t)distinct[i]))
			fprintf(stderr, "  immediate %#x is in the blinded code\n", (unsigned)distinct[i]);
		CHECK(!contains_u32(hard->jit->code, hard->jit->size, (uint32_t)distinct[i]));
	}
	CHECK(visible >= 10); /* without blinding they are there: the check can see them */
	/* Per-program keys: the same program, different code. */
	CHECK(hard->jit->size != hard2->jit->size ||
	      memcmp(hard->jit->code, hard2->jit->code, hard->jit->size) != 0);
	uint64_t r_plain = 0, r_hard = 0, r_interp = 0;
	struct comb_run_opts jit = { .sz = sizeof(jit), .engine = COMB_ENGINE_JIT };
	struct comb_run_opts interp = { .sz = sizeof(interp), .engine = COMB_ENGINE_INTERP };
	CHECK_EQ(comb_prog_run(plain, &jit, &r_plain), 0);
	CHECK_EQ(comb_prog_run(hard, &jit, &r_hard), 0);
	CHECK_EQ(comb_prog_run(hard, &interp, &r_interp), 0);
	CHECK_EQ(r_hard, r_interp);
	CHECK_EQ(r_plain, r_interp);
	comb_prog_free(plain);
	comb_prog_free(hard);
	comb_prog_free(hard2);
	comb_vm_free(vm);
}
