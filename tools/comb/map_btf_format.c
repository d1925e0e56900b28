/* tools/comb/map_btf_format.c - typed map keys and values through BTF.
 *
 * Printing walks the BTF type of a key or value over its bytes and writes
 * JSON the way bpftool's BTF dumper shows kernel maps (checked against
 * bpftool on the same contents, tests/e2e/maps.sh): ints in decimal by
 * size and signedness, bool as true/false, bit fields and 128-bit ints as
 * hex ("0x5"; quoted in --json), enums by name (the number when no name
 * matches), arrays as [..], char arrays holding a NUL-terminated printable
 * string as "text", structs and unions as {"member": ..} (anonymous
 * members named ""), global data (a DATASEC) as {"SEC": [{"var": ..}, ..]}.
 * The writer reproduces bpftool's json_writer layout: pretty output puts a
 * name on its own line indented 4 spaces per level, array values on one
 * line; compact output has no spaces. (bpftool escapes a backslash in a
 * string as "\n"; comb writes the correct "\\".)
 *
 * Parsing reads JSON text straight into the bytes of a type, with the
 * same shapes, by recursive descent: no document tree is built. Every
 * read and write is bounded by the byte size of the type, and nesting by
 * MAX_DEPTH, so neither odd BTF nor odd text can run off the buffer.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <comb/map.h>

#include "loader/btf.h"
#include "map_btf_format.h"

#define MAX_DEPTH 32

/* ---- opening ----------------------------------------------------------- */

static bool type_has_size(const struct btf *btf, uint32_t id, size_t want)
{
	long long got = btf__resolve_size(btf, id);
	return got >= 0 && (size_t)got == want;
}

bool map_btf_open(struct comb_map *map, const struct map_layout *layout, struct map_btf *mb, char *why,
		  size_t why_len)
{
	const void *data;
	size_t size;
	*mb = (struct map_btf){ 0 };
	why[0] = '\0';
	if (comb_map_get_btf(map, &data, &size, &mb->key_type, &mb->value_type))
		return false;
	char err[256];
	if (comb_btf_from_data(data, size, &mb->btf, err, sizeof(err))) {
		snprintf(why, why_len, "its BTF is invalid (%s)", err);
		mb->btf = NULL;
		return false;
	}
	if ((mb->key_type && !type_has_size(mb->btf, mb->key_type, layout->key_size)) ||
	    !type_has_size(mb->btf, mb->value_type, layout->value_size)) {
		snprintf(why, why_len, "its BTF key/value types do not match its key and value sizes");
		map_btf_close(mb);
		return false;
	}
	return true;
}

void map_btf_close(struct map_btf *mb)
{
	btf__free(mb->btf);
	mb->btf = NULL;
}

/* ---- the JSON writer --------------------------------------------------- */

static void json_next(struct json_out *w)
{
	if (!w->first)
		fputc(',', w->out);
	w->first = false;
}

static void json_newline(struct json_out *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->out);
	for (int i = 0; i < w->depth; i++)
		fputs("    ", w->out);
}

void json_begin(struct json_out *w, char open)
{
	json_next(w);
	fputc(open, w->out);
	w->depth++;
	w->first = true;
}

void json_end(struct json_out *w, char close)
{
	w->depth--;
	if (!w->first)
		json_newline(w);
	fputc(close, w->out);
	w->first = false;
}

static void put_string(FILE *out, const char *s, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void json_name(struct json_out *w, const char *name)
{
	json_next(w);
	json_newline(w);
	w->first = true;
	put_string(w->out, name, strlen(name));
	fputs(w->pretty ? ": " : ":", w->out);
}

void json_string(struct json_out *w, const char *s, size_t len)
{
	json_next(w);
	put_string(w->out, s, len);
}

void json_raw(struct json_out *w, const char *fmt, ...)
{
	va_list ap;
	json_next(w);
	va_start(ap, fmt);
	vfprintf(w->out, fmt, ap);
	va_end(ap);
}

/* ---- printing typed data ----------------------------------------------- */

struct printer {
	struct json_out *w;
	const struct btf *btf;
};

static const struct btf_type *resolved(const struct btf *btf, uint32_t *id)
{
	const struct btf_type *t = btf__type_by_id(btf, *id);
	for (int i = 0; t && i < MAX_DEPTH && (btf_is_mod(t) || btf_is_typedef(t)); i++) {
		*id = t->type;
		t = btf__type_by_id(btf, *id);
	}
	return t;
}

static uint64_t load_uint(const uint8_t *data, size_t size)
{
	uint64_t v = 0;
	memcpy(&v, data, size > 8 ? 8 : size); /* little endian, like the map's bytes */
	return v;
}

static int64_t sign_extend(uint64_t v, unsigned bits)
{
	if (bits == 0 || bits >= 64)
		return (int64_t)v;
	uint64_t sign = 1ull << (bits - 1);
	v &= (sign << 1) - 1;
	return (int64_t)((v ^ sign) - sign);
}

/* Bits [bit_off, bit_off + bits) of data (at most 64 bits). */
static uint64_t load_bits(const uint8_t *data, size_t avail, unsigned bit_off, unsigned bits)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bits && i < 64; i++) {
		unsigned at = bit_off + i;
		if (at / 8 < avail && (data[at / 8] >> (at % 8) & 1))
			v |= 1ull << i;
	}
	return v;
}

static void print_hex_number(struct printer *p, uint64_t hi, uint64_t lo)
{
	const char *q = p->w->pretty ? "" : "\"";
	if (hi)
		json_raw(p->w, "%s0x%" PRIx64 "%016" PRIx64 "%s", q, hi, lo, q);
	else
		json_raw(p->w, "%s0x%" PRIx64 "%s", q, lo, q);
}

static void print_int(struct printer *p, const struct btf_type *t, const uint8_t *data, size_t avail,
		      unsigned bit_off, unsigned bitfield)
{
	unsigned bits = bitfield ? bitfield : btf_int_bits(t);
	bit_off += btf_int_offset(t);
	uint8_t enc = btf_int_encoding(t);
	if (bitfield || bit_off || (bits != 8 && bits != 16 && bits != 32 && bits != 64)) {
		if (bits > 64)
			print_hex_number(p, load_bits(data, avail, bit_off + 64, bits - 64),
					 load_bits(data, avail, bit_off, 64));
		else
			print_hex_number(p, 0, load_bits(data, avail, bit_off, bits));
		return;
	}
	uint64_t v = load_uint(data, bits / 8);
	if (enc & BTF_INT_BOOL)
		json_raw(p->w, "%s", v ? "true" : "false");
	else if (enc & BTF_INT_CHAR && isprint((int)(v & 0xff)))
		json_raw(p->w, "\"%c\"", (char)v);
	else if (enc & BTF_INT_CHAR)
		json_raw(p->w, p->w->pretty ? "0x%02x" : "\"\\u00%02x\"", (unsigned)(v & 0xff));
	else if (enc & BTF_INT_SIGNED)
		json_raw(p->w, "%" PRId64, sign_extend(v, bits));
	else
		json_raw(p->w, "%" PRIu64, v);
}

static void print_enum(struct printer *p, const struct btf_type *t, const uint8_t *data)
{
	size_t size = t->size <= 8 ? t->size : 8;
	uint64_t raw = load_uint(data, size);
	bool is_signed = btf_kflag(t);
	int64_t value = is_signed ? sign_extend(raw, (unsigned)size * 8) : (int64_t)raw;
	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		uint64_t ev;
		uint32_t name_off;
		if (btf_is_enum64(t)) {
			ev = btf_enum64_value(&btf_enum64(t)[i]);
			name_off = btf_enum64(t)[i].name_off;
		} else {
			ev = (uint64_t)(int64_t)btf_enum(t)[i].val;
			name_off = btf_enum(t)[i].name_off;
		}
		if (sign_extend(ev, (unsigned)size * 8) == sign_extend(raw, (unsigned)size * 8)) {
			const char *name = btf__name_by_offset(p->btf, name_off);
			json_string(p->w, name ? name : "", name ? strlen(name) : 0);
			return;
		}
	}
	if (is_signed || size < 8)
		json_raw(p->w, "%" PRId64, is_signed ? value : sign_extend(raw, (unsigned)size * 8));
	else
		json_raw(p->w, "%" PRIu64, raw);
}

/* bpftool's rule: an array of `char` (not a typedef of it) holding a
 * printable string ended by a NUL prints as a string. */
static bool is_char_type(const struct btf *btf, uint32_t id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	for (int i = 0; t && i < MAX_DEPTH && btf_is_mod(t); i++)
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_int(t) || t->size != 1)
		return false;
	const char *name = btf__name_by_offset(btf, t->name_off);
	return (btf_int_encoding(t) & BTF_INT_CHAR) || (name && !strcmp(name, "char"));
}

static size_t printable_string_len(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!s[i])
			return i;
		if (s[i] <= 0x1f || s[i] >= 0x7f)
			return SIZE_MAX;
	}
	return SIZE_MAX;
}

static void print_type(struct printer *p, uint32_t id, const uint8_t *data, size_t avail, unsigned bit_off,
		       unsigned bitfield, int depth);

static void print_array(struct printer *p, const struct btf_type *t, const uint8_t *data, size_t avail,
			int depth)
{
	const struct btf_array *a = btf_array(t);
	long long elem = btf__resolve_size(p->btf, a->type);
	if (is_char_type(p->btf, a->type) && a->nelems <= avail) {
		size_t len = printable_string_len(data, a->nelems);
		if (len != SIZE_MAX && a->nelems) {
			json_string(p->w, (const char *)data, len);
			return;
		}
	}
	json_begin(p->w, '[');
	for (uint32_t i = 0; elem >= 0 && i < a->nelems; i++) {
		size_t at = (size_t)elem * i;
		if (at > avail || (size_t)elem > avail - at)
			break;
		print_type(p, a->type, data + at, (size_t)elem, 0, 0, depth + 1);
	}
	json_end(p->w, ']');
}

static void print_members(struct printer *p, const struct btf_type *t, const uint8_t *data, size_t avail,
			  int depth)
{
	json_begin(p->w, '{');
	const struct btf_member *m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(p->btf, m->name_off);
		uint32_t off = btf_member_bit_offset(t, i);
		unsigned bitfield = btf_member_bitfield_size(t, i);
		size_t byte = off / 8;
		json_name(p->w, name ? name : "");
		if (byte > avail)
			json_raw(p->w, "null");
		else
			print_type(p, m->type, data + byte, avail - byte, off % 8, bitfield, depth + 1);
	}
	json_end(p->w, '}');
}

static void print_datasec(struct printer *p, const struct btf_type *t, const uint8_t *data, size_t avail,
			  int depth)
{
	const char *sec = btf__name_by_offset(p->btf, t->name_off);
	json_begin(p->w, '{');
	json_name(p->w, sec ? sec : "");
	json_begin(p->w, '[');
	const struct btf_var_secinfo *v = btf_var_secinfos(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, v++) {
		const struct btf_type *var = btf__type_by_id(p->btf, v->type);
		const char *name = var ? btf__name_by_offset(p->btf, var->name_off) : NULL;
		if (!var || v->offset > avail || v->size > avail - v->offset)
			continue;
		json_begin(p->w, '{');
		json_name(p->w, name ? name : "");
		print_type(p, btf_is_var(var) ? var->type : v->type, data + v->offset, v->size, 0, 0, depth + 1);
		json_end(p->w, '}');
	}
	json_end(p->w, ']');
	json_end(p->w, '}');
}

static void print_type(struct printer *p, uint32_t id, const uint8_t *data, size_t avail, unsigned bit_off,
		       unsigned bitfield, int depth)
{
	const struct btf_type *t = resolved(p->btf, &id);
	long long size = t ? btf__resolve_size(p->btf, id) : -1;
	bool fits = size >= 0 && (bitfield || (size_t)size <= avail);
	if (!t || depth > MAX_DEPTH || !fits) {
		json_raw(p->w, "null");
		return;
	}
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		print_int(p, t, data, avail, bit_off, bitfield);
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		if (bitfield)
			print_hex_number(p, 0, load_bits(data, avail, bit_off, bitfield));
		else
			print_enum(p, t, data);
		break;
	case BTF_KIND_PTR:
		json_raw(p->w, "%" PRIu64, load_uint(data, 8));
		break;
	case BTF_KIND_ARRAY:
		print_array(p, t, data, avail, depth);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		print_members(p, t, data, avail, depth);
		break;
	case BTF_KIND_DATASEC:
		print_datasec(p, t, data, avail, depth);
		break;
	case BTF_KIND_VAR:
		print_type(p, t->type, data, avail, 0, 0, depth + 1);
		break;
	case BTF_KIND_FLOAT:
		if (t->size == 4) {
			float f;
			memcpy(&f, data, 4);
			json_raw(p->w, "%.9g", (double)f);
		} else if (t->size == 8) {
			double d;
			memcpy(&d, data, 8);
			json_raw(p->w, "%.17g", d);
		} else {
			json_raw(p->w, "null");
		}
		break;
	default:
		json_raw(p->w, "null");
	}
}

void map_btf_write_entry(struct json_out *w, const struct map_btf *mb, const struct map_layout *l,
			 const uint8_t *key, const uint8_t *value)
{
	struct printer p = { w, mb->btf };
	json_begin(w, '{');
	if (mb->key_type && key) {
		json_name(w, "key");
		print_type(&p, mb->key_type, key, l->key_size, 0, 0, 0);
	}
	if (!l->percpu) {
		json_name(w, "value");
		print_type(&p, mb->value_type, value, l->value_size, 0, 0, 0);
		json_end(w, '}');
		return;
	}
	json_name(w, "values");
	json_begin(w, '[');
	for (uint32_t cpu = 0; cpu < l->nr_cpus; cpu++) {
		json_begin(w, '{');
		json_name(w, "cpu");
		json_raw(w, "%u", cpu);
		json_name(w, "value");
		print_type(&p, mb->value_type, value + (size_t)cpu * l->value_stride, l->value_size, 0, 0, 0);
		json_end(w, '}');
	}
	json_end(w, ']');
	json_end(w, '}');
}

/* ---- hex or typed? ----------------------------------------------------- */

bool map_text_is_hex_of_size(char **words, int count, size_t want)
{
	uint8_t *bytes;
	size_t len;
	char err[128];
	if (map_parse_bytes(words, count, false, &bytes, &len, err, sizeof(err)))
		return false;
	free(bytes);
	return len == want;
}

/* ---- parsing typed data ------------------------------------------------ */

struct reader {
	const char *text, *pos;
	const struct btf *btf;
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 2, 3)))
static int read_fail(struct reader *r, const char *fmt, ...)
{
	if (r->err[0])
		return -EINVAL; /* keep the innermost message */
	int n = snprintf(r->err, r->err_len, "at offset %zu: ", (size_t)(r->pos - r->text));
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < r->err_len)
		vsnprintf(r->err + n, r->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void skip_space(struct reader *r)
{
	while (isspace((unsigned char)*r->pos))
		r->pos++;
}

static bool eat(struct reader *r, char c)
{
	skip_space(r);
	if (*r->pos != c)
		return false;
	r->pos++;
	return true;
}

/* A JSON string into buf (NUL-terminated, escapes decoded); *len its
 * length. */
static int read_string(struct reader *r, char *buf, size_t cap, size_t *len)
{
	if (!eat(r, '"'))
		return read_fail(r, "expected a string");
	size_t n = 0;
	while (*r->pos && *r->pos != '"') {
		char c = *r->pos++;
		if (c == '\\') {
			char e = *r->pos++;
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *hit = e ? strchr(from, e) : NULL;
			if (hit) {
				c = to[hit - from];
			} else if (e == 'u' && isxdigit((unsigned char)r->pos[0]) && isxdigit((unsigned char)r->pos[1]) &&
				   isxdigit((unsigned char)r->pos[2]) && isxdigit((unsigned char)r->pos[3])) {
				char hex[5] = { r->pos[0], r->pos[1], r->pos[2], r->pos[3], 0 };
				unsigned long u = strtoul(hex, NULL, 16);
				if (u > 0xff)
					return read_fail(r, "\\u%s is not a byte", hex);
				c = (char)u;
				r->pos += 4;
			} else {
				return read_fail(r, "bad escape in a string");
			}
		}
		if (n + 1 >= cap)
			return read_fail(r, "string too long");
		buf[n++] = c;
	}
	if (*r->pos != '"')
		return read_fail(r, "unterminated string");
	r->pos++;
	buf[n] = '\0';
	*len = n;
	return 0;
}

/* A number (decimal, -decimal, 0x hex, or such a number in a string as
 * bpftool's --json prints bit fields) or true/false. */
static int read_number(struct reader *r, bool *negative, uint64_t *magnitude)
{
	skip_space(r);
	char buf[80];
	size_t len;
	const char *s;
	if (*r->pos == '"') {
		int rc = read_string(r, buf, sizeof(buf), &len);
		if (rc)
			return rc;
		s = buf;
	} else if (!strncmp(r->pos, "true", 4) || !strncmp(r->pos, "false", 5)) {
		*negative = false;
		*magnitude = r->pos[0] == 't';
		r->pos += r->pos[0] == 't' ? 4 : 5;
		return 0;
	} else {
		len = strspn(r->pos, "+-0123456789abcdefABCDEFxX");
		if (!len || len >= sizeof(buf))
			return read_fail(r, "expected a number");
		memcpy(buf, r->pos, len);
		buf[len] = '\0';
		r->pos += len;
		s = buf;
	}
	*negative = s[0] == '-';
	if (s[0] == '-' || s[0] == '+')
		s++;
	char *end;
	errno = 0;
	*magnitude = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
	if (errno || end == s || *end || !isdigit((unsigned char)s[0]))
		return read_fail(r, "'%s' is not a number", buf);
	if (s[0] == '0' && isdigit((unsigned char)s[1])) /* JSON has no leading zeros: hex bytes */
		return read_fail(r, "'%s' is not a JSON number (leading zero)", buf);
	return 0;
}

static void store_bits(uint8_t *data, size_t size, unsigned bit_off, unsigned bits, uint64_t v)
{
	for (unsigned i = 0; i < bits && i < 64; i++) {
		unsigned at = bit_off + i;
		if (at / 8 >= size)
			return;
		if (v >> i & 1)
			data[at / 8] |= (uint8_t)(1u << (at % 8));
		else
			data[at / 8] &= (uint8_t)~(1u << (at % 8));
	}
}

/* Does value (negative, magnitude) fit bits, signed or not? */
static bool fits_bits(bool negative, uint64_t magnitude, unsigned bits, bool is_signed)
{
	if (bits >= 64)
		return !negative || magnitude <= (1ull << 63);
	uint64_t max = (1ull << bits) - 1;
	if (!negative)
		return magnitude <= max;
	return magnitude <= (is_signed ? 1ull << (bits - 1) : (max >> 1) + 1);
}

static int read_int(struct reader *r, const struct btf_type *t, uint8_t *data, size_t size, unsigned bit_off,
		    unsigned bitfield)
{
	unsigned bits = bitfield ? bitfield : btf_int_bits(t);
	bool is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
	const char *name = btf__name_by_offset(r->btf, t->name_off);
	bool is_char = t->size == 1 && ((btf_int_encoding(t) & BTF_INT_CHAR) || (name && !strcmp(name, "char")));
	skip_space(r);
	if (is_char && r->pos[0] == '"' && r->pos[1] && r->pos[1] != '\\' && r->pos[2] == '"') {
		store_bits(data, size, bit_off, 8, (uint8_t)r->pos[1]);
		r->pos += 3;
		return 0;
	}
	bool negative;
	uint64_t magnitude;
	int rc = read_number(r, &negative, &magnitude);
	if (rc)
		return rc;
	if (bits > 64)
		bits = 64; /* 128-bit ints: the low 64 bits from the text */
	if (!fits_bits(negative, magnitude, bits, is_signed || bitfield))
		return read_fail(r, "%s%" PRIu64 " does not fit %u bits", negative ? "-" : "", magnitude, bits);
	uint64_t v = negative ? (uint64_t)0 - magnitude : magnitude;
	store_bits(data, size, bit_off + btf_int_offset(t), bits, v);
	return 0;
}

static int read_enum(struct reader *r, const struct btf_type *t, uint8_t *data, size_t size, unsigned bit_off,
		     unsigned bitfield)
{
	unsigned bits = bitfield ? bitfield : (t->size <= 8 ? t->size * 8 : 64);
	skip_space(r);
	if (*r->pos == '"' && !(r->pos[1] == '0' && (r->pos[2] == 'x' || r->pos[2] == 'X'))) {
		char name[256];
		size_t len;
		int rc = read_string(r, name, sizeof(name), &len);
		if (rc)
			return rc;
		for (uint16_t i = 0; i < btf_vlen(t); i++) {
			uint32_t off = btf_is_enum64(t) ? btf_enum64(t)[i].name_off : btf_enum(t)[i].name_off;
			const char *n = btf__name_by_offset(r->btf, off);
			if (n && !strcmp(n, name)) {
				uint64_t v = btf_is_enum64(t) ? btf_enum64_value(&btf_enum64(t)[i])
							      : (uint64_t)(int64_t)btf_enum(t)[i].val;
				store_bits(data, size, bit_off, bits, v);
				return 0;
			}
		}
		return read_fail(r, "'%s' is not a value of this enum", name);
	}
	bool negative;
	uint64_t magnitude;
	int rc = read_number(r, &negative, &magnitude);
	if (rc)
		return rc;
	if (!fits_bits(negative, magnitude, bits, true) && !fits_bits(negative, magnitude, bits, false))
		return read_fail(r, "%" PRIu64 " does not fit the enum's %u bits", magnitude, bits);
	store_bits(data, size, bit_off, bits, negative ? (uint64_t)0 - magnitude : magnitude);
	return 0;
}

static int read_type(struct reader *r, uint32_t id, uint8_t *data, size_t size, unsigned bit_off,
		     unsigned bitfield, int depth);

static int read_array(struct reader *r, const struct btf_type *t, uint8_t *data, size_t size, int depth)
{
	const struct btf_array *a = btf_array(t);
	long long elem = btf__resolve_size(r->btf, a->type);
	skip_space(r);
	if (*r->pos == '"' && is_char_type(r->btf, a->type)) {
		char *buf = calloc(1, (size_t)a->nelems + 2);
		size_t len;
		int rc = buf ? read_string(r, buf, (size_t)a->nelems + 1, &len) : -ENOMEM;
		if (!rc && len <= size)
			memcpy(data, buf, len);
		free(buf);
		return rc;
	}
	if (!eat(r, '['))
		return read_fail(r, "expected [ for an array of %u", a->nelems);
	if (eat(r, ']'))
		return 0;
	for (uint32_t i = 0;; i++) {
		if (i >= a->nelems || elem < 0 || (size_t)elem * (i + 1) > size)
			return read_fail(r, "more than %u elements", a->nelems);
		int rc = read_type(r, a->type, data + (size_t)elem * i, (size_t)elem, 0, 0, depth + 1);
		if (rc)
			return rc;
		if (eat(r, ']'))
			return 0;
		if (!eat(r, ','))
			return read_fail(r, "expected , or ] in an array");
	}
}

/* Member `name` of struct/union t, looking into anonymous members too:
 * its type, byte offset, bit offset and bit-field size. */
static bool find_member(const struct btf *btf, const struct btf_type *t, const char *name, uint32_t *type,
			size_t *byte, unsigned *bit, unsigned *bitfield, int depth)
{
	const struct btf_member *m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *n = btf__name_by_offset(btf, m->name_off);
		uint32_t off = btf_member_bit_offset(t, i);
		if (n && !strcmp(n, name)) {
			*type = m->type;
			*byte = off / 8;
			*bit = off % 8;
			*bitfield = btf_member_bitfield_size(t, i);
			return true;
		}
		uint32_t inner_id = m->type;
		const struct btf_type *inner = resolved(btf, &inner_id);
		if ((!n || !n[0]) && inner && btf_is_composite(inner) && depth < MAX_DEPTH &&
		    find_member(btf, inner, name, type, byte, bit, bitfield, depth + 1)) {
			*byte += off / 8;
			return true;
		}
	}
	return false;
}

static int read_members(struct reader *r, const struct btf_type *t, uint8_t *data, size_t size, int depth)
{
	if (!eat(r, '{'))
		return read_fail(r, "expected { for a %s", btf_is_union(t) ? "union" : "struct");
	if (eat(r, '}'))
		return 0;
	for (;;) {
		char name[256];
		size_t len, byte;
		uint32_t type;
		unsigned bit, bitfield;
		int rc = read_string(r, name, sizeof(name), &len);
		if (rc)
			return rc;
		if (!find_member(r->btf, t, name, &type, &byte, &bit, &bitfield, 0))
			return read_fail(r, "no member '%s'", name);
		if (!eat(r, ':'))
			return read_fail(r, "expected : after \"%s\"", name);
		if (byte > size)
			return read_fail(r, "member '%s' lies outside the value", name);
		rc = read_type(r, type, data + byte, size - byte, bit, bitfield, depth + 1);
		if (rc)
			return rc;
		if (eat(r, '}'))
			return 0;
		if (!eat(r, ','))
			return read_fail(r, "expected , or } after member '%s'", name);
	}
}

/* The variable `name` of DATASEC t. */
static const struct btf_var_secinfo *find_var(const struct btf *btf, const struct btf_type *t, const char *name)
{
	const struct btf_var_secinfo *v = btf_var_secinfos(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, v++) {
		const struct btf_type *var = btf__type_by_id(btf, v->type);
		const char *n = var ? btf__name_by_offset(btf, var->name_off) : NULL;
		if (n && !strcmp(n, name))
			return v;
	}
	return NULL;
}

/* "var": VALUE pairs until the closing brace (the opening one eaten). */
static int read_vars(struct reader *r, const struct btf_type *t, uint8_t *data, size_t size, int depth,
		     bool bpftool_form)
{
	if (eat(r, '}'))
		return 0;
	for (;;) {
		char name[256];
		size_t len;
		int rc = read_string(r, name, sizeof(name), &len);
		if (rc)
			return rc;
		const struct btf_var_secinfo *v = find_var(r->btf, t, name);
		if (!v)
			return read_fail(r, "no variable '%s' in this section", name);
		if (!eat(r, ':'))
			return read_fail(r, "expected : after \"%s\"", name);
		if (v->offset > size || v->size > size - v->offset)
			return read_fail(r, "variable '%s' lies outside the value", name);
		rc = read_type(r, v->type, data + v->offset, v->size, 0, 0, depth + 1);
		if (rc)
			return rc;
		if (eat(r, '}'))
			return 0;
		if (!eat(r, ','))
			return read_fail(r, "expected , or }");
		if (bpftool_form)
			return read_fail(r, "one variable per {} in the section's list");
	}
}

/* {"SEC": [{"var": v}, ...]} as bpftool prints it, or {"var": v, ...}. */
static int read_datasec(struct reader *r, const struct btf_type *t, uint8_t *data, size_t size, int depth)
{
	const char *sec = btf__name_by_offset(r->btf, t->name_off);
	if (!eat(r, '{'))
		return read_fail(r, "expected { for section %s", sec ? sec : "?");
	const char *mark = r->pos;
	char name[256];
	size_t len;
	skip_space(r);
	if (*r->pos != '"' || read_string(r, name, sizeof(name), &len) || !sec || strcmp(name, sec) ||
	    !eat(r, ':') || !eat(r, '[')) {
		r->pos = mark; /* the short form */
		r->err[0] = '\0';
		return read_vars(r, t, data, size, depth, false);
	}
	if (!eat(r, ']')) {
		for (;;) {
			if (!eat(r, '{'))
				return read_fail(r, "expected {\"var\": value} in section %s", sec);
			int rc = read_vars(r, t, data, size, depth, true);
			if (rc)
				return rc;
			if (eat(r, ']'))
				break;
			if (!eat(r, ','))
				return read_fail(r, "expected , or ] in section %s", sec);
		}
	}
	return eat(r, '}') ? 0 : read_fail(r, "expected } after section %s", sec);
}

static int read_type(struct reader *r, uint32_t id, uint8_t *data, size_t size, unsigned bit_off,
		     unsigned bitfield, int depth)
{
	const struct btf_type *t = resolved(r->btf, &id);
	long long need = t ? btf__resolve_size(r->btf, id) : -1;
	if (!t || depth > MAX_DEPTH || need < 0 || (!bitfield && (size_t)need > size))
		return read_fail(r, "type %u cannot be read here", id);
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		return read_int(r, t, data, size, bit_off, bitfield);
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return read_enum(r, t, data, size, bit_off, bitfield);
	case BTF_KIND_PTR: {
		bool negative;
		uint64_t v;
		int rc = read_number(r, &negative, &v);
		if (!rc && negative)
			return read_fail(r, "a pointer is not negative");
		if (!rc)
			memcpy(data, &v, 8);
		return rc;
	}
	case BTF_KIND_ARRAY:
		return read_array(r, t, data, size, depth);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return read_members(r, t, data, size, depth);
	case BTF_KIND_DATASEC:
		return read_datasec(r, t, data, size, depth);
	case BTF_KIND_VAR:
		return read_type(r, t->type, data, size, 0, 0, depth + 1);
	default:
		return read_fail(r, "values of BTF kind %u cannot be written as text; give hex bytes", btf_kind(t));
	}
}

int map_btf_parse(const struct map_btf *mb, uint32_t type_id, const char *text, size_t size, uint8_t **out,
		  char *err, size_t err_len)
{
	struct reader r = { text, text, mb->btf, err, err_len };
	err[0] = '\0';
	*out = calloc(1, size ? size : 1);
	if (!*out) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	int rc = read_type(&r, type_id, *out, size, 0, 0, 0);
	skip_space(&r);
	if (!rc && *r.pos)
		rc = read_fail(&r, "unexpected text after the value: '%.20s'", r.pos);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}
