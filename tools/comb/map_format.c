/* tools/comb/map_format.c - map keys and values as text, both ways.
 *
 * Parsing splits the words of KEY or VALUE into tokens (whitespace and
 * commas separate them) and reads each token as bytes: in hex by default
 * (one or two digits are one byte, longer tokens an even number of digits
 * read in order), or one byte per token the way C reads numbers for
 * bpftool's `key 10 0 0 1` form. A leading token `hex` is bpftool's marker
 * for hex and is skipped.
 *
 * Printing follows bpftool's plain and JSON dump formats byte for byte, so
 * scripts written against bpftool read comb's output unchanged: short
 * entries on one line, long keys and values on their own lines, per-CPU
 * values one line per CPU.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "map_format.h"

static bool is_percpu_type(uint32_t type)
{
	return type == COMB_MAP_PERCPU_ARRAY || type == COMB_MAP_PERCPU_HASH ||
	       type == COMB_MAP_LRU_PERCPU_HASH;
}

/* The CPU count libcomb gives per-CPU maps (a pinned map opens only in a
 * process that agrees with it, so this is the pinned map's count too). */
static uint32_t possible_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	return n > 0 ? (uint32_t)n : 1;
}

void map_layout_of(const struct comb_map_info *info, struct map_layout *layout)
{
	layout->key_size = info->key_size;
	layout->value_size = info->value_size;
	layout->percpu = is_percpu_type(info->type);
	layout->nr_cpus = layout->percpu ? possible_cpus() : 1;
	layout->value_stride = layout->percpu ? (info->value_size + 7) & ~7u : info->value_size;
	layout->value_bytes = (size_t)layout->nr_cpus * layout->value_stride;
}

/* ---- parsing */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool is_separator(char c)
{
	return isspace((unsigned char)c) || c == ',';
}

/* A growing byte buffer for the parser. */
struct byte_sink {
	uint8_t *data;
	size_t len, cap;
};

static int sink_put(struct byte_sink *s, uint8_t byte)
{
	if (s->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint8_t *bigger = realloc(s->data, cap);
		if (!bigger)
			return -ENOMEM;
		s->data = bigger;
		s->cap = cap;
	}
	s->data[s->len++] = byte;
	return 0;
}

/* One hex token (tok, n chars): one or two digits are one byte, longer
 * tokens an even number of digits. */
static int parse_hex_token(const char *tok, size_t n, struct byte_sink *s, char *err, size_t err_len)
{
	const char *digits = tok;
	if (n > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) {
		digits += 2;
		n -= 2;
	}
	for (size_t i = 0; i < n; i++)
		if (hex_digit(digits[i]) < 0) {
			snprintf(err, err_len, "bad hex digit '%c' in '%.*s'", digits[i],
				 (int)(digits - tok + n), tok);
			return -EINVAL;
		}
	if (n > 2 && n % 2) {
		snprintf(err, err_len, "odd number of hex digits in '%.*s' (write bytes as two digits each)",
			 (int)(digits - tok + n), tok);
		return -EINVAL;
	}
	if (n == 1)
		return sink_put(s, (uint8_t)hex_digit(digits[0]));
	for (size_t i = 0; i < n; i += 2) {
		int rc = sink_put(s, (uint8_t)(hex_digit(digits[i]) << 4 | hex_digit(digits[i + 1])));
		if (rc)
			return rc;
	}
	return 0;
}

/* One number token, one byte, read as C reads numbers (bpftool's form). */
static int parse_number_token(const char *tok, size_t n, struct byte_sink *s, char *err, size_t err_len)
{
	char text[32];
	if (n >= sizeof(text)) {
		snprintf(err, err_len, "'%.*s' is not a byte", (int)n, tok);
		return -EINVAL;
	}
	memcpy(text, tok, n);
	text[n] = '\0';
	char *end;
	errno = 0;
	unsigned long value = strtoul(text, &end, 0);
	if (errno || *end || text[0] == '-' || value > 255) {
		snprintf(err, err_len, "'%s' is not a byte (0 to 255; add `hex` before hex bytes)", text);
		return -EINVAL;
	}
	return sink_put(s, (uint8_t)value);
}

struct token_cursor {
	char **args;
	int count, arg;
	size_t pos;
};

/* The next token: *tok and *n set, false at the end. */
static bool next_token(struct token_cursor *c, const char **tok, size_t *n)
{
	while (c->arg < c->count) {
		const char *word = c->args[c->arg];
		while (word[c->pos] && is_separator(word[c->pos]))
			c->pos++;
		if (!word[c->pos]) {
			c->arg++;
			c->pos = 0;
			continue;
		}
		size_t start = c->pos;
		while (word[c->pos] && !is_separator(word[c->pos]))
			c->pos++;
		*tok = word + start;
		*n = c->pos - start;
		return true;
	}
	return false;
}

int map_parse_bytes(char **args, int count, bool decimal, uint8_t **bytes, size_t *len, char *err,
		    size_t err_len)
{
	struct token_cursor c = { .args = args, .count = count };
	struct byte_sink s = { 0 };
	const char *tok;
	size_t n;
	int rc = 0;
	bool first = true;
	*bytes = NULL;
	*len = 0;
	while (!rc && next_token(&c, &tok, &n)) {
		if (first && n == 3 && strncmp(tok, "hex", 3) == 0) {
			decimal = false;
		} else if (decimal) {
			rc = parse_number_token(tok, n, &s, err, err_len);
		} else {
			rc = parse_hex_token(tok, n, &s, err, err_len);
		}
		first = false;
	}
	if (!rc && s.len == 0) {
		snprintf(err, err_len, "no bytes given");
		rc = -EINVAL;
	}
	if (rc == -ENOMEM)
		snprintf(err, err_len, "out of memory");
	if (rc) {
		free(s.data);
		return rc;
	}
	*bytes = s.data;
	*len = s.len;
	return 0;
}

int map_check_size(const char *what, size_t got, size_t want, const char *name, char *err,
		   size_t err_len)
{
	if (got == want)
		return 0;
	snprintf(err, err_len, "%s is %zu byte%s, map %s needs exactly %zu", what, got,
		 got == 1 ? "" : "s", name, want);
	return -EINVAL;
}

/* ---- printing */

void map_print_hex(FILE *out, const uint8_t *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (i && i % 16 == 0)
			fputc('\n', out);
		else if (i && i % 8 == 0)
			fputs("  ", out);
		else if (i)
			fputc(' ', out);
		fprintf(out, "%02x", bytes[i]);
	}
}

static void print_plain_entry(FILE *out, const struct map_layout *l, const uint8_t *key,
			      const uint8_t *value)
{
	bool break_names = l->key_size > 16 || l->value_size > 16;
	bool single_line = l->key_size + l->value_size <= 24 && !break_names;
	if (l->key_size) {
		fprintf(out, "key:%c", break_names ? '\n' : ' ');
		map_print_hex(out, key, l->key_size);
		fputs(single_line ? "  " : "\n", out);
	}
	fprintf(out, "value:%c", break_names ? '\n' : ' ');
	map_print_hex(out, value, l->value_size);
	fputc('\n', out);
}

static void print_percpu_entry(FILE *out, const struct map_layout *l, const uint8_t *key,
			       const uint8_t *value)
{
	fputs("key:\n", out);
	map_print_hex(out, key, l->key_size);
	fputc('\n', out);
	for (uint32_t cpu = 0; cpu < l->nr_cpus; cpu++) {
		fprintf(out, "value (CPU %02u):%c", cpu, l->value_size > 16 ? '\n' : ' ');
		map_print_hex(out, value + (size_t)cpu * l->value_stride, l->value_size);
		fputc('\n', out);
	}
}

void map_print_entry(FILE *out, const struct map_layout *layout, const uint8_t *key,
		     const uint8_t *value)
{
	if (layout->percpu)
		print_percpu_entry(out, layout, key, value);
	else
		print_plain_entry(out, layout, key, value);
}

static void print_json_bytes(FILE *out, const uint8_t *bytes, size_t len)
{
	fputc('[', out);
	for (size_t i = 0; i < len; i++)
		fprintf(out, "%s\"0x%02x\"", i ? "," : "", bytes[i]);
	fputc(']', out);
}

void map_print_entry_json_fields(FILE *out, const struct map_layout *layout, const uint8_t *key,
				 const uint8_t *value)
{
	fputs("\"key\":", out);
	print_json_bytes(out, key, layout->key_size);
	if (!layout->percpu) {
		fputs(",\"value\":", out);
		print_json_bytes(out, value, layout->value_size);
		return;
	}
	fputs(",\"values\":[", out);
	for (uint32_t cpu = 0; cpu < layout->nr_cpus; cpu++) {
		fprintf(out, "%s{\"cpu\":%u,\"value\":", cpu ? "," : "", cpu);
		print_json_bytes(out, value + (size_t)cpu * layout->value_stride, layout->value_size);
		fputc('}', out);
	}
	fputc(']', out);
}

void map_print_entry_json(FILE *out, const struct map_layout *layout, const uint8_t *key,
			  const uint8_t *value)
{
	fputc('{', out);
	map_print_entry_json_fields(out, layout, key, value);
	fputc('}', out);
}
