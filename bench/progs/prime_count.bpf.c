/* bench/progs/prime_count.bpf.c - benchmark: Count the primes below n by trial division.
 *
 * An XDP program with no maps, globals or calls: comb runs the raw "xdp"
 * section, the kernel loads the object, comb-bench checks both against the
 * native build of the same compute.h function.
 */
#include "compute.h"

BENCH_XDP_PROGRAM(prime_count);
