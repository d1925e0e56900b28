/* src/loader/btf.c - load and validate BTF (libbpf parses, comb checks).
 *
 * libbpf 1.1's btf__new checks the header, string section and that each
 * type record fits, but not what the records point at. comb_btf_validate
 * walks every type once: name offsets must resolve, referenced type ids
 * must exist, sizes and bit offsets must be coherent. Then two depth-first
 * searches reject loops: one over "contains by value" edges (modifiers,
 * typedefs, array elements, struct members, vars, datasecs; a loop there
 * is an infinitely large type) and one over "refers to" chains of
 * modifiers and pointers (a loop there has no base type). Pointers to
 * structs are the only legal way back, and neither graph crosses them.
 * The running kernel's BTF in sysfs is the exception: the kernel checked it
 * at boot, so comb_btf_load_target maps it and skips the walk (see
 * load_kernel_btf); every other file is validated.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loader/btf.h"

#define DEFAULT_TARGET_BTF "/sys/kernel/btf/vmlinux"

static int btf_error(char *err, size_t len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int btf_error(char *err, size_t len, int code, const char *fmt, ...)
{
	if (err && len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return code;
}

int comb_btf_from_data(const void *data, size_t size, struct btf **out, char *err, size_t len)
{
	*out = NULL;
	if (!data || size == 0)
		return btf_error(err, len, -EINVAL, ".BTF: empty section");
	if (size > UINT32_MAX)
		return btf_error(err, len, -E2BIG, ".BTF: %zu bytes is too large", size);
	struct btf *btf = btf__new(data, (uint32_t)size);
	if (!btf) {
		int code = errno ? -errno : -EINVAL;
		return btf_error(err, len, code, ".BTF: malformed (libbpf: %s)", strerror(-code));
	}
	int rc = comb_btf_validate(btf, err, len);
	if (rc) {
		btf__free(btf);
		return rc;
	}
	*out = btf;
	return 0;
}

/* --- target BTF ----------------------------------------------------------- */

/* The kernel's own BTF (/sys/kernel/btf/...): the kernel built and checked
 * it when it booted, and it is the one file every CO-RE load reads (5 MB,
 * 100k+ types), so it is mapped rather than read (sysfs hands out a page per
 * read call), parsed by libbpf from the mapping, and not validated again.
 * Returns 1 when path is not such a file (the caller parses it normally). */
static int load_kernel_btf(const char *path, struct btf **out, char *err, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	struct statfs sfs;
	struct stat st;
	if (fstatfs(fd, &sfs) || sfs.f_type != SYSFS_MAGIC || fstat(fd, &st) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > UINT32_MAX) {
		close(fd);
		return 1;
	}
	size_t size = (size_t)st.st_size;
	void *data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	bool mapped = data != MAP_FAILED;
	if (!mapped) { /* kernels before 6.16 cannot map it: read it */
		data = malloc(size);
		size_t got = 0;
		ssize_t n = 1;
		while (data && got < size && (n = read(fd, (char *)data + got, size - got)) > 0)
			got += (size_t)n;
		if (!data || got != size) {
			free(data);
			close(fd);
			return 1;
		}
	}
	close(fd);
	errno = 0;
	struct btf *btf = btf__new(data, (uint32_t)size);
	int code = btf ? 0 : errno ? -errno : -EINVAL;
	if (mapped)
		munmap(data, size);
	else
		free(data);
	if (!btf)
		return btf_error(err, len, code, "%s: cannot load BTF: %s", path, strerror(-code));
	*out = btf;
	return 0;
}

int comb_btf_load_target(const char *path_or_null, struct btf **out, char *err, size_t len)
{
	const char *path = path_or_null ? path_or_null : DEFAULT_TARGET_BTF;
	*out = NULL;
	int rc = load_kernel_btf(path, out, err, len);
	if (rc <= 0)
		return rc;
	errno = 0;
	struct btf *btf = btf__parse(path, NULL);
	if (!btf) {
		int code = errno ? -errno : -EINVAL;
		return btf_error(err, len, code, "%s: cannot load BTF: %s", path, strerror(-code));
	}
	char why[200];
	rc = comb_btf_validate(btf, why, sizeof(why));
	if (rc) {
		btf__free(btf);
		return btf_error(err, len, rc, "%s: %s", path, why);
	}
	*out = btf;
	return 0;
}

/* --- per-type checks ------------------------------------------------- */

struct validator {
	const struct btf *btf;
	uint32_t type_cnt; /* valid ids are 0 .. type_cnt - 1 */
	char *err;
	size_t len;
};

static int check_name(const struct validator *v, uint32_t id, uint32_t name_off, const char *what)
{
	if (!btf__name_by_offset(v->btf, name_off))
		return btf_error(v->err, v->len, -EINVAL,
				 ".BTF: type [%u] %s: name offset %u out of the string section", id,
				 what, name_off);
	return 0;
}

static int check_ref(const struct validator *v, uint32_t id, uint32_t ref, const char *what)
{
	if (ref >= v->type_cnt)
		return btf_error(v->err, v->len, -EINVAL,
				 ".BTF: type [%u] %s refers to type [%u], beyond the last type [%u]",
				 id, what, ref, v->type_cnt - 1);
	return 0;
}

static int check_int(const struct validator *v, uint32_t id, const struct btf_type *t)
{
	uint32_t bits = btf_int_bits(t), offset = btf_int_offset(t);
	if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8 && t->size != 16)
		return btf_error(v->err, v->len, -EINVAL, ".BTF: type [%u] INT: bad size %u", id,
				 t->size);
	if (bits == 0 || bits > 128 || offset + bits > t->size * 8)
		return btf_error(v->err, v->len, -EINVAL,
				 ".BTF: type [%u] INT: bits %u at offset %u do not fit %u bytes", id,
				 bits, offset, t->size);
	if (btf_int_encoding(t) & ~(BTF_INT_SIGNED | BTF_INT_CHAR | BTF_INT_BOOL))
		return btf_error(v->err, v->len, -EINVAL, ".BTF: type [%u] INT: bad encoding 0x%x",
				 id, btf_int_encoding(t));
	return 0;
}

static int check_members(const struct validator *v, uint32_t id, const struct btf_type *t)
{
	const struct btf_member *m = btf_members(t);
	uint64_t size_bits = (uint64_t)t->size * 8;
	for (uint32_t i = 0; i < btf_vlen(t); i++, m++) {
		int rc = check_name(v, id, m->name_off, "member");
		if (!rc)
			rc = check_ref(v, id, m->type, "member");
		if (rc)
			return rc;
		uint64_t bit_off = btf_member_bit_offset(t, i);
		uint64_t bit_size = btf_member_bitfield_size(t, i);
		if (bit_size > 128 || bit_off + bit_size > size_bits)
			return btf_error(v->err, v->len, -EINVAL,
					 ".BTF: type [%u] member %u: bit offset %llu outside %u bytes",
					 id, i, (unsigned long long)bit_off, t->size);
	}
	return 0;
}

static int check_enum(const struct validator *v, uint32_t id, const struct btf_type *t)
{
	if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8)
		return btf_error(v->err, v->len, -EINVAL, ".BTF: type [%u] ENUM: bad size %u", id,
				 t->size);
	for (uint32_t i = 0; i < btf_vlen(t); i++) {
		uint32_t name_off = btf_is_enum(t) ? btf_enum(t)[i].name_off
						   : btf_enum64(t)[i].name_off;
		int rc = check_name(v, id, name_off, "enumerator");
		if (rc)
			return rc;
	}
	return 0;
}

static int check_func_proto(const struct validator *v, uint32_t id, const struct btf_type *t)
{
	int rc = check_ref(v, id, t->type, "return type");
	const struct btf_param *p = btf_params(t);
	for (uint32_t i = 0; !rc && i < btf_vlen(t); i++, p++) {
		rc = check_name(v, id, p->name_off, "parameter");
		if (!rc)
			rc = check_ref(v, id, p->type, "parameter");
	}
	return rc;
}

static int check_datasec(const struct validator *v, uint32_t id, const struct btf_type *t)
{
	const struct btf_var_secinfo *s = btf_var_secinfos(t);
	for (uint32_t i = 0; i < btf_vlen(t); i++, s++) {
		int rc = check_ref(v, id, s->type, "datasec entry");
		if (rc)
			return rc;
		/* size 0: an object's DATASEC before the loader fixes it up. */
		if (t->size && (uint64_t)s->offset + s->size > t->size)
			return btf_error(v->err, v->len, -EINVAL,
					 ".BTF: type [%u] DATASEC entry %u: offset %u size %u beyond %u bytes",
					 id, i, s->offset, s->size, t->size);
	}
	return 0;
}

static int check_decl_tag(const struct validator *v, uint32_t id, const struct btf_type *t)
{
	int rc = check_ref(v, id, t->type, "decl tag");
	if (rc)
		return rc;
	int32_t idx = btf_decl_tag(t)->component_idx;
	if (idx == -1)
		return 0;
	const struct btf_type *target = btf__type_by_id(v->btf, t->type);
	if (target && btf_is_func(target))
		target = btf__type_by_id(v->btf, target->type);
	if (!target || idx < 0 || (uint32_t)idx >= btf_vlen(target) ||
	    !(btf_is_composite(target) || btf_is_func_proto(target)))
		return btf_error(v->err, v->len, -EINVAL,
				 ".BTF: type [%u] DECL_TAG: component %d of type [%u] does not exist",
				 id, idx, t->type);
	return 0;
}

static int check_type(const struct validator *v, uint32_t id, const struct btf_type *t)
{
	int rc = check_name(v, id, t->name_off, "name");
	if (rc)
		return rc;
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		return check_int(v, id, t);
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_VAR:
		return check_ref(v, id, t->type, "type");
	case BTF_KIND_FUNC: {
		rc = check_ref(v, id, t->type, "FUNC");
		const struct btf_type *proto = rc ? NULL : btf__type_by_id(v->btf, t->type);
		if (!rc && (!proto || !btf_is_func_proto(proto)))
			rc = btf_error(v->err, v->len, -EINVAL,
				       ".BTF: type [%u] FUNC: type [%u] is not a FUNC_PROTO", id,
				       t->type);
		return rc;
	}
	case BTF_KIND_ARRAY:
		rc = check_ref(v, id, btf_array(t)->type, "array element");
		return rc ? rc : check_ref(v, id, btf_array(t)->index_type, "array index");
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return check_members(v, id, t);
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return check_enum(v, id, t);
	case BTF_KIND_FWD:
		return 0;
	case BTF_KIND_FUNC_PROTO:
		return check_func_proto(v, id, t);
	case BTF_KIND_DATASEC:
		return check_datasec(v, id, t);
	case BTF_KIND_FLOAT:
		if (t->size != 2 && t->size != 4 && t->size != 8 && t->size != 12 && t->size != 16)
			return btf_error(v->err, v->len, -EINVAL,
					 ".BTF: type [%u] FLOAT: bad size %u", id, t->size);
		return 0;
	case BTF_KIND_DECL_TAG:
		return check_decl_tag(v, id, t);
	default:
		return btf_error(v->err, v->len, -EINVAL, ".BTF: type [%u]: unknown kind %u", id,
				 btf_kind(t));
	}
}

/* --- loop detection ---------------------------------------------------- */

enum edge_graph { GRAPH_CONTAINS, GRAPH_REFERS };

/* Number of outgoing edges of t in the graph; edge i is written by edge_at. */
static uint32_t edge_count(const struct btf_type *t, enum edge_graph graph)
{
	switch (btf_kind(t)) {
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		return 1;
	case BTF_KIND_PTR:
		return graph == GRAPH_REFERS;
	case BTF_KIND_ARRAY:
	case BTF_KIND_VAR:
		return graph == GRAPH_CONTAINS;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_DATASEC:
		return graph == GRAPH_CONTAINS ? btf_vlen(t) : 0;
	default:
		return 0;
	}
}

static uint32_t edge_at(const struct btf_type *t, uint32_t i)
{
	switch (btf_kind(t)) {
	case BTF_KIND_ARRAY:
		return btf_array(t)->type;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return btf_members(t)[i].type;
	case BTF_KIND_DATASEC:
		return btf_var_secinfos(t)[i].type;
	default:
		return t->type;
	}
}

struct dfs_frame {
	uint32_t id, next_edge;
};

enum { WHITE = 0, GREY = 1, BLACK = 2 };

/* Iterative DFS from root; -ELOOP when it reaches a grey (on-stack) type. */
static int dfs_from(const struct validator *v, enum edge_graph graph, uint32_t root,
		   uint8_t *color, struct dfs_frame *stack)
{
	size_t depth = 0;
	stack[depth++] = (struct dfs_frame){ root, 0 };
	color[root] = GREY;
	while (depth) {
		struct dfs_frame *f = &stack[depth - 1];
		const struct btf_type *t = btf__type_by_id(v->btf, f->id);
		if (f->next_edge >= edge_count(t, graph)) {
			color[f->id] = BLACK;
			depth--;
			continue;
		}
		uint32_t next = edge_at(t, f->next_edge++);
		if (color[next] == GREY)
			return btf_error(v->err, v->len, -ELOOP,
					 ".BTF: type [%u] %s itself through type [%u]", next,
					 graph == GRAPH_CONTAINS ? "contains" : "refers to", f->id);
		if (color[next] == WHITE) {
			color[next] = GREY;
			stack[depth++] = (struct dfs_frame){ next, 0 };
		}
	}
	return 0;
}

static int check_loops(const struct validator *v, enum edge_graph graph)
{
	uint8_t *color = calloc(v->type_cnt, 1);
	struct dfs_frame *stack = calloc(v->type_cnt, sizeof(*stack));
	int rc = color && stack ? 0 : -ENOMEM;
	if (rc)
		btf_error(v->err, v->len, rc, ".BTF: out of memory checking %u types", v->type_cnt);
	for (uint32_t id = 1; !rc && id < v->type_cnt; id++)
		if (color[id] == WHITE)
			rc = dfs_from(v, graph, id, color, stack);
	free(color);
	free(stack);
	return rc;
}

int comb_btf_validate(const struct btf *btf, char *err, size_t len)
{
	struct validator v = { btf, btf__type_cnt(btf), err, len };
	if (btf__base_btf(btf))
		return btf_error(err, len, -EOPNOTSUPP, ".BTF: split BTF is not supported");
	for (uint32_t id = 1; id < v.type_cnt; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t)
			return btf_error(err, len, -EINVAL, ".BTF: type [%u] missing", id);
		int rc = check_type(&v, id, t);
		if (rc)
			return rc;
	}
	int rc = check_loops(&v, GRAPH_CONTAINS);
	return rc ? rc : check_loops(&v, GRAPH_REFERS);
}
