/* src/hooks/xdp/live_xsk.c - one queue of an interface through an AF_XDP
 * socket (libxdp's xsk API).
 *
 * libxdp attaches its small redirect program to the interface (through its
 * dispatcher where the kernel allows) and binds the socket to queue N:
 * every packet arriving on that queue comes to us instead of the kernel's
 * stack; other queues are untouched. xsk_socket__delete() detaches the
 * program again, so the port must be closed on every exit path (the CLI
 * turns SIGINT/SIGTERM into a normal exit for that reason).
 *
 * The UMEM holds 2 * ring frames of 4 KiB: the first half lives in the
 * fill/RX rings (a received frame goes straight back to the fill ring once
 * the callback returns, since runners copy the packet), the second half is
 * a stack of free TX frames that sends take and the completion ring
 * returns. The first attach asks for no mode: native (driver) mode where
 * the driver has XDP, binding zero-copy where possible, else copy (veth:
 * native, copy). Where the driver has no XDP (EOPNOTSUPP), or with
 * COMB_XDP_PORT_XSK_GENERIC, generic (SKB) mode and copy, which every
 * interface supports. The socket uses need_wakeup: we kick the kernel with sendto() or
 * recvfrom() only when the rings say so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "hooks/xdp/live.h"

#define XSK_FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define XSK_RING_DEFAULT 2048
#define XSK_RING_MAX 32768
#define XSK_BUSY_RETRIES 40
#define XSK_BUSY_WAIT_US 50000

struct xsk {
	void *area;
	size_t area_len;
	struct xsk_umem *umem;
	struct xsk_socket *sock;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	uint32_t ring;         /* descriptors per ring; UMEM frames = 2 * ring */
	uint64_t *free_tx;     /* addresses of free TX frames */
	uint32_t free_count;
	uint32_t tx_unkicked;  /* submitted since the last sendto() */
};

static void reclaim_completions(struct xsk *x)
{
	uint32_t idx;
	uint32_t n = xsk_ring_cons__peek(&x->comp, x->ring, &idx);
	for (uint32_t i = 0; i < n; i++)
		x->free_tx[x->free_count++] = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&x->comp, n);
}

/* Give n received frames (starting at RX index rx_idx) back to the fill ring. */
static void frames_to_fill(struct comb_xdp_port *p, struct xsk *x, uint32_t rx_idx, uint32_t n)
{
	uint32_t fill_idx;
	if (xsk_ring_prod__reserve(&x->fill, n, &fill_idx) != n)
		return; /* cannot happen: the fill ring holds every RX frame */
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = xsk_ring_cons__rx_desc(&x->rx, rx_idx + i)->addr;
		*xsk_ring_prod__fill_addr(&x->fill, fill_idx + i) = xsk_umem__extract_addr(addr);
	}
	xsk_ring_prod__submit(&x->fill, n);
	if (xsk_ring_prod__needs_wakeup(&x->fill))
		recvfrom(p->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

static int xsk_receive(struct comb_xdp_port *p, unsigned max, comb_xdp_port_rx_fn fn, void *user)
{
	struct xsk *x = p->impl;
	uint32_t idx;
	uint32_t n = xsk_ring_cons__peek(&x->rx, max < x->ring ? max : x->ring, &idx);
	if (n == 0) {
		if (xsk_ring_prod__needs_wakeup(&x->fill))
			recvfrom(p->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return 0;
	}
	struct timeval ts;
	gettimeofday(&ts, NULL);
	uint32_t done = 0;
	int rc = 0;
	while (done < n && rc == 0) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + done);
		const uint8_t *pkt = xsk_umem__get_data(x->area, xsk_umem__add_offset_to_addr(d->addr));
		p->stats.rx_packets++;
		done++;
		rc = fn(user, p, pkt, d->len, ts);
	}
	frames_to_fill(p, x, idx, done);
	if (done < n)
		xsk_ring_cons__cancel(&x->rx, n - done);
	xsk_ring_cons__release(&x->rx, done);
	return rc ? rc : (int)done;
}

static int xsk_send(struct comb_xdp_port *p, const void *frame, size_t len)
{
	struct xsk *x = p->impl;
	if (len > XSK_FRAME_SIZE)
		return -EMSGSIZE;
	if (x->free_count == 0)
		reclaim_completions(x);
	uint32_t idx;
	if (x->free_count == 0 || xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1)
		return -ENOBUFS;
	uint64_t addr = x->free_tx[--x->free_count];
	memcpy(xsk_umem__get_data(x->area, addr), frame, len);
	struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx);
	d->addr = addr;
	d->len = (uint32_t)len;
	xsk_ring_prod__submit(&x->tx, 1);
	x->tx_unkicked++;
	return 0;
}

/* In copy mode the kernel transmits only when kicked; with need_wakeup in
 * native zero-copy mode, only when the TX ring asks for it. */
static int xsk_flush(struct comb_xdp_port *p)
{
	struct xsk *x = p->impl;
	int rc = 0;
	if (x->tx_unkicked && xsk_ring_prod__needs_wakeup(&x->tx)) {
		if (sendto(p->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN &&
		    errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN)
			rc = -errno;
	}
	x->tx_unkicked = 0;
	reclaim_completions(x);
	return rc;
}

static void xsk_read_kernel_stats(struct comb_xdp_port *p)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);
	if (p->fd >= 0 && getsockopt(p->fd, SOL_XDP, XDP_STATISTICS, &st, &len) == 0)
		p->stats.kernel_drops = st.rx_dropped + st.rx_ring_full + st.rx_fill_ring_empty_descs;
}

/* libxdp and libbpf narrate attaching and detaching on stderr (ELF sections
 * they skip, no bpffs inside `ip netns exec`, the dispatcher fallback):
 * keep them quiet then; failures come back as error codes anyway. */
static int print_nothing(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}
static int libbpf_print_nothing(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

struct quiet {
	libxdp_print_fn_t xdp;
	libbpf_print_fn_t bpf;
};
static struct quiet quiet_begin(void)
{
	return (struct quiet){ libxdp_set_print(print_nothing), libbpf_set_print(libbpf_print_nothing) };
}
static void quiet_end(struct quiet q)
{
	libxdp_set_print(q.xdp);
	libbpf_set_print(q.bpf);
}

static void xsk_teardown(struct xsk *x)
{
	if (x->sock) {
		struct quiet q = quiet_begin();
		xsk_socket__delete(x->sock); /* detaches libxdp's program */
		quiet_end(q);
	}
	x->sock = NULL;
	if (x->umem)
		xsk_umem__delete(x->umem);
	x->umem = NULL;
}

static void xsk_close(struct comb_xdp_port *p)
{
	struct xsk *x = p->impl;
	if (!x)
		return;
	xsk_teardown(x);
	if (x->area)
		munmap(x->area, x->area_len);
	free(x->free_tx);
	free(x);
	p->impl = NULL;
	p->fd = -1;
}

static const struct live_port_ops xsk_ops = {
	.receive = xsk_receive,
	.send = xsk_send,
	.flush = xsk_flush,
	.read_kernel_stats = xsk_read_kernel_stats,
	.close = xsk_close,
};

static int try_attach(struct comb_xdp_port *p, struct xsk *x, uint32_t xdp_flags, uint16_t bind_flags)
{
	struct xsk_umem_config uc = {
		.fill_size = x->ring, .comp_size = x->ring, .frame_size = XSK_FRAME_SIZE,
		.frame_headroom = XSK_UMEM__DEFAULT_FRAME_HEADROOM,
	};
	int rc = xsk_umem__create(&x->umem, x->area, x->area_len, &x->fill, &x->comp, &uc);
	if (rc) {
		x->umem = NULL;
		return rc < 0 ? rc : -rc;
	}
	struct xsk_socket_config sc = {
		.rx_size = x->ring, .tx_size = x->ring, .xdp_flags = xdp_flags, .bind_flags = bind_flags,
	};
	struct quiet q = quiet_begin();
	rc = xsk_socket__create(&x->sock, p->name, p->queue, x->umem, &x->rx, &x->tx, &sc);
	quiet_end(q);
	if (rc) {
		x->sock = NULL;
		xsk_teardown(x);
		return rc < 0 ? rc : -rc;
	}
	return 0;
}

/* Generic mode, copy. After a failed native attempt the kernel releases the
 * socket that held the queue a little later (deferred): retry while busy. */
static int attach_generic(struct comb_xdp_port *p, struct xsk *x)
{
	int rc = -EBUSY;
	for (int tries = 0; tries < XSK_BUSY_RETRIES && rc == -EBUSY; tries++) {
		if (tries)
			usleep(XSK_BUSY_WAIT_US);
		rc = try_attach(p, x, XDP_FLAGS_SKB_MODE, XDP_USE_NEED_WAKEUP | XDP_COPY);
	}
	return rc;
}

/* Where the kernel put libxdp's program and whether the socket is zero-copy. */
static void describe_mode(struct comb_xdp_port *p)
{
	struct xdp_options opts = { 0 };
	socklen_t len = sizeof(opts);
	bool zc = getsockopt(p->fd, SOL_XDP, XDP_OPTIONS, &opts, &len) == 0 &&
		  (opts.flags & XDP_OPTIONS_ZEROCOPY);
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	const char *mode = "unknown";
	if (bpf_xdp_query((int)p->ifindex, 0, &q) == 0)
		mode = q.attach_mode == XDP_ATTACHED_DRV ? "native"
		       : q.attach_mode == XDP_ATTACHED_SKB ? "generic"
		       : q.attach_mode == XDP_ATTACHED_HW ? "offloaded" : "multi";
	snprintf(p->mode, sizeof(p->mode), "%s mode, %s", mode, zc ? "zero-copy" : "copy");
}

/* Fill ring full of the first half of the UMEM, TX stack of the second. */
static int frames_setup(struct xsk *x)
{
	x->free_tx = malloc(sizeof(uint64_t) * x->ring);
	if (!x->free_tx)
		return -ENOMEM;
	for (uint32_t i = 0; i < x->ring; i++)
		x->free_tx[x->free_count++] = (uint64_t)(x->ring + i) * XSK_FRAME_SIZE;
	uint32_t idx;
	if (xsk_ring_prod__reserve(&x->fill, x->ring, &idx) != x->ring)
		return -ENOSPC;
	for (uint32_t i = 0; i < x->ring; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (uint64_t)i * XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&x->fill, x->ring);
	return 0;
}

static int xsk_setup(struct comb_xdp_port *p, struct xsk *x, const struct comb_xdp_port_opts *o,
		     char *err, size_t err_len)
{
	x->area_len = (size_t)2 * x->ring * XSK_FRAME_SIZE;
	x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		return live_error(p, err, err_len, -errno, "mmap of the UMEM");
	}
	/* No mode flags: the kernel attaches natively where the driver can and
	 * generically elsewhere, and binds zero-copy where it can, else copy. */
	bool generic = (o->flags & COMB_XDP_PORT_XSK_GENERIC) != 0;
	int rc = -EOPNOTSUPP;
	/* A socket closed just before (ours of a previous run) holds the queue
	 * until the kernel's deferred release: retry while busy. */
	for (int tries = 0; !generic && tries < XSK_BUSY_RETRIES; tries++) {
		if (tries)
			usleep(XSK_BUSY_WAIT_US);
		rc = try_attach(p, x, 0, XDP_USE_NEED_WAKEUP);
		if (rc != -EBUSY)
			break;
	}
	if (rc == -EOPNOTSUPP)
		rc = attach_generic(p, x);
	if (rc)
		return live_error(p, err, err_len, rc, "xsk_socket__create (libxdp attach and bind)");
	p->fd = xsk_socket__fd(x->sock);
	describe_mode(p);
	rc = frames_setup(x);
	if (rc)
		return live_error(p, err, err_len, rc, "fill ring");
	return 0;
}

int live_xsk_open(struct comb_xdp_port *p, const struct comb_xdp_port_opts *o, char *err, size_t err_len)
{
	p->ifindex = if_nametoindex(p->name);
	if (!p->ifindex)
		return live_error(p, err, err_len, -errno, "no such interface");
	p->queue = o->queue;
	uint32_t ring = o->ring_size ? o->ring_size : XSK_RING_DEFAULT;
	if (ring > XSK_RING_MAX || (ring & (ring - 1)))
		return live_error(p, err, err_len, -EINVAL, "ring size (a power of two up to 32768)");
	struct xsk *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->ring = ring;
	p->impl = x;
	p->ops = &xsk_ops;
	int rc = xsk_setup(p, x, o, err, err_len);
	if (rc)
		xsk_close(p);
	return rc;
}
