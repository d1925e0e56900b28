/* tools/comb/conformance_file.c - parse a BPF conformance .data file.
 *
 * One pass over the lines: a `-- NAME` line switches the current section and
 * every other line goes to it. The asm section keeps its file line numbers
 * (other lines become empty) so assembler errors point into the .data file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance_file.h"

enum section { SEC_NONE, SEC_ASM, SEC_RAW, SEC_MEM, SEC_RESULT, SEC_ERROR, SEC_OTHER };

static enum section section_from_header(const char *line, size_t len)
{
	const char *p = line + 2;
	const char *end = line + len;
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	size_t n = (size_t)(end - p);
	static const struct { const char *name; enum section sec; } names[] = {
		{ "asm", SEC_ASM }, { "raw", SEC_RAW }, { "mem", SEC_MEM },
		{ "result", SEC_RESULT }, { "error", SEC_ERROR },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0)
			return names[i].sec;
	return SEC_OTHER;
}

/* Append text (len bytes) and a newline to a growing string. */
static int append(char **buf, size_t *len, size_t *cap, const char *text, size_t n)
{
	if (*len + n + 2 > *cap) {
		size_t new_cap = (*len + n + 2) * 2;
		char *bigger = realloc(*buf, new_cap);
		if (!bigger)
			return -ENOMEM;
		*buf = bigger;
		*cap = new_cap;
	}
	memcpy(*buf + *len, text, n);
	*len += n;
	(*buf)[(*len)++] = '\n';
	(*buf)[*len] = 0;
	return 0;
}

static int parse_raw_line(const char *line, size_t len, struct conformance_test *t, char *err,
			  size_t err_len, int lineno)
{
	char word[64];
	while (len && isspace((unsigned char)line[len - 1]))
		len--;
	while (len && isspace((unsigned char)*line))
		line++, len--;
	if (len == 0)
		return 0;
	if (len >= sizeof(word)) {
		snprintf(err, err_len, "line %d: raw slot too long", lineno);
		return -EINVAL;
	}
	memcpy(word, line, len);
	word[len] = 0;
	char *end;
	errno = 0;
	uint64_t value = strtoull(word, &end, 0);
	if (errno || *end || word[0] == '-') {
		snprintf(err, err_len, "line %d: bad raw slot '%s' (expected a 64-bit number)",
			 lineno, word);
		return -EINVAL;
	}
	struct comb_insn *grown = realloc(t->raw, (t->raw_count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	t->raw = grown;
	cli_insn_from_u64(value, &t->raw[t->raw_count++]);
	return 0;
}

static int parse_result(const char *text, struct conformance_test *t, char *err, size_t err_len)
{
	char *end;
	while (isspace((unsigned char)*text))
		text++;
	errno = 0;
	t->expected = strtoull(text, &end, strstr(text, "0x") ? 16 : 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || end == text || *end) {
		snprintf(err, err_len, "bad -- result '%s' (expected a number)", text);
		return -EINVAL;
	}
	t->has_result = true;
	return 0;
}

struct parse_state {
	char *asm_buf, *mem_buf, *result_buf;
	size_t asm_len, asm_cap, mem_len, mem_cap, result_len, result_cap;
};

static int add_line(struct parse_state *s, enum section sec, const char *line, size_t n,
		    struct conformance_test *t, char *err, size_t err_len, int lineno)
{
	bool comment = n > 0 && line[0] == '#';
	int rc = append(&s->asm_buf, &s->asm_len, &s->asm_cap, line,
			sec == SEC_ASM && !comment ? n : 0);
	if (rc || comment)
		return rc;
	switch (sec) {
	case SEC_ASM:
		t->has_asm = true;
		return 0;
	case SEC_RAW:
		t->has_raw = true;
		return parse_raw_line(line, n, t, err, err_len, lineno);
	case SEC_MEM:
		return append(&s->mem_buf, &s->mem_len, &s->mem_cap, line, n);
	case SEC_RESULT:
		return append(&s->result_buf, &s->result_len, &s->result_cap, line, n);
	default:
		return 0;
	}
}

static int finish(struct parse_state *s, struct conformance_test *t, char *err, size_t err_len)
{
	t->asm_text = s->asm_buf;
	s->asm_buf = NULL;
	if (s->mem_buf) {
		char hex_err[160];
		if (cli_parse_hex(s->mem_buf, &t->mem, &t->mem_len, hex_err, sizeof(hex_err))) {
			snprintf(err, err_len, "-- mem: %s", hex_err);
			return -EINVAL;
		}
	}
	if (s->result_buf && parse_result(s->result_buf, t, err, err_len))
		return -EINVAL;
	if (!t->has_raw && !t->has_asm) {
		snprintf(err, err_len, "no -- asm or -- raw section");
		return -EINVAL;
	}
	if (!t->has_result && !t->expects_error) {
		snprintf(err, err_len, "no -- result or -- error section");
		return -EINVAL;
	}
	return 0;
}

int conformance_parse(const char *text, struct conformance_test *t, char *err, size_t err_len)
{
	memset(t, 0, sizeof(*t));
	struct parse_state s = { 0 };
	enum section sec = SEC_NONE;
	s.asm_buf = calloc(1, 1); /* the asm text exists even for an empty file */
	s.asm_cap = 1;
	int rc = s.asm_buf ? 0 : -ENOMEM;
	for (int lineno = 1; rc == 0 && *text; lineno++) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		if (n >= 2 && text[0] == '-' && text[1] == '-') {
			sec = section_from_header(text, n);
			t->expects_error |= sec == SEC_ERROR;
			rc = append(&s.asm_buf, &s.asm_len, &s.asm_cap, "", 0);
		} else {
			rc = add_line(&s, sec, text, n, t, err, err_len, lineno);
		}
		text += nl ? n + 1 : n;
	}
	if (rc == -ENOMEM)
		snprintf(err, err_len, "out of memory");
	if (rc == 0)
		rc = finish(&s, t, err, err_len);
	free(s.asm_buf);
	free(s.mem_buf);
	free(s.result_buf);
	if (rc)
		conformance_test_free(t);
	return rc;
}

void conformance_test_free(struct conformance_test *t)
{
	free(t->asm_text);
	free(t->raw);
	free(t->mem);
	memset(t, 0, sizeof(*t));
}
