/* src/hooks/xdp/internal.h - the XDP runner's per-packet state, shared by
 * the runner (runner.c) and the XDP helpers (helpers.c, fib.c).
 *
 * struct xdp_frame_state plays the part of the kernel's struct xdp_buff: the
 * program's context (struct xdp_md, whose 32-bit data fields hold real
 * addresses because the frame is mapped below 4 GiB) plus the frame's hard
 * limits. The runner passes it as comb_run_opts.hook_data; a helper takes it
 * with xdp_frame_of(cc, r1), which also checks that r1 is its context.
 */
#ifndef COMB_HOOKS_XDP_INTERNAL_H
#define COMB_HOOKS_XDP_INTERNAL_H

#include <linux/bpf.h>
#include <stdint.h>

#include "comb/xdp.h"

/* sizeof(struct xdp_frame) in the kernel: the head of the headroom is
 * reserved for it, so adjust_head/adjust_meta cannot reach below it. */
#define XDP_FRAME_RESERVED 40
#define XDP_METADATA_MAX 255 /* Linux 6.18: skb_shared_info.meta_len is a u8 */
#define XDP_ETH_HLEN 14
#define XDP_FRAME_MAGIC 0x78647066u

struct xdp_frame_state {
	struct xdp_md md;         /* the program's context */
	uint32_t magic;           /* XDP_FRAME_MAGIC: hook_data of another hook is not ours */
	uint8_t *hard_start;      /* start of the headroom */
	uint8_t *hard_end;        /* data_end may grow up to here (tailroom excluded) */
	const struct comb_fib *fib;
	struct comb_xdp_target target; /* set by bpf_redirect / bpf_redirect_map */
	/* The checked engine's packet region (the runner's, for the current
	 * run): [data_meta, data_end), kept up to date by the adjust helpers. */
	struct comb_region *packet_region;
};

static inline uint8_t *xdp_ptr(uint32_t field)
{
	return (uint8_t *)(uintptr_t)field;
}

static inline uint32_t xdp_field(const uint8_t *p)
{
	return (uint32_t)(uintptr_t)p;
}

/* After data, data_meta or data_end moved: let a checked run reach exactly
 * [data_meta, data_end). */
static inline void xdp_sync_region(struct xdp_frame_state *fs)
{
	if (fs->packet_region) {
		fs->packet_region->addr = fs->md.data_meta;
		fs->packet_region->size = fs->md.data_end - fs->md.data_meta;
	}
}

/* The frame behind a helper's context argument, or NULL when the run is not
 * an XDP run or ctx is not its context. */
static inline struct xdp_frame_state *xdp_frame_of(const struct comb_call_ctx *cc, uint64_t ctx)
{
	struct xdp_frame_state *fs = comb_call_hook_data(cc);
	if (!fs || ctx != (uint64_t)(uintptr_t)&fs->md || fs->magic != XDP_FRAME_MAGIC)
		return NULL;
	return fs;
}

/* bpf_fib_lookup (fib.c), registered by comb_register_xdp_helpers (helpers.c). */
uint64_t comb_xdp_helper_fib_lookup(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				    struct comb_call_ctx *cc);

#endif
