/* fuzz_fib.c - libFuzzer target for the route table parser (comb_fib_parse).
 *
 * The input is parsed as a route table; the target checks what the parser
 * promises: success leaves a table and an empty message, failure no table
 * and a message that names a line. Crashes and sanitizer reports are
 * findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comb/xdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct comb_fib *fib = NULL;
	char err[256];
	int rc = comb_fib_parse((const char *)data, size, &fib, err, sizeof(err));
	if (rc == 0) {
		if (!fib || err[0])
			abort();
		comb_fib_free(fib);
	} else if (fib || strncmp(err, "fib: line ", 10) != 0) {
		if (rc != -12) /* -ENOMEM has no line */
			abort();
	}
	return 0;
}
