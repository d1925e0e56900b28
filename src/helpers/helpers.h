/* src/helpers/helpers.h - registration of comb's built-in helpers.
 *
 * Each theme registers its helpers (kernel ids from bpf_helper_defs.h) in its
 * own file; comb_register_default_helpers() calls them all. Helpers share
 * helper_map_arg() to turn r1 into a map they may trust.
 */
#ifndef COMB_HELPERS_HELPERS_H
#define COMB_HELPERS_HELPERS_H
#include "comb/vm.h"

/* Kernel helper ids (enum bpf_func_id). */
enum {
	HELPER_MAP_LOOKUP_ELEM = 1,
	HELPER_MAP_UPDATE_ELEM = 2,
	HELPER_MAP_DELETE_ELEM = 3,
	HELPER_KTIME_GET_NS = 5,
	HELPER_TRACE_PRINTK = 6,
	HELPER_GET_PRANDOM_U32 = 7,
	HELPER_GET_SMP_PROCESSOR_ID = 8,
	HELPER_KTIME_GET_BOOT_NS = 125,
	HELPER_KTIME_GET_COARSE_NS = 160,
};

/* Register every built-in helper into vm (called by comb_vm_new). */
int comb_register_default_helpers(struct comb_vm *vm);

int comb_register_map_helpers(struct comb_vm *vm);
int comb_register_time_helpers(struct comb_vm *vm);
int comb_register_print_helpers(struct comb_vm *vm);

/* The map a helper was handed in a register, or NULL when the run is
 * checked and the value is not a map the program may use (one of its own
 * maps, or a map stored in one of its maps of maps). */
struct comb_map *helper_map_arg(const struct comb_call_ctx *cc, uint64_t reg);

#endif
