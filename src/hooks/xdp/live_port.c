/* src/hooks/xdp/live_port.c - comb_xdp_port: the public face of the live
 * packet backends.
 *
 * Opening allocates the port, sets what every backend shares (name, kind)
 * and lets the backend do the rest; everything else dispatches through the
 * backend's operations and keeps the counters common to all of them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hooks/xdp/live.h"

static const char *kind_name(enum comb_xdp_port_kind kind)
{
	switch (kind) {
	case COMB_XDP_PORT_AFPACKET: return "AF_PACKET";
	case COMB_XDP_PORT_TAP: return "TAP";
	case COMB_XDP_PORT_XSK: return "AF_XDP";
	}
	return "port";
}

int live_error(const struct comb_xdp_port *port, char *err, size_t err_len, int rc, const char *step)
{
	if (err && err_len)
		snprintf(err, err_len, "%s %s: %s: %s", kind_name(port->kind), port->name, step,
			 strerror(-rc));
	return rc;
}

int live_set_up(const char *name)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int rc = 0;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		rc = -errno;
	else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			rc = -errno;
	}
	close(fd);
	return rc;
}

static struct comb_xdp_port *port_alloc(enum comb_xdp_port_kind kind, const char *name)
{
	struct comb_xdp_port *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->kind = kind;
	p->fd = -1;
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

int comb_xdp_port_open(enum comb_xdp_port_kind kind, const char *name,
		       const struct comb_xdp_port_opts *opts, struct comb_xdp_port **out, char *err,
		       size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
	if (!out || !name)
		return -EINVAL;
	*out = NULL;
	struct comb_xdp_port_opts o = { .sz = sizeof(o) };
	if (opts) {
		if (opts->sz < offsetof(struct comb_xdp_port_opts, flags) + sizeof(opts->flags))
			return -EINVAL;
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
		o.sz = sizeof(o);
	}
	struct comb_xdp_port *p = port_alloc(kind, name);
	if (!p)
		return -ENOMEM;
	if (strlen(name) == 0 || strlen(name) >= IF_NAMESIZE) {
		int rc = live_error(p, err, err_len, -EINVAL, "interface name");
		free(p);
		return rc;
	}
	int rc;
	switch (kind) {
	case COMB_XDP_PORT_AFPACKET: rc = live_afpacket_open(p, &o, err, err_len); break;
	case COMB_XDP_PORT_TAP: rc = live_tap_open(p, &o, err, err_len); break;
	case COMB_XDP_PORT_XSK: rc = live_xsk_open(p, &o, err, err_len); break;
	default: rc = -EINVAL; break;
	}
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int comb_xdp_port_open_ifindex(uint32_t ifindex, struct comb_xdp_port **out, char *err, size_t err_len)
{
	char name[IF_NAMESIZE];
	if (!if_indextoname(ifindex, name)) {
		int rc = -errno;
		if (err && err_len)
			snprintf(err, err_len, "AF_PACKET ifindex %u: %s", ifindex, strerror(-rc));
		return rc;
	}
	struct comb_xdp_port_opts o = { .sz = sizeof(o), .flags = COMB_XDP_PORT_SEND_ONLY };
	return comb_xdp_port_open(COMB_XDP_PORT_AFPACKET, name, &o, out, err, err_len);
}

void comb_xdp_port_close(struct comb_xdp_port *p)
{
	if (!p)
		return;
	p->ops->close(p);
	free(p);
}

enum comb_xdp_port_kind comb_xdp_port_kind(const struct comb_xdp_port *p) { return p->kind; }
const char *comb_xdp_port_name(const struct comb_xdp_port *p) { return p->name; }
uint32_t comb_xdp_port_ifindex(const struct comb_xdp_port *p) { return p->ifindex; }
uint32_t comb_xdp_port_queue(const struct comb_xdp_port *p) { return p->queue; }
int comb_xdp_port_fd(const struct comb_xdp_port *p) { return p->fd; }
const char *comb_xdp_port_mode(const struct comb_xdp_port *p) { return p->mode; }

int comb_xdp_port_receive(struct comb_xdp_port *p, unsigned max, comb_xdp_port_rx_fn fn, void *user)
{
	if (!p || !fn || max == 0)
		return -EINVAL;
	if (p->fd < 0)
		return 0;
	return p->ops->receive(p, max, fn, user);
}

int comb_xdp_port_send(struct comb_xdp_port *p, const void *frame, size_t len)
{
	if (!p || (!frame && len))
		return -EINVAL;
	int rc = p->ops->send(p, frame, len);
	if (rc)
		p->stats.tx_errors++;
	else
		p->stats.tx_packets++;
	return rc;
}

int comb_xdp_port_flush(struct comb_xdp_port *p)
{
	return p && p->ops->flush ? p->ops->flush(p) : 0;
}

void comb_xdp_port_stats(struct comb_xdp_port *p, struct comb_xdp_port_stats *stats)
{
	if (p->ops->read_kernel_stats)
		p->ops->read_kernel_stats(p);
	*stats = p->stats;
}
