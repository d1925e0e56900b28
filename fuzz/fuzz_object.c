/* fuzz/fuzz_object.c - libFuzzer target for the ELF object loader.
 *
 * Opens arbitrary bytes as an object (ELF container, .BTF, .BTF.ext, maps,
 * globals) and, when that succeeds, loads it into a fresh VM (relocation,
 * CO-RE against a target BTF, map creation, program decoding). Any outcome
 * but a crash, a sanitizer report or a leak is fine. Programs are never run.
 */
#include <stddef.h>
#include <stdint.h>
#include "comb/object.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct comb_object *obj = NULL;
	struct comb_object_open_opts opts = { .sz = sizeof(opts), .name = "fuzz.o" };
	if (comb_object_open_mem(data, size, &opts, &obj, err, sizeof(err)) != 0)
		return 0;
	struct comb_vm *vm = NULL;
	if (comb_vm_new(NULL, &vm) == 0) {
		comb_object_load(obj, vm, err, sizeof(err));
		comb_vm_free(vm);
	}
	comb_object_close(obj);
	return 0;
}
