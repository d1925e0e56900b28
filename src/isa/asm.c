/* asm.c - the assembler for the BPF conformance suite's syntax.
 *
 * One pass over the text parses each line (hand-written cursor, no regex):
 *   [label:] [mnemonic operands] [# comment]
 * and appends the encoded slots to a growing array; jumps to labels are
 * recorded as fixups and patched once every label is known. Labels live in
 * an open-addressing hash table, so large programs assemble in linear time.
 *
 * Syntax (everything the disassembler's conformance syntax prints):
 *   ALU      add|sub|mul|div|sdiv|or|and|lsh|rsh|mod|smod|xor|mov|arsh[32|64] %rD, %rS|IMM
 *            neg[32|64] %rD   movsx{8,16}{32,64} / movsx3264 %rD, %rS
 *            be|le{16,32,64} %rD (ALU class)   bswap|swap{16,32,64} %rD (ALU64 class)
 *   jumps    ja TARGET   ja32 TARGET (gotol, offset in imm)
 *            jeq..jsle[32] %rD, %rS|IMM, TARGET     TARGET = +N | -N | label
 *            call IMM | call helper IMM | call local TARGET | call kfunc IMM
 *            (call runtime IMM is the suite's spelling of kfunc) | call %rD | exit
 *   memory   ldx{b,h,w,dw} %rD, [%rS+OFF]   ldxs{b,h,w} (sign-extending)
 *            st{b,h,w,dw} [%rD-OFF], IMM     stx{b,h,w,dw} [%rD+OFF], %rS
 *            lock [fetch] add|or|and|xor[32] [%rD+OFF], %rS
 *            lock xchg|cmpxchg[32] [%rD+OFF], %rS
 *   64-bit   lddw %rD, IMM64
 *            lddw %rD, map_fd|map_idx IMM          (pseudo sources 1, 5)
 *            lddw %rD, map_value|map_idx_value|btf_id IMM[+N|-N]  (2, 6, 3;
 *                 N goes into the second slot's immediate)
 *            lddw %rD, code TARGET                  (pseudo func, 4)
 *   legacy   ldabs{b,h,w} IMM   ldind{b,h,w} %rS, IMM
 * Numbers are decimal or 0x-hex with an optional sign. A label named `exit`
 * that is never defined means the first `exit` instruction (the suite's files
 * rely on that). Errors carry the 1-based line and column of the culprit.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/asm.h"
#include "isa/asm_names.h"

#define MAX_NAME 128

/* ---- state -------------------------------------------------------------- */

struct label {
	char *name; /* NULL: empty slot */
	size_t pc;
};

enum fixup_field { FIX_OFF, FIX_IMM };

struct fixup {
	char *name;
	size_t pc;
	enum fixup_field field;
	int line, column;
};

struct assembler {
	struct comb_insn *insns;
	size_t count, capacity;
	struct label *labels; /* hash table, power-of-two size */
	size_t label_count, label_capacity;
	struct fixup *fixups;
	size_t fixup_count, fixup_capacity;
	bool seen_exit;
	size_t first_exit_pc;
	struct comb_asm_error *err;
};

/* A position inside the current line. */
struct cursor {
	const char *p;
	const char *line_start;
	int line;
};

static int column_of(const struct cursor *c, const char *at)
{
	return (int)(at - c->line_start) + 1;
}

static int fail_va(struct assembler *as, int line, int column, const char *fmt, va_list ap)
{
	if (as->err) {
		as->err->line = line;
		as->err->column = column;
		vsnprintf(as->err->message, sizeof(as->err->message), fmt, ap);
	}
	return -EINVAL;
}

/* Records an error at line/column (first error wins) and returns -EINVAL. */
__attribute__((format(printf, 4, 5))) static int fail_pos(struct assembler *as, int line, int column,
							    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = fail_va(as, line, column, fmt, ap);
	va_end(ap);
	return rc;
}

/* Records an error at the character `at` of the cursor's line. */
__attribute__((format(printf, 4, 5))) static int fail_at(struct assembler *as, const struct cursor *c,
							   const char *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = fail_va(as, c->line, column_of(c, at), fmt, ap);
	va_end(ap);
	return rc;
}

static int out_of_memory(struct assembler *as, const struct cursor *c)
{
	return fail_at(as, c, c->p, "out of memory");
}

/* Grow *array (of elem bytes each) so that it holds at least need elements. */
static bool grow(void **array, size_t *capacity, size_t need, size_t elem)
{
	if (need <= *capacity)
		return true;
	size_t cap = *capacity ? *capacity : 16;
	while (cap < need) {
		if (cap > (size_t)-1 / 2 / elem)
			return false;
		cap *= 2;
	}
	void *p = realloc(*array, cap * elem);
	if (!p)
		return false;
	*array = p;
	*capacity = cap;
	return true;
}

static int emit(struct assembler *as, const struct cursor *c, const struct comb_insn *insns, size_t n)
{
	if (!grow((void **)&as->insns, &as->capacity, as->count + n, sizeof(*as->insns)))
		return out_of_memory(as, c);
	memcpy(&as->insns[as->count], insns, n * sizeof(*insns));
	as->count += n;
	return 0;
}

/* ---- labels ------------------------------------------------------------- */

static size_t hash_name(const char *s)
{
	size_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static struct label *label_slot(struct label *table, size_t capacity, const char *name)
{
	size_t i = hash_name(name) & (capacity - 1);
	while (table[i].name && strcmp(table[i].name, name) != 0)
		i = (i + 1) & (capacity - 1);
	return &table[i];
}

static struct label *label_find(struct assembler *as, const char *name)
{
	if (!as->label_capacity)
		return NULL;
	struct label *l = label_slot(as->labels, as->label_capacity, name);
	return l->name ? l : NULL;
}

static bool labels_rehash(struct assembler *as)
{
	size_t capacity = as->label_capacity ? as->label_capacity * 2 : 64;
	if (capacity > (size_t)-1 / sizeof(struct label))
		return false;
	struct label *table = calloc(capacity, sizeof(*table));
	if (!table)
		return false;
	for (size_t i = 0; i < as->label_capacity; i++)
		if (as->labels[i].name)
			*label_slot(table, capacity, as->labels[i].name) = as->labels[i];
	free(as->labels);
	as->labels = table;
	as->label_capacity = capacity;
	return true;
}

static int label_define(struct assembler *as, const struct cursor *c, const char *at, const char *name)
{
	struct label *old = label_find(as, name);
	if (old)
		return fail_at(as, c, at, "duplicate label '%s' (first defined at instruction %zu)", name,
			       old->pc);
	if ((as->label_count + 1) * 2 > as->label_capacity && !labels_rehash(as))
		return out_of_memory(as, c);
	char *copy = strdup(name);
	if (!copy)
		return out_of_memory(as, c);
	*label_slot(as->labels, as->label_capacity, name) = (struct label){ copy, as->count };
	as->label_count++;
	return 0;
}

static int add_fixup(struct assembler *as, const struct cursor *c, const char *at, const char *name,
		     enum fixup_field field)
{
	if (!grow((void **)&as->fixups, &as->fixup_capacity, as->fixup_count + 1, sizeof(*as->fixups)))
		return out_of_memory(as, c);
	char *copy = strdup(name);
	if (!copy)
		return out_of_memory(as, c);
	as->fixups[as->fixup_count++] =
		(struct fixup){ copy, as->count, field, c->line, column_of(c, at) };
	return 0;
}

/* ---- lexing ------------------------------------------------------------- */

static void skip_blanks(struct cursor *c)
{
	while (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\f' || *c->p == '\v')
		c->p++;
}

static bool is_line_end(char ch)
{
	return ch == '\0' || ch == '\n' || ch == '#';
}

static bool at_line_end(struct cursor *c)
{
	skip_blanks(c);
	return is_line_end(*c->p);
}

static bool is_name_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '.';
}

static bool is_name_char(char ch)
{
	return is_name_start(ch) || (ch >= '0' && ch <= '9');
}

/* Reads an identifier into name (empty if none). */
static int read_name(struct assembler *as, struct cursor *c, char name[MAX_NAME])
{
	skip_blanks(c);
	const char *start = c->p;
	size_t n = 0;
	if (is_name_start(*c->p))
		while (is_name_char(*c->p))
			c->p++;
	n = (size_t)(c->p - start);
	if (n >= MAX_NAME)
		return fail_at(as, c, start, "name longer than %d characters", MAX_NAME - 1);
	memcpy(name, start, n);
	name[n] = '\0';
	return 0;
}

/* "missing operand: expected X" or "expected X, found 'rest of line'". */
static int fail_expected(struct assembler *as, struct cursor *c, const char *what)
{
	if (is_line_end(*c->p))
		return fail_at(as, c, c->p, "missing operand: expected %s", what);
	int len = 0;
	while (len < 24 && !is_line_end(c->p[len]))
		len++;
	return fail_at(as, c, c->p, "expected %s, found '%.*s'", what, len, c->p);
}

static int expect_char(struct assembler *as, struct cursor *c, char ch, const char *what)
{
	skip_blanks(c);
	if (*c->p != ch)
		return fail_expected(as, c, what);
	c->p++;
	return 0;
}

static int expect_line_end(struct assembler *as, struct cursor *c)
{
	if (at_line_end(c))
		return 0;
	int len = 0;
	while (len < 24 && c->p[len] && c->p[len] != '\n')
		len++;
	return fail_at(as, c, c->p, "unexpected '%.*s' after the operands", len, c->p);
}

static int parse_register(struct assembler *as, struct cursor *c, uint8_t *reg)
{
	skip_blanks(c);
	const char *start = c->p;
	if (c->p[0] != '%' || c->p[1] != 'r')
		return fail_expected(as, c, "a register (%r0..%r10)");
	c->p += 2;
	unsigned value = 0;
	int digits = 0;
	while (*c->p >= '0' && *c->p <= '9' && digits < 4) {
		value = value * 10 + (unsigned)(*c->p++ - '0');
		digits++;
	}
	if (!digits || value >= COMB_REG_COUNT || is_name_char(*c->p))
		return fail_at(as, c, start, "bad register '%.*s': registers are %%r0..%%r10",
			       (int)(c->p - start + (is_name_char(*c->p) ? 1 : 0)), start);
	*reg = (uint8_t)value;
	return 0;
}

/* An unsigned decimal or 0x-hex magnitude, at most UINT64_MAX. */
static int parse_magnitude(struct assembler *as, struct cursor *c, const char *start, uint64_t *out)
{
	unsigned base = 10;
	if (c->p[0] == '0' && (c->p[1] == 'x' || c->p[1] == 'X')) {
		base = 16;
		c->p += 2;
	}
	uint64_t value = 0;
	int digits = 0;
	for (;; c->p++, digits++) {
		char ch = *c->p;
		unsigned d;
		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (base == 16 && ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else if (base == 16 && ch >= 'A' && ch <= 'F')
			d = (unsigned)(ch - 'A' + 10);
		else
			break;
		if (value > (UINT64_MAX - d) / base)
			return fail_at(as, c, start, "number too large for 64 bits");
		value = value * base + d;
	}
	if (!digits || is_name_char(*c->p))
		return fail_at(as, c, start, "bad number '%.*s'",
			       (int)(c->p - start + (is_name_char(*c->p) ? 1 : 0)), start);
	*out = value;
	return 0;
}

/* A signed number in [min, max]; what names the field in errors. */
static int parse_integer(struct assembler *as, struct cursor *c, int64_t min, uint64_t max,
			 const char *what, int64_t *out)
{
	skip_blanks(c);
	const char *start = c->p;
	bool negative = false;
	if (*c->p == '-' || *c->p == '+') {
		negative = *c->p == '-';
		c->p++;
		skip_blanks(c); /* "[%r10 - 8]" */
	}
	if (!(*c->p >= '0' && *c->p <= '9'))
		return fail_expected(as, c, what);
	uint64_t magnitude = 0;
	int rc = parse_magnitude(as, c, start, &magnitude);
	if (rc)
		return rc;
	bool in_range = negative ? magnitude <= (uint64_t)0 - (uint64_t)min : magnitude <= max;
	if (!in_range)
		return fail_at(as, c, start, "%s '%.*s' out of range [%lld, %llu]", what,
			       (int)(c->p - start), start, (long long)min, (unsigned long long)max);
	*out = negative ? (int64_t)((uint64_t)0 - magnitude) : (int64_t)magnitude;
	return 0;
}

static int parse_imm32(struct assembler *as, struct cursor *c, int32_t *imm)
{
	int64_t value = 0;
	int rc = parse_integer(as, c, INT32_MIN, UINT32_MAX, "immediate", &value);
	*imm = (int32_t)(uint32_t)value;
	return rc;
}

/* [%rN], [%rN+OFF] or [%rN-OFF]. */
static int parse_memory(struct assembler *as, struct cursor *c, uint8_t *reg, int16_t *off)
{
	int rc = expect_char(as, c, '[', "a memory operand '[%rN+off]'");
	if (!rc)
		rc = parse_register(as, c, reg);
	if (rc)
		return rc;
	skip_blanks(c);
	*off = 0;
	if (*c->p == '+' || *c->p == '-') {
		int64_t value = 0;
		rc = parse_integer(as, c, INT16_MIN, INT16_MAX, "memory offset", &value);
		if (rc)
			return rc;
		*off = (int16_t)value;
	}
	return expect_char(as, c, ']', "']'");
}

/* The operand after a comma: a register (returns 1) or an immediate (0). */
static int parse_reg_or_imm(struct assembler *as, struct cursor *c, uint8_t *reg, int32_t *imm)
{
	skip_blanks(c);
	if (*c->p == '%') {
		int rc = parse_register(as, c, reg);
		return rc ? rc : 1;
	}
	return parse_imm32(as, c, imm);
}

static int expect_comma(struct assembler *as, struct cursor *c)
{
	return expect_char(as, c, ',', "','");
}

/* +N / -N (returned in *value) or a label (recorded as a fixup). */
static int parse_target(struct assembler *as, struct cursor *c, enum fixup_field field, int32_t *value)
{
	skip_blanks(c);
	*value = 0;
	if (*c->p == '+' || *c->p == '-') {
		int64_t v = 0;
		int rc = field == FIX_OFF ? parse_integer(as, c, INT16_MIN, INT16_MAX, "jump offset", &v)
					  : parse_integer(as, c, INT32_MIN, INT32_MAX, "jump offset", &v);
		*value = (int32_t)v;
		return rc;
	}
	const char *at = c->p;
	char name[MAX_NAME];
	int rc = read_name(as, c, name);
	if (rc)
		return rc;
	if (!name[0])
		return fail_expected(as, c, "a jump target (+N, -N or a label)");
	return add_fixup(as, c, at, name, field);
}

/* ---- mnemonics ---------------------------------------------------------- */

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Splits "add32" into base "add" and class; suffix "" or "64" means ALU64. */
static void split_width(const char *mnemonic, char base[MAX_NAME], bool *is32)
{
	size_t n = strlen(mnemonic);
	*is32 = false;
	if (n > 2 && (strcmp(mnemonic + n - 2, "32") == 0 || strcmp(mnemonic + n - 2, "64") == 0)) {
		*is32 = mnemonic[n - 2] == '3';
		n -= 2;
	}
	memcpy(base, mnemonic, n);
	base[n] = '\0';
}

static int size_from_suffix(const char *suffix)
{
	for (unsigned size = 0; size <= COMB_SIZE_DW; size += 0x08)
		if (strcmp(suffix, comb_size_suffix(size)) == 0)
			return (int)size;
	return -1;
}

static int alu_op_from_name(const char *base, int16_t *off)
{
	*off = 0;
	if (strcmp(base, "sdiv") == 0 || strcmp(base, "smod") == 0) {
		*off = 1;
		base++;
	}
	for (unsigned op = 0; op <= COMB_ALU_ARSH; op += 0x10) {
		const char *name = comb_alu_name(op);
		if (name && strcmp(base, name) == 0)
			return (int)op;
	}
	return -1;
}

static int jmp_op_from_name(const char *base)
{
	for (unsigned op = 0; op <= COMB_JMP_JSLE; op += 0x10) {
		const char *name = comb_jmp_name(op);
		if (name && strcmp(base, name) == 0)
			return (int)op;
	}
	return -1;
}

/* ---- instruction parsers ----------------------------------------------- */

/* "%rD, %rS" or "%rD, IMM": fills dst and src or imm, and sets the X bit for a register. */
static int parse_dst_and_operand(struct assembler *as, struct cursor *c, struct comb_insn *in)
{
	uint8_t dst = 0, src = 0;
	int rc = parse_register(as, c, &dst);
	if (!rc)
		rc = expect_comma(as, c);
	if (!rc)
		rc = parse_reg_or_imm(as, c, &src, &in->imm);
	if (rc < 0)
		return rc;
	in->dst = dst;
	if (rc == 1) {
		in->code |= COMB_SRC_X;
		in->src = src;
	}
	return 0;
}

static int asm_alu(struct assembler *as, struct cursor *c, unsigned op, bool is32, int16_t off)
{
	struct comb_insn in = { .code = (uint8_t)((is32 ? COMB_CLS_ALU : COMB_CLS_ALU64) | op), .off = off };
	int rc = parse_dst_and_operand(as, c, &in);
	if (rc)
		return rc;
	return emit(as, c, &in, 1);
}

static int asm_single_register(struct assembler *as, struct cursor *c, struct comb_insn *in)
{
	uint8_t dst = 0;
	int rc = parse_register(as, c, &dst);
	if (rc)
		return rc;
	in->dst = dst;
	return emit(as, c, in, 1);
}

/* movsx832, movsx1632, movsx864, movsx1664, movsx3264. */
static int asm_movsx(struct assembler *as, struct cursor *c, const char *mnemonic, const char *at)
{
	static const struct {
		const char *name;
		int16_t off;
		bool is32;
	} forms[] = {
		{ "movsx832", 8, true },    { "movsx1632", 16, true }, { "movsx864", 8, false },
		{ "movsx1664", 16, false }, { "movsx3264", 32, false },
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (strcmp(mnemonic, forms[i].name) != 0)
			continue;
		struct comb_insn in = {
			.code = (uint8_t)((forms[i].is32 ? COMB_CLS_ALU : COMB_CLS_ALU64) | COMB_ALU_MOV |
					  COMB_SRC_X),
			.off = forms[i].off,
		};
		uint8_t dst = 0, src = 0;
		int rc = parse_register(as, c, &dst);
		if (!rc)
			rc = expect_comma(as, c);
		if (!rc)
			rc = parse_register(as, c, &src);
		if (rc)
			return rc;
		in.dst = dst;
		in.src = src;
		return emit(as, c, &in, 1);
	}
	return fail_at(as, c, at, "unknown mnemonic '%s' (movsx forms: movsx832, movsx1632, "
				  "movsx864, movsx1664, movsx3264)", mnemonic);
}

/* be16/le32/bswap64/swap16 ... */
static int asm_byteswap(struct assembler *as, struct cursor *c, const char *width, uint8_t code)
{
	struct comb_insn in = { .code = code };
	in.imm = strcmp(width, "16") == 0 ? 16 : strcmp(width, "32") == 0 ? 32 : 64;
	return asm_single_register(as, c, &in);
}

static int asm_cond_jump(struct assembler *as, struct cursor *c, unsigned op, bool is32)
{
	struct comb_insn in = { .code = (uint8_t)((is32 ? COMB_CLS_JMP32 : COMB_CLS_JMP) | op) };
	int32_t target = 0;
	int rc = parse_dst_and_operand(as, c, &in);
	if (!rc)
		rc = expect_comma(as, c);
	if (!rc)
		rc = parse_target(as, c, FIX_OFF, &target);
	if (rc)
		return rc;
	in.off = (int16_t)target;
	return emit(as, c, &in, 1);
}

static int asm_ja(struct assembler *as, struct cursor *c, bool is32)
{
	struct comb_insn in = { .code = (uint8_t)((is32 ? COMB_CLS_JMP32 : COMB_CLS_JMP) | COMB_JMP_JA) };
	int32_t target = 0;
	int rc = parse_target(as, c, is32 ? FIX_IMM : FIX_OFF, &target);
	if (rc)
		return rc;
	if (is32)
		in.imm = target;
	else
		in.off = (int16_t)target;
	return emit(as, c, &in, 1);
}

static int asm_call(struct assembler *as, struct cursor *c)
{
	struct comb_insn in = { .code = COMB_CLS_JMP | COMB_JMP_CALL };
	skip_blanks(c);
	if (*c->p == '%') {
		uint8_t dst = 0;
		int rc = parse_register(as, c, &dst);
		if (rc)
			return rc;
		in.code |= COMB_SRC_X;
		in.dst = dst;
		return emit(as, c, &in, 1);
	}
	const char *at = c->p;
	char kind[MAX_NAME];
	int rc = read_name(as, c, kind);
	if (rc)
		return rc;
	if (strcmp(kind, "local") == 0) {
		in.src = COMB_CALL_LOCAL;
		rc = parse_target(as, c, FIX_IMM, &in.imm);
	} else if (strcmp(kind, "kfunc") == 0 || strcmp(kind, "runtime") == 0) {
		in.src = COMB_CALL_KFUNC;
		rc = parse_imm32(as, c, &in.imm);
	} else if (kind[0] == '\0' || strcmp(kind, "helper") == 0) {
		rc = parse_imm32(as, c, &in.imm);
	} else {
		return fail_at(as, c, at, "unknown call kind '%s' (use: call N, call local TARGET, "
					  "call kfunc N, call %%rN)", kind);
	}
	return rc ? rc : emit(as, c, &in, 1);
}

/* lddw %rD, IMM64  or  lddw %rD, KIND ... (see the top comment). */
static int asm_lddw(struct assembler *as, struct cursor *c)
{
	struct comb_insn in[2] = { { .code = COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW } };
	uint8_t dst = 0;
	int rc = parse_register(as, c, &dst);
	if (!rc)
		rc = expect_comma(as, c);
	if (rc)
		return rc;
	in[0].dst = dst;
	skip_blanks(c);
	if (!is_name_start(*c->p)) {
		int64_t value = 0;
		rc = parse_integer(as, c, INT64_MIN, UINT64_MAX, "64-bit immediate", &value);
		in[0].imm = (int32_t)(uint32_t)(uint64_t)value;
		in[1].imm = (int32_t)(uint32_t)((uint64_t)value >> 32);
		return rc ? rc : emit(as, c, in, 2);
	}
	const char *at = c->p;
	char kind[MAX_NAME];
	rc = read_name(as, c, kind);
	if (rc)
		return rc;
	unsigned src = COMB_PSEUDO_MAP_FD;
	while (src <= COMB_PSEUDO_MAP_IDX_VALUE && strcmp(kind, comb_pseudo_name(src)) != 0)
		src++;
	if (src > COMB_PSEUDO_MAP_IDX_VALUE)
		return fail_at(as, c, at, "unknown lddw source '%s' (map_fd, map_value, btf_id, code, "
					  "map_idx, map_idx_value)", kind);
	in[0].src = (uint8_t)src;
	if (src == COMB_PSEUDO_FUNC) {
		rc = parse_target(as, c, FIX_IMM, &in[0].imm);
		return rc ? rc : emit(as, c, in, 2);
	}
	rc = parse_imm32(as, c, &in[0].imm);
	if (rc)
		return rc;
	skip_blanks(c);
	bool has_second = src == COMB_PSEUDO_MAP_VALUE || src == COMB_PSEUDO_MAP_IDX_VALUE ||
			  src == COMB_PSEUDO_BTF_ID;
	if (has_second && (*c->p == '+' || *c->p == '-'))
		rc = parse_imm32(as, c, &in[1].imm);
	return rc ? rc : emit(as, c, in, 2);
}

static int asm_legacy_load(struct assembler *as, struct cursor *c, unsigned mode, int size)
{
	struct comb_insn in = { .code = (uint8_t)(COMB_CLS_LD | mode | (unsigned)size) };
	int rc = 0;
	if (mode == COMB_MODE_IND) {
		uint8_t src = 0;
		rc = parse_register(as, c, &src);
		if (!rc)
			rc = expect_comma(as, c);
		in.src = src;
	}
	if (!rc)
		rc = parse_imm32(as, c, &in.imm);
	return rc ? rc : emit(as, c, &in, 1);
}

static int asm_ldx(struct assembler *as, struct cursor *c, unsigned mode, int size)
{
	struct comb_insn in = { .code = (uint8_t)(COMB_CLS_LDX | mode | (unsigned)size) };
	uint8_t dst = 0, src = 0;
	int rc = parse_register(as, c, &dst);
	if (!rc)
		rc = expect_comma(as, c);
	if (!rc)
		rc = parse_memory(as, c, &src, &in.off);
	in.dst = dst;
	in.src = src;
	return rc ? rc : emit(as, c, &in, 1);
}

static int asm_store(struct assembler *as, struct cursor *c, uint8_t code, int32_t imm, bool from_reg)
{
	struct comb_insn in = { .code = code, .imm = imm };
	uint8_t dst = 0, src = 0;
	int rc = parse_memory(as, c, &dst, &in.off);
	if (!rc)
		rc = expect_comma(as, c);
	if (!rc)
		rc = from_reg ? parse_register(as, c, &src) : parse_imm32(as, c, &in.imm);
	in.dst = dst;
	in.src = src;
	return rc ? rc : emit(as, c, &in, 1);
}

/* lock [fetch] OP[32] [%rD+OFF], %rS */
static int asm_lock(struct assembler *as, struct cursor *c)
{
	const char *at;
	char name[MAX_NAME], base[MAX_NAME];
	bool fetch = false, is32;
	skip_blanks(c);
	at = c->p;
	int rc = read_name(as, c, name);
	if (!rc && strcmp(name, "fetch") == 0) {
		fetch = true;
		skip_blanks(c);
		at = c->p;
		rc = read_name(as, c, name);
	}
	if (rc)
		return rc;
	if (!name[0])
		return fail_expected(as, c, "an atomic operation (add, or, and, xor, xchg, cmpxchg)");
	split_width(name, base, &is32);
	int32_t imm = -1;
	if (strcmp(base, "xchg") == 0 && !fetch)
		imm = COMB_ATOMIC_XCHG;
	else if (strcmp(base, "cmpxchg") == 0 && !fetch)
		imm = COMB_ATOMIC_CMPXCHG;
	else if (strcmp(base, "add") == 0 || strcmp(base, "or") == 0 || strcmp(base, "and") == 0 ||
		 strcmp(base, "xor") == 0) {
		int16_t unused;
		imm = alu_op_from_name(base, &unused) | (fetch ? COMB_ATOMIC_FETCH : 0);
	}
	if (imm < 0)
		return fail_at(as, c, at, "unknown atomic operation '%s%s'", fetch ? "fetch " : "", name);
	uint8_t code = (uint8_t)(COMB_CLS_STX | COMB_MODE_ATOMIC | (is32 ? COMB_SIZE_W : COMB_SIZE_DW));
	return asm_store(as, c, code, imm, true);
}

/* Memory mnemonics: ldx*, ldxs*, st*, stx*, ldabs*, ldind*. Returns 1 if
 * the mnemonic is not one of them. */
static int asm_memory(struct assembler *as, struct cursor *c, const char *m)
{
	int size;
	if (starts_with(m, "ldabs") || starts_with(m, "ldind")) {
		size = size_from_suffix(m + 5);
		if (size < 0 || size == COMB_SIZE_DW)
			return 1;
		return asm_legacy_load(as, c, m[2] == 'a' ? COMB_MODE_ABS : COMB_MODE_IND, size);
	}
	if (starts_with(m, "ldxs") && (size = size_from_suffix(m + 4)) >= 0 && size != COMB_SIZE_DW)
		return asm_ldx(as, c, COMB_MODE_MEMSX, size);
	if (starts_with(m, "ldx") && (size = size_from_suffix(m + 3)) >= 0)
		return asm_ldx(as, c, COMB_MODE_MEM, size);
	if (starts_with(m, "stx") && (size = size_from_suffix(m + 3)) >= 0)
		return asm_store(as, c, (uint8_t)(COMB_CLS_STX | COMB_MODE_MEM | (unsigned)size), 0, true);
	if (starts_with(m, "st") && (size = size_from_suffix(m + 2)) >= 0)
		return asm_store(as, c, (uint8_t)(COMB_CLS_ST | COMB_MODE_MEM | (unsigned)size), 0, false);
	return 1;
}

/* Byte swaps: le/be (ALU class), bswap/swap (ALU64 class). Returns 1 if not one. */
static int asm_swap_family(struct assembler *as, struct cursor *c, const char *m)
{
	static const struct {
		const char *prefix;
		uint8_t code;
	} kinds[] = {
		{ "le", COMB_CLS_ALU | COMB_ALU_END | COMB_SRC_K },
		{ "be", COMB_CLS_ALU | COMB_ALU_END | COMB_SRC_X },
		{ "bswap", COMB_CLS_ALU64 | COMB_ALU_END },
		{ "swap", COMB_CLS_ALU64 | COMB_ALU_END },
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);
		const char *w = m + n;
		if (strncmp(m, kinds[i].prefix, n) == 0 &&
		    (strcmp(w, "16") == 0 || strcmp(w, "32") == 0 || strcmp(w, "64") == 0))
			return asm_byteswap(as, c, w, kinds[i].code);
	}
	return 1;
}

static int asm_instruction(struct assembler *as, struct cursor *c, const char *m, const char *at)
{
	char base[MAX_NAME];
	bool is32;
	int rc;
	if (strcmp(m, "exit") == 0) {
		if (!as->seen_exit) {
			as->seen_exit = true;
			as->first_exit_pc = as->count;
		}
		struct comb_insn in = { .code = COMB_CLS_JMP | COMB_JMP_EXIT };
		return emit(as, c, &in, 1);
	}
	if (strcmp(m, "call") == 0)
		return asm_call(as, c);
	if (strcmp(m, "ja") == 0 || strcmp(m, "ja32") == 0)
		return asm_ja(as, c, m[2] == '3');
	if (strcmp(m, "lddw") == 0)
		return asm_lddw(as, c);
	if (strcmp(m, "lock") == 0)
		return asm_lock(as, c);
	if (starts_with(m, "movsx"))
		return asm_movsx(as, c, m, at);
	if ((rc = asm_memory(as, c, m)) <= 0 || (rc = asm_swap_family(as, c, m)) <= 0)
		return rc;
	split_width(m, base, &is32);
	if (strcmp(base, "neg") == 0) {
		struct comb_insn in = { .code = (uint8_t)((is32 ? COMB_CLS_ALU : COMB_CLS_ALU64) | COMB_ALU_NEG) };
		return asm_single_register(as, c, &in);
	}
	int16_t off;
	int op = alu_op_from_name(base, &off);
	if (op >= 0)
		return asm_alu(as, c, (unsigned)op, is32, off);
	/* jumps take only the 32 suffix */
	size_t n = strlen(m);
	is32 = n > 2 && strcmp(m + n - 2, "32") == 0;
	memcpy(base, m, n - (is32 ? 2 : 0));
	base[n - (is32 ? 2 : 0)] = '\0';
	op = jmp_op_from_name(base);
	if (op >= 0)
		return asm_cond_jump(as, c, (unsigned)op, is32);
	return fail_at(as, c, at, "unknown mnemonic '%s'", m);
}

/* One line: optional label(s), optional instruction, optional comment. */
static int asm_line(struct assembler *as, struct cursor *c)
{
	for (;;) {
		if (at_line_end(c))
			return 0;
		const char *at = c->p;
		char name[MAX_NAME];
		int rc = read_name(as, c, name);
		if (rc)
			return rc;
		if (!name[0])
			return fail_at(as, c, at, "expected a mnemonic or a label, found '%c'", *at);
		skip_blanks(c);
		if (*c->p == ':') {
			c->p++;
			rc = label_define(as, c, at, name);
			if (rc)
				return rc;
			continue;
		}
		rc = asm_instruction(as, c, name, at);
		return rc ? rc : expect_line_end(as, c);
	}
}

/* Patches every recorded label use; reports the first undefined label. */
static int resolve_fixups(struct assembler *as)
{
	for (size_t i = 0; i < as->fixup_count; i++) {
		struct fixup *f = &as->fixups[i];
		struct label *l = label_find(as, f->name);
		size_t target;
		if (l)
			target = l->pc;
		else if (strcmp(f->name, "exit") == 0 && as->seen_exit)
			target = as->first_exit_pc;
		else
			return fail_pos(as, f->line, f->column, "undefined label '%s'", f->name);
		int64_t delta = (int64_t)target - (int64_t)f->pc - 1;
		struct comb_insn *in = &as->insns[f->pc];
		if (f->field == FIX_IMM) {
			if (delta < INT32_MIN || delta > INT32_MAX)
				return fail_pos(as, f->line, f->column, "label '%s' is too far away", f->name);
			in->imm = (int32_t)delta;
		} else {
			if (delta < INT16_MIN || delta > INT16_MAX)
				return fail_pos(as, f->line, f->column,
					       "jump offset to '%s' (%lld) out of int16 range", f->name,
					       (long long)delta);
			in->off = (int16_t)delta;
		}
	}
	return 0;
}

static void assembler_free(struct assembler *as)
{
	for (size_t i = 0; i < as->label_capacity; i++)
		free(as->labels[i].name);
	for (size_t i = 0; i < as->fixup_count; i++)
		free(as->fixups[i].name);
	free(as->labels);
	free(as->fixups);
	free(as->insns);
}

int comb_asm(const char *source, struct comb_insn **insns, size_t *count, struct comb_asm_error *err)
{
	struct assembler as = { .err = err };
	struct cursor c = { source ? source : "", source ? source : "", 1 };
	if (err)
		*err = (struct comb_asm_error){ 0 };
	if (!insns || !count)
		return fail_at(&as, &c, c.p, "no output pointers given");
	*insns = NULL;
	*count = 0;
	int rc = 0;
	while (!rc) {
		rc = asm_line(&as, &c);
		if (rc)
			break;
		while (*c.p && *c.p != '\n')
			c.p++;
		if (!*c.p)
			break;
		c.p++;
		c.line_start = c.p;
		c.line++;
	}
	if (!rc)
		rc = resolve_fixups(&as);
	if (!rc && !grow((void **)&as.insns, &as.capacity, 1, sizeof(*as.insns)))
		rc = out_of_memory(&as, &c);
	if (rc) {
		assembler_free(&as);
		return -EINVAL;
	}
	*insns = as.insns;
	*count = as.count;
	as.insns = NULL;
	assembler_free(&as);
	return 0;
}
