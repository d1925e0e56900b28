/* comb/xdp_live.h - live packet ports for XDP runners: AF_PACKET, TAP, AF_XDP.
 *
 * A comb_xdp_port is one place packets come from and go to: a network
 * interface seen through an AF_PACKET socket (TPACKET_V3 receive ring,
 * outgoing packets ignored), a TAP device, or an AF_XDP socket on one queue
 * of an interface (libxdp attaches its redirect program; comb_xdp_port_close
 * detaches it). Ports only move bytes: what a verdict means (forward, send
 * back, drop) is the caller's policy; `comb xdp --iface/--tap/--xsk` is one
 * such policy (tools/comb/cmd_xdp_live.c).
 *
 * Receiving is non-blocking and batched: comb_xdp_port_receive() hands every
 * packet that is ready (up to max) to a callback, with a pointer that is
 * valid only during the call (it points into the kernel's ring: copy what
 * you keep; comb_xdp_run() copies anyway). Wait for packets with poll() on
 * comb_xdp_port_fd(). Sending copies the frame: comb_xdp_port_send() queues
 * it, comb_xdp_port_flush() makes sure the kernel transmits what is queued
 * (AF_XDP batches; the others send at once).
 *
 * Ports are not thread-safe; use each from one thread.
 */
#ifndef COMB_XDP_LIVE_H
#define COMB_XDP_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#ifdef __cplusplus
extern "C" {
#endif

enum comb_xdp_port_kind {
	COMB_XDP_PORT_AFPACKET = 1,
	COMB_XDP_PORT_TAP,
	COMB_XDP_PORT_XSK,
};

enum comb_xdp_port_flags {
	/* AF_PACKET: receive every frame on the wire (promiscuous mode, undone
	 * when the port closes); a bridge needs it. */
	COMB_XDP_PORT_PROMISC = 1u << 0,
	/* AF_PACKET: only send, no receive ring (a redirect target). */
	COMB_XDP_PORT_SEND_ONLY = 1u << 1,
	/* AF_XDP: only generic (SKB) mode, copy mode; without it comb tries the
	 * driver's native mode first and falls back to generic. */
	COMB_XDP_PORT_XSK_GENERIC = 1u << 2,
};

struct comb_xdp_port_opts {
	size_t sz;          /* sizeof(struct comb_xdp_port_opts) */
	uint32_t flags;     /* enum comb_xdp_port_flags */
	uint32_t queue;     /* AF_XDP: the interface's receive queue */
	uint32_t ring_size; /* AF_XDP: descriptors per ring; AF_PACKET: ring blocks (0: default) */
};

struct comb_xdp_port_stats {
	uint64_t rx_packets;   /* handed to the callback */
	uint64_t tx_packets;   /* accepted by the kernel */
	uint64_t tx_errors;    /* frames the kernel refused (too long, link down, ring full) */
	uint64_t rx_truncated; /* received shorter than on the wire (AF_PACKET snap length) */
	uint64_t kernel_drops; /* AF_PACKET: PACKET_STATISTICS drops; AF_XDP: XDP_STATISTICS rx drops */
};

struct comb_xdp_port;

/* Open a port. name is an interface (AF_PACKET, AF_XDP) or a TAP device,
 * created if it does not exist (then brought up; it disappears when the
 * port closes). err (may be NULL) receives a message naming the interface
 * and the failing step. Returns 0 or a negative errno. */
int comb_xdp_port_open(enum comb_xdp_port_kind kind, const char *name,
		       const struct comb_xdp_port_opts *opts, struct comb_xdp_port **port,
		       char *err, size_t err_len);
/* An AF_PACKET port that only sends, by ifindex (for redirect targets). */
int comb_xdp_port_open_ifindex(uint32_t ifindex, struct comb_xdp_port **port, char *err,
			       size_t err_len);
/* Close the port; AF_XDP also detaches the XDP program libxdp attached. */
void comb_xdp_port_close(struct comb_xdp_port *port);

enum comb_xdp_port_kind comb_xdp_port_kind(const struct comb_xdp_port *port);
const char *comb_xdp_port_name(const struct comb_xdp_port *port);
uint32_t comb_xdp_port_ifindex(const struct comb_xdp_port *port);
uint32_t comb_xdp_port_queue(const struct comb_xdp_port *port);
/* The descriptor to poll() for POLLIN; -1 for a send-only port. */
int comb_xdp_port_fd(const struct comb_xdp_port *port);
/* AF_XDP: "native, zero-copy", "generic, copy", ...; others: "". */
const char *comb_xdp_port_mode(const struct comb_xdp_port *port);

/* Called for each received packet; a non-zero return stops the batch and
 * is returned by comb_xdp_port_receive(). */
typedef int (*comb_xdp_port_rx_fn)(void *user, struct comb_xdp_port *port, const uint8_t *pkt,
				   size_t len, struct timeval ts);
/* Hand up to max ready packets to fn without blocking. Returns the number
 * handled (0: none ready), fn's non-zero return, or a negative errno. */
int comb_xdp_port_receive(struct comb_xdp_port *port, unsigned max, comb_xdp_port_rx_fn fn,
			  void *user);
/* Send one Ethernet frame out of the port (copied). Returns 0, or a negative
 * errno (counted in tx_errors): -EMSGSIZE, -ENOBUFS (ring full), ... */
int comb_xdp_port_send(struct comb_xdp_port *port, const void *frame, size_t len);
/* Kick the kernel to transmit queued frames and reclaim sent ones. */
int comb_xdp_port_flush(struct comb_xdp_port *port);
void comb_xdp_port_stats(struct comb_xdp_port *port, struct comb_xdp_port_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
