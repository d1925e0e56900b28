/* bench/progs/log2_sum.bpf.c - benchmark: Sum integer log2 of n values spread over the 64-bit range.
 *
 * An XDP program with no maps, globals or calls: comb runs the raw "xdp"
 * section, the kernel loads the object, comb-bench checks both against the
 * native build of the same compute.h function.
 */
#include "compute.h"

BENCH_XDP_PROGRAM(log2_sum);
