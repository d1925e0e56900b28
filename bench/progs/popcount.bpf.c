/* bench/progs/popcount.bpf.c - benchmark: SWAR bit counts of xorshift64 values.
 *
 * An XDP program with no maps, globals or calls: comb runs the raw "xdp"
 * section, the kernel loads the object, comb-bench checks both against the
 * native build of the same compute.h function.
 */
#include "compute.h"

BENCH_XDP_PROGRAM(popcount);
