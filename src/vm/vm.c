/* src/vm/vm.c - VMs, helper tables, program loading and the run entry point.
 *
 * Loading validates the encoding (isa/validate.c), snapshots the helper
 * table (so registering helpers later never races with running programs),
 * decodes once, and materialises one threaded-code array per engine. After
 * that a program is immutable and runs may proceed from any number of threads.
 *
 * The one thing that changes after load is the verified mark, set once by
 * comb_prog_verify() before the program runs. It decides what
 * COMB_ENGINE_DEFAULT means: a verified program runs unchecked (native code
 * where the JIT compiled it, else the fast interpreter); an unverified one
 * runs in the checked interpreter, so nothing unproven runs unchecked unless
 * the embedder names INTERP or JIT explicitly.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vm/internal.h"
#include "helpers/helpers.h"
#include "comb/map.h"
#include "maps/internal.h"
#include "jit/jit.h"
#include "comb/verifier.h"

#define COMB_MAX_HELPER_ID 65535u

int comb_vm_new(const struct comb_vm_opts *opts, struct comb_vm **vm)
{
	if (!vm)
		return -EINVAL;
	if (opts && opts->sz < offsetof(struct comb_vm_opts, user) + sizeof(opts->user))
		return -EINVAL;
	struct comb_vm *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->user = opts ? opts->user : NULL;
	int rc = comb_register_default_helpers(v);
	if (rc) {
		comb_vm_free(v);
		return rc;
	}
	*vm = v;
	return 0;
}

void comb_vm_free(struct comb_vm *vm)
{
	if (!vm)
		return;
	for (uint32_t i = 0; i < vm->helper_capacity; i++)
		free(vm->helpers[i].name);
	free(vm->helpers);
	free(vm);
}

int comb_vm_register_helper(struct comb_vm *vm, uint32_t id, const char *name, comb_helper_fn fn)
{
	if (!vm || !fn || id > COMB_MAX_HELPER_ID)
		return -EINVAL;
	if (id >= vm->helper_capacity) {
		uint32_t cap = vm->helper_capacity ? vm->helper_capacity : 64;
		while (cap <= id)
			cap *= 2;
		struct helper_entry *h = realloc(vm->helpers, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		memset(h + vm->helper_capacity, 0, (cap - vm->helper_capacity) * sizeof(*h));
		vm->helpers = h;
		vm->helper_capacity = cap;
	}
	char *copy = strdup(name ? name : "helper");
	if (!copy)
		return -ENOMEM;
	free(vm->helpers[id].name);
	vm->helpers[id] = (struct helper_entry){ fn, copy };
	return 0;
}

const char *comb_vm_helper_name(const struct comb_vm *vm, uint32_t id)
{
	if (!vm || id >= vm->helper_capacity || !vm->helpers[id].fn)
		return NULL;
	return vm->helpers[id].name;
}

static const engine_fn engines[ENGINE_SLOT_COUNT] = {
	[ENGINE_SLOT_INTERP] = comb_engine_interp,
	[ENGINE_SLOT_CHECKED] = comb_engine_checked,
};

static int snapshot_helpers(struct comb_prog *p)
{
	const struct comb_vm *vm = p->vm;
	p->helper_count = vm->helper_capacity;
	p->helpers = calloc(p->helper_count ? p->helper_count : 1, sizeof(*p->helpers));
	if (!p->helpers)
		return -ENOMEM;
	for (uint32_t i = 0; i < vm->helper_capacity; i++)
		p->helpers[i] = vm->helpers[i].fn;
	return 0;
}

/* Give each engine its own copy of the decoded program with handler addresses. */
static int materialise_engines(struct comb_prog *p, const struct dinsn *generic)
{
	struct dinsn *fused = malloc(p->count * sizeof(*fused));
	if (!fused)
		return -ENOMEM;
	memcpy(fused, generic, p->count * sizeof(*fused));
	comb_fuse(fused, generic, p->count);
	for (int e = 0; e < ENGINE_SLOT_COUNT; e++) {
		const struct dinsn *src = e == ENGINE_SLOT_INTERP ? fused : generic;
		const void *const *table;
		engines[e](NULL, NULL, NULL, &table);
		p->code[e] = malloc(p->count * sizeof(struct dinsn));
		if (!p->code[e]) {
			free(fused);
			return -ENOMEM;
		}
		for (size_t i = 0; i < p->count; i++) {
			p->code[e][i] = src[i];
			p->code[e][i].op = table[src[i].kind];
			if (src[i].kind == H_LDDW) {
				p->code[e][i + 1] = src[i + 1];
				i++;
			}
		}
	}
	free(fused);
	return 0;
}

/* Does a program using map need a per-CPU slot of its own while it runs?
 * Per-CPU maps and per-CPU buffers do; so may whatever it reaches through
 * maps of maps or tail calls. */
static bool map_needs_cpu_slot(const struct comb_map *map)
{
	struct comb_map_info info;
	comb_map_get_info(map, &info);
	switch (info.type) {
	case COMB_MAP_PERCPU_ARRAY: case COMB_MAP_PERCPU_HASH: case COMB_MAP_LRU_PERCPU_HASH:
	case COMB_MAP_PERF_EVENT_ARRAY: case COMB_MAP_ARRAY_OF_MAPS: case COMB_MAP_HASH_OF_MAPS:
	case COMB_MAP_PROG_ARRAY:
		return true;
	}
	return false;
}

static int copy_prog_opts(struct comb_prog *p, const struct comb_prog_opts *opts)
{
	if (!opts || opts->sz < offsetof(struct comb_prog_opts, map_count) + sizeof(opts->map_count))
		return 0;
	p->prog_type = opts->prog_type;
	if (opts->sz >= offsetof(struct comb_prog_opts, jit_harden) + sizeof(opts->jit_harden))
		p->jit_harden = opts->jit_harden;
	if (!opts->map_count)
		return 0;
	if (!opts->maps)
		return -EINVAL;
	p->maps = malloc(opts->map_count * sizeof(*p->maps));
	if (!p->maps)
		return -ENOMEM;
	memcpy(p->maps, opts->maps, opts->map_count * sizeof(*p->maps));
	p->map_count = opts->map_count;
	for (size_t i = 0; i < p->map_count; i++)
		p->needs_cpu_slot |= map_needs_cpu_slot(p->maps[i]);
	return 0;
}

int comb_prog_load(struct comb_vm *vm, const struct comb_insn *insns, size_t count,
		   const struct comb_prog_opts *opts, struct comb_prog **prog, char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
	if (!vm || !prog || (!insns && count))
		return -EINVAL;
	int rc = comb_insns_validate(insns, count, err, err_len);
	if (rc)
		return rc;
	struct comb_prog *p = calloc(1, sizeof(*p));
	struct dinsn *generic = calloc(count, sizeof(*generic));
	if (!p || !generic) {
		rc = -ENOMEM;
		goto fail;
	}
	p->vm = vm;
	p->count = count;
	p->name = strdup(opts && opts->sz >= offsetof(struct comb_prog_opts, name) + sizeof(char *) && opts->name
				 ? opts->name : "prog");
	p->insns = malloc(count * sizeof(*insns));
	if (!p->name || !p->insns) {
		rc = -ENOMEM;
		goto fail;
	}
	memcpy(p->insns, insns, count * sizeof(*insns));
	rc = copy_prog_opts(p, opts);
	if (!rc)
		rc = snapshot_helpers(p);
	if (!rc)
		rc = comb_decode(p, generic, err, err_len);
	if (!rc)
		rc = materialise_engines(p, generic);
	if (rc)
		goto fail;
	/* Native code where the JIT can compile the program; otherwise (or
	 * out of memory) COMB_ENGINE_JIT runs it in the interpreter. */
	if (comb_jit_compile(p, generic, &p->jit))
		p->jit = NULL;
	free(generic);
	*prog = p;
	return 0;
fail:
	if (rc == -ENOMEM && err && err_len)
		snprintf(err, err_len, "out of memory loading a program of %zu instructions", count);
	free(generic);
	comb_prog_free(p);
	return rc;
}

void comb_prog_free(struct comb_prog *prog)
{
	if (!prog)
		return;
	for (int e = 0; e < ENGINE_SLOT_COUNT; e++)
		free(prog->code[e]);
	comb_jit_free(prog->jit);
	free(prog->helpers);
	free(prog->maps);
	free(prog->insns);
	free(prog->name);
	free(prog);
}

size_t comb_prog_insn_count(const struct comb_prog *prog) { return prog ? prog->count : 0; }
const struct comb_insn *comb_prog_insns(const struct comb_prog *prog) { return prog ? prog->insns : NULL; }
const char *comb_prog_name(const struct comb_prog *prog) { return prog ? prog->name : NULL; }

int comb_prog_verify(struct comb_prog *prog, const struct comb_verify_opts *opts,
		     struct comb_verify_result *res)
{
	if (!prog || !res)
		return -EINVAL;
	int rc = comb_verify_prog(prog, opts, res);
	if (rc == 0)
		prog->verified = true;
	return rc;
}

bool comb_prog_verified(const struct comb_prog *prog)
{
	return prog && prog->verified;
}

enum comb_engine comb_prog_default_engine(const struct comb_prog *prog)
{
	if (!prog || !prog->verified)
		return COMB_ENGINE_CHECKED;
	return prog->jit ? COMB_ENGINE_JIT : COMB_ENGINE_INTERP;
}

const char *comb_engine_name(enum comb_engine engine)
{
	switch (engine) {
	case COMB_ENGINE_DEFAULT: return "default";
	case COMB_ENGINE_INTERP: return "interp";
	case COMB_ENGINE_CHECKED: return "checked";
	case COMB_ENGINE_JIT: return "jit";
	}
	return NULL;
}

int comb_engine_parse(const char *name, enum comb_engine *engine)
{
	if (!name || !engine)
		return -EINVAL;
	if (!strcmp(name, "interp"))
		*engine = COMB_ENGINE_INTERP;
	else if (!strcmp(name, "checked"))
		*engine = COMB_ENGINE_CHECKED;
	else if (!strcmp(name, "jit"))
		*engine = COMB_ENGINE_JIT;
	else if (!strcmp(name, "default"))
		*engine = COMB_ENGINE_DEFAULT;
	else
		return -EINVAL;
	return 0;
}

void comb_run_fail(struct comb_run_state *rs, long insn, uint64_t addr, const char *fmt, ...)
{
	struct comb_run_error *e = rs->opts->error;
	if (!e)
		return;
	e->insn = insn;
	e->addr = addr;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

bool comb_prog_has_map(const struct comb_prog *prog, const struct comb_map *map)
{
	for (size_t i = 0; i < prog->map_count; i++)
		if (prog->maps[i] == map)
			return true;
	return false;
}

bool comb_checked_mem_allowed(const struct comb_run_state *rs, uint64_t addr, uint64_t size, bool write)
{
	uint64_t end = addr + size;
	if (end < addr)
		return false;
	/* The current frame and its callers' frames, in this activation and in
	 * the activations whose helpers called back into the program. */
	for (const struct comb_run_state *a = rs; a; a = a->parent) {
		uint64_t frame_low = a->regs[10] - COMB_STACK_SIZE;
		if (addr >= frame_low && end <= a->stack_top)
			return true;
	}
	const struct comb_run_opts *o = rs->opts;
	for (size_t i = 0; i < o->region_count; i++) {
		const struct comb_region *r = &o->regions[i];
		if (addr >= r->addr && end <= r->addr + r->size && (!write || r->writable))
			return true;
	}
	/* Map values the program can reach through its maps. */
	const struct comb_prog *p = rs->prog;
	for (size_t i = 0; i < p->map_count; i++) {
		uint64_t base, size;
		comb_map_storage(p->maps[i], &base, &size);
		if (addr >= base && end <= base + size)
			return true;
	}
	return false;
}

int comb_call_check_mem(const struct comb_call_ctx *cc, const void *ptr, uint64_t size, bool write)
{
	if (!cc || !cc->run)
		return -EINVAL;
	if (!cc->run->checked)
		return 0;
	return comb_checked_mem_allowed(cc->run, (uint64_t)(uintptr_t)ptr, size, write) ? 0 : -EFAULT;
}

void *comb_call_hook_data(const struct comb_call_ctx *cc)
{
	if (!cc || !cc->run)
		return NULL;
	return cc->run->opts->hook_data;
}

static int run_activation(struct comb_run_state *rs, uint64_t *r0);

/* opts as a caller of any age passed them, in full (into *local when the
 * caller's struct is older and shorter); NULL when they are unusable. */
static const struct comb_run_opts *full_run_opts(const struct comb_run_opts *opts, struct comb_run_opts *local)
{
	static const struct comb_run_opts defaults = { .sz = sizeof(defaults) };
	if (!opts) {
		opts = &defaults;
	} else if (opts->sz < sizeof(*opts)) {
		/* An older caller: copy what it has, zero the rest. */
		if (opts->sz < offsetof(struct comb_run_opts, args))
			return NULL;
		memset(local, 0, sizeof(*local));
		memcpy(local, opts, opts->sz);
		opts = local;
	}
	if (opts->region_count && !opts->regions)
		return NULL;
	if (opts->engine != COMB_ENGINE_DEFAULT && opts->engine != COMB_ENGINE_INTERP &&
	    opts->engine != COMB_ENGINE_CHECKED && opts->engine != COMB_ENGINE_JIT)
		return NULL;
	return opts;
}

int comb_prog_run(const struct comb_prog *prog, const struct comb_run_opts *opts, uint64_t *r0)
{
	if (!prog || !r0)
		return -EINVAL;
	struct comb_run_opts local;
	if (!(opts = full_run_opts(opts, &local)))
		return -EINVAL;
	enum comb_engine engine = opts->engine == COMB_ENGINE_DEFAULT ? comb_prog_default_engine(prog)
									: opts->engine;
	struct comb_run_state rs = {
		.prog = prog,
		.opts = opts,
		.checked = engine == COMB_ENGINE_CHECKED,
		.jit = engine == COMB_ENGINE_JIT,
		.budget_left = opts->insn_budget ? opts->insn_budget : COMB_DEFAULT_INSN_BUDGET,
	};
	rs.root = &rs;
	memcpy(rs.args, opts->args, sizeof(rs.args));
	/* No two runs at the same time share a per-CPU slot (see maps/region.c). */
	if (!prog->needs_cpu_slot)
		return run_activation(&rs, r0);
	comb_percpu_slot_enter();
	int rc = run_activation(&rs, r0);
	comb_percpu_slot_leave();
	return rc;
}

/* ---- prepared runs (vm/internal.h): the state built once, reset per start */

int comb_run_prepare(struct comb_prepared_run *pr, const struct comb_prog *prog, const struct comb_run_opts *opts)
{
	struct comb_run_opts local;
	if (!pr || !prog || !(opts = full_run_opts(opts, &local)))
		return -EINVAL;
	memset(pr, 0, sizeof(*pr));
	pr->prog = prog;
	pr->opts = *opts;
	pr->opts.sz = sizeof(pr->opts);
	pr->rs.opts = &pr->opts;
	pr->rs.root = &pr->rs;
	return 0;
}

/* Only what a run changes is reset: the program (tail calls), the helpers'
 * call context, the budget, the arguments and the root's counters. */
int comb_run_start(struct comb_prepared_run *pr, uint64_t *r0)
{
	const struct comb_prog *prog = pr->prog;
	struct comb_run_state *rs = &pr->rs;
	enum comb_engine engine = pr->opts.engine == COMB_ENGINE_DEFAULT ? comb_prog_default_engine(prog)
									 : pr->opts.engine;
	rs->prog = prog;
	rs->checked = engine == COMB_ENGINE_CHECKED;
	rs->jit = engine == COMB_ENGINE_JIT;
	rs->budget_left = pr->opts.insn_budget ? pr->opts.insn_budget : COMB_DEFAULT_INSN_BUDGET;
	rs->abort_rc = 0;
	rs->tail_calls = 0;
	memcpy(rs->args, pr->opts.args, sizeof(rs->args));
	return run_activation(rs, r0);
}

/* Run one activation in the engine its run asked for. */
static int run_activation(struct comb_run_state *rs, uint64_t *r0)
{
	const struct comb_prog *prog = rs->prog;
	rs->call_ctx = (struct comb_call_ctx){
		.vm = prog->vm, .prog = prog, .vm_user = prog->vm->user, .run_user = rs->opts->user, .run = rs,
	};
	if (rs->checked)
		return comb_engine_checked(prog, rs, r0, NULL);
	if (rs->jit && prog->jit)
		return comb_jit_run(prog, rs, r0);
	return comb_engine_interp(prog, rs, r0, NULL);
}

int comb_call_callback(struct comb_call_ctx *cc, uint64_t fn, uint64_t r1, uint64_t r2, uint64_t r3,
		       uint64_t r4, uint64_t r5, uint64_t *r0)
{
	if (!cc || !cc->run || !r0)
		return -EINVAL;
	struct comb_run_state *caller = (struct comb_run_state *)cc->run;
	const struct comb_prog *prog = caller->prog;
	uint64_t index = fn & COMB_CALLBACK_INDEX_MASK;
	if ((fn & ~COMB_CALLBACK_INDEX_MASK) != COMB_CALLBACK_TAG || index >= prog->count)
		return -EINVAL;
	if (caller->nesting + 1 >= COMB_MAX_CALLBACK_NESTING) {
		comb_run_fail(caller, -1, 0, "callbacks nested more than %d deep", COMB_MAX_CALLBACK_NESTING);
		caller->root->abort_rc = -ELOOP;
		return -ELOOP;
	}
	struct comb_run_state rs = {
		.prog = prog,
		.opts = caller->opts,
		.checked = caller->checked,
		.jit = caller->jit,
		.start = index,
		.args = { r1, r2, r3, r4, r5 },
		.parent = caller,
		.root = caller->root,
		.nesting = caller->nesting + 1,
		.budget_left = caller->budget_left,
	};
	int rc = run_activation(&rs, r0);
	caller->budget_left = rs.budget_left;
	if (rc && !caller->root->abort_rc)
		caller->root->abort_rc = rc;
	return rc;
}
