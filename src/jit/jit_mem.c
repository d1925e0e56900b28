/* src/jit/jit_mem.c - executable memory for JIT code: a code arena shared by
 * all programs, never writable and executable at the same address (W^X).
 *
 * A chunk is a memfd of JIT_CHUNK_SIZE bytes mapped twice: a read-write view
 * that only this file writes (code is copied in, freed ranges are filled
 * with int3) and a read-execute view that programs run from. No mapping is
 * ever both writable and executable, and a program's code is complete
 * before its address is handed out. Chunks are cut into 64-byte units
 * tracked by a bitmap (first fit), so a small program costs a memcpy rather
 * than an mmap and an mprotect; a chunk is unmapped when its last program is
 * freed (the newest one stays for the next program).
 *
 * Programs larger than a quarter of a chunk, or every program when memfds
 * cannot be mapped executable here, get pages of their own: mapped
 * read-write, filled, switched to read-execute.
 *
 * The compiler writes its final code straight into that memory:
 * comb_jit_mem_reserve() hands out the writable side, comb_jit_mem_commit()
 * the executable address once the code is complete.
 *
 * fork: the child shares the chunks' pages with the parent (the mappings are
 * shared), so after a fork neither process writes into a chunk that existed
 * before it: those chunks are frozen (no new code, freed ranges not
 * reused, unmapped when empty) and both processes start new chunks.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "jit/jit.h"

#define JIT_CHUNK_SIZE (256u * 1024u)
#define JIT_UNIT 64u
#define JIT_UNITS (JIT_CHUNK_SIZE / JIT_UNIT)
#define JIT_WORDS (JIT_UNITS / 64u)
#define JIT_INT3 0xcc

struct jit_chunk {
	uint8_t *rw;              /* the writable view */
	uint8_t *rx;              /* the executable view */
	struct jit_chunk *next;
	unsigned generation;      /* frozen when older than arena.generation */
	size_t live_units;
	size_t hint;              /* no free unit below this one */
	uint64_t used[JIT_WORDS]; /* one bit per unit */
};

static struct {
	pthread_mutex_t lock;
	struct jit_chunk *chunks;
	unsigned generation;
	bool no_memfd;            /* memfd_create or its exec mapping is refused */
} arena = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pthread_once_t arena_once = PTHREAD_ONCE_INIT;

static void arena_prepare_fork(void) { pthread_mutex_lock(&arena.lock); }

static void arena_after_fork(void)
{
	arena.generation++;
	pthread_mutex_unlock(&arena.lock);
}

static void arena_init(void)
{
	pthread_atfork(arena_prepare_fork, arena_after_fork, arena_after_fork);
}

/* ---- pages of their own (large programs, or no memfd) ---- */

/* Read-write pages for size bytes; made read-execute by own_pages_seal. */
static uint8_t *own_pages_map(size_t size, size_t *mapped)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (size + page - 1) / page * page;
	/* Populated at once: the compiler writes every page next (one fault
	 * per page would cost more than the copy). */
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	*mapped = len;
	return mem;
}

static bool own_pages_seal(uint8_t *mem, size_t size, size_t mapped)
{
	memset(mem + size, JIT_INT3, mapped - size); /* a stray jump traps */
	return mprotect(mem, mapped, PROT_READ | PROT_EXEC) == 0;
}

/* ---- chunks ---- */

static struct jit_chunk *chunk_new(void)
{
	int fd = memfd_create("comb-jit", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct jit_chunk *ch = calloc(1, sizeof(*ch));
	void *rw = MAP_FAILED, *rx = MAP_FAILED;
	if (ch && ftruncate(fd, JIT_CHUNK_SIZE) == 0) {
		rw = mmap(NULL, JIT_CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		rx = mmap(NULL, JIT_CHUNK_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	}
	close(fd);
	if (!ch || rw == MAP_FAILED || rx == MAP_FAILED) {
		if (rw != MAP_FAILED)
			munmap(rw, JIT_CHUNK_SIZE);
		if (rx != MAP_FAILED)
			munmap(rx, JIT_CHUNK_SIZE);
		free(ch);
		return NULL;
	}
	ch->rw = rw;
	ch->rx = rx;
	ch->generation = arena.generation;
	memset(ch->rw, JIT_INT3, JIT_CHUNK_SIZE);
	return ch;
}

static void chunk_release(struct jit_chunk *ch)
{
	munmap(ch->rw, JIT_CHUNK_SIZE);
	munmap(ch->rx, JIT_CHUNK_SIZE);
	free(ch);
}

static bool unit_used(const struct jit_chunk *ch, size_t u) { return ch->used[u / 64] >> (u % 64) & 1; }

/* A word of the bitmap at a time (a big program spans thousands of units). */
static void mark_units(struct jit_chunk *ch, size_t first, size_t n, bool used)
{
	while (n) {
		size_t bit = first % 64, take = 64 - bit < n ? 64 - bit : n;
		uint64_t mask = (take == 64 ? ~0ull : (1ull << take) - 1) << bit;
		if (used)
			ch->used[first / 64] |= mask;
		else
			ch->used[first / 64] &= ~mask;
		first += take;
		n -= take;
	}
}

/* First fit: the first run of n free units, or JIT_UNITS. */
static size_t find_free_run(const struct jit_chunk *ch, size_t n)
{
	size_t run = 0;
	for (size_t u = ch->hint; u < JIT_UNITS; u++) {
		if (run == 0 && u % 64 == 0 && ch->used[u / 64] == ~0ull) {
			u += 63; /* a full word */
			continue;
		}
		run = unit_used(ch, u) ? 0 : run + 1;
		if (run == n)
			return u + 1 - n;
	}
	return JIT_UNITS;
}

static void chunk_unlink(struct jit_chunk *ch)
{
	for (struct jit_chunk **p = &arena.chunks; *p; p = &(*p)->next) {
		if (*p == ch) {
			*p = ch->next;
			return;
		}
	}
}

/* Units for size bytes in a chunk; the lock is held. Returns the
 * writable view of them. */
static uint8_t *arena_reserve(size_t size, struct jit_mem_ref *ref)
{
	size_t n = (size + JIT_UNIT - 1) / JIT_UNIT;
	struct jit_chunk *ch;
	size_t first = JIT_UNITS;
	for (ch = arena.chunks; ch; ch = ch->next) {
		if (ch->generation == arena.generation && (first = find_free_run(ch, n)) < JIT_UNITS)
			break;
	}
	if (!ch) {
		ch = chunk_new();
		if (!ch)
			return NULL;
		ch->next = arena.chunks;
		arena.chunks = ch;
		first = 0;
	}
	mark_units(ch, first, n, true);
	ch->live_units += n;
	if (first == ch->hint)
		ch->hint = first + n;
	ref->chunk = ch;
	ref->first_unit = first;
	ref->units = n;
	return ch->rw + first * JIT_UNIT;
}

static void arena_free(const struct jit_mem_ref *ref)
{
	struct jit_chunk *ch = ref->chunk;
	ch->live_units -= ref->units;
	if (ch->generation != arena.generation) { /* frozen: may be live in another process */
		if (ch->live_units == 0) {
			chunk_unlink(ch);
			chunk_release(ch);
		}
		return;
	}
	mark_units(ch, ref->first_unit, ref->units, false);
	memset(ch->rw + ref->first_unit * JIT_UNIT, JIT_INT3, ref->units * JIT_UNIT);
	if (ref->first_unit < ch->hint)
		ch->hint = ref->first_unit;
	/* Keep the newest chunk for the next program; give back the others. */
	if (ch->live_units == 0 && ch != arena.chunks) {
		chunk_unlink(ch);
		chunk_release(ch);
	}
}

uint8_t *comb_jit_mem_reserve(size_t size, struct jit_mem_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	ref->size = size;
	if (size <= JIT_CHUNK_SIZE / 4) {
		pthread_once(&arena_once, arena_init);
		pthread_mutex_lock(&arena.lock);
		uint8_t *rw = arena.no_memfd ? NULL : arena_reserve(size, ref);
		if (!rw && !arena.chunks)
			arena.no_memfd = true; /* not even one chunk: this system refuses memfd code */
		pthread_mutex_unlock(&arena.lock);
		if (rw)
			return rw;
	}
	ref->own_pages = own_pages_map(size, &ref->mapped);
	return ref->own_pages;
}

const uint8_t *comb_jit_mem_commit(struct jit_mem_ref *ref)
{
	if (ref->own_pages)
		return own_pages_seal(ref->own_pages, ref->size, ref->mapped) ? ref->own_pages : NULL;
	if (!ref->chunk)
		return NULL;
	/* The units are this program's alone until freed: no lock needed. */
	return ref->chunk->rx + ref->first_unit * JIT_UNIT;
}

const uint8_t *comb_jit_mem_install(const uint8_t *bytes, size_t size, struct jit_mem_ref *ref)
{
	uint8_t *rw = comb_jit_mem_reserve(size, ref);
	if (!rw)
		return NULL;
	memcpy(rw, bytes, size);
	const uint8_t *code = comb_jit_mem_commit(ref);
	if (!code)
		comb_jit_mem_free(ref);
	return code;
}

void comb_jit_mem_free(struct jit_mem_ref *ref)
{
	if (ref->own_pages) {
		munmap(ref->own_pages, ref->mapped);
	} else if (ref->chunk) {
		pthread_mutex_lock(&arena.lock);
		arena_free(ref);
		pthread_mutex_unlock(&arena.lock);
	}
	memset(ref, 0, sizeof(*ref));
}

size_t comb_jit_mem_chunk_count(void)
{
	pthread_mutex_lock(&arena.lock);
	size_t n = 0;
	for (struct jit_chunk *ch = arena.chunks; ch; ch = ch->next)
		n++;
	pthread_mutex_unlock(&arena.lock);
	return n;
}
