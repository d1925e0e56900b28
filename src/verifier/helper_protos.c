/* src/verifier/helper_protos.c - look-ups in the helper prototype table.
 *
 * The table itself is generated (helper_protos_table.h, indexed by helper
 * id, see scripts/gen_helper_protos.py); this file answers questions about
 * it: by id, by name, whether a program type may call a helper, and the
 * kernel's names for the argument and return kinds (for messages).
 *
 * Program types: the table's per-type sets are what any loader gets; a
 * privileged one (CAP_PERFMON) may call from every program type the
 * helpers of the kernel's common base set (bpf_base_func_proto) too: the current task's ids, probe reads, task and
 * cgroup storage... That set was measured on Linux 6.18 (a program of each
 * type calling each id, loaded as root; sleepable helpers left out, as the
 * kernel refuses them in non-sleepable programs).
 */
#include <string.h>
#include "verifier/helper_protos.h"
#include "verifier/helper_protos_table.h"

const struct comb_helper_proto *comb_helper_proto(uint32_t id)
{
	if (id > COMB_HELPER_TABLE_MAX_ID || !helper_table[id].name)
		return NULL;
	return &helper_table[id];
}

const struct comb_helper_proto *comb_helper_proto_by_name(const char *name)
{
	if (!name)
		return NULL;
	if (strncmp(name, "bpf_", 4) == 0)
		name += 4;
	for (uint32_t id = 1; id <= COMB_HELPER_TABLE_MAX_ID; id++) {
		const struct comb_helper_proto *p = &helper_table[id];
		if (p->name && strcmp(p->name + 4, name) == 0)
			return p;
	}
	return NULL;
}

const char *comb_helper_name(uint32_t id)
{
	const struct comb_helper_proto *p = comb_helper_proto(id);
	return p ? p->name : NULL;
}

uint32_t comb_helper_max_id(void)
{
	return COMB_HELPER_TABLE_MAX_ID;
}

static const uint16_t kernel_base_helpers[] = {
	1, 2, 3, 5, 6, 7, 8, 12, 14, 15, 16, 17, 22, 35, 37, 42, 55, 80, 87, 88, 89, 93, 94, 105,
	106, 109, 112, 113, 114, 115, 117, 118, 120, 123, 125, 130, 131, 132, 133, 134, 141, 149,
	153, 154, 156, 157, 158, 164, 165, 169, 170, 171, 172, 175, 176, 177, 180, 181, 182, 194,
	195, 197, 198, 199, 200, 201, 202, 203, 208, 209, 210, 211,
};

bool comb_helper_in_privileged_base(uint32_t id)
{
	for (size_t i = 0; i < sizeof(kernel_base_helpers) / sizeof(kernel_base_helpers[0]); i++)
		if (kernel_base_helpers[i] == id)
			return true;
	return false;
}

bool comb_helper_allowed(const struct comb_helper_proto *p, uint32_t prog_type)
{
	return p && prog_type < 64 && (p->progs & COMB_PROG_BIT(prog_type));
}

const char *comb_helper_arg_name(enum comb_helper_arg kind)
{
	static const char *const names[COMB_ARG__COUNT] = {
		[COMB_ARG_NONE] = "ARG_DONTCARE",
		[COMB_ARG_ANYTHING] = "ARG_ANYTHING",
		[COMB_ARG_CONST_MAP_PTR] = "ARG_CONST_MAP_PTR",
		[COMB_ARG_PTR_TO_MAP_KEY] = "ARG_PTR_TO_MAP_KEY",
		[COMB_ARG_PTR_TO_MAP_VALUE] = "ARG_PTR_TO_MAP_VALUE",
		[COMB_ARG_PTR_TO_MEM] = "ARG_PTR_TO_MEM",
		[COMB_ARG_CONST_SIZE] = "ARG_CONST_SIZE",
		[COMB_ARG_CONST_SIZE_OR_ZERO] = "ARG_CONST_SIZE_OR_ZERO",
		[COMB_ARG_CONST_ALLOC_SIZE_OR_ZERO] = "ARG_CONST_ALLOC_SIZE_OR_ZERO",
		[COMB_ARG_PTR_TO_CTX] = "ARG_PTR_TO_CTX",
		[COMB_ARG_PTR_TO_STACK] = "ARG_PTR_TO_STACK",
		[COMB_ARG_PTR_TO_FUNC] = "ARG_PTR_TO_FUNC",
		[COMB_ARG_PTR_TO_SPIN_LOCK] = "ARG_PTR_TO_SPIN_LOCK",
		[COMB_ARG_PTR_TO_TIMER] = "ARG_PTR_TO_TIMER",
		[COMB_ARG_PTR_TO_RINGBUF_MEM] = "ARG_PTR_TO_RINGBUF_MEM",
		[COMB_ARG_PTR_TO_DYNPTR] = "ARG_PTR_TO_DYNPTR",
		[COMB_ARG_PTR_TO_LONG] = "ARG_PTR_TO_LONG",
		[COMB_ARG_PTR_TO_INT] = "ARG_PTR_TO_INT",
		[COMB_ARG_PTR_TO_SOCKET] = "ARG_PTR_TO_SOCKET",
		[COMB_ARG_PTR_TO_SOCK_COMMON] = "ARG_PTR_TO_SOCK_COMMON",
		[COMB_ARG_PTR_TO_BTF_ID_SOCK_COMMON] = "ARG_PTR_TO_BTF_ID_SOCK_COMMON",
		[COMB_ARG_PTR_TO_BTF_ID] = "ARG_PTR_TO_BTF_ID",
		[COMB_ARG_PTR_TO_PERCPU_BTF_ID] = "ARG_PTR_TO_PERCPU_BTF_ID",
		[COMB_ARG_PTR_TO_CONST_STR] = "ARG_PTR_TO_CONST_STR",
		[COMB_ARG_PTR_TO_KPTR] = "ARG_PTR_TO_KPTR",
	};
	return (unsigned)kind < COMB_ARG__COUNT ? names[kind] : "ARG_?";
}

const char *comb_helper_ret_name(enum comb_helper_ret ret)
{
	static const char *const names[COMB_RET__COUNT] = {
		[COMB_RET_INTEGER] = "RET_INTEGER",
		[COMB_RET_VOID] = "RET_VOID",
		[COMB_RET_PTR_TO_MAP_VALUE] = "RET_PTR_TO_MAP_VALUE",
		[COMB_RET_PTR_TO_SOCKET] = "RET_PTR_TO_SOCKET",
		[COMB_RET_PTR_TO_TCP_SOCK] = "RET_PTR_TO_TCP_SOCK",
		[COMB_RET_PTR_TO_SOCK_COMMON] = "RET_PTR_TO_SOCK_COMMON",
		[COMB_RET_PTR_TO_RINGBUF_MEM] = "RET_PTR_TO_RINGBUF_MEM",
		[COMB_RET_PTR_TO_DYNPTR_MEM] = "RET_PTR_TO_DYNPTR_MEM",
		[COMB_RET_PTR_TO_MEM_OR_BTF_ID] = "RET_PTR_TO_MEM_OR_BTF_ID",
		[COMB_RET_PTR_TO_BTF_ID] = "RET_PTR_TO_BTF_ID",
	};
	return (unsigned)ret < COMB_RET__COUNT ? names[ret] : "RET_?";
}
