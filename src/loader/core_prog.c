/* src/loader/core_prog.c - CO-RE for one program without loading it.
 *
 * Tests and tools that want to see what CO-RE did to a program (and compare
 * it with libbpf) should not depend on the program also loading into a VM:
 * an object may use a helper or a map type comb does not implement yet. This
 * file relocates one program into private buffers, exactly as a load would
 * (loader_relocate_prog: entry function, appended subprograms, map/global/
 * call relocations, CO-RE), without creating maps or touching the object's
 * state. When the non-CO-RE relocations fail (a __ksym extern, for one), it
 * falls back to the entry function alone with only CO-RE applied, so CO-RE
 * can still be checked; only a CO-RE error is then reported.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "loader/internal.h"

static int entry_only(struct comb_object *obj, const struct obj_prog *p, struct loader_core_prog *out,
		      char *err, size_t err_len)
{
	const struct elf_section *s = &obj->elf.sections[p->sec_idx];
	if (!s->data || p->sec_insn > s->size / 8 || p->insn_count > s->size / 8 - p->sec_insn)
		return loader_error(err, err_len, obj->name, s->name, p->sec_insn * 8,
				    "prog %s lies outside its section", p->name);
	out->insns = malloc(p->insn_count * sizeof(*out->insns));
	out->segs = malloc(sizeof(*out->segs));
	if (!out->insns || !out->segs)
		return -ENOMEM;
	memcpy(out->insns, s->data + p->sec_insn * 8, p->insn_count * 8);
	out->count = p->insn_count;
	out->segs[0] = (struct loader_segment){ p->sec_idx, p->sec_insn, p->insn_count, 0 };
	out->seg_count = 1;
	out->entry_only = true;
	return loader_core_function(obj, p, p->sec_idx, p->sec_insn, out->insns, out->count, err, err_len);
}

int loader_core_prog(struct comb_object *obj, size_t index, struct loader_core_prog *out, char *err,
		     size_t err_len)
{
	memset(out, 0, sizeof(*out));
	if (!obj || index >= obj->prog_count)
		return -EINVAL;
	struct obj_prog tmp = obj->progs[index];
	tmp.insns = NULL, tmp.segs = NULL, tmp.maps = NULL, tmp.prog = NULL;
	tmp.count = tmp.seg_count = tmp.map_count = 0;
	size_t *indices = NULL;
	int rc = loader_relocate_prog(obj, &tmp, &indices, err, err_len);
	free(indices);
	if (rc == 0) {
		out->insns = tmp.insns, out->count = tmp.count;
		out->segs = tmp.segs, out->seg_count = tmp.seg_count;
		return 0;
	}
	if (rc == -ENOMEM)
		return rc;
	rc = entry_only(obj, &obj->progs[index], out, err, err_len);
	if (rc)
		loader_core_prog_free(out);
	return rc;
}

void loader_core_prog_free(struct loader_core_prog *p)
{
	free(p->insns);
	free(p->segs);
	memset(p, 0, sizeof(*p));
}
