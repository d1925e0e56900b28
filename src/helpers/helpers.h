/* src/helpers/helpers.h - registration of comb's built-in helpers. */
#ifndef COMB_HELPERS_HELPERS_H
#define COMB_HELPERS_HELPERS_H
#include "comb/vm.h"

/* Register every built-in helper into vm (called by comb_vm_new). */
int comb_register_default_helpers(struct comb_vm *vm);

#endif
