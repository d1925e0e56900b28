/* src/maps/ring.c - the shared-memory ring under RINGBUF, USER_RINGBUF and
 * PERF_EVENT_ARRAY: layout, reservation, commit, consumption, wakeups.
 *
 * See ring.h for the layout. The algorithm is the kernel's: a producer
 * reserves len = round_up(size + 8, 8) bytes at producer_pos under the lock,
 * provided neither the consumer's position nor the oldest record still being
 * written (pending_pos) is more than size - 1 bytes behind the new end, so a
 * full ring makes reserve fail and nothing is overwritten. The header's len
 * gets the BUSY bit, producer_pos is published with release ordering, and
 * commit later clears BUSY (adding DISCARD on discard) with a full barrier.
 * The consumer (one at a time) walks from consumer_pos, stops at the first
 * BUSY record and publishes consumer_pos with release ordering.
 *
 * Adaptive wakeup, as the kernel: commit wakes the consumer only when the
 * consumer has caught up to this very record (consumer_pos == its
 * position); BPF_RB_NO_WAKEUP never wakes, BPF_RB_FORCE_WAKEUP always does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <signal.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/ring.h"

#define RB_NO_WAKEUP    1ull
#define RB_FORCE_WAKEUP 2ull

unsigned ring_page_shift(void)
{
	static unsigned shift;
	unsigned s = __atomic_load_n(&shift, __ATOMIC_RELAXED);
	if (!s) {
		long page = sysconf(_SC_PAGESIZE);
		s = (unsigned)__builtin_ctzl((unsigned long)(page > 0 ? page : 4096));
		__atomic_store_n(&shift, s, __ATOMIC_RELAXED);
	}
	return s;
}

static size_t page_size(void)
{
	return (size_t)1 << ring_page_shift();
}

/* The pid of this process, cached per thread and reset in fork()'s child. */
static __thread uint32_t cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void forget_pid(void)
{
	cached_pid = 0;
}

static void install_fork_handler(void)
{
	pthread_atfork(NULL, NULL, forget_pid);
}

static uint32_t self_pid(void)
{
	if (!cached_pid) {
		pthread_once(&pid_once, install_fork_handler);
		cached_pid = (uint32_t)getpid();
	}
	return cached_pid;
}

static bool owner_is_dead(uint32_t owner)
{
	return owner && kill((pid_t)owner, 0) == -1 && errno == ESRCH;
}

void ring_lock(struct ring *ring)
{
	uint32_t me = self_pid();
	for (unsigned spins = 0;; spins++) {
		uint32_t owner = 0;
		if (__atomic_compare_exchange_n(&ring->meta->lock, &owner, me, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		if (spins < 256) {
			__builtin_ia32_pause();
			continue;
		}
		/* A producer that died holding the lock left at most a header
		 * with producer_pos not yet past it: take the lock over. */
		if (owner_is_dead(owner) &&
		    __atomic_compare_exchange_n(&ring->meta->lock, &owner, me, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		sched_yield();
	}
}

void ring_unlock(struct ring *ring)
{
	__atomic_store_n(&ring->meta->lock, 0, __ATOMIC_RELEASE);
}

uint64_t ring_file_bytes(uint64_t data_size)
{
	return RING_META_PAGES * (uint64_t)page_size() + data_size;
}

/* Map the shared part of the ring (meta, consumer and producer pages, the
 * data, then the data again) from fd at offset, at region. */
static int map_shared_views(uint8_t *region, int fd, uint64_t offset, uint64_t data_size)
{
	size_t meta = RING_META_PAGES * page_size();
	int flags = MAP_SHARED | MAP_FIXED;
	if (mmap(region, meta + data_size, PROT_READ | PROT_WRITE, flags, fd, (off_t)offset) == MAP_FAILED ||
	    mmap(region + meta + data_size, data_size, PROT_READ | PROT_WRITE, flags, fd,
		 (off_t)(offset + meta)) == MAP_FAILED)
		return -errno;
	return 0;
}

/* Reserve address space, then place the local page, the shared views and
 * the second view of the data inside it. */
static int map_views(int fd, uint64_t offset, uint64_t data_size, uint8_t **out, size_t *out_size)
{
	size_t page = page_size();
	size_t total = page + RING_META_PAGES * page + 2 * data_size;
	uint8_t *base = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -ENOMEM;
	if (mmap(base, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		    MAP_FAILED ||
	    map_shared_views(base + page, fd, offset, data_size)) {
		munmap(base, total);
		return -ENOMEM;
	}
	*out = base;
	*out_size = total;
	return 0;
}

/* A ring someone else wrote: its meta page must describe this ring. */
static int check_existing_meta(const struct ring_meta *meta, uint64_t data_size)
{
	return meta->magic == RING_MAGIC && meta->data_size == data_size ? 0 : -EINVAL;
}

int ring_open(int fd, uint64_t offset, uint64_t data_size, bool fresh, int event_fd, struct ring **out)
{
	size_t page = page_size();
	if (data_size < page || (data_size & (data_size - 1)) || (offset & (page - 1)) || fd < 0)
		return -EINVAL;
	uint8_t *base;
	size_t total;
	int rc = map_views(fd, offset, data_size, &base, &total);
	if (rc)
		return rc;
	struct ring *ring = (struct ring *)base;
	uint8_t *region = base + page;
	*ring = (struct ring){
		.mapping = base, .mapping_size = total, .meta = (struct ring_meta *)region,
		.consumer_pos = (uint64_t *)(region + page), .producer_pos = (uint64_t *)(region + 2 * page),
		.pending_pos = (uint64_t *)(region + 2 * page) + 1, .data = region + RING_META_PAGES * page,
		.mask = data_size - 1, .file_offset = offset, .event_fd = event_fd, .fifo_fd = -1,
	};
	if (fresh) {
		ring->meta->magic = RING_MAGIC;
		ring->meta->data_size = data_size;
	} else if ((rc = check_existing_meta(ring->meta, data_size)) != 0) {
		ring_destroy(ring);
		return rc;
	}
	if (event_fd < 0) {
		ring->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ring->owns_event_fd = true;
		if (ring->event_fd < 0) {
			rc = -errno;
			ring_destroy(ring);
			return rc;
		}
	}
	*out = ring;
	return 0;
}

int ring_remap(struct ring *ring, int fd)
{
	return map_shared_views((uint8_t *)ring->meta, fd, ring->file_offset, ring->mask + 1);
}

int ring_check(const struct ring *ring)
{
	if (check_existing_meta(ring->meta, ring->mask + 1))
		return -EINVAL;
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE);
	uint64_t prod = __atomic_load_n(ring->producer_pos, __ATOMIC_ACQUIRE);
	uint64_t pend = __atomic_load_n(ring->pending_pos, __ATOMIC_ACQUIRE);
	if (cons % 8 || prod % 8 || pend % 8 || cons > prod || prod - cons > ring->mask + 1 || pend > prod)
		return -EINVAL;
	return 0;
}

void ring_destroy(struct ring *ring)
{
	if (!ring)
		return;
	if (ring->owns_event_fd && ring->event_fd >= 0)
		close(ring->event_fd);
	if (ring->fifo_fd >= 0)
		close(ring->fifo_fd);
	munmap(ring->mapping, ring->mapping_size);
}

struct ring *ring_of_record(const struct ring_record_hdr *hdr)
{
	uintptr_t page_start = (uintptr_t)hdr & ~(uintptr_t)(page_size() - 1);
	const uint8_t *meta = (const uint8_t *)(page_start - ((uintptr_t)hdr->pg_off << ring_page_shift()));
	return (struct ring *)(meta - page_size());
}

static uint64_t record_span(uint32_t len)
{
	return ((uint64_t)(len & ~(RING_BUSY_BIT | RING_DISCARD_BIT)) + RING_HDR_SIZE + 7) & ~7ull;
}

void *ring_reserve(struct ring *ring, uint64_t size)
{
	if (size > RING_MAX_RECORD)
		return NULL;
	uint64_t len = (size + RING_HDR_SIZE + 7) & ~7ull;
	if (len > ring->mask + 1)
		return NULL;
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE);
	ring_lock(ring);
	uint64_t prod = *ring->producer_pos, pend = *ring->pending_pos;
	while (pend < prod) { /* skip records already committed */
		const struct ring_record_hdr *h = (const void *)(ring->data + (pend & ring->mask));
		uint32_t hlen = __atomic_load_n(&h->len, __ATOMIC_ACQUIRE);
		if (hlen & RING_BUSY_BIT)
			break;
		pend += record_span(hlen);
	}
	*ring->pending_pos = pend;
	if (prod + len - cons > ring->mask || prod + len - pend > ring->mask) {
		ring_unlock(ring);
		return NULL;
	}
	struct ring_record_hdr *hdr = (void *)(ring->data + (prod & ring->mask));
	hdr->len = (uint32_t)size | RING_BUSY_BIT;
	hdr->pg_off = (uint32_t)(((uint8_t *)hdr - (uint8_t *)ring->meta) >> ring_page_shift());
	__atomic_store_n(ring->producer_pos, prod + len, __ATOMIC_RELEASE);
	ring_unlock(ring);
	return hdr + 1;
}

void ring_commit(void *sample, uint64_t flags, bool discard)
{
	struct ring_record_hdr *hdr = (struct ring_record_hdr *)sample - 1;
	struct ring *ring = ring_of_record(hdr);
	uint32_t len = hdr->len & ~RING_BUSY_BIT;
	if (discard)
		len |= RING_DISCARD_BIT;
	__atomic_exchange_n(&hdr->len, len, __ATOMIC_SEQ_CST);
	uint64_t rec_pos = (uint64_t)((uint8_t *)hdr - ring->data);
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_SEQ_CST) & ring->mask;
	if ((flags & RB_FORCE_WAKEUP) || (cons == rec_pos && !(flags & RB_NO_WAKEUP)))
		ring_notify(ring);
}

int ring_output(struct ring *ring, const void *data, uint64_t size, uint64_t flags)
{
	void *sample = ring_reserve(ring, size);
	if (!sample)
		return -EAGAIN;
	memcpy(sample, data, size);
	ring_commit(sample, flags, false);
	return 0;
}

uint64_t ring_query(const struct ring *ring, uint64_t flags)
{
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE);
	uint64_t prod = __atomic_load_n(ring->producer_pos, __ATOMIC_ACQUIRE);
	switch (flags) {
	case 0: return prod - cons;        /* BPF_RB_AVAIL_DATA */
	case 1: return ring->mask + 1;     /* BPF_RB_RING_SIZE */
	case 2: return cons;               /* BPF_RB_CONS_POS */
	case 3: return prod;               /* BPF_RB_PROD_POS */
	default: return 0;
	}
}

/* Producer: (re)open the FIFO a consumer in another process registered. */
static int fifo_for_wakeup(struct ring *ring)
{
	uint32_t gen = __atomic_load_n(&ring->meta->wake_gen, __ATOMIC_ACQUIRE);
	if (gen == ring->fifo_gen)
		return ring->fifo_fd;
	if (ring->fifo_fd >= 0)
		close(ring->fifo_fd);
	char path[sizeof(ring->meta->wake_path)];
	memcpy(path, ring->meta->wake_path, sizeof(path));
	path[sizeof(path) - 1] = '\0';
	/* O_RDWR, not O_WRONLY: this process then counts as a reader, so a
	 * write after the consumer went away fills the pipe (EAGAIN) instead
	 * of raising SIGPIPE in the producer. */
	ring->fifo_fd = path[0] ? open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC) : -1;
	ring->fifo_gen = gen;
	return ring->fifo_fd;
}

void ring_notify(struct ring *ring)
{
	if (!__atomic_load_n(&ring->meta->waiters, __ATOMIC_SEQ_CST))
		return; /* the consumer is awake and will see the record */
	if (__atomic_exchange_n(&ring->meta->wake_pending, 1, __ATOMIC_SEQ_CST))
		return; /* the consumer has not drained the last wakeup yet */
	if (ring->event_fd >= 0) {
		uint64_t one = 1;
		ssize_t n = write(ring->event_fd, &one, sizeof(one));
		(void)n; /* EAGAIN: the counter is saturated, the fd readable */
	}
	int fifo = fifo_for_wakeup(ring);
	if (fifo >= 0) {
		char byte = 1;
		ssize_t n = write(fifo, &byte, 1);
		(void)n; /* EAGAIN: the FIFO is full, so readable */
	}
}

bool ring_wait_begin(struct ring *ring)
{
	__atomic_add_fetch(&ring->meta->waiters, 1, __ATOMIC_SEQ_CST);
	return ring_has_data(ring);
}

void ring_wait_end(struct ring *ring)
{
	__atomic_sub_fetch(&ring->meta->waiters, 1, __ATOMIC_SEQ_CST);
}

void ring_drain_wakeup(struct ring *ring, int fd)
{
	if (!__atomic_load_n(&ring->meta->wake_pending, __ATOMIC_SEQ_CST))
		return; /* nothing was written since the last drain */
	char buf[256];
	while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		;
	__atomic_store_n(&ring->meta->wake_pending, 0, __ATOMIC_SEQ_CST);
}

int ring_register_fifo(struct ring *ring, const char *fifo_path)
{
	char path[sizeof(ring->meta->wake_path)];
	if (!fifo_path || strlen(fifo_path) >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, fifo_path, strlen(fifo_path) + 1); /* it may be meta->wake_path itself */
	if (mkfifo(path, 0600) && errno != EEXIST)
		return -errno;
	struct stat st;
	if (stat(path, &st) || !S_ISFIFO(st.st_mode))
		return -EEXIST;
	/* O_RDWR: the FIFO never reports end-of-file or hang-up when producers
	 * come and go, and producers' non-blocking opens always succeed. */
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ring_lock(ring);
	snprintf(ring->meta->wake_path, sizeof(ring->meta->wake_path), "%s", path);
	__atomic_add_fetch(&ring->meta->wake_gen, 1, __ATOMIC_RELEASE);
	ring_unlock(ring);
	return fd;
}

bool ring_has_data(const struct ring *ring)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE);
	uint64_t prod = __atomic_load_n(ring->producer_pos, __ATOMIC_ACQUIRE);
	if (cons >= prod)
		return false;
	const uint32_t *len = (const uint32_t *)(ring->data + (cons & ring->mask));
	return !(__atomic_load_n(len, __ATOMIC_ACQUIRE) & RING_BUSY_BIT);
}

long ring_consume(struct ring *ring, ring_record_fn fn, void *ctx)
{
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE);
	long count = 0;
	for (;;) {
		bool progressed = false;
		uint64_t prod = __atomic_load_n(ring->producer_pos, __ATOMIC_ACQUIRE);
		while (cons < prod) {
			uint32_t *lenp = (uint32_t *)(ring->data + (cons & ring->mask));
			uint32_t len = __atomic_load_n(lenp, __ATOMIC_ACQUIRE);
			if (len & RING_BUSY_BIT)
				break;
			progressed = true;
			cons += record_span(len);
			if (!(len & RING_DISCARD_BIT)) {
				int rc = fn(ctx, lenp + 2, len & ~RING_DISCARD_BIT);
				if (rc < 0) {
					__atomic_store_n(ring->consumer_pos, cons, __ATOMIC_RELEASE);
					return rc;
				}
				count++;
			}
			/* Publish the position every few records, not after each:
			 * producers read it on every reserve and commit, so each
			 * store costs them a cache miss. */
			if ((count & 63) == 0)
				__atomic_store_n(ring->consumer_pos, cons, __ATOMIC_RELEASE);
		}
		__atomic_store_n(ring->consumer_pos, cons, __ATOMIC_RELEASE);
		if (!progressed)
			return count;
	}
}

int ring_consumer_wake_fd(struct ring *ring, int *owned)
{
	*owned = -1;
	if (ring->meta->wake_path[0]) {
		/* Producers in every process write to the registered FIFO. */
		int fd = ring_register_fifo(ring, ring->meta->wake_path);
		if (fd >= 0) {
			*owned = fd;
			return fd;
		}
	}
	return ring->event_fd;
}
