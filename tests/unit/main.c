/* tests/unit/main.c - runs the tests registered with TEST() (see tests/test.h).
 * Usage: unit-tests [SUBSTRING]; prints failures, then "N passed, N failed". */
#include <stdarg.h>
#include <stdlib.h>
#include "../test.h"

struct registered_test {
	const char *name;
	test_fn fn;
};

static struct registered_test *tests;
static size_t test_count, test_capacity;
static int current_failed;

void test_register(const char *name, test_fn fn)
{
	if (test_count == test_capacity) {
		test_capacity = test_capacity ? test_capacity * 2 : 64;
		tests = realloc(tests, test_capacity * sizeof(*tests));
		if (!tests)
			abort();
	}
	tests[test_count++] = (struct registered_test){ name, fn };
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	current_failed = 1;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;
	for (size_t i = 0; i < test_count; i++) {
		if (filter && !strstr(tests[i].name, filter))
			continue;
		current_failed = 0;
		tests[i].fn();
		if (current_failed) {
			fprintf(stderr, "FAIL %s\n", tests[i].name);
			failed++;
		} else {
			passed++;
		}
	}
	free(tests);
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
