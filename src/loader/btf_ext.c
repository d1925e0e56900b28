/* src/loader/btf_ext.c - a bounded parser for the .BTF.ext section.
 *
 * Layout (as clang writes it): a header {magic 0xeb9f, version 1, flags,
 * hdr_len, then (offset, length) pairs for func_info, line_info and, when
 * hdr_len allows, core_relo}, offsets counted from the end of the header.
 * Each sub-section starts with a u32 record size, followed by blocks
 * {u32 section name offset, u32 record count, records}. Every read is
 * checked against the bytes that exist; data may be unaligned in memory so
 * all fields are read with memcpy. Records are copied into fixed structs
 * (the known prefix of each record), so later code never touches the raw
 * bytes again. Memory used is proportional to the input size.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "loader/btf.h"

#define BTF_EXT_MAGIC 0xeb9f
#define BTF_EXT_MIN_HEADER 24     /* up to line_info_len */
#define BTF_EXT_CORE_HEADER 32    /* with core_relo_off/len */

struct ext_kind_info {
	const char *name;
	uint32_t min_record_size;
	size_t record_struct_size;
};

static const struct ext_kind_info kind_info[COMB_BTF_EXT_KIND_COUNT] = {
	[COMB_BTF_EXT_FUNC_INFO] = { "func_info", 8, sizeof(struct comb_btf_func_info) },
	[COMB_BTF_EXT_LINE_INFO] = { "line_info", 16, sizeof(struct comb_btf_line_info) },
	[COMB_BTF_EXT_CORE_RELO] = { "core_relo", 16, sizeof(struct comb_core_relo) },
};

struct ext_kind {
	uint32_t record_size;
	size_t count;
	struct comb_btf_ext_section *sections;
};

struct comb_btf_ext {
	struct ext_kind kinds[COMB_BTF_EXT_KIND_COUNT];
};

struct ext_parser {
	const uint8_t *data; /* start of the sub-section area (after the header) */
	size_t size;         /* bytes from data to the end of the input */
	size_t hdr_len;
	const struct btf *btf;
	char *err;
	size_t len;
};

static int ext_error(const struct ext_parser *p, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int ext_error(const struct ext_parser *p, int code, const char *fmt, ...)
{
	if (p->err && p->len) {
		int n = snprintf(p->err, p->len, ".BTF.ext: ");
		va_list ap;
		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < p->len)
			vsnprintf(p->err + n, p->len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return code;
}

static uint32_t read_u32(const uint8_t *at)
{
	uint32_t v;
	memcpy(&v, at, sizeof(v));
	return v;
}

void comb_btf_ext_free(struct comb_btf_ext *ext)
{
	if (!ext)
		return;
	for (int k = 0; k < COMB_BTF_EXT_KIND_COUNT; k++) {
		for (size_t i = 0; i < ext->kinds[k].count; i++)
			free((void *)ext->kinds[k].sections[i].func_info);
		free(ext->kinds[k].sections);
	}
	free(ext);
}

/* Check the strings and type ids one record refers to. at is the offset of
 * the record from the start of .BTF.ext, for messages. */
static int check_record(const struct ext_parser *p, enum comb_btf_ext_kind kind,
			const void *rec, size_t at)
{
	if (!p->btf)
		return 0;
	uint32_t type_cnt = btf__type_cnt(p->btf);
	if (kind == COMB_BTF_EXT_FUNC_INFO) {
		const struct comb_btf_func_info *fi = rec;
		if (fi->type_id == 0 || fi->type_id >= type_cnt)
			return ext_error(p, -EINVAL, "func_info at offset %zu: bad type id %u", at,
					 fi->type_id);
	} else if (kind == COMB_BTF_EXT_LINE_INFO) {
		const struct comb_btf_line_info *li = rec;
		if (!btf__name_by_offset(p->btf, li->file_name_off) ||
		    !btf__name_by_offset(p->btf, li->line_off))
			return ext_error(p, -EINVAL,
					 "line_info at offset %zu: string offset out of .BTF strings",
					 at);
	} else {
		const struct comb_core_relo *r = rec;
		if (r->type_id == 0 || r->type_id >= type_cnt)
			return ext_error(p, -EINVAL, "core_relo at offset %zu: bad type id %u", at,
					 r->type_id);
		if (!btf__name_by_offset(p->btf, r->access_str_off))
			return ext_error(p, -EINVAL,
					 "core_relo at offset %zu: access string offset %u out of .BTF strings",
					 at, r->access_str_off);
	}
	return 0;
}

/* Parse one block {name_off, count, records} at data[*pos]; *pos < end. */
static int parse_block(const struct ext_parser *p, enum comb_btf_ext_kind kind,
		       struct ext_kind *out, size_t *pos, size_t end)
{
	const struct ext_kind_info *info = &kind_info[kind];
	size_t at = p->hdr_len + *pos;
	if (end - *pos < 8)
		return ext_error(p, -EINVAL, "%s: truncated section header at offset %zu",
				 info->name, at);
	uint32_t name_off = read_u32(p->data + *pos), count = read_u32(p->data + *pos + 4);
	*pos += 8;
	if (count == 0)
		return ext_error(p, -EINVAL, "%s: section at offset %zu has no records",
				 info->name, at);
	if ((uint64_t)count * out->record_size > end - *pos)
		return ext_error(p, -EINVAL,
				 "%s: section at offset %zu: %u records of %u bytes overrun the sub-section",
				 info->name, at, count, out->record_size);
	const char *name = NULL;
	if (p->btf) {
		name = btf__name_by_offset(p->btf, name_off);
		if (!name || !*name)
			return ext_error(p, -EINVAL, "%s: section at offset %zu: bad name offset %u",
					 info->name, at, name_off);
	}
	uint8_t *records = calloc(count, info->record_struct_size);
	if (!records)
		return ext_error(p, -ENOMEM, "%s: out of memory", info->name);
	struct comb_btf_ext_section *sec = &out->sections[out->count++];
	*sec = (struct comb_btf_ext_section){ .name = name, .name_off = name_off, .count = count };
	sec->func_info = (const void *)records;
	for (uint32_t i = 0; i < count; i++, *pos += out->record_size) {
		uint8_t *rec = records + (size_t)i * info->record_struct_size;
		memcpy(rec, p->data + *pos, info->record_struct_size);
		int rc = check_record(p, kind, rec, p->hdr_len + *pos);
		if (rc)
			return rc;
	}
	return 0;
}

/* Parse the sub-section [off, off + length) of one kind. */
static int parse_kind(const struct ext_parser *p, enum comb_btf_ext_kind kind, uint32_t off,
		      uint32_t length, struct ext_kind *out)
{
	const struct ext_kind_info *info = &kind_info[kind];
	if (length == 0)
		return 0;
	if ((uint64_t)off + length > p->size)
		return ext_error(p, -EINVAL, "%s: offset %u length %u beyond the %zu bytes after the header",
				 info->name, off, length, p->size);
	if (off & 3)
		return ext_error(p, -EINVAL, "%s: offset %u not 4-byte aligned", info->name, off);
	if (length < 4)
		return ext_error(p, -EINVAL, "%s: truncated record size", info->name);
	out->record_size = read_u32(p->data + off);
	if (out->record_size < info->min_record_size || (out->record_size & 3))
		return ext_error(p, -EINVAL, "%s: bad record size %u (at least %u, multiple of 4)",
				 info->name, out->record_size, info->min_record_size);
	/* Each block takes at least 8 + record_size bytes: this bounds the array. */
	size_t max_blocks = (length - 4) / (8 + (uint64_t)out->record_size) + 1;
	out->sections = calloc(max_blocks, sizeof(*out->sections));
	if (!out->sections)
		return ext_error(p, -ENOMEM, "%s: out of memory", info->name);
	size_t pos = (size_t)off + 4, end = (size_t)off + length;
	while (pos < end) {
		int rc = parse_block(p, kind, out, &pos, end);
		if (rc)
			return rc;
	}
	return 0;
}

int comb_btf_ext_parse(const void *data, size_t size, const struct btf *btf,
		       struct comb_btf_ext **out, char *err, size_t len)
{
	struct ext_parser p = { .btf = btf, .err = err, .len = len };
	*out = NULL;
	if (!data || size < BTF_EXT_MIN_HEADER)
		return ext_error(&p, -EINVAL, "truncated header (%zu bytes)", size);
	const uint8_t *bytes = data;
	uint16_t magic;
	memcpy(&magic, bytes, 2);
	if (magic != BTF_EXT_MAGIC)
		return ext_error(&p, -EINVAL, "bad magic 0x%04x at offset 0", magic);
	if (bytes[2] != 1)
		return ext_error(&p, -EOPNOTSUPP, "unsupported version %u at offset 2", bytes[2]);
	if (bytes[3] != 0)
		return ext_error(&p, -EOPNOTSUPP, "unsupported flags 0x%x at offset 3", bytes[3]);
	uint32_t hdr_len = read_u32(bytes + 4);
	if (hdr_len < BTF_EXT_MIN_HEADER || hdr_len > size)
		return ext_error(&p, -EINVAL, "bad header length %u at offset 4 (section has %zu bytes)",
				 hdr_len, size);
	p.hdr_len = hdr_len;
	p.data = bytes + hdr_len;
	p.size = size - hdr_len;

	struct comb_btf_ext *ext = calloc(1, sizeof(*ext));
	if (!ext)
		return ext_error(&p, -ENOMEM, "out of memory");
	int rc = parse_kind(&p, COMB_BTF_EXT_FUNC_INFO, read_u32(bytes + 8), read_u32(bytes + 12),
			    &ext->kinds[COMB_BTF_EXT_FUNC_INFO]);
	if (!rc)
		rc = parse_kind(&p, COMB_BTF_EXT_LINE_INFO, read_u32(bytes + 16),
				read_u32(bytes + 20), &ext->kinds[COMB_BTF_EXT_LINE_INFO]);
	if (!rc && hdr_len >= BTF_EXT_CORE_HEADER)
		rc = parse_kind(&p, COMB_BTF_EXT_CORE_RELO, read_u32(bytes + 24),
				read_u32(bytes + 28), &ext->kinds[COMB_BTF_EXT_CORE_RELO]);
	if (rc) {
		comb_btf_ext_free(ext);
		return rc;
	}
	*out = ext;
	return 0;
}

size_t comb_btf_ext_section_count(const struct comb_btf_ext *ext, enum comb_btf_ext_kind kind)
{
	return kind < COMB_BTF_EXT_KIND_COUNT ? ext->kinds[kind].count : 0;
}

const struct comb_btf_ext_section *comb_btf_ext_section(const struct comb_btf_ext *ext,
							enum comb_btf_ext_kind kind, size_t idx)
{
	if (kind >= COMB_BTF_EXT_KIND_COUNT || idx >= ext->kinds[kind].count)
		return NULL;
	return &ext->kinds[kind].sections[idx];
}

const struct comb_btf_ext_section *comb_btf_ext_find(const struct comb_btf_ext *ext,
						     enum comb_btf_ext_kind kind, const char *name)
{
	for (size_t i = 0; i < comb_btf_ext_section_count(ext, kind); i++) {
		const struct comb_btf_ext_section *sec = &ext->kinds[kind].sections[i];
		if (sec->name && strcmp(sec->name, name) == 0)
			return sec;
	}
	return NULL;
}

uint32_t comb_btf_ext_record_size(const struct comb_btf_ext *ext, enum comb_btf_ext_kind kind)
{
	return kind < COMB_BTF_EXT_KIND_COUNT ? ext->kinds[kind].record_size : 0;
}
