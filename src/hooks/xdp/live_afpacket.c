/* src/hooks/xdp/live_afpacket.c - an interface through an AF_PACKET socket.
 *
 * Receive: a TPACKET_V3 ring (mmap'd, block-based): the kernel fills blocks
 * of RING_BLOCK_SIZE bytes and hands a block over when it is full or after
 * RING_BLOCK_TIMEOUT_MS; we walk its packets and give the block back. The
 * walk remembers where it stopped so a batch limit or a callback asking to
 * stop loses nothing. PACKET_IGNORE_OUTGOING keeps out what the host (or we)
 * send on the interface: an XDP program only sees what arrives. The socket
 * binds with protocol 0 first (nothing queued from other interfaces), then
 * to the interface with ETH_P_ALL once the ring exists.
 *
 * The kernel strips a VLAN tag into the ring's header (tp_vlan_tci); we put
 * it back in front of the EtherType so the program sees the frame as it was
 * on the wire, as XDP does. Frames the host sent with checksum offload
 * (veth peers, TAPs with offloads) carry a partial TCP/UDP checksum
 * (TP_STATUS_CSUMNOTREADY); we complete it, as the sender's NIC would, so the
 * program sees and forwards a valid packet. GSO frames larger than the MTU
 * (TCP from a veth peer with TSO on) arrive whole and cannot be sent out
 * again (counted as send errors): turn TSO/GSO off on such peers.
 *
 * Send: sendto() on the same socket, one frame at a time (the kernel sends
 * it at once; no TX ring to flush).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hooks/xdp/live.h"

#define RING_BLOCK_SIZE (1u << 18)
#define RING_BLOCKS_DEFAULT 32
#define RING_FRAME_SIZE 2048
#define RING_BLOCK_TIMEOUT_MS 1
#define VLAN_HLEN 4
#define MAX_FRAME 65535

struct afpacket {
	uint8_t *ring;
	size_t ring_len;
	unsigned blocks;
	unsigned block;        /* the block being walked */
	unsigned pkt_index;    /* packets of it already handed up */
	uint32_t pkt_offset;   /* offset of the next packet in it */
	uint8_t *copy;         /* a frame with its VLAN tag or checksum restored */
	int sock;              /* also p->fd unless the port only sends */
};

static struct tpacket_block_desc *block_at(struct afpacket *a, unsigned i)
{
	return (struct tpacket_block_desc *)(a->ring + (size_t)i * RING_BLOCK_SIZE);
}

/* One's complement sum of len bytes (RFC 1071), folded later. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Fill in the TCP or UDP checksum of a frame the host sent with checksum
 * offload (TP_STATUS_CSUMNOTREADY: the field holds only the pseudo-header
 * part), as the NIC would have done before the frame reached the wire. */
static void checksum_complete(uint8_t *f, size_t len)
{
	size_t off = 12;
	uint16_t type = (uint16_t)(f[off] << 8 | f[off + 1]);
	if ((type == ETH_P_8021Q || type == ETH_P_8021AD) && len >= off + 6) {
		off += VLAN_HLEN;
		type = (uint16_t)(f[off] << 8 | f[off + 1]);
	}
	off += 2;
	uint8_t proto;
	size_t l4, l4_len;
	uint32_t sum;
	if (type == ETH_P_IP && len >= off + 20) {
		size_t ihl = (size_t)(f[off] & 15) * 4, total = (size_t)(f[off + 2] << 8 | f[off + 3]);
		if (ihl < 20 || total < ihl || off + total > len || ((f[off + 6] & 0x1f) | f[off + 7]))
			return; /* bad header, or a fragment */
		proto = f[off + 9];
		l4 = off + ihl, l4_len = total - ihl;
		sum = sum16(f + off + 12, 8, 0);
	} else if (type == ETH_P_IPV6 && len >= off + 40) {
		proto = f[off + 6];
		l4 = off + 40, l4_len = (size_t)(f[off + 4] << 8 | f[off + 5]);
		if (l4 + l4_len > len)
			return;
		sum = sum16(f + off + 8, 32, 0);
	} else {
		return;
	}
	size_t field = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 0;
	if (!field || l4_len < field + 2)
		return;
	f[l4 + field] = f[l4 + field + 1] = 0;
	sum += proto + (uint32_t)l4_len;
	uint16_t c = fold(sum16(f + l4, l4_len, sum));
	if (c == 0 && proto == IPPROTO_UDP)
		c = 0xffff;
	f[l4 + field] = (uint8_t)(c >> 8);
	f[l4 + field + 1] = (uint8_t)c;
}

/* The frame as it was (or would be) on the wire: the ring's bytes, or a
 * copy with the VLAN tag put back and the offloaded checksum filled in. */
static const uint8_t *frame_of(struct afpacket *a, const struct tpacket3_hdr *h, size_t *len)
{
	const uint8_t *mac = (const uint8_t *)h + h->tp_mac;
	*len = h->tp_snaplen;
	bool vlan = (h->tp_status & TP_STATUS_VLAN_VALID) != 0;
	bool csum = (h->tp_status & TP_STATUS_CSUMNOTREADY) != 0;
	if ((!vlan && !csum) || *len < 14 || *len + VLAN_HLEN > MAX_FRAME)
		return mac;
	if (!a->copy && !(a->copy = malloc(MAX_FRAME)))
		return mac;
	if (vlan) {
		uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : ETH_P_8021Q;
		uint16_t tag[2] = { htons(tpid), htons((uint16_t)h->hv1.tp_vlan_tci) };
		memcpy(a->copy, mac, 12);
		memcpy(a->copy + 12, tag, VLAN_HLEN);
		memcpy(a->copy + 12 + VLAN_HLEN, mac + 12, *len - 12);
		*len += VLAN_HLEN;
	} else {
		memcpy(a->copy, mac, *len);
	}
	if (csum && h->tp_snaplen == h->tp_len)
		checksum_complete(a->copy, *len);
	return a->copy;
}

/* Give the current block back to the kernel and move to the next. */
static void block_release(struct afpacket *a)
{
	struct tpacket_block_desc *b = block_at(a, a->block);
	__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	a->block = (a->block + 1) % a->blocks;
	a->pkt_index = 0;
	a->pkt_offset = 0;
}

static int afpacket_receive(struct comb_xdp_port *p, unsigned max, comb_xdp_port_rx_fn fn, void *user)
{
	struct afpacket *a = p->impl;
	unsigned done = 0;
	while (done < max) {
		struct tpacket_block_desc *b = block_at(a, a->block);
		if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		if (a->pkt_index == 0)
			a->pkt_offset = b->hdr.bh1.offset_to_first_pkt;
		while (a->pkt_index < b->hdr.bh1.num_pkts && done < max) {
			const struct tpacket3_hdr *h = (const void *)((uint8_t *)b + a->pkt_offset);
			a->pkt_index++;
			a->pkt_offset += h->tp_next_offset;
			size_t len;
			const uint8_t *frame = frame_of(a, h, &len);
			if (h->tp_snaplen < h->tp_len)
				p->stats.rx_truncated++;
			p->stats.rx_packets++;
			done++;
			struct timeval ts = { .tv_sec = h->tp_sec, .tv_usec = h->tp_nsec / 1000 };
			int rc = fn(user, p, frame, len, ts);
			if (rc) {
				if (a->pkt_index == b->hdr.bh1.num_pkts)
					block_release(a);
				return rc;
			}
		}
		if (a->pkt_index == b->hdr.bh1.num_pkts)
			block_release(a);
	}
	return (int)done;
}

static int afpacket_send(struct comb_xdp_port *p, const void *frame, size_t len)
{
	struct afpacket *a = p->impl;
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET, .sll_ifindex = (int)p->ifindex, .sll_halen = ETH_ALEN,
	};
	if (len >= ETH_ALEN)
		memcpy(to.sll_addr, frame, ETH_ALEN);
	ssize_t n = sendto(a->sock, frame, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* PACKET_STATISTICS resets the kernel's counters on each read: add them up. */
static void afpacket_read_kernel_stats(struct comb_xdp_port *p)
{
	struct afpacket *a = p->impl;
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);
	if (a->ring && getsockopt(a->sock, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
		p->stats.kernel_drops += st.tp_drops;
}

static void afpacket_close(struct comb_xdp_port *p)
{
	struct afpacket *a = p->impl;
	if (!a)
		return;
	if (a->ring)
		munmap(a->ring, a->ring_len);
	if (a->sock >= 0)
		close(a->sock);
	free(a->copy);
	free(a);
	p->impl = NULL;
}

static const struct live_port_ops afpacket_ops = {
	.receive = afpacket_receive,
	.send = afpacket_send,
	.read_kernel_stats = afpacket_read_kernel_stats,
	.close = afpacket_close,
};

static int setsockopt_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno : 0;
}

/* TPACKET_V3, outgoing packets ignored, the ring mapped. */
static int ring_setup(struct comb_xdp_port *p, struct afpacket *a, unsigned blocks, char *err, size_t err_len)
{
	int rc = setsockopt_int(a->sock, SOL_PACKET, PACKET_VERSION, TPACKET_V3);
	if (rc)
		return live_error(p, err, err_len, rc, "PACKET_VERSION TPACKET_V3");
	rc = setsockopt_int(a->sock, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
	if (rc)
		return live_error(p, err, err_len, rc, "PACKET_IGNORE_OUTGOING");
	struct tpacket_req3 req = {
		.tp_block_size = RING_BLOCK_SIZE, .tp_block_nr = blocks, .tp_frame_size = RING_FRAME_SIZE,
		.tp_frame_nr = RING_BLOCK_SIZE / RING_FRAME_SIZE * blocks,
		.tp_retire_blk_tov = RING_BLOCK_TIMEOUT_MS,
	};
	if (setsockopt(a->sock, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		return live_error(p, err, err_len, -errno, "PACKET_RX_RING");
	a->ring_len = (size_t)RING_BLOCK_SIZE * blocks;
	void *ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, a->sock, 0);
	if (ring == MAP_FAILED) /* MAP_LOCKED may exceed RLIMIT_MEMLOCK: try without */
		ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, a->sock, 0);
	if (ring == MAP_FAILED)
		return live_error(p, err, err_len, -errno, "mmap of the receive ring");
	a->ring = ring;
	a->blocks = blocks;
	return 0;
}

static int bind_to(struct comb_xdp_port *p, struct afpacket *a, uint16_t protocol)
{
	struct sockaddr_ll addr = {
		.sll_family = AF_PACKET, .sll_protocol = htons(protocol), .sll_ifindex = (int)p->ifindex,
	};
	return bind(a->sock, (struct sockaddr *)&addr, sizeof(addr)) < 0 ? -errno : 0;
}

static int promisc_on(struct comb_xdp_port *p, struct afpacket *a)
{
	struct packet_mreq mr = { .mr_ifindex = (int)p->ifindex, .mr_type = PACKET_MR_PROMISC };
	return setsockopt(a->sock, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0 ? -errno : 0;
}

static int afpacket_setup(struct comb_xdp_port *p, struct afpacket *a, const struct comb_xdp_port_opts *o,
			  char *err, size_t err_len)
{
	a->sock = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->sock < 0)
		return live_error(p, err, err_len, -errno, "socket(AF_PACKET)");
	int rc = bind_to(p, a, 0);
	if (rc)
		return live_error(p, err, err_len, rc, "bind");
	if (o->flags & COMB_XDP_PORT_SEND_ONLY)
		return 0;
	rc = ring_setup(p, a, o->ring_size ? o->ring_size : RING_BLOCKS_DEFAULT, err, err_len);
	if (rc)
		return rc;
	if ((o->flags & COMB_XDP_PORT_PROMISC) && (rc = promisc_on(p, a)))
		return live_error(p, err, err_len, rc, "PACKET_MR_PROMISC");
	if ((rc = bind_to(p, a, ETH_P_ALL)))
		return live_error(p, err, err_len, rc, "bind(ETH_P_ALL)");
	p->fd = a->sock;
	return 0;
}

int live_afpacket_open(struct comb_xdp_port *p, const struct comb_xdp_port_opts *o, char *err, size_t err_len)
{
	p->ifindex = if_nametoindex(p->name);
	if (!p->ifindex)
		return live_error(p, err, err_len, -errno, "no such interface");
	struct afpacket *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->sock = -1;
	p->impl = a;
	p->ops = &afpacket_ops;
	int rc = afpacket_setup(p, a, o, err, err_len);
	if (rc) {
		afpacket_close(p);
		p->fd = -1;
	}
	return rc;
}
