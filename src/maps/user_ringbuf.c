/* src/maps/user_ringbuf.c - USER_RINGBUF: user space produces, programs drain.
 *
 * The same ring as RINGBUF (ring.c) with the roles swapped, following the
 * kernel and libbpf: the user-space producer (comb_user_ring_buffer_*)
 * writes a BUSY header, publishes producer_pos, fills the sample and clears
 * BUSY (adding DISCARD on discard); the ring may fill completely. Producers
 * of several threads or processes serialise their reservations on the
 * ring's robust lock (libbpf leaves that to the caller). A program drains
 * with bpf_user_ringbuf_drain: one drain at a time (drain_busy), at most
 * USER_RINGBUF_MAX_SAMPLES per call, each sample released (consumer_pos
 * moved) after its callback; afterwards the producer is woken (eventfd)
 * unless BPF_RB_NO_WAKEUP, so reserve_blocking can wait for room (on the
 * eventfd, or on the FIFO a producer in another process registered). The
 * ring lives in the map's region file, so a pinned USER_RINGBUF is shared
 * with every process that opens it.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "comb/ringbuf.h"
#include "maps/internal.h"
#include "maps/ring.h"

#define USER_RINGBUF_MAX_SAMPLES (128 * 1024) /* the kernel's BPF_MAX_USER_RINGBUF_SAMPLES */
#define DYNPTR_MAX_SIZE ((1u << 24) - 1)

static int user_ringbuf_lookup(struct comb_map *m, const void *k, void *v) { return -ENOTSUP; }
static int user_ringbuf_update(struct comb_map *m, const void *k, const void *v, uint64_t f, int c) { return -ENOTSUP; }
static int user_ringbuf_delete(struct comb_map *m, const void *k) { return -ENOTSUP; }
static int user_ringbuf_next(struct comb_map *m, const void *k, void *n) { return -ENOTSUP; }
static void *user_ringbuf_lookup_ptr(struct comb_map *m, const void *k) { return NULL; }

const struct map_ops comb_user_ringbuf_ops = {
	.init = ringbuf_map_init, .lookup = user_ringbuf_lookup, .update = user_ringbuf_update,
	.delete = user_ringbuf_delete, .get_next_key = user_ringbuf_next,
	.lookup_ptr = user_ringbuf_lookup_ptr, .free = ringbuf_map_free, .recover = ringbuf_map_recover,
	.region_moved = ringbuf_map_region_moved,
};

/* ---- program side */

/* The sample at consumer_pos: 0, -ENODATA (none committed), -EAGAIN (a
 * discarded one, now skipped), -EINVAL / -E2BIG (corrupt header). */
static int peek_sample(struct ring *ring, void **sample, uint32_t *size)
{
	uint64_t prod = __atomic_load_n(ring->producer_pos, __ATOMIC_ACQUIRE);
	if (prod % 8)
		return -EINVAL;
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE);
	if (cons >= prod)
		return -ENODATA;
	uint32_t *hdr = (uint32_t *)(ring->data + (cons & ring->mask));
	uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
	uint32_t flags = len & (RING_BUSY_BIT | RING_DISCARD_BIT), sample_len = len & ~flags;
	uint64_t total = ((uint64_t)sample_len + RING_HDR_SIZE + 7) & ~7ull;
	if (total > prod - cons)
		return -EINVAL;
	if (total > ring->mask + 1 || sample_len > DYNPTR_MAX_SIZE)
		return -E2BIG;
	if (flags & RING_DISCARD_BIT) {
		__atomic_store_n(ring->consumer_pos, cons + total, __ATOMIC_RELEASE);
		return -EAGAIN;
	}
	if (flags & RING_BUSY_BIT)
		return -ENODATA;
	*sample = hdr + 2;
	*size = sample_len;
	return 0;
}

static void release_sample(struct ring *ring, uint32_t size)
{
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_RELAXED);
	uint64_t total = ((uint64_t)size + RING_HDR_SIZE + 7) & ~7ull;
	__atomic_store_n(ring->consumer_pos, cons + total, __ATOMIC_RELEASE);
}

long user_ringbuf_drain(struct comb_map *map, user_ringbuf_sample_fn fn, void *ctx, uint64_t flags)
{
	if (flags & ~(uint64_t)(COMB_RB_NO_WAKEUP | COMB_RB_FORCE_WAKEUP))
		return -EINVAL;
	if (!map || map->info.type != COMB_MAP_USER_RINGBUF || !map->family)
		return -EINVAL;
	struct ring *ring = map->family;
	uint32_t idle = 0;
	if (!__atomic_compare_exchange_n(&ring->meta->drain_busy, &idle, 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return -EBUSY;
	long samples = 0, discarded = 0, ret = 0;
	for (; samples < USER_RINGBUF_MAX_SAMPLES && ret == 0; samples++) {
		void *sample;
		uint32_t size;
		int rc = peek_sample(ring, &sample, &size);
		if (rc == -ENODATA)
			break;
		if (rc == -EAGAIN) {
			discarded++;
			continue;
		}
		if (rc) {
			ret = rc;
			goto out;
		}
		ret = fn(ctx, sample, size);
		release_sample(ring, size);
		if (ret < 0) {
			samples++;
			goto out;
		}
	}
	ret = samples - discarded;
out:
	__atomic_store_n(&ring->meta->drain_busy, 0, __ATOMIC_RELEASE);
	if ((flags & COMB_RB_FORCE_WAKEUP) || (!(flags & COMB_RB_NO_WAKEUP) && samples > 0))
		ring_notify(ring);
	return ret;
}

/* ---- user-space producer */

struct comb_user_ring_buffer {
	struct comb_map *map;
	struct ring *ring;
	int wake_fd;  /* where drains wake a blocked reserve: FIFO or eventfd */
	int owned_wake_fd;
};

int comb_user_ring_buffer_new(struct comb_map *map, struct comb_user_ring_buffer **out)
{
	if (!map || map->info.type != COMB_MAP_USER_RINGBUF || !map->family || !out)
		return -EINVAL;
	struct comb_user_ring_buffer *rb = calloc(1, sizeof(*rb));
	if (!rb)
		return -ENOMEM;
	rb->map = map;
	rb->ring = map->family;
	/* A producer in another process than the programs registers a FIFO
	 * first (comb_ringbuf_wake_fifo), so their drains can wake it. */
	rb->wake_fd = ring_consumer_wake_fd(rb->ring, &rb->owned_wake_fd);
	*out = rb;
	return 0;
}

void *comb_user_ring_buffer_reserve(struct comb_user_ring_buffer *rb, uint32_t size)
{
	if (!rb) {
		errno = EINVAL;
		return NULL;
	}
	struct ring *ring = rb->ring;
	if (size & (RING_BUSY_BIT | RING_DISCARD_BIT)) {
		errno = E2BIG;
		return NULL;
	}
	uint64_t total = ((uint64_t)size + RING_HDR_SIZE + 7) & ~7ull, max = ring->mask + 1;
	if (total > max) {
		errno = E2BIG;
		return NULL;
	}
	ring_lock(ring);
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE);
	uint64_t prod = __atomic_load_n(ring->producer_pos, __ATOMIC_RELAXED);
	void *sample = NULL;
	if (max - (prod - cons) >= total) {
		struct ring_record_hdr *hdr = (void *)(ring->data + (prod & ring->mask));
		hdr->len = size | RING_BUSY_BIT;
		hdr->pg_off = 0;
		__atomic_store_n(ring->producer_pos, prod + total, __ATOMIC_RELEASE);
		sample = hdr + 1;
	}
	ring_unlock(ring);
	if (!sample)
		errno = ENOSPC;
	return sample;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void *comb_user_ring_buffer_reserve_blocking(struct comb_user_ring_buffer *rb, uint32_t size, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
	for (;;) {
		void *sample = comb_user_ring_buffer_reserve(rb, size);
		if (sample || errno != ENOSPC)
			return sample;
		/* Re-arm the drain's wakeup, retry, then sleep until it comes. */
		ring_drain_wakeup(rb->ring, rb->wake_fd);
		sample = comb_user_ring_buffer_reserve(rb, size);
		if (sample || errno != ENOSPC)
			return sample;
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return NULL;
		}
		struct pollfd pfd = { .fd = rb->wake_fd, .events = POLLIN };
		ring_wait_begin(rb->ring);
		sample = comb_user_ring_buffer_reserve(rb, size);
		if (!sample && errno == ENOSPC)
			poll(&pfd, 1, left > INT32_MAX ? -1 : (int)left);
		ring_wait_end(rb->ring);
		if (sample || errno != ENOSPC)
			return sample;
	}
}

static void commit_user_sample(void *sample, bool discard)
{
	uint32_t *len = (uint32_t *)sample - 2;
	uint32_t value = *len & ~RING_BUSY_BIT;
	if (discard)
		value |= RING_DISCARD_BIT;
	__atomic_exchange_n(len, value, __ATOMIC_SEQ_CST);
}

void comb_user_ring_buffer_submit(struct comb_user_ring_buffer *rb, void *sample)
{
	if (sample)
		commit_user_sample(sample, false);
}

void comb_user_ring_buffer_discard(struct comb_user_ring_buffer *rb, void *sample)
{
	if (sample)
		commit_user_sample(sample, true);
}

void comb_user_ring_buffer_free(struct comb_user_ring_buffer *rb)
{
	if (rb && rb->owned_wake_fd >= 0)
		close(rb->owned_wake_fd);
	free(rb);
}
