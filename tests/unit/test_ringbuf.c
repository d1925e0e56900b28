/* tests/unit/test_ringbuf.c - RINGBUF, USER_RINGBUF and PERF_EVENT_ARRAY.
 *
 * The record layout is checked byte for byte against the kernel's (8-byte
 * header: len with BUSY/DISCARD bits, pg_off counted from the meta page,
 * data at page 3); a full ring refuses reservations and keeps its records;
 * discarded and still-busy records; the adaptive wakeup and its flags,
 * observed on the consumer's epoll fd; a producer process and a consumer
 * process at full speed (every record arrives, in order; both through the
 * eventfd and through a FIFO); programs calling the helpers in both engines.
 * Pinned rings: a consumer process and a producer process (running a
 * program) that each opened the pin by path share one ring (nothing lost,
 * in order, the sleeping consumer woken through its FIFO); a producer
 * survives a killed consumer; pinning by copy; corrupt positions refused.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "comb/comb.h"
#include "../test.h"
#include "insn_build.h"

#define LDDW_MAP_IDX(d, idx) \
	INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, d, COMB_PSEUDO_MAP_IDX, 0, idx), INSN(0, 0, 0, 0, 0)
#define LDDW_FN(d, rel) \
	INSN(COMB_CLS_LD | COMB_MODE_IMM | COMB_SIZE_DW, d, COMB_PSEUDO_FUNC, 0, rel), INSN(0, 0, 0, 0, 0)

static struct comb_map *make_map(uint32_t type, uint32_t key, uint32_t value, uint32_t entries)
{
	struct comb_map_def def = { .sz = sizeof(def), .name = "rb", .type = type, .key_size = key,
				    .value_size = value, .max_entries = entries };
	struct comb_map *map = NULL;
	char err[256];
	if (comb_map_create(&def, &map, err, sizeof(err)))
		fprintf(stderr, "  %s\n", err);
	return map;
}

static struct comb_map *make_ringbuf(uint32_t size)
{
	return make_map(COMB_MAP_RINGBUF, 0, 0, size);
}

static uint32_t page(void)
{
	return (uint32_t)sysconf(_SC_PAGESIZE);
}

/* Collects records into a buffer. */
struct sink {
	uint8_t bytes[1 << 16];
	size_t used;
	int count;
	uint32_t sizes[64];
	int stop_after;
};

static int sink_record(void *ctx, void *data, size_t size)
{
	struct sink *s = ctx;
	if (s->count < 64)
		s->sizes[s->count] = (uint32_t)size;
	if (s->used + size <= sizeof(s->bytes)) {
		memcpy(s->bytes + s->used, data, size);
		s->used += size;
	}
	s->count++;
	return s->stop_after && s->count >= s->stop_after ? -42 : 0;
}

TEST(ringbuf_rejects_bad_definitions)
{
	CHECK(make_map(COMB_MAP_RINGBUF, 4, 0, page()) == NULL);
	CHECK(make_map(COMB_MAP_RINGBUF, 0, 0, page() * 3) == NULL);
	CHECK(make_map(COMB_MAP_RINGBUF, 0, 0, 0) == NULL);
	struct comb_map *map = make_ringbuf(page());
	CHECK(map != NULL);
	uint32_t key = 0, value = 0;
	CHECK(comb_map_lookup(map, &key, &value) < 0);
	comb_map_free(map);
}

TEST(ringbuf_record_layout_is_the_kernels)
{
	struct comb_map *map = make_ringbuf(4 * page());
	CHECK(map != NULL);
	uint64_t base, size;
	comb_map_storage(map, &base, &size);
	CHECK_EQ(size, 8 * page());
	uint8_t *data = (uint8_t *)(uintptr_t)base;
	uint8_t *a = comb_ringbuf_reserve(map, 5, 0);
	CHECK(a == data + 8);
	uint32_t hdr[2];
	memcpy(hdr, data, 8);
	CHECK_EQ(hdr[0], 5u | (1u << 31)); /* BUSY while reserved */
	CHECK_EQ(hdr[1], 3);               /* pages from the meta page: data is page 3 */
	memcpy(a, "hello", 5);
	comb_ringbuf_submit(a, 0);
	memcpy(hdr, data, 8);
	CHECK_EQ(hdr[0], 5);
	CHECK(memcmp(data + 8, "hello", 5) == 0);
	/* The next record starts at the 8-byte boundary after 8 + 5. */
	uint8_t *b = comb_ringbuf_reserve(map, 3, 0);
	CHECK(b == data + 24);
	comb_ringbuf_discard(b, 0);
	memcpy(hdr, data + 16, 8);
	CHECK_EQ(hdr[0], 3u | (1u << 30)); /* DISCARD, not BUSY */
	CHECK_EQ(comb_ringbuf_query(map, COMB_RB_PROD_POS), 32);
	CHECK_EQ(comb_ringbuf_query(map, COMB_RB_CONS_POS), 0);
	CHECK_EQ(comb_ringbuf_query(map, COMB_RB_AVAIL_DATA), 32);
	CHECK_EQ(comb_ringbuf_query(map, COMB_RB_RING_SIZE), 4 * page());
	CHECK_EQ(comb_ringbuf_query(map, 99), 0);
	/* A record past the first page: pg_off counts the page it starts in. */
	for (int i = 0; i < 3; i++)
		comb_ringbuf_submit(comb_ringbuf_reserve(map, 1500, 0), 0);
	uint32_t pos = (uint32_t)comb_ringbuf_query(map, COMB_RB_PROD_POS);
	uint8_t *c = comb_ringbuf_reserve(map, 8, 0);
	CHECK(c == data + pos + 8);
	memcpy(hdr, data + pos, 8);
	CHECK_EQ(hdr[1], 3 + pos / page());
	comb_ringbuf_submit(c, 0);

	struct sink *s = calloc(1, sizeof(*s));
	struct comb_ring_buffer *rb;
	CHECK(comb_ring_buffer_new(map, sink_record, s, NULL, &rb) == 0);
	CHECK_EQ(comb_ring_buffer_consume(rb), 5); /* the discarded one is skipped */
	CHECK_EQ(s->sizes[0], 5);
	CHECK_EQ(s->sizes[1], 1500);
	CHECK_EQ(s->sizes[4], 8);
	CHECK(memcmp(s->bytes, "hello", 5) == 0);
	CHECK_EQ(comb_ringbuf_query(map, COMB_RB_CONS_POS), pos + 16);
	CHECK_EQ(comb_ringbuf_query(map, COMB_RB_AVAIL_DATA), 0);
	comb_ring_buffer_free(rb);
	free(s);
	comb_map_free(map);
}

TEST(ringbuf_full_ring_refuses_and_keeps_records)
{
	struct comb_map *map = make_ringbuf(page());
	CHECK(map != NULL);
	CHECK(comb_ringbuf_reserve(map, page(), 0) == NULL);      /* never fits */
	CHECK(comb_ringbuf_reserve(map, 8, 1) == NULL);           /* flags must be 0 */
	uint32_t rec = page() / 4 - 16, n = 0;
	uint8_t byte = 1;
	for (;;) {
		uint8_t *p = comb_ringbuf_reserve(map, rec, 0);
		if (!p)
			break;
		memset(p, byte++, rec);
		comb_ringbuf_submit(p, 0);
		n++;
	}
	CHECK_EQ(n, 4); /* 4 * (rec + 8) <= size - 1, a fifth does not fit */
	uint8_t filler[1024] = { 0 };
	CHECK_EQ(comb_ringbuf_output(map, filler, rec, 0), -EAGAIN);
	CHECK_EQ(comb_ringbuf_output(map, "x", 1, 4), -EINVAL);
	struct sink *s = calloc(1, sizeof(*s));
	s->stop_after = 1;
	struct comb_ring_buffer *rb;
	CHECK(comb_ring_buffer_new(map, sink_record, s, NULL, &rb) == 0);
	CHECK_EQ(comb_ring_buffer_consume(rb), -42); /* the callback stopped it */
	CHECK_EQ(s->bytes[0], 1);
	/* Room for one more now; it wraps around the end and stays whole. */
	uint8_t *p = comb_ringbuf_reserve(map, rec, 0);
	CHECK(p != NULL);
	memset(p, 9, rec);
	comb_ringbuf_submit(p, 0);
	s->stop_after = 0;
	CHECK_EQ(comb_ring_buffer_consume(rb), 4);
	for (uint32_t i = 0; i < 4; i++) {
		CHECK_EQ(s->sizes[1 + i], rec);
		CHECK_EQ(s->bytes[(1 + i) * rec], i < 3 ? 2 + i : 9);
		CHECK_EQ(s->bytes[(2 + i) * rec - 1], i < 3 ? 2 + i : 9);
	}
	comb_ring_buffer_free(rb);
	free(s);
	comb_map_free(map);
}

TEST(ringbuf_consumer_waits_for_busy_records_in_order)
{
	struct comb_map *map = make_ringbuf(page());
	uint64_t *a = comb_ringbuf_reserve(map, 8, 0), *b = comb_ringbuf_reserve(map, 8, 0);
	CHECK(a && b);
	*a = 1;
	*b = 2;
	comb_ringbuf_submit(b, 0);
	struct sink *s = calloc(1, sizeof(*s));
	struct comb_ring_buffer *rb;
	CHECK(comb_ring_buffer_new(map, sink_record, s, NULL, &rb) == 0);
	CHECK_EQ(comb_ring_buffer_consume(rb), 0);
	comb_ringbuf_submit(a, 0);
	CHECK_EQ(comb_ring_buffer_consume(rb), 2);
	uint64_t got[2];
	memcpy(got, s->bytes, 16);
	CHECK_EQ(got[0], 1);
	CHECK_EQ(got[1], 2);
	comb_ring_buffer_free(rb);
	free(s);
	comb_map_free(map);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1;
}

TEST(ringbuf_adaptive_wakeup_and_flags)
{
	struct comb_map *map = make_ringbuf(page());
	struct sink *s = calloc(1, sizeof(*s));
	struct comb_ring_buffer *rb;
	CHECK(comb_ring_buffer_new(map, sink_record, s, NULL, &rb) == 0);
	int fd = comb_ring_buffer_epoll_fd(rb);
	CHECK(!readable(fd));
	/* No wakeup asked for: nothing. */
	CHECK_EQ(comb_ringbuf_output(map, "a", 1, COMB_RB_NO_WAKEUP), 0);
	CHECK(!readable(fd));
	CHECK_EQ(comb_ring_buffer_consume(rb), 1);
	/* The consumer has caught up: the next record wakes it. */
	CHECK_EQ(comb_ringbuf_output(map, "b", 1, 0), 0);
	CHECK(readable(fd));
	CHECK_EQ(comb_ring_buffer_poll(rb, 0), 1);
	CHECK(!readable(fd));
	/* Not caught up (a record before this one is unread): no wakeup... */
	void *first = comb_ringbuf_reserve(map, 1, 0);
	comb_ringbuf_submit(first, COMB_RB_NO_WAKEUP);
	CHECK_EQ(comb_ringbuf_output(map, "c", 1, 0), 0);
	CHECK(!readable(fd));
	/* ...unless forced. */
	CHECK_EQ(comb_ringbuf_output(map, "d", 1, COMB_RB_FORCE_WAKEUP), 0);
	CHECK(readable(fd));
	CHECK_EQ(comb_ring_buffer_poll(rb, 1000), 3);
	/* poll with nothing there times out with 0. */
	CHECK_EQ(comb_ring_buffer_poll(rb, 1), 0);
	comb_ring_buffer_free(rb);
	free(s);
	comb_map_free(map);
}

/* ---- a producer process and a consumer process at full speed */

#ifndef STRESS_RECORDS
#define STRESS_RECORDS 2000000u
#endif

struct order_check {
	uint64_t next;
	uint64_t errors;
};

static int check_order(void *ctx, void *data, size_t size)
{
	struct order_check *oc = ctx;
	uint64_t seq;
	memcpy(&seq, data, sizeof(seq));
	if (seq != oc->next || size != 8 + (seq % 5) * 8)
		oc->errors++;
	oc->next = seq + 1;
	return 0;
}

static void produce(struct comb_map *map, uint64_t count)
{
	uint64_t rec[8] = { 0 };
	for (uint64_t i = 0; i < count;) {
		rec[0] = i;
		if (comb_ringbuf_output(map, rec, 8 + (i % 5) * 8, 0) == 0)
			i++;
		else
			sched_yield(); /* full: the consumer catches up */
	}
}

/* Exit status 0 when every record came, in order. */
static int consume_all(struct comb_map *map, uint64_t count)
{
	struct order_check oc = { 0 };
	struct comb_ring_buffer *rb;
	if (comb_ring_buffer_new(map, check_order, &oc, NULL, &rb))
		return 3;
	/* poll may return 0 after a stale wakeup; 10 s without a record
	 * means a wakeup went missing. */
	time_t last_progress = time(NULL);
	while (oc.next < count) {
		int n = comb_ring_buffer_poll(rb, 10000);
		if (n < 0)
			return 4;
		if (n > 0)
			last_progress = time(NULL);
		else if (time(NULL) - last_progress >= 10)
			return 5;
	}
	comb_ring_buffer_free(rb);
	return oc.errors ? 6 : 0;
}

static pid_t spawn(int (*body)(struct comb_map *, uint64_t), struct comb_map *map, uint64_t count)
{
	pid_t pid = fork();
	if (pid == 0) {
		alarm(120); /* never outlive a broken test */
		_exit(body(map, count));
	}
	return pid;
}

static int producer_body(struct comb_map *map, uint64_t count)
{
	produce(map, count);
	return 0;
}

static int fifo_consumer_body(struct comb_map *map, uint64_t count)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/comb-test-rb-%d.wake", (int)getpid());
	if (comb_ringbuf_wake_fifo(map, path))
		return 7;
	int rc = consume_all(map, count);
	unlink(path);
	return rc;
}

static int wait_exit(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(ringbuf_producer_and_consumer_processes_lose_nothing)
{
	struct comb_map *map = make_ringbuf(64 * 1024);
	CHECK(map != NULL);
	pid_t consumer = spawn(consume_all, map, STRESS_RECORDS);
	pid_t producer = spawn(producer_body, map, STRESS_RECORDS);
	CHECK(consumer > 0 && producer > 0);
	CHECK_EQ(wait_exit(producer), 0);
	CHECK_EQ(wait_exit(consumer), 0);
	CHECK_EQ(comb_ringbuf_query(map, COMB_RB_AVAIL_DATA), 0);
	comb_map_free(map);
}

TEST(ringbuf_consumer_woken_through_a_fifo)
{
	struct comb_map *map = make_ringbuf(16 * 1024);
	CHECK(map != NULL);
	pid_t consumer = spawn(fifo_consumer_body, map, STRESS_RECORDS / 4);
	usleep(20000); /* let it register its FIFO first (else the eventfd wakes it) */
	pid_t producer = spawn(producer_body, map, STRESS_RECORDS / 4);
	CHECK_EQ(wait_exit(producer), 0);
	CHECK_EQ(wait_exit(consumer), 0);
	comb_map_free(map);
}

/* ---- programs calling the helpers, in both engines */

static int load(struct comb_vm *vm, const struct comb_insn *insns, size_t count, struct comb_map **maps,
		size_t map_count, struct comb_prog **prog)
{
	struct comb_prog_opts po = { .sz = sizeof(po), .maps = maps, .map_count = map_count };
	char err[256];
	int rc = comb_prog_load(vm, insns, count, &po, prog, err, sizeof(err));
	if (rc)
		fprintf(stderr, "  load: %s\n", err);
	return rc;
}

static int run(const struct comb_prog *prog, enum comb_engine engine, uint64_t *r0)
{
	struct comb_run_error e = { 0 };
	struct comb_run_opts ro = { .sz = sizeof(ro), .engine = engine, .error = &e };
	int rc = comb_prog_run(prog, &ro, r0);
	if (rc)
		fprintf(stderr, "  run: %s\n", e.message);
	return rc;
}

TEST(ringbuf_helpers_from_programs_in_both_engines)
{
	struct comb_map *map = make_ringbuf(page());
	struct comb_vm *vm;
	CHECK(comb_vm_new(NULL, &vm) == 0);
	struct comb_insn output[] = {
		LDDW(1, 0x1122334455667788), STX_MEM(COMB_SIZE_DW, 10, 1, -8),
		LDDW_MAP_IDX(1, 0), MOV64_REG(2, 10), ALU64_IMM(COMB_ALU_ADD, 2, -8), MOV64_IMM(3, 8),
		MOV64_IMM(4, 0), CALL_HELPER(130), EXIT(),
	};
	struct comb_insn reserve_submit[] = {
		LDDW_MAP_IDX(1, 0), MOV64_IMM(2, 16), MOV64_IMM(3, 0), CALL_HELPER(131),
		JMP_IMM(COMB_JMP_JEQ, 0, 0, 11),
		ST_MEM(COMB_SIZE_DW, 0, 0, 42), ST_MEM(COMB_SIZE_DW, 0, 8, 43),
		MOV64_REG(6, 0), MOV64_REG(1, 0), MOV64_IMM(2, 0), CALL_HELPER(132),
		/* a second one, discarded */
		LDDW_MAP_IDX(1, 0), MOV64_IMM(2, 8), MOV64_IMM(3, 0), CALL_HELPER(131),
		/* (no null check needed for the test: room is there) */
		MOV64_REG(1, 0), MOV64_IMM(2, 0), CALL_HELPER(133),
		LDDW_MAP_IDX(1, 0), MOV64_IMM(2, COMB_RB_AVAIL_DATA), CALL_HELPER(134), EXIT(),
	};
	/* fix the forward jump: it must land on the final EXIT with r0 = 0 */
	reserve_submit[5].off = (int16_t)(ARRAY_SIZE(reserve_submit) - 1 - 6);
	struct comb_map *maps[] = { map };
	struct comb_prog *p_out, *p_rs;
	CHECK(load(vm, output, ARRAY_SIZE(output), maps, 1, &p_out) == 0);
	CHECK(load(vm, reserve_submit, ARRAY_SIZE(reserve_submit), maps, 1, &p_rs) == 0);
	struct sink *s = calloc(1, sizeof(*s));
	struct comb_ring_buffer *rb;
	CHECK(comb_ring_buffer_new(map, sink_record, s, NULL, &rb) == 0);
	enum comb_engine engines[] = { COMB_ENGINE_INTERP, COMB_ENGINE_CHECKED };
	for (int e = 0; e < 2; e++) {
		uint64_t r0 = 1;
		s->count = 0;
		s->used = 0;
		CHECK(run(p_out, engines[e], &r0) == 0);
		CHECK_EQ(r0, 0);
		CHECK(run(p_rs, engines[e], &r0) == 0);
		CHECK_EQ(r0, 16 + 24 + 16); /* three records unread: 8+8, 8+16, 8+8 */
		CHECK_EQ(comb_ring_buffer_consume(rb), 2);
		uint64_t got[3];
		memcpy(got, s->bytes, sizeof(got));
		CHECK_EQ(got[0], 0x1122334455667788);
		CHECK_EQ(got[1], 42);
		CHECK_EQ(got[2], 43);
	}
	comb_ring_buffer_free(rb);
	free(s);
	comb_prog_free(p_out);
	comb_prog_free(p_rs);
	comb_vm_free(vm);
	comb_map_free(map);
}

TEST(ringbuf_checked_engine_refuses_forged_samples)
{
	struct comb_map *map = make_ringbuf(page());
	struct comb_vm *vm;
	CHECK(comb_vm_new(NULL, &vm) == 0);
	/* submit(fp - 8): not a reserved sample; must be ignored, not written */
	struct comb_insn prog[] = {
		ST_MEM(COMB_SIZE_DW, 10, -16, 0x77), MOV64_REG(1, 10), ALU64_IMM(COMB_ALU_ADD, 1, -8),
		MOV64_IMM(2, 0), CALL_HELPER(132), LDX_MEM(COMB_SIZE_DW, 0, 10, -16), EXIT(),
	};
	struct comb_map *maps[] = { map };
	struct comb_prog *p;
	CHECK(load(vm, prog, ARRAY_SIZE(prog), maps, 1, &p) == 0);
	uint64_t r0 = 0;
	CHECK(run(p, COMB_ENGINE_CHECKED, &r0) == 0);
	CHECK_EQ(r0, 0x77);
	comb_prog_free(p);
	comb_vm_free(vm);
	comb_map_free(map);
}

TEST(user_ringbuf_drain_with_dynptrs_in_both_engines)
{
	struct comb_map *map = make_map(COMB_MAP_USER_RINGBUF, 0, 0, page());
	CHECK(map != NULL);
	struct comb_user_ring_buffer *urb;
	CHECK(comb_user_ring_buffer_new(map, &urb) == 0);
	struct comb_vm *vm;
	CHECK(comb_vm_new(NULL, &vm) == 0);
	/* r0 = drain(map, cb, &sum) * 1000000 + sum; the callback reads the
	 * sample's first u64 with dynptr_read, adds it to *ctx, doubles the
	 * value in place with dynptr_data + dynptr_write. */
	struct comb_insn prog[] = {
		ST_MEM(COMB_SIZE_DW, 10, -8, 0),
		LDDW_MAP_IDX(1, 0), LDDW_FN(2, 9), MOV64_REG(3, 10), ALU64_IMM(COMB_ALU_ADD, 3, -8),
		MOV64_IMM(4, 0), CALL_HELPER(209),
		ALU64_IMM(COMB_ALU_MUL, 0, 1000000), LDX_MEM(COMB_SIZE_DW, 1, 10, -8),
		ALU64_REG(COMB_ALU_ADD, 0, 1), EXIT(),
		/* callback(dynptr = r1, ctx = r2), at slot 14 */
		MOV64_REG(6, 2), MOV64_REG(7, 1),
		MOV64_REG(1, 10), ALU64_IMM(COMB_ALU_ADD, 1, -8), MOV64_IMM(2, 8), MOV64_REG(3, 7),
		MOV64_IMM(4, 0), MOV64_IMM(5, 0), CALL_HELPER(201),
		JMP_IMM(COMB_JMP_JNE, 0, 0, 12),
		LDX_MEM(COMB_SIZE_DW, 1, 10, -8), LDX_MEM(COMB_SIZE_DW, 2, 6, 0), ALU64_REG(COMB_ALU_ADD, 2, 1),
		STX_MEM(COMB_SIZE_DW, 6, 2, 0),
		ALU64_REG(COMB_ALU_ADD, 1, 1), STX_MEM(COMB_SIZE_DW, 10, 1, -16),
		MOV64_REG(1, 7), MOV64_IMM(2, 0), MOV64_REG(3, 10), ALU64_IMM(COMB_ALU_ADD, 3, -16),
		MOV64_IMM(4, 8), MOV64_IMM(5, 0), CALL_HELPER(202), /* r0 = 0 on success: continue */
		EXIT(),
	};
	struct comb_map *maps[] = { map };
	struct comb_prog *p;
	CHECK(load(vm, prog, ARRAY_SIZE(prog), maps, 1, &p) == 0);
	enum comb_engine engines[] = { COMB_ENGINE_INTERP, COMB_ENGINE_CHECKED };
	for (int e = 0; e < 2; e++) {
		uint64_t *samples[3];
		for (int i = 0; i < 3; i++) {
			samples[i] = comb_user_ring_buffer_reserve(urb, 16);
			CHECK(samples[i] != NULL);
			samples[i][0] = (uint64_t)(i + 1) * 10;
		}
		comb_user_ring_buffer_submit(urb, samples[0]);
		comb_user_ring_buffer_discard(urb, samples[1]);
		comb_user_ring_buffer_submit(urb, samples[2]);
		uint64_t r0 = 0;
		CHECK(run(p, engines[e], &r0) == 0);
		CHECK_EQ(r0, 2 * 1000000 + 10 + 30);
		CHECK_EQ(samples[0][0], 20); /* written through dynptr_write */
		CHECK_EQ(samples[2][0], 60);
		CHECK(run(p, engines[e], &r0) == 0);
		CHECK_EQ(r0, 0); /* nothing left */
	}
	/* Full: reserve says ENOSPC; the blocking one times out. */
	int n = 0;
	while (comb_user_ring_buffer_reserve(urb, 100))
		n++;
	CHECK_EQ(errno, ENOSPC);
	CHECK(n > 0);
	CHECK(comb_user_ring_buffer_reserve(urb, page()) == NULL);
	CHECK_EQ(errno, E2BIG);
	CHECK(comb_user_ring_buffer_reserve_blocking(urb, 100, 10) == NULL);
	CHECK_EQ(errno, ETIMEDOUT);
	comb_user_ring_buffer_free(urb);
	comb_prog_free(p);
	comb_vm_free(vm);
	comb_map_free(map);
}

static void perf_sample(void *ctx, int cpu, void *data, uint32_t size)
{
	struct sink *s = ctx;
	sink_record(s, data, size);
}

static void perf_lost(void *ctx, int cpu, uint64_t count)
{
	struct sink *s = ctx;
	s->stop_after += (int)count; /* reused as a lost counter */
}

TEST(perf_event_output_reaches_the_perf_buffer)
{
	struct comb_map *map = make_map(COMB_MAP_PERF_EVENT_ARRAY, 4, 4, 0);
	CHECK(map != NULL);
	struct comb_vm *vm;
	CHECK(comb_vm_new(NULL, &vm) == 0);
	struct comb_insn prog[] = {
		LDDW(1, 0x0102030405060708), STX_MEM(COMB_SIZE_DW, 10, 1, -8),
		MOV64_REG(1, 1), LDDW_MAP_IDX(2, 0), LDDW(3, 0xffffffffull), MOV64_REG(4, 10),
		ALU64_IMM(COMB_ALU_ADD, 4, -8), MOV64_IMM(5, 8), CALL_HELPER(25), EXIT(),
	};
	struct comb_map *maps[] = { map };
	struct comb_prog *p;
	CHECK(load(vm, prog, ARRAY_SIZE(prog), maps, 1, &p) == 0);
	struct sink *s = calloc(1, sizeof(*s));
	struct comb_perf_buffer *pb;
	CHECK(comb_perf_buffer_new(map, perf_sample, perf_lost, s, &pb) == 0);
	uint64_t r0 = 1;
	CHECK(run(p, COMB_ENGINE_INTERP, &r0) == 0);
	CHECK_EQ(r0, 0);
	CHECK(run(p, COMB_ENGINE_CHECKED, &r0) == 0);
	CHECK_EQ(r0, 0);
	CHECK_EQ(comb_perf_buffer_poll(pb, 1000), 2);
	uint64_t v;
	memcpy(&v, s->bytes + 8, 8);
	CHECK_EQ(v, 0x0102030405060708);
	CHECK_EQ(comb_perf_event_output(map, 1ull << 32, &v, 8), -EINVAL);
	CHECK_EQ(comb_perf_event_output(map, 100000, &v, 8), -E2BIG);
	/* Fill slot 0: records are dropped and reported lost. */
	uint8_t big[4000] = { 0 };
	int lost = 0;
	for (int i = 0; i < 100; i++)
		lost += comb_perf_event_output(map, 0, big, sizeof(big)) == -ENOSPC;
	CHECK(lost > 0);
	CHECK_EQ(comb_perf_buffer_consume(pb), 100 - lost);
	CHECK_EQ(s->stop_after, lost);
	comb_perf_buffer_free(pb);
	free(s);
	comb_prog_free(p);
	comb_vm_free(vm);
	comb_map_free(map);
}

/* ---- pinned rings: processes that open the pin by path share the ring */

/* r1 = sequence number, r2 = record size: bpf_ringbuf_output(map, rec, r2, 0). */
static int load_output_prog(struct comb_vm *vm, struct comb_map *map, struct comb_prog **prog)
{
	struct comb_insn insns[] = {
		STX_MEM(COMB_SIZE_DW, 10, 1, -48), ST_MEM(COMB_SIZE_DW, 10, -40, 0),
		ST_MEM(COMB_SIZE_DW, 10, -32, 0), ST_MEM(COMB_SIZE_DW, 10, -24, 0),
		ST_MEM(COMB_SIZE_DW, 10, -16, 0), MOV64_REG(3, 2), LDDW_MAP_IDX(1, 0), MOV64_REG(2, 10),
		ALU64_IMM(COMB_ALU_ADD, 2, -48), MOV64_IMM(4, 0), CALL_HELPER(130), EXIT(),
	};
	struct comb_map *maps[] = { map };
	return load(vm, insns, ARRAY_SIZE(insns), maps, 1, prog);
}

static struct comb_map *open_pin(const char *pin)
{
	struct comb_map *map = NULL;
	char err[256];
	if (comb_map_open_pinned(pin, &map, err, sizeof(err)))
		fprintf(stderr, "  open %s: %s\n", pin, err);
	return map;
}

/* A process of its own: open the pin, run the program count times. */
static int program_producer(const char *pin, uint64_t count)
{
	struct comb_map *map = open_pin(pin);
	struct comb_vm *vm;
	struct comb_prog *prog;
	if (!map || comb_vm_new(NULL, &vm) || load_output_prog(vm, map, &prog))
		return 20;
	struct comb_run_opts ro = { .sz = sizeof(ro), .engine = COMB_ENGINE_INTERP };
	for (uint64_t i = 0; i < count;) {
		uint64_t r0 = 1;
		ro.args[0] = i;
		ro.args[1] = 8 + (i % 5) * 8;
		if (comb_prog_run(prog, &ro, &r0))
			return 21;
		if (r0 == 0)
			i++;
		else
			sched_yield(); /* full: the consumer catches up */
	}
	comb_prog_free(prog);
	comb_vm_free(vm);
	comb_map_free(map);
	return 0;
}

static void pin_paths(const char *tag, char *pin, char *fifo, size_t len)
{
	char dir[256];
	if (comb_pin_dir(dir, sizeof(dir)))
		snprintf(dir, sizeof(dir), "/tmp");
	snprintf(pin, len, "%s/comb-test-%s-%d", dir, tag, (int)getpid());
	snprintf(fifo, len, "%s.wake", pin);
}

/* A process of its own: open the pin, register the FIFO, say so on ready_fd. */
static struct comb_map *open_as_consumer(const char *pin, const char *fifo, int ready_fd)
{
	struct comb_map *map = open_pin(pin);
	if (!map || comb_ringbuf_wake_fifo(map, fifo))
		return NULL;
	char byte = 1;
	if (write(ready_fd, &byte, 1) != 1)
		return NULL;
	return map;
}

static pid_t fork_alarmed(void)
{
	pid_t pid = fork();
	if (pid == 0)
		alarm(120);
	return pid;
}

static bool wait_ready(int fd)
{
	char byte;
	return read(fd, &byte, 1) == 1;
}

TEST(ringbuf_pinned_ring_is_shared_by_processes_that_open_it)
{
	char pin[512], fifo[512];
	pin_paths("rb-pin", pin, fifo, sizeof(pin));
	uint64_t count = STRESS_RECORDS / 4;
	struct comb_map *map = make_ringbuf(64 * 1024);
	CHECK(map != NULL);
	CHECK_EQ(comb_map_pin(map, pin), 0);
	comb_map_free(map); /* only the pin keeps the ring now */
	int ready[2];
	CHECK(pipe(ready) == 0);
	pid_t consumer = fork_alarmed();
	if (consumer == 0) {
		struct comb_map *m = open_as_consumer(pin, fifo, ready[1]);
		_exit(m ? consume_all(m, count) : 30);
	}
	CHECK(wait_ready(ready[0]));
	pid_t producer = fork_alarmed();
	if (producer == 0)
		_exit(program_producer(pin, count));
	CHECK_EQ(wait_exit(producer), 0);
	CHECK_EQ(wait_exit(consumer), 0);
	/* The positions both processes moved are in the pinned file. */
	map = open_pin(pin);
	CHECK(map != NULL);
	CHECK_EQ(comb_ringbuf_query(map, COMB_RB_AVAIL_DATA), 0);
	CHECK(comb_ringbuf_query(map, COMB_RB_PROD_POS) >= count * 16);
	comb_map_free(map);
	close(ready[0]);
	close(ready[1]);
	unlink(fifo);
	CHECK_EQ(comb_map_unpin(pin), 0);
}

static int64_t elapsed_ms(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Consumer process: one poll that must end with the record, woken long
 * before its 20 s timeout. */
static int sleep_until_woken(const char *pin, const char *fifo, int ready_fd)
{
	struct comb_map *m = open_as_consumer(pin, fifo, ready_fd);
	struct sink s = { 0 };
	struct comb_ring_buffer *rb;
	if (!m || comb_ring_buffer_new(m, sink_record, &s, NULL, &rb))
		return 30;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int n = comb_ring_buffer_poll(rb, 20000);
	if (n == 0) /* a stale wakeup at most once */
		n = comb_ring_buffer_poll(rb, 20000);
	int64_t ms = elapsed_ms(&start);
	comb_ring_buffer_free(rb);
	comb_map_free(m);
	return n != 1 ? 31 : ms > 5000 ? 32 : 0;
}

TEST(ringbuf_pinned_consumer_is_woken_by_a_producer_process)
{
	char pin[512], fifo[512];
	pin_paths("rb-wake", pin, fifo, sizeof(pin));
	struct comb_map *map = make_ringbuf(16 * 1024);
	CHECK(map != NULL);
	CHECK_EQ(comb_map_pin(map, pin), 0);
	comb_map_free(map);
	int ready[2];
	CHECK(pipe(ready) == 0);
	pid_t consumer = fork_alarmed();
	if (consumer == 0)
		_exit(sleep_until_woken(pin, fifo, ready[1]));
	CHECK(wait_ready(ready[0]));
	usleep(100 * 1000); /* let it fall asleep in epoll_wait */
	pid_t producer = fork_alarmed();
	if (producer == 0)
		_exit(program_producer(pin, 1));
	CHECK_EQ(wait_exit(producer), 0);
	CHECK_EQ(wait_exit(consumer), 0);
	close(ready[0]);
	close(ready[1]);
	unlink(fifo);
	CHECK_EQ(comb_map_unpin(pin), 0);
}

TEST(ringbuf_producer_survives_a_killed_fifo_consumer)
{
	char pin[512], fifo[512];
	pin_paths("rb-kill", pin, fifo, sizeof(pin));
	struct comb_map *map = make_ringbuf(16 * 1024);
	CHECK(map != NULL);
	CHECK_EQ(comb_map_pin(map, pin), 0);
	int ready[2];
	CHECK(pipe(ready) == 0);
	pid_t consumer = fork_alarmed();
	if (consumer == 0) {
		/* Consume forever, asleep in between. */
		struct comb_map *m = open_pin(pin);
		struct comb_ring_buffer *rb;
		struct sink sink = { 0 };
		char byte = 1;
		if (!m || comb_ringbuf_wake_fifo(m, fifo) || comb_ring_buffer_new(m, sink_record, &sink, NULL, &rb) ||
		    write(ready[1], &byte, 1) != 1)
			_exit(30);
		for (;;)
			comb_ring_buffer_poll(rb, -1);
	}
	CHECK(wait_ready(ready[0]));
	uint64_t v = 7;
	usleep(50 * 1000); /* let it fall asleep */
	/* This one opens the FIFO while the consumer lives and wakes it... */
	CHECK_EQ(comb_ringbuf_output(map, &v, 8, COMB_RB_FORCE_WAKEUP), 0);
	for (int i = 0; i < 2000 && comb_ringbuf_query(map, COMB_RB_AVAIL_DATA); i++)
		usleep(1000);
	CHECK_EQ(comb_ringbuf_query(map, COMB_RB_AVAIL_DATA), 0);
	usleep(50 * 1000); /* asleep again, a waiter the kill leaves behind */
	kill(consumer, SIGKILL);
	CHECK_EQ(wait_exit(consumer), 128 + SIGKILL);
	/* ...these write to it with its reader gone: no SIGPIPE here. */
	for (int i = 0; i < 3; i++)
		CHECK_EQ(comb_ringbuf_output(map, &v, 8, COMB_RB_FORCE_WAKEUP), 0);
	CHECK_EQ(comb_ringbuf_query(map, COMB_RB_AVAIL_DATA), 48);
	comb_map_free(map);
	close(ready[0]);
	close(ready[1]);
	unlink(fifo);
	CHECK_EQ(comb_map_unpin(pin), 0);
}

/* Pinning onto another filesystem copies the region: the creator's ring
 * must follow the copy (region_moved), records before and after included. */
TEST(ringbuf_pinned_by_copy_keeps_one_ring)
{
	char pin[128];
	snprintf(pin, sizeof(pin), "/dev/shm/comb-test-rb-copy-%d", (int)getpid());
	if (access("/dev/shm", W_OK)) {
		printf("  skipped: /dev/shm is not writable\n");
		return;
	}
	struct comb_map *map = make_ringbuf(page());
	CHECK(map != NULL);
	uint64_t before = 1, after = 2;
	CHECK_EQ(comb_ringbuf_output(map, &before, 8, 0), 0);
	CHECK_EQ(comb_map_pin(map, pin), 0);
	CHECK_EQ(comb_ringbuf_output(map, &after, 8, 0), 0);
	struct comb_map *other = open_pin(pin);
	CHECK(other != NULL);
	struct sink *s = calloc(1, sizeof(*s));
	struct comb_ring_buffer *rb;
	CHECK(comb_ring_buffer_new(other, sink_record, s, NULL, &rb) == 0);
	CHECK_EQ(comb_ring_buffer_consume(rb), 2);
	uint64_t got[2];
	memcpy(got, s->bytes, sizeof(got));
	CHECK_EQ(got[0], 1);
	CHECK_EQ(got[1], 2);
	CHECK_EQ(comb_ringbuf_query(map, COMB_RB_AVAIL_DATA), 0); /* the creator sees it consumed */
	comb_ring_buffer_free(rb);
	free(s);
	comb_map_free(other);
	comb_map_free(map);
	CHECK_EQ(comb_map_unpin(pin), 0);
}

TEST(ringbuf_pinned_file_with_corrupt_positions_is_refused)
{
	char pin[512], fifo[512];
	pin_paths("rb-bad", pin, fifo, sizeof(pin));
	struct comb_map *map = make_ringbuf(page());
	CHECK(map != NULL);
	CHECK_EQ(comb_map_pin(map, pin), 0);
	comb_map_free(map);
	/* producer_pos sits on the third shared page of the ring, which
	 * follows the region's header page. */
	FILE *f = fopen(pin, "r+b");
	CHECK(f != NULL);
	uint64_t bogus = 12345;
	CHECK(fseek(f, 3 * (long)page(), SEEK_SET) == 0);
	CHECK_EQ(fwrite(&bogus, sizeof(bogus), 1, f), 1);
	fclose(f);
	struct comb_map *bad = NULL;
	char err[256] = "";
	CHECK_EQ(comb_map_open_pinned(pin, &bad, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "corrupted") != NULL);
	CHECK_EQ(comb_map_unpin(pin), 0);
}

TEST(perf_event_array_pinned_is_shared_with_a_producer_process)
{
	char pin[512], fifo[512];
	pin_paths("perf-pin", pin, fifo, sizeof(pin));
	struct comb_map *map = make_map(COMB_MAP_PERF_EVENT_ARRAY, 4, 4, 2);
	CHECK(map != NULL);
	CHECK_EQ(comb_map_pin(map, pin), 0);
	comb_map_free(map);
	map = open_pin(pin);
	CHECK(map != NULL);
	CHECK_EQ(comb_ringbuf_wake_fifo(map, fifo), 0);
	struct sink *s = calloc(1, sizeof(*s));
	struct comb_perf_buffer *pb;
	CHECK(comb_perf_buffer_new(map, perf_sample, perf_lost, s, &pb) == 0);
	pid_t producer = fork_alarmed();
	if (producer == 0) {
		usleep(100 * 1000); /* the consumer sleeps by then */
		struct comb_map *m = open_pin(pin);
		uint64_t v = 0xabcdef;
		_exit(!m || comb_perf_event_output(m, 1, &v, 8) ? 40 : 0);
	}
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int n = comb_perf_buffer_poll(pb, 20000);
	if (n == 0)
		n = comb_perf_buffer_poll(pb, 20000);
	CHECK_EQ(n, 1);
	CHECK(elapsed_ms(&start) < 5000);
	CHECK_EQ(wait_exit(producer), 0);
	uint64_t v;
	memcpy(&v, s->bytes, 8);
	CHECK_EQ(v, 0xabcdef);
	comb_perf_buffer_free(pb);
	free(s);
	comb_map_free(map);
	unlink(fifo);
	CHECK_EQ(comb_map_unpin(pin), 0);
}

/* ---- the lock-free protocol under stress (ring.c's design comment) */

#define MP_THREADS  3
#define MP_PRODUCERS (MP_THREADS + 1) /* the threads and one process */
#define MP_RECORDS  200000u           /* per producer */

struct mp_record {
	uint32_t producer;
	uint32_t size_check;
	uint64_t seq;
};

struct mp_producer {
	struct comb_map *map;
	uint32_t id;
};

/* Records of 16..40 bytes: {producer, size, seq} then padding. */
static void mp_produce(struct comb_map *map, uint32_t id)
{
	uint8_t buf[48] = { 0 };
	for (uint64_t seq = 0; seq < MP_RECORDS;) {
		uint32_t size = 16 + (uint32_t)(seq % 4) * 8;
		struct mp_record rec = { .producer = id, .size_check = size, .seq = seq };
		memcpy(buf, &rec, sizeof(rec));
		if (comb_ringbuf_output(map, buf, size, 0) == 0)
			seq++;
		else
			sched_yield();
	}
}

static void *mp_producer_thread(void *arg)
{
	struct mp_producer *p = arg;
	mp_produce(p->map, p->id);
	return NULL;
}

struct mp_check {
	uint64_t next[MP_PRODUCERS];
	uint64_t total, errors;
};

static int mp_check_record(void *ctx, void *data, size_t size)
{
	struct mp_check *c = ctx;
	struct mp_record rec;
	memcpy(&rec, data, sizeof(rec));
	if (rec.producer >= MP_PRODUCERS || rec.size_check != size || rec.seq != c->next[rec.producer])
		c->errors++;
	else
		c->next[rec.producer]++;
	c->total++;
	return 0;
}

TEST(ringbuf_threads_and_a_process_produce_exactly_and_in_order)
{
	struct comb_map *map = make_ringbuf(64 * 1024);
	CHECK(map != NULL);
	pid_t child = fork();
	if (child == 0) {
		alarm(120);
		mp_produce(map, MP_THREADS);
		_exit(0);
	}
	CHECK(child > 0);
	pthread_t threads[MP_THREADS];
	struct mp_producer producers[MP_THREADS];
	for (uint32_t i = 0; i < MP_THREADS; i++) {
		producers[i] = (struct mp_producer){ .map = map, .id = i };
		CHECK(pthread_create(&threads[i], NULL, mp_producer_thread, &producers[i]) == 0);
	}
	struct mp_check *c = calloc(1, sizeof(*c));
	struct comb_ring_buffer *rb;
	CHECK(comb_ring_buffer_new(map, mp_check_record, c, NULL, &rb) == 0);
	time_t last_progress = time(NULL);
	while (c->total < (uint64_t)MP_PRODUCERS * MP_RECORDS && c->errors == 0 &&
	       time(NULL) - last_progress < 10) {
		int n = comb_ring_buffer_poll(rb, 1000);
		if (n > 0)
			last_progress = time(NULL);
	}
	for (uint32_t i = 0; i < MP_THREADS; i++)
		pthread_join(threads[i], NULL);
	CHECK_EQ(wait_exit(child), 0);
	CHECK_EQ(comb_ring_buffer_consume(rb), 0); /* nothing extra */
	CHECK_EQ(c->errors, 0);
	CHECK_EQ(c->total, (uint64_t)MP_PRODUCERS * MP_RECORDS);
	for (uint32_t i = 0; i < MP_PRODUCERS; i++)
		CHECK_EQ(c->next[i], MP_RECORDS);
	CHECK_EQ(comb_ringbuf_query(map, COMB_RB_AVAIL_DATA), 0);
	comb_ring_buffer_free(rb);
	free(c);
	comb_map_free(map);
}

/* Many short bursts with pauses long enough for the consumer to go to
 * sleep in poll(): each burst must reach it within a deadline, which a
 * missed wakeup would exceed (poll's own timeout is longer still). */
#define BURSTS 1500

struct burst_state {
	struct comb_map *map;
	uint64_t consumed; /* written by the consumer thread */
	int stop;
	int late;          /* bursts that missed the deadline */
};

static int count_burst_record(void *ctx, void *data, size_t size)
{
	struct burst_state *b = ctx;
	__atomic_add_fetch(&b->consumed, 1, __ATOMIC_RELEASE);
	return 0;
}

static void *burst_consumer(void *arg)
{
	struct burst_state *b = arg;
	struct comb_ring_buffer *rb;
	if (comb_ring_buffer_new(b->map, count_burst_record, b, NULL, &rb))
		return NULL;
	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
		comb_ring_buffer_poll(rb, 30000);
	comb_ring_buffer_free(rb);
	return NULL;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

TEST(ringbuf_consumer_asleep_in_poll_is_always_woken)
{
	struct burst_state *b = calloc(1, sizeof(*b));
	b->map = make_ringbuf(page());
	CHECK(b->map != NULL);
	pthread_t consumer;
	CHECK(pthread_create(&consumer, NULL, burst_consumer, b) == 0);
	uint64_t sent = 0;
	unsigned seed = 12345;
	for (int burst = 0; burst < BURSTS && b->late == 0; burst++) {
		int records = 1 + (int)(rand_r(&seed) % 8);
		for (int i = 0; i < records; i++, sent++)
			while (comb_ringbuf_output(b->map, &sent, sizeof(sent), 0))
				sched_yield();
		double deadline = now_seconds() + 2.0;
		while (__atomic_load_n(&b->consumed, __ATOMIC_ACQUIRE) < sent) {
			if (now_seconds() > deadline) {
				b->late++;
				break;
			}
			sched_yield();
		}
		usleep(rand_r(&seed) % 400); /* 0..400 us: often past the consumer's spin */
	}
	/* Wake the consumer for the last time (FORCE) so it sees stop. */
	__atomic_store_n(&b->stop, 1, __ATOMIC_RELEASE);
	CHECK_EQ(comb_ringbuf_output(b->map, &sent, sizeof(sent), COMB_RB_FORCE_WAKEUP), 0);
	pthread_join(consumer, NULL);
	CHECK_EQ(b->late, 0);
	CHECK_EQ(__atomic_load_n(&b->consumed, __ATOMIC_ACQUIRE), sent + 1);
	comb_map_free(b->map);
	free(b);
}
