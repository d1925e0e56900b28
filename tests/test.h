/* tests/test.h - a very small unit-test harness.
 *
 * TEST(name) { ... } defines a test that registers itself at start-up; the
 * CHECK macros record a failure with file:line and return from the test.
 * tests/unit/main.c runs every registered test (or those whose name contains
 * argv[1]) and ends with the line "N passed, N failed".
 */
#ifndef COMB_TEST_H
#define COMB_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define TEST(name)                                                                          \
	static void name(void);                                                             \
	__attribute__((constructor)) static void register_##name(void)                     \
	{                                                                                   \
		test_register(#name, name);                                                 \
	}                                                                                   \
	static void name(void)

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                  \
			return;                                                             \
		}                                                                           \
	} while (0)

#define CHECK_EQ(a, b)                                                                      \
	do {                                                                                \
		uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                \
		if (check_a_ != check_b_) {                                                 \
			test_fail(__FILE__, __LINE__, "%s == %s: 0x%" PRIx64 " != 0x%" PRIx64, \
				  #a, #b, check_a_, check_b_);                              \
			return;                                                             \
		}                                                                           \
	} while (0)

#define CHECK_STR(a, b)                                                                     \
	do {                                                                                \
		const char *check_a_ = (a), *check_b_ = (b);                                \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {            \
			test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,    \
				  check_a_ ? check_a_ : "(null)",                           \
				  check_b_ ? check_b_ : "(null)");                          \
			return;                                                             \
		}                                                                           \
	} while (0)

#endif
