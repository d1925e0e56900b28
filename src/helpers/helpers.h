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

/* Kernel helper ids of the queue, task, probe, string, lock and callback
 * themes. */
enum {
	HELPER_PROBE_READ = 4,
	HELPER_GET_CURRENT_PID_TGID = 14,
	HELPER_GET_CURRENT_UID_GID = 15,
	HELPER_GET_CURRENT_COMM = 16,
	HELPER_GET_NUMA_NODE_ID = 42,
	HELPER_PROBE_READ_STR = 45,
	HELPER_MAP_PUSH_ELEM = 87,
	HELPER_MAP_POP_ELEM = 88,
	HELPER_MAP_PEEK_ELEM = 89,
	HELPER_SPIN_LOCK = 93,
	HELPER_SPIN_UNLOCK = 94,
	HELPER_STRTOL = 105,
	HELPER_STRTOUL = 106,
	HELPER_PROBE_READ_USER = 112,
	HELPER_PROBE_READ_KERNEL = 113,
	HELPER_PROBE_READ_USER_STR = 114,
	HELPER_PROBE_READ_KERNEL_STR = 115,
	HELPER_JIFFIES64 = 118,
	HELPER_FOR_EACH_MAP_ELEM = 164,
	HELPER_SNPRINTF = 165,
	HELPER_LOOP = 181,
	HELPER_STRNCMP = 182,
};

/* Register every built-in helper into vm (called by comb_vm_new). */
int comb_register_default_helpers(struct comb_vm *vm);

int comb_register_map_helpers(struct comb_vm *vm);
int comb_register_time_helpers(struct comb_vm *vm);
int comb_register_print_helpers(struct comb_vm *vm);
int comb_register_ringbuf_helpers(struct comb_vm *vm);
int comb_register_queue_helpers(struct comb_vm *vm);
int comb_register_task_helpers(struct comb_vm *vm);
int comb_register_probe_helpers(struct comb_vm *vm);
int comb_register_string_helpers(struct comb_vm *vm);
int comb_register_lock_helpers(struct comb_vm *vm);
int comb_register_callback_helpers(struct comb_vm *vm);
int comb_register_xdp_helpers(struct comb_vm *vm); /* src/hooks/xdp/helpers.c */

/* bpf_spin_lock's lock word (lock_helpers.c): 0 free, else the holder's thread; works in
 * memory shared between processes. */
int comb_spin_lock(uint32_t *lock); /* 0, or -EDEADLK if this thread holds it */
void comb_spin_unlock(uint32_t *lock);

/* The map a helper was handed in a register, or NULL when the run is
 * checked and the value is not a map the program may use (one of its own
 * maps, or a map stored in one of its maps of maps). */
struct comb_map *helper_map_arg(const struct comb_call_ctx *cc, uint64_t reg);

#endif
