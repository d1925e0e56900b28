/* src/hooks/xdp/runner.c - comb_xdp: run an XDP program packet by packet.
 *
 * The runner owns one frame mapped below 4 GiB (struct xdp_md's data fields
 * are 32 bits wide and hold real addresses) and reuses it for every packet:
 * copy the packet in after COMB_XDP_HEADROOM bytes, fill the context, run,
 * report. Only a packet too large for the current frame makes it map a larger
 * one, so the steady state costs one copy and one run per packet. The run
 * state is prepared once (comb_run_prepare, vm/internal.h) and only reset
 * per packet; a batch (comb_xdp_run_batch) gives each packet a frame of its
 * own, so every result stays readable until the next call, and claims the
 * per-CPU map slot once for the whole batch.
 *
 * The frame's hard limits follow the kernel's test run (and page-based
 * drivers): adjust_head/adjust_meta may not reach the first
 * XDP_FRAME_RESERVED bytes, and data_end may grow up to the frame's end less
 * COMB_XDP_TAILROOM. The checked engine may read the context and touch
 * [data_meta, data_end), which the adjust helpers keep up to date.
 */
#define _GNU_SOURCE /* MAP_32BIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hooks/xdp/internal.h"
#include "maps/internal.h"
#include "vm/internal.h"

#define XDP_MAX_PACKET 65535
#define PROG_TYPE_XDP 6

/* One packet buffer: headroom, packet, room to grow, tailroom. */
struct xdp_buf {
	uint8_t *frame;   /* map + colour */
	size_t size;      /* the frame's */
	uint8_t *map;     /* the mapping, for munmap */
	size_t map_size;
	size_t colour;    /* the frame's offset in its mapping, a multiple of 64 */
};

struct comb_xdp {
	const struct comb_prog *prog;
	struct comb_xdp_opts opts;
	struct xdp_buf bufs[COMB_XDP_BATCH_MAX]; /* bufs[0]: comb_xdp_run; a batch: one per packet */
	struct xdp_frame_state state;
	struct comb_region regions[2];           /* the checked engine's: context, packet */
	struct comb_prepared_run run;
};

static const char *const action_names[COMB_XDP_ACTION_COUNT] = {
	"ABORTED", "DROP", "PASS", "TX", "REDIRECT",
};

const char *comb_xdp_action_name(uint32_t action)
{
	return action < COMB_XDP_ACTION_COUNT ? action_names[action] : NULL;
}

static size_t frame_size_for(size_t len)
{
	size_t need = COMB_XDP_HEADROOM + len + COMB_XDP_TAILROOM;
	if (need <= COMB_XDP_FRAME_SIZE)
		return COMB_XDP_FRAME_SIZE;
	return (need + COMB_XDP_FRAME_SIZE - 1) / COMB_XDP_FRAME_SIZE * COMB_XDP_FRAME_SIZE;
}

/* Make the buffer's frame at least big enough for a packet of len bytes. */
static int frame_reserve(struct xdp_buf *b, size_t len)
{
	size_t size = frame_size_for(len);
	if (b->frame && b->size >= size)
		return 0;
	size_t map_size = size + (b->colour ? COMB_XDP_FRAME_SIZE : 0);
	void *p = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	if (b->map)
		munmap(b->map, b->map_size);
	b->map = p;
	b->map_size = map_size;
	b->frame = b->map + b->colour;
	b->size = size;
	return 0;
}

/* The run state, prepared once: r1 is the context, helpers find the frame
 * state as hook data, the checked engine may touch the context and the
 * packet (regions[1], kept current by xdp_sync_region). */
static int prepare_run(struct comb_xdp *x)
{
	struct xdp_frame_state *fs = &x->state;
	x->regions[0] = (struct comb_region){ (uint64_t)(uintptr_t)&fs->md, sizeof(fs->md), false };
	x->regions[1] = (struct comb_region){ 0, 0, true };
	struct comb_run_opts ro = {
		.sz = sizeof(ro), .engine = x->opts.engine, .args = { (uint64_t)(uintptr_t)&fs->md },
		.user = x->opts.user, .regions = x->regions, .region_count = 2, .hook_data = fs,
	};
	return comb_run_prepare(&x->run, x->prog, &ro);
}

int comb_xdp_new(const struct comb_prog *prog, const struct comb_xdp_opts *opts, struct comb_xdp **out)
{
	if (!prog || !out)
		return -EINVAL;
	*out = NULL;
	if (prog->prog_type != PROG_TYPE_XDP && prog->prog_type != 0)
		return -EINVAL;
	struct comb_xdp *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->prog = prog;
	x->opts.sz = sizeof(x->opts);
	if (opts) {
		if (opts->sz < offsetof(struct comb_xdp_opts, engine) + sizeof(opts->engine)) {
			free(x);
			return -EINVAL;
		}
		memcpy(&x->opts, opts, opts->sz < sizeof(x->opts) ? opts->sz : sizeof(x->opts));
		x->opts.sz = sizeof(x->opts);
	}
	if (!x->opts.ingress_ifindex)
		x->opts.ingress_ifindex = 1;
	x->state.magic = XDP_FRAME_MAGIC;
	x->state.fib = x->opts.fib;
	/* A batch's frames start at different offsets within their pages
	 * (bufs[0], comb_xdp_run's, on a page boundary like the kernel's):
	 * with every packet at the same page offset, 64 frames compete for
	 * one set of the L1 cache. */
	for (size_t i = 0; i < COMB_XDP_BATCH_MAX; i++)
		x->bufs[i].colour = i * 64 % COMB_XDP_FRAME_SIZE;
	int rc = prepare_run(x);
	if (!rc)
		rc = frame_reserve(&x->bufs[0], 0);
	if (rc) {
		free(x);
		return rc;
	}
	*out = x;
	return 0;
}

void comb_xdp_free(struct comb_xdp *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < COMB_XDP_BATCH_MAX; i++)
		if (x->bufs[i].map)
			munmap(x->bufs[i].map, x->bufs[i].map_size);
	free(x);
}

/* Copy the packet in and reset the context and the redirect target. */
static void frame_fill(struct comb_xdp *x, struct xdp_buf *b, const void *pkt, size_t len)
{
	struct xdp_frame_state *fs = &x->state;
	uint8_t *data = b->frame + COMB_XDP_HEADROOM;
	memcpy(data, pkt, len);
	fs->hard_start = b->frame;
	fs->hard_end = b->frame + b->size - COMB_XDP_TAILROOM;
	fs->md = (struct xdp_md){
		.data = xdp_field(data), .data_end = xdp_field(data + len), .data_meta = xdp_field(data),
		.ingress_ifindex = x->opts.ingress_ifindex, .rx_queue_index = x->opts.rx_queue_index,
	};
	fs->target = (struct comb_xdp_target){ 0 };
}

/* Field by field: clearing the whole result (its 256-byte error message
 * included) was a third of the per-packet cost of a trivial program. */
static void result_reset(struct comb_xdp_result *res)
{
	res->action = COMB_XDP_ABORTED;
	res->retval = 0;
	res->data = NULL;
	res->len = res->meta_len = 0;
	res->target = (struct comb_xdp_target){ 0 };
	res->error.insn = -1;
	res->error.addr = 0;
	res->error.message[0] = 0;
}

/* Where the program left the packet, and its verdict. */
static int result_fill(struct comb_xdp *x, struct xdp_buf *b, int rc, struct comb_xdp_result *res)
{
	struct xdp_frame_state *fs = &x->state;
	uint8_t *data = xdp_ptr(fs->md.data), *end = xdp_ptr(fs->md.data_end), *meta = xdp_ptr(fs->md.data_meta);
	if (data < b->frame || end > b->frame + b->size || data > end)
		data = end = b->frame + COMB_XDP_HEADROOM; /* a checked run cannot get here; be safe anyway */
	res->data = data;
	res->len = (size_t)(end - data);
	res->meta_len = meta >= b->frame && meta <= data ? (size_t)(data - meta) : 0;
	if (rc) {
		res->action = COMB_XDP_ABORTED;
		return rc;
	}
	res->action = res->retval <= COMB_XDP_REDIRECT ? (uint32_t)res->retval : COMB_XDP_ABORTED;
	if (res->action == COMB_XDP_REDIRECT)
		res->target = fs->target;
	return 0;
}

/* One packet in buffer b; the caller holds the per-CPU slot if needed. */
static int run_one(struct comb_xdp *x, struct xdp_buf *b, const void *pkt, size_t len, struct comb_xdp_result *res)
{
	result_reset(res);
	if (len < XDP_ETH_HLEN || len > XDP_MAX_PACKET || (!pkt && len)) {
		snprintf(res->error.message, sizeof(res->error.message),
			 "xdp: a packet of %zu bytes (an XDP packet holds %d to %d bytes)", len, XDP_ETH_HLEN,
			 XDP_MAX_PACKET);
		return -EINVAL;
	}
	if (b->size < COMB_XDP_HEADROOM + len + COMB_XDP_TAILROOM) {
		int rc = frame_reserve(b, len);
		if (rc)
			return rc;
	}
	frame_fill(x, b, pkt, len);
	struct xdp_frame_state *fs = &x->state;
	fs->packet_region = NULL;
	if (comb_run_is_checked(&x->run)) {
		x->regions[1] = (struct comb_region){ fs->md.data, len, true };
		fs->packet_region = &x->regions[1]; /* the adjust helpers move it (xdp_sync_region) */
	}
	x->run.opts.error = &res->error;
	int rc = comb_run_start(&x->run, &res->retval);
	return result_fill(x, b, rc, res);
}

int comb_xdp_run(struct comb_xdp *x, const void *pkt, size_t len, struct comb_xdp_result *res)
{
	if (!x || !res || (!pkt && len))
		return -EINVAL;
	/* No two runs at the same time share a per-CPU slot (see maps/region.c). */
	if (!x->prog->needs_cpu_slot)
		return run_one(x, &x->bufs[0], pkt, len, res);
	comb_percpu_slot_enter();
	int rc = run_one(x, &x->bufs[0], pkt, len, res);
	comb_percpu_slot_leave();
	return rc;
}

int comb_xdp_set_ingress(struct comb_xdp *x, uint32_t ingress_ifindex, uint32_t rx_queue_index)
{
	if (!x)
		return -EINVAL;
	x->opts.ingress_ifindex = ingress_ifindex ? ingress_ifindex : 1;
	x->opts.rx_queue_index = rx_queue_index;
	return 0;
}

int comb_xdp_run_batch(struct comb_xdp *x, const void *const *pkts, const size_t *lens, size_t n,
		       struct comb_xdp_result *results, int *rcs)
{
	if (!x || !pkts || !lens || !results || n > COMB_XDP_BATCH_MAX)
		return -EINVAL;
	bool slot = x->prog->needs_cpu_slot;
	if (slot)
		comb_percpu_slot_enter();
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		int rc = run_one(x, &x->bufs[i], pkts[i], lens[i], &results[i]);
		if (rcs)
			rcs[i] = rc;
		failed += rc != 0;
	}
	if (slot)
		comb_percpu_slot_leave();
	return failed;
}
