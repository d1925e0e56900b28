/* bench/progs/fnv1a.bpf.c - benchmark: FNV-1a hash of the data.
 *
 * An XDP program with no maps, globals or calls: comb runs the raw "xdp"
 * section, the kernel loads the object, comb-bench checks both against the
 * native build of the same compute.h function.
 */
#include "compute.h"

BENCH_XDP_PROGRAM(fnv1a);
