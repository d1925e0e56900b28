/* src/loader/core.c - CO-RE relocation of one instruction (libbpf semantics).
 *
 * Steps, as in libbpf's relo_core.c: (1) parse the local spec: the access
 * string becomes a list of accessors (named members, array indices) and a
 * bit offset; (2) collect target candidates: every target type of a
 * compatible kind whose essential name equals the local root's, found through
 * an index of the target built once (struct comb_core_target: a hash table
 * from essential name to type ids, so a relocation against vmlinux's 100k+
 * types costs a chain walk, not a scan); (3) match
 * the local spec against each candidate (members by name, descending into
 * anonymous members; arrays by bounds) and compute the value for each match;
 * all matches must agree; (4) with no match, field and enum-value kinds
 * poison the instruction, existence kinds give 0; (5) check that the
 * instruction holds the local value and patch it. Every walk is bounded:
 * modifier chains by MAX_MOD_DEPTH, accessor lists by SPEC_MAX_LEN, type
 * comparisons by a depth and a step budget, so hostile BTF cannot hang it.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "loader/core.h"

#define SPEC_MAX_LEN 64
#define MAX_MOD_DEPTH 64
#define COMPAT_DEPTH 32
#define MATCH_STEP_BUDGET 1000000

struct core_accessor {
	uint32_t type_id;
	uint32_t idx;
	const char *name; /* NULL for array accessors */
};

struct core_spec {
	const struct btf *btf;
	uint32_t root_type_id;
	uint32_t kind;
	struct core_accessor spec[SPEC_MAX_LEN];
	int len;
	uint32_t raw_spec[SPEC_MAX_LEN];
	int raw_len;
	uint64_t bit_offset;
};

struct core_value {
	uint64_t orig_val, new_val;
	bool poison, validate, fail_memsz_adjust;
	uint32_t orig_sz, new_sz, orig_type_id, new_type_id;
	char why[160];
};

static const char *const kind_names[COMB_CORE_KIND_COUNT] = {
	"byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64",
	"local_type_id", "target_type_id", "type_exists", "type_size", "enumval_exists",
	"enumval_value", "type_matches",
};

const char *comb_core_kind_name(uint32_t kind)
{
	return kind < COMB_CORE_KIND_COUNT ? kind_names[kind] : "unknown";
}

static bool kind_is_field(uint32_t k) { return k <= COMB_CORE_FIELD_RSHIFT_U64; }
static bool kind_is_type(uint32_t k)
{
	return (k >= COMB_CORE_TYPE_ID_LOCAL && k <= COMB_CORE_TYPE_SIZE) ||
	       k == COMB_CORE_TYPE_MATCHES;
}
static bool kind_is_enumval(uint32_t k)
{
	return k == COMB_CORE_ENUMVAL_EXISTS || k == COMB_CORE_ENUMVAL_VALUE;
}

static int core_error(char *err, size_t len, const struct comb_core_relo *relo, int code,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int core_error(char *err, size_t len, const struct comb_core_relo *relo, int code,
		      const char *fmt, ...)
{
	if (err && len) {
		int n = snprintf(err, len, "CO-RE relo %s at insn %u: ",
				 comb_core_kind_name(relo->kind), relo->insn_off / 8);
		va_list ap;
		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < len)
			vsnprintf(err + n, len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* --- BTF helpers --------------------------------------------------------- */

static const char *name_of(const struct btf *btf, uint32_t off)
{
	const char *s = btf__name_by_offset(btf, off);
	return s ? s : "";
}

/* Follow modifiers and typedefs; NULL on a bad id or a too-long chain. */
static const struct btf_type *skip_mods(const struct btf *btf, uint32_t id, uint32_t *res_id)
{
	for (int depth = 0; depth < MAX_MOD_DEPTH; depth++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t)
			return NULL;
		if (!btf_is_mod(t) && !btf_is_typedef(t)) {
			if (res_id)
				*res_id = id;
			return t;
		}
		id = t->type;
	}
	return NULL;
}

/* "task_struct___v2" -> 11: the name without its last ___flavour. */
static size_t essential_name_len(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = n >= 5 ? n - 5 + 1 : 0; i-- > 0;)
		if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' &&
		    name[i + 3] == '_' && name[i + 4] != '_')
			return i + 1;
	return n;
}

static bool essential_names_equal(const char *a, const char *b)
{
	size_t la = essential_name_len(a), lb = essential_name_len(b);
	return la == lb && strncmp(a, b, la) == 0;
}

/* A flexible array: zero elements, the last named member of its struct. */
static bool is_flex_array(const struct btf *btf, const struct core_accessor *parent,
			  const struct btf_array *arr)
{
	if (!parent->name || arr->nelems > 0)
		return false;
	const struct btf_type *t = btf__type_by_id(btf, parent->type_id);
	return t && parent->idx == (uint32_t)btf_vlen(t) - 1;
}

/* --- step 1: parse the local spec -------------------------------------- */

static int parse_access_string(const char *str, struct core_spec *spec)
{
	if (!*str || *str == ':')
		return -EINVAL;
	while (*str) {
		if (*str < '0' || *str > '9' || spec->raw_len == SPEC_MAX_LEN)
			return spec->raw_len == SPEC_MAX_LEN ? -E2BIG : -EINVAL;
		unsigned long long v = 0;
		while (*str >= '0' && *str <= '9') {
			v = v * 10 + (unsigned)(*str++ - '0');
			if (v > INT_MAX)
				return -ERANGE;
		}
		spec->raw_spec[spec->raw_len++] = (uint32_t)v;
		if (*str == ':')
			str++;
		else if (*str)
			return -EINVAL;
	}
	return 0;
}

static int parse_field_spec(const struct btf *btf, uint32_t id, struct core_spec *spec)
{
	if (!skip_mods(btf, id, &id))
		return -EINVAL;
	int64_t sz = btf__resolve_size(btf, id);
	if (sz < 0)
		return (int)sz;
	spec->spec[0] = (struct core_accessor){ id, spec->raw_spec[0], NULL };
	spec->len = 1;
	spec->bit_offset = (uint64_t)spec->raw_spec[0] * (uint64_t)sz * 8;
	for (int i = 1; i < spec->raw_len; i++) {
		const struct btf_type *t = skip_mods(btf, id, &id);
		uint32_t idx = spec->raw_spec[i];
		if (!t)
			return -EINVAL;
		if (btf_is_composite(t)) {
			if (idx >= btf_vlen(t))
				return -EINVAL;
			const struct btf_member *m = btf_members(t) + idx;
			spec->bit_offset += btf_member_bit_offset(t, idx);
			if (m->name_off)
				spec->spec[spec->len++] = (struct core_accessor){
					id, idx, name_of(btf, m->name_off) };
			id = m->type;
		} else if (btf_is_array(t)) {
			const struct btf_array *a = btf_array(t);
			bool flex = is_flex_array(btf, &spec->spec[spec->len - 1], a);
			if (!skip_mods(btf, a->type, &id))
				return -EINVAL;
			if (!flex && idx >= a->nelems)
				return -EINVAL;
			spec->spec[spec->len++] = (struct core_accessor){ id, idx, NULL };
			sz = btf__resolve_size(btf, id);
			if (sz < 0)
				return (int)sz;
			spec->bit_offset += (uint64_t)idx * (uint64_t)sz * 8;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_spec(const struct btf *btf, const struct comb_core_relo *relo,
		      struct core_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->btf = btf;
	spec->root_type_id = relo->type_id;
	spec->kind = relo->kind;
	const char *str = btf__name_by_offset(btf, relo->access_str_off);
	if (!str)
		return -EINVAL;
	int rc = parse_access_string(str, spec);
	if (rc)
		return rc;
	if (kind_is_type(relo->kind))
		return spec->raw_len == 1 && spec->raw_spec[0] == 0 ? 0 : -EINVAL;
	uint32_t id = relo->type_id;
	const struct btf_type *t = skip_mods(btf, id, &id);
	if (!t)
		return -EINVAL;
	if (kind_is_enumval(relo->kind)) {
		if (!btf_is_any_enum(t) || spec->raw_len > 1 || spec->raw_spec[0] >= btf_vlen(t))
			return -EINVAL;
		uint32_t idx = spec->raw_spec[0];
		uint32_t name_off = btf_is_enum(t) ? btf_enum(t)[idx].name_off
						   : btf_enum64(t)[idx].name_off;
		spec->spec[0] = (struct core_accessor){ id, idx, name_of(btf, name_off) };
		spec->len = 1;
		return 0;
	}
	return kind_is_field(relo->kind) ? parse_field_spec(btf, id, spec) : -EINVAL;
}

/* --- type compatibility ------------------------------------------------ */

/* Field compatibility: 1 yes, 0 no, <0 error. */
static int fields_compat(const struct btf *lb, uint32_t lid, const struct btf *tb, uint32_t tid)
{
	for (int depth = 0; depth < COMPAT_DEPTH; depth++) {
		const struct btf_type *lt = skip_mods(lb, lid, &lid);
		const struct btf_type *tt = skip_mods(tb, tid, &tid);
		if (!lt || !tt)
			return -EINVAL;
		if (btf_is_composite(lt) && btf_is_composite(tt))
			return 1;
		if (!btf_kind_core_compat(lt, tt))
			return 0;
		switch (btf_kind(lt)) {
		case BTF_KIND_PTR:
		case BTF_KIND_FLOAT:
			return 1;
		case BTF_KIND_FWD:
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64: {
			const char *ln = name_of(lb, lt->name_off), *tn = name_of(tb, tt->name_off);
			return !essential_name_len(ln) || !essential_name_len(tn) ||
			       essential_names_equal(ln, tn);
		}
		case BTF_KIND_INT:
			return btf_int_offset(lt) == 0 && btf_int_offset(tt) == 0;
		case BTF_KIND_ARRAY:
			lid = btf_array(lt)->type;
			tid = btf_array(tt)->type;
			continue;
		default:
			return 0;
		}
	}
	return -EINVAL;
}

/* Type compatibility for TYPE_EXISTS/SIZE/ID_TARGET: 1, 0 or <0. */
static int types_compat(const struct btf *lb, uint32_t lid, const struct btf *tb, uint32_t tid,
			int level)
{
	for (int depth = 0; depth < COMPAT_DEPTH; depth++) {
		const struct btf_type *lt = skip_mods(lb, lid, &lid);
		const struct btf_type *tt = skip_mods(tb, tid, &tid);
		if (!lt || !tt)
			return -EINVAL;
		if (!btf_kind_core_compat(lt, tt))
			return 0;
		switch (btf_kind(lt)) {
		case BTF_KIND_UNKN:
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
		case BTF_KIND_FWD:
			return 1;
		case BTF_KIND_INT:
			return btf_int_offset(lt) == 0 && btf_int_offset(tt) == 0;
		case BTF_KIND_PTR:
			lid = lt->type;
			tid = tt->type;
			continue;
		case BTF_KIND_ARRAY:
			lid = btf_array(lt)->type;
			tid = btf_array(tt)->type;
			continue;
		case BTF_KIND_FUNC_PROTO: {
			if (btf_vlen(lt) != btf_vlen(tt))
				return 0;
			const struct btf_param *lp = btf_params(lt), *tp = btf_params(tt);
			for (uint32_t i = 0; i < btf_vlen(lt); i++) {
				if (level <= 0)
					return -EINVAL;
				int rc = types_compat(lb, lp[i].type, tb, tp[i].type, level - 1);
				if (rc <= 0)
					return rc;
			}
			lid = lt->type;
			tid = tt->type;
			continue;
		}
		default:
			return 0;
		}
	}
	return -EINVAL;
}

/* --- TYPE_MATCHES ------------------------------------------------------- */

struct match_ctx {
	const struct btf *lb, *tb;
	long steps;
};

static bool names_match(const struct match_ctx *c, uint32_t loff, uint32_t toff)
{
	const char *ln = name_of(c->lb, loff), *tn = name_of(c->tb, toff);
	if (!*ln || !*tn)
		return true;
	return essential_names_equal(ln, tn);
}

static int types_match(struct match_ctx *c, uint32_t lid, uint32_t tid, bool behind_ptr,
		       int level);

static int enums_match(const struct match_ctx *c, const struct btf_type *lt,
		       const struct btf_type *tt)
{
	if (lt->size != tt->size || btf_vlen(lt) > btf_vlen(tt))
		return 0;
	for (uint32_t i = 0; i < btf_vlen(lt); i++) {
		uint32_t loff = btf_is_enum(lt) ? btf_enum(lt)[i].name_off : btf_enum64(lt)[i].name_off;
		bool matched = false;
		for (uint32_t j = 0; j < btf_vlen(tt) && !matched; j++) {
			uint32_t toff = btf_is_enum(tt) ? btf_enum(tt)[j].name_off
							: btf_enum64(tt)[j].name_off;
			matched = names_match(c, loff, toff);
		}
		if (!matched)
			return 0;
	}
	return 1;
}

static int composites_match(struct match_ctx *c, const struct btf_type *lt,
			    const struct btf_type *tt, bool behind_ptr, int level)
{
	if (btf_vlen(lt) > btf_vlen(tt))
		return 0;
	const struct btf_member *lm = btf_members(lt);
	for (uint32_t i = 0; i < btf_vlen(lt); i++, lm++) {
		const struct btf_member *tm = btf_members(tt);
		bool matched = false;
		for (uint32_t j = 0; j < btf_vlen(tt) && !matched; j++, tm++) {
			if (!names_match(c, lm->name_off, tm->name_off))
				continue;
			int rc = types_match(c, lm->type, tm->type, behind_ptr, level - 1);
			if (rc < 0)
				return rc;
			matched = rc > 0;
		}
		if (!matched)
			return 0;
	}
	return 1;
}

static int types_match(struct match_ctx *c, uint32_t lid, uint32_t tid, bool behind_ptr,
		       int level)
{
	for (;;) {
		if (level-- <= 0 || ++c->steps > MATCH_STEP_BUDGET)
			return -EINVAL;
		const struct btf_type *lt = btf__type_by_id(c->lb, lid);
		const struct btf_type *tt = btf__type_by_id(c->tb, tid);
		if (!lt || !tt)
			return -EINVAL;
		if (!names_match(c, lt->name_off, tt->name_off))
			return 0;
		lt = skip_mods(c->lb, lid, &lid);
		tt = skip_mods(c->tb, tid, &tid);
		if (!lt || !tt)
			return -EINVAL;
		int lk = btf_kind(lt), tk = btf_kind(tt);
		switch (lk) {
		case BTF_KIND_UNKN:
			return lk == tk;
		case BTF_KIND_FWD: {
			bool lf = btf_kflag(lt);
			if (tk == BTF_KIND_FWD)
				return lf == btf_kflag(tt);
			return (tk == BTF_KIND_STRUCT && !lf) || (tk == BTF_KIND_UNION && lf);
		}
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
			return btf_is_any_enum(tt) ? enums_match(c, lt, tt) : 0;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			if (behind_ptr) {
				if (lk == tk)
					return 1;
				if (tk != BTF_KIND_FWD)
					return 0;
				return (lk == BTF_KIND_UNION) == btf_kflag(tt);
			}
			if (lk != tk)
				return 0;
			return composites_match(c, lt, tt, behind_ptr, level);
		case BTF_KIND_INT:
			if (lk != tk)
				return 0;
			return lt->size == tt->size && (btf_int_encoding(lt) & BTF_INT_SIGNED) ==
							       (btf_int_encoding(tt) & BTF_INT_SIGNED);
		case BTF_KIND_PTR:
			if (lk != tk)
				return 0;
			behind_ptr = true;
			lid = lt->type;
			tid = tt->type;
			continue;
		case BTF_KIND_ARRAY:
			if (lk != tk || btf_array(lt)->nelems != btf_array(tt)->nelems)
				return 0;
			lid = btf_array(lt)->type;
			tid = btf_array(tt)->type;
			continue;
		case BTF_KIND_FUNC_PROTO: {
			if (lk != tk || btf_vlen(lt) != btf_vlen(tt))
				return 0;
			const struct btf_param *lp = btf_params(lt), *tp = btf_params(tt);
			for (uint32_t i = 0; i < btf_vlen(lt); i++) {
				int rc = types_match(c, lp[i].type, tp[i].type, behind_ptr, level - 1);
				if (rc <= 0)
					return rc;
			}
			lid = lt->type;
			tid = tt->type;
			continue;
		}
		default:
			return 0;
		}
	}
}

/* --- step 3: match the local spec against one candidate ------------------ */

static int match_member(const struct btf *lb, const struct core_accessor *lacc,
			const struct btf *tb, uint32_t tid, struct core_spec *spec,
			uint32_t *next_tid)
{
	const struct btf_type *lt = btf__type_by_id(lb, lacc->type_id);
	const struct btf_member *lm = btf_members(lt) + lacc->idx;
	const struct btf_type *tt = skip_mods(tb, tid, &tid);
	if (!tt)
		return -EINVAL;
	if (!btf_is_composite(tt))
		return 0;
	const struct btf_member *m = btf_members(tt);
	for (uint32_t i = 0; i < btf_vlen(tt); i++, m++) {
		if (spec->raw_len == SPEC_MAX_LEN || spec->len == SPEC_MAX_LEN)
			return -E2BIG;
		uint32_t bit_off = btf_member_bit_offset(tt, i);
		spec->bit_offset += bit_off;
		spec->raw_spec[spec->raw_len++] = i;
		const char *tname = name_of(tb, m->name_off);
		if (!*tname) {
			int found = match_member(lb, lacc, tb, m->type, spec, next_tid);
			if (found)
				return found;
		} else if (strcmp(lacc->name, tname) == 0) {
			spec->spec[spec->len++] = (struct core_accessor){ tid, i, tname };
			*next_tid = m->type;
			int found = fields_compat(lb, lm->type, tb, m->type);
			if (!found)
				spec->len--;
			return found;
		}
		spec->bit_offset -= bit_off;
		spec->raw_len--;
	}
	return 0;
}

static int match_array(const struct core_spec *lspec, int i, struct core_spec *tspec,
		       uint32_t *tid)
{
	const struct btf *tb = tspec->btf;
	if (i > 0) {
		const struct btf_type *tt = skip_mods(tb, *tid, tid);
		if (!tt)
			return -EINVAL;
		if (!btf_is_array(tt))
			return 0;
		const struct btf_array *a = btf_array(tt);
		bool flex = is_flex_array(tb, &tspec->spec[tspec->len - 1], a);
		if (!flex && lspec->spec[i].idx >= a->nelems)
			return 0;
		if (!skip_mods(tb, a->type, tid))
			return -EINVAL;
	}
	if (tspec->raw_len == SPEC_MAX_LEN)
		return -E2BIG;
	tspec->spec[tspec->len++] = (struct core_accessor){ *tid, lspec->spec[i].idx, NULL };
	tspec->raw_spec[tspec->raw_len++] = lspec->spec[i].idx;
	int64_t sz = btf__resolve_size(tb, *tid);
	if (sz < 0)
		return (int)sz;
	tspec->bit_offset += (uint64_t)lspec->spec[i].idx * (uint64_t)sz * 8;
	return 1;
}

static int match_enumval(const struct core_spec *lspec, struct core_spec *tspec, uint32_t tid)
{
	const struct btf_type *tt = skip_mods(tspec->btf, tid, &tid);
	if (!tt)
		return -EINVAL;
	if (!btf_is_any_enum(tt))
		return 0;
	for (uint32_t i = 0; i < btf_vlen(tt); i++) {
		uint32_t off = btf_is_enum(tt) ? btf_enum(tt)[i].name_off : btf_enum64(tt)[i].name_off;
		const char *tname = name_of(tspec->btf, off);
		if (essential_names_equal(lspec->spec[0].name, tname)) {
			tspec->spec[0] = (struct core_accessor){ tid, i, tname };
			tspec->len = 1;
			tspec->raw_spec[tspec->raw_len++] = i;
			return 1;
		}
	}
	return 0;
}

static int spec_match(const struct core_spec *lspec, const struct btf *tb, uint32_t tid,
		      struct core_spec *tspec)
{
	memset(tspec, 0, sizeof(*tspec));
	tspec->btf = tb;
	tspec->root_type_id = tid;
	tspec->kind = lspec->kind;
	if (kind_is_type(lspec->kind)) {
		if (lspec->kind == COMB_CORE_TYPE_MATCHES) {
			struct match_ctx c = { lspec->btf, tb, 0 };
			return types_match(&c, lspec->root_type_id, tid, false, COMPAT_DEPTH);
		}
		return types_compat(lspec->btf, lspec->root_type_id, tb, tid, COMPAT_DEPTH);
	}
	if (kind_is_enumval(lspec->kind))
		return match_enumval(lspec, tspec, tid);
	for (int i = 0; i < lspec->len; i++) {
		int rc;
		if (lspec->spec[i].name)
			rc = match_member(lspec->btf, &lspec->spec[i], tb, tid, tspec, &tid);
		else
			rc = match_array(lspec, i, tspec, &tid);
		if (rc <= 0)
			return rc;
	}
	return 1;
}

/* --- step 3b: values ------------------------------------------------------ */

/* Value of a field relocation for spec (NULL: no match). -EUCLEAN asks for
 * poisoning. */
static int field_value(const struct core_spec *spec, uint32_t kind, uint64_t *val,
		       uint32_t *field_sz, uint32_t *type_id, bool *validate)
{
	*field_sz = 0;
	if (kind == COMB_CORE_FIELD_EXISTS) {
		*val = spec != NULL;
		return 0;
	}
	if (!spec)
		return -EUCLEAN;
	const struct core_accessor *acc = &spec->spec[spec->len - 1];
	if (!acc->name) {
		int64_t sz = btf__resolve_size(spec->btf, acc->type_id);
		if (sz < 0)
			return -EINVAL;
		if (kind == COMB_CORE_FIELD_BYTE_OFFSET) {
			*val = spec->bit_offset / 8;
			*field_sz = (uint32_t)sz;
			*type_id = acc->type_id;
		} else if (kind == COMB_CORE_FIELD_BYTE_SIZE) {
			*val = (uint64_t)sz;
		} else {
			return -EINVAL; /* bitfield kinds make no sense on array elements */
		}
		if (validate)
			*validate = true;
		return 0;
	}
	const struct btf_type *t = btf__type_by_id(spec->btf, acc->type_id);
	uint32_t field_type_id = 0;
	const struct btf_type *mt = skip_mods(spec->btf, btf_members(t)[acc->idx].type,
					      &field_type_id);
	if (!mt)
		return -EINVAL;
	uint64_t bit_off = spec->bit_offset, bit_sz = btf_member_bitfield_size(t, acc->idx);
	uint64_t byte_off, byte_sz;
	bool bitfield = bit_sz > 0;
	if (bitfield) {
		byte_sz = mt->size;
		if (byte_sz == 0)
			return -EINVAL;
		byte_off = bit_off / 8 / byte_sz * byte_sz;
		while (bit_off + bit_sz - byte_off * 8 > byte_sz * 8) {
			if (byte_sz >= 8)
				return -E2BIG;
			byte_sz *= 2;
			byte_off = bit_off / 8 / byte_sz * byte_sz;
		}
	} else {
		int64_t sz = btf__resolve_size(spec->btf, field_type_id);
		if (sz < 0)
			return -EINVAL;
		byte_sz = (uint64_t)sz;
		byte_off = bit_off / 8;
		bit_sz = byte_sz * 8;
	}
	if (validate)
		*validate = !bitfield;
	switch (kind) {
	case COMB_CORE_FIELD_BYTE_OFFSET:
		*val = byte_off;
		if (!bitfield) {
			*field_sz = (uint32_t)byte_sz;
			*type_id = field_type_id;
		}
		break;
	case COMB_CORE_FIELD_BYTE_SIZE:
		*val = byte_sz;
		break;
	case COMB_CORE_FIELD_SIGNED:
		*val = (btf_is_any_enum(mt) && btf_kflag(mt)) ||
		       (btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_SIGNED));
		if (validate)
			*validate = true;
		break;
	case COMB_CORE_FIELD_LSHIFT_U64:
		*val = 64 - (bit_off + bit_sz - byte_off * 8);
		break;
	case COMB_CORE_FIELD_RSHIFT_U64:
		*val = 64 - bit_sz;
		if (validate)
			*validate = true;
		break;
	default:
		return -EOPNOTSUPP;
	}
	return 0;
}

static int type_value(const struct core_spec *spec, uint32_t kind, uint64_t *val)
{
	if (!spec) {
		*val = 0;
		return 0;
	}
	switch (kind) {
	case COMB_CORE_TYPE_ID_TARGET:
		*val = spec->root_type_id;
		return 0;
	case COMB_CORE_TYPE_EXISTS:
	case COMB_CORE_TYPE_MATCHES:
		*val = 1;
		return 0;
	case COMB_CORE_TYPE_SIZE: {
		int64_t sz = btf__resolve_size(spec->btf, spec->root_type_id);
		if (sz < 0)
			return -EINVAL;
		*val = (uint64_t)sz;
		return 0;
	}
	default:
		return -EOPNOTSUPP;
	}
}

static int enumval_value(const struct core_spec *spec, uint32_t kind, uint64_t *val)
{
	if (kind == COMB_CORE_ENUMVAL_EXISTS) {
		*val = spec != NULL;
		return 0;
	}
	if (!spec)
		return -EUCLEAN;
	const struct btf_type *t = btf__type_by_id(spec->btf, spec->spec[0].type_id);
	uint32_t idx = spec->spec[0].idx;
	if (btf_is_enum(t))
		*val = (uint64_t)(int64_t)btf_enum(t)[idx].val;
	else
		*val = btf_enum64_value(btf_enum64(t) + idx);
	return 0;
}

static bool unsigned_int_or_ptr_pair(const struct btf_type *a, const struct btf_type *b)
{
	if (!a || !b)
		return false;
	if (btf_is_ptr(a) && btf_is_ptr(b))
		return true;
	return btf_is_int(a) && btf_is_int(b) && !(btf_int_encoding(a) & BTF_INT_SIGNED) &&
	       !(btf_int_encoding(b) & BTF_INT_SIGNED);
}

/* Values for the local spec and the target spec (NULL: no candidate). */
static int calc_value(const struct core_spec *local, const struct core_spec *targ,
		      struct core_value *v)
{
	uint32_t kind = local->kind;
	int rc;
	memset(v, 0, sizeof(*v));
	v->validate = true;
	if (kind_is_field(kind)) {
		rc = field_value(local, kind, &v->orig_val, &v->orig_sz, &v->orig_type_id,
				 &v->validate);
		if (!rc)
			rc = field_value(targ, kind, &v->new_val, &v->new_sz, &v->new_type_id, NULL);
		if (!rc && v->orig_sz != v->new_sz)
			v->fail_memsz_adjust = !unsigned_int_or_ptr_pair(
				btf__type_by_id(local->btf, v->orig_type_id),
				btf__type_by_id(targ->btf, v->new_type_id));
	} else if (kind_is_type(kind)) {
		rc = type_value(local, kind, &v->orig_val);
		if (!rc)
			rc = type_value(targ, kind, &v->new_val);
	} else {
		rc = enumval_value(local, kind, &v->orig_val);
		if (!rc)
			rc = enumval_value(targ, kind, &v->new_val);
	}
	if (rc == -EUCLEAN) {
		v->poison = true;
		rc = 0;
	}
	return rc;
}

/* --- step 2: candidates ------------------------------------------------ */

/* The target index: a chained hash table from essential name to type ids.
 * head[bucket] is the first type id of a chain, next[id] the one after it
 * (0 ends a chain; type 0 is void and never a candidate). Chains are built
 * from the last id down, so each lists ids in increasing order: candidates
 * come out in the order a linear scan of the target would find them, and
 * results (first match, ambiguity messages) do not depend on the index.
 * Only the kinds a relocation can name are indexed (types, not the FUNC,
 * VAR, DATASEC and DECL_TAG declarations, which are most of vmlinux's named
 * records); a root of those kinds, which compilers do not emit, is looked up
 * with a scan instead, with the same result. */
struct comb_core_target {
	const struct btf *btf;
	uint32_t mask;
	uint32_t *head;
	uint32_t *next;
};

static bool kind_is_indexed(uint32_t kind)
{
	return kind != BTF_KIND_FUNC && kind != BTF_KIND_VAR && kind != BTF_KIND_DATASEC &&
	       kind != BTF_KIND_DECL_TAG;
}

/* Hash of the first len bytes of name: its length and its first and last
 * (up to) 8 bytes, mixed. O(1) per name, which matters when indexing every
 * type name of vmlinux; the rare collisions only lengthen a chain, and
 * lookups compare the names. */
static uint32_t name_hash(const char *name, size_t len)
{
	uint64_t head = 0, tail = 0;
	memcpy(&head, name, len < 8 ? len : 8);
	if (len > 8)
		memcpy(&tail, name + len - 8, 8);
	uint64_t h = (head * 0x9e3779b97f4a7c15ull) ^ (tail * 0xc2b2ae3d27d4eb4full) ^
		     (len * 0x165667b19e3779f9ull);
	return (uint32_t)(h ^ (h >> 29) ^ (h >> 47));
}

/* essential_name_len, with a fast path for the usual name without "___". */
static size_t essential_name_len_fast(const char *name)
{
	return strstr(name, "___") ? essential_name_len(name) : strlen(name);
}

int comb_core_target_new(const struct btf *target, struct comb_core_target **out)
{
	*out = NULL;
	uint32_t n = btf__type_cnt(target), buckets = 16;
	while (buckets < n / 4 && buckets < (1u << 30)) /* most types are not indexed */
		buckets <<= 1;
	struct comb_core_target *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->btf = target;
	t->mask = buckets - 1;
	t->head = calloc(buckets, sizeof(*t->head));
	t->next = calloc(n, sizeof(*t->next));
	if (!t->head || !t->next) {
		comb_core_target_free(t);
		return -ENOMEM;
	}
	for (uint32_t id = n - 1; id > 0; id--) {
		const struct btf_type *bt = btf__type_by_id(target, id);
		if (!bt || !bt->name_off || !kind_is_indexed(btf_kind(bt)))
			continue;
		const char *name = btf__name_by_offset(target, bt->name_off);
		if (!name || !*name)
			continue;
		uint32_t b = name_hash(name, essential_name_len_fast(name)) & t->mask;
		t->next[id] = t->head[b];
		t->head[b] = id;
	}
	*out = t;
	return 0;
}

void comb_core_target_free(struct comb_core_target *t)
{
	if (!t)
		return;
	free(t->head);
	free(t->next);
	free(t);
}

const struct btf *comb_core_target_btf(const struct comb_core_target *t)
{
	return t->btf;
}

/* Walks the chain of lname's bucket: the next type id after prev (0 to
 * start) whose kind is compatible with lt and whose essential name is
 * lname's first lname_len bytes; 0 when there is none. */
static uint32_t next_candidate(const struct comb_core_target *t, const struct btf_type *lt,
			       const char *lname, size_t lname_len, uint32_t prev)
{
	if (!kind_is_indexed(btf_kind(lt))) { /* scan */
		uint32_t n = btf__type_cnt(t->btf);
		for (uint32_t id = prev + 1; id < n; id++) {
			const struct btf_type *tt = btf__type_by_id(t->btf, id);
			const char *tname = name_of(t->btf, tt->name_off);
			if (btf_kind_core_compat(tt, lt) && strncmp(lname, tname, lname_len) == 0 &&
			    essential_name_len(tname) == lname_len)
				return id;
		}
		return 0;
	}
	uint32_t id = prev ? t->next[prev] : t->head[name_hash(lname, lname_len) & t->mask];
	for (; id; id = t->next[id]) {
		const struct btf_type *tt = btf__type_by_id(t->btf, id);
		if (!btf_kind_core_compat(tt, lt))
			continue;
		const char *tname = name_of(t->btf, tt->name_off);
		if (strncmp(lname, tname, lname_len) == 0 && essential_name_len(tname) == lname_len)
			return id;
	}
	return 0;
}

static int resolve_against_target(const struct core_spec *local, const struct comb_core_target *target,
				  struct core_value *out, char *err, size_t len,
				  const struct comb_core_relo *relo)
{
	const struct btf_type *lt = btf__type_by_id(local->btf, local->root_type_id);
	const char *lname = name_of(local->btf, lt->name_off);
	size_t lname_len = essential_name_len(lname);
	if (!lname_len)
		return core_error(err, len, relo, -EINVAL, "anonymous root type [%u] is not supported",
				  local->root_type_id);
	struct core_spec *cand = malloc(sizeof(*cand));
	if (!cand)
		return core_error(err, len, relo, -ENOMEM, "out of memory");
	const struct btf *tb = target->btf;
	uint64_t first_bit_offset = 0;
	int matches = 0, rc = 0;
	for (uint32_t id = next_candidate(target, lt, lname, lname_len, 0); id && !rc;
	     id = next_candidate(target, lt, lname, lname_len, id)) {
		const char *tname = name_of(tb, btf__type_by_id(tb, id)->name_off);
		rc = spec_match(local, tb, id, cand);
		if (rc < 0) {
			rc = core_error(err, len, relo, rc, "matching target type [%u] %s failed: %s",
					id, tname, strerror(-rc));
			break;
		}
		if (rc == 0)
			continue;
		struct core_value v;
		rc = calc_value(local, cand, &v);
		if (rc) {
			rc = core_error(err, len, relo, rc, "value for target [%u] %s: %s", id,
					tname, strerror(-rc));
			break;
		}
		if (matches == 0) {
			*out = v;
			first_bit_offset = cand->bit_offset;
		} else if (cand->bit_offset != first_bit_offset) {
			rc = core_error(err, len, relo, -EINVAL,
					"field offset ambiguity: %llu != %llu (target [%u] %s)",
					(unsigned long long)cand->bit_offset,
					(unsigned long long)first_bit_offset, id, tname);
		} else if (v.poison != out->poison || v.new_val != out->new_val) {
			rc = core_error(err, len, relo, -EINVAL,
					"relocation decision ambiguity: %llu != %llu (target [%u] %s)",
					(unsigned long long)v.new_val,
					(unsigned long long)out->new_val, id, tname);
		}
		matches++;
	}
	free(cand);
	if (rc)
		return rc;
	if (matches == 0) {
		rc = calc_value(local, NULL, out);
		if (rc)
			return core_error(err, len, relo, rc, "local value: %s", strerror(-rc));
		if (out->poison)
			snprintf(out->why, sizeof(out->why), "%s %s not found in target BTF",
				 kind_is_enumval(local->kind) ? "enumerator of" : "field of", lname);
	}
	return 0;
}

/* --- step 5: patch ------------------------------------------------------ */

static void poison_insn(struct comb_insn *insn)
{
	*insn = (struct comb_insn){ .code = COMB_CLS_JMP | COMB_JMP_CALL,
				    .imm = COMB_CORE_POISON_HELPER };
}

static int bytes_to_size_code(uint32_t bytes)
{
	switch (bytes) {
	case 1: return COMB_SIZE_B;
	case 2: return COMB_SIZE_H;
	case 4: return COMB_SIZE_W;
	case 8: return COMB_SIZE_DW;
	default: return -1;
	}
}

static int patch_mem(struct comb_insn *insn, struct core_value *v, char *err, size_t len,
		     const struct comb_core_relo *relo)
{
	if (v->validate && (uint64_t)(int64_t)insn->off != v->orig_val)
		return core_error(err, len, relo, -EINVAL, "unexpected insn off %d, expected %llu",
				  insn->off, (unsigned long long)v->orig_val);
	if (v->new_val > SHRT_MAX)
		return core_error(err, len, relo, -ERANGE, "offset %llu too big for an insn",
				  (unsigned long long)v->new_val);
	if (v->fail_memsz_adjust) {
		snprintf(v->why, sizeof(v->why), "field size changed from %u to %u bytes",
			 v->orig_sz, v->new_sz);
		return 1; /* poison */
	}
	insn->off = (int16_t)v->new_val;
	if (v->new_sz != v->orig_sz) {
		if ((uint32_t)comb_insn_size_bytes(insn->code) != v->orig_sz)
			return core_error(err, len, relo, -EINVAL,
					  "unexpected mem size %d, expected %u",
					  comb_insn_size_bytes(insn->code), v->orig_sz);
		int code = bytes_to_size_code(v->new_sz);
		if (code < 0)
			return core_error(err, len, relo, -EINVAL, "invalid mem size %u", v->new_sz);
		insn->code = (uint8_t)(COMB_MODE(insn->code) | code | COMB_CLASS(insn->code));
	}
	return 0;
}

static int patch_lddw(struct comb_insn *insn, size_t avail, const struct core_value *v,
		      char *err, size_t len, const struct comb_core_relo *relo)
{
	if (avail < 2 || !comb_insn_is_lddw(insn) || insn[0].src || insn[0].off || insn[1].code ||
	    insn[1].dst || insn[1].src || insn[1].off)
		return core_error(err, len, relo, -EINVAL, "insn is not a plain ldimm64");
	uint64_t imm = (uint32_t)insn[0].imm | ((uint64_t)(uint32_t)insn[1].imm << 32);
	if (v->validate && imm != v->orig_val)
		return core_error(err, len, relo, -EINVAL, "unexpected insn imm %llu, expected %llu",
				  (unsigned long long)imm, (unsigned long long)v->orig_val);
	insn[0].imm = (int32_t)(uint32_t)v->new_val;
	insn[1].imm = (int32_t)(uint32_t)(v->new_val >> 32);
	return 0;
}

/* 0 patched, 1 poison it, <0 error. */
static int patch_insn(struct comb_insn *insn, size_t avail, struct core_value *v, char *err,
		      size_t len, const struct comb_core_relo *relo)
{
	if (v->poison)
		return 1;
	switch (COMB_CLASS(insn->code)) {
	case COMB_CLS_ALU:
	case COMB_CLS_ALU64:
		if (COMB_SRC(insn->code) != COMB_SRC_K)
			return core_error(err, len, relo, -EINVAL, "ALU insn does not use an immediate");
		if (v->validate && (uint64_t)(int64_t)insn->imm != v->orig_val)
			return core_error(err, len, relo, -EINVAL,
					  "unexpected insn imm %d, expected %llu", insn->imm,
					  (unsigned long long)v->orig_val);
		insn->imm = (int32_t)(uint32_t)v->new_val;
		return 0;
	case COMB_CLS_LDX:
	case COMB_CLS_ST:
	case COMB_CLS_STX:
		return patch_mem(insn, v, err, len, relo);
	case COMB_CLS_LD:
		return patch_lddw(insn, avail, v, err, len, relo);
	default:
		return core_error(err, len, relo, -EINVAL, "cannot relocate opcode 0x%02x",
				  insn->code);
	}
}

int comb_core_relocate_indexed(const struct btf *local, const struct comb_core_target *target,
			       const struct comb_core_relo *relo, struct comb_insn *insns,
			       size_t count, struct comb_core_result *res, char *err, size_t len)
{
	memset(res, 0, sizeof(*res));
	res->insn_idx = relo->insn_off / 8;
	if (relo->insn_off % 8 || res->insn_idx >= count)
		return core_error(err, len, relo, -EINVAL, "insn offset %u outside the %zu insns",
				  relo->insn_off, count);
	if (relo->kind >= COMB_CORE_KIND_COUNT)
		return core_error(err, len, relo, -EOPNOTSUPP, "unknown relocation kind %u",
				  relo->kind);
	const struct btf_type *root = btf__type_by_id(local, relo->type_id);
	if (!root || relo->type_id == 0)
		return core_error(err, len, relo, -EINVAL, "bad local type id %u", relo->type_id);
	struct core_spec *local_spec = malloc(sizeof(*local_spec));
	if (!local_spec)
		return core_error(err, len, relo, -ENOMEM, "out of memory");
	int rc = parse_spec(local, relo, local_spec);
	struct core_value v = { 0 };
	if (rc) {
		rc = core_error(err, len, relo, rc, "bad access string \"%s\" for type [%u]: %s",
				name_of(local, relo->access_str_off), relo->type_id, strerror(-rc));
	} else if (relo->kind == COMB_CORE_TYPE_ID_LOCAL) {
		v.orig_val = v.new_val = relo->type_id;
	} else {
		rc = resolve_against_target(local_spec, target, &v, err, len, relo);
	}
	free(local_spec);
	if (rc)
		return rc;
	struct comb_insn *insn = &insns[res->insn_idx];
	rc = patch_insn(insn, count - res->insn_idx, &v, err, len, relo);
	if (rc < 0)
		return rc;
	res->orig_val = v.orig_val;
	res->new_val = v.new_val;
	if (rc == 1) {
		if (comb_insn_is_lddw(insn) && res->insn_idx + 1 < count)
			poison_insn(insn + 1);
		poison_insn(insn);
		res->poisoned = true;
		snprintf(res->why, sizeof(res->why), "%s", v.why[0] ? v.why : "cannot be resolved");
	}
	return 0;
}

int comb_core_relocate(const struct btf *local, const struct btf *target,
		       const struct comb_core_relo *relo, struct comb_insn *insns, size_t count,
		       struct comb_core_result *res, char *err, size_t len)
{
	struct comb_core_target *index;
	memset(res, 0, sizeof(*res));
	if (comb_core_target_new(target, &index))
		return core_error(err, len, relo, -ENOMEM, "out of memory indexing the target BTF");
	int rc = comb_core_relocate_indexed(local, index, relo, insns, count, res, err, len);
	comb_core_target_free(index);
	return rc;
}
