/* comb/ringbuf.h - ring buffers: RINGBUF consumers, USER_RINGBUF producers,
 * PERF_EVENT_ARRAY consumers, and the producer side programs use.
 *
 * A RINGBUF map is the kernel's ring buffer in shared memory (same record
 * layout, same reserve/commit rules, same adaptive wakeups), so it works
 * between the threads of a process and between processes. The consumer API
 * follows libbpf's ring_buffer__*: a comb_ring_buffer gathers one or more
 * RINGBUF maps behind one epoll file descriptor that becomes readable when a
 * producer wakes the consumer.
 *
 * The ring's pages live in the map's shared-memory file, so a pinned ring
 * buffer is one ring for every process that opens it (comb_map_open_pinned):
 * records written in one process are read in another.
 *
 * Wakeups use an eventfd made with the map, shared by the creating process
 * and its fork()ed children. A consumer in an unrelated process (one that
 * opened a pinned map) calls comb_ringbuf_wake_fifo() first: producers in
 * every process then also write to a FIFO at that path (by convention the
 * pinned file's path plus ".wake"), and the consumer sleeps on it. A FIFO is
 * chosen because any process that can open the path can wake the consumer,
 * without a connection or a server; producers open it read-write, so a
 * consumer that went away never raises SIGPIPE in a producer. The same
 * works for a USER_RINGBUF producer waiting for a drain, and for a
 * PERF_EVENT_ARRAY consumer (the FIFO is registered in every slot).
 * Pinning a ring onto another filesystem copies it: do that before
 * producers start (records written during the copy may be lost).
 *
 * USER_RINGBUF: user space produces (comb_user_ring_buffer_*, libbpf's
 * user_ring_buffer__* model), programs consume with bpf_user_ringbuf_drain.
 * PERF_EVENT_ARRAY: one ring per slot (CPU); programs write with
 * bpf_perf_event_output, user space reads with comb_perf_buffer_*.
 *
 * Functions return 0 (or a count) or a negative errno unless noted.
 */
#ifndef COMB_RINGBUF_H
#define COMB_RINGBUF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct comb_map;

/* Flags of submit/discard/output (kernel values). */
enum { COMB_RB_NO_WAKEUP = 1, COMB_RB_FORCE_WAKEUP = 2 };
/* What comb_ringbuf_query answers (kernel values). */
enum { COMB_RB_AVAIL_DATA = 0, COMB_RB_RING_SIZE = 1, COMB_RB_CONS_POS = 2, COMB_RB_PROD_POS = 3 };

/* --- RINGBUF, producer side (what bpf_ringbuf_* do; usable from C too). */
/* A sample of size bytes, or NULL when the ring is full, size is too big or
 * flags is not 0. Commit it with submit or discard. */
void *comb_ringbuf_reserve(struct comb_map *map, uint64_t size, uint64_t flags);
void comb_ringbuf_submit(void *sample, uint64_t flags);
void comb_ringbuf_discard(void *sample, uint64_t flags);
/* Reserve, copy, submit: 0, -EAGAIN (full), -EINVAL (flags, map type). */
int comb_ringbuf_output(struct comb_map *map, const void *data, uint64_t size, uint64_t flags);
uint64_t comb_ringbuf_query(struct comb_map *map, uint64_t what);
/* Wake this map's consumer through a FIFO at path (made if missing), from
 * producers in any process. RINGBUF, USER_RINGBUF (wakes a producer blocked
 * in reserve_blocking) or PERF_EVENT_ARRAY; call before creating the
 * consumer (or the user ring buffer producer). */
int comb_ringbuf_wake_fifo(struct comb_map *map, const char *path);

/* --- RINGBUF, consumer side (one consumer per map at a time). */
struct comb_ring_buffer;
/* Return < 0 to stop consuming (that value is returned by poll/consume). */
typedef int (*comb_ring_buffer_sample_fn)(void *ctx, void *data, size_t size);

struct comb_ring_buffer_opts {
	size_t sz; /* sizeof(struct comb_ring_buffer_opts) */
};
int comb_ring_buffer_new(struct comb_map *map, comb_ring_buffer_sample_fn fn, void *ctx,
			 const struct comb_ring_buffer_opts *opts, struct comb_ring_buffer **rb);
int comb_ring_buffer_add(struct comb_ring_buffer *rb, struct comb_map *map, comb_ring_buffer_sample_fn fn,
			 void *ctx);
/* Consume what is there; if nothing, wait up to timeout_ms (-1: forever)
 * for a wakeup and consume. Returns the number of records, or < 0. */
int comb_ring_buffer_poll(struct comb_ring_buffer *rb, int timeout_ms);
/* Consume what is there without waiting. */
int comb_ring_buffer_consume(struct comb_ring_buffer *rb);
/* An epoll fd, readable when a wakeup is pending (then call consume). */
int comb_ring_buffer_epoll_fd(const struct comb_ring_buffer *rb);
void comb_ring_buffer_free(struct comb_ring_buffer *rb);

/* --- USER_RINGBUF, producer side (several threads may share one). */
struct comb_user_ring_buffer;
int comb_user_ring_buffer_new(struct comb_map *map, struct comb_user_ring_buffer **rb);
/* A sample to fill, or NULL with errno E2BIG (never fits) or ENOSPC (full). */
void *comb_user_ring_buffer_reserve(struct comb_user_ring_buffer *rb, uint32_t size);
/* As reserve, waiting up to timeout_ms for a drain to make room (errno
 * ETIMEDOUT). */
void *comb_user_ring_buffer_reserve_blocking(struct comb_user_ring_buffer *rb, uint32_t size, int timeout_ms);
void comb_user_ring_buffer_submit(struct comb_user_ring_buffer *rb, void *sample);
void comb_user_ring_buffer_discard(struct comb_user_ring_buffer *rb, void *sample);
void comb_user_ring_buffer_free(struct comb_user_ring_buffer *rb);

/* --- PERF_EVENT_ARRAY. */
/* What bpf_perf_event_output does: flags is a slot index or
 * COMB_F_CURRENT_CPU. 0, -E2BIG (index), -EINVAL (flags), -ENOSPC (full:
 * the record is counted as lost). */
#define COMB_F_CURRENT_CPU 0xffffffffull
int comb_perf_event_output(struct comb_map *map, uint64_t flags, const void *data, uint64_t size);

struct comb_perf_buffer;
typedef void (*comb_perf_buffer_sample_fn)(void *ctx, int cpu, void *data, uint32_t size);
typedef void (*comb_perf_buffer_lost_fn)(void *ctx, int cpu, uint64_t count);
int comb_perf_buffer_new(struct comb_map *map, comb_perf_buffer_sample_fn sample_fn,
			 comb_perf_buffer_lost_fn lost_fn, void *ctx, struct comb_perf_buffer **pb);
int comb_perf_buffer_poll(struct comb_perf_buffer *pb, int timeout_ms);
int comb_perf_buffer_consume(struct comb_perf_buffer *pb);
int comb_perf_buffer_epoll_fd(const struct comb_perf_buffer *pb);
void comb_perf_buffer_free(struct comb_perf_buffer *pb);

#ifdef __cplusplus
}
#endif
#endif
