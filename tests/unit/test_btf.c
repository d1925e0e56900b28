/* tests/unit/test_btf.c - BTF loading, validation and .BTF.ext parsing.
 *
 * Real input comes from tests/progs/btf_kinds.bpf.c (every BTF kind) and
 * core_fields.bpf.c; hostile input is built by hand: BTF whose types refer
 * past the end or to themselves, .BTF.ext headers and records with bad
 * offsets, lengths and counts. Each must give an error naming the problem. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "../test.h"
#include "btf_testlib.h"
#include "loader/btf.h"

TEST(btf_loads_every_kind_from_an_object)
{
	const char *path = btf_test_object("btf_kinds");
	CHECK(path != NULL);
	size_t size = 0;
	void *bytes = btf_test_section(path, ".BTF", &size);
	CHECK(bytes != NULL);
	struct btf *btf;
	char err[256] = "";
	CHECK_EQ(comb_btf_from_data(bytes, size, &btf, err, sizeof(err)), 0);
	int seen[NR_BTF_KINDS] = { 0 };
	for (uint32_t id = 1; id < btf__type_cnt(btf); id++)
		seen[btf_kind(btf__type_by_id(btf, id))]++;
	for (int k = BTF_KIND_INT; k < NR_BTF_KINDS; k++)
		if (k != BTF_KIND_RESTRICT && !seen[k]) {
			fprintf(stderr, "  kind %d missing\n", k);
			CHECK(seen[k]);
		}
	btf__free(btf);
	/* The same file through the target loader (ELF with .BTF). */
	CHECK_EQ(comb_btf_load_target(path, &btf, err, sizeof(err)), 0);
	btf__free(btf);
	free(bytes);
}

TEST(btf_loads_vmlinux)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		fprintf(stderr, "btf_loads_vmlinux: skipped (no vmlinux BTF)\n");
		return;
	}
	struct btf *btf;
	char err[256] = "";
	CHECK_EQ(comb_btf_load_target(NULL, &btf, err, sizeof(err)), 0);
	CHECK(btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT) > 0);
	btf__free(btf);
	CHECK_EQ(comb_btf_load_target("/nonexistent", &btf, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "/nonexistent") != NULL);
}

/* Build raw BTF: header, types (u32 words), strings. */
static void *raw_btf(const uint32_t *types, size_t type_words, const char *strs, size_t strs_len,
		     size_t *size)
{
	struct btf_header h = { .magic = 0xeB9F, .version = 1, .hdr_len = sizeof(h) };
	h.type_len = (uint32_t)(type_words * 4);
	h.str_off = h.type_len;
	h.str_len = (uint32_t)strs_len;
	*size = sizeof(h) + h.type_len + strs_len;
	uint8_t *b = malloc(*size);
	memcpy(b, &h, sizeof(h));
	memcpy(b + sizeof(h), types, h.type_len);
	memcpy(b + sizeof(h) + h.type_len, strs, strs_len);
	return b;
}

#define INFO(kind, vlen, kflag) (((uint32_t)(kflag) << 31) | ((uint32_t)(kind) << 24) | (vlen))

static int try_btf(const uint32_t *types, size_t words, char *err, size_t len)
{
	static const char strs[] = "\0int\0s";
	size_t size;
	void *b = raw_btf(types, words, strs, sizeof(strs), &size);
	struct btf *btf = NULL;
	int rc = comb_btf_from_data(b, size, &btf, err, len);
	btf__free(btf);
	free(b);
	return rc;
}

TEST(btf_rejects_hostile_types)
{
	char err[256];
	/* [1] int, [2] ptr -> [1]: fine. */
	uint32_t ok[] = { 1, INFO(BTF_KIND_INT, 0, 0), 4, 32, 0, INFO(BTF_KIND_PTR, 0, 0), 1 };
	CHECK_EQ(try_btf(ok, 7, err, sizeof(err)), 0);
	/* ptr -> [9]: out of range. */
	uint32_t far[] = { 1, INFO(BTF_KIND_INT, 0, 0), 4, 32, 0, INFO(BTF_KIND_PTR, 0, 0), 9 };
	CHECK_EQ(try_btf(far, 7, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "type [2]") && strstr(err, "[9]"));
	/* typedef [1] -> const [2] -> [1]: a loop. */
	uint32_t loop[] = { 5, INFO(BTF_KIND_TYPEDEF, 0, 0), 2, 0, INFO(BTF_KIND_CONST, 0, 0), 1 };
	CHECK_EQ(try_btf(loop, 6, err, sizeof(err)), -ELOOP);
	/* ptr [1] -> ptr [2] -> [1]: a loop without a base type. */
	uint32_t ptrs[] = { 0, INFO(BTF_KIND_PTR, 0, 0), 2, 0, INFO(BTF_KIND_PTR, 0, 0), 1 };
	CHECK_EQ(try_btf(ptrs, 6, err, sizeof(err)), -ELOOP);
	/* struct s { struct s self; }: infinite size. */
	uint32_t self[] = { 5, INFO(BTF_KIND_STRUCT, 1, 0), 4, 0, 1, 0 };
	CHECK_EQ(try_btf(self, 6, err, sizeof(err)), -ELOOP);
	/* struct s { struct s *next; }: legal. */
	uint32_t list[] = { 5, INFO(BTF_KIND_STRUCT, 1, 0), 8, 0, 2, 0,
			    0, INFO(BTF_KIND_PTR, 0, 0), 1 };
	CHECK_EQ(try_btf(list, 9, err, sizeof(err)), 0);
	/* member name offset past the strings. */
	uint32_t badname[] = { 5, INFO(BTF_KIND_STRUCT, 1, 0), 4, 1000, 0, 0 };
	CHECK(try_btf(badname, 6, err, sizeof(err)) < 0);
	/* member bit offset beyond the struct. */
	uint32_t badoff[] = { 1, INFO(BTF_KIND_INT, 0, 0), 4, 32,
			      5, INFO(BTF_KIND_STRUCT, 1, 0), 4, 0, 1, 64 };
	CHECK_EQ(try_btf(badoff, 10, err, sizeof(err)), -EINVAL);
	/* int with 200 bits. */
	uint32_t bigint[] = { 1, INFO(BTF_KIND_INT, 0, 0), 4, 200 };
	CHECK_EQ(try_btf(bigint, 4, err, sizeof(err)), -EINVAL);
	/* truncated: libbpf refuses. */
	CHECK(try_btf(ok, 3, err, sizeof(err)) < 0);
}

struct ext_builder {
	uint8_t b[512];
	size_t len;
};

static void put32(struct ext_builder *e, uint32_t v)
{
	memcpy(e->b + e->len, &v, 4);
	e->len += 4;
}

/* A .BTF.ext with one func_info block and one core_relo block for name_off. */
static void build_ext(struct ext_builder *e, uint32_t name_off, uint32_t count)
{
	e->len = 0;
	put32(e, 0xeb9f | 1 << 16);
	put32(e, 32);
	put32(e, 0), put32(e, 20);  /* func_info: 4 + 8 + 8 */
	put32(e, 0), put32(e, 0);   /* no line_info */
	put32(e, 20), put32(e, 28); /* core_relo: 4 + 8 + 16 */
	put32(e, 8), put32(e, name_off), put32(e, 1), put32(e, 0), put32(e, 1);
	put32(e, 16), put32(e, name_off), put32(e, count);
	put32(e, 8), put32(e, 1), put32(e, 0), put32(e, 0);
}

TEST(btf_ext_parses_handmade_records)
{
	struct ext_builder e;
	build_ext(&e, 5, 1);
	struct comb_btf_ext *ext;
	char err[256] = "";
	CHECK_EQ(comb_btf_ext_parse(e.b, e.len, NULL, &ext, err, sizeof(err)), 0);
	CHECK_EQ(comb_btf_ext_section_count(ext, COMB_BTF_EXT_FUNC_INFO), 1);
	CHECK_EQ(comb_btf_ext_section_count(ext, COMB_BTF_EXT_LINE_INFO), 0);
	const struct comb_btf_ext_section *s = comb_btf_ext_section(ext, COMB_BTF_EXT_CORE_RELO, 0);
	CHECK(s != NULL);
	CHECK_EQ(s->name_off, 5);
	CHECK_EQ(s->count, 1);
	CHECK_EQ(s->core_relo[0].insn_off, 8);
	CHECK_EQ(s->core_relo[0].type_id, 1);
	CHECK_EQ(comb_btf_ext_record_size(ext, COMB_BTF_EXT_CORE_RELO), 16);
	comb_btf_ext_free(ext);
}

TEST(btf_ext_rejects_hostile_input)
{
	struct ext_builder e;
	struct comb_btf_ext *ext;
	char err[256];
	build_ext(&e, 5, 1000000); /* huge record count */
	CHECK_EQ(comb_btf_ext_parse(e.b, e.len, NULL, &ext, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "core_relo") && strstr(err, "overrun"));
	build_ext(&e, 5, 0);
	CHECK_EQ(comb_btf_ext_parse(e.b, e.len, NULL, &ext, err, sizeof(err)), -EINVAL);
	build_ext(&e, 5, 1);
	for (size_t cut = 0; cut < e.len; cut++) /* every truncation fails cleanly */
		CHECK(comb_btf_ext_parse(e.b, cut, NULL, &ext, err, sizeof(err)) < 0);
	build_ext(&e, 5, 1);
	uint32_t big = 0xfffffff0;
	memcpy(e.b + 28, &big, 4); /* core_relo_len */
	CHECK_EQ(comb_btf_ext_parse(e.b, e.len, NULL, &ext, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "core_relo: offset") != NULL);
	build_ext(&e, 5, 1);
	uint32_t rec = 2;
	memcpy(e.b + 32, &rec, 4); /* func_info record size below 8 */
	CHECK_EQ(comb_btf_ext_parse(e.b, e.len, NULL, &ext, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "func_info: bad record size") != NULL);
	build_ext(&e, 5, 1);
	e.b[0] = 0;
	CHECK_EQ(comb_btf_ext_parse(e.b, e.len, NULL, &ext, err, sizeof(err)), -EINVAL);
}

TEST(btf_ext_parses_clang_output)
{
	const char *path = btf_test_object("core_fields");
	CHECK(path != NULL);
	size_t bsize = 0, esize = 0;
	void *b = btf_test_section(path, ".BTF", &bsize);
	void *x = btf_test_section(path, ".BTF.ext", &esize);
	struct btf *btf;
	struct comb_btf_ext *ext;
	char err[256] = "";
	CHECK_EQ(comb_btf_from_data(b, bsize, &btf, err, sizeof(err)), 0);
	CHECK_EQ(comb_btf_ext_parse(x, esize, btf, &ext, err, sizeof(err)), 0);
	const struct comb_btf_ext_section *fi = comb_btf_ext_find(ext, COMB_BTF_EXT_FUNC_INFO, "xdp");
	CHECK(fi != NULL);
	CHECK_EQ(fi->count, 3); /* core_fields, core_missing, core_vmlinux */
	CHECK_STR(btf__name_by_offset(btf, btf__type_by_id(btf, fi->func_info[0].type_id)->name_off),
		  "core_fields");
	CHECK_EQ(fi->func_info[1].insn_off, 41 * 8);
	const struct comb_btf_ext_section *li = comb_btf_ext_find(ext, COMB_BTF_EXT_LINE_INFO, "xdp");
	CHECK(li != NULL && li->count > 10);
	CHECK(strstr(btf__name_by_offset(btf, li->line_info[0].file_name_off), "core_fields.bpf.c"));
	CHECK(COMB_BTF_LINE(li->line_info[0].line_col) > 20);
	const struct comb_btf_ext_section *cr = comb_btf_ext_find(ext, COMB_BTF_EXT_CORE_RELO, "xdp");
	CHECK(cr != NULL);
	CHECK_EQ(cr->count, 21);
	CHECK_STR(btf__name_by_offset(btf, cr->core_relo[13].access_str_off), "0:5:0");
	CHECK(comb_btf_ext_find(ext, COMB_BTF_EXT_CORE_RELO, "nope") == NULL);
	comb_btf_ext_free(ext);
	btf__free(btf);
	free(b);
	free(x);
}
