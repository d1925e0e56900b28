/* src/helpers/defaults.c - the helpers every new VM starts with.
 *
 * comb_vm_new() calls comb_register_default_helpers(); each theme of
 * helpers (maps, time, printing) registers its own in its own file. An
 * embedder may replace any of them with comb_vm_register_helper().
 */
#include "helpers/helpers.h"

int comb_register_default_helpers(struct comb_vm *vm)
{
	int (*const themes[])(struct comb_vm *) = {
		comb_register_map_helpers,
		comb_register_time_helpers,
		comb_register_print_helpers,
		comb_register_ringbuf_helpers,
		comb_register_queue_helpers,
		comb_register_task_helpers,
		comb_register_probe_helpers,
		comb_register_string_helpers,
		comb_register_lock_helpers,
		comb_register_callback_helpers,
		comb_register_xdp_helpers,
	};
	for (size_t i = 0; i < sizeof(themes) / sizeof(themes[0]); i++) {
		int rc = themes[i](vm);
		if (rc)
			return rc;
	}
	return 0;
}
