/* src/helpers/probe_helpers.c - fault-safe reads of the process's memory.
 *
 * bpf_probe_read_user(dst, size, src) and probe_read_user_str read the
 * calling process's own memory with process_vm_readv(getpid()), which
 * reports a bad address as an error instead of a SIGSEGV: a program may
 * hand these helpers any address. As in the kernel, a failed read zeroes
 * dst and returns -EFAULT; the _str variant copies up to size - 1 bytes
 * and a NUL, stops at the source's NUL and returns the length including the
 * NUL. The source is read page by page so a string that ends just before
 * an unmapped page is still read. The legacy probe_read / probe_read_str
 * (ids 4 and 45) behave the same; probe_read_kernel / _str refuse with
 * -EFAULT (zeroing dst): there is no kernel memory to read in user space.
 * dst must be memory the run may write (-EFAULT otherwise, before anything
 * is read).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "helpers/helpers.h"

#define PROBE_PAGE 4096ull

/* Copy size bytes from the process's address src; 0 or -EFAULT. */
static int read_own_memory(void *dst, const void *src, size_t size)
{
	if (size == 0)
		return 0;
	struct iovec local = { .iov_base = dst, .iov_len = size };
	struct iovec remote = { .iov_base = (void *)src, .iov_len = size };
	ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	return n == (ssize_t)size ? 0 : -EFAULT;
}

static int probe_read(void *dst, uint64_t size, const void *src)
{
	int rc = read_own_memory(dst, src, size);
	if (rc)
		memset(dst, 0, size);
	return rc;
}

/* Read a NUL-terminated string into dst (size > 0): its length with the
 * NUL, or -EFAULT. */
static long probe_read_str(char *dst, uint64_t size, const char *src)
{
	uint64_t done = 0;
	while (done < size - 1) {
		uint64_t addr = (uint64_t)(uintptr_t)src + done;
		uint64_t chunk = PROBE_PAGE - addr % PROBE_PAGE;
		if (chunk > size - 1 - done)
			chunk = size - 1 - done;
		if (read_own_memory(dst + done, (const char *)(uintptr_t)addr, chunk)) {
			memset(dst, 0, size);
			return -EFAULT;
		}
		char *nul = memchr(dst + done, 0, chunk);
		if (nul)
			return nul - dst + 1;
		done += chunk;
	}
	dst[done] = 0;
	return (long)done + 1;
}

static uint64_t helper_probe_read_user(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	void *dst = (void *)(uintptr_t)r1;
	if (comb_call_check_mem(cc, dst, r2, true))
		return (uint64_t)-EFAULT;
	return (uint64_t)(int64_t)probe_read(dst, r2, (const void *)(uintptr_t)r3);
}

static uint64_t helper_probe_read_user_str(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					   uint64_t r5, struct comb_call_ctx *cc)
{
	char *dst = (char *)(uintptr_t)r1;
	if (r2 == 0)
		return 0;
	if (comb_call_check_mem(cc, dst, r2, true))
		return (uint64_t)-EFAULT;
	return (uint64_t)(int64_t)probe_read_str(dst, r2, (const char *)(uintptr_t)r3);
}

static uint64_t helper_probe_read_kernel(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
					 struct comb_call_ctx *cc)
{
	void *dst = (void *)(uintptr_t)r1;
	if (r2 && comb_call_check_mem(cc, dst, r2, true) == 0)
		memset(dst, 0, r2);
	return (uint64_t)-EFAULT;
}

int comb_register_probe_helpers(struct comb_vm *vm)
{
	static const struct {
		uint32_t id;
		const char *name;
		comb_helper_fn fn;
	} table[] = {
		{ HELPER_PROBE_READ, "probe_read", helper_probe_read_user },
		{ HELPER_PROBE_READ_STR, "probe_read_str", helper_probe_read_user_str },
		{ HELPER_PROBE_READ_USER, "probe_read_user", helper_probe_read_user },
		{ HELPER_PROBE_READ_KERNEL, "probe_read_kernel", helper_probe_read_kernel },
		{ HELPER_PROBE_READ_USER_STR, "probe_read_user_str", helper_probe_read_user_str },
		{ HELPER_PROBE_READ_KERNEL_STR, "probe_read_kernel_str", helper_probe_read_kernel },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int rc = comb_vm_register_helper(vm, table[i].id, table[i].name, table[i].fn);
		if (rc)
			return rc;
	}
	return 0;
}
