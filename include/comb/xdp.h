/* comb/xdp.h - run XDP programs on packets in user space.
 *
 * A comb_xdp is a runner: one loaded XDP program plus a reusable packet
 * frame laid out as a page-based driver (and the kernel's
 * BPF_PROG_TEST_RUN) lays it out: 256 bytes of headroom, the packet, room to
 * grow, and 320 bytes of tailroom, 4096 bytes in all unless the packet needs
 * more. comb_xdp_run() copies a packet into the frame, builds struct xdp_md
 * (data, data_end, data_meta, ingress_ifindex, rx_queue_index,
 * egress_ifindex as linux/bpf.h declares them), runs the program and reports
 * the verdict, the packet as the program left it and, for XDP_REDIRECT, where
 * bpf_redirect()/bpf_redirect_map() sent it. The XDP helpers
 * (xdp_adjust_head/tail/meta, xdp_load/store_bytes, redirect, redirect_map,
 * fib_lookup) act on the runner's frame.
 *
 * A runner is not thread-safe: use one per thread (the program may be shared).
 */
#ifndef COMB_XDP_H
#define COMB_XDP_H

#include <stddef.h>
#include <stdint.h>
#include "vm.h"

#ifdef __cplusplus
extern "C" {
#endif

enum comb_xdp_action {
	COMB_XDP_ABORTED = 0,
	COMB_XDP_DROP = 1,
	COMB_XDP_PASS = 2,
	COMB_XDP_TX = 3,
	COMB_XDP_REDIRECT = 4,
};
#define COMB_XDP_ACTION_COUNT 5
/* "ABORTED", "DROP", "PASS", "TX", "REDIRECT"; NULL for other values. */
const char *comb_xdp_action_name(uint32_t action);

#define COMB_XDP_HEADROOM 256
#define COMB_XDP_TAILROOM 320
#define COMB_XDP_FRAME_SIZE 4096

/* Where an XDP_REDIRECT sends the packet. */
enum comb_xdp_target_kind {
	COMB_XDP_TARGET_NONE = 0, /* the program returned REDIRECT without a valid redirect call */
	COMB_XDP_TARGET_IFINDEX,  /* bpf_redirect(ifindex) */
	COMB_XDP_TARGET_DEVMAP,   /* bpf_redirect_map() on a DEVMAP or DEVMAP_HASH */
	COMB_XDP_TARGET_CPUMAP,
	COMB_XDP_TARGET_XSKMAP,
};
struct comb_map;
struct comb_xdp_target {
	enum comb_xdp_target_kind kind;
	uint32_t ifindex;            /* IFINDEX; DEVMAP: the entry's ifindex */
	const struct comb_map *map;  /* map targets */
	uint32_t key;                /* map targets: the key the program chose */
	/* DEVMAP: BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS as the program passed
	 * them; a broadcast goes to every entry of map (but the ingress
	 * interface with EXCLUDE_INGRESS), key need not exist. 0 otherwise. */
	uint64_t flags;
};

/* A static route table for bpf_fib_lookup(), read from a text file; see
 * comb_fib_parse() for the format. */
struct comb_fib;
/* Text format, one route per line (# starts a comment):
 *   PREFIX dev IFINDEX [via GATEWAY] [smac MAC] [dmac MAC] [mtu N] [metric N]
 * PREFIX is an IPv4 or IPv6 prefix (10.0.0.0/8, 2001:db8::/32, default);
 * the longest matching prefix wins. Without dmac the neighbour is unknown
 * (BPF_FIB_LKUP_RET_NO_NEIGH). mtu defaults to 1500, metric (what
 * rt_metric reports) to 0. Errors name the line. Returns 0 or -EINVAL. */
int comb_fib_parse(const char *text, size_t len, struct comb_fib **fib, char *err, size_t err_len);
int comb_fib_load(const char *path, struct comb_fib **fib, char *err, size_t err_len);
void comb_fib_free(struct comb_fib *fib);

struct comb_xdp_opts {
	size_t sz;                  /* sizeof(struct comb_xdp_opts) */
	enum comb_engine engine;    /* COMB_ENGINE_DEFAULT: comb_prog_default_engine() */
	uint32_t ingress_ifindex;   /* 0: 1 (lo) */
	uint32_t rx_queue_index;
	const struct comb_fib *fib; /* NULL: every fib_lookup is NOT_FWDED */
	void *user;                 /* handed to helpers as cc->run_user */
};

struct comb_xdp;
/* Returns 0 or a negative errno (-EINVAL: not an XDP program, bad opts). */
int comb_xdp_new(const struct comb_prog *prog, const struct comb_xdp_opts *opts, struct comb_xdp **xdp);
void comb_xdp_free(struct comb_xdp *xdp);

struct comb_xdp_result {
	uint32_t action;        /* the verdict; a return value above REDIRECT is ABORTED, as in the kernel */
	uint64_t retval;        /* r0 as the program returned it */
	const uint8_t *data;    /* the packet as the program left it; valid until the next run */
	size_t len;
	size_t meta_len;        /* bytes of metadata before data (bpf_xdp_adjust_meta) */
	struct comb_xdp_target target; /* REDIRECT only */
	struct comb_run_error error;   /* why a run failed */
};

/* Run the program on one packet. Returns 0, or a negative errno: -EINVAL
 * (packet shorter than an Ethernet header or longer than 65535 bytes) or the
 * run's error (then res->error says why and res->action is ABORTED). */
int comb_xdp_run(struct comb_xdp *xdp, const void *pkt, size_t len, struct comb_xdp_result *res);

/* Run the program on up to COMB_XDP_BATCH_MAX packets, one after the other
 * (as n calls of comb_xdp_run would), each in a frame of its own: every
 * results[i].data stays valid until the next run or batch. rcs (may be
 * NULL) gets each packet's return value as comb_xdp_run would give it.
 * Cheaper per packet than comb_xdp_run: a per-CPU map slot is claimed once
 * per batch. The frames start at different offsets within their pages (so
 * the packets do not all compete for one cache set); comb_xdp_run's frame
 * is page-aligned. Returns the number of packets whose run failed, or
 * -EINVAL (bad arguments, n > COMB_XDP_BATCH_MAX; nothing ran). */
#define COMB_XDP_BATCH_MAX 64
int comb_xdp_run_batch(struct comb_xdp *xdp, const void *const *pkts, const size_t *lens, size_t n,
		       struct comb_xdp_result *results, int *rcs);

/* Change the interface and queue the next packets arrive on (0: 1, lo),
 * without making a new runner. Returns 0 or -EINVAL. */
int comb_xdp_set_ingress(struct comb_xdp *xdp, uint32_t ingress_ifindex, uint32_t rx_queue_index);

/* The interfaces a broadcast REDIRECT (target->flags has BPF_F_BROADCAST,
 * 1 << 3) goes to: the ifindex of every entry of the DEVMAP / DEVMAP_HASH,
 * less ingress_ifindex when BPF_F_EXCLUDE_INGRESS (1 << 4) is set, as the
 * kernel's dev_map_enqueue_multi() does; their keys in keys (may be NULL).
 * Writes at most cap entries, returns how many there are (more than cap:
 * call again with more room), or -EINVAL when target is not a broadcast. */
int comb_xdp_broadcast_targets(const struct comb_xdp_target *target, uint32_t ingress_ifindex,
			       uint32_t *ifindexes, uint32_t *keys, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
