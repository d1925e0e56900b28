/* src/verifier/verify_object.c - verifying a program of a loaded object.
 *
 * The object knows what a bare instruction stream does not: the program's
 * attach type and target (section "fentry/vfs_read" -> the context is
 * vfs_read's arguments, typed by the kernel's BTF) and, through BTF
 * line_info, the source line of every instruction. A rejection names that
 * line: line_info marks the first instruction of each source line, so the
 * line of instruction i is the nearest record at or before i within the same
 * function (segment of the relocated program).
 *
 * It also knows each map-in-map's inner map template (its sizes type what
 * a lookup in the outer map returns), which the created maps do not keep.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "comb/object.h"
#include "comb/verifier.h"
#include "loader/btf.h"
#include "loader/internal.h"
#include "verifier/internal.h"
#include "vm/internal.h"

/* res->message = "file.c:42: " + message; the source text is logged. */
static void add_source_line(const struct comb_object *obj, size_t index, const struct comb_verify_opts *o,
			    struct comb_verify_result *res)
{
	if (res->error_insn < 0)
		return;
	const char *line = loader_source_line(obj, index, (size_t)res->error_insn);
	if (!line)
		return;
	const char *text = strstr(line, ": ");
	int loc_len = text ? (int)(text - line) : (int)strlen(line);
	char msg[sizeof(res->message) + 256];
	snprintf(msg, sizeof(msg), "%.*s: %s", loc_len < 200 ? loc_len : 200, line, res->message);
	snprintf(res->message, sizeof(res->message), "%.*s", (int)sizeof(res->message) - 1, msg);
	if (o->log_buf && o->log_size && o->log_level >= 1) {
		size_t used = strnlen(o->log_buf, o->log_size);
		if (used + 1 < o->log_size)
			snprintf(o->log_buf + used, o->log_size - used, "source: %s\n", line);
	}
}

/* The object's target BTF (loaded for CO-RE, or now), for typed contexts.
 * The object keeps it: it is freed with the object. */
static const struct btf *object_btf(const struct comb_object *obj, const struct comb_verify_opts *o)
{
	if (o->target_btf_path)
		return NULL; /* the caller names another one: verifier_run loads it */
	bool typed_ctx = o->prog_type == BPF_PROG_TYPE_TRACING || o->prog_type == BPF_PROG_TYPE_LSM;
	if (!obj->target_btf && !typed_ctx)
		return NULL; /* loaded by the verifier only if a helper returns a typed pointer */
	if (!obj->target_btf) {
		char err[256];
		struct comb_object *mut = (struct comb_object *)obj; /* a cache, as line_buf */
		if (comb_btf_load_target(obj->target_btf_path, &mut->target_btf, err, sizeof(err)))
			mut->target_btf = NULL;
	}
	return obj->target_btf;
}

/* The inner template of each of prog's maps (type 0: none); NULL if the
 * program uses no map-in-map. The caller frees it. */
static struct comb_map_info *inner_templates(const struct comb_object *obj, const struct comb_prog *prog,
					     int *err)
{
	struct comb_map_info *out = NULL;
	*err = 0;
	for (size_t i = 0; i < prog->map_count; i++) {
		for (size_t k = 0; k < obj->map_count; k++) {
			const struct obj_map *m = &obj->maps[k];
			if (m->map != prog->maps[i] || !m->inner_map || m->inner_map > obj->map_count)
				continue;
			if (!out && !(out = calloc(prog->map_count, sizeof(*out)))) {
				*err = -ENOMEM;
				return NULL;
			}
			const struct obj_map *t = &obj->maps[m->inner_map - 1];
			out[i] = (struct comb_map_info){ .name = t->name, .type = t->type,
							 .key_size = t->key_size, .value_size = t->value_size,
							 .max_entries = t->max_entries, .map_flags = t->map_flags,
							 .map_extra = t->map_extra };
			break;
		}
	}
	return out;
}

int comb_verify_object_prog(const struct comb_object *obj, size_t index, const struct comb_verify_opts *opts,
			    struct comb_verify_result *res)
{
	if (!obj || !res || index >= comb_object_prog_count(obj))
		return -EINVAL;
	struct comb_prog *prog = comb_object_prog(obj, index);
	if (!prog) {
		memset(res, 0, sizeof(*res));
		res->error_insn = -1;
		snprintf(res->message, sizeof(res->message), "program %zu is not loaded", index);
		return -EINVAL;
	}
	struct comb_verify_opts o = { .sz = sizeof(o) };
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	o.sz = sizeof(o);
	struct comb_object_prog_info info;
	comb_object_prog_info(obj, index, &info);
	if (!o.expected_attach_type)
		o.expected_attach_type = info.expected_attach_type;
	if (!o.attach_target)
		o.attach_target = info.section;
	if (!o.prog_type)
		o.prog_type = prog->prog_type;
	o.maps = prog->maps;
	o.map_count = prog->map_count;
	int rc;
	struct comb_map_info *inner = inner_templates(obj, prog, &rc);
	if (rc)
		return rc;
	bool own_type = o.prog_type == prog->prog_type;
	uint8_t *facts = NULL;
	rc = verifier_run_facts(prog->insns, prog->count, &o, object_btf(obj, &o), inner, res,
				own_type ? &facts : NULL);
	free(inner);
	if (rc == 0 && own_type)
		verifier_record_facts(prog, facts);
	if (rc == 0)
		prog->verified = true; /* as comb_prog_verify */
	if (rc == -EACCES || rc == -E2BIG)
		add_source_line(obj, index, &o, res);
	return rc;
}
