/* tools/comb/xdp_records.c - `comb xdp --records MAP[:STRUCT]`: print the
 * records a program writes to a ring buffer, as they arrive.
 *
 * With STRUCT each record is laid over that struct of the object's BTF and
 * printed as one line of `field=value` pairs (or one JSON object per line
 * with --json). The value's form follows the field's declared type, the way
 * a person reads network records: a __be32 typedef is an IPv4 address, a
 * __be16 a port in host order, a 16-byte array named *addr* or *ip6* an IPv6
 * address, a char array a string, other integers and enums decimal, nested
 * structs flattened as outer.inner, anything else hex. Without STRUCT a
 * record is `SIZE: HEX` as `comb ringbuf` prints it. Fields that lie past
 * the end of a short record are left out.
 */
#include <arpa/inet.h>
#include <bpf/btf.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xdp_session.h"

struct xdp_records {
	struct comb_ring_buffer *rb;
	struct btf *btf;     /* NULL: hex records */
	uint32_t struct_id;
	bool json;
	bool first_field;    /* formatting state of the current line */
};

/* ---- values ---- */

static uint64_t load_bits(const uint8_t *rec, size_t size, uint64_t bit_off, uint32_t bits)
{
	uint64_t v = 0;
	size_t first = bit_off / 8, last = (bit_off + bits + 7) / 8;
	for (size_t i = first; i < last && i < size && i - first < 8; i++)
		v |= (uint64_t)rec[i] << (8 * (i - first));
	v >>= bit_off % 8;
	return bits >= 64 ? v : v & ((1ull << bits) - 1);
}

static void begin_field(struct xdp_records *r, const char *name)
{
	if (r->json) {
		fputs(r->first_field ? "" : ", ", stdout);
		cli_print_json_string(stdout, name);
		fputs(": ", stdout);
	} else {
		printf("%s%s=", r->first_field ? "" : " ", name);
	}
	r->first_field = false;
}

static void print_text_value(struct xdp_records *r, const char *text)
{
	if (r->json)
		cli_print_json_string(stdout, text);
	else
		fputs(text, stdout);
}

static void print_hex_value(struct xdp_records *r, const uint8_t *p, size_t n)
{
	fputs(r->json ? "\"" : "", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	fputs(r->json ? "\"" : "", stdout);
}

static void print_string_value(struct xdp_records *r, const uint8_t *p, size_t n)
{
	char text[512];
	size_t len = 0;
	for (size_t i = 0; i < n && p[i] && len + 5 < sizeof(text); i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, isprint(p[i]) && p[i] != ' ' ? "%c" : "\\x%02x",
					p[i]);
	text[len] = 0;
	print_text_value(r, text);
}

/* Follow modifiers and typedefs; note a __be32/__be16 typedef on the way. */
static const struct btf_type *resolve(const struct btf *btf, uint32_t id, const char **net_name)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	while (t && (btf_is_typedef(t) || btf_is_mod(t))) {
		const char *name = btf__name_by_offset(btf, t->name_off);
		if (btf_is_typedef(t) && name && (!strcmp(name, "__be32") || !strcmp(name, "__be16")) && !*net_name)
			*net_name = name;
		t = btf__type_by_id(btf, t->type);
	}
	return t;
}

static bool is_char_int(const struct btf *btf, const struct btf_type *t)
{
	if (!t || !btf_is_int(t) || t->size != 1)
		return false;
	const char *name = btf__name_by_offset(btf, t->name_off);
	return (btf_int_encoding(t) & BTF_INT_CHAR) || (name && !strcmp(name, "char"));
}

static void print_array(struct xdp_records *r, const char *name, const struct btf_type *t, const uint8_t *p,
			size_t n)
{
	const char *ignored = NULL;
	const struct btf_array *a = btf_array(t);
	const struct btf_type *elem = resolve(r->btf, a->type, &ignored);
	char text[64];
	if (elem && btf_is_int(elem) && elem->size == 1 && a->nelems == 16 && n == 16 &&
	    (strstr(name, "addr") || strstr(name, "ip6")) && inet_ntop(AF_INET6, p, text, sizeof(text)))
		print_text_value(r, text);
	else if (is_char_int(r->btf, elem))
		print_string_value(r, p, n);
	else
		print_hex_value(r, p, n);
}

static void print_int(struct xdp_records *r, const struct btf_type *t, const char *net_name, uint64_t v,
		      uint32_t bits)
{
	char text[32];
	if (net_name && !strcmp(net_name, "__be32") && bits == 32) {
		uint32_t be = (uint32_t)v; /* the bytes as they are in the record */
		inet_ntop(AF_INET, &be, text, sizeof(text));
		print_text_value(r, text);
	} else if (net_name && !strcmp(net_name, "__be16") && bits == 16) {
		printf("%u", ntohs((uint16_t)v));
	} else if ((btf_is_int(t) && (btf_int_encoding(t) & BTF_INT_SIGNED)) ||
		   (btf_is_enum(t) && btf_kflag(t))) {
		int64_t s = bits < 64 && (v >> (bits - 1)) & 1 ? (int64_t)(v | ~((1ull << bits) - 1)) : (int64_t)v;
		printf("%lld", (long long)s);
	} else {
		printf("%llu", (unsigned long long)v);
	}
}

static void print_struct(struct xdp_records *r, const char *prefix, const struct btf_type *st, const uint8_t *rec,
			 size_t size, uint64_t base_bits);

static void print_member(struct xdp_records *r, const char *name, uint32_t type_id, const uint8_t *rec, size_t size,
			 uint64_t bit_off, uint32_t bitfield)
{
	const char *net_name = NULL;
	const struct btf_type *t = resolve(r->btf, type_id, &net_name);
	if (!t)
		return;
	if (btf_is_struct(t) || btf_is_union(t)) {
		print_struct(r, name, t, rec, size, bit_off);
		return;
	}
	long tsize = btf__resolve_size(r->btf, type_id);
	uint32_t bits = bitfield ? bitfield : (uint32_t)(tsize > 0 ? tsize * 8 : 0);
	if (!bits || (bit_off + bits + 7) / 8 > size)
		return; /* past the end of a short record */
	begin_field(r, name);
	const uint8_t *p = rec + bit_off / 8;
	if (btf_is_array(t))
		print_array(r, name, t, p, (size_t)tsize);
	else if ((btf_is_int(t) || btf_is_enum(t) || btf_is_enum64(t)) && bits <= 64)
		print_int(r, t, net_name, load_bits(rec, size, bit_off, bits), bits);
	else
		print_hex_value(r, p, bits / 8);
}

static void print_struct(struct xdp_records *r, const char *prefix, const struct btf_type *st, const uint8_t *rec,
			 size_t size, uint64_t base_bits)
{
	const struct btf_member *m = btf_members(st);
	for (uint32_t i = 0; i < btf_vlen(st); i++, m++) {
		const char *member = btf__name_by_offset(r->btf, m->name_off);
		char name[256];
		snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] && member && member[0] ? "." : "",
			 member && member[0] ? member : "");
		print_member(r, name, m->type, rec, size, base_bits + btf_member_bit_offset(st, i),
			     btf_member_bitfield_size(st, i));
	}
}

/* ---- the consumer ---- */

static int on_record(void *ctx, void *data, size_t size)
{
	struct xdp_records *r = ctx;
	const uint8_t *bytes = data;
	if (!r->btf) {
		printf(r->json ? "{\"size\": %zu, \"data\": \"" : "%zu: ", size);
		for (size_t i = 0; i < size; i++)
			printf("%02x", bytes[i]);
		printf(r->json ? "\"}\n" : "\n");
		return 0;
	}
	r->first_field = true;
	fputs(r->json ? "{" : "", stdout);
	print_struct(r, "", btf__type_by_id(r->btf, r->struct_id), bytes, size, 0);
	fputs(r->json ? "}\n" : "\n", stdout);
	return 0;
}

static int find_struct(struct xdp_records *r, const char *object, const char *name)
{
	r->btf = btf__parse_elf(object, NULL);
	if (!r->btf) {
		cli_error("%s: --records: the object has no BTF to describe struct %s", object, name);
		return -ENOENT;
	}
	int id = btf__find_by_name_kind(r->btf, name, BTF_KIND_STRUCT);
	if (id <= 0) {
		cli_error("%s: --records: no struct %s in the object's BTF", object, name);
		return -ENOENT;
	}
	r->struct_id = (uint32_t)id;
	return 0;
}

int xdp_records_open(const char *object, const struct comb_object *obj, const char *spec, bool json,
		     struct xdp_records **out)
{
	*out = NULL;
	char map_name[256];
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	if (n == 0 || n >= sizeof(map_name) || (colon && !colon[1])) {
		cli_error("--records %s: expected MAP or MAP:STRUCT", spec);
		return -EINVAL;
	}
	memcpy(map_name, spec, n);
	map_name[n] = 0;
	int index = comb_object_find_map(obj, map_name);
	struct comb_map *map = index >= 0 ? comb_object_map(obj, (size_t)index) : NULL;
	struct comb_map_info info;
	if (!map) {
		cli_error("%s: --records: the object has no map %s", object, map_name);
		return -ENOENT;
	}
	comb_map_get_info(map, &info);
	if (info.type != COMB_MAP_RINGBUF) {
		cli_error("%s: --records: map %s is a %s map, not a ringbuf", object, map_name,
			  comb_map_type_name(info.type) ? comb_map_type_name(info.type) : "unknown");
		return -EINVAL;
	}
	struct xdp_records *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->json = json;
	int rc = colon ? find_struct(r, object, colon + 1) : 0;
	if (!rc && (rc = comb_ring_buffer_new(map, on_record, r, NULL, &r->rb)))
		cli_error("%s: --records: cannot consume map %s: %s", object, map_name, strerror(-rc));
	if (rc) {
		xdp_records_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

void xdp_records_poll(struct xdp_records *r)
{
	if (r && comb_ring_buffer_consume(r->rb) > 0)
		fflush(stdout);
}

void xdp_records_close(struct xdp_records *r)
{
	if (!r)
		return;
	comb_ring_buffer_free(r->rb);
	btf__free(r->btf);
	free(r);
}
