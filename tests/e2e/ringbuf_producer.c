/* tests/e2e/ringbuf_producer.c - run an object's program against a pinned
 * ring buffer, as a traced application would.
 *
 *   ringbuf-producer OBJ.o MAP PIN COUNT
 *
 * Loads OBJ.o (its maps created as usual), then loads its first program a
 * second time with its ring map (MAP, which must exist in the object)
 * replaced by the map pinned at PIN,
 * and runs it until it has returned 0 COUNT times (a non-zero r0, such as
 * -EAGAIN from a full ring, means "try again": the consumer catches up).
 * comb has no CLI flag to run a program against pinned maps, hence this
 * driver. Exit 0 on success, 1 with a message on stderr otherwise.
 */
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "comb/comb.h"

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "ringbuf-producer: %s: %s\n", what, detail);
	return 1;
}

/* The loader numbers a program's maps in its own table (the order its
 * relocations name them), which the public API does not expose; the table
 * is rebuilt from how each slot is used: the one slot used as a map pointer
 * is the pinned ring, the one used as a value address the object's global
 * data map. Enough for this driver's programs; anything else is refused. */
static int rebuild_map_table(struct comb_object *obj, const struct comb_prog *prog, struct comb_map *pinned,
			     struct comb_map **table, size_t *table_len, char *err, size_t err_len)
{
	struct comb_map *global = NULL;
	for (size_t i = 0; i < comb_object_map_count(obj); i++) {
		struct comb_object_map_info info;
		if (comb_object_map_info(obj, i, &info) == 0 && info.is_global_data)
			global = comb_object_map(obj, i);
	}
	const struct comb_insn *insns = comb_prog_insns(prog);
	*table_len = 0;
	for (size_t i = 0; i < comb_prog_insn_count(prog); i++) {
		const struct comb_insn *in = &insns[i];
		if (!comb_insn_is_lddw(in) || in->src == COMB_PSEUDO_NONE || in->src == COMB_PSEUDO_FUNC)
			continue;
		bool by_value = in->src == COMB_PSEUDO_MAP_IDX_VALUE || in->src == COMB_PSEUDO_MAP_VALUE;
		struct comb_map *want = by_value ? global : pinned;
		size_t slot = (size_t)in->imm;
		if (slot >= 8 || !want || (slot < *table_len && table[slot] && table[slot] != want)) {
			snprintf(err, err_len, "insn %zu: cannot tell which map table slot %zu is", i, slot);
			return -1;
		}
		for (; *table_len <= slot; (*table_len)++)
			table[*table_len] = NULL;
		table[slot] = want;
	}
	return 0;
}

/* The object's first program, loaded again on a map table whose ring is
 * the pinned one. */
static int reload_on_pinned(struct comb_vm *vm, struct comb_object *obj, struct comb_map *pinned,
			    struct comb_prog **out, char *err, size_t err_len)
{
	struct comb_map *table[8];
	size_t table_len;
	const struct comb_prog *prog = comb_object_prog(obj, 0);
	if (!prog || rebuild_map_table(obj, prog, pinned, table, &table_len, err, err_len))
		return -1;
	struct comb_prog_opts po = { .sz = sizeof(po), .name = "producer", .maps = table, .map_count = table_len };
	return comb_prog_load(vm, comb_prog_insns(prog), comb_prog_insn_count(prog), &po, out, err, err_len);
}

int main(int argc, char **argv)
{
	if (argc != 5)
		return fail("usage", "ringbuf-producer OBJ.o MAP PIN COUNT");
	unsigned long long count = strtoull(argv[4], NULL, 0);
	char err[512] = "";
	struct comb_vm *vm;
	struct comb_object *obj;
	struct comb_map *pinned;
	struct comb_prog *prog;
	if (comb_vm_new(NULL, &vm))
		return fail("vm", "cannot make one");
	if (comb_object_open_file(argv[1], NULL, &obj, err, sizeof(err)) ||
	    comb_object_load(obj, vm, err, sizeof(err)))
		return fail(argv[1], err);
	if (comb_object_find_map(obj, argv[2]) < 0)
		return fail(argv[2], "no such map in the object");
	if (comb_map_open_pinned(argv[3], &pinned, err, sizeof(err)))
		return fail(argv[3], err);
	if (reload_on_pinned(vm, obj, pinned, &prog, err, sizeof(err)))
		return fail("load", err);
	struct comb_run_opts ro = { .sz = sizeof(ro), .engine = COMB_ENGINE_INTERP };
	for (unsigned long long done = 0; done < count;) {
		uint64_t r0 = 1;
		if (comb_prog_run(prog, &ro, &r0))
			return fail("run", "the program failed");
		if (r0 == 0)
			done++;
		else
			sched_yield();
	}
	comb_prog_free(prog);
	comb_map_free(pinned);
	comb_object_close(obj);
	comb_vm_free(vm);
	return 0;
}
