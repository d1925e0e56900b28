/* src/maps/ring.h - the ring every ring-buffer map is built on (not public).
 *
 * A ring is the kernel's BPF ring buffer, byte for byte, in shared memory:
 *
 *   [local page][meta page][consumer_pos page][producer_pos page][data][data again]
 *    private    '--- the map's region file at some offset, MAP_SHARED ---'
 *
 * The shared pages live in the map's own region file (region.c), at an
 * offset in its data area, so a process that opens the pinned map maps the
 * very same ring; the second data view maps the data's file range again.
 * The meta, consumer and producer pages and the data area sit where the
 * kernel's struct bpf_ringbuf puts them, so a record header's pg_off (pages
 * from the meta page to the header) has the kernel's value and leads back to
 * the ring from a sample alone (bpf_ringbuf_submit gets nothing else). The
 * data area (max_entries bytes, a power of two) is mapped twice back to back,
 * so a record that crosses the end is still contiguous in memory.
 *
 * The local page just before the meta page is private to the process and
 * holds struct ring: pointers, the file offset and the wakeup descriptors. After
 * fork() the child's copy is still right (same addresses, inherited fds).
 *
 * Records: an 8-byte header { u32 len; u32 pg_off } then len bytes, padded
 * to 8. len carries RING_BUSY_BIT while the producer still writes the record
 * and RING_DISCARD_BIT when it was discarded. RINGBUF producers reserve
 * without a lock (a CAS on producer_pos); the consumer zeroes what it
 * consumed, so a header word of 0 means "reserved, header not yet written".
 * ring.c's design comment has the protocol and its proof. USER_RINGBUF
 * producers (user_ringbuf.c) still serialise on the meta page's lock, whose
 * word holds the owner's pid so that a process killed while holding it is
 * detected and the lock taken over.
 *
 * Wakeups: a consumer sleeps on a file descriptor. Within a process and its
 * fork()ed children that is an eventfd made with the ring; a consumer in an
 * unrelated process registers a FIFO path in the meta page and producers
 * write a byte to it (producers open it O_RDWR: never SIGPIPE, never block).
 * Producers make the system call only when a consumer may be asleep
 * (meta->waiters, raised before it sleeps or while someone watches the fd)
 * and at most once per wakeup it has not drained yet (meta->wake_pending).
 */
#ifndef COMB_MAPS_RING_H
#define COMB_MAPS_RING_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_BUSY_BIT     (1u << 31)
#define RING_DISCARD_BIT  (1u << 30)
#define RING_HDR_SIZE     8u
#define RING_MAX_RECORD   (UINT32_MAX / 4) /* the kernel's RINGBUF_MAX_RECORD_SZ */
#define RING_MAGIC        0x676e6972626d6f63ull /* "combring" */
#define RING_META_PAGES   3u /* meta, consumer_pos, producer_pos */

struct ring_record_hdr {
	uint32_t len;
	uint32_t pg_off;
};

/* Page 0 of the shared region. The producers' lock and the consumer's
 * wakeup words sit on cache lines of their own: a consumer going to sleep
 * or draining a wakeup must not take the line a producer locks away from
 * it on every record. */
#define RING_CACHE_LINE 64
struct ring_meta {
	uint64_t magic;
	uint64_t data_size;
	uint32_t wake_gen;        /* bumped whenever wake_path changes */
	uint32_t drain_busy;      /* user ring buffer: a drain is running */
	uint64_t lost;            /* perf event array: records dropped, ring full */
	char wake_path[256];      /* FIFO of a consumer in another process, or "" */
	_Alignas(RING_CACHE_LINE) uint32_t lock; /* producers' reservations: 0 or the owner's pid */
	_Alignas(RING_CACHE_LINE) uint32_t waiters; /* consumers asleep (or watching an fd): wake them */
	uint32_t wake_pending;    /* a wakeup was sent and the consumer has not drained it */
};

/* The local (private) page. */
struct ring {
	uint8_t *mapping;         /* start of the whole reservation (local page) */
	size_t mapping_size;
	struct ring_meta *meta;
	uint64_t *consumer_pos;
	uint64_t *producer_pos;
	uint64_t *pending_pos;    /* next to producer_pos, as in the kernel */
	uint8_t *data;
	uint64_t mask;            /* data_size - 1 */
	uint64_t file_offset;     /* of the meta page in the region file */
	int event_fd;             /* -1 if none */
	bool owns_event_fd;
	int fifo_fd;              /* producer side: the registered FIFO, or -1 */
	uint32_t fifo_gen;
	/* Producers of this process: a consumer_pos seen lately (a lower
	 * bound of the real one), so reserve reads the consumer's line only
	 * when the ring looks full. Own cache line: producers write it rarely. */
	_Alignas(RING_CACHE_LINE) uint64_t cached_cons;
};

/* Page size, as a shift (inline: reserve and commit use it per record). */
extern unsigned ring_page_shift_cache;
unsigned ring_page_shift_slow(void);
static inline unsigned ring_page_shift(void)
{
	unsigned s = __atomic_load_n(&ring_page_shift_cache, __ATOMIC_RELAXED);
	return __builtin_expect(s != 0, 1) ? s : ring_page_shift_slow();
}
/* Bytes of file a ring of data_size bytes takes (meta pages + data). */
uint64_t ring_file_bytes(uint64_t data_size);
/* Map the ring of data_size bytes (power of two, page multiple) kept in fd
 * at offset (page aligned, ring_file_bytes long). fresh: the bytes are new
 * (zero) and get the meta page written; else the meta page must describe
 * this ring (-EINVAL). event_fd: -1 to make one, else one the ring uses
 * without owning it. fd is not kept open by the ring. */
int ring_open(int fd, uint64_t offset, uint64_t data_size, bool fresh, int event_fd, struct ring **out);
/* The region moved to another file (pinning across filesystems): map the
 * shared views from fd instead, at the same addresses. */
int ring_remap(struct ring *ring, int fd);
/* Are the meta page and the positions sane? 0 or -EINVAL. */
int ring_check(const struct ring *ring);
void ring_destroy(struct ring *ring);
/* The ring a record belongs to (from its header's pg_off). */
struct ring *ring_of_record(const struct ring_record_hdr *hdr);

/* Producer side (kernel-program semantics): NULL when full or too big. */
void *ring_reserve(struct ring *ring, uint64_t size);
void ring_commit(void *sample, uint64_t flags, bool discard);
/* Reserve, copy, submit: 0 or -EAGAIN (full) / -E2BIG. */
int ring_output(struct ring *ring, const void *data, uint64_t size, uint64_t flags);
uint64_t ring_query(const struct ring *ring, uint64_t flags);
/* Wake the consumer (at most one system call until it drains). */
void ring_notify(struct ring *ring);

/* Consumer side: call fn for each committed record (discarded ones are
 * skipped), advancing consumer_pos; stop when fn returns < 0 (returned).
 * Returns the number of records given to fn. */
typedef int (*ring_record_fn)(void *ctx, void *data, uint32_t size);
long ring_consume(struct ring *ring, ring_record_fn fn, void *ctx);
/* Is a committed (or discarded) record waiting? */
bool ring_has_data(const struct ring *ring);
/* Consumer: read everything pending on fd and re-arm wakeups. */
void ring_drain_wakeup(struct ring *ring, int fd);
/* Consumer: about to sleep (or watching the fd from outside): producers
 * must wake it. ring_wait_begin returns true if data arrived meanwhile. */
bool ring_wait_begin(struct ring *ring);
/* Make every producer's earlier stores visible to this thread, or every
 * producer's later loads see this thread's earlier stores (membarrier). */
void ring_consumer_barrier(void);
void ring_wait_end(struct ring *ring);
/* The lock of USER_RINGBUF producers and FIFO registration. */
void ring_lock(struct ring *ring);
void ring_unlock(struct ring *ring);
/* Consumer in another process: wake it through a FIFO at path (made if
 * needed). Returns an fd open on the FIFO (O_RDWR, non-blocking) or -errno. */
int ring_register_fifo(struct ring *ring, const char *path);

/* Map-level pieces shared by ringbuf.c, user_ringbuf.c, perf_event_array.c. */
struct comb_map;
int ringbuf_map_init(struct comb_map *map, char *err, size_t err_len);
void ringbuf_map_free(struct comb_map *map);
int ringbuf_map_recover(struct comb_map *map);
int ringbuf_map_region_moved(struct comb_map *map, int fd);
/* The wakeup descriptor a consumer (or a blocked user-ring producer)
 * should sleep on: the registered FIFO (opened into *owned, to close) when
 * there is one, else the ring's eventfd (*owned = -1). */
int ring_consumer_wake_fd(struct ring *ring, int *owned);
/* comb_ringbuf_wake_fifo for a PERF_EVENT_ARRAY: every slot's ring. */
int perf_register_fifo(struct comb_map *map, const char *path);
/* bpf_user_ringbuf_drain's loop: fn gets each sample (discarded ones are
 * skipped) and returns 0 to go on, 1 to stop, < 0 to stop with that error.
 * Returns the number of samples given to fn, or a negative errno (-EBUSY:
 * another drain runs; -EINVAL: flags or corrupt positions). */
typedef int (*user_ringbuf_sample_fn)(void *ctx, void *sample, uint32_t size);
long user_ringbuf_drain(struct comb_map *map, user_ringbuf_sample_fn fn, void *ctx, uint64_t flags);

#endif
