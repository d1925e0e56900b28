/* bench/progs/checksum.bpf.c - benchmark: Adler-32 style checksum over the packet data, n passes.
 *
 * An XDP program with no maps, globals or calls: comb runs the raw "xdp"
 * section, the kernel loads the object, comb-bench checks both against the
 * native build of the same compute.h function.
 */
#include "compute.h"

BENCH_XDP_PROGRAM(checksum);
