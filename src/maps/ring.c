/* src/maps/ring.c - the shared-memory ring under RINGBUF, USER_RINGBUF and
 * PERF_EVENT_ARRAY: layout, reservation, commit, consumption, wakeups.
 *
 * See ring.h for the layout (the kernel's, byte for byte). Positions are
 * 64-bit byte counts that only grow; a record of size bytes spans
 * len = round_up(size + 8, 8) bytes and may not end more than size - 1
 * bytes after consumer_pos (so a full ring refuses, never overwrites).
 *
 * Protocol (RINGBUF, any number of producers in any threads and processes,
 * one consumer):
 *  P1 reserve: c = a consumer_pos this process saw (cached_cons, a lower
 *     bound; re-read with acquire only when the ring looks full); CAS
 *     producer_pos from p to p + len, if p + len - c <= size - 1.
 *  P2 write the BUSY header {size | BUSY, pg_off} as one 64-bit store; pg_off
 *     is never 0 (the data is 3 pages after the meta page).
 *  P3 commit: fill the sample, then one 64-bit release store of the header
 *     without BUSY (DISCARD added on discard).
 *  P4 wakeup check: load waiters (no barrier between P3 and P4); if a
 *     consumer may sleep, wake it when consumer_pos == this record (or
 *     BPF_RB_FORCE_WAKEUP).
 *  C1 consume: from consumer_pos, follow headers (acquire loads) while the
 *     header word is committed (pg_off != 0 and not BUSY); deliver the
 *     records not discarded. producer_pos is not needed (and not read).
 *  C2 publish, every few KiB and at the end: zero the consumed bytes, then
 *     release-store consumer_pos.
 *  C3 sleep: waiters += 1 (locked: a full barrier), membarrier(GLOBAL_
 *     EXPEDITED), look at the header at consumer_pos again, sleep only if it
 *     is not committed. A consumer whose fd is watched from outside stays a
 *     waiter and does the membarrier + look after each consume that moved.
 * Why nothing is lost, reordered or torn:
 *  - Exclusive space: the CAS hands out disjoint [p, p + len); the space
 *    check with a lower bound of consumer_pos is conservative, and the
 *    bytes it allows were consumed, hence zeroed, before the release of a
 *    position >= c, which P1 acquired (cached_cons is itself stored with
 *    release and loaded with acquire), so P2's store follows the zeroing.
 *  - No stale header: every 8-byte word between consumer_pos and the end of
 *    the last lap is 0 (fresh file or zeroed at C2), so the consumer at a
 *    position a producer owns reads 0 (not written yet), BUSY, or the
 *    committed header; it stops on the first two. Records are contiguous
 *    from consumer_pos, so the word at consumer_pos is always a header.
 *  - Not torn: the committed header is released after the payload's stores
 *    and acquired before the consumer reads them.
 *  - Order: positions grow with each CAS, so one producer's records sit in
 *    the order it reserved them, and the consumer reads positions in order.
 *  - No missed wakeup: the consumer sleeps only after C3. membarrier makes
 *    every running thread of a registered process (every process that
 *    opened a ring registers; fork()ed children again) execute a full
 *    barrier; a thread not running passes one when it is switched. For a
 *    producer thread that barrier falls before P3, between P3 and P4, or
 *    after P4. Before P3: P4 comes after it and sees waiters (stored before
 *    the membarrier). Otherwise P3 precedes the barrier, so C3's look after
 *    the membarrier sees the committed header and the consumer does not
 *    sleep. Either the consumer sees the record or the producer sees the
 *    waiter; the producer then reads consumer_pos, published before waiters
 *    (C2 then C3), and the adaptive rule is the kernel's: records before
 *    this one still unread means their own commits wake the consumer (the
 *    consumer stops only at an uncommitted record, whose commit sees
 *    consumer_pos == its position). A process where membarrier is refused
 *    (seccomp) puts a full fence between P3 and P4 instead; a consumer whose
 *    membarrier is refused falls back to MEMBARRIER_CMD_GLOBAL, then to a
 *    fence plus sleeping at most 10 ms at a time.
 * A producer killed with -9 between reserve and commit leaves its record
 * reserved forever (a 0 or BUSY header): as in the kernel, where a reserved
 * record that is never submitted blocks the consumer at it, the consumer
 * delivers everything before it and waits there; producers are never
 * blocked by it (no lock) and go on until the ring is full. Nothing torn
 * is ever delivered. The kernel also keeps pending_pos (oldest busy
 * record) to defend against a consumer that skips busy records; ours never
 * does, so the field stays 0 here.
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
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include <unistd.h>

#include "maps/ring.h"

#define RB_NO_WAKEUP    1ull
#define RB_FORCE_WAKEUP 2ull

unsigned ring_page_shift_cache;

unsigned ring_page_shift_slow(void)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned s = (unsigned)__builtin_ctzl((unsigned long)(page > 0 ? page : 4096));
	__atomic_store_n(&ring_page_shift_cache, s, __ATOMIC_RELAXED);
	return s;
}

static size_t page_size(void)
{
	return (size_t)1 << ring_page_shift();
}

/* The pid of this process, cached per thread and reset in fork()'s child. */
static __thread uint32_t cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

/* How this process's commits order their store before the waiters load:
 * 1 registered for membarrier(GLOBAL_EXPEDITED) (no fence needed), -1 a
 * full fence. 0 until the first ring is opened. */
static int commit_barrier_mode;

static void register_for_membarrier(void)
{
	long rc = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0);
	__atomic_store_n(&commit_barrier_mode, rc == 0 ? 1 : -1, __ATOMIC_SEQ_CST);
}

static void forget_pid(void)
{
	cached_pid = 0;
	register_for_membarrier(); /* a child is a new mm: register it before it runs on */
}

static void install_fork_handler(void)
{
	pthread_atfork(NULL, NULL, forget_pid);
}

static pthread_once_t membarrier_once = PTHREAD_ONCE_INIT;

static void setup_process(void)
{
	register_for_membarrier();
	pthread_once(&pid_once, install_fork_handler);
}

/* 0: not tried yet; 1: GLOBAL_EXPEDITED works; 2: GLOBAL works; 3: neither. */
static int consumer_barrier_mode;

void ring_consumer_barrier(void)
{
	int mode = __atomic_load_n(&consumer_barrier_mode, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (mode <= 1 && syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0)
		mode = 1;
	else if (mode <= 2 && syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		mode = 2;
	else
		mode = 3;
	__atomic_store_n(&consumer_barrier_mode, mode, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Can a sleeping consumer rely on the membarrier protocol? */
static bool consumer_can_sleep_forever(void)
{
	return __atomic_load_n(&consumer_barrier_mode, __ATOMIC_RELAXED) != 3;
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
	pthread_once(&membarrier_once, setup_process);
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

/* A header word: committed (consumable) when pg_off is set and BUSY is not. */
static bool header_committed(uint64_t word)
{
	return (word >> 32) != 0 && !((uint32_t)word & RING_BUSY_BIT);
}

static uint64_t *header_at(const struct ring *ring, uint64_t pos)
{
	return (uint64_t *)(ring->data + (pos & ring->mask));
}

/* Re-read consumer_pos (the ring looks full) and remember it. */
static uint64_t refresh_consumer_pos(struct ring *ring)
{
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE);
	__atomic_store_n(&ring->cached_cons, cons, __ATOMIC_RELEASE);
	return cons;
}

#define RING_PREFETCH_AHEAD 256 /* bytes: four cache lines */

/* Ask for a line in exclusive state (PREFETCHW; __builtin_prefetch(p, 1)
 * emits a read prefetch on baseline x86-64, after which the store still
 * waits for an ownership request). CPUs without PREFETCHW run it as a NOP. */
static inline void prefetch_for_write(const void *p)
{
#if defined(__x86_64__)
	__asm__ __volatile__("prefetchw %0" : : "m"(*(const volatile char *)p));
#else
	__builtin_prefetch(p, 1);
#endif
}

/* P1: claim [*pos, *pos + len) by CAS on producer_pos; false when full. */
static bool claim_space(struct ring *ring, uint64_t len, uint64_t *pos)
{
	uint64_t cons = __atomic_load_n(&ring->cached_cons, __ATOMIC_ACQUIRE);
	uint64_t prod = __atomic_load_n(ring->producer_pos, __ATOMIC_RELAXED);
	for (;;) {
		if (prod + len - cons > ring->mask) {
			cons = refresh_consumer_pos(ring); /* read before prod: cons <= prod */
			prod = __atomic_load_n(ring->producer_pos, __ATOMIC_RELAXED);
			if (prod + len - cons > ring->mask)
				return false;
		}
		if (__atomic_compare_exchange_n(ring->producer_pos, &prod, prod + len, true, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			*pos = prod;
			return true;
		}
	}
}

void *ring_reserve(struct ring *ring, uint64_t size)
{
	if (size > RING_MAX_RECORD)
		return NULL;
	uint64_t len = (size + RING_HDR_SIZE + 7) & ~7ull, pos;
	if (len > ring->mask || !claim_space(ring, len, &pos))
		return NULL;
	uint64_t *hdr = header_at(ring, pos);
	/* Ask for the line a few records ahead now: the consumer zeroed it a
	 * lap ago, and fetching it only when the next CAS waits for the
	 * stores to drain would stall this producer on every line. */
	prefetch_for_write(ring->data + ((pos + RING_PREFETCH_AHEAD) & ring->mask));
	uint64_t pg_off = ((uint8_t *)hdr - (uint8_t *)ring->meta) >> ring_page_shift();
	__atomic_store_n(hdr, (uint64_t)((uint32_t)size | RING_BUSY_BIT) | pg_off << 32, __ATOMIC_RELAXED);
	return hdr + 1;
}

/* P4: wake a consumer that may sleep, by the kernel's adaptive rule. */
static void wake_after_commit(struct ring *ring, const uint64_t *hdr, uint64_t flags)
{
	if ((flags & RB_NO_WAKEUP) && !(flags & RB_FORCE_WAKEUP))
		return;
	if (!__atomic_load_n(&ring->meta->waiters, __ATOMIC_ACQUIRE))
		return; /* nobody asleep, and consumer_pos's line stays unread */
	uint64_t rec_pos = (uint64_t)((const uint8_t *)hdr - ring->data);
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE) & ring->mask;
	if ((flags & RB_FORCE_WAKEUP) || cons == rec_pos)
		ring_notify(ring);
}

void ring_commit(void *sample, uint64_t flags, bool discard)
{
	uint64_t *hdr = (uint64_t *)sample - 1;
	uint64_t word = __atomic_load_n(hdr, __ATOMIC_RELAXED);
	struct ring *ring = ring_of_record((const struct ring_record_hdr *)hdr);
	uint32_t len = (uint32_t)word & ~RING_BUSY_BIT;
	if (discard)
		len |= RING_DISCARD_BIT;
	__atomic_store_n(hdr, (word & ~0xffffffffull) | len, __ATOMIC_RELEASE);
	if (__builtin_expect(__atomic_load_n(&commit_barrier_mode, __ATOMIC_RELAXED) != 1, 0))
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* no membarrier here: P3 | fence | P4 */
	wake_after_commit(ring, hdr, flags);
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
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* slow path: order the caller's stores first */
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
	ring_consumer_barrier();
	/* Without any membarrier a wakeup may be missed: never report "idle"
	 * for long (callers sleep; a false "data" only makes them look). */
	return ring_has_data(ring) || !consumer_can_sleep_forever();
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
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_ACQUIRE);
	return header_committed(__atomic_load_n(header_at(ring, cons), __ATOMIC_ACQUIRE));
}

/* Bytes consumed between two publications of consumer_pos. */
static uint64_t publish_interval(const struct ring *ring)
{
	uint64_t quarter = (ring->mask + 1) / 4;
	return quarter < 16384 ? quarter : 16384;
}

/* C2: zero [*published, cons) (so no stale header survives), then release
 * consumer_pos. The range is contiguous thanks to the data's second view. */
static void publish_consumed(struct ring *ring, uint64_t *published, uint64_t cons)
{
	if (cons == *published)
		return;
	memset(ring->data + (*published & ring->mask), 0, cons - *published);
	__atomic_store_n(ring->consumer_pos, cons, __ATOMIC_RELEASE);
	*published = cons;
}

/* C1: deliver committed records from *cons on; 0, or fn's value < 0.
 * producer_pos is never read: a committed header is always below it, and
 * leaving its line alone spares the producers' CAS a cache miss. A length
 * beyond the ring (a corrupt file) stops the walk. */
static int consume_committed(struct ring *ring, uint64_t *cons, ring_record_fn fn, void *ctx, long *count)
{
	uint64_t pos = *cons, published = pos, interval = publish_interval(ring);
	int rc = 0;
	for (;;) {
		uint64_t *hdr = header_at(ring, pos);
		uint64_t word = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		uint32_t len = (uint32_t)word;
		if (!header_committed(word) || record_span(len) > ring->mask)
			break; /* not written yet, BUSY, or corrupt: wait there */
		pos += record_span(len);
		if (!(len & RING_DISCARD_BIT)) {
			(*count)++;
			if ((rc = fn(ctx, hdr + 1, len)) < 0)
				break;
		}
		if (pos - published >= interval)
			publish_consumed(ring, &published, pos);
	}
	publish_consumed(ring, &published, pos);
	*cons = pos;
	return rc < 0 ? rc : 0;
}

long ring_consume(struct ring *ring, ring_record_fn fn, void *ctx)
{
	uint64_t cons = __atomic_load_n(ring->consumer_pos, __ATOMIC_RELAXED), start = cons;
	long count = 0;
	for (;;) {
		int rc = consume_committed(ring, &cons, fn, ctx, &count);
		if (rc < 0)
			return rc;
		/* C3 for a consumer watched from outside (a permanent waiter):
		 * after moving, make sure no commit missed our new position. */
		if (cons == start || !__atomic_load_n(&ring->meta->waiters, __ATOMIC_SEQ_CST))
			return count;
		ring_consumer_barrier();
		start = cons;
		if (!ring_has_data(ring))
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
