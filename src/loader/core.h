/* src/loader/core.h - CO-RE: relocate one instruction against a target BTF.
 *
 * Semantics are libbpf's (relo_core.c): the local BTF (the object's .BTF)
 * and a relocation record from .BTF.ext name a root type and an access
 * string "0:1:2"; comb finds the target types with the same essential name
 * (the name without a ___flavour suffix), matches the access path through
 * anonymous members and arrays, computes the value for the relocation kind
 * and patches the instruction: ALU/ALU64 K immediate, LDX/ST/STX offset
 * (and the load size when a field changed size and it is safe), LDDW 64-bit
 * immediate. A relocation that cannot be resolved (field or enumerator
 * missing from the target, unsafe size change) poisons the instruction:
 *
 *   code = 0x85 (JMP|CALL), dst = src = 0, off = 0, imm = 0xbad2310
 *   (COMB_CORE_POISON_HELPER); for an LDDW both slots are poisoned.
 *
 * so the program loads and fails only if that instruction runs. Both BTFs
 * must have passed comb_btf_validate, or be the running kernel's own (which
 * comb_btf_load_target trusts: the kernel checked it at boot); every walk is
 * bounded in any case.
 */
#ifndef COMB_LOADER_CORE_H
#define COMB_LOADER_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <comb/isa.h>
#include "loader/btf.h"

struct btf;

enum comb_core_relo_kind {
	COMB_CORE_FIELD_BYTE_OFFSET = 0,
	COMB_CORE_FIELD_BYTE_SIZE = 1,
	COMB_CORE_FIELD_EXISTS = 2,
	COMB_CORE_FIELD_SIGNED = 3,
	COMB_CORE_FIELD_LSHIFT_U64 = 4,
	COMB_CORE_FIELD_RSHIFT_U64 = 5,
	COMB_CORE_TYPE_ID_LOCAL = 6,
	COMB_CORE_TYPE_ID_TARGET = 7,
	COMB_CORE_TYPE_EXISTS = 8,
	COMB_CORE_TYPE_SIZE = 9,
	COMB_CORE_ENUMVAL_EXISTS = 10,
	COMB_CORE_ENUMVAL_VALUE = 11,
	COMB_CORE_TYPE_MATCHES = 12,
	COMB_CORE_KIND_COUNT
};

/* What comb_core_relocate did. */
struct comb_core_result {
	bool poisoned;      /* the instruction now calls COMB_CORE_POISON_HELPER */
	uint64_t orig_val;  /* value computed from the local BTF */
	uint64_t new_val;   /* value written (meaningless when poisoned) */
	uint32_t insn_idx;  /* relo->insn_off / 8 */
	char why[160];      /* when poisoned: "field x not found" and the like */
};

/* Name of a kind ("byte_off", "byte_sz", "field_exists", ... as libbpf
 * prints them), "unknown" for others. */
const char *comb_core_kind_name(uint32_t kind);

/* An index of a target BTF for candidate lookup (essential name -> type
 * ids), built in one pass over its types. Build it once per target and
 * reuse it for every relocation against that target (object.c keeps it with
 * the object's target BTF); the BTF must outlive it. */
struct comb_core_target;
int comb_core_target_new(const struct btf *target, struct comb_core_target **out);
void comb_core_target_free(struct comb_core_target *target);
const struct btf *comb_core_target_btf(const struct comb_core_target *target);

/* comb_core_relocate against an indexed target: the same results. */
int comb_core_relocate_indexed(const struct btf *local, const struct comb_core_target *target,
			       const struct comb_core_relo *relo, struct comb_insn *insns,
			       size_t count, struct comb_core_result *res, char *err, size_t len);

/* Compute and apply one relocation (indexing target for this call alone:
 * for one-off use; loops over many relocations want the indexed form). insns/count are the instructions of the
 * program section the record belongs to (relo->insn_off is a byte offset
 * into them). Returns 0 when the instruction was patched or poisoned (see
 * res->poisoned), or a negative errno for malformed input that libbpf also
 * refuses (bad access string, instruction that does not match the record,
 * ambiguous candidates), with "relo kind at insn N: ..." in err. */
int comb_core_relocate(const struct btf *local, const struct btf *target,
		       const struct comb_core_relo *relo, struct comb_insn *insns, size_t count,
		       struct comb_core_result *res, char *err, size_t len);

#endif
