/* test_asm.c - the assembler: the conformance suite's programs, a round trip
 * through the disassembler for every instruction form, and error reports.
 *
 * The round trip walks all 256 opcodes against edge values of dst, src, off
 * and imm; the disassembler's strict decoder decides which encodings are valid
 * (test_disasm.c pins that decoder against llvm-objdump and against known
 * invalid encodings). Each valid one, printed in the conformance syntax, must
 * assemble back to exactly the same bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "comb/asm.h"
#include "../test.h"

static const char *conformance_dir(void)
{
	const char *dir = getenv("CONFORMANCE_DIR");
	return dir && *dir ? dir : "../shared/conformance";
}

static char *read_text_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[4096];
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			char *grown = realloc(text, cap);
			if (!grown)
				break;
			text = grown;
		}
		memcpy(text + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (text)
		text[len] = '\0';
	return text;
}

/* Splits a .data file into its `-- asm` text and `-- raw` slots. */
struct data_file {
	char asm_text[65536];
	uint64_t raw[4096];
	size_t raw_count;
	int has_asm, has_raw;
};

static void parse_data_file(const char *text, struct data_file *out)
{
	memset(out, 0, sizeof(*out));
	const char *section = "";
	size_t asm_len = 0;
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len >= 3 && strncmp(line, "-- ", 3) == 0) {
			section = strncmp(line, "-- asm", 6) == 0 ? "asm" : strncmp(line, "-- raw", 6) == 0 ? "raw" : "";
			out->has_asm |= section[0] == 'a';
			out->has_raw |= section[0] == 'r';
		} else if (section[0] == 'a' && asm_len + len + 2 < sizeof(out->asm_text)) {
			memcpy(out->asm_text + asm_len, line, len);
			asm_len += len;
			out->asm_text[asm_len++] = '\n';
		} else if (section[0] == 'r' && line[0] == '0' && out->raw_count < 4096) {
			out->raw[out->raw_count++] = strtoull(line, NULL, 16);
		}
		line = end ? end + 1 : line + len;
	}
}

TEST(asm_conformance_suite)
{
	DIR *dir = opendir(conformance_dir());
	if (!dir) {
		fprintf(stderr, "  skip: no conformance suite at %s (set CONFORMANCE_DIR)\n", conformance_dir());
		return;
	}
	static struct data_file data;
	struct dirent *entry;
	int files = 0, with_raw = 0;
	while ((entry = readdir(dir))) {
		size_t n = strlen(entry->d_name);
		if (n < 6 || strcmp(entry->d_name + n - 5, ".data") != 0)
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", conformance_dir(), entry->d_name);
		char *text = read_text_file(path);
		CHECK(text != NULL);
		parse_data_file(text, &data);
		free(text);
		if (!data.has_asm)
			continue;
		struct comb_insn *insns = NULL;
		size_t count = 0;
		struct comb_asm_error err;
		int rc = comb_asm(data.asm_text, &insns, &count, &err);
		if (rc)
			fprintf(stderr, "  %s:%d:%d: %s\n", entry->d_name, err.line, err.column, err.message);
		CHECK_EQ(rc, 0);
		CHECK(count > 0);
		if (data.has_raw) {
			CHECK_EQ(count, data.raw_count);
			for (size_t i = 0; i < count; i++) {
				uint64_t slot;
				memcpy(&slot, &insns[i], sizeof(slot));
				CHECK_EQ(slot, data.raw[i]);
			}
			with_raw++;
		}
		free(insns);
		files++;
	}
	closedir(dir);
	CHECK(files >= 300);
	CHECK(with_raw >= 1);
}

static int assemble(const char *text, struct comb_insn **insns, size_t *count, struct comb_asm_error *err)
{
	*insns = NULL;
	*count = 0;
	return comb_asm(text, insns, count, err);
}

static uint64_t slot_bits(const struct comb_insn *insn)
{
	uint64_t bits;
	memcpy(&bits, insn, sizeof(bits));
	return bits;
}

TEST(asm_encodes_each_syntax)
{
	static const struct {
		const char *text;
		struct comb_insn insn;
	} cases[] = {
		{ "mov32 %r0, 1", { 0xb4, 0, 0, 0, 1 } },
		{ "mov %r1, -1", { 0xb7, 1, 0, 0, -1 } },
		{ "mov32 %r1, 0xffffffff", { 0xb4, 1, 0, 0, -1 } },
		{ "add64 %r1, %r2", { 0x0f, 1, 2, 0, 0 } },
		{ "ldxb %r0, [%r1+2]", { 0x71, 0, 1, 2, 0 } },
		{ "ldxdw %r0, [%r1]", { 0x79, 0, 1, 0, 0 } },
		{ "ldxsh %r0, [ %r10 - 2 ]", { 0x89, 0, 10, -2, 0 } },
		{ "stxw [%r10-4], %r1", { 0x63, 10, 1, -4, 0 } },
		{ "stw [%r1+2], 0x11", { 0x62, 1, 0, 2, 0x11 } },
		{ "jeq %r1, 3, +2", { 0x15, 1, 0, 2, 3 } },
		{ "jsle32 %r1, %r2, -1", { 0xde, 1, 2, -1, 0 } },
		{ "ja +1", { 0x05, 0, 0, 1, 0 } },
		{ "ja32 -5", { 0x06, 0, 0, 0, -5 } },
		{ "call 5", { 0x85, 0, 0, 0, 5 } },
		{ "call helper 6", { 0x85, 0, 0, 0, 6 } },
		{ "call kfunc 1234", { 0x85, 0, 2, 0, 1234 } },
		{ "call runtime 7", { 0x85, 0, 2, 0, 7 } },
		{ "call %r2", { 0x8d, 2, 0, 0, 0 } },
		{ "exit", { 0x95, 0, 0, 0, 0 } },
		{ "lock add [%r10-8], %r1", { 0xdb, 10, 1, -8, 0x00 } },
		{ "lock fetch add32 [%r10-4], %r1", { 0xc3, 10, 1, -4, 0x01 } },
		{ "lock fetch xor [%r1], %r3", { 0xdb, 1, 3, 0, 0xa1 } },
		{ "lock xchg [%r10-8], %r1", { 0xdb, 10, 1, -8, 0xe1 } },
		{ "lock cmpxchg32 [%r10-8], %r1", { 0xc3, 10, 1, -8, 0xf1 } },
		{ "neg %r0", { 0x87, 0, 0, 0, 0 } },
		{ "neg32 %r0", { 0x84, 0, 0, 0, 0 } },
		{ "be16 %r0", { 0xdc, 0, 0, 0, 16 } },
		{ "le32 %r3", { 0xd4, 3, 0, 0, 32 } },
		{ "bswap64 %r0", { 0xd7, 0, 0, 0, 64 } },
		{ "swap16 %r0", { 0xd7, 0, 0, 0, 16 } },
		{ "movsx832 %r0, %r1", { 0xbc, 0, 1, 8, 0 } },
		{ "movsx1664 %r8, %r7", { 0xbf, 8, 7, 16, 0 } },
		{ "movsx3264 %r0, %r9", { 0xbf, 0, 9, 32, 0 } },
		{ "sdiv %r0, %r1", { 0x3f, 0, 1, 1, 0 } },
		{ "smod32 %r0, -3", { 0x94, 0, 0, 1, -3 } },
		{ "arsh32 %r0, 4", { 0xc4, 0, 0, 0, 4 } },
		{ "ldabsh 12", { 0x28, 0, 0, 0, 12 } },
		{ "ldindb %r2, -1", { 0x50, 0, 2, 0, -1 } },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct comb_insn *insns;
		size_t count;
		struct comb_asm_error err;
		int rc = assemble(cases[i].text, &insns, &count, &err);
		if (rc)
			fprintf(stderr, "  '%s': %d:%d: %s\n", cases[i].text, err.line, err.column, err.message);
		CHECK_EQ(rc, 0);
		CHECK_EQ(count, 1);
		CHECK_EQ(slot_bits(insns), slot_bits(&cases[i].insn));
		free(insns);
	}
}

TEST(asm_lddw_forms)
{
	static const struct {
		const char *text;
		uint8_t src;
		int32_t lo, hi;
	} cases[] = {
		{ "lddw %r1, 0x1122334455667788", 0, 0x55667788, 0x11223344 },
		{ "lddw %r1, -1", 0, -1, -1 },
		{ "lddw %r1, 0xffffffffffffffff", 0, -1, -1 },
		{ "lddw %r1, map_fd 3", 1, 3, 0 },
		{ "lddw %r1, map_value 3+8", 2, 3, 8 },
		{ "lddw %r1, btf_id 100", 3, 100, 0 },
		{ "lddw %r1, code +4", 4, 4, 0 },
		{ "lddw %r1, map_idx 0", 5, 0, 0 },
		{ "lddw %r1, map_idx_value 2-4", 6, 2, -4 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct comb_insn *insns;
		size_t count;
		CHECK_EQ(assemble(cases[i].text, &insns, &count, NULL), 0);
		CHECK_EQ(count, 2);
		CHECK_EQ(insns[0].code, 0x18);
		CHECK_EQ(insns[0].dst, 1);
		CHECK_EQ(insns[0].src, cases[i].src);
		CHECK_EQ(insns[0].imm, cases[i].lo);
		CHECK_EQ(insns[1].imm, cases[i].hi);
		CHECK_EQ(insns[1].code, 0);
		free(insns);
	}
}

TEST(asm_labels_comments_and_layout)
{
	const char *text = "# leading comment\r\n"
			   "\n"
			   "  mov %r0, 0   # trailing comment\n"
			   "\tjne %r0, 0, exit\n"     /* implicit label: the first exit */
			   "lddw %r1, code func1\n"   /* pc 2..3 */
			   "call local func1\n"       /* pc 4 */
			   "ja32 done\n"              /* pc 5 */
			   "exit\n"                   /* pc 6 */
			   "done: fail: exit\n"       /* pc 7, two labels on one line */
			   "func1:\n"
			   "ja -1\n"                  /* pc 8 */
			   "jeq %r0, 1, fail\n"       /* pc 9 */
			   "exit";                    /* pc 10, no final newline */
	struct comb_insn *insns;
	size_t count;
	struct comb_asm_error err;
	int rc = assemble(text, &insns, &count, &err);
	if (rc)
		fprintf(stderr, "  %d:%d: %s\n", err.line, err.column, err.message);
	CHECK_EQ(rc, 0);
	CHECK_EQ(count, 11);
	CHECK_EQ(insns[1].off, 6 - 2);
	CHECK_EQ(insns[2].imm, 8 - 3);
	CHECK_EQ(insns[4].imm, 8 - 5);
	CHECK_EQ(insns[5].code, 0x06);
	CHECK_EQ(insns[5].imm, 7 - 6);
	CHECK_EQ(insns[8].off, -1);
	CHECK_EQ(insns[9].off, 7 - 10);
	free(insns);

	/* an explicit `exit` label wins over the implicit one */
	CHECK_EQ(assemble("ja exit\nexit\nexit:\nexit\n", &insns, &count, NULL), 0);
	CHECK_EQ(insns[0].off, 1);
	free(insns);

	/* empty input assembles to an empty program */
	CHECK_EQ(assemble("# nothing\n\n", &insns, &count, NULL), 0);
	CHECK_EQ(count, 0);
	free(insns);
}

TEST(asm_large_program)
{
	const size_t n = 200000;
	char *text = malloc(n * 32 + 64);
	CHECK(text != NULL);
	char *p = text;
	p += sprintf(p, "ja end\n");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "l%zu: exit\n", i % 1000 == 0 ? i : i + n * 10);
	sprintf(p, "end: exit\n");
	/* the labels above are unique; the jump is too far for a 16-bit offset */
	struct comb_insn *insns;
	size_t count;
	struct comb_asm_error err;
	CHECK_EQ(assemble(text, &insns, &count, &err), -EINVAL);
	CHECK_EQ(err.line, 1);
	CHECK_EQ(err.column, 4);
	CHECK(strstr(err.message, "int16") != NULL);
	text[0] = ' ', text[1] = ' ', text[2] = '#';
	int rc = assemble(text, &insns, &count, &err);
	free(text);
	CHECK_EQ(rc, 0);
	CHECK_EQ(count, n + 1);
	free(insns);
}

TEST(asm_error_reports)
{
	static const struct {
		const char *text;
		int line, column;
		const char *message_part;
	} cases[] = {
		{ "mov32 %r0, 1\nfoo %r1\n", 2, 1, "unknown mnemonic 'foo'" },
		{ "mov %r11, 1", 1, 5, "bad register" },
		{ "mov %rx, 1", 1, 5, "bad register" },
		{ "mov r1, 1", 1, 5, "expected a register" },
		{ "mov32 %r0, 0x100000000", 1, 12, "out of range" },
		{ "mov32 %r0, -2147483649", 1, 12, "out of range" },
		{ "lddw %r0, 0x10000000000000000", 1, 11, "too large" },
		{ "exit\nja nowhere\n", 2, 4, "undefined label 'nowhere'" },
		{ "a:\nexit\n  a: exit\n", 3, 3, "duplicate label 'a'" },
		{ "mov %r0,", 1, 9, "missing operand" },
		{ "mov %r0", 1, 8, "missing operand" },
		{ "exit junk", 1, 6, "unexpected 'junk'" },
		{ "mov %r0, 1 2", 1, 12, "unexpected '2'" },
		{ "ja +32768", 1, 4, "out of range" },
		{ "jeq %r1, 1, -32769", 1, 13, "out of range" },
		{ "ldxw %r0, [%r1+4", 1, 17, "expected ']'" },
		{ "ldxw %r0, [%r1+40000]", 1, 15, "out of range" },
		{ "stw [%r1+2] 5", 1, 13, "expected ','" },
		{ "lddw %r1, map_bogus 3", 1, 11, "unknown lddw source" },
		{ "call far 3", 1, 6, "unknown call kind" },
		{ "lock nand [%r1], %r2", 1, 6, "unknown atomic operation" },
		{ "lock fetch xchg [%r1], %r2", 1, 12, "unknown atomic operation" },
		{ "ldabsdw 4", 1, 1, "unknown mnemonic" },
		{ "movsx3232 %r0, %r1", 1, 1, "unknown mnemonic" },
		{ "mov %r0, 12abc", 1, 10, "bad number" },
		{ "  !", 1, 3, "expected a mnemonic or a label" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct comb_insn *insns = (struct comb_insn *)&insns;
		size_t count = 99;
		struct comb_asm_error err;
		int rc = comb_asm(cases[i].text, &insns, &count, &err);
		if (rc != -EINVAL || err.line != cases[i].line || err.column != cases[i].column ||
		    !strstr(err.message, cases[i].message_part))
			fprintf(stderr, "  '%s' -> %d %d:%d: %s\n", cases[i].text, rc, err.line, err.column,
				err.message);
		CHECK_EQ(rc, -EINVAL);
		CHECK(insns == NULL);
		CHECK_EQ(count, 0);
		CHECK_EQ(err.line, cases[i].line);
		CHECK_EQ(err.column, cases[i].column);
		CHECK(strstr(err.message, cases[i].message_part) != NULL);
	}
	struct comb_insn *insns;
	size_t count;
	CHECK_EQ(comb_asm("bogus", &insns, &count, NULL), -EINVAL); /* err may be NULL */
}

/* Assembles the conformance text of insn; returns 1 if it gave the same bytes. */
static int round_trips(const struct comb_insn *prog, int slots, const char *text)
{
	struct comb_insn *insns;
	size_t count;
	struct comb_asm_error err;
	if (comb_asm(text, &insns, &count, &err) != 0) {
		fprintf(stderr, "  '%s': %d:%d: %s\n", text, err.line, err.column, err.message);
		return 0;
	}
	int same = count == (size_t)slots && memcmp(insns, prog, (size_t)slots * sizeof(*prog)) == 0;
	if (!same)
		fprintf(stderr, "  '%s' assembled to different bytes\n", text);
	free(insns);
	return same;
}

TEST(asm_round_trips_every_instruction_form)
{
	static const uint8_t regs[] = { 0, 1, 5, 10, 11, 15 };
	static const int16_t offs[] = { 0, 1, -1, 8, 16, 32, 0x7fff, -0x8000 };
	static const int32_t imms[] = {
		0, 1, -1, 16, 32, 64, 0x7fffffff, INT32_MIN, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1,
		0xe1, 0xf1, 0x12345,
	};
	static const int32_t highs[] = { 0, 1, -1, INT32_MIN };
	size_t valid = 0, opcodes_seen = 0;
	for (int code = 0; code < 256; code++) {
		size_t valid_before = valid;
		for (size_t d = 0; d < sizeof(regs); d++)
			for (size_t s = 0; s < sizeof(regs); s++)
				for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++)
					for (size_t m = 0; m < sizeof(imms) / sizeof(imms[0]); m++)
						for (size_t h = 0; h < (code == 0x18 ? 4u : 1u); h++) {
							struct comb_insn prog[2] = { { (uint8_t)code, regs[d], regs[s],
										       offs[o], imms[m] },
										     { 0, 0, 0, 0, highs[h] } };
							char text[128];
							int n = comb_disasm_insn(prog, 2, 0, COMB_SYNTAX_CONFORMANCE,
										 text, sizeof(text));
							if (n < 0)
								continue;
							valid++;
							CHECK(round_trips(prog, n, text));
						}
		opcodes_seen += valid > valid_before;
	}
	/* ALU 27 + ALU64 26 + JMP 26 + JMP32 23 + LD 7 + LDX 7 + ST 4 + STX 6 */
	CHECK_EQ(opcodes_seen, 126);
	CHECK(valid > 20000);
}
