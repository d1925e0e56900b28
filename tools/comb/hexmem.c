/* tools/comb/hexmem.c - hex bytes and counts from the command line.
 *
 * Memory and plugin programs arrive as hex text: "00 01 ff", "0001ff",
 * "0x00 0x01", split over lines or arguments. Whitespace and commas separate
 * groups; each group is an even number of hex digits, read as bytes in
 * order. Anything else is an error that names the offending character.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool is_separator(char c)
{
	return isspace((unsigned char)c) || c == ',';
}

/* Parse one group starting at text[*pos]; appends its bytes to out. */
static int parse_hex_group(const char *text, size_t *pos, uint8_t *out, size_t *len, char *err,
			   size_t err_len)
{
	size_t start = *pos;
	if (text[start] == '0' && (text[start + 1] == 'x' || text[start + 1] == 'X'))
		start += 2;
	size_t end = start;
	while (text[end] && !is_separator(text[end])) {
		if (hex_digit_value(text[end]) < 0) {
			snprintf(err, err_len, "bad hex digit '%c' at character %zu", text[end],
				 end + 1);
			return -EINVAL;
		}
		end++;
	}
	if (end == start || (end - start) % 2) {
		snprintf(err, err_len, "odd number of hex digits in '%.*s' at character %zu",
			 (int)(end - *pos), text + *pos, *pos + 1);
		return -EINVAL;
	}
	for (size_t i = start; i < end; i += 2)
		out[(*len)++] = (uint8_t)(hex_digit_value(text[i]) << 4 | hex_digit_value(text[i + 1]));
	*pos = end;
	return 0;
}

int cli_parse_hex(const char *text, uint8_t **bytes, size_t *len, char *err, size_t err_len)
{
	*bytes = NULL;
	*len = 0;
	uint8_t *out = malloc(strlen(text) / 2 + 1);
	if (!out) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	size_t n = 0, pos = 0;
	while (text[pos]) {
		if (is_separator(text[pos])) {
			pos++;
			continue;
		}
		int rc = parse_hex_group(text, &pos, out, &n, err, err_len);
		if (rc) {
			free(out);
			return rc;
		}
	}
	if (n == 0) {
		free(out);
		out = NULL;
	}
	*bytes = out;
	*len = n;
	return 0;
}

int cli_parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
	if (!text || !isdigit((unsigned char)text[0]) || strlen(text) > 19)
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*value = v;
	return 0;
}
