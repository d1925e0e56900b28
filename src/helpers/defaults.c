/* src/helpers/defaults.c - the helpers every new VM starts with.
 *
 * comb_vm_new() calls comb_register_default_helpers(); each theme of
 * helpers (maps, time, ...) registers its own in its own file.
 */
#include "helpers/helpers.h"

int comb_register_default_helpers(struct comb_vm *vm)
{
	(void)vm;
	return 0;
}
