/* bench/progs/dispatch.bpf.c - benchmark: Run n steps of a 16-opcode state machine (a switch per step).
 *
 * An XDP program with no maps, globals or calls: comb runs the raw "xdp"
 * section, the kernel loads the object, comb-bench checks both against the
 * native build of the same compute.h function.
 */
#include "compute.h"

BENCH_XDP_PROGRAM(dispatch);
