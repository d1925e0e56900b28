/* tools/comb/xdp_session.h - what `comb xdp`'s packet sources share.
 *
 * `comb xdp` reads its options into a struct xdp_cli, opens an xdp_session
 * (object loaded, maps pinned or reused, the XDP program picked, a runner,
 * the output pcaps opened) and then feeds it packets from one source: a pcap
 * file (cmd_xdp.c) or a live interface, TAP device or AF_XDP socket
 * (cmd_xdp_live.c). Every source hands each packet to xdp_session_packet(),
 * which runs the program, counts the verdict, writes the packet to the
 * verdict's output and the --verdicts line; the source then acts on the
 * verdict itself (transmit, forward, ...). xdp_session_close() prints the
 * summary (text or --json) and releases everything.
 */
#ifndef COMB_TOOLS_XDP_SESSION_H
#define COMB_TOOLS_XDP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>
#include "cli.h"

struct xdp_cli {
	const char *object;       /* FILE.o */
	const char *prog_name;    /* --prog */
	const char *pcap_in;      /* --pcap */
	const char *out_pass, *out_tx, *out_drop, *out_aborted; /* --out-pass/-tx/-drop/-aborted */
	const char *out_redirect; /* --out-redirect DIR: one pcap per redirect target */
	const char *verdicts;     /* --verdicts FILE */
	const char *pin_maps;     /* --pin-maps DIR */
	const char *fib;          /* --fib FILE: routes for bpf_fib_lookup */
	const char *iface;        /* --iface IF (AF_PACKET) */
	const char *bridge;       /* --bridge IF2 */
	const char *tap;          /* --tap NAME */
	const char *xsk;          /* --xsk IF (AF_XDP) */
	uint32_t queue;           /* --queue N (AF_XDP queue, rx_queue_index) */
	uint64_t max_packets;     /* --count N (0: no limit) */
	double duration_s;        /* --duration SECONDS for live sources (0: until SIGINT/SIGTERM) */
	bool json;
	bool no_verify;           /* --no-verify: checked interpreter, no verification */
	enum comb_engine engine;  /* --engine */
	const char *records;      /* --records MAP[:STRUCT]: print ring buffer records */
};

struct xdp_session; /* opaque; see xdp_session.c */

/* Load the object, pick the program, create the runner and outputs.
 * Prints `comb: ...` on failure and returns -errno. */
int xdp_session_open(const struct xdp_cli *cli, struct xdp_session **s);
/* Run the program on one packet (ts: its capture time, for the outputs);
 * count, write the outputs and the verdict line. *res stays valid until the
 * next call. Returns 0, or -errno for a failure that must stop the session
 * (an output that cannot be written); a failed run is counted as ABORTED. */
int xdp_session_packet(struct xdp_session *s, const uint8_t *pkt, size_t len, struct timeval ts,
		       const struct comb_xdp_result **res);
/* The same for a packet captured short: orig_len is its length on the wire
 * (the pcap record's len), kept in the outputs. */
int xdp_session_packet_orig(struct xdp_session *s, const uint8_t *pkt, size_t len, size_t orig_len,
			    struct timeval ts, const struct comb_xdp_result **res);
/* Up to COMB_XDP_BATCH_MAX packets at once (comb_xdp_run_batch), with the
 * effect of xdp_session_packet_orig() on each in order; it stops at the
 * first output failure. The packets must stay valid during the call. */
struct xdp_session_packet {
	const uint8_t *data;
	size_t len, orig_len;
	struct timeval ts;
};
int xdp_session_batch(struct xdp_session *s, const struct xdp_session_packet *pkts, size_t n);
/* Print ring buffer records that arrived (--records); call it now and then. */
void xdp_session_poll_records(struct xdp_session *s);
/* The ifindex of the interface packets arrive on (live sources set it
 * before the first packet; default 1). */
void xdp_session_set_ingress(struct xdp_session *s, uint32_t ifindex, uint32_t rx_queue);
/* Summary (text or JSON) on stdout; release everything. Returns CLI_OK or
 * CLI_ERROR (an output could not be completed). */
int xdp_session_close(struct xdp_session *s);

/* xdp_records.c: --records MAP[:STRUCT] of a loaded object (see there).
 * Errors are printed; returns 0 or -errno. */
struct xdp_records;
struct comb_object;
int xdp_records_open(const char *object, const struct comb_object *obj, const char *spec, bool json,
		     struct xdp_records **r);
void xdp_records_poll(struct xdp_records *r);
void xdp_records_close(struct xdp_records *r);

/* cmd_xdp_live.c: run the session on --iface/--tap/--xsk until --count,
 * --duration or a signal. Returns 0 or -errno (printed). */
int xdp_live_run(struct xdp_session *s, const struct xdp_cli *cli);

#endif
