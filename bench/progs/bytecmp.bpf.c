/* bench/progs/bytecmp.bpf.c - benchmark: memcmp-like scans of the two halves of the packet data, n rounds.
 *
 * An XDP program with no maps, globals or calls: comb runs the raw "xdp"
 * section, the kernel loads the object, comb-bench checks both against the
 * native build of the same compute.h function.
 */
#include "compute.h"

BENCH_XDP_PROGRAM(bytecmp);
