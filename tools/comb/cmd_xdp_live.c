/* tools/comb/cmd_xdp_live.c - `comb xdp` on live traffic: --iface, --tap, --xsk.
 *
 * The ports (comb/xdp_live.h) move bytes; this file decides what each
 * verdict does with them, the way the kernel would if the program were
 * attached to the interface the packet arrived on:
 *
 *   --iface IF                AF_PACKET on IF, next to the kernel's stack,
 *                             which sees every packet anyway: PASS leaves the
 *                             packet to the stack (nothing to do), DROP can
 *                             only be counted, TX sends the packet as the
 *                             program left it back out of IF, REDIRECT sends it
 *                             out of the target interface.
 *   --iface IF --bridge IF2   comb bridges IF and IF2 (both promiscuous; give
 *                             them no addresses): the program runs on what
 *                             arrives on either side; PASS forwards to the
 *                             other side, DROP drops, TX sends back out of the
 *                             arrival interface, REDIRECT out of the target.
 *   --tap NAME                the TAP device is the wire: frames the host
 *                             sends into NAME run the program; TX writes the
 *                             frame back into the TAP (the host receives it),
 *                             PASS and DROP end there (PASS has no stack to go
 *                             up to; counted as "not delivered").
 *   --iface IF --tap NAME     inline between a real interface and the host:
 *                             frames arriving on IF run the program, PASS
 *                             writes them into the TAP (the host's stack gets
 *                             them there: put the host's address on NAME, none
 *                             on IF), TX sends back out of IF, DROP drops.
 *                             Frames the host sends into NAME go out of IF
 *                             unchanged (XDP is an ingress hook).
 *   --xsk IF [--queue N]      AF_XDP on queue N of IF (libxdp's program, native
 *                             mode where the driver has it, else generic; it
 *                             is detached on exit, SIGINT/SIGTERM included):
 *                             the stack no longer sees that queue's packets.
 *                             TX transmits on the socket, DROP recycles the
 *                             frame, PASS cannot go back up the stack from
 *                             AF_XDP: with --tap NAME it is written into the
 *                             TAP (and what the host sends into NAME goes out
 *                             through the socket), otherwise it is counted as
 *                             "not delivered".
 *
 * REDIRECT to an ifindex (bpf_redirect, or a DEVMAP/DEVMAP_HASH entry) goes
 * out of that interface: one of the ports above if it is theirs, else an
 * AF_PACKET socket opened on first use; a devmap broadcast
 * (BPF_F_BROADCAST) sends a copy out of each interface of the map, less the
 * arrival one with BPF_F_EXCLUDE_INGRESS; XSKMAP and CPUMAP targets and
 * unknown interfaces are "not delivered" (they reach --out-redirect only).
 * ABORTED drops. Every packet that runs the program goes through
 * xdp_session_packet() (counts, output pcaps, --verdicts) with
 * ingress_ifindex/rx_queue_index of its arrival interface. The run stops
 * after --count packets, --duration seconds, or SIGINT/SIGTERM/SIGHUP;
 * "comb: xdp: live: ..." on stderr says when the ports are ready and, at the
 * end, what each port received and sent (stdout keeps the session's
 * summary, so --json stays parseable).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <comb/xdp_live.h>

#include "xdp_session.h"

#define LIVE_MAX_LINKS 3
#define LIVE_MAX_REDIRECT_PORTS 16
#define LIVE_BATCH 64
#define LIVE_TICK_MS 100
#define LIVE_MAX_BROADCAST 64
#define LIVE_BROADCAST_FLAG (1ull << 3) /* BPF_F_BROADCAST */

/* One open port and what happens to the frames that arrive on it. */
struct live_link {
	struct comb_xdp_port *port;
	bool runs_program;        /* arriving frames run the XDP program */
	struct live_link *pass_to; /* where PASS (or, for a host link, every frame) goes */
};

struct live_counts {
	uint64_t passed_on;     /* PASS forwarded to the bridge peer or the TAP */
	uint64_t to_stack;      /* PASS left to the kernel (AF_PACKET without --bridge) */
	uint64_t sent_back;     /* TX */
	uint64_t redirected;    /* REDIRECT sent out of an interface */
	uint64_t not_delivered; /* PASS or REDIRECT with nowhere to go */
	uint64_t send_failed;   /* a port refused a frame */
	uint64_t host_frames;   /* frames from the host (TAP) sent out unchanged */
};

struct live {
	struct xdp_session *s;
	const struct xdp_cli *cli;
	struct live_link links[LIVE_MAX_LINKS];
	size_t nlinks;
	struct comb_xdp_port *redirect_ports[LIVE_MAX_REDIRECT_PORTS]; /* send-only, opened on demand */
	size_t nredirect;
	const struct comb_xdp_port *last_ingress;
	uint64_t packets; /* run through the program */
	struct live_counts n;
	int fatal;        /* a session error that stops the run */
};

static volatile sig_atomic_t live_stop_signal;

static void live_on_signal(int sig)
{
	live_stop_signal = sig;
}

static const char *kind_label(const struct comb_xdp_port *p)
{
	switch (comb_xdp_port_kind(p)) {
	case COMB_XDP_PORT_AFPACKET: return "AF_PACKET";
	case COMB_XDP_PORT_TAP: return "TAP";
	case COMB_XDP_PORT_XSK: return "AF_XDP";
	}
	return "?";
}

static struct live_link *link_of(struct live *l, const struct comb_xdp_port *p)
{
	for (size_t i = 0; i < l->nlinks; i++)
		if (l->links[i].port == p)
			return &l->links[i];
	return NULL;
}

static void count_send(struct live *l, int rc, uint64_t *ok)
{
	if (rc)
		l->n.send_failed++;
	else
		(*ok)++;
}

/* The port for a redirect to ifindex: one of ours, or a send-only AF_PACKET
 * socket opened the first time (NULL: no such interface, or too many). */
static struct comb_xdp_port *redirect_port(struct live *l, uint32_t ifindex)
{
	for (size_t i = 0; i < l->nlinks; i++)
		if (comb_xdp_port_ifindex(l->links[i].port) == ifindex)
			return l->links[i].port;
	for (size_t i = 0; i < l->nredirect; i++)
		if (comb_xdp_port_ifindex(l->redirect_ports[i]) == ifindex)
			return l->redirect_ports[i];
	if (l->nredirect == LIVE_MAX_REDIRECT_PORTS)
		return NULL;
	char err[256];
	struct comb_xdp_port *p;
	if (comb_xdp_port_open_ifindex(ifindex, &p, err, sizeof(err))) {
		fprintf(stderr, "comb: xdp: live: redirect to ifindex %u: %s\n", ifindex, err);
		return NULL;
	}
	l->redirect_ports[l->nredirect++] = p;
	return p;
}

/* A devmap broadcast: a copy out of every interface of the map (but the
 * arrival one with BPF_F_EXCLUDE_INGRESS). */
static void broadcast(struct live *l, const struct comb_xdp_result *res)
{
	uint32_t ifindexes[LIVE_MAX_BROADCAST];
	uint32_t ingress = comb_xdp_port_ifindex(l->last_ingress);
	int n = comb_xdp_broadcast_targets(&res->target, ingress, ifindexes, NULL, LIVE_MAX_BROADCAST);
	if (n <= 0) {
		l->n.not_delivered++;
		return;
	}
	for (int i = 0; i < n && i < LIVE_MAX_BROADCAST; i++) {
		struct comb_xdp_port *out = redirect_port(l, ifindexes[i]);
		if (out)
			count_send(l, comb_xdp_port_send(out, res->data, res->len), &l->n.redirected);
		else
			l->n.not_delivered++;
	}
}

static void redirect(struct live *l, const struct comb_xdp_result *res)
{
	const struct comb_xdp_target *t = &res->target;
	struct comb_xdp_port *out = NULL;
	if (t->kind == COMB_XDP_TARGET_DEVMAP && (t->flags & LIVE_BROADCAST_FLAG)) {
		broadcast(l, res);
		return;
	}
	if ((t->kind == COMB_XDP_TARGET_IFINDEX || t->kind == COMB_XDP_TARGET_DEVMAP) && t->ifindex)
		out = redirect_port(l, t->ifindex);
	if (!out) {
		l->n.not_delivered++;
		return;
	}
	count_send(l, comb_xdp_port_send(out, res->data, res->len), &l->n.redirected);
}

/* Do what the verdict says with the packet as the program left it. */
static void act(struct live *l, struct live_link *from, const struct comb_xdp_result *res)
{
	switch (res->action) {
	case COMB_XDP_PASS:
		if (from->pass_to)
			count_send(l, comb_xdp_port_send(from->pass_to->port, res->data, res->len), &l->n.passed_on);
		else if (comb_xdp_port_kind(from->port) == COMB_XDP_PORT_AFPACKET)
			l->n.to_stack++;
		else
			l->n.not_delivered++;
		break;
	case COMB_XDP_TX:
		count_send(l, comb_xdp_port_send(from->port, res->data, res->len), &l->n.sent_back);
		break;
	case COMB_XDP_REDIRECT:
		redirect(l, res);
		break;
	default: /* DROP, ABORTED */
		break;
	}
}

static int on_packet(void *user, struct comb_xdp_port *port, const uint8_t *pkt, size_t len, struct timeval ts)
{
	struct live *l = user;
	struct live_link *from = link_of(l, port);
	if (!from->runs_program) { /* from the host: out to the wire unchanged */
		count_send(l, comb_xdp_port_send(from->pass_to->port, pkt, len), &l->n.host_frames);
		return 0;
	}
	if (l->cli->max_packets && l->packets >= l->cli->max_packets)
		return 1;
	if (l->last_ingress != port) {
		xdp_session_set_ingress(l->s, comb_xdp_port_ifindex(port), comb_xdp_port_queue(port));
		l->last_ingress = port;
	}
	const struct comb_xdp_result *res;
	int rc = xdp_session_packet(l->s, pkt, len, ts, &res);
	if (rc) {
		l->fatal = rc;
		return 1;
	}
	l->packets++;
	act(l, from, res);
	return 0;
}

/* Open a port into the next link; prints the error. */
static int add_link(struct live *l, enum comb_xdp_port_kind kind, const char *name, uint32_t flags,
		    bool runs_program, struct live_link **out)
{
	struct comb_xdp_port_opts o = { .sz = sizeof(o), .flags = flags, .queue = l->cli->queue };
	char err[256];
	struct live_link *link = &l->links[l->nlinks];
	int rc = comb_xdp_port_open(kind, name, &o, &link->port, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "comb: xdp: %s\n", err[0] ? err : strerror(-rc));
		return rc;
	}
	link->runs_program = runs_program;
	l->nlinks++;
	*out = link;
	return 0;
}

static int bad_combination(const char *what)
{
	fprintf(stderr, "comb: xdp: %s\n", what);
	return -EINVAL;
}

/* Open the ports the options ask for and wire them (see the top comment). */
static int open_links(struct live *l)
{
	const struct xdp_cli *c = l->cli;
	struct live_link *wire, *other, *host;
	int rc;
	if (c->bridge && (!c->iface || c->tap || c->xsk))
		return bad_combination("--bridge IF2 needs --iface IF (and neither --tap nor --xsk)");
	if (c->xsk && c->iface)
		return bad_combination("--xsk and --iface are two ways to read one interface: give one");
	if (c->xsk)
		rc = add_link(l, COMB_XDP_PORT_XSK, c->xsk, 0, true, &wire);
	else if (c->iface)
		rc = add_link(l, COMB_XDP_PORT_AFPACKET, c->iface,
			      c->bridge || c->tap ? COMB_XDP_PORT_PROMISC : 0, true, &wire);
	else if (c->tap)
		return add_link(l, COMB_XDP_PORT_TAP, c->tap, 0, true, &wire);
	else
		return bad_combination("live traffic needs --iface, --tap or --xsk");
	if (rc)
		return rc;
	if (c->bridge) {
		if ((rc = add_link(l, COMB_XDP_PORT_AFPACKET, c->bridge, COMB_XDP_PORT_PROMISC, true, &other)))
			return rc;
		wire->pass_to = other;
		other->pass_to = wire;
	} else if (c->tap) {
		if ((rc = add_link(l, COMB_XDP_PORT_TAP, c->tap, 0, false, &host)))
			return rc;
		wire->pass_to = host;
		host->pass_to = wire;
	}
	return 0;
}

static void close_ports(struct live *l)
{
	for (size_t i = 0; i < l->nlinks; i++)
		comb_xdp_port_close(l->links[i].port);
	for (size_t i = 0; i < l->nredirect; i++)
		comb_xdp_port_close(l->redirect_ports[i]);
	l->nlinks = l->nredirect = 0;
}

static void print_ready(const struct live *l)
{
	fprintf(stderr, "comb: xdp: live:");
	for (size_t i = 0; i < l->nlinks; i++) {
		const struct live_link *k = &l->links[i];
		fprintf(stderr, "%s %s %s", i ? "," : "", kind_label(k->port), comb_xdp_port_name(k->port));
		if (comb_xdp_port_kind(k->port) == COMB_XDP_PORT_XSK)
			fprintf(stderr, " queue %u (%s)", comb_xdp_port_queue(k->port), comb_xdp_port_mode(k->port));
		fprintf(stderr, " (%s)", k->runs_program ? "runs the program" : "host side");
	}
	fprintf(stderr, "; ready, stop with Ctrl-C\n");
}

static void print_port_stats(struct comb_xdp_port *p)
{
	struct comb_xdp_port_stats st;
	comb_xdp_port_stats(p, &st);
	fprintf(stderr,
		"comb: xdp: live: %s %s: received %llu, sent %llu, send errors %llu, truncated %llu, "
		"kernel drops %llu\n",
		kind_label(p), comb_xdp_port_name(p), (unsigned long long)st.rx_packets,
		(unsigned long long)st.tx_packets, (unsigned long long)st.tx_errors,
		(unsigned long long)st.rx_truncated, (unsigned long long)st.kernel_drops);
}

static void print_totals(struct live *l)
{
	for (size_t i = 0; i < l->nlinks; i++)
		print_port_stats(l->links[i].port);
	for (size_t i = 0; i < l->nredirect; i++)
		print_port_stats(l->redirect_ports[i]);
	const struct live_counts *n = &l->n;
	fprintf(stderr,
		"comb: xdp: live: %llu packets run; passed on %llu, left to the kernel %llu, sent back "
		"%llu, redirected %llu, not delivered %llu, send failures %llu, host frames %llu\n",
		(unsigned long long)l->packets, (unsigned long long)n->passed_on,
		(unsigned long long)n->to_stack, (unsigned long long)n->sent_back,
		(unsigned long long)n->redirected, (unsigned long long)n->not_delivered,
		(unsigned long long)n->send_failed, (unsigned long long)n->host_frames);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static bool done(const struct live *l, double deadline)
{
	if (live_stop_signal || l->fatal)
		return true;
	if (l->cli->max_packets && l->packets >= l->cli->max_packets)
		return true;
	return deadline > 0 && now_s() >= deadline;
}

/* Receive what is ready on every port, then let queued frames out. */
static int pump(struct live *l)
{
	for (size_t i = 0; i < l->nlinks && !l->fatal; i++) {
		int rc = comb_xdp_port_receive(l->links[i].port, LIVE_BATCH, on_packet, l);
		if (rc < 0) {
			fprintf(stderr, "comb: xdp: live: %s %s: receive: %s\n", kind_label(l->links[i].port),
				comb_xdp_port_name(l->links[i].port), strerror(-rc));
			return rc;
		}
	}
	for (size_t i = 0; i < l->nlinks; i++)
		comb_xdp_port_flush(l->links[i].port);
	for (size_t i = 0; i < l->nredirect; i++)
		comb_xdp_port_flush(l->redirect_ports[i]);
	return l->fatal;
}

static int run_loop(struct live *l)
{
	struct pollfd fds[LIVE_MAX_LINKS];
	for (size_t i = 0; i < l->nlinks; i++)
		fds[i] = (struct pollfd){ .fd = comb_xdp_port_fd(l->links[i].port), .events = POLLIN };
	double deadline = l->cli->duration_s > 0 ? now_s() + l->cli->duration_s : 0;
	double next_records = 0;
	while (!done(l, deadline)) {
		int timeout = LIVE_TICK_MS;
		if (deadline > 0 && (deadline - now_s()) * 1000 < timeout)
			timeout = (int)((deadline - now_s()) * 1000) + 1;
		if (poll(fds, l->nlinks, timeout) < 0 && errno != EINTR)
			return -errno;
		int rc = pump(l);
		if (rc)
			return rc;
		if (now_s() >= next_records) {
			xdp_session_poll_records(l->s);
			next_records = now_s() + LIVE_TICK_MS / 1000.0;
		}
	}
	xdp_session_poll_records(l->s);
	return l->fatal;
}

/* SIGINT/SIGTERM/SIGHUP end the loop (no SA_RESTART: poll returns) so the
 * ports close and libxdp's program is detached. */
static void signals_install(struct sigaction old[3])
{
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = live_on_signal };
	sigemptyset(&sa.sa_mask);
	live_stop_signal = 0;
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
}

static void signals_restore(const struct sigaction old[3])
{
	static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
}

int xdp_live_run(struct xdp_session *s, const struct xdp_cli *cli)
{
	struct live l = { .s = s, .cli = cli };
	struct sigaction old[3];
	signals_install(old);
	int rc = open_links(&l);
	if (rc == 0) {
		print_ready(&l);
		rc = run_loop(&l);
		print_totals(&l);
		if (rc && rc != l.fatal)
			fprintf(stderr, "comb: xdp: live: %s\n", strerror(-rc));
	}
	close_ports(&l);
	signals_restore(old);
	if (live_stop_signal)
		fprintf(stderr, "comb: xdp: live: stopped by signal %d\n", (int)live_stop_signal);
	return rc;
}
