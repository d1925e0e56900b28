/* src/maps/perf_event_array.c - PERF_EVENT_ARRAY for older programs.
 *
 * In the kernel each slot holds a perf event whose mmap'ed buffer receives
 * bpf_perf_event_output's records. comb gives every slot (one per CPU by
 * default: max_entries 0 means the number of CPUs, as libbpf sets it) its
 * own ring (ring.c, PERF_SLOT_BYTES of data) kept one after the other in
 * the map's region file (so a pinned array is shared with the processes
 * that open it), all sharing one eventfd per process, so one consumer
 * (comb_perf_buffer_*, libbpf's perf_buffer model) sleeps on all of them;
 * a consumer in another process registers a FIFO in every slot instead
 * (comb_ringbuf_wake_fifo). A full slot drops the record and counts it as lost; the
 * consumer reports the count through its lost callback, as perf does with
 * PERF_RECORD_LOST. Programs never get pointers into these rings, so the
 * map reports no storage to the memory checks. Map updates (the kernel's "install a perf event fd")
 * are accepted and ignored: every slot is always live.
 */
#define _GNU_SOURCE /* sched_getcpu */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "comb/ringbuf.h"
#include "maps/internal.h"
#include "maps/ring.h"

#define PERF_SLOT_BYTES (128u * 1024)
#define PERF_MAX_SLOTS 4096u

struct perf_array {
	uint32_t slots;
	int event_fd;
	struct ring *rings[];
};

static void perf_free(struct comb_map *map)
{
	struct perf_array *pa = map->family;
	if (!pa)
		return;
	for (uint32_t i = 0; i < pa->slots; i++)
		ring_destroy(pa->rings[i]);
	if (pa->event_fd >= 0)
		close(pa->event_fd);
	free(pa);
	map->family = NULL;
}

static int perf_open_rings(struct comb_map *map, struct perf_array *pa, char *err, size_t err_len)
{
	uint64_t slot_bytes = ring_file_bytes(PERF_SLOT_BYTES);
	uint64_t base = map->header->header_size;
	bool fresh = map_storage_is_new(map);
	for (; pa->slots < map->info.max_entries; pa->slots++) {
		int rc = ring_open(map_region_fd(map), base + pa->slots * slot_bytes, PERF_SLOT_BYTES, fresh,
				   pa->event_fd, &pa->rings[pa->slots]);
		if (rc)
			return map_fail(err, err_len, rc, map, "cannot map the ring of slot %u%s", pa->slots,
					rc == -EINVAL ? ": its meta page is corrupted" : "");
	}
	return 0;
}

static int perf_init(struct comb_map *map, char *err, size_t err_len)
{
	struct comb_map_info *in = &map->info;
	if (in->key_size != 4 || in->value_size != 4)
		return map_fail(err, err_len, -EINVAL, map, "key_size and value_size must be 4 (got %u and %u)",
				in->key_size, in->value_size);
	if (in->max_entries == 0)
		in->max_entries = map_possible_cpus();
	if (in->max_entries > PERF_MAX_SLOTS)
		return map_fail(err, err_len, -E2BIG, map, "max_entries %u is more than comb allows (%u)",
				in->max_entries, PERF_MAX_SLOTS);
	int rc = map_check_flags(map, COMB_F_RDONLY | COMB_F_WRONLY | (1u << 2) /* NUMA_NODE */ |
					      (1u << 11) /* PRESERVE_ELEMS */, err, err_len);
	if (!rc)
		rc = map_alloc_storage(map, in->max_entries * ring_file_bytes(PERF_SLOT_BYTES), err, err_len);
	if (rc)
		return rc;
	map->storage = NULL; /* no program pointers into the rings */
	map->storage_size = 0;
	struct perf_array *pa = calloc(1, sizeof(*pa) + in->max_entries * sizeof(pa->rings[0]));
	if (!pa)
		return -ENOMEM;
	map->family = pa;
	pa->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pa->event_fd < 0)
		return map_fail(err, err_len, -errno, map, "cannot make an eventfd");
	return perf_open_rings(map, pa, err, err_len);
}

static int perf_recover(struct comb_map *map)
{
	struct perf_array *pa = map->family;
	for (uint32_t i = 0; pa && i < pa->slots; i++)
		if (ring_check(pa->rings[i]))
			return -EINVAL;
	return pa ? 0 : -EINVAL;
}

static int perf_region_moved(struct comb_map *map, int fd)
{
	struct perf_array *pa = map->family;
	for (uint32_t i = 0; pa && i < pa->slots; i++) {
		int rc = ring_remap(pa->rings[i], fd);
		if (rc)
			return rc;
	}
	return 0;
}

int perf_register_fifo(struct comb_map *map, const char *path)
{
	struct perf_array *pa = map->family;
	for (uint32_t i = 0; i < pa->slots; i++) {
		int fd = ring_register_fifo(pa->rings[i], path);
		if (fd < 0)
			return fd;
		close(fd);
	}
	return 0;
}

static int perf_lookup(struct comb_map *m, const void *k, void *v) { return -ENOTSUP; }
static void *perf_lookup_ptr(struct comb_map *m, const void *k) { return NULL; }

static int perf_update(struct comb_map *map, const void *key, const void *value, uint64_t flags, int cpu)
{
	uint32_t index;
	memcpy(&index, key, sizeof(index));
	if (flags != COMB_ANY)
		return -EINVAL;
	return index < map->info.max_entries ? 0 : -E2BIG;
}

static int perf_delete(struct comb_map *map, const void *key)
{
	uint32_t index;
	memcpy(&index, key, sizeof(index));
	return index < map->info.max_entries ? 0 : -E2BIG;
}

static int perf_next(struct comb_map *map, const void *key, void *next_key)
{
	uint32_t index = 0, next = 0;
	if (key)
		memcpy(&index, key, sizeof(index));
	if (key && index < map->info.max_entries) {
		if (index + 1 >= map->info.max_entries)
			return -ENOENT;
		next = index + 1;
	}
	memcpy(next_key, &next, sizeof(next));
	return 0;
}

const struct map_ops comb_perf_event_array_ops = {
	.init = perf_init, .lookup = perf_lookup, .update = perf_update, .delete = perf_delete,
	.get_next_key = perf_next, .lookup_ptr = perf_lookup_ptr, .free = perf_free,
	.recover = perf_recover, .region_moved = perf_region_moved,
};

int comb_perf_event_output(struct comb_map *map, uint64_t flags, const void *data, uint64_t size)
{
	if (!map || map->info.type != COMB_MAP_PERF_EVENT_ARRAY || !map->family)
		return -EINVAL;
	if (flags & ~COMB_F_CURRENT_CPU)
		return -EINVAL;
	struct perf_array *pa = map->family;
	uint64_t index = flags;
	if (index == COMB_F_CURRENT_CPU) {
		int cpu = sched_getcpu();
		index = cpu < 0 ? 0 : (uint64_t)cpu;
	}
	if (index >= pa->slots)
		return -E2BIG;
	struct ring *ring = pa->rings[index];
	if (ring_output(ring, data, size, 0)) {
		__atomic_add_fetch(&ring->meta->lost, 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	return 0;
}

/* ---- consumer */

struct comb_perf_buffer {
	struct perf_array *pa;
	comb_perf_buffer_sample_fn sample_fn;
	comb_perf_buffer_lost_fn lost_fn;
	void *ctx;
	int epoll_fd;
	int wake_fd;       /* the FIFO when one is registered, else the eventfd */
	int owned_wake_fd; /* to close, or -1 */
	int current_cpu;
	uint64_t *lost_seen;
	bool watched; /* epoll_fd was handed out */
};

static int deliver_perf(void *ctx, void *data, uint32_t size)
{
	struct comb_perf_buffer *pb = ctx;
	pb->sample_fn(pb->ctx, pb->current_cpu, data, size);
	return 0;
}

int comb_perf_buffer_new(struct comb_map *map, comb_perf_buffer_sample_fn sample_fn,
			 comb_perf_buffer_lost_fn lost_fn, void *ctx, struct comb_perf_buffer **out)
{
	if (!map || map->info.type != COMB_MAP_PERF_EVENT_ARRAY || !map->family || !sample_fn || !out)
		return -EINVAL;
	struct comb_perf_buffer *pb = calloc(1, sizeof(*pb));
	struct perf_array *pa = map->family;
	if (!pb)
		return -ENOMEM;
	*pb = (struct comb_perf_buffer){ .pa = pa, .sample_fn = sample_fn, .lost_fn = lost_fn, .ctx = ctx };
	/* Every slot registers the same FIFO (perf_register_fifo): slot 0's
	 * tells where producers in other processes write. */
	pb->wake_fd = pa->slots ? ring_consumer_wake_fd(pa->rings[0], &pb->owned_wake_fd) : pa->event_fd;
	if (!pa->slots)
		pb->owned_wake_fd = -1;
	pb->lost_seen = calloc(pa->slots, sizeof(uint64_t));
	pb->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	if (!pb->lost_seen || pb->epoll_fd < 0 || epoll_ctl(pb->epoll_fd, EPOLL_CTL_ADD, pb->wake_fd, &ev)) {
		int rc = pb->lost_seen ? -errno : -ENOMEM;
		comb_perf_buffer_free(pb);
		return rc;
	}
	for (uint32_t i = 0; i < pa->slots; i++)
		pb->lost_seen[i] = __atomic_load_n(&pa->rings[i]->meta->lost, __ATOMIC_RELAXED);
	*out = pb;
	return 0;
}

int comb_perf_buffer_consume(struct comb_perf_buffer *pb)
{
	if (!pb)
		return -EINVAL;
	long total = 0;
	for (uint32_t i = 0; i < pb->pa->slots; i++) {
		struct ring *ring = pb->pa->rings[i];
		ring_drain_wakeup(ring, pb->wake_fd);
		pb->current_cpu = (int)i;
		total += ring_consume(ring, deliver_perf, pb);
		uint64_t lost = __atomic_load_n(&ring->meta->lost, __ATOMIC_RELAXED);
		if (lost != pb->lost_seen[i] && pb->lost_fn)
			pb->lost_fn(pb->ctx, (int)i, lost - pb->lost_seen[i]);
		pb->lost_seen[i] = lost;
	}
	return total > INT32_MAX ? INT32_MAX : (int)total;
}

int comb_perf_buffer_poll(struct comb_perf_buffer *pb, int timeout_ms)
{
	int n = comb_perf_buffer_consume(pb);
	if (n)
		return n;
	bool arrived = false;
	for (uint32_t i = 0; i < pb->pa->slots; i++)
		arrived |= ring_wait_begin(pb->pa->rings[i]);
	struct epoll_event ev;
	int ready = arrived || timeout_ms == 0 ? 0 : epoll_wait(pb->epoll_fd, &ev, 1, timeout_ms);
	int wait_errno = errno;
	for (uint32_t i = 0; i < pb->pa->slots; i++)
		ring_wait_end(pb->pa->rings[i]);
	if (ready < 0)
		return wait_errno == EINTR ? 0 : -wait_errno;
	return comb_perf_buffer_consume(pb);
}

int comb_perf_buffer_epoll_fd(const struct comb_perf_buffer *pb)
{
	if (!pb)
		return -EINVAL;
	struct comb_perf_buffer *mut = (struct comb_perf_buffer *)pb;
	if (!mut->watched) { /* its owner may sleep on it: producers must write */
		mut->watched = true;
		for (uint32_t i = 0; i < pb->pa->slots; i++)
			ring_wait_begin(pb->pa->rings[i]);
	}
	return pb->epoll_fd;
}

void comb_perf_buffer_free(struct comb_perf_buffer *pb)
{
	if (!pb)
		return;
	for (uint32_t i = 0; pb->watched && i < pb->pa->slots; i++)
		ring_wait_end(pb->pa->rings[i]);
	if (pb->epoll_fd >= 0)
		close(pb->epoll_fd);
	if (pb->owned_wake_fd >= 0)
		close(pb->owned_wake_fd);
	free(pb->lost_seen);
	free(pb);
}
