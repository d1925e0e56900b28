/* src/hooks/xdp/runner.c - comb_xdp: run an XDP program packet by packet.
 *
 * The runner owns one frame mapped below 4 GiB (struct xdp_md's data fields
 * are 32 bits wide and hold real addresses) and reuses it for every packet:
 * copy the packet in after COMB_XDP_HEADROOM bytes, fill the context, run,
 * report. Only a packet too large for the current frame makes it map a larger
 * one, so the steady state costs one copy and one run per packet.
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
#include "vm/internal.h"

#define XDP_MAX_PACKET 65535
#define PROG_TYPE_XDP 6

struct comb_xdp {
	const struct comb_prog *prog;
	struct comb_xdp_opts opts;
	uint8_t *frame;
	size_t frame_size;
	struct xdp_frame_state state;
	struct comb_run_opts run_opts;
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

/* Make the frame at least big enough for a packet of len bytes. */
static int frame_reserve(struct comb_xdp *x, size_t len)
{
	size_t size = frame_size_for(len);
	if (x->frame && x->frame_size >= size)
		return 0;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	if (x->frame)
		munmap(x->frame, x->frame_size);
	x->frame = p;
	x->frame_size = size;
	return 0;
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
	int rc = frame_reserve(x, 0);
	if (rc) {
		free(x);
		return rc;
	}
	x->state.magic = XDP_FRAME_MAGIC;
	x->state.fib = x->opts.fib;
	*out = x;
	return 0;
}

void comb_xdp_free(struct comb_xdp *x)
{
	if (!x)
		return;
	if (x->frame)
		munmap(x->frame, x->frame_size);
	free(x);
}

/* Copy the packet in and reset the context and the redirect target. */
static void frame_fill(struct comb_xdp *x, const void *pkt, size_t len)
{
	struct xdp_frame_state *fs = &x->state;
	uint8_t *data = x->frame + COMB_XDP_HEADROOM;
	memcpy(data, pkt, len);
	fs->hard_start = x->frame;
	fs->hard_end = x->frame + x->frame_size - COMB_XDP_TAILROOM;
	fs->md = (struct xdp_md){
		.data = xdp_field(data), .data_end = xdp_field(data + len), .data_meta = xdp_field(data),
		.ingress_ifindex = x->opts.ingress_ifindex, .rx_queue_index = x->opts.rx_queue_index,
	};
	fs->target = (struct comb_xdp_target){ 0 };
}

int comb_xdp_run(struct comb_xdp *x, const void *pkt, size_t len, struct comb_xdp_result *res)
{
	if (!x || !res || (!pkt && len))
		return -EINVAL;
	/* Field by field: clearing the whole result (its 256-byte error message
	 * included) was a third of the per-packet cost of a trivial program. */
	res->action = COMB_XDP_ABORTED;
	res->retval = 0;
	res->data = NULL;
	res->len = res->meta_len = 0;
	res->target = (struct comb_xdp_target){ 0 };
	res->error.insn = -1;
	res->error.addr = 0;
	res->error.message[0] = 0;
	if (len < XDP_ETH_HLEN || len > XDP_MAX_PACKET) {
		snprintf(res->error.message, sizeof(res->error.message),
			 "xdp: a packet of %zu bytes (an XDP packet holds %d to %d bytes)", len, XDP_ETH_HLEN,
			 XDP_MAX_PACKET);
		return -EINVAL;
	}
	int rc = frame_reserve(x, len);
	if (rc)
		return rc;
	frame_fill(x, pkt, len);
	struct xdp_frame_state *fs = &x->state;
	struct comb_region regions[2] = {
		{ (uint64_t)(uintptr_t)&fs->md, sizeof(fs->md), false },
		{ fs->md.data, len, true }, /* the adjust helpers move it (xdp_sync_region) */
	};
	fs->packet_region = &regions[1];
	struct comb_run_opts ro = {
		.sz = sizeof(ro), .engine = x->opts.engine, .args = { (uint64_t)(uintptr_t)&fs->md },
		.user = x->opts.user, .regions = regions, .region_count = 2, .error = &res->error,
		.hook_data = fs,
	};
	rc = comb_prog_run(x->prog, &ro, &res->retval);
	fs->packet_region = NULL;
	uint8_t *data = xdp_ptr(fs->md.data), *end = xdp_ptr(fs->md.data_end), *meta = xdp_ptr(fs->md.data_meta);
	if (data < x->frame || end > x->frame + x->frame_size || data > end)
		data = end = x->frame + COMB_XDP_HEADROOM; /* a checked run cannot get here; be safe anyway */
	res->data = data;
	res->len = (size_t)(end - data);
	res->meta_len = meta >= x->frame && meta <= data ? (size_t)(data - meta) : 0;
	if (rc) {
		res->action = COMB_XDP_ABORTED;
		return rc;
	}
	res->action = res->retval <= COMB_XDP_REDIRECT ? (uint32_t)res->retval : COMB_XDP_ABORTED;
	if (res->action == COMB_XDP_REDIRECT)
		res->target = fs->target;
	return 0;
}
