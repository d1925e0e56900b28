/* bench/progs/collatz.bpf.c - benchmark: Total Collatz steps for the starts 1..n.
 *
 * An XDP program with no maps, globals or calls: comb runs the raw "xdp"
 * section, the kernel loads the object, comb-bench checks both against the
 * native build of the same compute.h function.
 */
#include "compute.h"

BENCH_XDP_PROGRAM(collatz);
