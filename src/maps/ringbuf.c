/* src/maps/ringbuf.c - RINGBUF maps and their consumer (comb/ringbuf.h).
 *
 * The map is one ring (ring.c) whose pages are the data area of the map's
 * region file, so a pinned ring is shared with every process that opens
 * it; its storage, the range programs may touch, is the ring's data and
 * its second view, where reserved samples live. Map
 * commands (lookup, update, ...) answer as the kernel does for a ring
 * buffer; programs use the bpf_ringbuf_* helpers (ringbuf_helpers.c), which
 * call the producer functions here.
 *
 * The consumer (libbpf's ring_buffer model) keeps an epoll instance watching
 * each map's wakeup descriptor: the map's eventfd, or the FIFO a consumer
 * in another process registered with comb_ringbuf_wake_fifo(). Poll first
 * consumes what is already there, then looks again for a short while, and
 * sleeps only when nothing came: it announces itself as a waiter
 * (ring_wait_begin) and re-checks with a full barrier, so a record
 * committed at any moment is either seen or wakes it. Producers skip the
 * wakeup system call while no consumer sleeps; handing out the epoll fd
 * makes the consumer a permanent waiter, since its owner may sleep on it.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "comb/ringbuf.h"
#include "maps/internal.h"
#include "maps/ring.h"

static struct ring *map_ring(const struct comb_map *map)
{
	return (struct ring *)map->family;
}

static bool is_ringbuf(const struct comb_map *map)
{
	return map && map->info.type == COMB_MAP_RINGBUF && map->family;
}

/* Shared by RINGBUF and USER_RINGBUF (user_ringbuf.c): the ring's pages
 * are the map's data area, in the region file, so a process that opens the
 * pinned map maps the same ring. */
int ringbuf_map_init(struct comb_map *map, char *err, size_t err_len)
{
	const struct comb_map_info *in = &map->info;
	uint32_t page = 1u << ring_page_shift();
	if (in->key_size || in->value_size)
		return map_fail(err, err_len, -EINVAL, map, "key_size and value_size must be 0 for a ring buffer");
	if (in->max_entries < page || (in->max_entries & (in->max_entries - 1)))
		return map_fail(err, err_len, -EINVAL, map,
				"max_entries %u must be a power of two and at least the page size (%u)",
				in->max_entries, page);
	int rc = map_check_flags(map, 0, err, err_len);
	if (!rc)
		rc = map_alloc_storage(map, ring_file_bytes(in->max_entries), err, err_len);
	if (rc)
		return rc;
	struct ring *ring;
	rc = ring_open(map_region_fd(map), map->header->header_size, in->max_entries, map_storage_is_new(map),
		       -1, &ring);
	if (rc)
		return map_fail(err, err_len, rc, map, rc == -EINVAL ? "the ring's meta page is corrupted"
								     : "cannot map the ring of %u bytes",
				in->max_entries);
	map->family = ring;
	map->storage = ring->data; /* where samples live: data and its second view */
	map->storage_size = 2 * (size_t)in->max_entries;
	return 0;
}

void ringbuf_map_free(struct comb_map *map)
{
	ring_destroy(map_ring(map));
	map->family = NULL;
	map->storage = NULL; /* the ring's views are gone; the region goes next */
}

int ringbuf_map_recover(struct comb_map *map)
{
	return map_ring(map) ? ring_check(map_ring(map)) : -EINVAL;
}

int ringbuf_map_region_moved(struct comb_map *map, int fd)
{
	return map_ring(map) ? ring_remap(map_ring(map), fd) : 0;
}

static int ringbuf_lookup(struct comb_map *m, const void *k, void *v) { return -ENOTSUP; }
static int ringbuf_update(struct comb_map *m, const void *k, const void *v, uint64_t f, int c) { return -ENOTSUP; }
static int ringbuf_delete(struct comb_map *m, const void *k) { return -ENOTSUP; }
static int ringbuf_next(struct comb_map *m, const void *k, void *n) { return -ENOTSUP; }
static void *ringbuf_lookup_ptr(struct comb_map *m, const void *k) { return NULL; }

const struct map_ops comb_ringbuf_ops = {
	.init = ringbuf_map_init, .lookup = ringbuf_lookup, .update = ringbuf_update,
	.delete = ringbuf_delete, .get_next_key = ringbuf_next, .lookup_ptr = ringbuf_lookup_ptr,
	.free = ringbuf_map_free, .recover = ringbuf_map_recover, .region_moved = ringbuf_map_region_moved,
};

/* ---- producer side */

void *comb_ringbuf_reserve(struct comb_map *map, uint64_t size, uint64_t flags)
{
	if (!is_ringbuf(map) || flags)
		return NULL;
	return ring_reserve(map_ring(map), size);
}

void comb_ringbuf_submit(void *sample, uint64_t flags)
{
	ring_commit(sample, flags, false);
}

void comb_ringbuf_discard(void *sample, uint64_t flags)
{
	ring_commit(sample, flags, true);
}

int comb_ringbuf_output(struct comb_map *map, const void *data, uint64_t size, uint64_t flags)
{
	if (!is_ringbuf(map) || (flags & ~(uint64_t)(COMB_RB_NO_WAKEUP | COMB_RB_FORCE_WAKEUP)))
		return -EINVAL;
	return ring_output(map_ring(map), data, size, flags);
}

uint64_t comb_ringbuf_query(struct comb_map *map, uint64_t what)
{
	return is_ringbuf(map) ? ring_query(map_ring(map), what) : 0;
}

int comb_ringbuf_wake_fifo(struct comb_map *map, const char *path)
{
	if (!map || !map->family)
		return -EINVAL;
	if (map->info.type == COMB_MAP_PERF_EVENT_ARRAY)
		return perf_register_fifo(map, path);
	if (map->info.type != COMB_MAP_RINGBUF && map->info.type != COMB_MAP_USER_RINGBUF)
		return -EINVAL;
	int fd = ring_register_fifo(map_ring(map), path);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* ---- consumer side */

struct consumed_ring {
	struct ring *ring;
	comb_ring_buffer_sample_fn fn;
	void *ctx;
	int wake_fd;  /* what epoll watches for this ring */
	bool owns_wake_fd;
};

struct comb_ring_buffer {
	int epoll_fd;
	struct consumed_ring *rings;
	size_t count;
	bool watched; /* epoll_fd was handed out */
};

static int deliver(void *ctx, void *data, uint32_t size)
{
	const struct consumed_ring *cr = ctx;
	return cr->fn(cr->ctx, data, size);
}

int comb_ring_buffer_new(struct comb_map *map, comb_ring_buffer_sample_fn fn, void *ctx,
			 const struct comb_ring_buffer_opts *opts, struct comb_ring_buffer **out)
{
	if (!out || (opts && opts->sz < sizeof(size_t)))
		return -EINVAL;
	struct comb_ring_buffer *rb = calloc(1, sizeof(*rb));
	if (!rb)
		return -ENOMEM;
	rb->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (rb->epoll_fd < 0) {
		free(rb);
		return -errno;
	}
	int rc = comb_ring_buffer_add(rb, map, fn, ctx);
	if (rc) {
		comb_ring_buffer_free(rb);
		return rc;
	}
	*out = rb;
	return 0;
}

int comb_ring_buffer_add(struct comb_ring_buffer *rb, struct comb_map *map, comb_ring_buffer_sample_fn fn,
			 void *ctx)
{
	if (!rb || !is_ringbuf(map) || !fn)
		return -EINVAL;
	struct consumed_ring *grown = realloc(rb->rings, (rb->count + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	rb->rings = grown;
	struct consumed_ring *cr = &rb->rings[rb->count];
	*cr = (struct consumed_ring){ .ring = map_ring(map), .fn = fn, .ctx = ctx };
	struct ring *ring = cr->ring;
	int owned;
	cr->wake_fd = ring_consumer_wake_fd(ring, &owned);
	cr->owns_wake_fd = owned >= 0;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = rb->count };
	if (epoll_ctl(rb->epoll_fd, EPOLL_CTL_ADD, cr->wake_fd, &ev)) {
		int rc = -errno;
		if (cr->owns_wake_fd)
			close(cr->wake_fd);
		return rc;
	}
	rb->count++;
	if (rb->watched)
		ring_wait_begin(ring);
	return 0;
}

static int consume_ring(struct consumed_ring *cr)
{
	ring_drain_wakeup(cr->ring, cr->wake_fd);
	return (int)ring_consume(cr->ring, deliver, cr);
}

int comb_ring_buffer_consume(struct comb_ring_buffer *rb)
{
	if (!rb)
		return -EINVAL;
	int64_t total = 0;
	for (size_t i = 0; i < rb->count; i++) {
		int n = consume_ring(&rb->rings[i]);
		if (n < 0)
			return n;
		total += n;
	}
	return total > INT32_MAX ? INT32_MAX : (int)total;
}

static bool any_data(const struct comb_ring_buffer *rb)
{
	for (size_t i = 0; i < rb->count; i++)
		if (ring_has_data(rb->rings[i].ring))
			return true;
	return false;
}

/* Before sleeping, look again for a short while: a producer that is about
 * to commit then needs no system call to wake us. Look only every
 * POLL_LOOK_EVERY pauses (about a microsecond): each look pulls the cache
 * line the producer is writing, and looking at every record would make it
 * cross between the CPUs once per record instead of once per batch. */
#define POLL_PAUSES    2048
#define POLL_LOOK_EVERY 32

int comb_ring_buffer_poll(struct comb_ring_buffer *rb, int timeout_ms)
{
	int n = comb_ring_buffer_consume(rb); /* also re-arms every wakeup */
	if (n != 0)
		return n;
	for (int pause = 1; pause <= POLL_PAUSES; pause++) {
		__builtin_ia32_pause();
		if (pause % POLL_LOOK_EVERY == 0 && any_data(rb))
			return comb_ring_buffer_consume(rb);
	}
	bool arrived = false;
	for (size_t i = 0; i < rb->count; i++)
		arrived |= ring_wait_begin(rb->rings[i].ring);
	int ready = 0;
	struct epoll_event events[16];
	if (!arrived && timeout_ms != 0)
		ready = epoll_wait(rb->epoll_fd, events, 16, timeout_ms);
	int wait_errno = errno;
	for (size_t i = 0; i < rb->count; i++)
		ring_wait_end(rb->rings[i].ring);
	if (ready < 0)
		return wait_errno == EINTR ? 0 : -wait_errno;
	return comb_ring_buffer_consume(rb);
}

int comb_ring_buffer_epoll_fd(const struct comb_ring_buffer *rb)
{
	if (!rb)
		return -EINVAL;
	/* Whoever watches the fd may sleep at any time: producers must write
	 * to it from now on. */
	struct comb_ring_buffer *mut = (struct comb_ring_buffer *)rb;
	if (!mut->watched) {
		mut->watched = true;
		for (size_t i = 0; i < rb->count; i++)
			ring_wait_begin(rb->rings[i].ring);
	}
	return rb->epoll_fd;
}

void comb_ring_buffer_free(struct comb_ring_buffer *rb)
{
	if (!rb)
		return;
	for (size_t i = 0; i < rb->count; i++) {
		if (rb->watched)
			ring_wait_end(rb->rings[i].ring);
		if (rb->rings[i].owns_wake_fd)
			close(rb->rings[i].wake_fd);
	}
	close(rb->epoll_fd);
	free(rb->rings);
	free(rb);
}
