/* tests/unit/prog_objects.h - find and open the test objects clang builds.
 *
 * make compiles tests/progs/NAME.bpf.c into $(BUILD)/progs/NAME.bpf.o, next
 * to the unit-test binary ($(BUILD)/unit-tests), so the tests find an object
 * from /proc/self/exe whatever the build directory or working directory.
 * Failures print where and what (a missing object says how to build it) and
 * return NULL / -1, so a test's CHECK(obj) fails with the reason above it.
 */
#ifndef COMB_TEST_PROG_OBJECTS_H
#define COMB_TEST_PROG_OBJECTS_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "comb/object.h"
#include "comb/vm.h"

/* path = <directory of this binary>/progs/name. 0, or -1 when it does not fit. */
static inline int prog_object_path(const char *name, char *path, size_t path_len)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	int len = snprintf(path, path_len, "%s/progs/%s", exe, name);
	return len < 0 || (size_t)len >= path_len ? -1 : 0;
}

/* Opens $(BUILD)/progs/name (not loaded). NULL, with a message, on failure. */
static inline struct comb_object *prog_object_open(const char *name)
{
	char path[4096 + 256], err[512];
	if (prog_object_path(name, path, sizeof(path))) {
		fprintf(stderr, "  %s: path of the test object too long\n", name);
		return NULL;
	}
	struct comb_object *obj = NULL;
	if (comb_object_open_file(path, NULL, &obj, err, sizeof(err)) != 0) {
		fprintf(stderr, "  open %s: %s (built by make into $(BUILD)/progs)\n", path, err);
		return NULL;
	}
	return obj;
}

/* Opens $(BUILD)/progs/name and loads it, without verification, into a new
 * VM (*vm; the caller frees it, also on failure). For tests of helpers and
 * maps whose programs the verifier need not (or cannot) prove safe; they
 * name the engines explicitly. NULL, with a message, on failure. */
static inline struct comb_object *prog_object_load_unverified(const char *name, struct comb_vm **vm)
{
	struct comb_object *obj = prog_object_open(name);
	if (!obj)
		return NULL;
	char err[512];
	if (comb_vm_new(NULL, vm) != 0 || comb_object_set_verify(obj, false) != 0 ||
	    comb_object_load(obj, *vm, err, sizeof(err)) != 0) {
		fprintf(stderr, "  load %s: %s\n", name, err);
		comb_object_close(obj);
		return NULL;
	}
	return obj;
}

#endif
