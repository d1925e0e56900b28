/* bench/progs/murmur3.bpf.c - benchmark: MurmurHash3 of the data's words.
 *
 * An XDP program with no maps, globals or calls: comb runs the raw "xdp"
 * section, the kernel loads the object, comb-bench checks both against the
 * native build of the same compute.h function.
 */
#include "compute.h"

BENCH_XDP_PROGRAM(murmur3);
