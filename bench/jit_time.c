/* bench/jit_time.c - the JIT's compile time of one program.
 *
 * The program is decoded once; each sample compiles and frees it in a batch
 * of about 20,000 instructions, on the thread's CPU-time clock (stats.c).
 * One program compiled again and again: its branches are learnt by the
 * predictor, so this is the best case for a program of its shape (comb-bench
 * also times generated programs compiled in turn, which it is not).
 */
#include <errno.h>
#include <stdlib.h>

#include "jit_time.h"
#include "stats.h"
#include "comb/vm.h"
#include "vm/internal.h"
#include "jit/jit.h"

#define JIT_TIME_MAX_SAMPLES 63

int bench_jit_compile_ns(const struct comb_prog *prog, int samples, double *ns)
{
	if (!prog->count || samples < 1 || samples > JIT_TIME_MAX_SAMPLES)
		return -EINVAL;
	struct dinsn *generic = calloc(prog->count, sizeof(*generic));
	int rc = generic ? comb_decode(prog, generic, NULL, 0) : -ENOMEM;
	size_t batch = prog->count >= 20000 ? 1 : 20000 / prog->count;
	double times[JIT_TIME_MAX_SAMPLES];
	for (int s = 0; rc == 0 && s < samples; s++) {
		uint64_t start = bench_now_ns();
		for (size_t k = 0; rc == 0 && k < batch; k++) {
			struct comb_jit_code *jit = NULL;
			rc = comb_jit_compile(prog, generic, &jit);
			comb_jit_free(jit);
		}
		times[s] = (double)(bench_now_ns() - start) / (double)batch;
	}
	free(generic);
	if (rc == 0)
		*ns = bench_median(times, (size_t)samples);
	return rc;
}
