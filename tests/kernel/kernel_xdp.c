/* tests/kernel/kernel_xdp.c - comb's XDP helpers against the kernel's.
 *
 * tests/progs/xdp_helpers.bpf.o and xdp_helpers_redirect.bpf.o are loaded
 * into the kernel with libbpf and into comb (one VM per engine: interp,
 * checked, jit). Each case writes the program's parameter map (the helper
 * calls to make and their arguments: adjust_head/meta/tail to their exact
 * limits and one past, load/store_bytes in and out of range, csum_diff with
 * odd sizes, seeds and packet memory, redirect and redirect_map on every
 * redirect map type with every kind of flags), then runs the program on
 * packets of several sizes through BPF_PROG_TEST_RUN and through
 * comb_prog_test_run. The return value, the packet the program left
 * (data_meta to data_end) and the results map must agree. The redirect maps
 * hold the same entries on both sides (ifindex 1, lo, in the device maps;
 * CPU 0 in the cpumap; the xskmap stays empty: the kernel only takes AF_XDP
 * sockets). Each case/packet/engine is one test.
 *
 * When bpf() is not permitted the suite skips with a message and reports
 * `kernel-xdp: 0 passed, 0 failed`.
 *
 * Usage: kernel-xdp [-v] DIR   (DIR holds the built tests/progs objects)
 */
/* Case tables leave trailing op arguments out. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "comb/map.h"
#include "comb/object.h"
#include "comb/testrun.h"
#include "comb/vm.h"
#include "kernel_bpf.h"

#define OPS 4
#define FIELDS 12
#define OUT_CAP 8192
#define MAX_PACKET 4096
#define FRAME_LIMIT 3776 /* data_end may grow to here from the frame start: 4096 - 320 */
#define HEADROOM 256
#define RESERVED 40      /* sizeof(struct xdp_frame) */

enum { OP_NONE, OP_HEAD, OP_META, OP_TAIL, OP_LEN, OP_LOAD, OP_STORE, OP_META_WRITE };

struct params {
	uint64_t op[OPS], a[OPS], b[OPS];
	uint64_t action;
};
struct results {
	uint64_t v[OPS][FIELDS];
};
struct rparams {
	uint64_t mode, a, b;
};

static struct kernel_tally tally;

/* ---- packets -------------------------------------------------------------- */

struct packet {
	uint8_t data[MAX_PACKET];
	size_t len;
};

static void make_packet(struct packet *pk, size_t len)
{
	static const uint8_t head[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	memcpy(pk->data, head, sizeof(head));
	for (size_t i = sizeof(head); i < len; i++)
		pk->data[i] = (uint8_t)(i * 7 + 3);
	pk->len = len;
}

static const size_t packet_sizes[] = { 14, 60, 200, 1100, 1500, 3520 };
#define PACKET_COUNT (sizeof(packet_sizes) / sizeof(packet_sizes[0]))

/* ---- the two sides ---------------------------------------------------------- */

enum { ENGINES = 3 };
static const enum comb_engine engines[ENGINES] = { COMB_ENGINE_INTERP, COMB_ENGINE_CHECKED, COMB_ENGINE_JIT };

struct side {
	struct bpf_object *kobj;
	struct comb_object *cobj[ENGINES];
	struct comb_vm *vm[ENGINES];
};

static void side_close(struct side *s)
{
	bpf_object__close(s->kobj);
	for (int e = 0; e < ENGINES; e++) {
		comb_object_close(s->cobj[e]);
		comb_vm_free(s->vm[e]);
	}
	memset(s, 0, sizeof(*s));
}

/* 0, 1 when bpf() is denied (skip), -1 on another failure. */
static int side_open(struct side *s, const char *path)
{
	char err[512] = "";
	memset(s, 0, sizeof(*s));
	s->kobj = bpf_object__open_file(path, NULL);
	if (!s->kobj) {
		printf("FAIL %s: libbpf cannot open it: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = bpf_object__load(s->kobj);
	if (rc == -EPERM || rc == -EACCES)
		return 1;
	if (rc) {
		printf("FAIL %s: the kernel rejects it: %s\n", path, strerror(-rc));
		return -1;
	}
	for (int e = 0; e < ENGINES; e++) {
		rc = comb_object_open_file(path, NULL, &s->cobj[e], err, sizeof(err));
		if (!rc)
			rc = comb_vm_new(NULL, &s->vm[e]);
		if (!rc)
			rc = comb_object_load(s->cobj[e], s->vm[e], err, sizeof(err));
		if (rc) {
			printf("FAIL %s: comb cannot load it: %s\n", path, err[0] ? err : strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/* Write key 0 (or key) of map name on every side. */
static int side_update(struct side *s, const char *name, uint32_t key, const void *value)
{
	struct bpf_map *km = bpf_object__find_map_by_name(s->kobj, name);
	if (!km || bpf_map_update_elem(bpf_map__fd(km), &key, value, BPF_ANY))
		return -1;
	for (int e = 0; e < ENGINES; e++) {
		int i = comb_object_find_map(s->cobj[e], name);
		if (i < 0 || comb_map_update(comb_object_map(s->cobj[e], (size_t)i), &key, value, BPF_ANY))
			return -1;
	}
	return 0;
}

struct outcome {
	int rc;
	uint32_t retval;
	uint8_t out[OUT_CAP];
	size_t out_len;
	struct results res;
};

static int kernel_outcome(struct side *s, const char *prog, const struct packet *pk, struct outcome *o)
{
	struct bpf_program *kp = bpf_object__find_program_by_name(s->kobj, prog);
	if (!kp)
		return -ENOENT;
	o->out_len = sizeof(o->out);
	o->rc = kernel_bpf_test_run_packet(bpf_program__fd(kp), pk->data, pk->len, o->out, &o->out_len, &o->retval);
	struct bpf_map *km = bpf_object__find_map_by_name(s->kobj, "results");
	uint32_t zero = 0;
	if (km)
		bpf_map_lookup_elem(bpf_map__fd(km), &zero, &o->res);
	return 0;
}

static int comb_outcome(struct side *s, int e, const char *prog, const struct packet *pk, struct outcome *o)
{
	int pi = comb_object_find_prog(s->cobj[e], prog);
	if (pi < 0)
		return -ENOENT;
	struct comb_test_run_opts opts = {
		.sz = sizeof(opts), .prog_type = BPF_PROG_TYPE_XDP, .engine = engines[e], .data_in = pk->data,
		.data_size_in = pk->len, .data_out = o->out, .data_size_out = sizeof(o->out),
	};
	o->rc = comb_prog_test_run(comb_object_prog(s->cobj[e], (size_t)pi), &opts);
	o->retval = (uint32_t)opts.retval;
	o->out_len = opts.data_size_out;
	int mi = comb_object_find_map(s->cobj[e], "results");
	uint32_t zero = 0;
	if (mi >= 0)
		comb_map_lookup(comb_object_map(s->cobj[e], (size_t)mi), &zero, &o->res);
	if (o->rc && tally.verbose)
		printf("  comb %s: %s\n", comb_engine_name(engines[e]), opts.error.message);
	return 0;
}

static void compare(const char *test, const struct outcome *k, const struct outcome *c)
{
	char why[512] = "";
	if (k->rc != c->rc)
		snprintf(why, sizeof(why), "test run returned %d in the kernel, %d in comb", k->rc, c->rc);
	else if (!k->rc && k->retval != c->retval)
		snprintf(why, sizeof(why), "retval kernel %u comb %u", k->retval, c->retval);
	else if (!k->rc && k->out_len != c->out_len)
		snprintf(why, sizeof(why), "packet length kernel %zu comb %zu", k->out_len, c->out_len);
	else if (!k->rc && memcmp(k->out, c->out, k->out_len))
		snprintf(why, sizeof(why), "packet bytes differ");
	for (int i = 0; !why[0] && i < OPS; i++)
		for (int f = 0; !why[0] && f < FIELDS; f++)
			if (k->res.v[i][f] != c->res.v[i][f])
				snprintf(why, sizeof(why), "result op %d field %d: kernel %#llx comb %#llx", i, f,
					 (unsigned long long)k->res.v[i][f], (unsigned long long)c->res.v[i][f]);
	kernel_tally_report(&tally, !why[0], test, why);
}

/* Run prog on pk everywhere with the parameter map already written. */
static void run_case(struct side *s, const char *prog, const char *name, const struct packet *pk)
{
	static struct outcome k, c;
	static const struct results zero_results;
	char test[256];
	memset(&k, 0, sizeof(k));
	if (bpf_object__find_map_by_name(s->kobj, "results") &&
	    side_update(s, "results", 0, &zero_results)) {
		kernel_tally_report(&tally, false, name, "cannot reset the results map");
		return;
	}
	kernel_outcome(s, prog, pk, &k);
	for (int e = 0; e < ENGINES; e++) {
		memset(&c, 0, sizeof(c));
		if (s->cobj[e] && bpf_object__find_map_by_name(s->kobj, "results"))
			side_update(s, "results", 0, &zero_results);
		comb_outcome(s, e, prog, pk, &c);
		snprintf(test, sizeof(test), "%s/%s/len%zu/%s", prog, name, pk->len, comb_engine_name(engines[e]));
		compare(test, &k, &c);
	}
}

/* ---- xdp_ops cases ---------------------------------------------------------- */

/* An argument relative to the packet: REL(x) is len + x, FROM_LIMIT(x) the
 * growth that reaches the frame limit, plus x. */
#define REL_BIT (1ll << 40)
#define LIMIT_BIT (1ll << 41)
#define REL(x) (REL_BIT + (x))
#define FROM_LIMIT(x) (LIMIT_BIT + (x))

struct op {
	int code;
	long long a, b;
};
struct ops_case {
	const char *name;
	struct op ops[OPS];
	uint32_t action;
};

static uint64_t resolve(long long v, size_t len)
{
	if (v >= LIMIT_BIT - (1ll << 39) && v < LIMIT_BIT + (1ll << 39))
		return (uint64_t)(v - LIMIT_BIT + (FRAME_LIMIT - HEADROOM - (long long)len));
	if (v >= REL_BIT - (1ll << 39) && v < REL_BIT + (1ll << 39))
		return (uint64_t)(v - REL_BIT + (long long)len);
	return (uint64_t)v;
}

static const struct ops_case ops_cases[] = {
	{ "head-lowest", { { OP_HEAD, -(HEADROOM - RESERVED) }, { OP_LEN } }, 2 },
	{ "head-below-lowest", { { OP_HEAD, -(HEADROOM - RESERVED) - 1 }, { OP_LEN } }, 2 },
	{ "head-highest", { { OP_HEAD, REL(-14) }, { OP_LEN } }, 2 },
	{ "head-above-highest", { { OP_HEAD, REL(-13) }, { OP_LEN } }, 2 },
	{ "head-down-up", { { OP_HEAD, -100 }, { OP_STORE, 0, 15 }, { OP_HEAD, 90 }, { OP_LOAD, 0, 63 } }, 3 },
	{ "head-zero", { { OP_HEAD, 0 }, { OP_LOAD, 0, 13 } }, 2 },
	{ "meta-4", { { OP_META, -4 }, { OP_META_WRITE, 0x11223344 } }, 2 },
	{ "meta-32", { { OP_META, -32 }, { OP_META_WRITE, 0xa5a5a5a5 } }, 2 },
	{ "meta-36", { { OP_META, -36 }, { OP_META_WRITE, 1 } }, 2 },
	{ "meta-64", { { OP_META, -64 }, { OP_META_WRITE, 2 } }, 2 },
	{ "meta-212", { { OP_META, -212 }, { OP_META_WRITE, 3 } }, 2 },
	{ "meta-216-lowest", { { OP_META, -216 }, { OP_META_WRITE, 4 } }, 2 },
	{ "meta-220-below", { { OP_META, -220 } }, 2 },
	{ "meta-252-after-head", { { OP_HEAD, 40 }, { OP_META, -252 }, { OP_META_WRITE, 5 } }, 2 },
	{ "meta-256-after-head", { { OP_HEAD, 44 }, { OP_META, -256 } }, 2 },
	{ "meta-unaligned", { { OP_META, -2 }, { OP_META, -6 }, { OP_META_WRITE, 1 } }, 2 },
	{ "meta-above-data", { { OP_META, 4 } }, 2 },
	{ "meta-grow-shrink", { { OP_META, -8 }, { OP_META, 4 }, { OP_META_WRITE, 0xcafe }, { OP_META, 4 } }, 2 },
	{ "meta-then-head", { { OP_META, -8 }, { OP_META_WRITE, 0xdeadbeef }, { OP_HEAD, -20 }, { OP_LEN } }, 2 },
	{ "meta-head-lowest", { { OP_META, -32 }, { OP_HEAD, -(HEADROOM - RESERVED - 32) }, { OP_META_WRITE, 7 } }, 2 },
	{ "meta-head-below", { { OP_META, -32 }, { OP_HEAD, -(HEADROOM - RESERVED - 32) - 1 } }, 2 },
	{ "head-then-meta-limit", { { OP_HEAD, -(HEADROOM - RESERVED) }, { OP_META, -4 } }, 2 },
	{ "head-up-meta", { { OP_HEAD, REL(-14) }, { OP_META, -32 }, { OP_META_WRITE, 9 } }, 2 },
	{ "tail-grow-1", { { OP_TAIL, 1 }, { OP_LEN } }, 2 },
	{ "tail-grow-limit", { { OP_TAIL, FROM_LIMIT(0) }, { OP_LEN } }, 2 },
	{ "tail-grow-past-limit", { { OP_TAIL, FROM_LIMIT(1) }, { OP_LEN } }, 2 },
	{ "tail-shrink-to-eth", { { OP_TAIL, 0 /* -(len - 14) */ }, { OP_LEN } }, 2 },
	{ "tail-grow-zeroes", { { OP_TAIL, -10 }, { OP_TAIL, 10 }, { OP_LOAD, REL(-16), 15 } }, 2 },
	{ "tail-after-head", { { OP_HEAD, 8 }, { OP_TAIL, FROM_LIMIT(0) }, { OP_TAIL, 1 } }, 2 },
	{ "load-start", { { OP_LOAD, 0, 63 } }, 2 },
	{ "load-last-byte", { { OP_LOAD, REL(-1), 0 } }, 2 },
	{ "load-last-8", { { OP_LOAD, REL(-8), 7 } }, 2 },
	{ "load-at-end", { { OP_LOAD, REL(0), 0 } }, 2 },
	{ "load-across-end", { { OP_LOAD, REL(-10), 19 } }, 2 },
	{ "load-offset-64k", { { OP_LOAD, 0x10000, 0 } }, 2 },
	{ "load-offset-ffff", { { OP_LOAD, 0xffff, 0 } }, 2 },
	{ "load-offset-huge", { { OP_LOAD, 0xffffffffll, 3 } }, 2 },
	{ "store-start", { { OP_STORE, 0, 63 } }, 2 },
	{ "store-last-4", { { OP_STORE, REL(-4), 3 } }, 2 },
	{ "store-across-end", { { OP_STORE, REL(-4), 4 } }, 2 },
	{ "store-offset-64k", { { OP_STORE, 0x10000, 0 } }, 2 },
	{ "store-then-tail", { { OP_TAIL, 40 }, { OP_STORE, REL(30), 9 }, { OP_LEN } }, 2 },
	{ "action-tx", { { OP_LEN } }, 3 },
	{ "action-unknown", { { OP_LEN } }, 9 },
};

/* tail-shrink-to-eth shrinks by len - 14, a negative multiple of len. */
static uint64_t resolve_op_a(const struct ops_case *c, int i, size_t len)
{
	if (strcmp(c->name, "tail-shrink-to-eth") == 0 && i == 0)
		return (uint64_t)(14 - (long long)len);
	return resolve(c->ops[i].a, len);
}

static void run_ops_cases(struct side *s)
{
	static struct packet pk;
	for (size_t ci = 0; ci < sizeof(ops_cases) / sizeof(ops_cases[0]); ci++) {
		const struct ops_case *c = &ops_cases[ci];
		for (size_t pi = 0; pi < PACKET_COUNT; pi++) {
			make_packet(&pk, packet_sizes[pi]);
			struct params p = { .action = c->action };
			for (int i = 0; i < OPS; i++) {
				p.op[i] = (uint64_t)c->ops[i].code;
				p.a[i] = resolve_op_a(c, i, pk.len);
				p.b[i] = resolve(c->ops[i].b, pk.len);
			}
			if (side_update(s, "params", 0, &p)) {
				kernel_tally_report(&tally, false, c->name, "cannot write the params map");
				continue;
			}
			run_case(s, "xdp_ops", c->name, &pk);
		}
	}
}

/* ---- xdp_csum cases ---------------------------------------------------------- */

static void run_csum_cases(struct side *s)
{
	static const uint32_t sizes[] = { 0, 1, 2, 3, 4, 5, 7, 8, 12, 20, 63, 64, 127 };
	static const uint32_t seeds[] = { 0, 0xffffffffu, 0x12345678u, 0xffff };
	static const uint32_t packet_part[] = { 0, 1, 6, 401, 600, 1023 };
	static struct packet pk;
	char name[96];
	make_packet(&pk, 1500);
	for (int mode = 0; mode < 4; mode++) {
		size_t to_count = mode == 3 ? sizeof(packet_part) / sizeof(packet_part[0]) : sizeof(sizes) / sizeof(sizes[0]);
		for (size_t fi = 0; fi < sizeof(sizes) / sizeof(sizes[0]); fi += mode == 1 ? 100 : 1) {
			for (size_t ti = 0; ti < to_count; ti += mode == 2 ? 100 : 3) {
				for (size_t si = 0; si < sizeof(seeds) / sizeof(seeds[0]); si++) {
					uint32_t to = mode == 3 ? packet_part[ti] : sizes[ti];
					struct params p = { .op = { (uint64_t)mode }, .a = { sizes[fi] }, .b = { to },
							    .action = seeds[si] };
					if (side_update(s, "params", 0, &p))
						continue;
					snprintf(name, sizeof(name), "mode%d-from%u-to%u-seed%#x", mode, sizes[fi], to,
						 seeds[si]);
					run_case(s, "xdp_csum", name, &pk);
				}
			}
		}
	}
}

/* ---- xdp_redirect cases ------------------------------------------------------- */

struct redirect_case {
	const char *name;
	struct rparams p;
};

#define F_INGRESS 1ull
#define F_BROADCAST 8ull
#define F_EXCLUDE 16ull

static const struct redirect_case redirect_cases[] = {
	{ "ifindex", { 0, 5, 0 } },
	{ "ifindex-flag-ingress", { 0, 5, F_INGRESS } },
	{ "ifindex-flag-broadcast", { 0, 5, F_BROADCAST } },
	{ "devmap-hit", { 1, 1, 0 } },
	{ "devmap-hit-fallback-bits", { 1, 1, 2 } },
	{ "devmap-miss", { 1, 2, 0 } },
	{ "devmap-miss-drop", { 1, 2, 1 } },
	{ "devmap-miss-pass", { 1, 2, 2 } },
	{ "devmap-miss-tx", { 1, 2, 3 } },
	{ "devmap-out-of-range-pass", { 1, 100, 2 } },
	{ "devmap-flag-4", { 1, 1, 4 } },
	{ "devmap-flag-ingress-bit", { 1, 2, F_INGRESS | 2 } },
	{ "devmap-broadcast-miss", { 1, 2, F_BROADCAST } },
	{ "devmap-broadcast-exclude", { 1, 1, F_BROADCAST | F_EXCLUDE } },
	{ "devmap-exclude-only-miss", { 1, 2, F_EXCLUDE | 2 } },
	{ "devmap-flag-32", { 1, 1, 32 } },
	{ "devmap-key-high-bits", { 1, (1ull << 32) | 1, 0 } },
	{ "devmap-hash-hit", { 2, 7, 0 } },
	{ "devmap-hash-miss-pass", { 2, 8, 2 } },
	{ "devmap-hash-broadcast", { 2, 8, F_BROADCAST | 1 } },
	{ "cpumap-hit", { 3, 0, 0 } },
	{ "cpumap-miss-tx", { 3, 1, 3 } },
	{ "cpumap-out-of-range-drop", { 3, 9, 1 } },
	{ "cpumap-broadcast", { 3, 0, F_BROADCAST } },
	{ "xskmap-miss", { 4, 0, 0 } },
	{ "xskmap-miss-pass", { 4, 0, 2 } },
	{ "xskmap-broadcast", { 4, 0, F_BROADCAST | 2 } },
};

static int fill_redirect_maps(struct side *s)
{
	uint32_t lo = 1, qsize = 64;
	struct bpf_devmap_val val = { .ifindex = 1 };
	if (side_update(s, "devs", 1, &lo) || side_update(s, "devs_hash", 7, &val) ||
	    side_update(s, "cpus", 0, &qsize))
		return -1;
	return 0;
}

static void run_redirect_cases(struct side *s)
{
	static struct packet pk;
	if (fill_redirect_maps(s)) {
		kernel_tally_report(&tally, false, "xdp_redirect", "cannot fill the redirect maps");
		return;
	}
	for (size_t ci = 0; ci < sizeof(redirect_cases) / sizeof(redirect_cases[0]); ci++) {
		const struct redirect_case *c = &redirect_cases[ci];
		if (side_update(s, "rparams", 0, &c->p)) {
			kernel_tally_report(&tally, false, c->name, "cannot write the rparams map");
			continue;
		}
		for (size_t len = 60; len <= 1500; len += 1440) {
			make_packet(&pk, len);
			run_case(s, "xdp_redirect", c->name, &pk);
		}
	}
}

/* ---- main ----------------------------------------------------------------------- */

static int with_object(const char *dir, const char *file, void (*cases)(struct side *))
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	struct side s;
	int rc = side_open(&s, path);
	if (rc == 0)
		cases(&s);
	else if (rc < 0)
		tally.failed++;
	side_close(&s);
	return rc;
}

static int print_nothing(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int main(int argc, char **argv)
{
	int argi = 1;
	if (argi < argc && strcmp(argv[argi], "-v") == 0) {
		tally.verbose = true;
		argi++;
	}
	if (argi >= argc) {
		fprintf(stderr, "usage: kernel-xdp [-v] DIR\n");
		return 2;
	}
	if (!tally.verbose)
		libbpf_set_print(print_nothing);
	const char *dir = argv[argi];
	if (with_object(dir, "xdp_helpers.bpf.o", run_ops_cases) == 1) {
		printf("kernel-xdp: skipped (bpf() is not permitted here)\n");
		printf("kernel-xdp: 0 passed, 0 failed\n");
		return 0;
	}
	with_object(dir, "xdp_helpers.bpf.o", run_csum_cases);
	with_object(dir, "xdp_helpers_redirect.bpf.o", run_redirect_cases);
	printf("kernel-xdp: %d passed, %d failed\n", tally.passed, tally.failed);
	return tally.failed ? 1 : 0;
}
