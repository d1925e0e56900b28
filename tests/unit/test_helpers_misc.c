/* tests/unit/test_helpers_misc.c - task, probe, string, lock and callback
 * helpers.
 *
 * Each helper is called from a tiny program (LDDW r1..r5, call, exit) so it
 * runs exactly as a program would call it, with host pointers as
 * arguments; the kernel's edge cases (strtol/strtoul bases, prefixes,
 * overflow and error codes, snprintf's formats, truncation and refusals,
 * probe reads of unmapped memory) are checked value by value.
 * tests/progs/helpers_misc.bpf.c then calls them from clang-built code in
 * both engines; spin locks must keep a counter exact under threads.
 */
#define _GNU_SOURCE /* gettid */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../test.h"
#include "comb/map.h"
#include "comb/object.h"
#include "comb/vm.h"
#include "insn_build.h"
#include "prog_objects.h"

/* Run helper id with r1..r5 in the interpreter; r0 as a signed value. */
static int64_t call_helper(uint32_t id, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	struct comb_insn prog[] = {
		LDDW(1, r1), LDDW(2, r2), LDDW(3, r3), LDDW(4, r4), LDDW(5, r5), CALL_HELPER(id), EXIT(),
	};
	struct comb_vm *vm = NULL;
	struct comb_prog *p = NULL;
	char err[256];
	uint64_t r0 = 0xdead;
	/* Host pointers, not verified: the trusting interpreter, named explicitly
	 * (DEFAULT would pick the checked engine for an unverified program). */
	struct comb_run_opts run = { .sz = sizeof(run), .engine = COMB_ENGINE_INTERP };
	if (comb_vm_new(NULL, &vm) == 0 &&
	    comb_prog_load(vm, prog, sizeof(prog) / sizeof(prog[0]), NULL, &p, err, sizeof(err)) == 0)
		comb_prog_run(p, &run, &r0);
	comb_prog_free(p);
	comb_vm_free(vm);
	return (int64_t)r0;
}

#define PTR(p) ((uint64_t)(uintptr_t)(p))

static int64_t strtol_call(const char *s, uint64_t flags, int64_t *res)
{
	return call_helper(105, PTR(s), strlen(s), flags, PTR(res), 0);
}

static int64_t strtoul_call(const char *s, uint64_t flags, uint64_t *res)
{
	return call_helper(106, PTR(s), strlen(s), flags, PTR(res), 0);
}

TEST(helpers_strtol_kernel_rules)
{
	int64_t r = 0;
	CHECK_EQ(strtol_call("123abc", 10, &r), 3);
	CHECK_EQ(r, 123);
	CHECK_EQ(strtol_call("  -42", 0, &r), 5);
	CHECK_EQ(r, -42);
	CHECK_EQ(strtol_call("0x1f", 0, &r), 4);
	CHECK_EQ(r, 31);
	CHECK_EQ(strtol_call("0x1f", 16, &r), 4);
	CHECK_EQ(strtol_call("1f", 16, &r), 2);
	CHECK_EQ(r, 31);
	CHECK_EQ(strtol_call("017", 0, &r), 3);
	CHECK_EQ(r, 15);
	CHECK_EQ(strtol_call("0x", 0, &r), 1); /* base 8, "0" */
	CHECK_EQ(r, 0);
	CHECK_EQ(strtol_call("0x", 16, &r), -EINVAL);
	CHECK_EQ(strtol_call("089", 0, &r), 1);
	CHECK_EQ(strtol_call("abc", 10, &r), -EINVAL);
	CHECK_EQ(strtol_call("   ", 10, &r), -EINVAL);
	CHECK_EQ(strtol_call("-", 10, &r), -EINVAL);
	CHECK_EQ(strtol_call("+5", 10, &r), -EINVAL);
	CHECK_EQ(strtol_call("12", 2, &r), -EINVAL);
	CHECK_EQ(strtol_call("12", 10 | 0x20, &r), -EINVAL);
	CHECK_EQ(strtol_call("9223372036854775807", 10, &r), 19);
	CHECK_EQ(r, INT64_MAX);
	CHECK_EQ(strtol_call("-9223372036854775808", 10, &r), 20);
	CHECK_EQ(r, INT64_MIN);
	r = 5;
	CHECK_EQ(strtol_call("9223372036854775808", 10, &r), -ERANGE);
	CHECK_EQ(strtol_call("99999999999999999999", 10, &r), -ERANGE);
	CHECK_EQ(r, 5); /* untouched on error */
	char nbsp[] = { (char)0xa0, '7', 0 };
	CHECK_EQ(strtol_call(nbsp, 10, &r), 2); /* the kernel's isspace includes 0xa0 */
	CHECK_EQ(r, 7);
	int64_t buf_len_zero = call_helper(105, PTR("1"), 0, 10, PTR(&r), 0);
	CHECK_EQ(buf_len_zero, -EINVAL);
}

TEST(helpers_strtoul_kernel_rules)
{
	uint64_t r = 0;
	CHECK_EQ(strtoul_call("18446744073709551615", 10, &r), 20);
	CHECK_EQ(r, UINT64_MAX);
	CHECK_EQ(strtoul_call("18446744073709551616", 10, &r), -ERANGE);
	CHECK_EQ(strtoul_call("-1", 10, &r), -EINVAL);
	CHECK_EQ(strtoul_call("0XFF", 0, &r), 4);
	CHECK_EQ(r, 255);
	CHECK_EQ(strtoul_call("\t\n 77 ", 8, &r), 5);
	CHECK_EQ(r, 077);
}

static int64_t snprintf_call(char *out, uint64_t size, const char *fmt, const uint64_t *args, uint64_t nargs)
{
	return call_helper(165, PTR(out), size, PTR(fmt), PTR(args), nargs * 8);
}

TEST(helpers_snprintf_formats)
{
	char out[64];
	static char name[] = "comb";
	uint8_t ip4[4] = { 10, 0, 0, 1 };
	uint64_t args[] = { (uint64_t)-5, 0xffffffffffull, PTR(name), 'x', PTR(ip4) };
	CHECK_EQ(snprintf_call(out, sizeof(out), "%d|%llx|%s|%c|%pI4", args, 5), 30);
	CHECK_STR(out, "-5|ffffffffff|comb|x|10.0.0.1");
	uint64_t widths[] = { 42, 7, (uint64_t)-1 };
	CHECK_EQ(snprintf_call(out, sizeof(out), "[%5d][%-3u][%x]%%", widths, 3), 24);
	CHECK_STR(out, "[   42][7  ][ffffffff]%");
	CHECK_EQ(snprintf_call(out, 4, "%d", widths, 1), 3); /* "42" + NUL */
	CHECK_EQ(snprintf_call(out, 3, "abcdef", NULL, 0), 7);
	CHECK_STR(out, "ab");
	CHECK_EQ(snprintf_call(out, sizeof(out), "%s", (uint64_t[]){ 16 }, 1), 1); /* bad pointer: "" */
	CHECK_STR(out, "");
	CHECK_EQ(snprintf_call(out, sizeof(out), "%d %d", args, 1), -EINVAL);
	CHECK_EQ(snprintf_call(out, sizeof(out), "%.2d", args, 1), -EINVAL);
	CHECK_EQ(snprintf_call(out, sizeof(out), "%f", args, 1), -EINVAL);
	CHECK_EQ(snprintf_call(out, sizeof(out), "%pZ", args, 1), -EINVAL);
	CHECK_EQ(snprintf_call(out, sizeof(out), "\x01", args, 1), -EINVAL);
	CHECK_EQ(call_helper(165, PTR(out), sizeof(out), PTR("%d"), PTR(args), 12), -EINVAL);
	CHECK_EQ(call_helper(165, PTR(out), sizeof(out), PTR("%d"), PTR(args), 13 * 8), -EINVAL);
}

TEST(helpers_strncmp_like_kernel)
{
	CHECK_EQ(call_helper(182, PTR("abcd"), 4, PTR("abce"), 0, 0), -1);
	CHECK_EQ(call_helper(182, PTR("abcd"), 3, PTR("abce"), 0, 0), 0);
	CHECK_EQ(call_helper(182, PTR("b"), 1, PTR("a"), 0, 0), 1);
	CHECK_EQ(call_helper(182, PTR("ab\0x"), 4, PTR("ab"), 0, 0), 0);
	CHECK_EQ(call_helper(182, PTR("\xff"), 1, PTR("a"), 0, 0), 1); /* unsigned bytes */
}

TEST(helpers_probe_read_user_fault_safe)
{
	long page = sysconf(_SC_PAGESIZE);
	char *two = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(two != MAP_FAILED);
	/* PROT_NONE rather than munmap: nothing else can be mapped into the hole
	 * while the test runs (loading a program maps JIT pages, for one). */
	CHECK_EQ(mprotect(two + page, (size_t)page, PROT_NONE), 0);
	char *tail = two + page - 4; /* "abc\0" then an unreadable page */
	memcpy(tail, "abc", 4);
	uint64_t value = 0x1111;
	CHECK_EQ(call_helper(112, PTR(&value), 4, PTR(tail), 0, 0), 0);
	CHECK(memcmp(&value, "abc\0", 4) == 0);
	value = 0x1111;
	CHECK_EQ(call_helper(112, PTR(&value), 8, PTR(tail), 0, 0), -EFAULT);
	CHECK_EQ(value, 0); /* zeroed on a fault */
	CHECK_EQ(call_helper(112, PTR(&value), 8, 8, 0, 0), -EFAULT);
	char s[16];
	CHECK_EQ(call_helper(114, PTR(s), sizeof(s), PTR(tail), 0, 0), 4);
	CHECK_STR(s, "abc");
	CHECK_EQ(call_helper(114, PTR(s), 3, PTR(tail), 0, 0), 3);
	CHECK_STR(s, "ab");
	memcpy(tail, "abcd", 4); /* no NUL before the hole */
	CHECK_EQ(call_helper(114, PTR(s), sizeof(s), PTR(tail), 0, 0), -EFAULT);
	CHECK_EQ(s[0], 0);
	CHECK_EQ(call_helper(114, PTR(s), 0, PTR(tail), 0, 0), 0);
	CHECK_EQ(call_helper(113, PTR(&value), 8, PTR(tail), 0, 0), -EFAULT);
	CHECK_EQ(call_helper(115, PTR(s), sizeof(s), PTR(tail), 0, 0), -EFAULT);
	munmap(two, (size_t)page * 2);
}

TEST(helpers_task_identity)
{
	uint64_t pid_tgid = (uint64_t)call_helper(14, 0, 0, 0, 0, 0);
	CHECK_EQ(pid_tgid >> 32, (uint64_t)getpid());
	CHECK_EQ((uint32_t)pid_tgid, (uint32_t)gettid());
	uint64_t uid_gid = (uint64_t)call_helper(15, 0, 0, 0, 0, 0);
	CHECK_EQ(uid_gid, (uint64_t)getgid() << 32 | getuid());
	char name[17] = "";
	prctl(PR_GET_NAME, name);
	char comm[16], tiny[4];
	memset(comm, 'x', sizeof(comm));
	CHECK_EQ(call_helper(16, PTR(comm), sizeof(comm), 0, 0, 0), 0);
	CHECK_STR(comm, name);
	CHECK_EQ(comm[15], 0); /* padded */
	CHECK_EQ(call_helper(16, PTR(tiny), sizeof(tiny), 0, 0, 0), 0);
	CHECK_EQ(strlen(tiny), strlen(name) < 3 ? strlen(name) : 3);
	CHECK(call_helper(42, 0, 0, 0, 0, 0) >= 0);
	uint64_t j1 = (uint64_t)call_helper(118, 0, 0, 0, 0, 0);
	usleep(20000);
	uint64_t j2 = (uint64_t)call_helper(118, 0, 0, 0, 0, 0);
	CHECK(j2 > j1);
	CHECK(j1 > 0xffffffffull - 300 * 1000); /* INITIAL_JIFFIES, then counting up */
}

TEST(helpers_loop_limits)
{
	CHECK_EQ(call_helper(181, 1, 0, 0, 1, 0), -EINVAL);
	CHECK_EQ(call_helper(181, (1u << 23) + 1, 0, 0, 0, 0), -E2BIG);
	CHECK_EQ(call_helper(181, 0, 0, 0, 0, 0), 0);
}

/* ---- from clang-built code ----------------------------------------------- */

/* Helper tests, not verifier tests: the object uses xdp sections for helpers
 * xdp may not call, so it loads unverified. */
static struct comb_object *open_misc_object(struct comb_vm **vm)
{
	return prog_object_load_unverified("helpers_misc.bpf.o", vm);
}

static int run_prog(struct comb_object *obj, const char *name, enum comb_engine engine)
{
	int idx = comb_object_find_prog(obj, name);
	if (idx < 0)
		return -ENOENT;
	struct comb_run_opts opts = { .sz = sizeof(opts), .engine = engine };
	uint64_t r0;
	int rc = comb_prog_run(comb_object_prog(obj, (size_t)idx), &opts, &r0);
	return rc ? rc : (int)r0;
}

enum {
	R_PID_TGID, R_UID_GID, R_STRTOL_RC, R_STRTOL, R_STRTOUL_RC, R_STRTOUL, R_SNPRINTF_RC,
	R_STRNCMP, R_LOOP_CALLS, R_LOOP_SUM, R_EACH_CALLS, R_EACH_SUM, R_PROBE_ADDR, R_PROBE_RC,
	R_PROBE_VALUE, R_PROBE_STR_RC,
};
enum { T_COMM, T_FORMATTED, T_PROBE_STR };

static struct comb_map *object_map(struct comb_object *obj, const char *name)
{
	int idx = comb_object_find_map(obj, name);
	return idx < 0 ? NULL : comb_object_map(obj, (size_t)idx);
}

static uint64_t result(struct comb_object *obj, uint32_t index)
{
	uint64_t *p = comb_map_array_value(object_map(obj, "results"), index);
	return p ? *p : 0xbadbadull;
}

static const char *text(struct comb_object *obj, uint32_t index)
{
	return comb_map_array_value(object_map(obj, "texts"), index);
}

TEST(helpers_misc_from_bpf_program)
{
	for (int e = 0; e < 2; e++) {
		enum comb_engine engine = e ? COMB_ENGINE_CHECKED : COMB_ENGINE_INTERP;
		struct comb_vm *vm = NULL;
		struct comb_object *obj = open_misc_object(&vm);
		CHECK(obj);
		CHECK_EQ(run_prog(obj, "task_info", engine), 0);
		CHECK_EQ(result(obj, R_PID_TGID) >> 32, (uint64_t)getpid());
		CHECK_EQ(result(obj, R_UID_GID), (uint64_t)getgid() << 32 | getuid());
		char name[17] = "";
		prctl(PR_GET_NAME, name);
		CHECK_STR(text(obj, T_COMM), name);

		CHECK_EQ(run_prog(obj, "strings", engine), 0);
		CHECK_EQ(result(obj, R_STRTOL_RC), 7);
		CHECK_EQ(result(obj, R_STRTOL), (uint64_t)-31);
		CHECK_EQ(result(obj, R_STRTOUL_RC), 4);
		CHECK_EQ(result(obj, R_STRTOUL), 4096);
		CHECK_STR(text(obj, T_FORMATTED), "-7-comb-ff");
		CHECK_EQ(result(obj, R_SNPRINTF_RC), 11);
		CHECK_EQ(result(obj, R_STRNCMP), (uint64_t)-1);

		struct comb_map *numbers = object_map(obj, "numbers");
		for (uint32_t i = 0; i < 8; i++) {
			uint64_t v = (i + 1) * 100;
			CHECK_EQ(comb_map_update(numbers, &i, &v, COMB_ANY), 0);
		}
		CHECK_EQ(run_prog(obj, "callbacks", engine), 0);
		CHECK_EQ(result(obj, R_LOOP_CALLS), 10);
		CHECK_EQ(result(obj, R_LOOP_SUM), 45);
		CHECK_EQ(result(obj, R_EACH_CALLS), 8);
		CHECK_EQ(result(obj, R_EACH_SUM), 3600);

		static const char secret[] = "hidden!";
		uint64_t addr = PTR(secret);
		uint32_t key = R_PROBE_ADDR;
		CHECK_EQ(comb_map_update(object_map(obj, "results"), &key, &addr, COMB_ANY), 0);
		CHECK_EQ(run_prog(obj, "probe", engine), 0);
		CHECK_EQ(result(obj, R_PROBE_RC), 0);
		CHECK(memcmp(&(uint64_t){ result(obj, R_PROBE_VALUE) }, secret, 8) == 0);
		CHECK_EQ(result(obj, R_PROBE_STR_RC), 8);
		CHECK_STR(text(obj, T_PROBE_STR), "hidden!");
		addr = 16; /* unmapped */
		CHECK_EQ(comb_map_update(object_map(obj, "results"), &key, &addr, COMB_ANY), 0);
		CHECK_EQ(run_prog(obj, "probe", engine), 0);
		CHECK_EQ(result(obj, R_PROBE_RC), (uint64_t)-EFAULT);
		CHECK_EQ(result(obj, R_PROBE_VALUE), 0);
		CHECK_EQ(result(obj, R_PROBE_STR_RC), (uint64_t)-EFAULT);
		comb_object_close(obj);
		comb_vm_free(vm);
	}
}

#define LOCK_THREADS 4
#define LOCK_RUNS 20000

struct lock_worker {
	struct comb_object *obj;
	enum comb_engine engine;
	int failures;
};

static void *lock_worker(void *arg)
{
	struct lock_worker *w = arg;
	for (int i = 0; i < LOCK_RUNS; i++)
		w->failures += run_prog(w->obj, "locked_add", w->engine) != 0;
	return NULL;
}

TEST(helpers_spin_lock_keeps_count_exact)
{
	struct comb_vm *vm = NULL;
	struct comb_object *obj = open_misc_object(&vm);
	CHECK(obj);
	pthread_t threads[LOCK_THREADS];
	struct lock_worker workers[LOCK_THREADS];
	for (int i = 0; i < LOCK_THREADS; i++) {
		workers[i] = (struct lock_worker){ obj, i % 2 ? COMB_ENGINE_CHECKED : COMB_ENGINE_INTERP, 0 };
		CHECK_EQ(pthread_create(&threads[i], NULL, lock_worker, &workers[i]), 0);
	}
	int failures = 0;
	for (int i = 0; i < LOCK_THREADS; i++) {
		pthread_join(threads[i], NULL);
		failures += workers[i].failures;
	}
	CHECK_EQ(failures, 0);
	struct { uint32_t lock, pad; uint64_t count; } *c = comb_map_array_value(object_map(obj, "counters"), 0);
	CHECK(c);
	CHECK_EQ(c->count, (uint64_t)LOCK_THREADS * LOCK_RUNS);
	CHECK_EQ(c->lock, 0);
	comb_object_close(obj);
	comb_vm_free(vm);
}
