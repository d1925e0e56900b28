/* src/hooks/xdp/live_tap.c - a TAP device (IFF_TAP | IFF_NO_PI).
 *
 * A TAP device is a network interface whose "wire" is a file descriptor:
 * what the host sends out of the interface, read() returns (one Ethernet
 * frame per call), and what we write() the host receives as if it arrived
 * on the interface. Opening attaches to the device NAME, or creates it when
 * it does not exist; a device we create is brought up and disappears when
 * the descriptor closes (create it beforehand with `ip tuntap add NAME mode
 * tap` to give it addresses that outlive comb). IFF_VNET_HDR is not asked
 * for, so the kernel segments large (GSO) frames before we read them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hooks/xdp/live.h"

#define TAP_MAX_FRAME 65536

struct tap {
	uint8_t *buf;
};

static int tap_receive(struct comb_xdp_port *p, unsigned max, comb_xdp_port_rx_fn fn, void *user)
{
	struct tap *t = p->impl;
	unsigned done = 0;
	while (done < max) {
		ssize_t n = read(p->fd, t->buf, TAP_MAX_FRAME);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		if (n == 0)
			break;
		struct timeval ts;
		gettimeofday(&ts, NULL);
		p->stats.rx_packets++;
		done++;
		int rc = fn(user, p, t->buf, (size_t)n, ts);
		if (rc)
			return rc;
	}
	return (int)done;
}

static int tap_send(struct comb_xdp_port *p, const void *frame, size_t len)
{
	ssize_t n = write(p->fd, frame, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static void tap_close(struct comb_xdp_port *p)
{
	struct tap *t = p->impl;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (t)
		free(t->buf);
	free(t);
	p->impl = NULL;
}

static const struct live_port_ops tap_ops = {
	.receive = tap_receive,
	.send = tap_send,
	.close = tap_close,
};

static int tap_attach(struct comb_xdp_port *p, char *err, size_t err_len)
{
	bool existed = if_nametoindex(p->name) != 0;
	p->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (p->fd < 0)
		return live_error(p, err, err_len, -errno, "open /dev/net/tun");
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", p->name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(p->fd, TUNSETIFF, &ifr) < 0)
		return live_error(p, err, err_len, -errno,
				  existed ? "TUNSETIFF (is it a TAP device, free to attach?)" : "TUNSETIFF (create)");
	p->ifindex = if_nametoindex(p->name);
	if (!p->ifindex)
		return live_error(p, err, err_len, -errno, "if_nametoindex");
	if (!existed) {
		int rc = live_set_up(p->name);
		if (rc)
			return live_error(p, err, err_len, rc, "bring the new device up");
	}
	return 0;
}

int live_tap_open(struct comb_xdp_port *p, const struct comb_xdp_port_opts *o, char *err, size_t err_len)
{
	(void)o;
	struct tap *t = calloc(1, sizeof(*t));
	if (!t || !(t->buf = malloc(TAP_MAX_FRAME))) {
		free(t);
		return -ENOMEM;
	}
	p->impl = t;
	p->ops = &tap_ops;
	int rc = tap_attach(p, err, err_len);
	if (rc)
		tap_close(p);
	return rc;
}
