/* src/hooks/xdp/live.h - what the live port backends share.
 *
 * live_port.c holds struct comb_xdp_port and the public entry points; each
 * backend (live_afpacket.c, live_tap.c, live_xsk.c) fills in the common
 * fields and a table of operations with its private state behind impl.
 * Errors are formatted once, by live_error(), as "KIND NAME: step: reason".
 */
#ifndef COMB_HOOKS_XDP_LIVE_H
#define COMB_HOOKS_XDP_LIVE_H

#include <net/if.h>
#include <stdbool.h>

#include "comb/xdp_live.h"

struct live_port_ops {
	int (*receive)(struct comb_xdp_port *port, unsigned max, comb_xdp_port_rx_fn fn, void *user);
	int (*send)(struct comb_xdp_port *port, const void *frame, size_t len);
	int (*flush)(struct comb_xdp_port *port);
	void (*read_kernel_stats)(struct comb_xdp_port *port); /* may be NULL */
	void (*close)(struct comb_xdp_port *port);
};

struct comb_xdp_port {
	enum comb_xdp_port_kind kind;
	char name[IF_NAMESIZE];
	uint32_t ifindex;
	uint32_t queue;
	int fd;            /* the descriptor to poll; -1 when send-only */
	char mode[40];     /* AF_XDP attach mode, for messages */
	struct comb_xdp_port_stats stats;
	const struct live_port_ops *ops;
	void *impl;
};

/* Backends: fill *port (allocated and zeroed by the caller, fd -1, name and
 * kind set) or return -errno with err filled. */
int live_afpacket_open(struct comb_xdp_port *port, const struct comb_xdp_port_opts *opts, char *err,
		       size_t err_len);
int live_tap_open(struct comb_xdp_port *port, const struct comb_xdp_port_opts *opts, char *err,
		  size_t err_len);
int live_xsk_open(struct comb_xdp_port *port, const struct comb_xdp_port_opts *opts, char *err,
		  size_t err_len);

/* "AF_PACKET eth0: STEP: strerror(-rc)" into err; returns rc (negative errno). */
int live_error(const struct comb_xdp_port *port, char *err, size_t err_len, int rc, const char *step);

/* Bring an interface up (SIOCSIFFLAGS); 0 or -errno. */
int live_set_up(const char *name);

#endif
