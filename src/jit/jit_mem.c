/* src/jit/jit_mem.c - executable pages for JIT code, never writable and
 * executable at the same time (W^X).
 *
 * The code is built in ordinary memory, then copied into pages mapped
 * read-write, which are switched to read-execute before anything runs them.
 * They stay read-execute until they are unmapped.
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "jit/jit.h"

void *comb_jit_mem_install(const uint8_t *bytes, size_t size, size_t *mapped)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (size + page - 1) / page * page;
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	memcpy(mem, bytes, size);
	/* Fill the tail with int3 so a stray jump traps. */
	memset((uint8_t *)mem + size, 0xcc, len - size);
	if (mprotect(mem, len, PROT_READ | PROT_EXEC)) {
		munmap(mem, len);
		return NULL;
	}
	*mapped = len;
	return mem;
}

void comb_jit_mem_free(void *code, size_t mapped)
{
	if (code)
		munmap(code, mapped);
}
