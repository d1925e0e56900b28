/* src/helpers/ringbuf_helpers.c - ring buffer and dynptr helpers:
 * bpf_ringbuf_output/reserve/submit/discard/query, the ringbuf dynptr
 * variants, bpf_dynptr_from_mem/read/write/data, bpf_user_ringbuf_drain and
 * bpf_perf_event_output.
 *
 * The fast engine trusts its (verified) programs, as the kernel does. The
 * checked engine validates what a program hands over: maps through
 * helper_map_arg, memory through comb_call_check_mem, samples by finding
 * them BUSY in one of the program's ring buffers, and dynptrs by checking
 * both the dynptr itself and the memory it describes; invalid arguments get
 * -EINVAL / -EFAULT (or are ignored, for the void helpers).
 *
 * A dynptr has the kernel's layout (struct bpf_dynptr_kern): data pointer,
 * u32 size (low 24 bits) | type << 28 | read-only bit 31, u32 offset. The
 * dynptr bpf_user_ringbuf_drain hands its callback lives on this helper's C
 * stack; the thread remembers it (drain_dynptr) so the checked engine can
 * recognise it in the dynptr helpers the callback calls.
 */
#include <errno.h>
#include <string.h>

#include "comb/ringbuf.h"
#include "helpers/helpers.h"
#include "maps/internal.h"
#include "maps/ring.h"
#include "vm/internal.h"

enum {
	HELPER_PERF_EVENT_OUTPUT = 25, HELPER_RINGBUF_OUTPUT = 130, HELPER_RINGBUF_RESERVE = 131,
	HELPER_RINGBUF_SUBMIT = 132, HELPER_RINGBUF_DISCARD = 133, HELPER_RINGBUF_QUERY = 134,
	HELPER_DYNPTR_FROM_MEM = 197, HELPER_RINGBUF_RESERVE_DYNPTR = 198,
	HELPER_RINGBUF_SUBMIT_DYNPTR = 199, HELPER_RINGBUF_DISCARD_DYNPTR = 200, HELPER_DYNPTR_READ = 201,
	HELPER_DYNPTR_WRITE = 202, HELPER_DYNPTR_DATA = 203, HELPER_USER_RINGBUF_DRAIN = 209,
};

#define DYNPTR_SIZE_MASK   0xffffffu
#define DYNPTR_TYPE_SHIFT  28
#define DYNPTR_RDONLY_BIT  (1u << 31)
#define DYNPTR_TYPE_LOCAL  1u
#define DYNPTR_TYPE_RINGBUF 2u

struct dynptr {
	uint8_t *data;
	uint32_t size;   /* size | type << 28 | rdonly */
	uint32_t offset;
};

static __thread const struct dynptr *drain_dynptr;

static uint64_t errno_value(int rc)
{
	return (uint64_t)(int64_t)rc;
}

static bool checked(const struct comb_call_ctx *cc)
{
	return cc->run && cc->run->checked;
}

static uint32_t dynptr_size(const struct dynptr *d)
{
	return d->size & DYNPTR_SIZE_MASK;
}

static uint32_t dynptr_type(const struct dynptr *d)
{
	return (d->size >> DYNPTR_TYPE_SHIFT) & 7;
}

static void dynptr_init(struct dynptr *d, void *data, uint32_t type, uint32_t size)
{
	*d = (struct dynptr){ .data = data, .size = size | type << DYNPTR_TYPE_SHIFT, .offset = 0 };
}

static void dynptr_set_null(struct dynptr *d)
{
	memset(d, 0, sizeof(*d));
}

/* The dynptr at reg, or NULL if a checked run may not use it. */
static struct dynptr *dynptr_arg(const struct comb_call_ctx *cc, uint64_t reg, bool write_struct)
{
	struct dynptr *d = (struct dynptr *)(uintptr_t)reg;
	if (!checked(cc) || d == drain_dynptr)
		return d;
	if (comb_call_check_mem(cc, d, sizeof(*d), write_struct))
		return NULL;
	if (dynptr_size(d) &&
	    comb_call_check_mem(cc, d->data + d->offset, dynptr_size(d), !(d->size & DYNPTR_RDONLY_BIT)))
		return NULL;
	return d;
}

/* Checked runs: is sample a reserved (BUSY) record of one of the program's
 * ring buffers? */
static bool sample_valid(const struct comb_call_ctx *cc, const void *sample)
{
	if (!checked(cc))
		return sample != NULL;
	const struct comb_prog *prog = cc->prog;
	uint64_t addr = (uint64_t)(uintptr_t)sample;
	for (size_t i = 0; i < prog->map_count; i++) {
		const struct comb_map *map = prog->maps[i];
		if (map->info.type != COMB_MAP_RINGBUF || !map->family)
			continue;
		const struct ring *ring = map->family;
		uint64_t base = (uint64_t)(uintptr_t)ring->data;
		if (addr < base + RING_HDR_SIZE || addr >= base + ring->mask + 1 + RING_HDR_SIZE || addr % 8)
			continue;
		const struct ring_record_hdr *hdr = (const struct ring_record_hdr *)sample - 1;
		return (hdr->len & RING_BUSY_BIT) && ring_of_record(hdr) == ring;
	}
	return false;
}

static struct comb_map *ringbuf_map_arg(const struct comb_call_ctx *cc, uint64_t reg, uint32_t type)
{
	struct comb_map *map = helper_map_arg(cc, reg);
	return map && map->info.type == type ? map : NULL;
}

static uint64_t helper_ringbuf_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				      struct comb_call_ctx *cc)
{
	struct comb_map *map = ringbuf_map_arg(cc, r1, COMB_MAP_RINGBUF);
	const void *data = (const void *)(uintptr_t)r2;
	if (!map)
		return errno_value(-EINVAL);
	if (comb_call_check_mem(cc, data, r3, false))
		return errno_value(-EFAULT);
	return errno_value(comb_ringbuf_output(map, data, r3, r4));
}

static uint64_t helper_ringbuf_reserve(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	struct comb_map *map = ringbuf_map_arg(cc, r1, COMB_MAP_RINGBUF);
	return map ? (uint64_t)(uintptr_t)comb_ringbuf_reserve(map, r2, r3) : 0;
}

static uint64_t helper_ringbuf_submit(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				      struct comb_call_ctx *cc)
{
	void *sample = (void *)(uintptr_t)r1;
	if (sample_valid(cc, sample))
		comb_ringbuf_submit(sample, r2);
	return 0;
}

static uint64_t helper_ringbuf_discard(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	void *sample = (void *)(uintptr_t)r1;
	if (sample_valid(cc, sample))
		comb_ringbuf_discard(sample, r2);
	return 0;
}

static uint64_t helper_ringbuf_query(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				     struct comb_call_ctx *cc)
{
	struct comb_map *map = ringbuf_map_arg(cc, r1, COMB_MAP_RINGBUF);
	return map ? comb_ringbuf_query(map, r2) : 0;
}

static uint64_t helper_ringbuf_reserve_dynptr(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					      uint64_t r5, struct comb_call_ctx *cc)
{
	struct comb_map *map = ringbuf_map_arg(cc, r1, COMB_MAP_RINGBUF);
	struct dynptr *d = (struct dynptr *)(uintptr_t)r4;
	if (checked(cc) && comb_call_check_mem(cc, d, sizeof(*d), true))
		return errno_value(-EFAULT);
	dynptr_set_null(d);
	if (!map || r3)
		return errno_value(-EINVAL);
	if (r2 > DYNPTR_SIZE_MASK)
		return errno_value(-E2BIG);
	void *sample = comb_ringbuf_reserve(map, r2, 0);
	if (!sample)
		return errno_value(-EAGAIN);
	dynptr_init(d, sample, DYNPTR_TYPE_RINGBUF, (uint32_t)r2);
	return 0;
}

static void commit_dynptr(struct comb_call_ctx *cc, uint64_t reg, uint64_t flags, bool discard)
{
	struct dynptr *d = (struct dynptr *)(uintptr_t)reg;
	if (checked(cc) && comb_call_check_mem(cc, d, sizeof(*d), true))
		return;
	if (!d->data || dynptr_type(d) != DYNPTR_TYPE_RINGBUF || !sample_valid(cc, d->data))
		return;
	if (discard)
		comb_ringbuf_discard(d->data, flags);
	else
		comb_ringbuf_submit(d->data, flags);
	dynptr_set_null(d);
}

static uint64_t helper_ringbuf_submit_dynptr(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					     uint64_t r5, struct comb_call_ctx *cc)
{
	commit_dynptr(cc, r1, r2, false);
	return 0;
}

static uint64_t helper_ringbuf_discard_dynptr(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					      uint64_t r5, struct comb_call_ctx *cc)
{
	commit_dynptr(cc, r1, r2, true);
	return 0;
}

static uint64_t helper_dynptr_from_mem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	struct dynptr *d = (struct dynptr *)(uintptr_t)r4;
	void *data = (void *)(uintptr_t)r1;
	if (checked(cc) && comb_call_check_mem(cc, d, sizeof(*d), true))
		return errno_value(-EFAULT);
	dynptr_set_null(d);
	if (r2 > DYNPTR_SIZE_MASK)
		return errno_value(-E2BIG);
	if (r3)
		return errno_value(-EINVAL);
	if (comb_call_check_mem(cc, data, r2, true))
		return errno_value(-EFAULT);
	dynptr_init(d, data, DYNPTR_TYPE_LOCAL, (uint32_t)r2);
	return 0;
}

/* 0 if [offset, offset + len) lies in the dynptr, else -E2BIG. */
static int dynptr_check_range(const struct dynptr *d, uint64_t offset, uint64_t len)
{
	return offset + len > dynptr_size(d) ? -E2BIG : 0;
}

static uint64_t helper_dynptr_read(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				   struct comb_call_ctx *cc)
{
	void *dst = (void *)(uintptr_t)r1;
	const struct dynptr *src = dynptr_arg(cc, r3, false);
	if (!src || !src->data || r5)
		return errno_value(-EINVAL);
	if (comb_call_check_mem(cc, dst, (uint32_t)r2, true))
		return errno_value(-EFAULT);
	int rc = dynptr_check_range(src, (uint32_t)r4, (uint32_t)r2);
	if (rc)
		return errno_value(rc);
	memmove(dst, src->data + src->offset + (uint32_t)r4, (uint32_t)r2);
	return 0;
}

static uint64_t helper_dynptr_write(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				    struct comb_call_ctx *cc)
{
	const struct dynptr *dst = dynptr_arg(cc, r1, false);
	const void *src = (const void *)(uintptr_t)r3;
	if (!dst || !dst->data || (dst->size & DYNPTR_RDONLY_BIT) || r5)
		return errno_value(-EINVAL);
	if (comb_call_check_mem(cc, src, (uint32_t)r4, false))
		return errno_value(-EFAULT);
	int rc = dynptr_check_range(dst, (uint32_t)r2, (uint32_t)r4);
	if (rc)
		return errno_value(rc);
	memmove(dst->data + dst->offset + (uint32_t)r2, src, (uint32_t)r4);
	return 0;
}

static uint64_t helper_dynptr_data(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				   struct comb_call_ctx *cc)
{
	const struct dynptr *d = dynptr_arg(cc, r1, false);
	if (!d || !d->data || (d->size & DYNPTR_RDONLY_BIT) || dynptr_check_range(d, (uint32_t)r2, (uint32_t)r3))
		return 0;
	return (uint64_t)(uintptr_t)(d->data + d->offset + (uint32_t)r2);
}

struct drain_call {
	struct comb_call_ctx *cc;
	uint64_t fn, ctx;
};

static int drain_one(void *ctx, void *sample, uint32_t size)
{
	struct drain_call *dc = ctx;
	struct dynptr d;
	dynptr_init(&d, sample, DYNPTR_TYPE_LOCAL, size);
	const struct dynptr *outer = drain_dynptr;
	drain_dynptr = &d;
	uint64_t r0 = 0;
	int rc = comb_call_callback(dc->cc, dc->fn, (uint64_t)(uintptr_t)&d, dc->ctx, 0, 0, 0, &r0);
	drain_dynptr = outer;
	if (rc)
		return rc;
	return r0 ? 1 : 0;
}

static uint64_t helper_user_ringbuf_drain(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
					  struct comb_call_ctx *cc)
{
	struct comb_map *map = ringbuf_map_arg(cc, r1, COMB_MAP_USER_RINGBUF);
	if (!map)
		return errno_value(-EINVAL);
	struct drain_call dc = { .cc = cc, .fn = r2, .ctx = r3 };
	return errno_value((int)user_ringbuf_drain(map, drain_one, &dc, r4));
}

static uint64_t helper_perf_event_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
					 struct comb_call_ctx *cc)
{
	struct comb_map *map = ringbuf_map_arg(cc, r2, COMB_MAP_PERF_EVENT_ARRAY);
	const void *data = (const void *)(uintptr_t)r4;
	if (!map)
		return errno_value(-EINVAL);
	if (comb_call_check_mem(cc, data, r5, false))
		return errno_value(-EFAULT);
	return errno_value(comb_perf_event_output(map, r3, data, r5));
}

int comb_register_ringbuf_helpers(struct comb_vm *vm)
{
	static const struct {
		uint32_t id;
		const char *name;
		comb_helper_fn fn;
	} table[] = {
		{ HELPER_PERF_EVENT_OUTPUT, "perf_event_output", helper_perf_event_output },
		{ HELPER_RINGBUF_OUTPUT, "ringbuf_output", helper_ringbuf_output },
		{ HELPER_RINGBUF_RESERVE, "ringbuf_reserve", helper_ringbuf_reserve },
		{ HELPER_RINGBUF_SUBMIT, "ringbuf_submit", helper_ringbuf_submit },
		{ HELPER_RINGBUF_DISCARD, "ringbuf_discard", helper_ringbuf_discard },
		{ HELPER_RINGBUF_QUERY, "ringbuf_query", helper_ringbuf_query },
		{ HELPER_DYNPTR_FROM_MEM, "dynptr_from_mem", helper_dynptr_from_mem },
		{ HELPER_RINGBUF_RESERVE_DYNPTR, "ringbuf_reserve_dynptr", helper_ringbuf_reserve_dynptr },
		{ HELPER_RINGBUF_SUBMIT_DYNPTR, "ringbuf_submit_dynptr", helper_ringbuf_submit_dynptr },
		{ HELPER_RINGBUF_DISCARD_DYNPTR, "ringbuf_discard_dynptr", helper_ringbuf_discard_dynptr },
		{ HELPER_DYNPTR_READ, "dynptr_read", helper_dynptr_read },
		{ HELPER_DYNPTR_WRITE, "dynptr_write", helper_dynptr_write },
		{ HELPER_DYNPTR_DATA, "dynptr_data", helper_dynptr_data },
		{ HELPER_USER_RINGBUF_DRAIN, "user_ringbuf_drain", helper_user_ringbuf_drain },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int rc = comb_vm_register_helper(vm, table[i].id, table[i].name, table[i].fn);
		if (rc)
			return rc;
	}
	return 0;
}
